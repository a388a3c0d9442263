//! Running WebAssembly components under wasmtime, embedded in wheelforge.
//!
//! A component built by componentize-py with the `wasi:cli/command` world is run like a
//! program: arguments, environment, preopened directories in; stdout, stderr and the exit
//! status out. Compiled code is cached (keyed by the component's SHA-256, wasmtime's
//! version and whether epoch checks are compiled in), since compiling a CPython component takes longer than running a test. This module
//! runs components; building them is `crate::toolchain::link`.

mod module;

/// The WASI 0.2 WIT packages that the `wasmtime-wasi` dependency implements, as (file name,
/// contents), so that components wheelforge links target exactly the interfaces its embedded
/// runtime provides. They are copies of the crate's `src/p2/wit/deps/*.wit`, kept in the
/// repository so that building wheelforge needs nothing but its normal dependencies (a build
/// script that asked `cargo metadata` for the crate's directory failed on a fresh machine);
/// `tests/fresh_machine.rs` checks that they are still byte-identical to the locked crate's.
pub const WASI_WIT: &[(&str, &str)] = &[
    ("cli.wit", include_str!("wit/cli.wit")),
    ("clocks.wit", include_str!("wit/clocks.wit")),
    ("filesystem.wit", include_str!("wit/filesystem.wit")),
    ("io.wit", include_str!("wit/io.wit")),
    ("random.wit", include_str!("wit/random.wit")),
    ("sockets.wit", include_str!("wit/sockets.wit")),
];

pub use module::run_module;

use std::path::{Path, PathBuf};

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::cli::OutputFile;
use wasmtime_wasi::p2::bindings::sync::Command;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot load component {path}: {detail}", path = path.display())]
    Load { path: PathBuf, detail: String },
    #[error("cannot instantiate component {path}: {detail}\n  help: the component may import interfaces that are not WASI 0.2 (check the world it was built for)", path = path.display())]
    Instantiate { path: PathBuf, detail: String },
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// How to run one component.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `argv`, including `argv[0]`.
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Host directory → guest path.
    pub preopens: Vec<(PathBuf, String)>,
    /// Where compiled code is cached; `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
    /// Where the guest's stdout and stderr go.
    pub output: OutputMode,
    /// Interrupt the guest when this file has not changed for this long (a hung test in a
    /// suite that records its progress there). The run then ends with a trap whose message
    /// contains [`IDLE_INTERRUPT`].
    pub idle_watch: Option<(PathBuf, std::time::Duration)>,
    /// Give the guest this process's stdin (and its terminal, for a REPL); otherwise stdin
    /// is empty.
    pub inherit_stdin: bool,
}

/// In the trap message of a run stopped by [`RunOptions::idle_watch`].
pub const IDLE_INTERRUPT: &str = "interrupted: no progress";

/// Where a guest's stdout and stderr go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OutputMode {
    /// Into [`RunOutput::stdout`] and [`RunOutput::stderr`] (up to 64 MiB each).
    #[default]
    Capture,
    /// To this process's stdout and stderr.
    Inherit,
    /// Both streams, interleaved as written, to this file (created or truncated); for long
    /// runs such as a test suite. [`RunOutput`]'s streams stay empty.
    File(PathBuf),
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutput {
    /// 0 for success; the guest's `exit` status otherwise (1 when `run` returned an error,
    /// 134 when it trapped, as a shell reports an abort).
    pub exit_code: i32,
    /// The trap, when the guest trapped (an `abort()`, an unreachable instruction, ...).
    pub trap: Option<String>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

struct Host {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// The engine for one run. `interruptible`: the compiled code checks an epoch at every loop
/// head and call, so a watchdog can stop it (`RunOptions::idle_watch`); that made numpy's
/// matmul 1.85× and its ufunc chain 1.3× slower (docs/benchmarks.md), so runs without a
/// watchdog go without it.
fn engine(interruptible: bool) -> Result<Engine, RuntimeError> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // Extension modules throw C++ exceptions and longjmp with it (ABI revision 2,
    // docs/platform-tag.md); on by default, stated because the wheels need it.
    config.wasm_exceptions(true);
    // CPython recurses deeply (the parser, the test suites); give it room.
    config.max_wasm_stack(8 << 20);
    // With the async feature compiled in, the wasm stack must fit in the async stack.
    config.async_stack_size(16 << 20);
    config.epoch_interruption(interruptible);
    Engine::new(&config).map_err(|error| RuntimeError::Load {
        path: PathBuf::new(),
        detail: error.to_string(),
    })
}

/// The exit status and the trap of a run that ended with `error`: a guest's `exit`, or a trap
/// (134, as a shell reports an abort), described. A WebAssembly exception that no frame
/// caught is named for what it is: a C++ exception or a longjmp that left the extension module
/// for C or Python code, which cannot unwind it.
pub(crate) fn exit_or_trap(error: &wasmtime::Error) -> (i32, Option<String>) {
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return (exit.0, None);
    }
    if error.downcast_ref::<wasmtime::ThrownException>().is_some() {
        return (134, Some(format!("{UNCAUGHT_EXCEPTION}: {error:#}")));
    }
    (134, Some(format!("{error:#}")))
}

/// How [`exit_or_trap`] describes an exception that reached the host.
pub const UNCAUGHT_EXCEPTION: &str = "an uncaught WebAssembly exception reached the host: a C++ \
exception or a longjmp escaped from an extension module into C or Python code, which cannot \
unwind it (catch it where it is thrown; docs/toolchain.md, \"C++ exceptions\")";

/// Loads a component, from the compiled-code cache when possible.
fn load(
    engine: &Engine,
    path: &Path,
    cache_dir: Option<&Path>,
    interruptible: bool,
) -> Result<Component, RuntimeError> {
    let load_error = |detail: String| RuntimeError::Load {
        path: path.to_path_buf(),
        detail,
    };
    let io = |source| RuntimeError::Io {
        path: path.to_path_buf(),
        source,
    };
    let Some(cache_dir) = cache_dir else {
        return Component::from_file(engine, path).map_err(|e| load_error(e.to_string()));
    };
    let digest = crate::digest::sha256_file(path).map_err(io)?;
    // Code compiled with and without epoch checks are different files.
    let flavour = if interruptible { "-epoch" } else { "" };
    let cached = cache_dir.join(format!("{digest}-wasmtime-48{flavour}.cwasm"));
    if cached.is_file() {
        // SAFETY: the file was written by `precompile_component` of this wasmtime version
        // (the version is in its name) into wheelforge's own cache.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, &cached) } {
            // Recently used entries survive pruning (`prune_compiled`).
            let _ = fs_err::File::options()
                .append(true)
                .open(&cached)
                .and_then(|file| file.set_modified(std::time::SystemTime::now()));
            return Ok(component);
        }
    }
    let bytes = fs_err::read(path).map_err(io)?;
    let compiled = engine
        .precompile_component(&bytes)
        .map_err(|e| load_error(e.to_string()))?;
    fs_err::create_dir_all(cache_dir).map_err(io)?;
    let temporary = tempfile::NamedTempFile::new_in(cache_dir).map_err(io)?;
    fs_err::write(temporary.path(), &compiled).map_err(io)?;
    temporary.persist(&cached).map_err(|e| io(e.error))?;
    prune_compiled(cache_dir, COMPILED_CACHE_LIMIT, &cached);
    // SAFETY: as above; just written by this process.
    unsafe { Component::deserialize(engine, &compiled) }.map_err(|e| load_error(e.to_string()))
}

/// How many bytes of compiled components the cache keeps. Every linked test component is
/// new code (about 50 MB compiled for numpy's), so without a bound the cache only grows.
pub const COMPILED_CACHE_LIMIT: u64 = 2 << 30;

/// Removes the least recently used compiled components until the cache holds at most
/// `limit` bytes, never `keep` (the one just written). Best effort: a file another process
/// removed first, or cannot be removed, is skipped; a process still using a removed file keeps
/// its mapping.
pub fn prune_compiled(cache_dir: &Path, limit: u64, keep: &Path) {
    let Ok(entries) = fs_err::read_dir(cache_dir) else {
        return;
    };
    let mut compiled: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".cwasm"))
        .filter_map(|entry| {
            let metadata = entry.metadata().ok()?;
            Some((metadata.modified().ok()?, metadata.len(), entry.path()))
        })
        .collect();
    let mut total: u64 = compiled.iter().map(|(_, size, _)| size).sum();
    // Oldest first.
    compiled.sort();
    for (_, size, path) in compiled {
        if total <= limit {
            break;
        }
        if path != keep && fs_err::remove_file(&path).is_ok() {
            total -= size;
        }
    }
}

/// The guest's WASI context as `options` ask (arguments, output, environment, preopened
/// directories), with the pipes its stdout and stderr go to when captured. Components and core
/// modules (`module::run_module`) share it.
pub(crate) fn wasi_context(
    options: &RunOptions,
) -> Result<(WasiCtxBuilder, MemoryOutputPipe, MemoryOutputPipe), RuntimeError> {
    let stdout = MemoryOutputPipe::new(64 << 20);
    let stderr = MemoryOutputPipe::new(64 << 20);
    let mut builder = WasiCtxBuilder::new();
    builder.args(&options.args);
    if options.inherit_stdin {
        builder.inherit_stdin();
    }
    match &options.output {
        OutputMode::Capture => {
            builder.stdout(stdout.clone()).stderr(stderr.clone());
        }
        OutputMode::Inherit => {
            builder.inherit_stdout().inherit_stderr();
        }
        OutputMode::File(path) => {
            let io = |source| RuntimeError::Io {
                path: path.clone(),
                source,
            };
            let file = std::fs::File::create(path).map_err(io)?;
            let second = file.try_clone().map_err(io)?;
            builder
                .stdout(OutputFile::new(file))
                .stderr(OutputFile::new(second));
        }
    }
    for (key, value) in &options.env {
        builder.env(key, value);
    }
    for (host, guest) in &options.preopens {
        builder
            .preopened_dir(host, guest, FsPerms::ReadWrite)
            .map_err(|e| RuntimeError::Io {
                path: host.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
    }
    Ok((builder, stdout, stderr))
}

/// Runs a `wasi:cli/command` component to completion.
pub fn run_command(component_path: &Path, options: &RunOptions) -> Result<RunOutput, RuntimeError> {
    let _span = tracing::info_span!("run_component", path = %component_path.display()).entered();
    let interruptible = options.idle_watch.is_some();
    let engine = engine(interruptible)?;
    let component = load(
        &engine,
        component_path,
        options.cache_dir.as_deref(),
        interruptible,
    )?;
    let mut linker: Linker<Host> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| RuntimeError::Instantiate {
        path: component_path.to_path_buf(),
        detail: e.to_string(),
    })?;

    let (mut builder, stdout, stderr) = wasi_context(options)?;
    let mut store = Store::new(
        &engine,
        Host {
            ctx: builder.build(),
            table: ResourceTable::new(),
        },
    );
    if interruptible {
        // The deadline is one epoch ahead: only the watchdog advances the epoch.
        store.set_epoch_deadline(1);
        store.epoch_deadline_trap();
    }
    let watchdog = options
        .idle_watch
        .clone()
        .map(|(path, limit)| IdleWatchdog::start(&engine, path, limit));
    let command = Command::instantiate(&mut store, &component, &linker).map_err(|e| {
        RuntimeError::Instantiate {
            path: component_path.to_path_buf(),
            detail: format!("{e:#}"),
        }
    })?;
    let (exit_code, trap) = match command.wasi_cli_run().call_run(&mut store) {
        Ok(Ok(())) => (0, None),
        Ok(Err(())) => (1, None),
        Err(error) => exit_or_trap(&error),
    };
    let interrupted = watchdog.is_some_and(IdleWatchdog::stop);
    let trap = if interrupted {
        let limit = options
            .idle_watch
            .as_ref()
            .map(|(_, limit)| limit.as_secs());
        Some(format!(
            "{IDLE_INTERRUPT} for {} s: {}",
            limit.unwrap_or_default(),
            trap.unwrap_or_default()
        ))
    } else {
        trap
    };
    drop(store);
    Ok(RunOutput {
        exit_code,
        trap,
        stdout: stdout.contents().to_vec(),
        stderr: stderr.contents().to_vec(),
    })
}

/// Interrupts the guest (through the engine's epoch) when `path` (its progress file) has not
/// changed for `limit`.
struct IdleWatchdog {
    finished: std::sync::Arc<std::sync::atomic::AtomicBool>,
    interrupted: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl IdleWatchdog {
    fn start(engine: &Engine, path: PathBuf, limit: std::time::Duration) -> IdleWatchdog {
        use std::sync::atomic::{AtomicBool, Ordering};
        let finished = std::sync::Arc::new(AtomicBool::new(false));
        let interrupted = std::sync::Arc::new(AtomicBool::new(false));
        let thread = {
            let engine = engine.clone();
            let finished = finished.clone();
            let interrupted = interrupted.clone();
            std::thread::spawn(move || {
                let stamp = |path: &Path| {
                    std::fs::metadata(path)
                        .map(|m| (m.len(), m.modified().ok()))
                        .ok()
                };
                let mut last = stamp(&path);
                let mut since = std::time::Instant::now();
                while !finished.load(Ordering::Relaxed) {
                    std::thread::sleep(std::time::Duration::from_millis(250));
                    let now = stamp(&path);
                    if now != last {
                        last = now;
                        since = std::time::Instant::now();
                    } else if since.elapsed() > limit {
                        interrupted.store(true, Ordering::Relaxed);
                        engine.increment_epoch();
                        return;
                    }
                }
            })
        };
        IdleWatchdog {
            finished,
            interrupted,
            thread,
        }
    }

    /// Stops watching (the guest has returned); whether it interrupted the guest.
    fn stop(self) -> bool {
        use std::sync::atomic::Ordering;
        self.finished.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        self.interrupted.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_removes_the_least_recently_used_compiled_components_first() {
        let dir = tempfile::tempdir().unwrap();
        let now = std::time::SystemTime::now();
        let entry = |name: &str, age_seconds: u64| {
            let path = dir.path().join(name);
            fs_err::write(&path, vec![0u8; 100]).unwrap();
            fs_err::File::options()
                .append(true)
                .open(&path)
                .unwrap()
                .set_modified(now - std::time::Duration::from_secs(age_seconds))
                .unwrap();
            path
        };
        let oldest = entry("a-wasmtime-48.cwasm", 300);
        let kept_although_old = entry("b-wasmtime-48.cwasm", 400);
        let middle = entry("c-wasmtime-48.cwasm", 200);
        let newest = entry("d-wasmtime-48.cwasm", 100);
        let other = entry("notes.txt", 500);
        // 400 bytes of compiled code, at most 250 kept, b protected: a and c go.
        prune_compiled(dir.path(), 250, &kept_although_old);
        assert!(!oldest.exists());
        assert!(!middle.exists());
        assert!(kept_although_old.exists());
        assert!(newest.exists());
        assert!(other.exists(), "only compiled components are pruned");
        // Under the limit: nothing goes.
        prune_compiled(dir.path(), 250, &newest);
        assert!(kept_although_old.exists() && newest.exists());
    }
}

//! `wheelforge python [--with REQ]... [-c CODE | -m MOD | SCRIPT] [ARGS]`: CPython 3.14 under
//! the embedded wasmtime, with those packages, like `uv run --with`.
//!
//! The requirements are resolved into a lock (cached per requirements, index and index
//! contents), and the component linked for a lock is cached by the lock's digest, with its
//! compiled code: a second run with the same packages neither resolves nor links nor
//! compiles. Only the directories given with `--dir` (and a script's own directory) are
//! visible to the guest.

use std::path::{Path, PathBuf};

use super::component::{Entry, LinkPlan};
use super::resolve::IndexSource;
use super::{AppError, io, lockfile, project};
use crate::reporter::Reporter;

/// What `python` is asked.
#[derive(Debug, Clone)]
pub struct PythonSettings {
    pub cache_dir: PathBuf,
    pub index: IndexSource,
    pub with: Vec<String>,
    /// Resolve again even when a cached resolution exists (a remote index changed).
    pub refresh: bool,
}

/// A component ready to run.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub component: PathBuf,
    pub lock_digest: String,
    /// The component came from the cache (nothing was resolved or linked).
    pub cached: bool,
}

/// The state of a local index: its wheels' names, sizes and modification times, so that a
/// rebuilt wheel invalidates cached resolutions.
fn index_state(index: &IndexSource) -> String {
    let IndexSource::Local(dir) = index else {
        return String::new();
    };
    let mut lines: Vec<String> = fs_err::read_dir(dir.join("packages"))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|entry| {
                    let metadata = entry.metadata().ok()?;
                    let modified = metadata
                        .modified()
                        .ok()?
                        .duration_since(std::time::UNIX_EPOCH)
                        .ok()?;
                    Some(format!(
                        "{} {} {}",
                        entry.file_name().to_string_lossy(),
                        metadata.len(),
                        modified.as_nanos()
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    lines.sort();
    lines.join("\n")
}

/// The directory of cached resolutions and components.
pub fn cache_root(cache_dir: &Path) -> PathBuf {
    cache_dir.join("python")
}

/// The component for `settings.with`: from the cache, or resolved, installed and linked.
pub fn prepare(settings: &PythonSettings, reporter: &dyn Reporter) -> Result<Prepared, AppError> {
    let root = cache_root(&settings.cache_dir);
    let resolutions = root.join("resolutions");
    fs_err::create_dir_all(&resolutions).map_err(io(&resolutions))?;
    let index = match &settings.index {
        IndexSource::Local(dir) => IndexSource::Local(std::path::absolute(dir).map_err(io(dir))?),
        other => other.clone(),
    };
    let key = crate::digest::sha256_hex(
        serde_json::json!({
            "with": settings.with,
            "index": index.describe(Path::new("/")),
            "state": index_state(&index),
            "wheelforge": env!("CARGO_PKG_VERSION"),
        })
        .to_string()
        .as_bytes(),
    );
    let lock_path = resolutions.join(format!("{key}.toml"));
    let mut toolchain = None;
    let lock = if lock_path.is_file() && !settings.refresh {
        lockfile::read(&lock_path)?
    } else {
        let tc = toolchain.insert(crate::toolchain::install::ensure(
            &settings.cache_dir,
            reporter,
        )?);
        reporter.message("python", "resolve (pip)");
        let work = root.join("work").join(&key);
        let lock = super::resolve::resolve(tc, &settings.with, &index, &resolutions, &work)?;
        lockfile::write(&lock_path, &lock)?;
        lock
    };
    // The component's key: the lock, and what wheelforge links around it.
    let digest = crate::digest::sha256_hex(
        format!(
            "{}\n{}",
            lock.digest(),
            super::component::bootstrap_digest()
        )
        .as_bytes(),
    );
    let component = root.join(&digest).join("python.wasm");
    if component.is_file() {
        return Ok(Prepared {
            component,
            lock_digest: digest,
            cached: true,
        });
    }
    let toolchain = match toolchain {
        Some(toolchain) => toolchain,
        None => crate::toolchain::install::ensure(&settings.cache_dir, reporter)?,
    };
    let work = root.join("work").join(&digest);
    let source = work.join("source");
    fs_err::create_dir_all(&source).map_err(io(&source))?;
    let plan = LinkPlan {
        entry: Entry::Python,
        preload: Vec::new(),
        stub_wasi: false,
    };
    super::link_locked(
        &toolchain,
        &lock,
        &resolutions,
        &source,
        &project::AppConfig::default().exclusions(),
        plan,
        Some(&settings.with),
        &work,
        &component,
        "python",
        reporter,
    )?;
    // The work directory (installed wheels, the archive) is rebuilt from the lock when needed.
    let _ = fs_err::remove_dir_all(&work);
    Ok(Prepared {
        component,
        lock_digest: digest,
        cached: false,
    })
}

/// The guest's `argv` for a `python` command line.
pub fn guest_arguments(code: Option<&str>, module: Option<&str>, rest: &[String]) -> Vec<String> {
    let mut args = vec!["python".to_string()];
    if let Some(code) = code {
        args.extend(["-c".to_string(), code.to_string()]);
    } else if let Some(module) = module {
        args.extend(["-m".to_string(), module.to_string()]);
    } else if rest.is_empty() {
        args.push("-".to_string());
    }
    args.extend(rest.iter().cloned());
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_command_lines_become_the_guests_argv() {
        assert_eq!(
            guest_arguments(Some("print(1)"), None, &["a".into()]),
            ["python", "-c", "print(1)", "a"]
        );
        assert_eq!(
            guest_arguments(None, Some("json.tool"), &[]),
            ["python", "-m", "json.tool"]
        );
        assert_eq!(
            guest_arguments(None, None, &["s.py".into(), "x".into()]),
            ["python", "s.py", "x"]
        );
        assert_eq!(guest_arguments(None, None, &[]), ["python", "-"]);
    }
}

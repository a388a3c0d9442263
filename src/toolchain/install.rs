//! `wheelforge toolchain install`: provisioning the WASI toolchain into the cache.
//!
//! On a Debian machine (this project's machines), the toolchain is a Debian sid root made with
//! debootstrap from the machine's own apt mirror: sid is where Python 3.14, LLVM 22, a current
//! wasi-libc with wasip1/wasip2 layouts and libc++ for wasm32 are packaged. Inside it:
//! componentize-py (the consumer runtime, whose embedded CPython defines the target ABI), the
//! CPython 3.14 target environment derived from that runtime, compiler wrappers, and the
//! Meson/CMake cross files. Every step logs to `install.log`; the root is built under a
//! temporary name and renamed when complete; the manifest is written last, so an interrupted
//! install is never mistaken for a finished one, and a second install is a no-op.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::sandbox::Sandbox;
use super::target;
use super::wasi::{COMPONENTIZE_PY_VERSION, Flavor, TOOLCHAIN_FORMAT, WasiToolchain};
use super::{ToolchainError, io_error};
use crate::process::{log_tail, run_logged};
use crate::reporter::Reporter;

/// The Debian packages of the toolchain root (versions are recorded, not pinned: sid moves).
pub const DEBIAN_PACKAGES: &[&str] = &[
    "python3.14",
    "python3.14-dev",
    "python3.14-venv",
    "clang-22",
    "lld-22",
    "llvm-22",
    "libclang-rt-22-dev-wasm32",
    "wasi-libc",
    "libc++-22-dev-wasm32",
    "libc++abi-22-dev-wasm32",
    "ca-certificates",
    // The C++ runtime with exceptions is built from source at install (super::cxx).
    "cmake",
    "ninja-build",
    "xz-utils",
];

/// Build tools of the Debian root that the build systems run (pkg-config for lxml's setup.py
/// and meson's `dependency()`) and that do not shape the code: their versions are recorded
/// apart from the identity, and a root installed before one was listed gets it on the next
/// `ensure`, without a reinstall or a rebuild.
pub const BUILD_TOOL_PACKAGES: &[&str] = &["pkgconf"];

const APT: &str = "apt-get -o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false";

const SUITE: &str = "sid";
const FLAVOR_DEBIAN: &str = "debian-sid";
const FLAVOR_WASI_SDK: &str = "wasi-sdk";

/// An official wasi-sdk, when `WASI_SDK_PATH` names one.
fn wasi_sdk_path() -> Option<PathBuf> {
    std::env::var_os("WASI_SDK_PATH")
        .filter(|path| !path.is_empty())
        .map(PathBuf::from)
}

/// Where the toolchain of this machine lives (it may not be installed yet): the wasi-sdk
/// flavor when `WASI_SDK_PATH` is set, else the Debian root.
pub fn toolchain_dir(cache_dir: &Path) -> PathBuf {
    let flavor = if wasi_sdk_path().is_some() {
        FLAVOR_WASI_SDK
    } else {
        FLAVOR_DEBIAN
    };
    WasiToolchain::directory(cache_dir, flavor)
}

/// Loads the installed toolchain, installing it first if needed, and brings its tool files up
/// to this wheelforge's.
pub fn ensure(cache_dir: &Path, reporter: &dyn Reporter) -> Result<WasiToolchain, ToolchainError> {
    match WasiToolchain::load(&toolchain_dir(cache_dir)) {
        Ok(toolchain) => refresh_tool_files(add_build_tools(toolchain, reporter)?, reporter),
        // Not installed, or installed by another wheelforge version: (re)install, resuming
        // from the finished steps.
        Err(ToolchainError::NotInstalled { .. } | ToolchainError::Manifest { .. }) => {
            install(cache_dir, false, reporter)
        }
        Err(other) => Err(other),
    }
}

/// The files [`write_tool_files`] installs, as this wheelforge has them, and the code of what
/// rewrites compiler invocations with them ([`WRAPPER_SOURCES`]): all by content, so that any
/// change to either rebuilds the wheels compiled before it.
const TOOL_SOURCES: [(&str, &str); 11] = [
    (
        "meson-cross.ini.in",
        include_str!("../../toolchain/meson-cross.ini.in"),
    ),
    (
        "wasi.cmake.in",
        include_str!("../../toolchain/wasi.cmake.in"),
    ),
    ("eh-shim.c", include_str!("../../toolchain/eh-shim.c")),
    ("sjlj-shim.c", include_str!("../../toolchain/sjlj-shim.c")),
    ("posix-shim.c", include_str!("../../toolchain/posix-shim.c")),
    EH_SOURCES[0],
    EH_SOURCES[1],
    EH_SOURCES[2],
    EH_SOURCES[3],
    ("runtimes.cmake", super::cxx::RUNTIMES_CACHE),
    // Runs every native build's backend: editing it rebuilds what it built.
    ("pep517_build.py", PEP517_DRIVER),
];

/// The wrappers' own code: `wheelforge wrap` (the C/C++ compiler and linker rewriting, the IR
/// fixes of mistyped callees) and the Fortran driver. It is compiled into this binary, so its
/// source stands for what it does (an edit of a comment rebuilds too).
const WRAPPER_SOURCES: [(&str, &str); 6] = [
    ("wrap.rs", include_str!("wrap.rs")),
    ("callee_types.rs", include_str!("callee_types.rs")),
    ("fortran/driver.rs", include_str!("fortran/driver.rs")),
    ("fortran/ir.rs", include_str!("fortran/ir.rs")),
    ("fortran/lp64.rs", include_str!("fortran/lp64.rs")),
    ("fortran/modules.rs", include_str!("fortran/modules.rs")),
];

/// The minimal PEP 517 front end the cross backend runs in the root (`toolchain/pep517_build.py`).
pub const PEP517_DRIVER: &str = include_str!("../../toolchain/pep517_build.py");

/// The members of [`WASM_EH_ARCHIVE`] (from `toolchain/eh/`), for the WebAssembly
/// exception-handling model: the two exception tags and setjmp/longjmp, each hidden, one
/// private copy per module that uses it; and the single-thread headers' report, which
/// `libwheelforge_eh.a` (the shims) has too.
const EH_SOURCES: [(&str, &str); 4] = [
    (
        "cpp-exception-tag.c",
        include_str!("../../toolchain/eh/cpp-exception-tag.c"),
    ),
    (
        "c-longjmp-tag.c",
        include_str!("../../toolchain/eh/c-longjmp-tag.c"),
    ),
    ("setjmp.c", include_str!("../../toolchain/eh/setjmp.c")),
    (
        "no-threads.c",
        include_str!("../../toolchain/eh/no-threads.c"),
    ),
];

/// The compatibility headers, by name in [`COMPAT_INCLUDE`]: `setjmp.h` without exception
/// handling, single-thread `<mutex>`, `<condition_variable>` and `<thread>` for a libc++
/// built without threads, `<fstream>` for one built without filesystem support, and
/// `<pthread.h>` declaring the thread entry points wasi-libc leaves out (`posix-shim.c`).
const COMPAT_HEADERS: [(&str, &str); 7] = [
    ("setjmp.h", include_str!("../../toolchain/compat/setjmp.h")),
    (
        "__wheelforge_threads.h",
        include_str!("../../toolchain/compat/__wheelforge_threads.h"),
    ),
    ("mutex", include_str!("../../toolchain/compat/mutex")),
    (
        "condition_variable",
        include_str!("../../toolchain/compat/condition_variable"),
    ),
    ("thread", include_str!("../../toolchain/compat/thread")),
    ("fstream", include_str!("../../toolchain/compat/fstream")),
    (
        "pthread.h",
        include_str!("../../toolchain/compat/pthread.h"),
    ),
];

/// The digest of the tool files this wheelforge writes.
pub fn tools_digest() -> String {
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    for (name, text) in TOOL_SOURCES
        .iter()
        .chain(&COMPAT_HEADERS)
        .chain(&WRAPPER_SOURCES)
    {
        sha2::Digest::update(&mut hasher, format!("{name} {}\n", text.len()));
        sha2::Digest::update(&mut hasher, text);
    }
    hex::encode(sha2::Digest::finalize(hasher))
}

/// Rewrites an installed toolchain's tool files if another wheelforge wrote them, under the
/// install lock, and records the new digest.
fn refresh_tool_files(
    toolchain: WasiToolchain,
    reporter: &dyn Reporter,
) -> Result<WasiToolchain, ToolchainError> {
    if toolchain.tools == tools_digest() {
        return Ok(toolchain);
    }
    under_install_lock(&toolchain.dir, |toolchain| {
        refresh_tool_files_locked(toolchain, reporter)
    })
}

/// Takes the install lock of the toolchain in `dir` (parallel builds and tests share one),
/// loads the manifest as it is then, and runs `step` on it; the lock is released after.
fn under_install_lock(
    dir: &Path,
    step: impl FnOnce(WasiToolchain) -> Result<WasiToolchain, ToolchainError>,
) -> Result<WasiToolchain, ToolchainError> {
    let lock_path = dir.join("install.lock");
    let lock = fs_err::File::create(&lock_path).map_err(io_error(&lock_path))?;
    lock.file().lock().map_err(io_error(&lock_path))?;
    step(WasiToolchain::load(dir)?)
}

/// [`refresh_tool_files`] for a caller that holds the install lock.
fn refresh_tool_files_locked(
    mut toolchain: WasiToolchain,
    reporter: &dyn Reporter,
) -> Result<WasiToolchain, ToolchainError> {
    if toolchain.tools == tools_digest() {
        return Ok(toolchain);
    }
    reporter.message("toolchain", "updating the tool files");
    let log = toolchain.dir.join("tools.log");
    fs_err::write(&log, "").map_err(io_error(&log))?;
    write_tool_files(&toolchain, &log)?;
    toolchain.tools = tools_digest();
    toolchain.save()?;
    Ok(toolchain)
}

/// Installs the toolchain (a no-op when it is installed and `force` is false).
pub fn install(
    cache_dir: &Path,
    force: bool,
    reporter: &dyn Reporter,
) -> Result<WasiToolchain, ToolchainError> {
    let dir = toolchain_dir(cache_dir);
    if !force && let Ok(existing) = WasiToolchain::load(&dir) {
        return refresh_tool_files(add_build_tools(existing, reporter)?, reporter);
    }
    // One install at a time per cache (parallel builds and tests share it); whoever waited
    // finds the toolchain installed.
    fs_err::create_dir_all(&dir).map_err(io_error(&dir))?;
    let lock_path = dir.join("install.lock");
    let lock = fs_err::File::create(&lock_path).map_err(io_error(&lock_path))?;
    lock.file().lock().map_err(io_error(&lock_path))?;
    if !force && let Ok(existing) = WasiToolchain::load(&dir) {
        let existing = add_build_tools_locked(existing, reporter)?;
        return refresh_tool_files_locked(existing, reporter);
    }
    if let Some(sdk) = wasi_sdk_path() {
        return install_wasi_sdk(&dir, &sdk, reporter);
    }
    let step = |name: &str| reporter.message("toolchain", name);
    let log = dir.join("install.log");
    fs_err::write(&log, "").map_err(io_error(&log))?;
    let manifest = WasiToolchain::manifest_path(&dir);
    if manifest.exists() {
        fs_err::remove_file(&manifest).map_err(io_error(&manifest))?;
    }
    require_root()?;

    step("debootstrap");
    let partial = RootSteps::debootstrap(&dir, force, &log)?;
    step("apt");
    partial.packages()?;
    step("componentize-py");
    partial.componentize_py()?;
    let versions = installed_versions(&partial.sandbox(), &log)?;
    let build_tools = package_versions(&partial.sandbox(), BUILD_TOOL_PACKAGES, &log)?;
    let root = dir.join("root");
    fs_err::rename(&partial.root, &root).map_err(io_error(&root))?;
    let mut toolchain = debian_root_toolchain(&dir, root, versions, build_tools);

    step("C++ runtime with exceptions (libc++, libc++abi, libunwind)");
    let source = super::cxx::install(&toolchain, &log)?;
    toolchain
        .versions
        .insert(format!("src:{}", super::cxx::SOURCE_PACKAGE), source);

    step("target environment");
    finish_install(toolchain, &log)
}

/// The target environment, the tool files and the identities of an installed toolchain,
/// then its manifest: the last step of either flavor's install.
fn finish_install(
    mut toolchain: WasiToolchain,
    log: &Path,
) -> Result<WasiToolchain, ToolchainError> {
    toolchain.target = target::prepare(&toolchain, log)?;
    write_tool_files(&toolchain, log)?;
    toolchain.identity = toolchain.compute_identity();
    toolchain.tools = tools_digest();
    toolchain.save()?;
    Ok(toolchain)
}

/// The markers an install's finished steps leave (`DIR/PREFIXNAME`), so that a retry
/// resumes after them.
pub(super) struct StepMarkers<'a> {
    pub(super) dir: &'a Path,
    pub(super) prefix: &'static str,
}

impl StepMarkers<'_> {
    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{}{name}", self.prefix))
    }

    pub(super) fn done(&self, name: &str) -> bool {
        self.path(name).exists()
    }

    pub(super) fn finish(&self, name: &str) -> Result<(), ToolchainError> {
        fs_err::write(self.path(name), "").map_err(io_error(self.dir))
    }
}

/// The Debian root while it is installed (`root.partial`). Each finished step leaves a marker
/// in it, so a retry resumes after it.
struct RootSteps<'a> {
    root: PathBuf,
    log: &'a Path,
}

impl<'a> RootSteps<'a> {
    /// Debian sid's minimal base (debootstrap from the build machine's own mirror). A finished
    /// root without a manifest (a later step failed) is resumed as a partial one; `force`
    /// starts from nothing.
    fn debootstrap(
        dir: &Path,
        force: bool,
        log: &'a Path,
    ) -> Result<RootSteps<'a>, ToolchainError> {
        ensure_debootstrap(log)?;
        let mirror = debian_mirror(Path::new("/etc/apt/sources.list.d/debian.sources"))?;
        let root = dir.join("root");
        let partial = dir.join("root.partial");
        if root.exists() {
            if force {
                fs_err::remove_dir_all(&root).map_err(io_error(&root))?;
            } else {
                fs_err::rename(&root, &partial).map_err(io_error(&root))?;
            }
        }
        if force && partial.exists() {
            fs_err::remove_dir_all(&partial).map_err(io_error(&partial))?;
        }
        let steps = RootSteps { root: partial, log };
        if steps.markers().done("debootstrap") {
            return Ok(steps);
        }
        if steps.root.exists() {
            fs_err::remove_dir_all(&steps.root).map_err(io_error(&steps.root))?;
        }
        let mut debootstrap = Command::new("debootstrap");
        debootstrap
            .args(["--variant=minbase", SUITE])
            .arg(&steps.root)
            .arg(&mirror);
        run_step("debootstrap", &mut debootstrap, log)?;
        fs_err::copy("/etc/resolv.conf", steps.root.join("etc/resolv.conf"))
            .map_err(io_error(&steps.root))?;
        steps.markers().finish("debootstrap")?;
        Ok(steps)
    }

    fn markers(&self) -> StepMarkers<'_> {
        StepMarkers {
            dir: &self.root,
            prefix: ".wheelforge-step-",
        }
    }

    fn sandbox(&self) -> Sandbox {
        Sandbox::Chroot {
            root: self.root.clone(),
        }
    }

    fn shell(&self, script: &str, step: &str) -> Result<(), ToolchainError> {
        let mut command = self.sandbox().admin_command("/bin/sh", Path::new("/"), &[]);
        command.args(["-c", script]);
        run_step(step, &mut command, self.log)
    }

    /// The toolchain's and the build tools' Debian packages. The marker holds the package
    /// list: a wheelforge that needs more packages installs them into a resumed root.
    fn packages(&self) -> Result<(), ToolchainError> {
        let packages = DEBIAN_PACKAGES
            .iter()
            .chain(BUILD_TOOL_PACKAGES)
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        if fs_err::read_to_string(self.markers().path("packages"))
            .is_ok_and(|text| text == packages)
        {
            return Ok(());
        }
        self.shell(
            &apt_install_script(&packages),
            "installing the Debian packages",
        )?;
        fs_err::write(self.markers().path("packages"), &packages).map_err(io_error(&self.root))
    }

    /// componentize-py in a virtual environment of the root's CPython 3.14.
    fn componentize_py(&self) -> Result<(), ToolchainError> {
        if self.markers().done("componentize-py") {
            return Ok(());
        }
        self.shell(
            &format!(
                "set -e; python3.14 -m venv /opt/wheelforge/venv; \
                 /opt/wheelforge/venv/bin/pip install --disable-pip-version-check componentize-py=={COMPONENTIZE_PY_VERSION}"
            ),
            "installing componentize-py",
        )?;
        self.markers().finish("componentize-py")
    }
}

/// The toolchain of a Debian root: where its tools are inside it. The target environment and
/// the identities are filled in after.
fn debian_root_toolchain(
    dir: &Path,
    root: PathBuf,
    versions: BTreeMap<String, String>,
    build_tools: BTreeMap<String, String>,
) -> WasiToolchain {
    WasiToolchain {
        format: TOOLCHAIN_FORMAT,
        flavor: Flavor::DebianRoot { root },
        dir: dir.to_path_buf(),
        versions,
        host_python: "/opt/wheelforge/venv/bin/python".into(),
        clang: "/usr/bin/clang-22".into(),
        clangxx: "/usr/bin/clang++-22".into(),
        ar: "/usr/bin/llvm-ar-22".into(),
        nm: "/usr/bin/llvm-nm-22".into(),
        ranlib: "/usr/bin/llvm-ranlib-22".into(),
        wasm_ld: "/usr/bin/wasm-ld-22".into(),
        objdump: "/usr/bin/llvm-objdump-22".into(),
        sysroot: "/usr".into(),
        triple: "wasm32-wasip1".into(),
        componentize_py: "/opt/wheelforge/venv/bin/componentize-py".into(),
        tools_dir: "/opt/wheelforge".into(),
        target_dir: "/opt/wheelforge/target".into(),
        host_python_include: "/usr/include/python3.14".into(),
        pyconfig_template: "/usr/include/x86_64-linux-gnu/python3.14/pyconfig.h".into(),
        target: Default::default(),
        identity: String::new(),
        tools: String::new(),
        build_tools,
    }
}

/// The wasi-sdk flavor: an official wasi-sdk (`WASI_SDK_PATH`) and a host CPython 3.14
/// (`WHEELFORGE_HOST_PYTHON`, else `python3.14`), used directly without a root. The caller holds
/// the install lock.
fn install_wasi_sdk(
    dir: &Path,
    sdk: &Path,
    reporter: &dyn Reporter,
) -> Result<WasiToolchain, ToolchainError> {
    let log = dir.join("install.log");
    fs_err::write(&log, "").map_err(io_error(&log))?;
    let sysroot = sdk.join("share/wasi-sysroot");
    if !sdk.join("bin/clang").is_file() || !sysroot.is_dir() {
        return Err(unsupported(
            format!(
                "WASI_SDK_PATH={} is not a wasi-sdk: it has no bin/clang or share/wasi-sysroot",
                sdk.display()
            ),
            "point WASI_SDK_PATH at an unpacked wasi-sdk release, or unset it to use the Debian toolchain",
        ));
    }
    let python = SdkHostPython::find()?;
    reporter.message("toolchain", "componentize-py");
    let venv = dir.join("venv");
    let mut command = Command::new(&python.path);
    command.args(["-m", "venv"]).arg(&venv);
    run_step("creating the build venv", &mut command, &log)?;
    let mut command = Command::new(venv.join("bin/python"));
    command
        .args(["-m", "pip", "install", "--disable-pip-version-check"])
        .arg(format!("componentize-py=={COMPONENTIZE_PY_VERSION}"));
    run_step("installing componentize-py", &mut command, &log)?;

    let versions = BTreeMap::from([
        ("wasi-sdk".to_string(), wasi_sdk_version(sdk)),
        ("clang".to_string(), clang_version(&sdk.join("bin/clang"))),
        ("host-python".to_string(), python.version.clone()),
        (
            "pypi:componentize-py".to_string(),
            COMPONENTIZE_PY_VERSION.to_string(),
        ),
    ]);
    let bin = |name: &str| sdk.join("bin").join(name);
    let toolchain = WasiToolchain {
        format: TOOLCHAIN_FORMAT,
        flavor: Flavor::WasiSdk {
            path: sdk.to_path_buf(),
        },
        dir: dir.to_path_buf(),
        versions,
        host_python: venv.join("bin/python"),
        clang: bin("clang"),
        clangxx: bin("clang++"),
        ar: bin("llvm-ar"),
        nm: bin("llvm-nm"),
        ranlib: bin("llvm-ranlib"),
        wasm_ld: bin("wasm-ld"),
        objdump: bin("llvm-objdump"),
        sysroot,
        triple: "wasm32-wasip1".into(),
        componentize_py: venv.join("bin/componentize-py"),
        tools_dir: dir.join("tools"),
        target_dir: dir.join("target"),
        host_python_include: python.include,
        pyconfig_template: python.pyconfig_template,
        target: Default::default(),
        identity: String::new(),
        tools: String::new(),
        // The wasi-sdk flavor runs the machine's own build tools.
        build_tools: BTreeMap::new(),
    };
    reporter.message("toolchain", "target environment");
    finish_install(toolchain, &log)
}

fn unsupported(what: String, help: &str) -> ToolchainError {
    ToolchainError::Unsupported {
        what,
        help: help.to_string(),
    }
}

/// The build machine's CPython 3.14 for the wasi-sdk flavor (`WHEELFORGE_HOST_PYTHON`, else
/// `python3.14`), as it describes itself.
struct SdkHostPython {
    path: PathBuf,
    version: String,
    include: PathBuf,
    /// The real `pyconfig.h` (Debian's include directory has a multiarch wrapper).
    pyconfig_template: PathBuf,
}

impl SdkHostPython {
    fn find() -> Result<SdkHostPython, ToolchainError> {
        let path = std::env::var_os("WHEELFORGE_HOST_PYTHON")
            .map_or_else(|| PathBuf::from("python3.14"), PathBuf::from);
        let query = Command::new(&path)
            .args([
                "-c",
                "import sys, sysconfig\nprint(sys.version.split()[0])\nprint(sysconfig.get_path('include'))\n\
                 print(sysconfig.get_config_var('MULTIARCH') or '')\nprint(sysconfig.get_config_h_filename())",
            ])
            .output()
            .map_err(|source| ToolchainError::HostPythonMissing {
                python: path.clone(),
                source,
            })?;
        let answer = String::from_utf8_lossy(&query.stdout).into_owned();
        let lines: Vec<&str> = answer.lines().collect();
        let [version, include, multiarch, config_h] = lines.as_slice() else {
            return Err(unsupported(
                format!("{} did not describe itself", path.display()),
                "set WHEELFORGE_HOST_PYTHON to a CPython 3.14 interpreter",
            ));
        };
        if !version.starts_with("3.14.") {
            return Err(unsupported(
                format!("the host Python {} is {version}, not 3.14", path.display()),
                "set WHEELFORGE_HOST_PYTHON to a CPython 3.14 interpreter (the target ABI is 3.14)",
            ));
        }
        let multiarch_header =
            PathBuf::from(format!("/usr/include/{multiarch}/python3.14/pyconfig.h"));
        let pyconfig_template = if !multiarch.is_empty() && multiarch_header.is_file() {
            multiarch_header
        } else {
            PathBuf::from(config_h)
        };
        Ok(SdkHostPython {
            version: version.to_string(),
            include: PathBuf::from(include),
            pyconfig_template,
            path,
        })
    }
}

/// The first line of the wasi-sdk's `VERSION` file.
fn wasi_sdk_version(sdk: &Path) -> String {
    fs_err::read_to_string(sdk.join("VERSION"))
        .ok()
        .and_then(|text| text.lines().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// The first line of `clang --version`.
fn clang_version(clang: &Path) -> String {
    Command::new(clang)
        .arg("--version")
        .output()
        .ok()
        .and_then(|output| {
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .next()
                .map(str::to_string)
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Runs one install step with its output appended to `log`; a failure names the step and shows
/// the log's tail.
pub(crate) fn run_step(
    step: &str,
    command: &mut Command,
    log: &Path,
) -> Result<(), ToolchainError> {
    let status = run_logged(command, log).map_err(io_error(log))?;
    if status.success() {
        Ok(())
    } else {
        Err(ToolchainError::Step {
            step: step.to_string(),
            tail: log_tail(log, 12),
            log: log.to_path_buf(),
        })
    }
}

fn require_root() -> Result<(), ToolchainError> {
    let status = fs_err::read_to_string("/proc/self/status").unwrap_or_default();
    let effective_uid = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .unwrap_or("");
    if effective_uid == "0" {
        Ok(())
    } else {
        Err(ToolchainError::Unsupported {
            what: "installing the Debian toolchain root needs root (debootstrap, chroot, mounts)".into(),
            help: "run `wheelforge toolchain install` as root, or use an official wasi-sdk (docs/toolchain.md)".into(),
        })
    }
}

fn ensure_debootstrap(log: &Path) -> Result<(), ToolchainError> {
    let found = Command::new("debootstrap")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if found {
        return Ok(());
    }
    let mut update = Command::new("apt-get");
    update.arg("update");
    run_step("apt-get update (for debootstrap)", &mut update, log)?;
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "--no-install-recommends", "debootstrap"])
        .env("DEBIAN_FRONTEND", "noninteractive");
    run_step("installing debootstrap", &mut install, log)
}

/// The mirror URI of the machine's own apt sources (deb822 `debian.sources`): the first `URIs`
/// of a `deb` stanza whose suites are not security suites.
pub fn debian_mirror(sources: &Path) -> Result<String, ToolchainError> {
    let text = fs_err::read_to_string(sources).map_err(|_| ToolchainError::Unsupported {
        what: format!("no apt sources at {}", sources.display()),
        help: "the Debian toolchain needs a Debian machine with deb822 apt sources; use WASI_SDK_PATH elsewhere".into(),
    })?;
    for stanza in text.split("\n\n") {
        let field = |name: &str| {
            stanza.lines().find_map(|line| {
                line.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix(':'))
                    .map(|value| value.trim().to_string())
            })
        };
        let types = field("Types").unwrap_or_default();
        let suites = field("Suites").unwrap_or_default();
        if !types.split_whitespace().any(|t| t == "deb")
            || suites.split_whitespace().all(|s| s.ends_with("-security"))
        {
            continue;
        }
        if let Some(uri) =
            field("URIs").and_then(|u| u.split_whitespace().next().map(str::to_string))
        {
            return Ok(uri);
        }
    }
    Err(ToolchainError::Unsupported {
        what: format!("no Debian mirror found in {}", sources.display()),
        help: "add a `Types: deb` stanza with URIs to the apt sources".into(),
    })
}

fn installed_versions(
    sandbox: &Sandbox,
    log: &Path,
) -> Result<BTreeMap<String, String>, ToolchainError> {
    let mut versions = package_versions(sandbox, DEBIAN_PACKAGES, log)?;
    versions.insert(
        "pypi:componentize-py".into(),
        COMPONENTIZE_PY_VERSION.into(),
    );
    Ok(versions)
}

/// The installed versions of Debian `packages` in the sandbox, as `deb:NAME` keys.
pub(crate) fn package_versions(
    sandbox: &Sandbox,
    packages: &[&str],
    log: &Path,
) -> Result<BTreeMap<String, String>, ToolchainError> {
    let mut command = sandbox.command("/usr/bin/dpkg-query", Path::new("/"), &[]);
    command
        .args(["-W", "-f", "${Package}\t${Version}\n"])
        .args(packages);
    let output = command.output().map_err(io_error(log))?;
    if !output.status.success() {
        return Err(ToolchainError::Step {
            step: format!("dpkg-query ({})", packages.join(" ")),
            tail: String::from_utf8_lossy(&output.stderr).into_owned(),
            log: log.to_path_buf(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(package, version)| (format!("deb:{package}"), version.to_string()))
        .collect())
}

/// The shell script that installs Debian `packages` (space-separated) into a root from its
/// apt sources, and drops the downloaded archives.
pub(crate) fn apt_install_script(packages: &str) -> String {
    format!(
        "set -e; {APT} update; DEBIAN_FRONTEND=noninteractive {APT} install -y {packages}; {APT} clean"
    )
}

/// The [`BUILD_TOOL_PACKAGES`] an installed Debian root lacks, installed under the install
/// lock; the manifest records their versions (the identity is unchanged).
fn add_build_tools(
    toolchain: WasiToolchain,
    reporter: &dyn Reporter,
) -> Result<WasiToolchain, ToolchainError> {
    if missing_build_tools(&toolchain).is_empty() {
        return Ok(toolchain);
    }
    under_install_lock(&toolchain.dir, |toolchain| {
        add_build_tools_locked(toolchain, reporter)
    })
}

fn missing_build_tools(toolchain: &WasiToolchain) -> Vec<&'static str> {
    match toolchain.flavor {
        Flavor::DebianRoot { .. } => BUILD_TOOL_PACKAGES
            .iter()
            .copied()
            .filter(|name| !toolchain.build_tools.contains_key(&format!("deb:{name}")))
            .collect(),
        Flavor::WasiSdk { .. } => Vec::new(),
    }
}

/// [`add_build_tools`] for a caller that holds the install lock.
fn add_build_tools_locked(
    mut toolchain: WasiToolchain,
    reporter: &dyn Reporter,
) -> Result<WasiToolchain, ToolchainError> {
    let missing = missing_build_tools(&toolchain);
    if missing.is_empty() {
        return Ok(toolchain);
    }
    reporter.message("toolchain", &format!("adding {}", missing.join(" ")));
    let log = toolchain.dir.join("build-tools.log");
    fs_err::write(&log, "").map_err(io_error(&log))?;
    let sandbox = toolchain.sandbox();
    let mut command = sandbox.admin_command("/bin/sh", Path::new("/"), &[]);
    command.args(["-c", &apt_install_script(&missing.join(" "))]);
    run_step("installing the build tools", &mut command, &log)?;
    toolchain.build_tools = package_versions(&sandbox, BUILD_TOOL_PACKAGES, &log)?;
    toolchain.save()?;
    Ok(toolchain)
}

/// The compiler-rt builtins archive clang links for the target (long double arithmetic,
/// 128-bit division, ...). The consumer's `libc.so` does not export these, so every side
/// module links the ones it uses.
fn builtins_archive(toolchain: &WasiToolchain) -> Result<PathBuf, ToolchainError> {
    let mut command =
        toolchain
            .sandbox()
            .command(&toolchain.clang.display().to_string(), Path::new("/"), &[]);
    command
        .arg(format!("--target={}", toolchain.triple))
        .arg("-print-libgcc-file-name");
    let output = command.output().map_err(io_error(&toolchain.clang))?;
    let path = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if !output.status.success() || path.is_empty() {
        return Err(ToolchainError::Unsupported {
            what: "clang does not name its compiler-rt builtins archive".into(),
            help: "install compiler-rt for wasm32 (Debian: libclang-rt-22-dev-wasm32)".into(),
        });
    }
    Ok(PathBuf::from(path))
}

/// The shims executables link: the `longjmp` report and the C++ exception shim (Debian's
/// wasm32 libc++abi has no `__cxa_throw`, so a C++ library's test program needs it as a side
/// module does). The POSIX shims and the threads report stay out: they would compete with the
/// C and C++ libraries that executables link statically.
const EXECUTABLE_ARCHIVE: &str = "libwheelforge_exe.a";

/// Where the compatibility headers (`setjmp.h`, `<mutex>`, ...) go, under the tools directory;
/// the wrappers put it on every compile's include path.
pub const COMPAT_INCLUDE: &str = "include";

/// The compiler wrapper configuration for this toolchain, with the WebAssembly
/// exception-handling model where the toolchain has its C++ runtime (the Debian root; an
/// official wasi-sdk's runtime with exceptions is not position independent).
pub fn wrap_config(toolchain: &WasiToolchain, builtins: PathBuf) -> super::wrap::WrapConfig {
    let lib = toolchain.tools_dir.join("lib");
    let wasm_exceptions =
        super::cxx::is_installed(toolchain).then(|| super::wrap::WasmExceptions {
            cxx_include: super::cxx::include_dir(),
            link_archives: super::cxx::archives()
                .into_iter()
                .chain([lib.join(WASM_EH_ARCHIVE), builtins.clone()])
                .collect(),
        });
    super::wrap::WrapConfig {
        clang: toolchain.clang.clone(),
        clangxx: toolchain.clangxx.clone(),
        ar: toolchain.ar.clone(),
        nm: toolchain.nm.clone(),
        ranlib: toolchain.ranlib.clone(),
        sysroot: toolchain.sysroot.clone(),
        triple: toolchain.triple.clone(),
        target_include: toolchain.target.include_dir.clone(),
        host_python_includes: vec![toolchain.host_python_include.clone()],
        link_archives: vec![lib.join("libwheelforge_eh.a"), builtins],
        executable_archives: vec![lib.join(EXECUTABLE_ARCHIVE)],
        compat_include: Some(toolchain.tools_dir.join(COMPAT_INCLUDE)),
        wasm_exceptions,
        use_wasm_exceptions: false,
    }
}

/// The archive of [`EH_SOURCES`], for the WebAssembly exception-handling model.
pub const WASM_EH_ARCHIVE: &str = "libwheelforge_wasm_eh.a";

/// Writes the wrappers, the wrapper configuration, the Meson cross file, the CMake toolchain
/// file, and builds the C++ exception shim.
pub fn write_tool_files(toolchain: &WasiToolchain, log: &Path) -> Result<(), ToolchainError> {
    let tools = toolchain.tools_dir.display().to_string();
    let host = |inside: &str| toolchain.host_path(Path::new(inside));
    let bin = format!("{tools}/bin");
    let host_bin = host(&bin);
    fs_err::create_dir_all(&host_bin).map_err(io_error(&host_bin))?;
    let wheelforge = toolchain.sandbox().wheelforge_binary();
    for tool in ["cc", "c++", "ar", "nm", "ranlib"] {
        let path = host_bin.join(tool);
        fs_err::write(
            &path,
            format!(
                "#!/bin/sh\nexec \"${{WHEELFORGE_EXE:-{}}}\" wrap {tool} \"$@\"\n",
                wheelforge.display()
            ),
        )
        .map_err(io_error(&path))?;
        use std::os::unix::fs::PermissionsExt;
        fs_err::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(io_error(&path))?;
    }
    let config_path = host(&format!("{tools}/wrap.json"));
    fs_err::write(
        &config_path,
        serde_json::to_vec_pretty(&wrap_config(toolchain, builtins_archive(toolchain)?))
            .expect("configs serialize"),
    )
    .map_err(io_error(&config_path))?;
    let fill = |template: &str| {
        template
            .replace("@BIN@", &bin)
            .replace("@SYSROOT@", &toolchain.sysroot.display().to_string())
            .replace(
                "@PKG_CONFIG_DIR@",
                &toolchain.target.pkg_config_dir.display().to_string(),
            )
    };
    for (name, template) in [
        (
            "meson-cross.ini",
            include_str!("../../toolchain/meson-cross.ini.in"),
        ),
        ("wasi.cmake", include_str!("../../toolchain/wasi.cmake.in")),
    ] {
        let path = host(&format!("{tools}/{name}"));
        fs_err::write(&path, fill(template)).map_err(io_error(&path))?;
    }

    let include = host(&format!("{tools}/{COMPAT_INCLUDE}"));
    fs_err::create_dir_all(&include).map_err(io_error(&include))?;
    for (name, text) in COMPAT_HEADERS {
        let path = include.join(name);
        fs_err::write(&path, text).map_err(io_error(&path))?;
    }

    let lib = format!("{tools}/lib");
    let host_lib = host(&lib);
    fs_err::create_dir_all(&host_lib).map_err(io_error(&host_lib))?;
    // Two archives: the shims (report and abort, the default) and the WebAssembly
    // exception-handling model's tags and setjmp/longjmp; both with the threads report.
    let shims = [
        ("eh-shim.c", include_str!("../../toolchain/eh-shim.c")),
        ("sjlj-shim.c", include_str!("../../toolchain/sjlj-shim.c")),
        ("posix-shim.c", include_str!("../../toolchain/posix-shim.c")),
    ];
    let compile = |name: &str, flags: &str| {
        format!(
            "; {clang} --target={triple} --sysroot={sysroot} -O2 -fPIC {flags} -c {name} -o {object}",
            clang = toolchain.clang.display(),
            triple = toolchain.triple,
            sysroot = toolchain.sysroot.display(),
            object = name.replace(".c", ".o"),
        )
    };
    let objects = |sources: &[(&str, &str)]| {
        sources
            .iter()
            .map(|(name, _)| name.replace(".c", ".o"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut script = format!(
        "set -e; cd {lib}; rm -f libwheelforge_eh.a {WASM_EH_ARCHIVE} {EXECUTABLE_ARCHIVE}"
    );
    for (name, text) in shims.iter().chain(&EH_SOURCES) {
        let path = host_lib.join(name);
        fs_err::write(&path, text).map_err(io_error(&path))?;
    }
    for (name, _) in &shims {
        script.push_str(&compile(name, ""));
    }
    for (name, _) in &EH_SOURCES {
        // The threads report is C without jumps: it goes into both archives as plain code.
        let flags = if *name == "no-threads.c" {
            String::new()
        } else {
            super::cxx::EXCEPTION_FLAGS.join(" ")
        };
        script.push_str(&compile(name, &flags));
    }
    script.push_str(&format!(
        "; {ar} rcs libwheelforge_eh.a {} no-threads.o; {ar} rcs {WASM_EH_ARCHIVE} {}; {ar} rcs {EXECUTABLE_ARCHIVE} sjlj-shim.o eh-shim.o",
        objects(&shims),
        objects(&EH_SOURCES),
        ar = toolchain.ar.display()
    ));
    let mut command = toolchain
        .sandbox()
        .admin_command("/bin/sh", Path::new("/"), &[]);
    command.args(["-c", &script]);
    run_step(
        "building the exception and longjmp shims and the exception tags",
        &mut command,
        log,
    )
}

#[cfg(test)]
mod tests {
    use super::debian_mirror;

    #[test]
    fn the_pep517_driver_is_in_the_tool_digest_that_rebuild_keys_hold() {
        // The cross backend runs this text; the digest (in every native rebuild key, through
        // `WasiToolchain::build_identity`) covers the same text.
        assert!(
            super::TOOL_SOURCES
                .iter()
                .any(|(name, text)| *name == "pep517_build.py"
                    && *text == crate::toolchain::install::PEP517_DRIVER)
        );
        assert!(super::PEP517_DRIVER.contains("build_wheel"));
    }

    #[test]
    fn the_wrappers_code_is_in_the_tool_digest_by_content() {
        let (_, wrap) = super::WRAPPER_SOURCES[0];
        assert!(
            wrap.contains("pub fn rewrite("),
            "wrap.rs is the compiler wrapper"
        );
        let mut without = <sha2::Sha256 as sha2::Digest>::new();
        for (name, text) in super::TOOL_SOURCES.iter().chain(&super::COMPAT_HEADERS) {
            sha2::Digest::update(&mut without, format!("{name} {}\n", text.len()));
            sha2::Digest::update(&mut without, text);
        }
        assert_ne!(
            hex::encode(sha2::Digest::finalize(without)),
            super::tools_digest(),
            "the wrappers' sources change the digest"
        );
    }

    #[test]
    fn the_mirror_comes_from_the_first_non_security_deb_stanza() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("debian.sources");
        fs_err::write(
            &path,
            "Types: deb\nURIs: http://mirror.invalid/debian-security\nSuites: bookworm-security\nComponents: main\n\n\
             Types: deb\n# comment\nURIs: http://mirror.invalid/debian\nSuites: bookworm bookworm-updates\nComponents: main\n",
        )
        .unwrap();
        assert_eq!(
            debian_mirror(&path).unwrap(),
            "http://mirror.invalid/debian"
        );
    }
}

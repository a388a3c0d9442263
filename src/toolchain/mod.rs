//! The tools a build runs, and their identity.
//!
//! Two parts: the host Python (`host`) that runs pip and the backends of pure recipes, and the
//! WASI toolchain (`wasi`): clang/lld 22 with a WASI sysroot, a host CPython 3.14, the CPython
//! 3.14 target environment (`target`) and componentize-py, provisioned by `install` into the
//! cache and entered through a `sandbox`. Compiler wrappers (`wrap`) keep host headers and
//! libraries out of target builds. Every version that can change a build's output feeds an
//! identity hash, part of each recipe's rebuild key. This module does not build packages.

pub mod callee_types;
pub mod cxx;
pub mod debian_source;
pub mod fortran;
mod host;
pub mod install;
pub mod link;
pub mod rust;
pub mod sandbox;
pub mod target;
pub mod wasi;
pub mod wrap;

use std::path::PathBuf;

use sha2::{Digest, Sha256};

pub use host::HostPython;
pub use wasi::WasiToolchain;

#[derive(Debug, thiserror::Error)]
pub enum ToolchainError {
    #[error("cannot run the host Python `{python}`\n  help: install Python 3 with pip, or point WHEELFORGE_HOST_PYTHON at one", python = python.display())]
    HostPythonMissing {
        python: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the host Python `{python}` has no working pip: {detail}\n  help: install pip for it (python3 -m ensurepip), or point WHEELFORGE_HOST_PYTHON at another Python", python = python.display())]
    NoPip { python: PathBuf, detail: String },
    #[error("the WASI toolchain is not installed in {dir}\n  help: run `wheelforge toolchain install` (native builds also install it on first use)", dir = dir.display())]
    NotInstalled { dir: PathBuf },
    #[error("{step} failed:\n{tail}\n  help: the full log is {log}", log = log.display())]
    Step {
        step: String,
        tail: String,
        log: PathBuf,
    },
    #[error("{what}\n  help: {help}")]
    Unsupported { what: String, help: String },
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the toolchain manifest {path} is unreadable: {detail}\n  help: reinstall with `wheelforge toolchain install --force`", path = path.display())]
    Manifest { path: PathBuf, detail: String },
    #[error("probing the consumer runtime failed: {detail}\n  help: see {log}", log = log.display())]
    Probe { detail: String, log: PathBuf },
    #[error("the toolchain manifest {path} records no PEP 508 marker values of the target runtime (the toolchain was installed before the probe recorded them, or the probe could not compute them: its `markers` entry in {probe} says why)\n  help: reinstall with `wheelforge toolchain install --force`, which probes the runtime again", path = path.display(), probe = path.with_file_name("runtime-sysconfig.json").display())]
    NoMarkerValues { path: PathBuf },
}

pub(crate) fn io_error(
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> ToolchainError + '_ {
    move |source| ToolchainError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so
/// that readers see the old file or the new one, never half of it.
pub(crate) fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), ToolchainError> {
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    fs_err::create_dir_all(dir).map_err(io_error(dir))?;
    let temporary = tempfile::NamedTempFile::new_in(dir).map_err(io_error(dir))?;
    fs_err::write(temporary.path(), bytes).map_err(io_error(path))?;
    temporary
        .persist(path)
        .map_err(|error| ToolchainError::Io {
            path: path.to_path_buf(),
            source: error.error,
        })?;
    Ok(())
}

/// Everything a pure build uses from the build machine.
#[derive(Debug, Clone)]
pub struct Toolchain {
    pub host_python: HostPython,
}

impl Toolchain {
    pub fn discover() -> Result<Toolchain, ToolchainError> {
        Ok(Toolchain {
            host_python: HostPython::discover()?,
        })
    }

    /// A hash of every host version that can change a pure build's output.
    pub fn identity(&self) -> String {
        let description = format!(
            "host-python {}\npip {}\n",
            self.host_python.version, self.host_python.pip_version
        );
        hex::encode(Sha256::digest(description.as_bytes()))
    }
}

//! The tools a build runs on the build machine.
//!
//! Today this is the host Python that runs PEP 517 build backends and pip. The WASI compilers,
//! sysroot and CPython 3.14 target environment join it here (see docs/architecture.md); their
//! versions all feed [`Toolchain::identity`], which is part of every recipe's rebuild key. This
//! module does not run builds.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

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
}

/// The Python that runs build backends and pip on the build machine.
#[derive(Debug, Clone)]
pub struct HostPython {
    pub path: PathBuf,
    /// `sys.version` first word, e.g. `3.11.7`.
    pub version: String,
    pub pip_version: String,
}

impl HostPython {
    /// `WHEELFORGE_HOST_PYTHON`, or `python3` on PATH.
    pub fn discover() -> Result<HostPython, ToolchainError> {
        let path = std::env::var_os("WHEELFORGE_HOST_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("python3"));
        HostPython::at(&path)
    }

    pub fn at(path: &Path) -> Result<HostPython, ToolchainError> {
        let output = Command::new(path)
            .args([
                "-c",
                "import sys, pip; print(sys.version.split()[0]); print(pip.__version__)",
            ])
            .output()
            .map_err(|source| ToolchainError::HostPythonMissing {
                python: path.to_path_buf(),
                source,
            })?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let mut lines = stdout.lines();
        match (output.status.success(), lines.next(), lines.next()) {
            (true, Some(version), Some(pip_version)) => Ok(HostPython {
                path: path.to_path_buf(),
                version: version.trim().to_string(),
                pip_version: pip_version.trim().to_string(),
            }),
            _ => Err(ToolchainError::NoPip {
                python: path.to_path_buf(),
                detail: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            }),
        }
    }

    /// A `python -m pip ...` command with pip's self-check and color turned off.
    pub fn pip(&self) -> Command {
        let mut command = Command::new(&self.path);
        command
            .args(["-m", "pip"])
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("PIP_NO_COLOR", "1")
            .env("PIP_NO_INPUT", "1");
        command
    }
}

/// Everything a build uses from the build machine.
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

    /// A hash of every version that can change a build's output.
    pub fn identity(&self) -> String {
        let description = format!(
            "host-python {}\npip {}\n",
            self.host_python.version, self.host_python.pip_version
        );
        hex::encode(Sha256::digest(description.as_bytes()))
    }
}

//! The build machine's own Python, which runs pip and the PEP 517 backends of pure recipes.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::ToolchainError;

/// The Python that runs build backends and pip on the build machine.
#[derive(Debug, Clone)]
pub struct HostPython {
    pub path: PathBuf,
    /// `sys.version` first word, e.g. `3.11.7`.
    pub version: String,
    pub pip_version: String,
    /// The directories the installation lives in (`sys.prefix`, `sys.base_prefix`, the real
    /// interpreter's directory, pip's site directory): a sandbox that hides the home must
    /// still show them, read-only.
    pub installation: Vec<PathBuf>,
}

/// Prints the version, pip's version, then the installation directories, one per line.
const PROBE: &str = "import os, sys, pip
print(sys.version.split()[0]); print(pip.__version__)
dirs = [sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable)),
        os.path.dirname(os.path.dirname(os.path.realpath(pip.__file__)))]
print('\\n'.join(dict.fromkeys(os.path.realpath(d) for d in dirs)))";

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
            .args(["-c", PROBE])
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
                installation: lines.map(PathBuf::from).collect(),
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
        HostPython::as_pip(&mut command);
        command
    }

    /// Makes `command`, which runs this Python (perhaps through a sandbox), run
    /// `python -m pip` the way [`HostPython::pip`] does.
    pub fn as_pip(command: &mut Command) {
        command
            .args(["-m", "pip"])
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("PIP_NO_COLOR", "1")
            .env("PIP_NO_INPUT", "1");
    }
}

//! The installed WASI toolchain, as recorded in its manifest (`toolchain.json`).
//!
//! `install` writes the manifest last, so a toolchain without one is not installed. Paths in
//! the manifest are as seen from inside the [`Sandbox`]. This module owns the nouns and
//! loading; it does not install or run anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::sandbox::Sandbox;
use super::target::TargetEnvironment;
use super::{ToolchainError, io_error};

/// Bumped whenever the layout or contents of an installed toolchain change.
pub const TOOLCHAIN_FORMAT: u32 = 7;

/// The componentize-py release whose embedded CPython defines the target ABI.
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

/// Where the toolchain comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Flavor {
    /// A Debian sid root made with debootstrap, entered with chroot.
    DebianRoot { root: PathBuf },
    /// An official wasi-sdk (`WASI_SDK_PATH`) plus a host CPython 3.14, used directly.
    WasiSdk { path: PathBuf },
}

/// An installed toolchain. Paths are as seen inside its sandbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WasiToolchain {
    pub format: u32,
    pub flavor: Flavor,
    /// The toolchain's directory in the cache (host path).
    pub dir: PathBuf,
    /// Exact versions of everything installed (Debian packages, componentize-py, ...).
    pub versions: BTreeMap<String, String>,
    pub host_python: PathBuf,
    pub clang: PathBuf,
    pub clangxx: PathBuf,
    pub ar: PathBuf,
    pub nm: PathBuf,
    pub ranlib: PathBuf,
    pub wasm_ld: PathBuf,
    pub objdump: PathBuf,
    /// The WASI sysroot passed as `--sysroot`.
    pub sysroot: PathBuf,
    /// The clang target triple for objects (`wasm32-wasip1`).
    pub triple: String,
    pub componentize_py: PathBuf,
    /// Wrappers (`bin/`), cross files, `wrap.json` and the shim library (`lib/`).
    pub tools_dir: PathBuf,
    /// The CPython target environment (`include/`, `sysconfig/`, `pkgconfig/`).
    pub target_dir: PathBuf,
    /// The host CPython 3.14's include directory: generic headers, and what wrappers replace.
    pub host_python_include: PathBuf,
    /// The host CPython's real pyconfig.h: the list and order of macros.
    pub pyconfig_template: PathBuf,
    pub target: TargetEnvironment,
    pub identity: String,
    /// The digest of the tool files written into the toolchain (wrappers' configuration, cross
    /// files, compatibility headers, shims): [`super::install::tools_digest`]. When this
    /// wheelforge's differs, `ensure` rewrites them (seconds) instead of reinstalling.
    #[serde(default)]
    pub tools: String,
    /// The Debian root's build tools that do not shape the code ([`BUILD_TOOL_PACKAGES`]) and
    /// their versions: recorded, outside the identity, and added to an installed root when a
    /// newer wheelforge lists more.
    ///
    /// [`BUILD_TOOL_PACKAGES`]: super::install::BUILD_TOOL_PACKAGES
    #[serde(default)]
    pub build_tools: BTreeMap<String, String>,
}

impl WasiToolchain {
    /// The directory a flavor installs into, under the cache.
    pub fn directory(cache_dir: &Path, flavor_name: &str) -> PathBuf {
        cache_dir.join("toolchain").join(flavor_name)
    }

    pub fn manifest_path(dir: &Path) -> PathBuf {
        dir.join("toolchain.json")
    }

    /// Loads the manifest in `dir`; [`ToolchainError::NotInstalled`] when there is none.
    pub fn load(dir: &Path) -> Result<WasiToolchain, ToolchainError> {
        let path = Self::manifest_path(dir);
        if !path.is_file() {
            return Err(ToolchainError::NotInstalled {
                dir: dir.to_path_buf(),
            });
        }
        let text = fs_err::read_to_string(&path).map_err(io_error(&path))?;
        let toolchain: WasiToolchain =
            serde_json::from_str(&text).map_err(|error| ToolchainError::Manifest {
                path: path.clone(),
                detail: error.to_string(),
            })?;
        if toolchain.format != TOOLCHAIN_FORMAT {
            return Err(ToolchainError::Manifest {
                path,
                detail: format!(
                    "format {} is not this wheelforge's format {TOOLCHAIN_FORMAT}",
                    toolchain.format
                ),
            });
        }
        Ok(toolchain)
    }

    /// The hash of every version recorded, the flavor and the target configuration.
    pub fn compute_identity(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(format!("format {TOOLCHAIN_FORMAT}\n"));
        hasher.update(serde_json::to_vec(&self.versions).expect("versions serialize"));
        hasher.update(serde_json::to_vec(&self.target).expect("target serializes"));
        hasher.update(self.triple.as_bytes());
        hex::encode(hasher.finalize())
    }

    /// What a compiled recipe's rebuild key records of this toolchain: its identity and the
    /// tool files' digest, so that a changed shim or cross file rebuilds the wheels built with
    /// it (the Fortran part is keyed on [`Self::identity`] alone and is not rebuilt).
    pub fn build_identity(&self) -> String {
        format!("{}+tools:{}", self.identity, self.tools)
    }

    /// The consumer runtime's standard library (host path), copied from componentize-py by the
    /// probe; test runs mount it at `/python` for modules their snapshot does not contain.
    pub fn runtime_stdlib(&self) -> PathBuf {
        self.dir.join(super::target::RUNTIME_STDLIB)
    }

    pub fn sandbox(&self) -> Sandbox {
        match &self.flavor {
            Flavor::DebianRoot { root } => Sandbox::Chroot { root: root.clone() },
            Flavor::WasiSdk { .. } => Sandbox::Native,
        }
    }

    /// A host path for a path inside the sandbox.
    pub fn host_path(&self, inside: &Path) -> PathBuf {
        match &self.flavor {
            Flavor::DebianRoot { root } => root.join(inside.strip_prefix("/").unwrap_or(inside)),
            Flavor::WasiSdk { .. } => inside.to_path_buf(),
        }
    }

    /// The target's PEP 508 marker environment, as the probe recorded it at install time.
    pub fn marker_environment(&self) -> Result<pep508_rs::MarkerEnvironment, ToolchainError> {
        let path = Self::manifest_path(&self.dir);
        let markers = self
            .target
            .markers
            .as_ref()
            .ok_or_else(|| ToolchainError::NoMarkerValues { path: path.clone() })?;
        markers
            .environment()
            .map_err(|detail| ToolchainError::Manifest { path, detail })
    }

    /// Writes the manifest atomically (the last step of an install).
    pub fn save(&self) -> Result<(), ToolchainError> {
        let path = Self::manifest_path(&self.dir);
        super::write_atomically(
            &path,
            &serde_json::to_vec_pretty(self).expect("manifests serialize"),
        )
    }
}

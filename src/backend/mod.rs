//! Backends: turning a prepared source tree into the build system's own wheel.
//!
//! This module owns the dispatch from `build.backend` to an implementation, and what every
//! backend is given ([`BackendContext`]). Backends do not tag, name or index wheels: the
//! repair stage (`crate::wheel::repair`) does that with what they return.

mod cargo;
mod cross;
pub mod host_env;
mod library;
mod pure;

use std::path::{Path, PathBuf};

use crate::recipe::{BackendKind, LoadedRecipe};
use crate::toolchain::fortran::install::FortranToolchain;
use crate::toolchain::rust::RustToolchain;
use crate::toolchain::{Toolchain, WasiToolchain};

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(
        "backend `{backend}` is not implemented yet\n  help: `pure`, `setuptools`, `meson`, `cmake` and `static_library` recipes build today (docs/recipes.md)"
    )]
    NotImplemented { backend: &'static str },
    #[error(
        "recipe `{recipe}` declares `build.fortran` but the toolchain's Fortran part was not given to the build\n  help: run `wheelforge toolchain install --fortran`"
    )]
    NoFortran { recipe: String },
    #[error(
        "recipe `{recipe}` builds Rust (`backend: maturin` or `build.rust`) but the toolchain's Rust part was not given to the build\n  help: run `wheelforge toolchain install --rust`"
    )]
    NoRust { recipe: String },
    #[error(
        "recipe `{recipe}` builds Rust but its source has no Cargo manifest (no `Cargo.toml` at the source root, and no `[tool.maturin] manifest-path` in pyproject.toml)\n  help: set `[tool.maturin] manifest-path` in a patch, or remove `build.rust`"
    )]
    NoCargoManifest { recipe: String },
    #[error(
        "a native backend ran without the WASI toolchain\n  help: run `wheelforge toolchain install`"
    )]
    NoToolchain,
    #[error("{step} failed for `{recipe}`:\n{tail}\n  help: the full log is {log}", log = log.display())]
    Failed {
        recipe: String,
        step: &'static str,
        tail: String,
        log: PathBuf,
    },
    #[error(
        "the build sandbox for `{recipe}` could not be set up:\n{tail}\n  help: builds run package code in a private mount namespace (`unshare --mount`); run wheelforge as root, or enable unprivileged user namespaces (`sysctl kernel.unprivileged_userns_clone=1`, or `kernel.apparmor_restrict_unprivileged_userns=0` on Ubuntu); docs/architecture.md#sandbox"
    )]
    Sandbox { recipe: String, tail: String },
    #[error(transparent)]
    HostEnv(#[from] host_env::HostEnvError),
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One recipe's build: what the pipeline's stages and the backend share, made once per
/// recipe.
pub struct RecipeContext<'a> {
    pub loaded: &'a LoadedRecipe,
    /// A scratch directory owned by this recipe's build.
    pub work_dir: &'a Path,
    /// The recipe's log file; every tool's output goes there.
    pub log: &'a Path,
    pub toolchain: &'a Toolchain,
    /// The wheelforge cache directory (build tools are kept under it).
    pub cache_dir: &'a Path,
    /// A PEP 503 index for build tools, instead of pip's configured one.
    pub index_url: Option<&'a str>,
    /// The WASI toolchain, for native backends (installed on demand by the pipeline).
    pub wasi: Option<&'a WasiToolchain>,
    /// The wheels of the recipe's `requirements.host`, in the recipe's order; native
    /// backends unpack them into the target prefix.
    pub host_wheels: &'a [host_env::HostWheel],
    /// The index's `packages/` directory (named in errors about missing host wheels).
    pub packages_dir: &'a Path,
    /// The toolchain's Fortran part, for recipes with `build.fortran` (installed on demand
    /// by the pipeline; `None` for the others, whose rebuild key does not have it).
    pub fortran: Option<&'a FortranToolchain>,
    /// The toolchain's Rust part, for recipes that build Rust (installed on demand by the
    /// pipeline; `None` for the others).
    pub rust: Option<&'a RustToolchain>,
}

/// Everything a backend may use: the recipe's context and its patched source tree.
pub struct BackendContext<'a> {
    pub recipe: &'a RecipeContext<'a>,
    /// The patched source tree (contains `pyproject.toml` or `setup.py`).
    pub source_root: &'a Path,
}

impl<'a> std::ops::Deref for BackendContext<'a> {
    type Target = RecipeContext<'a>;

    fn deref(&self) -> &RecipeContext<'a> {
        self.recipe
    }
}

/// Empties (or creates) each of `dirs`: what an earlier build of the recipe left there goes.
fn fresh_dirs(dirs: &[&Path]) -> Result<(), BackendError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BackendError::Io { path, source }
    };
    for dir in dirs {
        if dir.exists() {
            fs_err::remove_dir_all(dir).map_err(io(dir))?;
        }
        fs_err::create_dir_all(dir).map_err(io(dir))?;
    }
    Ok(())
}

/// Runs the recipe's backend and returns the wheel it wrote.
pub fn build(context: &BackendContext<'_>) -> Result<PathBuf, BackendError> {
    check_fortran(context)?;
    match context.loaded.recipe.build.backend {
        BackendKind::Pure => pure::build(context),
        BackendKind::Setuptools
        | BackendKind::Meson
        | BackendKind::Cmake
        | BackendKind::Pep517
        | BackendKind::Maturin => {
            let toolchain = context.wasi.ok_or(BackendError::NoToolchain)?;
            cross::build(context, toolchain)
        }
        other => Err(BackendError::NotImplemented {
            backend: other.name(),
        }),
    }
}

/// Runs a `static_library` recipe's script and returns the prefix it installed into.
pub fn build_library(context: &BackendContext<'_>) -> Result<PathBuf, BackendError> {
    check_fortran(context)?;
    let toolchain = context.wasi.ok_or(BackendError::NoToolchain)?;
    Ok(library::build(context, toolchain)?.prefix)
}

fn check_fortran(context: &BackendContext<'_>) -> Result<(), BackendError> {
    let recipe = || context.loaded.name().to_string();
    if context.loaded.recipe.build.fortran && context.fortran.is_none() {
        return Err(BackendError::NoFortran { recipe: recipe() });
    }
    if context.loaded.recipe.build.uses_rust() && context.rust.is_none() {
        return Err(BackendError::NoRust { recipe: recipe() });
    }
    Ok(())
}

//! Rust crates for a cross build: vendored into the cache by the digest of `Cargo.lock`, so a
//! rebuild needs no network, and the cargo configuration that points the build at them.
//!
//! The vendor directory also holds the standard library's own crates (from Debian's
//! `rust-src`), because `-Z build-std` resolves them through the same crates.io source.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::{BackendContext, BackendError};
use crate::process::run_logged;
use crate::toolchain::WasiToolchain;
use crate::toolchain::rust::{RustToolchain, STD_VENDOR_DIR};

/// The Cargo manifest a build compiles: `[tool.maturin] manifest-path` of pyproject.toml, else
/// `Cargo.toml` at the source root.
pub(super) fn manifest(source_root: &Path) -> Option<PathBuf> {
    let pyproject = fs_err::read_to_string(source_root.join("pyproject.toml")).ok();
    let configured = pyproject
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|table| {
            table
                .get("tool")?
                .get("maturin")?
                .get("manifest-path")?
                .as_str()
                .map(str::to_string)
        });
    let path = source_root.join(configured.as_deref().unwrap_or("Cargo.toml"));
    path.is_file().then_some(path)
}

/// The vendored crates of the project at `manifest`, fetched on first use into
/// `<cache>/cargo-vendor/<digest>` (the digest of its `Cargo.lock` and the Rust part).
pub(super) fn vendor(
    context: &BackendContext<'_>,
    toolchain: &WasiToolchain,
    rust: &RustToolchain,
    manifest: &Path,
) -> Result<PathBuf, BackendError> {
    let recipe = context.loaded.name();
    let lock = find_lock(manifest, context.source_root).ok_or_else(|| BackendError::Failed {
        recipe: recipe.to_string(),
        step: "vendoring the Rust crates",
        tail: format!(
            "no Cargo.lock beside {} or at the source root: the crates cannot be pinned",
            manifest.display()
        ),
        log: context.log.to_path_buf(),
    })?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BackendError::Io { path, source }
    };
    let lock_text = fs_err::read(&lock).map_err(io(&lock))?;
    let mut hasher = Sha256::new();
    hasher.update(&lock_text);
    hasher.update(rust.identity.as_bytes());
    let digest = hex::encode(hasher.finalize());
    let root = context.cache_dir.join("cargo-vendor");
    let vendor = root.join(&digest[..32]);
    if vendor.is_dir() {
        return Ok(vendor);
    }
    fs_err::create_dir_all(&root).map_err(io(&root))?;
    let partial = root.join(format!("{}.partial", &digest[..32]));
    if partial.exists() {
        fs_err::remove_dir_all(&partial).map_err(io(&partial))?;
    }
    let fetch_home = context.work_dir.join("cargo-fetch-home");
    let binds: Vec<&Path> = vec![context.work_dir, &root];
    let script = format!(
        "set -e; cargo vendor --locked --versioned-dirs --manifest-path \"$1\" \"$2\" >/dev/null; \
         for crate in {STD_VENDOR_DIR}/*; do \
           [ -e \"$2/${{crate##*/}}\" ] || cp -r \"$crate\" \"$2/\"; \
         done"
    );
    let mut command: Command = toolchain
        .sandbox()
        .command("/bin/sh", context.source_root, &binds);
    command
        .args(["-c", &script, "wheelforge-vendor"])
        .arg(manifest)
        .arg(&partial)
        .env("CARGO_HOME", &fetch_home);
    if !run_logged(&mut command, context.log)
        .map_err(io(context.log))?
        .success()
    {
        return Err(BackendError::Failed {
            recipe: recipe.to_string(),
            step: "vendoring the Rust crates (cargo vendor)",
            tail: crate::process::log_tail(context.log, 20),
            log: context.log.to_path_buf(),
        });
    }
    fs_err::rename(&partial, &vendor).map_err(io(&vendor))?;
    Ok(vendor)
}

fn find_lock(manifest: &Path, source_root: &Path) -> Option<PathBuf> {
    manifest
        .ancestors()
        .skip(1)
        .take_while(|dir| dir.starts_with(source_root))
        .map(|dir| dir.join("Cargo.lock"))
        .find(|lock| lock.is_file())
}

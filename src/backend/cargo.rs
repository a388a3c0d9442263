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
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BackendError::Io { path, source }
    };
    let lock = match find_lock(manifest, context.source_root) {
        Some(lock) => lock,
        None => generate_lock(context, toolchain, manifest)?,
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

/// An sdist without `Cargo.lock` (setuptools-rust projects often ship none, tiktoken's among
/// them): cargo resolves one beside the manifest (newest compatible crates, from the
/// registry), kept at `build/<name>/Cargo.lock` and named in the log; a recipe pins it by
/// adding the file with a patch.
fn generate_lock(
    context: &BackendContext<'_>,
    toolchain: &WasiToolchain,
    manifest: &Path,
) -> Result<PathBuf, BackendError> {
    let recipe = context.loaded.name();
    let fetch_home = context.work_dir.join("cargo-fetch-home");
    let mut command: Command =
        toolchain
            .sandbox()
            .command("/bin/sh", context.source_root, &[context.work_dir]);
    command
        .args([
            "-c",
            "cargo generate-lockfile --manifest-path \"$1\"",
            "wheelforge-lock",
        ])
        .arg(manifest)
        .env("CARGO_HOME", &fetch_home);
    let failed = |tail: String| BackendError::Failed {
        recipe: recipe.to_string(),
        step: "resolving a Cargo.lock (the sdist has none)",
        tail,
        log: context.log.to_path_buf(),
    };
    let status = run_logged(&mut command, context.log).map_err(|source| BackendError::Io {
        path: context.log.to_path_buf(),
        source,
    })?;
    let lock = manifest.with_file_name("Cargo.lock");
    if !status.success() || !lock.is_file() {
        return Err(failed(crate::process::log_tail(context.log, 20)));
    }
    let kept = context.work_dir.join("Cargo.lock");
    fs_err::copy(&lock, &kept).map_err(|source| BackendError::Io {
        path: kept.clone(),
        source,
    })?;
    crate::process::log_line(
        context.log,
        &format!(
            "wheelforge: the sdist has no Cargo.lock; cargo resolved one ({}): add it to the recipe with a patch to pin the crates",
            kept.display()
        ),
    );
    Ok(lock)
}

fn find_lock(manifest: &Path, source_root: &Path) -> Option<PathBuf> {
    manifest
        .ancestors()
        .skip(1)
        .take_while(|dir| dir.starts_with(source_root))
        .map(|dir| dir.join("Cargo.lock"))
        .find(|lock| lock.is_file())
}

/// Removes the `[source]` tables of the project's own cargo configuration
/// (`.cargo/config.toml` or `.cargo/config` between the manifest and the source root): a
/// project that vendors its crates (orjson's `include/cargo`) replaces crates.io there, and a
/// project configuration outranks `CARGO_HOME`'s, which would hide the standard library's
/// crates from `-Z build-std`. The vendor directory already holds the project's crates
/// (`cargo vendor` read them through that configuration); the rest of the file is kept.
/// Returns the files rewritten.
pub(super) fn drop_source_replacement(
    manifest: &Path,
    source_root: &Path,
) -> Result<Vec<PathBuf>, BackendError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BackendError::Io { path, source }
    };
    let mut rewritten = Vec::new();
    for dir in manifest
        .ancestors()
        .skip(1)
        .take_while(|dir| dir.starts_with(source_root))
    {
        for name in ["config.toml", "config"] {
            let path = dir.join(".cargo").join(name);
            let Ok(text) = fs_err::read_to_string(&path) else {
                continue;
            };
            let Ok(mut table) = text.parse::<toml::Table>() else {
                continue;
            };
            if table.remove("source").is_some() {
                let text = toml::to_string(&table).expect("a parsed table serializes");
                fs_err::write(&path, text).map_err(io(&path))?;
                rewritten.push(path);
            }
        }
    }
    Ok(rewritten)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_source_replacement_is_dropped_and_the_rest_kept() {
        let root = tempfile::tempdir().unwrap();
        let cargo = root.path().join(".cargo");
        fs_err::create_dir_all(&cargo).unwrap();
        fs_err::write(
            cargo.join("config.toml"),
            "[source.crates-io]\nreplace-with = \"vendored-sources\"\n\n[source.vendored-sources]\ndirectory = \"include/cargo\"\n\n[build]\nrustflags = [\"-C\", \"x\"]\n",
        )
        .unwrap();
        fs_err::write(root.path().join("Cargo.toml"), "").unwrap();
        let rewritten =
            drop_source_replacement(&root.path().join("Cargo.toml"), root.path()).unwrap();
        assert_eq!(rewritten, [cargo.join("config.toml")]);
        let text = fs_err::read_to_string(cargo.join("config.toml")).unwrap();
        assert!(
            !text.contains("source") && text.contains("rustflags"),
            "{text}"
        );
    }
}

//! The optional Rust part of the toolchain (`wheelforge toolchain install --rust`).
//!
//! Installed on demand into the base toolchain's Debian root, with its own manifest
//! (`rust.json`), lock and identity, like the Fortran part: recipes without Rust never see it.
//! It holds Debian's `rustc` and `cargo`, the wasm32 standard library and the standard
//! library's sources (`rust-src`, with its crates vendored by Debian).
//!
//! Python extension modules are `dylink.0` side modules, so every object in them must be
//! position-independent. Debian's prebuilt wasm32 standard library is not, so each build
//! compiles the standard library again from `rust-src` with `-Z build-std` (about 40 s on 2
//! cores), under `RUSTC_BOOTSTRAP`. [`cargo_environment`] is the whole recipe: PIC code,
//! hidden default visibility (only `PyInit_*` is exported, so two Rust modules in one
//! component never clash), `wasm-ld -shared` with imports left for the consumer's libraries,
//! and an empty `libc.a` for the standard library's `-lc`, since a side module imports the C
//! library from the consumer's `libc.so` instead of carrying its own copy. Panics abort
//! (wasm32 has no unwinding here) after the standard library's hook prints the message.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::wasi::{Flavor, WasiToolchain};
use super::{ToolchainError, io_error};
use crate::reporter::Reporter;

/// Bumped whenever the Rust part's layout or the flags of [`cargo_environment`] change.
pub const RUST_FORMAT: u32 = 1;

/// The Debian packages of the Rust part.
pub const RUST_PACKAGES: &[&str] = &["rustc", "cargo", "libstd-rust-dev-wasm32", "rust-src"];

/// The Rust target of every build: the consumer's CPython is a wasip1 module inside a
/// component, and its side modules are too.
pub const RUST_TARGET: &str = "wasm32-wasip1";

/// Where the Rust part's own files live inside the root.
pub const RUST_DIR: &str = "/opt/wheelforge/rust";

/// The crates of the standard library's sources, vendored by Debian (merged into every
/// recipe's vendor directory: `-Z build-std` resolves them through the same source).
pub const STD_VENDOR_DIR: &str = "/usr/lib/rustlib/src/rust/library/vendor";

/// The installed Rust part, as recorded in `rust.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RustToolchain {
    pub format: u32,
    /// The base toolchain's directory (host path).
    pub dir: PathBuf,
    /// The identity of the base toolchain this part was installed into.
    pub base_identity: String,
    /// Versions of the Debian packages.
    pub versions: BTreeMap<String, String>,
    pub identity: String,
}

impl RustToolchain {
    pub fn manifest_path(dir: &Path) -> PathBuf {
        dir.join("rust.json")
    }

    /// The Rust part installed into `toolchain`; [`ToolchainError::NotInstalled`] or
    /// [`ToolchainError::Manifest`] (reinstall) when it is missing, stale or incomplete.
    pub fn load(toolchain: &WasiToolchain) -> Result<RustToolchain, ToolchainError> {
        let path = Self::manifest_path(&toolchain.dir);
        if !path.is_file() {
            return Err(ToolchainError::NotInstalled {
                dir: toolchain.dir.clone(),
            });
        }
        let text = fs_err::read_to_string(&path).map_err(io_error(&path))?;
        let stale = |detail: String| ToolchainError::Manifest {
            path: path.clone(),
            detail,
        };
        let rust: RustToolchain =
            serde_json::from_str(&text).map_err(|error| stale(error.to_string()))?;
        if rust.format != RUST_FORMAT {
            return Err(stale(format!(
                "Rust format {} is not this wheelforge's format {RUST_FORMAT}",
                rust.format
            )));
        }
        if rust.base_identity != toolchain.identity {
            return Err(stale(format!(
                "made for the base toolchain {}, not the installed {}",
                rust.base_identity, toolchain.identity
            )));
        }
        for file in ["/usr/bin/cargo", "/usr/bin/rustc", STD_VENDOR_DIR] {
            if !toolchain.host_path(Path::new(file)).exists() {
                return Err(stale(format!("{file} is missing")));
            }
        }
        Ok(rust)
    }

    fn compute_identity(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(format!("rust format {RUST_FORMAT}\n"));
        hasher.update(serde_json::to_vec(&self.versions).expect("versions serialize"));
        hex::encode(hasher.finalize())
    }
}

/// Loads the Rust part, installing it (and the base toolchain) first if needed.
pub fn ensure(
    cache_dir: &Path,
    reporter: &dyn Reporter,
) -> Result<(WasiToolchain, RustToolchain), ToolchainError> {
    let toolchain = super::install::ensure(cache_dir, reporter)?;
    match RustToolchain::load(&toolchain) {
        Ok(rust) => Ok((toolchain, rust)),
        Err(ToolchainError::NotInstalled { .. } | ToolchainError::Manifest { .. }) => {
            let rust = install(&toolchain, false, reporter)?;
            Ok((toolchain, rust))
        }
        Err(other) => Err(other),
    }
}

/// Installs the Rust part into an installed base toolchain (a no-op when installed and `force`
/// is false).
pub fn install(
    toolchain: &WasiToolchain,
    force: bool,
    reporter: &dyn Reporter,
) -> Result<RustToolchain, ToolchainError> {
    if !force && let Ok(existing) = RustToolchain::load(toolchain) {
        return Ok(existing);
    }
    if !matches!(toolchain.flavor, Flavor::DebianRoot { .. }) {
        return Err(ToolchainError::Unsupported {
            what: "the Rust toolchain needs the Debian toolchain root (rustc, cargo and the wasm32 standard library come from Debian)".into(),
            help: "unset WASI_SDK_PATH and run `wheelforge toolchain install --rust`".into(),
        });
    }
    let dir = &toolchain.dir;
    let lock_path = dir.join("rust.lock");
    let lock = fs_err::File::create(&lock_path).map_err(io_error(&lock_path))?;
    lock.file().lock().map_err(io_error(&lock_path))?;
    if !force && let Ok(existing) = RustToolchain::load(toolchain) {
        return Ok(existing);
    }
    let manifest = RustToolchain::manifest_path(dir);
    if manifest.exists() {
        fs_err::remove_file(&manifest).map_err(io_error(&manifest))?;
    }
    let log = dir.join("rust-install.log");
    fs_err::write(&log, "").map_err(io_error(&log))?;

    reporter.message(
        "rust",
        "packages (rustc, cargo, the wasm32 standard library and its sources)",
    );
    let mut command = toolchain
        .sandbox()
        .admin_command("/bin/sh", Path::new("/"), &[]);
    command.args([
        "-c",
        &format!(
            "{}; mkdir -p {RUST_DIR}/lib; rm -f {RUST_DIR}/lib/libc.a; \
             /usr/bin/llvm-ar-22 rcs {RUST_DIR}/lib/libc.a",
            super::install::apt_install_script(&RUST_PACKAGES.join(" "))
        ),
    ]);
    super::install::run_step("installing the Rust packages", &mut command, &log)?;
    let versions = super::install::package_versions(&toolchain.sandbox(), RUST_PACKAGES, &log)?;
    let mut rust = RustToolchain {
        format: RUST_FORMAT,
        dir: dir.clone(),
        base_identity: toolchain.identity.clone(),
        versions,
        identity: String::new(),
    };
    rust.identity = rust.compute_identity();
    super::write_atomically(
        &manifest,
        &serde_json::to_vec_pretty(&rust).expect("manifests serialize"),
    )?;
    Ok(rust)
}

/// The environment that makes cargo (and maturin, which runs it) build `dylink.0` side
/// modules for the consumer runtime. `cargo_home` holds the source replacement written by
/// [`write_cargo_config`]; `target_dir` is the build's own.
pub fn cargo_environment(
    toolchain: &WasiToolchain,
    cargo_home: &Path,
    target_dir: &Path,
) -> Vec<(String, String)> {
    let triple_upper = RUST_TARGET.to_uppercase().replace('-', "_");
    let rustflags = [
        "-C relocation-model=pic",
        "-Z default-visibility=hidden",
        "-C link-self-contained=no",
        &format!("-L {RUST_DIR}/lib"),
        "-C link-arg=-shared",
        "-C link-arg=--experimental-pic",
        "-C link-arg=--unresolved-symbols=import-dynamic",
    ]
    .join(" ");
    vec![
        ("CARGO_HOME".into(), cargo_home.display().to_string()),
        ("CARGO_TARGET_DIR".into(), target_dir.display().to_string()),
        ("CARGO_BUILD_TARGET".into(), RUST_TARGET.into()),
        ("CARGO_NET_OFFLINE".into(), "true".into()),
        // `-Z build-std` and `-Z default-visibility` on Debian's stable rustc.
        ("RUSTC_BOOTSTRAP".into(), "1".into()),
        ("CARGO_UNSTABLE_BUILD_STD".into(), "std,panic_abort".into()),
        (
            format!("CARGO_TARGET_{triple_upper}_LINKER"),
            toolchain.wasm_ld.display().to_string(),
        ),
        (format!("CARGO_TARGET_{triple_upper}_RUSTFLAGS"), rustflags),
        // PyO3 cross-compiles against the target's sysconfig data.
        (
            "PYO3_CROSS_LIB_DIR".into(),
            toolchain.target.sysconfigdata_dir.display().to_string(),
        ),
        (
            "MATURIN_PEP517_ARGS".into(),
            format!("--target {RUST_TARGET}"),
        ),
    ]
}

/// Writes `cargo_home/config.toml`: every crate comes from `vendor` (the recipe's crates and
/// the standard library's), and cargo stays offline.
pub fn write_cargo_config(cargo_home: &Path, vendor: &Path) -> Result<(), ToolchainError> {
    fs_err::create_dir_all(cargo_home).map_err(io_error(cargo_home))?;
    let path = cargo_home.join("config.toml");
    let text = format!(
        "[source.crates-io]\nreplace-with = \"wheelforge-vendor\"\n\n\
         [source.wheelforge-vendor]\ndirectory = {vendor:?}\n\n[net]\noffline = true\n",
        vendor = vendor.display().to_string()
    );
    fs_err::write(&path, text).map_err(io_error(&path))
}

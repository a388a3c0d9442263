//! `wheelforge toolchain install --fortran`: the optional Fortran part of the toolchain.
//!
//! Installed on demand into the same Debian root as the base toolchain, with its own manifest
//! (`fortran.json` beside `toolchain.json`), lock and identity, so adding it changes nothing for
//! recipes that do not use Fortran. Steps, each leaving a marker so an interrupted install
//! resumes after it:
//! 1. `packages`: flang 22 (the front end, `fir-opt`, `tco`), CMake and Ninja from Debian;
//! 2. sources: Debian's llvm-toolchain-22 source package with `apt-get source`, from a
//!    `deb-src` entry derived from the root's own apt sources; the upstream tarball's SHA-256 is
//!    checked against the (signed) Sources index (`crate::toolchain::debian_source`);
//! 3. `patch`: the runtime's parts extracted, and the LP64 boundary ([`super::lp64`]) on a copy of the runtime sources;
//! 4. `runtime`: flang-rt for wasm32 with CMake (`toolchain/fortran/runtime/`), installed as
//!    `/opt/wheelforge/fortran/lib/libflang_rt.runtime.a`;
//! 5. `modules`: the intrinsic modules (`iso_c_binding`, `iso_fortran_env`, IEEE) compiled for
//!    wasm32, with the C type kinds of wasm32.
//!
//! Then the driver's configuration and the `wheelforge-fortran` script are written and the
//! manifest last. This module installs; the driver is [`super::driver`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{DriverConfig, FORTRAN_DIR};

use crate::reporter::Reporter;
use crate::toolchain::install::{apt_install_script, package_versions};
use crate::toolchain::wasi::{Flavor, WasiToolchain};
use crate::toolchain::{ToolchainError, io_error};

/// Bumped whenever the Fortran part's layout, its build or the driver's output changes (the
/// driver's Rust code is not hashed into the identity).
pub const FORTRAN_FORMAT: u32 = 5;

/// The Debian packages of the Fortran part.
pub const FORTRAN_PACKAGES: &[&str] = &["flang-22", "cmake", "ninja-build", "xz-utils"];

/// The Debian source package with flang-rt and the intrinsic modules.
pub const SOURCE_PACKAGE: &str = "llvm-toolchain-22";

/// The files of the runtime build, embedded in wheelforge (part of the identity).
const RUNTIME_FILES: &[(&str, &str)] = &[
    (
        "CMakeLists.txt",
        include_str!("../../../toolchain/fortran/runtime/CMakeLists.txt"),
    ),
    (
        "compat.c",
        include_str!("../../../toolchain/fortran/runtime/compat.c"),
    ),
    (
        "complex-shims.c",
        include_str!("../../../toolchain/fortran/runtime/complex-shims.c"),
    ),
    (
        "include/wheelforge-compat.h",
        include_str!("../../../toolchain/fortran/runtime/include/wheelforge-compat.h"),
    ),
    (
        "include/sys/wait.h",
        include_str!("../../../toolchain/fortran/runtime/include/sys/wait.h"),
    ),
];

/// The build-system files with the driver (part of the identity).
const CMAKE_TEMPLATE: &str = include_str!("../../../toolchain/fortran/wasi-fortran.cmake.in");
const MESON_TEMPLATE: &str = include_str!("../../../toolchain/fortran/meson-fortran.ini.in");

/// The intrinsic modules, in dependency order.
pub const INTRINSIC_MODULES: &[&str] = &[
    "__fortran_builtins",
    "__fortran_type_info",
    "__fortran_ieee_exceptions",
    "ieee_exceptions",
    "ieee_arithmetic",
    "ieee_features",
    "iso_c_binding",
    "iso_fortran_env_impl",
    "iso_fortran_env",
];

/// The installed Fortran part, as recorded in `fortran.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FortranToolchain {
    pub format: u32,
    /// The base toolchain's directory (host path).
    pub dir: PathBuf,
    /// The identity of the base toolchain this part was installed into: a reinstalled base
    /// (a new root) needs the Fortran part again.
    pub base_identity: String,
    /// Versions of the Debian packages and of the runtime's source tarball (its SHA-256).
    pub versions: BTreeMap<String, String>,
    /// The driver configuration (inside paths).
    pub config: DriverConfig,
    /// How long the runtime build took (seconds; 0 if unknown), for the docs and the log.
    pub runtime_build_seconds: u64,
    pub identity: String,
}

impl FortranToolchain {
    pub fn manifest_path(dir: &Path) -> PathBuf {
        dir.join("fortran.json")
    }

    /// The Fortran part installed into `toolchain`; [`ToolchainError::NotInstalled`] or
    /// [`ToolchainError::Manifest`] (reinstall) when it is missing, from another wheelforge
    /// version, made for another base toolchain, or its runtime is gone.
    pub fn load(toolchain: &WasiToolchain) -> Result<FortranToolchain, ToolchainError> {
        let path = Self::manifest_path(&toolchain.dir);
        if !path.is_file() {
            return Err(ToolchainError::NotInstalled {
                dir: toolchain.dir.clone(),
            });
        }
        let text = fs_err::read_to_string(&path).map_err(io_error(&path))?;
        let fortran: FortranToolchain =
            serde_json::from_str(&text).map_err(|error| ToolchainError::Manifest {
                path: path.clone(),
                detail: error.to_string(),
            })?;
        let stale = |detail: String| ToolchainError::Manifest {
            path: path.clone(),
            detail,
        };
        if fortran.format != FORTRAN_FORMAT {
            return Err(stale(format!(
                "Fortran format {} is not this wheelforge's format {FORTRAN_FORMAT}",
                fortran.format
            )));
        }
        if fortran.base_identity != toolchain.identity {
            return Err(stale(format!(
                "made for the base toolchain {}, not the installed {}",
                fortran.base_identity, toolchain.identity
            )));
        }
        for file in [&fortran.config.runtime, &fortran.config.flang] {
            if !toolchain.host_path(file).is_file() {
                return Err(stale(format!("{} is missing", file.display())));
            }
        }
        Ok(fortran)
    }

    /// Everything that can change a Fortran build's output: the package versions, the source
    /// tarball, the runtime build files and the driver's format.
    pub fn compute_identity(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(format!("fortran format {FORTRAN_FORMAT}\n"));
        hasher.update(serde_json::to_vec(&self.versions).expect("versions serialize"));
        for (name, text) in RUNTIME_FILES {
            hasher.update(name.as_bytes());
            hasher.update(text.as_bytes());
        }
        hasher.update(include_str!(
            "../../../toolchain/fortran/wasi-fortran.cmake.in"
        ));
        hex::encode(hasher.finalize())
    }

    fn save(&self) -> Result<(), ToolchainError> {
        let path = Self::manifest_path(&self.dir);
        crate::toolchain::write_atomically(
            &path,
            &serde_json::to_vec_pretty(self).expect("manifests serialize"),
        )
    }
}

/// Loads the Fortran part, installing it (and the base toolchain) first if needed.
pub fn ensure(
    cache_dir: &Path,
    reporter: &dyn Reporter,
) -> Result<(WasiToolchain, FortranToolchain), ToolchainError> {
    let toolchain = crate::toolchain::install::ensure(cache_dir, reporter)?;
    match FortranToolchain::load(&toolchain) {
        Ok(fortran) => Ok((toolchain, fortran)),
        Err(ToolchainError::NotInstalled { .. } | ToolchainError::Manifest { .. }) => {
            let fortran = install(&toolchain, false, reporter)?;
            Ok((toolchain, fortran))
        }
        Err(other) => Err(other),
    }
}

/// Installs the Fortran part into an installed base toolchain (a no-op when installed and
/// `force` is false).
pub fn install(
    toolchain: &WasiToolchain,
    force: bool,
    reporter: &dyn Reporter,
) -> Result<FortranToolchain, ToolchainError> {
    let dir = &toolchain.dir;
    if !force && let Ok(existing) = FortranToolchain::load(toolchain) {
        return Ok(existing);
    }
    if !matches!(toolchain.flavor, Flavor::DebianRoot { .. }) {
        return Err(ToolchainError::Unsupported {
            what: "the Fortran toolchain needs the Debian toolchain root (flang comes from Debian)"
                .into(),
            help: "unset WASI_SDK_PATH and run `wheelforge toolchain install --fortran`".into(),
        });
    }
    let lock_path = dir.join("fortran.lock");
    let lock = fs_err::File::create(&lock_path).map_err(io_error(&lock_path))?;
    lock.file().lock().map_err(io_error(&lock_path))?;
    if !force && let Ok(existing) = FortranToolchain::load(toolchain) {
        return Ok(existing);
    }
    let manifest = FortranToolchain::manifest_path(dir);
    if manifest.exists() {
        fs_err::remove_file(&manifest).map_err(io_error(&manifest))?;
    }
    let steps = Steps::start(toolchain, force)?;
    reporter.message("fortran", "packages");
    let mut versions = steps.packages()?;
    let flang_version = versions.get("deb:flang-22").cloned().unwrap_or_default();
    reporter.message("fortran", "runtime sources");
    let (tarball, sha256) = steps.runtime_sources(&flang_version)?;
    versions.insert(format!("src:{SOURCE_PACKAGE}"), sha256);
    reporter.message("fortran", "LP64 boundary");
    steps.lp64_boundary(&tarball)?;
    reporter.message(
        "fortran",
        "building the Fortran runtime (about 13 minutes on 2 cores)",
    );
    let runtime_build_seconds = steps.runtime()?;
    reporter.message("fortran", "intrinsic modules");
    let config = DriverConfig::for_toolchain(toolchain);
    steps.intrinsic_modules(&config)?;

    write_driver_files(toolchain, &config)?;
    let mut fortran = FortranToolchain {
        format: FORTRAN_FORMAT,
        dir: dir.clone(),
        base_identity: toolchain.identity.clone(),
        versions,
        config,
        runtime_build_seconds,
        identity: String::new(),
    };
    fortran.identity = fortran.compute_identity();
    fortran.save()?;
    Ok(fortran)
}

/// Where the runtime sources are unpacked, inside the root (in [`FORTRAN_DIR`]).
const SOURCE_ROOT: &str = "/opt/wheelforge/fortran/build/source";
const _: () = assert!(
    SOURCE_ROOT.len() > FORTRAN_DIR.len()
        && const_starts_with(SOURCE_ROOT.as_bytes(), FORTRAN_DIR.as_bytes())
);

const fn const_starts_with(text: &[u8], prefix: &[u8]) -> bool {
    let mut at = 0;
    while at < prefix.len() {
        if text[at] != prefix[at] {
            return false;
        }
        at += 1;
    }
    true
}

/// The install's steps. Each finished one leaves a marker (`.step-NAME` in the Fortran
/// directory), so that an interrupted install resumes after it.
struct Steps<'a> {
    toolchain: &'a WasiToolchain,
    log: PathBuf,
    fortran_dir: PathBuf,
}

impl<'a> Steps<'a> {
    /// Empties the log (and with `force` the Fortran directory) and creates the directory.
    fn start(toolchain: &'a WasiToolchain, force: bool) -> Result<Steps<'a>, ToolchainError> {
        let log = toolchain.dir.join("fortran-install.log");
        fs_err::write(&log, "").map_err(io_error(&log))?;
        let fortran_dir = toolchain.host_path(Path::new(FORTRAN_DIR));
        if force && fortran_dir.exists() {
            fs_err::remove_dir_all(&fortran_dir).map_err(io_error(&fortran_dir))?;
        }
        fs_err::create_dir_all(&fortran_dir).map_err(io_error(&fortran_dir))?;
        Ok(Steps {
            toolchain,
            log,
            fortran_dir,
        })
    }

    /// A path inside the root, as the build machine sees it.
    fn host(&self, inside: &str) -> PathBuf {
        self.toolchain.host_path(Path::new(inside))
    }

    fn markers(&self) -> crate::toolchain::install::StepMarkers<'_> {
        crate::toolchain::install::StepMarkers {
            dir: &self.fortran_dir,
            prefix: ".step-",
        }
    }

    fn shell(&self, script: &str, step: &str) -> Result<(), ToolchainError> {
        let mut command = self
            .toolchain
            .sandbox()
            .admin_command("/bin/sh", Path::new("/"), &[]);
        command.args(["-c", script]);
        crate::toolchain::install::run_step(step, &mut command, &self.log)
    }

    /// Installs Debian's flang and its runtime's build dependencies; returns the installed
    /// versions.
    fn packages(&self) -> Result<BTreeMap<String, String>, ToolchainError> {
        if !self.markers().done("packages") {
            crate::toolchain::debian_source::enable_sources(self.toolchain, &[], &self.log)?;
            self.shell(
                &apt_install_script(&FORTRAN_PACKAGES.join(" ")),
                "installing the Fortran packages",
            )?;
            self.markers().finish("packages")?;
        }
        package_versions(&self.toolchain.sandbox(), FORTRAN_PACKAGES, &self.log)
    }

    /// The LLVM source tarball of the installed flang (shared with the C++ runtime, which
    /// builds from the same source package); returns it and its SHA-256.
    fn runtime_sources(&self, flang_version: &str) -> Result<(PathBuf, String), ToolchainError> {
        let upstream = crate::toolchain::debian_source::fetch(
            self.toolchain,
            SOURCE_PACKAGE,
            Some(flang_version),
            None,
            &self.host(crate::toolchain::cxx::DOWNLOADS_DIR),
            &self.log,
        )?;
        Ok((upstream.path, upstream.sha256))
    }

    /// Unpacks the runtime's sources and widens their signatures at the LP64 boundary.
    fn lp64_boundary(&self, tarball: &Path) -> Result<(), ToolchainError> {
        if self.markers().done("patch") {
            return Ok(());
        }
        let host_source = self.host(SOURCE_ROOT);
        if host_source.exists() {
            fs_err::remove_dir_all(&host_source).map_err(io_error(&host_source))?;
        }
        fs_err::create_dir_all(&host_source).map_err(io_error(&host_source))?;
        let top = tarball
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.strip_suffix(".orig.tar.xz"))
            .unwrap_or_default();
        self.shell(
            &format!(
                "set -e; cd {SOURCE_ROOT}; tar -xJf {downloads}/{tarball} --strip-components=1 \
                 {top}/flang-rt {top}/flang/include {top}/flang/lib/Decimal {top}/flang/module",
                downloads = crate::toolchain::cxx::DOWNLOADS_DIR,
                tarball = tarball.file_name().unwrap_or_default().to_string_lossy(),
            ),
            "extracting the runtime sources",
        )?;
        let count = apply_lp64_boundary(&host_source)?;
        append_log(
            &self.log,
            &format!("LP64 boundary: {count} signatures widened\n"),
        )?;
        self.markers().finish("patch")
    }

    /// Builds and installs the Fortran runtime for wasm32; returns the build's seconds (as
    /// measured when it ran, also for a resumed install).
    fn runtime(&self) -> Result<u64, ToolchainError> {
        let cmake_dir = format!("{FORTRAN_DIR}/runtime-build-files");
        let build_dir = format!("{FORTRAN_DIR}/build/runtime");
        let started = std::time::Instant::now();
        if !self.markers().done("runtime") {
            for (name, text) in RUNTIME_FILES {
                let path = self.host(&format!("{cmake_dir}/{name}"));
                if let Some(parent) = path.parent() {
                    fs_err::create_dir_all(parent).map_err(io_error(parent))?;
                }
                fs_err::write(&path, text).map_err(io_error(&path))?;
            }
            let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
            self.shell(
                &format!(
                    "set -e; cmake -S {cmake_dir} -B {build_dir} -G Ninja \
                     -DCMAKE_TOOLCHAIN_FILE={tools}/wasi.cmake -DFLANG_SOURCE_ROOT={SOURCE_ROOT} \
                     -DCMAKE_INSTALL_PREFIX={FORTRAN_DIR}; \
                     cmake --build {build_dir} -j {jobs}; cmake --install {build_dir}",
                    tools = self.toolchain.tools_dir.display()
                ),
                "building the Fortran runtime",
            )?;
            let seconds = started.elapsed().as_secs();
            append_log(&self.log, &format!("runtime build: {seconds} s\n"))?;
            // The marker keeps the measured time for the manifest of a resumed install.
            fs_err::write(self.markers().path("runtime"), seconds.to_string())
                .map_err(io_error(&self.fortran_dir))?;
        }
        Ok(fs_err::read_to_string(self.markers().path("runtime"))
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0))
    }

    /// flang's intrinsic modules compiled for wasm32 (iso_c_binding with wasm32's C types),
    /// beside a hard link of Debian's flang: flang looks for them only in
    /// `../include/flang` of its own executable. The link is remade on every install: it
    /// must be the installed flang.
    fn intrinsic_modules(&self, config: &DriverConfig) -> Result<(), ToolchainError> {
        let flang_dir = config
            .flang
            .parent()
            .unwrap_or(Path::new(FORTRAN_DIR))
            .display()
            .to_string();
        self.shell(
            &format!(
                "set -e; mkdir -p {flang_dir} {modules}; ln -f \"$(readlink -f /usr/bin/flang-new-22)\" {flang}",
                modules = config.module_dir.display(),
                flang = config.flang.display()
            ),
            "linking flang beside the wasm32 intrinsic modules",
        )?;
        if self.markers().done("intrinsic-modules") {
            return Ok(());
        }
        let module_sources = format!("{SOURCE_ROOT}/flang/module");
        let iso_c = self.host(&format!("{module_sources}/iso_c_binding.f90"));
        let text = fs_err::read_to_string(&iso_c).map_err(io_error(&iso_c))?;
        // Idempotent: a resumed install finds the file already patched.
        let patched = if text.contains("c_size_t = c_int32_t,") {
            text
        } else {
            super::modules::wasm32_iso_c_binding(&text).ok_or_else(|| {
                ToolchainError::Unsupported {
                    what: format!("{} does not define c_long and c_size_t as expected", iso_c.display()),
                    help: "this flang version's iso_c_binding needs a new wasm32 patch (src/toolchain/fortran/modules.rs)".into(),
                }
            })?
        };
        fs_err::write(&iso_c, patched).map_err(io_error(&iso_c))?;
        let mut script = format!("set -e; cd {module_sources}");
        for module in INTRINSIC_MODULES {
            script.push_str(&format!(
                "; {flang} -fc1 -triple {triple} -cpp -fsyntax-only -module-dir {modules} {module}.f90",
                flang = config.flang.display(),
                modules = config.module_dir.display(),
                triple = super::ir::WASM_TRIPLE,
            ));
        }
        self.shell(&script, "building the intrinsic modules for wasm32")?;
        self.markers().finish("intrinsic-modules")
    }
}

/// The driver configuration, the `wheelforge-fortran` script and the CMake toolchain file.
fn write_driver_files(
    toolchain: &WasiToolchain,
    config: &DriverConfig,
) -> Result<(), ToolchainError> {
    let config_path = toolchain.host_path(Path::new(super::CONFIG_PATH));
    fs_err::write(
        &config_path,
        serde_json::to_vec_pretty(config).expect("configs serialize"),
    )
    .map_err(io_error(&config_path))?;
    for (inside, template) in [
        (super::CMAKE_TOOLCHAIN_FILE, CMAKE_TEMPLATE),
        (super::MESON_CROSS_FILE, MESON_TEMPLATE),
    ] {
        let path = toolchain.host_path(Path::new(inside));
        fs_err::write(
            &path,
            template.replace("@TOOLS@", &toolchain.tools_dir.display().to_string()),
        )
        .map_err(io_error(&path))?;
    }
    let script = toolchain.host_path(&toolchain.tools_dir.join("bin/wheelforge-fortran"));
    fs_err::write(
        &script,
        format!(
            "#!/bin/sh\nexec \"${{WHEELFORGE_EXE:-{}}}\" fortran \"$@\"\n",
            toolchain.sandbox().wheelforge_binary().display()
        ),
    )
    .map_err(io_error(&script))?;
    use std::os::unix::fs::PermissionsExt;
    fs_err::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
        .map_err(io_error(&script))
}

/// Applies the LP64 boundary to the extracted runtime sources; returns how many signatures
/// changed.
fn apply_lp64_boundary(source_root: &Path) -> Result<usize, ToolchainError> {
    let binding = source_root.join("flang/include/flang/ISO_Fortran_binding.h");
    let text = fs_err::read_to_string(&binding).map_err(io_error(&binding))?;
    let patched = super::lp64::patch_iso_fortran_binding(&text).ok_or_else(|| {
        ToolchainError::Unsupported {
            what: format!(
                "{} does not declare CFI_index_t and elem_len as expected",
                binding.display()
            ),
            help: "this flang version needs a new LP64 boundary (src/toolchain/fortran/lp64.rs)"
                .into(),
        }
    })?;
    fs_err::write(&binding, patched).map_err(io_error(&binding))?;
    let mut count = 0;
    for directory in [
        source_root.join("flang/include/flang/Runtime"),
        source_root.join("flang-rt/include"),
        source_root.join("flang-rt/lib/runtime"),
    ] {
        for path in walk(&directory)? {
            let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !matches!(extension, "h" | "cpp" | "c" | "inc") {
                continue;
            }
            let text = fs_err::read_to_string(&path).map_err(io_error(&path))?;
            let patched = super::lp64::patch_entry_points(&text, extension == "c");
            if patched.signatures > 0 {
                count += patched.signatures;
                fs_err::write(&path, patched.text).map_err(io_error(&path))?;
            }
        }
    }
    Ok(count)
}

fn walk(directory: &Path) -> Result<Vec<PathBuf>, ToolchainError> {
    let mut files = Vec::new();
    let mut pending = vec![directory.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs_err::read_dir(&dir).map_err(io_error(&dir))? {
            let path = entry.map_err(io_error(&dir))?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn append_log(log: &Path, text: &str) -> Result<(), ToolchainError> {
    use std::io::Write;
    let mut file = fs_err::OpenOptions::new()
        .append(true)
        .open(log)
        .map_err(io_error(log))?;
    file.write_all(text.as_bytes()).map_err(io_error(log))
}

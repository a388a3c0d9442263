//! Cross-compiling backends (`setuptools`, `meson`, `cmake`): the package's own PEP 517
//! backend, run by the toolchain's host CPython 3.14 with the target environment.
//!
//! Build tools are installed for the build machine (from a wheelhouse in the cache, fetched
//! once) into a per-recipe directory. Then `pep517_build.py` runs the backend with
//! `_PYTHON_SYSCONFIGDATA_NAME` and `_PYTHON_HOST_PLATFORM` naming the WASI target, the
//! compiler wrappers as `CC`/`CXX`/`LDSHARED`, and pkg-config pointed at the target only. Only
//! the backend sees the target; the tool installation does not.
//!
//! The recipe's `requirements.host` wheels (target builds, from the index) are unpacked into
//! `host-env/` first ([`super::host_env`]), and the wrappers are told where it is and where
//! the build tools are, so that headers of a host requirement come from its target build even
//! when the build system asks the build Python for them.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{BackendContext, BackendError};
use crate::process::{log_tail, run_logged};
use crate::recipe::BackendKind;
use crate::toolchain::WasiToolchain;
use crate::toolchain::wrap::{BUILD_SITE_PACKAGES_VARIABLE, HOST_PREFIX_VARIABLE};

/// Part of the toolchain's tool files, so that its digest is in every rebuild key.
const DRIVER: &str = crate::toolchain::install::PEP517_DRIVER;

pub(super) fn build(
    context: &BackendContext<'_>,
    toolchain: &WasiToolchain,
) -> Result<PathBuf, BackendError> {
    let build = CrossBuild::prepare(context, toolchain)?;
    build.run("static", false, "reading [build-system] requires")?;
    let mut requirements = build.read_requires()?;
    requirements.extend(context.loaded.recipe.requirements.build.iter().cloned());
    build.install(&requirements, &build.layers[0])?;
    build.run("dynamic", true, "get_requires_for_build_wheel")?;
    build.install(&build.read_requires()?, &build.layers[1])?;
    build.run("wheel", true, "the cross build (build_wheel)")?;
    let name_file = build.out.join("wheel.txt");
    let name = fs_err::read_to_string(&name_file).map_err(io_error(&name_file))?;
    Ok(build.out.join(name.trim()))
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> BackendError + '_ {
    move |source| BackendError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One cross build's settings: the PEP 517 driver's phases run in the toolchain's sandbox,
/// with the build requirements in two layers (static, then dynamic: `pip install --target`
/// replaces a directory's `bin/` when it installs into it again) and the host requirements
/// unpacked into the target prefix.
struct CrossBuild<'a> {
    context: &'a BackendContext<'a>,
    toolchain: &'a WasiToolchain,
    sandbox: crate::toolchain::sandbox::Sandbox,
    python: String,
    driver: PathBuf,
    /// Where the driver writes `requires.json`, `wheel.txt` and the wheel.
    out: PathBuf,
    /// Build requirements' wheels, shared by builds on this toolchain.
    wheelhouse: PathBuf,
    layers: [PathBuf; 2],
    /// Build tools' scripts (meson, ninja, cython) first.
    tool_path: String,
    python_path: String,
    host_env: Option<super::host_env::HostEnv>,
    cargo: Option<Vec<(String, String)>>,
    binds: Vec<PathBuf>,
    /// The config settings the driver passes to the backend (JSON).
    settings: String,
}

impl<'a> CrossBuild<'a> {
    fn prepare(
        context: &'a BackendContext<'a>,
        toolchain: &'a WasiToolchain,
    ) -> Result<CrossBuild<'a>, BackendError> {
        let work = context.work_dir;
        let driver = work.join("pep517_build.py");
        fs_err::write(&driver, DRIVER).map_err(io_error(&driver))?;
        let out = work.join("backend-wheel");
        let build_env = work.join("build-env");
        super::fresh_dirs(&[&out, &build_env])?;
        let wheelhouse = context
            .cache_dir
            .join("wheelhouse")
            .join(format!("toolchain-{}", &toolchain.identity[..16]));
        fs_err::create_dir_all(&wheelhouse).map_err(io_error(&wheelhouse))?;
        let sandbox = toolchain.sandbox();
        let base_path = match sandbox {
            crate::toolchain::sandbox::Sandbox::Chroot { .. } => {
                crate::toolchain::sandbox::CHROOT_PATH.to_string()
            }
            crate::toolchain::sandbox::Sandbox::Native => std::env::var("PATH").unwrap_or_default(),
        };
        let layers = [build_env.join("static"), build_env.join("dynamic")];
        let tool_path = format!(
            "{}:{}:{base_path}",
            layers[0].join("bin").display(),
            layers[1].join("bin").display()
        );
        let python_path = format!("{}:{}", layers[0].display(), layers[1].display());
        let host_env = super::host_env::for_recipe(context)?;
        let cargo = match context.rust {
            Some(rust) => Some(prepare_cargo(context, toolchain, rust)?),
            None => None,
        };
        let mut binds = vec![work.to_path_buf(), wheelhouse.clone()];
        if cargo.is_some() {
            binds.push(context.cache_dir.join("cargo-vendor"));
        }
        let settings = config_settings(context, &toolchain.tools_dir, host_env.as_ref());
        Ok(CrossBuild {
            context,
            toolchain,
            sandbox,
            python: toolchain.host_python.display().to_string(),
            driver,
            out,
            wheelhouse,
            layers,
            tool_path,
            python_path,
            host_env,
            cargo,
            binds,
            settings,
        })
    }

    fn failed(&self, step: &'static str) -> BackendError {
        BackendError::Failed {
            recipe: self.context.loaded.name().to_string(),
            step,
            tail: log_tail(self.context.log, 25),
            log: self.context.log.to_path_buf(),
        }
    }

    fn command(&self, cwd: &Path) -> Command {
        let binds: Vec<&Path> = self.binds.iter().map(PathBuf::as_path).collect();
        self.sandbox.command(&self.python, cwd, &binds)
    }

    /// The driver's `phase`; with `target`, in the target's compiler environment.
    fn driver_command(&self, phase: &str, target: bool) -> Command {
        let context = self.context;
        let mut command = self.command(context.source_root);
        command
            .arg(&self.driver)
            .arg(phase)
            .arg(context.source_root)
            .arg(&self.out)
            .arg(&self.settings)
            .env("PYTHONPATH", &self.python_path)
            .env("PATH", &self.tool_path)
            .env("SOURCE_DATE_EPOCH", "315532800");
        if !target {
            return command;
        }
        let toolchain = self.toolchain;
        let host_env = self.host_env.as_ref();
        add_target_environment(
            &mut command,
            toolchain,
            context,
            host_env.map(|host_env| host_env.root.as_path()),
        );
        let pythonpath = format!(
            "{}:{}",
            self.python_path,
            toolchain.target.sysconfigdata_dir.display()
        );
        command.env("PYTHONPATH", pythonpath);
        if let Some(host_env) = host_env {
            command
                .env(HOST_PREFIX_VARIABLE, &host_env.site_packages)
                .env(BUILD_SITE_PACKAGES_VARIABLE, &self.python_path)
                .env(
                    "PKG_CONFIG_LIBDIR",
                    super::library::pkg_config_path(host_env, &toolchain.target.pkg_config_dir),
                );
        }
        if context.fortran.is_some() {
            super::library::add_fortran_environment(&mut command, toolchain);
        }
        if let Some(cargo) = &self.cargo {
            command.envs(cargo.iter().map(|(key, value)| (key, value)));
        }
        command
    }

    /// Runs the driver's `phase`; `step` names it in the error.
    fn run(&self, phase: &str, target: bool, step: &'static str) -> Result<(), BackendError> {
        let mut command = self.driver_command(phase, target);
        if run_logged(&mut command, self.context.log)
            .map_err(io_error(self.context.log))?
            .success()
        {
            Ok(())
        } else {
            Err(self.failed(step))
        }
    }

    /// The requirements the last phase wrote.
    fn read_requires(&self) -> Result<Vec<String>, BackendError> {
        let path = self.out.join("requires.json");
        let text = fs_err::read_to_string(&path).map_err(io_error(&path))?;
        serde_json::from_str(&text).map_err(|_| self.failed("reading build requirements"))
    }

    fn pip(&self, arguments: &[&str]) -> Command {
        let mut command = self.command(self.context.work_dir);
        command
            .args(["-m", "pip", "--disable-pip-version-check"])
            .args(arguments)
            .arg("--find-links")
            .arg(&self.wheelhouse);
        if let Some(index) = self.context.index_url {
            command.args(["--index-url", index]);
        }
        command
    }

    /// Downloads `requirements` into the wheelhouse (offline first: it usually has
    /// everything) and installs them into `layer`.
    fn install(&self, requirements: &[String], layer: &Path) -> Result<(), BackendError> {
        if requirements.is_empty() {
            return Ok(());
        }
        if !self.download(true, requirements)? && !self.download(false, requirements)? {
            return Err(self.failed("downloading build requirements"));
        }
        let log = self.context.log;
        let mut install = self.pip(&["install", "--no-index", "--upgrade"]);
        install.arg("--target").arg(layer).args(requirements);
        if !run_logged(&mut install, log)
            .map_err(io_error(log))?
            .success()
        {
            return Err(self.failed("installing build requirements"));
        }
        Ok(())
    }

    /// `pip download` of `requirements` into the wheelhouse, `offline` from it alone.
    fn download(&self, offline: bool, requirements: &[String]) -> Result<bool, BackendError> {
        let mut download = if offline {
            self.pip(&["download", "--no-index", "--only-binary", ":all:"])
        } else {
            self.pip(&["download", "--only-binary", ":all:"])
        };
        download
            .arg("--dest")
            .arg(&self.wheelhouse)
            .args(requirements);
        let log = self.context.log;
        Ok(run_logged(&mut download, log)
            .map_err(io_error(log))?
            .success())
    }
}

/// Vendors the crates and writes the cargo configuration; returns the build's cargo
/// environment ([`crate::toolchain::rust::cargo_environment`]).
fn prepare_cargo(
    context: &BackendContext<'_>,
    toolchain: &WasiToolchain,
    rust: &crate::toolchain::rust::RustToolchain,
) -> Result<Vec<(String, String)>, BackendError> {
    let manifest = super::cargo::manifest(context.source_root).ok_or_else(|| {
        BackendError::NoCargoManifest {
            recipe: context.loaded.name().to_string(),
        }
    })?;
    let vendor = super::cargo::vendor(context, toolchain, rust, &manifest)?;
    for path in super::cargo::drop_source_replacement(&manifest, context.source_root)? {
        crate::process::log_line(
            context.log,
            &format!(
                "wheelforge: removed the [source] tables of {} (the crates come from {})",
                path.display(),
                vendor.display()
            ),
        );
    }
    let cargo_home = context.work_dir.join("cargo-home");
    crate::toolchain::rust::write_cargo_config(&cargo_home, &vendor).map_err(|error| {
        BackendError::Failed {
            recipe: context.loaded.name().to_string(),
            step: "writing the cargo configuration",
            tail: error.to_string(),
            log: context.log.to_path_buf(),
        }
    })?;
    Ok(crate::toolchain::rust::cargo_environment(
        toolchain,
        &cargo_home,
        &context.work_dir.join("cargo-target"),
    ))
}

/// PEP 517 config settings for the recipe's backend flags. With host requirements, meson also
/// gets their `.pc` directories as `pkg_config_path`: in a cross build meson takes the host
/// machine's search path from that option (the cross file's `pkg_config_libdir` replaces
/// `PKG_CONFIG_LIBDIR`), so a static library recipe (`lapack`) and the target numpy are found
/// by `dependency()`.
fn config_settings(
    context: &BackendContext<'_>,
    tools: &Path,
    host_env: Option<&super::host_env::HostEnv>,
) -> String {
    let tools = tools.display();
    let build = &context.loaded.recipe.build;
    let mut settings = serde_json::Map::new();
    match build.backend {
        BackendKind::Meson => {
            let mut setup = vec![format!("--cross-file={tools}/meson-cross.ini")];
            if let Some(host_env) = host_env {
                let dirs: Vec<String> = host_env
                    .pkg_config_dirs()
                    .iter()
                    .map(|dir| dir.display().to_string())
                    .collect();
                setup.push(format!("-Dpkg_config_path={}", dirs.join(",")));
            }
            if context.fortran.is_some() {
                setup.push(format!(
                    "--cross-file={}",
                    crate::toolchain::fortran::MESON_CROSS_FILE
                ));
            }
            setup.extend(build.backend_flags.iter().cloned());
            settings.insert("setup-args".into(), setup.into());
        }
        BackendKind::Cmake => {
            let toolchain_file = if context.fortran.is_some() {
                crate::toolchain::fortran::CMAKE_TOOLCHAIN_FILE.to_string()
            } else {
                format!("{tools}/wasi.cmake")
            };
            let mut args = vec![format!("-DCMAKE_TOOLCHAIN_FILE={toolchain_file}")];
            args.extend(build.backend_flags.iter().cloned());
            settings.insert("cmake.args".into(), args.join(";").into());
        }
        _ if !build.backend_flags.is_empty() => {
            settings.insert("--build-option".into(), build.backend_flags.clone().into());
        }
        _ => {}
    }
    // The recipe's own settings; its loader refuses the keys set above.
    for (key, value) in &build.config_settings {
        settings.insert(key.clone(), value.clone().into());
    }
    serde_json::Value::Object(settings).to_string()
}

/// The variables that make a backend build for the target, and only for it.
///
/// With `host_prefix` (the unpacked `requirements.host`), the static libraries there are on
/// the compiler's and linker's search paths (`-I PREFIX/include`, `-L PREFIX/lib` ahead of the
/// recipe's flags): backends without pkg-config (setuptools, PyYAML's wrapper) find `yaml.h`
/// and `-lyaml` of a `static_library` recipe as they would in `/usr`.
pub(super) fn add_target_environment(
    command: &mut Command,
    toolchain: &WasiToolchain,
    context: &BackendContext<'_>,
    host_prefix: Option<&Path>,
) {
    let build = &context.loaded.recipe.build;
    let search = |flag: &str, dir: &str, flags: &[String]| {
        let dir = host_prefix
            .map(|prefix| prefix.join(dir))
            .filter(|d| d.is_dir());
        dir.map(|dir| format!("{flag}{}", dir.display()))
            .into_iter()
            .chain(flags.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let tools = toolchain.tools_dir.display();
    let bin = format!("{tools}/bin");
    let target = &toolchain.target;
    command
        .env("_PYTHON_SYSCONFIGDATA_NAME", &target.sysconfigdata_name)
        .env("_PYTHON_HOST_PLATFORM", &target.platform)
        .env("WHEELFORGE_WRAP_CONFIG", format!("{tools}/wrap.json"))
        .env("WHEELFORGE_EXE", toolchain.sandbox().wheelforge_binary())
        .env("CC", format!("{bin}/cc"))
        .env("CXX", format!("{bin}/c++"))
        .env("AR", format!("{bin}/ar"))
        .env("NM", format!("{bin}/nm"))
        .env("RANLIB", format!("{bin}/ranlib"))
        .env("LDSHARED", format!("{bin}/cc -shared"))
        .env("LDCXXSHARED", format!("{bin}/c++ -shared"))
        .env("CFLAGS", search("-I", "include", &build.cflags))
        .env("CXXFLAGS", search("-I", "include", &build.cxxflags))
        .env("LDFLAGS", search("-L", "lib", &build.ldflags))
        .env("PKG_CONFIG_LIBDIR", &target.pkg_config_dir)
        .env("PKG_CONFIG_PATH", "")
        .envs(&build.environment);
}

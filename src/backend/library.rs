//! The `static_library` backend: the recipe's `build.script`, run with `/bin/sh -eu` in the
//! toolchain root, installs a library for the target into `$PREFIX`.
//!
//! The script gets the target's compiler wrappers (`CC`, `CXX`, `AR`, `RANLIB`, `NM`), `FC`
//! when the recipe declares Fortran, `CMAKE_TOOLCHAIN_FILE` (the Fortran one when it does),
//! `MESON_CROSS_FILE`, `PREFIX`, `SRC_DIR` (the patched source, also the working directory),
//! `BUILD_DIR` (scratch, emptied first), `JOBS`, `PKG_CONFIG_LIBDIR` naming the target's and
//! the host requirements' `.pc` files, and `HOST_PREFIX`, where those requirements are.
//! Packing the prefix is `crate::library`'s job; this module only runs the build.

use std::path::{Path, PathBuf};

use super::{BackendContext, BackendError};
use crate::process::{log_tail, run_logged};
use crate::toolchain::WasiToolchain;

/// What the script installed.
pub struct InstalledPrefix {
    pub prefix: PathBuf,
}

pub(super) fn build(
    context: &BackendContext<'_>,
    toolchain: &WasiToolchain,
) -> Result<InstalledPrefix, BackendError> {
    let recipe = context.loaded.name();
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BackendError::Io { path, source }
    };
    let script = context
        .loaded
        .recipe
        .build
        .script
        .as_deref()
        .expect("static_library recipes are checked to have a script");
    let work = context.work_dir;
    let prefix = work.join("prefix");
    let build_dir = work.join("build");
    super::fresh_dirs(&[&prefix, &build_dir])?;
    let host_env = super::host_env::for_recipe(context)?;
    let sandbox = toolchain.sandbox();
    let binds: Vec<&Path> = vec![work];
    let mut command = sandbox.command("/bin/sh", context.source_root, &binds);
    command.arg("-euc").arg(script).arg("wheelforge-build");
    super::cross::add_target_environment(
        &mut command,
        toolchain,
        context,
        host_env.as_ref().map(|host_env| host_env.root.as_path()),
    );
    let tools = toolchain.tools_dir.display();
    let jobs = std::thread::available_parallelism().map_or(1, usize::from);
    command
        .env("PREFIX", &prefix)
        .env("SRC_DIR", context.source_root)
        .env("BUILD_DIR", &build_dir)
        .env("JOBS", jobs.to_string())
        .env("SOURCE_DATE_EPOCH", "315532800")
        .env("CMAKE_TOOLCHAIN_FILE", format!("{tools}/wasi.cmake"))
        .env("MESON_CROSS_FILE", format!("{tools}/meson-cross.ini"));
    if context.fortran.is_some() {
        add_fortran_environment(&mut command, toolchain);
    }
    if let Some(host_env) = &host_env {
        command
            .env(
                "PKG_CONFIG_LIBDIR",
                pkg_config_path(host_env, &toolchain.target.pkg_config_dir),
            )
            // For build systems that do not ask pkg-config (CMake's FindZLIB): the prefix the
            // host requirements are unpacked into, with their `include/` and `lib/`.
            .env("HOST_PREFIX", &host_env.root);
    }
    // The recipe's own variables win over the defaults above.
    command.envs(&context.loaded.recipe.build.environment);
    let status = run_logged(&mut command, context.log).map_err(io(context.log))?;
    if !status.success() {
        return Err(BackendError::Failed {
            recipe: recipe.to_string(),
            step: "the build script",
            tail: log_tail(context.log, 25),
            log: context.log.to_path_buf(),
        });
    }
    Ok(InstalledPrefix { prefix })
}

/// `FC`, the Fortran CMake toolchain file, and the runtime for the C and C++ wrappers' links
/// (Fortran objects linked by C); the meson cross file is a second `--cross-file`.
pub(super) fn add_fortran_environment(
    command: &mut std::process::Command,
    toolchain: &WasiToolchain,
) {
    let tools = toolchain.tools_dir.display();
    command
        .env("FC", format!("{tools}/bin/wheelforge-fortran"))
        .env(
            "CMAKE_TOOLCHAIN_FILE",
            crate::toolchain::fortran::CMAKE_TOOLCHAIN_FILE,
        )
        .env(
            "MESON_FORTRAN_CROSS_FILE",
            crate::toolchain::fortran::MESON_CROSS_FILE,
        )
        .env(
            crate::toolchain::fortran::RUNTIME_VARIABLE,
            crate::toolchain::fortran::RUNTIME_ARCHIVE,
        );
}

/// The host requirements' `.pc` directories before the target's own.
pub(super) fn pkg_config_path(host_env: &super::host_env::HostEnv, target: &Path) -> String {
    host_env
        .pkg_config_dirs()
        .iter()
        .map(|dir| dir.as_path())
        .chain([target])
        .map(|dir| dir.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

//! The `pure` backend: a package's own PEP 517 backend, run by pip on the host Python.
//!
//! Build tools (the `[build-system] requires` of `pyproject.toml`, plus the recipe's
//! `requirements.build`) are downloaded once into a wheelhouse in the cache; the build itself
//! runs with `--no-index` against that wheelhouse, so a rebuild needs no network.
//!
//! Downloading wheels runs no package code; the build does (`setup.py`, a backend's hooks), so
//! it runs in the build machine's sandbox ([`isolated_command`]): it writes only into its work
//! directory (which holds the source tree), reads the wheelhouse, and sees neither the home nor
//! `/tmp` of the build machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{BackendContext, BackendError};
use crate::process::{log_tail, run_logged};
use crate::toolchain::sandbox::{Bind, ISOLATION_FAILED, isolated_command};

/// Prints the static build requirements of a source tree as one per line (PEP 518 defaults
/// when there is no `[build-system]`).
const READ_REQUIRES: &str = r#"
import pathlib, sys, tomllib
path = pathlib.Path(sys.argv[1]) / "pyproject.toml"
data = tomllib.loads(path.read_text()) if path.exists() else {}
requires = data.get("build-system", {}).get("requires", ["setuptools>=40.8.0", "wheel"])
print("\n".join(requires))
"#;

pub(super) fn build(context: &BackendContext<'_>) -> Result<PathBuf, BackendError> {
    let mut requirements = static_requirements(context)?;
    requirements.extend(context.loaded.recipe.requirements.build.iter().cloned());
    let wheelhouse = Wheelhouse::open(context)?;
    wheelhouse.fetch(&requirements, "downloading build requirements")?;
    // Build requirements the backend declares through `get_requires_for_build_wheel`
    // (setuptools' `setup_requires`, an in-tree backend that adds its own): pip would look for
    // them in the wheelhouse only, offline.
    let dynamic = dynamic_requirements(context, &wheelhouse.dir, &requirements)?;
    let missing: Vec<String> = dynamic
        .into_iter()
        .filter(|requirement| !requirements.contains(requirement))
        .collect();
    wheelhouse.fetch(
        &missing,
        "downloading build requirements (from get_requires_for_build_wheel)",
    )?;
    pep517_wheel(context, &wheelhouse.dir)
}

fn failed(context: &BackendContext<'_>, step: &'static str) -> BackendError {
    BackendError::Failed {
        recipe: context.loaded.name().to_string(),
        step,
        tail: log_tail(context.log, 15),
        log: context.log.to_path_buf(),
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> BackendError + '_ {
    move |source| BackendError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `[build-system] requires` of the source tree, read by the host Python.
fn static_requirements(context: &BackendContext<'_>) -> Result<Vec<String>, BackendError> {
    let python = &context.toolchain.host_python;
    let output = Command::new(&python.path)
        .args(["-c", READ_REQUIRES])
        .arg(context.source_root)
        .output()
        .map_err(io_error(&python.path))?;
    if !output.status.success() {
        fs_err::write(context.log, &output.stderr).map_err(io_error(context.log))?;
        return Err(failed(context, "reading pyproject.toml"));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect())
}

/// The host Python's wheelhouse of build requirements, in the cache.
struct Wheelhouse<'a> {
    context: &'a BackendContext<'a>,
    dir: PathBuf,
}

impl<'a> Wheelhouse<'a> {
    fn open(context: &'a BackendContext<'a>) -> Result<Wheelhouse<'a>, BackendError> {
        let dir = context.cache_dir.join("wheelhouse").join(format!(
            "host-python-{}",
            context.toolchain.host_python.version
        ));
        fs_err::create_dir_all(&dir).map_err(io_error(&dir))?;
        Ok(Wheelhouse { context, dir })
    }

    fn download(&self, offline: bool, requirements: &[String]) -> Result<bool, BackendError> {
        let mut command = self.context.toolchain.host_python.pip();
        command
            .args(["download", "--only-binary", ":all:", "--dest"])
            .arg(&self.dir)
            .arg("--find-links")
            .arg(&self.dir);
        if offline {
            command.arg("--no-index");
        } else if let Some(index) = self.context.index_url {
            command.args(["--index-url", index]);
        }
        command.args(requirements);
        let log = self.context.log;
        Ok(run_logged(&mut command, log)
            .map_err(io_error(log))?
            .success())
    }

    /// Makes sure the wheelhouse has `requirements`: offline first; only what it lacks needs
    /// the network (the one step that may). `step` names the failure.
    fn fetch(&self, requirements: &[String], step: &'static str) -> Result<(), BackendError> {
        if requirements.is_empty()
            || self.download(true, requirements)?
            || self.download(false, requirements)?
        {
            Ok(())
        } else {
            Err(failed(self.context, step))
        }
    }
}

/// `pip wheel` of the source tree in the sandbox (the package's own code runs from here on),
/// offline from the wheelhouse; returns the one wheel it wrote.
fn pep517_wheel(context: &BackendContext<'_>, wheelhouse: &Path) -> Result<PathBuf, BackendError> {
    let out = context.work_dir.join("backend-wheel");
    if out.exists() {
        fs_err::remove_dir_all(&out).map_err(io_error(&out))?;
    }
    let mut command = sandboxed_pip(context, wheelhouse).map_err(io_error(context.work_dir))?;
    command
        // `--use-pep517`: a tree without pyproject.toml still builds in an isolated environment
        // from the wheelhouse, never by the legacy `setup.py bdist_wheel` with whatever
        // setuptools the host Python happens to have.
        .args([
            "wheel",
            "--use-pep517",
            "--no-deps",
            "--no-index",
            "--find-links",
        ])
        .arg(wheelhouse)
        .arg("--wheel-dir")
        .arg(&out)
        .arg(context.source_root)
        .envs(&context.loaded.recipe.build.environment);
    let status = run_logged(&mut command, context.log).map_err(io_error(context.log))?;
    if status.code() == Some(ISOLATION_FAILED) {
        return Err(BackendError::Sandbox {
            recipe: context.loaded.name().to_string(),
            tail: log_tail(context.log, 5),
        });
    }
    if !status.success() {
        return Err(failed(context, "the PEP 517 build"));
    }
    let wheels: Vec<PathBuf> = fs_err::read_dir(&out)
        .map_err(io_error(&out))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "whl"))
        .collect();
    match wheels.as_slice() {
        [wheel] => Ok(wheel.clone()),
        _ => Err(failed(
            context,
            "the PEP 517 build (expected exactly one wheel)",
        )),
    }
}

/// The backend's `get_requires_for_build_wheel`, asked in the sandbox with the static build
/// requirements installed (from the wheelhouse: wheels only, no package code) into
/// `<work>/requires-env`, through the same PEP 517 driver as cross builds.
fn dynamic_requirements(
    context: &BackendContext<'_>,
    wheelhouse: &Path,
    static_requirements: &[String],
) -> Result<Vec<String>, BackendError> {
    let env = context.work_dir.join("requires-env");
    let out = context.work_dir.join("requires-out");
    for dir in [&env, &out] {
        if dir.exists() {
            fs_err::remove_dir_all(dir).map_err(io_error(dir))?;
        }
        fs_err::create_dir_all(dir).map_err(io_error(dir))?;
    }
    if !static_requirements.is_empty() {
        let mut install = sandboxed_pip(context, wheelhouse).map_err(io_error(context.work_dir))?;
        install
            .args(["install", "--no-index", "--find-links"])
            .arg(wheelhouse)
            .arg("--target")
            .arg(&env)
            .args(static_requirements);
        if !run_logged(&mut install, context.log)
            .map_err(io_error(context.log))?
            .success()
        {
            return Err(failed(context, "installing build requirements"));
        }
    }
    let driver = context.work_dir.join("pep517_build.py");
    fs_err::write(&driver, crate::toolchain::install::PEP517_DRIVER).map_err(io_error(&driver))?;
    let mut command = sandboxed_python(context, wheelhouse).map_err(io_error(context.work_dir))?;
    command
        .arg(&driver)
        .arg("dynamic")
        .arg(context.source_root)
        .arg(&out)
        .arg("{}")
        .env("PYTHONPATH", &env)
        .envs(&context.loaded.recipe.build.environment);
    if !run_logged(&mut command, context.log)
        .map_err(io_error(context.log))?
        .success()
    {
        return Err(failed(context, "get_requires_for_build_wheel"));
    }
    let path = out.join("requires.json");
    let text = fs_err::read_to_string(&path).map_err(io_error(&path))?;
    serde_json::from_str(&text).map_err(|_| failed(context, "reading build requirements"))
}

/// The host Python in the sandbox, as [`sandboxed_pip`] runs it.
fn sandboxed_python(context: &BackendContext<'_>, wheelhouse: &Path) -> std::io::Result<Command> {
    let python = &context.toolchain.host_python;
    let mut binds = vec![Bind::Writable(context.work_dir), Bind::ReadOnly(wheelhouse)];
    binds.extend(
        python
            .installation
            .iter()
            .filter(|dir| dir.is_dir())
            .map(|dir| Bind::ReadOnly(dir)),
    );
    let staging = context.work_dir.join("sandbox");
    isolated_command(&python.path, context.work_dir, &staging, &binds)
}

/// `python -m pip` in the sandbox: the work directory writable; the wheelhouse and the Python
/// installation read-only.
fn sandboxed_pip(context: &BackendContext<'_>, wheelhouse: &Path) -> std::io::Result<Command> {
    let mut command = sandboxed_python(context, wheelhouse)?;
    crate::toolchain::HostPython::as_pip(&mut command);
    command.env("PIP_NO_CACHE_DIR", "1");
    Ok(command)
}

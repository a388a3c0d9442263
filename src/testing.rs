//! The test stage: proving a built wheel under a real WASI runtime.
//!
//! `wheelforge test NAME` installs the recipe's wheel and its run requirements from the index
//! with pip (`--platform wasi_0_2_wasm32 --python-version 3.14 --only-binary=:all:`), links them
//! with the recipe's test into a component with componentize-py (as consumers do), and runs it
//! under the embedded wasmtime. The guest's stdout and stderr are returned; a failed import or
//! assertion fails the test with the guest's traceback.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::process::{log_tail, run_logged};
use crate::recipe::RecipeSet;
use crate::reporter::Reporter;
use crate::runtime::link::{TestApp, link_test_component};
use crate::runtime::{RunOptions, run_command};
use crate::tags::{WheelFilename, normalize_name};
use crate::toolchain::install;

#[derive(Debug, thiserror::Error)]
pub enum TestError {
    #[error(transparent)]
    Recipe(#[from] crate::recipe::RecipeError),
    #[error(transparent)]
    Toolchain(#[from] crate::toolchain::ToolchainError),
    #[error("the index {index} has no wheel of {name} {version}\n  help: run `wheelforge build {name}` first", index = index.display())]
    NoWheel {
        name: String,
        version: String,
        index: PathBuf,
    },
    #[error("pip could not install {name} and its run requirements from the index:\n{tail}\n  help: the full log is {log}", log = log.display())]
    Install {
        name: String,
        tail: String,
        log: PathBuf,
    },
    #[error(transparent)]
    Link(#[from] crate::runtime::link::LinkError),
    #[error(transparent)]
    Runtime(#[from] crate::runtime::RuntimeError),
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What consumers pass to `pip install` (with `--target DIR`) to get wheels for the runtime.
pub const CONSUMER_PIP_ARGUMENTS: &[&str] = &[
    "--platform",
    "wasi_0_2_wasm32",
    "--python-version",
    "3.14",
    "--only-binary=:all:",
];

/// Where things are.
#[derive(Debug, Clone)]
pub struct TestSettings {
    pub recipes_dir: PathBuf,
    pub patches_dir: PathBuf,
    pub out_dir: PathBuf,
    pub build_dir: PathBuf,
    pub cache_dir: PathBuf,
}

/// The outcome of one recipe's test.
#[derive(Debug, Clone)]
pub struct TestReport {
    pub recipe: String,
    pub wheel: String,
    pub exit_code: i32,
    /// The wasm trap, if the guest trapped.
    pub trap: Option<String>,
    pub stdout: String,
    pub stderr: String,
    pub link_time: Duration,
    pub run_time: Duration,
}

impl TestReport {
    pub fn passed(&self) -> bool {
        self.exit_code == 0
    }
}

/// The recipe's wheel in the index (exact name and version).
fn find_wheel(packages: &Path, name: &str, version: &str) -> Option<String> {
    let mut found: Vec<String> = fs_err::read_dir(packages)
        .ok()?
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|file| {
            file.parse::<WheelFilename>().is_ok_and(|wheel| {
                wheel.normalized_name() == normalize_name(name) && wheel.version == version
            })
        })
        .collect();
    found.sort();
    found.pop()
}

pub fn test_recipe(
    settings: &TestSettings,
    name: &str,
    reporter: &dyn Reporter,
) -> Result<TestReport, TestError> {
    let _span = tracing::info_span!("test", recipe = name).entered();
    let recipes = RecipeSet::load(&settings.recipes_dir, &settings.patches_dir)?;
    let loaded = recipes.get(name)?;
    let name = loaded.name().to_string();
    let version = loaded.recipe.package.version.to_string();
    let packages = settings.out_dir.join("packages");
    let wheel = find_wheel(&packages, &name, &version).ok_or_else(|| TestError::NoWheel {
        name: name.clone(),
        version: version.clone(),
        index: settings.out_dir.clone(),
    })?;
    let toolchain = install::ensure(&settings.cache_dir, reporter)?;

    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TestError::Io { path, source }
    };
    let work = settings.build_dir.join(normalize_name(&name)).join("test");
    if work.exists() {
        fs_err::remove_dir_all(&work).map_err(io(&work))?;
    }
    let deps = work.join("deps");
    fs_err::create_dir_all(&deps).map_err(io(&deps))?;
    let work = fs_err::canonicalize(&work).map_err(io(&work))?;
    let deps = work.join("deps");
    let log = work.join("test.log");

    reporter.message(&name, "install");
    // The toolchain's CPython 3.14 runs pip, so that Requires-Python and markers are judged
    // for the target's Python version, as on a consumer's 3.14.
    let packages = fs_err::canonicalize(&packages).map_err(io(&packages))?;
    let python = toolchain.host_python.display().to_string();
    let mut pip =
        toolchain
            .sandbox()
            .command(&python, &work, &[work.as_path(), packages.as_path()]);
    pip.args([
        "-m",
        "pip",
        "--disable-pip-version-check",
        "install",
        "--no-index",
    ])
    .arg("--find-links")
    .arg(&packages)
    .args([
        "--platform",
        "wasi_0_2_wasm32",
        "--python-version",
        "3.14",
        "--only-binary=:all:",
        "--target",
    ])
    .arg(&deps)
    .arg(format!("{name}=={version}"));
    if !run_logged(&mut pip, &log).map_err(io(&log))?.success() {
        return Err(TestError::Install {
            name,
            tail: log_tail(&log, 10),
            log,
        });
    }

    reporter.message(&name, "link (componentize-py)");
    let app = TestApp {
        imports: loaded.recipe.test.imports.clone(),
        command: loaded.recipe.test.command.clone(),
    };
    let started = Instant::now();
    let component = link_test_component(&toolchain, &app, &deps, &work, &log)?;
    let link_time = started.elapsed();

    reporter.message(&name, "run (wasmtime)");
    let started = Instant::now();
    let output = run_command(
        &component,
        &RunOptions {
            args: vec!["test".into()],
            cache_dir: Some(settings.cache_dir.join("runtime")),
            ..Default::default()
        },
    )?;
    Ok(TestReport {
        recipe: name,
        wheel,
        exit_code: output.exit_code,
        trap: output.trap,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        link_time,
        run_time: started.elapsed(),
    })
}

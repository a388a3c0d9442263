//! The test stage: proving a built wheel under a real WASI runtime.
//!
//! `wheelforge test NAME` installs the recipe's wheel and its run requirements from the index
//! with pip (`--platform wasi_0_2_wasm32 --python-version 3.14 --only-binary=:all:`), links them
//! with the recipe's test into a component with componentize-py (as consumers do), and runs it
//! under the embedded wasmtime. The guest's stdout and stderr are returned; a failed import or
//! assertion fails the test with the guest's traceback.

mod library;
pub mod suite;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::process::{log_tail, run_logged};
use crate::recipe::RecipeSet;
use crate::reporter::Reporter;
use crate::runtime::{OutputMode, RunOptions, run_command};
use crate::tags::{WheelFilename, normalize_name};
use crate::toolchain::install;
use crate::toolchain::link::{PYTEST_DRIVER_NAME, TestApp, guest, link_test_component};

#[derive(Debug, thiserror::Error)]
pub enum TestError {
    #[error(transparent)]
    Recipe(#[from] crate::recipe::RecipeError),
    /// The source tree that holds the suite (`test.pytest.files`) could not be prepared.
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    #[error(transparent)]
    Toolchain(#[from] crate::toolchain::ToolchainError),
    #[error("the index {index} has no wheel of {name} {version}\n  help: run `wheelforge build {name}` first", index = index.display())]
    NoWheel {
        name: String,
        version: String,
        index: PathBuf,
    },
    #[error("the index {index} has no wheel of {requirement} {version}, which {name}'s test requires\n  help: run `wheelforge build {name}`: it builds test requirements into the index too", index = index.display())]
    NoTestRequirement {
        name: String,
        requirement: String,
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
    Link(#[from] crate::toolchain::link::LinkError),
    #[error(transparent)]
    Runtime(#[from] crate::runtime::RuntimeError),
    #[error("{dir} has no verified library archive {file} of {name}\n  help: run `wheelforge build {name}` first (with the same --out and --build-dir)", dir = dir.display())]
    NoLibrary {
        name: String,
        file: String,
        dir: PathBuf,
    },
    #[error("the test program could not be built: {detail}")]
    Program { detail: String },
    #[error("the test suite could not run: {detail}")]
    Suite { detail: String },
    #[error("the native reference run could not install {name} {version}:\n{tail}\n  help: it needs a binary wheel for this machine from pip's index; pass --no-native to skip the comparison; the full log is {log}", log = log.display())]
    NativeInstall {
        name: String,
        version: String,
        tail: String,
        log: PathBuf,
    },
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
    /// Generated recipes of projects built without one (`build PATH`, `--sdist`), added to
    /// the recipes directory's.
    pub local_recipes: Vec<PathBuf>,
    pub patches_dir: PathBuf,
    pub out_dir: PathBuf,
    pub build_dir: PathBuf,
    pub cache_dir: PathBuf,
    /// Run the recipe's pytest suite (`test.pytest`) after the smoke test.
    pub pytest: bool,
    /// Also run the recipe's pytest suite natively, for the reference counts.
    pub native: bool,
    /// Test this variant's wheel (`--variant`, from the variant's index); its test
    /// requirements still come from the main index.
    pub variant: Option<String>,
    /// Replaces the recipe's `test.pytest.args` (the selection), keeping its skip list and
    /// pass ratio (`--pytest-args`, e.g. one subpackage).
    pub pytest_args: Option<Vec<String>>,
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
    /// The upstream test suite, when the recipe has `test.pytest`.
    pub suite: Option<suite::SuiteReport>,
    /// Where the suite's logs and `report.json` are.
    pub suite_dir: Option<PathBuf>,
}

impl TestReport {
    /// The smoke test's report (the suite, if any, is added after).
    fn of_run(
        recipe: String,
        wheel: String,
        output: crate::runtime::RunOutput,
        link_time: Duration,
        run_time: Duration,
    ) -> TestReport {
        TestReport {
            recipe,
            wheel,
            exit_code: output.exit_code,
            trap: output.trap,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            link_time,
            run_time,
            suite: None,
            suite_dir: None,
        }
    }

    pub fn passed(&self) -> bool {
        self.exit_code == 0 && self.suite.as_ref().is_none_or(suite::SuiteReport::passed)
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
    let recipes = load_recipes(settings, name)?;
    let loaded = recipes.get(name)?;
    if loaded.recipe.build.backend == crate::recipe::BackendKind::StaticLibrary {
        return library::test_library(settings, &recipes, loaded, reporter);
    }
    let wheels = TestWheels::find(settings, &recipes, loaded)?;
    let toolchain = install::ensure(&settings.cache_dir, reporter)?;
    let job = TestJob::create(settings, &recipes, loaded, &toolchain, reporter)?;
    let packages = job.install(&wheels)?;
    let suite_spec = suite_spec(settings, loaded);
    let (component, mut report) = job.smoke_test(&wheels.wheel, suite_spec.is_some())?;
    let Some(spec) = suite_spec else {
        return Ok(report);
    };
    if !report.passed() {
        // The smoke test failed: the suite would only repeat the failure.
        return Ok(report);
    }
    let suite_dir = job.work.join("pytest");
    report.suite = Some(job.suites(&packages, &component, &spec, &suite_dir)?);
    report.suite_dir = Some(suite_dir);
    Ok(report)
}

/// The recipes, with the settings' local recipes and the variant applied to `name`.
fn load_recipes(settings: &TestSettings, name: &str) -> Result<RecipeSet, TestError> {
    let mut recipes = RecipeSet::load(&settings.recipes_dir, &settings.patches_dir)?;
    for path in &settings.local_recipes {
        recipes.insert(crate::recipe::load_recipe(path, &settings.patches_dir)?);
    }
    if let Some(variant) = &settings.variant {
        recipes.apply_variant(name, variant)?;
    }
    Ok(recipes)
}

/// The recipe's wheel (a variant's is in the variant's own index) and the index with the
/// test requirements' wheels, each checked to be there.
struct TestWheels {
    wheel: String,
    /// The index directory of the wheel.
    own_out: PathBuf,
}

impl TestWheels {
    fn find(
        settings: &TestSettings,
        recipes: &RecipeSet,
        loaded: &crate::recipe::LoadedRecipe,
    ) -> Result<TestWheels, TestError> {
        let name = loaded.name().to_string();
        let version = loaded.recipe.package.version.to_string();
        let own_out = match &loaded.variant {
            Some(variant) => crate::paths::variant_out_dir(&settings.out_dir, variant),
            None => settings.out_dir.clone(),
        };
        let wheel = find_wheel(&own_out.join("packages"), &name, &version).ok_or_else(|| {
            TestError::NoWheel {
                name: name.clone(),
                version: version.clone(),
                index: own_out.clone(),
            }
        })?;
        let packages = settings.out_dir.join("packages");
        for requirement in &loaded.recipe.test.requires {
            let required = recipes.get(requirement.as_str())?;
            let required_version = required.recipe.package.version.to_string();
            if find_wheel(&packages, required.name(), &required_version).is_none() {
                return Err(TestError::NoTestRequirement {
                    name,
                    requirement: required.name().to_string(),
                    version: required_version,
                    index: settings.out_dir.clone(),
                });
            }
        }
        Ok(TestWheels { wheel, own_out })
    }
}

/// The recipe's `test.pytest`, if the settings run suites, with the settings' arguments.
fn suite_spec(
    settings: &TestSettings,
    loaded: &crate::recipe::LoadedRecipe,
) -> Option<crate::recipe::PytestSuite> {
    let mut spec = loaded
        .recipe
        .test
        .pytest
        .clone()
        .filter(|_| settings.pytest)?;
    if let Some(args) = &settings.pytest_args {
        spec.args = args.clone();
    }
    Some(spec)
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> TestError + '_ {
    move |source| TestError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One recipe's test: what its steps share, and its fresh work directory (`test/` in the
/// recipe's build directory, with `deps/` for the installed wheels and `test.log`).
struct TestJob<'a> {
    settings: &'a TestSettings,
    recipes: &'a RecipeSet,
    loaded: &'a crate::recipe::LoadedRecipe,
    toolchain: &'a crate::toolchain::WasiToolchain,
    reporter: &'a dyn Reporter,
    name: String,
    work: PathBuf,
    deps: PathBuf,
    log: PathBuf,
}

impl<'a> TestJob<'a> {
    fn create(
        settings: &'a TestSettings,
        recipes: &'a RecipeSet,
        loaded: &'a crate::recipe::LoadedRecipe,
        toolchain: &'a crate::toolchain::WasiToolchain,
        reporter: &'a dyn Reporter,
    ) -> Result<TestJob<'a>, TestError> {
        let work = settings.build_dir.join(loaded.work_name()).join("test");
        if work.exists() {
            fs_err::remove_dir_all(&work).map_err(io_error(&work))?;
        }
        let deps = work.join("deps");
        fs_err::create_dir_all(&deps).map_err(io_error(&deps))?;
        let work = fs_err::canonicalize(&work).map_err(io_error(&work))?;
        Ok(TestJob {
            settings,
            recipes,
            loaded,
            toolchain,
            reporter,
            name: loaded.name().to_string(),
            deps: work.join("deps"),
            log: work.join("test.log"),
            work,
        })
    }

    /// Installs the wheel and the test requirements into `deps/` as a consumer does; returns
    /// the index's `packages/` directory (canonical).
    fn install(&self, wheels: &TestWheels) -> Result<PathBuf, TestError> {
        self.reporter.message(&self.name, "install");
        // The toolchain's CPython 3.14 runs pip, so that Requires-Python and markers are
        // judged for the target's Python version, as on a consumer's 3.14.
        let packages = self.settings.out_dir.join("packages");
        let packages = fs_err::canonicalize(&packages).map_err(io_error(&packages))?;
        let own_packages = wheels.own_out.join("packages");
        let own_packages = fs_err::canonicalize(&own_packages).map_err(io_error(&own_packages))?;
        let python = self.toolchain.host_python.display().to_string();
        let mut binds = vec![self.work.as_path(), packages.as_path()];
        if own_packages != packages {
            binds.push(own_packages.as_path());
        }
        let mut pip = self
            .toolchain
            .sandbox()
            .command(&python, &self.work, &binds);
        pip.args([
            "-m",
            "pip",
            "--disable-pip-version-check",
            "install",
            "--no-index",
        ])
        .arg("--find-links")
        .arg(&packages)
        .args(CONSUMER_PIP_ARGUMENTS)
        .arg("--target")
        .arg(&self.deps)
        // The wheel itself by path: a variant's wheel has the default build's name.
        .arg(own_packages.join(&wheels.wheel))
        .args(test_requirements(
            self.recipes,
            &self.loaded.recipe.test.requires,
        ));
        if !run_logged(&mut pip, &self.log)
            .map_err(io_error(&self.log))?
            .success()
        {
            return Err(TestError::Install {
                name: self.name.clone(),
                tail: log_tail(&self.log, 10),
                log: self.log.clone(),
            });
        }
        Ok(packages)
    }

    /// Links the test component (with the pytest driver if a suite follows) and runs the
    /// recipe's imports and command in it.
    fn smoke_test(&self, wheel: &str, pytest: bool) -> Result<(PathBuf, TestReport), TestError> {
        self.reporter.message(&self.name, "link (componentize-py)");
        let app = TestApp {
            imports: self.loaded.recipe.test.imports.clone(),
            command: self.loaded.recipe.test.command.clone(),
            link_code: None,
            pytest,
        };
        let started = Instant::now();
        let component =
            link_test_component(self.toolchain, &app, &self.deps, &self.work, &self.log)?;
        let link_time = started.elapsed();

        self.reporter.message(&self.name, "run (wasmtime)");
        let started = Instant::now();
        let output = run_command(
            &component,
            &RunOptions {
                args: vec!["test".into()],
                cache_dir: Some(self.settings.cache_dir.join("runtime")),
                ..Default::default()
            },
        )?;
        let report = TestReport::of_run(
            self.name.clone(),
            wheel.to_string(),
            output,
            link_time,
            started.elapsed(),
        );
        Ok((component, report))
    }

    /// A suite outside the wheel (`test.pytest.files`) comes from the recipe's source tree
    /// (the cached sdist, with its patches), copied beside the installed wheel; returns the
    /// tree.
    fn suite_files(&self, files: &[String]) -> Result<Option<PathBuf>, TestError> {
        if files.is_empty() {
            return Ok(None);
        }
        self.reporter
            .message(&self.name, "the suite's files from the source tree");
        let tree = prepare_source_tree(
            self.settings,
            self.toolchain,
            self.loaded,
            &self.work,
            &self.log,
            self.reporter,
        )?;
        copy_suite_files(&tree, files, &self.deps)?;
        Ok(Some(tree))
    }

    /// The recipe's pytest suite under WASI and, alongside, natively; compared and written
    /// into `suite_dir`.
    fn suites(
        &self,
        packages: &Path,
        component: &Path,
        spec: &crate::recipe::PytestSuite,
        suite_dir: &Path,
    ) -> Result<suite::SuiteReport, TestError> {
        let files = &spec.files;
        let sdist = self.suite_files(files)?;
        let skips: Vec<(String, String)> = spec
            .skip
            .iter()
            .map(|entry| {
                (
                    entry.test.trim().to_string(),
                    entry.reason.trim().to_string(),
                )
            })
            .collect();
        // The native reference run needs only the host's CPU while the WASI run mostly keeps
        // one core busy: they run side by side.
        let (wasi, native) = std::thread::scope(|scope| {
            let native = self.settings.native.then(|| {
                scope.spawn(|| {
                    self.reporter
                        .message(&self.name, "pytest natively (reference), alongside");
                    run_native_suite(
                        self.toolchain,
                        self.recipes,
                        self.loaded,
                        packages,
                        &self.work,
                        &suite_dir.join("native"),
                        &spec.args,
                        sdist.as_deref().map(|tree| (tree, files.as_slice())),
                        spec.run_in_files,
                        self.reporter,
                    )
                })
            });
            self.reporter.message(&self.name, "pytest under WASI");
            let wasi = run_wasi_suite(
                self.settings,
                self.toolchain,
                component,
                &self.deps,
                &suite_dir.join("wasi"),
                &suite_args(&spec.args, files, guest::DEPS),
                &skips,
                spec.run_in_files,
                self.reporter,
                &self.name,
            );
            let native = native.map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            });
            (wasi, native)
        });
        let mut wasi = wasi?;
        if self.settings.pytest_args.is_some() {
            // Another selection than the recipe's: entries outside it match nothing, by design.
            wasi.unused_skips.clear();
        }
        let native = native.transpose()?;
        let comparison = native.as_ref().map(|native| suite::compare(&wasi, native));
        let suite_report = suite::SuiteReport {
            wasi,
            native,
            comparison,
            required_ratio: spec.pass_ratio,
            skip_entries: skips.len(),
        };
        suite::write_report(&suite_report, suite_dir)?;
        Ok(suite_report)
    }
}

/// Where `test.pytest.files` are copied, inside the directory the wheel is installed in (so
/// node ids and skip entries, relative to that directory, start with it). Not a valid module
/// name, so nothing imports it as a package.
pub const SDIST_TESTS_DIR: &str = "sdist-tests";

/// The recipe's source tree, as the build prepared it (fetched from the source cache by
/// digest, unpacked, patched), in the test's work directory.
fn prepare_source_tree(
    settings: &TestSettings,
    toolchain: &crate::toolchain::WasiToolchain,
    loaded: &crate::recipe::LoadedRecipe,
    work: &Path,
    log: &Path,
    reporter: &dyn Reporter,
) -> Result<PathBuf, TestError> {
    let host = crate::toolchain::Toolchain::discover()?;
    let fetched = crate::source::SourceCache::new(&settings.cache_dir).fetch(
        loaded,
        &host.host_python,
        &crate::source::FetchSettings {
            index_url: None,
            debian_root: Some(toolchain.clone()),
        },
        log,
        reporter,
    )?;
    Ok(crate::source::prepare_tree(
        &fetched,
        loaded,
        &settings.patches_dir,
        &work.join("sdist"),
        reporter,
    )?)
}

/// Copies `files` of the source `tree` into `installed`'s [`SDIST_TESTS_DIR`].
fn copy_suite_files(tree: &Path, files: &[String], installed: &Path) -> Result<(), TestError> {
    let target = installed.join(SDIST_TESTS_DIR);
    for file in files {
        let from = tree.join(file);
        let to = target.join(file);
        if from.is_dir() {
            crate::source::unpack::copy_tree(&from, &to)
                .map_err(crate::source::SourceError::from)?;
        } else if from.is_file() {
            if let Some(parent) = to.parent() {
                fs_err::create_dir_all(parent).map_err(|source| TestError::Io {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            fs_err::copy(&from, &to).map_err(|source| TestError::Io {
                path: from.clone(),
                source,
            })?;
        } else {
            return Err(TestError::Suite {
                detail: format!(
                    "test.pytest.files names `{file}`, which the source tree {} does not have\n  help: name a file or directory of the sdist (after its patches)",
                    tree.display()
                ),
            });
        }
    }
    Ok(())
}

/// The suite's arguments for a run whose wheel is installed in `installed`: an argument that
/// is one of `files`, or a path or node id inside one, names its copy there.
fn suite_args(args: &[String], files: &[String], installed: &str) -> Vec<String> {
    args.iter()
        .map(|arg| {
            let inside = files.iter().any(|file| {
                arg == file
                    || arg
                        .strip_prefix(file.as_str())
                        .is_some_and(|rest| rest.starts_with('/') || rest.starts_with("::"))
            });
            if inside {
                format!(
                    "{}/{SDIST_TESTS_DIR}/{arg}",
                    installed.trim_end_matches('/')
                )
            } else {
                arg.clone()
            }
        })
        .collect()
}

/// `name==version` for each test requirement that has a recipe (the graph checked they do).
fn test_requirements(recipes: &RecipeSet, names: &[crate::recipe::PackageName]) -> Vec<String> {
    names
        .iter()
        .filter_map(|name| recipes.get(name.as_str()).ok())
        .map(|recipe| format!("{}=={}", recipe.name(), recipe.recipe.package.version))
        .collect()
}

/// A test that records no progress for this long under WASI is stopped and counted as timed
/// out; the suite continues after it.
const TEST_IDLE_LIMIT: Duration = Duration::from_secs(180);

/// pytest arguments every run gets: no cache directory, no fault handler (no signals on
/// WASI), capture at the `sys` level (WASI has no `dup`), a file that cannot be collected is
/// an error but not the end of the run, quiet.
const PYTEST_BASE_ARGS: &[&str] = &[
    "-p",
    "no:cacheprovider",
    "-p",
    "no:faulthandler",
    "--capture=sys",
    "--continue-on-collection-errors",
    "-q",
    "-rN",
];

fn pytest_args(recipe_args: &[String]) -> Vec<String> {
    PYTEST_BASE_ARGS
        .iter()
        .map(|arg| arg.to_string())
        .chain(recipe_args.iter().cloned())
        .collect()
}

/// The suite under the embedded wasmtime, in the linked component, with the directories the
/// snapshot expects mounted where componentize-py mounted them.
#[allow(clippy::too_many_arguments)]
fn run_wasi_suite(
    settings: &TestSettings,
    toolchain: &crate::toolchain::WasiToolchain,
    component: &Path,
    deps: &Path,
    dir: &Path,
    args: &[String],
    skips: &[(String, String)],
    in_files: bool,
    reporter: &dyn Reporter,
    name: &str,
) -> Result<suite::RunResult, TestError> {
    let stdlib = toolchain.runtime_stdlib();
    if !stdlib.is_dir() {
        return Err(TestError::Suite {
            detail: format!(
                "the runtime's standard library is missing at {}\n  help: run `wheelforge toolchain install --force`",
                stdlib.display()
            ),
        });
    }
    let tmp = dir.join("tmp");
    let dev = dir.join("dev");
    let root = dir.join("root");
    for made in [&tmp, &dev, &root] {
        fs_err::create_dir_all(made).map_err(io_error(made))?;
    }
    fs_err::write(dev.join("null"), "").map_err(io_error(&dev))?;
    for mount in [
        guest::STDLIB,
        guest::APP,
        guest::DEPS,
        guest::RESULTS,
        guest::TMP,
        guest::DEV,
    ] {
        let point = root.join(mount.trim_start_matches('/'));
        fs_err::create_dir_all(&point).map_err(io_error(&point))?;
    }
    let app = component.with_file_name("app");
    let log = dir.join("pytest.log");
    let mut attempt = WasiAttempt {
        component: component.to_path_buf(),
        options: RunOptions {
            args: vec!["test".into(), "pytest".into()],
            env: vec![
                ("TMPDIR".into(), guest::TMP.into()),
                ("HOME".into(), guest::TMP.into()),
                ("PYTHONHASHSEED".into(), "0".into()),
            ],
            preopens: vec![
                (root, guest::ROOT.into()),
                (stdlib, guest::STDLIB.into()),
                (app, guest::APP.into()),
                (deps.to_path_buf(), guest::DEPS.into()),
                (dir.to_path_buf(), guest::RESULTS.into()),
                (tmp, guest::TMP.into()),
                (dev, guest::DEV.into()),
            ],
            cache_dir: Some(settings.cache_dir.join("runtime")),
            output: OutputMode::File(log.clone()),
            idle_watch: Some((dir.join("progress.jsonl"), TEST_IDLE_LIMIT)),
            inherit_stdin: false,
        },
        count: 0,
    };
    let config = suite::DriverConfig {
        args: pytest_args(args),
        roots: vec![guest::DEPS.into()],
        skips: skips.to_vec(),
        chdir: in_files.then(|| format!("{}/{SDIST_TESTS_DIR}", guest::DEPS)),
    };
    suite::run_suite(&config, dir, &mut attempt, &mut |line| {
        reporter.message(name, line)
    })
}

struct WasiAttempt {
    component: PathBuf,
    options: RunOptions,
    count: usize,
}

impl suite::Attempt for WasiAttempt {
    fn run(&mut self) -> Result<Option<String>, TestError> {
        self.count += 1;
        // Each attempt's output goes to its own log: pytest.log, pytest.2.log, ...
        let mut options = self.options.clone();
        if let (OutputMode::File(path), true) = (&options.output, self.count > 1) {
            options.output = OutputMode::File(path.with_extension(format!("{}.log", self.count)));
        }
        let output = run_command(&self.component, &options)?;
        // The trap is not in the guest's output: add it to the attempt's log.
        if let (OutputMode::File(path), Some(trap)) = (&options.output, &output.trap) {
            use std::io::Write;
            let mut log = fs_err::OpenOptions::new()
                .append(true)
                .open(path)
                .map_err(|source| TestError::Io {
                    path: path.clone(),
                    source,
                })?;
            writeln!(log, "\nwheelforge: the guest trapped: {trap}").map_err(|source| {
                TestError::Io {
                    path: path.clone(),
                    source,
                }
            })?;
        }
        Ok(match (output.trap, output.exit_code) {
            (Some(trap), _) if trap.starts_with(crate::runtime::IDLE_INTERRUPT) => {
                Some(trap.lines().next().unwrap_or_default().to_string())
            }
            (Some(trap), _) => Some(format!(
                "wasm trap: {}",
                trap.lines().last().unwrap_or_default().trim()
            )),
            (None, 0) => None,
            (None, code) => Some(format!("exit status {code}")),
        })
    }
}

/// The same suite on the build machine's CPython 3.14, with the same version of the package
/// from pip's index (a binary wheel for this machine) and the test requirements from ours.
#[allow(clippy::too_many_arguments)]
fn run_native_suite(
    toolchain: &crate::toolchain::WasiToolchain,
    recipes: &RecipeSet,
    loaded: &crate::recipe::LoadedRecipe,
    packages: &Path,
    work: &Path,
    dir: &Path,
    args: &[String],
    sdist: Option<(&Path, &[String])>,
    in_files: bool,
    reporter: &dyn Reporter,
) -> Result<suite::RunResult, TestError> {
    let name = loaded.name().to_string();
    let version = loaded.recipe.package.version.to_string();
    let native_deps = work.join("native-deps");
    let tmp = dir.join("tmp");
    fs_err::create_dir_all(&tmp).map_err(io_error(&tmp))?;
    let log = dir.join("install.log");
    let python = toolchain.host_python.display().to_string();
    let mut pip = toolchain
        .sandbox()
        .command(&python, work, &[work, packages]);
    pip.args([
        "-m",
        "pip",
        "--disable-pip-version-check",
        "install",
        "--only-binary=:all:",
        "--find-links",
    ])
    .arg(packages)
    .arg("--target")
    .arg(&native_deps)
    .arg(format!("{name}=={version}"))
    .args(test_requirements(recipes, &loaded.recipe.test.requires));
    if !run_logged(&mut pip, &log)
        .map_err(io_error(&log))?
        .success()
    {
        return Err(TestError::NativeInstall {
            name,
            version,
            tail: log_tail(&log, 10),
            log,
        });
    }
    let args = match sdist {
        Some((tree, files)) => {
            copy_suite_files(tree, files, &native_deps)?;
            suite_args(args, files, &native_deps.display().to_string())
        }
        None => args.to_vec(),
    };
    let driver = work.join("app").join(PYTEST_DRIVER_NAME);
    let config = suite::DriverConfig {
        args: pytest_args(&args),
        roots: vec![native_deps.display().to_string()],
        skips: Vec::new(),
        chdir: in_files.then(|| native_deps.join(SDIST_TESTS_DIR).display().to_string()),
    };
    let mut attempt = NativeAttempt {
        toolchain,
        python,
        driver,
        dir: dir.to_path_buf(),
        work: work.to_path_buf(),
        native_deps,
        tmp,
        count: 0,
    };
    suite::run_suite(&config, dir, &mut attempt, &mut |line| {
        reporter.message(&name, line)
    })
}

struct NativeAttempt<'a> {
    toolchain: &'a crate::toolchain::WasiToolchain,
    python: String,
    driver: PathBuf,
    dir: PathBuf,
    work: PathBuf,
    native_deps: PathBuf,
    tmp: PathBuf,
    count: usize,
}

impl suite::Attempt for NativeAttempt<'_> {
    fn run(&mut self) -> Result<Option<String>, TestError> {
        self.count += 1;
        let mut command =
            self.toolchain
                .sandbox()
                .command(&self.python, &self.tmp, &[self.work.as_path()]);
        command
            .arg(&self.driver)
            .arg(self.dir.join("config.json"))
            .arg(&self.dir)
            .env("PYTHONPATH", &self.native_deps)
            .env("TMPDIR", &self.tmp)
            .env("PYTHONHASHSEED", "0");
        let log = self.dir.join(if self.count == 1 {
            "pytest.log".to_string()
        } else {
            format!("pytest.{}.log", self.count)
        });
        let status = run_logged(&mut command, &log).map_err(|source| TestError::Io {
            path: log.clone(),
            source,
        })?;
        Ok((!status.success()).then(|| format!("{status}")))
    }
}

#[cfg(test)]
mod tests {
    use super::suite_args;

    #[test]
    fn arguments_inside_the_suite_files_name_their_copies() {
        let args: Vec<String> = [
            "tests",
            "tests/test_a.py::test_b",
            "-k",
            "not slow",
            "testsuite",
            "--pyargs",
            "pkg",
        ]
        .map(str::to_string)
        .to_vec();
        assert_eq!(
            suite_args(&args, &["tests".to_string()], "/1/"),
            [
                "/1/sdist-tests/tests",
                "/1/sdist-tests/tests/test_a.py::test_b",
                "-k",
                "not slow",
                "testsuite",
                "--pyargs",
                "pkg"
            ]
        );
    }
}

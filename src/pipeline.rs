//! The build driver: recipe → graph → plan → fetch → patch → build → repair → index → report.
//!
//! [`run_build`] reads top to bottom as the pipeline's named stages. Independent recipes of one
//! dependency level build in parallel on a rayon pool of `jobs` threads; a recipe whose host
//! requirement failed is skipped, and unrelated recipes go on. Each recipe has a work directory
//! `build/<name>/` with `build.log` and `state.json` (the rebuild key of the wheels it last put in
//! the index). This module owns the order and bookkeeping; each stage's work is in its module.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::backend::host_env::HostWheel;
use crate::backend::{self, BackendContext, RecipeContext};
use crate::graph::{self, BuildGraph, Target};
use crate::index::Index;
use crate::plan::BuildPlan;
use crate::recipe::BackendKind;
use crate::recipe::{LoadedRecipe, RecipeSet, load_recipe};
use crate::reporter::{Reporter, Stage};
use crate::source::{self, FetchSettings, SourceCache, sha256_file};
use crate::toolchain::fortran::install::FortranToolchain;
use crate::toolchain::rust::RustToolchain;
use crate::toolchain::{Toolchain, WasiToolchain, install};
use crate::wheel::repair::{RepairOptions, repair};

/// Where things are and how to run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub recipes_dir: PathBuf,
    pub patches_dir: PathBuf,
    /// The static index (`packages/`, `simple/`).
    pub out_dir: PathBuf,
    /// Per-recipe work directories and logs.
    pub build_dir: PathBuf,
    /// Downloads and build tools (`~/.cache/wheelforge`).
    pub cache_dir: PathBuf,
    pub jobs: usize,
    pub force: bool,
    /// Keep building unrelated recipes after a failure.
    pub keep_going: bool,
    pub index_url: Option<String>,
    /// Build this variant of the single named target (`--variant`), into
    /// [`variant_out_dir`] rather than the index.
    pub variant: Option<String>,
    /// Generated recipes (`wheelforge build PATH` / `--sdist FILE`, [`crate::local`]) added to
    /// the recipe set, each replacing a recipe of its name.
    pub local_recipes: Vec<PathBuf>,
}

/// The main index and, in a variant build, the variant's index.
struct Indexes {
    main: Index,
    variant: Option<Index>,
}

impl Indexes {
    /// The output's index, and the variant's own when the settings build one.
    fn open(settings: &Settings) -> Result<Indexes, PipelineError> {
        Ok(Indexes {
            main: Index::open(&settings.out_dir)?,
            variant: match &settings.variant {
                Some(variant) => Some(Index::open(&variant_out_dir(&settings.out_dir, variant))?),
                None => None,
            },
        })
    }

    fn of(&self, loaded: &LoadedRecipe) -> &Index {
        match (&loaded.variant, &self.variant) {
            (Some(_), Some(variant)) => variant,
            _ => &self.main,
        }
    }
}

pub use crate::outcome::{BuildError, Outcome, RecipeResult, RunSummary};
pub use crate::paths::variant_out_dir;

/// Errors that stop a whole run before any recipe builds.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Recipe(#[from] crate::recipe::RecipeError),
    #[error(transparent)]
    Graph(#[from] crate::graph::GraphError),
    #[error(transparent)]
    Toolchain(#[from] crate::toolchain::ToolchainError),
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    #[error(
        "--variant {variant} needs exactly one recipe name as the target\n  help: build the variant on its own, e.g. `wheelforge build numpy --variant {variant}`"
    )]
    VariantTargets { variant: String },
    #[error("cannot read patches for the build plan of `{recipe}`: {source}")]
    Plan {
        recipe: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    #[error("cannot start {jobs} build threads: {detail}")]
    Threads { jobs: usize, detail: String },
}

/// What `state.json` remembers about the last successful build of a recipe.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct BuildState {
    key: String,
    /// Wheel file name → SHA-256 of the file put in the index.
    wheels: BTreeMap<String, String>,
}

/// Builds `targets` and everything they need into the index at `settings.out_dir`.
pub fn run_build(
    settings: &Settings,
    targets: &[Target],
    reporter: &dyn Reporter,
) -> Result<RunSummary, PipelineError> {
    let _span = tracing::info_span!("run_build").entered();
    let recipes = load_recipes(settings, targets)?;
    let graph = graph::select(&recipes, targets)?;
    let toolchain = Toolchain::discover()?;
    let parts = ToolchainParts::ensure(settings, &recipes, &graph, reporter)?;
    let plans = evaluate_plans(
        &recipes,
        &graph,
        &settings.patches_dir,
        &toolchain,
        parts.wasi.as_ref(),
        parts.fortran.as_ref(),
        parts.rust.as_ref(),
    )?;
    let run = Run {
        settings,
        recipes: &recipes,
        graph: &graph,
        plans: &plans,
        toolchain: &toolchain,
        parts: &parts,
        indexes: Indexes::open(settings)?,
        sources: SourceCache::new(&settings.cache_dir),
        reporter,
        outcomes: Mutex::new(BTreeMap::new()),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.jobs.max(1))
        .build()
        .map_err(|error| PipelineError::Threads {
            jobs: settings.jobs,
            detail: error.to_string(),
        })?;
    let mut results = Vec::new();
    let mut stop_reason: Option<String> = None;
    for level in &graph.levels {
        let level_results: Vec<RecipeResult> = pool.install(|| {
            level
                .par_iter()
                .map(|name| run.recipe(name, stop_reason.as_deref()))
                .collect()
        });
        if !settings.keep_going && stop_reason.is_none() {
            stop_reason = level_results
                .iter()
                .find(|r| matches!(r.outcome, Outcome::Failed { .. }))
                .map(|failed| {
                    format!(
                        "the run stopped after `{}` failed (use --keep-going to build unrelated recipes)",
                        failed.name
                    )
                });
        }
        results.extend(level_results);
    }
    let summary = RunSummary { results };
    crate::report::write(&summary, &settings.build_dir, &settings.out_dir)?;
    Ok(summary)
}

/// The recipes, with the settings' local recipes and the variant applied to the one target.
fn load_recipes(settings: &Settings, targets: &[Target]) -> Result<RecipeSet, PipelineError> {
    let mut recipes = RecipeSet::load(&settings.recipes_dir, &settings.patches_dir)?;
    for path in &settings.local_recipes {
        recipes.insert(load_recipe(path, &settings.patches_dir)?);
    }
    if let Some(variant) = &settings.variant {
        let [Target::Name(name)] = targets else {
            return Err(PipelineError::VariantTargets {
                variant: variant.clone(),
            });
        };
        recipes.apply_variant(name, variant)?;
    }
    Ok(recipes)
}

/// The parts of the toolchain the selected recipes need, installed on first use.
struct ToolchainParts {
    wasi: Option<WasiToolchain>,
    fortran: Option<FortranToolchain>,
    rust: Option<RustToolchain>,
}

impl ToolchainParts {
    fn ensure(
        settings: &Settings,
        recipes: &RecipeSet,
        graph: &BuildGraph,
        reporter: &dyn Reporter,
    ) -> Result<ToolchainParts, PipelineError> {
        let any = |wanted: fn(&crate::recipe::Recipe) -> bool| {
            graph
                .order()
                .any(|name| wanted(&recipes.recipes[name].recipe))
        };
        let (wasi, fortran) = if any(|recipe| recipe.build.fortran) {
            let (wasi, fortran) =
                crate::toolchain::fortran::install::ensure(&settings.cache_dir, reporter)?;
            (Some(wasi), Some(fortran))
        } else if any(|recipe| {
            recipe.build.backend != BackendKind::Pure || recipe.source.debian.is_some()
        }) {
            (Some(install::ensure(&settings.cache_dir, reporter)?), None)
        } else {
            (None, None)
        };
        let rust = if any(|recipe| recipe.build.uses_rust()) {
            Some(crate::toolchain::rust::ensure(&settings.cache_dir, reporter)?.1)
        } else {
            None
        };
        Ok(ToolchainParts {
            wasi,
            fortran,
            rust,
        })
    }
}

/// What every recipe of one run shares, and the outcomes so far.
struct Run<'a> {
    settings: &'a Settings,
    recipes: &'a RecipeSet,
    graph: &'a BuildGraph,
    plans: &'a BTreeMap<String, BuildPlan>,
    toolchain: &'a Toolchain,
    parts: &'a ToolchainParts,
    indexes: Indexes,
    sources: SourceCache,
    reporter: &'a dyn Reporter,
    outcomes: Mutex<BTreeMap<String, Outcome>>,
}

impl Run<'_> {
    /// Builds `name`, or skips it when a host requirement did not succeed or the run stopped.
    fn recipe(&self, name: &String, stop_reason: Option<&str>) -> RecipeResult {
        let started = Instant::now();
        let loaded = &self.recipes.recipes[name];
        let work_dir = self.settings.build_dir.join(loaded.work_name());
        let log = work_dir.join("build.log");
        let blocked = blocked_by(
            name,
            self.graph,
            &self.outcomes.lock().expect("not poisoned"),
        )
        .or_else(|| stop_reason.map(str::to_string));
        let outcome = match blocked {
            Some(because) => Outcome::Skipped { because },
            None => {
                let host_wheels = host_wheels(
                    name,
                    self.graph,
                    self.recipes,
                    &self.outcomes.lock().expect("not poisoned"),
                    &self.indexes,
                    self.settings,
                );
                let index = self.indexes.of(loaded);
                let packages_dir = index.packages_dir();
                let recipe = &loaded.recipe;
                RecipeJob {
                    context: RecipeContext {
                        loaded,
                        work_dir: &work_dir,
                        log: &log,
                        toolchain: self.toolchain,
                        cache_dir: &self.settings.cache_dir,
                        index_url: self.settings.index_url.as_deref(),
                        wasi: self.parts.wasi.as_ref(),
                        host_wheels: &host_wheels,
                        packages_dir: &packages_dir,
                        // Only a recipe that declares Fortran sees it (its rebuild key has the
                        // identity), and Rust only one that builds Rust.
                        fortran: self.parts.fortran.as_ref().filter(|_| recipe.build.fortran),
                        rust: self
                            .parts
                            .rust
                            .as_ref()
                            .filter(|_| recipe.build.uses_rust()),
                    },
                    plan: &self.plans[name],
                    settings: self.settings,
                    index,
                    sources: &self.sources,
                    reporter: self.reporter,
                }
                .run()
            }
        };
        self.reporter.finished(name, &describe(&outcome));
        self.outcomes
            .lock()
            .expect("not poisoned")
            .insert(name.clone(), outcome.clone());
        RecipeResult {
            name: name.clone(),
            outcome,
            duration: started.elapsed(),
            log,
        }
    }
}

/// One line for the reporter.
fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Built { wheels } => format!("built {}", wheels.join(", ")),
        Outcome::Cached { wheels } => format!("cached {}", wheels.join(", ")),
        Outcome::Failed { error } => {
            format!(
                "failed: {}",
                error.to_string().lines().next().unwrap_or_default()
            )
        }
        Outcome::Skipped { because } => format!("skipped: {because}"),
    }
}

/// The reason `name` cannot build, if one of its host requirements did not succeed.
fn blocked_by(name: &str, graph: &BuildGraph, done: &BTreeMap<String, Outcome>) -> Option<String> {
    graph.host[name]
        .iter()
        .find_map(|dependency| match done.get(dependency) {
            Some(Outcome::Failed { .. }) => Some(format!("host requirement `{dependency}` failed")),
            Some(Outcome::Skipped { .. }) => {
                Some(format!("host requirement `{dependency}` was skipped"))
            }
            _ => None,
        })
}

/// `name`'s host requirements, then the static libraries those static libraries are built on,
/// transitively (freetype's zlib for pillow): a static archive does not carry its
/// dependencies, and its pkg-config file names them (`Requires: zlib`), so a consumer's prefix
/// needs them too.
fn host_closure(name: &str, graph: &BuildGraph, recipes: &RecipeSet) -> Vec<String> {
    let mut closure: Vec<String> = graph.host.get(name).cloned().unwrap_or_default();
    let mut at = 0;
    while at < closure.len() {
        let requirement = &closure[at];
        let is_library = recipes
            .recipes
            .get(requirement)
            .is_some_and(|loaded| loaded.recipe.build.backend == BackendKind::StaticLibrary);
        if is_library {
            let more: Vec<String> = graph
                .host
                .get(requirement)
                .into_iter()
                .flatten()
                .filter(|next| {
                    recipes.recipes.get(*next).is_some_and(|loaded| {
                        loaded.recipe.build.backend == BackendKind::StaticLibrary
                    }) && !closure.contains(next)
                })
                .cloned()
                .collect();
            closure.extend(more);
        }
        at += 1;
    }
    closure
}

/// The wheels (or library archives) `name`'s host requirements ([`host_closure`]) put in the
/// output directory in this run (built or cached), with the digests their builds recorded,
/// verified on unpacking. Each requirement's level is done before `name`'s starts.
fn host_wheels(
    name: &str,
    graph: &BuildGraph,
    recipes: &RecipeSet,
    done: &BTreeMap<String, Outcome>,
    indexes: &Indexes,
    settings: &Settings,
) -> Vec<HostWheel> {
    host_closure(name, graph, recipes)
        .iter()
        .map(|requirement| {
            let loaded = &recipes.recipes[requirement];
            let dir = artifact_dir(loaded, indexes.of(loaded), settings);
            let file = match done.get(requirement) {
                Some(Outcome::Built { wheels } | Outcome::Cached { wheels }) => wheels.first(),
                _ => None,
            };
            let sha256 = file.and_then(|file| {
                read_state(&settings.build_dir.join(loaded.work_name()))
                    .and_then(|state| state.wheels.get(file).cloned())
            });
            HostWheel {
                requirement: requirement.clone(),
                path: file.map(|file| dir.join(file)),
                sha256,
            }
        })
        .collect()
}

/// Where a recipe's products are stored: the index's `packages/` for wheels, `libraries/` beside
/// it for static libraries.
fn artifact_dir(loaded: &LoadedRecipe, index: &Index, settings: &Settings) -> PathBuf {
    if loaded.recipe.build.backend == BackendKind::StaticLibrary {
        settings.out_dir.join(crate::library::LIBRARIES_DIR)
    } else {
        index.packages_dir()
    }
}

/// The last build's wheels of the version just built under another file name (another tag):
/// they would compete with the new wheel for installers, so the index drops them. Other
/// versions stay, as on PyPI.
fn superseded(previous: Option<&BuildState>, built: &crate::tags::WheelFilename) -> Vec<String> {
    let built_name = built.to_string();
    previous
        .iter()
        .flat_map(|state| state.wheels.keys())
        .filter(|old| **old != built_name)
        .filter(|old| {
            old.parse::<crate::tags::WheelFilename>().is_ok_and(|old| {
                old.normalized_name() == built.normalized_name() && old.version == built.version
            })
        })
        .cloned()
        .collect()
}

fn read_state(work_dir: &Path) -> Option<BuildState> {
    let text = fs_err::read_to_string(work_dir.join("state.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// Evaluates every selected recipe's plan, host requirements first (their keys feed ours).
fn evaluate_plans(
    recipes: &RecipeSet,
    graph: &BuildGraph,
    patches_dir: &Path,
    toolchain: &Toolchain,
    wasi: Option<&WasiToolchain>,
    fortran: Option<&FortranToolchain>,
    rust: Option<&RustToolchain>,
) -> Result<BTreeMap<String, BuildPlan>, PipelineError> {
    let wasi_identity = wasi.map(WasiToolchain::build_identity);
    let identities = Identities::new(
        toolchain.identity(),
        wasi_identity.as_deref(),
        fortran.map(|fortran| fortran.identity.as_str()),
        rust.map(|rust| rust.identity.as_str()),
    );
    let mut plans: BTreeMap<String, BuildPlan> = BTreeMap::new();
    for name in graph.order() {
        let host = graph.host[name]
            .iter()
            .map(|dependency| (dependency.clone(), plans[dependency].key.clone()))
            .collect();
        let loaded = &recipes.recipes[name];
        let identity = identities.for_recipe(&loaded.recipe);
        let plan = BuildPlan::evaluate(loaded, patches_dir, identity, host).map_err(|source| {
            PipelineError::Plan {
                recipe: name.clone(),
                source,
            }
        })?;
        plans.insert(name.clone(), plan);
    }
    Ok(plans)
}

/// The toolchain identities a rebuild key can contain: the host Python's for pure recipes,
/// plus the WASI toolchain's for native ones, plus the Fortran part's for recipes with
/// `build.fortran` only, and the Rust part's for recipes that build Rust only (installing a
/// part must not rebuild anything else).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identities {
    host: String,
    native: Option<String>,
    fortran: Option<String>,
    rust: Option<String>,
}

impl Identities {
    fn new(
        host: String,
        wasi: Option<&str>,
        fortran: Option<&str>,
        rust: Option<&str>,
    ) -> Identities {
        let native = wasi.map(|wasi| format!("{host}+{wasi}"));
        let with = |part: &str, identity: Option<&str>| {
            native
                .as_ref()
                .zip(identity)
                .map(|(native, identity)| format!("{native}+{part}:{identity}"))
        };
        Identities {
            fortran: with("fortran", fortran),
            rust: with("rust", rust),
            host,
            native,
        }
    }

    fn for_recipe(&self, recipe: &crate::recipe::Recipe) -> &str {
        match (&self.native, recipe.build.backend) {
            _ if recipe.build.fortran => self
                .fortran
                .as_deref()
                .expect("the Fortran part is installed when a recipe needs it"),
            _ if recipe.build.uses_rust() => self
                .rust
                .as_deref()
                .expect("the Rust part is installed when a recipe needs it"),
            (Some(native), backend) if backend != BackendKind::Pure => native,
            _ => &self.host,
        }
    }
}

/// Everything one recipe's build uses: its context (shared with the backend) and the run's
/// settings, index, sources and reporter.
struct RecipeJob<'a> {
    context: RecipeContext<'a>,
    plan: &'a BuildPlan,
    settings: &'a Settings,
    index: &'a Index,
    sources: &'a SourceCache,
    reporter: &'a dyn Reporter,
}

impl RecipeJob<'_> {
    fn run(&self) -> Outcome {
        let _span = tracing::info_span!("recipe", name = self.context.loaded.name()).entered();
        // Another wheelforge process may be building this recipe in the same build directory:
        // wait for it (its work directory would be deleted under it), then find its wheel
        // cached, as cargo does with its build directory.
        let _work_lock = match self.lock_work_dir() {
            Ok(lock) => lock,
            Err(error) => {
                return Outcome::Failed {
                    error: error.into(),
                };
            }
        };
        if !self.settings.force
            && let Some(wheels) = self.cached_wheels()
        {
            tracing::info!(key = %self.plan.key, "rebuild key unchanged; using the indexed wheels");
            self.keep_shared(&wheels);
            return Outcome::Cached { wheels };
        }
        if !self.settings.force
            && let Some(files) = self.shared_library()
        {
            tracing::info!(key = %self.plan.key, "a static library with this rebuild key is in the cache");
            return Outcome::Cached { wheels: files };
        }
        match self.build() {
            Ok(wheels) => Outcome::Built { wheels },
            Err(error) => Outcome::Failed {
                error: error.into(),
            },
        }
    }

    /// Takes `build/<name>.lock`, beside the work directory (the build deletes and recreates
    /// what is inside it), telling the reporter whom it waits for.
    fn lock_work_dir(&self) -> Result<crate::lock::Held, BuildError> {
        let mut path = self.context.work_dir.as_os_str().to_owned();
        path.push(".lock");
        let path = PathBuf::from(path);
        crate::lock::exclusive(&path, |holder| {
            self.reporter.waiting(
                self.context.loaded.name(),
                &format!(
                    "waiting for another wheelforge build using {} ({holder})",
                    self.context.work_dir.display()
                ),
            );
        })
        .map_err(|source| BuildError::Lock { path, source })
    }

    fn state_path(&self) -> PathBuf {
        self.context.work_dir.join("state.json")
    }

    /// The wheels (or library archive) of the last build, if its key is this plan's and the
    /// output directory still has them, unchanged.
    fn cached_wheels(&self) -> Option<Vec<String>> {
        let state = read_state(self.context.work_dir)?;
        if state.key != self.plan.key || state.wheels.is_empty() {
            return None;
        }
        let dir = artifact_dir(self.context.loaded, self.index, self.settings);
        for (wheel, sha256) in &state.wheels {
            let path = dir.join(wheel);
            if sha256_file(&path).ok()? != *sha256 {
                return None;
            }
        }
        Some(state.wheels.keys().cloned().collect())
    }

    /// A static library another build directory already built with this rebuild key
    /// (`library::shared`), stored into this output directory as if built here.
    fn shared_library(&self) -> Option<Vec<String>> {
        if self.context.loaded.recipe.build.backend != BackendKind::StaticLibrary {
            return None;
        }
        let file = self.library_file();
        let archive = crate::library::shared(&self.settings.cache_dir, &self.plan.key, &file)?;
        let (_, sha256) = crate::library::store(&archive, &self.settings.out_dir).ok()?;
        fs_err::create_dir_all(self.context.work_dir).ok()?;
        self.save_library_state(&file, sha256).ok()?;
        Some(vec![file])
    }

    /// The archive's file name of this (static library) recipe.
    fn library_file(&self) -> String {
        crate::library::archive_name(
            self.context.loaded.name(),
            self.context.loaded.recipe.package.version.as_str(),
        )
    }

    /// Records the library archive `file` (with its SHA-256) as this key's build.
    fn save_library_state(&self, file: &str, sha256: String) -> Result<(), BuildError> {
        self.save_state(&BuildState {
            key: self.plan.key.clone(),
            wheels: BTreeMap::from([(file.to_string(), sha256)]),
        })
    }

    /// A static library found in this output directory is kept in the cache's shared
    /// libraries too, if it is not there yet (an output directory built before the cache had
    /// them seeds it). Best effort: the build is cached either way.
    fn keep_shared(&self, files: &[String]) {
        if self.context.loaded.recipe.build.backend != BackendKind::StaticLibrary {
            return;
        }
        for file in files {
            if crate::library::shared(&self.settings.cache_dir, &self.plan.key, file).is_none() {
                let archive =
                    artifact_dir(self.context.loaded, self.index, self.settings).join(file);
                if let Err(error) =
                    crate::library::share(&archive, &self.settings.cache_dir, &self.plan.key)
                {
                    tracing::warn!(%error, "could not keep the library in the cache");
                }
            }
        }
    }

    /// The stages, in order. The error names its stage; the log has the details.
    fn build(&self) -> Result<Vec<String>, BuildError> {
        fs_err::create_dir_all(self.context.work_dir).map_err(BuildError::WorkDir)?;
        fs_err::write(self.context.log, "").map_err(BuildError::WorkDir)?;
        let previous = read_state(self.context.work_dir);
        let _ = fs_err::remove_file(self.state_path());
        let source_root = self.fetch_and_patch()?;

        self.reporter
            .stage(self.context.loaded.name(), Stage::Build);
        let context = BackendContext {
            recipe: &self.context,
            source_root: &source_root,
        };
        if self.context.loaded.recipe.build.backend == BackendKind::StaticLibrary {
            return self.build_library(&context);
        }
        let backend_wheel = backend::build(&context).map_err(BuildError::Build)?;
        let repaired = self.repair(&backend_wheel)?;
        self.warn_undeclared_requirements(&repaired.metadata);
        self.publish(&repaired, previous.as_ref())
    }

    /// Fetches the source (verified by its digest) and unpacks and patches it; returns the
    /// source tree.
    fn fetch_and_patch(&self) -> Result<PathBuf, BuildError> {
        self.reporter
            .stage(self.context.loaded.name(), Stage::Fetch);
        let settings = FetchSettings {
            index_url: self.settings.index_url.clone(),
            debian_root: self.context.wasi.cloned(),
        };
        let archive = self
            .sources
            .fetch(
                self.context.loaded,
                &self.context.toolchain.host_python,
                &settings,
                self.context.log,
                self.reporter,
            )
            .map_err(BuildError::Fetch)?;
        source::prepare_tree(
            &archive,
            self.context.loaded,
            &self.settings.patches_dir,
            self.context.work_dir,
            self.reporter,
        )
        .map_err(BuildError::Patch)
    }

    /// The backend's wheel made reproducible, tagged and with its plan.
    fn repair(
        &self,
        backend_wheel: &Path,
    ) -> Result<crate::wheel::repair::RepairedWheel, BuildError> {
        self.reporter
            .stage(self.context.loaded.name(), Stage::Repair);
        let timestamp = crate::wheel::timestamp_from_env().map_err(BuildError::Repair)?;
        repair(
            backend_wheel,
            &self.context.work_dir.join("wheel"),
            RepairOptions {
                expected_version: self.context.loaded.recipe.package.version.as_str(),
                tag: crate::plan::tag_for(&self.context.loaded.recipe),
                plan_json: self.plan.to_json(),
                extension_suffix: self.context.wasi.map(|wasi| wasi.target.ext_suffix.clone()),
                keep_debug: self.context.loaded.recipe.build.keep_debug,
                eager_imports: &self.context.loaded.recipe.build.eager_imports,
                timestamp,
            },
        )
        .map_err(BuildError::Repair)
    }

    /// Adds the wheel to the index, removes the ones it supersedes and records the build.
    fn publish(
        &self,
        repaired: &crate::wheel::repair::RepairedWheel,
        previous: Option<&BuildState>,
    ) -> Result<Vec<String>, BuildError> {
        self.reporter
            .stage(self.context.loaded.name(), Stage::Index);
        let added = self
            .index
            .add_wheel(&repaired.path)
            .map_err(BuildError::Index)?;
        let filename = repaired.filename.to_string();
        let sha256 = sha256_file(&added.path)
            .map_err(|e| BuildError::Index(crate::index::IndexError::Io(e)))?;
        let superseded = superseded(previous, &repaired.filename);
        self.index
            .remove_wheels(&superseded)
            .map_err(BuildError::Index)?;
        self.save_state(&BuildState {
            key: self.plan.key.clone(),
            wheels: BTreeMap::from([(filename.clone(), sha256)]),
        })?;
        Ok(vec![filename])
    }

    /// A static library's stages after the source: the script, the reproducible archive, the
    /// `libraries/` area.
    fn build_library(&self, context: &BackendContext<'_>) -> Result<Vec<String>, BuildError> {
        let name = self.context.loaded.name();
        let prefix = backend::build_library(context).map_err(BuildError::Build)?;
        self.reporter.stage(name, Stage::Repair);
        let file = self.library_file();
        let archive = self.context.work_dir.join(&file);
        let mtime = crate::wheel::source_date_epoch().map_err(BuildError::Repair)?;
        crate::library::pack(name, &prefix, &self.plan.to_json(), &archive, mtime)
            .map_err(BuildError::Library)?;
        self.reporter.stage(name, Stage::Index);
        let (_, sha256) =
            crate::library::store(&archive, &self.settings.out_dir).map_err(BuildError::Library)?;
        crate::library::share(&archive, &self.settings.cache_dir, &self.plan.key)
            .map_err(BuildError::Library)?;
        self.save_library_state(&file, sha256)?;
        Ok(vec![file])
    }

    /// Warns (and logs) about each `Requires-Dist` of the built wheel that applies on the
    /// target and that `requirements.run` does not list: the consumer's pip would fetch it from
    /// another index, or fail to, and `wheelforge test` does not install it from a recipe.
    fn warn_undeclared_requirements(&self, metadata: &[u8]) {
        let declared: Vec<&str> = self
            .context
            .loaded
            .recipe
            .requirements
            .run
            .iter()
            .map(|name| name.as_str())
            .collect();
        let mut target =
            crate::skeleton::marker::TargetMarkers::from_toolchain(self.settings.cache_dir.clone());
        let undeclared = crate::skeleton::marker::undeclared_requirements(
            &String::from_utf8_lossy(metadata),
            &declared,
            &mut target,
        );
        if undeclared.is_empty() {
            return;
        }
        let message = format!(
            "the wheel's METADATA requires {}, which requirements.run in {} does not list: add them (with recipes), or installers look for them elsewhere",
            undeclared
                .iter()
                .map(|value| format!("`{value}`"))
                .collect::<Vec<_>>()
                .join(", "),
            self.context.loaded.path.display()
        );
        crate::process::log_line(self.context.log, &format!("warning: {message}"));
        self.reporter.warning(self.context.loaded.name(), &message);
    }

    fn save_state(&self, state: &BuildState) -> Result<(), BuildError> {
        let json = serde_json::to_vec_pretty(state).expect("state always serializes");
        fs_err::write(self.state_path(), json).map_err(BuildError::WorkDir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipe(backend: &str, fortran: bool) -> crate::recipe::Recipe {
        let text = format!(
            "package:\n  name: demo\n  version: 1.0.0\nsource:\n  path: src\n\
             build:\n  backend: {backend}\n  fortran: {fortran}\n  script: make\n\
             about:\n  license: MIT\n  summary: demo\n"
        );
        crate::recipe::load_recipe_str(&text, Path::new("meta.yaml")).unwrap()
    }

    #[test]
    fn a_rebuild_supersedes_its_own_version_under_another_tag_only() {
        let state = BuildState {
            key: "k".into(),
            wheels: BTreeMap::from(
                [
                    "demo-1.0-cp314-cp314-wasi_0_2_wasm32.whl",
                    "demo-0.9-cp314-cp314-wasi_0_2_wasm32.whl",
                    "other-1.0-cp314-cp314-wasi_0_2_wasm32.whl",
                    "demo-1.0-cp37-abi3-wasi_0_2_wasm32.whl",
                ]
                .map(|name| (name.to_string(), String::new())),
            ),
        };
        let built: crate::tags::WheelFilename =
            "demo-1.0-cp37-abi3-wasi_0_2_wasm32.whl".parse().unwrap();
        assert_eq!(
            superseded(Some(&state), &built),
            ["demo-1.0-cp314-cp314-wasi_0_2_wasm32.whl"]
        );
        assert!(superseded(None, &built).is_empty());
    }

    #[test]
    fn only_fortran_recipes_carry_the_fortran_identity() {
        let without = Identities::new("host".into(), Some("wasi"), None, None);
        let with = Identities::new("host".into(), Some("wasi"), Some("flang"), None);
        let c_library = recipe("static_library", false);
        let fortran_library = recipe("static_library", true);
        // Installing the Fortran part changes nothing for a recipe without the flag.
        assert_eq!(without.for_recipe(&c_library), "host+wasi");
        assert_eq!(with.for_recipe(&c_library), "host+wasi");
        assert_eq!(with.for_recipe(&fortran_library), "host+wasi+fortran:flang");
    }

    #[test]
    fn only_rust_recipes_carry_the_rust_identity() {
        let with = Identities::new("host".into(), Some("wasi"), None, Some("rustc"));
        let text = "package:\n  name: demo\n  version: 1.0.0\nsource:\n  path: src\n\
                    build:\n  backend: maturin\nabout:\n  license: MIT\n  summary: demo\n";
        let maturin = crate::recipe::load_recipe_str(text, Path::new("meta.yaml")).unwrap();
        let setuptools = crate::recipe::load_recipe_str(
            &text.replace("maturin", "setuptools"),
            Path::new("meta.yaml"),
        )
        .unwrap();
        assert_eq!(with.for_recipe(&maturin), "host+wasi+rust:rustc");
        assert_eq!(with.for_recipe(&setuptools), "host+wasi");
    }
}

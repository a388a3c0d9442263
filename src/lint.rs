//! `wheelforge lint`: checking recipes before anything builds.
//!
//! This module owns the maintainer's checks over `recipes/`: every recipe parses strictly (the
//! loader's file:line:column errors, which include the pinned `sha256` of archive sources and
//! the presence of patch files), its patches apply to its source (fetched by the fetch stage,
//! from its cache when there, and patched in a temporary directory by the patch stage's code),
//! its host, run and test requirements name recipes, its host requirements have no cycle, its
//! build requirements are requirement strings, and it declares a test. Findings are data with a
//! position and a hint; the CLI prints them. Nothing is built or published.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use pep508_rs::VerbatimUrl;

use crate::graph::{self, GraphError, Target};
use crate::recipe::{LoadedRecipe, PackageName, RecipeError, RecipeSet, load_recipe, locate};
use crate::reporter::Reporter;
use crate::source::{self, FetchSettings, FetchedSource, SourceCache, SourceError};
use crate::tags::normalize_name;
use crate::toolchain::HostPython;

/// Where the recipes are and how far the checks may reach.
#[derive(Debug, Clone)]
pub struct LintSettings {
    pub recipes_dir: PathBuf,
    pub patches_dir: PathBuf,
    /// The source cache (`~/.cache/wheelforge`), shared with builds.
    pub cache_dir: PathBuf,
    /// Never download: sources not already in the cache are not patched (and the report says so).
    pub offline: bool,
    pub index_url: Option<String>,
}

/// Errors that stop the whole lint (a bad recipe is a finding, not an error).
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error(transparent)]
    Recipe(#[from] RecipeError),
    #[error("cannot use {path} for lint's scratch space\n  help: check that the temporary directory is writable", path = path.display())]
    Scratch {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// Which check a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Check {
    /// The recipe does not load (syntax, schema, missing sha256, missing patch file, ...).
    Recipe,
    /// A host, run or test requirement names no recipe.
    MissingDependency,
    /// Host requirements form a cycle.
    Cycle,
    /// A `requirements.build` entry is not a requirement string.
    BuildRequirement,
    /// The source could not be fetched, verified or unpacked.
    Source,
    /// A patch does not apply to the source.
    Patch,
    /// No test is declared.
    NoTest,
}

impl Check {
    pub fn code(self) -> &'static str {
        match self {
            Check::Recipe => "recipe",
            Check::MissingDependency => "missing-dependency",
            Check::Cycle => "cycle",
            Check::BuildRequirement => "build-requirement",
            Check::Source => "source",
            Check::Patch => "patch",
            Check::NoTest => "no-test",
        }
    }
}

/// One problem, where it is and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    pub check: Check,
    pub message: String,
    pub help: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}[{}]: {}\n  help: {}",
            self.path.display(),
            self.line,
            self.column,
            self.severity,
            self.check.code(),
            self.message,
            self.help
        )
    }
}

/// What happened to a recipe's patches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchCheck {
    /// No patches or extras: the source is not fetched.
    NothingToApply,
    /// Every patch applied (and every extra was copied) to the unpacked source.
    Applied { patches: usize },
    /// `--offline` and the sdist is not in the cache: not checked.
    SkippedOffline,
    /// A finding says why.
    Failed,
    /// The recipe did not load.
    NotReached,
}

/// The lint of one recipe.
#[derive(Debug, Clone)]
pub struct RecipeLint {
    /// The recipe directory's name.
    pub name: String,
    pub path: PathBuf,
    pub patches: PatchCheck,
    pub findings: Vec<Finding>,
}

impl RecipeLint {
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// Every linted recipe, in name order.
#[derive(Debug, Clone)]
pub struct LintReport {
    pub recipes: Vec<RecipeLint>,
    pub offline: bool,
}

impl LintReport {
    pub fn count(&self, severity: Severity) -> usize {
        self.recipes.iter().map(|r| r.count(severity)).sum()
    }

    pub fn passed(&self) -> bool {
        self.count(Severity::Error) == 0
    }
}

/// Build tools people put under `host` or `run` by mistake; the hint says where they belong.
const BUILD_TOOLS: &[&str] = &[
    "cython",
    "meson",
    "meson-python",
    "ninja",
    "cmake",
    "scikit-build-core",
    "setuptools",
    "setuptools-scm",
    "wheel",
    "pybind11",
    "flit-core",
    "hatchling",
    "hatch-vcs",
    "poetry-core",
    "pdm-backend",
    "versioneer",
];

/// Lints `names` (every recipe when empty).
pub fn lint(
    settings: &LintSettings,
    names: &[String],
    reporter: &dyn Reporter,
) -> Result<LintReport, LintError> {
    let _span = tracing::info_span!("lint").entered();
    let files = recipe_files(&settings.recipes_dir)?;
    let loaded: BTreeMap<String, Result<LoadedRecipe, RecipeError>> = files
        .iter()
        .map(|(name, path)| (name.clone(), load_recipe(path, &settings.patches_dir)))
        .collect();
    let selected = select(settings, &files, names)?;
    // A requirement is satisfied by any recipe directory, even one that does not load: that
    // recipe's own finding is the one to fix.
    let mut known: BTreeSet<String> = files.keys().cloned().collect();
    known.extend(
        loaded
            .values()
            .flatten()
            .map(|recipe| normalize_name(recipe.name())),
    );
    let cycles = host_cycles(settings, &loaded);
    let scratch = tempfile::Builder::new()
        .prefix("wheelforge-lint-")
        .tempdir()
        .map_err(|source| LintError::Scratch {
            path: std::env::temp_dir(),
            source,
        })?;
    let mut sources = SourceChecker {
        settings,
        cache: SourceCache::new(&settings.cache_dir),
        python: None,
        scratch: scratch.path(),
        reporter,
    };

    let mut recipes = Vec::new();
    for name in &selected {
        let lint = lint_one(
            name,
            &files[name],
            &loaded[name],
            &known,
            &cycles,
            &mut sources,
        );
        let errors = lint.errors();
        reporter.finished(
            name,
            &if errors == 0 {
                "ok".to_string()
            } else {
                format!("{errors} errors")
            },
        );
        recipes.push(lint);
    }
    Ok(LintReport {
        recipes,
        offline: settings.offline,
    })
}

/// The recipes to lint: `names` (normalized; each must have a directory), or every one.
fn select(
    settings: &LintSettings,
    files: &BTreeMap<String, PathBuf>,
    names: &[String],
) -> Result<Vec<String>, LintError> {
    if names.is_empty() {
        return Ok(files.keys().cloned().collect());
    }
    let mut selected = BTreeSet::new();
    for name in names {
        let wanted = normalize_name(name);
        if !files.contains_key(&wanted) {
            return Err(RecipeError::NotFound {
                name: name.clone(),
                dir: settings.recipes_dir.clone(),
                hint: String::new(),
            }
            .into());
        }
        selected.insert(wanted);
    }
    Ok(selected.into_iter().collect())
}

/// One recipe's findings, sorted by position: its load error, or the checks of its
/// requirements, test, host cycle, sources and patches.
fn lint_one(
    name: &str,
    path: &Path,
    loaded: &Result<LoadedRecipe, RecipeError>,
    known: &BTreeSet<String>,
    cycles: &BTreeMap<String, Vec<String>>,
    sources: &mut SourceChecker<'_>,
) -> RecipeLint {
    let mut lint = RecipeLint {
        name: name.to_string(),
        path: path.to_path_buf(),
        patches: PatchCheck::NotReached,
        findings: Vec::new(),
    };
    match loaded {
        Err(error) => lint.findings.push(load_finding(error, path)),
        Ok(recipe) => {
            lint.findings.extend(dependency_findings(recipe, known));
            lint.findings.extend(build_requirement_findings(recipe));
            lint.findings.extend(test_findings(recipe));
            if let Some(chain) = cycles.get(name) {
                lint.findings.push(cycle_finding(recipe, chain));
            }
            let (patches, findings) = sources.check(recipe);
            lint.patches = patches;
            lint.findings.extend(findings);
        }
    }
    lint.findings
        .sort_by_key(|f| (f.line, f.column, f.severity, f.check));
    lint
}

/// `recipes/*/meta.yaml`, keyed by the normalized directory name.
fn recipe_files(recipes_dir: &Path) -> Result<BTreeMap<String, PathBuf>, RecipeError> {
    Ok(crate::recipe::recipe_files(recipes_dir)?
        .into_iter()
        .filter_map(|meta| {
            let dir = meta.parent()?.file_name()?.to_string_lossy().into_owned();
            Some((normalize_name(&dir), meta))
        })
        .collect())
}

fn load_finding(error: &RecipeError, path: &Path) -> Finding {
    match error {
        RecipeError::Invalid {
            path,
            line,
            column,
            message,
            help,
        } => Finding {
            path: path.clone(),
            line: *line,
            column: *column,
            severity: Severity::Error,
            check: Check::Recipe,
            message: message.clone(),
            help: help.clone(),
        },
        other => Finding {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            severity: Severity::Error,
            check: Check::Recipe,
            message: other.to_string(),
            help: "the recipe format is described in docs/recipes.md".to_string(),
        },
    }
}

/// A finding at the key path `keys` of `recipe`.
fn finding_at(
    recipe: &LoadedRecipe,
    keys: &[&str],
    severity: Severity,
    check: Check,
    message: String,
    help: String,
) -> Finding {
    let (line, mut column) = locate(&recipe.text, keys);
    // `locate` finds a flow-style list (`run: [a, b]`) by its key; point at the item itself.
    if keys.len() > 2
        && let Some(text) = recipe.text.lines().nth(line - 1)
        && let Some(item) = keys.last()
        && let Some(offset) = text.get(column - 1..).and_then(|rest| rest.find(item))
        && !text[column - 1..]
            .trim_start()
            .starts_with(['-', '"', '\''])
    {
        column += offset;
    }
    Finding {
        path: recipe.path.clone(),
        line,
        column,
        severity,
        check,
        message,
        help,
    }
}

fn dependency_findings(recipe: &LoadedRecipe, known: &BTreeSet<String>) -> Vec<Finding> {
    let requirements = &recipe.recipe.requirements;
    let mut lists: Vec<(Vec<&str>, &Vec<PackageName>)> = vec![
        (vec!["requirements", "host"], &requirements.host),
        (vec!["requirements", "run"], &requirements.run),
        (vec!["test", "requires"], &recipe.recipe.test.requires),
    ];
    // A variant's requirements must have recipes too, though only its build uses them.
    for (variant, added) in &recipe.recipe.variants {
        for (key, names) in [
            ("host", &added.requirements.host),
            ("run", &added.requirements.run),
        ] {
            lists.push((
                vec!["variants", variant.as_str(), "requirements", key],
                names,
            ));
        }
    }
    let mut findings = Vec::new();
    for (keys, names) in lists {
        let place = keys.join(".");
        for name in names {
            let normalized = normalize_name(name.as_str());
            if known.contains(&normalized) {
                continue;
            }
            let help = if BUILD_TOOLS.contains(&normalized.as_str()) {
                format!(
                    "`{name}` is a build tool: move it to requirements.build (requirement strings installed on the build machine from the package index)"
                )
            } else {
                format!(
                    "add recipes/{normalized}/meta.yaml (`wheelforge skeleton {name}` writes a first one), or remove it from {place}"
                )
            };
            let mut path = keys.clone();
            path.push(name.as_str());
            findings.push(finding_at(
                recipe,
                &path,
                Severity::Error,
                Check::MissingDependency,
                format!("{place} `{name}` has no recipe"),
                help,
            ));
        }
    }
    findings
}

/// `requirements.build` holds PEP 508 strings: a project name, then extras, a version
/// specifier, a URL or a marker. The finding points at where pep508_rs stopped understanding.
fn build_requirement_findings(recipe: &LoadedRecipe) -> Vec<Finding> {
    let mut findings = Vec::new();
    for requirement in &recipe.recipe.requirements.build {
        let Err(error) = requirement.parse::<pep508_rs::Requirement<VerbatimUrl>>() else {
            continue;
        };
        let reason = error.to_string();
        let reason = reason.lines().next().unwrap_or_default();
        let mut finding = finding_at(
            recipe,
            &["requirements", "build", requirement.as_str()],
            Severity::Error,
            Check::BuildRequirement,
            format!("requirements.build `{requirement}` is not a requirement string: {reason}"),
            "write a PEP 508 requirement, e.g. `cython>=3` or `meson-python`; recipes the build links against belong in requirements.host".to_string(),
        );
        point_into(recipe, &mut finding, requirement, error.start);
        findings.push(finding);
    }
    findings
}

/// Moves a finding that points at the list item `item` (or at its opening quote) to the
/// byte `offset` inside it.
fn point_into(recipe: &LoadedRecipe, finding: &mut Finding, item: &str, offset: usize) {
    let Some(rest) = recipe
        .text
        .lines()
        .nth(finding.line - 1)
        .and_then(|line| line.get(finding.column - 1..))
    else {
        return;
    };
    let quote = usize::from(rest.starts_with(['"', '\'']));
    if rest[quote..].starts_with(item) {
        finding.column += quote + offset;
    }
}

fn test_findings(recipe: &LoadedRecipe) -> Vec<Finding> {
    let test = &recipe.recipe.test;
    if !test.imports.is_empty()
        || test
            .command
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty())
        || test.pytest.is_some()
        || test.program.is_some()
    {
        return Vec::new();
    }
    let name = recipe.name();
    if recipe.recipe.build.backend == crate::recipe::BackendKind::StaticLibrary {
        return vec![finding_at(
            recipe,
            &["test"],
            Severity::Error,
            Check::NoTest,
            "no test: a static library needs test.program".to_string(),
            format!(
                "add `test:` with `program: <C or Fortran file>` and `link: [-l<library>]`, so that `wheelforge test {name}` proves the library under WASI"
            ),
        )];
    }
    vec![finding_at(
        recipe,
        &["test"],
        Severity::Error,
        Check::NoTest,
        "no test: test.imports, test.command and test.pytest are all empty".to_string(),
        format!(
            "add `test:` with `imports: [<module>]` (and a `command:` exercising it), so that `wheelforge test {name}` proves the wheel under WASI"
        ),
    )]
}

/// The first host cycle through each recipe that is on one, as recipe → chain.
fn host_cycles(
    settings: &LintSettings,
    loaded: &BTreeMap<String, Result<LoadedRecipe, RecipeError>>,
) -> BTreeMap<String, Vec<String>> {
    // Only recipes that load take part; their host requirements to missing recipes are
    // reported as missing, and dropped here so that the graph can be ordered.
    let mut recipes = BTreeMap::new();
    for recipe in loaded.values().flatten() {
        recipes.insert(normalize_name(recipe.name()), recipe.clone());
    }
    let names: BTreeSet<String> = recipes.keys().cloned().collect();
    for recipe in recipes.values_mut() {
        let requirements = &mut recipe.recipe.requirements;
        requirements
            .host
            .retain(|n| names.contains(&normalize_name(n.as_str())));
        requirements.run.clear();
        recipe.recipe.test.requires.clear();
    }
    let mut set = RecipeSet {
        recipes_dir: settings.recipes_dir.clone(),
        patches_dir: settings.patches_dir.clone(),
        recipes,
    };
    let mut cycles = BTreeMap::new();
    // Each pass reports one cycle; cut it and look again.
    while let Err(GraphError::Cycle { chain }) = graph::select(&set, &[Target::All]) {
        for name in &chain[..chain.len() - 1] {
            cycles.entry(name.clone()).or_insert_with(|| chain.clone());
        }
        let from = &chain[chain.len() - 2];
        let to = &chain[chain.len() - 1];
        if let Some(recipe) = set.recipes.get_mut(from) {
            recipe
                .recipe
                .requirements
                .host
                .retain(|n| normalize_name(n.as_str()) != *to);
        }
    }
    cycles
}

fn cycle_finding(recipe: &LoadedRecipe, chain: &[String]) -> Finding {
    let me = normalize_name(recipe.name());
    let position = chain.iter().position(|n| *n == me).unwrap_or(0);
    let next = chain.get(position + 1).cloned().unwrap_or_default();
    let next_key = recipe
        .recipe
        .requirements
        .host
        .iter()
        .find(|n| normalize_name(n.as_str()) == next)
        .map_or(next.clone(), |n| n.to_string());
    finding_at(
        recipe,
        &["requirements", "host", &next_key],
        Severity::Error,
        Check::Cycle,
        format!("host requirements form a cycle: {}", chain.join(" → ")),
        "a recipe cannot need itself at build time; move one edge from requirements.host to requirements.run".to_string(),
    )
}

/// Fetches (or finds in the cache) and patches sources in a scratch directory.
struct SourceChecker<'a> {
    settings: &'a LintSettings,
    cache: SourceCache,
    python: Option<Result<HostPython, String>>,
    scratch: &'a Path,
    reporter: &'a dyn Reporter,
}

impl SourceChecker<'_> {
    fn check(&mut self, recipe: &LoadedRecipe) -> (PatchCheck, Vec<Finding>) {
        let source = &recipe.recipe.source;
        if source.patches.is_empty() && source.extras.is_empty() {
            return (PatchCheck::NothingToApply, Vec::new());
        }
        let failed = |keys: &[&str], check: Check, message: String, help: &str| {
            (
                PatchCheck::Failed,
                vec![finding_at(
                    recipe,
                    keys,
                    Severity::Error,
                    check,
                    message,
                    help.to_string(),
                )],
            )
        };
        let fetched = match self.fetch(recipe) {
            Ok(Some(fetched)) => fetched,
            Ok(None) => return (PatchCheck::SkippedOffline, Vec::new()),
            Err(error) => {
                let keys: &[&str] = if matches!(error, SourceError::ChecksumMismatch { .. }) {
                    &["source", "sha256"]
                } else {
                    &["source"]
                };
                return failed(
                    keys,
                    Check::Source,
                    format!("cannot get the source to apply the patches to: {error}"),
                    "fix the source, or run `wheelforge lint --offline` to skip the patch check",
                );
            }
        };
        let work = self.scratch.join(normalize_name(recipe.name()));
        match source::prepare_tree(
            &fetched,
            recipe,
            &self.settings.patches_dir,
            &work,
            self.reporter,
        ) {
            Ok(_) => (
                PatchCheck::Applied {
                    patches: source.patches.len(),
                },
                Vec::new(),
            ),
            Err(SourceError::Patch(error)) => {
                let file = error
                    .patch_file()
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                failed(
                    &["source", "patches", &file],
                    Check::Patch,
                    error.to_string(),
                    "regenerate the patch against this version's source (unpack the sdist, apply the earlier patches, edit, `git diff`), or drop it",
                )
            }
            Err(error) => failed(
                &["source"],
                Check::Source,
                error.to_string(),
                "the source could not be unpacked or the extras copied; check the archive and source.extras",
            ),
        }
    }

    /// The recipe's source: a directory, a verified cached archive, or a fresh download.
    /// `None` when offline and not cached.
    fn fetch(&mut self, recipe: &LoadedRecipe) -> Result<Option<FetchedSource>, SourceError> {
        let source = &recipe.recipe.source;
        if source.path.is_none() {
            if let Some(found) = self.cache.lookup(source.archive_sha256()) {
                return Ok(Some(FetchedSource::Archive(found)));
            }
            if self.settings.offline {
                return Ok(None);
            }
        }
        let python = self
            .python
            .get_or_insert_with(|| HostPython::discover().map_err(|e| e.to_string()))
            .clone()
            .map_err(|detail| SourceError::Download {
                url: "the package index".to_string(),
                detail,
            })?;
        let log = self
            .scratch
            .join(format!("{}-fetch.log", normalize_name(recipe.name())));
        // A Debian source package is fetched by apt inside the toolchain root, which is
        // provisioned on first use, as `build` does.
        let debian_root = match &source.debian {
            Some(package) => Some(
                crate::toolchain::install::ensure(&self.settings.cache_dir, self.reporter)
                    .map_err(|error| SourceError::Debian {
                        package: package.to_string(),
                        recipe: recipe.path.clone(),
                        detail: error.to_string(),
                        help: "run `wheelforge toolchain install` and see its log".into(),
                    })?,
            ),
            None => None,
        };
        let settings = FetchSettings {
            index_url: self.settings.index_url.clone(),
            debian_root,
        };
        self.cache
            .fetch(recipe, &python, &settings, &log, self.reporter)
            .map(Some)
    }
}

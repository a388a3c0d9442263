//! The CI matrix: which recipes a CI run builds, on how many runners, in which groups.
//!
//! This module owns the GitHub Actions matrix that `wheelforge ci matrix` prints: the recipes
//! split into dependency levels over *all* recipe edges (host, run and test requirements: a
//! recipe's test installs its run and test requirements from the index), each level split into
//! at most N shards, and the cache keys a shard's job uses. Each shard builds its recipes with
//! `wheelforge build`, which builds their closure in order on that runner, so shards never wait
//! for each other (docs/ci.md). `changed` selects the recipes that differ from a git revision.
//! It does not build, run git for anything but reading, or talk to GitHub.

mod changed;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Serialize;

use crate::graph::{self, DependencyKind, Target};
use crate::recipe::{BackendKind, RecipeSet};

pub use changed::{Changes, changed_since};

/// GitHub Actions runs at most this many jobs from one matrix.
pub const MAX_MATRIX_JOBS: usize = 256;

/// Why a matrix could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CiError {
    #[error(transparent)]
    Recipe(#[from] crate::recipe::RecipeError),
    #[error(transparent)]
    Graph(#[from] crate::graph::GraphError),
    #[error(
        "the matrix would have {jobs} jobs; GitHub Actions runs at most {MAX_MATRIX_JOBS} from one matrix\n  help: pass a smaller --shards (it is the most shards per dependency level)"
    )]
    TooManyJobs { jobs: usize },
    #[error(
        "{dir} is not in a git repository\n  help: --changed-since compares the recipes with a git revision: run it in a clone of the recipes repository, or leave it out to select every recipe", dir = dir.display()
    )]
    NotAGitRepository { dir: PathBuf },
    #[error(
        "unknown git revision `{reference}` in {repository}: {detail}\n  help: fetch it first (e.g. `git fetch origin main`); GitHub's checkout action needs `fetch-depth: 0` for the history to be there", repository = repository.display()
    )]
    UnknownRevision {
        reference: String,
        repository: PathBuf,
        detail: String,
    },
    #[error(
        "{path} is outside the git repository {repository}\n  help: --changed-since needs the recipes and patches directories in one repository", path = path.display(), repository = repository.display()
    )]
    OutsideRepository { path: PathBuf, repository: PathBuf },
    #[error("cannot run git: {source}\n  help: install git and make sure it is on PATH")]
    GitMissing {
        #[source]
        source: std::io::Error,
    },
    #[error("`git {arguments}` failed in {dir}: {detail}\n  help: check that the repository is readable and not corrupt", dir = dir.display())]
    Git {
        arguments: String,
        dir: PathBuf,
        detail: String,
    },
    #[error("cannot read {path}: {source}\n  help: check that the directory exists and is readable", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The matrix as GitHub Actions reads it with `fromJSON`: one job per entry of `include`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matrix {
    pub include: Vec<Shard>,
}

/// One job of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shard {
    /// `LEVEL-INDEX`, unique in the matrix; names the job's artifact.
    pub shard: String,
    /// The dependency level of the shard's recipes.
    pub level: usize,
    /// The shard's recipe names, separated by spaces, for `wheelforge build` and `test`.
    pub recipes: String,
    /// The variants its recipes declare, as `NAME:VARIANT` separated by spaces (empty when
    /// none): the shard builds and tests each with `--variant` after its recipes, into the
    /// variant's own index (`variants/VARIANT/`).
    pub variants: String,
    /// Whether the shard's closure has a native recipe (it needs the WASI toolchain to build;
    /// every shard needs it to test).
    pub native: bool,
    /// Whether the shard's closure has a recipe with `build.fortran` (it needs the toolchain's
    /// optional Fortran part, `wheelforge toolchain install --fortran`).
    pub fortran: bool,
    /// The `actions/cache` key of the WASI toolchain: its format version, and the Fortran
    /// part's when any shard of the matrix needs it (one toolchain job serves every shard).
    pub toolchain_key: String,
    /// The `actions/cache` key of the source cache: the digests of the closure's sources.
    pub sources_key: String,
}

impl Matrix {
    /// The JSON a workflow passes to `fromJSON`, on one line (a step output).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a matrix always serializes")
    }

    /// Every recipe of the matrix.
    pub fn recipes(&self) -> impl Iterator<Item = &str> {
        self.include
            .iter()
            .flat_map(|shard| shard.recipes.split(' '))
    }
}

/// Every recipe's level: 0 when it needs no other recipe; otherwise one more than the highest
/// level among the recipes it needs (host, run or test). Recipes on a cycle of run or test
/// requirements (allowed, unlike host cycles) share a level.
pub fn levels(set: &RecipeSet) -> Result<BTreeMap<String, usize>, CiError> {
    // Checks missing requirements and host cycles, with the graph's own errors.
    graph::select(set, &[Target::All])?;
    let edges: BTreeMap<&str, BTreeSet<String>> = set
        .recipes
        .keys()
        .map(|name| (name.as_str(), requirements(set, name)))
        .collect();
    let reach: BTreeMap<&str, BTreeSet<&str>> = edges
        .keys()
        .map(|name| (*name, reachable(name, &edges)))
        .collect();
    let mut level = BTreeMap::new();
    for name in edges.keys() {
        level_of(name, &edges, &reach, &mut level);
    }
    Ok(level
        .into_iter()
        .map(|(name, at)| (name.to_string(), at))
        .collect())
}

/// Host, run and test requirements of `name`.
fn requirements(set: &RecipeSet, name: &str) -> BTreeSet<String> {
    [
        DependencyKind::Host,
        DependencyKind::Run,
        DependencyKind::Test,
    ]
    .into_iter()
    .flat_map(|kind| graph::dependencies(set, name, kind))
    .filter(|dependency| dependency != name)
    .collect()
}

fn reachable<'a>(start: &str, edges: &'a BTreeMap<&str, BTreeSet<String>>) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&str> = edges[start].iter().map(String::as_str).collect();
    while let Some(name) = stack.pop() {
        if seen.insert(name) {
            stack.extend(edges[name].iter().map(String::as_str));
        }
    }
    seen
}

/// The longest path over edges that leave the recipe's cycle (if any): those form a DAG.
fn level_of<'a>(
    name: &'a str,
    edges: &'a BTreeMap<&str, BTreeSet<String>>,
    reach: &BTreeMap<&str, BTreeSet<&str>>,
    level: &mut BTreeMap<&'a str, usize>,
) -> usize {
    if let Some(found) = level.get(name) {
        return *found;
    }
    let mut mine = 0;
    for dependency in &edges[name] {
        let same_cycle = reach[dependency.as_str()].contains(name);
        if !same_cycle {
            mine = mine.max(level_of(dependency, edges, reach, level) + 1);
        }
    }
    // A cycle's members take the highest level any of them reaches.
    for other in &reach[name] {
        if reach[other].contains(name) && *other != name {
            for dependency in &edges[*other] {
                if !reach[dependency.as_str()].contains(name) {
                    mine = mine.max(level_of(dependency, edges, reach, level) + 1);
                }
            }
        }
    }
    level.insert(name, mine);
    mine
}

/// The matrix of `selection` (every recipe when `None`): each level's recipes, sorted by name,
/// dealt round-robin into at most `shards` shards.
pub fn matrix(
    set: &RecipeSet,
    selection: Option<&BTreeSet<String>>,
    shards: usize,
) -> Result<Matrix, CiError> {
    let shards = shards.max(1);
    let levels = levels(set)?;
    let mut by_level: BTreeMap<usize, Vec<&String>> = BTreeMap::new();
    for (name, level) in &levels {
        if selection.is_none_or(|selected| selected.contains(name)) {
            by_level.entry(*level).or_default().push(name);
        }
    }
    let mut include = Vec::new();
    for (level, names) in by_level {
        let count = shards.min(names.len());
        for index in 0..count {
            let mine: Vec<String> = names
                .iter()
                .skip(index)
                .step_by(count)
                .map(|name| name.to_string())
                .collect();
            include.push(shard(set, level, index, mine)?);
        }
    }
    if include.iter().any(|shard| shard.fortran) {
        for shard in &mut include {
            shard.toolchain_key = format!(
                "{}-fortran-format-{}",
                shard.toolchain_key,
                crate::toolchain::fortran::install::FORTRAN_FORMAT
            );
        }
    }
    if include.len() > MAX_MATRIX_JOBS {
        return Err(CiError::TooManyJobs {
            jobs: include.len(),
        });
    }
    Ok(Matrix { include })
}

fn shard(
    set: &RecipeSet,
    level: usize,
    index: usize,
    names: Vec<String>,
) -> Result<Shard, CiError> {
    let targets: Vec<Target> = names.iter().map(|n| Target::Name(n.clone())).collect();
    let mut sources = BTreeSet::new();
    let mut native = false;
    let mut fortran = false;
    let mut account = |recipes: &RecipeSet, targets: &[Target]| -> Result<(), CiError> {
        for name in graph::select(recipes, targets)?.order() {
            let recipe = &recipes.recipes[name].recipe;
            native |= recipe.build.backend != BackendKind::Pure;
            fortran |= recipe.build.fortran;
            let source = recipe
                .source
                .sha256
                .as_ref()
                .map_or_else(|| "local".to_string(), |digest| digest.to_string());
            sources.insert(format!("{name} {source}\n"));
        }
        Ok(())
    };
    account(set, &targets)?;
    // Each declared variant's closure too, which may need more (numpy's `lapack` variant needs
    // the Fortran `lapack` recipe).
    let mut variants = Vec::new();
    for name in &names {
        for variant in set.recipes[name].recipe.variants.keys() {
            let mut applied = set.clone();
            applied.apply_variant(name, variant.as_str())?;
            account(&applied, &[Target::Name(name.clone())])?;
            variants.push(format!("{name}:{}", variant.as_str()));
        }
    }
    let sources: String = sources.into_iter().collect();
    Ok(Shard {
        shard: format!("{level}-{index}"),
        level,
        recipes: names.join(" "),
        variants: variants.join(" "),
        native,
        fortran,
        toolchain_key: format!(
            "wasi-toolchain-format-{}",
            crate::toolchain::wasi::TOOLCHAIN_FORMAT
        ),
        sources_key: crate::digest::sha256_hex(sources.as_bytes())[..16].to_string(),
    })
}

#[cfg(test)]
mod tests;

//! The build graph: which recipes a command selects, and in which order they build.
//!
//! This module owns target selection (`numpy`, `tag:NAME`, `--all`), the closure over
//! `requirements.host` and `requirements.run`, cycle and missing-dependency detection, and the
//! split into dependency levels. A recipe waits only for its *host* requirements: those are
//! compiled or linked against. Run requirements are built too (so the index is installable) but
//! may build in parallel with their dependents. It does not build anything.

pub mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::recipe::RecipeSet;
use crate::tags::normalize_name;

/// What a command asks to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One recipe by name.
    Name(String),
    /// Every recipe with `package.tags` containing this tag.
    Tag(String),
    /// Every recipe.
    All,
}

impl FromStr for Target {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text.strip_prefix("tag:") {
            Some(tag) => Target::Tag(tag.to_string()),
            None => Target::Name(text.to_string()),
        })
    }
}

/// Why the graph could not be built.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("dependency cycle: {}\n  help: a recipe cannot need itself at build time; move one edge from requirements.host to requirements.run", chain.join(" → "))]
    Cycle { chain: Vec<String> },
    #[error("missing dependency: {} ({kind} of `{parent}`) has no recipe\n  help: add recipes/{missing}/meta.yaml, or remove it from `{parent}`", chain.join(" → "), parent = chain[chain.len() - 2], missing = chain[chain.len() - 1])]
    Missing {
        chain: Vec<String>,
        kind: DependencyKind,
    },
    #[error(
        "no recipe has the tag `{tag}`\n  help: tags are listed under package.tags in each meta.yaml"
    )]
    EmptyTag { tag: String },
    #[error(transparent)]
    Recipe(#[from] crate::recipe::RecipeError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DependencyKind {
    Host,
    Run,
    /// `test.requires`: built into the index like run requirements, installed only for tests.
    Test,
}

impl fmt::Display for DependencyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DependencyKind::Host => "requirements.host",
            DependencyKind::Run => "requirements.run",
            DependencyKind::Test => "test.requires",
        })
    }
}

/// The selected recipes in build order.
#[derive(Debug, Clone)]
pub struct BuildGraph {
    /// Level 0 needs nothing; level n needs only recipes of lower levels. Names are normalized.
    pub levels: Vec<Vec<String>>,
    /// Host requirements of each selected recipe (normalized names).
    pub host: BTreeMap<String, Vec<String>>,
    /// Run requirements of each selected recipe (normalized names).
    pub run: BTreeMap<String, Vec<String>>,
}

impl BuildGraph {
    /// Every selected recipe, level by level.
    pub fn order(&self) -> impl Iterator<Item = &String> {
        self.levels.iter().flatten()
    }

    pub fn len(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The recipe names `name` needs through one kind of requirement (normalized).
pub fn dependencies(set: &RecipeSet, name: &str, kind: DependencyKind) -> Vec<String> {
    let recipe = &set.recipes[name].recipe;
    let list = match kind {
        DependencyKind::Host => &recipe.requirements.host,
        DependencyKind::Run => &recipe.requirements.run,
        DependencyKind::Test => &recipe.test.requires,
    };
    list.iter().map(|n| normalize_name(n.as_str())).collect()
}

/// Selects `targets` and everything they need, and orders them.
pub fn select(set: &RecipeSet, targets: &[Target]) -> Result<BuildGraph, GraphError> {
    let mut roots = BTreeSet::new();
    for target in targets {
        match target {
            Target::All => roots.extend(set.recipes.keys().cloned()),
            Target::Name(name) => {
                set.get(name)?;
                roots.insert(normalize_name(name));
            }
            Target::Tag(tag) => {
                let tagged: Vec<String> = set
                    .recipes
                    .iter()
                    .filter(|(_, r)| r.recipe.package.tags.iter().any(|t| t.as_str() == tag))
                    .map(|(name, _)| name.clone())
                    .collect();
                if tagged.is_empty() {
                    return Err(GraphError::EmptyTag { tag: tag.clone() });
                }
                roots.extend(tagged);
            }
        }
    }

    // Close over host, run and test requirements, remembering the chain for a missing dependency.
    let mut selected = BTreeSet::new();
    let mut stack: Vec<Vec<String>> = roots.iter().map(|root| vec![root.clone()]).collect();
    while let Some(chain) = stack.pop() {
        let name = chain.last().expect("chains are never empty").clone();
        if !selected.insert(name.clone()) {
            continue;
        }
        for kind in [
            DependencyKind::Host,
            DependencyKind::Run,
            DependencyKind::Test,
        ] {
            for dependency in dependencies(set, &name, kind) {
                let mut next = chain.clone();
                next.push(dependency.clone());
                if !set.recipes.contains_key(&dependency) {
                    return Err(GraphError::Missing { chain: next, kind });
                }
                stack.push(next);
            }
        }
    }

    let host: BTreeMap<String, Vec<String>> = selected
        .iter()
        .map(|name| (name.clone(), dependencies(set, name, DependencyKind::Host)))
        .collect();
    let run = selected
        .iter()
        .map(|name| (name.clone(), dependencies(set, name, DependencyKind::Run)))
        .collect();

    // Levels over host edges, by depth-first search that reports the first cycle it closes.
    let mut level: BTreeMap<String, usize> = BTreeMap::new();
    for name in &selected {
        assign_level(name, &host, &mut level, &mut Vec::new())?;
    }
    let depth = level.values().copied().max().map_or(0, |max| max + 1);
    let mut levels = vec![Vec::new(); depth];
    for (name, at) in &level {
        levels[*at].push(name.clone());
    }
    Ok(BuildGraph { levels, host, run })
}

fn assign_level(
    name: &str,
    host: &BTreeMap<String, Vec<String>>,
    level: &mut BTreeMap<String, usize>,
    path: &mut Vec<String>,
) -> Result<usize, GraphError> {
    if let Some(found) = level.get(name) {
        return Ok(*found);
    }
    if let Some(start) = path.iter().position(|p| p == name) {
        let mut chain = path[start..].to_vec();
        chain.push(name.to_string());
        return Err(GraphError::Cycle { chain });
    }
    path.push(name.to_string());
    let mut mine = 0;
    for dependency in &host[name] {
        mine = mine.max(assign_level(dependency, host, level, path)? + 1);
    }
    path.pop();
    level.insert(name.to_string(), mine);
    Ok(mine)
}

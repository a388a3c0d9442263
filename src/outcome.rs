//! How a build run ended, recipe by recipe: what the pipeline returns and the report, the CLI
//! and the tests read. It uses only the stages' error types (below the pipeline and the
//! report, which share it).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::reporter::Stage;

/// How one recipe ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Built {
        wheels: Vec<String>,
    },
    Cached {
        wheels: Vec<String>,
    },
    /// Shared, so that a summary can be cloned; only the CLI renders it.
    Failed {
        error: Arc<BuildError>,
    },
    Skipped {
        because: String,
    },
}

/// Why a recipe's build failed: the stage and its typed cause. Displays as the cause does.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Another build's lock on the work directory could not be taken.
    #[error("cannot lock {}: {source}", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The work directory, its log or the build state could not be written.
    #[error(transparent)]
    WorkDir(std::io::Error),
    #[error(transparent)]
    Fetch(crate::source::SourceError),
    /// Unpacking and patching the source tree.
    #[error(transparent)]
    Patch(crate::source::SourceError),
    #[error(transparent)]
    Build(crate::backend::BackendError),
    #[error(transparent)]
    Repair(crate::wheel::WheelError),
    #[error(transparent)]
    Index(crate::index::IndexError),
    /// Packing or storing a static library's archive.
    #[error(transparent)]
    Library(crate::library::LibraryError),
}

impl BuildError {
    /// The stage that failed (`None` before the first: the work directory and its lock).
    pub fn stage(&self) -> Option<Stage> {
        match self {
            BuildError::Lock { .. } | BuildError::WorkDir(_) => None,
            BuildError::Fetch(_) => Some(Stage::Fetch),
            BuildError::Patch(_) => Some(Stage::Patch),
            BuildError::Build(_) => Some(Stage::Build),
            BuildError::Repair(_) | BuildError::Library(_) => Some(Stage::Repair),
            BuildError::Index(_) => Some(Stage::Index),
        }
    }
}

/// Two failures are the same when they read the same (the causes' types have no equality).
impl PartialEq for BuildError {
    fn eq(&self, other: &Self) -> bool {
        self.stage() == other.stage() && self.to_string() == other.to_string()
    }
}

impl Eq for BuildError {}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Built { .. } => "built",
            Outcome::Cached { .. } => "cached",
            Outcome::Failed { .. } => "failed",
            Outcome::Skipped { .. } => "skipped",
        }
    }
}

#[derive(Debug, Clone)]
pub struct RecipeResult {
    pub name: String,
    pub outcome: Outcome,
    pub duration: Duration,
    pub log: PathBuf,
}

#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    /// In build order.
    pub results: Vec<RecipeResult>,
}

impl RunSummary {
    pub fn count(&self, label: &str) -> usize {
        self.results
            .iter()
            .filter(|r| r.outcome.label() == label)
            .count()
    }

    pub fn succeeded(&self) -> bool {
        self.count("failed") == 0 && self.count("skipped") == 0
    }
}

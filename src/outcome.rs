//! How a build run ended, recipe by recipe: what the pipeline returns and the report, the CLI
//! and the tests read. A leaf module: it depends on nothing else in the crate.

use std::path::PathBuf;
use std::time::Duration;

/// How one recipe ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Built { wheels: Vec<String> },
    Cached { wheels: Vec<String> },
    Failed { error: String },
    Skipped { because: String },
}

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

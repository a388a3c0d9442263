//! Progress reporting from library code.
//!
//! The library never prints: it tells a [`Reporter`] what is happening, and the CLI decides how
//! to show it (indicatif bars, plain lines, or nothing). This module owns the trait and the
//! vocabulary of stages; it does not draw anything.

use std::fmt;

/// The named stages of the build pipeline, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Fetch,
    Unpack,
    Patch,
    Build,
    Repair,
    Index,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Fetch => "fetch",
            Stage::Unpack => "unpack",
            Stage::Patch => "patch",
            Stage::Build => "build",
            Stage::Repair => "repair",
            Stage::Index => "index",
        })
    }
}

/// Receives progress events. Every method has an empty default, so a reporter implements only
/// what it shows. Implementations must be cheap and thread-safe: recipes build in parallel.
pub trait Reporter: Send + Sync {
    /// `recipe` entered `stage`.
    fn stage(&self, recipe: &str, stage: Stage) {
        let _ = (recipe, stage);
    }
    /// Bytes of a download for `recipe`: `done` so far of `total` (when known).
    fn download(&self, recipe: &str, done: u64, total: Option<u64>) {
        let _ = (recipe, done, total);
    }
    /// A free-form progress step of a long operation (`subject` is e.g. `toolchain`).
    fn message(&self, subject: &str, message: &str) {
        let _ = (subject, message);
    }
    /// The work on `subject` waits for a lock another wheelforge process holds; `message` says
    /// whom it waits for. Unlike progress, this is worth a line of its own even when nobody
    /// watches a terminal (a CI log that stalls should say why).
    fn waiting(&self, subject: &str, message: &str) {
        self.message(subject, message);
    }
    /// Something about `subject` the user should act on that does not stop the work (a wheel
    /// requiring what its recipe does not list). Like `waiting`, a line of its own.
    fn warning(&self, subject: &str, message: &str) {
        self.waiting(subject, &format!("warning: {message}"));
    }
    /// A recipe finished; `summary` is one line such as `built six-1.17.0-py3-none-any.whl`.
    fn finished(&self, recipe: &str, summary: &str) {
        let _ = (recipe, summary);
    }
}

/// A reporter that shows nothing (tests, library users).
pub struct SilentReporter;

impl Reporter for SilentReporter {}

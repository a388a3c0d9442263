//! Placeholder until the patch applier lands (being written in parallel).
use std::path::{Path, PathBuf};
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("patching is not implemented yet: {0}")]
    NotYet(PathBuf),
}
pub struct PatchSummary { pub files_changed: Vec<PathBuf>, pub hunks: usize }
pub fn apply_patch(_tree: &Path, patch: &Path) -> Result<PatchSummary, PatchError> {
    Err(PatchError::NotYet(patch.to_path_buf()))
}

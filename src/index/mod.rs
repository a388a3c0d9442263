//! TEMPORARY stub, replaced by the real index module in this session.
use std::path::{Path, PathBuf};
#[derive(Debug, thiserror::Error)]
pub enum IndexError { #[error("stub")] Stub }
pub struct AddedWheel { pub path: PathBuf }
pub struct IndexSummary;
impl std::fmt::Display for IndexSummary { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("stub") } }
pub struct Index { root: PathBuf }
impl Index {
    pub fn open(root: &Path) -> Result<Index, IndexError> { Ok(Index { root: root.to_path_buf() }) }
    pub fn packages_dir(&self) -> PathBuf { self.root.join("packages") }
    pub fn add_wheel(&self, wheel: &Path) -> Result<AddedWheel, IndexError> { let p = self.packages_dir().join(wheel.file_name().unwrap()); std::fs::create_dir_all(self.packages_dir()).unwrap(); std::fs::copy(wheel, &p).unwrap(); Ok(AddedWheel { path: p }) }
    pub fn rebuild(&self) -> Result<IndexSummary, IndexError> { Ok(IndexSummary) }
}

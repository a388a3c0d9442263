//! The static wheel index: a directory that any static file server can publish.
//!
//! This module owns the layout of an index root (`packages/<wheel>.whl`, the PEP 658
//! `packages/<wheel>.whl.metadata` files, and the PEP 503 / PEP 691 pages under `simple/`),
//! adding wheels to it, merging other index directories into it (`merge`) and regenerating its
//! pages, atomically and under an exclusive lock on `ROOT/.wheelforge-index.lock`. The page formats live in `html` and `json`. It does not build
//! or check wheels beyond their filename and `.dist-info/METADATA`, and it does not serve the
//! index over HTTP; see `crate::serve` for that.

mod atomic;
mod html;
mod json;
mod merge;
mod metadata;
#[cfg(test)]
pub(crate) mod testing;

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

use self::atomic::{copy_atomically, hash_file, sha256_hex, write_if_changed};
pub use self::merge::{Conflict, MergeError, MergeSummary, merge};
use self::metadata::{metadata_field, normalize_name_of, parse_wheel_filename, read_metadata};
use crate::tags::WheelFilename;

/// The lock file, relative to the index root, held for the whole of every update.
pub const LOCK_FILE: &str = ".wheelforge-index.lock";
/// How every temporary file written by this module starts; `rebuild` removes leftovers.
const TEMP_PREFIX: &str = ".wheelforge-tmp-";
const METADATA_SUFFIX: &str = ".metadata";

/// Why the index could not be read or updated.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{0}; check that the index directory exists, is writable and has free space")]
    Io(#[from] io::Error),
    #[error(
        "cannot write {path} through a temporary file: {source}; check that its directory is writable and has free space"
    )]
    Write { path: PathBuf, source: io::Error },
    #[error(
        "cannot lock {path}: {source}; check that the index root is writable and that its filesystem supports file locks"
    )]
    Lock { path: PathBuf, source: io::Error },
    #[error(
        "{path} is not a wheel ({reason}); pass a file named NAME-VERSION(-BUILD)?-PYTHON-ABI-PLATFORM.whl"
    )]
    NotAWheel { path: PathBuf, reason: String },
    #[error(
        "{path} does not belong in packages/ ({reason}); only wheels and their .whl.metadata files go there: remove it, then run the command again"
    )]
    Stray { path: PathBuf, reason: String },
    #[error("{path} is not a readable zip archive: {source}; rebuild or re-download the wheel")]
    Zip {
        path: PathBuf,
        source: zip::result::ZipError,
    },
    #[error(
        "{path} has no {expected}/METADATA; rebuild the wheel with a build backend that writes .dist-info metadata"
    )]
    NoMetadata { path: PathBuf, expected: String },
    #[error(
        "{path} has several .dist-info/METADATA files for its project ({found}); rebuild the wheel so that it has exactly one"
    )]
    AmbiguousMetadata { path: PathBuf, found: String },
    #[error(
        "cannot render {path} as JSON: {source}; this is a bug in wheelforge, please report it"
    )]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// What `add_wheel` did with the wheel file itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    /// No file of that name was in `packages/`.
    New,
    /// A file of that name with other content was replaced.
    Replaced,
    /// The same bytes were already there; nothing was copied.
    Unchanged,
}

/// One wheel added by `Index::add_wheel`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedWheel {
    pub filename: WheelFilename,
    /// The PEP 503 normalized project name, i.e. the directory under `simple/`.
    pub project: String,
    /// Where the wheel now is: `ROOT/packages/<filename>`.
    pub path: PathBuf,
    pub sha256: String,
    pub metadata_sha256: String,
    pub requires_python: Option<String>,
    pub outcome: AddOutcome,
}

/// What `Index::rebuild` found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexSummary {
    /// Projects listed on the root page.
    pub projects: usize,
    /// Wheels listed on the project pages.
    pub files: usize,
    /// Pages and `.metadata` files whose content changed and were rewritten.
    pub written: usize,
    /// Stale project pages, orphaned `.metadata` files and temporary leftovers removed.
    pub removed: usize,
}

/// One wheel as the project pages describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileEntry {
    filename: String,
    version: String,
    sha256: String,
    size: u64,
    metadata_sha256: String,
    requires_python: Option<String>,
}

/// What `packages/` holds, by normalized project name; wheels sorted by filename.
#[derive(Debug, Default)]
struct Listing {
    projects: BTreeMap<String, BTreeMap<String, WheelFilename>>,
    metadata: BTreeSet<String>,
    leftovers: Vec<PathBuf>,
}

/// A wheel index rooted at a directory.
#[derive(Debug, Clone)]
pub struct Index {
    root: PathBuf,
}

impl Index {
    /// Opens the index at `root`, creating `root`, `packages/` and `simple/` if absent.
    pub fn open(root: &Path) -> Result<Index, IndexError> {
        let index = Index {
            root: root.to_path_buf(),
        };
        fs_err::create_dir_all(index.packages_dir())?;
        fs_err::create_dir_all(index.simple_dir())?;
        Ok(index)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn packages_dir(&self) -> PathBuf {
        self.root.join("packages")
    }

    pub fn simple_dir(&self) -> PathBuf {
        self.root.join("simple")
    }

    /// Copies a wheel into packages/ (temp file + rename), writes its .metadata, and
    /// regenerates the affected project page and the root page. Replaces an existing file of
    /// the same name.
    pub fn add_wheel(&self, wheel: &Path) -> Result<AddedWheel, IndexError> {
        let name = wheel
            .file_name()
            .and_then(|name| name.to_str())
            .ok_or_else(|| IndexError::NotAWheel {
                path: wheel.to_path_buf(),
                reason: "its name is not UTF-8".to_string(),
            })?;
        let filename = parse_wheel_filename(name).map_err(|reason| IndexError::NotAWheel {
            path: wheel.to_path_buf(),
            reason,
        })?;
        // Check the wheel before taking the lock or touching the index.
        let metadata = read_metadata(wheel, &filename)?;
        let (sha256, _) = hash_file(wheel)?;

        let _lock = self.lock()?;
        let dest = self.packages_dir().join(name);
        let outcome = if !dest.exists() {
            AddOutcome::New
        } else if hash_file(&dest)?.0 == sha256 {
            AddOutcome::Unchanged
        } else {
            AddOutcome::Replaced
        };
        if outcome != AddOutcome::Unchanged {
            copy_atomically(wheel, &dest)?;
        }
        write_if_changed(&metadata_path(&dest), &metadata)?;

        let project = filename.normalized_name();
        let listing = self.scan()?;
        let mut entries = Vec::new();
        for wheel_name in listing
            .projects
            .get(&project)
            .into_iter()
            .flat_map(|w| w.keys())
        {
            if wheel_name == name {
                entries.push(describe(name, &filename, sha256.clone(), &dest, &metadata)?);
            } else {
                entries.push(self.describe_listed(wheel_name, &listing, false)?.0);
            }
        }
        self.write_project(&project, &entries)?;
        self.write_root(listing.projects.keys())?;
        Ok(AddedWheel {
            project,
            path: dest,
            metadata_sha256: sha256_hex(&metadata),
            requires_python: metadata_field(&metadata, "Requires-Python"),
            filename,
            sha256,
            outcome,
        })
    }

    /// Removes wheels from packages/ with their .metadata files (a rebuild's wheel that replaced
    /// them under another name, such as another tag), and regenerates the pages that listed
    /// them. Names not in the index are ignored.
    pub fn remove_wheels(&self, names: &[String]) -> Result<usize, IndexError> {
        let _lock = self.lock()?;
        let mut removed = 0;
        for name in names {
            let path = self.packages_dir().join(name);
            if parse_wheel_filename(name).is_err() || !path.is_file() {
                continue;
            }
            fs_err::remove_file(&path)?;
            let metadata = metadata_path(&path);
            if metadata.exists() {
                fs_err::remove_file(metadata)?;
            }
            removed += 1;
        }
        if removed > 0 {
            self.rebuild_locked()?;
        }
        Ok(removed)
    }

    /// Regenerates every page from what is in packages/ (extracting the .metadata files from
    /// the wheels, rewriting those that differ), and removes project pages that no longer
    /// have files, orphaned .metadata files and temporary files left by interrupted updates.
    pub fn rebuild(&self) -> Result<IndexSummary, IndexError> {
        let _lock = self.lock()?;
        self.rebuild_locked()
    }

    /// `rebuild`, for a caller that holds the lock.
    fn rebuild_locked(&self) -> Result<IndexSummary, IndexError> {
        let listing = self.scan()?;
        let mut summary = IndexSummary::default();
        for leftover in &listing.leftovers {
            fs_err::remove_file(leftover)?;
            summary.removed += 1;
        }
        for (project, wheels) in &listing.projects {
            let mut entries = Vec::new();
            for wheel_name in wheels.keys() {
                let (entry, wrote_metadata) = self.describe_listed(wheel_name, &listing, true)?;
                summary.written += usize::from(wrote_metadata);
                entries.push(entry);
            }
            summary.files += entries.len();
            summary.written += self.write_project(project, &entries)?;
        }
        summary.projects = listing.projects.len();
        summary.written += self.write_root(listing.projects.keys())?;

        // Only now that the root page no longer links to them: stale pages and orphans.
        for entry in fs_err::read_dir(self.simple_dir())? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.file_type()?.is_dir() || listing.projects.contains_key(&name) {
                continue;
            }
            for page in ["index.html", "index.json"] {
                let page = entry.path().join(page);
                if page.exists() {
                    fs_err::remove_file(&page)?;
                    summary.removed += 1;
                }
            }
            if fs_err::read_dir(entry.path())?.next().is_none() {
                fs_err::remove_dir(entry.path())?;
            }
        }
        let wheels: BTreeSet<&String> = listing.projects.values().flat_map(|w| w.keys()).collect();
        for metadata in &listing.metadata {
            let wheel = &metadata[..metadata.len() - METADATA_SUFFIX.len()];
            if !wheels.contains(&wheel.to_string()) {
                fs_err::remove_file(self.packages_dir().join(metadata))?;
                summary.removed += 1;
            }
        }
        Ok(summary)
    }

    /// Takes the index lock shared, for readers that copy the index elsewhere (`publish`):
    /// updates wait until the returned guard is dropped, so the reader sees pages and wheels
    /// from one state of the index.
    pub fn read_lock(&self) -> Result<crate::lock::Held, IndexError> {
        self.lock_file(false)
    }

    /// Takes the index lock; it is released when the returned guard is dropped.
    fn lock(&self) -> Result<crate::lock::Held, IndexError> {
        self.lock_file(true)
    }

    /// Takes the lock file, exclusively or shared. Updates hold it for milliseconds, so a wait
    /// is only traced (`-v`), with the holder's pid.
    fn lock_file(&self, exclusive: bool) -> Result<crate::lock::Held, IndexError> {
        let path = self.root.join(LOCK_FILE);
        let on_wait = |holder: &crate::lock::Holder| {
            tracing::info!(
                "waiting for another wheelforge process using the index {} ({holder})",
                self.root.display()
            );
        };
        let locked = if exclusive {
            crate::lock::exclusive(&path, on_wait)
        } else {
            crate::lock::shared(&path, on_wait)
        };
        locked.map_err(|source| IndexError::Lock { path, source })
    }

    /// Classifies every entry of `packages/`.
    fn scan(&self) -> Result<Listing, IndexError> {
        let mut listing = Listing::default();
        for entry in fs_err::read_dir(self.packages_dir())? {
            let path = entry?.path();
            let stray = |reason: &str| IndexError::Stray {
                path: path.clone(),
                reason: reason.to_string(),
            };
            let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
                return Err(stray("its name is not UTF-8"));
            };
            if name.starts_with(TEMP_PREFIX) {
                listing.leftovers.push(path.clone());
                continue;
            }
            if name.starts_with('.') {
                continue; // Hidden files (.gitkeep, .DS_Store) are nobody's business here.
            }
            if !fs_err::metadata(&path)?.is_file() {
                return Err(stray("it is not a regular file"));
            }
            if name.ends_with(".whl.metadata") {
                listing.metadata.insert(name.to_string());
                continue;
            }
            let filename = parse_wheel_filename(name).map_err(|reason| stray(&reason))?;
            listing
                .projects
                .entry(filename.normalized_name())
                .or_default()
                .insert(name.to_string(), filename);
        }
        Ok(listing)
    }

    /// Describes a wheel already in `packages/`, extracting its `.metadata` if it is missing
    /// (or always, with `refresh`). Returns whether the `.metadata` file was written.
    fn describe_listed(
        &self,
        name: &str,
        listing: &Listing,
        refresh: bool,
    ) -> Result<(FileEntry, bool), IndexError> {
        let path = self.packages_dir().join(name);
        let filename = &listing.projects[&normalize_name_of(name)][name];
        let metadata_name = format!("{name}{METADATA_SUFFIX}");
        let (metadata, written) = if refresh || !listing.metadata.contains(&metadata_name) {
            let metadata = read_metadata(&path, filename)?;
            let written = write_if_changed(&metadata_path(&path), &metadata)?;
            (metadata, written)
        } else {
            (fs_err::read(metadata_path(&path))?, false)
        };
        let (sha256, _) = hash_file(&path)?;
        Ok((describe(name, filename, sha256, &path, &metadata)?, written))
    }

    /// Writes `simple/<project>/index.{html,json}`; returns how many changed.
    fn write_project(&self, project: &str, files: &[FileEntry]) -> Result<usize, IndexError> {
        let dir = self.simple_dir().join(project);
        fs_err::create_dir_all(&dir)?;
        let json_path = dir.join("index.json");
        let json = json::project_page(project, files).map_err(|source| IndexError::Json {
            path: json_path.clone(),
            source,
        })?;
        let html = html::project_page(project, files);
        Ok(
            usize::from(write_if_changed(&dir.join("index.html"), html.as_bytes())?)
                + usize::from(write_if_changed(&json_path, json.as_bytes())?),
        )
    }

    /// Writes `simple/index.{html,json}`; returns how many changed.
    fn write_root<'a>(
        &self,
        projects: impl Iterator<Item = &'a String> + Clone,
    ) -> Result<usize, IndexError> {
        let json_path = self.simple_dir().join("index.json");
        let json = json::root_page(projects.clone()).map_err(|source| IndexError::Json {
            path: json_path.clone(),
            source,
        })?;
        let html = html::root_page(projects);
        let html_path = self.simple_dir().join("index.html");
        Ok(usize::from(write_if_changed(&html_path, html.as_bytes())?)
            + usize::from(write_if_changed(&json_path, json.as_bytes())?))
    }
}

fn describe(
    name: &str,
    filename: &WheelFilename,
    sha256: String,
    path: &Path,
    metadata: &[u8],
) -> Result<FileEntry, IndexError> {
    Ok(FileEntry {
        filename: name.to_string(),
        version: filename.version.clone(),
        sha256,
        size: fs_err::metadata(path)?.len(),
        metadata_sha256: sha256_hex(metadata),
        requires_python: metadata_field(metadata, "Requires-Python"),
    })
}

/// Escapes text for HTML content and double-quoted attribute values (the index pages' rules).
/// The entries of `dir`, sorted by path; none when it does not exist (an index's optional
/// areas: `variants/`, `libraries/`).
pub(crate) fn sorted_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut entries = Vec::new();
    for entry in fs_err::read_dir(dir)? {
        entries.push(entry?.path());
    }
    entries.sort();
    Ok(entries)
}

pub(crate) fn html_escape(text: &str) -> String {
    html::escape(text)
}

/// Percent-encodes one URL path segment: every byte but `A-Z a-z 0-9 - . _ ~ ! +` (the
/// characters of wheel and sdist names stay as pip writes them).
pub(crate) fn url_segment(text: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'!')
        .remove(b'+');
    percent_encoding::utf8_percent_encode(text, SEGMENT).to_string()
}

fn metadata_path(wheel: &Path) -> PathBuf {
    let mut path = wheel.as_os_str().to_owned();
    path.push(METADATA_SUFFIX);
    PathBuf::from(path)
}

#[cfg(test)]
mod tests;

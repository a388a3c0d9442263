//! One consistent state of the index, read under its shared lock.
//!
//! This module owns deciding what of an index root is published: the wheels in `packages/`,
//! their PEP 658 `.metadata` files and the `simple/` pages of the projects that have wheels,
//! never the lock file, temporary files or anything hidden. It checks that the pages exist
//! (a missing page means the index needs `wheelforge index`), and describes each wheel (size,
//! SHA-256, Requires-Python) for pages that link to it from elsewhere. It copies nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::PublishError;
use crate::index::{Index, IndexError};
use crate::tags::WheelFilename;

/// A wheel as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wheel {
    /// The filename, e.g. `six-1.17.0-py3-none-any.whl`.
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    pub requires_python: Option<String>,
}

/// What an index root holds, as of one moment.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub root: PathBuf,
    /// Every file to publish, relative to the root with `/` separators, sorted.
    pub files: Vec<String>,
    /// Wheels sorted by filename.
    pub wheels: Vec<Wheel>,
    /// Normalized project names, sorted.
    pub projects: Vec<String>,
}

impl Snapshot {
    /// Reads the index while holding its shared lock, and returns the lock with the snapshot:
    /// a caller that copies the files keeps it until it is done, so that no build changes the
    /// index halfway through the copy.
    pub fn read(index: &Index) -> Result<(Snapshot, crate::lock::Held), PublishError> {
        let lock = index.read_lock()?;
        let root = index.root().to_path_buf();
        let packages = index.packages_dir();
        let mut wheels: BTreeMap<String, WheelFilename> = BTreeMap::new();
        let mut metadata = Vec::new();
        for entry in fs_err::read_dir(&packages)? {
            let path = entry?.path();
            let stray = |reason: &str| IndexError::Stray {
                path: path.clone(),
                reason: reason.to_string(),
            };
            let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
                return Err(stray("its name is not UTF-8").into());
            };
            if name.starts_with('.') {
                continue; // The lock, temporary files, .gitkeep: not part of the index.
            }
            if name.ends_with(".whl.metadata") {
                metadata.push(name.to_string());
            } else {
                let filename: WheelFilename =
                    name.parse().map_err(|error| stray(&format!("{error}")))?;
                wheels.insert(name.to_string(), filename);
            }
        }
        if wheels.is_empty() {
            return Err(PublishError::Empty { root });
        }

        let require = |relative: String| -> Result<String, PublishError> {
            if root.join(&relative).is_file() {
                Ok(relative)
            } else {
                Err(PublishError::Incomplete {
                    root: root.clone(),
                    missing: relative,
                })
            }
        };
        let optional = |relative: String| root.join(&relative).is_file().then_some(relative);

        let mut files = Vec::new();
        let mut projects: Vec<String> = wheels.values().map(|w| w.normalized_name()).collect();
        projects.sort();
        projects.dedup();
        files.push(require("simple/index.html".to_string())?);
        files.extend(optional("simple/index.json".to_string()));
        for project in &projects {
            files.push(require(format!("simple/{project}/index.html"))?);
            files.extend(optional(format!("simple/{project}/index.json")));
        }
        let mut described = Vec::new();
        for name in wheels.keys() {
            let metadata_name = format!("{name}.metadata");
            if !metadata.contains(&metadata_name) {
                return Err(PublishError::Incomplete {
                    root: root.clone(),
                    missing: format!("packages/{metadata_name}"),
                });
            }
            files.push(format!("packages/{name}"));
            files.push(format!("packages/{metadata_name}"));
            described.push(describe(&packages, name)?);
        }
        files.sort();
        Ok((
            Snapshot {
                root,
                files,
                wheels: described,
                projects,
            },
            lock,
        ))
    }
}

fn describe(packages: &Path, name: &str) -> Result<Wheel, PublishError> {
    let path = packages.join(name);
    let (sha256, size) = crate::digest::sha256_file_sized(&path)?;
    let metadata = fs_err::read_to_string(packages.join(format!("{name}.metadata")))?;
    let requires_python = crate::wheel::metadata::Headers::parse(&metadata)
        .get("Requires-Python")
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty());
    Ok(Wheel {
        name: name.to_string(),
        path,
        size,
        sha256,
        requires_python,
    })
}

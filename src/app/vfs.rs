//! Stage 4 of `app build`: every file the app may read at run time, packed into the component.
//!
//! The files of the runtime's standard library, the installed dependencies and the app are
//! packed, by their guest paths, into one archive that `toolchain/wheelforge_vfs.py` loads at
//! link time. componentize-py's snapshot then holds it, and the module serves those paths from
//! memory (its docstring has the format). Each file is raw-deflated unless that does not make
//! it smaller. Extension modules are listed without their bytes: componentize-py links them
//! into the component and loads them by path. `__pycache__` directories are left out (the
//! runtime compiles a lazily imported module from its source), and so are the patterns in
//! `[tool.wheelforge.app] exclude`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The bootstrap module, imported first by every app.
pub const MODULE: &str = include_str!("../../toolchain/wheelforge_vfs.py");
pub const MODULE_NAME: &str = "wheelforge_vfs";
pub const INDEX_NAME: &str = "_wheelforge_vfs.json";
pub const BLOB_NAME: &str = "_wheelforge_vfs.bin";

/// Parts of the standard library that cannot work under WASI or are not for apps (the test
/// suite, Tk, IDLE, the bundled pip wheels).
pub const STDLIB_EXCLUDE: &[&str] = &[
    "test/**",
    "idlelib/**",
    "tkinter/**",
    "turtledemo/**",
    "ensurepip/**",
    "site-packages/**",
];

#[derive(Debug, thiserror::Error)]
pub enum VfsError {
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{pattern}` in [tool.wheelforge.app] exclude is not a glob: {detail}")]
    Pattern { pattern: String, detail: String },
}

/// A host directory packed at a guest path, with the patterns (relative to it) left out.
#[derive(Debug, Clone)]
pub struct Tree {
    pub host: PathBuf,
    pub guest: String,
    pub exclude: Vec<String>,
}

/// What was packed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Packed {
    /// Files packed (extension modules, listed without their bytes, are not counted).
    pub files: usize,
    /// The packed files' sizes.
    pub bytes: u64,
    /// The archive's size (what the component carries).
    pub stored: u64,
}

fn glob_set(patterns: &[String]) -> Result<globset::GlobSet, VfsError> {
    let mut builder = globset::GlobSetBuilder::new();
    for pattern in patterns {
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|error| VfsError::Pattern {
                pattern: pattern.clone(),
                detail: error.to_string(),
            })?;
        builder.add(glob);
    }
    builder.build().map_err(|error| VfsError::Pattern {
        pattern: patterns.join(", "),
        detail: error.to_string(),
    })
}

/// Packs `trees` into `INDEX_NAME` and `BLOB_NAME` in `out_dir`. The archive's listings show
/// only what was packed, so that a directory walk inside the component agrees with a read.
pub fn pack(trees: &[Tree], out_dir: &Path) -> Result<Packed, VfsError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| VfsError::Io { path, source }
    };
    let mut files: BTreeMap<String, (u64, u64, i64)> = BTreeMap::new();
    let mut dirs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut blob: Vec<u8> = Vec::new();
    let mut packed = Packed::default();
    for tree in trees {
        let excluded = glob_set(&tree.exclude)?;
        let root = tree.guest.trim_end_matches('/').to_string();
        dirs.entry(if root.is_empty() {
            "/".into()
        } else {
            root.clone()
        })
        .or_default();
        // Parents of the root, so that `/` lists it.
        let mut child = root.clone();
        while let Some((parent, name)) = child.rsplit_once('/') {
            let parent = if parent.is_empty() {
                "/".to_string()
            } else {
                parent.to_string()
            };
            let names = dirs.entry(parent.clone()).or_default();
            if !name.is_empty() && !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
            if parent == "/" {
                break;
            }
            child = parent;
        }
        let relative_text = |path: &Path| {
            path.strip_prefix(&tree.host)
                .expect("walkdir stays under its root")
                .to_string_lossy()
                .replace('\\', "/")
        };
        // A directory whose every file is excluded (`pkg/tests/**`) is left out with them.
        let walk = walkdir::WalkDir::new(&tree.host)
            .sort_by_file_name()
            .min_depth(1)
            .into_iter()
            .filter_entry(|entry| {
                let relative = relative_text(entry.path());
                !(entry.file_name() == "__pycache__"
                    || excluded.is_match(&relative)
                    || (entry.file_type().is_dir() && excluded.is_match(format!("{relative}/-")))
                    || relative == INDEX_NAME
                    || relative == BLOB_NAME)
            });
        for entry in walk {
            let entry = entry.map_err(|error| {
                let path = error.path().unwrap_or(&tree.host).to_path_buf();
                VfsError::Io {
                    path,
                    source: error.into(),
                }
            })?;
            let relative_text = relative_text(entry.path());
            let guest = format!("{root}/{relative_text}");
            let (parent, name) = guest.rsplit_once('/').expect("guest paths are absolute");
            let parent = if parent.is_empty() { "/" } else { parent };
            let file_type = entry.file_type();
            let is_dir = file_type.is_dir() || (file_type.is_symlink() && entry.path().is_dir());
            if is_dir {
                dirs.entry(guest.clone()).or_default();
            } else if !entry.path().is_file() {
                continue;
            }
            dirs.entry(parent.to_string())
                .or_default()
                .push(name.to_string());
            if is_dir {
                continue;
            }
            let data = fs_err::read(entry.path()).map_err(io(entry.path()))?;
            let size = data.len() as u64;
            let offset = blob.len() as u64;
            if crate::wheel::repair::is_dylink_module(&data) {
                files.insert(guest, (offset, size, -1));
                continue;
            }
            packed.files += 1;
            packed.bytes += size;
            let mut encoder =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
            encoder.write_all(&data).map_err(io(entry.path()))?;
            let compressed = encoder.finish().map_err(io(entry.path()))?;
            let stored = if compressed.len() < data.len() {
                compressed
            } else {
                data
            };
            files.insert(guest, (offset, size, stored.len() as i64));
            blob.extend_from_slice(&stored);
        }
    }
    for names in dirs.values_mut() {
        names.sort();
        names.dedup();
    }
    let index = serde_json::json!({
        "mtime": crate::wheel::source_date_epoch().unwrap_or(0),
        "files": files.iter().map(|(path, (offset, size, stored))| (path.clone(), serde_json::json!([offset, size, stored]))).collect::<serde_json::Map<_, _>>(),
        "dirs": dirs,
    });
    fs_err::create_dir_all(out_dir).map_err(io(out_dir))?;
    let index_path = out_dir.join(INDEX_NAME);
    fs_err::write(
        &index_path,
        serde_json::to_vec(&index).expect("the index serializes"),
    )
    .map_err(io(&index_path))?;
    let blob_path = out_dir.join(BLOB_NAME);
    fs_err::write(&blob_path, &blob).map_err(io(&blob_path))?;
    fs_err::write(out_dir.join(format!("{MODULE_NAME}.py")), MODULE).map_err(io(out_dir))?;
    packed.stored = blob.len() as u64;
    Ok(packed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn trees_are_packed_by_guest_path_without_bytecode_or_exclusions() {
        let host = tempfile::tempdir().unwrap();
        let files = [
            ("pkg/__init__.py", "x = 1\n".repeat(50)),
            ("pkg/data/zone.txt", "Europe/Paris".to_string()),
            ("pkg/tests/test_x.py", "assert True\n".to_string()),
            (
                "pkg/__pycache__/__init__.cpython-314.pyc",
                "junk".to_string(),
            ),
        ];
        for (path, text) in &files {
            let path = host.path().join(path);
            fs_err::create_dir_all(path.parent().unwrap()).unwrap();
            fs_err::write(path, text).unwrap();
        }
        let out = tempfile::tempdir().unwrap();
        let packed = pack(
            &[Tree {
                host: host.path().to_path_buf(),
                guest: "/1".into(),
                exclude: vec!["pkg/tests/**".into()],
            }],
            out.path(),
        )
        .unwrap();
        assert_eq!(packed.files, 2);
        let index: serde_json::Value =
            serde_json::from_slice(&fs_err::read(out.path().join(INDEX_NAME)).unwrap()).unwrap();
        let listed: Vec<&String> = index["files"].as_object().unwrap().keys().collect();
        assert_eq!(listed, ["/1/pkg/__init__.py", "/1/pkg/data/zone.txt"]);
        assert_eq!(index["dirs"]["/"], serde_json::json!(["1"]));
        assert_eq!(
            index["dirs"]["/1/pkg"],
            serde_json::json!(["__init__.py", "data"])
        );
        // The compressed file inflates to its bytes.
        let entry = index["files"]["/1/pkg/__init__.py"].as_array().unwrap();
        let (offset, size, stored) = (
            entry[0].as_u64().unwrap() as usize,
            entry[1].as_u64().unwrap(),
            entry[2].as_i64().unwrap() as usize,
        );
        assert!((stored as u64) < size);
        let blob = fs_err::read(out.path().join(BLOB_NAME)).unwrap();
        let mut text = String::new();
        flate2::read::DeflateDecoder::new(&blob[offset..offset + stored])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, files[0].1);
        assert!(out.path().join("wheelforge_vfs.py").is_file());
    }
}

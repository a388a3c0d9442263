//! Which recipes changed since a git revision, and which recipes depend on them.
//!
//! A recipe's content is its directory `recipes/<name>/` and its patches `patches/<name>/`,
//! digested with `digest::sha256_tree` (every file's path and SHA-256): the same digest for
//! the working tree and for the revision's tree, which is read with `git ls-tree` and
//! `git cat-file` into a temporary directory (nothing in the repository changes). A recipe is
//! changed when its digest differs or the revision does not have it; its dependents are every
//! recipe that needs it through host, run or test requirements, transitively.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{CiError, requirements};
use crate::recipe::RecipeSet;
use crate::tags::normalize_name;

/// What differs between a git revision and the working tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// The revision as given.
    pub reference: String,
    /// Recipes whose directory or patches differ from the revision's, or that it does not have.
    pub changed: BTreeSet<String>,
    /// The part of `changed` that the revision does not have.
    pub added: BTreeSet<String>,
    /// Recipes the revision has and the working tree does not (nothing to build).
    pub deleted: BTreeSet<String>,
    /// Recipes not changed themselves that need a changed one, transitively.
    pub dependents: BTreeSet<String>,
}

impl Changes {
    /// What a CI run builds: the changed recipes and their dependents.
    pub fn selection(&self) -> BTreeSet<String> {
        self.changed.union(&self.dependents).cloned().collect()
    }
}

/// Compares `set` (the working tree) with the same directories at git revision `reference`.
pub fn changed_since(set: &RecipeSet, reference: &str) -> Result<Changes, CiError> {
    let git = Git::discover(&set.recipes_dir)?;
    let commit = git.resolve(reference)?;
    let recipes_relative = git.relative(&set.recipes_dir)?;
    let patches_relative = git.relative(&set.patches_dir)?;

    let old_root = tempfile::tempdir().map_err(|source| CiError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    git.extract(
        &commit,
        &[&recipes_relative, &patches_relative],
        old_root.path(),
    )?;
    let old = digests(
        &old_root.path().join(&recipes_relative),
        &old_root.path().join(&patches_relative),
    )?;
    let new = digests(&set.recipes_dir, &set.patches_dir)?;

    let mut changes = Changes {
        reference: reference.to_string(),
        ..Changes::default()
    };
    for (name, digest) in &new {
        match old.get(name) {
            None => {
                changes.added.insert(name.clone());
                changes.changed.insert(name.clone());
            }
            Some(before) if before != digest => {
                changes.changed.insert(name.clone());
            }
            Some(_) => {}
        }
    }
    changes.deleted = old
        .keys()
        .filter(|name| !new.contains_key(*name))
        .cloned()
        .collect();

    // Dependents: walk the reversed requirement edges from the changed recipes.
    let mut needed_by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in set.recipes.keys() {
        for dependency in requirements(set, name) {
            needed_by
                .entry(dependency)
                .or_default()
                .insert(name.clone());
        }
    }
    let mut stack: Vec<String> = changes.changed.iter().cloned().collect();
    while let Some(name) = stack.pop() {
        for dependent in needed_by.get(&name).into_iter().flatten() {
            if !changes.changed.contains(dependent) && changes.dependents.insert(dependent.clone())
            {
                stack.push(dependent.clone());
            }
        }
    }
    Ok(changes)
}

/// Each recipe directory's content digest (with its patches), by normalized name.
fn digests(recipes_dir: &Path, patches_dir: &Path) -> Result<BTreeMap<String, String>, CiError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CiError::Io { path, source }
    };
    let mut found = BTreeMap::new();
    if !recipes_dir.is_dir() {
        return Ok(found);
    }
    for entry in fs_err::read_dir(recipes_dir).map_err(io(recipes_dir))? {
        let dir = entry.map_err(io(recipes_dir))?.path();
        if !dir.join("meta.yaml").is_file() {
            continue;
        }
        let name = dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let recipe = crate::digest::sha256_tree(&dir).map_err(io(&dir))?;
        let patches = patches_dir.join(&name);
        let patches = if patches.is_dir() {
            crate::digest::sha256_tree(&patches).map_err(io(&patches))?
        } else {
            "none".to_string()
        };
        found.insert(normalize_name(&name), format!("{recipe} {patches}"));
    }
    Ok(found)
}

/// Read-only git commands in one repository.
struct Git {
    top: PathBuf,
}

impl Git {
    /// The repository that holds `dir`.
    fn discover(dir: &Path) -> Result<Git, CiError> {
        let output = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["rev-parse", "--show-toplevel"])
            .output()
            .map_err(|source| CiError::GitMissing { source })?;
        if !output.status.success() {
            let detail = String::from_utf8_lossy(&output.stderr).trim().to_string();
            return Err(if detail.contains("not a git repository") {
                CiError::NotAGitRepository {
                    dir: dir.to_path_buf(),
                }
            } else {
                CiError::Git {
                    arguments: "rev-parse --show-toplevel".into(),
                    dir: dir.to_path_buf(),
                    detail,
                }
            });
        }
        let top = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        let top = fs_err::canonicalize(&top).map_err(|source| CiError::Io { path: top, source })?;
        Ok(Git { top })
    }

    fn command(&self) -> Command {
        let mut command = Command::new("git");
        command.arg("-C").arg(&self.top);
        command
    }

    fn run(&self, arguments: &[&str]) -> Result<Vec<u8>, CiError> {
        let output = self
            .command()
            .args(arguments)
            .output()
            .map_err(|source| CiError::GitMissing { source })?;
        if !output.status.success() {
            return Err(CiError::Git {
                arguments: arguments.join(" "),
                dir: self.top.clone(),
                detail: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
        Ok(output.stdout)
    }

    /// The commit id `reference` names.
    fn resolve(&self, reference: &str) -> Result<String, CiError> {
        let output = self
            .command()
            .args(["rev-parse", "--verify", "--end-of-options"])
            .arg(format!("{reference}^{{commit}}"))
            .output()
            .map_err(|source| CiError::GitMissing { source })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(CiError::UnknownRevision {
                reference: reference.to_string(),
                repository: self.top.clone(),
                detail: stderr
                    .lines()
                    .next()
                    .unwrap_or("not a commit")
                    .trim_start_matches("fatal: ")
                    .to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// `path` relative to the repository's top directory, `/`-separated. A directory that does
    /// not exist yet is placed by its parent.
    fn relative(&self, path: &Path) -> Result<String, CiError> {
        let absolute = match fs_err::canonicalize(path) {
            Ok(found) => found,
            Err(_) => {
                let parent = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                fs_err::canonicalize(parent)
                    .map_err(|source| CiError::Io {
                        path: parent.to_path_buf(),
                        source,
                    })?
                    .join(path.file_name().unwrap_or_default())
            }
        };
        let relative =
            absolute
                .strip_prefix(&self.top)
                .map_err(|_| CiError::OutsideRepository {
                    path: path.to_path_buf(),
                    repository: self.top.clone(),
                })?;
        Ok(relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"))
    }

    /// Writes the files under `paths` at `commit` into `into`, at their repository paths.
    fn extract(&self, commit: &str, paths: &[&str], into: &Path) -> Result<(), CiError> {
        let mut arguments = vec!["ls-tree", "-r", "-z", commit, "--"];
        arguments.extend(paths.iter().map(|p| if p.is_empty() { "." } else { *p }));
        let listing = self.run(&arguments)?;
        let mut files = Vec::new();
        for entry in listing.split(|b| *b == 0).filter(|e| !e.is_empty()) {
            let entry = String::from_utf8_lossy(entry);
            let Some((meta, path)) = entry.split_once('\t') else {
                continue;
            };
            let fields: Vec<&str> = meta.split(' ').collect();
            // Blobs only: submodules (commits) have no content here.
            if let [mode, "blob", object] = fields[..] {
                files.push((mode.to_string(), object.to_string(), path.to_string()));
            }
        }
        let blobs = self.blobs(files.iter().map(|(_, object, _)| object.as_str()))?;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CiError::Io { path, source }
        };
        for ((mode, _, path), content) in files.iter().zip(blobs) {
            let target = into.join(path);
            if let Some(parent) = target.parent() {
                fs_err::create_dir_all(parent).map_err(io(parent))?;
            }
            if mode == "120000" {
                let link = String::from_utf8_lossy(&content).into_owned();
                std::os::unix::fs::symlink(link, &target).map_err(io(&target))?;
            } else {
                fs_err::write(&target, content).map_err(io(&target))?;
            }
        }
        Ok(())
    }

    /// The contents of `objects`, in order, from one `git cat-file --batch`.
    fn blobs<'a>(&self, objects: impl Iterator<Item = &'a str>) -> Result<Vec<Vec<u8>>, CiError> {
        let request: String = objects.map(|object| format!("{object}\n")).collect();
        let failed = |detail: String| CiError::Git {
            arguments: "cat-file --batch".into(),
            dir: self.top.clone(),
            detail,
        };
        let mut child = self
            .command()
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| CiError::GitMissing { source })?;
        let mut stdin = child.stdin.take().expect("piped");
        // Written from a thread: git answers while it reads, and both pipes are bounded.
        let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
        let mut reader = BufReader::new(child.stdout.take().expect("piped"));
        let mut blobs = Vec::new();
        let mut header = String::new();
        loop {
            header.clear();
            if reader
                .read_line(&mut header)
                .map_err(|e| failed(e.to_string()))?
                == 0
            {
                break;
            }
            let size: usize = header
                .trim_end()
                .rsplit(' ')
                .next()
                .and_then(|size| size.parse().ok())
                .ok_or_else(|| failed(format!("unexpected answer {:?}", header.trim_end())))?;
            let mut content = vec![0; size + 1];
            reader
                .read_exact(&mut content)
                .map_err(|e| failed(e.to_string()))?;
            content.pop(); // The newline after each object.
            blobs.push(content);
        }
        writer
            .join()
            .expect("the writer thread does not panic")
            .map_err(|e| failed(e.to_string()))?;
        let output = child
            .wait_with_output()
            .map_err(|e| failed(e.to_string()))?;
        if !output.status.success() {
            return Err(failed(
                String::from_utf8_lossy(&output.stderr).trim().to_string(),
            ));
        }
        Ok(blobs)
    }
}

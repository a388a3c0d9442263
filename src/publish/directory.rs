//! `publish --to-dir`: the index as a static site that GitHub Pages (or any static host) serves.
//!
//! This module owns the site's layout: the index's `packages/` and `simple/` as they are (their
//! links are relative, so the site works under any URL prefix), its variant indexes
//! (`variants/NAME/`) and library archives (`libraries/`) at the same places, plus `.nojekyll` (GitHub Pages
//! then serves the files as they are instead of running Jekyll over them),
//! a root `index.html` saying how to install from it, and the marker `.wheelforge-site` that
//! lets the next publish replace a directory it wrote and refuse any other. The site is built
//! in a temporary directory beside DIR and swapped in with one rename (`renameat2` with
//! `RENAME_EXCHANGE` where the filesystem has it), so a reader sees the old site or the new
//! one, never a mixture. It does not upload anything or run a server.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::PublishError;
use super::snapshot::Snapshot;
use crate::index::{Index, html_escape, url_segment};
use crate::reporter::Reporter;

/// The file that marks a directory as written by `publish --to-dir`.
pub const SITE_MARKER: &str = ".wheelforge-site";

/// What `publish_to_dir` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteSummary {
    pub dir: PathBuf,
    pub projects: usize,
    pub wheels: usize,
    /// Files in the site, the extra root files included.
    pub files: usize,
    /// False when DIR already held exactly this site and was left alone.
    pub changed: bool,
}

/// Copies the index at `index` into `dir` as a static site, replacing a site a previous
/// publish wrote there.
pub fn publish_to_dir(
    index: &Index,
    dir: &Path,
    reporter: &dyn Reporter,
) -> Result<SiteSummary, PublishError> {
    let dir = std::path::absolute(dir)?;
    let (parent, name) = match (dir.parent(), dir.file_name()) {
        (Some(parent), Some(name)) => (parent.to_path_buf(), name.to_string_lossy().into_owned()),
        _ => {
            return Err(PublishError::NotASite {
                dir,
                marker: SITE_MARKER,
            });
        }
    };
    fs_err::create_dir_all(&parent)?;
    // One publish to DIR at a time; the lock also guards removing leftovers of killed runs.
    let lock = fs_err::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(parent.join(format!(".{name}.wheelforge-publish.lock")))?;
    lock.file().lock()?;
    let staging_prefix = format!(".{name}.wheelforge-");
    for entry in fs_err::read_dir(&parent)? {
        let entry = entry?;
        let entry_name = entry.file_name().to_string_lossy().into_owned();
        if entry_name.starts_with(&staging_prefix) && entry.file_type()?.is_dir() {
            fs_err::remove_dir_all(entry.path())?;
        }
    }
    let existing = fs_err::symlink_metadata(&dir).is_ok();
    if existing && !is_replaceable(&dir)? {
        return Err(PublishError::NotASite {
            dir,
            marker: SITE_MARKER,
        });
    }

    reporter.message(
        "publish",
        &format!("copying the index into {}", dir.display()),
    );
    let staging = tempfile::Builder::new()
        .prefix(&staging_prefix)
        .tempdir_in(&parent)?;
    let (snapshot, index_lock) = Snapshot::read(index)?;
    set_mode(staging.path(), 0o755)?;
    for relative in &snapshot.files {
        copy_file(
            &snapshot.root.join(relative),
            &staging.path().join(relative),
        )?;
    }
    drop(index_lock);
    let extra = copy_variants_and_libraries(index.root(), staging.path())?;
    write_file(&staging.path().join(".nojekyll"), b"")?;
    write_file(
        &staging.path().join("index.html"),
        landing_page(&snapshot.projects).as_bytes(),
    )?;
    write_file(
        &staging.path().join(SITE_MARKER),
        b"written by `wheelforge publish --to-dir`; the next publish replaces this directory\n",
    )?;
    let summary = SiteSummary {
        dir: dir.clone(),
        projects: snapshot.projects.len(),
        wheels: snapshot.wheels.len(),
        files: snapshot.files.len() + extra + 3,
        changed: true,
    };

    if existing && crate::digest::sha256_tree(&dir)? == crate::digest::sha256_tree(staging.path())?
    {
        return Ok(SiteSummary {
            changed: false,
            ..summary
        });
    }
    swap_into_place(staging, &dir, &parent, &staging_prefix)?;
    fs_err::File::open(&parent)?.sync_all()?;
    Ok(summary)
}

/// Copies the variant indexes (`variants/NAME/`, each read as one snapshot under its own lock)
/// and the library archives (`libraries/`) of the index at `root` into the site at `site`,
/// at the same places: a variant's pages link relatively, so pip reads it at
/// `URL/variants/NAME/simple/`. Returns the number of files copied.
fn copy_variants_and_libraries(root: &Path, site: &Path) -> Result<usize, PublishError> {
    let mut copied = 0;
    for variant in crate::index::sorted_entries(&root.join("variants"))? {
        if !variant.join("packages").is_dir() {
            continue;
        }
        let relative = variant.strip_prefix(root).unwrap_or(&variant);
        let (snapshot, lock) = Snapshot::read(&Index::open(&variant)?)?;
        for file in &snapshot.files {
            copy_file(&snapshot.root.join(file), &site.join(relative).join(file))?;
            copied += 1;
        }
        drop(lock);
    }
    let libraries = root.join(crate::library::LIBRARIES_DIR);
    for archive in crate::index::sorted_entries(&libraries)? {
        let hidden = archive
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with('.'));
        if archive.is_file() && !hidden {
            let relative = archive.strip_prefix(root).unwrap_or(&archive);
            copy_file(&archive, &site.join(relative))?;
            copied += 1;
        }
    }
    Ok(copied)
}

/// Whether `dir` may be replaced: an empty directory, or a site a publish wrote.
fn is_replaceable(dir: &Path) -> Result<bool, PublishError> {
    let metadata = fs_err::symlink_metadata(dir)?;
    if !metadata.is_dir() {
        return Ok(false);
    }
    Ok(dir.join(SITE_MARKER).is_file() || fs_err::read_dir(dir)?.next().is_none())
}

/// Puts the finished site at `dir`: atomically exchanged with the old site where the kernel
/// and filesystem can, otherwise the old site is renamed away first (a moment without DIR, but
/// never a partial site).
fn swap_into_place(
    staging: tempfile::TempDir,
    dir: &Path,
    parent: &Path,
    prefix: &str,
) -> Result<(), PublishError> {
    if fs_err::symlink_metadata(dir).is_err() {
        let staged = staging.keep();
        fs_err::rename(&staged, dir)?;
        return Ok(());
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, staging.path(), CWD, dir, RenameFlags::EXCHANGE) {
            // The temporary directory now holds the old site; dropping it removes that.
            Ok(()) => return Ok(()),
            Err(
                rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS | rustix::io::Errno::NOTSUP,
            ) => {
                // The filesystem or kernel cannot exchange: fall back to two renames.
            }
            Err(error) => {
                return Err(std::io::Error::other(format!(
                    "cannot exchange {} with {}: {error}",
                    staging.path().display(),
                    dir.display()
                ))
                .into());
            }
        }
    }
    // An empty directory is a valid target for renaming a directory over it.
    let old = tempfile::Builder::new().prefix(prefix).tempdir_in(parent)?;
    fs_err::rename(dir, old.path())?;
    let staged = staging.keep();
    fs_err::rename(&staged, dir)?;
    drop(old);
    Ok(())
}

/// Copies one file of the index (creating its directory), world-readable, synced.
fn copy_file(from: &Path, to: &Path) -> Result<(), PublishError> {
    if let Some(dir) = to.parent() {
        create_dirs(dir)?;
    }
    let mut source = fs_err::File::open(from)?;
    let mut target = fs_err::File::create(to)?;
    std::io::copy(&mut source, &mut target)?;
    target.sync_all()?;
    set_mode(to, 0o644)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), PublishError> {
    let mut file = fs_err::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    set_mode(path, 0o644)
}

/// `create_dir_all` whose new directories are world-readable whatever the umask.
fn create_dirs(dir: &Path) -> Result<(), PublishError> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs(parent)?;
    }
    fs_err::create_dir(dir)?;
    set_mode(dir, 0o755)
}

fn set_mode(path: &Path, mode: u32) -> Result<(), PublishError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    let _ = (path, mode);
    Ok(())
}

/// The site's `index.html`: what this is, how to install from it, and the projects.
fn landing_page(projects: &[String]) -> String {
    let pip_arguments = crate::testing::CONSUMER_PIP_ARGUMENTS.join(" ");
    let mut page = format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta charset=\"utf-8\">\n    \
         <title>Wheel index</title>\n  </head>\n  <body>\n    <h1>Wheel index</h1>\n    \
         <p>Wheels for Python on WASI, as a <a href=\"simple/\">PEP 503 simple index</a>. \
         Install with pip, giving the URL of <code>simple/</code> under this page:</p>\n    \
         <pre>pip install --index-url URL/simple/ {} --target deps PROJECT</pre>\n    \
         <h2>Projects</h2>\n    <ul>\n",
        html_escape(&pip_arguments)
    );
    for project in projects {
        page.push_str(&format!(
            "      <li><a href=\"simple/{}/\">{}</a></li>\n",
            html_escape(&url_segment(project)),
            html_escape(project)
        ));
    }
    page.push_str("    </ul>\n  </body>\n</html>\n");
    page
}

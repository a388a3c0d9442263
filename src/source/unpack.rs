//! Safe unpacking of source archives (`.tar.gz`, `.tgz`, `.tar`, `.zip`).
//!
//! Every entry is checked before anything is written: no absolute paths, no `..`, no link whose
//! target leaves the tree, no device files. The archive is unpacked into a temporary directory
//! beside the destination and renamed into place, so a refused archive leaves nothing behind.
//! This module does not fetch or verify archives (see `crate::source`).

use std::io::Read;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("refusing to unpack {archive}: entry `{entry}` {reason}\n  help: the archive is unsafe or corrupt; do not build it", archive = archive.display())]
    Unsafe {
        archive: PathBuf,
        entry: String,
        reason: &'static str,
    },
    #[error("cannot unpack {archive}: unsupported archive type\n  help: wheelforge unpacks .tar.gz, .tgz, .tar and .zip archives", archive = archive.display())]
    Unsupported { archive: PathBuf },
    #[error("cannot unpack {archive}: {detail}", archive = archive.display())]
    Corrupt { archive: PathBuf, detail: String },
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Checks that `entry` is a plain relative path and returns it normalized.
fn safe_relative(archive: &Path, entry: &str) -> Result<PathBuf, UnpackError> {
    let unsafe_entry = |reason| UnpackError::Unsafe {
        archive: archive.to_path_buf(),
        entry: entry.to_string(),
        reason,
    };
    let mut out = PathBuf::new();
    for component in Path::new(entry).components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(unsafe_entry("contains `..`")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(unsafe_entry("has an absolute path"));
            }
        }
    }
    Ok(out)
}

/// Checks that a link at `entry_path` (relative to the tree) pointing at `target` stays inside.
fn check_link(
    archive: &Path,
    entry: &str,
    entry_path: &Path,
    target: &Path,
) -> Result<(), UnpackError> {
    let escapes = || UnpackError::Unsafe {
        archive: archive.to_path_buf(),
        entry: entry.to_string(),
        reason: "is a link that points outside the source tree",
    };
    if target.is_absolute() {
        return Err(escapes());
    }
    let mut depth: usize = entry_path.components().count().saturating_sub(1);
    for component in target.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => depth = depth.checked_sub(1).ok_or_else(escapes)?,
            Component::RootDir | Component::Prefix(_) => return Err(escapes()),
        }
    }
    Ok(())
}

/// Unpacks `archive` into `destination` (which must not exist) and returns the source root:
/// the single top-level directory if the archive has exactly one, else `destination`.
pub fn unpack(archive: &Path, destination: &Path) -> Result<PathBuf, UnpackError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| UnpackError::Io { path, source }
    };
    let parent = destination.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(parent).map_err(io(parent))?;
    let staging = tempfile::tempdir_in(parent).map_err(io(parent))?;
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        let file = fs_err::File::open(archive).map_err(io(archive))?;
        unpack_tar(archive, flate2::read::GzDecoder::new(file), staging.path())?;
    } else if name.ends_with(".tar") {
        let file = fs_err::File::open(archive).map_err(io(archive))?;
        unpack_tar(archive, file, staging.path())?;
    } else if name.ends_with(".zip") {
        unpack_zip(archive, staging.path())?;
    } else {
        return Err(UnpackError::Unsupported {
            archive: archive.to_path_buf(),
        });
    }
    let staged = staging.keep();
    fs_err::rename(&staged, destination).map_err(io(destination))?;
    let entries: Vec<PathBuf> = fs_err::read_dir(destination)
        .map_err(io(destination))?
        .flatten()
        .map(|e| e.path())
        .collect();
    match entries.as_slice() {
        [only] if only.is_dir() => Ok(only.clone()),
        _ => Ok(destination.to_path_buf()),
    }
}

fn unpack_tar(archive: &Path, reader: impl Read, into: &Path) -> Result<(), UnpackError> {
    let corrupt = |error: std::io::Error| UnpackError::Corrupt {
        archive: archive.to_path_buf(),
        detail: error.to_string(),
    };
    let mut tar = tar::Archive::new(reader);
    for entry in tar.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let raw = entry
            .path()
            .map_err(corrupt)?
            .to_string_lossy()
            .into_owned();
        let relative = safe_relative(archive, &raw)?;
        if relative.as_os_str().is_empty() {
            continue;
        }
        let target = into.join(&relative);
        let kind = entry.header().entry_type();
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| UnpackError::Io { path, source }
        };
        if let Some(parent) = target.parent() {
            fs_err::create_dir_all(parent).map_err(io(parent))?;
        }
        if kind.is_dir() {
            fs_err::create_dir_all(&target).map_err(io(&target))?;
        } else if kind.is_file() || kind == tar::EntryType::GNUSparse {
            let mode = entry.header().mode().unwrap_or(0o644);
            let mut out = fs_err::File::create(&target).map_err(io(&target))?;
            std::io::copy(&mut entry, &mut out).map_err(corrupt)?;
            set_executable(&target, mode & 0o111 != 0).map_err(io(&target))?;
        } else if kind.is_symlink() {
            let link = entry
                .link_name()
                .map_err(corrupt)?
                .map(|l| l.into_owned())
                .unwrap_or_default();
            check_link(archive, &raw, &relative, &link)?;
            std::os::unix::fs::symlink(&link, &target).map_err(io(&target))?;
        } else if kind.is_hard_link() {
            let link = entry
                .link_name()
                .map_err(corrupt)?
                .map(|l| l.to_string_lossy().into_owned())
                .unwrap_or_default();
            let source = into.join(safe_relative(archive, &link)?);
            if !source.is_file() {
                return Err(UnpackError::Unsafe {
                    archive: archive.to_path_buf(),
                    entry: raw,
                    reason: "is a hard link to a file that is not in the archive before it",
                });
            }
            fs_err::copy(&source, &target).map_err(io(&target))?;
        } else if kind.is_pax_global_extensions()
            || kind.is_pax_local_extensions()
            || kind.is_gnu_longname()
            || kind.is_gnu_longlink()
        {
            continue;
        } else {
            return Err(UnpackError::Unsafe {
                archive: archive.to_path_buf(),
                entry: raw,
                reason: "is a device, fifo or other special file",
            });
        }
    }
    Ok(())
}

fn unpack_zip(archive: &Path, into: &Path) -> Result<(), UnpackError> {
    let corrupt = |detail: String| UnpackError::Corrupt {
        archive: archive.to_path_buf(),
        detail,
    };
    let file = fs_err::File::open(archive).map_err(|source| UnpackError::Io {
        path: archive.to_path_buf(),
        source,
    })?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| corrupt(e.to_string()))?;
    for index in 0..zip.len() {
        let mut entry = zip.by_index(index).map_err(|e| corrupt(e.to_string()))?;
        let raw = entry.name().to_string();
        let relative = safe_relative(archive, &raw)?;
        let target = into.join(&relative);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| UnpackError::Io { path, source }
        };
        if entry.is_symlink() {
            return Err(UnpackError::Unsafe {
                archive: archive.to_path_buf(),
                entry: raw,
                reason: "is a symbolic link, which zip sources may not contain",
            });
        }
        if entry.is_dir() {
            fs_err::create_dir_all(&target).map_err(io(&target))?;
            continue;
        }
        if let Some(parent) = target.parent() {
            fs_err::create_dir_all(parent).map_err(io(parent))?;
        }
        let mut out = fs_err::File::create(&target).map_err(io(&target))?;
        std::io::copy(&mut entry, &mut out).map_err(|e| corrupt(e.to_string()))?;
        let executable = entry.unix_mode().is_some_and(|mode| mode & 0o111 != 0);
        set_executable(&target, executable).map_err(io(&target))?;
    }
    Ok(())
}

/// Copies a directory tree (regular files keep their executable bit; links are followed).
pub fn copy_tree(from: &Path, to: &Path) -> Result<(), UnpackError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| UnpackError::Io { path, source }
    };
    fs_err::create_dir_all(to).map_err(io(to))?;
    let mut entries: Vec<_> = fs_err::read_dir(from)
        .map_err(io(from))?
        .collect::<Result<_, _>>()
        .map_err(io(from))?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let source = entry.path();
        let target = to.join(entry.file_name());
        if source.is_dir() {
            copy_tree(&source, &target)?;
        } else {
            fs_err::copy(&source, &target).map_err(io(&source))?;
        }
    }
    Ok(())
}

fn set_executable(path: &Path, executable: bool) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

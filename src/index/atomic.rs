//! Hashing files and replacing them atomically.
//!
//! This module owns how the index touches the disk: every file is written to a temporary file
//! in its own directory (named with `TEMP_PREFIX`, readable by everyone) and renamed over its
//! destination, and a file whose bytes would not change is left alone. It does not take the
//! index lock; callers hold it.

use std::io::{self, Write};
use std::path::Path;

use super::{IndexError, TEMP_PREFIX};

pub(super) use crate::digest::sha256_hex;

/// The SHA-256 (hex) and size of a file.
pub(super) fn hash_file(path: &Path) -> Result<(String, u64), IndexError> {
    Ok(crate::digest::sha256_file_sized(path)?)
}

/// A temporary file next to `path`, readable by everyone (a static server may run as
/// another user), with the prefix that `rebuild` recognizes as a leftover.
pub(super) fn temp_file_for(path: &Path) -> Result<tempfile::NamedTempFile, IndexError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    builder
        .tempfile_in(dir)
        .map_err(|source| IndexError::Write {
            path: path.to_path_buf(),
            source,
        })
}

pub(super) fn persist(temp: tempfile::NamedTempFile, path: &Path) -> Result<(), IndexError> {
    let write_error = |source| IndexError::Write {
        path: path.to_path_buf(),
        source,
    };
    temp.as_file().sync_all().map_err(write_error)?;
    temp.persist(path)
        .map_err(|error| write_error(error.error))?;
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file and a rename, unless `path` already
/// holds exactly these bytes. Returns whether it wrote.
pub(super) fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool, IndexError> {
    if path.is_file() && fs_err::read(path)? == bytes {
        return Ok(false);
    }
    let mut temp = temp_file_for(path)?;
    temp.write_all(bytes).map_err(|source| IndexError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    persist(temp, path)?;
    Ok(true)
}

pub(super) fn copy_atomically(from: &Path, to: &Path) -> Result<(), IndexError> {
    let mut temp = temp_file_for(to)?;
    io::copy(&mut fs_err::File::open(from)?, &mut temp).map_err(|source| IndexError::Write {
        path: to.to_path_buf(),
        source,
    })?;
    persist(temp, to)
}

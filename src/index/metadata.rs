//! What the index reads from a wheel: its filename and its `.dist-info/METADATA`.
//!
//! This module owns checking a wheel filename for use in the index, finding and reading the
//! exact bytes of the project's `<name>-<version>.dist-info/METADATA` inside the zip, and
//! reading single RFC 822 header fields (`Requires-Python`) from them. It does not check the
//! rest of the wheel (RECORD, WHEEL, contents) and writes nothing.

use std::io::Read;
use std::path::Path;

use super::IndexError;
use crate::tags::{WheelFilename, normalize_name};

pub(super) fn normalize_name_of(wheel_name: &str) -> String {
    normalize_name(wheel_name.split('-').next().unwrap_or(wheel_name))
}

/// Parses a wheel filename and checks that its name and version use only the characters
/// that may appear in URLs and pages unescaped (PEP 427, PEP 440).
pub(super) fn parse_wheel_filename(name: &str) -> Result<WheelFilename, String> {
    let filename: WheelFilename = name.parse().map_err(|error| format!("{error}"))?;
    let name_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.');
    let version_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '+' | '!');
    if !filename.name.chars().all(name_ok)
        || !filename
            .name
            .starts_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Err(format!(
            "`{}` is not a distribution name: use letters, digits, `_` and `.`",
            filename.name
        ));
    }
    if !filename.version.chars().all(version_ok) {
        return Err(format!("`{}` is not a PEP 440 version", filename.version));
    }
    if let Err(error) = filename.version.parse::<pep440_rs::Version>() {
        return Err(format!(
            "`{}` is not a PEP 440 version: {error}",
            filename.version
        ));
    }
    Ok(filename)
}

/// The exact bytes of the wheel's `<name>-<version>.dist-info/METADATA`.
pub(super) fn read_metadata(wheel: &Path, filename: &WheelFilename) -> Result<Vec<u8>, IndexError> {
    let zip_error = |source| IndexError::Zip {
        path: wheel.to_path_buf(),
        source,
    };
    let mut archive = zip::ZipArchive::new(fs_err::File::open(wheel)?).map_err(zip_error)?;
    let project = filename.normalized_name();
    let candidates: Vec<String> = archive
        .file_names()
        .filter(|entry| {
            let Some(dir) = entry.strip_suffix(".dist-info/METADATA") else {
                return false;
            };
            !dir.contains('/') && normalize_name_of(dir) == project
        })
        .map(str::to_string)
        .collect();
    let entry = match candidates.as_slice() {
        [one] => one,
        [] => {
            return Err(IndexError::NoMetadata {
                path: wheel.to_path_buf(),
                expected: filename.dist_info_dir(),
            });
        }
        several => {
            return Err(IndexError::AmbiguousMetadata {
                path: wheel.to_path_buf(),
                found: several.join(", "),
            });
        }
    };
    let mut file = archive.by_name(entry).map_err(zip_error)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|source| IndexError::Zip {
            path: wheel.to_path_buf(),
            source: source.into(),
        })?;
    Ok(bytes)
}

/// The first non-empty value of a header field in core metadata.
pub(super) fn metadata_field(metadata: &[u8], field: &str) -> Option<String> {
    crate::wheel::metadata::Headers::parse(&String::from_utf8_lossy(metadata))
        .get(field)
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

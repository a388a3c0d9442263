//! Writing wheels (PEP 427 / PEP 491), reproducibly.
//!
//! This module owns the wheel archive: entry order (sorted, `.dist-info` last, `RECORD` last of
//! all), the RECORD file (urlsafe-base64 SHA-256 and size of every file, `RECORD,,` for itself),
//! fixed file modes, and timestamps from `SOURCE_DATE_EPOCH` or a fixed date. The same entries
//! always give the same bytes. Wheels are written to a temporary file beside the target and
//! renamed into place. Retagging a backend's wheel lives in `repair`; tags in `crate::tags`.

pub mod metadata;
pub mod repair;

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

use crate::tags::WheelFilename;

#[derive(Debug, thiserror::Error)]
pub enum WheelError {
    #[error("cannot write wheel {path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write wheel {path}: {source}", path = path.display())]
    Zip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("cannot read wheel {path}: {detail}\n  help: the build backend produced a broken wheel; see the build log", path = path.display())]
    Read { path: PathBuf, detail: String },
    #[error("{path}: the wheel has no {what}\n  help: the build backend produced an incomplete wheel; see the build log", path = path.display())]
    Missing { path: PathBuf, what: String },
    #[error(
        "the backend built {name} {built}, but the recipe says version {expected}\n  help: fix package.version in the recipe, or check that source.pypi names the right project"
    )]
    VersionMismatch {
        name: String,
        built: String,
        expected: String,
    },
    #[error("{path}: METADATA says version `{version}`, which is not a PEP 440 version: {detail}\n  help: the build backend wrote a version installers cannot read; check the project's version configuration (setuptools-scm, a version file) against package.version", path = path.display())]
    InvalidVersion {
        path: PathBuf,
        version: String,
        detail: String,
    },
    #[error(
        "backend `pure` produced a wheel with compiled code ({tag})\n  help: this package has extension modules; use a native backend (meson, setuptools, cmake)"
    )]
    NotPure { tag: String },
    #[error(
        "extension module `{path}` {problem}\n  help: build extension modules with the toolchain's compiler wrappers (docs/toolchain.md)"
    )]
    BadExtension { path: String, problem: String },
    #[error(
        "the backend built no extension modules, but the recipe's backend is a native one\n  help: if the build log shows a compile error before a fall back to pure Python (`fatal error: 'yaml.h' file not found`), add the library to requirements.host; a pure Python package uses `backend: pure`"
    )]
    NoExtensionModules,
    #[error(
        "SOURCE_DATE_EPOCH=`{value}` is not a whole number of seconds since 1970\n  help: unset it, or set it to e.g. `date +%s`"
    )]
    SourceDateEpoch { value: String },
}

/// One file to be stored in a wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelEntry {
    /// The path inside the wheel, with `/` separators.
    pub path: String,
    pub data: Vec<u8>,
    pub executable: bool,
}

/// The timestamp every entry gets: `SOURCE_DATE_EPOCH` if set, else 1980-01-01 00:00:00.
pub fn timestamp_from_env() -> Result<zip::DateTime, WheelError> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) => {
            let seconds: i64 = value
                .trim()
                .parse()
                .map_err(|_| WheelError::SourceDateEpoch {
                    value: value.clone(),
                })?;
            Ok(zip_time(seconds))
        }
        Err(_) => Ok(zip::DateTime::default()),
    }
}

/// `SOURCE_DATE_EPOCH` in seconds, or 1980-01-01 (the zip default wheels get) when unset.
pub fn source_date_epoch() -> Result<u64, WheelError> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) => value
            .trim()
            .parse()
            .map_err(|_| WheelError::SourceDateEpoch { value }),
        Err(_) => Ok(315_532_800),
    }
}

/// Seconds since the Unix epoch as a zip (DOS) time, clamped to the zip range 1980..2107.
fn zip_time(seconds: i64) -> zip::DateTime {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    if year < 1980 {
        return zip::DateTime::default();
    }
    let year = year.min(2107);
    zip::DateTime::from_date_and_time(
        year as u16,
        month as u8,
        day as u8,
        (rest / 3600) as u8,
        (rest / 60 % 60) as u8,
        (rest % 60) as u8,
    )
    .unwrap_or_default()
}

/// `sha256=<urlsafe base64, no padding>` as RECORD wants it.
pub fn record_hash(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    format!(
        "sha256={}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    )
}

/// Orders entries as wheels should be: payload sorted, then `.dist-info` sorted.
fn sort_entries(entries: &mut [WheelEntry], dist_info: &str) {
    let prefix = format!("{dist_info}/");
    entries.sort_by(|a, b| {
        let a_meta = a.path.starts_with(&prefix);
        let b_meta = b.path.starts_with(&prefix);
        a_meta.cmp(&b_meta).then_with(|| a.path.cmp(&b.path))
    });
}

/// Writes a wheel named `filename` into `directory` (temp file + rename) and returns its path.
/// `entries` must not contain RECORD; it is generated.
pub fn write_wheel(
    directory: &Path,
    filename: &WheelFilename,
    mut entries: Vec<WheelEntry>,
    timestamp: zip::DateTime,
) -> Result<PathBuf, WheelError> {
    let target = directory.join(filename.to_string());
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WheelError::Io { path, source }
    };
    let zip_error = |source| WheelError::Zip {
        path: target.clone(),
        source,
    };
    let dist_info = filename.dist_info_dir();
    let record_path = format!("{dist_info}/RECORD");
    entries.retain(|entry| entry.path != record_path);
    sort_entries(&mut entries, &dist_info);

    let mut record = String::new();
    for entry in &entries {
        record.push_str(&format!(
            "{},{},{}\n",
            csv_field(&entry.path),
            record_hash(&entry.data),
            entry.data.len()
        ));
    }
    record.push_str(&format!("{},,\n", csv_field(&record_path)));
    entries.push(WheelEntry {
        path: record_path,
        data: record.into_bytes(),
        executable: false,
    });

    fs_err::create_dir_all(directory).map_err(io(directory))?;
    let temporary = tempfile::NamedTempFile::new_in(directory).map_err(io(directory))?;
    {
        let mut zip = zip::ZipWriter::new(temporary.as_file());
        for entry in &entries {
            let options = SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .compression_level(Some(6))
                .last_modified_time(timestamp)
                .unix_permissions(if entry.executable { 0o755 } else { 0o644 });
            zip.start_file(entry.path.as_str(), options)
                .map_err(zip_error)?;
            zip.write_all(&entry.data).map_err(io(&target))?;
        }
        zip.finish().map_err(zip_error)?;
    }
    temporary.as_file().sync_all().map_err(io(&target))?;
    temporary.persist(&target).map_err(|error| WheelError::Io {
        path: target.clone(),
        source: error.error,
    })?;
    Ok(target)
}

/// RECORD is CSV: quote a path that contains a comma or a quote.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Reads every file entry of a wheel (or any zip).
pub fn read_entries(path: &Path) -> Result<Vec<WheelEntry>, WheelError> {
    let read_error = |detail: String| WheelError::Read {
        path: path.to_path_buf(),
        detail,
    };
    let file = fs_err::File::open(path).map_err(|source| WheelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| read_error(e.to_string()))?;
    let mut entries = Vec::with_capacity(zip.len());
    for index in 0..zip.len() {
        let mut file = zip.by_index(index).map_err(|e| read_error(e.to_string()))?;
        if file.is_dir() {
            continue;
        }
        let mut data = Vec::with_capacity(file.size() as usize);
        std::io::copy(&mut file, &mut data).map_err(|e| read_error(e.to_string()))?;
        entries.push(WheelEntry {
            path: file.name().to_string(),
            executable: file.unix_mode().is_some_and(|mode| mode & 0o111 != 0),
            data,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::WheelTag;

    fn sample_entries() -> Vec<WheelEntry> {
        let file = |path: &str, data: &str| WheelEntry {
            path: path.to_string(),
            data: data.as_bytes().to_vec(),
            executable: false,
        };
        vec![
            file(
                "demo-1.0.dist-info/WHEEL",
                "Wheel-Version: 1.0\nGenerator: wheelforge\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            ),
            file("demo/__init__.py", "VALUE = 42\n"),
            file(
                "demo-1.0.dist-info/METADATA",
                "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
            ),
            file("demo/a,b.py", ""),
        ]
    }

    #[test]
    fn wheels_are_reproducible_and_pinned() {
        let directory = tempfile::tempdir().unwrap();
        let name = WheelFilename::new("demo", "1.0", WheelTag::pure());
        let first = write_wheel(
            directory.path(),
            &name,
            sample_entries(),
            zip::DateTime::default(),
        )
        .unwrap();
        let first_bytes = fs_err::read(&first).unwrap();
        let mut shuffled = sample_entries();
        shuffled.reverse();
        let second =
            write_wheel(directory.path(), &name, shuffled, zip::DateTime::default()).unwrap();
        assert_eq!(first_bytes, fs_err::read(&second).unwrap());
        // Pinned: a change here means wheels are no longer byte-identical across versions.
        assert_eq!(
            hex::encode(Sha256::digest(&first_bytes)),
            "ec20a59bd2ecf8b94e70385c9f529c0831034a2e6ac1f467125fbf2eacc434ea"
        );
    }

    #[test]
    fn record_lists_every_file_and_itself_last() {
        let directory = tempfile::tempdir().unwrap();
        let name = WheelFilename::new("demo", "1.0", WheelTag::pure());
        let path = write_wheel(
            directory.path(),
            &name,
            sample_entries(),
            zip::DateTime::default(),
        )
        .unwrap();
        let entries = read_entries(&path).unwrap();
        let order: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            order,
            [
                "demo/__init__.py",
                "demo/a,b.py",
                "demo-1.0.dist-info/METADATA",
                "demo-1.0.dist-info/WHEEL",
                "demo-1.0.dist-info/RECORD"
            ]
        );
        let record = String::from_utf8(entries[4].data.clone()).unwrap();
        assert_eq!(
            record,
            "demo/__init__.py,sha256=Ccv1rhOmQ6mwI9oQNcYMUBhzHV2WM6htYbGbTj86p-s,11\n\
             \"demo/a,b.py\",sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n\
             demo-1.0.dist-info/METADATA,sha256=NKonpgZPlYtBt4GiF_KQ_Qq1-WUeK25Kzas0G3uTwwU,46\n\
             demo-1.0.dist-info/WHEEL,sha256=sEMMNTcaOLRodljE4NUx0YO4JAZuyLLnk1hE0A2wACo,81\n\
             demo-1.0.dist-info/RECORD,,\n"
        );
    }

    #[test]
    fn source_date_epoch_converts_to_zip_time() {
        let time = zip_time(1_700_000_000); // 2023-11-14 22:13:20 UTC
        assert_eq!(
            (
                time.year(),
                time.month(),
                time.day(),
                time.hour(),
                time.minute(),
                time.second()
            ),
            (2023, 11, 14, 22, 13, 20)
        );
        assert_eq!(zip_time(0), zip::DateTime::default());
    }
}

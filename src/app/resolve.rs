//! Stage 2 of `app build`: requirements → exact wheels, and stage 3: the wheels installed.
//!
//! This version defers to pip, run by the toolchain's CPython 3.14 with the consumer's
//! arguments (`--platform wasi_0_2_wasm32 --python-version 3.14 --only-binary=:all:`), so only
//! WASI and pure wheels are candidates. Resolution is `pip install --dry-run --report`, whose
//! JSON names each wheel with its URL and hash; the install is `pip install --no-deps
//! --require-hashes` of exactly the locked wheels, each checked against its SHA-256.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::lockfile::{Hashes, Inputs, Package, PyLock, Wheel};
use crate::paths::relative_path;
use crate::process::{log_tail, run_logged};
use crate::testing::CONSUMER_PIP_ARGUMENTS;
use crate::toolchain::WasiToolchain;

/// Where wheels come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexSource {
    /// wheelforge's own output directory (`dist/`): its `packages/` are the candidates.
    Local(PathBuf),
    /// A PEP 503/691 index.
    Url(String),
}

impl IndexSource {
    /// How a lock at `lock_dir` records this index.
    pub fn describe(&self, lock_dir: &Path) -> String {
        match self {
            IndexSource::Local(dir) => relative_path(lock_dir, dir).display().to_string(),
            IndexSource::Url(url) => url.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("no WASI wheel for {requirement} in {index}: neither a wasi_0_2_wasm32 nor a pure wheel satisfies it\n{tail}\n  help: build it (`wheelforge build NAME`, or `wheelforge skeleton NAME` for a new recipe), or point --index-url at an index that has it; the full log is {log}", log = log.display())]
    NoWasiWheel {
        requirement: String,
        index: String,
        tail: String,
        log: PathBuf,
    },
    #[error("pip could not resolve the requirements against {index}:\n{tail}\n  help: the full log is {log}", log = log.display())]
    Resolve {
        index: String,
        tail: String,
        log: PathBuf,
    },
    #[error("pip's report is not what wheelforge expects ({path}): {detail}", path = path.display())]
    Report { path: PathBuf, detail: String },
    #[error(
        "pip resolved {name} to {file}, which is not a WASI or pure wheel\n  help: this is a bug in the platform arguments; report it"
    )]
    NotForWasi { name: String, file: String },
    #[error("pip could not install the locked wheels:\n{tail}\n  help: a hash mismatch means a wheel changed since the lock was written: run `wheelforge lock`; the full log is {log}", log = log.display())]
    Install { tail: String, log: PathBuf },
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ResolveError + '_ {
    move |source| ResolveError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Deserialize)]
struct Report {
    install: Vec<ReportItem>,
}

#[derive(Deserialize)]
struct ReportItem {
    download_info: DownloadInfo,
    metadata: ReportMetadata,
}

#[derive(Deserialize)]
struct DownloadInfo {
    url: String,
    #[serde(default)]
    archive_info: Option<ArchiveInfo>,
}

#[derive(Deserialize)]
struct ArchiveInfo {
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    hash: Option<String>,
}

#[derive(Deserialize)]
struct ReportMetadata {
    name: String,
    version: String,
}

/// pip, run by the toolchain's CPython 3.14 in its sandbox, with `binds` visible.
fn pip(toolchain: &WasiToolchain, work: &Path, binds: &[&Path]) -> std::process::Command {
    let python = toolchain.host_python.display().to_string();
    let mut command = toolchain.sandbox().command(&python, work, binds);
    command.args(["-m", "pip", "--disable-pip-version-check", "install"]);
    command
}

fn index_arguments(command: &mut std::process::Command, index: &IndexSource) {
    match index {
        IndexSource::Local(dir) => {
            command
                .arg("--no-index")
                .arg("--find-links")
                .arg(dir.join("packages"));
        }
        IndexSource::Url(url) => {
            command.arg("--index-url").arg(url);
        }
    }
}

/// The requirement pip named in "No matching distribution found for X".
fn unsatisfied_requirement(log: &str) -> Option<String> {
    log.lines()
        .find_map(|line| line.split("No matching distribution found for ").nth(1))
        .map(|rest| rest.trim().to_string())
}

/// Resolves `requirements` against `index` into a lock written at `lock_dir`.
pub fn resolve(
    toolchain: &WasiToolchain,
    requirements: &[String],
    index: &IndexSource,
    lock_dir: &Path,
    work: &Path,
) -> Result<PyLock, ResolveError> {
    fs_err::create_dir_all(work).map_err(io(work))?;
    let described = index.describe(lock_dir);
    if requirements.is_empty() {
        return Ok(PyLock::new(
            Inputs {
                requirements: Vec::new(),
                index: described,
            },
            Vec::new(),
        ));
    }
    let report_path = work.join("pip-report.json");
    let log = work.join("resolve.log");
    let target = work.join("dry-run-target");
    let mut binds = vec![work];
    if let IndexSource::Local(dir) = index {
        binds.push(dir.as_path());
    }
    let mut command = pip(toolchain, work, &binds);
    command
        .args(["--dry-run", "--ignore-installed", "--quiet", "--report"])
        .arg(&report_path);
    index_arguments(&mut command, index);
    command
        .args(CONSUMER_PIP_ARGUMENTS)
        .arg("--target")
        .arg(&target)
        .args(requirements);
    if !run_logged(&mut command, &log).map_err(io(&log))?.success() {
        let text = fs_err::read_to_string(&log).unwrap_or_default();
        let tail = log_tail(&log, 12);
        return Err(match unsatisfied_requirement(&text) {
            Some(requirement) => ResolveError::NoWasiWheel {
                requirement,
                index: described,
                tail,
                log,
            },
            None => ResolveError::Resolve {
                index: described,
                tail,
                log,
            },
        });
    }
    let report_error = |detail: String| ResolveError::Report {
        path: report_path.clone(),
        detail,
    };
    let text = fs_err::read_to_string(&report_path).map_err(io(&report_path))?;
    let report: Report = serde_json::from_str(&text).map_err(|e| report_error(e.to_string()))?;
    let mut packages = Vec::new();
    for item in report.install {
        let url = item.download_info.url;
        let file = url
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .split('#')
            .next()
            .unwrap_or_default()
            .to_string();
        if !crate::tags::is_wasi_or_pure_wheel(&file) {
            return Err(ResolveError::NotForWasi {
                name: item.metadata.name,
                file,
            });
        }
        let listed = item.download_info.archive_info.and_then(|info| {
            info.hashes.get("sha256").cloned().or_else(|| {
                info.hash
                    .and_then(|h| h.strip_prefix("sha256=").map(str::to_string))
            })
        });
        let (wheel_url, wheel_path, sha256, size) = match crate::paths::file_url_path(&url) {
            Some(path) => {
                let (sha256, size) = crate::digest::sha256_file_sized(&path).map_err(io(&path))?;
                (
                    None,
                    Some(relative_path(lock_dir, &path).display().to_string()),
                    sha256,
                    Some(size),
                )
            }
            None => {
                let sha256 = listed.ok_or_else(|| report_error(format!("no sha256 for {url}: the index must give wheel hashes (PEP 503 #sha256= fragments)")))?;
                (
                    Some(url.split('#').next().unwrap_or(&url).to_string()),
                    None,
                    sha256,
                    None,
                )
            }
        };
        packages.push(Package {
            name: crate::tags::normalize_name(&item.metadata.name),
            version: item.metadata.version,
            index: match index {
                IndexSource::Url(url) => Some(url.clone()),
                IndexSource::Local(_) => None,
            },
            wheels: vec![Wheel {
                name: file,
                url: wheel_url,
                path: wheel_path,
                size,
                hashes: Hashes { sha256 },
            }],
        });
    }
    Ok(PyLock::new(
        Inputs {
            requirements: requirements.to_vec(),
            index: described,
        },
        packages,
    ))
}

/// Installs exactly the locked wheels (no dependencies, every hash checked) into `deps`.
pub fn install(
    toolchain: &WasiToolchain,
    lock: &PyLock,
    lock_dir: &Path,
    deps: &Path,
    work: &Path,
) -> Result<(), ResolveError> {
    fs_err::create_dir_all(work).map_err(io(work))?;
    if deps.exists() {
        fs_err::remove_dir_all(deps).map_err(io(deps))?;
    }
    fs_err::create_dir_all(deps).map_err(io(deps))?;
    if lock.packages.is_empty() {
        return Ok(());
    }
    let mut lines = String::new();
    let mut binds: Vec<PathBuf> = vec![work.to_path_buf(), deps.to_path_buf()];
    for package in &lock.packages {
        let wheel = &package.wheels[0];
        let location = match (&wheel.url, &wheel.path) {
            (Some(url), _) => url.clone(),
            (None, Some(path)) => {
                let path = std::path::absolute(lock_dir.join(path)).map_err(io(lock_dir))?;
                if let Some(parent) = path.parent()
                    && !binds.iter().any(|bind| bind == parent)
                {
                    binds.push(parent.to_path_buf());
                }
                crate::paths::file_url(&path).ok_or_else(|| ResolveError::Io {
                    path: path.clone(),
                    source: std::io::Error::other("not an absolute path"),
                })?
            }
            (None, None) => unreachable!("read() checks that a wheel has a url or a path"),
        };
        lines.push_str(&format!(
            "{} @ {location} --hash=sha256:{}\n",
            package.name, wheel.hashes.sha256
        ));
    }
    let requirements = work.join("locked-requirements.txt");
    fs_err::write(&requirements, lines).map_err(io(&requirements))?;
    let log = work.join("install.log");
    let bind_refs: Vec<&Path> = binds.iter().map(PathBuf::as_path).collect();
    let mut command = pip(toolchain, work, &bind_refs);
    command
        .args([
            "--no-deps",
            "--require-hashes",
            "--no-index",
            "--no-compile",
            "--quiet",
            "-r",
        ])
        .arg(&requirements)
        .args(CONSUMER_PIP_ARGUMENTS)
        .arg("--target")
        .arg(deps);
    if !run_logged(&mut command, &log).map_err(io(&log))?.success() {
        return Err(ResolveError::Install {
            tail: log_tail(&log, 12),
            log,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unsatisfied_requirement_is_read_from_pips_log() {
        let log = "ERROR: Could not find a version that satisfies the requirement torch (from versions: none)\nERROR: No matching distribution found for torch\n";
        assert_eq!(unsatisfied_requirement(log).as_deref(), Some("torch"));
        assert_eq!(unsatisfied_requirement("ERROR: ResolutionImpossible"), None);
    }

    #[test]
    fn file_urls_are_percent_decoded() {
        let path = |url| crate::paths::file_url_path(url);
        assert_eq!(path("file:///a%20b/c%2Bd.whl"), Some("/a b/c+d.whl".into()));
        assert_eq!(path("file:///100%"), Some("/100%".into()));
        assert_eq!(path("https://example.invalid/a.whl"), None);
        let url = crate::paths::file_url(std::path::Path::new("/a b/c+d.whl")).unwrap();
        assert_eq!(url, "file:///a%20b/c+d.whl");
        assert_eq!(path(&url), Some("/a b/c+d.whl".into()));
    }
}

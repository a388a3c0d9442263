//! Sources: getting a recipe's archive, verified, into a content-addressed cache, and turning
//! it into a patched source tree.
//!
//! This module owns the fetchers (pip, a configured index URL, a plain URL), the cache keyed by
//! SHA-256 (`<cache>/sources/sha256/<digest>/<file>`), safe unpacking (`unpack`) and patching
//! (`patch`). A cached archive is re-hashed before every use, so a corrupted cache is caught. It
//! does not build anything.

pub mod patch;
pub mod unpack;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::process::{log_tail, run_logged};
use crate::recipe::{LoadedRecipe, Sha256};
use crate::reporter::Reporter;
use crate::toolchain::HostPython;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("sha256 mismatch for {file}\n  expected {expected} (source.sha256 in {recipe})\n  actual   {actual}\n  help: the archive is not the one the recipe pins; if the new archive is trusted, update source.sha256", recipe = recipe.display())]
    ChecksumMismatch {
        file: String,
        recipe: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("pip could not download the sdist of {project}=={version}:\n{tail}\n  help: check the project name and version on the package index (full log: {log})", log = log.display())]
    Pip {
        project: String,
        version: String,
        tail: String,
        log: PathBuf,
    },
    #[error(
        "cannot download {url}: {detail}\n  help: check the URL and the network, or put the archive in the cache by building once online"
    )]
    Download { url: String, detail: String },
    #[error(
        "the index at {index} has no sdist of {project} {version}\n  help: check the version, or use `url:` in the recipe"
    )]
    NoSdist {
        index: String,
        project: String,
        version: String,
    },
    #[error("cannot fetch the Debian source package `{package}` for {recipe}: {detail}\n  help: {help}", recipe = recipe.display())]
    Debian {
        package: String,
        recipe: PathBuf,
        detail: String,
        help: String,
    },
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Unpack(#[from] unpack::UnpackError),
    #[error(transparent)]
    Patch(#[from] patch::PatchError),
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> SourceError + '_ {
    move |source| SourceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A recipe's source, ready to become a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchedSource {
    /// A verified archive in the cache.
    Archive(PathBuf),
    /// A local directory (`source.path`), copied as it is.
    Directory(PathBuf),
}

/// Where sdists come from when they are not cached.
#[derive(Debug, Clone, Default)]
pub struct FetchSettings {
    /// A PEP 503/691 index to use instead of pip's configured one.
    pub index_url: Option<String>,
    /// The Debian toolchain root, whose apt fetches `debian` sources.
    pub debian_root: Option<crate::toolchain::WasiToolchain>,
}

/// The content-addressed archive cache.
#[derive(Debug, Clone)]
pub struct SourceCache {
    root: PathBuf,
}

pub use crate::digest::sha256_file;

impl SourceCache {
    pub fn new(cache_dir: &Path) -> SourceCache {
        SourceCache {
            root: cache_dir.join("sources"),
        }
    }

    fn entry_dir(&self, sha256: &Sha256) -> PathBuf {
        self.root.join("sha256").join(sha256.as_str())
    }

    /// The cached archive with this digest, re-verified; `None` when absent or corrupt.
    pub fn lookup(&self, sha256: &Sha256) -> Option<PathBuf> {
        let dir = self.entry_dir(sha256);
        let entries = fs_err::read_dir(&dir).ok()?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() && sha256_file(&path).ok()?.as_str() == sha256.as_str() {
                return Some(path);
            }
        }
        None
    }

    /// Puts a local archive whose digest is `sha256` into the cache (copied aside, then
    /// renamed), unless it is there already; returns the cached path.
    pub fn insert(&self, archive: &Path, sha256: &str) -> std::io::Result<PathBuf> {
        let digest = Sha256::try_from(sha256.to_string()).map_err(std::io::Error::other)?;
        if let Some(found) = self.lookup(&digest) {
            return Ok(found);
        }
        let dir = self.entry_dir(&digest);
        fs_err::create_dir_all(&dir)?;
        let mut staged = tempfile::NamedTempFile::new_in(&dir)?;
        std::io::copy(&mut fs_err::File::open(archive)?, &mut staged)?;
        let target = dir.join(file_name(archive));
        staged.persist(&target).map_err(|error| error.error)?;
        Ok(target)
    }

    /// Returns the recipe's archive, from the cache or fetched, verified against the recipe.
    pub fn fetch(
        &self,
        loaded: &LoadedRecipe,
        python: &HostPython,
        settings: &FetchSettings,
        log: &Path,
        reporter: &dyn Reporter,
    ) -> Result<FetchedSource, SourceError> {
        let source = &loaded.recipe.source;
        if let Some(path) = &source.path {
            let directory = loaded.dir().join(path.as_str());
            if !directory.is_dir() {
                return Err(SourceError::Io {
                    path: directory,
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "source.path is not a directory",
                    ),
                });
            }
            return Ok(FetchedSource::Directory(directory));
        }
        let sha256 = source.archive_sha256();
        if let Some(found) = self.lookup(sha256) {
            tracing::info!(archive = %found.display(), "source found in the cache (digest verified)");
            return Ok(FetchedSource::Archive(found));
        }
        let staging_root = self.root.join("tmp");
        fs_err::create_dir_all(&staging_root).map_err(io_error(&staging_root))?;
        let staging = tempfile::tempdir_in(&staging_root).map_err(io_error(&staging_root))?;
        let version = loaded.recipe.package.version.as_str();
        let index = settings.index_url.clone().or_else(|| pip_index_url(python));
        let downloaded = match (&source.pypi, &source.url, index) {
            _ if source.debian.is_some() => {
                let package = source.debian.as_ref().expect("checked").as_str();
                debian_download(loaded, package, settings, staging.path(), log)?
            }
            (Some(project), _, None) => {
                pip_download(python, project.as_str(), version, staging.path(), log)?
            }
            (Some(project), _, Some(index)) => {
                let url = find_in_index(&index, project.as_str(), version, sha256)?;
                download_url(&url, staging.path(), loaded.name(), reporter)?
            }
            (None, Some(url), _) => {
                download_url(url.as_str(), staging.path(), loaded.name(), reporter)?
            }
            (None, None, _) => unreachable!("path sources are not fetched"),
        };
        let actual = sha256_file(&downloaded).map_err(io_error(&downloaded))?;
        if actual != sha256.as_str() {
            return Err(SourceError::ChecksumMismatch {
                file: file_name(&downloaded),
                recipe: loaded.path.clone(),
                expected: sha256.to_string(),
                actual,
            });
        }
        let dir = self.entry_dir(sha256);
        fs_err::create_dir_all(&dir).map_err(io_error(&dir))?;
        let target = dir.join(file_name(&downloaded));
        fs_err::rename(&downloaded, &target).map_err(io_error(&target))?;
        tracing::info!(archive = %target.display(), "source fetched and verified");
        Ok(FetchedSource::Archive(target))
    }
}

/// The upstream tarball of a Debian source package, fetched by apt inside the toolchain root
/// and verified against the signed Sources index (`toolchain::debian_source`); the caller then
/// checks it against the recipe's pin.
fn debian_download(
    loaded: &LoadedRecipe,
    package: &str,
    settings: &FetchSettings,
    staging: &Path,
    log: &Path,
) -> Result<PathBuf, SourceError> {
    let failed = |detail: String, help: &str| SourceError::Debian {
        package: package.to_string(),
        recipe: loaded.path.clone(),
        detail,
        help: help.to_string(),
    };
    let toolchain = settings.debian_root.as_ref().ok_or_else(|| {
        failed(
            "the Debian toolchain root is not available".into(),
            "run `wheelforge toolchain install` (unset WASI_SDK_PATH)",
        )
    })?;
    let suite = loaded
        .recipe
        .source
        .debian_suite
        .as_ref()
        .map(|s| s.as_str());
    crate::toolchain::debian_source::enable_sources(toolchain, suite.as_slice(), log).map_err(|error| {
        failed(
            error.to_string(),
            "check the root's apt sources (`wheelforge toolchain info`), or reinstall it with `wheelforge toolchain install --force`",
        )
    })?;
    // Inside the root, so that apt (running there) can write it without a bind mount.
    let downloads = toolchain.host_path(Path::new("/var/cache/wheelforge/debian-sources"));
    let tarball =
        crate::toolchain::debian_source::fetch(toolchain, package, None, suite, &downloads, log)
            .map_err(|error| {
                failed(
                    error.to_string(),
                    "check the package name and that the root's apt sources have a deb-src entry (wheelforge derives one from its `deb` entries); when the mirror lacks the suite's revision, an older suite may have one: set `source.debian-suite` (e.g. `trixie`)",
                )
            })?;
    let target = staging.join(file_name(&tarball.path));
    fs_err::copy(&tarball.path, &target).map_err(io_error(&target))?;
    Ok(target)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The package index pip uses on this machine: `PIP_INDEX_URL`, pip's configured
/// `global.index-url`, or pip's built-in default. Fetching the sdist from it directly (rather
/// than with `pip download`) avoids pip preparing the sdist's metadata, which for some backends
/// (meson-python) means building the whole package for the host.
fn pip_index_url(python: &HostPython) -> Option<String> {
    if let Some(url) = std::env::var("PIP_INDEX_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        return Some(url);
    }
    let ask = |arguments: &[&str]| {
        let output = std::process::Command::new(&python.path)
            .args(arguments)
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
        (output.status.success() && text.contains("://")).then_some(text)
    };
    ask(&["-m", "pip", "config", "get", "global.index-url"]).or_else(|| {
        ask(&[
            "-c",
            "from pip._internal.models.index import PyPI; print(PyPI.simple_url)",
        ])
    })
}

/// An HTTP agent that trusts the certificate authorities pip trusts on this machine
/// (`PIP_CERT`, `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, or the system bundle), so that a
/// TLS-intercepting proxy works for wheelforge as it does for pip.
fn http_agent() -> ureq::Agent {
    let bundle = ["PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"]
        .iter()
        .filter_map(std::env::var_os)
        .map(PathBuf::from)
        .chain([PathBuf::from("/etc/ssl/certs/ca-certificates.crt")])
        .find(|path| path.is_file());
    let mut config = ureq::Agent::config_builder();
    if let Some(pem) = bundle.and_then(|path| fs_err::read(path).ok()) {
        let certificates: Vec<_> = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(certificate)) => Some(certificate),
                _ => None,
            })
            .collect();
        if !certificates.is_empty() {
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(
                        certificates,
                    )))
                    .build(),
            );
        }
    }
    config.build().new_agent()
}

/// `pip download --no-deps --no-binary :all:` into `dest`; returns the one file pip wrote.
/// Used only when pip's index URL cannot be learned.
fn pip_download(
    python: &HostPython,
    project: &str,
    version: &str,
    dest: &Path,
    log: &Path,
) -> Result<PathBuf, SourceError> {
    let mut command = python.pip();
    command
        .args(["download", "--no-deps", "--no-binary", ":all:", "--dest"])
        .arg(dest)
        .arg(format!("{project}=={version}"));
    let status = run_logged(&mut command, log).map_err(io_error(log))?;
    let pip_failed = || SourceError::Pip {
        project: project.to_string(),
        version: version.to_string(),
        tail: log_tail(log, 5),
        log: log.to_path_buf(),
    };
    if !status.success() {
        return Err(pip_failed());
    }
    let mut files: Vec<PathBuf> = fs_err::read_dir(dest)
        .map_err(io_error(dest))?
        .flatten()
        .map(|entry| entry.path())
        .collect();
    match files.len() {
        1 => Ok(files.remove(0)),
        _ => Err(pip_failed()),
    }
}

/// A project's page in a PEP 691 JSON index, as far as fetching an sdist reads it.
#[derive(serde::Deserialize)]
struct ProjectPage {
    #[serde(default)]
    files: Vec<PageFile>,
}

#[derive(serde::Deserialize)]
struct PageFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, String>,
    #[serde(default, rename = "requires-python")]
    requires_python: Option<String>,
    /// PEP 691: `false`, or `true` or the reason (a string).
    #[serde(default)]
    yanked: Yanked,
}

#[derive(serde::Deserialize, Default)]
#[serde(untagged)]
enum Yanked {
    #[default]
    No,
    Flag(bool),
    Reason(serde::de::IgnoredAny),
}

/// One file of a project's page, its URL resolved against the page.
struct IndexFile {
    filename: String,
    url: String,
    sha256: Option<String>,
    yanked: bool,
    requires_python: Option<String>,
}

/// The files of `project`'s page in the PEP 691 JSON index at `index`.
fn index_files(index: &str, project: &str) -> Result<Vec<IndexFile>, SourceError> {
    let page = format!(
        "{}/{}/",
        index.trim_end_matches('/'),
        crate::tags::normalize_name(project)
    );
    let download_error = |detail: String| SourceError::Download {
        url: page.clone(),
        detail,
    };
    let body = http_agent()
        .get(&page)
        .header("Accept", "application/vnd.pypi.simple.v1+json")
        .call()
        .map_err(|e| download_error(e.to_string()))?
        .body_mut()
        .read_to_string()
        .map_err(|e| download_error(e.to_string()))?;
    let parsed: ProjectPage = serde_json::from_str(&body)
        .map_err(|e| download_error(format!("not PEP 691 JSON: {e}")))?;
    Ok(parsed
        .files
        .into_iter()
        .map(|mut file| IndexFile {
            url: resolve_url(&page, &file.url),
            sha256: file.hashes.remove("sha256"),
            yanked: matches!(file.yanked, Yanked::Flag(true) | Yanked::Reason(_)),
            requires_python: file.requires_python,
            filename: file.filename,
        })
        .collect())
}

/// Looks `project` up in a PEP 691 JSON index and returns the URL of the sdist whose digest is
/// `sha256` (or of the version's sdist, so that a mismatch is reported with both digests).
fn find_in_index(
    index: &str,
    project: &str,
    version: &str,
    sha256: &Sha256,
) -> Result<String, SourceError> {
    let wanted = version.parse::<pep440_rs::Version>().ok();
    let mut fallback = None;
    for file in index_files(index, project)? {
        if file.sha256.as_deref() == Some(sha256.as_str()) {
            return Ok(file.url);
        }
        if wanted
            .as_ref()
            .is_some_and(|wanted| sdist_version(&file.filename, project).as_ref() == Some(wanted))
        {
            fallback = Some(file.url);
        }
    }
    fallback.ok_or_else(|| SourceError::NoSdist {
        index: index.to_string(),
        project: project.to_string(),
        version: version.to_string(),
    })
}

/// Downloads an sdist of `project` from the index pip uses (or `index_url`) into `dest`, without
/// letting pip prepare its metadata (which runs the project's build: `setup.py` looking for a
/// library on the build machine): `version`'s, or else the newest final release, not yanked,
/// whose Requires-Python admits the target's CPython 3.14. The download is verified against the
/// index's SHA-256. `None` when pip's index URL cannot be learned (the caller asks pip).
pub fn download_sdist(
    python: &HostPython,
    index_url: Option<&str>,
    project: &str,
    version: Option<&str>,
    dest: &Path,
    reporter: &dyn Reporter,
) -> Result<Option<PathBuf>, SourceError> {
    let Some(index) = index_url
        .map(str::to_string)
        .or_else(|| pip_index_url(python))
    else {
        return Ok(None);
    };
    let wanted = version.and_then(|v| v.parse::<pep440_rs::Version>().ok());
    let target_python = pep440_rs::Version::new([3, 14]);
    let admits = |file: &IndexFile| {
        file.requires_python.as_deref().is_none_or(|specifiers| {
            specifiers
                .parse::<pep440_rs::VersionSpecifiers>()
                .is_ok_and(|specifiers| specifiers.contains(&target_python))
        })
    };
    let chosen = index_files(&index, project)?
        .into_iter()
        .filter_map(|file| sdist_version(&file.filename, project).map(|v| (v, file)))
        .filter(|(found, file)| match &wanted {
            Some(wanted) => found == wanted,
            None => !found.any_prerelease() && !file.yanked && admits(file),
        })
        .max_by(|(a, _), (b, _)| a.cmp(b));
    let Some((found, file)) = chosen else {
        return Err(SourceError::NoSdist {
            index,
            project: project.to_string(),
            version: version.map_or_else(
                || "(a final release for Python 3.14)".to_string(),
                str::to_string,
            ),
        });
    };
    let downloaded = download_url(&file.url, dest, project, reporter)?;
    let actual = sha256_file(&downloaded).map_err(io_error(&downloaded))?;
    match file.sha256 {
        Some(expected) if expected != actual => Err(SourceError::ChecksumMismatch {
            file: file.filename,
            recipe: PathBuf::from(format!("the index page of {project} {found}")),
            expected,
            actual,
        }),
        _ => Ok(Some(downloaded)),
    }
}

/// The version of `filename` if it is an sdist of `project` (so that `demo-2.0.0-rc1.tar.gz` is
/// version `2.0.0rc1`, compared by PEP 440 equality).
fn sdist_version(filename: &str, project: &str) -> Option<pep440_rs::Version> {
    let stem = [".tar.gz", ".zip", ".tgz", ".tar.bz2"]
        .iter()
        .find_map(|suffix| filename.strip_suffix(suffix))?;
    let project = crate::tags::normalize_name(project);
    // Older sdists keep the name's dashes (`python-dateutil-2.9.0.tar.gz`) and a version may
    // have one too: try each dash as the separator.
    stem.match_indices('-').find_map(|(at, _)| {
        (crate::tags::normalize_name(&stem[..at]) == project)
            .then(|| stem[at + 1..].parse::<pep440_rs::Version>().ok())
            .flatten()
    })
}

/// Resolves a link found on `page` (absolute, host-relative or page-relative), without its
/// fragment.
fn resolve_url(page: &str, link: &str) -> String {
    match url::Url::parse(page).and_then(|page| page.join(link)) {
        Ok(mut url) => {
            url.set_fragment(None);
            url.into()
        }
        Err(_) => link.split('#').next().unwrap_or(link).to_string(),
    }
}

/// Downloads `url` (http, https or file) into `dest`, reporting progress.
fn download_url(
    url: &str,
    dest: &Path,
    recipe: &str,
    reporter: &dyn Reporter,
) -> Result<PathBuf, SourceError> {
    // The URL's last path segment, decoded; never a path of its own (`%2F`, `..`).
    let name = url::Url::parse(url)
        .ok()
        .and_then(|url| {
            let last = url.path_segments()?.next_back()?.to_string();
            Some(
                percent_encoding::percent_decode_str(&last)
                    .decode_utf8_lossy()
                    .into_owned(),
            )
        })
        .filter(|n| !n.is_empty() && !n.contains(['/', '\\']) && n != "." && n != "..")
        .unwrap_or_else(|| "source-archive".to_string());
    let target = dest.join(&name);
    let download_error = |detail: String| SourceError::Download {
        url: url.to_string(),
        detail,
    };
    let (mut reader, total): (Box<dyn Read>, Option<u64>) = if url.starts_with("file:") {
        let path = crate::paths::file_url_path(url)
            .ok_or_else(|| download_error("not a file URL of an absolute path".to_string()))?;
        let file = fs_err::File::open(path).map_err(|e| download_error(e.to_string()))?;
        let total = file.metadata().ok().map(|m| m.len());
        (Box::new(file), total)
    } else {
        let response = http_agent()
            .get(url)
            .call()
            .map_err(|e| download_error(e.to_string()))?;
        let total = response.body().content_length();
        (Box::new(response.into_body().into_reader()), total)
    };
    let mut out = fs_err::File::create(&target).map_err(io_error(&target))?;
    let mut buffer = vec![0u8; 1 << 16];
    let mut done = 0u64;
    loop {
        let read = reader
            .read(&mut buffer)
            .map_err(|e| download_error(e.to_string()))?;
        if read == 0 {
            break;
        }
        out.write_all(&buffer[..read]).map_err(io_error(&target))?;
        done += read as u64;
        reporter.download(recipe, done, total);
    }
    out.sync_all().map_err(io_error(&target))?;
    Ok(target)
}

/// Unpacks `archive` into a fresh `work_dir/source`, applies the recipe's patches in order and
/// copies its extras. Returns the source root (the archive's single top-level directory, if it
/// has one).
pub fn prepare_tree(
    source: &FetchedSource,
    loaded: &LoadedRecipe,
    patches_dir: &Path,
    work_dir: &Path,
    reporter: &dyn Reporter,
) -> Result<PathBuf, SourceError> {
    let name = loaded.name();
    reporter.stage(name, crate::reporter::Stage::Unpack);
    let tree = work_dir.join("source");
    if tree.exists() {
        fs_err::remove_dir_all(&tree).map_err(io_error(&tree))?;
    }
    let root = match source {
        FetchedSource::Archive(archive) => unpack::unpack(archive, &tree)?,
        FetchedSource::Directory(directory) => {
            unpack::copy_tree(directory, &tree)?;
            tree.clone()
        }
    };
    reporter.stage(name, crate::reporter::Stage::Patch);
    for patch_file in &loaded.recipe.source.patches {
        let patch_path = patches_dir.join(name).join(patch_file.as_str());
        patch::apply_patch(&root, &patch_path)?;
    }
    for extra in &loaded.recipe.source.extras {
        let from = loaded.dir().join(extra.from.as_str());
        let to = root.join(extra.to.as_str());
        if let Some(parent) = to.parent() {
            fs_err::create_dir_all(parent).map_err(io_error(parent))?;
        }
        fs_err::copy(&from, &to).map_err(io_error(&from))?;
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::{resolve_url, sdist_version};

    fn is_sdist_of(filename: &str, project: &str, version: &pep440_rs::Version) -> bool {
        sdist_version(filename, project).as_ref() == Some(version)
    }

    /// Issue 16: the sdist `demo-2.0.0-rc1.tar.gz` was not found for version `2.0.0rc1`.
    #[test]
    fn an_sdist_is_found_by_its_normalized_version() {
        let version = |text: &str| text.parse::<pep440_rs::Version>().unwrap();
        assert!(is_sdist_of(
            "demo-2.0.0-rc1.tar.gz",
            "demo",
            &version("2.0.0rc1")
        ));
        assert!(is_sdist_of(
            "Demo_Pkg-1.0.tar.gz",
            "demo-pkg",
            &version("1.0.0")
        ));
        assert!(is_sdist_of(
            "python-dateutil-2.9.0.post0.tar.gz",
            "python_dateutil",
            &version("2.9.0.post0")
        ));
        assert!(!is_sdist_of(
            "demo-2.0.0rc1.tar.gz",
            "demo",
            &version("2.0.0")
        ));
        assert!(!is_sdist_of(
            "demo-extra-2.0.0.tar.gz",
            "demo",
            &version("2.0.0")
        ));
        assert!(!is_sdist_of(
            "demo-2.0.0-py3-none-any.whl",
            "demo",
            &version("2.0.0")
        ));
    }

    #[test]
    fn relative_links_resolve_against_the_page() {
        let page = "http://127.0.0.1:8000/simple/six/";
        assert_eq!(
            resolve_url(page, "../../packages/six.tar.gz#sha256=ab"),
            "http://127.0.0.1:8000/packages/six.tar.gz"
        );
        assert_eq!(
            resolve_url(page, "/files/six.tar.gz"),
            "http://127.0.0.1:8000/files/six.tar.gz"
        );
        assert_eq!(
            resolve_url(page, "https://example.invalid/a.tar.gz"),
            "https://example.invalid/a.tar.gz"
        );
    }
}

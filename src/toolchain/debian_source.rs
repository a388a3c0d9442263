//! Upstream tarballs of Debian source packages, fetched with `apt-get source` inside the
//! toolchain root and verified against the signed Sources index.
//!
//! The Fortran runtime comes from `llvm-toolchain-22`; reference LAPACK from `lapack`. apt
//! finds them through `deb-src` entries derived from the root's own sources
//! (`enable_sources`), so no mirror is named in wheelforge. The mirror
//! sometimes lacks a sid revision's `.dsc` or Debian patch tarball while the upstream tarball
//! (all wheelforge needs) is there, so apt's exit status is not the judge: the tarball's
//! SHA-256 must equal the one apt reads from the index (`apt-get source --print-uris`). This
//! module fetches and verifies; it does not unpack.

use std::path::{Path, PathBuf};

use super::wasi::{Flavor, WasiToolchain};
use super::{ToolchainError, io_error};
use crate::process::{log_tail, run_logged};

/// A verified upstream tarball.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamTarball {
    /// Host path.
    pub path: PathBuf,
    pub sha256: String,
}

/// Downloads (unless already there and intact) the upstream tarball of `package` (at `version`;
/// else the newest in `suite`, whose `deb-src` entries [`enable_sources`] must have added; else
/// apt's candidate) into `downloads` (a host path) and verifies it.
pub fn fetch(
    toolchain: &WasiToolchain,
    package: &str,
    version: Option<&str>,
    suite: Option<&str>,
    downloads: &Path,
    log: &Path,
) -> Result<UpstreamTarball, ToolchainError> {
    fs_err::create_dir_all(downloads).map_err(io_error(downloads))?;
    let (inside, binds): (PathBuf, Vec<&Path>) = match &toolchain.flavor {
        Flavor::DebianRoot { root } => match downloads.strip_prefix(root) {
            Ok(relative) => (Path::new("/").join(relative), vec![]),
            Err(_) => (downloads.to_path_buf(), vec![downloads]),
        },
        Flavor::WasiSdk { .. } => {
            return Err(ToolchainError::Unsupported {
                what: format!(
                    "fetching the Debian source package {package} needs the Debian toolchain root"
                ),
                help: "unset WASI_SDK_PATH and run `wheelforge toolchain install`".into(),
            });
        }
    };
    let request = match (version, suite) {
        (Some(version), _) => format!("{package}={version}"),
        (None, Some(suite)) => format!("{package}/{suite}"),
        (None, None) => package.to_string(),
    };
    let apt = |directory: &Path, arguments: &[&str]| {
        let mut command = toolchain
            .sandbox()
            .admin_command("/usr/bin/apt-get", directory, &binds);
        command
            .args(["-o", "Acquire::Check-Valid-Until=false", "source"])
            .args(arguments)
            .arg(&request);
        command
    };
    // Listed from the root directory: apt leaves out files already in the working directory.
    let output = apt(Path::new("/"), &["--print-uris"])
        .output()
        .map_err(io_error(log))?;
    let listing = String::from_utf8_lossy(&output.stdout);
    let Some((name, expected)) = upstream_entry(&listing) else {
        return Err(ToolchainError::Unsupported {
            what: format!(
                "apt knows no upstream tarball of the source package `{request}` ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
            help: "check that the root's apt sources have a deb-src entry (`enable_sources` derives one from its `deb` entries) and that the version exists".into(),
        });
    };
    let path = downloads.join(&name);
    let intact = |path: &Path| {
        path.is_file() && crate::digest::sha256_file(path).is_ok_and(|actual| actual == expected)
    };
    if !intact(&path) {
        // Exit status ignored: see the module documentation; the checksum decides.
        let _ = run_logged(&mut apt(&inside, &["--download-only"]), log).map_err(io_error(log))?;
    }
    if !path.is_file() {
        return Err(ToolchainError::Step {
            step: format!("downloading {name} with apt-get source"),
            tail: log_tail(log, 12),
            log: log.to_path_buf(),
        });
    }
    let actual = crate::digest::sha256_file(&path).map_err(io_error(&path))?;
    if actual != expected {
        return Err(ToolchainError::Unsupported {
            what: format!(
                "{} has SHA-256 {actual}; the Sources index says {expected}",
                path.display()
            ),
            help: format!("delete {} and try again", path.display()),
        });
    }
    Ok(UpstreamTarball {
        path,
        sha256: actual,
    })
}

/// Where the derived `deb-src` entries live in the root, and the record that apt has read them.
const SOURCE_ENTRIES: &str = "/etc/apt/sources.list.d/wheelforge-deb-src.sources";
const SOURCE_ENTRIES_READ: &str = "/var/lib/wheelforge/deb-src-updated";

/// Makes `apt-get source` work in the root: writes the `deb-src` entries derived from the
/// root's own sources (and, for each of `extra_suites`, the same entries for that suite: a
/// recipe's `source.debian_suite`) and runs `apt-get update`, unless those entries were
/// already read. Entries for other suites read before are kept, so recipes asking for
/// different suites do not take turns updating. A record of the read entries is written after
/// the update succeeds, so an interrupted update is redone; a lock in the toolchain directory
/// keeps concurrent callers from racing apt.
pub fn enable_sources(
    toolchain: &WasiToolchain,
    extra_suites: &[&str],
    log: &Path,
) -> Result<(), ToolchainError> {
    if !matches!(toolchain.flavor, Flavor::DebianRoot { .. }) {
        return Err(ToolchainError::Unsupported {
            what: "Debian source packages need the Debian toolchain root".into(),
            help: "unset WASI_SDK_PATH and run `wheelforge toolchain install`".into(),
        });
    }
    let host = |inside: &str| toolchain.host_path(Path::new(inside));
    let base = source_entries(&host("/etc/apt"))?;
    let read = host(SOURCE_ENTRIES_READ);
    let wanted = |recorded: &str| merged_entries(&base, extra_suites, recorded);
    let recorded = || fs_err::read_to_string(&read).unwrap_or_default();
    if wanted(&recorded()) == recorded() {
        return Ok(());
    }
    let lock_path = toolchain.dir.join("apt-sources.lock");
    let lock = fs_err::File::create(&lock_path).map_err(io_error(&lock_path))?;
    lock.file().lock().map_err(io_error(&lock_path))?;
    let entries = wanted(&recorded());
    if entries == recorded() {
        return Ok(());
    }
    super::write_atomically(&host(SOURCE_ENTRIES), entries.as_bytes())?;
    let mut command = toolchain
        .sandbox()
        .admin_command("/usr/bin/apt-get", Path::new("/"), &[]);
    command.args(["-o", "Acquire::Check-Valid-Until=false", "update"]);
    let status = run_logged(&mut command, log).map_err(io_error(log))?;
    if !status.success() {
        return Err(ToolchainError::Step {
            step: "reading the deb-src entries with apt-get update".into(),
            tail: log_tail(log, 12),
            log: log.to_path_buf(),
        });
    }
    super::write_atomically(&read, entries.as_bytes())
}

/// The `deb-src` entries to read: `base` (from the root's own sources), the same for each of
/// `extra_suites`, and the entries for other suites in `recorded` (what was read before) that
/// still derive from `base`. Deterministic: the same sets give the same text.
pub fn merged_entries(base: &str, extra_suites: &[&str], recorded: &str) -> String {
    let stanzas = |text: &str| -> Vec<String> {
        text.split("\n\n")
            .map(|stanza| format!("{}\n", stanza.trim()))
            .filter(|stanza| !stanza.trim().is_empty())
            .collect()
    };
    let with_suite = |stanza: &str, suite: &str| -> String {
        stanza
            .lines()
            .map(|line| {
                if line.starts_with("Suites:") {
                    format!("Suites: {suite}\n")
                } else {
                    format!("{line}\n")
                }
            })
            .collect()
    };
    let base = stanzas(base);
    let derived = |stanza: &str| {
        base.iter()
            .any(|from| with_suite(from, "*") == with_suite(stanza, "*"))
    };
    let mut merged = base.clone();
    let mut add = |stanza: String| {
        if !merged.contains(&stanza) {
            merged.push(stanza);
        }
    };
    for stanza in stanzas(recorded) {
        if derived(&stanza) {
            add(stanza);
        }
    }
    for suite in extra_suites {
        for from in &base {
            add(with_suite(from, suite));
        }
    }
    merged.join("\n")
}

/// `deb-src` entries for every `deb` entry of the root's own apt sources (one-line
/// `sources.list` as debootstrap writes it, and deb822 `.sources` files), so `apt-get source`
/// uses the same mirror and suites as the packages.
pub fn source_entries(apt_dir: &Path) -> Result<String, ToolchainError> {
    let mut stanzas = Vec::new();
    let list = apt_dir.join("sources.list");
    if list.is_file() {
        let text = fs_err::read_to_string(&list).map_err(io_error(&list))?;
        for line in text.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() >= 4 && fields[0] == "deb" && !fields[1].starts_with('[') {
                stanzas.push(format!(
                    "Types: deb-src\nURIs: {}\nSuites: {}\nComponents: {}\n",
                    fields[1],
                    fields[2],
                    fields[3..].join(" ")
                ));
            }
        }
    }
    let list_dir = apt_dir.join("sources.list.d");
    if list_dir.is_dir() {
        let mut paths = Vec::new();
        for entry in fs_err::read_dir(&list_dir).map_err(io_error(&list_dir))? {
            paths.push(entry.map_err(io_error(&list_dir))?.path());
        }
        paths.sort();
        for path in paths {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.ends_with(".sources") || name.starts_with("wheelforge-") {
                continue;
            }
            let text = fs_err::read_to_string(&path).map_err(io_error(&path))?;
            for stanza in text.split("\n\n") {
                let is_deb = stanza.lines().any(|line| {
                    line.strip_prefix("Types:")
                        .is_some_and(|types| types.split_whitespace().any(|t| t == "deb"))
                });
                if is_deb {
                    let converted: Vec<String> = stanza
                        .lines()
                        .map(|line| {
                            if line.starts_with("Types:") {
                                "Types: deb-src".to_string()
                            } else {
                                line.to_string()
                            }
                        })
                        .collect();
                    stanzas.push(format!("{}\n", converted.join("\n")));
                }
            }
        }
    }
    if stanzas.is_empty() {
        return Err(ToolchainError::Unsupported {
            what: format!(
                "no `deb` entries in the root's apt sources ({})",
                apt_dir.display()
            ),
            help: "reinstall the toolchain with `wheelforge toolchain install --force`".into(),
        });
    }
    Ok(stanzas.join("\n"))
}

/// The upstream tarball's name and SHA-256 in `apt-get source --print-uris` output
/// (`'URI' NAME SIZE SHA256:HEX` per file).
pub fn upstream_entry(listing: &str) -> Option<(String, String)> {
    listing.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, name, _, hash] = fields.as_slice() else {
            return None;
        };
        let sha256 = hash.strip_prefix("SHA256:")?;
        (name.contains(".orig.tar.") && !name.ends_with(".asc"))
            .then(|| (name.to_string(), sha256.to_ascii_lowercase()))
    })
}

#[cfg(test)]
mod tests {
    use super::{source_entries, upstream_entry};

    #[test]
    fn deb_src_entries_mirror_the_roots_sources() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(
            dir.path().join("sources.list"),
            "# debootstrap\ndeb http://mirror.invalid/debian sid main\ndeb-src http://x.invalid/debian sid main\n",
        )
        .unwrap();
        fs_err::create_dir_all(dir.path().join("sources.list.d")).unwrap();
        fs_err::write(
            dir.path().join("sources.list.d/extra.sources"),
            "Types: deb\nURIs: http://other.invalid/debian\nSuites: sid\nComponents: main contrib\n",
        )
        .unwrap();
        assert_eq!(
            source_entries(dir.path()).unwrap(),
            "Types: deb-src\nURIs: http://mirror.invalid/debian\nSuites: sid\nComponents: main\n\n\
             Types: deb-src\nURIs: http://other.invalid/debian\nSuites: sid\nComponents: main contrib\n"
        );
    }

    #[test]
    fn the_upstream_tarball_and_its_hash_come_from_apts_listing() {
        let listing = "Reading package lists...\nNOTICE: 'lapack' packaging is maintained in Git\n\
            'http://mirror.invalid/debian/pool/main/l/lapack/lapack_3.12.1-8.dsc' lapack_3.12.1-8.dsc 2460 SHA256:1111111111111111111111111111111111111111111111111111111111111111\n\
            'http://mirror.invalid/debian/pool/main/l/lapack/lapack_3.12.1.orig.tar.gz' lapack_3.12.1.orig.tar.gz 8067087 SHA256:2CA6407A001A474D4D4D35F3A61550156050C48016D949F0DA0529C0AA052422\n\
            'http://mirror.invalid/debian/pool/main/l/lapack/lapack_3.12.1-8.debian.tar.xz' lapack_3.12.1-8.debian.tar.xz 30184 SHA256:2222222222222222222222222222222222222222222222222222222222222222\n";
        assert_eq!(
            upstream_entry(listing),
            Some((
                "lapack_3.12.1.orig.tar.gz".to_string(),
                "2ca6407a001a474d4d4d35f3a61550156050c48016d949f0da0529c0aa052422".to_string()
            ))
        );
        assert_eq!(upstream_entry("Reading package lists...\n"), None);
    }

    #[test]
    fn extra_suites_add_entries_and_keep_those_read_before() {
        let base =
            "Types: deb-src\nURIs: http://mirror.invalid/debian\nSuites: sid\nComponents: main\n";
        let trixie = super::merged_entries(base, &["trixie"], "");
        assert_eq!(trixie, format!("{base}\n{}", base.replace("sid", "trixie")));
        // A later caller without suites keeps what was read; nothing to update.
        assert_eq!(super::merged_entries(base, &[], &trixie), trixie);
        assert_eq!(super::merged_entries(base, &["trixie"], &trixie), trixie);
        // Entries that no longer derive from the root's sources go.
        let moved = base.replace("mirror.invalid", "other.invalid");
        assert_eq!(
            super::merged_entries(&moved, &[], &trixie),
            format!("{}\n", moved.trim())
        );
        assert_eq!(super::merged_entries(base, &[], ""), base);
    }
}

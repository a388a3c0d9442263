//! Upstream tarballs of Debian source packages, fetched with `apt-get source` inside the
//! toolchain root and verified against the signed Sources index.
//!
//! The Fortran runtime comes from `llvm-toolchain-22`; reference LAPACK from `lapack`. apt
//! finds them through `deb-src` entries derived from the root's own sources
//! (`fortran::install::source_entries`), so no mirror is named in wheelforge. The mirror
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

/// Downloads (unless already there and intact) the upstream tarball of `package` (at `version`,
/// else apt's candidate) into `downloads` (a host path) and verifies it.
pub fn fetch(
    toolchain: &WasiToolchain,
    package: &str,
    version: Option<&str>,
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
    let request = match version {
        Some(version) => format!("{package}={version}"),
        None => package.to_string(),
    };
    let apt = |directory: &Path, arguments: &[&str]| {
        let mut command = toolchain
            .sandbox()
            .command("/usr/bin/apt-get", directory, &binds);
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
            help: "check that the root's apt sources have a deb-src entry (`wheelforge toolchain install --fortran` writes one) and that the version exists".into(),
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
    use super::upstream_entry;

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
}

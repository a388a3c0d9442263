//! Library archives: the product of a `static_library` recipe.
//!
//! A static library recipe installs into a prefix (`lib/*.a`, `include/`, `lib/pkgconfig/`).
//! This module turns that prefix into a reproducible `.tar.gz` — entries sorted, directories
//! before their content, fixed owner, modes and times, a gzip header without name or time —
//! stores it in the output directory's `libraries/` area (beside the index's `packages/`, which
//! pip never sees it from: the simple pages list `packages/` only), and unpacks it, verified,
//! into a consumer's target prefix. It does not build anything (`crate::backend` does).

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use flate2::Compression;

use crate::digest::sha256_file;

/// The directory under the output directory that holds library archives.
pub const LIBRARIES_DIR: &str = "libraries";

/// Where the evaluated build plan is stored inside an archive (`{}` is the recipe name).
pub fn plan_entry(name: &str) -> String {
    format!("share/wheelforge/{name}/plan.json")
}

#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error(
        "the static library build of `{recipe}` installed no `lib/*.a` into {prefix}\n  help: the build script must install the libraries into $PREFIX/lib (e.g. `cmake --install build --prefix \"$PREFIX\"`)",
        prefix = prefix.display()
    )]
    NoArchive { recipe: String, prefix: PathBuf },
    #[error(
        "{path} is a {kind} in the installed prefix; a library archive holds regular files and directories only\n  help: install copies instead of links or special files",
        path = path.display()
    )]
    Unsupported { path: PathBuf, kind: &'static str },
    #[error(
        "library archive {path} has SHA-256 {actual}, but its build recorded {expected}\n  help: the file changed after it was built; rebuild it with `wheelforge build --force {recipe}`",
        path = path.display()
    )]
    Digest {
        recipe: String,
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error(
        "library archive {path} has an unsafe entry `{entry}` (absolute, `..`, a link or a special file)\n  help: the archive was not written by wheelforge; rebuild it with `wheelforge build --force`",
        path = path.display()
    )]
    UnsafeEntry { path: PathBuf, entry: String },
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> LibraryError + '_ {
    move |source| LibraryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The archive's file name: `<name>-<version>-wasi_0_2_wasm32.tar.gz`.
pub fn archive_name(name: &str, version: &str) -> String {
    format!("{name}-{version}-wasi_0_2_wasm32.tar.gz")
}

/// Every file and directory under `prefix`, relative, sorted (a directory sorts before its
/// content because its path is a prefix of theirs).
fn collect(prefix: &Path) -> Result<Vec<(PathBuf, bool)>, LibraryError> {
    let mut entries = Vec::new();
    let mut pending = vec![prefix.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs_err::read_dir(&dir).map_err(io_error(&dir))? {
            let entry = entry.map_err(io_error(&dir))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(io_error(&path))?;
            let relative = path
                .strip_prefix(prefix)
                .expect("under prefix")
                .to_path_buf();
            if kind.is_dir() {
                pending.push(path);
                entries.push((relative, true));
            } else if kind.is_file() {
                entries.push((relative, false));
            } else {
                let kind = if kind.is_symlink() {
                    "symbolic link"
                } else {
                    "special file"
                };
                return Err(LibraryError::Unsupported { path, kind });
            }
        }
    }
    entries.sort_by(|a, b| a.0.components().cmp(b.0.components()));
    Ok(entries)
}

/// Packs `prefix` into `destination` reproducibly, with `plan` at [`plan_entry`]. The same
/// prefix content gives the same bytes, whatever the files' times, owners or modes on disk
/// (only the executable bit is kept).
/// Makes the pkg-config files in `prefix` relocatable and complete for static linking.
///
/// CMake and autotools write the install prefix's absolute path (`prefix=/work/build/zlib/prefix`),
/// which names the build machine's directory, exists nowhere the archive is unpacked, and
/// differs between two builds. Each occurrence in `lib/pkgconfig/*.pc` and
/// `share/pkgconfig/*.pc` becomes `${pcfiledir}/../..`.
///
/// A library recipe installs static libraries only, so what a shared library would have
/// recorded as its own dependencies (`Libs.private: -lgeos`, `Requires.private: zlib`) must be
/// on every link: those fields are folded into `Libs` and `Requires`, so that a plain
/// `pkg-config --libs` (meson's `dependency()`, a `setup.py`) links them.
fn relocate_pkg_config(prefix: &Path) -> Result<(), LibraryError> {
    let absolute = prefix.display().to_string();
    for dir in ["lib/pkgconfig", "share/pkgconfig"] {
        let dir = prefix.join(dir);
        let Ok(entries) = fs_err::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.map_err(io_error(&dir))?.path();
            if path.extension().is_none_or(|extension| extension != "pc") || !path.is_file() {
                continue;
            }
            let text = fs_err::read_to_string(&path).map_err(io_error(&path))?;
            let rewritten = fold_private_fields(&text.replace(&absolute, "${pcfiledir}/../.."));
            if rewritten != text {
                fs_err::write(&path, rewritten).map_err(io_error(&path))?;
            }
        }
    }
    Ok(())
}

/// `Libs.private` appended to `Libs` and `Requires.private` to `Requires` (each created if
/// missing, in place of its private field), the private fields dropped.
fn fold_private_fields(text: &str) -> String {
    fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
        line.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(str::trim)
    }
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for (public, private) in [("Libs", "Libs.private"), ("Requires", "Requires.private")] {
        let Some(at) = lines.iter().position(|line| field(line, private).is_some()) else {
            continue;
        };
        let extra = field(&lines[at], private).unwrap_or_default().to_string();
        let separator = if public == "Requires" { ", " } else { " " };
        match lines.iter().position(|line| field(line, public).is_some()) {
            Some(main) => {
                let current = field(&lines[main], public).unwrap_or_default().to_string();
                let joined = [current, extra]
                    .into_iter()
                    .filter(|part| !part.is_empty())
                    .collect::<Vec<_>>()
                    .join(separator);
                lines[main] = format!("{public}: {joined}");
                lines.remove(at);
            }
            None => lines[at] = format!("{public}: {extra}"),
        }
    }
    let mut folded = lines.join("\n");
    if text.ends_with('\n') {
        folded.push('\n');
    }
    folded
}

pub fn pack(
    recipe: &str,
    prefix: &Path,
    plan: &[u8],
    destination: &Path,
    mtime: u64,
) -> Result<(), LibraryError> {
    relocate_pkg_config(prefix)?;
    let plan_path = prefix.join(plan_entry(recipe));
    fs_err::create_dir_all(plan_path.parent().expect("has a parent"))
        .map_err(io_error(&plan_path))?;
    fs_err::write(&plan_path, plan).map_err(io_error(&plan_path))?;
    let entries = collect(prefix)?;
    let has_archive = entries.iter().any(|(path, is_dir)| {
        !is_dir
            && path.parent() == Some(Path::new("lib"))
            && path.extension().is_some_and(|extension| extension == "a")
    });
    if !has_archive {
        return Err(LibraryError::NoArchive {
            recipe: recipe.to_string(),
            prefix: prefix.to_path_buf(),
        });
    }
    let file = fs_err::File::create(destination).map_err(io_error(destination))?;
    let gzip = flate2::GzBuilder::new()
        .mtime(0)
        .write(file, Compression::default());
    let mut builder = tar::Builder::new(gzip);
    builder.mode(tar::HeaderMode::Deterministic);
    for (relative, is_dir) in entries {
        let path = prefix.join(&relative);
        let mut header = tar::Header::new_ustar();
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        if is_dir {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            let mut name = relative.clone().into_os_string();
            name.push("/");
            builder
                .append_data(&mut header, PathBuf::from(name), std::io::empty())
                .map_err(io_error(&path))?;
        } else {
            let metadata = fs_err::metadata(&path).map_err(io_error(&path))?;
            let executable = {
                use std::os::unix::fs::PermissionsExt;
                metadata.permissions().mode() & 0o111 != 0
            };
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(if executable { 0o755 } else { 0o644 });
            header.set_size(metadata.len());
            let file = fs_err::File::open(&path).map_err(io_error(&path))?;
            builder
                .append_data(&mut header, &relative, file)
                .map_err(io_error(&path))?;
        }
    }
    let gzip = builder.into_inner().map_err(io_error(destination))?;
    let mut file = gzip.finish().map_err(io_error(destination))?;
    file.flush().map_err(io_error(destination))?;
    Ok(())
}

/// Puts `archive` into `<out>/libraries/` atomically (a temporary file beside it, renamed), and
/// returns the stored path and its SHA-256.
pub fn store(archive: &Path, out_dir: &Path) -> Result<(PathBuf, String), LibraryError> {
    let dir = out_dir.join(LIBRARIES_DIR);
    fs_err::create_dir_all(&dir).map_err(io_error(&dir))?;
    let target = dir.join(archive.file_name().expect("an archive has a file name"));
    let temporary = tempfile::NamedTempFile::new_in(&dir).map_err(io_error(&dir))?;
    fs_err::copy(archive, temporary.path()).map_err(io_error(temporary.path()))?;
    let sha256 = sha256_file(temporary.path()).map_err(io_error(temporary.path()))?;
    temporary
        .persist(&target)
        .map_err(|error| LibraryError::Io {
            path: target.clone(),
            source: error.error,
        })?;
    Ok((target, sha256))
}

/// Where the cache keeps static libraries by rebuild key, for every build and output directory:
/// `<cache>/libraries/<key>/<archive>` and the archive's SHA-256 beside it (`<archive>.sha256`).
/// A library is a build input whose archive is a function of its key (reproducible), so a fresh
/// output directory (a test's, a CI shard's, a bench's) takes it from here instead of building
/// it again, as cargo shares compiled dependencies through its target directory.
fn shared_path(cache_dir: &Path, key: &str, file: &str) -> PathBuf {
    cache_dir.join(LIBRARIES_DIR).join(key).join(file)
}

/// Keeps `archive`, built with rebuild key `key`, in the cache's shared libraries (temp files,
/// then renames: the digest last, so a reader never sees a digest without its archive).
pub fn share(archive: &Path, cache_dir: &Path, key: &str) -> Result<(), LibraryError> {
    let file = archive.file_name().expect("an archive has a file name");
    let target = shared_path(cache_dir, key, &file.to_string_lossy());
    let dir = target
        .parent()
        .expect("a shared library path has a directory");
    fs_err::create_dir_all(dir).map_err(io_error(dir))?;
    let temporary = tempfile::NamedTempFile::new_in(dir).map_err(io_error(dir))?;
    fs_err::copy(archive, temporary.path()).map_err(io_error(temporary.path()))?;
    let sha256 = sha256_file(temporary.path()).map_err(io_error(temporary.path()))?;
    let persist = |file: tempfile::NamedTempFile, target: &Path| {
        file.persist(target).map_err(|error| LibraryError::Io {
            path: target.to_path_buf(),
            source: error.error,
        })
    };
    persist(temporary, &target)?;
    let digest = tempfile::NamedTempFile::new_in(dir).map_err(io_error(dir))?;
    fs_err::write(digest.path(), &sha256).map_err(io_error(digest.path()))?;
    persist(digest, &digest_path(&target))?;
    Ok(())
}

/// The shared archive `file` of rebuild key `key`, if the cache has it and it still has the
/// digest it was kept with (a damaged one is ignored: the library is built again).
pub fn shared(cache_dir: &Path, key: &str, file: &str) -> Option<PathBuf> {
    let path = shared_path(cache_dir, key, file);
    let expected = fs_err::read_to_string(digest_path(&path)).ok()?;
    (sha256_file(&path).ok()? == expected.trim()).then_some(path)
}

fn digest_path(archive: &Path) -> PathBuf {
    let mut name = archive.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

/// Verifies `archive` against `expected` and unpacks it into `root` (a target prefix), refusing
/// anything but relative regular files and directories.
pub fn unpack(
    recipe: &str,
    archive: &Path,
    expected: &str,
    root: &Path,
) -> Result<(), LibraryError> {
    let actual = sha256_file(archive).map_err(io_error(archive))?;
    if actual != expected {
        return Err(LibraryError::Digest {
            recipe: recipe.to_string(),
            path: archive.to_path_buf(),
            expected: expected.to_string(),
            actual,
        });
    }
    let file = fs_err::File::open(archive).map_err(io_error(archive))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in tar.entries().map_err(io_error(archive))? {
        let mut entry = entry.map_err(io_error(archive))?;
        let name = entry.path().map_err(io_error(archive))?.into_owned();
        let unsafe_entry = || LibraryError::UnsafeEntry {
            path: archive.to_path_buf(),
            entry: name.display().to_string(),
        };
        if !name
            .components()
            .all(|component| matches!(component, Component::Normal(_)))
        {
            return Err(unsafe_entry());
        }
        let path = root.join(&name);
        match entry.header().entry_type() {
            tar::EntryType::Directory => {
                fs_err::create_dir_all(&path).map_err(io_error(&path))?;
            }
            tar::EntryType::Regular => {
                if let Some(parent) = path.parent() {
                    fs_err::create_dir_all(parent).map_err(io_error(parent))?;
                }
                let mut out = fs_err::File::create(&path).map_err(io_error(&path))?;
                std::io::copy(&mut entry, &mut out).map_err(io_error(&path))?;
            }
            _ => return Err(unsafe_entry()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(dir: &Path, mode: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let prefix = dir.join("prefix");
        fs_err::create_dir_all(prefix.join("lib/pkgconfig")).unwrap();
        fs_err::create_dir_all(prefix.join("include")).unwrap();
        fs_err::write(prefix.join("lib/libdemo.a"), b"!<arch>\n").unwrap();
        // As CMake writes it: the install prefix's absolute path.
        let pc = format!(
            "prefix={p}\nlibdir={p}/lib\nincludedir=${{prefix}}/include\nName: demo\n",
            p = prefix.display()
        );
        fs_err::write(prefix.join("lib/pkgconfig/demo.pc"), pc).unwrap();
        fs_err::write(prefix.join("include/demo.h"), b"int demo(void);\n").unwrap();
        let header = prefix.join("include/demo.h");
        fs_err::set_permissions(&header, std::fs::Permissions::from_mode(mode)).unwrap();
        prefix
    }

    #[test]
    fn packing_is_reproducible_and_unpacks_verified() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        let a = first.path().join("a.tar.gz");
        let b = second.path().join("b.tar.gz");
        pack("demo", &prefix(first.path(), 0o600), b"{}\n", &a, 315532800).unwrap();
        // Another directory, another mode (not executable), later on-disk times: same bytes.
        std::thread::sleep(std::time::Duration::from_millis(20));
        pack(
            "demo",
            &prefix(second.path(), 0o664),
            b"{}\n",
            &b,
            315532800,
        )
        .unwrap();
        assert_eq!(fs_err::read(&a).unwrap(), fs_err::read(&b).unwrap());

        let (stored, sha256) = store(&a, &first.path().join("dist")).unwrap();
        assert_eq!(stored, first.path().join("dist/libraries/a.tar.gz"));
        let root = first.path().join("host-env");
        unpack("demo", &stored, &sha256, &root).unwrap();
        assert_eq!(
            fs_err::read_to_string(root.join("include/demo.h")).unwrap(),
            "int demo(void);\n"
        );
        assert_eq!(
            fs_err::read_to_string(root.join(plan_entry("demo"))).unwrap(),
            "{}\n"
        );
        // The build prefix's path became relative to the .pc file (identical archives above
        // show it is gone from both).
        assert_eq!(
            fs_err::read_to_string(root.join("lib/pkgconfig/demo.pc")).unwrap(),
            "prefix=${pcfiledir}/../..\nlibdir=${pcfiledir}/../../lib\nincludedir=${prefix}/include\nName: demo\n"
        );

        let error = unpack("demo", &stored, &"0".repeat(64), &root).unwrap_err();
        assert!(matches!(error, LibraryError::Digest { .. }), "{error}");
    }

    #[test]
    fn private_link_fields_are_folded_into_the_public_ones() {
        let geos = "Name: GEOS\nRequires:\nCflags: -I${includedir}\nLibs: -L${libdir} -lgeos_c\nLibs.private: -lgeos -lm\n";
        assert_eq!(
            super::fold_private_fields(geos),
            "Name: GEOS\nRequires:\nCflags: -I${includedir}\nLibs: -L${libdir} -lgeos_c -lgeos -lm\n"
        );
        let png = "Name: libpng\nRequires.private: zlib\nLibs: -lpng16\nLibs.private: -lz\n";
        assert_eq!(
            super::fold_private_fields(png),
            "Name: libpng\nRequires: zlib\nLibs: -lpng16 -lz\n"
        );
        let xslt = "Requires: libxml-2.0\nRequires.private: zlib\nLibs: -lxslt\nLibs.private:  \n";
        assert_eq!(
            super::fold_private_fields(xslt),
            "Requires: libxml-2.0, zlib\nLibs: -lxslt\n"
        );
        assert_eq!(super::fold_private_fields("Libs: -lz\n"), "Libs: -lz\n");
    }

    #[test]
    fn a_prefix_without_a_static_library_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = prefix(dir.path(), 0o644);
        fs_err::remove_file(prefix.join("lib/libdemo.a")).unwrap();
        let error = pack("demo", &prefix, b"{}\n", &dir.path().join("x.tar.gz"), 0).unwrap_err();
        assert!(matches!(error, LibraryError::NoArchive { .. }), "{error}");
    }
}

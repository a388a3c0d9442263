//! The target prefix of a cross build: its `requirements.host` wheels, unpacked.
//!
//! A package compiled against another package's headers (pandas against numpy's) asks the
//! *build* Python where they are (`numpy.get_include()`); that Python has the build machine's
//! copy, whose generated headers describe x86-64 (`NPY_SIZEOF_LONG 8`). This module unpacks
//! the target wheels of the recipe's host requirements, from the index, into
//! `build/<recipe>/host-env/site-packages` (pyodide's "host" environment), and names the build
//! environment's site-packages directories, so that the compiler wrapper can swap an include
//! directory of the build machine's copy for the same directory of the target's
//! (`crate::toolchain::wrap::HostPrefix`). It does not install anything for the build Python:
//! unpacking needs no interpreter and runs no install hooks.

use std::path::{Component, Path, PathBuf};

use crate::wheel::{WheelError, read_entries};

#[derive(Debug, thiserror::Error)]
pub enum HostEnvError {
    #[error(
        "host requirement `{requirement}` of `{recipe}` has no wheel in the index {index}\n  help: build it first (`wheelforge build {requirement}`); a recipe's host requirements are built before it when both are selected",
        index = index.display()
    )]
    Missing {
        recipe: String,
        requirement: String,
        index: PathBuf,
    },
    #[error("cannot read host requirement wheel {path}: {source}\n  help: rebuild it with `wheelforge build --force`", path = path.display())]
    Wheel {
        path: PathBuf,
        #[source]
        source: WheelError,
    },
    #[error(
        "host requirement wheel {wheel} has an unsafe entry `{entry}` (absolute, `..` or empty)\n  help: the wheel was not written by wheelforge; rebuild it with `wheelforge build --force`",
        wheel = wheel.display()
    )]
    UnsafeEntry { wheel: PathBuf, entry: String },
    #[error(transparent)]
    Library(#[from] crate::library::LibraryError),
    #[error(
        "host requirement {path} has SHA-256 {actual}, but its build recorded {expected}\n  help: the file changed after it was built; rebuild it with `wheelforge build --force {requirement}`",
        path = path.display()
    )]
    Digest {
        requirement: String,
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A host requirement's built wheel, as the pipeline found it.
#[derive(Debug, Clone)]
pub struct HostWheel {
    pub requirement: String,
    /// `None` when the requirement produced no wheel in this run or an earlier one.
    pub path: Option<PathBuf>,
    /// The digest the requirement's build recorded; the file must still have it.
    pub sha256: Option<String>,
}

/// The unpacked prefix: `site-packages` (purelib and platlib), and the wheels' `.data`
/// `headers`, `scripts` and `data` next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEnv {
    pub root: PathBuf,
    pub site_packages: PathBuf,
}

impl HostEnv {
    /// Where pkg-config finds the host requirements: the static libraries' `lib/pkgconfig` and
    /// `share/pkgconfig`, then the `pkgconfig` directories inside the unpacked wheels (numpy's
    /// `numpy/_core/lib/pkgconfig/numpy.pc`, whose paths are relative to itself, so meson's
    /// `dependency('numpy')` gets the target numpy's headers), in path order.
    pub fn pkg_config_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = vec![
            self.root.join("lib/pkgconfig"),
            self.root.join("share/pkgconfig"),
        ];
        let mut in_wheels = Vec::new();
        let mut pending = vec![(self.site_packages.clone(), 0)];
        while let Some((dir, depth)) = pending.pop() {
            let Ok(entries) = fs_err::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if !entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                    continue;
                }
                if entry.file_name() == "pkgconfig" {
                    in_wheels.push(path);
                } else if depth < 4 {
                    pending.push((path, depth + 1));
                }
            }
        }
        in_wheels.sort();
        dirs.extend(in_wheels);
        dirs
    }
}

/// The recipe's host requirements unpacked into its work directory (`None` without any).
pub fn for_recipe(context: &super::RecipeContext<'_>) -> Result<Option<HostEnv>, HostEnvError> {
    if context.host_wheels.is_empty() {
        return Ok(None);
    }
    prepare(
        context.loaded.name(),
        context.host_wheels,
        context.packages_dir,
        context.work_dir,
    )
    .map(Some)
}

/// Unpacks `wheels` into `<work>/host-env`, replacing what an earlier build left there.
pub fn prepare(
    recipe: &str,
    wheels: &[HostWheel],
    index: &Path,
    work: &Path,
) -> Result<HostEnv, HostEnvError> {
    let root = work.join("host-env");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| HostEnvError::Io { path, source }
    };
    if root.exists() {
        fs_err::remove_dir_all(&root).map_err(io(&root))?;
    }
    let site_packages = root.join("site-packages");
    fs_err::create_dir_all(&site_packages).map_err(io(&site_packages))?;
    for wheel in wheels {
        let path = wheel.path.as_ref().ok_or_else(|| HostEnvError::Missing {
            recipe: recipe.to_string(),
            requirement: wheel.requirement.clone(),
            index: index.to_path_buf(),
        })?;
        let is_library = path
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|dir| dir == crate::library::LIBRARIES_DIR);
        match (&wheel.sha256, is_library) {
            (Some(expected), true) => {
                crate::library::unpack(&wheel.requirement, path, expected, &root)?;
            }
            (None, true) => {
                return Err(HostEnvError::Missing {
                    recipe: recipe.to_string(),
                    requirement: wheel.requirement.clone(),
                    index: index.to_path_buf(),
                });
            }
            (expected, false) => {
                if let Some(expected) = expected {
                    let actual =
                        crate::digest::sha256_file(path).map_err(|source| HostEnvError::Io {
                            path: path.clone(),
                            source,
                        })?;
                    if actual != *expected {
                        return Err(HostEnvError::Digest {
                            requirement: wheel.requirement.clone(),
                            path: path.clone(),
                            expected: expected.clone(),
                            actual,
                        });
                    }
                }
                unpack(path, &root)?;
            }
        }
    }
    Ok(HostEnv {
        root,
        site_packages,
    })
}

/// Where one wheel entry goes under the prefix root.
fn destination(entry: &str) -> Option<PathBuf> {
    let relative = Path::new(entry);
    if entry.is_empty()
        || !relative
            .components()
            .all(|component| matches!(component, Component::Normal(_)))
    {
        return None;
    }
    let mut components = relative.components();
    let first = components
        .next()?
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    if first.ends_with(".data") {
        let scheme = components
            .next()?
            .as_os_str()
            .to_string_lossy()
            .into_owned();
        let rest: PathBuf = components.collect();
        if rest.as_os_str().is_empty() {
            return None;
        }
        let base = match scheme.as_str() {
            "purelib" | "platlib" => PathBuf::from("site-packages"),
            "headers" => PathBuf::from("include"),
            other => PathBuf::from(other),
        };
        return Some(base.join(rest));
    }
    Some(Path::new("site-packages").join(relative))
}

fn unpack(wheel: &Path, root: &Path) -> Result<(), HostEnvError> {
    let entries = read_entries(wheel).map_err(|source| HostEnvError::Wheel {
        path: wheel.to_path_buf(),
        source,
    })?;
    for entry in entries {
        if entry.path.ends_with('/') {
            continue;
        }
        let relative = destination(&entry.path).ok_or_else(|| HostEnvError::UnsafeEntry {
            wheel: wheel.to_path_buf(),
            entry: entry.path.clone(),
        })?;
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent).map_err(|source| HostEnvError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        fs_err::write(&path, &entry.data).map_err(|source| HostEnvError::Io {
            path: path.clone(),
            source,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wheel::{WheelEntry, write_wheel};

    fn entry(path: &str, data: &str) -> WheelEntry {
        WheelEntry {
            path: path.to_string(),
            data: data.as_bytes().to_vec(),
            executable: false,
        }
    }

    #[test]
    fn wheel_entries_land_in_site_packages_and_data_schemes_beside_it() {
        assert_eq!(
            destination("numpy/_core/include/numpy/_numpyconfig.h"),
            Some(PathBuf::from(
                "site-packages/numpy/_core/include/numpy/_numpyconfig.h"
            ))
        );
        assert_eq!(
            destination("demo-1.0.data/platlib/demo/x.py"),
            Some(PathBuf::from("site-packages/demo/x.py"))
        );
        assert_eq!(
            destination("demo-1.0.data/headers/demo.h"),
            Some(PathBuf::from("include/demo.h"))
        );
        assert_eq!(destination("../evil.py"), None);
        assert_eq!(destination("/etc/passwd"), None);
        assert_eq!(destination("demo-1.0.data/purelib"), None);
    }

    #[test]
    fn a_host_requirement_wheel_is_unpacked_into_the_target_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let wheel = write_wheel(
            dir.path(),
            &"demo-1.0-cp314-cp314-wasi_0_2_wasm32.whl".parse().unwrap(),
            vec![
                entry("demo/include/demo_config.h", "#define DEMO_SIZEOF_LONG 4\n"),
                entry("demo/__init__.py", ""),
                entry("demo-1.0.dist-info/METADATA", "Name: demo\nVersion: 1.0\n"),
            ],
            zip::DateTime::default(),
        )
        .unwrap();
        let work = dir.path().join("work");
        // A stale file from an earlier build disappears.
        fs_err::create_dir_all(work.join("host-env/site-packages/stale")).unwrap();
        let env = prepare(
            "consumer",
            &[HostWheel {
                requirement: "demo".into(),
                path: Some(wheel),
                sha256: None,
            }],
            dir.path(),
            &work,
        )
        .unwrap();
        assert_eq!(env.site_packages, work.join("host-env/site-packages"));
        assert_eq!(
            fs_err::read_to_string(env.site_packages.join("demo/include/demo_config.h")).unwrap(),
            "#define DEMO_SIZEOF_LONG 4\n"
        );
        assert!(!env.site_packages.join("stale").exists());
    }

    #[test]
    fn a_static_library_requirement_is_unpacked_verified_into_the_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("prefix");
        fs_err::create_dir_all(prefix.join("lib/pkgconfig")).unwrap();
        fs_err::write(prefix.join("lib/liblapack.a"), "!<arch>\n").unwrap();
        fs_err::write(prefix.join("lib/pkgconfig/lapack.pc"), "Name: LAPACK\n").unwrap();
        let archive = dir.path().join("lapack-1.0-wasi_0_2_wasm32.tar.gz");
        crate::library::pack("lapack", &prefix, b"{}\n", &archive, 0).unwrap();
        let (stored, sha256) = crate::library::store(&archive, &dir.path().join("dist")).unwrap();
        let requirement = |sha256: &str| HostWheel {
            requirement: "lapack".into(),
            path: Some(stored.clone()),
            sha256: Some(sha256.to_string()),
        };
        let work = dir.path().join("work");
        let env = prepare("scipy", &[requirement(&sha256)], dir.path(), &work).unwrap();
        assert_eq!(
            fs_err::read_to_string(env.root.join("lib/pkgconfig/lapack.pc")).unwrap(),
            "Name: LAPACK\n"
        );
        assert!(env.root.join("lib/liblapack.a").is_file());
        // An archive that changed after its build is refused.
        let error = prepare("scipy", &[requirement(&"0".repeat(64))], dir.path(), &work)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!("has SHA-256 {sha256}, but its build recorded 000")),
            "{error}"
        );
    }

    #[test]
    fn a_host_requirement_without_a_wheel_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let error = prepare(
            "pandas",
            &[HostWheel {
                requirement: "numpy".into(),
                path: None,
                sha256: None,
            }],
            Path::new("dist/packages"),
            dir.path(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "host requirement `numpy` of `pandas` has no wheel in the index dist/packages\n  help: build it first (`wheelforge build numpy`); a recipe's host requirements are built before it when both are selected"
        );
    }
}

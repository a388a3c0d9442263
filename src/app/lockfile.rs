//! The app's lock: a PEP 751 `pylock.toml` for the WASI environment.
//!
//! Every package is pinned to one wheel, a `wasi_0_2_wasm32` or a pure one, with its URL (or
//! its path, for the local index) and SHA-256. `environments` admits only CPython on wasm32
//! WASI. `[tool.wheelforge]` keeps what the lock was resolved from (the requirements and the
//! index), so that `--locked` can tell a lock that no longer matches the project, as `cargo
//! --locked` and `uv --locked` do.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The PEP 751 environment marker: only the WASI runtime.
pub const ENVIRONMENT: &str = "sys_platform == \"wasi\" and platform_machine == \"wasm32\"";
/// The Python the consumer runtime embeds.
pub const REQUIRES_PYTHON: &str = "==3.14.*";
/// The lock file's name, as PEP 751 and uv write it.
pub const FILE_NAME: &str = "pylock.toml";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a pylock.toml wheelforge can use: {detail}\n  help: run `wheelforge lock` to write it again", path = path.display())]
    Invalid { path: PathBuf, detail: String },
    #[error("{path} is out of date: {detail}\n  help: run `wheelforge lock` (or leave out --locked to update it)", path = path.display())]
    OutOfDate { path: PathBuf, detail: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PyLock {
    pub lock_version: String,
    pub environments: Vec<String>,
    pub requires_python: String,
    pub created_by: String,
    pub packages: Vec<Package>,
    pub tool: Tool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub wheelforge: Inputs,
}

/// What the lock was resolved from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    /// The requirements, in the project's order.
    pub requirements: Vec<String>,
    /// The index: `dist` style local directory (relative to the lock) or a URL.
    pub index: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    pub wheels: Vec<Wheel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wheel {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Relative to the lock file's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    pub hashes: Hashes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hashes {
    pub sha256: String,
}

impl PyLock {
    pub fn new(inputs: Inputs, mut packages: Vec<Package>) -> PyLock {
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        PyLock {
            lock_version: "1.0".into(),
            environments: vec![ENVIRONMENT.into()],
            requires_python: REQUIRES_PYTHON.into(),
            created_by: "wheelforge".into(),
            packages,
            tool: Tool { wheelforge: inputs },
        }
    }

    pub fn to_toml(&self) -> String {
        format!(
            "# This file was written by `wheelforge lock` (PEP 751). Do not edit it by hand.\n{}",
            toml::to_string(self).expect("a lock serializes")
        )
    }

    /// The digest of the lock's content: the key of a cached component.
    pub fn digest(&self) -> String {
        crate::digest::sha256_hex(self.to_toml().as_bytes())
    }

    /// Fails unless the lock was resolved from exactly `inputs`.
    pub fn check_inputs(&self, path: &Path, inputs: &Inputs) -> Result<(), LockError> {
        let locked = &self.tool.wheelforge;
        let out_of_date = |detail: String| LockError::OutOfDate {
            path: path.to_path_buf(),
            detail,
        };
        if locked.index != inputs.index {
            return Err(out_of_date(format!(
                "it was resolved against {}, not {}",
                locked.index, inputs.index
            )));
        }
        let added: Vec<&String> = inputs
            .requirements
            .iter()
            .filter(|r| !locked.requirements.contains(r))
            .collect();
        let removed: Vec<&String> = locked
            .requirements
            .iter()
            .filter(|r| !inputs.requirements.contains(r))
            .collect();
        if !added.is_empty() || !removed.is_empty() {
            let list = |items: &[&String]| {
                items
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut parts = Vec::new();
            if !added.is_empty() {
                parts.push(format!("the project now requires {}", list(&added)));
            }
            if !removed.is_empty() {
                parts.push(format!("it no longer requires {}", list(&removed)));
            }
            return Err(out_of_date(parts.join("; ")));
        }
        Ok(())
    }
}

/// Reads a lock.
pub fn read(path: &Path) -> Result<PyLock, LockError> {
    let text = fs_err::read_to_string(path).map_err(|source| LockError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let lock: PyLock = toml::from_str(&text).map_err(|error| LockError::Invalid {
        path: path.to_path_buf(),
        detail: error.to_string(),
    })?;
    let invalid = |detail: String| LockError::Invalid {
        path: path.to_path_buf(),
        detail,
    };
    if lock.lock_version.split('.').next() != Some("1") {
        return Err(invalid(format!(
            "lock-version {} (this wheelforge reads 1.x)",
            lock.lock_version
        )));
    }
    for package in &lock.packages {
        if package.wheels.len() != 1 {
            return Err(invalid(format!(
                "package {} has {} wheels, not one",
                package.name,
                package.wheels.len()
            )));
        }
        let wheel = &package.wheels[0];
        if wheel.url.is_some() == wheel.path.is_some() {
            return Err(invalid(format!(
                "wheel {} needs exactly one of url and path",
                wheel.name
            )));
        }
        if !crate::tags::is_wasi_or_pure_wheel(&wheel.name) {
            return Err(invalid(format!(
                "wheel {} is neither for wasi_0_2_wasm32 nor pure",
                wheel.name
            )));
        }
    }
    Ok(lock)
}

/// Writes a lock: to a temporary file, then renamed into place.
pub fn write(path: &Path, lock: &PyLock) -> Result<(), LockError> {
    let io = |source| LockError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temporary = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    fs_err::write(temporary.path(), lock.to_toml()).map_err(io)?;
    temporary.persist(path).map_err(|error| io(error.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PyLock {
        PyLock::new(
            Inputs {
                requirements: vec!["numpy>=2".into()],
                index: "dist".into(),
            },
            vec![Package {
                name: "numpy".into(),
                version: "2.4.6".into(),
                index: None,
                wheels: vec![Wheel {
                    name: "numpy-2.4.6-cp314-cp314-wasi_0_2_wasm32.whl".into(),
                    url: None,
                    path: Some("dist/packages/numpy-2.4.6-cp314-cp314-wasi_0_2_wasm32.whl".into()),
                    size: Some(12),
                    hashes: Hashes {
                        sha256: "ab".repeat(32),
                    },
                }],
            }],
        )
    }

    #[test]
    fn a_lock_round_trips_and_has_the_pep_751_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        write(&path, &sample()).unwrap();
        let text = fs_err::read_to_string(&path).unwrap();
        for key in [
            "lock-version = \"1.0\"",
            "environments = [",
            "requires-python = \"==3.14.*\"",
            "[[packages]]",
            "[[packages.wheels]]",
            "[tool.wheelforge]",
        ] {
            assert!(text.contains(key), "{key} in\n{text}");
        }
        assert_eq!(read(&path).unwrap(), sample());
    }

    #[test]
    fn changed_requirements_make_the_lock_out_of_date() {
        let lock = sample();
        let path = Path::new("pylock.toml");
        let same = Inputs {
            requirements: vec!["numpy>=2".into()],
            index: "dist".into(),
        };
        lock.check_inputs(path, &same).unwrap();
        let changed = Inputs {
            requirements: vec!["numpy>=2".into(), "six".into()],
            index: "dist".into(),
        };
        let error = lock.check_inputs(path, &changed).unwrap_err().to_string();
        assert!(
            error.contains("out of date: the project now requires `six`"),
            "{error}"
        );
        let other_index = Inputs {
            requirements: vec!["numpy>=2".into()],
            index: "http://127.0.0.1:1/simple/".into(),
        };
        assert!(
            lock.check_inputs(path, &other_index)
                .unwrap_err()
                .to_string()
                .contains("resolved against dist")
        );
    }
}

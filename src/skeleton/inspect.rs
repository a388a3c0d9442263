//! Reading an unpacked sdist for a first recipe: `PKG-INFO` (name, version, summary, license,
//! home page, dependencies, import names), `pyproject.toml`'s build backend, and the files that
//! say whether anything is compiled.
//!
//! This module owns the guesses and says why it made each one; it does not download or write.

use std::path::{Path, PathBuf};

use super::SkeletonError;
use super::marker::{Applies, Requirement, TargetMarkers};
use crate::recipe::BackendKind;
use crate::tags::normalize_name;
use crate::wheel::metadata::Headers;

/// What the sdist says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub name: String,
    pub version: String,
    pub summary: String,
    pub license: Option<String>,
    pub home: Option<String>,
    /// Run requirements on the target, in metadata order, without duplicates.
    pub run: Vec<String>,
    /// The PEP 517 backend named in `pyproject.toml`, if any.
    pub build_backend: Option<String>,
    pub backend: BackendKind,
    /// The build runs cargo from a backend other than maturin (setuptools-rust): `build.rust`.
    pub rust: bool,
    pub imports: Vec<String>,
    /// Headers the compiled sources include that the sdist does not ship (`yaml.h`), each with
    /// the first file including it: system headers, or a library's
    /// ([`crate::skeleton::host_libraries`] maps them to library recipes).
    pub includes: Vec<Include>,
    /// Recipes built for the target that the build links against (`requirements.host`).
    pub host: Vec<String>,
    /// Build tools pinned to a host recipe's version (`requirements.build`: `numpy==2.4.6`).
    pub build: Vec<String>,
    /// Guesses a maintainer should check.
    pub notes: Vec<String>,
}

/// A header included by the compiled sources and not shipped in the sdist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// As written between `<>` or quotes: `yaml.h`, `libxml/tree.h`.
    pub header: String,
    /// The including file, relative to the sdist's root.
    pub from: PathBuf,
}

/// Directories whose sources are not part of the package.
const NOT_PACKAGE: &[&str] = &[
    "test",
    "tests",
    "testing",
    "doc",
    "docs",
    "example",
    "examples",
    "benchmark",
    "benchmarks",
    "bench",
    "scripts",
    "tools",
    "build",
    "ci",
];

/// Top-level modules that are project plumbing, not the package.
const NOT_MODULES: &[&str] = &[
    "setup",
    "conftest",
    "noxfile",
    "tasks",
    "fabfile",
    "versioneer",
    "runtests",
    "hatch_build",
    "build_backend",
];

/// Inspects the sdist unpacked at `root` (or a source tree whose `pyproject.toml` has a static
/// `[project]` table); run requirements are judged on `target`.
pub fn inspect(root: &Path, target: &mut TargetMarkers) -> Result<Inspection, SkeletonError> {
    let pyproject = Pyproject::read(root)?;
    let (metadata_path, text) = metadata_text(root, &pyproject)?;
    let headers = Headers::parse(&text);
    let field = |key: &str| {
        headers
            .get(key)
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "UNKNOWN")
            .map(str::to_string)
    };
    let no_metadata = || SkeletonError::NoPkgInfo {
        root: root.to_path_buf(),
    };
    let name = field("Name").ok_or_else(no_metadata)?;
    let version = field("Version").ok_or_else(no_metadata)?;
    let mut notes = Vec::new();

    let license = field("License-Expression")
        .or_else(|| field("License").filter(|l| l.len() <= 60 && !l.contains('\n')))
        .or_else(|| {
            headers
                .get_all("Classifier")
                .filter_map(|c| c.strip_prefix("License :: "))
                .map(license_from_classifier)
                .next()
        });
    if license.is_none() {
        notes.push("the project's metadata names no license: about.license is UNKNOWN".to_string());
    }

    let home = field("Home-page").or_else(|| project_url(&headers));
    let sources = requirement_sources(
        root,
        &pyproject,
        &metadata_path,
        &text,
        &headers,
        &mut notes,
    );
    let run = run_requirements(root, &sources, target, &mut notes)?;

    let build_backend = pyproject.build_backend();
    let (backend, rust) = choose_backend(root, &pyproject, build_backend.as_deref(), &mut notes)?;
    let imports = guess_imports(root, &name, &headers, &pyproject, &mut notes);
    let includes = if backend == BackendKind::Pure {
        Vec::new()
    } else {
        external_includes(root)
    };

    Ok(Inspection {
        summary: field("Summary").unwrap_or_else(|| name.clone()),
        name,
        version,
        license,
        home,
        run,
        build_backend,
        backend,
        rust,
        imports,
        includes,
        host: Vec::new(),
        build: Vec::new(),
        notes,
    })
}

/// The requirements as the project declares them, each with the file and text it comes
/// from (for positions in errors): METADATA/PKG-INFO's Requires-Dist, else setuptools'
/// `requires.txt`, else pyproject.toml's `[project] dependencies`.
fn requirement_sources(
    root: &Path,
    pyproject: &Pyproject,
    metadata_path: &Path,
    text: &str,
    headers: &Headers,
    notes: &mut Vec<String>,
) -> Vec<(String, PathBuf, String)> {
    let mut requirements: Vec<(String, PathBuf, String)> = headers
        .get_all("Requires-Dist")
        .map(|value| {
            (
                value.to_string(),
                metadata_path.to_path_buf(),
                text.to_string(),
            )
        })
        .collect();
    if requirements.is_empty()
        && let Some((path, text, listed)) = egg_info_requirements(root)
        && !listed.is_empty()
    {
        // setuptools' own record of `install_requires` (older setuptools left PKG-INFO
        // without Requires-Dist; `dynamic = ["dependencies"]` is resolved there too).
        notes.push(format!(
            "PKG-INFO lists no Requires-Dist: requirements.run is taken from {}",
            path.strip_prefix(root).unwrap_or(&path).display()
        ));
        requirements.extend(
            listed
                .into_iter()
                .map(|value| (value, path.clone(), text.clone())),
        );
    }
    if requirements.is_empty() {
        // Dynamic metadata: PKG-INFO lists none, pyproject.toml may (PEP 621).
        let (static_dependencies, dynamic) = pyproject.dependencies();
        if !static_dependencies.is_empty() && metadata_path.ends_with("PKG-INFO") {
            notes.push(
                "PKG-INFO lists no Requires-Dist: requirements.run is taken from pyproject.toml's [project] dependencies"
                    .to_string(),
            );
        }
        if dynamic {
            notes.push(
                "pyproject.toml declares its dependencies dynamic and PKG-INFO lists none: check requirements.run against the built wheel's METADATA"
                    .to_string(),
            );
        }
        requirements.extend(
            static_dependencies
                .into_iter()
                .map(|value| (value, pyproject.path.clone(), pyproject.text.clone())),
        );
    }
    requirements
}

/// The names of the requirements that apply on `target`, in order, each once; an unclear
/// marker keeps its requirement (with a note), a marker that cannot be judged is an error at
/// its position.
fn run_requirements(
    root: &Path,
    requirements: &[(String, PathBuf, String)],
    target: &mut TargetMarkers,
    notes: &mut Vec<String>,
) -> Result<Vec<String>, SkeletonError> {
    let mut run: Vec<String> = Vec::new();
    for (value, source_path, source_text) in requirements {
        let value = value.as_str();
        let requirement = match Requirement::parse(value) {
            Ok(requirement) => requirement,
            Err(why) => {
                notes.push(format!(
                    "Requires-Dist `{value}` was not understood ({why}) and is left out"
                ));
                continue;
            }
        };
        let applies = match requirement.applies(target) {
            Ok(Applies::Yes) => true,
            Ok(Applies::No) => false,
            Ok(Applies::Unclear(why)) => {
                notes.push(format!(
                    "Requires-Dist `{value}`: {why}; kept as a run requirement"
                ));
                true
            }
            Err(source) => {
                let (line, column) = if source_path.ends_with("pyproject.toml") {
                    text_position(source_text, value)
                } else if source_path.ends_with("requires.txt") {
                    // The marker is the section's (`[:python_version < "3.11"]`).
                    let marker = value.split_once(';').map_or(value, |(_, m)| m.trim());
                    text_position(source_text, marker)
                } else {
                    header_position(source_text, "Requires-Dist", value)
                };
                return Err(SkeletonError::TargetMarkers {
                    pkg_info: source_path
                        .strip_prefix(root.parent().unwrap_or(root))
                        .unwrap_or(source_path)
                        .to_path_buf(),
                    line,
                    column,
                    requirement: value.to_string(),
                    source: Box::new(source),
                });
            }
        };
        if applies && !run.contains(&requirement.name) {
            run.push(requirement.name);
        }
    }
    Ok(run)
}

/// The backend kind, and whether the build needs Rust (setuptools-rust in `[build-system]
/// requires`).
fn choose_backend(
    root: &Path,
    pyproject: &Pyproject,
    build_backend: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<(BackendKind, bool), SkeletonError> {
    if pyproject.requires_setuptools_rust() {
        notes.push(
            "setuptools-rust in [build-system] requires: build.rust (cargo for wasm32-wasip1 with the toolchain's Rust part; the crates are vendored from Cargo.lock)"
                .to_string(),
        );
        let kind = match build_backend {
            None | Some("setuptools.build_meta" | "setuptools.build_meta.__legacy__") => {
                BackendKind::Setuptools
            }
            Some(_) => BackendKind::Pep517,
        };
        return Ok((kind, true));
    }
    let kind = guess_backend(
        build_backend,
        &native_sources(root),
        pyproject.build_hook(),
        notes,
    )?;
    Ok((kind, false))
}

/// The headers that the C, C++ and Cython sources of the package (outside its tests, docs
/// and examples) include and the sdist does not contain, in order of first appearance.
fn external_includes(root: &Path) -> Vec<Include> {
    let files = package_files(root);
    let names: Vec<String> = files
        .iter()
        .map(|file| file.to_string_lossy().replace('\\', "/"))
        .collect();
    // A quoted include resolves beside the including file first (`../libImaging/Imaging.h`
    // from `src/Tk/`), else anywhere in the tree that ends with it (an include directory).
    let shipped = |header: &str, from: &Path| {
        let beside = beside(from, header);
        names.iter().any(|file| {
            beside.as_deref() == Some(file.as_str())
                || file == header
                || file.ends_with(&format!("/{header}"))
        })
    };
    // A cimported module whose top-level package the sdist contains is its own, even when
    // its .pxd is generated at build time (statsmodels' Tempita `.pxd.in` templates).
    let in_sdist = |pxd: &str| {
        let top = pxd.split('/').next().unwrap_or_default();
        names
            .iter()
            .any(|file| file.starts_with(&format!("{top}/")) || file.contains(&format!("/{top}/")))
    };
    let mut found: Vec<Include> = Vec::new();
    let mut add = |header: &str, file: &PathBuf| {
        if !found.iter().any(|include| include.header == header) {
            found.push(Include {
                header: header.to_string(),
                from: file.clone(),
            });
        }
    };
    for file in &files {
        // Tempita templates (`x.pyx.in`) are Cython once generated.
        let extension = match lowercase_extension(file).as_str() {
            "in" => lowercase_extension(&file.with_extension("")),
            extension => extension.to_string(),
        };
        if !matches!(
            extension.as_str(),
            "c" | "cc" | "cpp" | "cxx" | "h" | "hh" | "hpp" | "pyx" | "pxd" | "pxi"
        ) {
            continue;
        }
        let Ok(text) = fs_err::read_to_string(root.join(file)) else {
            continue;
        };
        for header in text.lines().filter_map(included_header) {
            if !shipped(header, file) {
                add(header, file);
            }
        }
        if matches!(extension.as_str(), "pyx" | "pxd" | "pxi") {
            for pxd in text.lines().filter_map(cimported_pxd) {
                if !in_sdist(&pxd) {
                    add(&pxd, file);
                }
            }
        }
    }
    found
}

/// Cython's own `.pxd` packages, which come with Cython.
const CYTHON_PXD_PACKAGES: &[&str] = &["cython", "libc", "libcpp", "cpython", "posix", "openmp"];

/// The `.pxd` file that a Cython `cimport a.b` or `from a.b cimport c` line reads: `a/b.pxd`,
/// and for a top-level package `a/__init__.pxd` (numpy's `cimport numpy`). `None` for other
/// lines, relative cimports and Cython's own packages.
fn cimported_pxd(line: &str) -> Option<String> {
    let line = line.trim_start();
    let module = if let Some(rest) = line.strip_prefix("from ") {
        let (module, tail) = rest.trim_start().split_once(char::is_whitespace)?;
        tail.trim_start().strip_prefix("cimport")?;
        module
    } else {
        let rest = line.strip_prefix("cimport ")?.trim_start();
        rest.split(|c: char| c == ',' || c.is_whitespace()).next()?
    };
    let valid = |part: &str| {
        !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let top = module.split('.').next()?;
    if !module.split('.').all(valid) || CYTHON_PXD_PACKAGES.contains(&top) {
        return None;
    }
    let path = module.replace('.', "/");
    Some(if module.contains('.') {
        format!("{path}.pxd")
    } else {
        format!("{path}/__init__.pxd")
    })
}

/// `header` as a path beside the file `from` (both relative to the sdist's root), with `.` and
/// `..` resolved; `None` when it leaves the tree.
fn beside(from: &Path, header: &str) -> Option<String> {
    let mut parts: Vec<&str> = from
        .parent()
        .map(|dir| dir.to_str().unwrap_or_default())
        .unwrap_or_default()
        .split('/')
        .filter(|part| !part.is_empty())
        .collect();
    for part in header.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// The files of the package, relative to `root` and sorted: the tree without hidden
/// directories and those of [`NOT_PACKAGE`] (tests, docs, examples, build outputs).
fn package_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs_err::read_dir(&dir) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
            let file_name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            if path.is_dir() {
                if !file_name.starts_with('.') && !NOT_PACKAGE.contains(&file_name.as_str()) {
                    stack.push(path);
                }
            } else {
                files.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
            }
        }
    }
    files.sort();
    files
}

fn lowercase_extension(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The header of a C `#include <x.h>` / `#include "x.h"` line or a Cython
/// `cdef extern from "x.h"` line.
fn included_header(line: &str) -> Option<&str> {
    let line = line.trim_start();
    let rest = if let Some(rest) = line.strip_prefix('#') {
        rest.trim_start().strip_prefix("include")?.trim_start()
    } else {
        line.strip_prefix("cdef extern from")?.trim_start()
    };
    let (open, close) = match rest.chars().next()? {
        '<' => ('<', '>'),
        '"' => ('"', '"'),
        '\'' => ('\'', '\''),
        _ => return None,
    };
    let inner = rest.strip_prefix(open)?;
    let header = &inner[..inner.find(close)?];
    (!header.is_empty() && header != "*").then_some(header)
}

/// The line and column (1-based) of the value of the header `key: value` in `text`.
fn header_position(text: &str, key: &str, value: &str) -> (usize, usize) {
    text.lines()
        .enumerate()
        .find_map(|(index, line)| {
            let rest = line.strip_prefix(key)?.strip_prefix(':')?;
            (rest.trim() == value.trim())
                .then(|| (index + 1, line.len() - rest.trim_start().len() + 1))
        })
        .unwrap_or((1, 1))
}

/// SPDX identifiers of the common license classifiers; other classifiers keep their text.
fn license_from_classifier(classifier: &str) -> String {
    let last = classifier.rsplit(" :: ").next().unwrap_or(classifier);
    let known = [
        ("MIT License", "MIT"),
        ("Apache Software License", "Apache-2.0"),
        ("BSD License", "BSD-3-Clause"),
        ("ISC License (ISCL)", "ISC"),
        ("Mozilla Public License 2.0 (MPL 2.0)", "MPL-2.0"),
        ("Python Software Foundation License", "PSF-2.0"),
        ("The Unlicense (Unlicense)", "Unlicense"),
        ("GNU General Public License v2 (GPLv2)", "GPL-2.0-only"),
        ("GNU General Public License v3 (GPLv3)", "GPL-3.0-only"),
        (
            "GNU Lesser General Public License v2 or later (LGPLv2+)",
            "LGPL-2.0-or-later",
        ),
        (
            "GNU Lesser General Public License v3 (LGPLv3)",
            "LGPL-3.0-only",
        ),
    ];
    known
        .iter()
        .find(|(text, _)| *text == last)
        .map_or_else(|| last.to_string(), |(_, spdx)| spdx.to_string())
}

/// The best `Project-URL` for `about.home`: the home page, else the source, else the first.
fn project_url(headers: &Headers) -> Option<String> {
    let urls: Vec<(String, String)> = headers
        .get_all("Project-URL")
        .filter_map(|value| value.split_once(','))
        .map(|(label, url)| {
            let label: String = label
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            (label, url.trim().to_string())
        })
        .collect();
    for wanted in [
        "homepage",
        "home",
        "source",
        "sourcecode",
        "repository",
        "code",
    ] {
        if let Some((_, url)) = urls.iter().find(|(label, _)| label == wanted) {
            return Some(url.clone());
        }
    }
    urls.first().map(|(_, url)| url.clone())
}

/// The line and column (1-based) where `needle` first appears in `text`.
fn text_position(text: &str, needle: &str) -> (usize, usize) {
    text.lines()
        .enumerate()
        .find_map(|(index, line)| line.find(needle).map(|column| (index + 1, column + 1)))
        .unwrap_or((1, 1))
}

/// `pyproject.toml`, parsed (empty when the tree has none).
struct Pyproject {
    path: PathBuf,
    text: String,
    document: toml::Table,
}

impl Pyproject {
    fn read(root: &Path) -> Result<Pyproject, SkeletonError> {
        let path = root.join("pyproject.toml");
        let text = fs_err::read_to_string(&path).unwrap_or_default();
        let document: toml::Table =
            text.parse()
                .map_err(|error: toml::de::Error| SkeletonError::Pyproject {
                    path: path.clone(),
                    message: error.to_string(),
                })?;
        Ok(Pyproject {
            path,
            text,
            document,
        })
    }

    fn get(&self, keys: &[&str]) -> Option<&toml::Value> {
        let (first, rest) = keys.split_first()?;
        rest.iter()
            .try_fold(self.document.get(*first)?, |value, key| value.get(*key))
    }

    fn string(&self, keys: &[&str]) -> Option<String> {
        self.get(keys)?.as_str().map(str::to_string)
    }

    /// `[build-system] build-backend`.
    fn build_backend(&self) -> Option<String> {
        self.string(&["build-system", "build-backend"])
    }

    /// Whether `[build-system] requires` names setuptools-rust (a setuptools build that runs
    /// cargo for its `RustExtension`s).
    fn requires_setuptools_rust(&self) -> bool {
        self.get(&["build-system", "requires"])
            .and_then(toml::Value::as_array)
            .is_some_and(|requires| {
                requires.iter().filter_map(toml::Value::as_str).any(|r| {
                    let name: String = r
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
                        .collect();
                    normalize_name(&name) == "setuptools-rust"
                })
            })
    }

    /// The table of a build hook that compiles code inside a pure-Python backend, if any:
    /// hatchling's `[tool.hatch.build.hooks.*]` or `[tool.hatch.build.targets.wheel.hooks.*]`
    /// (hatch-cython, hatch-mypyc, a custom `hatch_build.py`), pdm-backend's
    /// `[tool.pdm.build] run-setuptools`, poetry's `[tool.poetry.build] script`.
    fn build_hook(&self) -> Option<&'static str> {
        let has_table = |keys: &[&str]| {
            self.get(keys)
                .and_then(toml::Value::as_table)
                .is_some_and(|table| !table.is_empty())
        };
        if has_table(&["tool", "hatch", "build", "hooks"]) {
            return Some("[tool.hatch.build.hooks]");
        }
        if has_table(&["tool", "hatch", "build", "targets", "wheel", "hooks"]) {
            return Some("[tool.hatch.build.targets.wheel.hooks]");
        }
        if self
            .get(&["tool", "pdm", "build", "run-setuptools"])
            .and_then(toml::Value::as_bool)
            == Some(true)
        {
            return Some("[tool.pdm.build] run-setuptools");
        }
        if self.get(&["tool", "poetry", "build", "script"]).is_some() {
            return Some("[tool.poetry.build] script");
        }
        None
    }

    /// Whether `[project] dynamic` lists `field`.
    fn is_dynamic(&self, field: &str) -> bool {
        self.get(&["project", "dynamic"])
            .and_then(toml::Value::as_array)
            .is_some_and(|fields| fields.iter().any(|f| f.as_str() == Some(field)))
    }

    /// `[project] dependencies` (PEP 621), and whether they are declared dynamic.
    fn dependencies(&self) -> (Vec<String>, bool) {
        let listed = self
            .get(&["project", "dependencies"])
            .and_then(toml::Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        (listed, self.is_dynamic("dependencies"))
    }

    /// PKG-INFO-style headers from the static `[project]` table, for a source tree.
    fn as_headers(&self) -> String {
        let mut text = String::new();
        let mut header = |key: &str, value: Option<String>| {
            if let Some(value) = value.filter(|v| !v.contains('\n')) {
                text.push_str(&format!("{key}: {value}\n"));
            }
        };
        header("Name", self.string(&["project", "name"]));
        header("Version", self.string(&["project", "version"]));
        header("Summary", self.string(&["project", "description"]));
        header(
            "License-Expression",
            self.string(&["project", "license"])
                .or_else(|| self.string(&["project", "license", "text"])),
        );
        if let Some(urls) = self
            .get(&["project", "urls"])
            .and_then(toml::Value::as_table)
        {
            for (label, url) in urls {
                header(
                    "Project-URL",
                    url.as_str().map(|url| format!("{label}, {url}")),
                );
            }
        }
        text
    }
}

/// The metadata file and its headers: the sdist's PKG-INFO, or for a source tree the headers
/// of its static `[project]` table.
fn metadata_text(root: &Path, pyproject: &Pyproject) -> Result<(PathBuf, String), SkeletonError> {
    let pkg_info = root.join("PKG-INFO");
    if let Ok(text) = fs_err::read_to_string(&pkg_info) {
        return Ok((pkg_info, text));
    }
    let dynamic: Vec<&str> = ["name", "version"]
        .into_iter()
        .filter(|field| {
            pyproject.is_dynamic(field) || pyproject.string(&["project", field]).is_none()
        })
        .collect();
    if !dynamic.is_empty() {
        return Err(SkeletonError::NoStaticMetadata {
            root: root.to_path_buf(),
            fields: dynamic.join(" and "),
        });
    }
    Ok((pyproject.path.clone(), pyproject.as_headers()))
}

/// Compiled-language sources of the package (not of its tests, docs or examples).
fn native_sources(root: &Path) -> Vec<PathBuf> {
    package_files(root)
        .into_iter()
        .filter(|path| {
            matches!(
                lowercase_extension(path).as_str(),
                "c" | "cc" | "cpp" | "cxx" | "pyx" | "f" | "f90" | "rs"
            )
        })
        .collect()
}

/// The recipe backend for a PEP 517 backend and the compiled sources found.
fn guess_backend(
    build_backend: Option<&str>,
    native: &[PathBuf],
    build_hook: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<BackendKind, SkeletonError> {
    let example = native
        .first()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let described = build_backend.unwrap_or("none (setuptools' legacy setup.py)");
    let module = build_backend
        .map(|b| b.split(':').next().unwrap_or(b).trim())
        .unwrap_or("setuptools.build_meta");
    let is_rust = |p: &&PathBuf| p.extension().is_some_and(|e| e == "rs");
    let rust_example = native.iter().find(is_rust).map(|p| p.display().to_string());
    // Rust only when nothing else is compiled: a project whose extension is C, with Rust
    // sources for an optional backend (zstandard's rust-ext/), builds its C.
    let has_rust = rust_example.is_some() && native.iter().all(|p| is_rust(&p));
    if let (Some(rust), false, false) = (&rust_example, has_rust, module == "maturin") {
        notes.push(format!(
            "Rust sources (e.g. {rust}) beside C/C++/Cython ones: taken as an optional backend and left out; the recipe builds the others"
        ));
    }
    match module {
        "mesonpy" => Ok(BackendKind::Meson),
        "scikit_build_core.build" => Ok(BackendKind::Cmake),
        "maturin" => {
            notes.push(
                "maturin: backend maturin (cargo for wasm32-wasip1 with the toolchain's Rust part; the crates are vendored from Cargo.lock)"
                    .to_string(),
            );
            Ok(BackendKind::Maturin)
        }
        _ if has_rust => Err(SkeletonError::UnsupportedBackend {
            backend: described.to_string(),
            reason: format!(
                "the sdist has Rust sources ({}) and neither a maturin backend nor setuptools-rust in [build-system] requires; another backend that runs cargo needs `backend: pep517` with `build.rust: true` written by hand",
                rust_example.as_deref().unwrap_or_default()
            ),
        }),
        "setuptools.build_meta" | "setuptools.build_meta.__legacy__" => {
            if native.is_empty() {
                Ok(BackendKind::Pure)
            } else {
                notes.push(format!(
                    "{} compiled sources (e.g. {example}): backend setuptools (cross-compiled); check requirements.build for Cython and friends",
                    native.len()
                ));
                Ok(BackendKind::Setuptools)
            }
        }
        "flit_core.buildapi"
        | "flit.buildapi"
        | "hatchling.build"
        | "poetry.core.masonry.api"
        | "poetry.masonry.api"
        | "pdm.backend"
        | "pdm.pep517.api"
        | "pbr.build" => {
            if let (Some(hook), false) = (build_hook, native.is_empty()) {
                notes.push(format!(
                    "{described} with a build hook ({hook}) and compiled sources (e.g. {example}): backend pep517, the project's own backend run with the target environment and the compiler wrappers"
                ));
                return Ok(BackendKind::Pep517);
            }
            if !native.is_empty() {
                notes.push(format!(
                    "{described} with compiled-looking sources (e.g. {example}): written as pure; if they are compiled, the recipe needs a native backend"
                ));
            }
            Ok(BackendKind::Pure)
        }
        other => {
            if native.is_empty() {
                notes.push(format!(
                    "unknown build backend `{other}` and no compiled sources: written as pure"
                ));
                Ok(BackendKind::Pure)
            } else {
                // Built as its sdist declares it (backend-path included), cross-compiled.
                notes.push(format!(
                    "{} compiled sources (e.g. {example}) and the build backend `{other}`: backend pep517, the project's own backend run with the target environment and the compiler wrappers",
                    native.len()
                ));
                Ok(BackendKind::Pep517)
            }
        }
    }
}

/// The modules `test.imports` should import: `Import-Name` (metadata 2.5), `top_level.txt` of
/// a setuptools sdist, else the top-level packages and modules found in the tree.
fn guess_imports(
    root: &Path,
    name: &str,
    headers: &Headers,
    pyproject: &Pyproject,
    notes: &mut Vec<String>,
) -> Vec<String> {
    let declared: Vec<String> = headers
        .get_all("Import-Name")
        .filter(|value| !value.contains("private"))
        .map(|value| value.split(';').next().unwrap_or(value).trim().to_string())
        .filter(|value| is_module_path(value))
        .collect();
    if !declared.is_empty() {
        return declared;
    }
    if let Some(modules) = maturin_modules(root, pyproject) {
        return modules;
    }
    let mut top_level: Vec<String> = egg_info_dirs(root)
        .into_iter()
        .filter_map(|dir| fs_err::read_to_string(dir.join("top_level.txt")).ok())
        .flat_map(|text| {
            text.lines()
                .map(str::trim)
                .filter(|line| is_module_path(line))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    if top_level.is_empty() {
        top_level = SOURCE_DIRS
            .iter()
            .map(|dir| candidates(&root.join(dir)))
            .find(|found| !found.is_empty())
            .unwrap_or_default();
    }
    let public: Vec<String> = top_level
        .iter()
        .filter(|m| !m.starts_with('_'))
        .cloned()
        .collect();
    if !public.is_empty() {
        top_level = public;
    }
    let wanted = normalize_name(name).replace('-', "_");
    let matching: Vec<String> = top_level
        .iter()
        .filter(|m| m.to_ascii_lowercase() == wanted)
        .cloned()
        .collect();
    match (matching.is_empty(), top_level.is_empty()) {
        (false, _) => matching,
        (true, false) => {
            top_level.sort();
            top_level.dedup();
            top_level
        }
        (true, true) => {
            notes.push(format!(
                "no top-level package found: test.imports guesses `{wanted}`"
            ));
            vec![wanted]
        }
    }
}

/// setuptools' `NAME.egg-info` directories, which it writes beside the packages: at the root,
/// or in the `package_dir` (`src/`, PyYAML's `lib/`).
fn egg_info_dirs(root: &Path) -> Vec<PathBuf> {
    SOURCE_DIRS
        .iter()
        .flat_map(|dir| {
            fs_err::read_dir(root.join(dir))
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".egg-info"))
        .map(|entry| entry.path())
        .collect()
}

/// The run requirements in setuptools' `NAME.egg-info/requires.txt`, as PEP 508 strings: the
/// lines before any section, and those of `[:MARKER]` sections with that marker. `[EXTRA]` and
/// `[EXTRA:MARKER]` sections are optional dependencies, left out. Also the file and its text.
fn egg_info_requirements(root: &Path) -> Option<(PathBuf, String, Vec<String>)> {
    let path = egg_info_dirs(root)
        .into_iter()
        .map(|dir| dir.join("requires.txt"))
        .find(|path| path.is_file())?;
    let text = fs_err::read_to_string(&path).ok()?;
    let mut listed = Vec::new();
    // `Some(marker)` inside a run section ("" for the unconditional lines), `None` in an extra.
    let mut section = Some(String::new());
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = header
                .strip_prefix(':')
                .map(|marker| marker.trim().to_string());
            continue;
        }
        match section.as_deref() {
            Some("") => listed.push(line.to_string()),
            Some(marker) => listed.push(format!("{line}; {marker}")),
            None => {}
        }
    }
    Some((path, text, listed))
}

/// Where a project's packages live, in the order they are looked for: `src/`, `lib/`
/// (PyYAML's `package_dir`), then the root.
const SOURCE_DIRS: &[&str] = &["src", "lib", ""];

/// Whether `text` can follow `import`: dotted identifiers (not `name-stubs`, a typing-stubs
/// directory, nor a path).
fn is_module_path(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|part| {
            part.starts_with(|c: char| c.is_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// The modules a maturin project installs: `[tool.maturin] module-name` (and its top-level
/// package when it is dotted), else the top-level packages of `python-source`, else the crate's
/// library name from `Cargo.toml`. `None` for other backends.
fn maturin_modules(root: &Path, pyproject: &Pyproject) -> Option<Vec<String>> {
    let backend = pyproject.build_backend()?;
    if backend.split(':').next()?.trim() != "maturin" {
        return None;
    }
    if let Some(module) = pyproject
        .string(&["tool", "maturin", "module-name"])
        .filter(|m| is_module_path(m))
    {
        let top = module.split('.').next().unwrap_or(&module).to_string();
        return Some(if top == module {
            vec![module]
        } else {
            vec![top, module]
        });
    }
    if let Some(source) = pyproject.string(&["tool", "maturin", "python-source"]) {
        let found = candidates(&root.join(source));
        if !found.is_empty() {
            return Some(found);
        }
    }
    let manifest = pyproject
        .string(&["tool", "maturin", "manifest-path"])
        .unwrap_or_else(|| "Cargo.toml".to_string());
    let cargo: toml::Table = fs_err::read_to_string(root.join(manifest))
        .ok()?
        .parse()
        .ok()?;
    let lib = cargo
        .get("lib")
        .and_then(|lib| lib.get("name"))
        .or_else(|| cargo.get("package").and_then(|p| p.get("name")))?
        .as_str()?
        .replace('-', "_");
    is_module_path(&lib).then(|| vec![lib])
}

/// Importable packages (directories with `__init__.py`) and modules directly in `dir`.
fn candidates(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = fs_err::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let identifier = |text: &str| {
            text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if path.is_dir() {
            if identifier(&file_name)
                && !NOT_PACKAGE.contains(&file_name.as_str())
                && path.join("__init__.py").is_file()
            {
                found.push(file_name);
            }
        } else if let Some(stem) = file_name.strip_suffix(".py")
            && identifier(stem)
            && !NOT_MODULES.contains(&stem)
        {
            found.push(stem.to_string());
        }
    }
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(version: &str) -> TargetMarkers {
        TargetMarkers::given(crate::skeleton::marker::tests::probed(version))
    }

    fn sdist(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            fs_err::create_dir_all(path.parent().unwrap()).unwrap();
            fs_err::write(path, text).unwrap();
        }
        dir
    }

    /// Pillow's `src/Tk/tkImaging.c` includes `"../libImaging/Imaging.h"`, which the sdist ships.
    #[test]
    fn a_relative_include_resolves_beside_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs_err::create_dir_all(root.join("src/Tk")).unwrap();
        fs_err::create_dir_all(root.join("src/libImaging")).unwrap();
        fs_err::write(
            root.join("src/Tk/tkImaging.c"),
            "#include \"../libImaging/Imaging.h\"\n#include \"../../../outside.h\"\n#include <tiffio.h>\n",
        )
        .unwrap();
        fs_err::write(root.join("src/libImaging/Imaging.h"), "").unwrap();
        let headers: Vec<String> = external_includes(root)
            .into_iter()
            .map(|include| include.header)
            .collect();
        assert_eq!(headers, ["../../../outside.h", "tiffio.h"]);
        assert_eq!(
            beside(Path::new("src/Tk/tkImaging.c"), "../libImaging/Imaging.h").as_deref(),
            Some("src/libImaging/Imaging.h")
        );
        assert_eq!(beside(Path::new("a.c"), "../x.h"), None);
    }

    /// scikit-learn's and statsmodels' Cython: `cimport numpy` reads numpy's `__init__.pxd`, a
    /// module of scipy its `.pxd`; the package's own modules (here generated from a template),
    /// relative cimports and Cython's own packages are not external.
    #[test]
    fn cython_cimports_of_other_packages_are_external() {
        let dir = sdist(&[
            (
                "pkg/_fast.pyx",
                "cimport numpy as cnp\nfrom libc.math cimport sqrt\ncimport cython\n\
                 from pkg._tables cimport lookup\nfrom . cimport _helpers\n\
                 cimport scipy.linalg.cython_blas as blas\n\
                 # cimport commented\n",
            ),
            (
                "pkg/_tables.pxd.in",
                "from scipy.linalg.cython_lapack cimport dgesv\n",
            ),
        ]);
        let headers: Vec<String> = external_includes(dir.path())
            .into_iter()
            .map(|include| include.header)
            .collect();
        assert_eq!(
            headers,
            [
                "numpy/__init__.pxd",
                "scipy/linalg/cython_blas.pxd",
                "scipy/linalg/cython_lapack.pxd"
            ]
        );
    }

    #[test]
    fn a_hatchling_sdist_with_dependencies() {
        let dir = sdist(&[
            (
                "PKG-INFO",
                "Metadata-Version: 2.3\nName: Demo_Pkg\nVersion: 1.2\nSummary: A demo\nProject-URL: Documentation, https://docs.example\nProject-URL: Source, https://src.example\nClassifier: License :: OSI Approved :: MIT License\nRequires-Dist: six>=1.5\nRequires-Dist: tomli; python_version < \"3.11\"\nRequires-Dist: colorama; sys_platform == \"win32\"\nRequires-Dist: pytest; extra == \"test\"\nRequires-Dist: Typing_Extensions>=4; python_version >= \"3.9\"\n\nbody\n",
            ),
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n",
            ),
            ("src/demo_pkg/__init__.py", ""),
            ("tests/test_x.c", ""),
        ]);
        let found = inspect(dir.path(), &mut target("3.14.0")).unwrap();
        assert_eq!(
            found,
            Inspection {
                name: "Demo_Pkg".into(),
                version: "1.2".into(),
                summary: "A demo".into(),
                license: Some("MIT".into()),
                home: Some("https://src.example".into()),
                run: vec!["six".into(), "typing-extensions".into()],
                build_backend: Some("hatchling.build".into()),
                backend: BackendKind::Pure,
                rust: false,
                imports: vec!["demo_pkg".into()],
                includes: vec![],
                host: vec![],
                build: vec![],
                notes: vec![],
            }
        );
    }

    #[test]
    fn a_marker_on_the_target_needs_the_toolchain_probe() {
        let dir = sdist(&[(
            "PKG-INFO",
            "Name: demo\nVersion: 1.0\nRequires-Dist: six\nRequires-Dist: tomli; python_version < \"3.11\"\n",
        )]);
        let cache = tempfile::tempdir().unwrap();
        let mut target = TargetMarkers::from_toolchain(cache.path().to_path_buf());
        let error = inspect(dir.path(), &mut target).unwrap_err();
        let toolchain = crate::toolchain::install::toolchain_dir(cache.path());
        let sdist_name = dir.path().file_name().unwrap().to_string_lossy();
        assert_eq!(
            error
                .to_string()
                .replace(&toolchain.display().to_string(), "TOOLCHAIN"),
            format!(
                "{sdist_name}/PKG-INFO:4:16: the marker of Requires-Dist `tomli; python_version < \"3.11\"` is judged on the target's marker values, which the toolchain records when it probes the consumer runtime; the WASI toolchain is not installed in TOOLCHAIN\n  help: run `wheelforge toolchain install` (native builds also install it on first use)"
            )
        );
    }

    #[test]
    fn setuptools_with_c_sources_is_native_and_rust_is_refused() {
        let dir = sdist(&[
            ("PKG-INFO", "Name: cdemo\nVersion: 0.1\n"),
            ("setup.py", ""),
            ("cdemo/__init__.py", ""),
            ("cdemo/_speedups.c", ""),
            ("cdemo.egg-info/top_level.txt", "cdemo\n_cdemo_private\n"),
        ]);
        let found = inspect(dir.path(), &mut target("3.14.0")).unwrap();
        assert_eq!(found.backend, BackendKind::Setuptools);
        assert_eq!(found.imports, ["cdemo"]);
        assert_eq!(found.license, None);

        let rust = sdist(&[
            ("PKG-INFO", "Name: r\nVersion: 1\n"),
            (
                "pyproject.toml",
                "[build-system]\nbuild-backend = \"maturin\"\n",
            ),
            ("src/lib.rs", ""),
        ]);
        let found = inspect(rust.path(), &mut target("3.14.0")).unwrap();
        assert_eq!(found.backend, BackendKind::Maturin);
        // setuptools-rust (tiktoken): setuptools with build.rust.
        let setuptools_rust = sdist(&[
            ("PKG-INFO", "Name: r\nVersion: 1\n"),
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"setuptools>=62.4\", \"setuptools_rust>=1.5.2\"]\nbuild-backend = \"setuptools.build_meta\"\n",
            ),
            ("setup.py", ""),
            ("src/lib.rs", ""),
        ]);
        let found = inspect(setuptools_rust.path(), &mut target("3.14.0")).unwrap();
        assert_eq!((found.backend, found.rust), (BackendKind::Setuptools, true));
        let text = crate::skeleton::render("r", &"a".repeat(64), &found);
        assert!(
            text.contains("  backend: setuptools\n  rust: true\n"),
            "{text}"
        );
        // Rust sources and no backend that runs cargo: refused, saying what is missing.
        let bare = sdist(&[
            ("PKG-INFO", "Name: r\nVersion: 1\n"),
            ("setup.py", ""),
            ("src/lib.rs", ""),
        ]);
        let error = inspect(bare.path(), &mut target("3.14.0")).unwrap_err();
        assert!(
            matches!(error, SkeletonError::UnsupportedBackend { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("setuptools-rust"), "{error}");
    }

    #[test]
    fn an_optional_rust_backend_beside_c_sources_builds_the_c() {
        // zstandard: the C extension is the default, rust-ext/ an optional backend.
        let dir = sdist(&[
            (
                "PKG-INFO",
                "Name: zdemo
Version: 1
",
            ),
            (
                "pyproject.toml",
                "[build-system]\nbuild-backend = \"setuptools.build_meta\"\n",
            ),
            ("setup.py", ""),
            ("c-ext/backend_c.c", ""),
            ("rust-ext/src/lib.rs", ""),
            ("zdemo/__init__.py", ""),
        ]);
        let found = inspect(dir.path(), &mut target("3.14.0")).unwrap();
        assert_eq!(found.backend, BackendKind::Setuptools);
        assert!(
            found
                .notes
                .iter()
                .any(|n| n.contains("rust-ext/src/lib.rs")),
            "{:?}",
            found.notes
        );
    }

    #[test]
    fn an_in_tree_backend_with_packages_under_lib() {
        // PyYAML: `backend-path = ["packaging"]`, a wrapper of setuptools, and its packages
        // (and egg-info) under lib/.
        let dir = sdist(&[
            ("PKG-INFO", "Name: PyYAML\nVersion: 6.0.4\nLicense: MIT\n"),
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"setuptools\", \"Cython\"]\nbuild-backend = \"_pyyaml_pep517\"\nbackend-path = [\"packaging\"]\n",
            ),
            ("packaging/_pyyaml_pep517.py", ""),
            ("setup.py", ""),
            (
                "yaml/_yaml.pyx",
                "cdef extern from \"_yaml.h\":\n    pass\n",
            ),
            ("yaml/_yaml.h", "#include <yaml.h>\n#include \"_yaml.h\"\n"),
            (
                "yaml/_yaml.c",
                "#include \"Python.h\"\n  #  include <yaml.h>\n",
            ),
            ("lib/yaml/__init__.py", ""),
            ("lib/_yaml/__init__.py", ""),
            ("lib/PyYAML.egg-info/top_level.txt", "_yaml\nyaml\n"),
        ]);
        let found = inspect(dir.path(), &mut target("3.14.0")).unwrap();
        assert_eq!(found.backend, BackendKind::Pep517);
        assert_eq!(found.imports, ["yaml"]);
        let includes: Vec<_> = found
            .includes
            .iter()
            .map(|i| format!("{} {}", i.header, i.from.display()))
            .collect();
        assert_eq!(includes, ["Python.h yaml/_yaml.c", "yaml.h yaml/_yaml.c"]);
        fs_err::remove_dir_all(dir.path().join("lib/PyYAML.egg-info")).unwrap();
        let found = inspect(dir.path(), &mut target("3.14.0")).unwrap();
        assert_eq!(found.imports, ["yaml"]);
    }

    /// Skeleton wrote `import demo-stubs` (a typing-stubs directory) as a test import.
    #[test]
    fn test_imports_are_importable_module_names_only() {
        let dir = sdist(&[
            ("PKG-INFO", "Name: demo\nVersion: 1\n"),
            ("setup.py", ""),
            ("demo.egg-info/top_level.txt", "demo-stubs\ndemo\ntests\n"),
            ("demo/__init__.py", ""),
        ]);
        let found = inspect(dir.path(), &mut target("3.14.0")).unwrap();
        assert_eq!(found.imports, ["demo"]);
        let stubs_only = sdist(&[
            ("PKG-INFO", "Name: demo-stubs\nVersion: 1\n"),
            ("setup.py", ""),
            ("demo-stubs/__init__.pyi", ""),
            ("tests/__init__.py", ""),
            ("demo_lib/__init__.py", ""),
        ]);
        let found = inspect(stubs_only.path(), &mut target("3.14.0")).unwrap();
        assert_eq!(found.imports, ["demo_lib"]);
    }

    /// A package whose PKG-INFO lists no requirements (dynamic metadata) got a recipe without
    /// `requirements.run`; they come from pyproject.toml's `[project] dependencies`, judged for
    /// the target.
    #[test]
    fn run_requirements_fall_back_to_the_pyproject_dependencies() {
        let dir = sdist(&[
            (
                "PKG-INFO",
                "Metadata-Version: 2.1\nName: demo\nVersion: 1\n",
            ),
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n[project]\nname = \"demo\"\nversion = \"1\"\ndependencies = [\"numpy>=1.25\", \"pywin32; sys_platform == 'win32'\", \"Typing_Extensions\"]\n",
            ),
            ("demo/__init__.py", ""),
        ]);
        let found = inspect(dir.path(), &mut target("3.14.0")).unwrap();
        assert_eq!(found.run, ["numpy", "typing-extensions"]);
    }

    /// Older setuptools left `install_requires` out of the sdist's PKG-INFO and wrote it only
    /// to `NAME.egg-info/requires.txt`; skeleton wrote no `requirements.run` then.
    #[test]
    fn run_requirements_fall_back_to_the_egg_info_requires() {
        let dir = sdist(&[
            (
                "PKG-INFO",
                "Metadata-Version: 2.1\nName: demo\nVersion: 1\n",
            ),
            ("setup.py", "from setuptools import setup\nsetup()\n"),
            (
                "src/demo.egg-info/requires.txt",
                "numpy>=1.25\nsix\n\n[:python_version < \"3.11\"]\ntomli\n\n[:sys_platform == \"wasi\"]\nwasi-only\n\n[test]\npytest\n\n[docs:python_version >= \"3.8\"]\nsphinx\n",
            ),
            ("src/demo/__init__.py", ""),
        ]);
        let found = inspect(dir.path(), &mut target("3.14.0")).unwrap();
        assert_eq!(found.run, ["numpy", "six", "wasi-only"]);
        assert!(
            found
                .notes
                .iter()
                .any(|note| note.ends_with("taken from src/demo.egg-info/requires.txt")),
            "{:?}",
            found.notes
        );
    }

    /// What skeleton writes for each kind of backend, from `[build-system]` and the sources.
    #[test]
    fn each_kind_of_backend_is_detected() {
        let system = |backend: &str, requires: &str| {
            format!("[build-system]\nrequires = [{requires}]\nbuild-backend = \"{backend}\"\n")
        };
        let cases: Vec<(&str, String, &str, BackendKind, bool)> = vec![
            (
                "setuptools, C",
                system("setuptools.build_meta", "\"setuptools\""),
                "demo/_c.c",
                BackendKind::Setuptools,
                false,
            ),
            (
                "setuptools, pure",
                system("setuptools.build_meta", "\"setuptools\""),
                "demo/x.py",
                BackendKind::Pure,
                false,
            ),
            (
                "meson-python",
                system("mesonpy", "\"meson-python\""),
                "demo/_c.c",
                BackendKind::Meson,
                false,
            ),
            (
                "scikit-build-core",
                system("scikit_build_core.build", "\"scikit-build-core\""),
                "src/x.cpp",
                BackendKind::Cmake,
                false,
            ),
            (
                "maturin",
                system("maturin", "\"maturin>=1\""),
                "src/lib.rs",
                BackendKind::Maturin,
                false,
            ),
            (
                "setuptools-rust",
                system(
                    "setuptools.build_meta",
                    "\"setuptools\", \"setuptools-rust\"",
                ),
                "src/lib.rs",
                BackendKind::Setuptools,
                true,
            ),
            (
                "in-tree wrapper",
                system("_custom_backend", "\"setuptools\", \"cython\"")
                    + "backend-path = [\"packaging\"]\n",
                "demo/_c.pyx",
                BackendKind::Pep517,
                false,
            ),
            (
                "hatchling",
                system("hatchling.build", "\"hatchling\""),
                "demo/x.py",
                BackendKind::Pure,
                false,
            ),
            (
                "hatchling with a build hook",
                system("hatchling.build", "\"hatchling\", \"hatch-cython\"")
                    + "[tool.hatch.build.targets.wheel.hooks.cython]\ndependencies = [\"hatch-cython\"]\n",
                "demo/_c.pyx",
                BackendKind::Pep517,
                false,
            ),
            (
                "pdm with setuptools",
                system("pdm.backend", "\"pdm-backend\"")
                    + "[tool.pdm.build]\nrun-setuptools = true\n",
                "demo/_c.c",
                BackendKind::Pep517,
                false,
            ),
            (
                "flit",
                system("flit_core.buildapi", "\"flit_core\""),
                "demo/x.py",
                BackendKind::Pure,
                false,
            ),
        ];
        for (case, pyproject, source, backend, rust) in cases {
            let dir = sdist(&[
                ("PKG-INFO", "Name: demo\nVersion: 1.0\n"),
                ("pyproject.toml", &pyproject),
                ("demo/__init__.py", ""),
                (source, ""),
            ]);
            let found = inspect(dir.path(), &mut target("3.14.0"))
                .unwrap_or_else(|error| panic!("{case}: {error}"));
            assert_eq!(
                (found.backend, found.rust),
                (backend, rust),
                "{case}: {:?}",
                found.notes
            );
        }
    }
}

//! `wheelforge skeleton`: a first recipe for a project on the package index.
//!
//! This module downloads the project's sdist with pip (`pip download --no-deps --no-binary
//! PROJECT`: only the project must be an sdist; pip prepares its metadata with build tools
//! from wheels, where `:all:` would build numpy and cmake from source first), hashes it, reads what it says about itself ([`inspect`]) and writes
//! `recipes/<name>/meta.yaml` in the recipe format, checked by the recipe loader before it is
//! renamed into place. It never overwrites a recipe. It does not build anything: the recipe is
//! a first draft for `wheelforge lint` and `wheelforge build`.

pub mod inspect;
pub mod marker;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::process::{log_tail, run_logged};
use crate::recipe::{BackendKind, RecipeError, load_recipe_str};
use crate::reporter::Reporter;
use crate::source::{sha256_file, unpack};
use crate::tags::normalize_name;
use crate::toolchain::{HostPython, ToolchainError};

#[derive(Debug, thiserror::Error)]
pub enum SkeletonError {
    #[error("a recipe for `{name}` already exists: {path}\n  help: edit it (then `wheelforge lint {name}`), or remove its directory to start again", path = path.display())]
    AlreadyExists { name: String, path: PathBuf },
    #[error("no recipes directory at {dir}\n  help: run wheelforge from the repository root, or pass --output-dir DIR", dir = dir.display())]
    NoOutputDir { dir: PathBuf },
    #[error(
        "pip could not download an sdist of {requirement}:\n{tail}\n  help: check the project name and version on the package index (`pip download --no-deps --no-binary PROJECT {requirement}`); projects that publish only wheels have no sdist to build"
    )]
    Pip { requirement: String, tail: String },
    #[error("{root} has no PKG-INFO with a name and version\n  help: the archive pip downloaded is not a standard sdist; write the recipe by hand (docs/recipes.md)", root = root.display())]
    NoPkgInfo { root: PathBuf },
    #[error("{root} has no PKG-INFO, and its pyproject.toml gives no static [project] {fields}\n  help: build an sdist (`python -m build --sdist`) and pass it with `--sdist FILE`; its PKG-INFO has the values a dynamic build computes", root = root.display())]
    NoStaticMetadata { root: PathBuf, fields: String },
    #[error("{path} is not valid TOML: {message}\n  help: write the recipe by hand (docs/recipes.md)", path = path.display())]
    Pyproject { path: PathBuf, message: String },
    #[error(
        "cannot write a recipe for build backend {backend}: {reason}\n  help: see docs/recipes.md for the backends wheelforge has"
    )]
    UnsupportedBackend { backend: String, reason: String },
    #[error("the recipe written for `{name}` does not load: {source}\n  help: this is a bug in `wheelforge skeleton`; the draft is at {draft}", draft = draft.display())]
    Invalid {
        name: String,
        draft: PathBuf,
        #[source]
        source: Box<RecipeError>,
    },
    #[error("{pkg_info}:{line}:{column}: the marker of Requires-Dist `{requirement}` is judged on the target's marker values, which the toolchain records when it probes the consumer runtime; {source}", pkg_info = pkg_info.display())]
    TargetMarkers {
        /// The sdist's PKG-INFO, as a path inside the sdist.
        pkg_info: PathBuf,
        line: usize,
        column: usize,
        requirement: String,
        #[source]
        source: Box<ToolchainError>,
    },
    #[error(transparent)]
    Python(#[from] ToolchainError),
    #[error(transparent)]
    Unpack(#[from] unpack::UnpackError),
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> SkeletonError + '_ {
    move |source| SkeletonError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What to write and where.
#[derive(Debug, Clone)]
pub struct SkeletonSettings {
    /// The recipes directory the new recipe goes into.
    pub output_dir: PathBuf,
    /// The version; the newest sdist when `None`.
    pub version: Option<String>,
    /// A PEP 503 index for pip instead of its configured one.
    pub index_url: Option<String>,
    /// The cache whose installed toolchain's probe gives the target's marker values.
    pub cache_dir: PathBuf,
}

/// The recipe written.
#[derive(Debug, Clone)]
pub struct Skeleton {
    pub path: PathBuf,
    pub text: String,
    pub inspection: inspect::Inspection,
    /// The recipe's name (normalized) and the sdist's file name.
    pub name: String,
    pub archive: String,
    /// Run requirements without a recipe in the output directory yet.
    pub missing: Vec<String>,
}

/// Writes a first recipe for `project` into `settings.output_dir`.
pub fn skeleton(
    settings: &SkeletonSettings,
    project: &str,
    reporter: &dyn Reporter,
) -> Result<Skeleton, SkeletonError> {
    let _span = tracing::info_span!("skeleton", project).entered();
    let name = normalize_name(project);
    if !settings.output_dir.is_dir() {
        return Err(SkeletonError::NoOutputDir {
            dir: settings.output_dir.clone(),
        });
    }
    refuse_existing(&settings.output_dir, &name)?;

    let scratch = tempfile::Builder::new()
        .prefix("wheelforge-skeleton-")
        .tempdir()
        .map_err(io_error(&std::env::temp_dir()))?;
    reporter.message(&name, "download");
    let archive = download(settings, project, scratch.path(), reporter)?;
    let sha256 = sha256_file(&archive).map_err(io_error(&archive))?;
    reporter.message(&name, "inspect");
    let root = unpack::unpack(&archive, &scratch.path().join("tree"))?;
    let mut target = marker::TargetMarkers::from_toolchain(settings.cache_dir.clone());
    let inspection = inspect::inspect(&root, &mut target)?;
    let name = normalize_name(&inspection.name);
    refuse_existing(&settings.output_dir, &name)?;

    let mut inspection = inspection;
    host_libraries(&mut inspection, &recipes_in(&settings.output_dir));
    let text = render(&name, &sha256, &inspection);
    let dir = settings.output_dir.join(&name);
    let path = dir.join("meta.yaml");
    load_recipe_str(&text, &path).map_err(|source| {
        let draft = scratch.keep().join("meta.yaml");
        let _ = fs_err::write(&draft, &text);
        SkeletonError::Invalid {
            name: name.clone(),
            draft,
            source: Box::new(source),
        }
    })?;
    fs_err::create_dir_all(&dir).map_err(io_error(&dir))?;
    let mut temporary = tempfile::Builder::new()
        .prefix(".meta.yaml-")
        .tempfile_in(&dir)
        .map_err(io_error(&dir))?;
    temporary
        .write_all(text.as_bytes())
        .map_err(io_error(&path))?;
    // Never replace a recipe that appeared meanwhile.
    temporary.persist_noclobber(&path).map_err(|error| {
        if error.error.kind() == std::io::ErrorKind::AlreadyExists {
            SkeletonError::AlreadyExists {
                name: name.clone(),
                path: path.clone(),
            }
        } else {
            io_error(&path)(error.error)
        }
    })?;

    let missing = inspection
        .run
        .iter()
        .filter(|dependency| refuse_existing(&settings.output_dir, dependency).is_ok())
        .cloned()
        .collect();
    Ok(Skeleton {
        path,
        text,
        archive: archive
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        inspection,
        name,
        missing,
    })
}

/// The recipes in `dir` that load; a broken one is `wheelforge lint`'s to report, not a reason
/// to write no recipe.
fn recipes_in(dir: &Path) -> Vec<crate::recipe::Recipe> {
    fs_err::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let path = entry.path().join("meta.yaml");
            let text = fs_err::read_to_string(&path).ok()?;
            load_recipe_str(&text, &path).ok()
        })
        .collect()
}

/// An error if `dir` has a recipe whose directory normalizes to `name`.
fn refuse_existing(dir: &Path, name: &str) -> Result<(), SkeletonError> {
    let entries = fs_err::read_dir(dir).map_err(io_error(dir))?;
    for entry in entries.flatten() {
        let meta = entry.path().join("meta.yaml");
        if normalize_name(&entry.file_name().to_string_lossy()) == name && meta.exists() {
            return Err(SkeletonError::AlreadyExists {
                name: name.to_string(),
                path: meta,
            });
        }
    }
    Ok(())
}

/// The project's sdist from the index, else with `pip download --no-deps --no-binary PROJECT`,
/// into `scratch/sdist`.
fn download(
    settings: &SkeletonSettings,
    project: &str,
    scratch: &Path,
    reporter: &dyn Reporter,
) -> Result<PathBuf, SkeletonError> {
    let python = HostPython::discover()?;
    let dest = scratch.join("sdist");
    fs_err::create_dir_all(&dest).map_err(io_error(&dest))?;
    // From the index itself when its URL is known: `pip download` would prepare the sdist's
    // metadata, which runs `setup.py` and fails where it looks for a library on this machine
    // (shapely's geos-config).
    if let Some(archive) = crate::source::download_sdist(
        &python,
        settings.index_url.as_deref(),
        project,
        settings.version.as_deref(),
        &dest,
        reporter,
    )? {
        return Ok(archive);
    }
    let requirement = match &settings.version {
        Some(version) => format!("{project}=={version}"),
        None => project.to_string(),
    };
    let log = scratch.join("pip.log");
    let mut pip = python.pip();
    pip.args(["download", "--no-deps", "--no-binary", project, "--dest"])
        .arg(&dest);
    if let Some(index) = &settings.index_url {
        pip.arg("--index-url").arg(index);
    }
    pip.arg(&requirement);
    let status = run_logged(&mut pip, &log).map_err(io_error(&log))?;
    let failed = || SkeletonError::Pip {
        requirement: requirement.clone(),
        tail: log_tail(&log, 8),
    };
    if !status.success() {
        return Err(failed());
    }
    let mut files: Vec<PathBuf> = fs_err::read_dir(&dest)
        .map_err(io_error(&dest))?
        .flatten()
        .map(|entry| entry.path())
        .collect();
    match files.len() {
        1 => Ok(files.remove(0)),
        _ => Err(failed()),
    }
}

/// Headers of the C library, POSIX and CPython (and C++'s, which have no `.h`): included by
/// many sources, provided by the toolchain's sysroot or the target environment.
const SYSTEM_HEADERS: &[&str] = &[
    "assert.h",
    "complex.h",
    "ctype.h",
    "errno.h",
    "fenv.h",
    "float.h",
    "inttypes.h",
    "iso646.h",
    "limits.h",
    "locale.h",
    "math.h",
    "setjmp.h",
    "signal.h",
    "stdalign.h",
    "stdarg.h",
    "stdatomic.h",
    "stdbool.h",
    "stddef.h",
    "stdint.h",
    "stdio.h",
    "stdlib.h",
    "stdnoreturn.h",
    "string.h",
    "strings.h",
    "tgmath.h",
    "threads.h",
    "time.h",
    "uchar.h",
    "wchar.h",
    "wctype.h",
    "alloca.h",
    "dirent.h",
    "dlfcn.h",
    "endian.h",
    "fcntl.h",
    "fnmatch.h",
    "getopt.h",
    "glob.h",
    "grp.h",
    "iconv.h",
    "langinfo.h",
    "libgen.h",
    "malloc.h",
    "memory.h",
    "netdb.h",
    "poll.h",
    "pthread.h",
    "pwd.h",
    "regex.h",
    "sched.h",
    "search.h",
    "semaphore.h",
    "spawn.h",
    "syslog.h",
    "termios.h",
    "unistd.h",
    "utime.h",
    "wordexp.h",
    "byteswap.h",
    "features.h",
    "emmintrin.h",
    "immintrin.h",
    "xmmintrin.h",
    "intrin.h",
    "windows.h",
    "winsock2.h",
    "io.h",
    "process.h",
    "direct.h",
    "Python.h",
    "structmember.h",
    "pythread.h",
    "frameobject.h",
    "datetime.h",
    "marshal.h",
    "pyconfig.h",
    "bytesobject.h",
    "longintrepr.h",
    "osdefs.h",
];

/// Prefixes of system header directories (`sys/types.h`, `arpa/inet.h`, `cpython/...`).
const SYSTEM_HEADER_DIRS: &[&str] = &[
    "sys/",
    "arpa/",
    "netinet/",
    "net/",
    "linux/",
    "machine/",
    "asm/",
    "mach/",
    "mach-o/",
    "cpython/",
    "internal/",
    "wasi/",
    "bits/",
    "emscripten",
];

/// Adds to `found.host` the recipes in `recipes_dir` whose `build.headers` the sources include
/// (`yaml.h` → `libyaml`, `numpy/arrayobject.h` → `numpy`), and notes the included headers that
/// are neither shipped, nor a system header, nor any recipe's. A package recipe (not a
/// `static_library`) is also a build tool pinned to its version: the build imports it on the
/// build machine (`numpy.get_include()`, Cython's `.pxd` files), which must match the target's
/// headers.
pub fn host_libraries<'a>(
    found: &mut inspect::Inspection,
    recipes: impl IntoIterator<Item = &'a crate::recipe::Recipe>,
) {
    let mut libraries: Vec<(String, &[String], Option<String>)> = recipes
        .into_iter()
        .filter(|recipe| !recipe.build.headers.is_empty())
        .map(|recipe| {
            let name = normalize_name(recipe.package.name.as_str());
            let pin = (recipe.build.backend != BackendKind::StaticLibrary)
                .then(|| format!("{name}=={}", recipe.package.version.as_str()));
            (name, recipe.build.headers.as_slice(), pin)
        })
        .collect();
    libraries.sort();
    let provides = |declared: &str, header: &str| {
        declared == header || (declared.ends_with('/') && header.starts_with(declared))
    };
    let mut unknown = Vec::new();
    let mut cimported = Vec::new();
    for include in &found.includes {
        let library = libraries.iter().find(|(_, headers, _)| {
            headers
                .iter()
                .any(|declared| provides(declared, &include.header))
        });
        match library {
            Some((name, _, pin)) => {
                if !found.host.contains(name) {
                    let kind = if pin.is_some() { "" } else { " library" };
                    let verb = if include.header.ends_with(".pxd") {
                        "cimported"
                    } else {
                        "included"
                    };
                    found.notes.push(format!(
                        "{} ({verb} by {}) is the `{name}`{kind} recipe's: requirements.host",
                        include.header,
                        include.from.display()
                    ));
                    found.host.push(name.clone());
                    found.build.extend(pin.iter().cloned());
                }
            }
            None => {
                let system = SYSTEM_HEADERS.contains(&include.header.as_str())
                    || SYSTEM_HEADER_DIRS
                        .iter()
                        .any(|dir| include.header.starts_with(dir))
                    || !include.header.contains('.');
                if include.header.ends_with(".pxd") {
                    cimported.push(format!("{} ({})", include.header, include.from.display()));
                } else if !system {
                    unknown.push(format!("{} ({})", include.header, include.from.display()));
                }
            }
        }
    }
    if !cimported.is_empty() {
        found.notes.push(format!(
            "cimported, not in the sdist, and in no recipe's build.headers: {}; Cython reads them on the build machine: add their package at the target's version to requirements.build (scikit-learn: `scipy==1.17.1`)",
            cimported.join(", ")
        ));
    }
    if !unknown.is_empty() {
        found.notes.push(format!(
            "included, not in the sdist, and in no recipe's build.headers: {}; if the build cannot find one, write a static_library recipe that installs it (docs/recipes.md)",
            unknown.join(", ")
        ));
    }
}

/// The recipe text, in the layout of the recipes in this repository.
pub fn render(name: &str, sha256: &str, found: &inspect::Inspection) -> String {
    render_with_source(
        &format!(
            "# Written by `wheelforge skeleton` from {name} {version}'s sdist; check it, then `wheelforge lint {name}`.\n",
            version = scalar(&found.version)
        ),
        name,
        &format!("  pypi: {name}\n  sha256: {sha256}\n"),
        found,
    )
}

/// The recipe text under `header` (comment lines), with `source:` holding `source` (indented
/// lines).
pub fn render_with_source(
    header: &str,
    name: &str,
    source: &str,
    found: &inspect::Inspection,
) -> String {
    let list = |items: &[String]| {
        format!(
            "[{}]",
            items
                .iter()
                .map(|item| scalar(item))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut text = format!(
        "{header}package:\n  name: {name}\n  version: {version}\n",
        version = scalar(&found.version)
    );
    if found.backend == BackendKind::Pure {
        text.push_str("  tags: [pure]\n");
    }
    text.push_str(&format!(
        "source:\n{source}build:\n  backend: {}\n",
        found.backend.name()
    ));
    if found.rust {
        text.push_str("  rust: true\n");
    }
    if !found.host.is_empty() || !found.run.is_empty() {
        text.push_str("requirements:\n");
    }
    if !found.build.is_empty() {
        text.push_str(&format!("  build: {}\n", list(&found.build)));
    }
    if !found.host.is_empty() {
        text.push_str(&format!("  host: {}\n", list(&found.host)));
    }
    if !found.run.is_empty() {
        text.push_str(&format!("  run: {}\n", list(&found.run)));
    }
    text.push_str(&format!("test:\n  imports: {}\n", list(&found.imports)));
    text.push_str("about:\n");
    if let Some(home) = &found.home {
        text.push_str(&format!("  home: {}\n", scalar(home)));
    }
    text.push_str(&format!(
        "  license: {}\n  summary: {}\n",
        scalar(found.license.as_deref().unwrap_or("UNKNOWN")),
        scalar(&found.summary)
    ));
    text
}

/// A YAML scalar: plain when that reads back as the same text, else double-quoted.
fn scalar(text: &str) -> String {
    let keyword = matches!(
        text.to_ascii_lowercase().as_str(),
        "" | "~" | "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
    );
    let numeric = text.parse::<f64>().is_ok() || text.starts_with("0x") || text.starts_with("0o");
    let safe_characters = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " ._/+-,()=!?;&@%".contains(c) || (c == ':'));
    let plain = !keyword
        && !numeric
        && safe_characters
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && !text.ends_with([' ', ':'])
        && !text.contains(": ");
    if plain {
        text.to_string()
    } else {
        serde_json::to_string(text).expect("strings always serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::inspect::{Include, Inspection};
    use super::{host_libraries, render, scalar};
    use crate::recipe::{BackendKind, load_recipe_str};

    #[test]
    fn scalars_read_back_as_written() {
        assert_eq!(scalar("more-itertools"), "more-itertools");
        assert_eq!(scalar("https://x.example/a"), "https://x.example/a");
        assert_eq!(scalar("2.0"), "\"2.0\"");
        assert_eq!(scalar("no"), "\"no\"");
        assert_eq!(scalar("Fast: really"), "\"Fast: really\"");
        assert_eq!(scalar("a # b"), "\"a # b\"");
        assert_eq!(scalar("[x]"), "\"[x]\"");
    }

    #[test]
    fn rendered_recipes_load() {
        let found = Inspection {
            name: "Demo".into(),
            version: "2.0".into(),
            summary: "Tricky: \"quotes\" and # hashes".into(),
            license: Some("MIT OR Apache-2.0".into()),
            home: Some("https://demo.example".into()),
            run: vec!["six".into()],
            build_backend: Some("hatchling.build".into()),
            backend: BackendKind::Pure,
            rust: false,
            imports: vec!["demo".into()],
            includes: vec![],
            host: vec![],
            build: vec![],
            notes: vec![],
        };
        let text = render("demo", &"a".repeat(64), &found);
        let recipe =
            load_recipe_str(&text, std::path::Path::new("recipes/demo/meta.yaml")).unwrap();
        assert_eq!(recipe.package.version.as_str(), "2.0");
        assert_eq!(recipe.about.summary, found.summary);
        assert_eq!(recipe.requirements.run[0].as_str(), "six");
        assert_eq!(recipe.test.imports, ["demo"]);
    }

    /// A recipes directory holding one recipe, `name`, with `text` as its meta.yaml.
    fn recipes_dir(name: &str, text: &str) -> tempfile::TempDir {
        let recipes = tempfile::tempdir().unwrap();
        let dir = recipes.path().join(name);
        fs_err::create_dir_all(&dir).unwrap();
        fs_err::write(dir.join("meta.yaml"), text).unwrap();
        recipes
    }

    #[test]
    fn included_headers_map_to_library_recipes() {
        let recipes = recipes_dir(
            "libyaml",
            "package:\n  name: libyaml\n  version: 0.2.5\nsource:\n  path: src\nbuild:\n  backend: static_library\n  headers: [yaml.h, yaml/]\n  script: make\nabout:\n  license: MIT\n  summary: libyaml\n",
        );
        let include = |header: &str, from: &str| Include {
            header: header.into(),
            from: from.into(),
        };
        let mut found = Inspection {
            name: "PyYAML".into(),
            version: "6.0.4".into(),
            summary: "YAML".into(),
            license: Some("MIT".into()),
            home: None,
            run: vec![],
            build_backend: Some("_pyyaml_pep517".into()),
            backend: BackendKind::Pep517,
            rust: false,
            imports: vec!["yaml".into()],
            includes: vec![
                include("Python.h", "yaml/_yaml.c"),
                include("sys/types.h", "yaml/_yaml.c"),
                include("yaml.h", "yaml/_yaml.h"),
                include("yaml/extra.h", "yaml/_yaml.h"),
                include("vector", "yaml/x.cpp"),
                include("zlib.h", "yaml/z.c"),
            ],
            host: vec![],
            build: vec![],
            notes: vec![],
        };
        host_libraries(&mut found, &super::recipes_in(recipes.path()));
        assert_eq!(found.host, ["libyaml"]);
        assert_eq!(found.notes.len(), 2, "{:?}", found.notes);
        assert!(
            found.notes[0]
                .contains("yaml.h (included by yaml/_yaml.h) is the `libyaml` library recipe's")
        );
        assert!(
            found.notes[1].contains("build.headers: zlib.h (yaml/z.c);"),
            "{:?}",
            found.notes
        );
        let text = render("pyyaml", &"a".repeat(64), &found);
        assert!(found.build.is_empty(), "a static library is no build tool");
        assert!(
            text.contains("requirements:\n  host: [libyaml]\n"),
            "{text}"
        );
        load_recipe_str(&text, std::path::Path::new("recipes/pyyaml/meta.yaml")).unwrap();
    }

    /// A package recipe's headers (numpy's C API) make it a host requirement and a build tool
    /// at the recipe's version.
    #[test]
    fn a_package_recipes_headers_add_it_to_host_and_pin_it_for_the_build() {
        let recipes = recipes_dir(
            "numpy",
            "package:\n  name: numpy\n  version: 2.4.6\nsource:\n  path: src\nbuild:\n  backend: meson\n  headers: [numpy/]\nabout:\n  license: BSD-3-Clause\n  summary: numpy\n",
        );
        let mut found = Inspection {
            name: "shapely".into(),
            version: "2.2.0".into(),
            summary: "geometry".into(),
            license: Some("BSD-3-Clause".into()),
            home: None,
            run: vec!["numpy".into()],
            build_backend: Some("mesonpy".into()),
            backend: BackendKind::Meson,
            rust: false,
            imports: vec!["shapely".into()],
            includes: vec![
                Include {
                    header: "numpy/arrayobject.h".into(),
                    from: "src/shapely/lib/coords.c".into(),
                },
                Include {
                    header: "numpy/ufuncobject.h".into(),
                    from: "src/shapely/lib/ufuncs.c".into(),
                },
            ],
            host: vec![],
            build: vec![],
            notes: vec![],
        };
        host_libraries(&mut found, &super::recipes_in(recipes.path()));
        assert_eq!(found.host, ["numpy"]);
        assert_eq!(found.build, ["numpy==2.4.6"]);
        assert_eq!(found.notes.len(), 1, "{:?}", found.notes);
        assert!(found.notes[0].contains("is the `numpy` recipe's: requirements.host"));
        let text = render("shapely", &"a".repeat(64), &found);
        assert!(
            text.contains(
                "requirements:\n  build: [numpy==2.4.6]\n  host: [numpy]\n  run: [numpy]\n"
            ),
            "{text}"
        );
        load_recipe_str(&text, std::path::Path::new("recipes/shapely/meta.yaml")).unwrap();
    }
}

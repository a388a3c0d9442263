//! `wheelforge build PATH` and `wheelforge build --sdist FILE`: a project that has no recipe,
//! built by the same pipeline with defaults in place of a recipe (as `pyodide build` does).
//!
//! This stage reads the project the way `wheelforge skeleton` reads an sdist
//! ([`crate::skeleton::inspect`]), and writes a generated recipe to
//! `<build>/local/<name>/meta.yaml`. An sdist goes into the source cache by its digest, so the
//! fetch stage finds it there; a source tree is copied beside the generated recipe, without its
//! version-control and build directories, and used as a `source.path`. The pipeline then builds
//! the generated recipe like any other, with the repository's recipes for its requirements. This
//! module builds nothing itself.

use std::path::{Path, PathBuf};

use crate::recipe::{RecipeError, RecipeSet, load_recipe_str};
use crate::skeleton::{
    SkeletonError, host_libraries, inspect, marker::TargetMarkers, render_with_source,
};
use crate::source::{SourceCache, sha256_file, unpack};
use crate::tags::normalize_name;

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("{path} is not a project directory: it has neither pyproject.toml nor setup.py\n  help: pass the directory that holds the project's pyproject.toml", path = path.display())]
    NotAProject { path: PathBuf },
    #[error("{path} is not an sdist (.tar.gz, .tgz, .tar or .zip)\n  help: build one with `python -m build --sdist`", path = path.display())]
    NotAnSdist { path: PathBuf },
    #[error("cannot read the project at {path}: {source}", path = path.display())]
    Inspect {
        path: PathBuf,
        #[source]
        source: Box<SkeletonError>,
    },
    #[error("the recipe generated for {path} does not load: {source}\n  help: this is a bug in `wheelforge build PATH`; write a recipe with `wheelforge skeleton` instead", path = path.display())]
    Invalid {
        path: PathBuf,
        #[source]
        source: Box<RecipeError>,
    },
    #[error(transparent)]
    Unpack(#[from] unpack::UnpackError),
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> LocalError + '_ {
    move |source| LocalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A project to build without a recipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalProject {
    /// A source tree (`wheelforge build PATH`).
    Tree(PathBuf),
    /// An sdist (`wheelforge build --sdist FILE`).
    Sdist(PathBuf),
}

impl LocalProject {
    fn path(&self) -> &Path {
        match self {
            LocalProject::Tree(path) | LocalProject::Sdist(path) => path,
        }
    }
}

/// Whether a `wheelforge build` target names a directory rather than a recipe: it contains a
/// `/` or starts with `.` (recipe names do neither).
pub fn is_path_target(target: &str) -> bool {
    target.contains('/') || target.starts_with('.')
}

/// The recipe generated for a local project.
#[derive(Debug, Clone)]
pub struct LocalRecipe {
    /// The normalized project name: the build target.
    pub name: String,
    /// The generated `meta.yaml`.
    pub path: PathBuf,
    /// What the defaults guessed, and requirements left out because no recipe has them.
    pub notes: Vec<String>,
}

/// Top-level entries of a source tree that are not part of it: version control, virtual
/// environments, caches and earlier build outputs.
const NOT_SOURCES: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "__pycache__",
    "build",
    "dist",
    "target",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
];

/// Writes the generated recipe for `project` under `build_dir/local/`, with run requirements
/// kept only where `recipes` has a recipe for them.
pub fn prepare(
    project: &LocalProject,
    recipes: &RecipeSet,
    build_dir: &Path,
    cache_dir: &Path,
) -> Result<LocalRecipe, LocalError> {
    let _span = tracing::info_span!("local", project = %project.path().display()).entered();
    let scratch = tempfile::Builder::new()
        .prefix("wheelforge-local-")
        .tempdir()
        .map_err(io_error(&std::env::temp_dir()))?;
    let mut target = TargetMarkers::from_toolchain(cache_dir.to_path_buf());
    let inspected = |root: &Path, target: &mut TargetMarkers| {
        inspect::inspect(root, target).map_err(|source| LocalError::Inspect {
            path: project.path().to_path_buf(),
            source: Box::new(source),
        })
    };
    let (mut found, source_yaml, tree) = match project {
        LocalProject::Tree(dir) => {
            if !dir.join("pyproject.toml").is_file() && !dir.join("setup.py").is_file() {
                return Err(LocalError::NotAProject { path: dir.clone() });
            }
            let found = inspected(dir, &mut target)?;
            (found, "  path: src\n".to_string(), Some(dir.clone()))
        }
        LocalProject::Sdist(file) => {
            let file_name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            let known = file_name.as_deref().is_some_and(|n| {
                [".tar.gz", ".tgz", ".tar", ".zip"]
                    .iter()
                    .any(|suffix| n.ends_with(suffix))
            });
            if !file.is_file() || !known {
                return Err(LocalError::NotAnSdist { path: file.clone() });
            }
            let root = unpack::unpack(file, &scratch.path().join("tree"))?;
            let found = inspected(&root, &mut target)?;
            let sha256 = sha256_file(file).map_err(io_error(file))?;
            SourceCache::new(cache_dir)
                .insert(file, &sha256)
                .map_err(io_error(file))?;
            let name = normalize_name(&found.name);
            (found, format!("  pypi: {name}\n  sha256: {sha256}\n"), None)
        }
    };
    let name = normalize_name(&found.name);
    host_libraries(
        &mut found,
        recipes.recipes.values().map(|loaded| &loaded.recipe),
    );
    let mut notes = std::mem::take(&mut found.notes);
    keep_known_run_requirements(&mut found, recipes, &mut notes);
    let dir = build_dir.join("local").join(&name);
    let path = dir.join("meta.yaml");
    let text = render_with_source(
        &format!(
            "# Generated by `wheelforge build` from {}: a recipe's defaults, not a recipe.\n",
            project.path().display()
        ),
        &name,
        &source_yaml,
        &found,
    );
    load_recipe_str(&text, &path).map_err(|source| LocalError::Invalid {
        path: project.path().to_path_buf(),
        source: Box::new(source),
    })?;
    write_recipe_dir(build_dir, &name, &text, tree.as_deref())?;
    Ok(LocalRecipe { name, path, notes })
}

/// Leaves out the run requirements that have no recipe, with a note for each.
fn keep_known_run_requirements(
    found: &mut inspect::Inspection,
    recipes: &RecipeSet,
    notes: &mut Vec<String>,
) {
    found.run.retain(|requirement| {
        let known = recipes.recipes.contains_key(&normalize_name(requirement));
        if !known {
            notes.push(format!(
                "run requirement `{requirement}` has no recipe: left out (write one with `wheelforge skeleton {requirement}`)"
            ));
        }
        known
    });
}

/// `build_dir/local/NAME/` with the recipe `text` (and, for a tree, its sources in `src/`):
/// written aside, then renamed over the last generated one.
fn write_recipe_dir(
    build_dir: &Path,
    name: &str,
    text: &str,
    tree: Option<&Path>,
) -> Result<(), LocalError> {
    let parent = build_dir.join("local");
    let dir = parent.join(name);
    fs_err::create_dir_all(&parent).map_err(io_error(&parent))?;
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}-"))
        .tempdir_in(&parent)
        .map_err(io_error(&parent))?;
    if let Some(tree) = tree {
        copy_sources(tree, &staging.path().join("src"))?;
    }
    let staged = staging.path().join("meta.yaml");
    fs_err::write(&staged, text).map_err(io_error(&staged))?;
    if dir.exists() {
        fs_err::remove_dir_all(&dir).map_err(io_error(&dir))?;
    }
    let staging = staging.keep();
    fs_err::rename(&staging, &dir).map_err(io_error(&dir))?;
    Ok(())
}

/// Copies a source tree without the entries in [`NOT_SOURCES`] at its top.
fn copy_sources(from: &Path, to: &Path) -> Result<(), LocalError> {
    fs_err::create_dir_all(to).map_err(io_error(to))?;
    for entry in fs_err::read_dir(from).map_err(io_error(from))? {
        let entry = entry.map_err(io_error(from))?;
        let file_name = entry.file_name();
        let file_name_text = file_name.to_string_lossy();
        if NOT_SOURCES.contains(&file_name_text.as_ref()) || file_name_text.ends_with(".egg-info") {
            continue;
        }
        let source = entry.path();
        let target = to.join(&file_name);
        if source.is_dir() {
            unpack::copy_tree(&source, &target)?;
        } else {
            fs_err::copy(&source, &target).map_err(io_error(&source))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_targets_are_told_from_recipe_names() {
        assert!(is_path_target("."));
        assert!(is_path_target("./demo"));
        assert!(is_path_target("../demo"));
        assert!(is_path_target("/src/demo"));
        assert!(!is_path_target("numpy"));
        assert!(!is_path_target("tag:pure"));
    }

    fn empty_recipes(dir: &Path) -> RecipeSet {
        let recipes = dir.join("recipes");
        fs_err::create_dir_all(&recipes).unwrap();
        RecipeSet::load(&recipes, &dir.join("patches")).unwrap()
    }

    #[test]
    fn a_source_tree_becomes_a_path_recipe_without_its_build_outputs() {
        let work = tempfile::tempdir().unwrap();
        let project = work.path().join("proj");
        for (path, text) in [
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"flit_core\"]\nbuild-backend = \"flit_core.buildapi\"\n[project]\nname = \"Local_Demo\"\nversion = \"0.3\"\ndescription = \"A demo\"\ndependencies = [\"six\"]\n",
            ),
            ("local_demo/__init__.py", ""),
            (".git/HEAD", "ref"),
            ("build/junk.txt", ""),
        ] {
            let path = project.join(path);
            fs_err::create_dir_all(path.parent().unwrap()).unwrap();
            fs_err::write(path, text).unwrap();
        }
        let recipes = empty_recipes(work.path());
        let build = work.path().join("build-dir");
        let local = prepare(
            &LocalProject::Tree(project.clone()),
            &recipes,
            &build,
            work.path(),
        )
        .unwrap();
        assert_eq!(local.name, "local-demo");
        let text = fs_err::read_to_string(&local.path).unwrap();
        assert!(text.contains("  path: src\n"), "{text}");
        assert!(text.contains("backend: pure"), "{text}");
        assert!(!text.contains("six"), "{text}");
        assert!(
            local
                .notes
                .iter()
                .any(|n| n.contains("`six` has no recipe")),
            "{:?}",
            local.notes
        );
        let src = build.join("local/local-demo/src");
        assert!(src.join("local_demo/__init__.py").is_file());
        assert!(!src.join(".git").exists() && !src.join("build").exists());
    }

    #[test]
    fn a_tree_with_a_dynamic_version_asks_for_an_sdist() {
        let work = tempfile::tempdir().unwrap();
        let project = work.path().join("proj");
        fs_err::create_dir_all(&project).unwrap();
        fs_err::write(
            project.join("pyproject.toml"),
            "[project]\nname = \"d\"\ndynamic = [\"version\"]\n",
        )
        .unwrap();
        let error = prepare(
            &LocalProject::Tree(project),
            &empty_recipes(work.path()),
            &work.path().join("b"),
            work.path(),
        )
        .unwrap_err();
        let text = format!("{error}: {}", std::error::Error::source(&error).unwrap());
        assert!(text.contains("no static [project] version"), "{text}");
        assert!(text.contains("--sdist FILE"), "{text}");
    }
}

//! Reading recipes from disk, strictly.
//!
//! Syntax and type errors come from the YAML parser with their position; checks that need the
//! whole recipe (one source kind, the directory name, patch files present) are located by
//! finding the offending key in the text, so every error names file, line and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::types::{BackendKind, Recipe};
use crate::tags::normalize_name;

/// A recipe that could not be read or is not valid.
#[derive(Debug, thiserror::Error)]
pub enum RecipeError {
    #[error("{path}:{line}:{column}: {message}\n  help: {help}", path = path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        help: String,
    },
    #[error("cannot read recipe {path}", path = path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no recipe named `{name}` in {dir}{hint}\n  help: recipes live in {dir}/<name>/meta.yaml; `wheelforge build --all` builds every one", dir = dir.display())]
    NotFound {
        name: String,
        dir: PathBuf,
        hint: String,
    },
    #[error("no recipes directory at {dir}\n  help: run wheelforge from the repository root, or pass --recipes DIR", dir = dir.display())]
    NoRecipesDir { dir: PathBuf },
    #[error("{path}: recipe `{name}` has no variant `{variant}`\n  help: {help}", path = path.display())]
    UnknownVariant {
        path: PathBuf,
        name: String,
        variant: String,
        help: String,
    },
}

const FORMAT_HELP: &str = "the recipe format is described in docs/recipes.md";

/// A parsed recipe together with where it came from and its exact text.
#[derive(Debug, Clone)]
pub struct LoadedRecipe {
    pub recipe: Recipe,
    /// `recipes/<name>/meta.yaml`.
    pub path: PathBuf,
    /// The file's text as written, part of the rebuild-cache key.
    pub text: String,
    /// The variant applied to `recipe` ([`LoadedRecipe::with_variant`]), if any.
    pub variant: Option<String>,
}

impl LoadedRecipe {
    pub fn name(&self) -> &str {
        self.recipe.package.name.as_str()
    }

    /// The recipe's name in the build directory: `numpy`, or `numpy+lapack` for a variant, so
    /// that a variant build keeps its own state, logs and test directory.
    pub fn work_name(&self) -> String {
        let name = normalize_name(self.name());
        match &self.variant {
            Some(variant) => format!("{name}+{variant}"),
            None => name,
        }
    }

    /// This recipe with its variant `variant` applied (see [`Recipe::with_variant`]).
    pub fn with_variant(&self, variant: &str) -> Result<LoadedRecipe, RecipeError> {
        let recipe =
            self.recipe
                .with_variant(variant)
                .ok_or_else(|| RecipeError::UnknownVariant {
                    path: self.path.clone(),
                    name: self.name().to_string(),
                    variant: variant.to_string(),
                    help: if self.recipe.variants.is_empty() {
                        "this recipe declares no `variants:`; build it without --variant".into()
                    } else {
                        format!(
                            "its variants are: {}",
                            self.recipe
                                .variants
                                .keys()
                                .map(|v| v.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    },
                })?;
        Ok(LoadedRecipe {
            recipe,
            path: self.path.clone(),
            text: self.text.clone(),
            variant: Some(variant.to_string()),
        })
    }

    /// The recipe's directory (`recipes/<name>`), where `extras` are found.
    pub fn dir(&self) -> &Path {
        self.path
            .parent()
            .expect("a meta.yaml always has a directory")
    }
}

/// Parses one recipe from text; `path` is used in error messages only.
pub fn load_recipe_str(text: &str, path: &Path) -> Result<Recipe, RecipeError> {
    let recipe: Recipe = serde_yaml_ng::from_str(text).map_err(|error| {
        let (line, column) = error
            .location()
            .map(|location| (location.line(), location.column()))
            .unwrap_or((1, 1));
        let mut message = error.to_string();
        let suffix = format!(" at line {line} column {column}");
        if let Some(stripped) = message.strip_suffix(&suffix) {
            message = stripped.to_string();
        }
        let help = if message.contains("unknown field") {
            format!("remove or rename the key; {FORMAT_HELP}")
        } else if message.contains("missing field") {
            format!("add the missing key; {FORMAT_HELP}")
        } else {
            FORMAT_HELP.to_string()
        };
        RecipeError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message,
            help,
        }
    })?;
    check_source_kind(&recipe, text, path)?;
    check_build(&recipe, text, path)?;
    check_pytest(&recipe, text, path)?;
    Ok(recipe)
}

/// The PEP 517 config settings wheelforge fills itself (`backend::cross`).
const RESERVED_CONFIG_SETTINGS: &[&str] = &["setup-args", "cmake.args", "--build-option"];

/// `build`: a script exactly where a backend runs one, Fortran only where a compiler runs,
/// and a static library's test is a program, not Python.
fn check_build(recipe: &Recipe, text: &str, path: &Path) -> Result<(), RecipeError> {
    let build = &recipe.build;
    let Some(violation) = script_rule(build)
        .or_else(|| fortran_rule(build))
        .or_else(|| config_settings_rule(build))
        .or_else(|| headers_rule(build))
        .or_else(|| test_kind_rule(recipe))
    else {
        return Ok(());
    };
    Err(violation.error(text, path))
}

/// A broken rule of the recipe: the keys where it is, what is wrong and what to do.
struct Violation {
    keys: Vec<String>,
    message: String,
    help: &'static str,
}

impl Violation {
    /// The error, located at the violation's keys in the recipe's `text`.
    fn error(self, text: &str, path: &Path) -> RecipeError {
        let keys: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        let (line, column) = locate(text, &keys);
        RecipeError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message: self.message,
            help: self.help.to_string(),
        }
    }

    fn at(keys: &[&str], message: impl Into<String>, help: &'static str) -> Violation {
        Violation {
            keys: keys.iter().map(|key| key.to_string()).collect(),
            message: message.into(),
            help,
        }
    }
}

/// `build.script` exactly for the backends that run one.
fn script_rule(build: &crate::recipe::Build) -> Option<Violation> {
    let runs_script = matches!(
        build.backend,
        BackendKind::StaticLibrary | BackendKind::Script
    );
    match (runs_script, build.script.is_some()) {
        (true, false) => Some(Violation::at(
            &["build", "backend"],
            format!("build: backend `{}` needs `script`", build.backend.name()),
            "add `script: |` with the shell commands that build and install into $PREFIX (docs/recipes.md)",
        )),
        (false, true) => Some(Violation::at(
            &["build", "script"],
            format!(
                "build.script does not apply to the `{}` backend",
                build.backend.name()
            ),
            "remove `script:`, or use `backend: static_library` for a library built by a script",
        )),
        _ => None,
    }
}

/// `build.fortran` needs a backend that compiles.
fn fortran_rule(build: &crate::recipe::Build) -> Option<Violation> {
    (build.fortran && build.backend == BackendKind::Pure)
        .then(|| {
            Violation::at(
                &["build", "fortran"],
                "build.fortran does not apply to the `pure` backend: it compiles nothing",
                "remove `fortran: true`, or use a native backend (meson, setuptools, cmake, static_library)",
            )
        })
}

/// `build.headers` needs a wheel or library with C headers.
fn headers_rule(build: &crate::recipe::Build) -> Option<Violation> {
    (!build.headers.is_empty() && build.backend == BackendKind::Pure)
        .then(|| {
            Violation::at(
                &["build", "headers"],
                "build.headers does not apply to the `pure` backend: its wheel has no C headers",
                "remove `headers:`; it lists the headers a static library installs, or a native package's wheel ships for others to compile against (numpy's `numpy/`)",
            )
        })
}

/// `build.config-settings`: only for PEP 517 backends, and not the keys wheelforge sets.
fn config_settings_rule(build: &crate::recipe::Build) -> Option<Violation> {
    if let Some(key) = build
        .config_settings
        .keys()
        .find(|key| RESERVED_CONFIG_SETTINGS.contains(&key.as_str()))
    {
        return Some(Violation::at(
            &["build", "config-settings", key.as_str()],
            format!(
                "build.config-settings cannot set `{key}`: wheelforge sets it (the cross file, the toolchain file, backend-flags)"
            ),
            "put the flags in `backend-flags:`, which wheelforge appends to its own",
        ));
    }
    if !build.config_settings.is_empty()
        && matches!(
            build.backend,
            BackendKind::Pure | BackendKind::StaticLibrary
        )
    {
        return Some(Violation::at(
            &["build", "config-settings"],
            "build.config-settings applies to the PEP 517 backends (setuptools, meson, cmake, maturin, pep517)",
            "remove `config-settings:`; a static library's script passes its build system's options itself",
        ));
    }
    None
}

/// A static library is tested by a program; a wheel by imports, a command or pytest.
fn test_kind_rule(recipe: &Recipe) -> Option<Violation> {
    let test = &recipe.test;
    if recipe.build.backend == BackendKind::StaticLibrary {
        if !test.imports.is_empty() || test.command.is_some() || test.pytest.is_some() {
            return Some(Violation::at(
                &["test"],
                "test: a static library has no Python module to import or run",
                "test a static library with `program:` (a C or Fortran program beside the recipe, linked against the library and run under WASI)",
            ));
        }
        return None;
    }
    let key = if test.program.is_some() {
        "program"
    } else if !test.link.is_empty() {
        "link"
    } else if !test.cflags.is_empty() {
        "cflags"
    } else {
        return None;
    };
    Some(Violation::at(
        &["test", key],
        format!("test.{key} applies to `static_library` recipes only"),
        "test a wheel with `imports:`, `command:` or `pytest:`",
    ))
}

/// `test.pytest`: a ratio in (0, 1], and skip entries that name a test and give a reason.
fn check_pytest(recipe: &Recipe, text: &str, path: &Path) -> Result<(), RecipeError> {
    let Some(suite) = &recipe.test.pytest else {
        return Ok(());
    };
    let Some(violation) = pytest_settings_rule(recipe, suite)
        .or_else(|| pytest_files_rule(suite))
        .or_else(|| pytest_skip_rule(suite))
    else {
        return Ok(());
    };
    Err(violation.error(text, path))
}

/// `run-in-files` needs `files`, the ratio is in (0, 1], pytest is a test requirement.
fn pytest_settings_rule(recipe: &Recipe, suite: &crate::recipe::PytestSuite) -> Option<Violation> {
    if suite.run_in_files && suite.files.is_empty() {
        return Some(Violation::at(
            &["test", "pytest", "run-in-files"],
            "test.pytest.run-in-files needs `files`: it runs the suite where they are copied",
            "list the source tree's test files in `files:`, or remove `run-in-files:`",
        ));
    }
    if !(suite.pass_ratio > 0.0 && suite.pass_ratio <= 1.0) {
        return Some(Violation::at(
            &["test", "pytest", "pass-ratio"],
            format!(
                "test.pytest.pass-ratio {} is not in (0, 1]",
                suite.pass_ratio
            ),
            "give the share of natively passing tests that must pass under WASI, e.g. 0.95",
        ));
    }
    let has_pytest = recipe
        .test
        .requires
        .iter()
        .any(|name| name.as_str() == "pytest");
    (!has_pytest).then(|| {
        Violation::at(
            &["test", "pytest"],
            "test.pytest needs pytest: it is not in test.requires",
            "add `requires: [pytest]` under `test:` (pytest comes from the index, built by its recipe)",
        )
    })
}

/// `files` are paths inside the source tree.
fn pytest_files_rule(suite: &crate::recipe::PytestSuite) -> Option<Violation> {
    let file = suite.files.iter().find(|file| {
        let relative = std::path::Path::new(file);
        file.is_empty()
            || relative.is_absolute()
            || relative
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
    })?;
    Some(Violation::at(
        &["test", "pytest", "files"],
        format!("test.pytest.files: `{file}` is not a path inside the source tree"),
        "name files or directories relative to the sdist's top directory, e.g. `tests`",
    ))
}

/// Each skip entry names a test relative to the install directory, once, with a reason.
fn pytest_skip_rule(suite: &crate::recipe::PytestSuite) -> Option<Violation> {
    let mut seen = std::collections::BTreeSet::new();
    for entry in &suite.skip {
        let test = entry.test.trim();
        if test.is_empty() || entry.reason.trim().is_empty() {
            return Some(Violation::at(
                &["test", "pytest", "skip"],
                format!(
                    "test.pytest.skip: entry `{}` has an empty test or reason",
                    entry.test
                ),
                "every skip entry names a test (a pytest node id or a prefix of one) and says why it cannot work on WASI",
            ));
        }
        // The file part only: parameter ids may hold backslashes (pytest escapes non-ASCII
        // characters in them: `test_kerning[A-\xc0]`).
        let file = test.split("::").next().unwrap_or(test);
        if test.starts_with('/') || file.contains('\\') {
            return Some(Violation::at(
                &["test", "pytest", "skip", test],
                format!("test.pytest.skip: `{test}` is not relative to the install directory"),
                "write node ids as pytest prints them relative to site-packages, e.g. numpy/_core/tests/test_x.py::test_y",
            ));
        }
        if !seen.insert(test) {
            return Some(Violation::at(
                &["test", "pytest", "skip", test],
                format!("test.pytest.skip: `{test}` is listed twice"),
                "keep one entry per test",
            ));
        }
    }
    None
}

fn check_source_kind(recipe: &Recipe, text: &str, path: &Path) -> Result<(), RecipeError> {
    let source = &recipe.source;
    let kinds = [
        source.pypi.is_some(),
        source.url.is_some(),
        source.debian.is_some(),
        source.path.is_some(),
    ];
    let invalid = |keys: &[&str], message: &str, help: &str| {
        let (line, column) = locate(text, keys);
        Err(RecipeError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message: message.to_string(),
            help: help.to_string(),
        })
    };
    match kinds.iter().filter(|kind| **kind).count() {
        1 => {}
        0 => {
            return invalid(
                &["source"],
                "source: none of `pypi`, `url`, `debian` and `path` is set",
                "give exactly one of `pypi: <project>` (an sdist from the package index), `url: <archive URL>`, `debian: <source package>` or `path: <directory>`",
            );
        }
        _ => {
            return invalid(
                &["source"],
                "source: more than one of `pypi`, `url`, `debian` and `path` is set",
                "give exactly one of `pypi: <project>` (an sdist from the package index), `url: <archive URL>`, `debian: <source package>` or `path: <directory>`",
            );
        }
    }
    if source.debian_suite.is_some() && source.debian.is_none() {
        return invalid(
            &["source", "debian-suite"],
            "source: `debian-suite` applies only to a `debian` source",
            "remove `debian-suite`, or fetch the source package with `debian: <source package>`",
        );
    }
    match (source.path.is_some(), source.sha256.is_some()) {
        (false, false) => invalid(
            &["source"],
            "source: missing field `sha256`",
            "add `sha256:` with the archive's SHA-256 (64 hex digits); a source without a checksum is never fetched",
        ),
        (true, true) => invalid(
            &["source", "sha256"],
            "source: `sha256` does not apply to a `path` source",
            "remove `sha256:`; a local directory is hashed into the rebuild key instead",
        ),
        _ => Ok(()),
    }
}

/// Reads and checks `path` (a `meta.yaml`), including the checks that need the repository:
/// the directory name matches the package, and every patch and extra exists.
pub fn load_recipe(path: &Path, patches_root: &Path) -> Result<LoadedRecipe, RecipeError> {
    let text = fs_err::read_to_string(path).map_err(|source| RecipeError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let recipe = load_recipe_str(&text, path)?;
    check_repository(&recipe, &text, path, patches_root)?;
    Ok(LoadedRecipe {
        recipe,
        path: path.to_path_buf(),
        text,
        variant: None,
    })
}

/// The checks that need files beside the recipe.
fn check_repository(
    recipe: &Recipe,
    text: &str,
    path: &Path,
    patches_root: &Path,
) -> Result<(), RecipeError> {
    let invalid = |keys: &[&str], message: String, help: String| {
        let (line, column) = locate(text, keys);
        RecipeError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message,
            help,
        }
    };
    let name = recipe.package.name.as_str();
    let recipe_dir = path.parent().unwrap_or(Path::new("."));
    let dir_name = recipe_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if normalize_name(&dir_name) != normalize_name(name) {
        return Err(invalid(
            &["package", "name"],
            format!("package.name `{name}` does not match the recipe directory `{dir_name}`"),
            format!("rename the directory to recipes/{name}/ or fix package.name"),
        ));
    }
    for patch in &recipe.source.patches {
        let file = patches_root.join(name).join(patch.as_str());
        if !file.is_file() {
            return Err(invalid(
                &["source", "patches", patch.as_str()],
                format!("patch `{patch}` does not exist at {}", file.display()),
                format!("add the file to patches/{name}/ or remove it from source.patches"),
            ));
        }
    }
    if let Some(program) = &recipe.test.program
        && !recipe_dir.join(program.as_str()).is_file()
    {
        return Err(invalid(
            &["test", "program"],
            format!(
                "test program `{program}` does not exist at {}",
                recipe_dir.join(program.as_str()).display()
            ),
            format!("add the file to recipes/{name}/ or fix test.program"),
        ));
    }
    for extra in &recipe.source.extras {
        let file = recipe_dir.join(extra.from.as_str());
        if !file.is_file() {
            return Err(invalid(
                &["source", "extras", extra.from.as_str()],
                format!(
                    "extra file `{}` does not exist at {}",
                    extra.from,
                    file.display()
                ),
                format!("add the file to recipes/{name}/ or remove the entry"),
            ));
        }
    }
    Ok(())
}

/// Finds the line and column of a nested key (`["source", "patches", "x.patch"]`) in block-style
/// YAML. The last element may also be a list item's value. Falls back to the deepest key found.
/// Checks outside this module (`wheelforge lint`) use it to point at what they report.
pub fn locate(text: &str, keys: &[&str]) -> (usize, usize) {
    let mut best = (1, 1);
    let mut parent_indent: Option<usize> = None;
    let mut search_from = 0;
    let lines: Vec<&str> = text.lines().collect();
    for key in keys {
        let mut found = None;
        for (index, line) in lines.iter().enumerate().skip(search_from) {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if let Some(parent) = parent_indent
                && indent <= parent
                && !trimmed.starts_with('-')
            {
                break;
            }
            let item = trimmed.trim_start_matches("- ").trim_start();
            let item_column = indent + (trimmed.len() - item.len()) + 1;
            let is_key = item
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'));
            let is_value = item.trim_matches(['"', '\'']) == *key
                || item
                    .split_once(':')
                    .is_some_and(|(_, v)| v.trim().trim_matches(['"', '\'']) == *key);
            if is_key || is_value {
                found = Some((index, indent, item_column));
                break;
            }
        }
        match found {
            Some((index, indent, column)) => {
                best = (index + 1, column);
                parent_indent = Some(indent);
                search_from = index + 1;
            }
            None => break,
        }
    }
    best
}

/// Every recipe under a `recipes/` directory, keyed by normalized name.
#[derive(Debug, Clone)]
pub struct RecipeSet {
    pub recipes_dir: PathBuf,
    pub patches_dir: PathBuf,
    pub recipes: BTreeMap<String, LoadedRecipe>,
}

/// The `meta.yaml` of every recipe directory in `recipes_dir`, sorted.
pub fn recipe_files(recipes_dir: &Path) -> Result<Vec<PathBuf>, RecipeError> {
    if !recipes_dir.is_dir() {
        return Err(RecipeError::NoRecipesDir {
            dir: recipes_dir.to_path_buf(),
        });
    }
    let read_error = |source| RecipeError::Read {
        path: recipes_dir.to_path_buf(),
        source,
    };
    let mut paths = Vec::new();
    for entry in fs_err::read_dir(recipes_dir).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let meta = entry.path().join("meta.yaml");
        if meta.is_file() {
            paths.push(meta);
        }
    }
    paths.sort();
    Ok(paths)
}

impl RecipeSet {
    /// Loads `root/recipes/*/meta.yaml`, with patches from `root/patches/`.
    /// Replaces recipe `name` with its variant `variant` (`wheelforge build NAME --variant V`).
    pub fn apply_variant(&mut self, name: &str, variant: &str) -> Result<(), RecipeError> {
        let loaded = self.get(name)?;
        let applied = loaded.with_variant(variant)?;
        self.recipes.insert(normalize_name(name), applied);
        Ok(())
    }

    pub fn load(recipes_dir: &Path, patches_dir: &Path) -> Result<RecipeSet, RecipeError> {
        let paths = recipe_files(recipes_dir)?;
        let mut recipes = BTreeMap::new();
        for path in paths {
            let loaded = load_recipe(&path, patches_dir)?;
            recipes.insert(normalize_name(loaded.name()), loaded);
        }
        Ok(RecipeSet {
            recipes_dir: recipes_dir.to_path_buf(),
            patches_dir: patches_dir.to_path_buf(),
            recipes,
        })
    }

    /// Adds a recipe from outside the recipes directory, replacing one of the same name.
    pub fn insert(&mut self, loaded: LoadedRecipe) {
        self.recipes.insert(normalize_name(loaded.name()), loaded);
    }

    pub fn get(&self, name: &str) -> Result<&LoadedRecipe, RecipeError> {
        self.recipes
            .get(&normalize_name(name))
            .ok_or_else(|| self.not_found(name))
    }

    pub fn not_found(&self, name: &str) -> RecipeError {
        let wanted = normalize_name(name);
        let close: Vec<&str> = self
            .recipes
            .keys()
            .filter(|candidate| candidate.contains(&wanted) || wanted.contains(candidate.as_str()))
            .map(String::as_str)
            .collect();
        RecipeError::NotFound {
            name: name.to_string(),
            dir: self.recipes_dir.clone(),
            hint: if close.is_empty() {
                String::new()
            } else {
                format!(" (did you mean {}?)", close.join(", "))
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::locate;

    /// A setuptools recipe whose `test.pytest` mapping is `pytest` (indented lines); its
    /// `pytest:` key is on line 11.
    fn demo_recipe(pytest: &str) -> String {
        format!(
            "package:\n  name: demo\n  version: 1.0.0\nsource:\n  pypi: demo\n  sha256: {}\nbuild:\n  backend: setuptools\ntest:\n  requires: [pytest]\n  pytest:\n{pytest}about:\n  license: MIT\n  summary: demo\n",
            "0".repeat(64)
        )
    }

    #[test]
    fn suite_files_must_stay_inside_the_source_tree() {
        use super::load_recipe_str;
        use std::path::Path;
        let recipe = |files: &str| demo_recipe(&format!("    files: {files}\n    args: [tests]\n"));
        let path = Path::new("recipes/demo/meta.yaml");
        if let Err(error) = load_recipe_str(&recipe("[tests, src/demo/tests]"), path) {
            panic!("{error}");
        }
        for bad in ["[../tests]", "[/tests]", "[tests/../..]", "['']"] {
            let error = load_recipe_str(&recipe(bad), path).unwrap_err().to_string();
            assert!(
                error.contains("is not a path inside the source tree"),
                "{bad}: {error}"
            );
            assert!(
                error.contains("recipes/demo/meta.yaml:12:"),
                "{bad}: {error}"
            );
        }
    }

    /// pytest escapes non-ASCII characters in parameter ids (matplotlib's
    /// `test_ft2font_get_kerning[A-\xc0-57-248-256]`); a backslash in the file part is refused.
    #[test]
    fn skip_entries_may_hold_backslashes_in_parameters_only() {
        use super::load_recipe_str;
        use std::path::Path;
        let recipe = |test: &str| {
            demo_recipe(&format!(
                "    args: [--pyargs, demo]\n    skip:\n      - test: '{test}'\n        reason: why\n"
            ))
        };
        let path = Path::new("recipes/demo/meta.yaml");
        let recipe_text = recipe("demo/tests/test_x.py::test_k[A-\\xc0-57]");
        let loaded = load_recipe_str(&recipe_text, path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            loaded.test.pytest.unwrap().skip[0].test,
            "demo/tests/test_x.py::test_k[A-\\xc0-57]"
        );
        let error = load_recipe_str(&recipe("demo\\tests\\test_x.py::test_k"), path)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("is not relative to the install directory"),
            "{error}"
        );
    }

    #[test]
    fn locate_finds_nested_keys_and_list_items() {
        let text = "package:\n  name: six\nsource:\n  pypi: six\n  patches:\n    - a.patch\n    - b.patch\nbuild:\n  backend: pure\n";
        assert_eq!(locate(text, &["source"]), (3, 1));
        assert_eq!(locate(text, &["source", "patches", "b.patch"]), (7, 7));
        assert_eq!(locate(text, &["package", "name"]), (2, 3));
        assert_eq!(locate(text, &["build", "name"]), (8, 1));
    }
}

//! Stage 1 of `app build`: the project, read from its `pyproject.toml`.
//!
//! What is read: `[project] name` and `dependencies`, `[project.optional-dependencies]`
//! (`--extra`), PEP 735 `[dependency-groups]` (`--group`, with `include-group`), and
//! `[tool.wheelforge.app]`. Requirements are PEP 508, checked here, so that a bad one is
//! reported at its line and column in the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// An error in a project's pyproject.toml, with where it is.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("{path}: {source}\n  help: `wheelforge app build DIR` reads DIR/pyproject.toml", path = path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}\n  help: {help}", path = path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        help: String,
    },
}

/// `[tool.wheelforge.app]`: how the app is linked.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AppConfig {
    /// A WIT directory (relative to the project) with the app's world; none means the
    /// `wasi:cli/command` world.
    pub wit: Option<PathBuf>,
    /// The world in `wit`.
    pub world: Option<String>,
    /// The module implementing the world's exports (custom world), or run as `__main__` (the
    /// command world, like `python -m`).
    pub module: Option<String>,
    /// A script run as `__main__` (the command world only), relative to the project.
    pub script: Option<PathBuf>,
    /// Modules imported while the component is linked, so that they are in its snapshot
    /// [default: the top-level modules of the project's direct dependencies].
    pub preload: Option<Vec<String>>,
    /// Glob patterns of dependency files left out of the component [default:
    /// [`DEFAULT_EXCLUDE`], the packages' test suites]; `exclude = []` packs everything.
    pub exclude: Option<Vec<String>>,
}

/// What `app build` leaves out of the dependencies unless `exclude` says otherwise: the test
/// suites packages ship (pandas' alone is most of its files), which an app does not import.
pub const DEFAULT_EXCLUDE: &[&str] = &["**/tests/**"];

impl AppConfig {
    /// The exclusion patterns in effect.
    pub fn exclusions(&self) -> Vec<String> {
        self.exclude
            .clone()
            .unwrap_or_else(|| DEFAULT_EXCLUDE.iter().map(|s| s.to_string()).collect())
    }
}

/// A project's requirements and app configuration.
#[derive(Debug, Clone)]
pub struct Project {
    pub dir: PathBuf,
    pub pyproject: PathBuf,
    pub name: String,
    pub dependencies: Vec<String>,
    pub optional: BTreeMap<String, Vec<String>>,
    pub groups: BTreeMap<String, Vec<String>>,
    pub app: AppConfig,
}

impl Project {
    /// The requirements of the default dependencies plus the given extras and groups, in
    /// order, without duplicates.
    pub fn requirements(
        &self,
        extras: &[String],
        groups: &[String],
    ) -> Result<Vec<String>, ProjectError> {
        let mut out: Vec<String> = Vec::new();
        let mut push = |requirement: &String| {
            if !out.contains(requirement) {
                out.push(requirement.clone());
            }
        };
        self.dependencies.iter().for_each(&mut push);
        for extra in extras {
            let Some(list) = self.optional.get(extra) else {
                return Err(self.missing(
                    "[project.optional-dependencies]",
                    extra,
                    self.optional.keys(),
                ));
            };
            list.iter().for_each(&mut push);
        }
        for group in groups {
            let Some(list) = self.groups.get(group) else {
                return Err(self.missing("[dependency-groups]", group, self.groups.keys()));
            };
            list.iter().for_each(&mut push);
        }
        Ok(out)
    }

    fn missing<'a>(
        &self,
        table: &str,
        name: &str,
        known: impl Iterator<Item = &'a String>,
    ) -> ProjectError {
        let known: Vec<&str> = known.map(String::as_str).collect();
        ProjectError::Invalid {
            path: self.pyproject.clone(),
            line: 1,
            column: 1,
            message: format!("no `{name}` in {table}"),
            help: if known.is_empty() {
                format!("the file has no {table}")
            } else {
                format!("known: {}", known.join(", "))
            },
        }
    }

    /// Where the app's own modules are: `src/` when the project has one, else the project.
    pub fn source_dir(&self) -> PathBuf {
        let src = self.dir.join("src");
        if src.is_dir() { src } else { self.dir.clone() }
    }
}

#[derive(Deserialize)]
struct PyProject {
    project: Option<ProjectTable>,
    #[serde(rename = "dependency-groups", default)]
    dependency_groups: BTreeMap<String, Vec<Spanned<GroupEntry>>>,
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct ProjectTable {
    name: Option<String>,
    #[serde(default)]
    dependencies: Vec<Spanned<String>>,
    #[serde(rename = "optional-dependencies", default)]
    optional_dependencies: BTreeMap<String, Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum GroupEntry {
    Requirement(String),
    Include {
        #[serde(rename = "include-group")]
        include_group: String,
    },
}

#[derive(Deserialize)]
struct Tool {
    wheelforge: Option<ToolWheelforge>,
}

#[derive(Deserialize)]
struct ToolWheelforge {
    app: Option<Spanned<AppConfig>>,
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |at| before.len() - at - 1)
        + 1;
    (line, column)
}

/// Reads `dir/pyproject.toml`.
pub fn load(dir: &Path) -> Result<Project, ProjectError> {
    let pyproject = dir.join("pyproject.toml");
    let text = fs_err::read_to_string(&pyproject).map_err(|source| ProjectError::Read {
        path: pyproject.clone(),
        source,
    })?;
    let invalid = |offset: usize, message: String, help: &str| {
        let (line, column) = line_column(&text, offset);
        ProjectError::Invalid {
            path: pyproject.clone(),
            line,
            column,
            message,
            help: help.to_string(),
        }
    };
    let parsed: PyProject = toml::from_str(&text).map_err(|error| {
        let offset = error.span().map_or(0, |span| span.start);
        invalid(
            offset,
            error.message().to_string(),
            "fix the TOML; [tool.wheelforge.app] takes wit, world, module, script, preload and exclude",
        )
    })?;
    let project = parsed.project.ok_or_else(|| {
        invalid(
            0,
            "no [project] table".into(),
            "add [project] with name and dependencies (PEP 621)",
        )
    })?;
    let check = |list: &[Spanned<String>]| -> Result<Vec<String>, ProjectError> {
        list.iter()
            .map(|requirement| {
                requirement
                    .get_ref()
                    .parse::<pep508_rs::Requirement>()
                    .map(|_| requirement.get_ref().trim().to_string())
                    .map_err(|error| {
                        invalid(
                            requirement.span().start,
                            format!("not a PEP 508 requirement: {error}"),
                            "write `name`, `name>=1.2` or `name[extra]>=1.2; marker`",
                        )
                    })
            })
            .collect()
    };
    let dependencies = check(&project.dependencies)?;
    let mut optional = BTreeMap::new();
    for (extra, list) in &project.optional_dependencies {
        optional.insert(extra.clone(), check(list)?);
    }
    let mut groups = BTreeMap::new();
    for name in parsed.dependency_groups.keys() {
        let mut seen = Vec::new();
        groups.insert(
            name.clone(),
            expand_group(&parsed.dependency_groups, name, &mut seen, &check, &invalid)?,
        );
    }
    let app = match parsed
        .tool
        .and_then(|tool| tool.wheelforge)
        .and_then(|w| w.app)
    {
        Some(app) => {
            let span = app.span().start;
            let app = app.into_inner();
            if app.module.is_some() && app.script.is_some() {
                return Err(invalid(
                    span,
                    "both `module` and `script` are set".into(),
                    "an app has one entry: keep one of them",
                ));
            }
            if app.wit.is_some() != app.world.is_some() {
                return Err(invalid(
                    span,
                    "`wit` and `world` go together".into(),
                    "set both (a custom world) or neither (wasi:cli/command)",
                ));
            }
            if app.wit.is_some() && app.module.is_none() {
                return Err(invalid(
                    span,
                    "a custom world needs `module`".into(),
                    "name the module that implements the world's exports",
                ));
            }
            if app.wit.is_some() && app.script.is_some() {
                return Err(invalid(
                    span,
                    "`script` is for the wasi:cli/command world".into(),
                    "use `module` with a custom world",
                ));
            }
            app
        }
        None => AppConfig::default(),
    };
    Ok(Project {
        dir: dir.to_path_buf(),
        pyproject: pyproject.clone(),
        name: project.name.unwrap_or_else(|| "app".into()),
        dependencies,
        optional,
        groups,
        app,
    })
}

/// Checks a list of requirements, each at its span.
type CheckRequirements<'a> = dyn Fn(&[Spanned<String>]) -> Result<Vec<String>, ProjectError> + 'a;

fn expand_group(
    groups: &BTreeMap<String, Vec<Spanned<GroupEntry>>>,
    name: &str,
    seen: &mut Vec<String>,
    check: &CheckRequirements<'_>,
    invalid: &dyn Fn(usize, String, &str) -> ProjectError,
) -> Result<Vec<String>, ProjectError> {
    seen.push(name.to_string());
    let mut out = Vec::new();
    for entry in &groups[name] {
        match entry.get_ref() {
            GroupEntry::Requirement(text) => {
                out.extend(check(&[Spanned::new(entry.span(), text.clone())])?);
            }
            GroupEntry::Include { include_group } => {
                if seen.iter().any(|s| s == include_group) {
                    return Err(invalid(
                        entry.span().start,
                        format!(
                            "dependency group `{name}` includes itself through `{include_group}`"
                        ),
                        "remove the cycle (PEP 735)",
                    ));
                }
                if !groups.contains_key(include_group) {
                    return Err(invalid(
                        entry.span().start,
                        format!("no dependency group `{include_group}`"),
                        "include a group defined in [dependency-groups]",
                    ));
                }
                out.extend(expand_group(groups, include_group, seen, check, invalid)?);
            }
        }
    }
    seen.pop();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(text: &str) -> Result<Project, ProjectError> {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join("pyproject.toml"), text).unwrap();
        load(dir.path())
    }

    #[test]
    fn dependencies_extras_and_included_groups_are_read_in_order() {
        let project = project(
            "[project]\nname = \"demo\"\ndependencies = [\"numpy>=2\", \"six\"]\n\
             [project.optional-dependencies]\nplot = [\"matplotlib\"]\n\
             [dependency-groups]\nbase = [\"attrs\"]\ndev = [{include-group = \"base\"}, \"six\", \"iniconfig\"]\n\
             [tool.wheelforge.app]\nmodule = \"demo.main\"\n",
        )
        .unwrap();
        assert_eq!(project.name, "demo");
        assert_eq!(project.app.module.as_deref(), Some("demo.main"));
        assert_eq!(
            project
                .requirements(&["plot".into()], &["dev".into()])
                .unwrap(),
            ["numpy>=2", "six", "matplotlib", "attrs", "iniconfig"]
        );
        let error = project
            .requirements(&[], &["docs".into()])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("no `docs` in [dependency-groups]")
                && error.contains("known: base, dev"),
            "{error}"
        );
    }

    #[test]
    fn a_bad_requirement_is_reported_at_its_line_and_column() {
        let error = project(
            "[project]\nname = \"demo\"\ndependencies = [\n  \"numpy\",\n  \"pandas >>> 2\",\n]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("pyproject.toml:5:3: not a PEP 508 requirement"),
            "{error}"
        );
        assert!(error.contains("help: write `name`"), "{error}");
    }

    #[test]
    fn an_unknown_app_key_and_inconsistent_entries_are_errors() {
        let error = project("[project]\nname = \"d\"\n[tool.wheelforge.app]\nentry = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("pyproject.toml:4:1: unknown field `entry`"),
            "{error}"
        );
        let error = project(
            "[project]\nname = \"d\"\n[tool.wheelforge.app]\nmodule = \"a\"\nscript = \"b.py\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("both `module` and `script`"), "{error}");
        let error = project(
            "[project]\nname = \"d\"\n[tool.wheelforge.app]\nwit = \"wit\"\nmodule = \"a\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("`wit` and `world` go together"), "{error}");
    }
}

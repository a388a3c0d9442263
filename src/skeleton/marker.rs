//! `Requires-Dist` entries: the project name, and whether the entry's environment marker
//! (PEP 508) holds on the target, CPython 3.14 on WASI.
//!
//! This module owns reading a `Requires-Dist` value with `pep508_rs` and judging its marker
//! against the target's marker environment ([`TargetMarkers`]): the values the toolchain's
//! probe of the consumer runtime recorded when it was installed, never constants. Version
//! specifiers are not kept (a recipe pins one version of each package); `extra` is never set,
//! so optional dependencies drop out.

use std::path::PathBuf;

use pep508_rs::{MarkerEnvironment, MarkerTree, MarkerWarningKind, VerbatimUrl};

use crate::toolchain::{ToolchainError, WasiToolchain, install};

/// One `Requires-Dist` value, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The project name, normalized.
    pub name: String,
    /// The marker (`true` when there is none); `Err` says why it was not understood.
    pub marker: Result<MarkerTree, String>,
}

/// Whether a requirement applies on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applies {
    Yes,
    No,
    /// The marker was not understood (the text says why).
    Unclear(String),
}

impl Requirement {
    /// Parses `name [extras] specifiers ; marker`; `Err` (pep508_rs's message) when not even
    /// the part before the marker is a requirement.
    pub fn parse(text: &str) -> Result<Requirement, String> {
        // pep508_rs drops an expression it cannot judge (`os_name ~= 'x'`, `'a' == 'b'`) with
        // a warning; such a marker is not understood either.
        let mut ignored = None;
        let mut reporter = |kind, warning: String| {
            if kind != MarkerWarningKind::DeprecatedMarkerName {
                ignored.get_or_insert(warning);
            }
        };
        let parsed =
            pep508_rs::Requirement::<VerbatimUrl>::parse_reporter(text, ".", &mut reporter);
        match parsed {
            Ok(requirement) => Ok(Requirement {
                name: requirement.name.to_string(),
                marker: match ignored {
                    None => Ok(requirement.marker),
                    Some(warning) => Err(squeeze(&warning)),
                },
            }),
            Err(error) => {
                // A marker this parser does not know still leaves the name usable.
                let (specifier, _) = text.split_once(';').ok_or_else(|| first_line(&error))?;
                let requirement = specifier
                    .parse::<pep508_rs::Requirement<VerbatimUrl>>()
                    .map_err(|_| first_line(&error))?;
                Ok(Requirement {
                    name: requirement.name.to_string(),
                    marker: Err(first_line(&error)),
                })
            }
        }
    }

    /// Whether the requirement applies on the target. The target's marker values are read only
    /// when the marker depends on them (not for a missing marker or one only about extras);
    /// `Err` when they are needed and the toolchain has none.
    pub fn applies(&self, target: &mut TargetMarkers) -> Result<Applies, ToolchainError> {
        let marker = match &self.marker {
            Ok(marker) => marker,
            Err(why) => return Ok(Applies::Unclear(why.clone())),
        };
        // With no extra set, a marker that no environment can make true (or false) is decided
        // without one.
        if !marker.evaluate_extras(&[]) {
            return Ok(Applies::No);
        }
        if !marker.negate().evaluate_extras(&[]) {
            return Ok(Applies::Yes);
        }
        Ok(if marker.evaluate(target.environment()?, &[]) {
            Applies::Yes
        } else {
            Applies::No
        })
    }
}

/// The `Requires-Dist` entries of a wheel's `METADATA` that apply on the target and name a
/// project outside `declared` (the recipe's run requirements), as written. The wheel would make
/// the consumer's pip look for them; the recipe should list them. An entry whose marker cannot
/// be judged (no toolchain values, a marker pep508_rs does not understand) is left out.
pub fn undeclared_requirements(
    metadata: &str,
    declared: &[&str],
    target: &mut TargetMarkers,
) -> Vec<String> {
    crate::wheel::metadata::Headers::parse(metadata)
        .get_all("Requires-Dist")
        .filter(|value| {
            Requirement::parse(value).is_ok_and(|requirement| {
                !declared.contains(&requirement.name.as_str())
                    && matches!(requirement.applies(target), Ok(Applies::Yes))
            })
        })
        .map(str::to_string)
        .collect()
}

/// A warning's text on one line (pep508_rs wraps some of them).
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first line of a pep508_rs error (the rest repeats the input with a caret under it).
fn first_line(error: &impl std::fmt::Display) -> String {
    let text = error.to_string();
    text.lines().next().unwrap_or_default().to_string()
}

/// The target's marker environment, read from the installed toolchain's manifest when a marker
/// first needs it.
#[derive(Debug, Clone)]
pub struct TargetMarkers {
    source: Source,
}

#[derive(Debug, Clone)]
enum Source {
    /// The toolchain in this cache directory, not read yet.
    Toolchain {
        cache_dir: PathBuf,
    },
    Loaded(MarkerEnvironment),
}

impl TargetMarkers {
    /// The values of the toolchain installed in `cache_dir` (the one builds use).
    pub fn from_toolchain(cache_dir: PathBuf) -> TargetMarkers {
        TargetMarkers {
            source: Source::Toolchain { cache_dir },
        }
    }

    /// Given values (tests; a caller that has loaded the toolchain already).
    pub fn given(environment: MarkerEnvironment) -> TargetMarkers {
        TargetMarkers {
            source: Source::Loaded(environment),
        }
    }

    /// The environment: [`ToolchainError::NotInstalled`] (whose help says to run
    /// `wheelforge toolchain install`) when there is no toolchain, and
    /// [`ToolchainError::NoMarkerValues`] when its probe recorded none.
    pub fn environment(&mut self) -> Result<&MarkerEnvironment, ToolchainError> {
        if let Source::Toolchain { cache_dir } = &self.source {
            let toolchain = WasiToolchain::load(&install::toolchain_dir(cache_dir))?;
            self.source = Source::Loaded(toolchain.marker_environment()?);
        }
        match &self.source {
            Source::Loaded(environment) => Ok(environment),
            Source::Toolchain { .. } => unreachable!("loaded above"),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::toolchain::target::MarkerValues;

    /// What the probe records of componentize-py's CPython on WASI, with `version` for
    /// `python_full_version` and `implementation_version`.
    pub(crate) fn probed(version: &str) -> MarkerEnvironment {
        let minor: Vec<&str> = version.splitn(3, '.').take(2).collect();
        MarkerValues {
            implementation_name: "cpython".into(),
            implementation_version: version.into(),
            os_name: "posix".into(),
            platform_machine: "wasm32".into(),
            platform_python_implementation: "CPython".into(),
            platform_release: "0.0.0".into(),
            platform_system: "wasi".into(),
            platform_version: "0.0.0".into(),
            python_full_version: version.into(),
            python_version: minor.join("."),
            sys_platform: "wasi".into(),
        }
        .environment()
        .unwrap()
    }

    fn judge(requirement: &str, version: &str) -> Applies {
        let mut target = TargetMarkers::given(probed(version));
        Requirement::parse(requirement)
            .unwrap()
            .applies(&mut target)
            .unwrap()
    }

    #[test]
    fn requirements_split_into_name_and_marker() {
        let six = Requirement::parse("six >=1.5").unwrap();
        assert_eq!(six.name, "six");
        assert!(six.marker.unwrap().is_true());
        let tomli = Requirement::parse("Tomli[extra] (>=1); python_version < \"3.11\"").unwrap();
        assert_eq!(tomli.name, "tomli");
        assert_eq!(
            tomli.marker.unwrap().try_to_string().as_deref(),
            Some("python_full_version < '3.11'")
        );
        assert!(Requirement::parse(">=1").is_err());
        // The name survives a marker that is not understood.
        let odd = Requirement::parse("demo; os_nam == 'posix'").unwrap();
        assert_eq!(odd.name, "demo");
        assert!(odd.marker.is_err());
    }

    #[test]
    fn markers_are_judged_for_cpython_3_14_on_wasi() {
        let cases = [
            ("python_version < \"3.11\"", false),
            ("python_version >= '3.9'", true),
            ("python_version > '3.8' and python_version < '3.15'", true),
            ("extra == 'test'", false),
            ("extra == \"dev\" or python_version < '3.11'", false),
            ("sys_platform == 'win32'", false),
            ("sys_platform != 'win32'", true),
            ("platform_python_implementation != 'PyPy'", true),
            (
                "implementation_name == 'cpython' and (os_name == 'nt' or extra == 'x')",
                false,
            ),
            ("python_full_version == '3.14.*'", true),
            ("python_version ~= '3.10'", true),
            ("'wasi' in sys_platform", true),
            ("platform_machine not in 'x86_64 aarch64'", true),
        ];
        for (marker, expected) in cases {
            let applies = judge(&format!("demo; {marker}"), "3.14.0");
            let expected = if expected { Applies::Yes } else { Applies::No };
            assert_eq!(applies, expected, "{marker}");
        }
        assert!(matches!(
            judge("demo; os_nam == 'posix'", "3.14.0"),
            Applies::Unclear(_)
        ));
        assert_eq!(
            judge("demo; os_name ~= 'posix'", "3.14.0"),
            Applies::Unclear("Can't compare strings with `~=`, will be ignored".into())
        );
        assert!(
            Requirement::parse("demo; python_version <")
                .unwrap()
                .marker
                .is_err()
        );
    }

    /// Issue 16: `3.14.0rc1` was read as `3.14.0`.
    #[test]
    fn a_release_candidate_is_not_its_final_release() {
        assert_eq!(
            judge("demo; python_full_version == '3.14.0'", "3.14.0rc1"),
            Applies::No
        );
        assert_eq!(
            judge("demo; python_full_version < '3.14.0'", "3.14.0rc1"),
            Applies::Yes
        );
        assert_eq!(
            judge("demo; python_full_version == '3.14.0'", "3.14.0"),
            Applies::Yes
        );
    }

    /// Issue 16: the marker environment was the constant 3.14.0, whatever the runtime is.
    #[test]
    fn markers_are_evaluated_against_the_probed_runtime() {
        let marker = "demo; python_full_version >= '3.14.1'";
        assert_eq!(judge(marker, "3.14.0"), Applies::No);
        assert_eq!(judge(marker, "3.14.2"), Applies::Yes);
    }

    #[test]
    fn markers_that_need_no_environment_do_not_read_the_toolchain() {
        let missing = tempfile::tempdir().unwrap();
        let mut target = TargetMarkers::from_toolchain(missing.path().to_path_buf());
        let applies = |text: &str, target: &mut TargetMarkers| {
            Requirement::parse(text).unwrap().applies(target)
        };
        assert_eq!(applies("six", &mut target).unwrap(), Applies::Yes);
        assert_eq!(
            applies("pytest; extra == 'test'", &mut target).unwrap(),
            Applies::No
        );
        assert!(matches!(
            applies("tomli; python_version < '3.11'", &mut target),
            Err(ToolchainError::NotInstalled { .. })
        ));
    }

    #[test]
    fn requirements_a_recipe_does_not_list_are_found_in_the_wheel_metadata() {
        let metadata = "Metadata-Version: 2.1\nName: demo\nVersion: 1\n\
            Requires-Dist: NumPy>=1.25\nRequires-Dist: six\n\
            Requires-Dist: tomli; python_version < \"3.11\"\n\
            Requires-Dist: pywin32; sys_platform == \"win32\"\n\
            Requires-Dist: pytest; extra == \"test\"\n\
            Requires-Dist: Typing_Extensions; sys_platform == \"wasi\"\n\nbody\n";
        let mut target = TargetMarkers::given(probed("3.14.0"));
        assert_eq!(
            undeclared_requirements(metadata, &["six"], &mut target),
            ["NumPy>=1.25", "Typing_Extensions; sys_platform == \"wasi\""]
        );
        assert!(
            undeclared_requirements(
                metadata,
                &["numpy", "six", "typing-extensions"],
                &mut target
            )
            .is_empty()
        );
    }
}

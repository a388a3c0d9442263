//! Wheel tags and wheel filenames as types.
//!
//! This module owns the compatibility tags of the binary distribution format (PEP 425, PEP 427),
//! the `wasi_0_2_wasm32` platform tag described in `docs/platform-tag.md`, and project-name
//! normalization (PEP 503). It does not read or write wheels; see `crate::wheel` for that.
//! Every type here round-trips through `FromStr` and `Display`.

use std::fmt;
use std::str::FromStr;

/// Why a tag or filename could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error(
        "`{0}` is not a wheel filename: expected NAME-VERSION(-BUILD)?-PYTHON-ABI-PLATFORM.whl"
    )]
    Filename(String),
    #[error("`{0}` is not a valid tag component: use lowercase letters, digits and `_`")]
    Component(String),
    #[error(
        "`{0}` is not a WASI platform tag: expected wasi_MAJOR_MINOR_ARCH, e.g. wasi_0_2_wasm32"
    )]
    Wasi(String),
}

/// PEP 503 normalization: lowercase, every run of `-`, `_` and `.` becomes one `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator_run = false;
    for character in name.chars() {
        if matches!(character, '-' | '_' | '.') {
            if !in_separator_run {
                out.push('-');
            }
            in_separator_run = true;
        } else {
            out.push(character.to_ascii_lowercase());
            in_separator_run = false;
        }
    }
    out
}

/// The distribution-name component of a wheel filename: normalized, with `-` written as `_`.
pub fn escape_wheel_name(name: &str) -> String {
    normalize_name(name).replace('-', "_")
}

/// One component tag (`py3`, `cp314`, `none`, `abi3`, `any`, ...), validated.
fn validate_component(text: &str) -> Result<(), TagError> {
    let valid = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(TagError::Component(text.to_string()))
    }
}

/// The platform part of a wheel tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlatformTag {
    /// `any`: pure Python, no compiled code.
    Any,
    /// `wasi_MAJOR_MINOR_ARCH`, e.g. `wasi_0_2_wasm32`.
    Wasi {
        major: u32,
        minor: u32,
        arch: String,
    },
    /// Any other platform (`manylinux_2_17_x86_64`, ...), kept verbatim.
    Other(String),
}

impl PlatformTag {
    /// The platform wheelforge builds for: WASI 0.2 on wasm32.
    pub fn wasi_0_2_wasm32() -> Self {
        PlatformTag::Wasi {
            major: 0,
            minor: 2,
            arch: "wasm32".to_string(),
        }
    }
}

impl fmt::Display for PlatformTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlatformTag::Any => f.write_str("any"),
            PlatformTag::Wasi { major, minor, arch } => write!(f, "wasi_{major}_{minor}_{arch}"),
            PlatformTag::Other(text) => f.write_str(text),
        }
    }
}

impl FromStr for PlatformTag {
    type Err = TagError;
    fn from_str(text: &str) -> Result<Self, TagError> {
        validate_component(text)?;
        if text == "any" {
            return Ok(PlatformTag::Any);
        }
        if let Some(rest) = text.strip_prefix("wasi_") {
            let mut parts = rest.splitn(3, '_');
            let (Some(major), Some(minor), Some(arch)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(TagError::Wasi(text.to_string()));
            };
            let parse = |number: &str| -> Result<u32, TagError> {
                let canonical = number == "0" || !number.starts_with('0');
                match number.parse::<u32>() {
                    Ok(value) if canonical => Ok(value),
                    _ => Err(TagError::Wasi(text.to_string())),
                }
            };
            if arch.is_empty() {
                return Err(TagError::Wasi(text.to_string()));
            }
            return Ok(PlatformTag::Wasi {
                major: parse(major)?,
                minor: parse(minor)?,
                arch: arch.to_string(),
            });
        }
        Ok(PlatformTag::Other(text.to_string()))
    }
}

/// A compressed tag set such as `py2.py3-none-any` or `cp314-cp314-wasi_0_2_wasm32`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WheelTag {
    pub python: Vec<String>,
    pub abi: Vec<String>,
    pub platform: Vec<PlatformTag>,
}

impl WheelTag {
    /// `py3-none-any`: what every pure-Python recipe produces.
    pub fn pure() -> Self {
        WheelTag {
            python: vec!["py3".into()],
            abi: vec!["none".into()],
            platform: vec![PlatformTag::Any],
        }
    }

    /// `cp314-cp314-wasi_0_2_wasm32`: what every native recipe produces.
    pub fn cpython_wasi(minor: u32) -> Self {
        let tag = format!("cp3{minor}");
        WheelTag {
            python: vec![tag.clone()],
            abi: vec![tag],
            platform: vec![PlatformTag::wasi_0_2_wasm32()],
        }
    }

    /// Whether this tag set is pure Python (every platform is `any`, every ABI `none`).
    pub fn is_pure(&self) -> bool {
        self.platform.iter().all(|p| *p == PlatformTag::Any) && self.abi.iter().all(|a| a == "none")
    }

    /// The expanded tags, one `python-abi-platform` triple each, as the WHEEL file lists them.
    pub fn expanded(&self) -> Vec<String> {
        let mut tags = Vec::new();
        for python in &self.python {
            for abi in &self.abi {
                for platform in &self.platform {
                    tags.push(format!("{python}-{abi}-{platform}"));
                }
            }
        }
        tags
    }
}

impl fmt::Display for WheelTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let platforms: Vec<String> = self.platform.iter().map(ToString::to_string).collect();
        write!(
            f,
            "{}-{}-{}",
            self.python.join("."),
            self.abi.join("."),
            platforms.join(".")
        )
    }
}

impl FromStr for WheelTag {
    type Err = TagError;
    fn from_str(text: &str) -> Result<Self, TagError> {
        let parts: Vec<&str> = text.split('-').collect();
        let [python, abi, platform] = parts.as_slice() else {
            return Err(TagError::Component(text.to_string()));
        };
        let split = |set: &str| -> Result<Vec<String>, TagError> {
            set.split('.')
                .map(|one| validate_component(one).map(|()| one.to_string()))
                .collect()
        };
        Ok(WheelTag {
            python: split(python)?,
            abi: split(abi)?,
            platform: platform
                .split('.')
                .map(PlatformTag::from_str)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// A wheel filename: `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WheelFilename {
    /// The escaped distribution name as written in the filename (`python_dateutil`).
    pub name: String,
    pub version: String,
    pub build: Option<String>,
    pub tag: WheelTag,
}

impl WheelFilename {
    pub fn new(project: &str, version: &str, tag: WheelTag) -> Self {
        WheelFilename {
            name: escape_wheel_name(project),
            version: version.replace('-', "_"),
            build: None,
            tag,
        }
    }

    /// The PEP 503 normalized project name (`python-dateutil`).
    pub fn normalized_name(&self) -> String {
        normalize_name(&self.name)
    }

    /// `{name}-{version}.dist-info`, the metadata directory inside the wheel.
    pub fn dist_info_dir(&self) -> String {
        format!("{}-{}.dist-info", self.name, self.version)
    }

    /// `{name}-{version}.data`, the data directory inside the wheel.
    pub fn data_dir(&self) -> String {
        format!("{}-{}.data", self.name, self.version)
    }
}

impl fmt::Display for WheelFilename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.name, self.version)?;
        if let Some(build) = &self.build {
            write!(f, "-{build}")?;
        }
        write!(f, "-{}.whl", self.tag)
    }
}

impl FromStr for WheelFilename {
    type Err = TagError;
    fn from_str(text: &str) -> Result<Self, TagError> {
        let error = || TagError::Filename(text.to_string());
        let stem = text.strip_suffix(".whl").ok_or_else(error)?;
        let parts: Vec<&str> = stem.split('-').collect();
        let (name, version, build, tag_parts) = match parts.as_slice() {
            [name, version, python, abi, platform] => {
                (name, version, None, [python, abi, platform])
            }
            [name, version, build, python, abi, platform] => {
                if !build.starts_with(|c: char| c.is_ascii_digit()) {
                    return Err(error());
                }
                (
                    name,
                    version,
                    Some(build.to_string()),
                    [python, abi, platform],
                )
            }
            _ => return Err(error()),
        };
        if name.is_empty() || version.is_empty() {
            return Err(error());
        }
        let tag: WheelTag = format!("{}-{}-{}", tag_parts[0], tag_parts[1], tag_parts[2])
            .parse()
            .map_err(|_| error())?;
        Ok(WheelFilename {
            name: name.to_string(),
            version: version.to_string(),
            build,
            tag,
        })
    }
}

/// Whether a wheel file name is one the WASI runtime can use: every platform `any`, or one of
/// them `wasi_0_2_wasm32` (with a CPython 3.14 or generic Python tag).
pub fn is_wasi_or_pure_wheel(file_name: &str) -> bool {
    let Ok(wheel) = file_name.parse::<WheelFilename>() else {
        return false;
    };
    let tag = &wheel.tag;
    tag.platform.iter().all(|p| *p == PlatformTag::Any)
        || tag.platform.contains(&PlatformTag::wasi_0_2_wasm32())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_wasi_and_pure_wheels_are_for_the_runtime() {
        assert!(is_wasi_or_pure_wheel(
            "numpy-2.4.6-cp314-cp314-wasi_0_2_wasm32.whl"
        ));
        assert!(is_wasi_or_pure_wheel("six-1.17.0-py2.py3-none-any.whl"));
        assert!(!is_wasi_or_pure_wheel(
            "numpy-2.4.6-cp314-cp314-manylinux_2_28_x86_64.whl"
        ));
        assert!(!is_wasi_or_pure_wheel("numpy-2.4.6.tar.gz"));
    }

    #[test]
    fn platform_tags_round_trip() {
        for text in [
            "any",
            "wasi_0_2_wasm32",
            "wasi_1_0_wasm64",
            "manylinux_2_17_x86_64",
        ] {
            let tag: PlatformTag = text.parse().unwrap();
            assert_eq!(tag.to_string(), text);
        }
        assert_eq!(
            "wasi_0_2_wasm32".parse::<PlatformTag>().unwrap(),
            PlatformTag::wasi_0_2_wasm32()
        );
    }

    #[test]
    fn malformed_wasi_tags_are_rejected() {
        for text in [
            "wasi_0_wasm32",
            "wasi_00_2_wasm32",
            "wasi_x_2_wasm32",
            "wasi_0_2_",
        ] {
            assert!(text.parse::<PlatformTag>().is_err(), "{text} parsed");
        }
    }

    #[test]
    fn wheel_tags_round_trip() {
        for text in [
            "py3-none-any",
            "py2.py3-none-any",
            "cp314-cp314-wasi_0_2_wasm32",
        ] {
            let tag: WheelTag = text.parse().unwrap();
            assert_eq!(tag.to_string(), text);
        }
        assert_eq!(WheelTag::pure().to_string(), "py3-none-any");
        assert_eq!(
            WheelTag::cpython_wasi(14).to_string(),
            "cp314-cp314-wasi_0_2_wasm32"
        );
        assert!(WheelTag::pure().is_pure());
        assert!(!WheelTag::cpython_wasi(14).is_pure());
    }

    #[test]
    fn wheel_filenames_round_trip() {
        for text in [
            "six-1.17.0-py3-none-any.whl",
            "python_dateutil-2.9.0.post0-py2.py3-none-any.whl",
            "numpy-2.3.5-cp314-cp314-wasi_0_2_wasm32.whl",
            "demo-1.0-1build-py3-none-any.whl",
        ] {
            let name: WheelFilename = text.parse().unwrap();
            assert_eq!(name.to_string(), text);
        }
        let name: WheelFilename = "python_dateutil-2.9.0.post0-py3-none-any.whl"
            .parse()
            .unwrap();
        assert_eq!(name.normalized_name(), "python-dateutil");
        assert_eq!(
            name.dist_info_dir(),
            "python_dateutil-2.9.0.post0.dist-info"
        );
    }

    #[test]
    fn bad_filenames_are_rejected() {
        for text in [
            "six-1.17.0.tar.gz",
            "six-py3-none-any.whl",
            "a-b-c-d-e-f-g.whl",
        ] {
            assert!(text.parse::<WheelFilename>().is_err(), "{text} parsed");
        }
    }

    #[test]
    fn names_normalize_per_pep_503() {
        assert_eq!(normalize_name("Python_Dateutil"), "python-dateutil");
        assert_eq!(normalize_name("a.-_b"), "a-b");
        assert_eq!(escape_wheel_name("python-dateutil"), "python_dateutil");
    }
}

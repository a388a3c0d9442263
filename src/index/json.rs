//! The PEP 691 JSON pages of the index (API version 1.1, with the PEP 700 and PEP 714 keys).
//!
//! This module owns the text of `simple/index.json` and `simple/<project>/index.json`. Output
//! is deterministic whatever serde_json features are enabled: struct fields are declared in
//! alphabetical order (so keys come out sorted), lists are sorted, and every page ends with a
//! newline. It does not decide which files exist or write anything to disk; `super` does that.

use pep440_rs::Version;
use serde::Serialize;

use super::FileEntry;
use super::html::REPOSITORY_VERSION;

#[derive(Serialize)]
struct Meta {
    #[serde(rename = "api-version")]
    api_version: &'static str,
}

const META: Meta = Meta {
    api_version: REPOSITORY_VERSION,
};

#[derive(Serialize)]
struct RootPage<'a> {
    meta: Meta,
    projects: Vec<ProjectName<'a>>,
}

#[derive(Serialize)]
struct ProjectName<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct ProjectPage<'a> {
    files: Vec<File<'a>>,
    meta: Meta,
    name: &'a str,
    versions: Vec<&'a str>,
}

#[derive(Serialize)]
struct File<'a> {
    #[serde(rename = "core-metadata")]
    core_metadata: Hashes<'a>,
    #[serde(rename = "dist-info-metadata")]
    dist_info_metadata: Hashes<'a>,
    filename: &'a str,
    hashes: Hashes<'a>,
    #[serde(rename = "requires-python", skip_serializing_if = "Option::is_none")]
    requires_python: Option<&'a str>,
    size: u64,
    url: String,
}

#[derive(Serialize)]
struct Hashes<'a> {
    sha256: &'a str,
}

/// `simple/index.json`: every project, in the given order.
pub(super) fn root_page<'a>(
    projects: impl Iterator<Item = &'a String>,
) -> Result<String, serde_json::Error> {
    let page = RootPage {
        meta: META,
        projects: projects.map(|name| ProjectName { name }).collect(),
    };
    render(&page)
}

/// `simple/<project>/index.json`: files sorted by filename, versions sorted and unique.
pub(super) fn project_page(
    project: &str,
    files: &[FileEntry],
) -> Result<String, serde_json::Error> {
    let mut sorted: Vec<&FileEntry> = files.iter().collect();
    sorted.sort_by(|a, b| a.filename.cmp(&b.filename));
    let mut versions: Vec<&str> = files.iter().map(|file| file.version.as_str()).collect();
    sort_versions(&mut versions);
    let page = ProjectPage {
        files: sorted
            .into_iter()
            .map(|file| File {
                core_metadata: Hashes {
                    sha256: &file.metadata_sha256,
                },
                dist_info_metadata: Hashes {
                    sha256: &file.metadata_sha256,
                },
                filename: &file.filename,
                hashes: Hashes {
                    sha256: &file.sha256,
                },
                requires_python: file.requires_python.as_deref(),
                size: file.size,
                url: format!("../../packages/{}", super::url_segment(&file.filename)),
            })
            .collect(),
        meta: META,
        name: project,
        versions,
    };
    render(&page)
}

/// PEP 440 order (`1.0rc1 < 1.0 < 1.0.post1`, `1.9 < 1.10`), then by spelling, so that equal
/// versions spelled apart (`1.0`, `1.0.0`) keep one order; each spelling once. Installers do
/// not rely on this order; people reading do. Filenames are checked to be PEP 440 before they
/// are listed; a version that still does not parse sorts first.
fn sort_versions(versions: &mut Vec<&str>) {
    versions.sort_by_cached_key(|version| (version.parse::<Version>().ok(), *version));
    versions.dedup();
}

fn render(page: &impl Serialize) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(page)?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_numerically() {
        let mut versions = vec!["1.10", "1.9", "1.9.1", "0.1", "0.01.2", "1.9"];
        sort_versions(&mut versions);
        assert_eq!(versions, ["0.1", "0.01.2", "1.9", "1.9.1", "1.10"]);
    }

    /// Issue 16: `1.0rc1` was listed after `1.0`.
    #[test]
    fn a_release_candidate_sorts_before_its_final_release() {
        let files: Vec<FileEntry> = ["1.0.post1", "1.0", "1.0rc1", "1.0.dev0", "1.0.0"]
            .into_iter()
            .map(|version| FileEntry {
                filename: format!("demo-{version}-py3-none-any.whl"),
                version: version.to_string(),
                sha256: "0".repeat(64),
                size: 1,
                metadata_sha256: "1".repeat(64),
                requires_python: None,
            })
            .collect();
        let page: serde_json::Value =
            serde_json::from_str(&project_page("demo", &files).unwrap()).unwrap();
        assert_eq!(
            page["versions"],
            serde_json::json!(["1.0.dev0", "1.0rc1", "1.0", "1.0.0", "1.0.post1"])
        );
    }
}

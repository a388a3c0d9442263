//! The PEP 691 JSON pages of the index (API version 1.1, with the PEP 700 and PEP 714 keys).
//!
//! This module owns the text of `simple/index.json` and `simple/<project>/index.json`. Output
//! is deterministic whatever serde_json features are enabled: struct fields are declared in
//! alphabetical order (so keys come out sorted), lists are sorted, and every page ends with a
//! newline. It does not decide which files exist or write anything to disk; `super` does that.

use std::cmp::Ordering;

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
    versions.sort_by(|a, b| compare_versions(a, b));
    versions.dedup();
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

fn render(page: &impl Serialize) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(page)?;
    text.push('\n');
    Ok(text)
}

/// A deterministic, mostly PEP 440-like order: runs of digits compare as numbers, everything
/// else as text (`1.9 < 1.10`). Installers do not rely on this order; people reading do.
fn compare_versions(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.is_empty(), b.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let (chunk_a, rest_a) = split_chunk(a);
        let (chunk_b, rest_b) = split_chunk(b);
        let digits = |s: &str| s.starts_with(|c: char| c.is_ascii_digit());
        let order = if digits(chunk_a) && digits(chunk_b) {
            let (x, y) = (
                chunk_a.trim_start_matches('0'),
                chunk_b.trim_start_matches('0'),
            );
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        } else {
            chunk_a.cmp(chunk_b)
        };
        if order != Ordering::Equal {
            return order;
        }
        (a, b) = (rest_a, rest_b);
    }
}

/// Splits off the leading run of digits, or of non-digits.
fn split_chunk(text: &str) -> (&str, &str) {
    let digits = text.starts_with(|c: char| c.is_ascii_digit());
    let end = text
        .find(|c: char| c.is_ascii_digit() != digits)
        .unwrap_or(text.len());
    text.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_numerically() {
        let mut versions = vec!["1.10", "1.9", "1.9.1", "0.1", "0.01.2"];
        versions.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(versions, ["0.1", "0.01.2", "1.9", "1.9.1", "1.10"]);
    }
}

//! Publishing the index: to a directory that a static host serves as a site (`directory`), or
//! as assets of a GitHub release with a find-links page (`release`, over the REST API in
//! `github`).
//!
//! This module owns reading one consistent state of the index (`snapshot`) and the errors of
//! publishing. It does not build or change the index (see `crate::index`), and it never prints,
//! logs or puts into an error the GitHub token it is given (see `Token`).

mod directory;
mod github;
mod release;
mod snapshot;

use std::io;
use std::path::PathBuf;

pub use directory::{SITE_MARKER, SiteSummary, publish_to_dir};
pub use github::{DEFAULT_API_URL, Token};
pub use release::{INDEX_ASSET, ReleaseSummary, ReleaseTarget, Repository, publish_release};

use crate::index::IndexError;

/// Why publishing failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("{0}; check that the directories involved exist and are writable")]
    Io(#[from] io::Error),
    #[error(
        "the index at {root} is incomplete: {missing} is missing; run `wheelforge index` to regenerate its pages, then publish again"
    )]
    Incomplete { root: PathBuf, missing: String },
    #[error(
        "the index at {root} has no wheels; build some recipes first (`wheelforge build NAME`)"
    )]
    Empty { root: PathBuf },
    #[error(
        "{dir} exists and was not written by `wheelforge publish` (it has no {marker}); publish to a new or empty directory, or remove it first"
    )]
    NotASite { dir: PathBuf, marker: &'static str },
    #[error(
        "{path} changed while it was being published; run the command again once builds have finished"
    )]
    Changed { path: PathBuf },
    #[error(
        "GITHUB_TOKEN is not set; set it to a token that may write releases (contents: write), e.g. `GITHUB_TOKEN=$(gh auth token)`"
    )]
    NoToken,
    #[error("`{given}` is not a repository; pass it as OWNER/REPO, e.g. `octo-org/wheels`")]
    BadRepository { given: String },
    #[error("`{given}` is not a release tag ({reason}); pass a tag name such as `v1` or `wheels`")]
    BadTag { given: String, reason: &'static str },
    #[error(
        "`{url}` is not an API URL ({reason}); pass the REST API root, e.g. https://api.github.com or https://HOST/api/v3"
    )]
    BadApiUrl { url: String, reason: String },
    #[error("cannot start the runtime for the GitHub API: {0}; this is a bug in wheelforge")]
    Runtime(#[source] io::Error),
    #[error("{action} failed: {detail}; {help}")]
    Api {
        action: String,
        detail: String,
        help: &'static str,
    },
    #[error(
        "release {tag} of {repository} already has assets with these names and other content:\n{conflicts}\nnothing was uploaded; pass --replace to replace them, or change the wheels' version"
    )]
    Conflicts {
        repository: String,
        tag: String,
        conflicts: String,
    },
    #[error(
        "the server stored `{asked}` as `{got}`; release assets must keep their wheel filename, so this wheel cannot be published as a release asset (rename the project or version)"
    )]
    Renamed { asked: String, got: String },
}

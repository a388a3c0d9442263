//! `publish --github-release OWNER/REPO --tag TAG`: the index's wheels as release assets, and
//! a find-links page `index.html` that links to them with their SHA-256.
//!
//! Release assets are flat (no `simple/NAME/` directories), so a release cannot hold a PEP 503
//! index; it holds the wheels and a page of PEP 503 anchors that `pip --find-links` reads. This
//! module owns deciding, per wheel, what the release needs (nothing, an upload, replacing a
//! broken asset that an interrupted upload left, or refusing another file of the same name),
//! the order (every wheel first, the page last, so the page never links to a missing wheel) and
//! the page. It resumes: assets already complete with the same size and digest are kept. The
//! HTTP requests are in `github`; this module only says which to make.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::PublishError;
use super::github::{Asset, GitHub, Release, Token};
use super::snapshot::{Snapshot, Wheel};
use crate::index::{Index, html_escape};
use crate::reporter::Reporter;

/// The name of the find-links page asset.
pub const INDEX_ASSET: &str = "index.html";
/// A new page is uploaded under this name, then renamed over the old one, so that the release
/// never lacks a page for longer than one rename.
const STAGED_INDEX_ASSET: &str = "wheelforge-index-new.html";

/// `OWNER/REPO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub owner: String,
    pub name: String,
}

impl FromStr for Repository {
    type Err = PublishError;

    fn from_str(text: &str) -> Result<Repository, PublishError> {
        let valid = |part: &str| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        match text.split_once('/') {
            Some((owner, name)) if valid(owner) && valid(name) => Ok(Repository {
                owner: owner.to_string(),
                name: name.to_string(),
            }),
            _ => Err(PublishError::BadRepository {
                given: text.to_string(),
            }),
        }
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// Where to publish. `Debug` shows no token (see `Token`).
#[derive(Debug, Clone)]
pub struct ReleaseTarget {
    pub repository: Repository,
    pub tag: String,
    /// The REST API root, e.g. `https://api.github.com`.
    pub api_url: String,
    pub token: Token,
    /// Replace assets of the same name and other content instead of refusing.
    pub replace: bool,
}

/// What `publish_release` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseSummary {
    /// The release did not exist and was created.
    pub created: bool,
    /// The release's web page.
    pub release_url: String,
    /// The download URL of the find-links page.
    pub index_url: String,
    /// GitHub's own HTML list of the assets (`.../releases/expanded_assets/TAG`), which pip
    /// can also use with `--find-links`; `None` if the release URL is not GitHub's shape.
    pub expanded_assets_url: Option<String>,
    /// Wheels uploaded that the release did not have.
    pub uploaded: Vec<String>,
    /// Wheels whose asset was broken (an interrupted upload) and was uploaded again.
    pub repaired: Vec<String>,
    /// Wheels that replaced another file of the same name (`--replace`).
    pub replaced: Vec<String>,
    /// Wheels already in the release, complete and the same.
    pub unchanged: Vec<String>,
    /// Whether the find-links page was (re)written.
    pub index_updated: bool,
}

/// What one wheel needs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    Keep,
    Upload,
    /// An incomplete asset of that name: delete it, upload again.
    Repair(u64),
    /// A complete asset of that name with other content, and `--replace`.
    Replace(u64),
}

/// Decides what `wheel` needs given the release's asset of the same name; `Err` describes a
/// conflict (another file of that name, without `replace`).
fn plan(wheel: &Wheel, existing: Option<&Asset>, replace: bool) -> Result<Action, String> {
    let Some(asset) = existing else {
        return Ok(Action::Upload);
    };
    if asset.state != "uploaded" {
        return Ok(Action::Repair(asset.id));
    }
    let digest_matches = asset
        .digest
        .as_deref()
        .is_none_or(|digest| digest.eq_ignore_ascii_case(&format!("sha256:{}", wheel.sha256)));
    if asset.size == wheel.size && digest_matches {
        return Ok(Action::Keep);
    }
    if replace {
        return Ok(Action::Replace(asset.id));
    }
    Err(format!(
        "  {}: the release has {} bytes ({}), the index {} bytes (sha256:{})",
        wheel.name,
        asset.size,
        asset.digest.as_deref().unwrap_or("no digest"),
        wheel.size,
        wheel.sha256
    ))
}

/// Publishes the wheels of the index at `index` to a GitHub release, creating it if needed,
/// then its find-links page. Runs its own single-threaded async runtime.
pub fn publish_release(
    index: &Index,
    target: &ReleaseTarget,
    reporter: &dyn Reporter,
) -> Result<ReleaseSummary, PublishError> {
    check_tag(&target.tag)?;
    let (snapshot, lock) = Snapshot::read(index)?;
    drop(lock); // Uploads take long; each wheel's bytes are checked against the snapshot.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(PublishError::Runtime)?;
    runtime.block_on(publish(&snapshot, target, reporter))
}

fn check_tag(tag: &str) -> Result<(), PublishError> {
    let reason = if tag.is_empty() {
        Some("it is empty")
    } else if tag.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("it has whitespace or control characters")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(PublishError::BadTag {
            given: tag.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

async fn publish(
    snapshot: &Snapshot,
    target: &ReleaseTarget,
    reporter: &dyn Reporter,
) -> Result<ReleaseSummary, PublishError> {
    let mut summary = ReleaseSummary::default();
    let mut release = OpenRelease::find_or_create(target, reporter, &mut summary).await?;
    let assets = release.assets().await?;
    // Decide everything before changing anything: a conflict uploads nothing.
    let by_name: BTreeMap<&str, &Asset> = assets.iter().map(|a| (a.name.as_str(), a)).collect();
    let actions = decide(snapshot, &by_name, target)?;
    if let Some(staged) = by_name.get(STAGED_INDEX_ASSET) {
        // Left by a run that stopped between uploading a new page and renaming it.
        delete(&release.github, staged, &release.of_release).await?;
    }
    for (wheel, action) in actions {
        release.apply(wheel, action, &by_name, &mut summary).await?;
    }
    // The page last, from what the release now holds.
    release
        .write_page(target, &snapshot.wheels, &mut summary)
        .await?;
    Ok(summary)
}

/// What to do with each wheel, or every conflict (a same-named asset with other content,
/// without `--replace`).
fn decide<'w>(
    snapshot: &'w Snapshot,
    by_name: &BTreeMap<&str, &Asset>,
    target: &ReleaseTarget,
) -> Result<Vec<(&'w Wheel, Action)>, PublishError> {
    let mut actions = Vec::new();
    let mut conflicts = Vec::new();
    for wheel in &snapshot.wheels {
        match plan(
            wheel,
            by_name.get(wheel.name.as_str()).copied(),
            target.replace,
        ) {
            Ok(action) => actions.push((wheel, action)),
            Err(conflict) => conflicts.push(conflict),
        }
    }
    if !conflicts.is_empty() {
        return Err(PublishError::Conflicts {
            repository: target.repository.to_string(),
            tag: target.tag.clone(),
            conflicts: conflicts.join("\n"),
        });
    }
    Ok(actions)
}

/// The release being published to, and how errors name it.
struct OpenRelease<'r> {
    github: GitHub,
    release: Release,
    of_release: String,
    reporter: &'r dyn Reporter,
}

impl<'r> OpenRelease<'r> {
    /// Looks the release up by its tag, or creates it.
    async fn find_or_create(
        target: &ReleaseTarget,
        reporter: &'r dyn Reporter,
        summary: &mut ReleaseSummary,
    ) -> Result<OpenRelease<'r>, PublishError> {
        let repository = &target.repository;
        let tag = &target.tag;
        let of_release = format!("release {tag} of {repository}");
        let github = GitHub::new(
            &target.api_url,
            &target.token,
            &repository.owner,
            &repository.name,
        )?;
        reporter.message("publish", &format!("looking up {of_release}"));
        let release = match github
            .release_by_tag(tag)
            .await
            .map_err(|f| f.into_error(format!("looking up {of_release}")))?
        {
            Some(release) => release,
            None => {
                reporter.message("publish", &format!("creating {of_release}"));
                summary.created = true;
                github
                    .create_release(tag)
                    .await
                    .map_err(|f| f.into_error(format!("creating {of_release}")))?
            }
        };
        summary.release_url = release.html_url.clone();
        summary.expanded_assets_url = release.html_url.contains("/releases/tag/").then(|| {
            release
                .html_url
                .replacen("/releases/tag/", "/releases/expanded_assets/", 1)
        });
        Ok(OpenRelease {
            github,
            release,
            of_release,
            reporter,
        })
    }

    async fn assets(&self) -> Result<Vec<Asset>, PublishError> {
        self.github
            .assets(&self.release)
            .await
            .map_err(|f| f.into_error(format!("listing the assets of {}", self.of_release)))
    }

    /// Uploads `wheel` (deleting the asset it repairs or replaces first), checked against the
    /// snapshot's digest, and records it in `summary`.
    async fn apply(
        &mut self,
        wheel: &Wheel,
        action: Action,
        by_name: &BTreeMap<&str, &Asset>,
        summary: &mut ReleaseSummary,
    ) -> Result<(), PublishError> {
        let stale = match action {
            Action::Keep => {
                summary.unchanged.push(wheel.name.clone());
                return Ok(());
            }
            Action::Upload => None,
            Action::Repair(id) | Action::Replace(id) => {
                by_name.get(wheel.name.as_str()).filter(|a| a.id == id)
            }
        };
        if let Some(stale) = stale {
            self.reporter
                .message("publish", &format!("deleting the old asset {}", wheel.name));
            delete(&self.github, stale, &self.of_release).await?;
        }
        self.reporter
            .message("publish", &format!("uploading {}", wheel.name));
        tracing::info!(wheel = %wheel.name, size = wheel.size, "uploading");
        let bytes = fs_err::read(&wheel.path)?;
        if crate::digest::sha256_hex(&bytes) != wheel.sha256 {
            return Err(PublishError::Changed {
                path: wheel.path.clone(),
            });
        }
        upload(
            &mut self.github,
            &self.release,
            &wheel.name,
            "application/octet-stream",
            bytes,
            &self.of_release,
        )
        .await?;
        match action {
            Action::Repair(_) => summary.repaired.push(wheel.name.clone()),
            Action::Replace(_) => summary.replaced.push(wheel.name.clone()),
            _ => summary.uploaded.push(wheel.name.clone()),
        }
        Ok(())
    }

    /// The find-links page of what the release now holds, unless the current one has exactly
    /// that content: uploaded under a staging name, then renamed over the old one.
    async fn write_page(
        &mut self,
        target: &ReleaseTarget,
        wheels: &[Wheel],
        summary: &mut ReleaseSummary,
    ) -> Result<(), PublishError> {
        let assets = self.assets().await?;
        let page = find_links_page(&target.repository, &target.tag, &assets, wheels);
        let digest = format!("sha256:{}", crate::digest::sha256_hex(page.as_bytes()));
        let current = assets.iter().find(|asset| asset.name == INDEX_ASSET);
        if let Some(asset) = current
            && asset.state == "uploaded"
            && asset
                .digest
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case(&digest))
        {
            summary.index_url = asset.browser_download_url.clone();
            return Ok(());
        }
        self.reporter
            .message("publish", &format!("uploading {INDEX_ASSET}"));
        let staged = upload(
            &mut self.github,
            &self.release,
            STAGED_INDEX_ASSET,
            "text/html; charset=utf-8",
            page.into_bytes(),
            &self.of_release,
        )
        .await?;
        if let Some(old) = current {
            delete(&self.github, old, &self.of_release).await?;
        }
        let renamed = self
            .github
            .rename_asset(&staged, INDEX_ASSET)
            .await
            .map_err(|f| {
                f.into_error(format!(
                    "renaming {STAGED_INDEX_ASSET} to {INDEX_ASSET} in {}",
                    self.of_release
                ))
            })?;
        summary.index_url = renamed.browser_download_url;
        summary.index_updated = true;
        Ok(())
    }
}

async fn upload(
    github: &mut GitHub,
    release: &Release,
    name: &str,
    content_type: &str,
    bytes: Vec<u8>,
    of_release: &str,
) -> Result<Asset, PublishError> {
    let asset = github
        .upload(release, name, content_type, bytes)
        .await
        .map_err(|f| f.into_error(format!("uploading {name} to {of_release}")))?;
    if asset.name != name {
        return Err(PublishError::Renamed {
            asked: name.to_string(),
            got: asset.name,
        });
    }
    Ok(asset)
}

async fn delete(github: &GitHub, asset: &Asset, of_release: &str) -> Result<(), PublishError> {
    tracing::info!(asset = %asset.name, state = %asset.state, "deleting");
    github
        .delete_asset(asset)
        .await
        .map_err(|f| f.into_error(format!("deleting the asset {} of {of_release}", asset.name)))
}

/// The find-links page: one PEP 503 anchor per complete wheel asset of the release, sorted,
/// linking to its download URL with `#sha256=` (from the index, or from the asset's digest for
/// wheels that another index published) and `data-requires-python` where known.
fn find_links_page(
    repository: &Repository,
    tag: &str,
    assets: &[Asset],
    wheels: &[Wheel],
) -> String {
    let title = format!("Links for release {tag} of {repository}");
    let mut page = format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta charset=\"utf-8\">\n    <title>{title}</title>\n  </head>\n  <body>\n    <h1>{title}</h1>\n",
        title = html_escape(&title)
    );
    let mut listed: Vec<&Asset> = assets
        .iter()
        .filter(|asset| asset.state == "uploaded" && asset.name.ends_with(".whl"))
        .collect();
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    for asset in listed {
        let local = wheels
            .iter()
            .find(|wheel| wheel.name == asset.name && wheel.size == asset.size);
        let sha256 = local.map(|wheel| wheel.sha256.clone()).or_else(|| {
            asset
                .digest
                .as_deref()
                .and_then(|digest| digest.strip_prefix("sha256:"))
                .map(str::to_ascii_lowercase)
        });
        let mut href = asset.browser_download_url.clone();
        if let Some(sha256) = sha256 {
            href.push_str(&format!("#sha256={sha256}"));
        }
        page.push_str(&format!("    <a href=\"{}\"", html_escape(&href)));
        if let Some(requires_python) = local.and_then(|wheel| wheel.requires_python.as_deref()) {
            page.push_str(&format!(
                " data-requires-python=\"{}\"",
                html_escape(requires_python)
            ));
        }
        page.push_str(&format!(">{}</a><br>\n", html_escape(&asset.name)));
    }
    page.push_str("  </body>\n</html>\n");
    page
}

#[cfg(test)]
mod tests;

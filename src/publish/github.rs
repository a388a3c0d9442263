//! The parts of the GitHub REST API that publishing to a release uses, through octocrab.
//!
//! This module owns the token (`Token`: never printed, never in `Debug`, redacted from every
//! error text), the octocrab clients (one for the API root; one per upload origin, because
//! octocrab sends the token only to the hosts it was built for and the release's `upload_url`
//! names its own host, e.g. `uploads.github.com`), the requests (release by tag, create release,
//! list / upload / delete / rename assets) and turning their failures into messages that say
//! what failed and what to do. The wire types are the few fields publishing reads, so that an
//! API server that leaves out others (GitHub Enterprise, a test double) still works. It does
//! not decide what to upload; see `release`.

use std::fmt;

use http::Uri;
use octocrab::Octocrab;
use serde::{Deserialize, Serialize};

use super::PublishError;

/// Where the REST API is unless `--api-url` (or `GITHUB_API_URL`) says otherwise.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// Asset listings are read in pages of this many (the API's maximum).
const PAGE_SIZE: usize = 100;

/// A GitHub token. It is sent in the `Authorization` header and nowhere else: `Debug` shows
/// only that there is one, and every error text passes through `redact`.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn new(value: impl Into<String>) -> Result<Token, PublishError> {
        let value = value.into().trim().to_string();
        if value.is_empty() {
            return Err(PublishError::NoToken);
        }
        Ok(Token(value))
    }

    /// The token in `GITHUB_TOKEN`.
    pub fn from_env() -> Result<Token, PublishError> {
        Token::new(std::env::var("GITHUB_TOKEN").map_err(|_| PublishError::NoToken)?)
    }

    /// `text` with every occurrence of the token replaced by `***`.
    pub(super) fn redact(&self, text: &str) -> String {
        text.replace(&self.0, "***")
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// A release, as far as publishing cares.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Release {
    pub id: u64,
    pub html_url: String,
    /// An RFC 6570 template such as `https://uploads.github.com/repos/o/r/releases/1/assets{?name,label}`.
    pub upload_url: String,
}

/// A release asset, as far as publishing cares.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Asset {
    pub id: u64,
    pub name: String,
    /// `uploaded` once complete; an interrupted upload leaves another state (`starter`).
    pub state: String,
    pub size: u64,
    /// `sha256:<hex>` where the server computes it.
    #[serde(default)]
    pub digest: Option<String>,
    pub browser_download_url: String,
}

#[derive(Serialize)]
struct NewRelease<'a> {
    tag_name: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct AssetName<'a> {
    name: &'a str,
}

/// One repository's releases on one API server.
pub(super) struct GitHub {
    api: Octocrab,
    token: Token,
    /// `/repos/OWNER/REPO`.
    repository_route: String,
    /// The upload client and the origin it was built for.
    uploads: Option<(String, Octocrab)>,
}

impl GitHub {
    pub fn new(
        api_url: &str,
        token: &Token,
        owner: &str,
        repo: &str,
    ) -> Result<GitHub, PublishError> {
        let bad = |reason: &str| PublishError::BadApiUrl {
            url: api_url.to_string(),
            reason: reason.to_string(),
        };
        let uri: Uri = api_url.parse().map_err(|_| bad("not a URL"))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.authority().is_none() {
            return Err(bad("expected http:// or https:// and a host"));
        }
        if uri.query().is_some() {
            return Err(bad("it has a query"));
        }
        Ok(GitHub {
            api: client(uri, token).map_err(|error| bad(&describe(&error, token).0))?,
            token: token.clone(),
            repository_route: format!("/repos/{}/{}", url_segment(owner), url_segment(repo)),
            uploads: None,
        })
    }

    /// The release with this tag; `None` when there is none (a draft has no tag yet and is
    /// not found either).
    pub async fn release_by_tag(&self, tag: &str) -> Result<Option<Release>, Failure> {
        let route = format!(
            "{}/releases/tags/{}",
            self.repository_route,
            url_segment(tag)
        );
        match self.api.get::<Release, _, ()>(route, None).await {
            Ok(release) => Ok(Some(release)),
            Err(error) if status_of(&error) == Some(404) => Ok(None),
            Err(error) => Err(self.failure(&error)),
        }
    }

    pub async fn create_release(&self, tag: &str) -> Result<Release, Failure> {
        let route = format!("{}/releases", self.repository_route);
        let body = NewRelease {
            tag_name: tag,
            name: tag,
        };
        self.api
            .post(route, Some(&body))
            .await
            .map_err(|error| self.failure(&error))
    }

    /// Every asset of the release, page by page.
    pub async fn assets(&self, release: &Release) -> Result<Vec<Asset>, Failure> {
        let mut assets = Vec::new();
        for page in 1.. {
            let route = format!(
                "{}/releases/{}/assets?per_page={PAGE_SIZE}&page={page}",
                self.repository_route, release.id
            );
            let batch: Vec<Asset> = self
                .api
                .get::<_, _, ()>(route, None)
                .await
                .map_err(|error| self.failure(&error))?;
            let last = batch.len() < PAGE_SIZE;
            assets.extend(batch);
            if last {
                break;
            }
        }
        Ok(assets)
    }

    pub async fn delete_asset(&self, asset: &Asset) -> Result<(), Failure> {
        let route = format!("{}/releases/assets/{}", self.repository_route, asset.id);
        let response = self
            .api
            ._delete(route.as_str(), None::<&()>)
            .await
            .map_err(|error| self.failure(&error))?;
        octocrab::map_github_error(response)
            .await
            .map_err(|error| self.failure(&error))?;
        Ok(())
    }

    pub async fn rename_asset(&self, asset: &Asset, name: &str) -> Result<Asset, Failure> {
        let route = format!("{}/releases/assets/{}", self.repository_route, asset.id);
        self.api
            .patch(route, Some(&AssetName { name }))
            .await
            .map_err(|error| self.failure(&error))
    }

    /// Uploads `bytes` as asset `name` to the release's `upload_url`, as the API gave it.
    pub async fn upload(
        &mut self,
        release: &Release,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<Asset, Failure> {
        let base = release
            .upload_url
            .split('{')
            .next()
            .unwrap_or_default()
            .to_string();
        let target = format!("{base}?name={}", url_segment(name));
        let unusable = |reason: &str| Failure {
            detail: format!("the release's upload_url `{}` {reason}", release.upload_url),
            status: None,
        };
        let uri: Uri = target.parse().map_err(|_| unusable("is not a URL"))?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(unusable("is not absolute"));
        };
        let origin = format!("{scheme}://{authority}");
        if self
            .uploads
            .as_ref()
            .is_none_or(|(known, _)| *known != origin)
        {
            let client = client(
                origin.parse().map_err(|_| unusable("has no origin"))?,
                &self.token,
            )
            .map_err(|error| self.failure(&error))?;
            self.uploads = Some((origin, client));
        }
        let (_, uploads) = self.uploads.as_ref().expect("set above");
        let request = http::Request::post(uri)
            .header(http::header::CONTENT_TYPE, content_type)
            .header(http::header::CONTENT_LENGTH, bytes.len())
            .body(bytes)
            .map_err(|error| Failure {
                detail: error.to_string(),
                status: None,
            })?;
        let result = async {
            let response = uploads.execute(request).await?;
            let response = octocrab::map_github_error(response).await?;
            <Asset as octocrab::FromResponse>::from_response(response).await
        }
        .await;
        result.map_err(|error| self.failure(&error))
    }

    fn failure(&self, error: &octocrab::Error) -> Failure {
        let (detail, status) = describe(error, &self.token);
        Failure { detail, status }
    }
}

/// A failed request: what went wrong (token redacted) and the HTTP status if there was one.
#[derive(Debug)]
pub(super) struct Failure {
    pub detail: String,
    pub status: Option<u16>,
}

impl Failure {
    /// The error for `action` (e.g. "uploading x.whl to release v1 of o/r").
    pub fn into_error(self, action: String) -> PublishError {
        let help = match self.status {
            Some(401) => "check that GITHUB_TOKEN holds a valid, unexpired token",
            Some(403) => {
                "check that the token may write to the repository's releases (contents: write), or wait if this is a rate limit"
            }
            Some(404) => {
                "check OWNER/REPO and --api-url, and that the token can see the repository"
            }
            Some(422) => "the server refused the request as invalid; see its message",
            _ => "run the same command again: publishing resumes, skipping what was uploaded",
        };
        PublishError::Api {
            action,
            detail: self.detail,
            help,
        }
    }
}

fn client(base: Uri, token: &Token) -> octocrab::Result<Octocrab> {
    Octocrab::builder()
        .base_uri(base)?
        .personal_token(token.0.clone())
        .set_connect_timeout(Some(std::time::Duration::from_secs(30)))
        .set_read_timeout(Some(std::time::Duration::from_secs(300)))
        .add_header(
            http::header::USER_AGENT,
            concat!("wheelforge/", env!("CARGO_PKG_VERSION")).to_string(),
        )
        .build()
}

fn status_of(error: &octocrab::Error) -> Option<u16> {
    match error {
        octocrab::Error::GitHub { source, .. } => Some(source.status_code.as_u16()),
        _ => None,
    }
}

/// One line about `error`, with its causes, and the HTTP status if the server answered.
fn describe(error: &octocrab::Error, token: &Token) -> (String, Option<u16>) {
    let text = match error {
        octocrab::Error::GitHub { source, .. } => format!(
            "the server answered {}: {}",
            source.status_code,
            source.message.trim()
        ),
        other => {
            let mut text = other.to_string();
            let mut cause = std::error::Error::source(other);
            while let Some(error) = cause {
                let more = error.to_string();
                if !text.contains(&more) {
                    text = format!("{text}: {more}");
                }
                cause = error.source();
            }
            text
        }
    };
    (token.redact(&text.replace('\n', "; ")), status_of(error))
}

/// Percent-encodes a path segment or query value: every byte but `A-Z a-z 0-9 - . _ ~`
/// (RFC 3986's unreserved characters).
fn url_segment(text: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_not_in_debug_output_and_is_redacted() {
        let token = Token::new("ghp_secretvalue123").unwrap();
        assert_eq!(format!("{token:?}"), "Token(***)");
        assert_eq!(
            token.redact("Bearer ghp_secretvalue123 was refused"),
            "Bearer *** was refused"
        );
    }

    #[test]
    fn an_empty_token_is_no_token() {
        assert!(matches!(Token::new("  "), Err(PublishError::NoToken)));
    }

    #[test]
    fn names_and_tags_are_encoded_for_urls() {
        assert_eq!(url_segment("a+b c/d"), "a%2Bb%20c%2Fd");
        assert_eq!(
            url_segment("six-1.17.0-py3-none-any.whl"),
            "six-1.17.0-py3-none-any.whl"
        );
    }
}

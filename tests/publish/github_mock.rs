//! A stand-in for the GitHub REST API, enough for `wheelforge publish --github-release`: get a
//! release by tag (404 until created), create a release, list its assets (paginated), upload an
//! asset to the release's `upload_url` (a second listener, as `uploads.github.com` is a second
//! host), delete and rename assets, and download them at their `browser_download_url`, plus
//! the `expanded_assets` page. It checks the `Authorization` header on every API request, keeps
//! its state in memory, counts requests, and can fail one upload on purpose.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use serde_json::{Value, json};
use sha2::Digest;

pub const OWNER: &str = "octo-org";
pub const REPO: &str = "wheels";

#[derive(Debug, Clone)]
pub struct MockAsset {
    pub id: u64,
    pub name: String,
    /// `uploaded`, or `starter` for an upload that did not complete.
    pub state: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct MockRelease {
    pub id: u64,
    pub tag: String,
    pub assets: Vec<MockAsset>,
}

#[derive(Debug, Default)]
pub struct State {
    pub token: String,
    pub releases: Vec<MockRelease>,
    next_id: u64,
    /// Every request as `METHOD TARGET`, in order.
    pub log: Vec<String>,
    /// Upload requests received, failed ones included.
    pub upload_attempts: usize,
    /// Uploads stored complete.
    pub uploads: usize,
    pub deletes: usize,
    /// Requests refused for a missing or wrong token.
    pub unauthorized: usize,
    /// Fail the upload attempt with this number (from 1): keep half the bytes as a `starter`
    /// asset and answer 500, as an upload cut short leaves it.
    pub fail_upload: Option<usize>,
    /// Fail it by answering bytes that are not HTTP instead, as a connection cut midway does.
    pub break_connection: bool,
    /// Put the Authorization header the client sent into 401 messages (a careless server).
    pub echo_authorization: bool,
    /// Serve downloads with this type instead of the asset's (github.com: octet-stream).
    pub download_content_type: Option<String>,
}

impl State {
    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Adds a release (and its assets) as if it had been made before.
    pub fn seed_release(&mut self, tag: &str, assets: &[(&str, &[u8])]) {
        let id = self.next_id();
        let assets = assets
            .iter()
            .map(|(name, bytes)| MockAsset {
                id: self.next_id(),
                name: name.to_string(),
                state: "uploaded".to_string(),
                content_type: "application/octet-stream".to_string(),
                bytes: bytes.to_vec(),
            })
            .collect();
        self.releases.push(MockRelease {
            id,
            tag: tag.to_string(),
            assets,
        });
    }

    pub fn release(&self, tag: &str) -> &MockRelease {
        self.releases
            .iter()
            .find(|release| release.tag == tag)
            .unwrap_or_else(|| panic!("no release {tag}"))
    }
}

pub struct MockGitHub {
    pub api_url: String,
    pub uploads_url: String,
    state: Arc<Mutex<State>>,
    servers: Vec<Arc<tiny_http::Server>>,
    threads: Vec<JoinHandle<()>>,
}

impl MockGitHub {
    pub fn start(token: &str) -> MockGitHub {
        let state = Arc::new(Mutex::new(State {
            token: token.to_string(),
            ..State::default()
        }));
        let api = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let uploads = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let url = |server: &tiny_http::Server| {
            format!("http://{}", server.server_addr().to_ip().unwrap())
        };
        let urls = Arc::new((url(&api), url(&uploads)));
        let mut threads = Vec::new();
        for (server, is_uploads) in [(api.clone(), false), (uploads.clone(), true)] {
            let state = state.clone();
            let urls = urls.clone();
            threads.push(std::thread::spawn(move || {
                while let Ok(request) = server.recv() {
                    handle(&state, &urls.0, &urls.1, is_uploads, request);
                }
            }));
        }
        MockGitHub {
            api_url: urls.0.clone(),
            uploads_url: urls.1.clone(),
            state,
            servers: vec![api, uploads],
            threads,
        }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// `text` with this server's URLs replaced by `[API]` and `[UPLOADS]`, for snapshots.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.api_url, "[API]")
            .replace(&self.uploads_url, "[UPLOADS]")
    }
}

impl Drop for MockGitHub {
    fn drop(&mut self) {
        for server in &self.servers {
            server.unblock();
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// The status of a reply that is sent as garbage instead of HTTP.
const BROKEN: u16 = 0;

struct Reply {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

fn json_reply(status: u16, value: Value) -> Reply {
    Reply {
        status,
        content_type: "application/json; charset=utf-8".to_string(),
        body: value.to_string().into_bytes(),
    }
}

fn message(status: u16, text: &str) -> Reply {
    json_reply(
        status,
        json!({"message": text, "documentation_url": "https://docs.github.com/rest"}),
    )
}

fn handle(
    state: &Mutex<State>,
    api: &str,
    uploads: &str,
    is_uploads: bool,
    mut request: tiny_http::Request,
) {
    let method = request.method().as_str().to_string();
    let target = request.url().to_string();
    let authorization = request
        .headers()
        .iter()
        .find(|header| header.field.equiv("Authorization"))
        .map(|header| header.value.as_str().to_string());
    let content_type = request
        .headers()
        .iter()
        .find(|header| header.field.equiv("Content-Type"))
        .map_or_else(String::new, |header| header.value.as_str().to_string());
    let mut body = Vec::new();
    request.as_reader().read_to_end(&mut body).unwrap();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();

    let mut state = state.lock().unwrap();
    state.log.push(format!("{method} {target}"));
    let reply = if !is_uploads && matches!(segments.as_slice(), [_, _, "releases", ..]) {
        public(&state, &method, &segments)
    } else {
        let expected = [
            format!("Bearer {}", state.token),
            format!("token {}", state.token),
        ];
        if authorization
            .as_ref()
            .is_none_or(|got| !expected.contains(got))
        {
            state.unauthorized += 1;
            let mut text = "Bad credentials".to_string();
            if state.echo_authorization {
                text.push_str(&format!(
                    " (Authorization: {})",
                    authorization.as_deref().unwrap_or("none")
                ));
            }
            message(401, &text)
        } else if is_uploads {
            upload(
                &mut state,
                api,
                &method,
                &segments,
                query,
                (content_type, body),
            )
        } else {
            rest(&mut state, (api, uploads), &method, &segments, query, &body)
        }
    };
    drop(state);
    if reply.status == BROKEN {
        let mut writer = request.into_writer();
        let _ = writer.write_all(b"\x00\x00 connection reset\r\n\r\n");
        let _ = writer.flush();
        return;
    }
    let response = tiny_http::Response::from_data(reply.body)
        .with_status_code(reply.status)
        .with_header(
            tiny_http::Header::from_bytes("Content-Type", reply.content_type.as_bytes()).unwrap(),
        );
    let _ = request.respond(response);
}

/// Downloads and the expanded assets page: no token needed, as on github.com.
fn public(state: &State, method: &str, segments: &[&str]) -> Reply {
    let find = |tag: &str| state.releases.iter().find(|release| release.tag == tag);
    match (method, segments) {
        ("GET", [OWNER, REPO, "releases", "download", tag, name]) => {
            match find(tag).and_then(|r| r.assets.iter().find(|a| a.name == *name)) {
                Some(asset) if asset.state == "uploaded" => Reply {
                    status: 200,
                    content_type: state
                        .download_content_type
                        .clone()
                        .unwrap_or_else(|| asset.content_type.clone()),
                    body: asset.bytes.clone(),
                },
                _ => message(404, "Not Found"),
            }
        }
        ("GET", [OWNER, REPO, "releases", "expanded_assets", tag]) => match find(tag) {
            Some(release) => {
                let mut page = String::from("<!DOCTYPE html>\n<html><body><ul>\n");
                for asset in release.assets.iter().filter(|a| a.state == "uploaded") {
                    page.push_str(&format!(
                        "<li><a href=\"/{OWNER}/{REPO}/releases/download/{tag}/{name}\" rel=\"nofollow\">{name}</a></li>\n",
                        name = asset.name
                    ));
                }
                page.push_str("</ul></body></html>\n");
                Reply {
                    status: 200,
                    content_type: "text/html; charset=utf-8".to_string(),
                    body: page.into_bytes(),
                }
            }
            None => message(404, "Not Found"),
        },
        _ => message(404, "Not Found"),
    }
}

fn rest(
    state: &mut State,
    (api, uploads): (&str, &str),
    method: &str,
    segments: &[&str],
    query: &str,
    body: &[u8],
) -> Reply {
    let ["repos", OWNER, REPO, "releases", rest @ ..] = segments else {
        return message(404, "Not Found");
    };
    match (method, rest) {
        ("GET", ["tags", tag]) => match state.releases.iter().find(|r| r.tag == *tag) {
            Some(release) => json_reply(200, release_json(api, uploads, release)),
            None => message(404, "Not Found"),
        },
        ("POST", []) => {
            let request: Value = serde_json::from_slice(body).unwrap();
            let tag = request["tag_name"].as_str().unwrap().to_string();
            if state.releases.iter().any(|r| r.tag == tag) {
                return message(422, "Validation Failed: tag_name already_exists");
            }
            let id = state.next_id();
            state.releases.push(MockRelease {
                id,
                tag,
                assets: Vec::new(),
            });
            json_reply(
                201,
                release_json(api, uploads, state.releases.last().unwrap()),
            )
        }
        ("GET", [id, "assets"]) => {
            let Some(release) = state.releases.iter().find(|r| r.id.to_string() == *id) else {
                return message(404, "Not Found");
            };
            // Pages as GitHub numbers them: `per_page` (at most 100) from `page` 1.
            let parameter = |key: &str, default: usize| {
                query
                    .split('&')
                    .find_map(|pair| pair.strip_prefix(&format!("{key}=")))
                    .map_or(default, |value| value.parse().unwrap())
            };
            let per_page = parameter("per_page", 30).min(100);
            let page = parameter("page", 1);
            json_reply(
                200,
                Value::Array(
                    release
                        .assets
                        .iter()
                        .skip((page - 1) * per_page)
                        .take(per_page)
                        .map(|asset| asset_json(api, &release.tag, asset))
                        .collect(),
                ),
            )
        }
        ("DELETE", ["assets", id]) => {
            for release in &mut state.releases {
                if let Some(at) = release.assets.iter().position(|a| a.id.to_string() == *id) {
                    release.assets.remove(at);
                    state.deletes += 1;
                    return Reply {
                        status: 204,
                        content_type: "text/plain".to_string(),
                        body: Vec::new(),
                    };
                }
            }
            message(404, "Not Found")
        }
        ("PATCH", ["assets", id]) => {
            let request: Value = serde_json::from_slice(body).unwrap();
            let name = request["name"].as_str().unwrap().to_string();
            for release in &mut state.releases {
                if release
                    .assets
                    .iter()
                    .any(|a| a.name == name && a.id.to_string() != *id)
                {
                    return message(422, "Validation Failed: name already_exists");
                }
                if let Some(asset) = release.assets.iter_mut().find(|a| a.id.to_string() == *id) {
                    asset.name = name;
                    let json = asset_json(api, &release.tag, asset);
                    return json_reply(200, json);
                }
            }
            message(404, "Not Found")
        }
        _ => message(404, "Not Found"),
    }
}

fn upload(
    state: &mut State,
    api: &str,
    method: &str,
    segments: &[&str],
    query: &str,
    (content_type, body): (String, Vec<u8>),
) -> Reply {
    let ("POST", ["repos", OWNER, REPO, "releases", id, "assets"]) = (method, segments) else {
        return message(404, "Not Found");
    };
    let Some(name) = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("name="))
        .map(percent_decode)
    else {
        return message(422, "Validation Failed: name is missing");
    };
    state.upload_attempts += 1;
    let attempt = state.upload_attempts;
    let fail = state.fail_upload == Some(attempt);
    let asset_id = state.next_id();
    let Some(release) = state.releases.iter_mut().find(|r| r.id.to_string() == *id) else {
        return message(404, "Not Found");
    };
    if release.assets.iter().any(|a| a.name == name) {
        return message(422, "Validation Failed: name already_exists");
    }
    let mut asset = MockAsset {
        id: asset_id,
        name,
        state: "uploaded".to_string(),
        content_type,
        bytes: body,
    };
    if fail {
        asset.bytes.truncate(asset.bytes.len() / 2);
        asset.state = "starter".to_string();
        release.assets.push(asset);
        if state.break_connection {
            return Reply {
                status: BROKEN,
                content_type: String::new(),
                body: Vec::new(),
            };
        }
        return message(500, "injected failure");
    }
    let tag = release.tag.clone();
    let json = asset_json(api, &tag, &asset);
    release.assets.push(asset);
    state.uploads += 1;
    json_reply(201, json)
}

fn release_json(api: &str, uploads: &str, release: &MockRelease) -> Value {
    let id = release.id;
    let tag = &release.tag;
    let base = format!("{api}/repos/{OWNER}/{REPO}/releases/{id}");
    json!({
        "url": base,
        "html_url": format!("{api}/{OWNER}/{REPO}/releases/tag/{tag}"),
        "assets_url": format!("{base}/assets"),
        "upload_url": format!("{uploads}/repos/{OWNER}/{REPO}/releases/{id}/assets{{?name,label}}"),
        "tarball_url": null,
        "zipball_url": null,
        "id": id,
        "node_id": format!("RE_{id}"),
        "tag_name": tag,
        "target_commitish": "main",
        "name": tag,
        "body": null,
        "draft": false,
        "prerelease": false,
        "created_at": "2026-01-01T00:00:00Z",
        "published_at": "2026-01-01T00:00:00Z",
        "assets": release.assets.iter().map(|a| asset_json(api, tag, a)).collect::<Vec<_>>(),
    })
}

fn asset_json(api: &str, tag: &str, asset: &MockAsset) -> Value {
    let digest = (asset.state == "uploaded")
        .then(|| format!("sha256:{}", hex::encode(sha2::Sha256::digest(&asset.bytes))));
    json!({
        "url": format!("{api}/repos/{OWNER}/{REPO}/releases/assets/{}", asset.id),
        "browser_download_url": format!("{api}/{OWNER}/{REPO}/releases/download/{tag}/{}", asset.name),
        "id": asset.id,
        "node_id": format!("RA_{}", asset.id),
        "name": asset.name,
        "label": null,
        "state": asset.state,
        "content_type": asset.content_type,
        "size": asset.bytes.len(),
        "digest": digest,
        "download_count": 0,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "uploader": null,
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

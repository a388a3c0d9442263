//! A static HTTP server for a wheel index root, meant for loopback addresses and tests.
//!
//! This module owns answering HTTP requests for the files under ROOT with tiny_http: content
//! types, PEP 691 content negotiation on `/simple/` and `/simple/<project>/`, redirects to the
//! normalized project URL, HEAD, and refusing every path that would leave ROOT. It serves the
//! same files a plain static host (GitHub Pages) would, so what works here works there. It does
//! not write or regenerate the index (see `crate::index`), has no TLS, and does not log: a
//! caller that wants a request log passes an observer to `Server::on_request`.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::tags::normalize_name;

/// Threads answering requests; a slow wheel download does not hold up page requests.
const WORKERS: usize = 4;

const SIMPLE_JSON: &str = "application/vnd.pypi.simple.v1+json";
const SIMPLE_HTML: &str = "application/vnd.pypi.simple.v1+html";
const TEXT_HTML: &str = "text/html; charset=utf-8";
const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
const OCTET_STREAM: &str = "application/octet-stream";

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot serve {path}: {source}; create the index first (e.g. by adding a wheel to it)")]
    Root { path: PathBuf, source: io::Error },
    #[error(
        "cannot listen on {address} to serve {root}: {source}; pick another port, or port 0 for any free one"
    )]
    Bind {
        address: SocketAddr,
        root: PathBuf,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(
        "the listening socket on {address} for {root} failed: {source}; start the server again"
    )]
    Accept {
        address: SocketAddr,
        root: PathBuf,
        source: io::Error,
    },
}

/// One answered request, as passed to the `on_request` observer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub method: String,
    /// The request target as sent, e.g. `/simple/six/`.
    pub url: String,
    pub accept: Option<String>,
    pub status: u16,
    pub content_type: Option<String>,
}

type Observer = Arc<dyn Fn(&Served) + Send + Sync>;

/// A bound, not yet running, server for one index root.
pub struct Server {
    http: Arc<tiny_http::Server>,
    root: PathBuf,
    address: SocketAddr,
    stopped: Arc<AtomicBool>,
    observer: Option<Observer>,
}

/// Stops a running `Server` from another thread; `run` then returns `Ok(())`.
#[derive(Clone)]
pub struct Stopper {
    http: Arc<tiny_http::Server>,
    stopped: Arc<AtomicBool>,
}

impl Stopper {
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        for _ in 0..WORKERS {
            self.http.unblock();
        }
    }
}

impl Server {
    /// Binds `address` (port 0 picks a free port) to serve the directory `root`.
    pub fn bind(root: &Path, address: SocketAddr) -> Result<Server, ServeError> {
        let root = fs_err::canonicalize(root).map_err(|source| ServeError::Root {
            path: root.to_path_buf(),
            source,
        })?;
        let http = tiny_http::Server::http(address).map_err(|source| ServeError::Bind {
            address,
            root: root.clone(),
            source,
        })?;
        let address = http.server_addr().to_ip().unwrap_or(address);
        Ok(Server {
            http: Arc::new(http),
            root,
            address,
            stopped: Arc::new(AtomicBool::new(false)),
            observer: None,
        })
    }

    /// The address actually bound, with the port chosen for port 0.
    pub fn local_address(&self) -> SocketAddr {
        self.address
    }

    /// Calls `observer` for every request, just before answering it, from the worker thread
    /// that answers it.
    pub fn on_request(mut self, observer: impl Fn(&Served) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    pub fn stopper(&self) -> Stopper {
        Stopper {
            http: self.http.clone(),
            stopped: self.stopped.clone(),
        }
    }

    /// Serves until a `Stopper` stops it or the process ends.
    pub fn run(self) -> Result<(), ServeError> {
        let failure: Mutex<Option<io::Error>> = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..WORKERS {
                scope.spawn(|| {
                    loop {
                        match self.http.recv() {
                            Ok(request) => self.answer(request),
                            Err(error) => {
                                // Either a Stopper unblocked us, or the listener died: then stop
                                // the other workers too and report it.
                                if !self.stopped.swap(true, Ordering::SeqCst) {
                                    *failure.lock().unwrap_or_else(|e| e.into_inner()) =
                                        Some(error);
                                    self.stopper().stop();
                                }
                                return;
                            }
                        }
                    }
                });
            }
        });
        match failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(source) => Err(ServeError::Accept {
                address: self.address,
                root: self.root.clone(),
                source,
            }),
            None => Ok(()),
        }
    }

    fn answer(&self, request: tiny_http::Request) {
        let accept: Vec<&str> = request
            .headers()
            .iter()
            .filter(|header| header.field.equiv("Accept"))
            .map(|header| header.value.as_str())
            .collect();
        let accept = (!accept.is_empty()).then(|| accept.join(", "));
        let method = request.method().as_str().to_string();
        let url = request.url().to_string();
        let reply = route(&self.root, &method, &url, accept.as_deref());
        let (response, status, content_type) = build_response(reply);
        if let Some(observer) = &self.observer {
            observer(&Served {
                method,
                url,
                accept,
                status,
                content_type,
            });
        }
        // A failure here means the client went away; there is nobody left to tell.
        let _ = request.respond(response);
    }
}

/// What to answer, decided from the request alone.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    File {
        path: PathBuf,
        content_type: &'static str,
        negotiated: bool,
    },
    Redirect(String),
    Status(u16, String),
}

fn route(root: &Path, method: &str, target: &str, accept: Option<&str>) -> Reply {
    if method != "GET" && method != "HEAD" {
        return Reply::Status(405, format!("{method} is not supported: use GET or HEAD"));
    }
    let mut path = target.split(['?', '#']).next().unwrap_or_default();
    if let Some((_, rest)) = path.split_once("://").filter(|_| !path.starts_with('/')) {
        path = rest.find('/').map_or("/", |slash| &rest[slash..]); // absolute-form target
    }
    let Some(decoded) = percent_decode(path).filter(|p| p.starts_with('/')) else {
        return Reply::Status(400, format!("{path} is not a valid URL path"));
    };
    let trailing_slash = decoded.ends_with('/');
    let segments: Vec<&str> = decoded.split('/').filter(|s| !s.is_empty()).collect();
    for segment in &segments {
        if matches!(*segment, "." | "..") || segment.contains(['\\', '\0']) {
            return Reply::Status(400, format!("{path} leaves the index root"));
        }
        if segment.starts_with('.') {
            return not_found(path); // The lock file and temporary files are not published.
        }
    }
    let simple = root.join("simple");
    match segments.as_slice() {
        ["simple"] if trailing_slash => negotiate(root, path, &simple, accept),
        ["simple"] => Reply::Redirect("/simple/".to_string()),
        ["simple", name] if trailing_slash || !simple.join(name).is_file() => {
            let normalized = normalize_name(name);
            if normalized != *name || !trailing_slash {
                Reply::Redirect(format!(
                    "/simple/{}/",
                    crate::index::url_segment(&normalized)
                ))
            } else {
                negotiate(root, path, &simple.join(name), accept)
            }
        }
        _ => static_file(root, path, &segments, trailing_slash),
    }
}

fn not_found(path: &str) -> Reply {
    Reply::Status(404, format!("{path} is not in this index"))
}

/// The canonical form of `path` if it exists inside `root` (which is canonical): symbolic
/// links that lead out of the root are refused.
fn inside(root: &Path, path: &Path) -> Option<PathBuf> {
    fs_err::canonicalize(path)
        .ok()
        .filter(|real| real.starts_with(root))
}

fn negotiate(root: &Path, path: &str, dir: &Path, accept: Option<&str>) -> Reply {
    let Some(format) = choose_format(accept) else {
        return Reply::Status(
            406,
            format!(
                "none of the accepted types is served here; accept {SIMPLE_JSON}, {SIMPLE_HTML} or text/html"
            ),
        );
    };
    let file = if format == SIMPLE_JSON {
        "index.json"
    } else {
        "index.html"
    };
    match inside(root, &dir.join(file)).filter(|path| path.is_file()) {
        Some(path) => Reply::File {
            path,
            content_type: format,
            negotiated: true,
        },
        None => not_found(path),
    }
}

fn static_file(root: &Path, path: &str, segments: &[&str], trailing_slash: bool) -> Reply {
    let joined = segments.iter().fold(root.to_path_buf(), |p, s| p.join(s));
    let Some(real) = inside(root, &joined) else {
        return not_found(path);
    };
    if real.is_dir() {
        let index = real.join("index.html");
        return match (index.is_file(), trailing_slash) {
            (true, true) => Reply::File {
                path: index,
                content_type: TEXT_HTML,
                negotiated: false,
            },
            (true, false) => Reply::Redirect(format!("{path}/")),
            (false, _) => not_found(path), // No directory listings.
        };
    }
    if trailing_slash {
        return not_found(path);
    }
    let name = segments.last().copied().unwrap_or_default();
    // `.metadata` is a wheel's METADATA file: UTF-8 text (core metadata 2.1+), so a person can
    // read it in a browser; pip checks its bytes against the page's hash and ignores the type.
    let content_type = match name.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => TEXT_HTML,
        Some("json") if segments.first() == Some(&"simple") && name == "index.json" => SIMPLE_JSON,
        Some("json") => "application/json",
        Some("metadata" | "txt") => TEXT_PLAIN,
        _ => OCTET_STREAM, // Wheels included: opaque bytes, never transformed.
    };
    Reply::File {
        path: real,
        content_type,
        negotiated: false,
    }
}

/// PEP 691 negotiation: the most acceptable of JSON v1, HTML v1 and text/html, by q-value,
/// then by how specifically the client named it, then preferring text/html as PyPI does.
/// No Accept header means text/html; `None` means nothing acceptable (406).
fn choose_format(accept: Option<&str>) -> Option<&'static str> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(TEXT_HTML);
    };
    let ranges: Vec<(String, u16)> = accept
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';');
            let media = parts.next()?.trim().to_ascii_lowercase();
            let mut quality = 1000;
            for parameter in parts {
                if let Some((key, value)) = parameter.split_once('=')
                    && key.trim().eq_ignore_ascii_case("q")
                {
                    let value: f32 = value.trim().parse().ok()?;
                    quality = (value.clamp(0.0, 1.0) * 1000.0).round() as u16;
                }
            }
            (!media.is_empty()).then_some((media, quality))
        })
        .collect();
    // (content type, names that select it, its type) in order of preference on ties.
    let formats: [(&'static str, [&str; 2], &str); 3] = [
        (
            SIMPLE_JSON,
            [SIMPLE_JSON, "application/vnd.pypi.simple.latest+json"],
            "application",
        ),
        (
            SIMPLE_HTML,
            [SIMPLE_HTML, "application/vnd.pypi.simple.latest+html"],
            "application",
        ),
        (TEXT_HTML, ["text/html", "text/html"], "text"),
    ];
    let mut best: Option<((u16, u8, usize), &'static str)> = None;
    for (preference, (content_type, names, major)) in formats.into_iter().enumerate() {
        // The most specific range that matches this format decides its quality.
        let mut matched: Option<(u8, u16)> = None;
        for (media, quality) in &ranges {
            let specificity = if names.contains(&media.as_str()) {
                3
            } else if media.strip_suffix("/*") == Some(major) {
                2
            } else if media == "*/*" {
                1
            } else {
                continue;
            };
            if matched.is_none_or(|(s, q)| (specificity, *quality) > (s, q)) {
                matched = Some((specificity, *quality));
            }
        }
        if let Some((specificity, quality)) = matched
            && quality > 0
        {
            let key = (quality, specificity, preference);
            if best.is_none_or(|(best_key, _)| key > best_key) {
                best = Some((key, content_type));
            }
        }
    }
    best.map(|(_, content_type)| content_type)
}

fn build_response(reply: Reply) -> (tiny_http::ResponseBox, u16, Option<String>) {
    let text = |status: u16, message: String| {
        let response = tiny_http::Response::from_string(format!("{status} {message}\n"))
            .with_status_code(status);
        (with_header(response, "Content-Type", TEXT_PLAIN), status)
    };
    let (response, status) = match reply {
        Reply::File {
            path,
            content_type,
            negotiated,
        } => match fs_err::File::open(&path) {
            Ok(file) => {
                // Always send Content-Length (as static hosts do) instead of chunking.
                let mut response = tiny_http::Response::from_file(file.into_file())
                    .with_chunked_threshold(usize::MAX);
                response = with_header(response, "Content-Type", content_type);
                if negotiated {
                    response = with_header(response, "Vary", "Accept");
                }
                (response.boxed(), 200)
            }
            Err(_) => {
                let (response, status) = text(404, format!("{} vanished", path.display()));
                (response.boxed(), status)
            }
        },
        Reply::Redirect(location) => {
            let (response, _) = text(301, format!("moved to {location}"));
            (with_header(response, "Location", &location).boxed(), 301)
        }
        Reply::Status(405, message) => {
            let (response, status) = text(405, message);
            (with_header(response, "Allow", "GET, HEAD").boxed(), status)
        }
        Reply::Status(status, message) => {
            let (response, status) = text(status, message);
            (response.boxed(), status)
        }
    };
    let content_type = response
        .headers()
        .iter()
        .find(|header| header.field.equiv("Content-Type"))
        .map(|header| header.value.to_string());
    (response, status, content_type)
}

fn with_header<R: io::Read>(
    response: tiny_http::Response<R>,
    name: &str,
    value: &str,
) -> tiny_http::Response<R> {
    match tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
        Ok(header) => response.with_header(header),
        Err(()) => response,
    }
}

/// Decodes `%XX` escapes; `None` for a malformed escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    // percent_decode_str keeps a `%` that starts no escape as it is; a request path must not.
    let malformed = text.match_indices('%').any(|(at, _)| {
        !text
            .get(at + 1..at + 3)
            .is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
    });
    if malformed {
        return None;
    }
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(std::borrow::Cow::into_owned)
}

#[cfg(test)]
mod tests;

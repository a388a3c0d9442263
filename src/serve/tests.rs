use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::*;
use crate::index::Index;
use crate::index::testing::make_wheel;

struct Running {
    address: SocketAddr,
    stopper: Stopper,
    thread: Option<std::thread::JoinHandle<Result<(), ServeError>>>,
    log: Arc<Mutex<Vec<Served>>>,
    _work: tempfile::TempDir,
    root: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stopper.stop();
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap().unwrap();
        }
    }
}

/// An index with `demo-pkg` 1.0 (Requires-Python >=3.8), served on a free loopback port.
fn start() -> Running {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("index");
    let index = Index::open(&root).unwrap();
    index
        .add_wheel(&make_wheel(work.path(), "Demo_Pkg", "1.0", Some(">=3.8")))
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let server = Server::bind(&root, "127.0.0.1:0".parse().unwrap())
        .unwrap()
        .on_request({
            let log = log.clone();
            move |served| log.lock().unwrap().push(served.clone())
        });
    let address = server.local_address();
    assert_ne!(address.port(), 0);
    let stopper = server.stopper();
    let thread = Some(std::thread::spawn(move || server.run()));
    Running {
        address,
        stopper,
        thread,
        log,
        _work: work,
        root,
    }
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// One raw HTTP/1.1 request over a fresh connection.
fn request(server: &Running, method: &str, path: &str, accept: Option<&str>) -> Answer {
    let mut stream = TcpStream::connect(server.address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(accept) = accept {
        text.push_str(&format!("Accept: {accept}\r\n"));
    }
    text.push_str("\r\n");
    stream.write_all(text.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|line| {
            let (key, value) = line.split_once(':').unwrap();
            (key.trim().to_string(), value.trim().to_string())
        })
        .collect();
    Answer {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

const PIP_ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";

#[test]
fn choose_format_follows_q_values_and_specificity() {
    let cases: [(Option<&str>, Option<&str>); 12] = [
        (None, Some(TEXT_HTML)),
        (Some(""), Some(TEXT_HTML)),
        (Some("*/*"), Some(TEXT_HTML)),
        (Some(PIP_ACCEPT), Some(SIMPLE_JSON)),
        (
            Some("application/vnd.pypi.simple.v1+html"),
            Some(SIMPLE_HTML),
        ),
        (
            Some("application/vnd.pypi.simple.latest+json"),
            Some(SIMPLE_JSON),
        ),
        (Some("text/html"), Some(TEXT_HTML)),
        (
            Some("Application/Vnd.Pypi.Simple.V1+JSON;q=0.5, text/html;q=0.9"),
            Some(TEXT_HTML),
        ),
        (
            Some("application/vnd.pypi.simple.v1+json, */*;q=0.5"),
            Some(SIMPLE_JSON),
        ),
        (Some("*/*;q=0.2, text/html;q=0"), Some(SIMPLE_HTML)),
        (Some("image/png, application/json"), None),
        (Some("text/html;q=0"), None),
    ];
    for (accept, expected) in cases {
        assert_eq!(choose_format(accept), expected, "Accept: {accept:?}");
    }
}

#[test]
fn simple_pages_are_negotiated() {
    let server = start();
    let html = request(&server, "GET", "/simple/demo-pkg/", None);
    assert_eq!(html.status, 200);
    assert_eq!(html.header("Content-Type"), Some(TEXT_HTML));
    assert_eq!(html.header("Vary"), Some("Accept"));
    assert!(html.body.starts_with(b"<!DOCTYPE html>"));

    let json = request(&server, "GET", "/simple/demo-pkg/", Some(PIP_ACCEPT));
    assert_eq!(json.status, 200);
    assert_eq!(json.header("Content-Type"), Some(SIMPLE_JSON));
    assert_eq!(json.header("Vary"), Some("Accept"));
    let page: serde_json::Value = serde_json::from_slice(&json.body).unwrap();
    assert_eq!(page["name"], "demo-pkg");
    assert_eq!(page["files"][0]["requires-python"], ">=3.8");

    let v1_html = request(&server, "GET", "/simple/demo-pkg/", Some(SIMPLE_HTML));
    assert_eq!(v1_html.header("Content-Type"), Some(SIMPLE_HTML));
    assert_eq!(v1_html.body, html.body);

    let root = request(&server, "GET", "/simple/", Some(SIMPLE_JSON));
    let page: serde_json::Value = serde_json::from_slice(&root.body).unwrap();
    assert_eq!(page["projects"], serde_json::json!([{"name": "demo-pkg"}]));
    let root = request(&server, "GET", "/simple/", Some("*/*"));
    assert_eq!(root.header("Content-Type"), Some(TEXT_HTML));
    assert!(String::from_utf8_lossy(&root.body).contains(r#"<a href="demo-pkg/">"#));

    let refused = request(&server, "GET", "/simple/demo-pkg/", Some("image/png"));
    assert_eq!(refused.status, 406);

    // The page files themselves are plain static files.
    let direct = request(&server, "GET", "/simple/demo-pkg/index.json", None);
    assert_eq!(direct.header("Content-Type"), Some(SIMPLE_JSON));
    let direct = request(&server, "GET", "/simple/index.html", Some(SIMPLE_JSON));
    assert_eq!(direct.status, 200);
    assert_eq!(direct.header("Content-Type"), Some(TEXT_HTML));
}

#[test]
fn project_urls_redirect_to_the_normalized_name() {
    let server = start();
    for (path, location) in [
        ("/simple", "/simple/"),
        ("/simple/demo-pkg", "/simple/demo-pkg/"),
        ("/simple/Demo_Pkg/", "/simple/demo-pkg/"),
        ("/simple/demo.pkg?x=1", "/simple/demo-pkg/"),
        ("/simple/Demo%5FPkg", "/simple/demo-pkg/"),
    ] {
        let answer = request(&server, "GET", path, None);
        assert_eq!(answer.status, 301, "{path}");
        assert_eq!(answer.header("Location"), Some(location), "{path}");
    }
}

#[test]
fn files_are_served_with_their_types_and_head_works() {
    let server = start();
    let wheel = "/packages/demo_pkg-1.0-py3-none-any.whl";
    let bytes = std::fs::read(server.root.join(&wheel[1..])).unwrap();
    let get = request(&server, "GET", wheel, None);
    assert_eq!(get.status, 200);
    assert_eq!(get.header("Content-Type"), Some(OCTET_STREAM));
    assert_eq!(get.body, bytes);

    let head = request(&server, "HEAD", wheel, None);
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("Content-Length"),
        Some(bytes.len().to_string().as_str())
    );
    assert!(head.body.is_empty());
    let head = request(&server, "HEAD", "/simple/demo-pkg/", Some(SIMPLE_JSON));
    assert_eq!(head.header("Content-Type"), Some(SIMPLE_JSON));
    assert!(head.body.is_empty());

    let metadata = request(&server, "GET", &format!("{wheel}.metadata"), None);
    assert_eq!(metadata.header("Content-Type"), Some(TEXT_PLAIN));
    assert!(metadata.body.starts_with(b"Metadata-Version: 2.1\n"));

    let post = request(&server, "POST", wheel, None);
    assert_eq!(post.status, 405);
    assert_eq!(post.header("Allow"), Some("GET, HEAD"));

    let log = server.log.lock().unwrap().clone();
    assert_eq!(log.len(), 5);
    assert_eq!(log[0].url, wheel);
    assert_eq!(log[2].accept.as_deref(), Some(SIMPLE_JSON));
    assert_eq!(log[2].content_type.as_deref(), Some(SIMPLE_JSON));
    assert_eq!(log[4].status, 405);
}

#[test]
fn unknown_paths_are_404() {
    let server = start();
    for path in [
        "/",
        "/nope",
        "/packages/",
        "/packages",
        "/packages/nope-1.0-py3-none-any.whl",
        "/simple/nope/",
        "/simple/demo-pkg/index.html/",
        "/.wheelforge-index.lock",
        "/packages/.hidden",
    ] {
        assert_eq!(request(&server, "GET", path, None).status, 404, "{path}");
    }
}

#[test]
fn paths_outside_the_root_are_refused() {
    let server = start();
    let secret = server.root.parent().unwrap().join("secret.txt");
    std::fs::write(&secret, b"secret").unwrap();
    for path in [
        "/../secret.txt",
        "/packages/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/packages/%2E%2E%2F%2E%2E%2Fsecret.txt",
        "/simple/..%5c..%5csecret.txt",
        "/packages/%zz",
        "/packages/%00",
    ] {
        let answer = request(&server, "GET", path, None);
        assert_eq!(answer.status, 400, "{path}");
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&secret, server.root.join("link.txt")).unwrap();
        assert_eq!(request(&server, "GET", "/link.txt", None).status, 404);
    }
}

#[test]
fn binding_a_missing_root_names_it() {
    let work = tempfile::tempdir().unwrap();
    let missing = work.path().join("missing");
    let error = Server::bind(&missing, "127.0.0.1:0".parse().unwrap())
        .err()
        .unwrap();
    assert!(error.to_string().contains("missing"), "{error}");
}

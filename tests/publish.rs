//! `wheelforge publish`, end to end with the real binary and stock pip: to a directory served
//! by a plain static server (`python -m http.server`), and to a GitHub release on a local
//! stand-in for the REST API (`publish/github_mock.rs`) that counts uploads and can fail one.
//!
//! The wheels are built once per run from the real six and python-dateutil recipes (their
//! sdists come through pip into a cache under the target directory, as in pip_install.rs).

mod common;
#[path = "publish/github_mock.rs"]
mod github_mock;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

use github_mock::{MockGitHub, OWNER, REPO};

const SIX: &str = "six-1.17.0-py3-none-any.whl";
const DATEUTIL: &str = "python_dateutil-2.9.0.post0-py3-none-any.whl";
const TOKEN: &str = "ghp_test0123456789secret";

/// An index holding six and python-dateutil, built once for all tests here.
fn dist() -> &'static Path {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| {
        let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("publish-work");
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let output = Command::new(env!("CARGO_BIN_EXE_wheelforge"))
            .arg("--recipes")
            .arg(manifest.join("recipes"))
            .arg("--out")
            .arg(work.join("dist"))
            .arg("--build-dir")
            .arg(work.join("build"))
            .env(
                "WHEELFORGE_CACHE_DIR",
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("wheelforge-cache"),
            )
            .args(["build", "python-dateutil"])
            .output()
            .unwrap();
        assert!(output.status.success(), "build failed: {}", text(&output));
        work.join("dist")
    })
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `wheelforge --out DIST publish ARGS`, with no GitHub settings from the environment.
fn publish(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wheelforge"));
    command
        .arg("--out")
        .arg(dist())
        .arg("publish")
        .args(args)
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_API_URL")
        .env_remove("WHEELFORGE_LOG");
    command
}

fn release_publish(mock: &MockGitHub, extra: &[&str]) -> Output {
    publish(&[
        "--github-release",
        &format!("{OWNER}/{REPO}"),
        "--tag",
        "v1",
    ])
    .args(["--api-url", &mock.api_url])
    .args(extra)
    .env("GITHUB_TOKEN", TOKEN)
    .output()
    .unwrap()
}

fn files_under(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in fs_err::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut files = Vec::new();
    walk(root, root, &mut files);
    files.sort();
    files
}

fn assert_installed(deps: &Path) {
    assert_eq!(
        common::dist_infos(deps),
        [
            "python_dateutil-2.9.0.post0.dist-info",
            "six-1.17.0.dist-info"
        ]
    );
    assert!(deps.join("dateutil/parser/__init__.py").is_file());
    assert!(deps.join("six.py").is_file());
}

/// `python3 -m http.server` on a free loopback port, serving `dir`; returns it and its URL.
fn static_server(dir: &Path) -> (Child, String) {
    let mut child = Command::new("python3")
        .args([
            "-u",
            "-m",
            "http.server",
            "0",
            "--bind",
            "127.0.0.1",
            "--directory",
        ])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = common::loopback_url(&mut child);
    (child, url)
}

/// Stock pip (as a consumer runs it) installs `project` into `deps` from the site at `site`,
/// served over HTTP on 127.0.0.1, with the index at `index_path` under the site's URL.
fn pip_install_from_site(site: &Path, index_path: &str, project: &str, deps: &Path) {
    let (mut server, url) = static_server(site);
    let index_url = format!("{url}{index_path}");
    let pip = common::consumer_pip(deps, &["--index-url", &index_url], project);
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(pip.status.success(), "pip failed:\n{}", text(&pip));
}

#[test]
fn publish_to_dir_writes_a_static_site_that_stock_pip_installs_from() {
    let work = tempfile::tempdir().unwrap();
    let site = work.path().join("site");
    let output = publish(&["--to-dir"]).arg(&site).output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!(
            "published {}: 2 projects, 2 wheels, 13 files\n",
            site.display()
        )
    );

    assert_eq!(
        files_under(&site),
        [
            ".nojekyll".to_string(),
            ".wheelforge-site".to_string(),
            "index.html".to_string(),
            format!("packages/{DATEUTIL}"),
            format!("packages/{DATEUTIL}.metadata"),
            format!("packages/{SIX}"),
            format!("packages/{SIX}.metadata"),
            "simple/index.html".to_string(),
            "simple/index.json".to_string(),
            "simple/python-dateutil/index.html".to_string(),
            "simple/python-dateutil/index.json".to_string(),
            "simple/six/index.html".to_string(),
            "simple/six/index.json".to_string(),
        ]
    );
    for file in [
        format!("packages/{SIX}"),
        "simple/six/index.html".to_string(),
    ] {
        assert_eq!(
            fs_err::read(site.join(&file)).unwrap(),
            fs_err::read(dist().join(&file)).unwrap(),
            "{file} differs from the index"
        );
    }
    // Nothing left beside the site but the publish lock.
    assert_eq!(
        files_under(work.path())
            .into_iter()
            .filter(|f| !f.starts_with("site/"))
            .collect::<Vec<_>>(),
        [".site.wheelforge-publish.lock"]
    );
    insta::assert_snapshot!(fs_err::read_to_string(site.join("index.html")).unwrap());

    let deps = work.path().join("deps");
    pip_install_from_site(&site, "simple/", "python-dateutil", &deps);
    assert_installed(&deps);

    // Reproducible: publishing the same index again leaves the site alone.
    let again = publish(&["--to-dir"]).arg(&site).output().unwrap();
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).starts_with("unchanged "),
        "{}",
        text(&again)
    );
}

#[test]
fn publish_to_dir_replaces_its_own_site_and_refuses_other_directories() {
    let work = tempfile::tempdir().unwrap();
    let other = work.path().join("other");
    fs_err::create_dir(&other).unwrap();
    fs_err::write(other.join("keep.txt"), "mine").unwrap();
    let refused = publish(&["--to-dir"]).arg(&other).output().unwrap();
    assert!(!refused.status.success());
    insta::assert_snapshot!(
        String::from_utf8_lossy(&refused.stderr)
            .replace(&work.path().display().to_string(), "[WORK]")
    );
    assert_eq!(files_under(&other), ["keep.txt"]);

    // An empty directory is fine; a site of ours is replaced whole (a stale file goes).
    let site = work.path().join("site");
    fs_err::create_dir(&site).unwrap();
    let first = publish(&["--to-dir"]).arg(&site).output().unwrap();
    assert!(first.status.success(), "{}", text(&first));
    fs_err::write(site.join("packages/stale-1.0-py3-none-any.whl"), "old").unwrap();
    let second = publish(&["--to-dir"]).arg(&site).output().unwrap();
    assert!(second.status.success(), "{}", text(&second));
    assert!(String::from_utf8_lossy(&second.stdout).starts_with("published "));
    assert!(!site.join("packages/stale-1.0-py3-none-any.whl").exists());
    assert_eq!(files_under(&site).len(), 13);
}

#[test]
fn publish_to_dir_carries_variant_indexes_and_library_archives() {
    // An index with a variant index (as `build NAME --variant fast` leaves it) and a library
    // archive (as a static_library recipe leaves it).
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("dist");
    for file in files_under(dist()) {
        if !file.ends_with(".lock") {
            fs_err::create_dir_all(out.join(&file).parent().unwrap()).unwrap();
            fs_err::copy(dist().join(&file), out.join(&file)).unwrap();
        }
    }
    let variant = out.join("variants/fast");
    fs_err::create_dir_all(variant.join("packages")).unwrap();
    fs_err::copy(
        dist().join("packages").join(SIX),
        variant.join("packages").join(SIX),
    )
    .unwrap();
    let index = Command::new(env!("CARGO_BIN_EXE_wheelforge"))
        .arg("--out")
        .arg(&variant)
        .arg("index")
        .output()
        .unwrap();
    assert!(index.status.success(), "{}", text(&index));
    fs_err::create_dir_all(out.join("libraries")).unwrap();
    fs_err::write(
        out.join("libraries/lib-1.0-wasi_0_2_wasm32.tar.gz"),
        "archive",
    )
    .unwrap();
    fs_err::write(out.join("libraries/.partial"), "temporary").unwrap();

    let site = work.path().join("site");
    let output = Command::new(env!("CARGO_BIN_EXE_wheelforge"))
        .arg("--out")
        .arg(&out)
        .args(["publish", "--to-dir"])
        .arg(&site)
        .env_remove("GITHUB_TOKEN")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let files = files_under(&site);
    for file in [
        format!("variants/fast/packages/{SIX}"),
        format!("variants/fast/packages/{SIX}.metadata"),
        "variants/fast/simple/six/index.html".to_string(),
        "variants/fast/simple/index.json".to_string(),
        "libraries/lib-1.0-wasi_0_2_wasm32.tar.gz".to_string(),
        format!("packages/{DATEUTIL}"),
    ] {
        assert!(files.contains(&file), "{file} not in {files:?}");
    }
    assert!(!files.iter().any(|f| f.contains(".partial")), "{files:?}");
    // 13 files of the main site, 6 of the variant (wheel, metadata, 4 pages), 1 archive.
    assert_eq!(files.len(), 20, "{files:?}");

    // pip installs the variant from its own index URL on the site.
    let deps = work.path().join("deps");
    pip_install_from_site(&site, "variants/fast/simple/", "six", &deps);
    assert!(deps.join("six.py").is_file());
}

#[test]
fn release_publish_uploads_the_wheels_then_the_page_and_again_is_a_no_op() {
    let mock = MockGitHub::start(TOKEN);
    let first = release_publish(&mock, &[]);
    assert!(first.status.success(), "{}", text(&first));
    insta::assert_snapshot!(mock.redact(&String::from_utf8_lossy(&first.stdout)));
    {
        let state = mock.state();
        let release = state.release("v1");
        let mut names: Vec<&str> = release.assets.iter().map(|a| a.name.as_str()).collect();
        names.sort();
        assert_eq!(names, ["index.html", DATEUTIL, SIX]);
        assert!(release.assets.iter().all(|a| a.state == "uploaded"));
        for wheel in [SIX, DATEUTIL] {
            let asset = release.assets.iter().find(|a| a.name == wheel).unwrap();
            assert_eq!(
                asset.bytes,
                fs_err::read(dist().join("packages").join(wheel)).unwrap()
            );
        }
        // The wheels, then the page (uploaded under a temporary name, then renamed).
        let uploads: Vec<String> = state
            .log
            .iter()
            .filter(|line| line.starts_with("POST /repos/") && line.contains("?name="))
            .map(|line| line.split("?name=").nth(1).unwrap().to_string())
            .collect();
        assert_eq!(uploads, [DATEUTIL, SIX, "wheelforge-index-new.html"]);
        assert_eq!(
            (state.uploads, state.deletes, state.unauthorized),
            (3, 0, 0)
        );
    }
    let second = release_publish(&mock, &[]);
    assert!(second.status.success(), "{}", text(&second));
    assert!(
        String::from_utf8_lossy(&second.stdout)
            .starts_with("release v1 of octo-org/wheels: 0 uploaded, 0 repaired, 0 replaced, 2 unchanged; index unchanged\n"),
        "{}",
        text(&second)
    );
    let state = mock.state();
    assert_eq!((state.upload_attempts, state.deletes), (3, 0));
    assert_eq!(state.release("v1").assets.len(), 3);
}

#[test]
fn stock_pip_installs_from_the_release_find_links_page_and_expanded_assets() {
    let mock = MockGitHub::start(TOKEN);
    let output = release_publish(&mock, &[]);
    assert!(output.status.success(), "{}", text(&output));
    let index_url = format!(
        "{}/{OWNER}/{REPO}/releases/download/v1/index.html",
        mock.api_url
    );
    let page = {
        let state = mock.state();
        let release = state.release("v1");
        let asset = release
            .assets
            .iter()
            .find(|a| a.name == "index.html")
            .unwrap();
        assert_eq!(asset.content_type, "text/html; charset=utf-8");
        String::from_utf8(asset.bytes.clone()).unwrap()
    };
    insta::assert_snapshot!(mock.redact(&page));

    // A host that serves the page as uploaded (text/html): --find-links takes its URL.
    let work = tempfile::tempdir().unwrap();
    let deps = work.path().join("deps");
    let pip = common::consumer_pip(
        &deps,
        &["--no-index", "--find-links", &index_url],
        "python-dateutil",
    );
    assert!(pip.status.success(), "pip failed:\n{}", text(&pip));
    assert_installed(&deps);

    // github.com serves every asset as application/octet-stream: pip skips the page's URL,
    // but takes GitHub's expanded_assets page, or a downloaded copy of the page.
    mock.state().download_content_type = Some("application/octet-stream".to_string());
    let deps = work.path().join("deps-octet");
    let pip = common::consumer_pip(
        &deps,
        &["--no-index", "--find-links", &index_url],
        "python-dateutil",
    );
    assert!(!pip.status.success());
    assert!(
        text(&pip).contains("got Content-Type: application/octet-stream"),
        "{}",
        text(&pip)
    );
    let expanded = format!(
        "{}/{OWNER}/{REPO}/releases/expanded_assets/v1",
        mock.api_url
    );
    let deps = work.path().join("deps-expanded");
    let pip = common::consumer_pip(
        &deps,
        &["--no-index", "--find-links", &expanded],
        "python-dateutil",
    );
    assert!(pip.status.success(), "pip failed:\n{}", text(&pip));
    assert_installed(&deps);
    let local_page = work.path().join("index.html");
    fs_err::write(&local_page, &page).unwrap();
    let deps = work.path().join("deps-local");
    let pip = common::consumer_pip(
        &deps,
        &["--no-index", "--find-links", local_page.to_str().unwrap()],
        "python-dateutil",
    );
    assert!(pip.status.success(), "pip failed:\n{}", text(&pip));
    assert_installed(&deps);
}

#[test]
fn release_publish_resumes_after_a_failed_upload_without_duplicates() {
    let mock = MockGitHub::start(TOKEN);
    mock.state().fail_upload = Some(2);
    let failed = release_publish(&mock, &[]);
    assert!(!failed.status.success());
    insta::assert_snapshot!(mock.redact(&String::from_utf8_lossy(&failed.stderr)));
    resumes(&mock);
}

#[test]
fn release_publish_resumes_after_a_connection_broken_midway() {
    let mock = MockGitHub::start(TOKEN);
    mock.state().fail_upload = Some(2);
    mock.state().break_connection = true;
    let failed = release_publish(&mock, &[]);
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    let error = stderr.lines().last().unwrap();
    assert!(
        error.starts_with(
            "error: uploading six-1.17.0-py3-none-any.whl to release v1 of octo-org/wheels failed: "
        ) && error.ends_with(
            "; run the same command again: publishing resumes, skipping what was uploaded"
        ),
        "{stderr}"
    );
    resumes(&mock);
}

/// After the second upload failed: the state it left, then a second run that completes.
fn resumes(mock: &MockGitHub) {
    {
        let state = mock.state();
        let release = state.release("v1");
        let states: Vec<(&str, &str)> = release
            .assets
            .iter()
            .map(|a| (a.name.as_str(), a.state.as_str()))
            .collect();
        // The first wheel is complete, the second half-uploaded, and there is no page yet.
        assert_eq!(states, [(DATEUTIL, "uploaded"), (SIX, "starter")]);
    }

    // Again, with the API URL from the environment: only the broken wheel and the page go up.
    let resumed = publish(&[
        "--github-release",
        &format!("{OWNER}/{REPO}"),
        "--tag",
        "v1",
    ])
    .env("GITHUB_API_URL", &mock.api_url)
    .env("GITHUB_TOKEN", TOKEN)
    .output()
    .unwrap();
    assert!(resumed.status.success(), "{}", text(&resumed));
    assert!(
        String::from_utf8_lossy(&resumed.stdout)
            .starts_with("release v1 of octo-org/wheels: 0 uploaded, 1 repaired, 0 replaced, 1 unchanged; index updated\n"),
        "{}",
        text(&resumed)
    );
    let state = mock.state();
    assert_eq!(state.upload_attempts, 4, "{:#?}", state.log);
    assert_eq!(state.deletes, 1, "the broken asset");
    let release = state.release("v1");
    let mut names: Vec<&str> = release.assets.iter().map(|a| a.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["index.html", DATEUTIL, SIX]);
    assert!(release.assets.iter().all(|a| a.state == "uploaded"));
    let six = release.assets.iter().find(|a| a.name == SIX).unwrap();
    assert_eq!(
        six.bytes,
        fs_err::read(dist().join("packages").join(SIX)).unwrap()
    );
}

#[test]
fn another_file_with_a_wheel_name_is_refused_unless_replace() {
    let mock = MockGitHub::start(TOKEN);
    mock.state()
        .seed_release("v1", &[(SIX, b"not the wheel".as_slice())]);
    let refused = release_publish(&mock, &[]);
    assert!(!refused.status.success());
    insta::assert_snapshot!(mock.redact(&String::from_utf8_lossy(&refused.stderr)));
    assert_eq!(
        mock.state().upload_attempts,
        0,
        "a conflict uploads nothing"
    );

    let replaced = release_publish(&mock, &["--replace"]);
    assert!(replaced.status.success(), "{}", text(&replaced));
    assert!(
        String::from_utf8_lossy(&replaced.stdout)
            .starts_with("release v1 of octo-org/wheels: 1 uploaded, 0 repaired, 1 replaced, 0 unchanged; index updated\n"),
        "{}",
        text(&replaced)
    );
    let state = mock.state();
    let six = state
        .release("v1")
        .assets
        .iter()
        .find(|a| a.name == SIX)
        .unwrap();
    assert_eq!(
        six.bytes,
        fs_err::read(dist().join("packages").join(SIX)).unwrap()
    );
}

#[test]
fn the_token_is_in_no_error_message_or_log() {
    // A server that echoes the Authorization header into its 401 message.
    let mock = MockGitHub::start("the-right-token");
    mock.state().echo_authorization = true;
    let refused = release_publish(&mock, &["-vv"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(mock.state().unauthorized > 0);
    assert!(!stderr.contains(TOKEN), "the token leaked:\n{stderr}");
    assert!(
        stderr.contains(
            "error: looking up release v1 of octo-org/wheels failed: the server answered 401 Unauthorized: Bad credentials (Authorization: Bearer ***); check that GITHUB_TOKEN holds a valid, unexpired token"
        ),
        "{stderr}"
    );

    // A whole successful publish, logged at debug level.
    let mock = MockGitHub::start(TOKEN);
    let output = release_publish(&mock, &["-vv"]);
    assert!(output.status.success(), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DEBUG"), "no debug logs:\n{stderr}");
    assert!(
        !text(&output).contains(TOKEN),
        "the token leaked:\n{}",
        text(&output)
    );
}

#[test]
fn release_publish_without_a_token_says_how_to_give_one() {
    let output = publish(&["--github-release", "o/r", "--tag", "v1"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    insta::assert_snapshot!(String::from_utf8_lossy(&output.stderr));
}

//! End to end, as a consumer does it: `wheelforge build python-dateutil` from the real recipes,
//! `wheelforge serve` on 127.0.0.1, and stock pip installing with `--platform wasi_0_2_wasm32`.
//! pip is fenced in (no config, no cache, a dead proxy for every host but loopback), and the
//! server's request log must show only index and package requests.
//!
//! The first run fetches sdists and build tools through pip into a cache under the target
//! directory; later runs reuse it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

fn wheelforge(work: &Path) -> Command {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_wheelforge"));
    command
        .arg("--recipes")
        .arg(manifest.join("recipes"))
        .arg("--out")
        .arg(work.join("dist"))
        .arg("--build-dir")
        .arg(work.join("build"))
        .env("WHEELFORGE_CACHE_DIR", cache_dir());
    command
}

fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("wheelforge-cache")
}

fn build(work: &Path, args: &[&str]) -> String {
    let output = wheelforge(work).arg("build").args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "build failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn serve(work: &Path) -> (Child, String) {
    let mut command = wheelforge(work);
    command.args(["serve", "--port", "0"]);
    common::serve(command)
}

fn sha256(path: &Path) -> String {
    wheelforge::source::sha256_file(path).unwrap()
}

#[test]
fn stock_pip_installs_python_dateutil_and_six_from_the_served_index() {
    let work = tempfile::tempdir().unwrap();
    build(work.path(), &["python-dateutil"]);

    let (mut server, url) = serve(work.path());
    let target = work.path().join("deps");
    let output = common::consumer_pip_install(&url, &target, "python-dateutil");
    server.kill().unwrap();
    let requests = String::from_utf8_lossy(&server.wait_with_output().unwrap().stderr).into_owned();
    assert!(
        output.status.success(),
        "pip failed:\n{}\n{}\nserver saw:\n{requests}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    assert_eq!(
        common::dist_infos(&target),
        [
            "python_dateutil-2.9.0.post0.dist-info",
            "six-1.17.0.dist-info"
        ]
    );
    assert!(target.join("dateutil/parser/__init__.py").is_file());
    assert!(target.join("six.py").is_file());

    // Exactly the index pages, PEP 658 metadata and wheels of the two projects; nothing else.
    let mut seen: Vec<&str> = requests
        .lines()
        .filter_map(|line| line.strip_prefix("GET "))
        .map(|line| line.split(" -> ").next().unwrap())
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            "/packages/python_dateutil-2.9.0.post0-py3-none-any.whl",
            "/packages/python_dateutil-2.9.0.post0-py3-none-any.whl.metadata",
            "/packages/six-1.17.0-py3-none-any.whl",
            "/packages/six-1.17.0-py3-none-any.whl.metadata",
            "/simple/python-dateutil/",
            "/simple/six/",
        ],
        "server saw:\n{requests}"
    );
    assert!(
        requests.lines().all(|line| line.ends_with("-> 200")),
        "{requests}"
    );
}

#[test]
fn rebuilds_are_byte_identical_and_unchanged_recipes_are_cached() {
    let work = tempfile::tempdir().unwrap();
    let wheel = work
        .path()
        .join("dist/packages/six-1.17.0-py3-none-any.whl");
    let first = build(work.path(), &["six"]);
    assert!(first.contains("1 built, 0 cached"), "{first}");
    let first_digest = sha256(&wheel);

    let second = build(work.path(), &["six"]);
    assert!(second.contains("0 built, 1 cached"), "{second}");

    let forced = build(work.path(), &["six", "--force"]);
    assert!(forced.contains("1 built, 0 cached"), "{forced}");
    assert_eq!(
        sha256(&wheel),
        first_digest,
        "a forced rebuild changed the wheel"
    );

    // A separate build tree and index: still the same bytes.
    let other = tempfile::tempdir().unwrap();
    build(other.path(), &["six"]);
    assert_eq!(
        sha256(
            &other
                .path()
                .join("dist/packages/six-1.17.0-py3-none-any.whl")
        ),
        first_digest
    );
}

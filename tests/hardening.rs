//! Issue 16: a farm builds other people's sdists. A hostile `setup.py` of a pure recipe must not
//! reach the build machine's home, `/tmp` or anything outside its build, and two `wheelforge
//! build` processes sharing a build directory and an index must both succeed while stock pip can
//! install from the index at any moment.
//!
//! The sdists are made here (setuptools, from the build-tool wheelhouse in the cache under the
//! target directory).

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::Repo;

fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("wheelforge-cache")
}

/// Writes `NAME-1.0.0.tar.gz`: a setuptools sdist whose `setup.py` runs `setup_code` first.
fn make_sdist(dir: &Path, name: &str, setup_code: &str) -> PathBuf {
    let root = format!("{name}-1.0.0");
    let files = [
        (
            format!("{root}/pyproject.toml"),
            "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n".to_string(),
        ),
        (
            format!("{root}/setup.py"),
            format!(
                "{setup_code}\nfrom setuptools import setup\nsetup(name={name:?}, version=\"1.0.0\", packages=[{name:?}])\n"
            ),
        ),
        (format!("{root}/{name}/__init__.py"), "VALUE = 1\n".into()),
    ];
    let path = dir.join(format!("{root}.tar.gz"));
    let file = fs_err::File::create(&path).unwrap();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::default(),
    ));
    for (entry, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, entry, text.as_bytes())
            .unwrap();
    }
    builder
        .into_inner()
        .unwrap()
        .finish()
        .unwrap()
        .flush()
        .unwrap();
    path
}

/// A pure recipe for a local sdist.
fn local_recipe(repo: &Repo, name: &str, setup_code: &str, host: &[&str]) {
    let sdist = make_sdist(repo.root(), name, setup_code);
    let sha256 = wheelforge::source::sha256_file(&sdist).unwrap();
    repo.recipe(
        name,
        &format!(
            "package:\n  name: {name}\n  version: 1.0.0\nsource:\n  url: file://{}\n  sha256: {sha256}\nbuild:\n  backend: pure\nrequirements:\n  host: [{}]\nabout:\n  license: MIT\n  summary: local test package\n",
            sdist.display(),
            host.join(", ")
        ),
    );
}

fn wheelforge(repo: &Repo) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wheelforge"));
    command
        .arg("--recipes")
        .arg(repo.recipes())
        .arg("--patches")
        .arg(repo.patches())
        .arg("--out")
        .arg(repo.root().join("dist"))
        .arg("--build-dir")
        .arg(repo.root().join("build"))
        .env("WHEELFORGE_CACHE_DIR", cache_dir());
    command
}

#[test]
fn a_hostile_setup_py_of_a_pure_recipe_writes_nothing_outside_its_build() {
    let repo = Repo::new();
    let tag = repo
        .root()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let home = PathBuf::from(std::env::var("HOME").unwrap());
    let targets = [
        home.join(format!("wf-hostile-{tag}")),
        PathBuf::from(format!("/tmp/wf-hostile-{tag}")),
        PathBuf::from(format!("/var/tmp/wf-hostile-{tag}")),
        // Outside the build, in the recipe repository: read-only in the sandbox.
        repo.recipes().join(format!("wf-hostile-{tag}")),
        // The cache (the build tools' wheelhouse is read-only).
        cache_dir().join(format!("wf-hostile-{tag}")),
    ];
    // Each write is tried; a refused one must not stop the build, so that the test can see
    // that the build itself succeeds in the sandbox.
    let setup_code = format!(
        "for path in {:?}:\n    try:\n        open(path, 'w').write('escaped')\n    except OSError:\n        pass\n",
        targets
            .iter()
            .map(|path| path.display().to_string())
            .collect::<Vec<_>>()
    );
    local_recipe(&repo, "hostile", &setup_code, &[]);
    let output = wheelforge(&repo)
        .args(["build", "hostile"])
        .output()
        .unwrap();
    let escaped: Vec<&PathBuf> = targets.iter().filter(|path| path.exists()).collect();
    for path in &escaped {
        let _ = fs_err::remove_file(path);
    }
    assert!(
        output.status.success(),
        "the build must succeed in its sandbox:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        escaped.is_empty(),
        "setup.py wrote outside its build: {escaped:?}"
    );
    assert!(
        repo.root()
            .join("dist/packages/hostile-1.0.0-py3-none-any.whl")
            .is_file()
    );
}

/// Every page of the index links only files that exist with the digest the link names: what
/// pip needs to install from it. Pages not written yet are fine.
fn check_index(dist: &Path) -> Result<(), String> {
    let Ok(root) = fs_err::read_to_string(dist.join("simple/index.html")) else {
        return Ok(());
    };
    for project in root.split("href=\"").skip(1) {
        let project = project.split('"').next().unwrap().trim_end_matches('/');
        let page_path = dist.join("simple").join(project).join("index.html");
        let page = fs_err::read_to_string(&page_path)
            .map_err(|e| format!("the root lists {project} but: {e}"))?;
        for link in page.split("href=\"").skip(1) {
            let link = link.split('"').next().unwrap();
            let (file, digest) = link
                .split_once("#sha256=")
                .ok_or(format!("{link}: no sha256 fragment"))?;
            let file = file.rsplit('/').next().unwrap();
            let path = dist.join("packages").join(file);
            let actual = wheelforge::source::sha256_file(&path)
                .map_err(|e| format!("{project} links {file}: {e}"))?;
            if actual != digest {
                return Err(format!("{file}: sha256 {actual}, the page says {digest}"));
            }
            if !dist
                .join("packages")
                .join(format!("{file}.metadata"))
                .is_file()
            {
                return Err(format!("{file}: no PEP 658 metadata"));
            }
        }
    }
    Ok(())
}

#[test]
fn two_builds_at_once_share_a_build_directory_and_an_index() {
    let repo = Repo::new();
    // `base` builds slowly, so the second process arrives while the first holds its lock; both
    // need it, as `build six` and `build python-dateutil` both need six.
    local_recipe(&repo, "base", "import time\ntime.sleep(4)\n", &[]);
    local_recipe(&repo, "top", "", &["base"]);
    let dist = repo.root().join("dist");
    let lock = repo.root().join("build/base.lock");

    let stop = Arc::new(AtomicBool::new(false));
    let checker = {
        let (dist, stop) = (dist.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut checks = 0;
            while !stop.load(Ordering::Relaxed) {
                check_index(&dist)?;
                checks += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok::<usize, String>(checks)
        })
    };

    let first = wheelforge(&repo)
        .args(["build", "base"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while fs_err::read_to_string(&lock).map_or(true, |pid| pid.trim() != first.id().to_string()) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the first build never locked {}",
            lock.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = wheelforge(&repo)
        .args(["build", "top"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first_pid = first.id();
    let first = first.wait_with_output().unwrap();
    let second = second.wait_with_output().unwrap();
    stop.store(true, Ordering::Relaxed);
    let checks = checker.join().unwrap().expect("the index stays valid");

    let text = |output: &std::process::Output| {
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    };
    assert!(first.status.success(), "first build:\n{}", text(&first));
    assert!(second.status.success(), "second build:\n{}", text(&second));
    let waited = format!(
        "base: waiting for another wheelforge build using {} (pid {first_pid})",
        repo.root().join("build/base").display()
    );
    assert!(
        String::from_utf8_lossy(&second.stderr).contains(&waited),
        "the second build must say whom it waits for ({waited}):\n{}",
        text(&second)
    );
    assert!(checks > 0);
    check_index(&dist).unwrap();

    // Stock pip installs both from the index both processes wrote.
    let mut server = wheelforge(&repo);
    server.args(["serve", "--port", "0"]);
    let (mut server, url) = common::serve(server);
    for package in ["base", "top"] {
        let deps = repo.root().join(format!("deps-{package}"));
        let output = common::consumer_pip_install(&url, &deps, package);
        assert!(
            output.status.success(),
            "pip install {package}:\n{}",
            text(&output)
        );
        assert!(deps.join(package).join("__init__.py").is_file());
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

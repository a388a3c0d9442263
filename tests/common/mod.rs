//! Helpers shared by the integration tests: throwaway recipe repositories.
#![allow(dead_code)]

pub mod chromium;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A temporary repository with `recipes/` and `patches/`.
pub struct Repo {
    pub dir: tempfile::TempDir,
}

impl Repo {
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("recipes")).unwrap();
        fs_err::create_dir_all(dir.path().join("patches")).unwrap();
        Repo { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn recipes(&self) -> PathBuf {
        self.root().join("recipes")
    }

    pub fn patches(&self) -> PathBuf {
        self.root().join("patches")
    }

    /// Writes `recipes/<name>/meta.yaml` and returns its path.
    pub fn recipe(&self, name: &str, text: &str) -> PathBuf {
        let dir = self.recipes().join(name);
        fs_err::create_dir_all(&dir).unwrap();
        let path = dir.join("meta.yaml");
        fs_err::write(&path, text).unwrap();
        path
    }

    /// A minimal valid pure recipe with the given host and run requirements.
    pub fn simple_recipe(&self, name: &str, host: &[&str], run: &[&str]) -> PathBuf {
        self.recipe(
            name,
            &format!(
                "package:\n  name: {name}\n  version: 1.0.0\nsource:\n  url: file:///nonexistent/{name}-1.0.0.tar.gz\n  sha256: {}\nbuild:\n  backend: pure\nrequirements:\n  host: [{}]\n  run: [{}]\nabout:\n  license: MIT\n  summary: test recipe\n",
                "0".repeat(64),
                host.join(", "),
                run.join(", ")
            ),
        )
    }

    /// Replaces this repository's path in `text` with `[REPO]`, for snapshots.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.root().display().to_string(), "[REPO]")
    }
}

/// The `.dist-info` directories pip installed into `target`, sorted.
#[allow(dead_code)]
pub fn dist_infos(target: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs_err::read_dir(target)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".dist-info"))
        .collect();
    names.sort();
    names
}

/// Starts `command` (a `wheelforge ... serve --port 0`) and returns the child and the index URL
/// it printed. The server's request log (stderr) is piped for the caller to read.
pub fn serve(mut command: Command) -> (Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = loopback_url(&mut child);
    (child, url)
}

/// The first `http://127.0.0.1:PORT...` URL in the first line a server child printed on its
/// (piped) stdout.
pub fn loopback_url(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    line.split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .find(|word| word.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string()
}

/// The cache the toolchain tests install into: `WHEELFORGE_TEST_CACHE` (CI points it at the
/// user cache, so that a machine installs the toolchain once) or one under the target directory.
pub fn toolchain_cache() -> PathBuf {
    std::env::var_os("WHEELFORGE_TEST_CACHE").map_or_else(
        || Path::new(env!("CARGO_TARGET_TMPDIR")).join("wheelforge-cache"),
        PathBuf::from,
    )
}

/// wheelforge with the repository's recipes and the toolchain cache, indexing into
/// `<work>/dist` and building in `build_dir` (the heavy tiers: tests/numpy.rs, tests/pandas.rs).
#[allow(dead_code)]
pub fn repository_wheelforge(work: &Path, build_dir: &Path) -> Command {
    repository_wheelforge_cached(work, build_dir, &toolchain_cache())
}

/// [`repository_wheelforge`] with another cache directory (tests/app.rs: `python`'s own).
#[allow(dead_code)]
pub fn repository_wheelforge_cached(work: &Path, build_dir: &Path, cache: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wheelforge"));
    command
        .arg("--recipes")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes"))
        .arg("--out")
        .arg(work.join("dist"))
        .arg("--build-dir")
        .arg(build_dir)
        .arg("--cache-dir")
        .arg(cache);
    command
}

/// `wheelforge build RECIPE` with the repository's recipes into `work` (see
/// [`repository_wheelforge`]); panics with its output when it fails, returns its stdout.
#[allow(dead_code)]
pub fn repository_build(work: &Path, recipe: &str) -> String {
    repository_build_all(work, &[recipe])
}

/// [`repository_build`] of several recipes in one run (tests/stack.rs).
#[allow(dead_code)]
pub fn repository_build_all(work: &Path, recipes: &[&str]) -> String {
    let build = repository_wheelforge(work, &work.join("build"))
        .arg("build")
        .args(recipes)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&build.stdout).into_owned();
    assert!(
        build.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    stdout
}

/// The persistent index of numpy, pandas and tzdata built from the repository's recipes
/// (`target/tmp/scientific`), shared by tests/pandas.rs and tests/app.rs: the binary that runs
/// second finds the wheels up to date. Returns the directory and the build's stdout.
#[allow(dead_code)]
pub fn scientific_index() -> (PathBuf, String) {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scientific");
    fs_err::create_dir_all(&work).unwrap();
    let work = fs_err::canonicalize(&work).unwrap();
    let stdout = repository_build_all(&work, &["numpy", "pandas", "tzdata"]);
    (work, stdout)
}

/// Checks a `wheelforge test` pytest report (`<build>/<name>/test/pytest/report.json`): more
/// than `min_native` tests passed natively, and at least `ratio` of them under WASI. `log` is
/// shown when it fails.
#[allow(dead_code)]
pub fn assert_suite_ratio(report: &Path, min_native: u64, ratio: f64, log: &str) {
    let report: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(report).unwrap()).unwrap();
    let native_passing = report["comparison"]["native_passing"].as_u64().unwrap();
    let also_passing = report["comparison"]["also_passing"].as_u64().unwrap();
    assert!(
        native_passing > min_native,
        "{native_passing} natively\n{log}"
    );
    assert!(
        also_passing as f64 >= ratio * native_passing as f64,
        "{also_passing}/{native_passing}\n{log}"
    );
}

/// Stock pip, exactly as a consumer runs it: installs `package` from the index at `url` into
/// `deps` for the WASI runtime. Only the given index is used (no pip config, no find-links).
pub fn consumer_pip_install(url: &str, deps: &Path, package: &str) -> std::process::Output {
    consumer_pip(deps, &["--index-url", url], package)
}

/// Stock pip installing `package` for the WASI platform into `deps` from `source` (pip's
/// `--index-url URL` or `--find-links URL`), fenced in as a consumer's: no pip config, no
/// cache, only the loopback address reachable.
#[allow(dead_code)]
pub fn consumer_pip(deps: &Path, source: &[&str], package: &str) -> std::process::Output {
    consumer_pip_packages(Path::new("python3"), deps, source, &[package])
}

/// The consumer's install: `wheelforge serve --port 0` (`serve`, the wheelforge command
/// without its subcommand) serves the index while `python`'s pip installs `packages` from it
/// into `deps` ([`consumer_pip_packages`]); panics with pip's output when it fails. Then
/// checks that a `.dist-info` starting with each of `expected` is installed (`numpy-2.4.6`,
/// `six-`): pip resolved the run requirements from the index, for the WASI platform.
#[allow(dead_code)]
pub fn consumer_install_served(
    mut serve: Command,
    python: &Path,
    deps: &Path,
    packages: &[&str],
    expected: &[&str],
) {
    serve.args(["serve", "--port", "0"]);
    let (mut server, url) = self::serve(serve);
    let pip = consumer_pip_packages(python, deps, &["--index-url", &url], packages);
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        pip.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&pip.stdout),
        String::from_utf8_lossy(&pip.stderr)
    );
    let installed = dist_infos(deps);
    for name in expected {
        assert!(
            installed.iter().any(|d| d.starts_with(name)),
            "{name} not in {installed:?}"
        );
    }
}

/// A Python whose pip checks `Requires-Python` against `--python-version`: the build
/// machine's `python3` when its pip is 24.2 or later, else a virtual environment of it in
/// `dir` with pip upgraded from pip's configured index. pip 24.1 and earlier check the
/// interpreter that runs them (contourpy's `>=3.12` fails on a 3.11 host; docs/platform-tag.md).
#[allow(dead_code)]
pub fn consumer_python_with_recent_pip(dir: &Path) -> PathBuf {
    let version = Command::new("python3")
        .args(["-c", "import pip; print(pip.__version__)"])
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
    let parts: Vec<u32> = version.split('.').filter_map(|p| p.parse().ok()).collect();
    if parts.as_slice() >= [24, 2].as_slice() {
        return PathBuf::from("python3");
    }
    let python = dir.join("bin/python");
    if !python.exists() {
        let venv = Command::new("python3")
            .args(["-m", "venv"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(venv.status.success(), "{venv:?}");
        let pip = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "pip>=24.2"])
            .output()
            .unwrap();
        assert!(pip.status.success(), "pip {version}: {pip:?}");
    }
    python
}

/// [`consumer_pip`] installing several packages in one resolution, with the pip of `python`
/// (tests/stack.rs: see [`consumer_python_with_recent_pip`]).
#[allow(dead_code)]
pub fn consumer_pip_packages(
    python: &Path,
    deps: &Path,
    source: &[&str],
    packages: &[&str],
) -> std::process::Output {
    Command::new(python)
        .args(["-m", "pip", "install", "--no-cache-dir"])
        .args(source)
        .args(wheelforge::testing::CONSUMER_PIP_ARGUMENTS)
        .arg("--target")
        .arg(deps)
        .args(packages)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .env_remove("PIP_FIND_LINKS")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("http_proxy", "http://127.0.0.1:9")
        .env("https_proxy", "http://127.0.0.1:9")
        .env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1")
        .output()
        .unwrap()
}

/// A consumer's own app (`app_py`, a `wasi:cli/command` app) linked with componentize-py
/// (`-p APP -p DEPS`) into `work/app.wasm`, then run under the embedded wasmtime. Returns
/// the run's output; panics with componentize-py's output when linking fails.
pub fn consumer_link_and_run(
    toolchain: &wheelforge::toolchain::WasiToolchain,
    work: &Path,
    deps: &Path,
    app_py: &str,
) -> wheelforge::runtime::RunOutput {
    consumer_link_and_run_with(toolchain, work, deps, app_py, Vec::new())
}

/// [`consumer_link_and_run`], running the component with these host directories mounted
/// (host path, guest path): packages that read data files at run time need the directory
/// componentize-py saw them in (`-p app -p deps` → `/0`, `/1`).
pub fn consumer_link_and_run_with(
    toolchain: &wheelforge::toolchain::WasiToolchain,
    work: &Path,
    deps: &Path,
    app_py: &str,
    preopens: Vec<(PathBuf, String)>,
) -> wheelforge::runtime::RunOutput {
    let app = work.join("app");
    fs_err::create_dir_all(&app).unwrap();
    fs_err::write(app.join("app.py"), app_py).unwrap();
    let wit = work.join("wit");
    fs_err::create_dir_all(wit.join("deps")).unwrap();
    for (name, contents) in wheelforge::runtime::WASI_WIT {
        fs_err::write(wit.join("deps").join(name), contents).unwrap();
    }
    fs_err::write(
        wit.join("app.wit"),
        format!(
            "package consumer:app;\nworld app {{ include wasi:cli/command@{}; }}\n",
            wheelforge::toolchain::link::wasi_cli_version()
        ),
    )
    .unwrap();
    let component = work.join("app.wasm");
    let componentize_py = toolchain.componentize_py.display().to_string();
    let mut command = toolchain
        .sandbox()
        .command(&componentize_py, work, &[work, deps]);
    command
        .arg("-d")
        .arg(&wit)
        .args(["-w", "app", "componentize", "-p"])
        .arg(&app)
        .arg("-p")
        .arg(deps)
        .arg("app")
        .arg("-o")
        .arg(&component);
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    wheelforge::runtime::run_command(
        &component,
        &wheelforge::runtime::RunOptions {
            args: vec!["app".into()],
            preopens,
            ..Default::default()
        },
    )
    .unwrap()
}

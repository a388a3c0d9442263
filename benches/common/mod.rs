//! What the side-by-side benchmarks (`benches/numpy.rs`, `benches/pandas.rs`) share: the
//! wheelforge command line, the toolchain's CPython in its root, wheel sizes, and running one
//! script under WASI (a component linked with componentize-py, run by the embedded wasmtime)
//! and natively (CPython 3.14 with the index's manylinux wheels).

#![allow(dead_code)]

pub mod peer;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use wheelforge::reporter::SilentReporter;
use wheelforge::runtime::{RunOptions, run_command};
use wheelforge::toolchain::link::{TestApp, link_test_component};
use wheelforge::toolchain::{WasiToolchain, install};

/// A benchmark script prints one line: this marker, then a JSON object of name → seconds.
pub const MARKER: &str = "WHEELFORGE-BENCH ";

/// The version a repository recipe pins.
pub fn recipe_version(name: &str) -> String {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text =
        std::fs::read_to_string(manifest.join("recipes").join(name).join("meta.yaml")).unwrap();
    text.lines()
        .find_map(|line| line.trim().strip_prefix("version: "))
        .unwrap_or_else(|| panic!("the {name} recipe has no version"))
        .to_string()
}

/// The toolchain, the cache it lives in, and a scratch directory inside that cache.
pub struct Bench {
    pub cache: PathBuf,
    pub toolchain: WasiToolchain,
    pub work: PathBuf,
    _work: tempfile::TempDir,
}

impl Bench {
    /// `WHEELFORGE_BENCH_CACHE` names the cache (default: ~/.cache/wheelforge).
    pub fn new() -> Bench {
        let cache = std::env::var_os("WHEELFORGE_BENCH_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/wheelforge")
            });
        let toolchain = install::ensure(&cache, &SilentReporter).expect("toolchain");
        // `WHEELFORGE_BENCH_WORK` keeps the work directory (and so the builds' rebuild cache).
        let work_dir = tempfile::tempdir_in(&cache).unwrap();
        let work = match std::env::var_os("WHEELFORGE_BENCH_WORK") {
            Some(dir) => {
                std::fs::create_dir_all(&dir).unwrap();
                PathBuf::from(dir).canonicalize().unwrap()
            }
            None => work_dir.path().canonicalize().unwrap(),
        };
        Bench {
            cache,
            toolchain,
            work,
            _work: work_dir,
        }
    }

    /// wheelforge with the repository's recipes, indexing into `<work>/dist`.
    pub fn wheelforge(&self) -> Command {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        self.wheelforge_in(&manifest.join("recipes"), &self.work)
    }

    /// wheelforge with the recipes in `recipes` (their patches beside them), indexing into
    /// `<out>/dist`, building in `<out>/build`.
    pub fn wheelforge_in(&self, recipes: &Path, out: &Path) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wheelforge"));
        command
            .arg("--recipes")
            .arg(recipes)
            .arg("--out")
            .arg(out.join("dist"))
            .arg("--build-dir")
            .arg(out.join("build"))
            .arg("--cache-dir")
            .arg(&self.cache);
        command
    }

    /// Builds `name` with the recipes and patches in `recipes` (a copy the bench changed)
    /// into `<work>/<label>/dist` (not timed: two jobs). Returns the directory of its wheels.
    pub fn cross_build_from(&self, recipes: &Path, label: &str, name: &str) -> PathBuf {
        let out = self.work.join(label);
        let mut command = self.wheelforge_in(recipes, &out);
        command.args(["build", name, "-j", "2"]);
        run_ok(&mut command, &format!("cross build ({label})"));
        out.join("dist/packages")
    }

    /// Builds `name` (and what it needs) in the fresh work directory, one job at a time, and
    /// returns the seconds the summary gives `name`'s own build.
    pub fn cross_build(&self, name: &str) -> f64 {
        let output = self
            .wheelforge()
            .args(["build", name, "-j", "1"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "cross build failed:\n{stdout}");
        stdout
            .lines()
            .find(|line| line.split_whitespace().next() == Some(name))
            .and_then(|line| {
                line.split_whitespace()
                    .find_map(|w| w.strip_suffix('s')?.parse().ok())
            })
            .unwrap_or_else(|| panic!("the summary has no build time for {name}:\n{stdout}"))
    }

    /// `pip wheel --no-cache-dir --no-deps --no-binary PROJECT PROJECT==VERSION` for x86_64 with
    /// the toolchain's CPython 3.14 and clang 22, in its root (build tools from binary
    /// wheels; pip's wheel cache would answer at once). Returns the wheel directory and the
    /// wall time.
    pub fn native_build(&self, project: &str, version: &str) -> (PathBuf, f64) {
        let native_wheels = self.work.join("native-wheels");
        let mut native = self.python_in_root();
        native
            .args([
                "-m",
                "pip",
                "wheel",
                "--no-cache-dir",
                "--no-deps",
                "--no-binary",
            ])
            .arg(project)
            .arg("-w")
            .arg(&native_wheels)
            .arg(format!("{project}=={version}"))
            .env("CC", "clang-22")
            .env("CXX", "clang++-22");
        let started = Instant::now();
        run_ok(&mut native, "native build");
        (native_wheels, started.elapsed().as_secs_f64())
    }

    /// Builds `project` both ways, compares the wheels with the index's manylinux wheel, and
    /// prints the build and size tables. Returns the directory holding the manylinux wheel.
    pub fn builds_and_sizes(&self, project: &str, version: &str, cross_what: &str) -> PathBuf {
        let cross_seconds = self.cross_build(project);
        let (native_wheels, native_seconds) = self.native_build(project, version);
        let prefix = format!("{project}-");
        let (wasi_wheel, wasi_size) = wheel_size(&self.work.join("dist/packages"), &prefix);
        let (native_built, native_built_size) = wheel_size(&native_wheels, &prefix);
        let manylinux = self.download_manylinux("manylinux", project, version);
        let (manylinux_wheel, manylinux_size) = wheel_size(&manylinux, &prefix);

        println!("## {project} {version} (`cargo bench --bench {project}`)\n");
        println!("| build | wall time |\n|---|---|");
        println!("| cross, wasm32 ({cross_what}) | {cross_seconds:.1} s |");
        println!(
            "| native x86_64 (`pip wheel --no-binary {project} {project}=={version}`, clang 22, CPython 3.14) | {native_seconds:.1} s |"
        );
        println!(
            "| ratio cross / native | {:.2} |\n",
            cross_seconds / native_seconds
        );
        println!("| wheel | size |\n|---|---|");
        println!("| {wasi_wheel} | {} |", mib(wasi_size));
        println!("| {manylinux_wheel} (index) | {} |", mib(manylinux_size));
        println!(
            "| {native_built} (built here) | {} |",
            mib(native_built_size)
        );
        println!(
            "| ratio WASI / manylinux | {:.2} |\n",
            wasi_size as f64 / manylinux_size as f64
        );
        manylinux
    }

    /// The toolchain's CPython 3.14 in its root, with the work directory visible.
    pub fn python_in_root(&self) -> Command {
        let python = self.toolchain.host_python.display().to_string();
        self.program_in_root(&python, &[])
    }

    /// `program` in the toolchain's root, with the work directory and `binds` visible.
    pub fn program_in_root(&self, program: &str, binds: &[&Path]) -> Command {
        let mut visible = vec![self.work.as_path()];
        visible.extend_from_slice(binds);
        self.toolchain
            .sandbox()
            .command(program, &self.work, &visible)
    }

    /// `pip download` of the index's binary wheel of `project==version` into `<work>/<dir>`.
    pub fn download_manylinux(&self, dir: &str, project: &str, version: &str) -> PathBuf {
        let into = self.work.join(dir);
        let mut download = self.python_in_root();
        download
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "-d",
            ])
            .arg(&into)
            .arg(format!("{project}=={version}"));
        run_ok(&mut download, "pip download (manylinux)");
        into
    }

    /// Runs `script` under WASI: `requirement` installed from the built index for the WASI
    /// platform, linked with componentize-py (`imports` imported at link time), run by the
    /// embedded wasmtime. Returns the script's marker object.
    pub fn run_wasi(
        &self,
        requirement: &str,
        imports: &[&str],
        script: &str,
    ) -> serde_json::Map<String, serde_json::Value> {
        let packages = self.work.join("dist/packages");
        let component = self.link_wasi(&packages, "wasi", requirement, imports, script);
        self.run_component(&component)
    }

    /// Installs `requirement` from the wheels in `packages` for the WASI platform into
    /// `<work>/<label>-deps` and links a component running `script` (`imports` imported at
    /// link time) in `<work>/<label>-link`. Returns the component.
    pub fn link_wasi(
        &self,
        packages: &Path,
        label: &str,
        requirement: &str,
        imports: &[&str],
        script: &str,
    ) -> PathBuf {
        let deps = self.work.join(format!("{label}-deps"));
        // pip's --target keeps what a kept work directory already has (same version, other
        // build): install fresh.
        remove_dir_if_present(&deps);
        let mut install_wasi = self.python_in_root();
        install_wasi
            .args(["-m", "pip", "install", "--no-index", "--find-links"])
            .arg(packages)
            .args(wheelforge::testing::CONSUMER_PIP_ARGUMENTS)
            .arg("--target")
            .arg(&deps)
            .arg(requirement);
        run_ok(&mut install_wasi, "pip install (wasi)");
        let link_dir = self.work.join(format!("{label}-link"));
        std::fs::create_dir_all(&link_dir).unwrap();
        let app = TestApp {
            imports: imports.iter().map(|name| name.to_string()).collect(),
            command: Some(script.into()),
            ..Default::default()
        };
        link_test_component(
            &self.toolchain,
            &app,
            &deps,
            &link_dir,
            &link_dir.join("link.log"),
        )
        .expect("link")
    }

    /// Runs a component from [`Bench::link_wasi`] under the embedded wasmtime; returns its
    /// marker object.
    pub fn run_component(&self, component: &Path) -> serde_json::Map<String, serde_json::Value> {
        let run = run_command(
            component,
            &RunOptions {
                args: vec!["bench".into()],
                cache_dir: Some(self.cache.join("runtime")),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(run.exit_code, 0, "{}", String::from_utf8_lossy(&run.stderr));
        parse_marker(&String::from_utf8_lossy(&run.stdout))
    }

    /// Runs `script` natively on the toolchain's CPython 3.14, with `requirement` installed
    /// from the binary wheels in `find_links` (and the index, for its dependencies).
    pub fn run_native(
        &self,
        find_links: &Path,
        requirement: &str,
        script: &str,
    ) -> serde_json::Map<String, serde_json::Value> {
        let native_deps = self.install_native(find_links, "native", requirement);
        self.run_native_script(&native_deps, script, &[])
    }

    /// Installs `requirement` from the binary wheels in `find_links` (and the index, for its
    /// dependencies) for the toolchain's CPython 3.14 into `<work>/<label>-deps`.
    pub fn install_native(&self, find_links: &Path, label: &str, requirement: &str) -> PathBuf {
        let native_deps = self.work.join(format!("{label}-deps"));
        remove_dir_if_present(&native_deps);
        let mut install_native = self.python_in_root();
        install_native
            .args([
                "-m",
                "pip",
                "install",
                "--only-binary=:all:",
                "--find-links",
            ])
            .arg(find_links)
            .arg("--target")
            .arg(&native_deps)
            .arg(requirement);
        run_ok(&mut install_native, "pip install (native)");
        native_deps
    }

    /// Runs `script` natively with `deps` on the path and `env` set; returns its marker
    /// object.
    pub fn run_native_script(
        &self,
        deps: &Path,
        script: &str,
        env: &[(&str, &str)],
    ) -> serde_json::Map<String, serde_json::Value> {
        let path = self.work.join("bench-script.py");
        std::fs::write(&path, script).unwrap();
        let mut run_native = self.python_in_root();
        run_native
            .arg(&path)
            .env("PYTHONPATH", deps)
            .envs(env.iter().copied());
        let output = run_native.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        parse_marker(&String::from_utf8_lossy(&output.stdout))
    }
}

pub fn parse_marker(stdout: &str) -> serde_json::Map<String, serde_json::Value> {
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix(MARKER))
        .unwrap_or_else(|| panic!("no benchmark output in:\n{stdout}"));
    serde_json::from_str(line).unwrap()
}

/// The name and size of the one `<prefix>*.whl` in `dir`.
pub fn wheel_size(dir: &Path, prefix: &str) -> (String, u64) {
    let entry = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .find(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.starts_with(prefix) && name.ends_with(".whl")
        })
        .unwrap_or_else(|| panic!("no {prefix}*.whl in {}", dir.display()));
    (
        entry.file_name().to_string_lossy().into_owned(),
        entry.metadata().unwrap().len(),
    )
}

/// Runs `command` to completion; panics with its output when it fails.
pub fn run_ok(command: &mut Command, what: &str) {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

/// The Markdown table of one side-by-side run, in the order the WASI side reported.
pub fn print_kernels(
    wasi: &serde_json::Map<String, serde_json::Value>,
    native: &serde_json::Map<String, serde_json::Value>,
) {
    println!(
        "| kernel (best of 5) | WASI (wasmtime 48) | native CPython 3.14 | ratio |\n|---|---|---|---|"
    );
    for (name, seconds) in wasi {
        let wasi = seconds.as_f64().unwrap();
        let native = native[name].as_f64().unwrap();
        println!(
            "| {name} | {:.2} ms | {:.2} ms | {:.1}× |",
            wasi * 1e3,
            native * 1e3,
            wasi / native
        );
    }
}

/// Removes `dir` with everything in it, if it exists.
fn remove_dir_if_present(dir: &Path) {
    if dir.exists() {
        std::fs::remove_dir_all(dir).unwrap();
    }
}

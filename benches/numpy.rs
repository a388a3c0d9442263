//! `cargo bench --bench numpy`: numpy for WASI against native numpy, measured side by side in
//! one run on this machine (release wheelforge, toolchain installed; uses the network for the
//! sdist's build tools and for numpy's manylinux wheel):
//! 1. build wall time: `wheelforge build numpy --force` (cross, wasm32) against
//!    `pip wheel --no-cache-dir --no-binary numpy numpy==V` (pip's wheel cache would answer
//!    at once; build tools fetched) with the toolchain's CPython 3.14 and clang 22 for x86_64,
//!    in the toolchain's root;
//! 2. wheel size: the WASI wheel against the manylinux wheel of the same version on the index
//!    (and the locally built native wheel);
//! 3. kernels: the same script under the embedded wasmtime (a component linked with
//!    componentize-py) and under native CPython 3.14 with the manylinux wheel; best of 5.
//!
//! Results are printed as Markdown for docs/benchmarks.md. Set `WHEELFORGE_BENCH_CACHE` to
//! reuse a cache directory (default: ~/.cache/wheelforge).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use wheelforge::reporter::SilentReporter;
use wheelforge::runtime::link::{TestApp, link_test_component};
use wheelforge::runtime::{RunOptions, run_command};
use wheelforge::toolchain::install;

const KERNELS: &str = r#"import json, time
import numpy as np

def best(fn, repeat=5):
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)

rng = np.random.default_rng(0)
a = rng.random((256, 256))
b = rng.random((256, 256))
to_sort = rng.random(10**6)
to_sum = rng.random(10**7)
signal = rng.random(2**16)
chain_input = rng.random(10**6)
results = {
    "matmul 256x256 float64": best(lambda: a @ b),
    "sort 10^6 float64": best(lambda: np.sort(to_sort)),
    "sum 10^7 float64": best(lambda: to_sum.sum()),
    "fft 2^16": best(lambda: np.fft.fft(signal)),
    "ufunc chain 10^6 (sqrt(exp(-x*x) + 1) * 2)": best(
        lambda: np.sqrt(np.exp(-chain_input * chain_input) + 1) * 2
    ),
}
print("WHEELFORGE-BENCH " + json.dumps(results))
"#;

fn version() -> String {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(manifest.join("recipes/numpy/meta.yaml")).unwrap();
    text.lines()
        .find_map(|line| line.trim().strip_prefix("version: "))
        .expect("numpy recipe has a version")
        .to_string()
}

fn wheelforge(work: &Path, cache: &Path) -> Command {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_wheelforge"));
    command
        .arg("--recipes")
        .arg(manifest.join("recipes"))
        .arg("--out")
        .arg(work.join("dist"))
        .arg("--build-dir")
        .arg(work.join("build"))
        .arg("--cache-dir")
        .arg(cache);
    command
}

fn parse_marker(stdout: &str) -> serde_json::Map<String, serde_json::Value> {
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("WHEELFORGE-BENCH "))
        .unwrap_or_else(|| panic!("no benchmark output in:\n{stdout}"));
    serde_json::from_str(line).unwrap()
}

fn file_size(dir: &Path, prefix: &str) -> (String, u64) {
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
fn run_ok(command: &mut Command, what: &str) {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

fn main() {
    let version = version();
    let cache = std::env::var_os("WHEELFORGE_BENCH_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/wheelforge"));
    let toolchain = install::ensure(&cache, &SilentReporter).expect("toolchain");
    let work = tempfile::tempdir_in(&cache).unwrap();
    let work = work.path().canonicalize().unwrap();
    let python = toolchain.host_python.display().to_string();
    // The toolchain's CPython 3.14 in its root, with the work directory visible.
    let python_in_root = || toolchain.sandbox().command(&python, &work, &[&work]);

    // 1. Build wall time, cross and native, one after the other.
    let output = wheelforge(&work, &cache)
        .args(["build", "numpy", "--force", "-j", "1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "cross build failed:\n{stdout}");
    let cross_seconds: f64 = stdout
        .lines()
        .find(|line| line.starts_with("numpy "))
        .and_then(|line| {
            line.split_whitespace()
                .find_map(|w| w.strip_suffix('s')?.parse().ok())
        })
        .expect("the summary has numpy's build time");

    let native_wheels = work.join("native-wheels");
    let mut native = python_in_root();
    native
        .args([
            "-m",
            "pip",
            "wheel",
            "--no-cache-dir",
            "--no-deps",
            "--no-binary",
            "numpy",
            "-w",
        ])
        .arg(&native_wheels)
        .arg(format!("numpy=={version}"))
        .env("CC", "clang-22")
        .env("CXX", "clang++-22");
    let started = Instant::now();
    let native_output = native.output().unwrap();
    let native_seconds = started.elapsed().as_secs_f64();
    assert!(
        native_output.status.success(),
        "native build failed:\n{}",
        String::from_utf8_lossy(&native_output.stderr)
    );

    // 2. Wheel sizes.
    let (wasi_wheel, wasi_size) = file_size(&work.join("dist/packages"), "numpy-");
    let (native_built, native_built_size) = file_size(&native_wheels, "numpy-");
    let manylinux = work.join("manylinux");
    let mut download = python_in_root();
    download
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
        ])
        .arg(&manylinux)
        .arg(format!("numpy=={version}"));
    run_ok(&mut download, "pip download (manylinux)");
    let (manylinux_wheel, manylinux_size) = file_size(&manylinux, "numpy-");

    // 3. Kernels: WASI (linked component) and native (manylinux wheel).
    let deps = work.join("wasi-deps");
    let mut install_wasi = python_in_root();
    install_wasi
        .args(["-m", "pip", "install", "--no-index", "--find-links"])
        .arg(work.join("dist/packages"))
        .args(wheelforge::testing::CONSUMER_PIP_ARGUMENTS)
        .arg("--target")
        .arg(&deps)
        .arg(format!("numpy=={version}"));
    run_ok(&mut install_wasi, "pip install (wasi)");
    let link_dir = work.join("link");
    std::fs::create_dir_all(&link_dir).unwrap();
    let app = TestApp {
        // numpy loads numpy.random and numpy.fft lazily: import them while linking.
        imports: vec!["numpy".into(), "numpy.random".into(), "numpy.fft".into()],
        command: Some(KERNELS.into()),
        ..Default::default()
    };
    let component = link_test_component(
        &toolchain,
        &app,
        &deps,
        &link_dir,
        &link_dir.join("link.log"),
    )
    .expect("link");
    let wasi_run = run_command(
        &component,
        &RunOptions {
            args: vec!["bench".into()],
            cache_dir: Some(cache.join("runtime")),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        wasi_run.exit_code,
        0,
        "{}",
        String::from_utf8_lossy(&wasi_run.stderr)
    );
    let wasi_kernels = parse_marker(&String::from_utf8_lossy(&wasi_run.stdout));

    let native_deps = work.join("native-deps");
    let mut install_native = python_in_root();
    install_native
        .args([
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--only-binary=:all:",
            "--find-links",
        ])
        .arg(&manylinux)
        .arg("--target")
        .arg(&native_deps)
        .arg(format!("numpy=={version}"));
    run_ok(&mut install_native, "pip install (native)");
    let script = work.join("kernels.py");
    std::fs::write(&script, KERNELS).unwrap();
    let mut run_native = python_in_root();
    run_native.arg(&script).env("PYTHONPATH", &native_deps);
    let native_run = run_native.output().unwrap();
    assert!(
        native_run.status.success(),
        "{}",
        String::from_utf8_lossy(&native_run.stderr)
    );
    let native_kernels = parse_marker(&String::from_utf8_lossy(&native_run.stdout));

    println!("## numpy {version} (`cargo bench --bench numpy`)\n");
    println!("| build | wall time |\n|---|---|");
    println!("| cross, wasm32 (`wheelforge build numpy --force`) | {cross_seconds:.1} s |");
    println!(
        "| native x86_64 (`pip wheel --no-binary numpy numpy=={version}`, clang 22, CPython 3.14) | {native_seconds:.1} s |"
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
    println!(
        "| kernel (best of 5) | WASI (wasmtime 48) | native CPython 3.14 | ratio |\n|---|---|---|---|"
    );
    for (name, wasi) in &wasi_kernels {
        let wasi = wasi.as_f64().unwrap();
        let native = native_kernels[name].as_f64().unwrap();
        println!(
            "| {name} | {:.2} ms | {:.2} ms | {:.1}× |",
            wasi * 1e3,
            native * 1e3,
            wasi / native
        );
    }
}

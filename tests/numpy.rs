//! Heavy tier: numpy from the repository's recipe, cross-built with meson for WASI and proven
//! with `wheelforge test numpy` (linalg.solve and an FFT under the embedded runtime). About
//! three minutes on two cores with the toolchain installed; the toolchain cache is shared with
//! tests/wasi.rs (`WHEELFORGE_TEST_CACHE`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn cache_dir() -> PathBuf {
    common::toolchain_cache()
}

fn wheelforge(work: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wheelforge"));
    command
        .arg("--recipes")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes"))
        .arg("--out")
        .arg(work.join("dist"))
        .arg("--build-dir")
        .arg(work.join("build"))
        .arg("--cache-dir")
        .arg(cache_dir());
    command
}

#[test]
fn numpy_builds_for_wasi_and_solves_and_transforms_under_the_runtime() {
    let work = tempfile::tempdir().unwrap();
    let build = wheelforge(work.path())
        .args(["build", "numpy"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&build.stdout);
    assert!(
        build.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    assert!(
        stdout.contains("numpy-2.4.6-cp314-cp314-wasi_0_2_wasm32.whl"),
        "{stdout}"
    );
    let test = wheelforge(work.path())
        .args(["test", "numpy"])
        .output()
        .unwrap();
    let all = format!(
        "{}\n{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
    assert!(test.status.success(), "{all}");
    assert!(
        all.contains("numpy 2.4.6 solve: [2. 3.] fft[0]: (8+0j)"),
        "{all}"
    );
}

//! What a fresh machine needs to build wheelforge: its normal dependencies and nothing else.
//!
//! `cargo build` on a machine whose cargo registry has never fetched this project downloads
//! only the normal dependencies. A build script that asked `cargo metadata --offline` for a
//! dependency's directory failed there, because `cargo metadata` wants every package of the
//! lock file, dev-dependencies included; `cargo test` (and so CI) fetched those first and never
//! saw it. `.ci/run` therefore runs `cargo build --locked` before the tests, on CI's clean
//! registry, and these tests keep the two things the fix relies on.

use std::path::{Path, PathBuf};
use std::process::Command;

fn metadata(extra: &[&str]) -> serde_json::Value {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .args(extra)
        .arg("--manifest-path")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A build script runs before anything of the crate compiles, with only the normal and build
/// dependencies downloaded: wheelforge has none, so that nothing in it can reach for more.
#[test]
fn wheelforge_has_no_build_script() {
    let metadata = metadata(&["--no-deps"]);
    let package = &metadata["packages"][0];
    let build_scripts: Vec<&str> = package["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|target| {
            target["kind"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k == "custom-build")
        })
        .map(|target| target["src_path"].as_str().unwrap())
        .collect();
    assert!(
        build_scripts.is_empty(),
        "{build_scripts:?}: a build script runs on a fresh machine with only the normal \
         dependencies downloaded; embed files with include_str! from the repository instead"
    );
}

/// The WIT files embedded in `runtime` (`WASI_WIT`) are the ones the locked `wasmtime-wasi` implements.
/// Updating wasmtime without copying its `src/p2/wit/deps/*.wit` into `src/runtime/wit/` fails
/// here (this test runs after `cargo test` has fetched every package).
#[test]
fn the_embedded_wasi_wit_is_the_locked_wasmtime_wasi_wit() {
    // Only the build machine's packages are fetched (`cargo test` skips other platforms').
    let rustc = Command::new("rustc").arg("-vV").output().unwrap();
    let rustc = String::from_utf8(rustc.stdout).unwrap();
    let host = rustc
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV names the host");
    let metadata = metadata(&["--offline", "--filter-platform", host]);
    let package = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "wasmtime-wasi")
        .expect("wasmtime-wasi is a dependency");
    let crate_dir = PathBuf::from(package["manifest_path"].as_str().unwrap())
        .parent()
        .unwrap()
        .to_path_buf();
    let deps = crate_dir.join("src/p2/wit/deps");
    let mut upstream: Vec<(String, String)> = fs_err::read_dir(&deps)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "wit"))
        .map(|path| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                fs_err::read_to_string(&path).unwrap(),
            )
        })
        .collect();
    upstream.sort();
    let embedded: Vec<(String, String)> = wheelforge::runtime::WASI_WIT
        .iter()
        .map(|(name, text)| (name.to_string(), text.to_string()))
        .collect();
    let names = |files: &[(String, String)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&embedded),
        names(&upstream),
        "copy {} into src/runtime/wit/",
        deps.display()
    );
    for ((name, ours), (_, theirs)) in embedded.iter().zip(&upstream) {
        assert!(
            ours == theirs,
            "src/runtime/wit/{name} differs from {}/{name}: copy it",
            deps.display()
        );
    }
}

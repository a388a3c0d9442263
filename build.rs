//! Embeds the WASI 0.2 WIT packages that the `wasmtime-wasi` dependency implements, so that
//! components wheelforge builds (with componentize-py) target exactly the interfaces its
//! embedded runtime provides. The files are found through `cargo metadata`.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=Cargo.lock");
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
        ])
        .arg(std::env::var("TARGET").unwrap())
        .arg("--manifest-path")
        .arg(manifest_dir.join("Cargo.toml"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
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
    let mut files: Vec<PathBuf> = std::fs::read_dir(&deps)
        .unwrap_or_else(|e| panic!("{}: {e}", deps.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "wit"))
        .collect();
    files.sort();
    let mut source = String::from(
        "/// WASI 0.2 WIT packages from wasmtime-wasi: (file name, contents).\npub const WASI_WIT: &[(&str, &str)] = &[\n",
    );
    for file in &files {
        source.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            file.file_name().unwrap().to_string_lossy(),
            file.display().to_string()
        ));
    }
    source.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("wasi_wit.rs");
    std::fs::write(out, source).unwrap();
}

//! Rust extensions end to end: the toolchain's Rust part installed on demand, the PyO3 fixture
//! (`tests/fixtures/rust-recipes/wf-rsdemo`) built by maturin into a
//! `cp314-cp314-wasi_0_2_wasm32` wheel with its crates vendored, and proven with
//! `wheelforge test` (componentize-py links it, the embedded wasmtime runs it).
//!
//! Needs root and the network on first use, as `wheelforge toolchain install` does.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rust-recipes")
}

fn wheelforge(recipes: &Path, out: &Path, build: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wheelforge"));
    command
        .arg("--recipes")
        .arg(recipes)
        .arg("--out")
        .arg(out)
        .arg("--build-dir")
        .arg(build)
        .arg("--cache-dir")
        .arg(common::toolchain_cache());
    command
}

fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The fixture, built once for every test here.
fn built() -> &'static Path {
    static WORK: OnceLock<tempfile::TempDir> = OnceLock::new();
    WORK.get_or_init(|| {
        let work = tempfile::tempdir().unwrap();
        let output = wheelforge(
            &fixtures(),
            &work.path().join("dist"),
            &work.path().join("build"),
        )
        .args(["build", "wf-rsdemo"])
        .output()
        .unwrap();
        assert!(
            output.status.success(),
            "the Rust fixture failed to build:\n{}",
            text(&output)
        );
        work
    })
    .path()
}

const WHEEL: &str = "wf_rsdemo-1.0.0-cp314-cp314-wasi_0_2_wasm32.whl";
const MODULE: &str = "wf_rsdemo/wf_rsdemo.cpython-314-wasm32-wasi.so";

#[test]
fn a_pyo3_module_is_a_side_module_that_exports_only_its_init() {
    let entries =
        wheelforge::wheel::read_entries(&built().join("dist/packages").join(WHEEL)).unwrap();
    let so = entries
        .iter()
        .find(|entry| entry.path == MODULE)
        .unwrap_or_else(|| panic!("{MODULE} is not in the wheel"));
    assert!(wheelforge::wheel::repair::is_dylink_module(&so.data));
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::new(&engine, &so.data).unwrap();
    // No `memory` export (componentize-py refuses "unsupported export kind for memory"), and
    // no standard-library symbol that a second Rust module would define again.
    let exports: Vec<String> = module.exports().map(|e| e.name().to_string()).collect();
    assert_eq!(
        exports,
        ["PyInit_wf_rsdemo", "__wasm_apply_data_relocs"],
        "{exports:?}"
    );
    let imports: Vec<String> = module
        .imports()
        .map(|i| format!("{}.{}", i.module(), i.name()))
        .collect();
    // The memory and the C library come from the consumer; CPython's API too.
    for needed in ["env.memory", "env.malloc", "env.free"] {
        assert!(
            imports.iter().any(|i| i == needed),
            "{needed} is not imported: {imports:?}"
        );
    }
    assert!(
        imports.iter().any(|i| i.starts_with("env.Py")),
        "{imports:?}"
    );
}

#[test]
fn a_pyo3_module_passes_wheelforge_test() {
    let work = tempfile::tempdir().unwrap();
    let output = wheelforge(&fixtures(), &built().join("dist"), work.path())
        .args(["test", "wf-rsdemo"])
        .output()
        .unwrap();
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    assert!(all.contains("rust fixture: ok"), "{all}");
    assert!(all.contains("wf-rsdemo: passed"), "{all}");
}

#[test]
fn a_panic_aborts_with_its_message() {
    let recipes = tempfile::tempdir().unwrap();
    wheelforge::source::unpack::copy_tree(&fixtures(), recipes.path()).unwrap();
    let meta = recipes.path().join("wf-rsdemo/meta.yaml");
    let original = fs_err::read_to_string(&meta).unwrap();
    let assertion = "    assert wf_rsdemo.add(40, 2) == 42\n";
    assert!(original.contains(assertion));
    fs_err::write(
        &meta,
        original.replace(
            assertion,
            &format!("{assertion}    wf_rsdemo.panic_with(\"the fixture panicked on purpose\")\n"),
        ),
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let output = wheelforge(recipes.path(), &built().join("dist"), work.path())
        .args(["test", "wf-rsdemo"])
        .output()
        .unwrap();
    let all = text(&output);
    assert!(!output.status.success(), "{all}");
    assert!(all.contains("the fixture panicked on purpose"), "{all}");
    assert!(all.contains("panicked at src/lib.rs"), "{all}");
    assert!(all.contains("the guest trapped"), "{all}");
    assert!(all.contains("wf-rsdemo: FAILED"), "{all}");
}

#[test]
fn the_crates_are_vendored_into_the_cache_with_the_standard_librarys() {
    built();
    let vendor = common::toolchain_cache().join("cargo-vendor");
    let dirs: Vec<PathBuf> = fs_err::read_dir(&vendor)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir() && !path.to_string_lossy().ends_with(".partial"))
        .collect();
    let has = |dir: &Path, prefix: &str| {
        fs_err::read_dir(dir).unwrap().any(|entry| {
            entry
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(prefix)
        })
    };
    assert!(
        dirs.iter()
            .any(|dir| has(dir, "pyo3-0.27") && has(dir, "dlmalloc-") && has(dir, "wasip1-")),
        "no vendor directory with the fixture's and the standard library's crates in {}",
        vendor.display()
    );
}

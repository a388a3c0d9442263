//! `cargo bench --bench pandas`: pandas for WASI against native pandas, measured side by side
//! in one run on this machine (release wheelforge, toolchain installed; uses the network for
//! the sdists' build tools and for the manylinux wheels):
//! 1. build wall time: pandas' own row of `wheelforge build pandas -j 1` in a fresh directory
//!    (numpy, its host requirement, builds first and is not counted) against `pip wheel
//!    --no-cache-dir --no-deps --no-binary pandas pandas==V` with the toolchain's CPython 3.14
//!    and clang 22 for x86_64, in the toolchain's root (build tools from binary wheels);
//! 2. wheel size: the WASI wheel against the manylinux wheel of the same version on the index
//!    (and the locally built native wheel);
//! 3. groupby and friends: the same script under the embedded wasmtime (a component linked
//!    with componentize-py) and under native CPython 3.14 with the manylinux wheels; best of 5.
//!
//! Results are printed as Markdown for docs/benchmarks.md. Set `WHEELFORGE_BENCH_CACHE` to
//! reuse a cache directory (default: ~/.cache/wheelforge).

mod common;

use common::Bench;

const KERNELS: &str = r#"import json, time
import numpy as np
import pandas as pd

def best(fn, repeat=5):
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)

rng = np.random.default_rng(0)
rows = 10**6
frame = pd.DataFrame({
    "key": rng.integers(0, 1000, rows),
    "group": rng.choice(["a", "b", "c", "d"], rows),
    "value": rng.random(rows),
    "count": rng.integers(0, 100, rows),
})
right = pd.DataFrame({"key": np.arange(1000), "label": [f"k{i}" for i in range(1000)]})
series = pd.Series(rng.random(rows), index=pd.date_range("2026-01-01", periods=rows, freq="min"))
results = {
    "groupby 10^6 rows, 1000 int keys: sum": best(lambda: frame.groupby("key")["value"].sum()),
    "groupby 10^6 rows, 2 keys: mean + count": best(
        lambda: frame.groupby(["group", "key"]).agg(mean=("value", "mean"), n=("count", "count"))
    ),
    "groupby 10^6 rows, 4 string keys: describe": best(lambda: frame.groupby("group")["value"].describe()),
    "merge 10^6 x 1000 on int key": best(lambda: frame.merge(right, on="key", how="left")),
    "rolling mean, window 100, 10^6": best(lambda: series.rolling(100).mean()),
    "resample 10^6 minutes to hours: mean": best(lambda: series.resample("h").mean()),
}
print("WHEELFORGE-BENCH " + json.dumps(results))
"#;

fn main() {
    let version = common::recipe_version("pandas");
    let bench = Bench::new();
    // 1 and 2: build wall times (one after the other) and wheel sizes.
    let manylinux = bench.builds_and_sizes(
        "pandas",
        &version,
        "pandas' row of `wheelforge build pandas -j 1`",
    );
    // 3. Kernels: WASI (linked component) and native (manylinux wheels).
    let requirement = format!("pandas=={version}");
    // numpy.random and pandas' reshaping (for describe's unstack) are imported lazily:
    // import them while linking.
    let wasi_kernels = bench.run_wasi(
        &requirement,
        &["numpy.random", "pandas", "pandas.core.reshape.reshape"],
        KERNELS,
    );
    let native_kernels = bench.run_native(&manylinux, &requirement, KERNELS);
    common::print_kernels(&wasi_kernels, &native_kernels);
}

//! `cargo bench --bench app`: the consumer's paths side by side in one run (issue 20), for an
//! app that uses numpy's lazily loaded `fft` and `random`:
//! 1. stock componentize-py with the wheels pip installed, run with no mount (numpy's wheel
//!    imports its lazy submodules itself under WASI, `build.eager-imports`);
//! 2. the same component run with the directories mounted where componentize-py saw them;
//! 3. `wheelforge app build` (every file packed into the component), with the default preload
//!    (numpy in the snapshot) and with `preload = []` (numpy imported at run time, from the
//!    packed files);
//! 4. a pandas app with tzdata (`app build`);
//! 5. `wheelforge python --with numpy -c ...`: the first run (resolve, install, link, compile)
//!    and the second (from the cache).
//!
//! For each: the component's size, the link time, the first run (compiles the component) and
//! the best of 5 runs with the compiled code cached. Results print as Markdown for
//! docs/benchmarks.md. `WHEELFORGE_BENCH_CACHE` names the cache (default
//! ~/.cache/wheelforge); `WHEELFORGE_BENCH_INDEX` an output directory that already holds numpy,
//! pandas and tzdata (else they are built first).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::{Bench, mib, run_ok};
use wheelforge::runtime::{RunOptions, run_command};
use wheelforge::toolchain::link::{TestApp, guest, link_test_component};

const NUMPY_APP: &str = "import numpy as np\n\
spectrum = np.fft.rfft(np.sin(2 * np.pi * 5 * np.arange(64) / 64))\n\
print('fft peak', int(np.argmax(np.abs(spectrum))))\n\
print('random', np.random.default_rng(12345).integers(0, 1000, size=3).tolist())\n";

const PANDAS_APP: &str = "import pandas as pd\n\
for day in pd.date_range('2026-03-28', periods=3, freq='D', tz='Europe/Paris'):\n    print(day.isoformat())\n";

struct Row {
    what: String,
    size: u64,
    link: f64,
    first: f64,
    cached: f64,
}

/// The first run, then the best of 5 with the compiled code cached.
fn runs(component: &Path, options: &RunOptions) -> (f64, f64) {
    let time = || {
        let started = Instant::now();
        let output = run_command(component, options).unwrap();
        assert_eq!(
            output.exit_code,
            0,
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        started.elapsed().as_secs_f64()
    };
    let first = time();
    let cached = (0..5).map(|_| time()).fold(f64::INFINITY, f64::min);
    (first, cached)
}

fn project(dir: &Path, dependencies: &str, app: &str, preload: Option<&str>) {
    std::fs::create_dir_all(dir).unwrap();
    let preload = preload
        .map(|p| format!("preload = {p}\n"))
        .unwrap_or_default();
    std::fs::write(
        dir.join("pyproject.toml"),
        format!("[project]\nname = \"bench\"\nversion = \"0\"\ndependencies = {dependencies}\n\n[tool.wheelforge.app]\nscript = \"main.py\"\n{preload}"),
    )
    .unwrap();
    std::fs::write(dir.join("main.py"), app).unwrap();
}

fn main() {
    let bench = Bench::new();
    // The index in the work directory, which the toolchain's sandbox sees.
    let out = bench.work.join("dist");
    match std::env::var_os("WHEELFORGE_BENCH_INDEX").map(PathBuf::from) {
        Some(index) => {
            let packages = out.join("packages");
            std::fs::create_dir_all(&packages).unwrap();
            for entry in std::fs::read_dir(index.join("packages")).unwrap().flatten() {
                std::fs::copy(entry.path(), packages.join(entry.file_name())).unwrap();
            }
        }
        None => run_ok(
            bench
                .wheelforge()
                .args(["build", "numpy", "pandas", "tzdata"]),
            "build",
        ),
    }
    let wheelforge = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wheelforge"));
        command
            .arg("--recipes")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes"))
            .arg("--out")
            .arg(&out)
            .arg("--build-dir")
            .arg(bench.work.join("build"))
            .arg("--cache-dir")
            .arg(&bench.cache);
        command
    };
    let bare = RunOptions {
        args: vec!["app".into()],
        cache_dir: Some(bench.cache.join("runtime")),
        ..Default::default()
    };
    let mut rows = Vec::new();

    // 1 and 2: stock pip and componentize-py.
    let deps = bench.work.join("stock-deps");
    let mut pip = bench.python_in_root();
    pip.args(["-m", "pip", "install", "--no-index", "--find-links"])
        .arg(out.join("packages"))
        .args(wheelforge::testing::CONSUMER_PIP_ARGUMENTS)
        .arg("--target")
        .arg(&deps)
        .arg("numpy");
    run_ok(&mut pip, "pip install (stock)");
    let link_dir = bench.work.join("stock");
    std::fs::create_dir_all(&link_dir).unwrap();
    let app = TestApp {
        imports: vec!["numpy".into()],
        command: Some(NUMPY_APP.into()),
        ..Default::default()
    };
    let started = Instant::now();
    let component = link_test_component(
        &bench.toolchain,
        &app,
        &deps,
        &link_dir,
        &link_dir.join("link.log"),
    )
    .expect("link");
    let link = started.elapsed().as_secs_f64();
    let size = std::fs::metadata(&component).unwrap().len();
    let stock_bare = RunOptions {
        args: vec!["test".into()],
        ..bare.clone()
    };
    let (first, cached) = runs(&component, &stock_bare);
    rows.push(Row {
        what: "stock componentize-py, `import numpy` (its eager imports), no mount".into(),
        size,
        link,
        first,
        cached,
    });
    let mounted = RunOptions {
        preopens: vec![
            (bench.toolchain.runtime_stdlib(), guest::STDLIB.into()),
            (link_dir.join("app"), guest::APP.into()),
            (deps.clone(), guest::DEPS.into()),
        ],
        ..stock_bare.clone()
    };
    let (first, cached) = runs(&component, &mounted);
    rows.push(Row {
        what: "the same, the standard library and deps mounted".into(),
        size,
        link,
        first,
        cached,
    });

    // 3 and 4: app build.
    for (name, dependencies, source, preload, what) in [
        (
            "numpy-app",
            "[\"numpy\"]",
            NUMPY_APP,
            None,
            "`app build`, numpy app, default preload (numpy)",
        ),
        (
            "numpy-app-lazy",
            "[\"numpy\"]",
            NUMPY_APP,
            Some("[]"),
            "`app build`, numpy app, `preload = []`",
        ),
        (
            "pandas-app",
            "[\"pandas\", \"tzdata\"]",
            PANDAS_APP,
            None,
            "`app build`, pandas app with tzdata (Europe/Paris)",
        ),
    ] {
        let dir = bench.work.join(name);
        project(&dir, dependencies, source, preload);
        let component = dir.join("app.wasm");
        // The lock first, so that the link time is stages 3 to 5.
        run_ok(wheelforge().arg("lock").arg(&dir), "lock");
        let started = Instant::now();
        run_ok(
            wheelforge()
                .args(["app", "build", "--locked"])
                .arg(&dir)
                .arg("-o")
                .arg(&component),
            "app build",
        );
        let link = started.elapsed().as_secs_f64();
        let size = std::fs::metadata(&component).unwrap().len();
        let (first, cached) = runs(&component, &bare);
        rows.push(Row {
            what: what.into(),
            size,
            link,
            first,
            cached,
        });
    }

    // 5: wheelforge python, in a cache of its own (the toolchain linked in).
    let cache = bench.work.join("python-cache");
    std::fs::create_dir_all(&cache).unwrap();
    std::os::unix::fs::symlink(bench.cache.join("toolchain"), cache.join("toolchain")).unwrap();
    let python = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wheelforge"));
        command
            .arg("--out")
            .arg(&out)
            .arg("--cache-dir")
            .arg(&cache)
            .args(["python", "--with", "numpy", "-c", NUMPY_APP]);
        command
    };
    let started = Instant::now();
    run_ok(&mut python(), "python (first)");
    let first = started.elapsed().as_secs_f64();
    let second = (0..5)
        .map(|_| {
            let started = Instant::now();
            run_ok(&mut python(), "python (again)");
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);

    println!("## Apps and `wheelforge python` (`cargo bench --bench app`)\n");
    println!(
        "| component | size | link | first run (compiles) | run, compiled code cached (best of 5) |\n|---|---|---|---|---|"
    );
    for row in rows {
        println!(
            "| {} | {} | {:.1} s | {:.2} s | {:.2} s |",
            row.what,
            mib(row.size),
            row.link,
            row.first,
            row.cached
        );
    }
    println!("\n| `wheelforge python --with numpy -c ...` | wall time |\n|---|---|");
    println!("| first run: resolve, install, pack, link, compile, run | {first:.1} s |");
    println!("| second run, from the cache (best of 5) | {second:.2} s |");
}

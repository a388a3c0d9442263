//! Heavy tier (issue 5): pandas from the repository's recipe. `wheelforge build pandas` builds
//! numpy first (pandas' host requirement) and pandas' pure-Python run requirements, into one
//! index (once per test binary, shared by the tests below); then
//! - stock pip installs pandas from `wheelforge serve` with `--platform wasi_0_2_wasm32`, and a
//!   consumer's own app linked with componentize-py runs a groupby / merge / date-range program
//!   under wasmtime; `wheelforge test pandas --no-pytest` runs the recipe's smoke test;
//! - (ignored by default: about 45 minutes on 2 cores) `wheelforge test pandas` runs the
//!   recipe's subset of pandas' own suite under WASI and natively and compares them. The
//!   nightly farm runs that command for every recipe (ci/build.yml); here it runs with
//!   `cargo test --test pandas -- --include-ignored`.
//!
//! The toolchain cache is shared with tests/wasi.rs (`WHEELFORGE_TEST_CACHE`). Times are in
//! docs/benchmarks.md.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn cache_dir() -> PathBuf {
    common::toolchain_cache()
}

fn wheelforge(work: &Path) -> Command {
    common::repository_wheelforge(work, &work.join("build"))
}

/// The work directory where `wheelforge build` of numpy, pandas and tzdata ran, once for this
/// test binary. It persists in the target directory and is shared with tests/app.rs
/// ([`common::scientific_index`]): the second binary finds the wheels up to date.
fn built() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let (work, stdout) = common::scientific_index();
        // numpy first (the host requirement), then pandas, into one index.
        let packages = work.join("dist/packages");
        for wheel in [
            "numpy-2.4.6-cp314-cp314-wasi_0_2_wasm32.whl",
            "pandas-3.1.1-cp314-cp314-wasi_0_2_wasm32.whl",
            "python_dateutil-2.9.0.post0-py3-none-any.whl",
            "six-1.17.0-py3-none-any.whl",
        ] {
            assert!(packages.join(wheel).is_file(), "{wheel}\n{stdout}");
        }
        work
    })
}

fn run_ok(command: &mut Command) -> String {
    let output = command.output().unwrap();
    let all = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{all}");
    all
}

/// The consumer's program: what the issue asks a linked component to do.
const CONSUMER_APP: &str = r#"import datetime
# A component keeps only what was imported when it was linked: zoneinfo's resource readers
# are imported lazily, on the first named zone (docs/recipes.md).
import importlib.readers
import importlib.resources._adapters
import pandas as pd
import tzdata
from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        sales = pd.DataFrame({
            "store": ["north", "south", "north", "east", "south", "north"],
            "units": [3, 5, 2, 7, 1, 4],
            "price": [2.5, 1.0, 2.5, 3.0, 1.0, 2.0],
        })
        sales["revenue"] = sales["units"] * sales["price"]
        totals = sales.groupby("store").agg(units=("units", "sum"), revenue=("revenue", "sum"))
        for store, row in totals.iterrows():
            print("groupby", store, int(row["units"]), f"{row['revenue']:.2f}")
        managers = pd.DataFrame({"store": ["north", "south"], "manager": ["Ada", "Grace"]})
        merged = totals.reset_index().merge(managers, on="store", how="left")
        print("merge", ",".join(f"{s}:{m}" for s, m in zip(merged["store"], merged["manager"].fillna("-"))))
        days = pd.date_range("2026-03-28 12:00", periods=3, freq="D", tz="UTC")
        # A named zone: tzdata's files are read at run time from the installed packages,
        # which the runner mounts where componentize-py saw them (/1).
        paris = days.tz_convert("Europe/Paris")
        print("dates", " ".join(paris.strftime("%m-%d %H:%M%z")))
        offset = days.tz_convert(datetime.timezone(datetime.timedelta(hours=-5)))
        print("offset", " ".join(offset.strftime("%d %H:%M")))
        weekly = pd.Series(range(10), index=pd.date_range("2026-01-01", periods=10, freq="D"))
        print("resample", weekly.resample("W").sum().tolist())
"#;

#[test]
fn pandas_builds_after_numpy_and_runs_a_consumers_groupby_merge_and_dates() {
    let work = built();
    let toolchain =
        wheelforge::toolchain::install::ensure(&cache_dir(), &wheelforge::reporter::SilentReporter)
            .unwrap();
    let consumer = fs_err::canonicalize(work).unwrap().join("consumer");
    let deps = consumer.join("deps");
    common::consumer_install_served(
        wheelforge(work),
        Path::new("python3"),
        &deps,
        &["pandas"],
        &[
            "numpy-2.4.6",
            "pandas-3.1.1",
            "python_dateutil-",
            "six-",
            "tzdata-",
        ],
    );
    let run = common::consumer_link_and_run_with(
        &toolchain,
        &consumer,
        &deps,
        CONSUMER_APP,
        vec![(deps.clone(), "/1".into())],
    );
    assert_eq!(run.exit_code, 0, "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "groupby east 7 21.00\n\
         groupby north 9 20.50\n\
         groupby south 6 6.00\n\
         merge east:-,north:Ada,south:Grace\n\
         dates 03-28 13:00+0100 03-29 14:00+0200 03-30 14:00+0200\n\
         offset 28 07:00 29 07:00 30 07:00\n\
         resample [6, 39]\n"
    );

    // The recipe's own smoke test, without the suite (the ignored test below runs it).
    let all = run_ok(wheelforge(work).args(["test", "pandas", "--no-pytest"]));
    assert!(
        all.contains("pandas 3.1.1 groupby: {'a': 4, 'b': 2, 'c': 4}"),
        "{all}"
    );
    assert!(
        !work.join("build/pandas/test/pytest").exists(),
        "--no-pytest ran the suite\n{all}"
    );
}

/// `wheelforge test pandas` with the recipe's subset of pandas' suite (docs/benchmarks.md).
#[test]
#[ignore = "about 45 minutes on 2 cores; run with --include-ignored (the nightly farm runs `wheelforge test pandas`)"]
fn pandas_passes_its_own_suite_subset_under_wasi_against_native() {
    let work = built();
    // Its own build directory: the tests share the index and may run at the same time.
    let build_dir = work.join("suite");
    let all = run_ok(common::repository_wheelforge(work, &build_dir).args(["test", "pandas"]));
    common::assert_suite_ratio(
        &build_dir.join("pandas/test/pytest/report.json"),
        10_000,
        0.95,
        &all,
    );
}

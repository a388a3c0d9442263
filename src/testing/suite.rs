//! Running a package's own pytest suite: under the WASI runtime, and natively for reference.
//!
//! Both runs use the same driver (`toolchain/wheelforge_pytest.py`), which records each test's
//! outcome as a line of `progress.jsonl`. A wasm trap (or a native crash) ends the whole
//! process, so a run is a series of attempts: after one that did not finish, the test that had
//! started (or the file being collected) is recorded as `crashed`, and the next attempt
//! deselects everything already done.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

mod cpu_target;
pub use cpu_target::{CPU_TARGET_TESTS, cpu_target_entry};

/// At most this many attempts per run: each crash costs one.
const MAX_ATTEMPTS: usize = 60;

/// What one attempt of the suite needs from its runner.
pub trait Attempt {
    /// Runs the driver once with the configuration already written to `config.json` in the
    /// results directory. Returns a one-line description of how it ended when it did not
    /// exit normally (a trap, a signal), for the log.
    fn run(&mut self) -> Result<Option<String>, super::TestError>;
}

/// Counts of outcomes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub xfailed: usize,
    pub xpassed: usize,
    pub errors: usize,
    /// Tests (or files, at collection) during which the process died.
    pub crashed: usize,
    /// Tests stopped for making no progress (see `SuiteLimits::idle`).
    #[serde(default)]
    pub timeouts: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.passed
            + self.failed
            + self.skipped
            + self.xfailed
            + self.xpassed
            + self.errors
            + self.crashed
            + self.timeouts
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped, {} xfailed, {} xpassed, {} errors, {} crashed, {} timed out",
            self.passed,
            self.failed,
            self.skipped,
            self.xfailed,
            self.xpassed,
            self.errors,
            self.crashed,
            self.timeouts
        )
    }
}

/// The result of one run (all its attempts).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunResult {
    /// Node id → outcome.
    pub outcomes: BTreeMap<String, String>,
    pub counts: Counts,
    pub attempts: usize,
    /// Skip-list entries that matched nothing (stale entries).
    pub unused_skips: Vec<String>,
    pub seconds: f64,
    /// The slowest tests, slowest first, with their durations in seconds.
    pub slowest: Vec<(String, f64)>,
}

const SLOWEST: usize = 15;

/// The progress file, folded: outcomes so far and whether the last attempt finished.
#[derive(Debug, Default)]
struct Progress {
    outcomes: BTreeMap<String, String>,
    /// Node id → the test's duration as pytest measured it.
    seconds: BTreeMap<String, f64>,
    /// Files whose collection crashed or failed: later attempts do not collect them again
    /// (a file that fails to collect would fail the same way in every attempt).
    uncollected_files: Vec<String>,
    unused_skips: Vec<String>,
    /// In the last attempt: the test started and not finished, the file being collected.
    pending_test: Option<String>,
    pending_file: Option<String>,
    finished: bool,
    /// Records written by the last attempt.
    last_attempt_records: usize,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Record {
    Attempt {
        #[allow(dead_code)]
        attempt: usize,
    },
    Test {
        test: String,
        outcome: String,
        #[serde(default)]
        seconds: f64,
    },
    Start {
        start: String,
    },
    Collect {
        collect: String,
    },
    UnusedSkip {
        #[serde(rename = "unused-skip")]
        unused_skip: String,
    },
    Exit {
        #[allow(dead_code)]
        exit: i64,
    },
}

fn read_progress(path: &Path) -> Progress {
    let text = fs_err::read_to_string(path).unwrap_or_default();
    let mut progress = Progress::default();
    for line in text.lines() {
        // A line cut short by a crash is not a record.
        let Ok(record) = serde_json::from_str::<Record>(line) else {
            continue;
        };
        progress.last_attempt_records += 1;
        match record {
            Record::Attempt { .. } => {
                progress.finished = false;
                progress.pending_test = None;
                progress.pending_file = None;
                progress.unused_skips.clear();
                progress.last_attempt_records = 0;
            }
            Record::Collect { collect } => progress.pending_file = Some(collect),
            Record::Start { start } => {
                progress.pending_file = None;
                progress.pending_test = Some(start);
            }
            Record::Test {
                test,
                outcome,
                seconds,
            } => {
                progress.seconds.insert(test.clone(), seconds);
                if progress.pending_test.as_deref() == Some(test.as_str()) {
                    progress.pending_test = None;
                }
                if matches!(outcome.as_str(), "crashed" | "timeout" | "error")
                    && test.ends_with(".py")
                    && !test.contains("::")
                    && !progress.uncollected_files.contains(&test)
                {
                    progress.uncollected_files.push(test.clone());
                }
                progress.outcomes.insert(test, outcome);
            }
            Record::UnusedSkip { unused_skip } => progress.unused_skips.push(unused_skip),
            Record::Exit { .. } => {
                progress.finished = true;
                progress.pending_test = None;
                progress.pending_file = None;
            }
        }
    }
    progress
}

fn append(path: &Path, value: serde_json::Value) -> Result<(), super::TestError> {
    use std::io::Write;
    let mut file = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| super::TestError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    writeln!(file, "{value}").map_err(|source| super::TestError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The driver's configuration for one attempt.
#[derive(Debug, Clone, Serialize)]
pub struct DriverConfig {
    pub args: Vec<String>,
    /// Import roots, as the driver sees them (`/1` in the guest).
    pub roots: Vec<String>,
    /// `[entry, reason]` pairs.
    pub skips: Vec<(String, String)>,
    /// The working directory of the run, as the driver sees it (else its own).
    pub chdir: Option<String>,
}

/// Runs the suite to the end, attempt after attempt, in `results_dir`.
pub fn run_suite(
    config: &DriverConfig,
    results_dir: &Path,
    attempt: &mut dyn Attempt,
    log: &mut dyn FnMut(&str),
) -> Result<RunResult, super::TestError> {
    let started = Instant::now();
    let progress_path = results_dir.join("progress.jsonl");
    let config_path = results_dir.join("config.json");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| super::TestError::Io { path, source }
    };
    if progress_path.exists() {
        fs_err::remove_file(&progress_path).map_err(io(&progress_path))?;
    }
    let mut attempts = 0;
    loop {
        let progress = read_progress(&progress_path);
        attempts += 1;
        let done: Vec<&String> = progress.outcomes.keys().collect();
        let body = serde_json::json!({
            "args": config.args,
            "roots": config.roots,
            "skips": config.skips,
            "chdir": config.chdir,
            "done": done,
            "ignore": progress.uncollected_files,
        });
        fs_err::write(&config_path, body.to_string()).map_err(io(&config_path))?;
        append(&progress_path, serde_json::json!({ "attempt": attempts }))?;
        let ended = attempt.run()?;
        let progress = read_progress(&progress_path);
        if progress.finished {
            return Ok(RunResult::of(
                progress,
                attempts,
                started.elapsed().as_secs_f64(),
            ));
        }
        let how = ended.unwrap_or_else(|| "the driver stopped without finishing".into());
        let culprit = progress
            .pending_test
            .clone()
            .or_else(|| progress.pending_file.clone());
        let Some(culprit) = culprit else {
            return Err(super::TestError::Suite {
                detail: format!(
                    "attempt {attempts} ended outside any test ({how}); see {}",
                    progress_path.display()
                ),
            });
        };
        let outcome = if how.contains(crate::runtime::IDLE_INTERRUPT) {
            "timeout"
        } else {
            "crashed"
        };
        log(&format!(
            "attempt {attempts}: {outcome} in {culprit}: {how}"
        ));
        append(
            &progress_path,
            serde_json::json!({ "test": culprit, "outcome": outcome }),
        )?;
        if attempts >= MAX_ATTEMPTS {
            return Err(super::TestError::Suite {
                detail: format!(
                    "the suite crashed {attempts} times; giving up (see {})",
                    progress_path.display()
                ),
            });
        }
    }
}

impl RunResult {
    /// The finished run's outcomes, counted, with its slowest tests.
    fn of(progress: Progress, attempts: usize, seconds: f64) -> RunResult {
        let mut counts = Counts::default();
        for outcome in progress.outcomes.values() {
            match outcome.as_str() {
                "passed" => counts.passed += 1,
                "failed" => counts.failed += 1,
                "skipped" => counts.skipped += 1,
                "xfailed" => counts.xfailed += 1,
                "xpassed" => counts.xpassed += 1,
                "crashed" => counts.crashed += 1,
                "timeout" => counts.timeouts += 1,
                _ => counts.errors += 1,
            }
        }
        let mut slowest: Vec<(String, f64)> = progress.seconds.into_iter().collect();
        slowest.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        slowest.truncate(SLOWEST);
        RunResult {
            slowest,
            outcomes: progress.outcomes,
            counts,
            attempts,
            unused_skips: progress.unused_skips,
            seconds,
        }
    }
}

/// How the WASI run compares with the native one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    /// Tests that pass natively, CPU-target tests left out.
    pub native_passing: usize,
    /// Of those, the ones that pass under WASI.
    pub also_passing: usize,
    /// Natively passing tests that do not pass under WASI, with their WASI outcome
    /// (`missing` when the WASI run never reached them: a skipped file, a crashed collection).
    pub regressions: BTreeMap<String, String>,
    /// Natively passing parametrized tests counted as passing under another parameter id, per
    /// test function (the node id before `[`): ids are built from platform type names
    /// (`longlong` natively is `int64` on wasm32, `long` is `int32`), so the same parameter
    /// has another id in each run. A function's natively passing ids that the WASI run lacks
    /// are paired with its WASI-only ids that passed, as many as both sides have.
    #[serde(default)]
    pub paired: BTreeMap<String, usize>,
    /// Natively passing tests of the build machine's own CPU targets, per entry of
    /// [`CPU_TARGET_TESTS`]: left out of `native_passing` and of `also_passing`, so that the
    /// ratio does not depend on the CPU of the build machine (see [`cpu_target_entry`]).
    #[serde(default)]
    pub cpu_target: BTreeMap<String, usize>,
}

impl Comparison {
    /// Natively passing CPU-target tests, left out of the ratio.
    pub fn cpu_target_total(&self) -> usize {
        self.cpu_target.values().sum()
    }

    /// 0 when nothing passed natively: a comparison with nothing proves nothing.
    pub fn ratio(&self) -> f64 {
        if self.native_passing == 0 {
            0.0
        } else {
            self.also_passing as f64 / self.native_passing as f64
        }
    }
}

/// Compares the WASI run with the native one over the natively passing tests. Tests of the
/// build machine's own CPU targets ([`cpu_target_entry`]) are counted apart and left out of
/// both sides of the ratio: how many there are depends on the build machine's CPU, and none
/// can apply to wasm32.
pub fn compare(wasi: &RunResult, native: &RunResult) -> Comparison {
    let mut comparison = Comparison {
        native_passing: 0,
        also_passing: 0,
        regressions: BTreeMap::new(),
        paired: BTreeMap::new(),
        cpu_target: BTreeMap::new(),
    };
    for (test, outcome) in &native.outcomes {
        if outcome != "passed" {
            continue;
        }
        if let Some(entry) = cpu_target_entry(test) {
            *comparison.cpu_target.entry(entry.to_string()).or_default() += 1;
            continue;
        }
        comparison.native_passing += 1;
        match wasi.outcomes.get(test).map(String::as_str) {
            Some("passed") => comparison.also_passing += 1,
            other => {
                comparison
                    .regressions
                    .insert(test.clone(), other.unwrap_or("missing").to_string());
            }
        }
    }
    pair_parameter_ids(wasi, native, &mut comparison);
    comparison
}

/// The test function of a parametrized node id (`f[a-b]` → `f`); None when not parametrized.
fn parametrized_function(test: &str) -> Option<&str> {
    test.find('[').map(|at| &test[..at])
}

/// Counts as passing, per test function, as many natively passing ids missing under WASI as
/// there are WASI-only ids of that function that passed (see [`Comparison::paired`]).
fn pair_parameter_ids(wasi: &RunResult, native: &RunResult, comparison: &mut Comparison) {
    let mut wasi_only: BTreeMap<&str, usize> = BTreeMap::new();
    for (test, outcome) in &wasi.outcomes {
        if outcome == "passed"
            && !native.outcomes.contains_key(test)
            && cpu_target_entry(test).is_none()
            && let Some(function) = parametrized_function(test)
        {
            *wasi_only.entry(function).or_default() += 1;
        }
    }
    let missing: Vec<String> = comparison
        .regressions
        .iter()
        .filter(|(test, outcome)| {
            outcome.as_str() == "missing" && parametrized_function(test).is_some()
        })
        .map(|(test, _)| test.clone())
        .collect();
    for test in missing {
        let function = parametrized_function(&test).unwrap_or_default();
        let Some(available) = wasi_only.get_mut(function).filter(|left| **left > 0) else {
            continue;
        };
        *available -= 1;
        comparison.regressions.remove(&test);
        comparison.also_passing += 1;
        *comparison.paired.entry(function.to_string()).or_default() += 1;
    }
}

/// The suite's report: both runs and how they compare.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuiteReport {
    pub wasi: RunResult,
    pub native: Option<RunResult>,
    pub comparison: Option<Comparison>,
    /// The recipe's `pass-ratio`.
    pub required_ratio: f64,
    pub skip_entries: usize,
}

impl SuiteReport {
    /// The share of natively passing tests that pass under WASI; without a native run, the
    /// share of the WASI run's tests that were not skipped and passed. A suite in which
    /// nothing ran has ratio 0 and fails.
    pub fn ratio(&self) -> f64 {
        match &self.comparison {
            Some(comparison) => comparison.ratio(),
            None => {
                let counts = &self.wasi.counts;
                let ran = counts.total() - counts.skipped - counts.xfailed;
                if ran == 0 {
                    0.0
                } else {
                    counts.passed as f64 / ran as f64
                }
            }
        }
    }

    pub fn passed(&self) -> bool {
        self.ratio() >= self.required_ratio
    }

    /// A few lines for the terminal.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "pytest under WASI: {} ({} attempts, {:.0} s)\n",
            self.wasi.counts, self.wasi.attempts, self.wasi.seconds
        );
        if let Some(native) = &self.native {
            text.push_str(&format!(
                "pytest natively:   {} ({:.0} s)\n",
                native.counts, native.seconds
            ));
        }
        if let Some(comparison) = &self.comparison {
            text.push_str(&format!(
                "natively passing tests that pass under WASI: {}/{} ({:.2} %, required {:.0} %)\n",
                comparison.also_passing,
                comparison.native_passing,
                comparison.ratio() * 100.0,
                self.required_ratio * 100.0
            ));
            let cpu_target = comparison.cpu_target_total();
            if cpu_target > 0 {
                text.push_str(&format!(
                    "  left out: {cpu_target} natively passing tests of the build machine's CPU targets (numpy's SIMD and CPU-dispatch tests; `cpu_target` in report.json)\n"
                ));
            }
            let paired: usize = comparison.paired.values().sum();
            if paired > 0 {
                text.push_str(&format!(
                    "  {paired} of them passed under another parameter id (type names differ on wasm32; `paired` in report.json)\n"
                ));
            }
            let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
            for outcome in comparison.regressions.values() {
                *outcomes.entry(outcome.as_str()).or_default() += 1;
            }
            if !outcomes.is_empty() {
                let listed: Vec<String> = outcomes
                    .iter()
                    .map(|(outcome, count)| format!("{count} {outcome}"))
                    .collect();
                text.push_str(&format!(
                    "  the others under WASI: {} (`regressions` in report.json)\n",
                    listed.join(", ")
                ));
            }
        } else {
            text.push_str(&format!(
                "passing share of the tests run under WASI: {:.2} % (required {:.0} %; no native run)\n",
                self.ratio() * 100.0,
                self.required_ratio * 100.0
            ));
        }
        if !self.wasi.unused_skips.is_empty() {
            text.push_str(&format!(
                "skip entries that matched nothing (stale?): {}\n",
                self.wasi.unused_skips.join(", ")
            ));
        }
        text
    }
}

/// Writes `report.json` into `dir` (temp file, then rename).
pub fn write_report(report: &SuiteReport, dir: &Path) -> Result<PathBuf, super::TestError> {
    let path = dir.join("report.json");
    let io = |source| super::TestError::Io {
        path: path.clone(),
        source,
    };
    let temporary = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    let text = serde_json::to_string_pretty(report).expect("reports serialize");
    fs_err::write(temporary.path(), text).map_err(io)?;
    temporary.persist(&path).map_err(|e| io(e.error))?;
    Ok(path)
}

/// How long a run took, for the log.
pub fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plays a scripted driver: each attempt appends its lines to the progress file.
    struct Scripted {
        progress: PathBuf,
        attempts: Vec<Vec<serde_json::Value>>,
        configs: Vec<serde_json::Value>,
    }

    impl Attempt for Scripted {
        fn run(&mut self) -> Result<Option<String>, crate::testing::TestError> {
            let config = self.progress.with_file_name("config.json");
            self.configs
                .push(serde_json::from_str(&fs_err::read_to_string(config).unwrap()).unwrap());
            let lines = self.attempts.remove(0);
            let crashed = !lines.iter().any(|line| line.get("exit").is_some());
            for line in lines {
                append(&self.progress, line)?;
            }
            Ok(crashed.then(|| "wasm trap".to_string()))
        }
    }

    #[test]
    fn a_crash_is_recorded_and_the_next_attempt_skips_what_is_done() {
        use serde_json::json;
        let dir = tempfile::tempdir().unwrap();
        let mut driver = Scripted {
            progress: dir.path().join("progress.jsonl"),
            attempts: vec![
                vec![
                    json!({"collect": "p/test_a.py"}),
                    json!({"collect": "p/test_b.py"}),
                ],
                vec![
                    json!({"collect": "p/test_a.py"}),
                    json!({"start": "p/test_a.py::t1"}),
                    json!({"test": "p/test_a.py::t1", "outcome": "passed"}),
                    json!({"start": "p/test_a.py::t2"}),
                ],
                vec![
                    json!({"start": "p/test_a.py::t3"}),
                    json!({"test": "p/test_a.py::t3", "outcome": "failed"}),
                    json!({"unused-skip": "p/test_z.py"}),
                    json!({"exit": 1}),
                ],
            ],
            configs: Vec::new(),
        };
        let config = DriverConfig {
            args: vec!["--pyargs".into(), "p".into()],
            roots: vec!["/1".into()],
            skips: vec![("p/test_z.py".into(), "no threads".into())],
            chdir: None,
        };
        let mut lines = Vec::new();
        let result = run_suite(&config, dir.path(), &mut driver, &mut |line| {
            lines.push(line.to_string())
        })
        .unwrap();
        assert_eq!(result.attempts, 3);
        assert_eq!(
            result.counts,
            Counts {
                passed: 1,
                failed: 1,
                crashed: 2,
                ..Default::default()
            }
        );
        assert_eq!(result.outcomes["p/test_b.py"], "crashed");
        assert_eq!(result.outcomes["p/test_a.py::t2"], "crashed");
        assert_eq!(result.unused_skips, ["p/test_z.py"]);
        // The second attempt ignores the file whose collection crashed; the third also
        // deselects the tests already done.
        assert_eq!(driver.configs[1]["ignore"], json!(["p/test_b.py"]));
        assert_eq!(
            driver.configs[2]["done"],
            json!(["p/test_a.py::t1", "p/test_a.py::t2", "p/test_b.py"])
        );
        assert_eq!(lines.len(), 2, "{lines:?}");
    }

    #[test]
    fn a_file_that_fails_to_collect_is_not_collected_again() {
        use serde_json::json;
        let dir = tempfile::tempdir().unwrap();
        let mut driver = Scripted {
            progress: dir.path().join("progress.jsonl"),
            attempts: vec![
                vec![
                    json!({"collect": "p/test_c.py"}),
                    json!({"test": "p/test_c.py", "outcome": "error"}),
                    json!({"collect": "p/test_a.py"}),
                    json!({"start": "p/test_a.py::t1"}),
                ],
                vec![
                    json!({"start": "p/test_a.py::t2"}),
                    json!({"test": "p/test_a.py::t2", "outcome": "passed"}),
                    json!({"exit": 1}),
                ],
            ],
            configs: Vec::new(),
        };
        let config = DriverConfig {
            args: vec!["--pyargs".into(), "p".into()],
            roots: vec!["/1".into()],
            skips: vec![],
            chdir: None,
        };
        let result = run_suite(&config, dir.path(), &mut driver, &mut |_| {}).unwrap();
        assert_eq!(result.attempts, 2);
        assert_eq!(driver.configs[1]["ignore"], json!(["p/test_c.py"]));
        assert_eq!(
            result.counts,
            Counts {
                passed: 1,
                errors: 1,
                crashed: 1,
                ..Default::default()
            }
        );
    }

    #[test]
    fn a_crash_outside_any_test_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut driver = Scripted {
            progress: dir.path().join("progress.jsonl"),
            attempts: vec![vec![]],
            configs: Vec::new(),
        };
        let config = DriverConfig {
            args: vec![],
            roots: vec![],
            skips: vec![],
            chdir: None,
        };
        let error = run_suite(&config, dir.path(), &mut driver, &mut |_| {}).unwrap_err();
        assert!(error.to_string().contains("outside any test"), "{error}");
    }

    /// A run with these outcomes.
    fn run(pairs: &[(&str, &str)]) -> RunResult {
        RunResult {
            outcomes: pairs
                .iter()
                .map(|(test, outcome)| (test.to_string(), outcome.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn comparison_counts_natively_passing_tests_only() {
        let native = run(&[
            ("a", "passed"),
            ("b", "passed"),
            ("c", "failed"),
            ("d", "passed"),
        ]);
        let wasi = run(&[("a", "passed"), ("b", "skipped"), ("c", "passed")]);
        let comparison = compare(&wasi, &native);
        assert_eq!((comparison.also_passing, comparison.native_passing), (1, 3));
        assert_eq!(comparison.regressions["b"], "skipped");
        assert_eq!(comparison.regressions["d"], "missing");
        assert!(comparison.paired.is_empty());
    }

    #[test]
    fn parameter_ids_missing_under_wasi_pair_with_wasi_only_ids_that_passed() {
        let native = run(&[
            ("t.py::f[int64]", "passed"),
            ("t.py::f[longlong]", "passed"),
            ("t.py::f[int32]", "passed"),
            ("t.py::g[longlong]", "passed"),
            ("t.py::h[longlong]", "passed"),
            ("t.py::k", "passed"),
        ]);
        let wasi = run(&[
            ("t.py::f[int64]", "passed"),
            ("t.py::f[intc]", "passed"),
            ("t.py::f[int32]", "passed"),
            // Only passed WASI-only ids pair, and never across functions.
            ("t.py::g[intc]", "failed"),
            ("t.py::j[intc]", "passed"),
        ]);
        let comparison = compare(&wasi, &native);
        assert_eq!((comparison.also_passing, comparison.native_passing), (3, 6));
        assert_eq!(comparison.paired.get("t.py::f"), Some(&1));
        assert_eq!(comparison.paired.len(), 1);
        let regressions: Vec<&str> = comparison.regressions.keys().map(String::as_str).collect();
        assert_eq!(
            regressions,
            ["t.py::g[longlong]", "t.py::h[longlong]", "t.py::k"]
        );
    }
}

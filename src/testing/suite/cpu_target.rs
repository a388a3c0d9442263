//! Which tests exercise the build machine's own CPU targets, and so cannot apply to wasm32:
//! the rule [`super::compare`] uses to leave them out of the pass ratio. It owns the rule and
//! its evidence (node ids from native runs on two CPU feature sets), not the comparison.

/// Tests that exercise the build machine's own CPU targets, and so cannot apply to wasm32:
/// `(entry, why)`. An entry is a node id or a prefix of one ending at a `::` or `[` boundary
/// (a file, a class, a test without its parameters), as in a recipe's skip list.
///
/// numpy compiles its SIMD kernels once per CPU target (`baseline`, `X86_V3`, `X86_V4`,
/// `ASIMD`, `VSX2`, ...) and its CPU-dispatch tests run once per target the build machine
/// has: `test_simd.py` makes a class per target (`Test_SIMD_ALL_512_X86_V4_u8`). On one build machine with AVX-512, 2112 of its tests
/// passed, and 1408 with the AVX-512 features disabled (`NPY_DISABLE_CPU_FEATURES`); with one
/// more in `test_cpu_features.py` that makes 705, as many as the difference between the two
/// machines of issue 16 (49,389 and 48,684 natively passing). numpy has no wasm32 target, so
/// under WASI these tests do not exist or skip. The entries are whole modules, not target
/// names: the names change between numpy releases (2.4's x86 targets are `X86_V3` and
/// `X86_V4`, earlier releases had `AVX2`, `AVX512F`, `AVX512_SKX`), the modules have not.
pub const CPU_TARGET_TESTS: &[(&str, &str)] = &[
    (
        "numpy/_core/tests/test_simd.py",
        "a class per CPU target the build machine has",
    ),
    (
        "numpy/_core/tests/test_simd_module.py",
        "runs on the build machine's first SIMD target; skips without one",
    ),
    (
        "numpy/_core/tests/test_cpu_dispatcher.py",
        "checks dispatch to the build machine's highest CPU target",
    ),
    (
        "numpy/_core/tests/test_cpu_features.py",
        "checks numpy's CPU feature detection against the build machine's (/proc/cpuinfo)",
    ),
    (
        "numpy/_core/tests/test_umath_accuracy.py::TestAccuracy::test_validate_transcendentals",
        "runs only when the build machine has AVX512F, or AVX2 and FMA3",
    ),
];

/// The entry of [`CPU_TARGET_TESTS`] that `test` (a node id) falls under, if any.
pub fn cpu_target_entry(test: &str) -> Option<&'static str> {
    CPU_TARGET_TESTS
        .iter()
        .map(|(entry, _why)| *entry)
        .find(|entry| {
            test.strip_prefix(entry).is_some_and(|rest| {
                rest.is_empty() || rest.starts_with("::") || rest.starts_with('[')
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::suite::{Comparison, RunResult, SuiteReport, compare};

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

    /// Node ids and native outcomes from two runs of numpy 2.4.6's CPU-dispatch modules (plus
    /// a few others) on one build machine with AVX-512: once plainly, once with its AVX-512
    /// features disabled (`NPY_DISABLE_CPU_FEATURES="AVX512F ... AVX512_SPR X86_V4"`), as on a
    /// build machine without AVX-512. A sample of each; the full runs gave 2684 and 1979
    /// natively passing tests, 2157 and 1452 of them CPU-target tests, 527 left in both.
    const WITH_AVX512: &[(&str, &str)] = &[
        (
            "numpy/_core/tests/test_simd.py::Test_SIMD_ALL_128_baseline_u8::test_arithmetic_subadd",
            "passed",
        ),
        (
            "numpy/_core/tests/test_simd.py::Test_SIMD_ALL_256_X86_V3_u8::test_arithmetic_subadd",
            "passed",
        ),
        (
            "numpy/_core/tests/test_simd.py::Test_SIMD_ALL_512_X86_V4_u8::test_arithmetic_subadd",
            "passed",
        ),
        (
            "numpy/_core/tests/test_simd.py::Test_SIMD_FP_256_X86_V3_f64::test_sqrt",
            "passed",
        ),
        (
            "numpy/_core/tests/test_simd.py::Test_SIMD_FP_512_X86_V4_f64::test_sqrt",
            "passed",
        ),
        (
            "numpy/_core/tests/test_simd_module.py::Test_SIMD_MODULE::test_num_lanes[s16]",
            "passed",
        ),
        (
            "numpy/_core/tests/test_cpu_dispatcher.py::test_dispatcher",
            "passed",
        ),
        (
            "numpy/_core/tests/test_cpu_features.py::Test_X86_Features::test_features",
            "passed",
        ),
        (
            "numpy/_core/tests/test_cpu_features.py::TestEnvPrivation::test_impossible_feature_enable",
            "skipped",
        ),
        (
            "numpy/_core/tests/test_cpu_features.py::Test_ARM_Features::test_features",
            "skipped",
        ),
        (
            "numpy/_core/tests/test_umath_accuracy.py::TestAccuracy::test_validate_transcendentals",
            "passed",
        ),
        (
            "numpy/_core/tests/test_umath_accuracy.py::TestAccuracy::test_validate_fp16_transcendentals[sin]",
            "passed",
        ),
        (
            "numpy/_core/tests/test_umath_complex.py::TestSpecialComplexAVX::test_array[complex64--4]",
            "passed",
        ),
        (
            "numpy/_core/tests/test_umath_complex.py::TestComplexAbsoluteAVX::test_array[complex64--4-1]",
            "passed",
        ),
        (
            "numpy/fft/tests/test_pocketfft.py::TestFFT1D::test_identity",
            "passed",
        ),
    ];

    /// The same sample from the run without AVX-512: the `X86_V4` classes lose their vector
    /// width from the name and skip. `Test_X86_Features` and `test_impossible_feature_enable`
    /// fail only because disabled features are still in /proc/cpuinfo.
    const WITHOUT_AVX512: &[(&str, &str)] = &[
        (
            "numpy/_core/tests/test_simd.py::Test_SIMD_ALL_128_baseline_u8::test_arithmetic_subadd",
            "passed",
        ),
        (
            "numpy/_core/tests/test_simd.py::Test_SIMD_ALL_256_X86_V3_u8::test_arithmetic_subadd",
            "passed",
        ),
        (
            "numpy/_core/tests/test_simd.py::Test_SIMD_ALL__X86_V4_u8::test_arithmetic_subadd",
            "skipped",
        ),
        (
            "numpy/_core/tests/test_simd.py::Test_SIMD_FP_256_X86_V3_f64::test_sqrt",
            "passed",
        ),
        (
            "numpy/_core/tests/test_simd.py::Test_SIMD_FP__X86_V4_f64::test_sqrt",
            "skipped",
        ),
        (
            "numpy/_core/tests/test_simd_module.py::Test_SIMD_MODULE::test_num_lanes[s16]",
            "passed",
        ),
        (
            "numpy/_core/tests/test_cpu_dispatcher.py::test_dispatcher",
            "passed",
        ),
        (
            "numpy/_core/tests/test_cpu_features.py::Test_X86_Features::test_features",
            "failed",
        ),
        (
            "numpy/_core/tests/test_cpu_features.py::TestEnvPrivation::test_impossible_feature_enable",
            "failed",
        ),
        (
            "numpy/_core/tests/test_cpu_features.py::Test_ARM_Features::test_features",
            "skipped",
        ),
        (
            "numpy/_core/tests/test_umath_accuracy.py::TestAccuracy::test_validate_transcendentals",
            "passed",
        ),
        (
            "numpy/_core/tests/test_umath_accuracy.py::TestAccuracy::test_validate_fp16_transcendentals[sin]",
            "passed",
        ),
        (
            "numpy/_core/tests/test_umath_complex.py::TestSpecialComplexAVX::test_array[complex64--4]",
            "passed",
        ),
        (
            "numpy/_core/tests/test_umath_complex.py::TestComplexAbsoluteAVX::test_array[complex64--4-1]",
            "passed",
        ),
        (
            "numpy/fft/tests/test_pocketfft.py::TestFFT1D::test_identity",
            "passed",
        ),
    ];

    /// The WASI side as docs/benchmarks.md describes it: `test_simd.py` has no classes (numpy
    /// has no wasm32 target), `test_simd_module.py` skips, the other tests pass.
    const UNDER_WASI: &[(&str, &str)] = &[
        (
            "numpy/_core/tests/test_simd_module.py::Test_SIMD_MODULE::test_num_lanes[s16]",
            "skipped",
        ),
        (
            "numpy/_core/tests/test_cpu_dispatcher.py::test_dispatcher",
            "passed",
        ),
        (
            "numpy/_core/tests/test_cpu_features.py::Test_X86_Features::test_features",
            "skipped",
        ),
        (
            "numpy/_core/tests/test_umath_accuracy.py::TestAccuracy::test_validate_transcendentals",
            "skipped",
        ),
        (
            "numpy/_core/tests/test_umath_accuracy.py::TestAccuracy::test_validate_fp16_transcendentals[sin]",
            "passed",
        ),
        (
            "numpy/_core/tests/test_umath_complex.py::TestSpecialComplexAVX::test_array[complex64--4]",
            "passed",
        ),
        (
            "numpy/_core/tests/test_umath_complex.py::TestComplexAbsoluteAVX::test_array[complex64--4-1]",
            "passed",
        ),
        (
            "numpy/fft/tests/test_pocketfft.py::TestFFT1D::test_identity",
            "failed",
        ),
    ];

    fn passing(run: &RunResult) -> usize {
        run.outcomes
            .values()
            .filter(|outcome| *outcome == "passed")
            .count()
    }

    #[test]
    fn issue_16_the_ratio_does_not_depend_on_the_build_machines_cpu_targets() {
        let (with, without) = (run(WITH_AVX512), run(WITHOUT_AVX512));
        let wasi = run(UNDER_WASI);
        assert_eq!((passing(&with), passing(&without)), (13, 10));
        let (on_with, on_without) = (compare(&wasi, &with), compare(&wasi, &without));
        assert_eq!(
            (on_with.also_passing, on_with.native_passing),
            (3, 4),
            "{on_with:?}"
        );
        assert_eq!(
            (on_without.also_passing, on_without.native_passing),
            (3, 4),
            "{on_without:?}"
        );
        assert_eq!(on_with.regressions, on_without.regressions);
        assert_eq!(
            (on_with.cpu_target_total(), on_without.cpu_target_total()),
            (9, 6)
        );
        assert_eq!(on_with.cpu_target["numpy/_core/tests/test_simd.py"], 5);
        assert_eq!(on_without.cpu_target["numpy/_core/tests/test_simd.py"], 3);
    }

    #[test]
    fn issue_16_a_cpu_target_test_counts_apart() {
        let native = run(&[
            (
                "numpy/_core/tests/test_simd.py::Test_SIMD_ALL_512_X86_V4_u8::test_arithmetic_subadd",
                "passed",
            ),
            (
                "numpy/_core/tests/test_simd_module.py::Test_SIMD_MODULE::test_num_lanes[s16]",
                "passed",
            ),
            (
                "numpy/_core/tests/test_cpu_dispatcher.py::test_dispatcher",
                "passed",
            ),
            (
                "numpy/_core/tests/test_umath_complex.py::TestSpecialComplexAVX::test_array[complex64--4]",
                "passed",
            ),
        ]);
        let wasi = run(&[
            // Passing under WASI does not put it back: it is out of both counts.
            (
                "numpy/_core/tests/test_cpu_dispatcher.py::test_dispatcher",
                "passed",
            ),
            (
                "numpy/_core/tests/test_simd_module.py::Test_SIMD_MODULE::test_num_lanes[s16]",
                "skipped",
            ),
            // Nor does it pair with a natively passing id of its function.
            (
                "numpy/_core/tests/test_simd_module.py::Test_SIMD_MODULE::test_num_lanes[s8]",
                "passed",
            ),
        ]);
        let comparison = compare(&wasi, &native);
        // A class named after AVX is not a CPU-target test: it runs on every machine.
        assert_eq!((comparison.also_passing, comparison.native_passing), (0, 1));
        assert_eq!(
            comparison.regressions.keys().collect::<Vec<_>>(),
            [
                "numpy/_core/tests/test_umath_complex.py::TestSpecialComplexAVX::test_array[complex64--4]"
            ]
        );
        let counted: Vec<(&str, usize)> = comparison
            .cpu_target
            .iter()
            .map(|(entry, count)| (entry.as_str(), *count))
            .collect();
        assert_eq!(
            counted,
            [
                ("numpy/_core/tests/test_cpu_dispatcher.py", 1),
                ("numpy/_core/tests/test_simd.py", 1),
                ("numpy/_core/tests/test_simd_module.py", 1),
            ]
        );
        // Entries end at a `::` or `[` boundary, and a file that failed to collect is its own
        // node id.
        assert_eq!(
            cpu_target_entry("numpy/_core/tests/test_simd.py"),
            Some("numpy/_core/tests/test_simd.py")
        );
        assert_eq!(cpu_target_entry("numpy/_core/tests/test_simd.pyx::t"), None);
        assert_eq!(
            cpu_target_entry(
                "numpy/_core/tests/test_umath_accuracy.py::TestAccuracy::test_validate_transcendentals_x"
            ),
            None
        );
        let report = SuiteReport {
            wasi,
            native: Some(native),
            comparison: Some(comparison),
            required_ratio: 0.95,
            skip_entries: 0,
        };
        // `run` leaves the counts of each run at zero.
        assert_eq!(
            report.summary(),
            "pytest under WASI: 0 passed, 0 failed, 0 skipped, 0 xfailed, 0 xpassed, 0 errors, 0 crashed, 0 timed out (0 attempts, 0 s)\n\
             pytest natively:   0 passed, 0 failed, 0 skipped, 0 xfailed, 0 xpassed, 0 errors, 0 crashed, 0 timed out (0 s)\n\
             natively passing tests that pass under WASI: 0/1 (0.00 %, required 95 %)\n  \
             left out: 3 natively passing tests of the build machine's CPU targets (numpy's SIMD and CPU-dispatch tests; `cpu_target` in report.json)\n  \
             the others under WASI: 1 missing (`regressions` in report.json)\n"
        );
        // Reports written before the rule have no `cpu_target`.
        let mut old = serde_json::to_value(report.comparison.as_ref().unwrap()).unwrap();
        old.as_object_mut().unwrap().remove("cpu_target");
        let old: Comparison = serde_json::from_value(old).unwrap();
        assert!(old.cpu_target.is_empty());
    }
}

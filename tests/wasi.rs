//! The WASI toolchain end to end, with real tools only: the Debian-provisioned toolchain, the
//! three fixtures (C, C++, Cython) built into `cp314-cp314-wasi_0_2_wasm32` wheels and proven
//! with `wheelforge test` under the embedded wasmtime, the C++ `throw` behaviour, and the
//! consumer's path (stock pip from `wheelforge serve`, componentize-py, wasmtime).
//!
//! The toolchain is installed on first use into `WHEELFORGE_TEST_CACHE` (CI points it at the
//! user cache so that a machine reuses it) or a cache under the target directory. Installing
//! needs root, as `wheelforge toolchain install` does.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn cache_dir() -> PathBuf {
    common::toolchain_cache()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/recipes")
}

fn wheelforge(recipes: &Path, work: &Path) -> Command {
    wheelforge_dirs(recipes, &work.join("dist"), &work.join("build"))
}

fn wheelforge_dirs(recipes: &Path, out: &Path, build: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wheelforge"));
    command
        .arg("--recipes")
        .arg(recipes)
        .arg("--out")
        .arg(out)
        .arg("--build-dir")
        .arg(build)
        .arg("--cache-dir")
        .arg(cache_dir());
    command
}

fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The fixtures, built once into one index for every test here.
fn built_fixtures() -> &'static Path {
    static WORK: OnceLock<tempfile::TempDir> = OnceLock::new();
    WORK.get_or_init(|| {
        let work = tempfile::tempdir().unwrap();
        let output = wheelforge(&fixtures(), work.path())
            .args(["build", "--all"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "fixtures failed to build:\n{}",
            text(&output)
        );
        work
    })
    .path()
}

fn toolchain() -> wheelforge::toolchain::WasiToolchain {
    built_fixtures();
    wheelforge::toolchain::WasiToolchain::load(&wheelforge::toolchain::install::toolchain_dir(
        &cache_dir(),
    ))
    .unwrap()
}

#[test]
fn the_fixtures_are_wasi_wheels_with_dylink_modules() {
    let packages = built_fixtures().join("dist/packages");
    for (wheel, module) in [
        (
            "wf_cdemo-1.0.0-cp314-cp314-wasi_0_2_wasm32.whl",
            "wf_cdemo/_native.cpython-314-wasm32-wasi.so",
        ),
        (
            "wf_cxxdemo-1.0.0-cp314-cp314-wasi_0_2_wasm32.whl",
            "wf_cxxdemo/_native.cpython-314-wasm32-wasi.so",
        ),
        (
            "wf_cydemo-1.0.0-cp314-cp314-wasi_0_2_wasm32.whl",
            "wf_cydemo/_fast.cpython-314-wasm32-wasi.so",
        ),
    ] {
        let entries = wheelforge::wheel::read_entries(&packages.join(wheel)).unwrap();
        let so = entries
            .iter()
            .find(|e| e.path == module)
            .unwrap_or_else(|| panic!("{module} not in {wheel}"));
        assert!(
            wheelforge::wheel::repair::is_dylink_module(&so.data),
            "{module} has no dylink.0 section"
        );
    }
}

#[test]
fn the_fixtures_pass_wheelforge_test() {
    let output = wheelforge(&fixtures(), built_fixtures())
        .args(["test", "wf-cdemo", "wf-cxxdemo", "wf-cydemo"])
        .output()
        .unwrap();
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    for name in ["wf-cdemo", "wf-cxxdemo", "wf-cydemo"] {
        assert!(all.contains(&format!("{name}: passed")), "{all}");
    }
    // The C fixture compares the compiler's data model with the interpreter's own.
    assert!(
        all.contains(
            "data model: {'long': 4, 'pointer': 4, 'long_double': 16, 'time_t': 8, 'size_t': 4}"
        ),
        "{all}"
    );
    // <sys/mman.h>, <signal.h>, clock(), getpid() and pthread_cancel() compile, link into the
    // component and answer: the emulations come from the consumer's libwasi-emulated-*.so.
    assert!(
        all.contains("posix: {'mmap': True, 'signal': True, 'clock': True, 'pid': "),
        "{all}"
    );
    assert!(all.contains("'pthread_cancel': 'ENOSYS'}"), "{all}");
}

/// Runs `wheelforge test RECIPE` on the built fixtures with the recipe's text edited
/// (`from` → `to`), in a build directory of its own (other tests test the same recipes).
fn test_variant(recipe: &str, from: &str, to: &str) -> (Output, String) {
    let recipes = tempfile::tempdir().unwrap();
    wheelforge::source::unpack::copy_tree(&fixtures(), recipes.path()).unwrap();
    let meta = recipes.path().join(recipe).join("meta.yaml");
    let original = fs_err::read_to_string(&meta).unwrap();
    assert!(
        original.contains(from),
        "{from:?} is not in {}",
        meta.display()
    );
    fs_err::write(&meta, original.replace(from, to)).unwrap();
    let work = tempfile::tempdir().unwrap();
    let output = wheelforge_dirs(recipes.path(), &built_fixtures().join("dist"), work.path())
        .args(["test", recipe])
        .output()
        .unwrap();
    let all = text(&output);
    (output, all)
}

/// Runs `fixture`'s test with `call` appended after its first assertion, and checks that the
/// guest aborts with `message` and the recipe is reported as failed.
fn assert_call_aborts(fixture: &str, assertion: &str, call: &str, message: &str) {
    let (output, all) = test_variant(fixture, assertion, &format!("{assertion}{call}"));
    assert!(!output.status.success(), "{all}");
    assert!(all.contains(message), "{all}");
    assert!(all.contains("the guest trapped"), "{all}");
    assert!(all.contains(&format!("{fixture}: FAILED")), "{all}");
}

#[test]
fn a_cxx_throw_links_and_aborts_with_a_message() {
    // The same fixture with a test that throws.
    assert_call_aborts(
        "wf-cxxdemo",
        "    assert wf_cxxdemo.sum_to(100) == 5050\n",
        "    wf_cxxdemo.throw_out_of_range()\n",
        "wheelforge: C++ exception thrown (type St12out_of_range), but wasi_0_2_wasm32 has no C++ exception support; aborting",
    );
}

#[test]
fn a_longjmp_aborts_with_a_message() {
    assert_call_aborts(
        "wf-cdemo",
        "    assert wf_cdemo.guarded_double(21) == 42\n",
        "    wf_cdemo.jump()\n",
        ", 7) called, but wasi_0_2_wasm32 side modules have no setjmp/longjmp (no WebAssembly exception handling); aborting",
    );
}

#[test]
fn wasm_exceptions_throw_catch_unwind_and_longjmp_under_the_runtime() {
    // wf-ehdemo is a static library built with WHEELFORGE_WASM_EXCEPTIONS, whose C test
    // program runs as a WASI command under the embedded wasmtime: C++ exceptions caught five
    // frames up with every destructor run, libc++'s out_of_range, invalid_argument and
    // bad_alloc caught, and a parser recovering with longjmp. Any of them going wrong fails
    // the program (or traps: an uncaught exception).
    let output = wheelforge(&fixtures(), built_fixtures())
        .args(["test", "wf-ehdemo"])
        .output()
        .unwrap();
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    for line in [
        "throw caught 5 frames up, 6 destructors run",
        "std::out_of_range, std::invalid_argument and std::bad_alloc caught",
        "longjmp recovered twice",
        "all passed",
    ] {
        assert!(all.contains(line), "{line:?} missing:\n{all}");
    }
}

#[test]
fn a_static_library_is_built_once_per_rebuild_key_and_shared_through_the_cache() {
    // Issue 21: numpy's default build needs OpenBLAS (13 minutes to build), and every fresh
    // output directory (a test's, a CI shard's, a bench's) would build it again. A library is
    // kept in the cache by its rebuild key once built (`<cache>/libraries/<key>/`), and another
    // output directory takes it from there: "cached", the same archive, nothing compiled.
    let built = built_fixtures();
    let file = "wf-ehdemo-1.0.0-wasi_0_2_wasm32.tar.gz";
    let first = fs_err::read(built.join("dist/libraries").join(file)).unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let output = wheelforge(&fixtures(), fresh.path())
        .args(["build", "wf-ehdemo"])
        .output()
        .unwrap();
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    assert!(all.contains("0 built, 1 cached"), "{all}");
    assert_eq!(
        fs_err::read(fresh.path().join("dist/libraries").join(file)).unwrap(),
        first,
        "the fresh output directory has another archive"
    );
    assert!(
        !fresh.path().join("build/wf-ehdemo/source").exists(),
        "the library was unpacked and built again"
    );
    // `--force` still builds it.
    let forced = wheelforge(&fixtures(), fresh.path())
        .args(["build", "wf-ehdemo", "--force"])
        .output()
        .unwrap();
    let all = text(&forced);
    assert!(forced.status.success(), "{all}");
    assert!(all.contains("1 built, 0 cached"), "{all}");
}

#[test]
fn a_side_module_with_wasm_exceptions_has_private_tags_and_runtime() {
    // The same code as a side module: nothing of the exception machinery crosses the
    // module's boundary (no tag imported or exported, no C++ runtime symbol imported from the
    // consumer's exception-less libc++).
    let toolchain = toolchain();
    let work = tempfile::tempdir().unwrap();
    let source = fixtures().join("wf-ehdemo/src");
    let module = work.path().join("ehdemo.so");
    let tools = toolchain.tools_dir.display().to_string();
    let sandbox = toolchain.sandbox();
    let script = format!(
        "set -e; cd {work}; {tools}/bin/c++ -O2 -c {src}/ehdemo.cpp -o ehdemo.o; \
         {tools}/bin/cc -O2 -c {src}/recover.c -o recover.o; \
         {tools}/bin/c++ -shared ehdemo.o recover.o -o {module}",
        work = work.path().display(),
        src = source.display(),
        module = module.display(),
    );
    let binary = Path::new(env!("CARGO_BIN_EXE_wheelforge"));
    let binds = [work.path(), &source, binary.parent().unwrap()];
    let mut command = sandbox.command("/bin/sh", work.path(), &binds);
    command
        .env("WHEELFORGE_EXE", env!("CARGO_BIN_EXE_wheelforge"))
        .env("WHEELFORGE_WRAP_CONFIG", format!("{tools}/wrap.json"))
        .env("WHEELFORGE_WASM_EXCEPTIONS", "1")
        .args(["-c", &script]);
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::from_file(&engine, &module).unwrap();
    let imports: Vec<String> = module
        .imports()
        .map(|i| format!("{}.{}", i.module(), i.name()))
        .collect();
    let exports: Vec<String> = module.exports().map(|e| e.name().to_string()).collect();
    let private = |name: &str| {
        name.contains("__cpp_exception")
            || name.contains("__c_longjmp")
            || name.contains("__cxa_")
            || name.contains("_Unwind_")
            || name.contains("__wasm_setjmp")
            || name.contains("__wasm_longjmp")
            || name.contains("__wasm_lpad_context")
            || name.contains("_ZNSt")
            || name.contains("_ZTI")
    };
    assert!(!imports.iter().any(|i| private(i)), "imports: {imports:?}");
    assert!(!exports.iter().any(|e| private(e)), "exports: {exports:?}");
    assert!(
        exports.iter().any(|e| e == "ehdemo_catch_deep"),
        "{exports:?}"
    );
    assert!(
        module
            .imports()
            .all(|i| matches!(i.module(), "env" | "GOT.mem" | "GOT.func")),
        "{imports:?}"
    );
}

#[test]
fn the_consumer_runtime_cannot_link_a_module_with_wasm_exceptions() {
    // componentize-py 0.25.1, the newest release, pre-initializes every component in its
    // embedded wasmtime 46, which has the exception-handling proposal off. This pins why the
    // extension modules keep the shims (docs/toolchain.md, "WebAssembly exception handling"):
    // when this test fails, the consumer runtime has learnt the proposal.
    let recipes = tempfile::tempdir().unwrap();
    wheelforge::source::unpack::copy_tree(&fixtures(), recipes.path()).unwrap();
    let meta = recipes.path().join("wf-cdemo/meta.yaml");
    let original = fs_err::read_to_string(&meta).unwrap();
    fs_err::write(
        &meta,
        original.replace(
            "  backend: setuptools\n",
            "  backend: setuptools\n  environment:\n    WHEELFORGE_WASM_EXCEPTIONS: \"1\"\n",
        ),
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let output = wheelforge(recipes.path(), work.path())
        .args(["build", "wf-cdemo"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let output = wheelforge(recipes.path(), work.path())
        .args(["test", "wf-cdemo"])
        .output()
        .unwrap();
    let all = text(&output);
    assert!(!output.status.success(), "{all}");
    assert!(all.contains("exceptions proposal not enabled"), "{all}");
}

#[test]
fn starting_a_cxx_thread_aborts_with_a_message() {
    assert_call_aborts(
        "wf-cxxdemo",
        "    assert wf_cxxdemo.sum_to(100) == 5050\n",
        "    wf_cxxdemo.start_thread()\n",
        "wheelforge: std::thread (wasm32 WASI side modules run in one thread) is not available on wasi_0_2_wasm32; aborting",
    );
}

/// `wheelforge toolchain install` into the tests' cache, which must succeed.
fn toolchain_install() -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_wheelforge"))
        .arg("--cache-dir")
        .arg(cache_dir())
        .args(["toolchain", "install"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    output
}

#[test]
fn a_second_toolchain_install_is_a_no_op() {
    let toolchain = toolchain();
    let log = toolchain.dir.join("install.log");
    let before = fs_err::read(&log).unwrap();
    let output = toolchain_install();
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains(&format!("identity:      {}", toolchain.identity)),
        "{}",
        text(&output)
    );
    assert_eq!(
        fs_err::read(&log).unwrap(),
        before,
        "the second install did work"
    );
}

#[test]
fn stale_tool_files_are_rewritten_without_a_reinstall() {
    let toolchain = toolchain();
    let install_log = fs_err::read(toolchain.dir.join("install.log")).unwrap();
    // As another wheelforge would have left them: another digest, a header missing.
    let manifest = toolchain.dir.join("toolchain.json");
    let mut recorded: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(&manifest).unwrap()).unwrap();
    recorded["tools"] = serde_json::json!("from another wheelforge");
    fs_err::write(&manifest, serde_json::to_vec_pretty(&recorded).unwrap()).unwrap();
    let header = toolchain.host_path(&toolchain.tools_dir.join("include/setjmp.h"));
    fs_err::remove_file(&header).unwrap();

    toolchain_install();
    assert!(header.is_file(), "setjmp.h was not written again");
    let reloaded = wheelforge::toolchain::WasiToolchain::load(&toolchain.dir).unwrap();
    assert_eq!(
        reloaded.tools,
        wheelforge::toolchain::install::tools_digest()
    );
    assert_eq!(reloaded.identity, toolchain.identity);
    assert_eq!(
        fs_err::read(toolchain.dir.join("install.log")).unwrap(),
        install_log,
        "the toolchain was reinstalled"
    );
    assert!(
        fs_err::read_to_string(toolchain.dir.join("tools.log"))
            .unwrap()
            .contains("sjlj-shim")
    );
}

/// What the install's probe of the consumer runtime printed (runtime-sysconfig.json).
fn probe_output(toolchain: &wheelforge::toolchain::WasiToolchain) -> serde_json::Value {
    serde_json::from_str(
        &fs_err::read_to_string(toolchain.dir.join("runtime-sysconfig.json")).unwrap(),
    )
    .unwrap()
}

#[test]
fn the_target_pyconfig_agrees_with_the_consumer_runtime() {
    let toolchain = toolchain();
    let probe = probe_output(&toolchain);
    let vars = probe["vars"].as_object().unwrap();
    let header = toolchain.host_path(&toolchain.target.include_dir.join("pyconfig.h"));
    let macros =
        wheelforge::toolchain::target::parse_pyconfig(&fs_err::read_to_string(header).unwrap());
    use wheelforge::toolchain::target::MacroValue;
    let mut compared = 0;
    for (name, value) in &macros {
        let runtime = &vars[name];
        match value {
            MacroValue::Undefined => assert_eq!(runtime, &serde_json::json!(0), "{name}"),
            MacroValue::Defined(text) => {
                let expected = match runtime {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                assert_eq!(text, &expected, "{name}");
            }
        }
        compared += 1;
    }
    assert!(compared > 500, "only {compared} macros compared");
    assert_eq!(toolchain.target.soabi, "cpython-314-wasm32-wasi");
    assert_eq!(toolchain.target.ext_suffix, ".cpython-314-wasm32-wasi.so");
    assert_eq!(toolchain.target.sizeof_long, 4);
}

/// Issue 16: `Requires-Dist` markers are judged on what the consumer runtime says about itself
/// (the probe at install), not on constants; a release candidate of the runtime would be
/// `3.14.0rc1` there, and `python_full_version >= "3.14"` false on it.
#[test]
fn the_probe_records_the_marker_environment_of_the_consumer_runtime() {
    let toolchain = toolchain();
    let probe = probe_output(&toolchain);
    let markers = toolchain.target.markers.as_ref().unwrap_or_else(|| {
        panic!(
            "no marker values recorded; the probe said {}",
            probe["markers"]
        )
    });
    assert_eq!(
        markers.python_full_version,
        probe["version"].as_str().unwrap()
    );
    assert_eq!(markers.python_version, "3.14");
    assert_eq!(markers.sys_platform, "wasi");
    assert_eq!(markers.platform_machine, "wasm32");
    assert_eq!(markers.implementation_name, "cpython");
    let environment = toolchain.marker_environment().unwrap();
    let judge = |text: &str| {
        let requirement: pep508_rs::Requirement = text.parse().unwrap();
        requirement.marker.evaluate(&environment, &[])
    };
    assert!(judge(
        "demo; sys_platform == 'wasi' and python_version >= '3.14'"
    ));
    assert!(!judge("demo; python_version < '3.11'"));
    assert!(!judge("demo; platform_system == 'Linux'"));
}

fn serve(work: &Path) -> (std::process::Child, String) {
    let mut command = wheelforge(&fixtures(), work);
    command.args(["serve", "--port", "0"]);
    common::serve(command)
}

#[test]
fn consumer_proof_stock_pip_componentize_py_and_wasmtime() {
    let toolchain = toolchain();
    let (mut server, url) = serve(built_fixtures());
    let work = tempfile::tempdir().unwrap();
    let work = fs_err::canonicalize(work.path()).unwrap();
    let deps = work.join("deps");
    let pip = common::consumer_pip_install(&url, &deps, "wf-cdemo");
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(pip.status.success(), "{}", text(&pip));
    assert!(
        deps.join("wf_cdemo/_native.cpython-314-wasm32-wasi.so")
            .is_file()
    );

    // A tiny app of the consumer's own, linked with componentize-py (-p DIR).
    let run = common::consumer_link_and_run(
        &toolchain,
        &work,
        &deps,
        "import wf_cdemo\nfrom wit_world import exports\n\n\
         class Run(exports.Run):\n    def run(self) -> None:\n        \
         print(f\"wf_cdemo.add(2, 40) = {wf_cdemo.add(2, 40)}\")\n",
    );
    assert_eq!(run.exit_code, 0, "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "wf_cdemo.add(2, 40) = 42\n"
    );
}

/// The wasi-sdk flavor (`WASI_SDK_PATH` + a host CPython 3.14), exercised where a native
/// CPython 3.14 exists: inside the Debian root, with a directory laid out like an official
/// wasi-sdk release (`bin/clang`, `share/wasi-sysroot/{include,lib}/wasm32-wasip1`) made of
/// the root's clang 22 and wasi-libc. wheelforge runs inside the root and uses the tools
/// directly, as it would on a machine with an unpacked wasi-sdk.
#[test]
fn an_official_wasi_sdk_layout_builds_and_tests_the_c_fixture() {
    let debian = toolchain();
    let sdk_inside = Path::new("/opt/wasi-sdk-layout");
    let sdk = debian.host_path(sdk_inside);
    if sdk.exists() {
        fs_err::remove_dir_all(&sdk).unwrap();
    }
    let link = |target: &str, at: &str| {
        let path = sdk.join(at);
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, path).unwrap();
    };
    for (tool, debian_tool) in [
        ("clang", "clang-22"),
        ("clang++", "clang++-22"),
        ("llvm-ar", "llvm-ar-22"),
        ("llvm-nm", "llvm-nm-22"),
        ("llvm-ranlib", "llvm-ranlib-22"),
        ("wasm-ld", "wasm-ld-22"),
        ("llvm-objdump", "llvm-objdump-22"),
    ] {
        link(&format!("/usr/bin/{debian_tool}"), &format!("bin/{tool}"));
    }
    link(
        "/usr/include/wasm32-wasip1",
        "share/wasi-sysroot/include/wasm32-wasip1",
    );
    link(
        "/usr/lib/wasm32-wasip1",
        "share/wasi-sysroot/lib/wasm32-wasip1",
    );
    fs_err::write(
        sdk.join("VERSION"),
        "layout-test (Debian clang 22, wasi-libc)\n",
    )
    .unwrap();

    let work = tempfile::tempdir().unwrap();
    let work = fs_err::canonicalize(work.path()).unwrap();
    let exe = Path::new(env!("CARGO_BIN_EXE_wheelforge"));
    let fixtures = fixtures();
    let run = |args: &[&str]| {
        let mut command = debian.sandbox().command(
            &exe.display().to_string(),
            &work,
            &[work.as_path(), exe, fixtures.as_path()],
        );
        command
            .arg("--cache-dir")
            .arg(work.join("cache"))
            .arg("--recipes")
            .arg(&fixtures)
            .arg("--out")
            .arg(work.join("dist"))
            .arg("--build-dir")
            .arg(work.join("build"))
            .args(args)
            .env("WASI_SDK_PATH", sdk_inside)
            .env("WHEELFORGE_HOST_PYTHON", "/opt/wheelforge/venv/bin/python");
        let output = command.output().unwrap();
        (output.status.success(), text(&output))
    };
    let (ok, all) = run(&["toolchain", "install"]);
    assert!(ok, "{all}");
    assert!(all.contains("flavor:        WasiSdk"), "{all}");
    assert!(
        all.contains("wasi-sdk layout-test (Debian clang 22, wasi-libc)"),
        "{all}"
    );
    let (ok, all) = run(&["build", "wf-cdemo"]);
    assert!(ok, "{all}");
    let (ok, all) = run(&["test", "wf-cdemo"]);
    assert!(ok, "{all}");
    assert!(all.contains("wf-cdemo: passed"), "{all}");
    fs_err::remove_dir_all(&sdk).unwrap();
}

#[test]
fn a_failing_import_fails_the_test_with_the_guests_traceback() {
    let (output, all) = test_variant(
        "wf-cdemo",
        "  imports: [wf_cdemo]",
        "  imports: [wf_cdemo, wf_cdemo.missing_module]",
    );
    assert!(!output.status.success(), "{all}");
    assert!(all.contains("Traceback (most recent call last)"), "{all}");
    assert!(
        all.contains("ModuleNotFoundError: No module named 'wf_cdemo.missing_module'"),
        "{all}"
    );
}

/// The README's form: default, relative `dist/` and `build/` in the working directory. The
/// sandbox must see them at absolute paths (this once failed with "can't cd to build/...").
#[test]
fn a_native_build_with_relative_directories_works() {
    let work = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_wheelforge"))
        .current_dir(work.path())
        .arg("--recipes")
        .arg(fixtures())
        .arg("--cache-dir")
        .arg(cache_dir())
        .args(["build", "wf-cdemo"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let packages = work.path().join("dist/packages");
    let wheels: Vec<String> = fs_err::read_dir(&packages)
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".whl"))
        .collect();
    assert_eq!(
        wheels,
        ["wf_cdemo-1.0.0-cp314-cp314-wasi_0_2_wasm32.whl"],
        "{}",
        text(&output)
    );
}

/// A guest that makes no progress is interrupted by the idle watchdog (how `wheelforge test`
/// stops a hung test in a suite), and the run reports it.
#[test]
fn a_guest_without_progress_is_interrupted() {
    let toolchain = toolchain();
    let work = tempfile::tempdir().unwrap();
    let work = fs_err::canonicalize(work.path()).unwrap();
    let deps = work.join("deps");
    fs_err::create_dir_all(&deps).unwrap();
    let app = wheelforge::toolchain::link::TestApp {
        command: Some("while True:\n    pass\n".into()),
        ..Default::default()
    };
    let component = wheelforge::toolchain::link::link_test_component(
        &toolchain,
        &app,
        &deps,
        &work,
        &work.join("link.log"),
    )
    .unwrap();
    let watched = work.join("progress");
    fs_err::write(&watched, "").unwrap();
    let run = wheelforge::runtime::run_command(
        &component,
        &wheelforge::runtime::RunOptions {
            args: vec!["test".into()],
            cache_dir: Some(cache_dir().join("runtime")),
            idle_watch: Some((watched, std::time::Duration::from_secs(2))),
            ..Default::default()
        },
    )
    .unwrap();
    let trap = run.trap.expect("the guest was interrupted");
    assert!(
        trap.starts_with(wheelforge::runtime::IDLE_INTERRUPT),
        "{trap}"
    );
    assert_eq!(run.exit_code, 134);
}

/// Issue 16: package code in a native build runs inside the toolchain root, which it must not
/// change (the next build would inherit it): the root is read-only, `/tmp` and `/root` are
/// private and empty, and only the work directory is writable.
#[test]
fn a_native_build_sees_the_toolchain_read_only_and_private_tmp_and_home() {
    let toolchain = toolchain();
    if toolchain.sandbox() == wheelforge::toolchain::sandbox::Sandbox::Native {
        return; // An official wasi-sdk: no root to protect.
    }
    let work = tempfile::tempdir().unwrap();
    let tag = work
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let script = format!(
        "for path in /usr/wf-{tag} /opt/wheelforge/wf-{tag} /tmp/wf-{tag} /root/wf-{tag} {work}/ok; do \
           if touch \"$path\" 2>/dev/null; then echo \"wrote $path\"; fi; \
         done",
        work = work.path().display()
    );
    let output = toolchain
        .sandbox()
        .command("/bin/sh", work.path(), &[work.path()])
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!(
            "wrote /tmp/wf-{tag}\nwrote /root/wf-{tag}\nwrote {}/ok\n",
            work.path().display()
        ),
        "only the private /tmp and /root and the work directory are writable"
    );
    for inside in ["usr", "opt/wheelforge", "tmp", "root"] {
        let leftover = toolchain
            .host_path(Path::new("/"))
            .join(inside)
            .join(format!("wf-{tag}"));
        assert!(
            !leftover.exists(),
            "{} was left in the root",
            leftover.display()
        );
    }
    assert!(work.path().join("ok").is_file());
}

/// `wheelforge build PATH` and `wheelforge build --sdist FILE`: the C fixture's project, with
/// no recipe for it anywhere, built from its directory and from an sdist of it. Each lands in
/// its own index; stock pip installs the directory's wheel, componentize-py links it and it runs.
/// Serves `work`'s index, installs `project` from it with stock pip into `work/deps`, links
/// `app` with componentize-py and runs it; its standard output.
fn serve_install_and_run(
    toolchain: &wheelforge::toolchain::WasiToolchain,
    recipes: &Path,
    work: &Path,
    project: &str,
    app: &str,
) -> String {
    let mut command = wheelforge(recipes, work);
    command.args(["serve", "--port", "0"]);
    let (mut server, url) = common::serve(command);
    let deps = work.join("deps");
    let pip = common::consumer_pip_install(&url, &deps, project);
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(pip.status.success(), "{}", text(&pip));
    let run = common::consumer_link_and_run(toolchain, work, &deps, app);
    assert_eq!(run.exit_code, 0, "{}", String::from_utf8_lossy(&run.stderr));
    String::from_utf8_lossy(&run.stdout).into_owned()
}

#[test]
fn a_project_directory_and_an_sdist_build_without_a_recipe() {
    let toolchain = toolchain();
    let work = tempfile::tempdir().unwrap();
    let work = fs_err::canonicalize(work.path()).unwrap();
    let project = work.join("wf-cdemo");
    wheelforge::source::unpack::copy_tree(&fixtures().join("wf-cdemo/package"), &project).unwrap();
    let recipes = work.join("no-recipes");
    fs_err::create_dir_all(&recipes).unwrap();

    let output = wheelforge(&recipes, &work)
        .current_dir(&work)
        .args(["build", "./wf-cdemo"])
        .output()
        .unwrap();
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    assert!(all.contains("built with a generated recipe"), "{all}");
    let wheel = "wf_cdemo-1.0.0-cp314-cp314-wasi_0_2_wasm32.whl";
    assert!(work.join("dist/packages").join(wheel).is_file(), "{all}");
    // The project's tree is untouched: the build ran on a copy.
    assert!(!project.join("build").exists() && !project.join("src/wf_cdemo.egg-info").exists());

    let stdout = serve_install_and_run(
        &toolchain,
        &recipes,
        &work,
        "wf-cdemo",
        "import wf_cdemo\nfrom wit_world import exports\n\n\
         class Run(exports.Run):\n    def run(self) -> None:\n        \
         print(wf_cdemo.add(2, 40))\n",
    );
    assert_eq!(stdout, "42\n");

    // The same project as an sdist (no PKG-INFO: the static [project] table is its metadata).
    let sdist = work.join("wf_cdemo-1.0.0.tar.gz");
    {
        let file = fs_err::File::create(&sdist).unwrap();
        let mut archive = tar::Builder::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::fast(),
        ));
        archive
            .append_dir_all("wf_cdemo-1.0.0", fixtures().join("wf-cdemo/package"))
            .unwrap();
        archive.into_inner().unwrap().finish().unwrap();
    }
    let output = wheelforge_dirs(
        &recipes,
        &work.join("dist-sdist"),
        &work.join("build-sdist"),
    )
    .arg("build")
    .arg("--sdist")
    .arg(&sdist)
    .output()
    .unwrap();
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    assert!(
        work.join("dist-sdist/packages").join(wheel).is_file(),
        "{all}"
    );
    let recipe = fs_err::read_to_string(work.join("build-sdist/local/wf-cdemo/meta.yaml")).unwrap();
    assert!(recipe.contains("  pypi: wf-cdemo\n  sha256: "), "{recipe}");
}

/// A project whose modules all use the stable ABI (`py_limited_api`, `cp38` in its wheel tag)
/// keeps `X.abi3.so` and the tag `cp38-abi3-wasi_0_2_wasm32` (the repair stage refused the
/// suffix once, then renamed it and tagged the wheel cp314). `wheelforge test PATH` passes, stock
/// pip for Python 3.14 installs it, componentize-py links the module, and CPython imports it
/// under the consumer runtime.
#[test]
fn a_stable_abi_project_keeps_its_abi3_modules_and_tag() {
    let toolchain = toolchain();
    let work = tempfile::tempdir().unwrap();
    let work = fs_err::canonicalize(work.path()).unwrap();
    let project = fixtures().join("../projects/wf-abi3demo");
    let recipes = work.join("no-recipes");
    fs_err::create_dir_all(&recipes).unwrap();
    let output = wheelforge(&recipes, &work)
        .arg("build")
        .arg(&project)
        .output()
        .unwrap();
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    let wheel = work.join("dist/packages/wf_abi3demo-1.0.0-cp38-abi3-wasi_0_2_wasm32.whl");
    let entries =
        wheelforge::wheel::read_entries(&wheel).unwrap_or_else(|error| panic!("{error}: {all}"));
    let module = entries
        .iter()
        .find(|entry| entry.path == "wf_abi3demo/_limited.abi3.so")
        .unwrap_or_else(|| panic!("no _limited.abi3.so in {}", wheel.display()));
    assert!(wheelforge::wheel::repair::is_dylink_module(&module.data));

    // `wheelforge test PATH` proves it with the generated recipe's imports.
    let output = wheelforge(&recipes, &work)
        .arg("test")
        .arg(&project)
        .output()
        .unwrap();
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    assert!(
        all.contains("wf-abi3demo: tested with a generated recipe"),
        "{all}"
    );
    assert!(
        all.contains("wf-abi3demo: passed (wf_abi3demo-1.0.0-cp38-abi3-wasi_0_2_wasm32.whl;"),
        "{all}"
    );

    let stdout = serve_install_and_run(
        &toolchain,
        &recipes,
        &work,
        "wf-abi3demo",
        "import wf_abi3demo, wf_abi3demo._limited as limited\nfrom wit_world import exports\n\n\
         class Run(exports.Run):\n    def run(self) -> None:\n        \
         print(limited.__file__.rsplit('/', 1)[-1], wf_abi3demo.scale(6, 7))\n",
    );
    assert_eq!(stdout, "_limited.abi3.so 42\n");
}

/// Two in-tree build backends through `skeleton`, unedited: PyYAML's `_pyyaml_pep517` (a
/// wrapper of setuptools, packages under `lib/`, its C extension on libyaml's `yaml.h`, which
/// skeleton finds in the libyaml recipe's `build.headers`) and propcache's
/// `pep517_backend.hooks` (Cython). Both wheels carry their extension modules, and the C
/// loader imports under WASI.
#[test]
fn skeleton_recipes_with_in_tree_backends_build_unedited() {
    let work = tempfile::tempdir().unwrap();
    let work = fs_err::canonicalize(work.path()).unwrap();
    let recipes = work.join("recipes");
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes");
    wheelforge::source::unpack::copy_tree(&repository.join("libyaml"), &recipes.join("libyaml"))
        .unwrap();
    for (project, version) in [("pyyaml", "6.0.4"), ("propcache", "0.5.4")] {
        let output = wheelforge(&recipes, &work)
            .args(["skeleton", project, "--version", version])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output));
    }
    let pyyaml = fs_err::read_to_string(recipes.join("pyyaml/meta.yaml")).unwrap();
    assert!(pyyaml.contains("  backend: pep517\n"), "{pyyaml}");
    assert!(pyyaml.contains("  host: [libyaml]\n"), "{pyyaml}");
    assert!(pyyaml.contains("  imports: [yaml]\n"), "{pyyaml}");

    let output = wheelforge(&recipes, &work)
        .args(["build", "pyyaml", "propcache"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    for (wheel, module) in [
        (
            "pyyaml-6.0.4-cp314-cp314-wasi_0_2_wasm32.whl",
            "yaml/_yaml.cpython-314-wasm32-wasi.so",
        ),
        (
            "propcache-0.5.4-cp314-cp314-wasi_0_2_wasm32.whl",
            "propcache/_helpers_c.cpython-314-wasm32-wasi.so",
        ),
    ] {
        let entries =
            wheelforge::wheel::read_entries(&work.join("dist/packages").join(wheel)).unwrap();
        assert!(
            entries.iter().any(|entry| entry.path == module),
            "{wheel} has no {module}"
        );
    }
    let output = wheelforge(&recipes, &work)
        .args(["test", "pyyaml", "propcache"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
}

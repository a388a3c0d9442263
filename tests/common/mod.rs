//! Helpers shared by the integration tests: throwaway recipe repositories.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A temporary repository with `recipes/` and `patches/`.
pub struct Repo {
    pub dir: tempfile::TempDir,
}

impl Repo {
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("recipes")).unwrap();
        fs_err::create_dir_all(dir.path().join("patches")).unwrap();
        Repo { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn recipes(&self) -> PathBuf {
        self.root().join("recipes")
    }

    pub fn patches(&self) -> PathBuf {
        self.root().join("patches")
    }

    /// Writes `recipes/<name>/meta.yaml` and returns its path.
    pub fn recipe(&self, name: &str, text: &str) -> PathBuf {
        let dir = self.recipes().join(name);
        fs_err::create_dir_all(&dir).unwrap();
        let path = dir.join("meta.yaml");
        fs_err::write(&path, text).unwrap();
        path
    }

    /// A minimal valid pure recipe with the given host and run requirements.
    pub fn simple_recipe(&self, name: &str, host: &[&str], run: &[&str]) -> PathBuf {
        self.recipe(
            name,
            &format!(
                "package:\n  name: {name}\n  version: 1.0.0\nsource:\n  url: file:///nonexistent/{name}-1.0.0.tar.gz\n  sha256: {}\nbuild:\n  backend: pure\nrequirements:\n  host: [{}]\n  run: [{}]\nabout:\n  license: MIT\n  summary: test recipe\n",
                "0".repeat(64),
                host.join(", "),
                run.join(", ")
            ),
        )
    }

    /// Replaces this repository's path in `text` with `[REPO]`, for snapshots.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.root().display().to_string(), "[REPO]")
    }
}

/// Starts `command` (a `wheelforge ... serve --port 0`) and returns the child and the index URL
/// it printed. The server's request log (stderr) is piped for the caller to read.
pub fn serve(mut command: Command) -> (Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|word| word.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    (child, url)
}

/// The cache the toolchain tests install into: `WHEELFORGE_TEST_CACHE` (CI points it at the
/// user cache, so that a machine installs the toolchain once) or one under the target directory.
pub fn toolchain_cache() -> PathBuf {
    std::env::var_os("WHEELFORGE_TEST_CACHE").map_or_else(
        || Path::new(env!("CARGO_TARGET_TMPDIR")).join("wheelforge-cache"),
        PathBuf::from,
    )
}

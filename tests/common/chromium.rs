//! Headless Chromium for tests that look at HTML as a browser renders it.
//!
//! Chromium comes from Debian's `chromium` package through apt, from the machine's own apt
//! sources, like the rest of the machine: `WHEELFORGE_CHROMIUM` names a binary, else
//! `chromium` on PATH, else (as root on a Debian machine, as CI machines are) the package is
//! installed with `apt-get install chromium` once. Anything else fails, saying what to
//! install: a test that needs a browser never passes without one.

use std::path::{Path, PathBuf};
use std::process::Command;

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

const HOW_TO_INSTALL: &str = "install Debian's chromium package (`apt-get update && apt-get install chromium`, as root), or set WHEELFORGE_CHROMIUM to a Chromium binary";

/// The Chromium binary, installing Debian's package when missing (see the module docs).
pub fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("WHEELFORGE_CHROMIUM") {
        return PathBuf::from(path);
    }
    if let Some(found) = on_path("chromium") {
        return found;
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let apt = Path::new("/usr/bin/apt-get");
    assert!(
        is_root && apt.is_file(),
        "headless Chromium is needed to check the HTML report and is not installed; {HOW_TO_INSTALL}"
    );
    // One install at a time (tests run in parallel; apt holds its own lock too).
    let lock_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chromium-install.lock");
    let lock = fs_err::File::create(&lock_path).unwrap();
    lock.file().lock().unwrap();
    if let Some(found) = on_path("chromium") {
        return found;
    }
    let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chromium-install.log");
    let script = "set -e; apt-get -o DPkg::Lock::Timeout=600 update; \
                  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y chromium";
    let output = Command::new("/bin/sh")
        .args(["-c", script])
        .output()
        .unwrap();
    fs_err::write(
        &log,
        [output.stdout.as_slice(), output.stderr.as_slice()].concat(),
    )
    .unwrap();
    assert!(
        output.status.success(),
        "installing Debian's chromium package failed (log: {}):\n{}\n{HOW_TO_INSTALL}",
        log.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    on_path("chromium").unwrap_or_else(|| {
        panic!(
            "apt-get installed chromium but it is not on PATH (log: {}); {HOW_TO_INSTALL}",
            log.display()
        )
    })
}

/// The DOM of `page` after Chromium loaded and rendered it (`--dump-dom`).
pub fn dump_dom(page: &Path) -> String {
    let page = fs_err::canonicalize(page).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--allow-file-access-from-files",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "chromium --dump-dom failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

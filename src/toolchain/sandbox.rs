//! Running a program inside the toolchain's Debian root.
//!
//! The root is a complete Debian system (Python 3.14, clang 22, the WASI sysroot). A command
//! enters it in a private mount namespace (`unshare --mount`): `/proc` and `/dev` are mounted,
//! the host paths a build needs (work directory, caches, the wheelforge binary) are bind-mounted
//! at the same paths inside, and the program runs under `chroot` with a clean environment.
//! The mounts vanish with the process. With an official wasi-sdk there is no root and commands
//! run directly ([`Sandbox::Native`]). This module only builds `Command`s.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The shell script that sets up the namespace; arguments: ROOT CWD (HOST INSIDE)... -- PROGRAM...
const ENTER: &str = r#"set -e
root=$1; cwd=$2; shift 2
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
  source=$1; inside=$root$2; shift 2
  if [ -d "$source" ]; then
    mkdir -p "$inside"
  else
    mkdir -p "$(dirname "$inside")"
    [ -e "$inside" ] || : > "$inside"
  fi
  mount --bind "$source" "$inside"
done
shift
exec /usr/sbin/chroot "$root" /bin/sh -c 'cd "$0" && exec "$@"' "$cwd" "$@"
"#;

/// The PATH of commands inside the root.
pub const CHROOT_PATH: &str =
    "/opt/wheelforge/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where the host's CA bundle appears inside the root.
pub const HOST_CA_INSIDE: &str = "/opt/wheelforge/host-ca.pem";

/// Where the running wheelforge binary appears inside the root (compiler wrappers call it).
pub const WHEELFORGE_INSIDE: &str = "/opt/wheelforge/bin/wheelforge";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sandbox {
    /// A Debian root entered with unshare + chroot.
    Chroot { root: PathBuf },
    /// Tools on the host itself (an official wasi-sdk).
    Native,
}

impl Sandbox {
    /// A command running `program` with working directory `cwd`, where every path in `binds`
    /// is visible at the same path. The environment is cleared except for a base PATH, HOME and
    /// locale; callers add what the build needs.
    pub fn command(&self, program: &str, cwd: &Path, binds: &[&Path]) -> Command {
        match self {
            Sandbox::Native => {
                let mut command = Command::new(program);
                command.current_dir(cwd);
                command
            }
            Sandbox::Chroot { root } => {
                // Binds are made at the same path inside the root: relative paths would land
                // beside it (`<root>build/...`).
                let absolute =
                    |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
                let cwd = &absolute(cwd);
                let binds: Vec<PathBuf> = binds.iter().map(|bind| absolute(bind)).collect();
                let mut command = Command::new("unshare");
                command
                    .args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"])
                    .arg(ENTER)
                    .arg("wheelforge-enter")
                    .arg(root)
                    .arg(cwd);
                for bind in &binds {
                    command.arg(bind).arg(bind);
                }
                if let Ok(exe) = std::env::current_exe() {
                    command.arg(exe).arg(WHEELFORGE_INSIDE);
                }
                // The host's certificate authorities (a proxy may sign with its own), so that pip
                // inside reaches the package index exactly as pip outside does.
                let host_ca = ["PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"]
                    .iter()
                    .filter_map(std::env::var_os)
                    .map(PathBuf::from)
                    .chain([PathBuf::from("/etc/ssl/certs/ca-certificates.crt")])
                    .find(|path| path.is_file());
                if let Some(ca) = &host_ca {
                    command.arg(ca).arg(HOST_CA_INSIDE);
                }
                command.arg("--").arg(program);
                command
                    .env_clear()
                    .env("PATH", CHROOT_PATH)
                    .env("HOME", "/root")
                    .env("LANG", "C.UTF-8");
                if host_ca.is_some() {
                    for key in ["PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"] {
                        command.env(key, HOST_CA_INSIDE);
                    }
                }
                for key in [
                    "PIP_INDEX_URL",
                    "PIP_EXTRA_INDEX_URL",
                    "PIP_TRUSTED_HOST",
                    "PIP_DEFAULT_TIMEOUT",
                    "HTTP_PROXY",
                    "HTTPS_PROXY",
                    "NO_PROXY",
                    "http_proxy",
                    "https_proxy",
                    "no_proxy",
                ] {
                    if let Some(value) = std::env::var_os(key) {
                        command.env(key, value);
                    }
                }
                command
            }
        }
    }

    /// The path at which the host's wheelforge binary is found from inside.
    pub fn wheelforge_binary(&self) -> PathBuf {
        match self {
            Sandbox::Native => std::env::current_exe().unwrap_or_else(|_| "wheelforge".into()),
            Sandbox::Chroot { .. } => PathBuf::from(WHEELFORGE_INSIDE),
        }
    }
}

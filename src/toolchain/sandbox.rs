//! Running a program inside the toolchain's Debian root.
//!
//! The root is a complete Debian system (Python 3.14, clang 22, the WASI sysroot). A command
//! enters it in a private mount namespace (`unshare --mount`): `/proc` and `/dev` are mounted,
//! the host paths a build needs (work directory, caches, the wheelforge binary) are bind-mounted
//! at the same paths inside, and the program runs under `chroot` with a clean environment.
//! The mounts vanish with the process. With an official wasi-sdk there is no root and commands
//! run directly ([`Sandbox::Native`]).
//!
//! Builds run package code (a `setup.py`, a meson.build's `run_command`), so a build's command
//! sees the toolchain read-only, with empty `/tmp` and `/root` of its own ([`Access::Build`]);
//! only the toolchain's installers write into the root ([`Access::Admin`]). Pure builds, which
//! need no toolchain, run on the build machine itself through [`isolated_command`]: the whole
//! file system read-only, its home, `/root`, `/tmp` and `/var/tmp` hidden behind empty tmpfs
//! mounts, and only the paths the build names bound back. This module only builds `Command`s.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The shell script that sets up the namespace; arguments: ROOT CWD ACCESS (HOST INSIDE)... --
/// PROGRAM... With ACCESS `build`, the root is made read-only (after the mount points are
/// created in it) and gets private tmpfs `/tmp` and `/root`.
const ENTER: &str = r#"set -e
root=$1; cwd=$2; access=$3; shift 3
for_binds() {
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
    "$action" "$1" "$root$2"; shift 2
  done
}
make_point() {
  if [ -d "$1" ]; then
    mkdir -p "$2"
  else
    mkdir -p "$(dirname "$2")"
    [ -e "$2" ] || : > "$2"
  fi
}
bind() { mount --bind "$1" "$2"; }
action=make_point; for_binds "$@"
if [ "$access" = build ]; then
  mount --bind "$root" "$root"
  mount -o bind,remount,ro "$root"
  mount -t tmpfs wheelforge-tmp "$root/tmp"
  mount -t tmpfs wheelforge-home "$root/root"
  # Mount points under the new /tmp and /root (the ones made above are hidden now).
  action=make_point; for_binds "$@"
fi
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
action=bind; for_binds "$@"
while [ "$1" != "--" ]; do shift; done
shift
exec /usr/sbin/chroot "$root" /bin/sh -c 'cd "$0" && exec "$@"' "$cwd" "$@"
"#;

/// What a command inside the root may change there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A build or a test: the root read-only, `/tmp` and `/root` private and empty.
    Build,
    /// The toolchain's installers (apt, dpkg): the root writable.
    Admin,
}

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
        self.command_with(Access::Build, program, cwd, binds)
    }

    /// [`Sandbox::command`] for the toolchain's installers, which write into the root.
    pub fn admin_command(&self, program: &str, cwd: &Path, binds: &[&Path]) -> Command {
        self.command_with(Access::Admin, program, cwd, binds)
    }

    fn command_with(&self, access: Access, program: &str, cwd: &Path, binds: &[&Path]) -> Command {
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
                    .arg(cwd)
                    .arg(match access {
                        Access::Build => "build",
                        Access::Admin => "admin",
                    });
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
                    for key in [
                        "PIP_CERT",
                        "SSL_CERT_FILE",
                        "REQUESTS_CA_BUNDLE",
                        "CARGO_HTTP_CAINFO",
                    ] {
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

/// The script behind [`isolated_command`]; arguments: STAGING CWD (MODE PATH)... -- PROGRAM...
/// Exits with [`ISOLATION_FAILED`] when the namespace cannot be set up, before any package code.
const ISOLATE: &str = r#"set -e
fail() { echo "wheelforge sandbox: $*" >&2; exit 97; }
staging=$1; cwd=$2; shift 2
mount -t tmpfs wheelforge-sandbox "$staging" || fail "cannot mount a tmpfs on $staging"
new=$staging/root
mkdir "$new"
mount --rbind / "$new" || fail "cannot bind / to $new"
# Every mount under the new root read-only (util-linux 2.38 has no recursive remount).
awk -v p="$new" '$5 == p || index($5, p "/") == 1 { print $5 }' /proc/self/mountinfo |
  while read -r point; do
    point=$(printf '%b' "$point")
    mount -o bind,remount,ro "$point" || fail "cannot make $point read-only"
  done
for hidden in /tmp /var/tmp /root "$HOME"; do
  if [ -n "$hidden" ] && [ "$hidden" != / ] && [ -d "$new$hidden" ]; then
    mount -t tmpfs wheelforge-hidden "$new$hidden" || fail "cannot hide $hidden"
  fi
done
while [ "$1" != "--" ]; do
  mode=$1; path=$2; shift 2
  if [ -d "$path" ]; then
    mkdir -p "$new$path" 2>/dev/null || true
  else
    mkdir -p "$(dirname "$new$path")" 2>/dev/null || true
    [ -e "$new$path" ] || : > "$new$path" 2>/dev/null || true
  fi
  mount --bind "$path" "$new$path" || fail "cannot bind $path"
  if [ "$mode" = ro ]; then
    mount -o bind,remount,ro "$new$path" || fail "cannot make $path read-only"
  fi
done
shift
exec /usr/sbin/chroot "$new" /bin/sh -c 'cd "$0" && exec "$@"' "$cwd" "$@"
"#;

/// The exit status of an [`isolated_command`] whose sandbox could not be set up.
pub const ISOLATION_FAILED: i32 = 97;

/// What an [`isolated_command`] may see of the build machine besides its read-only file system.
#[derive(Debug, Clone, Copy)]
pub enum Bind<'a> {
    /// Visible and writable at the same path (the build's work directory).
    Writable(&'a Path),
    /// Visible read-only at the same path, also inside a hidden directory (the build tools'
    /// wheelhouse in the cache, a Python installed under the home).
    ReadOnly(&'a Path),
}

/// A command running `program` on the build machine in a private mount namespace: the file
/// system read-only, `/tmp`, `/var/tmp`, `/root` and `$HOME` empty private tmpfs mounts, and
/// `binds` visible at their own paths. `staging` is an empty directory the sandbox mounts its
/// view on (it is created); it must not be inside a bound directory's hidden parts. As root
/// the namespace is a plain `unshare --mount`; otherwise a user namespace maps the caller to
/// root inside (`--user --map-root-user`), which needs unprivileged user namespaces.
/// The environment is inherited; the caller sets what the program needs.
pub fn isolated_command(
    program: &Path,
    cwd: &Path,
    staging: &Path,
    binds: &[Bind<'_>],
) -> std::io::Result<Command> {
    fs_err::create_dir_all(staging)?;
    let absolute = |path: &Path| std::path::absolute(path);
    let mut command = Command::new("unshare");
    if !rustix::process::geteuid().is_root() {
        command.args(["--user", "--map-root-user"]);
    }
    command
        .args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"])
        .arg(ISOLATE)
        .arg("wheelforge-sandbox")
        .arg(absolute(staging)?)
        .arg(absolute(cwd)?);
    for bind in binds {
        let (mode, path) = match bind {
            Bind::Writable(path) => ("rw", path),
            Bind::ReadOnly(path) => ("ro", path),
        };
        command.arg(mode).arg(absolute(path)?);
    }
    command.arg("--").arg(program);
    command.env("TMPDIR", "/tmp");
    Ok(command)
}

//! The C++ runtime with exceptions (docs/toolchain.md, "C++ exceptions").
//!
//! The consumer's runtime ships libc++ and libc++abi built without exceptions, so a side module
//! that throws has nothing to unwind with. The Debian toolchain therefore carries its own
//! libc++, libc++abi and libunwind, built at install from Debian's llvm-toolchain-22 sources
//! (the version of the installed clang) with LLVM's runtimes build
//! (`toolchain/cxx/runtimes.cmake`): static, position-independent, every symbol hidden, with
//! standard (exnref) WebAssembly exception handling. The wrappers compile C++ against its
//! headers and link the archives into every C++ side module, so each module has a private
//! copy that neither exports nor imports anything of it, beside the consumer's `libc++.so`.
//! The exception tags and setjmp/longjmp are in the tool files (`toolchain/eh/`).

use std::path::{Path, PathBuf};

use super::wasi::WasiToolchain;
use super::{ToolchainError, io_error};
use crate::process::log_tail;

/// Where the runtime is installed in the root: `include/c++/v1` and `lib/`.
pub const CXX_DIR: &str = "/opt/wheelforge/cxx";

/// Where Debian source packages are downloaded (shared with the Fortran part).
pub const DOWNLOADS_DIR: &str = "/opt/wheelforge/downloads";

/// The Debian source package with libc++, libc++abi and libunwind.
pub const SOURCE_PACKAGE: &str = "llvm-toolchain-22";

/// The flags every compile gets: standard (not legacy) WebAssembly exception handling, and
/// setjmp/longjmp lowered onto it.
pub const EXCEPTION_FLAGS: &[&str] = &[
    "-fwasm-exceptions",
    "-mllvm",
    "-wasm-use-legacy-eh=false",
    "-mllvm",
    "-wasm-enable-sjlj",
];

/// The runtimes build's initial cache (part of the identity: a change rebuilds the runtime and
/// every C++ wheel).
pub const RUNTIMES_CACHE: &str = include_str!("../../toolchain/cxx/runtimes.cmake");

/// The parts of the LLVM source tree the runtimes build reads.
const SOURCE_DIRS: &[&str] = &[
    "runtimes",
    "libcxx",
    "libcxxabi",
    "libunwind",
    "libc",
    "cmake",
    "llvm/cmake",
    "llvm/utils/llvm-lit",
];

/// The archives a C++ link needs, in link order (inside paths).
pub fn archives() -> Vec<PathBuf> {
    ["libc++.a", "libc++abi.a", "libunwind.a"]
        .iter()
        .map(|name| Path::new(CXX_DIR).join("lib").join(name))
        .collect()
}

/// The runtime's headers (inside path).
pub fn include_dir() -> PathBuf {
    Path::new(CXX_DIR).join("include/c++/v1")
}

/// Builds and installs the runtime into the toolchain root unless a finished build is there
/// (its marker holds the digest of the source tarball and the build files). Returns the
/// source tarball's SHA-256, which goes into the toolchain's versions.
pub fn install(toolchain: &WasiToolchain, log: &Path) -> Result<String, ToolchainError> {
    let host = |inside: &str| toolchain.host_path(Path::new(inside));
    super::debian_source::enable_sources(toolchain, &[], log)?;
    let clang_version = toolchain
        .versions
        .get("deb:clang-22")
        .cloned()
        .unwrap_or_default();
    let upstream = super::debian_source::fetch(
        toolchain,
        SOURCE_PACKAGE,
        Some(&clang_version)
            .filter(|v| !v.is_empty())
            .map(|v| v.as_str()),
        None,
        &host(DOWNLOADS_DIR),
        log,
    )?;
    let key = format!("{}\n{}", upstream.sha256, digest(RUNTIMES_CACHE));
    let marker = host(&format!("{CXX_DIR}/.built"));
    if fs_err::read_to_string(&marker).is_ok_and(|text| text == key) {
        return Ok(upstream.sha256);
    }
    let prefix = host(CXX_DIR);
    if prefix.exists() {
        fs_err::remove_dir_all(&prefix).map_err(io_error(&prefix))?;
    }
    let work = format!("{CXX_DIR}-build");
    let host_work = host(&work);
    if host_work.exists() {
        fs_err::remove_dir_all(&host_work).map_err(io_error(&host_work))?;
    }
    fs_err::create_dir_all(host_work.join("source")).map_err(io_error(&host_work))?;
    let tarball = upstream
        .path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let top = tarball.strip_suffix(".orig.tar.xz").unwrap_or_default();
    let cache = RUNTIMES_CACHE
        .replace("@CLANG@", &toolchain.clang.display().to_string())
        .replace("@CLANGXX@", &toolchain.clangxx.display().to_string())
        .replace("@AR@", &toolchain.ar.display().to_string())
        .replace("@RANLIB@", &toolchain.ranlib.display().to_string())
        .replace("@TRIPLE@", &toolchain.triple)
        .replace("@SYSROOT@", &toolchain.sysroot.display().to_string())
        .replace("@PREFIX@", CXX_DIR)
        .replace("@EH_FLAGS@", &EXCEPTION_FLAGS[..3].join(" "));
    let cache_path = host_work.join("runtimes.cmake");
    fs_err::write(&cache_path, cache).map_err(io_error(&cache_path))?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let members: Vec<String> = SOURCE_DIRS.iter().map(|d| format!("{top}/{d}")).collect();
    // libunwind's register save/restore files are assembly for other architectures: empty
    // non-wasm members that wasm-ld would warn about on every link.
    let script = format!(
        "set -e; cd {work}/source; tar -xJf {DOWNLOADS_DIR}/{tarball} --strip-components=1 {members}; \
         cmake -C {work}/runtimes.cmake -S {work}/source/runtimes -B {work}/build -G Ninja; \
         ninja -C {work}/build -j {jobs} install; \
         {ar} d {CXX_DIR}/lib/libunwind.a UnwindRegistersRestore.S.o UnwindRegistersSave.S.o; \
         rm -rf {work}",
        members = members.join(" "),
        ar = toolchain.ar.display(),
    );
    let mut command = toolchain
        .sandbox()
        .admin_command("/bin/sh", Path::new("/"), &[]);
    command.args(["-c", &script]);
    super::install::run_step(
        "building libc++, libc++abi and libunwind with exceptions",
        &mut command,
        log,
    )?;
    for archive in archives() {
        let path = toolchain.host_path(&archive);
        if !path.is_file() {
            return Err(ToolchainError::Step {
                step: format!("the C++ runtime build installed no {}", archive.display()),
                tail: log_tail(log, 12),
                log: log.to_path_buf(),
            });
        }
    }
    super::write_atomically(&marker, key.as_bytes())?;
    Ok(upstream.sha256)
}

/// Whether the toolchain has the runtime (the wasi-sdk flavor has none).
pub fn is_installed(toolchain: &WasiToolchain) -> bool {
    toolchain
        .host_path(Path::new(&format!("{CXX_DIR}/.built")))
        .is_file()
}

fn digest(text: &str) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()))
}

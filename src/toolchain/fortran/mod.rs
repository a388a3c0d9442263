//! Fortran for wasm32: the `wheelforge-fortran` compiler driver and its toolchain part.
//!
//! Debian's flang 22 has no wasm32 code generator, and its model of the runtime assumes a
//! 64-bit machine. The driver (`driver`) runs flang's stages one by one — the front end for the
//! real wasm32 target, FIR lowering with the i386 calling convention, clang for the wasm32
//! object — and repairs the differences between stages with textual rewrites (`ir`). The
//! runtime it links against, flang-rt, is built for wasm32 from Debian's source package with an
//! LP64 boundary (`lp64`) by the optional, on-demand Fortran install (`install`), which also
//! builds the intrinsic modules for wasm32 (`modules`). See docs/fortran.md. This module does
//! not decide which recipes use Fortran.

pub mod driver;
pub mod install;
pub mod ir;
pub mod lp64;
pub mod modules;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::toolchain::WasiToolchain;

/// Where the Fortran part lives inside the root.
pub const FORTRAN_DIR: &str = "/opt/wheelforge/fortran";

/// The driver's configuration inside the root.
pub const CONFIG_PATH: &str = "/opt/wheelforge/fortran/driver.json";

/// The CMake toolchain file with Fortran (the base `wasi.cmake` plus the driver).
pub const CMAKE_TOOLCHAIN_FILE: &str = "/opt/wheelforge/fortran/wasi-fortran.cmake";

/// The meson cross file addition with the driver (after the base `meson-cross.ini`).
pub const MESON_CROSS_FILE: &str = "/opt/wheelforge/fortran/meson-fortran.ini";

/// The Fortran runtime archive inside the root.
pub const RUNTIME_ARCHIVE: &str = "/opt/wheelforge/fortran/lib/libflang_rt.runtime.a";

/// Names the runtime archive to the C and C++ compiler wrappers (set for recipes with
/// `build.fortran`, and by the driver for its own links): every link they rewrite then links
/// it after its inputs, as gfortran's implicit libraries are, so that C code linking Fortran
/// objects (numpy or scipy against LAPACK, build-system link probes) needs nothing more. An
/// archive lends only the members a link references; a link without Fortran is unchanged.
pub const RUNTIME_VARIABLE: &str = "WHEELFORGE_FORTRAN_RUNTIME";

/// Libraries an *executable* that links the runtime needs after it: the C++ library the
/// runtime uses and wasi-libc's emulations of signals and process clocks (the runtime is
/// compiled with them). Side modules import these from the consumer's shared libraries.
pub const EXECUTABLE_LIBRARIES: &[&str] = &[
    "-lc++",
    "-lc++abi",
    "-lwasi-emulated-signal",
    "-lwasi-emulated-process-clocks",
    "-lwasi-emulated-getpid",
];

/// The configuration file the driver reads (default [`CONFIG_PATH`]).
pub const CONFIG_VARIABLE: &str = "WHEELFORGE_FORTRAN_CONFIG";

/// What the driver runs, as paths inside the root.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DriverConfig {
    /// flang's compiler driver (its `-fc1` front end, `-E` preprocessing): a hard link to
    /// Debian's binary in [`FORTRAN_DIR`]`/bin`, because flang finds intrinsic modules only
    /// in `../include/flang` of its own executable (`-fintrinsic-modules-path` merely adds a
    /// search directory for non-intrinsic `USE`), and there it must find the wasm32 ones.
    pub flang: PathBuf,
    pub fir_opt: PathBuf,
    pub tco: PathBuf,
    pub clang: PathBuf,
    /// The C compiler wrapper, for links (it knows executables and side modules).
    pub cc_wrapper: PathBuf,
    pub sysroot: PathBuf,
    /// The intrinsic modules built for wasm32 (`../include/flang` of [`Self::flang`]).
    pub module_dir: PathBuf,
    /// The Fortran runtime archive for wasm32 (with the complex(4) shims).
    pub runtime: PathBuf,
}

impl DriverConfig {
    pub fn for_toolchain(toolchain: &WasiToolchain) -> DriverConfig {
        DriverConfig {
            flang: PathBuf::from(FORTRAN_DIR).join("bin/flang"),
            fir_opt: "/usr/bin/fir-opt-22".into(),
            tco: "/usr/bin/tco-22".into(),
            clang: toolchain.clang.clone(),
            cc_wrapper: toolchain.tools_dir.join("bin/cc"),
            sysroot: toolchain.sysroot.clone(),
            module_dir: PathBuf::from(FORTRAN_DIR).join("include/flang"),
            runtime: PathBuf::from(RUNTIME_ARCHIVE),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FortranError {
    #[error("the Fortran driver has no configuration at {path}: {detail}\n  help: run `wheelforge toolchain install --fortran`", path = path.display())]
    Config { path: PathBuf, detail: String },
    #[error("{message}\n  help: {help}")]
    Usage { message: String, help: String },
    #[error("cannot run {program}: {source}\n  help: reinstall the Fortran toolchain with `wheelforge toolchain install --fortran --force`", program = program.display())]
    Spawn {
        program: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{stage} failed for {source_file} ({status})\n  help: {help}", source_file = source_file.display())]
    Stage {
        stage: &'static str,
        source_file: PathBuf,
        status: String,
        help: &'static str,
    },
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

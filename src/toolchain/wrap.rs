//! Compiler wrappers, in the style of pyodide's pywasmcross.
//!
//! Build systems call `cc`, `c++`, `ar`, ... with flags meant for the build machine: host
//! include and library directories, x86 tuning, ELF linker options, `-lpthread`. The wrappers
//! (`wheelforge wrap TOOL ARGS...`, installed as scripts in the toolchain) rewrite a command line
//! for wasm32 WASI: they add the target and sysroot, swap the host CPython include directory
//! for the target's, drop host paths and host-only flags, and turn `-shared` links into the
//! `dylink.0` side-module link that componentize-py consumes. A cross build with host
//! requirements also gets a [`HostPrefix`]: include directories inside the build Python's
//! packages (`numpy.get_include()` of the build machine's numpy) become the same directories
//! of the target's copies. This module is the rewrite; the CLI executes the result.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What the wrappers need to know, passed in `WHEELFORGE_WRAP_CONFIG` (a JSON file path).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WrapConfig {
    pub clang: PathBuf,
    pub clangxx: PathBuf,
    pub ar: PathBuf,
    pub nm: PathBuf,
    pub ranlib: PathBuf,
    pub sysroot: PathBuf,
    pub triple: String,
    /// The CPython 3.14 target include directory.
    pub target_include: PathBuf,
    /// Host CPython include directories, replaced by `target_include`.
    pub host_python_includes: Vec<PathBuf>,
    /// Archives added to every shared link (the C++ exception shim, compiler-rt's builtins).
    /// Their members are only linked when a module references them, so C modules are
    /// unaffected; and build systems link C++ modules with `cc` as often as with `c++`.
    #[serde(default, alias = "shared_link_extras")]
    pub link_archives: Vec<PathBuf>,
    /// Archives added to every executable link (configure probes, library test programs): the
    /// `longjmp` report of the compat `setjmp.h` and the C++ exception shim, which side modules
    /// get from `link_archives`.
    #[serde(default)]
    pub executable_archives: Vec<PathBuf>,
    /// Headers that replace the C library's where it has none for the target (`setjmp.h`),
    /// or complete the C++ library's (`<mutex>`, `<fstream>`), searched before the system
    /// directories.
    #[serde(default)]
    pub compat_include: Option<PathBuf>,
    /// The WebAssembly exception-handling model, where the toolchain has its C++ runtime:
    /// used instead of the shims when [`WASM_EXCEPTIONS_VARIABLE`] is set (docs/toolchain.md,
    /// "WebAssembly exception handling"; no released consumer runtime can link its modules).
    #[serde(default)]
    pub wasm_exceptions: Option<WasmExceptions>,
    /// Whether this invocation uses `wasm_exceptions` (from the environment, not the file).
    #[serde(skip)]
    pub use_wasm_exceptions: bool,
}

/// The C++ runtime with exceptions and the archives of the WebAssembly exception-handling
/// model (inside paths).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WasmExceptions {
    /// libc++'s headers, which C++ compiles use instead of the sysroot's.
    pub cxx_include: PathBuf,
    /// Added to every link after its inputs: libc++, libc++abi, libunwind, the exception
    /// tags with setjmp/longjmp, compiler-rt's builtins.
    pub link_archives: Vec<PathBuf>,
}

/// Set (to anything) in a build's environment, it makes the wrappers compile and link with
/// WebAssembly exception handling (a recipe's `build.environment`).
pub const WASM_EXCEPTIONS_VARIABLE: &str = "WHEELFORGE_WASM_EXCEPTIONS";

/// The target prefix of a cross build with host requirements, passed to the wrappers in
/// [`HOST_PREFIX_VARIABLE`] and [`BUILD_SITE_PACKAGES_VARIABLE`] (set by the cross backend).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPrefix {
    /// The site-packages of the unpacked host requirement wheels (built for the target).
    pub target_site_packages: PathBuf,
    /// The build environment's site-packages directories: where the build Python's own copy
    /// of a host requirement (installed as a build tool, for its headers) lives.
    pub build_site_packages: Vec<PathBuf>,
    /// The compiler's working directory: relative include paths are resolved against it.
    pub cwd: PathBuf,
}

/// The target prefix's site-packages directory.
pub const HOST_PREFIX_VARIABLE: &str = "WHEELFORGE_HOST_PREFIX";
/// The build environment's site-packages directories, separated by `:`.
pub const BUILD_SITE_PACKAGES_VARIABLE: &str = "WHEELFORGE_BUILD_SITE_PACKAGES";

impl HostPrefix {
    /// The prefix the cross backend named in the environment, if any.
    pub fn from_env(cwd: PathBuf) -> Option<HostPrefix> {
        let target = std::env::var_os(HOST_PREFIX_VARIABLE).filter(|v| !v.is_empty())?;
        let build = std::env::var_os(BUILD_SITE_PACKAGES_VARIABLE).unwrap_or_default();
        Some(HostPrefix {
            target_site_packages: PathBuf::from(target),
            build_site_packages: std::env::split_paths(&build)
                .filter(|p| !p.as_os_str().is_empty())
                .collect(),
            cwd,
        })
    }

    /// The target's copy of the directory `include`, when `include` lies inside a package of
    /// the build environment and the target prefix has the same directory.
    pub fn map_include(&self, include: &str) -> Option<PathBuf> {
        self.target_copy(include).filter(|copy| copy.is_dir())
    }

    /// The target's copy of the file `path` (an archive or a source file given as an input),
    /// when `path` lies inside a package of the build environment and the target prefix has
    /// the same file. meson's `cc.find_library('npymath', dirs: <numpy>/_core/lib)` names
    /// the build Python's x86_64 `libnpymath.a` this way; the target numpy's wheel has a
    /// wasm32 one at the same place.
    pub fn map_file(&self, path: &str) -> Option<PathBuf> {
        self.target_copy(path).filter(|copy| copy.is_file())
    }

    fn target_copy(&self, path: &str) -> Option<PathBuf> {
        let path = normalize(&self.cwd.join(path));
        self.build_site_packages.iter().find_map(|site| {
            let relative = path.strip_prefix(normalize(site)).ok()?;
            (!relative.as_os_str().is_empty()).then(|| self.target_site_packages.join(relative))
        })
    }
}

/// `a/b/../c` → `a/c`, without touching the filesystem (the build directory may not hold
/// the path's intermediate components as real directories).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Cc,
    Cxx,
    Ar,
    Nm,
    Ranlib,
}

impl std::str::FromStr for Tool {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Ok(match text {
            "cc" | "gcc" | "clang" => Tool::Cc,
            "c++" | "g++" | "clang++" | "cxx" => Tool::Cxx,
            "ar" => Tool::Ar,
            "nm" => Tool::Nm,
            "ranlib" => Tool::Ranlib,
            other => {
                return Err(format!(
                    "`{other}` is not a wrapped tool (cc, c++, ar, nm, ranlib)"
                ));
            }
        })
    }
}

/// The flags that make a `dylink.0` side module whose undefined symbols (libc, libpython)
/// stay imports, resolved when componentize-py links the component.
pub const SHARED_LINK_FLAGS: &[&str] = &[
    "-shared",
    "-nostdlib",
    "-Wl,--no-entry",
    "-Wl,--experimental-pic",
    "-Wl,--unresolved-symbols=import-dynamic",
    // A side module's static constructors (C++ globals with constructors, `unordered_map`s,
    // `__attribute__((constructor))`) are run by whoever loads it through this export; without
    // it they never run and the globals stay zero-filled.
    "-Wl,--export-if-defined=__wasm_call_ctors",
];

const HOST_DIRECTORIES: &[&str] = &[
    "/usr/include",
    "/usr/local/include",
    "/usr/lib",
    "/usr/local/lib",
    "/lib",
];

fn is_host_directory(path: &str) -> bool {
    HOST_DIRECTORIES
        .iter()
        .any(|dir| path == *dir || path.starts_with(&format!("{dir}/")))
}

/// Host-only flags: x86 tuning, hardening that wasm lacks, ELF linker options, threads.
fn is_host_only_flag(argument: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "-march=",
        "-mtune=",
        "-mfpmath=",
        "-msse",
        "-mavx",
        "-mfma",
        "-fcf-protection",
        "-fstack-clash-protection",
        "-fstack-protector",
        "-Wl,-z,",
        "-Wl,--as-needed",
        "-Wl,--no-as-needed",
        "-Wl,-Bsymbolic",
        "-Wl,--hash-style",
        "-Wl,-soname",
        "-Wl,-rpath",
        "-Wl,--build-id",
        "-Wl,-O1",
        "-fno-semantic-interposition",
        // wasm-ld resolves archives in any order and has no groups.
        "-Wl,--start-group",
        "-Wl,--end-group",
    ];
    matches!(
        argument,
        "-m64" | "-m32" | "-pthread" | "-lpthread" | "-fopenmp"
    ) || PREFIXES.iter().any(|prefix| argument.starts_with(prefix))
        || is_host_fortran_runtime(argument)
}

/// The build machine's Fortran runtimes, which Meson names for links by the Fortran compiler
/// (`-lflang -lpgmath` for flang, `-lgfortran -lquadmath` for gfortran). The target's runtime
/// is the one the wrapper appends ([`crate::toolchain::fortran::RUNTIME_VARIABLE`]).
fn is_host_fortran_runtime(argument: &str) -> bool {
    matches!(
        argument,
        "-lflang"
            | "-lpgmath"
            | "-lFortranRuntime"
            | "-lFortranDecimal"
            | "-lflang_rt.runtime"
            | "-lgfortran"
            | "-lquadmath"
    )
}

/// Replaces `@FILE` arguments (response files, which Ninja and Meson use for long link lines)
/// by the arguments in the file, so that they are rewritten like the others. The file's syntax
/// is GCC's: arguments separated by white space, single or double quotes around arguments with
/// spaces, a backslash escaping the next character. An `@` argument that names no file is kept.
pub fn expand_response_files(arguments: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for argument in arguments {
        let text = argument
            .strip_prefix('@')
            .and_then(|path| std::fs::read_to_string(path).ok());
        match text {
            Some(text) => out.extend(split_response_file(&text)),
            None => out.push(argument.clone()),
        }
    }
    out
}

fn split_response_file(text: &str) -> Vec<String> {
    let mut arguments = Vec::new();
    let mut current = String::new();
    let mut in_argument = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (c, quote) {
            ('\\', _) => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
                in_argument = true;
            }
            (q, Some(open)) if q == open => quote = None,
            (_, Some(_)) => current.push(c),
            ('\'' | '"', None) => {
                quote = Some(c);
                in_argument = true;
            }
            (c, None) if c.is_whitespace() => {
                if in_argument {
                    arguments.push(std::mem::take(&mut current));
                    in_argument = false;
                }
            }
            (c, None) => {
                current.push(c);
                in_argument = true;
            }
        }
    }
    if in_argument {
        arguments.push(current);
    }
    arguments
}

/// Libraries the consumer's component provides at link time; a side module must not link them.
fn is_runtime_library(argument: &str) -> bool {
    matches!(
        argument,
        "-lc"
            | "-lm"
            | "-ldl"
            | "-lrt"
            | "-lutil"
            | "-lstdc++"
            | "-lc++"
            | "-lc++abi"
            | "-lgcc"
            | "-lgcc_s"
    )
}

/// Rewrites one invocation; returns the program to run and its arguments. `fortran_runtime`
/// is the Fortran runtime archive to link after every link's inputs
/// ([`crate::toolchain::fortran::RUNTIME_VARIABLE`]).
pub fn rewrite(
    tool: Tool,
    config: &WrapConfig,
    host_prefix: Option<&HostPrefix>,
    fortran_runtime: Option<&Path>,
    arguments: &[String],
) -> (PathBuf, Vec<String>) {
    match tool {
        Tool::Ar => (config.ar.clone(), arguments.to_vec()),
        Tool::Nm => (config.nm.clone(), arguments.to_vec()),
        Tool::Ranlib => (config.ranlib.clone(), arguments.to_vec()),
        Tool::Cc | Tool::Cxx => {
            let program = if tool == Tool::Cxx {
                config.clangxx.clone()
            } else {
                config.clang.clone()
            };
            (
                program,
                rewrite_compiler(config, host_prefix, fortran_runtime, arguments),
            )
        }
    }
}

/// Whether an invocation links: it neither stops before the link (`-c`, `-E`, `-S`, dependency
/// output only) nor only asks the compiler about itself, and names an output or an input.
fn is_link(arguments: &[String]) -> bool {
    let stops = |a: &str| {
        matches!(
            a,
            "-c" | "-E"
                | "-S"
                | "-M"
                | "-MM"
                | "--version"
                | "-v"
                | "-dumpversion"
                | "-dumpmachine"
        ) || a.starts_with("-print-")
            || a.starts_with("--print-")
    };
    !arguments.iter().any(|a| stops(a))
        && arguments.iter().any(|a| a == "-o" || !a.starts_with('-'))
}

fn rewrite_compiler(
    config: &WrapConfig,
    host_prefix: Option<&HostPrefix>,
    fortran_runtime: Option<&Path>,
    arguments: &[String],
) -> Vec<String> {
    let shared = arguments.iter().any(|a| a == "-shared");
    let link = is_link(arguments);
    let target_include = config.target_include.display().to_string();
    let host_python = |path: &str| {
        config
            .host_python_includes
            .iter()
            .any(|include| path.trim_end_matches('/') == include.display().to_string())
    };
    let mut out = vec![
        format!("--target={}", config.triple),
        format!("--sysroot={}", config.sysroot.display()),
        "-fPIC".to_string(),
    ];
    let exceptions = config
        .wasm_exceptions
        .as_ref()
        .filter(|_| config.use_wasm_exceptions);
    if exceptions.is_some() {
        // Every compile: the code generator's options only where something is compiled,
        // since a link ignores them (and clang would warn that they are unused).
        out.push(crate::toolchain::cxx::EXCEPTION_FLAGS[0].to_string());
        if compiles_a_source(arguments) {
            out.extend(
                crate::toolchain::cxx::EXCEPTION_FLAGS[1..]
                    .iter()
                    .map(|f| f.to_string()),
            );
        }
    }
    if let Some(compat) = &config.compat_include {
        out.push(format!("-isystem{}", compat.display()));
    }
    if !link || compiles_a_source(arguments) {
        out.extend(EMULATION_DEFINES.iter().map(|d| d.to_string()));
    }
    if let Some(exceptions) = exceptions {
        // C++ compiles only: the private runtime's headers instead of the sysroot's libc++.
        out.push("-nostdinc++".to_string());
        out.push(format!("-cxx-isystem{}", exceptions.cxx_include.display()));
        if link && !shared {
            // Executables (configure checks, test programs) link the same runtime.
            out.push("-nostdlib++".to_string());
        }
    }
    let mut index = 0;
    while index < arguments.len() {
        let argument = arguments[index].as_str();
        index += 1;
        // Flags whose value may be the next argument.
        for flag in ["-I", "-isystem", "-L"] {
            if let Some(value) = argument.strip_prefix(flag) {
                let value = if value.is_empty() && index < arguments.len() {
                    index += 1;
                    arguments[index - 1].as_str()
                } else {
                    value
                };
                let target_copy = host_prefix.and_then(|prefix| prefix.map_include(value));
                if flag != "-L" && host_python(value) {
                    out.push(format!("-I{target_include}"));
                } else if let Some(target_copy) = target_copy {
                    out.push(format!("{flag}{}", target_copy.display()));
                } else if !is_host_directory(value) {
                    out.push(format!("{flag}{value}"));
                }
                break;
            }
        }
        if ["-I", "-isystem", "-L"]
            .iter()
            .any(|f| argument.starts_with(f))
        {
            continue;
        }
        if is_host_only_flag(argument) || (shared && is_runtime_library(argument)) {
            continue;
        }
        if argument == "-shared" {
            out.extend(SHARED_LINK_FLAGS.iter().map(|f| f.to_string()));
            continue;
        }
        let is_output = out.last().is_some_and(|previous| previous == "-o");
        let target_file = host_prefix
            .filter(|_| !argument.starts_with('-') && !is_output)
            .and_then(|prefix| prefix.map_file(argument));
        match target_file {
            Some(file) => out.push(file.display().to_string()),
            None => out.push(argument.to_string()),
        }
    }
    // After the inputs, so that their undefined symbols select the archives' members.
    let archives = match exceptions {
        Some(exceptions) if link => exceptions.link_archives.as_slice(),
        None if shared => config.link_archives.as_slice(),
        None if link => config.executable_archives.as_slice(),
        _ => &[],
    };
    out.extend(archives.iter().map(|p| p.display().to_string()));
    if let Some(runtime) = fortran_runtime.filter(|_| link) {
        out.push(runtime.display().to_string());
        if !shared {
            out.extend(
                crate::toolchain::fortran::EXECUTABLE_LIBRARIES
                    .iter()
                    .map(|l| l.to_string()),
            );
        }
    }
    if link && !shared {
        // Executables (configure probes, test programs) link the emulations statically; side
        // modules import them from the consumer's `libwasi-emulated-*.so`.
        for library in EMULATION_LIBRARIES {
            if !out.iter().any(|argument| argument == library) {
                out.push(library.to_string());
            }
        }
    }
    out
}

/// wasi-libc's emulations of POSIX APIs that WASI 0.2 lacks, on for every compile: anonymous
/// and private-file `mmap` (in memory), `signal`/`raise` (no delivery from outside), `clock()`
/// and `times()`, `getpid()`. Code that only includes `<sys/mman.h>` or `<signal.h>` compiles;
/// what cannot work fails at run time (docs/toolchain.md, "POSIX APIs WASI lacks"). CPython on
/// WASI is built with the same emulations, and the consumer runtime ships their shared
/// libraries.
const EMULATION_DEFINES: &[&str] = &[
    "-D_WASI_EMULATED_MMAN",
    "-D_WASI_EMULATED_SIGNAL",
    "-D_WASI_EMULATED_PROCESS_CLOCKS",
    "-D_WASI_EMULATED_GETPID",
];

/// The static archives of those emulations, for executables.
const EMULATION_LIBRARIES: &[&str] = &[
    "-lwasi-emulated-mman",
    "-lwasi-emulated-signal",
    "-lwasi-emulated-process-clocks",
    "-lwasi-emulated-getpid",
];

/// Whether an invocation compiles a source file (rather than only linking objects).
fn compiles_a_source(arguments: &[String]) -> bool {
    const SOURCES: &[&str] = &[
        "c", "cc", "cpp", "cxx", "c++", "C", "cp", "CPP", "m", "mm", "S", "s", "i", "ii",
    ];
    let mut previous = "";
    arguments.iter().any(|argument| {
        let is_value = matches!(previous, "-o" | "-x" | "-MF" | "-MT" | "-MQ" | "-include");
        previous = argument;
        !is_value
            && (argument == "-"
                || (!argument.starts_with('-')
                    && Path::new(argument)
                        .extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| SOURCES.contains(&e))))
    })
}

/// A C compile that goes through LLVM IR, so that [`crate::toolchain::callee_types::fix`] can
/// give the CPython tables' mistyped callees thunks (docs/toolchain.md, "Callee types").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IrCompile {
    /// The compile stopped at the IR (`-S -emit-llvm -o IR`), with the dependency output.
    pub to_ir: Vec<String>,
    /// Where the IR goes (beside the object).
    pub ir: PathBuf,
    /// The object compile of the (rewritten) IR: the same code-generation flags, without the
    /// language, preprocessor and dependency-file flags.
    pub to_object: Vec<String>,
}

/// The IR route for a rewritten compiler invocation that compiles exactly one C source to an
/// object with `-c` and `-o`; `None` for anything else (C++, several sources, links,
/// preprocessing, LTO), which runs as it is.
pub fn ir_compile(arguments: &[String]) -> Option<IrCompile> {
    if !arguments.iter().any(|a| a == "-c")
        || arguments.iter().any(|a| {
            matches!(a.as_str(), "-E" | "-S" | "-emit-llvm" | "-" | "-save-temps")
                || a.starts_with("-flto")
        })
    {
        return None;
    }
    let output = arguments.iter().position(|a| a == "-o")?;
    let object = arguments.get(output + 1)?;
    let takes_value = |a: &str| {
        matches!(
            a,
            "-o" | "-x"
                | "-MF"
                | "-MT"
                | "-MQ"
                | "-include"
                | "-imacros"
                | "-isystem"
                | "-I"
                | "-iquote"
                | "-idirafter"
                | "-Xclang"
                | "-mllvm"
                | "-D"
                | "-U"
                | "-arch"
        )
    };
    let mut sources = Vec::new();
    let mut index = 0;
    while index < arguments.len() {
        let argument = arguments[index].as_str();
        if takes_value(argument) {
            index += 2;
            continue;
        }
        if !argument.starts_with('-') {
            sources.push(index);
        }
        index += 1;
    }
    let [source] = sources.as_slice() else {
        return None;
    };
    if !arguments[*source].ends_with(".c")
        || arguments.windows(2).any(|w| w[0] == "-x" && w[1] != "c")
    {
        return None;
    }
    let ir = PathBuf::from(format!("{object}.wheelforge.ll"));
    let mut to_ir = arguments.to_vec();
    for argument in &mut to_ir {
        if argument == "-c" {
            *argument = "-S".to_string();
        }
    }
    to_ir[output + 1] = ir.display().to_string();
    to_ir.push("-emit-llvm".to_string());
    let mut to_object = Vec::new();
    let mut index = 0;
    while index < arguments.len() {
        let argument = arguments[index].as_str();
        if matches!(argument, "-x" | "-MF" | "-MT" | "-MQ") {
            index += 2;
            continue;
        }
        if matches!(argument, "-MD" | "-MMD" | "-MP" | "-M" | "-MM") {
            index += 1;
            continue;
        }
        if index == *source {
            to_object.push(ir.display().to_string());
        } else {
            to_object.push(argument.to_string());
        }
        index += 1;
    }
    to_object.push("-Wno-unused-command-line-argument".to_string());
    Some(IrCompile {
        to_ir,
        ir,
        to_object,
    })
}

/// The symbols of wasm-ld's "function signature mismatch" warnings in a link's standard error.
/// On wasm32 a call must match its callee's type exactly; where they disagree (a C prototype
/// that omits a Fortran CHARACTER length, an f2c-style `int` result of a subroutine), wasm-ld
/// only warns and links the call to a stub that traps when it runs. The wrapper fails a
/// side-module link that has any, so that the build stops instead of the program.
pub fn signature_mismatches(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter_map(|line| {
            line.split_once("function signature mismatch: ")
                .map(|(_, s)| s.trim())
        })
        .collect()
}

/// Whether an invocation links a side module (a Python extension module); these are the links
/// whose signature mismatches fail ([`signature_mismatches`]). Configure checks link
/// executables whose deliberately vague declarations (`char f(void)`) mismatch by design.
pub fn links_a_side_module(tool: Tool, arguments: &[String]) -> bool {
    matches!(tool, Tool::Cc | Tool::Cxx) && arguments.iter().any(|a| a == "-shared")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> WrapConfig {
        WrapConfig {
            clang: "/usr/bin/clang-22".into(),
            clangxx: "/usr/bin/clang++-22".into(),
            ar: "/usr/bin/llvm-ar-22".into(),
            nm: "/usr/bin/llvm-nm-22".into(),
            ranlib: "/usr/bin/llvm-ranlib-22".into(),
            sysroot: "/usr".into(),
            triple: "wasm32-wasip1".into(),
            target_include: "/opt/wheelforge/target/include/python3.14".into(),
            host_python_includes: vec!["/usr/include/python3.14".into()],
            link_archives: vec!["/opt/wheelforge/lib/libwheelforge_eh.a".into()],
            executable_archives: vec!["/opt/wheelforge/lib/libwheelforge_exe.a".into()],
            compat_include: None,
            wasm_exceptions: Some(WasmExceptions {
                cxx_include: "/opt/wheelforge/cxx/include/c++/v1".into(),
                link_archives: vec![
                    "/opt/wheelforge/cxx/lib/libc++.a".into(),
                    "/opt/wheelforge/lib/libwheelforge_wasm_eh.a".into(),
                ],
            }),
            use_wasm_exceptions: false,
        }
    }

    /// What every compile starts with, with WebAssembly exception handling.
    const EH_COMPILE: &str = "--target=wasm32-wasip1 --sysroot=/usr -fPIC -fwasm-exceptions -mllvm -wasm-use-legacy-eh=false -mllvm -wasm-enable-sjlj -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_GETPID";
    /// What an executable links after its inputs: wasi-libc's emulations.
    const EMULATIONS: &str = " -lwasi-emulated-mman -lwasi-emulated-signal -lwasi-emulated-process-clocks -lwasi-emulated-getpid";
    /// What every link (no source) starts with, with WebAssembly exception handling.
    const EH_LINK: &str = "--target=wasm32-wasip1 --sysroot=/usr -fPIC -fwasm-exceptions";
    /// The private C++ runtime's headers.
    const CXX: &str = " -nostdinc++ -cxx-isystem/opt/wheelforge/cxx/include/c++/v1";
    const SIDE_MODULE: &str = "-shared -nostdlib -Wl,--no-entry -Wl,--experimental-pic -Wl,--unresolved-symbols=import-dynamic -Wl,--export-if-defined=__wasm_call_ctors";
    const EH_ARCHIVES: &str =
        "/opt/wheelforge/cxx/lib/libc++.a /opt/wheelforge/lib/libwheelforge_wasm_eh.a";

    fn run_with_exceptions(tool: Tool, line: &str) -> String {
        let config = WrapConfig {
            use_wasm_exceptions: true,
            ..config()
        };
        let arguments: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (program, out) = rewrite(tool, &config, None, None, &arguments);
        format!("{} {}", program.display(), out.join(" "))
    }

    #[test]
    fn with_wasm_exceptions_a_cxx_side_module_links_the_private_runtime() {
        assert_eq!(
            run_with_exceptions(Tool::Cxx, "-shared x.o -lstdc++ -o x.so"),
            format!("/usr/bin/clang++-22 {EH_LINK}{CXX} {SIDE_MODULE} x.o -o x.so {EH_ARCHIVES}")
        );
        assert_eq!(
            run_with_exceptions(Tool::Cc, "-c demo.c -o demo.o"),
            format!("/usr/bin/clang-22 {EH_COMPILE}{CXX} -c demo.c -o demo.o")
        );
    }

    #[test]
    fn with_wasm_exceptions_an_executable_links_the_private_runtime_too() {
        assert_eq!(
            run_with_exceptions(Tool::Cxx, "conftest.cpp -o conftest"),
            format!(
                "/usr/bin/clang++-22 {EH_COMPILE}{CXX} -nostdlib++ conftest.cpp -o conftest {EH_ARCHIVES}{EMULATIONS}"
            )
        );
    }

    #[test]
    fn code_generator_options_only_go_where_a_source_is_compiled() {
        for line in ["-c x.c -o x.o", "x.cpp -o x", "-x c -E -", "-S y.S -o y.s"] {
            assert!(
                run_with_exceptions(Tool::Cc, line).contains("-wasm-enable-sjlj"),
                "{line}"
            );
        }
        for line in ["x.o y.o -o x", "-o x.c.o x.o", "-MF dep.c x.o -o x"] {
            assert!(
                !run_with_exceptions(Tool::Cc, line).contains("-mllvm"),
                "{line}"
            );
        }
    }

    #[test]
    fn a_single_c_compile_goes_through_ir_and_nothing_else_does() {
        let args =
            |line: &str| -> Vec<String> { line.split_whitespace().map(str::to_string).collect() };
        let plan = ir_compile(&args(
            "--target=wasm32-wasip1 -O2 -MD -MF x.o.d -Iinc -c src/x.c -o x.o",
        ))
        .unwrap();
        assert_eq!(
            plan.to_ir.join(" "),
            "--target=wasm32-wasip1 -O2 -MD -MF x.o.d -Iinc -S src/x.c -o x.o.wheelforge.ll -emit-llvm"
        );
        assert_eq!(
            plan.to_object.join(" "),
            "--target=wasm32-wasip1 -O2 -Iinc -c x.o.wheelforge.ll -o x.o -Wno-unused-command-line-argument"
        );
        for line in [
            "-c x.cpp -o x.o",
            "-c a.c b.c",
            "-c a.c",
            "a.c -o a",
            "-E a.c -o a.i",
            "-flto -c a.c -o a.o",
            "-x c++ -c a.c -o a.o",
        ] {
            assert_eq!(ir_compile(&args(line)), None, "{line}");
        }
    }

    #[test]
    fn without_the_variable_the_exception_runtime_is_not_used() {
        let line = run(Tool::Cxx, "-shared x.o -o x.so");
        assert!(
            !line.contains("exceptions") && !line.contains("/cxx/"),
            "{line}"
        );
    }

    #[test]
    fn response_files_are_expanded_and_their_host_flags_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let rsp = dir.path().join("m.so.rsp");
        fs_err::write(
            &rsp,
            "-Wl,--as-needed -shared -fPIC -o m.so 'dir with space/a.o' \"q\\\"uote.o\" b\\ c.o\n-lflang -lpgmath -lm\n",
        )
        .unwrap();
        let arguments = vec![format!("@{}", rsp.display()), "@missing.rsp".to_string()];
        let expanded = expand_response_files(&arguments);
        assert_eq!(
            expanded,
            [
                "-Wl,--as-needed",
                "-shared",
                "-fPIC",
                "-o",
                "m.so",
                "dir with space/a.o",
                "q\"uote.o",
                "b c.o",
                "-lflang",
                "-lpgmath",
                "-lm",
                "@missing.rsp"
            ]
        );
        assert!(links_a_side_module(Tool::Cc, &expanded));
        let (_, out) = rewrite(Tool::Cc, &config(), None, None, &expanded);
        let out = out.join(" ");
        assert!(
            !out.contains("--as-needed") && !out.contains("-lflang") && !out.contains("-lpgmath"),
            "{out}"
        );
        assert!(out.contains("-Wl,--no-entry"), "{out}");
    }

    #[test]
    fn the_compatibility_headers_come_before_the_system_ones() {
        let config = WrapConfig {
            compat_include: Some("/opt/wheelforge/include".into()),
            ..config()
        };
        let arguments: Vec<String> = ["-Iinclude", "-c", "ccallback.c"]
            .map(str::to_string)
            .to_vec();
        let (_, out) = rewrite(Tool::Cc, &config, None, None, &arguments);
        assert_eq!(
            out.join(" "),
            "--target=wasm32-wasip1 --sysroot=/usr -fPIC -isystem/opt/wheelforge/include -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_GETPID -Iinclude -c ccallback.c"
        );
    }

    fn run(tool: Tool, line: &str) -> String {
        let arguments: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (program, out) = rewrite(tool, &config(), None, None, &arguments);
        format!("{} {}", program.display(), out.join(" "))
    }

    #[test]
    fn a_setuptools_compile_gets_the_target_include_and_loses_host_flags() {
        assert_eq!(
            run(
                Tool::Cc,
                "-fno-strict-overflow -O2 -march=x86-64 -fstack-protector-strong -fPIC -I/usr/include/python3.14 -I/usr/include -Iinclude -c demo.c -o build/demo.o"
            ),
            "/usr/bin/clang-22 --target=wasm32-wasip1 --sysroot=/usr -fPIC -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_GETPID -fno-strict-overflow -O2 -fPIC -I/opt/wheelforge/target/include/python3.14 -Iinclude -c demo.c -o build/demo.o"
        );
    }

    #[test]
    fn a_shared_link_becomes_a_side_module_link() {
        assert_eq!(
            run(
                Tool::Cc,
                "-shared -Wl,-O1 -Wl,-z,relro -L/usr/lib/x86_64-linux-gnu build/demo.o -lm -lpthread -o demo.cpython-314-wasm32-wasi.so"
            ),
            "/usr/bin/clang-22 --target=wasm32-wasip1 --sysroot=/usr -fPIC -shared -nostdlib -Wl,--no-entry -Wl,--experimental-pic -Wl,--unresolved-symbols=import-dynamic -Wl,--export-if-defined=__wasm_call_ctors build/demo.o -o demo.cpython-314-wasm32-wasi.so /opt/wheelforge/lib/libwheelforge_eh.a"
        );
    }

    #[test]
    fn a_cxx_shared_link_gets_the_exception_shim() {
        assert_eq!(
            run(Tool::Cxx, "-shared x.o -lstdc++ -o x.so"),
            "/usr/bin/clang++-22 --target=wasm32-wasip1 --sysroot=/usr -fPIC -shared -nostdlib -Wl,--no-entry -Wl,--experimental-pic -Wl,--unresolved-symbols=import-dynamic -Wl,--export-if-defined=__wasm_call_ctors x.o -o x.so /opt/wheelforge/lib/libwheelforge_eh.a"
        );
    }

    #[test]
    fn separate_include_arguments_are_rewritten_too() {
        assert_eq!(
            run(
                Tool::Cc,
                "-I /usr/include/python3.14 -isystem /usr/include -c a.c"
            ),
            "/usr/bin/clang-22 --target=wasm32-wasip1 --sysroot=/usr -fPIC -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_GETPID -I/opt/wheelforge/target/include/python3.14 -c a.c"
        );
    }

    #[test]
    fn archivers_pass_through_to_llvm_tools() {
        assert_eq!(
            run(Tool::Ar, "rcs libx.a a.o"),
            "/usr/bin/llvm-ar-22 rcs libx.a a.o"
        );
    }

    /// A build directory with the build Python's numpy in `build-env/static` and the target's
    /// (from the numpy recipe's wheel) in `host-env/site-packages`.
    fn numpy_layout() -> (tempfile::TempDir, HostPrefix) {
        let work = tempfile::tempdir().unwrap();
        for dir in [
            "build-env/static/numpy/_core/include",
            "build-env/static/Cython/Includes",
            "host-env/site-packages/numpy/_core/include",
            "build-env/static/numpy/_core/lib",
            "host-env/site-packages/numpy/_core/lib",
            "source/build/cp314",
        ] {
            fs_err::create_dir_all(work.path().join(dir)).unwrap();
        }
        for archive in [
            "build-env/static/numpy/_core/lib/libnpymath.a",
            "host-env/site-packages/numpy/_core/lib/libnpymath.a",
        ] {
            fs_err::write(work.path().join(archive), "!<arch>\n").unwrap();
        }
        let prefix = HostPrefix {
            target_site_packages: work.path().join("host-env/site-packages"),
            build_site_packages: vec![
                work.path().join("build-env/static"),
                work.path().join("build-env/dynamic"),
            ],
            cwd: work.path().join("source/build/cp314"),
        };
        (work, prefix)
    }

    #[test]
    fn the_build_pythons_numpy_include_becomes_the_target_numpys() {
        let (work, prefix) = numpy_layout();
        let root = work.path().display().to_string();
        let arguments: Vec<String> = [
            format!("-I{root}/build-env/static/numpy/_core/include"),
            // meson's form of pandas' `os.path.relpath(numpy.get_include())`
            "-I../../pandas/../../build-env/static/numpy/_core/include".to_string(),
            "-isystem".to_string(),
            format!("{root}/build-env/static/numpy/_core/include"),
            // Not a host requirement: the target prefix has no Cython, so it stays.
            format!("-I{root}/build-env/static/Cython/Includes"),
            "-c".to_string(),
            "a.c".to_string(),
        ]
        .to_vec();
        let (_, out) = rewrite(Tool::Cc, &config(), Some(&prefix), None, &arguments);
        let target = format!("{root}/host-env/site-packages/numpy/_core/include");
        assert_eq!(
            out,
            [
                "--target=wasm32-wasip1".to_string(),
                "--sysroot=/usr".to_string(),
                "-fPIC".to_string(),
                "-D_WASI_EMULATED_MMAN".to_string(),
                "-D_WASI_EMULATED_SIGNAL".to_string(),
                "-D_WASI_EMULATED_PROCESS_CLOCKS".to_string(),
                "-D_WASI_EMULATED_GETPID".to_string(),
                format!("-I{target}"),
                format!("-I{target}"),
                format!("-isystem{target}"),
                format!("-I{root}/build-env/static/Cython/Includes"),
                "-c".to_string(),
                "a.c".to_string(),
            ]
        );
    }

    #[test]
    fn only_directories_inside_a_build_package_are_mapped() {
        let (work, prefix) = numpy_layout();
        let root = work.path().display();
        // The site-packages directory itself, a sibling directory, and a path that only
        // shares a name prefix are not packages of the build environment.
        assert_eq!(
            prefix.map_include(&format!("{root}/build-env/static")),
            None
        );
        assert_eq!(prefix.map_include(&format!("{root}/build-env")), None);
        assert_eq!(
            prefix.map_include(&format!("{root}/build-env/static2/numpy/_core/include")),
            None
        );
        assert_eq!(
            prefix.map_include(&format!("{root}/build-env/static/numpy/_core/include/")),
            Some(
                work.path()
                    .join("host-env/site-packages/numpy/_core/include")
            )
        );
    }

    #[test]
    fn the_build_pythons_numpy_archives_become_the_target_numpys() {
        let (work, prefix) = numpy_layout();
        let root = work.path().display().to_string();
        let line = format!(
            "-shared -o {root}/build-env/static/numpy/_core/lib/libnpymath.a a.o \
             {root}/build-env/static/numpy/_core/lib/libnpymath.a \
             -L{root}/build-env/static/numpy/_core/lib -L /usr/lib -lnpymath"
        );
        let arguments: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (_, out) = rewrite(Tool::Cc, &config(), Some(&prefix), None, &arguments);
        let target = format!("{root}/host-env/site-packages/numpy/_core/lib");
        // The output is never redirected, even where a target file of that name exists.
        let output = out.iter().position(|a| a == "-o").unwrap();
        assert_eq!(
            out[output + 1],
            format!("{root}/build-env/static/numpy/_core/lib/libnpymath.a")
        );
        assert_eq!(
            out[output + 2..output + 6],
            [
                "a.o".to_string(),
                format!("{target}/libnpymath.a"),
                format!("-L{target}"),
                "-lnpymath".to_string(),
            ]
        );
        // A file the target prefix lacks stays where it is.
        assert_eq!(
            prefix.map_file(&format!("{root}/build-env/static/numpy/_core/lib/other.a")),
            None
        );
    }

    #[test]
    fn signature_mismatch_warnings_name_their_symbols() {
        let stderr = "wasm-ld-22: warning: function signature mismatch: ehg183a_\n\
            >>> defined as (i32, i32, i32, i32, i32, i32) -> void in loessf.f.o\n\
            >>> defined as (i32, i32, i32, i32, i32) -> void in loessc.c.o\n\
            wasm-ld-22: warning: something else\n\
            wasm-ld-22: warning: function signature mismatch: dgemm_\n";
        assert_eq!(signature_mismatches(stderr), ["ehg183a_", "dgemm_"]);
        assert!(signature_mismatches("wasm-ld-22: warning: something else\n").is_empty());
        let args = |line: &str| {
            line.split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert!(links_a_side_module(Tool::Cc, &args("-shared -o m.so a.o")));
        assert!(!links_a_side_module(
            Tool::Cc,
            &args("-o conftest conftest.c")
        ));
        assert!(!links_a_side_module(Tool::Ar, &args("rcs -shared")));
    }

    fn run_with_fortran(line: &str) -> String {
        let arguments: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let runtime = Path::new("/opt/rt.a");
        rewrite(Tool::Cc, &config(), None, Some(runtime), &arguments)
            .1
            .join(" ")
    }

    #[test]
    fn with_the_fortran_runtime_named_links_get_it_and_compiles_do_not() {
        // A side module: the runtime archive only (C++ and libc come from the consumer).
        assert!(
            run_with_fortran("-shared m.o -L/x -lblas -o m.so")
                .ends_with("-o m.so /opt/wheelforge/lib/libwheelforge_eh.a /opt/rt.a")
        );
        // An executable (a build system's link probe): the runtime and what it needs.
        assert!(
            run_with_fortran("probe.c -o probe -lblas")
                .ends_with("-lblas /opt/wheelforge/lib/libwheelforge_exe.a /opt/rt.a -lc++ -lc++abi -lwasi-emulated-signal -lwasi-emulated-process-clocks -lwasi-emulated-getpid -lwasi-emulated-mman")
        );
        for line in [
            "-c x.c -o x.o",
            "-E x.c",
            "-S x.c -o x.s",
            "--version",
            "-dumpmachine",
            "-print-search-dirs",
        ] {
            assert!(!run_with_fortran(line).contains("/opt/rt.a"), "{line}");
        }
        // Without it, links are as before.
        assert!(!run(Tool::Cc, "probe.c -o probe").contains("-lc++"));
    }
}

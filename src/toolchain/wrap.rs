//! Compiler wrappers, in the style of pyodide's pywasmcross.
//!
//! Build systems call `cc`, `c++`, `ar`, ... with flags meant for the build machine: host
//! include and library directories, x86 tuning, ELF linker options, `-lpthread`. The wrappers
//! (`wheelforge wrap TOOL ARGS...`, installed as scripts in the toolchain) rewrite a command line
//! for wasm32 WASI: they add the target and sysroot, swap the host CPython include directory
//! for the target's, drop host paths and host-only flags, and turn `-shared` links into the
//! `dylink.0` side-module link that componentize-py consumes. This module is the pure rewrite;
//! the CLI executes the result.

use std::path::PathBuf;

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
    /// Archives added to every shared link (the C++ exception shim). Their members are only
    /// linked when a module references them, so C modules are unaffected; and build systems
    /// link C++ modules with `cc` as often as with `c++`.
    #[serde(default)]
    pub shared_link_extras: Vec<PathBuf>,
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

/// Rewrites one invocation; returns the program to run and its arguments.
pub fn rewrite(tool: Tool, config: &WrapConfig, arguments: &[String]) -> (PathBuf, Vec<String>) {
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
            (program, rewrite_compiler(config, arguments))
        }
    }
}

fn rewrite_compiler(config: &WrapConfig, arguments: &[String]) -> Vec<String> {
    let shared = arguments.iter().any(|a| a == "-shared");
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
    let mut index = 0;
    while index < arguments.len() {
        let argument = arguments[index].as_str();
        index += 1;
        // Flags whose value may be the next argument.
        for flag in ["-I", "-isystem", "-L"] {
            if let Some(value) = argument.strip_prefix(flag) {
                let (value, separate) = if value.is_empty() && index < arguments.len() {
                    index += 1;
                    (arguments[index - 1].as_str(), true)
                } else {
                    (value, false)
                };
                let _ = separate;
                if flag != "-L" && host_python(value) {
                    out.push(format!("-I{target_include}"));
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
        out.push(argument.to_string());
    }
    if shared {
        // After the inputs, so that their undefined `__cxa_*` symbols select shim members.
        out.extend(
            config
                .shared_link_extras
                .iter()
                .map(|p| p.display().to_string()),
        );
    }
    out
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
            shared_link_extras: vec!["/opt/wheelforge/lib/libwheelforge_eh.a".into()],
        }
    }

    fn run(tool: Tool, line: &str) -> String {
        let arguments: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (program, out) = rewrite(tool, &config(), &arguments);
        format!("{} {}", program.display(), out.join(" "))
    }

    #[test]
    fn a_setuptools_compile_gets_the_target_include_and_loses_host_flags() {
        assert_eq!(
            run(
                Tool::Cc,
                "-fno-strict-overflow -O2 -march=x86-64 -fstack-protector-strong -fPIC -I/usr/include/python3.14 -I/usr/include -Iinclude -c demo.c -o build/demo.o"
            ),
            "/usr/bin/clang-22 --target=wasm32-wasip1 --sysroot=/usr -fPIC -fno-strict-overflow -O2 -fPIC -I/opt/wheelforge/target/include/python3.14 -Iinclude -c demo.c -o build/demo.o"
        );
    }

    #[test]
    fn a_shared_link_becomes_a_side_module_link() {
        assert_eq!(
            run(
                Tool::Cc,
                "-shared -Wl,-O1 -Wl,-z,relro -L/usr/lib/x86_64-linux-gnu build/demo.o -lm -lpthread -o demo.cpython-314-wasm32-wasi.so"
            ),
            "/usr/bin/clang-22 --target=wasm32-wasip1 --sysroot=/usr -fPIC -shared -nostdlib -Wl,--no-entry -Wl,--experimental-pic -Wl,--unresolved-symbols=import-dynamic build/demo.o -o demo.cpython-314-wasm32-wasi.so /opt/wheelforge/lib/libwheelforge_eh.a"
        );
    }

    #[test]
    fn a_cxx_shared_link_gets_the_exception_shim() {
        assert_eq!(
            run(Tool::Cxx, "-shared x.o -lstdc++ -o x.so"),
            "/usr/bin/clang++-22 --target=wasm32-wasip1 --sysroot=/usr -fPIC -shared -nostdlib -Wl,--no-entry -Wl,--experimental-pic -Wl,--unresolved-symbols=import-dynamic x.o -o x.so /opt/wheelforge/lib/libwheelforge_eh.a"
        );
    }

    #[test]
    fn separate_include_arguments_are_rewritten_too() {
        assert_eq!(
            run(
                Tool::Cc,
                "-I /usr/include/python3.14 -isystem /usr/include -c a.c"
            ),
            "/usr/bin/clang-22 --target=wasm32-wasip1 --sysroot=/usr -fPIC -I/opt/wheelforge/target/include/python3.14 -c a.c"
        );
    }

    #[test]
    fn archivers_pass_through_to_llvm_tools() {
        assert_eq!(
            run(Tool::Ar, "rcs libx.a a.o"),
            "/usr/bin/llvm-ar-22 rcs libx.a a.o"
        );
    }
}

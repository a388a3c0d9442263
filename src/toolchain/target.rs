//! The CPython 3.14 target environment: headers, `pyconfig.h` and `_sysconfigdata` for wasm32
//! WASI, derived from the consumer runtime itself.
//!
//! The authority is the interpreter componentize-py embeds: at install time a probe component
//! prints its `sysconfig.get_config_vars()` under the WASI runtime. CPython records every
//! `pyconfig.h` macro whose name starts with a capital letter in those variables (undefined ones
//! as 0), so `pyconfig.h` is regenerated from them, using Debian's pyconfig.h of the same
//! CPython minor version only for the list and order of macros. Feature-test macros (names
//! starting with `_`) are not recorded by CPython; the standard ones are kept from Debian's
//! file and CPython-internal ones (`_Py_HACL_*`, thread-name length, ...) are left out. The
//! probe's variables also become the target `_sysconfigdata`, selected in builds with
//! `_PYTHON_SYSCONFIGDATA_NAME`. Generic headers come from Debian's libpython3.14-dev.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::wasi::WasiToolchain;
use super::{ToolchainError, io_error};

/// What builds need to know about the target interpreter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetEnvironment {
    /// The runtime's `sys.version`, first word (e.g. `3.14.0`).
    pub python_version: String,
    pub soabi: String,
    pub ext_suffix: String,
    pub sizeof_long: u32,
    pub sizeof_void_p: u32,
    /// `sysconfig.get_platform()` of the runtime (for `_PYTHON_HOST_PLATFORM`).
    pub platform: String,
    /// The include directory for `Python.h` (inside the sandbox).
    pub include_dir: PathBuf,
    /// The directory holding the target `_sysconfigdata` module (inside the sandbox).
    pub sysconfigdata_dir: PathBuf,
    /// The module name for `_PYTHON_SYSCONFIGDATA_NAME`.
    pub sysconfigdata_name: String,
    /// An empty pkg-config directory, so pkg-config finds nothing from the host.
    pub pkg_config_dir: PathBuf,
    /// The PEP 508 marker values the runtime reports; `None` in a toolchain installed before
    /// the probe recorded them (or when the runtime could not compute them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markers: Option<MarkerValues>,
}

/// The PEP 508 environment marker variables as the consumer runtime computes them, the way
/// `packaging.markers.default_environment()` does (and uv's interpreter probe).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkerValues {
    pub implementation_name: String,
    pub implementation_version: String,
    pub os_name: String,
    pub platform_machine: String,
    pub platform_python_implementation: String,
    pub platform_release: String,
    pub platform_system: String,
    pub platform_version: String,
    pub python_full_version: String,
    pub python_version: String,
    pub sys_platform: String,
}

impl MarkerValues {
    /// The marker environment requirements are evaluated against; `Err` says which value is
    /// not a PEP 440 version.
    pub fn environment(&self) -> Result<pep508_rs::MarkerEnvironment, String> {
        pep508_rs::MarkerEnvironment::try_from(pep508_rs::MarkerEnvironmentBuilder {
            implementation_name: &self.implementation_name,
            implementation_version: &self.implementation_version,
            os_name: &self.os_name,
            platform_machine: &self.platform_machine,
            platform_python_implementation: &self.platform_python_implementation,
            platform_release: &self.platform_release,
            platform_system: &self.platform_system,
            platform_version: &self.platform_version,
            python_full_version: &self.python_full_version,
            python_version: &self.python_version,
            sys_platform: &self.sys_platform,
        })
        .map_err(|error| format!("the probed marker values are not PEP 440 versions: {error}"))
    }
}

pub const SYSCONFIGDATA_NAME: &str = "_sysconfigdata__wasi_wasm32-wasi";

/// The feature-test macros kept from Debian's pyconfig.h (CPython does not record `_` names).
const FEATURE_TEST_MACROS: &[&str] = &[
    "_DARWIN_C_SOURCE",
    "_FILE_OFFSET_BITS",
    "_LARGEFILE_SOURCE",
    "_NETBSD_SOURCE",
    "_POSIX_C_SOURCE",
    "_XOPEN_SOURCE",
    "_XOPEN_SOURCE_EXTENDED",
    "__BSD_VISIBLE",
    "_PYTHONFRAMEWORK",
    "_Py_STACK_GROWS_DOWN",
];

/// A value as CPython's `_parse_config_h` records it.
#[derive(Debug, Clone, PartialEq)]
pub enum MacroValue {
    Undefined,
    Defined(String),
}

/// Parses a pyconfig.h the way CPython's sysconfig does (capitalized names only).
pub fn parse_pyconfig(text: &str) -> BTreeMap<String, MacroValue> {
    let mut macros = BTreeMap::new();
    for line in text.lines() {
        // Like CPython's `#define ([A-Z][A-Za-z0-9_]+) (.*)`: a name and a value.
        if let Some(rest) = line.strip_prefix("#define ")
            && let Some((name, value)) = rest.split_once(' ')
        {
            if name.starts_with(|c: char| c.is_ascii_uppercase()) {
                macros.insert(name.to_string(), MacroValue::Defined(value.to_string()));
            }
        } else if let Some(rest) = line.strip_prefix("/* #undef ")
            && let Some(name) = rest.strip_suffix(" */")
            && name.starts_with(|c: char| c.is_ascii_uppercase())
        {
            macros.insert(name.to_string(), MacroValue::Undefined);
        }
    }
    macros
}

/// What the runtime's config variable says about one macro.
fn runtime_value(
    vars: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Option<MacroValue> {
    match vars.get(name)? {
        serde_json::Value::Number(number) if number.as_i64() == Some(0) => {
            Some(MacroValue::Undefined)
        }
        serde_json::Value::Number(number) => Some(MacroValue::Defined(number.to_string())),
        serde_json::Value::String(text) => Some(MacroValue::Defined(text.clone())),
        _ => None,
    }
}

/// Generates the target pyconfig.h: Debian's macro list and order, the runtime's values.
pub fn generate_pyconfig(
    template: &str,
    vars: &serde_json::Map<String, serde_json::Value>,
    python_version: &str,
) -> String {
    let mut out = format!(
        "/* pyconfig.h for CPython {python_version} on wasm32 WASI, generated by wheelforge from\n   \
         the consumer runtime's sysconfig.get_config_vars() (see docs/toolchain.md). */\n\
         #ifndef Py_PYCONFIG_H\n#define Py_PYCONFIG_H\n\n"
    );
    let mut lines = template.lines();
    while let Some(line) = lines.next() {
        // The system-extension blocks (`#ifndef _GNU_SOURCE` / `# define _GNU_SOURCE 1` /
        // `#endif`) are autoconf's, the same on every platform; CPython does not record them in
        // its variables, and extensions rely on them (`_GNU_SOURCE` from Python.h). Kept verbatim.
        if let Some(guarded) = line.strip_prefix("#ifndef ")
            && guarded != "Py_PYCONFIG_H"
        {
            out.push_str(line);
            out.push('\n');
            for inner in lines.by_ref() {
                out.push_str(inner);
                out.push('\n');
                if inner.starts_with("#endif") {
                    break;
                }
            }
            continue;
        }
        let name = line
            .strip_prefix("#define ")
            .map(|rest| rest.split(' ').next().unwrap_or(rest))
            .or_else(|| {
                line.strip_prefix("/* #undef ")
                    .and_then(|r| r.strip_suffix(" */"))
            });
        let Some(name) = name else { continue };
        if name.starts_with('_') {
            if FEATURE_TEST_MACROS.contains(&name) && line.starts_with("#define ") {
                out.push_str(line);
                out.push('\n');
            }
            continue;
        }
        match runtime_value(vars, name) {
            Some(MacroValue::Defined(value)) => out.push_str(&format!("#define {name} {value}\n")),
            Some(MacroValue::Undefined) => out.push_str(&format!("/* #undef {name} */\n")),
            None => out.push_str(&format!("/* {name}: not in CPython {python_version} */\n")),
        }
    }
    out.push_str("\n#endif /* Py_PYCONFIG_H */\n");
    out
}

/// Writes the target environment into the toolchain from the probe's variables.
pub fn write_environment(
    toolchain: &WasiToolchain,
    vars: &serde_json::Map<String, serde_json::Value>,
    python_version: &str,
    platform: &str,
    markers: Option<MarkerValues>,
) -> Result<TargetEnvironment, ToolchainError> {
    let inside = |path: &str| toolchain.host_path(Path::new(path));
    let get = |key: &str| vars.get(key).cloned().unwrap_or(serde_json::Value::Null);
    let number = |key: &str| get(key).as_u64().unwrap_or(0) as u32;
    let string = |key: &str| get(key).as_str().unwrap_or_default().to_string();

    let target_dir = &toolchain.target_dir;
    let include_dir = target_dir.join("include/python3.14");
    let host_include = inside(&include_dir.display().to_string());
    let debian_include = toolchain.host_path(&toolchain.host_python_include);
    crate::paths::copy_tree(&debian_include, &host_include).map_err(io_error(&debian_include))?;
    let template_path = toolchain.host_path(&toolchain.pyconfig_template);
    let template = fs_err::read_to_string(&template_path).map_err(io_error(&template_path))?;
    let pyconfig = host_include.join("pyconfig.h");
    fs_err::write(
        &pyconfig,
        generate_pyconfig(&template, vars, python_version),
    )
    .map_err(io_error(&pyconfig))?;

    let sysconfig_dir = target_dir.join("sysconfig");
    let host_sysconfig = inside(&sysconfig_dir.display().to_string());
    fs_err::create_dir_all(&host_sysconfig).map_err(io_error(&host_sysconfig))?;
    let data = host_sysconfig.join(format!("{SYSCONFIGDATA_NAME}.py"));
    let json = serde_json::to_string_pretty(vars).expect("variables serialize");
    fs_err::write(
        &data,
        format!(
            "# The consumer runtime's sysconfig.get_config_vars(), recorded by wheelforge.\n\
             import json\nbuild_time_vars = json.loads(r'''{json}''')\n"
        ),
    )
    .map_err(io_error(&data))?;
    let pkg_config_dir = target_dir.join("pkgconfig");
    let host_pkg = inside(&pkg_config_dir.display().to_string());
    fs_err::create_dir_all(&host_pkg).map_err(io_error(&host_pkg))?;

    Ok(TargetEnvironment {
        python_version: python_version.to_string(),
        soabi: string("SOABI"),
        ext_suffix: string("EXT_SUFFIX"),
        sizeof_long: number("SIZEOF_LONG"),
        sizeof_void_p: number("SIZEOF_VOID_P"),
        platform: platform.to_string(),
        include_dir,
        sysconfigdata_dir: sysconfig_dir,
        sysconfigdata_name: SYSCONFIGDATA_NAME.to_string(),
        pkg_config_dir,
        markers,
    })
}

/// The directory name of the runtime's standard library, copied by the probe.
pub const RUNTIME_STDLIB: &str = "runtime-stdlib";

/// The marker before the probe's JSON line on stdout.
const PROBE_MARKER: &str = "WHEELFORGE-PROBE ";

/// The probe: what the consumer runtime's interpreter says about itself.
/// `markers` is `packaging.markers.default_environment()`, written out: neither packaging nor
/// `platform` is in the runtime's standard library, so the values are computed the way
/// `platform` does (`os.uname()`, which wasi-libc provides, else `sys.platform` and empty
/// strings). An error there leaves the markers out rather than failing the install.
const PROBE_COMMAND: &str = r#"import json, struct, sys, sysconfig
def markers():
    import os
    info = sys.implementation.version
    implementation_version = f"{info.major}.{info.minor}.{info.micro}"
    if info.releaselevel != "final":
        implementation_version += info.releaselevel[0] + str(info.serial)
    try:
        uname = os.uname()
        system, release, version, machine = uname.sysname, uname.release, uname.version, uname.machine
    except AttributeError:
        system, release, version, machine = sys.platform, "", "", ""
    full_version = sys.version.split()[0].rstrip("+")
    implementation = {"cpython": "CPython", "pypy": "PyPy", "ironpython": "IronPython"}
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": implementation_version,
        "os_name": os.name,
        "platform_machine": machine,
        "platform_python_implementation": implementation.get(sys.implementation.name, sys.implementation.name),
        "platform_release": release,
        "platform_system": system,
        "platform_version": version,
        "python_full_version": full_version,
        "python_version": ".".join(full_version.split(".")[:2]),
        "sys_platform": sys.platform,
    }
try:
    marker_values = markers()
except Exception as error:
    marker_values = {"error": repr(error)}
print("WHEELFORGE-PROBE " + json.dumps({
    "vars": sysconfig.get_config_vars(),
    "version": sys.version.split()[0],
    "platform": sysconfig.get_platform(),
    "markers": marker_values,
    "calcsize_l": struct.calcsize("l"),
    "calcsize_P": struct.calcsize("P"),
}, default=str))
"#;

/// Links and runs the probe component under the embedded runtime and writes the target
/// environment from what it reports.
pub fn prepare(toolchain: &WasiToolchain, log: &Path) -> Result<TargetEnvironment, ToolchainError> {
    let work = toolchain.dir.join("probe");
    if work.exists() {
        fs_err::remove_dir_all(&work).map_err(io_error(&work))?;
    }
    let deps = work.join("deps");
    fs_err::create_dir_all(&deps).map_err(io_error(&deps))?;
    let probe_error = |detail: String| ToolchainError::Probe {
        detail,
        log: log.to_path_buf(),
    };
    let app = crate::toolchain::link::TestApp {
        command: Some(PROBE_COMMAND.to_string()),
        // The runtime's standard library is mounted at /python while componentize-py links;
        // keep a copy, to mount at run time for modules the snapshot does not contain.
        link_code: Some(format!(
            "import shutil\nshutil.copytree({:?}, {:?})",
            crate::toolchain::link::guest::STDLIB,
            format!("{}/{RUNTIME_STDLIB}", crate::toolchain::link::guest::DEPS)
        )),
        ..Default::default()
    };
    let component = crate::toolchain::link::link_test_component(toolchain, &app, &deps, &work, log)
        .map_err(|error| probe_error(error.to_string()))?;
    let output = crate::runtime::run_command(
        &component,
        &crate::runtime::RunOptions {
            args: vec!["probe".into()],
            cache_dir: Some(toolchain.dir.join("runtime-cache")),
            ..Default::default()
        },
    )
    .map_err(|error| probe_error(error.to_string()))?;
    let stdlib = toolchain.runtime_stdlib();
    if stdlib.exists() {
        fs_err::remove_dir_all(&stdlib).map_err(io_error(&stdlib))?;
    }
    fs_err::rename(deps.join(RUNTIME_STDLIB), &stdlib).map_err(io_error(&stdlib))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix(PROBE_MARKER))
        .ok_or_else(|| {
            probe_error(format!(
                "no probe output (exit {}):\n{}",
                output.exit_code,
                String::from_utf8_lossy(&output.stderr)
            ))
        })?;
    let probe: serde_json::Value =
        serde_json::from_str(line).map_err(|error| probe_error(error.to_string()))?;
    fs_err::write(toolchain.dir.join("runtime-sysconfig.json"), line)
        .map_err(io_error(&toolchain.dir))?;
    let vars = probe["vars"]
        .as_object()
        .cloned()
        .ok_or_else(|| probe_error("the probe reported no config vars".into()))?;
    let environment = write_environment(
        toolchain,
        &vars,
        probe["version"].as_str().unwrap_or_default(),
        probe["platform"].as_str().unwrap_or_default(),
        serde_json::from_value(probe["markers"].clone()).ok(),
    )?;
    // The runtime's own view of its data model must agree with what the headers will say.
    if probe["calcsize_l"].as_u64() != Some(u64::from(environment.sizeof_long))
        || probe["calcsize_P"].as_u64() != Some(u64::from(environment.sizeof_void_p))
    {
        return Err(probe_error(format!(
            "SIZEOF_LONG/SIZEOF_VOID_P ({}/{}) disagree with struct.calcsize ({}/{})",
            environment.sizeof_long,
            environment.sizeof_void_p,
            probe["calcsize_l"],
            probe["calcsize_P"]
        )));
    }
    Ok(environment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyconfig_takes_values_from_the_runtime_and_order_from_the_template() {
        let template = "#ifndef Py_PYCONFIG_H\n#define HAVE_FORK 1\n/* #undef HAVE_WASI_THING */\n#define SIZEOF_LONG 8\n\
                        #define _FILE_OFFSET_BITS 64\n#define _Py_HACL_CAN_COMPILE_VEC256 1\n#define GONE 1\n\
                        #ifndef _GNU_SOURCE\n# define _GNU_SOURCE 1\n#endif\n";
        let vars: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
            r#"{"HAVE_FORK": 0, "HAVE_WASI_THING": 1, "SIZEOF_LONG": 4, "CC": "clang"}"#,
        )
        .unwrap();
        let text = generate_pyconfig(template, &vars, "3.14.0");
        let body: Vec<&str> = text.lines().skip(5).collect();
        assert_eq!(
            body,
            [
                "/* #undef HAVE_FORK */",
                "#define HAVE_WASI_THING 1",
                "#define SIZEOF_LONG 4",
                "#define _FILE_OFFSET_BITS 64",
                "/* GONE: not in CPython 3.14.0 */",
                "#ifndef _GNU_SOURCE",
                "# define _GNU_SOURCE 1",
                "#endif",
                "",
                "#endif /* Py_PYCONFIG_H */"
            ]
        );
        let parsed = parse_pyconfig(&text);
        assert_eq!(parsed["SIZEOF_LONG"], MacroValue::Defined("4".into()));
        assert_eq!(parsed["HAVE_FORK"], MacroValue::Undefined);
    }
}

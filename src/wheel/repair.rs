//! The repair/tag stage: a build backend's wheel becomes a wheelforge wheel.
//!
//! Backends write wheels with their own tags, timestamps and entry order. This stage checks the
//! wheel against the recipe (name, version, purity), gives it wheelforge's tag, normalizes the
//! `.dist-info`/`.data` directory names, writes a fresh `WHEEL`, stores the evaluated build plan
//! as `<dist-info>/wheelforge.json`, and rewrites the archive reproducibly.

use std::path::{Path, PathBuf};

use super::metadata::Headers;
use super::{WheelEntry, WheelError, read_entries, write_wheel};
use crate::tags::{WheelFilename, WheelTag, normalize_name};

/// The result of the repair stage.
#[derive(Debug, Clone)]
pub struct RepairedWheel {
    pub path: PathBuf,
    pub filename: WheelFilename,
    /// The exact `METADATA` bytes (PEP 658 serves them unchanged).
    pub metadata: Vec<u8>,
}

/// What the stage needs besides the backend's wheel.
pub struct RepairOptions<'a> {
    pub expected_version: &'a str,
    /// The tag the output must carry; a pure tag requires a pure backend wheel.
    pub tag: WheelTag,
    /// The evaluated build plan, stored in the wheel.
    pub plan_json: Vec<u8>,
    /// For native wheels: the suffix every extension module must have.
    pub extension_suffix: Option<String>,
    /// Keep the extension modules' DWARF (`build.keep-debug`); else it is stripped.
    pub keep_debug: bool,
    /// `build.eager-imports`: submodules imported at package import under WASI.
    pub eager_imports: &'a [String],
    pub timestamp: zip::DateTime,
}

pub fn repair(
    backend_wheel: &Path,
    out_dir: &Path,
    options: RepairOptions<'_>,
) -> Result<RepairedWheel, WheelError> {
    let mut entries = read_entries(backend_wheel)?;
    let built = BuiltWheel::read(backend_wheel, &entries, options.expected_version)?;
    if options.tag.is_pure()
        && let Some(impure) = built.tags.iter().find(|t| !t.is_pure())
    {
        return Err(WheelError::NotPure {
            tag: impure.to_string(),
        });
    }
    add_eager_imports(&mut entries, options.eager_imports, backend_wheel)?;
    let tag = if options.tag.is_pure() {
        options.tag.clone()
    } else {
        repair_modules(&mut entries, &built.tags, &options)?
    };
    let filename = WheelFilename::new(&built.name, &built.version, tag.clone());
    debug_assert_eq!(normalize_name(&built.name), filename.normalized_name());
    let mut output = rename_dist_info(entries, &built.dist_info, &filename);
    let new_dist_info = filename.dist_info_dir();
    let mut wheel_text = format!(
        "Wheel-Version: 1.0\nGenerator: wheelforge {}\nRoot-Is-Purelib: {}\n",
        env!("CARGO_PKG_VERSION"),
        tag.is_pure()
    );
    for one in tag.expanded() {
        wheel_text.push_str(&format!("Tag: {one}\n"));
    }
    output.push(WheelEntry {
        path: format!("{new_dist_info}/WHEEL"),
        data: wheel_text.into_bytes(),
        executable: false,
    });
    output.push(WheelEntry {
        path: format!("{new_dist_info}/wheelforge.json"),
        data: options.plan_json,
        executable: false,
    });
    let path = write_wheel(out_dir, &filename, output, options.timestamp)?;
    Ok(RepairedWheel {
        path,
        filename,
        metadata: built.metadata,
    })
}

/// What the backend's wheel says of itself: its `.dist-info`, METADATA's name and version
/// (checked to equal the recipe's by PEP 440) and WHEEL's tags.
struct BuiltWheel {
    dist_info: String,
    metadata: Vec<u8>,
    name: String,
    version: String,
    tags: Vec<WheelTag>,
}

impl BuiltWheel {
    fn read(
        backend_wheel: &Path,
        entries: &[WheelEntry],
        expected_version: &str,
    ) -> Result<BuiltWheel, WheelError> {
        let missing = |what: &str| WheelError::Missing {
            path: backend_wheel.to_path_buf(),
            what: what.to_string(),
        };
        let dist_info = entries
            .iter()
            .filter_map(|e| e.path.strip_suffix("/METADATA"))
            .find(|dir| dir.ends_with(".dist-info") && !dir.contains('/'))
            .ok_or_else(|| missing("*.dist-info/METADATA"))?
            .to_string();
        let find = |name: &str| {
            let path = format!("{dist_info}/{name}");
            entries.iter().find(|e| e.path == path)
        };
        let metadata = find("METADATA").expect("found above").data.clone();
        let headers = Headers::parse(&String::from_utf8_lossy(&metadata));
        let name = headers
            .get("Name")
            .ok_or_else(|| missing("Name in METADATA"))?
            .to_string();
        let version = headers
            .get("Version")
            .ok_or_else(|| missing("Version in METADATA"))?
            .to_string();
        // PEP 440 equality: `2.0.0-rc1` is `2.0.0rc1`, `1.0` is `1.0.0`; `1.0rc1` is not `1.0`.
        let built =
            version
                .parse::<pep440_rs::Version>()
                .map_err(|error| WheelError::InvalidVersion {
                    path: backend_wheel.to_path_buf(),
                    version: version.clone(),
                    detail: error.to_string(),
                })?;
        let matches = expected_version
            .parse::<pep440_rs::Version>()
            .is_ok_and(|expected| expected == built);
        if !matches {
            return Err(WheelError::VersionMismatch {
                name,
                built: version,
                expected: expected_version.to_string(),
            });
        }
        let wheel_file = find("WHEEL").ok_or_else(|| missing("WHEEL file"))?;
        let tags = Headers::parse(&String::from_utf8_lossy(&wheel_file.data))
            .get_all("Tag")
            .filter_map(|t| t.parse().ok())
            .collect();
        Ok(BuiltWheel {
            dist_info,
            metadata,
            name,
            version,
            tags,
        })
    }
}

/// A native wheel's extension modules: checked to carry the target's suffix (or the stable
/// ABI's, which then gives the tag) and stripped of DWARF unless `keep_debug`; returns the tag.
fn repair_modules(
    entries: &mut [WheelEntry],
    built_tags: &[WheelTag],
    options: &RepairOptions<'_>,
) -> Result<WheelTag, WheelError> {
    let suffix = options.extension_suffix.as_deref().unwrap_or("");
    let tag = match stable_abi_tag(entries, built_tags, &options.tag) {
        Some(stable) => {
            check_extension_modules(entries, STABLE_ABI_SUFFIX)?;
            stable
        }
        None => {
            rename_stable_abi_modules(entries, suffix);
            check_extension_modules(entries, suffix)?;
            options.tag.clone()
        }
    };
    if !options.keep_debug {
        for module in entries.iter_mut().filter(|e| e.path.ends_with(".so")) {
            if let Some(stripped) = strip_debug_sections(&module.data) {
                module.data = stripped;
            }
        }
    }
    Ok(tag)
}

/// The entries under the new `.dist-info` and `.data` names, without the old RECORD,
/// signatures and WHEEL (written anew).
fn rename_dist_info(
    entries: Vec<WheelEntry>,
    old_dist_info: &str,
    filename: &WheelFilename,
) -> Vec<WheelEntry> {
    let new_dist_info = filename.dist_info_dir();
    let old_data = format!("{}.data", old_dist_info.trim_end_matches(".dist-info"));
    let mut output: Vec<WheelEntry> = Vec::with_capacity(entries.len() + 2);
    for entry in entries {
        let rest_of = |prefix: &str| entry.path.strip_prefix(prefix).map(str::to_string);
        let path = if let Some(rest) = rest_of(&format!("{old_dist_info}/")) {
            if matches!(
                rest.as_str(),
                "RECORD" | "RECORD.jws" | "RECORD.p7s" | "WHEEL"
            ) {
                continue;
            }
            format!("{new_dist_info}/{rest}")
        } else if let Some(rest) = rest_of(&format!("{old_data}/")) {
            format!("{}/{rest}", filename.data_dir())
        } else {
            entry.path.clone()
        };
        output.push(WheelEntry { path, ..entry });
    }
    output
}

/// An unsigned LEB128 number at `at` (a wasm section size or name length), advancing `at`.
fn leb128(bytes: &[u8], at: &mut usize) -> Option<usize> {
    let mut value = 0usize;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// `module` without its DWARF (the `.debug_*` custom sections), every other section as it
/// was, in order: the `name` section stays, so that a trap's backtrace still names functions.
/// `None` when the module does not parse as a sequence of sections (it is kept as built).
pub fn strip_debug_sections(module: &[u8]) -> Option<Vec<u8>> {
    if module.len() < 8 || &module[..8] != b"\0asm\x01\0\0\0" {
        return None;
    }
    let mut out = module[..8].to_vec();
    let mut at = 8;
    while at < module.len() {
        let start = at;
        let id = module[at];
        at += 1;
        let size = leb128(module, &mut at)?;
        let end = at.checked_add(size).filter(|&end| end <= module.len())?;
        let debug = id == 0 && {
            let mut name_at = at;
            let length = leb128(module, &mut name_at)?;
            module
                .get(name_at..name_at.checked_add(length)?)
                .is_some_and(|name| name.starts_with(b".debug_"))
        };
        if !debug {
            out.extend_from_slice(&module[start..end]);
        }
        at = end;
    }
    Some(out)
}

/// Whether `bytes` is a core wasm module whose first section is the `dylink.0` custom section
/// (the WebAssembly dynamic-linking convention componentize-py links).
pub fn is_dylink_module(bytes: &[u8]) -> bool {
    if bytes.len() < 9 || &bytes[..8] != b"\0asm\x01\0\0\0" || bytes[8] != 0 {
        return false;
    }
    let mut at = 9;
    let Some(_size) = leb128(bytes, &mut at) else {
        return false;
    };
    let Some(name_length) = leb128(bytes, &mut at) else {
        return false;
    };
    bytes.get(at..at + name_length) == Some(b"dylink.0".as_slice())
}

/// The suffix of a stable-ABI extension module (PEP 384), which CPython 3.14 for WASI imports
/// and componentize-py links like the full suffix.
const STABLE_ABI_SUFFIX: &str = ".abi3.so";

/// The stable-ABI tag a native wheel keeps: when every extension module is `X.abi3.so` and the
/// backend tagged its wheel `cp3Y-abi3-...` (`py_limited_api`, PyO3's `abi3-py3Y`), the wheel
/// is `cp3Y-abi3-<target platform>`, with the lowest such Y, at most the target's. Otherwise
/// `None`: the modules take the target's full suffix and the wheel the target's tag.
fn stable_abi_tag(
    entries: &[WheelEntry],
    built: &[WheelTag],
    target: &WheelTag,
) -> Option<WheelTag> {
    let mut modules = entries
        .iter()
        .filter(|e| e.path.ends_with(".so"))
        .peekable();
    modules.peek()?;
    if !modules.all(|module| module.path.ends_with(STABLE_ABI_SUFFIX)) {
        return None;
    }
    let minor = |python: &str| python.strip_prefix("cp3")?.parse::<u32>().ok();
    let target_minor = target.python.iter().filter_map(|p| minor(p)).max()?;
    let lowest = built
        .iter()
        .filter(|tag| tag.abi.iter().any(|abi| abi == "abi3"))
        .flat_map(|tag| tag.python.iter().filter_map(|p| minor(p)))
        .filter(|&y| y >= 2 && y <= target_minor)
        .min()?;
    Some(WheelTag {
        python: vec![format!("cp3{lowest}")],
        abi: vec!["abi3".into()],
        platform: target.platform.clone(),
    })
}

/// Stable-ABI modules in a wheel that is not tagged for the stable ABI as a whole (some modules
/// use the full ABI, or the backend tagged the wheel `cp314-cp314`) take the target's full
/// suffix, as the wheel's tag then promises.
fn rename_stable_abi_modules(entries: &mut [WheelEntry], suffix: &str) {
    if suffix.is_empty() {
        return;
    }
    for entry in entries.iter_mut() {
        if let Some(stem) = entry.path.strip_suffix(".abi3.so") {
            entry.path = format!("{stem}{suffix}");
        }
    }
}

/// Every `.so` in a native wheel must carry the target suffix and be a `dylink.0` module; and
/// there must be at least one.
fn check_extension_modules(entries: &[WheelEntry], suffix: &str) -> Result<(), WheelError> {
    let modules: Vec<&WheelEntry> = entries.iter().filter(|e| e.path.ends_with(".so")).collect();
    if modules.is_empty() {
        return Err(WheelError::NoExtensionModules);
    }
    for module in modules {
        if suffix.is_empty() || !module.path.ends_with(suffix) {
            return Err(WheelError::BadExtension {
                path: module.path.clone(),
                problem: format!("does not end in `{suffix}`"),
            });
        }
        if !is_dylink_module(&module.data) {
            return Err(WheelError::BadExtension {
                path: module.path.clone(),
                problem:
                    "is not a wasm `dylink.0` side module (was it built by the host compiler?)"
                        .into(),
            });
        }
    }
    Ok(())
}

/// What `build.eager-imports` appends to a package's `__init__.py`. `importlib.import_module`
/// binds no name in the package's namespace (an `import numpy.fft` there would add
/// `numpy.numpy`).
pub fn eager_import_block(modules: &[&str]) -> String {
    let mut block = String::from(
        "\n\n# Added by wheelforge (the recipe's build.eager-imports). Under WASI, a component\n\
         # linked by componentize-py holds only the modules imported while it links, and this\n\
         # package imports these lazily: importing them here puts them in the component.\n\
         import sys as _wheelforge_sys\n\
         if _wheelforge_sys.platform == \"wasi\":\n    import importlib as _wheelforge_importlib\n",
    );
    for module in modules {
        block.push_str(&format!(
            "    _wheelforge_importlib.import_module({module:?})\n"
        ));
    }
    block.push_str("    del _wheelforge_importlib\ndel _wheelforge_sys\n");
    block
}

/// Appends the eager-import block to each named package's `__init__.py`.
fn add_eager_imports(
    entries: &mut [WheelEntry],
    modules: &[String],
    wheel: &Path,
) -> Result<(), WheelError> {
    let mut by_package: std::collections::BTreeMap<&str, Vec<&str>> =
        std::collections::BTreeMap::new();
    for module in modules {
        let top = module.split('.').next().unwrap_or(module);
        by_package.entry(top).or_default().push(module);
    }
    for (package, listed) in by_package {
        let init = format!("{package}/__init__.py");
        let entry =
            entries
                .iter_mut()
                .find(|e| e.path == init)
                .ok_or_else(|| WheelError::Missing {
                    path: wheel.to_path_buf(),
                    what: format!("{init} (build.eager-imports names {})", listed.join(", ")),
                })?;
        entry
            .data
            .extend_from_slice(eager_import_block(&listed).as_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wheel::read_entries;

    /// A backend's wheel of `demo` whose METADATA says `version`.
    fn backend_wheel(dir: &Path, version: &str) -> PathBuf {
        let entry = |path: &str, data: String| WheelEntry {
            path: path.to_string(),
            data: data.into_bytes(),
            executable: false,
        };
        let entries = vec![
            entry("demo/__init__.py", String::new()),
            entry(
                "demo-0.dist-info/METADATA",
                format!("Metadata-Version: 2.1\nName: demo\nVersion: {version}\n"),
            ),
            entry(
                "demo-0.dist-info/WHEEL",
                "Wheel-Version: 1.0\nTag: py3-none-any\n".to_string(),
            ),
        ];
        let name = WheelFilename::new("demo", "0", WheelTag::pure());
        write_wheel(dir, &name, entries, zip::DateTime::default()).unwrap()
    }

    fn repair_to(backend: &Path, out: &Path, expected: &str) -> Result<RepairedWheel, WheelError> {
        repair(
            backend,
            out,
            RepairOptions {
                expected_version: expected,
                tag: WheelTag::pure(),
                plan_json: b"{}".to_vec(),
                extension_suffix: None,
                keep_debug: false,
                eager_imports: &[],
                timestamp: zip::DateTime::default(),
            },
        )
    }

    #[test]
    fn eager_imports_are_appended_to_the_packages_init_under_a_wasi_guard() {
        let mut entries = vec![WheelEntry {
            path: "numpy/__init__.py".into(),
            data: b"x = 1\n".to_vec(),
            executable: false,
        }];
        let modules = ["numpy.fft".to_string(), "numpy.random".to_string()];
        add_eager_imports(&mut entries, &modules, Path::new("w.whl")).unwrap();
        let text = String::from_utf8(entries[0].data.clone()).unwrap();
        assert!(text.starts_with("x = 1\n"), "{text}");
        assert!(
            text.contains("if _wheelforge_sys.platform == \"wasi\":"),
            "{text}"
        );
        assert!(text.contains("_wheelforge_importlib.import_module(\"numpy.fft\")\n    _wheelforge_importlib.import_module(\"numpy.random\")"), "{text}");
        let missing =
            add_eager_imports(&mut entries, &["pandas.io".to_string()], Path::new("w.whl"))
                .unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("pandas/__init__.py (build.eager-imports names pandas.io)"),
            "{missing}"
        );
    }

    /// Issue 16: a backend's `2.0.0-rc1` was refused for a recipe's `2.0.0rc1`.
    #[test]
    fn versions_compare_by_pep_440_not_by_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let backend = backend_wheel(dir.path(), "2.0.0-rc1");
        let out = dir.path().join("out");
        fs_err::create_dir_all(&out).unwrap();
        let repaired = repair_to(&backend, &out, "2.0.0rc1").unwrap();
        assert!(read_entries(&repaired.path).is_ok());
        for other in ["2.0.0", "2.0.0rc2"] {
            assert!(
                matches!(
                    repair_to(&backend, &out, other),
                    Err(WheelError::VersionMismatch { .. })
                ),
                "{other}"
            );
        }
        let unreadable = backend_wheel(dir.path(), "two");
        assert!(matches!(
            repair_to(&unreadable, &out, "2.0.0"),
            Err(WheelError::InvalidVersion { .. })
        ));
    }

    /// A native backend wheel of `demo 1.0` tagged `tag` by its backend, holding `modules`
    /// (`dylink.0` modules).
    fn native_wheel(dir: &Path, tag: &str, modules: &[&str]) -> PathBuf {
        let entry = |path: &str, data: Vec<u8>| WheelEntry {
            path: path.to_string(),
            data,
            executable: false,
        };
        let mut entries = vec![
            entry("demo/__init__.py", Vec::new()),
            entry(
                "demo-1.0.dist-info/METADATA",
                b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n".to_vec(),
            ),
            entry(
                "demo-1.0.dist-info/WHEEL",
                format!("Wheel-Version: 1.0\nTag: {tag}\n").into_bytes(),
            ),
        ];
        for module in modules {
            let mut dylink = b"\0asm\x01\0\0\0\0\x09\x08dylink.0".to_vec();
            dylink.extend_from_slice(&[0; 4]);
            entries.push(entry(module, dylink));
        }
        fs_err::create_dir_all(dir).unwrap();
        let name = WheelFilename::new("demo", "1.0", WheelTag::pure());
        write_wheel(dir, &name, entries, zip::DateTime::default()).unwrap()
    }

    /// A custom section: id 0, size, name length, name, payload.
    fn custom_section(name: &str, payload: &[u8]) -> Vec<u8> {
        let mut body = vec![name.len() as u8];
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(payload);
        let mut section = vec![0, body.len() as u8];
        section.extend(body);
        section
    }

    #[test]
    fn debug_sections_are_stripped_and_the_others_kept_in_order() {
        let header = b"\0asm\x01\0\0\0".to_vec();
        let dylink = custom_section("dylink.0", &[1, 2]);
        let types = vec![1, 4, 1, 0x60, 0, 0];
        let debug_info = custom_section(".debug_info", &[9; 40]);
        let names = custom_section("name", &[0, 1, 2]);
        let debug_line = custom_section(".debug_line", &[7; 3]);
        let module = [
            header.clone(),
            dylink.clone(),
            types.clone(),
            debug_info,
            names.clone(),
            debug_line,
        ]
        .concat();
        let stripped = super::strip_debug_sections(&module).unwrap();
        assert_eq!(stripped, [header, dylink, types, names].concat());
        assert!(super::is_dylink_module(&stripped));
        // A truncated section is no module to rewrite.
        assert_eq!(
            super::strip_debug_sections(&module[..module.len() - 1]),
            None
        );
        assert_eq!(super::strip_debug_sections(b"not wasm"), None);
    }

    fn repair_native(backend: &Path, out: &Path) -> Result<RepairedWheel, WheelError> {
        repair(
            backend,
            out,
            RepairOptions {
                expected_version: "1.0",
                tag: WheelTag::cpython_wasi(14),
                plan_json: b"{}".to_vec(),
                extension_suffix: Some(".cpython-314-wasm32-wasi.so".into()),
                keep_debug: false,
                eager_imports: &[],
                timestamp: zip::DateTime::default(),
            },
        )
    }

    /// The repaired wheel's file name, its entries' paths, its WHEEL and its RECORD.
    fn repaired_parts(repaired: &RepairedWheel) -> (String, Vec<String>, String, String) {
        let entries = read_entries(&repaired.path).unwrap();
        let text = |suffix: &str| {
            let entry = entries.iter().find(|e| e.path.ends_with(suffix)).unwrap();
            String::from_utf8_lossy(&entry.data).into_owned()
        };
        (
            repaired.filename.to_string(),
            entries.iter().map(|entry| entry.path.clone()).collect(),
            text(".dist-info/WHEEL"),
            text(".dist-info/RECORD"),
        )
    }

    /// A stable-ABI wheel (`py_limited_api`, PyO3's `abi3`) was refused for its modules'
    /// suffix. It keeps them, and the backend's `cp3Y-abi3` on the target platform.
    #[test]
    fn a_stable_abi_wheel_keeps_its_modules_and_its_abi3_tag() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        fs_err::create_dir_all(&out).unwrap();
        let backend = native_wheel(
            &dir.path().join("a"),
            "cp39-abi3-wasi_0_0_0_wasm32",
            &["demo/_rust.abi3.so", "demo/_c.abi3.so"],
        );
        let (filename, paths, wheel, record) =
            repaired_parts(&repair_native(&backend, &out).unwrap());
        assert_eq!(filename, "demo-1.0-cp39-abi3-wasi_0_2_wasm32.whl");
        assert!(
            paths.contains(&"demo/_rust.abi3.so".to_string()),
            "{paths:?}"
        );
        assert!(
            wheel.contains("\nTag: cp39-abi3-wasi_0_2_wasm32\n"),
            "{wheel}"
        );
        assert!(wheel.contains("Root-Is-Purelib: false"), "{wheel}");
        assert!(record.contains("demo/_c.abi3.so,"), "{record}");
    }

    /// A stable-ABI module in a wheel that is not stable-ABI as a whole takes the full suffix,
    /// and the wheel the target's tag.
    #[test]
    fn a_stable_abi_module_in_a_full_abi_wheel_takes_the_target_suffix() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        fs_err::create_dir_all(&out).unwrap();
        for (case, tag, modules) in [
            (
                "mixed",
                "cp39-abi3-wasi_0_0_0_wasm32",
                &["demo/_rust.abi3.so", "demo/_c.cpython-314-wasm32-wasi.so"][..],
            ),
            (
                "full tag",
                "cp314-cp314-wasi_0_0_0_wasm32",
                &["demo/_rust.abi3.so"][..],
            ),
        ] {
            let backend = native_wheel(&dir.path().join(case), tag, modules);
            let (filename, paths, wheel, record) =
                repaired_parts(&repair_native(&backend, &out).unwrap());
            assert_eq!(
                filename, "demo-1.0-cp314-cp314-wasi_0_2_wasm32.whl",
                "{case}"
            );
            assert!(
                paths.contains(&"demo/_rust.cpython-314-wasm32-wasi.so".to_string()),
                "{case}: {paths:?}"
            );
            assert!(
                !paths.iter().any(|path| path.ends_with(".abi3.so")),
                "{case}"
            );
            assert!(
                wheel.contains("\nTag: cp314-cp314-wasi_0_2_wasm32\n"),
                "{case}: {wheel}"
            );
            assert!(
                record.contains("demo/_rust.cpython-314-wasm32-wasi.so,"),
                "{case}"
            );
        }

        let empty = native_wheel(&dir.path().join("e"), "cp39-abi3-wasi_0_0_0_wasm32", &[]);
        let error = repair_native(&empty, &out).unwrap_err();
        assert!(matches!(error, WheelError::NoExtensionModules), "{error}");
    }
}

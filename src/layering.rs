//! The structure rules of docs/architecture.md, checked on the crate's own sources: the
//! top-level modules form no cycle (a module's code, outside comments and `#[cfg(test)]`
//! modules, names `crate::OTHER` only for modules below it), each of them has a row in the
//! architecture's module table, and no function outside tests grows past
//! [`FUNCTION_LINES`] lines except the ones [`LONG_FUNCTIONS`] still lists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules its code names, with one file that does.
fn dependencies(src: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut files: BTreeMap<String, Vec<std::path::PathBuf>> = BTreeMap::new();
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.extension().is_none_or(|extension| extension != "rs") {
            continue;
        }
        let relative = path.strip_prefix(src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let module = Path::new(first)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        // The crate root and the binary (which names the library as `wheelforge::`).
        if module == "lib" || module == "main" || module == "cli" {
            continue;
        }
        files.entry(module).or_default().push(path.to_path_buf());
    }
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (module, paths) in &files {
        let uses = graph.entry(module.clone()).or_default();
        for path in paths {
            let text = std::fs::read_to_string(path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for line in code.lines() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                for (index, _) in line.match_indices("crate::") {
                    let name: String = line[index + "crate::".len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if name != *module && files.contains_key(&name) {
                        uses.entry(name)
                            .or_insert_with(|| path.display().to_string());
                    }
                }
            }
        }
    }
    graph
}

/// The longest a function (outside test modules) may be, in lines from `fn` to its `}`.
const FUNCTION_LINES: usize = 80;

/// The functions still longer (issue 22: split into named steps). The list only shrinks: a
/// function that gets shorter must leave it, and a new long function fails the check.
const LONG_FUNCTIONS: &[&str] = &[
    "toolchain/callee_types.rs:fix",
    "toolchain/wrap.rs:rewrite_compiler",
    "app/resolve.rs:resolve",
    "app/vfs.rs:pack",
    "toolchain/fortran/driver.rs:compile",
    "toolchain/install.rs:write_tool_files",
    "app/project.rs:load",
    "toolchain/fortran/driver.rs:parse",
    "skeleton/inspect.rs:guess_backend",
    "cli/mod.rs:wrap",
    "toolchain/wrap.rs:ir_compile",
    "toolchain/cxx.rs:install",
    "toolchain/debian_source.rs:fetch",
    "publish/directory.rs:publish_to_dir",
    "app/python.rs:prepare",
    "source/patch.rs:apply_patch",
];

/// `path:name` → lines of every function longer than [`FUNCTION_LINES`] in the sources under
/// `src` (free functions and methods, by their indentation; test modules left out).
fn long_functions(src: &Path) -> BTreeMap<String, usize> {
    let mut long = BTreeMap::new();
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.extension().is_none_or(|extension| extension != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let lines: Vec<&str> = code.lines().collect();
        let mut at = 0;
        while at < lines.len() {
            let line = lines[at];
            let indent = line.len() - line.trim_start().len();
            let Some(name) = function_name(line.trim_start()) else {
                at += 1;
                continue;
            };
            let close = format!("{}}}", " ".repeat(indent));
            let Some(end) = (at..lines.len()).find(|&i| lines[i].trim_end() == close) else {
                at += 1;
                continue;
            };
            if end - at + 1 > FUNCTION_LINES {
                let relative = path.strip_prefix(src).unwrap().display();
                long.insert(format!("{relative}:{name}"), end - at + 1);
            }
            at = end + 1;
        }
    }
    long
}

/// The name of the function a line starts, if it does (`pub(crate) async fn name(`...).
fn function_name(line: &str) -> Option<&str> {
    let mut rest = line;
    for prefix in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("fn ")?;
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    (end > 0).then(|| &rest[..end])
}

/// A cycle through `start`, as the modules on it, if there is one.
fn cycle_through(
    graph: &BTreeMap<String, BTreeMap<String, String>>,
    start: &str,
) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeMap<String, String>>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(at).map(|uses| uses.keys()).into_iter().flatten() {
            if next == start {
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, start, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    walk(graph, start, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
    }

    #[test]
    fn the_top_level_modules_form_no_cycle() {
        let graph = dependencies(&src());
        assert!(graph.len() > 20, "found only {graph:?}");
        let cycles: Vec<String> = graph
            .keys()
            .filter_map(|module| cycle_through(&graph, module))
            .map(|cycle| {
                let steps: Vec<String> = cycle
                    .iter()
                    .zip(cycle.iter().cycle().skip(1))
                    .map(|(from, to)| format!("{from} -> {to} ({})", graph[from][to]))
                    .collect();
                steps.join(", ")
            })
            .collect();
        assert!(
            cycles.is_empty(),
            "module cycles (docs/architecture.md, Layering: move the shared part into a module below both):\n{}",
            cycles.join("\n")
        );
    }

    #[test]
    fn every_top_level_module_has_a_row_in_the_architecture() {
        let architecture = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md"),
        )
        .unwrap();
        let missing: Vec<String> = dependencies(&src())
            .into_keys()
            .filter(|module| !architecture.contains(&format!("| `{module}` |")))
            .collect();
        assert!(
            missing.is_empty(),
            "docs/architecture.md's module table has no row for {missing:?}"
        );
    }

    #[test]
    fn no_function_grows_past_the_limit_and_the_list_of_long_ones_only_shrinks() {
        let long = long_functions(&src());
        let new: Vec<String> = long
            .iter()
            .filter(|(name, _)| !LONG_FUNCTIONS.contains(&name.as_str()))
            .map(|(name, lines)| format!("{name} ({lines} lines)"))
            .collect();
        assert!(
            new.is_empty(),
            "functions longer than {FUNCTION_LINES} lines: {new:?}; split them into named steps (docs/architecture.md, Layering)"
        );
        let shorter: Vec<&&str> = LONG_FUNCTIONS
            .iter()
            .filter(|name| !long.contains_key(**name))
            .collect();
        assert!(
            shorter.is_empty(),
            "{shorter:?} are no longer than {FUNCTION_LINES} lines (or are gone): remove them from LONG_FUNCTIONS"
        );
        assert_eq!(
            function_name("pub(crate) async fn run_build("),
            Some("run_build")
        );
        assert_eq!(function_name("let fn_name = 1;"), None);
    }

    #[test]
    fn a_cycle_is_found_and_named() {
        let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let edge = |graph: &mut BTreeMap<String, BTreeMap<String, String>>, a: &str, b: &str| {
            graph
                .entry(a.into())
                .or_default()
                .insert(b.into(), format!("src/{a}.rs"));
        };
        edge(&mut graph, "a", "b");
        edge(&mut graph, "b", "c");
        edge(&mut graph, "c", "a");
        edge(&mut graph, "c", "d");
        assert_eq!(
            cycle_through(&graph, "a"),
            Some(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(cycle_through(&graph, "d"), None);
    }
}

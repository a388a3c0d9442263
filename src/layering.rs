//! The layering rule of docs/architecture.md, checked on the crate's own sources: the
//! top-level modules form no cycle (a module's code, outside comments and `#[cfg(test)]`
//! modules, names `crate::OTHER` only for modules below it), and each of them has a row in the
//! architecture's module table.

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

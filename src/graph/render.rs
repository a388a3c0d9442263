//! Showing the dependency graph to people: an indented tree and Graphviz dot.
//!
//! This module owns the two renderings of `wheelforge graph`. It reads the recipes' host, run
//! and test requirements over the selection [`super::select`] made (which already checked that
//! every requirement has a recipe); it does not order builds.

use std::collections::{BTreeMap, BTreeSet};

use super::{BuildGraph, DependencyKind};
use crate::recipe::RecipeSet;
use crate::tags::normalize_name;

/// One edge: `from` needs `to` as a `kind` requirement.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub kind: DependencyKind,
}

/// The selected recipes and their edges, with the recipes asked for as roots.
#[derive(Debug, Clone)]
pub struct GraphView {
    /// Normalized name → (display name, version).
    pub nodes: BTreeMap<String, (String, String)>,
    /// Outgoing edges of each node, host first, then run, then test, by name.
    pub edges: BTreeMap<String, Vec<Edge>>,
    /// Where the tree starts: the recipes asked for, or (for the whole graph) every recipe
    /// nothing else needs.
    pub roots: Vec<String>,
}

impl DependencyKind {
    /// The short word shown on edges.
    pub fn label(self) -> &'static str {
        match self {
            DependencyKind::Host => "host",
            DependencyKind::Run => "run",
            DependencyKind::Test => "test",
        }
    }
}

impl GraphView {
    /// The view of `graph` (from `select`), rooted at `requested` (normalized names; empty for
    /// the whole graph).
    pub fn new(set: &RecipeSet, graph: &BuildGraph, requested: &[String]) -> GraphView {
        let mut nodes = BTreeMap::new();
        let mut edges: BTreeMap<String, Vec<Edge>> = BTreeMap::new();
        for name in graph.order() {
            let loaded = &set.recipes[name];
            let recipe = &loaded.recipe;
            // A recipe with a variant applied (`graph NAME --variant V`) says so.
            let version = match &loaded.variant {
                Some(variant) => format!("{} (variant {variant})", recipe.package.version),
                None => recipe.package.version.to_string(),
            };
            nodes.insert(name.clone(), (recipe.package.name.to_string(), version));
            let lists = [
                (DependencyKind::Host, &recipe.requirements.host),
                (DependencyKind::Run, &recipe.requirements.run),
                (DependencyKind::Test, &recipe.test.requires),
            ];
            let mut out: Vec<Edge> = lists
                .into_iter()
                .flat_map(|(kind, list)| {
                    list.iter().map(move |to| Edge {
                        from: name.clone(),
                        to: normalize_name(to.as_str()),
                        kind,
                    })
                })
                .collect();
            out.sort_by(|a, b| (a.kind, &a.to).cmp(&(b.kind, &b.to)));
            out.dedup();
            edges.insert(name.clone(), out);
        }
        let roots = if requested.is_empty() {
            let needed: BTreeSet<&String> = edges.values().flatten().map(|e| &e.to).collect();
            let mut roots: Vec<String> = nodes
                .keys()
                .filter(|name| !needed.contains(name))
                .cloned()
                .collect();
            // Recipes only reachable through a cycle of run requirements would be left out.
            let mut reached = BTreeSet::new();
            for root in &roots {
                reach(root, &edges, &mut reached);
            }
            for name in nodes.keys() {
                if !reached.contains(name) {
                    roots.push(name.clone());
                    reach(name, &edges, &mut reached);
                }
            }
            roots
        } else {
            let mut seen = BTreeSet::new();
            requested
                .iter()
                .filter(|name| seen.insert(name.to_string()))
                .cloned()
                .collect()
        };
        GraphView {
            nodes,
            edges,
            roots,
        }
    }

    fn label(&self, name: &str) -> String {
        let (display, version) = &self.nodes[name];
        format!("{display} {version}")
    }

    /// An indented tree, one root after another. A recipe whose requirements were already shown
    /// is marked `(*)` and not expanded again; an edge back into the current path is marked
    /// `(cycle)`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let mut expanded = BTreeSet::new();
        for root in &self.roots {
            out.push_str(&self.label(root));
            out.push('\n');
            expanded.insert(root.clone());
            let mut path = vec![root.clone()];
            self.text_children(root, "", &mut path, &mut expanded, &mut out);
        }
        out
    }

    fn text_children(
        &self,
        name: &str,
        prefix: &str,
        path: &mut Vec<String>,
        expanded: &mut BTreeSet<String>,
        out: &mut String,
    ) {
        let edges = &self.edges[name];
        for (index, edge) in edges.iter().enumerate() {
            let last = index + 1 == edges.len();
            let (branch, indent) = if last {
                ("└── ", "    ")
            } else {
                ("├── ", "│   ")
            };
            let has_children = !self.edges[&edge.to].is_empty();
            let mark = if path.contains(&edge.to) {
                " (cycle)"
            } else if has_children && expanded.contains(&edge.to) {
                " (*)"
            } else {
                ""
            };
            out.push_str(&format!(
                "{prefix}{branch}{} [{}]{mark}\n",
                self.label(&edge.to),
                edge.kind.label()
            ));
            if mark.is_empty() {
                expanded.insert(edge.to.clone());
                path.push(edge.to.clone());
                let deeper = format!("{prefix}{indent}");
                self.text_children(&edge.to, &deeper, path, expanded, out);
                path.pop();
            }
        }
    }

    /// Graphviz dot: host edges bold, run edges solid, test edges dashed; requested recipes
    /// drawn with a double border.
    pub fn to_dot(&self) -> String {
        let escape = |text: &str| text.replace('\\', "\\\\").replace('"', "\\\"");
        let quote = |text: &str| format!("\"{}\"", escape(text));
        let roots: BTreeSet<&String> = self.roots.iter().collect();
        let mut out = String::from(
            "digraph wheelforge {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
        );
        for (name, (display, version)) in &self.nodes {
            let peripheries = if roots.contains(name) {
                ", peripheries=2"
            } else {
                ""
            };
            out.push_str(&format!(
                "  {} [label=\"{}\\n{}\"{peripheries}];\n",
                quote(name),
                escape(display),
                escape(version)
            ));
        }
        for edge in self.edges.values().flatten() {
            let style = match edge.kind {
                DependencyKind::Host => "style=bold",
                DependencyKind::Run => "style=solid",
                DependencyKind::Test => "style=dashed",
            };
            out.push_str(&format!(
                "  {} -> {} [label={}, {style}];\n",
                quote(&edge.from),
                quote(&edge.to),
                quote(edge.kind.label())
            ));
        }
        out.push_str("}\n");
        out
    }
}

fn reach(name: &str, edges: &BTreeMap<String, Vec<Edge>>, reached: &mut BTreeSet<String>) {
    if !reached.insert(name.to_string()) {
        return;
    }
    for edge in &edges[name] {
        reach(&edge.to, edges, reached);
    }
}

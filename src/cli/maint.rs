//! The maintainers' commands: `lint`, `skeleton` and `graph` (printing only; the work is in
//! `wheelforge::lint`, `wheelforge::skeleton` and `wheelforge::graph::render`).

use std::path::PathBuf;
use std::process::ExitCode;

use wheelforge::graph::{self, Target, render::GraphView};
use wheelforge::lint::{LintSettings, PatchCheck, Severity};
use wheelforge::recipe::RecipeSet;
use wheelforge::skeleton::SkeletonSettings;
use wheelforge::tags::normalize_name;

use super::progress::BarReporter;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum GraphFormat {
    /// An indented tree.
    Text,
    /// Graphviz dot (`| dot -Tsvg > graph.svg`).
    Dot,
}

/// `wheelforge lint`: findings first, then one line per recipe and the counts.
pub fn lint(settings: &LintSettings, names: &[String], verbose: u8) -> anyhow::Result<ExitCode> {
    let reporter = BarReporter::new(verbose == 0);
    let report = wheelforge::lint::lint(settings, names, &reporter)?;
    reporter.clear();
    for recipe in &report.recipes {
        for finding in &recipe.findings {
            println!("{finding}\n");
        }
    }
    let width = report
        .recipes
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(0);
    let mut not_checked = Vec::new();
    for recipe in &report.recipes {
        let errors = recipe.errors();
        let warnings = recipe.count(Severity::Warning);
        let status = match (errors, warnings) {
            (0, 0) => "ok",
            (0, _) => "warn",
            _ => "FAIL",
        };
        let mut notes = Vec::new();
        if errors > 0 {
            notes.push(plural(errors, "error"));
        }
        if warnings > 0 {
            notes.push(plural(warnings, "warning"));
        }
        match recipe.patches {
            PatchCheck::Applied { patches: 1 } => notes.push("1 patch applies".to_string()),
            PatchCheck::Applied { patches } => notes.push(format!("{patches} patches apply")),
            PatchCheck::SkippedOffline => {
                notes.push("patches not checked: offline".to_string());
                not_checked.push(recipe.name.as_str());
            }
            PatchCheck::NothingToApply | PatchCheck::Failed | PatchCheck::NotReached => {}
        }
        if notes.is_empty() {
            println!("{status:4}  {}", recipe.name);
        } else {
            println!("{status:4}  {:width$}  ({})", recipe.name, notes.join(", "));
        }
    }
    let with_errors = report.recipes.iter().filter(|r| r.errors() > 0).count();
    println!(
        "\n{} linted: {} ok, {} with errors; {}, {}",
        plural(report.recipes.len(), "recipe"),
        report.recipes.len() - with_errors,
        with_errors,
        plural(report.count(Severity::Error), "error"),
        plural(report.count(Severity::Warning), "warning")
    );
    if report.offline {
        if not_checked.is_empty() {
            println!(
                "--offline: nothing was downloaded; the sources of patched recipes were in the cache or local"
            );
        } else {
            println!(
                "--offline: the patches of {} were not applied (their sdists are not in the cache); run without --offline to check them",
                not_checked.join(", ")
            );
        }
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn plural(count: usize, word: &str) -> String {
    match count {
        1 => format!("1 {word}"),
        _ => format!("{count} {word}s"),
    }
}

/// `wheelforge skeleton`: writes the recipe and says what to check.
pub fn skeleton(
    settings: &SkeletonSettings,
    project: &str,
    recursive: bool,
    verbose: u8,
) -> anyhow::Result<ExitCode> {
    let mut queue = std::collections::VecDeque::from([project.to_string()]);
    let mut seen = std::collections::BTreeSet::from([normalize_name(project)]);
    let mut first = true;
    while let Some(next) = queue.pop_front() {
        // `--version` is the named project's; its requirements get their newest sdists.
        let settings = SkeletonSettings {
            version: if first {
                settings.version.clone()
            } else {
                None
            },
            ..settings.clone()
        };
        first = false;
        let missing = skeleton_one(&settings, &next, recursive, verbose)?;
        if recursive {
            for requirement in missing {
                if seen.insert(normalize_name(&requirement)) {
                    queue.push_back(requirement);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One recipe written and described; returns its run requirements that have no recipe.
fn skeleton_one(
    settings: &SkeletonSettings,
    project: &str,
    recursive: bool,
    verbose: u8,
) -> anyhow::Result<Vec<String>> {
    let reporter = BarReporter::new(verbose == 0);
    let skeleton = wheelforge::skeleton::skeleton(settings, project, &reporter);
    reporter.clear();
    let skeleton = skeleton?;
    let found = &skeleton.inspection;
    println!(
        "wrote {} for {} {} from {} (sha256 pinned)",
        skeleton.path.display(),
        found.name,
        found.version,
        skeleton.archive
    );
    println!(
        "backend: {} (build-backend {})",
        found.backend.name(),
        found.build_backend.as_deref().unwrap_or("none: setup.py")
    );
    println!("test.imports: {}", found.imports.join(", "));
    for note in &found.notes {
        println!("note: {note}");
    }
    if !skeleton.missing.is_empty() {
        if recursive {
            println!(
                "run requirements without a recipe yet, written next: {}",
                skeleton.missing.join(", ")
            );
        } else {
            println!(
                "run requirements without a recipe yet: {} (`wheelforge skeleton NAME` for each, or `--recursive`)",
                skeleton.missing.join(", ")
            );
        }
    }
    println!(
        "next: wheelforge lint {name} && wheelforge build {name}",
        name = skeleton.name
    );
    Ok(skeleton.missing)
}

/// `wheelforge graph`: the selection's graph as a tree or as dot.
pub fn graph(
    recipes_dir: PathBuf,
    patches_dir: PathBuf,
    targets: &[String],
    format: GraphFormat,
    variant: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let mut set = RecipeSet::load(&recipes_dir, &patches_dir)?;
    let selection = super::parse_targets(false, targets);
    if let Some(variant) = variant {
        let [Target::Name(name)] = selection.as_slice() else {
            return Err(wheelforge::pipeline::PipelineError::VariantTargets {
                variant: variant.to_string(),
            }
            .into());
        };
        set.apply_variant(name, variant)?;
    }
    let selected = graph::select(&set, &selection)?;
    // Roots: the named recipes, or every recipe with a requested tag.
    let mut requested = Vec::new();
    for target in &selection {
        match target {
            Target::All => {}
            Target::Name(name) => requested.push(normalize_name(name)),
            Target::Tag(tag) => requested.extend(
                set.recipes
                    .iter()
                    .filter(|(_, r)| r.recipe.package.tags.iter().any(|t| t.as_str() == tag))
                    .map(|(name, _)| name.clone()),
            ),
        }
    }
    let view = GraphView::new(&set, &selected, &requested);
    print!(
        "{}",
        match format {
            GraphFormat::Text => view.to_text(),
            GraphFormat::Dot => view.to_dot(),
        }
    );
    Ok(ExitCode::SUCCESS)
}

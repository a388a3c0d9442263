//! `wheelforge ci matrix` and `wheelforge index [merge]`: printing what `wheelforge::ci` and
//! `wheelforge::index` compute.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use wheelforge::recipe::RecipeSet;

#[derive(Debug, Subcommand)]
pub(super) enum CiAction {
    /// Print the GitHub Actions build matrix as JSON (for `fromJSON`): recipes by dependency
    /// level, each level split into shards.
    Matrix {
        /// Only recipes whose directory or patches changed since this git revision, and the
        /// recipes that need them.
        #[arg(long, value_name = "REF")]
        changed_since: Option<String>,
        /// The most shards (jobs) per dependency level.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
        shards: u16,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum IndexAction {
    /// Merge index directories (e.g. CI shards' --out) into the index at --out.
    Merge {
        /// Index directories, each with packages/ (as `wheelforge build --out DIR` writes).
        #[arg(required = true, value_name = "DIR")]
        inputs: Vec<PathBuf>,
    },
}

pub(super) fn ci_command(
    action: CiAction,
    recipes_dir: &Path,
    patches_dir: &Path,
) -> anyhow::Result<ExitCode> {
    match action {
        CiAction::Matrix {
            changed_since,
            shards,
        } => {
            let set = RecipeSet::load(recipes_dir, patches_dir)?;
            let selection = match &changed_since {
                Some(reference) => {
                    let changes = wheelforge::ci::changed_since(&set, reference)?;
                    let list = |names: &std::collections::BTreeSet<String>| {
                        if names.is_empty() {
                            "none".to_string()
                        } else {
                            names.iter().cloned().collect::<Vec<_>>().join(", ")
                        }
                    };
                    eprintln!(
                        "since {}: changed {} (new: {}); their dependents {}; deleted {}",
                        changes.reference,
                        list(&changes.changed),
                        list(&changes.added),
                        list(&changes.dependents),
                        list(&changes.deleted)
                    );
                    Some(changes.selection())
                }
                None => None,
            };
            let matrix = wheelforge::ci::matrix(&set, selection.as_ref(), usize::from(shards))?;
            println!("{}", matrix.to_json());
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub(super) fn index_command(action: Option<IndexAction>, out: &Path) -> anyhow::Result<ExitCode> {
    match action {
        None => {
            let index = wheelforge::index::Index::open(out)?;
            let summary = index.rebuild()?;
            println!(
                "index {}: {} projects, {} files; {} files written, {} removed",
                out.display(),
                summary.projects,
                summary.files,
                summary.written,
                summary.removed
            );
        }
        Some(IndexAction::Merge { inputs }) => {
            let summary = wheelforge::index::merge(out, &inputs)?;
            println!(
                "index {}: merged {} wheels from {} directories ({} copied); {} projects, {} files",
                out.display(),
                summary.wheels,
                inputs.len(),
                summary.copied,
                summary.index.projects,
                summary.index.files
            );
            for (name, variant) in &summary.variants {
                println!(
                    "variant {name}: merged {} wheels ({} copied)",
                    variant.wheels, variant.copied
                );
            }
            if summary.libraries.0 > 0 {
                println!(
                    "libraries: {} archives ({} copied)",
                    summary.libraries.0, summary.libraries.1
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

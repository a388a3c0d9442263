//! `wheelforge publish`: arguments, the token from the environment, and the report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use wheelforge::publish::{self, DEFAULT_API_URL, ReleaseTarget, Token};
use wheelforge::reporter::Reporter;

/// Where to publish: exactly one destination.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("destination").required(true))]
pub struct PublishArgs {
    /// Copy the index into DIR as a static site (GitHub Pages, any static host): replaces a
    /// site an earlier publish wrote there, atomically.
    #[arg(long, value_name = "DIR", group = "destination")]
    to_dir: Option<PathBuf>,
    /// Upload the wheels and a find-links page to a GitHub release of OWNER/REPO (token from
    /// GITHUB_TOKEN).
    #[arg(
        long,
        value_name = "OWNER/REPO",
        group = "destination",
        requires = "tag"
    )]
    github_release: Option<String>,
    /// The release's tag; the release is created if there is none.
    #[arg(long, requires = "github_release")]
    tag: Option<String>,
    /// The GitHub REST API root.
    #[arg(long, env = "GITHUB_API_URL", default_value = DEFAULT_API_URL, value_name = "URL")]
    api_url: String,
    /// Replace release assets that have a wheel's name but other content (default: refuse).
    #[arg(long, requires = "github_release")]
    replace: bool,
}

/// Prints each step on stderr: publishing is a few slow network steps, not a progress bar.
struct StepReporter;

impl Reporter for StepReporter {
    fn message(&self, _subject: &str, message: &str) {
        eprintln!("{message}");
    }
}

pub fn run(arguments: PublishArgs, out: &Path) -> anyhow::Result<ExitCode> {
    let index = wheelforge::index::Index::open(out)?;
    if let Some(dir) = arguments.to_dir {
        let summary = publish::publish_to_dir(&index, &dir, &StepReporter)?;
        println!(
            "{} {}: {} projects, {} wheels, {} files",
            if summary.changed {
                "published"
            } else {
                "unchanged"
            },
            summary.dir.display(),
            summary.projects,
            summary.wheels,
            summary.files
        );
        return Ok(ExitCode::SUCCESS);
    }
    let repository = arguments
        .github_release
        .as_deref()
        .expect("clap requires a destination");
    let target = ReleaseTarget {
        repository: repository.parse()?,
        tag: arguments.tag.expect("clap requires --tag"),
        api_url: arguments.api_url,
        token: Token::from_env()?,
        replace: arguments.replace,
    };
    let summary = publish::publish_release(&index, &target, &StepReporter)?;
    println!(
        "release {} of {}{}: {} uploaded, {} repaired, {} replaced, {} unchanged; index {}",
        target.tag,
        target.repository,
        if summary.created { " (created)" } else { "" },
        summary.uploaded.len(),
        summary.repaired.len(),
        summary.replaced.len(),
        summary.unchanged.len(),
        if summary.index_updated {
            "updated"
        } else {
            "unchanged"
        }
    );
    println!("release:    {}", summary.release_url);
    println!("find-links: {}", summary.index_url);
    if let Some(expanded) = &summary.expanded_assets_url {
        println!("find-links: {expanded}");
    }
    Ok(ExitCode::SUCCESS)
}

//! `wheelforge app build`, `wheelforge lock` and `wheelforge python`: the consumer's commands.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};

use wheelforge::app::resolve::IndexSource;
use wheelforge::app::{AppSettings, python};

use super::{preopen, progress};

/// Where the wheels come from.
#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Resolve against this PEP 503/691 index instead of the local index directory (`--out`).
    #[arg(long, value_name = "URL")]
    index_url: Option<String>,
}

impl IndexArgs {
    fn source(&self, out: &Path) -> IndexSource {
        match &self.index_url {
            Some(url) => IndexSource::Url(url.clone()),
            None => IndexSource::Local(out.to_path_buf()),
        }
    }
}

/// What is resolved.
#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// The project directory (with pyproject.toml).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Also the requirements of this PEP 735 dependency group (repeatable).
    #[arg(long = "group", value_name = "GROUP")]
    groups: Vec<String>,
    /// Also the requirements of this extra, `[project.optional-dependencies]` (repeatable).
    #[arg(long = "extra", value_name = "EXTRA")]
    extras: Vec<String>,
    /// Fail if pylock.toml is missing or out of date instead of updating it.
    #[arg(long)]
    locked: bool,
    #[command(flatten)]
    index: IndexArgs,
}

impl ProjectArgs {
    fn settings(&self, out: &Path, cache_dir: &Path) -> AppSettings {
        AppSettings {
            cache_dir: cache_dir.to_path_buf(),
            index: self.index.source(out),
            extras: self.extras.clone(),
            groups: self.groups.clone(),
            locked: self.locked,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AppAction {
    /// Link a project and its dependencies (from pylock.toml, written when missing or out of
    /// date) into one component that needs no host directory.
    Build {
        #[command(flatten)]
        project: ProjectArgs,
        /// The component to write.
        #[arg(short, long, default_value = "app.wasm")]
        output: PathBuf,
        /// Stub every WASI import: the component imports nothing (needs a custom world,
        /// `[tool.wheelforge.app] wit` and `world`).
        #[arg(long)]
        stub_wasi: bool,
    },
}

/// `wheelforge python`'s arguments, after the options, as in `python`.
#[derive(Debug, Args)]
pub struct PythonArgs {
    /// A requirement to install for this run (repeatable), like `uv run --with`.
    #[arg(long = "with", value_name = "REQ")]
    with: Vec<String>,
    /// Program passed in as a string.
    #[arg(short = 'c', value_name = "CODE", conflicts_with = "module")]
    code: Option<String>,
    /// Run a library module as a script.
    #[arg(short = 'm', value_name = "MOD")]
    module: Option<String>,
    /// Preopen a host directory, as `HOST::GUEST` (or `DIR`, at the same path); nothing else
    /// of the host is visible.
    #[arg(long = "dir", value_name = "HOST::GUEST")]
    dirs: Vec<String>,
    /// Resolve the requirements again, even when a cached resolution exists.
    #[arg(long)]
    refresh: bool,
    #[command(flatten)]
    index: IndexArgs,
    /// The script and its arguments (or the arguments of -c / -m).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "SCRIPT | ARGS"
    )]
    rest: Vec<String>,
}

pub fn app_command(
    action: AppAction,
    out: &Path,
    cache_dir: &Path,
    verbose: u8,
) -> anyhow::Result<ExitCode> {
    match action {
        AppAction::Build {
            project,
            output,
            stub_wasi,
        } => {
            let settings = project.settings(out, cache_dir);
            let reporter = progress::BarReporter::new(verbose == 0);
            let built =
                wheelforge::app::build(&project.dir, &output, stub_wasi, &settings, &reporter);
            reporter.clear();
            let built = built?;
            println!(
                "wrote {} ({:.1} MiB): {} packages from {}; {} files packed ({:.1} MiB, {:.1} MiB in the component)",
                built.component.display(),
                built.size as f64 / (1 << 20) as f64,
                built.packages,
                built.lock.display(),
                built.packed.files,
                built.packed.bytes as f64 / (1 << 20) as f64,
                built.packed.stored as f64 / (1 << 20) as f64,
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn lock_command(
    project: &ProjectArgs,
    out: &Path,
    cache_dir: &Path,
    verbose: u8,
) -> anyhow::Result<ExitCode> {
    let settings = project.settings(out, cache_dir);
    let reporter = progress::BarReporter::new(verbose == 0);
    let path = wheelforge::app::lock(&project.dir, &settings, &reporter);
    reporter.clear();
    let path = path?;
    if project.locked {
        println!("{} is up to date", path.display());
    } else {
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn python_command(
    args: PythonArgs,
    out: &Path,
    cache_dir: &Path,
    verbose: u8,
) -> anyhow::Result<ExitCode> {
    let settings = python::PythonSettings {
        cache_dir: cache_dir.to_path_buf(),
        index: args.index.source(out),
        with: args.with.clone(),
        refresh: args.refresh,
    };
    let reporter = progress::BarReporter::new(verbose == 0);
    let prepared = python::prepare(&settings, &reporter);
    reporter.clear();
    let prepared = prepared?;
    let mut preopens: Vec<(PathBuf, String)> = args.dirs.iter().map(|dir| preopen(dir)).collect();
    let mut guest_args =
        python::guest_arguments(args.code.as_deref(), args.module.as_deref(), &args.rest);
    // A script is read from its own directory, preopened at the same (absolute) path.
    if args.code.is_none()
        && args.module.is_none()
        && let Some(script) = args.rest.first().filter(|s| s.as_str() != "-")
    {
        let script = std::path::absolute(script)?;
        let dir = script
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        preopens.push((dir.clone(), dir.display().to_string()));
        guest_args[1] = script.display().to_string();
    }
    let output = wheelforge::runtime::run_command(
        &prepared.component,
        &wheelforge::runtime::RunOptions {
            args: guest_args,
            preopens,
            cache_dir: Some(cache_dir.join("runtime")),
            output: wheelforge::runtime::OutputMode::Inherit,
            inherit_stdin: true,
            ..Default::default()
        },
    )?;
    if let Some(trap) = &output.trap {
        eprintln!("error: the guest trapped: {trap}");
    }
    Ok(ExitCode::from(u8::try_from(output.exit_code).unwrap_or(1)))
}

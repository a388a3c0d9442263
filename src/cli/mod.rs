//! The command line: argument parsing, progress bars, summaries and error rendering.
//!
//! This is the only place that prints. Library code reports through `Reporter`
//! (implemented in `progress`), and errors are rendered once, here, at the edge.

mod app;
mod ci;
mod maint;
mod progress;
mod publish;

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use wheelforge::graph::Target;
use wheelforge::pipeline::{RunSummary, Settings, run_build};
use wheelforge::recipe::RecipeSet;

/// A wheel farm for Python on WASI: builds recipes into a static wheel index.
#[derive(Debug, Parser)]
#[command(name = "wheelforge", version, propagate_version = true)]
struct Cli {
    /// Show logs (-v: info, -vv: debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// The recipes directory.
    #[arg(
        long,
        global = true,
        default_value = "recipes",
        env = "WHEELFORGE_RECIPES"
    )]
    recipes: PathBuf,
    /// The patches directory [default: the recipes directory's sibling `patches`].
    #[arg(long, global = true)]
    patches: Option<PathBuf>,
    /// The static index directory that builds publish into.
    #[arg(long, global = true, default_value = "dist", env = "WHEELFORGE_OUT")]
    out: PathBuf,
    /// Per-recipe work directories and logs.
    #[arg(
        long,
        global = true,
        default_value = "build",
        env = "WHEELFORGE_BUILD_DIR"
    )]
    build_dir: PathBuf,
    /// Downloads and build tools [default: ~/.cache/wheelforge].
    #[arg(long, global = true, env = "WHEELFORGE_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build recipes (and what they need) into the index.
    Build(BuildArgs),
    /// Prove built wheels under the embedded WASI runtime (install, link, run the recipe's test).
    Test(TestArgs),
    /// Regenerate the index pages from the wheels in the index directory, or merge indexes.
    Index {
        #[command(subcommand)]
        action: Option<ci::IndexAction>,
    },
    /// CI helpers: the GitHub Actions build matrix.
    Ci {
        #[command(subcommand)]
        action: ci::CiAction,
    },
    /// Serve the index over HTTP (PEP 503 HTML and PEP 691 JSON).
    Serve {
        /// The address to listen on; only loopback is allowed.
        #[arg(long, default_value = "127.0.0.1")]
        host: IpAddr,
        /// The port (0 picks a free one).
        #[arg(long, default_value_t = 8000)]
        port: u16,
    },
    /// Consumers' apps: link a pyproject.toml project and its WASI wheels into a component.
    App {
        #[command(subcommand)]
        action: app::AppAction,
    },
    /// Resolve a project's dependencies into a PEP 751 pylock.toml for the WASI runtime.
    Lock {
        #[command(flatten)]
        project: app::ProjectArgs,
    },
    /// Run CPython 3.14 under the embedded wasmtime, with packages (`--with`), as `python`.
    Python(app::PythonArgs),
    /// Run a `wasi:cli/command` component (such as a linked app) under the embedded wasmtime.
    Run {
        /// The component (`.wasm`).
        component: PathBuf,
        /// Preopen a host directory, as `HOST::GUEST` (or `DIR`, at the same path).
        #[arg(long = "dir", value_name = "HOST::GUEST")]
        dirs: Vec<String>,
        /// Set a guest environment variable, as `KEY=VALUE`.
        #[arg(long = "env", value_name = "KEY=VALUE")]
        env: Vec<String>,
        /// Arguments after the program name.
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Publish the index: as a static site in a directory, or to a GitHub release.
    Publish(publish::PublishArgs),
    /// Print the JSON Schema of meta.yaml.
    Schema,
    /// Check recipes: strict parse, pinned sources, patches apply, requirements have recipes,
    /// a test is declared.
    Lint {
        /// Recipe names [default: every recipe].
        #[arg(value_name = "RECIPE")]
        names: Vec<String>,
        /// Download nothing: patches are applied only to sdists already in the cache.
        #[arg(long, alias = "no-fetch")]
        offline: bool,
        /// A PEP 503/691 index for sdists, instead of pip's configured one.
        #[arg(long, env = "WHEELFORGE_INDEX_URL")]
        index_url: Option<String>,
    },
    /// Write a first recipe for a project from its sdist on the package index.
    #[command(disable_version_flag = true)]
    Skeleton {
        /// The project name on the package index.
        project: String,
        /// The version [default: the newest with an sdist].
        #[arg(long)]
        version: Option<String>,
        /// Where the recipe directory is created [default: the recipes directory].
        #[arg(long)]
        output_dir: Option<PathBuf>,
        /// A PEP 503 index for pip, instead of its configured one.
        #[arg(long, env = "WHEELFORGE_INDEX_URL")]
        index_url: Option<String>,
        /// Also write recipes (newest versions) for the run requirements that have none, and
        /// for theirs.
        #[arg(long, short = 'r')]
        recursive: bool,
    },
    /// Print the dependency graph (host, run and test edges) as a tree or as Graphviz dot.
    Graph {
        /// Recipe names, or `tag:NAME` [default: every recipe].
        targets: Vec<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: maint::GraphFormat,
        /// Show this variant of the (single) named recipe, as `build --variant` builds it.
        #[arg(long)]
        variant: Option<String>,
    },
    /// The WASI toolchain: install it, or show what is installed.
    Toolchain {
        #[command(subcommand)]
        action: ToolchainAction,
    },
    /// Run a compiler or binutil for wasm32 WASI (the toolchain's wrappers call this).
    /// Every argument after TOOL, `--version` and `--help` included, belongs to the tool.
    #[command(hide = true, disable_version_flag = true, disable_help_flag = true)]
    Wrap {
        /// cc, c++, ar, nm or ranlib.
        tool: String,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        arguments: Vec<String>,
    },
    /// Compile Fortran for wasm32 WASI (the toolchain's `wheelforge-fortran` calls this).
    /// Every argument belongs to the driver.
    #[command(hide = true, disable_version_flag = true, disable_help_flag = true)]
    Fortran {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        arguments: Vec<String>,
    },
}

/// `wheelforge build`'s arguments.
#[derive(Debug, Args)]
struct BuildArgs {
    /// Recipe names, `tag:NAME` for every recipe with that tag, or a project directory
    /// (written with a `/`, such as `./myproject` or `.`) to build without a recipe.
    #[arg(required_unless_present_any = ["all", "sdist"])]
    targets: Vec<String>,
    /// Build this sdist without a recipe (repeatable), with a recipe's defaults.
    #[arg(long, value_name = "FILE", conflicts_with = "all")]
    sdist: Vec<PathBuf>,
    /// Build every recipe.
    #[arg(long, conflicts_with = "targets")]
    all: bool,
    /// Recipes built at once [default: the number of CPUs].
    #[arg(short, long)]
    jobs: Option<usize>,
    /// Rebuild even when nothing changed.
    #[arg(long)]
    force: bool,
    /// Keep building unrelated recipes after a failure [default: on with --all].
    #[arg(long, overrides_with = "no_keep_going")]
    keep_going: bool,
    /// Stop scheduling new recipes after the first failure.
    #[arg(long)]
    no_keep_going: bool,
    /// A PEP 503/691 index for sdists and build tools, instead of pip's configured one.
    #[arg(long, env = "WHEELFORGE_INDEX_URL")]
    index_url: Option<String>,
    /// Build this variant of the (single) named recipe (its `variants:`), into the index
    /// at `OUT/variants/VARIANT`.
    #[arg(long, conflicts_with = "all")]
    variant: Option<String>,
}

/// `wheelforge test`'s arguments.
#[derive(Debug, Args)]
struct TestArgs {
    /// Recipe names, or a project directory (written with a `/`) built with `build PATH`:
    /// its generated recipe's imports are the test.
    #[arg(required_unless_present = "sdist", value_name = "RECIPE")]
    names: Vec<String>,
    /// Test the wheel `build --sdist FILE` built from this sdist (repeatable).
    #[arg(long, value_name = "FILE")]
    sdist: Vec<PathBuf>,
    /// Skip the native reference run of recipes' pytest suites (no comparison).
    #[arg(long)]
    no_native: bool,
    /// Run only the smoke test (imports and command), not the recipe's pytest suite.
    #[arg(long, conflicts_with = "no_native")]
    no_pytest: bool,
    /// Test this variant's wheel (from `OUT/variants/VARIANT`).
    #[arg(long)]
    variant: Option<String>,
    /// Run the recipe's pytest suite with these arguments instead of its `test.pytest.args`
    /// (split at spaces; the skip list and pass ratio still apply), e.g. `--pyargs numpy.linalg`.
    #[arg(long, allow_hyphen_values = true, conflicts_with = "no_pytest")]
    pytest_args: Option<String>,
}

#[derive(Debug, Subcommand)]
enum ToolchainAction {
    /// Provision the toolchain into the cache (a no-op when it is installed).
    Install {
        /// Reinstall from scratch (with --fortran or --rust: only those parts).
        #[arg(long)]
        force: bool,
        /// Also install the optional Fortran part: flang, the wasm32 Fortran runtime built from
        /// source (about 13 minutes on 2 cores) and the `wheelforge-fortran` driver.
        #[arg(long)]
        fortran: bool,
        /// Also install the optional Rust part: Debian's rustc and cargo, the wasm32 standard
        /// library and its sources (rebuilt position-independent by each Rust build).
        #[arg(long)]
        rust: bool,
    },
    /// Print versions, paths, the target triple and the identity hash.
    Info,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            let mut text = format!("error: {error}");
            for cause in error.chain().skip(1) {
                text.push_str(&format!("\n  caused by: {cause}"));
            }
            eprintln!("{text}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        // octocrab logs every 5xx answer as an error; `publish` reports failures itself.
        0 => "warn,octocrab=off",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("WHEELFORGE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .init();
}

fn default_cache_dir() -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    std::env::var_os("XDG_CACHE_HOME")
        .map_or_else(|| home.join(".cache"), PathBuf::from)
        .join("wheelforge")
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let paths = Dirs::new(&cli);
    match cli.command {
        Command::Build(arguments) => build_command(arguments, paths, cli.verbose),
        Command::Index { action } => ci::index_command(action, &paths.out),
        Command::Ci { action } => ci::ci_command(action, &paths.recipes, &paths.patches),
        Command::Serve { host, port } => serve_command(&paths.out, host, port),
        Command::Test(arguments) => test_command(arguments, paths, cli.verbose),
        Command::Toolchain { action } => toolchain_command(action, &paths.cache_dir),
        Command::Run {
            component,
            dirs,
            env,
            args,
        } => run_component(&component, &dirs, &env, args, &paths.cache_dir),
        Command::App { action } => {
            app::app_command(action, &paths.out, &paths.cache_dir, cli.verbose)
        }
        Command::Lock { project } => {
            app::lock_command(&project, &paths.out, &paths.cache_dir, cli.verbose)
        }
        Command::Python(args) => {
            app::python_command(args, &paths.out, &paths.cache_dir, cli.verbose)
        }
        Command::Wrap { tool, arguments } => wrap(&tool, &arguments),
        Command::Fortran { arguments } => fortran(&arguments),
        Command::Lint {
            names,
            offline,
            index_url,
        } => maint::lint(
            &wheelforge::lint::LintSettings {
                recipes_dir: paths.recipes,
                patches_dir: paths.patches,
                cache_dir: paths.cache_dir,
                offline,
                index_url,
            },
            &names,
            cli.verbose,
        ),
        Command::Skeleton {
            project,
            version,
            output_dir,
            index_url,
            recursive,
        } => maint::skeleton(
            &wheelforge::skeleton::SkeletonSettings {
                output_dir: output_dir.unwrap_or(paths.recipes),
                version,
                index_url,
                cache_dir: paths.cache_dir,
            },
            &project,
            recursive,
            cli.verbose,
        ),
        Command::Graph {
            targets,
            format,
            variant,
        } => maint::graph(
            paths.recipes,
            paths.patches,
            &targets,
            format,
            variant.as_deref(),
        ),
        Command::Publish(arguments) => publish::run(arguments, &paths.out),
        Command::Schema => {
            let schema = wheelforge::recipe::json_schema();
            println!("{}", serde_json::to_string_pretty(&schema)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The directories the commands use. Builds and tests run tools in the toolchain's sandbox,
/// in other working directories: the directories they write to are absolute. Recipes and
/// patches are read here, and keep the form the user gave (messages name `recipes/...`).
struct Dirs {
    recipes: PathBuf,
    patches: PathBuf,
    out: PathBuf,
    build_dir: PathBuf,
    cache_dir: PathBuf,
}

impl Dirs {
    fn new(cli: &Cli) -> Dirs {
        let absolute = |path: &PathBuf| std::path::absolute(path).unwrap_or_else(|_| path.clone());
        Dirs {
            recipes: cli.recipes.clone(),
            patches: cli.patches.clone().unwrap_or_else(|| {
                cli.recipes
                    .parent()
                    .map_or_else(|| PathBuf::from("patches"), |p| p.join("patches"))
            }),
            out: absolute(&cli.out),
            build_dir: absolute(&cli.build_dir),
            cache_dir: cli
                .cache_dir
                .as_ref()
                .map_or_else(default_cache_dir, absolute),
        }
    }
}

fn build_command(arguments: BuildArgs, paths: Dirs, verbose: u8) -> anyhow::Result<ExitCode> {
    let (targets, local_recipes) = local_targets(
        &arguments.targets,
        &arguments.sdist,
        &paths.recipes,
        &paths.patches,
        &paths.build_dir,
        &paths.cache_dir,
        "built",
    )?;
    let targets = parse_targets(arguments.all, &targets);
    let settings = Settings {
        recipes_dir: paths.recipes,
        patches_dir: paths.patches,
        out_dir: paths.out,
        build_dir: paths.build_dir,
        cache_dir: paths.cache_dir,
        jobs: arguments
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        force: arguments.force,
        keep_going: !arguments.no_keep_going && (arguments.keep_going || arguments.all),
        index_url: arguments.index_url,
        variant: arguments.variant,
        local_recipes,
    };
    let reporter = progress::BarReporter::new(verbose == 0);
    let summary = run_build(&settings, &targets, &reporter)?;
    reporter.clear();
    print_summary(&summary);
    println!(
        "report: {}",
        wheelforge::report::html_path(&settings.build_dir).display()
    );
    Ok(if summary.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn serve_command(out: &Path, host: IpAddr, port: u16) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        host.is_loopback(),
        "refusing to serve on {host}: only loopback addresses (127.0.0.1, ::1) are allowed"
    );
    let server = wheelforge::serve::Server::bind(out, SocketAddr::new(host, port))
        .with_context(|| format!("cannot serve {}", out.display()))?
        .on_request(|served| {
            // One line per request, so users (and tests) see exactly what a client asked.
            eprintln!("{} {} -> {}", served.method, served.url, served.status);
        });
    println!(
        "Serving {} at http://{}/simple/",
        out.display(),
        server.local_address()
    );
    std::io::stdout().flush().ok();
    server.run()?;
    Ok(ExitCode::SUCCESS)
}

fn test_command(arguments: TestArgs, paths: Dirs, verbose: u8) -> anyhow::Result<ExitCode> {
    let (names, local_recipes) = local_targets(
        &arguments.names,
        &arguments.sdist,
        &paths.recipes,
        &paths.patches,
        &paths.build_dir,
        &paths.cache_dir,
        "tested",
    )?;
    let settings = wheelforge::testing::TestSettings {
        local_recipes,
        recipes_dir: paths.recipes,
        patches_dir: paths.patches,
        out_dir: paths.out,
        build_dir: paths.build_dir,
        cache_dir: paths.cache_dir,
        pytest: !arguments.no_pytest,
        native: !arguments.no_native,
        variant: arguments.variant,
        pytest_args: arguments
            .pytest_args
            .map(|args| args.split_whitespace().map(str::to_string).collect()),
    };
    let reporter = progress::BarReporter::new(verbose == 0);
    let mut failed = 0;
    for recipe in &names {
        let report = wheelforge::testing::test_recipe(&settings, recipe, &reporter)?;
        reporter.clear();
        print_test_report(&report);
        if !report.passed() {
            failed += 1;
        }
    }
    println!("{} passed, {failed} failed", names.len() - failed);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_test_report(report: &wheelforge::testing::TestReport) {
    print!("{}", report.stdout);
    eprint!("{}", report.stderr);
    if let Some(trap) = &report.trap {
        eprintln!(
            "the guest trapped: {}",
            trap.lines().next().unwrap_or_default()
        );
    }
    if let Some(suite) = &report.suite {
        print!("{}", suite.summary());
        if let Some(dir) = &report.suite_dir {
            println!("report and logs: {}", dir.display());
        }
    }
    println!(
        "{}: {} ({}; link {:.1} s, run {:.1} s)",
        report.recipe,
        if report.passed() { "passed" } else { "FAILED" },
        report.wheel,
        report.link_time.as_secs_f64(),
        report.run_time.as_secs_f64()
    );
}

fn toolchain_command(
    action: ToolchainAction,
    cache_dir: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    use wheelforge::toolchain::{WasiToolchain, install};
    let toolchain = match action {
        ToolchainAction::Install {
            force,
            fortran,
            rust,
        } => {
            let reporter = progress::BarReporter::new(true);
            let started = std::time::Instant::now();
            let toolchain = if fortran || rust {
                install::ensure(cache_dir, &reporter)?
            } else {
                install::install(cache_dir, force, &reporter)?
            };
            if fortran {
                wheelforge::toolchain::fortran::install::install(&toolchain, force, &reporter)?;
            }
            if rust {
                wheelforge::toolchain::rust::install(&toolchain, force, &reporter)?;
            }
            reporter.clear();
            println!(
                "toolchain ready in {:.0} s: {}",
                started.elapsed().as_secs_f64(),
                toolchain.dir.display()
            );
            toolchain
        }
        ToolchainAction::Info => WasiToolchain::load(&install::toolchain_dir(cache_dir))?,
    };
    print_toolchain(&toolchain);
    Ok(ExitCode::SUCCESS)
}

/// `wheelforge toolchain info`: the toolchain, its target and its optional parts.
fn print_toolchain(toolchain: &wheelforge::toolchain::WasiToolchain) {
    println!("identity:      {}", toolchain.identity);
    println!("flavor:        {:?}", toolchain.flavor);
    println!("target triple: {}", toolchain.triple);
    println!("clang:         {}", toolchain.clang.display());
    println!("sysroot:       {}", toolchain.sysroot.display());
    println!("host python:   {}", toolchain.host_python.display());
    let target = &toolchain.target;
    println!(
        "target python: CPython {} (SOABI {}, EXT_SUFFIX {}, sizeof(long) {}, sizeof(void *) {})",
        target.python_version,
        target.soabi,
        target.ext_suffix,
        target.sizeof_long,
        target.sizeof_void_p
    );
    println!("target include: {}", target.include_dir.display());
    println!("componentize-py: {}", toolchain.componentize_py.display());
    println!("versions:");
    for (name, version) in &toolchain.versions {
        println!("  {name} {version}");
    }
    if !toolchain.build_tools.is_empty() {
        println!("build tools (outside the identity):");
        for (name, version) in &toolchain.build_tools {
            println!("  {name} {version}");
        }
    }
    use wheelforge::toolchain::fortran::install::FortranToolchain;
    match FortranToolchain::load(toolchain) {
        Ok(fortran) => {
            println!("fortran:       installed, identity {}", fortran.identity);
            println!(
                "  driver:      {}/bin/wheelforge-fortran",
                toolchain.tools_dir.display()
            );
            println!("  runtime:     {}", fortran.config.runtime.display());
            for (name, version) in &fortran.versions {
                println!("  {name} {version}");
            }
        }
        Err(_) => {
            println!("fortran:       not installed (`wheelforge toolchain install --fortran`)")
        }
    }
    match wheelforge::toolchain::rust::RustToolchain::load(toolchain) {
        Ok(rust) => {
            println!("rust:          installed, identity {}", rust.identity);
            for (name, version) in &rust.versions {
                println!("  {name} {version}");
            }
        }
        Err(_) => println!("rust:          not installed (`wheelforge toolchain install --rust`)"),
    }
}

/// The Fortran driver (`wheelforge-fortran` in the toolchain runs this).
fn fortran(arguments: &[String]) -> anyhow::Result<ExitCode> {
    use wheelforge::toolchain::fortran::{
        CONFIG_PATH, CONFIG_VARIABLE, DriverConfig, FortranError, driver,
    };
    // Usage errors first: they do not depend on the installation.
    let invocation = driver::parse(arguments)?;
    let config_path =
        std::env::var_os(CONFIG_VARIABLE).map_or_else(|| PathBuf::from(CONFIG_PATH), PathBuf::from);
    let config: DriverConfig = fs_err::read(&config_path)
        .map_err(|error| error.to_string())
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|error| error.to_string()))
        .map_err(|detail| FortranError::Config {
            path: config_path.clone(),
            detail,
        })?;
    let status = driver::run(&config, &invocation)?;
    Ok(ExitCode::from(u8::try_from(status).unwrap_or(1)))
}

/// Rewrites a compiler invocation for wasm32 WASI and replaces this process with it.
fn wrap(tool: &str, arguments: &[String]) -> anyhow::Result<ExitCode> {
    use std::os::unix::process::CommandExt;
    use wheelforge::toolchain::wrap::{HostPrefix, Tool, WrapConfig, rewrite};
    let tool: Tool = tool.parse().map_err(anyhow::Error::msg)?;
    let arguments = &match tool {
        Tool::Cc | Tool::Cxx => wheelforge::toolchain::wrap::expand_response_files(arguments),
        _ => arguments.to_vec(),
    };
    let config_path = std::env::var_os("WHEELFORGE_WRAP_CONFIG")
        .map_or_else(|| PathBuf::from("/opt/wheelforge/wrap.json"), PathBuf::from);
    let mut config: WrapConfig = serde_json::from_slice(
        &fs_err::read(&config_path).context("the compiler wrapper has no configuration")?,
    )?;
    if std::env::var_os(wheelforge::toolchain::wrap::WASM_EXCEPTIONS_VARIABLE)
        .is_some_and(|v| !v.is_empty())
    {
        anyhow::ensure!(
            config.wasm_exceptions.is_some(),
            "{} is set, but this toolchain has no C++ runtime with exceptions (the Debian \
             toolchain builds it at install: `wheelforge toolchain install`)",
            wheelforge::toolchain::wrap::WASM_EXCEPTIONS_VARIABLE
        );
        config.use_wasm_exceptions = true;
    }
    let host_prefix = HostPrefix::from_env(std::env::current_dir().unwrap_or_default());
    let fortran_runtime = std::env::var_os(wheelforge::toolchain::fortran::RUNTIME_VARIABLE)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let (program, rewritten) = rewrite(
        tool,
        &config,
        host_prefix.as_ref(),
        fortran_runtime.as_deref(),
        arguments,
    );
    if std::env::var_os("WHEELFORGE_WRAP_LOG").is_some() {
        eprintln!(
            "wheelforge wrap: {} {}",
            program.display(),
            rewritten.join(" ")
        );
    }
    if tool == Tool::Cc
        && let Some(plan) = wheelforge::toolchain::wrap::ir_compile(&rewritten)
    {
        return compile_via_ir(&program, &rewritten, &plan);
    }
    if !wheelforge::toolchain::wrap::links_a_side_module(tool, arguments) {
        let error = std::process::Command::new(&program).args(&rewritten).exec();
        return Err(anyhow::Error::new(error).context(format!("cannot run {}", program.display())));
    }
    // A side-module link: its warnings are read for signature mismatches.
    let output = std::process::Command::new(&program)
        .args(&rewritten)
        .stdin(std::process::Stdio::inherit())
        .stdout(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::piped())
        .output()
        .with_context(|| format!("cannot run {}", program.display()))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprint!("{stderr}");
    if !output.status.success() {
        return Ok(ExitCode::from(
            u8::try_from(output.status.code().unwrap_or(1)).unwrap_or(1),
        ));
    }
    let mismatches = wheelforge::toolchain::wrap::signature_mismatches(&stderr);
    if mismatches.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(output) = rewritten
        .iter()
        .position(|a| a == "-o")
        .and_then(|i| rewritten.get(i + 1))
    {
        // The module would trap at these calls; it must not look built to the build system.
        let _ = fs_err::remove_file(output);
    }
    eprintln!(
        "wheelforge wrap: error: the link has calls whose signature differs from their \
         callee's: {}. wasm-ld links such a call to a trap. Declare the callee's exact \
         signature in the C prototypes (for Fortran routines: void results, and one trailing \
         size_t per CHARACTER argument; docs/fortran.md, \"Calling Fortran from C\"), usually with a \
         patch in the recipe.",
        mismatches.join(", ")
    );
    Ok(ExitCode::from(1))
}

/// A C compile through LLVM IR: the CPython tables' mistyped callees get thunks
/// (`toolchain::callee_types`). A unit without them is compiled again as it was given, so that
/// its object is exactly the direct compile's.
fn compile_via_ir(
    program: &std::path::Path,
    rewritten: &[String],
    plan: &wheelforge::toolchain::wrap::IrCompile,
) -> anyhow::Result<ExitCode> {
    use std::os::unix::process::CommandExt;
    let status = |command: &mut std::process::Command| -> anyhow::Result<ExitCode> {
        let status = command
            .status()
            .with_context(|| format!("cannot run {}", program.display()))?;
        Ok(ExitCode::from(
            u8::try_from(status.code().unwrap_or(1)).unwrap_or(1),
        ))
    };
    let to_ir = status(std::process::Command::new(program).args(&plan.to_ir))?;
    if to_ir != ExitCode::SUCCESS {
        let _ = fs_err::remove_file(&plan.ir);
        return Ok(to_ir);
    }
    let ir = fs_err::read_to_string(&plan.ir)?;
    let Some(fixed) = wheelforge::toolchain::callee_types::fix(&ir) else {
        let _ = fs_err::remove_file(&plan.ir);
        let error = std::process::Command::new(program).args(rewritten).exec();
        return Err(anyhow::Error::new(error).context(format!("cannot run {}", program.display())));
    };
    fs_err::write(&plan.ir, fixed)?;
    let result = status(std::process::Command::new(program).args(&plan.to_object));
    let _ = fs_err::remove_file(&plan.ir);
    result
}

/// The table at the end of a build: one row per recipe, then the counts.
fn print_summary(summary: &RunSummary) {
    if summary.results.is_empty() {
        println!("nothing to build");
        return;
    }
    let width = summary
        .results
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(0)
        .max("recipe".len());
    println!("{:width$}  {:8}  {:>8}  detail", "recipe", "status", "time");
    for result in &summary.results {
        let detail = match &result.outcome {
            wheelforge::pipeline::Outcome::Built { wheels }
            | wheelforge::pipeline::Outcome::Cached { wheels } => wheels.join(", "),
            wheelforge::pipeline::Outcome::Failed { .. } => {
                format!("log: {}", result.log.display())
            }
            wheelforge::pipeline::Outcome::Skipped { because } => because.clone(),
        };
        println!(
            "{:width$}  {:8}  {:>7.1}s  {}",
            result.name,
            result.outcome.label(),
            result.duration.as_secs_f64(),
            detail
        );
    }
    for result in &summary.results {
        if let wheelforge::pipeline::Outcome::Failed { error } = &result.outcome {
            match error.stage() {
                Some(stage) => eprintln!(
                    "\nerror: `{}` failed in the {stage} stage: {error}",
                    result.name
                ),
                None => eprintln!("\nerror: `{}` failed: {error}", result.name),
            }
        }
    }
    println!(
        "\n{} built, {} cached, {} failed, {} skipped",
        summary.count("built"),
        summary.count("cached"),
        summary.count("failed"),
        summary.count("skipped")
    );
}

/// `wheelforge run`: the guest's exit status becomes ours.
/// A `--dir` argument: `HOST::GUEST`, or `DIR` at the same path.
fn preopen(dir: &str) -> (PathBuf, String) {
    match dir.split_once("::") {
        Some((host, guest)) => (PathBuf::from(host), guest.to_string()),
        None => (PathBuf::from(dir), dir.to_string()),
    }
}

fn run_component(
    component: &std::path::Path,
    dirs: &[String],
    env: &[String],
    args: Vec<String>,
    cache_dir: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let preopens = dirs.iter().map(|dir| preopen(dir)).collect();
    let env = env
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .with_context(|| format!("--env {pair}: expected KEY=VALUE"))
        })
        .collect::<anyhow::Result<_>>()?;
    let name = component
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let output = wheelforge::runtime::run_command(
        component,
        &wheelforge::runtime::RunOptions {
            args: std::iter::once(name).chain(args).collect(),
            env,
            preopens,
            cache_dir: Some(cache_dir.join("runtime")),
            output: wheelforge::runtime::OutputMode::Inherit,
            idle_watch: None,
            inherit_stdin: true,
        },
    )?;
    if let Some(trap) = &output.trap {
        eprintln!("error: the guest trapped: {trap}");
    }
    Ok(ExitCode::from(u8::try_from(output.exit_code).unwrap_or(1)))
}

/// `--all`, or recipe names and `tag:NAME`s (parsing a target cannot fail).
/// The build targets with each project directory and sdist replaced by the name of the recipe
/// generated for it, and the generated recipes' files.
fn local_targets(
    targets: &[String],
    sdists: &[PathBuf],
    recipes_dir: &Path,
    patches_dir: &Path,
    build_dir: &Path,
    cache_dir: &Path,
    verb: &str,
) -> anyhow::Result<(Vec<String>, Vec<PathBuf>)> {
    use wheelforge::local::{LocalProject, is_path_target, prepare};
    let projects: Vec<LocalProject> = targets
        .iter()
        .filter(|target| is_path_target(target))
        .map(|target| LocalProject::Tree(PathBuf::from(target)))
        .chain(sdists.iter().cloned().map(LocalProject::Sdist))
        .collect();
    let mut names: Vec<String> = targets
        .iter()
        .filter(|target| !is_path_target(target))
        .cloned()
        .collect();
    if projects.is_empty() {
        return Ok((names, Vec::new()));
    }
    let recipes = RecipeSet::load(recipes_dir, patches_dir)?;
    let mut files = Vec::new();
    for project in &projects {
        let local = prepare(project, &recipes, build_dir, cache_dir)?;
        for note in &local.notes {
            eprintln!("{}: {note}", local.name);
        }
        eprintln!(
            "{}: {verb} with a generated recipe ({})",
            local.name,
            local.path.display()
        );
        names.push(local.name);
        files.push(local.path);
    }
    Ok((names, files))
}

fn parse_targets(all: bool, names: &[String]) -> Vec<Target> {
    if all || names.is_empty() {
        vec![Target::All]
    } else {
        names
            .iter()
            .map(|name| name.parse().expect("infallible"))
            .collect()
    }
}

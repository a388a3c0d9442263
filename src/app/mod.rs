//! From a pyproject.toml to a running component: `wheelforge app build`, `wheelforge lock` and
//! `wheelforge python`.
//!
//! A pipeline of named stages, one module each:
//! 1. `project`: the project's requirements and `[tool.wheelforge.app]`;
//! 2. `resolve::resolve`: the requirements, transitively, to exact WASI or pure wheels: a
//!    PEP 751 lock (`lockfile`), reused while it matches the project;
//! 3. `resolve::install`: exactly the locked wheels, hash-checked, into a `--target` directory;
//! 4. `vfs`: every file of the standard library, the dependencies and the app packed into an
//!    archive the component carries;
//! 5. `component`: componentize-py links it all into one component.
//!
//! `python` builds a component the same way for `--with` requirements, cached by the lock's
//! digest, and runs it under the embedded wasmtime. docs/consumers.md is the user's guide.

pub mod component;
pub mod lockfile;
pub mod project;
pub mod python;
pub mod resolve;
pub mod vfs;

use std::path::{Path, PathBuf};

use crate::reporter::Reporter;
use component::{Entry, LinkPlan};
use lockfile::{Inputs, PyLock};
use resolve::IndexSource;

/// The project's work directory (like uv's `.venv`), left out of the packed sources.
pub const WORK_DIR: &str = ".wheelforge";

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Project(#[from] project::ProjectError),
    #[error(transparent)]
    Lock(#[from] lockfile::LockError),
    #[error(transparent)]
    Resolve(#[from] resolve::ResolveError),
    #[error(transparent)]
    Vfs(#[from] vfs::VfsError),
    #[error(transparent)]
    Component(#[from] component::ComponentError),
    #[error(transparent)]
    Toolchain(#[from] crate::toolchain::ToolchainError),
    #[error("{path} does not exist\n  help: run `wheelforge lock` first, or leave out --locked", path = path.display())]
    NoLock { path: PathBuf },
    #[error("the command app has no entry\n  help: set [tool.wheelforge.app] module = \"pkg.main\" (run as `python -m`) or script = \"main.py\" in {path}", path = path.display())]
    NoEntry { path: PathBuf },
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AppError + '_ {
    move |source| AppError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What `app build` and `lock` are asked.
#[derive(Debug, Clone)]
pub struct AppSettings {
    pub cache_dir: PathBuf,
    pub index: IndexSource,
    pub extras: Vec<String>,
    pub groups: Vec<String>,
    /// Fail when the lock is missing or does not match the project, instead of updating it.
    pub locked: bool,
}

/// A linked app.
#[derive(Debug, Clone)]
pub struct BuiltApp {
    pub component: PathBuf,
    pub lock: PathBuf,
    pub packages: usize,
    pub packed: vfs::Packed,
    pub size: u64,
}

/// The lock for `requirements`: the one at `path` while it matches, else a new resolution
/// (written there), or an error with `locked`.
fn ensure_lock(
    toolchain: &crate::toolchain::WasiToolchain,
    path: &Path,
    requirements: &[String],
    index: &IndexSource,
    locked: bool,
    work: &Path,
) -> Result<PyLock, AppError> {
    let lock_dir = path.parent().expect("a lock path has a directory");
    let inputs = Inputs {
        requirements: requirements.to_vec(),
        index: index.describe(lock_dir),
    };
    if path.is_file() {
        let lock = lockfile::read(path)?;
        match lock.check_inputs(path, &inputs) {
            Ok(()) => return Ok(lock),
            Err(error) if locked => return Err(error.into()),
            Err(_) => {}
        }
    } else if locked {
        return Err(AppError::NoLock {
            path: path.to_path_buf(),
        });
    }
    let lock = resolve::resolve(toolchain, requirements, index, lock_dir, work)?;
    lockfile::write(path, &lock)?;
    Ok(lock)
}

fn absolute(path: &Path) -> Result<PathBuf, AppError> {
    std::path::absolute(path).map_err(io(path))
}

/// `wheelforge lock [DIR]`: resolves the project and writes `DIR/pylock.toml` (always anew,
/// unless `locked`, which only checks it).
pub fn lock(
    dir: &Path,
    settings: &AppSettings,
    reporter: &dyn Reporter,
) -> Result<PathBuf, AppError> {
    let dir = absolute(dir)?;
    let project = project::load(&dir)?;
    let requirements = project.requirements(&settings.extras, &settings.groups)?;
    let toolchain = crate::toolchain::install::ensure(&settings.cache_dir, reporter)?;
    let path = dir.join(lockfile::FILE_NAME);
    let work = dir.join(WORK_DIR);
    if settings.locked {
        ensure_lock(
            &toolchain,
            &path,
            &requirements,
            &settings.index,
            true,
            &work,
        )?;
        return Ok(path);
    }
    reporter.message(&project.name, "resolve (pip)");
    let lock = resolve::resolve(&toolchain, &requirements, &settings.index, &dir, &work)?;
    lockfile::write(&path, &lock)?;
    Ok(path)
}

/// The top-level modules a distribution installed into `deps` provides, from its RECORD.
pub fn top_level_modules(deps: &Path, name: &str) -> Vec<String> {
    let wanted = crate::tags::normalize_name(name);
    let Ok(entries) = fs_err::read_dir(deps) else {
        return Vec::new();
    };
    let mut modules = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = file_name.strip_suffix(".dist-info") else {
            continue;
        };
        let distribution = stem.rsplit_once('-').map_or(stem, |(n, _)| n);
        if crate::tags::normalize_name(distribution) != wanted {
            continue;
        }
        let record = fs_err::read_to_string(entry.path().join("RECORD")).unwrap_or_default();
        for line in record.lines() {
            let path = line.split(',').next().unwrap_or_default();
            let module = match path.split_once('/') {
                Some((top, "__init__.py")) => top,
                None if path.ends_with(".py") => path.trim_end_matches(".py"),
                _ => continue,
            };
            if !module.starts_with('_') && module != "tests" && !modules.iter().any(|m| m == module)
            {
                modules.push(module.to_string());
            }
        }
    }
    modules.sort();
    modules
}

/// The app's own modules: `src/` when the project has one; else a copy of the project
/// directory without what is not the app's (dot directories such as `.venv` and this work
/// directory, `build/`, `dist/`, bytecode, components), so that componentize-py never sees
/// the build machine's extension modules.
fn app_sources(project: &project::Project, work: &Path) -> Result<PathBuf, AppError> {
    let src = project.dir.join("src");
    if src.is_dir() {
        return Ok(src);
    }
    let copy = work.join("source");
    if copy.exists() {
        fs_err::remove_dir_all(&copy).map_err(io(&copy))?;
    }
    fs_err::create_dir_all(&copy).map_err(io(&copy))?;
    let walk = walkdir::WalkDir::new(&project.dir)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            let name = entry.file_name().to_string_lossy();
            let top = entry.depth() == 1;
            !(name.starts_with('.')
                || name == "__pycache__"
                || (top
                    && ["build", "dist", "pyproject.toml", lockfile::FILE_NAME]
                        .contains(&name.as_ref()))
                || name.ends_with(".wasm"))
        });
    for entry in walk {
        let entry = entry.map_err(|error| AppError::Io {
            path: error.path().unwrap_or(&project.dir).to_path_buf(),
            source: error.into(),
        })?;
        let relative = entry
            .path()
            .strip_prefix(&project.dir)
            .expect("under the project");
        let target = copy.join(relative);
        if entry.file_type().is_dir() {
            fs_err::create_dir_all(&target).map_err(io(&target))?;
        } else if entry.file_type().is_file() {
            fs_err::copy(entry.path(), &target).map_err(io(&target))?;
        }
    }
    Ok(copy)
}

/// `wheelforge app build [DIR] -o OUTPUT`.
pub fn build(
    dir: &Path,
    output: &Path,
    stub_wasi: bool,
    settings: &AppSettings,
    reporter: &dyn Reporter,
) -> Result<BuiltApp, AppError> {
    let dir = absolute(dir)?;
    let output = absolute(output)?;
    let project = project::load(&dir)?;
    let requirements = project.requirements(&settings.extras, &settings.groups)?;
    let toolchain = crate::toolchain::install::ensure(&settings.cache_dir, reporter)?;
    let work = dir.join(WORK_DIR);
    let lock_path = dir.join(lockfile::FILE_NAME);
    reporter.message(&project.name, "lock");
    let lock = ensure_lock(
        &toolchain,
        &lock_path,
        &requirements,
        &settings.index,
        settings.locked,
        &work,
    )?;

    let app = &project.app;
    let entry = match (&app.wit, &app.world, &app.module, &app.script) {
        (Some(wit), Some(world), Some(module), _) => Entry::World {
            wit: dir.join(wit),
            world: world.clone(),
            module: module.clone(),
        },
        (None, None, Some(module), None) => Entry::Module(module.clone()),
        (None, None, None, Some(script)) => {
            let source = project.source_dir();
            let relative = crate::paths::relative_path(&source, &dir.join(script));
            Entry::Script(format!(
                "{}/{}",
                component::SOURCE_GUEST,
                relative.display()
            ))
        }
        _ => {
            return Err(AppError::NoEntry {
                path: project.pyproject.clone(),
            });
        }
    };
    let preload = match &app.preload {
        Some(list) => list.clone(),
        None => Vec::new(),
    };
    let plan = LinkPlan {
        entry,
        preload,
        stub_wasi,
    };
    let source = app_sources(&project, &work)?;
    let built = link_locked(
        &toolchain,
        &lock,
        &dir,
        &source,
        &app.exclusions(),
        plan,
        app.preload.is_none().then_some(requirements.as_slice()),
        &work,
        &output,
        &project.name,
        reporter,
    )?;
    Ok(BuiltApp {
        lock: lock_path,
        ..built
    })
}

/// Stages 3 to 5 for a lock: install, pack, link. With `default_preload`, the top-level
/// modules of those requirements are preloaded.
#[allow(clippy::too_many_arguments)]
fn link_locked(
    toolchain: &crate::toolchain::WasiToolchain,
    lock: &PyLock,
    lock_dir: &Path,
    source: &Path,
    exclude: &[String],
    mut plan: LinkPlan,
    default_preload: Option<&[String]>,
    work: &Path,
    output: &Path,
    subject: &str,
    reporter: &dyn Reporter,
) -> Result<BuiltApp, AppError> {
    reporter.message(subject, "install (pip, hashes checked)");
    let deps = work.join("deps");
    resolve::install(toolchain, lock, lock_dir, &deps, work)?;
    if let Some(requirements) = default_preload {
        for requirement in requirements {
            let name = requirement
                .parse::<pep508_rs::Requirement>()
                .map(|r| r.name.to_string())
                .unwrap_or_else(|_| requirement.clone());
            for module in top_level_modules(&deps, &name) {
                if !plan.preload.contains(&module) {
                    plan.preload.push(module);
                }
            }
        }
    }
    reporter.message(subject, "pack the files");
    let entry_dir = work.join("entry");
    if entry_dir.exists() {
        fs_err::remove_dir_all(&entry_dir).map_err(io(&entry_dir))?;
    }
    fs_err::create_dir_all(&entry_dir).map_err(io(&entry_dir))?;
    component::write_entry(&plan, &entry_dir)?;
    let trees = component::trees(toolchain, &entry_dir, source, &deps, exclude);
    let packed = vfs::pack(&trees, &entry_dir)?;
    reporter.message(subject, "link (componentize-py)");
    component::link(toolchain, &plan, &entry_dir, source, &deps, work, output)?;
    let size = fs_err::metadata(output).map_err(io(output))?.len();
    Ok(BuiltApp {
        component: output.to_path_buf(),
        lock: PathBuf::new(),
        packages: lock.packages.len(),
        packed,
        size,
    })
}

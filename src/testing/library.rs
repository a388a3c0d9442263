//! The test of a `static_library` recipe: its `test.program` (C or Fortran, beside the recipe)
//! compiled in the toolchain root, linked against the stored library archive (verified and
//! unpacked into a prefix, as a consumer's host environment gets it) with `test.link`, and run
//! under the embedded wasmtime. The program must exit with status 0.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{TestError, TestReport, TestSettings};
use crate::process::{log_tail, run_logged};
use crate::recipe::LoadedRecipe;
use crate::reporter::Reporter;
use crate::runtime::{RunOptions, run_module};
use crate::toolchain::WasiToolchain;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TestError + '_ {
    move |source| TestError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The digest `wheelforge build` recorded for `file` (`build/<name>/state.json`).
fn recorded_digest(build_dir: &Path, name: &str, file: &str) -> Option<String> {
    let text = fs_err::read_to_string(build_dir.join(name).join("state.json")).ok()?;
    let state: serde_json::Value = serde_json::from_str(&text).ok()?;
    state["wheels"][file].as_str().map(str::to_string)
}

/// The stored archive of the library recipe `loaded` (as `wheelforge build` recorded it),
/// verified and unpacked into `prefix`.
fn unpack_library(
    settings: &TestSettings,
    loaded: &LoadedRecipe,
    prefix: &Path,
) -> Result<String, TestError> {
    let name = loaded.name().to_string();
    let file = crate::library::archive_name(&name, loaded.recipe.package.version.as_str());
    let archive = settings
        .out_dir
        .join(crate::library::LIBRARIES_DIR)
        .join(&file);
    let expected = recorded_digest(&settings.build_dir, &name, &file)
        .filter(|_| archive.is_file())
        .ok_or_else(|| TestError::NoLibrary {
            name: name.clone(),
            file: file.clone(),
            dir: settings.out_dir.join(crate::library::LIBRARIES_DIR),
        })?;
    crate::library::unpack(&name, &archive, &expected, prefix).map_err(|error| {
        TestError::Program {
            detail: error.to_string(),
        }
    })?;
    Ok(file)
}

pub(super) fn test_library(
    settings: &TestSettings,
    recipes: &crate::recipe::RecipeSet,
    loaded: &LoadedRecipe,
    reporter: &dyn Reporter,
) -> Result<TestReport, TestError> {
    let name = loaded.name().to_string();
    let toolchain = if loaded.recipe.build.fortran {
        crate::toolchain::fortran::install::ensure(&settings.cache_dir, reporter)?.0
    } else {
        crate::toolchain::install::ensure(&settings.cache_dir, reporter)?
    };
    let work = settings.build_dir.join(&name).join("test");
    if work.exists() {
        fs_err::remove_dir_all(&work).map_err(io(&work))?;
    }
    fs_err::create_dir_all(&work).map_err(io(&work))?;
    let work = fs_err::canonicalize(&work).map_err(io(&work))?;
    let prefix = work.join("prefix");
    // The libraries it is built on (libpng on zlib) first, into the same prefix, as a
    // consumer's host environment gets them.
    for host in &loaded.recipe.requirements.host {
        let required = recipes.get(host.as_str())?;
        if required.recipe.build.backend == crate::recipe::BackendKind::StaticLibrary {
            unpack_library(settings, required, &prefix)?;
        }
    }
    let file = unpack_library(settings, loaded, &prefix)?;
    let program = loaded
        .recipe
        .test
        .program
        .as_ref()
        .expect("static_library tests are checked to name a program");
    let source = work.join(
        Path::new(program.as_str())
            .file_name()
            .expect("a program has a file name"),
    );
    let from = loaded.dir().join(program.as_str());
    fs_err::copy(&from, &source).map_err(io(&from))?;
    let log = work.join("test.log");
    let module = work.join("test.wasm");

    reporter.message(&name, "link");
    let started = Instant::now();
    compile_and_link(&toolchain, loaded, &work, &source, &prefix, &module, &log)?;
    let link_time = started.elapsed();

    reporter.message(&name, "run");
    let started = Instant::now();
    let stem = source
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let output = run_module(
        &module,
        &RunOptions {
            args: vec![stem],
            ..Default::default()
        },
    )?;
    Ok(TestReport::of_run(
        name,
        file,
        output,
        link_time,
        started.elapsed(),
    ))
}

/// Builds `source` into a WASI program: Fortran with the driver, C with the C wrapper (linked by
/// the driver when the library is Fortran, so that the Fortran runtime comes with it).
fn compile_and_link(
    toolchain: &WasiToolchain,
    loaded: &LoadedRecipe,
    work: &Path,
    source: &Path,
    prefix: &Path,
    module: &Path,
    log: &Path,
) -> Result<(), TestError> {
    let tools = toolchain.tools_dir.display();
    let sandbox = toolchain.sandbox();
    let fortran_driver = format!("{tools}/bin/wheelforge-fortran");
    let cc = format!("{tools}/bin/cc");
    let is_c = source.extension().is_some_and(|extension| extension == "c");
    let linker = if loaded.recipe.build.fortran {
        &fortran_driver
    } else {
        &cc
    };
    let run = |program: &str, arguments: Vec<String>, step: &str| -> Result<(), TestError> {
        let mut command = sandbox.command(program, work, &[work]);
        command
            .env("WHEELFORGE_EXE", sandbox.wheelforge_binary())
            .env("WHEELFORGE_WRAP_CONFIG", format!("{tools}/wrap.json"))
            // The program is compiled as the library was (WHEELFORGE_WASM_EXCEPTIONS, ...).
            .envs(&loaded.recipe.build.environment)
            .args(&arguments);
        if run_logged(&mut command, log).map_err(io(log))?.success() {
            Ok(())
        } else {
            Err(TestError::Program {
                detail: format!(
                    "{step} of {} failed:\n{}\n  help: the full log is {}",
                    source.display(),
                    log_tail(log, 20),
                    log.display()
                ),
            })
        }
    };
    let include = format!("-I{}", prefix.join("include").display());
    let library_dir = format!("-L{}", prefix.join("lib").display());
    let display = |path: &Path| path.display().to_string();
    let mut inputs: Vec<String> = Vec::new();
    if is_c {
        let object: PathBuf = source.with_extension("o");
        run(
            &cc,
            ["-O2".to_string(), include.clone()]
                .into_iter()
                .chain(loaded.recipe.test.cflags.iter().cloned())
                .chain(["-c".into(), display(source), "-o".into(), display(&object)])
                .collect(),
            "compiling",
        )?;
        inputs.push(display(&object));
    } else {
        inputs.extend(["-O2".to_string(), include]);
        inputs.extend(loaded.recipe.test.cflags.iter().cloned());
        inputs.push(display(source));
    }
    let mut arguments = inputs;
    arguments.push(library_dir);
    arguments.extend(loaded.recipe.test.link.iter().cloned());
    arguments.extend(["-o".to_string(), display(module)]);
    run(linker, arguments, "linking")
}

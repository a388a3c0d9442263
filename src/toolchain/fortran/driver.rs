//! `wheelforge-fortran`: a Fortran compiler for build systems, producing wasm32 objects.
//!
//! Build systems (meson, CMake, numpy.f2py) call it like gfortran or flang: `-c`, `-o`, `-J`,
//! `-I`, `-D`, `-O*`, `-fPIC`, source files, objects and libraries. Each Fortran source goes
//! through these stages in a temporary directory:
//!
//! 1. front end: `flang -fc1 -triple wasm32-unknown-wasip1 -emit-hlfir` (wasm32 type sizes,
//!    alignment and COMMON layout; modules from `-J`/`-I`, intrinsic modules from beside the
//!    flang executable the install links, which are the wasm32 ones);
//! 2. HLFIR fix: [`ir::fix_assumed_size_extent`];
//! 3. `fir-opt --external-name-interop` (`_QPsaxpy` → `saxpy_`, as flang's own driver does);
//! 4. `tco --target=i386-unknown-linux-gnu`: FIR to LLVM IR with the i386 calling convention;
//! 5. LLVM IR fixes: [`ir::fix_llvm_ir`] (triple, COMMON, complex(4) results, `main`), and
//!    [`ir::relative_source_names`] (source names relative to the working directory);
//! 6. `clang --target=wasm32-wasip1 -fPIC -c`: the wasm32 object.
//!
//! Without `-c`, the objects are linked by the C compiler wrapper with the Fortran runtime.
//! This module parses and orchestrates; the rewrites are in [`super::ir`].

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{DriverConfig, FortranError, ir};

/// What a command line asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invocation {
    pub mode: Mode,
    pub sources: Vec<PathBuf>,
    /// Objects, archives, `-l`/`-L`/`-Wl,` and other link arguments, in order.
    pub link_arguments: Vec<String>,
    pub output: Option<PathBuf>,
    pub module_dir: Option<PathBuf>,
    pub include_dirs: Vec<PathBuf>,
    /// `-D`/`-U` definitions, as written.
    pub defines: Vec<String>,
    /// `-cpp` (`Some(true)`), `-nocpp` (`Some(false)`), or by extension.
    pub preprocess: Option<bool>,
    /// 0 to 3 (`-Os`/`-Oz`/`-Ofast` count as 2).
    pub optimization: u8,
    /// Front-end options passed through (`-ffixed-form`, `-fdefault-real-8`, ...).
    pub frontend_options: Vec<String>,
    pub shared: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Compile and link.
    #[default]
    Link,
    /// `-c`.
    Compile,
    /// `-E`.
    Preprocess,
    /// `--version`, `-dumpversion`.
    Version,
}

/// Front-end options that flang's `-fc1` accepts as they are.
const FRONTEND_FLAGS: &[&str] = &[
    "-ffixed-form",
    "-ffree-form",
    "-fdefault-real-8",
    "-fdefault-integer-8",
    "-fdefault-double-8",
    "-fbackslash",
    "-fno-backslash",
    "-fimplicit-none",
    "-flarge-sizes",
    "-flogical-abbreviations",
    "-fxor-operator",
    "-fopenacc",
];

/// Parses a gfortran/flang-style command line.
pub fn parse(arguments: &[String]) -> Result<Invocation, FortranError> {
    let mut invocation = Invocation {
        optimization: 0,
        ..Default::default()
    };
    let mut iter = arguments.iter().peekable();
    let value = |flag: &str, next: Option<&String>| {
        next.cloned().ok_or_else(|| FortranError::Usage {
            message: format!("`{flag}` needs a value"),
            help: format!("write `{flag} VALUE`"),
        })
    };
    while let Some(argument) = iter.next() {
        let argument = argument.as_str();
        match argument {
            "-c" => invocation.mode = Mode::Compile,
            "-E" => invocation.mode = Mode::Preprocess,
            "--version" | "-dumpversion" | "-v" if arguments.len() == 1 => {
                invocation.mode = Mode::Version
            }
            "-o" => invocation.output = Some(value(argument, iter.next())?.into()),
            // `-module` is classic flang's spelling, which meson uses for any "flang".
            "-J" | "-module-dir" | "-module" => {
                invocation.module_dir = Some(value(argument, iter.next())?.into())
            }
            "-I" => invocation
                .include_dirs
                .push(value(argument, iter.next())?.into()),
            "-D" | "-U" => {
                let definition = value(argument, iter.next())?;
                invocation.defines.push(format!("{argument}{definition}"));
            }
            "-cpp" => invocation.preprocess = Some(true),
            "-nocpp" => invocation.preprocess = Some(false),
            "-shared" => invocation.shared = true,
            "-fPIC" | "-fpic" | "-fPIE" | "-fpie" => {}
            "-MF" | "-MT" | "-MQ" => {
                iter.next();
            }
            _ if argument.starts_with("-J") => invocation.module_dir = Some(argument[2..].into()),
            _ if argument.starts_with("-I") => invocation.include_dirs.push(argument[2..].into()),
            _ if argument.starts_with("-D") || argument.starts_with("-U") => {
                invocation.defines.push(argument.to_string())
            }
            _ if argument.starts_with("-O") => {
                invocation.optimization = match &argument[2..] {
                    "" | "1" => 1,
                    "0" => 0,
                    "3" => 3,
                    _ => 2,
                }
            }
            _ if FRONTEND_FLAGS.contains(&argument)
                || argument.starts_with("-ffixed-line-length")
                || argument.starts_with("-ffree-line-length") =>
            {
                invocation
                    .frontend_options
                    .push(argument.replacen("-length-", "-length=", 1))
            }
            _ if argument.starts_with("-l")
                || argument.starts_with("-L")
                || argument.starts_with("-Wl,") =>
            {
                invocation.link_arguments.push(argument.to_string())
            }
            // Debug info, warnings, dependency files, language standards, machine tuning and
            // gfortran-only switches do not change the object.
            _ if argument.starts_with("-g")
                || argument.starts_with("-W")
                || argument == "-w"
                || argument.starts_with("-M")
                || argument.starts_with("-std=")
                || argument.starts_with("-m")
                || argument.starts_with("-f")
                || argument == "-pthread"
                || argument == "-pipe"
                || argument == "-v" => {}
            _ if argument.starts_with('-') => {
                return Err(FortranError::Usage {
                    message: format!("wheelforge-fortran does not know the option `{argument}`"),
                    help: "remove it from the build's Fortran flags, or report it so the driver learns it (src/toolchain/fortran/driver.rs)".into(),
                });
            }
            _ if is_fortran_source(Path::new(argument)) => invocation.sources.push(argument.into()),
            _ => invocation.link_arguments.push(argument.to_string()),
        }
    }
    if matches!(invocation.mode, Mode::Compile | Mode::Preprocess) && invocation.sources.is_empty()
    {
        return Err(FortranError::Usage {
            message: "no Fortran source file given".into(),
            help: "name .f, .f90, .F or .F90 files".into(),
        });
    }
    if invocation.mode == Mode::Compile
        && invocation.output.is_some()
        && invocation.sources.len() > 1
    {
        return Err(FortranError::Usage {
            message: "`-o` with `-c` and several sources".into(),
            help: "compile one source per command, or leave out `-o`".into(),
        });
    }
    Ok(invocation)
}

/// Fortran source extensions (fixed and free form, with and without preprocessing).
pub fn is_fortran_source(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some(
            "f" | "for"
                | "ftn"
                | "f77"
                | "f90"
                | "f95"
                | "f03"
                | "f08"
                | "F"
                | "FOR"
                | "FTN"
                | "F77"
                | "F90"
                | "F95"
                | "F03"
                | "F08"
                | "fpp"
        )
    )
}

/// Whether a source is preprocessed by default (an upper-case extension, as gfortran does).
fn preprocessed_by_default(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e == "fpp" || e.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
}

/// Runs an invocation; returns the exit status.
pub fn run(config: &DriverConfig, invocation: &Invocation) -> Result<i32, FortranError> {
    match invocation.mode {
        Mode::Version => {
            let mut command = Command::new(&config.flang);
            command.arg("--version");
            status_of(&config.flang, &mut command)
        }
        Mode::Preprocess => {
            let mut command = Command::new(&config.flang);
            command.arg("-E").arg("-cpp");
            command.args(&invocation.defines);
            for dir in &invocation.include_dirs {
                command.arg("-I").arg(dir);
            }
            command.args(&invocation.sources);
            if let Some(output) = &invocation.output {
                command.arg("-o").arg(output);
            }
            status_of(&config.flang, &mut command)
        }
        Mode::Compile => {
            for source in &invocation.sources {
                let object = invocation
                    .output
                    .clone()
                    .unwrap_or_else(|| default_object(source));
                compile(config, invocation, source, &object)?;
            }
            Ok(0)
        }
        Mode::Link => {
            let scratch = tempfile::tempdir().map_err(|source| FortranError::Io {
                path: std::env::temp_dir(),
                source,
            })?;
            let mut objects = Vec::new();
            for (index, source) in invocation.sources.iter().enumerate() {
                let object = scratch.path().join(format!("{index}.o"));
                compile(config, invocation, source, &object)?;
                objects.push(object);
            }
            let mut command = Command::new(&config.cc_wrapper);
            if invocation.shared {
                command.arg("-shared");
            }
            command.args(&objects).args(&invocation.link_arguments);
            // The wrapper links the runtime (and, for executables, what it needs).
            command.env(super::RUNTIME_VARIABLE, &config.runtime);
            if let Some(output) = &invocation.output {
                command.arg("-o").arg(output);
            }
            status_of(&config.cc_wrapper, &mut command)
        }
    }
}

/// `dir/name.f90` → `name.o` (in the working directory, as compilers do).
/// An existing file's path relative to the working directory (the build system's), for the
/// source names flang records in objects: the same tree built elsewhere gives the same object.
fn relative_to_cwd(path: &str) -> Option<String> {
    let cwd = std::env::current_dir().ok()?;
    let path = Path::new(path);
    path.is_file().then(|| {
        crate::paths::relative_path(&cwd, path)
            .to_string_lossy()
            .into_owned()
    })
}

fn default_object(source: &Path) -> PathBuf {
    let stem = source.file_stem().unwrap_or_default();
    PathBuf::from(stem).with_extension("o")
}

/// Compiles one source to a wasm32 object through the six stages.
pub fn compile(
    config: &DriverConfig,
    invocation: &Invocation,
    source: &Path,
    object: &Path,
) -> Result<(), FortranError> {
    let _span = tracing::info_span!("fortran_compile", source = %source.display()).entered();
    let scratch = tempfile::tempdir().map_err(|error| FortranError::Io {
        path: std::env::temp_dir(),
        source: error,
    })?;
    let file = |name: &str| scratch.path().join(name);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FortranError::Io { path, source }
    };

    // 1. Front end, for the real target.
    let mut frontend = Command::new(&config.flang);
    frontend.args(["-fc1", "-triple", ir::WASM_TRIPLE, "-emit-hlfir"]);
    if invocation
        .preprocess
        .unwrap_or_else(|| preprocessed_by_default(source))
    {
        frontend.arg("-cpp");
    }
    frontend.args(&invocation.defines);
    for dir in &invocation.include_dirs {
        frontend.arg("-I").arg(dir);
    }
    let module_dir = invocation
        .module_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("."));
    // Modules written here are also found here (gfortran's -J does both).
    frontend.arg("-module-dir").arg(&module_dir);
    frontend.arg("-I").arg(&module_dir);
    // The wasm32 intrinsic modules are found through the location of `config.flang`.
    frontend.args(&invocation.frontend_options);
    if invocation.optimization > 0 {
        frontend.arg(format!("-O{}", invocation.optimization));
    }
    frontend.arg(source).arg("-o").arg(file("front.hlfir"));
    stage(
        "the flang front end",
        source,
        &config.flang,
        &mut frontend,
        "fix the Fortran error above",
    )?;

    // 2. Assumed-size extents.
    let hlfir = fs_err::read_to_string(file("front.hlfir")).map_err(io(&file("front.hlfir")))?;
    fs_err::write(file("fixed.hlfir"), ir::fix_assumed_size_extent(&hlfir))
        .map_err(io(&file("fixed.hlfir")))?;

    // Stages 3 to 6 run in the scratch directory on relative names: a tool records its input's
    // name in the object (tco as a location file name), and the scratch directory's name is
    // random, so absolute names would make every compile's object different.
    // 3. External names.
    let mut interop = Command::new(&config.fir_opt);
    interop
        .current_dir(scratch.path())
        .arg("--external-name-interop")
        .arg("fixed.hlfir")
        .arg("-o")
        .arg("named.hlfir");
    stage(
        "fir-opt --external-name-interop",
        source,
        &config.fir_opt,
        &mut interop,
        "a driver bug: report it with this source",
    )?;

    // 4. Lowering with the i386 calling convention.
    let mut lower = Command::new(&config.tco);
    lower
        .current_dir(scratch.path())
        .arg("--target=i386-unknown-linux-gnu")
        .arg(format!("-O{}", invocation.optimization.min(3)))
        .arg("named.hlfir")
        .arg("-o")
        .arg("lowered.ll");
    stage(
        "tco (FIR to LLVM IR)",
        source,
        &config.tco,
        &mut lower,
        "flang cannot lower this construct for a 32-bit target; see docs/fortran.md (limitations)",
    )?;

    // 5. The ABI fixes.
    let lowered = fs_err::read_to_string(file("lowered.ll")).map_err(io(&file("lowered.ll")))?;
    let fixed = ir::relative_source_names(&ir::fix_llvm_ir(&lowered), relative_to_cwd);
    fs_err::write(file("wasm32.ll"), fixed).map_err(io(&file("wasm32.ll")))?;

    // 6. The wasm32 object (position-independent: it may end up in a side module).
    let object = std::path::absolute(object).map_err(io(object))?;
    let mut codegen = Command::new(&config.clang);
    codegen
        .current_dir(scratch.path())
        .arg("--target=wasm32-wasip1")
        .arg(format!("--sysroot={}", config.sysroot.display()))
        .arg(format!("-O{}", invocation.optimization.min(3)))
        .args(["-fPIC", "-Wno-override-module", "-c"])
        .arg("wasm32.ll")
        .arg("-o")
        .arg(&object);
    stage(
        "clang (wasm32 code generation)",
        source,
        &config.clang,
        &mut codegen,
        "a driver bug: report it with this source",
    )
}

fn stage(
    name: &'static str,
    source: &Path,
    program: &Path,
    command: &mut Command,
    help: &'static str,
) -> Result<(), FortranError> {
    let status = command.status().map_err(|error| FortranError::Spawn {
        program: program.to_path_buf(),
        source: error,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(FortranError::Stage {
            stage: name,
            source_file: source.to_path_buf(),
            status: status.to_string(),
            help,
        })
    }
}

fn status_of(program: &Path, command: &mut Command) -> Result<i32, FortranError> {
    let status = command.status().map_err(|error| FortranError::Spawn {
        program: program.to_path_buf(),
        source: error,
    })?;
    Ok(status.code().unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn a_meson_style_compile_line_is_understood() {
        let invocation = parse(&args(
            "-Ilib/foo.p -I../src -fPIC -O2 -g -Wall -Jlib/foo.p -DNDEBUG -ffixed-line-length-132 -c ../src/a.F -o lib/a.o -MD -MF lib/a.o.d",
        ))
        .unwrap();
        assert_eq!(
            invocation,
            Invocation {
                mode: Mode::Compile,
                sources: vec!["../src/a.F".into()],
                link_arguments: vec![],
                output: Some("lib/a.o".into()),
                module_dir: Some("lib/foo.p".into()),
                include_dirs: vec!["lib/foo.p".into(), "../src".into()],
                defines: vec!["-DNDEBUG".into()],
                preprocess: None,
                optimization: 2,
                frontend_options: vec!["-ffixed-line-length=132".into()],
                shared: false,
            }
        );
        assert!(preprocessed_by_default(Path::new("a.F")));
        assert!(!preprocessed_by_default(Path::new("a.f90")));
    }

    #[test]
    fn a_meson_flang_compile_line_puts_modules_in_the_private_directory() {
        let invocation = parse(&args(
            "-Ilibpackage.a.p -I. -I../src -fdiagnostics-color=always -D_FILE_OFFSET_BITS=64 -Minform=inform -O0 -g -fPIC -module libpackage.a.p -MD -MQ libpackage.a.p/geometry.f90.o -MF libpackage.a.p/geometry.f90.o.d -o libpackage.a.p/geometry.f90.o -c ../src/geometry.f90",
        ))
        .unwrap();
        assert_eq!(invocation.module_dir, Some("libpackage.a.p".into()));
        assert_eq!(
            invocation.sources,
            vec![PathBuf::from("../src/geometry.f90")]
        );
        assert_eq!(invocation.link_arguments, Vec::<String>::new());
        assert_eq!(invocation.optimization, 0);
    }

    #[test]
    fn a_link_line_keeps_objects_and_libraries_in_order() {
        let invocation = parse(&args("main.f90 util.o -L. -lfoo libbar.a -o prog")).unwrap();
        assert_eq!(invocation.mode, Mode::Link);
        assert_eq!(invocation.sources, vec![PathBuf::from("main.f90")]);
        assert_eq!(
            invocation.link_arguments,
            vec!["util.o", "-L.", "-lfoo", "libbar.a"]
        );
    }

    #[test]
    fn unknown_options_are_errors_that_say_where_to_teach_the_driver() {
        let error = parse(&args("-qopenmp -c a.f90")).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("wheelforge-fortran does not know the option `-qopenmp`"),
            "{error}"
        );
    }

    #[test]
    fn compile_without_sources_is_an_error() {
        assert!(matches!(
            parse(&args("-c -o a.o")),
            Err(FortranError::Usage { .. })
        ));
    }
}

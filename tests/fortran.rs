//! Fortran end to end: the optional Fortran part of the toolchain (`toolchain install
//! --fortran`: flang 22, the wasm32 Fortran runtime built from Debian's sources, the wasm32
//! intrinsic modules), the `wheelforge-fortran` driver compiling a small package
//! (tests/fixtures/fortran) the way a build system does — one `-c` per file, modules through
//! `-J`, a static library with the `ar` wrapper, a link — and the program run under the
//! embedded wasmtime, its output checked exactly.
//!
//! The first run installs the Fortran part into the shared toolchain cache
//! (`WHEELFORGE_TEST_CACHE`): about 13 minutes on 2 cores, nearly all of it the runtime
//! build; later runs take seconds. See docs/fortran.md.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs a wheelforge command with `args`; panics with its output unless it succeeds, returns
/// its stdout.
fn succeed(command: &mut Command, args: &[&str]) -> String {
    let output = command.args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?} failed:\n{}",
        text(&output)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fortran")
}

/// The toolchain with its Fortran part, installed by the CLI as a user would.
fn fortran_toolchain() -> wheelforge::toolchain::WasiToolchain {
    let output = Command::new(env!("CARGO_BIN_EXE_wheelforge"))
        .arg("--cache-dir")
        .arg(common::toolchain_cache())
        .args(["toolchain", "install", "--fortran"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "install failed:\n{}",
        text(&output)
    );
    wheelforge::toolchain::WasiToolchain::load(&wheelforge::toolchain::install::toolchain_dir(
        &common::toolchain_cache(),
    ))
    .unwrap()
}

/// Runs a toolchain program inside the root with `work` as working directory. The wrappers
/// call the wheelforge binary (not this test binary, which the sandbox mounts as its own).
fn inside(
    toolchain: &wheelforge::toolchain::WasiToolchain,
    work: &Path,
    program: &str,
    args: &[&str],
) {
    let wheelforge = Path::new(env!("CARGO_BIN_EXE_wheelforge"));
    let mut command = toolchain
        .sandbox()
        .command(program, work, &[work, wheelforge]);
    command.env("WHEELFORGE_EXE", wheelforge).args(args);
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{program} {} failed:\n{}",
        args.join(" "),
        text(&output)
    );
}

/// What tests/fixtures/fortran/main.f90 prints (checked by hand: saxpy 2*x + y, the COMMON
/// block after two calls, exp(1+i) = e(cos 1 + i sin 1), sqrt(3+4i) = 2+i,
/// (1+2i)/(3+4i) = 0.44+0.08i, |3+4i| = 5, the wasm32 C kinds, 1+2+3.5).
const PACKAGE_OUTPUT: &str = "saxpy   12.00   24.00   36.00   48.00\n\
                              common 2  12.00\n\
                              exp   1.4687  2.2874\n\
                              sqrt  2.0000  1.0000\n\
                              div   0.4400  0.0800\n\
                              abs   5.0000\n\
                              c_long c_size_t c_intptr_t 4 4 4\n\
                              total   6.5\n\
                              hello, wasm32!\n\
                              sci  1.2346E+04\n";

/// Runs a core wasm module and checks that it exits normally with `expected` on stdout.
fn assert_runs(module: &Path, expected: &str) {
    let output = wheelforge::runtime::run_module(
        module,
        &wheelforge::runtime::RunOptions {
            args: vec!["main".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        (output.exit_code, output.trap.as_deref()),
        (0, None),
        "the program failed:\n{stdout}\n{stderr}"
    );
    assert_eq!(stdout, expected, "stderr:\n{stderr}");
}

#[test]
fn a_fortran_package_compiles_with_the_driver_and_runs_under_wasi() {
    let toolchain = fortran_toolchain();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    for entry in fs_err::read_dir(fixture()).unwrap() {
        let path = entry.unwrap().path();
        fs_err::copy(&path, work.join(path.file_name().unwrap())).unwrap();
    }
    fs_err::create_dir_all(work.join("mod")).unwrap();
    let fortran = "/opt/wheelforge/bin/wheelforge-fortran";
    // As meson does: one compile per file, modules into a private directory, -fPIC.
    for source in ["geometry.f90", "saxpy.f", "counts.f90", "cmath.f90"] {
        let object = format!("{}.o", source.split('.').next().unwrap());
        inside(
            &toolchain,
            work,
            fortran,
            &["-O2", "-fPIC", "-Jmod", "-c", source, "-o", &object],
        );
    }
    inside(
        &toolchain,
        work,
        "/opt/wheelforge/bin/ar",
        &[
            "rcs",
            "libpackage.a",
            "geometry.o",
            "saxpy.o",
            "counts.o",
            "cmath.o",
        ],
    );
    // The main program compiled and linked in one call, against the library.
    inside(
        &toolchain,
        work,
        fortran,
        &[
            "-O2",
            "-Jmod",
            "main.f90",
            "libpackage.a",
            "-o",
            "main.wasm",
        ],
    );

    assert_runs(&work.join("main.wasm"), PACKAGE_OUTPUT);
}

/// Reference LAPACK's sources: Debian's `lapack` source package, whose upstream tarball is
/// fetched with `apt-get source` inside the root and verified against the signed Sources index
/// (downloaded once into the test cache), unpacked into `work`.
fn lapack_sources(toolchain: &wheelforge::toolchain::WasiToolchain, work: &Path) -> PathBuf {
    let downloads = common::toolchain_cache().join("test-sources/lapack");
    let tarball = wheelforge::toolchain::debian_source::fetch(
        toolchain,
        "lapack",
        None,
        None,
        &downloads,
        &work.join("fetch.log"),
    )
    .unwrap_or_else(|error| panic!("{error}"));
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&tarball.path)
        .arg("-C")
        .arg(work)
        .status()
        .unwrap();
    assert!(status.success());
    fs_err::read_dir(work)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            path.is_dir()
                && path
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("lapack-")
        })
        .expect("the tarball has a lapack-VERSION directory")
}

#[test]
fn reference_lapack_solves_a_linear_system_under_wasi() {
    let toolchain = fortran_toolchain();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let lapack = lapack_sources(&toolchain, work);
    // DGESV's call tree in reference LAPACK and BLAS: fixed-form code full of assumed-size
    // arrays, CHARACTER arguments, and XERBLA's formatted WRITE and STOP.
    let sources = [
        "SRC/dgesv.f",
        "SRC/dgetrf.f",
        "SRC/dgetrf2.f",
        "SRC/dgetrs.f",
        "SRC/dlaswp.f",
        "SRC/ilaenv.f",
        "SRC/ieeeck.f",
        "SRC/iparmq.f",
        "SRC/iparam2stage.F",
        "INSTALL/dlamch.f",
        "BLAS/SRC/dgemm.f",
        "BLAS/SRC/dtrsm.f",
        "BLAS/SRC/dscal.f",
        "BLAS/SRC/dswap.f",
        "BLAS/SRC/idamax.f",
        "BLAS/SRC/lsame.f",
        "BLAS/SRC/xerbla.f",
    ];
    let fortran = "/opt/wheelforge/bin/wheelforge-fortran";
    let mut objects = Vec::new();
    for source in sources {
        let object = work.join(format!(
            "{}.o",
            Path::new(source).file_stem().unwrap().to_string_lossy()
        ));
        let source = lapack.join(source);
        inside(
            &toolchain,
            work,
            fortran,
            &[
                "-O2",
                "-fPIC",
                "-c",
                &source.to_string_lossy(),
                "-o",
                &object.to_string_lossy(),
            ],
        );
        objects.push(object.to_string_lossy().into_owned());
    }
    fs_err::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fortran-lapack/solve.f90"),
        work.join("solve.f90"),
    )
    .unwrap();
    let mut link = vec!["-O2", "solve.f90"];
    link.extend(objects.iter().map(String::as_str));
    link.extend(["-o", "solve.wasm"]);
    inside(&toolchain, work, fortran, &link);

    let output = wheelforge::runtime::run_module(
        &work.join("solve.wasm"),
        &wheelforge::runtime::RunOptions {
            args: vec!["solve".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        (output.exit_code, output.trap.as_deref()),
        (0, None),
        "the program failed:\n{stdout}\n{stderr}"
    );
    assert_eq!(
        stdout,
        "info 0\n\
         x  1.000000  2.000000  3.000000  4.000000\n\
         residual below 1e-12: T\n \
         ** On entry to DGESV parameter number  1 had an illegal value\n",
        "stderr:\n{stderr}"
    );
}

#[test]
fn a_fortran_side_module_carries_the_runtime_and_imports_only_libc() {
    let toolchain = fortran_toolchain();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    for name in ["saxpy.f", "api.f90"] {
        fs_err::copy(fixture().join(name), work.join(name)).unwrap();
    }
    let fortran = "/opt/wheelforge/bin/wheelforge-fortran";
    inside(
        &toolchain,
        work,
        fortran,
        &["-O2", "-fPIC", "-c", "saxpy.f"],
    );
    inside(
        &toolchain,
        work,
        fortran,
        &["-O2", "-fPIC", "-c", "api.f90"],
    );
    // As a build system links an extension module: -shared through the driver.
    inside(
        &toolchain,
        work,
        fortran,
        &["-shared", "saxpy.o", "api.o", "-o", "libfortran.so"],
    );
    let bytes = fs_err::read(work.join("libfortran.so")).unwrap();
    assert!(
        wheelforge::wheel::repair::is_dylink_module(&bytes),
        "not a dylink.0 side module"
    );
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::new(&engine, &bytes).unwrap();
    let imports: Vec<String> = module
        .imports()
        .map(|import| format!("{}.{}", import.module(), import.name()))
        .collect();
    // The Fortran runtime is linked in; what is left comes from the consumer's libc.so.
    assert!(
        imports.iter().all(|import| !import.contains("_Fortran")),
        "{imports:?}"
    );
    assert!(imports.contains(&"env.write".to_string()), "{imports:?}");
    let exports: Vec<&str> = module.exports().map(|export| export.name()).collect();
    for symbol in ["saxpy_", "report"] {
        assert!(exports.contains(&symbol), "{symbol} not in {exports:?}");
    }
}

/// The Fortran part has its own manifest and identity: installing it must not touch the base
/// toolchain's manifest (native recipes would rebuild). On a cache without the Fortran part
/// this installs it between the two reads; `toolchain info` then reports both.
#[test]
fn installing_fortran_leaves_the_base_toolchain_unchanged() {
    let run = |args: &[&str]| {
        succeed(
            Command::new(env!("CARGO_BIN_EXE_wheelforge"))
                .arg("--cache-dir")
                .arg(common::toolchain_cache()),
            args,
        )
    };
    run(&["toolchain", "install"]);
    let dir = wheelforge::toolchain::install::toolchain_dir(&common::toolchain_cache());
    let manifest = wheelforge::toolchain::WasiToolchain::manifest_path(&dir);
    let before = fs_err::read(&manifest).unwrap();
    run(&["toolchain", "install", "--fortran"]);
    assert_eq!(fs_err::read(&manifest).unwrap(), before);
    let base = wheelforge::toolchain::WasiToolchain::load(&dir).unwrap();
    let fortran = wheelforge::toolchain::fortran::install::FortranToolchain::load(&base).unwrap();
    assert_ne!(fortran.identity, base.identity);
    let info = run(&["toolchain", "info"]);
    assert!(
        info.contains(&format!("identity:      {}\n", base.identity))
            && info.contains(&format!(
                "fortran:       installed, identity {}\n",
                fortran.identity
            )),
        "{info}"
    );
}

#[test]
fn a_cmake_fortran_project_builds_with_the_toolchain_file() {
    let toolchain = fortran_toolchain();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    // The fixtures, copied into the directory the sandbox sees.
    let fixtures = work.join("fixtures");
    for name in ["fortran", "fortran-cmake"] {
        let from = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        fs_err::create_dir_all(fixtures.join(name)).unwrap();
        for entry in fs_err::read_dir(&from).unwrap() {
            let path = entry.unwrap().path();
            fs_err::copy(&path, fixtures.join(name).join(path.file_name().unwrap())).unwrap();
        }
    }
    inside(
        &toolchain,
        work,
        "/usr/bin/cmake",
        &[
            "-S",
            &fixtures.join("fortran-cmake").to_string_lossy(),
            "-B",
            "build",
            "-G",
            "Ninja",
            &format!(
                "-DCMAKE_TOOLCHAIN_FILE={}",
                wheelforge::toolchain::fortran::CMAKE_TOOLCHAIN_FILE
            ),
        ],
    );
    inside(&toolchain, work, "/usr/bin/cmake", &["--build", "build"]);
    // CMake identified the driver (not the root's own flang) as the Fortran compiler.
    let detected = fs_err::read_dir(work.join("build/CMakeFiles"))
        .unwrap()
        .map(|entry| entry.unwrap().path().join("CMakeFortranCompiler.cmake"))
        .find(|path| path.is_file())
        .map(|path| fs_err::read_to_string(path).unwrap())
        .expect("CMake wrote no CMakeFortranCompiler.cmake");
    assert!(
        detected.contains("set(CMAKE_Fortran_COMPILER \"/opt/wheelforge/bin/wheelforge-fortran\")")
            && detected.contains("set(CMAKE_Fortran_COMPILER_ID \"LLVMFlang\")"),
        "{detected}"
    );
    assert_runs(&work.join("build/main.wasm"), PACKAGE_OUTPUT);
}

#[test]
fn a_meson_fortran_project_builds_with_the_cross_files() {
    let toolchain = fortran_toolchain();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let project = work.join("project");
    fs_err::create_dir_all(&project).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for dir in ["fortran", "fortran-meson"] {
        for entry in fs_err::read_dir(fixtures.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            fs_err::copy(&path, project.join(path.file_name().unwrap())).unwrap();
        }
    }
    // meson from the package index, as the cross backend gets it (ninja is in the root).
    inside(
        &toolchain,
        work,
        "/bin/sh",
        &[
            "-c",
            "python3.14 -m venv venv && venv/bin/pip install --quiet --disable-pip-version-check meson",
        ],
    );
    let cross = format!(
        "--cross-file=/opt/wheelforge/meson-cross.ini --cross-file={}",
        wheelforge::toolchain::fortran::MESON_CROSS_FILE
    );
    inside(
        &toolchain,
        work,
        "/bin/sh",
        &[
            "-c",
            &format!(
                "venv/bin/meson setup build project {cross} && venv/bin/meson compile -C build"
            ),
        ],
    );
    let log = fs_err::read_to_string(work.join("build/meson-logs/meson-log.txt")).unwrap();
    assert!(
        log.contains("Fortran compiler for the host machine: /opt/wheelforge/bin/wheelforge-fortran (flang 22."),
        "meson did not use the driver:\n{log}"
    );
    // Modules go to meson's private directory (`-module`), not the build directory.
    assert!(work.join("build/libpackage.a.p/geometry.mod").is_file());
    assert_runs(&work.join("build/main.wasm"), PACKAGE_OUTPUT);
}

/// Issue 6, part 2: the `lapack` recipe (reference LAPACK + BLAS from Debian's `lapack` source
/// package, `static_library` backend, `build.fortran`) built through the CLI, its archive stored
/// in `libraries/` and kept out of the package index, unpacked verified, a DGESV program linked
/// against `liblapack.a`/`libblas.a` and run under wasmtime, and `wheelforge test lapack` (the
/// recipe's own DGESV + ZGESV residual check). The output and build directories persist in the
/// target directory, so a rerun with an unchanged rebuild key takes seconds; the first build
/// takes minutes (docs/fortran.md). Ignored by default: about 9 minutes on 2 cores from a clean
/// clone, which the default suite's 90-minute CI budget has no room for; the nightly farm
/// builds and tests the lapack recipe (ci/build.yml), and `cargo test --test fortran --
/// --include-ignored` runs it here.
#[test]
#[ignore = "about 9 minutes on 2 cores from a clean clone; run with --include-ignored"]
fn the_lapack_recipe_builds_static_libraries_that_solve_under_wasi() {
    let toolchain = fortran_toolchain();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lapack-recipe");
    let repository = Path::new(env!("CARGO_MANIFEST_DIR"));
    let wheelforge = |args: &[&str]| {
        succeed(
            Command::new(env!("CARGO_BIN_EXE_wheelforge"))
                .current_dir(repository)
                .arg("--cache-dir")
                .arg(common::toolchain_cache())
                .arg("--out")
                .arg(dir.join("dist"))
                .arg("--build-dir")
                .arg(dir.join("build")),
            args,
        )
    };
    let summary = wheelforge(&["build", "lapack"]);
    assert!(
        summary.contains("1 built, 0 cached") || summary.contains("0 built, 1 cached"),
        "{summary}"
    );

    let file = "lapack-3.12.1-wasi_0_2_wasm32.tar.gz";
    let archive = dir.join("dist/libraries").join(file);
    let state: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(dir.join("build/lapack/state.json")).unwrap())
            .unwrap();
    let digest = state["wheels"][file]
        .as_str()
        .expect("the state names the archive");
    // Not a wheel: the index's pages never list it.
    for page in ["simple/index.html", "simple/lapack/index.html"] {
        let path = dir.join("dist").join(page);
        assert!(
            !path.is_file() || !fs_err::read_to_string(&path).unwrap().contains("lapack-3"),
            "{page} lists the library"
        );
    }

    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let prefix = work.join("prefix");
    wheelforge::library::unpack("lapack", &archive, digest, &prefix).unwrap();
    for library in ["lib/liblapack.a", "lib/libblas.a"] {
        assert!(prefix.join(library).is_file(), "{library} is missing");
    }
    let pc = fs_err::read_to_string(prefix.join("lib/pkgconfig/lapack.pc")).unwrap();
    assert!(
        pc.starts_with("libdir=${pcfiledir}/..\nincludedir=${pcfiledir}/../../include\n")
            && pc.contains("Libs: -L${libdir} -llapack\n"),
        "{pc}"
    );
    let plan = fs_err::read_to_string(prefix.join("share/wheelforge/lapack/plan.json")).unwrap();
    assert!(
        plan.contains("+fortran:"),
        "the plan's toolchain identity: {plan}"
    );

    // A consumer links against the archives with -L, as a package build would.
    fs_err::copy(
        repository.join("tests/fixtures/fortran-lapack/solve.f90"),
        work.join("solve.f90"),
    )
    .unwrap();
    let library_dir = format!("-L{}", prefix.join("lib").display());
    inside(
        &toolchain,
        work,
        "/opt/wheelforge/bin/wheelforge-fortran",
        &[
            "-O2",
            "solve.f90",
            &library_dir,
            "-llapack",
            "-lblas",
            "-o",
            "solve.wasm",
        ],
    );
    assert_runs_with_args(
        &work.join("solve.wasm"),
        "solve",
        "info 0\n\
         x  1.000000  2.000000  3.000000  4.000000\n\
         residual below 1e-12: T\n \
         ** On entry to DGESV parameter number  1 had an illegal value\n",
    );

    let tested = wheelforge(&["test", "lapack"]);
    assert!(
        tested.starts_with(
            "dgesv info 0 x  1.000000  2.000000  3.000000  4.000000\n\
             dgesv residual below 1e-12: T\n\
             zgesv info 0\n\
             zgesv residual below 1e-12: T\n\
             lapack: passed (lapack-3.12.1-wasi_0_2_wasm32.tar.gz; link "
        ) && tested.ends_with("1 passed, 0 failed\n"),
        "{tested}"
    );
}

/// Runs a core wasm module with `argv[0]` and checks that it exits normally with `expected`.
fn assert_runs_with_args(module: &Path, argv0: &str, expected: &str) {
    let output = wheelforge::runtime::run_module(
        module,
        &wheelforge::runtime::RunOptions {
            args: vec![argv0.into()],
            ..Default::default()
        },
    )
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        (output.exit_code, output.trap.as_deref()),
        (0, None),
        "the program failed:\n{stdout}\n{stderr}"
    );
    assert_eq!(stdout, expected, "stderr:\n{stderr}");
}

/// Found with the lapack recipe: the driver's scratch directory (a random name) leaked into
/// objects as a file name (`tco` read `/tmp/.tmpXXXX/named.hlfir`), so two compiles of
/// `dbdsvdx.f` differed. The same source must give the same object.
#[test]
fn compiling_the_same_source_twice_gives_the_same_object() {
    let toolchain = fortran_toolchain();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let lapack = lapack_sources(&toolchain, work);
    let source = lapack.join("SRC/dbdsvdx.f");
    let source = source.to_string_lossy();
    for object in ["first.o", "second.o"] {
        inside(
            &toolchain,
            work,
            "/opt/wheelforge/bin/wheelforge-fortran",
            &["-O2", "-fPIC", "-c", &source, "-o", object],
        );
    }
    assert!(
        fs_err::read(work.join("first.o")).unwrap() == fs_err::read(work.join("second.o")).unwrap(),
        "two compiles of dbdsvdx.f differ"
    );
}

/// Found with the lapack recipe: flang records a source's name in the object (for run-time I/O
/// error messages), and CMake passes absolute paths, so archives depended on the build
/// directory. The same tree compiled in two places must give the same object.
#[test]
fn the_same_source_in_two_build_directories_gives_the_same_object() {
    let toolchain = fortran_toolchain();
    let work = tempfile::tempdir().unwrap();
    let lapack = lapack_sources(&toolchain, work.path());
    let mut objects = Vec::new();
    for tree in ["first", "second"] {
        let root = work.path().join(tree);
        fs_err::create_dir_all(root.join("src")).unwrap();
        // xerbla.f writes a formatted message: its object names the source.
        fs_err::copy(lapack.join("SRC/xerbla.f"), root.join("src/xerbla.f")).unwrap();
        let source = root.join("src/xerbla.f");
        inside(
            &toolchain,
            &root,
            "/opt/wheelforge/bin/wheelforge-fortran",
            &[
                "-O2",
                "-fPIC",
                "-c",
                &source.to_string_lossy(),
                "-o",
                "xerbla.o",
            ],
        );
        let object = fs_err::read(root.join("xerbla.o")).unwrap();
        let name = root.to_string_lossy().into_owned();
        assert!(
            !object
                .windows(name.len())
                .any(|window| window == name.as_bytes()),
            "the object names its build directory {name}"
        );
        objects.push(object);
    }
    assert!(
        objects[0] == objects[1],
        "xerbla.f compiled in two directories differs"
    );
}

/// numpy's `lapack` variant (issue 6, part 4): numpy built against the `lapack` recipe (reference
/// LAPACK, BLAS and CBLAS compiled from Fortran) instead of lapack_lite, into the variant's own
/// index, and numpy.linalg's own tests under WASI against a native run. Ignored by default for
/// the same reason as the LAPACK recipe test (it builds LAPACK and numpy: about half an hour on
/// 2 cores from a clean clone).
#[test]
#[ignore = "about 30 minutes on 2 cores from a clean clone; run with --include-ignored"]
fn numpy_on_the_lapack_recipe_passes_numpy_linalg_tests_under_wasi() {
    fortran_toolchain();
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("numpy-lapack");
    let build_dir = work.join("build");
    let run = |args: &[&str]| succeed(&mut common::repository_wheelforge(&work, &build_dir), args);
    run(&["build", "numpy", "--variant", "lapack"]);
    let variant_packages = work.join("dist/variants/lapack/packages");
    let wheel = fs_err::read_dir(&variant_packages)
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| {
            path.to_string_lossy()
                .ends_with("-cp314-cp314-wasi_0_2_wasm32.whl")
        })
        .expect("the variant's wheel is in its own index");
    // The default build's index has no numpy: the variant did not replace it.
    assert!(
        !fs_err::read_dir(work.join("dist/packages"))
            .unwrap()
            .flatten()
            .any(|entry| entry.file_name().to_string_lossy().starts_with("numpy-")),
        "a numpy wheel in the main index"
    );
    let entries = wheelforge::wheel::read_entries(&wheel).unwrap();
    let plan = entries
        .iter()
        .find(|entry| entry.path.ends_with(".dist-info/wheelforge.json"))
        .expect("the plan is stored");
    let plan: serde_json::Value = serde_json::from_slice(&plan.data).unwrap();
    assert_eq!(plan["variant"], "lapack");
    assert_eq!(plan["recipe"]["requirements"]["host"][0], "lapack");
    // numpy's build configuration names the LAPACK it found.
    let config = entries
        .iter()
        .find(|entry| entry.path == "numpy/__config__.py")
        .expect("numpy/__config__.py");
    let config = String::from_utf8_lossy(&config.data);
    assert!(
        config.contains("\"name\": \"lapack\"")
            && config.contains("\"detection method\": \"pkgconfig\""),
        "{config}"
    );

    let stdout = run(&[
        "test",
        "numpy",
        "--variant",
        "lapack",
        "--pytest-args",
        "--pyargs numpy.linalg",
    ]);
    common::assert_suite_ratio(
        &build_dir.join("numpy+lapack/test/pytest/report.json"),
        400,
        0.95,
        &stdout,
    );
}

/// A Fortran-backed Python package from PyPI, built by its own meson build with the driver
/// (issue 6): scikit-misc, whose `skmisc.loess` is netlib's Fortran 77 loess called from C and
/// Cython, against the numpy recipe. The wheel's extension module defines the Fortran routines
/// (it imports none of them), and `wheelforge test scikit-misc` runs its import, the recipe's
/// smoke test and scikit-misc's own test suite under WASI next to a native run. Builds numpy
/// first: about 4 minutes on 2 cores.
#[test]
fn scikit_misc_builds_its_fortran_with_the_driver_and_passes_its_tests_under_wasi() {
    // lowesd_ … ehg131_ are loessf.f's; the C callbacks it calls with CHARACTER messages
    // (patch 0002) are linked too.
    assert_fortran_package_passes(
        "scikit-misc",
        "scikit_misc-0.5.3",
        "skmisc/loess/_loess.cpython-314-wasm32-wasi.so",
        &["lowesd_", "lowesf_", "ehg131_", "dqrsl_", "ehg184a_"],
        "scikit-misc 0.5.3 loess:",
        (10, 0.95),
    );
}

/// scipy (issue 6, part 3; on OpenBLAS since issue 21): scipy 1.17.1 built by its meson build
/// against the numpy recipe and the `openblas` recipe (through its Fortran entry points), with
/// FITPACK and ODRPACK compiled by the driver and f2py's Fortran wrappers, and `wheelforge test
/// scipy`: the import of the five tested submodules, the recipe's smoke test (a solve,
/// eigenvalues, quad, brentq, splines, gamma, and that the BLAS is OpenBLAS) and the documented
/// subset of scipy's own suite under WASI next to a native run (docs/scipy.md), at least 90 % of
/// the natively passing tests. Ignored by default: OpenBLAS, numpy and scipy take about 30
/// minutes on 2 cores and the suite another half hour.
#[test]
#[ignore = "about 70 minutes on 2 cores from a clean clone; run with --include-ignored"]
fn scipy_builds_against_openblas_and_passes_its_subset_under_wasi() {
    // FITPACK's Fortran is defined in the module that wraps it, not imported.
    assert_fortran_package_passes(
        "scipy",
        "scipy-1.17.1",
        "scipy/interpolate/_dfitpack.cpython-314-wasm32-wasi.so",
        &["curfit_", "splev_", "surfit_"],
        "scipy 1.17.1 solve:",
        (10_000, 0.90),
    );
}

/// Builds `recipe` (and what it needs) in a fresh directory; checks that the wheel
/// `{wheel}-cp314-cp314-wasi_0_2_wasm32.whl` has `module`, which defines the Fortran routines
/// `defined` rather than importing them; runs `wheelforge test`, whose smoke test prints
/// `smoke`, and requires its suite to have at least `min_native` natively passing tests and
/// `ratio` of them passing under WASI.
fn assert_fortran_package_passes(
    recipe: &str,
    wheel: &str,
    module: &str,
    defined: &[&str],
    smoke: &str,
    (min_native, ratio): (u64, f64),
) {
    fortran_toolchain();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let build_dir = work.join("build");
    let run = |args: &[&str]| succeed(&mut common::repository_wheelforge(work, &build_dir), args);
    run(&["build", recipe]);
    let wheel = work.join(format!(
        "dist/packages/{wheel}-cp314-cp314-wasi_0_2_wasm32.whl"
    ));
    let entries = wheelforge::wheel::read_entries(&wheel).unwrap();
    let entry = entries
        .iter()
        .find(|entry| entry.path == module)
        .unwrap_or_else(|| panic!("{module} is not in {}", wheel.display()));
    let engine = wasmtime::Engine::default();
    let compiled = wasmtime::Module::new(&engine, &entry.data).unwrap();
    let imports: Vec<String> = compiled
        .imports()
        .map(|import| import.name().to_string())
        .collect();
    for fortran in defined {
        assert!(
            !imports.iter().any(|import| import == fortran),
            "{fortran} is imported: {imports:?}"
        );
    }

    let stdout = run(&["test", recipe]);
    assert!(stdout.contains(smoke), "{stdout}");
    common::assert_suite_ratio(
        &build_dir.join(format!("{recipe}/test/pytest/report.json")),
        min_native,
        ratio,
        &stdout,
    );
}

//! The command line as users see it: `--help` texts and the shipped JSON Schema.

use std::process::Command;

fn run(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_wheelforge"))
        .args(args)
        .env_remove("WHEELFORGE_RECIPES")
        .env_remove("WHEELFORGE_OUT")
        .env_remove("WHEELFORGE_BUILD_DIR")
        .env_remove("WHEELFORGE_CACHE_DIR")
        .env_remove("WHEELFORGE_INDEX_URL")
        .env_remove("GITHUB_API_URL")
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?} failed");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn help() {
    insta::assert_snapshot!(run(&["--help"]));
}

#[test]
fn build_help() {
    insta::assert_snapshot!(run(&["build", "--help"]));
}

#[test]
fn serve_help() {
    insta::assert_snapshot!(run(&["serve", "--help"]));
}

#[test]
fn the_shipped_schema_is_current() {
    let shipped = fs_err::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/recipe.schema.json"
    ))
    .unwrap();
    assert_eq!(
        shipped,
        run(&["schema"]),
        "docs/recipe.schema.json is stale: run `cargo run -- schema > docs/recipe.schema.json`"
    );
}

#[test]
fn a_missing_recipe_is_an_error_naming_it() {
    let work = tempfile::tempdir().unwrap();
    fs_err::create_dir_all(work.path().join("recipes")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_wheelforge"))
        .current_dir(work.path())
        .args(["build", "nope"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    insta::assert_snapshot!(String::from_utf8_lossy(&output.stderr));
}

#[test]
fn publish_help() {
    insta::assert_snapshot!(run(&["publish", "--help"]));
}

#[test]
fn toolchain_install_help() {
    insta::assert_snapshot!(run(&["toolchain", "install", "--help"]));
}

/// The Fortran driver's errors as a build system shows them: an option it does not know, and
/// a toolchain without the Fortran part.
#[test]
fn fortran_driver_errors() {
    let fortran = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_wheelforge"))
            .arg("fortran")
            .args(args)
            .env("WHEELFORGE_FORTRAN_CONFIG", "/nonexistent/driver.json")
            .output()
            .unwrap();
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    insta::assert_snapshot!(
        "fortran_driver_unknown_option",
        fortran(&["-qopenmp", "-c", "a.f90"])
    );
    insta::assert_snapshot!(
        "fortran_driver_not_installed",
        fortran(&["-O2", "-c", "a.f90"])
    );
}

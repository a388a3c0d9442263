//! The maintainers' commands (issue 7): `lint` over the real recipes and over broken fixtures
//! (tests/fixtures/lint/), `graph` as text and dot, `skeleton` writing a recipe for a real
//! project that then builds unedited, and the build report rendered by headless Chromium.
//!
//! The lint of the real recipes and the skeleton test reach the package index through pip; the
//! sources and build tools go into the toolchain tests' cache (`WHEELFORGE_TEST_CACHE`, else one
//! under the target directory), as in the other tests.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Repo;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The toolchain tests' cache: the LAPACK recipe's source is a Debian source package, which
/// `lint` fetches with apt inside the toolchain root (installing it there on first use).
fn cache_dir() -> PathBuf {
    common::toolchain_cache()
}

/// `wheelforge ARGS` in `dir`, with the shared test cache and no WHEELFORGE_* settings.
fn wheelforge(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wheelforge"))
        .current_dir(dir)
        .args(args)
        .env("WHEELFORGE_CACHE_DIR", cache_dir())
        .env_remove("WHEELFORGE_RECIPES")
        .env_remove("WHEELFORGE_OUT")
        .env_remove("WHEELFORGE_BUILD_DIR")
        .env_remove("WHEELFORGE_INDEX_URL")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn success(output: Output) -> String {
    assert!(
        output.status.success(),
        "failed:\n{}\n{}",
        stdout(&output),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout(&output)
}

#[test]
fn lint_passes_on_the_real_recipes_and_applies_their_patches() {
    let text = success(wheelforge(manifest_dir(), &["lint"]));
    let set = wheelforge::recipe::RecipeSet::load(
        &manifest_dir().join("recipes"),
        &manifest_dir().join("patches"),
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().take_while(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), set.recipes.len(), "{text}");
    for (line, (name, recipe)) in lines.iter().zip(&set.recipes) {
        let patches = recipe.recipe.source.patches.len();
        let expected = match patches {
            0 => format!("ok    {name}"),
            1 => format!("ok    {name}") + " (1 patch applies)",
            n => format!("ok    {name}") + &format!(" ({n} patches apply)"),
        };
        let squeezed = line.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(
            squeezed,
            expected.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
    assert!(
        text.ends_with(&format!(
            "{n} recipes linted: {n} ok, 0 with errors; 0 errors, 0 warnings\n",
            n = set.recipes.len()
        )),
        "{text}"
    );
}

#[test]
fn lint_reports_every_finding_of_the_broken_fixtures() {
    let output = wheelforge(
        manifest_dir(),
        &["--recipes", "tests/fixtures/lint/recipes", "lint"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn lint_of_named_recipes_passes_when_they_are_clean() {
    let output = wheelforge(
        manifest_dir(),
        &[
            "--recipes",
            "tests/fixtures/lint/recipes",
            "lint",
            "good-patch",
        ],
    );
    insta::assert_snapshot!(success(output));
}

#[test]
fn lint_offline_says_which_patches_it_did_not_apply() {
    let repo = Repo::new();
    repo.recipe(
        "demo",
        &format!(
            "package:\n  name: demo\n  version: 1.0.0\nsource:\n  pypi: demo\n  sha256: {}\n  patches: [0001-fix.patch]\nbuild:\n  backend: pure\ntest:\n  imports: [demo]\nabout:\n  license: MIT\n  summary: demo\n",
            "0".repeat(64)
        ),
    );
    fs_err::create_dir_all(repo.patches().join("demo")).unwrap();
    fs_err::write(
        repo.patches().join("demo/0001-fix.patch"),
        "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
    )
    .unwrap();
    let empty_cache = repo.root().join("cache");
    let output = Command::new(env!("CARGO_BIN_EXE_wheelforge"))
        .current_dir(repo.root())
        .args(["--cache-dir", "cache", "lint", "--offline"])
        .output()
        .unwrap();
    insta::assert_snapshot!(success(output));
    assert!(
        !empty_cache.join("sources/sha256").exists(),
        "--offline downloaded something"
    );
}

/// Issue 16: `cython>=3 junk` passed as a requirement string (only its first characters were
/// checked); the finding points at the junk.
#[test]
fn lint_rejects_a_build_requirement_with_trailing_junk() {
    let repo = Repo::new();
    repo.recipe(
        "demo",
        &format!(
            "package:\n  name: demo\n  version: 1.0.0\nsource:\n  pypi: demo\n  sha256: {}\nbuild:\n  backend: setuptools\nrequirements:\n  build: [meson-python, cython>=3 junk]\ntest:\n  imports: [demo]\nabout:\n  license: MIT\n  summary: demo\n",
            "0".repeat(64)
        ),
    );
    let output = Command::new(env!("CARGO_BIN_EXE_wheelforge"))
        .current_dir(repo.root())
        .args(["--cache-dir", "cache", "lint", "--offline"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    insta::assert_snapshot!(stdout(&output));
}

/// A repository with host, run and test edges, a run cycle and a shared requirement.
fn graph_repo() -> Repo {
    let repo = Repo::new();
    repo.simple_recipe("libbase", &[], &[]);
    repo.simple_recipe("core", &["libbase"], &["helper"]);
    repo.simple_recipe("helper", &[], &["core"]);
    repo.simple_recipe("app", &["core"], &["helper", "libbase"]);
    repo.simple_recipe("testtool", &[], &[]);
    let text = fs_err::read_to_string(repo.recipes().join("app/meta.yaml")).unwrap();
    repo.recipe(
        "app",
        &text.replace(
            "about:",
            "test:\n  imports: [app]\n  requires: [testtool]\nabout:",
        ),
    );
    repo
}

/// Checks dot output with Graphviz when it is installed (it is not required).
fn dot_accepts(dot: &str) {
    let Some(program) = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("dot"))
            .find(|p| p.is_file())
    }) else {
        return;
    };
    use std::io::Write;
    let mut child = Command::new(program)
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dot.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success() && output.stdout.starts_with(b"<?xml"),
        "dot rejected the graph:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn graph_text_and_dot_distinguish_host_run_and_test_edges() {
    let repo = graph_repo();
    let text = success(wheelforge(repo.root(), &["graph"]));
    insta::assert_snapshot!("graph_text_all", text);
    let text = success(wheelforge(repo.root(), &["graph", "core"]));
    insta::assert_snapshot!("graph_text_core", text);
    let dot = success(wheelforge(repo.root(), &["graph", "--format", "dot"]));
    insta::assert_snapshot!("graph_dot_all", dot);
    dot_accepts(&dot);
}

#[test]
fn graph_of_real_recipes() {
    let text = success(wheelforge(
        manifest_dir(),
        &["graph", "python-dateutil", "numpy"],
    ));
    insta::assert_snapshot!("graph_real_text", text);
    let dot = success(wheelforge(
        manifest_dir(),
        &["graph", "--format", "dot", "python-dateutil", "numpy"],
    ));
    insta::assert_snapshot!("graph_real_dot", dot);
    dot_accepts(&dot);
    // numpy's `lapack` variant: the LAPACK recipe becomes a host requirement.
    let variant = success(wheelforge(
        manifest_dir(),
        &["graph", "numpy", "--variant", "lapack"],
    ));
    assert!(
        variant.starts_with("numpy 2.4.6 (variant lapack)\n├── lapack 3.12.1 [host]\n"),
        "{variant}"
    );
    assert!(!text.contains("lapack"), "{text}");
}

#[test]
fn skeleton_refuses_to_overwrite_a_recipe() {
    let repo = Repo::new();
    repo.simple_recipe("more_itertools", &[], &[]);
    let output = wheelforge(repo.root(), &["skeleton", "More-Itertools"]);
    assert!(!output.status.success());
    insta::assert_snapshot!(repo.redact(&String::from_utf8_lossy(&output.stderr)));
}

/// The acceptance: `skeleton` writes a recipe for a small real project on the index,
/// which lints clean and builds with `wheelforge build` unedited into the index.
#[test]
fn skeleton_writes_a_recipe_that_builds_unedited() {
    let repo = Repo::new();
    let text = success(wheelforge(
        repo.root(),
        &["skeleton", "more-itertools", "--version", "11.2.1"],
    ));
    insta::assert_snapshot!("skeleton_output", repo.redact(&text));
    let recipe = fs_err::read_to_string(repo.recipes().join("more-itertools/meta.yaml")).unwrap();
    insta::assert_snapshot!("skeleton_more_itertools_meta_yaml", recipe);

    success(wheelforge(repo.root(), &["lint", "more-itertools"]));
    let built = success(wheelforge(repo.root(), &["build", "more-itertools"]));
    assert!(
        built.contains("1 built, 0 cached, 0 failed, 0 skipped"),
        "{built}"
    );
    let wheel = repo
        .root()
        .join("dist/packages/more_itertools-11.2.1-py3-none-any.whl");
    assert!(wheel.is_file(), "{built}");
    let page =
        fs_err::read_to_string(repo.root().join("dist/simple/more-itertools/index.html")).unwrap();
    assert!(
        page.contains("more_itertools-11.2.1-py3-none-any.whl"),
        "{page}"
    );
    let entries = wheelforge::wheel::read_entries(&wheel).unwrap();
    assert!(
        entries
            .iter()
            .any(|entry| entry.path == "more_itertools/__init__.py")
    );
}

/// A recipe whose source is a directory beside it (setuptools, package NAME with `VALUE = 1`)
/// and one patch replacing `VALUE = {from}` by `VALUE = 2`.
fn local_recipe(repo: &Repo, name: &str, from: u32, host: &[&str]) {
    let source = repo.recipes().join(name).join("src");
    fs_err::create_dir_all(source.join(name)).unwrap();
    fs_err::write(
        source.join("pyproject.toml"),
        format!(
            "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"{name}\"\nversion = \"1.0.0\"\n\n[tool.setuptools]\npackages = [\"{name}\"]\n"
        ),
    )
    .unwrap();
    fs_err::write(source.join(name).join("__init__.py"), "VALUE = 1\n").unwrap();
    fs_err::create_dir_all(repo.patches().join(name)).unwrap();
    fs_err::write(
        repo.patches().join(name).join("0001-value.patch"),
        format!("--- a/{name}/__init__.py\n+++ b/{name}/__init__.py\n@@ -1 +1 @@\n-VALUE = {from}\n+VALUE = 2\n"),
    )
    .unwrap();
    repo.recipe(
        name,
        &format!(
            "package:\n  name: {name}\n  version: 1.0.0\nsource:\n  path: src\n  patches: [0001-value.patch]\nbuild:\n  backend: pure\nrequirements:\n  host: [{}]\ntest:\n  imports: [{name}]\nabout:\n  license: MIT\n  summary: report fixture\n",
            host.join(", ")
        ),
    );
}

/// The value of `name="..."` in an HTML tag's text.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].to_string())
}

/// The text of the first `<td class="CLASS">` in `row`, tags removed.
fn cell(row: &str, class: &str) -> String {
    let start = row
        .find(&format!("<td class=\"{class}\">"))
        .unwrap_or_else(|| panic!("no {class} cell in {row}"));
    let rest = &row[start..];
    let rest = rest[rest.find('>').unwrap() + 1..rest.find("</td>").unwrap()].replace("<br>", " ");
    let mut text = String::new();
    let mut in_tag = false;
    for character in rest.chars() {
        match character {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// Every build writes build/report.json and build/report.html; the page, as headless Chromium
/// renders it, has a row per recipe with its status, wheel, test counts and log link.
#[test]
fn the_build_report_lists_every_recipe_as_chromium_renders_it() {
    use wheelforge::testing::suite::{Counts, RunResult, SuiteReport, compare, write_report};

    let repo = Repo::new();
    local_recipe(&repo, "alpha", 1, &[]);
    local_recipe(&repo, "broken", 7, &[]);
    local_recipe(&repo, "dependent", 1, &["broken"]);
    let first = wheelforge(repo.root(), &["build", "--all"]);
    assert!(!first.status.success());
    assert!(
        stdout(&first).contains("\n1 built, 0 cached, 1 failed, 1 skipped\nreport: "),
        "{}",
        stdout(&first)
    );

    // What `wheelforge test alpha` leaves for a pytest suite, written by its own writer.
    let outcome = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(test, result)| (test.to_string(), result.to_string()))
            .collect()
    };
    let wasi = RunResult {
        outcomes: outcome(&[
            ("t.py::a", "passed"),
            ("t.py::b", "failed"),
            ("t.py::c", "skipped"),
        ]),
        counts: Counts {
            passed: 1,
            failed: 1,
            skipped: 1,
            ..Counts::default()
        },
        attempts: 1,
        ..RunResult::default()
    };
    let native = RunResult {
        outcomes: outcome(&[
            ("t.py::a", "passed"),
            ("t.py::b", "passed"),
            ("t.py::c", "skipped"),
        ]),
        counts: Counts {
            passed: 2,
            skipped: 1,
            ..Counts::default()
        },
        attempts: 1,
        ..RunResult::default()
    };
    let suite_dir = repo.root().join("build/alpha/test/pytest");
    fs_err::create_dir_all(&suite_dir).unwrap();
    write_report(
        &SuiteReport {
            comparison: Some(compare(&wasi, &native)),
            wasi,
            native: Some(native),
            required_ratio: 0.5,
            skip_entries: 0,
        },
        &suite_dir,
    )
    .unwrap();

    // A second run: alpha is cached, beta is new, broken fails again, dependent is skipped.
    local_recipe(&repo, "beta", 1, &[]);
    let second = stdout(&wheelforge(repo.root(), &["build", "--all"]));
    assert!(
        second.contains("1 built, 1 cached, 1 failed, 1 skipped\n"),
        "{second}"
    );
    let report_html = repo.root().join("build/report.html");
    assert!(
        second.ends_with(&format!("report: {}\n", report_html.display())),
        "{second}"
    );

    let json: wheelforge::report::BuildReport = serde_json::from_str(
        &fs_err::read_to_string(repo.root().join("build/report.json")).unwrap(),
    )
    .unwrap();
    let statuses: Vec<(&str, &str)> = json
        .recipes
        .iter()
        .map(|r| (r.name.as_str(), r.status.as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("alpha", "cached"),
            ("beta", "built"),
            ("broken", "failed"),
            ("dependent", "skipped")
        ]
    );
    let beta_wheel = repo
        .root()
        .join("dist/packages/beta-1.0.0-py3-none-any.whl");
    assert_eq!(
        json.recipes[1].wheels[0].size,
        fs_err::metadata(&beta_wheel).unwrap().len()
    );

    let dom = common::chromium::dump_dom(&report_html);
    // Chromium's DOM, not our text: the parser inserted nothing we did not write, but it did
    // parse the page into a table whose rows carry the statuses.
    let rows: Vec<&str> = dom
        .split("<tr ")
        .skip(1)
        .filter(|row| row.starts_with("id=\"recipe-"))
        .map(|row| &row[..row.find("</tr>").unwrap()])
        .collect();
    let seen: Vec<(String, String, String)> = rows
        .iter()
        .map(|row| {
            (
                attribute(row, "data-recipe").unwrap(),
                attribute(row, "data-status").unwrap(),
                cell(row, "status"),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("alpha".into(), "cached".into(), "cached".into()),
            ("beta".into(), "built".into(), "built".into()),
            ("broken".into(), "failed".into(), "failed".into()),
            ("dependent".into(), "skipped".into(), "skipped".into()),
        ],
        "{dom}"
    );
    assert!(
        dom.contains("<p id=\"counts\">1 built, 1 cached, 1 failed, 1 skipped</p>"),
        "{dom}"
    );
    let row = |name: &str| rows[seen.iter().position(|s| s.0 == name).unwrap()];
    assert_eq!(cell(row("alpha"), "wheel"), "alpha-1.0.0-py3-none-any.whl");
    assert_eq!(
        cell(row("alpha"), "tests"),
        "1 passed, 1 failed, 1 skipped, 0 errors, 0 crashed native: 2 passed, 0 failed 50.0 % (required 50 %)"
    );
    assert_eq!(cell(row("beta"), "tests"), "—");
    assert!(
        cell(row("broken"), "detail").contains("patch"),
        "{}",
        row("broken")
    );
    assert_eq!(
        cell(row("dependent"), "detail"),
        "host requirement `broken` failed"
    );
    // Every link in the page resolves from the build directory.
    for row in &rows {
        for link in row.split("href=\"").skip(1) {
            let target = &link[..link.find('"').unwrap()];
            assert!(
                repo.root().join("build").join(target).is_file(),
                "broken link {target} in {row}"
            );
        }
    }
    assert_eq!(
        attribute(row("beta"), "href").as_deref(),
        Some("../dist/packages/beta-1.0.0-py3-none-any.whl")
    );
    assert!(
        row("broken").contains("href=\"broken/build.log\""),
        "{}",
        row("broken")
    );
}

/// A new package with pure dependencies stopped at "missing dependency: X has no recipe":
/// `skeleton --recursive` writes recipes for the run requirements without one, and theirs,
/// once each, keeping recipes that exist.
#[test]
fn skeleton_recursive_writes_the_missing_requirements() {
    let repo = Repo::new();
    repo.simple_recipe("idna", &[], &[]);
    let text = success(wheelforge(
        repo.root(),
        &["skeleton", "--recursive", "requests", "--version", "2.34.2"],
    ));
    let mut written: Vec<String> = fs_err::read_dir(repo.recipes())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "certifi",
            "charset-normalizer",
            "idna",
            "requests",
            "urllib3"
        ],
        "{text}"
    );
    assert_eq!(text.matches("wrote ").count(), 4, "{text}");
    assert!(
        text.contains("written next: charset-normalizer, urllib3, certifi"),
        "{text}"
    );
    let requests = fs_err::read_to_string(repo.recipes().join("requests/meta.yaml")).unwrap();
    assert!(requests.contains("  version: 2.34.2\n"), "{requests}");
    assert!(
        requests.contains("run: [charset-normalizer, idna, urllib3, certifi]"),
        "{requests}"
    );
}

/// A build requirement a backend declares only through `get_requires_for_build_wheel` (here an
/// in-tree backend delegating to flit_core, with no static requirement) failed with "No
/// matching distribution found": the pure build fetches it into the wheelhouse first. A fresh
/// cache, so that no earlier build left flit_core there.
#[test]
fn a_dynamic_build_requirement_is_fetched_into_the_wheelhouse() {
    let repo = Repo::new();
    let project = repo.root().join("dyn-demo");
    for (path, text) in [
        (
            "pyproject.toml",
            "[build-system]\nrequires = []\nbuild-backend = \"dyn_backend\"\nbackend-path = [\"_build\"]\n\n[project]\nname = \"dyn-demo\"\nversion = \"0.1\"\ndescription = \"dynamic build requirements\"\nlicense = \"MIT\"\n",
        ),
        (
            "_build/dyn_backend.py",
            "def get_requires_for_build_wheel(config_settings=None):\n    return [\"flit_core>=3.9,<4\"]\n\n\ndef build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n    from flit_core import buildapi\n    return buildapi.build_wheel(wheel_directory, config_settings, metadata_directory)\n",
        ),
        (
            "dyn_demo/__init__.py",
            "\"\"\"dynamic build requirements\"\"\"\n__version__ = \"0.1\"\n",
        ),
    ] {
        let path = project.join(path);
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(path, text).unwrap();
    }
    let cache = repo.root().join("fresh-cache");
    let output = Command::new(env!("CARGO_BIN_EXE_wheelforge"))
        .current_dir(repo.root())
        .args(["build", "./dyn-demo"])
        .env("WHEELFORGE_CACHE_DIR", &cache)
        .env_remove("WHEELFORGE_RECIPES")
        .env_remove("WHEELFORGE_OUT")
        .env_remove("WHEELFORGE_BUILD_DIR")
        .output()
        .unwrap();
    let text = success(output);
    assert!(
        repo.root()
            .join("dist/packages/dyn_demo-0.1-py3-none-any.whl")
            .is_file(),
        "{text}"
    );
    let wheelhouse: Vec<String> = fs_err::read_dir(cache.join("wheelhouse"))
        .unwrap()
        .flat_map(|dir| fs_err::read_dir(dir.unwrap().path()).unwrap())
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        wheelhouse.iter().any(|name| name.starts_with("flit_core-")),
        "{wheelhouse:?}"
    );
}

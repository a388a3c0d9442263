//! The pipeline on a tiny local package: a `file://` sdist made here, a patch, an extra file,
//! a failing recipe that must not stop unrelated ones, and its dependents skipped.
//! Build tools (setuptools) come through pip into a cache under the target directory.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::Repo;
use wheelforge::graph::Target;
use wheelforge::pipeline::{BuildError, Outcome, Settings, run_build};
use wheelforge::reporter::SilentReporter;
use wheelforge::source::SourceError;

/// Writes `NAME-1.0.0.tar.gz`, a setuptools sdist of package NAME with `VALUE = 1`.
fn make_sdist(dir: &Path, name: &str) -> PathBuf {
    let root = format!("{name}-1.0.0");
    let files = [
        (
            format!("{root}/pyproject.toml"),
            format!(
                "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"{name}\"\nversion = \"1.0.0\"\nrequires-python = \">=3.8\"\n\n[tool.setuptools]\npackages = [\"{name}\"]\n"
            ),
        ),
        (
            format!("{root}/{name}/__init__.py"),
            "VALUE = 1\n".to_string(),
        ),
    ];
    let path = dir.join(format!("{root}.tar.gz"));
    let file = fs_err::File::create(&path).unwrap();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::default(),
    ));
    for (name, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, name, text.as_bytes())
            .unwrap();
    }
    builder
        .into_inner()
        .unwrap()
        .finish()
        .unwrap()
        .flush()
        .unwrap();
    path
}

const GOOD_PATCH: &str = "From: test\nSubject: [PATCH] bump VALUE\n\n---\ndiff --git a/NAME/__init__.py b/NAME/__init__.py\n--- a/NAME/__init__.py\n+++ b/NAME/__init__.py\n@@ -1 +1 @@\n-VALUE = 1\n+VALUE = 2\n";
const BAD_PATCH: &str =
    "--- a/NAME/__init__.py\n+++ b/NAME/__init__.py\n@@ -1 +1 @@\n-VALUE = 7\n+VALUE = 8\n";

/// A recipe for a local sdist with one patch, an extra file and the given host requirements.
fn local_recipe(repo: &Repo, name: &str, patch: &str, host: &[&str]) {
    let sdist = make_sdist(repo.root(), name);
    let sha256 = wheelforge::source::sha256_file(&sdist).unwrap();
    fs_err::create_dir_all(repo.patches().join(name)).unwrap();
    fs_err::write(
        repo.patches().join(name).join("0001-value.patch"),
        patch.replace("NAME", name),
    )
    .unwrap();
    repo.recipe(
        name,
        &format!(
            "package:\n  name: {name}\n  version: 1.0.0\nsource:\n  url: file://{}\n  sha256: {sha256}\n  patches: [0001-value.patch]\n  extras:\n    - from: extra.py\n      to: {name}/extra.py\nbuild:\n  backend: pure\nrequirements:\n  host: [{}]\nabout:\n  license: MIT\n  summary: local test package\n",
            sdist.display(),
            host.join(", ")
        ),
    );
    fs_err::write(repo.recipes().join(name).join("extra.py"), "EXTRA = True\n").unwrap();
}

fn settings(repo: &Repo) -> Settings {
    Settings {
        recipes_dir: repo.recipes(),
        patches_dir: repo.patches(),
        out_dir: repo.root().join("dist"),
        build_dir: repo.root().join("build"),
        cache_dir: Path::new(env!("CARGO_TARGET_TMPDIR")).join("wheelforge-cache"),
        jobs: 2,
        force: false,
        keep_going: true,
        index_url: None,
        variant: None,
        local_recipes: Vec::new(),
    }
}

fn wheel_file(wheel: &Path, name: &str) -> String {
    let entries = wheelforge::wheel::read_entries(wheel).unwrap();
    let entry = entries
        .iter()
        .find(|e| e.path == name)
        .unwrap_or_else(|| panic!("{name} not in {}", wheel.display()));
    String::from_utf8(entry.data.clone()).unwrap()
}

#[test]
fn patches_and_extras_reach_the_wheel_and_the_plan_is_stored() {
    let repo = Repo::new();
    local_recipe(&repo, "alpha", GOOD_PATCH, &[]);
    let summary = run_build(&settings(&repo), &[Target::All], &SilentReporter).unwrap();
    assert!(summary.succeeded(), "{summary:?}");
    let wheel = repo
        .root()
        .join("dist/packages/alpha-1.0.0-py3-none-any.whl");
    assert_eq!(wheel_file(&wheel, "alpha/__init__.py"), "VALUE = 2\n");
    assert_eq!(wheel_file(&wheel, "alpha/extra.py"), "EXTRA = True\n");
    let plan: serde_json::Value =
        serde_json::from_str(&wheel_file(&wheel, "alpha-1.0.0.dist-info/wheelforge.json")).unwrap();
    assert_eq!(plan["recipe"]["package"]["name"], "alpha");
    assert_eq!(plan["patches"][0]["file"], "0001-value.patch");
    assert_eq!(plan["tag"], "py3-none-any");
    assert!(
        wheel_file(&wheel, "alpha-1.0.0.dist-info/WHEEL").contains("Tag: py3-none-any\n"),
        "WHEEL is not retagged"
    );
    let page = fs_err::read_to_string(repo.root().join("dist/simple/alpha/index.html")).unwrap();
    assert!(page.contains("data-requires-python=\"&gt;=3.8\""), "{page}");
}

#[test]
fn a_failing_patch_fails_its_recipe_skips_dependents_and_spares_the_rest() {
    let repo = Repo::new();
    local_recipe(&repo, "broken", BAD_PATCH, &[]);
    local_recipe(&repo, "dependent", GOOD_PATCH, &["broken"]);
    local_recipe(&repo, "unrelated", GOOD_PATCH, &[]);
    let summary = run_build(&settings(&repo), &[Target::All], &SilentReporter).unwrap();
    let outcome = |name: &str| {
        summary
            .results
            .iter()
            .find(|r| r.name == name)
            .unwrap()
            .outcome
            .clone()
    };
    assert!(matches!(outcome("unrelated"), Outcome::Built { .. }));
    assert_eq!(
        outcome("dependent"),
        Outcome::Skipped {
            because: "host requirement `broken` failed".into()
        }
    );
    let Outcome::Failed { error } = outcome("broken") else {
        panic!("broken did not fail: {summary:?}");
    };
    // The error keeps its stage and its type up to the CLI.
    assert_eq!(error.stage(), Some(wheelforge::reporter::Stage::Patch));
    assert!(
        matches!(*error, BuildError::Patch(SourceError::Patch(_))),
        "{error:?}"
    );
    insta::assert_snapshot!(repo.redact(&error.to_string()));
    assert!(!summary.succeeded());
    assert_eq!(
        (
            summary.count("built"),
            summary.count("failed"),
            summary.count("skipped")
        ),
        (1, 1, 1)
    );
    // The failed recipe's log exists where the summary says.
    let log = &summary
        .results
        .iter()
        .find(|r| r.name == "broken")
        .unwrap()
        .log;
    assert!(log.is_file());
}

#[test]
fn without_keep_going_the_run_stops_after_a_failed_level() {
    let repo = Repo::new();
    local_recipe(&repo, "broken", BAD_PATCH, &[]);
    local_recipe(&repo, "later", GOOD_PATCH, &["unrelated"]);
    local_recipe(&repo, "unrelated", GOOD_PATCH, &[]);
    let mut settings = settings(&repo);
    settings.keep_going = false;
    let summary = run_build(&settings, &[Target::All], &SilentReporter).unwrap();
    let later = summary.results.iter().find(|r| r.name == "later").unwrap();
    assert!(
        matches!(&later.outcome, Outcome::Skipped { because } if because.contains("`broken` failed")),
        "{summary:?}"
    );
}

/// Serves a PEP 691 project page for `alpha` and the sdist bytes on 127.0.0.1, for `requests`
/// requests, and returns the index URL.
fn fake_index(sdist: Vec<u8>, listed_sha256: String, requests: usize) -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    std::thread::spawn(move || {
        for request in server.incoming_requests().take(requests) {
            let response = match request.url() {
                "/simple/alpha/" => tiny_http::Response::from_string(format!(
                    r#"{{"meta":{{"api-version":"1.0"}},"name":"alpha","files":[{{"filename":"alpha-1.0.0.tar.gz","url":"../../files/alpha-1.0.0.tar.gz","hashes":{{"sha256":"{listed_sha256}"}}}}]}}"#
                )),
                "/files/alpha-1.0.0.tar.gz" => tiny_http::Response::from_data(sdist.clone()),
                _ => tiny_http::Response::from_string("not found").with_status_code(404),
            };
            request.respond(response).unwrap();
        }
    });
    format!("http://127.0.0.1:{port}/simple")
}

#[test]
fn sources_come_from_a_configured_index_url_and_are_verified() {
    let repo = Repo::new();
    let sdist_path = make_sdist(repo.root(), "alpha");
    let sdist = fs_err::read(&sdist_path).unwrap();
    let sha256 = wheelforge::source::sha256_file(&sdist_path).unwrap();
    repo.recipe(
        "alpha",
        &format!("package:\n  name: alpha\n  version: 1.0.0\nsource:\n  pypi: alpha\n  sha256: {sha256}\nbuild:\n  backend: pure\nabout:\n  license: MIT\n  summary: demo\n"),
    );
    let set = wheelforge::recipe::RecipeSet::load(&repo.recipes(), &repo.patches()).unwrap();
    let python = wheelforge::toolchain::HostPython::discover().unwrap();
    let fetch = |index_url: String, cache: &Path| {
        wheelforge::source::SourceCache::new(cache).fetch(
            set.get("alpha").unwrap(),
            &python,
            &wheelforge::source::FetchSettings {
                index_url: Some(index_url),
                ..Default::default()
            },
            &repo.root().join("fetch.log"),
            &SilentReporter,
        )
    };

    let cache = repo.root().join("cache");
    let wheelforge::source::FetchedSource::Archive(archive) =
        fetch(fake_index(sdist.clone(), sha256.clone(), 2), &cache).unwrap()
    else {
        panic!("an index source is an archive");
    };
    assert_eq!(wheelforge::source::sha256_file(&archive).unwrap(), sha256);
    assert!(archive.starts_with(cache.join("sources/sha256").join(&sha256)));
    // Cached now: a dead index is never asked.
    let again = fetch("http://127.0.0.1:9/simple".into(), &cache).unwrap();
    assert_eq!(again, wheelforge::source::FetchedSource::Archive(archive));

    // The index serves other bytes than the recipe pins: refused, nothing cached.
    let other_cache = repo.root().join("other-cache");
    let mut tampered = sdist;
    tampered.extend_from_slice(b"tampered");
    let error = fetch(fake_index(tampered, "00".repeat(32), 2), &other_cache).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("sha256 mismatch for alpha-1.0.0.tar.gz\n"),
        "{error}"
    );
    assert!(!other_cache.join("sources/sha256").join(&sha256).exists());
}

#[test]
fn a_variant_builds_into_its_own_index_with_its_host_requirements() {
    let repo = Repo::new();
    local_recipe(&repo, "alpha", GOOD_PATCH, &[]);
    local_recipe(&repo, "beta", GOOD_PATCH, &[]);
    let meta = repo.recipes().join("alpha/meta.yaml");
    let text = fs_err::read_to_string(&meta).unwrap();
    fs_err::write(
        &meta,
        format!(
            "{text}variants:\n  with-beta:\n    summary: alpha built after beta\n    requirements:\n      host: [beta]\n"
        ),
    )
    .unwrap();

    let mut variant = settings(&repo);
    variant.variant = Some("with-beta".into());
    let summary = run_build(&variant, &[Target::Name("alpha".into())], &SilentReporter).unwrap();
    assert!(summary.succeeded(), "{summary:?}");
    let dist = repo.root().join("dist");
    let wheel = dist.join("variants/with-beta/packages/alpha-1.0.0-py3-none-any.whl");
    let plan: serde_json::Value =
        serde_json::from_str(&wheel_file(&wheel, "alpha-1.0.0.dist-info/wheelforge.json")).unwrap();
    assert_eq!(plan["variant"], "with-beta");
    assert_eq!(plan["recipe"]["requirements"]["host"][0], "beta");
    assert!(plan["recipe"].get("variants").is_none(), "{plan}");
    // The host requirement went to the main index; the variant did not.
    assert!(dist.join("packages/beta-1.0.0-py3-none-any.whl").is_file());
    assert!(!dist.join("packages/alpha-1.0.0-py3-none-any.whl").exists());
    assert!(
        dist.join("variants/with-beta/simple/alpha/index.html")
            .is_file()
    );
    assert!(
        repo.root()
            .join("build/alpha+with-beta/state.json")
            .is_file()
    );

    // The default build is unaffected by the declaration and lands in the main index.
    let summary = run_build(
        &settings(&repo),
        &[Target::Name("alpha".into())],
        &SilentReporter,
    )
    .unwrap();
    assert!(summary.succeeded(), "{summary:?}");
    let wheel = dist.join("packages/alpha-1.0.0-py3-none-any.whl");
    let plan: serde_json::Value =
        serde_json::from_str(&wheel_file(&wheel, "alpha-1.0.0.dist-info/wheelforge.json")).unwrap();
    assert!(plan.get("variant").is_none(), "{plan}");
    assert_eq!(
        plan["recipe"]["requirements"]["host"],
        serde_json::json!([])
    );

    // A variant names one recipe, and one it has.
    let error = run_build(&variant, &[Target::All], &SilentReporter).unwrap_err();
    assert!(
        error.to_string().contains("needs exactly one recipe name"),
        "{error}"
    );
    let mut unknown = settings(&repo);
    unknown.variant = Some("fast".into());
    let error = run_build(&unknown, &[Target::Name("beta".into())], &SilentReporter).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("recipe `beta` has no variant `fast`")
            && error.to_string().contains("declares no `variants:`"),
        "{error}"
    );
}

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::*;

/// A pure recipe: `(name, host, run, test)`.
type Spec<'a> = (&'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str]);

/// A recipes directory with pure recipes.
fn recipes(dir: &Path, specs: &[Spec]) -> RecipeSet {
    for (name, host, run, test) in specs {
        let recipe_dir = dir.join("recipes").join(name);
        fs_err::create_dir_all(&recipe_dir).unwrap();
        fs_err::write(
            recipe_dir.join("meta.yaml"),
            format!(
                "package:\n  name: {name}\n  version: 1.0.0\nsource:\n  url: file:///nonexistent/{name}.tar.gz\n  sha256: {}\nbuild:\n  backend: pure\nrequirements:\n  host: [{}]\n  run: [{}]\ntest:\n  requires: [{}]\nabout:\n  license: MIT\n  summary: test\n",
                "0".repeat(64),
                host.join(", "),
                run.join(", "),
                test.join(", ")
            ),
        )
        .unwrap();
    }
    RecipeSet::load(&dir.join("recipes"), &dir.join("patches")).unwrap()
}

fn levels_of(set: &RecipeSet) -> BTreeMap<String, usize> {
    levels(set).unwrap()
}

#[test]
fn levels_count_host_run_and_test_requirements() {
    let dir = tempfile::tempdir().unwrap();
    let set = recipes(
        dir.path(),
        &[
            ("base", &[], &[], &[]),
            ("tool", &[], &[], &[]),
            ("lib", &["base"], &[], &[]),
            ("app", &[], &["lib"], &[]),
            ("checked", &[], &[], &["app", "tool"]),
        ],
    );
    assert_eq!(
        levels_of(&set),
        BTreeMap::from([
            ("app".to_string(), 2),
            ("base".to_string(), 0),
            ("checked".to_string(), 3),
            ("lib".to_string(), 1),
            ("tool".to_string(), 0),
        ])
    );
}

#[test]
fn a_run_cycle_shares_one_level() {
    let dir = tempfile::tempdir().unwrap();
    let set = recipes(
        dir.path(),
        &[
            ("base", &[], &[], &[]),
            ("left", &["base"], &["right"], &[]),
            ("right", &[], &["left"], &[]),
            ("top", &[], &["right"], &[]),
        ],
    );
    let levels = levels_of(&set);
    assert_eq!(levels["base"], 0);
    assert_eq!(levels["left"], 1);
    assert_eq!(levels["right"], 1, "{levels:?}");
    assert_eq!(levels["top"], 2);
}

#[test]
fn each_level_is_dealt_into_at_most_n_shards() {
    let dir = tempfile::tempdir().unwrap();
    let set = recipes(
        dir.path(),
        &[
            ("a", &[], &[], &[]),
            ("b", &[], &[], &[]),
            ("c", &[], &[], &[]),
            ("d", &[], &[], &[]),
            ("e", &[], &[], &[]),
            ("x", &[], &["a", "b"], &[]),
        ],
    );
    let matrix = matrix(&set, None, 2).unwrap();
    let summary: Vec<(String, usize, String)> = matrix
        .include
        .iter()
        .map(|s| (s.shard.clone(), s.level, s.recipes.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            ("0-0".to_string(), 0, "a c e".to_string()),
            ("0-1".to_string(), 0, "b d".to_string()),
            ("1-0".to_string(), 1, "x".to_string()),
        ]
    );
    // The sources key covers the closure: `x` builds `a` and `b` too.
    assert_ne!(matrix.include[2].sources_key, matrix.include[0].sources_key);
    assert!(matrix.include.iter().all(|s| !s.native));

    let selected = BTreeSet::from(["e".to_string(), "x".to_string()]);
    let only = super::matrix(&set, Some(&selected), 8).unwrap();
    assert_eq!(only.recipes().collect::<Vec<_>>(), ["e", "x"]);
    assert!(
        super::matrix(&set, Some(&BTreeSet::new()), 8)
            .unwrap()
            .include
            .is_empty()
    );
}

#[test]
fn too_many_jobs_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..300).map(|i| format!("r{i}")).collect();
    let specs: Vec<Spec> = names
        .iter()
        .map(|n| (n.as_str(), &[][..], &[][..], &[][..]))
        .collect();
    let set = recipes(dir.path(), &specs);
    let error = matrix(&set, None, 1000).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the matrix would have 300 jobs; GitHub Actions runs at most 256 from one matrix\n  help: pass a smaller --shards (it is the most shards per dependency level)"
    );
    assert_eq!(matrix(&set, None, 100).unwrap().include.len(), 100);
}

#[test]
fn a_fortran_recipe_puts_the_fortran_part_in_every_shards_toolchain_key() {
    let dir = tempfile::tempdir().unwrap();
    recipes(
        dir.path(),
        &[("plain", &[], &[], &[]), ("user", &[], &[], &[])],
    );
    let plain = matrix(
        &RecipeSet::load(&dir.path().join("recipes"), &dir.path().join("patches")).unwrap(),
        None,
        2,
    )
    .unwrap();
    assert!(plain.include.iter().all(|shard| !shard.fortran));
    let base_key = plain.include[0].toolchain_key.clone();
    assert_eq!(
        base_key,
        format!(
            "wasi-toolchain-format-{}",
            crate::toolchain::wasi::TOOLCHAIN_FORMAT
        )
    );

    // `user` becomes a Fortran library recipe.
    let user = dir.path().join("recipes/user/meta.yaml");
    let text = fs_err::read_to_string(&user).unwrap().replace(
        "build:\n  backend: pure\n",
        "build:\n  backend: static_library\n  fortran: true\n  script: make install\n",
    );
    let text = text.replace("test:\n  requires: []\n", "");
    fs_err::write(&user, text).unwrap();
    let set = RecipeSet::load(&dir.path().join("recipes"), &dir.path().join("patches")).unwrap();
    let with_fortran = matrix(&set, None, 2).unwrap();
    let fortran: Vec<(&str, bool)> = with_fortran
        .include
        .iter()
        .map(|shard| (shard.recipes.as_str(), shard.fortran))
        .collect();
    assert_eq!(fortran, [("plain", false), ("user", true)]);
    // One toolchain job serves every shard, so every key names the Fortran part.
    for shard in &with_fortran.include {
        assert_eq!(
            shard.toolchain_key,
            format!(
                "{base_key}-fortran-format-{}",
                crate::toolchain::fortran::install::FORTRAN_FORMAT
            )
        );
    }
}

#[test]
fn a_shard_lists_its_recipes_variants_and_needs_what_they_need() {
    let dir = tempfile::tempdir().unwrap();
    recipes(
        dir.path(),
        &[
            ("plain", &[], &[], &[]),
            ("user", &[], &[], &[]),
            ("lib", &[], &[], &[]),
        ],
    );
    // `lib` becomes a Fortran library recipe, which only `user`'s variant `fast` needs.
    let lib = dir.path().join("recipes/lib/meta.yaml");
    let text = fs_err::read_to_string(&lib)
        .unwrap()
        .replace(
            "build:\n  backend: pure\n",
            "build:\n  backend: static_library\n  fortran: true\n  script: make install\n",
        )
        .replace("test:\n  requires: []\n", "");
    fs_err::write(&lib, text).unwrap();
    let user = dir.path().join("recipes/user/meta.yaml");
    let declared = fs_err::read_to_string(&user).unwrap();
    let text = declared.clone()
        + "variants:\n  fast:\n    summary: on lib\n    requirements:\n      host: [lib]\n  slow:\n    summary: plain\n";
    fs_err::write(&user, text).unwrap();
    let set = RecipeSet::load(&dir.path().join("recipes"), &dir.path().join("patches")).unwrap();

    let shards = matrix(&set, None, 3).unwrap();
    let rows: Vec<(&str, &str, bool)> = shards
        .include
        .iter()
        .map(|shard| {
            (
                shard.recipes.as_str(),
                shard.variants.as_str(),
                shard.fortran,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("lib", "", true),
            ("plain", "", false),
            ("user", "user:fast user:slow", true)
        ]
    );
    assert!(
        serde_json::to_string(&shards)
            .unwrap()
            .contains(r#""variants":"user:fast user:slow""#)
    );
    // The variant's closure (lib's source) is part of the shard's source-cache key.
    let only_user = BTreeSet::from(["user".to_string()]);
    let with_variants = matrix(&set, Some(&only_user), 3).unwrap();
    fs_err::write(&user, &declared).unwrap();
    let set = RecipeSet::load(&dir.path().join("recipes"), &dir.path().join("patches")).unwrap();
    let without_variants = matrix(&set, Some(&only_user), 3).unwrap();
    assert_eq!(without_variants.include[0].variants, "");
    assert_ne!(
        with_variants.include[0].sources_key,
        without_variants.include[0].sources_key
    );
}

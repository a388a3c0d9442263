//! The evaluated build plan of one recipe, and its rebuild key.
//!
//! A recipe is what the maintainer wrote; a plan is what is actually built: the recipe with the
//! patches' digests, the tag, the toolchain identity and wheelforge's build version filled in.
//! The plan is stored in every wheel (`<dist-info>/wheelforge.json`), so a wheel says how it was
//! made. The rebuild key hashes everything that can change a build's output — the recipe
//! without its `test` section and its `variants` (a variant build hashes the variant applied
//! and its name), the patches, the source digest, the toolchain identity, this
//! version's build format and the keys of host dependencies — and nothing else (no mtimes, no
//! comments). `test` says how a wheel is proven, not what is in it: editing a skip list reruns
//! `wheelforge test`, it does not rebuild the wheel (as cargo does not rebuild a library when
//! its tests change).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::recipe::{LoadedRecipe, Recipe, Test};
use crate::tags::WheelTag;

/// Bumped whenever wheelforge changes how it turns the same inputs into a wheel or a library
/// archive (3: pkg-config files in library archives are relocated, abi3 wheels keep their tag;
/// 4: their private link flags are public, as a static-only prefix needs; wheels' extension
/// modules lose their DWARF).
pub const BUILD_FORMAT_VERSION: u32 = 4;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PatchDigest {
    pub file: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildPlan {
    pub wheelforge_build_format: u32,
    /// The recipe as built: its `test` section and its variants left out, the built variant
    /// (if any) applied.
    pub recipe: Recipe,
    /// The variant built (`wheelforge build NAME --variant V`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub patches: Vec<PatchDigest>,
    /// The tag the build targets. A wheel whose extension modules all use the stable ABI (and
    /// whose backend tagged it `cp3X-abi3`) carries `cp3X-abi3-wasi_0_2_wasm32` instead, which
    /// every installer for this target accepts (docs/platform-tag.md).
    pub tag: String,
    pub toolchain_identity: String,
    /// Rebuild keys of the host requirements this build used.
    pub host_dependencies: BTreeMap<String, String>,
    /// The hash of all of the above plus the recipe text: the rebuild key.
    pub key: String,
}

impl BuildPlan {
    pub fn evaluate(
        loaded: &LoadedRecipe,
        patches_dir: &Path,
        toolchain_identity: &str,
        host_dependencies: BTreeMap<String, String>,
    ) -> std::io::Result<BuildPlan> {
        let mut built = loaded.recipe.clone();
        built.test = Test::default();
        // Declaring a variant does not change the default build.
        built.variants.clear();
        let recipe_json = serde_json::to_vec(&built).expect("recipes always serialize");
        let mut key = Sha256::new();
        key.update(format!("format {BUILD_FORMAT_VERSION}\n"));
        if let Some(variant) = &loaded.variant {
            key.update(format!("variant {variant}\n"));
        }
        key.update(format!("recipe {}\n", recipe_json.len()));
        key.update(&recipe_json);
        let mut patches = Vec::new();
        for patch in &loaded.recipe.source.patches {
            let bytes = fs_err::read(patches_dir.join(loaded.name()).join(patch.as_str()))?;
            let sha256 = hex::encode(Sha256::digest(&bytes));
            key.update(format!("patch {patch} {sha256}\n"));
            patches.push(PatchDigest {
                file: patch.to_string(),
                sha256,
            });
        }
        for extra in &loaded.recipe.source.extras {
            let bytes = fs_err::read(loaded.dir().join(extra.from.as_str()))?;
            key.update(format!(
                "extra {} {} {}\n",
                extra.from,
                extra.to,
                hex::encode(Sha256::digest(&bytes))
            ));
        }
        match &loaded.recipe.source.path {
            Some(path) => {
                let tree = crate::digest::sha256_tree(&loaded.dir().join(path.as_str()))?;
                key.update(format!("source-tree {tree}\n"));
            }
            None => key.update(format!(
                "source {}\n",
                loaded.recipe.source.archive_sha256()
            )),
        }
        key.update(format!("toolchain {toolchain_identity}\n"));
        for (name, dependency_key) in &host_dependencies {
            key.update(format!("host {name} {dependency_key}\n"));
        }
        Ok(BuildPlan {
            wheelforge_build_format: BUILD_FORMAT_VERSION,
            recipe: built,
            variant: loaded.variant.clone(),
            patches,
            tag: tag_for(&loaded.recipe).to_string(),
            toolchain_identity: toolchain_identity.to_string(),
            host_dependencies,
            key: hex::encode(key.finalize()),
        })
    }

    /// The plan as stored in the wheel: pretty, stable JSON with a trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("plans always serialize");
        bytes.push(b'\n');
        bytes
    }
}

/// The tag a recipe's wheel carries: pure recipes are `py3-none-any`, everything else targets
/// CPython 3.14 on WASI 0.2.
pub fn tag_for(recipe: &Recipe) -> WheelTag {
    match recipe.build.backend {
        crate::recipe::BackendKind::Pure => WheelTag::pure(),
        _ => WheelTag::cpython_wasi(14),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(dir: &Path, text: &str) -> String {
        let recipe = dir.join("demo/meta.yaml");
        fs_err::create_dir_all(recipe.parent().unwrap()).unwrap();
        fs_err::write(&recipe, text).unwrap();
        let loaded = crate::recipe::load_recipe(&recipe, &dir.join("patches")).unwrap();
        BuildPlan::evaluate(&loaded, &dir.join("patches"), "toolchain", BTreeMap::new())
            .unwrap()
            .key
    }

    const RECIPE: &str = "package:\n  name: demo\n  version: 1.0.0\nsource:\n  pypi: demo\n  \
        sha256: 0000000000000000000000000000000000000000000000000000000000000000\n\
        build:\n  backend: pure\ntest:\n  imports: [demo]\n\
        about:\n  license: MIT\n  summary: A demo\n";

    #[test]
    fn editing_the_test_section_or_a_comment_keeps_the_rebuild_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = key_of(dir.path(), RECIPE);
        let tests_edited = RECIPE.replace(
            "  imports: [demo]\n",
            "  imports: [demo, demo.sub]\n  command: print(1)\n",
        );
        assert_eq!(key_of(dir.path(), &tests_edited), key);
        let commented = format!("# a maintainer's note\n{RECIPE}");
        assert_eq!(key_of(dir.path(), &commented), key);
    }

    #[test]
    fn editing_what_is_built_changes_the_rebuild_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = key_of(dir.path(), RECIPE);
        for edited in [
            RECIPE.replace("version: 1.0.0", "version: 1.0.1"),
            RECIPE.replace("summary: A demo", "summary: Another demo"),
            RECIPE.replace(
                "  backend: pure\n",
                "  backend: pure\n  environment:\n    DEMO: \"1\"\n",
            ),
        ] {
            assert_ne!(key_of(dir.path(), &edited), key, "{edited}");
        }
    }

    #[test]
    fn declaring_a_variant_keeps_the_default_key_and_building_one_changes_it() {
        let dir = tempfile::tempdir().unwrap();
        let key = key_of(dir.path(), RECIPE);
        let with_variants = format!(
            "{RECIPE}variants:\n  fast:\n    summary: Faster\n    build:\n      cflags: [-O3]\n      \
             environment: {{DEMO: \"2\"}}\n    requirements:\n      host: [other]\n  \
             plain:\n    summary: Nothing added\n"
        );
        assert_eq!(key_of(dir.path(), &with_variants), key);

        let recipe = dir.path().join("demo/meta.yaml");
        let loaded = crate::recipe::load_recipe(&recipe, &dir.path().join("patches")).unwrap();
        let fast = loaded.with_variant("fast").unwrap();
        assert_eq!(fast.work_name(), "demo+fast");
        assert_eq!(fast.recipe.build.cflags, ["-O3"]);
        assert_eq!(fast.recipe.build.environment["DEMO"], "2");
        assert_eq!(fast.recipe.requirements.host[0].as_str(), "other");
        assert!(fast.recipe.variants.is_empty());
        let plan = |loaded: &LoadedRecipe| {
            BuildPlan::evaluate(
                loaded,
                &dir.path().join("patches"),
                "toolchain",
                BTreeMap::new(),
            )
            .unwrap()
        };
        let fast_plan = plan(&fast);
        assert_eq!(fast_plan.variant.as_deref(), Some("fast"));
        assert_ne!(fast_plan.key, key);
        // A variant that adds nothing still builds apart from the default.
        let plain = plan(&loaded.with_variant("plain").unwrap());
        assert_ne!(plain.key, key);
        assert_ne!(plain.key, fast_plan.key);
        let unknown = loaded.with_variant("slow").unwrap_err().to_string();
        assert!(unknown.contains("has no variant `slow`"), "{unknown}");
        assert!(
            unknown.contains("its variants are: fast, plain"),
            "{unknown}"
        );
    }
}

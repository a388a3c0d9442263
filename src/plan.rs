//! The evaluated build plan of one recipe, and its rebuild key.
//!
//! A recipe is what the maintainer wrote; a plan is what is actually built: the recipe with the
//! patches' digests, the tag, the toolchain identity and wheelforge's build version filled in.
//! The plan is stored in every wheel (`<dist-info>/wheelforge.json`), so a wheel says how it was
//! made. The rebuild key hashes everything that can change a build's output — the recipe text,
//! the patches, the source digest, the toolchain identity, this version's build format and the
//! keys of host dependencies — and nothing else (no mtimes).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::recipe::{LoadedRecipe, Recipe};
use crate::tags::WheelTag;

/// Bumped whenever wheelforge changes how it turns the same inputs into a wheel.
pub const BUILD_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PatchDigest {
    pub file: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildPlan {
    pub wheelforge_build_format: u32,
    pub recipe: Recipe,
    pub patches: Vec<PatchDigest>,
    /// The tag the wheel gets.
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
        let mut key = Sha256::new();
        key.update(format!("format {BUILD_FORMAT_VERSION}\n"));
        key.update(format!("recipe {}\n", loaded.text.len()));
        key.update(loaded.text.as_bytes());
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
            recipe: loaded.recipe.clone(),
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

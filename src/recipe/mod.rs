//! Recipes: the `recipes/<name>/meta.yaml` files as written by maintainers.
//!
//! This module owns the recipe format (the nouns), its strict parsing with file/line/column
//! errors, and the JSON Schema offered to editors. It does not evaluate a recipe into a build
//! plan (`crate::plan`), resolve dependencies (`crate::graph`) or fetch anything (`crate::source`).

mod load;
mod types;

pub use load::{
    LoadedRecipe, RecipeError, RecipeSet, load_recipe, load_recipe_str, locate, recipe_files,
};
pub use types::*;

/// The JSON Schema of `meta.yaml`, as shipped in `docs/recipe.schema.json`.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Recipe);
    serde_json::to_value(schema).expect("a schema always serializes")
}

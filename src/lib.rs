//! wheelforge: a wheel farm for Python on WASI.
//!
//! Recipes (`recipes/<name>/meta.yaml`) go in; a static wheel index comes out. The build is one
//! pipeline of named stages, one module each — see `pipeline::run_build` and
//! docs/architecture.md.

pub mod app;
pub mod backend;
pub mod ci;
pub mod digest;
pub mod graph;
pub mod index;
#[cfg(test)]
mod layering;
pub mod library;
pub mod lint;
pub mod local;
pub mod lock;
pub mod outcome;
pub mod paths;
pub mod pipeline;
pub mod plan;
pub mod process;
pub mod publish;
pub mod recipe;
pub mod report;
pub mod reporter;
pub mod runtime;
pub mod serve;
pub mod skeleton;
pub mod source;
pub mod tags;
pub mod testing;
pub mod toolchain;
pub mod wheel;

//! Running core wasm32-wasip1 modules (programs linked by clang, such as Fortran test
//! programs), as opposed to the componentize-py components of `super::run_command`.
//!
//! A module's `_start` runs with WASI preview 1: arguments, environment and preopened
//! directories in; captured or inherited output and the exit status out. Compiled code is not
//! cached (these modules are small). This module does not build modules.

use std::path::Path;

use wasmtime::{Config, Engine, Linker, Module, Store};
use wasmtime_wasi::p1::WasiP1Ctx;

use super::{RunOptions, RunOutput, RuntimeError};

/// Runs a WASI preview 1 command module to completion. `options.cache_dir` and
/// `options.idle_watch` are not used.
pub fn run_module(module_path: &Path, options: &RunOptions) -> Result<RunOutput, RuntimeError> {
    let _span = tracing::info_span!("run_module", path = %module_path.display()).entered();
    let load_error = |detail: String| RuntimeError::Load {
        path: module_path.to_path_buf(),
        detail,
    };
    let instantiate_error = |detail: String| RuntimeError::Instantiate {
        path: module_path.to_path_buf(),
        detail,
    };
    let mut config = Config::new();
    config.max_wasm_stack(8 << 20);
    config.async_stack_size(16 << 20);
    let engine = Engine::new(&config).map_err(|e| load_error(e.to_string()))?;
    let module =
        Module::from_file(&engine, module_path).map_err(|e| load_error(format!("{e:#}")))?;
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |ctx| ctx)
        .map_err(|e| instantiate_error(e.to_string()))?;

    let (mut builder, stdout, stderr) = super::wasi_context(options)?;
    let mut store = Store::new(&engine, builder.build_p1());
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(|e| instantiate_error(format!("{e:#}")))?;
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .map_err(|e| instantiate_error(format!("no `_start` (not a command module): {e}")))?;
    let (exit_code, trap) = match start.call(&mut store, ()) {
        Ok(()) => (0, None),
        Err(error) => super::exit_or_trap(&error),
    };
    drop(store);
    Ok(RunOutput {
        exit_code,
        trap,
        stdout: stdout.contents().to_vec(),
        stderr: stderr.contents().to_vec(),
    })
}

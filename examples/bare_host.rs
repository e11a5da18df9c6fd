//! The baseline for `isaac run`'s start-up: the least a wasmtime host can do
//! to run one plugin command. It maps one compiled component from isaac's
//! compiled-code cache, links WASI p2 (isaac's `log` as a no-op, the only
//! isaac function `hello` imports), instantiates it and calls `run` once. No
//! CLI, no index, no registry, no sandbox limits.
//!
//! ```sh
//! cargo run --release --example bare_host -- $ISAAC_HOME/compiled/SHA-ENGINE.cwasm hello bars
//! hyperfine -N 'target/release/examples/bare_host FILE hello bars' 'isaac run hello bars'
//! ```

use wasmtime::component::{Component, Linker, ResourceTable, Val};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

struct State {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

fn main() -> wasmtime::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, command, rest @ ..] = args.as_slice() else {
        eprintln!("usage: bare_host FILE.cwasm COMMAND [ARGS...]");
        std::process::exit(2);
    };
    // The same engine settings as isaac, so isaac's compiled code loads.
    let engine = Engine::new(&isaac_host::engine::base_config())?;
    // SAFETY: a file from isaac's compiled-code cache, written by isaac.
    let component = unsafe { Component::deserialize_file(&engine, file)? };
    let mut linker = Linker::<State>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    // isaac's own imports of `hello`, as no-ops. Not
    // `define_unknown_imports_as_traps`: it matches names exactly, so a
    // plugin built against a newer WASI 0.2 patch (`wasi:io/error@0.2.12`)
    // would get a stub `error` resource of its own, which wasmtime then
    // refuses as a mismatch against the real `wasi:io/streams`.
    linker.instance("isaac:plugin/types@0.3.0")?;
    linker.instance("isaac:plugin/log@0.3.0")?.func_new("log", |_, _, _, _| Ok(()))?;
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    runtime.block_on(async {
        let mut store = Store::new(&engine, State { wasi: WasiCtxBuilder::new().build(), table: ResourceTable::new() });
        store.set_epoch_deadline(u64::MAX);
        let instance = linker.instantiate_async(&mut store, &component).await?;
        let run = instance.get_func(&mut store, "run").expect("a `run` export");
        let params = [Val::String(command.clone()), Val::List(rest.iter().cloned().map(Val::String).collect())];
        let mut results = [Val::Bool(false)];
        run.call_async(&mut store, &params, &mut results).await?;
        match &results[0] {
            Val::Result(Ok(Some(out))) => match &**out {
                Val::String(s) => println!("{s}"),
                other => println!("{other:?}"),
            },
            other => println!("{other:?}"),
        }
        Ok(())
    })
}

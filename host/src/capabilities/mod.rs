//! The host side of each WIT interface a plugin may import, one module each,
//! and the linker that provides them all (plus WASI p2, which every Rust
//! `wasm32-wasip2` guest imports; each call's WASI context grants nothing
//! beyond the plugin's grant).

pub mod ai;
pub mod cache;
pub mod log;

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::World;
use crate::sandbox::HostState;

/// A linker with every capability, under both `isaac:plugin@0.2.0` and
/// `@0.1.0` (the latter adapted in [`crate::bindings`]), and WASI p2.
pub fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    World::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)?;
    crate::bindings::v0_1::World::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)?;
    Ok(linker)
}

/// `isaac:plugin/types` holds types only; it has nothing to implement.
impl crate::bindings::TypesHost for HostState {}

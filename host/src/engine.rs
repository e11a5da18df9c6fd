//! The one `wasmtime::Engine` of a host, and the start of the epoch clock
//! that enforces call deadlines ([`crate::epoch`]).
//!
//! The engine runs wasm asynchronously (host functions may await) with epoch
//! interruption. It prefers the pooling instance allocator, which makes a
//! fresh instance per call cost microseconds; where the pool cannot reserve
//! its address space (a low `ulimit -v`, for one), it falls back to
//! on-demand allocation and says so in a debug log line.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::error::Source;
use crate::functions::FunctionCache;

pub use crate::epoch::{EPOCH_TICK, EpochTicker};

/// How instances are allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocation {
    /// Pre-reserved slots: instantiation in microseconds.
    Pooling,
    /// `mmap` per instance: slower to instantiate, reserves nothing up front.
    OnDemand,
}

/// Which compiler makes an engine's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compiler {
    /// Cranelift: optimised code, compiled slowly.
    #[default]
    Cranelift,
    /// Winch, wasmtime's baseline compiler: code at once, running slower.
    Winch,
}

/// Which compiler made the code a plugin runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Cranelift's optimised code.
    #[default]
    Optimized,
    /// Winch's baseline code, until the optimised code is ready.
    Baseline,
}

impl Tier {
    /// How `plugins list` and `plugins info` name it.
    pub fn label(self) -> &'static str {
        match self {
            Tier::Optimized => "optimized (Cranelift)",
            Tier::Baseline => "baseline (Winch; optimizing in the background)",
        }
    }
}

/// What the engine is built for.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The largest linear memory any plugin may get, in bytes.
    pub max_memory_bytes: u64,
    /// Try the pooling allocator first.
    pub pooling: bool,
    /// Instances alive at once in the pool (concurrent calls).
    pub pool_instances: u32,
    /// The compiler.
    pub compiler: Compiler,
    /// Compile a component's functions on several threads.
    pub parallel: bool,
    /// Reuse functions compiled before, by any plugin (Cranelift only).
    pub functions: Option<Arc<FunctionCache>>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            max_memory_bytes: crate::config::DEFAULT_MAX_MEMORY_MB << 20,
            pooling: true,
            pool_instances: 100,
            compiler: Compiler::Cranelift,
            parallel: true,
            functions: None,
        }
    }
}

/// An engine built from [`EngineOptions`], with the allocator it ended up with.
#[derive(Clone)]
pub struct HostEngine {
    /// The wasmtime engine.
    pub engine: Engine,
    /// Which allocator it uses.
    pub allocation: Allocation,
    /// Which compiler it uses.
    pub compiler: Compiler,
    /// Hex digest of everything that makes compiled code loadable here: the
    /// wasmtime version and the engine's settings.
    pub compatibility: String,
}

/// The engine could not be built at all (not even on-demand).
#[derive(Debug, thiserror::Error)]
#[error("cannot create the WebAssembly engine")]
pub struct EngineError(#[source] Source);

impl HostEngine {
    /// Build the engine, probing the pooling allocator first when asked.
    pub fn new(options: &EngineOptions) -> Result<Self, EngineError> {
        if options.pooling {
            let mut config = compiler_config(options);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool_config(options)));
            match Engine::new(&config) {
                Ok(engine) => return Ok(Self::from_engine(engine, Allocation::Pooling, options)),
                Err(e) => tracing::debug!("pooling allocator unavailable ({e}); using on-demand allocation"),
            }
        }
        let engine = Engine::new(&compiler_config(options)).map_err(|e| EngineError(Source::wasm(e)))?;
        Ok(Self::from_engine(engine, Allocation::OnDemand, options))
    }

    fn from_engine(engine: Engine, allocation: Allocation, options: &EngineOptions) -> Self {
        let mut hasher = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        let compatibility = format!("{:016x}", hasher.finish());
        if let Some(functions) = &options.functions {
            functions.bind(&compatibility);
        }
        HostEngine { engine, allocation, compiler: options.compiler, compatibility }
    }

    /// Start a thread that advances the epoch every [`EPOCH_TICK`] until the
    /// returned guard is dropped.
    pub fn start_ticker(&self) -> EpochTicker {
        EpochTicker::thread(self.engine.clone())
    }

    /// Start the epoch clock of a process of one call: a timer signal for
    /// the first tick, a thread only if the call outlives it
    /// ([`EpochTicker::signal`]).
    pub fn start_signal_ticker(&self) -> EpochTicker {
        EpochTicker::signal(self.engine.clone())
    }
}

/// The engine settings every isaac engine shares (compiled code depends on
/// them); the instance allocator is chosen on top.
pub fn base_config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    // Component-model async is not used: without it calls are faster.
    config.concurrency_support(false);
    config.parallel_compilation(true);
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    config
}

/// [`base_config`] with the compiler of `options`.
fn compiler_config(options: &EngineOptions) -> Config {
    let functions = options.functions.clone().map(|f| f as Arc<dyn wasmtime::CacheStore>);
    let mut config = compile_config(options.compiler, functions);
    config.parallel_compilation(options.parallel);
    config
}

/// [`base_config`] with `compiler`, and Cranelift's incremental cache in
/// `functions` if given: the settings isaac compiles with (`isaac bench`
/// times wasmtime alone with them). Winch code needs an engine of its own:
/// wasmtime refuses, at load, an artifact made by another compiler, and
/// the compatibility digest (so the artifact's file name) differs.
pub fn compile_config(compiler: Compiler, functions: Option<Arc<dyn wasmtime::CacheStore>>) -> Config {
    let mut config = base_config();
    if compiler == Compiler::Winch {
        config.strategy(wasmtime::Strategy::Winch);
        // Winch compiles function bodies; Cranelift still compiles the
        // trampolines around them (entry from the host, component adapters),
        // thousands for a big component. Unoptimised, they take less time.
        config.cranelift_opt_level(wasmtime::OptLevel::None);
        // Code that runs until Cranelift's replaces it, made as fast as it
        // can be: no map from each instruction back to its wasm offset (a
        // trap's backtrace names functions, not offsets) and no native
        // unwind tables (wasmtime's own backtraces do without them). greet-py
        // compiles 8 % sooner (1143 -> 1062 ms) into 41.6 MB instead of 45.8.
        config.generate_address_map(false);
        config.native_unwind_info(false);
    } else if let Some(store) = functions {
        // Not part of the compatibility digest: code compiled with or
        // without it is the same code.
        config.enable_incremental_compilation(store).expect("the incremental-cache feature is enabled");
    }
    config
}

fn pool_config(options: &EngineOptions) -> PoolingAllocationConfig {
    let n = options.pool_instances;
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(n)
        // A component is a few core instances (the guest, shims, adapters);
        // Python and JavaScript components use more.
        .total_core_instances(n * 16)
        .max_core_instances_per_component(64)
        .total_memories(n * 2)
        .max_memories_per_component(4)
        .total_tables(n * 16)
        .max_tables_per_component(32)
        .table_elements(100_000)
        .total_stacks(n)
        .max_memory_size(usize::try_from(options.max_memory_bytes).unwrap_or(usize::MAX));
    // Reset tables and fiber stacks with memset rather than `madvise`: one
    // system call and its page faults fewer per call (1000 `hello` lines
    // through the shell: 28.8 -> 22.0 ms). Linear memories stay `madvise`d:
    // keeping them resident made calls slower.
    pool.table_keep_resident(16 << 10).async_stack_keep_resident(128 << 10);
    pool
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooling_and_on_demand_share_compiled_code() {
        let pooled = HostEngine::new(&EngineOptions::default()).unwrap();
        let on_demand = HostEngine::new(&EngineOptions { pooling: false, ..Default::default() }).unwrap();
        assert_eq!(on_demand.allocation, Allocation::OnDemand);
        assert_eq!(pooled.compatibility, on_demand.compatibility);
        // The background optimiser compiles on one thread: its code is the
        // foreground's.
        let serial = HostEngine::new(&EngineOptions { parallel: false, ..Default::default() }).unwrap();
        assert_eq!(serial.compatibility, pooled.compatibility);
        let winch = HostEngine::new(&EngineOptions { compiler: Compiler::Winch, ..Default::default() }).unwrap();
        assert_ne!(winch.compatibility, pooled.compatibility, "artifacts are keyed by compiler");
        // Where the address space is not limited, the pool must be used.
        let limit = rustix::process::getrlimit(rustix::process::Resource::As);
        if limit.current.is_none() {
            assert_eq!(pooled.allocation, Allocation::Pooling, "the pooling allocator should fit here");
        } else {
            crate::say!("address space limited to {:?} bytes: pooling not required here", limit.current);
        }
    }
}

//! Helpers for isaac's own tests and benchmarks, behind the `testing`
//! feature: the simulated AI provider (OpenAI and Anthropic wire formats on
//! loopback), the Zipf key generator, and distinct copies of a component.

pub use crate::ai::simulator::{Fault, SimConfig, SimStats, Simulator};
pub use crate::cache::traces::{Trace, Zipf};
pub use crate::suite::distinct;
pub use crate::suite::policies::{PolicyRates, compare as compare_policies};

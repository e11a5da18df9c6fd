//! The integration tests: one binary, one module per area. Every test runs
//! real components built from `example-plugins/` and `tests/fixtures/`.

#[path = "../support/mod.rs"]
mod support;

mod ai;
mod ai_wire;
mod architecture;
mod ask;
mod atomics;
mod authoring;
mod bad_plugins;
mod cache;
mod cli;
mod commands;
mod functions;
mod fuzz;
mod http;
mod languages;
mod layout;
mod limits;
mod loading;
mod mcp;
mod monitoring;
mod pipes;
mod redis;
mod sdk;
mod security;
mod settings;
mod sharing;
mod shell;
mod tiers;

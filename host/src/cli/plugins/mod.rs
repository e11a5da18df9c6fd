//! `isaac plugins ...`

pub(super) mod add;
pub(super) mod grant;
mod info;
mod list;
mod publish;
mod remove;
mod update;

use clap::Subcommand;

use super::{Context, Failure};

/// Install, list, inspect and remove plugins.
#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Install a plugin from a folder, a URL of a .tar.gz pinned by --sha256, or oci://REGISTRY/REPO:TAG.
    Add(add::AddArgs),
    /// Fetch plugins again from where they came from and install what changed.
    Update(update::UpdateArgs),
    /// Push a plugin folder to an OCI registry and print its digest.
    Publish(publish::PublishArgs),
    /// Load every installed plugin (compiling what is not cached) and list them.
    List(list::ListArgs),
    /// Show one plugin: version, commands, limits, permissions and its grant.
    Info(info::InfoArgs),
    /// Grant a plugin what it asks for (again, after its component changed).
    Grant(grant::GrantArgs),
    /// Uninstall a plugin and drop its compiled code.
    Remove(remove::RemoveArgs),
}

pub fn run(cx: &Context, command: PluginsCommand) -> Result<u8, Failure> {
    match command {
        PluginsCommand::Add(args) => add::run(cx, args),
        PluginsCommand::Update(args) => update::run(cx, args),
        PluginsCommand::Publish(args) => publish::run(cx, args),
        PluginsCommand::List(args) => list::run(cx, args),
        PluginsCommand::Info(args) => info::run(cx, args),
        PluginsCommand::Grant(args) => grant::run(cx, args),
        PluginsCommand::Remove(args) => remove::run(cx, args),
    }
}

/// What the function cache did for a plugin's optimised code, in words.
fn functions_line(c: &crate::functions::FunctionCounts) -> String {
    let mut line = format!(
        "{} of {} reused from the function cache ({:.0} %), {} compiled",
        c.reused,
        c.reused + c.compiled,
        c.reused_percent(),
        c.compiled
    );
    if c.rejected > 0 {
        line.push_str(&format!(", {} entries failed their check", c.rejected));
    }
    line
}

/// Left-aligned columns, two spaces apart.
fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header = header.map(str::to_owned);
    for row in std::iter::once(&header).chain(rows) {
        let cells: Vec<String> = row.iter().zip(widths).map(|(cell, w)| format!("{cell:w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

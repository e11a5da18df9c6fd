//! `isaac cache set | incr | delete | invalidate | clear`

use std::time::Duration;

use clap::Args;

use super::NamespaceArg;
use crate::cache::Expiry;
use crate::cli::{Context, Failure, output};

/// Set KEY to VALUE.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// The key.
    key: String,
    /// The value (text).
    value: String,
    /// Expire after this many seconds [default: the config's default TTL].
    #[arg(long, value_name = "SECONDS", conflicts_with = "never")]
    ttl: Option<u64>,
    /// Never expire.
    #[arg(long)]
    never: bool,
    #[command(flatten)]
    namespace: NamespaceArg,
}

pub fn set(cx: &Context, args: SetArgs) -> Result<u8, Failure> {
    let namespace = args.namespace.namespace()?;
    let expiry = match (args.ttl, args.never) {
        (_, true) => Expiry::Never,
        (Some(secs), false) => Expiry::After(Duration::from_secs(secs)),
        (None, false) => Expiry::Default,
    };
    let host = cx.host()?;
    host.cache().set(&namespace, &args.key, args.value.as_bytes(), expiry)?;
    if cx.json {
        output::json(&serde_json::json!({ "key": args.key, "set": true }));
    }
    Ok(0)
}

/// Add DELTA to the integer at KEY.
#[derive(Debug, Args)]
pub struct IncrArgs {
    /// The key (missing or expired: counts from 0, with the default TTL).
    key: String,
    /// How much to add.
    #[arg(default_value_t = 1, allow_negative_numbers = true)]
    delta: i64,
    #[command(flatten)]
    namespace: NamespaceArg,
}

pub fn incr(cx: &Context, args: IncrArgs) -> Result<u8, Failure> {
    let namespace = args.namespace.namespace()?;
    let host = cx.host()?;
    let value = host.cache().increment(&namespace, &args.key, args.delta, None)?;
    if cx.json {
        output::json(&serde_json::json!({ "key": args.key, "value": value }));
    } else {
        output::line(&value.to_string());
    }
    Ok(0)
}

/// Delete KEY.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The key.
    key: String,
    #[command(flatten)]
    namespace: NamespaceArg,
}

pub fn delete(cx: &Context, args: DeleteArgs) -> Result<u8, Failure> {
    let namespace = args.namespace.namespace()?;
    let host = cx.host()?;
    let deleted = host.cache().delete(&namespace, &args.key)?;
    if cx.json {
        output::json(&serde_json::json!({ "key": args.key, "deleted": deleted }));
    } else if deleted {
        output::line(&format!("deleted {}", args.key));
    } else {
        crate::say!("no entry for {}", args.key);
    }
    Ok(u8::from(!deleted))
}

/// Remove every key matching PATTERN.
#[derive(Debug, Args)]
pub struct InvalidateArgs {
    /// A glob: `*` any run, `?` one character, `\` escapes the next (e.g. 'user:123:*').
    pattern: String,
    #[command(flatten)]
    namespace: NamespaceArg,
}

pub fn invalidate(cx: &Context, args: InvalidateArgs) -> Result<u8, Failure> {
    let namespace = args.namespace.namespace()?;
    let host = cx.host()?;
    let removed = host.cache().invalidate(&namespace, &args.pattern)?;
    report_removed(cx, removed);
    Ok(0)
}

/// Remove every key of the namespace.
#[derive(Debug, Args)]
pub struct ClearArgs {
    #[command(flatten)]
    namespace: NamespaceArg,
}

pub fn clear(cx: &Context, args: ClearArgs) -> Result<u8, Failure> {
    let namespace = args.namespace.namespace()?;
    let host = cx.host()?;
    let removed = host.cache().clear(&namespace)?;
    report_removed(cx, removed);
    Ok(0)
}

fn report_removed(cx: &Context, removed: u32) {
    if cx.json {
        output::json(&serde_json::json!({ "removed": removed }));
    } else {
        output::line(&format!("removed {removed}"));
    }
}

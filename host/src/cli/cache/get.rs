//! `isaac cache get KEY`

use clap::Args;

use super::NamespaceArg;
use crate::cli::{Context, Failure, output};

/// Print the value at KEY.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The key.
    key: String,
    #[command(flatten)]
    namespace: NamespaceArg,
}

pub fn run(cx: &Context, args: GetArgs) -> Result<u8, Failure> {
    let namespace = args.namespace.namespace()?;
    let host = cx.host()?;
    let value = host.cache().get(&namespace, &args.key)?;
    match &value {
        Some(value) if cx.json => {
            output::json(&serde_json::json!({
                "key": args.key, "found": true, "value": String::from_utf8_lossy(value),
            }));
        }
        Some(value) => match std::str::from_utf8(value) {
            Ok(text) => output::line(text),
            Err(_) => output::bytes(value),
        },
        None if cx.json => output::json(&serde_json::json!({ "key": args.key, "found": false })),
        None => {
            crate::say!("no entry for {}", args.key);
        }
    }
    Ok(u8::from(value.is_none()))
}

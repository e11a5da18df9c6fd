//! `greet-rs`: `greet-rs NAME` says hello and counts NAME's visits in the
//! host's cache, so a second run says `#2`. The count is one atomic
//! `cache::increment`, so runs at the same time all count; it lasts the
//! cache's default TTL (an hour unless configured) from the first visit.
//! Logs one line through `log`.
//! The same plugin exists in Python, JavaScript (example-plugins/).

use isaac_plugin_sdk::cache;
use isaac_plugin_sdk::{CommandInfo, Error, Plugin, PluginInfo, export_plugin, log};

struct Greet;

const COMMAND: &str = "greet-rs";

impl Plugin for Greet {
    fn metadata() -> PluginInfo {
        PluginInfo::new("greet-rs", env!("CARGO_PKG_VERSION"), "Greets NAME and counts the visits (Rust)")
            .command(CommandInfo::new(COMMAND, "Greet NAME and count the visits", "greet-rs NAME"))
    }

    fn run(command: &str, args: Vec<String>) -> Result<String, Error> {
        if command != COMMAND {
            return Err(Error::Failed(format!("greet-rs has no command `{command}`")));
        }
        let [name] = args.as_slice() else { return Err(Error::Usage("usage: greet-rs NAME".into())) };
        let key = format!("visits:{name}");
        let visits = cache::increment(&key, 1)?;
        log::info(&format!("greeted {name} (visit #{visits})"));
        Ok(format!("Hello, {name}! (visit #{visits})"))
    }
}

export_plugin!(Greet);

//! `greet-rs`: `greet-rs NAME` says hello and counts NAME's visits in the
//! host's cache, so a second run says `#2`. Logs one line through `log`.
//! The same plugin exists in Python, JavaScript (example-plugins/).

use isaac_plugin_sdk::cache::{self, Expiry};
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
        let visits = cache::get_string(&key)?.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + 1;
        cache::set_string(&key, &visits.to_string(), Expiry::Never)?;
        log::info(&format!("greeted {name} (visit #{visits})"));
        Ok(format!("Hello, {name}! (visit #{visits})"))
    }
}

export_plugin!(Greet);

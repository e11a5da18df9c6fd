//! `fetch URL`: GET a URL through the host's outbound HTTP (only to the
//! hosts in plugin.toml's `allowed_hosts`) and show the status, the content
//! type and the first lines of the body.

use isaac_plugin_sdk::{CommandInfo, Error, Plugin, PluginInfo, export_plugin, http, log};

/// Lines of the body shown.
const LINES: usize = 10;

struct Fetch;

impl Plugin for Fetch {
    fn metadata() -> PluginInfo {
        PluginInfo::new("fetch", "0.1.0", "Fetches a URL from an allowed host").command(CommandInfo::new(
            "fetch",
            "GET a URL: status, content type, first lines",
            "fetch URL",
        ))
    }

    fn run(_command: &str, args: Vec<String>) -> Result<String, Error> {
        let [url] = args.as_slice() else { return Err(Error::Usage("usage: fetch URL".into())) };
        log::info(&format!("fetching {url}"));
        let response = http::get(url).map_err(|e| Error::Failed(format!("{url}: {e}")))?;
        let content_type = response.header("content-type").unwrap_or("unknown").to_owned();
        let text = response.text();
        let head: Vec<&str> = text.lines().take(LINES).collect();
        let more = text.lines().count().saturating_sub(LINES);
        let mut out = format!("{} {content_type} ({} bytes)\n{}", response.status, response.body.len(), head.join("\n"));
        if more > 0 {
            out.push_str(&format!("\n... ({more} more lines)"));
        }
        Ok(out)
    }
}

export_plugin!(Fetch);

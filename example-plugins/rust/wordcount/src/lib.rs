//! `wordcount`: `wc TEXT...` counts lines, words and characters of its
//! arguments (joined by spaces), printed as `LINES WORDS CHARS` like `wc`.
//! `wc FILE` counts a file's instead, when the plugin may read it
//! (`isaac run --allow-read FILE wc FILE`), printed as `LINES WORDS CHARS FILE`.

use isaac_plugin_sdk::{CommandInfo, Error, Plugin, PluginInfo, export_plugin};

struct WordCount;

/// Lines, words and characters of `text`. A text that does not end in a
/// newline still counts its last line.
fn count(text: &str) -> (usize, usize, usize) {
    (text.lines().count(), text.split_whitespace().count(), text.chars().count())
}

impl Plugin for WordCount {
    fn metadata() -> PluginInfo {
        PluginInfo::new("wordcount", env!("CARGO_PKG_VERSION"), "Counts lines, words and characters, like wc")
            .command(CommandInfo::new("wc", "Count lines, words and characters of the arguments", "wc TEXT..."))
    }

    fn run(command: &str, args: Vec<String>) -> Result<String, Error> {
        match command {
            "wc" if args.is_empty() => Err(Error::Usage("usage: wc TEXT... (the text to count)".to_owned())),
            "wc" => {
                if let [path] = args.as_slice()
                    && let Ok(text) = std::fs::read_to_string(path)
                {
                    let (lines, words, chars) = count(&text);
                    return Ok(format!("{lines} {words} {chars} {path}"));
                }
                let (lines, words, chars) = count(&args.join(" "));
                Ok(format!("{lines} {words} {chars}"))
            }
            other => Err(Error::Failed(format!("wordcount has no command `{other}`"))),
        }
    }
}

export_plugin!(WordCount);

//! `notes`: `note add TEXT...`, `note list`, `note clear`; `note add` with
//! no text adds what is piped in (`journalctl -n 50 | isaac run note add`),
//! as one note. The notes live in
//! the host's cache with no expiry, so they survive across `isaac` runs.
//! Notes added at the same time (two shells, an AI calling the plugin as a
//! tool) all stay: `add` is a `cache::update`, retried if another call wrote
//! in between.

use std::io::Read;

use isaac_plugin_sdk::cache::{self, Expiry};
use isaac_plugin_sdk::{CommandInfo, Error, Plugin, PluginInfo, export_plugin};

struct Notes;

/// One key holds every note, one per line.
const KEY: &str = "notes";

fn load() -> Result<Vec<String>, Error> {
    Ok(cache::get_string(KEY)?.map(|text| text.lines().map(str::to_owned).collect()).unwrap_or_default())
}

/// `text` added as the last line of `notes` (`None`: there are none).
fn append(notes: Option<&[u8]>, text: &str) -> Vec<u8> {
    let mut out = notes.map(<[u8]>::to_vec).unwrap_or_default();
    if !out.is_empty() {
        out.push(b'\n');
    }
    out.extend_from_slice(text.as_bytes());
    out
}

const USAGE: &str = "usage: note add TEXT... | note list | note clear (note add with no text adds stdin)";

/// The longest note taken from stdin, in bytes.
const MAX_PIPED: u64 = 64 << 10;

/// What was piped in, if anything.
fn piped() -> Result<Option<String>, Error> {
    let mut text = String::new();
    std::io::stdin()
        .take(MAX_PIPED)
        .read_to_string(&mut text)
        .map_err(|e| Error::Failed(format!("cannot read stdin: {e}")))?;
    Ok(Some(text.trim().to_owned()).filter(|t| !t.is_empty()))
}

impl Plugin for Notes {
    fn metadata() -> PluginInfo {
        PluginInfo::new("notes", env!("CARGO_PKG_VERSION"), "Keeps notes across runs, in the host's cache")
            .command(CommandInfo::new("note", "Add, list or clear notes", "note add [TEXT...] | note list | note clear"))
    }

    fn run(command: &str, args: Vec<String>) -> Result<String, Error> {
        if command != "note" {
            return Err(Error::Failed(format!("notes has no command `{command}`")));
        }
        match args.split_first() {
            Some((add, text)) if add == "add" => {
                let text = match text {
                    [] => piped()?.ok_or_else(|| Error::Usage(USAGE.to_owned()))?,
                    words => words.join(" "),
                };
                // One line per note: newlines inside a note become spaces.
                let note = text.replace(['\n', '\r'], " ");
                let notes = cache::update(KEY, Expiry::Never, |notes| append(notes, &note))?;
                let count = notes.split(|b| *b == b'\n').count();
                Ok(format!("noted ({count} in all)"))
            }
            Some((list, [])) if list == "list" => {
                let notes = load()?;
                if notes.is_empty() {
                    return Ok("no notes".to_owned());
                }
                Ok(notes.iter().enumerate().map(|(i, n)| format!("{}. {n}", i + 1)).collect::<Vec<_>>().join("\n"))
            }
            Some((clear, [])) if clear == "clear" => {
                let removed = cache::delete(KEY)?;
                Ok(if removed { "cleared" } else { "no notes" }.to_owned())
            }
            _ => Err(Error::Usage(USAGE.to_owned())),
        }
    }
}

export_plugin!(Notes);

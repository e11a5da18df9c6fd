//! `wordcount`: `wc TEXT...` counts lines, words and characters of its
//! arguments (joined by spaces), printed as `LINES WORDS CHARS` like `wc`.
//! `wc FILE` counts a file's instead, when the plugin may read it
//! (`isaac run --allow-read FILE wc FILE`), printed as `LINES WORDS CHARS FILE`.
//! `wc` with no arguments counts stdin (`cat notes.txt | isaac run wc`),
//! read in pieces, so any size fits in the plugin's memory.

use std::io::Read;

use isaac_plugin_sdk::{CommandInfo, Error, Plugin, PluginInfo, export_plugin};

struct WordCount;

/// Lines, words and characters counted so far: a text that does not end
/// in a newline still counts its last line, and a word or a character cut
/// between two pieces counts once.
#[derive(Default)]
struct Counts {
    newlines: usize,
    words: usize,
    chars: usize,
    in_word: bool,
    /// The last character counted was not a newline.
    open_line: bool,
    /// The start of a character the last piece cut.
    pending: Vec<u8>,
}

impl Counts {
    fn add_text(&mut self, text: &str) {
        for c in text.chars() {
            self.chars += 1;
            self.newlines += usize::from(c == '\n');
            let space = c.is_whitespace();
            self.words += usize::from(!space && !self.in_word);
            self.in_word = !space;
            self.open_line = c != '\n';
        }
    }

    /// Count `bytes`, which may cut a character at either end.
    fn add(&mut self, bytes: &[u8]) {
        let mut data = std::mem::take(&mut self.pending);
        data.extend_from_slice(bytes);
        let complete = match std::str::from_utf8(&data) {
            Ok(_) => data.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => data.len(),
        };
        self.add_text(&String::from_utf8_lossy(&data[..complete]));
        self.pending = data[complete..].to_vec();
    }

    fn finish(mut self) -> (usize, usize, usize) {
        let rest = std::mem::take(&mut self.pending);
        self.add_text(&String::from_utf8_lossy(&rest));
        (self.newlines + usize::from(self.open_line), self.words, self.chars)
    }
}

/// Lines, words and characters of `text`.
fn count(text: &str) -> (usize, usize, usize) {
    let mut counts = Counts::default();
    counts.add_text(text);
    counts.finish()
}

/// Lines, words and characters of stdin, read in pieces.
fn count_stdin() -> Result<(usize, usize, usize), Error> {
    let mut counts = Counts::default();
    let mut buf = vec![0; 64 << 10];
    let mut input = std::io::stdin().lock();
    loop {
        match input.read(&mut buf) {
            Ok(0) => return Ok(counts.finish()),
            Ok(n) => counts.add(&buf[..n]),
            Err(e) => return Err(Error::Failed(format!("cannot read stdin: {e}"))),
        }
    }
}

impl Plugin for WordCount {
    fn metadata() -> PluginInfo {
        PluginInfo::new("wordcount", env!("CARGO_PKG_VERSION"), "Counts lines, words and characters, like wc")
            .command(CommandInfo::new("wc", "Count lines, words and characters of the arguments or stdin", "wc [TEXT...]"))
    }

    fn run(command: &str, args: Vec<String>) -> Result<String, Error> {
        match command {
            "wc" if args.is_empty() => {
                let (lines, words, chars) = count_stdin()?;
                Ok(format!("{lines} {words} {chars}"))
            }
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

//! The one sanitiser for text a plugin controls that is shown on a terminal.
//!
//! A plugin's result, its error messages, its log lines, what it prints and
//! the strings of its metadata are the plugin's bytes. Written raw to a
//! terminal they could move the cursor, erase lines of isaac's own output
//! (a permission request, say), set the window title or write the clipboard
//! (OSC 52), or reorder what the user reads (bidirectional overrides). So
//! before any of it reaches a terminal it passes through [`sanitize`], which
//! makes every such character visible as an escape:
//!
//! - C0 controls, DEL and C1 controls as `\x1b`, `\x7f`, `\x9b`;
//! - a carriage return as `\r` (in [`Lines::Keep`] mode a `\r\n` pair is an
//!   ordinary line end);
//! - every Unicode format character (general category Cf: the zero-width
//!   and bidirectional controls U+200B–U+200F, U+202A–U+202E, U+2066–U+2069,
//!   the Arabic letter mark U+061C, the byte-order mark U+FEFF, the tag
//!   characters, the interlinear annotations, ...) and the line and
//!   paragraph separators U+2028 and U+2029 (which some terminals and most
//!   editors break lines at) as `\u{202e}`.
//!
//! Newlines and tabs stay where a multi-line text is expected (a result, a
//! usage text); a log line or a one-line summary never spans lines.
//!
//! What is written to a pipe or a file is not sanitised: a result there stays
//! byte-exact, because scripts rely on it, and `--json` output is escaped by
//! JSON itself.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether a sanitised text may keep its line structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// Keep `\n`, `\r\n` and `\t` (results, usage texts, error messages).
    Keep,
    /// One line: `\n` and `\t` become visible too (log lines, summaries).
    One,
}

/// Whether `c` could change what a terminal shows beyond printing itself:
/// a control character, a format character (Unicode 16's category Cf,
/// listed in full), or a line or paragraph separator.
pub fn is_hazard(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{ad}'
                | '\u{600}'..='\u{605}'
                | '\u{61c}'
                | '\u{6dd}'
                | '\u{70f}'
                | '\u{890}'..='\u{891}'
                | '\u{8e2}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{110bd}'
                | '\u{110cd}'
                | '\u{13430}'..='\u{1343f}'
                | '\u{1bca0}'..='\u{1bca3}'
                | '\u{1d173}'..='\u{1d17a}'
                | '\u{e0001}'
                | '\u{e0020}'..='\u{e007f}'
        )
}

/// `text` with every hazardous character made visible; borrowed when there
/// was none.
pub fn sanitize(text: &str, lines: Lines) -> Cow<'_, str> {
    let keep = |c: char, next: Option<char>| {
        lines == Lines::Keep && (c == '\n' || c == '\t' || (c == '\r' && next == Some('\n')))
    };
    let mut chars = text.chars().peekable();
    let mut first_bad = None;
    let mut offset = 0;
    while let Some(c) = chars.next() {
        if is_hazard(c) && !keep(c, chars.peek().copied()) {
            first_bad = Some(offset);
            break;
        }
        offset += c.len_utf8();
    }
    let Some(start) = first_bad else { return Cow::Borrowed(text) };
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..start]);
    let mut chars = text[start..].chars().peekable();
    while let Some(c) = chars.next() {
        if !is_hazard(c) || keep(c, chars.peek().copied()) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// [`sanitize`] as an owned string.
pub fn clean(text: &str, lines: Lines) -> String {
    sanitize(text, lines).into_owned()
}

/// Text that arrives in pieces (a plugin's stdout, written chunk by chunk),
/// decoded across the pieces' boundaries before [`sanitize`] sees it: a
/// character split between two writes waits for its end, and so does a
/// `\r` that may begin a `\r\n`. Bytes that are not UTF-8 become U+FFFD.
#[derive(Debug, Default)]
pub struct Pieces {
    pending: Vec<u8>,
}

impl Pieces {
    /// The text `bytes` completes, after what was pending.
    pub fn feed(&mut self, bytes: &[u8]) -> String {
        let mut data = std::mem::take(&mut self.pending);
        data.extend_from_slice(bytes);
        let complete = data.len() - incomplete_tail(&data);
        let mut text = String::from_utf8_lossy(&data[..complete]).into_owned();
        self.pending = data[complete..].to_vec();
        if text.ends_with('\r') {
            text.pop();
            self.pending.insert(0, b'\r');
        }
        text
    }

    /// What is still pending, as text (at the end of the stream).
    pub fn finish(&mut self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut self.pending)).into_owned()
    }
}

/// How many bytes at the end of `data` begin a UTF-8 character that is not
/// complete yet (0 to 3).
pub(crate) fn incomplete_tail(data: &[u8]) -> usize {
    for back in 1..=data.len().min(3) {
        let byte = data[data.len() - back];
        if byte & 0xc0 == 0x80 {
            continue;
        }
        let needs = match byte {
            0xf0.. => 4,
            0xe0.. => 3,
            0xc0.. => 2,
            _ => 1,
        };
        return if needs > back { back } else { 0 };
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible() {
        assert_eq!(sanitize("plain text", Lines::One), Cow::Borrowed("plain text"));
        assert_eq!(sanitize("a\x1b[2Jb", Lines::Keep), "a\\x1b[2Jb");
        assert_eq!(sanitize("\x1b]52;c;cHduZWQ=\x07", Lines::Keep), "\\x1b]52;c;cHduZWQ=\\x07");
        assert_eq!(sanitize("del\x7f c1\u{9b}", Lines::Keep), "del\\x7f c1\\x9b");
        assert_eq!(sanitize("lone\rreturn", Lines::Keep), "lone\\rreturn");
        assert_eq!(sanitize("line\r\nnext\tcol", Lines::Keep), "line\r\nnext\tcol");
        assert_eq!(sanitize("line\r\nnext\tcol", Lines::One), "line\\r\\nnext\\tcol");
        assert_eq!(sanitize("abc\u{202e}txt.exe", Lines::Keep), "abc\\u{202e}txt.exe");
        assert_eq!(sanitize("zero\u{200b}width\u{2066}", Lines::One), "zero\\u{200b}width\\u{2066}");
        assert_eq!(sanitize("héllo wörld ✓", Lines::One), Cow::Borrowed("héllo wörld ✓"));
        for (c, shown) in [
            ('\u{61c}', "\\u{61c}"),
            ('\u{2028}', "\\u{2028}"),
            ('\u{2029}', "\\u{2029}"),
            ('\u{feff}', "\\u{feff}"),
            ('\u{2060}', "\\u{2060}"),
            ('\u{206f}', "\\u{206f}"),
            ('\u{e0041}', "\\u{e0041}"),
            ('\u{fffb}', "\\u{fffb}"),
        ] {
            assert_eq!(sanitize(&format!("a{c}b"), Lines::Keep), format!("a{shown}b"), "{c:?}");
        }
        assert_eq!(sanitize("한국어 العربية עברית 日本語", Lines::One), Cow::Borrowed("한국어 العربية עברית 日本語"));
    }

    #[test]
    fn pieces_join_what_a_split_write_cut() {
        let mut pieces = Pieces::default();
        let text = "é✓😀\r\n\x1b[2J";
        let bytes = text.as_bytes();
        // Every cut of the text in two gives the same text back.
        for cut in 0..=bytes.len() {
            let mut got = pieces.feed(&bytes[..cut]);
            got += &pieces.feed(&bytes[cut..]);
            got += &pieces.finish();
            assert_eq!(got, text, "cut at {cut}");
            assert_eq!(sanitize(&got, Lines::Keep), "é✓😀\r\n\\x1b[2J");
        }
        assert_eq!(pieces.feed(b"a\xffb"), "a\u{fffd}b");
        assert_eq!(pieces.feed(b"\xe2\x9c"), "");
        assert_eq!(pieces.finish(), "\u{fffd}");
    }

    #[test]
    fn nothing_hazardous_survives() {
        let all: String =
            (0u32..0x3000).chain(0xfe00..0x10000).chain(0xe0000..0xe0080).filter_map(char::from_u32).collect();
        for lines in [Lines::Keep, Lines::One] {
            let out = sanitize(&all, lines);
            let allowed = |c: char| lines == Lines::Keep && matches!(c, '\n' | '\t');
            assert!(out.chars().all(|c| !is_hazard(c) || allowed(c)), "{lines:?}");
        }
    }
}

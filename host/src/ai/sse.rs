//! A small reader of server-sent events (`text/event-stream`): feed it
//! bytes as they arrive, take whole events out.

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// The `data:` lines, joined by newlines.
    pub data: String,
}

/// Buffers bytes until events are complete.
#[derive(Debug, Default)]
pub struct Reader {
    buffer: Vec<u8>,
}

impl Reader {
    /// Bytes received that no complete event holds yet.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Add bytes; return the events they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Event> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some((end, sep)) = find_blank_line(&self.buffer) {
            let raw: Vec<u8> = self.buffer.drain(..end + sep).collect();
            if let Some(event) = parse(&String::from_utf8_lossy(&raw[..end])) {
                events.push(event);
            }
        }
        events
    }
}

fn find_blank_line(buf: &[u8]) -> Option<(usize, usize)> {
    (0..buf.len()).find_map(|i| {
        if buf[i..].starts_with(b"\r\n\r\n") {
            Some((i, 4))
        } else if buf[i..].starts_with(b"\n\n") {
            Some((i, 2))
        } else {
            None
        }
    })
}

fn parse(block: &str) -> Option<Event> {
    let mut event = None;
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("data:") {
            data.push(v.strip_prefix(' ').unwrap_or(v));
        } else if let Some(v) = line.strip_prefix("event:") {
            event = Some(v.trim().to_owned());
        }
    }
    (event.is_some() || !data.is_empty()).then(|| Event { event, data: data.join("\n") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_across_chunks() {
        let mut r = Reader::default();
        assert!(r.feed(b"event: a\ndata: {\"x\"").is_empty());
        let events = r.feed(b":1}\n\ndata: [DONE]\r\n\r\ndata: par");
        assert_eq!(
            events,
            vec![
                Event { event: Some("a".into()), data: "{\"x\":1}".into() },
                Event { event: None, data: "[DONE]".into() }
            ]
        );
    }
}

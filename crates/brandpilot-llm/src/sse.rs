//! An incremental parser for server-sent events (the `text/event-stream` format of the HTML
//! standard), fed with the body's byte chunks exactly as the network delivers them.
//!
//! Chunks may split the stream anywhere: inside a UTF-8 character (lines are decoded only
//! once complete, and line terminators are ASCII, so a character is never cut), between the
//! `\r` and `\n` of a CRLF (remembered across calls), or inside a field name. It handles
//! comments, multi-line `data:`, and all three line endings. It must never interpret event
//! payloads (`[DONE]`, JSON): that belongs to each provider's decoder.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, if the event had one.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` seen, if any.
    pub id: Option<String>,
}

/// The stream broke the format so badly that parsing cannot continue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("an event-stream line is longer than {limit} bytes")]
    LineTooLong { limit: usize },
}

/// The parser state carried between chunks.
#[derive(Debug)]
pub struct SseParser {
    /// Bytes of the current, not yet terminated line.
    line: Vec<u8>,
    /// The previous chunk ended a line with `\r`; a `\n` opening this one belongs to it.
    after_cr: bool,
    /// No line has been completed yet (a leading byte-order mark is skipped).
    at_start: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    last_id: Option<String>,
    max_line_bytes: usize,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    /// Lines above 8 MiB are refused: no provider sends them, and an endless line must not
    /// exhaust memory.
    pub const DEFAULT_MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

    pub fn new() -> Self {
        Self::with_max_line_bytes(Self::DEFAULT_MAX_LINE_BYTES)
    }

    pub fn with_max_line_bytes(max_line_bytes: usize) -> Self {
        Self {
            line: Vec::new(),
            after_cr: false,
            at_start: true,
            event: None,
            data: String::new(),
            has_data: false,
            last_id: None,
            max_line_bytes,
        }
    }

    /// Feeds the next chunk and appends every event it completes to `out`.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if chunk.is_empty() {
            // An empty chunk must not forget a pending `\r`.
            return Ok(());
        }
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        while let Some(end) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&chunk[..end]);
            self.check_length()?;
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out);
            if chunk[end] == b'\r' {
                match chunk.get(end + 1) {
                    Some(b'\n') => chunk = &chunk[end + 2..],
                    Some(_) => chunk = &chunk[end + 1..],
                    None => {
                        self.after_cr = true;
                        chunk = &[];
                    }
                }
            } else {
                chunk = &chunk[end + 1..];
            }
        }
        self.line.extend_from_slice(chunk);
        self.check_length()
    }

    /// True when bytes of an unfinished line or event are buffered: the stream ended in the
    /// middle of an event if this holds at its end.
    pub fn has_partial_event(&self) -> bool {
        !self.line.is_empty() || self.has_data || self.event.is_some()
    }

    fn check_length(&self) -> Result<(), SseError> {
        if self.line.len() > self.max_line_bytes {
            return Err(SseError::LineTooLong {
                limit: self.max_line_bytes,
            });
        }
        Ok(())
    }

    fn process_line(&mut self, mut line: &[u8], out: &mut Vec<SseEvent>) {
        if self.at_start {
            // A byte-order mark may open the stream; it is never part of the first field.
            self.at_start = false;
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return; // A comment (servers send them as keep-alives).
        }
        // The standard decodes with replacement; a provider sending invalid UTF-8 then gets
        // its JSON refused by the decoder, which reports it as a protocol error.
        let line = String::from_utf8_lossy(line);
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            // `retry` only matters to reconnecting browsers; unknown fields are ignored.
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = self.event.take();
        if !self.has_data {
            return;
        }
        self.has_data = false;
        out.push(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_pieces(pieces: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        for piece in pieces {
            parser.push(piece, &mut out).unwrap();
        }
        out
    }

    fn data(text: &str) -> SseEvent {
        SseEvent {
            data: text.to_owned(),
            ..SseEvent::default()
        }
    }

    #[test]
    fn parses_events_comments_and_multiline_data() {
        let body =
            b": keep-alive\n\ndata: one\n\nevent: ping\ndata: {\"a\":1}\n\ndata: x\ndata:y\n\n";
        let events = parse_in_pieces(&[body]);
        assert_eq!(
            events,
            vec![
                data("one"),
                SseEvent {
                    event: Some("ping".into()),
                    data: "{\"a\":1}".into(),
                    id: None
                },
                data("x\ny"),
            ]
        );
    }

    #[test]
    fn an_event_without_data_is_not_dispatched_and_its_name_does_not_leak() {
        let events = parse_in_pieces(&[b"event: lonely\n\ndata: next\n\n"]);
        assert_eq!(events, vec![data("next")]);
    }

    #[test]
    fn crlf_and_cr_line_endings() {
        assert_eq!(
            parse_in_pieces(&[b"data: a\r\n\r\ndata: b\r\rdata: c\n\n"]),
            vec![data("a"), data("b"), data("c")]
        );
    }

    #[test]
    fn crlf_split_between_cr_and_lf_is_one_line_ending() {
        // Were the `\n` read as a second terminator, it would dispatch "a" early and lose
        // nothing, but the blank line after would then end the next event too soon.
        let events = parse_in_pieces(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
        assert_eq!(events, vec![data("a\nb")]);
    }

    #[test]
    fn every_split_point_of_a_multibyte_stream_gives_the_same_events() {
        let body = "\u{FEFF}: hi\r\ndata: Caf\u{e9} \u{2615}\u{1F600}\r\ndata: deux\r\n\r\nevent: e\ndata: [DONE]\n\n";
        let bytes = body.as_bytes();
        let whole = parse_in_pieces(&[bytes]);
        assert_eq!(
            whole,
            vec![
                data("Caf\u{e9} \u{2615}\u{1F600}\ndeux"),
                SseEvent {
                    event: Some("e".into()),
                    data: "[DONE]".into(),
                    id: None
                },
            ]
        );
        for first in 0..=bytes.len() {
            for second in first..=bytes.len() {
                let events =
                    parse_in_pieces(&[&bytes[..first], &bytes[first..second], &bytes[second..]]);
                assert_eq!(events, whole, "split at {first} and {second}");
            }
        }
    }

    #[test]
    fn byte_at_a_time() {
        let body = "data: \u{1F600}\r\n\r\n";
        let pieces: Vec<&[u8]> = body.as_bytes().chunks(1).collect();
        assert_eq!(parse_in_pieces(&pieces), vec![data("\u{1F600}")]);
    }

    #[test]
    fn field_without_colon_and_without_space() {
        assert_eq!(
            parse_in_pieces(&[b"data\n\ndata:x\n\n"]),
            vec![data(""), data("x")]
        );
    }

    #[test]
    fn partial_event_is_reported_and_not_dispatched() {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        parser.push(b"data: half", &mut out).unwrap();
        assert!(out.is_empty());
        assert!(parser.has_partial_event());
        parser.push(b"\n", &mut out).unwrap();
        assert!(parser.has_partial_event());
        parser.push(b"\n", &mut out).unwrap();
        assert!(!parser.has_partial_event());
        assert_eq!(out, vec![data("half")]);
    }

    #[test]
    fn an_endless_line_is_refused() {
        let mut parser = SseParser::with_max_line_bytes(16);
        let mut out = Vec::new();
        assert!(parser.push(b"data: 0123456789", &mut out).is_ok());
        assert_eq!(
            parser.push(b"abcdef", &mut out),
            Err(SseError::LineTooLong { limit: 16 })
        );
    }

    #[test]
    fn id_is_carried() {
        let events = parse_in_pieces(&[b"id: 7\ndata: a\n\ndata: b\n\n"]);
        assert_eq!(events[0].id.as_deref(), Some("7"));
        assert_eq!(events[1].id.as_deref(), Some("7"));
    }
}

//! Turning generated token bytes into text a client can be shown: [`Utf8Assembler`] joins
//! the byte pieces of tokens into whole characters (one emoji often spans several tokens),
//! and [`StopFilter`] withholds text that might be the start of a stop sequence, so a stop
//! sequence is never streamed, not even in part.
//!
//! Both are pure and incremental: they see one token's output at a time.

/// Joins byte pieces into valid UTF-8, keeping an incomplete trailing character until its
/// remaining bytes arrive. Invalid bytes become U+FFFD rather than an error: the model's
/// output is shown, never trusted.
#[derive(Debug, Default)]
pub(crate) struct Utf8Assembler {
    pending: Vec<u8>,
}

impl Utf8Assembler {
    /// Adds a token's bytes and returns the text that is now complete.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut text = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(valid) => {
                    text.push_str(valid);
                    self.pending.clear();
                    return text;
                }
                Err(error) => {
                    let valid_up_to = error.valid_up_to();
                    // SAFETY-free: from_utf8 just said these bytes are valid.
                    text.push_str(
                        std::str::from_utf8(&self.pending[..valid_up_to]).unwrap_or_default(),
                    );
                    match error.error_len() {
                        // An incomplete character at the end: wait for more bytes.
                        None => {
                            self.pending.drain(..valid_up_to);
                            return text;
                        }
                        Some(bad) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            self.pending.drain(..valid_up_to + bad);
                        }
                    }
                }
            }
        }
    }

    /// Whatever is left at the end of generation (an incomplete character) as U+FFFD.
    pub fn finish(&mut self) -> String {
        if self.pending.is_empty() {
            String::new()
        } else {
            self.pending.clear();
            char::REPLACEMENT_CHARACTER.to_string()
        }
    }
}

/// What the filter decided about the text pushed so far.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Filtered {
    /// Text that is safe to show; more may follow.
    Text(String),
    /// A stop sequence was found: the text before it, and generation must end.
    Stopped(String),
}

/// Cuts the output at the first stop sequence and holds back any suffix that could still
/// grow into one.
#[derive(Debug)]
pub(crate) struct StopFilter {
    stops: Vec<String>,
    held: String,
}

impl StopFilter {
    pub fn new(stops: &[String]) -> Self {
        Self {
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
            held: String::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> Filtered {
        self.held.push_str(text);
        // Everything before `held` has been shown and, by construction, no stop sequence
        // can start there: any suffix that was a prefix of one was held back.
        let first_stop = self
            .stops
            .iter()
            .filter_map(|stop| self.held.find(stop.as_str()))
            .min();
        if let Some(at) = first_stop {
            let before = self.held[..at].to_owned();
            self.held.clear();
            return Filtered::Stopped(before);
        }
        let keep = self.longest_partial_stop();
        let emit_to = self.held.len() - keep;
        let emitted = self.held[..emit_to].to_owned();
        self.held.drain(..emit_to);
        Filtered::Text(emitted)
    }

    /// Text still held back when generation ends for another reason: it was not a stop
    /// sequence after all.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }

    /// Length in bytes of the longest suffix of `held` that is a proper prefix of a stop.
    fn longest_partial_stop(&self) -> usize {
        let mut longest = 0;
        for stop in &self.stops {
            for (end, _) in stop.char_indices().skip(1) {
                let prefix = &stop[..end];
                if end > longest && self.held.ends_with(prefix) {
                    longest = end;
                }
            }
        }
        longest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_split_across_tokens_is_emitted_once_whole() {
        let coffee = "☕".as_bytes();
        let mut assembler = Utf8Assembler::default();
        assert_eq!(assembler.push(b"hot "), "hot ");
        assert_eq!(assembler.push(&coffee[..1]), "");
        assert_eq!(assembler.push(&coffee[1..2]), "");
        assert_eq!(assembler.push(&coffee[2..]), "☕");
        assert_eq!(assembler.finish(), "");
    }

    #[test]
    fn invalid_bytes_become_replacement_characters_not_errors() {
        let mut assembler = Utf8Assembler::default();
        assert_eq!(assembler.push(b"a\xffb"), "a\u{FFFD}b");
        assert_eq!(assembler.push(&"é".as_bytes()[..1]), "");
        assert_eq!(assembler.finish(), "\u{FFFD}");
    }

    fn run(stops: &[&str], pieces: &[&str]) -> (String, bool) {
        let stops: Vec<String> = stops.iter().map(|s| s.to_string()).collect();
        let mut filter = StopFilter::new(&stops);
        let mut shown = String::new();
        for piece in pieces {
            match filter.push(piece) {
                Filtered::Text(text) => shown.push_str(&text),
                Filtered::Stopped(text) => {
                    shown.push_str(&text);
                    return (shown, true);
                }
            }
        }
        shown.push_str(&filter.finish());
        (shown, false)
    }

    #[test]
    fn a_stop_sequence_split_across_pieces_is_never_shown() {
        let (shown, stopped) = run(&["\nUser:"], &["Latte", " art\n", "Us", "er: more"]);
        assert_eq!(shown, "Latte art");
        assert!(stopped);
    }

    #[test]
    fn held_text_that_does_not_complete_a_stop_is_released() {
        let stops = vec!["END".to_string()];
        let mut filter = StopFilter::new(&stops);
        assert_eq!(filter.push("the EN"), Filtered::Text("the ".into()));
        // The held "EN" was the start of the stop sequence: it is never shown.
        assert_eq!(filter.push("D"), Filtered::Stopped(String::new()));
        let (shown, stopped) = run(&["END"], &["the EN", "ding"]);
        assert_eq!(shown, "the ENding");
        assert!(!stopped);
        let (shown, stopped) = run(&["END"], &["ok E"]);
        assert_eq!(shown, "ok E");
        assert!(!stopped);
    }

    #[test]
    fn the_earliest_of_several_stops_wins() {
        // "abc" starts at 2, before the first "b" at 3.
        let (shown, stopped) = run(&["b", "abc"], &["xxabcb"]);
        assert_eq!(shown, "xx");
        assert!(stopped);
        let (shown, stopped) = run(&["c", "abc"], &["xxabcb"]);
        assert_eq!(shown, "xx");
        assert!(stopped);
    }

    #[test]
    fn multibyte_stop_sequences_are_held_on_character_boundaries() {
        let (shown, stopped) = run(&["☕☕"], &["one ☕", " two ☕", "☕ three"]);
        assert_eq!(shown, "one ☕ two ");
        assert!(stopped);
    }

    #[test]
    fn no_stops_means_everything_passes_through() {
        let (shown, stopped) = run(&[], &["a", "b"]);
        assert_eq!(shown, "ab");
        assert!(!stopped);
    }
}

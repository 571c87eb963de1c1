//! Comparing a received message with a script's expectation (shared README, section 3.2): field
//! by field, in order, with `definitions/fields.fmt` patterns for the tags whose values vary.

use regex::bytes::Regex;

use super::script::SOH;

/// The per-tag value patterns of `fields.fmt` (`tag=regex` per line).
#[derive(Clone, Debug, Default)]
pub struct FieldFormats {
    patterns: Vec<(Vec<u8>, Regex)>,
}

impl FieldFormats {
    /// Parses the text of `fields.fmt`. Blank lines are skipped; a line without `=` or with a bad
    /// pattern is an error.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut patterns = Vec::new();
        for line in text.lines().map(|l| l.trim_end_matches('\r')) {
            if line.trim().is_empty() {
                continue;
            }
            let (tag, pattern) = line
                .split_once('=')
                .ok_or_else(|| format!("fields.fmt: no `=` in {line:?}"))?;
            let regex = Regex::new(pattern).map_err(|e| format!("fields.fmt: {tag}: {e}"))?;
            patterns.push((tag.as_bytes().to_vec(), regex));
        }
        Ok(Self { patterns })
    }

    fn pattern(&self, tag: &[u8]) -> Option<&Regex> {
        self.patterns
            .iter()
            .find(|(t, _)| t.as_slice() == tag)
            .map(|(_, r)| r)
    }
}

/// Compares `received` with `expected` (both complete messages); `Err` names the first mismatch.
pub fn compare(formats: &FieldFormats, expected: &[u8], received: &[u8]) -> Result<(), String> {
    let want = split_fields(expected);
    let got = split_fields(received);
    if want.len() != got.len() {
        return Err(format!(
            "Number of fields do not match: expected {}, received {}",
            want.len(),
            got.len()
        ));
    }
    for ((want_tag, want_value), (got_tag, got_value)) in want.iter().zip(&got) {
        if want_tag != got_tag {
            return Err(format!(
                "Expected field ({}) but found field ({})",
                show(want_tag),
                show(got_tag)
            ));
        }
        let matches = match formats.pattern(want_tag) {
            Some(regex) => regex.is_match(got_value),
            None => want_value == got_value,
        };
        if !matches {
            return Err(format!(
                "Value of field ({}) expected ({}) but found ({})",
                show(want_tag),
                show(want_value),
                show(got_value)
            ));
        }
    }
    Ok(())
}

/// Splits at SOH (a trailing empty piece dropped) into (tag, value); the value stops at a second
/// `=` as in the reference runner.
fn split_fields(message: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut pieces: Vec<&[u8]> = message.split(|&b| b == SOH).collect();
    if pieces.last().is_some_and(|p| p.is_empty()) {
        pieces.pop();
    }
    pieces
        .into_iter()
        .map(|piece| {
            let mut parts = piece.split(|&b| b == b'=');
            let tag = parts.next().unwrap_or_default();
            let value = parts.next().unwrap_or_default();
            (tag, value)
        })
        .collect()
}

/// A message for a report, SOH shown as `|`.
pub fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace('\x01', "|")
}

//! Spreadsheet safety (OWASP CSV injection): a text cell that starts with `=`, `+`, `-`, `@`, a tab or a
//! carriage return is prefixed with a single quote, so a spreadsheet shows it as text instead of running it.
//! Numbers written by sybilscan itself (weights, probabilities) are not text cells and are not touched.

use std::borrow::Cow;

pub fn cell(s: &str) -> Cow<'_, str> {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralises_formula_starts() {
        let cases = [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1 415 555", "'+1 415 555"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("\rcmd", "'\rcmd"),
            ("John Smith", "John Smith"),
            ("a=b", "a=b"),
            ("", ""),
        ];
        for (raw, want) in cases {
            assert_eq!(cell(raw), want, "{raw:?}");
        }
    }
}

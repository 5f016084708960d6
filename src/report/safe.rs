//! Spreadsheet safety (OWASP CSV injection): a text cell that starts with `=`, `+`, `-`, `@`, a tab or a
//! carriage return is prefixed with a single quote, so a spreadsheet shows it as text instead of running it.
//! Numbers written by sybilscan itself (weights, probabilities) are not text cells and are not touched.
//! A text that may be longer than a spreadsheet cell holds (a quarantined row's raw text) is cut to fit
//! (`long_cell`).

use std::borrow::Cow;

pub fn cell(s: &str) -> Cow<'_, str> {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

/// Spreadsheets hold at most 32,767 characters in a cell (Excel, LibreOffice Calc); longer text is cut there
/// on opening, or the file refused. Raw text is cut to this many bytes, with what was left out said at the end.
pub const CELL_MAX: usize = 32_000;

/// `cell`, for a text that can outgrow a cell: cut at a character boundary below `CELL_MAX` bytes, ending in
/// `… [N bytes more]`. (A quarantined row whose quote was never closed holds the rest of the file.)
pub fn long_cell(s: &str) -> Cow<'_, str> {
    if s.len() <= CELL_MAX {
        return cell(s);
    }
    let mut end = CELL_MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!(
        "{}… [{} bytes more]",
        cell(&s[..end]),
        s.len() - end
    ))
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

    #[test]
    fn long_text_is_cut_to_fit_a_cell() {
        let short = "é".repeat(CELL_MAX / 2);
        assert_eq!(long_cell(&short), short);
        // One byte over, with a two-byte character across the cut: cut before it.
        let long = format!("={}", "é".repeat(CELL_MAX / 2));
        let got = long_cell(&long);
        assert!(got.starts_with("'=é"), "{}", &got[..8]);
        assert!(
            got.ends_with("… [2 bytes more]"),
            "{}",
            &got[got.len() - 30..]
        );
        assert!(got.chars().count() < 32_767);
        let huge = "x".repeat(10 * CELL_MAX);
        assert_eq!(
            long_cell(&huge).len(),
            CELL_MAX + "… [288000 bytes more]".len()
        );
    }
}

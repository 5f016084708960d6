//! Phone numbers: parsed with the `phonenumber` crate (libphonenumber's metadata), the account's country as the
//! default region, and written as E.164 (`+14155550123`). A number that cannot be parsed is counted and not
//! used; a national number on an account without a country keeps its digits (`national:…`). A parsed number
//! that the metadata calls invalid for its region is still used: exports and test data
//! carry numbers from ranges the metadata does not know, and the E.164 form is what identifies them.

use std::str::FromStr;

use phonenumber::country::Id;

/// Parses a country code (ISO 3166-1 alpha-2, any case) into the region type the parser wants.
pub fn region(country: &str) -> Option<Id> {
    let c = country.trim();
    if c.len() != 2 {
        return None;
    }
    Id::from_str(&c.to_ascii_uppercase()).ok()
}

/// Normalizes one phone number to E.164. `Ok(None)` for an empty value, `Err(())` when it cannot be parsed.
#[allow(clippy::result_unit_err)]
pub fn normalize(raw: &str, region: Option<Id>) -> Result<Option<String>, ()> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if !(6..=17).contains(&digits) {
        return Err(());
    }
    // "00" international prefix is common in Europe; the parser needs a region to know it, so help it.
    let owned;
    let s = if let Some(rest) = s.strip_prefix("00") {
        owned = format!("+{rest}");
        owned.as_str()
    } else {
        s
    };
    // Fast path: an international number written with only digits and separators is its E.164 form
    // already ("+1 (415) 555-0123" → +14155550123); libphonenumber gives the same, ten times slower. A
    // parenthesised trunk zero ("+44 (0)20 …") is left to the parser, which drops it.
    if let Some(rest) = s.strip_prefix('+')
        && !rest.contains("(0")
        && rest
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b' ' | b'-' | b'.' | b'(' | b')'))
        && !rest.starts_with('0')
        // A group starting with 0 after the country code is a trunk zero ("+44 07911 …", dropped) or part of
        // the number (Italy's "+39 06 …", kept): the parser knows which.
        && !rest.split([' ', '-', '.', '(', ')']).skip(1).any(|g| g.starts_with('0'))
    {
        let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
        if (8..=15).contains(&digits.len()) {
            return Ok(Some(format!("+{digits}")));
        }
    }
    // A national number on an account without a country cannot be placed in E.164; its digits still identify
    // it within one export, so they are kept as a value of their own (`national:4155550123`).
    if region.is_none() && !s.starts_with('+') {
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        return if digits.len() >= 7 {
            Ok(Some(format!("national:{digits}")))
        } else {
            Err(())
        };
    }
    // The parser is a third-party regex machine: a panic on some odd input must not end the run, so it is
    // contained and the value counted as unparseable.
    let parsed = std::panic::catch_unwind(|| phonenumber::parse(region, s))
        .map_err(|_| ())?
        .map_err(|_| ())?;
    let national = parsed.national();
    let zeros = "0".repeat(national.zeros() as usize);
    let e164 = format!("+{}{}{}", parsed.code().value(), zeros, national.value());
    if e164.len() < 8 {
        return Err(());
    }
    Ok(Some(e164))
}

/// The national significant number of a normalized phone value: the digits after the country calling code
/// of an E.164 number (calling codes are prefix-free), or the digits of a `national:` value without a
/// leading trunk zero. Two accounts whose numbers agree here but not in E.164 typed the same number, one of
/// them without a country.
pub fn national_significant(value: &str) -> Option<String> {
    if let Some(d) = value.strip_prefix("national:") {
        let nsn = d.trim_start_matches('0');
        return (nsn.len() >= 6).then(|| nsn.to_string());
    }
    let digits = value.strip_prefix('+')?;
    // Only the digits of a normalized E.164 value (found by fuzzing: a slice inside a multi-byte character).
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let db = &*phonenumber::metadata::DATABASE;
    (1..=3)
        .filter(|&n| n < digits.len())
        .find(|&n| {
            digits[..n]
                .parse::<u16>()
                .is_ok_and(|c| db.by_code(&c).is_some())
        })
        .map(|n| digits[n..].trim_start_matches('0').to_string())
        .filter(|nsn| nsn.len() >= 6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_forms() {
        let cases: &[(&str, &str, &str)] = &[
            ("(415) 555-0123", "US", "+14155550123"),
            ("+1 415 555 0123", "US", "+14155550123"),
            ("415.555.0123", "us", "+14155550123"),
            ("+1-415-555-0123", "", "+14155550123"),
            ("020 7946 0958", "GB", "+442079460958"),
            ("+44 20 7946 0958", "DE", "+442079460958"),
            ("0044 20 7946 0958", "FR", "+442079460958"),
            ("030 1234567", "DE", "+49301234567"),
            ("+7 912 345-67-89", "RU", "+79123456789"),
            ("8 (912) 345-67-89", "RU", "+79123456789"),
            ("06 12 34 56 78", "FR", "+33612345678"),
            ("+39 06 1234 5678", "IT", "+390612345678"),
            ("98765 43210", "IN", "+919876543210"),
            ("+44 (0)20 7946 0958", "GB", "+442079460958"),
            ("+33 (6) 12 34 56 78", "FR", "+33612345678"),
            ("+44 07911 123456", "", "+447911123456"),
            ("+44 07911 123456", "GB", "+447911123456"),
        ];
        for (raw, country, want) in cases {
            let got = normalize(raw, region(country));
            assert_eq!(got, Ok(Some(want.to_string())), "{raw:?} in {country:?}");
        }
    }

    #[test]
    fn national_significant_numbers() {
        let cases = [
            ("+14155550123", Some("4155550123")),
            ("+447911123456", Some("7911123456")),
            ("+79123456789", Some("9123456789")),
            ("+390612345678", Some("612345678")),
            ("national:07911123456", Some("7911123456")),
            ("national:4155550123", Some("4155550123")),
            ("national:00012", None),
            ("+1", None),
            // Fuzzing regression (fuzz/artifacts/normalizers/crash-b4cb91f1…): not digits after the `+`.
            ("+\u{fffd}\u{fffd}||~||||||||||||||\u{fffd}EG", None),
            ("+4\u{e9}1234567", None),
        ];
        for (v, want) in cases {
            assert_eq!(national_significant(v).as_deref(), want, "{v}");
        }
    }

    /// The fast path and the parser agree on international numbers.
    #[test]
    fn fast_path_agrees_with_the_parser() {
        for raw in [
            "+1 415 555 0123",
            "+44 20 7946 0958",
            "+7 912 345-67-89",
            "+39 06 1234 5678",
            "+91 98765 43210",
            "+86 139 1234 5678",
            "+55 (11) 91234-5678",
            "+49 151 23456789",
        ] {
            let parsed = phonenumber::parse(None, raw).unwrap();
            let slow = format!(
                "+{}{}{}",
                parsed.code().value(),
                "0".repeat(parsed.national().zeros() as usize),
                parsed.national().value()
            );
            assert_eq!(normalize(raw, None), Ok(Some(slow)), "{raw:?}");
        }
    }

    #[test]
    fn empty_and_unparseable() {
        assert_eq!(normalize("", region("US")), Ok(None));
        assert_eq!(normalize("   ", region("US")), Ok(None));
        for raw in ["abc", "12", "555-01", "+", "1234567890123456789012"] {
            assert_eq!(normalize(raw, region("US")), Err(()), "{raw:?}");
        }
        // A national number without a region cannot be placed: its digits are kept as they are.
        assert_eq!(
            normalize("(415) 555-0123", None),
            Ok(Some("national:4155550123".into()))
        );
        assert_eq!(
            normalize("555-0123", None),
            Ok(Some("national:5550123".into()))
        );
    }

    #[test]
    fn regions() {
        assert_eq!(region("us"), Some(Id::US));
        assert_eq!(region(" GB "), Some(Id::GB));
        assert_eq!(region(""), None);
        assert_eq!(region("ZZZ"), None);
    }
}

//! Phone numbers: parsed with the `phonenumber` crate (libphonenumber's metadata), the account's country as the
//! default region, and written as E.164 (`+14155550123`). A number that cannot be parsed is counted and not
//! used; a national number on an account without a country keeps its digits (`national:…`). A parsed number
//! that the metadata calls invalid for its region is still used: exports and test data
//! carry numbers from ranges the metadata does not know, and the E.164 form is what identifies them.

use std::str::FromStr;

use phonenumber::country::Id;

/// Parses a country code (ISO 3166-1 alpha-2, any case) into the region type the parser wants.
pub fn region(country: &str) -> Option<Id> {
    let c = country.trim().as_bytes();
    if c.len() != 2 || !c.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let letter = |b: u8| usize::from(b.to_ascii_uppercase() - b'A');
    regions()[letter(c[0]) * 26 + letter(c[1])]
}

/// The parser's region of every pair of letters (`AA` to `ZZ`), looked up once per process: every account
/// asks for its country's.
fn regions() -> &'static [Option<Id>] {
    static REGIONS: std::sync::OnceLock<Vec<Option<Id>>> = std::sync::OnceLock::new();
    REGIONS.get_or_init(|| {
        (b'A'..=b'Z')
            .flat_map(|a| (b'A'..=b'Z').map(move |b| [a, b]))
            .map(|code| Id::from_str(std::str::from_utf8(&code).unwrap_or("")).ok())
            .collect()
    })
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
    if let Some(e164) = international_e164(s, region) {
        return Ok(Some(e164));
    }
    // A national number on an account without a country cannot be placed in E.164; its digits still identify
    // it within one export, so they are kept as a value of their own (`national:4155550123`).
    if region.is_none() && !s.starts_with('+') {
        let digits = crate::normalize::ascii_kept(s, u8::is_ascii_digit);
        return if digits.len() >= 7 {
            Ok(Some(format!("national:{digits}")))
        } else {
            Err(())
        };
    }
    if let Some(region) = region
        && let Some(e164) = national::e164(s, region)
    {
        return Ok(Some(e164));
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

/// A byte of a number typed with digits and the usual separators only.
fn typed_digit(c: u8) -> bool {
    c.is_ascii_digit() || matches!(c, b' ' | b'-' | b'.' | b'(' | b')')
}

/// An international number written with digits and separators only, in E.164, without the parser; `None`
/// leaves it to the parser. Fast path: such a number is its digits ("+1 (415) 555-0123" → +14155550123);
/// libphonenumber gives the same, ten times slower. A parenthesised trunk zero ("+44 (0)20 …") is left to the
/// parser, which drops it. A group starting with 0 after the country code is a trunk zero ("+44 07911 …",
/// dropped) or part of the number (Italy's "+39 06 …", kept), and one later in the number is part of it: such
/// numbers are read by the parser's own steps for the account's region (`national::international`).
fn international_e164(s: &str, region: Option<Id>) -> Option<String> {
    let rest = s
        .strip_prefix('+')
        .filter(|r| !r.contains("(0") && r.bytes().all(typed_digit))?;
    let digits = crate::normalize::ascii_kept(rest, u8::is_ascii_digit);
    let plain = !rest.starts_with('0')
        && !rest
            .split([' ', '-', '.', '(', ')'])
            .skip(1)
            .any(|g| g.starts_with('0'));
    if plain && (8..=15).contains(&digits.len()) {
        return Some(["+", digits.as_str()].concat());
    }
    national::international(&digits, region?)
}

/// National numbers (digits and separators, no `+`) read the way `phonenumber::parse` reads them, with the
/// region's own rules from the same metadata compiled once per process. The parser looks each of its regular
/// expressions up in one process-wide cache behind a mutex, so two threads parsing phones run one at a time
/// (measured: two threads parse fewer numbers per second than one); this path shares nothing mutable. It
/// follows the parser step by step for the inputs it accepts and answers `None` — leave it to the parser —
/// for anything else: an international dialling prefix, a number the parser would reject, a region whose
/// patterns do not compile. The unit test `national_path_agrees_with_the_parser` compares the two on every
/// region of the metadata.
mod national {
    use std::borrow::Cow;
    use std::sync::OnceLock;

    use phonenumber::country::Id;
    use regex::{Regex, RegexBuilder};

    /// The parser's limits on a national significant number (`consts::{MIN,MAX}_LENGTH_FOR_NSN`).
    const MIN_NSN: usize = 2;
    const MAX_NSN: usize = 17;

    /// One region's parsing rules.
    struct Rules {
        code: String,
        idd: Option<Regex>,
        general: Regex,
        lengths: Vec<u16>,
        local_lengths: Vec<u16>,
        national_prefix: Option<String>,
        prefix_for_parsing: Option<Regex>,
        transform: Option<String>,
    }

    #[derive(PartialEq)]
    enum Length {
        Possible,
        TooShort,
        Other,
    }

    /// A metadata pattern compiled to match at the start of the text only. The parser searches anywhere and
    /// keeps a match only when it starts at 0: the leftmost-first match found from position 0 is the one an
    /// anchored search finds, and an anchored search gives up at the first byte instead of trying every
    /// position of the number (a third of a phone's time before).
    fn compile(pattern: &str) -> Option<Regex> {
        // The metadata's patterns are written with insignificant white space, as the parser compiles them
        // (the line break ends a comment, should a pattern hold one, before the group closes).
        // Only ASCII digits are ever matched (`typed_digit` is checked first): `\d` as `[0-9]` gives those
        // the same matches, from an automaton a fraction of the size of Unicode's decimal digits (compiling
        // the Unicode ones was most of a phone's cost in a small export).
        RegexBuilder::new(&format!("^(?:{pattern}\n)"))
            .ignore_whitespace(true)
            .unicode(false)
            .build()
            .ok()
    }

    impl Rules {
        fn of(region: Id) -> Option<Rules> {
            let meta = phonenumber::metadata::DATABASE.by_id(region.as_ref())?;
            let general = meta.descriptors().general();
            let optional = |pattern: Option<&str>| match pattern {
                None => Some(None),
                Some(p) => compile(p).map(Some),
            };
            Some(Rules {
                code: meta.country_code().to_string(),
                idd: optional(meta.international_prefix().map(|r| r.as_str()))?,
                general: compile(general.national_number().as_str())?,
                lengths: general.possible_length().to_vec(),
                local_lengths: general.possible_local_length().to_vec(),
                national_prefix: meta.national_prefix().map(str::to_string),
                prefix_for_parsing: optional(
                    meta.national_prefix_for_parsing().map(|r| r.as_str()),
                )?,
                transform: meta.national_prefix_transform_rule().map(str::to_string),
            })
        }

        /// `Descriptor::is_match` of the general description: a possible length and a match at the start.
        fn general_match(&self, n: &str) -> bool {
            (self.lengths.is_empty() || self.lengths.contains(&(n.len() as u16)))
                && self.general.is_match(n)
        }

        /// `validator::length` for the general description, as far as the parser uses it.
        fn length(&self, n: usize) -> Length {
            let (Some(&min), Some(&max)) = (self.lengths.first(), self.lengths.last()) else {
                return Length::Other;
            };
            let len = u16::try_from(n).unwrap_or(u16::MAX);
            if self.local_lengths.contains(&len) || len == min {
                Length::Possible
            } else if len < min {
                Length::TooShort
            } else if len <= max && self.lengths.contains(&len) {
                Length::Possible
            } else {
                Length::Other
            }
        }

        /// The national prefix stripped (`helper::national_number` and the parser's second strip after it);
        /// `None` where the parser would fail.
        fn strip_national_prefix<'a>(&self, n: &'a str) -> Option<Cow<'a, str>> {
            let mut out = Cow::Borrowed(n);
            match &self.prefix_for_parsing {
                None => {
                    if let Some(p) = &self.national_prefix
                        && let Some(rest) = n.strip_prefix(p.as_str())
                    {
                        out = Cow::Borrowed(rest);
                    }
                }
                // Without a transform rule only the match's end is read: no groups to capture.
                Some(re) if self.transform.is_none() => {
                    if let Some(whole) = re.find(n) {
                        out = Cow::Borrowed(&n[whole.end()..]);
                    }
                }
                Some(re) => {
                    if let Some(caps) = re.captures(n)
                        && let Some(whole) = caps.get(0)
                    {
                        let viable = self.general_match(n);
                        let last = caps.get(caps.len() - 1);
                        match (&self.transform, last) {
                            // The parser's check here reads the number from the match's start, which is 0: the
                            // whole number again, so the prefix is always stripped.
                            (None, _) | (_, None) => out = Cow::Borrowed(&n[whole.end()..]),
                            // The parser takes the first group as the carrier code and fails without it.
                            (Some(_), Some(_)) if caps.get(1).is_none() => return None,
                            (Some(rule), Some(_)) => {
                                let transformed = re.replace(n, rule.as_str());
                                if !viable || self.general_match(&transformed) {
                                    out = Cow::Owned(transformed.into_owned());
                                }
                            }
                        }
                    }
                }
            }
            if let Some(p) = &self.national_prefix
                && out.starts_with(p.as_str())
            {
                out = Cow::Owned(out[p.len()..].to_string());
            }
            Some(out)
        }
    }

    /// Whether a region's patterns all compiled (`Rules::of`).
    #[cfg(test)]
    pub(super) fn rules_compile(region: Id) -> bool {
        rules(region).is_some()
    }

    fn rules(region: Id) -> Option<&'static Rules> {
        // One slot per region (`Id` is a plain enum: its discriminant indexes the slots), compiled on first use.
        static ALL: OnceLock<Vec<OnceLock<Option<Rules>>>> = OnceLock::new();
        let all = ALL.get_or_init(|| {
            let slots = phonenumber::metadata::DATABASE
                .iter()
                .filter_map(|m| m.id().parse::<Id>().ok())
                .map(|id| id as usize + 1)
                .max()
                .unwrap_or(0);
            (0..slots).map(|_| OnceLock::new()).collect()
        });
        all.get(region as usize)?
            .get_or_init(|| Rules::of(region))
            .as_ref()
    }

    /// The E.164 form the parser gives a national number typed on an account of `region`, or `None` to ask
    /// the parser.
    pub(super) fn e164(s: &str, region: Id) -> Option<String> {
        if !s.bytes().all(super::typed_digit) {
            return None;
        }
        let rules = rules(region)?;
        let digits = crate::normalize::ascii_kept(s, u8::is_ascii_digit);
        if rules.idd.as_ref().is_some_and(|idd| idd.is_match(&digits)) {
            return None;
        }
        let mut n: &str = &digits;
        if n.starts_with(rules.code.as_str())
            && (!rules.general_match(n) || rules.length(n.len()) != Length::Possible)
        {
            n = &n[rules.code.len()..];
        }
        let potential = rules.strip_national_prefix(n)?;
        let n: &str = if rules.length(potential.len()) != Length::TooShort {
            &potential
        } else {
            n
        };
        let significant = n.trim_start_matches('0');
        let value: u64 = significant.parse().ok()?;
        if !(MIN_NSN..=MAX_NSN).contains(&n.len()) || value >= 1 << 56 {
            return None;
        }
        let e164 = ["+", rules.code.as_str(), n].concat();
        (e164.len() >= 8).then_some(e164)
    }
    /// The E.164 form the parser gives an international number typed on an account of `region` (`digits`: all
    /// digits after the `+`), or `None` to ask the parser. The parser reads the calling code (the shortest
    /// prefix the metadata knows), then strips a national prefix from the rest by the rules of the account's
    /// region — not the code's — unless that leaves a number too short for the region. Numbers whose rest
    /// starts with 0 (trunk zeros, Italy's kept zero) or that begin with the region's international dialling
    /// prefix are left to the parser.
    pub(super) fn international(digits: &str, region: Id) -> Option<String> {
        let len = (1..=3).find(|&n| {
            n < digits.len() && digits[..n].parse::<u16>().is_ok_and(super::is_calling_code)
        })?;
        let (code, n) = digits.split_at(len);
        if digits.starts_with('0') || n.starts_with('0') || n.len() <= MIN_NSN {
            return None;
        }
        let rules = rules(region)?;
        // The parser strips the region's international dialling prefix after a `+` too ("+00 49 …", and
        // Chile's `1200` before a NANP number).
        if rules.idd.as_ref().is_some_and(|idd| idd.is_match(digits)) {
            return None;
        }
        let potential = rules.strip_national_prefix(n)?;
        let n: &str = if rules.length(potential.len()) != Length::TooShort {
            &potential
        } else {
            n
        };
        let value: u64 = n.trim_start_matches('0').parse().ok()?;
        if !(MIN_NSN..=MAX_NSN).contains(&n.len()) || value >= 1 << 56 {
            return None;
        }
        let e164 = ["+", code, n].concat();
        (e164.len() >= 8).then_some(e164)
    }
}

/// Whether a number is a country calling code of the metadata (a table built once: the database's own lookup
/// allocates a list per call, three calls per phone).
fn is_calling_code(code: u16) -> bool {
    static CODES: std::sync::OnceLock<Vec<bool>> = std::sync::OnceLock::new();
    let codes = CODES.get_or_init(|| {
        let db = &*phonenumber::metadata::DATABASE;
        (0..1000u16).map(|c| db.by_code(&c).is_some()).collect()
    });
    codes.get(code as usize).copied().unwrap_or(false)
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
    (1..=3)
        .filter(|&n| n < digits.len())
        .find(|&n| digits[..n].parse::<u16>().is_ok_and(is_calling_code))
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
            // The calling code glued to the first digits of the number, a later group starting with 0: the
            // parser takes the first group (79) for the calling code and fails; the same shape without a
            // 0-group was always read by its digits.
            ("+79-837-425-078", "RU", "+79837425078"),
            ("+79-837-425-178", "RU", "+79837425178"),
            ("+17-973-057-129", "US", "+17973057129"),
            ("+7 987 032-94-51", "RU", "+79870329451"),
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

    /// Every region of the parser's metadata (checked to be the whole of it: more than 200).
    fn every_region() -> Vec<Id> {
        let regions: Vec<Id> = phonenumber::metadata::DATABASE
            .iter()
            .filter_map(|m| m.id().parse::<Id>().ok())
            .collect();
        assert!(regions.len() > 200, "{} regions", regions.len());
        regions
    }

    /// Every region's national-number patterns compile.
    #[test]
    fn every_region_has_its_rules() {
        // A pattern that failed to compile would leave its region to the parser: right, but slow.
        let regions = every_region();
        for region in regions {
            assert!(national::rules_compile(region), "{region:?}");
        }
    }

    /// The international path gives what the parser gives an international number typed on an account of
    /// any region of the metadata: calling codes of one to three digits (the region's own and others), rests
    /// of 4 to 14 digits starting with each digit (national prefixes such as Russia's 8 or the NANP's 1, trunk
    /// zeros), zeros inside later groups, in the usual typed shapes. Where it answers, the answer is the
    /// parser's; and it answers for most of them, so that the comparison is not empty.
    #[test]
    fn international_path_agrees_with_the_parser() {
        let mut next = crate::testing::below(0x2545_F491_4F6C_DD1D);
        let regions: Vec<(Id, u16)> = phonenumber::metadata::DATABASE
            .iter()
            .filter_map(|m| Some((m.id().parse::<Id>().ok()?, m.country_code())))
            .collect();
        assert!(regions.len() > 200, "{} regions", regions.len());
        let (mut asked, mut answered) = (0usize, 0usize);
        for &(region, own) in &regions {
            let transform = phonenumber::metadata::DATABASE
                .by_id(region.as_ref())
                .is_some_and(|m| m.national_prefix_transform_rule().is_some());
            let rounds = if transform { 1500 } else { 60 };
            for i in 0..rounds {
                let code = match next(3) {
                    0 => own,
                    _ => regions[next(regions.len() as u64) as usize].1,
                };
                let len = 4 + next(11) as usize;
                let mut rest = char::from(b'0' + (i % 10) as u8).to_string();
                while rest.len() < len {
                    // Zeros often, so that later groups start with one.
                    let d = if next(3) == 0 { 0 } else { next(10) };
                    rest.push(char::from(b'0' + d as u8));
                }
                let (a, b) = rest.split_at(len / 3);
                let (b, c) = b.split_at(b.len() / 2);
                let typed = match next(4) {
                    0 => format!("+{code}{rest}"),
                    1 => format!("+{code} {a} {b} {c}"),
                    2 => format!("+{code} ({a}) {b}-{c}"),
                    _ => format!("+{code}-{a}.{b}.{c}"),
                };
                asked += 1;
                if let Some(fast) = national::international(&format!("{code}{rest}"), region) {
                    answered += 1;
                    assert_eq!(
                        Some(fast),
                        parser_e164(&typed, region),
                        "{typed:?} in {region:?}"
                    );
                }
            }
        }
        assert!(answered * 2 > asked, "{answered} of {asked}");
    }

    /// What `phonenumber::parse` makes of a value, in the form `normalize` writes.
    fn parser_e164(raw: &str, region: Id) -> Option<String> {
        let parsed = phonenumber::parse(Some(region), raw).ok()?;
        let national = parsed.national();
        let e164 = format!(
            "+{}{}{}",
            parsed.code().value(),
            "0".repeat(national.zeros() as usize),
            national.value()
        );
        (e164.len() >= 8).then_some(e164)
    }

    /// The national path gives what the parser gives, on every region of the metadata: numbers of 6 to 16
    /// digits starting with trunk prefixes, dialling prefixes, the country code or anything, in the usual
    /// typed shapes. Where it answers, the answer is the parser's; and it answers for most of them, so that
    /// the comparison is not empty.
    #[test]
    fn national_path_agrees_with_the_parser() {
        let mut next = crate::testing::below(0x9E37_79B9_7F4A_7C15);
        let (mut asked, mut answered) = (0usize, 0usize);
        let regions = every_region();
        for region in regions {
            let meta = phonenumber::metadata::DATABASE
                .by_id(region.as_ref())
                .unwrap();
            let code = meta.country_code().to_string();
            let starts = [
                "",
                "0",
                "1",
                "8",
                "00",
                "011",
                "810",
                "06",
                code.as_str(),
                "0",
                "9",
            ];
            // Regions that rewrite a national prefix (Argentina, Mexico, Brazil…) have the most branches.
            let rounds = if meta.national_prefix_transform_rule().is_some() {
                3000
            } else {
                60
            };
            for i in 0..rounds {
                let start = starts[i % starts.len()];
                let len = 6 + next(11) as usize;
                let mut digits = start.to_string();
                while digits.len() < len {
                    digits.push(char::from(b'0' + next(10) as u8));
                }
                let typed = match next(4) {
                    0 => digits.clone(),
                    1 => format!("{} {} {}", &digits[..2], &digits[2..5], &digits[5..]),
                    2 => format!("({}) {}-{}", &digits[..3], &digits[3..6], &digits[6..]),
                    _ => format!("{}.{}", &digits[..4], &digits[4..]),
                };
                asked += 1;
                if let Some(fast) = national::e164(&typed, region) {
                    answered += 1;
                    assert_eq!(
                        Some(fast),
                        parser_e164(&typed, region),
                        "{typed:?} in {region:?}"
                    );
                }
            }
        }
        assert!(answered * 10 > asked * 7, "answered {answered} of {asked}");
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
    fn regions_are_the_parsers() {
        assert_eq!(region("us"), Some(Id::US));
        assert_eq!(region(" GB "), Some(Id::GB));
        assert_eq!(region(""), None);
        assert_eq!(region("ZZZ"), None);
        assert_eq!(region("1A"), None);
        assert_eq!(region("é"), None);
        // The table answers every pair of letters, in either case, as the parser does.
        for a in b'a'..=b'z' {
            for b in b'A'..=b'Z' {
                let code = String::from_utf8(vec![a, b]).unwrap();
                let parser = Id::from_str(&code.to_ascii_uppercase()).ok();
                assert_eq!(region(&code), parser, "{code}");
            }
        }
    }
}

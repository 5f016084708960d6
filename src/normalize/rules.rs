//! What an export's conventions change about values: status, account-type and country synonyms
//! (`[values.*]` in the config, case-insensitive), country names and alpha-3 codes (the `celes` ISO 3166
//! tables), the date format of each date column (configured in `[dates]`, or detected from the first rows:
//! a day above 12 decides between day-first and month-first; a column where nothing decides is reported, never
//! guessed row by row), and the placeholders exports are full of (`N/A`, `1900-01-01`, `0000000000`,
//! `test@test.com`), which are no one's identifiers.

use std::collections::HashMap;
use std::str::FromStr;

use serde::Serialize;

use crate::config::Config;
use crate::record::{AccountType, Status};

/// One piece of a date pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Lit(char),
}

/// A date column's format: ISO 8601 (always accepted), and optionally a pattern of `%Y %m %d %H %M %S`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DateFormat {
    pattern: Vec<Tok>,
}

impl DateFormat {
    /// Parses a `strftime`-like pattern; `Err` names what is not supported.
    pub fn parse(fmt: &str) -> Result<DateFormat, String> {
        let mut pattern = Vec::new();
        let mut it = fmt.chars();
        while let Some(c) = it.next() {
            if c != '%' {
                pattern.push(Tok::Lit(c));
                continue;
            }
            pattern.push(match it.next() {
                Some('Y') => Tok::Year,
                Some('m') => Tok::Month,
                Some('d') => Tok::Day,
                Some('H') => Tok::Hour,
                Some('M') => Tok::Minute,
                Some('S') => Tok::Second,
                other => return Err(format!("unsupported directive %{}", other.unwrap_or(' '))),
            });
        }
        let has = |t: Tok| pattern.contains(&t);
        if !(has(Tok::Year) && has(Tok::Month) && has(Tok::Day)) {
            return Err(format!("{fmt:?} needs %Y, %m and %d"));
        }
        Ok(DateFormat { pattern })
    }

    pub fn is_iso(&self) -> bool {
        self.pattern.is_empty()
    }

    /// `(y, m, d, seconds of the day)` of a value in this pattern; a time after a date-only pattern
    /// (` 10:20` or `T10:20:30`) is accepted.
    fn fields(&self, s: &str) -> Option<(i64, i64, i64, i64)> {
        let b = s.as_bytes();
        let mut i = 0;
        let (mut y, mut mo, mut d, mut h, mut mi, mut se) = (None, None, None, 0, 0, 0);
        for t in &self.pattern {
            let width = match t {
                Tok::Lit(c) => {
                    let mut buf = [0u8; 4];
                    let lit = c.encode_utf8(&mut buf).as_bytes();
                    if !b[i..].starts_with(lit) {
                        return None;
                    }
                    i += lit.len();
                    continue;
                }
                Tok::Year => 4..=4,
                _ => 1..=2,
            };
            let n = b[i..]
                .iter()
                .take(*width.end())
                .take_while(|c| c.is_ascii_digit())
                .count();
            if !width.contains(&n) {
                return None;
            }
            let v: i64 = s[i..i + n].parse().ok()?;
            i += n;
            match t {
                Tok::Year => y = Some(v),
                Tok::Month => mo = Some(v),
                Tok::Day => d = Some(v),
                Tok::Hour => h = v,
                Tok::Minute => mi = v,
                Tok::Second => se = v,
                Tok::Lit(_) => {}
            }
        }
        let rest = &s[i..];
        let mut secs = h * 3600 + mi * 60 + se;
        if !rest.is_empty() {
            let t = rest.strip_prefix([' ', 'T'])?;
            let (hh, tail) = t.split_once(':')?;
            let mm = tail.get(..2)?;
            let ss = tail.get(3..5).unwrap_or("0");
            secs = hh.parse::<i64>().ok()? * 3600
                + mm.parse::<i64>().ok()? * 60
                + ss.parse::<i64>().ok()?;
        }
        Some((y?, mo?, d?, secs))
    }

    /// A birth date as YYYYMMDD: ISO first, then this pattern; `None` when neither reads it or the date is
    /// not on the calendar.
    pub fn date(&self, s: &str) -> Option<u32> {
        let s = s.trim();
        if let Some((y, m, d)) = super::parse_date(s).filter(|_| s.len() == 10) {
            return Some((y * 10_000 + m * 100 + d) as u32);
        }
        let (y, m, d, _) = self.fields(s)?;
        super::parse_date(&format!("{y:04}-{m:02}-{d:02}"))?;
        Some((y * 10_000 + m * 100 + d) as u32)
    }

    /// A date-time as seconds since the epoch: ISO (and Unix timestamps) first, then this pattern.
    pub fn datetime(&self, s: &str) -> Option<i64> {
        if let Some(t) = super::parse_datetime(s) {
            return Some(t);
        }
        let (y, m, d, secs) = self.fields(s.trim())?;
        let day = super::parse_datetime(&format!("{y:04}-{m:02}-{d:02}"))?;
        Some(day + secs)
    }
}

/// How a date column's format was settled, for `summary.json`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DateReport {
    /// The pattern used besides ISO 8601 (empty: ISO only).
    pub format: String,
    /// `configured`, `iso` (no other shape seen), `detected: …` or `ambiguous: …` (then only ISO values are
    /// read; set `[dates]` in the config).
    pub how: String,
}

/// Detects a date column's non-ISO format from sample values: `a/b/yyyy` shapes (any of `/ . -`) decide by a
/// part above 12; `yyyymmdd` is read as such.
pub fn detect_date_format(values: &[&str]) -> (DateFormat, DateReport) {
    let (mut day_first, mut month_first, mut shaped, mut compact) = (0u64, 0u64, 0u64, 0u64);
    let mut seps: HashMap<char, u64> = HashMap::new();
    for v in values {
        let v = v.trim();
        let date = v.split([' ', 'T']).next().unwrap_or("");
        if date.is_empty() || super::parse_date(date).is_some() {
            continue;
        }
        if date.len() == 8 && date.bytes().all(|c| c.is_ascii_digit()) {
            compact += 1;
            continue;
        }
        let Some(sep) = date.chars().find(|c| matches!(c, '/' | '.' | '-')) else {
            continue;
        };
        let parts: Vec<&str> = date.split(sep).collect();
        let num = |p: &str| p.parse::<u32>().ok().filter(|_| (1..=2).contains(&p.len()));
        if let [a, b, y] = parts[..]
            && y.len() == 4
            && let (Some(a), Some(b)) = (num(a), num(b))
        {
            shaped += 1;
            *seps.entry(sep).or_insert(0) += 1;
            day_first += (a > 12 && b <= 12) as u64;
            month_first += (b > 12 && a <= 12) as u64;
        }
    }
    let sep = seps
        .iter()
        .max_by_key(|(c, n)| (**n, **c))
        .map_or('/', |(c, _)| *c);
    let pick = |fmt: String, how: String| {
        let f = DateFormat::parse(&fmt).unwrap_or_default();
        (f, DateReport { format: fmt, how })
    };
    match (shaped, day_first, month_first) {
        (0, ..) if compact > 0 => pick(
            "%Y%m%d".into(),
            format!("detected: {compact} values as YYYYMMDD"),
        ),
        (0, ..) => (
            DateFormat::default(),
            DateReport {
                format: String::new(),
                how: "iso".into(),
            },
        ),
        (_, d, 0) if d > 0 => pick(
            format!("%d{sep}%m{sep}%Y"),
            format!("detected: day first ({d} of {shaped} values have a day above 12)"),
        ),
        (_, 0, m) if m > 0 => pick(
            format!("%m{sep}%d{sep}%Y"),
            format!("detected: month first ({m} of {shaped} values have a day above 12)"),
        ),
        (_, d, m) => (
            DateFormat::default(),
            DateReport {
                format: String::new(),
                how: format!(
                    "ambiguous: {shaped} values like dd/mm/yyyy or mm/dd/yyyy ({d} read only day first, {m} only \
                     month first); only ISO values are read: set [dates] in the config"
                ),
            },
        ),
    }
}

/// Lower-case letters and digits only: `United Kingdom` → `unitedkingdom`, `U.K.` → `uk`.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The value conventions of one export.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    status: HashMap<String, Status>,
    account_type: HashMap<String, AccountType>,
    country: HashMap<String, [u8; 2]>,
    pub date_of_birth: DateFormat,
    pub created_at: DateFormat,
}

impl Rules {
    /// The synonyms of the config; date formats are set by `with_dates`.
    pub fn new(cfg: &Config) -> Rules {
        let mut r = Rules::default();
        for (word, synonyms) in &cfg.values.status {
            if let Some(st) = Status::parse(word).filter(|s| *s != Status::Unknown) {
                r.status
                    .extend(synonyms.iter().map(|x| (x.trim().to_lowercase(), st)));
            }
        }
        for (word, synonyms) in &cfg.values.account_type {
            if let Some(t) = AccountType::parse(word).filter(|t| *t != AccountType::Unknown) {
                r.account_type
                    .extend(synonyms.iter().map(|x| (x.trim().to_lowercase(), t)));
            }
        }
        for (code, synonyms) in &cfg.values.country {
            let c = code.trim().to_ascii_uppercase();
            if let [a, b] = c.as_bytes() {
                r.country
                    .extend(synonyms.iter().map(|x| (squash(x), [*a, *b])));
            }
        }
        r
    }

    pub fn status(&self, s: &str) -> Option<Status> {
        Status::parse(s).or_else(|| self.status.get(&s.trim().to_lowercase()).copied())
    }

    pub fn account_type(&self, s: &str) -> Option<AccountType> {
        AccountType::parse(s).or_else(|| self.account_type.get(&s.trim().to_lowercase()).copied())
    }

    /// ISO 3166-1 alpha-2 of a country cell: an alpha-2 or alpha-3 code, an English name or alias
    /// (`Germany`, `United Kingdom`, `Russia`), or a synonym from `[values.country]` (`Deutschland`).
    pub fn country(&self, s: &str) -> Option<[u8; 2]> {
        // Nearly every cell is a two-letter code: its key is the code lower-cased, and the ISO tables' answer
        // for each of the 676 such keys is looked up once (`two_letter_countries`), not searched for per row.
        if let &[x, y] = s.as_bytes()
            && x.is_ascii_alphabetic()
            && y.is_ascii_alphabetic()
        {
            let key = [x.to_ascii_lowercase(), y.to_ascii_lowercase()];
            let text = std::str::from_utf8(&key).unwrap_or_default();
            if let Some(c) = self.country.get(text) {
                return Some(*c);
            }
            return two_letter_countries()[two_letter_index(key)];
        }
        let key = squash(s);
        if key.is_empty() {
            return None;
        }
        if let Some(c) = self.country.get(&key) {
            return Some(*c);
        }
        iso_country(&key)
    }
}

/// The slot of a lower-case two-letter key in `two_letter_countries`.
fn two_letter_index(key: [u8; 2]) -> usize {
    usize::from(key[0] - b'a') * 26 + usize::from(key[1] - b'a')
}

/// What the ISO tables make of every lower-case two-letter key (`aa` … `zz`), built on first use.
fn two_letter_countries() -> &'static [Option<[u8; 2]>; 676] {
    static TABLE: std::sync::OnceLock<[Option<[u8; 2]>; 676]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        std::array::from_fn(|i| {
            let key = [b'a' + (i / 26) as u8, b'a' + (i % 26) as u8];
            iso_country(std::str::from_utf8(&key).unwrap_or_default())
        })
    })
}

/// The alpha-2 code the ISO tables give a squashed country cell (a code, an English name or alias).
fn iso_country(key: &str) -> Option<[u8; 2]> {
    // Codes in common use that ISO reserves for something else: UK (GB), EL (GR, in the EU).
    let key = match key {
        "uk" => "gb",
        "el" => "gr",
        k => k,
    };
    let c = celes::Country::from_str(key).ok()?;
    let a = c.alpha2.as_bytes();
    (a.len() == 2).then(|| [a[0], a[1]])
}

/// Text that stands for "no value": `N/A`, `null`, `unknown`, `-`, `none`… (case-insensitive).
pub fn is_placeholder_text(s: &str) -> bool {
    // It runs for most fields of every row: the words are matched by length and bytes (`match`), not
    // searched one by one, on an ASCII lower-cased copy on the stack. The words are ASCII: a value that is
    // not, or is longer than the longest, is none of them.
    let mut buf = [0u8; 16];
    ascii_lower(s.trim(), &mut buf).is_some_and(|t| {
        matches!(
            t,
            b"n/a"
                | b"na"
                | b"n.a."
                | b"null"
                | b"nil"
                | b"none"
                | b"unknown"
                | b"-"
                | b"--"
                | b"?"
                | b"x"
                | b"xx"
                | b"xxx"
                | b"test"
                | b"undefined"
                | b"not available"
                | b"not provided"
                | b"no"
                | b"0"
                | b"#n/a"
                | b"empty"
                | b"blank"
        )
    })
}

/// `s` lower-cased (ASCII letters only) into `buf`, when it fits; `None` when it is longer.
fn ascii_lower<'a>(s: &str, buf: &'a mut [u8; 16]) -> Option<&'a [u8]> {
    let out = buf.get_mut(..s.len())?;
    out.copy_from_slice(s.as_bytes());
    out.make_ascii_lowercase();
    Some(out)
}

/// A birth date that systems write when they have none (as YYYYMMDD). Only these values: a year such as 1450
/// is a keying error of a real date (RLdata's `1967` typed `1450`) and still meets its twin one digit off.
pub fn is_placeholder_date(yyyymmdd: u32) -> bool {
    matches!(
        yyyymmdd,
        19000101 | 19010101 | 18991231 | 18000101 | 10101 | 99991231 | 19000000
    )
}

/// Digits that are no one's number: one repeated digit, or a run counting up or down (`0123456789`).
/// Read in one pass without a copy (it runs for every phone, document and identifier value).
pub fn is_placeholder_digits(s: &str) -> bool {
    let mut digits = s.bytes().filter(u8::is_ascii_digit).map(|c| c - b'0');
    let Some(first) = digits.next() else {
        return false;
    };
    let (mut prev, mut count) = (first, 1usize);
    let (mut same, mut up, mut down) = (true, true, true);
    for d in digits {
        same &= d == first;
        up &= d == (prev + 1) % 10;
        down &= prev == (d + 1) % 10;
        if !(same || up || down) {
            return false;
        }
        prev = d;
        count += 1;
    }
    count >= 4
}

/// An email that forms fill in to get past a required field: `test@test.com`, `none@…`, `noemail@…`, any
/// address at an example or test domain.
pub fn is_placeholder_email(s: &str) -> bool {
    let s = s.trim();
    // Lower-casing ASCII in place of a lower-cased copy (nearly every address is ASCII); other text is
    // lower-cased first, as Unicode says (a few non-ASCII letters lower-case to ASCII ones).
    let lowered;
    let t = if s.is_ascii() {
        s
    } else {
        lowered = s.to_lowercase();
        lowered.as_str()
    };
    let Some((local, domain)) = t.rsplit_once('@') else {
        return false;
    };
    let mut buf = [0u8; 16];
    let local_is = ascii_lower(local, &mut buf).is_some_and(|l| {
        matches!(
            l,
            b"test"
                | b"none"
                | b"noemail"
                | b"no-email"
                | b"no_email"
                | b"na"
                | b"n/a"
                | b"null"
                | b"nobody"
                | b"noreply"
                | b"no-reply"
                | b"donotreply"
                | b"example"
                | b"email"
                | b"unknown"
                | b"asdf"
                | b"xxx"
        )
    });
    let domain_is = || {
        let mut buf = [0u8; 16];
        ascii_lower(domain, &mut buf).is_some_and(|d| {
            matches!(
                d,
                b"test.com"
                    | b"example.com"
                    | b"example.org"
                    | b"example.net"
                    | b"test.test"
                    | b"email.com"
                    | b"domain.com"
                    | b"none.com"
                    | b"noemail.com"
                    | b"localhost"
                    | b"invalid"
                    | b"test"
            )
        })
    };
    let invalid = ".invalid";
    local_is
        || domain_is()
        || (domain.len() >= invalid.len()
            && domain.as_bytes()[domain.len() - invalid.len()..]
                .eq_ignore_ascii_case(invalid.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_patterns_read_dates_and_times() {
        let dmy = DateFormat::parse("%d/%m/%Y").unwrap();
        let cases: &[(&str, Option<u32>)] = &[
            ("27/09/1967", Some(19670927)),
            ("1/2/1990", Some(19900201)),
            ("1967-09-27", Some(19670927)),
            ("31/02/1990", None),
            ("27/09/67", None),
            ("27-09-1967", None),
            ("", None),
        ];
        for (v, want) in cases {
            assert_eq!(dmy.date(v), *want, "{v:?}");
        }
        let compact = DateFormat::parse("%Y%m%d").unwrap();
        assert_eq!(compact.date("19670927"), Some(19670927));
        let mdy = DateFormat::parse("%m/%d/%Y %H:%M").unwrap();
        assert_eq!(
            mdy.datetime("09/27/2024 10:20"),
            super::super::parse_datetime("2024-09-27T10:20:00Z")
        );
        assert_eq!(
            dmy.datetime("27/09/2024 10:20:30"),
            super::super::parse_datetime("2024-09-27T10:20:30Z")
        );
        assert!(DateFormat::parse("%d/%m").is_err());
        assert!(DateFormat::parse("%d/%b/%Y").is_err());
    }

    #[test]
    fn detection_decides_only_on_a_day_above_twelve() {
        let (f, r) = detect_date_format(&["27/09/1967", "03/04/1980", "1990-01-02", ""]);
        assert_eq!(
            (r.format.as_str(), f.date("03/04/1980")),
            ("%d/%m/%Y", Some(19800403))
        );
        let (_, r) = detect_date_format(&["09.27.1967", "03.04.1980"]);
        assert_eq!(r.format, "%m.%d.%Y");
        let (f, r) = detect_date_format(&["03/04/1980", "01/02/1990"]);
        assert!(r.how.starts_with("ambiguous") && f.is_iso(), "{r:?}");
        let (_, r) = detect_date_format(&["27/09/1967", "09/27/1967"]);
        assert!(r.how.starts_with("ambiguous"), "{r:?}");
        let (_, r) = detect_date_format(&["19670927"]);
        assert_eq!(r.format, "%Y%m%d");
        let (_, r) = detect_date_format(&["1967-09-27"]);
        assert_eq!(r.how, "iso");
    }

    #[test]
    fn countries_by_code_name_and_synonym() {
        let mut cfg = Config::default();
        cfg.values
            .country
            .insert("DE".into(), vec!["Deutschland".into()]);
        let r = Rules::new(&cfg);
        let cases = [
            ("DE", Some(*b"DE")),
            ("deu", Some(*b"DE")),
            ("Germany", Some(*b"DE")),
            ("Deutschland", Some(*b"DE")),
            ("United Kingdom", Some(*b"GB")),
            ("UK", Some(*b"GB")),
            ("GBR", Some(*b"GB")),
            ("Russia", Some(*b"RU")),
            ("Atlantis", None),
            ("", None),
        ];
        for (v, want) in cases {
            assert_eq!(r.country(v), want, "{v:?}");
        }
    }

    /// Two-letter cells are answered from a table; every one of them, in every case, answers as the general
    /// path (squash, synonyms, the ISO tables) does, a configured two-letter synonym first.
    #[test]
    fn two_letter_cells_answer_as_the_general_path() {
        let mut cfg = Config::default();
        cfg.values.country.insert("XK".into(), vec!["ks".into()]);
        let r = Rules::new(&cfg);
        let general = |s: &str| {
            let key = squash(s);
            r.country.get(&key).copied().or_else(|| iso_country(&key))
        };
        let mut known = 0;
        for x in (b'a'..=b'z').chain(b'A'..=b'Z') {
            for y in (b'a'..=b'z').chain(b'A'..=b'Z') {
                let cell = String::from_utf8(vec![x, y]).unwrap();
                let got = r.country(&cell);
                assert_eq!(got, general(&cell), "{cell:?}");
                known += usize::from(got.is_some());
            }
        }
        // 249 ISO codes (and UK, EL, the synonym), each in four cases; some alpha-2s of the tables' own.
        assert!(known >= 4 * 249, "{known}");
        assert_eq!(r.country("Ks"), Some(*b"XK"));
        assert_eq!(r.country("el"), Some(*b"GR"));
    }

    #[test]
    fn status_and_type_synonyms_are_case_insensitive() {
        let mut cfg = Config::default();
        cfg.values.status.insert(
            "banned".into(),
            vec!["Fraud_Ban".into(), "terminated".into()],
        );
        cfg.values
            .account_type
            .insert("freelancer".into(), vec!["Seller".into()]);
        let r = Rules::new(&cfg);
        assert_eq!(r.status("FRAUD_BAN"), Some(Status::Banned));
        assert_eq!(r.status(" terminated "), Some(Status::Banned));
        assert_eq!(r.status("active"), Some(Status::Active));
        assert_eq!(r.status("paused"), None);
        assert_eq!(r.account_type("seller"), Some(AccountType::Freelancer));
    }

    #[test]
    fn placeholders() {
        for v in [
            "N/A",
            "null",
            " - ",
            "Unknown",
            "#N/A",
            "Not Available",
            " BLANK\t",
            "NOT PROVIDED",
            "n.a.",
            "X",
            " 0 ",
            "?",
            "Undefined",
        ] {
            assert!(is_placeholder_text(v), "{v}");
        }
        for v in [
            "Nadia",
            "n/a.",
            "not available!",
            "Ñull",
            "nonexistent value here",
            "not provided yet",
            "00",
            "nul",
            "",
            "x y",
        ] {
            assert!(!is_placeholder_text(v), "{v}");
        }
        assert!(
            is_placeholder_date(19000101)
                && is_placeholder_date(10101)
                && !is_placeholder_date(19700101)
        );
        for v in ["0000000000", "+1 111-111-1111", "0123456789", "9876543210"] {
            assert!(is_placeholder_digits(v), "{v}");
        }
        assert!(!is_placeholder_digits("+1 415 555 0123"));
        for v in [
            "test@test.com",
            "NONE@gmail.com",
            "anna@example.com",
            "x@foo.invalid",
            "x@FOO.INVALID",
            "  Test@Example.Org ",
            "NoReply@Ünïcode.de",
            "ANNA@TEST.TEST",
            "nobody@EXAMPLE.NET",
            "DoNotReply@shop.com",
            "x@NoEmail.com",
            "n/a@localhost",
        ] {
            assert!(is_placeholder_email(v), "{v}");
        }
        for v in [
            "anna.kowalska@gmail.com",
            "test.user@gmail.com",
            "x@invalid.com",
            "x@.invalidx",
            "Ünïcode@gmail.com",
            "no at sign",
            "donotreplyplease@shop.com",
            "anna@example.com.au",
            "anna@a-very-long-domain-name.example",
        ] {
            assert!(!is_placeholder_email(v), "{v}");
        }
        // Non-ASCII text is lower-cased as Unicode says first: the Kelvin sign (U+212A) is a `k`.
        assert!(is_placeholder_email("UN\u{212A}NOWN@gmail.com"));
    }

    #[test]
    fn placeholder_digits_read_in_one_pass_as_from_a_copy() {
        // The copy-then-test reading this replaced, as the reference.
        let reference = |s: &str| {
            let d: Vec<u8> = s
                .bytes()
                .filter(u8::is_ascii_digit)
                .map(|c| c - b'0')
                .collect();
            d.len() >= 4
                && (d.iter().all(|&x| x == d[0])
                    || d.windows(2).all(|w| w[1] == (w[0] + 1) % 10)
                    || d.windows(2).all(|w| w[0] == (w[1] + 1) % 10))
        };
        let mut below = crate::testing::below(0x9d);
        let mut placeholders = 0;
        for k in 0..200_000 {
            let len = below(12) as usize;
            let start = below(10) as u8;
            let step = [0u8, 1, 9, below(10) as u8][k % 4];
            let mut s = String::new();
            let mut d = start;
            for _ in 0..len {
                // Mostly a run, sometimes broken; separators and letters between the digits.
                let digit = if below(8) == 0 { below(10) as u8 } else { d };
                s.push(char::from(b'0' + digit));
                match below(6) {
                    0 => s.push(' '),
                    1 => s.push('-'),
                    2 => s.push('x'),
                    _ => {}
                }
                d = (d + step) % 10;
            }
            assert_eq!(is_placeholder_digits(&s), reference(&s), "{s:?}");
            placeholders += usize::from(reference(&s));
        }
        assert!(
            placeholders > 20_000 && placeholders < 150_000,
            "{placeholders}"
        );
    }
}

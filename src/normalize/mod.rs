//! Normalization: turns one raw row into normalized values, signal by signal (one file per signal, pure
//! functions), hashes identifier values with xxh3 under a fixed seed, and counts values that were present but
//! unusable. Nothing here looks at other rows.

pub mod address;
pub mod device;
pub mod email;
pub mod ip;
pub mod name;
pub mod payment;
pub mod phone;
pub mod rules;
pub mod similarity;

use crate::load::{ExtraColumn, ExtraKind};
pub use rules::Rules;

use serde::Serialize;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::record::{AccountType, Signal, Status, col};

/// The fixed seed of every hash: keys are stable across runs, machines and versions of the data.
pub const SEED: u64 = 0x5b1c_5ca1_2026_0001;

/// Hash of a normalized value of one signal; never 0 (0 means "no value" in the columns).
pub fn value_hash(signal: Signal, value: &str) -> u64 {
    bytes_hash(signal, value.as_bytes())
}

/// Hash of a normalized value given as bytes.
pub fn bytes_hash(signal: Signal, value: &[u8]) -> u64 {
    let h = xxh3_64_with_seed(value, SEED.wrapping_add(signal as u64 + 1));
    if h == 0 { 1 } else { h }
}

/// Hash of any text under a tag (for keys that are not signal values, e.g. name + birth date).
pub fn tagged_hash(tag: u64, value: &[u8]) -> u64 {
    let h = xxh3_64_with_seed(value, SEED ^ tag.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    if h == 0 { 1 } else { h }
}

/// Kinds of present-but-unusable values, counted for the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    AccountType,
    Status,
    CreatedAt,
    Email,
    Phone,
    Country,
    DateOfBirth,
    Payment,
    Ip,
    IpNotPublic,
    DeviceJunk,
    /// A device cell holding a model name or a user agent (`SM-G991B`, `Mozilla/5.0 (…)`): shared by everyone
    /// with that phone, never a fingerprint.
    DeviceModel,
    /// A masked card (`411111******1111`, `last4:1111`): thousands of cards share it.
    MaskedCard,
    /// An address without a house number, or without a postcode or city to place it.
    Address,
    /// A value that stands for none (`N/A`, `1900-01-01`, `0000000000`, `test@test.com`).
    Placeholder,
    /// A well-formed birth date that no calendar has (month 13, day 71): kept as a keying error of a real
    /// date, so that it can still meet its twin one digit off.
    DateOfBirthImpossible,
}

/// Per-kind counts of unusable values.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ProblemCounts {
    pub account_type: u64,
    pub status: u64,
    pub created_at: u64,
    pub email: u64,
    pub phone: u64,
    pub country: u64,
    pub date_of_birth: u64,
    pub payment: u64,
    pub ip: u64,
    pub ip_not_public: u64,
    pub device_junk: u64,
    pub device_model: u64,
    pub masked_card: u64,
    pub placeholder: u64,
    pub address: u64,
    /// Impossible birth dates kept for typo comparison (not counted in `date_of_birth`).
    pub date_of_birth_impossible: u64,
}

impl ProblemCounts {
    pub fn add(&mut self, p: Problem) {
        let c = match p {
            Problem::AccountType => &mut self.account_type,
            Problem::Status => &mut self.status,
            Problem::CreatedAt => &mut self.created_at,
            Problem::Email => &mut self.email,
            Problem::Phone => &mut self.phone,
            Problem::Country => &mut self.country,
            Problem::DateOfBirth => &mut self.date_of_birth,
            Problem::Payment => &mut self.payment,
            Problem::Ip => &mut self.ip,
            Problem::IpNotPublic => &mut self.ip_not_public,
            Problem::DeviceJunk => &mut self.device_junk,
            Problem::DeviceModel => &mut self.device_model,
            Problem::MaskedCard => &mut self.masked_card,
            Problem::Placeholder => &mut self.placeholder,
            Problem::Address => &mut self.address,
            Problem::DateOfBirthImpossible => &mut self.date_of_birth_impossible,
        };
        *c += 1;
    }
}

/// One normalized account, before it joins the columns of `Accounts`.
#[derive(Debug, Clone, Default)]
pub struct Normalized {
    pub account_type: Option<AccountType>,
    pub status: Option<Status>,
    pub created: i64,
    pub name: name::Name,
    pub business: name::Business,
    pub country: [u8; 2],
    pub dob: u32,
    pub email_relay: bool,
    pub email_disposable: bool,
    /// Handles (letters of local parts), space-separated.
    pub handles: String,
    pub signals: crate::record::AccountValues,
    pub problems: Vec<Problem>,
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses `YYYY-MM-DD` (also with `/`) into (year, month, day), checking the calendar.
pub fn parse_date(s: &str) -> Option<(i64, i64, i64)> {
    let b = s.as_bytes();
    if b.len() < 10 || !(b[4] == b'-' || b[4] == b'/') || b[7] != b[4] {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some((y, m, d))
}

/// The digits of a `YYYY-MM-DD` date that is well-formed but impossible (month 00 or 13, day 00 or 71…), as
/// YYYYMMDD: typed dates with a wrong digit, still comparable with their twin.
fn impossible_date(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shaped = b.len() == 10 && matches!(b[4], b'-' | b'/') && b[7] == b[4];
    if !(shaped && digits(0..4) && digits(5..7) && digits(8..10)) {
        return None;
    }
    // Eight digits: at most 99,999,999, within `u32`.
    let v = b
        .iter()
        .filter(|c| c.is_ascii_digit())
        .fold(0u32, |v, &c| v * 10 + u32::from(c - b'0'));
    Some(v).filter(|&x| x >= 10_000_000)
}

/// `YYYY-MM-DDTHH:MM:SSZ` of seconds since the epoch (Howard Hinnant's civil-from-days).
pub fn format_datetime(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Parses an ISO-8601 date or date-time into seconds since the epoch (UTC; a given offset is applied). Unix
/// timestamps in seconds (10 digits) or milliseconds (13 digits), as some exports write them, are accepted too.
pub fn parse_datetime(raw: &str) -> Option<i64> {
    let s = raw.trim();
    if (s.len() == 10 || s.len() == 13) && s.bytes().all(|c| c.is_ascii_digit()) {
        let v: i64 = s.parse().ok()?;
        return Some(if s.len() == 13 { v / 1000 } else { v });
    }
    let (y, m, d) = parse_date(s)?;
    let mut secs = days_from_civil(y, m, d) * 86_400;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(secs);
    }
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    let b = rest.as_bytes();
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let two = |i: usize| -> Option<i64> {
        let t = rest.get(i..i + 2)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (h, mi) = (two(0)?, two(3)?);
    let mut idx = 5;
    let mut sec = 0;
    if b.len() >= 8 && b[5] == b':' {
        sec = two(6)?;
        idx = 8;
    }
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    secs += h * 3600 + mi * 60 + sec;
    // Fractional seconds, then an optional zone.
    let mut tail = &rest[idx..];
    if let Some(frac) = tail.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        tail = &frac[n..];
    }
    match tail {
        "" | "Z" | "z" => Some(secs),
        _ => {
            let sign = match tail.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let z = tail[1..].replace(':', "");
            if z.len() != 4 || !z.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let off = z[..2].parse::<i64>().ok()? * 3600 + z[2..].parse::<i64>().ok()? * 60;
            Some(secs - sign * off)
        }
    }
}

/// The email and handle values of a mailbox. The handle is the local part's letters only
/// (anna.b_smith77 → annabsmith): people keep the handle and change separators and numbers. Short handles
/// ("info", "joe") are shared by strangers by construction and are not used.
/// The ASCII characters of `s` that `keep` keeps, in one allocation of the right size (collecting filtered
/// `chars` grows a string from nothing, two or three allocations for a phone number). A byte of a multi-byte
/// character is never ASCII, so this is what filtering the characters gives.
pub(crate) fn ascii_kept(s: &str, keep: fn(&u8) -> bool) -> String {
    let mut out = String::with_capacity(s.len());
    out.extend(s.bytes().filter(keep).map(char::from));
    out
}

fn push_mailbox(n: &mut Normalized, e: &email::Email) {
    n.signals
        .push(Signal::Email, value_hash(Signal::Email, &e.canonical));
    let handle = ascii_kept(&e.local, u8::is_ascii_alphabetic);
    if handle.len() >= 5 {
        n.signals.push(
            Signal::EmailHandle,
            value_hash(Signal::EmailHandle, &handle),
        );
        if !n.handles.is_empty() {
            n.handles.push(' ');
        }
        n.handles
            .extend(handle.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    }
}

/// Builds the tables the normalizers read, once per process, by normalizing a few values and discarding
/// them: the phone numbering metadata (~0.1 s to parse), the parser's patterns, the country and region tables,
/// the nickname and phonetic tables. Call it where a core would idle otherwise (beside reading the first
/// chunk): left to the first accounts, each worker that met a phone number waited for the first to build them.
/// Every table is a pure function of the program: no result depends on when it was built.
pub fn warm_up() {
    let gb = phone::region("GB");
    let _ = phone::normalize("+44 20 7946 0018", gb);
    let _ = phone::normalize("020 7946 0018", gb);
    let _ = phone::normalize("+1 (202) 555-0143 ext. 7", phone::region("US"));
    let _ = name::normalize("Robert Ó Briain-Smith");
    let _ = name::nickname_relatives("bob");
    let _ = email::normalize("warm.up+tag@gmail.com");
}

/// Normalizes one row given as the contract fields (absent optional columns are empty strings), the
/// values of its `[columns.extra]` columns, under the export's value conventions.
pub fn account(
    f: &crate::record::Fields<'_>,
    extras: &[(&ExtraColumn, &str)],
    rules: &Rules,
) -> Normalized {
    let mut n = Normalized {
        created: i64::MIN,
        signals: crate::record::AccountValues::with_capacity(24),
        ..Default::default()
    };
    n.account_type = rules.account_type(f[col::ACCOUNT_TYPE]);
    if n.account_type.is_none() {
        n.problems.push(Problem::AccountType);
    }
    n.status = rules.status(f[col::STATUS]);
    if n.status.is_none() {
        n.problems.push(Problem::Status);
    }
    if !f[col::CREATED_AT].trim().is_empty() {
        match rules.created_at.datetime(f[col::CREATED_AT]) {
            Some(t) => n.created = t,
            None => n.problems.push(Problem::CreatedAt),
        }
    }
    let country = f[col::COUNTRY].trim();
    // `N/A` is no country (though squashed it spells Namibia's code; `NA` typed as a code is Namibia).
    let is_code = country.len() == 2 && country.bytes().all(|c| c.is_ascii_alphabetic());
    let placeholder = rules::is_placeholder_text(country) && !is_code;
    let region = match rules.country(country).filter(|_| !placeholder) {
        Some(c) => {
            n.country = c;
            phone::region(std::str::from_utf8(&c).unwrap_or(""))
        }
        None if country.is_empty() => None,
        None => {
            n.problems.push(if placeholder {
                Problem::Placeholder
            } else {
                Problem::Country
            });
            None
        }
    };
    birth_date(&mut n, f[col::DATE_OF_BIRTH], rules);
    names(&mut n, f);
    email_value(&mut n, f[col::EMAIL]);
    phone_value(&mut n, f[col::PHONE], region);
    identifier(&mut n, f[col::ID_DOCUMENT_HASH], 0);
    payments(&mut n, f[col::PAYMENT_METHODS]);
    devices(&mut n, f[col::DEVICE_IDS]);
    ips(&mut n, f[col::IP_ADDRESSES]);
    if let Some(a) = address::normalize(
        f[col::ADDRESS],
        f[col::CITY],
        f[col::POSTAL_CODE],
        std::str::from_utf8(&n.country).unwrap_or(""),
    ) {
        n.signals
            .push(Signal::Address, value_hash(Signal::Address, &a.full));
        n.signals.push(
            Signal::AddressBuilding,
            value_hash(Signal::AddressBuilding, &a.building),
        );
    } else if !f[col::ADDRESS].trim().is_empty() && !rules::is_placeholder_text(f[col::ADDRESS]) {
        n.problems.push(Problem::Address);
    }
    for (x, v) in extras {
        extra(&mut n, x, v, region);
    }
    n.signals.finish();
    n
}

fn birth_date(n: &mut Normalized, raw: &str, rules: &Rules) {
    let dob = raw.trim();
    if dob.is_empty() || rules::is_placeholder_text(dob) {
        return;
    }
    let ymd = match rules.date_of_birth.date(dob) {
        Some(v) => Some(v),
        None => impossible_date(dob).inspect(|_| n.problems.push(Problem::DateOfBirthImpossible)),
    };
    match ymd {
        Some(v) if rules::is_placeholder_date(v) => n.problems.push(Problem::Placeholder),
        Some(v) => {
            n.dob = v;
            n.signals.push(
                Signal::DateOfBirth,
                bytes_hash(Signal::DateOfBirth, &v.to_le_bytes()),
            );
        }
        None => n.problems.push(Problem::DateOfBirth),
    }
}

fn names(n: &mut Normalized, f: &crate::record::Fields<'_>) {
    let full = f[col::FULL_NAME];
    if rules::is_placeholder_text(full) {
        n.problems.push(Problem::Placeholder);
    } else {
        n.name = name::normalize(full);
    }
    if !n.name.sorted.is_empty() {
        n.signals
            .push(Signal::Name, value_hash(Signal::Name, &n.name.sorted));
    }
    if !rules::is_placeholder_text(f[col::BUSINESS_NAME]) {
        n.business = name::normalize_business(f[col::BUSINESS_NAME]);
    }
    if !n.business.name.is_empty() {
        n.signals.push(
            Signal::Business,
            value_hash(Signal::Business, &n.business.name),
        );
    }
}

fn email_value(n: &mut Normalized, raw: &str) {
    if rules::is_placeholder_email(raw) || rules::is_placeholder_text(raw) {
        n.problems.push(Problem::Placeholder);
        return;
    }
    match email::normalize(raw) {
        Ok(Some(e)) => {
            push_mailbox(n, &e);
            n.email_relay |= e.relay;
            n.email_disposable |= e.disposable;
        }
        Ok(None) => {}
        Err(_) => n.problems.push(Problem::Email),
    }
}

fn phone_value(n: &mut Normalized, raw: &str, region: Option<phonenumber::country::Id>) {
    if raw.trim().is_empty() {
        return;
    }
    if rules::is_placeholder_text(raw) || rules::is_placeholder_digits(raw) {
        n.problems.push(Problem::Placeholder);
        return;
    }
    match phone::normalize(raw, region) {
        Ok(Some(p)) => {
            if let Some(nsn) = phone::national_significant(&p) {
                n.signals.push(
                    Signal::PhoneNational,
                    value_hash(Signal::PhoneNational, &nsn),
                );
            }
            n.signals.push(Signal::Phone, value_hash(Signal::Phone, &p));
        }
        Ok(None) => {}
        Err(()) => n.problems.push(Problem::Phone),
    }
}

/// An id document (tag 0) or another identifier column (its own tag: a tax id never equals a passport).
fn identifier(n: &mut Normalized, raw: &str, tag: u64) {
    let doc = raw.trim();
    if doc.is_empty() {
        return;
    }
    if rules::is_placeholder_text(doc) || rules::is_placeholder_digits(doc) {
        n.problems.push(Problem::Placeholder);
        return;
    }
    let v = doc.to_ascii_lowercase();
    let h = if tag == 0 {
        value_hash(Signal::IdDocument, &v)
    } else {
        tagged_hash(tag, v.as_bytes())
    };
    n.signals.push(Signal::IdDocument, h);
}

fn payments(n: &mut Normalized, raw: &str) {
    for item in payment::normalize(raw) {
        match item {
            payment::Item::Valid(v) => {
                // A PayPal address is a mailbox its holder controls: it meets the other account's email
                // and handle too (a banned `leon.lorenz@` back with `paypal:leon.lorenz78@`).
                if let Some(Ok(Some(e))) = v.strip_prefix("paypal:").map(email::normalize) {
                    push_mailbox(n, &e);
                }
                n.signals
                    .push(Signal::Payment, value_hash(Signal::Payment, &v))
            }
            payment::Item::Masked => n.problems.push(Problem::MaskedCard),
            payment::Item::Invalid(_) => n.problems.push(Problem::Payment),
        }
    }
}

fn devices(n: &mut Normalized, raw: &str) {
    // Lists are `|`-separated in the contract; `;` appears in other exports, but also inside a user agent
    // (`Mozilla/5.0 (Linux; Android 13)`): a cell with parentheses is split on `|` only.
    let seps: &[char] = if raw.contains('(') {
        &['|']
    } else {
        &['|', ';']
    };
    for raw in raw.split(seps) {
        match device::classify(raw) {
            device::Device::ModelOrAgent => n.problems.push(Problem::DeviceModel),
            device::Device::Id(d) => n
                .signals
                .push(Signal::Device, value_hash(Signal::Device, &d)),
            device::Device::Junk => n.problems.push(Problem::DeviceJunk),
            device::Device::Empty => {}
        }
    }
}

fn extra(n: &mut Normalized, x: &ExtraColumn, v: &str, region: Option<phonenumber::country::Id>) {
    match x.kind {
        ExtraKind::Identifier => {
            identifier(n, v, xxhash_rust::xxh3::xxh3_64(x.name.as_bytes()) | 1)
        }
        ExtraKind::Payment => {
            if rules::is_placeholder_text(v) || rules::is_placeholder_digits(v) {
                n.problems.push(Problem::Placeholder);
            } else {
                let item = format!("{}:{}", x.name, v.trim());
                n.signals
                    .push(Signal::Payment, value_hash(Signal::Payment, &item));
            }
        }
        ExtraKind::Device => devices(n, v),
        ExtraKind::Phone => phone_value(n, v, region),
        ExtraKind::Email => email_value(n, v),
    }
}

fn ips(n: &mut Normalized, raw: &str) {
    for raw in raw.split(['|', ';', ',', ' ']) {
        match ip::normalize(raw) {
            Some(ip::Ip::Public { addr, prefix }) => {
                // Hash the address bytes (and the prefix's network bytes and length), not their text: on the
                // stack, an address's 4 or 16 bytes and one more for the length.
                let octets = |a: std::net::IpAddr, buf: &mut [u8; 17]| -> usize {
                    match a {
                        std::net::IpAddr::V4(v) => {
                            buf[..4].copy_from_slice(&v.octets());
                            4
                        }
                        std::net::IpAddr::V6(v) => {
                            buf[..16].copy_from_slice(&v.octets());
                            16
                        }
                    }
                };
                let mut buf = [0u8; 17];
                let len = octets(addr, &mut buf);
                n.signals
                    .push(Signal::Ip, bytes_hash(Signal::Ip, &buf[..len]));
                let len = octets(prefix.network(), &mut buf);
                buf[len] = prefix.prefix_len();
                n.signals
                    .push(Signal::IpPrefix, bytes_hash(Signal::IpPrefix, &buf[..=len]));
            }
            Some(ip::Ip::NotPublic) => n.problems.push(Problem::IpNotPublic),
            Some(ip::Ip::Invalid) => n.problems.push(Problem::Ip),
            None => {}
        }
    }
}

/// Whether an account with this business name is an entity account: it names a business, and that is not
/// just the holder's own name typed into the business field (`John Smith` for John Smith is a person;
/// `John Smith LLC` is a registered entity).
pub fn is_entity(business: &name::Business, name_sorted: &str) -> bool {
    if business.name.is_empty() {
        return false;
    }
    if business.legal_form {
        return true;
    }
    let mut tokens: Vec<&str> = business.name.split(' ').collect();
    tokens.sort_unstable();
    tokens.join(" ") != name_sorted
}

/// The raw fields an account keeps as typed (the review files show them), beside its normalized values.
#[derive(Debug, Clone, Copy, Default)]
pub struct Raw<'a> {
    pub id: &'a str,
    pub created_at: &'a str,
    pub full_name: &'a str,
    pub email: &'a str,
    pub id_document: &'a str,
}

impl<'a> Raw<'a> {
    /// The raw fields of a row's contract fields.
    pub fn of(f: &crate::record::Fields<'a>) -> Self {
        Raw::from_column(|c| f[c])
    }

    /// The raw fields, each read from its contract column by `get`.
    pub fn from_column(get: impl Fn(usize) -> &'a str) -> Self {
        Raw {
            id: get(col::ACCOUNT_ID),
            created_at: get(col::CREATED_AT),
            full_name: get(col::FULL_NAME),
            email: get(col::EMAIL),
            id_document: get(col::ID_DOCUMENT_HASH),
        }
    }
}

/// Appends one normalized account to the columns. `fields` are the raw contract fields of the row.
pub fn append(acc: &mut crate::record::Accounts, line: u64, raw: &Raw<'_>, n: Normalized) {
    acc.id.push(raw.id.trim());
    acc.line.push(line);
    acc.account_type
        .push(n.account_type.unwrap_or(AccountType::Unknown));
    acc.status.push(n.status.unwrap_or(Status::Unknown));
    acc.created.push(n.created);
    acc.created_raw.push(raw.created_at.trim());
    acc.full_name_raw.push(raw.full_name.trim());
    acc.email_raw.push(raw.email.trim());
    acc.name.push(&n.name.full);
    acc.names.push(crate::record::NameForms {
        sorted: &n.name.sorted,
        formal: &n.name.formal,
        codes: &n.name.codes,
    });
    acc.name_phonetic.push(if n.name.phonetic.is_empty() {
        0
    } else {
        tagged_hash(7, n.name.phonetic.as_bytes())
    });
    acc.entity.push(is_entity(&n.business, &n.name.sorted));
    acc.business.push(&n.business.name);
    acc.country.push(n.country);
    acc.dob.push(n.dob);
    acc.id_document.push_ascii_lowercase(raw.id_document.trim());
    acc.handles.push_joined(
        n.handles
            .split(' ')
            .filter(|h| name::handle_from_name(h, &n.name.full)),
        ' ',
    );
    acc.email_relay.push(n.email_relay);
    acc.email_disposable.push(n.email_disposable);
    acc.signals.push_account(&n.signals);
}

/// Accounts built from rows of `(contract column, value)` pairs, ids `a0, a1, …`, with value frequencies filled
/// in by `block` — the fixture of the stage tests.
#[cfg(test)]
pub(crate) fn test_accounts(rows: &[Vec<(usize, &str)>]) -> crate::record::Accounts {
    let mut acc = crate::record::Accounts::default();
    for (i, row) in rows.iter().enumerate() {
        let id = format!("a{i}");
        let mut f: crate::record::Fields<'_> = [""; crate::record::COLUMN_COUNT];
        f[col::ACCOUNT_ID] = &id;
        for &(c, v) in row {
            f[c] = v;
        }
        append(
            &mut acc,
            i as u64 + 2,
            &Raw::of(&f),
            account(&f, &[], &Rules::default()),
        );
    }
    acc.mark_agency_members();
    acc.index_name_handles(|h| value_hash(Signal::EmailHandle, h));
    crate::block::block(&mut acc, &crate::config::Config::default().blocking);
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeping ASCII bytes gives what filtering the characters gives, for ASCII and other text.
    #[test]
    fn ascii_kept_is_the_filtered_characters() {
        let cases = [
            "",
            "+7 (987) 032-94-51",
            "j.o+hn_smith99",
            "Łukasz.Ñoño",
            "٠١٢ 12 ３４",
            "ΑΒΓ abc",
        ];
        for s in cases {
            let digits: String = s.chars().filter(char::is_ascii_digit).collect();
            let letters: String = s.chars().filter(char::is_ascii_alphabetic).collect();
            assert_eq!(ascii_kept(s, u8::is_ascii_digit), digits, "{s:?}");
            assert_eq!(ascii_kept(s, u8::is_ascii_alphabetic), letters, "{s:?}");
        }
    }

    #[test]
    fn datetimes() {
        let cases: &[(&str, Option<i64>)] = &[
            ("1970-01-01", Some(0)),
            ("1970-01-02", Some(86_400)),
            ("2024-02-29", Some(1_709_164_800)),
            ("2023-02-29", None),
            ("2024-13-01", None),
            ("2024-03-05T10:20:30Z", Some(1_709_634_030)),
            ("2024-03-05 10:20:30", Some(1_709_634_030)),
            ("2024-03-05T10:20:30.123+02:00", Some(1_709_634_030 - 7200)),
            ("2024-03-05T10:20", Some(1_709_634_000)),
            ("2024/03/05", Some(1_709_596_800)),
            ("1709634030", Some(1_709_634_030)),
            ("1709634030123", Some(1_709_634_030)),
            ("170963403", None),
            ("05/03/2024", None),
            ("2024-03-05Tnoon", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_datetime(raw), *want, "{raw:?}");
        }
    }

    fn row<'a>(pairs: &[(usize, &'a str)]) -> crate::record::Fields<'a> {
        let mut f = [""; crate::record::COLUMN_COUNT];
        for &(i, v) in pairs {
            f[i] = v;
        }
        f
    }

    #[test]
    fn account_counts_problems_and_hashes_values() {
        let f = row(&[
            (col::ACCOUNT_ID, "a1"),
            (col::ACCOUNT_TYPE, "robot"),
            (col::STATUS, "Active"),
            (col::EMAIL, "nope"),
            (col::PHONE, "12"),
            (col::COUNTRY, "US"),
            (col::DATE_OF_BIRTH, "1990-02-3x"),
            (col::PAYMENT_METHODS, "card:fp1|iban:XX00"),
            (col::DEVICE_IDS, "unknown;dev-abc1"),
            (col::IP_ADDRESSES, "10.0.0.1, 81.2.69.160|bogus"),
        ]);
        let n = account(&f, &[], &Rules::default());
        assert_eq!(n.account_type, None);
        assert_eq!(n.status, Some(Status::Active));
        assert_eq!(n.country, *b"US");
        assert_eq!(n.dob, 0);
        let mut probs = n.problems.clone();
        probs.sort_by_key(|p| *p as u8);
        assert_eq!(
            probs,
            vec![
                Problem::AccountType,
                Problem::Email,
                Problem::Phone,
                Problem::DateOfBirth,
                Problem::Payment,
                Problem::Ip,
                Problem::IpNotPublic,
                Problem::DeviceJunk
            ]
        );
        assert_eq!(n.signals.of(Signal::Payment).len(), 1);
        assert_eq!(n.signals.of(Signal::Device).len(), 1);
        assert_eq!(n.signals.of(Signal::Ip).len(), 1);
        assert_eq!(n.signals.of(Signal::IpPrefix).len(), 1);
        assert!(n.signals.of(Signal::Email).is_empty());
    }

    #[test]
    fn a_paypal_address_is_a_mailbox_too() {
        let banned = account(
            &row(&[(col::EMAIL, "leon.lorenz@web.de")]),
            &[],
            &Rules::default(),
        );
        let back = account(
            &row(&[
                (col::EMAIL, "kai.berg@gmail.com"),
                (
                    col::PAYMENT_METHODS,
                    "paypal:Leon.Lorenz78@web.de|card:fp_9",
                ),
            ]),
            &[],
            &Rules::default(),
        );
        let handles = |n: &Normalized| n.signals.of(Signal::EmailHandle);
        assert!(handles(&back).contains(&handles(&banned)[0]), "same handle");
        let spouse = account(
            &row(&[(col::EMAIL, "leon.lorenz78@web.de")]),
            &[],
            &Rules::default(),
        );
        let emails = |n: &Normalized| n.signals.of(Signal::Email);
        assert!(emails(&back).contains(&emails(&spouse)[0]), "same mailbox");
        assert_eq!(emails(&back).len(), 2);
        assert_eq!(back.signals.of(Signal::Payment).len(), 2);
    }

    #[test]
    fn same_mailbox_same_hash() {
        let a = account(
            &row(&[(col::EMAIL, "J.Smith+x@gmail.com")]),
            &[],
            &Rules::default(),
        );
        let b = account(
            &row(&[(col::EMAIL, "jsmith@googlemail.com")]),
            &[],
            &Rules::default(),
        );
        assert_eq!(a.signals.of(Signal::Email), b.signals.of(Signal::Email));
        assert!(!a.signals.of(Signal::Email).is_empty());
        assert_ne!(
            value_hash(Signal::Email, "x"),
            value_hash(Signal::Phone, "x")
        );
    }
}

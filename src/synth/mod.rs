//! The synthetic marketplace: persons with one or more accounts, in scenarios that a naive matcher gets
//! wrong in both directions (duplicates that look different, strangers that look alike), written as
//! `accounts.csv` (the input contract), `reviews.csv` and `truth.csv` with ground truth. Streams to disk and
//! is deterministic for a seed. The scenario mix is documented in the README.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use profile::R;
use regions::Region;

mod bids;
mod profile;
mod regions;
mod variants;

pub use profile::Profile;
use regions::REGIONS;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    pub accounts: u64,
    pub seed: u64,
    pub profile: Profile,
}

impl SynthConfig {
    /// The default profile.
    pub fn new(accounts: u64, seed: u64) -> Self {
        SynthConfig {
            accounts,
            seed,
            profile: Profile::fixed(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SynthStats {
    pub accounts: u64,
    pub persons: u64,
    pub reviews: u64,
    pub bids: u64,
}

fn digits(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// A phone as (canonical digits used to rewrite it, formatted as typed).
pub(crate) fn us_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let a = format!("{}{}", rng.random_range(2..10u8), digits(rng, 2));
    let (b, c) = (
        format!("{}{}", rng.random_range(2..10u8), digits(rng, 2)),
        digits(rng, 4),
    );
    let typed = if intl {
        format!("+1 ({a}) {b}-{c}")
    } else {
        format!("{a}-{b}-{c}")
    };
    (format!("+1{a}{b}{c}"), typed)
}
pub(crate) fn gb_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("7{}", digits(rng, 9));
    let typed = if intl {
        format!("+44 {} {}", &n[..4], &n[4..])
    } else {
        format!("0{} {}", &n[..4], &n[4..])
    };
    (format!("+44{n}"), typed)
}
pub(crate) fn de_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("15{}{}", rng.random_range(1..8u8), digits(rng, 8));
    let typed = if intl {
        format!("+49 {} {}", &n[..3], &n[3..])
    } else {
        format!("0{} {}", &n[..3], &n[3..])
    };
    (format!("+49{n}"), typed)
}
pub(crate) fn ru_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("9{}", digits(rng, 9));
    let typed = if intl {
        format!("+7 {} {}-{}-{}", &n[..3], &n[3..6], &n[6..8], &n[8..])
    } else {
        format!("8 ({}) {}-{}-{}", &n[..3], &n[3..6], &n[6..8], &n[8..])
    };
    (format!("+7{n}"), typed)
}
pub(crate) fn in_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("{}{}", rng.random_range(6..10u8), digits(rng, 9));
    let typed = if intl {
        format!("+91 {} {}", &n[..5], &n[5..])
    } else {
        format!("0{}", n)
    };
    (format!("+91{n}"), typed)
}
pub(crate) fn cn_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("13{}", digits(rng, 9));
    let typed = if intl {
        format!("+86 {} {} {}", &n[..3], &n[3..7], &n[7..])
    } else {
        n.clone()
    };
    (format!("+86{n}"), typed)
}
pub(crate) fn es_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("6{}", digits(rng, 8));
    let typed = if intl {
        format!("+34 {} {} {}", &n[..3], &n[3..6], &n[6..])
    } else {
        n.clone()
    };
    (format!("+34{n}"), typed)
}
pub(crate) fn mx_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("55{}", digits(rng, 8));
    let typed = if intl {
        format!("+52 {} {} {}", &n[..2], &n[2..6], &n[6..])
    } else {
        format!("{} {} {}", &n[..2], &n[2..6], &n[6..])
    };
    (format!("+52{n}"), typed)
}
pub(crate) fn br_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("119{}", digits(rng, 8));
    let typed = if intl {
        format!("+55 {} {}-{}", &n[..2], &n[2..7], &n[7..])
    } else {
        format!("({}) {}-{}", &n[..2], &n[2..7], &n[7..])
    };
    (format!("+55{n}"), typed)
}
pub(crate) fn fr_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("6{}", digits(rng, 8));
    let typed = if intl {
        format!(
            "+33 {} {} {} {} {}",
            &n[..1],
            &n[1..3],
            &n[3..5],
            &n[5..7],
            &n[7..]
        )
    } else {
        format!(
            "0{} {} {} {} {}",
            &n[..1],
            &n[1..3],
            &n[3..5],
            &n[5..7],
            &n[7..]
        )
    };
    (format!("+33{n}"), typed)
}
pub(crate) fn pl_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("5{}", digits(rng, 8));
    let typed = if intl {
        format!("+48 {} {} {}", &n[..3], &n[3..6], &n[6..])
    } else {
        format!("{} {} {}", &n[..3], &n[3..6], &n[6..])
    };
    (format!("+48{n}"), typed)
}
pub(crate) fn eg_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("10{}", digits(rng, 8));
    let typed = if intl {
        format!("+20 {} {} {}", &n[..2], &n[2..6], &n[6..])
    } else {
        format!("0{}", n)
    };
    (format!("+20{n}"), typed)
}

const SYLLABLES: &[&str] = &[
    "ka", "ro", "mi", "ta", "len", "dor", "vi", "sa", "ber", "ni", "lo", "ran", "gu", "to", "mel",
    "za", "ki", "por", "an", "el", "wen", "ha", "sto", "ri", "mar", "bel", "qui", "ost", "ven",
    "dal", "fer", "go", "lin", "tam", "ser", "ul", "bra", "ne", "pa", "vos",
];

const PROVIDERS: &[&str] = &[
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "outlook.com",
    "hotmail.com",
    "yahoo.com",
    "icloud.com",
    "proton.me",
    "mail.com",
    "yandex.ru",
    "gmx.de",
    "qq.com",
];

const COMMON_NAMES: &[(&str, &str, &str)] = &[
    ("Maria", "Garcia", "ES"),
    ("John", "Smith", "US"),
    ("Wei", "Zhang", "CN"),
    ("Mohamed", "Ali", "EG"),
    ("Priya", "Sharma", "IN"),
    ("Ana", "Silva", "BR"),
    ("Olga", "Ivanova", "RU"),
    ("James", "Brown", "GB"),
];

/// Device cells that hold a model or a user agent instead of an id: shared by everyone with that phone.
const DEVICE_MODELS: &[&str] = &[
    "SM-G991B",
    "iPhone14,2",
    "iPhone13,2",
    "Pixel 7",
    "Mozilla/5.0 (Linux; Android 13; SM-G991B) AppleWebKit/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)",
    "Redmi Note 12",
];

const JUNK_DEVICES: &[&str] = &[
    "00000000-0000-0000-0000-000000000000",
    "unknown",
    "9774d56d682e549c",
    "emulator-5554-default",
    "webview-0001",
];

/// One person as the generator knows them.
#[derive(Clone)]
struct Person {
    region: usize,
    first: String,
    last: String,
    middle: Option<char>,
    dob: String,
    handle: String,
    provider: &'static str,
    phone: (String, String),
    devices: Vec<String>,
    ip: String,
    card: Option<String>,
    iban: Option<String>,
    id_doc: Option<String>,
    /// The person's IPv6 /64 (first four groups), when they are on IPv6.
    ipv6: Option<String>,
    home: Home,
}

/// What a ban evader carries over from the sanctioned account.
#[derive(Clone, Copy)]
enum Kept {
    Device,
    Card,
    Home,
    Phone,
    IdDocument,
}

/// Where a person lives.
#[derive(Clone)]
struct Home {
    street: String,
    house: u16,
    unit: Option<u16>,
    postcode: String,
    city: String,
}

struct Account {
    id: String,
    account_type: &'static str,
    status: &'static str,
    created: String,
    name: String,
    business: String,
    email: String,
    phone: String,
    country: String,
    dob: String,
    id_doc: String,
    payments: Vec<String>,
    devices: Vec<String>,
    ips: Vec<String>,
    address: String,
    city: String,
    postal_code: String,
}

fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        std::borrow::Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

struct Gen {
    rng: ChaCha8Rng,
    next_account: u64,
    next_person: u64,
    accounts: BufWriter<File>,
    truth: BufWriter<File>,
    reviews: BufWriter<File>,
    stats: SynthStats,
    /// Recent freelancer / client account ids for legitimate reviews.
    recent_freelancers: Vec<String>,
    recent_clients: Vec<String>,
    /// Shared crowd IPs: coworking spaces and carrier NAT, per region.
    coworking: Vec<(String, u32)>,
    nat: Vec<Vec<String>>,
    /// The dense profile's /24 ranges per region (`a.b.c`) and shared office devices; empty elsewhere.
    dense_ranges: Vec<Vec<String>>,
    office_devices: Vec<String>,
    profile: Profile,
    /// Mailboxes already given to a person: a provider never gives one twice.
    mailboxes: std::collections::HashSet<u64>,
    /// Every active freelancer account (they bid), and the accounts of people who bid against themselves.
    bidders: Vec<String>,
    self_bidders: Vec<Vec<String>>,
}

fn public_ipv4(rng: &mut ChaCha8Rng) -> String {
    loop {
        let a = rng.random_range(1..224u8);
        if matches!(a, 10 | 100 | 127 | 169 | 172 | 192) {
            continue;
        }
        return format!(
            "{a}.{}.{}.{}",
            rng.random_range(0..256u16),
            rng.random_range(0..256u16),
            rng.random_range(1..255u16)
        );
    }
}

/// The dense profile's /24 ranges per region and its office devices (drawn only for that profile, so the
/// other profiles' data do not change).
fn dense_networks(
    rng: &mut ChaCha8Rng,
    d: &profile::Dense,
    accounts: u64,
) -> (Vec<Vec<String>>, Vec<String>) {
    let ranges = REGIONS
        .iter()
        .map(|_| {
            (0..d.ranges_per_region)
                .map(|_| {
                    let ip = public_ipv4(rng);
                    ip.rsplit_once('.')
                        .map_or(ip.clone(), |(p, _)| p.to_string())
                })
                .collect()
        })
        .collect();
    let n = ((accounts as f64 * d.office_device) / d.office_device_accounts as f64).ceil() as usize;
    let devices = (0..n.max(1))
        .map(|_| format!("dev-{:016x}", rng.random::<u64>()))
        .collect();
    (ranges, devices)
}

fn messy(rng: &mut ChaCha8Rng, s: &str) -> String {
    match rng.random_range(0..20u8) {
        0 => s.to_uppercase(),
        1 => s.to_lowercase(),
        2 => format!("  {s} "),
        3 => s.replace(' ', "  "),
        _ => s.to_string(),
    }
}

fn typo(rng: &mut ChaCha8Rng, s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if c.len() < 4 {
        return s.to_string();
    }
    let i = rng.random_range(1..c.len() - 1);
    match rng.random_range(0..3u8) {
        0 => {
            c.swap(i, i + 1);
        }
        1 => {
            c.remove(i);
        }
        _ => {
            c.insert(i, c[i]);
        }
    }
    c.into_iter().collect()
}

fn strip_diacritics(s: &str) -> String {
    deunicode::deunicode(s)
}

impl Gen {
    fn account_id(&mut self) -> String {
        self.next_account += 1;
        // A fixed permutation of 1..10^10 so ids carry no order of persons.
        let x = (self.next_account.wrapping_mul(6_364_136_223)) % 10_000_000_000;
        format!("acc{x:010}")
    }

    fn date(&mut self, from_year: i64, to_year: i64) -> (i64, String) {
        let y = self.rng.random_range(from_year..=to_year);
        let m = self.rng.random_range(1..=12i64);
        let d = self.rng.random_range(1..=28i64);
        (y * 10_000 + m * 100 + d, format!("{y:04}-{m:02}-{d:02}"))
    }

    fn created_after(&mut self, after: i64) -> (i64, String) {
        // `after` is YYYYMMDD; pick a later date.
        let y0 = after / 10_000;
        let (mut v, mut s) = self.date(y0, 2026);
        for _ in 0..8 {
            if v > after {
                break;
            }
            (v, s) = self.date(y0, 2026);
        }
        if v <= after {
            v = after + 1;
            let (y, m, d) = (v / 10_000, (v / 100) % 100, (v % 100).min(28));
            s = format!("{y:04}-{m:02}-{d:02}");
        }
        let h = self.rng.random_range(0..24u8);
        let mi = self.rng.random_range(0..60u8);
        (v, format!("{s}T{h:02}:{mi:02}:00Z"))
    }

    fn surname(&mut self, r: &Region) -> String {
        if self.rng.random_bool(0.5) {
            r.last.choose(&mut self.rng).unwrap().to_string()
        } else {
            let n = self.rng.random_range(2..4usize);
            let mut s: String = (0..n)
                .map(|_| *SYLLABLES.choose(&mut self.rng).unwrap())
                .collect();
            if let Some(f) = s.get_mut(0..1) {
                f.make_ascii_uppercase();
            }
            s
        }
    }

    /// Whether an event of rate `r` happens.
    fn chance(&mut self, r: R) -> bool {
        let p = self.profile.get(r).clamp(0.0, 1.0);
        self.rng.random_bool(p)
    }

    fn pick_region(&mut self) -> usize {
        let total: u32 = REGIONS.iter().map(|r| r.weight).sum();
        let mut x = self.rng.random_range(0..total);
        REGIONS
            .iter()
            .position(|r| {
                if x < r.weight {
                    true
                } else {
                    x -= r.weight;
                    false
                }
            })
            .unwrap_or(0)
    }

    /// An email handle. Many people build it from their name alone (`first.last`, `firstlast85`, `f.last`):
    /// then namesakes collide, and a provider's uniqueness is all that keeps two mailboxes apart. The others
    /// add a tag of their own.
    fn handle(&mut self, first: &str, last: &str, dob: &str) -> String {
        let (f, l) = (
            strip_diacritics(first).to_lowercase().replace(' ', ""),
            strip_diacritics(last).to_lowercase().replace(' ', ""),
        );
        if self.chance(R::NameBuiltHandle) {
            let yy = dob.get(2..4).unwrap_or("85");
            return match self.rng.random_range(0..5u8) {
                0 => format!("{f}.{l}"),
                1 => format!("{f}{l}{yy}"),
                2 => format!("{}.{l}", &f[..f.len().min(1)]),
                3 => format!("{f}_{l}"),
                _ => format!("{f}.{l}{}", self.rng.random_range(1..100u8)),
            };
        }
        let tag = radix36(self.next_person);
        match self.rng.random_range(0..4u8) {
            0 => format!("{f}.{l}.{tag}"),
            1 => format!("{f}{l}{tag}"),
            2 => format!("{}{l}{tag}", &f[..f.len().min(1)]),
            _ => format!("{f}.{l}_{tag}"),
        }
    }

    /// The handle, or the handle with digits added until the mailbox is free (as people do when theirs is
    /// taken); registers it.
    fn free_mailbox(&mut self, handle: String, provider: &str) -> String {
        let key = |h: &str| {
            xxhash_rust::xxh3::xxh3_64(format!("{}@{provider}", h.to_lowercase()).as_bytes())
        };
        let mut h = handle;
        while !self.mailboxes.insert(key(&h)) {
            h = format!("{h}{}", self.rng.random_range(0..10u8));
        }
        h
    }

    fn person(&mut self, region: Option<usize>) -> Person {
        let region = region.unwrap_or_else(|| self.pick_region());
        let r = &REGIONS[region];
        let first = r.first.choose(&mut self.rng).unwrap().to_string();
        let last = self.surname(r);
        let (_, dob) = self.date(1960, 2004);
        let handle = self.handle(&first, &last, &dob);
        let intl = self.rng.random_bool(0.4);
        let phone = (r.phone)(&mut self.rng, intl);
        let ndev = self.rng.random_range(1..=2usize);
        let devices = (0..ndev)
            .map(|_| format!("dev-{:016x}", self.rng.random::<u64>()))
            .collect();
        let card = self
            .chance(R::Card)
            .then(|| format!("fp_{:012x}", self.rng.random::<u64>() & 0xffff_ffff_ffff));
        let iban = (matches!(r.country, "DE" | "FR" | "ES" | "PL") && self.rng.random_bool(0.3))
            .then(|| {
                let cc = r.country;
                let len = match cc {
                    "DE" => 18,
                    "FR" => 23,
                    "PL" => 24,
                    _ => 20,
                };
                let bban = digits(&mut self.rng, len);
                iban_with_check(cc, &bban)
            });
        let id_doc = self
            .chance(R::IdDocument)
            .then(|| format!("{:032x}", self.rng.random::<u128>()));
        let ipv6 = self.chance(R::Ipv6).then(|| self.ipv6_prefix());
        let provider = *PROVIDERS.choose(&mut self.rng).unwrap();
        let handle = self.free_mailbox(handle, provider);
        Person {
            region,
            first,
            last,
            middle: self
                .rng
                .random_bool(0.15)
                .then(|| char::from(b'A' + self.rng.random_range(0..26u8))),
            dob,
            handle,
            provider,
            phone,
            devices,
            ip: public_ipv4(&mut self.rng),
            card,
            iban,
            id_doc,
            ipv6,
            home: self.home(region),
        }
    }

    /// A home in the region's style: street, house number (a flat in a third of them), postcode and city.
    fn home(&mut self, region: usize) -> Home {
        let cc = REGIONS[region].country;
        let word = |g: &mut Self, n: usize| {
            let w: String = (0..n)
                .map(|_| *SYLLABLES.choose(&mut g.rng).unwrap())
                .collect();
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        };
        let name = word(self, 2);
        let street = match cc {
            "DE" => format!("{name}straße"),
            "FR" => format!("Rue {name}"),
            "ES" | "MX" => format!("Calle {name}"),
            "PL" => format!("ul. {name}"),
            _ => {
                let kind = ["Street", "Road", "Avenue", "Lane", "Drive"];
                format!("{name} {}", kind.choose(&mut self.rng).unwrap())
            }
        };
        let d = |g: &mut Self, n: usize| digits(&mut g.rng, n);
        let letter = |g: &mut Self| char::from(b'A' + g.rng.random_range(0..26u8));
        let postcode = match cc {
            "GB" => {
                let (a, b, c, e) = (letter(self), letter(self), letter(self), letter(self));
                format!(
                    "{a}{b}{} {}{c}{e}",
                    self.rng.random_range(1..20u8),
                    self.rng.random_range(0..10u8)
                )
            }
            "PL" => format!("{}-{}", d(self, 2), d(self, 3)),
            "RU" | "IN" | "CN" => d(self, 6),
            "BR" => format!("{}-{}", d(self, 5), d(self, 3)),
            _ => d(self, 5),
        };
        Home {
            street,
            house: self.rng.random_range(1..300),
            unit: self
                .rng
                .random_bool(0.3)
                .then(|| self.rng.random_range(1..40)),
            postcode,
            city: word(self, 3),
        }
    }

    /// A home as one account types it: street types spelt out or abbreviated, the flat written several ways,
    /// the postcode's case and spacing, the city left out now and then.
    fn address_cells(&mut self, h: &Home) -> (String, String, String) {
        let mut street = h.street.clone();
        if self.rng.random_bool(0.3) {
            for (long, short) in [
                ("Street", "St"),
                ("Road", "Rd"),
                ("Avenue", "Ave"),
                ("straße", "str."),
                ("Drive", "Dr"),
            ] {
                street = street.replace(long, short);
            }
        }
        let mut line = format!("{} {street}", h.house);
        if matches!(&street[..2.min(street.len())], "Ru" | "Ca" | "ul")
            || street.ends_with("straße")
            || street.ends_with("str.")
        {
            line = format!("{street} {}", h.house);
        }
        if let Some(u) = h.unit {
            line = match self.rng.random_range(0..3u8) {
                0 => format!("{line}, Apt {u}"),
                1 => format!("{line} #{u}"),
                _ => format!("Flat {u}, {line}"),
            };
        }
        let postcode = if self.rng.random_bool(0.2) {
            h.postcode.to_lowercase().replace([' ', '-'], "")
        } else {
            h.postcode.clone()
        };
        let city = if self.rng.random_bool(0.1) {
            String::new()
        } else {
            h.city.clone()
        };
        (line, city, postcode)
    }

    /// A /64 of a residential or mobile IPv6 network (2a00::/12, global unicast).
    fn ipv6_prefix(&mut self) -> String {
        format!(
            "2a0{:x}:{:x}:{:x}:{:x}",
            self.rng.random_range(0..16u8),
            self.rng.random::<u16>(),
            self.rng.random::<u16>(),
            self.rng.random::<u16>()
        )
    }

    /// An address of a /64 with a fresh privacy interface id (RFC 4941: a new one every day or so).
    fn ipv6_address(&mut self, prefix: &str) -> String {
        format!(
            "{prefix}:{:x}:{:x}:{:x}:{:x}",
            self.rng.random::<u16>() | 0x200,
            self.rng.random::<u16>(),
            self.rng.random::<u16>(),
            self.rng.random::<u16>() | 1
        )
    }

    fn base_account(&mut self, p: &Person, account_type: &'static str) -> Account {
        let r = &REGIONS[p.region];
        let mut name = match p.middle {
            Some(m) if self.rng.random_bool(0.5) => format!("{} {}. {}", p.first, m, p.last),
            _ => format!("{} {}", p.first, p.last),
        };
        if !r.native.is_empty() && self.rng.random_bool(0.3) {
            for (latin, native) in r.native {
                name = name.replace(latin, native);
            }
        }
        let name = messy(&mut self.rng, &name);
        let email = format!("{}@{}", p.handle, p.provider);
        let email = if self.rng.random_bool(0.05) {
            email.to_uppercase()
        } else {
            email
        };
        let mut payments = vec![];
        if let Some(c) = &p.card {
            payments.push(format!("card:{c}"));
        }
        if let Some(i) = &p.iban {
            payments.push(format!("iban:{i}"));
        }
        let (_, created) = self.date(2016, 2025);
        let ips = self.networks(p);
        let id = self.account_id();
        let (address, city, postal_code) = if self.chance(R::AddressPresent) {
            self.address_cells(&p.home)
        } else {
            Default::default()
        };
        let mut a = Account {
            id,
            account_type,
            status: if self.rng.random_bool(0.05) {
                "closed"
            } else {
                "active"
            },
            created: format!(
                "{created}T{:02}:{:02}:00Z",
                self.rng.random_range(0..24u8),
                self.rng.random_range(0..60u8)
            ),
            name,
            business: String::new(),
            email: if self.chance(R::EmailPresent) {
                email
            } else {
                String::new()
            },
            phone: if self.chance(R::PhonePresent) {
                p.phone.1.clone()
            } else {
                String::new()
            },
            country: r.country.to_string(),
            dob: if self.chance(R::DobPresent) {
                p.dob.clone()
            } else {
                String::new()
            },
            id_doc: p.id_doc.clone().unwrap_or_default(),
            payments,
            devices: p.devices.clone(),
            ips,
            address,
            city,
            postal_code,
        };
        if let Some(d) = self.profile.dense {
            self.densify(&mut a, p.region, &d);
        }
        self.low_entropy(&mut a);
        a
    }

    /// The networks an account is seen on: the home IP, sometimes a second one, the IPv6 of the home's /64,
    /// now and then a private address (never evidence).
    fn networks(&mut self, p: &Person) -> Vec<String> {
        let mut ips = vec![p.ip.clone()];
        if self.chance(R::SecondIp) {
            ips.push(public_ipv4(&mut self.rng));
        }
        if let Some(v6) = &p.ipv6 {
            ips.push(self.ipv6_address(v6));
        }
        if self.rng.random_bool(0.1) {
            ips.push("192.168.1.10".into());
        }
        ips
    }

    /// The dense profile's extra networks and office devices for one account.
    fn densify(&mut self, a: &mut Account, region: usize, d: &profile::Dense) {
        let ranges = &self.dense_ranges[region];
        // Poisson-ish: a count between 0 and twice the mean.
        let k = self
            .rng
            .random_range(0..=(2.0 * d.extra_ips).round() as usize);
        for _ in 0..k {
            let range = &ranges[self.rng.random_range(0..ranges.len())];
            a.ips
                .push(format!("{range}.{}", self.rng.random_range(1..255u16)));
        }
        if self.rng.random_bool(d.carrier_nat) {
            let pool = &self.nat[region];
            a.ips
                .push(pool[self.rng.random_range(0..pool.len())].clone());
        }
        if self.rng.random_bool(d.office_device) {
            let dev = &self.office_devices[self.rng.random_range(0..self.office_devices.len())];
            a.devices.push(dev.clone());
        }
    }

    /// What exports are full of: placeholders typed into required fields, device cells holding a model or
    /// user-agent string, cards exported masked.
    fn low_entropy(&mut self, a: &mut Account) {
        if self.chance(R::PlaceholderValue) {
            match self.rng.random_range(0..5u8) {
                0 => {
                    a.dob = ["1900-01-01", "1970-01-01"]
                        .choose(&mut self.rng)
                        .unwrap()
                        .to_string()
                }
                1 => a.dob = format!("{}-01-01", self.rng.random_range(1960..2005u16)),
                2 => {
                    a.phone = ["0000000000", "1234567", "0000000"]
                        .choose(&mut self.rng)
                        .unwrap()
                        .to_string()
                }
                3 => {
                    a.email = ["test@test.com", "none@none.com", "a@a.com"]
                        .choose(&mut self.rng)
                        .unwrap()
                        .to_string()
                }
                _ => {
                    a.id_doc = ["N/A", "null", "unknown", "-"]
                        .choose(&mut self.rng)
                        .unwrap()
                        .to_string()
                }
            }
        }
        if self.chance(R::DeviceModelString) {
            a.devices = vec![DEVICE_MODELS.choose(&mut self.rng).unwrap().to_string()];
        }
        if self.chance(R::MaskedCard) {
            for item in a.payments.iter_mut() {
                if let Some(fp) = item.strip_prefix("card:") {
                    // Only the last four digits survive (and maybe the issuer's BIN): many cards share them.
                    let last4 = u64::from_str_radix(
                        fp.trim_start_matches("fp_").get(..8).unwrap_or("0"),
                        16,
                    )
                    .unwrap_or(0)
                        % 10_000;
                    *item = if self.rng.random_bool(0.5) {
                        format!("card:411111******{last4:04}")
                    } else {
                        format!("card:last4:{last4:04}")
                    };
                }
            }
        }
    }

    /// The name on a second account of the same person.
    fn variant_name(&mut self, p: &Person, first: &Account) -> String {
        let r = &REGIONS[p.region];
        let plain = format!("{} {}", p.first, p.last);
        let roll = self.rng.random::<f64>();
        let mut at = 0.0;
        let mut next = |r: R| {
            at += self.profile.get(r);
            roll < at
        };
        if next(R::DupNickname) {
            let nick = variants::nickname(&mut self.rng, &p.first, r.country);
            return format!("{nick} {}", p.last);
        }
        if next(R::DupTransliteration) {
            let mut native = plain.clone();
            for (latin, n) in r.native {
                native = native.replace(latin, n);
            }
            if variants::is_cyrillic(&native) {
                let scheme = self.rng.random_range(0..3usize);
                return variants::romanize(&native, scheme);
            }
            return strip_diacritics(&plain);
        }
        if next(R::DupTypo) {
            return typo(&mut self.rng, &plain);
        }
        if next(R::DupSwappedOrder) {
            return if self.rng.random_bool(0.5) {
                format!("{}, {}", p.last, p.first)
            } else {
                format!("{} {}", p.last, p.first)
            };
        }
        match self.rng.random_range(0..4u8) {
            0 => strip_diacritics(&plain),
            1 => format!(
                "{} {}. {}",
                p.first,
                char::from(b'A' + self.rng.random_range(0..26u8)),
                p.last
            ),
            _ => first.name.clone(),
        }
    }

    /// The email on a second account: the old handle at another provider, with a `+tag` or dots, with
    /// numbers added, or a new mailbox altogether.
    fn variant_email(&mut self, p: &Person) -> String {
        if self.chance(R::DupNewEmail) {
            let q = self.person(Some(p.region));
            return format!("{}@{}", q.handle, q.provider);
        }
        let local = p.handle.clone();
        match self.rng.random_range(0..10u8) {
            0..=2 if p.provider == "gmail.com" => {
                let dotted: String = local.chars().filter(|c| *c != '.').collect();
                format!(
                    "{}+{}@{}",
                    dotted,
                    ["work", "shop", "x", "2"].choose(&mut self.rng).unwrap(),
                    if self.rng.random_bool(0.3) {
                        "googlemail.com"
                    } else {
                        "gmail.com"
                    }
                )
            }
            0..=2
                if matches!(
                    p.provider,
                    "outlook.com" | "hotmail.com" | "icloud.com" | "proton.me"
                ) =>
            {
                format!("{local}+alt@{}", p.provider)
            }
            3..=4 => {
                let provider = *PROVIDERS.choose(&mut self.rng).unwrap();
                let h = self.free_mailbox(local, provider);
                format!("{h}@{provider}")
            }
            _ => {
                let provider = *PROVIDERS.choose(&mut self.rng).unwrap();
                let h = format!(
                    "{}{}",
                    local.replace('.', "_"),
                    self.rng.random_range(1..99u8)
                );
                let h = self.free_mailbox(h, provider);
                format!("{h}@{provider}")
            }
        }
    }

    /// A second account of the same person: the variations real duplicates show.
    fn variant(&mut self, p: &Person, first: &Account, account_type: &'static str) -> Account {
        let mut a = self.base_account(p, account_type);
        a.name = self.variant_name(p, first);
        a.name = messy(&mut self.rng, &a.name);
        a.email = self.variant_email(p);
        if !a.phone.is_empty() {
            a.phone = match self.rng.random_range(0..10u8) {
                0..=5 => rewrite_phone(&p.phone.0, &mut self.rng),
                6..=7 => (REGIONS[p.region].phone)(&mut self.rng, true).1,
                _ => String::new(),
            };
        }
        if self.chance(R::DupNewDevice) {
            a.devices = vec![format!("dev-{:016x}", self.rng.random::<u64>())];
        }
        match self.rng.random_range(0..10u8) {
            0..=5 => {}
            6..=7 => {
                let mut parts: Vec<&str> = p.ip.split('.').collect();
                let last = format!("{}", self.rng.random_range(1..255u16));
                parts[3] = &last;
                a.ips = vec![parts.join(".")];
            }
            _ => a.ips = vec![public_ipv4(&mut self.rng)],
        }
        if p.ipv6.is_some() && self.rng.random_bool(0.5) {
            // On mobile: another network's /64.
            let other = self.ipv6_prefix();
            let addr = self.ipv6_address(&other);
            a.ips.push(addr);
        }
        if self.chance(R::DupNewCard) {
            a.payments.clear();
            if self.rng.random_bool(0.5) {
                a.payments.push(format!(
                    "card:fp_{:012x}",
                    self.rng.random::<u64>() & 0xffff_ffff_ffff
                ));
            }
        }
        if self.chance(R::DupDobMissing) {
            a.dob = String::new();
        }
        if !a.address.is_empty() && self.chance(R::DupMoved) {
            let home = self.home(p.region);
            (a.address, a.city, a.postal_code) = self.address_cells(&home);
        }
        a
    }

    fn write(&mut self, a: &Account, person: u64, scenario: &str, group: &str) -> Result<()> {
        let io = |e| Error::Write {
            path: "accounts.csv".into(),
            source: e,
        };
        let row = [
            a.id.as_str(),
            a.account_type,
            a.status,
            &a.created,
            &a.name,
            &a.business,
            &a.email,
            &a.phone,
            &a.country,
            &a.dob,
            &a.id_doc,
            &a.payments.join("|"),
            &a.devices.join("|"),
            &a.ips.join("|"),
            &a.address,
            &a.city,
            &a.postal_code,
        ];
        let line: Vec<std::borrow::Cow<str>> = row.iter().map(|s| csv_field(s)).collect();
        writeln!(self.accounts, "{}", line.join(",")).map_err(io)?;
        writeln!(self.truth, "{},p{person:09},{scenario},{group}", a.id).map_err(io)?;
        self.stats.accounts += 1;
        if a.account_type == "freelancer" && a.status == "active" {
            self.bidders.push(a.id.clone());
        }
        let pool = match a.account_type {
            "freelancer" => &mut self.recent_freelancers,
            "client" => &mut self.recent_clients,
            _ => return Ok(()),
        };
        if pool.len() < 4096 {
            pool.push(a.id.clone());
        } else {
            let i = self.rng.random_range(0..pool.len());
            pool[i] = a.id.clone();
        }
        Ok(())
    }

    fn review(&mut self, from: &str, to: &str) -> Result<()> {
        let (_, d) = self.date(2020, 2026);
        let rating = if self.rng.random_bool(0.8) {
            5
        } else {
            self.rng.random_range(1..5u8)
        };
        writeln!(self.reviews, "{from},{to},{rating},{d}").map_err(|e| Error::Write {
            path: "reviews.csv".into(),
            source: e,
        })?;
        self.stats.reviews += 1;
        Ok(())
    }

    fn new_person_id(&mut self) -> u64 {
        self.next_person += 1;
        self.stats.persons += 1;
        self.next_person
    }

    /// One scenario instance, drawn by the profile's mix; writes its accounts and reviews.
    fn unit(&mut self) -> Result<()> {
        const MIX: [R; 9] = [
            R::MixSingle,
            R::MixDuplicate,
            R::MixBanEvasion,
            R::MixPermitted,
            R::MixReviewRing,
            R::MixHousehold,
            R::MixAgency,
            R::MixNamesakes,
            R::MixLegalEntity,
        ];
        let total: f64 = MIX.iter().map(|r| self.profile.get(*r)).sum();
        let mut x = self.rng.random::<f64>() * total;
        let pick = MIX
            .iter()
            .position(|r| {
                x -= self.profile.get(*r);
                x < 0.0
            })
            .unwrap_or(0);
        let pid = self.new_person_id();
        match MIX[pick] {
            R::MixDuplicate => self.duplicate(pid)?,
            R::MixBanEvasion => self.ban_evasion(pid)?,
            R::MixPermitted => self.permitted(pid)?,
            R::MixReviewRing => self.review_ring(pid)?,
            R::MixHousehold => self.household(pid)?,
            R::MixAgency => self.agency(pid)?,
            R::MixNamesakes => self.namesakes(pid)?,
            R::MixLegalEntity => self.legal_entity(pid)?,
            _ => self.single(pid)?,
        }
        // Legitimate reviews between strangers: a client reviews a freelancer.
        if self.rng.random_bool(0.3)
            && !self.recent_clients.is_empty()
            && !self.recent_freelancers.is_empty()
        {
            let c =
                self.recent_clients[self.rng.random_range(0..self.recent_clients.len())].clone();
            let f = self.recent_freelancers
                [self.rng.random_range(0..self.recent_freelancers.len())]
            .clone();
            self.review(&c, &f)?;
        }
        Ok(())
    }

    /// A banned or suspended status for a member of a group, with the rate of the profile.
    fn maybe_sanctioned(&mut self, a: &mut Account) -> bool {
        if !self.chance(R::SanctionedInGroup) {
            return false;
        }
        a.status = if self.rng.random_bool(0.7) {
            "banned"
        } else {
            "suspended"
        };
        // Sanctioned first: the group's other accounts are newer, as an evader's would be.
        a.created = "2016-01-04T09:00:00Z".into();
        true
    }

    /// Single accounts, some of them in crowds: common names, coworking spaces, carrier NAT, junk devices.
    fn single(&mut self, pid: u64) -> Result<()> {
        let mut p = self.person(None);
        let t = if self.rng.random_bool(0.7) {
            "freelancer"
        } else {
            "client"
        };
        let (mut scenario, mut group) = ("single", String::new());
        let roll = self.rng.random::<f64>();
        let shares = [
            R::SingleCommonName,
            R::SingleCoworking,
            R::SingleCarrierNat,
            R::SingleJunkDevice,
        ];
        let mut at = 0.0;
        let crowd = shares.iter().find(|r| {
            at += self.profile.get(**r);
            roll < at
        });
        match crowd {
            Some(R::SingleCommonName) => {
                let (f, l, cc) = *COMMON_NAMES.choose(&mut self.rng).unwrap();
                let region = REGIONS.iter().position(|r| r.country == cc).unwrap_or(0);
                p = self.person(Some(region));
                (p.first, p.last) = (f.to_string(), l.to_string());
                let h = self.handle(f, l, &p.dob.clone());
                p.handle = self.free_mailbox(h, p.provider);
                (scenario, group) = ("common_name", format!("{f} {l}"));
            }
            Some(R::SingleCoworking) => {
                let i = self.rng.random_range(0..self.coworking.len());
                p.ip = self.coworking[i].0.clone();
                (scenario, group) = ("coworking", format!("cowork{i}"));
            }
            Some(R::SingleCarrierNat) => {
                let pool = &self.nat[p.region];
                p.ip = pool[self.rng.random_range(0..pool.len())].clone();
                (scenario, group) = ("carrier_nat", format!("nat{}", p.region));
            }
            Some(_) => {
                let j = JUNK_DEVICES.choose(&mut self.rng).unwrap();
                p.devices = vec![j.to_string()];
                (scenario, group) = ("junk_device", j.to_string());
            }
            None => {}
        }
        let mut a = self.base_account(&p, t);
        if scenario == "coworking" {
            self.maybe_sanctioned(&mut a);
        }
        self.write(&a, pid, scenario, &group)
    }

    /// Duplicate freelancer accounts of one person.
    fn duplicate(&mut self, pid: u64) -> Result<()> {
        let p = self.person(None);
        let a = self.base_account(&p, "freelancer");
        self.write(&a, pid, "duplicate", "")?;
        let mut ids = vec![a.id.clone()];
        for _ in 0..self.rng.random_range(1..=2u8) {
            let b = self.variant(&p, &a, "freelancer");
            self.write(&b, pid, "duplicate", "")?;
            ids.push(b.id);
        }
        if self.chance(R::SelfBidding) {
            self.self_bidders.push(ids);
        }
        Ok(())
    }

    /// One freelancer and one client account of one person: allowed.
    fn permitted(&mut self, pid: u64) -> Result<()> {
        let p = self.person(None);
        let a = self.base_account(&p, "freelancer");
        self.write(&a, pid, "permitted", "")?;
        let mut b = self.variant(&p, &a, "client");
        b.devices = a.devices.clone();
        self.write(&b, pid, "permitted", "")
    }

    /// A sanctioned account and a later one under a new identity. Evaders change what is easy to change
    /// (name, email, phone) and keep some of what is hard: a device, the card, the home address, the home network, the id
    /// document; some pay with a PayPal address made of their old handle, some come back under a married
    /// surname, some reuse one thing only.
    fn ban_evasion(&mut self, pid: u64) -> Result<()> {
        let mut p = self.person(None);
        p.card.get_or_insert_with(|| format!("fp_{:012x}", pid));
        let mut a = self.base_account(&p, "freelancer");
        a.status = if self.rng.random_bool(0.7) {
            "banned"
        } else {
            "suspended"
        };
        if a.phone.is_empty() {
            a.phone = p.phone.1.clone();
        }
        let created_a: i64 = a.created[..10].replace('-', "").parse().unwrap_or(20200101);
        let mut q = self.person(Some(p.region));
        q.id_doc = None;
        let roll = self.rng.random::<f64>();
        let (paypal, married) = (
            self.profile.get(R::EvasionPaypal),
            self.profile.get(R::EvasionMarried),
        );
        let one = self.profile.get(R::EvasionOneSignal);
        let (scenario, kept) = if roll < paypal {
            let local = format!("{}{}", p.handle, self.rng.random_range(1..99u8));
            q.card = None;
            q.iban = None;
            let mut b = self.base_account(&q, "freelancer");
            b.payments = vec![format!("paypal:{local}@{}", p.provider)];
            self.evader_birth_date(&a, &mut b);
            return self.evader(pid, a, b, created_a, "ban_evasion_paypal");
        } else if roll < paypal + married {
            q.first = p.first.clone();
            q.dob = p.dob.clone();
            ("ban_evasion_married", vec![Kept::Device])
        } else if roll < paypal + married + one {
            let kept = if self.rng.random_bool(0.5) {
                Kept::Device
            } else {
                Kept::Phone
            };
            ("ban_evasion_one_signal", vec![kept])
        } else {
            ("ban_evasion", self.reuse_some(&p))
        };
        let mut b = self.base_account(&q, "freelancer");
        for k in kept {
            self.keep(&p, k, &mut a, &mut b);
        }
        self.evader_birth_date(&a, &mut b);
        if scenario == "ban_evasion" && self.rng.random_bool(0.3) {
            let mut parts: Vec<String> = p.ip.split('.').map(String::from).collect();
            parts[3] = self.rng.random_range(1..255u16).to_string();
            b.ips = vec![parts.join(".")];
        }
        self.evader(pid, a, b, created_a, scenario)
    }

    /// A birth date is hard to change where it was once verified: most evaders keep theirs (or leave the
    /// field blank); some type a new one.
    fn evader_birth_date(&mut self, a: &Account, b: &mut Account) {
        if !self.chance(R::EvasionNewBirthDate) {
            b.dob = if b.dob.is_empty() {
                String::new()
            } else {
                a.dob.clone()
            };
        }
    }

    /// The classic evader reuses one to three of: a device, the card, the home, the phone, the id document.
    fn reuse_some(&mut self, p: &Person) -> Vec<Kept> {
        let mut pool = vec![
            Kept::Device,
            Kept::Card,
            Kept::Home,
            Kept::Phone,
            Kept::IdDocument,
        ];
        if p.id_doc.is_none() {
            pool.pop();
        }
        let k = self.rng.random_range(1..=3usize);
        (0..k)
            .map(|_| pool.remove(self.rng.random_range(0..pool.len())))
            .collect()
    }

    /// What an evader keeps is what the platform records on both accounts: the device id (not a model
    /// string), the card's fingerprint (not masked), the phone, the address, the document. A "kept" phone
    /// that the export never shows is no evidence at all, and no matcher could find that person.
    fn keep(&mut self, p: &Person, kept: Kept, a: &mut Account, b: &mut Account) {
        match kept {
            Kept::Device => {
                a.devices.retain(|d| d.starts_with("dev-"));
                if !a.devices.contains(&p.devices[0]) {
                    a.devices.insert(0, p.devices[0].clone());
                }
                b.devices = vec![p.devices[0].clone()];
            }
            Kept::Card => {
                let card = format!("card:{}", p.card.as_deref().unwrap_or_default());
                a.payments.retain(|x| !x.starts_with("card:"));
                a.payments.insert(0, card.clone());
                b.payments.retain(|x| !x.starts_with("card:"));
                b.payments.insert(0, card);
            }
            Kept::Home => {
                let cells = self.address_cells(&p.home);
                (a.address, a.city, a.postal_code) = self.address_cells(&p.home);
                (b.address, b.city, b.postal_code) = cells;
            }
            Kept::Phone => b.phone = p.phone.1.clone(),
            Kept::IdDocument => {
                let doc = p.id_doc.clone().unwrap_or_default();
                a.id_doc = doc.clone();
                b.id_doc = doc;
            }
        }
    }

    fn evader(
        &mut self,
        pid: u64,
        a: Account,
        mut b: Account,
        created_a: i64,
        scenario: &str,
    ) -> Result<()> {
        b.status = "active";
        b.created = self.created_after(created_a).1;
        self.write(&a, pid, scenario, "")?;
        self.write(&b, pid, scenario, "")
    }

    /// Review ring: a freelancer and a client account of one person under another name, reviewing each
    /// other. Some sock puppets share a device or the home IP; the careful ones only an IP prefix and a
    /// device model.
    fn review_ring(&mut self, pid: u64) -> Result<()> {
        let p = self.person(None);
        let a = self.base_account(&p, "freelancer");
        let weak = self.chance(R::ReviewRingWeak);
        let scenario = if weak {
            "review_ring_weak"
        } else {
            "review_ring"
        };
        self.write(&a, pid, scenario, "")?;
        let mut b = self.variant(&p, &a, "client");
        let q = self.person(Some(p.region));
        b.name = format!("{} {}", q.first, q.last);
        b.email = format!("{}@{}", q.handle, q.provider);
        b.phone = String::new();
        b.payments.clear();
        b.dob = String::new();
        if weak {
            let mut parts: Vec<String> = p.ip.split('.').map(String::from).collect();
            parts[3] = self.rng.random_range(1..255u16).to_string();
            b.ips = vec![parts.join(".")];
            b.devices = vec![DEVICE_MODELS.choose(&mut self.rng).unwrap().to_string()];
        } else if self.rng.random_bool(0.5) {
            b.devices = vec![p.devices[0].clone()];
            b.ips = vec![public_ipv4(&mut self.rng)];
        } else {
            b.devices = q.devices.clone();
            b.ips = vec![p.ip.clone()];
        }
        self.write(&b, pid, scenario, "")?;
        for _ in 0..self.rng.random_range(1..=3u8) {
            let (x, y) = (b.id.clone(), a.id.clone());
            self.review(&x, &y)?;
        }
        Ok(())
    }

    /// Household: 2-4 different people on one network, often one card, a surname, a tablet; sometimes a
    /// junior with the senior's name, twins, or a banned member whose family opens accounts later.
    fn household(&mut self, pid: u64) -> Result<()> {
        let head = self.person(None);
        let n = self.rng.random_range(2..=4u8);
        let group = format!("hh{pid}");
        let junior = self.chance(R::HouseholdJunior);
        let twins = self.chance(R::HouseholdTwins);
        let mut used: Vec<String> = Vec::new();
        let mut sanctioned = false;
        for k in 0..n {
            let mut m = self.person(Some(head.region));
            while used.contains(&m.first) {
                m.first = REGIONS[head.region]
                    .first
                    .choose(&mut self.rng)
                    .unwrap()
                    .to_string();
            }
            let mut scenario = "household";
            if k == 1 && junior {
                // Junior: the senior's names, born a generation later.
                (m.first, m.last) = (head.first.clone(), head.last.clone());
                let y: i64 = head.dob[..4].parse().unwrap_or(1960) + self.rng.random_range(25..=35);
                m.dob = format!("{y:04}{}", &head.dob[4..]);
                let h = self.handle(&m.first, &m.last, &m.dob);
                m.handle = self.free_mailbox(h, m.provider);
                scenario = "household_namesake";
            } else if k == 1 && twins {
                m.dob = head.dob.clone();
                m.last = head.last.clone();
                scenario = "household_twins";
            } else if self.chance(R::HouseholdSurname) {
                m.last = head.last.clone();
            }
            used.push(m.first.clone());
            let pm = if k == 0 { pid } else { self.new_person_id() };
            m.ip = head.ip.clone();
            m.ipv6 = head.ipv6.clone();
            m.home = head.home.clone();
            if self.chance(R::HouseholdCard) {
                m.card = head
                    .card
                    .clone()
                    .or_else(|| Some(format!("fp_{:012x}", pid)));
            }
            if self.chance(R::HouseholdDevice) {
                m.devices.push(head.devices[0].clone());
            }
            let t = if self.rng.random_bool(0.6) {
                "freelancer"
            } else {
                "client"
            };
            let mut a = self.base_account(&m, t);
            if !sanctioned {
                sanctioned = self.maybe_sanctioned(&mut a);
            }
            self.write(&a, pm, scenario, &group)?;
        }
        Ok(())
    }

    /// Agency: an agency account and 3-8 members sharing the office IP, the company card and email domain;
    /// sometimes a banned member.
    /// A domain of the company's own: one company, one domain (a second "Brown Labs" registers
    /// brownlabs2.com).
    fn company_domain(&mut self, company: &str) -> String {
        let base = strip_diacritics(company).to_lowercase().replace(' ', "");
        let mut domain = format!("{base}.com");
        let mut n = 1;
        while !self
            .mailboxes
            .insert(xxhash_rust::xxh3::xxh3_64(format!("@{domain}").as_bytes()))
        {
            n += 1;
            domain = format!("{base}{n}.com");
        }
        domain
    }

    /// A person's personal freelancer account and an account of the business they registered (permitted);
    /// some businesses open a second entity account (a duplicate business).
    fn legal_entity(&mut self, pid: u64) -> Result<()> {
        let p = self.person(None);
        let personal = self.base_account(&p, "freelancer");
        let second = self.chance(R::EntitySecondAccount);
        let scenario = if second {
            "legal_entity_duplicate"
        } else {
            "legal_entity"
        };
        self.write(&personal, pid, scenario, "")?;
        let own_name = self.chance(R::EntityOwnName);
        let company = if own_name {
            format!("{} {}", p.first, p.last)
        } else {
            let word = ["Consulting", "Design", "Web", "Analytics", "Media", "Code"];
            format!(
                "{} {}",
                self.surname(&REGIONS[p.region]),
                word.choose(&mut self.rng).unwrap()
            )
        };
        let form = *["LLC", "Ltd", "GmbH", "Inc.", "Ltd.", "SARL", "B.V."]
            .choose(&mut self.rng)
            .unwrap();
        let domain = self.company_domain(&company);
        let t = if self.chance(R::EntityClient) {
            "client"
        } else {
            "freelancer"
        };
        let card = format!("card:fp_biz{:08x}", self.rng.random::<u32>());
        let mailboxes = ["info", "hello", "office", "billing", "team"];
        for k in 0..(1 + second as usize) {
            let mut e = self.base_account(&p, t);
            // An owner-named business always carries its legal form: without it, it would be a person's name.
            e.business = if !own_name && self.rng.random_bool(0.2) {
                company.clone()
            } else {
                format!("{company} {form}")
            };
            e.email = if k == 0 && self.rng.random_bool(0.5) {
                format!("{}@{domain}", strip_diacritics(&p.first).to_lowercase())
            } else {
                format!("{}@{domain}", mailboxes.choose(&mut self.rng).unwrap())
            };
            if self.rng.random_bool(0.6) {
                e.payments = vec![card.clone()];
            }
            if self.rng.random_bool(0.4) {
                e.phone = String::new();
            }
            self.write(&e, pid, scenario, &company)?;
        }
        Ok(())
    }

    fn agency(&mut self, pid: u64) -> Result<()> {
        let boss = self.person(None);
        let company = format!(
            "{} {}",
            self.surname(&REGIONS[boss.region]),
            ["Digital", "Studio", "Labs", "Solutions"]
                .choose(&mut self.rng)
                .unwrap()
        );
        let domain = self.company_domain(&company);
        let office_ip = public_ipv4(&mut self.rng);
        let card = format!("fp_corp{:08x}", self.rng.random::<u32>());
        let group = format!("ag{pid}");
        let mut acct = self.base_account(&boss, "agency");
        acct.business = format!("{company} LLC");
        acct.email = format!("info@{domain}");
        acct.ips = vec![office_ip.clone()];
        acct.payments = vec![format!("card:{card}")];
        self.write(&acct, pid, "agency", &group)?;
        let mut sanctioned = false;
        for _ in 0..self.rng.random_range(3..=8u8) {
            let pm = self.new_person_id();
            let mut m = self.person(Some(boss.region));
            m.ip = office_ip.clone();
            m.card = Some(card.clone());
            m.provider = "gmail.com";
            let mut a = self.base_account(&m, "freelancer");
            // Members name their agency in the business field (it is their employer, not an entity of theirs).
            if self.rng.random_bool(0.5) {
                a.business = company.clone();
            }
            let handle = self.free_mailbox(m.handle.clone(), &domain);
            a.email = format!("{handle}@{domain}");
            if !sanctioned {
                sanctioned = self.maybe_sanctioned(&mut a);
            }
            self.write(&a, pm, "agency", &group)?;
        }
        Ok(())
    }

    /// Namesakes: 2-4 strangers with one common name, each with a handle built from it (`steven.harrison@`,
    /// `steven.harrison00@`, `STEVEN.HARRISON@` at different providers).
    fn namesakes(&mut self, pid: u64) -> Result<()> {
        let (f, l, cc) = *COMMON_NAMES.choose(&mut self.rng).unwrap();
        let region = REGIONS.iter().position(|r| r.country == cc).unwrap_or(0);
        let group = format!("ns{pid}");
        for k in 0..self.rng.random_range(2..=4u8) {
            let pm = if k == 0 { pid } else { self.new_person_id() };
            let mut m = self.person(Some(region));
            (m.first, m.last) = (f.to_string(), l.to_string());
            let base = format!("{}.{}", f.to_lowercase(), l.to_lowercase());
            let h = match self.rng.random_range(0..4u8) {
                0 => base.clone(),
                1 => base.replace('.', "_"),
                2 => format!("{base}{:02}", self.rng.random_range(0..100u8)),
                _ => base.to_uppercase(),
            };
            m.handle = self.free_mailbox(h, m.provider);
            let t = if self.rng.random_bool(0.7) {
                "freelancer"
            } else {
                "client"
            };
            let a = self.base_account(&m, t);
            self.write(&a, pm, "namesake", &group)?;
        }
        Ok(())
    }
}

fn radix36(mut n: u64) -> String {
    let mut s = Vec::new();
    loop {
        s.push(char::from_digit((n % 36) as u32, 36).unwrap_or('0'));
        n /= 36;
        if n == 0 {
            break;
        }
    }
    s.iter().rev().collect()
}

/// The same number as typed another way.
fn rewrite_phone(e164: &str, rng: &mut ChaCha8Rng) -> String {
    let digits: String = e164.chars().filter(char::is_ascii_digit).collect();
    match rng.random_range(0..3u8) {
        0 => format!("+{digits}"),
        1 => format!("00{digits}"),
        _ => {
            let mut s = format!("+{}", &digits[..digits.len().min(2)]);
            for (i, c) in digits.chars().enumerate().skip(2) {
                if i % 3 == 2 {
                    s.push('-');
                }
                s.push(c);
            }
            s
        }
    }
}

/// An IBAN with a correct mod-97 check for a country and BBAN of digits.
pub fn iban_with_check(country: &str, bban: &str) -> String {
    let mut rearranged = String::new();
    rearranged.push_str(bban);
    for c in country.chars() {
        rearranged.push_str(&((c as u32 - 'A' as u32 + 10).to_string()));
    }
    rearranged.push_str("00");
    let mut rem: u64 = 0;
    for c in rearranged.chars() {
        // Letters in a BBAN count as two digits (A = 10 … Z = 35).
        let v = c.to_digit(36).unwrap_or(0) as u64;
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    format!("{country}{:02}{bban}", 98 - rem)
}

/// Writes `accounts.csv`, `reviews.csv` and `truth.csv` into `out`.
pub fn generate(cfg: &SynthConfig, out: &Path) -> Result<SynthStats> {
    std::fs::create_dir_all(out).map_err(|e| Error::write(out, e))?;
    let open = |name: &str| -> Result<BufWriter<File>> {
        let p = out.join(name);
        Ok(BufWriter::with_capacity(
            1 << 20,
            File::create(&p).map_err(|e| Error::write(&p, e))?,
        ))
    };
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    // Coworking spaces: about one per 2,500 accounts, each used by ~100 accounts of the coworking scenario.
    let spaces = (cfg.accounts / 2_500).max(1) as usize;
    let coworking = (0..spaces).map(|_| (public_ipv4(&mut rng), 0)).collect();
    // Carrier NAT: a handful of addresses per region, shared by thousands.
    let nat = REGIONS
        .iter()
        .map(|_| (0..8).map(|_| public_ipv4(&mut rng)).collect())
        .collect();
    let (dense_ranges, office_devices) = match cfg.profile.dense {
        Some(d) => dense_networks(&mut rng, &d, cfg.accounts),
        None => (vec![], vec![]),
    };
    let mut g = Gen {
        rng,
        next_account: 0,
        next_person: 0,
        accounts: open("accounts.csv")?,
        truth: open("truth.csv")?,
        reviews: open("reviews.csv")?,
        stats: SynthStats::default(),
        recent_freelancers: vec![],
        recent_clients: vec![],
        coworking,
        nat,
        dense_ranges,
        office_devices,
        profile: cfg.profile.clone(),
        mailboxes: std::collections::HashSet::new(),
        bidders: vec![],
        self_bidders: vec![],
    };
    let io = |p: &str| {
        let p = out.join(p);
        move |e| Error::write(&p, e)
    };
    writeln!(g.accounts, "{}", crate::record::COLUMNS.join(",")).map_err(io("accounts.csv"))?;
    writeln!(g.truth, "account_id,person_id,scenario,group_id").map_err(io("truth.csv"))?;
    writeln!(g.reviews, "reviewer_id,reviewee_id,rating,created_at").map_err(io("reviews.csv"))?;
    while g.stats.accounts < cfg.accounts {
        g.unit()?;
    }
    let profile = serde_json::json!({
        "profile": cfg.profile.name,
        "seed": cfg.seed,
        "rates": cfg.profile.values().into_iter().collect::<std::collections::BTreeMap<_, _>>(),
        "dense": cfg.profile.dense,
    });
    std::fs::write(
        out.join("profile.json"),
        serde_json::to_string_pretty(&profile).unwrap_or_default() + "\n",
    )
    .map_err(io("profile.json"))?;
    g.accounts.flush().map_err(io("accounts.csv"))?;
    g.truth.flush().map_err(io("truth.csv"))?;
    g.reviews.flush().map_err(io("reviews.csv"))?;
    let rate = g.profile.get(R::BidsPerFreelancer);
    g.stats.bids = bids::write(
        &out.join("bids.csv"),
        cfg.seed,
        rate,
        &g.bidders,
        &g.self_bidders,
    )?;
    Ok(g.stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibans_pass_the_checksum() {
        for (cc, bban) in [
            ("DE", "370400440532013000"),
            ("FR", "20041010050500013M02606"),
            ("ES", "21000418450200051332"),
        ] {
            let s = iban_with_check(cc, bban);
            assert!(s.parse::<iban::Iban>().is_ok(), "{s}");
        }
        assert_eq!(
            iban_with_check("DE", "370400440532013000"),
            "DE89370400440532013000"
        );
    }

    /// The dense profile shares networks and devices far more than the default.
    #[test]
    fn the_dense_profile_adds_networks_and_office_devices() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a"), d.path().join("b"));
        generate(&SynthConfig::new(3000, 7), &a).unwrap();
        let dense = SynthConfig {
            profile: Profile::dense(),
            ..SynthConfig::new(3000, 7)
        };
        generate(&dense, &b).unwrap();
        let cells = |dir: &Path, col: usize| -> Vec<String> {
            let mut r = csv::Reader::from_path(dir.join("accounts.csv")).unwrap();
            r.records().map(|x| x.unwrap()[col].to_string()).collect()
        };
        let per_account = |v: &[String]| {
            v.iter()
                .map(|c| c.split('|').filter(|x| !x.is_empty()).count())
                .sum::<usize>() as f64
                / v.len() as f64
        };
        let (ips_a, ips_b) = (cells(&a, 13), cells(&b, 13));
        assert!(
            per_account(&ips_b) > per_account(&ips_a) + 3.0,
            "extra networks"
        );
        let mut devices: std::collections::HashMap<String, usize> = Default::default();
        for c in cells(&b, 12) {
            for x in c.split('|') {
                *devices.entry(x.to_string()).or_default() += 1;
            }
        }
        assert!(
            devices.values().any(|&n| n >= 20),
            "office devices shared by dozens"
        );
    }

    #[test]
    fn same_seed_same_files_other_seed_other_files() {
        let d = tempfile::tempdir().unwrap();
        let (a, b, c) = (d.path().join("a"), d.path().join("b"), d.path().join("c"));
        let s1 = generate(&SynthConfig::new(3000, 7), &a).unwrap();
        let s2 = generate(&SynthConfig::new(3000, 7), &b).unwrap();
        generate(&SynthConfig::new(3000, 8), &c).unwrap();
        assert_eq!(s1, s2);
        assert!(s1.accounts >= 3000 && s1.accounts < 3020);
        for f in ["accounts.csv", "truth.csv", "reviews.csv"] {
            assert_eq!(
                std::fs::read(a.join(f)).unwrap(),
                std::fs::read(b.join(f)).unwrap(),
                "{f}"
            );
        }
        assert_ne!(
            std::fs::read(a.join("accounts.csv")).unwrap(),
            std::fs::read(c.join("accounts.csv")).unwrap()
        );
        let truth = std::fs::read_to_string(a.join("truth.csv")).unwrap();
        for scenario in [
            "single",
            "duplicate",
            "ban_evasion",
            "permitted",
            "review_ring",
            "household",
            "agency",
        ] {
            assert!(truth.contains(&format!(",{scenario},")), "no {scenario}");
        }
        assert_eq!(truth.lines().count() as u64, s1.accounts + 1);
    }

    #[test]
    fn random_profiles_are_deterministic_per_seed_and_write_every_hard_case() {
        let d = tempfile::tempdir().unwrap();
        let cfg = |seed| SynthConfig {
            accounts: 20_000,
            seed,
            profile: Profile::random(seed),
        };
        let (a, b, c) = (d.path().join("a"), d.path().join("b"), d.path().join("c"));
        generate(&cfg(3), &a).unwrap();
        generate(&cfg(3), &b).unwrap();
        generate(&cfg(4), &c).unwrap();
        for f in ["accounts.csv", "truth.csv", "reviews.csv", "profile.json"] {
            assert_eq!(
                std::fs::read(a.join(f)).unwrap(),
                std::fs::read(b.join(f)).unwrap(),
                "{f}"
            );
        }
        assert_ne!(
            std::fs::read(a.join("profile.json")).unwrap(),
            std::fs::read(c.join("profile.json")).unwrap()
        );
        let truth = std::fs::read_to_string(a.join("truth.csv")).unwrap();
        for scenario in [
            "namesake",
            "household_namesake",
            "ban_evasion_paypal",
            "ban_evasion_married",
            "ban_evasion_one_signal",
            "review_ring_weak",
        ] {
            assert!(truth.contains(&format!(",{scenario},")), "no {scenario}");
        }
        // A provider never gives one mailbox to two people.
        let people: std::collections::HashMap<String, String> = truth
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[0].to_string(), f[1].to_string())
            })
            .collect();
        let mut owner: std::collections::HashMap<String, String> = Default::default();
        let accounts = std::fs::read_to_string(a.join("accounts.csv")).unwrap();
        for l in accounts.lines().skip(1) {
            let f: Vec<&str> = l.split(',').collect();
            let email = f[6].to_lowercase();
            if email.is_empty() || email.contains("test@") || !email.contains('@') {
                continue;
            }
            let p = &people[f[0]];
            let o = owner.entry(email.clone()).or_insert_with(|| p.clone());
            let placeholder = ["none@none.com", "a@a.com"].contains(&email.as_str());
            assert!(o == p || placeholder, "{email} given to {o} and {p}");
        }
    }
}

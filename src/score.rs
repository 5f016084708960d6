//! Scoring: compares a pair of accounts signal by signal into comparison levels (`Comparer`), and weighs the
//! levels with the match model (`Scorer`): a pair's match weight is the model's prior plus the sum of its
//! levels' weights, log2(m/u) (Fellegi–Sunter). Levels on a shared value carry the value's frequency, which
//! the model turns into a frequency class. Pairs where one account has a reason to hide who it is (a
//! sanctioned account and a newer one: ban evasion; one reviewed the other: sock puppet) are also scored
//! under the concealment profile, where differences in what a hider changes at will (`scoring.concealable`)
//! weigh nothing while the rest still counts; the pair keeps the higher of the two. Scoring runs in parallel
//! and does not depend on the thread count.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::config::Config;
use crate::model::{self, Context, Key, Model};
use crate::record::{Accounts, Signal};

/// The outcome of comparing one signal of a pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Level {
    Missing,
    /// Same value; `freq` accounts hold it.
    Exact {
        freq: u32,
    },
    /// Names equal after folding nicknames and dropping initials; `freq`: accounts holding the more common
    /// of the two names (a near-match to a common name is as weak as the common name).
    Formal {
        freq: u32,
    },
    FuzzyHigh {
        jw: f32,
        freq: u32,
    },
    FuzzyMid {
        jw: f32,
        freq: u32,
    },
    /// Names share one part and differ clearly in the rest (households, common first names).
    Partial,
    /// One character off (id documents, birth dates): a typo.
    Near,
    /// Birth years at most one apart, and not a typo of each other.
    YearClose,
    /// Same email handle at another domain; `from_names`: the handle is made of each account's own name.
    Handle {
        freq: u32,
        from_names: bool,
    },
    /// Same IP prefix, no shared address.
    Prefix {
        freq: u32,
    },
    /// Both accounts bid on `jobs` jobs within minutes of each other.
    CoBid {
        jobs: u32,
    },
    Different,
}

/// The compared signals, in the order evidence is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    IdDocument,
    Email,
    Phone,
    Payment,
    Device,
    Name,
    DateOfBirth,
    Ip,
    /// Postal addresses: household-level evidence, like a network.
    Address,
    /// The normalized business names of two entity accounts.
    Business,
    Review,
    /// Jobs both accounts bid on within minutes of each other (with a bids file).
    Bids,
}

impl Field {
    pub const ALL: [Field; 12] = [
        Field::IdDocument,
        Field::Email,
        Field::Phone,
        Field::Payment,
        Field::Device,
        Field::Name,
        Field::DateOfBirth,
        Field::Ip,
        Field::Address,
        Field::Business,
        Field::Review,
        Field::Bids,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Field::IdDocument => "id_document",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Payment => "payment",
            Field::Device => "device",
            Field::Name => "name",
            Field::DateOfBirth => "date_of_birth",
            Field::Ip => "ip",
            Field::Address => "address",
            Field::Business => "business_name",
            Field::Review => "review",
            Field::Bids => "bids",
        }
    }
}

/// The levels of every signal of one compared pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    pub id_document: Level,
    pub email: Level,
    pub phone: Level,
    pub payment: Level,
    pub device: Level,
    pub name: Level,
    pub date_of_birth: Level,
    pub ip: Level,
    pub address: Level,
    pub business: Level,
    pub review: Level,
    pub bids: Level,
}

impl Comparison {
    pub fn get(&self, f: Field) -> Level {
        match f {
            Field::IdDocument => self.id_document,
            Field::Email => self.email,
            Field::Phone => self.phone,
            Field::Payment => self.payment,
            Field::Device => self.device,
            Field::Name => self.name,
            Field::DateOfBirth => self.date_of_birth,
            Field::Ip => self.ip,
            Field::Address => self.address,
            Field::Business => self.business,
            Field::Review => self.review,
            Field::Bids => self.bids,
        }
    }
}

/// Which model a pair was scored under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Duplicate,
    /// A reviewer and the account it reviewed (a possible sock puppet): the match model, with differences
    /// in `scoring.concealable` signals weighing nothing.
    Concealment,
    /// A sanctioned account and a newer one: the estimated concealment model (`conceal`), or the
    /// `Concealment` rule when the export gave none. Reported as `concealment` too.
    Evasion,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Duplicate => "duplicate",
            Profile::Concealment | Profile::Evasion => "concealment",
        }
    }

    pub fn hides(self) -> bool {
        self != Profile::Duplicate
    }
}

/// One line of an explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub field: Field,
    pub level: Level,
    pub context: Context,
    pub weight: f64,
}

impl Item {
    /// `email=shared(2 accounts) +10.8`, written at the end of `out`.
    pub fn write_evidence(&self, out: &mut String) {
        out.push_str(self.field.as_str());
        out.push('=');
        write_field_level_text(out, self.field, self.level, self.context);
        out.push(' ');
        push_tenths(out, self.weight);
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub profile: Profile,
    pub prior: f64,
    pub items: Vec<Item>,
    /// Under the concealment model, the changes counted once (`conceal::CHANGED_TOGETHER`): what the
    /// differences other than the largest would have taken off, added back (≥ 0).
    pub changes_once: f64,
    /// The household term (see `conceal`): what "two people of one home" takes off; 0 when it does not
    /// apply. `weight` = `prior` + the items' weights + `changes_once` + `household`.
    pub household: f64,
    pub weight: f64,
}

pub fn probability(weight: f64) -> f64 {
    let odds = weight.exp2();
    if odds.is_infinite() {
        1.0
    } else {
        odds / (1.0 + odds)
    }
}

/// Pairs of accounts with a review between them (either way), by account index, for the `review` field. It is
/// looked up for every compared pair: first in a bit per account (whether it has any review: a table of a few
/// hundred kilobytes that stays in cache, and most accounts have none), then, where both have one, by one
/// probe of a 64-bit key (the pair, smaller index first) under a multiply-fold hash.
#[derive(Debug, Clone, Default)]
pub struct Reviews {
    pairs: HashSet<u64, std::hash::BuildHasherDefault<PairHasher>>,
    /// Account `i` is in some pair.
    reviewed: crate::record::Bits,
}

impl Reviews {
    fn key(a: u32, b: u32) -> u64 {
        (u64::from(a.min(b)) << 32) | u64::from(a.max(b))
    }
    /// The set of these pairs (each `(smaller, larger)` or either way round).
    pub fn of(pairs: &[(u32, u32)]) -> Reviews {
        let mut set = HashSet::with_capacity_and_hasher(pairs.len(), Default::default());
        set.extend(pairs.iter().map(|&(a, b)| Self::key(a, b)));
        let top = pairs
            .iter()
            .map(|&(a, b)| a.max(b) as usize + 1)
            .max()
            .unwrap_or(0);
        let ends = pairs.iter().flat_map(|&(a, b)| [a as usize, b as usize]);
        Reviews {
            pairs: set,
            reviewed: crate::record::Bits::with_set(top, ends),
        }
    }
    /// Whether one of `a` and `b` reviewed the other.
    pub fn contains(&self, a: u32, b: u32) -> bool {
        self.reviewed.get(a as usize)
            && self.reviewed.get(b as usize)
            && self.pairs.contains(&Self::key(a, b))
    }
}

/// Hashes one `u64` (a packed pair of indices) by a 128-bit multiply folded to 64 bits: both halves of the
/// key reach every bit of the hash, which the table's bucket (low bits) and tag (high bits) both need.
#[derive(Debug, Clone, Copy, Default)]
pub struct PairHasher(u64);

impl std::hash::Hasher for PairHasher {
    fn finish(&self) -> u64 {
        let m = u128::from(self.0) * 0x9E37_79B9_7F4A_7C15_u128;
        (m as u64) ^ ((m >> 64) as u64)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The optional side files a run was given: behaviour between accounts rather than account attributes.
#[derive(Debug, Clone, Copy, Default)]
pub struct SideFiles<'a> {
    pub reviews: Option<&'a Reviews>,
    pub bids: Option<&'a crate::bids::BidIndex>,
}

/// Compares pairs of one set of accounts into comparison levels (no weights: see `Scorer`).
pub struct Comparer<'a> {
    acc: &'a Accounts,
    cfg: &'a Config,
    reviews: Option<&'a Reviews>,
    bids: Option<&'a crate::bids::BidIndex>,
}

/// The frequency of the rarest value two accounts share (their lists are sorted: `Signals::push_account`).
fn shared(m: crate::record::Multi, a: usize, b: usize) -> Option<u32> {
    rarest_shared(m.get(a), m.freqs(a), m.get(b))
}

/// Lists of at most this many values each are intersected by comparing every value with every other
/// (`rarest_shared`): an account's addresses and ranges, devices, cards — nearly every list.
const ALL_PAIRS_MAX: usize = 8;

/// The least of `fa` (the frequencies of `va`'s values) over the values `va` and `vb` (sorted, distinct)
/// have in common; `None` when they have none.
fn rarest_shared(va: &[u64], fa: &[u32], vb: &[u64]) -> Option<u32> {
    if va.len() <= ALL_PAIRS_MAX && vb.len() <= ALL_PAIRS_MAX {
        // Every value against every other: no comparison waits for the one before it (a merge walk's next
        // step depends on which side the last one advanced), and a match picks its frequency without a branch.
        let (mut any, mut best) = (false, u32::MAX);
        for (&x, &f) in va.iter().zip(fa) {
            let hit = vb.iter().fold(false, |h, &y| h | (x == y));
            any |= hit;
            best = best.min(if hit { f } else { u32::MAX });
        }
        return any.then_some(best);
    }
    merge_rarest_shared(va, fa, vb)
}

/// `rarest_shared` by one merge walk of the two sorted lists, for longer ones.
fn merge_rarest_shared(va: &[u64], fa: &[u32], vb: &[u64]) -> Option<u32> {
    let mut best: Option<u32> = None;
    // Each step advances the smaller side (both when equal) by arithmetic, not by a three-way branch: which
    // side is smaller is a coin toss the processor would mispredict half the time; a shared value is rare and
    // predicted well.
    let (mut i, mut j) = (0, 0);
    while i < va.len() && j < vb.len() {
        let (x, y) = (va[i], vb[j]);
        if x == y {
            best = Some(best.map_or(fa[i], |bf| bf.min(fa[i])));
        }
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    best
}

use crate::normalize::similarity::Letters;

fn jw(a: &str, b: &str) -> f64 {
    crate::normalize::similarity::jaro_winkler(a, b)
}

/// The Jaro–Winkler thresholds of the name levels (`scoring.name_jw_high`, `scoring.name_jw_mid`).
#[derive(Clone, Copy)]
struct Thresholds {
    high: f64,
    mid: f64,
}

/// Names have a handful of tokens: the first this many count, and they live on the stack (as many as a name
/// that is a variant of another may have).
const NAME_TOKENS: usize = crate::normalize::name::VARIANT_TOKENS;

/// The fuzzy levels of two names that are neither equal nor variants of each other (`Comparer::name`), from
/// their significant tokens (at most `NAME_TOKENS`: the first ones of a longer name): each token of the shorter
/// name against its best counterpart in the longer one (a dropped middle name costs nothing); with equally long
/// names both directions count, so the result is symmetric. `shortcuts`: settle what the bounds settle without
/// computing similarities (off only for the test that holds the shortcuts to the full computation).
fn fuzzy_tokens_level(
    ta: &[&str],
    tb: &[&str],
    t: Thresholds,
    freq: u32,
    shortcuts: bool,
) -> Level {
    const MAX: usize = NAME_TOKENS;
    if ta.is_empty() || tb.is_empty() {
        return Level::Different;
    }
    let Thresholds { high, mid } = t;
    if shortcuts && let Some(level) = bounded_name_level(ta, tb, t) {
        return level;
    }
    let mut row_best = [0.0f64; MAX];
    let mut col_best = [0.0f64; MAX];
    for (i, x) in ta.iter().enumerate() {
        for (j, y) in tb.iter().enumerate() {
            let s = if x == y { 1.0 } else { jw(x, y) };
            row_best[i] = row_best[i].max(s);
            col_best[j] = col_best[j].max(s);
        }
    }
    let summarize = |best: &[f64]| {
        let min = best.iter().copied().fold(1.0, f64::min);
        (min, best.iter().sum::<f64>() / best.len() as f64)
    };
    let (rows, cols) = (
        summarize(&row_best[..ta.len()]),
        summarize(&col_best[..tb.len()]),
    );
    let (min, mean) = match ta.len().cmp(&tb.len()) {
        std::cmp::Ordering::Less => rows,
        std::cmp::Ordering::Greater => cols,
        std::cmp::Ordering::Equal => (rows.0.min(cols.0), rows.1.min(cols.1)),
    };
    let any_same = row_best[..ta.len()].iter().any(|&s| s >= high);
    if min >= high {
        Level::FuzzyHigh {
            jw: min as f32,
            freq,
        }
    } else if min >= mid && mean >= mid {
        Level::FuzzyMid {
            jw: min as f32,
            freq,
        }
    } else if any_same {
        Level::Partial
    } else {
        Level::Different
    }
}

/// What upper bounds of the tokens' similarities (`Letters::bound`) settle alone, the same level as
/// `fuzzy_tokens_level`'s computation or `None`. Most names compared share nothing (a random sample's, a
/// crowd's): when no pair of tokens can reach the middle similarity, no level but `different` can come out
/// (every other needs one). And strangers that share one name part (a first name beside a birth date) are
/// `partial`: the shared token is a similarity of 1, while a token of the side whose worst counterpart sets the
/// level that no token of the other can bring to the middle similarity rules out both fuzzy levels.
fn bounded_name_level(ta: &[&str], tb: &[&str], t: Thresholds) -> Option<Level> {
    const MAX: usize = NAME_TOKENS;
    // Each token's characters are counted once, not once per token it is held against.
    // Filled in place: built by `std::array::from_fn` and returned, the arrays were once compiled out of
    // line and copied (+8% for the names compared).
    let (mut la, mut lb): ([Option<Letters>; MAX], [Option<Letters>; MAX]) =
        ([None; MAX], [None; MAX]);
    for (slot, s) in la.iter_mut().zip(ta) {
        *slot = Letters::of(s);
    }
    for (slot, s) in lb.iter_mut().zip(tb) {
        *slot = Letters::of(s);
    }
    // Whether tokens i of a and j of b differ and their similarity is surely below `under`.
    let below = |i: usize, j: usize, under: f64| {
        let (x, y) = (ta[i], tb[j]);
        x != y
            && match (&la[i], &lb[j]) {
                (Some(p), Some(q)) => p.bound(x, q, y),
                _ => crate::normalize::similarity::jaro_winkler_bound(x, y),
            } < under
    };
    let (na, nb) = (ta.len(), tb.len());
    let lowest = t.mid.min(t.high);
    if (0..na).all(|i| (0..nb).all(|j| below(i, j, lowest))) {
        return Some(Level::Different);
    }
    let shares_token = ta.iter().any(|x| tb.contains(x));
    if !shares_token {
        return None;
    }
    let row_below = |i: usize| (0..nb).all(|j| below(i, j, t.mid));
    let col_below = |j: usize| (0..na).all(|i| below(i, j, t.mid));
    let min_below = match na.cmp(&nb) {
        std::cmp::Ordering::Less => (0..na).any(row_below),
        std::cmp::Ordering::Greater => (0..nb).any(col_below),
        std::cmp::Ordering::Equal => (0..na).any(row_below) || (0..nb).any(col_below),
    };
    // The shared token's similarity, 1, is at least `high` (the configuration holds mid <= high <= 1).
    min_below.then_some(Level::Partial)
}

impl<'a> Comparer<'a> {
    pub fn new(acc: &'a Accounts, cfg: &'a Config, side: SideFiles<'a>) -> Self {
        Comparer {
            acc,
            cfg,
            reviews: side.reviews,
            bids: side.bids,
        }
    }

    /// The side files this comparer reads.
    pub fn side_files(&self) -> SideFiles<'a> {
        SideFiles {
            reviews: self.reviews,
            bids: self.bids,
        }
    }

    pub fn accounts(&self) -> &'a Accounts {
        self.acc
    }

    pub fn config(&self) -> &'a Config {
        self.cfg
    }

    /// Whether a reviews file was given (the review signal is compared).
    pub fn has_reviews(&self) -> bool {
        self.reviews.is_some()
    }

    fn identifier(&self, s: Signal, a: usize, b: usize) -> Level {
        let m = self.acc.signal(s);
        if m.is_empty_at(a) || m.is_empty_at(b) {
            return Level::Missing;
        }
        match shared(m, a, b) {
            Some(freq) => Level::Exact { freq },
            None => Level::Different,
        }
    }

    fn name(&self, a: usize, b: usize) -> Level {
        let acc = self.acc;
        let (na, nb) = (acc.names.get(a), acc.names.get(b));
        let (sa, sb) = (na.sorted, nb.sorted);
        if sa.is_empty() || sb.is_empty() {
            return Level::Missing;
        }
        let name_freq = |i: usize| {
            acc.signal(Signal::Name)
                .freqs(i)
                .first()
                .copied()
                .unwrap_or(1)
        };
        if sa == sb {
            return Level::Exact {
                freq: name_freq(a).max(2),
            };
        }
        let freq = name_freq(a).max(name_freq(b));
        // The significant tokens, split once for both tests (a name with more than `NAME_TOKENS` is
        // nobody's variant, and its first ones are compared).
        let (mut ta, mut tb) = ([""; NAME_TOKENS], [""; NAME_TOKENS]);
        let split = crate::normalize::name::split_tokens;
        let ((la, more_a), (lb, more_b)) = (split(na.formal, &mut ta), split(nb.formal, &mut tb));
        let (ta, tb) = (&ta[..la], &tb[..lb]);
        let close = self.cfg.scoring.name_jw_mid;
        if !more_a
            && !more_b
            && crate::normalize::name::same_tokens_variant(ta, na.codes, tb, nb.codes, close)
        {
            return Level::Formal { freq };
        }
        let (high, mid) = (self.cfg.scoring.name_jw_high, self.cfg.scoring.name_jw_mid);
        fuzzy_tokens_level(ta, tb, Thresholds { high, mid }, freq, true)
    }

    fn email(&self, a: usize, b: usize) -> Level {
        match self.identifier(Signal::Email, a, b) {
            Level::Different => match shared(self.acc.signal(Signal::EmailHandle), a, b) {
                Some(freq) => Level::Handle {
                    freq,
                    from_names: self.handle_from_both_names(a, b),
                },
                None => Level::Different,
            },
            l => l,
        }
    }

    /// Whether a handle the two accounts share is made of each one's own name (then it repeats the names).
    fn handle_from_both_names(&self, a: usize, b: usize) -> bool {
        self.acc.share_a_name_handle(a, b)
    }

    /// Addresses: the same address, the same building (another unit, or the street spelt otherwise: `Near`),
    /// or different.
    fn address(&self, a: usize, b: usize) -> Level {
        match self.identifier(Signal::Address, a, b) {
            Level::Different
                if shared(self.acc.signal(Signal::AddressBuilding), a, b).is_some() =>
            {
                Level::Near
            }
            l => l,
        }
    }

    /// Phones: the same E.164 number, or the same national number where one account typed it without a
    /// country (`Near`, a weaker level).
    fn phone(&self, a: usize, b: usize) -> Level {
        match self.identifier(Signal::Phone, a, b) {
            Level::Different if shared(self.acc.signal(Signal::PhoneNational), a, b).is_some() => {
                Level::Near
            }
            l => l,
        }
    }

    /// The same address, the same /24 (or /64), or different. An address whose every shared range is a crowd
    /// (held by more than `blocking.max_block_size` accounts: a dynamic ISP pool, a mobile carrier) is a pool
    /// address: two accounts that drew it are neighbours in the pool, not in a home, so it counts as the range.
    fn ip(&self, a: usize, b: usize) -> Level {
        let Some(freq) = shared(self.acc.signal(Signal::IpPrefix), a, b) else {
            // Every address comes with its range (`normalize::ips`): two accounts that share no range share
            // no address, and their address lists need no walk.
            let m = self.acc.signal(Signal::Ip);
            return if m.is_empty_at(a) || m.is_empty_at(b) {
                Level::Missing
            } else {
                Level::Different
            };
        };
        match self.identifier(Signal::Ip, a, b) {
            Level::Exact { .. } if freq as usize > self.cfg.blocking.max_block_size => {
                Level::Prefix { freq }
            }
            Level::Different => Level::Prefix { freq },
            l => l,
        }
    }

    pub(crate) fn dob(&self, a: usize, b: usize) -> Level {
        self.dob_of(a, b, self.acc.facts(a).dob, self.acc.facts(b).dob)
    }

    /// The birth-date level of accounts `a` and `b`, whose birth dates (`Accounts::dob`) are `x` and `y`.
    fn dob_of(&self, a: usize, b: usize, x: u32, y: u32) -> Level {
        if x == 0 || y == 0 {
            Level::Missing
        } else if x == y {
            self.identifier(Signal::DateOfBirth, a, b)
        } else if dob_near(x, y) {
            Level::Near
        } else if (x / 10_000).abs_diff(y / 10_000) <= 1 {
            Level::YearClose
        } else {
            Level::Different
        }
    }

    fn id_document(&self, a: usize, b: usize) -> Level {
        match self.identifier(Signal::IdDocument, a, b) {
            Level::Different => {
                let (x, y) = (self.acc.id_document.get(a), self.acc.id_document.get(b));
                let keyed = 6..=crate::block::MAX_KEYED_DOCUMENT;
                if keyed.contains(&x.len())
                    && keyed.contains(&y.len())
                    && strsim::osa_distance(x, y) <= 1
                {
                    Level::Near
                } else {
                    Level::Different
                }
            }
            l => l,
        }
    }

    /// With a reviews file, a pair either has a review between them or not; without one, the signal is
    /// missing.
    fn review(&self, a: usize, b: usize) -> Level {
        match self.reviews {
            Some(r) if r.contains(a as u32, b as u32) => Level::Exact { freq: 2 },
            Some(_) => Level::Different,
            None => Level::Missing,
        }
    }

    /// Business names, compared between two entity accounts only (an agency member's business name is its
    /// employer's, shared with every colleague: no evidence of one person). A business name that is only the holder's own
    /// name (`John Smith LLC` of John Smith) agrees whenever the names do: it is counted once, under `name`.
    fn business(&self, a: usize, b: usize) -> Level {
        let acc = self.acc;
        if !(acc.facts(a).entity && acc.facts(b).entity) {
            return Level::Missing;
        }
        let (x, y) = (acc.business.get(a), acc.business.get(b));
        let own_name = |i: usize, v: &str| {
            let mut t: Vec<&str> = v.split(' ').collect();
            t.sort_unstable();
            t.join(" ") == acc.names.sorted(i)
        };
        let level = match self.identifier(Signal::Business, a, b) {
            Level::Different => {
                let sim = jw(x, y);
                if sim >= self.cfg.scoring.name_jw_high {
                    let freq = acc
                        .signal(Signal::Business)
                        .freqs(a)
                        .first()
                        .copied()
                        .unwrap_or(1);
                    Level::FuzzyHigh {
                        jw: sim as f32,
                        freq: freq.max(
                            acc.signal(Signal::Business)
                                .freqs(b)
                                .first()
                                .copied()
                                .unwrap_or(1),
                        ),
                    }
                } else {
                    Level::Different
                }
            }
            l => l,
        };
        let (own_a, own_b) = (own_name(a, x), own_name(b, y));
        if (own_a && own_b) || (level != Level::Different && (own_a || own_b)) {
            return Level::Missing;
        }
        level
    }

    /// With a bids file: how many jobs both accounts bid on within the window (`bids.window_minutes`);
    /// missing when either account never bid.
    fn bids(&self, a: usize, b: usize) -> Level {
        let Some(idx) = self.bids else {
            return Level::Missing;
        };
        if idx.of(a).is_empty() || idx.of(b).is_empty() {
            return Level::Missing;
        }
        let window = i64::from(self.cfg.bids.window_minutes) * 60;
        match idx.co_bids(a, b, window).within_window {
            0 => Level::Different,
            jobs => Level::CoBid { jobs },
        }
    }

    /// The level of one signal of a pair.
    pub fn level(&self, f: Field, a: usize, b: usize) -> Level {
        match f {
            Field::IdDocument => self.id_document(a, b),
            Field::Email => self.email(a, b),
            Field::Phone => self.phone(a, b),
            Field::Payment => self.identifier(Signal::Payment, a, b),
            Field::Device => self.identifier(Signal::Device, a, b),
            Field::Name => self.name(a, b),
            Field::DateOfBirth => self.dob(a, b),
            Field::Ip => self.ip(a, b),
            Field::Address => self.address(a, b),
            Field::Business => self.business(a, b),
            Field::Review => self.review(a, b),
            Field::Bids => self.bids(a, b),
        }
    }

    /// Compares every signal of a pair.
    pub fn compare(&self, a: usize, b: usize) -> Comparison {
        let l = |f: Field| self.level(f, a, b);
        Comparison {
            id_document: l(Field::IdDocument),
            email: l(Field::Email),
            phone: l(Field::Phone),
            payment: l(Field::Payment),
            device: l(Field::Device),
            name: l(Field::Name),
            date_of_birth: l(Field::DateOfBirth),
            ip: l(Field::Ip),
            address: l(Field::Address),
            business: l(Field::Business),
            review: l(Field::Review),
            bids: l(Field::Bids),
        }
    }

    /// The levels the census counts (`CENSUS_FIELDS`) and those their contexts turn on (`model::context_of`:
    /// the name, and the card, device, network and address that co-locate two accounts), each as `level` gives
    /// it, with the email and name as already compared (`email`, `name`). The signals neither reads (id
    /// document, phone, birth date, review, bids) are not compared: `Missing`. What the census compares of a
    /// deferred crowded pair that shares a crowd value of a co-locating signal.
    pub fn census_comparison(&self, a: usize, b: usize, email: Level, name: Level) -> Comparison {
        let l = |f: Field| self.level(f, a, b);
        Comparison {
            id_document: Level::Missing,
            email,
            phone: Level::Missing,
            payment: l(Field::Payment),
            device: l(Field::Device),
            name,
            date_of_birth: Level::Missing,
            ip: l(Field::Ip),
            address: l(Field::Address),
            business: l(Field::Business),
            review: Level::Missing,
            bids: Level::Missing,
        }
    }

    /// Whether the pair is scored under the concealment profile too: exactly one account is sanctioned and
    /// the other is not older (possible ban evasion), or one account reviewed the other (possible sock
    /// puppet). In both cases the other account has a reason to look like someone else.
    pub fn concealment_applies(&self, a: usize, b: usize) -> bool {
        if matches!(self.review(a, b), Level::Exact { .. }) {
            return true;
        }
        self.evasion_direction(a, b).is_some()
    }

    /// Pairs that can be ban evasion, candidates or not: every sanctioned account with every account that is
    /// not sanctioned and not older (`evasion_direction`).
    pub fn evasion_pairs(&self) -> f64 {
        let acc = self.acc;
        let mut others: Vec<i64> = (0..acc.len())
            .into_par_iter()
            .filter(|&i| !acc.status[i].is_sanctioned())
            .map(|i| acc.created[i])
            .collect();
        others.par_sort_unstable();
        let unknown = others.partition_point(|&t| t == i64::MIN);
        // Counted in integers (exact, whatever the order of the sum), as a float for the model.
        let pairs: u64 = (0..acc.len())
            .into_par_iter()
            .filter(|&i| acc.status[i].is_sanctioned())
            .map(|i| {
                let t = acc.created[i];
                (if t == i64::MIN {
                    others.len()
                } else {
                    unknown + (others.len() - others.partition_point(|&x| x < t))
                }) as u64
            })
            .sum();
        pairs as f64
    }

    /// For a possible ban evasion, `(sanctioned, newer)`.
    pub fn evasion_direction(&self, a: usize, b: usize) -> Option<(usize, usize)> {
        self.acc.evasion_direction(a, b)
    }
}

/// Model slots of a compared pair's signals (`None`: missing), in `Field::ALL` order.
/// Number of compared fields.
pub const FIELDS: usize = Field::ALL.len();

pub type Slots = [Option<u16>; FIELDS];

/// Weighs compared pairs with a match model.
pub struct Scorer<'a> {
    cmp: Comparer<'a>,
    model: &'a Model,
    /// Per slot: its weight counts for nothing under the concealment profile (`model::concealable`).
    concealable: Vec<bool>,
    /// The comparisons of the pairs scored, kept once scoring is done (`keep_comparisons`): the evidence of
    /// a pair (policy, review files) reads them instead of comparing the pair again.
    kept: std::sync::OnceLock<KeptComparisons>,
}

/// Comparisons of scored pairs, found by the pair (smaller index first, packed like a candidate).
#[derive(Debug, Default)]
struct KeptComparisons {
    keys: Vec<u64>,
    levels: Vec<Comparison>,
}

impl KeptComparisons {
    fn key(a: usize, b: usize) -> u64 {
        crate::block::pack(a.min(b) as u32, a.max(b) as u32)
    }
    fn get(&self, a: usize, b: usize) -> Option<&Comparison> {
        let k = self.keys.binary_search(&Self::key(a, b)).ok()?;
        Some(&self.levels[k])
    }
}

impl<'a> std::ops::Deref for Scorer<'a> {
    type Target = Comparer<'a>;
    fn deref(&self) -> &Comparer<'a> {
        &self.cmp
    }
}

impl Scorer<'_> {
    /// A slot's weight under a profile: the estimated concealment model's evader weight for a pair that can
    /// be evasion; else, under concealment, the documented rule (differences in what a hider changes at will
    /// — name, email, phone by default — weigh nothing).
    fn slot_weight(&self, slot: usize, profile: Profile) -> f64 {
        match (profile, &self.model.concealment) {
            (Profile::Evasion, Some(c)) => c.weight(slot),
            (Profile::Concealment | Profile::Evasion, _) => {
                let field = Field::ALL[slot / (model::CONTEXTS * model::KEYS)];
                model::concealed_weight(self.model.weight(slot), field, self.concealable[slot])
            }
            _ => self.model.weight(slot),
        }
    }

    /// Where a pair's weight starts under a profile: the match prior, or the evader class's among the pairs
    /// that can hide.
    pub fn profile_prior(&self, profile: Profile) -> f64 {
        match (profile, &self.model.concealment) {
            (Profile::Evasion, Some(c)) => c.evader_prior_bits,
            _ => self.model.prior_bits,
        }
    }

    /// The household term of a pair under a profile (see `conceal`): ≤ 0, and 0 but for a co-located pair
    /// of an estimated model (reviewed pairs under the concealment profile keep the documented rule only).
    pub fn household_bits(&self, slots: &Slots, profile: Profile) -> f64 {
        match (profile, &self.model.concealment, &self.model.households) {
            (Profile::Evasion, Some(c), _) => c.household_bits(slots),
            (Profile::Duplicate, _, Some(h)) => h.bits(slots),
            _ => 0.0,
        }
    }

    fn level_weight(&self, f: Field, ctx: Context, level: Level, profile: Profile) -> f64 {
        match model::key_of(level) {
            Some(k) => self.slot_weight(model::slot(f, ctx, k), profile),
            None => 0.0,
        }
    }

    /// The signals whose differences the concealment profile ignored for this pair, as reviewers read them.
    /// With an estimated concealment model: the differences that weigh at least a bit less than they would
    /// between one person's accounts that do not hide.
    pub fn concealed_signals(&self, ex: &Explanation) -> Vec<&'static str> {
        if !ex.profile.hides() {
            return vec![];
        }
        let estimated = ex.profile == Profile::Evasion && self.model.concealment.is_some();
        ex.items
            .iter()
            .filter(|i| {
                model::key_of(i.level).is_some_and(|k| {
                    let s = model::slot(i.field, i.context, k);
                    if estimated {
                        let difference = matches!(k, Key::Different | Key::Partial | Key::FuzzyMid);
                        return difference && i.weight >= self.model.weight(s) + 1.0;
                    }
                    model::neutral_under_concealment(i.field)
                        || (self.concealable[s] && self.model.weight(s) < 0.0)
                })
            })
            .map(|i| i.field.as_str())
            .collect()
    }
}

impl<'a> Scorer<'a> {
    pub fn new(acc: &'a Accounts, cfg: &'a Config, side: SideFiles<'a>, model: &'a Model) -> Self {
        Scorer {
            cmp: Comparer::new(acc, cfg, side),
            model,
            concealable: model::concealable_slots(cfg),
            kept: std::sync::OnceLock::new(),
        }
    }

    pub fn model(&self) -> &'a Model {
        self.model
    }

    /// The prior log-odds (bits) every pair weight starts from.
    pub fn prior_bits(&self) -> f64 {
        self.model.prior_bits
    }

    /// The weight of a pair given its slots: the prior plus every signal's weight, in `Field::ALL` order (the
    /// one summation used everywhere, so that a pattern's weight and a pair's explanation agree exactly).
    pub fn total(&self, slots: &Slots, profile: Profile) -> f64 {
        if let (Profile::Evasion, Some(c)) = (profile, &self.model.concealment) {
            return c.evader_bits(slots).0 + c.household_bits(slots);
        }
        let mut w = self.profile_prior(profile);
        for s in slots.iter().flatten() {
            w += self.slot_weight(*s as usize, profile);
        }
        w + self.household_bits(slots, profile)
    }

    /// The pair's match weight and the profile that gave it, from its slots.
    pub fn score_slots(&self, a: usize, b: usize, slots: &Slots) -> (f64, Profile) {
        let dup = self.total(slots, Profile::Duplicate);
        let hiding = if matches!(self.review(a, b), Level::Exact { .. }) {
            Profile::Concealment
        } else if self.evasion_direction(a, b).is_some() {
            Profile::Evasion
        } else {
            return (dup, Profile::Duplicate);
        };
        let ev = self.total(slots, hiding);
        if ev > dup {
            return (ev, hiding);
        }
        (dup, Profile::Duplicate)
    }

    /// The pair's match weight and the profile that gave it.
    pub fn score(&self, a: usize, b: usize) -> (f64, Profile) {
        self.score_slots(a, b, &model::slots(&self.compare(a, b)))
    }

    /// `score`, from the pair's kept comparison when `keep_comparisons` kept one.
    pub fn score_kept(&self, a: usize, b: usize) -> (f64, Profile) {
        self.score_slots(a, b, &model::slots(&self.kept_or_compared(a, b)))
    }

    /// The pair's kept comparison (`keep_comparisons`), or the pair compared now.
    fn kept_or_compared(&self, a: usize, b: usize) -> Comparison {
        match self.kept.get().and_then(|k| k.get(a, b)) {
            Some(c) => *c,
            None => self.compare(a, b),
        }
    }

    pub fn weight(&self, a: usize, b: usize) -> f64 {
        self.score(a, b).0
    }

    /// Keeps the comparisons of the scored pairs (compared once more here, in parallel; each pair compared
    /// before was reduced to its model slots): every explanation of one of them reads its comparison after
    /// this. Only the first call keeps anything.
    pub fn keep_comparisons(&self, scored: &[Scored]) {
        let mut kept: Vec<(u64, Comparison)> = scored
            .par_iter()
            .map(|s| {
                let (a, b) = (s.a.min(s.b) as usize, s.a.max(s.b) as usize);
                (KeptComparisons::key(a, b), self.compare(a, b))
            })
            .collect();
        kept.par_sort_unstable_by_key(|&(k, _)| k);
        kept.dedup_by_key(|&mut (k, _)| k);
        let (keys, levels) = kept.into_iter().unzip();
        let _ = self.kept.set(KeptComparisons { keys, levels });
    }

    /// Field-by-field weights of a pair, as shown in evidence and by `explain`.
    pub fn explain(&self, a: usize, b: usize) -> Explanation {
        let c = self.kept_or_compared(a, b);
        let slots = model::slots(&c);
        let (weight, profile) = self.score_slots(a, b, &slots);
        let items = Field::ALL
            .iter()
            .map(|&f| {
                let ctx = model::context_of(f, &c);
                let level = c.get(f);
                Item {
                    field: f,
                    level,
                    context: ctx,
                    weight: self.level_weight(f, ctx, level, profile),
                }
            })
            .collect();
        let changes_once = match (profile, &self.model.concealment) {
            (Profile::Evasion, Some(cm)) => cm.evader_bits(&slots).1,
            _ => 0.0,
        };
        Explanation {
            profile,
            prior: self.profile_prior(profile),
            items,
            changes_once,
            household: self.household_bits(&slots, profile),
            weight,
        }
    }
}

/// A signal of a deferred pair, as far as it was compared: its level's key (`None`: missing on either
/// account), or not compared yet. Packed in a byte for the census's cache (`census`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Seen {
    NotCompared,
    At(Option<Key>),
}

/// The bits of a packed `Seen`: every key's index and the two other states fit in six.
const SEEN_MASK: u8 = 0x3f;
const _: () = assert!(model::KEYS + 2 <= SEEN_MASK as usize + 1);

impl Seen {
    fn of(level: Level) -> Self {
        Seen::At(model::key_of(level))
    }
    fn pack(self) -> u8 {
        match self {
            Seen::NotCompared => 0,
            Seen::At(None) => 1,
            Seen::At(Some(k)) => 2 + k.index() as u8,
        }
    }
    fn unpack(b: u8) -> Self {
        match b {
            0 => Seen::NotCompared,
            1 => Seen::At(None),
            k => Seen::At(Some(Key::from_index(k as usize - 2))),
        }
    }
}

/// The best weight a deferred pair can reach (see `block::Deferred`): a pair of a common-name block or one
/// that only crowded blocks of weak keys found. Not a candidate, so it shares no value that a candidate
/// block keys on — only values held by more accounts than that (`block::crowd_floor`: the `crowd` bits),
/// which the bound credits with their best weight. The name, the birth date and (when given) the email are
/// exact; every other signal counts at its best level among those left. An upper bound of the pair's weight
/// under every profile it is scored under.
pub struct DeferredBound {
    /// Per profile (duplicate, concealment, evasion), signal and context: the signal's best level (never
    /// below 0) when the pair shares none of its values.
    plain: [[[f64; model::CONTEXTS]; FIELDS]; 3],
    /// The same when both accounts hold crowd values of the signal: how much more it can add.
    crowd_extra: [[[f64; model::CONTEXTS]; FIELDS]; 3],
    /// Per signal: the crowd bits (`1 << Signal`) that count for it.
    crowd_bits: [u16; FIELDS],
    /// Per profile and context: the best any IP level weighs (never below 0), for a pair that shares a
    /// network value held by few accounts.
    network_best: [[f64; model::CONTEXTS]; 3],
    /// Whether a crowd value of a signal that places two accounts together can co-locate them (it is held by
    /// at most `COLOCATED_MAX`).
    crowd_colocates: bool,
    /// Per profile and name context (plain, given): the best a name not compared can weigh, when two
    /// accounts are not a candidate pair (equal names of at most `NAME_EXPAND_MAX` accounts make one).
    name_best: [[f64; 2]; 3],
    /// Per profile: the sum of the plain bounds of every signal but name, birth date and email — the
    /// bound of those signals for a pair that shares no crowd value (most pairs).
    others_plain: [f64; 3],
    /// What the bound reads of each account (a signal of `PRESENCE` either account lacks is missing,
    /// weighing nothing).
    accounts: Vec<BoundAccount>,
}

/// The signals whose presence on both accounts decides whether a field of `others` is compared.
const PRESENCE: [(Field, Signal); 7] = [
    (Field::IdDocument, Signal::IdDocument),
    (Field::Phone, Signal::Phone),
    (Field::Payment, Signal::Payment),
    (Field::Device, Signal::Device),
    (Field::Ip, Signal::Ip),
    (Field::Address, Signal::Address),
    (Field::Business, Signal::Business),
];

const PROFILES: [Profile; 3] = [Profile::Duplicate, Profile::Concealment, Profile::Evasion];
const CONTEXTS: [Context; model::CONTEXTS] = [Context::Plain, Context::Given, Context::Related];

/// The levels a signal can reach through crowd values only: exact (or near, through a secondary signal) at
/// every frequency class above the signal's crowd floor.
fn crowd_levels(f: Field, cap: usize) -> Vec<(Signal, Level)> {
    let mk = |s: Signal, l: fn(u32) -> Level| {
        let floor = crate::block::crowd_floor(s, cap);
        (0..model::BUCKETS as u8)
            .map(model::bucket_lower)
            .filter(move |&lo| model::BUCKET_UPPER[model::bucket(lo) as usize] as usize > floor)
            .map(move |k| (s, l(k)))
    };
    let exact = |k| Level::Exact { freq: k };
    match f {
        // A document one keying error away is a near level: two accounts reach it without a candidate block
        // when their one-deletion key is over the cap (`block` gives them the document's crowd bit).
        Field::IdDocument => mk(Signal::IdDocument, exact)
            .chain(std::iter::once((Signal::IdDocument, Level::Near)))
            .collect(),
        Field::Email => mk(Signal::Email, exact)
            .chain(mk(Signal::EmailHandle, |k| Level::Handle {
                freq: k,
                from_names: false,
            }))
            .chain(mk(Signal::EmailHandle, |k| Level::Handle {
                freq: k,
                from_names: true,
            }))
            .collect(),
        Field::Phone => mk(Signal::Phone, exact)
            .chain(mk(Signal::PhoneNational, |_| Level::Near))
            .collect(),
        Field::Address => mk(Signal::Address, exact)
            .chain(mk(Signal::AddressBuilding, |_| Level::Near))
            .collect(),
        Field::Business => mk(Signal::Business, exact).collect(),
        Field::Payment => mk(Signal::Payment, exact).collect(),
        Field::Device => mk(Signal::Device, exact).collect(),
        Field::Ip => mk(Signal::Ip, exact)
            .chain(mk(Signal::IpPrefix, |k| Level::Prefix { freq: k }))
            .collect(),
        _ => vec![],
    }
}

impl DeferredBound {
    /// The bound of the scorer's model, for accounts whose crowd bits are `crowd`.
    pub fn new(scorer: &Scorer, crowd: &[u16]) -> Self {
        let cap = scorer.config().blocking.max_block_size;
        let mut out = DeferredBound {
            plain: [[[0.0; model::CONTEXTS]; FIELDS]; 3],
            crowd_extra: [[[0.0; model::CONTEXTS]; FIELDS]; 3],
            crowd_bits: [0; FIELDS],
            network_best: [[0.0; model::CONTEXTS]; 3],
            crowd_colocates: (cap as u32) < model::COLOCATED_MAX,
            name_best: [[0.0; 2]; 3],
            others_plain: [0.0; 3],
            accounts: bound_accounts(scorer, crowd),
        };
        for (pi, p) in PROFILES.into_iter().enumerate() {
            for (ci, c) in CONTEXTS.into_iter().enumerate() {
                out.network_best[pi][ci] = model::keys_of(Field::Ip)
                    .into_iter()
                    .map(|k| scorer.slot_weight(model::slot(Field::Ip, c, k), p))
                    .fold(0.0f64, f64::max);
            }
            for (ci, c) in [Context::Plain, Context::Given].into_iter().enumerate() {
                out.name_best[pi][ci] = model::keys_of(Field::Name)
                    .into_iter()
                    .filter(|k| {
                        !matches!(k, Key::Exact(b)
                            if model::BUCKET_UPPER[*b as usize] <= crate::block::NAME_EXPAND_MAX)
                    })
                    .map(|k| scorer.slot_weight(model::slot(Field::Name, c, k), p))
                    .fold(0.0f64, f64::max);
            }
            for (fi, f) in Field::ALL.iter().enumerate() {
                if matches!(f, Field::Name | Field::DateOfBirth) {
                    continue;
                }
                for (ci, c) in CONTEXTS.into_iter().enumerate() {
                    let w = |l: Level| scorer.level_weight(*f, c, l, p);
                    // Levels that need no shared value: a difference, similar business names, co-bidding.
                    let plain = model::keys_of(*f)
                        .into_iter()
                        .filter(|k| {
                            matches!(
                                k,
                                Key::Different | Key::FuzzyHigh { .. } | Key::CoBid { .. }
                            )
                        })
                        .map(|k| scorer.slot_weight(model::slot(*f, c, k), p))
                        .fold(0.0f64, f64::max);
                    out.plain[pi][fi][ci] = plain;
                    for (sig, level) in crowd_levels(*f, cap) {
                        out.crowd_bits[fi] |= 1 << sig as u16;
                        let extra = (w(level) - plain).max(0.0);
                        out.crowd_extra[pi][fi][ci] = out.crowd_extra[pi][fi][ci].max(extra);
                    }
                }
            }
        }
        for (pi, sum) in out.others_plain.iter_mut().enumerate() {
            *sum = Field::ALL
                .iter()
                .enumerate()
                .filter(|(_, f)| !matches!(f, Field::Name | Field::DateOfBirth | Field::Email))
                .map(|(fi, _)| out.plain[pi][fi][0])
                .sum();
        }
        out
    }

    /// The bound for accounts `a` and `b`, whose names and emails are as far compared as `name` and
    /// `email` say (not compared: bounded by the best they can reach).
    pub fn bound(&self, scorer: &Scorer, pair: (usize, usize), name: Seen, email: Seen) -> f64 {
        let x = BoundInputs::of(scorer, &self.accounts, pair, [name, email]);
        self.bound_of(scorer, x)
    }

    /// The bound of a pair with these inputs: the best of the profiles it is scored under.
    fn bound_of(&self, scorer: &Scorer, x: BoundInputs) -> f64 {
        let dup = self.under(scorer, Profile::Duplicate, &x);
        if x.evasion {
            dup.max(self.under(scorer, Profile::Evasion, &x))
        } else {
            dup
        }
    }

    fn under(&self, scorer: &Scorer, p: Profile, x: &BoundInputs) -> f64 {
        let shared = x.shared;
        let has = |s: Signal| shared & (1 << s as u16) != 0;
        // The contexts the pair can be in (see `model::context_of`): anything that conditions a signal and is
        // not compared here must be a shared crowd value; where a context is possible, the better one counts.
        let card_or_device = has(Signal::Payment) || has(Signal::Device);
        let ctx = PairContext {
            shared,
            card_or_device,
            network: x.network,
            ip: x.ip,
            // A network value held by few accounts is held by at most `COLOCATED_MAX` (an address) — unless
            // the compared level says the only address shared is a crowd's or none is.
            colocated: (x.network && ip_may_colocate(x.ip))
                || self.crowd_colocates
                    && (card_or_device || has(Signal::Ip) || has(Signal::Address)),
            email: match x.seen[0] {
                Seen::At(Some(Key::Exact(_))) => Context::Given,
                Seen::At(None | Some(Key::Different)) => Context::Plain,
                // Resembling names, or names not compared: the email's context is open, related is the best
                // bound but for equal names (the better of the two counts).
                _ => Context::Related,
            },
        };
        let compared = Compared {
            present: x.present,
            business: x.business,
            bids: x.bids,
        };
        self.known(scorer, p, &ctx, x.seen, x.dob)
            + self.network_known(scorer, p, &ctx)
            + self.others(p, &ctx, x.seen, compared)
    }

    /// A network-only pair's compared IP level, at the better of the contexts it can be in (given a card or
    /// device only when crowd values of them are shared); 0 when not compared (`others` bounds it).
    fn network_known(&self, scorer: &Scorer, p: Profile, ctx: &PairContext) -> f64 {
        match ctx.ip {
            Seen::At(Some(k)) if ctx.network => {
                let w = |c: Context| scorer.slot_weight(model::slot(Field::Ip, c, k), p);
                if ctx.card_or_device {
                    w(Context::Plain).max(w(Context::Given))
                } else {
                    w(Context::Plain)
                }
            }
            _ => 0.0,
        }
    }

    fn known(
        &self,
        scorer: &Scorer,
        p: Profile,
        ctx: &PairContext,
        [name, email]: [Seen; 2],
        dob: Option<Key>,
    ) -> f64 {
        let pi = p as usize;
        let w = |f: Field, c: Context, k: Option<Key>| {
            k.map_or(0.0, |k| scorer.slot_weight(model::slot(f, c, k), p))
        };
        let name_weight = match name {
            Seen::At(k) if ctx.colocated => {
                w(Field::Name, Context::Plain, k).max(w(Field::Name, Context::Given, k))
            }
            Seen::At(k) => w(Field::Name, Context::Plain, k),
            Seen::NotCompared => {
                self.name_best[pi][usize::from(ctx.colocated)].max(self.name_best[pi][0])
            }
        };
        let email_weight = match email {
            Seen::At(k) if ctx.colocated || name == Seen::NotCompared => {
                w(Field::Email, ctx.email, k).max(w(Field::Email, Context::Related, k))
            }
            Seen::At(k) => w(Field::Email, ctx.email, k),
            Seen::NotCompared => 0.0,
        };
        let base = scorer.profile_prior(p) + w(Field::DateOfBirth, Context::Plain, dob);
        // Name and email are among the signals whose differences an evader makes together: under the
        // concealment model only the larger difference counts (`conceal::CHANGED_TOGETHER`).
        if p == Profile::Evasion && scorer.model.concealment.is_some() {
            base + name_weight.max(0.0)
                + email_weight.max(0.0)
                + name_weight.min(email_weight).min(0.0)
        } else {
            base + name_weight + email_weight
        }
    }

    /// Every other signal at its best level left: the plain one, or what a shared crowd value can add.
    fn others(
        &self,
        p: Profile,
        ctx: &PairContext,
        [name, email]: [Seen; 2],
        compared: Compared,
    ) -> f64 {
        let pi = p as usize;
        let email_field = Field::Email as usize;
        if ctx.shared == 0 && !ctx.network {
            // No crowd value in common: every signal at its plain bound.
            return self.others_plain[pi] - self.not_compared(pi, compared)
                + match (email, name) {
                    (Seen::At(_), _) => 0.0,
                    (Seen::NotCompared, Seen::NotCompared) => {
                        let e = &self.plain[pi][email_field];
                        e[0].max(e[1]).max(e[2])
                    }
                    _ => self.plain[pi][email_field][ctx.email as usize],
                };
        }
        self.others_with_crowd(pi, ctx, [name, email], compared)
    }

    /// What the plain bounds of the signals not compared between the pair come to (`others_plain` counts
    /// them all). Business names are compared between two entity accounts only, bids between two bidders
    /// (`Comparer::business`, `Comparer::bids`): otherwise missing, weighing nothing.
    fn not_compared(&self, pi: usize, compared: Compared) -> f64 {
        let plain = |f: Field, yes: bool| {
            if yes {
                0.0
            } else {
                self.plain[pi][f as usize][0]
            }
        };
        plain(Field::Business, compared.business)
            + plain(Field::Bids, compared.bids)
            + PRESENCE
                .iter()
                .filter(|(f, s)| absent(compared, *f, *s))
                .map(|(f, _)| self.plain[pi][*f as usize][0])
                .sum::<f64>()
    }

    /// `others` of a pair that shares a crowd value or a network: each signal at its best level, a crowd
    /// value's extra included, in the contexts possible.
    fn others_with_crowd(
        &self,
        pi: usize,
        ctx: &PairContext,
        [name, email]: [Seen; 2],
        compared: Compared,
    ) -> f64 {
        let shared = ctx.shared;
        let has = |s: Signal| shared & (1 << s as u16) != 0;
        // Whether the signal's conditioning context is possible (then the better of it and the plain one
        // counts; see `model::context_of`).
        let given_possible = |f: Field| match f {
            Field::Ip => ctx.card_or_device,
            Field::Device => self.crowd_colocates && has(Signal::Payment),
            Field::Address => ctx.card_or_device || has(Signal::Ip) || ctx.network,
            _ => false,
        };
        let at = |fi: usize, ci: usize| {
            self.plain[pi][fi][ci]
                + if shared & self.crowd_bits[fi] != 0 {
                    self.crowd_extra[pi][fi][ci]
                } else {
                    0.0
                }
        };
        let mut total = 0.0;
        for (fi, f) in Field::ALL.iter().enumerate() {
            total += match f {
                Field::Name | Field::DateOfBirth => 0.0,
                Field::Business if !compared.business => 0.0,
                Field::Bids if !compared.bids => 0.0,
                _ if PRESENCE
                    .iter()
                    .any(|(g, s)| g == f && absent(compared, *g, *s)) =>
                {
                    0.0
                }
                Field::Ip if ctx.network => match ctx.ip {
                    Seen::At(_) => 0.0, // counted by `network_known`
                    Seen::NotCompared => {
                        let best = &self.network_best[pi];
                        if ctx.card_or_device {
                            best[0].max(best[1])
                        } else {
                            best[0]
                        }
                    }
                },
                Field::Email => match (email, name) {
                    (Seen::At(_), _) => 0.0,
                    (Seen::NotCompared, Seen::NotCompared) => {
                        at(fi, 0).max(at(fi, 1)).max(at(fi, 2))
                    }
                    _ if ctx.colocated => at(fi, ctx.email as usize).max(at(fi, 2)),
                    _ => at(fi, ctx.email as usize),
                },
                _ if given_possible(*f) => at(fi, 0).max(at(fi, 1)),
                _ => at(fi, 0),
            };
        }
        total
    }
}

/// Whether a presence-decided signal (not the business name, which `Compared::business` decides) is absent on
/// either account of a pair.
fn absent(compared: Compared, f: Field, s: Signal) -> bool {
    compared.present & (1 << s as u16) == 0 && f != Field::Business
}

/// Everything of a deferred pair its bound depends on (`DeferredBound::bound_of`). The census records it
/// for each crowded pair, packed in a `u64`, while it has the pair's accounts at hand: scoring then bounds the
/// millions of crowded pairs from these codes alone (a few thousand distinct ones), without reading accounts.
#[derive(Debug, Clone, Copy, PartialEq)]
struct BoundInputs {
    /// The crowd bits both accounts hold.
    shared: u16,
    /// The `PRESENCE` bits both accounts hold.
    present: u16,
    /// Both are entity accounts (business names are compared).
    business: bool,
    /// Both bid (bids are compared).
    bids: bool,
    /// Name and email, as far as compared.
    seen: [Seen; 2],
    dob: Option<Key>,
    /// The pair is scored under the evasion profile too.
    evasion: bool,
    /// The pair shares an IP address or range held by few accounts (a network-only pair:
    /// `block::Deferred::network`): the accounts may be co-located, and the network counts at `ip`.
    network: bool,
    /// A network-only pair's IP level as compared (not compared: its best level).
    ip: Seen,
}

impl BoundInputs {
    fn of(
        cmp: &Comparer,
        accounts: &[BoundAccount],
        (a, b): (usize, usize),
        seen: [Seen; 2],
    ) -> Self {
        let (x, y) = (&accounts[a], &accounts[b]);
        BoundInputs {
            shared: x.crowd & y.crowd,
            present: x.present & y.present,
            business: x.entity && y.entity,
            bids: x.bids && y.bids,
            seen,
            dob: model::key_of(cmp.dob_of(a, b, x.dob, y.dob)),
            evasion: crate::record::evasion_between(
                (x.sanctioned, x.created),
                (y.sanctioned, y.created),
            )
            .is_some(),
            network: false,
            ip: Seen::NotCompared,
        }
    }

    /// Packed in a `u64`: the crowd and presence bits as they are, the four levels six bits each
    /// (`Seen::pack`), the flags a bit each. Only shifts (packed two or three times per deferred pair,
    /// millions of them); bits 60 to 63 stay clear (`BoundCache`'s empty slot is `u64::MAX`).
    fn pack(self) -> u64 {
        u64::from(self.shared)
            | u64::from(self.present) << 16
            | u64::from(self.seen[0].pack()) << 32
            | u64::from(self.seen[1].pack()) << 38
            | u64::from(Seen::At(self.dob).pack()) << 44
            | u64::from(self.ip.pack()) << 50
            | u64::from(self.business) << 56
            | u64::from(self.bids) << 57
            | u64::from(self.evasion) << 58
            | u64::from(self.network) << 59
    }

    fn unpack(x: u64) -> Self {
        let level = |at: u32| Seen::unpack((x >> at) as u8 & SEEN_MASK);
        BoundInputs {
            shared: x as u16,
            present: (x >> 16) as u16,
            seen: [level(32), level(38)],
            dob: match level(44) {
                Seen::At(k) => k,
                Seen::NotCompared => None,
            },
            ip: level(50),
            business: x >> 56 & 1 == 1,
            bids: x >> 57 & 1 == 1,
            evasion: x >> 58 & 1 == 1,
            network: x >> 59 & 1 == 1,
        }
    }

    /// The same inputs with the name compared.
    fn with_name(self, name: Seen) -> Self {
        BoundInputs {
            seen: [name, self.seen[1]],
            ..self
        }
    }

    /// The same inputs with the email compared.
    fn with_email(self, email: Seen) -> Self {
        BoundInputs {
            seen: [self.seen[0], email],
            ..self
        }
    }

    /// The same inputs for a pair that shares a network value held by few accounts, its IP level as far as
    /// compared.
    fn on_network(self, ip: Seen) -> Self {
        BoundInputs {
            network: true,
            ip,
            ..self
        }
    }
}

/// One worker's last bounds by their inputs, direct-mapped: the pairs of a common-name block share a handful of
/// inputs, and a bound is a pure function of them, so a remembered bound is the bound.
struct BoundCache {
    keys: Vec<u64>,
    bounds: Vec<f64>,
}

impl Default for BoundCache {
    fn default() -> Self {
        // No packed inputs has its top bits set: `u64::MAX` marks an empty entry.
        BoundCache {
            keys: vec![u64::MAX; 1 << 12],
            bounds: vec![0.0; 1 << 12],
        }
    }
}

impl BoundCache {
    fn bound(&mut self, x: BoundInputs, compute: impl FnOnce(BoundInputs) -> f64) -> f64 {
        let key = x.pack();
        let at = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52) as usize;
        if self.keys[at] != key {
            self.keys[at] = key;
            self.bounds[at] = compute(x);
        }
        self.bounds[at]
    }
}

/// What a deferred pair's bound reads of one account, side by side: bounding millions of pairs of accounts
/// met at random reads one cache line per account instead of one per column (crowd bits, presence, birth
/// date, status, creation date, business name, bids).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct BoundAccount {
    created: i64,
    dob: u32,
    /// The account's crowd bits (`block::Candidates::crowd`).
    crowd: u16,
    /// A bit per signal of `PRESENCE` (`1 << Signal`) it holds a value of.
    present: u16,
    sanctioned: bool,
    /// An entity account (business names are compared).
    entity: bool,
    /// It bid (bids are compared).
    bids: bool,
}

/// Every account's `BoundAccount`.
fn bound_accounts(cmp: &Comparer, crowd: &[u16]) -> Vec<BoundAccount> {
    let acc = cmp.accounts();
    crate::memory::collect_advised((0..acc.len()).into_par_iter().map(|i| {
        BoundAccount {
            created: acc.created[i],
            dob: acc.dob[i],
            crowd: crowd[i],
            present: PRESENCE
                .iter()
                .filter(|(_, s)| !acc.signal(*s).is_empty_at(i))
                .fold(0u16, |m, (_, s)| m | 1 << *s as u16),
            sanctioned: acc.status[i].is_sanctioned(),
            entity: acc.entity[i],
            bids: cmp.bids.is_some_and(|idx| !idx.of(i).is_empty()),
        }
    }))
}

/// Which of the signals compared only between some accounts a deferred pair has (see `DeferredBound::under`).
#[derive(Clone, Copy)]
struct Compared {
    /// The `PRESENCE` bits both accounts hold.
    present: u16,
    business: bool,
    bids: bool,
}

/// Whether an IP level (as far as compared) can place two accounts together (`model::colocated`): an address
/// shared by at most `COLOCATED_MAX` accounts.
fn ip_may_colocate(ip: Seen) -> bool {
    match ip {
        Seen::NotCompared => true,
        Seen::At(Some(Key::Exact(b))) => model::bucket_lower(b) <= model::COLOCATED_MAX,
        Seen::At(_) => false,
    }
}

/// What a deferred pair's crowd values allow (see `DeferredBound::under`).
struct PairContext {
    /// The crowd bits both accounts hold.
    shared: u16,
    /// Both hold crowd cards or crowd devices.
    card_or_device: bool,
    /// They share a network value held by few accounts (`BoundInputs::network`).
    network: bool,
    /// Their IP level, when compared (network-only pairs).
    ip: Seen,
    /// A crowd value (or the network) may place them together.
    colocated: bool,
    /// The email's context as far as the names tell.
    email: Context,
}

/// The signals whose levels turn on values that crowded blocks are deferred for (`block::deferrable`), and
/// whose levels among candidates EM counts: the census counts them for the deferred crowded pairs too.
pub const CENSUS_FIELDS: [Field; 3] = [Field::Email, Field::Business, Field::Ip];

/// What the census of the deferred crowded pairs found (`census`).
#[derive(Debug, Clone, Default)]
pub struct Census {
    /// Per model slot of `CENSUS_FIELDS` (context and level), the deferred crowded pairs at it: what they
    /// would have added to the candidates' counts, had they been compared before estimation (pairs of
    /// different people: a crowded block never teaches the match class).
    pub slots: Vec<u64>,
    /// Per deferred crowded pair, what its bound depends on (`BoundInputs`, packed), its name and email as
    /// far as the census compared them: scoring reads them instead of comparing again.
    bound_inputs: Vec<u64>,
}

/// The name levels of the pairs one worker compared last, by the two names (`Signal::Name`'s value: the hash
/// of the sorted name, which the level is a function of, with the name's frequency): the accounts of a crowded
/// block (a handle built from a common name) hold a few dozen names between them, so eight in ten of its pairs
/// meet a pair of names met before. A direct-mapped table: a slot keeps the last pair that fell in it; what it
/// holds decides only whether a level is computed again, never the level.
struct NameMemo {
    slots: Vec<(u64, u64, Level)>,
}

impl NameMemo {
    /// Slots (a power of two): 256 KiB, within a core's L2 cache.
    const SLOTS: usize = 8192;

    fn new() -> Self {
        // A pair of equal names is never looked up (`level`): (0, 0) marks an empty slot.
        NameMemo {
            slots: vec![(0, 0, Level::Missing); Self::SLOTS],
        }
    }

    /// `cmp.name(a, b)`, from the table when it holds the pair of names.
    fn level(&mut self, cmp: &Comparer, a: usize, b: usize) -> Level {
        let names = cmp.acc.signal(Signal::Name);
        let (Some(&x), Some(&y)) = (names.get(a).first(), names.get(b).first()) else {
            return cmp.name(a, b); // missing: at once
        };
        if x == y {
            return cmp.name(a, b); // equal: at once
        }
        let slot = &mut self.slots[(x ^ y.rotate_left(29)) as usize & (Self::SLOTS - 1)];
        if slot.0 != x || slot.1 != y {
            *slot = (x, y, cmp.name(a, b));
        }
        slot.2
    }
}

/// Compares the emails, business names and networks of the deferred crowded pairs
/// (`block::Deferred::pairs`), and the names of those that share an email or a handle (the email's context
/// turns on the names). A pair that shares a crowd value of a signal that sets a context (card, device,
/// network, address) has every level those contexts read compared too (`Comparer::census_comparison`).
/// Deterministic for any thread count.
pub fn census(cmp: &Comparer, deferred: &crate::block::Deferred, crowd: &[u16]) -> Census {
    let contextual = [Signal::Payment, Signal::Device, Signal::Ip, Signal::Address]
        .iter()
        .fold(0u16, |m, s| m | 1 << *s as u16);
    let accounts = bound_accounts(cmp, crowd);
    // Written in place, each pair once (`visit_crowded` visits a pair once): per-worker lists of (pair,
    // record) to copy over afterwards were 16 bytes a pair, the comparing stage's peak memory on a dense export.
    let bound_inputs: Vec<AtomicU64> = crate::memory::collect_advised(
        (0..deferred.pairs.len())
            .into_par_iter()
            .map(|_| AtomicU64::new(0)),
    );
    let states = deferred.visit_crowded(
        || (vec![0u64; model::SLOTS], NameMemo::new()),
        |(counts, memo): &mut (Vec<u64>, NameMemo), k, a, b| {
            let (a, b) = (a as usize, b as usize);
            let mut count = |f: Field, ctx: Context, l: Level| {
                if let Some(k) = model::key_of(l) {
                    counts[model::slot(f, ctx, k)] += 1;
                }
            };
            let email = cmp.email(a, b);
            let shares = model::key_of(email).is_some_and(|k| k != Key::Different);
            let mut name = shares.then(|| memo.level(cmp, a, b));
            if crowd[a] & crowd[b] & contextual != 0 {
                // The email's context turns on the names here whatever the email: compared, and recorded
                // for the bound (scoring would compare them again for a pair whose looser bound reaches the
                // line, and decide as the bound with them decides).
                let named = *name.get_or_insert_with(|| memo.level(cmp, a, b));
                let c = cmp.census_comparison(a, b, email, named);
                for f in CENSUS_FIELDS {
                    count(f, model::context_of(f, &c), c.get(f));
                }
            } else {
                let email_ctx = match name {
                    Some(Level::Exact { .. }) => Context::Given,
                    Some(l) if model::names_resemble(l) => Context::Related,
                    _ => Context::Plain,
                };
                count(Field::Email, email_ctx, email);
                count(Field::Business, Context::Plain, cmp.business(a, b));
                count(Field::Ip, Context::Plain, cmp.ip(a, b));
            }
            let name = name.map_or(Seen::NotCompared, Seen::of);
            let x = BoundInputs::of(cmp, &accounts, (a, b), [name, Seen::of(email)]);
            bound_inputs[k].store(x.pack(), Ordering::Relaxed);
        },
    );
    let mut slots = vec![0; model::SLOTS];
    for (counts, _) in states {
        slots.iter_mut().zip(counts).for_each(|(x, y)| *x += y);
    }
    Census {
        slots,
        // In place: the same allocation, read as plain integers.
        bound_inputs: bound_inputs
            .into_iter()
            .map(AtomicU64::into_inner)
            .collect(),
    }
}

/// Scores a deferred pair whose bound reached the near-miss line (counted in `scored`), kept when its weight
/// does too.
fn score_reached(
    scorer: &Scorer,
    (a, b): (u32, u32),
    floor: f64,
    kept: &mut Vec<Scored>,
    scored: &mut u64,
) {
    *scored += 1;
    let weight = scorer.weight(a as usize, b as usize);
    if weight >= floor {
        kept.push(Scored { a, b, weight });
    }
}

/// What scoring the deferred pairs did (see `block::Deferred`).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct DeferredStats {
    /// Pairs in common-name blocks.
    pub common_name_pairs: u64,
    /// Of those, pairs whose bound reached the near-miss line and that were not candidates or deferred
    /// crowded pairs: scored.
    pub common_name_scored: u64,
    /// Pairs only crowded blocks of weak keys found.
    pub crowded_pairs: u64,
    /// Of those, pairs whose bound reached the near-miss line: scored.
    pub crowded_scored: u64,
    /// Pairs only network keys found that the model's sample left out (`block::Deferred::network`).
    pub network_pairs: u64,
    /// Of those, pairs whose bound reached the near-miss line: scored.
    pub network_scored: u64,
}

/// Scores the deferred pairs (see `block::Deferred`) whose bound reaches the near-miss line, and keeps
/// those at or above it: the pairs of common-name blocks that are neither candidates (`candidates` is
/// sorted) nor deferred crowded pairs, then the deferred crowded pairs. Deterministic for any thread count.
pub fn score_deferred(
    scorer: &Scorer,
    deferred: &crate::block::Deferred,
    census: &Census,
    candidates: &[u64],
    crowd: &[u16],
) -> (Vec<Scored>, DeferredStats) {
    let cfg = scorer.config();
    let floor = cfg.link_weight() - cfg.scoring.near_miss_bits;
    let bound = DeferredBound::new(scorer, crowd);
    let t0 = std::time::Instant::now();
    let (mut out, common_name_scored) =
        score_common_names(scorer, &bound, deferred, candidates, floor);
    tracing::debug!(secs = ?t0.elapsed(), "common-name blocks");
    let (mut kept, crowded_scored) = score_crowded(scorer, &bound, deferred, census, floor);
    let (network, network_scored) = score_network(scorer, &bound, &deferred.network, floor);
    kept.extend(network);
    // The crowded and network pairs are disjoint: in pair order together.
    kept.sort_unstable_by_key(|s| (s.a, s.b));
    out.extend(kept);
    let stats = DeferredStats {
        common_name_pairs: deferred.pairs(),
        common_name_scored,
        crowded_pairs: deferred.pairs.len() as u64,
        crowded_scored,
        network_pairs: deferred.network.len() as u64,
        network_scored,
    };
    (out, stats)
}

/// The pairs of common-name blocks that are neither candidates nor deferred crowded or network pairs, whose
/// bound reaches the near-miss line (the first bound remembered per worker: a block's pairs share a handful
/// of inputs), then with the email compared: those kept, block after block, and how many were scored.
fn score_common_names(
    scorer: &Scorer,
    bound: &DeferredBound,
    deferred: &crate::block::Deferred,
    candidates: &[u64],
    floor: f64,
) -> (Vec<Scored>, u64) {
    let parts: Vec<(Vec<Scored>, u64)> = deferred
        .blocks
        .par_iter()
        .map_init(BoundCache::default, |cache, r| {
            let block = &deferred.accounts[r.clone()];
            let name = Level::Exact {
                freq: block.len() as u32,
            };
            let (mut kept, mut scored) = (Vec::new(), 0u64);
            for (x, &i) in block.iter().enumerate() {
                for &j in &block[x + 1..] {
                    let (a, b) = (i.min(j), i.max(j));
                    let pair = (a as usize, b as usize);
                    let first = [Seen::of(name), Seen::NotCompared];
                    let x = BoundInputs::of(scorer, &bound.accounts, pair, first);
                    if cache.bound(x, |x| bound.bound_of(scorer, x)) < floor {
                        continue;
                    }
                    let p = crate::block::pack(a, b);
                    if candidates.binary_search(&p).is_ok()
                        || deferred.pairs.binary_search(&p).is_ok()
                        || deferred.network.binary_search(&p).is_ok()
                    {
                        continue;
                    }
                    // Closer, with the email compared: a crowded handle each holds need not be one.
                    let email = Seen::of(scorer.email(pair.0, pair.1));
                    if bound.bound(scorer, pair, Seen::of(name), email) < floor {
                        continue;
                    }
                    score_reached(scorer, (a, b), floor, &mut kept, &mut scored);
                }
            }
            (kept, scored)
        })
        .collect();
    concat_scored(parts)
}

/// The deferred crowded pairs, bounded from what the census recorded: the bound of each distinct record
/// once (a few thousand among millions of pairs), looked up pair by pair; the accounts are read only for the
/// pairs whose bound reaches the line. Those kept, in pair order, and how many were scored.
fn score_crowded(
    scorer: &Scorer,
    bound: &DeferredBound,
    deferred: &crate::block::Deferred,
    census: &Census,
    floor: f64,
) -> (Vec<Scored>, u64) {
    let mut distinct = census.bound_inputs.clone();
    distinct.par_sort_unstable();
    distinct.dedup();
    let bounds: Vec<f64> = distinct
        .par_iter()
        .map(|&x| bound.bound_of(scorer, BoundInputs::unpack(x)))
        .collect();
    let parts: Vec<(Vec<Scored>, u64)> = deferred
        .pairs
        .par_chunks(64 * 1024)
        .zip(census.bound_inputs.par_chunks(64 * 1024))
        .with_max_len(crate::BALANCED)
        .map(|(pairs, inputs)| {
            let (mut kept, mut scored) = (Vec::new(), 0u64);
            for (&p, &x) in pairs.iter().zip(inputs) {
                let at = distinct.binary_search(&x).unwrap_or(0);
                if bounds[at] < floor {
                    continue;
                }
                let (a, b) = crate::block::unpack(p);
                let pair = (a as usize, b as usize);
                let mut inputs = BoundInputs::unpack(x);
                // The names are compared only where the bound without them reaches the line.
                if inputs.seen[0] == Seen::NotCompared {
                    inputs = inputs.with_name(Seen::of(scorer.name(pair.0, pair.1)));
                    if bound.bound_of(scorer, inputs) < floor {
                        continue;
                    }
                }
                score_reached(scorer, (a, b), floor, &mut kept, &mut scored);
            }
            (kept, scored)
        })
        .collect();
    concat_scored(parts)
}

/// The workers' kept pairs one after the other, and the sum of their scored counts.
fn concat_scored(parts: Vec<(Vec<Scored>, u64)>) -> (Vec<Scored>, u64) {
    let mut out = Vec::with_capacity(parts.iter().map(|(k, _)| k.len()).sum());
    let mut scored = 0;
    for (k, n) in parts {
        out.extend(k);
        scored += n;
    }
    (out, scored)
}

/// Scores the network-only pairs the model's sample left out (`block::Deferred::network`) whose bound
/// reaches the near-miss line — the bound with the pair's IP level compared but not its names or emails
/// first (a few hundred distinct inputs, remembered), then with each compared — and keeps those at or above
/// it, in pair order, with how many were scored. Such a pair shares an IP address or range held by few accounts and, besides it, only crowd
/// values (`DeferredBound`). Deterministic for any thread count.
fn score_network(
    scorer: &Scorer,
    bound: &DeferredBound,
    pairs: &[u64],
    floor: f64,
) -> (Vec<Scored>, u64) {
    let parts: Vec<(Vec<Scored>, u64)> = pairs
        .par_chunks(16 * 1024)
        .with_max_len(crate::BALANCED)
        .map_init(BoundCache::default, |cache, chunk| {
            let (mut kept, mut scored) = (Vec::new(), 0u64);
            let acc = scorer.accounts();
            let second = |k: usize| chunk.get(k).map(|&p| crate::block::unpack(p).1 as usize);
            for (k, &p) in chunk.iter().enumerate() {
                // Most pairs end at the first bound: only what it reads is fetched ahead (the IP values
                // and the bound's own account record), not the names and emails of a full comparison.
                if let Some(b) = second(k + 2 * crate::record::PREFETCH_AHEAD) {
                    acc.prefetch_signal_head(b);
                    crate::record::prefetch(&bound.accounts[b]);
                }
                if let Some(b) = second(k + crate::record::PREFETCH_AHEAD) {
                    acc.prefetch_signal_values(b);
                }
                let (a, b) = crate::block::unpack(p);
                let pair = (a as usize, b as usize);
                let unseen = [Seen::NotCompared, Seen::NotCompared];
                let ip = Seen::of(scorer.ip(pair.0, pair.1));
                let x = BoundInputs::of(scorer, &bound.accounts, pair, unseen).on_network(ip);
                if cache.bound(x, |x| bound.bound_of(scorer, x)) < floor {
                    continue;
                }
                let x = x.with_name(Seen::of(scorer.name(pair.0, pair.1)));
                if cache.bound(x, |x| bound.bound_of(scorer, x)) < floor {
                    continue;
                }
                let x = x.with_email(Seen::of(scorer.email(pair.0, pair.1)));
                if cache.bound(x, |x| bound.bound_of(scorer, x)) < floor {
                    continue;
                }
                score_reached(scorer, (a, b), floor, &mut kept, &mut scored);
            }
            (kept, scored)
        })
        .collect();
    concat_scored(parts)
}

/// Candidate pairs of a sanctioned account and a newer, live one that share a home or an office
/// (`model::slots_share_a_home`) and are not linked: the candidates for
/// `associated_with_sanctioned`, as `(sanctioned, newer, weight)`, in candidate order. Reads the comparison
/// patterns `score_all` used: no pair is compared again, and only pairs whose pattern is concealed (what
/// every possible evasion is) and shares a home have their accounts' dates and statuses read.
pub fn associate_candidates(
    scorer: &Scorer,
    candidates: &[u64],
    pats: CandidatePatterns<'_>,
) -> Vec<(u32, u32, f64)> {
    let link = scorer.config().link_weight();
    let acc = scorer.accounts();
    let home: Vec<bool> = (pats.slots.iter().zip(pats.concealed))
        .map(|(s, &c)| c && model::slots_share_a_home(s))
        .collect();
    candidates
        .par_chunks(16 * 1024)
        .zip(pats.of_candidate.par_chunks(16 * 1024))
        .with_max_len(crate::BALANCED)
        .flat_map_iter(|(chunk, idx)| {
            chunk
                .iter()
                .zip(idx)
                .filter(|(_, k)| home[**k as usize])
                .filter_map(|(&p, &k)| {
                    let (a, b) = crate::block::unpack(p);
                    let (s, n) = scorer.evasion_direction(a as usize, b as usize)?;
                    if matches!(acc.status[n], crate::record::Status::Closed) {
                        return None;
                    }
                    let w = scorer
                        .score_slots(a as usize, b as usize, &pats.slots[k as usize])
                        .0;
                    (w < link).then_some((s as u32, n as u32, w))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Two YYYYMMDD dates one digit apart, with two adjacent digits transposed, or with day and month swapped.
fn dob_near(x: u32, y: u32) -> bool {
    day_month_swapped(x) == y || (digits_may_be_near(x, y) && near_by_digits(x, y))
}

/// A YYYYMMDD date with its day and month swapped.
fn day_month_swapped(x: u32) -> u32 {
    (x / 10_000) * 10_000 + (x % 100) * 100 + (x / 100) % 100
}

/// A necessary condition of `near_by_digits`, cheap: one digit changed (at position `i`) moves a number by
/// `k·10^i` with `k` under 10, two adjacent digits transposed by `9k·10^i` with `k` under 10 — both
/// `m·10^i` with `m` under 100. Most pairs of dates compared (namesakes' birth dates) fail it at the first
/// division. Numbers of more than eight digits are left to `near_by_digits`, which reads eight.
fn digits_may_be_near(x: u32, y: u32) -> bool {
    const EIGHT_DIGITS: u32 = 100_000_000;
    if x >= EIGHT_DIGITS || y >= EIGHT_DIGITS {
        return true;
    }
    let mut d = x.abs_diff(y);
    while d >= 100 {
        if !d.is_multiple_of(10) {
            return false;
        }
        d /= 10;
    }
    true
}

/// Whether the last eight decimal digits of `x` and `y` differ in exactly one digit, or in two adjacent
/// digits swapped.
fn near_by_digits(x: u32, y: u32) -> bool {
    let digits = |mut v: u32| {
        let mut d = [0u8; 8];
        for slot in d.iter_mut().rev() {
            *slot = (v % 10) as u8;
            v /= 10;
        }
        d
    };
    let (a, b) = (digits(x), digits(y));
    let mut diff = (0..8).filter(|&i| a[i] != b[i]);
    match (diff.next(), diff.next(), diff.next()) {
        (Some(_), None, None) => true,
        (Some(i), Some(j), None) => j == i + 1 && a[i] == b[j] && a[j] == b[i],
        _ => false,
    }
}

/// Text of one signal's level, as reviewers read it.
pub fn field_level_text(field: Field, level: Level, context: Context) -> String {
    let mut out = String::new();
    write_field_level_text(&mut out, field, level, context);
    out
}

/// `field_level_text`, written at the end of `out` (evidence strings are built for millions of pairs at ten
/// million accounts: no string per item).
fn write_field_level_text(out: &mut String, field: Field, level: Level, context: Context) {
    use std::fmt::Write;
    let _ = match (field, level, context) {
        (Field::Review, Level::Exact { .. }, _) => write!(out, "between them"),
        (Field::Phone, Level::Near, _) => write!(out, "same national number, one without country"),
        (Field::Address, Level::Near, _) => write!(out, "same building"),
        (Field::Address, Level::Exact { freq }, Context::Given) => write!(
            out,
            "same address({freq} accounts), expected with the shared card/device/network"
        ),
        (Field::Review, Level::Different, _) => write!(out, "none between them"),
        (Field::Ip, Level::Exact { freq }, Context::Given) => write!(
            out,
            "shared network({freq} accounts), expected with the shared card/device"
        ),
        (Field::Ip, Level::Prefix { freq }, Context::Given) => write!(
            out,
            "same network prefix({freq} accounts), expected with the shared card/device"
        ),
        (
            Field::Email,
            Level::Handle {
                freq,
                from_names: true,
            },
            _,
        ) => write!(
            out,
            "same handle({freq} accounts), made of both names: counted with the names"
        ),
        _ => {
            write_level_text(out, level);
            Ok(())
        }
    };
}

/// Text of one level, as reviewers read it, written at the end of `out`.
fn write_level_text(out: &mut String, level: Level) {
    use std::fmt::Write;
    let _ = match level {
        Level::Missing => write!(out, "missing"),
        Level::Exact { freq } => write!(out, "shared({freq} accounts)"),
        Level::Formal { .. } => write!(out, "nickname, spelling variant or initials"),
        Level::FuzzyHigh { jw, .. } => write!(out, "jw {jw:.2}"),
        Level::FuzzyMid { jw, .. } => write!(out, "jw {jw:.2}"),
        Level::Partial => write!(out, "one part shared"),
        Level::Near => write!(out, "one character off"),
        Level::YearClose => write!(out, "birth years within one"),
        Level::Handle { freq, .. } => write!(out, "same handle({freq} accounts)"),
        Level::Prefix { freq } => write!(out, "same prefix({freq} accounts)"),
        Level::CoBid { jobs: 1 } => write!(out, "both bid on 1 job within minutes"),
        Level::CoBid { jobs } => write!(out, "both bid on {jobs} jobs within minutes"),
        Level::Different => write!(out, "different"),
    };
}

/// Writes `x` as `format!("{x:+.1}")` does: a weight in the evidence text.
fn push_tenths(out: &mut String, x: f64) {
    push_fixed(out, x, 1, true);
}

/// Writes `x` with `decimals` decimals (at most 9) as `format!("{x:.N}")` does, or as `format!("{x:+.N}")`
/// with `plus` (the decimal value correctly rounded; a sign on negative values, negative zero included), without
/// the general float formatter, a thousand instructions a number: from `x · 10^N` rounded in binary, which rounds
/// as the exact decimal value does while its fraction is more than 1e-6 from one half and it is below 1e9 (its
/// error then under 1e-7); the general formatter writes the rest (near ties, huge and non-finite values).
pub fn push_fixed(out: &mut String, x: f64, decimals: u32, plus: bool) {
    let decimals = decimals.min(9);
    let scaled = x.abs() * 10f64.powi(decimals as i32);
    // Also NaN and infinities (no comparison holds for NaN).
    let plain = scaled < 1e9 && (scaled - scaled.floor() - 0.5).abs() >= 1e-6;
    if !plain {
        use std::fmt::Write;
        let d = decimals as usize;
        let _ = if plus {
            write!(out, "{x:+.d$}")
        } else {
            write!(out, "{x:.d$}")
        };
        return;
    }
    if x.is_sign_negative() {
        out.push('-');
    } else if plus {
        out.push('+');
    }
    let n = scaled.round() as u64;
    let unit = 10u64.pow(decimals);
    push_digits(out, n / unit, 1);
    if decimals > 0 {
        out.push('.');
        push_digits(out, n % unit, decimals as usize);
    }
}

/// `n` in decimal, at least `width` digits (zeros in front).
fn push_digits(out: &mut String, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut at = digits.len();
    while n > 0 || digits.len() - at < width {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    // ASCII digits.
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

impl Explanation {
    /// The lines of the explanation after the prior, in order — every signal (its level as reviewers read
    /// it; missing ones only with `missing`), then the changes counted once and the household term when they
    /// apply — as (name, level, weight). Their weights add up to `weight − prior`.
    pub fn rows(&self, missing: bool) -> Vec<(&'static str, String, f64)> {
        let mut rows: Vec<(&'static str, String, f64)> = self
            .items
            .iter()
            .filter(|i| missing || i.level != Level::Missing)
            .map(|i| {
                let level = field_level_text(i.field, i.level, i.context);
                (i.field.as_str(), level, i.weight)
            })
            .collect();
        if self.changes_once != 0.0 {
            rows.push((
                "changes",
                "counted once (one decision)".into(),
                self.changes_once,
            ));
        }
        if self.household != 0.0 {
            rows.push((
                "household",
                "or two people of one home?".into(),
                self.household,
            ));
        }
        rows
    }

    /// `email=shared(2 accounts) +10.8; name=jw 0.95 +3.6; …`, strongest first, missing fields left out.
    pub fn evidence(&self) -> String {
        // Differences that weigh nothing (under the concealment profile) are left out: they say nothing.
        let mut items: Vec<&Item> = self
            .items
            .iter()
            .filter(|i| {
                i.level != Level::Missing
                    && !(matches!(i.level, Level::Different) && i.weight.abs() < 0.05)
            })
            .collect();
        items.sort_by(|x, y| y.weight.total_cmp(&x.weight));
        // One string written in place (millions of near misses at ten million accounts).
        let mut out = String::with_capacity(64 * (items.len() + 2));
        let sep = |out: &mut String| {
            if !out.is_empty() {
                out.push_str("; ");
            }
        };
        for i in items {
            sep(&mut out);
            i.write_evidence(&mut out);
        }
        if self.changes_once >= 0.05 {
            sep(&mut out);
            out.push_str("changes=counted once ");
            push_tenths(&mut out, self.changes_once);
        }
        if self.household <= -0.05 {
            sep(&mut out);
            out.push_str("household=or two people of one home? ");
            push_tenths(&mut out, self.household);
        }
        out
    }
}

/// A scored candidate at or above the near-miss threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub a: u32,
    pub b: u32,
    pub weight: f64,
}

impl Scored {
    /// Strongest first, then by account indices: a total order over scored pairs (a pair is scored once).
    pub fn strongest_first(&self, other: &Scored) -> std::cmp::Ordering {
        other
            .weight
            .total_cmp(&self.weight)
            .then(self.a.cmp(&other.a))
            .then(self.b.cmp(&other.b))
    }
}

/// The comparison patterns of the candidate pairs, as scoring reads them (`estimate::Patterns::view`).
#[derive(Clone, Copy)]
pub struct CandidatePatterns<'a> {
    /// Each distinct pattern's slots.
    pub slots: &'a [Slots],
    /// Whether each pattern's pairs are scored under the concealment profile too
    /// (`Comparer::concealment_applies`, worked out when the pairs were compared).
    pub concealed: &'a [bool],
    /// `of_candidate[i]`: the pattern of candidate `i`.
    pub of_candidate: &'a [u32],
}

/// Scores candidates in parallel from their comparison patterns; keeps those within `near_miss_bits` of the
/// link threshold or above. The result is in candidate order whatever the number of threads.
pub fn score_all(
    scorer: &Scorer,
    candidates: &[u64],
    pats: CandidatePatterns<'_>,
    progress: &indicatif::ProgressBar,
) -> Vec<Scored> {
    let cfg = scorer.config();
    let floor = cfg.link_weight() - cfg.scoring.near_miss_bits;
    let dup: Vec<f64> = pats
        .slots
        .iter()
        .map(|s| scorer.total(s, Profile::Duplicate))
        .collect();
    candidates
        .par_chunks(16 * 1024)
        .zip(pats.of_candidate.par_chunks(16 * 1024))
        .with_max_len(crate::BALANCED)
        .flat_map_iter(|(chunk, idx)| {
            let kept: Vec<Scored> = chunk
                .iter()
                .zip(idx)
                .filter_map(|(&p, &k)| {
                    let (a, b) = crate::block::unpack(p);
                    let k = k as usize;
                    let w = if pats.concealed[k] {
                        scorer.score_slots(a as usize, b as usize, &pats.slots[k]).0
                    } else {
                        dup[k]
                    };
                    (w >= floor).then_some(Scored { a, b, weight: w })
                })
                .collect();
            progress.inc(chunk.len() as u64);
            kept
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::test_accounts;
    use crate::record::col;

    /// Both ways of finding the rarest shared value agree with looking each value up, on lists short and
    /// long (either side of `ALL_PAIRS_MAX`), disjoint and overlapping, with frequencies in any order.
    #[test]
    fn rarest_shared_value_is_the_rarest_common_one() {
        let reference = |va: &[u64], fa: &[u32], vb: &[u64]| {
            va.iter()
                .zip(fa)
                .filter(|(x, _)| vb.contains(x))
                .map(|(_, &f)| f)
                .min()
        };
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        let (mut shared_some, mut shared_none) = (0, 0);
        for round in 0..20_000 {
            // Values from a small domain so that lists meet; every few rounds from a large one.
            let domain = if round % 5 == 0 { 1 << 40 } else { 24 };
            let mut list = || {
                let len = next(13);
                let mut v: Vec<u64> = (0..len).map(|_| next(domain)).collect();
                v.sort_unstable();
                v.dedup();
                v
            };
            let (va, vb) = (list(), list());
            let fa: Vec<u32> = va.iter().map(|_| 1 + next(50) as u32).collect();
            let want = reference(&va, &fa, &vb);
            assert_eq!(rarest_shared(&va, &fa, &vb), want, "{va:?} {fa:?} {vb:?}");
            assert_eq!(
                merge_rarest_shared(&va, &fa, &vb),
                want,
                "{va:?} {fa:?} {vb:?}"
            );
            if want.is_some() {
                shared_some += 1;
            } else {
                shared_none += 1;
            }
        }
        // Both outcomes were met, on lists of 0–12 values (either side of `ALL_PAIRS_MAX`).
        assert!(
            shared_some > 1000 && shared_none > 1000,
            "{shared_some} {shared_none}"
        );
        let long: Vec<u64> = (0..(ALL_PAIRS_MAX as u64 + 4)).collect();
        let freqs: Vec<u32> = (0..long.len() as u32).rev().collect();
        assert_eq!(rarest_shared(&long, &freqs, &[3, 5, 100]), Some(freqs[5]));
        assert_eq!(rarest_shared(&long, &freqs, &[100, 200]), None);
        assert_eq!(rarest_shared(&[], &[], &long), None);
    }

    /// `fuzzy_tokens_level` of two names as text (split as `Comparer::name` splits them).
    fn fuzzy_name_level(fa: &str, fb: &str, t: Thresholds, freq: u32, shortcuts: bool) -> Level {
        let first_tokens = |s| {
            let mut out = [""; NAME_TOKENS];
            let (n, _) = crate::normalize::name::split_tokens(s, &mut out);
            (out, n)
        };
        let ((ta, na), (tb, nb)) = (first_tokens(fa), first_tokens(fb));
        fuzzy_tokens_level(&ta[..na], &tb[..nb], t, freq, shortcuts)
    }

    /// The packed fields a comparison reads are the columns' values, before and after the columns change
    /// (an agency's member stops being an entity account; more accounts are appended).
    #[test]
    fn packed_facts_are_the_columns() {
        use crate::record::Facts;
        let rows: Vec<Vec<(usize, &str)>> = vec![
            vec![
                (col::FULL_NAME, "Ann Lee"),
                (col::STATUS, "banned"),
                (col::CREATED_AT, "2024-01-02"),
                (col::DATE_OF_BIRTH, "1990-05-06"),
                (col::BUSINESS_NAME, "Orbit Media LLC"),
                (col::ACCOUNT_TYPE, "agency"),
            ],
            vec![
                (col::FULL_NAME, "Omar Haddad"),
                (col::STATUS, "active"),
                (col::BUSINESS_NAME, "Orbit Media"),
                (col::ACCOUNT_TYPE, "freelancer"),
            ],
            vec![
                (col::FULL_NAME, "Bo Li"),
                (col::CREATED_AT, "2025-03-04"),
                (col::DATE_OF_BIRTH, "1985-12-01"),
            ],
        ];
        let columns = |acc: &Accounts| -> Vec<Facts> {
            (0..acc.len())
                .map(|i| Facts {
                    created: acc.created[i],
                    dob: acc.dob[i],
                    status: acc.status[i],
                    entity: acc.entity[i],
                })
                .collect()
        };
        let packed =
            |acc: &Accounts| -> Vec<Facts> { (0..acc.len()).map(|i| acc.facts(i)).collect() };
        // Without the agency first: its member's business name is an entity's.
        let mut acc = test_accounts(&rows[1..]);
        acc.pack_facts();
        let first = packed(&acc);
        assert_eq!(first, columns(&acc));
        assert!(first[0].entity && first[1].dob != 0 && first[0].created != first[1].created);
        acc.extend(test_accounts(&rows[..1]));
        assert_eq!(packed(&acc), columns(&acc));
        acc.pack_facts();
        acc.mark_agency_members();
        assert!(!acc.entity[0], "an agency's member is no entity account");
        assert_eq!(packed(&acc), columns(&acc));
        acc.pack_facts();
        let last = packed(&acc);
        assert_eq!(last, columns(&acc));
        assert!(last[2].status.is_sanctioned() && !last[0].entity);
    }

    /// The name level's shortcuts (`bounded_name_level`) against the full computation, on names drawn from
    /// tokens that are equal, spelt a little differently, nicknames or unrelated, with characters the counted
    /// bound does not take (a hyphen, an apostrophe, accents), more tokens than count, and thresholds from the
    /// defaults to far apart or equal. The draws must reach both shortcuts and the computation.
    #[test]
    fn name_level_shortcuts_are_the_full_computation() {
        use rand::{RngExt, SeedableRng};
        const WORDS: [&str; 20] = [
            "john", "jon", "johnny", "jhon", "smith", "smyth", "smit", "maria", "marie", "mario",
            "lee", "li", "ann", "anne", "anna", "doe", "o'neil", "oneil", "zoë", "jean-luc",
        ];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let (mut different, mut partial, mut computed) = (0, 0, 0);
        let thresholds = [
            (0.92, 0.84),
            (0.9, 0.5),
            (0.8, 0.8),
            (1.0, 0.95),
            (0.7, 0.6),
        ];
        for k in 0..60_000 {
            let name = |rng: &mut rand_chacha::ChaCha8Rng| {
                let n = if k % 50 == 0 {
                    10
                } else {
                    rng.random_range(1..=4)
                };
                let mut toks: Vec<&str> = (0..n)
                    .map(|_| WORDS[rng.random_range(0..WORDS.len())])
                    .collect();
                toks.sort_unstable();
                toks.join(" ")
            };
            let (a, b) = (name(&mut rng), name(&mut rng));
            let (high, mid) = thresholds[k % thresholds.len()];
            let t = Thresholds { high, mid };
            let full = fuzzy_name_level(&a, &b, t, 3, false);
            assert_eq!(
                fuzzy_name_level(&a, &b, t, 3, true),
                full,
                "{a} / {b} at {high}, {mid}"
            );
            let ta: Vec<&str> = a.split(' ').take(NAME_TOKENS).collect();
            let tb: Vec<&str> = b.split(' ').take(NAME_TOKENS).collect();
            match bounded_name_level(&ta, &tb, t) {
                Some(Level::Different) => different += 1,
                Some(Level::Partial) => partial += 1,
                Some(other) => panic!("a shortcut gave {other:?}"),
                None => computed += 1,
            }
        }
        assert!(
            different > 1000 && partial > 1000 && computed > 1000,
            "{different} {partial} {computed}"
        );
    }

    #[test]
    fn bound_cache_computes_each_input_once_and_never_mixes_them() {
        let every_presence = every_presence();
        let mut cache = BoundCache::default();
        let calls = std::cell::Cell::new(0);
        let compute = |x: BoundInputs| {
            calls.set(calls.get() + 1);
            f64::from(x.shared) + f64::from(x.present) / 65536.0
        };
        let inputs: Vec<BoundInputs> = (0..10_000u16)
            .map(|k| BoundInputs {
                shared: k,
                present: every_presence & k.wrapping_mul(7),
                ..plain_inputs()
            })
            .collect();
        // More inputs than entries: collisions evict, and every answer is still its own input's.
        for x in inputs.iter().chain(&inputs) {
            assert_eq!(cache.bound(*x, compute), compute(*x));
        }
        calls.set(0);
        assert_eq!(cache.bound(inputs[9_999], compute), compute(inputs[9_999]));
        assert_eq!(calls.get(), 1, "the last input was remembered");
    }

    /// Inputs with nothing shared, present or compared (but an absent email).
    fn plain_inputs() -> BoundInputs {
        BoundInputs {
            shared: 0,
            present: 0,
            business: false,
            bids: false,
            seen: [Seen::NotCompared, Seen::At(None)],
            dob: None,
            evasion: false,
            network: false,
            ip: Seen::NotCompared,
        }
    }

    /// The presence bits of every `PRESENCE` signal: all a pair's `present` can hold.
    fn every_presence() -> u16 {
        PRESENCE.iter().fold(0, |m, (_, s)| m | 1 << *s as u16)
    }

    #[test]
    fn bound_inputs_survive_packing() {
        let all_bits = BoundInputs {
            shared: u16::MAX,
            present: every_presence(),
            business: true,
            bids: true,
            seen: [
                Seen::At(Some(Key::FuzzyMid)),
                Seen::At(Some(Key::Handle(7))),
            ],
            dob: Some(Key::Exact(3)),
            evasion: true,
            network: true,
            ip: Seen::At(Some(Key::Prefix(7))),
        };
        let none = plain_inputs();
        let mixed = BoundInputs {
            seen: [Seen::At(Some(Key::Different)), Seen::NotCompared],
            dob: Some(Key::YearClose),
            bids: true,
            ..none
        };
        let network = BoundInputs {
            present: 1 << Signal::Ip as u16 | 1 << Signal::Business as u16,
            ..mixed
        }
        .on_network(Seen::At(Some(Key::Exact(0))))
        .with_email(Seen::At(Some(Key::Exact(1))));
        for x in [
            all_bits,
            none,
            mixed,
            mixed.with_name(Seen::At(None)),
            network,
        ] {
            assert_eq!(BoundInputs::unpack(x.pack()), x, "{x:?}");
        }
        assert_ne!(all_bits.pack(), none.pack());
        // Every state of every level slot, beside the highest of the others: each comes back, none spills
        // into a neighbour, and the empty slot of `BoundCache` is never a packing.
        let states: Vec<Seen> = [Seen::NotCompared, Seen::At(None)]
            .into_iter()
            .chain((0..model::KEYS).map(|k| Seen::At(Some(Key::from_index(k)))))
            .collect();
        let mut inputs = Vec::new();
        for &st in &states {
            let dob = match st {
                Seen::At(k) => k,
                Seen::NotCompared => continue,
            };
            for x in [
                all_bits.with_name(st),
                all_bits.with_email(st),
                BoundInputs { dob, ..all_bits },
                all_bits.on_network(st),
                none.with_name(st),
                BoundInputs { dob, ..none },
            ] {
                assert_eq!(BoundInputs::unpack(x.pack()), x, "{x:?}");
                assert_ne!(x.pack(), u64::MAX);
                inputs.push(x);
            }
        }
        for x in &inputs {
            for y in &inputs {
                assert_eq!(x == y, x.pack() == y.pack(), "{x:?} {y:?}");
            }
        }
        assert_eq!(
            mixed.with_name(Seen::At(None)).seen,
            [Seen::At(None), Seen::NotCompared]
        );
    }

    /// Accounts from (full_name, email, status, created_at) rows.
    fn accounts(rows: &[(&str, &str, &str, &str)]) -> Accounts {
        let rows: Vec<Vec<(usize, &str)>> = rows
            .iter()
            .map(|&(n, e, s, c)| {
                vec![
                    (col::FULL_NAME, n),
                    (col::EMAIL, e),
                    (col::STATUS, s),
                    (col::CREATED_AT, c),
                ]
            })
            .collect();
        test_accounts(&rows)
    }

    /// An address whose every shared range is a crowd is a pool address: it counts as the range, and places
    /// nobody in a home; an address in a range of a few is the same address.
    #[test]
    fn a_pool_address_counts_as_its_range() {
        let ips = [
            "203.0.113.5",
            "203.0.113.5",
            "203.0.113.9",
            "198.51.100.7",
            "198.51.100.7",
        ];
        let rows: Vec<Vec<(usize, &str)>> = ips
            .iter()
            .map(|ip| vec![(col::FULL_NAME, "Ann Lee"), (col::IP_ADDRESSES, *ip)])
            .collect();
        let acc = test_accounts(&rows);
        let mut cfg = Config::default();
        cfg.blocking.max_block_size = 2;
        let c = Comparer::new(&acc, &cfg, Default::default());
        assert_eq!(
            c.ip(0, 1),
            Level::Prefix { freq: 3 },
            "the /24 is held by three"
        );
        assert_eq!(
            c.ip(3, 4),
            Level::Exact { freq: 2 },
            "the /24 is held by two"
        );
        cfg.blocking.max_block_size = 3;
        let c = Comparer::new(&acc, &cfg, Default::default());
        assert_eq!(c.ip(0, 1), Level::Exact { freq: 2 });
    }

    /// The IP level without a walk of the address lists when no range is shared is the level both walks give,
    /// for every pair of accounts with addresses, ranges or neither in common (IPv4 and IPv6, several each,
    /// one with none, one with only addresses that are not public), under caps that make the ranges crowds
    /// or not.
    #[test]
    fn handles_made_of_both_names_are_any_handle_in_common() {
        // (the name-made handles of two accounts, space-separated, whether they have one in common)
        let cases = [
            ("jsmith", "jsmith", true),
            ("jsmith", "jsmyth", false),
            ("", "", false),
            ("jsmith", "", false),
            ("", "jsmith", false),
            ("jsmith jdoe", "jdoe", true),
            ("jdoe", "annlee jdoe", true),
            ("annlee bobby", "bobbyx annlee", true),
            ("annlee bobby", "annle", false),
            ("annlee  bobby", "bobby", true),
        ];
        let rows: Vec<Vec<(usize, &str)>> =
            vec![vec![(col::FULL_NAME, "Ann Lee")]; 2 * cases.len()];
        let mut acc = test_accounts(&rows);
        acc.handles = Default::default();
        for (a, b, _) in cases {
            acc.handles.push(a);
            acc.handles.push(b);
        }
        // The handle strings as written here (the index was built from the rows' own).
        for (k, (a, b, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                acc.share_a_name_handle_by_text(2 * k, 2 * k + 1),
                want,
                "{a:?} {b:?}"
            );
            assert_eq!(
                acc.share_a_name_handle_by_text(2 * k + 1, 2 * k),
                want,
                "{b:?} {a:?}"
            );
        }
    }

    /// The index of name-made handles answers as the handle strings do, for every pair of accounts whose
    /// emails (and PayPal addresses) are made of their names or not, shared or not.
    #[test]
    fn name_handle_index_is_the_handle_strings() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let (firsts, lasts) = (
            ["John", "Jane", "Maria", "Wei"],
            ["Smith", "Garcia", "Zhang"],
        );
        let texts: Vec<(String, String, String)> = (0..160)
            .map(|_| {
                let (f, l) = (
                    firsts[rng.random_range(0..4)],
                    lasts[rng.random_range(0..3)],
                );
                let (fl, ll) = (f.to_lowercase(), l.to_lowercase());
                let handle = |r: u32| match r {
                    0 => format!("{fl}{ll}"),
                    1 => format!("{}{ll}", &fl[..1]),
                    2 => format!("{ll}{fl}"),
                    // John Smith's name-made handle, held by anyone: made of one side's name only.
                    3 => "johnsmith".to_string(),
                    _ => format!("shadow{}", r % 3),
                };
                let email = format!("{}@mail.com", handle(rng.random_range(0..7)));
                let paypal = format!("paypal:{}@pay.com", handle(rng.random_range(0..7)));
                (format!("{f} {l}"), email, paypal)
            })
            .collect();
        let rows: Vec<Vec<(usize, &str)>> = texts
            .iter()
            .map(|(n, e, p)| {
                vec![
                    (col::FULL_NAME, n.as_str()),
                    (col::EMAIL, e.as_str()),
                    (col::PAYMENT_METHODS, p.as_str()),
                ]
            })
            .collect();
        let acc = test_accounts(&rows);
        let mut shared = 0;
        for a in 0..acc.len() {
            for b in 0..acc.len() {
                let by_text = acc.share_a_name_handle_by_text(a, b);
                assert_eq!(acc.share_a_name_handle(a, b), by_text, "{a} {b}");
                shared += usize::from(by_text);
            }
        }
        assert!(shared > 500, "{shared}");
    }

    #[test]
    fn ip_level_is_the_level_of_both_walks() {
        let ips = [
            "203.0.113.5|198.51.100.7",
            "203.0.113.5",
            "203.0.113.9|2001:db8:1:2::5",
            "198.51.100.7|2001:db8:1:2::9",
            "2001:db8:1:2::5",
            "192.0.2.44",
            "",
            "10.0.0.1",
            "203.0.113.200|192.0.2.45|198.51.100.8",
        ];
        let rows: Vec<Vec<(usize, &str)>> = ips
            .iter()
            .map(|ip| vec![(col::FULL_NAME, "Ann Lee"), (col::IP_ADDRESSES, *ip)])
            .collect();
        let acc = test_accounts(&rows);
        let both_walks = |cap: usize, a: usize, b: usize| {
            let (ip, prefix) = (acc.signal(Signal::Ip), acc.signal(Signal::IpPrefix));
            let address = if ip.is_empty_at(a) || ip.is_empty_at(b) {
                Level::Missing
            } else {
                shared(ip, a, b).map_or(Level::Different, |freq| Level::Exact { freq })
            };
            match (address, shared(prefix, a, b)) {
                (Level::Exact { .. }, Some(freq)) if freq as usize > cap => Level::Prefix { freq },
                (Level::Different, Some(freq)) => Level::Prefix { freq },
                (l, _) => l,
            }
        };
        let mut seen = std::collections::BTreeSet::new();
        for cap in [2, 3, 100] {
            let mut cfg = Config::default();
            cfg.blocking.max_block_size = cap;
            let c = Comparer::new(&acc, &cfg, Default::default());
            for a in 0..acc.len() {
                for b in 0..acc.len() {
                    let want = both_walks(cap, a, b);
                    assert_eq!(c.ip(a, b), want, "accounts {a} and {b}, cap {cap}");
                    seen.insert(
                        format!("{want:?}")
                            .split([' ', '{'])
                            .next()
                            .map(str::to_string),
                    );
                }
            }
        }
        // Every level came up.
        assert_eq!(seen.len(), 4, "{seen:?}");
    }

    /// The memo's level is `Comparer::name`'s for every pair, met in any order, with more pairs of names than
    /// the table has slots (pairs evicted and met again), names equal, missing, and equal but typed otherwise.
    #[test]
    fn name_memo_gives_the_compared_level() {
        let first = [
            "John", "Jon", "Jane", "Joan", "Ivan", "Iwan", "Bob", "Robert", "Ann", "Anna", "",
        ];
        let last = [
            "Smith", "Smyth", "Lee", "Li", "Ivanov", "Ivanoff", "Jones", "",
        ];
        let mut names: Vec<String> = Vec::new();
        for (i, f) in first.iter().enumerate() {
            for (j, l) in last.iter().enumerate() {
                names.push(match (i + j) % 3 {
                    0 => format!("{f} {l}"),
                    1 => format!("{l}, {f}"),
                    _ => format!("{} {}", f.to_uppercase(), l),
                });
            }
        }
        // Each name twice: 176 accounts, 15,400 pairs (both orders) over 8,192 slots.
        let rows: Vec<Vec<(usize, &str)>> = names
            .iter()
            .chain(&names)
            .map(|n| vec![(col::FULL_NAME, n.as_str())])
            .collect();
        let acc = test_accounts(&rows);
        let cfg = Config::default();
        let c = Comparer::new(&acc, &cfg, Default::default());
        let mut memo = NameMemo::new();
        let n = acc.len();
        let mut stride_order: Vec<(usize, usize)> =
            (0..n * n).map(|k| (k % n, (k * 7 + 3) % n)).collect();
        stride_order.extend((0..n).flat_map(|a| (0..n).map(move |b| (a, b))));
        let mut levels = std::collections::BTreeSet::new();
        for (a, b) in stride_order {
            let want = c.name(a, b);
            assert_eq!(
                memo.level(&c, a, b),
                want,
                "{:?} / {:?}",
                names[a % names.len()],
                names[b % names.len()]
            );
            levels.insert(
                format!("{want:?}")
                    .split([' ', '{'])
                    .next()
                    .map(str::to_string),
            );
        }
        assert!(levels.len() >= 6, "{levels:?}");
    }

    /// `push_tenths` and `push_fixed` write what `format!("{:+.1}")` and `format!("{:.N}")` write: ties and
    /// near ties, signed zeros, huge and non-finite values, every hundredth over the weights' range, and a
    /// million random values.
    #[test]
    fn fixed_decimals_are_written_as_the_formatter_writes_them() {
        let mut values = vec![
            0.0,
            -0.0,
            0.05,
            -0.05,
            0.25,
            -0.25,
            0.35,
            0.45,
            1.25,
            2.5,
            99.95,
            -0.04,
            123456.75,
            1e15,
            1e20,
            -1e300,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for k in -20_000..=20_000 {
            let x = f64::from(k) / 100.0;
            values.extend([x, x + 1e-12, x - 1e-12, f64::from(k) / 20.0]);
        }
        let mut next = crate::testing::xorshift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..1_000_000 {
            let unit = (next() >> 11) as f64 / (1u64 << 53) as f64;
            values.push((unit - 0.5) * 400.0);
        }
        values.extend([
            1e8 + 0.05,
            123_456_789.987_654,
            999_999.999_95,
            0.000_05,
            0.999_95,
        ]);
        let mut out = String::new();
        for x in values {
            out.clear();
            push_tenths(&mut out, x);
            assert_eq!(out, format!("{x:+.1}"), "{x:e}");
            for d in [0, 2, 3, 4] {
                out.clear();
                push_fixed(&mut out, x, d, false);
                assert_eq!(out, format!("{x:.0$}", d as usize), "{x:e}, {d} decimals");
            }
        }
    }

    #[test]
    fn name_levels() {
        let cases: &[(&str, &str, &str)] = &[
            ("John Smith", "Smith, John", "exact"),
            ("Bob Jones", "Robert Jones", "formal"),
            ("John Q. Smith", "John Smith", "formal"),
            ("Jon Smith", "John Smith", "formal"),
            ("Bartholomew Smith", "Bartholonew Smith", "high"),
            ("Dmitrii Ivanov", "Dmitriy Ivanof", "formal"),
            ("Anna Maria Lopez", "Anna Lopez", "high"),
            ("Maria Lopez", "Carlos Lopez", "partial"),
            ("Jon Smith", "John Jones", "partial"),
            ("John Jones", "Jon Smith", "partial"),
            ("Wei Zhang", "Olga Petrova", "different"),
            ("", "Olga Petrova", "missing"),
        ];
        let cfg = Config::default();
        for (a, b, want) in cases {
            let acc = accounts(&[(a, "", "", ""), (b, "", "", "")]);
            let s = Comparer::new(&acc, &cfg, Default::default());
            let got = match s.compare(0, 1).name {
                Level::Exact { .. } => "exact",
                Level::Formal { .. } => "formal",
                Level::FuzzyHigh { .. } => "high",
                Level::FuzzyMid { .. } => "mid",
                Level::Partial => "partial",
                Level::Different => "different",
                Level::Missing => "missing",
                _ => "other",
            };
            assert_eq!(got, *want, "{a:?} vs {b:?}");
        }
    }

    /// Kept comparisons answer for exactly their own pair, in either order, and pairs not kept are still
    /// compared: every explanation and score is the one comparing the pair gives.
    #[test]
    fn kept_comparisons_explain_each_pair_as_comparing_it_would() {
        let acc = accounts(&[
            ("Viktor Orlov", "v.orlov@x.com", "banned", "2021-01-01"),
            ("Viktor Orlow", "vorlov@y.com", "active", "2022-01-01"),
            ("Ann Lee", "ann@z.com", "active", "2020-01-01"),
            ("Anne Lee", "ann@z.com", "active", "2020-02-01"),
            ("Bob Smith", "bob@w.com", "suspended", "2019-01-01"),
            ("Robert Smith", "rsmith@w.com", "active", "2023-01-01"),
        ]);
        let cfg = Config::default();
        let model = Model::defaults(&cfg, "test");
        let s = Scorer::new(&acc, &cfg, Default::default(), &model);
        let n = acc.len();
        let before: Vec<Vec<Explanation>> = (0..n)
            .map(|a| (0..n).map(|b| s.explain(a, b)).collect())
            .collect();
        let scores: Vec<Vec<(f64, Profile)>> = (0..n)
            .map(|a| (0..n).map(|b| s.score(a, b)).collect())
            .collect();
        // Kept in both orders, once twice; (4, 5) and every pair with 2 not kept.
        let kept = [(1, 0), (0, 3), (3, 1), (5, 0), (0, 5)];
        let scored: Vec<Scored> = kept
            .iter()
            .map(|&(a, b)| Scored { a, b, weight: 0.0 })
            .collect();
        s.keep_comparisons(&scored);
        assert_eq!(s.kept.get().map(|k| k.keys.len()), Some(4));
        for (a, row) in before.iter().enumerate() {
            for (b, ex) in row.iter().enumerate() {
                assert_eq!(&s.explain(a, b), ex, "pair ({a}, {b})");
                assert_eq!(s.score_kept(a, b), scores[a][b], "pair ({a}, {b})");
            }
        }
    }

    /// `Reviews::contains` is membership of the pair either way round, accounts past the last reviewed one
    /// included (the per-account bits only filter).
    #[test]
    fn reviews_contain_their_pairs_either_way_and_nothing_else() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let pairs: Vec<(u32, u32)> = (0..400)
            .map(|_| (rng.random_range(0..300u32), rng.random_range(0..300u32)))
            .filter(|(a, b)| a != b)
            .collect();
        let set: std::collections::HashSet<(u32, u32)> =
            pairs.iter().map(|&(a, b)| (a.min(b), a.max(b))).collect();
        let r = Reviews::of(&pairs);
        for a in 0..330u32 {
            for b in 0..330u32 {
                assert_eq!(
                    r.contains(a, b),
                    set.contains(&(a.min(b), a.max(b))),
                    "({a}, {b})"
                );
            }
        }
        assert!(!Reviews::of(&[]).contains(0, 1));
    }

    /// `evasion_pairs` counts what checking every pair with `evasion_direction` counts: sanctioned and
    /// active accounts, creation dates earlier, later, equal and unknown, on either side.
    #[test]
    fn evasion_pairs_are_the_pairs_evasion_direction_allows() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let statuses = ["banned", "suspended", "active", "closed"];
        let dates = ["", "2020-01-01", "2021-06-15", "2022-03-03", "2023-12-31"];
        let rows: Vec<(String, &str, &str)> = (0..600)
            .map(|i| {
                let st = statuses[rng.random_range(0..statuses.len())];
                (
                    format!("Person {i}"),
                    st,
                    dates[rng.random_range(0..dates.len())],
                )
            })
            .collect();
        let rows: Vec<(&str, &str, &str, &str)> = rows
            .iter()
            .map(|(n, s, d)| (n.as_str(), "", *s, *d))
            .collect();
        let acc = accounts(&rows);
        let cfg = Config::default();
        let model = Model::defaults(&cfg, "test");
        let s = Scorer::new(&acc, &cfg, Default::default(), &model);
        let mut brute = 0u64;
        for a in 0..acc.len() {
            for b in a + 1..acc.len() {
                brute += u64::from(s.evasion_direction(a, b).is_some());
            }
        }
        assert!(brute > 10_000, "{brute}");
        assert_eq!(s.evasion_pairs(), brute as f64);
    }

    #[test]
    fn concealment_profile_applies_to_sanctioned_and_newer_only() {
        let acc = accounts(&[
            ("Viktor Orlov", "v@x.com", "banned", "2021-01-01"),
            ("Sam Porter", "s@y.com", "active", "2022-01-01"),
            ("Old Timer", "o@z.com", "active", "2020-01-01"),
        ]);
        let cfg = Config::default();
        let model = Model::defaults(&cfg, "test");
        let s = Scorer::new(&acc, &cfg, Default::default(), &model);
        assert_eq!(s.evasion_direction(0, 1), Some((0, 1)));
        assert_eq!(s.evasion_direction(1, 0), Some((0, 1)));
        assert_eq!(
            s.evasion_direction(0, 2),
            None,
            "older accounts are not evaders"
        );
        assert_eq!(s.evasion_direction(1, 2), None);
        assert!(
            (s.evasion_pairs() - 1.0).abs() < 1e-9,
            "banned × the newer account"
        );
        // Without an estimated concealment model, differences weigh nothing under the evasion profile (the
        // documented rule), so the pair scores the prior.
        let ex = s.explain(0, 1);
        assert_eq!(ex.profile, Profile::Evasion);
        assert_eq!(ex.profile.as_str(), "concealment");
        assert!((ex.weight - ex.prior).abs() < 1e-9, "{ex:?}");
    }

    #[test]
    fn business_names_are_compared_between_entity_accounts_only() {
        let rows = [
            ("Nadia Petrova", "Petrova Analytics Ltd", "freelancer"),
            ("Ivan Petrov", "Petrova Analytics", "client"),
            ("Omar Haddad", "Petrova Analytics", "freelancer"),
            ("Lena Fischer", "Petrova Analytic", "freelancer"),
            ("Lena Fischer", "Kettle Works GmbH", "freelancer"),
            ("Nadia Petrova", "", "freelancer"),
            ("John Smith", "John Smith LLC", "freelancer"),
            ("John Smith", "Smith John Ltd", "client"),
            ("Mary Jones", "Mary Jones", "freelancer"),
            ("Mary Jones", "Mary Jones", "client"),
            ("Ruth Adler", "Orbit Media LLC", "agency"),
            ("Omar Haddad", "Orbit Media", "freelancer"),
        ];
        let rows: Vec<Vec<(usize, &str)>> = rows
            .iter()
            .map(|&(n, b, t)| {
                vec![
                    (col::FULL_NAME, n),
                    (col::BUSINESS_NAME, b),
                    (col::ACCOUNT_TYPE, t),
                ]
            })
            .collect();
        let acc = test_accounts(&rows);
        let cfg = Config::default();
        let s = Comparer::new(&acc, &cfg, Default::default());
        let lv = |a: usize, b: usize| s.compare(a, b).business;
        assert_eq!(lv(0, 1), Level::Exact { freq: 3 }, "legal form dropped");
        assert!(
            matches!(lv(0, 3), Level::FuzzyHigh { .. }),
            "{:?}",
            lv(0, 3)
        );
        assert_eq!(lv(0, 4), Level::Different);
        assert_eq!(
            lv(0, 5),
            Level::Missing,
            "a personal account has no business"
        );
        // The owner's own name as the business agrees exactly when the names do: counted once, as the name.
        assert_eq!(lv(6, 7), Level::Missing);
        // A business field holding the person's own name (no legal form) is a person, not an entity.
        assert!(!acc.entity[8] && !acc.entity[9]);
        assert_eq!(lv(8, 9), Level::Missing);
        // The agency's name on a member account names the employer: Orbit Media members are not entities.
        assert!(!acc.entity[11] && !acc.entity[10]);
        assert!(acc.entity[0] && acc.entity[2] && acc.entity[6]);
    }

    #[test]
    fn typos_in_birth_dates_and_document_numbers_are_near() {
        let rows = [
            ("1963-12-13", "9807797"),
            ("1963-12-31", "9897797"),
            ("1963-13-12", "9807797"),
            ("1963-12-13", "4728191"),
            ("1971-02-14", "98077"),
            ("1963-12-13", "98076"),
            ("1964-07-30", ""),
        ];
        let rows: Vec<Vec<(usize, &str)>> = rows
            .iter()
            .map(|&(d, i)| vec![(col::DATE_OF_BIRTH, d), (col::ID_DOCUMENT_HASH, i)])
            .collect();
        let acc = test_accounts(&rows);
        let cfg = Config::default();
        let s = Comparer::new(&acc, &cfg, Default::default());
        let lv = |a: usize, b: usize| {
            let c = s.compare(a, b);
            (c.id_document, c.date_of_birth)
        };
        // One digit transposed in the document, two digits transposed in the day.
        assert_eq!(lv(0, 1), (Level::Near, Level::Near));
        // Row 2's birth date is impossible (month 13): kept as a typo, here day and month swapped.
        assert!(matches!(lv(0, 2), (Level::Exact { .. }, Level::Near)));
        assert_eq!(lv(0, 3), (Level::Different, Level::Exact { freq: 3 }));
        // Short values never count as near; dates far apart are different, a year apart close.
        assert_eq!(lv(4, 5), (Level::Different, Level::Different));
        assert_eq!(lv(0, 6), (Level::Missing, Level::YearClose));
        assert!(dob_near(19_631_213, 19_631_231) && dob_near(19_631_213, 19_631_203));
        assert!(dob_near(19_630_102, 19_630_201), "day and month swapped");
        assert!(!dob_near(19_631_213, 19_641_214) && !dob_near(19_631_213, 19_900_101));
        let model = Model::defaults(&cfg, "test");
        let w = |l| model.level_weight(Field::DateOfBirth, Context::Plain, l);
        assert!(w(Level::Near) > w(Level::Different));
        assert!(w(Level::YearClose) > w(Level::Different));
    }

    #[test]
    fn dob_near_filter_never_rejects_a_near_pair() {
        // The filter is a necessary condition: with it or without it, the same answer. Random dates, dates one
        // digit or one transposition apart, day and month swapped, and numbers past eight digits.
        let reference = |x: u32, y: u32| day_month_swapped(x) == y || near_by_digits(x, y);
        let mut below = crate::testing::below(0x0d0b);
        let mut near = 0;
        for k in 0..400_000u32 {
            let x = match k % 97 {
                0 => 100_000_000 + below(4_000_000_000) as u32,
                _ => 18_000_000 + below(4_000_000) as u32,
            };
            let pos = below(8) as u32;
            let p = 10u32.pow(pos);
            let digit = (x / p) % 10;
            let y = match k % 5 {
                0 => x - digit * p + below(10) as u32 * p,
                1 if pos < 7 => {
                    let next = (x / (p * 10)) % 10;
                    x - digit * p - next * p * 10 + next * p + digit * p * 10
                }
                2 => day_month_swapped(x),
                3 => below(4_000_000_000) as u32,
                _ => 18_000_000 + below(4_000_000) as u32,
            };
            let got = dob_near(x, y);
            assert_eq!(got, reference(x, y), "{x} {y}");
            assert_eq!(dob_near(y, x), reference(y, x), "{y} {x}");
            near += usize::from(got);
        }
        // The generated cases are mostly near ones: the test sees both answers.
        assert!(near > 150_000 && near < 300_000, "{near}");
    }

    #[test]
    fn probability_is_logistic_in_bits() {
        assert!((probability(0.0) - 0.5).abs() < 1e-12);
        assert!((probability(1.0) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(probability(5000.0), 1.0);
        assert!(probability(-5000.0) < 1e-300);
    }
}

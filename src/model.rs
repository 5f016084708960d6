//! The match model: for every signal, comparison context and comparison level, m (the probability of that
//! level among pairs of one person), u (among pairs of two different people) and the match weight
//! log2(m/u), plus the prior λ (the probability that two accounts drawn at random are one person). A model is
//! either estimated from the export being scanned (see `estimate`) or, when the data are too few, made from the
//! documented defaults. It is saved as `model.json` and can be applied to another run (`run --model`).
//!
//! Levels on a shared value are split by the value's frequency class (`Key::Exact(bucket)`): a value held by
//! 2 accounts and one held by 500 are different levels with their own m and u, which is how term frequencies
//! enter the model. Two signals are modelled given another, because they are not independent: the email
//! (its handle is often built from the name) given whether the names are equal, and the IP address given
//! whether a card or device is shared (people who share a card share a network).

use serde::{Deserialize, Serialize};

use crate::config::{Config, MU};
use crate::error::{Error, Result};
use crate::score::{Comparison, Field, Level};

/// Upper bounds of the frequency classes of a shared value (accounts holding it).
pub const BUCKET_UPPER: [u32; 8] = [2, 3, 5, 10, 30, 100, 1000, u32::MAX];
pub const BUCKETS: usize = BUCKET_UPPER.len();

/// The frequency class of a value held by `freq` accounts.
pub fn bucket(freq: u32) -> u8 {
    BUCKET_UPPER
        .iter()
        .position(|&u| freq <= u)
        .unwrap_or(BUCKETS - 1) as u8
}

/// The smallest frequency of a class.
pub fn bucket_lower(b: u8) -> u32 {
    if b == 0 {
        2
    } else {
        BUCKET_UPPER[b as usize - 1] + 1
    }
}

/// `k=2`, `k=4-5`, `k>1000`: a frequency class as people read it.
pub fn bucket_text(b: u8) -> String {
    let (lo, hi) = (bucket_lower(b), BUCKET_UPPER[b as usize]);
    if hi == u32::MAX {
        format!("k>{}", lo - 1)
    } else if lo == hi {
        format!("k={lo}")
    } else {
        format!("k={lo}-{hi}")
    }
}

/// A comparison level as the model knows it: the level without its display details, the frequency folded
/// into a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// The same value, held by accounts in this frequency class.
    Exact(u8),
    /// Names equal after folding nicknames and dropping initials; `common` when either name is held by more
    /// than two accounts.
    Formal {
        common: bool,
    },
    FuzzyHigh {
        common: bool,
    },
    FuzzyMid,
    Partial,
    /// A keying error: one character or digit off, two transposed, day and month swapped.
    Near,
    /// Birth years at most one apart (and not a keying error).
    YearClose,
    Handle(u8),
    Prefix(u8),
    Different,
    /// A shared handle made of both accounts' own names: it repeats the names, and weighs nothing.
    NameHandle,
    /// Jobs both accounts bid on within minutes of each other: `many` from `bids.many_jobs` on.
    CoBid {
        many: bool,
    },
}

/// Jobs bid on by both accounts within minutes from which co-bidding is `many`: one such job happens to
/// competitors watching the same feed; three make a habit.
pub const MANY_CO_BIDS: u32 = 3;

/// Behavioural evidence (co-bidding) moves a pair at most this share of the way from the prior to even odds:
/// competitors bid on the same jobs all day, so it can support identity evidence but never links alone.
pub const BEHAVIOUR_SHARE: f64 = 0.5;

/// Number of distinct key indices.
pub const KEYS: usize = 36;

impl Key {
    pub fn index(self) -> usize {
        match self {
            Key::Exact(b) => b as usize,
            Key::Formal { common } => 8 + common as usize,
            Key::FuzzyHigh { common } => 10 + common as usize,
            Key::FuzzyMid => 12,
            Key::Partial => 13,
            Key::Near => 14,
            Key::YearClose => 15,
            Key::Handle(b) => 16 + b as usize,
            Key::Prefix(b) => 24 + b as usize,
            Key::Different => 32,
            Key::NameHandle => 33,
            Key::CoBid { many } => 34 + many as usize,
        }
    }

    pub fn from_index(i: usize) -> Key {
        match i {
            0..=7 => Key::Exact(i as u8),
            8 | 9 => Key::Formal { common: i == 9 },
            10 | 11 => Key::FuzzyHigh { common: i == 11 },
            12 => Key::FuzzyMid,
            13 => Key::Partial,
            14 => Key::Near,
            15 => Key::YearClose,
            16..=23 => Key::Handle((i - 16) as u8),
            24..=31 => Key::Prefix((i - 24) as u8),
            33 => Key::NameHandle,
            34 | 35 => Key::CoBid { many: i == 35 },
            _ => Key::Different,
        }
    }

    pub fn name(self) -> String {
        let common = |c: bool| if c { "common" } else { "rare" };
        match self {
            Key::Exact(b) => format!("exact[{}]", bucket_text(b)),
            Key::Formal { common: c } => format!("nickname_or_initials[{}]", common(c)),
            Key::FuzzyHigh { common: c } => format!("fuzzy_high[{}]", common(c)),
            Key::FuzzyMid => "fuzzy_mid".into(),
            Key::Partial => "one_part_shared".into(),
            Key::Near => "keying_error".into(),
            Key::YearClose => "year_within_one".into(),
            Key::Handle(b) => format!("same_handle[{}]", bucket_text(b)),
            Key::Prefix(b) => format!("same_prefix[{}]", bucket_text(b)),
            Key::Different => "different".into(),
            Key::NameHandle => "same_handle_made_of_both_names".into(),
            Key::CoBid { many: false } => "same_jobs_within_minutes[few]".into(),
            Key::CoBid { many: true } => "same_jobs_within_minutes[many]".into(),
        }
    }

    /// The frequency class of a shared-value level.
    pub fn bucket(self) -> Option<u8> {
        match self {
            Key::Exact(b) | Key::Handle(b) | Key::Prefix(b) => Some(b),
            _ => None,
        }
    }

    /// Sharing a value is never evidence against a match.
    pub fn is_shared_value(self) -> bool {
        self.bucket().is_some()
    }

    /// Every level but `Different` says the two values agree to some degree.
    pub fn is_agreement(self) -> bool {
        !matches!(
            self,
            Key::Different | Key::Partial | Key::FuzzyMid | Key::NameHandle
        )
    }
}

/// Whether a signal is compared on its own or given another signal's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Plain = 0,
    /// Email: the names are equal. Name: the accounts are co-located. Device: a card is shared. IP: a card or
    /// a device is shared.
    Given = 1,
    /// Email only: the names resemble without being equal, or the accounts are co-located.
    Related = 2,
}

/// Contexts a signal can have at most.
pub const CONTEXTS: usize = 3;

impl Context {
    pub fn name(self, field: Field) -> &'static str {
        match (field, self) {
            (_, Context::Plain) => "-",
            (Field::Email, Context::Given) => "given_same_name",
            (Field::Email, Context::Related) => "given_similar_names_or_colocated",
            (Field::Ip, Context::Given) => "given_card_or_device_shared",
            (Field::Address, Context::Given) => "given_card_device_or_network_shared",
            (Field::Name, Context::Given) => "given_colocated",
            (Field::Device, Context::Given) => "given_card_shared",
            (_, Context::Given) => "given",
            (_, Context::Related) => "related",
        }
    }
}

/// The levels a signal can take (missing is not a level: it weighs nothing).
pub fn keys_of(field: Field) -> Vec<Key> {
    let exact = (0..BUCKETS as u8).map(Key::Exact);
    let mut v: Vec<Key> = match field {
        Field::Review => vec![Key::Exact(0)],
        Field::Bids => vec![Key::CoBid { many: false }, Key::CoBid { many: true }],
        _ => exact.collect(),
    };
    match field {
        Field::IdDocument | Field::Phone | Field::Address => v.push(Key::Near),
        Field::Email => {
            v.extend((0..BUCKETS as u8).map(Key::Handle));
            v.push(Key::NameHandle);
        }
        Field::Name => v.extend([
            Key::Formal { common: false },
            Key::Formal { common: true },
            Key::FuzzyHigh { common: false },
            Key::FuzzyHigh { common: true },
            Key::FuzzyMid,
            Key::Partial,
        ]),
        Field::DateOfBirth => v.extend([Key::Near, Key::YearClose]),
        Field::Business => v.extend([
            Key::FuzzyHigh { common: false },
            Key::FuzzyHigh { common: true },
        ]),
        Field::Ip => v.extend((0..BUCKETS as u8).map(Key::Prefix)),
        _ => {}
    }
    v.push(Key::Different);
    v
}

/// The contexts a signal is modelled in.
pub fn contexts_of(field: Field) -> &'static [Context] {
    match field {
        Field::Email => &[Context::Plain, Context::Given, Context::Related],
        Field::Ip | Field::Address | Field::Name | Field::Device => {
            &[Context::Plain, Context::Given]
        }
        _ => &[Context::Plain],
    }
}

/// A name's commonness for the fuzzy levels: held by more accounts than the two being compared.
fn common(freq: u32) -> bool {
    freq > 2
}

/// The model's key of a level; `None` when the signal is missing on either account.
pub fn key_of(level: Level) -> Option<Key> {
    Some(match level {
        Level::Missing => return None,
        Level::Exact { freq } => Key::Exact(bucket(freq)),
        Level::Formal { freq } => Key::Formal {
            common: common(freq),
        },
        Level::FuzzyHigh { freq, .. } => Key::FuzzyHigh {
            common: common(freq),
        },
        Level::FuzzyMid { .. } => Key::FuzzyMid,
        Level::Partial => Key::Partial,
        Level::Near => Key::Near,
        Level::YearClose => Key::YearClose,
        Level::Handle {
            from_names: true, ..
        } => Key::NameHandle,
        Level::Handle { freq, .. } => Key::Handle(bucket(freq)),
        Level::Prefix { freq } => Key::Prefix(bucket(freq)),
        Level::CoBid { jobs } => Key::CoBid {
            many: jobs >= MANY_CO_BIDS,
        },
        Level::Different => Key::Different,
    })
}

/// A card, device or IP address held by at most this many accounts places two accounts together (a home,
/// an office); one held by more is a crowd (carrier NAT, a VPN exit, a public terminal).
pub const COLOCATED_MAX: u32 = 100;

/// Whether two accounts share a card, a device, an IP address or a postal address that is not a crowd's.
pub fn colocated(c: &Comparison) -> bool {
    [c.payment, c.device, c.ip, c.address]
        .iter()
        .any(|l| matches!(l, Level::Exact { freq } if *freq <= COLOCATED_MAX))
}

/// Names that resemble each other at all (equal, nickname or spelling variant, fuzzy, one part shared): a
/// handle is built from the name, so namesakes and relatives share handles by construction (`jsmith` for
/// John and Jane Smith).
pub fn names_resemble(l: Level) -> bool {
    !matches!(l, Level::Different | Level::Missing)
}

/// A network held by at most this many accounts is a home or a small office; a coworking space, a campus or a
/// carrier holds more.
pub const HOUSEHOLD_NETWORK_MAX: u32 = 10;

/// Whether two accounts share a home or an office, from the pair's slots: a card or a device (not a crowd's),
/// or a network held by at most `HOUSEHOLD_NETWORK_MAX` accounts. Who shares that with a sanctioned account is
/// an associate unless the model calls them the same person. The frequency classes end at `COLOCATED_MAX`
/// (100) and at `HOUSEHOLD_NETWORK_MAX` (10), so the class of a shared value says which side it is on.
pub fn slots_share_a_home(slots: &crate::score::Slots) -> bool {
    home_size(slots).is_some()
}

/// The size class of the home two accounts share: the smallest frequency class among the card, device,
/// network and address values that place them together (`slots_share_a_home`); `None` when none does.
/// A home of two shares a card, a network and an address of two; an office of ten shares them all of ten.
pub fn home_size(slots: &crate::score::Slots) -> Option<u8> {
    let class_within = |f: Field, max: u32| {
        slots[f as usize].and_then(|s| match Key::from_index(s as usize % KEYS) {
            Key::Exact(b) if BUCKET_UPPER[b as usize] <= max => Some(b),
            _ => None,
        })
    };
    [
        class_within(Field::Payment, COLOCATED_MAX),
        class_within(Field::Device, COLOCATED_MAX),
        class_within(Field::Ip, HOUSEHOLD_NETWORK_MAX),
        class_within(Field::Address, HOUSEHOLD_NETWORK_MAX),
    ]
    .into_iter()
    .flatten()
    .min()
}

/// The context a signal of a compared pair is in.
pub fn context_of(field: Field, c: &Comparison) -> Context {
    match field {
        Field::Name if colocated(c) => Context::Given,
        Field::Device if matches!(c.payment, Level::Exact { freq } if freq <= COLOCATED_MAX) => {
            Context::Given
        }
        Field::Email if matches!(c.name, Level::Exact { .. }) => Context::Given,
        Field::Email if names_resemble(c.name) || colocated(c) => Context::Related,
        Field::Ip
            if matches!(c.payment, Level::Exact { .. })
                || matches!(c.device, Level::Exact { .. }) =>
        {
            Context::Given
        }
        // A home is one piece of evidence: the address given a shared card, device or home-size network (a
        // family shares all of them; its address adds nothing to its network). A crowd's network (a
        // coworking space, carrier NAT) says nothing about a home.
        Field::Address
            if matches!(c.payment, Level::Exact { freq } if freq <= COLOCATED_MAX)
                || matches!(c.device, Level::Exact { freq } if freq <= COLOCATED_MAX)
                || matches!(c.ip, Level::Exact { freq } if freq <= HOUSEHOLD_NETWORK_MAX) =>
        {
            Context::Given
        }
        _ => Context::Plain,
    }
}

/// Whether a level of a signal loses its weight under the concealment profile: a difference (different,
/// one part shared, a weak fuzzy match) in a signal the config calls concealable — except a name that shares
/// one part between co-located accounts, which is the household pattern (a relative), not a disguise.
pub fn concealable(cfg: &Config, field: Field, ctx: Context, key: Key) -> bool {
    let difference = matches!(key, Key::Different | Key::Partial | Key::FuzzyMid);
    let household = field == Field::Name && ctx == Context::Given && key == Key::Partial;
    difference && !household && cfg.scoring.concealable.iter().any(|s| s == field.as_str())
}

/// Whether a signal weighs nothing at all under the concealment profile: the postal address. The question
/// there is "the sanctioned person, or someone who lives with them?", and a home is shared by both by
/// construction (a spouse on the family card at the same address looks like an evader who kept the flat); a
/// typed address is also easy to change. It still places the accounts together (`colocated`), so an
/// associate is found.
pub fn neutral_under_concealment(field: Field) -> bool {
    field == Field::Address
}

/// Per slot, whether it is concealable (`concealable`).
pub fn concealable_slots(cfg: &Config) -> Vec<bool> {
    let mut out = vec![false; SLOTS];
    for (f, c, k) in all_slots() {
        out[slot(f, c, k)] = concealable(cfg, f, c, k);
    }
    out
}

/// A slot's weight under the concealment profile, given `concealable_slots`.
pub fn concealed_weight(w: f64, field: Field, concealable: bool) -> f64 {
    if neutral_under_concealment(field) {
        0.0
    } else if concealable {
        w.max(0.0)
    } else {
        w
    }
}

/// Index of a (signal, context, level) in the dense weight table.
pub fn slot(field: Field, ctx: Context, key: Key) -> usize {
    (field as usize * CONTEXTS + ctx as usize) * KEYS + key.index()
}

pub const SLOTS: usize = Field::ALL.len() * CONTEXTS * KEYS;

/// The slot of each signal of a compared pair (`None`: missing).
pub fn slots(c: &Comparison) -> [Option<u16>; Field::ALL.len()] {
    let mut out = [None; Field::ALL.len()];
    for (k, f) in Field::ALL.iter().enumerate() {
        out[k] = key_of(c.get(*f)).map(|key| slot(*f, context_of(*f, c), key) as u16);
    }
    out
}

/// One row of the model: a level of a signal in a context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Param {
    pub signal: String,
    pub context: String,
    pub level: String,
    pub m: f64,
    pub u: f64,
    /// The weight used: log2(m/u) after the guards (see README).
    pub weight: f64,
    /// How m and u were obtained.
    pub m_from: String,
    pub u_from: String,
}

/// What the EM run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmInfo {
    pub iterations: u32,
    pub converged: bool,
    /// Largest parameter change in the last iteration.
    pub last_change: f64,
    /// Distinct comparison patterns among the candidates (EM runs over these, with counts).
    pub patterns: u64,
    /// Expected number of matching pairs among the candidates.
    pub expected_matches: f64,
    pub log_likelihood: f64,
}

/// A fitted (or default) model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// `estimated` (EM on this export), `defaults` (documented values) or `loaded` (from `--model`).
    pub method: String,
    /// Why this method: the reason defaults were used, or how the estimate was made.
    pub note: String,
    pub accounts: u64,
    /// Candidate pairs the model counted: each sampled network-only pair counts for the pairs it stands for
    /// (`block::Weights`), so this can exceed the candidates compared (`summary.json`'s blocking).
    pub candidate_pairs: u64,
    /// Pairs the random sample for u compared.
    pub sample_pairs: u64,
    /// λ: for an estimated model, the probability that two random accounts are one person; for the defaults,
    /// that a candidate pair is.
    pub prior: f64,
    /// log2(λ / (1 − λ)): where every pair's weight starts.
    pub prior_bits: f64,
    pub em: Option<EmInfo>,
    pub params: Vec<Param>,
    /// How pairs with a reason to hide are weighed (see `conceal`); `None` when it could not be estimated
    /// (then `concealment_note` says why and the documented rule is used).
    #[serde(default)]
    pub concealment: Option<crate::conceal::Concealment>,
    /// Two people of one home or office, per home size, for every pair the match model weighs (see
    /// `conceal::Homes`); `None` when the export has no co-located pairs to learn it from, or for the defaults.
    #[serde(default)]
    pub households: Option<crate::conceal::Homes>,
    #[serde(default)]
    pub concealment_note: String,
    #[serde(skip)]
    weights: Vec<f64>,
}

/// Parameters by slot while a model is built.
#[derive(Debug, Clone)]
pub struct Table {
    pub m: Vec<f64>,
    pub u: Vec<f64>,
    pub m_from: Vec<&'static str>,
    pub u_from: Vec<&'static str>,
    /// Where u was counted among pairs (shared values, candidates in a context): how many pairs of different
    /// people it was counted among, so that a count can be corrected (`conceal` takes out the pairs it finds
    /// to be one person hiding). 0 where u came from the random sample or the defaults.
    pub u_pairs: Vec<f64>,
}

impl Table {
    pub fn new() -> Self {
        Table {
            m: vec![0.0; SLOTS],
            u: vec![0.0; SLOTS],
            m_from: vec![""; SLOTS],
            u_from: vec![""; SLOTS],
            u_pairs: vec![0.0; SLOTS],
        }
    }
}

impl Default for Table {
    fn default() -> Self {
        Self::new()
    }
}

/// Every (signal, context, level) the model has, in display order.
pub fn all_slots() -> impl Iterator<Item = (Field, Context, Key)> {
    Field::ALL.into_iter().flat_map(|f| {
        contexts_of(f)
            .iter()
            .flat_map(move |&c| keys_of(f).into_iter().map(move |k| (f, c, k)))
    })
}

/// Every slot with its names as model.json writes them: (slot, signal, context, level).
pub fn named_slots() -> impl Iterator<Item = (usize, String, String, String)> {
    all_slots().map(|(f, c, k)| {
        let names = (f.as_str().to_string(), c.name(f).to_string(), k.name());
        (slot(f, c, k), names.0, names.1, names.2)
    })
}

/// The documented default m/u of a level (also EM's starting point). Frequency classes divide the
/// level's Bayes factor by k−1 for the class's smallest k (of the k(k−1)/2 pairs holding a value, about k−1
/// involve any one account); a value shared by a crowd never counts against a match.
pub fn default_mu(cfg: &Config, field: Field, ctx: Context, key: Key) -> MU {
    let base = match (field, ctx, key) {
        // Given a shared card, a shared device is what families and offices do too; given co-location, a
        // name that shares one part (a surname) or none is what relatives and colleagues look like.
        (Field::Device, Context::Given, Key::Exact(_)) => MU { m: 0.45, u: 0.1 },
        (Field::Name, Context::Given, Key::Partial) => MU { m: 0.01, u: 0.5 },
        (Field::Name, Context::Given, Key::Different) => MU { m: 0.06, u: 0.45 },
        _ => default_mu_plain(cfg, field, ctx, key),
    };
    let discount = match key {
        Key::Exact(b) | Key::Handle(b) | Key::Prefix(b) => (bucket_lower(b) - 1) as f64,
        Key::Formal { common: true } | Key::FuzzyHigh { common: true } => 2.0,
        _ => 1.0,
    };
    MU {
        m: base.m,
        u: (base.u * discount).min(base.m.max(base.u)),
    }
}

/// The documented defaults of `Config::scoring.levels`, by level.
fn default_mu_plain(cfg: &Config, field: Field, ctx: Context, key: Key) -> MU {
    let l = &cfg.scoring.levels;
    match (field, key) {
        (Field::IdDocument, Key::Near) => l.id_document_near,
        (Field::IdDocument, Key::Different) => l.id_document_different,
        (Field::IdDocument, _) => l.id_document_exact,
        (Field::Email, Key::NameHandle) => MU { m: 0.5, u: 0.5 },
        (Field::Email, Key::Handle(_)) => l.email_handle,
        (Field::Email, Key::Different) => l.email_different,
        (Field::Email, _) => l.email_exact,
        (Field::Phone, Key::Different) => l.phone_different,
        (Field::Phone, Key::Near) => l.phone_national,
        (Field::Phone, _) => l.phone_exact,
        (Field::Payment, Key::Different) => l.payment_different,
        (Field::Payment, _) => l.payment_shared,
        (Field::Device, Key::Different) => l.device_different,
        (Field::Device, _) => l.device_shared,
        (Field::Name, Key::Exact(_)) => l.name_exact,
        (Field::Name, Key::Formal { .. }) => l.name_formal,
        (Field::Name, Key::FuzzyHigh { .. }) => l.name_fuzzy_high,
        (Field::Name, Key::FuzzyMid) => l.name_fuzzy_mid,
        (Field::Name, Key::Partial) => l.name_partial,
        (Field::Name, _) => l.name_different,
        (Field::DateOfBirth, Key::Near) => l.dob_near,
        (Field::DateOfBirth, Key::YearClose) => l.dob_year_close,
        (Field::DateOfBirth, Key::Different) => l.dob_different,
        (Field::DateOfBirth, _) => l.dob_exact,
        (Field::Address, Key::Different) => l.address_different,
        (Field::Address, _) if ctx == Context::Given => l.address_with_shared_instrument,
        (Field::Address, Key::Near) => l.address_building,
        (Field::Address, _) => l.address_exact,
        (Field::Ip, Key::Different) => l.ip_different,
        (Field::Ip, _) if ctx == Context::Given => l.ip_with_shared_instrument,
        (Field::Ip, Key::Prefix(_)) => l.ip_prefix_shared,
        (Field::Ip, _) => l.ip_shared,
        (Field::Review, Key::Different) => MU {
            m: 1.0 - l.reviewed.m,
            u: 1.0 - l.reviewed.u,
        },
        (Field::Review, _) => l.reviewed,
        (Field::Business, Key::Different) => l.business_different,
        (Field::Business, Key::FuzzyHigh { .. }) => l.business_fuzzy,
        (Field::Business, _) => l.business_exact,
        (Field::Bids, Key::CoBid { many: true }) => l.co_bid_many,
        (Field::Bids, Key::CoBid { many: false }) => l.co_bid_few,
        (Field::Bids, _) => MU {
            m: 1.0 - l.co_bid_many.m - l.co_bid_few.m,
            u: 1.0 - l.co_bid_many.u - l.co_bid_few.u,
        },
    }
}

impl Model {
    /// The documented defaults; `note` says why they are used.
    pub fn defaults(cfg: &Config, note: &str) -> Model {
        let mut t = Table::new();
        for (f, c, k) in all_slots() {
            let mu = default_mu(cfg, f, c, k);
            let s = slot(f, c, k);
            (t.m[s], t.u[s]) = (mu.m, mu.u);
            (t.m_from[s], t.u_from[s]) = ("default", "default");
        }
        let p = cfg.scoring.prior;
        Model::from_table(&t, p, "defaults", note, None)
    }

    /// A model from its parameters; weights get the guards (see `guarded_weights`).
    pub fn from_table(
        t: &Table,
        prior: f64,
        method: &str,
        note: &str,
        em: Option<EmInfo>,
    ) -> Model {
        let prior_bits = (prior / (1.0 - prior)).log2();
        let weights = weights_with_prior(t, prior_bits);
        let params = named_slots()
            .map(|(s, signal, context, level)| Param {
                signal,
                context,
                level,
                m: t.m[s],
                u: t.u[s],
                weight: weights[s],
                m_from: t.m_from[s].to_string(),
                u_from: t.u_from[s].to_string(),
            })
            .collect();
        Model {
            method: method.to_string(),
            note: note.to_string(),
            accounts: 0,
            candidate_pairs: 0,
            sample_pairs: 0,
            prior,
            prior_bits,
            em,
            params,
            concealment: None,
            households: None,
            concealment_note: String::new(),
            weights,
        }
    }

    /// The weight of a slot.
    pub fn weight(&self, slot: usize) -> f64 {
        self.weights[slot]
    }

    /// The weight of one signal's level in its context.
    pub fn level_weight(&self, field: Field, ctx: Context, level: Level) -> f64 {
        match key_of(level) {
            Some(k) => self.weights[slot(field, ctx, k)],
            None => 0.0,
        }
    }

    /// Reads a saved model; every level must be known and every weight finite.
    pub fn read(path: &std::path::Path) -> Result<Model> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let bad = |message: String| Error::Config {
            path: path.to_path_buf(),
            message,
        };
        let mut model: Model = serde_json::from_str(&text)
            .map_err(|e| bad(format!("not a sybilscan model.json: {e}")))?;
        let mut weights = vec![0.0; SLOTS];
        let mut seen = vec![false; SLOTS];
        let names: Vec<(Field, Context, Key, String, &'static str)> = all_slots()
            .map(|(f, c, k)| (f, c, k, k.name(), c.name(f)))
            .collect();
        for p in &model.params {
            let Some((f, c, k, ..)) = names.iter().find(|(f, _, _, name, ctx)| {
                f.as_str() == p.signal && *name == p.level && *ctx == p.context
            }) else {
                return Err(bad(format!(
                    "unknown level {} / {} / {}",
                    p.signal, p.context, p.level
                )));
            };
            if !p.weight.is_finite() {
                return Err(bad(format!(
                    "weight of {} / {} is not a number",
                    p.signal, p.level
                )));
            }
            let s = slot(*f, *c, *k);
            weights[s] = p.weight;
            seen[s] = true;
        }
        if let Some((f, c, k, ..)) = names.iter().find(|(f, c, k, ..)| !seen[slot(*f, *c, *k)]) {
            return Err(bad(format!(
                "model has no weight for {} / {} / {}",
                f.as_str(),
                c.name(*f),
                k.name()
            )));
        }
        if !(model.prior > 0.0 && model.prior < 1.0 && model.prior_bits.is_finite()) {
            return Err(bad("prior must be strictly between 0 and 1".into()));
        }
        if let Some(c) = model.concealment.as_mut() {
            c.rebuild().map_err(bad)?;
        }
        if let Some(h) = model.households.as_mut() {
            h.rebuild("household").map_err(bad)?;
        }
        model.weights = weights;
        Ok(model)
    }
}

/// Guarded weights (`guarded_weights`) with co-bidding capped for a class whose weights start at
/// `prior_bits` (see `BEHAVIOUR_SHARE`).
pub fn weights_with_prior(t: &Table, prior_bits: f64) -> Vec<f64> {
    capped_behaviour(guarded_weights(t, Sharing::NeverAgainst), prior_bits)
}

/// Whether sharing a value may count against a pair in a context (see `guarded_weights`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// Sharing a value never counts against a match (the match model: u there is strangers').
    NeverAgainst,
    /// In a context (co-located, same name) it may: u there is what co-located different people do, and a
    /// class that shares a family's network less than families do is told apart by it (the evader class).
    MayCountInContext,
}

/// `weights_with_prior` with a choice of the sharing guard.
pub fn weights_with_sharing(t: &Table, prior_bits: f64, sharing: Sharing) -> Vec<f64> {
    capped_behaviour(guarded_weights(t, sharing), prior_bits)
}

fn capped_behaviour(mut weights: Vec<f64>, prior_bits: f64) -> Vec<f64> {
    let cap = BEHAVIOUR_SHARE * (-prior_bits).max(0.0);
    for (c, k) in contexts_of(Field::Bids)
        .iter()
        .flat_map(|&c| keys_of(Field::Bids).into_iter().map(move |k| (c, k)))
    {
        let s = slot(Field::Bids, c, k);
        weights[s] = weights[s].min(cap);
    }
    weights
}

/// How the estimate marks a frequency class that no pair of the export falls in.
pub const EXTRAPOLATED: &str =
    "no pairs in this frequency class: extrapolated from the rarer class";

/// Weights from m and u, with guards that hold for any export: a level never weighs less than its signal's
/// `different` level when it says the values agree; sharing a value never counts against a match; and within
/// a shared-value level, a more common value never weighs more than a rarer one (frequency classes are
/// estimated separately and a sparse class can come out noisy); a class without any pair is extrapolated.
fn guarded_weights(t: &Table, sharing: Sharing) -> Vec<f64> {
    let mut w = vec![0.0; SLOTS];
    for f in Field::ALL {
        for &c in contexts_of(f) {
            let keys = keys_of(f);
            let raw = |k: Key| {
                let s = slot(f, c, k);
                (t.m[s].max(1e-300) / t.u[s].max(1e-300)).log2()
            };
            let diff = raw(Key::Different);
            for &k in &keys {
                let mut x = raw(k);
                if k == Key::NameHandle {
                    // The names are already counted: a handle made of them adds nothing.
                    w[slot(f, c, k)] = 0.0;
                    continue;
                }
                // In a context the levels describe what people who share a card or a name do (families
                // share networks, namesakes build handles from their names): there, agreeing can be less
                // telling than differing, and the estimate says so.
                if c == Context::Plain && k.is_agreement() && k != Key::Different {
                    x = x.max(diff);
                }
                if k.is_shared_value() && (c == Context::Plain || sharing == Sharing::NeverAgainst)
                {
                    x = x.max(0.0);
                }
                w[slot(f, c, k)] = x;
            }
            for family in [Key::Exact, Key::Handle, Key::Prefix] {
                let mut cap = f64::INFINITY;
                for b in 0..BUCKETS as u8 {
                    let s = slot(f, c, family(b));
                    if !keys.contains(&family(b)) {
                        continue;
                    }
                    if t.u_from[s] == EXTRAPOLATED && b > 0 {
                        // No pair holds a value of this class: the rarer class's Bayes factor, divided by
                        // the ratio of the classes' frequencies (strangers meet on a value about k−1 times as
                        // often as on one held by 2 accounts).
                        let ratio = (bucket_lower(b) - 1) as f64 / (bucket_lower(b - 1) - 1) as f64;
                        w[s] = (cap - ratio.log2()).max(0.0);
                    }
                    w[s] = w[s].min(cap);
                    cap = w[s];
                }
            }
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_keys_round_trip() {
        let cases = [
            (2, 0),
            (3, 1),
            (4, 2),
            (5, 2),
            (6, 3),
            (100, 5),
            (101, 6),
            (5000, 7),
        ];
        for (freq, b) in cases {
            assert_eq!(bucket(freq), b, "{freq}");
            assert!(bucket_lower(b) <= freq);
        }
        for i in 0..KEYS {
            assert_eq!(Key::from_index(i).index(), i);
        }
        assert_eq!(Key::Exact(0).name(), "exact[k=2]");
        assert_eq!(Key::Handle(7).name(), "same_handle[k>1000]");
        assert_eq!(Key::Prefix(2).name(), "same_prefix[k=4-5]");
    }

    #[test]
    fn guards_order_weights() {
        let mut t = Table::new();
        let f = Field::Device;
        let set = |t: &mut Table, k: Key, m: f64, u: f64| {
            let s = slot(f, Context::Plain, k);
            (t.m[s], t.u[s]) = (m, u);
        };
        set(&mut t, Key::Different, 0.5, 0.99);
        set(&mut t, Key::Exact(0), 0.4, 0.001);
        set(&mut t, Key::Exact(1), 0.05, 0.00001); // noisy: would weigh more than k=2
        set(&mut t, Key::Exact(2), 0.001, 0.1); // a crowd: would count against
        let w = guarded_weights(&t, Sharing::NeverAgainst);
        let at = |k| w[slot(f, Context::Plain, k)];
        assert!((at(Key::Exact(0)) - (0.4f64 / 0.001).log2()).abs() < 1e-12);
        assert_eq!(at(Key::Exact(1)), at(Key::Exact(0)));
        assert_eq!(at(Key::Exact(2)), 0.0);
        assert!(at(Key::Different) < 0.0);
    }

    #[test]
    fn co_bidding_never_moves_a_pair_past_half_the_prior() {
        let mut t = Table::new();
        for (f, c, k) in all_slots() {
            let s = slot(f, c, k);
            (t.m[s], t.u[s]) = (0.5, 0.5);
        }
        let many = slot(Field::Bids, Context::Plain, Key::CoBid { many: true });
        let few = slot(Field::Bids, Context::Plain, Key::CoBid { many: false });
        (t.m[many], t.u[many]) = (0.3, 1e-9);
        (t.m[few], t.u[few]) = (0.1, 0.05);
        let prior = 1e-5;
        let m = Model::from_table(&t, prior, "estimated", "test", None);
        let cap = BEHAVIOUR_SHARE * -m.prior_bits;
        assert!(
            (m.weight(many) - cap).abs() < 1e-12,
            "{} vs {cap}",
            m.weight(many)
        );
        assert!(
            (m.weight(few) - (0.1f64 / 0.05).log2()).abs() < 1e-12,
            "below the cap: as estimated"
        );
        assert!(
            m.prior_bits + m.weight(many) < 0.0,
            "co-bidding alone stays below even odds"
        );
    }

    #[test]
    fn frequency_classes_end_at_the_home_and_office_limits() {
        // `slots_share_a_home` relies on it.
        for max in [COLOCATED_MAX, HOUSEHOLD_NETWORK_MAX] {
            assert!(BUCKET_UPPER.contains(&max), "{max}");
        }
    }

    #[test]
    fn defaults_cover_every_level() {
        let m = Model::defaults(&Config::default(), "test");
        assert_eq!(m.params.len(), all_slots().count());
        assert!(m.params.iter().all(|p| p.weight.is_finite()));
        assert!(m.level_weight(Field::Email, Context::Plain, Level::Exact { freq: 2 }) > 5.0);
        assert_eq!(
            m.level_weight(Field::Name, Context::Plain, Level::Missing),
            0.0
        );
    }
}

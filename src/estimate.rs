//! Estimation: learns the match model from the export being scanned (Fellegi–Sunter, fitted by EM), so that
//! the weights describe this export and not the data the defaults were written for.
//!
//! - **Patterns.** Every candidate pair is compared once; pairs with the same levels in every signal (and the
//!   same concealment and learning marks) form one pattern, and EM runs over the patterns with their counts.
//! - **u of shared-value levels** (exact email, device, card, name, birth date…, split by frequency class):
//!   Σ k(k−1)/2 over the values of the class, over the pairs of accounts that have the signal — the chance
//!   that two random accounts share such a value (term frequency by class). Held while EM runs: taking EM's
//!   expected matches out of it as EM goes lets EM run away (each pair it calls a match makes the value
//!   rarer among non-matches, so heavier, until a block of a name-built handle is "one person").
//! - **u of the other levels** (fuzzy names, keying errors, differences): from a deterministic random sample
//!   of account pairs, also held.
//! - **u in a context** (co-located, sharing a card or device: see `model`) is counted among the candidates
//!   there, also held. It counts one person's own accounts too, which makes a context level cautious: taking
//!   EM's expected matches out instead let EM call every family on one card and network "one person" (on
//!   five random generator profiles ban-evasion precision 0.59–0.94 instead of 0.70–0.99, and up to 5% of
//!   household pairs linked instead of 2.7%).
//! - **λ and m by EM.** The E-step gives each pattern its match probability; λ is the expected number of
//!   matches over all N(N−1)/2 pairs, m the share of each level among the expected matches, one distribution
//!   for all contexts of a signal. Blocking bias: EM runs over the union of all blocking keys, so it estimates
//!   λ·r and m given that a pair is a candidate (r: the share of matches some key finds); their product is the
//!   population's for every candidate pattern, and u is the population's, so every candidate's match
//!   probability is unbiased. (Estimating each signal's m only from pairs that other keys found, as Splink does
//!   per blocking rule, is biased when errors are anti-correlated across fields: on RLdata10000, where each
//!   duplicate has one error, it took pairwise F1 from 0.91 to 0.46.) EM learns only from pairs that a value
//!   held by at most `block::NAME_EXPAND_MAX` accounts found (crowds of strangers would become the "match"
//!   class), and pairs with a reason to hide (sanctioned and newer, or reviewed) stay out of m.
//! - **Start and fallback.** m from the defaults, u from the data, λ from the defaults' candidate prior spread
//!   over all pairs; when EM finds fewer than `model.min_expected_matches` likely matches, the defaults are
//!   used and the model says why.
//!
//! Everything is deterministic: counts are integers summed in any order, and EM runs sequentially over
//! patterns in sorted order.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use tracing::{debug, info};

use crate::block::{ValuePairs, Weights, is_blocked, unpack};
use crate::model::{
    self, BUCKET_UPPER, BUCKETS, Context, EmInfo, KEYS, Key, Model, SLOTS, Table, contexts_of,
    keys_of, slot,
};
use crate::record::Signal;
use crate::score::{Comparer, FIELDS, Field, Slots};

/// The distinct comparison patterns of the candidates, with counts, and each candidate's pattern.
#[derive(Default)]
pub struct Patterns {
    pub slots: Vec<Slots>,
    /// Pairs scored under the concealment profile too (sanctioned and newer, or reviewed).
    pub concealed: Vec<bool>,
    /// Patterns of pairs the model learns from (`block::Candidates::learn`).
    pub learn: Vec<bool>,
    pub counts: Vec<u64>,
    /// `of_candidate[i]`: the pattern of candidate `i`.
    pub of_candidate: Vec<u32>,
}

impl Patterns {
    /// What scoring reads of the patterns.
    pub fn view(&self) -> crate::score::CandidatePatterns<'_> {
        crate::score::CandidatePatterns {
            slots: &self.slots,
            concealed: &self.concealed,
            of_candidate: &self.of_candidate,
        }
    }
}

/// Bits per field in a pattern key: a field's slots are numbered from its first one (`model::slot`), so each
/// field needs room for its own contexts × levels and the `NONE` marker.
const SLOT_BITS: usize = 7;
const NONE: u128 = (1 << SLOT_BITS) - 1;
const PER_FIELD: usize = model::CONTEXTS * model::KEYS;
const FLAGS_AT: usize = SLOT_BITS * FIELDS;
const _: () = assert!(PER_FIELD < NONE as usize && FLAGS_AT + 2 <= 128);

fn encode(s: &Slots, concealed: bool, learn: bool) -> u128 {
    let mut k = (concealed as u128) << FLAGS_AT | (learn as u128) << (FLAGS_AT + 1);
    for (i, x) in s.iter().enumerate() {
        let local = x.map_or(NONE, |v| (v as usize - i * PER_FIELD) as u128);
        k |= local << (SLOT_BITS * i);
    }
    k
}

fn decode(k: u128) -> (Slots, bool, bool) {
    let mut s: Slots = [None; FIELDS];
    for (i, x) in s.iter_mut().enumerate() {
        let v = (k >> (SLOT_BITS * i)) & NONE;
        *x = (v != NONE).then_some((v as usize + i * PER_FIELD) as u16);
    }
    (s, (k >> FLAGS_AT) & 1 == 1, (k >> (FLAGS_AT + 1)) & 1 == 1)
}

/// A hasher for pattern keys (already well mixed in their low bits by construction? no: mix them here).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u128(&mut self, n: u128) {
        let x = (n as u64) ^ ((n >> 64) as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        self.0 = (x ^ (x >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type KeyMap<V> = HashMap<u128, V, BuildHasherDefault<KeyHasher>>;

/// Compares every candidate once and groups them into patterns, each candidate counted as many times as it
/// stands for (`weights`: a network-only pair of the sample stands for the ones left out).
pub fn patterns(
    cmp: &Comparer,
    pairs: &[u64],
    learn: &[bool],
    weights: Weights,
    progress: &indicatif::ProgressBar,
) -> Patterns {
    // Each chunk's keys are written in place in the one output vector: a collect of the chunks' vectors
    // joined them on one worker afterwards (at ten million accounts 44M keys, 0.7 GB, a second alone). The
    // vector is zeroed by every worker too (`vec![0; n]` was one thread's first touch of the 0.7 GB).
    const CHUNK: usize = 16 * 1024;
    let mut keys: Vec<u128> = crate::memory::filled_advised(pairs.len(), 0);
    keys.par_chunks_mut(CHUNK)
        .zip(pairs.par_chunks(CHUNK))
        .zip(learn.par_chunks(CHUNK))
        .with_max_len(crate::BALANCED)
        .for_each(|((out, chunk), learn)| {
            let acc = cmp.accounts();
            for (k, ((o, &p), &l)) in out.iter_mut().zip(chunk).zip(learn).enumerate() {
                acc.prefetch_ahead(k, |k| chunk.get(k).map(|&p| unpack(p).1 as usize));
                let (a, b) = unpack(p);
                let c = cmp.compare(a as usize, b as usize);
                let hides = cmp.concealment_applies(a as usize, b as usize);
                *o = encode(&model::slots(&c), hides, l);
            }
            progress.inc(chunk.len() as u64);
        });
    let counted: KeyMap<u64> = keys
        .par_iter()
        .enumerate()
        .fold(KeyMap::default, |mut m, (i, k)| {
            *m.entry(*k).or_insert(0) += weights.of(i);
            m
        })
        .reduce(KeyMap::default, |mut a, b| {
            for (k, c) in b {
                *a.entry(k).or_insert(0) += c;
            }
            a
        });
    let mut distinct: Vec<(u128, u64)> = counted.into_iter().collect();
    distinct.sort_unstable();
    let index: KeyMap<u32> = distinct
        .iter()
        .enumerate()
        .map(|(i, (k, _))| (*k, i as u32))
        .collect();
    let of_candidate = keys.par_iter().map(|k| index[k]).collect();
    let (mut slots, mut concealed, mut learn) = (vec![], vec![], vec![]);
    for (k, _) in &distinct {
        let (s, c, l) = decode(*k);
        slots.push(s);
        concealed.push(c);
        learn.push(l);
    }
    Patterns {
        slots,
        concealed,
        learn,
        counts: distinct.iter().map(|(_, c)| *c).collect(),
        of_candidate,
    }
}

/// Counts of levels among random pairs (context ignored: counted at the plain context's slot).
#[derive(Debug, Clone)]
pub struct Sample {
    pub pairs: u64,
    pub counts: Vec<u64>,
    /// Pairs where each signal is present on both accounts.
    pub present: [u64; FIELDS],
}

/// The fixed seed of the random pair sample: the same export gives the same sample.
const SAMPLE_SEED: u64 = 0x5b1c_5ca1_0000_5a3e;

/// The signals whose levels the random sample counts: those with two or more levels whose u comes from the
/// sample in some context (names, birth dates, business names, co-bidding). For every other signal the sample
/// shares out only the difference level, whose u is then what the counted levels leave (`Em::m_step`),
/// whatever the sample says — comparing it would cost a random read of both accounts' values per pair.
pub fn sampled_fields() -> Vec<Field> {
    Field::ALL
        .into_iter()
        .filter(|&f| {
            model::contexts_of(f).iter().any(|&ctx| {
                keys_of(f)
                    .into_iter()
                    .filter(|&k| enumeration(f, ctx, k) == Enumeration::Sampled)
                    .count()
                    >= 2
            })
        })
        .collect()
}

/// Compares a deterministic random sample of `size` account pairs (all pairs when there are fewer), on the
/// signals of `sampled_fields`.
pub fn sample(cmp: &Comparer, size: u64) -> Sample {
    sample_of(cmp, size, &sampled_fields())
}

/// `sample`, on the given signals.
pub fn sample_of(cmp: &Comparer, size: u64, fields: &[Field]) -> Sample {
    let n = cmp.accounts().len() as u64;
    let all = n * n.saturating_sub(1) / 2;
    let pairs: Vec<(u32, u32)> = if all <= size {
        (0..n as u32)
            .flat_map(|a| (a + 1..n as u32).map(move |b| (a, b)))
            .collect()
    } else {
        let mut rng = ChaCha8Rng::seed_from_u64(SAMPLE_SEED);
        (0..size)
            .map(|_| {
                let a = rng.random_range(0..n as u32);
                let mut b = rng.random_range(0..n as u32 - 1);
                if b >= a {
                    b += 1;
                }
                (a.min(b), a.max(b))
            })
            .collect()
    };
    // In account order, one side of every pair is read sequentially (the counts do not depend on order).
    let mut pairs = pairs;
    pairs.par_sort_unstable();
    let empty = || (vec![0u64; SLOTS], [0u64; FIELDS]);
    let (counts, present) = pairs
        .par_chunks(8 * 1024)
        .fold(empty, |(mut counts, mut present), chunk| {
            for (k, &(a, b)) in chunk.iter().enumerate() {
                cmp.accounts()
                    .prefetch_ahead(k, |k| chunk.get(k).map(|p| p.1 as usize));
                for &f in fields {
                    if let Some(key) = model::key_of(cmp.level(f, a as usize, b as usize)) {
                        counts[slot(f, Context::Plain, key)] += 1;
                        present[f as usize] += 1;
                    }
                }
            }
            (counts, present)
        })
        .reduce(empty, |(mut c1, mut p1), (c2, p2)| {
            c1.iter_mut().zip(c2).for_each(|(x, y)| *x += y);
            p1.iter_mut().zip(p2).for_each(|(x, y)| *x += y);
            (c1, p1)
        });
    Sample {
        pairs: pairs.len() as u64,
        counts,
        present,
    }
}

/// How the pairs of a level are all known.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Enumeration {
    /// Counted from the frequencies of this signal's values.
    Values(Signal),
    /// All such pairs are candidates (keys exist for them and are never crowded).
    Candidates,
    /// Only a sample sees them.
    Sampled,
}

fn enumeration(field: Field, ctx: Context, key: Key) -> Enumeration {
    use Enumeration::*;
    if ctx == Context::Given
        && matches!(
            field,
            Field::Name | Field::Ip | Field::Address | Field::Device
        )
    {
        // Co-located pairs, and pairs sharing a card or device, are all candidates.
        return Candidates;
    }
    match (field, key) {
        (Field::IdDocument, Key::Exact(_)) => Values(Signal::IdDocument),
        // A shared national number is a blocking key: all such pairs are candidates.
        // A shared national number or building is a blocking key: all such pairs are candidates.
        (Field::IdDocument | Field::Phone | Field::Address, Key::Near)
        | (Field::Review, Key::Exact(_)) => Candidates,
        (Field::Address, Key::Exact(_)) => Values(Signal::Address),
        (Field::Email, Key::Exact(_)) => Values(Signal::Email),
        (Field::Email, Key::Handle(_)) => Values(Signal::EmailHandle),
        (Field::Email, Key::NameHandle) => Candidates,
        (Field::Phone, Key::Exact(_)) => Values(Signal::Phone),
        (Field::Payment, Key::Exact(_)) => Values(Signal::Payment),
        (Field::Device, Key::Exact(_)) => Values(Signal::Device),
        (Field::Name, Key::Exact(_)) => Values(Signal::Name),
        (Field::DateOfBirth, Key::Exact(_)) => Values(Signal::DateOfBirth),
        (Field::Ip, Key::Exact(_)) => Values(Signal::Ip),
        (Field::Ip, Key::Prefix(_)) => Values(Signal::IpPrefix),
        (Field::Business, Key::Exact(_)) => Values(Signal::Business),
        _ => Sampled,
    }
}

/// The signal whose presence decides whether a field is compared.
fn presence_signal(field: Field) -> Option<Signal> {
    Some(match field {
        Field::IdDocument => Signal::IdDocument,
        Field::Email => Signal::Email,
        Field::Phone => Signal::Phone,
        Field::Payment => Signal::Payment,
        Field::Device => Signal::Device,
        Field::Name => Signal::Name,
        Field::DateOfBirth => Signal::DateOfBirth,
        Field::Ip => Signal::Ip,
        Field::Business => Signal::Business,
        Field::Address => Signal::Address,
        Field::Review | Field::Bids => return None,
    })
}

/// What EM reads.
pub struct Inputs<'a> {
    pub patterns: &'a Patterns,
    pub sample: &'a Sample,
    pub value_pairs: &'a ValuePairs,
    pub accounts: u64,
    pub reviews: bool,
    /// Accounts with at least one bid (with a bids file; 0 without).
    pub bidders: u64,
    /// Pairs with a reason to hide, candidates or not (`Comparer::evasion_pairs`).
    pub evasion_pairs: f64,
    /// Per slot, the deferred crowded pairs at it (`score::census`; empty: none): counted with the
    /// candidates, as pairs of different people, where the census's signals' levels are counted.
    pub deferred: &'a [u64],
    pub cfg: &'a crate::config::Config,
}

fn c2(n: f64) -> f64 {
    n * (n - 1.0) / 2.0
}

/// The E-step's sums over the candidates, weighted by each pattern's posterior of being a match (`q`).
struct Expected {
    /// Per slot, matches at it among the pairs m is learnt from.
    num: Vec<f64>,
    /// Per slot, different people at it (the census's deferred pairs included).
    e_nm: Vec<f64>,
    /// Per field and context, matches compared (of the pairs m is learnt from).
    den: [[f64; model::CONTEXTS]; FIELDS],
    /// Per field and context, different people compared.
    den_nm: [[f64; model::CONTEXTS]; FIELDS],
    /// Different people who are co-located, with names that do not resemble, among pairs with an email each.
    nm_email_colocated: f64,
    /// Per field, matches with the field compared.
    matches_present: [f64; FIELDS],
    matches: f64,
}

/// EM state and the fixed quantities it needs.
struct Em<'a> {
    inp: &'a Inputs<'a>,
    counts: Vec<f64>,
    total_pairs: f64,
    /// Default m of each slot, normalized per (field, context): EM's pseudo-count prior.
    m0: Vec<f64>,
    /// Pairs at each (field, key) among candidates, any context.
    cand_count: Vec<f64>,
}

impl Em<'_> {
    fn field_of(s: usize) -> (usize, Context, Key) {
        let f = s / (model::CONTEXTS * KEYS);
        let c = match (s / KEYS) % model::CONTEXTS {
            1 => Context::Given,
            2 => Context::Related,
            _ => Context::Plain,
        };
        (f, c, Key::from_index(s % KEYS))
    }

    fn posteriors(&self, t: &Table, prior: f64) -> Vec<f64> {
        let base = (prior / (1.0 - prior)).ln();
        let lw: Vec<f64> = (0..SLOTS)
            .map(|s| {
                if Self::field_of(s).2 == Key::NameHandle {
                    0.0 // repeats the names (see `model::Key::NameHandle`)
                } else if t.u[s] > 0.0 && t.m[s] > 0.0 {
                    (t.m[s] / t.u[s]).ln()
                } else {
                    0.0
                }
            })
            .collect();
        // A pair with a reason to hide is judged as it is scored: under the concealment profile, where
        // differences weigh nothing.
        let pats = self.inp.patterns;
        let concealable = model::concealable_slots(self.inp.cfg);
        pats.slots
            .iter()
            .zip(&pats.concealed)
            .map(|(p, &hides)| {
                let w = |s: &u16| {
                    let x = lw[*s as usize];
                    if hides {
                        let field = Field::ALL[Self::field_of(*s as usize).0];
                        model::concealed_weight(x, field, concealable[*s as usize])
                    } else {
                        x
                    }
                };
                let odds = base + p.iter().flatten().map(w).sum::<f64>();
                1.0 / (1.0 + (-odds).exp())
            })
            .collect()
    }

    /// Pairs of value-counted levels that are not candidates (their values were too common to block on,
    /// or the signal is never blocked alone): all taken as pairs of different people.
    fn remainder(&self, field: Field, key: Key) -> f64 {
        let cap = self.inp.cfg.blocking.max_block_size;
        match (enumeration(field, Context::Plain, key), key.bucket()) {
            (Enumeration::Values(s), Some(b)) => {
                let upper = BUCKET_UPPER[b as usize];
                let complete = is_blocked(s)
                    && (upper as usize) <= cap
                    && (s != Signal::Name || upper <= crate::block::NAME_EXPAND_MAX);
                if complete {
                    0.0
                } else {
                    let all = self.inp.value_pairs.pairs[s as usize][b as usize];
                    (all - self.cand_count[slot(field, Context::Plain, key)]).max(0.0)
                }
            }
            _ => 0.0,
        }
    }

    /// No two accounts share a value of this frequency class.
    fn empty_class(&self, s: Signal, key: Key) -> bool {
        key.bucket()
            .is_some_and(|b| self.inp.value_pairs.pairs[s as usize][b as usize] == 0.0)
    }

    fn present_pairs(&self, f: Field) -> f64 {
        match presence_signal(f) {
            Some(s) => c2(self.inp.value_pairs.accounts_with[s as usize] as f64),
            None if f == Field::Review && self.inp.reviews => self.total_pairs,
            None if f == Field::Bids => c2(self.inp.bidders as f64),
            None => 0.0,
        }
    }

    /// One M-step: new λ, m and u from the posteriors.
    fn m_step(&self, post: &[f64], t: &Table) -> (Table, f64) {
        let e = self.expected(post);
        let prior = (e.matches / self.total_pairs).clamp(1e-15, 0.5);
        let mut next = t.clone();
        for (fi, f) in Field::ALL.iter().enumerate() {
            let f = *f;
            let nm_present = (self.present_pairs(f) - e.matches_present[fi]).max(1.0);
            let nm_given: Vec<f64> = contexts_of(f)
                .iter()
                .map(|&c| self.non_matches_given(&e, t, f, c).min(nm_present * 0.5))
                .collect();
            for &ctx in contexts_of(f) {
                Self::update_m(&e, &self.m0, &mut next, (fi, f, ctx));
                // u: counted levels first, then the sample shares the rest.
                let nm = match ctx {
                    Context::Plain => (nm_present - nm_given.iter().sum::<f64>()).max(1.0),
                    c => nm_given[c as usize].max(1.0),
                };
                let (counted, observed) = self.update_u_counted(&e, &mut next, (f, ctx), nm);
                let counted = u_as_distribution(&mut next, (f, ctx), (counted, observed), nm);
                self.update_u_sampled(&mut next, (fi, f, ctx), counted, prior);
            }
        }
        (next, prior)
    }

    /// The E-step's sums over the candidates' patterns (and the census's deferred pairs), weighted by the
    /// posteriors.
    fn expected(&self, post: &[f64]) -> Expected {
        let pats = self.inp.patterns;
        let mut e = Expected {
            num: vec![0.0; SLOTS],
            e_nm: vec![0.0; SLOTS],
            den: [[0.0f64; model::CONTEXTS]; FIELDS],
            den_nm: [[0.0f64; model::CONTEXTS]; FIELDS],
            nm_email_colocated: 0.0,
            matches_present: [0.0f64; FIELDS],
            matches: 0.0,
        };
        for (k, p) in pats.slots.iter().enumerate() {
            // m and λ are learnt from the pairs small blocks found; u counts every candidate.
            let (c, q) = (self.counts[k], if pats.learn[k] { post[k] } else { 0.0 });
            e.matches += c * q;
            let resemble = p[Field::Name as usize]
                .is_some_and(|s| Self::field_of(s as usize).2 != Key::Different);
            if p[Field::Email as usize].is_some() && !resemble && pattern_colocated(p) {
                e.nm_email_colocated += c * (1.0 - q);
            }
            for (fi, s) in p.iter().enumerate() {
                let Some(s) = s else { continue };
                let s = *s as usize;
                e.e_nm[s] += c * (1.0 - q);
                e.den_nm[fi][Self::field_of(s).1 as usize] += c * (1.0 - q);
                e.matches_present[fi] += c * q;
                // m describes a person's accounts that do not hide who they are: pairs with a reason to
                // hide have their own profile and stay out of it — except for the review itself, which only
                // such pairs have (every reviewed pair is judged under concealment): without them, a review
                // between one person's accounts could never be learnt as evidence.
                let review = fi == Field::Review as usize;
                if (!pats.concealed[k] || review) && pats.learn[k] {
                    e.num[s] += c * q;
                    e.den[fi][Self::field_of(s).1 as usize] += c * q;
                }
            }
        }
        for (s, &c) in self.inp.deferred.iter().enumerate() {
            let (fi, ctx, _) = Self::field_of(s);
            e.e_nm[s] += c as f64;
            e.den_nm[fi][ctx as usize] += c as f64;
        }
        e
    }

    /// Different people among the pairs where the context holds. Co-located pairs and pairs sharing a card or
    /// device are all candidates (their values are below the block cap); same-name pairs are not (common
    /// names are too common to block on), so those are counted from the name frequencies (the email's
    /// context: namesakes, plus co-located pairs that are not namesakes).
    fn non_matches_given(&self, e: &Expected, t: &Table, f: Field, ctx: Context) -> f64 {
        let n_all = self.total_pairs;
        match (f, ctx) {
            (_, Context::Plain) => 0.0,
            (Field::Email, Context::Given) => {
                let same_name: f64 = (0..BUCKETS as u8)
                    .map(|b| {
                        let k = Key::Exact(b);
                        e.e_nm[slot(Field::Name, Context::Plain, k)]
                            + e.e_nm[slot(Field::Name, Context::Given, k)]
                            + self.remainder(Field::Name, k)
                    })
                    .sum();
                same_name * self.present_pairs(f) / n_all
            }
            (Field::Email, Context::Related) => {
                // Names that resemble without being equal (nicknames, typos, one part shared) are never all
                // candidates: their share among different people comes from the sample.
                let similar: f64 = keys_of(Field::Name)
                    .into_iter()
                    .filter(|k| !matches!(k, Key::Exact(_) | Key::Different))
                    .map(|k| t.u[slot(Field::Name, Context::Plain, k)])
                    .sum();
                let name_idx = Field::Name as usize;
                let similar_pairs =
                    similar * (self.present_pairs(Field::Name) - e.matches_present[name_idx]);
                similar_pairs * self.present_pairs(f) / n_all + e.nm_email_colocated
            }
            _ => e.den_nm[f as usize][ctx as usize],
        }
    }

    /// m: EM with one pseudo-match spread as the defaults say. m is one distribution for all contexts: a
    /// person's two accounts agree on a name or a network alike whether or not they share a card; what
    /// depends on the context is u, the behaviour of different people (a family shares a surname and a
    /// network). Tying m keeps EM from relabelling a context's pairs (calling every family a person and every
    /// person's second card a stranger).
    fn update_m(e: &Expected, m0: &[f64], next: &mut Table, (fi, f, ctx): (usize, Field, Context)) {
        let d: f64 = e.den[fi].iter().sum();
        for k in keys_of(f) {
            let s = slot(f, ctx, k);
            let pooled: f64 = contexts_of(f).iter().map(|&c| e.num[slot(f, c, k)]).sum();
            next.m[s] = (pooled + m0[s]) / (d + 1.0);
            next.m_from[s] = "em over the candidates (one distribution for all contexts)";
        }
    }

    /// u of the levels counted among the candidates or from value frequencies, out of `nm` pairs of
    /// different people in the context; returns their sum, and the share of the `nm` pairs actually counted
    /// at them (without the half-pair floor each level gets).
    fn update_u_counted(
        &self,
        e: &Expected,
        next: &mut Table,
        (f, ctx): (Field, Context),
        nm: f64,
    ) -> (f64, f64) {
        let (mut counted, mut observed) = (0.0, 0.0);
        for k in keys_of(f) {
            let how = enumeration(f, ctx, k);
            if how == Enumeration::Sampled {
                continue;
            }
            let s = slot(f, ctx, k);
            let rem = if ctx == Context::Plain {
                self.remainder(f, k)
            } else {
                0.0
            };
            // A value-counted level is a coincidence among different people (never the rule); a level among
            // enumerated candidates may be the rule there (a family's surname).
            let most = if matches!(how, Enumeration::Values(_)) {
                0.5
            } else {
                1.0
            };
            observed += ((e.e_nm[s] + rem) / nm).min(most);
            next.u[s] = ((e.e_nm[s] + rem).max(0.5) / nm).min(most);
            next.u_pairs[s] = nm;
            next.u_from[s] = match how {
                Enumeration::Values(sig) if self.empty_class(sig, k) => model::EXTRAPOLATED,
                Enumeration::Values(_) => "value frequencies (pairs sharing a value of the class)",
                _ => "candidates in the context",
            };
            counted += next.u[s];
        }
        (counted, observed)
    }

    /// u of the levels only the random sample measures: they share what the counted levels left
    /// (`1 - counted`), as the sample's pairs of different people fall among them.
    fn update_u_sampled(
        &self,
        next: &mut Table,
        (fi, f, ctx): (usize, Field, Context),
        counted: f64,
        prior: f64,
    ) {
        let rest = (1.0 - counted).max(1e-6);
        let sampled: Vec<Key> = keys_of(f)
            .into_iter()
            .filter(|k| enumeration(f, ctx, *k) == Enumeration::Sampled)
            .collect();
        let smp = self.inp.sample;
        let matches_in_sample = smp.present[fi] as f64 * prior;
        let nm_count = |k: Key| {
            let s = slot(f, Context::Plain, k);
            (smp.counts[s] as f64 - matches_in_sample * next.m[slot(f, ctx, k)]).max(0.0)
        };
        let total: f64 = sampled.iter().map(|&k| nm_count(k)).sum();
        let shares: Vec<f64> = sampled
            .iter()
            .map(|&k| rest * (nm_count(k) + 0.5) / (total + 0.5 * sampled.len() as f64))
            .collect();
        for (&k, u) in sampled.iter().zip(shares) {
            let s = slot(f, ctx, k);
            next.u[s] = u;
            next.u_pairs[s] = 0.0;
            next.u_from[s] = "random sample";
        }
    }

    fn log_likelihood(&self, t: &Table, prior: f64) -> f64 {
        let ln = |x: f64| x.max(1e-300).ln();
        let pats = self.inp.patterns;
        pats.slots
            .iter()
            .zip(&self.counts)
            .zip(&pats.learn)
            .filter(|(_, l)| **l)
            .map(|((p, &c), _)| {
                let lm = ln(prior)
                    + p.iter()
                        .flatten()
                        .map(|&s| ln(t.m[s as usize]))
                        .sum::<f64>();
                let lu = ln(1.0 - prior)
                    + p.iter()
                        .flatten()
                        .map(|&s| ln(t.u[s as usize]))
                        .sum::<f64>();
                let hi = lm.max(lu);
                c * (hi + ((lm - hi).exp() + (lu - hi).exp()).ln())
            })
            .sum()
    }
}

/// Makes the u of a signal in a context that the random sample shares in a distribution. Every counted level
/// has at least half a pair (a level nobody was seen at is rare, not impossible); the sampled levels together
/// keep the pairs the counted levels did not hold, at least half a pair each; all of it over the pairs plus
/// those half pairs. Before, the sampled levels shared `1 - counted`, so the half pairs came out of them:
/// nothing against millions of pairs, but in a context with few pairs of different people (a small export's pairs with one name) a dozen empty frequency
/// classes claimed more than all the pairs, the sampled "different" level was clamped to a millionth, and a
/// different email between two namesakes weighed +19.6 bits for a match (fixtures/strangers/: 7 false links
/// among 300 strangers). Takes the counted levels' sum with the half pairs and without (`observed`, both
/// shares of `nm`); returns their new sum. A context whose levels are all counted among its candidates is
/// left as it is: there the half pairs only make u larger (weights more cautious), and scaling them away on
/// a 1,000-account sample of the generator added two false links (name difference weighing nothing).
fn u_as_distribution(
    next: &mut Table,
    (f, ctx): (Field, Context),
    (counted, observed): (f64, f64),
    nm: f64,
) -> f64 {
    let sampled = keys_of(f)
        .into_iter()
        .filter(|&k| enumeration(f, ctx, k) == Enumeration::Sampled)
        .count();
    if sampled == 0 {
        return counted;
    }
    let rest = ((1.0 - observed) * nm).max(0.5 * sampled as f64) / nm;
    let total = counted + rest;
    if total <= 1.0 {
        return counted;
    }
    for k in keys_of(f) {
        if enumeration(f, ctx, k) != Enumeration::Sampled {
            next.u[slot(f, ctx, k)] /= total;
        }
    }
    counted / total
}

/// Whether a pattern's pair shares a card, device or IP address held by at most `COLOCATED_MAX` accounts
/// (`model::colocated`, read back from the slots).
fn pattern_colocated(p: &Slots) -> bool {
    let limit = model::bucket(model::COLOCATED_MAX);
    [Field::Payment, Field::Device, Field::Ip].iter().any(|f| {
        p[*f as usize]
            .is_some_and(|s| matches!(Em::field_of(s as usize).2, Key::Exact(b) if b <= limit))
    })
}

/// How far `y` is from `x`, relative to the larger of the two (EM's measure of change).
pub(crate) fn relative_change(x: f64, y: f64) -> f64 {
    (x - y).abs() / x.abs().max(y.abs()).max(1e-300)
}

/// Largest relative change between two tables (over the slots in use) and priors.
fn change(a: &Table, b: &Table, pa: f64, pb: f64) -> f64 {
    let rel = relative_change;
    let mut worst = rel(pa, pb);
    for (f, c, k) in model::all_slots() {
        let s = slot(f, c, k);
        worst = worst.max(rel(a.m[s], b.m[s])).max(rel(a.u[s], b.u[s]));
    }
    worst
}

/// Estimates the model, or returns the defaults (with the reason) when the export is too small.
pub fn estimate(inp: &Inputs) -> Model {
    let cfg = inp.cfg;
    let pats = inp.patterns;
    let em = Em::new(inp);
    // Start: m from the defaults, u from this export as if no pair were a match, λ from the defaults'
    // candidate prior spread over all pairs. (Starting from the defaults' posteriors instead — their u is
    // on the scale of candidate pairs — can seed EM with five times too many matches, and it then stays in
    // a spurious fixed point where the "match" class is a slice of the non-matches.)
    let n_candidates: f64 = (0..em.counts.len())
        .filter(|&k| pats.learn[k])
        .map(|k| em.counts[k])
        .sum();
    // u is estimated once, every pair counted as a non-match, and held while EM fits m and λ (see the module
    // docs: letting EM take its matches out of u lets it run away).
    // Two passes: the second reads the first's sampled name levels (the email's context counts the
    // different people whose names resemble from them).
    let zeros = vec![0.0; em.counts.len()];
    let (first, _) = em.m_step(&zeros, &Table::new());
    let (held, _) = em.m_step(&zeros, &first);
    let too_few = |why: String| {
        info!("model: {why}; using the documented defaults");
        let mut m = Model::defaults(cfg, &why);
        m.accounts = inp.accounts;
        m.candidate_pairs = em.counts.iter().sum::<f64>() as u64;
        m
    };
    if n_candidates == 0.0 {
        return too_few("no candidate pairs to estimate from".into());
    }
    let start_prior = (cfg.scoring.prior * n_candidates / em.total_pairs).clamp(1e-15, 0.5);
    let mut fit = em.iterate(&held, start_prior, Anchor::None);
    let agree = names_agree(&fit.table);
    if agree < MIN_NAMES_AGREE {
        info!(
            names_agree = agree,
            expected_matches = fit.info.expected_matches,
            "model: EM's match class is not one person's accounts (their names agree in fewer than half \
             of its pairs: it is housemates or colleagues); fitted again with the names' m held at the defaults"
        );
        fit = em.iterate(&held, start_prior, Anchor::Names);
        fit.names_held = Some(agree);
    }
    if fit.info.expected_matches < cfg.model.min_expected_matches {
        return too_few(format!(
            "too few likely matches to estimate from: EM found {:.1} among {} candidate pairs \
             (model.min_expected_matches = {})",
            fit.info.expected_matches, n_candidates, cfg.model.min_expected_matches
        ));
    }
    info!(
        iterations = fit.info.iterations,
        converged = fit.info.converged,
        prior = fit.prior,
        expected_matches = fit.info.expected_matches,
        "model: estimated by EM"
    );
    em.model_of(fit)
}

/// The least share of EM's match class whose names agree (`names_agree`) for it to stand for one person's
/// accounts: more often than not. One person's accounts that do not hide (pairs with a reason to hide stay out
/// of m) carry one name, give or take a nickname or a typo; the other classes a two-class mixture can find
/// among the candidates are housemates (one surname, one card, one network) and colleagues, who do not. Where
/// second accounts are rare those are most candidates, and EM's "match" class became them (the `sparse`
/// generator profile: pairwise precision 0.20–0.24). Fitted freely the match class's names agreed in 79–100%
/// of its pairs on every other set measured (Febrl 1–4, RLdata10000, the default, dense and five random
/// profiles, two `sparse-random` ones) and in 0.6–26% where it was housemates; any line between the two
/// decides alike.
const MIN_NAMES_AGREE: f64 = 0.5;

/// What EM holds besides u: nothing, or the names' m at the defaults'.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Anchor {
    None,
    Names,
}

/// The share of the match class whose names agree (equal, a nickname or initials apart, or alike): one
/// person's own accounts, not hiding, mostly carry one name; housemates and colleagues do not.
fn names_agree(t: &Table) -> f64 {
    keys_of(Field::Name)
        .into_iter()
        .filter(|k| {
            matches!(
                k,
                Key::Exact(_) | Key::Formal { .. } | Key::FuzzyHigh { .. } | Key::FuzzyMid
            )
        })
        .map(|k| t.m[slot(Field::Name, Context::Plain, k)])
        .sum()
}

/// Where EM stopped: the table and prior, the posteriors under them, and how it went.
struct Fit {
    /// Fitted with the names' m held at the defaults (`Anchor::Names`): the names' agreement of the free fit
    /// that made it so (`names_agree`).
    names_held: Option<f64>,
    table: Table,
    prior: f64,
    post: Vec<f64>,
    info: EmInfo,
}

impl<'a> Em<'a> {
    /// The fixed quantities of EM over `inp`: the patterns' counts, the pairs at each level among the
    /// candidates (and the census's deferred pairs), and the defaults' m as the pseudo-count prior.
    fn new(inp: &'a Inputs<'a>) -> Self {
        let (cfg, pats) = (inp.cfg, inp.patterns);
        let counts: Vec<f64> = pats.counts.iter().map(|&c| c as f64).collect();
        let mut cand_count = vec![0.0; SLOTS];
        for (p, &c) in pats.slots.iter().zip(&counts) {
            for s in p.iter().flatten() {
                let (f, _, k) = Em::field_of(*s as usize);
                cand_count[slot(Field::ALL[f], Context::Plain, k)] += c;
            }
        }
        for (s, &c) in inp.deferred.iter().enumerate() {
            let (f, _, k) = Em::field_of(s);
            cand_count[slot(Field::ALL[f], Context::Plain, k)] += c as f64;
        }
        let mut m0 = vec![0.0; SLOTS];
        for f in Field::ALL {
            for &ctx in contexts_of(f) {
                let keys = keys_of(f);
                let total: f64 = keys
                    .iter()
                    .map(|&k| model::default_mu(cfg, f, ctx, k).m)
                    .sum();
                for k in keys {
                    m0[slot(f, ctx, k)] = model::default_mu(cfg, f, ctx, k).m / total;
                }
            }
        }
        Em {
            inp,
            counts,
            total_pairs: c2(inp.accounts as f64).max(1.0),
            m0,
            cand_count,
        }
    }

    /// EM from `held` (whose u stays held at every step) and `start_prior`, until the change falls under
    /// the tolerance or the iterations run out.
    fn iterate(&self, held: &Table, start_prior: f64, anchor: Anchor) -> Fit {
        let cfg = self.inp.cfg;
        let hold_u = |next: &mut Table| {
            next.u.clone_from(&held.u);
            next.u_from.clone_from(&held.u_from);
            if anchor == Anchor::Names {
                for &c in contexts_of(Field::Name) {
                    for k in keys_of(Field::Name) {
                        let s = slot(Field::Name, c, k);
                        next.m[s] = held.m[s];
                        next.m_from[s] =
                            "the defaults, held (EM's match class was not one person's accounts)";
                    }
                }
            }
        };
        let post = self.posteriors(held, start_prior);
        let (mut table, mut prior) = self.m_step(&post, held);
        hold_u(&mut table);
        let mut info = EmInfo {
            iterations: 1,
            converged: false,
            last_change: f64::INFINITY,
            patterns: self.inp.patterns.slots.len() as u64,
            expected_matches: 0.0,
            log_likelihood: 0.0,
        };
        while info.iterations < cfg.model.max_iterations {
            let post = self.posteriors(&table, prior);
            let (mut next, next_prior) = self.m_step(&post, &table);
            hold_u(&mut next);
            let delta = change(&table, &next, prior, next_prior);
            (table, prior) = (next, next_prior);
            info.iterations += 1;
            info.last_change = delta;
            debug!(
                iteration = info.iterations,
                change = delta,
                prior,
                "model: EM iteration"
            );
            if delta < cfg.model.tolerance {
                info.converged = true;
                break;
            }
        }
        let post = self.posteriors(&table, prior);
        let learn = &self.inp.patterns.learn;
        info.expected_matches = (0..post.len())
            .filter(|&k| learn[k])
            .map(|k| post[k] * self.counts[k])
            .sum();
        info.log_likelihood = self.log_likelihood(&table, prior);
        Fit {
            table,
            prior,
            post,
            info,
            names_held: None,
        }
    }

    /// The model of a fit, with the household and concealment models estimated from it.
    fn model_of(&self, fit: Fit) -> Model {
        let (inp, pats, cfg) = (self.inp, self.inp.patterns, self.inp.cfg);
        let note = format!(
            "EM over {} candidate pairs ({} patterns); u of shared values from value frequencies, of other \
             levels from {} random pairs",
            self.counts.iter().sum::<f64>(),
            pats.slots.len(),
            inp.sample.pairs
        );
        let note = match fit.names_held {
            Some(agree) => format!(
                "{note}; the names' m held at the defaults: fitted freely, the match class's names agreed in \
                 {:.0}% of its pairs (housemates or colleagues, not one person's accounts)",
                100.0 * agree
            ),
            None => note,
        };
        let (table, post) = (&fit.table, &fit.post);
        let mut model = Model::from_table(table, fit.prior, "estimated", &note, Some(fit.info));
        model.households =
            crate::conceal::estimate_households(pats, &self.counts, post, table, self.total_pairs);
        // The pairs the fitted model calls different people: where u was counted among pairs, the count
        // without the matches (u itself stays held at every pair's count, above; the concealment model's
        // strangers start from this one).
        let (different_people, _) = self.m_step(post, table);
        match crate::conceal::estimate(&crate::conceal::Inputs {
            patterns: pats,
            counts: &self.counts,
            posteriors: post,
            table,
            different_people: &different_people,
            open: model.households.as_ref(),
            pairs: inp.evasion_pairs,
            cfg,
        }) {
            Ok(c) => model.concealment = Some(c),
            Err(why) => {
                info!(
                    "concealment model: {why}; differences in scoring.concealable signals weigh nothing"
                );
                model.concealment_note = why;
            }
        }
        model.accounts = inp.accounts;
        model.candidate_pairs = self.counts.iter().sum::<f64>() as u64;
        model.sample_pairs = inp.sample.pairs;
        model
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// Equal names (every frequency class), nicknames and initials, and alike names count as agreeing; one part
    /// shared (a family's surname) and different names do not, nor any other context or signal.
    #[test]
    fn names_agree_counts_equal_variant_and_alike_names_only() {
        let cases = [
            (Key::Exact(0), true),
            (Key::Exact(BUCKETS as u8 - 1), true),
            (Key::Formal { common: true }, true),
            (Key::FuzzyHigh { common: false }, true),
            (Key::FuzzyMid, true),
            (Key::Partial, false),
            (Key::Different, false),
        ];
        for (k, agrees) in cases {
            let mut t = Table::new();
            t.m[slot(Field::Name, Context::Plain, k)] = 0.25;
            t.m[slot(Field::Name, Context::Given, k)] = 0.5;
            t.m[slot(Field::Email, Context::Plain, Key::Exact(0))] = 0.5;
            let want = if agrees { 0.25 } else { 0.0 };
            assert_eq!(names_agree(&t), want, "{k:?}");
        }
    }

    /// A population of comparison patterns with known parameters (names and birth dates only), written as
    /// its expected counts: `N` accounts, `M` matching pairs; a pair is a candidate when its names or its
    /// birth dates are equal (as blocking would find it).
    struct Population {
        m_name: [(Key, f64); 4],
        u_name: [(Key, f64); 4],
        m_dob: [(Key, f64); 4],
        u_dob: [(Key, f64); 4],
    }

    const N: u64 = 200_000;
    const M: f64 = 10_000.0;

    fn population() -> Population {
        let fuzzy = Key::FuzzyHigh { common: false };
        Population {
            m_name: [
                (Key::Exact(0), 0.70),
                (fuzzy, 0.20),
                (Key::Partial, 0.04),
                (Key::Different, 0.06),
            ],
            u_name: [
                (Key::Exact(0), 2e-6),
                (fuzzy, 1e-4),
                (Key::Partial, 0.01),
                (Key::Different, 1.0 - 2e-6 - 1e-4 - 0.01),
            ],
            m_dob: [
                (Key::Exact(0), 0.80),
                (Key::Near, 0.12),
                (Key::YearClose, 0.03),
                (Key::Different, 0.05),
            ],
            u_dob: [
                (Key::Exact(0), 5e-5),
                (Key::Near, 2e-3),
                (Key::YearClose, 0.05),
                (Key::Different, 1.0 - 5e-5 - 2e-3 - 0.05),
            ],
        }
    }

    fn slots_of(n: Key, d: Key) -> Slots {
        let mut s: Slots = [None; FIELDS];
        s[Field::Name as usize] = Some(slot(Field::Name, Context::Plain, n) as u16);
        s[Field::DateOfBirth as usize] = Some(slot(Field::DateOfBirth, Context::Plain, d) as u16);
        s
    }

    #[test]
    fn em_recovers_known_parameters_of_a_simulated_population() {
        let pop = population();
        let total = c2(N as f64);
        let nm = total - M;
        let mut patterns = Patterns {
            slots: vec![],
            concealed: vec![],
            learn: vec![],
            counts: vec![],
            of_candidate: vec![],
        };
        let mut value_pairs = ValuePairs::default();
        let mut sample = Sample {
            pairs: 10_000_000,
            counts: vec![0; SLOTS],
            present: [0; FIELDS],
        };
        sample.present[Field::Name as usize] = sample.pairs;
        sample.present[Field::DateOfBirth as usize] = sample.pairs;
        for &(kn, mn) in &pop.m_name {
            for &(kd, md) in &pop.m_dob {
                let un = pop.u_name.iter().find(|x| x.0 == kn).unwrap().1;
                let ud = pop.u_dob.iter().find(|x| x.0 == kd).unwrap().1;
                let (count_m, count_u) = (M * mn * md, nm * un * ud);
                let (sn, sd) = (
                    slot(Field::Name, Context::Plain, kn),
                    slot(Field::DateOfBirth, Context::Plain, kd),
                );
                sample.counts[sn] += (sample.pairs as f64 * un * ud).round() as u64;
                sample.counts[sd] += (sample.pairs as f64 * un * ud).round() as u64;
                if kn == Key::Exact(0) {
                    value_pairs.pairs[Signal::Name as usize][0] += count_m + count_u;
                }
                if kd == Key::Exact(0) {
                    value_pairs.pairs[Signal::DateOfBirth as usize][0] += count_m + count_u;
                }
                if kn == Key::Exact(0) || kd == Key::Exact(0) {
                    patterns.slots.push(slots_of(kn, kd));
                    patterns.concealed.push(false);
                    patterns.learn.push(true);
                    patterns.counts.push((count_m + count_u).round() as u64);
                }
            }
        }
        for s in [Signal::Name, Signal::DateOfBirth] {
            value_pairs.pairs[s as usize][0] = value_pairs.pairs[s as usize][0].round();
            value_pairs.accounts_with[s as usize] = N;
        }
        let cfg = Config::default();
        let model = estimate(&Inputs {
            evasion_pairs: 0.0,
            deferred: &[],
            patterns: &patterns,
            sample: &sample,
            value_pairs: &value_pairs,
            accounts: N,
            reviews: false,
            bidders: 0,
            cfg: &cfg,
        });
        assert_eq!(model.method, "estimated");
        assert!(model.em.as_ref().unwrap().converged);
        let param = |f: Field, k: Key| {
            let p = model
                .params
                .iter()
                .find(|p| p.signal == f.as_str() && p.context == "-" && p.level == k.name())
                .unwrap();
            (p.m, p.u)
        };
        let close = |what: &str, got: f64, want: f64, tol: f64| {
            assert!(
                (got - want).abs() <= tol * want,
                "{what}: estimated {got:.4e}, true {want:.4e} (tolerance {tol})"
            );
        };
        // Blocking finds a match when its names or birth dates are equal: recall 1 - 0.30 * 0.20. EM
        // estimates λ·recall and m given that blocking found the pair (see the module docs). A match whose
        // only agreement is one shared value sits in a cell of ~99.95% non-matches whose u is re-estimated
        // from the same pairs: a flat direction of the fit, where EM gives the matches less than their due.
        let recall = 1.0 - 0.30 * 0.20;
        close("prior × recall", model.prior, M / total * recall, 0.25);
        for (f, ms, us) in [
            (Field::Name, &pop.m_name, &pop.u_name),
            (Field::DateOfBirth, &pop.m_dob, &pop.u_dob),
        ] {
            for (&(k, m_true), &(_, u_true)) in ms.iter().zip(us.iter()) {
                let (m, u) = param(f, k);
                // A shared value's u counts every pair that shares a value of its class (matches too:
                // held at that, it cannot run away); the other levels' u is the non-matches'.
                let u_want = if k == Key::Exact(0) {
                    (nm * u_true + M * m_true) / total
                } else {
                    u_true
                };
                close(&format!("u of {f:?} {}", k.name()), u, u_want, 0.05);
                // m of the levels that make links (their cells are mostly matches), within 25%; in cells
                // that are mostly different people (a year apart, one part shared) m is not identified.
                let links = matches!(k, Key::Exact(_) | Key::FuzzyHigh { .. } | Key::Near);
                if links {
                    close(
                        &format!("m of {f:?} {}", k.name()),
                        m,
                        m_true / recall,
                        0.25,
                    );
                }
            }
        }
        // What decides a link: every candidate pattern falls on the same side of the threshold as under
        // the true parameters.
        for (&(kn, mn), &(_, un)) in pop.m_name.iter().zip(&pop.u_name) {
            for (&(kd, md), &(_, ud)) in pop.m_dob.iter().zip(&pop.u_dob) {
                if kn != Key::Exact(0) && kd != Key::Exact(0) {
                    continue;
                }
                let lambda = M / total;
                let truth = (lambda * mn * md / ((1.0 - lambda) * un * ud)).log2();
                let s = slots_of(kn, kd);
                let est = model.prior_bits
                    + s.iter()
                        .flatten()
                        .map(|&x| model.weight(x as usize))
                        .sum::<f64>();
                assert_eq!(
                    truth >= 0.0,
                    est >= 0.0,
                    "{} / {}: true weight {truth:.2}, estimated {est:.2}",
                    kn.name(),
                    kd.name()
                );
            }
        }
    }

    #[test]
    fn shared_value_u_is_the_value_pairs_less_the_expected_matches() {
        // Hand-computed: 100 accounts with an email each; ten emails are held by 2 accounts each (10 pairs),
        // four by 3 accounts each (12 pairs). Candidates: those 22 pairs, with posteriors 0.3 (k=2) and
        // 0.05 (k=3): 3.6 expected matches. Pairs of different people with an email each:
        // C(100,2) - 3.6 = 4946.4. The 15 other counted levels (frequency classes, the name-built handle) hold
        // none and get half a pair each: 7.5 pairs more in the denominator. u(k=2) = (10 - 3) / 4953.9,
        // u(k=3) = (12 - 0.6) / 4953.9, u(different) = (4946.4 - 18.4) / 4953.9, λ = 3.6 / 4950.
        let email = |k: Key| {
            let mut s: Slots = [None; FIELDS];
            s[Field::Email as usize] = Some(slot(Field::Email, Context::Plain, k) as u16);
            s
        };
        let patterns = Patterns {
            slots: vec![email(Key::Exact(0)), email(Key::Exact(1))],
            concealed: vec![false, false],
            learn: vec![true, true],
            counts: vec![10, 12],
            of_candidate: vec![],
        };
        let mut value_pairs = ValuePairs::default();
        value_pairs.pairs[Signal::Email as usize][0] = 10.0;
        value_pairs.pairs[Signal::Email as usize][1] = 12.0;
        value_pairs.accounts_with[Signal::Email as usize] = 100;
        let sample = Sample {
            pairs: 4950,
            counts: vec![0; SLOTS],
            present: [0; FIELDS],
        };
        let cfg = Config::default();
        let inputs = Inputs {
            evasion_pairs: 0.0,
            deferred: &[],
            patterns: &patterns,
            sample: &sample,
            value_pairs: &value_pairs,
            accounts: 100,
            reviews: false,
            bidders: 0,
            cfg: &cfg,
        };
        let em = Em {
            inp: &inputs,
            counts: vec![10.0, 12.0],
            total_pairs: 4950.0,
            m0: vec![0.0; SLOTS],
            cand_count: {
                let mut c = vec![0.0; SLOTS];
                c[slot(Field::Email, Context::Plain, Key::Exact(0))] = 10.0;
                c[slot(Field::Email, Context::Plain, Key::Exact(1))] = 12.0;
                c
            },
        };
        let (t, prior) = em.m_step(&[0.3, 0.05], &Table::new());
        let u = |k| t.u[slot(Field::Email, Context::Plain, k)];
        let close = |got: f64, want: f64| assert!((got - want).abs() < 1e-12, "{got} != {want}");
        close(u(Key::Exact(0)), 7.0 / 4953.9);
        close(u(Key::Exact(1)), 11.4 / 4953.9);
        close(u(Key::Different), 4928.0 / 4953.9);
        let all: f64 = keys_of(Field::Email).into_iter().map(u).sum();
        close(all, 1.0);
        assert!((prior - 3.6 / 4950.0).abs() < 1e-12);
    }
}

//! Households and the concealment model. It owns the third class of every pair weight — two people of one
//! home or office, per home size (`Homes`) — and the concealment model for a sanctioned account and a newer
//! one: one person hiding (the *evader* class), two people of one home (household classes re-learnt among
//! these pairs), or two strangers (u, as in the match model). It owns their parameters, their estimation by
//! EM, and the terms they add to a pair's weight. (A reviewer and the account it reviewed hide too, but among
//! millions of honest reviews: they keep the match model with the documented concealment rule.)
//!
//! A sanctioned person's spouse on the family card and tablet shares what an evader keeps; what tells them
//! apart is what the data say each class does with everything else (a birth date, a document, a network,
//! a device of one's own). Scoring one person against strangers only calls every such spouse an evader, and
//! every couple on one card and network one person. So a co-located pair is weighed as
//!
//! ```text
//! weight = log2(λ / λU) + Σ log2(m/u)  −  log2(1 + (λH / λU) · Π h/u)
//! ```
//!
//! with m the match model's (or, for a pair that can be evasion, e the evader class's) level shares, h the
//! household class of the pair's home size, and λ the classes' shares. The first part is the usual sum of
//! per-signal weights (shown line by line); the second is one line, "two people of one home", which is zero
//! unless the pair shares a home-size card, device, network or address (`model::home_size`).
//!
//! - **h (open homes)**: what co-located candidates without a reason to hide do, weighted by the match EM's
//!   probability that they are two people, per home size (`estimate_households`).
//! - **e, λE, λH among the pairs that can be evasion** by EM (`estimate`), u held: e starts from the match
//!   model's m and is pulled towards it by `model.min_expected_matches` pseudo-pairs; the household classes
//!   start from the open homes' and learn what a sanctioned person's home shares, the identity signals held.
//!   An evader's changes are one decision (`CHANGED_TOGETHER`): only the largest difference among them counts.
//! - Too few likely evaders (fewer than `model.min_expected_matches`): no concealment model; the match
//!   model's weights are used with the documented rule (differences in `scoring.concealable` signals and
//!   the address weigh nothing), and the model says why.

use serde::{Deserialize, Serialize};
use tracing::{debug, info};

use crate::config::Config;
use crate::estimate::Patterns;
use crate::model::{self, KEYS, Key, SLOTS, Table, all_slots, contexts_of, keys_of, slot};
use crate::score::{FIELDS, Field, Slots};

/// One level of the evader class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Param {
    pub signal: String,
    pub context: String,
    pub level: String,
    /// Share of the level among one person's accounts, one of them hiding.
    pub e: f64,
    pub u: f64,
    /// log2(e/u) after the match model's guards.
    pub weight: f64,
}

/// One level of a household class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HouseholdParam {
    pub signal: String,
    pub context: String,
    pub level: String,
    pub h: f64,
    pub u: f64,
    /// log2(h/u).
    pub weight: f64,
}

/// Two people of one home or office of one size (the frequency class of the smallest card, device, network
/// or address they share: `model::home_size`). Homes are modelled per size because within a home everything
/// comes together: a home of two shares a card, a network and an address of two, an office of ten all of
/// ten; one class for all sizes would call a couple sharing three values of two "improbable for a home".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomeClass {
    /// `k=2`, `k=3`, `k=4-5`…: accounts holding the smallest shared value.
    pub home: String,
    pub bucket: u8,
    /// λH of this size: the share of such pairs among the pairs it is a class of.
    pub prior: f64,
    pub prior_bits: f64,
    /// Expected pairs of this class the shares were counted from.
    pub pairs: f64,
    pub params: Vec<HouseholdParam>,
    #[serde(skip)]
    weights: Vec<f64>,
    #[serde(skip)]
    h: Vec<f64>,
}

/// The household classes, one per home size that the export has pairs of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Homes {
    pub classes: Vec<HomeClass>,
}

impl Homes {
    /// The household term of a pair: −log2(1 + (λH/λU)·Π h/u) with its home size's class; 0 for a pair
    /// that shares no home-size value or a size no pair of the export showed.
    pub fn bits(&self, slots: &Slots) -> f64 {
        let Some(b) = model::home_size(slots) else {
            return 0.0;
        };
        let Some(c) = self.classes.iter().find(|c| c.bucket == b) else {
            return 0.0;
        };
        let odds = c.prior_bits
            + slots
                .iter()
                .flatten()
                .map(|&s| c.weights[s as usize])
                .sum::<f64>();
        // log2(1 + 2^x), without overflow for large x.
        -(odds.max(0.0) + (1.0 + (-odds.abs()).exp2()).log2())
    }

    /// Rebuilds the slot tables of a model read from `model.json`.
    pub fn rebuild(&mut self, what: &str) -> Result<(), String> {
        for c in &mut self.classes {
            let mut weights = vec![0.0; SLOTS];
            let mut seen = vec![false; SLOTS];
            for p in &c.params {
                let s = find_slot(&p.signal, &p.context, &p.level)
                    .map_err(|e| format!("{what} {}: {e}", c.home))?;
                if !p.weight.is_finite() {
                    return Err(format!(
                        "{what} {}: weight of {} / {} is not a number",
                        c.home, p.signal, p.level
                    ));
                }
                (weights[s], seen[s]) = (p.weight, true);
            }
            all_seen(&seen, what)?;
            if !c.prior_bits.is_finite() || c.bucket as usize >= model::BUCKETS {
                return Err(format!("{what} {}: bad prior or size class", c.home));
            }
            c.weights = weights;
        }
        Ok(())
    }

    /// The classes from level counts per size, `prior[b]` their shares.
    fn build(
        num: &[Vec<f64>],
        den: &[[f64; FIELDS]],
        start: &[Vec<f64>],
        pseudo: f64,
        u: &[f64],
        prior: &[f64],
    ) -> Homes {
        let mut classes = vec![];
        for b in 0..model::BUCKETS {
            let pairs: f64 = den[b].iter().copied().fold(0.0, f64::max);
            if pairs < 1.0 {
                continue;
            }
            let h = shares(&num[b], &den[b], &start[b], pseudo);
            classes.push(HomeClass::new(b as u8, h, u, prior[b], pairs));
        }
        Homes { classes }
    }

    /// Per size class (index `b`), h; `fallback` where the export has no class of that size.
    fn h_by_size(&self, fallback: &[f64]) -> Vec<Vec<f64>> {
        (0..model::BUCKETS as u8)
            .map(|b| match self.classes.iter().find(|c| c.bucket == b) {
                Some(c) => c.h.clone(),
                None => fallback.to_vec(),
            })
            .collect()
    }
}

impl HomeClass {
    fn new(bucket: u8, h: Vec<f64>, u: &[f64], prior: f64, pairs: f64) -> HomeClass {
        let weights = log_ratio(&h, u);
        let prior = prior.clamp(1e-15, 0.5);
        let params = model::named_slots()
            .map(|(s, signal, context, level)| HouseholdParam {
                signal,
                context,
                level,
                h: h[s],
                u: u[s],
                weight: weights[s],
            })
            .collect();
        HomeClass {
            home: model::bucket_text(bucket),
            bucket,
            prior,
            prior_bits: (prior / (1.0 - prior)).log2(),
            pairs,
            params,
            weights,
            h,
        }
    }
}

/// What the concealment EM did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConcealEm {
    pub iterations: u32,
    pub converged: bool,
    /// Candidate pairs that can hide (EM ran over their patterns).
    pub candidates: f64,
    pub expected_evaders: f64,
    pub expected_households: f64,
}

/// The fitted concealment model (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Concealment {
    /// Pairs that can be ban evasion: a sanctioned account with every account not older.
    pub pairs: f64,
    /// λE: the share of evaders among them.
    pub evader_prior: f64,
    /// log2(λE / λU): where a hiding pair's weight starts.
    pub evader_prior_bits: f64,
    pub em: ConcealEm,
    pub params: Vec<Param>,
    /// The household classes among these pairs (λH: shares among them).
    pub households: Homes,
    #[serde(skip)]
    weights: Vec<f64>,
}

/// What a person starting over replaces, in one decision: name, email, phone, card, device, network and
/// address. Their differences are one piece of evidence between a sanctioned account and a newer one, so
/// only the largest counts; a birth date or a document that differs still counts in full (they are verified
/// and hard to change). Counting each of seven differences as independent would weigh an evader who kept one
/// thing (a phone, a mailbox) by the habits of the average evader, who keeps more.
pub const CHANGED_TOGETHER: [Field; 7] = [
    Field::Name,
    Field::Email,
    Field::Phone,
    Field::Payment,
    Field::Device,
    Field::Ip,
    Field::Address,
];

/// `prior + Σ weights` with the differences of `CHANGED_TOGETHER` counted once (the most negative), and how
/// much the others would have taken off (≥ 0, added back).
fn combine(prior: f64, weights: &[f64], slots: &Slots) -> (f64, f64) {
    let (mut total, mut worst, mut all) = (prior, 0.0f64, 0.0);
    for s in slots.iter().flatten() {
        let (w, f) = (weights[*s as usize], Field::ALL[field_of(*s as usize).0]);
        if w < 0.0 && CHANGED_TOGETHER.contains(&f) {
            worst = worst.min(w);
            all += w;
        } else {
            total += w;
        }
    }
    (total + worst, worst - all)
}

impl Concealment {
    /// The weight of a slot for the evader class against strangers.
    pub fn weight(&self, slot: usize) -> f64 {
        self.weights[slot]
    }

    /// The evader class's bits for a pair against strangers (before the household term), and what counting
    /// the changes once added back (see `CHANGED_TOGETHER`).
    pub fn evader_bits(&self, slots: &Slots) -> (f64, f64) {
        combine(self.evader_prior_bits, &self.weights, slots)
    }

    /// The household term of a pair (≤ 0; see `Homes::bits`).
    pub fn household_bits(&self, slots: &Slots) -> f64 {
        self.households.bits(slots)
    }

    /// Rebuilds the slot tables of a model read from `model.json`.
    pub fn rebuild(&mut self) -> Result<(), String> {
        let mut weights = vec![0.0; SLOTS];
        let mut seen = vec![false; SLOTS];
        for p in &self.params {
            let s = find_slot(&p.signal, &p.context, &p.level)
                .map_err(|e| format!("concealment: {e}"))?;
            if !p.weight.is_finite() {
                return Err(format!(
                    "concealment: weight of {} / {} is not a number",
                    p.signal, p.level
                ));
            }
            (weights[s], seen[s]) = (p.weight, true);
        }
        all_seen(&seen, "concealment")?;
        if !self.evader_prior_bits.is_finite() {
            return Err("concealment: prior must be a number".into());
        }
        self.households.rebuild("concealment household")?;
        self.weights = weights;
        Ok(())
    }
}

fn find_slot(signal: &str, context: &str, level: &str) -> Result<usize, String> {
    all_slots()
        .find(|(f, c, k)| f.as_str() == signal && c.name(*f) == context && k.name() == level)
        .map(|(f, c, k)| slot(f, c, k))
        .ok_or_else(|| format!("unknown level {signal} / {context} / {level}"))
}

fn all_seen(seen: &[bool], what: &str) -> Result<(), String> {
    match all_slots().find(|(f, c, k)| !seen[slot(*f, *c, *k)]) {
        Some((f, c, k)) => Err(format!(
            "{what}: no weight for {} / {} / {}",
            f.as_str(),
            c.name(f),
            k.name()
        )),
        None => Ok(()),
    }
}

/// Level counts per home size: `(num[b][slot], den[b][field])`.
type SizeCounts = (Vec<Vec<f64>>, Vec<[f64; FIELDS]>);

fn size_counts() -> SizeCounts {
    (
        vec![vec![0.0; SLOTS]; model::BUCKETS],
        vec![[0.0; FIELDS]; model::BUCKETS],
    )
}

fn count(c: &mut SizeCounts, b: u8, p: &Slots, w: f64) {
    for s in p.iter().flatten() {
        let s = *s as usize;
        c.0[b as usize][s] += w;
        c.1[b as usize][field_of(s).0] += w;
    }
}

/// The open homes' household classes, from the match model's EM: co-located candidates without a reason to
/// hide, weighted by the probability that they are two people; the third class for every pair the match
/// model weighs (one person, two people of one home, strangers). `None` when no such pair exists.
pub fn estimate_households(
    patterns: &Patterns,
    counts: &[f64],
    posteriors: &[f64],
    table: &Table,
    total_pairs: f64,
) -> Option<Homes> {
    let mut c = size_counts();
    let mut pairs = [0.0; model::BUCKETS];
    for (k, p) in patterns.slots.iter().enumerate() {
        if patterns.concealed[k] || !patterns.learn[k] {
            continue;
        }
        let Some(b) = model::home_size(p) else {
            continue;
        };
        let w = counts[k] * (1.0 - posteriors[k]);
        pairs[b as usize] += w;
        count(&mut c, b, p, w);
    }
    let prior: Vec<f64> = pairs.iter().map(|p| p / total_pairs).collect();
    let start = vec![table.u.clone(); model::BUCKETS];
    // One pseudo-pair spread as strangers spread: a level no co-located pair showed is rare there, not
    // impossible.
    let homes = Homes::build(&c.0, &c.1, &start, 1.0, &table.u, &prior);
    (!homes.classes.is_empty()).then_some(homes)
}

/// What the concealment estimate reads.
pub struct Inputs<'a> {
    pub patterns: &'a Patterns,
    pub counts: &'a [f64],
    /// The match model's posteriors per pattern.
    pub posteriors: &'a [f64],
    /// The match model's m and u.
    pub table: &'a Table,
    /// u counted among the pairs the match model's posteriors call different people (its `u_pairs` say
    /// among how many): where the strangers' u starts (`stranger_u`).
    pub different_people: &'a Table,
    /// The open homes' household classes (where the household classes of the pairs that can hide start).
    pub open: Option<&'a Homes>,
    /// Pairs that can be ban evasion, candidates or not (`Comparer::evasion_pairs`).
    pub pairs: f64,
    pub cfg: &'a Config,
}

fn field_of(s: usize) -> (usize, Key) {
    (s / (model::CONTEXTS * KEYS), Key::from_index(s % KEYS))
}

/// Level shares per slot, one distribution for all contexts of a signal (as the match model's m), from
/// weighted counts, with `pseudo` pseudo-pairs spread as `start` says.
fn shares(num: &[f64], den: &[f64; FIELDS], start: &[f64], pseudo: f64) -> Vec<f64> {
    let mut out = vec![0.0; SLOTS];
    for f in Field::ALL {
        for &ctx in contexts_of(f) {
            for k in keys_of(f) {
                let pooled: f64 = contexts_of(f).iter().map(|&c| num[slot(f, c, k)]).sum();
                let s = slot(f, ctx, k);
                out[s] = (pooled + pseudo * start[s]) / (den[f as usize] + pseudo);
            }
        }
    }
    out
}

/// What a home shares (card, device, network, address) and a family's names: the household classes learn
/// them among the pairs that can hide too, from the open homes' shares and pulled towards them by `pseudo`
/// pseudo-pairs (a sanctioned person's family need not look like the average one). The identity signals
/// (birth date, document, email, phone…) keep the open homes' shares: they hold the classes apart.
const HOME_FIELDS: [Field; 5] = [
    Field::Payment,
    Field::Device,
    Field::Ip,
    Field::Address,
    Field::Name,
];

fn household_shares(open: &[f64], num: &[f64], den: &[f64; FIELDS], pseudo: f64) -> Vec<f64> {
    let learnt = shares(num, den, open, pseudo);
    let mut out = open.to_vec();
    for f in HOME_FIELDS {
        for &c in contexts_of(f) {
            for k in keys_of(f) {
                out[slot(f, c, k)] = learnt[slot(f, c, k)];
            }
        }
    }
    out
}

/// log2(x/u) per slot; 0 where either is 0 or the level repeats the names.
fn log_ratio(x: &[f64], u: &[f64]) -> Vec<f64> {
    (0..SLOTS)
        .map(|s| {
            if field_of(s).1 == Key::NameHandle || x[s] <= 0.0 || u[s] <= 0.0 {
                0.0
            } else {
                (x[s] / u[s]).log2()
            }
        })
        .collect()
}

/// u of the strangers' class. Where u was counted among pairs (shared values, candidates in a context), the
/// count is of the pairs the match model calls different people (not every pair, as the match model's held
/// u), less the pairs this model finds to be one person hiding (`ev`: expected evaders per slot, as much of
/// them as the match model had counted as different people). The match model has two classes, and an
/// evader, who looks like no open duplicate, lands among its different people: every evader who kept a
/// phone made sharing a phone look that much more common among strangers, and so weaker evidence against
/// the next evader. A count never goes below the half pair u is floored at; levels whose u came from the
/// random sample (where evaders are a vanishing share) keep it.
fn stranger_u(t: &Table, ev: &[f64]) -> Vec<f64> {
    (0..SLOTS)
        .map(|s| {
            let pairs = t.u_pairs[s];
            if pairs <= 0.0 || ev[s] <= 0.0 {
                return t.u[s];
            }
            let counted = t.u[s] * pairs;
            (counted - ev[s]).max(counted.min(0.5)) / pairs
        })
        .collect()
}

/// EM state over the candidate pairs that can be ban evasion.
struct ConcealEmState {
    e: Vec<f64>,
    /// The strangers' u (`stranger_u`).
    u: Vec<f64>,
    /// Per home size.
    h: Vec<Vec<f64>>,
    le: f64,
    lh: Vec<f64>,
}

/// One EM iteration: new state, expected evaders, expected households per size, largest change.
fn iterate(
    inp: &Inputs,
    hiding: &[(usize, Option<u8>)],
    open_h: &[Vec<f64>],
    st: &ConcealEmState,
) -> (ConcealEmState, f64, Vec<f64>, f64) {
    let (pats, t) = (inp.patterns, inp.table);
    let pseudo = inp.cfg.model.min_expected_matches.max(1.0);
    let ew = log_ratio(&st.e, &st.u);
    let hw: Vec<Vec<f64>> = st.h.iter().map(|h| log_ratio(h, &st.u)).collect();
    let lu = (1.0 - st.le - st.lh.iter().sum::<f64>()).max(1e-12);
    let pe = (st.le / lu).log2();
    let (mut en, mut ed) = (vec![0.0; SLOTS], [0.0; FIELDS]);
    // Evaders the match model had counted as different people, per slot.
    let mut ev = vec![0.0; SLOTS];
    let mut hc = size_counts();
    let (mut sum_e, mut sum_h) = (0.0, vec![0.0; model::BUCKETS]);
    for &(k, size) in hiding {
        let p = &pats.slots[k];
        let xe = combine(pe, &ew, p).0;
        let xh = match size {
            Some(b) => {
                let b = b as usize;
                (st.lh[b].max(1e-300) / lu).log2()
                    + p.iter().flatten().map(|&s| hw[b][s as usize]).sum::<f64>()
            }
            None => f64::NEG_INFINITY,
        };
        let top = xe.max(xh).max(0.0);
        let (a, b, c) = ((xe - top).exp2(), (xh - top).exp2(), (-top).exp2());
        let (re, rh) = (a / (a + b + c), b / (a + b + c));
        let n = inp.counts[k];
        sum_e += n * re;
        let hidden = n * re * (1.0 - inp.posteriors[k]);
        for s in p.iter().flatten() {
            let (s, f) = (*s as usize, field_of(*s as usize).0);
            (en[s], ed[f]) = (en[s] + n * re, ed[f] + n * re);
            ev[s] += hidden;
        }
        if let Some(b) = size {
            sum_h[b as usize] += n * rh;
            count(&mut hc, b, p, n * rh);
        }
    }
    let next = ConcealEmState {
        e: shares(&en, &ed, &t.m, pseudo),
        u: stranger_u(inp.different_people, &ev),
        h: (0..model::BUCKETS)
            .map(|b| household_shares(&open_h[b], &hc.0[b], &hc.1[b], pseudo))
            .collect(),
        le: (sum_e / inp.pairs).clamp(1e-15, 0.5),
        lh: sum_h
            .iter()
            .map(|x| (x / inp.pairs).clamp(0.0, 0.5))
            .collect(),
    };
    let delta = largest_change(st, &next, inp.pairs);
    (next, sum_e, sum_h, delta)
}

/// The largest change from `st` to `next`: relative for the shares (each a distribution with pseudo-pairs,
/// never near 0), and in expected pairs for the class priors — relative to their expected pairs, at least one
/// (`pairs` can hide in all). A class the data does not hold shrinks toward no pair at a steady rate: by its
/// own relative change it never settles (it did only once it underflowed, a hundred iterations on), while
/// what it moves is a fraction of one pair. A class under one expected pair is not kept (`estimate`).
fn largest_change(st: &ConcealEmState, next: &ConcealEmState, pairs: f64) -> f64 {
    let in_pairs = |x: f64, y: f64| (x - y).abs() * pairs / (x.max(y) * pairs).max(1.0);
    let most = |x: &[f64], y: &[f64], by: &dyn Fn(f64, f64) -> f64| {
        x.iter().zip(y).map(|(&x, &y)| by(x, y)).fold(0.0, f64::max)
    };
    let shares = [(&st.e, &next.e), (&st.u, &next.u)]
        .into_iter()
        .chain(st.h.iter().zip(&next.h))
        .map(|(x, y)| most(x, y, &crate::estimate::relative_change))
        .fold(0.0, f64::max);
    let priors = most(&st.lh, &next.lh, &in_pairs).max(in_pairs(st.le, next.le));
    shares.max(priors)
}

/// Where EM starts. EM over a class whose evidence grows as it is found has a fixed point where nobody is
/// found: start from the other side, every pair that can hide (`hiding`, `candidates` of them in all) and that
/// the match model calls two people taken out of the strangers' counts, and let the data put back the ones the
/// classes do not explain.
fn first_state(
    inp: &Inputs,
    hiding: &[(usize, Option<u8>)],
    open_h: &[Vec<f64>],
    candidates: f64,
) -> ConcealEmState {
    let start = (candidates * 0.1 / inp.pairs).max(1e-12);
    let mut hidden = vec![0.0; SLOTS];
    for &(k, _) in hiding {
        for s in inp.patterns.slots[k].iter().flatten() {
            hidden[*s as usize] += inp.counts[k] * (1.0 - inp.posteriors[k]);
        }
    }
    ConcealEmState {
        e: inp.table.m.clone(),
        u: stranger_u(inp.different_people, &hidden),
        h: open_h.to_vec(),
        le: start,
        lh: vec![start / model::BUCKETS as f64; model::BUCKETS],
    }
}

/// Estimates the concealment model; `Err` says why it could not (too few pairs that can hide).
pub fn estimate(inp: &Inputs) -> Result<Concealment, String> {
    let pats = inp.patterns;
    let t = inp.table;
    let Some(open) = inp.open else {
        return Err("no co-located pairs of two people to learn what a home shares from".into());
    };
    // Reviewed pairs hide too (sock puppets), but among millions of honest reviews: they keep the match
    // model with the documented rule, and stay out of this one.
    let reviewed = |p: &Slots| {
        p[Field::Review as usize].is_some_and(|s| matches!(field_of(s as usize).1, Key::Exact(_)))
    };
    let hiding: Vec<(usize, Option<u8>)> = (0..pats.slots.len())
        .filter(|&k| pats.concealed[k] && pats.learn[k] && !reviewed(&pats.slots[k]))
        .map(|k| (k, model::home_size(&pats.slots[k])))
        .collect();
    let candidates: f64 = hiding.iter().map(|&(k, _)| inp.counts[k]).sum();
    if candidates == 0.0 || inp.pairs <= 0.0 {
        return Err("no candidate pairs that can be ban evasion".into());
    }
    let open_h = open.h_by_size(&t.u);
    let mut st = first_state(inp, &hiding, &open_h, candidates);
    let mut info_ = ConcealEm {
        iterations: 0,
        converged: false,
        candidates,
        expected_evaders: 0.0,
        expected_households: 0.0,
    };
    let cfg = &inp.cfg.model;
    let mut sum_h = vec![0.0; model::BUCKETS];
    while info_.iterations < cfg.max_iterations {
        info_.iterations += 1;
        let (next, se, sh, delta) = iterate(inp, &hiding, &open_h, &st);
        st = next;
        (info_.expected_evaders, info_.expected_households) = (se, sh.iter().sum());
        sum_h = sh;
        debug!(
            iteration = info_.iterations,
            change = delta,
            evaders = se,
            households = info_.expected_households,
            "concealment: EM iteration"
        );
        if delta < cfg.tolerance {
            info_.converged = true;
            break;
        }
    }
    if info_.expected_evaders < cfg.min_expected_matches {
        return Err(format!(
            "too few likely evaders to estimate from: EM found {:.1} among {} candidate pairs that can \
             be ban evasion (model.min_expected_matches = {})",
            info_.expected_evaders, candidates, cfg.min_expected_matches
        ));
    }
    info!(
        iterations = info_.iterations,
        converged = info_.converged,
        evaders = info_.expected_evaders,
        households = info_.expected_households,
        "concealment model: estimated by EM"
    );
    let classes = (0..model::BUCKETS)
        .filter(|&b| sum_h[b] >= 1.0)
        .map(|b| HomeClass::new(b as u8, st.h[b].clone(), &st.u, st.lh[b], sum_h[b]))
        .collect();
    Ok(build(inp, (st.e, st.u), st.le, Homes { classes }, info_))
}

/// The concealment model from its estimated evader shares `e` and strangers' `u`.
fn build(
    inp: &Inputs,
    (e, u): (Vec<f64>, Vec<f64>),
    le: f64,
    households: Homes,
    em: ConcealEm,
) -> Concealment {
    let t = inp.table;
    let lu = (1.0 - le - households.classes.iter().map(|c| c.prior).sum::<f64>()).max(1e-12);
    let evader_prior_bits = (le / lu).log2();
    let et = Table {
        m: e.clone(),
        u: u.clone(),
        m_from: t.m_from.clone(),
        u_from: t.u_from.clone(),
        u_pairs: t.u_pairs.clone(),
    };
    let weights =
        model::weights_with_sharing(&et, evader_prior_bits, model::Sharing::MayCountInContext);
    let params = model::named_slots()
        .map(|(s, signal, context, level)| Param {
            signal,
            context,
            level,
            e: e[s],
            u: u[s],
            weight: weights[s],
        })
        .collect();
    Concealment {
        pairs: inp.pairs,
        evader_prior: le,
        evader_prior_bits,
        em,
        params,
        households,
        weights,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::model::Context;

    /// Three classes among a sanctioned account and a newer one, all sharing a card: evaders (who keep
    /// their birth date and change network), families (who share the network, never the birth date), and
    /// strangers on a birth date. Families without a sanctioned member teach the household class.
    struct Simulated {
        evaders: f64,
        families: f64,
        pairs: f64,
    }

    const P_EVADER_NEW_NETWORK: f64 = 0.8;
    const P_EVADER_SAME_BIRTH_DATE: f64 = 0.7;
    const P_FAMILY_SAME_NETWORK: f64 = 0.9;

    fn sl(f: Field, c: Context, k: Key) -> Option<u16> {
        Some(slot(f, c, k) as u16)
    }

    /// The patterns (card shared always, network, birth date), their counts, concealed flags and the match
    /// model's posteriors (0: the open families are two people).
    fn population(sim: &Simulated) -> (Patterns, Vec<f64>, Vec<f64>, Table) {
        let mut pats = Patterns::default();
        let mut counts = vec![];
        let mut add = |net_same: bool, dob_same: bool, concealed: bool, n: f64| {
            let mut p: Slots = [None; FIELDS];
            p[Field::Payment as usize] = sl(Field::Payment, Context::Plain, Key::Exact(0));
            let net = if net_same {
                Key::Exact(0)
            } else {
                Key::Different
            };
            p[Field::Ip as usize] = sl(Field::Ip, Context::Given, net);
            let dob = if dob_same {
                Key::Exact(0)
            } else {
                Key::Different
            };
            p[Field::DateOfBirth as usize] = sl(Field::DateOfBirth, Context::Plain, dob);
            pats.slots.push(p);
            pats.concealed.push(concealed);
            pats.learn.push(true);
            pats.counts.push(n.round() as u64);
            counts.push(n.round());
        };
        for (net_same, dob_same) in [(true, true), (true, false), (false, true), (false, false)] {
            let pe = if net_same {
                1.0 - P_EVADER_NEW_NETWORK
            } else {
                P_EVADER_NEW_NETWORK
            } * if dob_same {
                P_EVADER_SAME_BIRTH_DATE
            } else {
                1.0 - P_EVADER_SAME_BIRTH_DATE
            };
            let pf = if net_same {
                P_FAMILY_SAME_NETWORK
            } else {
                1.0 - P_FAMILY_SAME_NETWORK
            } * if dob_same { 0.0 } else { 1.0 };
            add(
                net_same,
                dob_same,
                true,
                sim.evaders * pe + sim.families * pf,
            );
            add(net_same, dob_same, false, 20.0 * sim.families * pf);
        }
        let post = vec![0.0; counts.len()];
        let mut t = Table::new();
        for (f, c, k) in all_slots() {
            let s = slot(f, c, k);
            (t.m[s], t.u[s]) = (0.0, 0.5);
        }
        use {Context as C, Field as F, Key as K};
        let known = [
            (F::Payment, C::Plain, K::Exact(0), 0.5, 1e-7),
            (F::Payment, C::Plain, K::Different, 0.5, 1.0),
            (F::Ip, C::Given, K::Exact(0), 0.7, 0.8),
            (F::Ip, C::Given, K::Different, 0.3, 0.2),
            (F::DateOfBirth, C::Plain, K::Exact(0), 0.9, 1e-4),
            (F::DateOfBirth, C::Plain, K::Different, 0.1, 1.0),
        ];
        for (f, c, k, m, u) in known {
            let s = slot(f, c, k);
            (t.m[s], t.u[s]) = (m, u);
        }
        (pats, counts, post, t)
    }

    #[test]
    fn em_tells_evaders_from_families_sharing_their_card() {
        let sim = Simulated {
            evaders: 600.0,
            families: 900.0,
            pairs: 1e7,
        };
        let (pats, counts, post, t) = population(&sim);
        let cfg = Config::default();
        let open =
            estimate_households(&pats, &counts, &post, &t, sim.pairs).expect("open families");
        assert_eq!(open.classes.len(), 1, "one home size: a card of two");
        let c = estimate(&Inputs {
            patterns: &pats,
            counts: &counts,
            posteriors: &post,
            table: &t,
            different_people: &t,
            open: Some(&open),
            pairs: sim.pairs,
            cfg: &cfg,
        })
        .expect("enough evaders");
        let close = |what: &str, got: f64, want: f64, tol: f64| {
            assert!((got - want).abs() <= tol * want, "{what}: {got} vs {want}");
        };
        // Both classes together within 5%; each within 30%: pairs either class explains (a new network
        // and another birth date: an evader who typed a new one, or a family member away from home) are
        // split by smoothed shares, which is weakly identified.
        let (le, lh) = (c.evader_prior, c.households.classes[0].prior);
        close(
            "λE + λH",
            le + lh,
            (sim.evaders + sim.families) / sim.pairs,
            0.05,
        );
        close("λE", le, sim.evaders / sim.pairs, 0.3);
        close("λH", lh, sim.families / sim.pairs, 0.3);
        let e_new_net = c
            .params
            .iter()
            .find(|p| p.signal == "ip" && p.level == "different");
        close(
            "e(new network)",
            e_new_net.unwrap().e,
            P_EVADER_NEW_NETWORK,
            0.15,
        );
        // A pattern's weight: the evader's (new network, same birth date) links; the family's (same
        // network, different birth date) does not, and its household term says why.
        let score = |k: usize| {
            let p = &pats.slots[k];
            let w: f64 = p.iter().flatten().map(|&s| c.weight(s as usize)).sum();
            (
                c.evader_prior_bits + w + c.household_bits(p),
                c.household_bits(p),
            )
        };
        let evader = score(4); // (new network, same birth date), concealed
        let family = score(2); // (same network, different birth date), concealed
        assert!(evader.0 > 3.0, "{evader:?}");
        assert!(family.0 < -3.0, "{family:?}");
        assert!(
            family.1 < -1.0,
            "the household term weighs against the family: {family:?}"
        );
        // And it survives model.json.
        let mut back: Concealment =
            serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        back.rebuild().unwrap();
        assert_eq!(back.weights, c.weights);
        let mut open_back: Homes =
            serde_json::from_str(&serde_json::to_string(&open).unwrap()).unwrap();
        open_back.rebuild("household").unwrap();
        for p in &pats.slots {
            assert_eq!(back.household_bits(p), c.household_bits(p));
            assert_eq!(open_back.bits(p), open.bits(p));
        }
    }

    /// Evaders who kept only a phone sit among the match model's different people (they look like no open
    /// duplicate), so the phone's u counted there is mostly them. The strangers' u takes them out: what is
    /// left is the few strangers who share a number, and an evader with nothing but the phone (birth date
    /// left blank) links. Without the correction (no counts to correct) the same evader does not: the test
    /// fails if `stranger_u` is bypassed.
    #[test]
    fn evaders_are_taken_out_of_the_strangers_u() {
        use {Context as C, Field as F, Key as K};
        const EVADERS: f64 = 300.0;
        const STRANGERS_SHARING: f64 = 5.0;
        const DIFFERENT_PEOPLE: f64 = 1e9;
        let phone = |k: K| sl(F::Phone, C::Plain, k);
        let dob = |k: K| sl(F::DateOfBirth, C::Plain, k);
        let mut pats = Patterns::default();
        let mut counts = vec![];
        // Evaders: the phone kept, the birth date kept by half, left blank by the other half; strangers
        // among the candidates that can hide, found by their birth date.
        for (ph, d, n) in [
            (K::Exact(0), Some(K::Exact(0)), EVADERS * 0.5),
            (K::Exact(0), None, EVADERS * 0.5),
            (K::Different, Some(K::Exact(0)), 20_000.0),
        ] {
            let mut p: Slots = [None; FIELDS];
            (p[F::Phone as usize], p[F::DateOfBirth as usize]) = (phone(ph), d.and_then(dob));
            pats.slots.push(p);
            pats.concealed.push(true);
            pats.learn.push(true);
            pats.counts.push(n as u64);
            counts.push(n);
        }
        let post = vec![0.0; counts.len()];
        let mut t = Table::new();
        for (f, c, k) in all_slots() {
            let s = slot(f, c, k);
            (t.m[s], t.u[s]) = (0.0, 0.5);
        }
        for (f, k, m, u) in [
            (
                F::Phone,
                K::Exact(0),
                0.6,
                (EVADERS + STRANGERS_SHARING) / DIFFERENT_PEOPLE,
            ),
            (F::Phone, K::Different, 0.4, 1.0),
            (F::DateOfBirth, K::Exact(0), 0.9, 1e-4),
            (F::DateOfBirth, K::Different, 0.1, 1.0),
        ] {
            let s = slot(f, C::Plain, k);
            (t.m[s], t.u[s]) = (m, u);
        }
        let cfg = Config::default();
        let open = Homes { classes: vec![] };
        let fit = |different_people: &Table| {
            estimate(&Inputs {
                patterns: &pats,
                counts: &counts,
                posteriors: &post,
                table: &t,
                different_people,
                open: Some(&open),
                pairs: 1e9,
                cfg: &cfg,
            })
            .expect("enough evaders")
        };
        let weight = |c: &Concealment, k: usize| {
            let p = &pats.slots[k];
            c.evader_prior_bits
                + p.iter()
                    .flatten()
                    .map(|&s| c.weight(s as usize))
                    .sum::<f64>()
        };
        let mut counted = t.clone();
        counted.u_pairs[slot(F::Phone, C::Plain, K::Exact(0))] = DIFFERENT_PEOPLE;
        let c = fit(&counted);
        let u = c
            .params
            .iter()
            .find(|p| p.signal == "phone" && p.level == "exact[k=2]" && p.context == "-")
            .expect("phone exact")
            .u;
        let want = STRANGERS_SHARING / DIFFERENT_PEOPLE;
        // Of the 305 pairs sharing a number among different people, the strangers' 5 are left and at most a
        // few evaders' worth of posterior: u falls from 3.05e-7 to under 1.5e-8.
        assert!(u >= want && u < 3.0 * want, "strangers' u {u} vs {want}");
        assert!(weight(&c, 1) > 3.0, "phone only: {}", weight(&c, 1));
        assert!(weight(&c, 2) < -1.0, "birth date only: {}", weight(&c, 2));
        let uncorrected = fit(&t);
        assert!(
            weight(&uncorrected, 1) < 0.0,
            "without the correction: {}",
            weight(&uncorrected, 1)
        );
    }

    #[test]
    fn changes_count_once_and_a_birth_date_in_full() {
        let mut w = vec![0.0; SLOTS];
        let mut slots: Slots = [None; FIELDS];
        let mut put = |f: Field, k: Key, x: f64| {
            let s = slot(f, Context::Plain, k);
            w[s] = x;
            slots[f as usize] = Some(s as u16);
        };
        put(Field::Phone, Key::Exact(0), 18.0);
        put(Field::Device, Key::Different, -1.5);
        put(Field::Address, Key::Different, -0.9);
        put(Field::Name, Key::Different, -0.4);
        put(Field::DateOfBirth, Key::Different, -3.0);
        let (bits, added) = combine(-17.0, &w, &slots);
        // −17 + 18 − 3 (birth date, in full) − 1.5 (the largest change, once).
        assert!((bits - (-17.0 + 18.0 - 3.0 - 1.5)).abs() < 1e-9, "{bits}");
        assert!(
            (added - 1.3).abs() < 1e-9,
            "address and name added back: {added}"
        );
        let plain: f64 = -17.0 + slots.iter().flatten().map(|&s| w[s as usize]).sum::<f64>();
        assert!((bits - added - plain).abs() < 1e-9, "explanations add up");
    }

    #[test]
    fn the_household_term_is_zero_away_from_a_home_and_bounded_by_its_odds() {
        let card = slot(Field::Payment, Context::Plain, Key::Exact(0));
        let mut homes = Homes {
            classes: vec![HomeClass {
                home: "k=2".into(),
                bucket: 0,
                prior: 1e-5,
                prior_bits: -16.6,
                pairs: 1.0,
                params: vec![],
                weights: vec![0.0; SLOTS],
                h: vec![0.0; SLOTS],
            }],
        };
        homes.classes[0].weights[card] = 26.6;
        let mut slots: Slots = [None; FIELDS];
        assert_eq!(homes.bits(&slots), 0.0, "nothing shared: no home");
        slots[Field::Payment as usize] = Some(card as u16);
        // odds 2^10: the term is −log2(1 + 1024).
        assert!((homes.bits(&slots) + 1025f64.log2()).abs() < 1e-9);
        homes.classes[0].weights[card] = 16.6 - 40.0;
        assert!(homes.bits(&slots) > -1e-9, "odds 2^-40: about nothing");
        homes.classes[0].weights[card] = 16.6 + 2000.0;
        assert!((homes.bits(&slots) + 2000.0).abs() < 1e-9, "no overflow");
        // A card of three is a home size the export showed no pairs of: no term.
        slots[Field::Payment as usize] =
            Some(slot(Field::Payment, Context::Plain, Key::Exact(1)) as u16);
        assert_eq!(homes.bits(&slots), 0.0);
    }

    #[test]
    fn a_class_shrinking_below_one_pair_does_not_hold_em_open() {
        let state = |lh: f64, le: f64| ConcealEmState {
            e: vec![0.2; SLOTS],
            u: vec![0.1; SLOTS],
            h: vec![vec![0.3; SLOTS]; 2],
            le,
            lh: vec![1e-3, lh],
        };
        let pairs = 1e6;
        // The second class shrinks 500-fold an iteration: at a hundredth of a pair it moves a hundredth,
        // at a hundred-thousandth it has settled (its own relative change is 0.998 all along).
        let (a, b) = (state(1e-8, 1e-2), state(2e-11, 1e-2));
        assert!((largest_change(&a, &b, pairs) - 0.00998).abs() < 1e-9);
        let (a, b) = (state(1e-11, 1e-2), state(2e-14, 1e-2));
        assert!(largest_change(&a, &b, pairs) < 1e-4);
        // The same shrinking from a thousand pairs is a change.
        let (a, b) = (state(1e-3, 1e-2), state(2e-6, 1e-2));
        assert!(largest_change(&a, &b, pairs) > 0.99);
        // The evaders' prior moving 10% among ten thousand pairs: ~0.09; a share moving 1%: ~0.01.
        let (a, b) = (state(1e-8, 1e-2), state(1e-8, 1.1e-2));
        assert!((largest_change(&a, &b, pairs) - 0.1 / 1.1).abs() < 1e-9);
        let mut c = state(1e-8, 1e-2);
        c.e[3] = 0.202;
        assert!((largest_change(&state(1e-8, 1e-2), &c, pairs) - 0.002 / 0.202).abs() < 1e-9);
    }
}

//! The concealment model: how a sanctioned account and a newer one look when they are one person hiding
//! (the *evader* class), when they are two people of one home or office (the *household* class), and when
//! they are two strangers (u, as in the match model). (A reviewer and the account it reviewed hide too, but
//! among millions of honest reviews: they keep the match model with the documented concealment rule.) It owns the parameters, their estimation by EM over the candidate pairs that can hide, and the
//! household term of such a pair's weight.
//!
//! A sanctioned person's spouse on the family card and tablet shares what an evader keeps; what tells them
//! apart is what the data say each class does with everything else (a birth date, a document, a network,
//! a device of one's own). Scoring one person against strangers only, as the match model does, calls every
//! such spouse an evader. So a pair that can hide is weighed as
//!
//! ```text
//! weight = log2(λE / λU) + Σ log2(e/u)  −  log2(1 + (λH / λU) · Π h/u)      (the last term: co-located pairs only)
//! ```
//!
//! with e the evader class's level shares, h the household class's and λ the classes' shares among the
//! pairs that can hide. The first part is the usual sum of per-signal weights (shown line by line); the
//! second is one line, "two people of one home", which is zero unless the pair shares a home-size card,
//! device, network or address.
//!
//! - **h** is what co-located pairs that are *not* one person do, from the match model's EM (its posteriors
//!   over co-located candidates without a reason to hide, weighted by the probability of two people).
//! - **e, λE, λH** by EM over the candidates that can hide, with u and h held; e starts from the match
//!   model's m and is pulled towards it by `model.min_expected_matches` pseudo-pairs, so that a small export
//!   gets the match model's m rather than noise.
//! - Too few likely evaders (fewer than `model.min_expected_matches`): no concealment model; the match
//!   model's weights are used with the documented rule (differences in `scoring.concealable` signals and
//!   the address weigh nothing), and the model says why.

use serde::{Deserialize, Serialize};
use tracing::{debug, info};

use crate::config::Config;
use crate::estimate::Patterns;
use crate::model::{self, KEYS, Key, SLOTS, Table, all_slots, contexts_of, keys_of, slot};
use crate::score::{FIELDS, Field, Slots};

/// One level of the concealment model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Param {
    pub signal: String,
    pub context: String,
    pub level: String,
    /// Share of the level among one person's accounts, one of them hiding.
    pub e: f64,
    /// Share among two people of one home or office.
    pub h: f64,
    pub u: f64,
    /// log2(e/u) after the match model's guards.
    pub weight: f64,
    /// log2(h/u).
    pub household_weight: f64,
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
    /// Co-located pairs of two people the household shares were learnt from (expected count).
    pub household_pairs_learnt_from: f64,
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
    /// λH: the share of two people of one home or office.
    pub household_prior: f64,
    /// log2(λH / λU).
    pub household_prior_bits: f64,
    pub em: ConcealEm,
    pub params: Vec<Param>,
    #[serde(skip)]
    weights: Vec<f64>,
    #[serde(skip)]
    household: Vec<f64>,
}

impl Concealment {
    /// The weight of a slot for the evader class against strangers.
    pub fn weight(&self, slot: usize) -> f64 {
        self.weights[slot]
    }

    /// The household term of a pair (≤ 0): minus log2(1 + odds that the pair is two people of one home
    /// rather than strangers). Zero for a pair that shares no home-size value.
    pub fn household_bits(&self, slots: &Slots) -> f64 {
        if !model::slots_share_a_home(slots) {
            return 0.0;
        }
        let odds = self.household_prior_bits
            + slots
                .iter()
                .flatten()
                .map(|&s| self.household[s as usize])
                .sum::<f64>();
        // log2(1 + 2^x), without overflow for large x.
        -(odds.max(0.0) + (1.0 + (-odds.abs()).exp2()).log2())
    }

    /// Rebuilds the slot tables of a model read from `model.json`.
    pub fn rebuild(&mut self) -> Result<(), String> {
        let mut weights = vec![0.0; SLOTS];
        let mut household = vec![0.0; SLOTS];
        let mut seen = vec![false; SLOTS];
        for p in &self.params {
            let Some((f, c, k)) = all_slots().find(|(f, c, k)| {
                f.as_str() == p.signal && c.name(*f) == p.context && k.name() == p.level
            }) else {
                return Err(format!(
                    "concealment: unknown level {} / {} / {}",
                    p.signal, p.context, p.level
                ));
            };
            if !(p.weight.is_finite() && p.household_weight.is_finite()) {
                return Err(format!(
                    "concealment: weight of {} / {} is not a number",
                    p.signal, p.level
                ));
            }
            let s = slot(f, c, k);
            (weights[s], household[s], seen[s]) = (p.weight, p.household_weight, true);
        }
        if let Some((f, c, k)) = all_slots().find(|(f, c, k)| !seen[slot(*f, *c, *k)]) {
            return Err(format!(
                "concealment: no weight for {} / {} / {}",
                f.as_str(),
                c.name(f),
                k.name()
            ));
        }
        let priors = [self.evader_prior_bits, self.household_prior_bits];
        if priors.iter().any(|p| !p.is_finite()) {
            return Err("concealment: priors must be numbers".into());
        }
        (self.weights, self.household) = (weights, household);
        Ok(())
    }
}

/// What the concealment estimate reads.
pub struct Inputs<'a> {
    pub patterns: &'a Patterns,
    pub counts: &'a [f64],
    /// The match model's posteriors per pattern.
    pub posteriors: &'a [f64],
    /// The match model's m and u.
    pub table: &'a Table,
    /// Pairs that can hide, candidates or not.
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

/// Sums of `weight(pattern)` per slot (pooled later) and per signal present.
fn tally(
    inp: &Inputs,
    keep: impl Fn(usize) -> Option<f64>,
    num: &mut [f64],
    den: &mut [f64; FIELDS],
) {
    for (k, p) in inp.patterns.slots.iter().enumerate() {
        let Some(w) = keep(k) else { continue };
        for s in p.iter().flatten() {
            let s = *s as usize;
            num[s] += w;
            den[field_of(s).0] += w;
        }
    }
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

/// Estimates the concealment model; `Err` says why it could not (too few pairs that can hide).
pub fn estimate(inp: &Inputs) -> Result<Concealment, String> {
    let pats = inp.patterns;
    let t = inp.table;
    let pseudo = inp.cfg.model.min_expected_matches.max(1.0);
    // h: co-located candidates without a reason to hide, weighted by the match model's "two people".
    let (mut hn, mut hd) = (vec![0.0; SLOTS], [0.0; FIELDS]);
    tally(
        inp,
        |k| {
            (!pats.concealed[k] && pats.learn[k] && model::slots_share_a_home(&pats.slots[k]))
                .then(|| inp.counts[k] * (1.0 - inp.posteriors[k]))
        },
        &mut hn,
        &mut hd,
    );
    let learnt_from: f64 = hd.iter().copied().fold(0.0, f64::max);
    // One pseudo-pair spread as strangers spread: a level no co-located pair showed is rare there, not
    // impossible.
    let h = shares(&hn, &hd, &t.u, 1.0);
    let hw = log_ratio(&h, &t.u);
    // Reviewed pairs hide too (sock puppets), but among millions of honest reviews: they keep the match
    // model with the documented rule, and stay out of this one.
    let reviewed = |p: &Slots| {
        p[Field::Review as usize].is_some_and(|s| matches!(field_of(s as usize).1, Key::Exact(_)))
    };
    let hiding: Vec<usize> = (0..pats.slots.len())
        .filter(|&k| pats.concealed[k] && pats.learn[k] && !reviewed(&pats.slots[k]))
        .collect();
    let candidates: f64 = hiding.iter().map(|&k| inp.counts[k]).sum();
    if candidates == 0.0 || inp.pairs <= 0.0 {
        return Err("no candidate pairs with a reason to hide".into());
    }
    let coloc: Vec<bool> = hiding
        .iter()
        .map(|&k| model::slots_share_a_home(&pats.slots[k]))
        .collect();
    let hsum: Vec<f64> = hiding
        .iter()
        .map(|&k| {
            pats.slots[k]
                .iter()
                .flatten()
                .map(|&s| hw[s as usize])
                .sum()
        })
        .collect();
    let mut e = t.m.clone();
    let (mut le, mut lh) = (
        (candidates * 0.1 / inp.pairs).max(1e-12),
        (candidates * 0.1 / inp.pairs).max(1e-12),
    );
    let mut info_ = ConcealEm {
        iterations: 0,
        converged: false,
        candidates,
        expected_evaders: 0.0,
        expected_households: 0.0,
        household_pairs_learnt_from: learnt_from,
    };
    let cfg = &inp.cfg.model;
    while info_.iterations < cfg.max_iterations {
        info_.iterations += 1;
        let ew = log_ratio(&e, &t.u);
        let lu = (1.0 - le - lh).max(1e-12);
        let (pe, ph) = ((le / lu).log2(), (lh / lu).log2());
        let (mut en, mut ed) = (vec![0.0; SLOTS], [0.0; FIELDS]);
        let (mut sum_e, mut sum_h) = (0.0, 0.0);
        for (i, &k) in hiding.iter().enumerate() {
            let xe = pe
                + pats.slots[k]
                    .iter()
                    .flatten()
                    .map(|&s| ew[s as usize])
                    .sum::<f64>();
            let xh = if coloc[i] {
                ph + hsum[i]
            } else {
                f64::NEG_INFINITY
            };
            let top = xe.max(xh).max(0.0);
            let (a, b, c) = ((xe - top).exp2(), (xh - top).exp2(), (-top).exp2());
            let (re, rh) = (a / (a + b + c), b / (a + b + c));
            let n = inp.counts[k];
            (sum_e, sum_h) = (sum_e + n * re, sum_h + n * rh);
            for s in pats.slots[k].iter().flatten() {
                en[*s as usize] += n * re;
                ed[field_of(*s as usize).0] += n * re;
            }
        }
        let next_e = shares(&en, &ed, &t.m, pseudo);
        let (nle, nlh) = (
            (sum_e / inp.pairs).clamp(1e-15, 0.5),
            (sum_h / inp.pairs).clamp(1e-15, 0.5),
        );
        let rel = |x: f64, y: f64| (x - y).abs() / x.abs().max(y.abs()).max(1e-300);
        let delta = (0..SLOTS)
            .map(|s| rel(e[s], next_e[s]))
            .fold(rel(le, nle).max(rel(lh, nlh)), f64::max);
        (e, le, lh) = (next_e, nle, nlh);
        (info_.expected_evaders, info_.expected_households) = (sum_e, sum_h);
        debug!(
            iteration = info_.iterations,
            change = delta,
            evaders = sum_e,
            households = sum_h,
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
             hide (model.min_expected_matches = {})",
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
    Ok(build(inp, e, h, le, lh, info_))
}

fn build(inp: &Inputs, e: Vec<f64>, h: Vec<f64>, le: f64, lh: f64, em: ConcealEm) -> Concealment {
    let t = inp.table;
    let lu = (1.0 - le - lh).max(1e-12);
    let evader_prior_bits = (le / lu).log2();
    let et = Table {
        m: e.clone(),
        u: t.u.clone(),
        m_from: t.m_from.clone(),
        u_from: t.u_from.clone(),
    };
    let weights =
        model::weights_with_sharing(&et, evader_prior_bits, model::Sharing::MayCountInContext);
    let household = log_ratio(&h, &t.u);
    let params = all_slots()
        .map(|(f, c, k)| {
            let s = slot(f, c, k);
            Param {
                signal: f.as_str().to_string(),
                context: c.name(f).to_string(),
                level: k.name(),
                e: e[s],
                h: h[s],
                u: t.u[s],
                weight: weights[s],
                household_weight: household[s],
            }
        })
        .collect();
    Concealment {
        pairs: inp.pairs,
        evader_prior: le,
        evader_prior_bits,
        household_prior: lh,
        household_prior_bits: (lh / lu).log2(),
        em,
        params,
        weights,
        household,
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
        let mut pats = Patterns {
            slots: vec![],
            concealed: vec![],
            learn: vec![],
            counts: vec![],
            of_candidate: vec![],
        };
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
            (t.m[s], t.u[s]) = (0.5, 0.5);
        }
        let set = |t: &mut Table, f, c, k, m: f64, u: f64| {
            let s = slot(f, c, k);
            (t.m[s], t.u[s]) = (m, u);
        };
        set(
            &mut t,
            Field::Payment,
            Context::Plain,
            Key::Exact(0),
            0.5,
            1e-7,
        );
        set(
            &mut t,
            Field::Payment,
            Context::Plain,
            Key::Different,
            0.5,
            1.0,
        );
        set(&mut t, Field::Ip, Context::Given, Key::Exact(0), 0.7, 0.8);
        set(&mut t, Field::Ip, Context::Given, Key::Different, 0.3, 0.2);
        set(
            &mut t,
            Field::DateOfBirth,
            Context::Plain,
            Key::Exact(0),
            0.9,
            1e-4,
        );
        set(
            &mut t,
            Field::DateOfBirth,
            Context::Plain,
            Key::Different,
            0.1,
            1.0,
        );
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
        let c = estimate(&Inputs {
            patterns: &pats,
            counts: &counts,
            posteriors: &post,
            table: &t,
            pairs: sim.pairs,
            cfg: &cfg,
        })
        .expect("enough evaders");
        let close = |what: &str, got: f64, want: f64, tol: f64| {
            assert!((got - want).abs() <= tol * want, "{what}: {got} vs {want}");
        };
        close("λE", c.evader_prior, sim.evaders / sim.pairs, 0.1);
        close("λH", c.household_prior, sim.families / sim.pairs, 0.1);
        let e_new_net = c
            .params
            .iter()
            .find(|p| p.signal == "ip" && p.level == "different");
        close(
            "e(new network)",
            e_new_net.unwrap().e,
            P_EVADER_NEW_NETWORK,
            0.1,
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
        assert_eq!(back.household, c.household);
    }

    #[test]
    fn the_household_term_is_zero_away_from_a_home_and_bounded_by_its_odds() {
        let mut c = Concealment {
            pairs: 1e6,
            evader_prior: 1e-4,
            evader_prior_bits: -13.3,
            household_prior: 1e-5,
            household_prior_bits: -16.6,
            em: ConcealEm {
                iterations: 1,
                converged: true,
                candidates: 1.0,
                expected_evaders: 1.0,
                expected_households: 1.0,
                household_pairs_learnt_from: 1.0,
            },
            params: vec![],
            weights: vec![0.0; SLOTS],
            household: vec![0.0; SLOTS],
        };
        let card = slot(Field::Payment, Context::Plain, Key::Exact(0));
        c.household[card] = 26.6;
        let mut slots: Slots = [None; FIELDS];
        assert_eq!(c.household_bits(&slots), 0.0, "nothing shared: no home");
        slots[Field::Payment as usize] = Some(card as u16);
        // odds 2^10: the term is −log2(1 + 1024).
        assert!((c.household_bits(&slots) + 1025f64.log2()).abs() < 1e-9);
        c.household[card] = 16.6 - 40.0;
        assert!(
            c.household_bits(&slots) > -1e-9,
            "odds 2^-40: about nothing"
        );
        c.household[card] = 16.6 + 2000.0;
        assert!(
            (c.household_bits(&slots) + 2000.0).abs() < 1e-9,
            "no overflow"
        );
    }
}

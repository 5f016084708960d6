//! Blocking: every account emits xxh3 keys (each identifier value, plus name keys combined with birth date or
//! country); the `(key, account)` entries are sorted and walked run by run. A run is a block: its length is
//! the frequency of that value, written back to the accounts for rarity weighting. Blocks with more accounts
//! than the cap generate no pairs (block purging) and are reported; the others generate all their pairs,
//! packed as `u64` and deduplicated across keys. Crowded blocks of weak keys are deferred (`Deferred`), and
//! past a budget the pairs only network keys found are thinned to a sample that stands for them all
//! (`thin_network`). Nothing here ever looks at all n² pairs.

use std::sync::atomic::{AtomicU32, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use crate::config::Blocking as BlockingCfg;
use crate::normalize::tagged_hash;
use crate::record::{Accounts, Signal};

/// Keys that exist only for blocking (they carry no value frequency).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Derived {
    NameDob = 1,
    PhoneticDob = 2,
    DobNamePrefix = 3,
    IdDocumentDeletion = 4,
    DobNamePart = 5,
}

impl Derived {
    const ALL: [Derived; 5] = [
        Derived::NameDob,
        Derived::PhoneticDob,
        Derived::DobNamePrefix,
        Derived::IdDocumentDeletion,
        Derived::DobNamePart,
    ];
    fn as_str(self) -> &'static str {
        match self {
            Derived::NameDob => "name+date_of_birth",
            Derived::PhoneticDob => "phonetic_name+date_of_birth",
            Derived::DobNamePrefix => "date_of_birth+name_token_prefix",
            Derived::IdDocumentDeletion => "id_document_one_deletion",
            Derived::DobNamePart => "date_of_birth+name_part",
        }
    }
}

/// One key occurrence: the key, the account, and where the value's frequency goes (`NO_SLOT` - kind for
/// derived keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    key: u64,
    account: u32,
    slot: u32,
}

const NO_SLOT: u32 = u32::MAX - 16;

/// A key with too many accounts to block on.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Oversized {
    pub key: String,
    pub signal: &'static str,
    pub accounts: usize,
    /// A few account indices holding the key (turned into account ids by the report).
    #[serde(skip)]
    pub sample: Vec<u32>,
    pub sample_account_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct BlockStats {
    pub key_occurrences: u64,
    pub distinct_keys: u64,
    pub blocks: u64,
    pub oversized_keys: u64,
    /// Pairs the oversized keys would have generated.
    pub pairs_avoided: u64,
    pub candidate_pairs_before_dedup: u64,
    pub candidate_pairs: u64,
    /// Pairs in blocks of common names, checked one by one after estimation (see `NAME_EXPAND_MAX`).
    pub common_name_pairs: u64,
    /// Pairs that only crowded blocks of weak keys found (`deferrable`), checked one by one after
    /// estimation: not candidates, not in `candidate_pairs`.
    pub deferred_pairs: u64,
    /// Candidate pairs that only IP keys (an address or a range held by at most the cap) found: a shared
    /// network and nothing else that blocks. They can reach the line only through what no key finds
    /// (similar names, birth dates), and on dense address pools they are most of the candidates.
    pub network_only_pairs: u64,
    /// Of those, the pairs standing for all of them in the model's counts (each counts `network_sample_step`
    /// times), compared before estimation like every candidate (`blocking.network_sample_pairs`).
    pub network_sampled_pairs: u64,
    /// One network-only pair in this many is in the sample (1: all of them are candidates).
    pub network_sample_step: u64,
    /// Network-only pairs left out of the sample: not candidates, not compared before estimation, checked
    /// one by one after it under a bound (`score::score_deferred`).
    pub network_deferred_pairs: u64,
    /// Pairs each kind of key generated (before pairs found by several keys are merged).
    pub pairs_by_key: std::collections::BTreeMap<&'static str, u64>,
    pub largest_oversized: Vec<Oversized>,
}

/// Candidate pairs (`a << 32 | b`, a < b), sorted and unique, with the statistics of blocking.
pub struct Candidates {
    pub pairs: Vec<u64>,
    /// Per pair: some value held by at most `NAME_EXPAND_MAX` accounts found it. The model is learnt from
    /// these pairs only: a block of more accounts is a crowd of mostly strangers (a name-built handle, an
    /// office network), and a two-class mixture fitted to it finds that crowd, not a person.
    pub learn: Vec<bool>,
    /// Per pair: a network-only pair of the model's sample, standing for `network_step` such pairs in its
    /// counts (`thin_network`).
    pub sampled: Vec<bool>,
    pub network_step: u64,
    pub stats: BlockStats,
    pub value_pairs: ValuePairs,
    pub deferred: Deferred,
    /// Per account, a bit per signal (`1 << Signal as u16`) in which it holds a value too common to block
    /// on: the only values two accounts can share without being a candidate pair.
    pub crowd: Vec<u16>,
}

impl Candidates {
    /// Adds pairs (sorted, unique) to learn from, such as reviewed pairs: candidates, counted once each.
    pub fn add_learnt(&mut self, extra: &[u64]) {
        let (learn, sampled) = (&self.learn, &self.sampled);
        let (pairs, learn, sampled) = merge_steps(&self.pairs, extra, |s| match s {
            Step::First(i) => (learn[i], sampled[i]),
            Step::Second(_) | Step::Both(..) => (true, false),
        });
        (self.pairs, self.learn, self.sampled) = (pairs, learn, sampled);
        // Both sorted: one merge walk (`retain` visits in order), not a search per pair; in place, where
        // `sorted_minus` would hold a second copy of the dense set's millions of left-out pairs.
        let mut j = 0;
        self.deferred.network.retain(|&p| {
            while j < extra.len() && extra[j] < p {
                j += 1;
            }
            extra.get(j) != Some(&p)
        });
        self.stats.network_deferred_pairs = self.deferred.network.len() as u64;
    }

    /// The statistics of blocking, the rest dropped (once scored: the deferred pairs of a dense export take
    /// hundreds of MB that clustering and the report do not need).
    pub fn into_stats(self) -> BlockStats {
        self.stats
    }

    /// How many pairs each candidate stands for in the model's counts.
    pub fn weights(&self) -> Weights<'_> {
        Weights {
            sampled: &self.sampled,
            step: self.network_step,
        }
    }
}

/// How many pairs each candidate stands for in the model's counts (`estimate::patterns`): `step` for the
/// network-only pairs of the sample, 1 for every other.
#[derive(Debug, Clone, Copy)]
pub struct Weights<'a> {
    pub sampled: &'a [bool],
    pub step: u64,
}

impl Weights<'_> {
    /// Every candidate counts once.
    pub const ONE: Weights<'static> = Weights {
        sampled: &[],
        step: 1,
    };

    pub fn of(&self, i: usize) -> u64 {
        if self.sampled.get(i).copied().unwrap_or(false) {
            self.step
        } else {
            1
        }
    }
}

pub fn pack(a: u32, b: u32) -> u64 {
    let (a, b) = if a < b { (a, b) } else { (b, a) };
    ((a as u64) << 32) | b as u64
}

pub fn unpack(p: u64) -> (u32, u32) {
    ((p >> 32) as u32, p as u32)
}

/// The signals whose values are keys (and get frequencies).
const KEYED: [Signal; Signal::COUNT] = Signal::ALL;

/// Signals whose values are counted but generate no pairs: a birth date is shared by about N/20,000
/// accounts and means little alone; it is blocked together with the name instead (see `derived_keys`), and
/// the property test `blocking_finds_every_link_brute_force_finds` checks that no link is lost.
const COUNT_ONLY: [Signal; 1] = [Signal::DateOfBirth];

/// A name held by more accounts than this is common: its block is not expanded into candidates before the
/// model is estimated, but pair by pair afterwards, and only where the pair's best possible weight reaches
/// the near-miss line (`score::Scorer::common_name_bound`). Nearly all name pairs are in such blocks (9.4M of
/// 9.5M at 1M generated accounts) and nearly all of them are strangers; no link is lost by deferring, because
/// the bound is exact for what such a pair can share.
pub const NAME_EXPAND_MAX: u32 = 30;

/// Whether a crowded block (more than `NAME_EXPAND_MAX` accounts, at most the cap) of a key is deferred: its
/// pairs are not compared before estimation, and after it only where their best possible weight reaches the
/// near-miss line (`score::score_deferred`). At 1M generated accounts 73% of all candidates came from such
/// blocks — name-built handles held by 31–100 strangers, business names, network ranges, birth date with a
/// common name part — and the model never learns from them (`Candidates::learn`). Deferred are the keys whose
/// shared value puts no pair in a context the model counts from candidates (`estimate::enumeration`): not a
/// card, device, network address or postal address (they place two accounts together), not an email, phone,
/// building or document (their near levels are counted from candidates). A shared handle, business name or
/// range changes the email's, business name's or network's level, so those levels of the deferred pairs are
/// counted before estimation (`score::census`).
fn deferrable(slot: u32, sig_of: &[u8]) -> bool {
    if slot >= NO_SLOT {
        let kind = slot - NO_SLOT;
        return [
            Derived::NameDob,
            Derived::PhoneticDob,
            Derived::DobNamePrefix,
            Derived::DobNamePart,
        ]
        .iter()
        .any(|d| *d as u32 == kind);
    }
    deferrable_signal(KEYED[sig_of[slot as usize] as usize])
}

/// The signals whose crowded blocks are deferred (see `deferrable`).
pub fn deferrable_signal(s: Signal) -> bool {
    matches!(
        s,
        Signal::Name | Signal::EmailHandle | Signal::Business | Signal::IpPrefix
    )
}

/// Above how many accounts a value of `s` is shared without making its holders a candidate pair: the cap,
/// or `NAME_EXPAND_MAX` for deferred signals.
pub fn crowd_floor(s: Signal, cap: usize) -> usize {
    if deferrable_signal(s) {
        cap.min(NAME_EXPAND_MAX as usize)
    } else {
        cap
    }
}

/// What is checked pair by pair after estimation instead of being compared before it: blocks of common
/// names, and the pairs that only crowded blocks of weak keys found (`deferrable`).
#[derive(Debug, Clone, Default)]
pub struct Deferred {
    /// Account indices of all deferred common-name blocks, block after block.
    pub accounts: Vec<u32>,
    /// Each common-name block's range in `accounts`.
    pub blocks: Vec<std::ops::Range<usize>>,
    /// Pairs (packed, sorted, unique) that some block of a deferrable key held by more than
    /// `NAME_EXPAND_MAX` accounts found and no other block did: not candidates.
    pub pairs: Vec<u64>,
    /// Account indices of those crowded blocks, block after block: their pairs are visited block by block
    /// (`visit_crowded`), so that a block's accounts stay in the cache while its pairs are compared.
    pub crowded_accounts: Vec<u32>,
    /// Each crowded block's range in `crowded_accounts`.
    pub crowded_blocks: Vec<std::ops::Range<usize>>,
    /// Network-only pairs (packed, sorted, unique) that the model's sample left out
    /// (`thin_network`): not candidates.
    pub network: Vec<u64>,
}

impl Deferred {
    /// Calls `f(state, index in pairs, a, b)` once for every deferred crowded pair, visiting the crowded
    /// blocks in parallel (a pair in several blocks is visited in whichever comes first); returns the
    /// states of the workers. What `f` computes must not depend on which worker visits a pair.
    pub fn visit_crowded<S: Send>(
        &self,
        init: impl Fn() -> S + Sync + Send,
        f: impl Fn(&mut S, usize, u32, u32) + Sync + Send,
    ) -> Vec<S> {
        use std::sync::atomic::{AtomicBool, Ordering};
        let done: Vec<AtomicBool> = (0..self.pairs.len())
            .map(|_| AtomicBool::new(false))
            .collect();
        // Where each account's run of pairs starts in `pairs` (accounts past the last pair: its end).
        let accounts = self.pairs.last().map_or(0, |&p| unpack(p).0 as usize + 1);
        let mut run_start = vec![self.pairs.len() as u32; accounts + 1];
        for (k, &p) in self.pairs.iter().enumerate().rev() {
            run_start[unpack(p).0 as usize] = k as u32;
        }
        for i in (0..accounts).rev() {
            run_start[i] = run_start[i].min(run_start[i + 1]);
        }
        let run_start = |i: u32| {
            run_start
                .get(i as usize)
                .map_or(self.pairs.len(), |&k| k as usize)
        };
        self.crowded_blocks
            .par_iter()
            .fold(&init, |mut state, r| {
                // Accounts ascend within a block: the pairs of `i` with the later accounts ascend too, and
                // are found by walking the run of `i`'s pairs in `pairs` (not a candidate if not there).
                let block = &self.crowded_accounts[r.clone()];
                for (x, &i) in block.iter().enumerate() {
                    let mut k = run_start(i);
                    for &j in &block[x + 1..] {
                        let p = pack(i, j);
                        while k < self.pairs.len() && self.pairs[k] < p {
                            k += 1;
                        }
                        if k == self.pairs.len() || (self.pairs[k] >> 32) as u32 != i {
                            break;
                        }
                        if self.pairs[k] == p && !done[k].swap(true, Ordering::Relaxed) {
                            f(&mut state, k, i, j);
                        }
                    }
                }
                state
            })
            .collect()
    }

    pub fn pairs(&self) -> u64 {
        self.blocks
            .iter()
            .map(|r| (r.len() as u64) * (r.len() as u64).saturating_sub(1) / 2)
            .sum()
    }
}

/// The pieces one after the other, copied side by side (the result is a few hundred MB at a million
/// accounts: one sequential copy of it was a tenth of blocking).
fn concat_parallel<T: Copy + Send + Sync>(parts: &[Vec<T>]) -> Vec<T> {
    let room: Vec<usize> = parts.iter().map(Vec::len).collect();
    fill_stretches(&room, |k, out| {
        out.write_copy_of_slice(&parts[k]);
        parts[k].len()
    })
}

/// The elements of `a` that are not in `b` (both sorted), in order: `a` taken a piece at a time, each
/// piece merged against the stretch of `b` its values span, found by one search (a search per element read
/// `b` at random: it is the candidate pairs, tens of megabytes).
fn sorted_minus(a: &[u64], b: &[u64]) -> Vec<u64> {
    const PIECE: usize = 1 << 16;
    let pieces: Vec<&[u64]> = a.chunks(PIECE).collect();
    let room: Vec<usize> = pieces.iter().map(|p| p.len()).collect();
    fill_stretches(&room, |k, out| {
        let piece = pieces[k];
        let mut j = b.partition_point(|&x| x < piece[0]);
        let mut n = 0;
        for &x in piece {
            while j < b.len() && b[j] < x {
                j += 1;
            }
            if j == b.len() || b[j] != x {
                out[n].write(x);
                n += 1;
            }
        }
        n
    })
}

/// One vector written in parallel, stretch by stretch, without a second copy of it: stretch `k` has room
/// for `room[k]` elements, `fill(k, stretch)` writes the first ones of its stretch and says how many (at
/// most its room); the stretches are then closed up, in order. (The vector asks for huge pages.)
fn fill_stretches<T: Copy + Send>(
    room: &[usize],
    fill: impl Fn(usize, &mut [std::mem::MaybeUninit<T>]) -> usize + Sync,
) -> Vec<T> {
    let total = room.iter().sum();
    let mut v: Vec<T> = Vec::with_capacity(total);
    crate::memory::advise_huge_pages(&v);
    let mut rest = &mut v.spare_capacity_mut()[..total];
    let mut stretches = Vec::with_capacity(room.len());
    for &r in room {
        let (head, tail) = rest.split_at_mut(r);
        stretches.push(head);
        rest = tail;
    }
    let written: Vec<usize> = stretches
        .into_par_iter()
        .enumerate()
        .map(|(k, out)| fill(k, out).min(room[k]))
        .collect();
    let (mut len, mut at) = (0, 0);
    let spare = v.spare_capacity_mut();
    for (&r, &w) in room.iter().zip(&written) {
        if at != len {
            spare.copy_within(at..at + w, len);
        }
        len += w;
        at += r;
    }
    // SAFETY: `fill` wrote (at least) the first `written[k]` elements of each stretch — it says so, and a
    // stretch is all it can reach — and the stretches were closed up in order, so the first `len` elements
    // of the room are all written.
    unsafe { v.set_len(len) };
    v
}

/// Whether a signal's values generate candidate pairs (up to the block-size cap).
pub fn is_blocked(s: Signal) -> bool {
    !COUNT_ONLY.contains(&s)
}

/// For each signal and frequency class, how many pairs of accounts share a value of that class: Σ k(k−1)/2
/// over the values held by k accounts. These are all the pairs at an `exact` level, candidates or not
/// (pairs sharing several values are counted once per value).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValuePairs {
    pub pairs: [[f64; crate::model::BUCKETS]; Signal::COUNT],
    /// Accounts holding at least one value of each signal.
    pub accounts_with: [u64; Signal::COUNT],
}

/// Document values up to this long get one-deletion keys (see `derived_keys`).
pub const MAX_KEYED_DOCUMENT: usize = 16;

/// The derived keys of account `i` into `out`, built in `buf` (reused: no allocation per account).
fn derived_keys(acc: &Accounts, i: usize, out: &mut Vec<(Derived, u64)>, buf: &mut Vec<u8>) {
    let forms = acc.names.get(i);
    let sorted = forms.sorted;
    let dob = acc.dob[i];
    let ph = acc.name_phonetic[i];
    let mut key = |kind: Derived, parts: &[&[u8]], buf: &mut Vec<u8>| {
        buf.clear();
        for p in parts {
            buf.extend_from_slice(p);
        }
        out.push((kind, tagged_hash(kind as u64, buf)));
    };
    let dob_bytes = dob.to_le_bytes();
    if !sorted.is_empty() && dob != 0 {
        key(Derived::NameDob, &[sorted.as_bytes(), &dob_bytes], buf);
    }
    if ph != 0 && dob != 0 {
        key(Derived::PhoneticDob, &[&ph.to_le_bytes(), &dob_bytes], buf);
    }
    // A short document number (a keyed-in id, not a hash) with one character deleted, for each position:
    // two numbers one substitution or transposition apart share one of these, so the `id_document_near`
    // level always has a key. Long values are hashes, which have no typos, and get none.
    let doc = acc.id_document.get(i).as_bytes();
    if (6..=MAX_KEYED_DOCUMENT).contains(&doc.len()) {
        for k in 0..doc.len() {
            key(
                Derived::IdDocumentDeletion,
                &[&doc[..k], &doc[k + 1..]],
                buf,
            );
        }
    }
    // Birth date with each part of the name alone, with each of its nickname relatives and with its sound:
    // a typo anywhere in the other parts (even in their first letters, which changes both the phonetic code
    // and the prefixes), a nickname (Bob / Robert) or a spelling variant (Smyth / Smith) still meets its
    // twin here — every pair at the name's `nickname, spelling variant` level with equal birth dates.
    if dob != 0 {
        let mut codes = forms.codes.split(' ');
        for tok in forms.formal.split(' ') {
            let code = codes.next();
            if tok.len() < 2 {
                continue;
            }
            key(Derived::DobNamePart, &[tok.as_bytes(), &dob_bytes], buf);
            for r in crate::normalize::name::nickname_relatives(tok) {
                key(Derived::DobNamePart, &[r.as_bytes(), &dob_bytes], buf);
            }
            if let Some(code) = code.filter(|c| !c.is_empty()) {
                key(
                    Derived::DobNamePart,
                    &[b"~", code.as_bytes(), &dob_bytes],
                    buf,
                );
            }
        }
    }
    // Birth date with the first three letters of every name token: a typo later in a name ("laveryy" /
    // "laverty") that changes its phonetic code still meets its twin here.
    if dob != 0 {
        let formal = forms.formal;
        if !formal.is_empty() {
            buf.clear();
            for tok in formal.split(' ') {
                buf.extend_from_slice(&tok.as_bytes()[..tok.len().min(3)]);
                buf.push(b' ');
            }
            buf.extend_from_slice(&dob_bytes);
            out.push((
                Derived::DobNamePrefix,
                tagged_hash(Derived::DobNamePrefix as u64, buf),
            ));
        }
    }
}

/// The merge of two sorted lists without repeats (`merge_steps`), each value marked with whether the first
/// list holds it.
fn merge_marked(first: &[u64], second: &[u64]) -> (Vec<u64>, Vec<bool>) {
    let (out, mark, _) = merge_steps(first, second, |s| {
        (matches!(s, Step::First(_) | Step::Both(..)), ())
    });
    (out, mark)
}

/// Where a value of the merge of two sorted lists without repeats is: its index in the first, in the second,
/// or in both.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Step {
    First(usize),
    Second(usize),
    Both(usize, usize),
}

impl Step {
    fn shifted(self, i: usize, j: usize) -> Step {
        match self {
            Step::First(a) => Step::First(a + i),
            Step::Second(b) => Step::Second(b + j),
            Step::Both(a, b) => Step::Both(a + i, b + j),
        }
    }
}

/// Pieces `merge_steps` cuts a merge into.
const MERGE_PIECES: usize = 64;

/// Each distinct value of two sorted lists without repeats, in order, as a `Step`.
fn walk_merge(first: &[u64], second: &[u64], mut step: impl FnMut(Step)) {
    let (mut i, mut j) = (0, 0);
    while i < first.len() || j < second.len() {
        if j == second.len() || (i < first.len() && first[i] < second[j]) {
            step(Step::First(i));
            i += 1;
        } else if i == first.len() || second[j] < first[i] {
            step(Step::Second(j));
            j += 1;
        } else {
            step(Step::Both(i, j));
            i += 1;
            j += 1;
        }
    }
}

/// Where `merge_steps` cuts two sorted lists: at values of the longer one, the same value in both lists on the
/// same side of every cut. From `(0, 0)` to both lengths (just `(0, 0)` when both are empty), never decreasing.
fn merge_cuts(first: &[u64], second: &[u64]) -> Vec<(usize, usize)> {
    let longer = if first.len() >= second.len() {
        first
    } else {
        second
    };
    let mut cuts = vec![(0, 0)];
    if longer.is_empty() {
        return cuts;
    }
    for p in 1..MERGE_PIECES {
        let v = longer[p * longer.len() / MERGE_PIECES];
        let cut = (
            first.partition_point(|&x| x < v),
            second.partition_point(|&x| x < v),
        );
        if cuts.last() != Some(&cut) {
            cuts.push(cut);
        }
    }
    cuts.push((first.len(), second.len()));
    cuts
}

/// The merge of two sorted lists without repeats — each value once, with the two things `f` makes of where
/// it was — on every worker: cut into pieces at the same values in both lists, each piece's values counted
/// and then written into its own stretch of outputs allocated once at their size. At ten million accounts the
/// lists are hundreds of MB; one thread merging them into memory never touched before (a page fault a page)
/// was most of blocking's serial time.
fn merge_steps<A: Send, B: Send>(
    first: &[u64],
    second: &[u64],
    f: impl Fn(Step) -> (A, B) + Sync,
) -> (Vec<u64>, Vec<A>, Vec<B>) {
    let cuts = merge_cuts(first, second);
    let pieces: Vec<_> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
    let lists =
        |((i0, j0), (i1, j1)): ((usize, usize), (usize, usize))| (&first[i0..i1], &second[j0..j1]);
    let counts: Vec<usize> = pieces
        .par_iter()
        .map(|&p| {
            let (a, b) = lists(p);
            let mut n = 0;
            walk_merge(a, b, |_| n += 1);
            n
        })
        .collect();
    let total: usize = counts.iter().sum();
    let (mut values, mut xs, mut ys) = (
        Vec::with_capacity(total),
        Vec::with_capacity(total),
        Vec::with_capacity(total),
    );
    crate::memory::advise_huge_pages(&values);
    crate::memory::advise_huge_pages(&xs);
    crate::memory::advise_huge_pages(&ys);
    let v_out = split_lengths(&mut values.spare_capacity_mut()[..total], &counts);
    let x_out = split_lengths(&mut xs.spare_capacity_mut()[..total], &counts);
    let y_out = split_lengths(&mut ys.spare_capacity_mut()[..total], &counts);
    pieces
        .into_par_iter()
        .zip(v_out)
        .zip(x_out)
        .zip(y_out)
        .for_each(|(((p, v), x), y)| {
            let (a, b) = lists(p);
            let ((i0, j0), _) = p;
            let mut k = 0;
            walk_merge(a, b, |s| {
                let s = s.shifted(i0, j0);
                let value = match s {
                    Step::First(i) | Step::Both(i, _) => first[i],
                    Step::Second(j) => second[j],
                };
                let (fx, fy) = f(s);
                v[k].write(value);
                x[k].write(fx);
                y[k].write(fy);
                k += 1;
            });
            // Every stretch written to its end: the same walk as counted.
            assert_eq!(k, v.len());
        });
    // SAFETY: the pieces' stretches tile the first `total` elements of each vector's room, and each piece wrote
    // its stretches to their end (asserted above; an overrun would have panicked on its index).
    unsafe {
        values.set_len(total);
        xs.set_len(total);
        ys.set_len(total);
    }
    (values, xs, ys)
}

/// `room` cut into consecutive stretches of these lengths.
fn split_lengths<'r, T>(mut room: &'r mut [T], lengths: &[usize]) -> Vec<&'r mut [T]> {
    let mut out = Vec::with_capacity(lengths.len());
    for &n in lengths {
        let (head, tail) = std::mem::take(&mut room).split_at_mut(n);
        out.push(head);
        room = tail;
    }
    out
}

/// Per account, the signals in which it holds a value held by more accounts than make a candidate pair
/// (`crowd_floor`). `block` adds the document bit to the holders of an oversized one-deletion key: two of
/// them can hold documents one keying error apart (a near level) and not be a candidate pair.
fn crowd_signals(acc: &Accounts, cap: usize) -> Vec<u16> {
    crate::memory::collect_advised((0..acc.len()).into_par_iter().map(|i| {
        KEYED
            .iter()
            .filter(|s| is_blocked(**s))
            .filter(|s| {
                let floor = crowd_floor(**s, cap);
                acc.signal(**s).freqs(i).iter().any(|&f| f as usize > floor)
            })
            .fold(0u16, |m, s| m | 1 << *s as u16)
    }))
}

/// What the walk over the sorted key entries finds, run by run (a run: the entries of one key).
#[derive(Default)]
struct Walk {
    distinct_keys: u64,
    blocks: u64,
    oversized_keys: u64,
    pairs_avoided: u64,
    pairs_by_key: std::collections::BTreeMap<&'static str, u64>,
    /// Per keyed signal and frequency class, pairs sharing a value (`ValuePairs::pairs`), as integers.
    value_pairs: [[u64; crate::model::BUCKETS]; Signal::COUNT],
    oversized: Vec<Oversized>,
    /// Entry ranges of the blocks that generate pairs, of common names, and of crowded deferrable keys, in
    /// key order (as `u32`, like the run starts: a shard holds fewer than 2^32 entries).
    runs: Vec<(u32, u32)>,
    common: Vec<(u32, u32)>,
    crowded: Vec<(u32, u32)>,
    /// Entry ranges of oversized one-deletion keys of documents: their holders may share a document one
    /// keying error apart without being a candidate pair (see `crowd_signals`).
    crowded_documents: Vec<(u32, u32)>,
}

impl Walk {
    /// This walk's runs followed by `later`'s.
    fn then(mut self, mut later: Walk) -> Walk {
        self.distinct_keys += later.distinct_keys;
        self.blocks += later.blocks;
        self.oversized_keys += later.oversized_keys;
        self.pairs_avoided += later.pairs_avoided;
        for (k, v) in later.pairs_by_key {
            *self.pairs_by_key.entry(k).or_insert(0) += v;
        }
        for (mine, theirs) in self.value_pairs.iter_mut().zip(later.value_pairs) {
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m += t;
            }
        }
        self.oversized.append(&mut later.oversized);
        self.runs.append(&mut later.runs);
        self.common.append(&mut later.common);
        self.crowded.append(&mut later.crowded);
        self.crowded_documents.append(&mut later.crowded_documents);
        self
    }

    /// Takes in the run `entries[start..end]`, writing its length as the frequency of its values.
    fn run(
        &mut self,
        entries: &[Entry],
        (start, end): (usize, usize),
        sig_of: &[u8],
        cap: usize,
        freq: &[AtomicU32],
    ) {
        // Accounts are distinct within a run: values are deduplicated per account, and derived keys are
        // one per account and kind — except a hash collision across kinds, which the pairs' dedup absorbs.
        let len = end - start;
        self.distinct_keys += 1;
        let slot = entries[start].slot;
        // Frequencies start at 1 (`walk_shards`): a value held once, most of them, is not written, and
        // what a longer run is keyed by is looked up for it alone (each is a read at random).
        if len < 2 {
            return;
        }
        for e in &entries[start..end] {
            if e.slot < NO_SLOT {
                freq[e.slot as usize].store(len as u32, Ordering::Relaxed);
            }
        }
        let keyed = (slot < NO_SLOT).then(|| KEYED[sig_of[slot as usize] as usize]);
        let pairs = (len as u64) * (len as u64 - 1) / 2;
        if let Some(s) = keyed {
            self.value_pairs[s as usize][crate::model::bucket(len as u32) as usize] += pairs;
        }
        let signal = match keyed {
            Some(s) => s.as_str(),
            None => Derived::ALL
                .iter()
                .find(|d| NO_SLOT + **d as u32 == slot)
                .map(|d| d.as_str())
                .unwrap_or("derived"),
        };
        if len > cap {
            if slot == NO_SLOT + Derived::IdDocumentDeletion as u32 {
                self.crowded_documents.push((start as u32, end as u32));
            }
            self.oversized_keys += 1;
            self.pairs_avoided += pairs;
            self.oversized.push(Oversized {
                key: format!("{:016x}", entries[start].key),
                signal,
                accounts: len,
                sample: entries[start..end]
                    .iter()
                    .take(3)
                    .map(|e| e.account)
                    .collect(),
                sample_account_ids: vec![],
            });
        } else if keyed == Some(Signal::Name) && len as u32 > NAME_EXPAND_MAX {
            self.common.push((start as u32, end as u32));
        } else if !keyed.is_some_and(|s| COUNT_ONLY.contains(&s)) {
            if len as u32 > NAME_EXPAND_MAX && deferrable(slot, sig_of) {
                self.crowded.push((start as u32, end as u32));
            }
            self.blocks += 1;
            *self.pairs_by_key.entry(signal).or_insert(0) += pairs;
            self.runs.push((start as u32, end as u32));
        }
    }
}

/// Runs walked by one worker at a time.
const WALK_PIECE: usize = 16 * 1024;

/// Walks the sorted entries run by run, the runs shared out among the workers: what the runs hold, and each
/// value's frequency (by slot).
fn walk_runs(entries: &[Entry], sig_of: &[u8], cap: usize, freq: &[AtomicU32]) -> Walk {
    // Where each run starts: found piece by piece, the pieces' lists joined in order, then dropped. As
    // `u32` (entries, like value slots in `Signals`' heads, number fewer than 2^32): one per distinct key,
    // these were 0.96 GB at ten million accounts as `usize`, and twice that while both lists lived.
    let pieces: Vec<Vec<u32>> = (0..entries.len().div_ceil(1 << 16))
        .into_par_iter()
        .map(|p| {
            let range = p << 16..((p + 1) << 16).min(entries.len());
            range
                .filter(|&i| i == 0 || entries[i].key != entries[i - 1].key)
                .map(|i| i as u32)
                .collect()
        })
        .collect();
    let starts = concat_parallel(&pieces);
    drop(pieces);
    starts
        .par_chunks(WALK_PIECE)
        .enumerate()
        .map(|(p, piece)| {
            let mut w = Walk::default();
            for (r, &start) in piece.iter().enumerate() {
                let end = starts
                    .get(p * WALK_PIECE + r + 1)
                    .map_or(entries.len(), |&e| e as usize);
                w.run(entries, (start as usize, end), sig_of, cap, freq);
            }
            w
        })
        .reduce(Walk::default, Walk::then)
}

/// Per value slot (a value's index in `acc.signals`, where its frequency goes), its signal: the index in
/// `KEYED`, which is `Signal::ALL`.
fn value_signals(acc: &Accounts) -> Vec<u8> {
    let n = acc.len();
    let sig_parts: Vec<Vec<u8>> = (0..n.div_ceil(1 << 16))
        .into_par_iter()
        .map(|p| {
            let mut v = Vec::new();
            for i in p << 16..((p + 1) << 16).min(n) {
                for (s, r) in acc.signals.account_slots(i) {
                    v.extend(std::iter::repeat_n(s as u8, r.len()));
                }
            }
            v
        })
        .collect();
    concat_parallel(&sig_parts)
}

/// A part of the key space: the keys whose top `bits` bits are `index`. Walking the shards one after the
/// other visits the keys in sorted order, and holds only one shard's entries at a time.
#[derive(Debug, Clone, Copy)]
struct Shard {
    index: u64,
    bits: u32,
}

impl Shard {
    fn holds(self, key: u64) -> bool {
        Shard::of_key(key, self.bits) as u64 == self.index
    }

    /// The index of the shard, of `1 << bits`, that holds `key`.
    fn of_key(key: u64, bits: u32) -> usize {
        if bits == 0 {
            0
        } else {
            (key >> (64 - bits)) as usize
        }
    }
}

/// Key entries held per shard at most (about; 16 bytes each, 256 MB): past it the key space is walked in
/// shards.
const SHARD_ENTRIES: usize = 16 << 20;

/// Derived keys per account, for the estimate of the entries before they are built: the name and birth-date
/// keys and a document's one-deletion keys come to about six on generated exports (6.1 at a million).
const DERIVED_PER_ACCOUNT: usize = 6;

/// At most this many shard bits: each shard scans every value again, and the later shards' derived keys wait
/// while the first is walked (`derived_by_shard`).
const MAX_SHARD_BITS: u32 = 2;

/// How many shard bits keep a shard's entries near `SHARD_ENTRIES` (within `MAX_SHARD_BITS`), for about
/// `entries` in all.
fn shard_bits(entries: usize) -> u32 {
    let mut bits = 0;
    while (entries >> bits) > SHARD_ENTRIES && bits < MAX_SHARD_BITS {
        bits += 1;
    }
    bits
}

/// Buckets per shard that the key entries are placed in by the bits of their key after the shard's (keys are
/// hashes: the buckets come out even), each then sorted on its own: at a million accounts, 18M entries in
/// buckets of ~17k (a quarter of a megabyte, which sorts in the core's own cache) instead of one sort whose first
/// passes stream the whole 288 MB again and again.
const BUCKET_BITS: u32 = 10;

impl Shard {
    /// The bucket of a key of this shard (`BUCKET_BITS` bits after the shard's).
    fn bucket(self, key: u64) -> usize {
        ((key << self.bits) >> (64 - BUCKET_BITS)) as usize
    }
}

/// Accounts are keyed in pieces of this many, each piece's entries built by one worker (with a byte buffer
/// for the derived keys) and written once, in place, into its own stretch of each bucket: building whole pieces
/// and copying them side by side held every entry twice (at ten million accounts 2.9 GB more).
const KEY_PIECE: usize = 16 * 1024;

/// The accounts of piece `p` of `n` accounts.
fn piece_accounts(n: usize, p: usize) -> std::ops::Range<usize> {
    p * KEY_PIECE..((p + 1) * KEY_PIECE).min(n)
}

/// The derived keys of every account, built once for all shards: for each shard, piece by piece, each
/// account's (deduplicated) in account order. Each shard's are taken when its turn comes and dropped with its
/// entries; built again for every shard, they were a fifth of the key step at ten million accounts (four
/// shards). The later shards' wait in vectors of their exact size.
fn derived_by_shard(acc: &Accounts, bits: u32) -> Vec<Vec<Vec<Entry>>> {
    let shards = 1usize << bits;
    let pieces: Vec<Vec<Vec<Entry>>> = (0..acc.len().div_ceil(KEY_PIECE))
        .into_par_iter()
        .map(|p| {
            let (mut all, mut d, mut buf) = (Vec::new(), Vec::new(), Vec::new());
            for i in piece_accounts(acc.len(), p) {
                d.clear();
                derived_keys(acc, i, &mut d, &mut buf);
                d.sort_unstable_by_key(|x: &(Derived, u64)| x.1);
                d.dedup_by_key(|x| x.1);
                all.extend(d.iter().map(|&(kind, key)| Entry {
                    key,
                    account: i as u32,
                    slot: NO_SLOT + kind as u32,
                }));
            }
            if shards == 1 {
                return vec![all];
            }
            let mut count = vec![0usize; shards];
            for e in &all {
                count[Shard::of_key(e.key, bits)] += 1;
            }
            let mut out: Vec<Vec<Entry>> = count.iter().map(|&c| Vec::with_capacity(c)).collect();
            for e in all {
                out[Shard::of_key(e.key, bits)].push(e);
            }
            out
        })
        .collect();
    let mut by_shard: Vec<Vec<Vec<Entry>>> = (0..shards)
        .map(|_| Vec::with_capacity(pieces.len()))
        .collect();
    for piece in pieces {
        for (s, v) in piece.into_iter().enumerate() {
            by_shard[s].push(v);
        }
    }
    by_shard
}

/// How many entries of the shard each piece puts in each bucket: its accounts' values of the shard and its
/// derived keys (`derived[p]`).
fn bucket_counts(acc: &Accounts, shard: Shard, derived: &[Vec<Entry>]) -> Vec<Vec<u32>> {
    let values = acc.signals.values();
    (0..derived.len())
        .into_par_iter()
        .map(|p| {
            let mut c = vec![0u32; 1 << BUCKET_BITS];
            let r = piece_accounts(acc.len(), p);
            let slots =
                acc.signals.account_range(r.start).start..acc.signals.account_range(r.end - 1).end;
            for &k in &values[slots] {
                if shard.holds(k) {
                    c[shard.bucket(k)] += 1;
                }
            }
            for e in &derived[p] {
                c[shard.bucket(e.key)] += 1;
            }
            c
        })
        .collect()
}

/// Each bucket's length: the sum of the pieces' counts for it.
fn bucket_lengths(counts: &[Vec<u32>]) -> Vec<usize> {
    (0..1 << BUCKET_BITS)
        .map(|b| counts.iter().map(|c| c[b] as usize).sum())
        .collect()
}

/// `entries` cut bucket after bucket, each bucket's stretch into the pieces' stretches in piece order: for each
/// piece, one disjoint stretch of every bucket, as long as `counts` says.
fn piece_stretches<'e, T>(entries: &'e mut [T], counts: &[Vec<u32>]) -> Vec<Vec<&'e mut [T]>> {
    let mut of_piece: Vec<Vec<&mut [T]>> = (0..counts.len())
        .map(|_| Vec::with_capacity(1 << BUCKET_BITS))
        .collect();
    let mut rest = entries;
    for b in 0..1 << BUCKET_BITS {
        for (stretches, count) in of_piece.iter_mut().zip(counts) {
            let (head, tail) = rest.split_at_mut(count[b] as usize);
            stretches.push(head);
            rest = tail;
        }
    }
    of_piece
}

/// The key occurrences of a shard: each value of each account and each account's derived keys, placed into
/// their key's bucket as they are written (piece of accounts after piece). `derived` is the shard's derived
/// keys piece by piece (`derived_by_shard`). Returns the buckets' lengths, for `sort_buckets`.
fn key_entries(
    acc: &Accounts,
    shard: Shard,
    derived: Vec<Vec<Entry>>,
    entries: &mut Vec<Entry>,
) -> Vec<usize> {
    let values = acc.signals.values();
    let t = std::time::Instant::now();
    let counts = bucket_counts(acc, shard, &derived);
    let t_counted = t.elapsed();
    let bucket_len = bucket_lengths(&counts);
    let total: usize = bucket_len.iter().sum();
    let zero = Entry {
        key: 0,
        account: 0,
        slot: 0,
    };
    entries.clear();
    if entries.capacity() < total {
        // Room for this shard and a little more: the shards are about the same size, and a vector grown by
        // a few entries would be copied (and, the shard before's memory not yet reused, held twice).
        *entries = Vec::with_capacity(total + total / 16);
    }
    // Filled by every worker: for the first shard this is the vector's first touch (a page fault per page,
    // the kernel zeroing it), which `resize` did on one thread (1M default: 0.62 s placing the first
    // shard's entries against 0.11 s for the second, which reuses the memory).
    rayon::iter::repeat_n(zero, total).collect_into_vec(entries);
    piece_stretches(entries, &counts)
        .into_par_iter()
        .zip(derived.par_iter())
        .enumerate()
        .for_each(|(p, (mut out, d))| {
            let mut at = vec![0usize; 1 << BUCKET_BITS];
            let mut put = |e: Entry| {
                let b = shard.bucket(e.key);
                out[b][at[b]] = e;
                at[b] += 1;
            };
            for i in piece_accounts(acc.len(), p) {
                for j in acc.signals.account_range(i) {
                    if shard.holds(values[j]) {
                        put(Entry {
                            key: values[j],
                            account: i as u32,
                            slot: j as u32,
                        });
                    }
                }
            }
            d.iter().for_each(|&e| put(e));
        });
    tracing::debug!(
        shard = shard.index,
        counted = ?t_counted,
        placed = ?(t.elapsed() - t_counted),
        "block: a shard's key entries"
    );
    bucket_len
}

/// Bits after a bucket's that `sort_split` splits a bucket by.
const SPLIT_BITS: u32 = 11;

/// What sorts by its leading bits first (`sort_split`): its order is that of `bits()`, then of the rest of it.
trait Leading: Ord + Copy + Send + Sync {
    fn bits(&self) -> u64;
}

impl Leading for Entry {
    fn bits(&self) -> u64 {
        self.key
    }
}

impl Leading for u64 {
    fn bits(&self) -> u64 {
        *self
    }
}

/// Sorts key entries placed in buckets of these lengths (`key_entries`) by shard `shard`'s keys: `sort_split`
/// past the shard's and the bucket's bits.
fn sort_key_buckets(entries: &mut [Entry], bucket_len: &[usize], shard: Shard) {
    sort_split(entries, bucket_len, shard.bits + BUCKET_BITS);
}

/// Sorts items placed in buckets of these lengths whose leading `used` bits set their bucket (all of a bucket
/// sort before the next bucket's): each bucket is split by the next `SPLIT_BITS` bits (a counting pass and a
/// scatter: keys are hashes and pairs spread over the accounts, so a bucket's thousands of items fall a handful
/// per part), then each part is sorted on its own. The order of sorting every bucket whole (`sort_buckets`) —
/// parts below all the next part's, and each sorted by everything — with a third of the comparisons.
fn sort_split<T: Leading>(items: &mut [T], bucket_len: &[usize], used: u32) {
    let buckets = bucket_slices(items, bucket_len);
    if used + SPLIT_BITS > 64 {
        buckets.into_par_iter().for_each(|b| b.sort_unstable());
        return;
    }
    let part = move |x: &T| ((x.bits() << used) >> (64 - SPLIT_BITS)) as usize;
    let state = || (Vec::new(), vec![0usize; (1 << SPLIT_BITS) + 1], Vec::new());
    buckets.into_par_iter().for_each_init(
        state,
        |(scratch, starts, at): &mut (Vec<T>, Vec<usize>, Vec<usize>), b| {
            // A small bucket is sorted whole (on small inputs most buckets hold a few items, or none).
            if b.len() < 512 {
                b.sort_unstable();
                return;
            }
            starts.fill(0);
            for x in b.iter() {
                starts[part(x) + 1] += 1;
            }
            for k in 1..starts.len() {
                starts[k] += starts[k - 1];
            }
            scratch.clear();
            scratch.extend_from_slice(b);
            at.clone_from(starts);
            for x in scratch.iter() {
                let p = part(x);
                b[at[p]] = *x;
                at[p] += 1;
            }
            for w in starts.windows(2) {
                b[w[0]..w[1]].sort_unstable();
            }
        },
    );
}

/// Sorts entries placed in buckets of these lengths (`key_entries`): the keys of one bucket all sort before
/// the next bucket's, so sorting each bucket on its own sorts them all (the reference `sort_split` is held to).
#[cfg(test)]
fn sort_buckets<T: Ord + Send>(entries: &mut [T], bucket_len: &[usize]) {
    bucket_slices(entries, bucket_len)
        .into_par_iter()
        .for_each(|b| b.sort_unstable());
}

/// The buckets of these lengths, one after the other in `items`.
fn bucket_slices<'a, T>(items: &'a mut [T], bucket_len: &[usize]) -> Vec<&'a mut [T]> {
    let mut rest = items;
    let mut buckets = Vec::with_capacity(bucket_len.len());
    for &len in bucket_len {
        let (head, tail) = rest.split_at_mut(len);
        buckets.push(head);
        rest = tail;
    }
    buckets
}

/// Builds the candidate pairs and fills in value frequencies on `acc`.
pub fn block(acc: &mut Accounts, cfg: &BlockingCfg) -> Candidates {
    let bits = shard_bits(acc.signals.values().len() + acc.len() * DERIVED_PER_ACCOUNT);
    block_in_shards(acc, cfg, bits)
}

/// `block`, with the key space walked in `1 << bits` shards.
fn block_in_shards(acc: &mut Accounts, cfg: &BlockingCfg, bits: u32) -> Candidates {
    let n = acc.len();
    let sig_of = value_signals(acc);
    let (walked, sharded) = walk_shards(acc, &sig_of, cfg.max_block_size, bits);
    let walk = sharded.walk;
    let mut stats = BlockStats {
        key_occurrences: sharded.key_occurrences,
        distinct_keys: walk.distinct_keys,
        blocks: walk.blocks,
        oversized_keys: walk.oversized_keys,
        pairs_avoided: walk.pairs_avoided,
        pairs_by_key: walk.pairs_by_key,
        ..Default::default()
    };
    let value_pairs = ValuePairs {
        // Integers below 2^53: the same f64 whatever the order they were summed in.
        pairs: walk.value_pairs.map(|buckets| buckets.map(|p| p as f64)),
        accounts_with: std::array::from_fn(|k| {
            let m = acc.signal(KEYED[k]);
            (0..n)
                .into_par_iter()
                .filter(|&i| !m.is_empty_at(i))
                .count() as u64
        }),
    };
    let mut deferred = sharded.deferred;
    stats.common_name_pairs = deferred.pairs();
    let mut crowd = crowd_signals(acc, cfg.max_block_size);
    for &a in &sharded.document_holders {
        crowd[a as usize] |= 1 << Signal::IdDocument as u16;
    }
    let mut oversized = walk.oversized;
    oversized.sort_by(|a, b| b.accounts.cmp(&a.accounts).then(a.key.cmp(&b.key)));
    oversized.truncate(20);
    stats.largest_oversized = oversized;
    let (block_accounts, blocks) = (sharded.block_accounts, sharded.blocks);
    let crowded_at = std::time::Instant::now();
    let (pairs, learn, network_only) = candidate_pairs(&block_accounts, &blocks, &mut stats);
    let (crowded_deferred, _) = expand(&block_accounts, &blocks, |b| {
        b.size == Size::CrowdedDeferred
    });
    drop(block_accounts);
    deferred.pairs = sorted_minus(&crowded_deferred, &pairs);
    drop(crowded_deferred);
    stats.deferred_pairs = deferred.pairs.len() as u64;
    let budget = (cfg.network_sample_pairs, cfg.max_block_size);
    let thinned = thin_network(acc, pairs, learn, network_only, budget);
    // So are the merged lists the thinning replaced.
    crate::memory::release_freed();
    stats.network_only_pairs = thinned.network_only;
    stats.network_sampled_pairs = thinned.sampled_count;
    stats.network_sample_step = thinned.step;
    stats.network_deferred_pairs = thinned.left_out.len() as u64;
    deferred.network = thinned.left_out;
    tracing::debug!(
        keys = ?walked.keys,
        sort = ?walked.sort,
        walk = ?walked.walk,
        shards = walked.shards,
        slots = acc.signals.values().len(),
        entries = stats.key_occurrences,
        crowd = ?crowded_at.duration_since(walked.done),
        expand = ?crowded_at.elapsed(),
        "block: seconds per step"
    );
    stats.candidate_pairs = thinned.pairs.len() as u64;
    Candidates {
        pairs: thinned.pairs,
        learn: thinned.learn,
        sampled: thinned.sampled,
        network_step: thinned.step,
        stats,
        value_pairs,
        deferred,
        crowd,
    }
}

/// Appends the accounts of the runs (entry ranges), run after run, and each run's range among them.
fn append_runs(
    entries: &[Entry],
    runs: &[(u32, u32)],
    accounts: &mut Vec<u32>,
    mut range: impl FnMut(std::ops::Range<usize>, &[Entry]),
) {
    accounts.reserve(runs.iter().map(|&(s, e)| (e - s) as usize).sum());
    for &(start, end) in runs {
        let from = accounts.len();
        let run = &entries[start as usize..end as usize];
        accounts.extend(run.iter().map(|e| e.account));
        range(from..accounts.len(), run);
    }
}

/// What walking the key shards found: the walk's counts and oversized keys, the deferred blocks, the blocks
/// that make pairs as account lists, and the holders of oversized one-deletion document keys.
struct Sharded {
    walk: Walk,
    key_occurrences: u64,
    deferred: Deferred,
    block_accounts: Vec<u32>,
    blocks: Vec<BlockOf>,
    document_holders: Vec<u32>,
}

impl Sharded {
    /// After the first of `shards` shards: room for all of them in the lists that grow shard by shard, in
    /// proportion to the first (keys are spread over the shards by their hash) and a little over. Grown by
    /// doubling instead, they were copied while the next shard's entries were held: blocking's peak memory.
    fn reserve_for_shards(&mut self, shards: usize) {
        fn more<T>(v: &mut Vec<T>, shards: usize) {
            let n = v.len();
            v.reserve_exact(n * (shards - 1) + n / 8);
        }
        if shards > 1 {
            more(&mut self.block_accounts, shards);
            more(&mut self.blocks, shards);
            more(&mut self.deferred.accounts, shards);
            more(&mut self.deferred.blocks, shards);
            more(&mut self.deferred.crowded_accounts, shards);
            more(&mut self.deferred.crowded_blocks, shards);
        }
    }

    /// Turns one shard's runs of key entries into account lists (blocks, common-name and crowded blocks,
    /// holders of crowded documents) and adds its counts, before the shard's entries are reused.
    fn take_runs(&mut self, entries: &[Entry], mut walk: Walk, sig_of: &[u8]) {
        self.key_occurrences += entries.len() as u64;
        let d = &mut self.deferred;
        d.blocks.reserve(walk.common.len());
        append_runs(entries, &walk.common, &mut d.accounts, |r, _| {
            d.blocks.push(r)
        });
        d.crowded_blocks.reserve(walk.crowded.len());
        append_runs(entries, &walk.crowded, &mut d.crowded_accounts, |r, _| {
            d.crowded_blocks.push(r)
        });
        for &(start, end) in &walk.crowded_documents {
            self.document_holders.extend(
                entries[start as usize..end as usize]
                    .iter()
                    .map(|e| e.account),
            );
        }
        self.blocks.reserve(walk.runs.len());
        append_runs(entries, &walk.runs, &mut self.block_accounts, |r, run| {
            self.blocks.push(BlockOf {
                range: (r.start as u32, r.end as u32),
                size: Size::of(run.len(), run[0].slot, sig_of),
                network: network_key(run[0].slot, sig_of),
            })
        });
        walk.runs = Vec::new();
        walk.common = Vec::new();
        walk.crowded = Vec::new();
        walk.crowded_documents = Vec::new();
        self.walk = std::mem::take(&mut self.walk).then(walk);
    }
}

/// Where the key step's time went, over all shards.
struct KeyTimes {
    keys: std::time::Duration,
    sort: std::time::Duration,
    walk: std::time::Duration,
    shards: u32,
    done: std::time::Instant,
}

/// Builds, sorts and walks the key entries shard by shard (`Shard`), writing each value's frequency to
/// `acc`, and turns each shard's runs into account lists before its entries are dropped: at ten million
/// accounts the 179M entries (2.9 GB) were the run's peak memory when held at once.
fn walk_shards(acc: &mut Accounts, sig_of: &[u8], cap: usize, bits: u32) -> (KeyTimes, Sharded) {
    let slots = acc.signals.values().len();
    // Every slot is in one run of one shard; the runs of one entry write nothing (`Walk::run`).
    let freq: Vec<AtomicU32> =
        crate::memory::collect_advised((0..slots).into_par_iter().map(|_| AtomicU32::new(1)));
    let mut out = Sharded {
        walk: Walk::default(),
        key_occurrences: 0,
        deferred: Deferred::default(),
        block_accounts: Vec::new(),
        blocks: Vec::new(),
        document_holders: Vec::new(),
    };
    let zero = std::time::Duration::ZERO;
    let mut times = KeyTimes {
        keys: zero,
        sort: zero,
        walk: zero,
        shards: 1 << bits,
        done: std::time::Instant::now(),
    };
    // One vector of entries serves every shard: a fresh one per shard came on top of the shard before's
    // memory (freed, but not yet returned to the system by the allocator).
    let mut entries = Vec::new();
    let t = std::time::Instant::now();
    let mut derived = derived_by_shard(acc, bits);
    times.keys += t.elapsed();
    tracing::debug!(secs = ?t.elapsed(), "block: derived keys");
    for index in 0..1u64 << bits {
        let t = std::time::Instant::now();
        let shard = Shard { index, bits };
        let mine = std::mem::take(&mut derived[index as usize]);
        let bucket_len = key_entries(acc, shard, mine, &mut entries);
        let keyed = std::time::Instant::now();
        sort_key_buckets(&mut entries, &bucket_len, shard);
        let sorted = std::time::Instant::now();
        let walk = walk_runs(&entries, sig_of, cap, &freq);
        out.take_runs(&entries, walk, sig_of);
        if index == 0 {
            out.reserve_for_shards(1 << bits);
        }
        times.keys += keyed - t;
        times.sort += sorted - keyed;
        times.walk += sorted.elapsed();
        if index + 1 < 1 << bits {
            // The shard's transients (derived keys, run lists) go back before the next shard makes its own.
            crate::memory::release_freed();
        }
    }
    // And the key entries, before the pairs are built (see `memory::release_freed`).
    drop(entries);
    crate::memory::release_freed();
    // Sequential on purpose: a `Vec`'s own `into_iter().map().collect()` reuses its allocation (hundreds of
    // MB at ten million accounts), where a parallel collect would fill fresh memory.
    acc.signals
        .set_freq(freq.into_iter().map(AtomicU32::into_inner).collect());
    times.done = std::time::Instant::now();
    (times, out)
}

/// What a block's pairs become: pairs of small blocks (values held by at most `NAME_EXPAND_MAX` accounts)
/// are what the model learns from (`Candidates::learn`); crowded blocks' pairs are candidates it does not
/// learn from; crowded blocks of deferrable keys make no candidates (`deferrable`).
#[derive(PartialEq, Clone, Copy, Debug)]
enum Size {
    Small,
    Crowded,
    CrowdedDeferred,
}

impl Size {
    fn of(len: usize, slot: u32, sig_of: &[u8]) -> Size {
        if len as u32 <= NAME_EXPAND_MAX {
            Size::Small
        } else if deferrable(slot, sig_of) {
            Size::CrowdedDeferred
        } else {
            Size::Crowded
        }
    }
}

/// A block that makes pairs: its range in the block account list, its size class, and whether its key is a
/// network's (`network_key`).
#[derive(Clone, Copy)]
struct BlockOf {
    /// As `u32` (like the run starts: fewer than 2^32 entries): at ten million accounts there are tens of
    /// millions of blocks.
    range: (u32, u32),
    size: Size,
    network: bool,
}

/// Whether a key is an IP address or range (a value key of `Ip` or `IpPrefix`): a pair only such keys
/// found shares a network and nothing else that blocks (see `thin_network`).
fn network_key(slot: u32, sig_of: &[u8]) -> bool {
    slot < NO_SLOT
        && matches!(
            KEYED[sig_of[slot as usize] as usize],
            Signal::Ip | Signal::IpPrefix
        )
}

/// Blocks whose pairs one worker places at a time (`expand`).
const EXPAND_PIECE: usize = 16 * 1024;

/// Each pair (packed) of distinct accounts of the blocks `ranges` of `block_accounts`, to `f`.
fn block_pairs(block_accounts: &[u32], ranges: &[(usize, usize)], mut f: impl FnMut(u64)) {
    for &(s, e) in ranges {
        let block = &block_accounts[s..e];
        for x in 0..block.len() {
            for &y in &block[x + 1..] {
                // An account holding the key twice (two addresses of one range) is no pair.
                if block[x] != y {
                    f(pack(block[x], y));
                }
            }
        }
    }
}

/// The pairs of the blocks `keep` selects (sorted, each once), with how many the blocks made (a pair two
/// blocks hold is made twice). The blocks are taken a piece at a time: each piece counts its pairs per bucket
/// (by the top bits of the pair's first account), then writes them straight into its own stretch of each
/// bucket of the one output vector, and each bucket is sorted and rid of repeats on its own (as the key
/// entries are sorted: `key_entries`). At ten million accounts these are hundreds of millions of pairs:
/// growing vectors, or pieces copied side by side afterwards, held the pairs twice at blocking's peak; and
/// their repeats removed by one worker took it two seconds.
fn expand(
    block_accounts: &[u32],
    blocks: &[BlockOf],
    keep: impl Fn(&BlockOf) -> bool + Sync,
) -> (Vec<u64>, usize) {
    let mine: Vec<(usize, usize)> = blocks
        .par_iter()
        .filter(|b| keep(b))
        .map(|b| (b.range.0 as usize, b.range.1 as usize))
        .collect();
    let pieces: Vec<&[(usize, usize)]> = mine.chunks(EXPAND_PIECE).collect();
    let top = block_accounts.par_iter().copied().max().unwrap_or(0);
    let shift = (32 - top.leading_zeros()).saturating_sub(BUCKET_BITS);
    let bucket = |pair: u64| ((pair >> 32) >> shift) as usize;
    let counts: Vec<Vec<u32>> = pieces
        .par_iter()
        .map(|ranges| {
            let mut c = vec![0u32; 1 << BUCKET_BITS];
            block_pairs(block_accounts, ranges, |p| c[bucket(p)] += 1);
            c
        })
        .collect();
    let bucket_len = bucket_lengths(&counts);
    let total: usize = bucket_len.iter().sum();
    let mut v: Vec<u64> = Vec::with_capacity(total);
    crate::memory::advise_huge_pages(&v);
    piece_stretches(&mut v.spare_capacity_mut()[..total], &counts)
        .into_par_iter()
        .zip(pieces.par_iter())
        .for_each(|(mut out, ranges)| {
            let mut at = vec![0usize; 1 << BUCKET_BITS];
            block_pairs(block_accounts, ranges, |p| {
                let b = bucket(p);
                out[b][at[b]].write(p);
                at[b] += 1;
            });
            // The same pairs as counted: every stretch written to its end (a stretch left short would leave
            // unwritten room below the length set next).
            assert!(out.iter().zip(&at).all(|(o, &n)| o.len() == n));
        });
    // SAFETY: the stretches of all pieces and buckets tile the first `total` elements of the room, and each was
    // written to its end (asserted above; an overrun would have panicked on its index).
    unsafe { v.set_len(total) };
    // A pair's bucket is its first account's top bits: the pair's leading `32 - shift` bits (those above are 0).
    sort_split(&mut v, &bucket_len, 32 - shift);
    dedup_buckets(&mut v, &bucket_len);
    (v, total)
}

/// Removes the repeats of items sorted bucket by bucket (buckets of `bucket_len`, equal items in one
/// bucket): each bucket on any worker, then the buckets closed up, in order.
fn dedup_buckets<T: Copy + PartialEq + Send>(v: &mut Vec<T>, bucket_len: &[usize]) {
    let kept: Vec<usize> = bucket_slices(v, bucket_len)
        .into_par_iter()
        .map(dedup_in_place)
        .collect();
    let (mut to, mut from) = (0, 0);
    for (&len, &k) in bucket_len.iter().zip(&kept) {
        v.copy_within(from..from + k, to);
        (to, from) = (to + k, from + len);
    }
    v.truncate(to);
}

/// Moves the distinct items of a sorted slice to its front, in order; how many there are.
fn dedup_in_place<T: Copy + PartialEq>(b: &mut [T]) -> usize {
    let mut kept = usize::from(!b.is_empty());
    for r in 1..b.len() {
        if b[r] != b[kept - 1] {
            b[kept] = b[r];
            kept += 1;
        }
    }
    kept
}

/// The candidate pairs of the small and crowded blocks (sorted, unique), whether a small block found each
/// (`Candidates::learn`), and whether only network keys found it. Counts the pairs before pairs found by
/// several keys are merged into `stats`.
fn candidate_pairs(
    block_accounts: &[u32],
    blocks: &[BlockOf],
    stats: &mut BlockStats,
) -> (Vec<u64>, Vec<bool>, Vec<bool>) {
    let mut before_dedup = 0;
    let mut pairs_of = |size: Size, network: bool| {
        let (pairs, made) = expand(block_accounts, blocks, |b| {
            b.size == size && b.network == network
        });
        before_dedup += made as u64;
        pairs
    };
    // Small and crowded blocks' pairs merged, for network keys and for the others apart; one kind's pieces at
    // a time (at ten million accounts the four pieces together were the run's peak memory).
    let mut merged = |network: bool| {
        let (small, crowded) = (
            pairs_of(Size::Small, network),
            pairs_of(Size::Crowded, network),
        );
        merge_marked(&small, &crowded)
    };
    let (other, other_learn) = merged(false);
    let (net, net_learn) = merged(true);
    stats.candidate_pairs_before_dedup = before_dedup;
    merge_steps(&other, &net, |s| match s {
        Step::First(i) => (other_learn[i], false),
        Step::Both(i, j) => (other_learn[i] || net_learn[j], false),
        Step::Second(j) => (net_learn[j], true),
    })
}

/// Whether two accounts that only network keys paired may share a home in the model's sense
/// (`model::slots_share_a_home`): an address held by at most `HOUSEHOLD_NETWORK_MAX` accounts, in a range
/// not over the cap (an address in a crowd's range is a pool address: `score::Comparer::ip`). With a cap
/// under `COLOCATED_MAX` a crowd card or device could place them together too: then always.
fn may_share_home(acc: &Accounts, a: usize, b: usize, cap: usize) -> bool {
    if cap < crate::model::COLOCATED_MAX as usize {
        return true;
    }
    let shares = |s: Signal, max: usize| {
        let m = acc.signal(s);
        let (va, fa, vb) = (m.get(a), m.freqs(a), m.get(b));
        va.iter()
            .zip(fa)
            .any(|(v, &f)| f as usize <= max && vb.contains(v))
    };
    shares(Signal::Ip, crate::model::HOUSEHOLD_NETWORK_MAX as usize)
        && shares(Signal::IpPrefix, cap)
}

/// Whether each account is sanctioned (banned or suspended), a bit per account: 125 KB at a million accounts.
fn sanctioned_bits(acc: &Accounts) -> crate::record::Bits {
    crate::record::Bits::from_fn(acc.len(), |i| acc.status[i].is_sanctioned())
}

/// The candidates after the network-only pairs are thinned (`thin_network`).
struct Thinned {
    pairs: Vec<u64>,
    learn: Vec<bool>,
    sampled: Vec<bool>,
    step: u64,
    network_only: u64,
    sampled_count: u64,
    /// The network-only pairs left out of the sample (sorted).
    left_out: Vec<u64>,
}

/// Thins the network-only pairs (`candidate_pairs`) to about `budget` of them. Such a pair shares an IP
/// address or range and nothing else that blocks: on a dense address pool (dynamic addresses, a campus, a
/// carrier's range) millions of strangers do, and comparing them all before estimation was most of a run.
/// Past the budget one in `step` of them (by a hash of the pair: the same export, the same sample) stays a
/// candidate and counts `step` times in the model's counts, an unbiased estimate of what all of them would
/// have counted; the others are checked after estimation under a bound (`score::score_deferred`, which
/// bounds the evasion profile too), so no link or near miss is lost. A pair of a sanctioned account and a
/// newer one that may share a home (`may_share_home`) is never thinned: the associate check reads the
/// candidates' levels. Under the budget nothing changes.
fn thin_network(
    acc: &Accounts,
    mut pairs: Vec<u64>,
    mut learn: Vec<bool>,
    network_only: Vec<bool>,
    (budget, cap): (u64, usize),
) -> Thinned {
    // Decided once per pair (the home check walks both accounts' addresses). A pair can be an evasion only
    // when one of the two is sanctioned and the other not: a bit per account, in cache, says so before
    // either account's dates are read.
    let sanctioned = sanctioned_bits(acc);
    let mut fate: Vec<Fate> = pairs
        .par_iter()
        .zip(&network_only)
        .map(|(&p, &only)| {
            let (a, b) = unpack(p);
            let (a, b) = (a as usize, b as usize);
            let thin = only
                && (sanctioned.get(a) == sanctioned.get(b)
                    || acc.evasion_direction(a, b).is_none()
                    || !may_share_home(acc, a, b, cap));
            if thin { Fate::Sampled } else { Fate::Kept }
        })
        .collect();
    let count = network_only.iter().filter(|&&x| x).count() as u64;
    drop(network_only);
    let eligible = fate.iter().filter(|&&f| f == Fate::Sampled).count() as u64;
    let step = eligible.div_ceil(budget.max(1)).max(1);
    if step == 1 {
        let sampled = vec![false; pairs.len()];
        return Thinned {
            pairs,
            learn,
            sampled,
            step,
            network_only: count,
            sampled_count: 0,
            left_out: Vec::new(),
        };
    }
    let in_sample = |p: u64| xxhash_rust::xxh3::xxh3_64(&p.to_le_bytes()).is_multiple_of(step);
    fate.par_iter_mut().zip(&pairs).for_each(|(f, &p)| {
        if *f == Fate::Sampled && !in_sample(p) {
            *f = Fate::LeftOut;
        }
    });
    // The pairs kept are moved to the front of their own vector, the left-out ones into a vector of the exact
    // size: at a million accounts of dense networks these are 12M and 7M pairs, and vectors grown push by
    // push (or a second copy of the kept ones) were blocking's peak memory.
    let left = fate.par_iter().filter(|&&f| f == Fate::LeftOut).count();
    let mut left_out = Vec::with_capacity(left);
    let mut sampled = Vec::with_capacity(pairs.len() - left);
    let mut kept = 0;
    for k in 0..pairs.len() {
        if fate[k] == Fate::LeftOut {
            left_out.push(pairs[k]);
            continue;
        }
        pairs[kept] = pairs[k];
        learn[kept] = learn[k];
        sampled.push(fate[k] == Fate::Sampled);
        kept += 1;
    }
    drop(fate);
    pairs.truncate(kept);
    learn.truncate(kept);
    pairs.shrink_to_fit();
    learn.shrink_to_fit();
    let sampled_count = sampled.iter().filter(|&&x| x).count() as u64;
    Thinned {
        pairs,
        learn,
        sampled,
        step,
        network_only: count,
        sampled_count,
        left_out,
    }
}

/// What `thin_network` does with a candidate pair.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Not thinnable: a candidate.
    Kept,
    /// Thinnable, and a candidate of the model's sample (all thinnable ones until the step is known).
    Sampled,
    /// Thinnable and left out of the sample: checked after estimation.
    LeftOut,
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::record::col;

    /// `sorted_minus` is the elements of one sorted list not in the other, across many pieces, with lists
    /// empty, disjoint, equal, overlapping, and repeated elements.
    #[test]
    fn sorted_minus_is_set_difference() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut sorted = |n: usize, top: u64| {
            let mut v: Vec<u64> = (0..n).map(|_| rng.random_range(0..top)).collect();
            v.sort_unstable();
            v
        };
        let big = sorted(300_000, 1_000_000);
        let cases = [
            (vec![], vec![]),
            (vec![], vec![1, 2]),
            (vec![1, 2, 2, 3], vec![]),
            (vec![1, 2, 2, 3], vec![2]),
            (vec![5, 6], vec![1, 2]),
            (big.clone(), big.clone()),
            (big.clone(), sorted(200_000, 1_000_000)),
            (sorted(200_000, 2_000_000), big.clone()),
        ];
        for (a, b) in cases {
            let want: Vec<u64> = a
                .iter()
                .copied()
                .filter(|x| b.binary_search(x).is_err())
                .collect();
            assert_eq!(sorted_minus(&a, &b), want, "{} minus {}", a.len(), b.len());
        }
    }

    /// The parallel concatenation (the one `unsafe` of blocking) is the plain one, empty pieces included.
    #[test]
    fn parallel_walk_is_the_sequential_walk() {
        use rand::{RngExt, SeedableRng};
        // Enough runs for many pieces of `walk_runs`, of every kind: single values, small blocks, crowded
        // and common names, oversized keys, derived and count-only keys.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        // Every key is of one signal, as in `block`; every seventh entry is a derived key.
        let mut sig_of = vec![0u8; 300_000];
        let mut entries: Vec<Entry> = (0..300_000u32)
            .map(|i| {
                let value = match i % 5 {
                    0 => u64::from(i),
                    1 => rng.random_range(0..50_000u64),
                    2 => rng.random_range(0..2_000u64),
                    3 => rng.random_range(0..100u64),
                    _ => rng.random_range(0..10u64),
                };
                // Spread over the key space (as hashes are), so that every piece meets every kind of run.
                let key = (value * 16 + u64::from(i % 3)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                sig_of[i as usize] = (key % Signal::COUNT as u64) as u8;
                let slot = if i % 7 == 0 { NO_SLOT + 1 + i % 5 } else { i };
                Entry {
                    key,
                    account: i,
                    slot,
                }
            })
            .collect();
        entries.sort_unstable();
        let cap = 1_000;
        let freq: Vec<AtomicU32> = (0..sig_of.len()).map(|_| AtomicU32::new(1)).collect();
        let walk = walk_runs(&entries, &sig_of, cap, &freq);
        let freq: Vec<u32> = freq.into_iter().map(AtomicU32::into_inner).collect();

        let seq_freq: Vec<AtomicU32> = (0..sig_of.len()).map(|_| AtomicU32::new(1)).collect();
        let mut seq = Walk::default();
        let mut start = 0;
        while start < entries.len() {
            let mut end = start + 1;
            while end < entries.len() && entries[end].key == entries[start].key {
                end += 1;
            }
            seq.run(&entries, (start, end), &sig_of, cap, &seq_freq);
            start = end;
        }
        assert!(
            seq.distinct_keys > 2 * WALK_PIECE as u64,
            "fewer than three pieces"
        );
        let kinds = (seq.common.len(), seq.crowded.len(), seq.oversized.len());
        assert!(kinds.0 > 0 && kinds.1 > 0 && kinds.2 > 0, "{kinds:?}");
        assert_eq!(walk.runs, seq.runs);
        assert_eq!(walk.common, seq.common);
        assert_eq!(walk.crowded, seq.crowded);
        assert_eq!(walk.oversized, seq.oversized);
        assert_eq!(walk.value_pairs, seq.value_pairs);
        assert_eq!(walk.pairs_by_key, seq.pairs_by_key);
        assert_eq!(
            (
                walk.distinct_keys,
                walk.blocks,
                walk.oversized_keys,
                walk.pairs_avoided
            ),
            (
                seq.distinct_keys,
                seq.blocks,
                seq.oversized_keys,
                seq.pairs_avoided
            )
        );
        let seq_freq: Vec<u32> = seq_freq.into_iter().map(AtomicU32::into_inner).collect();
        assert_eq!(freq, seq_freq);
    }

    #[test]
    fn parallel_concatenation_is_concatenation() {
        let parts: Vec<Vec<u64>> = (0..200u64)
            .map(|p| (0..(p * 7919) % 97).map(|i| p << 32 | i).collect())
            .collect();
        assert!(parts.iter().any(Vec::is_empty));
        assert_eq!(concat_parallel(&parts), parts.concat());
        assert!(concat_parallel::<u64>(&[]).is_empty());
    }

    #[test]
    fn expanding_blocks_is_every_pair_of_distinct_accounts() {
        // More blocks than three pieces of `expand`, of sizes 0..9, some holding an account twice (two
        // addresses of one range, which make no pair); accounts spread far (the buckets take their top bits)
        // and fewer than the buckets (each account its own bucket).
        for limit in [u32::MAX, 700] {
            expand_against_every_pair(limit);
        }
    }

    fn expand_against_every_pair(limit: u32) {
        let mut block_accounts = Vec::new();
        let mut blocks = Vec::new();
        for b in 0..(3 * EXPAND_PIECE + 500) as u32 {
            let from = block_accounts.len() as u32;
            for k in 0..(b * 7) % 10 {
                let account = if b % 3 == 0 && k == 2 {
                    b
                } else {
                    b + k * 5000
                };
                block_accounts.push(account % limit);
            }
            blocks.push(BlockOf {
                range: (from, block_accounts.len() as u32),
                size: if b % 2 == 0 {
                    Size::Small
                } else {
                    Size::Crowded
                },
                network: b % 5 == 0,
            });
        }
        for keep in [
            (|_: &BlockOf| true) as fn(&BlockOf) -> bool,
            |b| b.size == Size::Small,
            |b| b.network,
        ] {
            let mut want = Vec::new();
            for b in blocks.iter().filter(|b| keep(b)) {
                let block = &block_accounts[b.range.0 as usize..b.range.1 as usize];
                for x in 0..block.len() {
                    for y in x + 1..block.len() {
                        if block[x] != block[y] {
                            want.push(pack(block[x], block[y]));
                        }
                    }
                }
            }
            want.sort_unstable();
            // Pairs two blocks both make are made twice, and kept once.
            let made = want.len();
            want.dedup();
            assert!(want.len() < made);
            assert_eq!(expand(&block_accounts, &blocks, keep), (want, made));
        }
    }

    /// Accounts from (email, device) rows; `block` runs again in the test with its own cap.
    fn accounts(rows: &[(&str, &str)]) -> Accounts {
        let rows: Vec<Vec<(usize, &str)>> = rows
            .iter()
            .map(|&(e, d)| vec![(col::EMAIL, e), (col::DEVICE_IDS, d)])
            .collect();
        crate::normalize::test_accounts(&rows)
    }

    #[test]
    fn key_entries_across_pieces() {
        // More accounts than three pieces of the key step: accounts 2k and 2k+1 share an email and a device
        // (every third pair only the device); the pairs are exactly those, frequencies everywhere 2.
        let texts: Vec<(String, String)> = (0..40_000)
            .map(|i| {
                let email = if (i / 2) % 3 == 0 {
                    format!("solo{i}@x.com")
                } else {
                    format!("u{}@x.com", i / 2)
                };
                (email, format!("device-{:06}", i / 2))
            })
            .collect();
        let rows: Vec<(&str, &str)> = texts
            .iter()
            .map(|(e, d)| (e.as_str(), d.as_str()))
            .collect();
        let mut acc = accounts(&rows);
        let c = block(
            &mut acc,
            &BlockingCfg {
                max_block_size: 100,
                ..Default::default()
            },
        );
        let want: Vec<u64> = (0..20_000u32).map(|k| pack(2 * k, 2 * k + 1)).collect();
        assert_eq!(c.pairs, want);
        for i in [0, 16_383, 16_384, 32_769, 39_999] {
            assert_eq!(acc.signal(Signal::Device).freqs(i), &[2], "account {i}");
            let email = if (i / 2) % 3 == 0 { 1 } else { 2 };
            assert_eq!(acc.signal(Signal::Email).freqs(i), &[email], "account {i}");
        }
        assert!(frequencies_are_counts(&acc).contains(&1));
    }

    /// The entries placed in buckets and sorted bucket by bucket are every entry of the shard in sorted order:
    /// the same as all of them (values in slot order, then derived keys) sorted at once, for one shard and for
    /// each of four, on more accounts than two pieces, with keys met by several accounts and by one, and
    /// derived keys (a document's one-deletion keys) in every shard.
    #[test]
    fn bucketed_entries_are_the_sorted_entries() {
        let texts: Vec<[String; 3]> = (0..40_000)
            .map(|i| {
                [
                    format!("u{}@x.com", i / 3),
                    format!("device-{:06}", i % 7_000),
                    format!("{:07}", 4_331_000 + i / 2),
                ]
            })
            .collect();
        let rows: Vec<Vec<(usize, &str)>> = texts
            .iter()
            .map(|[e, d, doc]| {
                vec![
                    (col::EMAIL, e.as_str()),
                    (col::DEVICE_IDS, d.as_str()),
                    (col::ID_DOCUMENT_HASH, doc.as_str()),
                ]
            })
            .collect();
        let acc = crate::normalize::test_accounts(&rows);
        let (mut all, mut d, mut buf) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..acc.len() {
            for j in acc.signals.account_range(i) {
                all.push(Entry {
                    key: acc.signals.values()[j],
                    account: i as u32,
                    slot: j as u32,
                });
            }
            d.clear();
            derived_keys(&acc, i, &mut d, &mut buf);
            d.sort_unstable_by_key(|x: &(Derived, u64)| x.1);
            d.dedup_by_key(|x| x.1);
            all.extend(d.iter().map(|&(kind, key)| Entry {
                key,
                account: i as u32,
                slot: NO_SLOT + kind as u32,
            }));
        }
        all.sort_unstable();
        for bits in [0, 2] {
            let mut got = Vec::new();
            let mut derived = derived_by_shard(&acc, bits);
            assert_eq!(derived.len(), 1 << bits);
            for (index, pieces) in derived.iter().enumerate() {
                let shard = Shard {
                    index: index as u64,
                    bits,
                };
                let mine: Vec<&Entry> = pieces.iter().flatten().collect();
                assert!(mine.len() > 10_000, "{bits} bits: shard {index}");
                assert!(mine.iter().all(|e| shard.holds(e.key)));
            }
            for index in 0..1u64 << bits {
                let shard = Shard { index, bits };
                let mut entries = Vec::new();
                let mine = std::mem::take(&mut derived[index as usize]);
                let lens = key_entries(&acc, shard, mine, &mut entries);
                assert_eq!(lens.len(), 1 << BUCKET_BITS);
                assert!(lens.iter().filter(|&&l| l > 0).count() > 200, "{bits} bits");
                let mut whole = entries.clone();
                sort_buckets(&mut whole, &lens);
                sort_key_buckets(&mut entries, &lens, shard);
                assert!(
                    entries == whole,
                    "{bits} bits: split and whole sorts differ"
                );
                got.extend(entries);
            }
            assert_eq!(got.len(), all.len(), "{bits} bits");
            assert!(got == all, "{bits} bits: not the sorted entries");
        }
    }

    /// Splitting a bucket by its keys' next bits and sorting the parts is the whole bucket sorted, however
    /// the keys fall: all in one part (differing only in their low bits), one key held many times, keys at
    /// the parts' edges, an empty bucket.
    #[test]
    fn split_bucket_sort_is_the_whole_sort() {
        for bits in [0u32, 2] {
            let shard = Shard {
                index: 1 % (1 << bits),
                bits,
            };
            let top = if bits == 0 {
                0
            } else {
                shard.index << (64 - bits)
            };
            let mut next = crate::testing::xorshift(7);
            let mut buckets: Vec<Vec<Entry>> = vec![Vec::new(); 1 << BUCKET_BITS];
            for k in 0..20_000u64 {
                let r = next();
                let low = match k % 4 {
                    0 => r & 0xffff,                // one part
                    1 => 0x1234_5678,               // one key, many holders
                    2 => r >> (bits + BUCKET_BITS), // anywhere
                    _ => (r >> (bits + BUCKET_BITS)) | ((1u64 << (64 - bits - BUCKET_BITS)) - 1), // part edges
                };
                let bucket = r % 3; // three buckets used, the rest empty
                let key = top | bucket << (64 - bits - BUCKET_BITS) | low;
                assert_eq!(shard.bucket(key), bucket as usize);
                buckets[bucket as usize].push(Entry {
                    key,
                    account: (next() % 50) as u32,
                    slot: (next() % 7) as u32,
                });
            }
            let lens: Vec<usize> = buckets.iter().map(Vec::len).collect();
            let mut entries: Vec<Entry> = buckets.concat();
            let mut whole = entries.clone();
            sort_buckets(&mut whole, &lens);
            sort_key_buckets(&mut entries, &lens, shard);
            assert!(entries == whole, "{bits} bits");
            assert!(whole.windows(2).all(|w| w[0] <= w[1]));
        }
    }

    /// Asserts that every value's frequency is the number of slots holding it (an account holds a value
    /// once), counted here; returns the frequencies.
    fn frequencies_are_counts(acc: &Accounts) -> Vec<u32> {
        let mut held: std::collections::HashMap<u64, u32> = Default::default();
        for &v in acc.signals.values() {
            *held.entry(v).or_insert(0) += 1;
        }
        let counted: Vec<u32> = acc.signals.values().iter().map(|v| held[v]).collect();
        assert_eq!(acc.signals.freqs_all(), &counted[..]);
        counted
    }

    /// Walking the key space in shards changes nothing but memory: the same candidates, deferred blocks and
    /// pairs, crowd bits, frequencies and statistics as one walk, on data with every kind of block.
    #[test]
    fn sharded_walk_is_the_whole_walk() {
        let texts: Vec<[String; 5]> = (0..6_000)
            .map(|i| {
                // Emails of three, names of ~35 (common), /24 ranges of ~35 (crowded, deferred) with
                // addresses of ~3, devices of 60 (over the cap), documents of two and one keying error apart.
                [
                    format!("u{}@x.com", i / 3),
                    format!("Name{} Smith", i % 170),
                    format!("81.{}.9.{}", i % 170, (i / 170) % 12),
                    format!("dev-{:05}", i % 100),
                    format!("{:07}", 4_331_000 + i / 2),
                ]
            })
            .collect();
        let rows: Vec<Vec<(usize, &str)>> = texts
            .iter()
            .map(|[e, n, ip, d, doc]| {
                vec![
                    (col::EMAIL, e.as_str()),
                    (col::FULL_NAME, n.as_str()),
                    (col::IP_ADDRESSES, ip.as_str()),
                    (col::DEVICE_IDS, d.as_str()),
                    (col::ID_DOCUMENT_HASH, doc.as_str()),
                ]
            })
            .collect();
        let mut acc = crate::normalize::test_accounts(&rows);
        let cfg = BlockingCfg {
            max_block_size: 40,
            ..Default::default()
        };
        let whole = block_in_shards(&mut acc, &cfg, 0);
        let freq = acc.signals.freqs_all().to_vec();
        assert!(frequencies_are_counts(&acc).iter().any(|&f| f > 40));
        for bits in [1, 3] {
            let sharded = block_in_shards(&mut acc, &cfg, bits);
            assert_eq!(sharded.pairs, whole.pairs, "{bits} bits");
            assert_eq!(sharded.learn, whole.learn);
            assert_eq!(sharded.deferred.pairs, whole.deferred.pairs);
            assert_eq!(sharded.deferred.accounts, whole.deferred.accounts);
            assert_eq!(sharded.deferred.blocks, whole.deferred.blocks);
            assert_eq!(
                sharded.deferred.crowded_blocks,
                whole.deferred.crowded_blocks
            );
            assert_eq!(sharded.crowd, whole.crowd);
            assert_eq!(acc.signals.freqs_all(), &freq[..]);
            let (a, b) = (&sharded.stats, &whole.stats);
            assert_eq!(
                (
                    a.key_occurrences,
                    a.distinct_keys,
                    a.blocks,
                    a.oversized_keys,
                    a.pairs_avoided
                ),
                (
                    b.key_occurrences,
                    b.distinct_keys,
                    b.blocks,
                    b.oversized_keys,
                    b.pairs_avoided
                )
            );
            assert_eq!(a.pairs_by_key, b.pairs_by_key);
            assert_eq!(a.largest_oversized, b.largest_oversized);
            assert_eq!(sharded.value_pairs.pairs, whole.value_pairs.pairs);
        }
        // The data has what the test is for.
        assert!(!whole.deferred.blocks.is_empty() && !whole.deferred.pairs.is_empty());
        assert!(whole.stats.oversized_keys > 0 && whole.pairs.len() > 1_000);
    }

    #[test]
    fn frequencies_pairs_and_purging() {
        let mut acc = accounts(&[
            ("a@x.com", "dev-crowd-1"),
            ("a@x.com", "dev-crowd-1"),
            ("b@x.com", "dev-crowd-1"),
            ("c@x.com", "dev-pair-22"),
            ("d@x.com", "dev-pair-22"),
        ]);
        let cfg = BlockingCfg {
            max_block_size: 2,
            ..Default::default()
        };
        let c = block(&mut acc, &cfg);
        // The crowd device (3 accounts) is over the cap: no pairs from it, and it is reported.
        assert_eq!(c.stats.oversized_keys, 1);
        assert_eq!(c.stats.largest_oversized[0].signal, "device");
        assert_eq!(c.stats.largest_oversized[0].accounts, 3);
        assert_eq!(c.stats.pairs_avoided, 3);
        // The shared email and the pair device generate one pair each.
        let pairs: Vec<(u32, u32)> = c.pairs.iter().map(|&p| unpack(p)).collect();
        assert_eq!(pairs, vec![(0, 1), (3, 4)]);
        // Frequencies are written back whatever the cap.
        assert_eq!(acc.signal(Signal::Device).freqs(0), &[3]);
        assert_eq!(acc.signal(Signal::Device).freqs(3), &[2]);
        assert_eq!(acc.signal(Signal::Email).freqs(2), &[1]);
    }

    /// 900 groups of three accounts on one home network each (an address and its /24 alone): every third
    /// group also shares an email (not network-only), and every fifth holds a banned account, older than
    /// the others (its pairs with them are evasion pairs, never thinned).
    fn network_groups() -> Accounts {
        let texts: Vec<[String; 4]> = (0..2_700)
            .map(|i| {
                let g = i / 3;
                let email = if g % 3 == 0 {
                    format!("g{g}@x.com")
                } else {
                    format!("own{i}@x.com")
                };
                let banned = g % 5 == 0 && i % 3 == 0;
                [
                    email,
                    format!("81.{}.{}.7", g / 200, g % 200),
                    if banned { "banned" } else { "active" }.to_string(),
                    format!("2024-01-{:02}", 1 + i % 3),
                ]
            })
            .collect();
        let rows: Vec<Vec<(usize, &str)>> = texts
            .iter()
            .map(|[e, ip, st, at]| {
                vec![
                    (col::EMAIL, e.as_str()),
                    (col::IP_ADDRESSES, ip.as_str()),
                    (col::STATUS, st.as_str()),
                    (col::CREATED_AT, at.as_str()),
                ]
            })
            .collect();
        crate::normalize::test_accounts(&rows)
    }

    #[test]
    fn network_only_pairs_are_thinned_to_the_budget_and_none_is_lost() {
        let mut acc = network_groups();
        let all = block(&mut acc, &BlockingCfg::default());
        // 900 groups × 3 pairs; 600 groups share only their network.
        assert_eq!(all.pairs.len(), 2_700);
        assert_eq!(all.stats.network_only_pairs, 1_800);
        assert_eq!(
            all.stats.network_sample_step, 1,
            "under the budget nothing changes"
        );
        assert!(all.deferred.network.is_empty() && all.sampled.iter().all(|s| !s));
        let banned: Vec<bool> = (0..acc.len())
            .map(|i| acc.status[i].is_sanctioned())
            .collect();
        // All accounts of a group but the banned one are newer: every pair with it is an evasion pair.
        let evasion = |p: u64| {
            let (a, b) = unpack(p);
            banned[a as usize] != banned[b as usize]
        };
        // Network-only groups with a banned member: 120 (g % 5 == 0, g % 3 != 0), two evasion pairs each.
        let kept_whole = all.pairs.iter().filter(|&&p| evasion(p)).count();
        assert_eq!(kept_whole, 2 * 180);
        let cfg = BlockingCfg {
            network_sample_pairs: 100,
            ..Default::default()
        };
        let thin = block(&mut acc, &cfg);
        let eligible: u64 = 1_800 - 2 * 120;
        assert_eq!(thin.stats.network_sample_step, eligible.div_ceil(100));
        // Candidates and left-out pairs are the unthinned candidates, apart.
        let mut union: Vec<u64> = thin
            .pairs
            .iter()
            .chain(&thin.deferred.network)
            .copied()
            .collect();
        union.sort_unstable();
        assert_eq!(union, all.pairs);
        assert_eq!(
            thin.stats.network_deferred_pairs,
            thin.deferred.network.len() as u64
        );
        assert_eq!(thin.stats.candidate_pairs, thin.pairs.len() as u64);
        // The sample: network-only, never an evasion pair, about one in `step`.
        let sampled: Vec<u64> = thin
            .pairs
            .iter()
            .zip(&thin.sampled)
            .filter(|(_, s)| **s)
            .map(|(p, _)| *p)
            .collect();
        assert_eq!(sampled.len() as u64, thin.stats.network_sampled_pairs);
        assert_eq!(
            sampled.len() as u64 + thin.deferred.network.len() as u64,
            eligible
        );
        assert!(
            (50..=160).contains(&sampled.len()),
            "{} sampled",
            sampled.len()
        );
        assert!(
            sampled
                .iter()
                .chain(&thin.deferred.network)
                .all(|&p| !evasion(p))
        );
        assert!(
            all.pairs
                .iter()
                .filter(|&&p| evasion(p))
                .all(|p| thin.pairs.binary_search(p).is_ok())
        );
        // The model counts each sampled pair `step` times, every other candidate once.
        let w = thin.weights();
        let counted: u64 = (0..thin.pairs.len()).map(|i| w.of(i)).sum();
        assert_eq!(
            counted,
            thin.pairs.len() as u64 + (thin.stats.network_sample_step - 1) * sampled.len() as u64
        );
        // The same export, the same sample.
        let again = block(&mut acc, &cfg);
        assert_eq!(
            (again.pairs, again.sampled),
            (thin.pairs.clone(), thin.sampled.clone())
        );
        // A reviewed pair among the left-out ones becomes a candidate counted once, and leaves the list.
        let mut thin = thin;
        let reviewed = thin.deferred.network[3];
        thin.add_learnt(&[reviewed]);
        let at = thin.pairs.binary_search(&reviewed).unwrap();
        assert!(thin.learn[at] && !thin.sampled[at]);
        assert!(thin.deferred.network.binary_search(&reviewed).is_err());
        assert_eq!(
            thin.stats.network_deferred_pairs,
            thin.deferred.network.len() as u64
        );
        assert_eq!(thin.pairs.len(), thin.sampled.len());
    }

    /// An evasion pair on a pool address (held by more than a home's accounts) is thinned like any other;
    /// one on a home network stays a candidate for the associate check.
    #[test]
    fn evasion_pairs_are_kept_only_where_they_may_share_a_home() {
        let texts: Vec<[String; 3]> = (0..27)
            .map(|i| {
                let ip = if i < 24 { "81.9.9.9" } else { "82.1.2.3" };
                let status = if i == 0 || i == 24 {
                    "banned"
                } else {
                    "active"
                };
                [
                    ip.to_string(),
                    status.to_string(),
                    format!("2024-01-{:02}", 1 + i % 24),
                ]
            })
            .collect();
        let rows: Vec<Vec<(usize, &str)>> = texts
            .iter()
            .map(|[ip, st, at]| {
                vec![
                    (col::IP_ADDRESSES, ip.as_str()),
                    (col::STATUS, st.as_str()),
                    (col::CREATED_AT, at.as_str()),
                ]
            })
            .collect();
        let mut acc = crate::normalize::test_accounts(&rows);
        let cfg = BlockingCfg {
            network_sample_pairs: 1,
            ..Default::default()
        };
        let c = block(&mut acc, &cfg);
        // 276 pairs on the pool address, 3 on the home network: all network-only.
        assert_eq!(c.stats.network_only_pairs, 276 + 3);
        // Only the home's two evasion pairs are never thinned.
        assert_eq!(c.stats.network_sample_step, 277);
        assert_eq!(
            c.stats.network_sampled_pairs + c.stats.network_deferred_pairs,
            277
        );
        assert!(c.pairs.contains(&pack(24, 25)) && c.pairs.contains(&pack(24, 26)));
    }

    /// One bit per account, sanctioned or not, past a word boundary and with a last word part full.
    #[test]
    fn sanctioned_bits_are_the_statuses() {
        let statuses = ["active", "banned", "suspended", "closed", "active", ""];
        let texts: Vec<String> = (0..150).map(|i| format!("u{i}@x.com")).collect();
        let rows: Vec<Vec<(usize, &str)>> = texts
            .iter()
            .enumerate()
            .map(|(i, e)| {
                vec![
                    (col::EMAIL, e.as_str()),
                    (col::STATUS, statuses[(i * 7) % 6]),
                ]
            })
            .collect();
        let acc = crate::normalize::test_accounts(&rows);
        let bits = sanctioned_bits(&acc);
        assert!(!bits.get(acc.len()));
        for i in 0..acc.len() {
            assert_eq!(bits.get(i), acc.status[i].is_sanctioned(), "account {i}");
        }
        assert!((0..acc.len()).filter(|&i| bits.get(i)).count() > 40);
    }

    #[test]
    fn adding_learnt_pairs_keeps_the_marks() {
        let mut acc = accounts(&[("a@x.com", ""), ("a@x.com", "")]);
        let mut c = block(&mut acc, &BlockingCfg::default());
        c.pairs = vec![pack(0, 1), pack(0, 3), pack(2, 3)];
        c.learn = vec![true, false, false];
        c.sampled = vec![false, true, false];
        c.deferred.network = vec![pack(0, 2), pack(1, 9), pack(4, 5), pack(5, 6), pack(7, 8)];
        c.add_learnt(&[pack(0, 2), pack(0, 3), pack(5, 6)]);
        // A learnt pair is a candidate now, no longer a network pair left out of the sample.
        assert_eq!(c.deferred.network, vec![pack(1, 9), pack(4, 5), pack(7, 8)]);
        assert_eq!(
            c.pairs,
            vec![pack(0, 1), pack(0, 2), pack(0, 3), pack(2, 3), pack(5, 6)]
        );
        assert_eq!(c.learn, vec![true, true, true, false, true]);
        assert_eq!(c.sampled, vec![false, false, false, false, false]);
    }

    #[test]
    fn merge_marks_the_first_list() {
        let (all, mark) = merge_marked(&[1, 4, 6], &[2, 4, 7]);
        assert_eq!(all, vec![1, 2, 4, 6, 7]);
        assert_eq!(mark, vec![true, false, true, true, false]);
    }

    /// Repeats removed bucket by bucket are `Vec::dedup`'s: empty buckets, buckets of one value, buckets
    /// without repeats, first and last buckets among them.
    #[test]
    fn repeats_removed_in_buckets_are_dedups() {
        let cases: [(&[u64], &[usize]); 6] = [
            (&[], &[]),
            (&[], &[0, 0]),
            (&[1, 1, 1], &[3]),
            (&[1, 2, 3, 7, 8], &[0, 3, 0, 2]),
            (&[1, 1, 2, 5, 5, 5, 9, 10, 10], &[3, 3, 0, 3]),
            (&[4, 4, 6, 6, 6, 8], &[2, 0, 3, 1, 0]),
        ];
        for (items, lens) in cases {
            let mut got = items.to_vec();
            dedup_buckets(&mut got, lens);
            let mut want = items.to_vec();
            want.dedup();
            assert_eq!(got, want, "{items:?} in buckets {lens:?}");
        }
    }

    /// The merge cut into pieces on every worker is the sequential merge: lists far longer than the pieces,
    /// runs of values in one list only, values in both at the cuts, one list or both empty.
    #[test]
    fn merge_in_pieces_is_the_sequential_merge() {
        let reference = |a: &[u64], b: &[u64]| {
            let mut all: Vec<(u64, Step)> = a
                .iter()
                .enumerate()
                .map(|(i, &v)| (v, Step::First(i)))
                .collect();
            for (j, &v) in b.iter().enumerate() {
                match all.iter_mut().find(|(w, _)| *w == v) {
                    Some((_, s @ Step::First(_))) => {
                        let Step::First(i) = *s else { unreachable!() };
                        *s = Step::Both(i, j);
                    }
                    _ => all.push((v, Step::Second(j))),
                }
            }
            all.sort_by_key(|&(v, _)| v);
            all
        };
        let mut x = 12345u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut cases: Vec<(Vec<u64>, Vec<u64>)> =
            vec![(vec![], vec![]), (vec![5], vec![]), (vec![], vec![1, 2])];
        for _ in 0..4 {
            let (mut a, mut b) = (vec![], vec![]);
            let mut v = 0u64;
            for _ in 0..3000 {
                v += 1 + next() % 3;
                match next() % 10 {
                    0..=4 => a.push(v),
                    5..=7 => b.push(v),
                    _ => {
                        a.push(v);
                        b.push(v);
                    }
                }
            }
            cases.push((a, b));
        }
        for (a, b) in &cases {
            let (values, steps, nothing) = merge_steps(a, b, |s| (s, ()));
            let want = reference(a, b);
            assert_eq!(values, want.iter().map(|&(v, _)| v).collect::<Vec<_>>());
            assert_eq!(steps, want.iter().map(|&(_, s)| s).collect::<Vec<_>>());
            assert_eq!(nothing.len(), values.len());
            assert!(a.len() < 100 || merge_cuts(a, b).len() > MERGE_PIECES / 2);
        }
    }

    #[test]
    fn pack_orders_and_roundtrips() {
        assert_eq!(unpack(pack(7, 3)), (3, 7));
        assert_eq!(pack(3, 7), pack(7, 3));
    }
}

//! sybilscan finds duplicate and ban-evading accounts in a marketplace export. The stages, in the order
//! `pipeline` runs them: `load` (CSV/Parquet, quarantine) → `normalize` (per signal) → `block` (xxh3 keys,
//! crowd caps, candidates) → `estimate` (the `model`'s m, u and prior learned from the export by EM) →
//! `score` (Fellegi–Sunter weights) → `cluster` (guarded union) → `policy` (verdicts) → `report` (atomic,
//! spreadsheet-safe files). `synth` and `evaluate` generate data with ground truth and measure results
//! against it.

/// The `with_max_len` of a parallel loop over chunks of work (of pairs, of rows): one chunk per rayon job.
/// Rayon cuts a loop into a few pieces and cuts further only where a worker steals, so near the end one worker
/// could be left alone with a long piece: up to 3 s of the comparing at ten million accounts, the other worker
/// idle. A chunk is milliseconds of work; a job's own cost is microseconds.
pub const BALANCED: usize = 1;

pub mod bids;
pub mod block;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod conceal;
pub mod config;
pub mod error;
pub mod estimate;
pub mod evaluate;
pub mod history;
pub mod load;
pub mod memory;
pub mod model;
pub mod normalize;
pub mod pipeline;
pub mod policy;
pub mod record;
pub mod report;
pub mod score;
pub mod summary;
pub mod synth;

/// What several modules' tests share.
#[cfg(test)]
pub(crate) mod testing {
    /// A small deterministic generator (xorshift64) from a non-zero seed, for randomized comparisons with a
    /// reference.
    pub fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// `xorshift` as numbers below the bound each call asks for.
    pub fn below(seed: u64) -> impl FnMut(u64) -> u64 {
        let mut next = xorshift(seed);
        move |n: u64| next() % n
    }
}

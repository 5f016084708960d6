//! What a run counted, written as `summary.json`: rows read, used and quarantined, blocking, scoring and
//! clustering statistics, verdicts, the model, the side files' counts and the timings. The pipeline fills it,
//! the report writes it; neither imports the other for it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::block::BlockStats;
use crate::cluster::ClusterStats;
use crate::config::Config;
use crate::load::Header;
use crate::model::Model;
use crate::normalize::ProblemCounts;
use crate::policy::Verdicts;
use crate::score;

#[derive(Debug, Clone, Default, Serialize)]
pub struct RowCounts {
    pub read: u64,
    pub used: u64,
    pub quarantined: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ScoreStats {
    pub link_weight: f64,
    pub near_miss_weight: f64,
    pub pairs_scored: u64,
    pub links: u64,
    pub near_misses: u64,
    pub evasion_profile_links: u64,
    /// Deferred pairs (common-name blocks, pairs only crowded blocks of weak keys found): how many there
    /// were, how many could reach the near-miss line and were scored.
    pub deferred: score::DeferredStats,
}

/// Rows of the reviews file: read, used, naming an account not in the export, naming one account twice.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReviewCounts {
    pub read: u64,
    pub used: u64,
    pub unknown_accounts: u64,
    pub self_reviews: u64,
}

impl ReviewCounts {
    pub fn of(r: &crate::policy::ReviewIndex) -> Self {
        ReviewCounts {
            read: r.rows,
            used: r.reviews.len() as u64,
            unknown_accounts: r.unknown_accounts,
            self_reviews: r.self_reviews,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct BidCounts {
    pub read: u64,
    pub used: u64,
    pub unknown_accounts: u64,
    pub quarantined: u64,
    pub jobs: u64,
}

impl BidCounts {
    pub fn of(b: &crate::bids::BidIndex) -> Self {
        BidCounts {
            read: b.rows,
            used: b.used,
            unknown_accounts: b.unknown_accounts,
            quarantined: b.quarantined.len() as u64,
            jobs: b.jobs.len() as u64,
        }
    }
}

/// Everything a run counted; written as `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub version: &'static str,
    pub input: String,
    pub reviews_input: Option<String>,
    pub bids_input: Option<String>,
    pub previous_run: Option<String>,
    pub decisions_input: Option<String>,
    pub run_date: String,
    /// The first cluster id number no run has used yet (read by the next run's `--previous`).
    pub next_cluster_id: u64,
    pub rows: RowCounts,
    /// Reviewer decisions: rows read and used, rejected rows with their lines, clusters dismissed.
    pub decisions: Option<crate::history::DecisionCounts>,
    /// Clusters by change since the previous run.
    pub changes: BTreeMap<&'static str, u64>,
    /// Rows of the reviews file: read, used, naming unknown accounts, self-reviews (with `--reviews`).
    pub reviews: Option<ReviewCounts>,
    /// Rows of the bids file: read, used, naming unknown accounts, quarantined (with `--bids`).
    pub bids: Option<BidCounts>,
    pub columns: Header,
    pub invalid_values: ProblemCounts,
    pub blocking: BlockStats,
    pub scoring: ScoreStats,
    pub clustering: ClusterStats,
    pub clusters: u64,
    pub accounts_in_clusters: u64,
    pub clusters_by_size: BTreeMap<usize, u64>,
    pub verdicts: Verdicts,
    /// The match model used (also written alone as `model.json`).
    pub model: Model,
    /// Seconds per stage. With `threads`, the only fields that differ between two runs on the same input.
    pub timings_seconds: BTreeMap<&'static str, f64>,
    pub threads: usize,
    pub config: Config,
}

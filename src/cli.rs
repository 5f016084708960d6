//! The command line: what the user typed, per subcommand (clap derive). No logic lives here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "sybilscan",
    version,
    about = "Finds duplicate and ban-evading accounts in a marketplace export.",
    after_help = "Exit codes: 0 success, 1 internal error, 2 usage error, 3 input error (file, required column, \
                  unreadable CSV/Parquet), 4 config error, 5 output not writable. Bad rows never stop a run: they \
                  go to quarantine.csv with their line numbers."
)]
pub struct Cli {
    /// Log level for stage counts and timings on stderr (error, warn, info, debug); or set RUST_LOG.
    #[arg(long, global = true, default_value = "info")]
    pub log: String,
    /// Log format on stderr: `text` (colour only on a terminal) or `json` (one object per line, for log
    /// shippers).
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline on an accounts export and write the review files.
    Run(RunArgs),
    /// Estimate the match model of an export and save it, without scoring (apply it with `run --model`).
    Train(TrainArgs),
    /// Show the per-signal weights of one pair from a finished run, as a waterfall.
    Explain(ExplainArgs),
    /// Write a synthetic marketplace with ground truth (accounts.csv, reviews.csv, truth.csv).
    Generate(GenerateArgs),
    /// Score clusters.csv against truth.csv: pairwise and B-cubed precision/recall/F1, per-scenario recall.
    Evaluate(EvaluateArgs),
    /// Record a reviewer's decision on a cluster of a finished run: every pair of its accounts is appended to
    /// the decisions file (atomically), which the next `run --decisions` reads.
    Decide(DecideArgs),
}

#[derive(Debug, Args)]
pub struct DecideArgs {
    /// The run's output directory (its clusters.csv names the cluster's accounts).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Cluster id, as in clusters.csv (`C000042`).
    #[arg(long, value_name = "ID")]
    pub cluster: String,
    /// `same` (one person: keep them together, stop queueing) or `different` (never join them again).
    #[arg(long, value_name = "same|different")]
    pub decision: String,
    /// Who decided.
    #[arg(long, value_name = "NAME")]
    pub reviewer: String,
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub note: String,
    /// The decisions file to append to (created with its header when missing).
    #[arg(long, value_name = "FILE")]
    pub decisions: PathBuf,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The accounts export: .csv (UTF-8, header) or .parquet, with the contract's columns.
    #[arg(long, value_name = "PATH")]
    pub accounts: PathBuf,
    /// Output directory (created if missing); files in it are replaced atomically.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// TOML file: column mapping, thresholds, m/u values, caps. Every setting has a default.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Worker threads (default: one per core). Output does not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Optional reviews file (reviewer_id, reviewee_id, rating, created_at) for review-ring detection.
    #[arg(long, value_name = "PATH")]
    pub reviews: Option<PathBuf>,
    /// Optional bids file (account_id, job_id, created_at[, amount]): accounts of one person bidding on one
    /// job are `self_bidding`; bidding on the same jobs within minutes is weak evidence.
    #[arg(long, value_name = "PATH")]
    pub bids: Option<PathBuf>,
    /// Replace names and emails in the review files by keyed tokens (key: SYBILSCAN_REDACT_KEY or
    /// --redact-key-file; without one the run stops with exit 4), and quarantined rows by their line and reason.
    #[arg(long)]
    pub redact: bool,
    /// File holding the redaction key (at least 16 bytes); default: the SYBILSCAN_REDACT_KEY variable.
    #[arg(long, value_name = "FILE", requires = "redact")]
    pub redact_key_file: Option<PathBuf>,
    /// Override scoring.link_probability: pairs at or above this match probability are links.
    #[arg(long, value_name = "P")]
    pub link_probability: Option<f64>,
    /// Override blocking.max_block_size: keys held by more accounts generate no pairs.
    #[arg(long, value_name = "N")]
    pub max_block_size: Option<usize>,
    /// Override input.delimiter: the CSV field delimiter, one character (`tab` or `\t` for a tab; default: tab for .tsv files, comma otherwise).
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,
    /// Override input.max_quarantined_share: stop (exit 3) when more than this share of the rows (0–1) is
    /// quarantined — the export is broken; quarantine.csv is still written.
    #[arg(long, value_name = "SHARE", overrides_with = "max_quarantined_share")]
    pub max_quarantined_share: Option<f64>,
    /// Apply a saved model (a model.json from an earlier run or from `train`) instead of estimating one
    /// from this export.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// An earlier run's output directory: clusters keep their ids, and changes.csv says what changed.
    #[arg(long, value_name = "DIR")]
    pub previous: Option<PathBuf>,
    /// Reviewer decisions (account_id_a, account_id_b, decision same|different, reviewer, decided_at, note),
    /// as `sybilscan decide` writes them.
    #[arg(long, value_name = "FILE")]
    pub decisions: Option<PathBuf>,
    /// Do not write review.html.
    #[arg(long)]
    pub no_html: bool,
    /// This run's date for `first_seen` (YYYY-MM-DD; default: today, UTC).
    #[arg(long, value_name = "DATE")]
    pub run_date: Option<String>,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The accounts export to learn from (as for `run`).
    #[arg(long, value_name = "PATH")]
    pub accounts: PathBuf,
    /// Where to write the model (JSON, as `run` writes model.json).
    #[arg(long, value_name = "FILE")]
    pub model_out: PathBuf,
    /// TOML file: column mapping and settings, as for `run`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Optional reviews file, as for `run`.
    #[arg(long, value_name = "PATH")]
    pub reviews: Option<PathBuf>,
    /// Optional bids file, as for `run`.
    #[arg(long, value_name = "PATH")]
    pub bids: Option<PathBuf>,
    /// Worker threads (default: one per core). The model does not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Override input.max_quarantined_share: write no model (exit 3) when more than this share of the rows
    /// (0–1) is quarantined, as for `run`.
    #[arg(long, value_name = "SHARE", overrides_with = "max_quarantined_share")]
    pub max_quarantined_share: Option<f64>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The output directory of a finished run (its summary.json names the input and config).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// account_id of the first account.
    pub account_a: String,
    /// account_id of the second account.
    pub account_b: String,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// How many accounts to write.
    #[arg(long, value_name = "N")]
    pub accounts: u64,
    /// Random seed: the same seed writes the same files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// `default` (the fixed mix the benchmarks use), `random` (every scenario weight and rate drawn from
    /// its documented range by the seed: five seeds, five marketplaces) or `dense` (the default mix on
    /// networks shaped unlike it: many IPs per account from dense ranges, carrier NAT, office devices) or
    /// `sparse` (the default rates with a tenth of the people who hold several accounts: the candidates are
    /// mostly housemates and colleagues) or `sparse-random` (a `random` profile with second accounts as rare).
    /// The rates used go to profile.json.
    #[arg(long, default_value = "default", value_name = "NAME")]
    pub profile: String,
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// truth.csv from `generate` (account_id, person_id, scenario).
    #[arg(long, value_name = "PATH")]
    pub truth: PathBuf,
    /// clusters.csv from `run`.
    #[arg(long, value_name = "PATH")]
    pub clusters: PathBuf,
    /// The bids file the run was given: self-bidding is measured against the pairs of one person's accounts
    /// that bid on one job.
    #[arg(long, value_name = "PATH")]
    pub bids: Option<PathBuf>,
    /// The accounts file the run read (its account_id and status): which households, agencies and
    /// coworking spaces hold a sanctioned account, for the share of their other people named as evaders.
    #[arg(long, value_name = "PATH")]
    pub accounts: Option<PathBuf>,
    /// Where to write the metrics as JSON (default: evaluation.json beside clusters.csv).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
}

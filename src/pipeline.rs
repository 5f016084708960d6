//! The one place that knows the stage order — load and normalize, block, estimate (the match model), score,
//! cluster, policy, report — and times each stage. Everything a run did is counted in its `Summary`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use tracing::info;

use crate::block;
use crate::cluster;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::estimate::{self, Patterns};
use crate::load::{Chunk, Content, Header, Layout, Source};
use crate::model::Model;
use crate::normalize::{self, ProblemCounts};
use crate::policy::{self, ReviewIndex};
use crate::record::Accounts;
use crate::report::files;
use crate::score::{self, Comparer, Scorer, SideFiles};

/// What `sybilscan run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub accounts: PathBuf,
    pub out: PathBuf,
    pub config: Config,
    pub threads: Option<usize>,
    pub reviews: Option<PathBuf>,
    /// The optional bids file (`account_id, job_id, created_at[, amount]`).
    pub bids: Option<PathBuf>,
    /// An earlier run's output directory: cluster ids stay stable and changes are reported.
    pub previous: Option<PathBuf>,
    /// Reviewer decisions (`account_id_a, account_id_b, decision, …`).
    pub decisions: Option<PathBuf>,
    /// This run's date (`YYYY-MM-DD`), for `first_seen`.
    pub run_date: String,
    /// Write `review.html` (`--no-html` turns it off).
    pub html: bool,
    /// With `--redact`: the key of the tokens that replace personal values in the review files.
    pub redact: Option<crate::report::redact::RedactKey>,
    /// Apply this saved model instead of estimating one.
    pub model: Option<PathBuf>,
}

pub use crate::record::Quarantined;
pub use crate::summary::{BidCounts, ReviewCounts, RowCounts, ScoreStats, Summary};

fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>10} [{bar:30}] {human_pos}/{human_len} {per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// The export's value conventions: the config's synonyms, and each date column's format — configured, or
/// detected from the first chunk of rows (see `normalize::rules::detect_date_format`).
fn value_rules(
    cfg: &Config,
    first: &Chunk,
    layout: &Layout,
) -> (
    normalize::Rules,
    BTreeMap<&'static str, normalize::rules::DateReport>,
) {
    use normalize::rules::{DateFormat, DateReport, detect_date_format};
    let mut rules = normalize::Rules::new(cfg);
    let mut reports = BTreeMap::new();
    let columns = [
        (
            "date_of_birth",
            crate::record::col::DATE_OF_BIRTH,
            &cfg.dates.date_of_birth,
        ),
        (
            "created_at",
            crate::record::col::CREATED_AT,
            &cfg.dates.created_at,
        ),
    ];
    for (name, col, configured) in columns {
        let (format, report) = match configured {
            Some(f) => (
                DateFormat::parse(f).unwrap_or_default(),
                DateReport {
                    format: f.clone(),
                    how: "configured".into(),
                },
            ),
            None => {
                let values: Vec<&str> = first
                    .rows
                    .iter()
                    .filter_map(|r| layout.fields(&first.record_of(r)?).ok().map(|f| f[col]))
                    .collect();
                detect_date_format(&values)
            }
        };
        if report.how.starts_with("ambiguous") {
            tracing::warn!(column = name, how = %report.how, "date format");
        }
        match name {
            "date_of_birth" => rules.date_of_birth = format,
            _ => rules.created_at = format,
        }
        reports.insert(name, report);
    }
    (rules, reports)
}

/// What loading the accounts file gave: the accounts, the quarantine and the counts.
pub struct Loaded {
    pub accounts: Accounts,
    pub quarantine: Vec<Quarantined>,
    pub rows: RowCounts,
    pub problems: ProblemCounts,
    pub header: Header,
    /// Seconds the reader spent reading the file and splitting it into records, apart from normalizing
    /// them (the run's floor: the rest of loading overlaps with it).
    pub read_secs: f64,
}

/// Reads and normalizes the input: the accounts, the quarantine and the counts.
pub fn load_accounts(path: &std::path::Path, cfg: &Config) -> Result<Loaded> {
    let mut src = Source::open(path, cfg)?;
    let bar = progress(0, "load");
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} {human_pos} rows {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    const CHUNK: usize = 64 * 1024;
    // The normalizers' tables are built beside the first read, on the core that would wait for it.
    let (first, ()) = rayon::join(|| src.next_chunk(CHUNK), normalize::warm_up);
    let first = first?;
    let layout = src.layout();
    let (rules, date_formats) = value_rules(cfg, &first, &layout);
    let mut loader = Loader {
        layout: layout.clone(),
        ..Loader::default()
    };
    let mut rows = RowCounts {
        read: first.len() as u64,
        ..RowCounts::default()
    };
    let mut current = loader.check(first, None);
    let (mut read_secs, mut join_secs) = (0.0, 0.0);
    // Three chunks in flight: while one is normalized in parallel, the previous one's accounts are appended
    // and the next one is read and checked.
    let mut normalized: Option<Vec<Part>> = None;
    // The chunk normalized last, whose buffers the next read reuses.
    let mut done = Chunk::default();
    let mut reserved = false;
    while !current.chunk.is_empty() {
        let t_join = Instant::now();
        let (next, parts) = rayon::join(
            || -> Result<Checked> {
                if let Some(parts) = normalized.take() {
                    bar.inc(loader.append(parts));
                    // Once the first chunk's accounts show what an account takes, every column and the id
                    // table get their room for the whole input at once.
                    if !reserved {
                        reserved = true;
                        if let Some(total) = src.estimated_rows(rows.read) {
                            loader.reserve_for(total as usize);
                        }
                    }
                }
                let t = Instant::now();
                let next = src.refill(std::mem::take(&mut done), CHUNK)?;
                read_secs += t.elapsed().as_secs_f64();
                rows.read += next.len() as u64;
                Ok(loader.check(next, Some(&current)))
            },
            || normalize_checked(&layout, &current, &rules),
        );
        join_secs += t_join.elapsed().as_secs_f64();
        normalized = Some(parts);
        done = std::mem::replace(&mut current, next?).chunk;
    }
    if let Some(parts) = normalized.take() {
        loader.append(parts);
    }
    tracing::debug!(
        read_secs,
        join_secs,
        append_secs = loader.append_secs,
        check_secs = loader.check_secs,
        "load: reading, reading ∥ normalizing ∥ appending, appending, checking rows"
    );
    bar.finish_and_clear();
    let (accounts, quarantine, rows, problems) = loader.finish(rows, path)?;
    let mut header = src.header;
    header.date_formats = date_formats;
    Ok(Loaded {
        accounts,
        quarantine,
        rows,
        problems,
        header,
        read_secs,
    })
}

/// A chunk of rows read and checked: which rows become accounts, in order, numbered from `base`.
#[derive(Default)]
struct Checked {
    chunk: Chunk,
    /// The index of the chunk's first account among all accounts.
    base: usize,
    /// The rows (positions in `chunk.rows`) that become accounts `base`, `base + 1`, …
    accepted: Vec<u32>,
}

impl Checked {
    /// The id of the chunk's account `i` (an index among all accounts), if it is one of this chunk's.
    fn id_of<'c>(&'c self, layout: &Layout, i: usize) -> Option<&'c str> {
        accepted_id(layout, (&self.chunk, &self.accepted, self.base), i)
    }
}

/// The id of account `i` among the accepted rows of a chunk (`accepted` rows of `rows`, numbered from `base`).
fn accepted_id<'r>(
    layout: &Layout,
    (chunk, accepted, base): (&'r Chunk, &[u32], usize),
    i: usize,
) -> Option<&'r str> {
    let row = chunk
        .rows
        .get(*accepted.get(i.checked_sub(base)?)? as usize)?;
    let rec = chunk.record_of(row)?;
    Some(layout.field(&rec, crate::record::col::ACCOUNT_ID).trim())
}

/// Normalized accounts of a piece of a chunk, and the unusable values they held.
type Part = (Accounts, Vec<normalize::Problem>);

/// The accounts loaded so far, with what is needed to check the next rows.
#[derive(Default)]
struct Loader {
    layout: Layout,
    acc: Accounts,
    quarantine: Vec<Quarantined>,
    problems: ProblemCounts,
    /// Account id hash → (line, account index) of its first occurrence. Keys are xxh3 hashes already: no
    /// need to hash them again.
    seen: crate::load::FirstSeen,
    /// Ids whose hash another id already holds, by their text.
    seen_exact: HashMap<String, u64>,
    /// Accounts accepted so far (appended or not yet).
    accepted: usize,
    append_secs: f64,
    check_secs: f64,
}

impl Loader {
    /// Checks a chunk's rows in order, before any is normalized: a row read as malformed, with a contract
    /// field that is not UTF-8, with an empty id, or with an id an earlier row holds (the first occurrence
    /// wins) is quarantined; the rest are numbered as accounts. `previous`: the chunk checked before this
    /// one, whose accounts may not be appended yet.
    fn check(&mut self, chunk: Chunk, previous: Option<&Checked>) -> Checked {
        let t = Instant::now();
        let mut out = Checked {
            base: self.accepted,
            accepted: Vec::with_capacity(chunk.len()),
            chunk: Chunk::default(),
        };
        self.seen.reserve(chunk.len());
        // Each record's id (or why it has none) and its hash first: the id table is met at random (a cache
        // miss per row at ten million accounts), so the slot of a row some rows ahead is fetched while this
        // one is checked.
        let ids: Vec<std::result::Result<(&str, u64), String>> = chunk
            .rows
            .iter()
            .map(|row| match chunk.record_of(row) {
                Some(rec) => match self.layout.fields(&rec) {
                    Ok(f) if f[0].trim().is_empty() => Err("empty account_id".to_string()),
                    Ok(f) => Ok((
                        f[0].trim(),
                        normalize::tagged_hash(99, f[0].trim().as_bytes()),
                    )),
                    Err(reason) => Err(reason),
                },
                None => Err(String::new()),
            })
            .collect();
        for (r, row) in chunk.rows.iter().enumerate() {
            if let Some(Ok((_, h))) = ids.get(r + crate::record::PREFETCH_AHEAD) {
                self.seen.prefetch(*h);
            }
            let (id, h) = match (&row.content, &ids[r]) {
                (Content::Quarantined { reason, raw }, _) => {
                    self.quarantine_row(row.line, reason.clone(), raw.clone());
                    continue;
                }
                (Content::Record(_), Err(reason)) => {
                    self.quarantine_row(row.line, reason.clone(), chunk.raw(row));
                    continue;
                }
                (Content::Record(_), Ok(x)) => *x,
            };
            if let Some(first_line) = self.first_line_of(id, h, previous, (&chunk, &out)) {
                let reason =
                    format!("duplicate account_id `{id}` (first seen on line {first_line})");
                self.quarantine_row(row.line, reason, chunk.raw(row));
                continue;
            }
            if !self.seen.insert(h, row.line, self.accepted as u32) {
                // Another id with the same hash: remember this one by its text.
                self.seen_exact.insert(id.to_string(), row.line);
            }
            out.accepted.push(r as u32);
            self.accepted += 1;
        }
        drop(ids);
        out.chunk = chunk;
        self.check_secs += t.elapsed().as_secs_f64();
        out
    }

    /// The line of an earlier row with account id `id` (hash `h`), if any: an appended account, one of the
    /// previous chunk's or one of this chunk's accepted so far (`current`: its rows and what is accepted).
    fn first_line_of(
        &self,
        id: &str,
        h: u64,
        previous: Option<&Checked>,
        (chunk, current): (&Chunk, &Checked),
    ) -> Option<u64> {
        let (line, i) = self.seen.get(h)?;
        let i = i as usize;
        let other = if i < self.acc.len() {
            Some(self.acc.id.get(i))
        } else {
            previous
                .and_then(|p| p.id_of(&self.layout, i))
                .or_else(|| accepted_id(&self.layout, (chunk, &current.accepted, current.base), i))
        };
        if other == Some(id) {
            Some(line)
        } else {
            self.seen_exact.get(id).copied()
        }
    }

    /// The accounts loaded, the quarantine, every row accounted for, and the unusable values counted.
    fn finish(
        self,
        mut rows: RowCounts,
        path: &std::path::Path,
    ) -> Result<(Accounts, Vec<Quarantined>, RowCounts, ProblemCounts)> {
        let Loader {
            mut acc,
            quarantine,
            problems,
            ..
        } = self;
        rows.used = acc.len() as u64;
        rows.quarantined = quarantine.len() as u64;
        debug_assert_eq!(rows.read, rows.used + rows.quarantined);
        acc.check_capacity(path)?;
        acc.mark_agency_members();
        acc.pack_facts();
        acc.index_name_handles(|h| {
            crate::normalize::value_hash(crate::record::Signal::EmailHandle, h)
        });
        Ok((acc, quarantine, rows, problems))
    }

    /// Makes room for `rows` accounts in all: the columns (`Accounts::reserve_for`) and the id table.
    fn reserve_for(&mut self, rows: usize) {
        self.acc.reserve_for(rows);
        self.seen.reserve(rows.saturating_sub(self.accepted));
    }

    fn quarantine_row(&mut self, line: u64, reason: String, raw: String) {
        self.quarantine.push(Quarantined { line, reason, raw });
    }

    /// Appends a chunk's normalized parts, in order; how many accounts they held.
    fn append(&mut self, parts: Vec<Part>) -> u64 {
        let t = Instant::now();
        let mut n = 0;
        for (part, problems) in parts {
            n += part.len() as u64;
            self.acc.extend(part);
            for p in problems {
                self.problems.add(p);
            }
        }
        self.append_secs += t.elapsed().as_secs_f64();
        n
    }
}

/// Normalizes a checked chunk's accounts, in parallel pieces of consecutive accounts, each straight into
/// columns of its own (`Part`), in order.
fn normalize_checked(
    layout: &Layout,
    chunk: &Checked,
    rules: &normalize::rules::Rules,
) -> Vec<Part> {
    const SAMPLED_ROWS: usize = 64;
    chunk
        .accepted
        .par_chunks(4096)
        .with_max_len(crate::BALANCED)
        .map(|piece| {
            let mut part = Accounts::default();
            let mut problems = Vec::new();
            for &r in piece {
                let row = &chunk.chunk.rows[r as usize];
                // Accepted rows are records whose contract fields `check` read: neither test can fail.
                let Some(rec) = chunk.chunk.record_of(row) else {
                    continue;
                };
                let Ok(f) = layout.fields(&rec) else {
                    continue;
                };
                let n = normalize::account(&f, &layout.extras(&rec), rules);
                problems.extend_from_slice(&n.problems);
                normalize::append(&mut part, row.line, &normalize::Raw::of(&f), n);
                // Room for the whole piece, in proportion to its first accounts (enough of them that one
                // outsized value does not ask for a piece of such values): its columns grow by doubling
                // otherwise, a dozen copies each.
                if part.len() == SAMPLED_ROWS {
                    part.reserve_for(piece.len());
                }
            }
            (part, problems)
        })
        .collect()
}

fn in_pool<T: Send>(
    threads: Option<usize>,
    f: impl FnOnce(usize) -> Result<T> + Send,
) -> Result<T> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Setting(format!("cannot start {threads:?} threads: {e}")))?;
    pool.install(|| f(pool.current_num_threads()))
}

/// Runs the whole job and writes its outputs.
pub fn run(opts: &RunOptions) -> Result<Summary> {
    opts.config.validate()?;
    in_pool(opts.threads, |threads| run_stages(opts, threads))
}

/// Estimates the model of an export without scoring it (`sybilscan train`).
pub fn train(opts: &RunOptions) -> Result<Model> {
    opts.config.validate()?;
    in_pool(opts.threads, |_| {
        let cfg = &opts.config;
        let mut timings = BTreeMap::new();
        let loaded = load_accounts(&opts.accounts, cfg)?;
        // A model learnt from what is left of a broken export would be applied night after night.
        over_quarantine_limit(opts, &loaded.rows, &loaded.quarantine, || {
            Ok("`sybilscan run` on it writes them to quarantine.csv; no model was written".into())
        })?;
        let mut acc = loaded.accounts;
        let reviews = load_reviews(opts, &acc)?;
        let cands = block_stage(&mut acc, reviews.as_ref(), cfg, &mut timings);
        let bids = load_bids(opts, &acc)?;
        let side = SideFiles {
            reviews: reviews.as_ref().map(|r| &r.set),
            bids: bids.as_ref(),
        };
        let comparer = Comparer::new(&acc, cfg, side);
        let (_, _, model) = model_stage(&comparer, &cands, None, &mut timings)?;
        Ok(model)
    })
}

fn load_reviews(opts: &RunOptions, acc: &Accounts) -> Result<Option<ReviewIndex>> {
    let Some(p) = &opts.reviews else {
        return Ok(None);
    };
    let t = Instant::now();
    let r = policy::load_reviews(p, acc)?;
    info!(read = r.rows, used = r.reviews.len(), unknown_accounts = r.unknown_accounts,
          self_reviews = r.self_reviews, secs = ?t.elapsed(), "reviews");
    Ok(Some(r))
}

fn load_bids(opts: &RunOptions, acc: &Accounts) -> Result<Option<crate::bids::BidIndex>> {
    let Some(p) = &opts.bids else {
        return Ok(None);
    };
    let t = Instant::now();
    let b = crate::bids::load(p, acc)?;
    info!(read = b.rows, used = b.used, unknown_accounts = b.unknown_accounts,
          quarantined = b.quarantined.len(), jobs = b.jobs.len(), secs = ?t.elapsed(), "bids");
    Ok(Some(b))
}

/// Blocks, adds the reviewed pairs, and fills in value frequencies.
fn block_stage(
    acc: &mut Accounts,
    reviews: Option<&ReviewIndex>,
    cfg: &Config,
    timings: &mut BTreeMap<&'static str, f64>,
) -> block::Candidates {
    let t = Instant::now();
    let mut cands = block::block(acc, &cfg.blocking);
    for o in &mut cands.stats.largest_oversized {
        o.sample_account_ids = o
            .sample
            .iter()
            .map(|&i| acc.id.get(i as usize).to_string())
            .collect();
    }
    // Reviewed pairs are candidates too: a review is itself evidence (see `policy`).
    if let Some(r) = reviews {
        let before = cands.pairs.len();
        let mut reviewed: Vec<u64> = r.pairs.iter().map(|&(a, b)| block::pack(a, b)).collect();
        reviewed.sort_unstable();
        reviewed.dedup();
        cands.add_learnt(&reviewed);
        cands.stats.candidate_pairs += (cands.pairs.len() - before) as u64;
    }
    timings.insert("block", t.elapsed().as_secs_f64());
    info!(keys = cands.stats.distinct_keys, oversized = cands.stats.oversized_keys,
          candidates = cands.pairs.len(), secs = ?t.elapsed(), "blocked");
    cands
}

/// Compares every candidate once and takes the census of the deferred crowded pairs, then estimates
/// the model (or reads the saved one).
fn model_stage(
    comparer: &Comparer,
    cands: &block::Candidates,
    saved: Option<&std::path::Path>,
    timings: &mut BTreeMap<&'static str, f64>,
) -> Result<(Patterns, score::Census, Model)> {
    let t = Instant::now();
    let bar = progress(cands.pairs.len() as u64, "compare");
    let patterns = estimate::patterns(comparer, &cands.pairs, &cands.learn, cands.weights(), &bar);
    bar.finish_and_clear();
    let t_census = Instant::now();
    let census = score::census(comparer, &cands.deferred, &cands.crowd);
    tracing::debug!(secs = ?t_census.elapsed(), pairs = cands.deferred.pairs.len(), "census of deferred pairs");
    timings.insert("compare", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let cfg = comparer.config();
    let model = match saved {
        Some(p) => Model::read(p)?,
        None => {
            let sample = estimate::sample(comparer, cfg.model.sample_pairs);
            estimate::estimate(&estimate::Inputs {
                patterns: &patterns,
                sample: &sample,
                value_pairs: &cands.value_pairs,
                accounts: comparer.accounts().len() as u64,
                reviews: comparer.has_reviews(),
                bidders: comparer.side_files().bids.map_or(0, |b| b.bidders()),
                evasion_pairs: comparer.evasion_pairs(),
                deferred: &census.slots,
                cfg,
            })
        }
    };
    timings.insert("estimate", t.elapsed().as_secs_f64());
    info!(method = %model.method, prior = model.prior, patterns = patterns.slots.len(),
          secs = ?t.elapsed(), "model");
    Ok((patterns, census, model))
}

/// Blocks, with the side files (reviews, bids, decisions, the previous run) read beside it and timed
/// together: the reviews before blocking (a reviewed pair is a candidate), the others after it.
fn block_with_side_files(
    opts: &RunOptions,
    acc: &mut Accounts,
    timings: &mut BTreeMap<&'static str, f64>,
) -> Result<(Option<ReviewIndex>, block::Candidates, LaterSideFiles)> {
    let t = Instant::now();
    let reviews = load_reviews(opts, acc)?;
    let side_secs = t.elapsed().as_secs_f64();
    let cands = block_stage(acc, reviews.as_ref(), &opts.config, timings);
    let t = Instant::now();
    let later = LaterSideFiles::load(opts, acc)?;
    timings.insert("side_files", side_secs + t.elapsed().as_secs_f64());
    Ok((reviews, cands, later))
}

fn run_stages(opts: &RunOptions, threads: usize) -> Result<Summary> {
    let cfg = &opts.config;
    std::fs::create_dir_all(&opts.out).map_err(|e| Error::write(&opts.out, e))?;
    let mut timings = BTreeMap::new();

    let loaded = load_stage(opts, &mut timings)?;
    let (mut acc, mut quarantine) = (loaded.accounts, loaded.quarantine);

    let (reviews, cands, later) = block_with_side_files(opts, &mut acc, &mut timings)?;
    if let Some(b) = &later.bids {
        quarantine.extend(b.quarantined.iter().cloned());
    }
    let side = SideFiles {
        reviews: reviews.as_ref().map(|r| &r.set),
        bids: later.bids.as_ref(),
    };
    let comparer = Comparer::new(&acc, cfg, side);
    let (patterns, census, model) =
        model_stage(&comparer, &cands, opts.model.as_deref(), &mut timings)?;
    files::write_model(&opts.out.join("model.json"), &model)?;

    let scorer = Scorer::new(&acc, cfg, side, &model);
    let mut scoring = score_stage(&scorer, cands, patterns, census, &mut timings);

    let d = decide_stage(
        &scorer,
        &mut scoring,
        reviews.as_ref(),
        &later,
        opts,
        &mut timings,
    );
    let (judged, associates, history) = (d.judged, d.associates, d.history);

    let found = Found {
        scorer: &scorer,
        judged: &judged,
        associates: &associates,
        scored: &scoring.scored,
    };
    report_stage(opts, &found, &quarantine, &history, &mut timings)?;

    let summary = Summary {
        version: env!("CARGO_PKG_VERSION"),
        input: opts.accounts.display().to_string(),
        reviews_input: opts.reviews.as_ref().map(|p| p.display().to_string()),
        bids_input: opts.bids.as_ref().map(|p| p.display().to_string()),
        previous_run: opts.previous.as_ref().map(|p| p.display().to_string()),
        decisions_input: opts.decisions.as_ref().map(|p| p.display().to_string()),
        run_date: opts.run_date.clone(),
        next_cluster_id: history.next_id,
        rows: loaded.rows,
        decisions: history.decision_counts,
        changes: history.by_change,
        reviews: reviews.as_ref().map(ReviewCounts::of),
        bids: later.bids.as_ref().map(BidCounts::of),
        columns: loaded.header,
        invalid_values: loaded.problems,
        blocking: scoring.block_stats,
        scoring: scoring.stats,
        clustering: d.cluster_stats,
        clusters: judged.len() as u64,
        accounts_in_clusters: judged.iter().map(|c| c.cluster.members.len() as u64).sum(),
        clusters_by_size: clusters_by_size(&judged),
        verdicts: policy::count(&judged, &associates),
        model: model.clone(),
        timings_seconds: timings,
        threads,
        config: cfg.clone(),
    };
    files::write_summary(&opts.out.join("summary.json"), &summary)?;
    // The clusters and the changes freed on every worker: a few million strings and vectors at ten million
    // accounts (dropped at the end of this function, they kept one worker busy for about half a second).
    judged.into_par_iter().for_each(drop);
    history.changes.into_par_iter().for_each(drop);
    Ok(summary)
}

/// Loads the accounts (timed, with the reader's own seconds), stops on a broken export
/// (`input.max_quarantined_share`) and hands the loader's memory back before blocking.
fn load_stage(opts: &RunOptions, timings: &mut BTreeMap<&'static str, f64>) -> Result<Loaded> {
    let t = Instant::now();
    let loaded = load_accounts(&opts.accounts, &opts.config)?;
    timings.insert("load_normalize", t.elapsed().as_secs_f64());
    timings.insert("load_read", loaded.read_secs);
    let rows = &loaded.rows;
    check_quarantine(opts, rows, &loaded.quarantine)?;
    // The reader's buffers and the duplicate-id table are gone: their memory goes back before blocking.
    crate::memory::release_freed();
    info!(read = rows.read, used = rows.used, quarantined = rows.quarantined, secs = ?t.elapsed(), "loaded");
    Ok(loaded)
}

/// What clustering, the policy and the history decided.
struct Decided {
    judged: Vec<policy::Judged>,
    associates: Vec<policy::Associate>,
    history: History,
    cluster_stats: cluster::ClusterStats,
}

/// Clusters the links, judges each cluster under the policy, finds the sanctioned accounts' associates among
/// the scored candidates and numbers the clusters against the previous run.
fn decide_stage(
    scorer: &Scorer,
    scoring: &mut Scoring,
    reviews: Option<&ReviewIndex>,
    later: &LaterSideFiles,
    opts: &RunOptions,
    timings: &mut BTreeMap<&'static str, f64>,
) -> Decided {
    let cfg = scorer.config();
    let t = Instant::now();
    let (clusters, cstats) = cluster::cluster(
        scorer,
        &scoring.scored,
        cfg.link_weight(),
        &cfg.clustering,
        later.decisions.as_ref(),
    );
    timings.insert("cluster", t.elapsed().as_secs_f64());
    info!(clusters = clusters.len(), secs = ?t.elapsed(), "clustered");

    let t = Instant::now();
    let mut judged = policy::judge(
        scorer,
        clusters,
        &scoring.scored,
        cfg.link_weight(),
        reviews,
    );
    let associates = policy::associates(std::mem::take(&mut scoring.associate_pairs), &judged);
    let history = history_stage(&mut judged, scorer.accounts(), later, opts);
    timings.insert("policy", t.elapsed().as_secs_f64());

    Decided {
        judged,
        associates,
        history,
        cluster_stats: cstats,
    }
}

/// Stops the run when more of the rows are quarantined than `input.max_quarantined_share` allows, once the
/// quarantine is written (the one output that says what is wrong with the export). The reason shown is the
/// most common kind (a reason up to its first quoted value or parenthesis: duplicate ids count together).
fn check_quarantine(opts: &RunOptions, rows: &RowCounts, quarantine: &[Quarantined]) -> Result<()> {
    over_quarantine_limit(opts, rows, quarantine, || {
        let path = opts.out.join("quarantine.csv");
        files::write_quarantine(&path, quarantine, opts.redact.is_some())?;
        Ok(format!(
            "The rows are in {}; no other output was written",
            path.display()
        ))
    })
}

/// The error of a load with more rows quarantined than `input.max_quarantined_share` allows (`Ok` when within
/// it, or unset); `rows_are` says where the rows can be read, writing them if it must.
fn over_quarantine_limit(
    opts: &RunOptions,
    rows: &RowCounts,
    quarantine: &[Quarantined],
    rows_are: impl FnOnce() -> Result<String>,
) -> Result<()> {
    let Some(limit) = opts.config.input.max_quarantined_share else {
        return Ok(());
    };
    if rows.read == 0 || rows.quarantined as f64 <= limit * rows.read as f64 {
        return Ok(());
    }
    let rows_are = rows_are()?;
    let (count, reason) = most_common_reason(quarantine);
    Err(Error::TooManyQuarantined {
        path: opts.accounts.clone(),
        quarantined: rows.quarantined,
        read: rows.read,
        share: 100.0 * rows.quarantined as f64 / rows.read as f64,
        limit: 100.0 * limit,
        reason: reason.to_string(),
        count,
        rows_are,
    })
}

/// The most common kind of reason among quarantined rows — a reason up to its first quoted value or
/// parenthesis, so that duplicate ids count together — with how many rows it holds and its first reason.
/// Ties go to the kind seen first.
fn most_common_reason(quarantine: &[Quarantined]) -> (u64, &str) {
    let mut kinds: Vec<(&str, u64, &str)> = Vec::new();
    for q in quarantine {
        let kind = q.reason.split(['`', '(']).next().unwrap_or("");
        match kinds.iter_mut().find(|(k, ..)| *k == kind) {
            Some(entry) => entry.1 += 1,
            None => kinds.push((kind, 1, q.reason.as_str())),
        }
    }
    let (_, count, reason) = kinds
        .iter()
        .fold(("", 0, ""), |best, &k| if k.1 > best.1 { k } else { best });
    (count, reason)
}

/// The side files read after blocking: bids, reviewer decisions, the previous run.
struct LaterSideFiles {
    bids: Option<crate::bids::BidIndex>,
    decisions: Option<crate::history::Decisions>,
    previous: Option<crate::history::Previous>,
}

impl LaterSideFiles {
    fn load(opts: &RunOptions, acc: &Accounts) -> Result<Self> {
        Ok(LaterSideFiles {
            bids: load_bids(opts, acc)?,
            decisions: opts
                .decisions
                .as_ref()
                .map(|p| crate::history::Decisions::load(p, acc))
                .transpose()?,
            previous: opts
                .previous
                .as_ref()
                .map(|p| crate::history::Previous::read(p))
                .transpose()?,
        })
    }
}

/// What the score stage found: the scored pairs (links and near misses), the sanctioned accounts' associates
/// among the candidates, and the counts of blocking and scoring.
struct Scoring {
    scored: Vec<score::Scored>,
    associate_pairs: Vec<(u32, u32, f64)>,
    stats: ScoreStats,
    block_stats: block::BlockStats,
}

/// Scores the candidates from their comparison patterns (none is compared again), then the deferred pairs
/// whose bound reaches the near-miss line, and keeps each kept pair's comparison for the later stages.
fn score_stage(
    scorer: &Scorer,
    cands: block::Candidates,
    patterns: Patterns,
    census: score::Census,
    timings: &mut BTreeMap<&'static str, f64>,
) -> Scoring {
    let t = Instant::now();
    let bar = progress(cands.pairs.len() as u64, "score");
    let mut scored = score::score_all(scorer, &cands.pairs, patterns.view(), &bar);
    bar.finish_and_clear();
    let associate_pairs = score::associate_candidates(scorer, &cands.pairs, patterns.view());
    drop(patterns);
    let t_deferred = Instant::now();
    let (deferred, deferred_stats) =
        score::score_deferred(scorer, &cands.deferred, &census, &cands.pairs, &cands.crowd);
    tracing::debug!(secs = ?t_deferred.elapsed(), "deferred pairs scored");
    scored.extend(deferred);
    let candidates = cands.pairs.len() as u64;
    // Clustering, policy and the report need none of the candidates, deferred pairs or census records.
    let block_stats = cands.into_stats();
    drop(census);
    crate::memory::release_freed();
    scorer.keep_comparisons(&scored);
    let mut stats = score_stats(scorer, &scored, candidates);
    stats.pairs_scored += deferred_stats.common_name_scored
        + deferred_stats.crowded_scored
        + deferred_stats.network_scored;
    stats.deferred = deferred_stats;
    timings.insert("score", t.elapsed().as_secs_f64());
    info!(links = stats.links, near_misses = stats.near_misses, secs = ?t.elapsed(), "scored");
    Scoring {
        scored,
        associate_pairs,
        stats,
        block_stats,
    }
}

/// What the report shows: the clusters as judged, the associates, and the scored pairs.
struct Found<'a> {
    scorer: &'a Scorer<'a>,
    judged: &'a [policy::Judged],
    associates: &'a [policy::Associate],
    scored: &'a [score::Scored],
}

/// Writes the review files and the changes since the previous run.
fn report_stage(
    opts: &RunOptions,
    found: &Found<'_>,
    quarantine: &[Quarantined],
    history: &History,
    timings: &mut BTreeMap<&'static str, f64>,
) -> Result<()> {
    let t = Instant::now();
    let input = opts.accounts.display().to_string();
    // The accounts the files show: the clusters' members, the scored pairs', the associates.
    let shown: Vec<u32> = (found.judged.par_iter())
        .flat_map_iter(|j| j.cluster.members.iter().copied())
        .chain(found.scored.par_iter().flat_map_iter(|s| [s.a, s.b]))
        .chain((found.associates.par_iter()).flat_map_iter(|a| [a.sanctioned, a.account]))
        .collect();
    let id_rank = found.scorer.accounts().id_ranks_of(shown);
    tracing::debug!(secs = ?t.elapsed(), "report: accounts shown ranked by id");
    let report = files::Report {
        scorer: found.scorer,
        clusters: found.judged,
        associates: found.associates,
        scored: found.scored,
        id_rank: &id_rank,
        link_weight: opts.config.link_weight(),
        redact: opts.redact.as_ref(),
        run_date: &opts.run_date,
        input: &input,
        html: opts.html.then_some(opts.config.report.html_clusters),
    };
    // `changes.csv` (a row per cluster) beside the review files.
    let (written, changes) = rayon::join(
        || report.write_all(&opts.out, quarantine),
        || files::write_changes(&opts.out.join("changes.csv"), &history.changes),
    );
    written?;
    changes?;
    timings.insert("report", t.elapsed().as_secs_f64());
    Ok(())
}

/// How many clusters have each number of members.
fn clusters_by_size(judged: &[policy::Judged]) -> BTreeMap<usize, u64> {
    let mut by_size = BTreeMap::new();
    for c in judged {
        *by_size.entry(c.cluster.members.len()).or_insert(0u64) += 1;
    }
    by_size
}

/// What the history stage decided.
struct History {
    changes: Vec<crate::history::ChangeRow>,
    next_id: u64,
    decision_counts: Option<crate::history::DecisionCounts>,
    by_change: BTreeMap<&'static str, u64>,
}

/// Stable ids and changes since the previous run; clusters a reviewer settled as a whole leave the queue.
fn history_stage(
    judged: &mut [policy::Judged],
    acc: &Accounts,
    side: &LaterSideFiles,
    opts: &RunOptions,
) -> History {
    let (previous, decisions) = (side.previous.as_ref(), side.decisions.as_ref());
    let (changes, next_id) = crate::history::assign_ids(judged, acc, previous, &opts.run_date);
    let mut decision_counts = decisions.map(|d| d.counts());
    if let (Some(d), Some(counts)) = (decisions, decision_counts.as_mut()) {
        for j in judged.iter_mut() {
            j.decision = d.of_cluster(&j.cluster.members);
            counts.dismissed_clusters += (j.decision.is_some() && j.priority.is_some()) as u64;
        }
    }
    let mut by_change = BTreeMap::new();
    for c in &changes {
        *by_change.entry(c.change.as_str()).or_insert(0) += 1;
    }
    info!(next_id, changes = ?by_change, "history");
    History {
        changes,
        next_id,
        decision_counts,
        by_change,
    }
}

/// The counts of links and near misses among the scored pairs, and of links that only a hiding profile
/// reaches. After `Scorer::keep_comparisons`: each link's profile comes from its kept comparison, in parallel
/// (compared again one after the other, this was a third of a second of one core at a million accounts).
fn score_stats(scorer: &Scorer, scored: &[score::Scored], candidates: u64) -> ScoreStats {
    let cfg = scorer.config();
    let link_weight = cfg.link_weight();
    let (links, hiding) = scored
        .par_iter()
        .filter(|s| s.weight >= link_weight)
        .map(|s| {
            (
                1u64,
                u64::from(scorer.score_kept(s.a as usize, s.b as usize).1.hides()),
            )
        })
        .reduce(|| (0, 0), |x, y| (x.0 + y.0, x.1 + y.1));
    ScoreStats {
        link_weight,
        near_miss_weight: link_weight - cfg.scoring.near_miss_bits,
        pairs_scored: candidates,
        links,
        evasion_profile_links: hiding,
        near_misses: scored.len() as u64 - links,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_common_kind_of_reason_is_named() {
        let q = |reasons: &[&str]| -> Vec<Quarantined> {
            reasons
                .iter()
                .enumerate()
                .map(|(i, r)| Quarantined {
                    line: i as u64 + 2,
                    reason: r.to_string(),
                    raw: String::new(),
                })
                .collect()
        };
        let cases: [(&[&str], (u64, &str)); 4] = [
            (&[], (0, "")),
            (&["empty account_id"], (1, "empty account_id")),
            // Duplicate ids are one kind whatever the id; the first such reason is shown.
            (
                &[
                    "malformed CSV row: expected 3 fields, found 4",
                    "duplicate account_id `a1` (first seen on line 2)",
                    "duplicate account_id `b7` (first seen on line 9)",
                ],
                (2, "duplicate account_id `a1` (first seen on line 2)"),
            ),
            // A tie goes to the kind seen first.
            (
                &["empty account_id", "invalid UTF-8 in column `email`"],
                (1, "empty account_id"),
            ),
        ];
        for (reasons, want) in cases {
            let rows = q(reasons);
            assert_eq!(most_common_reason(&rows), want, "{reasons:?}");
        }
    }

    /// More rows than three chunks: duplicate ids across chunks, bad rows in several chunks — every row is
    /// accounted for, in line order, whichever chunk was appended while which was normalized.
    #[test]
    fn loading_across_chunks_keeps_first_ids_and_line_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        let mut text = String::from("account_id,full_name,email\n");
        let n = 200_000;
        for i in 0..n {
            match i {
                // Line i + 2: duplicates of the first rows, two and three chunks later.
                70_000 => text.push_str("a0,Dup,dup@x.com\n"),
                140_000 => text.push_str("a1,Dup,dup@x.com\n"),
                139_999 => text.push_str("a5\n"),
                // Of the chunk before (not appended yet when this one is checked), and of the same chunk.
                66_000 => text.push_str("a65000,Dup,dup@x.com\n"),
                150_000 => text.push_str("a149990,Dup,dup@x.com\n"),
                _ => text.push_str(&format!("a{i},Name {i},n{i}@x.com\n")),
            }
        }
        std::fs::write(&p, text).unwrap();
        let Loaded {
            accounts: acc,
            quarantine,
            rows,
            ..
        } = load_accounts(&p, &Config::default()).unwrap();
        assert_eq!((rows.read, rows.used, rows.quarantined), (n, n - 5, 5));
        let got: Vec<(u64, &str)> = quarantine
            .iter()
            .map(|q| (q.line, q.reason.as_str()))
            .collect();
        assert_eq!(got[0].0, 66_002);
        assert!(
            got[0].1.contains("`a65000` (first seen on line 65002)"),
            "{got:?}"
        );
        assert_eq!(got[1].0, 70_002);
        assert!(got[1].1.contains("`a0` (first seen on line 2)"), "{got:?}");
        assert_eq!(got[2].0, 140_001);
        assert_eq!(got[3].0, 140_002);
        assert!(got[3].1.contains("`a1` (first seen on line 3)"), "{got:?}");
        assert_eq!(got[4].0, 150_002);
        assert!(
            got[4].1.contains("`a149990` (first seen on line 149992)"),
            "{got:?}"
        );
        assert_eq!(acc.id.get(0), "a0");
        assert_eq!(acc.line[70_000], 70_004);
        assert_eq!(acc.id.get(acc.len() - 1), format!("a{}", n - 1));
        let lines_ascend = acc.line.windows(2).all(|w| w[0] < w[1]);
        assert!(lines_ascend);
    }
}

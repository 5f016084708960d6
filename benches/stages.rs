//! Per-stage throughput on generated data: normalize (accounts/s), block (accounts/s), score (pairs/s),
//! cluster (links/s). The data is generated once per bench run with a fixed seed.

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sybilscan::block;
use sybilscan::cluster;
use sybilscan::config::Config;
use sybilscan::estimate;
use sybilscan::estimate::Patterns;
use sybilscan::load::Source;
use sybilscan::model::Model;
use sybilscan::normalize;
use sybilscan::pipeline::load_accounts;
use sybilscan::score::{Comparer, Scorer, score_all};
use sybilscan::synth::{SynthConfig, generate};

const ACCOUNTS: u64 = 50_000;

fn data() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    generate(&SynthConfig::new(ACCOUNTS, 11), dir.path()).unwrap();
    let p = dir.path().join("accounts.csv");
    (dir, p)
}

/// A group of ten samples, with the throughput given.
fn group<'c>(
    c: &'c mut Criterion,
    name: &str,
    elements: Option<u64>,
) -> criterion::BenchmarkGroup<'c, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    if let Some(n) = elements {
        g.throughput(Throughput::Elements(n));
    }
    g
}

/// Normalize: raw records already in memory, so this measures the normalizers alone.
fn bench_normalize(c: &mut Criterion, path: &Path, cfg: &Config) {
    let mut src = Source::open(path, cfg).unwrap();
    let layout = src.layout();
    let rows = src.next_chunk(usize::MAX).unwrap();
    let mut g = group(c, "normalize", Some(rows.len() as u64));
    g.bench_function("accounts", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for r in &rows.rows {
                if let Some(rec) = rows.record_of(r) {
                    n += normalize::account(
                        &layout.fields(&rec).unwrap(),
                        &[],
                        &normalize::Rules::default(),
                    )
                    .signals
                    .len();
                }
            }
            n
        })
    });
    g.finish();
}

/// Block: each sample on freshly loaded accounts (blocking writes the value frequencies into them).
fn bench_block(c: &mut Criterion, path: &Path, cfg: &Config, accounts: u64) {
    let mut g = group(c, "block", Some(accounts));
    g.bench_function("accounts", |b| {
        b.iter_batched(
            || load_accounts(path, cfg).unwrap().accounts,
            |mut a| block::block(&mut a, &cfg.blocking).pairs.len(),
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// Compare: every candidate pair compared and its pattern counted.
fn bench_compare(c: &mut Criterion, comparer: &Comparer, cands: &block::Candidates) {
    let bar = indicatif::ProgressBar::hidden();
    let mut g = group(c, "compare", Some(cands.pairs.len() as u64));
    g.bench_function("pairs", |b| {
        b.iter(|| {
            estimate::patterns(comparer, &cands.pairs, &cands.learn, cands.weights(), &bar)
                .slots
                .len()
        })
    });
    g.finish();
}

/// Estimate: the random sample for u, and the EM over the counted patterns. Returns the model.
fn bench_estimate(c: &mut Criterion, inputs: &estimate::Inputs<'_>, comparer: &Comparer) -> Model {
    let mut g = group(c, "estimate", None);
    g.bench_function("sample", |b| {
        b.iter(|| estimate::sample(comparer, inputs.cfg.model.sample_pairs).pairs)
    });
    g.bench_function("em", |b| b.iter(|| estimate::estimate(inputs).prior));
    g.finish();
    estimate::estimate(inputs)
}

/// Score every candidate from its pattern, then cluster the links.
fn bench_score_and_cluster(
    c: &mut Criterion,
    scorer: &Scorer,
    cands: &block::Candidates,
    pats: &Patterns,
) {
    let cfg = scorer.config();
    let bar = indicatif::ProgressBar::hidden();
    let mut g = group(c, "score", Some(cands.pairs.len() as u64));
    g.bench_function("pairs", |b| {
        b.iter(|| score_all(scorer, &cands.pairs, pats.view(), &bar).len())
    });
    g.finish();

    let scored = score_all(scorer, &cands.pairs, pats.view(), &bar);
    let links = scored
        .iter()
        .filter(|s| s.weight >= cfg.link_weight())
        .count();
    let mut g = group(c, "cluster", Some(links as u64));
    g.bench_function("links", |b| {
        b.iter(|| {
            cluster::cluster(scorer, &scored, cfg.link_weight(), &cfg.clustering, None)
                .0
                .len()
        })
    });
    g.finish();
}

fn stages(c: &mut Criterion) {
    let (_dir, path) = data();
    let cfg = Config::default();
    bench_normalize(c, &path, &cfg);
    let mut acc = load_accounts(&path, &cfg).unwrap().accounts;
    bench_block(c, &path, &cfg, acc.len() as u64);

    let cands = block::block(&mut acc, &cfg.blocking);
    let comparer = Comparer::new(&acc, &cfg, Default::default());
    bench_compare(c, &comparer, &cands);

    let bar = indicatif::ProgressBar::hidden();
    let pats = estimate::patterns(&comparer, &cands.pairs, &cands.learn, cands.weights(), &bar);
    let sample = estimate::sample(&comparer, cfg.model.sample_pairs);
    let census = sybilscan::score::census(&comparer, &cands.deferred, &cands.crowd);
    let inputs = estimate::Inputs {
        patterns: &pats,
        sample: &sample,
        value_pairs: &cands.value_pairs,
        accounts: acc.len() as u64,
        reviews: false,
        bidders: 0,
        evasion_pairs: comparer.evasion_pairs(),
        deferred: &census.slots,
        cfg: &cfg,
    };
    let model = bench_estimate(c, &inputs, &comparer);
    let scorer = Scorer::new(&acc, &cfg, Default::default(), &model);
    bench_score_and_cluster(c, &scorer, &cands, &pats);
}

criterion_group!(benches, stages);
criterion_main!(benches);

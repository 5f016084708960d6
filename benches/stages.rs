//! Per-stage throughput on generated data: normalize (accounts/s), block (accounts/s), score (pairs/s),
//! cluster (links/s). The data is generated once per bench run with a fixed seed.

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sybilscan::block;
use sybilscan::cluster;
use sybilscan::config::Config;
use sybilscan::estimate;
use sybilscan::load::Source;
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

fn stages(c: &mut Criterion) {
    let (_dir, path) = data();
    let cfg = Config::default();

    // Normalize: raw records already in memory, so this measures the normalizers alone.
    let mut src = Source::open(&path, &cfg).unwrap();
    let layout = src.layout();
    let rows = src.next_chunk(usize::MAX).unwrap();
    let mut g = c.benchmark_group("normalize");
    g.sample_size(10);
    g.throughput(Throughput::Elements(rows.len() as u64));
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

    let acc = load_accounts(&path, &cfg).unwrap().accounts;
    let mut g = c.benchmark_group("block");
    g.sample_size(10);
    g.throughput(Throughput::Elements(acc.len() as u64));
    g.bench_function("accounts", |b| {
        b.iter_batched(
            || load_accounts(&path, &cfg).unwrap().accounts,
            |mut a| block::block(&mut a, &cfg.blocking).pairs.len(),
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();

    let mut acc = load_accounts(&path, &cfg).unwrap().accounts;
    let cands = block::block(&mut acc, &cfg.blocking);
    let comparer = Comparer::new(&acc, &cfg, Default::default());
    let bar = indicatif::ProgressBar::hidden();
    let mut g = c.benchmark_group("compare");
    g.sample_size(10);
    g.throughput(Throughput::Elements(cands.pairs.len() as u64));
    g.bench_function("pairs", |b| {
        b.iter(|| {
            estimate::patterns(&comparer, &cands.pairs, &cands.learn, cands.weights(), &bar)
                .slots
                .len()
        })
    });
    g.finish();

    let pats = estimate::patterns(&comparer, &cands.pairs, &cands.learn, cands.weights(), &bar);
    let sample = estimate::sample(&comparer, cfg.model.sample_pairs);
    let inputs = estimate::Inputs {
        patterns: &pats,
        sample: &sample,
        value_pairs: &cands.value_pairs,
        accounts: acc.len() as u64,
        reviews: false,
        bidders: 0,
        evasion_pairs: comparer.evasion_pairs(),
        deferred: &sybilscan::score::census(&comparer, &cands.deferred, &cands.crowd).slots,
        cfg: &cfg,
    };
    let mut g = c.benchmark_group("estimate");
    g.sample_size(10);
    g.bench_function("sample", |b| {
        b.iter(|| estimate::sample(&comparer, cfg.model.sample_pairs).pairs)
    });
    g.bench_function("em", |b| b.iter(|| estimate::estimate(&inputs).prior));
    g.finish();

    let model = estimate::estimate(&inputs);
    let scorer = Scorer::new(&acc, &cfg, Default::default(), &model);
    let mut g = c.benchmark_group("score");
    g.sample_size(10);
    g.throughput(Throughput::Elements(cands.pairs.len() as u64));
    g.bench_function("pairs", |b| {
        b.iter(|| score_all(&scorer, &cands.pairs, pats.view(), &bar).len())
    });
    g.finish();

    let scored = score_all(&scorer, &cands.pairs, pats.view(), &bar);
    let links = scored
        .iter()
        .filter(|s| s.weight >= cfg.link_weight())
        .count();
    let mut g = c.benchmark_group("cluster");
    g.sample_size(10);
    g.throughput(Throughput::Elements(links as u64));
    g.bench_function("links", |b| {
        b.iter(|| {
            cluster::cluster(&scorer, &scored, cfg.link_weight(), &cfg.clustering, None)
                .0
                .len()
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);

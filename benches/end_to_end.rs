//! The whole `run` on 100k generated accounts (with reviews), writing every output file.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sybilscan::config::Config;
use sybilscan::pipeline::{RunOptions, run};
use sybilscan::synth::{SynthConfig, generate};

fn end_to_end(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let stats = generate(&SynthConfig::new(100_000, 5), dir.path()).unwrap();
    let opts = RunOptions {
        accounts: dir.path().join("accounts.csv"),
        out: dir.path().join("out"),
        config: Config::default(),
        threads: None,
        reviews: Some(dir.path().join("reviews.csv")),
        bids: Some(dir.path().join("bids.csv")),
        previous: None,
        decisions: None,
        run_date: "2026-01-01".into(),
        html: true,
        redact: None,
        model: None,
    };
    let mut g = c.benchmark_group("end_to_end");
    g.sample_size(10);
    g.throughput(Throughput::Elements(stats.accounts));
    g.bench_function("run_100k_accounts", |b| {
        b.iter(|| run(&opts).unwrap().scoring.links)
    });
    g.finish();
}

criterion_group!(benches, end_to_end);
criterion_main!(benches);

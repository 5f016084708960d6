//! One function per subcommand: turns parsed arguments into library calls and prints what a person reads.
//! Errors get their context here (anyhow), at the edge.

use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::{
    Command, DecideArgs, EvaluateArgs, ExplainArgs, GenerateArgs, RunArgs, TrainArgs,
};
use crate::config::Config;
use crate::pipeline::{self, RunOptions};
use crate::score::{Scorer, probability};

pub fn dispatch(cmd: Command) -> Result<()> {
    match cmd {
        Command::Run(a) => run(a),
        Command::Train(a) => train(a),
        Command::Explain(a) => explain(a),
        Command::Generate(a) => generate(a),
        Command::Evaluate(a) => evaluate(a),
        Command::Decide(a) => decide(a),
    }
}

/// Today's date, UTC.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    crate::normalize::format_datetime(secs)[..10].to_string()
}

fn run_date(given: Option<String>) -> Result<String> {
    match given {
        None => Ok(today()),
        Some(d) if d.len() == 10 && crate::normalize::parse_datetime(&d).is_some() => Ok(d),
        Some(d) => Err(crate::error::Error::Setting(format!(
            "--run-date {d:?} is not a YYYY-MM-DD date"
        ))
        .into()),
    }
}

fn decide(a: DecideArgs) -> Result<()> {
    let decision = crate::history::Decision::parse(&a.decision).ok_or_else(|| {
        crate::error::Error::Setting(format!(
            "--decision {:?}: use same or different",
            a.decision
        ))
    })?;
    let prev = crate::history::Previous::read(&a.out)?;
    let members = prev.clusters.get(&a.cluster).ok_or_else(|| {
        crate::error::Error::NotFound(format!(
            "no cluster {} in {}",
            a.cluster,
            a.out.join("clusters.csv").display()
        ))
    })?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let n = crate::history::append_decisions(
        &a.decisions,
        members,
        decision,
        &a.reviewer,
        &crate::normalize::format_datetime(now),
        &a.note,
    )?;
    eprintln!(
        "{n} pairs of {} decided {} -> {}",
        a.cluster,
        decision.as_str(),
        a.decisions.display()
    );
    Ok(())
}

fn read_config(path: Option<&Path>) -> Result<Config> {
    Ok(match path {
        Some(p) => Config::from_file(p)?,
        None => Config::default(),
    })
}

fn train(a: TrainArgs) -> Result<()> {
    let mut config = read_config(a.config.as_deref())?;
    if let Some(x) = a.max_quarantined_share {
        config.input.max_quarantined_share = Some(x);
    }
    let opts = RunOptions {
        accounts: a.accounts,
        out: std::path::PathBuf::new(),
        config,
        threads: a.threads,
        reviews: a.reviews,
        bids: a.bids,
        previous: None,
        decisions: None,
        run_date: today(),
        html: false,
        redact: None,
        model: None,
    };
    let model = pipeline::train(&opts)
        .with_context(|| format!("sybilscan train on {}", opts.accounts.display()))?;
    crate::report::files::write_model(&a.model_out, &model)?;
    eprintln!(
        "model {} (prior {:.3e}, {} levels) -> {}",
        model.method,
        model.prior,
        model.params.len(),
        a.model_out.display()
    );
    Ok(())
}

fn run(a: RunArgs) -> Result<()> {
    let mut config = read_config(a.config.as_deref())?;
    if let Some(p) = a.link_probability {
        config.scoring.link_probability = p;
    }
    if let Some(n) = a.max_block_size {
        config.blocking.max_block_size = n;
    }
    if let Some(x) = a.max_quarantined_share {
        config.input.max_quarantined_share = Some(x);
    }
    if let Some(d) = a.delimiter {
        config.input.delimiter = Some(match d.as_str() {
            "\\t" | "tab" => "\t".into(),
            _ => d,
        });
    }
    let opts = RunOptions {
        accounts: a.accounts,
        out: a.out,
        config,
        threads: a.threads,
        reviews: a.reviews,
        bids: a.bids,
        previous: a.previous,
        decisions: a.decisions,
        run_date: run_date(a.run_date)?,
        html: !a.no_html,
        redact: if a.redact {
            Some(crate::report::redact::RedactKey::load(
                a.redact_key_file.as_deref(),
            )?)
        } else {
            None
        },
        model: a.model,
    };
    let s = pipeline::run(&opts)
        .with_context(|| format!("sybilscan run on {}", opts.accounts.display()))?;
    eprintln!(
        "{} rows read, {} used, {} quarantined; {} candidate pairs, {} links; {} clusters ({} accounts); \
         queue: {} ban_evasion, {} review_manipulation, {} self_bidding, {} duplicate_accounts -> {}",
        s.rows.read,
        s.rows.used,
        s.rows.quarantined,
        s.blocking.candidate_pairs,
        s.scoring.links,
        s.clusters,
        s.accounts_in_clusters,
        s.verdicts.get("ban_evasion").unwrap_or(&0),
        s.verdicts.get("review_manipulation").unwrap_or(&0),
        s.verdicts.get("self_bidding").unwrap_or(&0),
        s.verdicts.get("duplicate_accounts").unwrap_or(&0),
        opts.out.display()
    );
    Ok(())
}

/// What `explain` needs from a finished run.
#[derive(serde::Deserialize)]
struct RunRecord {
    input: String,
    #[serde(default)]
    reviews_input: Option<String>,
    #[serde(default)]
    bids_input: Option<String>,
    config: Config,
}

fn explain(a: ExplainArgs) -> Result<()> {
    let summary_path = a.out.join("summary.json");
    // Both are input errors (exit 3): the directory is not a finished run.
    let text = std::fs::read_to_string(&summary_path)
        .map_err(|e| crate::error::Error::io(&summary_path, e))
        .context("run `sybilscan run` first")?;
    let rec: RunRecord = serde_json::from_str(&text).map_err(|e| crate::error::Error::BadRow {
        path: summary_path.clone(),
        line: e.line() as u64,
        message: format!("not a sybilscan summary: {e}"),
    })?;
    let mut acc = pipeline::load_accounts(Path::new(&rec.input), &rec.config)?.accounts;
    let reviews = match &rec.reviews_input {
        Some(p) => Some(crate::policy::load_reviews(Path::new(p), &acc)?),
        None => None,
    };
    let bids = match &rec.bids_input {
        Some(p) => Some(crate::bids::load(Path::new(p), &acc)?),
        None => None,
    };
    crate::block::block(&mut acc, &rec.config.blocking);
    let model = crate::model::Model::read(&a.out.join("model.json"))?;
    let find = |id: &str| (0..acc.len()).find(|&i| acc.id.get(i) == id);
    let ia = find(&a.account_a).ok_or_else(|| {
        crate::error::Error::NotFound(format!("no account `{}` in {}", a.account_a, rec.input))
    })?;
    let ib = find(&a.account_b).ok_or_else(|| {
        crate::error::Error::NotFound(format!("no account `{}` in {}", a.account_b, rec.input))
    })?;
    let side = crate::score::SideFiles {
        reviews: reviews.as_ref().map(|r| &r.set),
        bids: bids.as_ref(),
    };
    let scorer = Scorer::new(&acc, &rec.config, side, &model);
    print!("{}", waterfall(&scorer, ia, ib, &rec.config));
    Ok(())
}

/// The explanation of a pair as a table: signal, level, weight, running total, probability.
pub fn waterfall(scorer: &Scorer, a: usize, b: usize, cfg: &Config) -> String {
    let acc = scorer.accounts();
    let ex = scorer.explain(a, b);
    let mut out = format!(
        "{} ~ {}   profile: {}   model: {}\n{:<14} {:<28} {:>8} {:>8} {:>8}\n",
        acc.id.get(a),
        acc.id.get(b),
        ex.profile.as_str(),
        scorer.model().method,
        "signal",
        "level",
        "weight",
        "total",
        "prob"
    );
    let line = |signal: &str, level: &str, weight: f64, total: f64| {
        format!(
            "{signal:<14} {level:<28} {weight:>+8.2} {total:>+8.2} {:>8.4}\n",
            probability(total)
        )
    };
    let mut total = ex.prior;
    out += &line("prior", "", ex.prior, total);
    for (signal, level, weight) in ex.rows(true) {
        total += weight;
        out += &line(signal, &level, weight, total);
    }
    let hidden = scorer.concealed_signals(&ex);
    let estimated =
        ex.profile == crate::score::Profile::Evasion && scorer.model().concealment.is_some();
    if estimated {
        out += "concealment: weights of one person hiding (learnt from the sanctioned accounts and newer ones)";
        if !hidden.is_empty() {
            out += &format!(
                "; differences in {} weigh at least a bit less than between one person's open accounts",
                hidden.join(", ")
            );
        }
        out += "\n";
    } else if !hidden.is_empty() {
        out += &format!(
            "concealment: differences in {} not counted (changed at will by who hides; other differences count)\n",
            hidden.join(", ")
        );
    }
    if ex.household != 0.0 {
        out += "household: the odds that two people of one home (or office) of this size look like this, \
                against strangers, taken off (model.json: `households`; for a sanctioned account, `concealment.households`)\n";
    }
    out += &format!(
        "=> match weight {:+.2}, probability {:.4}: {} (link at {:+.2})\n",
        ex.weight,
        probability(ex.weight),
        if ex.weight >= cfg.link_weight() {
            "LINK"
        } else {
            "no link"
        },
        cfg.link_weight()
    );
    out
}

fn generate(a: GenerateArgs) -> Result<()> {
    let cfg = crate::synth::SynthConfig {
        accounts: a.accounts,
        seed: a.seed,
        profile: crate::synth::Profile::by_name(&a.profile, a.seed)?,
    };
    let stats = crate::synth::generate(&cfg, &a.out)
        .with_context(|| format!("generating into {}", a.out.display()))?;
    eprintln!(
        "wrote {} accounts ({} persons), {} reviews, {} bids to {}",
        stats.accounts,
        stats.persons,
        stats.reviews,
        stats.bids,
        a.out.display()
    );
    Ok(())
}

fn evaluate(a: EvaluateArgs) -> Result<()> {
    let mut m = crate::evaluate::evaluate_files(&a.truth, &a.clusters, a.accounts.as_deref())?;
    if let Some(b) = &a.bids {
        m.self_bidding = Some(crate::evaluate::self_bidding(&a.truth, &a.clusters, b)?);
    }
    let json = serde_json::to_string_pretty(&m)?;
    let path = a
        .json
        .clone()
        .unwrap_or_else(|| a.clusters.with_file_name("evaluation.json"));
    crate::report::write_atomic(&path, |w| {
        w.write_all(json.as_bytes())?;
        w.write_all(b"\n")
    })?;
    println!("{json}");
    Ok(())
}

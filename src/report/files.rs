//! The review files themselves: column order, row order, evidence text and redaction.

use std::path::Path;

use rayon::prelude::*;

use super::safe::cell;
use super::{
    Pending, csv_writer, io_err, write_atomic, write_atomic_pending, write_header, write_rows_par,
};
use crate::error::{Error, Result};
use crate::policy::Judged;
use crate::record::Quarantined;
use crate::score::{Scored, Scorer, probability};
use crate::summary::Summary;

pub struct Report<'a> {
    pub scorer: &'a Scorer<'a>,
    pub clusters: &'a [Judged],
    pub associates: &'a [crate::policy::Associate],
    pub scored: &'a [Scored],
    /// The rank in account-id order of each account the files show (`Accounts::id_ranks_of`; `u32::MAX` for
    /// the others): rows and members are ordered by it.
    pub id_rank: &'a [u32],
    pub link_weight: f64,
    /// With `--redact`: personal values become keyed tokens.
    pub redact: Option<&'a super::redact::RedactKey>,
    /// The run's date and input, for the page's header.
    pub run_date: &'a str,
    pub input: &'a str,
    /// `review.html` with at most this many queued clusters; `None`: no page (`--no-html`).
    pub html: Option<usize>,
}

fn fmt_w(w: f64) -> String {
    fixed(w, 2)
}
fn fmt_p(p: f64) -> String {
    fixed(p, 4)
}
/// `format!("{x:.N}")`, faster (`score::push_fixed`).
fn fixed(x: f64, decimals: u32) -> String {
    let mut s = String::with_capacity(12);
    crate::score::push_fixed(&mut s, x, decimals, false);
    s
}

impl Report<'_> {
    fn id(&self, i: u32) -> &str {
        self.scorer.accounts().id.get(i as usize)
    }

    /// Two accounts in account-id order: by their ranks, or by their ids where either is unranked (an
    /// account the ranks were not told the files show).
    pub(super) fn id_cmp(&self, a: u32, b: u32) -> std::cmp::Ordering {
        let (ra, rb) = (self.id_rank[a as usize], self.id_rank[b as usize]);
        if ra == u32::MAX || rb == u32::MAX {
            return self.id(a).cmp(self.id(b));
        }
        ra.cmp(&rb)
    }

    /// An account's name and email as the review files show them: as typed, or tokens under `--redact`.
    pub(super) fn identity(&self, i: usize) -> (String, String) {
        let acc = self.scorer.accounts();
        let (name, email) = (acc.full_name_raw.get(i), acc.email_raw.get(i));
        match self.redact {
            Some(k) => (k.token("name", name), k.token("email", email)),
            None => (name.to_string(), email.to_string()),
        }
    }

    /// `bn1 ~ bn2 (concealment, p=0.707): payment=shared(2 accounts) +7.2; …`: a pair's explanation in one line.
    fn pair_evidence(&self, a: u32, b: u32, ex: &crate::score::Explanation) -> String {
        let mut out = String::with_capacity(256);
        out.push_str(self.id(a));
        out.push_str(" ~ ");
        out.push_str(self.id(b));
        out.push_str(" (");
        out.push_str(ex.profile.as_str());
        out.push_str(", p=");
        crate::score::push_fixed(&mut out, probability(ex.weight), 3, false);
        out.push_str("): ");
        out.push_str(&ex.evidence());
        out
    }

    /// `rr3 reviewed rr1 (5, 2024-03-01)`.
    pub(super) fn review_text(&self, r: &crate::policy::Review) -> String {
        let acc = self.scorer.accounts();
        format!(
            "{} reviewed {} ({}{}{})",
            acc.id.get(r.reviewer as usize),
            acc.id.get(r.reviewee as usize),
            r.rating,
            if r.created_at.is_empty() { "" } else { ", " },
            r.created_at
        )
    }

    /// A pair with the smaller account id first.
    fn ordered(&self, s: &Scored) -> (u32, u32) {
        if self.id_cmp(s.a, s.b).is_le() {
            (s.a, s.b)
        } else {
            (s.b, s.a)
        }
    }

    pub fn write_all(&self, out: &Path, quarantine: &[Quarantined]) -> Result<()> {
        // An associate's evidence is shown in associates.csv and in the queue: built once.
        let t = std::time::Instant::now();
        let associate_evidence: Vec<(String, String)> = self
            .associates
            .par_iter()
            .map(|a| self.associate_evidence(a))
            .collect();
        let associate_evidence = &associate_evidence;
        tracing::debug!(secs = ?t.elapsed(), "report: associates' evidence built");
        // The files are independent: written side by side (each atomically, each building its rows in
        // parallel), the largest first; the first error in this order is reported.
        type Job<'j> = &'j (dyn Fn() -> Result<Option<Pending>> + Sync);
        let jobs: [(&str, Job<'_>); 6] = [
            ("review_queue", &|| {
                self.write_queue(&out.join("review_queue.csv"), associate_evidence)
                    .map(Some)
            }),
            ("pairs", &|| {
                self.write_pairs(&out.join("pairs.csv")).map(Some)
            }),
            ("associates", &|| {
                self.write_associates(&out.join("associates.csv"), associate_evidence)
                    .map(Some)
            }),
            ("clusters", &|| {
                self.write_clusters(&out.join("clusters.csv")).map(Some)
            }),
            ("html", &|| match self.html {
                Some(limit) => self.write_html(&out.join("review.html"), limit).map(Some),
                None => Ok(None),
            }),
            ("quarantine", &|| {
                write_quarantine(
                    &out.join("quarantine.csv"),
                    quarantine,
                    self.redact.is_some(),
                )
                .map(|()| None)
            }),
        ];
        // Each file is synced and renamed into place on a thread of its own (`Pending`) while the workers go
        // on to the next file; all are waited for, and the first error in this order is reported.
        let written: Vec<Result<Option<Pending>>> = jobs
            .par_iter()
            .map(|(name, job)| {
                let t = std::time::Instant::now();
                let r = job();
                tracing::debug!(file = name, secs = ?t.elapsed(), "report: file written");
                r
            })
            .collect();
        let settled: Vec<Result<()>> = written
            .into_iter()
            .map(|w| w.and_then(|p| p.map_or(Ok(()), Pending::finish)))
            .collect();
        settled.into_iter().collect()
    }

    fn write_clusters(&self, path: &Path) -> Result<Pending> {
        let acc = self.scorer.accounts();
        write_atomic_pending(path, |w| {
            write_header(
                w,
                &[
                    "cluster_id",
                    "account_id",
                    "account_type",
                    "status",
                    "cluster_size",
                    "cluster_score",
                    "verdicts",
                    "priority",
                    "suspect",
                    "created_at",
                    "full_name",
                    "email",
                    "country",
                    "email_risk",
                    "source_line",
                    "permitted_reason",
                    "change",
                    "first_seen",
                    "decision",
                ],
            )?;
            write_rows_par(w, self.clusters, |c, j| {
                let mut members = j.cluster.members.clone();
                members.sort_unstable_by(|&a, &b| self.id_cmp(a, b));
                let verdicts = j
                    .verdicts
                    .iter()
                    .map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join("|");
                let (size, score) = (j.cluster.members.len().to_string(), fmt_p(j.cluster.score));
                let priority = j.priority.map(|p| p.to_string()).unwrap_or_default();
                for m in members {
                    let i = m as usize;
                    let (name, email) = self.identity(i);
                    c.write_record([
                        j.id.as_str(),
                        &cell(acc.id.get(i)),
                        acc.account_type[i].as_str(),
                        acc.status[i].as_str(),
                        &size,
                        &score,
                        &verdicts,
                        &priority,
                        if j.suspects.contains(&m) { "yes" } else { "" },
                        &cell(acc.created_raw.get(i)),
                        &cell(&name),
                        &cell(&email),
                        acc.country_str(i),
                        match (acc.email_disposable[i], acc.email_relay[i]) {
                            (true, _) => "disposable",
                            (_, true) => "relay",
                            _ => "",
                        },
                        &acc.line[i].to_string(),
                        j.reason.unwrap_or(""),
                        j.change.as_str(),
                        &j.first_seen,
                        j.decision.map_or("", |d| d.as_str()),
                    ])?;
                }
                Ok(())
            })
        })
    }

    /// `newer <- sanctioned: device, payment` for every direct ban-evasion link of a cluster: the signals an
    /// evader cannot change at will that tie them.
    pub(super) fn evasion_links_text(&self, j: &Judged) -> String {
        let concealable = &self.scorer.config().scoring.concealable;
        j.evasion_links
            .iter()
            .map(|&(s, n)| {
                let ex = self.scorer.explain(s as usize, n as usize);
                let hard: Vec<&str> = ex
                    .items
                    .iter()
                    .filter(|i| {
                        i.weight > 0.0 && !concealable.iter().any(|c| c == i.field.as_str())
                    })
                    .map(|i| i.field.as_str())
                    .collect();
                format!("{} <- {}: {}", self.id(n), self.id(s), hard.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// `a1|a2: job-17, job-40; …` for every pair of the cluster that bid on the same jobs.
    pub(super) fn self_bids_text(&self, j: &Judged) -> String {
        let Some(bids) = self.scorer.side_files().bids else {
            return String::new();
        };
        j.self_bids
            .iter()
            .map(|sb| {
                let (mut x, mut y) = (self.id(sb.a), self.id(sb.b));
                if y < x {
                    (x, y) = (y, x);
                }
                let mut jobs: Vec<&str> = sb
                    .jobs
                    .iter()
                    .map(|&k| bids.jobs[k as usize].as_str())
                    .collect();
                jobs.sort_unstable();
                format!("{x}|{y}: {}", jobs.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// What ties an associate to the sanctioned account, and what says it is someone else.
    fn associate_evidence(&self, a: &crate::policy::Associate) -> (String, String) {
        let ex = self
            .scorer
            .explain(a.sanctioned as usize, a.account as usize);
        let mut against = String::new();
        for i in ex.items.iter().filter(|i| i.weight < 0.0) {
            if !against.is_empty() {
                against.push_str("; ");
            }
            i.write_evidence(&mut against);
        }
        (against, self.pair_evidence(a.sanctioned, a.account, &ex))
    }

    fn write_associates(&self, path: &Path, evidence: &[(String, String)]) -> Result<Pending> {
        let rows: Vec<_> = self.associates.iter().zip(evidence).collect();
        write_atomic_pending(path, |w| {
            write_header(
                w,
                &[
                    "associate_id",
                    "sanctioned_account_id",
                    "account_id",
                    "match_weight",
                    "evidence",
                    "why_not_the_same_person",
                ],
            )?;
            write_rows_par(w, &rows, |c, (a, (why, evidence))| {
                c.write_record([
                    a.id.as_str(),
                    &*cell(self.id(a.sanctioned)),
                    &*cell(self.id(a.account)),
                    &fmt_w(a.weight),
                    &*cell(evidence),
                    &*cell(why),
                ])
            })
        })
    }

    fn write_pairs(&self, path: &Path) -> Result<Pending> {
        let cluster_of = crate::policy::ClusterOf::new(self.clusters);
        let mut rows: Vec<&Scored> = self.scored.iter().collect();
        rows.par_sort_by(|x, y| {
            y.weight
                .total_cmp(&x.weight)
                .then_with(|| self.id_cmp(x.a, y.a))
                .then_with(|| self.id_cmp(x.b, y.b))
        });
        write_atomic_pending(path, |w| {
            write_header(
                w,
                &[
                    "account_id_a",
                    "account_id_b",
                    "match_weight",
                    "match_probability",
                    "kind",
                    "profile",
                    "cluster_id",
                    "evidence",
                ],
            )?;
            write_rows_par(w, &rows, |c, s| {
                let (a, b) = self.ordered(s);
                let ex = self.scorer.explain(a as usize, b as usize);
                let same = match (cluster_of.get(a), cluster_of.get(b)) {
                    (Some(x), Some(y)) if x == y => self.clusters[x].id.as_str(),
                    _ => "",
                };
                c.write_record([
                    &*cell(self.id(a)),
                    &*cell(self.id(b)),
                    &fmt_w(s.weight),
                    &fmt_p(probability(s.weight)),
                    if s.weight >= self.link_weight {
                        "link"
                    } else {
                        "near_miss"
                    },
                    ex.profile.as_str(),
                    same,
                    &*cell(&ex.evidence()),
                ])
            })
        })
    }

    fn write_queue(&self, path: &Path, associate_evidence: &[(String, String)]) -> Result<Pending> {
        let queued: Vec<&Judged> = self.clusters.iter().filter(|j| j.queued()).collect();
        let associates: Vec<_> = self.associates.iter().zip(associate_evidence).collect();
        write_atomic_pending(path, |w| {
            write_header(
                w,
                &[
                    "cluster_id",
                    "verdicts",
                    "priority",
                    "cluster_size",
                    "cluster_score",
                    "account_ids",
                    "suspect_account_ids",
                    "ban_evasion_links",
                    "evidence",
                    "reviews",
                    "self_bidding_jobs",
                    "duplicate_businesses",
                    "change",
                    "first_seen",
                ],
            )?;
            write_rows_par(w, &queued, |c, j| self.queue_row(c, j))?;
            write_rows_par(w, &associates, |c, (a, (why, evidence))| {
                c.write_record([
                    a.id.as_str(),
                    "associated_with_sanctioned",
                    "4",
                    "2",
                    &fmt_p(probability(a.weight)),
                    &*cell(&format!("{}|{}", self.id(a.sanctioned), self.id(a.account))),
                    &*cell(self.id(a.account)),
                    "",
                    &*cell(&format!("{evidence}; not the same person: {why}")),
                    "",
                    "",
                    "",
                    "",
                    "",
                ])
            })
        })
    }

    /// A queued cluster's row of `review_queue.csv`.
    fn queue_row(&self, c: &mut csv::Writer<Vec<u8>>, j: &Judged) -> csv::Result<()> {
        let ids = |v: &[u32]| {
            let mut v = v.to_vec();
            v.sort_unstable_by(|&a, &b| self.id_cmp(a, b));
            v.iter().map(|&i| self.id(i)).collect::<Vec<_>>().join("|")
        };
        let (a, b) = j.key_pair;
        let ex = self.scorer.explain(a as usize, b as usize);
        let evidence = self.pair_evidence(a, b, &ex);
        let reviews = j
            .reviews
            .iter()
            .map(|r| self.review_text(r))
            .collect::<Vec<_>>()
            .join("; ");
        c.write_record([
            j.id.as_str(),
            &j.verdicts
                .iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join("|"),
            &j.priority.map(|p| p.to_string()).unwrap_or_default(),
            &j.cluster.members.len().to_string(),
            &fmt_p(j.cluster.score),
            &*cell(&ids(&j.cluster.members)),
            &*cell(&ids(&j.suspects)),
            &*cell(&self.evasion_links_text(j)),
            &*cell(&evidence),
            &*cell(&reviews),
            &*cell(&self.self_bids_text(j)),
            &*cell(&j.duplicate_businesses.join("|")),
            j.change.as_str(),
            &j.first_seen,
        ])
    }
}

/// `changes.csv`: every cluster of this run with its change since the previous run, then the dissolved ones.
pub fn write_changes(path: &Path, rows: &[crate::history::ChangeRow]) -> Result<()> {
    write_atomic(path, |w| {
        let mut c = csv_writer(w);
        c.write_record([
            "cluster_id",
            "change",
            "previous_cluster_ids",
            "accounts_added",
            "accounts_removed",
            "first_seen",
        ])
        .map_err(io_err)?;
        for r in rows {
            c.write_record([
                r.cluster_id.as_str(),
                r.change.as_str(),
                &r.previous_cluster_ids.join("|"),
                &*cell(&r.accounts_added.join("|")),
                &*cell(&r.accounts_removed.join("|")),
                &r.first_seen,
            ])
            .map_err(io_err)?;
        }
        c.flush()
    })
}

/// `quarantine.csv`: `line, reason, raw`; with `redact`, the raw row is left out (it holds personal values).
pub fn write_quarantine(path: &Path, rows: &[Quarantined], redact: bool) -> Result<()> {
    write_atomic(path, |w| {
        let mut c = csv_writer(w);
        c.write_record(["line", "reason", "raw"]).map_err(io_err)?;
        for q in rows {
            let raw = if redact { "[redacted]" } else { &q.raw };
            c.write_record([
                &q.line.to_string(),
                &*cell(&q.reason),
                &*super::safe::long_cell(raw),
            ])
            .map_err(io_err)?;
        }
        c.flush()
    })
}

/// Writes the match model as JSON (`model.json`, readable by `run --model`).
pub fn write_model(path: &Path, model: &crate::model::Model) -> Result<()> {
    let text = serde_json::to_string_pretty(model)
        .map_err(|e| Error::write(path, std::io::Error::other(e)))?;
    write_atomic(path, |w| {
        w.write_all(text.as_bytes())?;
        w.write_all(b"\n")
    })
}

pub fn write_summary(path: &Path, summary: &Summary) -> Result<()> {
    let text = serde_json::to_string_pretty(summary)
        .map_err(|e| Error::write(path, std::io::Error::other(e)))?;
    write_atomic(path, |w| {
        w.write_all(text.as_bytes())?;
        w.write_all(b"\n")
    })
}

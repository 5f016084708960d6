//! `review.html`: one self-contained page for a reviewer (no network access at all: inline CSS and JS, a
//! Content-Security-Policy that forbids any remote load). The queue, sortable and filterable by verdict,
//! priority and change; for each queued cluster its accounts (identity fields masked as in the CSVs under
//! `--redact`), an SVG graph of its accounts with links and near misses as edges, the deciding pair's evidence
//! as a bar chart, the reviews inside it and the command that records a decision. The layout is the template
//! `templates/review.html.j2` (minijinja, auto-escaping: every value from the input is HTML-escaped); this
//! module only computes what the template shows. Deterministic like every other output.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use serde::Serialize;

use super::files::Report;
use super::{Pending, write_atomic_pending};
use crate::error::{Error, Result};
use crate::policy::Judged;
use crate::score::{Level, probability};

const TEMPLATE: &str = include_str!("../../templates/review.html.j2");

#[derive(Serialize)]
struct Page<'a> {
    run_date: &'a str,
    input: &'a str,
    out: String,
    model: &'a str,
    queued: usize,
    shown: usize,
    more: usize,
    verdicts: BTreeSet<&'static str>,
    priorities: BTreeSet<u8>,
    changes: BTreeSet<&'static str>,
    clusters: Vec<ClusterView>,
}

#[derive(Serialize)]
struct AccountView {
    id: String,
    account_type: &'static str,
    status: &'static str,
    created: String,
    name: String,
    email: String,
    country: String,
    suspect: bool,
}

#[derive(Serialize)]
struct Node {
    id: String,
    status: &'static str,
    x: String,
    y: String,
    ty: String,
    fill: &'static str,
}

#[derive(Serialize)]
struct Edge {
    a: String,
    b: String,
    x1: String,
    y1: String,
    x2: String,
    y2: String,
    lx: String,
    ly: String,
    width: String,
    color: &'static str,
    near_miss: bool,
    weight: String,
    label: &'static str,
    evidence: String,
}

#[derive(Serialize)]
struct Graph {
    size: u32,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
}

#[derive(Serialize)]
struct Bar {
    signal: &'static str,
    level: String,
    weight: String,
    positive: bool,
    x: String,
    y: u32,
    ty: u32,
    width: String,
}

#[derive(Serialize)]
struct Waterfall {
    height: u32,
    zero: u32,
    bars: Vec<Bar>,
}

#[derive(Serialize)]
struct ClusterView {
    id: String,
    verdicts: Vec<&'static str>,
    priority: u8,
    change: &'static str,
    first_seen: String,
    score: String,
    accounts: Vec<AccountView>,
    graph: Graph,
    key_pair: String,
    profile: &'static str,
    probability: String,
    evidence: String,
    waterfall: Waterfall,
    links_text: String,
    self_bids: String,
    reviews: Vec<String>,
}

fn f1(x: f64) -> String {
    format!("{x:.1}")
}

impl Report<'_> {
    /// Writes `review.html` with at most `limit` queued clusters, most urgent first.
    pub fn write_html(&self, path: &Path, limit: usize) -> Result<Pending> {
        let queued: Vec<&Judged> = self.clusters.iter().filter(|j| j.queued()).collect();
        let shown: Vec<&Judged> = queued.iter().take(limit).copied().collect();
        let edges = self.edges_by_cluster(&shown);
        let clusters: Vec<ClusterView> = shown
            .iter()
            .zip(edges)
            .map(|(j, e)| self.cluster_view(j, e))
            .collect();
        let page = Page {
            run_date: self.run_date,
            input: self.input,
            // Relative, so the page is the same bytes wherever the run was written: run it from here.
            out: ".".into(),
            model: &self.scorer.model().method,
            queued: queued.len(),
            shown: shown.len(),
            more: queued.len() - shown.len(),
            verdicts: shown
                .iter()
                .flat_map(|j| j.verdicts.iter().map(|v| v.as_str()))
                .collect(),
            priorities: shown.iter().filter_map(|j| j.priority).collect(),
            changes: shown.iter().map(|j| j.change.as_str()).collect(),
            clusters,
        };
        let mut env = minijinja::Environment::new();
        let render_err =
            |e: minijinja::Error| Error::write(path, std::io::Error::other(e.to_string()));
        env.add_template("review.html", TEMPLATE)
            .map_err(render_err)?;
        let html = env
            .get_template("review.html")
            .and_then(|t| t.render(&page))
            .map_err(render_err)?;
        write_atomic_pending(path, |w| w.write_all(html.as_bytes()))
    }

    /// The scored pairs (links and near misses) inside each shown cluster, in scored order.
    fn edges_by_cluster(&self, shown: &[&Judged]) -> Vec<Vec<(u32, u32, f64)>> {
        let mut of: HashMap<u32, usize> = HashMap::new();
        for (k, j) in shown.iter().enumerate() {
            for &m in &j.cluster.members {
                of.insert(m, k);
            }
        }
        let mut out = vec![Vec::new(); shown.len()];
        for s in self.scored {
            if let (Some(&x), Some(&y)) = (of.get(&s.a), of.get(&s.b))
                && x == y
            {
                out[x].push((s.a.min(s.b), s.a.max(s.b), s.weight));
            }
        }
        for v in &mut out {
            v.sort_by_key(|p| (p.0, p.1));
        }
        out
    }

    fn account_view(&self, j: &Judged, i: u32) -> AccountView {
        let acc = self.scorer.accounts();
        let i = i as usize;
        let (name, email) = self.identity(i);
        AccountView {
            id: acc.id.get(i).to_string(),
            account_type: acc.account_type[i].as_str(),
            status: acc.status[i].as_str(),
            created: acc.created_raw.get(i).to_string(),
            name,
            email,
            country: acc.country_str(i).to_string(),
            suspect: j.suspects.contains(&(i as u32)),
        }
    }

    fn cluster_view(&self, j: &Judged, pairs: Vec<(u32, u32, f64)>) -> ClusterView {
        let acc = self.scorer.accounts();
        let mut members = j.cluster.members.clone();
        members.sort_unstable_by(|&a, &b| self.id_cmp(a, b));
        let (a, b) = j.key_pair;
        let ex = self.scorer.explain(a as usize, b as usize);
        ClusterView {
            id: j.id.clone(),
            verdicts: j.verdicts.iter().map(|v| v.as_str()).collect(),
            priority: j.priority.unwrap_or(0),
            change: j.change.as_str(),
            first_seen: j.first_seen.clone(),
            score: format!("{:.4}", j.cluster.score),
            accounts: members.iter().map(|&m| self.account_view(j, m)).collect(),
            graph: self.graph(j, &members, &pairs),
            key_pair: format!("{} ~ {}", acc.id.get(a as usize), acc.id.get(b as usize)),
            profile: ex.profile.as_str(),
            probability: format!("{:.3}", probability(ex.weight)),
            evidence: ex.evidence(),
            waterfall: waterfall(&ex),
            links_text: self.evasion_links_text(j),
            self_bids: self.self_bids_text(j),
            reviews: j.reviews.iter().map(|r| self.review_text(r)).collect(),
        }
    }

    /// Accounts on a circle (in account-id order), links solid and as wide as they are strong, near misses
    /// dashed; each edge labelled with the signal that weighs most for it.
    fn graph(&self, j: &Judged, members: &[u32], pairs: &[(u32, u32, f64)]) -> Graph {
        let acc = self.scorer.accounts();
        let n = members.len();
        let size = (200 + 40 * n as u32).min(560);
        let (c, r) = (size as f64 / 2.0, size as f64 / 2.0 - 36.0);
        let pos: HashMap<u32, (f64, f64)> = members
            .iter()
            .enumerate()
            .map(|(k, &m)| {
                let t = std::f64::consts::TAU * k as f64 / n as f64 - std::f64::consts::FRAC_PI_2;
                (m, (c + r * t.cos(), c + r * t.sin()))
            })
            .collect();
        let nodes = members
            .iter()
            .map(|&m| {
                let (x, y) = pos[&m];
                let status = acc.status[m as usize];
                Node {
                    id: acc.id.get(m as usize).to_string(),
                    status: status.as_str(),
                    x: f1(x),
                    y: f1(y),
                    ty: f1(y + 28.0),
                    fill: if status.is_sanctioned() {
                        "#f8c9c4"
                    } else if j.suspects.contains(&m) {
                        "#f9e2b5"
                    } else {
                        "#dfe8f7"
                    },
                }
            })
            .collect();
        let edges = pairs
            .iter()
            .map(|&(a, b, w)| {
                let ((x1, y1), (x2, y2)) = (pos[&a], pos[&b]);
                let ex = self.scorer.explain(a as usize, b as usize);
                let top = ex
                    .items
                    .iter()
                    .filter(|i| i.level != Level::Missing && i.weight > 0.0)
                    .max_by(|p, q| p.weight.total_cmp(&q.weight).then(q.field.cmp(&p.field)));
                let link = w >= self.link_weight;
                Edge {
                    a: acc.id.get(a as usize).to_string(),
                    b: acc.id.get(b as usize).to_string(),
                    x1: f1(x1),
                    y1: f1(y1),
                    x2: f1(x2),
                    y2: f1(y2),
                    lx: f1((x1 + x2) / 2.0),
                    ly: f1((y1 + y2) / 2.0 - 3.0),
                    width: f1(if link {
                        (1.0 + w / 8.0).clamp(1.0, 6.0)
                    } else {
                        1.0
                    }),
                    color: if link { "#2f5d8a" } else { "#aaaaaa" },
                    near_miss: !link,
                    weight: format!("{w:+.1}"),
                    label: top.map_or("", |i| i.field.as_str()),
                    evidence: ex.evidence(),
                }
            })
            .collect();
        Graph { size, nodes, edges }
    }
}

/// The deciding pair's evidence as horizontal bars around a zero line (right: for one person, left: against).
fn waterfall(ex: &crate::score::Explanation) -> Waterfall {
    let items = ex.rows(false);
    let zero = 220u32;
    let most = items.iter().map(|i| i.2.abs()).fold(1.0, f64::max);
    let scale = 200.0 / most;
    let bars: Vec<Bar> = items
        .into_iter()
        .enumerate()
        .map(|(k, (signal, level, weight))| {
            let width = weight.abs() * scale;
            let y = 4 + 20 * k as u32;
            Bar {
                signal,
                level,
                weight: format!("{weight:+.2}"),
                positive: weight >= 0.0,
                x: f1(if weight >= 0.0 {
                    zero as f64
                } else {
                    zero as f64 - width
                }),
                y,
                ty: y + 11,
                width: f1(width.max(1.0)),
            }
        })
        .collect();
    Waterfall {
        height: 8 + 20 * bars.len() as u32,
        zero,
        bars,
    }
}

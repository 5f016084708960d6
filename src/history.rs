//! Run-to-run continuity for a nightly job: reviewer decisions (`run --decisions`, written by `sybilscan
//! decide`) that constrain clustering and dismiss what was already decided, and stable cluster ids with what
//! changed since the previous run (`run --previous DIR`): a cluster keeps the id of the previous cluster it
//! overlaps most, and every cluster is labelled new, grown, shrunk, merged, split or unchanged (dissolved ones
//! are listed too).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::block::pack;
use crate::error::{Error, Result};
use crate::load::{open_table, require_column};
use crate::policy::Judged;
use crate::record::Accounts;

/// A reviewer's word on a pair of accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// One person: a must-link.
    Same,
    /// Two people: a cannot-link.
    Different,
}

impl Decision {
    pub fn parse(s: &str) -> Option<Decision> {
        match s.trim().to_ascii_lowercase().as_str() {
            "same" => Some(Decision::Same),
            "different" => Some(Decision::Different),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Same => "same",
            Decision::Different => "different",
        }
    }
}

/// A decisions row that could not be used.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Rejected {
    pub line: u64,
    pub reason: String,
}

/// The decisions file, by pair (the last row on a pair wins).
#[derive(Debug, Default)]
pub struct Decisions {
    by_pair: HashMap<u64, Decision>,
    /// Rows read, used, naming an unknown account, with an unknown decision word; the rejected rows.
    pub rows: u64,
    pub used: u64,
    pub unknown_accounts: u64,
    pub unknown_decisions: u64,
    pub rejected: Vec<Rejected>,
}

/// The decisions' counts for `summary.json`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DecisionCounts {
    pub read: u64,
    pub used: u64,
    pub unknown_accounts: u64,
    pub unknown_decisions: u64,
    pub rejected: Vec<Rejected>,
    pub same_pairs: u64,
    pub different_pairs: u64,
    /// Clusters left out of the queue because every pair was decided `same` and nothing changed.
    pub dismissed_clusters: u64,
}

impl Decisions {
    /// Reads `account_id_a, account_id_b, decision[, reviewer, decided_at, note]`.
    pub fn load(path: &Path, acc: &Accounts) -> Result<Decisions> {
        let index: HashMap<&str, u32> = (0..acc.len()).map(|i| (acc.id.get(i), i as u32)).collect();
        let (mut rdr, names) = open_table(path)?;
        let find = |c: &str| require_column(path, &names, c);
        let (ia, ib, id) = (
            find("account_id_a")?,
            find("account_id_b")?,
            find("decision")?,
        );
        let mut out = Decisions::default();
        let mut rec = csv::StringRecord::new();
        let mut lines = crate::load::SideLines::new(path);
        while rdr
            .read_record(&mut rec)
            .map_err(|e| Error::csv(path, &e))?
        {
            out.rows += 1;
            let get = |i: usize| rec.get(i).unwrap_or("").trim();
            let (a, b) = (index.get(get(ia)), index.get(get(ib)));
            let decision = Decision::parse(get(id));
            let reason = match (a, b, decision) {
                (Some(&a), Some(&b), Some(d)) if a != b => {
                    out.by_pair.insert(pack(a.min(b), a.max(b)), d);
                    out.used += 1;
                    continue;
                }
                (Some(a), Some(b), _) if a == b => "both accounts are the same".to_string(),
                (Some(_), Some(_), None) => {
                    out.unknown_decisions += 1;
                    format!("decision {:?} is neither same nor different", get(id))
                }
                _ => {
                    out.unknown_accounts += 1;
                    format!("unknown account {:?} or {:?}", get(ia), get(ib))
                }
            };
            out.rejected.push(Rejected {
                line: lines.line(rec.position()),
                reason,
            });
        }
        Ok(out)
    }

    pub fn get(&self, a: u32, b: u32) -> Option<Decision> {
        self.by_pair.get(&pack(a.min(b), a.max(b))).copied()
    }

    /// Pairs decided `same` (must-links), ascending.
    pub fn must_links(&self) -> Vec<(u32, u32)> {
        self.pairs(Decision::Same)
    }

    fn pairs(&self, d: Decision) -> Vec<(u32, u32)> {
        let mut v: Vec<(u32, u32)> = self
            .by_pair
            .iter()
            .filter(|(_, x)| **x == d)
            .map(|(&p, _)| ((p >> 32) as u32, p as u32))
            .collect();
        v.sort_unstable();
        v
    }

    /// Whether the two accounts were decided to be different people.
    pub fn cannot_link(&self, a: u32, b: u32) -> bool {
        self.get(a, b) == Some(Decision::Different)
    }

    /// The decision that covers a whole cluster: `same` when every pair of it was decided `same`.
    pub fn of_cluster(&self, members: &[u32]) -> Option<Decision> {
        let all_same = members.iter().enumerate().all(|(i, &a)| {
            members[i + 1..]
                .iter()
                .all(|&b| self.get(a, b) == Some(Decision::Same))
        });
        all_same.then_some(Decision::Same)
    }

    pub fn counts(&self) -> DecisionCounts {
        DecisionCounts {
            read: self.rows,
            used: self.used,
            unknown_accounts: self.unknown_accounts,
            unknown_decisions: self.unknown_decisions,
            rejected: self.rejected.clone(),
            same_pairs: self.pairs(Decision::Same).len() as u64,
            different_pairs: self.pairs(Decision::Different).len() as u64,
            dismissed_clusters: 0,
        }
    }
}

/// What the previous run's `clusters.csv` (and `summary.json`) say.
#[derive(Debug, Default)]
pub struct Previous {
    /// Cluster id → its account ids.
    pub clusters: BTreeMap<String, BTreeSet<String>>,
    /// Cluster id → the run date it first appeared.
    pub first_seen: HashMap<String, String>,
    /// The next id number that was never used.
    pub next_id: u64,
}

fn id_number(id: &str) -> u64 {
    id.trim_start_matches('C').parse().unwrap_or(0)
}

/// Undoes the CSV-injection guard of our own writer on an account id.
fn unguard(id: &str) -> &str {
    id.strip_prefix('\'')
        .filter(|s| s.starts_with(['=', '+', '-', '@', '\t', '\r']))
        .unwrap_or(id)
}

impl Previous {
    /// Reads `DIR/clusters.csv` and, when present, `next_cluster_id` from `DIR/summary.json`.
    pub fn read(dir: &Path) -> Result<Previous> {
        let path = dir.join("clusters.csv");
        let (mut rdr, names) = open_table(&path)?;
        let (ic, ia) = (
            require_column(&path, &names, "cluster_id")?,
            require_column(&path, &names, "account_id")?,
        );
        let ifs = names.iter().position(|n| n == "first_seen");
        let mut out = Previous::default();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| Error::csv(&path, &e))?;
            let id = rec.get(ic).unwrap_or("").trim().to_string();
            let acc = unguard(rec.get(ia).unwrap_or("").trim()).to_string();
            if let Some(fs) = ifs.and_then(|i| rec.get(i)).filter(|s| !s.is_empty()) {
                out.first_seen.insert(id.clone(), fs.to_string());
            }
            out.next_id = out.next_id.max(id_number(&id) + 1);
            out.clusters.entry(id).or_default().insert(acc);
        }
        let summary = dir.join("summary.json");
        if let Ok(text) = std::fs::read_to_string(&summary)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(n) = v.get("next_cluster_id").and_then(|x| x.as_u64())
        {
            out.next_id = out.next_id.max(n);
        }
        out.next_id = out.next_id.max(1);
        Ok(out)
    }
}

/// What happened to a cluster since the previous run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    New,
    Grown,
    Shrunk,
    Merged,
    Split,
    Unchanged,
    Dissolved,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Grown => "grown",
            Change::Shrunk => "shrunk",
            Change::Merged => "merged",
            Change::Split => "split",
            Change::Unchanged => "unchanged",
            Change::Dissolved => "dissolved",
        }
    }
}

/// One row of `changes.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRow {
    pub cluster_id: String,
    pub change: Change,
    pub previous_cluster_ids: Vec<String>,
    pub accounts_added: Vec<String>,
    pub accounts_removed: Vec<String>,
    pub first_seen: String,
}

/// Gives every judged cluster its id, change and first-seen date, in queue order; returns the rows of
/// `changes.csv` (the clusters in queue order, then the dissolved ones) and the next unused id number.
pub fn assign_ids(
    judged: &mut [Judged],
    acc: &Accounts,
    prev: Option<&Previous>,
    run_date: &str,
) -> (Vec<ChangeRow>, u64) {
    let empty = Previous {
        next_id: 1,
        ..Previous::default()
    };
    let prev = prev.unwrap_or(&empty);
    // Each cluster's ids copied and ordered on their own: in parallel (a quarter of a million at a million
    // accounts), in cluster order.
    let ids: Vec<BTreeSet<String>> = judged
        .par_iter()
        .map(|j| {
            j.cluster
                .members
                .iter()
                .map(|&m| acc.id.get(m as usize).to_string())
                .collect()
        })
        .collect();
    let (rows, next) = match_clusters(&ids, prev, run_date);
    // A million clusters' strings, copied and freed on every worker.
    judged.par_iter_mut().zip(&rows).for_each(|(j, r)| {
        j.id = r.cluster_id.clone();
        j.change = r.change;
        j.first_seen = r.first_seen.clone();
    });
    ids.into_par_iter().for_each(drop);
    (rows, next)
}

/// For each of this run's clusters, the previous clusters it shares accounts with (and how many).
type Touched<'a> = Vec<BTreeMap<&'a str, usize>>;

/// Which previous id each of this run's clusters keeps: overlaps taken strongest first (ties: the older id,
/// then queue order), each previous id given once.
fn kept_ids<'a>(
    ids: &[BTreeSet<String>],
    prev: &'a Previous,
) -> (Touched<'a>, Vec<Option<&'a str>>) {
    if prev.clusters.is_empty() {
        // A first run (or one after an empty run): nothing to keep, and no account to look up.
        return (vec![BTreeMap::new(); ids.len()], vec![None; ids.len()]);
    }
    let mut prev_of: HashMap<&str, &str> = HashMap::new();
    for (cid, members) in &prev.clusters {
        for a in members {
            prev_of.insert(a.as_str(), cid.as_str());
        }
    }
    let mut overlaps: Vec<(usize, &str, usize)> = Vec::new();
    let mut touched: Touched = vec![BTreeMap::new(); ids.len()];
    for (k, members) in ids.iter().enumerate() {
        for a in members {
            if let Some(p) = prev_of.get(a.as_str()) {
                *touched[k].entry(p).or_insert(0) += 1;
            }
        }
        overlaps.extend(touched[k].iter().map(|(p, n)| (k, *p, *n)));
    }
    overlaps.sort_by(|x, y| {
        y.2.cmp(&x.2)
            .then(id_number(x.1).cmp(&id_number(y.1)))
            .then(x.0.cmp(&y.0))
    });
    let mut kept: Vec<Option<&str>> = vec![None; ids.len()];
    let mut taken: HashSet<&str> = HashSet::new();
    for (k, p, _) in overlaps {
        if kept[k].is_none() && !taken.contains(p) {
            kept[k] = Some(p);
            taken.insert(p);
        }
    }
    (touched, kept)
}

/// The ids, changes and first-seen dates of this run's clusters (account id sets, in queue order) against
/// the previous run's; then the dissolved previous clusters.
fn match_clusters(
    ids: &[BTreeSet<String>],
    prev: &Previous,
    run_date: &str,
) -> (Vec<ChangeRow>, u64) {
    let (touched, kept) = kept_ids(ids, prev);
    // How many of this run's clusters each previous cluster's accounts went to.
    let mut spread: HashMap<&str, usize> = HashMap::new();
    for t in &touched {
        for p in t.keys() {
            *spread.entry(p).or_insert(0) += 1;
        }
    }
    // A cluster that keeps no previous id takes the next number: the numbers of those before it, counted
    // first, let every row be built on its own (on all workers: at ten million accounts a million rows and
    // their 2.2M account ids took one worker a second).
    let mut new = 0u64;
    let new_before: Vec<u64> = kept
        .iter()
        .map(|k| {
            let before = new;
            new += u64::from(k.is_none());
            before
        })
        .collect();
    let next = prev.next_id + new;
    let mut rows: Vec<ChangeRow> = (0..ids.len())
        .into_par_iter()
        .map(|k| {
            change_row(
                &ids[k],
                &touched[k],
                kept[k],
                &spread,
                prev,
                (new_before[k], run_date),
            )
        })
        .collect();
    let touched_any: HashSet<&str> = touched.iter().flat_map(|t| t.keys().copied()).collect();
    for (cid, members) in &prev.clusters {
        if !touched_any.contains(cid.as_str()) {
            rows.push(ChangeRow {
                cluster_id: cid.clone(),
                change: Change::Dissolved,
                previous_cluster_ids: vec![cid.clone()],
                accounts_added: vec![],
                accounts_removed: members.iter().cloned().collect(),
                first_seen: prev.first_seen.get(cid).cloned().unwrap_or_default(),
            });
        }
    }
    (rows, next)
}

/// The row of `changes.csv` of one of this run's clusters (its account ids `ids`): the previous clusters it
/// `touched`, the previous id it `kept`, and how many of this run's clusters each previous one went to
/// (`spread`); a cluster keeping no id takes the number after the `new_before` new ones before it.
fn change_row(
    ids: &BTreeSet<String>,
    touched: &BTreeMap<&str, usize>,
    kept: Option<&str>,
    spread: &HashMap<&str, usize>,
    prev: &Previous,
    (new_before, run_date): (u64, &str),
) -> ChangeRow {
    let (id, first_seen) = match kept {
        Some(p) => (
            p.to_string(),
            prev.first_seen
                .get(p)
                .cloned()
                .unwrap_or_else(|| run_date.to_string()),
        ),
        None => (
            format!("C{:06}", prev.next_id + new_before),
            run_date.to_string(),
        ),
    };
    let parts: Vec<String> = touched.keys().map(|p| p.to_string()).collect();
    let before: BTreeSet<&str> = touched
        .keys()
        .flat_map(|p| prev.clusters[*p].iter().map(String::as_str))
        .collect();
    let now: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    let added: Vec<String> = now.difference(&before).map(|s| s.to_string()).collect();
    let removed: Vec<String> = before.difference(&now).map(|s| s.to_string()).collect();
    let change = if parts.is_empty() {
        Change::New
    } else if parts.len() > 1 {
        Change::Merged
    } else if kept.is_none() || spread[parts[0].as_str()] > 1 {
        Change::Split
    } else if added.is_empty() && removed.is_empty() {
        Change::Unchanged
    } else if !added.is_empty() {
        Change::Grown
    } else {
        Change::Shrunk
    };
    ChangeRow {
        cluster_id: id,
        change,
        previous_cluster_ids: parts,
        accounts_added: added,
        accounts_removed: removed,
        first_seen,
    }
}

/// Appends one decision for every pair of `members` to the decisions file: the old content and the new rows
/// go to a temporary file that replaces it, so a reader never sees half a file. Returns the pairs written.
pub fn append_decisions(
    path: &Path,
    members: &BTreeSet<String>,
    decision: Decision,
    reviewer: &str,
    decided_at: &str,
    note: &str,
) -> Result<usize> {
    let old = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(path, e)),
    };
    let ids: Vec<&String> = members.iter().collect();
    let mut n = 0;
    crate::report::write_atomic(path, |w| {
        if old.is_empty() {
            w.write_all(b"account_id_a,account_id_b,decision,reviewer,decided_at,note\n")?;
        } else {
            w.write_all(&old)?;
            if !old.ends_with(b"\n") {
                w.write_all(b"\n")?;
            }
        }
        let mut c = csv::WriterBuilder::new().has_headers(false).from_writer(w);
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                c.write_record([
                    a.as_str(),
                    b.as_str(),
                    decision.as_str(),
                    reviewer,
                    decided_at,
                    note,
                ])
                .map_err(crate::report::io_err)?;
                n += 1;
            }
        }
        c.flush()
    })?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ids_follow_the_largest_overlap_and_changes_are_named() {
        let mut prev = Previous {
            next_id: 9,
            ..Previous::default()
        };
        for (id, m) in [
            ("C000001", &["a", "b"][..]),
            ("C000002", &["c", "d", "e"]),
            ("C000003", &["f", "g"]),
            ("C000004", &["h", "i"]),
            ("C000005", &["j", "k", "l", "m"]),
            ("C000006", &["n", "o"]),
        ] {
            prev.clusters.insert(id.into(), set(m));
            prev.first_seen.insert(id.into(), "2026-01-01".into());
        }
        let now = [
            set(&["a", "b"]),           // unchanged
            set(&["c", "d", "e", "x"]), // grown
            set(&["f", "g", "h", "i"]), // merged: ties go to the older id
            set(&["j", "k"]),           // split: keeps the id (first in queue order among equals)
            set(&["l", "m"]),           // split: the other part gets a new id
            set(&["y", "z"]),           // new
        ];
        let (rows, next) = match_clusters(&now, &prev, "2026-02-02");
        let got: Vec<(&str, &str, String)> = rows
            .iter()
            .map(|r| {
                (
                    r.cluster_id.as_str(),
                    r.change.as_str(),
                    r.previous_cluster_ids.join("|"),
                )
            })
            .collect();
        let want = [
            ("C000001", "unchanged", "C000001"),
            ("C000002", "grown", "C000002"),
            ("C000003", "merged", "C000003|C000004"),
            ("C000005", "split", "C000005"),
            ("C000009", "split", "C000005"),
            ("C000010", "new", ""),
            ("C000006", "dissolved", "C000006"),
        ];
        let want: Vec<(&str, &str, String)> = want
            .iter()
            .map(|(a, b, c)| (*a, *b, c.to_string()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(next, 11, "new ids never reuse an old one");
        assert_eq!(rows[1].accounts_added, vec!["x".to_string()]);
        assert_eq!(
            rows[3].accounts_removed,
            vec!["l".to_string(), "m".to_string()]
        );
        assert_eq!(
            (rows[0].first_seen.as_str(), rows[5].first_seen.as_str()),
            ("2026-01-01", "2026-02-02")
        );
    }
}

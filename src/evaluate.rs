//! Metrics of a clustering against ground truth: pairwise and B-cubed precision, recall and F1, recall per
//! scenario and false merges per hard-negative group. Everything is counted from the cluster × person
//! contingency table (never from pairs), so it is linear in the number of accounts.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::load::{open_table, require_column};

/// One account of the truth file.
#[derive(Debug, Clone)]
pub struct TruthRow {
    pub account_id: String,
    pub person_id: String,
    pub scenario: String,
    /// Hard-negative group (household, coworking space, agency…), when the truth file has `group_id`.
    pub group_id: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Prf {
    fn new(p: f64, r: f64) -> Self {
        let f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        Prf {
            precision: p,
            recall: r,
            f1,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Pairwise {
    pub true_pairs: u64,
    pub predicted_pairs: u64,
    pub correct_pairs: u64,
    #[serde(flatten)]
    pub prf: Prf,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ScenarioRecall {
    pub true_pairs: u64,
    pub found_pairs: u64,
    pub recall: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FalseMerges {
    /// Groups (e.g. households) with accounts of two or more persons.
    pub groups: u64,
    /// Groups where accounts of two different persons ended in one cluster.
    pub groups_merged: u64,
    pub rate: f64,
    /// Pairs of different persons of this scenario put in one cluster.
    pub false_pairs: u64,
    /// Pairs of different persons inside the groups, and the share of them put in one cluster.
    pub cross_person_pairs: u64,
    pub false_link_rate: f64,
}

/// What a reviewer acts on: the queue and its suspects, judged against the truth (from clusters.csv's
/// `verdicts`, `priority`, `suspect` and `status` columns).
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Verdicts {
    /// Clusters with a priority.
    pub queued_clusters: u64,
    /// Share of queued clusters whose every suspect has another account of their own in the cluster.
    pub queue_precision: f64,
    /// Accounts named as ban-evasion suspects.
    pub ban_evasion_suspects: u64,
    /// Share of them whose person also holds a sanctioned account of that cluster.
    pub ban_evasion_precision: f64,
    /// People of a ban-evasion scenario (a sanctioned account and a newer one).
    pub ban_evasion_people: u64,
    /// Share of them named as suspects beside their own sanctioned account.
    pub ban_evasion_recall: f64,
    /// Wrongly named ban-evasion suspects, by the scenario they come from.
    pub wrong_ban_evasion_suspects_by_scenario: BTreeMap<String, u64>,
    /// `associated_with_sanctioned` accounts (associates.csv beside clusters.csv), by scenario.
    pub associates: u64,
    pub associates_by_scenario: BTreeMap<String, u64>,
    /// Associates that are in truth the sanctioned person (evaders the model let go as a relative).
    pub associates_same_person: u64,
    /// Other people of a hard-negative group (household, agency, coworking space…) that holds a sanctioned
    /// account, and how many of them were named ban-evasion suspects, by kind of group (the scenario up to
    /// its first `_`: `household_twins` is a household). Groups are known from the sanctioned accounts
    /// the accounts file (`evaluate --accounts`) or, without it, from those clusters.csv shows (then a group
    /// whose sanctioned member is in no cluster is not counted, and the rate errs high).
    pub group_members_named_evaders: BTreeMap<String, GroupNamed>,
    /// The accounts named as ban-evasion suspects (to recount the groups from the accounts file).
    #[serde(skip)]
    pub named_suspects: std::collections::BTreeSet<String>,
    /// People with a personal and one entity account (`legal_entity`), and the share of them queued: for
    /// any reason, and for a reason other than self-bidding (their two accounts bid on one job: a real
    /// violation whatever the accounts are).
    pub legal_entity_people: u64,
    pub legal_entity_queued: f64,
    pub legal_entity_queued_not_self_bidding: f64,
    /// People whose business has two entity accounts (`legal_entity_duplicate`), and the share of them in a
    /// `duplicate_accounts` cluster with both.
    pub duplicate_entity_people: u64,
    pub duplicate_entity_recall: f64,
}

/// Self-bidding against the truth: pairs of one person's accounts that bid on one job (from the bids file)
/// and the pairs `review_queue.csv` names in `self_bidding_jobs`.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct SelfBidding {
    pub true_pairs: u64,
    pub flagged_pairs: u64,
    pub correct_pairs: u64,
    #[serde(flatten)]
    pub prf: Option<Prf>,
}

/// One row of clusters.csv, as the verdict metrics read it.
#[derive(Debug, Clone, Default)]
pub struct ClusterRow {
    pub cluster_id: String,
    pub account_id: String,
    pub verdicts: String,
    pub priority: String,
    pub suspect: bool,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Metrics {
    pub accounts: u64,
    pub accounts_clustered: u64,
    /// Accounts in clusters.csv that the truth does not know (left out of the metrics).
    pub clustered_not_in_truth: u64,
    pub pairwise: Pairwise,
    pub bcubed: Prf,
    pub recall_by_scenario: BTreeMap<String, ScenarioRecall>,
    pub false_merges_by_scenario: BTreeMap<String, FalseMerges>,
    pub verdicts: Verdicts,
    /// With `evaluate --bids`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub self_bidding: Option<SelfBidding>,
}

fn c2(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Computes the metrics; `cluster_of` maps account ids to cluster ids (absent: a singleton).
pub fn evaluate(truth: &[TruthRow], cluster_of: &HashMap<String, String>) -> Metrics {
    let t = Table::of(truth, cluster_of);
    let known: std::collections::HashSet<&str> =
        truth.iter().map(|t| t.account_id.as_str()).collect();
    let not_in_truth = cluster_of
        .keys()
        .filter(|k| !known.contains(k.as_str()))
        .count() as u64;
    Metrics {
        accounts: truth.len() as u64,
        accounts_clustered: t.clustered,
        clustered_not_in_truth: not_in_truth,
        pairwise: t.pairwise(),
        bcubed: t.bcubed(truth.len()),
        recall_by_scenario: t.recall_by_scenario(),
        false_merges_by_scenario: t.false_merges(),
        verdicts: Verdicts::default(),
        self_bidding: None,
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// The contingency table of true persons against predicted clusters (dense ids for both; an unclustered
/// account is a cluster of its own), and per labelled group (scenario, group id) its persons and where
/// they fell.
struct Table<'t> {
    /// Accounts per (cluster, person).
    cells: HashMap<(u32, u32), u64>,
    person_size: Vec<u64>,
    cluster_size: Vec<u64>,
    person_scenario: Vec<&'t str>,
    /// Accounts in some cluster.
    clustered: u64,
    /// Per (scenario, group): cluster → the persons of its accounts (one entry per account).
    group_clusters: HashMap<(&'t str, &'t str), HashMap<u32, Vec<u32>>>,
    /// Per (scenario, group): the persons of its accounts (one entry per account).
    group_persons: HashMap<(&'t str, &'t str), Vec<u32>>,
}

impl<'t> Table<'t> {
    fn of(truth: &'t [TruthRow], cluster_of: &'t HashMap<String, String>) -> Self {
        let mut person_idx: HashMap<&str, u32> = HashMap::new();
        let mut cluster_idx: HashMap<&str, u32> = HashMap::new();
        let mut t = Table {
            cells: HashMap::new(),
            person_size: Vec::new(),
            cluster_size: Vec::new(),
            person_scenario: Vec::new(),
            clustered: 0,
            group_clusters: HashMap::new(),
            group_persons: HashMap::new(),
        };
        for row in truth {
            let np = person_idx.len() as u32;
            let p = *person_idx.entry(row.person_id.as_str()).or_insert_with(|| {
                t.person_size.push(0);
                t.person_scenario.push(row.scenario.as_str());
                np
            });
            t.person_size[p as usize] += 1;
            let ci = match cluster_of.get(&row.account_id) {
                Some(cid) => {
                    t.clustered += 1;
                    let nc = t.cluster_size.len() as u32;
                    *cluster_idx.entry(cid.as_str()).or_insert_with(|| {
                        t.cluster_size.push(0);
                        nc
                    }) as usize
                }
                None => {
                    t.cluster_size.push(0);
                    t.cluster_size.len() - 1
                }
            };
            t.cluster_size[ci] += 1;
            *t.cells.entry((ci as u32, p)).or_insert(0) += 1;
            if !row.group_id.is_empty() {
                let key = (row.scenario.as_str(), row.group_id.as_str());
                t.group_clusters
                    .entry(key)
                    .or_default()
                    .entry(ci as u32)
                    .or_default()
                    .push(p);
                t.group_persons.entry(key).or_default().push(p);
            }
        }
        t
    }

    fn pairwise(&self) -> Pairwise {
        let true_pairs: u64 = self.person_size.iter().map(|&n| c2(n)).sum();
        let predicted_pairs: u64 = self.cluster_size.iter().map(|&n| c2(n)).sum();
        let correct_pairs: u64 = self.cells.values().map(|&n| c2(n)).sum();
        Pairwise {
            true_pairs,
            predicted_pairs,
            correct_pairs,
            prf: Prf::new(
                ratio(correct_pairs, predicted_pairs),
                ratio(correct_pairs, true_pairs),
            ),
        }
    }

    fn bcubed(&self, accounts: usize) -> Prf {
        // Summed in cell order: the same last digits from run to run (a hash map's order is not).
        let mut cells: Vec<(&(u32, u32), &u64)> = self.cells.iter().collect();
        cells.sort_unstable();
        let (mut bp, mut br) = (0.0, 0.0);
        for (&(c, p), &k) in cells {
            let k = k as f64;
            bp += k * k / self.cluster_size[c as usize] as f64;
            br += k * k / self.person_size[p as usize] as f64;
        }
        if accounts == 0 {
            Prf::new(1.0, 1.0)
        } else {
            Prf::new(bp / accounts as f64, br / accounts as f64)
        }
    }

    fn recall_by_scenario(&self) -> BTreeMap<String, ScenarioRecall> {
        let mut by: BTreeMap<String, ScenarioRecall> = BTreeMap::new();
        for (p, &size) in self.person_size.iter().enumerate() {
            if size >= 2 {
                let e = by
                    .entry(self.person_scenario[p].to_string())
                    .or_insert(ScenarioRecall {
                        true_pairs: 0,
                        found_pairs: 0,
                        recall: 0.0,
                    });
                e.true_pairs += c2(size);
            }
        }
        for (&(_, p), &k) in &self.cells {
            if self.person_size[p as usize] >= 2
                && let Some(e) = by.get_mut(self.person_scenario[p as usize])
            {
                e.found_pairs += c2(k);
            }
        }
        for e in by.values_mut() {
            e.recall = ratio(e.found_pairs, e.true_pairs);
        }
        by
    }

    /// Per scenario, its groups of two or more persons (households, coworkers, agencies) and how many of
    /// them some cluster merged across persons.
    fn false_merges(&self) -> BTreeMap<String, FalseMerges> {
        let mut out: BTreeMap<String, FalseMerges> = BTreeMap::new();
        for (key, persons) in &self.group_persons {
            let mut ps = persons.clone();
            ps.sort_unstable();
            ps.dedup();
            if ps.len() < 2 {
                continue;
            }
            let e = out.entry(key.0.to_string()).or_insert(FalseMerges {
                groups: 0,
                groups_merged: 0,
                rate: 0.0,
                false_pairs: 0,
                cross_person_pairs: 0,
                false_link_rate: 0.0,
            });
            e.groups += 1;
            let mut sizes: HashMap<u32, u64> = HashMap::new();
            for &p in persons {
                *sizes.entry(p).or_insert(0) += 1;
            }
            e.cross_person_pairs +=
                c2(persons.len() as u64) - sizes.values().map(|&k| c2(k)).sum::<u64>();
            let diffs = self.cross_person_pairs_in_clusters(key);
            if diffs > 0 {
                e.groups_merged += 1;
                e.false_pairs += diffs;
            }
        }
        for e in out.values_mut() {
            e.rate = if e.groups == 0 {
                0.0
            } else {
                ratio(e.groups_merged, e.groups)
            };
            e.false_link_rate = if e.cross_person_pairs == 0 {
                0.0
            } else {
                e.false_pairs as f64 / e.cross_person_pairs as f64
            };
        }
        out
    }

    /// Pairs of a group's accounts of different persons that one predicted cluster holds.
    fn cross_person_pairs_in_clusters(&self, key: &(&str, &str)) -> u64 {
        let mut diffs = 0;
        for (&c, members) in &self.group_clusters[key] {
            if self.cluster_size[c as usize] < 2 {
                continue;
            }
            let mut per: HashMap<u32, u64> = HashMap::new();
            for &p in members {
                *per.entry(p).or_insert(0) += 1;
            }
            let total: u64 = per.values().sum();
            let same: u64 = per.values().map(|&k| c2(k)).sum();
            diffs += c2(total) - same;
        }
        diffs
    }
}

/// Members of groups that hold a sanctioned account, and those named as ban-evasion suspects.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct GroupNamed {
    pub members: u64,
    pub named: u64,
    pub rate: f64,
}

/// Other people of groups that hold a sanctioned account, and those of them named as suspects
/// (`Verdicts::group_members_named_evaders`).
fn group_members_named(
    truth: &[TruthRow],
    sanctioned: &std::collections::HashSet<&str>,
    named: &std::collections::HashSet<&str>,
) -> BTreeMap<String, GroupNamed> {
    let kind = |t: &TruthRow| t.scenario.split('_').next().unwrap_or("").to_string();
    // Group → the people holding a sanctioned account in it.
    let mut holders: HashMap<(String, &str), Vec<&str>> = HashMap::new();
    for t in truth.iter().filter(|t| !t.group_id.is_empty()) {
        if sanctioned.contains(t.account_id.as_str()) {
            holders
                .entry((kind(t), t.group_id.as_str()))
                .or_default()
                .push(t.person_id.as_str());
        }
    }
    let mut out: BTreeMap<String, GroupNamed> = BTreeMap::new();
    for t in truth.iter().filter(|t| !t.group_id.is_empty()) {
        let Some(people) = holders.get(&(kind(t), t.group_id.as_str())) else {
            continue;
        };
        if people.contains(&t.person_id.as_str()) {
            continue;
        }
        let g = out.entry(kind(t)).or_default();
        g.members += 1;
        g.named += u64::from(named.contains(t.account_id.as_str()));
    }
    for g in out.values_mut() {
        g.rate = g.named as f64 / g.members.max(1) as f64;
    }
    out
}

/// The queue and its suspects against the truth.
pub fn verdict_metrics<'a>(truth: &'a [TruthRow], rows: &'a [ClusterRow]) -> Verdicts {
    let person: HashMap<&str, &TruthRow> =
        truth.iter().map(|t| (t.account_id.as_str(), t)).collect();
    let mut clusters: BTreeMap<&str, Vec<&ClusterRow>> = BTreeMap::new();
    for r in rows {
        clusters.entry(r.cluster_id.as_str()).or_default().push(r);
    }
    fn pid<'a>(person: &HashMap<&str, &'a TruthRow>, a: &'a str) -> &'a str {
        person.get(a).map(|t| t.person_id.as_str()).unwrap_or(a)
    }
    let pid = |a: &'a str| pid(&person, a);
    let sanctioned = |s: &str| matches!(s, "banned" | "suspended");
    let mut v = Verdicts::default();
    let (mut good_clusters, mut good_suspects) = (0u64, 0u64);
    let mut caught: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut named: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for members in clusters.values() {
        let Some(first) = members.first() else {
            continue;
        };
        if first.priority.is_empty() {
            continue;
        }
        v.queued_clusters += 1;
        let own_twin = |s: &'a ClusterRow| {
            members
                .iter()
                .any(|o| o.account_id != s.account_id && pid(&o.account_id) == pid(&s.account_id))
        };
        if members.iter().filter(|m| m.suspect).all(|s| own_twin(s)) {
            good_clusters += 1;
        }
        if !first.verdicts.split('|').any(|x| x == "ban_evasion") {
            continue;
        }
        for s in members
            .iter()
            .filter(|m| m.suspect && !sanctioned(&m.status))
        {
            v.ban_evasion_suspects += 1;
            named.insert(s.account_id.as_str());
            let evader = members.iter().any(|o| {
                sanctioned(&o.status)
                    && o.account_id != s.account_id
                    && pid(&o.account_id) == pid(&s.account_id)
            });
            if evader {
                good_suspects += 1;
                caught.insert(pid(&s.account_id));
            } else {
                let scenario = person
                    .get(s.account_id.as_str())
                    .map(|t| t.scenario.as_str())
                    .unwrap_or("");
                *v.wrong_ban_evasion_suspects_by_scenario
                    .entry(scenario.to_string())
                    .or_insert(0) += 1;
            }
        }
    }
    let frac = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    v.queue_precision = frac(good_clusters, v.queued_clusters);
    v.ban_evasion_precision = frac(good_suspects, v.ban_evasion_suspects);
    (v.ban_evasion_people, v.ban_evasion_recall) = evaders_caught(truth, &caught);
    let shown: std::collections::HashSet<&str> = rows
        .iter()
        .filter(|r| sanctioned(&r.status))
        .map(|r| r.account_id.as_str())
        .collect();
    v.group_members_named_evaders = group_members_named(truth, &shown, &named);
    v.named_suspects = named.iter().map(|s| s.to_string()).collect();
    legal_entities(truth, &clusters, &mut v);
    v
}

/// The people of the ban-evasion scenarios, and the share of them `caught` holds.
fn evaders_caught(truth: &[TruthRow], caught: &std::collections::HashSet<&str>) -> (u64, f64) {
    let evaders: std::collections::HashSet<&str> = truth
        .iter()
        .filter(|t| t.scenario.starts_with("ban_evasion"))
        .map(|t| t.person_id.as_str())
        .collect();
    let found = evaders.iter().filter(|p| caught.contains(*p)).count();
    let recall = if evaders.is_empty() {
        1.0
    } else {
        found as f64 / evaders.len() as f64
    };
    (evaders.len() as u64, recall)
}

/// How often a person's permitted personal + entity accounts are queued, and how often a business's two
/// entity accounts are found as duplicates.
fn legal_entities(
    truth: &[TruthRow],
    clusters: &BTreeMap<&str, Vec<&ClusterRow>>,
    v: &mut Verdicts,
) {
    let person: HashMap<&str, &TruthRow> =
        truth.iter().map(|t| (t.account_id.as_str(), t)).collect();
    // Person → (accounts of that person in one queued cluster, in a duplicate cluster, in a cluster queued
    // for more than self-bidding), at most.
    let mut best: HashMap<&str, (usize, usize, usize)> = HashMap::new();
    for members in clusters.values() {
        let queued = members.first().is_some_and(|f| !f.priority.is_empty());
        let not_bids = members
            .first()
            .is_some_and(|f| queued && f.verdicts.split('|').any(|x| x != "self_bidding"));
        let duplicate = members
            .first()
            .is_some_and(|f| f.verdicts.split('|').any(|x| x == "duplicate_accounts"));
        let mut per: HashMap<&str, usize> = HashMap::new();
        for m in members {
            if let Some(t) = person.get(m.account_id.as_str()) {
                *per.entry(t.person_id.as_str()).or_insert(0) += 1;
            }
        }
        for (p, n) in per {
            let e = best.entry(p).or_insert((0, 0, 0));
            if queued {
                e.0 = e.0.max(n);
            }
            if not_bids {
                e.2 = e.2.max(n);
            }
            if duplicate {
                e.1 = e.1.max(n);
            }
        }
    }
    let people = |scenario: &str| -> std::collections::BTreeSet<&str> {
        truth
            .iter()
            .filter(|t| t.scenario == scenario)
            .map(|t| t.person_id.as_str())
            .collect()
    };
    let frac = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let (plain, dup) = (people("legal_entity"), people("legal_entity_duplicate"));
    let queued = plain
        .iter()
        .filter(|p| best.get(*p).is_some_and(|b| b.0 >= 2))
        .count();
    let found = dup
        .iter()
        .filter(|p| best.get(*p).is_some_and(|b| b.1 >= 2))
        .count();
    v.legal_entity_people = plain.len() as u64;
    v.legal_entity_queued = frac(queued, plain.len());
    let for_more = plain
        .iter()
        .filter(|p| best.get(*p).is_some_and(|b| b.2 >= 2))
        .count();
    v.legal_entity_queued_not_self_bidding = frac(for_more, plain.len());
    v.duplicate_entity_people = dup.len() as u64;
    v.duplicate_entity_recall = frac(found, dup.len());
}

/// Reads account → person from truth.csv.
fn persons(truth_path: &Path) -> Result<HashMap<String, String>> {
    let (mut r, h) = open_table(truth_path)?;
    let (ia, ip) = (
        require_column(truth_path, &h, "account_id")?,
        require_column(truth_path, &h, "person_id")?,
    );
    let mut out = HashMap::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| Error::csv(truth_path, &e))?;
        out.insert(
            rec.get(ia).unwrap_or("").trim().to_string(),
            rec.get(ip).unwrap_or("").trim().to_string(),
        );
    }
    Ok(out)
}

/// Self-bidding precision and recall: true pairs are two accounts of one person that bid on one job;
/// flagged pairs are read from `self_bidding_jobs` of review_queue.csv beside clusters.csv.
pub fn self_bidding(
    truth_path: &Path,
    clusters_path: &Path,
    bids_path: &Path,
) -> Result<SelfBidding> {
    let person = persons(truth_path)?;
    let (mut r, h) = open_table(bids_path)?;
    let (ia, ij) = (
        require_column(bids_path, &h, "account_id")?,
        require_column(bids_path, &h, "job_id")?,
    );
    let mut by_job: HashMap<String, Vec<String>> = HashMap::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| Error::csv(bids_path, &e))?;
        let (a, j) = (
            rec.get(ia).unwrap_or("").trim(),
            rec.get(ij).unwrap_or("").trim(),
        );
        by_job.entry(j.to_string()).or_default().push(a.to_string());
    }
    let mut truth_pairs = std::collections::HashSet::new();
    for accounts in by_job.values() {
        let mut of_person: HashMap<&str, Vec<&str>> = HashMap::new();
        for a in accounts {
            if let Some(p) = person.get(a) {
                of_person.entry(p.as_str()).or_default().push(a.as_str());
            }
        }
        for mut v in of_person.into_values().filter(|v| v.len() >= 2) {
            v.sort_unstable();
            v.dedup();
            for (i, x) in v.iter().enumerate() {
                for y in &v[i + 1..] {
                    truth_pairs.insert((x.to_string(), y.to_string()));
                }
            }
        }
    }
    let queue = clusters_path.with_file_name("review_queue.csv");
    let (mut r, h) = open_table(&queue)?;
    let is = require_column(&queue, &h, "self_bidding_jobs")?;
    let mut flagged = std::collections::HashSet::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| Error::csv(&queue, &e))?;
        for part in rec
            .get(is)
            .unwrap_or("")
            .split("; ")
            .filter(|p| !p.is_empty())
        {
            let pair = part.split(": ").next().unwrap_or("");
            if let Some((x, y)) = pair.split_once('|') {
                flagged.insert((x.min(y).to_string(), x.max(y).to_string()));
            }
        }
    }
    let correct = flagged.intersection(&truth_pairs).count() as u64;
    let (t, f) = (truth_pairs.len() as u64, flagged.len() as u64);
    let prf = (t > 0 || f > 0).then(|| {
        let frac = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        Prf::new(frac(correct, f), frac(correct, t))
    });
    Ok(SelfBidding {
        true_pairs: t,
        flagged_pairs: f,
        correct_pairs: correct,
        prf,
    })
}

/// Reads truth.csv and clusters.csv and computes the metrics.
/// The sanctioned (banned or suspended) accounts of an accounts file in the input contract.
fn sanctioned_accounts(path: &Path) -> Result<std::collections::HashSet<String>> {
    let (mut r, h) = open_table(path)?;
    let ia = require_column(path, &h, "account_id")?;
    let mut out = std::collections::HashSet::new();
    // An export without statuses (person-record sets) has no sanctioned account.
    let Some(is) = h.iter().position(|n| n == "status") else {
        return Ok(out);
    };
    for rec in r.records() {
        let rec = rec.map_err(|e| Error::csv(path, &e))?;
        let status = rec.get(is).unwrap_or("").trim().to_ascii_lowercase();
        if matches!(status.as_str(), "banned" | "suspended") {
            out.insert(rec.get(ia).unwrap_or("").trim().to_string());
        }
    }
    Ok(out)
}

/// The rows of a truth.csv (`account_id`, `person_id`; `scenario` and `group_id` when present).
fn read_truth(truth_path: &Path) -> Result<Vec<TruthRow>> {
    let (mut r, h) = open_table(truth_path)?;
    let (ia, ip) = (
        require_column(truth_path, &h, "account_id")?,
        require_column(truth_path, &h, "person_id")?,
    );
    let is = h.iter().position(|n| n == "scenario");
    let ig = h.iter().position(|n| n == "group_id");
    let mut truth = Vec::new();
    let mut rec = csv::StringRecord::new();
    while r
        .read_record(&mut rec)
        .map_err(|e| Error::csv(truth_path, &e))?
    {
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("").trim().to_string();
        truth.push(TruthRow {
            account_id: get(Some(ia)),
            person_id: get(Some(ip)),
            scenario: get(is),
            group_id: get(ig),
        });
    }
    Ok(truth)
}

/// Metrics of a run's clusters.csv against truth.csv; with the accounts file, the groups of sanctioned
/// accounts are known from it (`Verdicts::group_members_named_evaders`).
pub fn evaluate_files(
    truth_path: &Path,
    clusters_path: &Path,
    accounts_path: Option<&Path>,
) -> Result<Metrics> {
    let truth = read_truth(truth_path)?;
    let (mut r, h) = open_table(clusters_path)?;
    let (ic, ia) = (
        require_column(clusters_path, &h, "cluster_id")?,
        require_column(clusters_path, &h, "account_id")?,
    );
    let col = |name: &str| h.iter().position(|n| n == name);
    let (iv, ipr, isu, ist) = (
        col("verdicts"),
        col("priority"),
        col("suspect"),
        col("status"),
    );
    let mut rows = Vec::new();
    let mut cluster_of = HashMap::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| Error::csv(clusters_path, &e))?;
        let id = rec.get(ia).unwrap_or("").trim();
        // Undo the CSV-injection guard of our own writer.
        let id = id
            .strip_prefix('\'')
            .filter(|s| s.starts_with(['=', '+', '-', '@', '\t', '\r']))
            .unwrap_or(id);
        cluster_of.insert(id.to_string(), rec.get(ic).unwrap_or("").to_string());
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("").to_string();
        rows.push(ClusterRow {
            cluster_id: get(Some(ic)),
            account_id: id.to_string(),
            verdicts: get(iv),
            priority: get(ipr),
            suspect: get(isu) == "yes",
            status: get(ist),
        });
    }
    let mut m = evaluate(&truth, &cluster_of);
    m.verdicts = verdict_metrics(&truth, &rows);
    if let Some(p) = accounts_path {
        let sanctioned = sanctioned_accounts(p)?;
        let sanctioned = sanctioned.iter().map(String::as_str).collect();
        let named = m
            .verdicts
            .named_suspects
            .iter()
            .map(String::as_str)
            .collect();
        m.verdicts.group_members_named_evaders = group_members_named(&truth, &sanctioned, &named);
    }
    let associates = clusters_path.with_file_name("associates.csv");
    if associates.exists() {
        count_associates(&truth, &associates, &mut m.verdicts)?;
    }
    Ok(m)
}

/// Counts associates by the scenario of the associated account, and those that are the sanctioned person.
fn count_associates(truth: &[TruthRow], path: &Path, v: &mut Verdicts) -> Result<()> {
    let person: HashMap<&str, &TruthRow> =
        truth.iter().map(|t| (t.account_id.as_str(), t)).collect();
    let (mut r, h) = open_table(path)?;
    let (is, ia) = (
        require_column(path, &h, "sanctioned_account_id")?,
        require_column(path, &h, "account_id")?,
    );
    for rec in r.records() {
        let rec = rec.map_err(|e| Error::csv(path, &e))?;
        let (s, a) = (rec.get(is).unwrap_or(""), rec.get(ia).unwrap_or(""));
        v.associates += 1;
        let (ts, ta) = (person.get(s), person.get(a));
        let scenario = ta.map(|t| t.scenario.as_str()).unwrap_or("");
        *v.associates_by_scenario
            .entry(scenario.to_string())
            .or_insert(0) += 1;
        if let (Some(x), Some(y)) = (ts, ta)
            && x.person_id == y.person_id
        {
            v.associates_same_person += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(a: &str, p: &str, s: &str, g: &str) -> TruthRow {
        TruthRow {
            account_id: a.into(),
            person_id: p.into(),
            scenario: s.into(),
            group_id: g.into(),
        }
    }

    #[test]
    fn verdict_metrics_by_hand() {
        // Evader E (e1 banned, e2 new) caught; spouse S flagged beside the banned e1 in the same cluster
        // (wrong); a duplicate cluster D whose suspect has a twin (right).
        let truth = vec![
            t("e1", "E", "ban_evasion", ""),
            t("e2", "E", "ban_evasion", ""),
            t("s1", "S", "household", "H"),
            t("d1", "D", "duplicate", ""),
            t("d2", "D", "duplicate", ""),
            t("f1", "F", "ban_evasion", ""),
            t("f2", "F", "ban_evasion", ""),
            // The spouse's household holds a banned account (h1) and a twin (s2) nobody named; agency A has
            // no sanctioned account shown, so its member counts nowhere.
            t("h1", "H1", "household", "H"),
            t("s2", "S2", "household_twins", "H"),
            t("g1", "G1", "agency", "A"),
        ];
        let row = |c: &str, a: &str, v: &str, p: &str, s: bool, st: &str| ClusterRow {
            cluster_id: c.into(),
            account_id: a.into(),
            verdicts: v.into(),
            priority: p.into(),
            suspect: s,
            status: st.into(),
        };
        let rows = vec![
            row("C1", "e1", "ban_evasion", "1", false, "banned"),
            row("C1", "e2", "ban_evasion", "1", true, "active"),
            row("C1", "s1", "ban_evasion", "1", true, "active"),
            row("C1", "h1", "ban_evasion", "1", false, "banned"),
            row("C2", "d1", "duplicate_accounts", "3", false, "active"),
            row("C2", "d2", "duplicate_accounts", "3", true, "active"),
        ];
        let v = verdict_metrics(&truth, &rows);
        assert_eq!((v.queued_clusters, v.ban_evasion_suspects), (2, 2));
        assert_eq!(v.queue_precision, 0.5, "C1 names the spouse");
        assert_eq!(v.ban_evasion_precision, 0.5);
        assert_eq!((v.ban_evasion_people, v.ban_evasion_recall), (2, 0.5));
        assert_eq!(v.wrong_ban_evasion_suspects_by_scenario["household"], 1);
        let h = &v.group_members_named_evaders["household"];
        assert_eq!((h.members, h.named, h.rate), (2, 1, 0.5));
        assert!(!v.group_members_named_evaders.contains_key("agency"));
    }

    #[test]
    fn hand_computed_example() {
        // Persons: P1 = {a,b,c} (duplicate), P2 = {d}, P3 = {e} (household with P2, group H).
        // Clusters: X = {a,b}, Y = {c,d,e}.
        let truth = vec![
            t("a", "P1", "duplicate", ""),
            t("b", "P1", "duplicate", ""),
            t("c", "P1", "duplicate", ""),
            t("d", "P2", "household", "H"),
            t("e", "P3", "household", "H"),
        ];
        let clusters: HashMap<String, String> =
            [("a", "X"), ("b", "X"), ("c", "Y"), ("d", "Y"), ("e", "Y")]
                .iter()
                .map(|(a, c)| (a.to_string(), c.to_string()))
                .collect();
        let m = evaluate(&truth, &clusters);
        // True pairs: ab, ac, bc = 3. Predicted: ab + cd, ce, de = 4. Correct: ab = 1.
        assert_eq!(
            (
                m.pairwise.true_pairs,
                m.pairwise.predicted_pairs,
                m.pairwise.correct_pairs
            ),
            (3, 4, 1)
        );
        assert!((m.pairwise.prf.precision - 0.25).abs() < 1e-12);
        assert!((m.pairwise.prf.recall - 1.0 / 3.0).abs() < 1e-12);
        // B-cubed precision: a,b: 2/2; c,d,e: 1/3 each → (2 + 1) / 5 = 0.6.
        // B-cubed recall: a,b: 2/3; c: 1/3; d,e: 1/1 → (4/3 + 1/3 + 2) / 5 = 11/15.
        assert!((m.bcubed.precision - 0.6).abs() < 1e-12);
        assert!((m.bcubed.recall - 11.0 / 15.0).abs() < 1e-12);
        let d = &m.recall_by_scenario["duplicate"];
        assert_eq!((d.true_pairs, d.found_pairs), (3, 1));
        let h = &m.false_merges_by_scenario["household"];
        assert_eq!((h.groups, h.groups_merged, h.false_pairs), (1, 1, 1));
        assert_eq!(m.accounts_clustered, 5);
    }

    #[test]
    fn perfect_and_empty() {
        let truth = vec![
            t("a", "P", "duplicate", ""),
            t("b", "P", "duplicate", ""),
            t("c", "Q", "single", ""),
        ];
        let clusters: HashMap<String, String> = [("a", "X"), ("b", "X")]
            .iter()
            .map(|(a, c)| (a.to_string(), c.to_string()))
            .collect();
        let m = evaluate(&truth, &clusters);
        assert_eq!(
            m.pairwise.prf,
            Prf {
                precision: 1.0,
                recall: 1.0,
                f1: 1.0
            }
        );
        assert_eq!(
            m.bcubed,
            Prf {
                precision: 1.0,
                recall: 1.0,
                f1: 1.0
            }
        );
        let e = evaluate(&[], &HashMap::new());
        assert_eq!(e.pairwise.prf.f1, 1.0);
    }
}

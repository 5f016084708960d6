//! Policy: turns clusters into verdicts a reviewer acts on, with priorities, suspects and the evidence in
//! words. The marketplace rules: one freelancer account per person (plus one client account: permitted);
//! agency accounts are not one person with their members; a sanctioned person must not return (ban evasion:
//! only a *direct* link between a suspended/banned account and a newer one counts, never a chain through third
//! accounts); accounts of one person must not review each other. A live account that shares a home or an office
//! with a sanctioned account but is not linked to it is an associate, never an evader. Also reads the optional
//! reviews file.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::cluster::Cluster;
use crate::error::Result;
use crate::record::{AccountType, Status};
use crate::score::{Field, Level, Scored, Scorer};

/// What the policy says about a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    BanEvasion,
    ReviewManipulation,
    /// Two accounts of one person bid on the same job.
    SelfBidding,
    DuplicateAccounts,
    /// A live account that shares a home or an office with a sanctioned account (a card, a device, a network)
    /// but whose identity says it is someone else: a relative or a colleague, not the banned person.
    AssociatedWithSanctioned,
    Permitted,
    /// Linked accounts that break no rule (e.g. an agency with its members, or one account per type).
    NoViolation,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::BanEvasion => "ban_evasion",
            Verdict::ReviewManipulation => "review_manipulation",
            Verdict::SelfBidding => "self_bidding",
            Verdict::DuplicateAccounts => "duplicate_accounts",
            Verdict::AssociatedWithSanctioned => "associated_with_sanctioned",
            Verdict::Permitted => "permitted",
            Verdict::NoViolation => "no_violation",
        }
    }
    /// 1 is the most urgent; verdicts that need no action have no priority.
    pub fn priority(self) -> Option<u8> {
        match self {
            Verdict::BanEvasion => Some(1),
            Verdict::ReviewManipulation | Verdict::SelfBidding => Some(2),
            Verdict::DuplicateAccounts => Some(3),
            Verdict::AssociatedWithSanctioned => Some(4),
            Verdict::Permitted | Verdict::NoViolation => None,
        }
    }
}

/// One review between two known accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub reviewer: u32,
    pub reviewee: u32,
    pub rating: String,
    pub created_at: String,
}

/// The reviews file, indexed by account.
#[derive(Debug, Default)]
pub struct ReviewIndex {
    pub set: crate::score::Reviews,
    /// Unordered pairs with a review between them.
    pub pairs: Vec<(u32, u32)>,
    pub reviews: Vec<Review>,
    pub rows: u64,
    pub unknown_accounts: u64,
    /// Rows whose reviewer and reviewee are one account.
    pub self_reviews: u64,
}

/// Reads `reviewer_id, reviewee_id, rating, created_at`; rows naming unknown accounts, or one account on both
/// sides, are counted, not used.
/// The ids are looked up a chunk at a time in parallel (`load::read_chunks_par`): at ten million accounts,
/// two random reads of the id index per review were most of reading two million reviews.
pub fn load_reviews(path: &Path, acc: &crate::record::Accounts) -> Result<ReviewIndex> {
    let index_of = acc.id_index();
    let (mut rdr, names) = crate::load::open_table(path)?;
    let find = |c: &str| crate::load::require_column(path, &names, c);
    let (ir, ie) = (find("reviewer_id")?, find("reviewee_id")?);
    let (ira, ic) = (
        crate::load::column_index(&names, "rating"),
        crate::load::column_index(&names, "created_at"),
    );
    let review = |rec: &csv::StringRecord| {
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("").trim();
        match (index_of.get(get(Some(ir))), index_of.get(get(Some(ie)))) {
            (Some(x), Some(y)) if x != y => Ok(Review {
                reviewer: x,
                reviewee: y,
                rating: get(ira).to_string(),
                created_at: get(ic).to_string(),
            }),
            (Some(_), Some(_)) => Err(true),
            _ => Err(false),
        }
    };
    let mut out = ReviewIndex::default();
    crate::load::read_chunks_par(path, &mut rdr, review, |_, r| {
        out.rows += 1;
        match r {
            Ok(r) => out.reviews.push(r),
            Err(true) => out.self_reviews += 1,
            Err(false) => out.unknown_accounts += 1,
        }
    })?;
    let mut pairs: Vec<(u32, u32)> = out
        .reviews
        .par_iter()
        .map(|r| (r.reviewer.min(r.reviewee), r.reviewer.max(r.reviewee)))
        .collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    out.set = crate::score::Reviews::of(&pairs);
    out.pairs = pairs;
    Ok(out)
}

/// A cluster with its verdicts.
#[derive(Debug, Clone)]
pub struct Judged {
    pub id: String,
    pub cluster: Cluster,
    pub verdicts: Vec<Verdict>,
    pub priority: Option<u8>,
    /// Accounts the reviewer should look at first (ban evaders, newer duplicates, sock-puppet reviewers).
    pub suspects: Vec<u32>,
    /// The pair whose evidence is shown (the strongest link that supports the first verdict).
    pub key_pair: (u32, u32),
    pub reviews: Vec<Review>,
    /// For ban evasion: each direct link from a sanctioned account to a newer suspect, `(sanctioned, newer)`.
    pub evasion_links: Vec<(u32, u32)>,
    /// For self-bidding: each pair of the cluster's accounts that bid on the same jobs.
    pub self_bids: Vec<SelfBid>,
    /// For duplicate entity accounts: the businesses (normalized names) with more than one.
    pub duplicate_businesses: Vec<String>,
    /// For `permitted`: which rule permits it (`freelancer_and_client` or `legal_entity`).
    pub reason: Option<&'static str>,
    /// Since the previous run (`history::assign_ids`; `new` without one).
    pub change: crate::history::Change,
    /// The run date the cluster first appeared.
    pub first_seen: String,
    /// A reviewer's decision covering the whole cluster (every pair decided `same`): not queued again.
    pub decision: Option<crate::history::Decision>,
}

impl Judged {
    /// Whether the cluster goes to the review queue: it needs action and no reviewer has settled it.
    pub fn queued(&self) -> bool {
        self.priority.is_some() && self.decision.is_none()
    }
}

/// Two accounts of one cluster and the jobs (indices into `BidIndex::jobs`) both bid on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfBid {
    pub a: u32,
    pub b: u32,
    pub jobs: Vec<u32>,
}

/// A live, newer account co-located with a sanctioned one (a card, a device or a network held by at most
/// `model::COLOCATED_MAX` accounts) that the model does not call the same person: `associated_with_sanctioned`.
#[derive(Debug, Clone, PartialEq)]
pub struct Associate {
    pub id: String,
    pub sanctioned: u32,
    pub account: u32,
    pub weight: f64,
}

/// The associates among candidate `(sanctioned, newer, weight)` triples: those not in one cluster with that
/// sanctioned account, strongest first, numbered `A000001…`.
pub fn associates(mut pairs: Vec<(u32, u32, f64)>, judged: &[Judged]) -> Vec<Associate> {
    let cluster_of = ClusterOf::new(judged);
    pairs.retain(|&(s, a, _)| {
        let of_s = cluster_of.get(s);
        of_s.is_none() || of_s != cluster_of.get(a)
    });
    // Stable, as the one-worker sort was: the same order for equal keys.
    pairs.par_sort_by(|x, y| y.2.total_cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
    pairs
        .into_par_iter()
        .enumerate()
        .map(|(i, (sanctioned, account, weight))| Associate {
            id: format!("A{:06}", i + 1),
            sanctioned,
            account,
            weight,
        })
        .collect()
}

/// Each account's cluster (its index among the judged clusters), by account index: at ten million accounts a
/// hash map of the 2.2M clustered accounts took a worker half a second to fill, a table of one `u32` per
/// account a fraction of that.
pub struct ClusterOf(Vec<u32>);

impl ClusterOf {
    const NONE: u32 = u32::MAX;

    pub fn new(judged: &[Judged]) -> ClusterOf {
        let len = judged
            .par_iter()
            .flat_map_iter(|j| j.cluster.members.iter().map(|&m| m as usize + 1))
            .max()
            .unwrap_or(0);
        let mut of = vec![Self::NONE; len];
        for (k, j) in judged.iter().enumerate() {
            // Clusters are fewer than accounts, whose indices are `u32`.
            let k = u32::try_from(k).unwrap_or(Self::NONE - 1);
            for &m in &j.cluster.members {
                of[m as usize] = k;
            }
        }
        ClusterOf(of)
    }

    /// The index of account `a`'s cluster, if it is in one.
    pub fn get(&self, a: u32) -> Option<usize> {
        self.0
            .get(a as usize)
            .filter(|&&k| k != Self::NONE)
            .map(|&k| k as usize)
    }
}

/// Counts per verdict, for the summary.
pub type Verdicts = BTreeMap<&'static str, u64>;

pub fn count(judged: &[Judged], associates: &[Associate]) -> Verdicts {
    let mut v = BTreeMap::new();
    if !associates.is_empty() {
        v.insert(
            Verdict::AssociatedWithSanctioned.as_str(),
            associates.len() as u64,
        );
    }
    for j in judged {
        for x in &j.verdicts {
            *v.entry(x.as_str()).or_insert(0) += 1;
        }
    }
    v
}

/// Whether some field outside `excluded` speaks for the match (has positive weight) in the pair's evidence.
fn supported_outside(scorer: &Scorer, a: u32, b: u32, excluded: &[Field]) -> bool {
    scorer
        .explain(a as usize, b as usize)
        .items
        .iter()
        .any(|i| !excluded.contains(&i.field) && i.weight > 0.0 && i.level != Level::Missing)
}

/// Evidence about the person, not just a shared place or payment: an office IP or a company card alone
/// never makes two accounts one person.
const PLACE_OR_PAYMENT: &[Field] = &[Field::Ip, Field::Payment, Field::Review];

/// Ban-evasion links must rest on something that identifies (a document, contact, card, device, name or
/// birth date): an IP seen on a banned account is a lead, not proof.
const PLACE_ONLY: &[Field] = &[Field::Ip, Field::Review];

fn live(s: Status) -> bool {
    !matches!(s, Status::Closed) && !s.is_sanctioned()
}

/// What judging a cluster reads besides the cluster: the scorer, the direct links and the reviews.
struct Judge<'a> {
    scorer: &'a Scorer<'a>,
    direct: Links,
    reviews: Option<&'a ReviewIndex>,
    by_reviewer: ByReviewer,
}

/// The links (pairs at or above the link line) with their weights, sorted by pair and looked up by binary
/// search: built on all workers (a hash map of the 1.4M links at ten million accounts was built on one).
struct Links(Vec<(u64, f64)>);

impl Links {
    fn of(scored: &[Scored], link_weight: f64) -> Links {
        let mut v: Vec<(u64, f64)> = scored
            .par_iter()
            .filter(|s| s.weight >= link_weight)
            .map(|s| (crate::block::pack(s.a, s.b), s.weight))
            .collect();
        // A pair's weight is a function of the pair: one scored twice has the same weight twice.
        v.par_sort_unstable_by_key(|x| x.0);
        v.dedup_by_key(|x| x.0);
        Links(v)
    }

    fn get(&self, pair: u64) -> Option<f64> {
        let k = self.0.binary_search_by_key(&pair, |x| x.0).ok()?;
        Some(self.0[k].1)
    }
}

/// Each reviewer's reviews (indices into `ReviewIndex::reviews`, ascending), as `(reviewer, index)` sorted:
/// a reviewer's are one stretch, found by binary search. Sorted on all workers (a hash map of a vector per
/// reviewer, two million reviews at ten million accounts, was filled on one).
struct ByReviewer(Vec<(u32, usize)>);

impl ByReviewer {
    fn of(reviews: Option<&ReviewIndex>) -> ByReviewer {
        let all = reviews.map(|r| r.reviews.as_slice()).unwrap_or(&[]);
        let mut v: Vec<(u32, usize)> = all
            .par_iter()
            .enumerate()
            .map(|(k, rv)| (rv.reviewer, k))
            .collect();
        v.par_sort_unstable();
        ByReviewer(v)
    }

    /// The indices of `reviewer`'s reviews, ascending.
    fn of_reviewer(&self, reviewer: u32) -> impl Iterator<Item = usize> + '_ {
        let from = self.0.partition_point(|x| x.0 < reviewer);
        self.0[from..]
            .iter()
            .take_while(move |x| x.0 == reviewer)
            .map(|x| x.1)
    }
}

/// The verdict-independent parts of a judgement while it is built.
struct Draft {
    verdicts: Vec<Verdict>,
    suspects: Vec<u32>,
    key_pair: Option<(u32, u32)>,
}

impl Draft {
    fn add(&mut self, v: Verdict, key_pair: (u32, u32)) {
        self.verdicts.push(v);
        self.key_pair.get_or_insert(key_pair);
    }
}

fn ordered(a: u32, b: u32) -> (u32, u32) {
    (a.min(b), a.max(b))
}

impl Judge<'_> {
    /// Ban evasion: a direct link from a sanctioned account to a newer one, resting on more than a place.
    fn ban_evasion(&self, c: &Cluster, d: &mut Draft) -> Vec<(u32, u32)> {
        let mut best: Option<(f64, u32, u32)> = None;
        let mut links = Vec::new();
        for &x in &c.members {
            for &y in c.members.iter().filter(|&&y| y > x) {
                if let Some(w) = self.direct.get(crate::block::pack(x, y))
                    && let Some((_, newer)) = self.scorer.evasion_direction(x as usize, y as usize)
                    && supported_outside(self.scorer, x, y, PLACE_ONLY)
                {
                    let newer = newer as u32;
                    d.suspects.push(newer);
                    links.push((if newer == x { y } else { x }, newer));
                    if best.is_none_or(|(bw, _, _)| w > bw) {
                        best = Some((w, x, y));
                    }
                }
            }
        }
        if let Some((_, x, y)) = best {
            d.add(Verdict::BanEvasion, (x, y));
        }
        links
    }

    /// Review manipulation: reviews between accounts of the cluster; reviewers are suspects.
    fn review_manipulation(&self, c: &Cluster, d: &mut Draft) -> Vec<Review> {
        let Some(r) = self.reviews else {
            return vec![];
        };
        let members: HashSet<u32> = c.members.iter().copied().collect();
        let mut revs: Vec<Review> = c
            .members
            .iter()
            .flat_map(|&m| self.by_reviewer.of_reviewer(m))
            .map(|k| &r.reviews[k])
            .filter(|rv| members.contains(&rv.reviewee))
            .cloned()
            .collect();
        revs.sort_by(|x, y| {
            (x.reviewer, x.reviewee, &x.created_at).cmp(&(y.reviewer, y.reviewee, &y.created_at))
        });
        if let Some(first) = revs.first() {
            d.add(
                Verdict::ReviewManipulation,
                ordered(first.reviewer, first.reviewee),
            );
            d.suspects.extend(revs.iter().map(|rv| rv.reviewer));
        }
        revs
    }

    /// Self-bidding: two accounts of the cluster bid on the same job; the newer of each pair is a suspect.
    fn self_bidding(&self, c: &Cluster, d: &mut Draft) -> Vec<SelfBid> {
        let Some(bids) = self.scorer.side_files().bids else {
            return vec![];
        };
        let acc = self.scorer.accounts();
        let mut out = Vec::new();
        for &x in &c.members {
            for &y in c.members.iter().filter(|&&y| y > x) {
                let jobs = bids.shared_jobs(x as usize, y as usize);
                if !jobs.is_empty() {
                    let newer = if (acc.created[y as usize], y) >= (acc.created[x as usize], x) {
                        y
                    } else {
                        x
                    };
                    d.suspects.push(newer);
                    out.push(SelfBid { a: x, b: y, jobs });
                }
            }
        }
        if let Some(top) = out
            .iter()
            .max_by_key(|s| (s.jobs.len(), std::cmp::Reverse((s.a, s.b))))
        {
            d.add(Verdict::SelfBidding, (top.a, top.b));
        }
        out
    }

    /// Duplicates: two or more live personal freelancer (or client) accounts, or two or more live entity
    /// accounts of one business and type. The newer accounts of each group are suspects; returns the
    /// businesses with duplicate entity accounts, and which accounts the cluster holds.
    fn duplicates(
        &self,
        c: &Cluster,
        d: &mut Draft,
        person_links: bool,
    ) -> (Vec<String>, Holdings) {
        let acc = self.scorer.accounts();
        let h = Holdings::of(self.scorer, c);
        let mut businesses = Vec::new();
        let mut groups: Vec<&Vec<u32>> = Vec::new();
        for g in [&h.freelancers, &h.clients] {
            if g.len() >= 2 {
                groups.push(g);
            }
        }
        for g in h.entity_groups.iter().filter(|g| g.len() >= 2) {
            groups.push(g);
            businesses.push(acc.business.get(g[0] as usize).to_string());
        }
        if person_links && !groups.is_empty() {
            d.verdicts.push(Verdict::DuplicateAccounts);
            for g in groups {
                d.suspects.extend(g.iter().skip(1));
            }
        } else {
            businesses.clear();
        }
        (businesses, h)
    }

    fn judge_one(&self, c: Cluster) -> Judged {
        let mut d = Draft {
            verdicts: vec![],
            suspects: vec![],
            key_pair: None,
        };
        let evasion_links = self.ban_evasion(&c, &mut d);
        let reviews = self.review_manipulation(&c, &mut d);
        // Behaviour inside a cluster counts when identity evidence, not a shared place or card alone, holds it.
        let person_links = c
            .links
            .iter()
            .any(|l| supported_outside(self.scorer, l.a, l.b, PLACE_OR_PAYMENT));
        let self_bids = if person_links {
            self.self_bidding(&c, &mut d)
        } else {
            vec![]
        };
        let (duplicate_businesses, holdings) = self.duplicates(&c, &mut d, person_links);
        let mut reason = None;
        if d.verdicts.is_empty() {
            let permitted = person_links && holdings.permitted();
            d.verdicts.push(if permitted {
                Verdict::Permitted
            } else {
                Verdict::NoViolation
            });
            reason = permitted.then(|| holdings.permitted_reason());
        }
        d.suspects.sort_unstable();
        d.suspects.dedup();
        let strongest = c
            .links
            .first()
            .map(|l| (l.a, l.b))
            .unwrap_or((c.members[0], c.members[1]));
        Judged {
            id: String::new(),
            priority: d.verdicts.iter().filter_map(|v| v.priority()).min(),
            verdicts: d.verdicts,
            suspects: d.suspects,
            key_pair: d.key_pair.unwrap_or(strongest),
            reviews,
            evasion_links,
            self_bids,
            duplicate_businesses,
            reason,
            change: crate::history::Change::New,
            first_seen: String::new(),
            decision: None,
            cluster: c,
        }
    }
}

/// The live accounts of a cluster by kind: personal freelancer and client accounts (each oldest first), and
/// entity accounts grouped by business and type.
struct Holdings {
    freelancers: Vec<u32>,
    clients: Vec<u32>,
    /// Entity accounts of one type whose business is the same (same or near-same business name, or a shared
    /// card), each group oldest first.
    entity_groups: Vec<Vec<u32>>,
    /// Members that are none of these (agency accounts, closed or sanctioned accounts, unknown types).
    others: usize,
}

impl Holdings {
    fn of(scorer: &Scorer, c: &Cluster) -> Holdings {
        let acc = scorer.accounts();
        let by_age = |v: &mut Vec<u32>| v.sort_by_key(|&i| (acc.created[i as usize], i));
        let kind = |i: u32, t: AccountType| {
            let i = i as usize;
            acc.account_type[i] == t && live(acc.status[i])
        };
        let personal = |t: AccountType| -> Vec<u32> {
            let mut v: Vec<u32> = c
                .members
                .iter()
                .copied()
                .filter(|&i| kind(i, t) && !acc.entity[i as usize])
                .collect();
            by_age(&mut v);
            v
        };
        let (freelancers, clients) = (
            personal(AccountType::Freelancer),
            personal(AccountType::Client),
        );
        let entities: Vec<u32> = c
            .members
            .iter()
            .copied()
            .filter(|&i| {
                acc.entity[i as usize]
                    && (kind(i, AccountType::Freelancer) || kind(i, AccountType::Client))
            })
            .collect();
        let mut entity_groups = same_business_groups(scorer, &entities);
        entity_groups.iter_mut().for_each(by_age);
        entity_groups.sort();
        let counted = freelancers.len() + clients.len() + entities.len();
        Holdings {
            others: c.members.len() - counted,
            freelancers,
            clients,
            entity_groups,
        }
    }

    /// At most one personal account of each type, one entity account per business and type, nothing else.
    fn permitted(&self) -> bool {
        self.others == 0
            && self.freelancers.len() <= 1
            && self.clients.len() <= 1
            && self.entity_groups.iter().all(|g| g.len() == 1)
    }

    fn permitted_reason(&self) -> &'static str {
        if self.entity_groups.is_empty() {
            "freelancer_and_client"
        } else {
            "legal_entity"
        }
    }
}

/// Groups entity accounts (one type with another only when the types match) that are one business: the
/// same or a near-same business name, or a shared card.
fn same_business_groups(scorer: &Scorer, entities: &[u32]) -> Vec<Vec<u32>> {
    let acc = scorer.accounts();
    let mut parent: Vec<usize> = (0..entities.len()).collect();
    fn root(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for i in 0..entities.len() {
        for j in i + 1..entities.len() {
            let (a, b) = (entities[i] as usize, entities[j] as usize);
            if acc.account_type[a] != acc.account_type[b] {
                continue;
            }
            let same_name = acc.business.get(a) == acc.business.get(b);
            let c = scorer.compare(a, b);
            let same = same_name
                || matches!(c.business, Level::Exact { .. } | Level::FuzzyHigh { .. })
                || matches!(c.payment, Level::Exact { .. });
            if same {
                let (ra, rb) = (root(&mut parent, i), root(&mut parent, j));
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
    for (i, &e) in entities.iter().enumerate() {
        groups.entry(root(&mut parent, i)).or_default().push(e);
    }
    groups.into_values().collect()
}

/// Judges every cluster; returns them most urgent first (ids are given by `history::assign_ids`).
pub fn judge(
    scorer: &Scorer,
    clusters: Vec<Cluster>,
    scored: &[Scored],
    link_weight: f64,
    reviews: Option<&ReviewIndex>,
) -> Vec<Judged> {
    let judge = Judge {
        scorer,
        direct: Links::of(scored, link_weight),
        reviews,
        by_reviewer: ByReviewer::of(reviews),
    };
    // Each cluster is judged on its own: in parallel, in cluster order.
    let mut out: Vec<Judged> = clusters
        .into_par_iter()
        .map(|c| judge.judge_one(c))
        .collect();
    out.par_sort_by(|x, y| {
        x.priority
            .unwrap_or(u8::MAX)
            .cmp(&y.priority.unwrap_or(u8::MAX))
            .then(y.cluster.score.total_cmp(&x.cluster.score))
            .then(x.cluster.members[0].cmp(&y.cluster.members[0]))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cluster of these members, judged as nothing in particular.
    fn judged_of(members: Vec<u32>) -> Judged {
        Judged {
            id: String::new(),
            key_pair: (members[0], members[1]),
            cluster: Cluster {
                members,
                score: 0.9,
                links: vec![],
            },
            verdicts: vec![Verdict::NoViolation],
            priority: None,
            suspects: vec![],
            reviews: vec![],
            evasion_links: vec![],
            self_bids: vec![],
            duplicate_businesses: vec![],
            reason: None,
            change: crate::history::Change::New,
            first_seen: String::new(),
            decision: None,
        }
    }

    /// Associates are the triples whose two accounts are not in one cluster (either may be in none, or past
    /// every clustered account), strongest first (ties by account), numbered in that order.
    #[test]
    fn associates_leave_out_cluster_mates_and_are_numbered_strongest_first() {
        let judged = vec![judged_of(vec![1, 2, 3]), judged_of(vec![7, 9])];
        let pairs = vec![
            (1, 3, 5.0),  // one cluster: out
            (9, 7, 6.0),  // one cluster: out
            (1, 7, 2.0),  // two clusters
            (4, 2, 3.0),  // the sanctioned one in none
            (2, 4, 3.0),  // the newer one in none (a tie with the one above: by account)
            (5, 6, -1.0), // neither in any
            (3, 50, 4.0), // an account past every clustered one
        ];
        let got: Vec<(String, u32, u32)> = associates(pairs, &judged)
            .into_iter()
            .map(|a| (a.id, a.sanctioned, a.account))
            .collect();
        let want = [
            ("A000001", 3, 50),
            ("A000002", 2, 4),
            ("A000003", 4, 2),
            ("A000004", 1, 7),
            ("A000005", 5, 6),
        ];
        let want: Vec<(String, u32, u32)> = want
            .iter()
            .map(|&(id, s, a)| (id.to_string(), s, a))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn reviews_over_several_batches_are_read_in_order() {
        let mut acc = crate::record::Accounts::default();
        for i in 0..1000 {
            acc.id.push(&format!("a{i}"));
            acc.line.push(i + 2);
        }
        // 150,000 rows (more than two batches): some name an unknown account, some an account reviewing
        // itself, and many pairs come back in both directions.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reviews.csv");
        let mut text = String::from("reviewer_id,reviewee_id,rating,created_at\n");
        let mut want = Vec::new();
        let (mut unknown, mut selves) = (0, 0);
        for k in 0u32..150_000 {
            let (x, y) = ((k * 7919) % 1100, (k * 104_729) % 1000);
            text.push_str(&format!(
                " a{x} ,a{y},{},2024-01-{:02}\n",
                k % 5 + 1,
                k % 28 + 1
            ));
            if x < 1000 && x != y {
                want.push((
                    x,
                    y,
                    (k % 5 + 1).to_string(),
                    format!("2024-01-{:02}", k % 28 + 1),
                ));
            } else if x < 1000 {
                selves += 1;
            } else {
                unknown += 1;
            }
        }
        std::fs::write(&path, text).unwrap();
        let got = load_reviews(&path, &acc).unwrap();
        assert_eq!(got.rows, 150_000);
        assert_eq!((got.unknown_accounts, got.self_reviews), (unknown, selves));
        assert!(selves > 0 && unknown > 0);
        let got_reviews: Vec<_> = got
            .reviews
            .iter()
            .map(|r| {
                (
                    r.reviewer,
                    r.reviewee,
                    r.rating.clone(),
                    r.created_at.clone(),
                )
            })
            .collect();
        assert_eq!(got_reviews, want);
        let mut pairs: Vec<(u32, u32)> =
            want.iter().map(|r| (r.0.min(r.1), r.0.max(r.1))).collect();
        pairs.sort_unstable();
        pairs.dedup();
        assert_eq!(got.pairs, pairs);
        for &(a, b) in &pairs {
            assert!(got.set.contains(b, a) && got.set.contains(a, b));
        }
        assert!(!got.set.contains(0, 0));
    }
}

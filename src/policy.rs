//! Policy: turns clusters into verdicts a reviewer acts on, with priorities, suspects and the evidence in
//! words. The marketplace rules: one freelancer account per person (plus one client account: permitted);
//! agency accounts are not one person with their members; a sanctioned person must not return (ban evasion:
//! only a *direct* link between a suspended/banned account and a newer one counts, never a chain through third
//! accounts); accounts of one person must not review each other. A live account that shares a home or an office
//! with a sanctioned account but is not linked to it is an associate, never an evader. Also reads the optional
//! reviews file.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::Serialize;

use crate::cluster::Cluster;
use crate::error::{Error, Result};
use crate::record::{AccountType, Status};
use crate::score::{Field, Level, Scored, Scorer};

/// What the policy says about a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    BanEvasion,
    ReviewManipulation,
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
            Verdict::ReviewManipulation => Some(2),
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
}

/// Reads `reviewer_id, reviewee_id, rating, created_at`; rows naming unknown accounts are counted, not used.
pub fn load_reviews(path: &Path, acc: &crate::record::Accounts) -> Result<ReviewIndex> {
    let mut index_of = std::collections::HashMap::with_capacity(acc.len());
    for i in 0..acc.len() {
        index_of.insert(acc.id.get(i), i as u32);
    }
    let (mut rdr, names) = crate::load::open_table(path)?;
    let find = |c: &str| crate::load::require_column(path, &names, c);
    let (ir, ie) = (find("reviewer_id")?, find("reviewee_id")?);
    let (ira, ic) = (
        names.iter().position(|n| n == "rating"),
        names.iter().position(|n| n == "created_at"),
    );
    let mut out = ReviewIndex::default();
    let mut pairs = HashSet::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| Error::csv(path, &e))?;
        out.rows += 1;
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("").trim().to_string();
        let (a, b) = (get(Some(ir)), get(Some(ie)));
        match (index_of.get(a.as_str()), index_of.get(b.as_str())) {
            (Some(&x), Some(&y)) if x != y => {
                out.set.insert((x, y));
                pairs.insert((x.min(y), x.max(y)));
                out.reviews.push(Review {
                    reviewer: x,
                    reviewee: y,
                    rating: get(ira),
                    created_at: get(ic),
                });
            }
            _ => out.unknown_accounts += 1,
        }
    }
    out.pairs = pairs.into_iter().collect();
    out.pairs.sort_unstable();
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
    let mut cluster_of = std::collections::HashMap::new();
    for (k, j) in judged.iter().enumerate() {
        for &m in &j.cluster.members {
            cluster_of.insert(m, k);
        }
    }
    pairs.retain(|(s, a, _)| !cluster_of.contains_key(s) || cluster_of.get(s) != cluster_of.get(a));
    pairs.sort_by(|x, y| y.2.total_cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
    pairs
        .into_iter()
        .enumerate()
        .map(|(i, (sanctioned, account, weight))| Associate {
            id: format!("A{:06}", i + 1),
            sanctioned,
            account,
            weight,
        })
        .collect()
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

/// Judges every cluster; returns them with ids, most urgent first.
pub fn judge(
    scorer: &Scorer,
    clusters: Vec<Cluster>,
    scored: &[Scored],
    link_weight: f64,
    reviews: Option<&ReviewIndex>,
) -> Vec<Judged> {
    let acc = scorer.accounts();
    let direct: std::collections::HashMap<u64, f64> = scored
        .iter()
        .filter(|s| s.weight >= link_weight)
        .map(|s| (crate::block::pack(s.a, s.b), s.weight))
        .collect();
    let mut by_reviewer: std::collections::HashMap<u32, Vec<usize>> =
        std::collections::HashMap::new();
    for (k, rv) in reviews
        .map(|r| r.reviews.as_slice())
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        by_reviewer.entry(rv.reviewer).or_default().push(k);
    }
    let mut out: Vec<Judged> = clusters
        .into_iter()
        .map(|c| {
            let members: HashSet<u32> = c.members.iter().copied().collect();
            let mut verdicts = Vec::new();
            let mut suspects = Vec::new();
            let strongest = c
                .links
                .first()
                .map(|l| (l.a, l.b))
                .unwrap_or((c.members[0], c.members[1]));
            let mut key_pair = None;

            // Ban evasion: a direct link from a sanctioned account to a newer one.
            let mut best_ev: Option<(f64, u32, u32)> = None;
            let mut evasion_links = Vec::new();
            for &x in &c.members {
                for &y in &c.members {
                    if x < y
                        && let Some(&w) = direct.get(&crate::block::pack(x, y))
                        && let Some((_, newer)) = scorer.evasion_direction(x as usize, y as usize)
                        && supported_outside(scorer, x, y, PLACE_ONLY)
                    {
                        suspects.push(newer as u32);
                        let sanctioned = if newer as u32 == x { y } else { x };
                        evasion_links.push((sanctioned, newer as u32));
                        if best_ev.is_none_or(|(bw, _, _)| w > bw) {
                            best_ev = Some((w, x, y));
                        }
                    }
                }
            }
            if let Some((_, x, y)) = best_ev {
                verdicts.push(Verdict::BanEvasion);
                key_pair.get_or_insert((x, y));
            }

            // Review manipulation: reviews inside the cluster.
            let mut revs = Vec::new();
            if let Some(r) = reviews {
                for m in &c.members {
                    for &k in by_reviewer.get(m).map(Vec::as_slice).unwrap_or(&[]) {
                        if members.contains(&r.reviews[k].reviewee) {
                            revs.push(r.reviews[k].clone());
                        }
                    }
                }
                revs.sort_by(|x, y| {
                    (x.reviewer, x.reviewee, &x.created_at).cmp(&(
                        y.reviewer,
                        y.reviewee,
                        &y.created_at,
                    ))
                });
            }
            if !revs.is_empty() {
                verdicts.push(Verdict::ReviewManipulation);
                for rv in &revs {
                    suspects.push(rv.reviewer);
                }
                key_pair.get_or_insert((
                    revs[0].reviewer.min(revs[0].reviewee),
                    revs[0].reviewer.max(revs[0].reviewee),
                ));
            }

            // Duplicates: two or more live freelancer (or client) accounts, held together by identity evidence.
            let person_links = c
                .links
                .iter()
                .any(|l| supported_outside(scorer, l.a, l.b, PLACE_OR_PAYMENT));
            let of = |t: AccountType| -> Vec<u32> {
                let mut v: Vec<u32> = c
                    .members
                    .iter()
                    .copied()
                    .filter(|&i| acc.account_type[i as usize] == t && live(acc.status[i as usize]))
                    .collect();
                v.sort_by_key(|&i| (acc.created[i as usize], i));
                v
            };
            let (free, client) = (of(AccountType::Freelancer), of(AccountType::Client));
            if person_links && (free.len() >= 2 || client.len() >= 2) {
                verdicts.push(Verdict::DuplicateAccounts);
                for group in [&free, &client] {
                    suspects.extend(group.iter().skip(1));
                }
            }
            if verdicts.is_empty() {
                let others = c.members.len() - free.len() - client.len();
                verdicts.push(
                    if free.len() == 1 && client.len() == 1 && others == 0 && person_links {
                        Verdict::Permitted
                    } else {
                        Verdict::NoViolation
                    },
                );
            }
            suspects.sort_unstable();
            suspects.dedup();
            let priority = verdicts.iter().filter_map(|v| v.priority()).min();
            Judged {
                id: String::new(),
                cluster: c,
                verdicts,
                priority,
                suspects,
                key_pair: key_pair.unwrap_or(strongest),
                reviews: revs,
                evasion_links,
            }
        })
        .collect();
    out.sort_by(|x, y| {
        x.priority
            .unwrap_or(u8::MAX)
            .cmp(&y.priority.unwrap_or(u8::MAX))
            .then(y.cluster.score.total_cmp(&x.cluster.score))
            .then(x.cluster.members[0].cmp(&y.cluster.members[0]))
    });
    for (i, j) in out.iter_mut().enumerate() {
        j.id = format!("C{:06}", i + 1);
    }
    out
}

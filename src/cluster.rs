//! Clustering: joins linked accounts into clusters, strongest link first (Kruskal order), with a guard
//! against chaining. Two groups merge only if (a) the merged cluster stays within `max_cluster_size` and
//! (b) the evidence of *all* pairs across the two groups — each pair compared directly, whether or not
//! blocking paired it — combined as independent Bayes factors on the prior, gives a probability of at least
//! `min_merge_probability`. So A–B and B–C merge A with C only if the A–C comparison does not speak clearly
//! against it: a bridge through a third account is refused when the direct comparison contradicts it.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::block::pack;
use crate::config::Clustering;
use crate::history::Decisions;
use crate::score::{Scored, Scorer, probability};

#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// Account indices, ascending.
    pub members: Vec<u32>,
    /// Mean match probability over all pairs of members.
    pub score: f64,
    /// The links that joined it (as merged), strongest first.
    pub links: Vec<Scored>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ClusterStats {
    pub links: u64,
    pub merges: u64,
    /// Links not used because the groups at their ends failed the mean-probability guard.
    pub refused_weak_bridge: u64,
    /// Links not used because the merged cluster would exceed the size cap.
    pub refused_size_cap: u64,
    /// Links not used because they would join two accounts a reviewer decided are different people.
    pub refused_decided_different: u64,
}

/// Weights of scored pairs, with on-demand scoring of the rest.
struct PairWeights<'a> {
    known: HashMap<u64, f64, std::hash::BuildHasherDefault<crate::score::PairHasher>>,
    scorer: &'a Scorer<'a>,
}

impl PairWeights<'_> {
    fn get(&self, a: u32, b: u32) -> f64 {
        match self.known.get(&pack(a, b)) {
            Some(w) => *w,
            None => self.scorer.weight(a as usize, b as usize),
        }
    }
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let p = parent[x as usize];
        parent[x as usize] = parent[p as usize];
        x = p;
    }
    x
}

/// Clusters the links (scored pairs at or above `link_weight`).
///
/// With reviewer decisions: pairs decided `same` are joined first, whatever their score (must-links), and no
/// merge ever joins two accounts decided `different` (cannot-links).
pub fn cluster(
    scorer: &Scorer,
    scored: &[Scored],
    link_weight: f64,
    cfg: &Clustering,
    decisions: Option<&Decisions>,
) -> (Vec<Cluster>, ClusterStats) {
    let (links, forced) = links_in_order(scorer, scored, link_weight, decisions);
    let weights = PairWeights {
        known: scored.iter().map(|s| (pack(s.a, s.b), s.weight)).collect(),
        scorer,
    };
    let mut stats = ClusterStats {
        links: (links.len() - forced) as u64,
        ..Default::default()
    };
    let mut forest = Forest::of(&links);
    for (li, l) in links.iter().enumerate() {
        let Some((ra, rb)) = forest.roots(l) else {
            continue;
        };
        let (ma, mb) = (&forest.members[ra as usize], &forest.members[rb as usize]);
        if let Some(d) = decisions
            && ma.iter().any(|&x| mb.iter().any(|&y| d.cannot_link(x, y)))
        {
            stats.refused_decided_different += 1;
            continue;
        }
        if ma.len() + mb.len() > cfg.max_cluster_size {
            stats.refused_size_cap += 1;
            continue;
        }
        let bridge = ma.len() > 1 || mb.len() > 1;
        if li >= forced && bridge && !groups_agree(ma, mb, &weights, cfg) {
            stats.refused_weak_bridge += 1;
            continue;
        }
        forest.join(ra, rb, *l);
        stats.merges += 1;
    }
    (forest.into_clusters(&weights), stats)
}

/// The links in the order they are tried: the pairs reviewers decided `same` first (scored, whatever their
/// weight), then the scored pairs at or above `link_weight`, strongest first; and how many were decided.
fn links_in_order(
    scorer: &Scorer,
    scored: &[Scored],
    link_weight: f64,
    decisions: Option<&Decisions>,
) -> (Vec<Scored>, usize) {
    let mut links: Vec<Scored> = scored
        .iter()
        .copied()
        .filter(|s| s.weight >= link_weight)
        .collect();
    let must: Vec<Scored> = decisions
        .map(|d| d.must_links())
        .unwrap_or_default()
        .into_iter()
        .map(|(a, b)| Scored {
            a,
            b,
            weight: scorer.weight(a as usize, b as usize),
        })
        .collect();
    // A total order: the same order from a parallel sort.
    links.par_sort_by(Scored::strongest_first);
    let forced = must.len();
    links.splice(0..0, must);
    (links, forced)
}

/// Whether two groups are one person by the evidence of every pair across them: their Bayes factors (each
/// pair's weight minus the prior it already contains) combined onto the prior once reach
/// `min_merge_probability`.
fn groups_agree(ma: &[u32], mb: &[u32], weights: &PairWeights, cfg: &Clustering) -> bool {
    let prior = weights.scorer.prior_bits();
    let mut evidence = prior;
    for &x in ma {
        for &y in mb {
            evidence += weights.get(x, y).clamp(-64.0, 64.0) - prior;
        }
    }
    probability(evidence) >= cfg.min_merge_probability
}

/// The groups merged so far (union–find over the accounts that appear in links, indexed compactly in order of
/// first appearance: the order decides roots, and with them the order evidence is summed in), each root
/// with its members and the links that joined them.
struct Forest {
    /// Per account index, its compact index (`u32::MAX`: in no link).
    local: Vec<u32>,
    parent: Vec<u32>,
    members: Vec<Vec<u32>>,
    used: Vec<Vec<Scored>>,
}

impl Forest {
    fn of(links: &[Scored]) -> Self {
        let accounts = links
            .iter()
            .map(|l| l.a.max(l.b) as usize + 1)
            .max()
            .unwrap_or(0);
        let mut local: Vec<u32> = vec![u32::MAX; accounts];
        let mut global: Vec<u32> = Vec::new();
        for l in links {
            for x in [l.a, l.b] {
                if local[x as usize] == u32::MAX {
                    local[x as usize] = global.len() as u32;
                    global.push(x);
                }
            }
        }
        let n = global.len();
        Forest {
            local,
            parent: (0..n as u32).collect(),
            members: global.iter().map(|&g| vec![g]).collect(),
            used: vec![Vec::new(); n],
        }
    }

    /// The roots of a link's two accounts, when they are in different groups.
    fn roots(&mut self, l: &Scored) -> Option<(u32, u32)> {
        let ra = find(&mut self.parent, self.local[l.a as usize]);
        let rb = find(&mut self.parent, self.local[l.b as usize]);
        (ra != rb).then_some((ra, rb))
    }

    /// Joins two groups by `link`, union by size (the larger root stays).
    fn join(&mut self, ra: u32, rb: u32, link: Scored) {
        let (big, small) = if self.members[ra as usize].len() >= self.members[rb as usize].len() {
            (ra as usize, rb as usize)
        } else {
            (rb as usize, ra as usize)
        };
        self.parent[small] = big as u32;
        let moved = std::mem::take(&mut self.members[small]);
        self.members[big].extend(moved);
        let moved_links = std::mem::take(&mut self.used[small]);
        self.used[big].extend(moved_links);
        self.used[big].push(link);
    }

    /// The groups of two or more accounts as clusters, ordered by their first member. The roots first
    /// (`find` compresses paths as it goes), then each cluster's score and links in parallel: its members'
    /// pairs not scored before are compared now.
    fn into_clusters(mut self, weights: &PairWeights) -> Vec<Cluster> {
        let n = self.parent.len();
        let roots: Vec<usize> = (0..n)
            .filter(|&r| {
                find(&mut self.parent, r as u32) as usize == r && self.members[r].len() > 1
            })
            .collect();
        let taken: Vec<(Vec<u32>, Vec<Scored>)> = roots
            .iter()
            .map(|&r| {
                (
                    std::mem::take(&mut self.members[r]),
                    std::mem::take(&mut self.used[r]),
                )
            })
            .collect();
        let mut out: Vec<Cluster> = taken
            .into_par_iter()
            .map(|(m, l)| finish(m, l, weights))
            .collect();
        out.par_sort_by_key(|c| c.members[0]);
        out
    }
}

/// A cluster from its members and the links that joined it: members ascending, the mean match probability
/// over all pairs of members, links strongest first.
fn finish(mut m: Vec<u32>, mut l: Vec<Scored>, weights: &PairWeights) -> Cluster {
    m.sort_unstable();
    let mut sum = 0.0;
    let mut cnt = 0usize;
    for i in 0..m.len() {
        for j in i + 1..m.len() {
            sum += probability(weights.get(m[i], m[j]));
            cnt += 1;
        }
    }
    l.sort_by(Scored::strongest_first);
    Cluster {
        members: m,
        score: sum / cnt as f64,
        links: l,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::model::Model;
    use crate::normalize::test_accounts;
    use crate::record::{Accounts, col};

    /// Accounts from (email, phone, full_name, device) rows, all in the US.
    fn accounts(rows: &[(&str, &str, &str, &str)]) -> Accounts {
        let rows: Vec<Vec<(usize, &str)>> = rows
            .iter()
            .map(|&(e, p, n, d)| {
                vec![
                    (col::EMAIL, e),
                    (col::PHONE, p),
                    (col::FULL_NAME, n),
                    (col::DEVICE_IDS, d),
                    (col::COUNTRY, "US"),
                ]
            })
            .collect();
        test_accounts(&rows)
    }

    fn run(acc: &Accounts, cfg: &Config) -> (Vec<Vec<u32>>, ClusterStats) {
        let model = Model::defaults(cfg, "test");
        let scorer = Scorer::new(acc, cfg, Default::default(), &model);
        let mut scored = vec![];
        for a in 0..acc.len() as u32 {
            for b in a + 1..acc.len() as u32 {
                scored.push(Scored {
                    a,
                    b,
                    weight: scorer.weight(a as usize, b as usize),
                });
            }
        }
        let (clusters, stats) = cluster(&scorer, &scored, cfg.link_weight(), &cfg.clustering, None);
        (clusters.into_iter().map(|c| c.members).collect(), stats)
    }

    #[test]
    fn one_person_with_three_accounts_is_one_cluster() {
        // a0–a1 share an email, a1–a2 a phone; all three carry the same name.
        let acc = accounts(&[
            ("kim.lee@gmail.com", "", "Kim Lee", "d-kim-1"),
            ("kim.lee@gmail.com", "+1 415 555 0100", "Kim Lee", "d-kim-2"),
            ("kimmy@yahoo.com", "+1 415 555 0100", "Kim Lee", "d-kim-3"),
        ]);
        let (clusters, stats) = run(&acc, &Config::default());
        assert_eq!(clusters, vec![vec![0, 1, 2]]);
        assert_eq!(stats.refused_weak_bridge, 0);
    }

    #[test]
    fn a_bridge_contradicted_by_the_direct_comparison_is_refused() {
        // a0–a1: one person (email and name). a1–a2: a phone and a device in common, names differ — a link,
        // but a weak one. a0–a2: nothing in common and everything different. The chain must not pull a2 in.
        let acc = accounts(&[
            ("ann.roe@gmail.com", "+1 415 555 0111", "Ann Roe", "d-ann-1"),
            (
                "ann.roe@gmail.com",
                "+1 415 555 0122",
                "Ann Roe",
                "d-shared",
            ),
            (
                "zed.quill@outlook.com",
                "+1 415 555 0122",
                "Zed Quill",
                "d-shared",
            ),
        ]);
        let cfg = Config::default();
        let model = Model::defaults(&cfg, "test");
        let scorer = Scorer::new(&acc, &cfg, Default::default(), &model);
        let t = cfg.link_weight();
        assert!(
            scorer.weight(0, 1) >= t && scorer.weight(1, 2) >= t,
            "both bridge links are links"
        );
        assert!(scorer.weight(0, 2) < t);
        let (clusters, stats) = run(&acc, &cfg);
        assert_eq!(clusters, vec![vec![0, 1]]);
        assert_eq!(stats.refused_weak_bridge, 1);
    }

    #[test]
    fn the_size_cap_holds() {
        let rows: Vec<_> = (0..6)
            .map(|_| ("same@gmail.com", "", "Sam Same", ""))
            .collect();
        let mut cfg = Config::default();
        cfg.clustering.max_cluster_size = 4;
        let acc = accounts(&rows);
        let (clusters, stats) = run(&acc, &cfg);
        assert!(clusters.iter().all(|c| c.len() <= 4), "{clusters:?}");
        assert!(stats.refused_size_cap > 0);
    }
}

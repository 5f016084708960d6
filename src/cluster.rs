//! Clustering: joins linked accounts into clusters, strongest link first (Kruskal order), with a guard
//! against chaining. Two groups merge only if (a) the merged cluster stays within `max_cluster_size` and
//! (b) the evidence of *all* pairs across the two groups — each pair compared directly, whether or not
//! blocking paired it — combined as independent Bayes factors on the prior, gives a probability of at least
//! `min_merge_probability`. So A–B and B–C merge A with C only if the A–C comparison does not speak clearly
//! against it: a bridge through a third account is refused when the direct comparison contradicts it.

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

impl ClusterStats {
    /// Adds the merges and refusals counted by `other` (a component's) to these.
    fn add_merges(&mut self, other: &ClusterStats) {
        self.merges += other.merges;
        self.refused_weak_bridge += other.refused_weak_bridge;
        self.refused_size_cap += other.refused_size_cap;
        self.refused_decided_different += other.refused_decided_different;
    }
}

/// Weights of scored pairs, with on-demand scoring of the rest: the scored ones as `(pair, weight)` sorted by
/// pair (sorted on every worker; a hash map of them, two million at ten million accounts, was filled on one).
struct PairWeights<'a> {
    known: Vec<(u64, f64)>,
    scorer: &'a Scorer<'a>,
}

impl<'a> PairWeights<'a> {
    fn of(scored: &[Scored], scorer: &'a Scorer<'a>) -> Self {
        let mut known: Vec<(u64, f64)> = scored
            .par_iter()
            .map(|s| (pack(s.a, s.b), s.weight))
            .collect();
        // A pair's weight is a function of the pair: one scored twice has the same weight twice.
        known.par_sort_unstable_by_key(|x| x.0);
        known.dedup_by_key(|x| x.0);
        PairWeights { known, scorer }
    }

    fn get(&self, a: u32, b: u32) -> f64 {
        match self.known.binary_search_by_key(&pack(a, b), |x| x.0) {
            Ok(k) => self.known[k].1,
            Err(_) => self.scorer.weight(a as usize, b as usize),
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
///
/// A merge joins the two ends of a link, so no group ever spans two connected components of the links: each
/// component is merged on its own, on any worker, its links in the order of all links — the same merges, and
/// the same clusters, as one pass over all links in that order.
pub fn cluster(
    scorer: &Scorer,
    scored: &[Scored],
    link_weight: f64,
    cfg: &Clustering,
    decisions: Option<&Decisions>,
) -> (Vec<Cluster>, ClusterStats) {
    let t = std::time::Instant::now();
    let (links, forced) = links_in_order(scorer, scored, link_weight, decisions);
    let weights = PairWeights::of(scored, scorer);
    let t_links = t.elapsed();
    let components = Components::of(&links);
    let t_components = t.elapsed();
    let merge = Merge {
        links: &links,
        forced,
        cfg,
        decisions,
        weights: &weights,
    };
    // Folded per worker's share of components (most hold one link): one vector of clusters per share.
    let parts: Vec<(Vec<Cluster>, ClusterStats)> = components
        .parts
        .par_iter()
        .fold(
            || (Vec::new(), ClusterStats::default()),
            |(mut out, mut stats), part| {
                merge.component(&components, part, &mut out, &mut stats);
                (out, stats)
            },
        )
        .collect();
    let t_merge = t.elapsed();
    let mut stats = ClusterStats {
        links: (links.len() - forced) as u64,
        ..Default::default()
    };
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
    for (clusters, s) in parts {
        out.extend(clusters);
        stats.add_merges(&s);
    }
    out.par_sort_by_key(|c| c.members[0]);
    tracing::debug!(
        links = ?t_links,
        components = ?(t_components - t_links),
        merge = ?(t_merge - t_components),
        order = ?(t.elapsed() - t_merge),
        count = components.parts.len(),
        "clustering: seconds per step (links and weights, components, merges, clusters in order)"
    );
    (out, stats)
}

/// The connected components of the links: each one's links (indices into the links, ascending) and accounts
/// (in order of first appearance in the links), side by side in two arrays.
struct Components {
    /// Link indices, component after component.
    links: Vec<u32>,
    /// Account indices, component after component.
    accounts: Vec<u32>,
    /// Each component's stretch of `links` and of `accounts`.
    parts: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>,
}

impl Components {
    fn of(links: &[Scored]) -> Self {
        let accounts = links
            .iter()
            .map(|l| l.a.max(l.b) as usize + 1)
            .max()
            .unwrap_or(0);
        // Accounts numbered compactly in order of first appearance, then joined by every link.
        let mut compact: Vec<u32> = crate::memory::filled_advised(accounts, u32::MAX);
        let mut global: Vec<u32> = Vec::new();
        let mut parent: Vec<u32> = Vec::new();
        for l in links {
            let [a, b] = [l.a, l.b].map(|x| {
                if compact[x as usize] == u32::MAX {
                    compact[x as usize] = global.len() as u32;
                    parent.push(global.len() as u32);
                    global.push(x);
                }
                compact[x as usize]
            });
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            parent[ra.max(rb) as usize] = ra.min(rb);
        }
        let root: Vec<u32> = (0..global.len() as u32)
            .map(|c| find(&mut parent, c))
            .collect();
        drop(parent);
        // Both sorted by (component, order): a component's links stay in link order, its accounts in order
        // of first appearance.
        let mut by_link: Vec<u64> = links
            .par_iter()
            .enumerate()
            .map(|(i, l)| u64::from(root[compact[l.a as usize] as usize]) << 32 | i as u64)
            .collect();
        by_link.par_sort_unstable();
        let mut by_account: Vec<u64> = (0..root.len())
            .into_par_iter()
            .map(|c| u64::from(root[c]) << 32 | c as u64)
            .collect();
        by_account.par_sort_unstable();
        let parts = stretches(&by_link, &by_account);
        Components {
            links: by_link.iter().map(|&k| k as u32).collect(),
            accounts: by_account
                .iter()
                .map(|&k| global[k as u32 as usize])
                .collect(),
            parts,
        }
    }
}

/// The stretches of equal components (the high 32 bits) in two arrays sorted by them, which hold the same
/// components.
fn stretches(
    links: &[u64],
    accounts: &[u64],
) -> Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    // Most stretches are one link and two accounts long: walked, not searched.
    let run = |v: &[u64], from: usize| {
        let c = v[from] >> 32;
        from + v[from..].iter().take_while(|&&k| k >> 32 == c).count()
    };
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < links.len() {
        debug_assert_eq!(links[i] >> 32, accounts[j] >> 32);
        let (ie, je) = (run(links, i), run(accounts, j));
        out.push((i..ie, j..je));
        (i, j) = (ie, je);
    }
    out
}

/// What merging a component reads.
struct Merge<'a> {
    links: &'a [Scored],
    /// How many of the first links are reviewers' must-links.
    forced: usize,
    cfg: &'a Clustering,
    decisions: Option<&'a Decisions>,
    weights: &'a PairWeights<'a>,
}

impl Merge<'_> {
    /// Merges one component's groups, its links strongest first: its clusters go to `out`, its counts to
    /// `stats`.
    fn component(
        &self,
        c: &Components,
        (links, accounts): &(std::ops::Range<usize>, std::ops::Range<usize>),
        out: &mut Vec<Cluster>,
        stats: &mut ClusterStats,
    ) {
        if let ([li], [a, b]) = (&c.links[links.clone()], &c.accounts[accounts.clone()]) {
            // One link between two accounts (most components): no forest needed.
            let l = &self.links[*li as usize];
            if self.decisions.is_some_and(|d| d.cannot_link(*a, *b)) {
                stats.refused_decided_different += 1;
            } else if 2 > self.cfg.max_cluster_size {
                stats.refused_size_cap += 1;
            } else {
                stats.merges += 1;
                // The link is the cluster's one pair: a scored pair, its weight the one `finish` would look
                // up (a must-link's is looked up: it may not have been scored).
                let known = (*li as usize >= self.forced).then_some(l.weight);
                out.push(finish_pair(*a, *b, *l, known, self.weights));
            }
            return;
        }
        let members = &c.accounts[accounts.clone()];
        let mut forest = Forest::of(members);
        // Each account's position in the component, found by account index.
        let mut position: Vec<(u32, u32)> = (members.iter().enumerate())
            .map(|(k, &x)| (x, k as u32))
            .collect();
        position.sort_unstable();
        let at = |x: u32| {
            let k = position.binary_search_by_key(&x, |p| p.0);
            position[k.expect("a link's accounts are in its component")].1
        };
        for &li in &c.links[links.clone()] {
            let (li, l) = (li as usize, &self.links[li as usize]);
            let Some((ra, rb)) = forest.roots(at(l.a), at(l.b)) else {
                continue;
            };
            let (ma, mb) = (&forest.members[ra as usize], &forest.members[rb as usize]);
            if let Some(d) = self.decisions
                && ma.iter().any(|&x| mb.iter().any(|&y| d.cannot_link(x, y)))
            {
                stats.refused_decided_different += 1;
                continue;
            }
            if ma.len() + mb.len() > self.cfg.max_cluster_size {
                stats.refused_size_cap += 1;
                continue;
            }
            let bridge = ma.len() > 1 || mb.len() > 1;
            if li >= self.forced && bridge && !groups_agree(ma, mb, self.weights, self.cfg) {
                stats.refused_weak_bridge += 1;
                continue;
            }
            forest.join(ra, rb, *l);
            stats.merges += 1;
        }
        out.extend(forest.into_clusters(self.weights));
    }
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
        .par_iter()
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

/// The groups of one component merged so far (union–find over its accounts, indexed in order of first
/// appearance in the links: the order decides roots, and with them the order evidence is summed in), each
/// root with its members and the links that joined them.
struct Forest {
    parent: Vec<u32>,
    members: Vec<Vec<u32>>,
    used: Vec<Vec<Scored>>,
}

impl Forest {
    /// Each account (indices in order of first appearance) a group of its own.
    fn of(accounts: &[u32]) -> Self {
        Forest {
            parent: (0..accounts.len() as u32).collect(),
            members: accounts.iter().map(|&g| vec![g]).collect(),
            used: vec![Vec::new(); accounts.len()],
        }
    }

    /// The roots of a link's two accounts (by position), when they are in different groups.
    fn roots(&mut self, a: u32, b: u32) -> Option<(u32, u32)> {
        let ra = find(&mut self.parent, a);
        let rb = find(&mut self.parent, b);
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

    /// The groups of two or more accounts as clusters, in no particular order: each cluster's score and
    /// links (its members' pairs not scored before are compared now).
    fn into_clusters(self, weights: &PairWeights) -> Vec<Cluster> {
        self.members
            .into_iter()
            .zip(self.used)
            .filter(|(m, _)| m.len() > 1)
            .map(|(m, l)| finish(m, l, weights))
            .collect()
    }
}

/// The cluster of two accounts joined by one link: `finish` of them, the pair's weight `known` or looked up.
fn finish_pair(a: u32, b: u32, link: Scored, known: Option<f64>, weights: &PairWeights) -> Cluster {
    let weight = known.unwrap_or_else(|| weights.get(a, b));
    Cluster {
        members: vec![a.min(b), a.max(b)],
        score: probability(weight),
        links: vec![link],
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
    use std::collections::HashMap;

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

    /// The greedy merge over all links at once, one forest for every account: what `cluster` computes
    /// component by component.
    fn cluster_in_one_pass(
        scorer: &Scorer,
        scored: &[Scored],
        cfg: &Clustering,
    ) -> (Vec<Cluster>, ClusterStats) {
        let (links, _) = links_in_order(scorer, scored, scorer.config().link_weight(), None);
        let weights = PairWeights::of(scored, scorer);
        let mut order: Vec<u32> = Vec::new();
        let mut position: HashMap<u32, u32> = HashMap::new();
        for l in &links {
            for x in [l.a, l.b] {
                position.entry(x).or_insert_with(|| {
                    order.push(x);
                    order.len() as u32 - 1
                });
            }
        }
        let mut forest = Forest::of(&order);
        let mut stats = ClusterStats {
            links: links.len() as u64,
            ..Default::default()
        };
        for l in &links {
            let Some((ra, rb)) = forest.roots(position[&l.a], position[&l.b]) else {
                continue;
            };
            let (ma, mb) = (&forest.members[ra as usize], &forest.members[rb as usize]);
            if ma.len() + mb.len() > cfg.max_cluster_size {
                stats.refused_size_cap += 1;
            } else if (ma.len() > 1 || mb.len() > 1) && !groups_agree(ma, mb, &weights, cfg) {
                stats.refused_weak_bridge += 1;
            } else {
                forest.join(ra, rb, *l);
                stats.merges += 1;
            }
        }
        let mut out = forest.into_clusters(&weights);
        out.sort_by_key(|c| c.members[0]);
        (out, stats)
    }

    /// Clustering component by component, on every worker, is the one pass over all links: many
    /// components (more than a worker's share), chains and stars whose merges depend on the order links are
    /// tried in (the size cap and the bridge guard refuse some), links met in no particular account order.
    #[test]
    fn components_merged_apart_are_the_one_pass() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let names = [
            "Ann Roe",
            "Ann Rowe",
            "Bo Li",
            "Kim Lee",
            "Zed Quill",
            "Kim Leigh",
        ];
        let n = 6000;
        let rows: Vec<(String, String, &str, String)> = (0..n)
            .map(|i| {
                let group = i / 6;
                (
                    format!("u{}@mail.example", i % 997),
                    String::new(),
                    names[rng.random_range(0..names.len())],
                    format!("dev-{}", group * 7 + rng.random_range(0..3)),
                )
            })
            .collect();
        let rows: Vec<(&str, &str, &str, &str)> = rows
            .iter()
            .map(|(e, p, nm, d)| (e.as_str(), p.as_str(), *nm, d.as_str()))
            .collect();
        let acc = accounts(&rows);
        let mut cfg = Config::default();
        cfg.clustering.max_cluster_size = 4;
        let model = Model::defaults(&cfg, "test");
        let scorer = Scorer::new(&acc, &cfg, Default::default(), &model);
        let t = cfg.link_weight();
        // Links within groups of up to 12 accounts (two groups of six joined at times), weights spread
        // around the link line; some pairs twice (a pair's weight is a function of the pair).
        let mut scored = Vec::new();
        let mut weight_of: HashMap<u64, f64> = HashMap::new();
        for _ in 0..9000 {
            let base = rng.random_range(0..n / 6) * 6;
            let (a, b) = (
                base + rng.random_range(0..12),
                base + rng.random_range(0..6),
            );
            if a != b && a < n {
                let drawn = t + rng.random_range(-2.0..12.0);
                let weight = *weight_of.entry(pack(a as u32, b as u32)).or_insert(drawn);
                scored.push(Scored {
                    a: a as u32,
                    b: b as u32,
                    weight,
                });
            }
        }
        scored.extend(scored[..500].to_vec());
        let (clusters, stats) = cluster(&scorer, &scored, t, &cfg.clustering, None);
        let (one, one_stats) = cluster_in_one_pass(&scorer, &scored, &cfg.clustering);
        assert!(clusters.len() > 500, "{} clusters", clusters.len());
        assert!(
            stats.refused_size_cap > 0 && stats.refused_weak_bridge > 0,
            "{stats:?}"
        );
        assert_eq!(clusters, one);
        assert_eq!(
            (
                stats.links,
                stats.merges,
                stats.refused_size_cap,
                stats.refused_weak_bridge
            ),
            (
                one_stats.links,
                one_stats.merges,
                one_stats.refused_size_cap,
                one_stats.refused_weak_bridge
            )
        );
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

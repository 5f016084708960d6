//! Bids: the optional bids file (`run --bids`, CSV `account_id, job_id, created_at[, amount]`), read with
//! line numbers and indexed by account. It feeds two things. The policy: two accounts of one cluster that bid
//! on the same job are bidding against themselves (`self_bidding`), the unfair advantage the one-account rule
//! exists to prevent. And the `bids` field of the score: jobs that both accounts bid on within a few minutes
//! of each other, weak behavioural evidence (competitors bid on the same jobs all day) that can add to
//! identity evidence but never links two accounts on its own (see `model::BEHAVIOUR_SHARE`).

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;

use crate::error::Result;
use crate::record::{Accounts, Quarantined};

/// One bid of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bid {
    /// Index into `BidIndex::jobs`.
    pub job: u32,
    /// Seconds since the epoch; `i64::MIN` when the row has no time.
    pub at: i64,
}

/// Bids by account (account index order), each account's bids sorted by job and time.
#[derive(Debug, Default)]
pub struct BidIndex {
    offsets: Vec<u32>,
    bids: Vec<Bid>,
    /// Job ids, by job index (first appearance in the file).
    pub jobs: Vec<String>,
    /// Data rows read, rows used, rows naming an account not in the export (counted and ignored).
    pub rows: u64,
    pub used: u64,
    pub unknown_accounts: u64,
    /// Malformed rows, with their line numbers.
    pub quarantined: Vec<Quarantined>,
}

/// The tally of one pair's bids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CoBids {
    /// Jobs both accounts bid on, at any time.
    pub jobs: u32,
    /// Of those, jobs where their bids came within the window of each other.
    pub within_window: u32,
}

impl BidIndex {
    /// The bids of account `i`.
    pub fn of(&self, i: usize) -> &[Bid] {
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&s), Some(&e)) => &self.bids[s as usize..e as usize],
            _ => &[],
        }
    }

    /// Accounts with at least one bid.
    pub fn bidders(&self) -> u64 {
        self.offsets.windows(2).filter(|w| w[1] > w[0]).count() as u64
    }

    /// Jobs both accounts bid on, ascending by job index.
    pub fn shared_jobs(&self, a: usize, b: usize) -> Vec<u32> {
        let mut out = Vec::new();
        self.walk(a, b, |job, _, _| out.push(job));
        out
    }

    /// How many jobs both bid on, and on how many within `window` seconds of each other.
    pub fn co_bids(&self, a: usize, b: usize, window: i64) -> CoBids {
        let mut c = CoBids::default();
        self.walk(a, b, |_, xa, xb| {
            c.jobs += 1;
            let close = xa.iter().any(|x| {
                xb.iter().any(|y| {
                    x.at != i64::MIN && y.at != i64::MIN && x.at.abs_diff(y.at) <= window as u64
                })
            });
            c.within_window += close as u32;
        });
        c
    }

    /// Calls `f(job, bids of a on it, bids of b on it)` for every job both accounts bid on (a merge of the
    /// two sorted lists).
    fn walk(&self, a: usize, b: usize, mut f: impl FnMut(u32, &[Bid], &[Bid])) {
        let (xa, xb) = (self.of(a), self.of(b));
        let (mut i, mut j) = (0, 0);
        while i < xa.len() && j < xb.len() {
            let (ja, jb) = (xa[i].job, xb[j].job);
            if ja < jb {
                i += 1;
            } else if jb < ja {
                j += 1;
            } else {
                let ei = i + xa[i..].iter().take_while(|x| x.job == ja).count();
                let ej = j + xb[j..].iter().take_while(|x| x.job == ja).count();
                f(ja, &xa[i..ei], &xb[j..ej]);
                (i, j) = (ei, ej);
            }
        }
    }
}

/// Why a bid row cannot be used, or `Ok((account, job, time))`.
fn parse_row<'r>(
    rec: &'r csv::StringRecord,
    cols: &[usize; 3],
    amount: Option<usize>,
) -> std::result::Result<(&'r str, &'r str, i64), String> {
    let get = |i: usize| rec.get(i).map(str::trim);
    let (Some(acc), Some(job), Some(at)) = (get(cols[0]), get(cols[1]), get(cols[2])) else {
        return Err(format!(
            "expected at least {} fields",
            cols.iter().max().unwrap_or(&0) + 1
        ));
    };
    if acc.is_empty() {
        return Err("account_id is empty".into());
    }
    if job.is_empty() {
        return Err("job_id is empty".into());
    }
    let time = if at.is_empty() {
        i64::MIN
    } else {
        crate::normalize::parse_datetime(at)
            .ok_or_else(|| format!("created_at {at:?} is not a date-time"))?
    };
    if let Some(v) = amount.and_then(get).filter(|v| !v.is_empty())
        && v.parse::<f64>().map_or(true, |x| !x.is_finite())
    {
        return Err(format!("amount {v:?} is not a number"));
    }
    Ok((acc, job, time))
}

/// Reads the bids file. Rows naming an account that is not in the export are counted and ignored;
/// malformed rows (missing account or job, a time or amount that does not parse) are quarantined.
pub fn load(path: &Path, acc: &Accounts) -> Result<BidIndex> {
    let index_of = acc.id_index();
    let (mut rdr, names) = crate::load::open_table(path)?;
    let find = |c: &str| crate::load::require_column(path, &names, c);
    let cols = [find("account_id")?, find("job_id")?, find("created_at")?];
    let amount = crate::load::column_index(&names, "amount");
    let mut out = BidIndex::default();
    // Job number by the job id's hash, the id itself compared (`out.jobs`): several bids a job.
    let mut job_of: HashMap<
        u64,
        Vec<u32>,
        std::hash::BuildHasherDefault<crate::record::IdentityHasher>,
    > = HashMap::default();
    let mut rows: Vec<(u32, Bid)> = Vec::new();
    // Parsed and their accounts found a chunk at a time in parallel; the jobs numbered in file order.
    // (The job id is read from the record again where it is numbered, not copied for every bid.)
    let parse = |rec: &csv::StringRecord| {
        parse_row(rec, &cols, amount).map(|(a, _, at)| (index_of.get(a), at))
    };
    let mut lines = crate::load::SideLines::new(path);
    crate::load::read_chunks_par(path, &mut rdr, parse, |rec, p| {
        out.rows += 1;
        let p = p.map(|(i, at)| (i, rec.get(cols[1]).map_or("", str::trim), at));
        match p {
            Err(reason) => out.quarantined.push(Quarantined {
                line: lines.line(rec.position()),
                reason: format!("bids file: {reason}"),
                raw: rec.iter().collect::<Vec<_>>().join(","),
            }),
            Ok((None, _, _)) => out.unknown_accounts += 1,
            Ok((Some(i), id, at)) => {
                let same = job_of
                    .entry(xxhash_rust::xxh3::xxh3_64(id.as_bytes()))
                    .or_default();
                let job = match same.iter().find(|&&j| out.jobs[j as usize] == id) {
                    Some(&j) => j,
                    None => {
                        let j = out.jobs.len() as u32;
                        same.push(j);
                        out.jobs.push(id.to_string());
                        j
                    }
                };
                rows.push((i, Bid { job, at }));
                out.used += 1;
            }
        }
    })?;
    rows.par_sort_unstable();
    let mut offsets = vec![0u32; acc.len() + 1];
    for (i, _) in &rows {
        offsets[*i as usize + 1] += 1;
    }
    for k in 1..offsets.len() {
        offsets[k] += offsets[k - 1];
    }
    out.offsets = offsets;
    out.bids = rows.into_iter().map(|(_, b)| b).collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::col;

    fn accounts(n: usize) -> Accounts {
        let rows: Vec<Vec<(usize, &str)>> = (0..n).map(|_| vec![(col::FULL_NAME, "x")]).collect();
        crate::normalize::test_accounts(&rows)
    }

    fn index(csv: &str, n: usize) -> BidIndex {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bids.csv");
        std::fs::write(&p, csv).unwrap();
        load(&p, &accounts(n)).unwrap()
    }

    #[test]
    fn reads_counts_and_quarantines() {
        let b = index(
            "account_id,job_id,created_at,amount\n\
             a0,j1,2026-01-01T10:00:00Z,100\n\
             a1,j1,2026-01-01T10:04:00Z,\n\
             a1,j2,2026-01-02T10:00:00Z,90\n\
             a0,j2,2026-01-02T12:00:00Z,95\n\
             zz,j1,2026-01-01T10:00:00Z,1\n\
             a0,,2026-01-01T10:00:00Z,1\n\
             a1,j3,yesterday,1\n\
             a1,j4,,cheap\n\
             a0,j5,,\n",
            2,
        );
        assert_eq!((b.rows, b.used, b.unknown_accounts), (9, 5, 1));
        let lines: Vec<u64> = b.quarantined.iter().map(|q| q.line).collect();
        assert_eq!(lines, vec![7, 8, 9]);
        assert!(
            b.quarantined[1].reason.contains("created_at"),
            "{:?}",
            b.quarantined
        );
        assert_eq!(b.jobs, vec!["j1", "j2", "j5"]);
        assert_eq!(b.shared_jobs(0, 1), vec![0, 1]);
        // j1: 4 minutes apart; j2: two hours apart.
        assert_eq!(
            b.co_bids(0, 1, 600),
            CoBids {
                jobs: 2,
                within_window: 1
            }
        );
        assert_eq!(
            b.co_bids(1, 0, 3 * 3600),
            CoBids {
                jobs: 2,
                within_window: 2
            }
        );
        assert_eq!(b.co_bids(0, 0, 600).jobs, 3);
    }

    #[test]
    fn missing_column_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bids.csv");
        std::fs::write(&p, "account_id,job\na0,j1\n").unwrap();
        let e = load(&p, &accounts(1)).unwrap_err().to_string();
        assert!(e.contains("job_id"), "{e}");
    }
}

//! The generator's bids file: every active freelancer bids on jobs of skewed popularity (a few jobs draw
//! hundreds of bids, most a handful, as on any marketplace), over a day or two after the job is posted; some
//! people with duplicate freelancer accounts bid on one job with two of them, minutes apart. Written in time
//! order, with its own random stream so that the accounts do not depend on it.

use std::io::Write;
use std::path::Path;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};

/// Jobs posted between these instants (2025-01-01 and 2026-10-01, UTC).
const POSTED_FROM: i64 = 1_735_689_600;
const POSTED_TO: i64 = 1_790_812_800;

/// A job index of skewed popularity: the top 1% of jobs draw about a sixth of all bids.
fn popular_job(rng: &mut ChaCha8Rng, jobs: usize) -> usize {
    let x: f64 = rng.random();
    ((x.powf(2.5) * jobs as f64) as usize).min(jobs - 1)
}

/// Seconds after posting at which a bid comes: most within a day, some days later.
fn delay(rng: &mut ChaCha8Rng) -> i64 {
    let x: f64 = rng.random::<f64>().max(1e-12);
    (-x.ln() * 86_400.0) as i64
}

/// Writes `bids.csv`; returns the number of bids.
pub fn write(
    path: &Path,
    seed: u64,
    per_freelancer: f64,
    bidders: &[String],
    self_bidders: &[Vec<String>],
) -> Result<u64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xb1d5_0000_0000_b1d5);
    let jobs = (bidders.len() / 10).max(50);
    let posted: Vec<i64> = (0..jobs)
        .map(|_| rng.random_range(POSTED_FROM..POSTED_TO))
        .collect();
    let mut rows: Vec<(i64, &str, usize, u32)> = Vec::new();
    for id in bidders {
        // Bids per account: geometric around the profile's mean.
        let p = 1.0 / (1.0 + per_freelancer);
        let mut n = 0;
        while !rng.random_bool(p) && n < 200 {
            n += 1;
        }
        for _ in 0..n {
            let j = popular_job(&mut rng, jobs);
            rows.push((
                posted[j] + delay(&mut rng),
                id,
                j,
                rng.random_range(20..2000),
            ));
        }
    }
    for group in self_bidders {
        for _ in 0..rng.random_range(1..=5u8) {
            let j = popular_job(&mut rng, jobs);
            let mut t = posted[j] + delay(&mut rng);
            for id in group.iter().take(rng.random_range(2..=group.len().max(2))) {
                rows.push((t, id, j, rng.random_range(20..2000)));
                // The next account's bid a few minutes later (now and then after a longer pause).
                let longest = if rng.random_bool(0.8) { 600 } else { 3600 };
                t += rng.random_range(60..longest);
            }
        }
    }
    rows.sort_unstable();
    let file = std::fs::File::create(path).map_err(|e| Error::write(path, e))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let io = |e| Error::write(path, e);
    writeln!(w, "account_id,job_id,created_at,amount").map_err(io)?;
    for (t, id, j, amount) in &rows {
        writeln!(
            w,
            "{id},job{j:07},{},{amount}",
            crate::normalize::format_datetime(*t)
        )
        .map_err(io)?;
    }
    w.flush().map_err(io)?;
    Ok(rows.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_round_trip_through_the_reader() {
        for t in [0, 86_399, 951_782_400, POSTED_FROM, POSTED_TO + 12_345] {
            assert_eq!(
                crate::normalize::parse_datetime(&crate::normalize::format_datetime(t)),
                Some(t),
                "{}",
                crate::normalize::format_datetime(t)
            );
        }
        assert_eq!(
            crate::normalize::format_datetime(951_782_400),
            "2000-02-29T00:00:00Z"
        );
    }
}

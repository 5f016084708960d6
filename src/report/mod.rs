//! Writers of the review files: `clusters.csv`, `pairs.csv`, `quarantine.csv`, `summary.json` (and the
//! policy's `review_queue.csv`). Each file is written to a temporary file in the output directory and renamed
//! into place, so a killed run never leaves half a file; every text cell goes through the CSV-injection guard;
//! the only place where account indices become account ids again.

pub mod files;
pub mod html;
pub mod redact;
pub mod safe;

use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `path` atomically: the content goes to a temporary file in the same directory, is flushed and
/// synced, then renamed over `path`.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".sybilscan-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::write(path, e))?;
    {
        let mut w = BufWriter::with_capacity(1 << 20, tmp.as_file());
        fill(&mut w).map_err(|e| Error::write(path, e))?;
        w.flush().map_err(|e| Error::write(path, e))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::write(path, e))?;
    tmp.persist(path).map_err(|e| Error::write(path, e.error))?;
    Ok(())
}

/// A CSV writer over any `Write`, with `\n` line ends.
pub fn csv_writer(w: &mut dyn Write) -> csv::Writer<&mut dyn Write> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(w)
}

/// Writes a CSV header line.
pub fn write_header(w: &mut dyn Write, header: &[&str]) -> std::io::Result<()> {
    let mut c = csv_writer(w);
    c.write_record(header).map_err(io_err)?;
    c.flush()
}

/// Writes the rows `rows` makes of each item, in item order. The rows of a batch of items (evidence text,
/// number formatting, CSV quoting) are built by all workers at once, each piece of items into its own
/// buffer, and the buffers are written one after the other: the same bytes whatever the thread count, and
/// at most one batch held in memory.
pub fn write_rows_par<T: Sync>(
    w: &mut dyn Write,
    items: &[T],
    rows: impl Fn(&mut csv::Writer<Vec<u8>>, &T) -> csv::Result<()> + Sync,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    const BATCH: usize = 64 * 1024;
    const PIECE: usize = 256;
    for batch in items.chunks(BATCH) {
        let bufs: Vec<Vec<u8>> = batch
            .par_chunks(PIECE)
            .map(|piece| {
                let mut c = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::Any(b'\n'))
                    .from_writer(Vec::new());
                for t in piece {
                    rows(&mut c, t).map_err(io_err)?;
                }
                c.into_inner()
                    .map_err(|e| std::io::Error::other(e.to_string()))
            })
            .collect::<std::io::Result<_>>()?;
        for b in &bufs {
            w.write_all(b)?;
        }
    }
    Ok(())
}

/// Turns a csv error into an io error for `write_atomic`.
pub fn io_err(e: csv::Error) -> std::io::Error {
    std::io::Error::other(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        write_atomic(&p, |w| w.write_all(b"one\n")).unwrap();
        write_atomic(&p, |w| w.write_all(b"two\n")).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two\n");
        let failed = write_atomic(&p, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("killed"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}

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
    write_atomic_pending(path, fill)?.finish()
}

/// A file whose content is written to its temporary file, being synced and renamed into place on a thread
/// of its own: a sync takes tens of milliseconds per file (seconds at ten million accounts) of waiting for
/// the disk, during which the worker that wrote the file can write the next one. `finish` waits for it; a
/// file never finished is never renamed into place.
#[must_use = "the file is in place only once `finish` returns"]
pub struct Pending {
    path: std::path::PathBuf,
    /// `None`: settled before `write_atomic_pending` returned.
    done: Option<std::thread::JoinHandle<Result<()>>>,
}

impl Pending {
    /// Waits until the file is synced and renamed into place.
    pub fn finish(self) -> Result<()> {
        match self.done {
            Some(handle) => handle.join().unwrap_or_else(|_| {
                Err(Error::write(
                    &self.path,
                    std::io::Error::other("syncing the file panicked"),
                ))
            }),
            None => Ok(()),
        }
    }
}

/// `write_atomic`, with the sync and rename left running (`Pending`). Where no thread can be started, they
/// run here before it returns.
pub fn write_atomic_pending(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<Pending> {
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
    let target = path.to_path_buf();
    let settle = move || -> Result<()> {
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::write(&target, e))?;
        tmp.persist(&target)
            .map_err(|e| Error::write(&target, e.error))?;
        Ok(())
    };
    let settle = std::sync::Arc::new(std::sync::Mutex::new(Some(settle)));
    // The closure sits behind a lock so that, should no thread start, it can be taken back and run here.
    let run = {
        let settle = std::sync::Arc::clone(&settle);
        move || {
            let f = settle.lock().ok().and_then(|mut s| s.take());
            f.map_or(Ok(()), |f| f())
        }
    };
    let done = match std::thread::Builder::new()
        .name("sybilscan-sync".into())
        .spawn(run)
    {
        Ok(handle) => Some(handle),
        Err(_) => {
            // No thread to be had (the closure it would have run is dropped unrun): settle the file here.
            let inline = settle.lock().ok().and_then(|mut s| s.take());
            inline.map_or(Ok(()), |f| f())?;
            None
        }
    };
    Ok(Pending {
        path: path.to_path_buf(),
        done,
    })
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

    /// Files left syncing side by side are each in place, whole, once finished; a failed fill leaves nothing.
    #[test]
    fn pending_writes_are_whole_files_once_finished() {
        let dir = tempfile::tempdir().unwrap();
        let body = |k: usize| format!("{k}\n").repeat(50_000 + k);
        let pending: Vec<Pending> = (0..4)
            .map(|k| {
                write_atomic_pending(&dir.path().join(format!("f{k}.csv")), |w| {
                    w.write_all(body(k).as_bytes())
                })
                .unwrap()
            })
            .collect();
        for p in pending {
            p.finish().unwrap();
        }
        for k in 0..4 {
            let got = std::fs::read_to_string(dir.path().join(format!("f{k}.csv"))).unwrap();
            assert_eq!(got, body(k));
        }
        let failed = write_atomic_pending(&dir.path().join("f9.csv"), |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("killed"))
        });
        assert!(failed.is_err());
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["f0.csv", "f1.csv", "f2.csv", "f3.csv"]);
    }
}

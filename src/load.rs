//! The only reader of input files. CSV goes through the `csv` crate, which knows each record's line, so a
//! bad row is quarantined with its line number and the run goes on; Parquet goes through polars. Both give
//! the same thing: chunks of raw records plus a `Layout` that picks the contract's columns out of a record
//! (checking UTF-8, so that check can run in parallel with the next read). Column names are mapped through
//! the config.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::{DataType, ParquetReader, SerReader};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::record::COLUMNS;

/// One input row: its line (CSV; 1-based, the header is line 1) or row number (Parquet; 1-based, data
/// rows), and either its fields in contract order or why it cannot be used.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: u64,
    pub content: Content,
}

impl Row {
    /// The row as one line of CSV, for the quarantine file.
    pub fn raw(&self) -> String {
        match &self.content {
            Content::Record(rec) => raw_line(rec),
            Content::Quarantined { raw, .. } => raw.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Content {
    /// The record as read; `Layout::fields` picks the contract's columns out of it.
    Record(csv::ByteRecord),
    Quarantined {
        reason: String,
        raw: String,
    },
}

/// Bytes known to be ASCII, as text.
fn ascii_str(bytes: &[u8]) -> &str {
    debug_assert!(bytes.is_ascii());
    // SAFETY: every ASCII byte sequence is valid UTF-8; callers pass slices of a record checked to be
    // all ASCII (`ByteRecord::as_slice` holds every field's bytes).
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

/// Where each contract column sits in a record.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    map: [Option<usize>; crate::record::COLUMN_COUNT],
    extra: Vec<ExtraColumn>,
}

impl Layout {
    /// The contract fields of a record (absent columns are empty), or why the record is unusable.
    pub fn fields<'r>(
        &self,
        rec: &'r csv::ByteRecord,
    ) -> Result<crate::record::Fields<'r>, String> {
        let mut out = [""; crate::record::COLUMN_COUNT];
        // Most records are ASCII throughout: one check of the whole record then settles every field
        // (ASCII is UTF-8), instead of one validation per field.
        let ascii = rec.as_slice().is_ascii();
        for (i, slot) in self.map.iter().enumerate() {
            if let Some(j) = slot {
                let bytes = rec.get(*j).unwrap_or(b"");
                out[i] = if ascii {
                    ascii_str(bytes)
                } else {
                    std::str::from_utf8(bytes)
                        .map_err(|_| format!("invalid UTF-8 in column `{}`", COLUMNS[i]))?
                };
            }
        }
        Ok(out)
    }

    /// One contract field of a record (empty when the column is absent or not UTF-8: `fields` says why).
    pub fn field<'r>(&self, rec: &'r csv::ByteRecord, i: usize) -> &'r str {
        self.map[i]
            .and_then(|j| rec.get(j))
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    /// The non-empty values of the `[columns.extra]` columns of a record, with their column.
    pub fn extras<'r, 'l>(&'l self, rec: &'r csv::ByteRecord) -> Vec<(&'l ExtraColumn, &'r str)> {
        self.extra
            .iter()
            .filter_map(|x| {
                let v = std::str::from_utf8(rec.get(x.index)?).ok()?.trim();
                (!v.is_empty()).then_some((x, v))
            })
            .collect()
    }
}

/// A column that `[columns.extra]` maps to a kind of signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraColumn {
    pub name: String,
    /// Its index in the file.
    pub index: usize,
    pub kind: ExtraKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraKind {
    /// Another unique identifier of a person (a tax id): compared with the id documents, never equal to
    /// another column's values.
    Identifier,
    Payment,
    Device,
    Phone,
    Email,
}

impl ExtraKind {
    fn parse(s: &str) -> Option<ExtraKind> {
        Some(match s {
            "identifier" => ExtraKind::Identifier,
            "payment" => ExtraKind::Payment,
            "device" => ExtraKind::Device,
            "phone" => ExtraKind::Phone,
            "email" => ExtraKind::Email,
            _ => return None,
        })
    }
}

/// What the input's header said.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Header {
    /// Contract columns not present in the file (they are treated as empty).
    pub missing_optional: Vec<String>,
    /// Columns of the file that the contract does not use.
    pub ignored: Vec<String>,
    /// How the format of each date column was settled (configured, ISO, detected, or ambiguous).
    pub date_formats: std::collections::BTreeMap<&'static str, crate::normalize::rules::DateReport>,
}

enum Kind {
    /// The reader, and the byte where the rows start (after the header).
    Csv(csv::Reader<File>, u64),
    Parquet {
        columns: Vec<Option<Vec<Option<String>>>>,
        next: usize,
        height: usize,
    },
    Empty,
}

/// An open input, read chunk by chunk.
pub struct Source {
    path: PathBuf,
    kind: Kind,
    /// For each contract column, its index in the file.
    map: [Option<usize>; crate::record::COLUMN_COUNT],
    extra: Vec<ExtraColumn>,
    width: usize,
    pub header: Header,
}

/// Where each contract column and each extra column is in the file.
type Resolved = (
    [Option<usize>; crate::record::COLUMN_COUNT],
    Vec<ExtraColumn>,
    Header,
);

fn resolve(path: &Path, names: &[String], cfg: &Config) -> Result<Resolved> {
    let mut map = [None; crate::record::COLUMN_COUNT];
    let mut header = Header::default();
    let mut extra = Vec::new();
    for (name, kind) in &cfg.columns.extra {
        match (names.iter().position(|n| n == name), ExtraKind::parse(kind)) {
            (Some(index), Some(kind)) => extra.push(ExtraColumn {
                name: name.clone(),
                index,
                kind,
            }),
            _ => header.missing_optional.push(format!("extra:{name}")),
        }
    }
    for (i, contract) in COLUMNS.iter().enumerate() {
        let want = cfg.source_column(contract);
        map[i] = names.iter().position(|n| n == want);
        if map[i].is_none() {
            if i == 0 {
                return Err(Error::MissingColumn {
                    path: path.to_path_buf(),
                    column: want.to_string(),
                    found: if names.is_empty() {
                        "(none)".into()
                    } else {
                        names.join(", ")
                    },
                });
            }
            header.missing_optional.push(contract.to_string());
        }
    }
    for (j, n) in names.iter().enumerate() {
        if !map.contains(&Some(j)) && !extra.iter().any(|x| x.index == j) {
            header.ignored.push(n.clone());
        }
    }
    Ok((map, extra, header))
}

/// Opens a side table (reviews, truth, clusters): a flexible CSV reader and its header names, trimmed.
pub fn open_table(path: &Path) -> Result<(csv::Reader<File>, Vec<String>)> {
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(f);
    let names = r
        .headers()
        .map_err(|e| Error::Csv {
            path: path.to_path_buf(),
            line: 1,
            message: e.to_string(),
        })?
        .iter()
        .map(|s| s.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    Ok((r, names))
}

/// The index of a required column of a side table, or an error naming the columns found.
/// Reads a side file's records in file order, a chunk at a time into buffers used again for every chunk;
/// `map` works on each chunk's records in parallel (parsing them and finding their accounts in the id index
/// are reads met at random: all workers wait on them at once), then `take` sees each record with what
/// `map` made of it, in file order. The first unreadable record is the error.
pub fn read_chunks_par<T: Send>(
    path: &Path,
    rdr: &mut csv::Reader<File>,
    map: impl Fn(&csv::StringRecord) -> T + Sync,
    mut take: impl FnMut(&csv::StringRecord, T),
) -> Result<()> {
    use rayon::prelude::*;
    const CHUNK: usize = 64 * 1024;
    let mut buf = vec![csv::StringRecord::new(); CHUNK];
    loop {
        let mut n = 0;
        while n < CHUNK
            && rdr
                .read_record(&mut buf[n])
                .map_err(|e| Error::csv(path, &e))?
        {
            n += 1;
        }
        let chunk = &buf[..n];
        let made: Vec<T> = chunk.par_iter().map(&map).collect();
        for (rec, t) in chunk.iter().zip(made) {
            take(rec, t);
        }
        if n < CHUNK {
            return Ok(());
        }
    }
}

pub fn require_column(path: &Path, names: &[String], want: &str) -> Result<usize> {
    names
        .iter()
        .position(|n| n == want)
        .ok_or_else(|| Error::MissingColumn {
            path: path.to_path_buf(),
            column: want.into(),
            found: names.join(", "),
        })
}

/// Renders a raw CSV record back into one line of CSV, for the quarantine file.
pub fn raw_line(rec: &csv::ByteRecord) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(vec![]);
    let _ = w.write_byte_record(rec);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .trim_end_matches('\n')
        .to_string()
}

impl Source {
    pub fn open(path: &Path, cfg: &Config) -> Result<Source> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "parquet" | "pq" => Self::open_parquet(path, cfg),
            "csv" | "txt" | "tsv" | "" => Self::open_csv(path, cfg),
            _ => Err(Error::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }

    fn open_csv(path: &Path, cfg: &Config) -> Result<Source> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let empty = file.metadata().map(|m| m.len() == 0).unwrap_or(false);
        let tsv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
        let delimiter = match &cfg.input.delimiter {
            Some(d) => d.as_bytes().first().copied().unwrap_or(b','),
            None if tsv => b'\t',
            None => b',',
        };
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .delimiter(delimiter)
            .from_reader(file);
        let head = rdr.byte_headers().map_err(|e| Error::Csv {
            path: path.to_path_buf(),
            line: 1,
            message: e.to_string(),
        })?;
        if empty || head.is_empty() {
            return Ok(Source {
                path: path.to_path_buf(),
                kind: Kind::Empty,
                map: [None; crate::record::COLUMN_COUNT],
                extra: vec![],
                width: 0,
                header: Header::default(),
            });
        }
        let mut names = Vec::with_capacity(head.len());
        for (i, f) in head.iter().enumerate() {
            let s = std::str::from_utf8(f).map_err(|_| Error::BadHeader {
                path: path.to_path_buf(),
                line: 1,
                message: format!("column {} is not valid UTF-8", i + 1),
            })?;
            names.push(s.trim().trim_start_matches('\u{feff}').to_string());
        }
        let width = names.len();
        let data_start = rdr.position().byte();
        let (map, extra, header) = resolve(path, &names, cfg)?;
        Ok(Source {
            path: path.to_path_buf(),
            kind: Kind::Csv(rdr, data_start),
            map,
            extra,
            width,
            header,
        })
    }

    fn open_parquet(path: &Path, cfg: &Config) -> Result<Source> {
        let perr = |e: polars::error::PolarsError| Error::Parquet {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let df = ParquetReader::new(file).finish().map_err(perr)?;
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (map, extra, header) = resolve(path, &names, cfg)?;
        let height = df.height();
        let mut columns = Vec::with_capacity(names.len());
        for name in &names {
            let col = df.column(name).map_err(perr)?;
            let s = col.cast(&DataType::String).map_err(|e| Error::BadColumn {
                path: path.to_path_buf(),
                column: name.clone(),
                message: format!("cannot be read as text: {e}"),
            })?;
            let ca = s.str().map_err(perr)?;
            columns.push(Some(ca.iter().map(|v| v.map(str::to_string)).collect()));
        }
        Ok(Source {
            path: path.to_path_buf(),
            kind: Kind::Parquet {
                columns,
                next: 0,
                height,
            },
            map,
            extra,
            width: names.len(),
            header,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many rows the whole input holds, estimated after `rows_read` rows were read: the Parquet file's
    /// height, or the CSV file's size over the bytes those rows took. `None` before any row.
    pub fn estimated_rows(&self, rows_read: u64) -> Option<u64> {
        match &self.kind {
            Kind::Parquet { height, .. } => Some(*height as u64),
            Kind::Csv(rdr, start) => {
                let read = rdr.position().byte().saturating_sub(*start);
                let total = std::fs::metadata(&self.path)
                    .ok()?
                    .len()
                    .saturating_sub(*start);
                (rows_read > 0 && read > 0)
                    .then(|| (total as f64 / read as f64 * rows_read as f64).ceil() as u64)
            }
            Kind::Empty => None,
        }
    }

    pub fn layout(&self) -> Layout {
        Layout {
            map: self.map,
            extra: self.extra.clone(),
        }
    }

    /// Reads up to `max` rows; an empty vector means the input is exhausted.
    pub fn next_chunk(&mut self, max: usize) -> Result<Vec<Row>> {
        self.refill(Vec::new(), max)
    }

    /// The next chunk of at most `max` rows, read into the records of `done`, a chunk the caller has
    /// finished with: once warm, reading allocates nothing per row (each record keeps its buffers), where
    /// a fresh record per row cost an allocation, a copy and page faults on memory new to the thread.
    pub fn refill(&mut self, mut done: Vec<Row>, max: usize) -> Result<Vec<Row>> {
        let mut spare: Vec<csv::ByteRecord> = done
            .drain(..)
            .filter_map(|r| match r.content {
                Content::Record(rec) => Some(rec),
                Content::Quarantined { .. } => None,
            })
            .collect();
        let mut out = done;
        out.reserve(max.min(1 << 16));
        match &mut self.kind {
            Kind::Empty => {}
            Kind::Csv(rdr, _) => {
                while out.len() < max {
                    let mut rec = spare.pop().unwrap_or_default();
                    let more = rdr.read_byte_record(&mut rec).map_err(|e| Error::Csv {
                        path: self.path.clone(),
                        line: e.position().map(|p| p.line()).unwrap_or(0),
                        message: e.to_string(),
                    })?;
                    if !more {
                        break;
                    }
                    let line = rec.position().map(|p| p.line()).unwrap_or(0);
                    // A blank line inside the file is no row at all; csv skips those itself.
                    if rec.len() != self.width {
                        out.push(Row {
                            line,
                            content: Content::Quarantined {
                                reason: format!(
                                    "malformed CSV row: expected {} fields, found {}",
                                    self.width,
                                    rec.len()
                                ),
                                raw: raw_line(&rec),
                            },
                        });
                        spare.push(rec);
                        continue;
                    }
                    out.push(Row {
                        line,
                        content: Content::Record(rec),
                    });
                }
            }
            Kind::Parquet {
                columns,
                next,
                height,
            } => {
                while out.len() < max && *next < *height {
                    let r = *next;
                    *next += 1;
                    let mut rec = spare.pop().unwrap_or_default();
                    rec.clear();
                    for col in columns.iter() {
                        rec.push_field(
                            col.as_ref()
                                .and_then(|c| c[r].as_deref())
                                .unwrap_or("")
                                .as_bytes(),
                        );
                    }
                    out.push(Row {
                        line: r as u64 + 1,
                        content: Content::Record(rec),
                    });
                }
            }
        }
        Ok(out)
    }
}

/// Account ids seen so far, by the xxh3 hash of the id: where each first occurred (its line and account
/// index). An open-addressing table with linear probing (the hashes are uniform already: their low bits pick
/// the slot), kept at most three-quarters full, in one allocation that asks for huge pages: at ten million
/// accounts it is hundreds of MB met at random, one probe per row. Two different ids with one hash share an
/// entry: the caller compares the texts.
#[derive(Debug, Default)]
pub struct FirstSeen {
    slots: Vec<SeenSlot>,
    len: usize,
}

/// One slot of `FirstSeen` (the flag fits in the padding: 24 bytes either way).
#[derive(Debug, Clone, Copy, Default)]
struct SeenSlot {
    hash: u64,
    line: u64,
    index: u32,
    used: bool,
}

impl FirstSeen {
    /// The first occurrence (line, account index) of an id with hash `hash`.
    pub fn get(&self, hash: u64) -> Option<(u64, u32)> {
        if self.slots.is_empty() {
            return None;
        }
        let s = self.slots[probe(&self.slots, hash)];
        s.used.then_some((s.line, s.index))
    }

    /// A hint that `hash` is looked up soon: its first slot is fetched into the cache.
    pub fn prefetch(&self, hash: u64) {
        if !self.slots.is_empty() {
            crate::record::prefetch(&self.slots[hash as usize & (self.slots.len() - 1)]);
        }
    }

    /// Records the first occurrence of an id with hash `hash`; `false` (and nothing changed) when the hash is
    /// held already.
    pub fn insert(&mut self, hash: u64, line: u64, index: u32) -> bool {
        self.reserve(1);
        let at = probe(&self.slots, hash);
        if self.slots[at].used {
            return false;
        }
        self.slots[at] = SeenSlot {
            hash,
            line,
            index,
            used: true,
        };
        self.len += 1;
        true
    }

    /// Makes room for `additional` more ids without growing.
    pub fn reserve(&mut self, additional: usize) {
        let needed = self.len + additional;
        if needed * 4 <= self.slots.len() * 3 {
            return;
        }
        let size = (needed * 4 / 3 + 1).next_power_of_two().max(1024);
        let mut slots = crate::memory::filled_advised(size, SeenSlot::default());
        for s in self.slots.iter().filter(|s| s.used) {
            let at = probe(&slots, s.hash);
            slots[at] = *s;
        }
        self.slots = slots;
    }
}

/// The slot holding `hash`, or the empty one where it would go (linear probing from its low bits). `slots`
/// is a power of two long and never full.
fn probe(slots: &[SeenSlot], hash: u64) -> usize {
    let mask = slots.len() - 1;
    let mut at = hash as usize & mask;
    while slots[at].used && slots[at].hash != hash {
        at = (at + 1) & mask;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        File::create(&p).unwrap().write_all(bytes).unwrap();
        p
    }

    /// Fields are text when the record is ASCII, valid UTF-8 elsewhere, and refused only for bad bytes in a
    /// contract column (an ignored column may hold anything).
    #[test]
    fn fields_check_utf8_of_contract_columns_only() {
        let mut layout = Layout::default();
        layout.map[crate::record::col::ACCOUNT_ID] = Some(0);
        layout.map[crate::record::col::FULL_NAME] = Some(1);
        let rec = |fields: &[&[u8]]| csv::ByteRecord::from(fields.to_vec());
        // (the record's fields, its id and name or why it is refused)
        type Case<'a> = (&'a [&'a [u8]], Result<[&'a str; 2], &'a str>);
        let cases: [Case; 4] = [
            (&[b"a1", b"Ann Lee", b"x"], Ok(["a1", "Ann Lee"])),
            (&[b"a2", "Łukasz".as_bytes(), b"x"], Ok(["a2", "Łukasz"])),
            (&[b"a3", b"Ann", b"\xff\xfe"], Ok(["a3", "Ann"])),
            (
                &[b"a4", b"Ann\xff", b"x"],
                Err("invalid UTF-8 in column `full_name`"),
            ),
        ];
        for (fields, want) in cases {
            let record = rec(fields);
            let got = layout.fields(&record).map(|f| {
                [
                    f[crate::record::col::ACCOUNT_ID],
                    f[crate::record::col::FULL_NAME],
                ]
            });
            assert_eq!(got, want.map_err(str::to_string), "{fields:?}");
        }
    }

    /// The row count estimated from the first rows' bytes is the file's, for rows of even length.
    #[test]
    fn rows_are_estimated_from_the_bytes_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("account_id,full_name\n");
        for i in 0..1000 {
            text.push_str(&format!("a{i:04},Name {i:04}\n"));
        }
        let p = write(dir.path(), "a.csv", text.as_bytes());
        let mut src = Source::open(&p, &Config::default()).unwrap();
        assert_eq!(src.estimated_rows(0), None);
        let first = src.next_chunk(100).unwrap();
        let est = src.estimated_rows(first.len() as u64).unwrap();
        assert!((1000..=1001).contains(&est), "{est}");
    }

    fn drain(src: &mut Source) -> Vec<Row> {
        let mut all = vec![];
        loop {
            let c = src.next_chunk(2).unwrap();
            if c.is_empty() {
                return all;
            }
            all.extend(c);
        }
    }

    #[test]
    fn csv_rows_and_quarantine_with_lines() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes =
            b"account_id,email,extra\na1,x@y.com,1\n\"a2\nstill a2\",z@y.com,2\nshort\n".to_vec();
        bytes.extend_from_slice(b"a4,\xff\xfe@y.com,3\na5,,\n");
        let p = write(dir.path(), "a.csv", &bytes);
        let mut src = Source::open(&p, &Config::default()).unwrap();
        assert_eq!(src.header.ignored, vec!["extra".to_string()]);
        assert!(src.header.missing_optional.contains(&"phone".to_string()));
        let rows = drain(&mut src);
        let layout = src.layout();
        let summary: Vec<(u64, bool)> = rows
            .iter()
            .map(|r| {
                (
                    r.line,
                    matches!(&r.content, Content::Record(rec) if layout.fields(rec).is_ok()),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![(2, true), (3, true), (5, false), (6, false), (7, true)]
        );
        match &rows[2].content {
            Content::Quarantined { reason, raw } => {
                assert!(reason.contains("expected 3 fields, found 1"), "{reason}");
                assert_eq!(raw, "short");
            }
            _ => unreachable!(),
        }
        match &rows[3].content {
            Content::Record(rec) => assert!(layout.fields(rec).unwrap_err().contains("`email`")),
            _ => unreachable!(),
        }
        match &rows[1].content {
            Content::Record(rec) => assert_eq!(layout.fields(rec).unwrap()[0], "a2\nstill a2"),
            _ => unreachable!(),
        }
    }

    #[test]
    fn missing_required_column_names_what_was_found() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "b.csv", b"id,email\n1,a@b.com\n");
        let err = Source::open(&p, &Config::default())
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("`account_id`") && err.contains("id, email"),
            "{err}"
        );
    }

    #[test]
    fn mapped_columns_and_empty_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "c.csv", b"user,mail\nu1,a@b.com\n");
        let mut cfg = Config::default();
        cfg.columns.map.insert("account_id".into(), "user".into());
        cfg.columns.map.insert("email".into(), "mail".into());
        let mut src = Source::open(&p, &cfg).unwrap();
        let rows = drain(&mut src);
        match &rows[0].content {
            Content::Record(rec) => {
                let f = src.layout().fields(rec).unwrap();
                assert_eq!((f[0], f[6]), ("u1", "a@b.com"));
            }
            _ => unreachable!(),
        }
        let e = write(dir.path(), "e.csv", b"");
        let mut src = Source::open(&e, &Config::default()).unwrap();
        assert!(drain(&mut src).is_empty());
    }

    #[test]
    fn first_seen_keeps_the_first_occurrence_of_each_hash() {
        let mut seen = FirstSeen::default();
        assert_eq!(seen.get(7), None);
        // Any line, 0 too, and a hash of 0.
        assert!(seen.insert(0, 0, 4));
        assert_eq!(seen.get(0), Some((0, 4)));
        assert!(!seen.insert(0, 9, 9));
        assert_eq!(std::mem::size_of::<SeenSlot>(), 24);
        let mut seen = FirstSeen::default();
        // Hashes that collide in the low bits probe on; the table grows past its first size and keeps all.
        let n = 5000u64;
        for i in 0..n {
            let h = (i << 20) | 5;
            assert!(seen.insert(h, i + 2, i as u32), "{i}");
        }
        for i in 0..n {
            assert!(
                !seen.insert((i << 20) | 5, 99, 99),
                "a second occurrence is refused"
            );
            assert_eq!(seen.get((i << 20) | 5), Some((i + 2, i as u32)));
        }
        assert_eq!(seen.get(6), None);
        assert_eq!(seen.get(n << 20 | 5), None);
        // Reserving ahead keeps what is there.
        seen.reserve(100_000);
        assert_eq!(seen.get(5), Some((2, 0)));
        assert_eq!(seen.len, n as usize);
        // Random hashes against a reference map.
        let mut reference = std::collections::HashMap::new();
        let mut x = 0x9e3779b97f4a7c15u64;
        for i in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let h = x % 30_000;
            let fresh = !reference.contains_key(&h);
            if fresh {
                reference.insert(h, (i + 1, i as u32));
            }
            assert_eq!(seen.insert(h | 1 << 40, i + 1, i as u32), fresh);
        }
        for (h, v) in reference {
            assert_eq!(seen.get(h | 1 << 40), Some(v));
        }
    }
}

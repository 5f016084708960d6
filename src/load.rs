//! The only reader of input files. CSV goes through the `csv` crate for its header and through its parser,
//! `csv_core`, for the rows, which counts lines, so a bad row is quarantined with its line number and the run
//! goes on; Parquet goes through polars. Both give the same thing: chunks of raw records, back to back in one
//! buffer per chunk (`Chunk`), plus a `Layout` that picks the contract's columns out of a record (checking
//! UTF-8, so that check can run in parallel with the next read). Column names are mapped through the config.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::{DataType, ParquetReader, SerReader};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::record::COLUMNS;

/// One input row: its line (CSV; 1-based, the header is line 1) or row number (Parquet; 1-based, data
/// rows), and either where its fields are in the chunk or why it cannot be used.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: u64,
    pub content: Content,
}

#[derive(Debug, Clone)]
pub enum Content {
    /// The record as read, in its chunk (`Chunk::record`); `Layout::fields` picks the contract's columns
    /// out of it.
    Record(Span),
    Quarantined {
        reason: String,
        raw: String,
    },
}

/// Where a record is in its chunk: its first byte, where its fields' ends start, and how many fields it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    start: usize,
    first_end: usize,
    fields: usize,
}

/// Rows read in one go, their records' fields back to back in one buffer and their fields' ends in
/// another: reading and then every pass over a chunk walk memory in order, where a `csv::ByteRecord` per row
/// was three heap blocks met apart (most of the time spent picking fields out was waiting for them). The
/// buffers are used again for the next chunk (`Source::refill`); they are kept initialized to their full
/// length (`used` and `ends_used` say how much holds this chunk), so reading never zeroes them again.
#[derive(Debug, Default)]
pub struct Chunk {
    pub rows: Vec<Row>,
    bytes: Vec<u8>,
    used: usize,
    /// Each field's end, relative to its record's first byte (as `csv_core` writes them).
    ends: Vec<usize>,
    ends_used: usize,
}

/// A record of a chunk: its fields' bytes and ends.
#[derive(Debug, Clone, Copy)]
pub struct Record<'c> {
    bytes: &'c [u8],
    ends: &'c [usize],
}

impl<'c> Record<'c> {
    /// How many fields it has.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Field `i`'s bytes.
    pub fn get(&self, i: usize) -> Option<&'c [u8]> {
        self.bytes.get(self.bounds(i)?)
    }

    /// Where field `i`'s bytes lie in `as_slice`.
    fn bounds(&self, i: usize) -> Option<std::ops::Range<usize>> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(start..end)
    }

    /// Every field's bytes, back to back.
    pub fn as_slice(&self) -> &'c [u8] {
        self.bytes
    }

    pub fn iter(&self) -> impl Iterator<Item = &'c [u8]> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

impl Chunk {
    /// How many rows it holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The record of a row read as one (not of a row quarantined while reading).
    pub fn record_of(&self, row: &Row) -> Option<Record<'_>> {
        match &row.content {
            Content::Record(span) => Some(self.record(*span)),
            Content::Quarantined { .. } => None,
        }
    }

    pub fn record(&self, span: Span) -> Record<'_> {
        let ends = &self.ends[span.first_end..span.first_end + span.fields];
        let len = ends.last().copied().unwrap_or(0);
        Record {
            bytes: &self.bytes[span.start..span.start + len],
            ends,
        }
    }

    /// The row as one line of CSV, for the quarantine file.
    pub fn raw(&self, row: &Row) -> String {
        match &row.content {
            Content::Record(span) => raw_line(self.record(*span).iter()),
            Content::Quarantined { raw, .. } => raw.clone(),
        }
    }

    /// Empties it, keeping its buffers.
    fn clear(&mut self) {
        self.rows.clear();
        self.used = 0;
        self.ends_used = 0;
    }

    /// Makes the byte buffer at least `more` bytes longer than what it holds.
    fn grow_bytes(&mut self, more: usize) {
        let want = (self.used + more).max(self.bytes.len() * 2).max(1 << 16);
        self.bytes.resize(want, 0);
    }

    fn grow_ends(&mut self, more: usize) {
        let want = (self.ends_used + more)
            .max(self.ends.len() * 2)
            .max(1 << 12);
        self.ends.resize(want, 0);
    }

    /// Appends a record of these fields, as row `line`.
    fn push_record<'f>(&mut self, line: u64, fields: impl Iterator<Item = &'f [u8]>) {
        let (start, first_end) = (self.used, self.ends_used);
        for f in fields {
            if self.bytes.len() < self.used + f.len() {
                self.grow_bytes(f.len());
            }
            if self.ends.len() == self.ends_used {
                self.grow_ends(1);
            }
            self.bytes[self.used..self.used + f.len()].copy_from_slice(f);
            self.used += f.len();
            self.ends[self.ends_used] = self.used - start;
            self.ends_used += 1;
        }
        self.rows.push(Row {
            line,
            content: Content::Record(Span {
                start,
                first_end,
                fields: self.ends_used - first_end,
            }),
        });
    }
}

/// The CSV after its header: `csv_core`'s parser, fed from a buffered file, writing records straight into a
/// chunk (`csv::Reader` reads into one `ByteRecord` at a time). Lines are counted on from the header's.
struct CsvInput {
    core: csv_core::Reader,
    input: std::io::BufReader<File>,
    /// The byte where the rows start (after the header), and the bytes consumed so far from there.
    start: u64,
    consumed: u64,
    done: bool,
    /// The field delimiter (to tell rows swallowed by an open quote: `swallowed_rows`).
    delimiter: u8,
}

impl CsvInput {
    /// Skips the line ends before the next record, counting its lines. The parser ends a record at its `\r`
    /// and reads the `\n` of a `\r\n` (and blank lines) only with the next record, so the line it was on
    /// when that began was the line before the record's own: every row of a Windows export, and every row
    /// after a blank line, was one line early in the quarantine and `source_line` (as `csv::Reader` reports
    /// positions). Skipping them first is what the parser does with them itself: blank lines end no record.
    fn skip_line_ends(&mut self) -> std::io::Result<()> {
        use std::io::BufRead;
        let mut lines = 0u64;
        loop {
            let input = self.input.fill_buf()?;
            let n = input
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            lines += input[..n].iter().filter(|&&b| b == b'\n').count() as u64;
            let more = n == input.len() && n > 0;
            self.input.consume(n);
            self.consumed += n as u64;
            if !more {
                break;
            }
        }
        self.core.set_line(self.core.line() + lines);
        Ok(())
    }

    /// Reads the next record into `chunk`: its line (that of its first byte) and where it is, or `None` at
    /// the end.
    fn read_record(&mut self, chunk: &mut Chunk) -> std::io::Result<Option<(u64, Span)>> {
        use csv_core::ReadRecordResult as R;
        use std::io::BufRead;
        if self.done {
            return Ok(None);
        }
        self.skip_line_ends()?;
        let line = self.core.line();
        let (start, first_end) = (chunk.used, chunk.ends_used);
        let (mut out, mut ends) = (0, 0);
        loop {
            let input = self.input.fill_buf()?;
            let (res, nin, nout, nend) = self.core.read_record(
                input,
                &mut chunk.bytes[start + out..],
                &mut chunk.ends[first_end + ends..],
            );
            self.input.consume(nin);
            self.consumed += nin as u64;
            out += nout;
            ends += nend;
            match res {
                R::InputEmpty => {}
                R::OutputFull => chunk.grow_bytes(out + 1024),
                R::OutputEndsFull => chunk.grow_ends(ends + 64),
                R::Record => {
                    chunk.used = start + out;
                    chunk.ends_used = first_end + ends;
                    let span = Span {
                        start,
                        first_end,
                        fields: ends,
                    };
                    return Ok(Some((line, span)));
                }
                R::End => {
                    self.done = true;
                    return Ok(None);
                }
            }
        }
    }
}

/// Where each contract column sits in a record.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    map: [Option<usize>; crate::record::COLUMN_COUNT],
    extra: Vec<ExtraColumn>,
}

impl Layout {
    /// The contract fields of a record (absent columns are empty), or why the record is unusable.
    pub fn fields<'r>(&self, rec: &Record<'r>) -> Result<crate::record::Fields<'r>, String> {
        let mut out = [""; crate::record::COLUMN_COUNT];
        let invalid = |i: usize| format!("invalid UTF-8 in column `{}`", COLUMNS[i]);
        // Nearly every record is UTF-8 throughout: one check of the whole record then settles every field
        // that starts and ends on a character boundary (a field that does not is not UTF-8 on its own),
        // instead of one validation per field.
        let Ok(text) = std::str::from_utf8(rec.as_slice()) else {
            for (i, slot) in self.map.iter().enumerate() {
                if let Some(j) = slot {
                    let bytes = rec.get(*j).unwrap_or(b"");
                    out[i] = std::str::from_utf8(bytes).map_err(|_| invalid(i))?;
                }
            }
            return Ok(out);
        };
        for (i, slot) in self.map.iter().enumerate() {
            if let Some(j) = slot {
                out[i] = match rec.bounds(*j) {
                    Some(range) => text.get(range).ok_or_else(|| invalid(i))?,
                    None => "",
                };
            }
        }
        Ok(out)
    }

    /// One contract field of a record (empty when the column is absent or not UTF-8: `fields` says why).
    pub fn field<'r>(&self, rec: &Record<'r>, i: usize) -> &'r str {
        self.map[i]
            .and_then(|j| rec.get(j))
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    /// The non-empty values of the `[columns.extra]` columns of a record, with their column.
    pub fn extras<'r, 'l>(&'l self, rec: &Record<'r>) -> Vec<(&'l ExtraColumn, &'r str)> {
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
    Csv(Box<CsvInput>),
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
        match (column_index(names, name), ExtraKind::parse(kind)) {
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
        map[i] = column_index(names, want);
        if map[i].is_none() {
            if i == 0 {
                return Err(Error::MissingColumn {
                    path: path.to_path_buf(),
                    column: want.to_string(),
                    found: found_columns(names),
                });
            }
            header.missing_optional.push(contract.to_string());
        }
    }
    for (j, n) in names.iter().enumerate() {
        if !map.contains(&Some(j)) && !extra.iter().any(|x| x.index == j) {
            header.ignored.push(n.clone());
            // A name the header holds twice: the first is read, this one only listed as ignored.
            if let Some(first) = names[..j].iter().position(|m| m == n)
                && map.contains(&Some(first))
            {
                tracing::warn!(
                    column = %n,
                    read = first + 1,
                    ignored = j + 1,
                    "the header names a column twice: the first is read, the other ignored"
                );
            }
        }
    }
    Ok((map, extra, header))
}

/// Opens a CSV file, refusing one that starts with a UTF-16 byte-order mark (Excel's "Unicode Text" export)
/// with what to do, rather than reading it as bytes that are not UTF-8. The file is returned at its start.
fn open_utf8(path: &Path) -> Result<File> {
    use std::io::{Read, Seek};
    let io = |e| Error::io(path, e);
    let mut f = File::open(path).map_err(io)?;
    let mut head = [0u8; 2];
    let n = f.read(&mut head).map_err(io)?;
    f.rewind().map_err(io)?;
    if n == 2 && matches!(head, [0xff, 0xfe] | [0xfe, 0xff]) {
        return Err(Error::BadHeader {
            path: path.to_path_buf(),
            line: 1,
            message:
                "the file is UTF-16 (a byte-order mark FF FE or FE FF, as Excel's \"Unicode Text\" \
                      writes it): save or export it as CSV UTF-8"
                    .into(),
        });
    }
    read_ahead(&f);
    Ok(f)
}

/// How much of a file one read-ahead request asks for.
const READ_AHEAD_STEP: i64 = 8 << 20;

/// Has the kernel read the file into its cache ahead of the parser, from a thread of its own: an export
/// that is not in the page cache (a nightly job's fresh copy, or one the kernel has dropped) was otherwise read
/// 128 KiB at a time by the thread that parses it, which then waited on the disk and on the kernel finding
/// fresh pages for the cache, with the parser on the run's critical path (1M default, file evicted: 10.3–10.6 s
/// against 8.8–9.3 s cached). Advice only: nothing read changes, and a failure is ignored.
#[cfg(target_os = "linux")]
fn read_ahead(file: &File) {
    use std::os::fd::AsRawFd;
    let (Ok(meta), Ok(ahead)) = (file.metadata(), file.try_clone()) else {
        return;
    };
    if !meta.is_file() {
        return;
    }
    // No further than half the memory available now: a file larger than that, read ahead whole, would push out
    // of the cache the pages the parser has yet to reach. The rest is left to the kernel's own (sequential)
    // read-ahead.
    let len = i64::try_from(meta.len().min(available_memory() / 2)).unwrap_or(i64::MAX);
    // SAFETY: posix_fadvise reads no memory of ours; the descriptor is open for as long as `file` or
    // `ahead` lives.
    unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_SEQUENTIAL) };
    let _ = std::thread::Builder::new()
        .name("read-ahead".into())
        .spawn(move || {
            let mut at = 0;
            while at < len {
                // SAFETY: as above; `ahead` is this thread's own descriptor.
                let r = unsafe {
                    libc::posix_fadvise(
                        ahead.as_raw_fd(),
                        at,
                        READ_AHEAD_STEP,
                        libc::POSIX_FADV_WILLNEED,
                    )
                };
                if r != 0 {
                    break;
                }
                at += READ_AHEAD_STEP;
            }
        });
}

/// Bytes of memory available now without swapping (`MemAvailable`: free memory and the cache the kernel can
/// drop); 0 if unknown.
#[cfg(target_os = "linux")]
fn available_memory() -> u64 {
    let Ok(info) = std::fs::read_to_string("/proc/meminfo") else {
        return 0;
    };
    info.lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|kb| kb.trim().parse::<u64>().ok())
        .map_or(0, |kb| kb.saturating_mul(1024))
}

#[cfg(not(target_os = "linux"))]
fn read_ahead(_file: &File) {}

/// The `sep=X` line Excel writes (and reads) before a CSV's header to name its delimiter.
#[derive(Debug, Clone, Copy, PartialEq)]
struct SepLine {
    delimiter: u8,
    /// Its bytes, with a byte-order mark before it and its line end.
    bytes: u64,
}

/// Reads a `sep=X` first line (after an optional UTF-8 byte-order mark; `X` one ASCII character, not a quote)
/// and leaves `file` after it; without one, `file` is rewound.
fn excel_sep_line(file: &mut File) -> std::io::Result<Option<SepLine>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut head = [0u8; 12];
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    let head = &head[..n];
    let bom = usize::from(head.starts_with(b"\xEF\xBB\xBF")) * 3;
    let line = &head[bom..];
    let sep = match line {
        [s, e, p, b'=', d, rest @ ..]
            if [s, e, p].map(u8::to_ascii_lowercase) == *b"sep"
                && d.is_ascii()
                && !matches!(d, b'"' | b'\r' | b'\n') =>
        {
            let end = match rest {
                [b'\n', ..] => Some(1),
                [b'\r', b'\n', ..] => Some(2),
                [b'\r'] | [] => None,
                [b'\r', ..] => Some(1),
                _ => None,
            };
            end.map(|e| SepLine {
                delimiter: *d,
                bytes: (bom + 5 + e) as u64,
            })
        }
        _ => None,
    };
    file.seek(SeekFrom::Start(sep.map_or(0, |s| s.bytes)))?;
    Ok(sep)
}

/// Opens a side table (reviews, truth, clusters): a flexible CSV reader and its header names, trimmed.
pub fn open_table(path: &Path) -> Result<(csv::Reader<File>, Vec<String>)> {
    let f = open_utf8(path)?;
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

/// Why a record of the wrong width is quarantined. One that runs over several lines most likely holds a
/// quote that was never closed, which takes every line after it into the one record (up to the next lone
/// quote, or the end of the file): the reason says which lines, so the rows lost with it can be found.
fn malformed_reason(line: u64, width: usize, record: Record<'_>) -> String {
    // One empty field more than the header: most likely the exporter ends every row with a delimiter.
    let trailing = record.len() == width + 1 && record.get(width).is_some_and(<[u8]>::is_empty);
    let reason = format!(
        "malformed CSV row: expected {width} fields, found {}{}",
        record.len(),
        if trailing {
            " (the last one empty: a delimiter at the end of the row?)"
        } else {
            ""
        }
    );
    match lines_after_first(&record) {
        0 => reason,
        more => {
            tracing::warn!(
                line,
                lines = more + 1,
                "a malformed row runs over several lines: a quote left open?"
            );
            format!(
                "{reason}; it runs over lines {line}-{}: a quote left open takes the lines after it into one \
             row",
                line + more
            )
        }
    }
}

/// How many lines a record runs over after its first: the line breaks inside its fields. A file that ends
/// inside an open quote ends the record with its last line's own newline, which starts no line.
fn lines_after_first(record: &Record<'_>) -> u64 {
    let bytes = record.as_slice();
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Why a record of the right width that holds whole rows is quarantined. A quote left open in one row and
/// closed by the quote that opens the same column of a later row takes the rows between into that field, and
/// the record keeps the right width: the first row's fields before the quote, the last row's after it. Read
/// as an account it would hide the rows it swallowed. A line inside a field that holds a row's worth of
/// delimiters (`width - 1`) is taken for such a row — only where that is at least 4, since a line of a
/// multi-line address holds a comma or two; a narrower file's swallowed rows cannot be told from such text.
/// `None` for every record on one line (nearly all: one search for a line break).
fn swallowed_rows(line: u64, width: usize, delimiter: u8, record: &Record<'_>) -> Option<String> {
    const MIN_DELIMITERS: usize = 4;
    let needed = width.checked_sub(1).filter(|&d| d >= MIN_DELIMITERS)?;
    if !record.as_slice().contains(&b'\n') {
        return None;
    }
    let holds_rows = |field: &[u8]| {
        field
            .split(|&b| b == b'\n')
            .any(|l| l.iter().filter(|&&b| b == delimiter).count() >= needed)
    };
    let column = record.iter().position(holds_rows)?;
    let last = line + lines_after_first(record);
    tracing::warn!(
        line,
        last,
        "a row holds whole rows in one field: a quote left open?"
    );
    Some(format!(
        "column {} holds whole rows (lines {line}-{last} were read as one): a quote left open in it \
         takes the rows after it into one field; fix the quote and run again",
        column + 1
    ))
}

/// The lines of a side table's records as an editor numbers them, from the positions `csv::Reader` gives.
/// The reader takes a record's position before the line ends it has not read yet — the `\n` of the `\r\n`
/// that ended the record before, blank lines — so after those its line is one early; the bytes there are
/// read again and their newlines counted. Opens the file on first use (only rows that are reported need
/// it). The accounts file's reader counts them itself (`CsvInput::skip_line_ends`).
pub struct SideLines<'p> {
    path: &'p Path,
    file: Option<File>,
}

impl<'p> SideLines<'p> {
    pub fn new(path: &'p Path) -> Self {
        SideLines { path, file: None }
    }

    /// The line of the record at `pos` (its position's line when the file cannot be read again).
    pub fn line(&mut self, pos: Option<&csv::Position>) -> u64 {
        let Some(pos) = pos else { return 0 };
        pos.line() + self.newlines_at(pos.byte()).unwrap_or(0)
    }

    /// The newlines in the run of line ends that starts at byte `at`.
    fn newlines_at(&mut self, at: u64) -> std::io::Result<u64> {
        use std::io::{Read, Seek, SeekFrom};
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(File::open(self.path)?),
        };
        file.seek(SeekFrom::Start(at))?;
        let (mut newlines, mut buf) = (0, [0u8; 512]);
        loop {
            let n = file.read(&mut buf)?;
            let run = buf[..n]
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            newlines += buf[..run].iter().filter(|&&b| b == b'\n').count() as u64;
            if run < n || n == 0 {
                return Ok(newlines);
            }
        }
    }
}

/// Reads a side file's records in file order, a chunk at a time into two buffers used again for every chunk
/// (the next chunk is read while this one is mapped); `map` works on each chunk's records in parallel
/// (parsing them and finding their accounts in the id index are reads met at random: all workers wait on
/// them at once), then `take` sees each record with what `map` made of it, in file order. The first
/// unreadable record is the error.
pub fn read_chunks_par<T: Send>(
    path: &Path,
    rdr: &mut csv::Reader<File>,
    map: impl Fn(&csv::StringRecord) -> T + Sync,
    mut take: impl FnMut(&csv::StringRecord, T),
) -> Result<()> {
    use rayon::prelude::*;
    const CHUNK: usize = 64 * 1024;
    // Fills `buf` with the next records; how many.
    let mut read = |buf: &mut Vec<csv::StringRecord>| -> Result<usize> {
        buf.resize(CHUNK, csv::StringRecord::new());
        let mut n = 0;
        while n < CHUNK
            && rdr
                .read_record(&mut buf[n])
                .map_err(|e| Error::csv(path, &e))?
        {
            n += 1;
        }
        Ok(n)
    };
    // Two buffers: the next chunk is read (one thread) while this one is mapped (the others).
    let (mut this, mut next) = (Vec::new(), Vec::new());
    let mut n = read(&mut this)?;
    loop {
        let more = n == CHUNK;
        let (made, read_next) = rayon::join(
            || this[..n].par_iter().map(&map).collect::<Vec<T>>(),
            || if more { read(&mut next) } else { Ok(0) },
        );
        for (rec, t) in this[..n].iter().zip(made) {
            take(rec, t);
        }
        if !more {
            return Ok(());
        }
        // The first unreadable record is the error, once the records before it are taken.
        n = read_next?;
        std::mem::swap(&mut this, &mut next);
    }
}

/// The index of a required column of a side table, or an error naming the columns found.
pub fn require_column(path: &Path, names: &[String], want: &str) -> Result<usize> {
    column_index(names, want).ok_or_else(|| Error::MissingColumn {
        path: path.to_path_buf(),
        column: want.into(),
        found: found_columns(names),
    })
}

/// Where column `want` is in a header: the column of that name, or else the one column whose name is `want`
/// but for ASCII case and spaces or hyphens for underscores (`ACCOUNT_ID` from a warehouse that upper-cases
/// names, `Full Name` from a spreadsheet). Two such columns and neither is taken: the header is ambiguous.
pub fn column_index(names: &[String], want: &str) -> Option<usize> {
    if let Some(i) = names.iter().position(|n| n == want) {
        return Some(i);
    }
    let fold = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                ' ' | '-' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect()
    };
    let want = fold(want);
    let mut alike = names.iter().enumerate().filter(|(_, n)| fold(n) == want);
    match (alike.next(), alike.next()) {
        (Some((i, _)), None) => Some(i),
        _ => None,
    }
}

/// The header's columns as a missing-column error lists them; a header that is one column holding another
/// common delimiter says so (a European spreadsheet's export is `;`-separated).
fn found_columns(names: &[String]) -> String {
    match names {
        [] => "(none)".into(),
        [one] => match [';', '\t', '|'].into_iter().find(|&d| one.contains(d)) {
            Some(d) => format!(
                "{one} (one column: the file looks {} separated; set --delimiter or input.delimiter)",
                if d == '\t' {
                    "tab".to_string()
                } else {
                    format!("'{d}'")
                }
            ),
            None => one.clone(),
        },
        _ => names.join(", "),
    }
}

/// Renders a raw CSV record's fields back into one line of CSV, for the quarantine file.
pub fn raw_line<'f>(fields: impl Iterator<Item = &'f [u8]>) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(vec![]);
    let _ = w.write_record(fields);
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
        let mut file = open_utf8(path)?;
        let empty = file.metadata().map(|m| m.len() == 0).unwrap_or(false);
        let tsv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
        // Excel's `sep=;` line names the delimiter; one set in the config still wins.
        let sep = excel_sep_line(&mut file).map_err(|e| Error::io(path, e))?;
        let (skipped, header_line) = sep.map_or((0, 1), |s| (s.bytes, 2));
        let delimiter = match (&cfg.input.delimiter, sep) {
            (Some(d), _) => d.as_bytes().first().copied().unwrap_or(b','),
            (None, Some(s)) => s.delimiter,
            (None, None) if tsv => b'\t',
            (None, None) => b',',
        };
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .delimiter(delimiter)
            .from_reader(file);
        let head = rdr.byte_headers().map_err(|e| Error::Csv {
            path: path.to_path_buf(),
            line: header_line,
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
                line: header_line,
                message: format!("column {} is not valid UTF-8", i + 1),
            })?;
            names.push(s.trim().trim_start_matches('\u{feff}').to_string());
        }
        let width = names.len();
        // The header is read by `csv::Reader` (whatever its length); the rows by the parser alone, from the
        // byte after it, counting lines on from it.
        // (The reader began after the `sep=` line, if any: its bytes and line come first.)
        let (start, line) = (
            skipped + rdr.position().byte(),
            header_line - 1 + rdr.position().line(),
        );
        let mut file = rdr.into_inner();
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(start))
            .map_err(|e| Error::io(path, e))?;
        let mut core = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        core.set_line(line);
        let (map, extra, header) = resolve(path, &names, cfg)?;
        Ok(Source {
            path: path.to_path_buf(),
            kind: Kind::Csv(Box::new(CsvInput {
                core,
                input: std::io::BufReader::with_capacity(1 << 18, file),
                start,
                consumed: 0,
                done: false,
                delimiter,
            })),
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
            Kind::Csv(csv) => {
                let read = csv.consumed;
                let total = std::fs::metadata(&self.path)
                    .ok()?
                    .len()
                    .saturating_sub(csv.start);
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

    /// Reads up to `max` rows; an empty chunk means the input is exhausted.
    pub fn next_chunk(&mut self, max: usize) -> Result<Chunk> {
        self.refill(Chunk::default(), max)
    }

    /// The next chunk of at most `max` rows, read into the buffers of `done`, a chunk the caller has
    /// finished with: once warm, reading allocates nothing per row.
    pub fn refill(&mut self, mut chunk: Chunk, max: usize) -> Result<Chunk> {
        chunk.clear();
        chunk.rows.reserve(max.min(1 << 16));
        match &mut self.kind {
            Kind::Empty => {}
            Kind::Csv(csv) => {
                while chunk.rows.len() < max {
                    let read = csv.read_record(&mut chunk).map_err(|e| Error::Csv {
                        path: self.path.clone(),
                        line: csv.core.line(),
                        message: e.to_string(),
                    })?;
                    let Some((line, span)) = read else {
                        break;
                    };
                    // A blank line inside the file is no row at all; the parser skips those itself.
                    if span.fields != self.width {
                        let record = chunk.record(span);
                        let raw = raw_line(record.iter());
                        let reason = malformed_reason(line, self.width, record);
                        // The malformed record's bytes are not kept: the next record takes its place.
                        (chunk.used, chunk.ends_used) = (span.start, span.first_end);
                        chunk.rows.push(Row {
                            line,
                            content: Content::Quarantined { reason, raw },
                        });
                        continue;
                    }
                    let record = chunk.record(span);
                    if let Some(reason) = swallowed_rows(line, self.width, csv.delimiter, &record) {
                        let raw = raw_line(record.iter());
                        (chunk.used, chunk.ends_used) = (span.start, span.first_end);
                        chunk.rows.push(Row {
                            line,
                            content: Content::Quarantined { reason, raw },
                        });
                        continue;
                    }
                    chunk.rows.push(Row {
                        line,
                        content: Content::Record(span),
                    });
                }
            }
            Kind::Parquet {
                columns,
                next,
                height,
            } => {
                while chunk.rows.len() < max && *next < *height {
                    let r = *next;
                    *next += 1;
                    let fields = columns.iter().map(|col| {
                        col.as_ref()
                            .and_then(|c| c[r].as_deref())
                            .unwrap_or("")
                            .as_bytes()
                    });
                    chunk.push_record(r as u64 + 1, fields);
                }
            }
        }
        Ok(chunk)
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

    /// Side files are read chunk after chunk, the next read while this one is mapped: every record taken once,
    /// in file order, across several chunks; an unreadable record is the error, after the chunks before its own.
    #[test]
    fn side_file_chunks_are_taken_in_order_and_a_bad_record_stops_them() {
        let dir = tempfile::tempdir().unwrap();
        let n = 150_000u32;
        let mut text = b"k\n".to_vec();
        for i in 0..n {
            text.extend_from_slice(format!("{i}\n").as_bytes());
        }
        let good = write(dir.path(), "good.csv", &text);
        let (mut rdr, _) = open_table(&good).unwrap();
        let mut seen = Vec::new();
        read_chunks_par(
            &good,
            &mut rdr,
            |r| r[0].parse::<u32>().unwrap() * 2,
            |r, doubled| seen.push((r[0].parse::<u32>().unwrap(), doubled)),
        )
        .unwrap();
        assert_eq!(seen.len(), n as usize);
        assert!(
            seen.iter()
                .enumerate()
                .all(|(i, &(v, d))| v == i as u32 && d == 2 * v)
        );
        // The 100,000th record (line 100,001) is not UTF-8: the first chunk (65,536 records) is taken, then
        // the error, which names the line.
        let bad_at = 100_000 + 1;
        let mut lines: Vec<Vec<u8>> = text.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
        lines[bad_at - 1] = b"\xff\xfe".to_vec();
        let bad = write(dir.path(), "bad.csv", &lines.join(&b'\n'));
        let (mut rdr, _) = open_table(&bad).unwrap();
        let mut taken = 0;
        let err = read_chunks_par(&bad, &mut rdr, |_| (), |_, ()| taken += 1).unwrap_err();
        assert_eq!(taken, 65_536);
        let text = err.to_string();
        assert!(
            text.contains("bad.csv") && text.contains("line 100001:"),
            "{text}"
        );
    }

    /// The share of a file's pages in the page cache (`mincore` of a mapping of it).
    #[cfg(target_os = "linux")]
    fn resident_share(path: &Path) -> f64 {
        use std::os::fd::AsRawFd;
        let f = File::open(path).unwrap();
        let len = f.metadata().unwrap().len() as usize;
        let page = 4096;
        let mut vec = vec![0u8; len.div_ceil(page)];
        // SAFETY: a read-only private mapping of a file we hold open, unmapped before returning; `vec` has
        // one byte per page of it, as mincore writes.
        unsafe {
            let map = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                f.as_raw_fd(),
                0,
            );
            assert_ne!(map, libc::MAP_FAILED);
            assert_eq!(libc::mincore(map, len, vec.as_mut_ptr()), 0);
            libc::munmap(map, len);
        }
        vec.iter().filter(|&&b| b & 1 == 1).count() as f64 / vec.len() as f64
    }

    /// The read-ahead's limit comes from /proc/meminfo (0 would turn it off).
    #[cfg(target_os = "linux")]
    #[test]
    fn available_memory_is_read() {
        assert!(available_memory() > 1 << 20);
    }

    /// Opening a CSV has the kernel read it into its cache ahead of the parser. Where the file system cannot
    /// drop a file's pages (tmpfs holds files in them), there is nothing to see and the test says so.
    #[cfg(target_os = "linux")]
    #[test]
    fn opening_a_csv_reads_it_ahead() {
        use std::os::fd::AsRawFd;
        let dir = tempfile::tempdir().unwrap();
        let line = "a,b,c,d\n".repeat(1 << 20);
        let p = write(dir.path(), "big.csv", line.as_bytes());
        let f = File::open(&p).unwrap();
        f.sync_all().unwrap();
        // SAFETY: advice on a descriptor we hold open.
        unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        drop(f);
        let before = resident_share(&p);
        if before > 0.5 {
            eprintln!(
                "the file system kept {before:.2} of the file cached: read-ahead not observable"
            );
            return;
        }
        let _open = open_utf8(&p).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while resident_share(&p) < 0.99 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let after = resident_share(&p);
        assert!(after >= 0.99, "cached before {before:.2}, after {after:.2}");
    }

    /// Fields are text when the record is ASCII, valid UTF-8 elsewhere, and refused only for bad bytes in a
    /// contract column (an ignored column may hold anything).
    #[test]
    fn fields_check_utf8_of_contract_columns_only() {
        let mut layout = Layout::default();
        layout.map[crate::record::col::ACCOUNT_ID] = Some(0);
        layout.map[crate::record::col::FULL_NAME] = Some(1);
        let rec = |fields: &[&[u8]]| {
            let mut chunk = Chunk::default();
            chunk.push_record(2, fields.iter().copied());
            chunk
        };
        // (the record's fields, its id and name or why it is refused)
        type Case<'a> = (&'a [&'a [u8]], Result<[&'a str; 2], &'a str>);
        let cases: [Case; 6] = [
            // A character split between two fields: the record is UTF-8 as a whole, neither field is.
            (
                &[b"a5", b"Ann\xc5", b"\x81x"],
                Err("invalid UTF-8 in column `full_name`"),
            ),
            (
                &[b"a6\xc5", b"\x81nn", b"x"],
                Err("invalid UTF-8 in column `account_id`"),
            ),
            (&[b"a1", b"Ann Lee", b"x"], Ok(["a1", "Ann Lee"])),
            (&[b"a2", "Łukasz".as_bytes(), b"x"], Ok(["a2", "Łukasz"])),
            (&[b"a3", b"Ann", b"\xff\xfe"], Ok(["a3", "Ann"])),
            (
                &[b"a4", b"Ann\xff", b"x"],
                Err("invalid UTF-8 in column `full_name`"),
            ),
        ];
        for (fields, want) in cases {
            let chunk = rec(fields);
            let record = chunk.record_of(&chunk.rows[0]).unwrap();
            assert_eq!(record.iter().collect::<Vec<_>>(), fields);
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

    /// What became of a row: its contract fields as read, or why it cannot be used (with its raw text).
    type Outcome = Result<Vec<String>, (String, String)>;

    /// Every row of a source, read two at a time (so records meet chunk boundaries and reused buffers).
    fn drain(src: &mut Source) -> Vec<(u64, Outcome)> {
        let layout = src.layout();
        let mut all = vec![];
        let mut chunk = src.next_chunk(2).unwrap();
        while !chunk.is_empty() {
            for row in &chunk.rows {
                let outcome = match (&row.content, chunk.record_of(row)) {
                    (Content::Quarantined { reason, raw }, _) => Err((reason.clone(), raw.clone())),
                    (_, Some(rec)) => match layout.fields(&rec) {
                        Ok(f) => Ok(f.iter().map(|s| s.to_string()).collect()),
                        Err(reason) => Err((reason, chunk.raw(row))),
                    },
                    (_, None) => unreachable!(),
                };
                all.push((row.line, outcome));
            }
            chunk = src.refill(chunk, 2).unwrap();
        }
        all
    }

    #[test]
    fn csv_rows_and_quarantine_with_lines() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes =
            b"account_id,email,extra\na1,x@y.com,1\n\"a2\nstill a2\",z@y.com,2\nshort\n".to_vec();
        bytes.extend_from_slice(b"a4,\xff\xfe@y.com,3\na5,,\n\r\na6,\"q,\"\"t\"\"\",x\r\n");
        bytes.extend_from_slice(b"a7,long,");
        bytes.extend_from_slice(&vec![b'z'; 100_000]);
        let p = write(dir.path(), "a.csv", &bytes);
        let mut src = Source::open(&p, &Config::default()).unwrap();
        assert_eq!(src.header.ignored, vec!["extra".to_string()]);
        assert!(src.header.missing_optional.contains(&"phone".to_string()));
        let rows = drain(&mut src);
        let summary: Vec<(u64, bool)> = rows.iter().map(|(l, o)| (*l, o.is_ok())).collect();
        assert_eq!(
            summary,
            vec![
                (2, true),
                (3, true),
                (5, false),
                (6, false),
                (7, true),
                // Line 8 is blank (`\r\n`): a6 is on line 9, a7 on line 10.
                (9, true),
                (10, true)
            ]
        );
        let (reason, raw) = rows[2].1.as_ref().unwrap_err();
        assert!(reason.contains("expected 3 fields, found 1"), "{reason}");
        assert_eq!(raw, "short");
        let (reason, raw) = rows[3].1.as_ref().unwrap_err();
        assert!(reason.contains("`email`"), "{reason}");
        assert!(raw.starts_with("a4,"), "{raw}");
        let email = crate::record::col::EMAIL;
        assert_eq!(rows[1].1.as_ref().unwrap()[0], "a2\nstill a2");
        assert_eq!(rows[1].1.as_ref().unwrap()[email], "z@y.com");
        assert_eq!(rows[4].1.as_ref().unwrap()[0], "a5");
        assert_eq!(rows[5].1.as_ref().unwrap()[email], "q,\"t\"");
        // A record longer than the buffers it was read into, at the end of a file without a newline.
        assert_eq!(rows[6].1.as_ref().unwrap()[email], "long");
    }

    /// The rows of a file are read alike by `csv::Reader` and by the chunked reader: same lines, same fields,
    /// whatever the chunk size and however the header ends (quoted fields with newlines, CRLF, blank lines, a
    /// byte-order mark, a missing final newline).
    #[test]
    fn chunked_reading_agrees_with_the_csv_crate() {
        let dir = tempfile::tempdir().unwrap();
        let mut rows = String::new();
        for i in 0..500u32 {
            let line = match i % 7 {
                0 => format!("a{i},\"m{i}\nline two\",{i}\n"),
                1 => format!("a{i},e{i}@x.com,\"q,\"\"{i}\"\"\"\r\n"),
                2 => format!("\na{i},,\n"),
                3 => format!("a{i},{}\n", "w".repeat(i as usize * 13)),
                4 => format!("a{i},\"\",\n"),
                _ => format!("a{i},e{i}@y.org,{i}\n"),
            };
            rows.push_str(&line);
        }
        rows.push_str("last,l@x.com,9");
        // Headers ended as files end them: LF, CRLF, CRLF and blank lines, a byte-order mark.
        let headers = [
            "account_id,email,x\n",
            "account_id,email,x\r\n",
            "account_id,email,x\r\n\r\n\n",
            "\u{feff}account_id,email,x\n",
        ];
        for (k, header) in headers.iter().enumerate() {
            let p = write(
                dir.path(),
                &format!("r{k}.csv"),
                (header.to_string() + &rows).as_bytes(),
            );
            let want = csv_crate_rows(&p);
            for max in [1, 3, 64, 10_000] {
                let got = chunked_rows(&p, max);
                assert_eq!(got, want, "header {header:?}, chunks of {max}");
            }
        }
    }

    /// Over random lines of fields, quoted fields, quotes, lone and paired carriage returns, blank lines, other
    /// widths and bytes that are not UTF-8, in a file of several read buffers (lines cross the buffers' ends),
    /// the rows are those `csv::Reader` reads, with the lines of their first bytes (`csv::Reader` reports a
    /// record after a `\r\n` or a blank line on the line before: `line_of`).
    #[test]
    fn random_lines_read_as_the_csv_crate_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut next = crate::testing::below(0x9E37_79B9_7F4A_7C15);
        const PIECES: [&[u8]; 12] = [
            b"a",
            b"bc",
            b"0123456789",
            b",",
            b",",
            b"\"",
            b"\r",
            b"\n",
            b"\r\n",
            b" ",
            b"\xc3\xa9",
            b"\xff",
        ];
        let mut bytes = b"account_id,email,x\n".to_vec();
        let mut plain = 0;
        while bytes.len() < 3 << 20 {
            if next(4) == 0 {
                // A line of random pieces.
                for _ in 0..next(40) {
                    bytes.extend_from_slice(PIECES[next(PIECES.len() as u64) as usize]);
                }
            } else {
                // A plain line, long now and then.
                plain += 1;
                let long = if next(50) == 0 { 5_000 } else { 0 };
                let w = "w".repeat(next(80) as usize + long);
                let n = next(1000);
                let line = match next(6) {
                    0 => format!("a{plain},\"{w}, {n}\",{n}"),
                    1 => format!("a{plain},{w},\"{n}\""),
                    2 => format!("\"a{plain}\"x,{w},{n}"),
                    3 => format!("a{plain},\"\",{n},"),
                    _ => format!("a{plain},{w},{n}"),
                };
                bytes.extend_from_slice(line.as_bytes());
            }
            bytes.extend_from_slice(if next(5) == 0 { b"\r\n" } else { b"\n" });
        }
        let p = write(dir.path(), "random.csv", &bytes);
        let want = csv_crate_rows(&p);
        let got = chunked_rows(&p, 4096);
        assert!(
            want.len() > 20_000 && plain > 15_000,
            "{} {plain}",
            want.len()
        );
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g, w);
        }
    }

    /// Each row of a file as the chunked reader reads it, `max` rows a chunk: its line and its fields, or
    /// (quarantined while reading) its text.
    fn chunked_rows(p: &Path, max: usize) -> Vec<(u64, Vec<String>)> {
        let mut src = Source::open(p, &Config::default()).unwrap();
        let mut got = vec![];
        let mut chunk = src.next_chunk(max).unwrap();
        while !chunk.is_empty() {
            for row in &chunk.rows {
                got.push(match chunk.record_of(row) {
                    Some(r) => (
                        row.line,
                        r.iter()
                            .map(|f| String::from_utf8_lossy(f).into())
                            .collect(),
                    ),
                    None => (row.line, vec![chunk.raw(row)]),
                });
            }
            chunk = src.refill(chunk, max).unwrap();
        }
        got
    }

    /// Each row of a three-column file as `csv::Reader` reads it: its line and its fields, or (another width,
    /// quarantined) its text.
    fn csv_crate_rows(p: &Path) -> Vec<(u64, Vec<String>)> {
        let bytes = std::fs::read(p).unwrap();
        let mut lines = Lines {
            bytes: &bytes,
            at: 0,
            newlines: 0,
        };
        let mut want = vec![];
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(p)
            .unwrap();
        let mut rec = csv::ByteRecord::new();
        while rdr.read_byte_record(&mut rec).unwrap() {
            let fields: Vec<String> = match rec.len() {
                3 => rec
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into())
                    .collect(),
                _ => vec![raw_line(rec.iter())],
            };
            want.push((lines.line_of(rec.position().unwrap().byte()), fields));
        }
        want
    }

    #[test]
    fn columns_are_found_whatever_their_case_or_separators() {
        let names = |ns: &[&str]| ns.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let cases: [(&[&str], &str, Option<usize>); 8] = [
            (&["account_id", "email"], "email", Some(1)),
            (&["ACCOUNT_ID", "EMAIL"], "account_id", Some(0)),
            (&["Account Id", "Full Name"], "full_name", Some(1)),
            (&["account-id"], "account_id", Some(0)),
            // The exact name wins over a look-alike; two look-alikes and neither is taken.
            (&["Email", "email"], "email", Some(1)),
            (&["Email", "EMAIL"], "email", None),
            (&["e_mail"], "email", None),
            (&[], "email", None),
        ];
        for (header, want, at) in cases {
            assert_eq!(column_index(&names(header), want), at, "{header:?} {want}");
        }
    }

    /// Excel's `sep=X` first line (with or without a byte-order mark, `\n` or `\r\n`) names the delimiter and
    /// is not the header: rows are read with it and keep their lines (the header is line 2). A first line that
    /// only looks like one is the header.
    #[test]
    fn an_excel_sep_line_names_the_delimiter() {
        let dir = tempfile::tempdir().unwrap();
        let body = "account_id;email;x\na1;a@x.com;1\na2;b@x.com\na3;c@x.com;3\n";
        for (k, first) in ["sep=;\n", "SEP=;\r\n", "\u{feff}sep=;\n"]
            .iter()
            .enumerate()
        {
            let p = write(
                dir.path(),
                &format!("s{k}.csv"),
                format!("{first}{body}").as_bytes(),
            );
            let got = drain(&mut Source::open(&p, &Config::default()).unwrap());
            let lines: Vec<(u64, bool)> = got.iter().map(|(l, o)| (*l, o.is_ok())).collect();
            assert_eq!(lines, [(3, true), (4, false), (5, true)], "{first:?}");
            assert_eq!(got[0].1.as_ref().unwrap()[6], "a@x.com", "{first:?}");
        }
        let cases: [(&[u8], Option<SepLine>); 6] = [
            (
                b"sep=;\nid",
                Some(SepLine {
                    delimiter: b';',
                    bytes: 6,
                }),
            ),
            (
                b"sep=\t\r\nid",
                Some(SepLine {
                    delimiter: b'\t',
                    bytes: 7,
                }),
            ),
            (
                b"\xEF\xBB\xBFsep=|\n",
                Some(SepLine {
                    delimiter: b'|',
                    bytes: 9,
                }),
            ),
            (b"sep=;;\nid", None),
            (b"sep=\"\nid", None),
            (b"separator,id\n", None),
        ];
        for (k, (head, want)) in cases.iter().enumerate() {
            let p = write(dir.path(), &format!("h{k}.csv"), head);
            let mut f = File::open(&p).unwrap();
            assert_eq!(excel_sep_line(&mut f).unwrap(), *want, "{head:?}");
            let at = std::io::Seek::stream_position(&mut f).unwrap();
            assert_eq!(at, want.map_or(0, |s| s.bytes), "{head:?}");
        }
    }

    /// A quote left open in one row and closed by the quote that opens the same column two rows later makes one
    /// record of the right width that swallowed the row between: quarantined, its reason naming the column and
    /// lines, and the rows after it read as usual. A quoted address over two lines is a row like any other;
    /// so is any multi-line field of a file too narrow to tell (fewer than 5 columns).
    #[test]
    fn rows_swallowed_by_an_open_quote_are_quarantined_even_at_the_right_width() {
        let dir = tempfile::tempdir().unwrap();
        let header = "account_id,full_name,email,phone,address,city\n";
        let rows = [
            "a1,Ann,a@x.com,551,Main St,Town\n",
            "a2,\"Anna Lee,a2@x.com,552,Main St,Town\n",
            "a3,Bob,b@x.com,553,Elm St,Shelbyville\n",
            "a4,\"Cy Dee\",c@x.com,554,Oak St,Capital\n",
            "a5,Eve,e@x.com,555,\"12 Main St, Apt 4\nFloor 2, Back\",Town\n",
            "a6,Fay,f@x.com,556,Pine St,Town\n",
        ];
        let p = write(
            dir.path(),
            "s.csv",
            format!("{header}{}", rows.concat()).as_bytes(),
        );
        let got = drain(&mut Source::open(&p, &Config::default()).unwrap());
        let summary: Vec<(u64, Result<String, String>)> = got
            .iter()
            .map(|(l, o)| match o {
                Ok(f) => (*l, Ok(f[0].clone())),
                Err((reason, _)) => (*l, Err(reason.clone())),
            })
            .collect();
        let swallowed = "column 2 holds whole rows (lines 3-5 were read as one): a quote left open in it \
                         takes the rows after it into one field; fix the quote and run again";
        assert_eq!(
            summary,
            [
                (2, Ok("a1".to_string())),
                (3, Err(swallowed.to_string())),
                (6, Ok("a5".to_string())),
                (8, Ok("a6".to_string())),
            ]
        );
        // Four columns: the same swallowed row cannot be told from a field with commas, and is read.
        let narrow = "account_id,full_name,email,phone\na1,\"Anna,a@x.com,1\na2,B,b@x.com,2\na3,\"C\",c@x.com,3\n";
        let p = write(dir.path(), "n.csv", narrow.as_bytes());
        let got = drain(&mut Source::open(&p, &Config::default()).unwrap());
        assert_eq!(got.len(), 1);
        assert!(got[0].1.is_ok(), "{got:?}");
    }

    /// A quote left open takes the lines after it into one row, up to the next lone quote or the end of the
    /// file: the row is quarantined on its first line, its reason says which lines it took (the file's last
    /// newline is the end of its last line, not another line), and the rows after it are read as usual.
    #[test]
    fn a_quote_left_open_names_the_lines_it_took() {
        let dir = tempfile::tempdir().unwrap();
        let body = "account_id,email,x\na1,e,1\na2,\"open,2\r\na3,y,3\na4,z\"\na5,w,5\na6,\"again,6\na7,v,7\n";
        let p = write(dir.path(), "q.csv", body.as_bytes());
        let rows = drain(&mut Source::open(&p, &Config::default()).unwrap());
        let lines: Vec<(u64, Option<String>)> = rows
            .iter()
            .map(|(l, o)| (*l, o.as_ref().err().map(|(reason, _)| reason.clone())))
            .collect();
        let took = |from, to| {
            Some(format!(
                "malformed CSV row: expected 3 fields, found 2; it runs over lines {from}-{to}: a quote \
                 left open takes the lines after it into one row"
            ))
        };
        assert_eq!(
            lines,
            [(2, None), (3, took(3, 5)), (6, None), (7, took(7, 8))]
        );
    }

    /// A side table read by `csv::Reader`: each record's line from `SideLines` is the line of its first
    /// byte, after `\r\n` endings, blank lines and a byte-order mark alike.
    #[test]
    fn side_table_lines_are_the_lines_of_first_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let rows = "a1,x\r\n\r\na2,\"two\r\nlines\"\r\na3,y\n\n\na4,z\r\na5,w";
        for (k, header) in ["id,v\n", "id,v\r\n", "\u{feff}id,v\r\n\r\n"]
            .iter()
            .enumerate()
        {
            let bytes = format!("{header}{rows}").into_bytes();
            let p = write(dir.path(), &format!("s{k}.csv"), &bytes);
            let (mut rdr, names) = open_table(&p).unwrap();
            assert_eq!(names, ["id", "v"]);
            let mut reference = Lines {
                bytes: &bytes,
                at: 0,
                newlines: 0,
            };
            let mut side = SideLines::new(&p);
            let (mut got, mut early) = (vec![], 0);
            for rec in rdr.records() {
                let rec = rec.unwrap();
                let pos = rec.position().unwrap();
                let line = side.line(Some(pos));
                assert_eq!(line, reference.line_of(pos.byte()), "{header:?}: {rec:?}");
                early += usize::from(pos.line() != line);
                got.push((rec[0].to_string(), line));
            }
            let first = header.matches('\n').count() as u64 + 1;
            // a1, a blank line, a2 over two lines, a3, two blank lines, a4, a5.
            let want: Vec<(String, u64)> = [("a1", 0), ("a2", 2), ("a3", 4), ("a4", 7), ("a5", 8)]
                .iter()
                .map(|(id, d)| (id.to_string(), first + d))
                .collect();
            assert_eq!(got, want, "{header:?}");
            assert!(
                early >= 2,
                "csv::Reader's own lines were right: the test proves nothing"
            );
        }
    }

    /// Newlines counted up to a byte, as records are read in order.
    struct Lines<'b> {
        bytes: &'b [u8],
        at: usize,
        newlines: u64,
    }

    impl Lines<'_> {
        /// The line of the record `csv::Reader` says starts at byte `from`: the line of its first byte after
        /// the line ends the parser had not yet read (one plus the newlines before it).
        fn line_of(&mut self, from: u64) -> u64 {
            let mut i = from as usize;
            while i < self.bytes.len() && matches!(self.bytes[i], b'\r' | b'\n') {
                i += 1;
            }
            self.newlines += self.bytes[self.at..i]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            self.at = i;
            1 + self.newlines
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
        let f = rows[0].1.as_ref().unwrap();
        assert_eq!((&f[0][..], &f[6][..]), ("u1", "a@b.com"));
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

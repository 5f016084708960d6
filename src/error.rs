//! Typed errors of the library. Every error that comes from input names the file and, where one exists, the
//! line (CSV) or row (Parquet) and the column, so that a message read at 3 a.m. says where to look.

use std::path::PathBuf;

/// Errors the library returns (an I/O error keeps the OS error as its `source`, which the binary prints once
/// after the message). Row-level problems in the input are *not* errors: they are quarantined
/// (see `load`), and only problems that make the whole run meaningless end it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: cannot read")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: required column `{column}` is missing; columns found: {found}")]
    MissingColumn {
        path: PathBuf,
        column: String,
        found: String,
    },
    #[error("{path}: line {line}: the header is not valid: {message}")]
    BadHeader {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}: line {line}: CSV cannot be parsed past this point: {message}")]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}: Parquet: {message}")]
    Parquet { path: PathBuf, message: String },
    #[error("{path}: column `{column}`: {message}")]
    BadColumn {
        path: PathBuf,
        column: String,
        message: String,
    },
    #[error("{path}: unsupported input format (expected .csv or .parquet)")]
    UnknownFormat { path: PathBuf },
    #[error("config {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("invalid setting: {0}")]
    Setting(String),
    #[error("{path}: cannot write")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: line {line}: {message}")]
    BadRow {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{0}")]
    NotFound(String),
    #[error(
        "{path}: {quarantined} of {read} rows quarantined ({share:.1}%), more than the {limit:.1}% allowed \
         (input.max_quarantined_share): did the export change shape? The most common reason ({count} rows): \
         {reason}. {rows_are}"
    )]
    TooManyQuarantined {
        path: PathBuf,
        quarantined: u64,
        read: u64,
        /// Percentages, as the message shows them.
        share: f64,
        limit: f64,
        reason: String,
        count: u64,
        /// Where the rows are: the quarantine written, or how to get it.
        rows_are: String,
    },
    #[error("{path}: {what} exceed what one run can index ({limit}); split the export")]
    TooLarge {
        path: PathBuf,
        what: String,
        limit: u64,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    /// A record the csv crate could not read, at the line it reports.
    pub fn csv(path: impl Into<PathBuf>, e: &csv::Error) -> Self {
        let path = path.into();
        Error::Csv {
            line: crate::load::SideLines::new(&path).line(e.position()),
            path,
            message: csv_message(e),
        }
    }
    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Write {
            path: path.into(),
            source,
        }
    }
}

/// Exit codes of the binary (documented in the README).
pub mod exit {
    pub const OK: i32 = 0;
    /// An unexpected failure (a bug): please report it.
    pub const INTERNAL: i32 = 1;
    /// The command line was wrong (clap's own code).
    pub const USAGE: i32 = 2;
    /// An input file is missing, unreadable or breaks the contract as a whole.
    pub const INPUT: i32 = 3;
    /// The config file or a setting is invalid.
    pub const CONFIG: i32 = 4;
    /// An output file could not be written.
    pub const OUTPUT: i32 = 5;
}

impl Error {
    /// The exit code this error ends the process with.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config { .. } | Error::Setting(_) => exit::CONFIG,
            Error::Write { .. } => exit::OUTPUT,
            _ => exit::INPUT,
        }
    }
}

/// What went wrong with a CSV record, without the `csv` crate's own record, line and byte (its line is one
/// early after a `\r\n`: the error names the line itself).
fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => err.to_string(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the records before have {expected_len}"),
        _ => e.to_string(),
    }
}

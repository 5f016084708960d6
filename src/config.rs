//! Validated settings. Every setting has a documented default, so no config file is needed for the input
//! contract; a `--config` TOML file can map export column names onto the contract and override any number.
//! Command-line flags are merged on top by `pipeline`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::record::COLUMNS;

/// One comparison level's m (probability among pairs of one person) and u (among other candidate pairs).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MU {
    pub m: f64,
    pub u: f64,
}

impl MU {
    const fn new(m: f64, u: f64) -> Self {
        MU { m, u }
    }
    /// The level's match weight in bits: log2(m / u).
    pub fn weight(&self) -> f64 {
        (self.m / self.u).log2()
    }
}

/// Default m/u of every comparison level (see README, "Algorithm"): EM's starting values, and the model used
/// when an export is too small to estimate one. In the defaults, u is among candidate pairs (accounts that
/// share at least one blocking key) and the prior is that of a candidate pair; levels on a shared value held
/// by k accounts have their Bayes factor divided by k−1.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Levels {
    pub name_exact: MU,
    pub name_formal: MU,
    pub name_fuzzy_high: MU,
    pub name_fuzzy_mid: MU,
    pub name_partial: MU,
    pub name_different: MU,
    pub email_exact: MU,
    pub email_handle: MU,
    pub email_different: MU,
    pub phone_exact: MU,
    pub phone_different: MU,
    /// The same national number where one account typed it without a country code or country.
    pub phone_national: MU,
    pub id_document_exact: MU,
    pub id_document_different: MU,
    /// One character off (a typo in a keyed-in number; never happens between two real hashes).
    pub id_document_near: MU,
    pub dob_exact: MU,
    /// One digit off, two digits transposed, or day and month swapped.
    pub dob_near: MU,
    /// Birth years at most one apart (not a typo of each other).
    pub dob_year_close: MU,
    pub dob_different: MU,
    pub payment_shared: MU,
    pub payment_different: MU,
    pub device_shared: MU,
    pub device_different: MU,
    pub ip_shared: MU,
    pub ip_prefix_shared: MU,
    pub ip_different: MU,
    /// A shared IP or prefix when a card or device is shared too (u: how often non-matching pairs that share
    /// a card or device also share a network — households and offices nearly always do).
    pub ip_with_shared_instrument: MU,
    /// The same postal address (area, house number, street, unit).
    pub address_exact: MU,
    /// The same building: another unit, or the street spelt otherwise.
    pub address_building: MU,
    pub address_different: MU,
    /// A shared address when a card, a device or a network is shared too (families and offices).
    pub address_with_shared_instrument: MU,
    pub reviewed: MU,
    /// Two entity accounts with the same business name (legal forms dropped).
    pub business_exact: MU,
    /// Business names that differ by a typo or a word order (Jaro–Winkler at least `name_jw_high`).
    pub business_fuzzy: MU,
    pub business_different: MU,
    /// One or two jobs both accounts bid on within `bids.window_minutes` of each other.
    pub co_bid_few: MU,
    /// Three or more such jobs.
    pub co_bid_many: MU,
}

impl Default for Levels {
    fn default() -> Self {
        Levels {
            name_exact: MU::new(0.55, 0.01),
            name_formal: MU::new(0.10, 0.004),
            name_fuzzy_high: MU::new(0.12, 0.01),
            name_fuzzy_mid: MU::new(0.05, 0.03),
            name_partial: MU::new(0.01, 0.12),
            name_different: MU::new(0.06, 0.83),
            email_exact: MU::new(0.35, 0.0002),
            email_handle: MU::new(0.10, 0.002),
            email_different: MU::new(0.55, 0.998),
            phone_exact: MU::new(0.45, 0.002),
            phone_different: MU::new(0.40, 0.998),
            phone_national: MU::new(0.02, 0.0002),
            id_document_exact: MU::new(0.97, 0.000_01),
            id_document_different: MU::new(0.03, 0.999_99),
            id_document_near: MU::new(0.05, 0.0001),
            dob_exact: MU::new(0.85, 0.01),
            dob_near: MU::new(0.03, 0.02),
            dob_year_close: MU::new(0.02, 0.04),
            dob_different: MU::new(0.08, 0.998),
            payment_shared: MU::new(0.30, 0.002),
            payment_different: MU::new(0.55, 0.99),
            device_shared: MU::new(0.45, 0.002),
            device_different: MU::new(0.45, 0.99),
            ip_shared: MU::new(0.50, 0.02),
            ip_prefix_shared: MU::new(0.15, 0.04),
            ip_different: MU::new(0.35, 0.94),
            ip_with_shared_instrument: MU::new(0.6, 0.7),
            address_exact: MU::new(0.5, 0.002),
            address_building: MU::new(0.05, 0.002),
            address_different: MU::new(0.4, 0.99),
            address_with_shared_instrument: MU::new(0.6, 0.7),
            reviewed: MU::new(0.05, 0.0018),
            business_exact: MU::new(0.85, 0.0005),
            business_fuzzy: MU::new(0.05, 0.0005),
            business_different: MU::new(0.10, 0.999),
            co_bid_few: MU::new(0.10, 0.002),
            co_bid_many: MU::new(0.10, 0.0001),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Blocking {
    /// A key held by more accounts than this generates no candidate pairs (it is listed in the summary).
    pub max_block_size: usize,
    /// At most about this many pairs that only IP keys found (an address or a range shared, nothing else)
    /// are compared before the model is estimated. Past it, a deterministic sample of them (every k-th by
    /// hash) stands for all of them in the model's counts, and the others are checked one by one after
    /// estimation, scored only where their best possible weight reaches the near-miss line
    /// (`block::thin_network`). Pairs of a sanctioned account and a newer one are always compared.
    pub network_sample_pairs: u64,
}

impl Default for Blocking {
    fn default() -> Self {
        Blocking {
            max_block_size: 100,
            network_sample_pairs: 1_000_000,
        }
    }
}

/// Value synonyms of an export (case-insensitive): `[values.status] banned = ["disabled", "fraud_ban"]`,
/// `[values.account_type] freelancer = ["seller"]`, `[values.country] DE = ["Deutschland"]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ValuesCfg {
    pub status: BTreeMap<String, Vec<String>>,
    pub account_type: BTreeMap<String, Vec<String>>,
    pub country: BTreeMap<String, Vec<String>>,
}

/// The format of a date column besides ISO 8601 (`%Y %m %d %H %M %S` and literal characters), e.g.
/// `date_of_birth = "%d/%m/%Y"`. Unset: detected from the first rows (see `normalize::rules`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DatesCfg {
    pub date_of_birth: Option<String>,
    pub created_at: Option<String>,
}

/// Column mapping: contract column = export column; `[columns.extra]` maps other export columns to a kind of
/// signal (`identifier`, `payment`, `device`, `phone`, `email`), e.g. `tax_id = "identifier"`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Columns {
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
    #[serde(flatten)]
    pub map: BTreeMap<String, String>,
}

/// Largest `blocking.max_block_size` (see `validate`).
pub const MAX_BLOCK_SIZE: usize = 10_000;
/// Largest `clustering.max_cluster_size`: the guard compares all cross pairs of two groups.
pub const MAX_CLUSTER_SIZE: usize = 10_000;

/// The review files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ReportCfg {
    /// `review.html` shows at most this many queued clusters (the most urgent; the page says how many more
    /// are in review_queue.csv): a browser stays responsive.
    pub html_clusters: usize,
}

impl Default for ReportCfg {
    fn default() -> Self {
        ReportCfg {
            html_clusters: 2000,
        }
    }
}

/// How the accounts file is read.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct InputCfg {
    /// The CSV field delimiter (one ASCII character); unset: tab for `.tsv` files, comma otherwise.
    pub delimiter: Option<String>,
    /// The largest share of the rows (0–1) that may be quarantined; more stops the run (exit 3) after
    /// writing `quarantine.csv`: the export itself is broken, and yesterday's results are better than none.
    /// Unset: bad rows never stop a run (`scripts/nightly.sh` sets 0.5).
    pub max_quarantined_share: Option<f64>,
}

/// The kinds an extra column can feed.
pub const EXTRA_KINDS: [&str; 5] = ["identifier", "payment", "device", "phone", "email"];

/// The bids file (`run --bids`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BidsCfg {
    /// Two bids on one job this close in time (minutes) are "within minutes": one person switching accounts
    /// submits both in one sitting.
    pub window_minutes: u32,
}

impl Default for BidsCfg {
    fn default() -> Self {
        BidsCfg { window_minutes: 10 }
    }
}

/// How the match model is estimated from the export (see `estimate`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ModelCfg {
    /// Random account pairs compared to estimate u of the levels blocking does not enumerate (fuzzy names,
    /// differences). When the export has fewer pairs, all of them are compared.
    pub sample_pairs: u64,
    /// EM stops after this many iterations if it has not converged.
    pub max_iterations: u32,
    /// EM has converged when no parameter moves by more than this (relative).
    pub tolerance: f64,
    /// Below this many expected matching pairs among the candidates (under the defaults), the export is too
    /// small to estimate ~100 parameters: the documented defaults are used, and the summary says so.
    pub min_expected_matches: f64,
}

impl Default for ModelCfg {
    fn default() -> Self {
        ModelCfg {
            sample_pairs: 1_000_000,
            max_iterations: 200,
            tolerance: 1e-4,
            min_expected_matches: 50.0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Scoring {
    /// Prior probability that a candidate pair is one person (before any comparison).
    pub prior: f64,
    /// A pair whose match probability is at least this is a link.
    pub link_probability: f64,
    /// Pairs within this many bits below the link threshold are reported as near misses.
    pub near_miss_bits: f64,
    /// Jaro-Winkler similarity of names for the `name_fuzzy_high` and `name_fuzzy_mid` levels.
    pub name_jw_high: f64,
    pub name_jw_mid: f64,
    /// Signals an account hiding who it is changes at will (ban evasion, sock puppets): under the concealment
    /// profile their differences weigh nothing. Differences in the others — a birth date years apart, another
    /// id document, another device — still say "two people".
    pub concealable: Vec<String>,
    pub levels: Levels,
}

impl Default for Scoring {
    fn default() -> Self {
        Scoring {
            prior: 0.01,
            link_probability: 0.5,
            near_miss_bits: 4.0,
            name_jw_high: 0.92,
            name_jw_mid: 0.84,
            concealable: vec!["name".into(), "email".into(), "phone".into()],
            levels: Levels::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Clustering {
    /// Two groups merge only if the evidence of all pairs across them, combined on the prior, gives at
    /// least this probability that they are one person.
    pub min_merge_probability: f64,
    /// No cluster grows beyond this many accounts.
    pub max_cluster_size: usize,
}

impl Default for Clustering {
    fn default() -> Self {
        Clustering {
            min_merge_probability: 0.5,
            max_cluster_size: 50,
        }
    }
}

/// All settings of a run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Contract column name → column name in the export, for exports whose names differ.
    pub columns: Columns,
    pub blocking: Blocking,
    pub scoring: Scoring,
    pub clustering: Clustering,
    pub model: ModelCfg,
    pub bids: BidsCfg,
    pub values: ValuesCfg,
    pub dates: DatesCfg,
    pub input: InputCfg,
    pub report: ReportCfg,
}

impl Config {
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let cfg: Config = toml::from_str(&text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        cfg.validate().map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Ok(cfg)
    }

    /// Synonym keys must be contract words, date formats must parse, extra columns need a known kind.
    fn validate_values(&self) -> Result<()> {
        let v = &self.values;
        for k in v.status.keys() {
            if !matches!(k.as_str(), "active" | "suspended" | "banned" | "closed") {
                return Err(Error::Setting(format!(
                    "[values.status] key `{k}` must be active, suspended, banned or closed"
                )));
            }
        }
        for k in v.account_type.keys() {
            if !matches!(k.as_str(), "freelancer" | "client" | "agency") {
                return Err(Error::Setting(format!(
                    "[values.account_type] key `{k}` must be freelancer, client or agency"
                )));
            }
        }
        for k in v.country.keys() {
            if k.len() != 2 || !k.bytes().all(|c| c.is_ascii_alphabetic()) {
                return Err(Error::Setting(format!(
                    "[values.country] key `{k}` must be an ISO 3166-1 alpha-2 code"
                )));
            }
        }
        for (col, f) in [
            ("date_of_birth", &self.dates.date_of_birth),
            ("created_at", &self.dates.created_at),
        ] {
            if let Some(f) = f {
                crate::normalize::rules::DateFormat::parse(f)
                    .map_err(|e| Error::Setting(format!("[dates] {col}: {e}")))?;
            }
        }
        for (col, kind) in &self.columns.extra {
            if !EXTRA_KINDS.contains(&kind.as_str()) {
                return Err(Error::Setting(format!(
                    "[columns.extra] {col} = `{kind}`: kinds are {}",
                    EXTRA_KINDS.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The export column that feeds a contract column.
    pub fn source_column<'a>(&'a self, contract: &'a str) -> &'a str {
        self.columns
            .map
            .get(contract)
            .map(String::as_str)
            .unwrap_or(contract)
    }

    /// The match weight (bits) at which a pair becomes a link.
    pub fn link_weight(&self) -> f64 {
        let p = self.scoring.link_probability;
        (p / (1.0 - p)).log2()
    }

    pub fn validate(&self) -> Result<()> {
        for k in self.columns.map.keys() {
            if !COLUMNS.contains(&k.as_str()) {
                return Err(Error::Setting(format!(
                    "[columns] maps unknown contract column `{k}`; contract columns: {}",
                    COLUMNS.join(", ")
                )));
            }
        }
        let s = &self.scoring;
        let open = |name: &str, v: f64| {
            if v > 0.0 && v < 1.0 {
                Ok(())
            } else {
                Err(Error::Setting(format!(
                    "{name} must be strictly between 0 and 1, got {v}"
                )))
            }
        };
        open("scoring.prior", s.prior)?;
        open("scoring.link_probability", s.link_probability)?;
        open(
            "clustering.min_merge_probability",
            self.clustering.min_merge_probability,
        )?;
        if !(s.name_jw_mid <= s.name_jw_high && s.name_jw_high <= 1.0 && s.name_jw_mid > 0.0) {
            return Err(Error::Setting(
                "need 0 < scoring.name_jw_mid <= scoring.name_jw_high <= 1".into(),
            ));
        }
        let signals: Vec<&str> = crate::score::Field::ALL
            .iter()
            .map(|f| f.as_str())
            .collect();
        if let Some(x) = s
            .concealable
            .iter()
            .find(|x| !signals.contains(&x.as_str()))
        {
            return Err(Error::Setting(format!(
                "scoring.concealable names unknown signal `{x}`; signals: {}",
                signals.join(", ")
            )));
        }
        self.validate_values()?;
        if !(1..=24 * 60).contains(&self.bids.window_minutes) {
            return Err(Error::Setting(
                "bids.window_minutes must be between 1 and 1440".into(),
            ));
        }
        if !(s.near_miss_bits >= 0.0 && s.near_miss_bits <= 64.0) {
            return Err(Error::Setting(
                "scoring.near_miss_bits must be between 0 and 64".into(),
            ));
        }
        let levels = serde_json::to_value(&s.levels).expect("levels serialize");
        for (name, mu) in levels.as_object().expect("levels is a table") {
            let m = mu["m"].as_f64().unwrap_or(f64::NAN);
            let u = mu["u"].as_f64().unwrap_or(f64::NAN);
            open(&format!("scoring.levels.{name}.m"), m)?;
            open(&format!("scoring.levels.{name}.u"), u)?;
        }
        self.validate_sizes()
    }

    /// The model's, the blocking's, the clustering's and the report's numeric ranges.
    fn validate_sizes(&self) -> Result<()> {
        let m = &self.model;
        if !(1_000..=100_000_000).contains(&m.sample_pairs) {
            return Err(Error::Setting(
                "model.sample_pairs must be between 1000 and 100000000".into(),
            ));
        }
        if !(1..=10_000).contains(&m.max_iterations) {
            return Err(Error::Setting(
                "model.max_iterations must be between 1 and 10000".into(),
            ));
        }
        if !(m.tolerance > 0.0 && m.tolerance < 1.0) {
            return Err(Error::Setting(
                "model.tolerance must be strictly between 0 and 1".into(),
            ));
        }
        if !(m.min_expected_matches >= 0.0 && m.min_expected_matches.is_finite()) {
            return Err(Error::Setting(
                "model.min_expected_matches must be a number >= 0".into(),
            ));
        }
        // One key held by k accounts asks for k(k-1)/2 pairs: at 10,000 that is 50M pairs (0.4 GB of pair
        // keys) for a single value; past it a crowd value would exhaust memory, not find people.
        if !(2..=MAX_BLOCK_SIZE).contains(&self.blocking.max_block_size) {
            return Err(Error::Setting(format!(
                "blocking.max_block_size must be between 2 and {MAX_BLOCK_SIZE}"
            )));
        }
        if self.blocking.network_sample_pairs == 0 {
            return Err(Error::Setting(
                "blocking.network_sample_pairs must be at least 1".into(),
            ));
        }
        if !(2..=MAX_CLUSTER_SIZE).contains(&self.clustering.max_cluster_size) {
            return Err(Error::Setting(format!(
                "clustering.max_cluster_size must be between 2 and {MAX_CLUSTER_SIZE}"
            )));
        }
        if !(1..=100_000).contains(&self.report.html_clusters) {
            return Err(Error::Setting(
                "report.html_clusters must be between 1 and 100000".into(),
            ));
        }
        if let Some(x) = self.input.max_quarantined_share
            && !(0.0..=1.0).contains(&x)
        {
            return Err(Error::Setting(format!(
                "input.max_quarantined_share must be between 0 and 1, got {x}"
            )));
        }
        if let Some(d) = &self.input.delimiter
            && (d.chars().count() != 1 || !d.is_ascii() || d == "\"" || d == "\n")
        {
            return Err(Error::Setting(format!(
                "input.delimiter must be one ASCII character other than a quote or newline, got {d:?}"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_partial_files_merge() {
        Config::default().validate().unwrap();
        let cfg: Config = toml::from_str(
            "[columns]\naccount_id = \"user_id\"\n[blocking]\nmax_block_size = 10\n\
             [scoring.levels.email_exact]\nm = 0.5\nu = 0.001\n",
        )
        .unwrap();
        cfg.validate().unwrap();
        assert_eq!(cfg.source_column("account_id"), "user_id");
        assert_eq!(cfg.source_column("email"), "email");
        assert_eq!(cfg.blocking.max_block_size, 10);
        assert_eq!(cfg.blocking.network_sample_pairs, 1_000_000);
        assert_eq!(cfg.model, ModelCfg::default());
        assert_eq!(cfg.scoring.levels.email_exact, MU { m: 0.5, u: 0.001 });
        assert_eq!(
            cfg.scoring.levels.phone_exact,
            Levels::default().phone_exact
        );
        assert!((Config::default().link_weight()).abs() < 1e-12);
    }

    #[test]
    fn rejects_bad_settings() {
        let bad = [
            "[columns]\nnot_a_column = \"x\"\n",
            "[scoring]\nprior = 1.5\n",
            "[scoring.levels.email_exact]\nm = 0.0\nu = 0.1\n",
            "[blocking]\nmax_block_size = 1\n",
            "[blocking]\nnetwork_sample_pairs = 0\n",
        ];
        for text in bad {
            let cfg: Config = toml::from_str(text).unwrap();
            assert!(cfg.validate().is_err(), "{text}");
        }
        assert!(toml::from_str::<Config>("[blocking]\nmax_blok_size = 3\n").is_err());
    }
}

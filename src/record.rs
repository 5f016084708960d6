//! The input contract (column names, account types, statuses) and `Accounts`, the normalized accounts held
//! column by column: every later stage reads these arrays by account index and never touches raw rows.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use serde::Serialize;

/// Number of contract columns.
pub const COLUMN_COUNT: usize = 17;

/// One row's contract fields, in contract order (absent columns are empty).
pub type Fields<'a> = [&'a str; COLUMN_COUNT];

/// The contract's columns, in contract order. Only `account_id` is required.
pub const COLUMNS: [&str; COLUMN_COUNT] = [
    "account_id",
    "account_type",
    "status",
    "created_at",
    "full_name",
    "business_name",
    "email",
    "phone",
    "country",
    "date_of_birth",
    "id_document_hash",
    "payment_methods",
    "device_ids",
    "ip_addresses",
    "address",
    "city",
    "postal_code",
];

/// Index of each contract column in [`COLUMNS`].
pub mod col {
    pub const ACCOUNT_ID: usize = 0;
    pub const ACCOUNT_TYPE: usize = 1;
    pub const STATUS: usize = 2;
    pub const CREATED_AT: usize = 3;
    pub const FULL_NAME: usize = 4;
    pub const BUSINESS_NAME: usize = 5;
    pub const EMAIL: usize = 6;
    pub const PHONE: usize = 7;
    pub const COUNTRY: usize = 8;
    pub const DATE_OF_BIRTH: usize = 9;
    pub const ID_DOCUMENT_HASH: usize = 10;
    pub const PAYMENT_METHODS: usize = 11;
    pub const DEVICE_IDS: usize = 12;
    pub const IP_ADDRESSES: usize = 13;
    pub const ADDRESS: usize = 14;
    pub const CITY: usize = 15;
    pub const POSTAL_CODE: usize = 16;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    Freelancer,
    Client,
    Agency,
    Unknown,
}

impl AccountType {
    /// The type a cell names, in any case (empty: unknown); read for every row, without a lower-cased copy.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        [Self::Freelancer, Self::Client, Self::Agency, Self::Unknown]
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Freelancer => "freelancer",
            Self::Client => "client",
            Self::Agency => "agency",
            Self::Unknown => "",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Suspended,
    Banned,
    Closed,
    Unknown,
}

impl Status {
    /// The status a cell names, in any case (empty: unknown); read for every row, without a lower-cased copy.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        [
            Self::Active,
            Self::Suspended,
            Self::Banned,
            Self::Closed,
            Self::Unknown,
        ]
        .into_iter()
        .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Banned => "banned",
            Self::Closed => "closed",
            Self::Unknown => "",
        }
    }
    /// Suspended and banned accounts form the watchlist.
    pub fn is_sanctioned(self) -> bool {
        matches!(self, Self::Suspended | Self::Banned)
    }
}

/// An input row that could not be used: its line (CSV) or row number (Parquet), why, and the row as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub line: u64,
    pub reason: String,
    pub raw: String,
}

/// Identifier signals: each account holds zero or more hashed values of each, and each value knows how many
/// accounts hold it (its frequency, filled in by `block`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Signal {
    /// Sorted-token name (used for its frequency: common names weigh less).
    Name,
    Email,
    /// The email's local part alone: the same handle at another provider.
    EmailHandle,
    Phone,
    IdDocument,
    Payment,
    Device,
    Ip,
    IpPrefix,
    /// The birth date (counted for its frequency: placeholder dates are shared by crowds; never blocked alone).
    DateOfBirth,
    /// The normalized business name of an account that has one.
    Business,
    /// The national significant number of a phone: meets the same number typed without a country.
    PhoneNational,
    /// A postal address (area, house number, street, unit).
    Address,
    /// The building of an address (area and house number).
    AddressBuilding,
}

impl Signal {
    pub const ALL: [Signal; 14] = [
        Signal::Name,
        Signal::Email,
        Signal::EmailHandle,
        Signal::Phone,
        Signal::IdDocument,
        Signal::Payment,
        Signal::Device,
        Signal::Ip,
        Signal::IpPrefix,
        Signal::DateOfBirth,
        Signal::Business,
        Signal::PhoneNational,
        Signal::Address,
        Signal::AddressBuilding,
    ];
    pub const COUNT: usize = 14;
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Name => "name",
            Signal::Email => "email",
            Signal::EmailHandle => "email_handle",
            Signal::Phone => "phone",
            Signal::IdDocument => "id_document",
            Signal::Payment => "payment",
            Signal::Device => "device",
            Signal::Ip => "ip",
            Signal::IpPrefix => "ip_prefix",
            Signal::DateOfBirth => "date_of_birth",
            Signal::Business => "business_name",
            Signal::PhoneNational => "phone_national",
            Signal::Address => "address",
            Signal::AddressBuilding => "address_building",
        }
    }
}

/// An account's name in the three forms comparisons read together (`name::Name`'s sorted tokens, its formal
/// tokens, their phonetic codes), in one string per account: a compared pair reads one offset and one or two
/// lines of text of each account, not three of each (at ten million accounts comparisons wait on memory most of
/// their time). Each string opens with the byte lengths of the first two forms, one byte each, so that the forms
/// come apart without a search; a form of `LONG` bytes or more (no real name) marks both bytes `LONG` and the
/// forms are then joined by `SEP` instead.
#[derive(Debug, Default, Clone)]
pub struct Names {
    text: StrColumn,
}

/// An account's name forms (see `Names`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameForms<'a> {
    /// Normalized tokens, sorted.
    pub sorted: &'a str,
    /// The sorted tokens without initials.
    pub formal: &'a str,
    /// The Double Metaphone code of each formal token, in order.
    pub codes: &'a str,
}

impl Names {
    /// The header byte of forms too long for one (an ASCII character, as every header byte: the text stays UTF-8).
    const LONG: u8 = 127;
    /// Between the forms of a long name: normalized names are lower-case letters, digits and spaces, codes
    /// capitals, digits and spaces (`push` drops it from a long name's forms all the same).
    const SEP: char = '|';

    pub fn push(&mut self, forms: NameForms<'_>) {
        let (sorted, formal) = (forms.sorted.len(), forms.formal.len());
        let long = usize::from(Names::LONG);
        if sorted < long && formal < long {
            // Both below 127: ASCII characters.
            let head = [sorted as u8, formal as u8];
            let head = std::str::from_utf8(&head).unwrap_or_default();
            self.text
                .push_parts(&[head, forms.sorted, forms.formal, forms.codes]);
        } else {
            let clean = |s: &str| s.replace(Names::SEP, "");
            let (a, b, c) = (clean(forms.sorted), clean(forms.formal), clean(forms.codes));
            let head = [Names::LONG, Names::LONG];
            let head = std::str::from_utf8(&head).unwrap_or_default();
            let sep = Names::SEP.to_string();
            self.text.push_parts(&[head, &a, &sep, &b, &sep, &c]);
        }
    }
    #[inline]
    pub fn get(&self, i: usize) -> NameForms<'_> {
        let text = self.text.get(i);
        let b = text.as_bytes();
        let (Some(&h1), Some(&h2)) = (b.first(), b.get(1)) else {
            return NameForms {
                sorted: "",
                formal: "",
                codes: "",
            };
        };
        if h1 != Names::LONG {
            // Every boundary is where two forms were joined: a character boundary.
            let (s, f) = (2 + usize::from(h1), 2 + usize::from(h1) + usize::from(h2));
            return NameForms {
                sorted: text.get(2..s).unwrap_or(""),
                formal: text.get(s..f).unwrap_or(""),
                codes: text.get(f..).unwrap_or(""),
            };
        }
        let mut parts = text[2..].splitn(3, Names::SEP);
        let mut next = || parts.next().unwrap_or("");
        NameForms {
            sorted: next(),
            formal: next(),
            codes: next(),
        }
    }
    pub fn sorted(&self, i: usize) -> &str {
        self.get(i).sorted
    }
    pub fn len(&self) -> usize {
        self.text.len()
    }
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
    fn reserve_for(&mut self, rows: usize) {
        self.text.reserve_for(rows);
    }
    fn extend(&mut self, other: Names) {
        self.text.extend(other.text);
    }
}

/// Strings of all accounts in one buffer: no allocation per account.
#[derive(Debug, Default, Clone)]
pub struct StrColumn {
    /// Where each string ends in `data` (after a leading 0), modulo 2^32: half the memory of `u64` offsets
    /// (a dozen columns: 44 MB at a million accounts), and a column holds 4 GiB of text only past a hundred
    /// million accounts or so (`wraps` keeps it correct there).
    offsets: Vec<u32>,
    /// The indices in `offsets` from which each further 2^32 is to be added (one entry per 4 GiB of text,
    /// in order): empty below 4 GiB.
    wraps: Vec<usize>,
    data: String,
}

impl StrColumn {
    pub fn push(&mut self, s: &str) {
        self.start();
        self.data.push_str(s);
        self.end_here();
    }
    /// Pushes `parts` joined by `sep`, without building the joined string first.
    /// Pushes the concatenation of `parts` as one string.
    pub fn push_parts(&mut self, parts: &[&str]) {
        self.start();
        for p in parts {
            self.data.push_str(p);
        }
        self.end_here();
    }
    pub fn push_joined<'s>(&mut self, parts: impl Iterator<Item = &'s str>, sep: char) {
        self.start();
        for (k, p) in parts.enumerate() {
            if k > 0 {
                self.data.push(sep);
            }
            self.data.push_str(p);
        }
        self.end_here();
    }
    /// Pushes `s` with its ASCII letters lower-cased.
    pub fn push_ascii_lowercase(&mut self, s: &str) {
        let from = self.data.len();
        self.push(s);
        // Lower-casing ASCII bytes keeps the string valid UTF-8 (multi-byte sequences have no ASCII bytes).
        self.data[from..].make_ascii_lowercase();
    }
    pub fn get(&self, i: usize) -> &str {
        &self.data[self.offset(i)..self.offset(i + 1)]
    }
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Makes room for `rows` strings in all, their bytes in proportion to the strings so far.
    pub fn reserve_for(&mut self, rows: usize) {
        let n = self.len();
        if n > 0 && rows > n {
            self.offsets.reserve(rows - n);
            self.data
                .reserve(scaled(self.data.len(), n, rows).saturating_sub(self.data.len()));
            crate::memory::advise_huge_pages(&self.offsets);
            crate::memory::advise_huge_pages_str(&self.data);
        }
    }
    /// Appends all strings of `other`.
    pub fn extend(&mut self, other: StrColumn) {
        self.start();
        let shift = self.data.len();
        self.data.push_str(&other.data);
        self.offsets.reserve(other.len());
        if other.wraps.is_empty() && self.data.len() <= u32::MAX as usize {
            // Every end stays below 2^32: the offsets shifted in one vectorized pass, not pushed one by one
            // through `end_at`'s test for a wrap.
            let shift = shift as u32;
            let ends = other.offsets.get(1..).unwrap_or_default();
            self.offsets.extend(ends.iter().map(|&o| o + shift));
            return;
        }
        for k in 1..other.offsets.len() {
            self.end_at(shift + other.offset(k));
        }
    }
    /// Where string `k` starts (string `k - 1` ends) in `data`.
    fn offset(&self, k: usize) -> usize {
        let low = self.offsets[k] as usize;
        if self.wraps.is_empty() {
            return low;
        }
        let high = self.wraps.partition_point(|&w| w <= k) as u64;
        low + (high << 32) as usize
    }
    /// The leading 0 of the offsets, before the first string.
    fn start(&mut self) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
    }
    /// Ends the string being pushed where `data` ends now.
    fn end_here(&mut self) {
        self.end_at(self.data.len());
    }
    /// Ends the string being pushed at byte `end` of `data` (not before the last end).
    fn end_at(&mut self, end: usize) {
        let high = (end as u64 >> 32) as usize;
        while self.wraps.len() < high {
            self.wraps.push(self.offsets.len());
        }
        self.offsets.push(end as u32);
    }
}

/// For two accounts given as (sanctioned, creation time), whether one may be evading the other's sanction
/// (`Accounts::evasion_direction`): `Some(true)` when the first is the sanctioned one, `Some(false)` when
/// the second is, `None` when neither or both are sanctioned or the other account is older.
pub fn evasion_between(x: (bool, i64), y: (bool, i64)) -> Option<bool> {
    if x.0 == y.0 {
        return None;
    }
    let (banned, other) = if x.0 { (x.1, y.1) } else { (y.1, x.1) };
    (banned == i64::MIN || other == i64::MIN || other >= banned).then_some(x.0)
}

/// `len` grown in the proportion `rows` to `n`, with a quarter to spare: the first chunk's accounts are no
/// random sample of the file (an export sorted by creation date changes its habits as it goes; at ten million
/// generated accounts the raw emails outgrew a 2% margin and their 250 MB column was copied into one twice its
/// size for its last rows). Room never written costs address space only: it is never resident.
fn scaled(len: usize, n: usize, rows: usize) -> usize {
    ((len as f64 * rows as f64 / n.max(1) as f64) * 1.25).ceil() as usize
}

/// Makes room for `rows` elements in all.
fn reserve_rows<T>(v: &mut Vec<T>, rows: usize) {
    v.reserve(rows.saturating_sub(v.len()));
    crate::memory::advise_huge_pages(v);
}

/// How many comparisons ahead accounts are prefetched (`Accounts::prefetch_ahead`): far enough for memory to
/// answer (a comparison takes about a microsecond of work, a miss a tenth of it), near enough that what was
/// fetched is still in cache when it is read.
pub const PREFETCH_AHEAD: usize = 8;

/// A hint that `x` will be read soon; no effect on results (and none at all off x86-64).
#[inline(always)]
pub(crate) fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it reads nothing and cannot fault, and `x` is a valid reference anyway.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (x as *const T).cast::<i8>(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// One account's place in `Signals::values`: where it starts and where each signal's values end (one cache
/// line, so that comparing two accounts reads one line of each to find all their values).
#[derive(Debug, Clone, Copy, Default)]
#[repr(align(64))]
struct Head([u32; Signal::COUNT + 1]);

/// The identifier values of all accounts, account after account (all signals of an account together: a pair
/// comparison touches a few cache lines of each account, not one per signal), and the frequency of each value
/// occurrence. An account's values of one signal are sorted and distinct (`push_account` sees to it): two
/// accounts' long lists meet in one merge walk (short ones are compared value by value, `score::shared`).
#[derive(Debug, Default, Clone)]
pub struct Signals {
    heads: Vec<Head>,
    values: Vec<u64>,
    /// How many accounts hold `values[i]`; 0 until `block` fills it in (`set_freq`).
    freq: Vec<u32>,
}

/// One account's identifier values as normalization finds them: `(signal, value)` in one vector (one
/// allocation per account, not one per signal), sorted and deduplicated by `finish`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountValues(Vec<(u8, u64)>);

impl AccountValues {
    /// Room for `n` values: an account holds a dozen or so (name, birth date, email and handle, phone, a few
    /// devices, IPs and ranges), which growing from empty would allocate three times.
    pub fn with_capacity(n: usize) -> Self {
        AccountValues(Vec::with_capacity(n))
    }
    pub fn push(&mut self, s: Signal, value: u64) {
        self.0.push((s as u8, value));
    }
    /// How many values, over all signals.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Sorts by signal, then value, and drops repeated values of a signal.
    pub fn finish(&mut self) {
        self.0.sort_unstable();
        self.0.dedup();
    }
    /// The values of `s`, in the order held.
    pub fn of(&self, s: Signal) -> Vec<u64> {
        self.0
            .iter()
            .filter(|(k, _)| *k == s as u8)
            .map(|(_, v)| *v)
            .collect()
    }
}

impl Signals {
    /// Makes room for `rows` accounts' values in all, in proportion to what the first `n` accounts hold.
    fn reserve_for(&mut self, n: usize, rows: usize) {
        reserve_rows(&mut self.heads, rows);
        let values = scaled(self.values.len(), n, rows);
        self.values
            .reserve(values.saturating_sub(self.values.len()));
        crate::memory::advise_huge_pages(&self.values);
    }
    /// Appends an account's values, signal by signal (in `Signal::ALL` order), each signal's sorted and
    /// distinct.
    pub fn push_account(&mut self, values: &AccountValues) {
        let mut sorted;
        let values = if values.0.is_sorted() {
            &values.0
        } else {
            sorted = values.0.clone();
            sorted.sort_unstable();
            &sorted
        };
        let mut head = Head::default();
        head.0[0] = self.values.len() as u32;
        let mut at = 0;
        for k in 0..Signal::COUNT {
            let from = self.values.len();
            while at < values.len() && values[at].0 as usize == k {
                let v = values[at].1;
                if self.values.len() == from || self.values[self.values.len() - 1] != v {
                    self.values.push(v);
                }
                at += 1;
            }
            head.0[k + 1] = self.values.len() as u32;
        }
        self.heads.push(head);
    }
    /// Appends all accounts of `other` (frequencies are filled in later by `block`).
    pub fn extend(&mut self, other: Signals) {
        let shift = self.values.len() as u32;
        self.values.extend_from_slice(&other.values);
        self.heads.extend(other.heads.iter().map(|h| {
            let mut h = *h;
            h.0.iter_mut().for_each(|o| *o += shift);
            h
        }));
    }
    /// All values of all accounts: a value's slot is its index here.
    pub fn values(&self) -> &[u64] {
        &self.values
    }
    /// Every value's frequency, by slot (0 before `block`).
    pub fn freqs_all(&self) -> &[u32] {
        &self.freq
    }
    /// Every value's frequency, by slot (from `block`).
    pub fn set_freq(&mut self, freq: Vec<u32>) {
        debug_assert_eq!(freq.len(), self.values.len());
        self.freq = freq;
    }
    /// The slots of account `i`'s values, all signals.
    pub fn account_range(&self, i: usize) -> std::ops::Range<usize> {
        let h = &self.heads[i].0;
        h[0] as usize..h[Signal::COUNT] as usize
    }
    /// The signal of each slot of account `i`, in slot order.
    pub fn account_slots(
        &self,
        i: usize,
    ) -> impl Iterator<Item = (Signal, std::ops::Range<usize>)> + '_ {
        let h = &self.heads[i].0;
        Signal::ALL
            .iter()
            .enumerate()
            .map(move |(k, s)| (*s, h[k] as usize..h[k + 1] as usize))
    }
    pub fn of(&self, s: Signal) -> Multi<'_> {
        Multi {
            table: self,
            k: s as usize,
        }
    }
}

/// One signal's values of every account (a view of `Signals`).
#[derive(Clone, Copy)]
pub struct Multi<'a> {
    table: &'a Signals,
    k: usize,
}

impl<'a> Multi<'a> {
    /// Slots of account `i`'s values of this signal.
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        let h = &self.table.heads[i].0;
        h[self.k] as usize..h[self.k + 1] as usize
    }
    pub fn get(&self, i: usize) -> &'a [u64] {
        &self.table.values[self.range(i)]
    }
    pub fn freqs(&self, i: usize) -> &'a [u32] {
        &self.table.freq[self.range(i)]
    }
    pub fn is_empty_at(&self, i: usize) -> bool {
        let h = &self.table.heads[i].0;
        h[self.k] == h[self.k + 1]
    }
}

/// A bit per index, 64 to a word: flags of accounts or value slots small enough to stay in cache (125 KB for a
/// million) where reading the columns they summarize would be a read at random per question.
#[derive(Debug, Clone, Default)]
pub struct Bits(Vec<u64>);

impl Bits {
    /// Bits `0..n`, bit `i` set where `f(i)`, a word at a time in parallel.
    pub fn from_fn(n: usize, f: impl Fn(usize) -> bool + Sync) -> Bits {
        use rayon::prelude::*;
        Bits(
            (0..n.div_ceil(64))
                .into_par_iter()
                .map(|w| {
                    (w * 64..n.min(w * 64 + 64))
                        .filter(|&i| f(i))
                        .fold(0u64, |word, i| word | 1 << (i % 64))
                })
                .collect(),
        )
    }
    /// Bits `0..n`, those in `set` set (any order, repeats allowed).
    pub fn with_set(n: usize, set: impl IntoIterator<Item = usize>) -> Bits {
        let mut words = vec![0u64; n.div_ceil(64)];
        for i in set {
            words[i / 64] |= 1 << (i % 64);
        }
        Bits(words)
    }
    /// Whether bit `i` is set (false past the end).
    pub fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A hasher for keys that are hashes already (xxh3 values): the key is its own hash.
#[derive(Default)]
pub struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}

/// Account ids to account indexes (`Accounts::id_index`), for the side files that name accounts by id:
/// keyed by the id's 128-bit xxh3 hash, so that a lookup reads one table entry and never the id's text
/// (a random read of a million-account column: three cache misses per lookup where this takes one). Two
/// different ids with one 128-bit hash would be taken for one; at 2⁻¹²⁸ a pair, no export will meet it.
/// An open-addressing table (at most 3/4 full, linear probing) filled by all workers at once: each claims
/// a free slot by its account index, so the table's layout depends on who came first but what a lookup
/// answers does not (the smallest account index of the id: the first holder).
pub struct IdIndex {
    slots: Vec<IdSlot>,
    mask: usize,
}

/// One slot of `IdIndex`: the id's hash and its account index + 1 (0: free).
#[derive(Default)]
struct IdSlot {
    hash_low: AtomicU64,
    hash_high: AtomicU64,
    index_plus_one: AtomicU32,
}

impl IdIndex {
    /// An index of `ids` (account `i` holds `ids(i)`), built in parallel.
    fn build<'s>(n: usize, ids: impl Fn(usize) -> &'s str + Sync) -> IdIndex {
        use rayon::prelude::*;
        let room = (n + n / 3 + 1).next_power_of_two().max(16);
        let slots: Vec<IdSlot> =
            crate::memory::collect_advised((0..room).into_par_iter().map(|_| IdSlot::default()));
        let mask = room - 1;
        (0..n).into_par_iter().for_each(|i| {
            let (low, high) = Self::hash(ids(i));
            let mut at = low as usize & mask;
            let claim = i as u32 + 1;
            while slots[at]
                .index_plus_one
                .compare_exchange(0, claim, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
            {
                at = (at + 1) & mask;
            }
            slots[at].hash_low.store(low, Ordering::Relaxed);
            slots[at].hash_high.store(high, Ordering::Relaxed);
        });
        // The workers' writes are visible here: rayon joins them before `for_each` returns.
        IdIndex { slots, mask }
    }

    fn hash(id: &str) -> (u64, u64) {
        let h = xxhash_rust::xxh3::xxh3_128(id.as_bytes());
        (h as u64, (h >> 64) as u64)
    }

    pub fn get(&self, id: &str) -> Option<u32> {
        let (low, high) = Self::hash(id);
        let mut at = low as usize & self.mask;
        let mut found: Option<u32> = None;
        loop {
            let s = &self.slots[at];
            let claim = s.index_plus_one.load(Ordering::Relaxed);
            if claim == 0 {
                return found;
            }
            if s.hash_low.load(Ordering::Relaxed) == low
                && s.hash_high.load(Ordering::Relaxed) == high
            {
                found = Some(found.map_or(claim - 1, |f| f.min(claim - 1)));
            }
            at = (at + 1) & self.mask;
        }
    }
}

/// Normalized accounts, column by column, indexed by account index (input order of the used rows).
#[derive(Debug, Default)]
pub struct Accounts {
    pub id: StrColumn,
    /// Line (CSV) or row number (Parquet, 1-based after the header) the account came from.
    pub line: Vec<u64>,
    pub account_type: Vec<AccountType>,
    pub status: Vec<Status>,
    /// Seconds since the Unix epoch; `i64::MIN` when missing or unparseable.
    pub created: Vec<i64>,
    pub created_raw: StrColumn,
    pub full_name_raw: StrColumn,
    pub email_raw: StrColumn,
    /// Normalized name tokens in typed order.
    pub name: StrColumn,
    /// The name sorted, formal and as phonetic codes (`NameForms`).
    pub names: Names,
    /// Hash of the phonetic code of the name (0 when the name is empty).
    pub name_phonetic: Vec<u64>,
    /// The normalized business name (legal forms dropped); empty when none.
    pub business: StrColumn,
    /// An entity account: one that holds a business name which is a registered form or not just the
    /// holder's own name (see `normalize::is_entity`).
    pub entity: Vec<bool>,
    /// ISO 3166-1 alpha-2, upper-case; `[0, 0]` when missing.
    pub country: Vec<[u8; 2]>,
    /// YYYYMMDD; 0 when missing.
    pub dob: Vec<u32>,
    /// The id document value as compared (trimmed, lower-case); empty when missing.
    pub id_document: StrColumn,
    /// The account's email handles (letters of the local parts, of the email and of PayPal addresses) that
    /// are made of its own name (`normalize::name::handle_from_name`: `johnsmith` for John Smith),
    /// space-separated: a handle two accounts share repeats their names when it is here for both.
    pub handles: StrColumn,
    pub email_relay: Vec<bool>,
    pub email_disposable: Vec<bool>,
    pub signals: Signals,
    /// The fixed-size fields a comparison reads, packed per account (`pack_facts`); empty until packed, and
    /// emptied by any change to the columns they copy.
    facts: Vec<Facts>,
    /// A bit per identifier-value slot: set where the slot holds an email handle made of its account's own
    /// name (one of `handles`), so that two accounts' shared handle is checked beside the values it was found
    /// among instead of in both accounts' handle strings, met at random. Empty until `index_name_handles`, and
    /// emptied by appending accounts.
    name_handles: Bits,
}

/// What comparing a pair reads of an account's fixed-size fields, in one 16-byte record: four columns met at
/// random were four cache misses a compared pair (at ten million accounts, the comparisons' largest cost);
/// packed, one. A copy of `created`, `dob`, `status` and `entity`, which stay the columns everything else reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Facts {
    pub created: i64,
    pub dob: u32,
    pub status: Status,
    pub entity: bool,
}

impl Accounts {
    pub fn len(&self) -> usize {
        self.line.len()
    }
    pub fn is_empty(&self) -> bool {
        self.line.is_empty()
    }
    /// Appends the accounts of `other` after these.
    pub fn extend(&mut self, other: Accounts) {
        let Accounts {
            id,
            line,
            account_type,
            status,
            created,
            created_raw,
            full_name_raw,
            email_raw,
            name,
            names,
            name_phonetic,
            business,
            entity,
            country,
            dob,
            id_document,
            handles,
            email_relay,
            email_disposable,
            signals,
            facts: _,
            name_handles: _,
        } = other;
        self.facts = Vec::new();
        self.name_handles = Bits::default();
        self.id.extend(id);
        self.line.extend(line);
        self.account_type.extend(account_type);
        self.status.extend(status);
        self.created.extend(created);
        self.created_raw.extend(created_raw);
        self.full_name_raw.extend(full_name_raw);
        self.email_raw.extend(email_raw);
        self.name.extend(name);
        self.names.extend(names);
        self.name_phonetic.extend(name_phonetic);
        self.business.extend(business);
        self.entity.extend(entity);
        self.country.extend(country);
        self.dob.extend(dob);
        self.id_document.extend(id_document);
        self.handles.extend(handles);
        self.email_relay.extend(email_relay);
        self.email_disposable.extend(email_disposable);
        self.signals.extend(signals);
    }

    /// Makes room for `rows` accounts in all, each column in proportion to what the accounts so far take: one
    /// allocation per column instead of a doubling, and a copy of the whole column, each time it fills (at
    /// ten million accounts, columns of gigabytes). Room never written is never resident.
    pub fn reserve_for(&mut self, rows: usize) {
        let n = self.len();
        if n == 0 || rows <= n {
            return;
        }
        for c in [
            &mut self.id,
            &mut self.created_raw,
            &mut self.full_name_raw,
            &mut self.email_raw,
            &mut self.name,
            &mut self.business,
            &mut self.id_document,
            &mut self.handles,
        ] {
            c.reserve_for(rows);
        }
        reserve_rows(&mut self.line, rows);
        reserve_rows(&mut self.account_type, rows);
        reserve_rows(&mut self.status, rows);
        reserve_rows(&mut self.created, rows);
        reserve_rows(&mut self.name_phonetic, rows);
        reserve_rows(&mut self.entity, rows);
        reserve_rows(&mut self.country, rows);
        reserve_rows(&mut self.dob, rows);
        reserve_rows(&mut self.email_relay, rows);
        reserve_rows(&mut self.email_disposable, rows);
        self.names.reserve_for(rows);
        self.signals.reserve_for(n, rows);
    }

    /// An account whose business name is an agency's (an agency account in the export holds it) names its
    /// employer: it is an agency member, not an entity account of its own.
    pub fn mark_agency_members(&mut self) {
        self.facts = Vec::new();
        use rayon::prelude::*;
        let (types, business) = (&self.account_type, &self.business);
        let agencies: std::collections::HashSet<&str> = (0..types.len())
            .filter(|&i| types[i] == AccountType::Agency)
            .map(|i| business.get(i))
            .filter(|b| !b.is_empty())
            .collect();
        self.entity
            .par_iter_mut()
            .enumerate()
            .for_each(|(i, entity)| {
                if types[i] == AccountType::Agency || agencies.contains(business.get(i)) {
                    *entity = false;
                }
            });
    }

    /// Account indices, value offsets and frequency slots are `u32` throughout (pair keys pack two account
    /// indices into a `u64`): an export past those limits is refused here, before anything could wrap.
    pub fn check_capacity(&self, path: &std::path::Path) -> crate::error::Result<()> {
        let limit = u64::from(u32::MAX / 2);
        let too_large = |what: &str| crate::error::Error::TooLarge {
            path: path.to_path_buf(),
            what: what.to_string(),
            limit,
        };
        if self.len() as u64 > limit {
            return Err(too_large("accounts"));
        }
        let values = self.signals.values().len() as u64;
        if values > limit {
            return Err(too_large("identifier values (all signals together)"));
        }
        Ok(())
    }

    /// Account index by account id, for the side files (reviews, bids) that name accounts by id. An id
    /// held twice (load keeps only the first; a table built otherwise may not) gives its first holder.
    pub fn id_index(&self) -> IdIndex {
        IdIndex::build(self.len(), |i| self.id.get(i))
    }
    /// The ranks in account-id order of the accounts `shown` (repeats allowed) among themselves, by account
    /// index; `u32::MAX` for every other account. Ids are distinct (load keeps the first of a repeated id), so
    /// the ranks order the shown accounts as their ids do, and the review files compare two numbers instead of
    /// two strings far apart in memory. Only the accounts the files show are sorted (at ten million generated
    /// accounts 3.2 million of them; sorting all took over a second of both cores).
    pub fn id_ranks_of(&self, shown: Vec<u32>) -> Vec<u32> {
        use rayon::prelude::*;
        // Sorted by the ids' first 16 bytes (zero-padded, big-endian: the same order as the strings' where
        // they differ), the strings themselves read only on a tie: most comparisons touch no string.
        let prefix = |s: &str| {
            let mut b = [0u8; 16];
            let n = s.len().min(16);
            b[..n].copy_from_slice(&s.as_bytes()[..n]);
            u128::from_be_bytes(b)
        };
        // Each account shown once: a bit per account (a megabyte at ten million, in cache), set by every
        // worker, then read in account order.
        use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
        let marks: Vec<AtomicU64> = (0..self.len().div_ceil(64))
            .map(|_| AtomicU64::new(0))
            .collect();
        shown.par_iter().for_each(|&i| {
            marks[i as usize / 64].fetch_or(1 << (i % 64), Relaxed);
        });
        let mut order: Vec<(u128, u32)> = (0..self.len() as u32)
            .into_par_iter()
            .filter(|&i| marks[i as usize / 64].load(Relaxed) >> (i % 64) & 1 == 1)
            .map(|i| (prefix(self.id.get(i as usize)), i))
            .collect();
        drop((shown, marks));
        order.par_sort_unstable_by(|x, y| {
            x.0.cmp(&y.0)
                .then_with(|| self.id.get(x.1 as usize).cmp(self.id.get(y.1 as usize)))
        });
        // Read at random by every comparison of two accounts' order in the review files.
        let mut rank = crate::memory::filled_advised(self.len(), u32::MAX);
        for (r, &(_, i)) in order.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        rank
    }
    pub fn signal(&self, s: Signal) -> Multi<'_> {
        self.signals.of(s)
    }
    /// Prefetches for the `k`-th comparison of a run in which `second(k)` is the account met at random
    /// (`None` past the end): the fields of the one `2 × PREFETCH_AHEAD` comparisons ahead, the values of
    /// the one `PREFETCH_AHEAD` ahead.
    #[inline]
    pub fn prefetch_ahead(&self, k: usize, second: impl Fn(usize) -> Option<usize>) {
        if let Some(b) = second(k + 2 * PREFETCH_AHEAD) {
            self.prefetch_fields(b);
        }
        if let Some(b) = second(k + PREFETCH_AHEAD) {
            self.prefetch_values(b);
        }
    }

    /// Packs the fields comparisons read into one record per account (`Facts`). Call it once the columns are
    /// final: a later change to them empties the records again, and reads fall back to the columns.
    pub fn pack_facts(&mut self) {
        use rayon::prelude::*;
        let facts = crate::memory::collect_advised(
            (0..self.len())
                .into_par_iter()
                .map(|i| self.unpacked_facts(i)),
        );
        self.facts = facts;
    }
    /// Sets the bit of every email-handle slot whose value is one of its account's name-made `handles`
    /// (`hash`: how a handle's value is hashed). Call it once the accounts are all appended.
    pub fn index_name_handles(&mut self, hash: impl Fn(&str) -> u64 + Sync) {
        use rayon::prelude::*;
        let m = self.signals.of(Signal::EmailHandle);
        let slots: Vec<u32> = (0..self.len())
            .into_par_iter()
            .flat_map_iter(|i| {
                let (values, first) = (m.get(i), m.range(i).start);
                let hash = &hash;
                self.handles
                    .get(i)
                    .split(' ')
                    .filter(|h| !h.is_empty())
                    .filter_map(move |h| values.binary_search(&hash(h)).ok())
                    .map(move |k| (first + k) as u32)
            })
            .collect();
        let n = self.signals.values().len();
        self.name_handles = Bits::with_set(n, slots.into_iter().map(|s| s as usize));
    }
    /// Whether two accounts share an email-handle value made of each one's own name, from the index when
    /// `index_name_handles` has run, from the handle strings otherwise (the same answer).
    pub fn share_a_name_handle(&self, a: usize, b: usize) -> bool {
        if self.name_handles.is_empty() {
            return self.share_a_name_handle_by_text(a, b);
        }
        let bit = |slot: usize| self.name_handles.get(slot);
        let m = self.signals.of(Signal::EmailHandle);
        let (ra, rb) = (m.range(a), m.range(b));
        let (va, vb) = (m.get(a), m.get(b));
        let (mut i, mut j) = (0, 0);
        while i < va.len() && j < vb.len() {
            if va[i] == vb[j] && bit(ra.start + i) && bit(rb.start + j) {
                return true;
            }
            let (x, y) = (va[i], vb[j]);
            i += usize::from(x <= y);
            j += usize::from(y <= x);
        }
        false
    }
    /// `share_a_name_handle` read from the handle strings.
    pub fn share_a_name_handle_by_text(&self, a: usize, b: usize) -> bool {
        let theirs = self.handles.get(b);
        self.handles
            .get(a)
            .split(' ')
            .any(|h| !h.is_empty() && theirs.split(' ').any(|x| x == h))
    }
    /// Whether the records are packed and current (`pack_facts`).
    fn facts_packed(&self) -> bool {
        self.facts.len() == self.len()
    }
    /// Account `i`'s packed fields, read from the columns.
    fn unpacked_facts(&self, i: usize) -> Facts {
        Facts {
            created: self.created[i],
            dob: self.dob[i],
            status: self.status[i],
            entity: self.entity[i],
        }
    }
    /// Account `i`'s packed fields (from the columns when they are not packed).
    #[inline]
    pub fn facts(&self, i: usize) -> Facts {
        if self.facts_packed() {
            self.facts[i]
        } else {
            self.unpacked_facts(i)
        }
    }
    /// For a possible ban evasion, `(sanctioned, newer)`: one account sanctioned, the other not and not
    /// older (an unknown creation date counts as possible).
    pub fn evasion_direction(&self, a: usize, b: usize) -> Option<(usize, usize)> {
        let of = |i: usize| {
            let f = self.facts(i);
            (f.status.is_sanctioned(), f.created)
        };
        evasion_between(of(a), of(b)).map(|first| if first { (a, b) } else { (b, a) })
    }
    /// Asks the processor to bring account `i`'s fixed-size fields and string offsets into cache: the first
    /// half of a prefetch, issued some pairs ahead of the comparison that reads them (`prefetch_values`
    /// follows with what the offsets point to). Comparing candidate pairs reads a few dozen cache lines of
    /// an account met at random; waiting for them one by one is most of a comparison's cost.
    #[inline]
    pub fn prefetch_fields(&self, i: usize) {
        if i >= self.len() {
            return;
        }
        prefetch(&self.signals.heads[i]);
        // Not the business name's offsets: read only for two entity accounts (rare), fetching them for every
        // pair took room from the lines every comparison reads. (A shared handle is checked in the
        // name-handle index, beside the handle values: no string.)
        prefetch(&self.names.text.offsets[i]);
        if self.facts_packed() {
            prefetch(&self.facts[i]);
        } else {
            prefetch(&self.dob[i]);
            prefetch(&self.status[i]);
            prefetch(&self.created[i]);
            prefetch(&self.entity[i]);
        }
    }
    /// The second half of a prefetch: account `i`'s strings and identifier values, found through the offsets
    /// `prefetch_fields` brought in.
    #[inline]
    pub fn prefetch_values(&self, i: usize) {
        if i >= self.len() {
            return;
        }
        // The forms take two lines when they straddle one: both.
        let c = &self.names.text;
        let text = c.data.as_bytes();
        if let Some(b) = text.get(c.offset(i)) {
            prefetch(b);
        }
        if let Some(b) = text.get(c.offset(i + 1).saturating_sub(1)) {
            prefetch(b);
        }
        self.prefetch_signal_values(i);
    }
    /// Prefetches where account `i`'s identifier values are (the first half of `prefetch_signal_values`).
    pub fn prefetch_signal_head(&self, i: usize) {
        if let Some(h) = self.signals.heads.get(i) {
            prefetch(h);
        }
    }
    /// Prefetches account `i`'s identifier values and their frequencies.
    pub fn prefetch_signal_values(&self, i: usize) {
        if i >= self.len() {
            return;
        }
        let r = self.signals.account_range(i);
        if let Some(v) = self.signals.values.get(r.start) {
            prefetch(v);
        }
        if let Some(v) = self
            .signals
            .values
            .get(r.end.saturating_sub(1).max(r.start))
        {
            prefetch(v);
        }
        if let Some(f) = self.signals.freq.get(r.start) {
            prefetch(f);
        }
        // An account with many addresses holds two dozen values and more, over lines between the first and
        // the last, with the network's in the middle: those too (at most six more of each).
        if r.len() > 16 {
            for at in (r.start + 8..r.end - 1).step_by(8).take(6) {
                prefetch(&self.signals.values[at]);
            }
            for at in (r.start + 16..r.end).step_by(16).take(6) {
                if let Some(f) = self.signals.freq.get(at) {
                    prefetch(f);
                }
            }
        }
    }
    pub fn country_str(&self, i: usize) -> &str {
        let c = &self.country[i];
        if c[0] == 0 {
            ""
        } else {
            std::str::from_utf8(c).unwrap_or("")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_forms_come_back_apart() {
        let long = "x".repeat(126);
        let longer = "y".repeat(127);
        let huge = "z ".repeat(300);
        // (sorted, formal, codes) pushed → what comes back (a long name's forms lose any `SEP`).
        let cases: Vec<([&str; 3], [&str; 3])> = vec![
            (["", "", ""], ["", "", ""]),
            (
                ["ann lee", "ann lee", "AN L"],
                ["ann lee", "ann lee", "AN L"],
            ),
            (["a b smith", "smith", "SM0"], ["a b smith", "smith", "SM0"]),
            (["j", "", ""], ["j", "", ""]),
            (["", "", "KS"], ["", "", "KS"]),
            (
                ["zoë ångström", "zoë ångström", "S ANKST"],
                ["zoë ångström", "zoë ångström", "S ANKST"],
            ),
            ([&long, &long, "X"], [&long, &long, "X"]),
            ([&longer, "b", "P"], [&longer, "b", "P"]),
            (["a", &longer, &huge], ["a", &longer, &huge]),
            ([&huge, "a|b", "|"], [&huge, "ab", ""]),
            (["a|b", "c", "d"], ["a|b", "c", "d"]),
        ];
        let mut names = Names::default();
        let mut more = Names::default();
        for (k, (pushed, _)) in cases.iter().enumerate() {
            let forms = NameForms {
                sorted: pushed[0],
                formal: pushed[1],
                codes: pushed[2],
            };
            if k % 2 == 0 {
                names.push(forms)
            } else {
                more.push(forms)
            }
        }
        // Appended columns keep every account's forms, in order.
        let mut all = Names::default();
        let (evens, odds) = (names.len(), more.len());
        for k in 0..evens.max(odds) {
            let mut one = Names::default();
            if k < evens {
                one.push(names.get(k));
            }
            if k < odds {
                one.push(more.get(k));
            }
            all.extend(one);
        }
        assert_eq!(all.len(), cases.len());
        for (k, (pushed, want)) in cases.iter().enumerate() {
            let got = all.get(k);
            assert_eq!([got.sorted, got.formal, got.codes], *want, "{pushed:?}");
            assert_eq!(all.sorted(k), want[0]);
        }
    }

    #[test]
    fn string_columns_keep_their_strings_and_offsets_past_4_gib() {
        let mut c = StrColumn::default();
        for s in ["", "anna", "", "ünïcode", "b"] {
            c.push(s);
        }
        let mut more = StrColumn::default();
        more.push_joined(["x", "y"].into_iter(), ' ');
        more.push_ascii_lowercase("MiXeD");
        c.extend(more);
        let got: Vec<&str> = (0..c.len()).map(|i| c.get(i)).collect();
        assert_eq!(got, ["", "anna", "", "ünïcode", "b", "x y", "mixed"]);
        assert!(c.wraps.is_empty());
        // The offsets as such (the text itself is not needed for them): ends past one, then three more,
        // multiples of 2^32, one string ending exactly on one.
        let g = 1usize << 32;
        let ends = [5, g - 1, g, g + 7, 3 * g + 2, 4 * g, 4 * g, 5 * g + 1];
        let mut w = StrColumn::default();
        w.start();
        for &e in &ends {
            w.end_at(e);
        }
        assert_eq!(w.len(), ends.len());
        for (k, &e) in ends.iter().enumerate() {
            assert_eq!(w.offset(k + 1), e, "end of string {k}");
        }
        assert_eq!(w.offset(0), 0);
    }

    #[test]
    fn types_and_statuses_parse_in_any_case() {
        let types = [
            ("freelancer", Some(AccountType::Freelancer)),
            ("  CLIENT ", Some(AccountType::Client)),
            ("Agency", Some(AccountType::Agency)),
            ("", Some(AccountType::Unknown)),
            ("   ", Some(AccountType::Unknown)),
            ("freelancers", None),
            ("clien", None),
        ];
        for (raw, want) in types {
            assert_eq!(AccountType::parse(raw), want, "{raw:?}");
        }
        let statuses = [
            ("active", Some(Status::Active)),
            ("SUSPENDED", Some(Status::Suspended)),
            (" Banned", Some(Status::Banned)),
            ("closed\t", Some(Status::Closed)),
            ("", Some(Status::Unknown)),
            ("ban", None),
            ("actívé", None),
        ];
        for (raw, want) in statuses {
            assert_eq!(Status::parse(raw), want, "{raw:?}");
        }
    }

    /// Ranks follow the ids' byte order, however long their shared prefix (past the 16 bytes compared first),
    /// however short, and outside ASCII.
    #[test]
    fn id_ranks_follow_id_order() {
        let ids = [
            "acc-0000000000000000-b",
            "acc-0000000000000000-a",
            "acc-0000000000000000",
            "b",
            "a",
            "ab",
            "Zoë",
            "Zoe",
            "0123456789abcdefX",
            "0123456789abcdef",
            "0123456789abcdeg",
        ];
        let rows: Vec<Vec<(usize, &str)>> =
            ids.iter().map(|&id| vec![(col::ACCOUNT_ID, id)]).collect();
        let acc = crate::normalize::test_accounts(&rows);
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        let ranks = acc.id_ranks_of((0..ids.len() as u32).collect());
        for (i, id) in ids.iter().enumerate() {
            let want = sorted.iter().position(|s| s == id).unwrap();
            assert_eq!(ranks[i] as usize, want, "{id}");
        }
        // Some accounts shown, some twice: ranked among themselves, the others unranked.
        let shown = [0u32, 4, 9, 4, 6, 0, 3];
        let ranks = acc.id_ranks_of(shown.to_vec());
        let mut among: Vec<&str> = shown.iter().map(|&i| ids[i as usize]).collect();
        among.sort_unstable();
        among.dedup();
        for (i, id) in ids.iter().enumerate() {
            let want = match shown.contains(&(i as u32)) {
                true => among.iter().position(|s| s == id).unwrap() as u32,
                false => u32::MAX,
            };
            assert_eq!(ranks[i], want, "{id}");
        }
    }

    #[test]
    fn the_id_index_finds_every_account_and_nothing_else() {
        let mut acc = Accounts::default();
        let ids: Vec<String> = (0..5000).map(|i| format!("acc{i:07}")).collect();
        for (i, id) in ids.iter().enumerate() {
            acc.id.push(id);
            acc.line.push(i as u64 + 2);
        }
        let index = acc.id_index();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(index.get(id), Some(i as u32), "{id}");
        }
        for unknown in ["", "acc", "acc0005000", "ACC0000001", "acc0000001 "] {
            assert_eq!(index.get(unknown), None, "{unknown:?}");
        }
    }

    #[test]
    fn an_id_held_twice_gives_its_first_holder() {
        // 20,000 accounts over 700 ids (each held 28 or 29 times), built by every worker at once.
        let ids: Vec<String> = (0..20_000)
            .map(|i| format!("u{}", (i * 7919) % 700))
            .collect();
        let index = IdIndex::build(ids.len(), |i| ids[i].as_str());
        for (i, id) in ids.iter().enumerate() {
            let first = ids.iter().position(|x| x == id).unwrap() as u32;
            assert_eq!(index.get(id), Some(first), "account {i}");
        }
        assert_eq!(index.get("u700"), None);
        assert_eq!(IdIndex::build(0, |_| "").get("u1"), None);
    }

    #[test]
    fn columns_store_values() {
        let mut s = StrColumn::default();
        s.push("a");
        s.push("");
        s.push("ccc");
        assert_eq!((s.get(0), s.get(1), s.get(2), s.len()), ("a", "", "ccc", 3));
        // Unsorted and repeated on purpose: `push_account` sorts what `finish` did not.
        let account = |email: &[u64], device: &[u64]| {
            let mut v = AccountValues::default();
            device.iter().for_each(|&x| v.push(Signal::Device, x));
            email.iter().for_each(|&x| v.push(Signal::Email, x));
            v
        };
        let mut t = Signals::default();
        t.push_account(&account(&[2, 1, 2], &[7]));
        t.push_account(&account(&[], &[]));
        t.push_account(&account(&[3], &[5, 4]));
        let (m, d) = (t.of(Signal::Email), t.of(Signal::Device));
        // Sorted and distinct per account and signal; each signal apart.
        assert_eq!((m.get(0), d.get(0)), (&[1, 2][..], &[7][..]));
        assert!(m.is_empty_at(1) && d.is_empty_at(1));
        assert_eq!((m.get(2), d.get(2)), (&[3][..], &[4, 5][..]));
        let mut u = Signals::default();
        u.push_account(&account(&[9], &[]));
        t.extend(u);
        assert_eq!(
            (t.of(Signal::Email).get(3), t.of(Signal::Device).range(3)),
            (&[9][..], 7..7)
        );
        assert_eq!(t.account_range(2), 3..6);
        let mut t = StrColumn::default();
        t.push("dd");
        s.extend(t);
        assert_eq!((s.get(2), s.get(3), s.len()), ("ccc", "dd", 4));
        s.push_joined(["x", "", "yz"].into_iter(), ' ');
        s.push_joined(std::iter::empty(), ' ');
        s.push_ascii_lowercase("AbÇD-9");
        assert_eq!((s.get(4), s.get(5), s.get(6)), ("x  yz", "", "abÇd-9"));
    }

    #[test]
    fn parses_enums() {
        assert_eq!(
            AccountType::parse(" Freelancer "),
            Some(AccountType::Freelancer)
        );
        assert_eq!(AccountType::parse(""), Some(AccountType::Unknown));
        assert_eq!(AccountType::parse("robot"), None);
        assert_eq!(Status::parse("BANNED"), Some(Status::Banned));
        assert!(Status::Suspended.is_sanctioned());
        assert!(!Status::Closed.is_sanctioned());
    }
}

//! Person and business names: Unicode NFKC, transliteration to ASCII (deunicode also strips diacritics:
//! Łukasz → lukasz, Дмитрий → dmitrii), case-folding, punctuation and honorifics removed. Produces the
//! token form used for fuzzy comparison, a sorted-token form (token order does not matter), the significant
//! tokens with their Double Metaphone codes (for nickname and spelling variants: Bob/Robert from a public
//! nickname list, Dmitriy/Dmitrii by sound) and phonetic codes for blocking.

use std::sync::OnceLock;

use rphonetic::DoubleMetaphone;
use unicode_normalization::UnicodeNormalization;

/// Tokens that are titles or suffixes, not part of who a person is (a `match`: by length, then bytes).
fn is_honorific(t: &str) -> bool {
    matches!(
        t,
        "mr" | "mrs"
            | "ms"
            | "miss"
            | "mx"
            | "dr"
            | "prof"
            | "sir"
            | "madam"
            | "mme"
            | "mlle"
            | "herr"
            | "frau"
            | "sr"
            | "sra"
            | "srta"
            | "jr"
            | "snr"
            | "jnr"
            | "ii"
            | "iii"
            | "iv"
            | "phd"
            | "md"
            | "esq"
    )
}

/// The public nickname list (carltonnorthern/nicknames, Apache-2.0; see `nicknames/SOURCE.md`):
/// `name1,has_nickname,name2` lines, many-to-many.
const NICKNAME_LIST: &str = include_str!("nicknames/names.csv");

/// Pairs of tokens the list relates, both directions.
fn nickname_pairs() -> &'static std::collections::HashSet<(&'static str, &'static str)> {
    static PAIRS: OnceLock<std::collections::HashSet<(&'static str, &'static str)>> =
        OnceLock::new();
    PAIRS.get_or_init(|| {
        let mut set = std::collections::HashSet::new();
        for line in NICKNAME_LIST.lines().skip(1) {
            let mut parts = line.split(',').map(str::trim);
            if let (Some(a), Some("has_nickname"), Some(b)) =
                (parts.next(), parts.next(), parts.next())
                && !a.is_empty()
                && !b.is_empty()
            {
                set.insert((a, b));
                set.insert((b, a));
            }
        }
        set
    })
}

/// Each token of the nickname list, found by the xxh3 hash of its text, with the tokens the list relates to
/// it (sorted). Read for every pair of differing name tokens compared: one table entry and a short binary
/// search instead of hashing both tokens with SipHash. Tokens whose hashes collide share an entry's list.
type Relatives = std::collections::HashMap<
    u64,
    Vec<(&'static str, Vec<&'static str>)>,
    std::hash::BuildHasherDefault<crate::record::IdentityHasher>,
>;

fn relatives() -> &'static Relatives {
    static MAP: OnceLock<Relatives> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut by_token: std::collections::BTreeMap<&'static str, Vec<&'static str>> =
            std::collections::BTreeMap::new();
        for &(a, b) in nickname_pairs() {
            by_token.entry(a).or_default().push(b);
        }
        let mut map = Relatives::default();
        for (token, mut related) in by_token {
            related.sort_unstable();
            related.dedup();
            map.entry(xxhash_rust::xxh3::xxh3_64(token.as_bytes()))
                .or_default()
                .push((token, related));
        }
        map
    })
}

/// Whether the nickname list relates two (lower-case) name tokens: Bob and Robert, Bill and William.
pub fn are_nicknames(a: &str, b: &str) -> bool {
    nickname_relatives(a).binary_search(&b).is_ok()
}

/// The tokens the nickname list relates to a token (Bob: Robert, Rob, Bobby…), sorted, for blocking.
pub fn nickname_relatives(token: &str) -> &'static [&'static str] {
    relatives()
        .get(&xxhash_rust::xxh3::xxh3_64(token.as_bytes()))
        .and_then(|entries| entries.iter().find(|(t, _)| *t == token))
        .map_or(&[], |(_, related)| related.as_slice())
}

/// The first `N` non-empty space-separated tokens of `s` into `out`: how many, and whether more follow. A byte
/// loop (names run to a dozen bytes or so, shorter than `str::split`'s set-up costs), with the same tokens.
pub fn split_tokens<'a, const N: usize>(s: &'a str, out: &mut [&'a str; N]) -> (usize, bool) {
    // Runs for every compared pair: an iterator over every position with a filter cost a test and a branch
    // per byte more.
    let bytes = s.as_bytes();
    let (mut n, mut i) = (0, 0);
    loop {
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        if i == bytes.len() {
            return (n, false);
        }
        let start = i;
        while i < bytes.len() && bytes[i] != b' ' {
            i += 1;
        }
        if n == N {
            return (n, true);
        }
        // Both ends sit at a space or at an end of `s`: character boundaries.
        out[n] = &s[start..i];
        n += 1;
    }
}

/// Names of more significant tokens than this are never variants of each other (`same_tokens_variant`).
pub const VARIANT_TOKENS: usize = 8;

/// Whether two names, as their significant tokens (`Name::formal`, split: at most `VARIANT_TOKENS` each) and
/// those tokens' Double Metaphone codes (`Name::codes`, in the same order), are the same name told differently:
/// as many tokens, each matched to a distinct token of the other that is equal, related by the nickname list,
/// or spelled a little differently with the same sound (transliterations: Dmitriy and Dmitrii, Mohammed and Muhammad; `close`: the least
/// Jaro-Winkler similarity for that, since sound alone joins short names such as Ava and Ivy).
pub fn same_tokens_variant(
    ta: &[&str],
    codes_a: &str,
    tb: &[&str],
    codes_b: &str,
    close: f64,
) -> bool {
    const MAX: usize = VARIANT_TOKENS;
    // Allocation-free: this runs for every compared pair whose names differ.
    let (na, nb) = (ta.len(), tb.len());
    if na == 0 || na != nb || na > MAX {
        return false;
    }
    let (mut ca, mut cb) = ([""; MAX], [""; MAX]);
    split_tokens(codes_a, &mut ca);
    split_tokens(codes_b, &mut cb);
    let mut used = [false; MAX];
    (0..na).all(|i| {
        let x = ta[i];
        // Looked up when first needed: most tokens meet their equal first.
        let mut relatives: Option<&[&str]> = None;
        let hit = (0..nb).find(|&j| {
            let y = tb[j];
            !used[j]
                && (x == y
                    || (!ca[i].is_empty()
                        && ca[i] == cb[j]
                        && super::similarity::jaro_winkler(x, y) >= close)
                    || relatives
                        .get_or_insert_with(|| nickname_relatives(x))
                        .binary_search(&y)
                        .is_ok())
        });
        hit.inspect(|&j| used[j] = true).is_some()
    })
}

/// Whether an email handle (lower-case letters) is made of a name's tokens (`full`, typed order): the
/// concatenation, in any order, of some of its tokens, each whole or as its initial, with at least one whole
/// token of two letters or more (`johnsmith`, `jsmith`, `smithj`, `smith`, `jqsmith`).
pub fn handle_from_name(handle: &str, full: &str) -> bool {
    fn rest(h: &[u8], toks: &[&[u8]], used: u32, whole: bool) -> bool {
        if h.is_empty() {
            return whole;
        }
        toks.iter().enumerate().any(|(i, t)| {
            let free = used & (1 << i) == 0;
            free && ((h.starts_with(t)
                && rest(&h[t.len()..], toks, used | 1 << i, whole || t.len() >= 2))
                || (!t.is_empty() && h[0] == t[0] && rest(&h[1..], toks, used | 1 << i, whole)))
        })
    }
    // The first six tokens, on the stack (this runs for every account with a handle).
    let mut toks: [&[u8]; 6] = [b""; 6];
    let n = toks
        .iter_mut()
        .zip(full.split(' ').filter(|t| !t.is_empty()))
        .map(|(slot, t)| *slot = t.as_bytes())
        .count();
    !handle.is_empty() && rest(handle.as_bytes(), &toks[..n], 0, false)
}

/// Text normalized to lower-case ASCII tokens: NFKC, transliterated, diacritics and punctuation removed.
/// Apostrophes join (O'Brien → obrien); other punctuation separates (Jean-Pierre → jean pierre).
pub fn tokens(raw: &str) -> Vec<String> {
    let mut buf = String::with_capacity(raw.len() + 1);
    write_tokens(raw, &mut buf);
    buf.split_terminator(' ').map(str::to_string).collect()
}

/// A normalized person name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Name {
    /// Tokens in typed order, honorifics removed, joined by one space.
    pub full: String,
    /// The same tokens sorted: "smith john" and "john smith" agree here.
    pub sorted: String,
    /// Sorted tokens without one-letter initials (the tokens nickname and spelling variants are matched on).
    pub formal: String,
    /// Double Metaphone primary code of each token of `formal`, in the same order, joined by a space.
    pub codes: String,
    /// Double Metaphone primary codes of the first and last non-initial tokens, sorted, joined by a space.
    pub phonetic: String,
}

impl Name {
    pub fn is_empty(&self) -> bool {
        self.full.is_empty()
    }
}

fn metaphone() -> &'static DoubleMetaphone {
    static DM: OnceLock<DoubleMetaphone> = OnceLock::new();
    DM.get_or_init(|| DoubleMetaphone::new(Some(6)))
}

/// Tokens memoized per thread: a few thousand first names and surnames make up most of an export's names, and
/// encoding one costs more than the rest of normalizing the name. Keyed by the token's one-shot xxh3 hash
/// (the token is kept and compared, so two tokens of one hash never share a code: the second is encoded
/// each time). Cleared when full, so memory stays bounded whatever the input; the code is a pure function
/// of the token, so the memo never changes a result.
const PHONETIC_MEMO_MAX: usize = 1 << 16;

/// A memoized token and its code, held inline: a lookup reads the table's own memory, not a string elsewhere
/// in the heap (a cache miss per name token when the strings were boxed).
#[derive(Clone, Copy)]
struct MemoEntry {
    token: [u8; MEMO_TOKEN],
    token_len: u8,
    code: [u8; MEMO_CODE],
    code_len: u8,
}

/// The longest token and code memoized (longer ones are encoded each time: rare in names).
const MEMO_TOKEN: usize = 22;
const MEMO_CODE: usize = 8;

impl MemoEntry {
    fn new(token: &str, code: &str) -> Option<MemoEntry> {
        if token.len() > MEMO_TOKEN || code.len() > MEMO_CODE {
            return None;
        }
        let mut e = MemoEntry {
            token: [0; MEMO_TOKEN],
            token_len: token.len() as u8,
            code: [0; MEMO_CODE],
            code_len: code.len() as u8,
        };
        e.token[..token.len()].copy_from_slice(token.as_bytes());
        e.code[..code.len()].copy_from_slice(code.as_bytes());
        Some(e)
    }
    fn token(&self) -> &[u8] {
        &self.token[..self.token_len as usize]
    }
    fn code(&self) -> &str {
        // Written from a `&str` by `new`, whole: always valid.
        std::str::from_utf8(&self.code[..self.code_len as usize]).unwrap_or("")
    }
}

type PhoneticMemo = std::collections::HashMap<
    u64,
    MemoEntry,
    std::hash::BuildHasherDefault<crate::record::IdentityHasher>,
>;

thread_local! {
    static PHONETIC_MEMO: std::cell::RefCell<PhoneticMemo> =
        std::cell::RefCell::new(PhoneticMemo::default());
}

/// Appends the Double Metaphone primary code of one token to `out`.
fn push_phonetic_code(token: &str, out: &mut String) {
    let h = xxhash_rust::xxh3::xxh3_64(token.as_bytes());
    PHONETIC_MEMO.with_borrow_mut(|memo| {
        match memo.get(&h) {
            Some(e) if e.token() == token.as_bytes() => return out.push_str(e.code()),
            Some(_) => return out.push_str(&metaphone().double_metaphone(token).primary()),
            None => {}
        }
        if memo.len() >= PHONETIC_MEMO_MAX {
            memo.clear();
        }
        let code = metaphone().double_metaphone(token).primary();
        out.push_str(&code);
        if let Some(e) = MemoEntry::new(token, &code) {
            memo.insert(h, e);
        }
    })
}

/// Writes the lower-case ASCII tokens of `raw` (see `tokens`) into `buf`, each followed by one space.
fn write_tokens(raw: &str, buf: &mut String) {
    // NFKC and transliteration leave ASCII as it is: skip both for the common case.
    let owned;
    let ascii: &str = if raw.is_ascii() {
        raw
    } else {
        let nfkc: String = raw.nfkc().collect();
        owned = deunicode::deunicode(&nfkc);
        &owned
    };
    // Byte by byte: the text is ASCII here (a byte of a character outside it would separate, as the
    // character would, and separators collapse).
    let mut open = false;
    for &b in ascii.as_bytes() {
        if b.is_ascii_alphanumeric() {
            buf.push(char::from(b.to_ascii_lowercase()));
            open = true;
        } else if b == b'\'' || b == b'`' {
            // joins: o'brien
        } else if open {
            buf.push(' ');
            open = false;
        }
    }
    if open {
        buf.push(' ');
    }
}

/// Normalizes a person name. An empty or all-punctuation value gives an empty `Name`. Allocation-light: one
/// buffer of tokens, its tokens listed on the stack (up to `STACK_TOKENS`), and the five strings of the result.
pub fn normalize(raw: &str) -> Name {
    const STACK_TOKENS: usize = 16;
    let mut buf = String::with_capacity(raw.len() + 1);
    write_tokens(raw, &mut buf);
    let (mut stack, mut heap) = ([""; STACK_TOKENS], Vec::new());
    let mut n = 0;
    for t in buf.split_terminator(' ').filter(|t| !is_honorific(t)) {
        if n < STACK_TOKENS {
            stack[n] = t;
        } else {
            if n == STACK_TOKENS {
                heap.extend_from_slice(&stack);
            }
            heap.push(t);
        }
        n += 1;
    }
    let toks: &mut [&str] = if n <= STACK_TOKENS {
        &mut stack[..n]
    } else {
        &mut heap
    };
    if toks.is_empty() {
        return Name::default();
    }
    let joined = |ts: &[&str]| joined(ts, buf.len());
    let full = joined(toks);
    // The first and last significant tokens in typed order (the same one when only one is), for `phonetic`.
    let significant = |t: &&str| t.len() > 1 && t.bytes().any(|c| c.is_ascii_alphabetic());
    let ends = toks.iter().position(significant).map(|first| {
        let last = toks.iter().rposition(significant).unwrap_or(first);
        (toks[first], toks[last], first != last)
    });
    toks.sort_unstable();
    let sorted = joined(toks);
    // The formal tokens are the sorted ones without initials, moved to the front: they stay sorted.
    let mut m = 0;
    for k in 0..toks.len() {
        if toks[k].len() > 1 {
            toks[m] = toks[k];
            m += 1;
        }
    }
    let formal_toks = &toks[..m];
    let formal = joined(formal_toks);
    let mut codes = String::with_capacity(formal.len());
    for (k, t) in formal_toks.iter().enumerate() {
        if k > 0 {
            codes.push(' ');
        }
        push_phonetic_code(t, &mut codes);
    }
    let phonetic = phonetic_of(ends, formal_toks, &codes);
    Name {
        full,
        sorted,
        formal,
        codes,
        phonetic,
    }
}

/// Tokens joined by one space, in a string of room `room`.
fn joined(ts: &[&str], room: usize) -> String {
    let mut out = String::with_capacity(room);
    for (k, t) in ts.iter().enumerate() {
        if k > 0 {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}

/// A name's `phonetic` form: the codes of its first and last significant tokens (`ends`: those tokens and
/// whether they are two), sorted. Every significant token is a formal one: its code is already in `codes`, at
/// the token's place in the sorted `formal_toks` (codes may be empty, so `split` keeps their places).
fn phonetic_of(ends: Option<(&str, &str, bool)>, formal_toks: &[&str], codes: &str) -> String {
    let code_of = |t: &str| -> std::borrow::Cow<'_, str> {
        match formal_toks.binary_search(&t) {
            Ok(k) => codes.split(' ').nth(k).unwrap_or("").into(),
            Err(_) => {
                let mut c = String::new();
                push_phonetic_code(t, &mut c);
                c.into()
            }
        }
    };
    match ends {
        Some((first, last, true)) => {
            let mut pair = [code_of(first), code_of(last)];
            pair.sort_unstable();
            [&*pair[0], " ", &*pair[1]].concat()
        }
        Some((only, _, false)) => code_of(only).into_owned(),
        None => String::new(),
    }
}

/// A normalized business name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Business {
    /// Tokens in typed order, legal forms and articles dropped.
    pub name: String,
    /// The raw name carried a legal form (`LLC`, `GmbH`…): a registered entity, even when the rest is the
    /// owner's own name (`John Smith LLC`).
    pub legal_form: bool,
}

/// Normalizes a business name for comparison: tokens without legal-form suffixes (llc, ltd, gmbh…).
pub fn normalize_business(raw: &str) -> Business {
    const LEGAL: &[&str] = &[
        "llc",
        "ltd",
        "limited",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "gmbh",
        "ag",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "bv",
        "nv",
        "plc",
        "pty",
        "oy",
        "ab",
        "as",
        "kg",
        "ooo",
        "the",
    ];
    let all = tokens(raw);
    let kept: Vec<&str> = all
        .iter()
        .map(String::as_str)
        .filter(|t| !LEGAL.contains(t))
        .collect();
    Business {
        legal_form: all
            .iter()
            .any(|t| t != "the" && LEGAL.contains(&t.as_str())),
        name: kept.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_tokens_is_split_on_spaces() {
        let cases = [
            "",
            " ",
            "a",
            "ann lee",
            " ann  lee ",
            "a b c d",
            "a b c d e",
            "zoë ångström x",
            "  x",
            "one two three four five six seven eight nine",
        ];
        for s in cases {
            let want: Vec<&str> = s.split(' ').filter(|t| !t.is_empty()).collect();
            let mut out = [""; 4];
            let (n, more) = split_tokens(s, &mut out);
            assert_eq!(out[..n], want[..want.len().min(4)], "{s:?}");
            assert_eq!(more, want.len() > 4, "{s:?}");
        }
    }

    /// `same_tokens_variant` of two names' forms as text.
    fn same_name_variant(
        formal_a: &str,
        codes_a: &str,
        formal_b: &str,
        codes_b: &str,
        close: f64,
    ) -> bool {
        let (mut ta, mut tb) = ([""; VARIANT_TOKENS], [""; VARIANT_TOKENS]);
        match (
            split_tokens(formal_a, &mut ta),
            split_tokens(formal_b, &mut tb),
        ) {
            ((na, false), (nb, false)) => {
                same_tokens_variant(&ta[..na], codes_a, &tb[..nb], codes_b, close)
            }
            _ => false,
        }
    }

    /// The memo answers every token as encoding it would: short and long tokens, the first time and again.
    #[test]
    fn memoized_codes_are_the_encoders() {
        let tokens = [
            "smith",
            "schmidt",
            "dmitrii",
            "x",
            "abcdefghijklmnopqrstuvwxyzabcdef",
            "wolfeschlegelsteinhausenbergerdorff",
            "zhang",
        ];
        for round in 0..2 {
            for t in tokens {
                let mut got = String::new();
                push_phonetic_code(t, &mut got);
                assert_eq!(
                    got,
                    metaphone().double_metaphone(t).primary(),
                    "{t}, round {round}"
                );
            }
        }
    }

    /// The normalization as first written (a list of tokens and a sorted copy, joined): the reference
    /// `normalize` is held to.
    fn normalize_reference(raw: &str) -> [String; 5] {
        let mut buf = String::with_capacity(raw.len() + 1);
        write_tokens(raw, &mut buf);
        let toks: Vec<&str> = buf
            .split_terminator(' ')
            .filter(|t| !is_honorific(t))
            .collect();
        if toks.is_empty() {
            return Default::default();
        }
        let full = toks.join(" ");
        let mut sorted_toks = toks.clone();
        sorted_toks.sort_unstable();
        let sorted = sorted_toks.join(" ");
        // The formal tokens are the sorted ones without initials: the sorted list, filtered, stays sorted.
        sorted_toks.retain(|t| t.len() > 1);
        let formal_toks = sorted_toks;
        let formal = formal_toks.join(" ");
        let mut codes = String::with_capacity(formal.len());
        for (k, t) in formal_toks.iter().enumerate() {
            if k > 0 {
                codes.push(' ');
            }
            push_phonetic_code(t, &mut codes);
        }
        // Every significant token is a formal one: its code is already in `codes`, at the token's place in the
        // sorted `formal_toks` (codes may be empty, so `split` keeps their places).
        let code_of = |t: &str| -> String {
            match formal_toks.binary_search(&t) {
                Ok(k) => codes.split(' ').nth(k).unwrap_or("").to_string(),
                Err(_) => {
                    let mut c = String::new();
                    push_phonetic_code(t, &mut c);
                    c
                }
            }
        };
        let significant = |t: &&&str| t.len() > 1 && t.bytes().any(|c| c.is_ascii_alphabetic());
        let phonetic = match (
            toks.iter().find(significant),
            toks.iter().rev().find(significant),
        ) {
            (Some(first), Some(last)) if !std::ptr::eq(first, last) => {
                let mut pair = [code_of(first), code_of(last)];
                pair.sort_unstable();
                pair.join(" ")
            }
            (Some(only), _) => code_of(only),
            _ => String::new(),
        };
        [full, sorted, formal, codes, phonetic]
    }

    /// The stack-listed normalization gives every form the reference gives: typed and sorted orders,
    /// initials, honorifics, repeated tokens, digits, and more tokens than the stack holds.
    #[test]
    fn normalize_agrees_with_the_reference() {
        let words = [
            "john",
            "Q.",
            "smith",
            "Dr",
            "mr",
            "ann-marie",
            "o'neil",
            "x",
            "42",
            "b2b",
            "Дмитрий",
            "josé",
            "jr",
            "ii",
            "a",
            "zoë",
            "smith",
            "li",
            "ng",
            "wolfeschlegelsteinhausenbergerdorff",
        ];
        let mut next = crate::testing::xorshift(0x9e37_79b9_7f4a_7c15);
        let mut names: Vec<String> = vec![String::new(), " , ".into(), "Mr".into(), "x y".into()];
        for _ in 0..3000 {
            let len = (next() % 22) as usize;
            let name: Vec<&str> = (0..len)
                .map(|_| words[(next() % words.len() as u64) as usize])
                .collect();
            names.push(name.join(if next().is_multiple_of(3) { ", " } else { " " }));
        }
        for raw in &names {
            let n = normalize(raw);
            let forms = [n.full, n.sorted, n.formal, n.codes, n.phonetic];
            assert_eq!(forms, normalize_reference(raw), "{raw:?}");
        }
    }

    #[test]
    fn normalizes_names() {
        // (raw, full, sorted, formal)
        let cases = [
            (
                "Łukasz Nowak",
                "lukasz nowak",
                "lukasz nowak",
                "lukasz nowak",
            ),
            (
                "Дмитрий Иванов",
                "dmitrii ivanov",
                "dmitrii ivanov",
                "dmitrii ivanov",
            ),
            ("  SMITH,  John ", "smith john", "john smith", "john smith"),
            (
                "Dr. Jane  Doe-Roe",
                "jane doe roe",
                "doe jane roe",
                "doe jane roe",
            ),
            (
                "José Álvarez",
                "jose alvarez",
                "alvarez jose",
                "alvarez jose",
            ),
            ("Bob Smith Jr.", "bob smith", "bob smith", "bob smith"),
            ("Straße", "strasse", "strasse", "strasse"),
            ("Ｊｏｈｎ", "john", "john", "john"),
            ("Seán O'Brien", "sean obrien", "obrien sean", "obrien sean"),
            (
                "John Q. Public",
                "john q public",
                "john public q",
                "john public",
            ),
            ("", "", "", ""),
            ("  ---  ", "", "", ""),
        ];
        for (raw, full, sorted, formal) in cases {
            let n = normalize(raw);
            assert_eq!(n.full, full, "full of {raw:?}");
            assert_eq!(n.sorted, sorted, "sorted of {raw:?}");
            assert_eq!(n.formal, formal, "formal of {raw:?}");
        }
    }

    #[test]
    fn phonetic_is_order_and_initial_insensitive() {
        let a = normalize("John Smith");
        let b = normalize("Smith, John");
        let c = normalize("John Q Smith");
        let d = normalize("Jon Smyth");
        assert!(!a.phonetic.is_empty());
        assert_eq!(a.phonetic, b.phonetic);
        assert_eq!(a.phonetic, c.phonetic);
        assert_eq!(a.phonetic, d.phonetic);
        assert_ne!(a.phonetic, normalize("Maria Garcia").phonetic);
    }

    #[test]
    fn nickname_and_spelling_variants() {
        // (a, b, same name told differently)
        let cases = [
            ("Bob Jones", "Robert Jones", true),
            ("Jones, Bill", "William Jones", true),
            ("Peggy Olson", "Margaret Olson", true),
            ("Dmitriy Ivanov", "Dmitrii Ivanov", true),
            ("Mohammed Ali", "Muhammad Ali", true),
            ("John Q. Smith", "John Smith", true),
            ("Robert Jones", "Robert Smith", false),
            ("Bob Jones", "Robert Jones Smith", false),
            ("Maria Lopez", "Carlos Lopez", false),
            ("Ava Brook", "Ivy Brook", false),
            ("", "Ann Lee", false),
        ];
        for (a, b, want) in cases {
            let (x, y) = (normalize(a), normalize(b));
            assert_eq!(
                same_name_variant(&x.formal, &x.codes, &y.formal, &y.codes, 0.84),
                want,
                "{a:?} vs {b:?}"
            );
        }
        assert!(are_nicknames("bob", "robert") && are_nicknames("robert", "bob"));
        assert!(!are_nicknames("bob", "william"));
    }

    #[test]
    fn handles_made_of_the_name() {
        let cases = [
            ("johnsmith", "john smith", true),
            ("jsmith", "john smith", true),
            ("smithjohn", "john smith", true),
            ("smith", "john smith", true),
            ("jqsmith", "john q smith", true),
            ("js", "john smith", false),
            ("shadowfox", "john smith", false),
            ("johnsmithx", "john smith", false),
            ("leonlorenz", "kai berg", false),
            // Only the first six tokens count.
            ("afred", "a bo c d e fred z", true),
            ("gsmith", "a b c d e f g smith", false),
            ("smith", "  john   smith ", true),
        ];
        for (h, name, want) in cases {
            assert_eq!(handle_from_name(h, name), want, "{h} / {name}");
        }
    }

    #[test]
    fn business_names_drop_legal_forms() {
        let cases = [
            ("Acme LLC", "acme", true),
            ("ACME, Inc.", "acme", true),
            ("Müller GmbH", "muller", true),
            ("The Pixel Co", "pixel", true),
            ("The Pixel Studio", "pixel studio", false),
            ("John Smith", "john smith", false),
            ("", "", false),
        ];
        for (raw, want, legal_form) in cases {
            let b = normalize_business(raw);
            assert_eq!(
                (b.name.as_str(), b.legal_form),
                (want, legal_form),
                "{raw:?}"
            );
        }
    }
}

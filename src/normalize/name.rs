//! Person and business names: Unicode NFKC, transliteration to ASCII (deunicode also strips diacritics:
//! Łukasz → lukasz, Дмитрий → dmitrii), case-folding, punctuation and honorifics removed. Produces the
//! token form used for fuzzy comparison, a sorted-token form (token order does not matter), a nickname-folded
//! form (Bob → robert) and Double Metaphone codes for blocking.

use std::sync::OnceLock;

use rphonetic::DoubleMetaphone;
use unicode_normalization::UnicodeNormalization;

/// Tokens that are titles or suffixes, not part of who a person is.
const HONORIFICS: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "mme", "mlle", "herr", "frau",
    "sr", "sra", "srta", "jr", "snr", "jnr", "ii", "iii", "iv", "phd", "md", "esq",
];

/// Common given-name diminutives and their formal form. Domain knowledge, not tuning: people who open a
/// second account often switch between the two (Bob/Robert, Dima/Dmitrii). Both sides are folded to the
/// formal form before comparison, so the table works in either direction.
const NICKNAMES: &[(&str, &str)] = &[
    ("bob", "robert"),
    ("bobby", "robert"),
    ("rob", "robert"),
    ("robbie", "robert"),
    ("bert", "robert"),
    ("bill", "william"),
    ("billy", "william"),
    ("will", "william"),
    ("willy", "william"),
    ("liam", "william"),
    ("jim", "james"),
    ("jimmy", "james"),
    ("jamie", "james"),
    ("mike", "michael"),
    ("mikey", "michael"),
    ("mick", "michael"),
    ("dick", "richard"),
    ("rick", "richard"),
    ("ricky", "richard"),
    ("rich", "richard"),
    ("tom", "thomas"),
    ("tommy", "thomas"),
    ("joe", "joseph"),
    ("joey", "joseph"),
    ("dave", "david"),
    ("davy", "david"),
    ("dan", "daniel"),
    ("danny", "daniel"),
    ("chris", "christopher"),
    ("kit", "christopher"),
    ("matt", "matthew"),
    ("tony", "anthony"),
    ("andy", "andrew"),
    ("drew", "andrew"),
    ("steve", "stephen"),
    ("steven", "stephen"),
    ("nick", "nicholas"),
    ("ben", "benjamin"),
    ("sam", "samuel"),
    ("alex", "alexander"),
    ("sasha", "alexander"),
    ("sandy", "alexander"),
    ("ed", "edward"),
    ("eddie", "edward"),
    ("ted", "edward"),
    ("ned", "edward"),
    ("greg", "gregory"),
    ("jeff", "jeffrey"),
    ("johnny", "john"),
    ("jack", "john"),
    ("larry", "lawrence"),
    ("pat", "patrick"),
    ("pete", "peter"),
    ("ron", "ronald"),
    ("tim", "timothy"),
    ("charlie", "charles"),
    ("chuck", "charles"),
    ("frank", "francis"),
    ("fred", "frederick"),
    ("harry", "henry"),
    ("hank", "henry"),
    ("ken", "kenneth"),
    ("kenny", "kenneth"),
    ("len", "leonard"),
    ("liz", "elizabeth"),
    ("beth", "elizabeth"),
    ("betty", "elizabeth"),
    ("lizzie", "elizabeth"),
    ("eliza", "elizabeth"),
    ("kate", "katherine"),
    ("katie", "katherine"),
    ("kathy", "katherine"),
    ("catherine", "katherine"),
    ("cathy", "katherine"),
    ("jen", "jennifer"),
    ("jenny", "jennifer"),
    ("sue", "susan"),
    ("suzy", "susan"),
    ("maggie", "margaret"),
    ("peggy", "margaret"),
    ("meg", "margaret"),
    ("abby", "abigail"),
    ("becky", "rebecca"),
    ("debbie", "deborah"),
    ("deb", "deborah"),
    ("vicky", "victoria"),
    ("tori", "victoria"),
    ("mandy", "amanda"),
    ("jess", "jessica"),
    ("annie", "anna"),
    ("ann", "anna"),
    ("anne", "anna"),
    ("nancy", "anna"),
    ("dima", "dmitrii"),
    ("dmitriy", "dmitrii"),
    ("dmitry", "dmitrii"),
    ("dmitrij", "dmitrii"),
    ("misha", "mikhail"),
    ("vova", "vladimir"),
    ("volodya", "vladimir"),
    ("kolya", "nikolai"),
    ("nikolay", "nikolai"),
    ("sergey", "sergei"),
    ("seryozha", "sergei"),
    ("andrey", "andrei"),
    ("alexey", "aleksei"),
    ("alexei", "aleksei"),
    ("aleksey", "aleksei"),
    ("lesha", "aleksei"),
    ("yuri", "iurii"),
    ("yuriy", "iurii"),
    ("natasha", "natalia"),
    ("natalya", "natalia"),
    ("tanya", "tatiana"),
    ("tatyana", "tatiana"),
    ("olya", "olga"),
    ("katya", "ekaterina"),
    ("yekaterina", "ekaterina"),
    ("masha", "mariia"),
    ("maria", "mariia"),
    ("mariya", "mariia"),
    ("pepe", "jose"),
    ("paco", "francisco"),
    ("pancho", "francisco"),
    ("lupe", "guadalupe"),
    ("memo", "guillermo"),
    ("nacho", "ignacio"),
    ("chema", "josemaria"),
    ("mohammed", "muhammad"),
    ("mohammad", "muhammad"),
    ("mohamed", "muhammad"),
    ("muhammed", "muhammad"),
    ("mohamad", "muhammad"),
    ("ahmad", "ahmed"),
    ("yusuf", "yousef"),
    ("youssef", "yousef"),
];

fn nickname_table() -> &'static std::collections::HashMap<&'static str, &'static str> {
    static TABLE: OnceLock<std::collections::HashMap<&'static str, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| NICKNAMES.iter().copied().collect())
}

/// Folds a token to its formal form if it is a known diminutive or spelling variant.
pub fn formal(token: &str) -> &str {
    nickname_table().get(token).copied().unwrap_or(token)
}

/// Text normalized to lower-case ASCII tokens: NFKC, transliterated, diacritics and punctuation removed.
/// Apostrophes join (O'Brien → obrien); other punctuation separates (Jean-Pierre → jean pierre).
pub fn tokens(raw: &str) -> Vec<String> {
    // NFKC and transliteration leave ASCII as it is: skip both for the common case.
    let owned;
    let ascii: &str = if raw.is_ascii() {
        raw
    } else {
        let nfkc: String = raw.nfkc().collect();
        owned = deunicode::deunicode(&nfkc);
        &owned
    };
    let mut out = Vec::new();
    let mut cur = String::new();
    for ch in ascii.chars() {
        if ch.is_ascii_alphanumeric() {
            cur.push(ch.to_ascii_lowercase());
        } else if ch == '\'' || ch == '`' {
            // joins: o'brien
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A normalized person name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Name {
    /// Tokens in typed order, honorifics removed, joined by one space.
    pub full: String,
    /// The same tokens sorted: "smith john" and "john smith" agree here.
    pub sorted: String,
    /// Sorted tokens after folding nicknames and dropping one-letter initials.
    pub formal: String,
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

/// Normalizes a person name. An empty or all-punctuation value gives an empty `Name`.
pub fn normalize(raw: &str) -> Name {
    let toks: Vec<String> = tokens(raw)
        .into_iter()
        .filter(|t| !HONORIFICS.contains(&t.as_str()))
        .collect();
    if toks.is_empty() {
        return Name::default();
    }
    let full = toks.join(" ");
    let mut sorted_toks: Vec<&str> = toks.iter().map(String::as_str).collect();
    sorted_toks.sort_unstable();
    let sorted = sorted_toks.join(" ");
    let mut formal_toks: Vec<&str> = toks
        .iter()
        .filter(|t| t.len() > 1)
        .map(|t| self::formal(t))
        .collect();
    formal_toks.sort_unstable();
    let formal_joined = formal_toks.join(" ");
    let significant: Vec<&String> = toks
        .iter()
        .filter(|t| t.len() > 1 && t.chars().any(|c| c.is_ascii_alphabetic()))
        .collect();
    let phonetic = match significant.as_slice() {
        [] => String::new(),
        [only] => metaphone().double_metaphone(self::formal(only)).primary(),
        [first, .., last] => {
            let mut codes = [
                metaphone().double_metaphone(self::formal(first)).primary(),
                metaphone().double_metaphone(self::formal(last)).primary(),
            ];
            codes.sort_unstable();
            codes.join(" ")
        }
    };
    Name {
        full,
        sorted,
        formal: formal_joined,
        phonetic,
    }
}

/// Normalizes a business name for comparison: tokens without legal-form suffixes (llc, ltd, gmbh…).
pub fn normalize_business(raw: &str) -> String {
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
    tokens(raw)
        .into_iter()
        .filter(|t| !LEGAL.contains(&t.as_str()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

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
            ("Bob Smith Jr.", "bob smith", "bob smith", "robert smith"),
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
        assert_eq!(
            normalize("Bob Jones").phonetic,
            normalize("Robert Jones").phonetic
        );
    }

    #[test]
    fn business_names_drop_legal_forms() {
        let cases = [
            ("Acme LLC", "acme"),
            ("ACME, Inc.", "acme"),
            ("Müller GmbH", "muller"),
            ("The Pixel Co", "pixel"),
            ("", ""),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize_business(raw), want, "{raw:?}");
        }
    }
}

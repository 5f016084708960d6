//! How people write their own names differently on a second account: nicknames by the customs of their
//! language (diminutive suffixes and short forms, not a lookup table shared with the matcher), and native-script
//! names romanized by another scheme (Юлия → Yulia / Iuliia / Julia). This file describes people; the matcher's
//! nickname list (`normalize/nicknames`) is never read here.

use rand::RngExt;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

/// Short forms of given names as people of some cultures use them (customs, written out: no rule derives
/// Sasha from Aleksandr). The matcher has no such list for these languages.
const CUSTOMARY: &[(&str, &[&str])] = &[
    ("Aleksandr", &["Sasha", "Shura"]),
    ("Anastasia", &["Nastya", "Asya"]),
    ("Dmitrii", &["Dima", "Mitya"]),
    ("Ekaterina", &["Katya", "Katyusha"]),
    ("Mikhail", &["Misha"]),
    ("Sergei", &["Seryozha"]),
    ("Olga", &["Olya"]),
    ("Tatiana", &["Tanya"]),
    ("Ivan", &["Vanya"]),
    ("José", &["Pepe", "Chepe"]),
    ("Francisco", &["Paco", "Pancho", "Curro"]),
    ("Guadalupe", &["Lupe", "Lupita"]),
    ("Jesús", &["Chucho", "Chuy"]),
    ("Manuel", &["Manolo", "Lolo"]),
    ("Eduardo", &["Lalo"]),
    ("Mohamed", &["Hamada", "Moha"]),
    ("Małgorzata", &["Gosia", "Małgosia"]),
    ("Katarzyna", &["Kasia"]),
    ("Wojciech", &["Wojtek"]),
];

/// A nickname the way people form it: a customary short form where the language has one, else a
/// truncation (Christopher → Chris, Katherine → Kath) with or without a diminutive ending by language.
pub fn nickname(rng: &mut ChaCha8Rng, first: &str, country: &str) -> String {
    if let Some((_, forms)) = CUSTOMARY.iter().find(|(f, _)| *f == first) {
        return forms.choose(rng).copied().unwrap_or(first).to_string();
    }
    let chars: Vec<char> = first.chars().collect();
    if chars.len() <= 4 {
        return first.to_string();
    }
    let cut = rng.random_range(3..=4usize).min(chars.len() - 1);
    let stem: String = chars[..cut].iter().collect();
    let endings: &[&str] = match country {
        "ES" | "MX" => &["", "ito", "i"],
        "BR" => &["", "inho", "a"],
        "DE" | "PL" => &["", "i", "ek"],
        "RU" => &["", "ya", "sha"],
        "FR" => &["", "ou", "o"],
        _ => &["", "y", "ie"],
    };
    format!("{stem}{}", endings.choose(rng).copied().unwrap_or(""))
}

/// Romanization schemes of Cyrillic: (letter, English/BGN-like, passport/ISO-like, German-like).
const CYRILLIC: &[(char, &str, &str, &str)] = &[
    ('а', "a", "a", "a"),
    ('б', "b", "b", "b"),
    ('в', "v", "v", "w"),
    ('г', "g", "g", "g"),
    ('д', "d", "d", "d"),
    ('е', "e", "e", "e"),
    ('ё', "yo", "e", "jo"),
    ('ж', "zh", "zh", "sch"),
    ('з', "z", "z", "s"),
    ('и', "i", "i", "i"),
    ('й', "y", "i", "j"),
    ('к', "k", "k", "k"),
    ('л', "l", "l", "l"),
    ('м', "m", "m", "m"),
    ('н', "n", "n", "n"),
    ('о', "o", "o", "o"),
    ('п', "p", "p", "p"),
    ('р', "r", "r", "r"),
    ('с', "s", "s", "s"),
    ('т', "t", "t", "t"),
    ('у', "u", "u", "u"),
    ('ф', "f", "f", "f"),
    ('х', "kh", "kh", "ch"),
    ('ц', "ts", "ts", "z"),
    ('ч', "ch", "ch", "tsch"),
    ('ш', "sh", "sh", "sch"),
    ('щ', "shch", "shch", "schtsch"),
    ('ъ', "", "ie", ""),
    ('ы', "y", "y", "y"),
    ('ь', "", "", ""),
    ('э', "e", "e", "e"),
    ('ю', "yu", "iu", "ju"),
    ('я', "ya", "ia", "ja"),
];

/// A Cyrillic name romanized by one of three schemes (`scheme` 0-2); other characters are kept. Capitalized
/// as a name.
pub fn romanize(native: &str, scheme: usize) -> String {
    let mut out = String::new();
    for ch in native.chars() {
        let lower = ch.to_lowercase().next().unwrap_or(ch);
        match CYRILLIC.iter().find(|c| c.0 == lower) {
            Some(&(_, a, b, c)) => {
                let s = [a, b, c][scheme.min(2)];
                if ch.is_uppercase() {
                    let mut cs = s.chars();
                    if let Some(f) = cs.next() {
                        out.extend(f.to_uppercase());
                        out.push_str(cs.as_str());
                    }
                } else {
                    out.push_str(s);
                }
            }
            None => out.push(ch),
        }
    }
    out
}

/// Whether a text has Cyrillic letters.
pub fn is_cyrillic(s: &str) -> bool {
    s.chars().any(|c| ('\u{400}'..='\u{4ff}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn romanizations_differ_by_scheme() {
        assert_eq!(romanize("Юлия", 0), "Yuliya");
        assert_eq!(romanize("Юлия", 1), "Iuliia");
        assert_eq!(romanize("Юлия", 2), "Julija");
        assert_eq!(romanize("Хрущёв", 0), "Khrushchyov");
        assert!(is_cyrillic("Иван") && !is_cyrillic("Ivan"));
    }

    #[test]
    fn nicknames_follow_customs_or_shorten() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert!(["Sasha", "Shura"].contains(&nickname(&mut rng, "Aleksandr", "RU").as_str()));
        for _ in 0..20 {
            let n = nickname(&mut rng, "Christopher", "US");
            assert!(n.starts_with("Chr") && n.len() < "Christopher".len(), "{n}");
        }
        assert_eq!(nickname(&mut rng, "Ana", "BR"), "Ana");
    }
}

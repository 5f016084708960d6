//! String similarity for comparing normalized values: Jaro–Winkler, computed on bytes for the ASCII strings
//! that normalization produces nearly always (names are folded to ASCII where a transliteration exists), and
//! handed to `strsim` for anything else. The byte version follows strsim's algorithm step for step (the same
//! search window, the same greedy matching, the same arithmetic in the same order), so it returns the very
//! same `f64`: a weight, a level or an output byte never depends on which path was taken. The property test
//! below holds it to that on random strings.

/// Longest string the byte path handles (its match flags live on the stack); longer ones go to strsim.
const STACK: usize = 64;

/// Jaro–Winkler similarity of two strings, equal to `strsim::jaro_winkler(a, b)`.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if !(a.is_ascii() && b.is_ascii()) || x.len() > STACK || y.len() > STACK {
        return strsim::jaro_winkler(a, b);
    }
    let sim = jaro(x, y);
    if sim > 0.7 {
        let prefix = x.iter().take(4).zip(y).take_while(|(p, q)| p == q).count();
        sim + 0.1 * prefix as f64 * (1.0 - sim)
    } else {
        sim
    }
}

/// An upper bound of `jaro_winkler(a, b)` that costs one pass over each string: the characters the two share
/// (as multisets) bound the matches, every match counted as no transposition, and the common prefix is exact.
/// It is never below the similarity (the same arithmetic on larger terms, rounding being monotone), so a bound
/// under a threshold says the similarity is under it too. Non-ASCII strings get 1 (no bound).
pub fn jaro_winkler_bound(a: &str, b: &str) -> f64 {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if !(a.is_ascii() && b.is_ascii()) {
        return 1.0;
    }
    if x.is_empty() && y.is_empty() {
        return 1.0;
    }
    let mut count = [0i16; 128];
    for &c in x {
        count[c as usize] += 1;
    }
    let mut common = 0usize;
    for &c in y {
        if count[c as usize] > 0 {
            count[c as usize] -= 1;
            common += 1;
        }
    }
    bound_of(x, y, common)
}

/// A lower-case word's letters as a multiset (how many times each of `a`–`z` occurs), for `Letters::bound`:
/// when one word is bounded against several (each token of a name against each of another's), its letters are
/// counted once, and the letters two words share are a vectorized minimum of their counts.
#[derive(Clone, Copy)]
pub struct Letters([u8; 32]);

impl Letters {
    /// The counts of a word of `a`–`z` only, at most 255 letters long (`None` otherwise, as for names with
    /// other characters: use `jaro_winkler_bound`).
    pub fn of(s: &str) -> Option<Letters> {
        if s.len() > u8::MAX as usize || !s.bytes().all(|c| c.is_ascii_lowercase()) {
            return None;
        }
        let mut count = [0u8; 32];
        for &c in s.as_bytes() {
            count[usize::from(c & 31)] += 1;
        }
        Some(Letters(count))
    }

    /// `jaro_winkler_bound(a, b)`, bit for bit, for `a` and `b` of these counts (`self` of `a`).
    pub fn bound(&self, a: &str, other: &Letters, b: &str) -> f64 {
        let (x, y) = (a.as_bytes(), b.as_bytes());
        if x.is_empty() && y.is_empty() {
            return 1.0;
        }
        let common: u32 = self
            .0
            .iter()
            .zip(&other.0)
            .map(|(p, q)| u32::from(*p.min(q)))
            .sum();
        bound_of(x, y, common as usize)
    }
}

/// The bound's arithmetic, from the number of characters the two strings share (as multisets).
fn bound_of(x: &[u8], y: &[u8], common: usize) -> f64 {
    if common == 0 {
        return 0.0;
    }
    let (la, lb) = (x.len(), y.len());
    let j = ((common as f64 / la as f64) + (common as f64 / lb as f64) + 1.0) / 3.0;
    if j > 0.7 {
        let prefix = x.iter().take(4).zip(y).take_while(|(p, q)| p == q).count();
        j + 0.1 * prefix as f64 * (1.0 - j)
    } else {
        j
    }
}

/// Jaro similarity of two byte strings of at most `STACK` bytes.
fn jaro(a: &[u8], b: &[u8]) -> f64 {
    let (la, lb) = (a.len(), b.len());
    if la == 0 && lb == 0 {
        return 1.0;
    } else if la == 0 || lb == 0 {
        return 0.0;
    }
    let range = (la.max(lb) / 2).saturating_sub(1);
    let mut a_flags = [false; STACK];
    let mut b_flags = [false; STACK];
    let mut matches = 0usize;
    for (i, &c) in a.iter().enumerate() {
        let lo = i.saturating_sub(range);
        let hi = lb.min(i + range + 1);
        for j in lo..hi {
            if !b_flags[j] && b[j] == c {
                a_flags[i] = true;
                b_flags[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut next_b = (0..lb).filter(|&j| b_flags[j]);
    for (i, &c) in a.iter().enumerate() {
        if a_flags[i] && next_b.next().is_some_and(|j| b[j] != c) {
            transpositions += 1;
        }
    }
    transpositions /= 2;
    ((matches as f64 / la as f64)
        + (matches as f64 / lb as f64)
        + ((matches - transpositions) as f64 / matches as f64))
        / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("", "a"),
            ("martha", "marhta"),
            ("dwayne", "duane"),
            ("dixon", "dicksonx"),
            ("cheeseburger", "cheese fries"),
            ("a", "a"),
            ("abc", "xyz"),
            ("jon", "john"),
            ("wróbel", "wrobel"),
        ];
        for (a, b) in cases {
            assert_eq!(
                jaro_winkler(a, b).to_bits(),
                strsim::jaro_winkler(a, b).to_bits(),
                "{a} / {b}"
            );
        }
    }

    proptest! {
        // Small alphabets make matches, transpositions and shared prefixes common; the long strings reach
        // the strsim path's boundary.
        #[test]
        fn equals_strsim(a in "[abcde ]{0,12}", b in "[abcde ]{0,12}",
                         c in "[a-z]{0,70}", d in "[a-z]{0,70}") {
            prop_assert_eq!(jaro_winkler(&a, &b).to_bits(), strsim::jaro_winkler(&a, &b).to_bits());
            prop_assert_eq!(jaro_winkler(&c, &d).to_bits(), strsim::jaro_winkler(&c, &d).to_bits());
            prop_assert_eq!(jaro_winkler(&a, &d).to_bits(), strsim::jaro_winkler(&a, &d).to_bits());
        }

        #[test]
        fn the_bound_is_never_below(a in "[abcde]{0,12}", b in "[abcde]{0,12}", c in "[a-z]{0,20}", d in "[a-z]{0,20}") {
            prop_assert!(jaro_winkler_bound(&a, &b) >= jaro_winkler(&a, &b));
            prop_assert!(jaro_winkler_bound(&c, &d) >= jaro_winkler(&c, &d));
            prop_assert!(jaro_winkler_bound(&a, &d) >= jaro_winkler(&a, &d));
        }

        // The counted version is the same bound, bit for bit, on short and long, similar and unrelated strings.
        #[test]
        fn letters_bound_is_the_bound(a in "[abcde]{0,12}", b in "[abcde]{0,12}", c in "[a-z]{0,300}", d in "[a-z'-]{0,20}") {
            for (x, y) in [(&a, &b), (&a, &d), (&c, &d), (&d, &c), (&c, &c), (&b, &a)] {
                match (Letters::of(x), Letters::of(y)) {
                    (Some(lx), Some(ly)) => prop_assert_eq!(
                        lx.bound(x, &ly, y).to_bits(),
                        jaro_winkler_bound(x, y).to_bits(),
                        "{} / {}", x, y
                    ),
                    _ => {
                        let plain = |s: &str| s.len() <= 255 && s.bytes().all(|c| c.is_ascii_lowercase());
                        prop_assert!(!(plain(x) && plain(y)), "{} / {}", x, y);
                    }
                }
            }
        }
    }
}

//! Postal addresses from the `address`, `city` and `postal_code` columns (and `country`). Folded to ASCII
//! lower case, street types abbreviated one way (`Street`/`St.` → `st`, `Straße`/`Str.` → `str`, `Avenue` →
//! `ave` …), the house number and the unit (`Apt 4`, `Flat 2`, `#12`) told apart, postcodes compacted per
//! country (`sw1a 1aa` → `SW1A1AA`, ZIP+4 → its five digits). Two keys come out: the address (area, house
//! number, street, unit) and the building (area and house number). The area is the postcode, or the city when
//! there is none; an address with neither, or without a house number, is too vague to compare.

/// A normalized address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// `area|house|street|unit`.
    pub full: String,
    /// `area|house`: the building (an apartment block holds many units).
    pub building: String,
}

/// The one spelling of a street-type word, when `t` is one.
fn street_type(t: &str) -> Option<&'static str> {
    Some(match t {
        "street" | "st" => "st",
        "str" | "strasse" => "str",
        "avenue" | "av" | "ave" => "ave",
        "road" | "rd" => "rd",
        "boulevard" | "blvd" => "blvd",
        "drive" | "dr" => "dr",
        "lane" | "ln" => "ln",
        "place" | "pl" => "pl",
        "court" | "ct" => "ct",
        "square" | "sq" => "sq",
        "terrace" => "ter",
        "highway" => "hwy",
        "parkway" => "pkwy",
        "calle" => "c",
        "rue" => "r",
        "ulica" | "ul" => "ul",
        _ => return None,
    })
}

/// Words that introduce a unit inside a building.
fn is_unit_word(t: &str) -> bool {
    matches!(
        t,
        "apt"
            | "apartment"
            | "unit"
            | "flat"
            | "suite"
            | "ste"
            | "room"
            | "rm"
            | "no"
            | "nr"
            | "app"
            | "wohnung"
    )
}

/// A house or unit number: digits, perhaps one letter after them (`12`, `12a`); `5th` is a street name.
fn is_number(t: &str) -> bool {
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && t.len() - digits <= 1
}

/// ASCII lower case: transliterated first when not ASCII. Transliteration leaves ASCII as it is, but for
/// DEL, which it drops: text holding one takes the long way.
fn fold(s: &str) -> String {
    let mut out = if s.bytes().all(|b| b.is_ascii() && b != 0x7f) {
        s.to_string()
    } else {
        deunicode::deunicode(s)
    };
    out.make_ascii_lowercase();
    out
}

/// A postcode compacted: letters and digits only, upper case; a US ZIP+4 keeps its five digits.
pub fn postcode(raw: &str, country: &str) -> String {
    let mut p = String::with_capacity(raw.len());
    p.extend(
        raw.bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|c| char::from(c.to_ascii_uppercase())),
    );
    if country.eq_ignore_ascii_case("US") && p.len() == 9 && p.bytes().all(|c| c.is_ascii_digit()) {
        p.truncate(5);
    }
    p
}

/// Normalizes an address; `None` when it is too vague to compare. One pass over the folded tokens, the
/// street written as it goes (it runs for every row: no list of tokens, no string per token).
pub fn normalize(address: &str, city: &str, postal: &str, country: &str) -> Option<Address> {
    let mut area = postcode(postal, country);
    if area.len() < 3 {
        area = fold(city);
        area.retain(|c| c.is_ascii_alphanumeric());
    }
    if area.is_empty() {
        return None;
    }
    let folded = fold(address);
    let (mut house, mut unit, mut street) = ("", "", String::with_capacity(folded.len() + 4));
    let mut want_unit = false;
    let tokens = folded
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '#')
        .filter(|t| !t.is_empty());
    for t in tokens {
        let t = t.trim_start_matches('#');
        if t.is_empty() || is_unit_word(t) {
            want_unit = true;
            continue;
        }
        if is_number(t) {
            if want_unit || !house.is_empty() {
                if unit.is_empty() {
                    unit = t;
                }
            } else {
                house = t;
            }
            want_unit = false;
            continue;
        }
        want_unit = false;
        if !street.is_empty() {
            street.push(' ');
        }
        match street_type(t) {
            Some(abbr) => street.push_str(abbr),
            None => match t.strip_suffix("strasse").or_else(|| t.strip_suffix("str")) {
                Some(stem) if !stem.is_empty() => {
                    street.push_str(stem);
                    street.push_str("str");
                }
                _ => street.push_str(t),
            },
        }
    }
    if house.is_empty() || street.is_empty() {
        return None;
    }
    let full = [area.as_str(), house, &street, unit].join("|");
    let building = full[..area.len() + 1 + house.len()].to_string();
    Some(Address { full, building })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first reading of addresses (lists of tokens, a string per token), the reference `normalize` is
    /// held to.
    mod reference {
        use super::super::Address;

        /// Street-type words and their one spelling.
        const STREET_TYPES: &[(&str, &str)] = &[
            ("street", "st"),
            ("st", "st"),
            ("str", "str"),
            ("strasse", "str"),
            ("avenue", "ave"),
            ("av", "ave"),
            ("ave", "ave"),
            ("road", "rd"),
            ("rd", "rd"),
            ("boulevard", "blvd"),
            ("blvd", "blvd"),
            ("drive", "dr"),
            ("dr", "dr"),
            ("lane", "ln"),
            ("ln", "ln"),
            ("place", "pl"),
            ("pl", "pl"),
            ("court", "ct"),
            ("ct", "ct"),
            ("square", "sq"),
            ("sq", "sq"),
            ("terrace", "ter"),
            ("highway", "hwy"),
            ("parkway", "pkwy"),
            ("calle", "c"),
            ("rue", "r"),
            ("ulica", "ul"),
            ("ul", "ul"),
        ];

        /// Words that introduce a unit inside a building.
        const UNIT_WORDS: &[&str] = &[
            "apt",
            "apartment",
            "unit",
            "flat",
            "suite",
            "ste",
            "room",
            "rm",
            "no",
            "nr",
            "app",
            "wohnung",
        ];

        /// A house or unit number: digits, perhaps one letter after them (`12`, `12a`); `5th` is a street name.
        fn is_number(t: &str) -> bool {
            let digits = t.bytes().take_while(u8::is_ascii_digit).count();
            digits > 0 && t.len() - digits <= 1
        }

        fn fold(s: &str) -> String {
            deunicode::deunicode(s).to_lowercase()
        }

        /// A postcode compacted: letters and digits only, upper case; a US ZIP+4 keeps its five digits.
        fn postcode(raw: &str, country: &str) -> String {
            let p: String = raw
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_uppercase())
                .collect();
            if country.eq_ignore_ascii_case("US")
                && p.len() == 9
                && p.bytes().all(|c| c.is_ascii_digit())
            {
                return p[..5].to_string();
            }
            p
        }

        /// Normalizes an address; `None` when it is too vague to compare.
        pub(super) fn normalize(
            address: &str,
            city: &str,
            postal: &str,
            country: &str,
        ) -> Option<Address> {
            let area = match postcode(postal, country) {
                p if p.len() >= 3 => p,
                _ => fold(city)
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .collect(),
            };
            if area.is_empty() {
                return None;
            }
            let folded = fold(address);
            let tokens: Vec<&str> = folded
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '#')
                .filter(|t| !t.is_empty())
                .collect();
            let (mut house, mut unit, mut street) = (String::new(), String::new(), Vec::new());
            let mut want_unit = false;
            for t in tokens {
                let t = t.trim_start_matches('#');
                if t.is_empty() {
                    want_unit = true;
                    continue;
                }
                if UNIT_WORDS.contains(&t) {
                    want_unit = true;
                    continue;
                }
                if is_number(t) {
                    if want_unit || !house.is_empty() {
                        if unit.is_empty() {
                            unit = t.to_string();
                        }
                    } else {
                        house = t.to_string();
                    }
                    want_unit = false;
                    continue;
                }
                want_unit = false;
                let t = match STREET_TYPES.iter().find(|(w, _)| *w == t) {
                    Some((_, abbr)) => abbr.to_string(),
                    None => match t.strip_suffix("strasse").or_else(|| t.strip_suffix("str")) {
                        Some(stem) if !stem.is_empty() => format!("{stem}str"),
                        _ => t.to_string(),
                    },
                };
                street.push(t);
            }
            if house.is_empty() || street.is_empty() {
                return None;
            }
            Some(Address {
                full: [
                    area.as_ref(),
                    "|",
                    house.as_ref(),
                    "|",
                    &street.join(" "),
                    "|",
                    unit.as_ref(),
                ]
                .concat(),
                building: [area.as_ref(), "|", house.as_ref()].concat(),
            })
        }
    }

    #[test]
    fn addresses_fold_to_one_spelling() {
        // (address, city, postcode, country, full key)
        let cases: &[(&str, &str, &str, &str, Option<&str>)] = &[
            (
                "12 Baker Street",
                "London",
                "NW1 6XE",
                "GB",
                Some("NW16XE|12|baker st|"),
            ),
            (
                "12 baker st.",
                "london",
                "nw16xe",
                "GB",
                Some("NW16XE|12|baker st|"),
            ),
            (
                "Flat 4, 12 Baker St",
                "London",
                "NW1 6XE",
                "GB",
                Some("NW16XE|12|baker st|4"),
            ),
            (
                "12 Baker St Apt 4",
                "London",
                "NW1 6XE",
                "GB",
                Some("NW16XE|12|baker st|4"),
            ),
            (
                "Hauptstraße 5",
                "Berlin",
                "10115",
                "DE",
                Some("10115|5|hauptstr|"),
            ),
            (
                "Hauptstr. 5",
                "Berlin",
                "10115",
                "DE",
                Some("10115|5|hauptstr|"),
            ),
            (
                "350 Fifth Avenue #3400",
                "New York",
                "10118-0110",
                "US",
                Some("10118|350|fifth ave|3400"),
            ),
            ("350 5th Ave", "", "", "US", None),
            (
                "350 5th Ave",
                "New York",
                "10118",
                "US",
                Some("10118|350|5th ave|"),
            ),
            (
                "12a Rue de Rivoli",
                "Paris",
                "75001",
                "FR",
                Some("75001|12a|r de rivoli|"),
            ),
            (
                "350 Fifth Ave",
                "New York",
                "",
                "US",
                Some("newyork|350|fifth ave|"),
            ),
            ("Baker Street", "London", "NW1 6XE", "GB", None),
            ("", "", "", "", None),
        ];
        for (a, c, p, k, want) in cases {
            let got = normalize(a, c, p, k).map(|x| x.full);
            assert_eq!(got.as_deref(), *want, "{a:?} {c:?} {p:?}");
        }
        let x = normalize("Flat 4, 12 Baker St", "London", "NW1 6XE", "GB").unwrap();
        assert_eq!(x.building, "NW16XE|12");
    }

    #[test]
    fn one_pass_reads_addresses_as_the_token_lists_did() {
        // Addresses built from the pieces every rule looks at: numbers with and without a letter, unit words
        // and `#`, street types in their spellings, `-strasse`/`-str` stems, punctuation, letters outside
        // ASCII, postcodes with and without a ZIP+4, missing postcodes and cities.
        const PIECES: &[&str] = &[
            "12",
            "12a",
            "5th",
            "350",
            "#3400",
            "#",
            "Flat",
            "APT",
            "no",
            "Wohnung",
            "Street",
            "St.",
            "st",
            "Avenue",
            "av",
            "RD",
            "Boulevard",
            "Terrace",
            "Parkway",
            "Calle",
            "Rue",
            "ulica",
            "Hauptstraße",
            "Hauptstr.",
            "strasse",
            "str",
            "Baker",
            "de",
            "Rivoli",
            "Łódzka",
            "Śląska",
            "Ölweg",
            ",",
            "-",
            "O'Neil",
            "x",
            "4",
            "A",
            "Ünter",
            "Ste",
            "room",
            "12\u{7f}b",
            "\t",
        ];
        const CITIES: &[&str] = &[
            "London",
            "",
            "New York",
            "Łódź",
            "São Paulo",
            "  ",
            "District 9",
        ];
        const POSTCODES: &[&str] = &[
            "NW1 6XE",
            "",
            "10118-0110",
            "10115",
            "75001",
            "ab",
            "123456789",
        ];
        const COUNTRIES: &[&str] = &["GB", "US", "us", "DE", ""];
        let mut below = crate::testing::below(0xadd7);
        let mut kept = 0;
        for _ in 0..60_000 {
            let words = below(7) as usize;
            let address = (0..words)
                .map(|_| PIECES[below(PIECES.len() as u64) as usize])
                .collect::<Vec<_>>()
                .join(if below(3) == 0 { ", " } else { " " });
            let city = CITIES[below(CITIES.len() as u64) as usize];
            let postal = POSTCODES[below(POSTCODES.len() as u64) as usize];
            let country = COUNTRIES[below(COUNTRIES.len() as u64) as usize];
            let want = reference::normalize(&address, city, postal, country);
            let got = normalize(&address, city, postal, country);
            assert_eq!(got, want, "{address:?} {city:?} {postal:?} {country:?}");
            kept += usize::from(got.is_some());
        }
        assert!(kept > 10_000 && kept < 50_000, "{kept}");
    }

    #[test]
    fn transliteration_leaves_ascii_as_it_is() {
        // `fold` skips `deunicode` for ASCII text on this ground; DEL is the one ASCII character it drops.
        let every: String = (0u8..127).map(char::from).collect();
        assert_eq!(deunicode::deunicode(&every), every);
        assert_eq!(deunicode::deunicode("12\u{7f}b"), "12b");
        assert_eq!(fold("12\u{7f}B St"), "12b st");
    }
}

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
pub fn postcode(raw: &str, country: &str) -> String {
    let p: String = raw
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if country.eq_ignore_ascii_case("US") && p.len() == 9 && p.bytes().all(|c| c.is_ascii_digit()) {
        return p[..5].to_string();
    }
    p
}

/// Normalizes an address; `None` when it is too vague to compare.
pub fn normalize(address: &str, city: &str, postal: &str, country: &str) -> Option<Address> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

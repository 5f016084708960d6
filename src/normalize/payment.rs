//! Payment instruments from the `payment_methods` column: `|`-separated `kind:value` items. Card values are
//! processor fingerprints (trimmed, case kept: fingerprints are case-sensitive); IBANs lose their spaces, are
//! upper-cased and must pass the mod-97 check; PayPal values are emails and get the email rules; US bank
//! values (routing + account) keep their leading zeros and lose spaces and dashes. Each value is prefixed
//! with its kind, so a card and an IBAN never agree by accident. Exports that use other kinds (`crypto:…`) or no
//! kind at all keep the value as an opaque identifier (`crypto:…`, `other:…`): it can still match exactly.

use iban::Iban;

use super::email;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Valid(String),
    /// A card exported masked (`411111******1111`, `4111 xxxx xxxx 1111`, `last4:1111`): shared by thousands
    /// of cards, never an instrument of its own.
    Masked,
    Invalid(&'static str),
}

/// A masked card number: a run of `*`, `x` or `#` standing for digits, or only the last four digits. Read
/// for every card, without a lower-cased copy.
fn is_masked(value: &str) -> bool {
    let v = value.trim();
    let starts = |p: &str| v.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    if starts("last4") || starts("****") {
        return true;
    }
    let mask = v
        .chars()
        .filter(|c| matches!(c, '*' | 'x' | 'X' | '#' | '•'))
        .count();
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    mask >= 4 && digits <= 10
}

/// Normalizes one `kind:value` item.
pub fn normalize_item(raw: &str) -> Option<Item> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    let Some((kind, value)) = s.split_once(':') else {
        return Some(Item::Valid(format!("other:{s}")));
    };
    let kind = kind.trim();
    let value = value.trim();
    if value.is_empty() {
        return Some(Item::Invalid("empty value"));
    }
    // The kinds known, in any case, without a lower-cased copy (a card is nearly every item).
    let is = |k: &str| kind.eq_ignore_ascii_case(k);
    Some(if is("card") {
        if is_masked(value) {
            Item::Masked
        } else {
            Item::Valid(["card:", value].concat())
        }
    } else if is("last4") || is("masked") {
        Item::Masked
    } else {
        other_kind(s, &kind.to_ascii_lowercase(), value)
    })
}

/// An item of a kind other than a card: an IBAN, a PayPal address, a US bank account, or a kind of the
/// export's own (`crypto:…`), or no kind at all (`other:…`, the whole item).
fn other_kind(s: &str, kind: &str, value: &str) -> Item {
    match kind {
        "iban" => {
            let compact: String = value
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_ascii_uppercase();
            match compact.parse::<Iban>() {
                Ok(_) => Item::Valid(format!("iban:{compact}")),
                Err(_) => Item::Invalid("iban checksum"),
            }
        }
        "paypal" => match email::normalize(value) {
            Ok(Some(e)) => Item::Valid(format!("paypal:{}", e.canonical)),
            _ => Item::Invalid("paypal email"),
        },
        "bank" => {
            let compact: String = value
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .collect();
            if compact.chars().any(|c| c.is_ascii_digit()) {
                Item::Valid(format!("bank:{}", compact.to_ascii_uppercase()))
            } else {
                Item::Invalid("bank account without digits")
            }
        }
        other
            if other.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !other.is_empty() =>
        {
            Item::Valid(format!("{other}:{value}"))
        }
        _ => Item::Valid(format!("other:{s}")),
    }
}

/// Splits and normalizes a `payment_methods` cell (items separated by `|`, or `;` in some exports).
pub fn normalize(cell: &str) -> impl Iterator<Item = Item> + '_ {
    cell.split(['|', ';']).filter_map(normalize_item)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Option<Item> {
        Some(Item::Valid(s.to_string()))
    }
    fn bad(s: &'static str) -> Option<Item> {
        Some(Item::Invalid(s))
    }

    #[test]
    fn items() {
        let cases = [
            ("card:fp_AbC123", v("card:fp_AbC123")),
            (" CARD : fp_AbC123 ", v("card:fp_AbC123")),
            (
                "iban:de44 5001 0517 5407 3249 31",
                v("iban:DE44500105175407324931"),
            ),
            ("iban:DE44500105175407324932", bad("iban checksum")),
            (
                "paypal:John.Smith+pp@googlemail.com",
                v("paypal:johnsmith@gmail.com"),
            ),
            ("paypal:not-an-email", bad("paypal email")),
            ("bank:021000021-000123456", v("bank:021000021000123456")),
            ("bank:abc", bad("bank account without digits")),
            ("bitcoin:1abc", v("bitcoin:1abc")),
            ("fp_no_kind", v("other:fp_no_kind")),
            ("visa ending: 4242", v("other:visa ending: 4242")),
            ("card:", bad("empty value")),
            // Masked cards, in any case; a fingerprint with a few x's (or many digits) is a card.
            ("card:411111******1111", Some(Item::Masked)),
            ("card:4111 XXXX XXXX 1111", Some(Item::Masked)),
            ("Card:LAST4 1111", Some(Item::Masked)),
            ("card:•••• 4242", Some(Item::Masked)),
            ("last4:1111", Some(Item::Masked)),
            ("MASKED:abc", Some(Item::Masked)),
            ("card:fp_xx12", v("card:fp_xx12")),
            ("card:fp_xXxX_01234567891", v("card:fp_xXxX_01234567891")),
            (
                "IBAN:DE44500105175407324931",
                v("iban:DE44500105175407324931"),
            ),
            ("Crypto:1abc", v("crypto:1abc")),
            ("", None),
            ("   ", None),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize_item(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn cells() {
        let got: Vec<Item> = normalize("card:fp1| ;iban:GB82WEST12345698765432|").collect();
        assert_eq!(
            got,
            vec![
                Item::Valid("card:fp1".into()),
                Item::Valid("iban:GB82WEST12345698765432".into())
            ]
        );
        assert_eq!(normalize("").count(), 0);
    }
}

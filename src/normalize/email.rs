//! Email addresses: trimmed, split on the last `@`, domain lower-cased and converted to ASCII (IDNA), and the
//! mailbox rules of the large providers applied so that two spellings of one mailbox get one value
//! (gmail dots and `+tags`, `+tags` at providers with sub-addressing, Proton's ignored punctuation, Yahoo's
//! `base-keyword` aliases, provider domains that share one namespace). Unknown domains are lower-cased only.

/// What the rules made of one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The canonical mailbox, `local@domain`.
    pub canonical: String,
    /// The canonical local part (kept as a separate, weak key: the same handle at two providers).
    pub local: String,
    /// The canonical domain.
    pub domain: String,
    /// The domain is a relay (Apple private relay, duck.com, SimpleLogin, Firefox Relay…): the address is
    /// one person's, but its local part is random and says nothing across domains.
    pub relay: bool,
    /// The domain is a known disposable-mail service (a risk attribute).
    pub disposable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    NoAt,
    EmptyLocal,
    BadDomain,
}

impl Invalid {
    pub fn as_str(self) -> &'static str {
        match self {
            Invalid::NoAt => "no @",
            Invalid::EmptyLocal => "empty local part",
            Invalid::BadDomain => "invalid domain",
        }
    }
}

/// Relay domains (Apple private relay, duck.com, SimpleLogin, Firefox Relay…): a `match`, by length then bytes.
fn is_relay(domain: &str) -> bool {
    matches!(
        domain,
        "privaterelay.appleid.com"
            | "duck.com"
            | "simplelogin.com"
            | "simplelogin.co"
            | "simplelogin.fr"
            | "aleeas.com"
            | "slmails.com"
            | "mozmail.com"
            | "anonaddy.me"
            | "anonaddy.com"
            | "addy.io"
            | "relay.firefox.com"
    )
}

/// Known disposable-mail services: a `match`, by length then bytes.
fn is_disposable(domain: &str) -> bool {
    matches!(
        domain,
        "mailinator.com"
            | "10minutemail.com"
            | "guerrillamail.com"
            | "guerrillamail.net"
            | "sharklasers.com"
            | "yopmail.com"
            | "yopmail.fr"
            | "trashmail.com"
            | "temp-mail.org"
            | "tempmail.com"
            | "tempmail.net"
            | "getnada.com"
            | "dispostable.com"
            | "maildrop.cc"
            | "throwawaymail.com"
            | "fakeinbox.com"
            | "mintemail.com"
            | "mailnesia.com"
            | "spamgourmet.com"
            | "emailondeck.com"
            | "moakt.com"
            | "tempr.email"
            | "discard.email"
    )
}

/// Providers where everything from `+` on is a tag the mailbox ignores.
fn plus_tags(domain: &str) -> bool {
    matches!(
        domain,
        "gmail.com"
            | "outlook.com"
            | "msn.com"
            | "icloud.com"
            | "fastmail.com"
            | "fastmail.fm"
            | "proton.me"
            | "yandex.ru"
            | "zoho.com"
            | "gmx.com"
            | "gmx.net"
    ) || domain.starts_with("hotmail.")
        || domain.starts_with("live.")
        || domain.starts_with("outlook.")
}

/// Domains that are one mailbox namespace, folded onto one name.
fn fold_domain(domain: String) -> String {
    let folded = match domain.as_str() {
        "googlemail.com" => "gmail.com",
        "me.com" | "mac.com" => "icloud.com",
        "protonmail.com" | "protonmail.ch" | "pm.me" => "proton.me",
        "yandex.com" | "yandex.by" | "yandex.kz" | "yandex.ua" | "ya.ru" => "yandex.ru",
        _ => return domain,
    };
    folded.to_string()
}

fn is_yahoo(domain: &str) -> bool {
    domain.starts_with("yahoo.") || domain.starts_with("ymail.") || domain == "rocketmail.com"
}

/// A domain of letters, digits, hyphens and dots, none of its labels empty or an IDNA `xn--` label, lower-cased:
/// what IDNA makes of it, without IDNA's mapping tables (nearly every address's domain is such a one). `None`
/// leaves the domain to IDNA. The unit test `plain_domains_are_what_idna_makes_of_them` compares the two.
fn plain_ascii_domain(domain: &str) -> Option<String> {
    let plain = !domain.is_empty()
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && domain
            .split('.')
            .all(|l| !l.is_empty() && !l.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--")));
    plain.then(|| domain.to_ascii_lowercase())
}

/// The address of a value written with a display name, as mail clients and CRM exports write them
/// (`Anna Kowalska <anna.k@gmail.com>`): what the last angle brackets hold. Other values as they are.
fn without_display_name(s: &str) -> &str {
    match (s.strip_suffix('>'), s.rfind('<')) {
        (Some(inner), Some(open)) if open > 0 && !inner[open + 1..].trim().is_empty() => {
            inner[open + 1..].trim()
        }
        _ => s,
    }
}

/// Normalizes one address. `Ok(None)` for an empty value, `Err` for one that is not an address.
pub fn normalize(raw: &str) -> Result<Option<Email>, Invalid> {
    // `mailto:` prefixes stripped one by one: `trim_start_matches` with a string pattern builds a substring
    // searcher for every address.
    let mut s = without_display_name(raw.trim());
    while let Some(rest) = s.strip_prefix("mailto:") {
        s = rest;
    }
    let s = s.trim_matches(|c| c == '<' || c == '>').trim();
    if s.is_empty() {
        return Ok(None);
    }
    let at = s.rfind('@').ok_or(Invalid::NoAt)?;
    let (local_raw, domain_raw) = (&s[..at], &s[at + 1..]);
    let local_raw = local_raw.trim_matches('"');
    if local_raw.is_empty() || local_raw.chars().any(char::is_whitespace) {
        return Err(Invalid::EmptyLocal);
    }
    let domain_raw = domain_raw.trim_end_matches('.');
    let domain_ascii = match plain_ascii_domain(domain_raw) {
        Some(d) => d,
        None => idna::domain_to_ascii(domain_raw).map_err(|_| Invalid::BadDomain)?,
    };
    if domain_ascii.is_empty() || !domain_ascii.contains('.') || domain_ascii.starts_with('.') {
        return Err(Invalid::BadDomain);
    }
    let domain = fold_domain(domain_ascii);
    let relay = is_relay(&domain);
    let disposable = is_disposable(&domain);

    // ASCII (nearly every local part) without Unicode's case tables: the same letters.
    let mut local = if local_raw.is_ascii() {
        local_raw.to_ascii_lowercase()
    } else {
        local_raw.to_lowercase()
    };
    if !relay {
        if plus_tags(&domain)
            && let Some(p) = local.find('+')
        {
            local.truncate(p);
        }
        if domain == "gmail.com" {
            local.retain(|c| c != '.');
        } else if domain == "proton.me" {
            local.retain(|c| !matches!(c, '.' | '_' | '-'));
        } else if is_yahoo(&domain)
            && let Some(p) = local.find('-')
        {
            local.truncate(p);
        }
    }
    if local.is_empty() {
        return Err(Invalid::EmptyLocal);
    }
    let canonical = [local.as_ref(), "@", domain.as_ref()].concat();
    let local = if relay {
        String::new()
    } else {
        // Unknown domains keep `+tags` in the mailbox, but the handle key ignores them.
        if let Some(p) = local.find('+').filter(|&p| p > 0) {
            local.truncate(p);
        }
        local
    };
    Ok(Some(Email {
        canonical,
        local,
        domain,
        relay,
        disposable,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_domains_are_what_idna_makes_of_them() {
        let cases = [
            "gmail.com",
            "Gmail.COM",
            "mail.example.co.uk",
            "a-b.c-d.org",
            "-lead.com",
            "trail-.com",
            "ab--cd.com",
            "1.2.3.4",
            "123",
            "a",
            "a..b",
            ".a.com",
            "xn--bcher-kva.de",
            "XN--bcher-kva.de",
            "xn--.com",
            "ex_ample.com",
            "a b.com",
            "",
            "localhost",
            "Bücher.de",
        ];
        for d in cases {
            if let Some(fast) = plain_ascii_domain(d) {
                assert_eq!(Ok(fast), idna::domain_to_ascii(d).map_err(|_| ()), "{d:?}");
            }
        }
        assert_eq!(
            plain_ascii_domain("Mail.Example.COM").as_deref(),
            Some("mail.example.com")
        );
        assert_eq!(plain_ascii_domain("xn--bcher-kva.de"), None);
        assert_eq!(plain_ascii_domain("a..b"), None);
        // Every short string over an alphabet of the characters that matter.
        let alphabet = b"aZ09-.x_n";
        let mut s = Vec::new();
        for n in 1..=5u32 {
            for mut k in 0..alphabet.len().pow(n) {
                s.clear();
                for _ in 0..n {
                    s.push(alphabet[k % alphabet.len()]);
                    k /= alphabet.len();
                }
                let d = std::str::from_utf8(&s).unwrap_or_default();
                if let Some(fast) = plain_ascii_domain(d) {
                    assert_eq!(Ok(fast), idna::domain_to_ascii(d).map_err(|_| ()), "{d:?}");
                }
            }
        }
    }

    #[test]
    fn canonical_forms() {
        let cases: &[(&str, &str)] = &[
            ("John.Smith+work@Gmail.com", "johnsmith@gmail.com"),
            ("j.o.h.n.smith@googlemail.com", "johnsmith@gmail.com"),
            ("  johnsmith@gmail.com  ", "johnsmith@gmail.com"),
            ("anna+shop@outlook.com", "anna@outlook.com"),
            ("anna+shop@hotmail.co.uk", "anna@hotmail.co.uk"),
            ("anna.b+x@live.fr", "anna.b@live.fr"),
            ("kim+1@me.com", "kim@icloud.com"),
            ("a.b_c-d+x@protonmail.ch", "abcd@proton.me"),
            ("ivan@ya.ru", "ivan@yandex.ru"),
            ("sam-shopping@yahoo.com", "sam@yahoo.com"),
            ("john.smith@acme.com", "john.smith@acme.com"),
            ("John.Smith+x@ACME.com", "john.smith+x@acme.com"),
            ("user@Bücher.de", "user@xn--bcher-kva.de"),
            ("\"quoted\"@example.org", "quoted@example.org"),
            (
                "abc123@privaterelay.appleid.com",
                "abc123@privaterelay.appleid.com",
            ),
            ("a+b@duck.com", "a+b@duck.com"),
            ("weird@user@example.com", "weird@user@example.com"),
            // Written with a display name, or in angle brackets alone.
            ("Anna Kowalska <Anna.K@gmail.com>", "annak@gmail.com"),
            ("\"Kowalska, Anna\" <anna@acme.com> ", "anna@acme.com"),
            ("<anna@acme.com>", "anna@acme.com"),
            ("mailto:anna@acme.com", "anna@acme.com"),
            ("mailto:mailto:anna@acme.com", "anna@acme.com"),
        ];
        for (raw, want) in cases {
            let got = normalize(raw).unwrap().unwrap();
            assert_eq!(&got.canonical, want, "{raw:?}");
        }
    }

    #[test]
    fn locals_domains_and_flags() {
        let e = normalize("Arun.Pandey+x@mail.com").unwrap().unwrap();
        assert_eq!(e.local, "arun.pandey");
        assert_eq!(e.domain, "mail.com");
        assert!(!e.relay && !e.disposable);
        let r = normalize("xyz@privaterelay.appleid.com").unwrap().unwrap();
        assert!(r.relay);
        assert_eq!(r.local, "");
        assert!(normalize("x@mailinator.com").unwrap().unwrap().disposable);
    }

    #[test]
    fn empty_and_invalid() {
        assert_eq!(normalize(""), Ok(None));
        assert_eq!(normalize("   "), Ok(None));
        let bad = [
            ("no-at-sign", Invalid::NoAt),
            ("@example.com", Invalid::EmptyLocal),
            ("a b@example.com", Invalid::EmptyLocal),
            ("user@localhost", Invalid::BadDomain),
            ("user@", Invalid::BadDomain),
            ("+tag@gmail.com", Invalid::EmptyLocal),
            ("Anna <>", Invalid::NoAt),
        ];
        for (raw, want) in bad {
            assert_eq!(normalize(raw), Err(want), "{raw:?}");
        }
    }
}

//! Device fingerprints from the `device_ids` column: trimmed and lower-cased; junk values that stand for
//! "no real id" are dropped here (empty, `unknown`/`null`-like words, ids made only of zeros or of one
//! repeated character, the Android emulator id `9774d56d682e549c` and other well-known defaults). Values that
//! are not junk by spelling but are shared by crowds are caught later by frequency (see `block`).

const JUNK: &[&str] = &[
    "unknown",
    "null",
    "nil",
    "none",
    "undefined",
    "n/a",
    "na",
    "-",
    "default",
    "device",
    "test",
    "emulator",
    "generic",
    "android",
    "iphone",
    "ios",
    "web",
    "browser",
    "9774d56d682e549c",
    "012345678912345",
    "358240051111110",
    "35209900176148",
    "004999010640000",
    "unknown_device",
    "android_id",
];

/// Normalizes one device id; `None` for an empty or junk value.
pub fn normalize(raw: &str) -> Option<String> {
    let s = raw.trim().to_lowercase();
    if s.is_empty() || JUNK.contains(&s.as_str()) {
        return None;
    }
    let mut significant = s.chars().filter(|c| c.is_ascii_alphanumeric());
    let first = significant.next()?;
    let (mut count, mut all_same) = (1, true);
    for c in significant {
        count += 1;
        all_same &= c == first;
    }
    // Too short to identify anything; or all zeros (00000000-0000-…), all f's, one repeated character.
    if count < 4 || all_same {
        return None;
    }
    Some(s)
}

/// A device model or a user agent where a fingerprint belongs (`SM-G991B`, `iPhone14,2`, `Pixel 7`,
/// `Mozilla/5.0 (Linux; Android 13)…`): everyone with that phone or browser shares it.
pub fn is_model_or_agent(raw: &str) -> bool {
    let s = raw.trim().to_lowercase();
    let agent = s.starts_with("mozilla/")
        || s.contains("applewebkit")
        || s.contains("(linux;")
        || s.contains("(iphone;")
        || s.contains("(windows nt")
        || s.contains("okhttp/")
        || s.contains("cfnetwork/");
    const MODELS: &[&str] = &[
        "sm-", "iphone", "ipad", "pixel", "redmi", "galaxy", "moto", "oneplus", "huawei", "xiaomi",
        "nokia", "oppo", "vivo", "realme", "lg-", "mi ", "poco", "honor", "infinix", "tecno",
    ];
    let model = s.len() <= 32 && MODELS.iter().any(|m| s.starts_with(m));
    agent || model
}

/// True when a raw value is junk (for counting dropped values).
pub fn is_junk(raw: &str) -> bool {
    !raw.trim().is_empty() && normalize(raw).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices() {
        let cases = [
            ("  ABCDEF-1234-5678 ", Some("abcdef-1234-5678")),
            ("dev_9f8e7d6c", Some("dev_9f8e7d6c")),
            ("", None),
            ("   ", None),
            ("unknown", None),
            ("NULL", None),
            ("00000000-0000-0000-0000-000000000000", None),
            ("ffffffff-ffff-ffff-ffff-ffffffffffff", None),
            ("9774D56D682E549C", None),
            ("000000000000000", None),
            ("ab1", None),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize(raw).as_deref(), want, "{raw:?}");
        }
        assert!(is_junk("unknown"));
        assert!(!is_junk(""));
        assert!(!is_junk("dev_1234"));
    }
}

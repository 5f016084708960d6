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

/// What one value of the device column is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Device {
    /// Nothing typed.
    Empty,
    /// A value that stands for "no real id" (see the module's doc).
    Junk,
    /// A device model or a user agent (see `is_model_or_agent`).
    ModelOrAgent,
    /// A device id, trimmed and lower-cased.
    Id(String),
}

/// Classifies one raw value (trimmed and lower-cased once).
pub fn classify(raw: &str) -> Device {
    let t = raw.trim();
    if t.is_empty() {
        return Device::Empty;
    }
    // ASCII (nearly every id) without Unicode's case tables: the same letters.
    let s = if t.is_ascii() {
        t.to_ascii_lowercase()
    } else {
        t.to_lowercase()
    };
    if is_junk_lower(&s) {
        Device::Junk
    } else if is_model_or_agent_lower(&s) {
        Device::ModelOrAgent
    } else {
        Device::Id(s)
    }
}

/// Whether a trimmed, lower-cased, non-empty value stands for no real id.
fn is_junk_lower(s: &str) -> bool {
    if s.len() <= JUNK_LONGEST && JUNK.contains(&s) {
        return true;
    }
    // ASCII alphanumerics are single bytes, and no byte of a longer character is one.
    let mut significant = s.bytes().filter(u8::is_ascii_alphanumeric);
    let Some(first) = significant.next() else {
        return true;
    };
    let (mut count, mut all_same) = (1, true);
    for c in significant {
        count += 1;
        all_same &= c == first;
        if count >= 4 && !all_same {
            return false;
        }
    }
    // Too short to identify anything; or all zeros (00000000-0000-…), all f's, one repeated character.
    count < 4 || all_same
}

/// The length of the longest `JUNK` value.
const JUNK_LONGEST: usize = 16;

/// Normalizes one device id; `None` for an empty or junk value.
pub fn normalize(raw: &str) -> Option<String> {
    let s = raw.trim().to_lowercase();
    (!s.is_empty() && !is_junk_lower(&s)).then_some(s)
}

/// A device model or a user agent where a fingerprint belongs (`SM-G991B`, `iPhone14,2`, `Pixel 7`,
/// `Mozilla/5.0 (Linux; Android 13)…`): everyone with that phone or browser shares it.
pub fn is_model_or_agent(raw: &str) -> bool {
    is_model_or_agent_lower(&raw.trim().to_lowercase())
}

fn is_model_or_agent_lower(s: &str) -> bool {
    const MODELS: &[&str] = &[
        "sm-", "iphone", "ipad", "pixel", "redmi", "galaxy", "moto", "oneplus", "huawei", "xiaomi",
        "nokia", "oppo", "vivo", "realme", "lg-", "mi ", "poco", "honor", "infinix", "tecno",
    ];
    if s.len() <= 32 && MODELS.iter().any(|m| s.starts_with(m)) {
        return true;
    }
    // Every other marker holds `/`, `(` or a `w` (`applewebkit`): a value with none of them (a device id,
    // nearly always) is not searched for them.
    if !s.bytes().any(|c| matches!(c, b'/' | b'(' | b'w')) {
        return false;
    }
    s.starts_with("mozilla/")
        || s.contains("applewebkit")
        || (s.contains(['(', '/'])
            && (s.contains("(linux;")
                || s.contains("(iphone;")
                || s.contains("(windows nt")
                || s.contains("okhttp/")
                || s.contains("cfnetwork/")))
}

/// True when a raw value is junk (for counting dropped values).
pub fn is_junk(raw: &str) -> bool {
    classify(raw) == Device::Junk
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
        let kinds = [
            ("", Device::Empty),
            ("  ", Device::Empty),
            ("unknown", Device::Junk),
            ("0000", Device::Junk),
            ("SM-G991B", Device::ModelOrAgent),
            ("iPhone14,2", Device::ModelOrAgent),
            (
                "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36",
                Device::ModelOrAgent,
            ),
            ("Dalvik okhttp/4.9.0", Device::ModelOrAgent),
            (
                "MyApp CFNetwork/1404.0.5 Darwin/22.3.0",
                Device::ModelOrAgent,
            ),
            (" AB12-CD34 ", Device::Id("ab12-cd34".into())),
            (
                "3f2a9c1e-7b44-4d1a-9e2b-5c6d7e8f9a0b",
                Device::Id("3f2a9c1e-7b44-4d1a-9e2b-5c6d7e8f9a0b".into()),
            ),
            // No `/` or `(`: found by its `w`.
            ("XAppleWebKit", Device::ModelOrAgent),
            ("aaab", Device::Id("aaab".into())),
            ("a-a-a-a-a", Device::Junk),
            ("1-1-1", Device::Junk),
        ];
        for (raw, want) in kinds {
            assert_eq!(classify(raw), want, "{raw:?}");
        }
        // The length test before the list search holds for every value of the list.
        assert_eq!(JUNK.iter().map(|j| j.len()).max(), Some(JUNK_LONGEST));
        assert!(is_junk("unknown"));
        assert!(!is_junk(""));
        assert!(!is_junk("dev_1234"));
    }
}

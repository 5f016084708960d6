//! Every normalizer and parser on its own, on arbitrary text: names, business names, emails, phones (with and
//! without a region), payments, devices, IPs, addresses, postcodes, date patterns and their detection,
//! countries, placeholders, national phone numbers. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sybilscan::normalize::{address, device, email, ip, name, payment, phone, rules};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let parts: Vec<&str> = s.splitn(4, '\u{1f}').collect();
    let a = parts[0];
    let b = parts.get(1).copied().unwrap_or("");
    let _ = name::normalize(a);
    let _ = name::normalize_business(a);
    let _ = email::normalize(a);
    let _ = phone::normalize(a, None);
    let _ = phone::normalize(a, phone::region(b));
    let _ = phone::normalize(a, phone::region("GB"));
    let _ = phone::national_significant(a);
    let _ = payment::normalize(a);
    let _ = (device::normalize(a), device::is_model_or_agent(a));
    let _ = ip::normalize(a);
    let _ = address::normalize(a, b, parts.get(2).copied().unwrap_or(""), parts.get(3).copied().unwrap_or(""));
    let _ = address::postcode(a, b);
    if let Ok(f) = rules::DateFormat::parse(b) {
        let _ = (f.date(a), f.datetime(a));
    }
    let (f, _) = rules::detect_date_format(&parts);
    let _ = (f.date(a), f.datetime(a));
    let r = sybilscan::normalize::Rules::default();
    let _ = (r.country(a), r.status(a), r.account_type(a));
    let _ = (rules::is_placeholder_text(a), rules::is_placeholder_digits(a), rules::is_placeholder_email(a));
});

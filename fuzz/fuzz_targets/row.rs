//! One account row: arbitrary bytes split into the contract's fields (by 0x1f), normalized under the default
//! conventions and under a config with synonyms and a day-first date pattern. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sybilscan::normalize::{Rules, account, rules::DateFormat};
use sybilscan::record::{COLUMN_COUNT, Fields};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut f: Fields = [""; COLUMN_COUNT];
    for (slot, part) in f.iter_mut().zip(text.split('\u{1f}')) {
        *slot = part;
    }
    let _ = account(&f, &[], &Rules::default());
    let mut cfg = sybilscan::config::Config::default();
    cfg.values.status.insert("banned".into(), vec!["fraud_ban".into()]);
    cfg.values.country.insert("DE".into(), vec!["Deutschland".into()]);
    let mut rules = Rules::new(&cfg);
    rules.date_of_birth = DateFormat::parse("%d/%m/%Y").unwrap();
    rules.created_at = DateFormat::parse("%d.%m.%Y %H:%M").unwrap();
    let _ = account(&f, &[], &rules);
});

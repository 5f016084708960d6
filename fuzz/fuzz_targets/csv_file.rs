//! A whole accounts file: arbitrary bytes after a contract header, read, quarantined and normalized by the
//! real loader. Errors are fine (a file can be unreadable); a panic is not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accounts.csv");
    let mut bytes = b"account_id,account_type,status,created_at,full_name,business_name,email,phone,country,\
date_of_birth,id_document_hash,payment_methods,device_ids,ip_addresses,address,city,postal_code\n"
        .to_vec();
    bytes.extend_from_slice(data);
    std::fs::write(&path, &bytes).unwrap();
    let cfg = sybilscan::config::Config::default();
    if let Ok((mut acc, ..)) = sybilscan::pipeline::load_accounts(&path, &cfg) {
        let _ = sybilscan::block::block(&mut acc, &cfg.blocking);
    }
});

//! Generator profiles: the scenario mix and every corruption, sharing and missingness rate of a synthetic
//! marketplace. `default` is fixed (the benchmarks use it); `random` draws every rate from a wide range per
//! seed, so that five seeds are five different marketplaces and nothing is tuned to one mix. One table
//! (`RATES`) holds each rate's default, range and meaning; the README's table is written from it.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::{Error, Result};

/// The rates of a profile, by name (an index into `RATES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum R {
    MixSingle,
    MixDuplicate,
    MixBanEvasion,
    MixPermitted,
    MixReviewRing,
    MixHousehold,
    MixAgency,
    MixNamesakes,
    NameBuiltHandle,
    DobPresent,
    PhonePresent,
    EmailPresent,
    SecondIp,
    Ipv6,
    Card,
    IdDocument,
    SingleCommonName,
    SingleCoworking,
    SingleCarrierNat,
    SingleJunkDevice,
    PlaceholderValue,
    DeviceModelString,
    MaskedCard,
    DupNewEmail,
    DupNewDevice,
    DupNewCard,
    DupNickname,
    DupTransliteration,
    DupTypo,
    DupSwappedOrder,
    DupDobMissing,
    HouseholdCard,
    HouseholdDevice,
    HouseholdSurname,
    HouseholdJunior,
    HouseholdTwins,
    SanctionedInGroup,
    EvasionPaypal,
    EvasionMarried,
    EvasionOneSignal,
    EvasionNewBirthDate,
    ReviewRingWeak,
    MixLegalEntity,
    EntitySecondAccount,
    EntityOwnName,
    EntityClient,
    SelfBidding,
    BidsPerFreelancer,
    AddressPresent,
    DupMoved,
}

/// One rate: its name, default, the range `random` draws it from, and what it means.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rate {
    pub rate: &'static str,
    pub default: f64,
    pub low: f64,
    pub high: f64,
    pub meaning: &'static str,
}

const fn rate(
    rate: &'static str,
    default: f64,
    low: f64,
    high: f64,
    meaning: &'static str,
) -> Rate {
    Rate {
        rate,
        default,
        low,
        high,
        meaning,
    }
}

/// Every rate, in the order of `R`.
pub const RATES: [Rate; 50] = [
    rate(
        "mix_single",
        780.0,
        600.0,
        850.0,
        "weight of single-account people",
    ),
    rate(
        "mix_duplicate",
        50.0,
        20.0,
        100.0,
        "weight of people with 2-3 freelancer accounts",
    ),
    rate(
        "mix_ban_evasion",
        30.0,
        10.0,
        60.0,
        "weight of sanctioned people back under a new identity",
    ),
    rate(
        "mix_permitted",
        40.0,
        10.0,
        80.0,
        "weight of one freelancer + one client account of one person",
    ),
    rate(
        "mix_review_ring",
        15.0,
        5.0,
        40.0,
        "weight of sock puppets reviewing their own account",
    ),
    rate(
        "mix_household",
        50.0,
        20.0,
        120.0,
        "weight of households of 2-4 different people",
    ),
    rate(
        "mix_agency",
        35.0,
        10.0,
        60.0,
        "weight of agencies with 3-8 member freelancers",
    ),
    rate(
        "mix_namesakes",
        20.0,
        5.0,
        60.0,
        "weight of 2-4 strangers with one common name and name-built handles",
    ),
    rate(
        "name_built_handle",
        0.5,
        0.2,
        0.8,
        "people whose email handle is their name (first.last, firstlast85, f.last) with no tag of their own",
    ),
    rate("dob_present", 0.7, 0.3, 0.95, "accounts with a birth date"),
    rate("phone_present", 0.85, 0.4, 0.95, "accounts with a phone"),
    rate("email_present", 0.97, 0.85, 1.0, "accounts with an email"),
    rate(
        "second_ip",
        0.3,
        0.1,
        0.6,
        "accounts with a second login address",
    ),
    rate(
        "ipv6",
        0.2,
        0.0,
        0.6,
        "people on IPv6 (privacy addresses: new interface ids in one /64)",
    ),
    rate("card", 0.7, 0.3, 0.9, "people with a card"),
    rate(
        "id_document",
        0.3,
        0.0,
        0.6,
        "people with a verified id document",
    ),
    rate(
        "single_common_name",
        0.04,
        0.01,
        0.1,
        "singles with a very common name",
    ),
    rate(
        "single_coworking",
        0.04,
        0.01,
        0.08,
        "singles in a coworking space (one IP per ~100 accounts)",
    ),
    rate(
        "single_carrier_nat",
        0.08,
        0.02,
        0.2,
        "singles behind mobile-carrier NAT",
    ),
    rate(
        "single_junk_device",
        0.03,
        0.01,
        0.08,
        "singles with a junk device id",
    ),
    rate(
        "placeholder_value",
        0.02,
        0.0,
        0.08,
        "accounts with a placeholder (1900-01-01, 0000000, test@test.com, N/A)",
    ),
    rate(
        "device_model_string",
        0.05,
        0.0,
        0.25,
        "accounts whose device cell is a model or user-agent string",
    ),
    rate(
        "masked_card",
        0.05,
        0.0,
        0.3,
        "cards exported masked (BIN + last 4, or last 4 only)",
    ),
    rate(
        "dup_new_email",
        0.2,
        0.05,
        0.5,
        "duplicates with an email not made from the old handle",
    ),
    rate(
        "dup_new_device",
        0.5,
        0.2,
        0.8,
        "duplicates on a new device",
    ),
    rate(
        "dup_new_card",
        0.5,
        0.2,
        0.8,
        "duplicates that drop or change the card",
    ),
    rate(
        "dup_nickname",
        0.15,
        0.05,
        0.3,
        "duplicates under a nickname (the generator's own rules and customs)",
    ),
    rate(
        "dup_transliteration",
        0.1,
        0.0,
        0.3,
        "duplicates of native-script names under another romanization",
    ),
    rate(
        "dup_typo",
        0.15,
        0.05,
        0.3,
        "duplicates with a typo in the name",
    ),
    rate(
        "dup_swapped_order",
        0.1,
        0.02,
        0.25,
        "duplicates with family name first",
    ),
    rate(
        "dup_dob_missing",
        0.3,
        0.1,
        0.6,
        "duplicates without the birth date",
    ),
    rate(
        "household_card",
        0.8,
        0.4,
        0.95,
        "household members on the family card",
    ),
    rate(
        "household_device",
        0.1,
        0.02,
        0.4,
        "household members on the family tablet or laptop",
    ),
    rate(
        "household_surname",
        0.7,
        0.4,
        0.9,
        "household members with the family surname",
    ),
    rate(
        "household_junior",
        0.05,
        0.02,
        0.2,
        "households with a junior of the same name, 25-35 years younger",
    ),
    rate(
        "household_twins",
        0.03,
        0.01,
        0.1,
        "households with twins (same birth date)",
    ),
    rate(
        "sanctioned_in_group",
        0.1,
        0.02,
        0.3,
        "households, agencies and coworking spaces with a banned or suspended member",
    ),
    rate(
        "evasion_paypal",
        0.15,
        0.05,
        0.3,
        "evaders paying with a PayPal address made of their old handle",
    ),
    rate(
        "evasion_married",
        0.1,
        0.02,
        0.2,
        "evaders back under a married surname, same first name, birth date and device",
    ),
    rate(
        "evasion_one_signal",
        0.2,
        0.1,
        0.4,
        "evaders who reuse only a device or only a phone",
    ),
    rate(
        "evasion_new_birth_date",
        0.2,
        0.05,
        0.5,
        "evaders who type a new birth date (the others keep theirs, or leave it blank)",
    ),
    rate(
        "review_ring_weak",
        0.3,
        0.1,
        0.6,
        "sock puppets sharing only an IP prefix and a device model with their account",
    ),
    rate(
        "mix_legal_entity",
        30.0,
        10.0,
        60.0,
        "weight of people with a personal freelancer account and one for their registered business",
    ),
    rate(
        "entity_second_account",
        0.15,
        0.05,
        0.3,
        "of those, businesses that open a second entity account (a duplicate)",
    ),
    rate(
        "entity_own_name",
        0.2,
        0.0,
        0.4,
        "businesses named after the owner (John Smith LLC)",
    ),
    rate(
        "entity_client",
        0.3,
        0.1,
        0.5,
        "entity accounts that hire (client) rather than work (freelancer)",
    ),
    rate(
        "self_bidding",
        0.4,
        0.2,
        0.7,
        "people with duplicate freelancer accounts who bid on one job with two of them",
    ),
    rate(
        "bids_per_freelancer",
        3.0,
        1.0,
        8.0,
        "mean bids per freelancer account (on jobs of skewed popularity: popular ones draw hundreds)",
    ),
    rate(
        "address_present",
        0.5,
        0.0,
        0.9,
        "accounts with a postal address (households share theirs)",
    ),
    rate(
        "dup_moved",
        0.2,
        0.05,
        0.5,
        "duplicates and evaders at another address than their first account",
    ),
];

/// The `sparse` profile's weight of each scenario of people holding several accounts, as a share of the
/// default's.
pub const SPARSE_SHARE: f64 = 0.1;

/// A profile: a name and a value for every rate.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub name: String,
    pub seed: u64,
    values: Vec<f64>,
    /// The `dense` profile's network sharing, on top of the default rates (`None` elsewhere).
    pub dense: Option<Dense>,
}

/// Networks shaped unlike the default marketplace (issue #12): many IPs per account from dense ISP ranges,
/// carrier NAT on a large share of accounts, office devices shared by dozens. What an export from a mobile-
/// heavy market looks like; the scenario mix and every other rate are the default profile's.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Dense {
    /// Mean extra IPs per account, drawn from the region's dense /24 ranges.
    pub extra_ips: f64,
    /// /24 ranges per region the extra IPs come from (254 addresses each).
    pub ranges_per_region: usize,
    /// Accounts that also show one of the region's carrier-NAT addresses (each shared by thousands).
    pub carrier_nat: f64,
    /// Accounts that also show a shared office device.
    pub office_device: f64,
    /// Accounts per office device, on average.
    pub office_device_accounts: u64,
}

impl Profile {
    /// The fixed profile the benchmarks use.
    pub fn fixed() -> Profile {
        Profile {
            name: "default".into(),
            seed: 0,
            values: RATES.iter().map(|r| r.default).collect(),
            dense: None,
        }
    }

    /// The default rates with dense network sharing (`Dense`).
    pub fn dense() -> Profile {
        Profile {
            name: "dense".into(),
            dense: Some(Dense {
                extra_ips: 4.0,
                ranges_per_region: 400,
                carrier_nat: 0.4,
                office_device: 0.1,
                office_device_accounts: 40,
            }),
            ..Profile::fixed()
        }
    }

    /// The default rates with a tenth of the people who hold more than one account (`SPARSE_SHARE`): a
    /// marketplace where second accounts are rare and the shared homes, offices and networks of different
    /// people are not, so that the candidates are mostly housemates and colleagues.
    pub fn sparse() -> Profile {
        Profile {
            name: "sparse".into(),
            ..Profile::fixed()
        }
        .with_rare_second_accounts()
    }

    /// A `random` profile (every rate drawn from the seed) with rare second accounts, as `sparse` has them.
    pub fn sparse_random(seed: u64) -> Profile {
        Profile {
            name: "sparse-random".into(),
            ..Profile::random(seed)
        }
        .with_rare_second_accounts()
    }

    /// The same profile with `SPARSE_SHARE` of the weight of every scenario of one person with several
    /// accounts.
    fn with_rare_second_accounts(mut self) -> Profile {
        for r in [
            R::MixDuplicate,
            R::MixBanEvasion,
            R::MixPermitted,
            R::MixReviewRing,
            R::MixLegalEntity,
        ] {
            self.values[r as usize] *= SPARSE_SHARE;
        }
        self
    }

    /// Every rate drawn uniformly from its range, from the seed.
    pub fn random(seed: u64) -> Profile {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
        Profile {
            name: "random".into(),
            seed,
            values: RATES
                .iter()
                .map(|r| r.low + (r.high - r.low) * rng.random::<f64>())
                .collect(),
            dense: None,
        }
    }

    pub fn by_name(name: &str, seed: u64) -> Result<Profile> {
        match name {
            "default" => Ok(Profile::fixed()),
            "random" => Ok(Profile::random(seed)),
            "dense" => Ok(Profile::dense()),
            "sparse" => Ok(Profile::sparse()),
            "sparse-random" => Ok(Profile::sparse_random(seed)),
            other => Err(Error::Setting(format!(
                "unknown generator profile `{other}` (default, random, dense, sparse, sparse-random)"
            ))),
        }
    }

    pub fn get(&self, r: R) -> f64 {
        self.values[r as usize]
    }

    /// Name and value of every rate, for `profile.json`.
    pub fn values(&self) -> Vec<(&'static str, f64)> {
        RATES
            .iter()
            .zip(&self.values)
            .map(|(r, v)| (r.rate, *v))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's table of rates is this table, value for value.
    #[test]
    fn readme_documents_every_rate() {
        let readme = include_str!("../../README.md");
        let f = |x: f64| format!("{x}");
        for r in RATES {
            let row = format!(
                "| `{}` | {} | {}–{} | {} |",
                r.rate,
                f(r.default),
                f(r.low),
                f(r.high),
                r.meaning
            );
            assert!(readme.contains(&row), "README lacks the row {row}");
        }
    }

    #[test]
    fn rates_are_in_order_and_in_range() {
        assert_eq!(RATES.len(), R::DupMoved as usize + 1);
        assert_eq!(RATES[R::NameBuiltHandle as usize].rate, "name_built_handle");
        assert_eq!(RATES[R::ReviewRingWeak as usize].rate, "review_ring_weak");
        for r in RATES {
            assert!(r.low <= r.default && r.default <= r.high, "{}", r.rate);
        }
        let (a, b) = (Profile::random(1), Profile::random(2));
        assert_ne!(a.values, b.values);
        assert_eq!(a.values, Profile::random(1).values);
        for (v, r) in a.values.iter().zip(RATES) {
            assert!(*v >= r.low && *v <= r.high);
        }
    }
}

//! The synthetic marketplace: persons with one or more accounts, in scenarios that a naive matcher gets
//! wrong in both directions (duplicates that look different, strangers that look alike), written as
//! `accounts.csv` (the input contract), `reviews.csv` and `truth.csv` with ground truth. Streams to disk and
//! is deterministic for a seed. The scenario mix is documented in the README.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    pub accounts: u64,
    pub seed: u64,
}

impl SynthConfig {
    pub fn new(accounts: u64, seed: u64) -> Self {
        SynthConfig { accounts, seed }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SynthStats {
    pub accounts: u64,
    pub persons: u64,
    pub reviews: u64,
}

struct Region {
    country: &'static str,
    first: &'static [&'static str],
    last: &'static [&'static str],
    /// Native-script forms of some names (written instead of the Latin form now and then).
    native: &'static [(&'static str, &'static str)],
    phone: fn(&mut ChaCha8Rng, bool) -> (String, String),
    weight: u32,
}

fn digits(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// A phone as (canonical digits used to rewrite it, formatted as typed).
fn us_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let a = format!("{}{}", rng.random_range(2..10u8), digits(rng, 2));
    let (b, c) = (
        format!("{}{}", rng.random_range(2..10u8), digits(rng, 2)),
        digits(rng, 4),
    );
    let typed = if intl {
        format!("+1 ({a}) {b}-{c}")
    } else {
        format!("{a}-{b}-{c}")
    };
    (format!("+1{a}{b}{c}"), typed)
}
fn gb_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("7{}", digits(rng, 9));
    let typed = if intl {
        format!("+44 {} {}", &n[..4], &n[4..])
    } else {
        format!("0{} {}", &n[..4], &n[4..])
    };
    (format!("+44{n}"), typed)
}
fn de_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("15{}{}", rng.random_range(1..8u8), digits(rng, 8));
    let typed = if intl {
        format!("+49 {} {}", &n[..3], &n[3..])
    } else {
        format!("0{} {}", &n[..3], &n[3..])
    };
    (format!("+49{n}"), typed)
}
fn ru_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("9{}", digits(rng, 9));
    let typed = if intl {
        format!("+7 {} {}-{}-{}", &n[..3], &n[3..6], &n[6..8], &n[8..])
    } else {
        format!("8 ({}) {}-{}-{}", &n[..3], &n[3..6], &n[6..8], &n[8..])
    };
    (format!("+7{n}"), typed)
}
fn in_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("{}{}", rng.random_range(6..10u8), digits(rng, 9));
    let typed = if intl {
        format!("+91 {} {}", &n[..5], &n[5..])
    } else {
        format!("0{}", n)
    };
    (format!("+91{n}"), typed)
}
fn cn_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("13{}", digits(rng, 9));
    let typed = if intl {
        format!("+86 {} {} {}", &n[..3], &n[3..7], &n[7..])
    } else {
        n.clone()
    };
    (format!("+86{n}"), typed)
}
fn es_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("6{}", digits(rng, 8));
    let typed = if intl {
        format!("+34 {} {} {}", &n[..3], &n[3..6], &n[6..])
    } else {
        n.clone()
    };
    (format!("+34{n}"), typed)
}
fn mx_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("55{}", digits(rng, 8));
    let typed = if intl {
        format!("+52 {} {} {}", &n[..2], &n[2..6], &n[6..])
    } else {
        format!("{} {} {}", &n[..2], &n[2..6], &n[6..])
    };
    (format!("+52{n}"), typed)
}
fn br_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("119{}", digits(rng, 8));
    let typed = if intl {
        format!("+55 {} {}-{}", &n[..2], &n[2..7], &n[7..])
    } else {
        format!("({}) {}-{}", &n[..2], &n[2..7], &n[7..])
    };
    (format!("+55{n}"), typed)
}
fn fr_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("6{}", digits(rng, 8));
    let typed = if intl {
        format!(
            "+33 {} {} {} {} {}",
            &n[..1],
            &n[1..3],
            &n[3..5],
            &n[5..7],
            &n[7..]
        )
    } else {
        format!(
            "0{} {} {} {} {}",
            &n[..1],
            &n[1..3],
            &n[3..5],
            &n[5..7],
            &n[7..]
        )
    };
    (format!("+33{n}"), typed)
}
fn pl_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("5{}", digits(rng, 8));
    let typed = if intl {
        format!("+48 {} {} {}", &n[..3], &n[3..6], &n[6..])
    } else {
        format!("{} {} {}", &n[..3], &n[3..6], &n[6..])
    };
    (format!("+48{n}"), typed)
}
fn eg_phone(rng: &mut ChaCha8Rng, intl: bool) -> (String, String) {
    let n = format!("10{}", digits(rng, 8));
    let typed = if intl {
        format!("+20 {} {} {}", &n[..2], &n[2..6], &n[6..])
    } else {
        format!("0{}", n)
    };
    (format!("+20{n}"), typed)
}

static REGIONS: &[Region] = &[
    Region {
        country: "US",
        first: &[
            "James",
            "Mary",
            "Robert",
            "Patricia",
            "John",
            "Jennifer",
            "Michael",
            "Linda",
            "William",
            "Elizabeth",
            "David",
            "Barbara",
            "Richard",
            "Susan",
            "Joseph",
            "Jessica",
            "Thomas",
            "Sarah",
            "Christopher",
            "Karen",
            "Daniel",
            "Nancy",
            "Matthew",
            "Lisa",
            "Anthony",
            "Betty",
            "Andrew",
            "Ashley",
            "Joshua",
            "Emily",
            "Kevin",
            "Megan",
            "Brian",
            "Rachel",
            "Tyler",
            "Hannah",
        ],
        last: &[
            "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
            "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson",
            "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King",
            "Wright", "Scott", "Green", "Baker", "Adams",
        ],
        native: &[],
        phone: us_phone,
        weight: 22,
    },
    Region {
        country: "GB",
        first: &[
            "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Emily", "Charlie",
            "Sophie", "Thomas", "Grace", "Alfie", "Lily", "Oscar", "Freya", "William", "Poppy",
            "James", "Evie",
        ],
        last: &[
            "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
            "Patel", "Wright", "Evans", "Thomas", "Roberts", "Walker", "Hughes", "Green", "Lewis",
            "Wood", "Hall", "Clarke",
        ],
        native: &[],
        phone: gb_phone,
        weight: 8,
    },
    Region {
        country: "DE",
        first: &[
            "Lukas",
            "Anna",
            "Jürgen",
            "Jörg",
            "Sophie",
            "Maximilian",
            "Lena",
            "Felix",
            "Marie",
            "Jonas",
            "Laura",
            "Leon",
            "Hannah",
            "Stefan",
            "Sabine",
            "Björn",
            "Ute",
            "Klaus",
            "Käthe",
            "Uwe",
        ],
        last: &[
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schulz",
            "Hoffmann",
            "Schäfer",
            "Koch",
            "Bauer",
            "Richter",
            "Klein",
            "Wolf",
            "Schröder",
            "Neumann",
            "Schwarz",
            "Zimmermann",
            "Groß",
            "Weiß",
        ],
        native: &[],
        phone: de_phone,
        weight: 6,
    },
    Region {
        country: "PL",
        first: &[
            "Łukasz",
            "Małgorzata",
            "Paweł",
            "Agnieszka",
            "Michał",
            "Katarzyna",
            "Wojciech",
            "Joanna",
            "Krzysztof",
            "Anna",
            "Piotr",
            "Magdalena",
            "Tomasz",
            "Żaneta",
            "Grzegorz",
            "Ewa",
        ],
        last: &[
            "Nowak",
            "Kowalski",
            "Wiśniewski",
            "Wójcik",
            "Kowalczyk",
            "Kamiński",
            "Lewandowski",
            "Zieliński",
            "Szymański",
            "Woźniak",
            "Dąbrowski",
            "Kozłowski",
            "Jankowski",
            "Mazur",
            "Wojciechowski",
            "Kwiatkowski",
        ],
        native: &[],
        phone: pl_phone,
        weight: 4,
    },
    Region {
        country: "RU",
        first: &[
            "Dmitrii",
            "Anastasia",
            "Sergei",
            "Olga",
            "Aleksei",
            "Tatiana",
            "Ivan",
            "Natalia",
            "Mikhail",
            "Ekaterina",
            "Andrei",
            "Irina",
            "Nikolai",
            "Svetlana",
            "Vladimir",
            "Elena",
        ],
        last: &[
            "Ivanov",
            "Smirnov",
            "Kuznetsov",
            "Popov",
            "Vasiliev",
            "Petrov",
            "Sokolov",
            "Mikhailov",
            "Novikov",
            "Fedorov",
            "Morozov",
            "Volkov",
            "Alekseev",
            "Lebedev",
            "Semenov",
            "Egorov",
        ],
        native: &[
            ("Dmitrii", "Дмитрий"),
            ("Anastasia", "Анастасия"),
            ("Sergei", "Сергей"),
            ("Olga", "Ольга"),
            ("Ivan", "Иван"),
            ("Ivanov", "Иванов"),
            ("Smirnov", "Смирнов"),
            ("Petrov", "Петров"),
            ("Volkov", "Волков"),
            ("Mikhail", "Михаил"),
            ("Elena", "Елена"),
            ("Popov", "Попов"),
        ],
        phone: ru_phone,
        weight: 6,
    },
    Region {
        country: "IN",
        first: &[
            "Arun", "Priya", "Rahul", "Anjali", "Vikram", "Pooja", "Amit", "Neha", "Suresh",
            "Divya", "Rajesh", "Kavya", "Sanjay", "Sneha", "Arjun", "Lakshmi", "Karthik", "Deepa",
            "Ravi", "Meera",
        ],
        last: &[
            "Sharma",
            "Patel",
            "Singh",
            "Kumar",
            "Gupta",
            "Reddy",
            "Nair",
            "Iyer",
            "Pandey",
            "Mehta",
            "Joshi",
            "Rao",
            "Das",
            "Chatterjee",
            "Verma",
            "Agarwal",
            "Menon",
            "Pillai",
            "Bose",
            "Mishra",
        ],
        native: &[],
        phone: in_phone,
        weight: 14,
    },
    Region {
        country: "CN",
        first: &[
            "Wei", "Fang", "Lei", "Na", "Jun", "Min", "Jie", "Jing", "Yong", "Li", "Qiang", "Yan",
            "Tao", "Hui", "Ming", "Xiu",
        ],
        last: &[
            "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu",
            "Sun", "Ma", "Zhu", "Hu", "Guo",
        ],
        native: &[
            ("Wang", "王"),
            ("Li", "李"),
            ("Zhang", "张"),
            ("Liu", "刘"),
            ("Chen", "陈"),
            ("Wei", "伟"),
            ("Fang", "芳"),
            ("Jing", "静"),
            ("Ming", "明"),
        ],
        phone: cn_phone,
        weight: 8,
    },
    Region {
        country: "ES",
        first: &[
            "María",
            "José",
            "Antonio",
            "Carmen",
            "Manuel",
            "Lucía",
            "Javier",
            "Laura",
            "Francisco",
            "Ana",
            "David",
            "Marta",
            "Sergio",
            "Paula",
            "Álvaro",
            "Inés",
        ],
        last: &[
            "García",
            "Fernández",
            "González",
            "Rodríguez",
            "López",
            "Martínez",
            "Sánchez",
            "Pérez",
            "Gómez",
            "Martín",
            "Jiménez",
            "Ruiz",
            "Hernández",
            "Díaz",
            "Moreno",
            "Muñoz",
            "Álvarez",
            "Romero",
        ],
        native: &[],
        phone: es_phone,
        weight: 6,
    },
    Region {
        country: "MX",
        first: &[
            "Juan",
            "Guadalupe",
            "Luis",
            "Alejandra",
            "Carlos",
            "Fernanda",
            "Jorge",
            "Valeria",
            "Miguel",
            "Daniela",
            "Ricardo",
            "Sofía",
            "Eduardo",
            "Ximena",
            "Ignacio",
            "Renata",
        ],
        last: &[
            "Hernández",
            "García",
            "Martínez",
            "López",
            "González",
            "Pérez",
            "Rodríguez",
            "Sánchez",
            "Ramírez",
            "Cruz",
            "Flores",
            "Gómez",
            "Morales",
            "Vázquez",
            "Reyes",
            "Jiménez",
        ],
        native: &[],
        phone: mx_phone,
        weight: 6,
    },
    Region {
        country: "BR",
        first: &[
            "João", "Ana", "Pedro", "Júlia", "Lucas", "Beatriz", "Gabriel", "Larissa", "Rafael",
            "Camila", "Mateus", "Letícia", "Thiago", "Vitória", "Gustavo", "Bruna",
        ],
        last: &[
            "Silva",
            "Santos",
            "Oliveira",
            "Souza",
            "Rodrigues",
            "Ferreira",
            "Alves",
            "Pereira",
            "Lima",
            "Gomes",
            "Costa",
            "Ribeiro",
            "Martins",
            "Carvalho",
            "Araújo",
            "Rocha",
        ],
        native: &[],
        phone: br_phone,
        weight: 7,
    },
    Region {
        country: "FR",
        first: &[
            "Jean",
            "Marie",
            "Pierre",
            "Camille",
            "Louis",
            "Léa",
            "Hugo",
            "Chloé",
            "Théo",
            "Manon",
            "Nicolas",
            "Élodie",
            "François",
            "Céline",
            "Jérôme",
            "Zoé",
        ],
        last: &[
            "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
            "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garnier", "Faure",
        ],
        native: &[],
        phone: fr_phone,
        weight: 5,
    },
    Region {
        country: "EG",
        first: &[
            "Mohamed", "Fatma", "Ahmed", "Mariam", "Mahmoud", "Nour", "Omar", "Aya", "Youssef",
            "Salma", "Mostafa", "Hana", "Karim", "Yasmin", "Tarek", "Rania",
        ],
        last: &[
            "Hassan",
            "Ali",
            "Ibrahim",
            "Mahmoud",
            "Abdelrahman",
            "Mostafa",
            "Saleh",
            "Khalil",
            "Farouk",
            "Nasser",
            "Soliman",
            "Gamal",
            "Fawzy",
            "Kamel",
            "Younis",
            "Shawky",
        ],
        native: &[
            ("Mohamed", "محمد"),
            ("Ahmed", "أحمد"),
            ("Ali", "علي"),
            ("Hassan", "حسن"),
            ("Omar", "عمر"),
        ],
        phone: eg_phone,
        weight: 8,
    },
];

const SYLLABLES: &[&str] = &[
    "ka", "ro", "mi", "ta", "len", "dor", "vi", "sa", "ber", "ni", "lo", "ran", "gu", "to", "mel",
    "za", "ki", "por", "an", "el", "wen", "ha", "sto", "ri", "mar", "bel", "qui", "ost", "ven",
    "dal", "fer", "go", "lin", "tam", "ser", "ul", "bra", "ne", "pa", "vos",
];

const NICK: &[(&str, &str)] = &[
    ("Robert", "Bob"),
    ("William", "Bill"),
    ("James", "Jim"),
    ("Michael", "Mike"),
    ("Richard", "Rick"),
    ("Thomas", "Tom"),
    ("Joseph", "Joe"),
    ("David", "Dave"),
    ("Daniel", "Dan"),
    ("Christopher", "Chris"),
    ("Matthew", "Matt"),
    ("Anthony", "Tony"),
    ("Andrew", "Andy"),
    ("Elizabeth", "Liz"),
    ("Jennifer", "Jen"),
    ("Susan", "Sue"),
    ("Dmitrii", "Dima"),
    ("Aleksei", "Alexey"),
    ("Sergei", "Sergey"),
    ("Tatiana", "Tanya"),
    ("Ekaterina", "Katya"),
    ("Mohamed", "Mohammed"),
    ("José", "Pepe"),
    ("Francisco", "Paco"),
    ("Ignacio", "Nacho"),
];

const PROVIDERS: &[&str] = &[
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "outlook.com",
    "hotmail.com",
    "yahoo.com",
    "icloud.com",
    "proton.me",
    "mail.com",
    "yandex.ru",
    "gmx.de",
    "qq.com",
];

const COMMON_NAMES: &[(&str, &str, &str)] = &[
    ("Maria", "Garcia", "ES"),
    ("John", "Smith", "US"),
    ("Wei", "Zhang", "CN"),
    ("Mohamed", "Ali", "EG"),
    ("Priya", "Sharma", "IN"),
    ("Ana", "Silva", "BR"),
    ("Olga", "Ivanova", "RU"),
    ("James", "Brown", "GB"),
];

const JUNK_DEVICES: &[&str] = &[
    "00000000-0000-0000-0000-000000000000",
    "unknown",
    "9774d56d682e549c",
    "emulator-5554-default",
    "webview-0001",
];

/// One person as the generator knows them.
#[derive(Clone)]
struct Person {
    region: usize,
    first: String,
    last: String,
    middle: Option<char>,
    dob: String,
    handle: String,
    provider: &'static str,
    phone: (String, String),
    devices: Vec<String>,
    ip: String,
    card: Option<String>,
    iban: Option<String>,
    id_doc: Option<String>,
}

struct Account {
    id: String,
    account_type: &'static str,
    status: &'static str,
    created: String,
    name: String,
    business: String,
    email: String,
    phone: String,
    country: String,
    dob: String,
    id_doc: String,
    payments: Vec<String>,
    devices: Vec<String>,
    ips: Vec<String>,
}

fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        std::borrow::Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

struct Gen {
    rng: ChaCha8Rng,
    next_account: u64,
    next_person: u64,
    accounts: BufWriter<File>,
    truth: BufWriter<File>,
    reviews: BufWriter<File>,
    stats: SynthStats,
    /// Recent freelancer / client account ids for legitimate reviews.
    recent_freelancers: Vec<String>,
    recent_clients: Vec<String>,
    /// Shared crowd IPs: coworking spaces and carrier NAT, per region.
    coworking: Vec<(String, u32)>,
    nat: Vec<Vec<String>>,
}

fn public_ipv4(rng: &mut ChaCha8Rng) -> String {
    loop {
        let a = rng.random_range(1..224u8);
        if matches!(a, 10 | 100 | 127 | 169 | 172 | 192) {
            continue;
        }
        return format!(
            "{a}.{}.{}.{}",
            rng.random_range(0..256u16),
            rng.random_range(0..256u16),
            rng.random_range(1..255u16)
        );
    }
}

fn messy(rng: &mut ChaCha8Rng, s: &str) -> String {
    match rng.random_range(0..20u8) {
        0 => s.to_uppercase(),
        1 => s.to_lowercase(),
        2 => format!("  {s} "),
        3 => s.replace(' ', "  "),
        _ => s.to_string(),
    }
}

fn typo(rng: &mut ChaCha8Rng, s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if c.len() < 4 {
        return s.to_string();
    }
    let i = rng.random_range(1..c.len() - 1);
    match rng.random_range(0..3u8) {
        0 => {
            c.swap(i, i + 1);
        }
        1 => {
            c.remove(i);
        }
        _ => {
            c.insert(i, c[i]);
        }
    }
    c.into_iter().collect()
}

fn strip_diacritics(s: &str) -> String {
    deunicode::deunicode(s)
}

impl Gen {
    fn account_id(&mut self) -> String {
        self.next_account += 1;
        // A fixed permutation of 1..10^10 so ids carry no order of persons.
        let x = (self.next_account.wrapping_mul(6_364_136_223)) % 10_000_000_000;
        format!("acc{x:010}")
    }

    fn date(&mut self, from_year: i64, to_year: i64) -> (i64, String) {
        let y = self.rng.random_range(from_year..=to_year);
        let m = self.rng.random_range(1..=12i64);
        let d = self.rng.random_range(1..=28i64);
        (y * 10_000 + m * 100 + d, format!("{y:04}-{m:02}-{d:02}"))
    }

    fn created_after(&mut self, after: i64) -> (i64, String) {
        // `after` is YYYYMMDD; pick a later date.
        let y0 = after / 10_000;
        let (mut v, mut s) = self.date(y0, 2026);
        for _ in 0..8 {
            if v > after {
                break;
            }
            (v, s) = self.date(y0, 2026);
        }
        if v <= after {
            v = after + 1;
            let (y, m, d) = (v / 10_000, (v / 100) % 100, (v % 100).min(28));
            s = format!("{y:04}-{m:02}-{d:02}");
        }
        let h = self.rng.random_range(0..24u8);
        let mi = self.rng.random_range(0..60u8);
        (v, format!("{s}T{h:02}:{mi:02}:00Z"))
    }

    fn surname(&mut self, r: &Region) -> String {
        if self.rng.random_bool(0.5) {
            r.last.choose(&mut self.rng).unwrap().to_string()
        } else {
            let n = self.rng.random_range(2..4usize);
            let mut s: String = (0..n)
                .map(|_| *SYLLABLES.choose(&mut self.rng).unwrap())
                .collect();
            if let Some(f) = s.get_mut(0..1) {
                f.make_ascii_uppercase();
            }
            s
        }
    }

    fn person(&mut self, region: Option<usize>) -> Person {
        let region = region.unwrap_or_else(|| {
            let total: u32 = REGIONS.iter().map(|r| r.weight).sum();
            let mut x = self.rng.random_range(0..total);
            REGIONS
                .iter()
                .position(|r| {
                    if x < r.weight {
                        true
                    } else {
                        x -= r.weight;
                        false
                    }
                })
                .unwrap_or(0)
        });
        let r = &REGIONS[region];
        let first = r.first.choose(&mut self.rng).unwrap().to_string();
        let last = self.surname(r);
        let (_, dob) = self.date(1960, 2004);
        let base = format!(
            "{}.{}",
            strip_diacritics(&first).to_lowercase(),
            strip_diacritics(&last).to_lowercase()
        );
        // Providers keep mailboxes unique: a person's handle carries a tag no one else has.
        let tag = radix36(self.next_person);
        let handle = match self.rng.random_range(0..4u8) {
            0 => format!("{base}.{tag}"),
            1 => format!("{}{}", base.replace('.', ""), tag),
            2 => format!(
                "{}{}{}",
                &base[..1],
                strip_diacritics(&last).to_lowercase(),
                tag
            ),
            _ => format!("{base}_{tag}"),
        };
        let intl = self.rng.random_bool(0.4);
        let phone = (r.phone)(&mut self.rng, intl);
        let ndev = self.rng.random_range(1..=2usize);
        let devices = (0..ndev)
            .map(|_| format!("dev-{:016x}", self.rng.random::<u64>()))
            .collect();
        let card = self
            .rng
            .random_bool(0.7)
            .then(|| format!("fp_{:012x}", self.rng.random::<u64>() & 0xffff_ffff_ffff));
        let iban = (matches!(r.country, "DE" | "FR" | "ES" | "PL") && self.rng.random_bool(0.3))
            .then(|| {
                let cc = r.country;
                let len = match cc {
                    "DE" => 18,
                    "FR" => 23,
                    "PL" => 24,
                    _ => 20,
                };
                let bban = digits(&mut self.rng, len);
                iban_with_check(cc, &bban)
            });
        let id_doc = self
            .rng
            .random_bool(0.3)
            .then(|| format!("{:032x}", self.rng.random::<u128>()));
        Person {
            region,
            first,
            last,
            middle: self
                .rng
                .random_bool(0.15)
                .then(|| char::from(b'A' + self.rng.random_range(0..26u8))),
            dob,
            handle,
            provider: PROVIDERS.choose(&mut self.rng).unwrap(),
            phone,
            devices,
            ip: public_ipv4(&mut self.rng),
            card,
            iban,
            id_doc,
        }
    }

    fn base_account(&mut self, p: &Person, account_type: &'static str) -> Account {
        let r = &REGIONS[p.region];
        let mut name = match p.middle {
            Some(m) if self.rng.random_bool(0.5) => format!("{} {}. {}", p.first, m, p.last),
            _ => format!("{} {}", p.first, p.last),
        };
        if !r.native.is_empty() && self.rng.random_bool(0.3) {
            for (latin, native) in r.native {
                name = name.replace(latin, native);
            }
        }
        let name = messy(&mut self.rng, &name);
        let email = format!("{}@{}", p.handle, p.provider);
        let email = if self.rng.random_bool(0.05) {
            email.to_uppercase()
        } else {
            email
        };
        let mut payments = vec![];
        if let Some(c) = &p.card {
            payments.push(format!("card:{c}"));
        }
        if let Some(i) = &p.iban {
            payments.push(format!("iban:{i}"));
        }
        let (_, created) = self.date(2016, 2025);
        let ip2 = self
            .rng
            .random_bool(0.3)
            .then(|| public_ipv4(&mut self.rng));
        let mut ips = vec![p.ip.clone()];
        ips.extend(ip2);
        if self.rng.random_bool(0.1) {
            ips.push("192.168.1.10".into());
        }
        let id = self.account_id();
        Account {
            id,
            account_type,
            status: if self.rng.random_bool(0.05) {
                "closed"
            } else {
                "active"
            },
            created: format!(
                "{created}T{:02}:{:02}:00Z",
                self.rng.random_range(0..24u8),
                self.rng.random_range(0..60u8)
            ),
            name,
            business: String::new(),
            email: if self.rng.random_bool(0.03) {
                String::new()
            } else {
                email
            },
            phone: if self.rng.random_bool(0.15) {
                String::new()
            } else {
                p.phone.1.clone()
            },
            country: r.country.to_string(),
            dob: if self.rng.random_bool(0.7) {
                p.dob.clone()
            } else {
                String::new()
            },
            id_doc: p.id_doc.clone().unwrap_or_default(),
            payments,
            devices: p.devices.clone(),
            ips,
        }
    }

    /// A second account of the same person: the variations real duplicates show.
    fn variant(&mut self, p: &Person, first: &Account, account_type: &'static str) -> Account {
        let mut a = self.base_account(p, account_type);
        let r = &REGIONS[p.region];
        a.name = match self.rng.random_range(0..8u8) {
            0 => typo(&mut self.rng, &format!("{} {}", p.first, p.last)),
            1 => match NICK.iter().find(|(f, _)| *f == p.first) {
                Some((_, n)) => format!("{} {}", n, p.last),
                None => format!(
                    "{} {}",
                    strip_diacritics(&p.first),
                    strip_diacritics(&p.last)
                ),
            },
            2 => format!(
                "{} {}",
                strip_diacritics(&p.first),
                strip_diacritics(&p.last)
            ),
            3 => format!("{}, {}", p.last, p.first),
            4 => format!(
                "{} {}. {}",
                p.first,
                char::from(b'A' + self.rng.random_range(0..26u8)),
                p.last
            ),
            5 if !r.native.is_empty() => {
                let mut n = format!("{} {}", p.first, p.last);
                for (latin, native) in r.native {
                    n = n.replace(latin, native);
                }
                n
            }
            _ => first.name.clone(),
        };
        a.name = messy(&mut self.rng, &a.name);
        let local = p.handle.clone();
        a.email = match self.rng.random_range(0..10u8) {
            0..=2 if p.provider == "gmail.com" => {
                let dotted: String = local
                    .chars()
                    .flat_map(|c| if c == '.' { None } else { Some(c) })
                    .collect();
                format!(
                    "{}+{}@{}",
                    dotted,
                    ["work", "shop", "x", "2"].choose(&mut self.rng).unwrap(),
                    if self.rng.random_bool(0.3) {
                        "googlemail.com"
                    } else {
                        "gmail.com"
                    }
                )
            }
            0..=2
                if matches!(
                    p.provider,
                    "outlook.com" | "hotmail.com" | "icloud.com" | "proton.me"
                ) =>
            {
                format!("{}+{}@{}", local, "alt", p.provider)
            }
            3..=4 => format!("{}@{}", local, PROVIDERS.choose(&mut self.rng).unwrap()),
            _ => format!(
                "{}{}@{}",
                local.replace('.', "_"),
                self.rng.random_range(1..99u8),
                PROVIDERS.choose(&mut self.rng).unwrap()
            ),
        };
        if !a.phone.is_empty() {
            a.phone = match self.rng.random_range(0..10u8) {
                0..=5 => {
                    (REGIONS[p.region].phone)(&mut ChaCha8Rng::seed_from_u64(0), false)
                        .1
                        .chars()
                        .take(0)
                        .collect::<String>()
                        + &rewrite_phone(&p.phone.0, &mut self.rng)
                }
                6..=7 => (REGIONS[p.region].phone)(&mut self.rng, true).1,
                _ => String::new(),
            };
        }
        if self.rng.random_bool(0.5) {
            a.devices = vec![format!("dev-{:016x}", self.rng.random::<u64>())];
        }
        match self.rng.random_range(0..10u8) {
            0..=5 => {}
            6..=7 => {
                let mut parts: Vec<&str> = p.ip.split('.').collect();
                let last = format!("{}", self.rng.random_range(1..255u16));
                parts[3] = &last;
                a.ips = vec![parts.join(".")];
            }
            _ => a.ips = vec![public_ipv4(&mut self.rng)],
        }
        if self.rng.random_bool(0.5) {
            a.payments.clear();
            if self.rng.random_bool(0.5) {
                a.payments.push(format!(
                    "card:fp_{:012x}",
                    self.rng.random::<u64>() & 0xffff_ffff_ffff
                ));
            }
        }
        if self.rng.random_bool(0.3) {
            a.dob = String::new();
        }
        a
    }

    fn write(&mut self, a: &Account, person: u64, scenario: &str, group: &str) -> Result<()> {
        let io = |e| Error::Write {
            path: "accounts.csv".into(),
            source: e,
        };
        let row = [
            a.id.as_str(),
            a.account_type,
            a.status,
            &a.created,
            &a.name,
            &a.business,
            &a.email,
            &a.phone,
            &a.country,
            &a.dob,
            &a.id_doc,
            &a.payments.join("|"),
            &a.devices.join("|"),
            &a.ips.join("|"),
        ];
        let line: Vec<std::borrow::Cow<str>> = row.iter().map(|s| csv_field(s)).collect();
        writeln!(self.accounts, "{}", line.join(",")).map_err(io)?;
        writeln!(self.truth, "{},p{person:09},{scenario},{group}", a.id).map_err(io)?;
        self.stats.accounts += 1;
        let pool = match a.account_type {
            "freelancer" => &mut self.recent_freelancers,
            "client" => &mut self.recent_clients,
            _ => return Ok(()),
        };
        if pool.len() < 4096 {
            pool.push(a.id.clone());
        } else {
            let i = self.rng.random_range(0..pool.len());
            pool[i] = a.id.clone();
        }
        Ok(())
    }

    fn review(&mut self, from: &str, to: &str) -> Result<()> {
        let (_, d) = self.date(2020, 2026);
        let rating = if self.rng.random_bool(0.8) {
            5
        } else {
            self.rng.random_range(1..5u8)
        };
        writeln!(self.reviews, "{from},{to},{rating},{d}").map_err(|e| Error::Write {
            path: "reviews.csv".into(),
            source: e,
        })?;
        self.stats.reviews += 1;
        Ok(())
    }

    fn new_person_id(&mut self) -> u64 {
        self.next_person += 1;
        self.stats.persons += 1;
        self.next_person
    }

    /// One scenario instance; returns nothing, writes its accounts.
    fn unit(&mut self) -> Result<()> {
        let x = self.rng.random_range(0..1000u32);
        let pid = self.new_person_id();
        match x {
            // Single accounts, some of them in crowds.
            0..=779 => {
                let mut p = self.person(None);
                let t = if self.rng.random_bool(0.7) {
                    "freelancer"
                } else {
                    "client"
                };
                let mut scenario = "single";
                let mut group = String::new();
                match self.rng.random_range(0..100u8) {
                    0..=3 => {
                        let (name, _, cc) = *COMMON_NAMES.choose(&mut self.rng).unwrap();
                        let region = REGIONS.iter().position(|r| r.country == cc).unwrap_or(0);
                        p = self.person(Some(region));
                        let (f, l, _) = COMMON_NAMES.iter().find(|c| c.0 == name).unwrap();
                        p.first = f.to_string();
                        p.last = l.to_string();
                        scenario = "common_name";
                        group = format!("{f} {l}");
                    }
                    4..=7 => {
                        let i = self.rng.random_range(0..self.coworking.len());
                        p.ip = self.coworking[i].0.clone();
                        scenario = "coworking";
                        group = format!("cowork{i}");
                    }
                    8..=15 => {
                        let pool = &self.nat[p.region];
                        p.ip = pool[self.rng.random_range(0..pool.len())].clone();
                        scenario = "carrier_nat";
                        group = format!("nat{}", p.region);
                    }
                    16..=18 => {
                        let j = JUNK_DEVICES.choose(&mut self.rng).unwrap();
                        p.devices = vec![j.to_string()];
                        scenario = "junk_device";
                        group = j.to_string();
                    }
                    _ => {}
                }
                let a = self.base_account(&p, t);
                self.write(&a, pid, scenario, &group)?;
            }
            // Duplicate freelancer accounts of one person.
            780..=829 => {
                let p = self.person(None);
                let a = self.base_account(&p, "freelancer");
                self.write(&a, pid, "duplicate", "")?;
                for _ in 0..self.rng.random_range(1..=2u8) {
                    let b = self.variant(&p, &a, "freelancer");
                    self.write(&b, pid, "duplicate", "")?;
                }
            }
            // Ban evasion: a sanctioned account and a later one under a new identity.
            830..=859 => {
                let mut p = self.person(None);
                // Reuse one to three of the old identity's things; an IP prefix never alone.
                let mut pool: Vec<u8> = vec![0, 1, 2, 3, 4];
                let k = self.rng.random_range(1..=3usize);
                let mut chosen = Vec::new();
                while chosen.len() < k {
                    let i = self.rng.random_range(0..pool.len());
                    chosen.push(pool.remove(i));
                }
                if chosen == [2] {
                    chosen.push([0u8, 1, 3, 4][self.rng.random_range(0..4usize)]);
                }
                // The old account must hold what the new one reuses.
                if chosen.contains(&1) && p.card.is_none() {
                    p.card = Some(format!(
                        "fp_{:012x}",
                        self.rng.random::<u64>() & 0xffff_ffff_ffff
                    ));
                }
                if chosen.contains(&4) && p.id_doc.is_none() {
                    p.id_doc = Some(format!("{:032x}", self.rng.random::<u128>()));
                }
                let mut a = self.base_account(&p, "freelancer");
                a.status = if self.rng.random_bool(0.7) {
                    "banned"
                } else {
                    "suspended"
                };
                if chosen.contains(&3) && a.phone.is_empty() {
                    a.phone = p.phone.1.clone();
                }
                let created_a: i64 = a.created[..10].replace('-', "").parse().unwrap_or(20200101);
                let mut q = self.person(Some(p.region));
                q.id_doc = None;
                for c in &chosen {
                    match c {
                        0 => q.devices = vec![p.devices[0].clone()],
                        1 => q.card = p.card.clone(),
                        4 => q.id_doc = p.id_doc.clone(),
                        _ => {}
                    }
                }
                let mut b = self.base_account(&q, "freelancer");
                if chosen.contains(&2) {
                    let mut parts: Vec<String> = p.ip.split('.').map(String::from).collect();
                    parts[3] = self.rng.random_range(1..255u16).to_string();
                    b.ips = vec![parts.join(".")];
                }
                if chosen.contains(&3) {
                    b.phone = rewrite_phone(&p.phone.0, &mut self.rng);
                }
                b.status = "active";
                b.created = self.created_after(created_a).1;
                if self.rng.random_bool(0.5) {
                    b.dob = a.dob.clone();
                }
                self.write(&a, pid, "ban_evasion", "")?;
                self.write(&b, pid, "ban_evasion", "")?;
            }
            // One freelancer and one client account of one person: allowed.
            860..=899 => {
                let p = self.person(None);
                let a = self.base_account(&p, "freelancer");
                self.write(&a, pid, "permitted", "")?;
                let mut b = self.variant(&p, &a, "client");
                b.devices = a.devices.clone();
                self.write(&b, pid, "permitted", "")?;
            }
            // Review ring: accounts of one person reviewing each other.
            900..=914 => {
                let p = self.person(None);
                let a = self.base_account(&p, "freelancer");
                self.write(&a, pid, "review_ring", "")?;
                let mut b = self.variant(&p, &a, "client");
                // Sock puppets hide: new name and email, only a device or the home network in common.
                let q = self.person(Some(p.region));
                b.name = format!("{} {}", q.first, q.last);
                b.email = format!("{}@{}", q.handle, q.provider);
                b.phone = String::new();
                b.payments.clear();
                if self.rng.random_bool(0.5) {
                    b.devices = vec![p.devices[0].clone()];
                    b.ips = vec![public_ipv4(&mut self.rng)];
                } else {
                    b.devices = q.devices.clone();
                    b.ips = vec![p.ip.clone()];
                }
                self.write(&b, pid, "review_ring", "")?;
                for _ in 0..self.rng.random_range(1..=3u8) {
                    let (x, y) = (b.id.clone(), a.id.clone());
                    self.review(&x, &y)?;
                }
            }
            // Household: 2-4 different persons sharing an IP and a card, often a surname.
            915..=964 => {
                let head = self.person(None);
                let n = self.rng.random_range(2..=4u8);
                let group = format!("hh{pid}");
                let mut used: Vec<String> = Vec::new();
                for k in 0..n {
                    let mut m = self.person(Some(head.region));
                    // Family members have first names of their own.
                    while used.contains(&m.first) {
                        m.first = REGIONS[head.region]
                            .first
                            .choose(&mut self.rng)
                            .unwrap()
                            .to_string();
                    }
                    used.push(m.first.clone());
                    let pm = if k == 0 { pid } else { self.new_person_id() };
                    if self.rng.random_bool(0.7) {
                        m.last = head.last.clone();
                    }
                    m.ip = head.ip.clone();
                    if self.rng.random_bool(0.8) {
                        m.card = head
                            .card
                            .clone()
                            .or_else(|| Some(format!("fp_{:012x}", pid)));
                    }
                    if self.rng.random_bool(0.1) {
                        m.devices.push(head.devices[0].clone());
                    }
                    let t = if self.rng.random_bool(0.6) {
                        "freelancer"
                    } else {
                        "client"
                    };
                    let a = self.base_account(&m, t);
                    self.write(&a, pm, "household", &group)?;
                }
            }
            // Agency: an agency account and 3-8 members sharing office IP, company card and email domain.
            _ => {
                let boss = self.person(None);
                let company = format!(
                    "{} {}",
                    self.surname(&REGIONS[boss.region]),
                    ["Digital", "Studio", "Labs", "Solutions"]
                        .choose(&mut self.rng)
                        .unwrap()
                );
                let domain = format!(
                    "{}.com",
                    strip_diacritics(&company).to_lowercase().replace(' ', "")
                );
                let office_ip = public_ipv4(&mut self.rng);
                let card = format!("fp_corp{:08x}", self.rng.random::<u32>());
                let group = format!("ag{pid}");
                let mut acct = self.base_account(&boss, "agency");
                acct.business = format!("{company} LLC");
                acct.email = format!("info@{domain}");
                acct.ips = vec![office_ip.clone()];
                acct.payments = vec![format!("card:{card}")];
                self.write(&acct, pid, "agency", &group)?;
                for _ in 0..self.rng.random_range(3..=8u8) {
                    let pm = self.new_person_id();
                    let mut m = self.person(Some(boss.region));
                    m.ip = office_ip.clone();
                    m.card = Some(card.clone());
                    m.provider = "gmail.com";
                    let mut a = self.base_account(&m, "freelancer");
                    a.business = company.clone();
                    a.email = format!("{}@{}", m.handle, domain);
                    self.write(&a, pm, "agency", &group)?;
                }
            }
        }
        // Legitimate reviews between strangers: a client reviews a freelancer.
        if self.rng.random_bool(0.3)
            && !self.recent_clients.is_empty()
            && !self.recent_freelancers.is_empty()
        {
            let c =
                self.recent_clients[self.rng.random_range(0..self.recent_clients.len())].clone();
            let f = self.recent_freelancers
                [self.rng.random_range(0..self.recent_freelancers.len())]
            .clone();
            self.review(&c, &f)?;
        }
        Ok(())
    }
}

fn radix36(mut n: u64) -> String {
    let mut s = Vec::new();
    loop {
        s.push(char::from_digit((n % 36) as u32, 36).unwrap_or('0'));
        n /= 36;
        if n == 0 {
            break;
        }
    }
    s.iter().rev().collect()
}

/// The same number as typed another way.
fn rewrite_phone(e164: &str, rng: &mut ChaCha8Rng) -> String {
    let digits: String = e164.chars().filter(char::is_ascii_digit).collect();
    match rng.random_range(0..3u8) {
        0 => format!("+{digits}"),
        1 => format!("00{digits}"),
        _ => {
            let mut s = format!("+{}", &digits[..digits.len().min(2)]);
            for (i, c) in digits.chars().enumerate().skip(2) {
                if i % 3 == 2 {
                    s.push('-');
                }
                s.push(c);
            }
            s
        }
    }
}

/// An IBAN with a correct mod-97 check for a country and BBAN of digits.
pub fn iban_with_check(country: &str, bban: &str) -> String {
    let mut rearranged = String::new();
    rearranged.push_str(bban);
    for c in country.chars() {
        rearranged.push_str(&((c as u32 - 'A' as u32 + 10).to_string()));
    }
    rearranged.push_str("00");
    let mut rem: u64 = 0;
    for c in rearranged.chars() {
        // Letters in a BBAN count as two digits (A = 10 … Z = 35).
        let v = c.to_digit(36).unwrap_or(0) as u64;
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    format!("{country}{:02}{bban}", 98 - rem)
}

/// Writes `accounts.csv`, `reviews.csv` and `truth.csv` into `out`.
pub fn generate(cfg: &SynthConfig, out: &Path) -> Result<SynthStats> {
    std::fs::create_dir_all(out).map_err(|e| Error::write(out, e))?;
    let open = |name: &str| -> Result<BufWriter<File>> {
        let p = out.join(name);
        Ok(BufWriter::with_capacity(
            1 << 20,
            File::create(&p).map_err(|e| Error::write(&p, e))?,
        ))
    };
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    // Coworking spaces: about one per 2,500 accounts, each used by ~100 accounts of the coworking scenario.
    let spaces = (cfg.accounts / 2_500).max(1) as usize;
    let coworking = (0..spaces).map(|_| (public_ipv4(&mut rng), 0)).collect();
    // Carrier NAT: a handful of addresses per region, shared by thousands.
    let nat = REGIONS
        .iter()
        .map(|_| (0..8).map(|_| public_ipv4(&mut rng)).collect())
        .collect();
    let mut g = Gen {
        rng,
        next_account: 0,
        next_person: 0,
        accounts: open("accounts.csv")?,
        truth: open("truth.csv")?,
        reviews: open("reviews.csv")?,
        stats: SynthStats::default(),
        recent_freelancers: vec![],
        recent_clients: vec![],
        coworking,
        nat,
    };
    let io = |p: &str| {
        let p = out.join(p);
        move |e| Error::write(&p, e)
    };
    writeln!(g.accounts, "{}", crate::record::COLUMNS.join(",")).map_err(io("accounts.csv"))?;
    writeln!(g.truth, "account_id,person_id,scenario,group_id").map_err(io("truth.csv"))?;
    writeln!(g.reviews, "reviewer_id,reviewee_id,rating,created_at").map_err(io("reviews.csv"))?;
    while g.stats.accounts < cfg.accounts {
        g.unit()?;
    }
    g.accounts.flush().map_err(io("accounts.csv"))?;
    g.truth.flush().map_err(io("truth.csv"))?;
    g.reviews.flush().map_err(io("reviews.csv"))?;
    Ok(g.stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibans_pass_the_checksum() {
        for (cc, bban) in [
            ("DE", "370400440532013000"),
            ("FR", "20041010050500013M02606"),
            ("ES", "21000418450200051332"),
        ] {
            let s = iban_with_check(cc, bban);
            assert!(s.parse::<iban::Iban>().is_ok(), "{s}");
        }
        assert_eq!(
            iban_with_check("DE", "370400440532013000"),
            "DE89370400440532013000"
        );
    }

    #[test]
    fn same_seed_same_files_other_seed_other_files() {
        let d = tempfile::tempdir().unwrap();
        let (a, b, c) = (d.path().join("a"), d.path().join("b"), d.path().join("c"));
        let s1 = generate(&SynthConfig::new(3000, 7), &a).unwrap();
        let s2 = generate(&SynthConfig::new(3000, 7), &b).unwrap();
        generate(&SynthConfig::new(3000, 8), &c).unwrap();
        assert_eq!(s1, s2);
        assert!(s1.accounts >= 3000 && s1.accounts < 3020);
        for f in ["accounts.csv", "truth.csv", "reviews.csv"] {
            assert_eq!(
                std::fs::read(a.join(f)).unwrap(),
                std::fs::read(b.join(f)).unwrap(),
                "{f}"
            );
        }
        assert_ne!(
            std::fs::read(a.join("accounts.csv")).unwrap(),
            std::fs::read(c.join("accounts.csv")).unwrap()
        );
        let truth = std::fs::read_to_string(a.join("truth.csv")).unwrap();
        for scenario in [
            "single",
            "duplicate",
            "ban_evasion",
            "permitted",
            "review_ring",
            "household",
            "agency",
        ] {
            assert!(truth.contains(&format!(",{scenario},")), "no {scenario}");
        }
        assert_eq!(truth.lines().count() as u64, s1.accounts + 1);
    }
}

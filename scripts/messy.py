#!/usr/bin/env python3
"""Rewrites a contract-shaped accounts.csv into the shape of a real warehouse export, and writes the config
that reads it back:

    scripts/messy.py IN.csv OUT_DIR [--seed N]   ->  OUT_DIR/accounts.csv, OUT_DIR/config.toml

What changes (information-preserving, so the clean and the messy export must give the same clusters):
other column names; status and account-type words of the warehouse (`fraud_ban`, `SUSPENDED_TOS`, `seller`);
countries as English names or alpha-3 codes; birth dates as DD/MM/YYYY (the config does not say so: it is
detected); created_at as DD.MM.YYYY HH:MM (configured); device cells with a user agent or a model name added;
masked cards added; placeholders typed into empty fields (01/01/1900, 0000000000, N/A, test@test.com).
"""
import csv
import random
import sys

NAMES = {"US": "United States", "GB": "United Kingdom", "DE": "Germany", "PL": "Poland", "RU": "Russia",
         "ES": "Spain", "CA": "Canada", "AU": "Australia", "NG": "Nigeria", "UA": "Ukraine", "IN": "India",
         "CN": "China", "FR": "France", "BR": "Brazil", "MX": "Mexico", "EG": "Egypt", "IT": "Italy",
         "JP": "Japan", "TR": "Turkey", "NL": "Netherlands"}
ALPHA3 = {"US": "USA", "GB": "GBR", "DE": "DEU", "PL": "POL", "RU": "RUS", "ES": "ESP", "CA": "CAN",
          "AU": "AUS", "NG": "NGA", "UA": "UKR", "IN": "IND", "CN": "CHN", "FR": "FRA", "BR": "BRA",
          "MX": "MEX", "EG": "EGY", "IT": "ITA", "JP": "JPN", "TR": "TUR", "NL": "NLD"}
STATUS = {"active": ["Enabled", "ACTIVE"], "banned": ["fraud_ban", "terminated"],
          "suspended": ["SUSPENDED_TOS"], "closed": ["deactivated"]}
TYPES = {"freelancer": ["seller", "Freelancer"], "client": ["buyer"], "agency": ["team"]}
RENAME = {"account_id": "user_id", "full_name": "name", "date_of_birth": "dob",
          "id_document_hash": "doc_hash", "status": "account_state"}
AGENTS = ["Mozilla/5.0 (Linux; Android 13; SM-G991B) AppleWebKit/537.36", "SM-G991B", "iPhone14,2",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)"]


def day_first(iso):
    return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}" if len(iso) == 10 and iso[4] == "-" else iso


def created(iso):
    if len(iso) >= 16 and iso[4] == "-" and iso[10] == "T":
        return f"{iso[8:10]}.{iso[5:7]}.{iso[0:4]} {iso[11:16]}"
    if len(iso) == 10 and iso[4] == "-":
        return f"{iso[8:10]}.{iso[5:7]}.{iso[0:4]} 00:00"
    return iso


def main():
    src, out = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 7
    rng = random.Random(seed)
    with open(src, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cols = list(rows[0].keys()) if rows else []
    with open(f"{out}/accounts.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([RENAME.get(c, c) for c in cols])
        for r in rows:
            r = dict(r)
            r["status"] = rng.choice(STATUS.get(r["status"], [r["status"]]))
            r["account_type"] = rng.choice(TYPES.get(r["account_type"], [r["account_type"]]))
            c = r.get("country", "")
            if c in NAMES:
                r["country"] = NAMES[c] if rng.random() < 0.6 else ALPHA3[c]
            dob = r.get("date_of_birth", "")
            r["date_of_birth"] = day_first(dob) if dob else ("01/01/1900" if rng.random() < 0.3 else "")
            r["created_at"] = created(r.get("created_at", ""))
            if not r.get("phone") and rng.random() < 0.3:
                r["phone"] = "0000000000"
            if not r.get("id_document_hash") and rng.random() < 0.3:
                r["id_document_hash"] = "N/A"
            if not r.get("email") and rng.random() < 0.5:
                r["email"] = "test@test.com"
            if rng.random() < 0.3:
                devices = [d for d in r.get("device_ids", "").split("|") if d]
                r["device_ids"] = "|".join(devices + [rng.choice(AGENTS)])
            if rng.random() < 0.2:
                pays = [p for p in r.get("payment_methods", "").split("|") if p]
                r["payment_methods"] = "|".join(pays + ["card:411111******1111"])
            w.writerow([r[c] for c in cols])
    lists = lambda d: "\n".join(f'{k} = [{", ".join(chr(34) + v + chr(34) for v in vs)}]' for k, vs in d.items())
    with open(f"{out}/config.toml", "w", encoding="utf-8") as f:
        f.write("# Written by scripts/messy.py: how to read this export.\n[columns]\n")
        f.write("\n".join(f'{k} = "{v}"' for k, v in RENAME.items() if k in cols) + "\n\n")
        f.write("[values.status]\n" + lists(STATUS) + "\n\n")
        f.write("[values.account_type]\n" + lists(TYPES) + "\n\n")
        f.write('[dates]\ncreated_at = "%d.%m.%Y %H:%M"   # date_of_birth is left to detection\n')


if __name__ == "__main__":
    main()

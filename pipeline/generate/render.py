"""Turn the clean world into the roll's and the civil file's written rows (alias headers,
corrupted values); the roster's rows are written chunk by chunk (roster.py, members.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import corrupt as cx
from . import names as nm
from .constants import (
    CIVIL_PROTECTION_RATES,
    DASHES,
    DISTRICTS,
    EXCEL_FAKE_LEAP_DAY,
)
from .idcheck import DateSerial, standard_to_pua
from .identity import break_uscc
from .layout import RollLayout, plan_layout
from .population import World

ROLL_HEADERS = (
    "档案号", "职工姓名", "公民身份号码(必填)", "性别", "出生日期", "手机号码", "单位名称",
    "统一社会信用代码", "所属区", "街道（乡镇）", " 家庭住址 ", "家庭人口数", "月人均收入",
    "困难类别", "致困原因", "民政救助类别", "建档日期", "档案状态", "脱困日期", "填报单位", "备注",
)
ROLL_DATE_COLUMNS = ("出生日期", "建档日期", "脱困日期")
CIVIL_HEADERS = (
    "救助证编号", "成员序号", "姓名", "身份证号", "与户主关系", "保障类别", "区划代码", "街道乡镇",
    "家庭住址", "家庭总人数", "保障人数", "月保障金额", "批准日期", "保障状态", "退出日期",
    "人员状态", "死亡日期",
)
MEMBER_HEADERS = ("会员编号", "姓名", "公民身份号码", "工作单位", "基层工会", "所属区", "入会日期")
REMARKS = ("", "", "", "", "", "", "已核实", "待复核", "电话空号", "本人签字确认", "材料齐全")
# The roll and the roster type minority-name separators of every kind, dashes included.
ROLL_SEPARATORS = (*nm.MINORITY_SEPARATORS, "-", "—", "－")


@dataclass
class Rendered:
    roll: pd.DataFrame  # written roll rows (alias headers); values may be date/number/str
    civil: pd.DataFrame
    members: pd.DataFrame  # the whole roster: filled by build() only (members.py renders it)
    roll_id_kind: list[str]
    roll_id_written: list[str]  # textual form of the written ID (numbers as their digits)
    roll_name_written: list[str]
    civil_id_kind: list[str]
    civil_id_written: list[str]
    civil_name_written: list[str]
    member_id_kind: list[str]
    roll_name_kind: list[str]  # standard, dash_separator, pua_roll, pua_civil
    roll_birth_kind: list[str]  # stated, excel_1900_02_29
    layout: RollLayout


def render(world: World, seed: int) -> Rendered:
    r = random.Random(seed * 31 + 303)
    roll_out, kinds, id_txt, names_w, name_kinds, birth_kinds = _render_roll(r, world)
    civil_out, c_kinds, c_ids, c_names = _render_civil(r, world, seed)
    layout = plan_layout(random.Random(seed * 37 + 707), world.roll["filing_district"].tolist())
    members = pd.DataFrame(columns=list(MEMBER_HEADERS))  # the roster: members.py, by chunk
    return Rendered(roll_out, civil_out, members, kinds, id_txt, names_w,
                    c_kinds, c_ids, c_names, [], name_kinds, birth_kinds, layout)


def _roll_id(r: random.Random, row, id18: str, birth_year: int) -> tuple[object, str, str]:
    """(cell value, textual form, kind) of a roll row's ID: a planted kind as planned, else a
    random writing of the worker's own number."""
    if row.id_plan:
        value = row.id_override or id18
        return value, value, row.id_plan
    kind = cx.roll_id_kind(r, id18, birth_year, bool(row.force_valid_id))
    id_val, kind = cx.apply_id_kind(r, id18, kind)
    text = str(id_val)
    if kind == "excel_000" and r.random() < 0.7:
        id_val = float(int(id_val))  # a numeric cell: Excel kept 15 significant digits
    return id_val, text, kind


def _roll_name(r: random.Random, row, name: str) -> tuple[str, str]:
    """(written name, name kind) of a roll row."""
    if row.name_form == "dash":
        return name.replace("·", r.choice(DASHES)), "dash_separator"
    if row.name_form == "pua_roll":
        return standard_to_pua(name), "pua_roll"
    if row.name_form == "pua_civil":
        return name, "pua_civil"
    if row.name_variant != "none":
        return cx.name_variant(r, name, row.name_variant), "standard"
    written = cx.corrupt_name(r, name, trad=0.02, space=0.01, full=0.005,
                              homophone=0.0 if row.id_plan else 0.005, guo=0.15,
                              separators=ROLL_SEPARATORS)
    dashed = nm.is_minority(name) and any(d in written for d in DASHES)
    return written, "dash_separator" if dashed else "standard"


def _render_roll(r: random.Random, world: World):
    persons, employers = world.persons, world.employers
    emp_names = employers["employer"].tolist()
    emp_uscc = employers["uscc"].tolist()
    rows, kinds, id_txt, names_w, name_kinds, birth_kinds = [], [], [], [], [], []
    p_id = persons["id18"].tolist()
    p_by = persons["birth_year"].tolist()
    p_name = persons["name"].tolist()
    p_male = persons["male"].tolist()
    p_birth = persons["birth"].tolist()
    for row in world.roll.itertuples(index=False):
        id_val, text, kind = _roll_id(r, row, p_id[row.pid], int(p_by[row.pid]))
        kinds.append(kind)
        id_txt.append(text)
        name, name_kind = _roll_name(r, row, p_name[row.pid])
        names_w.append(name)
        name_kinds.append(name_kind)
        if row.birth_serial60:
            birth: object = DateSerial(EXCEL_FAKE_LEAP_DAY)
            birth_kinds.append("excel_1900_02_29")
        else:
            birth = cx.fmt_date(r, int(p_birth[row.pid]), cx.ROLL_DATE_STYLES)
            birth_kinds.append("stated")
        uscc = emp_uscc[row.employer_idx]
        if row.uscc_broken:
            uscc = break_uscc(uscc)
        address = row.address
        if r.random() < 0.3:
            address = f"北京市{DISTRICTS[row.hukou][0]}{address}"
        claimed = row.claimed
        if claimed == "无" and r.random() < 0.3:
            claimed = "否"
        income = row.income
        income_out: object = int(income) if float(income).is_integer() else income
        rows.append((
            row.roll_id, name, id_val, "男" if p_male[row.pid] else "女", birth,
            cx.fmt_phone(r, row.phone), emp_names[row.employer_idx], uscc,
            cx.fmt_district(r, row.filing_district), row.street, address,
            int(row.household_size), income_out, row.category, row.cause, claimed,
            cx.fmt_date(r, row.filed, cx.ROLL_DATE_STYLES), row.roll_status,
            cx.fmt_date(r, row.exit_day, cx.ROLL_DATE_STYLES) if row.exit_day is not None
            and not pd.isna(row.exit_day) else "",
            row.filing_union, r.choice(REMARKS),
        ))
    return (pd.DataFrame(rows, columns=list(ROLL_HEADERS)), kinds, id_txt, names_w, name_kinds,
            birth_kinds)


def _render_civil(r: random.Random, world: World, seed: int):
    civil, persons = world.civil, world.persons
    ids = persons["id18"].to_numpy()
    bys = persons["birth_year"].to_numpy()
    classes = persons["id_class"].to_numpy(dtype=object)
    marks = cx.protection_marks(np.random.default_rng(seed + 505), len(civil),
                                CIVIL_PROTECTION_RATES)
    rows, kinds, id_txt, names_w = [], [], [], []
    for row, mark in zip(civil.itertuples(index=False), marks, strict=True):
        id_class = classes[row.pid]
        if row.id_plan:
            id_val, kind = row.id_override or ids[row.pid], row.id_plan
        elif row.force_valid_id:
            id_val, kind = ids[row.pid], "valid"
        elif id_class != "resident":
            id_val, kind = ids[row.pid], id_class
        elif mark:
            id_val, kind = cx.protect(r, ids[row.pid], mark), mark
        else:
            id_val, kind = cx.side_id(r, ids[row.pid], int(bys[row.pid]), typo=0.003,
                                      legacy=0.005, lower_x=0.3)
        kinds.append(kind)
        id_txt.append(id_val)
        if row.name_pua:
            name = standard_to_pua(row.name)
        else:
            name = cx.corrupt_name(r, row.name, trad=0.01, space=0.005, full=0.0,
                                   homophone=0.002 if id_class == "resident" else 0.0,
                                   guo=0.0, separators=("·", "·", "·", "•"))
        names_w.append(name)
        exit_day = "" if row.exit_day is None or pd.isna(row.exit_day) else row.exit_day
        dec = "" if row.deceased_day is None or pd.isna(row.deceased_day) else row.deceased_day
        rows.append((
            row.case_id, row.member_no, name, id_val, row.relation, row.type_label,
            row.district, row.street, row.address, int(row.household_size),
            int(row.covered_size), int(row.monthly_benefit),
            cx.fmt_date(r, row.approved, cx.CIVIL_DATE_STYLES), row.case_status,
            cx.fmt_date(r, exit_day, cx.CIVIL_DATE_STYLES) if exit_day != "" else "",
            row.person_status,
            cx.fmt_date(r, dec, cx.CIVIL_DATE_STYLES) if dec != "" else "",
        ))
    out = pd.DataFrame(rows, columns=list(CIVIL_HEADERS))
    out = out.sort_values(["区划代码", "救助证编号", "成员序号"], kind="stable")
    order = out.index.to_numpy()
    out = out.reset_index(drop=True)
    return (out, [kinds[i] for i in order], [id_txt[i] for i in order],
            [names_w[i] for i in order])

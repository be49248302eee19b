"""Values present in an input but not understood: one row each, for the data steward.

SPEC §3 ``field_issues.parquet``: the row keeps its other fields (it is linked and reported as
usual); the value is treated as blank and never used as evidence. Each issue names where it is
(source, file, sheet, row, the file's header), why (a reason code and a Chinese reason with the
fix) and the raw value, masked where it is or may be personal data (a birth date keeps its
year only, a phone number its first three and last two digits, anything shaped like an ID
number its issuing place and last four, a value shaped like a person's name in any other
column, a shifted column's, its surname: `surnames.name_shaped`; any other value that is not
plainly vocabulary, a number or a place its shape: `readable`, `obscured`), so the file can
be shared with the feed's owner without exposing anyone. Only the rows used are listed: a
row that cannot be used is in the quarantine, whole (`sources.finish_source`).
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from pipeline.masking import mask_name
from pipeline.normalise import vocab
from pipeline.normalise.surnames import HAN_CLASS, PLACE_ENDINGS, name_shaped
from pipeline.schema import FIELDS, SOURCE_FILE, SOURCE_ROW, SOURCE_SHEET, Source

COLUMNS = ("source", SOURCE_FILE, SOURCE_SHEET, SOURCE_ROW, "field", "header", "reason_code",
           "reason", "raw_value_masked")
MAX_SHOWN_CHARS = 50

# Per normaliser kind (`fields.KINDS`): (reason code, Chinese reason with the fix).
_VOCAB = "不在可选值内（应为 {}）：请按填报说明更正"
REASONS: dict[str, tuple[str, str]] = {
    "date": ("not_a_date", "不是有效日期（如 Excel 的 1900-02-29、1900 年 1–2 月的序号，或无法识别"
                           "的写法）：请填写真实日期，如 2019-03-01；此值按空白处理"),
    "int": ("not_an_integer", "不是人数：请填写 0–999 的整数，如 3；此值按空白处理"),
    "money": ("not_an_amount",
              "不是金额：请填写以元为单位的数字，如 1320 或 1320.50（不超过 100 万元）；"
              "此值按空白处理"),
    "district": ("unknown_district", "无法识别的区县名称或行政区划代码：请填写如 海淀区 或 110108"),
    "uscc": ("bad_uscc", "统一社会信用代码格式或校验位错误（GB 32100）：请核对营业执照"),
    "phone": ("bad_phone", "无法识别的电话号码：请填写 11 位手机号或固定电话"),
    "assistance": ("not_in_vocabulary", _VOCAB.format("低保/低收入/特困/无")),
    "roll_status": ("not_in_vocabulary", _VOCAB.format("在档/已脱困")),
    "case_status": ("not_in_vocabulary", _VOCAB.format("在保/停保/退出")),
    "person_status": ("not_in_vocabulary", _VOCAB.format("正常/死亡")),
    "sex": ("not_in_vocabulary", _VOCAB.format("男/女")),
    "relation": ("not_in_vocabulary", _VOCAB.format("户主/配偶/子女/父母/其他")),
    "category": ("not_in_vocabulary", _VOCAB.format("深度困难/相对困难/意外致困")),
}
_FALLBACK = ("not_understood", "无法识别的值：请核对后更正；此值按空白处理")
# Fields normalised outside the plan (`sources.prepare_source`), by field.
FIELD_REASONS: dict[str, tuple[str, str]] = {
    "id_number": ("not_an_id_number",
                  "不是身份证号（位数或写法不对，或填了姓名等其他内容）：请核对证件后更正；"
                  "此值不作为比对依据"),
}
# An ID number that different people carry in one file (`shared_ids`): understood, but no
# one's evidence, so treated as blank like a value not understood.
SHARED_NUMBER = ("shared_id_number",
                 "此身份证号在同一文件中也填在姓名不同的其他人名下（疑为代填或复制）：不作为比对依据，"
                 "此值按空白处理；请核实每人的真实身份证号后更正")
# An ID number Excel damaged (scientific notation, or its last three digits turned to 000:
# `id_number`'s `excel_damage`) in the civil-affairs files or the roster, which no finding
# reports (on the roll, INVALID_ID does): the feed's owner's to export again.
EXCEL_DAMAGED_NUMBER = ("id_excel_damaged",
                        "身份证号被 Excel 截断（显示为科学计数，或末三位变为 000）："
                        "不能作为完整身份证号比对；"
                        "请从原系统重新导出（身份证号列设为文本格式），或核对证件后更正")
# A number typed for an unknown one (`id_number`'s `placeholder`, `id_kinds`:
# 111111111111111111, a prefix then zeros, 不详 …) in the civil-affairs files or the roster,
# never evidence (SPEC §1) and reported by no finding (on the roll, INVALID_ID does): the
# feed's owner's to fill in.
PLACEHOLDER_NUMBER = ("id_placeholder",
                      "身份证号填的是占位内容（如全为同一数字、连续数字、"
                      "出生日期或顺序码以 0 补位，或“不详”），不是真实号码："
                      "不作为比对依据，此值按空白处理；请核对证件后填写真实身份证号")
# Per `id_number` problem (`IdCheck.problem`), the field issue of an ID number that is
# understood but no one's evidence, outside the roll (`sources.finish_source`).
NUMBER_PROBLEMS: dict[str, tuple[str, str]] = {"excel_damage": EXCEL_DAMAGED_NUMBER,
                                               "placeholder": PLACEHOLDER_NUMBER}
# Fields that are personal data: their raw value is shown masked.
_YEAR_ONLY = frozenset({"birth_date", "deceased_date"})
_PHONE = frozenset({"phone"})
# A year standing alone, or leading eight digits (19851332: a compact date out of range).
_YEAR = re.compile(r"(?<![0-9])(?:18|19|20)[0-9]{2}(?=[0-9]{4}(?![0-9])|(?![0-9]))")
_TIME_OF_DAY = re.compile(r"[0-2][0-9]:[0-5][0-9](?::[0-5][0-9](?:\.[0-9]+)?)?")
# A number as people type it: digits, single spaces, dashes or dots between them, an ID's
# final X; not touching a letter or another digit (a code's digits are the code's).
_NUMBER = re.compile(r"(?<![0-9A-Za-z])[0-9](?:[ \-.]?[0-9])*(?:[ \-.]?[Xx])?(?![0-9A-Za-z])")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")
# One token of letters and digits, with at least one digit: a code as written (a unified
# social credit code, a key), after its long numbers were masked.
_CODE_TOKEN = re.compile(r"(?=.*[0-9*])[0-9A-Za-z*]+")
# Fields whose letters are part of a code (a unified social credit code, GB 32100; the
# records' keys, kind `key` in `sources.PLANS`, as the Data Docs list a repeated one): shown
# as written when they are one token of letters and digits (`_CODE_TOKEN`), their long
# numbers and a name-shaped value masked as everywhere.
CODE_FIELDS = frozenset({"employer_uscc", "roll_id", "case_id", "member_no", "member_id"})
_HAN = re.compile(f"[{HAN_CLASS}]")
_HAN_RUN = re.compile(f"[{HAN_CLASS}]+")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# A place: two to six Han characters ending as a place's name does (a province, city or
# county's, `surnames.PLACE_ENDINGS`, or a town's or street's: 北京市东城区, 东成区), with none
# of the words of a note about someone (张伟户已迁至昌平区, 李桂英家住朝阳区).
_PLACE_ENDINGS = "|".join([*sorted(PLACE_ENDINGS), "镇", "乡", "街道"])
_PLACE = re.compile(f"[{HAN_CLASS}]{{1,5}}(?:{_PLACE_ENDINGS})")
_NOTE_CHARACTERS = frozenset("住迁至家户已在于的是从到原现居")
# The Han characters of the vocabularies (every canonical word and alias, `vocab`), of the
# numbers and units people write in counts and amounts, and of the words for "unknown" or
# "none": a value made of these says nothing of a person.
DOMAIN_CHARACTERS: frozenset[str] = frozenset(
    "".join(word for table in (vocab.ASSISTANCE, vocab.ROLL_STATUS, vocab.CASE_STATUS,
                               vocab.PERSON_STATUS, vocab.SEX, vocab.CATEGORY, vocab.RELATION)
            for pair in table.items() for word in pair)
    + "〇零一二三四五六七八九十百千万亿两壹贰叁肆伍陆柒捌玖拾佰仟元角分整块"
    + "人口户个名位年月日号中及和与或等的其它他不详未知暂待定空白缺失填写性别类型状态"
    # the other kinds of help and their steps, which a feed may write in a status column
    + "救助临时医疗教育住房残疾孤儿单亲重病大病审核批迁入出失踪一般含")


def cell_text(value: object) -> str | None:
    """A raw cell as text (dates ISO, whole floats without `.0`); None when missing."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def year_only(text: str) -> str:
    """A date the reader did not understand, as a steward may see it: its year (four digits,
    1800–2099, standing alone wherever it is, `**/**/1985`, or leading eight digits,
    `1985****`) and its separators; every other letter and digit as `*` (`85.3.12` →
    `**.*.**`: no year to keep). A time of day (`00:00:00`, what
    an Excel date cell holding serial 0 or a fraction reads as) says nothing of the person
    and is shown as it is."""
    if _TIME_OF_DAY.fullmatch(text):
        return text
    masked = "".join("*" if ch.isalnum() else ch for ch in text)
    year = _YEAR.search(text)
    if year is None:
        return masked
    return masked[:year.start()] + year[0] + masked[year.end():]


def mask_value(field: str, text: str | None) -> str | None:
    """The raw value as a steward may see it (text; None when missing):

    - a birth or death date: its year only (`year_only`);
    - a value shaped like a name, in any field: as names are (`王**`: `surnames.name_shaped`);
    - every number of seven or more digits (eleven in a date field), however typed (spaces,
      dashes, dots, full-width digits): its digits masked, an ID number's
      issuing place and last four kept, any other's (a phone, a bank card) first three and
      last two (`masked_numbers`); in a phone field, every number;
    - then whatever may hold a name or a note about a person shows its shape only
      (`obscured`): in a code field (`CODE_FIELDS`), anything but one token of letters and
      digits; elsewhere anything not `readable` (the vocabularies' words, numbers, a place);
    - cut to `MAX_SHOWN_CHARS`."""
    if text is None:
        return None
    if field in _YEAR_ONLY:
        return year_only(text)
    value = text.translate(_FULL_WIDTH_DIGITS)
    if name_shaped(value):
        return mask_name(value.strip())
    value = masked_numbers(value, 1 if field in _PHONE else 11 if field.endswith("_date") else 7)
    if field in CODE_FIELDS:
        shown = _CODE_TOKEN.fullmatch(value.strip()) is not None
    else:
        shown = readable(value)
    if not shown:
        value = obscured(value)
    return value if len(value) <= MAX_SHOWN_CHARS else value[:MAX_SHOWN_CHARS] + "…"


def masked_numbers(text: str, min_digits: int) -> str:
    """`text` with each number of at least `min_digits` digits masked digit by digit (its
    separators kept): 15 to 18 digits (an ID number, GB 11643, perhaps with a digit missing
    or a final X; a bank card of 16–18) keep the first six and the last four, as ID numbers
    are masked everywhere; 7 to 14 or 19 and more (a phone, a 19-digit card) the first three
    and the last two (`139******78`, `622**************23`); 6 or fewer (only with a
    `min_digits` that low: a phone field's) the first and the last two (`1**45`). A number
    is digits with single spaces, dashes or dots between them, not touching a letter
    (`91110105704498281U` is a code, not a number)."""
    def mask(match: re.Match) -> str:
        run = match[0]
        at = [k for k, ch in enumerate(run) if ch.isdigit() or ch in "Xx"]
        if len(at) < min_digits:
            return run
        head, tail = (6, 4) if 15 <= len(at) <= 18 else (3, 2) if len(at) > 6 else (1, 2)
        hidden = set(at[head:len(at) - tail])
        return "".join("*" if k in hidden else ch for k, ch in enumerate(run))

    return _NUMBER.sub(mask, text)


def readable(text: str) -> bool:
    """Whether a value not understood may be shown as it is: its Han characters are all the
    vocabularies' (`DOMAIN_CHARACTERS`: 城市低保户, 在保中, 三口) or it names a place
    (`_PLACE`: up to six Han characters ending in 省/市/区/县/镇/乡/街道, none of a note's
    words: a district the table lacks), it has no Latin word (a name in pinyin:
    `Zhang Wei`), and it is not shaped like a name (`surnames.name_shaped`). Anything else
    may hold a name or a note about a person (a Tibetan or Uyghur name, traditional
    characters, `李娜（已故）`, two names in one cell), so `obscured` shows its shape only."""
    value = text.strip()
    if _LATIN_WORD.search(value) or name_shaped(value):
        return False
    han = _HAN.findall(value)
    if all(ch in DOMAIN_CHARACTERS for ch in han):
        return True
    return _PLACE.fullmatch(value) is not None and not _NOTE_CHARACTERS & set(value)


def obscured(text: str) -> str:
    """`text` with its first Han character kept and every later one as `*`, each Latin
    word's letters after the first as `*`; digits and punctuation kept (`王 桂芳` → `王 **`,
    `李娜（已故）` → `李*（**）`, `Zhang Wei` → `Z**** W**`)."""
    seen_han = False

    def han(match: re.Match) -> str:
        nonlocal seen_han
        run = match[0]
        kept = "" if seen_han else run[0]
        seen_han = True
        return kept + "*" * (len(run) - len(kept))

    text = _HAN_RUN.sub(han, text)
    return _LATIN_WORD.sub(lambda m: m[0][0] + "*" * (len(m[0]) - 1), text)


def field_issue_rows(raw: pd.DataFrame, source: Source, plan: dict[str, str],
                     masks: list[tuple[str, pd.Series]]) -> pd.DataFrame:
    """One row per (input row, field) whose non-blank value was not understood.

    ``raw``: the loaded frame (raw cells, provenance); ``plan``: field → normaliser kind;
    ``masks``: (field, bool Series aligned with ``raw``). The header is the canonical one
    here; the report stage replaces it with the file's own header when ingest recorded it."""
    parts = []
    for field, mask in masks:
        hit = mask.fillna(False).to_numpy(dtype=bool)
        if hit.any():
            why = FIELD_REASONS.get(field) or REASONS.get(plan.get(field, ""), _FALLBACK)
            parts.append(_rows(raw.loc[hit], source, field, why))
    return typed(pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=list(COLUMNS)))


def shared_number_rows(raw: pd.DataFrame, source: Source, shared: np.ndarray) -> pd.DataFrame:
    """One row per input row whose ID number is shared by different people in its file
    (`shared`: n-long bool, `shared_ids`), reason `shared_id_number`, the number masked as
    everywhere (issuing place and last four kept): the steward's list of the rows to check.
    The row is used; its number is no one's evidence."""
    return number_rows(raw, source, shared, SHARED_NUMBER)


def number_rows(raw: pd.DataFrame, source: Source, hit: np.ndarray,
                why: tuple[str, str]) -> pd.DataFrame:
    """One row per input row in `hit` (n-long bool) for its ID number, with the reason
    `why` (code, Chinese reason with the fix): `SHARED_NUMBER`, `NUMBER_PROBLEMS`' reasons."""
    hit = np.asarray(hit, dtype=bool)
    if not hit.any():
        return typed(pd.DataFrame(columns=list(COLUMNS)))
    return typed(_rows(raw.loc[hit], source, "id_number", why))


def _rows(rows: pd.DataFrame, source: Source, field: str,
          why: tuple[str, str]) -> pd.DataFrame:
    headers = {f.name: f.canonical_header for f in FIELDS[source]}
    sheets = rows[SOURCE_SHEET] if SOURCE_SHEET in rows.columns else None
    return pd.DataFrame({
        "source": source.value,
        SOURCE_FILE: rows[SOURCE_FILE].astype(str).to_numpy(),
        SOURCE_SHEET: sheets.to_numpy() if sheets is not None else None,
        SOURCE_ROW: rows[SOURCE_ROW].to_numpy(dtype="int64"),
        "field": field,
        "header": headers.get(field, field),
        "reason_code": why[0],
        "reason": why[1],
        "raw_value_masked": [mask_value(field, cell_text(v)) for v in rows[field]],
    })


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The SPEC column order and dtypes (strings, int64 row numbers)."""
    frame = frame.reindex(columns=list(COLUMNS))
    for column in COLUMNS:
        frame[column] = frame[column].astype("int64" if column == SOURCE_ROW else "string")
    return frame

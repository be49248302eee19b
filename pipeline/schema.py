"""The input contracts of SPEC §1: each source's fields, their canonical Chinese header and aliases.

This is data, not logic: ingest uses it to map headers, the generator to write alias headers,
validation to know which fields are required. Adding a field or alias happens here only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Source(StrEnum):
    """The three kinds of input file."""

    UNION = "union"
    CIVIL = "civil"
    MEMBERS = "members"


@dataclass(frozen=True)
class Field:
    """One field of an input: its internal name, canonical header, aliases and whether required."""

    name: str
    headers: tuple[str, ...]
    required: bool = False
    id_like: bool = False  # read as text, never as a number

    @property
    def canonical_header(self) -> str:
        return self.headers[0]


UNION_FIELDS: tuple[Field, ...] = (
    Field("roll_id", ("档案编号", "档案号", "编号"), required=True, id_like=True),
    Field("name", ("姓名", "职工姓名"), required=True),
    Field("id_number", ("身份证号", "身份证号码", "公民身份号码", "证件号码"),
          required=True, id_like=True),
    Field("sex", ("性别",)),
    Field("birth_date", ("出生日期",)),
    Field("phone", ("联系电话", "手机号码", "电话"), id_like=True),
    Field("employer", ("工作单位", "单位名称")),
    Field("employer_uscc", ("统一社会信用代码",), id_like=True),
    Field("district", ("所属区", "区县", "所在区"), id_like=True),
    Field("street", ("街道乡镇", "街道(乡镇)", "街乡")),
    Field("address", ("家庭住址", "住址")),
    Field("household_size", ("家庭人口", "家庭人口数")),
    Field("income_per_capita", ("家庭月人均收入", "月人均收入")),
    Field("category", ("困难类别",)),
    Field("cause", ("致困原因",)),
    Field("claimed_assistance", ("享受民政救助", "民政救助类别", "是否低保")),
    Field("filed_date", ("建档日期",)),
    Field("roll_status", ("档案状态",), required=True),
    Field("exit_date", ("脱困日期",)),
    Field("filing_union", ("建档工会", "填报单位")),
)

CIVIL_FIELDS: tuple[Field, ...] = (
    Field("case_id", ("家庭编号", "救助证编号"), required=True, id_like=True),
    Field("member_no", ("成员序号",), required=True, id_like=True),
    Field("name", ("姓名",), required=True),
    Field("id_number", ("身份证号", "公民身份号码"), required=True, id_like=True),
    Field("relation", ("与户主关系",)),
    Field("assistance_type", ("救助类别", "保障类别"), required=True),
    Field("district_code", ("行政区划代码", "区划代码"), required=True, id_like=True),
    Field("street", ("街道乡镇",)),
    Field("address", ("家庭住址",)),
    Field("household_size", ("家庭总人数", "家庭人口")),
    Field("covered_size", ("保障人数",)),
    Field("monthly_benefit", ("月保障金额",)),
    Field("approved_date", ("认定日期", "批准日期")),
    Field("case_status", ("保障状态",), required=True),
    Field("exit_date", ("退出日期",)),
    Field("person_status", ("人员状态",)),
    Field("deceased_date", ("死亡日期",)),
)

MEMBER_FIELDS: tuple[Field, ...] = (
    Field("member_id", ("会员编号",), required=True, id_like=True),
    Field("name", ("姓名",), required=True),
    Field("id_number", ("身份证号", "公民身份号码"), required=True, id_like=True),
    Field("employer", ("工作单位",)),
    Field("grassroots_union", ("基层工会",)),
    Field("district", ("所属区",), id_like=True),
    Field("join_date", ("入会日期",)),
)

FIELDS: dict[Source, tuple[Field, ...]] = {
    Source.UNION: UNION_FIELDS,
    Source.CIVIL: CIVIL_FIELDS,
    Source.MEMBERS: MEMBER_FIELDS,
}

# The inputs as their stewards call them; with the command line's option, for messages.
SOURCE_NAMES: dict[Source, str] = {
    Source.UNION: "困难职工档案",
    Source.CIVIL: "民政救助交换文件",
    Source.MEMBERS: "工会会员名册",
}
SOURCE_LABELS: dict[Source, str] = {source: f"{name} (--{source.value})"
                                    for source, name in SOURCE_NAMES.items()}

# Provenance columns added by ingest to every row.
SOURCE_FILE = "source_file"
SOURCE_ROW = "source_row"
# The workbook sheet a row came from (None for CSV and Parquet inputs).
SOURCE_SHEET = "source_sheet"

"""Fixed reference data for the synthetic generator: dates, districts, streets, unions, rates.

Everything here is static; nothing depends on today's date.
"""

from __future__ import annotations

from datetime import date

# All generated dates are on or before this day; the truth is valid "as of" it.
REFERENCE_DATE = date(2026, 6, 30)

# Beijing 低保 standard (yuan/person/month) at REFERENCE_DATE, and the earlier one. Non-planted
# incomes avoid the bands [1170, 1320) and [2340, 2640) so that categories are consistent
# under either standard.
DIBAO_STANDARD = 1320
DIBAO_STANDARD_2020 = 1170

# Current district codes -> (name, relative population weight).
DISTRICTS: dict[str, tuple[str, float]] = {
    "110101": ("东城区", 4.0),
    "110102": ("西城区", 5.0),
    "110105": ("朝阳区", 15.0),
    "110106": ("丰台区", 9.0),
    "110107": ("石景山区", 2.5),
    "110108": ("海淀区", 13.0),
    "110109": ("门头沟区", 1.5),
    "110111": ("房山区", 5.5),
    "110112": ("通州区", 8.0),
    "110113": ("顺义区", 6.0),
    "110114": ("昌平区", 10.0),
    "110115": ("大兴区", 9.0),
    "110116": ("怀柔区", 2.0),
    "110117": ("平谷区", 2.0),
    "110118": ("密云区", 2.5),
    "110119": ("延庆区", 1.5),
}
DISTRICT_CODES: tuple[str, ...] = tuple(DISTRICTS)

# Abolished codes that still appear as ID prefixes (issued before the change) and in old
# district fields: current code -> (old code, old name, last birth year that can carry it).
OLD_CODES: dict[str, tuple[str, str, int]] = {
    "110101": ("110103", "崇文区", 2009),
    "110102": ("110104", "宣武区", 2009),
    "110114": ("110221", "昌平县", 1996),
    "110113": ("110222", "顺义县", 1996),
    "110112": ("110223", "通县", 1996),
    "110115": ("110224", "大兴县", 1996),
    "110111": ("110225", "房山县", 1985),
    "110117": ("110226", "平谷县", 1996),
    "110116": ("110227", "怀柔县", 1996),
    "110118": ("110228", "密云县", 1996),
    "110119": ("110229", "延庆县", 1996),
}

# Real county-level codes of other provinces (issuing places of migrants' IDs).
OTHER_PROVINCE_CODES: tuple[str, ...] = (
    "130102", "130682", "130104", "131002", "370102", "370203", "410105", "410102",
    "420106", "510107", "230102", "120101", "140105", "210102", "320102", "340102",
    "610103", "150102", "220102", "360102",
)
XINJIANG_CODES: tuple[str, ...] = ("650102", "650103", "653101", "650104")

STREETS: dict[str, tuple[str, ...]] = {
    "110101": ("东华门街道", "景山街道", "交道口街道", "安定门街道", "北新桥街道", "东四街道",
               "朝阳门街道", "建国门街道", "东直门街道", "和平里街道", "前门街道", "崇文门外街道",
               "东花市街道", "龙潭街道", "体育馆路街道", "天坛街道", "永定门外街道"),
    "110102": ("西长安街街道", "新街口街道", "月坛街道", "展览路街道", "德胜街道", "金融街街道",
               "什刹海街道", "大栅栏街道", "天桥街道", "椿树街道", "陶然亭街道", "广安门内街道",
               "牛街街道", "白纸坊街道", "广安门外街道"),
    "110105": ("建外街道", "呼家楼街道", "八里庄街道", "朝外街道", "三里屯街道", "左家庄街道",
               "团结湖街道", "六里屯街道", "麦子店街道", "望京街道", "劲松街道", "潘家园街道",
               "双井街道", "亚运村街道", "小关街道", "酒仙桥街道", "大屯街道", "奥运村街道"),
    "110106": ("右安门街道", "太平桥街道", "西罗园街道", "大红门街道", "南苑街道", "东高地街道",
               "东铁匠营街道", "六里桥街道", "丰台街道", "新村街道", "长辛店街道", "卢沟桥街道",
               "方庄街道", "宛平街道"),
    "110107": ("八宝山街道", "老山街道", "八角街道", "古城街道", "苹果园街道", "金顶街街道",
               "广宁街道", "五里坨街道", "鲁谷街道"),
    "110108": ("中关村街道", "学院路街道", "万寿路街道", "羊坊店街道", "甘家口街道", "八里庄街道",
               "紫竹院街道", "北下关街道", "北太平庄街道", "花园路街道", "海淀街道", "青龙桥街道",
               "清华园街道", "燕园街道", "香山街道", "清河街道", "田村路街道", "上地街道",
               "马连洼街道"),
    "110109": ("大峪街道", "城子街道", "东辛房街道", "大台街道", "王平镇", "永定镇", "龙泉镇",
               "潭柘寺镇"),
    "110111": ("城关街道", "新镇街道", "向阳街道", "东风街道", "迎风街道", "星城街道", "良乡镇",
               "周口店镇", "琉璃河镇", "长阳镇"),
    "110112": ("中仓街道", "新华街道", "北苑街道", "玉桥街道", "永顺镇", "梨园镇", "宋庄镇",
               "张家湾镇", "马驹桥镇"),
    "110113": ("胜利街道", "光明街道", "仁和镇", "后沙峪镇", "天竺镇", "杨镇", "牛栏山镇",
               "南法信镇"),
    "110114": ("城北街道", "城南街道", "回龙观街道", "天通苑北街道", "天通苑南街道", "霍营街道",
               "东小口镇", "北七家镇", "沙河镇", "南口镇"),
    "110115": ("兴丰街道", "林校路街道", "清源街道", "观音寺街道", "天宫院街道", "黄村镇",
               "旧宫镇", "西红门镇", "亦庄镇", "瀛海镇"),
    "110116": ("泉河街道", "龙山街道", "怀柔镇", "雁栖镇", "杨宋镇", "庙城镇", "北房镇"),
    "110117": ("滨河街道", "兴谷街道", "渔阳地区", "王辛庄镇", "马坊镇", "金海湖镇", "峪口镇"),
    "110118": ("鼓楼街道", "果园街道", "檀营地区", "密云镇", "溪翁庄镇", "西田各庄镇", "十里堡镇",
               "河南寨镇"),
    "110119": ("儒林街道", "百泉街道", "香水园街道", "延庆镇", "康庄镇", "八达岭镇", "永宁镇",
               "旧县镇"),
}

ESTATES: tuple[str, ...] = (
    "幸福家园", "和平里", "团结湖北里", "劲松小区", "光华里", "白家庄", "望京花园", "育新花园",
    "南湖东园", "金台里", "安华里", "翠微路", "永定路", "方庄芳古园", "北沙滩", "西罗园",
    "天通西苑", "回龙观龙泽苑", "新华西街", "玉桥西里", "胜利小区", "兴丰大街", "建设里",
    "工人新村", "红星小区", "铁路宿舍", "东风里", "向阳小区", "长安里", "富强西里",
)

INDUSTRY_UNIONS: tuple[str, ...] = (
    "北京市建筑业工会", "北京市商贸服务业工会", "北京市交通运输工会", "北京市教育工会",
    "北京市卫生健康工会", "北京市机械冶金建材工会", "北京市金融工会", "首钢集团公司工会",
    "北京公交集团公司工会", "北汽集团公司工会", "京能集团公司工会", "北京城建集团公司工会",
    "首农食品集团公司工会",
)

EMPLOYER_BRANDS: tuple[str, ...] = (
    "华信", "京城", "宏达", "金桥", "恒通", "永安", "兴业", "新华", "东方", "长城", "远大",
    "天成", "隆盛", "鑫源", "万通", "利民", "燕京", "燕山", "首创", "嘉禾", "盛世", "顺达",
    "华联", "同仁", "安泰", "康达", "瑞丰", "中兴", "国泰", "华北", "京西", "京东", "广源",
    "博远", "旭日", "红星", "前进", "胜利", "光明", "晨光", "建国", "和平", "友谊", "富华",
    "金海", "银河", "北辰", "天坛", "景山", "通惠", "潮白", "永定", "西山", "长安", "新时代",
)
EMPLOYER_KINDS: tuple[str, ...] = (
    "机械厂", "物业管理有限公司", "建筑工程有限公司", "商贸有限公司", "餐饮管理有限公司",
    "环境卫生服务中心", "客运有限公司", "出租汽车有限公司", "纺织厂", "印刷厂", "食品有限公司",
    "医药有限公司", "电子科技有限公司", "保安服务有限公司", "家政服务有限公司",
    "超市连锁有限公司", "汽车修理厂", "供热有限公司", "园林绿化有限公司", "服装厂",
)

CAUSES_LOW: tuple[str, ...] = (
    "下岗失业", "本人患病", "家属患病", "子女就学", "单亲家庭", "本人残疾", "家属残疾",
    "收入低", "赡养老人",
)
CAUSES_ACCIDENT: tuple[str, ...] = ("本人患重病", "家属患重病", "意外事故", "遭受自然灾害", "火灾")

CIVIL_TYPE_LABELS: dict[str, tuple[tuple[str, float], ...]] = {
    "低保": (("城市低保", 0.45), ("低保", 0.3), ("城乡低保", 0.2), ("农村低保", 0.05)),
    "低收入": (("低收入", 1.0),),
    "特困": (("特困供养", 0.6), ("特困", 0.4)),
}
CIVIL_TYPE_CODES: dict[str, str] = {"低保": "DB", "低收入": "DS", "特困": "TK"}

# Roll-side ID corruption rates (fractions of roll rows); lowercase_x applies to IDs ending X.
ROLL_ID_RATES: dict[str, float] = {
    "typo": 0.02,
    "transposition": 0.005,
    "legacy15": 0.01,
    "excel_e17": 0.005,
    "excel_000": 0.005,
    "blank": 0.01,
    "fullwidth": 0.01,
    "spaces": 0.01,
}
ROLL_LOWER_X_SHARE = 0.25  # share of X-ending roll IDs written with a lower-case x (≈2% of rows)

# Kinds of roll-side ID (truth/roll_id_kinds.csv): how the roll wrote the number, or what
# kind of number it is. INVALID_ID_KINDS are INVALID_ID on a 在档 row ("shared": every row
# carrying a number shared by different people, the owner's too).
INVALID_ID_KINDS: frozenset[str] = frozenset(
    {"typo", "transposition", "excel_e17", "excel_000", "blank",
     "placeholder", "shared", "unpublished_prefix"}
)
PROTECTION_KINDS: tuple[str, ...] = ("apostrophe", "text_formula", "invisible_chars")
PERSON_CLASSES: tuple[str, ...] = (
    "permit_hk", "permit_mo", "permit_tw", "foreign_pr", "historic_prefix", "unpublished_prefix")
ID_KINDS: tuple[str, ...] = (
    "valid", "lowercase_x", "fullwidth", "spaces", "legacy15", *PROTECTION_KINDS,
    "permit_hk", "permit_mo", "permit_tw", "foreign_pr", "historic_prefix",
    "typo", "transposition", "excel_e17", "excel_000", "blank",
    "unpublished_prefix", "placeholder", "shared",
)

# ---------------------------------------------------------------- SPEC §1.4: kinds of number

# Residence permits of Hong Kong, Macau and Taiwan residents (港澳台居民居住证, 国办发〔2018〕81号):
# the GB 11643 format with these fixed prefixes.
PERMIT_PREFIXES: dict[str, str] = {"permit_hk": "810000", "permit_mo": "820000",
                                   "permit_tw": "830000"}

# The 2023 foreigners' permanent-residence number (外国人永久居留身份证, National Immigration
# Administration, 2023): 9, a two-digit province (GB/T 2260 NN0000), a three-digit nationality
# (GB/T 2659 / ISO 3166-1 numeric), birth date, sequence, MOD 11-2 check character.
FOREIGN_PROVINCES: tuple[tuple[str, float], ...] = (("11", 0.8), ("31", 0.1), ("44", 0.1))
FOREIGN_NATIONALITIES: tuple[tuple[str, float], ...] = (
    ("410", 0.30),  # Korea
    ("840", 0.15),  # United States
    ("392", 0.12),  # Japan
    ("643", 0.10),  # Russia
    ("704", 0.08),  # Viet Nam
    ("496", 0.06),  # Mongolia
    ("104", 0.05),  # Myanmar
    ("276", 0.05),  # Germany
    ("250", 0.05),  # France
    ("826", 0.04),  # United Kingdom
)

# Codes of the published GB/T 2260 lists 1981–2024 (shared/data/gbt2260_history.csv) that
# python-stdnum's cn/loc.dat lacks: real issuing places a naive validator rejects.
HISTORIC_PREFIXES: tuple[str, ...] = (
    "132733", "229006", "230834", "329012", "329013", "330113", "330114", "339011", "340511",
    "360411", "369001", "370719", "370819", "379013", "379014", "419007", "620925",
)

# Plausible six-digit prefixes that no published GB/T 2260 list holds (local assignments of
# development zones and reclamation areas); checked against the history in the tests.
UNPUBLISHED_PREFIXES: tuple[str, ...] = (
    "110190", "110290", "130191", "210190", "232790", "370190", "410190", "440390", "510190",
)

# How clerks fill an ID cell when the number is unknown (SPEC §1.4 placeholders), weighted.
PLACEHOLDER_FORMS: tuple[tuple[str, float], ...] = (
    ("repeat_1", 30), ("repeat_0", 15), ("repeat_other", 5), ("ascending", 8),
    ("descending", 4), ("prefix_zeros", 16), ("zero_birth", 11), ("zero_sequence", 11),
)

# Roll rows (count = max(1, round(rate × roll rows))) and other people (rate per person) whose
# number is of each kind. "shared" counts rows (pairs of rows share one number).
ROLL_KIND_RATES: dict[str, float] = {
    "permit_hk": 0.0008,
    "permit_mo": 0.0004,
    "permit_tw": 0.0008,
    "foreign_pr": 0.001,
    "historic_prefix": 0.0015,
    "unpublished_prefix": 0.0015,
    "placeholder": 0.003,
    "shared": 0.002,
}
PERSON_CLASS_RATES: dict[str, float] = {  # civil and roster people who are not roll workers
    "permit_hk": 0.0008,
    "permit_mo": 0.0004,
    "permit_tw": 0.0008,
    "foreign_pr": 0.001,
    "historic_prefix": 0.0015,
    "unpublished_prefix": 0.0015,
}
CIVIL_PLACEHOLDER_RATE = 0.003  # civil persons with a placeholder number
CIVIL_SHARED_RATE = 0.0015  # civil households whose 户主's number was copied onto a member
CIVIL_WORKER_ID_RATE = 0.002  # linked roll workers whose civil row has a placeholder / copy

# Text protection marks on otherwise plain ID cells (SPEC §1.4): ', ="…", tab / NBSP / ZW.
ROLL_PROTECTION_RATES: dict[str, float] = {
    "apostrophe": 0.008, "text_formula": 0.004, "invisible_chars": 0.008}
CIVIL_PROTECTION_RATES: dict[str, float] = {
    "apostrophe": 0.02, "text_formula": 0.012, "invisible_chars": 0.015}
MEMBER_PROTECTION_RATES: dict[str, float] = {
    "apostrophe": 0.01, "text_formula": 0.008, "invisible_chars": 0.01}
# Invisible characters that ride along (trailing tab of an export, NBSP or zero-width space of a
# web copy, word joiner, a BOM inside a cell) as (where, characters, weight).
INVISIBLE_FORMS: tuple[tuple[str, str, float], ...] = (
    ("end", "\t", 30), ("end", "\u00a0", 20), ("end", "\u200b", 15), ("start", "\u200b", 10),
    ("start", "\u00a0", 5), ("start", "\ufeff", 5), ("inner", "\u200b", 5),
    ("end", "\u2060", 5), ("start", "\t", 5),
)

# Names (SPEC §1.4): minority names with a dash for the separator on the roll, and names with a
# character GBK-era systems stored at a private-use code point, on one side.
DASH_NAME_RATE = 0.003  # roll rows (count as above) of linked minority workers, typed with dashes
PUA_NAME_RATE = 0.002  # linked workers whose name holds a character such as 䶮
DASHES: tuple[str, ...] = ("-", "‐", "–", "—", "－")
# Name characters and the given names built with them: 䶮 (yǎn, GBK FE9F) and 䜣 (xīn, FE80).
PUA_NAME_GIVEN: tuple[str, ...] = ("䶮", "䶮", "䶮", "䜣", "䜣然", "子䶮")

# Excel's 1900 leap-year bug: serial 60 shows as 1900-02-29, a day that never existed.
SERIAL60_RATE = 0.001  # roll rows whose 出生日期 cell holds serial 60 with a date style
EXCEL_FAKE_LEAP_DAY = 60

# Layout of the roll workbook (per data sheet unless said otherwise).
LAYOUT_P_TITLE = 0.85  # a title row and a note row above the header
LAYOUT_P_TWO_ROW_HEADER = 0.4  # group cells merged across, single headers merged down
LAYOUT_P_SERIAL_COLUMN = 0.5  # per file: a leading 序号 column on every data sheet
LAYOUT_P_TEMPLATE_ROWS = 0.35  # 1–4 rows holding only a serial number after the data
LAYOUT_P_BLANK_BEFORE_FOOTER = 0.2
LAYOUT_P_SIGNATURE = 0.5  # a 制表人 / 审核人 row below 合计
LAYOUT_P_INSTRUCTIONS_FIRST = 0.5  # per file: 填表说明 before (else after) the data sheets

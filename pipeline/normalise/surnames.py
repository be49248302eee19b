"""Chinese surnames, to tell a value shaped like a person's name in a column that is not a name.

A shifted column, a name typed in the wrong cell: a person's name can sit under 所属区, 保障类别
or 月保障金额. Such a value is not understood there and is listed as a field issue, so it must be
masked as a name is (`masking.mask_name`), though the field itself is not personal.
`name_shaped` is that test.

Source of the list: the single surnames of 《百家姓》 (Northern Song; public domain), plus the
modern simplified forms and variants in everyday use that it writes otherwise or lacks (肖 for
萧, 闫 for 阎, 付 for 傅, 于, 仝, 覃…); the compound surnames are `names.COMPOUND_SURNAMES`.
The list errs on the side of masking: a word such as 平时 or 通州 starts with a surname too,
and is shown as `平*`. That costs the data steward a look at the named file and row; leaving a
name unmasked would cost a person their privacy.
"""

from __future__ import annotations

import re

from pipeline.normalise.names import COMPOUND_SURNAMES

_BAIJIAXING = """
    赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章云苏潘葛
    奚范彭郎鲁韦昌马苗凤花方俞任袁柳酆鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常乐于时傅皮卞齐康
    伍余元卜顾孟平黄和穆萧尹姚邵湛汪祁毛禹狄米贝明臧计伏成戴谈宋茅庞熊纪舒屈项祝董梁杜阮蓝闵
    席季麻强贾路娄危江童颜郭梅盛林刁钟徐邱骆高夏蔡田樊胡凌霍虞万支柯昝管卢莫经房裘缪干解应宗
    丁宣贲邓郁单杭洪包诸左石崔吉钮龚程嵇邢滑裴陆荣翁荀羊於惠甄曲家封芮羿储靳汲邴糜松井段富巫
    乌焦巴弓牧隗山谷车侯宓蓬全郗班仰秋仲伊宫宁仇栾暴甘钭厉戎祖武符刘景詹束龙叶幸司韶郜黎蓟薄
    印宿白怀蒲邰从鄂索咸籍赖卓蔺屠蒙池乔阴鬱胥能苍双闻莘党翟谭贡劳逄姬申扶堵冉宰郦雍却璩桑桂
    濮牛寿通边扈燕冀郏浦尚农温别庄晏柴瞿阎充慕连茹习宦艾鱼容向古易慎戈廖庾终暨居衡步都耿满弘
    匡国文寇广禄阙东欧殳沃利蔚越夔隆师巩厍聂晁勾敖融冷訾辛阚那简饶空曾毋沙乜养鞠须丰巢关蒯相
    查后荆红游竺权逯盖益桓公岳帅缑亢况郈有琴归海晋楚闫法汝鄢涂钦商牟佘佴伯赏墨哈谯笪年爱阳佟
    """
_MODERN = "肖闫付于仝覃邸揭芦谌蒿拓乐奚楼兰粟寻隋初修佐佘矫鞠迟宫麦庹银植邝苑晏区冼"
SINGLE_SURNAMES: frozenset[str] = frozenset(
    ch for ch in _BAIJIAXING + _MODERN if not ch.isspace())

# The Han characters (CJK Unified Ideographs, Extension A, Compatibility Ideographs), for a
# regular expression's character class.
HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN = HAN_CLASS
# Two to four Han characters, nothing else: the shape of a Han name.
_HAN_NAME = re.compile(rf"[{_HAN}]{{2,4}}")
# Han parts joined by the minority separator (or the look-alikes a normalised name no longer
# has): the shape of a transliterated minority name.
_MINORITY_NAME = re.compile(rf"[{_HAN}]+(?:[·・•‧.．][{_HAN}]+)+")
# The last character of a province, city or county name (GB/T 2260: 省, 市, 区, 县); no name
# in use ends in one. (旗 does: 红旗 is a given name.)
PLACE_ENDINGS = frozenset("省市区县")


def name_shaped(text: str | None) -> bool:
    """True when `text` (a raw cell, stripped here) has the shape of a person's name: two to
    four Han characters whose surname (a compound one, `COMPOUND_SURNAMES`, or the first
    character) is in `SINGLE_SURNAMES` / `COMPOUND_SURNAMES` and whose last is not a place's
    (`PLACE_ENDINGS`: 东城区 is a district), or Han parts joined by `·` (a minority name).
    Pure; never raises."""
    if not text:
        return False
    value = text.strip()
    if _MINORITY_NAME.fullmatch(value):
        return True
    if not _HAN_NAME.fullmatch(value) or value[-1] in PLACE_ENDINGS:
        return False
    return value[:2] in COMPOUND_SURNAMES or value[0] in SINGLE_SURNAMES


__all__ = ["HAN_CLASS", "PLACE_ENDINGS", "SINGLE_SURNAMES", "name_shaped"]

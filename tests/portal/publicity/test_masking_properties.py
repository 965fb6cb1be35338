"""Properties of masking over generated texts (FJ art. 8; GD art. 46; SECURITY.md 16.2.x).

- a valid ID number, however written (spaces, hyphens, full-width digits, lower-case x) and
  wherever it sits in Chinese text, is masked;
- a valid unified social credit code stays, unless it is also a valid ID number and no
  credit-code label says otherwise (then privacy wins);
- on whole generated decisions: every generated personal number and known person is gone,
  organisations, codes and amounts stay, only masked characters change, findings hold kinds
  and positions only, and masking again changes nothing;
- on arbitrary jumbles of digits, separators, labels, cues and masks, too, masking again
  changes nothing and only characters inside findings change.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from portal.identifiers import (
    USCC_ALPHABET,
    id_number_check_char,
    is_valid_id_number,
    uscc_check_char,
)
from portal.publicity import Finding, MaskResult, mask_text

FILLER = (
    "的一是了我不人他有这个上们来到大地为子中你说生年着就那要她出也得里后可下而过天去能对小多然心学么之都好"
)
FILLER_TEXT = st.text(alphabet=FILLER + "，。；、 \u3000", max_size=30)
FULL_WIDTH = str.maketrans("0123456789Xx -", "０１２３４５６７８９Ｘｘ\u3000－")


def compact(text: str) -> str:
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text)).upper()


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from("1234568")) + draw(st.text(alphabet="0123456789", min_size=5, max_size=5))
    born = draw(st.dates(date(1900, 1, 1), date(2030, 12, 31)))
    first17 = f"{region}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return first17 + id_number_check_char(first17)


@st.composite
def written(draw: st.DrawFn, number: str) -> str:
    """``number`` as people write it: grouped 6-8-4 or in fours, maybe full-width, maybe x."""
    separator = draw(st.sampled_from(["", " ", "-", "  "]))
    if draw(st.booleans()):
        groups = [number[:6], number[6:14], number[14:]]
    else:
        groups = [number[i : i + 4] for i in range(0, len(number), 4)]
    text = separator.join(groups)
    if draw(st.booleans()):
        text = text.replace("X", "x")
    if draw(st.booleans()):
        text = text.translate(FULL_WIDTH)
    return text


@given(data=st.data(), number=id_numbers(), before=FILLER_TEXT, after=FILLER_TEXT)
def test_valid_id_numbers_are_always_masked(
    data: st.DataObject, number: str, before: str, after: str
) -> None:
    text = before + data.draw(written(number)) + after
    result = mask_text(text)
    assert number not in compact(result.text)
    assert number[1:17] not in compact(result.text)


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    head = draw(st.sampled_from("123456789ANY")) + draw(st.sampled_from("1239"))
    region = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    body = draw(st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9))
    return head + region + body + uscc_check_char(head + region + body)


@given(code=credit_codes(), labelled=st.booleans(), before=FILLER_TEXT, after=FILLER_TEXT)
def test_valid_credit_codes_stay(code: str, labelled: bool, before: str, after: str) -> None:
    label = "统一社会信用代码：" if labelled else ""
    masked = mask_text(f"{before}{label}{code}{after}").text
    if labelled or not is_valid_id_number(code):
        assert code in masked
    else:
        assert code not in masked


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛超秀霞刚桂英玉兰萍红"
ORGANISATIONS = (
    "福州闽江贸易有限公司",
    "厦门海沧物流股份有限公司",
    "福建省鼓山茶叶专业合作社",
    "泉州市丰泽区阳光便利店",
)
CUES = ("当事人：", "法定代表人：", "负责人：", "驾驶人：", "证人：", "联系人：", "经营者：")
ROADS = ("五四路", "杨桥东路", "八一七中路", "工业路", "湖东路")
PREFIXES = ("福建省福州市鼓楼区", "福州市台江区", "鼓楼区", "")


@dataclasses.dataclass
class Document:
    text: str = ""
    secrets: list[str] = dataclasses.field(default_factory=list)
    kept: list[str] = dataclasses.field(default_factory=list)
    persons: list[str] = dataclasses.field(default_factory=list)


def _luhn_completed(digits: str) -> str:
    for check in "0123456789":
        total = 0
        for index, char in enumerate(reversed(digits + check)):
            value = int(char) * (2 if index % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return digits + check
    raise AssertionError("unreachable")


@st.composite
def documents(draw: st.DrawFn) -> Document:
    document = Document()
    digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["person", "id", "mobile", "card", "plate", "address", "org", "money"]))
        if kind == "person":
            name = draw(st.sampled_from(SURNAMES)) + "".join(
                draw(st.lists(st.sampled_from(GIVEN), min_size=1, max_size=2))
            )
            document.persons.append(name)
            document.secrets.append(name)
            part = draw(st.sampled_from(CUES)) + name
        elif kind == "id":
            number = draw(id_numbers())
            document.secrets.append(number)
            part = "身份证号码：" + draw(written(number))
        elif kind == "mobile":
            number = "1" + draw(st.sampled_from("3456789")) + "".join(draw(digits) for _ in range(9))
            document.secrets.append(number)
            layout = draw(st.sampled_from(["{}", "{} {} {}", "{}-{}-{}", "+86 {}"]))
            part = "手机" + (
                layout.format(number)
                if layout.count("{}") == 1
                else layout.format(number[:3], number[3:7], number[7:])
            )
            if draw(st.booleans()):
                part = part.translate(FULL_WIDTH)
        elif kind == "card":
            number = _luhn_completed("62" + "".join(draw(digits) for _ in range(16)))
            document.secrets.append(number)
            part = draw(st.sampled_from(["卡号：", "转入", "银行账户 "])) + " ".join(
                number[i : i + 4] for i in range(0, 19, 4)
            )
        elif kind == "plate":
            plate = (
                draw(st.sampled_from("闽粤京沪浙"))
                + draw(st.sampled_from("ABCDEF"))
                + "".join(draw(digits) for _ in range(5))
            )
            document.secrets.append(plate)
            part = "车牌号" + plate
        elif kind == "address":
            street = (
                f"{draw(st.sampled_from(ROADS))}{draw(st.integers(1, 999))}号{draw(st.integers(1, 30))}栋"
            )
            document.secrets.append(street)
            part = "住址：" + draw(st.sampled_from(PREFIXES)) + street
        elif kind == "org":
            organisation = draw(st.sampled_from(ORGANISATIONS))
            code = draw(credit_codes())
            if is_valid_id_number(code):
                code = "91350100MA2XY12346"
            document.kept += [organisation, code]
            part = f"{organisation}（统一社会信用代码{code}）"
        else:
            amount = (
                f"罚款人民币{draw(st.integers(1, 99999))}元，榕市监处罚〔2026〕{draw(st.integers(1, 999))}号"
            )
            document.kept.append(amount)
            part = amount
        document.text += part + draw(st.sampled_from(["，", "。", "；", "\n", "，经查，"]))
    return document


@given(document=documents())
def test_generated_decisions_lose_every_personal_datum_and_keep_the_rest(document: Document) -> None:
    result = mask_text(document.text, known_persons=document.persons)
    for secret in document.secrets:
        assert compact(secret) not in compact(result.text)
    for kept in document.kept:
        assert kept in result.text


@given(document=documents())
def test_masking_is_idempotent(document: Document) -> None:
    once = mask_text(document.text, known_persons=document.persons)
    assert mask_text(once.text, known_persons=document.persons) == MaskResult(once.text, ())


@given(document=documents())
def test_findings_are_positions_of_changed_characters_only(document: Document) -> None:
    result = mask_text(document.text, known_persons=document.persons)
    assert [field.name for field in dataclasses.fields(Finding)] == ["kind", "start", "end"]
    assert len(result.text) == len(document.text)
    inside = {i for finding in result.findings for i in range(finding.start, finding.end)}
    changed = {i for i, (a, b) in enumerate(zip(document.text, result.text, strict=True)) if a != b}
    assert changed <= inside
    logged = repr(result.findings)
    for secret in document.secrets:
        assert secret not in logged


PIECES = [
    *"0123456789０１２３Xx -－:：，、*()（）@.",
    *"当事人法定代表张三李四欧阳娜某住址省市区县路号栋室村镇电话手机卡号账身份证码信用公司店厂有限闽A粤B的于在驾驶",
    *("1380013", "8000", "350102", "19850312", "123X", "0591", "87654321", "6222", "QQ", "微信"),
    *("91350100MA2XY12346", "有限公司", "五四路", "鼓楼区", "法定代表人：", "住址：", "身份证号码："),
]


@given(pieces=st.lists(st.sampled_from(PIECES), max_size=40))
def test_masking_arbitrary_text_is_idempotent_and_local(pieces: list[str]) -> None:
    text = "".join(pieces)
    once = mask_text(text, known_persons=["张三"])
    inside = {i for finding in once.findings for i in range(finding.start, finding.end)}
    assert len(once.text) == len(text)
    assert all(a == b or i in inside for i, (a, b) in enumerate(zip(text, once.text, strict=True)))
    assert mask_text(once.text, known_persons=["张三"]) == MaskResult(once.text, ())

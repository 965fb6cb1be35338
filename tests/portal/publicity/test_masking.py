"""Masking on realistic excerpts of penalty decisions (行政处罚决定书) and the rules one by one.

Every case checks the publicity rule (LAW.md "Publicity and privacy"; FJ art. 8, GD art. 46):
each personal datum is gone -- as written, and as its characters with spaces, hyphens and
full-width forms folded away -- while every organisation name, credit code and non-personal
number (case numbers, amounts, dates, articles) is still there, character for character.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import unicodedata
from dataclasses import dataclass

import pytest

from portal.identifiers import id_number_check_char, is_valid_credit_code, uscc_check_char
from portal.publicity import DatumKind, Finding, MaskResult, mask_text


def valid_id(first17: str) -> str:
    return first17 + id_number_check_char(first17)


def valid_code(first17: str) -> str:
    return first17 + uscc_check_char(first17)


ID_A = valid_id("35010219850312123")  # ends in X
ID_B = valid_id("35012119900101002")
ID_C = valid_id("44030519780615211")
ID_D = valid_id("35010319920808456")
ID_X = valid_id("35018119921219018")  # ends in X, written with a lower-case x below
COMPANY_CODE = "91350100MA2XY12346"
SHOP_CODE = valid_code("92350102MA3123456")


def compact(text: str) -> str:
    """Full-width folded, spaces and hyphens removed: how a datum hides in formatting."""
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text)).upper()


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    personal: tuple[str, ...]
    kept: tuple[str, ...] = ()
    persons: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()


CASES = (
    Case(
        "natural_person_record",
        f"当事人：张三，男，汉族，身份证号码：{ID_A}，住址：福建省福州市鼓楼区五四路123号2栋301室，"
        "联系电话：138 0013 8000。",
        personal=("张三", ID_A, "五四路123号2栋301室", "138 0013 8000"),
        kept=("当事人：张*，男，汉族", "住址：福建省福州市鼓楼区*", "138 **** 8000"),
    ),
    Case(
        "company_with_legal_representative",
        f"当事人：福州闽江贸易有限公司，统一社会信用代码：{COMPANY_CODE}，住所：福州市鼓楼区杨桥东路18号，"
        "法定代表人：欧阳娜娜，联系电话：0591-87654321。经查，当事人于2026年1月5日销售不合格商品，违反了"
        "《中华人民共和国产品质量法》第三十九条的规定，依据第五十条，决定罚款人民币5000元，没收违法所得"
        "1234.56元。文号：榕市监处罚〔2026〕123号。",
        personal=("欧阳娜娜", "杨桥东路18号", "0591-87654321"),
        kept=(
            "福州闽江贸易有限公司",
            COMPANY_CODE,
            "欧阳**",
            "2026年1月5日",
            "第三十九条",
            "第五十条",
            "罚款人民币5000元",
            "1234.56元",
            "榕市监处罚〔2026〕123号",
        ),
    ),
    Case(
        "traffic_plate_and_driver",
        "驾驶人王小明驾驶闽A12345号小型轿车，于2026年2月3日14时20分在福州市鼓楼区五四路与东街交叉路口"
        f"违反禁止标线指示，驾驶证号：{ID_B}。依据《中华人民共和国道路交通安全法》第九十条，处罚款200元，"
        "记3分。处罚决定书编号：3501021000123456。",
        personal=("王小明", "闽A12345", ID_B),
        kept=(
            "王**驾驶闽A***45号",
            "五四路与东街交叉路口",
            "第九十条",
            "罚款200元",
            "记3分",
            "14时20分",
            "3501021000123456",
        ),
    ),
    Case(
        "several_known_persons",
        "当事人张三、李四、王五于2026年3月1日共同在福州市台江区八一七中路100号经营无证餐饮。证人赵六证实，"
        "张三负责收款，李四负责采购，王五负责厨房。",
        personal=("张三", "李四", "王五", "赵六", "八一七中路100号"),
        kept=("福州市台江区", "2026年3月1日"),
        persons=("张三", "李四", "王五", "赵六"),
    ),
    Case(
        "several_persons_found_by_role_cues",
        "当事人：陈建国，男；委托代理人：林晓燕，福建闽都律师事务所律师。证人王五、赵六证实当事人陈建国于"
        "2026年3月1日在店内销售过期食品。",
        personal=("陈建国", "林晓燕", "王五", "赵六"),
        kept=("福建闽都律师事务所", "陈**，男", "王*、赵*证实"),
    ),
    Case(
        "id_lower_case_x_with_spaces",
        f"当事人：林某某，身份证号码：{ID_X[:6]} {ID_X[6:14]} {ID_X[14:].lower()}，"
        "现住福州市晋安区福新中路99号。",
        personal=(f"{ID_X[:6]} {ID_X[6:14]} {ID_X[14:].lower()}", ID_X, "福新中路99号"),
        kept=("林某某", "福州市晋安区"),
    ),
    Case(
        "full_width_id_and_mobile",
        "当事人：郭强，身份证号：３５０１０２１９８５０３１２１２３Ｘ，手机：１３９５０１２３４５６。",
        personal=("郭强", "３５０１０２１９８５０３１２１２３Ｘ", "１３９５０１２３４５６"),
        kept=("身份证号：３", "手机：１３９****３４５６"),
    ),
    Case(
        "bank_card_in_groups_of_four",
        "当事人申请将多缴款项退还至其本人银行卡（卡号：6222 0212 3456 7890 123，"
        "开户行：中国工商银行股份有限公司福州鼓楼支行），户名：陈小红。",
        personal=("6222 0212 3456 7890 123", "陈小红"),
        kept=("中国工商银行股份有限公司福州鼓楼支行", "**** **** **** ***0 123", "陈**"),
    ),
    Case(
        "landline_and_mobile_formats",
        "联系人：黄伟，联系电话：0591-87654321、(0591)8765 4321，手机号码：+86 138-0013-8000。",
        personal=("黄伟", "0591-87654321", "(0591)8765 4321", "8765 4321", "+86 138-0013-8000"),
        kept=("0591-****4321", "(0591)**** 4321", "+86 138-****-8000"),
    ),
    Case(
        "bare_landlines_after_phone_labels",
        "当事人住宅电话：87654321，座机 83331234，传真：0591-83330000。",
        personal=("87654321", "83331234", "0591-83330000"),
    ),
    Case(
        "old_fifteen_digit_id",
        "当事人：郑大同，公民身份号码：350102850312123（旧版证件）。",
        personal=("郑大同", "350102850312123"),
        kept=("（旧版证件）",),
    ),
    Case(
        "individual_business_trade_name_stays_operator_masked",
        f"当事人：福州市鼓楼区张三小吃店（个体工商户），统一社会信用代码：{SHOP_CODE}，经营者：张三，身份证号码："
        f"{ID_A}，经营场所：福州市鼓楼区杨桥东路18号。",
        personal=("经营者：张三", ID_A, "杨桥东路18号"),
        kept=("福州市鼓楼区张三小吃店", SHOP_CODE, "经营者：张*"),
        persons=("张三",),
    ),
    Case(
        "trade_name_given_by_the_caller",
        "经营者张三在其经营的张三水果店内销售过期水果，张三对违法事实无异议。",
        personal=("经营者张三", "，张三对"),
        kept=("张三水果店",),
        persons=("张三",),
        organisations=("张三水果店",),
    ),
    Case(
        "organisation_containing_a_persons_name",
        "当事人：张三丰贸易有限公司，法定代表人：张三，股东：李四。",
        personal=("法定代表人：张三", "李四"),
        kept=("张三丰贸易有限公司", "法定代表人：张*"),
        persons=("张三", "李四"),
    ),
    Case(
        "compound_surnames",
        "法定代表人：司马光明；负责人：诸葛亮；联系人：上官婉儿；证人：欧阳。",
        personal=("司马光明", "诸葛亮", "上官婉儿", "欧阳"),
        kept=("司马**", "诸葛*", "上官**", "欧*"),
    ),
    Case(
        "names_with_a_middle_dot",
        "当事人：阿卜杜拉·买买提，男，维吾尔族；证人：买买提•艾力。",
        personal=("阿卜杜拉", "买买提", "艾力"),
        kept=("阿***·***", "买**•**", "维吾尔族"),
    ),
    Case(
        "foreign_legal_representative",
        "法定代表人：John Smith，国籍：美国，护照号码：E12345678。",
        personal=("John", "Smith", "E12345678"),
        kept=("J*** *****", "E********", "美国"),
    ),
    Case(
        "chat_accounts_and_email",
        "当事人通过微信（微信号：fz_zhangsan88）和QQ（QQ号：123456789）招揽顾客，并使用电子邮箱"
        "zhangsan88@163.com收取订单。",
        personal=("fz_zhangsan88", "123456789", "zhangsan88@163.com", "zhangsan88"),
        kept=("微信号：", "QQ号：", ".com"),
    ),
    Case(
        "licence_plates",
        "涉案车辆为闽A·D12345（新能源）、粤B 12345及闽C8K321，均停放于停车场。",
        personal=("闽A·D12345", "D12345", "粤B 12345", "闽C8K321"),
        kept=("闽A·****45", "粤B ***45", "闽C***21", "（新能源）"),
    ),
    Case(
        "only_non_personal_numbers",
        "榕市监处罚〔2026〕123号。当事人福州闽江贸易有限公司于2026年3月1日至2026年3月15日期间销售货值"
        "人民币12345.67元的不合格产品，违反《中华人民共和国产品质量法》第四十九条。决定：没收违法所得人民币"
        "3456元，并处罚款人民币50000元。缴款码：3501262026000123456，请于15日内缴纳，逾期每日按罚款数额的3%"
        "加处罚款。",
        personal=(),
        kept=(
            "榕市监处罚〔2026〕123号",
            "2026年3月1日至2026年3月15日",
            "12345.67元",
            "第四十九条",
            "3456元",
            "50000元",
            "3501262026000123456",
            "15日内",
            "3%",
        ),
    ),
    Case(
        "hyphenated_id_and_mobile_with_country_code",
        f"身份证号：{ID_C[:6]}-{ID_C[6:14]}-{ID_C[14:]}；手机：8613900139000；备用：0086 15959112233。",
        personal=(f"{ID_C[:6]}-{ID_C[6:14]}-{ID_C[14:]}", "13900139000", "15959112233"),
    ),
    Case(
        "two_mobiles_separated_by_a_space",
        "联系电话：13800138000 13900139000（均为当事人本人使用）。",
        personal=("13800138000", "13900139000"),
        kept=("138****8000 139****9000",),
    ),
    Case(
        "village_and_district_only_addresses",
        "户籍地：福建省闽侯县上街镇侯官村3组12号；住址：鼓楼区杨桥东路18号；现住：福建省长乐市漳港街道仙岐村。",
        personal=("上街镇侯官村3组12号", "侯官村", "杨桥东路18号", "漳港街道仙岐村"),
        kept=("福建省闽侯县", "住址：鼓楼区", "福建省长乐市"),
    ),
    Case(
        "building_and_room",
        "住址：福州市仓山区浦上大道216号万达广场C区5号楼2单元1203室。",
        personal=("浦上大道216号", "万达广场", "5号楼2单元1203室"),
        kept=("住址：福州市仓山区",),
    ),
    Case(
        "already_masked_names_stay",
        "当事人：张某某，法定代表人：王某，负责人：李*，证人：赵××。",
        personal=(),
        kept=("张某某", "王某", "李*", "赵××"),
    ),
    Case(
        "words_after_role_cues_that_are_not_names",
        "当事人于2026年3月1日向执法人员提供了虚假材料。当事人陈述、申辩称其不知情，经营者曾因同类违法行为被处罚，"
        "负责人未到场。",
        personal=(),
        kept=("当事人于2026年3月1日向执法人员", "当事人陈述、申辩称", "经营者曾因同类", "负责人未到场"),
    ),
    Case(
        "labelled_id_with_a_wrong_check_digit",
        "驾驶员：刘强，驾驶证号：350102198503121234（号码有误，以公安机关登记为准）。",
        personal=("刘强", "350102198503121234"),
        kept=("以公安机关登记为准",),
    ),
    Case(
        "offence_address_in_free_text",
        "执法人员于2026年4月2日在福州市晋安区岳峰镇竹屿路6号1层B区103铺检查时发现，当事人未取得许可。",
        personal=("岳峰镇竹屿路6号", "1层B区103铺"),
        kept=("执法人员于2026年4月2日在福州市晋安区", "检查时发现"),
    ),
    Case(
        "table_of_parties",
        f"当事人信息：\n姓名：陈建国\n身份证号码：{ID_C}\n联系电话：15959112233\n\n姓名：林秀英\n身份证号码："
        f"{ID_D}\n联系电话：0591 8765 4321\n",
        personal=("陈建国", ID_C, "15959112233", "林秀英", ID_D, "0591 8765 4321"),
        kept=("当事人信息：\n姓名：陈**\n",),
    ),
    Case(
        "names_right_before_organisations",
        "负责人张三的小吃店位于五四路。当事人李四任福州闽江贸易有限公司法定代表人。",
        personal=("张三", "李四"),
        kept=("的小吃店位于五四路", "福州闽江贸易有限公司法定代表人"),
    ),
    Case(
        "stall_and_offender",
        f"被检查人：福州市晋安区老王水产摊（经营者：王大海），违法行为人：陈小明（身份证号：{ID_B}）。",
        personal=("王大海", "陈小明", ID_B),
        kept=("福州市晋安区老王水产摊",),
    ),
    Case(
        "spaced_two_character_name",
        "当事人：张　三，联系电话：13705911234，住址：福州市鼓楼区东街33号。",
        personal=("张　三", "13705911234", "东街33号"),
        kept=("张　*",),
    ),
)


def assert_gone(masked: str, raw: str) -> None:
    assert raw not in masked
    assert compact(raw) not in compact(masked)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_every_personal_datum_is_masked_and_organisations_stay(case: Case) -> None:  # FJ art. 8; GD art. 46
    result = mask_text(case.text, known_persons=case.persons, known_organisations=case.organisations)
    for raw in case.personal:
        assert_gone(result.text, raw)
    for kept in case.kept:
        assert kept in result.text
    assert bool(result.findings) == bool(case.personal)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_only_masked_characters_change_and_findings_index_both_texts(case: Case) -> None:
    result = mask_text(case.text, known_persons=case.persons, known_organisations=case.organisations)
    assert len(result.text) == len(case.text)
    inside = {i for finding in result.findings for i in range(finding.start, finding.end)}
    for index, (before, after) in enumerate(zip(case.text, result.text, strict=True)):
        assert after == before or (after == "*" and index in inside)
    spans = [(f.start, f.end) for f in result.findings]
    assert spans == sorted(spans)
    assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_masking_is_idempotent(case: Case) -> None:
    once = mask_text(case.text, known_persons=case.persons, known_organisations=case.organisations)
    twice = mask_text(once.text, known_persons=case.persons, known_organisations=case.organisations)
    assert twice == MaskResult(once.text, ())


def test_findings_carry_kind_and_position_only() -> None:  # SECURITY.md: logs hold no ID numbers (16.2.x)
    result = mask_text(f"当事人：张三，身份证号码：{ID_A}，手机13800138000。")
    assert [f.name for f in dataclasses.fields(Finding)] == ["kind", "start", "end"]
    assert [f.kind for f in result.findings] == [DatumKind.PERSON_NAME, DatumKind.ID_NUMBER, DatumKind.MOBILE]
    logged = repr(result.findings)
    assert "张三" not in logged and ID_A[:10] not in logged and "13800138000" not in logged


def test_id_number_shows_only_its_first_and_last_character() -> None:
    assert mask_text(f"身份证号{ID_A}").text == "身份证号3****************X"
    assert mask_text(f"身份证号 {ID_B}").text == f"身份证号 3****************{ID_B[-1]}"


def test_unlabelled_valid_id_number_is_masked_but_a_near_miss_is_not() -> None:
    assert mask_text(f"号码{ID_B}。").findings[0].kind is DatumKind.ID_NUMBER
    wrong_check = ID_B[:17] + str((int(ID_B[17]) + 1) % 10)
    assert mask_text(f"序号{wrong_check}。").text == f"序号{wrong_check}。"


def _id_that_is_also_a_credit_code() -> str:
    for sequence in range(1000):
        first17 = f"35010219850312{sequence:03d}"
        candidate = valid_id(first17)
        if candidate[-1] != "X" and is_valid_credit_code(candidate):
            return candidate
    raise AssertionError("no collision found")


def test_a_number_valid_both_as_id_and_credit_code_is_an_id_unless_labelled_as_a_code() -> None:
    both = _id_that_is_also_a_credit_code()
    assert both not in mask_text(f"当事人号码{both}。").text
    assert both in mask_text(f"统一社会信用代码：{both}。").text
    assert both not in mask_text(f"身份证号码：{both}。").text


def test_credit_codes_stay_even_beside_personal_data() -> None:
    text = f"统一社会信用代码{COMPANY_CODE}，法定代表人身份证号{ID_D}，{SHOP_CODE}"
    masked = mask_text(text).text
    assert COMPANY_CODE in masked and SHOP_CODE in masked and ID_D not in masked


def test_caller_organisations_are_never_masked() -> None:
    text = "当事人：福州鼓楼五四路123号便利店。"
    assert "五四路123号" not in mask_text(text).text
    assert mask_text(text, known_organisations=["福州鼓楼五四路123号便利店"]).text == text


def test_a_place_without_house_number_or_label_is_not_an_address() -> None:
    text = "违法地点：福州市鼓楼区五四路与东街交叉路口。"
    assert mask_text(text) == MaskResult(text, ())


def test_kinds_of_overlapping_findings_merge_into_one() -> None:
    result = mask_text("账号：6222021234567890123 13800138000")
    assert [f.kind for f in result.findings] == [DatumKind.BANK_CARD]
    assert "13800138000" not in result.text

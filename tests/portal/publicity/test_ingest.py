"""What an agency sends to publish, and what of it may be stored (``portal.publicity.ingest``).

FJ art. 8, GD art. 46 and PIPL: a natural person is kept as surname + masked given name;
ID numbers (ending in X, with spaces, in full-width digits), phone numbers, bank cards,
plates and addresses in any free text are masked; several persons in one text are all
caught; organisations and their credit codes stay. A case number holding personal data is
refused rather than rewritten. Bad members are named with stable codes.
"""

from __future__ import annotations

import copy
import unicodedata
from datetime import date
from typing import Any

import pytest

from portal.errors import ValidationFailed
from portal.identifiers import id_number_check_char
from portal.publicity.ingest import Kind, PublicContent, publishable, search_text, submission_from_json

ID_X = "35010219850312123X"  # a valid ID number ending in X
ID_OTHER = "350121199001010020"[:17] + id_number_check_char("35012119900101002")
FULL_WIDTH_ID = unicodedata.normalize("NFKC", ID_OTHER).translate(
    {ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
COMPANY = {"kind": "organisation", "name": "福州闽江贸易有限公司", "credit_code": "91350100MA2XY12346"}
BODY: dict[str, Any] = {
    "kind": "penalty_decision", "agency_case_number": "榕市监罚〔2026〕12号",
    "party": {"kind": "person", "name": "张三丰"},
    "violation": (f"当事人张三丰（身份证号码：{ID_X}，手机 138 0013 8000）与李四、王五一起，"
                  "在福建省福州市鼓楼区五四路128号3栋502室经营无证餐饮。"
                  f"证人赵六（身份证 {FULL_WIDTH_ID}）证实，"
                  "收款账号 6222 0212 3456 7890 123，车辆闽A·D12345 停放门口。"),
    "legal_basis": "《无证无照经营查处办法》第二条、第十三条",
    "result": "没收违法所得人民币三千元，并处罚款人民币五千元。",
    "amount_fen": 800_000, "decision_date": "2026-03-02", "region_code": "350100",
    # persons named without a role cue (与李四、王五) are found because the agency names them
    "named_persons": ["李四", "王五"],
}
RAW_PERSONAL = ("张三丰", "三丰", ID_X, FULL_WIDTH_ID, ID_OTHER, "138 0013 8000", "13800138000", "李四",
                "王五", "赵六", "五四路128号", "3栋502室", "6222 0212 3456 7890 123", "D12345")


def content(body: dict[str, Any]) -> PublicContent:
    return publishable(submission_from_json(body, new=True))


def stored_texts(published: PublicContent) -> str:
    return "\n".join((published.party_name, published.violation, published.legal_basis, published.result,
                      search_text("榕市监罚〔2026〕12号", published)))


def test_a_person_is_stored_as_surname_and_every_personal_datum_in_the_text_is_masked() -> None:
    # FJ art. 8; GD art. 46: several persons, an ID ending in X, spaces and full-width digits
    published = content(BODY)
    assert published.party_name == "张**"
    assert published.party_kind == "person" and published.credit_code is None
    stored = stored_texts(published)
    for raw in RAW_PERSONAL:
        assert raw not in stored, raw
        assert raw.lower() not in stored, raw
    assert "当事人张**" in published.violation and "福建省福州市鼓楼区" in published.violation
    assert published.legal_basis == BODY["legal_basis"] and published.result == BODY["result"]
    kinds = {m.kind for m in published.masked}
    assert {"person_name", "id_number", "mobile", "address", "bank_card", "licence_plate"} <= kinds
    assert all(m.field in ("party.name", "violation") for m in published.masked)


def test_an_organisation_keeps_its_name_and_credit_code() -> None:  # FJ art. 8; GD art. 46
    body = {**BODY, "party": COMPANY,
            "violation": "福州闽江贸易有限公司（统一社会信用代码91350100MA2XY12346）法定代表人陈建国"
                         "未按规定公示年度报告。"}
    published = content(body)
    assert published.party_name == COMPANY["name"]
    assert published.credit_code == COMPANY["credit_code"]
    assert published.violation.startswith("福州闽江贸易有限公司（统一社会信用代码91350100MA2XY12346）")
    assert "陈建国" not in published.violation and "陈**" in published.violation


def test_search_text_is_built_from_the_masked_content_only() -> None:
    published = content({**BODY, "party": COMPANY})
    text = search_text("榕市监罚〔2026〕12号", published)
    assert "福州闽江贸易有限公司" in text and "91350100ma2xy12346" in text  # lower-cased for LIKE
    assert "榕市监罚〔2026〕12号" in text
    assert ID_X.lower() not in text and "张三丰" not in text


def test_a_case_number_with_personal_data_is_refused_not_rewritten() -> None:  # PIPL
    with pytest.raises(ValidationFailed) as refused:
        submission_from_json({**BODY, "agency_case_number": f"榕市监罚〔2026〕{ID_X}"}, new=True)
    assert refused.value.errors == {"agency_case_number": "personal_data"}


@pytest.mark.parametrize(("change", "errors"), [
    ({"kind": "fine"}, {"kind": "invalid_choice"}),
    ({"party": {"kind": "organisation", "name": "某公司", "credit_code": "91350100MA2XY12345"}},
     {"party.credit_code": "invalid_credit_code"}),
    ({"party": {"kind": "person", "name": "张三", "credit_code": "91350100MA2XY12346"}},
     {"party.credit_code": "not_allowed"}),
    ({"party": {"kind": "person", "name": "张三", "id_number": ID_X[:-1] + "1"}},
     {"party.id_number": "invalid_id_number"}),
    ({"party": {"kind": "organisation", "name": "某公司", "credit_code": "91350100MA2XY12346",
                "id_number": ID_X}}, {"party.id_number": "not_allowed"}),
    ({"named_persons": [{"name": "李四", "id_number": "1234"}]},
     {"named_persons.0.id_number": "invalid_id_number"}),
    ({"named_persons": [{"name": "李四", "phone": "13800000000"}]},
     {"named_persons.0.phone": "unknown_field"}),
    ({"violation": " "}, {"violation": "required"}),
    ({"result": "罚" * 1001}, {"result": "too_long"}),
    ({"amount_fen": 12.5}, {"amount_fen": "invalid_type"}),
    ({"amount_fen": -1}, {"amount_fen": "out_of_range"}),
    ({"decision_date": "2026-02-30"}, {"decision_date": "invalid_date"}),
    ({"region_code": "110000"}, {"region_code": "invalid_choice"}),
    ({"publicity_days": 30}, {"publicity_days": "basis_required"}),
    ({"publicity_days": 30, "publicity_basis": "《某某条例》第二十条"}, {}),
    ({"named_persons": "李四"}, {"named_persons": "invalid_type"}),
    ({"id_number": ID_X}, {"id_number": "unknown_field"}),
    ({"violation": "销售过期食品\x00"}, {"violation": "invalid_character"}),  # PostgreSQL stores no NUL
])
def test_bad_members_are_named_with_stable_codes(change: dict[str, Any], errors: dict[str, str]) -> None:
    body = copy.deepcopy(BODY)
    body.update(change)
    if not errors:
        assert submission_from_json(body, new=True).period is not None
        return
    with pytest.raises(ValidationFailed) as refused:
        submission_from_json(body, new=True)
    assert refused.value.errors == errors


def test_identifiers_of_whom_an_item_concerns_are_kept_apart_from_what_is_published() -> None:
    # GD art. 49 with FJ art. 8: the ID numbers let these persons object later; they are never
    # part of the content that is stored, searched or shown
    body = {**BODY, "party": {"kind": "person", "name": "张三", "id_number": ID_X.lower()},
            "named_persons": ["王五", {"name": "李四", "id_number": ID_OTHER}]}
    submission = submission_from_json(body, new=True)
    assert submission.concerned == (("party", "person", ID_X), ("named", "person", ID_OTHER))
    assert submission.named_persons == ("王五", "李四")
    content = publishable(submission)
    assert ID_X not in repr(content) and ID_OTHER not in repr(content)


def test_a_change_may_not_carry_kind_or_case_number() -> None:  # the item's identity is fixed
    with pytest.raises(ValidationFailed) as refused:
        submission_from_json(BODY, new=False)
    assert refused.value.errors == {"kind": "unknown_field", "agency_case_number": "unknown_field"}
    change = {k: v for k, v in BODY.items() if k not in ("kind", "agency_case_number")}
    submission = submission_from_json(change, new=False)
    assert submission.kind is None and submission.decision_date == date(2026, 3, 2)
    assert Kind("penalty_decision") is Kind.PENALTY_DECISION


def test_the_raw_submission_does_not_show_its_texts_in_a_repr() -> None:  # logs, tracebacks
    submission = submission_from_json(BODY, new=True)
    assert "张三丰" not in repr(submission) and ID_X not in repr(submission)

"""Publicity (公示): the kinds of item, parties, withdrawal grounds, regions and the warnings the
agency API gives (``portal.publicity``, ``services.publications``, the /publicity pages).
"""

from __future__ import annotations

# Chinese sentences are kept whole, however wide.

PUBLICITY: dict[str, str] = {
    "kind.penalty_decision": "行政处罚决定",
    "kind.inspection_result": "行政检查结果",
    "kind.coercive_measure": "行政强制措施",
    "kind.other": "其他行政执法决定",
    "party.person": "自然人",
    "party.organisation": "法人或其他组织",
    "ground.decision_changed": "行政处罚决定被依法变更",
    "ground.decision_revoked": "行政处罚决定被依法撤销",
    "ground.confirmed_illegal": "行政处罚决定被确认违法",
    "ground.confirmed_invalid": "行政处罚决定被确认无效",
    "ground.other": "公示满六十日后由执法机关撤回",
    "basis.apl_48": "《中华人民共和国行政处罚法》第四十八条第二款、第八十五条",
    "warning.published_late": "该决定作出后第{days}个工作日才公示，超过了作出之日起七个工作日内公示的要求（应于{last_day}前公示）",
    "export_name": "行政执法公示信息",
    "status.public": "公示中",
    "status.withdrawn": "已撤回",
    "error.agency": "请从列表中选择执法机关",
    "error.kind": "请从列表中选择信息类别",
    "error.region": "请从列表中选择地区",
    "error.date": "请按“年-月-日”填写日期，例如 2026-01-31",
    "error.date_order": "结束日期不能早于开始日期",
    "warning.withdrawn_late": "处罚决定变更、撤销或被确认违法、无效后，应在三个工作日内撤回（应于{last_day}前撤回）",
}

PUBLICITY_REGIONS: dict[str, str] = {
    "350000": "福建省（省级）",
    "350100": "福州市",
    "350200": "厦门市",
    "350300": "莆田市",
    "350400": "三明市",
    "350500": "泉州市",
    "350600": "漳州市",
    "350700": "南平市",
    "350800": "龙岩市",
    "350900": "宁德市",
    "350128": "平潭综合实验区",
}


CSV_COLUMNS: dict[str, str] = {
    "id": "编号", "url": "网址", "status": "状态", "kind": "信息类别", "agency": "执法机关",
    "agency_case_number": "案号", "region_code": "行政区划代码", "party_kind": "当事人类别",
    "party_name": "当事人", "credit_code": "统一社会信用代码", "decision_date": "决定日期",
    "violation": "违法事实", "legal_basis": "依据", "result": "处理结果",
    "amount_fen": "罚没金额（元）", "version": "版本", "first_published_at": "首次公示时间（北京时间）",
    "published_at": "本版公示时间（北京时间）", "public_until": "公示截止时间（北京时间）",
    "withdrawn_at": "撤回时间（北京时间）", "withdrawal_reason": "撤回理由",
}
"""The open-data CSV's column headers, one per JSON field name (the JSON keeps the names)."""

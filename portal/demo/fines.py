"""Demo fines for ``make run``: 张三 has a fine to pay, one that is already overdue, and one
he pays by instalments.

Three decided cases of 张三 (``zhangsan``), each with its penalty decision served and its fine
made payable through the same services the agency API uses:

- 福州市市场监督管理局: a 2,000 yuan fine served four days ago, still within the 15 days
  (APL art. 67), so the amount due is the fine;
- 福州市交通运输局: a 500 yuan fine served forty days ago, long past its due date, so the
  amount due today carries the 3% daily surcharge (APL art. 72);
- 福州市市场监督管理局: a 3,000 yuan fine served six days ago, which the agency allowed two
  days ago to be paid in three instalments of 1,000 yuan, a month apart
  (``instalments_approved``, APL art. 66): the fine's page lists them and asks for the first.

All three decisions were served on paper (张三 has not consented to e-service in the demo), so the
agency states the service date. Log in as ``zhangsan`` and open 我的罚款 to pay through the
sandbox payment platform; the background worker issues the sealed fiscal e-receipt within
seconds. The case codes and fine ids go to ``DATA_DIR/demo-fines.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from portal.database import utcnow
from portal.dev_idp.identities import DEMO_IDENTITIES
from portal.evidence_hash import instant_text
from portal.legal_calendar import china_date
from portal.services import cases, fines
from portal.services.calendar import load_calendar
from portal.services.cases import NewCase, NewParty, Officer
from portal.vocabulary import PERSON

FINES_FILE = "demo-fines.json"
_ACCOUNT = "福建省财政厅非税收入汇缴结算户"


def _ago(now: datetime, days: float) -> str:
    return instant_text(now - timedelta(days=days))


@dataclass(frozen=True)
class DemoDecision:
    case_number: str
    decision_number: str
    matter: str
    fine_fen: int
    served_days_ago: float
    officers: tuple[Officer, ...]
    instalments: int = 0
    """Approved two days ago: this many equal instalments 30 days apart (each on a working
    day), the first on the day the fine would have been due (``instalments_approved``, APL
    art. 66)."""


async def _decided_case(db: AsyncSession, agency_id: int, demo: DemoDecision) -> tuple[str, str]:
    """A case of 张三 decided and served as ``demo`` says, and its fine: (case code, fine id)."""
    person = DEMO_IDENTITIES[0]
    now = utcnow()
    penalty = f"罚款人民币{demo.fine_fen // 100}元"
    case = await cases.register_case(db, agency_id, NewCase(
        agency_case_number=demo.case_number, case_type="行政处罚", matter=demo.matter, hearing_right=False,
        electronic_monitoring=False, parties=(NewParty(PERSON, person.name, id_number=person.id_number),),
        officers=demo.officers))
    actor = f"agency:{agency_id}/demo"
    decided = demo.served_days_ago + 1
    # the notice a month before the decision: its 5 working days ran out whatever the holidays
    await cases.add_stage_event(db, case, "filed", {"occurred_at": _ago(now, decided + 40)}, actor)
    await cases.add_stage_event(db, case, "penalty_notice", {
        "occurred_at": _ago(now, decided + 30), "informed_at": _ago(now, decided + 29.9),
        "proposed_penalty": penalty, "proposed_fine_fen": demo.fine_fen, "facts": demo.matter,
        "legal_basis": "《中华人民共和国行政处罚法》第二十八条"}, actor)
    served = now - timedelta(days=demo.served_days_ago)
    await cases.add_stage_event(db, case, "decided", {
        "occurred_at": _ago(now, decided), "served_at": instant_text(served),
        "decision_number": demo.decision_number, "penalty": penalty, "fine_fen": demo.fine_fen}, actor)
    fine, _ = await fines.create_fine(db, agency_id, fines.NewFine(
        decision_number=demo.decision_number, amount_fen=demo.fine_fen, collecting_account=_ACCOUNT,
        surcharge_applies=True, served_on=china_date(served), case_code=case.code,
        party_key=person.id_number), actor=actor)
    if demo.instalments:
        share, rest = divmod(demo.fine_fen, demo.instalments)
        amounts = [share] * (demo.instalments - 1) + [share + rest]
        calendar = await load_calendar(db)  # due dates on working days, as an agency would set
        days = [calendar.next_working_day(fine.due_date + timedelta(days=30 * n))
                for n in range(demo.instalments)]
        await cases.add_stage_event(db, case, "instalments_approved", {
            "occurred_at": _ago(now, 2), "reason": "当事人确有经济困难，申请分期缴纳，经审查予以批准",
            "instalments": [{"due_date": day.isoformat(), "amount_fen": amount}
                            for day, amount in zip(days, amounts, strict=True)]}, actor)
    return case.code, fine.public_id


async def seed_fines(db: AsyncSession, agency_ids: list[int]) -> dict[str, list[str]]:
    """张三's three decided cases with their fines (see the module docstring)."""
    year = utcnow().year
    fresh = await _decided_case(db, agency_ids[0], DemoDecision(
        f"榕市监处罚〔{year}〕132号", f"榕市监罚字〔{year}〕132号", "销售标签不符合规定的预包装食品",
        200_000, 4, (Officer("陈明", "35010020230017"), Officer("林芳", "35010020230024"))))
    overdue = await _decided_case(db, agency_ids[1], DemoDecision(
        f"榕交执处罚〔{year}〕58号", f"榕交执罚字〔{year}〕58号", "未按规定携带道路运输证",
        50_000, 40, (Officer("郑伟", "35010020210311"), Officer("吴静", "35010020210342"))))
    by_instalments = await _decided_case(db, agency_ids[0], DemoDecision(
        f"榕市监处罚〔{year}〕147号", f"榕市监罚字〔{year}〕147号", "经营无中文标签的进口预包装食品",
        300_000, 6, (Officer("陈明", "35010020230017"), Officer("林芳", "35010020230024")),
        instalments=3))
    return {"cases": [fresh[0], overdue[0], by_instalments[0]],
            "fines": [fresh[1], overdue[1], by_instalments[1]]}


def write_fines(data_dir: Path, seeded: dict[str, list[str]]) -> None:
    (data_dir / FINES_FILE).write_text(json.dumps(seeded), encoding="utf-8")


def banner_lines() -> list[str]:
    return ["", "罚款缴纳演示：以 zhangsan 登录，在“我的罚款”查看应缴金额（一笔未到期、一笔已逾期、",
            "一笔经批准分三期缴纳），经沙箱支付平台（/sandbox-pay，开发环境专用，不发生真实扣款）",
            "缴款后下载财政电子票据，并在 /receipts/verify 查验。"]

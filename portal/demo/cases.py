"""Demo cases for ``make run``: two cases of the demo agency, one per demo party, so a
newcomer can open a case's QR link, see the public status, log in and see the whole case.

- 张三 (``zhangsan``): a prior notice of a penalty a few days ago, with the hearing right, so the
  statement and hearing-request windows are running, two working days left: their deadline
  reminders are due, and ``remind`` queues them into his notices (通知);
- 福州示例科技有限公司 (``lisi`` acting for it): a decision with a 5,000 yuan fine naming the
  reconsideration body and the court (APL art. 59(6)), served through its mailbox
  (``demo.eservice``): that service makes the fine payable (``services.served_fines``) and
  starts the payment and remedy periods.

Events are dated relative to the seeding time and recorded through ``services.cases``, so the
demo passes the same order rules as an agency's calls. The codes go to
``DATA_DIR/demo-cases.json``; the banner prints the first case's QR link (computed from the
settings of the run that prints it).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.cases import codes as case_codes
from portal.database import utcnow
from portal.dev_idp.identities import DEMO_IDENTITIES
from portal.evidence_hash import instant_text
from portal.legal_calendar import HolidayCalendar, hearing_request_deadline
from portal.models.cases import Case
from portal.services import case_followups, cases, reminders
from portal.services.calendar import load_calendar
from portal.services.cases import NewCase, NewParty, Officer
from portal.services.outbox import renderer_for
from portal.settings import Settings
from portal.vocabulary import ORGANISATION, PERSON

CASES_FILE = "demo-cases.json"
_OFFICERS = (Officer("陈明", "35010020230017"), Officer("林芳", "35010020230024"))


def _ago(now: datetime, days: float) -> str:
    return instant_text(now - timedelta(days=days))


def _informed_days_ago(now: datetime, calendar: HolidayCalendar) -> float:
    """How long ago to have informed 张三 for his 5 working days to end in two working days,
    when their reminder is due (``services.reminders.reminder_due``): whatever the weekday
    or holiday ``make run`` starts on."""
    for days in range(1, 15):
        deadline = hearing_request_deadline(now - timedelta(days=days), calendar)
        if deadline.ends_at_utc > now and reminders.reminder_due(deadline.ends_at_utc, now, calendar):
            return days
    return 2


async def remind(db: AsyncSession, settings: Settings, codes: list[str]) -> int:
    """Register the demo cases' deadlines and queue the reminders due now, as an agency's
    event and the reminder job would; returns how many were queued."""
    renderer = renderer_for(settings.public_url)
    now = utcnow()
    for code in codes:
        case = (await db.execute(select(Case).where(Case.code == code))).scalar_one()
        await case_followups.sync_case(db, case, renderer=renderer, now=now)
    calendar = await load_calendar(db)
    queued = 0
    for deadline_id in await reminders.due_deadline_ids(db, now=now, calendar=calendar):
        queued += await reminders.send_reminder(db, deadline_id, now=now, calendar=calendar,
                                                renderer=renderer)
    return queued


async def seed_cases(db: AsyncSession, agency_id: int) -> list[str]:
    """Register the demo cases for ``agency_id``; their codes, the person's first."""
    person, agent = DEMO_IDENTITIES[0], DEMO_IDENTITIES[1]
    if not (agent.org_name and agent.org_credit_code):
        raise RuntimeError("the second demo identity acts for a company")
    now = utcnow()
    year = now.year
    notice = await cases.register_case(db, agency_id, NewCase(
        agency_case_number=f"榕市监处罚〔{year}〕101号", case_type="行政处罚",
        matter="销售超过保质期的食品", hearing_right=True, electronic_monitoring=False,
        parties=(NewParty(PERSON, person.name, id_number=person.id_number),), officers=_OFFICERS))
    actor = f"agency:{agency_id}/demo"
    informed = _informed_days_ago(now, await load_calendar(db))
    await cases.add_stage_event(db, notice, "filed", {"occurred_at": _ago(now, 20)}, actor)
    await cases.add_stage_event(db, notice, "penalty_notice", {
        "occurred_at": _ago(now, informed + 0.1), "informed_at": _ago(now, informed),
        "proposed_penalty": "没收违法所得，并处罚款人民币一万元",
        "proposed_fine_fen": 1_000_000,
        "facts": "当事人在其经营的超市销售超过保质期的酸奶12盒，违法所得人民币96元。",
        "legal_basis": "《中华人民共和国食品安全法》第三十四条第十项、第一百二十四条第一款第五项",
    }, actor)
    decided = await cases.register_case(db, agency_id, NewCase(
        agency_case_number=f"榕市监处罚〔{year}〕87号", case_type="行政处罚",
        matter="未按规定公示年度报告", hearing_right=False, electronic_monitoring=False,
        parties=(NewParty(ORGANISATION, agent.org_name, credit_code=agent.org_credit_code),),
        officers=_OFFICERS))
    await cases.add_stage_event(db, decided, "filed", {"occurred_at": _ago(now, 30)}, actor)
    await cases.add_stage_event(db, decided, "penalty_notice", {
        "occurred_at": _ago(now, 25), "informed_at": _ago(now, 24.9),
        "proposed_penalty": "罚款人民币五千元", "proposed_fine_fen": 500_000,
        "facts": "当事人未按规定的期限公示上一年度年度报告。",
        "legal_basis": "《企业信息公示暂行条例》第八条、第十八条",
    }, actor)
    await cases.add_stage_event(db, decided, "decided", {
        "occurred_at": _ago(now, 0.1),
        "decision_number": f"榕市监罚字〔{year}〕87号", "penalty": "罚款人民币五千元",
        "fine_fen": 500_000, "reconsideration_body": "福州市人民政府", "court": "福州市鼓楼区人民法院",
    }, actor)
    return [notice.code, decided.code]


def write_codes(data_dir: Path, codes: list[str]) -> None:
    (data_dir / CASES_FILE).write_text(json.dumps(codes), encoding="utf-8")


def banner_lines(settings: Settings) -> list[str]:
    path = settings.data_dir / CASES_FILE
    if not path.exists():
        return []
    codes = json.loads(path.read_text(encoding="utf-8"))
    lines = ["", "演示案件（扫描文书二维码打开的链接；当事人登录后可查看完整案件）："]
    for code, who in zip(codes, ("zhangsan", "lisi"), strict=False):
        lines.append(f"  - {case_codes.display(code)}（当事人登录：{who}） "
                     f"{case_codes.case_url(settings.public_url, settings.key_text('case_qr'), code)}")
    return lines

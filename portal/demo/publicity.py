"""Demo publicity for ``make run``: about thirty published decisions of the two demo agencies,
so that /publicity shows something to search, filter, open and export in the first minute.

They go through ``services.publications`` exactly as an agency's API calls would -- raw
names, ID numbers, phone numbers and addresses in, masked content out -- each published a few
working days after its decision, spread over the last year (``now`` is passed in, as the
tests do). One item is changed after publication (the public page says so), one withdrawn
because reconsideration revoked the decision (APL art. 48: the public sees the notice and the
reason), and 福州闽江食品贸易有限公司 has three decisions months apart, for trying the date
filter. Deterministic: the same texts on every machine.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from portal.database import utcnow
from portal.identifiers import USCC_ALPHABET, uscc_check_char
from portal.legal_calendar import CHINA_TZ, HolidayCalendar
from portal.publicity.ingest import Kind, Submission
from portal.publicity.window import WithdrawalGround
from portal.services import publications
from portal.services.calendar import load_calendar
from portal.vocabulary import ORGANISATION, PERSON

_COMPANIES = (
    "福州闽江食品贸易有限公司", "福州榕城连锁超市有限公司", "福建鼓山建材有限公司",
    "福州三坊七巷餐饮管理有限公司", "福州仓山海峡药房有限公司", "福建华闽电子科技有限公司",
    "平潭海峡物流有限公司", "福州东街口百货有限公司", "福州马尾船舶配件有限公司",
    "福建永泰山水旅游客运有限公司", "福州晋安金山汽车服务有限公司", "福州长乐航空港货运有限公司",
)  # fmt: skip
_PERSONS = ("陈建华", "林秀英", "黄志强", "欧阳明辉", "郑丽娟", "王小明", "吴国平", "刘海燕")
_FOODS = ("酸奶", "速冻水饺", "袋装面包", "瓶装果汁", "熟食卤味", "进口奶粉")
_CASE_WORD = {Kind.PENALTY_DECISION: "罚", Kind.INSPECTION_RESULT: "检", Kind.COERCIVE_MEASURE: "强",
              Kind.OTHER: "决"}
_ROADS = ("G316国道洪山桥段", "福州绕城高速南通收费站", "S203省道闽侯上街段", "福厦路城门段")


def credit_code(index: int) -> str:
    """A valid-looking unified social credit code (GB 32100 check character) for a demo company."""
    rng = random.Random(f"uscc-{index}")  # noqa: S311 (demo data, not a secret)
    body = "91350100" + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc_check_char(body)


def _market(rng: random.Random, n: int, party: str) -> tuple[Kind, str, str, str, int | None]:
    food, count = rng.choice(_FOODS), rng.randint(6, 80)
    fine = rng.choice((5_000, 10_000, 20_000, 50_000)) * 100
    cases = (
        (Kind.PENALTY_DECISION,
         f"{party}于检查当日在其经营场所销售超过保质期的{food}共{count}件，货值金额{count * 12}元。"
         f"经营场所：福州市鼓楼区东街{rng.randint(1, 300)}号；"
         f"联系电话13{rng.randint(100000000, 999999999)}。",
         "《中华人民共和国食品安全法》第三十四条第十项、第一百二十四条第一款第五项",
         f"没收超过保质期的{food}{count}件，并处罚款人民币{fine // 100}元。", fine),
        (Kind.PENALTY_DECISION,
         f"{party}在其微信公众号发布含有“根治”“无副作用”等内容的保健食品广告，法定代表人{rng.choice(_PERSONS)}"
         "对上述事实予以确认。",
         "《中华人民共和国广告法》第十八条第一款、第五十八条第一款第三项",
         f"责令停止发布违法广告，在相应范围内消除影响，并处罚款人民币{fine // 100}元。", fine),
        (Kind.INSPECTION_RESULT,
         f"对{party}开展食品安全日常监督检查，抽查食品贮存、从业人员健康证明、进货查验记录等"
         f"{count % 9 + 6}项。",
         "《中华人民共和国食品安全法》第一百一十条；《食品生产经营监督检查管理办法》",
         "检查结果：基本符合。发现冷藏柜温度记录不全，已责令十日内整改。", None),
        (Kind.COERCIVE_MEASURE,
         f"{party}涉嫌销售侵犯注册商标专用权的商品，查封其存放于福州市仓山区建新镇金山工业区"
         f"{rng.randint(1, 40)}号仓库的涉嫌侵权运动鞋{count * 10}双。",
         "《中华人民共和国商标法》第六十二条第一款第四项",
         "查封，期限三十日。", None),
        (Kind.PENALTY_DECISION,
         f"{party}销售的商品未按规定明码标价，涉及商品{count}种。",
         "《中华人民共和国价格法》第十三条第一款、第四十二条",
         "责令改正，给予警告。", None),
    )
    return cases[n % len(cases)]


def _transport(rng: random.Random, n: int, party: str) -> tuple[Kind, str, str, str, int | None]:
    plate = f"闽A{rng.randint(10000, 99999)}"
    fine = rng.choice((2_000, 5_000, 10_000, 30_000)) * 100
    cases = (
        (Kind.PENALTY_DECISION,
         f"{party}所属车辆{plate}在{rng.choice(_ROADS)}超限运输，车货总质量{rng.randint(52, 80)}吨，"
         f"超过限定标准{rng.randint(5, 60)}%。驾驶人{rng.choice(_PERSONS)}（身份证号码"
         "350102198503121237）在场。",
         "《公路安全保护条例》第三十三条第一款、第六十四条",
         f"罚款人民币{fine // 100}元。", fine),
        (Kind.PENALTY_DECISION,
         f"{party}未取得道路运输经营许可，使用车辆{plate}擅自从事道路旅客运输经营，收取车费共计"
         f"{rng.randint(200, 3000)}元，车费收款账号6222 0212 3456 7890 123。",
         "《中华人民共和国道路运输条例》第十条、第六十三条",
         f"没收违法所得，并处罚款人民币{fine // 100}元。", fine),
        (Kind.PENALTY_DECISION,
         f"{party}驾驶{plate}未取得网络预约出租汽车运输证从事网约车经营。",
         "《网络预约出租汽车经营服务管理暂行办法》第三十四条",
         f"责令改正，罚款人民币{fine // 100}元。", fine),
    )
    return cases[n % len(cases)]


def _submission(rng: random.Random, n: int, agency: int, decided: date) -> Submission:
    person = n % 4 == 3
    name = _PERSONS[n % len(_PERSONS)] if person else _COMPANIES[n % len(_COMPANIES)]
    party = f"当事人{name}" if person else name
    kind, violation, basis, result, amount = (_market if agency == 0 else _transport)(rng, n, party)
    abbreviation = ("榕市监" if agency == 0 else "榕交执") + _CASE_WORD[kind]
    return Submission(
        kind=kind, agency_case_number=f"{abbreviation}〔{decided.year}〕{100 + n}号",
        party_kind=PERSON if person else ORGANISATION, party_name=name,
        credit_code=None if person else credit_code(n % len(_COMPANIES)), violation=violation,
        legal_basis=basis, result=result, amount_fen=amount, decision_date=decided,
        region_code="350128" if "平潭" in name else "350100")


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), CHINA_TZ)


async def seed_publicity(db: AsyncSession, agency_ids: list[int], *, count: int = 30,
                         now: datetime | None = None) -> list[int]:
    """Publish the demo items for the two demo agencies; their ids, newest decision last."""
    now = now or utcnow()
    today = now.astimezone(CHINA_TZ).date()
    calendar: HolidayCalendar = await load_calendar(db)
    rng = random.Random(242)  # noqa: S311 (demo data; seeded: the same texts everywhere)
    ids = []
    for n in range(count):
        decided = calendar.next_working_day(today - timedelta(days=360 - n * 12))
        agency = 0 if n % 3 else 1
        published_on = calendar.add_working_days(decided, 1 + n % 5)
        if published_on >= today:
            published_on = today
        at = min(_at(published_on, 10), now - timedelta(minutes=count - n))
        submission = _submission(rng, n, agency, decided)
        actor = f"agency:{agency_ids[agency]}/demo"
        item = await publications.publish(db, agency_ids[agency], actor, submission, calendar, now=at)
        ids.append(item.id)
    await _change_and_withdraw(db, agency_ids, ids, calendar, now)
    return ids


async def _change_and_withdraw(db: AsyncSession, agency_ids: list[int], ids: list[int],
                               calendar: HolidayCalendar, now: datetime) -> None:
    """Change one of the market regulator's recent items (a corrected slip) and withdraw another."""
    own = [item_id for n, item_id in enumerate(ids) if n % 3]  # the market regulator's
    changed = await publications.agency_view(db, agency_ids[0], own[-3], now=now)
    old = changed.versions[-1].content
    correction = Submission(
        kind=None, agency_case_number=None, party_kind=old.party_kind, party_name=old.party_name,
        credit_code=old.credit_code, violation=old.violation, legal_basis=old.legal_basis,
        result=old.result + "（经复核，更正决定书中的笔误）", amount_fen=old.amount_fen,
        decision_date=old.decision_date, region_code=old.region_code)
    await publications.republish(db, agency_ids[0], f"agency:{agency_ids[0]}/demo", changed.id,
                                 correction, calendar, now=now - timedelta(minutes=1))
    await publications.withdraw(
        db, agency_ids[0], f"agency:{agency_ids[0]}/demo", own[-1],
        ground=WithdrawalGround.DECISION_REVOKED,
        reason="该行政处罚决定已被行政复议机关撤销（闽榕复决字〔2026〕12号），依法撤回公示。",
        occurred_on=None, named_persons=(), calendar=calendar, now=now)

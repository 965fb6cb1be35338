"""Benchmark of public search over published enforcement information.

Run with ``.venv/bin/python bench/publicity.py [--count N] [--requests R] [--only postgresql|sqlite]``
(default 1,000,000 items, 300 timed requests per kind of query, both databases). For each
database it:

* generates ``N`` realistic items -- a hundred agencies of Fujian's cities, company names of
  city + trade name + trade + form, masked persons, case numbers, violation texts with masked
  plates, addresses and phone numbers, decisions over the last 2.2 years (so some 9 % are
  past their window), a few withdrawn -- in chunks, in publication order, as the real table
  fills;
* loads them in bulk into a fresh, migrated database: PostgreSQL by COPY (asyncpg), SQLite by
  ``executemany`` in transactions of 50,000 rows; secondary indexes, constraints and (SQLite)
  the FTS5 triggers are dropped for the load and rebuilt after it, as any bulk load does;
  evidence-chain rows are not generated (search never reads them);
* starts ``portal serve`` on it and times, one request at a time over loopback HTTP, each
  from its own client address (``X-Forwarded-For`` through ``TRUSTED_PROXY_HOPS=1``, so the
  per-client rate limit is paid as real traffic pays it): keyword searches (company-name
  fragments, case numbers, violation words, whole credit codes of published parties; common
  and rare), keyword + filter,
  filter-only, and the detail page of a random item by primary key; p50 and p95 of each;
* streams the JSON export of every public item and reports the rows, the time and the
  server's peak resident memory during it against its size before (``VmHWM`` after
  ``clear_refs``).

The PostgreSQL admin connection is ``TEST_DATABASE_URL`` (default
postgresql://postgres@127.0.0.1:5432/test); the benchmark creates and drops its own database.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import hashlib  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from bench.harness import (  # noqa: E402
    PORTAL_SERVE,
    free_port,
    portal_env,
    proc_status_mib,
    scratch_database,
    sized,
)
from portal.database import create_engine  # noqa: E402
from portal.identifiers import USCC_ALPHABET, uscc_check_char  # noqa: E402
from portal.legal_calendar import CHINA_TZ  # noqa: E402
from portal.publicity.window import years_later  # noqa: E402
from portal.schema import upgrade  # noqa: E402

CHUNK = 50_000
CITIES = (("福州", "榕", "350100"), ("厦门", "厦", "350200"), ("莆田", "莆", "350300"),
          ("三明", "明", "350400"), ("泉州", "泉", "350500"), ("漳州", "漳", "350600"),
          ("南平", "南", "350700"), ("龙岩", "岩", "350800"), ("宁德", "宁", "350900"),
          ("福建省", "闽", "350000"))
TRADE_CHARS = ("鑫华盛德恒泰源达顺昌隆兴宏佳利丰瑞祥安康金银海山江闽榕鹭东南西北中新天宇创博远通航飞龙凤鹏锦"
               "嘉怡和美融汇聚信诚义仁智明辉光晨阳星云林森石泉溪湖港湾峰岩茂正")
TRADES = ("食品", "贸易", "建材", "餐饮管理", "物流", "科技", "医药", "电子", "服装", "汽车服务",
          "商贸", "实业", "建筑工程", "房地产开发", "酒店管理", "网络科技", "环保科技", "机械", "化工",
          "纺织", "家具", "超市", "大药房", "运输", "装饰工程", "农业开发", "水产", "茶业", "陶瓷", "鞋业")
FORMS = ("有限公司",) * 7 + ("股份有限公司", "有限责任公司", "商行")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘蔡叶程苏魏吕丁沈卢"
GOODS = ("酸奶", "速冻水饺", "袋装面包", "瓶装果汁", "熟食卤味", "婴幼儿配方奶粉", "食用油", "白酒", "茶叶",
         "蜂蜜")
ROADS = ("G316国道", "G15沈海高速", "S203省道", "福厦路", "G324国道", "S306省道", "G70福银高速")
PENALTY, INSPECTION, COERCION = "penalty_decision", "inspection_result", "coercive_measure"
# (department, abbreviation, templates): each template is (kind, violation, legal basis, result)
# with {party}, {person}, {goods}, {n}, {small}, {pct}, {fine} (yuan), {plate}, {road}, {addr},
# {phone} filled in per item -- plates, addresses and phones already masked, as stored
DEPARTMENTS: tuple[tuple[str, str, tuple[tuple[str, str, str, str], ...]], ...] = (
    ("市场监督管理局", "市监", (
        (PENALTY,
         "{party}销售超过保质期的{goods}共{n}件，货值金额{small}元。经营场所：{addr}；联系电话{phone}。",
         "《中华人民共和国食品安全法》第三十四条第十项、第一百二十四条第一款第五项",
         "没收违法所得，并处罚款人民币{fine}元。"),
        (PENALTY,
         "{party}在其微信公众号发布含有“根治”“无副作用”等内容的虚假广告，法定代表人{person}对事实予以确认。",
         "《中华人民共和国广告法》第二十八条、第五十五条第一款",
         "责令停止发布违法广告，并处罚款人民币{fine}元。"),
        (PENALTY, "{party}未按规定期限公示上一年度年度报告。", "《企业信息公示暂行条例》第八条、第十八条",
         "给予警告。"),
        (INSPECTION, "对{party}开展食品安全日常监督检查，检查项目{n}项。",
         "《食品生产经营监督检查管理办法》第十八条", "检查结果：基本符合，责令限期整改。"),
        (COERCION, "{party}涉嫌销售侵犯注册商标专用权的{goods}，查封其存放于{addr}的涉嫌侵权商品{n}件。",
         "《中华人民共和国商标法》第六十二条", "查封，期限三十日。"))),
    ("交通运输局", "交执", (
        (PENALTY, "{party}所属车辆{plate}在{road}超限运输，超过限定标准{pct}%。驾驶人{person}在场。",
         "《公路安全保护条例》第三十条、第六十四条", "罚款人民币{fine}元。"),
        (PENALTY, "{party}未取得道路运输经营许可，使用车辆{plate}擅自从事道路旅客运输经营。",
         "《中华人民共和国道路运输条例》第十条、第六十三条", "没收违法所得，并处罚款人民币{fine}元。"),
        (PENALTY, "{party}驾驶{plate}未取得网络预约出租汽车运输证从事网约车经营。",
         "《网络预约出租汽车经营服务管理暂行办法》第三十四条", "责令改正，罚款人民币{fine}元。"))),
    ("生态环境局", "环", (
        (PENALTY, "{party}超标排放大气污染物，颗粒物排放浓度超过标准{pct}%。",
         "《中华人民共和国大气污染防治法》第十八条、第九十九条", "责令改正，并处罚款人民币{fine}元。"),
        (COERCION, "{party}通过暗管排放水污染物，查封其位于{addr}的生产设施{n}台。",
         "《中华人民共和国环境保护法》第二十五条", "查封，期限三十日。"))),
    ("应急管理局", "应急", (
        (PENALTY, "{party}未按规定对从业人员进行安全生产教育和培训，涉及{n}人。",
         "《中华人民共和国安全生产法》第二十八条、第九十七条", "责令限期改正，并处罚款人民币{fine}元。"),
        (INSPECTION, "对{party}开展安全生产执法检查，发现隐患{n}项。",
         "《安全生产违法行为行政处罚办法》第十五条", "检查结果：责令限期整改隐患。"))),
    ("城市管理局", "城管", (
        (PENALTY, "{party}未经批准在{addr}擅自设置户外广告。",
         "《城市市容和环境卫生管理条例》第十一条、第三十六条", "责令限期拆除，并处罚款人民币{fine}元。"),)),
    ("卫生健康委员会", "卫健", (
        (PENALTY, "{party}使用未取得执业资格的人员从事诊疗活动。",
         "《医疗机构管理条例》第二十七条、第四十八条", "罚款人民币{fine}元。"),)),
    ("自然资源和规划局", "自然资源", (
        (PENALTY, "{party}未经批准占用集体土地{n}平方米建设厂房。",
         "《中华人民共和国土地管理法》第四十四条、第七十七条",
         "责令退还非法占用的土地，并处罚款人民币{fine}元。"),)),
    ("文化和旅游局", "文旅", (
        (PENALTY, "{party}未经许可经营旅行社业务。", "《中华人民共和国旅游法》第二十八条、第九十五条",
         "没收违法所得，并处罚款人民币{fine}元。"),)),
    ("农业农村局", "农", (
        (PENALTY, "{party}经营假农药{n}瓶。", "《农药管理条例》第四十四条、第五十五条",
         "没收假农药，并处罚款人民币{fine}元。"),)),
    ("人力资源和社会保障局", "人社", (
        (PENALTY, "{party}未按规定支付劳动者加班工资，涉及{n}人。", "《劳动保障监察条例》第二十六条",
         "责令限期支付，并处罚款人民币{fine}元。"),)),
)
KIND_WORD = {"penalty_decision": "罚", "inspection_result": "检", "coercive_measure": "强"}


Chunk = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]
"""Rows of the items, versions and withdrawals tables, in that order."""


class Generator:
    """Deterministic realistic items, in publication order, as database rows."""

    def __init__(self, count: int, now: datetime) -> None:
        self.count, self.now = count, now
        self.rng = random.Random(20_260_302)
        self.first = (now - timedelta(days=800)).astimezone(CHINA_TZ).date()
        self.numbers: dict[tuple[int, str, int], int] = {}
        self.public_ids: list[int] = []
        self.codes: list[str] = []
        self.agencies = [(a * 10 + d + 1, city, dept, abbr + short, code, templates)
                         for a, (city, abbr, code) in enumerate(CITIES)
                         for d, (dept, short, templates) in enumerate(DEPARTMENTS)]

    def agency_rows(self) -> list[tuple[int, str, datetime]]:
        return [(aid, f"{city}{'' if city.endswith('省') else '市'}{dept}", self.now - timedelta(days=900))
                for aid, city, dept, _, _, _ in self.agencies]

    def company(self) -> tuple[str, str]:
        rng = self.rng
        city = rng.choice(CITIES)[0].removesuffix("省")
        trade_name = rng.choice(TRADE_CHARS) + rng.choice(TRADE_CHARS)
        name = city + trade_name + rng.choice(TRADES) + rng.choice(FORMS)
        body = "91350" + "".join(rng.choice(USCC_ALPHABET) for _ in range(12))
        return name, body + uscc_check_char(body)

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + "*" * self.rng.choice((1, 2, 2))

    def chunks(self) -> Iterator[Chunk]:
        items, versions, withdrawals = [], [], []
        for n in range(1, self.count + 1):
            item, version, withdrawal = self.item(n)
            items.append(item)
            versions.append(version)
            if withdrawal:
                withdrawals.append(withdrawal)
            if len(items) == CHUNK or n == self.count:
                yield items, versions, withdrawals
                items, versions, withdrawals = [], [], []

    def item(self, n: int) -> tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...] | None]:
        rng = self.rng
        decided = self.first + timedelta(days=int(800 * n / (self.count + 1)))
        published = datetime(decided.year, decided.month, decided.day, 9, tzinfo=CHINA_TZ) + timedelta(
            days=rng.randint(1, 9), minutes=rng.randint(0, 540))
        published = min(published, self.now - timedelta(minutes=1)).astimezone(UTC)
        days = 365 if rng.random() < 0.1 else None
        until = published + timedelta(days=days) if days else years_later(published, 2)
        aid, city, _, abbr, region, templates = rng.choice(self.agencies)
        kind, violation, basis, result = rng.choice(templates)
        person = rng.random() < 0.25
        name, code = (self.person(), None) if person else self.company()
        values = {
            "party": f"当事人{name}" if person else name, "person": self.person(), "goods": rng.choice(GOODS),
            "n": rng.randint(2, 300), "small": rng.randint(50, 5000), "pct": rng.randint(5, 90),
            "fine": rng.choice((500, 1000, 2000, 5000, 10000, 20000, 50000, 100000)),
            "plate": f"闽{rng.choice('ABCDEFGHJK')}***{rng.randint(10, 99)}", "road": rng.choice(ROADS),
            "addr": f"{city}市某区******", "phone": f"13{rng.randint(0, 9)}****{rng.randint(1000, 9999)}",
        }
        violation, result = violation.format(**values), result.format(**values)
        amount = values["fine"] * 100 if "罚款" in result else None
        key = (aid, kind, decided.year)
        self.numbers[key] = number = self.numbers.get(key, 0) + 1
        case_number = f"{abbr}{KIND_WORD[kind]}〔{decided.year}〕{number}号"
        if n % 97 == 0 and until > self.now:
            self.public_ids.append(n)  # for the detail page: any public item, withdrawn or not
            if code:
                self.codes.append(code)  # what a user pastes: a whole code off a licence
        withdrawn = published + timedelta(days=rng.randint(1, 50)) if rng.random() < 0.003 else None
        if withdrawn and withdrawn >= self.now:
            withdrawn = None
        text = "\n".join(part for part in (name, code, case_number, violation, basis, result) if part)
        search = (case_number if withdrawn else text).lower()
        digest = hashlib.sha256(text.encode()).hexdigest()
        item = (n, aid, kind, case_number, region, decided, 1, published, published, until, days,
                "《福建省社会信用条例》第二十五条" if days else None, withdrawn, search)
        version = (n, n, 1, published, until, f"agency:{aid}/bench", "person" if person else "organisation",
                   name, code, violation, basis, result, amount, decided, region, "[]", "[]", digest)
        withdrawal = (n, n, withdrawn, f"agency:{aid}/bench", "decision_revoked",
                      "该处罚决定已被行政复议机关撤销。",
                      None, "[]") if withdrawn else None
        return item, version, withdrawal


ITEM_COLUMNS = ("id", "agency_id", "kind", "agency_case_number", "region_code", "decision_date", "version",
                "first_published_at", "published_at", "public_until", "publicity_days", "publicity_basis",
                "withdrawn_at", "search_text")
VERSION_COLUMNS = ("id", "publication_id", "version", "published_at", "public_until", "actor", "party_kind",
                   "party_name", "credit_code", "violation", "legal_basis", "result", "amount_fen",
                   "decision_date", "region_code", "masked", "warnings", "content_sha256")
WITHDRAWAL_COLUMNS = ("id", "publication_id", "withdrawn_at", "actor", "ground", "reason", "occurred_on",
                      "warnings")
TABLES = (("publications", ITEM_COLUMNS), ("publication_versions", VERSION_COLUMNS),
          ("publication_withdrawals", WITHDRAWAL_COLUMNS))


class TimedChunks:
    """The generator's chunks, counting the time spent generating them in ``seconds``, so that
    each loader reports generating and loading apart."""

    def __init__(self, generator: Generator) -> None:
        self.seconds = 0.0
        self._chunks = generator.chunks()

    def __iter__(self) -> Iterator[Chunk]:
        while True:
            tick = time.perf_counter()
            chunk = next(self._chunks, None)
            self.seconds += time.perf_counter() - tick
            if chunk is None:
                return
            yield chunk


async def load_postgresql(url: str, generator: Generator) -> dict[str, float]:
    """COPY the items in; indexes and constraints dropped for the load, rebuilt after it."""
    connection = await asyncpg.connect(url)
    try:
        await connection.copy_records_to_table("agencies", records=generator.agency_rows(),
                                               columns=("id", "name", "created_at"))
        constraints = await connection.fetch(
            "SELECT conrelid::regclass::text AS tab, conname, pg_get_constraintdef(oid) AS def "
            "FROM pg_constraint WHERE conrelid::regclass::text = ANY($1) AND contype IN ('u', 'f')",
            [name for name, _ in TABLES])
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY($1) AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint)", [name for name, _ in TABLES])
        for row in constraints:
            await connection.execute(f'ALTER TABLE {row["tab"]} DROP CONSTRAINT "{row["conname"]}"')
        for row in indexes:
            await connection.execute(f'DROP INDEX "{row["indexname"]}"')
        started = time.perf_counter()
        chunks = TimedChunks(generator)
        for chunk in chunks:
            for (table, columns), records in zip(TABLES, chunk, strict=True):
                await connection.copy_records_to_table(table, records=records, columns=columns)
        loaded = time.perf_counter()
        await connection.execute("SET maintenance_work_mem = '1GB'")
        for row in indexes:
            await connection.execute(row["indexdef"])
        for row in constraints:
            await connection.execute(
                f'ALTER TABLE {row["tab"]} ADD CONSTRAINT "{row["conname"]}" {row["def"]}')
        for table, _ in TABLES:
            await connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT coalesce(max(id), 1) FROM {table}))")
        await connection.execute("VACUUM ANALYZE")
        return {"generate": chunks.seconds, "copy": loaded - started - chunks.seconds,
                "index": time.perf_counter() - loaded}
    finally:
        await connection.close()


def load_sqlite(path: Path, generator: Generator) -> dict[str, float]:
    """executemany in one transaction per chunk; indexes and FTS triggers rebuilt after."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-1000000")
        connection.executemany("INSERT INTO agencies (id, name, created_at) VALUES (?, ?, ?)",
                               [(i, n, c.replace(tzinfo=None)) for i, n, c in generator.agency_rows()])
        saved = connection.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND type IN ('index', 'trigger') AND tbl_name LIKE 'publication%'").fetchall()
        for kind, name, _ in saved:
            connection.execute(f'DROP {kind.upper()} "{name}"')
        started = time.perf_counter()
        chunks = TimedChunks(generator)
        for chunk in chunks:
            connection.execute("BEGIN")
            for (table, columns), records in zip(TABLES, chunk, strict=True):
                marks = ", ".join("?" * len(columns))
                connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                                       [tuple(_sqlite(v) for v in record) for record in records])
            connection.execute("COMMIT")
        loaded = time.perf_counter()
        connection.execute("INSERT INTO publication_search(publication_search) VALUES ('rebuild')")
        indexed = time.perf_counter()
        for _, _, sql in saved:
            connection.execute(sql)
        connection.execute("ANALYZE")
        return {"generate": chunks.seconds, "insert": loaded - started - chunks.seconds,
                "fts": indexed - loaded, "index": time.perf_counter() - indexed}
    finally:
        connection.close()


def _sqlite(value: Any) -> Any:
    """What ``UTCDateTime`` and ``Date`` store on SQLite: naive UTC text, ISO dates."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


class Server:
    """``portal serve`` on the loaded database, behind one trusted proxy hop."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = portal_env(database_url, data_dir, self.port, TRUSTED_PROXY_HOPS="1")
        self.process = subprocess.Popen(PORTAL_SERVE, cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.http = httpx.Client(base_url=self.url, timeout=600)
        self.requests = 0
        for _ in range(600):
            try:
                self.http.get("/healthz")
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("portal serve did not start")

    def get(self, path: str, params: dict[str, str] | None = None) -> float:
        """Seconds for one GET, from a client address of its own."""
        self.requests += 1
        address = f"10.{self.requests >> 16 & 255}.{self.requests >> 8 & 255}.{self.requests & 255}"
        started = time.perf_counter()
        response = self.http.get(path, params=params, headers={"x-forwarded-for": address})
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{path} {params} answered {response.status_code}")
        return elapsed

    def close(self) -> None:
        self.http.close()
        self.process.terminate()
        self.process.wait(timeout=30)


Request = tuple[str, dict[str, str]]


def workloads(generator: Generator, rng: random.Random) -> dict[str, Callable[[], Request]]:
    """What the public asks, each a function returning one request (path, query)."""
    first, span = generator.first, 800

    def keyword() -> str:
        kind = rng.randrange(4)
        if kind == 0:  # a fragment of a company name: trade name + trade, e.g. 鑫华食品
            return rng.choice(TRADE_CHARS) + rng.choice(TRADE_CHARS) + rng.choice(TRADES)[:2]
        if kind == 1:  # a case number as printed on the decision
            abbr = rng.choice(generator.agencies)[3]
            return f"{abbr}罚〔{rng.choice((2025, 2026))}〕{rng.randint(1, 800)}号"
        if kind == 2:  # words of the violation, common and rare
            return rng.choice(("超限运输", "保质期", "虚假广告", "年度报告", "网约车", "超标排放",
                               "安全生产教育", "户外广告", "执业资格", "假农药", "加班工资", "婴幼儿配方奶粉",
                               "暗管"))
        return rng.choice(generator.codes)  # a party's unified social credit code, whole

    def a_filter() -> dict[str, str]:
        choice = rng.randrange(4)
        if choice == 0:
            return {"agency": str(rng.choice(generator.agencies)[0])}
        if choice == 1:
            return {"region": rng.choice(CITIES)[2]}
        if choice == 2:
            return {"kind": rng.choice(("inspection_result", "coercive_measure"))}
        start = first + timedelta(days=rng.randrange(span - 30))
        return {"from": start.isoformat(), "to": (start + timedelta(days=30)).isoformat()}

    return {
        "keyword": lambda: ("/publicity", {"q": keyword()}),
        "keyword+filter": lambda: ("/publicity", {"q": keyword(), **a_filter()}),
        "filter only": lambda: ("/publicity", a_filter()),
        "detail (primary key)": lambda: (f"/publicity/{rng.choice(generator.public_ids)}", {}),
    }


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] * 1000


def measure(server: Server, generator: Generator, requests: int) -> dict[str, tuple[float, float]]:
    rng = random.Random(7)
    loads = workloads(generator, rng)
    for make in loads.values():  # warm-up: connections, plans, caches
        for _ in range(sized(30, 2)):
            server.get(*make())
    figures = {}
    for name, make in loads.items():
        times = [server.get(*make()) for _ in range(requests)]
        figures[name] = (percentile(times, 50), percentile(times, 95))
    return figures


def export(server: Server) -> dict[str, float]:
    """Stream the JSON export of everything public; the server's memory before and at peak."""
    Path(f"/proc/{server.process.pid}/clear_refs").write_text("5")  # reset VmHWM to VmRSS
    before = proc_status_mib(server.process.pid, "VmRSS")
    started = time.perf_counter()
    size = rows = 0
    marker, tail = b'\n{"id": ', b""
    with server.http.stream("GET", "/publicity/export.json", headers={"x-forwarded-for": "10.255.0.1"}) as r:
        for chunk in r.iter_bytes():
            size += len(chunk)
            rows += (tail + chunk).count(marker)  # a row start split between chunks counts once
            tail = chunk[-(len(marker) - 1):]
    seconds = time.perf_counter() - started
    peak = proc_status_mib(server.process.pid, "VmHWM")
    return {"rows": rows, "mib": size / 2**20, "seconds": seconds, "rss_before": before, "rss_peak": peak}


def report(name: str, count: int, load: dict[str, float], figures: dict[str, tuple[float, float]],
           exported: dict[str, float]) -> None:
    print(f"\n== {name}: {count:,} items (load average now {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs: other work on the machine inflates every figure alike)")
    print("load: " + ", ".join(f"{step} {seconds:.0f} s" for step, seconds in load.items())
          + f" (total {sum(load.values()):.0f} s)")
    print(f"{'query':<22}{'p50 ms':>9}{'p95 ms':>9}")
    for query, (p50, p95) in figures.items():
        print(f"{query:<22}{p50:9.1f}{p95:9.1f}")
    detail = figures["detail (primary key)"][1]
    for query in ("keyword", "keyword+filter", "filter only"):
        print(f"p95 {query} / p95 detail: {figures[query][1] / detail:.2f}x")
    print(f"export (JSON, all public items): {exported['rows']:,.0f} rows, {exported['mib']:.0f} MiB in "
          f"{exported['seconds']:.0f} s ({exported['rows'] / exported['seconds']:,.0f} rows/s); server RSS "
          f"{exported['rss_before']:.0f} MiB before, peak {exported['rss_peak']:.0f} MiB "
          f"(+{exported['rss_peak'] - exported['rss_before']:.0f} MiB)")


async def run_postgresql(count: int, requests: int, now: datetime) -> None:
    async with scratch_database("bench_publicity") as url:
        server = None
        data_dir = Path(tempfile.mkdtemp(prefix="bench-publicity-pg-"))
        try:
            generator = Generator(count, now)
            load = await load_postgresql(url.replace("postgresql+asyncpg://", "postgresql://"), generator)
            server = Server(url, data_dir)
            figures = await asyncio.to_thread(measure, server, generator, requests)
            exported = await asyncio.to_thread(export, server)
            report("PostgreSQL", count, load, figures, exported)
        finally:
            if server:
                server.close()
            await asyncio.to_thread(shutil.rmtree, data_dir, True)


async def run_sqlite(count: int, requests: int, now: datetime) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-publicity-sqlite-"))
    path = data_dir / "portal.db"
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    generator = Generator(count, now)
    load = await asyncio.to_thread(load_sqlite, path, generator)
    server = Server(url, data_dir)
    try:
        figures = await asyncio.to_thread(measure, server, generator, requests)
        exported = await asyncio.to_thread(export, server)
        size = await asyncio.to_thread(lambda: path.stat().st_size / 2**30)
        report(f"SQLite ({size:.1f} GiB file)", count, load, figures, exported)
    finally:
        server.close()
        await asyncio.to_thread(shutil.rmtree, data_dir, True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=sized(1_000_000, 2_000))
    parser.add_argument("--requests", type=int, default=sized(300, 5))
    parser.add_argument("--only", choices=("postgresql", "sqlite"))
    args = parser.parse_args()
    now = datetime.now(UTC)
    if args.only != "sqlite":
        await run_postgresql(args.count, args.requests, now)
    if args.only != "postgresql":
        await run_sqlite(args.count, args.requests, now)


if __name__ == "__main__":
    asyncio.run(main())

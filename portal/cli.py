"""The ``portal`` command line: everything an operator does, nothing a citizen does.

    portal db upgrade                 apply the Alembic migrations
    portal agency create "<name>" --credit-code <code>
                                      create an API client for an agency (a new agency needs its
                                      unified social credit code); prints id and secret as JSON
    portal agency credit-code "<name>" <code>
                                      record the credit code of an agency created without one
    portal agency revoke <client_id>  revoke an API client; its tokens stop working at once
    portal evidence verify            walk every evidence chain, tie deliveries and payments to their
                                      events, check the timestamped checkpoints; exit 1 on a problem
    portal evidence checkpoint        take a timestamped checkpoint of the chain heads now
    portal blobs migrate [--from-dir DIR]
                                      copy the documents kept as files (default DATA_DIR/blobs)
                                      into the configured store (BLOB_STORE); safe to repeat
    portal blobs check                read every document a record names from the store and
                                      check its SHA-256; exit 1 if one is missing or changed
    portal calendar load FILE         load the State Council's holiday arrangement (CSV, see
                                      portal.holiday_table); replaces the years the file covers
    portal publicity remask           mask the public items again with the current rules; an item
                                      that changes gets a new version (same window)
    portal demo                       seed the demo data (only into an empty demo database)
    portal serve                      serve HTTP on HOST:PORT
    portal payments reconcile [--date YYYY-MM-DD]
                                      compare the payment platform's daily statement (default:
                                      yesterday, China date) with the recorded payments
    portal worker [--once] [--concurrency N]
                                      send notifications and queue deadline reminders
    portal run                        upgrade, seed the demo on first run, print the demo logins, serve
                                      (with one notification worker loop in the background);
                                      development mode only
    portal check                      list every setting production mode refuses (development
                                      identity provider, sandbox payments, development PKI, ...)
                                      and what the database holds that it refuses; exit 1 if any

In production mode ``serve`` and ``worker`` run the same check first and refuse to start, with
one message, while anything is listed (``portal.deployment``).

Each command reads settings once and runs one transaction per unit of work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import uvicorn

from portal import catalogue, deployment, schema
from portal.app import create_app
from portal.database import session_factory, transaction
from portal.engines import open_engine
from portal.logs import configure_logging
from portal.notary import Notary
from portal.outbound import tls_context
from portal.services import agencies, checkpoints, evidence, evidence_records, publications
from portal.settings import Settings, export_to_server_processes, load_settings
from portal.workers import evidence as evidence_worker
from portal.workers import runner

Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]


async def _db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    engine = open_engine(settings)
    try:
        await schema.upgrade(engine)
        print(f"数据库已升级到版本 {await schema.current_revision(engine)}")
    finally:
        await engine.dispose()
    return 0


async def _agency_create(settings: Settings, args: argparse.Namespace) -> int:
    engine = open_engine(settings)
    try:
        async with transaction(session_factory(engine)) as db:
            if args.credit_code is None and not await agencies.exists(db, args.name):
                raise agencies.AgencyRefused("credit_code_required")
            client = await agencies.create_client(db, args.name, args.credit_code)
    except agencies.AgencyRefused as refused:
        print(catalogue.title(refused.code), file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    print(json.dumps({
        "agency_id": client.agency_id,
        "agency_name": client.agency_name,
        "credit_code": client.credit_code,
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "token_endpoint": f"{settings.public_url}/api/v1/token",
    }, ensure_ascii=False, indent=2))
    return 0


async def _evidence_verify(settings: Settings, _args: argparse.Namespace) -> int:
    engine = open_engine(settings)
    try:
        async with Notary.from_settings(settings) as notary, session_factory(engine)() as db:
            report = await evidence.verify_chains(db)
            records = await evidence_records.verify(db)
            anchors = await checkpoints.verify(db, (await notary.services()).trust,
                                               settings.data_dir / checkpoints.EXPORT_DIR)
    finally:
        await engine.dispose()
    if report.ok and not records and not anchors:
        print(f"证据链完整：{report.chains} 条证据链，共 {report.events} 个事件，全部校验通过；"
              "送达与缴款记录与其事件一致；时间戳检查点有效。")
        return 0
    if not report.ok:
        print(f"发现证据链断裂：{len(report.broken)} 条证据链未通过校验。")
    for link in report.broken:
        print(f"  - 证据链 {link.chain} 第 {link.seq} 条（事件编号 {link.event_id}）：{link.reason}")
    for problem in [*records, *anchors]:
        print(f"  - {problem}")
    return 1


async def _evidence_checkpoint(settings: Settings, _args: argparse.Namespace) -> int:
    engine = open_engine(settings)
    try:
        async with Notary.from_settings(settings) as notary:
            await evidence_worker.take_checkpoint(evidence_worker.deps_for(settings, session_factory(engine),
                                                                           notary))
    finally:
        await engine.dispose()
    print("已为各证据链的当前链头申请时间戳（无变化时不新建检查点）。")
    return 0


async def _publicity_remask(settings: Settings, _args: argparse.Namespace) -> int:
    engine = open_engine(settings)
    try:
        async with transaction(session_factory(engine)) as db:
            report = await publications.remask(db)
    finally:
        await engine.dispose()
    print(f"已按现行规则重新脱敏：检查 {report.checked} 条公示信息，"
          f"其中 {report.remasked} 条发布了脱敏后的新版本。")
    return 0


async def _blobs_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from portal.blobstore import open_blob_store
    from portal.blobstore.files import FileBlobStore
    from portal.blobstore.transfer import copy_blobs

    source_dir = (await asyncio.to_thread(Path(args.from_dir).resolve) if args.from_dir
                  else settings.data_dir / "blobs")
    if settings.blobs.store == "files" and source_dir == settings.blobs.directory:
        print(f"文件已在配置的存储中（BLOB_STORE=files，{source_dir}），无需迁移。")
        return 0
    engine = open_engine(settings)
    target = open_blob_store(settings.blobs, engine)
    try:
        report = await copy_blobs(FileBlobStore(source_dir), target)
    finally:
        await target.aclose()
        await engine.dispose()
    print(f"从 {source_dir} 迁移到 {target.name} 存储：新复制 {report.copied} 个文件，"
          f"已存在 {report.present} 个。")
    for digest in report.damaged:
        print(f"  - 文件内容与其 SHA-256 不符，未迁移：{digest}", file=sys.stderr)
    return 0 if report.ok else 1


async def _blobs_check(settings: Settings, _args: argparse.Namespace) -> int:
    from portal.blobstore import open_blob_store
    from portal.services import document_audit

    engine = open_engine(settings)
    store = open_blob_store(settings.blobs, engine)
    try:
        async with session_factory(engine)() as db:
            report = await document_audit.audit(db, store)
    finally:
        await store.aclose()
        await engine.dispose()
    tables = "，".join(f"{table} {count}" for table, count in report.references.items())
    print(f"{store.name} 存储：记录引用文件 {tables}；共 {report.documents} 个不同文件。")
    for label, found in (("缺失", report.missing), ("内容与记录的 SHA-256 不符", report.corrupted)):
        for digest, named_by in found.items():
            print(f"  - {label}：{digest}（{', '.join(named_by)}）", file=sys.stderr)
    if report.ok:
        print("全部文件齐全，SHA-256 与记录一致。")
        return 0
    print(f"发现问题：缺失 {len(report.missing)} 个，内容不符 {len(report.corrupted)} 个。")
    return 1


async def _calendar_load(settings: Settings, args: argparse.Namespace) -> int:
    from portal.holiday_table import CalendarFileError, parse_calendar_file
    from portal.services import calendar, case_followups, outbox

    try:
        text = await asyncio.to_thread(Path(args.file).read_text, encoding="utf-8")
        table = parse_calendar_file(text)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"无法读取文件 {args.file}：{exc}", file=sys.stderr)
        return 1
    except CalendarFileError as exc:
        print(f"{catalogue.title(exc.code)}：{exc}", file=sys.stderr)
        return 1
    engine = open_engine(settings)
    try:
        async with transaction(session_factory(engine)) as db:
            summary = await calendar.replace_years(db, table)
            # deadlines counted on the fallback may move: their reminders move with them
            renderer = outbox.renderer_for(settings.public_url)
            moved = await case_followups.sync_open_cases(db, renderer=renderer)
    finally:
        await engine.dispose()
    for year in summary.years:
        print(f"已载入 {year} 年法定节假日安排：放假 {summary.holidays[year]} 天，"
              f"调休上班 {summary.workdays[year]} 天。")
    print(f"共替换原有记录 {summary.replaced} 条；以上年份的期限将按新安排计算"
          f"（已重新登记 {moved} 项期限提醒）。")
    return 0


async def _agency_credit_code(settings: Settings, args: argparse.Namespace) -> int:
    engine = open_engine(settings)
    try:
        async with transaction(session_factory(engine)) as db:
            agency = await agencies.record_credit_code(db, args.name, args.credit_code)
            recorded = {"agency_id": agency.id, "agency_name": agency.name,
                        "credit_code": agency.credit_code}
    except agencies.AgencyRefused as refused:
        print(catalogue.title(refused.code), file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    print(json.dumps(recorded, ensure_ascii=False, indent=2))
    return 0


async def _agency_revoke(settings: Settings, args: argparse.Namespace) -> int:
    engine = open_engine(settings)
    try:
        async with transaction(session_factory(engine)) as db:
            client = await agencies.revoke_client(db, args.client_id)
    finally:
        await engine.dispose()
    if client is None:
        print(f"{catalogue.title('unknown_api_client')}：{args.client_id}", file=sys.stderr)
        return 1
    revoked_at = cast(datetime, client.revoked_at)  # set by revoke_client
    print(json.dumps({"client_id": client.client_id,
                      "revoked_at": revoked_at.isoformat()}, ensure_ascii=False, indent=2))
    return 0


async def _demo(settings: Settings, _args: argparse.Namespace) -> int:
    from portal import demo

    engine = open_engine(settings)
    try:
        await schema.upgrade(engine)
        seeded = await demo.seed(settings, session_factory(engine))
    finally:
        await engine.dispose()
    print("已写入演示数据" if seeded else "演示数据已存在，未重复写入")
    return 0


async def _payments_reconcile(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when the day reconciles, 2 when something differs, 1 when it cannot be done."""
    import httpx

    from payments import PlatformError
    from portal.database import utcnow
    from portal.legal_calendar import china_date
    from portal.payment_platforms import PaymentPlatforms
    from portal.services import reconciliations

    try:
        day = date.fromisoformat(args.date) if args.date else china_date(utcnow()) - timedelta(days=1)
    except ValueError:
        print(f"日期格式应为 YYYY-MM-DD：{args.date}", file=sys.stderr)
        return 1
    engine = open_engine(settings)
    try:
        async with httpx.AsyncClient(timeout=30, verify=tls_context()) as http:
            platform = PaymentPlatforms.from_settings(settings, http=lambda: http).active
            row = await reconciliations.reconcile_day(session_factory(engine), platform, day)
    except PlatformError as exc:
        print(f"{catalogue.title('payment_platform_unavailable')}：{exc}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    report = row.report
    print(f"{day.isoformat()} 支付平台 {row.platform} 对账：核对一致 {row.matched} 笔；"
          f"平台对账单合计 {row.statement_total_fen} 分，平台记录合计 {row.portal_total_fen} 分。")
    for key, label in (("missing_in_portal", "平台已收款、本平台无记录"),
                       ("missing_on_platform", "本平台有记录、平台对账单中没有"),
                       ("amount_mismatches", "金额不一致"), ("duplicate_serials", "对账单流水号重复")):
        for entry in report[key]:
            print(f"  - {label}：{json.dumps(entry, ensure_ascii=False)}")
    print("对账一致。" if row.clean else "对账发现差异，请核查。")
    return 0 if row.clean else 2


async def _worker(settings: Settings, args: argparse.Namespace) -> int:
    return await runner.worker_command(settings, once=args.once, concurrency=args.concurrency)


async def _problems(settings: Settings) -> list[deployment.Problem]:
    """Production's objections to the settings and, when it can be reached, the database."""
    problems = deployment.configuration_problems(settings)
    engine = open_engine(settings)
    try:
        async with session_factory(engine)() as db:
            problems += await deployment.stored_problems(db)
    except Exception as exc:  # any failure to read is itself a finding
        problems.append(deployment.Problem("DATABASE_URL", "database_unreadable",
                                           {"error": type(exc).__name__}))
    finally:
        await engine.dispose()
    return problems


async def _check(settings: Settings, _args: argparse.Namespace) -> int:
    """Exit 0 when production mode would start, 1 with the list of what it refuses."""
    problems = await _problems(settings)
    if not problems:
        print(catalogue.DEPLOYMENT["passed"])
        return 0
    print(deployment.refusal(problems))
    return 1


def _refuse_unsafe_start(settings: Settings) -> bool:
    """In production mode, print the one refusal message and return True while anything is
    listed; development mode always starts (``make run``)."""
    if not settings.production:
        return False
    problems = asyncio.run(_problems(settings))
    if problems:
        print(deployment.refusal(problems), file=sys.stderr)
    return bool(problems)


SERVER_PROCESS_HEALTHCHECK_SECONDS = 60
"""How long uvicorn's supervisor waits for a server process's answer to its health ping before
it kills and replaces the process. A new process is spawned and imports the whole portal before
it can answer: 16 s on a busy 2-core machine, where uvicorn's default (5 s) had the supervisor
kill and respawn every process forever, never serving. A process that exits is still replaced
at once."""


def _serve(settings: Settings, *, with_worker: bool = False, workers: int = 1) -> None:
    """One process, or ``workers`` server processes under uvicorn's supervisor (which restarts
    one that dies): each builds its own app from the environment (``portal.asgi``), and their
    metrics meet in a fresh ``DATA_DIR/metrics`` folder (prometheus_client's multiprocess mode)."""
    options: dict[str, Any] = {"host": settings.host, "port": settings.port, "log_config": None,
                               "proxy_headers": settings.trusted_proxy_hops > 0,
                               "timeout_graceful_shutdown": 20}
    if workers > 1:
        metrics_dir = settings.data_dir / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir()
        export_to_server_processes("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
        uvicorn.run("portal.asgi:application", factory=True, workers=workers,
                    timeout_worker_healthcheck=SERVER_PROCESS_HEALTHCHECK_SECONDS, **options)
        return
    background = (lambda: runner.in_process_worker(settings)) if with_worker else None
    uvicorn.run(create_app(settings, background=background), **options)


async def _prepare_run(settings: Settings) -> None:
    from portal import demo

    engine = open_engine(settings)
    try:
        await schema.upgrade(engine)
        await demo.seed(settings, session_factory(engine))
    finally:
        await engine.dispose()
    print(demo.banner(settings), flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal", description="行政执法公共服务平台 运维命令")
    sub = parser.add_subparsers(dest="command", required=True)
    db = sub.add_parser("db", help="数据库").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="执行数据库迁移").set_defaults(func=_db_upgrade)
    agency = sub.add_parser("agency", help="执法机关接入").add_subparsers(dest="agency_command",
                                                                         required=True)
    create = agency.add_parser("create", help="为执法机关创建 API 客户端")
    create.add_argument("name")
    create.add_argument("--credit-code", help="统一社会信用代码（新建机关必填；电子印章按此代码核对）")
    create.set_defaults(func=_agency_create)
    code = agency.add_parser("credit-code", help="为未登记代码的执法机关登记统一社会信用代码（不可更改）")
    code.add_argument("name")
    code.add_argument("credit_code")
    code.set_defaults(func=_agency_credit_code)
    revoke = agency.add_parser("revoke", help="吊销执法机关的 API 客户端（其令牌立即失效）")
    revoke.add_argument("client_id")
    revoke.set_defaults(func=_agency_revoke)
    chains = sub.add_parser("evidence", help="证据链").add_subparsers(dest="evidence_command",
                                                                     required=True)
    chains.add_parser("verify", help="校验全部证据链、送达与缴款记录及时间戳检查点").set_defaults(
        func=_evidence_verify)
    chains.add_parser("checkpoint", help="立即为证据链头申请时间戳检查点").set_defaults(
        func=_evidence_checkpoint)
    blobs = sub.add_parser("blobs", help="文书存储").add_subparsers(dest="blobs_command", required=True)
    migrate = blobs.add_parser("migrate", help="把 DATA_DIR/blobs 下的文件迁入配置的存储（BLOB_STORE）")
    migrate.add_argument("--from-dir", help="文件所在目录，默认 DATA_DIR/blobs")
    migrate.set_defaults(func=_blobs_migrate)
    blobs.add_parser("check", help="逐一读取记录引用的文件并核对 SHA-256").set_defaults(func=_blobs_check)
    holidays = sub.add_parser("calendar", help="法定节假日").add_subparsers(dest="calendar_command",
                                                                          required=True)
    load = holidays.add_parser("load", help="载入国务院公布的放假调休安排（CSV 文件）")
    load.add_argument("file")
    load.set_defaults(func=_calendar_load)
    money = sub.add_parser("payments", help="罚款缴纳").add_subparsers(dest="payments_command",
                                                                     required=True)
    reconcile = money.add_parser("reconcile", help="核对支付平台日对账单与本平台缴款记录")
    reconcile.add_argument("--date", help="对账日期（北京时间，YYYY-MM-DD），默认昨天")
    reconcile.set_defaults(func=_payments_reconcile)
    publicity = sub.add_parser("publicity", help="执法信息公示").add_subparsers(dest="publicity_command",
                                                                          required=True)
    publicity.add_parser("remask", help="按现行脱敏规则重新处理公示信息").set_defaults(func=_publicity_remask)
    sub.add_parser("demo", help="写入演示数据").set_defaults(func=_demo)
    serve = sub.add_parser("serve", help="启动网站")
    serve.add_argument("--workers", type=int, default=1,
                       help="服务进程数（每个 CPU 核 1-2 个）；后台任务另由 portal worker 运行")
    serve.set_defaults(func=None, serve=True)
    worker = sub.add_parser("worker", help="发送通知并生成期限提醒（后台任务，收到 SIGTERM 后安全退出）")
    worker.add_argument("--once", action="store_true", help="处理完当前到期的任务后退出")
    worker.add_argument("--concurrency", type=int, default=1, help="本进程内并行的发送循环数")
    worker.set_defaults(func=_worker)
    sub.add_parser("run", help="迁移、写入演示数据并启动网站（仅开发模式）").set_defaults(func=None, run=True)
    sub.add_parser("check", help="检查生产环境配置，列出所有不安全的设置").set_defaults(func=_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = load_settings()
    configure_logging(settings.log_level)
    if getattr(args, "run", False):
        if settings.production:
            print(catalogue.DEPLOYMENT["run_is_development"], file=sys.stderr)
            return 2
        asyncio.run(_prepare_run(settings))
        _serve(settings, with_worker=True)
        return 0
    if (getattr(args, "serve", False) or args.func is _worker) and _refuse_unsafe_start(settings):
        return 2
    if getattr(args, "serve", False):
        if args.workers < 1:
            print("--workers 至少为 1", file=sys.stderr)
            return 2
        _serve(settings, workers=args.workers)
        return 0
    func: Command = args.func
    return asyncio.run(func(settings, args))


if __name__ == "__main__":
    sys.exit(main())

"""Demo data for ``make run``: seeded once into an empty database, then left alone.

So that a newcomer sees the whole portal in the first minute, every capability adds its demo
in a module of this package (a served decision in a mailbox: ``eservice``; fines to pay:
``fines``; a case QR: ``cases``; published items: ``publicity``; objections to data, one
answered: ``objections``; a lawyer with a signed power of attorney: ``agents``). The demo
agency's API credentials are written to ``DATA_DIR/demo-agency.json`` (mode 0600) and printed
by ``banner`` so the agency API can be tried with curl.
"""

from __future__ import annotations

import json
import os

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.database import transaction
from portal.demo import agents as demo_agents
from portal.demo import cases as demo_cases
from portal.demo import eservice as demo_eservice
from portal.demo import fines as demo_fines
from portal.demo import objections as demo_objections
from portal.demo import publicity as demo_publicity
from portal.dev_idp.identities import DEMO_IDENTITIES
from portal.identifiers import uscc_check_char
from portal.models import Agency
from portal.notary import Notary
from portal.services import agencies
from portal.settings import Settings

DEMO_AGENCIES = ("福州市市场监督管理局", "福州市交通运输局")
DEMO_CREDIT_CODES = {name: prefix + uscc_check_char(prefix) for name, prefix in
                     zip(DEMO_AGENCIES, ("11350100MB0000001", "11350100MB0000002"), strict=True)}
"""The demo agencies' unified social credit codes: their development seals carry them."""
_CREDENTIALS_FILE = "demo-agency.json"


async def seed(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Seed the demo into an empty database; return False if anything was there already."""
    async with transaction(sessions) as db:
        if (await db.execute(select(func.count()).select_from(Agency))).scalar_one():
            return False
        credentials = []
        agency_ids = []
        for name in DEMO_AGENCIES:
            client = await agencies.create_client(db, name, DEMO_CREDIT_CODES[name])
            credentials.append({"agency_name": client.agency_name, "credit_code": client.credit_code,
                                "client_id": client.client_id, "client_secret": client.client_secret})
            agency_ids.append(client.agency_id)
        codes = await demo_cases.seed_cases(db, agency_ids[0])
        await demo_publicity.seed_publicity(db, agency_ids)
        fines = await demo_fines.seed_fines(db, agency_ids)
    demo_cases.write_codes(settings.data_dir, codes)
    demo_fines.write_fines(settings.data_dir, fines)
    notary = Notary.from_settings(settings)  # one set of verification workers for every signature
    try:
        await demo_eservice.seed_eservice(settings, sessions, notary, agency_ids[0], DEMO_AGENCIES[0],
                                          DEMO_CREDIT_CODES[DEMO_AGENCIES[0]], codes[1])
        await demo_objections.seed_objections(settings, sessions, agency_ids[0], codes[0])
        await demo_agents.seed_agents(settings, sessions, notary)
    finally:
        await notary.aclose()
    async with transaction(sessions) as db:
        await demo_cases.remind(db, settings, codes)
    path = settings.data_dir / _CREDENTIALS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(credentials, handle, ensure_ascii=False, indent=2)
    return True


def banner(settings: Settings) -> str:
    lines = ["", f"行政执法公共服务平台已启动： {settings.public_url}/", "",
             "开发模式：开发用身份认证、沙箱支付平台、开发用 PKI 和时间戳服务，数据仅供演示，"
             "不可用于生产（生产环境配置见 README“Production”，`portal check` 列出待改项）。", ""]
    if settings.dev_idp_enabled:
        lines.append("演示登录（开发用身份认证服务，登录页选择以下身份之一）：")
        for identity in DEMO_IDENTITIES:
            lines.append(f"  - {identity.login:<10} {identity.name}（{identity.description}）")
    path = settings.data_dir / _CREDENTIALS_FILE
    if path.exists():
        lines += ["", "演示执法机关 API 客户端（POST /api/v1/token，client_credentials）："]
        for entry in json.loads(path.read_text()):
            lines.append(f"  - {entry['agency_name']}（统一社会信用代码 {entry.get('credit_code')}）: "
                         f"client_id={entry['client_id']} client_secret={entry['client_secret']}")
    lines += demo_cases.banner_lines(settings)
    lines += ["", "电子送达演示：以 lisi 登录（代表福州示例科技有限公司），在“我的邮箱”查看已送达的",
              "行政处罚决定书、送达时间、期限和送达回证；以 zhangsan 登录可签署电子送达确认书。"]
    lines += demo_fines.banner_lines()
    return "\n".join(lines) + "\n"

"""The demo identities the development identity provider offers.

The ID numbers and credit codes are made up but carry valid check characters, so they pass
the same validation as real ones. An organisation login is a natural person (the agent)
acting for the organisation, as in the province's legal-person login: the ID token carries the
agent's own claims plus the organisation's name and credit code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoIdentity:
    login: str
    subject: str
    name: str
    id_number: str
    description: str
    org_name: str | None = None
    org_credit_code: str | None = None

    def claims(self) -> dict[str, str]:
        claims = {"sub": self.subject, "name": self.name, "id_number": self.id_number}
        if self.org_name and self.org_credit_code:
            claims["org_name"] = self.org_name
            claims["org_credit_code"] = self.org_credit_code
        return claims


DEMO_IDENTITIES: tuple[DemoIdentity, ...] = (
    DemoIdentity(
        login="zhangsan",
        subject="demo-person-zhangsan",
        name="张三",
        id_number="35010219850312123X",
        description="自然人",
    ),
    DemoIdentity(
        login="lisi",
        subject="demo-agent-lisi",
        name="李四",
        id_number="350102199007154563",
        description="法人经办人，代表福州示例科技有限公司",
        org_name="福州示例科技有限公司",
        org_credit_code="91350100MA2XY12346",
    ),
    DemoIdentity(
        login="wangwu",
        subject="demo-person-wangwu",
        name="王五",
        id_number="350102197811037895",
        description="自然人（第二位当事人）",
    ),
)


def find(login: str) -> DemoIdentity | None:
    return next((identity for identity in DEMO_IDENTITIES if identity.login == login), None)

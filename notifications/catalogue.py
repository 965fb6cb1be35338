"""The Chinese texts of every notification, per kind and channel, versioned.

Each template is Jinja2 plain text. The variables a template uses are its whitelist: the
renderer accepts exactly those keys, and refuses at start-up any template that uses a variable
its channel may not carry (`notifications.messages.CHANNEL_CEILINGS`). `link` is not a context
variable: the renderer writes it from the portal's public URL and the kind's path in
`LINK_PATHS`, always a page behind the login, never a token.

A published version is never edited, because outbox rows and attempt logs name the version
they were rendered with; a changed text is a new `Template` with the next version number.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from notifications.messages import ChannelKind, Kind

__all__ = ["LINK_PATHS", "TEMPLATES", "Template"]

EMAIL, INBOX, SMS = ChannelKind.EMAIL, ChannelKind.INBOX, ChannelKind.SMS


@dataclass(frozen=True)
class Template:
    """One version of one text: `subject` is the e-mail subject or notice title (None for SMS)."""

    kind: Kind
    channel: ChannelKind
    version: int
    body: str
    subject: str | None = None

    @property
    def name(self) -> str:
        """A log-safe name such as `document_arrived/sms/v1`."""
        return f"{self.kind}/{self.channel}/v{self.version}"


def _email_body(text: str, *, action: str) -> str:
    """The frame every version-1 e-mail shares; part of those versions, so never edited."""
    return (
        f"您好：\n\n{text}\n\n{action}：{{{{ link }}}}\n"
        "本邮件不包含免登录链接，请通过统一身份认证登录后查看。\n\n"
        "本邮件由系统自动发送，请勿直接回复。\n行政执法服务平台"
    )


LINK_PATHS = MappingProxyType(
    {
        Kind.DOCUMENT_ARRIVED: "/mailbox",
        Kind.DEADLINE_REMINDER: "/cases",
        Kind.HEARING_SCHEDULED: "/cases",
        Kind.PAYMENT_CONFIRMED: "/payments",
        Kind.RECEIPT_ISSUED: "/fines",  # receipts are listed with the fine they pay
        Kind.CONSENT_SIGNED: "/consent",
        Kind.CONSENT_REVOKED: "/consent",
        Kind.OBJECTION_ANSWERED: "/objections",
    }
)
"""Where each kind's link points: a page that requires login."""

TEMPLATES: tuple[Template, ...] = (
    # 文书送达 — the notice is not the service: the arrival is (FJ art. 19, GD art. 30).
    Template(
        Kind.DOCUMENT_ARRIVED, SMS, 1,
        "您在行政执法服务平台的电子送达邮箱收到一份新文书，请登录 {{ link }} 查看。",
    ),
    Template(
        Kind.DOCUMENT_ARRIVED, EMAIL, 1,
        subject="【文书送达】{{ agency_name }}向您送达了{{ document_type }}",
        body=_email_body(
            "{{ agency_name }}通过电子送达向您送达了一份{{ document_type }}"
            "（案件编码：{{ case_code }}）。\n\n文书已存入您在行政执法服务平台的电子送达邮箱。"
            "文书到达邮箱的时间即为送达时间，与是否阅读无关；相关期限自送达之日起计算。",
            action="请登录平台查看",
        ),
    ),
    Template(
        Kind.DOCUMENT_ARRIVED, INBOX, 1,
        subject="新文书：{{ document_title }}",
        body="{{ agency_name }}于{{ arrived_at }}向您送达《{{ document_title }}》"
        "（{{ document_type }}，案件编码 {{ case_code }}）。该时间即为送达时间，"
        "相关期限自此起算，与是否阅读无关。",
    ),
    # 期限提醒 — only the date goes by SMS; how it was computed is shown after login.
    Template(
        Kind.DEADLINE_REMINDER, SMS, 1,
        "您在行政执法服务平台有一项期限将于{{ deadline_date }}届满，请登录 {{ link }} 查看。",
    ),
    Template(
        Kind.DEADLINE_REMINDER, EMAIL, 1,
        subject="【期限提醒】案件{{ case_code }}的{{ deadline_name }}将于{{ deadline_date }}届满",
        body=_email_body(
            "您在案件{{ case_code }}（{{ agency_name }}办理）中的{{ deadline_name }}"
            "将于{{ deadline_date }}届满。"
            "期限的计算方式和可以办理的事项，请登录平台查看。",
            action="请登录平台查看",
        ),
    ),
    Template(
        Kind.DEADLINE_REMINDER, INBOX, 1,
        subject="期限提醒：{{ deadline_name }}",
        body="案件 {{ case_code }}（{{ agency_name }}）的{{ deadline_name }}将于{{ deadline_date }}"
        "届满，请在期限内办理。期限的计算依据见案件详情。",
    ),
    # 听证通知 — time and place are in the served notice; APL art. 64.
    Template(
        Kind.HEARING_SCHEDULED, SMS, 1,
        "您有一份听证通知，请登录 {{ link }} 查看听证的时间和地点。",
    ),
    Template(
        Kind.HEARING_SCHEDULED, EMAIL, 1,
        subject="【听证通知】案件{{ case_code }}的听证已安排",
        body=_email_body(
            "{{ agency_name }}已就案件{{ case_code }}安排听证，时间为{{ hearing_at }}。"
            "听证地点、参加方式，以及委托代理人、申请回避等权利，请登录平台查看听证通知书。",
            action="请登录平台查看",
        ),
    ),
    Template(
        Kind.HEARING_SCHEDULED, INBOX, 1,
        subject="听证通知：{{ hearing_at }}",
        body="{{ agency_name }}定于{{ hearing_at }}在{{ hearing_place }}就案件 {{ case_code }} "
        "举行听证。您可以委托一至二名代理人参加，并可以申请主持人回避。听证通知书已存入您的邮箱。",
    ),
    # Version 2 of the hearing texts: sent when the agency records the hearing (its date, the
    # time where given, the place), whether or not a 听证通知书 is served through the mailbox.
    Template(
        Kind.HEARING_SCHEDULED, EMAIL, 2,
        subject="【听证通知】案件{{ case_code }}的听证定于{{ hearing_date }}",
        body=_email_body(
            "{{ agency_name }}已就案件{{ case_code }}安排听证，"
            "定于{{ hearing_date }} {{ hearing_time }}举行。"
            "听证地点、参加方式，以及委托代理人、申请回避等权利，请登录平台在案件详情中查看。",
            action="请登录平台查看",
        ),
    ),
    Template(
        Kind.HEARING_SCHEDULED, INBOX, 2,
        subject="听证通知：{{ hearing_date }}",
        body="{{ agency_name }}定于{{ hearing_date }} {{ hearing_time }}在{{ hearing_place }}"
        "就案件 {{ case_code }} "
        "举行听证。您可以委托一至二名代理人参加，并可以申请主持人回避。详见案件详情。",
    ),
    # 缴款确认 — no amount outside the portal.
    Template(
        Kind.PAYMENT_CONFIRMED, SMS, 1,
        "您在行政执法服务平台的一笔缴款已确认，请登录 {{ link }} 查看。",
    ),
    Template(
        Kind.PAYMENT_CONFIRMED, EMAIL, 1,
        subject="【缴款确认】案件{{ case_code }}的缴款已确认",
        body=_email_body(
            "{{ agency_name }}办理的案件{{ case_code }}的缴款已由支付平台确认。"
            "财政电子票据开具后将存入您的电子送达邮箱。"
            "为保护您的信息，本邮件不显示金额。",
            action="请登录平台查看",
        ),
    ),
    Template(
        Kind.PAYMENT_CONFIRMED, INBOX, 1,
        subject="缴款已确认",
        body="案件 {{ case_code }}（{{ agency_name }}）的缴款 {{ amount_fen }} 已于{{ paid_at }}"
        "完成，支付平台已确认。财政电子票据开具后将存入您的邮箱。",
    ),
    # 财政电子票据 — FJ art. 20, GD art. 32.
    Template(
        Kind.RECEIPT_ISSUED, SMS, 1,
        "您的财政电子票据已开具并存入行政执法服务平台邮箱，请登录 {{ link }} 查看和下载。",
    ),
    Template(
        Kind.RECEIPT_ISSUED, EMAIL, 1,
        subject="【电子票据】案件{{ case_code }}的财政电子票据已开具",
        body=_email_body(
            "{{ agency_name }}已为案件{{ case_code }}的缴款开具财政电子票据。"
            "票据已存入您的电子送达邮箱，登录后可以查看、下载和查验。",
            action="请登录平台查看",
        ),
    ),
    Template(
        Kind.RECEIPT_ISSUED, INBOX, 1,
        subject="财政电子票据已开具",
        body="案件 {{ case_code }}（{{ agency_name }}）的缴款 {{ amount_fen }} 已开具财政电子票据"
        "（票据号码 {{ receipt_number }}），可以在邮箱中查看、下载和查验。",
    ),
    # Version 2 of the payment and receipt texts: receipts are listed with the fine they pay
    # (我的罚款), not in the e-service mailbox, which holds served documents only.
    Template(
        Kind.PAYMENT_CONFIRMED, EMAIL, 2,
        subject="【缴款确认】案件{{ case_code }}的缴款已确认",
        body=_email_body(
            "{{ agency_name }}办理的案件{{ case_code }}的缴款已由支付平台确认。"
            "财政电子票据开具后，可以在平台“我的罚款”中查看和下载。"
            "为保护您的信息，本邮件不显示金额。",
            action="请登录平台查看",
        ),
    ),
    Template(
        Kind.PAYMENT_CONFIRMED, INBOX, 2,
        subject="缴款已确认",
        body="案件 {{ case_code }}（{{ agency_name }}）的缴款 {{ amount_fen }} 已于{{ paid_at }}"
        "完成，支付平台已确认。财政电子票据开具后，可以在“我的罚款”中查看和下载。",
    ),
    Template(
        Kind.RECEIPT_ISSUED, SMS, 2,
        "您的财政电子票据已开具，请登录 {{ link }} 在“我的罚款”中查看和下载。",
    ),
    Template(
        Kind.RECEIPT_ISSUED, EMAIL, 2,
        subject="【电子票据】案件{{ case_code }}的财政电子票据已开具",
        body=_email_body(
            "{{ agency_name }}已为案件{{ case_code }}的缴款开具财政电子票据。"
            "登录平台后，可以在“我的罚款”中查看、下载和查验票据。",
            action="请登录平台查看",
        ),
    ),
    Template(
        Kind.RECEIPT_ISSUED, INBOX, 2,
        subject="财政电子票据已开具",
        body="案件 {{ case_code }}（{{ agency_name }}）的缴款 {{ amount_fen }} 已开具财政电子票据"
        "（票据号码 {{ receipt_number }}），可以在“我的罚款”中查看、下载和查验。",
    ),
    # 电子送达确认 — also a security notice: someone else may have done it (SECURITY.md 7.5.1).
    Template(
        Kind.CONSENT_SIGNED, SMS, 1,
        "您已在行政执法服务平台签署电子送达确认书，此后文书可以电子送达至平台邮箱。"
        "如非本人操作，请立即登录 {{ link }} 处理。",
    ),
    Template(
        Kind.CONSENT_SIGNED, EMAIL, 1,
        subject="【电子送达】您已签署电子送达确认书",
        body=_email_body(
            "您已于{{ consent_date }}在行政执法服务平台签署电子送达确认书。"
            "此后，执法机关可以将文书电子送达至您在平台的电子送达邮箱，文书到达邮箱的时间即为送达时间。"
            "您可以随时登录平台撤回确认。",
            action="如非本人操作，请立即登录平台查看并处理",
        ),
    ),
    Template(
        Kind.CONSENT_SIGNED, INBOX, 1,
        subject="已签署电子送达确认书",
        body="您已于{{ consent_date }}签署电子送达确认书。此后文书可以电子送达至本平台邮箱，"
        "到达邮箱的时间即为送达时间。您可以随时撤回确认。",
    ),
    Template(
        Kind.CONSENT_REVOKED, SMS, 1,
        "您已撤回行政执法服务平台的电子送达确认，此后文书将以其他方式送达。"
        "如非本人操作，请立即登录 {{ link }} 处理。",
    ),
    Template(
        Kind.CONSENT_REVOKED, EMAIL, 1,
        subject="【电子送达】您已撤回电子送达确认",
        body=_email_body(
            "您已于{{ consent_date }}撤回在行政执法服务平台的电子送达确认。"
            "此后，执法机关将以其他方式向您送达文书；撤回前已经完成的电子送达仍然有效。",
            action="如非本人操作，请立即登录平台查看并处理",
        ),
    ),
    Template(
        Kind.CONSENT_REVOKED, INBOX, 1,
        subject="已撤回电子送达确认",
        body="您已于{{ consent_date }}撤回电子送达确认。此后文书将以其他方式送达；"
        "撤回前已经完成的电子送达仍然有效。",
    ),
    # 数据异议答复 — GD art. 49, FJ art. 15: the answer itself is read after login.
    Template(
        Kind.OBJECTION_ANSWERED, SMS, 1,
        "执法机关已答复您在行政执法服务平台提出的数据异议，请登录 {{ link }} 查看。",
    ),
    Template(
        Kind.OBJECTION_ANSWERED, EMAIL, 1,
        subject="【数据异议】{{ agency_name }}已答复您提出的数据异议",
        body=_email_body(
            "{{ agency_name }}已答复您通过行政执法服务平台提出的数据异议。"
            "答复内容和处理结果请登录平台，在“我的数据异议”中查看。",
            action="请登录平台查看",
        ),
    ),
    Template(
        Kind.OBJECTION_ANSWERED, INBOX, 1,
        subject="数据异议已答复",
        body="{{ agency_name }}已于{{ answered_at }}答复您提出的数据异议，"
        "答复内容和处理结果见“我的数据异议”。",
    ),
)
"""All published templates; the highest version per kind and channel is the current one."""

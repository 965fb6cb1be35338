"""Templates, the per-channel whitelist and the privacy guard.

Proves: every kind has a Chinese text for every channel, with its version recorded; SMS and
e-mail carry no ID number, phone number or amount whatever the caller passes (unknown keys are
refused by name, and values passed off under an allowed key are refused by shape or by the
scan of the rendered text); the link is always the portal's URL plus a page behind the login;
and the catalogue cannot ship a template that breaks the channel ceilings.
(PIPL data minimisation; ASVS v5.0.0-14.2.6; LAW.md: "the notification is not the service".)
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifications import (
    LINK_PATHS,
    TEMPLATES,
    ChannelKind,
    ContextRejected,
    Kind,
    Message,
    PersonalDataRejected,
    Renderer,
    Template,
    TemplateError,
    UnknownTemplate,
    dedupe_key,
)
from notifications.messages import CHANNEL_CEILINGS
from notifications.rendering import personal_data_in
from tests.notifications.conftest import PORTAL_URL, sample_message

OUTSIDE = [ChannelKind.SMS, ChannelKind.EMAIL]
ID_NUMBER = "11010519491231002X"  # the GB 11643 standard's own example
SMUGGLED_VALUES = [ID_NUMBER, "13800138000", "+86 138-0013-8000", "罚款500元", "¥1,234.50", "伍佰元"]


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("channel", list(ChannelKind))
def test_every_kind_renders_for_every_channel(
    renderer: Renderer, kind: Kind, channel: ChannelKind
) -> None:
    rendered = renderer.render(sample_message(renderer, kind, channel))
    current = max(t.version for t in TEMPLATES if t.kind is kind and t.channel is channel)
    assert rendered.template_version == renderer.current_version(kind, channel) == current
    assert rendered.body.strip()
    assert (rendered.subject is None) == (channel is ChannelKind.SMS)
    if channel is not ChannelKind.INBOX:
        # The link needs a login: the public URL plus a fixed path, no query, no token.
        link = PORTAL_URL + LINK_PATHS[kind]
        assert f"{link} " in rendered.body or f"{link}\n" in rendered.body
        assert "?" not in rendered.body and "token" not in rendered.body.lower()
        assert personal_data_in(f"{rendered.subject}{rendered.body}") == frozenset()


def test_sms_carries_only_what_happened_and_where_to_log_in(renderer: Renderer) -> None:
    arrived = renderer.render(sample_message(renderer, Kind.DOCUMENT_ARRIVED, ChannelKind.SMS))
    assert arrived.body == (
        "您在行政执法服务平台的电子送达邮箱收到一份新文书，"
        "请登录 https://portal.example.gov.cn/mailbox 查看。"
    )
    reminder = renderer.render(sample_message(renderer, Kind.DEADLINE_REMINDER, ChannelKind.SMS))
    assert reminder.body == (
        "您在行政执法服务平台有一项期限将于2025年3月5日届满，"
        "请登录 https://portal.example.gov.cn/cases 查看。"
    )


@pytest.mark.parametrize("kind", list(Kind))
def test_channel_ceilings_hold_for_every_kind(renderer: Renderer, kind: Kind) -> None:
    assert renderer.variables(kind, ChannelKind.SMS) <= {"deadline_date"}
    email = renderer.variables(kind, ChannelKind.EMAIL)
    assert not email & {"amount_fen", "document_title", "hearing_place", "receipt_number"}


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("channel", OUTSIDE)
@pytest.mark.parametrize(
    ("key", "value"),
    [("id_number", ID_NUMBER), ("phone", "13800138000"), ("amount_fen", 50000),
     ("party_name", "张三"), ("link", "https://evil.example/login?token=abc")],
)
def test_unknown_keys_are_refused_by_name(
    renderer: Renderer, kind: Kind, channel: ChannelKind, key: str, value: object
) -> None:
    allowed = sample_message(renderer, kind, channel)
    message = dataclasses.replace(allowed, context={**allowed.context, key: value})
    with pytest.raises(ContextRejected) as caught:
        renderer.render(message)
    assert caught.value.unknown == (key,)
    assert str(value) not in str(caught.value)  # the error names keys, never values


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("channel", OUTSIDE)
@pytest.mark.parametrize("value", SMUGGLED_VALUES)
def test_personal_data_under_an_allowed_key_never_reaches_the_text(
    renderer: Renderer, kind: Kind, channel: ChannelKind, value: str
) -> None:
    for key in renderer.variables(kind, channel):
        message = sample_message(renderer, kind, channel, **{key: value})
        with pytest.raises(ContextRejected):
            renderer.render(message)


@given(text=st.text(min_size=1, max_size=30))
def test_any_document_type_either_is_refused_or_leaves_the_email_clean(
    renderer: Renderer, text: str
) -> None:
    message = sample_message(renderer, Kind.DOCUMENT_ARRIVED, ChannelKind.EMAIL, document_type=text)
    try:
        rendered = renderer.render(message)
    except ContextRejected:
        return
    assert personal_data_in(f"{rendered.subject}\n{rendered.body}") == frozenset()
    assert rendered.body.count("://") == 1  # only the portal link


def test_scan_names_what_it_found_without_the_value(renderer: Renderer) -> None:
    message = sample_message(
        renderer, Kind.DOCUMENT_ARRIVED, ChannelKind.EMAIL, document_type="缴款通知500元"
    )
    with pytest.raises(PersonalDataRejected) as caught:
        renderer.render(message)
    assert caught.value.found == ("amount",)
    assert "500" not in str(caught.value)


LEGACY_CODE = "7CNY-4RMB-2K9Q-P"
"""A case code issued before codes holding CNY or RMB between digits were drawn again."""


CASE_KINDS = [Kind.DOCUMENT_ARRIVED, Kind.DEADLINE_REMINDER, Kind.HEARING_SCHEDULED, Kind.PAYMENT_CONFIRMED,
              Kind.RECEIPT_ISSUED]
"""The kinds whose e-mail shows the case code."""


@pytest.mark.parametrize("kind", CASE_KINDS)
def test_a_code_holding_cny_or_rmb_is_no_amount(renderer: Renderer, kind: Kind) -> None:
    """Its case's e-mails go out (SMS never shows a case code), the code as issued; an amount
    beside it is still refused. A refused notice aborts the act that queues it, so such a case
    could be served nothing (LAW.md: "the notification is not the service")."""
    channel = ChannelKind.EMAIL
    rendered = renderer.render(sample_message(renderer, kind, channel, case_code=LEGACY_CODE))
    assert LEGACY_CODE in f"{rendered.subject}{rendered.body}"
    if kind is Kind.DOCUMENT_ARRIVED:
        smuggled = sample_message(renderer, kind, channel, case_code=LEGACY_CODE, document_type="罚款500元")
        with pytest.raises(PersonalDataRejected) as caught:
            renderer.render(smuggled)
        assert caught.value.found == ("amount",)


@pytest.mark.parametrize(("code", "found"), [(ID_NUMBER, "id_number"), ("A13800138000", "phone_number")])
def test_an_id_or_mobile_number_passed_as_a_code_is_still_refused(
    renderer: Renderer, code: str, found: str
) -> None:
    message = sample_message(renderer, Kind.DOCUMENT_ARRIVED, ChannelKind.EMAIL, case_code=code)
    with pytest.raises(PersonalDataRejected) as caught:
        renderer.render(message)
    assert caught.value.found == (found,)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (ID_NUMBER, {"id_number"}),
        ("身份证 110105194912310021 号", set()),  # wrong check digit: a long number, not an ID
        ("110105491231002", {"id_number"}),  # 15-digit form
        ("电话13800138000", {"phone_number"}),
        ("+86 138 0013 8000", {"phone_number"}),
        ("金额 ¥20", {"amount"}),
        ("人民币贰佰元", {"amount"}),
        ("2025年3月5日 09:30（北京时间） 案件 FJ-FZ-2025-000123", set()),
        ("https://127.0.0.1:8000/mailbox", set()),
    ],
)
def test_personal_data_scan(text: str, found: set[str]) -> None:
    assert personal_data_in(text) == found


def test_missing_keys_and_bad_shapes_are_refused(renderer: Renderer) -> None:
    message = sample_message(renderer, Kind.DEADLINE_REMINDER, ChannelKind.SMS)
    without_date = Message(message.id, message.kind, message.channel, message.recipient, {}, "k")
    with pytest.raises(ContextRejected) as caught:
        renderer.render(without_date)
    assert caught.value.missing == ("deadline_date",)
    for bad in ("next week", datetime(2025, 3, 5, tzinfo=UTC), 20250305):
        wrong = sample_message(renderer, Kind.DEADLINE_REMINDER, ChannelKind.SMS, deadline_date=bad)
        with pytest.raises(ContextRejected) as caught:
            renderer.render(wrong)
        assert caught.value.invalid == ("deadline_date",)
    naive = sample_message(
        renderer, Kind.HEARING_SCHEDULED, ChannelKind.EMAIL, hearing_at=datetime(2025, 3, 20, 9)
    )
    with pytest.raises(ContextRejected):
        renderer.render(naive)
    for code in ("张三", "FJ 2025", "x" * 41):
        with pytest.raises(ContextRejected):
            renderer.render(
                sample_message(renderer, Kind.DOCUMENT_ARRIVED, ChannelKind.EMAIL, case_code=code)
            )


def test_inbox_notice_after_login_may_carry_amount_place_and_title(renderer: Renderer) -> None:
    paid = renderer.render(sample_message(renderer, Kind.PAYMENT_CONFIRMED, ChannelKind.INBOX))
    assert "1,234.50 元" in paid.body
    assert "2025年2月20日 10:15（北京时间）" in paid.body  # 02:15 UTC is 10:15 in China
    hearing = renderer.render(sample_message(renderer, Kind.HEARING_SCHEDULED, ChannelKind.INBOX))
    assert "福州市鼓楼区某某路1号三楼听证室" in hearing.body
    arrived = renderer.render(sample_message(renderer, Kind.DOCUMENT_ARRIVED, ChannelKind.INBOX))
    assert arrived.subject == "新文书：关于某某公司违法行为的行政处罚决定书"


def test_context_read_back_from_a_json_row_renders_the_same(renderer: Renderer) -> None:
    typed = sample_message(renderer, Kind.HEARING_SCHEDULED, ChannelKind.EMAIL)
    as_json = {
        key: value.isoformat() if isinstance(value, date) else value
        for key, value in typed.context.items()
    }
    row = Message(
        id="7", kind="hearing_scheduled", channel="email",  # type: ignore[arg-type]
        recipient=typed.recipient, context=as_json, dedupe_key=typed.dedupe_key,
    )
    assert row.kind is Kind.HEARING_SCHEDULED and row.channel is ChannelKind.EMAIL
    assert renderer.render(row) == renderer.render(typed)


def test_message_is_frozen_and_validated() -> None:
    context = {"deadline_date": date(2025, 3, 5)}
    message = Message("1", Kind.DEADLINE_REMINDER, ChannelKind.SMS, "13800138000", context, "k")
    context["deadline_date"] = date(2030, 1, 1)
    assert message.context["deadline_date"] == date(2025, 3, 5)
    with pytest.raises(TypeError):
        message.context["x"] = 1  # type: ignore[index]
    with pytest.raises(UnknownTemplate):
        Message("1", "fine_imposed", ChannelKind.SMS, "1", {}, "k")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dedupe_key"):
        Message("1", Kind.DEADLINE_REMINDER, ChannelKind.SMS, "1", {}, "")
    assert dedupe_key("evt-42", ChannelKind.SMS) == "evt-42:sms"


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://portal.example.gov.cn", True),
        ("https://portal.example.gov.cn/enforcement/", True),
        ("http://localhost:8000", True),
        ("http://127.0.0.1:8000", True),
        ("http://testserver", True),
        ("http://portal.example.gov.cn", False),
        ("https://portal.example.gov.cn/?session=abc", False),
        ("https://user:pw@portal.example.gov.cn", False),
        ("javascript:alert(1)", False),
    ],
)
def test_portal_url_is_a_plain_https_base(url: str, ok: bool) -> None:
    if ok:
        assert Renderer(url).portal_url == url.rstrip("/")
    else:
        with pytest.raises(ValueError):
            Renderer(url)


def test_receipt_texts_send_the_party_to_its_fines_not_the_service_mailbox(renderer: Renderer) -> None:
    # Receipts are listed with the fine they pay (GD art. 32); the e-service mailbox holds served
    # documents only, so a text pointing there sends the party to the wrong page.
    for kind in (Kind.RECEIPT_ISSUED, Kind.PAYMENT_CONFIRMED):
        for channel in ChannelKind:
            rendered = renderer.render(sample_message(renderer, kind, channel))
            text = f"{rendered.subject or ''}{rendered.body}"
            assert "邮箱" not in text, (kind, channel)
            if kind is Kind.RECEIPT_ISSUED:
                assert "我的罚款" in text, channel


def test_old_versions_stay_renderable_and_new_ones_become_current(renderer: Renderer) -> None:
    v2 = Template(Kind.DOCUMENT_ARRIVED, ChannelKind.SMS, 2, "新文书已送达，请登录 {{ link }} 查看。")
    versioned = Renderer(PORTAL_URL, (*TEMPLATES, v2))
    message = sample_message(versioned, Kind.DOCUMENT_ARRIVED, ChannelKind.SMS)
    assert versioned.render(message).template_version == 2
    assert versioned.render(message, version=1) == renderer.render(message)
    with pytest.raises(UnknownTemplate):
        versioned.render(message, version=3)
    with pytest.raises(UnknownTemplate):
        versioned.variables("fine_imposed", ChannelKind.SMS)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "template",
    [
        Template(Kind.PAYMENT_CONFIRMED, ChannelKind.SMS, 2, "已缴 {{ amount_fen }}，{{ link }}"),
        Template(Kind.DOCUMENT_ARRIVED, ChannelKind.EMAIL, 2, "{{ document_title }}", subject="x"),
        Template(Kind.DOCUMENT_ARRIVED, ChannelKind.SMS, 2, "{{ party_name }}"),
        Template(Kind.DOCUMENT_ARRIVED, ChannelKind.SMS, 2, "x", subject="not for SMS"),
        Template(Kind.DOCUMENT_ARRIVED, ChannelKind.SMS, 1, "defined twice"),
    ],
)
def test_catalogue_breaking_the_policy_fails_at_start_up(template: Template) -> None:
    with pytest.raises(TemplateError):
        Renderer(PORTAL_URL, (*TEMPLATES, template))


def test_incomplete_catalogue_fails_at_start_up() -> None:
    with pytest.raises(UnknownTemplate, match="consent_revoked/sms"):
        Renderer(PORTAL_URL, [t for t in TEMPLATES if t.name != "consent_revoked/sms/v1"])


def test_ceilings_cover_every_channel() -> None:
    assert set(CHANNEL_CEILINGS) == set(ChannelKind)

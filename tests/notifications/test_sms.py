"""The HTTP SMS client's request and its reading of every gateway answer; the sandbox's checks.

Proves: the client sends the body only (no subject), the signature and an opaque reference
(not the raw dedupe key) with the API key as a bearer token; each status and network error
maps to the documented side of temporary/permanent (429/5xx/timeouts temporary, 401/403 our
misconfiguration, 4xx otherwise permanent); a gateway's free-text error never reaches the log
line; the sandbox refuses a wrong key, records to a JSON-lines file and answers only its path.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from notifications import (
    ChannelMisconfigured,
    ChannelUnavailable,
    DeliveryDeferred,
    DeliveryError,
    DeliveryResult,
    DeliveryStatus,
    HttpSmsChannel,
    MessageRejected,
    Outgoing,
    RecipientRejected,
    Rendered,
    SandboxSmsGateway,
    SmsGatewayConfig,
    sandbox_channel,
)
from notifications.channels.base import message_reference
from notifications.channels.sms_sandbox import SANDBOX_PATH

CONFIG = SmsGatewayConfig(
    url="https://sms.example.gov.cn/v1/messages", api_key="k-123", sender_id="106900",
    signature_name="行政执法平台",
)
TEXT = Rendered(subject="不应发送的标题", body="您有一份新文书，请登录 https://p.example.cn/mailbox 查看。",
                template_version=1)


def answering(response: httpx.Response | Exception) -> tuple[HttpSmsChannel, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if isinstance(response, Exception):
            raise response
        return response

    return HttpSmsChannel(CONFIG, transport=httpx.MockTransport(handle)), seen


async def test_request_carries_body_signature_and_opaque_reference() -> None:
    channel, seen = answering(httpx.Response(202, json={"id": "gw-1"}))
    async with channel:
        result = await channel.send(TEXT, "13800138000", dedupe_key="evt-9:sms")
    assert result == DeliveryResult.delivered("gw-1", "HTTP 202")
    [request] = seen
    assert request.headers["Authorization"] == "Bearer k-123"
    assert json.loads(request.content) == {
        "to": "13800138000",
        "sender_id": "106900",
        "signature": "行政执法平台",
        "text": TEXT.body,
        "reference": message_reference("evt-9:sms"),
    }
    assert b"evt-9" not in request.content


@pytest.mark.parametrize(
    ("answer", "expected", "status"),
    [
        (httpx.Response(429, json={"error": "rate_limited"}), DeliveryDeferred, 429),
        (httpx.Response(408), DeliveryDeferred, 408),
        (httpx.Response(500), ChannelUnavailable, 500),
        (httpx.Response(503, text="<html>busy</html>"), ChannelUnavailable, 503),
        (httpx.Response(401, json={"error": "unauthorized"}), ChannelMisconfigured, 401),
        (httpx.Response(403), ChannelMisconfigured, 403),
        (httpx.Response(302, headers={"Location": "/login"}), ChannelMisconfigured, 302),
        (httpx.Response(422, json={"error": "invalid_recipient"}), RecipientRejected, 422),
        (httpx.Response(400, json={"error": "bad_request"}), MessageRejected, 400),
        (httpx.Response(422, json={"error": "invalid_message"}), MessageRejected, 422),
    ],
)
async def test_status_mapping(
    answer: httpx.Response, expected: type[DeliveryError], status: int
) -> None:
    channel, _ = answering(answer)
    async with channel:
        result = await channel.send(TEXT, "13800138000", dedupe_key="k")
    assert type(result.error) is expected
    assert result.error.status_code == status
    assert result.status is (
        DeliveryStatus.TEMPORARY_FAILURE if status in (408, 429) or status >= 500
        else DeliveryStatus.PERMANENT_FAILURE
    )


@pytest.mark.parametrize(
    "error",
    [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow"), httpx.ConnectError("refused"),
     httpx.RemoteProtocolError("reset")],
)
async def test_network_errors_are_temporary(error: Exception) -> None:
    channel, _ = answering(error)
    async with channel:
        result = await channel.send(TEXT, "13800138000", dedupe_key="k")
    assert result.status is DeliveryStatus.TEMPORARY_FAILURE
    assert isinstance(result.error, ChannelUnavailable)


async def test_gateway_free_text_never_reaches_the_log_line() -> None:
    echo = httpx.Response(400, json={"error": "number 13800138000 is blocked"})
    channel, _ = answering(echo)
    async with channel:
        result = await channel.send(TEXT, "13800138000", dedupe_key="k")
    assert result.detail == "HTTP 400"


async def test_sandbox_refuses_a_wrong_api_key() -> None:
    gateway = SandboxSmsGateway(api_key="right")
    config = SmsGatewayConfig(
        url=f"http://sandbox{SANDBOX_PATH}", api_key="wrong", sender_id="s", signature_name="签名测试",
    )
    async with HttpSmsChannel(config, transport=httpx.ASGITransport(app=gateway)) as channel:
        result = await channel.send(TEXT, "13800138000", dedupe_key="k")
    assert isinstance(result.error, ChannelMisconfigured)
    assert gateway.sent == []


async def test_sandbox_records_to_a_json_lines_file(tmp_path: Path) -> None:
    record = tmp_path / "sms.jsonl"
    gateway = SandboxSmsGateway(api_key="key", record_to=record)
    async with sandbox_channel(gateway) as channel:
        first = await channel.send(TEXT, "13800138000", dedupe_key="a")
        await channel.send(TEXT, "+8613900139000", dedupe_key="b")
        await channel.send(TEXT, "13800138000", dedupe_key="a")  # a repeat is not sent again
    lines = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
    assert [line["to"] for line in lines] == ["13800138000", "+8613900139000"]
    assert lines[0]["id"] == first.provider_message_id
    assert lines[0]["text"] == TEXT.body and lines[0]["signature"] == "行政执法平台"


async def test_a_batch_sent_again_reaches_each_handset_once() -> None:
    """What lets the worker record a batch after sending all of it: after a crash the batch
    goes again, and the gateway answers each repeat with the id it gave the first time."""
    gateway = SandboxSmsGateway(api_key="key")
    batch = [Outgoing(TEXT, "13800138000", "a"), Outgoing(TEXT, "not-a-number", "b"),
             Outgoing(TEXT, "13900139000", "c")]
    async with sandbox_channel(gateway) as channel:
        first = await channel.send_many(batch)
        again = await channel.send_many(batch)
    assert [result.status for result in first] == [
        DeliveryStatus.DELIVERED, DeliveryStatus.PERMANENT_FAILURE, DeliveryStatus.DELIVERED]
    assert isinstance(first[1].error, RecipientRejected)
    assert [r.provider_message_id for r in again] == [r.provider_message_id for r in first]
    assert [sms.to for sms in gateway.sent] == ["13800138000", "13900139000"]


async def test_sandbox_answers_only_its_contract() -> None:
    gateway = SandboxSmsGateway(api_key="key")
    headers = {"Authorization": "Bearer key"}
    transport = httpx.ASGITransport(app=gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        assert (await http.get(SANDBOX_PATH, headers=headers)).status_code == 405
        assert (await http.post("/other", headers=headers)).status_code == 404
        assert (await http.post(SANDBOX_PATH, headers=headers, content=b"{")).status_code == 400
        assert (await http.post(SANDBOX_PATH, headers=headers, json={"to": "1"})).status_code == 400
        big = b"x" * (64 * 1024 + 1)
        assert (await http.post(SANDBOX_PATH, headers=headers, content=big)).status_code == 413
        long_text = {"to": "13800138000", "sender_id": "s", "signature": "签名测试",
                     "text": "长" * 501, "reference": "r"}
        answer = await http.post(SANDBOX_PATH, headers=headers, json=long_text)
        assert answer.status_code == 422 and answer.json() == {"error": "invalid_message"}
    assert gateway.sent == []


def test_config_is_checked_and_hides_the_key() -> None:
    assert "k-123" not in repr(CONFIG)
    for broken in (
        {"url": "ftp://sms.example.cn"},
        {"api_key": ""},
        {"signature_name": "签"},
        {"timeout": 0},
    ):
        values = {"url": CONFIG.url, "api_key": "k", "sender_id": "s",
                  "signature_name": "行政执法平台", **broken}
        with pytest.raises(ChannelMisconfigured):
            SmsGatewayConfig(**values)  # type: ignore[arg-type]


async def test_subject_is_not_sent_by_sms() -> None:
    gateway = SandboxSmsGateway(api_key="key")
    async with sandbox_channel(gateway) as channel:
        result = await channel.send(TEXT, "13800138000", dedupe_key="k")
    assert result.status is DeliveryStatus.DELIVERED
    [sms] = gateway.sent
    assert sms.text == TEXT.body

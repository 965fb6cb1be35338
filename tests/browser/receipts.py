"""Browser steps shared by the payment journeys: pay a fine on the phone and check its receipt."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

from playwright.async_api import Page, expect
from pypdf import PdfReader

from tests.browser.conftest import (
    Phone,
    in_first_screen,
    wait_for_link,
)


async def pay_and_open_the_receipt(phone: Phone, page: Page, fine_id: str) -> dict[str, object]:
    """From the fine page: 缴款 on the platform, back on the outcome page until 已缴清 and the
    sealed receipt; download it. Returns the receipt data the sealed PDF carries."""
    pay = page.get_by_role("button", name="前往支付平台缴款")
    await in_first_screen(pay)
    await pay.click()
    await page.wait_for_url("**/sandbox-pay/pay/**")
    await expect(page.locator("main")).to_contain_text("开发环境专用")
    await page.get_by_role("button", name="确认支付").click()
    await page.wait_for_url(f"**/fines/{fine_id}/return")
    await phone.scan(page)  # 支付结果确认中 or already 已缴清: the platform's callback races the return
    receipt = page.get_by_role("link", name="下载财政电子票据（PDF）")
    await wait_for_link(page, receipt, phone.javascript)
    await expect(page.locator("#payment-status")).to_contain_text("已缴清")
    await in_first_screen(page.locator("#payment-status").get_by_text("已缴清"))
    await in_first_screen(receipt)
    await phone.scan(page)
    async with page.expect_download() as download:
        await receipt.click()
    pdf = await asyncio.to_thread(Path(await (await download.value).path()).read_bytes)
    assert pdf.startswith(b"%PDF-") and b"/ByteRange" in pdf  # sealed (PAdES)
    [data] = PdfReader(io.BytesIO(pdf)).attachments["receipt.json"]
    parsed: dict[str, object] = json.loads(data)
    return parsed


async def verify_the_receipt(phone: Phone, page: Page, total: str) -> None:
    """The receipt's 查验 link: the public check says the seal is valid and counts the check."""
    await page.get_by_role("link", name="查验").first.click()
    await page.wait_for_url("**/receipts/verify?**")
    await in_first_screen(page.get_by_text("电子印章（PDF）：有效"))
    main = page.locator("main")
    await expect(main).to_contain_text("已被查验 1 次")
    await expect(main).to_contain_text(total)
    await phone.scan(page)

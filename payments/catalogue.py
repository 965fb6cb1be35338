"""Every Chinese word the payments library puts before a person, in one place.

Names in code are English; what a party, a payer or an operator reads is Simplified Chinese
and lives here (STYLE.md, convention 14): the amount-due explanation, the fiscal e-receipt's
labels, the sandbox platform's pay page and the portal-facing wording of callback refusals.
Dates are written the way Chinese legal documents write them (2026年12月9日, no zero padding).
"""

from __future__ import annotations

from datetime import date

__all__ = [
    "QUOTE",
    "RECEIPT",
    "RECEIPT_ITEMS",
    "REFUSAL",
    "SANDBOX_PAGE",
    "SUSPENSION_KIND",
    "chinese_date",
]


def chinese_date(day: date) -> str:
    """``date(2026, 12, 9)`` → ``"2026年12月9日"``."""
    return f"{day.year}年{day.month}月{day.day}日"


SUSPENSION_KIND = {
    "reconsideration": "复议期间",
    "lawsuit": "诉讼期间",
    "calendar_pending": "放假调休安排公布前",
}

QUOTE = {
    "no_surcharge": "本罚款依法不加处罚款。",
    "not_due": ("缴款期限至{due}。到期不缴纳的，每日按罚款数额的3%加处罚款，加处罚款的数额不超过罚款数额。"),
    "accruing": "加处罚款按罚款数额的3%每日计算，自{start}起计，共{days}日，不超过罚款数额",
    "capped": "（已达罚款数额，不再增加）",
    "suspended_closed": "{kind}（{start}至{end}）不计",
    "suspended_open": "{kind}（{start}起）不计",
    "deferred": "经批准暂缓缴纳，缴款期限延至{due}。",
    "instalment": "第{n}期（缴款期限{due}，金额{amount}元）：",
    "settled_line": "已缴清。",
    "valid_until": "以上为{on}应缴金额，有效期至{on}24:00（北京时间）。",
    "legal_basis": (
        "依据：《中华人民共和国行政处罚法》第七十二条、第七十三条，《中华人民共和国行政强制法》第四十五条。"
    ),
}

RECEIPT = {
    "title": "财政电子票据",
    "title_reversal": "财政电子票据（红冲）",
    "code": "票据代码",
    "number": "票据号码",
    "check_code": "校验码",
    "issued_at": "开票日期",
    "payer": "交款人",
    "payer_id": "交款人代码",
    "item": "项目名称",
    "amount": "金额（元）",
    "total_figures": "合计（小写）",
    "total_capital": "合计（大写）",
    "issuer": "开票单位",
    "platform_serial": "缴款流水号",
    "payment_code": "缴款码",
    "original": "原票据代码/号码",
    "verify": "扫码查验",
    "verify_link": "查验网址",
    "note_reversal": "本票据为红字冲销票据，冲销原票据全部金额。",
    "note": "本票据由行政执法公共服务平台开具，可扫描二维码或凭票据代码、票据号码、校验码查验。",
    "attachment": "票据结构化数据",
}

RECEIPT_ITEMS = {
    "fine": "罚没收入—罚款",
    "surcharge": "罚没收入—加处罚款",
}

REFUSAL = {
    "bad_signature": "签名无效",
    "stale_timestamp": "时间戳超出允许范围",
    "malformed": "报文格式错误",
    "replayed": "重复的请求随机数",
    "unknown_platform": "未知的支付平台",
    "platform_mismatch": "支付平台与订单不符",
    "unknown_payment_code": "未知的缴款码或订单",
    "amount_mismatch": "金额与缴款当日应缴金额不符",
    "illegal_transition": "订单状态不允许此变更",
}

SANDBOX_PAGE = {
    "title": "沙箱支付平台",
    "banner": "开发环境专用：本页面模拟支付平台，不会发生真实扣款。",
    "payment_code": "缴款码",
    "amount": "金额",
    "order": "订单号",
    "pay": "确认支付",
    "cancel": "取消",
    "paid": "支付成功",
    "cancelled": "已取消支付",
    "expired": "订单已超过有效期，请返回重新获取应缴金额。",
    "not_found": "订单不存在",
    "not_payer": "未找到该订单：请登录行政执法服务平台，以缴款人身份从“我的罚款”进入支付。",
    "closed": "订单已关闭",
    "back": "返回",
    "yuan": "元",
}

"""The message catalogue: every Chinese sentence the code (not a template) shows a user.

Keyed by the stable machine codes used in errors and flash messages, so the API speaks in
codes and the pages speak Chinese from this one place.
"""

from __future__ import annotations

TITLES: dict[str, str] = {
    "bad_request": "请求有误",
    "validation_failed": "填写的内容有误",
    "unauthenticated": "请先登录",
    "forbidden": "无权进行此操作",
    "csrf_failed": "页面已过期，请返回后刷新页面再提交",
    "not_found": "页面不存在",
    "method_not_allowed": "不支持此请求方式",
    "conflict": "操作与当前状态冲突",
    "payload_too_large": "提交的内容过大",
    "unsupported_media_type": "不支持的文件或内容类型",
    "rate_limited": "操作过于频繁，请稍后再试",
    "internal_error": "系统暂时无法处理您的请求",
    "invalid_encoding": "提交的内容不是有效的 UTF-8 文本",
    "login_failed": "登录未完成，请重新登录",
    "login_provider_error": "身份认证平台没有完成登录，例如您取消了登录。",
    "idp_unavailable": "身份认证平台暂时无法访问，请稍后再试。",
    "idp_request_invalid": "登录请求无效",
    "demo_identity_required": "请选择一个演示身份",
    "invalid_client": "客户端身份验证失败",
    "invalid_token": "访问令牌无效或已过期",
    "invalid_request": "令牌请求格式有误",
    "unsupported_grant_type": "不支持的授权类型",
    "invalid_scope": "申请的权限范围无效",
    "unauthorized_client": "该客户端无权使用此授权类型",
    "unknown_api_client": "没有这个 API 客户端",
    "database_unavailable": "数据库暂时不可用",
    "consent_required": "当事人未签署电子送达确认书或确认书不包括本机关，请采用其他方式送达",
    "consent_revoked": "当事人已撤回电子送达确认，请采用其他方式送达",
    "party_not_in_case": "该当事人不是本案当事人",
    "seal_invalid": "文书电子印章验证未通过",
    "idempotency_key_reused": "同一幂等键对应的请求内容不同",
    "calendar_file_invalid": "法定节假日数据文件格式有误",
}

EXPLANATIONS: dict[str, str] = {
    "csrf_failed": "为保护您的账户安全，每次提交都需要页面中的安全校验码。请返回上一页，刷新后重试。",
    "not_found": "您访问的页面不存在，或您无权查看该内容。",
    "payload_too_large": "请缩小文件或内容后重新提交。",
    "rate_limited": "为防止滥用，系统限制了查询频率。",
    "internal_error": "我们已记录此问题。请稍后再试；如问题持续，请联系执法机关或平台客服。",
    "login_failed": "登录过程中的安全校验未通过（可能已超时或被篡改），请重新登录。",
    "idp_request_invalid": "发起登录的网站提供的参数有误，无法继续。请返回该网站重新登录。",
}


def title(code: str) -> str:
    return TITLES.get(code, TITLES["internal_error"])


def explanation(code: str) -> str:
    return EXPLANATIONS.get(code, "")

"""Titles and explanations of errors, keyed by the stable codes of ``portal.errors``
(problem details, error pages, flash messages and the CLI).

``title(code)`` falls back to the internal error's title, so a code without words still shows
a sentence; ``explanation(code)`` is empty where the title says it all.
"""

from __future__ import annotations

# Chinese sentences are kept whole, however wide.

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
    "service_unavailable": "系统正在恢复，请稍后再试",
    "invalid_encoding": "提交的内容不是有效的 UTF-8 文本",
    "invalid_form": "提交的表单格式有误或字段过多",
    "invalid_text": "提交的文字中含有不能保存的字符（如空字符或不成对的代理字符）",
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
    "agency_credit_code_missing": "本机关尚未登记统一社会信用代码，无法核对文书电子印章，暂不能电子送达；"
                                  "请联系平台运维人员登记后再送达，或采用其他方式送达",
    "changed_after_seal": "文书在盖章后被改动过（例如填写了表单），不能送达；请重新盖章后再送达",
    "changed_after_signature": "确认书在签名后被改动过，确认书未生效；请重新签署",
    "idempotency_key_reused": "同一幂等键对应的请求内容不同",
    "receipt_pending": "送达回证正在生成，请稍后再试",
    "document_damaged": "文书文件校验未通过，暂不能提供下载",
    "not_our_draft": "上传的文件不是本平台为您生成的待签署确认书，或确认书内容已被改动",
    "signature_invalid": "签名验证未通过，确认书未生效",
    "signer_mismatch": "签名人与当前登录人不一致",
    "remote_signing_unavailable": "平台暂不提供在线签名，请使用本人数字证书签署后上传",
    "unknown_agency": "所选执法机关不存在",
    "invalid_name": "机关名称应为1至200个字符",
    "invalid_credit_code": "统一社会信用代码无效（18位，校验码须正确）",
    "credit_code_required": "新建执法机关须提供统一社会信用代码（--credit-code）",
    "credit_code_taken": "该统一社会信用代码已属于另一个执法机关",
    "credit_code_differs": "该执法机关已登记了另一个统一社会信用代码；代码不能更改（代码不同即为另一个机关）",
    "no_consent_in_force": "当前没有生效的电子送达确认",
    "calendar_file_invalid": "法定节假日数据文件格式有误",
    "case_exists": "本机关已登记过该案号的案件",
    "unknown_kind": "不支持的案件环节类型",
    "case_closed": "案件已结案，不能再记录新的环节",
    "already_filed": "本案已经立案",
    "already_decided": "本案已作出处罚决定，不能再记录决定前的环节",
    "stage_out_of_order": "案件环节顺序不符：立案应在事先告知之前",
    "notice_required": "尚未进行行政处罚事先告知（《中华人民共和国行政处罚法》第四十四条、第六十二条）",
    "party_not_informed": "尚未记录当事人被告知的时间，陈述、申辩和听证期限尚未起算",
    "rights_window_open": "当事人陈述、申辩或申请听证的期限尚未届满（《中华人民共和国行政处罚法》第四十五条、第六十二条、第六十四条）",
    "hearing_pending": "听证尚未举行，不能作出处罚决定",
    "no_hearing_right": "本案不适用听证程序（《中华人民共和国行政处罚法》第六十三条）",
    "heavier_than_notice": "处罚决定的罚款重于事先告知书拟作出的处罚，应当重新进行事先告知（《中华人民共和国行政处罚法》第四十五条第二款）",
    "remedies_missing": "处罚决定未写明行政复议机关或者人民法院，当事人只能看到申请行政复议、提起行政诉讼的期限（《中华人民共和国行政处罚法》第五十九条第六项）",
    "hearing_before_notice": "听证日期应在通知之日以后",
    "hearing_notice_short": "当事人经本平台收到听证通知时，距听证之日可能不足七个工作日（《中华人民共和国行政处罚法》第六十四条第二项、第八十五条），请考虑另定听证日期",
    "hearing_notice_too_late": "听证通知应在举行听证的七个工作日前送达（《中华人民共和国行政处罚法》第六十四条第二项、第八十五条）",
    "decision_required": "本案尚未作出处罚决定",
    "reconsideration_pending": "本案已有进行中的行政复议",
    "lawsuit_pending": "本案已有进行中的行政诉讼",
    "no_reconsideration": "本案没有进行中的行政复议",
    "no_lawsuit": "本案没有进行中的行政诉讼",
    "remedy_pending": "行政复议或行政诉讼尚未终结，不能结案",
    "deadline_not_running": "该期限尚未开始计算，不能延长",
    "extension_not_later": "延长后的期限应晚于当前期限",
    "decision_without_fine": "本案处罚决定没有罚款，不能批准分期缴纳",
    "instalments_total_mismatch": "各期金额之和应当等于处罚决定的罚款数额",
    "instalment_before_approval": "第一期的缴款期限不能早于批准分期缴纳之日",
    "occurred_out_of_order": "发生时间早于本案此前记录的环节",
    "informed_before_notice": "告知时间不能早于事先告知书的作出时间",
    "served_before_decision": "送达时间不能早于处罚决定的作出时间",
    "case_not_found": "未找到该案件",
    "file_missing": "请选择要验证的 PDF 文件或 OFD 文件",
    "file_empty": "所选文件是空文件，请重新选择",
    "not_pdf": "所选文件不是 PDF 文件或 OFD 文件，或文件已损坏",
    "pdf_encrypted": "文件已加密，无法验证，请上传未加密的 PDF 文件",
    "publication_exists": "本机关已公示过该案号的同类信息，请使用更新接口",
    "withdrawal_too_early": "公示未满六十日，只有处罚决定被变更、撤销或者被确认违法、无效时才能撤回（《福建省一体化大融合行政执法平台管理暂行办法》第二十一条；《中华人民共和国行政处罚法》第四十八条）",
    "already_withdrawn": "该公示信息已经撤回",
    "publication_withdrawn": "该公示信息已经撤回，不能再更新",
    "publication_expired": "该公示信息的公示期已满，已不再公开",
    "statement_window_closed": "陈述、申辩期限已届满，本次告知的陈述、申辩不能再通过平台提交",
    "hearing_window_closed": "要求听证的期限已届满（《中华人民共和国行政处罚法》第六十四条第一项、第八十五条）",
    "hearing_already_requested": "您已就本次告知申请听证",
    "rights_waived": "您已声明放弃本次告知的陈述、申辩权利",
    "no_fine": "本案处罚决定没有罚款，无需申请暂缓或分期缴纳",
    "hearing_requested": "当事人已申请听证，应当先组织听证（《中华人民共和国行政处罚法》第六十三条、第六十四条）",
    "submission_receipt_pending": "提交回执正在生成，请稍后再试",
    "webhook_url_invalid": "回调地址必须是 https:// 开头的外部地址（仅开发模式可用 http://127.0.0.1）",
    "fine_exists": "本机关已为该决定书创建过罚款，内容与本次请求不同",
    "unknown_delivery": "没有这份送达记录，或不是本机关送达的文书",
    "not_a_decision": "所引用的送达文书不是行政处罚决定书",
    "delivery_case_mismatch": "所引用的送达文书不属于所填案件",
    "service_in_future": "送达日期不能晚于今天",
    "nothing_due": "该罚款已缴清，无需再缴款",
    "fine_closed": "该罚款已结清或已退款，不能再缴款",
    "unknown_payment": "该罚款没有这笔缴款",
    "already_refunded": "这笔缴款已登记过退款，退款流水号不同",
    "payment_platform_unavailable": "支付平台暂时无法访问，请稍后再试",
    "reconciliation_not_found": "该日尚未对账",
}

EXPLANATIONS: dict[str, str] = {
    "csrf_failed": "为保护您的账户安全，每次提交都需要页面中的安全校验码。请返回上一页，刷新后重试。",
    "not_found": "您访问的页面不存在，或您无权查看该内容。",
    "document_damaged": "平台检测到该文书的存储文件与送达时的摘要不一致。为保证您拿到的是送达的原件，我们已停止提供下载并通知管理员。文书的送达效力不受影响，您也可以申请纸质文书。",
    "receipt_pending": "送达回证通常在文书到达后几秒钟内生成，请稍后刷新页面。",
    "payload_too_large": "请缩小文件或内容后重新提交。",
    "rate_limited": "为防止滥用，系统限制了查询频率。",
    "payment_platform_unavailable": "您的缴款尚未发生，请稍后返回罚款页面重新点击缴款。",
    "internal_error": "我们已记录此问题。请稍后再试；如问题持续，请联系执法机关或平台客服。",
    "service_unavailable": "平台的数据库或文书存储暂时无法访问，您刚才的操作没有生效，请稍后重新提交。",
    "login_failed": "登录过程中的安全校验未通过（可能已超时或被篡改），请重新登录。",
    "idp_request_invalid": "发起登录的网站提供的参数有误，无法继续。请返回该网站重新登录。",
}


# What a party reads on a page where an agency reads ``TITLES`` in the API: the same
# refusal, in the words of the person it happens to, with what to do next. No "环节" or
# "记录": a party does not record stages.
PARTY_TITLES: dict[str, str] = {
    "case_closed": "本案已经办结，不能再通过平台提交。如有疑问，请联系执法机关",
    "already_decided": "执法机关已经作出处罚决定，陈述、申辩和听证的期限已经结束。如不服决定，可以依法申请行政复议或者提起行政诉讼",
    "decision_required": "执法机关作出处罚决定后，才能申请暂缓或分期缴纳罚款",
    "no_fine": "本案的处罚决定没有罚款，不需要申请暂缓或分期缴纳",
    "no_hearing_right": "本案不适用听证程序；您仍然可以提交陈述、申辩",
    "notice_required": "执法机关还没有告知拟作出的行政处罚，现在还不能提交。告知后，期限会显示在案件页面",
    "party_not_informed": "执法机关还没有把事先告知书送达给您，期限还没有开始计算。送达后就可以提交",
    "rights_waived": "您已经声明放弃本次陈述、申辩，不能再提交",
    "hearing_already_requested": "您已经申请了听证，执法机关会另行通知听证的时间和地点",
    "statement_window_closed": "陈述、申辩的期限已经结束，不能再通过平台提交。如有正当理由，请尽快联系执法机关",
    "hearing_window_closed": "申请听证的期限（告知后五个工作日内）已经结束。如有正当理由，请尽快联系执法机关",
    "forbidden": "您的授权不能办理这件事",
    "conflict": "这件事现在不能办理",
    "bad_request": "提交的内容无法处理",
    "method_not_allowed": "页面不能这样打开",
    "unsupported_media_type": "不支持这种文件",
    "fine_closed": "这笔罚款已经缴清或已经退款，不需要再缴款",
}

EXPLANATIONS.update({
    "forbidden": "如果您是代为办理，请确认授权人给您的授权范围；需要时请授权人在“我的账户”中调整授权。",
    "conflict": "页面上的信息可能已经变化。请返回上一页，刷新后再试。",
    "bad_request": "请返回上一页，检查填写的内容后重新提交。",
    "method_not_allowed": "请从平台的页面上点击链接或按钮进入。",
    "unsupported_media_type": "请上传 PDF、JPG 或 PNG 文件。",
    "fine_closed": "缴款记录和财政电子票据见“我的罚款”。",
})


def title(code: str) -> str:
    return TITLES.get(code, TITLES["internal_error"])


PARTY_WORDS: dict[str, str] = {**TITLES, **PARTY_TITLES}
"""Every title, in the party's words where they differ (for templates that look codes up)."""


def party_title(code: str) -> str:
    """The title a person reads on a page: the party's words where they differ."""
    return PARTY_TITLES.get(code) or title(code)


def explanation(code: str) -> str:
    return EXPLANATIONS.get(code, "")

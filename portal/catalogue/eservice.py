"""Electronic service (电子送达): the service receipt (送达回证), the consent to electronic
service and its revocation, and the mailbox's deadline labels and download names.

``{e_service}`` in a text is the configured province's article on electronic service
(``catalogue.regulations``): a party reads its own province's rule, never another's.
"""

from __future__ import annotations

# Chinese sentences are kept whole, however wide.

SERVICE_RECEIPT: dict[str, str] = {
    "title": "电子送达回证",
    "seal_reason": "电子送达回证",
    "intro": "本回证由行政执法公共服务平台出具，证明下列文书已通过电子方式送达受送达人。",
    "document": "送达文书",
    "document_sha256": "文书 SHA-256 摘要",
    "agency": "送达机关",
    "recipient": "受送达人",
    "identifier": "身份证件号码 / 统一社会信用代码",
    "case_code": "案件编码",
    "case_number": "机关案号",
    "method": "送达方式",
    "method_value": "电子送达：送达至受送达人在本平台指定的电子送达邮箱",
    "service_time_china": "送达时间（北京时间）",
    "service_time_utc": "送达时间（UTC）",
    "consent": "所依据的送达确认书",
    "consent_value": "签署于 {signed}；确认书 SHA-256：{sha256}",
    "arrival_event": "到达事件哈希",
    "timestamp": "到达事件可信时间戳",
    "timestamp_value": "{tsa}，时间 {time}",
    "timestamp_pending": "尚未取得（平台将持续申请，不影响送达效力）",
    "legal_basis": (
        "依据：受送达人已签署电子送达确认书。文书到达受送达人指定的电子送达接收系统的时间为送达时间"
        "（{e_service}；《中华人民共和国民事诉讼法》第九十条）。送达时间不因受送达人是否阅读而改变。"
    ),
    "verify_hint": "任何人均可使用 PAdES 签章验证工具（包括本平台 /verify 页面）核验本回证的电子印章和时间戳。",
    "footer": "电子送达回证 第 {page} 页，共 {pages} 页",
    "file_name": "送达回证-{case}-{delivery}.pdf",
}

CONSENT: dict[str, str] = {
    "title": "电子送达确认书",
    "revocation_title": "撤回电子送达确认书",
    "intro": "受送达人同意行政执法机关通过行政执法公共服务平台以电子方式送达行政执法文书，并作如下确认：",
    "party": "受送达人",
    "person_identifier": "公民身份号码",
    "organisation_identifier": "统一社会信用代码",
    "signer": "经办人（签署人）",
    "receiving_system": "指定的电子送达接收系统",
    "receiving_system_value": "行政执法公共服务平台 电子送达邮箱（登录平台后在“我的邮箱”查看）",
    "email_copy": "抄送提醒电子邮箱",
    "email_copy_note": "（仅用于提醒，不作为送达地址）",
    "no_email_copy": "无",
    "scope": "适用范围",
    "scope_all": "全部行政执法机关",
    "date": "确认日期",
    "effect_title": "法律效果",
    "effect": (
        "1. 本确认书签署后，行政执法机关可以通过上述电子送达接收系统向受送达人送达行政处罚事先告知书、"
        "行政处罚决定书、听证通知书等行政执法文书（《中华人民共和国行政处罚法》第六十一条；"
        "{e_service}）。\n"
        "2. 文书到达上述接收系统的时间即为送达时间，不以受送达人是否阅读为准（{e_service}；"
        "《中华人民共和国民事诉讼法》第九十条）。请及时登录查看，以免错过陈述、申辩、"
        "申请听证和缴纳罚款等期限。\n"
        "3. 受送达人可以随时撤回本确认；撤回自撤回之时起生效，不影响此前已经完成的送达。\n"
        "4. 受送达人可以要求行政执法机关提供纸质文书。"
    ),
    "revocation_intro": "受送达人撤回此前签署的电子送达确认，自本撤回书签署之时起，行政执法机关不得再以电子方式向受送达人送达文书。此前已经完成的送达不受影响。",
    "revoked_consent": "被撤回的确认书",
    "revoked_consent_value": "签署于 {signed}；确认书 SHA-256：{sha256}",
    "signature_reason": "签署电子送达确认书",
    "revocation_reason": "撤回电子送达确认",
    "footer": "第 {page} 页，共 {pages} 页",
    "document_name": "电子送达确认书-{id}.pdf",
    "error_agency": "所选执法机关无效",
    "error_scope": "请选择适用范围",
    "error_no_agency": "请至少选择一个执法机关",
    "error_email": "请填写有效的电子邮箱地址，或留空",
    "error_confirm": "请确认您已阅读并理解确认书的内容和法律效果",
    "error_no_draft": "请先下载待签署的确认书，签名后再上传",
    "error_file": "请上传不超过 20MB 的 PDF 文件",
    "error_confirm_revoke": "请勾选确认后再撤回",
    "revocation_document_name": "撤回电子送达确认书-{id}.pdf",
}


MAILBOX: dict[str, str] = {
    "statement": "陈述、申辩期限",
    "hearing_request": "申请听证期限",
    "payment": "缴纳罚款期限",
    "reconsideration": "申请行政复议期限",
    "lawsuit": "提起行政诉讼期限",
    "document_name": "{title}.pdf",
    "receipt_name": "送达回证-{title}.pdf",
    "deadline_changed": "执法机关在本文书送达后变更了此期限（延长期限、批准暂缓或分期缴纳），"
                        "现行期限截止{day} 24:00，以现行期限为准。",
    "deadline_changed_link": "查看案件中的现行期限",
    "venue.reconsideration": "可以向{venue}申请行政复议",
    "venue.lawsuit": "可以向{venue}提起行政诉讼",
}

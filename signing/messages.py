"""Every sentence of the ``signing`` package that a user reads, in Simplified Chinese.

The verification report is shown to citizens on the /verify page and returned by the HTTP API,
so its words are kept in this one catalogue: per sub-indication, per file problem, per kind of
change after signing, and the one-line summaries at the top of a report. Code elsewhere refers
to these constants and never spells a user-facing sentence itself. Log and exception messages
for operators stay in English where they are raised.
"""

from __future__ import annotations

from signing.report import FileProblem, ModificationLevel, SignatureKind, SubIndication

__all__ = [
    "FILE_PROBLEM_SUMMARIES",
    "GENERIC",
    "LEVEL_REQUIRED",
    "NOT_PADES",
    "PARTIAL_COVERAGE",
    "SEED_VALUE_VIOLATED",
    "SIGNATURE_ERROR",
    "SUB_INDICATIONS",
    "SUMMARY_CANNOT_VERIFY",
    "SUMMARY_INVALID",
    "SUMMARY_MODIFIED",
    "SUMMARY_VALID",
    "SUMMARY_VALID_WITH_CHANGES",
    "TIMESTAMP_INVALID",
    "UNREADABLE_SIGNATURE",
    "UNSUPPORTED_ALGORITHM",
    "UNSUPPORTED_FORMAT",
    "VALID",
    "describe_modifications",
]

SUB_INDICATIONS: dict[SubIndication, str] = {
    SubIndication.FORMAT_FAILURE: "签名的格式或覆盖范围异常",
    SubIndication.HASH_FAILURE: "文件内容与签名不符，签署后被篡改",
    SubIndication.SIG_CRYPTO_FAILURE: "签名值校验失败",
    SubIndication.REVOKED: "签名证书在签署前已被吊销",
    SubIndication.NOT_YET_VALID: "签署时签名证书尚未生效",
    SubIndication.DISALLOWED_MODIFICATION: "签署后内容被修改",
    SubIndication.SIG_CONSTRAINTS_FAILURE: "签名不满足验证要求",
    SubIndication.CHAIN_CONSTRAINTS_FAILURE: "证书不满足用途等约束",
    SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE: "证书链验证失败（例如无法确认证书是否被吊销）",
    SubIndication.CRYPTO_CONSTRAINTS_FAILURE: "使用了不受支持或强度不足的密码算法",
    SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE: "所用密码算法已不再安全",
    SubIndication.EXPIRED: "签名证书已过期",
    SubIndication.NO_SIGNING_CERTIFICATE_FOUND: "找不到签名证书",
    SubIndication.NO_CERTIFICATE_CHAIN_FOUND: "签名证书不是由受信任的机构签发的",
    SubIndication.REVOKED_NO_POE: "签名证书已被吊销",
    SubIndication.REVOKED_CA_NO_POE: "签发签名证书的机构证书已被吊销",
    SubIndication.OUT_OF_BOUNDS_NO_POE: "签名证书已过期或尚未生效",
    SubIndication.OUT_OF_BOUNDS_NOT_REVOKED: "签名证书已过期",
    SubIndication.REVOCATION_OUT_OF_BOUNDS_NO_POE: "证书吊销信息已过期",
    SubIndication.NO_POE: "缺少签署时间的证明",
    SubIndication.TRY_LATER: "暂时无法取得证书吊销信息，请稍后再试",
    SubIndication.SIGNED_DATA_NOT_FOUND: "找不到被签署的内容",
    SubIndication.TIMESTAMP_ORDER_FAILURE: "时间戳顺序异常",
}
GENERIC = "无法确认签名有效"

FILE_PROBLEM_SUMMARIES: dict[FileProblem, str] = {
    FileProblem.TOO_LARGE: "无法验证：文件过大",
    FileProblem.NOT_PDF: "无法验证：这不是PDF或OFD文件",
    FileProblem.MALFORMED: "无法验证：文件已损坏或格式错误",
    FileProblem.UNSAFE_PACKAGE: "无法验证：OFD文件包含不安全的内容（例如重复或越界的文件名、外部实体）",
    FileProblem.ENCRYPTED: "无法验证：文件已加密",
    FileProblem.NO_SIGNATURES: "此文件不含电子签名或电子印章",
    FileProblem.TOO_COMPLEX: "文件过于复杂，无法在限定时间内验证",
    FileProblem.TOO_DEEP: "无法验证：文件结构嵌套过深",
    FileProblem.ABNORMAL_STRUCTURE: "无法验证：文件结构异常（文件末尾格式不规范或修订次数过多），未予处理",
    FileProblem.INTERNAL_ERROR: "无法验证：验证过程出错，请稍后再试",
}

VALID = {SignatureKind.SEAL: "电子印章有效", SignatureKind.SIGNATURE: "电子签名有效"}
PARTIAL_COVERAGE = "签名的覆盖范围异常，文件可能被篡改"
TIMESTAMP_INVALID = "签名时间戳无效"
LEVEL_REQUIRED = "要求{required}级别的签名，实际为{reached}"
NOT_PADES = "非PAdES"
SEED_VALUE_VIOLATED = "签名不满足签名域的约束"
UNSUPPORTED_FORMAT = "不支持的签名格式（{subfilter}）"
UNSUPPORTED_ALGORITHM = "使用了本系统无法验证的密码算法（{algorithm}）"
UNREADABLE_SIGNATURE = "无法读取此签名，签名数据已损坏"
SIGNATURE_ERROR = "验证此签名时出错"

# National-standard seals (GB/T 38540) and OFD packages (GB/T 33190).
SEAL_NOT_SM2 = "电子印章使用了本系统无法验证的签名算法"
SEAL_DATA_CHANGED = "签章所保护的内容与签章记录的杂凑值不符，签署后被篡改"
SEAL_MAKER_SIGNATURE_INVALID = "电子印章数据的制章者签名无效，印章可能被伪造或篡改"
SEAL_CERT_MISMATCH = "签章人证书不属于该电子印章"
SEAL_EXPIRED = "签章时电子印章不在有效期内"
SEAL_MAKER_UNTRUSTED = "制章者证书不是由受信任的机构签发的"
GM_FORMAT_UNKNOWN = "签名值既不是GB/T 38540电子签章，也不是SM2 PKCS#7签名"
OFD_FILE_CHANGED = "文件 {path} 在签署后被修改"
OFD_FILE_MISSING = "受保护的文件 {path} 已被删除"
OFD_REFERENCE_OUTSIDE = "签名引用了文件包以外的位置（{reference}）"
OFD_CHECK_METHOD = "使用了本系统不接受的摘要算法（{method}）"
OFD_SIGNATURE_FILE_MISSING = "找不到签名描述文件或签名值"
OFD_SIGNATURE_LIST_CHANGED = "签名列表文件 Signatures.xml 在签署后被修改"
OFD_LATER_SIGNATURES = "签署后仅追加了其他签章"
SUMMARY_UNPROTECTED = "此文件的签章有效；但有{count}个文件不受任何签章保护，请查看明细"

SUMMARY_VALID = "此文件的签章有效，签署后未被修改"
SUMMARY_VALID_WITH_CHANGES = "此文件的签章有效；签署后有允许范围内的修改（{changes}），请查看明细"
SUMMARY_MODIFIED = "签署后内容被修改，签章无效"
SUMMARY_INVALID = "签章无效：{reason}"
SUMMARY_CANNOT_VERIFY = "无法验证：{reason}"


def describe_modifications(level: ModificationLevel | None, allowed: bool, only_signatures: bool) -> str:
    """What happened after a signature, given pyhanko's modification level."""
    if level is None:
        return "无法分析签署后的修改"
    if not allowed:
        if level is ModificationLevel.ANNOTATIONS:
            return "签署后添加了批注，超出了文件允许的修改范围"
        return "签署后内容被修改"
    if level is ModificationLevel.NONE:
        return "签署后未被修改"
    if level is ModificationLevel.LTA_UPDATES:
        return "签署后仅追加了长期验证数据或文档时间戳"
    if level is ModificationLevel.FORM_FILLING and only_signatures:
        return "签署后仅追加了其他签名或签章"
    if level is ModificationLevel.FORM_FILLING:
        return "签署后有允许的修改：填写了表单"
    return "签署后有允许的修改：添加了批注"

"""What production mode refuses (``portal.deployment``), in the operator's words: what
``portal check`` prints and start-up refuses with. Keyed by the problem's code."""

from __future__ import annotations

DEPLOYMENT: dict[str, str] = {
    "refusal": "生产模式下不能启动：发现 {count} 个问题（`portal check` 可随时列出）：",
    "passed": "生产环境配置检查通过：没有发现开发用组件或不安全的设置。",
    "run_is_development": "portal run 会写入演示数据，只用于开发模式；生产环境请用 portal db upgrade 和 portal serve",
    "development_mode": "开发模式（PORTAL_MODE 未设为 production，且 PUBLIC_URL 不是 https://）",
    "public_url_http": "生产环境须为 https:// 地址",
    "sqlite": "生产环境须使用 PostgreSQL（postgresql+asyncpg://），不能使用内嵌 SQLite",
    "blob_store_files": "BLOB_STORE=files 把文书存在本节点的磁盘上：其他节点读不到，数据库备份也不包含它们；请使用 database（默认）或 s3",
    "secret_generated": "未设置：正在使用本机自动生成的密钥（多个节点各不相同，且随数据目录丢失）",
    "secret_weak": "不像随机生成的密钥（不同字符过少）：请用 python3 -c 'import secrets; print(secrets.token_urlsafe(48))' 生成",
    "dev_idp": "未配置统一身份认证平台：正在使用开发用身份认证服务（任何人都能以演示身份登录）",
    "oidc_http": "身份认证平台地址须为 https://",
    "sandbox_payments": "正在使用沙箱支付平台（不收取真实款项，却会标记已缴清并开具财政电子票据）",
    "dev_pki": "正在使用开发用 PKI 与时间戳服务（本机生成的印章和信任根）：请配置 TRUST_ROOTS_DIR、平台印章（PORTAL_SEAL_P12 或 PORTAL_SEAL_PKCS11_*）和 TSA_URL",
    "mail_sandbox": "未配置邮件服务器：电子邮件只会写入 DATA_DIR/mail-sandbox",
    "smtp_plain": "SMTP_TLS=none 只允许连接本机的邮件中继",
    "sms_sandbox": "未配置短信网关：短信只会写入 DATA_DIR/sms-sandbox.jsonl",
    "sms_http": "短信网关地址须为 https://（请求中带有 API 密钥和手机号码）",
    "debug_logging": "DEBUG 会记录请求和数据库语句的参数（个人信息）：生产环境请用 INFO 或 WARNING",
    "webhook_refused": "执法机关（编号 {agency_id}）登记的回调地址不是 https:// 外部地址，生产环境不会向其推送：请该机关重新登记（PUT /api/v1/webhook）",
    "demo_accounts": "数据库中有开发用身份认证服务的账户（演示数据）：生产环境请使用新数据库",
    "database_unreadable": "无法读取数据库（{error}）：请检查 DATABASE_URL 并执行 portal db upgrade",
}

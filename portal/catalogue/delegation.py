"""Delegation (``services.delegations``, the /account/delegations pages): scopes, statuses and
the problems of a grant request, keyed by the codes the service raises.
"""

from __future__ import annotations

# Chinese sentences are kept whole, however wide.

DELEGATION: dict[str, str] = {
    "scope.mailbox": "仅查看邮箱",
    "scope.mailbox.hint": "可以查收邮箱中的文书，下载文书和送达回证；不能代为办理其他事务。",
    "scope.full": "全权代为办理",
    "scope.full.hint": "除查看邮箱外，还可以代为签署或撤回电子送达确认、申请纸质文书，以及今后开通的陈述申辩、申请听证、缴纳罚款等事务。",
    "status.in_force": "有效",
    "status.ended": "已到期",
    "status.revoked": "已撤回",
    "source.identity_provider": "统一身份认证平台确认的单位经办人",
    "source.delegation": "本平台授权",
    "no_end": "长期（以统一身份认证平台为准）",
    "error.delegate_name.required": "请填写被授权人的姓名",
    "error.delegate_name.too_long": "姓名不能超过50个字",
    "error.delegate_name.invalid_character": "姓名含有不能显示或会改变文字顺序的控制字符，请删除后重新填写",
    "error.delegate_id_number.invalid_id_number": "请填写正确的18位公民身份号码（最后一位可能是X）",
    "error.scope.required": "请选择授权范围",
    "error.last_day.invalid_date": "请按“年-月-日”填写授权截止日期，例如 2027-01-31",
    "error.last_day_past": "授权截止日期不能早于今天",
    "error.last_day_too_far": "授权截止日期不能晚于{latest}（最长三年）",
    "error.name_mismatch": "姓名与公民身份号码不一致，请核对",
    "error.delegate_self": "不能授权给自己",
    "error.already_delegated": "已授权此人且仍然有效；如需更改授权范围或期限，请先撤回原授权",
    "authorisation.title": "授权委托书",
    "authorisation.footer": "授权委托书 第 {page} 页，共 {pages} 页",
    "authorisation.intro": "委托人通过行政执法公共服务平台委托下列受托人，在委托权限和期限内代为办理委托人在各行政执法机关的相关事务。本委托书由委托人以电子签名签署，与手写签名具有同等法律效力（《中华人民共和国电子签名法》第十四条）。",
    "authorisation.principal": "委托人", "authorisation.person_identifier": "公民身份号码",
    "authorisation.organisation_identifier": "统一社会信用代码", "authorisation.signer": "签署人（经办人）",
    "authorisation.agent": "受托人", "authorisation.agent_identifier": "受托人公民身份号码",
    "authorisation.scope": "委托权限", "authorisation.term": "委托期限",
    "authorisation.term_value": "自{start}起至{end}止（北京时间）",
    "authorisation.date": "签署日期",
    "authorisation.scope.mailbox": "代为查阅本平台电子送达邮箱中的文书，下载文书和送达回证。",
    "authorisation.scope.full": "代为查阅、签收电子送达的文书；代为签署或撤回电子送达确认书、申请纸质文书；代为陈述、申辩，申请听证、申请回避，申请暂缓或分期缴纳罚款，提出数据异议；代为缴纳罚款。",
    "authorisation.terms": "受托人不得转委托。委托人可以随时在本平台撤回委托，撤回自撤回时起生效，此前受托人已经办理的事务不受影响。\n委托期限届满或者委托被撤回后，本委托书自动失效。",
    "authorisation.law": "当事人可以亲自参加听证，也可以委托一至二人代理（《中华人民共和国行政处罚法》第六十四条第（三）项）。",
    "authorisation.signature_reason": "签署授权委托书",
    "authorisation.document_name": "授权委托书-{id}.pdf",
}

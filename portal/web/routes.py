"""The one URL map of the portal: every page and API route, in one list."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route

from portal.web import metrics
from portal.web.api import agency as agency_api
from portal.web.api import cases as cases_api
from portal.web.api import deliveries as deliveries_api
from portal.web.api import fines as fines_api
from portal.web.api import objections as objections_api
from portal.web.api import openapi, payment_callbacks, token
from portal.web.api import publications as publications_api
from portal.web.api import submissions as submissions_api
from portal.web.api import verifications as verifications_api
from portal.web.pages import (
    account,
    cases,
    consent,
    delegations,
    fines,
    home,
    login,
    mailbox,
    notifications,
    objections,
    privacy,
    publicity,
    publicity_export,
    receipts,
    rights,
    todo,
    verify,
)
from portal.web.static_assets import MOUNT as STATIC_MOUNT
from portal.web.static_assets import assets


def rights_routes() -> list[BaseRoute]:
    """The party's rights on its case (``pages.rights``), its submissions, and its objections
    to data wherever it files them (``pages.objections``)."""
    forms = [
        ("statement", rights.statement_form, rights.statement_submit),
        ("hearing-request", rights.hearing_request_form, rights.hearing_request_submit),
        ("recusal", rights.recusal_form, rights.recusal_submit),
        ("payment-plan", rights.payment_plan_form, rights.payment_plan_submit),
        ("waiver", rights.waiver_form, rights.waiver_first),
        ("waiver/confirm", rights.waiver_second, rights.waiver_confirm),
    ]
    found: list[BaseRoute] = []
    for slug, show, submit in forms:
        name = slug.replace("-", "_").replace("/", "_")
        found.append(Route(f"/cases/{{code}}/{slug}", show, methods=["GET"], name=f"right_{name}"))
        found.append(Route(f"/cases/{{code}}/{slug}", submit, methods=["POST"],
                           name=f"right_{name}_submit"))
    return [
        *found,
        Route("/cases/{code}/objection", objections.case_form, methods=["GET"], name="objection_case"),
        Route("/cases/{code}/objection", objections.case_submit, methods=["POST"],
              name="objection_case_submit"),
        Route("/mailbox/{delivery_id}/objection", objections.delivery_form, methods=["GET"],
              name="objection_delivery"),
        Route("/mailbox/{delivery_id}/objection", objections.delivery_submit, methods=["POST"],
              name="objection_delivery_submit"),
        Route("/publicity/{publication_id:int}/objection", objections.publication_form,
              methods=["GET"], name="objection_publication"),
        Route("/publicity/{publication_id:int}/objection", objections.publication_submit,
              methods=["POST"], name="objection_publication_submit"),
        Route("/objections", objections.index, methods=["GET"], name="objections"),
        Route("/objections/{submission_id}", objections.detail, methods=["GET"], name="objection"),
        Route("/objections/{submission_id}/receipt", objections.receipt, methods=["GET"],
              name="objection_receipt"),
        Route("/cases/{code}/submissions/{submission_id}", rights.confirmation, methods=["GET"],
              name="submission"),
        Route("/cases/{code}/submissions/{submission_id}/receipt", rights.receipt,
              methods=["GET"], name="submission_receipt"),
    ]


def submission_api_routes() -> list[BaseRoute]:
    """The agency's side of the rights: submissions and the webhook (``api.submissions``)."""
    api = submissions_api
    one = "/api/v1/submissions/{submission_id}"
    return [
        Route("/api/v1/submissions", api.list_submissions, methods=["GET"], name="api_submissions"),
        Route(one, api.get_submission, methods=["GET"], name="api_submission"),
        Route(f"{one}/attachments/{{position}}", api.get_submission_attachment, methods=["GET"],
              name="api_submission_attachment"),
        Route(f"{one}/receipt", api.get_submission_receipt, methods=["GET"], name="api_submission_receipt"),
        Route(f"{one}/acknowledgement", api.acknowledge_submission, methods=["POST"],
              name="api_submission_acknowledgement"),
        Route("/api/v1/objections/{submission_id}/answer", objections_api.answer_objection,
              methods=["POST"], name="api_objection_answer"),
        Route("/api/v1/webhook", api.put_webhook, methods=["PUT"], name="api_webhook_put"),
        Route("/api/v1/webhook", api.get_webhook, methods=["GET"], name="api_webhook"),
    ]


def routes() -> list[BaseRoute]:
    return [
        Route("/", home.home, name="home"),
        Route("/healthz", home.healthz, name="healthz"),
        Route("/privacy", privacy.notice, methods=["GET"], name="privacy"),
        Route("/metrics", metrics.scrape, name="metrics"),
        Route("/login", login.login_page, methods=["GET"], name="login"),
        Route("/login", login.start, methods=["POST"], name="login_start"),
        Route("/auth/callback", login.callback, methods=["GET"], name="auth_callback"),
        Route("/todo", todo.index, methods=["GET"], name="todo"),
        Route("/account", account.account, name="account"),
        Route("/mailbox", mailbox.index, name="mailbox"),
        Route("/mailbox/{delivery_id}", mailbox.detail, name="mailbox_item"),
        Route("/mailbox/{delivery_id}/view", mailbox.view, methods=["POST"], name="mailbox_view"),
        Route("/mailbox/{delivery_id}/view.pdf", mailbox.view_pdf, methods=["GET"],
              name="mailbox_view_pdf"),
        Route("/mailbox/{delivery_id}/document", mailbox.document, methods=["POST"],
              name="mailbox_document"),
        Route("/mailbox/{delivery_id}/receipt", mailbox.receipt, name="mailbox_receipt"),
        Route("/mailbox/{delivery_id}/paper-copy", mailbox.paper_copy, methods=["POST"],
              name="mailbox_paper_copy"),
        Route("/consent", consent.page, name="consent"),
        Route("/consent/sign", consent.sign, methods=["POST"], name="consent_sign"),
        Route("/consent/draft.pdf", consent.draft, methods=["POST"], name="consent_draft"),
        Route("/consent/upload", consent.upload, methods=["POST"], name="consent_upload"),
        Route("/consent/revoke", consent.revoke, methods=["POST"], name="consent_revoke"),
        Route("/consent/done/{consent_id}", consent.done, name="consent_done"),
        Route("/consent/{consent_id}/document.pdf", consent.document, name="consent_document"),
        Route("/account/acting", account.switch_acting, methods=["POST"], name="account_acting"),
        Route("/account/notifications", notifications.settings_page, methods=["GET"],
              name="notification_settings"),
        Route("/account/notifications", notifications.save_settings, methods=["POST"],
              name="notification_settings_save"),
        Route("/notices", notifications.index, methods=["GET"], name="notices"),
        Route("/notices/bell", notifications.bell, methods=["GET"], name="notices_bell"),
        Route("/notices/read-all", notifications.mark_all_read, methods=["POST"],
              name="notices_read_all"),
        Route("/notices/{notice_id:int}/read", notifications.mark_read, methods=["POST"],
              name="notice_read"),
        Route("/notices/{notice_id:int}/open", notifications.open_notice, methods=["POST"],
              name="notice_open"),
        Route("/account/delegations", delegations.index, methods=["GET"], name="delegations"),
        Route("/account/delegations", delegations.grant, methods=["POST"], name="delegation_grant"),
        Route("/account/delegations/{delegation_id}", delegations.detail, methods=["GET"],
              name="delegation"),
        Route("/account/delegations/{delegation_id}/revoke", delegations.confirm_revoke,
              methods=["GET"], name="delegation_revoke_confirm"),
        Route("/account/delegations/{delegation_id}/revoke", delegations.revoke, methods=["POST"],
              name="delegation_revoke"),
        Route("/account/delegations/{delegation_id}/authorisation", delegations.sign_authorisation,
              methods=["POST"], name="delegation_authorisation_sign"),
        Route("/account/delegations/{delegation_id}/authorisation.pdf", delegations.authorisation_document,
              methods=["GET"], name="delegation_authorisation"),
        Route("/logout", account.logout, methods=["POST"], name="logout"),
        Route("/session/keepalive", account.keep_alive, methods=["POST"], name="keep_alive"),
        Route("/c", cases.lookup, methods=["GET"], name="case_lookup"),
        Route("/c/{code}", cases.public_case, methods=["GET"], name="case_public"),
        Route("/cases", cases.my_cases, methods=["GET"], name="cases"),
        Route("/cases/{code}", cases.case_page, methods=["GET"], name="case"),
        *rights_routes(),
        Route("/verify", verify.verify_page, methods=["GET"], name="verify"),
        Route("/verify", verify.verify_upload, methods=["POST"], name="verify_upload"),
        Route("/verify/reports/{report_id}", verify.report_page, name="verify_report"),
        Route("/verify/reports/{report_id}/json", verify.download_json, name="verify_report_json"),
        Route("/verify/reports/{report_id}/pdf", verify.download_pdf, name="verify_report_pdf"),
        Route("/verify/reports/{report_id}/seals/{number:int}.png", verify.seal_image,
              name="verify_report_seal"),
        Route("/publicity", publicity.search_page, methods=["GET"], name="publicity"),
        Route("/publicity/export.csv", publicity_export.export_csv, methods=["GET"],
              name="publicity_export_csv"),
        Route("/publicity/export.json", publicity_export.export_json, methods=["GET"],
              name="publicity_export_json"),
        Route("/publicity/{publication_id:int}", publicity.detail_page, methods=["GET"],
              name="publicity_item"),
        Route("/api/v1/token", token.issue_token, methods=["POST"], name="api_token"),
        Route("/api/v1/openapi.json", openapi.openapi_json, methods=["GET"], name="api_openapi"),
        Route("/api/v1/verifications", verifications_api.create_verification, methods=["POST"],
              name="api_verifications"),
        Route("/api/v1/cases", cases_api.register_case, methods=["POST"], name="api_cases"),
        Route("/api/v1/cases/{case_code}", cases_api.get_case, methods=["GET"], name="api_case"),
        Route("/api/v1/cases/{case_code}/events", cases_api.add_event, methods=["POST"],
              name="api_case_events"),
        Route("/api/v1/cases/{case_code}/representatives/{representation_id}/authorisation.pdf",
              cases_api.get_authorisation, methods=["GET"], name="api_case_authorisation"),
        Route("/api/v1/cases/{case_code}/qr.png", cases_api.qr_png, methods=["GET"],
              name="api_case_qr_png"),
        Route("/api/v1/cases/{case_code}/qr.svg", cases_api.qr_svg, methods=["GET"],
              name="api_case_qr_svg"),
        Route("/api/v1/cases/{case_code}/deliveries", deliveries_api.create_delivery,
              methods=["POST"], name="api_create_delivery"),
        Route("/api/v1/deliveries/{delivery_id}", deliveries_api.get_delivery, methods=["GET"],
              name="api_delivery"),
        Route("/api/v1/deliveries/{delivery_id}/receipt", deliveries_api.get_receipt,
              methods=["GET"], name="api_delivery_receipt"),
        Route("/api/v1/agency", agency_api.get_agency, methods=["GET"], name="api_agency"),
        Route("/api/v1/agency/clients", agency_api.list_clients, methods=["GET"],
              name="api_agency_clients"),
        Route("/api/v1/agency/clients/{client_id}", agency_api.get_client, methods=["GET"],
              name="api_agency_client"),
        Route("/api/v1/publications", publications_api.publish, methods=["POST"],
              name="api_publications"),
        Route("/api/v1/publications/{publication_id}", publications_api.get_publication,
              methods=["GET"], name="api_publication"),
        Route("/api/v1/publications/{publication_id}", publications_api.change_publication,
              methods=["PUT"], name="api_publication_change"),
        Route("/api/v1/publications/{publication_id}/withdrawal",
              publications_api.withdraw_publication, methods=["POST"], name="api_publication_withdrawal"),
        Route("/fines", fines.index, methods=["GET"], name="fines"),
        Route("/payments", fines.payments_link, methods=["GET"], name="payments"),
        Route("/fines/{fine_id}", fines.detail, methods=["GET"], name="fine"),
        Route("/fines/{fine_id}/pay", fines.pay, methods=["POST"], name="fine_pay"),
        Route("/fines/{fine_id}/return", fines.returned, methods=["GET"], name="fine_return"),
        Route("/fines/{fine_id}/receipts/{code}/{number}", fines.receipt, methods=["GET"],
              name="fine_receipt"),
        Route("/fines/{fine_id}/receipts/{code}/{number}/view", fines.receipt_view, methods=["GET"],
              name="fine_receipt_view"),
        Route("/fines/{fine_id}/receipts/{code}/{number}/ofd", fines.receipt_ofd, methods=["GET"],
              name="fine_receipt_ofd"),
        Route("/receipts/verify", receipts.verify, methods=["GET"], name="receipt_verify"),
        Route("/api/v1/fines", fines_api.create_fine, methods=["POST"], name="api_fines"),
        Route("/api/v1/fines/{fine_id}", fines_api.get_fine, methods=["GET"], name="api_fine"),
        Route("/api/v1/fines/{fine_id}/refunds", fines_api.report_refund, methods=["POST"],
              name="api_fine_refunds"),
        Route("/api/v1/reconciliations/{day}", fines_api.get_reconciliation, methods=["GET"],
              name="api_reconciliation"),
        Route("/api/v1/payments/callbacks/{platform}", payment_callbacks.receive, methods=["POST"],
              name="api_payment_callback"),
        *submission_api_routes(),
        Mount(STATIC_MOUNT, app=assets, name="static"),
    ]

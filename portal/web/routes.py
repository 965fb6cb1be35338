"""The one URL map of the portal: every page and API route, in one list."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from portal.web.api import agency as agency_api
from portal.web.api import cases as cases_api
from portal.web.api import deliveries as deliveries_api
from portal.web.api import openapi, token
from portal.web.api import publications as publications_api
from portal.web.api import verifications as verifications_api
from portal.web.pages import (
    account,
    cases,
    consent,
    home,
    login,
    mailbox,
    publicity,
    publicity_export,
    verify,
)
from portal.web.rendering import TEMPLATES_DIR

STATIC_DIR = TEMPLATES_DIR.parent / "static"


def routes() -> list[BaseRoute]:
    return [
        Route("/", home.home, name="home"),
        Route("/healthz", home.healthz, name="healthz"),
        Route("/login", login.login_page, methods=["GET"], name="login"),
        Route("/login", login.start, methods=["POST"], name="login_start"),
        Route("/auth/callback", login.callback, methods=["GET"], name="auth_callback"),
        Route("/account", account.account, name="account"),
        Route("/mailbox", mailbox.index, name="mailbox"),
        Route("/mailbox/{delivery_id}", mailbox.detail, name="mailbox_item"),
        Route("/mailbox/{delivery_id}/document", mailbox.document, methods=["POST"],
              name="mailbox_document"),
        Route("/mailbox/{delivery_id}/receipt", mailbox.receipt, name="mailbox_receipt"),
        Route("/mailbox/{delivery_id}/paper-copy", mailbox.paper_copy, methods=["POST"],
              name="mailbox_paper_copy"),
        Route("/consent", consent.page, name="consent"),
        Route("/consent/sign", consent.sign, methods=["POST"], name="consent_sign"),
        Route("/consent/draft.pdf", consent.draft, name="consent_draft"),
        Route("/consent/upload", consent.upload, methods=["POST"], name="consent_upload"),
        Route("/consent/revoke", consent.revoke, methods=["POST"], name="consent_revoke"),
        Route("/consent/done/{consent_id}", consent.done, name="consent_done"),
        Route("/consent/{consent_id}/document.pdf", consent.document, name="consent_document"),
        Route("/account/acting", account.switch_acting, methods=["POST"], name="account_acting"),
        Route("/logout", account.logout, methods=["POST"], name="logout"),
        Route("/c", cases.lookup, methods=["GET"], name="case_lookup"),
        Route("/c/{code}", cases.public_case, methods=["GET"], name="case_public"),
        Route("/cases", cases.my_cases, methods=["GET"], name="cases"),
        Route("/cases/{code}", cases.case_page, methods=["GET"], name="case"),
        Route("/verify", verify.verify_page, methods=["GET"], name="verify"),
        Route("/verify", verify.verify_upload, methods=["POST"], name="verify_upload"),
        Route("/verify/reports/{report_id}", verify.report_page, name="verify_report"),
        Route("/verify/reports/{report_id}/json", verify.download_json, name="verify_report_json"),
        Route("/verify/reports/{report_id}/pdf", verify.download_pdf, name="verify_report_pdf"),
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
        Route("/api/v1/publications/{publication_id:int}", publications_api.get_publication,
              methods=["GET"], name="api_publication"),
        Route("/api/v1/publications/{publication_id:int}", publications_api.change_publication,
              methods=["PUT"], name="api_publication_change"),
        Route("/api/v1/publications/{publication_id:int}/withdrawal",
              publications_api.withdraw_publication, methods=["POST"], name="api_publication_withdrawal"),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]

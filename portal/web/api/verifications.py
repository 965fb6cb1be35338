"""Public API: verify the signatures and seals of a PDF or OFD, answer the report as JSON.

``POST /api/v1/verifications`` with the PDF or OFD (GB/T 33190) in the multipart field
``file``. No token: like the /verify page, anyone may verify (DESIGN.md, "Who uses it"), so
the route is declared public (``security: []``) and is rate limited per client with the page
(``portal.web.files.verification_limit``; SECURITY.md, "Business logic"). Nothing is stored:
the answer is the report itself, ``VerificationReport.to_json_dict()``, whose
``document_sha256`` and ``size`` are those of the uploaded file; it is the same JSON the page
offers for download. Input errors are problem details with a stable code:
``file_missing``, ``file_empty``, ``not_pdf`` (neither a ``%PDF-`` header nor a ZIP package,
or the parse says it is no PDF/OFD; the code kept its name when OFD came), ``pdf_encrypted``,
``payload_too_large``, ``rate_limited``.

The JSON Schemas below are generated from the ``signing`` enums, so a new indication or level
cannot reach clients undocumented; the API tests validate every response against them.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal.web.api import openapi
from portal.web.client import client_key, enforce
from portal.web.files import MAX_DOCUMENT_BYTES, read_document_upload, refuse_unreadable, verification_limit
from signing import (
    AlgorithmFamily,
    Coverage,
    FileProblem,
    Indication,
    ModificationLevel,
    PadesLevel,
    RevocationStatus,
    SignatureKind,
    SubIndication,
)

_INSTANT = {"type": "string", "format": "date-time"}
_TEXT = {"type": "string"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


def _codes(enum: Any, description: str, *, nullable: bool = False) -> dict[str, Any]:
    values: list[Any] = [member.value for member in enum]
    return {"enum": [*values, None] if nullable else values, "description": description}


def _object(properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {"type": "object", "description": description, "required": sorted(properties),
            "additionalProperties": False, "properties": properties}


CERTIFICATE = openapi.Schema("VerifiedCertificate", _object({
    "subject": _TEXT,
    "issuer": _TEXT,
    "serial_number": {"type": "string", "pattern": "^[0-9a-f]+$"},
    "not_before": _INSTANT,
    "not_after": _INSTANT,
    "revocation": _codes(RevocationStatus, "Revocation status at validation time."),
    "revoked_at": _nullable(_INSTANT),
    "revocation_source": {"enum": ["OCSP", "CRL", None]},
}, "One certificate of the signer's chain, signer first, root last."))
TIMESTAMP = openapi.Schema("VerifiedTimestamp", _object({
    "time": _INSTANT,
    "tsa": {"type": "string", "description": "The time-stamping authority's name."},
    "valid": {"type": "boolean", "description": "Intact, valid and from a trusted TSA."},
}, "An RFC 3161 timestamp."))
MODIFICATIONS = openapi.Schema("VerifiedModifications", _object({
    "level": _codes(ModificationLevel, "pyHanko's modification level; null if the analysis "
                                       "could not run (never acceptable).", nullable=True),
    "allowed": {"type": "boolean"},
    "later_revisions": {"type": "integer", "minimum": 0},
    "changed_form_fields": {"type": "array", "items": _TEXT},
    "detail": _nullable(_TEXT),
    "description": {"type": "string", "description": "What changed after signing, in Chinese."},
}, "What was appended to the file after this signature, and whether it was allowed."))
_BOX = {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4,
        "description": "x, y, width, height on the page, in millimetres."}
SEAL = openapi.Schema("VerifiedSeal", _object({
    "name": {"type": "string", "description": "The seal's name (印章名称)."},
    "seal_id": {"type": "string", "description": "The seal's identifier (印章标识)."},
    "standard": {"enum": ["GB/T 38540-2020", "GM/T 0031-2014"]},
    "maker": _nullable({"type": "string", "description": "Organisation of the seal maker (制章者)."}),
    "valid_from": _INSTANT,
    "valid_until": _INSTANT,
    "picture_type": {"type": "string", "description": "Format of the picture the seal carries."},
    "picture_png": _nullable({"type": "string", "contentEncoding": "base64",
                              "description": "The seal's picture re-drawn as PNG within limits."}),
    "page": _nullable({"type": "integer", "minimum": 1, "description": "1-based page of the stamp."}),
    "box": _nullable(_BOX),
}, "A GB/T 38540 electronic seal as the signature carries it."))
SIGNATURE = openapi.Schema("VerifiedSignature", _object({
    "field_name": _TEXT,
    "indication": _codes(Indication, "ETSI EN 319 102-1 indication."),
    "sub_indication": _codes(SubIndication, "Why it did not pass (ETSI terms, plus "
                                            "DISALLOWED_MODIFICATION).", nullable=True),
    "message": {"type": "string", "description": "The verdict explained, in Chinese."},
    "kind": _codes(SignatureKind, "Seal of an organisation or signature of a person.", nullable=True),
    "signer_name": _nullable(_TEXT),
    "organisation": _nullable(_TEXT),
    "organisation_id": _nullable({"type": "string", "description": "Unified social credit code."}),
    "claimed_signing_time": _nullable(_INSTANT),
    "timestamp": {"oneOf": [TIMESTAMP.ref(), {"type": "null"}]},
    "archive_timestamp": {"oneOf": [TIMESTAMP.ref(), {"type": "null"}]},
    "certificate_chain": {"type": "array", "items": CERTIFICATE.ref()},
    "digest_algorithm": _nullable(_TEXT),
    "signature_algorithm": _nullable(_TEXT),
    "pades_level": _codes(PadesLevel, "Highest PAdES baseline level reached; null for "
                                      "adbe.pkcs7 signatures.", nullable=True),
    "coverage": _codes(Coverage, "What the signature's byte range covers.", nullable=True),
    "modifications": {"oneOf": [MODIFICATIONS.ref(), {"type": "null"}]},
    "certifying": {"type": "boolean", "description": "A certification (author) signature."},
    "algorithm_family": _codes(AlgorithmFamily, "国密 SM2, RSA or ECDSA.", nullable=True),
    "seal": {"oneOf": [SEAL.ref(), {"type": "null"}]},
}, "One signature or seal and its verdict."), uses=(CERTIFICATE, TIMESTAMP, MODIFICATIONS, SEAL))
REPORT = openapi.Schema("VerificationReport", _object({
    "indication": _codes(Indication, "The worst indication of the document's signatures."),
    "sub_indication": _codes(SubIndication, "The reason behind that indication.", nullable=True),
    "summary": {"type": "string", "description": "One plain Chinese sentence for people, e.g. "
                                                 "此文件的签章有效，签署后未被修改."},
    "problem": _codes(FileProblem, "Why the file as a whole could not be verified "
                                   "(then there are no signatures).", nullable=True),
    "signatures": {"type": "array", "items": SIGNATURE.ref()},
    "document_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                        "description": "SHA-256 of the uploaded file."},
    "size": {"type": "integer", "minimum": 1, "description": "Size of the uploaded file in bytes."},
    "validated_at": _INSTANT,
    "document_format": {"enum": ["PDF", "OFD"]},
    "unprotected_files": {"type": "array", "items": _TEXT,
                          "description": "OFD: files of the package no signature protects."},
    "changed_after_signing": {"type": "boolean", "description": "Content changed after a signature, "
                              "even a change it permits (a form filled in): what was sealed is not all "
                              "the file shows."},
}, "The verification report (ETSI EN 319 102-1 indications)."), uses=(SIGNATURE,))
UPLOAD = openapi.Schema("DocumentUpload", {
    "type": "object",
    "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "The PDF or OFD (GB/T 33190) file, at most "
                                           f"{MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB; its type is "
                                           "read from its content, not its name."}},
})


@openapi.operation(
    "post", summary="Verify the signatures and seals of a PDF or OFD", tag="verification",
    security="public",
    description="Checks every signature and e-seal of the uploaded file: PDF (PAdES and SM2/SM3 "
                "CMS) or OFD (GB/T 33190) with GB/T 38540 seals (2020 and GM/T 0031-2014 forms) "
                "or GB/T 35275 SM2 PKCS#7 signatures: integrity, signature value, the seal and its "
                "maker's signature, certificate chain and revocation, timestamps, and what was "
                "changed after signing (for OFD: the files no signature protects). The file is "
                "not stored. Public, rate limited per client (together with the /verify page).",
    body=openapi.Body(UPLOAD, media_type="multipart/form-data"),
    replies={
        200: openapi.Reply("The report. `indication` TOTAL_PASSED means every signature is "
                           "valid and nothing disallowed was changed after signing.", REPORT),
        400: openapi.problem("No file in the field `file` (`file_missing`), an empty file "
                             "(`file_empty`) or a malformed multipart body (`bad_request`)."),
        413: openapi.problem("The file or the request is too large (`payload_too_large`)."),
        415: openapi.problem("Neither a PDF nor an OFD, or damaged (`not_pdf`), or encrypted "
                             "(`pdf_encrypted`)."),
        429: openapi.problem("Too many verifications from this client (`rate_limited`).",
                             **{"Retry-After": "Seconds until the next verification is accepted."}),
    },
)
async def create_verification(request: Request) -> Response:
    await enforce(request, verification_limit(request.app.state.settings))
    data = await read_document_upload(request)
    report = await request.app.state.notary.verify(data, client=client_key(request))
    refuse_unreadable(report)
    return JSONResponse(report.to_json_dict(), headers={"cache-control": "no-store"})

"""The agency answers an objection to data (数据异议, GD art. 49; FJ art. 15).

    POST /api/v1/objections/{submission_id}/answer   the answer, once (201; the same again: 200)

An objection reaches the agency as a submission of kind ``objection`` (``GET
/api/v1/submissions``, the webhook); its id is the submission's. The answer is recorded once
in the evidence chain the objection is in, acknowledges the objection, and notifies the party,
who reads it with the objection. Repeating the same answer (a retry whose reply was lost)
answers the first with 200; a different one is 409 ``objection_already_answered``. Another
agency's objection, or a submission that is not an objection, answers 404.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal.cases.objections import ANSWER_CHARS, Outcome, parse_answer
from portal.services import objections, submission_views
from portal.services.api_tokens import AgencyPrincipal
from portal.web.api import openapi
from portal.web.api.bearer import agency_endpoint
from portal.web.api.bodies import read_json
from portal.web.api.submissions import OBJECTION_ANSWER_FIELDS, SUBMISSION_ID

MAX_JSON_BYTES = 8 * 1024

NEW_ANSWER = openapi.Schema("NewObjectionAnswer", {
    "type": "object", "required": ["outcome", "text"], "additionalProperties": False,
    "properties": {
        "outcome": {"enum": [o.value for o in Outcome],
                    "description": "corrected (已更正), partly_corrected (已部分更正), unchanged "
                                   "(经核实无误，维持原信息)."},
        "text": {"type": "string", "minLength": 1, "maxLength": ANSWER_CHARS,
                 "description": "The answer the party reads: what was checked, what was changed, why."},
        "corrected_version": {"type": ["integer", "null"], "minimum": 1,
                              "description": "For a published item: the version that carries the "
                                             "correction (publish it first: PUT "
                                             "/api/v1/publications/{id})."},
    },
})
ANSWER = openapi.Schema("ObjectionAnswer", {
    **OBJECTION_ANSWER_FIELDS,
    "required": ["submission_id", *OBJECTION_ANSWER_FIELDS["required"]],
    "properties": {"submission_id": {"type": "string"}, **OBJECTION_ANSWER_FIELDS["properties"]},
})


@openapi.operation(
    "post", summary="Answer an objection to data", security="agency", parameters=(SUBMISSION_ID,),
    description="Records the agency's answer to an objection (数据异议, GD art. 49; FJ art. 15) "
                "once, in the case's or published item's evidence chain; it acknowledges the "
                "objection and notifies the party, who sees it with the objection. The same "
                "answer again returns the first (200).",
    body=openapi.Body(NEW_ANSWER),
    replies={201: openapi.Reply("Answered.", ANSWER), 200: openapi.Reply("Answered before, alike.", ANSWER),
             404: openapi.problem("No such objection for this agency (`not_found`)."),
             409: openapi.problem("`objection_already_answered`: answered before, differently."),
             413: openapi.problem("The body is larger than 8 KiB."),
             415: openapi.problem("The body is not application/json."),
             422: openapi.problem("`validation_failed`: `errors` maps each bad member to a code.")},
)
@agency_endpoint
async def answer_objection(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    submission = await submission_views.for_agency(db, agency.agency_id,
                                                   request.path_params["submission_id"])
    given = parse_answer(await read_json(request, MAX_JSON_BYTES))
    answered, created = await objections.answer(db, submission, given, agency.actor,
                                                request.app.state.renderer)
    return JSONResponse({"submission_id": submission.public_id,
                         **submission_views.answer_json(answered)},
                        status_code=201 if created else 200, headers={"cache-control": "no-store"})

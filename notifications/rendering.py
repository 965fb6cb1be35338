"""Turning a `Message` into channel text, with the whitelist and the privacy guard applied.

Three locks keep personal data out of SMS and e-mail (PIPL data minimisation; ASVS
v5.0.0-14.2.6 "only the data needed"):

1. the catalogue is checked when a `Renderer` is built: no template may use a variable its
   channel may not carry (`CHANNEL_CEILINGS`), so an SMS template with an amount cannot ship;
2. a context must hold exactly the variables its template uses, each of the right shape
   (`VARIABLES`); anything else is a `ContextRejected` naming the keys, not the values;
3. the rendered SMS or e-mail is scanned for ID numbers, mobile numbers and amounts, in case
   one was passed off as a case code or a document type (`PersonalDataRejected`).

The link in every text is the portal's public URL plus the kind's path behind the login; no
caller can supply a URL or a token. Rendering is deterministic, so the portal can render once
when it writes the outbox row (to fail inside the causing transaction) and again in the worker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

import jinja2
import jinja2.meta

from notifications.catalogue import LINK_PATHS, TEMPLATES, Template
from notifications.errors import (
    ContextRejected,
    PersonalDataRejected,
    TemplateError,
    UnknownTemplate,
)
from notifications.messages import CHANNEL_CEILINGS, VARIABLES, ChannelKind, Kind, Message, Rendered

__all__ = ["Renderer", "personal_data_in"]


_ID_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?!\d)")
_AMOUNT = re.compile(
    r"[¥￥]|[\d〇零一二三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟]\s*[元圆]"
    r"|人民币|(?<![A-Za-z])(?:RMB|CNY)(?![A-Za-z])",
    re.IGNORECASE,
)


def _is_id_number(candidate: str) -> bool:
    """A resident ID number: a real birth date and, for 18 characters, the GB 11643 check."""
    birth = candidate[6:14] if len(candidate) == 18 else "19" + candidate[6:12]
    try:
        date(int(birth[:4]), int(birth[4:6]), int(birth[6:8]))
    except ValueError:
        return False
    if len(candidate) == 15:
        return True
    total = sum(int(digit) * weight for digit, weight in zip(candidate, _ID_WEIGHTS, strict=False))
    return _ID_CHECK_CHARS[total % 11] == candidate[17].upper()


def personal_data_in(text: str) -> frozenset[str]:
    """What kinds of personal data `text` appears to carry: id_number, phone_number, amount."""
    found = set()
    if any(_is_id_number(match) for match in _ID_CANDIDATE.findall(text)):
        found.add("id_number")
    if _MOBILE.search(text):
        found.add("phone_number")
    if _AMOUNT.search(text):
        found.add("amount")
    return frozenset(found)


CODE_VARIABLES = frozenset({"case_code"})
"""Variables that carry a code the portal drew at random (letters, digits and hyphens)."""


def _personal_data_around_codes(text: str, codes: Iterable[str]) -> frozenset[str]:
    """`personal_data_in` for a text that shows ``codes``: within a code, ``CNY`` or ``RMB``
    between digits (``7CNY-…``, drawn before `portal.cases.codes.new_code` drew such codes
    again) is no amount, so every notice of its case would be refused; an ID or mobile number
    within a code is still refused like anywhere else."""
    found: set[str] = set()
    for code in codes:
        text = text.replace(code, " ")
        found |= personal_data_in(code) - {"amount"}
    return frozenset(found | personal_data_in(text))


def _checked_portal_url(portal_url: str) -> str:
    """The portal's public base URL: https, no query or userinfo.

    http is accepted only for development and test hosts (loopback or a name without a dot,
    such as `localhost` or `testserver`): a link in an SMS must not invite interception.
    """
    parts = urlsplit(portal_url)
    development = parts.hostname is not None and (
        "." not in parts.hostname or parts.hostname.startswith("127.") or parts.hostname == "::1"
    )
    if parts.scheme != "https" and not (parts.scheme == "http" and development):
        raise ValueError("portal_url must be https (http only for a development host)")
    if not parts.hostname or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("portal_url must be a plain base URL without query, fragment or userinfo")
    if personal_data_in(portal_url):
        raise ValueError("portal_url looks like it carries personal data")
    return portal_url.rstrip("/")


@dataclass(frozen=True)
class _Compiled:
    template: Template
    variables: frozenset[str]
    subject: jinja2.Template | None
    body: jinja2.Template


class Renderer:
    """Renders messages from a template catalogue for one portal URL.

    Building one compiles and checks the whole catalogue, so a template that breaks the policy
    fails at start-up, not when the first SMS goes out.
    """

    def __init__(self, portal_url: str, templates: Iterable[Template] = TEMPLATES) -> None:
        self.portal_url = _checked_portal_url(portal_url)
        # Autoescape off: these are plain texts. Values cannot inject markup anywhere that
        # matters, because whoever shows a notice in HTML escapes it there.
        self._env = jinja2.Environment(
            autoescape=False,  # noqa: S701
            undefined=jinja2.StrictUndefined,
        )
        self._compiled: dict[tuple[Kind, ChannelKind, int], _Compiled] = {}
        self._current: dict[tuple[Kind, ChannelKind], int] = {}
        for template in templates:
            self._add(template)
        missing = [
            f"{kind}/{channel}"
            for kind in Kind
            for channel in ChannelKind
            if (kind, channel) not in self._current
        ]
        if missing:
            raise UnknownTemplate(f"no template for {', '.join(missing)}")

    def _add(self, template: Template) -> None:
        key = (template.kind, template.channel, template.version)
        if key in self._compiled:
            raise TemplateError(f"{template.name} is defined twice")
        if (template.subject is None) != (template.channel is ChannelKind.SMS):
            raise TemplateError(f"{template.name}: SMS has no subject, the other channels need one")
        sources = [template.body] + ([template.subject] if template.subject is not None else [])
        used: set[str] = set()
        for source in sources:
            used |= jinja2.meta.find_undeclared_variables(self._env.parse(source))
        variables = frozenset(used - {"link"})
        if not variables <= VARIABLES.keys():
            raise TemplateError(f"{template.name} uses undefined variables")
        if not variables <= CHANNEL_CEILINGS[template.channel]:
            beyond = ", ".join(sorted(variables - CHANNEL_CEILINGS[template.channel]))
            raise TemplateError(f"{template.name} may not carry {beyond} on {template.channel}")
        self._compiled[key] = _Compiled(
            template,
            variables,
            self._env.from_string(template.subject) if template.subject is not None else None,
            self._env.from_string(template.body),
        )
        current = self._current.get(key[:2], 0)
        self._current[key[:2]] = max(current, template.version)

    def _lookup(self, kind: Kind, channel: ChannelKind, version: int | None) -> _Compiled:
        try:
            kind, channel = Kind(kind), ChannelKind(channel)
        except ValueError as exc:
            raise UnknownTemplate(str(exc)) from None
        number = self._current[kind, channel] if version is None else version
        try:
            return self._compiled[kind, channel, number]
        except KeyError:
            raise UnknownTemplate(f"no template {kind}/{channel}/v{number}") from None

    def current_version(self, kind: Kind, channel: ChannelKind) -> int:
        """The version new messages of this kind and channel are rendered with."""
        return self._lookup(kind, channel, None).template.version

    def variables(
        self, kind: Kind, channel: ChannelKind, version: int | None = None
    ) -> frozenset[str]:
        """The exact context keys a message of this kind and channel must carry."""
        return self._lookup(kind, channel, version).variables

    def render(self, message: Message, *, version: int | None = None) -> Rendered:
        """Render `message` with the current template, or with `version` to pin an old one.

        Raises `ContextRejected` (or its `PersonalDataRejected`) and `UnknownTemplate`.
        """
        compiled = self._lookup(message.kind, message.channel, version)
        name = compiled.template.name
        given = message.context.keys()
        if given != compiled.variables:
            raise ContextRejected(
                name, unknown=given - compiled.variables, missing=compiled.variables - given
            )
        values: dict[str, str] = {}
        invalid: list[str] = []
        for key in compiled.variables:
            try:
                values[key] = VARIABLES[key](message.context[key])
            except (TypeError, ValueError):
                invalid.append(key)
        if invalid:
            raise ContextRejected(name, invalid=invalid)
        values["link"] = self.portal_url + LINK_PATHS[message.kind]
        subject = compiled.subject.render(values) if compiled.subject is not None else None
        body = compiled.body.render(values)
        if message.channel is not ChannelKind.INBOX:
            codes = [values[key] for key in compiled.variables & CODE_VARIABLES]
            found = _personal_data_around_codes(f"{subject or ''}\n{body}", codes)
            if found:
                raise PersonalDataRejected(name, found=found)
        return Rendered(subject=subject, body=body, template_version=compiled.template.version)

"""Privacy masking of enforcement information before it is stored for publication.

Published decisions must not leak personal data: ID numbers, phone numbers, home addresses and
bank accounts are masked, a natural person is shown by surname only, and organisations' names
and unified social credit codes stay visible (LAW.md "Publicity and privacy": FJ art. 8, GD
art. 46, Personal Information Protection Law). ``mask_text`` runs on ingest, so the raw text
never reaches the public tables, logs or the search index; its ``findings`` name only the kind
and position of what was masked, never the value, so they may be logged.

| datum | shown as | example |
| --- | --- | --- |
| resident ID number | first and last character | 3****************X |
| passport or permit number | first character | E******** |
| mobile number | first 3 and last 4 digits | 138****8000 |
| landline | area code and last 4 digits | 0591-****4321 |
| bank card or account | last 4 digits | **** **** **** ***0 123 |
| licence plate | province, letter, last 2 | 闽A***45, 闽A·****45 |
| address | down to district/county | 福建省福州市鼓楼区********* |
| e-mail address | first character, top-level domain | z*******@*******.com |
| QQ, WeChat, Alipay account | nothing | QQ：******** |
| person | surname (``names``) | 张*, 欧阳**, 阿***·*** |
| unified social credit code | all of it | 91350100MA2XY12346 |
| organisation | all of it | 福州闽江贸易有限公司 |

How each is found:

- ID number: 18 characters with a valid check character (GB 11643) and a birth year
  1900-2099; 15 digits with a valid 19YYMMDD birth date (issued before 1999); any 15 to 18
  characters after an ID label (身份证号码, 驾驶证号), even with a wrong check character.
  Passport and permit numbers: the letters and digits after 护照, 通行证, 居留证, 居住证.
- Mobile: 1[3-9] and 9 more digits, with an optional 86, 0086 or +86 prefix.
- Landline: area code and a 7-8 digit number (0591-87654321, (0591)8765 4321); after a phone
  label (电话, 联系电话, 座机 ...) also 87654321 and 059187654321.
- Bank card: 16-19 digits in groups of four, or contiguous with a valid Luhn digit (not after
  a case-number or payment-code label: 编号, 缴款码); after an account label (卡号, 账号 ...)
  any 8-30 digits.
- Licence plate: province, letter, 5-6 letters and digits with at least 3 digits (闽A12345,
  闽A·D12345, 粤B 12345).
- Address, organisation: see ``portal.publicity.names``; person: ``portal.publicity.persons``
  (role words, a Chinese segmenter, lists).
- E-mail: local@domain.tld. QQ, WeChat, Alipay: the word after QQ, 微信(号), 支付宝(账号).
- Credit code: 18 characters with a valid MOD 31 check character (GB 32100).

Numbers may be written with spaces or hyphens between groups and in full-width digits
(３５０１…Ｘ): detection runs on a normalised copy, one character for one, and only masked
characters change -- the output has the input's length, every other character (full-width ones
included) is left as it was, and each finding's ``start:end`` indexes both texts. Masking
replaces characters with ``*``, which no detector reads as part of a datum, so masking a masked
text changes nothing.

Conflicts are settled in this order: credit codes and the caller's organisations are never
masked; a credit code that is also a valid ID number counts as an ID number unless a credit-code
label precedes it (privacy first: about one ID number in thirty passes the MOD 31 check).
Numbers, contacts, plates and addresses are masked even inside a detected organisation name
(the organisation is cut to what follows them); a person's name inside a detected
organisation name (张三小吃店) stays, because it is the organisation's name. Where two findings
overlap, every character either masks is masked and they are reported as one finding, named
after the kind listed first in ``DatumKind``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from portal.identifiers import is_valid_credit_code, is_valid_id_number
from portal.publicity.names import MASK, find_addresses, find_organisations, mask_person_name
from portal.publicity.persons import find_known_persons, find_persons


class DatumKind(StrEnum):
    """Kinds of personal data; an overlap of several is named after the first listed."""

    ID_NUMBER = "id_number"
    BANK_CARD = "bank_card"
    MOBILE = "mobile"
    LANDLINE = "landline"
    EMAIL = "email"
    IM_ACCOUNT = "im_account"
    LICENCE_PLATE = "licence_plate"
    ADDRESS = "address"
    PERSON_NAME = "person_name"


_PRIORITY = {kind: rank for rank, kind in enumerate(DatumKind)}


@dataclass(frozen=True, slots=True)
class Finding:
    """A masked personal datum: its kind and ``text[start:end]`` -- never its value."""

    kind: DatumKind
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class MaskResult:
    """The text as it may be published, and what was masked in it (safe to log)."""

    text: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class _Candidate:
    kind: DatumKind
    start: int
    end: int
    masked: frozenset[int]


_NORMALISE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {
    0x3000: ord(" "),
    **dict.fromkeys((0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2212), ord("-")),
    **dict.fromkeys((0x2022, 0x2027, 0x2219, 0x30FB, 0xFF65), ord("·")),
}

_LABELS = {
    "id": ("公民身份号码", "居民身份证", "身份证号码", "身份证号", "身份证", "身份号码", "证件号码", "证件号",
           "社会保障号码", "驾驶证号码", "驾驶证号", "驾驶证"),
    "credit": ("统一社会信用代码", "社会信用代码", "信用代码", "组织机构代码", "纳税人识别号", "注册号"),
    "phone": ("联系电话", "电话号码", "固定电话", "联系方式", "手机号码", "手机号", "手机", "电话", "座机",
              "固话", "传真", "Tel", "TEL", "tel"),
    "bank": ("银行卡号", "银行账号", "银行账户", "收款账号", "开户账号", "银行卡", "卡号", "账号", "帐号",
             "账户", "帐户", "存折"),
    "other": ("决定书编号", "文书编号", "编号", "文号", "案号", "缴款码", "缴款编号", "缴款识别码",
              "流水号", "订单号", "票据号码", "票据号", "凭证号"),
}  # fmt: skip
_LABEL_RE = re.compile(
    "(?:" + "|".join(f"(?P<{kind}>{'|'.join(words)})" for kind, words in _LABELS.items()) + ")(?:为|是)?$"
)
_LABEL_GAP = frozenset("0123456789Xx -:/()、或及和")  # not "*": a masked number is no list

_SEP = "(?: {1,2}|-)"
_MAX_DIGITS = 30
_CHAIN_RE = re.compile(rf"(?<![0-9A-Za-z])[0-9]+(?:{_SEP}[0-9]+)*[Xx]?(?![0-9A-Za-z])")
_TOKEN_RE = re.compile(r"[0-9]+[Xx]?")
_CODE_RE = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{18}(?![0-9A-Za-z])")
_MOBILE_RE = re.compile(r"(?:0086|86)?1[3-9][0-9]{9}")
_AREA_CODE_RE = re.compile(r"0[1-9][0-9]{1,2}")
_PAREN_AREA_RE = re.compile(r"\(0[1-9][0-9]{1,2}\) ?$")
_GROUPED_CARD_RE = re.compile(rf"[0-9]{{4}}(?:{_SEP}[0-9]{{4}}){{3}}(?:{_SEP}[0-9]{{1,3}})?")
_PLATE_RE = re.compile(
    r"(?<![A-Za-z0-9])[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领][A-HJ-NP-Z]"
    r"[·. -]?(?P<body>[A-HJ-NP-Z0-9]{5,6})[挂学警港澳]?(?![A-Za-z0-9])"
)
_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
)
_DOCUMENT_RE = re.compile(
    r"(?:护照|通行证|居留证|居留许可|居住证)(?:号码|号)? *:? *(?P<number>[A-Za-z0-9]{6,18})(?![A-Za-z0-9])"
)
_IM_RE = re.compile(
    r"(?:(?<![A-Za-z])(?:QQ|qq|WeChat|wechat|WX|wx)|微信|支付宝)(?:号码|账号|账户|号|ID|id)? *:? *"
    r"(?P<account>[A-Za-z0-9][A-Za-z0-9_-]{4,19})(?![A-Za-z0-9_-])"
)


def mask_text(
    text: str, *, known_persons: Sequence[str] = (), known_organisations: Sequence[str] = ()
) -> MaskResult:
    """Mask every personal datum in ``text`` (rules in the module doc); keep organisations.

    ``known_persons`` are the natural persons the case names (each occurrence is masked like
    ``mask_person_name``); ``known_organisations`` are never masked, not even a person's name
    inside them (a 个体工商户's trade name).

    Masking a masked text changes nothing: the segmenter reads a text with masks in it a
    little differently (its HMM sees different neighbours), so the result is masked again
    until nothing more is found, and that fixed point is what is returned.
    """
    result = _mask_once(text, known_persons, known_organisations)
    for _ in range(_MAX_ROUNDS):
        again = _mask_once(result.text, known_persons, known_organisations)
        if not again.findings:
            break
        result = MaskResult(again.text, _merged([*result.findings, *again.findings]))
    return result


_MAX_ROUNDS = 3


def _mask_once(text: str, known_persons: Sequence[str], known_organisations: Sequence[str]) -> MaskResult:
    norm = text.translate(_NORMALISE)
    kept = [*_credit_codes(norm), *_occurrences(norm, (o.translate(_NORMALISE) for o in known_organisations))]
    strong = [c for c in _strong_candidates(norm) if not _overlaps(c.start, c.end, kept)]
    protected = [*kept, *_organisations(norm, strong)]
    persons = [
        *find_known_persons(norm, (p.translate(_NORMALISE) for p in known_persons)),
        *find_persons(norm),
    ]
    names = [_person(norm, start, end) for start, end in persons if not _overlaps(start, end, protected)]
    return _apply(text, [*strong, *names])


def _strong_candidates(norm: str) -> Iterator[_Candidate]:
    yield from _numbers(norm)
    for match in _PLATE_RE.finditer(norm):
        body = match.group("body")
        if sum(ch.isdigit() for ch in body) >= 3:
            yield _Candidate(
                DatumKind.LICENCE_PLATE, *match.span(), frozenset(range(match.start("body"), match.end() - 2))
            )
    for match in _DOCUMENT_RE.finditer(norm):
        number = range(match.start("number") + 1, match.end("number"))
        yield _Candidate(DatumKind.ID_NUMBER, *match.span("number"), frozenset(number))
    for match in _EMAIL_RE.finditer(norm):
        top_level = norm.rindex(".", match.start("domain"), match.end())
        masked = (i for i in range(match.start() + 1, top_level) if norm[i] not in ".@")
        yield _Candidate(DatumKind.EMAIL, *match.span(), frozenset(masked))
    for match in _IM_RE.finditer(norm):
        account = range(match.start("account"), match.end("account"))
        yield _Candidate(DatumKind.IM_ACCOUNT, *match.span("account"), frozenset(account))
    for start, end in find_addresses(norm):
        yield _Candidate(DatumKind.ADDRESS, start, end, frozenset(range(start, end)))


def _numbers(norm: str) -> Iterator[_Candidate]:
    """Every run of digit groups (with spaces or hyphens) that is, or contains, a datum.

    A run such as "0591-87654321 13800138000" holds two, so each sequence of whole groups of at
    most 30 digits is tried: groups are never split, so no part of a longer number matches.
    """
    for chain in _CHAIN_RE.finditer(norm):
        tokens = [
            (chain.start() + t.start(), chain.start() + t.end()) for t in _TOKEN_RE.finditer(chain.group())
        ]
        for i, (start, _) in enumerate(tokens):
            label, size = _label_before(norm, start), 0
            for token_start, end in tokens[i:]:
                size += end - token_start
                if size > _MAX_DIGITS:
                    break
                if (candidate := _classify(norm, start, end, label)) is not None:
                    yield candidate


def _classify(norm: str, start: int, end: int, label: str | None) -> _Candidate | None:
    value = norm[start:end]
    digits = value.replace(" ", "").replace("-", "").upper()
    size = len(digits)
    if (
        (label == "id" and 15 <= size <= 18)
        or _is_id_number(digits)
        or (size == 15 and _is_old_id(digits, label))
    ):
        return _mask_digits(DatumKind.ID_NUMBER, norm, start, end, head=1, tail=1)
    if not digits.isdigit():
        return None
    if _MOBILE_RE.fullmatch(digits):
        return _mask_digits(DatumKind.MOBILE, norm, start, end, head=size - 8, tail=4)
    groups = re.split("[ -]+", value)
    subscriber = "".join(groups[1:])
    if len(groups) > 1 and _AREA_CODE_RE.fullmatch(groups[0]) and _is_subscriber(subscriber):
        return _mask_digits(DatumKind.LANDLINE, norm, start, end, head=len(groups[0]), tail=4)
    if _is_subscriber(digits) and (paren := _PAREN_AREA_RE.search(norm, max(0, start - 7), start)):
        area = sum(char.isdigit() for char in paren.group())
        return _mask_digits(DatumKind.LANDLINE, norm, paren.start(), end, head=area, tail=4)
    if label == "phone":
        area = (3 if digits[1:2] in ("1", "2") else 4) if digits.startswith("0") else 0
        if _is_subscriber(digits[area:]):
            return _mask_digits(DatumKind.LANDLINE, norm, start, end, head=area, tail=4)
    is_card = 16 <= size <= 19 and (
        _GROUPED_CARD_RE.fullmatch(value)
        or (value.isdigit() and label not in ("other", "credit") and _luhn(digits))
    )
    if is_card or (label == "bank" and 8 <= size <= _MAX_DIGITS):
        return _mask_digits(DatumKind.BANK_CARD, norm, start, end, head=0, tail=4)
    return None


def _is_subscriber(digits: str) -> bool:
    return len(digits) in (7, 8) and digits[0] in "23456789"


def _is_id_number(digits: str) -> bool:
    return is_valid_id_number(digits) and 1900 <= int(digits[6:10]) <= 2099


def _is_old_id(digits: str, label: str | None) -> bool:
    """A 15-digit pre-1999 ID number: region, 19YYMMDD birth date, sequence; no check digit."""
    if label in ("credit", "other") or not digits.isdigit() or digits[0] not in "12345678":
        return False
    try:
        date(1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12]))
    except ValueError:
        return False
    return True


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _mask_digits(kind: DatumKind, norm: str, start: int, end: int, *, head: int, tail: int) -> _Candidate:
    """Mask the digits of ``norm[start:end]`` but the first ``head`` and last ``tail``."""
    positions = [i for i in range(start, end) if norm[i].isalnum()]
    return _Candidate(kind, start, end, frozenset(positions[head : len(positions) - tail]))


def _label_before(norm: str, start: int) -> str | None:
    """The kind of label a number follows ("身份证号码：", "电话：0591-…、"), if any."""
    floor, index = max(0, start - 60), start
    while index > floor and norm[index - 1] in _LABEL_GAP:
        index -= 1
    match = _LABEL_RE.search(norm, max(0, index - 12), index)
    return match.lastgroup if match else None


def _credit_codes(norm: str) -> Iterator[tuple[int, int]]:
    for match in _CODE_RE.finditer(norm):
        code = match.group().upper()
        if is_valid_credit_code(code) and (
            not _is_id_number(code) or _label_before(norm, match.start()) == "credit"
        ):
            yield match.span()


def _occurrences(norm: str, words: Iterable[str]) -> Iterator[tuple[int, int]]:
    for word in words:
        if word.strip():
            yield from (m.span() for m in re.finditer(re.escape(word.strip()), norm))


def _organisations(norm: str, strong: list[_Candidate]) -> Iterator[tuple[int, int]]:
    """Detected organisation names, each cut to start after any datum masked inside it."""
    for start, suffix_start, end in find_organisations(norm):
        inside = [c.end for c in strong if c.start < end and start < c.end]
        begin = max(inside, default=start)
        if suffix_start - begin >= 2:
            yield begin, end


def _person(norm: str, start: int, end: int) -> _Candidate:
    shown = mask_person_name(norm[start:end])
    masked = (start + i for i, char in enumerate(shown) if char == MASK and norm[start + i] != MASK)
    return _Candidate(DatumKind.PERSON_NAME, start, end, frozenset(masked))


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in spans)


def _apply(text: str, candidates: list[_Candidate]) -> MaskResult:
    chars = list(text)
    for candidate in candidates:
        for index in candidate.masked:
            chars[index] = MASK
    found = [Finding(c.kind, c.start, c.end) for c in candidates if c.masked]
    return MaskResult("".join(chars), _merged(found))


def _merged(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Overlapping findings as one, named after the kind listed first in ``DatumKind``."""
    merged: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.start, f.end)):
        if merged and finding.start < merged[-1].end:
            last = merged[-1]
            kind = min(last.kind, finding.kind, key=_PRIORITY.__getitem__)
            merged[-1] = Finding(kind, last.start, max(last.end, finding.end))
        else:
            merged.append(finding)
    return tuple(merged)

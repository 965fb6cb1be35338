"""``signing.x509_names`` answers every name comparison exactly as asn1crypto does (whether
a certificate issued another, which certificate of a CMS signed it): equal, different or
refused, the first time and from memory; and the verifier runs with it."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from asn1crypto import x509

from signing import x509_names


def _rdn(*pairs: tuple[str, x509.DirectoryString | x509.PrintableString]) -> x509.RelativeDistinguishedName:
    return x509.RelativeDistinguishedName(
        [x509.NameTypeAndValue({"type": kind, "value": value}) for kind, value in pairs]
    )


def _name(*rdns: x509.RelativeDistinguishedName) -> x509.Name:
    return x509.Name(name="", value=x509.RDNSequence(list(rdns)))


def _utf8(text: str) -> x509.DirectoryString:
    return x509.DirectoryString(name="utf8_string", value=text)


def _country() -> x509.PrintableString:
    return x509.PrintableString("CN")


def _printable(text: str) -> x509.DirectoryString:
    return x509.DirectoryString(name="printable_string", value=text)


NAMES = [
    x509.Name.build({"country_name": "CN", "common_name": "开发根证书"}),
    x509.Name.build({"country_name": "CN", "common_name": "Portal Root CA"}, use_printable=True),
    x509.Name.build({"common_name": "福州市鼓楼区市场监督管理局", "organization_name": "福州市"}),
    _name(_rdn(("country_name", _country())), _rdn(("common_name", _utf8("Portal  Root CA")))),
    _name(_rdn(("country_name", _country())), _rdn(("common_name", _printable("portal root ca")))),
    _name(_rdn(("country_name", _country())), _rdn(("common_name", _utf8("ＰＯＲＴＡＬ ＲＯＯＴ ＣＡ")))),
    _name(_rdn(("country_name", _country())), _rdn(("common_name", _utf8("Portal Ro\u00adot CA")))),
    _name(_rdn(("country_name", _country()), ("common_name", _utf8("Portal Root CA")))),
    _name(_rdn(("common_name", _utf8("Portal Root CA"))), _rdn(("country_name", _country()))),
    _name(_rdn(("common_name", _utf8("bad \ue000 mark")))),  # RFC 4518 prohibits it
    _name(),
]


def _outcome(compute: Callable[..., object], *args: object) -> object:
    try:
        return compute(*args)
    except ValueError as exc:
        return ("refused", str(exc))


def _equal(first: x509.Name, second: x509.Name) -> bool:
    return first == second


def _different(first: x509.Name, second: x509.Name) -> bool:
    return first != second


def _hashable(name: x509.Name) -> str:
    return name.hashable


def test_same_comparisons_as_asn1crypto() -> None:
    x509_names.install()
    for first, second in itertools.product(NAMES, repeat=2):
        expected = _outcome(x509_names._asn1crypto_equal, first, second)
        negated = not expected if isinstance(expected, bool) else expected
        for _ in range(2):  # computed, then remembered
            assert _outcome(_equal, first, second) == expected, (first.native, second.native)
            assert _outcome(_different, first, second) == negated
    assert NAMES[0] != "CN=开发根证书" and (NAMES[0] == object()) is False


def test_same_hashable_as_asn1crypto() -> None:
    x509_names.install()
    for name in NAMES:
        expected = _outcome(x509_names._asn1crypto_hashable, name)
        for _ in range(2):
            assert _outcome(_hashable, name) == expected


def test_memory_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(x509_names, "LIMIT", 3)
    monkeypatch.setattr(x509_names, "_EQUAL", {})
    x509_names.install()
    valid = [name for name in NAMES if isinstance(_outcome(_hashable, name), str)]
    for first, second in itertools.product(valid, repeat=2):
        assert (first == second) == x509_names._asn1crypto_equal(first, second)
    assert len(x509_names._EQUAL) == 3


def test_installed_for_the_verifier() -> None:
    import signing.verify  # noqa: F401  (installing is part of importing the verifier)

    assert x509.Name.__eq__ is x509_names.names_equal
    assert x509.Name.hashable.fget is x509_names.name_hashable  # type: ignore[attr-defined]

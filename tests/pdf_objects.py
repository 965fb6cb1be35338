"""Typed steps into the object tree of a PDF that pypdf parsed, shared by the tests that read
their documents' structure (fonts, attachments, form fields).

pypdf types a looked-up value as any ``PdfObject``; a test walking ``/Root`` → ``/Names`` → …
expects a dictionary at each step and says so here, so a document of another shape fails the
test with the path that went wrong rather than an error deeper down.
"""

from __future__ import annotations

from pypdf.generic import ArrayObject, DictionaryObject, PdfObject


def lookup(root: PdfObject, *path: str) -> PdfObject:
    """The object at ``path`` under ``root``, each step through a dictionary."""
    node = root
    for step, key in enumerate(path):
        assert isinstance(node, DictionaryObject), f"{'/'.join(path[:step]) or 'root'} is {node!r}"
        node = node[key]
    return node


def dictionary(root: PdfObject, *path: str) -> DictionaryObject:
    """The dictionary at ``path`` under ``root``."""
    node = lookup(root, *path)
    assert isinstance(node, DictionaryObject), f"{'/'.join(path)} is {node!r}"
    return node


def array(root: PdfObject, *path: str) -> ArrayObject:
    """The array at ``path`` under ``root``."""
    node = lookup(root, *path)
    assert isinstance(node, ArrayObject), f"{'/'.join(path)} is {node!r}"
    return node

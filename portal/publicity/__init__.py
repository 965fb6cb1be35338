"""Publicity (公示): what of an enforcement record the public may see.

``mask_text`` turns a decision's text into the text that may be published -- ID numbers,
phone numbers, bank cards, addresses, licence plates, e-mail and chat accounts masked,
persons shown by surname, organisations and their credit codes kept (FJ art. 8, GD art. 46).
It runs on ingest, before anything is stored, logged or indexed.
"""

from portal.publicity.masking import DatumKind, Finding, MaskResult, mask_text
from portal.publicity.names import COMPOUND_SURNAMES, mask_person_name

__all__ = ["COMPOUND_SURNAMES", "DatumKind", "Finding", "MaskResult", "mask_person_name", "mask_text"]

"""xlsb and ods: calamine only (no fallback reader; without calamine, the ``needs_full`` message).
"""

from __future__ import annotations

from ..raw import FileFailure, IntakeLimits, RawBook
from ..sniff import Sniffed
from .calamine import available as calamine_available
from .calamine import calamine_sheets, definite_failure, is_entity_error
from .docprops import ods_meta, ooxml_doc_props
from .failures import Refused, failure
from .grid import Budget
from .hidden import apply_hidden, ods_hidden


def read_calamine_only(path: str, data: bytes, sn: Sniffed, limits: IntakeLimits) -> RawBook | FileFailure:
    if not calamine_available():
        return failure(path, "unreadable", "needs_full", fmt=".xlsb" if sn.kind == "xlsb" else ".ods")
    budget = Budget(path, limits)
    try:
        sheets = calamine_sheets(path, data, budget, with_merged=True)
    except Refused:
        raise
    except Exception as e:  # noqa: BLE001
        fail = definite_failure(path, e)
        if fail is not None:
            return fail
        if is_entity_error(e):
            return failure(path, "corrupt", "corrupt_xml_entities")
        return failure(path, "corrupt")
    book = RawBook(path=path, format=sn.kind, sheets=sheets)
    if sn.kind == "ods" and sn.zip is not None:
        apply_hidden(sheets, ods_hidden(sn.zip))
        ods_meta(sn.zip, book)
    elif sn.zip is not None:
        ooxml_doc_props(sn.zip, book)
    book.notes = budget.final_notes()
    return book



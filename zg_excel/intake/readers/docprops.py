"""Saved time and custom properties of xlsx (docProps/) and ods (meta.xml).
"""

from __future__ import annotations

import datetime as _dt
import re
import zipfile

from ..raw import RawBook
from .limits import MB
from .parts import xml_attrs, xml_unescape, zip_member

_MODIFIED = re.compile(rb"<(?:[\w.-]+:)?modified\b[^>]*>([^<]*)<", re.S)
_PROPERTY = re.compile(rb"<(?:[\w.-]+:)?property\b([^>]*)>(.*?)</(?:[\w.-]+:)?property>", re.S)
_TAGS = re.compile(rb"<[^>]*>")
_W3CDTF = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$")


def parse_w3cdtf(text: str) -> _dt.datetime | None:
    """'2024-03-05T08:30:00Z' -> aware datetime (UTC when no offset is given)."""
    m = _W3CDTF.match(text.strip())
    if not m:
        return None
    y, mo, d, hh, mi, ss, frac, tz = m.groups()
    try:
        micro = int((frac or "0")[:6].ljust(6, "0"))
        if tz in (None, "Z"):
            tzinfo = _dt.timezone.utc
        else:
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            tzinfo = _dt.timezone(sign * _dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        out = _dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), micro, tzinfo)
    except (ValueError, OverflowError):
        return None
    if out.year < 1980:
        return None  # unset / zeroed dates written by some exporters
    return out


def _text(blob: bytes) -> str:
    return xml_unescape(_TAGS.sub(b"", blob).decode("utf-8", "replace")).strip()


def ooxml_doc_props(zf: zipfile.ZipFile, book: RawBook) -> None:
    core = zip_member(zf, "docProps/core.xml", MB)
    m = _MODIFIED.search(core)
    if m:
        book.saved_time = parse_w3cdtf(m.group(1).decode("utf-8", "replace"))
    custom = zip_member(zf, "docProps/custom.xml", MB)
    for m in _PROPERTY.finditer(custom):
        name = xml_attrs(m.group(1)).get("name")
        if name:
            book.properties[name] = _text(m.group(2))


_ODS_DATE = re.compile(rb"<dc:date>([^<]*)</dc:date>")
_ODS_USER = re.compile(rb"<meta:user-defined\b([^>]*)>(.*?)</meta:user-defined>", re.S)


def ods_meta(zf: zipfile.ZipFile, book: RawBook) -> None:
    meta = zip_member(zf, "meta.xml", MB)
    m = _ODS_DATE.search(meta)
    if m:
        book.saved_time = parse_w3cdtf(m.group(1).decode("utf-8", "replace"))
    for m in _ODS_USER.finditer(meta):
        name = xml_attrs(m.group(1)).get("meta:name")
        if name:
            book.properties[name] = _text(m.group(2))



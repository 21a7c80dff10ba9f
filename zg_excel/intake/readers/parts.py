"""The parts of an OOXML zip: bounded member reads, tag attributes, which part holds which sheet.
"""

from __future__ import annotations

import posixpath
import re
import zipfile

from ..sniff import office_document_part
from .limits import MB

_SHEET_TAG = re.compile(rb"<(?:[\w.-]+:)?sheet\b([^>]*?)/?>")
_REL_TAG = re.compile(rb"<(?:[\w.-]+:)?Relationship\b([^>]*?)/?>")
_ATTR = re.compile(rb"([\w.:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def xml_attrs(blob: bytes) -> dict[str, str]:
    out = {}
    for m in _ATTR.finditer(blob):
        val = m.group(2) if m.group(2) is not None else m.group(3)
        out[m.group(1).decode("utf-8", "replace")] = xml_unescape(val.decode("utf-8", "replace"))
    return out


_ENTITY = re.compile(r"&(#x[0-9A-Fa-f]+|#\d+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def xml_unescape(s: str) -> str:
    """Undo the five predefined XML entities and character references, nothing else."""
    if "&" not in s:
        return s

    def rep(m: re.Match) -> str:
        g = m.group(1)
        if g[0] == "#":
            try:
                cp = int(g[2:], 16) if g[1] in "xX" else int(g[1:])
                return chr(cp)
            except (ValueError, OverflowError):
                return m.group(0)
        return _NAMED[g]

    return _ENTITY.sub(rep, s)


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> zip member of its XML, from workbook.xml and its rels."""
    names = set(zf.namelist())
    main = office_document_part(zf, names)
    if main is None:
        return {}
    wb_xml = zip_member(zf, main, 16 * MB)
    base = posixpath.dirname(main)
    rels_xml = zip_member(zf, posixpath.join(base, "_rels", posixpath.basename(main) + ".rels"), 16 * MB)
    targets: dict[str, str] = {}
    for m in _REL_TAG.finditer(rels_xml):
        a = xml_attrs(m.group(1))
        rid, target = a.get("Id"), a.get("Target")
        if not rid or not target or a.get("TargetMode") == "External":
            continue
        if target.startswith("/"):
            full = target.lstrip("/")
        else:
            full = posixpath.normpath(posixpath.join(base, target))
        targets[rid] = full
    out: dict[str, str] = {}
    for m in _SHEET_TAG.finditer(wb_xml):
        a = xml_attrs(m.group(1))
        name = a.get("name")
        rid = next((v for k, v in a.items() if k == "id" or k.endswith(":id")), None)
        if name is None or rid is None:
            continue
        part = targets.get(rid)
        if part in names:
            out[name] = part
    return out


def zip_member(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    try:
        info = zf.getinfo(name)
    except KeyError:
        return b""
    if info.file_size > limit:
        return b""
    try:
        return zf.read(info)
    except Exception:  # noqa: BLE001
        return b""


def shared_strings_part(zf: zipfile.ZipFile) -> str | None:
    names = set(zf.namelist())
    main = office_document_part(zf, names)
    if main is None:
        return None
    base = posixpath.dirname(main)
    rels = zip_member(zf, posixpath.join(base, "_rels", posixpath.basename(main) + ".rels"), 16 * MB)
    for m in _REL_TAG.finditer(rels):
        a = xml_attrs(m.group(1))
        if a.get("Type", "").endswith("/sharedStrings") and a.get("Target"):
            t = a["Target"]
            full = t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join(base, t))
            return full if full in names else None
    return None



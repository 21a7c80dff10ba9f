"""Which files the messages are made of, found only through :class:`zg_excel.workspace.Workspace`.

The summary is the one of the result's year (``output/result.json``), the
bulletin is ``output/通报.docx`` with its ``通报.txt``, a unit's template and
reminder are looked up by the unit's name, then its aliases.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..workspace import Workspace
from .addresses import decode_text, header_text


@dataclass(frozen=True)
class BulletinText:
    """The title and the 总体情况 paragraph of the bulletin, for the mail body."""

    title: str = ""
    overview: str = ""


def read_bulletin_text(path: Path | str) -> BulletinText:
    """Title and 总体情况 paragraph of ``通报.txt``.

    The title is the first non-empty line; the 总体情况 paragraph is the text
    after the line starting with ``一、`` up to the next line starting with
    ``二、`` (or the end).
    """
    text = decode_text(Path(path).read_bytes())
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    title = next((header_text(line) for line in lines if line), "")
    overview: list[str] = []
    inside = False
    for line in lines:
        if line.startswith("一、"):
            inside = True
            continue
        if inside and line.startswith("二、"):
            break
        if inside and line:
            overview.append(line)
    return BulletinText(title=title, overview="\n".join(overview))


@dataclass(frozen=True)
class OutputFiles:
    """The outputs of the last merge that exist (``None`` where a file is missing)."""

    summary: Path | None = None
    bulletin_docx: Path | None = None
    bulletin_txt: Path | None = None


def result_year(ws: Workspace) -> int:
    """The year of ``output/result.json``; this year when it is absent or unreadable."""
    try:
        year = json.loads(ws.result_json.read_bytes()).get("year")
        return int(year)
    except (OSError, ValueError, TypeError, AttributeError):
        return _dt.date.today().year


def _existing(path: Path) -> Path | None:
    return path if path.is_file() else None


def find_output_files(workdir: Path | str) -> OutputFiles:
    """The summary of the result's year, ``通报.docx`` and ``通报.txt`` in ``output/``."""
    ws = Workspace(Path(workdir))
    return OutputFiles(
        summary=_existing(ws.summary_path(result_year(ws))),
        bulletin_docx=_existing(ws.bulletin_docx),
        bulletin_txt=_existing(ws.bulletin_txt),
    )


def unit_names(unit: Any) -> list[str]:
    """The unit's name, then its aliases, each one clean line, without repeats."""
    name = header_text(getattr(unit, "name", ""))
    names = [name] if name else []
    for alias in getattr(unit, "aliases", ()) or ():
        alias = header_text(alias)
        if alias and alias not in names:
            names.append(alias)
    return names


def find_unit_template(workdir: Path | str, unit: Any) -> Path | None:
    """``outbox/<year>年组工信息报送登记表-<单位名称>.xlsx`` for ``unit`` (newest year)."""
    return Workspace(Path(workdir)).find_template(unit_names(unit))


def find_unit_reminder(workdir: Path | str, unit: Any) -> Path | None:
    """``output/催报/<单位>.txt`` (by name, then aliases)."""
    return Workspace(Path(workdir)).find_reminder(unit_names(unit))

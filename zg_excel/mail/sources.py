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
from .errors import MailSetupError


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
    """The summary of the result's year, ``通报.docx`` and ``通报.txt`` in ``output/``.

    ``MailSetupError`` when they are not all of the run that wrote ``result.json`` (two merges at
    once, a merge killed mid-write, a file copied in by hand): never send a mismatched pair."""
    ws = Workspace(Path(workdir))
    files = OutputFiles(
        summary=_existing(ws.summary_path(result_year(ws))),
        bulletin_docx=_existing(ws.bulletin_docx),
        bulletin_txt=_existing(ws.bulletin_txt),
    )
    check_same_run(ws, files)
    return files


def _zip_member(path: Path, name: str) -> str:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return zf.read(name).decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return ""


def run_id_of(path: Path) -> str:
    """The run id an output carries: the workbook's custom property ``zg_run_id``, the .docx's
    ``dc:identifier`` (written by ``outputs/write.py``); "" when it has none."""
    import html
    import re

    if path.suffix.lower() == ".docx":
        m = re.search(r"<dc:identifier>([^<]*)</dc:identifier>", _zip_member(path, "docProps/core.xml"))
    else:
        m = re.search(r'name="zg_run_id"><vt:lpwstr>([^<]*)</vt:lpwstr>', _zip_member(path, "docProps/custom.xml"))
    return html.unescape(m.group(1)) if m else ""


def check_same_run(ws: Workspace, files: OutputFiles) -> None:
    """``MailSetupError`` naming the file that belongs to another run than ``result.json``."""
    import hashlib

    try:
        data = json.loads(ws.result_json.read_bytes())
    except (OSError, ValueError):
        return
    run_id = data.get("run_id") if isinstance(data, dict) else None
    if not run_id:
        return  # written before outputs carried a run id: nothing to compare
    advice = ("不是同一次合并生成的（可能两次合并同时运行，或合并中途被中断）。"
              "请重新运行 zg-excel merge 生成一套完整的结果后再发送。")
    for path in (files.summary, files.bulletin_docx):
        if path is not None and run_id_of(path) != run_id:
            raise MailSetupError(f"{path.name} 与 {ws.result_json.name} {advice}")
    expected = (data.get("run_files") or {}).get(ws.bulletin_txt.name)
    if files.bulletin_txt is not None and expected:
        try:
            got = hashlib.sha256(files.bulletin_txt.read_bytes()).hexdigest()
        except OSError:
            got = ""
        if got != expected:
            raise MailSetupError(f"{files.bulletin_txt.name} 与 {ws.result_json.name} {advice}"
                                 "（若手工修改过通报.txt，请改用 templates/通报.txt.j2 修改后重新合并）")


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

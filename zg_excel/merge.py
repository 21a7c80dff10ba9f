"""One merge run: inbox → read → returns → versions → scoring → tally → ``Result``.

Nothing here writes a file: outputs render the ``Result`` and never recompute.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from .claims import find_claims
from .intake.raw import FileFailure, RawBook
from .issues import ERROR, INFO, WARNING, IssueLog
from .memory import release_memory
from .model import Return
from .period import resolve_period
from .previous import previous_standings
from .result import (
    FAILED,
    MERGED,
    REJECTED,
    SKIPPED,
    SUPERSEDED_FILE,
    FileReport,
    Result,
)
from .returns import read_return
from .roster import Catalog, Roster
from .rules import Rules
from .scoring import score_event
from .tally import tally
from .versions import mark_duplicates, resolve_versions
from .workspace import Workspace

Progress = Callable[[str, int, int, str], None]  # (stage, done, total, name)

@dataclass
class ParsedBook:
    """A workbook already read as a return (in an intake worker): what ``read_return`` gave."""

    format: str
    ret: Return | None
    issues: list


class _ParseInWorker:
    """``read_return`` for one file, run inside the intake worker (picklable for spawn)."""

    def __init__(self, inbox: Path, year: int, rules: Rules, roster: Roster, catalog: Catalog):
        self.inbox, self.year, self.rules, self.roster, self.catalog = inbox, year, rules, roster, catalog

    def __call__(self, path: str, book: RawBook) -> ParsedBook:
        p = Path(path)
        ret, issues = read_return(book, p.relative_to(self.inbox).as_posix(), year=self.year, rules=self.rules,
                                  roster=self.roster, catalog=self.catalog, file_time=_mtime(p))
        return ParsedBook(book.format, ret, issues)


class _Sharer:
    """One object per distinct value for the fields that repeat across rows.

    Rows arrive pickled, file by file, so ``郑州日报`` or 2026-03-05 would
    otherwise be a new object in every row: at 500,000 rows that alone is
    hundreds of MB. Dates and short category strings are shared here.
    """

    EVENT_FIELDS = ("unit", "form", "outlet_text", "outlet", "outlet_level", "declared_level", "date", "section",
                    "chars", "minutes")
    SUB_FIELDS = ("unit", "date", "destination", "section")

    def __init__(self) -> None:
        self.seen: dict = {}

    def share(self, ret: Return) -> None:
        seen = self.seen
        for rows, fields in ((ret.events, self.EVENT_FIELDS), (ret.submissions, self.SUB_FIELDS)):
            for row in rows:
                for name in fields:
                    value = getattr(row, name)
                    if value is not None:
                        setattr(row, name, seen.setdefault(value, value))


def _mtime(p: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(p.stat().st_mtime).replace(microsecond=0)


def list_inbox(inbox: Path, exclude: list[Path]) -> list[Path]:
    """Every file below the inbox (sorted), except inside output folders placed in it."""
    ex = [p.resolve() for p in exclude]
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(inbox):
        here = Path(dirpath).resolve()
        dirnames[:] = sorted(d for d in dirnames if (here / d).resolve() not in ex)
        found.extend(Path(dirpath) / f for f in sorted(filenames))
    return sorted(found, key=lambda p: p.relative_to(inbox).as_posix())


def merge(workdir: Path, *, year: int | None = None, as_of: dt.date | None = None,
          inbox: Path | None = None, progress: Progress | None = None,
          loaded: tuple[Rules, Roster, Catalog] | None = None) -> Result:
    """Read every return of the inbox and score it. Set-up errors raise ``ConfigError``."""
    from .intake.worker import read_books

    ws = Workspace(Path(workdir))
    rules, roster, catalog = loaded or ws.load()
    year, as_of = resolve_period(year, as_of)
    inbox = Path(inbox) if inbox else ws.inbox
    paths = list_inbox(inbox, [ws.output]) if inbox.exists() else []
    rel = {str(p): p.relative_to(inbox).as_posix() for p in paths}
    total = len(paths)
    results: dict[str, RawBook | FileFailure] = {}
    done = 0

    def on_done(path: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress("read", done, total, rel.get(path, path))

    parse = _ParseInWorker(inbox, year, rules, roster, catalog)
    shared = _Sharer()
    for path, got in read_books([str(p) for p in paths], rules.limits, on_done=on_done, transform=parse):
        if isinstance(got, ParsedBook) and got.ret is not None:
            shared.share(got.ret)
        results[path] = got
    items = []
    for p in paths:  # reading order: files by name
        got = results.get(str(p)) or FileFailure(str(p), "crashed", "读取过程异常中断，未能读取")
        items.append((rel[str(p)], got, _mtime(p)))
    result = score_books(items, year=year, as_of=as_of, rules=rules, roster=roster, catalog=catalog,
                         workdir=ws.root, inbox=inbox)
    if not inbox.exists():
        result.issues.error("no_inbox", f"收件文件夹不存在：{inbox}")
    if progress:
        progress("done", total, total, "")
    return result


def score_books(items: list[tuple[str, RawBook | ParsedBook | FileFailure, dt.datetime | None]], *, year: int,
                as_of: dt.date, rules: Rules, roster: Roster, catalog: Catalog,
                workdir: Path = Path("."), inbox: Path = Path(".")) -> Result:
    """Turn read workbooks (relative path, book or failure, file time) into a scored ``Result``."""
    issues = IssueLog()
    files: list[FileReport] = []
    returns: list[Return] = []
    not_sheets: list[tuple[int, str, str]] = []  # (issue index, unit, file): a non-spreadsheet a unit's name names
    for relpath, got, mtime in sorted(items, key=lambda t: t[0]):
        if isinstance(got, FileFailure):
            status = SKIPPED if got.skipped else FAILED
            sev = INFO if got.skipped else ERROR
            named = roster.find_in(Path(relpath).stem) if got.code == "not_spreadsheet" else None
            if named is not None:
                not_sheets.append((len(issues.items), named.name, relpath))
            issues.add(sev, got.code, got.message, file=relpath, unit=named.name if named else "",
                       action="已跳过（不是报送文件）" if got.skipped else "整个文件未合并")
            files.append(FileReport(relpath, status, unit=named.name if named else "", message=got.message))
            continue
        if isinstance(got, ParsedBook):
            ret, found = got.ret, got.issues
        else:
            ret, found = read_return(got, relpath, year=year, rules=rules, roster=roster, catalog=catalog,
                                     file_time=mtime)
        issues.extend(found)
        if ret is None:
            why = next((i.message for i in found if i.severity == ERROR), "未能识别为报送文件")
            files.append(FileReport(relpath, REJECTED, format=got.format, message=why))
            continue
        returns.append(ret)
        files.append(FileReport(relpath, MERGED, unit=ret.unit or "", format=got.format,
                                events=len(ret.events), submissions=len(ret.submissions), found_by=ret.found_by))

    issues.extend(resolve_versions(returns, rules))
    _quiet_superseded(issues, returns)
    issues.extend(mark_duplicates(returns, rules))
    for r in returns:
        for ev in r.events:
            issues.extend(score_event(ev, rules, year=year, as_of=as_of))
    issues.extend(find_claims(returns, rules))
    units, credits = tally(returns, roster, rules, year=year, as_of=as_of)

    by_path = {r.relpath: r for r in returns}
    for f in files:
        r = by_path.get(f.relpath)
        if r is not None and r.superseded_by:
            f.status = SUPERSEDED_FILE
            f.message = f"已被“{r.superseded_by}”替代"
    by_unit = {t.unit: t for t in units}
    for index, unit, relpath in not_sheets:
        t = by_unit.get(unit)
        if t is None:
            continue
        t.received_non_spreadsheet.append(relpath)
        if not t.returned and issues.items[index].severity == INFO:  # a stray file beside a return stays a 提示
            issues.items[index] = replace(
                issues.items[index], severity=WARNING,
                message=f"收到了文件“{relpath}”，但不是电子表格，请该单位用模板重新报送",
                action="该文件未合并，该单位按未报送统计表统计", fix="请用下发的模板（Excel 工作簿）填报后重新报送")
    for t in units:
        if not t.returned and t.received_non_spreadsheet:
            shown = "、".join(f"“{f}”" for f in t.received_non_spreadsheet)
            issues.warning("not_returned", f"{t.unit}报送的文件不是电子表格（{shown}），统计表按未报送统计",
                           unit=t.unit, action="按零分、零报送统计")
        elif not t.returned:
            issues.warning("not_returned", f"{t.unit}未报送（收件文件夹中没有该单位的文件）", unit=t.unit,
                           action="按零分、零报送统计")
    result = Result(year=year, as_of=as_of, rules=rules, roster=roster, catalog=catalog,
                    workdir=workdir, inbox=inbox, units=units, credits=credits, returns=returns,
                    files=files, issues=issues)
    result.previous = previous_standings(result)
    for r in returns:  # the keys served duplicates, claims and tally; outputs do not need them
        for row in (*r.events, *r.submissions):
            row.title_key = 0
    release_memory()  # the tables of duplicates and claims
    return result


def _quiet_superseded(issues: IssueLog, returns: list[Return]) -> None:
    """What was found wrong in a superseded file is not counted again (the unit has resent it): its
    errors and warnings stay listed, as 提示 naming the file that replaced it."""
    newer = {r.relpath: r.superseded_by for r in returns if r.superseded_by}
    if not newer:
        return
    for i, issue in enumerate(issues.items):
        if issue.severity != INFO and issue.file in newer:
            issues.items[i] = replace(issue, severity=INFO,
                                      message=f"（已被替代文件中的问题，以“{newer[issue.file]}”为准）{issue.message}")

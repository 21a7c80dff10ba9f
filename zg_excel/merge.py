"""One merge run: inbox → read → returns → versions → scoring → tally → ``Result``.

Nothing here writes a file: outputs render the ``Result`` and never recompute.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from .claims import find_claims
from .files import os_error_reason
from .intake.raw import FileFailure, RawBook
from .intake.sniff import is_lock_file_name
from .issues import ERROR, INFO, WARNING, IssueLog
from .ledger import LEDGER_FILE, classify, is_candidate
from .ledger import match as match_proofs
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
from .text import date_cn
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
        ret, issues = read_return(book, printable(p.relative_to(self.inbox).as_posix()), year=self.year,
                                  rules=self.rules, roster=self.roster, catalog=self.catalog, file_time=_mtime(p))
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


def _mtime(p: Path) -> dt.datetime | None:
    """The file's modification time; None when it is gone (moved or deleted while the merge ran)."""
    try:
        return dt.datetime.fromtimestamp(p.stat().st_mtime).replace(microsecond=0)
    except OSError:
        return None


VANISHED = "文件在读取过程中被移走或删除，未能读取。如仍需合并，请把文件放回收件文件夹后重新运行"


def printable(name: str) -> str:
    """A file name as it can be shown and written anywhere: bytes that are not UTF-8 (a zip from
    Chinese Windows unpacked on UOS/Kylin) become U+FFFD, e.g. ``bad-\udcff\udcfe.xlsx`` → ``bad-��.xlsx``."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def scan_inbox(inbox: Path, exclude: list[Path]) -> tuple[list[Path], list[FileFailure]]:
    """Every regular file below the inbox (sorted), except inside output folders placed in it, and
    the entries that cannot be read as files, each a ``FileFailure`` (path relative to the inbox):
    a folder that cannot be opened, a link pointing outside the inbox (never followed), a pipe or
    device (never opened: opening a FIFO blocks)."""
    ex = [p.resolve() for p in exclude]
    root = os.path.realpath(inbox)
    found: list[Path] = []
    problems: list[FileFailure] = []

    def rel(path: str | Path) -> str:
        return printable(Path(path).relative_to(inbox).as_posix())

    def folder_error(exc: OSError) -> None:
        name = rel(exc.filename) + "/" if exc.filename and Path(exc.filename) != Path(inbox) else "inbox/"
        problems.append(FileFailure(name, "folder_unreadable",
                                    f"文件夹无法打开（{os_error_reason(exc)}），其中的文件都没有读取：请检查文件夹权限"))

    for dirpath, dirnames, filenames in os.walk(inbox, onerror=folder_error):
        here = Path(dirpath).resolve()
        keep = []
        for d in sorted(dirnames):
            full = Path(dirpath) / d
            if (here / d).resolve() in ex:
                continue
            if full.is_symlink():
                target = os.path.realpath(full)
                if not _inside(target, root):
                    problems.append(FileFailure(rel(full) + "/", "link_outside",
                                                "链接指向收件文件夹以外，未读取：请把文件本身放进收件文件夹"))
                continue  # a link to a folder inside the inbox: its files are read there
            keep.append(d)
        dirnames[:] = keep
        for f in sorted(filenames):
            full = Path(dirpath) / f
            try:
                st = os.lstat(full)
            except FileNotFoundError:
                if not is_lock_file_name(f):  # an Office lock file goes when the workbook is closed
                    problems.append(FileFailure(rel(full), "vanished", VANISHED))
                continue
            except OSError as exc:
                problems.append(FileFailure(rel(full), "unreadable", f"文件无法读取（{os_error_reason(exc)}）"))
                continue
            if stat.S_ISLNK(st.st_mode):
                target = os.path.realpath(full)
                if not _inside(target, root):
                    problems.append(FileFailure(rel(full), "link_outside",
                                                "链接指向收件文件夹以外，未读取：请把文件本身放进收件文件夹"))
                    continue
                try:
                    st = os.stat(full)
                except OSError:
                    problems.append(FileFailure(rel(full), "link_broken", "链接指向的文件不存在，未读取"))
                    continue
            if not stat.S_ISREG(st.st_mode):
                problems.append(FileFailure(rel(full), "not_regular",
                                            "不是普通文件（管道、设备或套接字），未读取：请放入报表文件本身"))
                continue
            found.append(full)
    return sorted(found, key=lambda p: p.relative_to(inbox).as_posix()), problems


def list_inbox(inbox: Path, exclude: list[Path]) -> list[Path]:
    """Every regular file below the inbox (sorted), except inside output folders placed in it."""
    return scan_inbox(inbox, exclude)[0]


def merge(workdir: Path, *, year: int | None = None, as_of: dt.date | None = None,
          inbox: Path | None = None, progress: Progress | None = None,
          loaded: tuple[Rules, Roster, Catalog] | None = None, today: dt.date | None = None) -> Result:
    """Read every return of the inbox and score it. Set-up errors raise ``ConfigError``.

    An as-of date after ``today`` (default: the real date) is honoured, with a warning: months not
    yet over are judged on what has come in so far."""
    from .intake.worker import read_books

    ws = Workspace(Path(workdir))
    rules, roster, catalog = loaded or ws.load()
    year, as_of = resolve_period(year if year is not None else ws.recorded_year(), as_of)  # the folder's year
    inbox = Path(inbox) if inbox else ws.inbox
    paths, problems = scan_inbox(inbox, [ws.output]) if inbox.exists() else ([], [])
    rel = {str(p): printable(p.relative_to(inbox).as_posix()) for p in paths}
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
    items: list = [(f.path, f, None) for f in problems]
    vanished = []
    for p in paths:  # reading order: files by name
        got = results.get(str(p)) or FileFailure(str(p), "crashed", "读取过程异常中断，未能读取")
        mtime = _mtime(p)
        if mtime is None and not os.path.lexists(p):
            if isinstance(got, FileFailure):
                if not got.skipped:  # a skipped ~$ lock file that went (the workbook was closed) stays a 提示
                    got = FileFailure(str(p), "vanished", VANISHED)
            else:
                vanished.append(rel[str(p)])
        items.append((rel[str(p)], got, mtime))
    result = score_books(items, year=year, as_of=as_of, rules=rules, roster=roster, catalog=catalog,
                         workdir=ws.root, inbox=inbox)
    for name in vanished:
        result.issues.warning("vanished", "文件在合并过程中被移走或删除（已按读到的内容合并）", file=name,
                              action="如果是有意移走，请重新运行合并")
    if not inbox.exists():
        result.issues.error("no_inbox", f"收件文件夹不存在：{inbox}")
    today = today or dt.date.today()
    if as_of > today:
        result.issues.warning(
            "as_of_in_future",
            f"统计截止日期{date_cn(as_of)}晚于今天（{date_cn(today)}）：{date_cn(today)}以后的月份还没有结束，"
            "按目前收到的报送统计，其中的“报送不足”“零报送”可能只是还没报",
            action="照常统计", fix="正式通报请在截止日期之后再合并，或不写 --as-of（默认截至上一个完整月份）")
    if progress:
        progress("done", total, total, "")
    return result


def score_books(items: list[tuple[str, RawBook | ParsedBook | FileFailure, dt.datetime | None]], *, year: int,
                as_of: dt.date, rules: Rules, roster: Roster, catalog: Catalog,
                workdir: Path = Path("."), inbox: Path = Path("."), proof_files: dict | None = None) -> Result:
    """Turn read workbooks (relative path, book or failure, file time) into a scored ``Result``.

    ``proof_files`` (relpath → ``ledger.ProofFile``): proof files decided by the caller, beside those found here."""
    issues = IssueLog()
    files: list[FileReport] = []
    returns: list[Return] = []
    not_sheets: list[tuple[int, str, str]] = []  # (issue index, unit, file): a non-spreadsheet a unit's name names
    queue: list = [*sorted(items, key=lambda t: t[0]), (None, None, None)]
    deferred: list = []  # files not read as workbooks that may be 台帐 proof files: decided once returns are read
    proofs: dict = {}
    for relpath, got, mtime in queue:
        if relpath is None:  # every return read: the proof files (zg_excel.ledger); the other files as before
            proofs = classify([t[0] for t in deferred], returns, roster, inbox, rules) if deferred else {}
            proofs.update(proof_files or {})
            files.extend(FileReport(p.relpath, LEDGER_FILE, unit=p.unit, message=p.kind or p.problem)
                         for p in proofs.values())
            queue.extend(t for t in deferred if t[0] not in proofs)
            deferred = None
            continue
        if isinstance(got, FileFailure) and deferred is not None and is_candidate(relpath, got.code):
            deferred.append((relpath, got, mtime))
            continue
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
    files.sort(key=lambda f: f.relpath)  # proof files were decided after the returns

    issues.extend(resolve_versions(returns, rules))
    _quiet_superseded(issues, returns)
    issues.extend(mark_duplicates(returns, rules))
    for r in returns:
        for ev in r.events:
            issues.extend(score_event(ev, rules, year=year, as_of=as_of))
    issues.extend(find_claims(returns, rules))
    ledger, found = match_proofs(returns, proofs, rules)  # before the tally: [ledger] proof_required may zero a row
    issues.extend(found)
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
                    files=files, issues=issues, ledger=ledger)
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

"""Check single returns before they are sent (or before they are merged).

``check_files`` reads and scores each file exactly as ``merge`` does (the
same reader, ``intake.worker.read_books``, and the same ``merge.score_books``),
but one file at a time and without the rest of the inbox: a unit's
information officer can check the one workbook on their desk, and the office
can check a resent file before it goes into the inbox. The report says, per
file, which unit it was counted for and how that was found, how many rows
were read and would score, and every problem with its cell and a fix in
plain Chinese. ``render_check_text`` turns it into console text.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

from .intake.raw import FileFailure, IntakeLimits, RawBook
from .issues import ERROR, INFO, WARNING, Issue
from .ledger import LEDGER_FILE, ProofFile, classify, is_candidate
from .merge import (
    FAILED,
    MERGED,
    REJECTED,
    SKIPPED,
    scan_inbox,
    score_books,
)
from .model import (
    INVALID,
    OUTCOME_ZH,
    OUTCOMES,
    SCORED,
    SUB_OUTCOMES,
    UNKNOWN_OUTLET,
    EventRow,
)
from .period import resolve_period
from .roster import Catalog, Roster, load_catalog, load_roster
from .rules import Rules, load_rules
from .text import points_text
from .workspace import Workspace

# Issues about the inbox as a whole, not about the file checked.
_NOT_ABOUT_THE_FILE = {"not_returned", "no_inbox"}

FOUND_BY_ZH = {"模板标识": "按模板中的单位标识认定", "填报单位": "按表头上方的“填报单位”认定",
               "文件名": "按文件名认定"}
SUB_OUTCOME_ZH = {"counted": "计入报送条数", "not_counted": "报送对象不计入本单位考核",
                  "duplicate": "重复（只计一次）", "out_of_period": "不在统计期内", "invalid": "填写有误（不计数）",
                  "superseded": "已被更新文件替代"}

# Fixes written for the unit that fills the file, where the issue's own fix speaks to the office.
_UNIT_FIXES = {
    "unknown_outlet": "请从模板的下拉列表或“媒体目录”工作表中选择媒体名称（写全称，如“郑州日报”）；"
                      "确实不在目录中的媒体，请在备注中写明并告知区委组织部",
    "unit_unknown": "请使用下发给本单位的模板填报，或在表头上方“填报单位”处填写本单位全称（与区委组织部名册一致）",
}
# Fixes for issues that carry none.
_FALLBACK_FIXES = {
    "duplicate_event": "如确为同一条录用，请删除重复的行；如是不同的录用，请核对标题、媒体和日期",
    "duplicate_submission": "如确为同一条报送，请删除重复的行",
    "same_title_other_date": "请核实录用日期；如是同一条录用，请只保留一行",
    "level_mismatch": "“媒体级别”可以不填；要填请按媒体目录填写",
    "unit_cell_mismatch": "请把“填报单位”改为本单位全称，并确认使用的是本单位的模板",
    "fingerprint_unknown_unit": "请使用下发给本单位的模板填报",
    "hidden_sheet": "请取消隐藏该工作表，确认其中内容都应报送",
    "hidden_columns": "请取消隐藏这些列，确认其中内容无误",
    "missing_sheet": "请使用下发的模板，保留“报送登记”和“录用登记”两个工作表",
    "reader_note": "",
    # files that could not be read (their message says what happened)
    "encrypted": "请取消文件的打开密码后重新报送",
    "numbers": "请在 Numbers 中导出为 Excel 工作簿（.xlsx）后重新报送",
    "too_large": "请删除无关的工作表、图片和大片空白格式，或把数据复制到新建的工作簿，另存为 .xlsx 后重新报送",
    "memory": "请删除无关的工作表、图片和大片空白格式，或把数据复制到新建的工作簿，另存为 .xlsx 后重新报送",
    "timeout": "请删除无关的工作表、图片和大片空白格式，或把数据复制到新建的工作簿，另存为 .xlsx 后重新报送",
}
_RESAVE = "请用 Excel 或 WPS 打开该文件，确认内容无误后“另存为” Excel 工作簿（.xlsx），再重新报送"
for _code in ("empty", "corrupt", "crashed", "html", "xml", "not_spreadsheet", "unreadable"):
    _FALLBACK_FIXES[_code] = _RESAVE


def fix_text(issue: Issue) -> str:
    """What the unit should do about ``issue``, in plain Chinese ('' when nothing is needed)."""
    return _UNIT_FIXES.get(issue.code) or issue.fix or _FALLBACK_FIXES.get(issue.code, "")


@dataclass
class FileCheck:
    """The result of checking one file."""

    path: Path
    name: str  # shown name (the file name, or the path below a folder given)
    status: str  # merge.MERGED (readable return) / REJECTED / FAILED / SKIPPED
    unit: str = ""
    found_by: str = ""  # 模板标识 / 填报单位 / 文件名
    format: str = ""
    events: int = 0  # 录用登记 rows read
    submissions: int = 0  # 报送登记 rows read
    outcomes: dict[str, int] = field(default_factory=dict)  # event outcome -> rows
    submission_outcomes: dict[str, int] = field(default_factory=dict)
    scoring: int = 0  # rows that would score
    points: Fraction = Fraction(0)  # their points (the unit's own)
    credit: Fraction = Fraction(0)  # what liaison sections named in the file would receive
    issues: list[Issue] = field(default_factory=list)
    message: str = ""  # why it was not read / merged
    proves: list[tuple[str, EventRow]] = field(default_factory=list)  # a proof file: (return, row) naming it

    @property
    def blocked_rows(self) -> int:
        """Rows a problem keeps out of the scores (or out of the submission counts)."""
        return (self.outcomes.get(INVALID, 0) + self.outcomes.get(UNKNOWN_OUTLET, 0)
                + self.submission_outcomes.get(INVALID, 0))

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == WARNING]

    @property
    def infos(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == INFO]

    @property
    def has_blocking(self) -> bool:
        return bool(self.errors) or self.blocked_rows > 0


@dataclass
class CheckReport:
    year: int
    as_of: dt.date
    files: list[FileCheck]
    roster_source: str = ""
    catalog_source: str = ""
    places: int = 2  # the display precision of points (rules.places)

    @property
    def has_blocking(self) -> bool:
        """Any problem that keeps a row (or a whole file) out of the scores: CLI exit code 1."""
        return any(f.has_blocking for f in self.files)

    @property
    def issues(self) -> list[Issue]:
        return [i for f in self.files for i in f.issues]


def _expand(paths: list[Path], exclude: list[Path]) -> tuple[list[tuple[Path, str]], list[tuple[Path, FileFailure]]]:
    """Files to check with their shown names (a folder stands for every file below it), and the
    entries of such a folder that cannot be read as files (an unreadable subfolder, a link out of
    the folder, a pipe), each reported as merge reports it."""
    out: list[tuple[Path, str]] = []
    problems: list[tuple[Path, FileFailure]] = []
    seen: set[Path] = set()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            listed, bad = scan_inbox(p, exclude)
            found = [(f, f.relative_to(p).as_posix()) for f in listed]
            problems += [(p / failure.path, failure) for failure in bad]
        else:
            found = [(p, p.name)]
        for f, name in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                out.append((f, name))
    return out, problems


def _read(paths: list[str], limits: IntakeLimits,
          on_done: Callable[[str], None] | None) -> dict[str, RawBook | FileFailure]:
    """Read with the merge's reader (capped worker processes)."""
    from .intake.worker import read_books

    return dict(read_books(paths, limits, on_done=on_done))


def _settings(workdir: Path) -> tuple[Rules, Roster, Catalog]:
    """The working folder's rules, roster and catalog; the shipped ones where it has none."""
    if Path(workdir).is_dir():
        return Workspace(Path(workdir)).load()
    rules = load_rules(None)
    return rules, load_roster(None, rules), load_catalog(None, rules)


def check_files(paths: list[Path], workdir: Path, *, year: int | None = None, as_of: dt.date | None = None,
                progress: Callable[[int, int, str], None] | None = None) -> CheckReport:
    """Check each file on its own, as ``merge`` would read and score it.

    Set-up errors (bad rules, roster or catalog) raise ``ConfigError``; any
    problem of a file is an issue of its ``FileCheck``. ``progress(done,
    total, name)`` is called as files are read.
    """
    rules, roster, catalog = _settings(Path(workdir))
    year, as_of = resolve_period(year, as_of)
    files, problems = _expand(list(paths), [Workspace(Path(workdir)).output])
    names = {str(f): name for f, name in files}
    done = 0

    def on_done(path: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, len(files), names.get(path, path))

    got = _read([str(f) for f, _ in files], rules.limits, on_done)

    def score(f: Path, name: str, book, mtime, proofs: dict | None = None):
        return score_books([(name, book, mtime)], year=year, as_of=as_of, rules=rules, roster=roster,
                           catalog=catalog, workdir=Path(workdir), inbox=f.parent, proof_files=proofs)

    read = []
    for f, name in files:
        book = got.get(str(f)) or FileFailure(str(f), "crashed", "读取过程异常中断，未能读取")
        try:
            mtime = dt.datetime.fromtimestamp(f.stat().st_mtime).replace(microsecond=0)
        except OSError:
            mtime = None
        read.append((f, name, book, mtime, score(f, name, book, mtime)))
    # The 台帐 proof files among the files checked, decided once as merge decides them (zg_excel.ledger):
    # each return is checked with its unit's proof files beside it, and a proof file is not a failed return.
    candidates = [name for _, name, book, _, _ in read if isinstance(book, FileFailure) and is_candidate(name, book.code)]
    returns = [r for *_, result in read for r in result.returns]
    proofs = classify(candidates, returns, roster, Path("."), rules,
                      paths={name: f for f, name, *_ in read}) if candidates and returns else {}
    proved: dict[str, list[tuple[str, EventRow]]] = {rel: [] for rel in proofs}
    checks: list[FileCheck | None] = []
    for f, name, book, mtime, result in read:
        if name in proofs:
            checks.append(None)  # after the returns (which rows it proves)
            continue
        units = {r.unit for r in result.returns}
        mine = {rel: replace(p, rows=[]) for rel, p in proofs.items() if p.unit in units}
        if mine:
            result = score(f, name, book, mtime, mine)
            for rel, p in mine.items():
                proved[rel].extend((name, ev) for ev in p.rows)
        checks.append(file_check(f, name, result))
    checks = [fc or proof_check(f, name, proofs[name], proved[name]) for fc, (f, name, *_) in zip(checks, read)]
    for where, failure in problems:
        result = score_books([(failure.path, failure, None)], year=year, as_of=as_of, rules=rules, roster=roster,
                             catalog=catalog, workdir=Path(workdir), inbox=where.parent)
        checks.append(file_check(where, failure.path, result))
    return CheckReport(year=year, as_of=as_of, files=checks, roster_source=roster.source,
                       catalog_source=catalog.source, places=rules.places)


def proof_check(path: Path, name: str, proof: ProofFile, rows: list[tuple[str, EventRow]]) -> FileCheck:
    """A 台帐 proof file among the files checked: whose it is and which rows name it."""
    fc = FileCheck(path=path, name=name, status=LEDGER_FILE, unit=proof.unit, format=proof.kind,
                   message=proof.problem, proves=rows)
    if not rows:
        fc.issues.append(Issue(INFO, "ledger_unnamed", "没有哪一行的“证明材料”填写了这个文件名", file=name,
                               unit=proof.unit, fix="请在对应录用行的“证明材料”中填写该文件名"))
    return fc


def file_check(path: Path, name: str, result) -> FileCheck:
    report = next((r for r in result.files if r.relpath == name), result.files[0])
    fc = FileCheck(path=path, name=name, status=report.status, unit=report.unit, found_by=report.found_by,
                   format=report.format, message=report.message)
    fc.issues = sorted((i for i in result.issues if i.code not in _NOT_ABOUT_THE_FILE), key=Issue.sort_key)
    for ret in result.returns:
        counts = Counter(e.outcome for e in ret.events)
        fc.outcomes = {k: counts[k] for k in OUTCOMES if counts.get(k)}
        subs = Counter(s.outcome for s in ret.submissions)
        fc.submission_outcomes = {k: subs[k] for k in SUB_OUTCOMES if subs.get(k)}
        fc.events, fc.submissions = len(ret.events), len(ret.submissions)
        scored = [e for e in ret.events if e.outcome == SCORED]
        fc.scoring = len(scored)
        fc.points = sum((e.points for e in scored), Fraction(0))
        fc.credit = sum((e.credit for e in scored), Fraction(0))
    return fc


# ------------------------------------------------------------------ console text

def issue_where(issue: Issue) -> str:
    parts = [issue.sheet] if issue.sheet else []
    if issue.row:
        parts.append(f"第{issue.row}行")
    if issue.column:
        parts.append(f"“{issue.column}”列")
    return " ".join(parts)


def _issue_lines(n: int, issue: Issue, detailed: bool) -> list[str]:
    where = issue_where(issue)
    head = f"  ({n}) " + (f"{where}：" if where else "") + issue.message
    if issue.value and issue.value not in issue.message:
        head += f"（填的是“{issue.value}”）"
    lines = [head]
    fix = fix_text(issue)
    if detailed and fix:
        lines.append(f"      修改方法：{fix}")
    if detailed and issue.action:
        lines.append(f"      本次处理：{issue.action}")
    return lines


def verdict(fc: FileCheck) -> str:
    if fc.status == LEDGER_FILE:
        if fc.message:
            return f"台帐证明材料，但{fc.message}：请改发PDF、图片（JPG/PNG）或Word/WPS文档。"
        return "台帐证明材料，随报表报送即可。"
    if fc.status == SKIPPED:
        return "不是报送文件，已跳过。"
    if fc.status in (FAILED, REJECTED):
        return "这个文件不能合并，请按下面的说明修改后，重新报送整个文件。"
    if fc.has_blocking:
        what = f"有{fc.blocked_rows}行因填写问题不能计分或计数" if fc.blocked_rows else "有需要修改的问题"
        return f"{what}，请按下面“需要修改”逐条改正后，重新报送整个文件。"
    if fc.warnings:
        return "可以报送；下面“请核实”的内容请确认无误。"
    return "未发现问题，可以报送。"


def counts_line(label: str, total: int, counts: dict[str, int], names: dict[str, str], first: str) -> str:
    rest = [f"{names[k]}{n}行" for k, n in counts.items() if k != first and n]
    text = f"{label}：共{total}行"
    if total:
        text += f"，{names[first]}{counts.get(first, 0)}行"
    return text + "".join(f"，{r}" for r in rest)


def render_check_text(report: CheckReport) -> str:
    """Console text of a check, per file, grouped by what the unit must do."""
    lines = [f"检查{len(report.files)}个文件（{report.year}年度，统计截止{report.as_of.isoformat()}；"
             f"按{report.roster_source}、{report.catalog_source}核对）"]
    for n, fc in enumerate(report.files, start=1):
        lines.append("")
        lines.append(f"【{n}】{fc.name}")
        if fc.status == LEDGER_FILE:
            lines.append(f"  台帐证明材料（{fc.format or '类型不符'}），属于{fc.unit}")
            lines.extend(f"  证明：{where} 第{ev.line}行“{ev.title or ''}”" for where, ev in fc.proves)
        elif fc.status in (MERGED,) or fc.unit:
            how = FOUND_BY_ZH.get(fc.found_by, fc.found_by)
            lines.append(f"  填报单位：{fc.unit}" + (f"（{how}）" if how else ""))
        if fc.status == MERGED:
            line = counts_line("  录用登记", fc.events, fc.outcomes, {**OUTCOME_ZH, SCORED: "可计分"}, SCORED)
            if fc.scoring:
                line += f"；可计分的合计{points_text(fc.points, report.places)}分"
            if fc.credit:
                line += f"（另给对口处室{points_text(fc.credit, report.places)}分）"
            lines.append(line)
            lines.append(counts_line("  报送登记", fc.submissions, fc.submission_outcomes, SUB_OUTCOME_ZH,
                                      "counted"))
        lines.append(f"  结论：{verdict(fc)}")
        for title, group, detailed in (("需要修改", fc.errors, True), ("请核实", fc.warnings, True),
                                       ("提示", fc.infos, False)):
            if not group:
                continue
            lines.append(f"  {title}（{len(group)}处）：")
            for k, issue in enumerate(group, start=1):
                lines.extend("  " + s for s in _issue_lines(k, issue, detailed))
    ok = sum(1 for f in report.files if not f.has_blocking and f.status == MERGED)
    bad = sum(1 for f in report.files if f.has_blocking)
    lines.append("")
    summary = f"共检查{len(report.files)}个文件：{ok}个可以报送"
    if bad:
        summary += f"，{bad}个需要修改后重新报送"
    skipped = sum(1 for f in report.files if f.status == SKIPPED)
    if skipped:
        summary += f"，{skipped}个不是报送文件"
    proofs = sum(1 for f in report.files if f.status == LEDGER_FILE)
    if proofs:
        summary += f"，{proofs}个台帐证明材料"
    lines.append(summary + "。")
    return "\n".join(lines)

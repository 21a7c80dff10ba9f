"""The result of one merge: what every output reads, and nothing recomputes.

``merge.score_books`` builds it; the summary workbook, the 通报, result.json,
the 退回单, the reminders and the console render it. Its ``period``
(``zg_excel.period.Period``) gives them the quarter, months elapsed and labels.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .issues import IssueLog
from .ledger import Ledger
from .model import OUTCOMES, SUB_OUTCOMES, EventRow, Return, SubmissionRow
from .period import Period
from .previous import Previous
from .roster import Catalog, Roster
from .rules import Rules
from .tally import CreditLine, UnitTally
from .text import points_number, points_text

MERGED = "已合并"
SUPERSEDED_FILE = "已被替代"
REJECTED = "未合并"
FAILED = "无法读取"
SKIPPED = "已跳过"


@dataclass
class FileReport:
    """What happened to one file of the inbox (every file gets one)."""

    relpath: str
    status: str
    unit: str = ""
    format: str = ""
    events: int = 0
    submissions: int = 0
    message: str = ""
    found_by: str = ""



@dataclass
class Result:
    year: int
    as_of: dt.date
    rules: Rules
    roster: Roster
    catalog: Catalog
    workdir: Path
    inbox: Path
    units: list[UnitTally]
    credits: list[CreditLine]
    returns: list[Return]
    files: list[FileReport]
    issues: IssueLog
    previous: Previous | None = None  # standings at the end of the previous quarter (rank changes)
    generated: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))
    run_id: str = ""  # names the output set this result was written as (outputs/write.py)
    ledger: Ledger = field(default_factory=Ledger)  # the 台帐: every 市级以上 row's proof (zg_excel.ledger)

    def points_text(self, x) -> str:
        """A points value as text at the display precision of the rules (``rounding.places``)."""
        return points_text(x, self.rules.places)

    def points_number(self, x) -> float:
        """A points value as a workbook number at the display precision of the rules (``rounding.places``)."""
        return points_number(x, self.rules.places)

    @property
    def events(self) -> list[EventRow]:
        return [e for r in self.returns for e in r.events]

    @property
    def submissions(self) -> list[SubmissionRow]:
        return [s for r in self.returns for s in r.submissions]

    @property
    def rows(self) -> dict[str, int]:
        counts = Counter(e.outcome for e in self.events)
        out = {"read": sum(counts.values())}
        out.update({k: counts.get(k, 0) for k in OUTCOMES})
        return out

    @property
    def submission_rows(self) -> dict[str, int]:
        counts = Counter(s.outcome for s in self.submissions)
        out = {"read": sum(counts.values())}
        out.update({k: counts.get(k, 0) for k in SUB_OUTCOMES})
        return out

    @property
    def period(self) -> Period:
        """Quarter, months elapsed, labels and pro-rating of this merge (outputs never recompute them)."""
        return Period.of(self.year, self.as_of, self.rules)

    @property
    def months_elapsed(self) -> int:
        return self.period.months_elapsed

    @property
    def final(self) -> bool:
        return self.period.final

    def unit(self, name: str) -> UnitTally:
        for t in self.units:
            if t.unit == name:
                return t
        raise KeyError(name)

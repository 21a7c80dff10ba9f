"""The rows a return yields, each carrying its source cell.

Vocabulary (one English name per domain term): 录用 = adoption / event,
报送 = submission, 对口处室 = liaison section, 综合 = digest, 批示 = endorsement,
采用 = adoption (form), 单位 = unit, 名册 = roster, 媒体目录 = catalog.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction

# Outcomes of an event row; every row read ends in exactly one (result.json "rows").
SCORED = "scored"
NOT_ORG_WORK = "not_org_work"
DUPLICATE = "duplicate"
OUT_OF_PERIOD = "out_of_period"
UNKNOWN_OUTLET = "unknown_outlet"
INVALID = "invalid"
SUPERSEDED = "superseded"
OUTCOMES = (SCORED, NOT_ORG_WORK, DUPLICATE, OUT_OF_PERIOD, UNKNOWN_OUTLET, INVALID, SUPERSEDED)
OUTCOME_ZH = {
    SCORED: "计分",
    NOT_ORG_WORK: "非组织工作（不计分）",
    DUPLICATE: "重复（不重复计分）",
    OUT_OF_PERIOD: "不在统计期内",
    UNKNOWN_OUTLET: "媒体不在目录中",
    INVALID: "填写有误（不计分）",
    SUPERSEDED: "已被更新文件替代",
}

# Outcomes of a submission row (result.json "submission_rows").
COUNTED = "counted"
NOT_COUNTED = "not_counted"  # destination does not count for the unit's category
SUB_OUTCOMES = (COUNTED, NOT_COUNTED, DUPLICATE, OUT_OF_PERIOD, INVALID, SUPERSEDED)


@dataclass(frozen=True, slots=True)
class Source:
    file: str  # path relative to the inbox
    sheet: str
    row: int  # 1-based spreadsheet row

    def __str__(self) -> str:
        return f"{self.file} / {self.sheet} / 第{self.row}行"


_PLACES: dict[tuple[str, str], tuple[str, str]] = {}


def place(file: str, sheet: str) -> tuple[str, str]:
    """One (file, sheet) tuple for all the rows of a sheet (a row keeps it and its line number
    instead of a ``Source`` object of its own: 48 bytes less a row, 27 MB at 560,000 rows)."""
    key = (file, sheet)
    got = _PLACES.get(key)
    if got is None:
        if len(_PLACES) > 4096:
            _PLACES.clear()
        got = _PLACES[key] = key
    return got


@dataclass(slots=True)  # slots: a city's 500,000 rows must fit in a few hundred MB
class EventRow:
    """One 录用登记 row: an adoption, a digest or an endorsement. ``EventRow.at(source, …)`` makes one."""

    where: tuple[str, str]  # (file, sheet): see ``place``
    line: int  # 1-based spreadsheet row
    unit: str
    title: str | None = None
    title_key: int = 0  # values.title_digest(title) (read it with values.row_key): set where the row is read
    form: str | None = None
    outlet_text: str | None = None  # as typed
    outlet: str | None = None  # catalog name, when found
    outlet_level: str | None = None  # catalog level, when found
    declared_level: str | None = None  # 媒体级别 as typed and recognised
    date: dt.date | None = None
    chars: int | None = None
    minutes: Fraction | None = None
    section: str | None = None  # liaison section (a roster unit), when valid
    org_work: bool = True
    serious: bool = False
    note: str | None = None
    issue_page: str | None = None  # 期号版面 as typed (台帐 proof)
    link: str | None = None  # 链接: the published item's URL (台帐 proof)
    proof_files: tuple[str, ...] = ()  # 证明材料: file names the unit sent with the return (台帐 proof)
    invalid: bool = False  # a problem kept it out of the scores (issue logged)
    outcome: str = ""
    points: Fraction = Fraction(0)
    credit: Fraction = Fraction(0)  # what the liaison section receives from this row
    multiplier: Fraction = Fraction(1)
    level: str | None = None  # the level used for scoring
    explanation: str = ""

    @classmethod
    def at(cls, source: Source, **fields) -> EventRow:
        return cls(where=place(source.file, source.sheet), line=source.row, **fields)

    @property
    def source(self) -> Source:
        return Source(self.where[0], self.where[1], self.line)


@dataclass(slots=True)
class SubmissionRow:
    """One 报送登记 row: a manuscript submitted upward. ``SubmissionRow.at(source, …)`` makes one."""

    where: tuple[str, str]  # (file, sheet): see ``place``
    line: int
    unit: str
    title: str | None = None
    title_key: int = 0
    date: dt.date | None = None
    destination: str | None = None
    section: str | None = None
    note: str | None = None
    invalid: bool = False
    outcome: str = ""
    counted_for: list[str] = field(default_factory=list)  # units it counts for

    @classmethod
    def at(cls, source: Source, **fields) -> SubmissionRow:
        return cls(where=place(source.file, source.sheet), line=source.row, **fields)

    @property
    def source(self) -> Source:
        return Source(self.where[0], self.where[1], self.line)


@dataclass
class Return:
    """One readable file identified as a unit's return."""

    path: str  # absolute
    relpath: str  # relative to the inbox (the name shown everywhere)
    unit: str | None
    format: str = ""
    saved_time: dt.datetime | None = None
    file_time: dt.datetime | None = None
    fingerprint: dict[str, str] = field(default_factory=dict)
    events: list[EventRow] = field(default_factory=list)
    submissions: list[SubmissionRow] = field(default_factory=list)
    superseded_by: str | None = None
    found_by: str = ""  # fingerprint | 填报单位 | 文件名

    @property
    def months(self) -> set[tuple[int, int]]:
        """The (year, month) pairs of the return's dates: a file whose months all lie within a newer
        file's months of the same unit is superseded by it when that file is also a resend of it
        (``versions.resolve_versions``)."""
        out = {(e.date.year, e.date.month) for e in self.events if e.date}
        out |= {(s.date.year, s.date.month) for s in self.submissions if s.date}
        return out

    @property
    def time(self) -> dt.datetime | None:
        return self.saved_time or self.file_time

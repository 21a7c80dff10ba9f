"""Problems found in the returns, as data.

One bad cell or one bad file never stops a batch: every problem becomes an
``Issue`` collected in an ``IssueLog``, and every view (问题清单 sheet,
result.json, console summary, 退回单, exit code) is rendered from that log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator

ERROR = "error"
WARNING = "warning"
INFO = "info"

SEVERITY_ZH = {ERROR: "错误", WARNING: "警告", INFO: "提示"}
_SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem, located as precisely as the input allows.

    ``row`` is the 1-based spreadsheet row; ``column`` the header text of the
    column concerned (as the unit sees it), not a letter, so a unit can find it
    even after moving columns. ``action`` says what the run did about it
    (e.g. 该行不计分), so the user knows whether a number is affected.
    """

    severity: str
    code: str
    message: str
    file: str = ""
    sheet: str = ""
    row: int | None = None
    column: str = ""
    value: str = ""
    action: str = ""
    unit: str = ""
    fix: str = ""

    def to_json(self) -> dict:
        out = {
            "severity": self.severity,
            "code": self.code,
            "file": self.file,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
            "action": self.action,
            "unit": self.unit,
        }
        if self.fix:
            out["fix"] = self.fix
        return out

    def where(self) -> str:
        """Human location such as ``峡窝镇.xlsx / 录用登记 / 第14行 / 录用日期``."""
        parts = [p for p in (self.file, self.sheet) if p]
        if self.row:
            parts.append(f"第{self.row}行")
        if self.column:
            parts.append(self.column)
        return " / ".join(parts)

    def sort_key(self) -> tuple:
        return (
            _SEVERITY_ORDER.get(self.severity, 9),
            self.file,
            self.sheet,
            self.row or 0,
            self.column,
            self.code,
            self.message,
        )


@dataclass
class IssueLog:
    """An ordered collection of issues; the single source for every view."""

    items: list[Issue] = field(default_factory=list)

    def add(self, severity: str, code: str, message: str, **where) -> Issue:
        issue = Issue(severity=severity, code=code, message=message, **where)
        self.items.append(issue)
        return issue

    def error(self, code: str, message: str, **where) -> Issue:
        return self.add(ERROR, code, message, **where)

    def warning(self, code: str, message: str, **where) -> Issue:
        return self.add(WARNING, code, message, **where)

    def info(self, code: str, message: str, **where) -> Issue:
        return self.add(INFO, code, message, **where)

    def extend(self, issues: Iterable[Issue]) -> None:
        self.items.extend(issues)

    def __iter__(self) -> Iterator[Issue]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def count(self, severity: str) -> int:
        return sum(1 for i in self.items if i.severity == severity)

    @property
    def has_errors(self) -> bool:
        return any(i.severity == ERROR for i in self.items)

    def sorted(self) -> list[Issue]:
        return sorted(self.items, key=Issue.sort_key)

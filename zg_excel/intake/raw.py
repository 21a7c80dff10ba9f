"""What a reader hands to the rest of the pipeline: cells, nothing interpreted.

These plain dataclasses cross the process boundary of the intake workers, so
they hold only picklable builtins.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

# Cell values are one of: None, str, int, float, bool, datetime.date,
# datetime.datetime, datetime.time.
Cell = object


@dataclass
class RawSheet:
    """One worksheet as read: a dense grid of cell values, top-left = A1."""

    name: str
    rows: list[list[Cell]]
    hidden: bool = False  # sheet state hidden / veryHidden
    hidden_rows: set[int] = field(default_factory=set)  # 1-based row numbers
    hidden_cols: set[int] = field(default_factory=set)  # 1-based column numbers
    # 1-based (row, col) -> formula text, for formulas that carry no cached value
    formulas_without_value: dict[tuple[int, int], str] = field(default_factory=dict)
    # merged ranges as 1-based inclusive (first_row, first_col, last_row, last_col)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)


@dataclass
class RawBook:
    """One readable workbook."""

    path: str
    format: str  # xlsx | xlsm | xls | ods | xlsb | csv
    sheets: list[RawSheet]
    saved_time: _dt.datetime | None = None  # the workbook's own "last saved" time
    properties: dict[str, str] = field(default_factory=dict)  # custom document properties
    notes: list[str] = field(default_factory=list)  # reader remarks worth listing (Chinese)

    def sheet(self, name: str) -> RawSheet | None:
        for s in self.sheets:
            if s.name == name:
                return s
        return None


@dataclass
class FileFailure:
    """A file that is not (or cannot safely be) read as a workbook.

    ``code`` is stable for tests and machines; ``message`` is Chinese, written
    so the user can forward it to the unit as is (what is wrong, what to do).
    ``skipped`` is True for files that are not returns at all (Office lock
    files ``~$*``, non-spreadsheet files), which are listed as 提示, not 错误.
    """

    path: str
    code: str
    message: str
    skipped: bool = False


@dataclass(frozen=True)
class IntakeLimits:
    """Resource limits for reading one untrusted file (settings, see rules.toml [intake])."""

    max_file_mb: float = 50.0
    max_uncompressed_mb: float = 200.0
    max_ratio: float = 200.0  # per zip member, uncompressed / compressed
    max_cells: int = 2_000_000  # non-empty cells per workbook
    max_string_chars: int = 32_767
    timeout_s: float = 60.0
    memory_mb: int = 1024  # address-space cap of a worker process
    workers: int = 0  # 0 = number of CPU cores

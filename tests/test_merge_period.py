"""The run's period and where returns are looked for."""

from __future__ import annotations

import datetime as dt
import shutil

from tests.conftest import SAMPLES
from zg_excel.merge import merge
from zg_excel.outputs.write import write_outputs
from zg_excel.period import resolve_period
from zg_excel.workspace import Workspace, init_workspace


def test_as_of_defaults_to_the_last_complete_month_capped_at_year_end():
    today = dt.date(2027, 2, 10)
    assert resolve_period(2026, None, today) == (2026, dt.date(2026, 12, 31))
    assert resolve_period(None, None, today) == (2027, dt.date(2027, 1, 31))
    assert resolve_period(None, dt.date(2026, 9, 30), today) == (2026, dt.date(2026, 9, 30))
    assert resolve_period(2026, dt.date(2027, 1, 5), today) == (2026, dt.date(2026, 12, 31))


def test_an_output_folder_inside_the_inbox_is_never_read_back(tmp_path):
    w = tmp_path / "w"
    init_workspace(w)
    src = SAMPLES / "组织科-2026年前三季度.xlsx"
    shutil.copy2(src, w / "inbox" / src.name)
    ws = Workspace(w)
    first = merge(w, year=2026, as_of=dt.date(2026, 9, 30), inbox=w)  # the whole folder as the inbox
    write_outputs(first, ws.output, bulletin_template=ws.bulletin_template(), issued=dt.date(2026, 10, 8))
    assert any(ws.output.rglob("*.xlsx"))
    again = merge(w, year=2026, as_of=dt.date(2026, 9, 30), inbox=w)
    assert not any(f.relpath.startswith("output/") for f in again.files)
    assert [f.relpath for f in again.files if f.status == "已合并"] == [f"inbox/{src.name}"]
    assert again.unit("组织科").points == first.unit("组织科").points

"""``rounding.places`` is the one display precision of points: result.json, 通报.txt and the summary's
排名总表 show every total rounded the same way (issue 11: one setting, used everywhere points are shown)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import copy_samples
from zg_excel.cli import cli


def _merge(tmp_path: Path, places: int) -> tuple[dict, str, list[list]]:
    from zg_excel.workspace import init_workspace

    w = tmp_path / f"places{places}"
    init_workspace(w)
    copy_samples(w / "inbox")
    (w / "rules.toml").write_text(f"[rounding]\nplaces = {places}\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["merge", "-w", str(w), "--year", "2026", "--as-of", "2026-09-30",
                                 "--date", "2026-10-09", "-q"])
    assert r.exit_code in (0, 1), r.output
    out = w / "output"
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    bulletin = (out / "通报.txt").read_text(encoding="utf-8")
    book = next(p for p in out.glob("*汇总表*.xlsx") if not p.name.startswith("."))
    wb = openpyxl.load_workbook(book, read_only=True, data_only=True)
    rows = [list(row) for row in wb["排名总表"].iter_rows(values_only=True)]
    wb.close()
    return result, bulletin, rows


@pytest.mark.parametrize("places", [0, 1])
def test_one_precision_in_result_json_bulletin_and_summary(tmp_path, places):
    result, bulletin, rows = _merge(tmp_path, places)
    units = {u["unit"]: u for u in result["units"]}
    for u in units.values():  # result.json itself at that precision
        for key in ("total", "prorated_target"):
            assert -Decimal(u[key]).as_tuple().exponent == places, (key, u[key])
    # the summary: the same values in 总积分 and 序时目标
    head_at = next(i for i, r in enumerate(rows) if "总积分" in r)
    head = rows[head_at]
    seen = 0
    for r in rows[head_at + 1:]:
        name = next((v for v in r if isinstance(v, str) and v.replace("（未报送）", "") in units), None)
        if name is None or not isinstance(r[head.index("总积分")], (int, float)):
            continue
        u = units[name.replace("（未报送）", "")]
        assert Decimal(str(r[head.index("总积分")])) == Decimal(u["total"]), name
        assert Decimal(str(r[head.index("序时目标")])) == Decimal(u["prorated_target"]), name
        seen += 1
    assert seen >= len(units) - 1
    # the 通报: every “单位（N分…” is that unit's total at the same precision
    found = re.findall(r"([^\s，、：；（）]+)（(-?[\d.]+)分", bulletin)
    assert found
    for name, shown in found:
        if name in units:
            assert Decimal(shown) == Decimal(units[name]["total"]), (name, shown)
    decimals = re.findall(r"\d+\.(\d+)分", bulletin)
    assert all(len(d) <= places for d in decimals), decimals


def test_places_changes_what_is_shown(tmp_path):
    """37.5 (a 序时进度 of the samples) is 38 at places = 0 and 37.5 at places = 1, in every output."""
    r0, b0, _ = _merge(tmp_path, 0)
    r1, b1, _ = _merge(tmp_path, 1)
    targets0 = {u["prorated_target"] for u in r0["units"]}
    targets1 = {u["prorated_target"] for u in r1["units"]}
    assert "38" in targets0 and "37.5" in targets1
    assert "37.5分" not in b0 and "37.5分" in b1


def test_half_points_follow_the_precision():
    from fractions import Fraction

    from zg_excel.text import points_number, points_text

    assert (points_text(Fraction(75, 2), 0), points_number(Fraction(75, 2), 0)) == ("38", 38.0)
    assert (points_text(Fraction(-1, 2), 0), points_text(Fraction(75, 2), 1)) == ("-1", "37.5")
    assert (points_text(Fraction(75, 2)), points_number(Fraction(75, 2))) == ("37.5", 37.5)

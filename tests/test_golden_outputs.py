"""Every output a user reads is unchanged by the restructuring of issue 11.

``tests/data/golden/outputs-*.json`` hold, for the sample returns and for a
generated workload of 200 returns (20 units × 10 monthly files), what the code
before the restructuring wrote: ``result.json``, ``通报.txt`` and the value of
every cell of every sheet of the summary workbook. A change that is meant to
alter an output rewrites them with ``ZG_UPDATE_GOLDEN=1 pytest tests/test_golden_outputs.py``
and says why in its commit.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
from pathlib import Path

import pytest

from tests.conftest import copy_samples

GOLDEN = Path(__file__).parent / "data" / "golden"
REPO = Path(__file__).resolve().parents[1]
ISSUED = dt.date(2026, 10, 9)
# Fields that name the run itself rather than its content (added later runs may carry more).
VOLATILE = {"run_id", "run_files", "generated_at"}


def _cells(path: Path) -> dict[str, list[list]]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    out = {}
    for ws in wb.worksheets:
        rows = []
        for row in ws.iter_rows(values_only=True):
            rows.append([v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v for v in row])
        while rows and not any(v not in (None, "") for v in rows[-1]):
            rows.pop()
        out[ws.title] = [[v for v in r] for r in rows]
    wb.close()
    return out


def _outputs(workdir: Path, year: int, as_of: dt.date) -> dict:
    from click.testing import CliRunner

    from zg_excel.cli import cli

    res = CliRunner().invoke(cli, ["merge", "-w", str(workdir), "--year", str(year), "--as-of",
                                   as_of.isoformat(), "--date", ISSUED.isoformat(), "-q"])
    assert res.exit_code in (0, 1), res.output
    out = workdir / "output"
    summary = [p for p in out.glob("*汇总表*.xlsx") if not p.name.startswith(".")]
    assert len(summary) == 1, sorted(p.name for p in out.iterdir())
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    for key in VOLATILE:
        result.pop(key, None)
    return {
        "result.json": result,
        "通报.txt": (out / "通报.txt").read_text(encoding="utf-8").splitlines(),
        "summary": _cells(summary[0]),
    }


def _compare(name: str, got: dict) -> None:
    got = json.loads(json.dumps(got, ensure_ascii=False, default=str))
    path = GOLDEN / name
    if os.environ.get("ZG_UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(got, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    want = json.loads(path.read_text(encoding="utf-8"))
    assert got["result.json"] == want["result.json"]
    assert got["通报.txt"] == want["通报.txt"]
    assert sorted(got["summary"]) == sorted(want["summary"])
    for sheet, rows in want["summary"].items():
        assert got["summary"][sheet] == rows, f"summary sheet {sheet} differs"


def test_sample_outputs_unchanged(tmp_path):
    from zg_excel.workspace import init_workspace

    root = tmp_path / "2026组工信息"
    init_workspace(root)
    copy_samples(root / "inbox")
    _compare("outputs-samples.json", _outputs(root, 2026, dt.date(2026, 9, 30)))


@pytest.mark.slow
def test_generated_200_returns_outputs_unchanged(tmp_path):
    spec = importlib.util.spec_from_file_location("make_workload", REPO / "bench" / "make_workload.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "w"
    module.main(["--units", "20", "--months", "10", "--events", "6", "--subs", "3", "--seed", "11", "-q", str(out)])
    assert len([p for p in (out / "inbox").rglob("*.xlsx")]) >= 200
    _compare("outputs-workload200.json", _outputs(out, 2026, dt.date(2026, 10, 31)))

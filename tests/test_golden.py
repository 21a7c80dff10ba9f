"""The same result.json before and after the speed work (issue 4).

``tests/data/golden/*.json`` were written by the code of commit 51fcbf0, before the
summary rows were streamed, duplicates grouped by unit, tallies summed per value,
title keys kept as digests and claims normalized block by block. Any change to a
number, an outcome, an issue or its order shows up here as a diff. (On the W1
benchmark workload, 100,000 rows, the two result.json files were byte-identical.)

When a change is meant to alter the result, rewrite the files with
``ZG_UPDATE_GOLDEN=1 pytest tests/test_golden.py`` and say why in the commit.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
from pathlib import Path

import pytest

from zg_excel.merge import merge
from zg_excel.outputs.result_json import result_dict

GOLDEN = Path(__file__).parent / "data" / "golden"
REPO = Path(__file__).resolve().parents[1]


def _check(name: str, result) -> None:
    got = json.loads(json.dumps(result_dict(result), ensure_ascii=False))
    path = GOLDEN / name
    if os.environ.get("ZG_UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    want = json.loads(path.read_text(encoding="utf-8"))
    assert got["rows"] == want["rows"]
    assert got["units"] == want["units"]
    assert got["issues"] == want["issues"]
    assert got == want


def test_samples_result_unchanged(sample_result):
    _check("samples.json", sample_result)


@pytest.fixture(scope="module")
def workload(tmp_path_factory) -> Path:
    spec = importlib.util.spec_from_file_location("make_workload", REPO / "bench" / "make_workload.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path_factory.mktemp("golden") / "w"
    module.main(["--units", "12", "--months", "3", "--events", "40", "--subs", "6", "--seed", "7", "-q", str(out)])
    return out


def test_generated_workload_result_unchanged(workload):
    # a year-end run made after the year (an earlier day adds the as-of-in-the-future warning)
    result = merge(workload, year=2026, as_of=dt.date(2026, 12, 31), today=dt.date(2027, 1, 15))
    assert result.rows["read"] == 1440 and result.rows["duplicate"] > 0
    _check("workload_s7.json", result)

"""result.json against its contract (WORKBOOKS.md) and the row-accounting invariant, on the samples."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from zg_excel.model import OUTCOMES
from zg_excel.outputs.result_json import result_dict

DEC = re.compile(r"^-?\d+\.\d{2}$")


def test_contract_keys_and_types(sample_result):
    data = json.loads(json.dumps(result_dict(sample_result), ensure_ascii=False))
    assert {"year", "as_of", "units", "rows", "issues"} <= set(data)
    names = [u["unit"] for u in data["units"]]
    assert names == [u.name for u in sample_result.roster.units]  # roster order
    for u in data["units"]:
        for key in ("unit", "category", "returned", "points", "credit", "total", "submissions_by_month",
                    "submissions_year", "provincial_org_adoptions", "short_months", "targets"):
            assert key in u, key
        for key in ("points", "credit", "total"):
            assert DEC.match(u[key]), (u["unit"], key, u[key])
        assert Decimal(u["points"]) + Decimal(u["credit"]) == Decimal(u["total"])
        assert set(u["submissions_by_month"]) == {str(m) for m in range(1, 10)}
        cat = sample_result.rules.categories[u["category"]]
        assert set(u["targets"]) == set(cat.target_keys)
        assert u["short_months"] == [int(m) for m, n in u["submissions_by_month"].items()
                                     if cat.monthly_submissions and n < cat.monthly_submissions]
    for issue in data["issues"]:
        assert {"severity", "file", "sheet", "row", "column", "value", "message"} <= set(issue)


def test_rows_read_equals_sum_of_outcomes(sample_result):
    rows = sample_result.rows
    assert set(OUTCOMES) <= set(rows)
    assert rows["read"] == sum(rows[k] for k in OUTCOMES)
    assert rows["read"] == sum(len(r.events) for r in sample_result.returns)
    # the samples exercise every outcome
    for k in OUTCOMES:
        assert rows[k] > 0, k


def test_every_inbox_file_is_accounted_for(sample_result, sample_workdir):
    listed = {f.relpath for f in sample_result.files}
    on_disk = {p.relative_to(sample_workdir / "inbox").as_posix()
               for p in (sample_workdir / "inbox").rglob("*") if p.is_file()}
    assert listed == on_disk


def test_sample_facts(sample_result):
    r = sample_result
    assert not r.unit("矿山街道党工委").returned
    assert r.unit("区卫生健康系统党委").returned  # found by its 填报单位 cell, no fingerprint
    sup = [f for f in r.files if f.status == "已被替代"]
    assert [f.relpath for f in sup] == ["中心路街道党工委-1至6月.xlsx"]
    assert r.unit("济源路街道党工委").short_months == [5]
    lock = [f for f in r.files if f.relpath.startswith("~$")]
    assert lock and lock[0].status == "已跳过"
    codes = {i.code for i in r.issues}
    assert {"bad_date", "unknown_outlet", "not_returned", "duplicate_event", "superseded"} <= codes
    # totals are exactly the sums of the scored rows plus the credit lines
    for t in r.units:
        own = sum((e.points for e in r.events if e.unit == t.unit and e.outcome == "scored"), 0)
        credit = sum((c.credit for c in r.credits if c.section == t.unit), 0)
        assert t.points == own and t.credit == credit

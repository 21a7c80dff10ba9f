"""An inbox made of the whole hostile corpus plus the samples scores the sample units exactly as the samples alone.

Every corpus file must be listed (merged, rejected, failed or skipped) and the
batch must finish; none of it may change a sample unit's numbers.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from tests.conftest import copy_samples, corpus_dir, corpus_files
from zg_excel.merge import merge
from zg_excel.outputs.result_json import result_dict
from zg_excel.workspace import init_workspace

pytestmark = pytest.mark.slow


def _units(result) -> list[dict]:
    keep = ("unit", "returned", "points", "credit", "total", "submissions_by_month", "short_months", "targets")
    return [{k: u[k] for k in keep} for u in result_dict(result)["units"]]


def test_corpus_plus_samples_scores_like_samples_alone(tmp_path, sample_result, crafted_generated):
    if corpus_dir() is None:
        pytest.skip("../shared/corpus is not on this machine")
    w = tmp_path / "w"
    init_workspace(w)
    copy_samples(w / "inbox")
    hostile = w / "inbox" / "corpus"
    for name, path in {**corpus_files(), **crafted_generated}.items():
        dest = hostile / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
    result = merge(w, year=2026, as_of=dt.date(2026, 9, 30))
    assert _units(result) == _units(sample_result)
    listed = {f.relpath for f in result.files}
    on_disk = {p.relative_to(w / "inbox").as_posix() for p in (w / "inbox").rglob("*") if p.is_file()}
    assert listed == on_disk
    rows = result.rows
    assert rows["read"] == sum(v for k, v in rows.items() if k != "read")
    statuses = {f.status for f in result.files if f.relpath.startswith("corpus/")}
    assert statuses <= {"已合并", "未合并", "无法读取", "已跳过"}
    # no corpus file was taken for a sample unit's return
    assert not any(f.unit for f in result.files if f.relpath.startswith("corpus/") and f.status == "已合并")

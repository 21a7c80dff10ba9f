"""template → filled by another program → merged gives back the values (and after a LibreOffice save)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from zg_excel.rules import load_rules
from tests.fill import fill_return
from zg_excel.merge import merge
from zg_excel.roster import load_catalog, load_roster
from zg_excel.template import write_template
from zg_excel.workspace import init_workspace

EVENTS = [
    {"稿件标题": "峡窝镇推行党员积分制", "录用形式": "采用", "媒体名称": "郑州日报", "录用日期": dt.date(2026, 3, 5),
     "字数": 1200, "经对口处室": "干部科"},
    {"稿件标题": "“红色物业”让小区更温暖", "录用形式": "综合", "媒体名称": "河南组工信息", "录用日期": "2026年4月8日"},
    {"稿件标题": "峡窝镇推行党员积分制", "录用形式": "批示", "媒体级别": "市级", "录用日期": "2026/4/20"},
    {"稿件标题": "党员志愿服务纪实", "录用形式": "采用", "媒体名称": "央视", "录用日期": "2026.5.6",
     "视频时长（分钟）": "1分30秒"},
    {"稿件标题": "基层治理新探索", "录用形式": "采用", "媒体名称": "上街区党建网", "录用日期": 20260607, "字数": "1,500字"},
]
SUBS = [{"报送日期": dt.date(2026, m, 3), "稿件标题": f"报送稿件{m}", "报送对象": "区委组织部"} for m in range(1, 7)]
EXPECTED = [  # (title, form, outlet, level, date, chars, minutes, points)
    ("峡窝镇推行党员积分制", "采用", "郑州日报", "市级", dt.date(2026, 3, 5), 1200, None, 15),
    ("“红色物业”让小区更温暖", "综合", "《河南组工信息》", "省级", dt.date(2026, 4, 8), None, None, 5),
    ("峡窝镇推行党员积分制", "批示", None, "市级", dt.date(2026, 4, 20), None, None, 10),
    ("党员志愿服务纪实", "采用", "中央电视台", "中央级", dt.date(2026, 5, 6), None, Fraction(3, 2), 90),
    ("基层治理新探索", "采用", "上街区党建网", "区级", dt.date(2026, 6, 7), 1500, None, 3),
]


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _filled(tmp_path: Path) -> tuple[Path, Path]:
    w = tmp_path / "w"
    init_workspace(w)
    rules = load_rules()
    roster, catalog = load_roster(None, rules), load_catalog(None, rules)
    tpl = tmp_path / "tpl.xlsx"
    write_template(tpl, unit="峡窝镇党委", year=2026, roster=roster, catalog=catalog, rules=rules)
    filled = fill_return(tpl, tmp_path / "峡窝镇党委-上半年.xlsx", submissions=SUBS, events=EVENTS)
    return w, filled


def _check(result):
    got = [(e.title, e.form, e.outlet, e.level, e.date, e.chars, e.minutes, e.points) for e in result.events]
    assert got == EXPECTED
    t = result.unit("峡窝镇党委")
    assert t.points == sum(x[-1] for x in EXPECTED)
    assert result.unit("干部科").credit == 3
    assert t.submissions_by_month == {m: (1 if m <= 6 else 0) for m in range(1, 10)}
    assert [f.found_by for f in result.files] == ["模板标识"]
    assert not result.issues.has_errors, [i.message for i in result.issues if i.severity == "error"]


def test_template_filled_with_openpyxl_merges_back(tmp_path):
    w, filled = _filled(tmp_path)
    shutil.copy2(filled, w / "inbox" / filled.name)
    _check(merge(w, year=2026, as_of=dt.date(2026, 9, 30)))


def test_return_resaved_by_libreoffice_still_merges(tmp_path):
    exe = soffice()
    if exe is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui")
    w, filled = _filled(tmp_path)
    out = tmp_path / "lo"
    profile = tmp_path / "profile"
    subprocess.run([exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to",
                    "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(filled)],
                   check=True, capture_output=True, timeout=180)
    resaved = out / filled.name
    assert resaved.read_bytes() != filled.read_bytes()
    shutil.copy2(resaved, w / "inbox" / filled.name)
    _check(merge(w, year=2026, as_of=dt.date(2026, 9, 30)))


def test_inbox_is_never_modified(tmp_path, sample_workdir):
    import hashlib

    def digest(root: Path) -> dict[str, tuple[str, float]]:
        return {p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
                for p in sorted(root.rglob("*")) if p.is_file()}

    before = digest(sample_workdir / "inbox")
    merge(sample_workdir, year=2026, as_of=dt.date(2026, 9, 30))
    assert digest(sample_workdir / "inbox") == before
    assert os.listdir(sample_workdir / "inbox")

"""Very long unit names (issue 12, item 7): every file name made from one fits the 255-byte limit.

A CJK character is 3 bytes of UTF-8; a unit name of 68+ such characters made
``template`` fail ("File name too long") and 77+ made ``merge`` fail while
writing 退回单. Names are now capped in bytes with a hash mark, so two long names
that begin alike stay two files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openpyxl

from tests.factory import ev
from tests.fill import fill_return
from zg_excel.text import NAME_MAX_BYTES, safe_filename
from zg_excel.workspace import Workspace, template_filename

NAME_MAX = 255
LONG_A = "上街区" + "非公有制经济组织和社会组织综合党委" * 5 + "第一支部"  # 95 CJK characters
LONG_B = LONG_A[:-4] + "第二支部"  # the same first 91 characters


def _zg(*args, cwd):
    return subprocess.run([sys.executable, "-m", "zg_excel", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"}, timeout=300)


def test_safe_filename_caps_bytes_and_keeps_long_names_apart():
    a, b = safe_filename(LONG_A), safe_filename(LONG_B)
    assert a != b
    assert len(a.encode()) <= NAME_MAX_BYTES and len(b.encode()) <= NAME_MAX_BYTES
    assert a[:40] == LONG_A[:40] and a[-7] == "~"
    assert safe_filename(LONG_A) == a  # the same name always gives the same file name
    assert safe_filename("峡窝镇党委") == "峡窝镇党委"  # short names are untouched
    for name in (LONG_A, "a" * 300, "𠀀" * 100, "é" * 200):  # 4-byte and 2-byte characters too
        for path in (Path(template_filename(name, 2026)), Workspace(Path("w")).returnslip_path(name),
                     Workspace(Path("w")).reminder_path(name)):
            assert len(path.name.encode()) <= NAME_MAX - 60, path.name  # room for a temporary name's parts


def test_template_and_merge_with_long_unit_names(tmp_path):
    wd = tmp_path / "2026组工信息"
    assert _zg("init", str(wd), "-q", cwd=tmp_path).returncode == 0
    roster = openpyxl.load_workbook(wd / "单位名册.xlsx")
    sheet = roster.worksheets[0]
    sheet.append([LONG_A, "镇街"])
    sheet.append([LONG_B, "镇街"])
    roster.save(wd / "单位名册.xlsx")

    done = _zg("template", "-w", str(wd), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    outbox = Workspace(wd).outbox
    files = {p.name for p in outbox.iterdir()}
    tpl_a, tpl_b = template_filename(LONG_A, 2026), template_filename(LONG_B, 2026)
    assert tpl_a in files and tpl_b in files and tpl_a != tpl_b
    assert not [n for n in files if n.startswith(".~")]

    # A return of LONG_A with a row in error: merge writes its 退回单.
    fill_return(outbox / tpl_a, Workspace(wd).inbox / tpl_a,
                events=[ev("好稿件", "采用", "郑州日报"), ev("日期写错", "采用", "郑州日报", date="2026.13.5")])
    done = _zg("merge", "-w", str(wd), "--as-of", "2026-09-30", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr  # an error in a return, not a crash
    assert "Traceback" not in done.stderr and "程序内部错误" not in done.stderr
    slip = Workspace(wd).returnslip_path(LONG_A)
    assert slip.is_file(), sorted(p.name for p in slip.parent.iterdir())
    rows = list(openpyxl.load_workbook(slip).worksheets[0].iter_rows(values_only=True))
    assert any(LONG_A in str(v) for row in rows for v in row if v)  # the slip names the whole unit
    leftovers = [p for p in wd.rglob(".~*")]
    assert not leftovers, leftovers

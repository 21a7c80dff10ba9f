"""A Chinese Windows console (GBK): the real entry point must never crash on an unencodable character.

Each command runs in a subprocess with ``PYTHONIOENCODING=gbk`` (what a cmd.exe window on code
page 936 gives Python when output is redirected), on paths with Chinese characters and spaces.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, copy_samples

# The console entry point, with the commands of this issue registered the way the lead will
# (cli.add_command) when they are not yet.
ENTRY = (
    "from zg_excel.cli import cli, main\n"
    "from zg_excel.commands.check import check\n"
    "from zg_excel.commands.rules import rules\n"
    "for c in (check, rules):\n"
    "    cli.commands.get(c.name) or cli.add_command(c)\n"
    "main()\n"
)
ROOT = Path(__file__).resolve().parent.parent


def zg(*args, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "gbk", "PYTHONPATH": str(ROOT), "PYTHONUTF8": "0"}
    env.pop("PYTHONLEGACYWINDOWSSTDIO", None)
    return subprocess.run([sys.executable, "-c", ENTRY, *map(str, args)], capture_output=True, env=env,
                          cwd=cwd, timeout=600)


def text(done: subprocess.CompletedProcess) -> str:
    out = done.stdout.decode("gbk") + done.stderr.decode("gbk")  # must be valid GBK
    assert "Traceback" not in out and "UnicodeEncodeError" not in out, out
    return out


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    w = tmp_path_factory.mktemp("gbk") / "2026 组工 信息"
    done = zg("init", w)
    assert done.returncode == 0, text(done)
    copy_samples(w / "inbox")
    return w


def test_merge_on_the_samples(workdir):
    done = zg("merge", "-w", workdir, "--as-of", "2026-09-30", "--date", "2026-10-08")
    out = text(done)
    assert done.returncode == 1, out  # the samples hold a bad date and an unknown outlet
    assert "未报送：矿山街道党工委" in out and "已写出" in out


def test_check_on_the_inbox_and_on_one_clean_file(workdir):
    done = zg("check", "-w", workdir, "--as-of", "2026-09-30", workdir / "inbox")
    out = text(done)
    assert done.returncode == 1 and "需要修改" in out and "2026.13.5" in out
    clean = workdir / "inbox" / "组织科-2026年前三季度.xlsx"
    done = zg("check", "-w", workdir, "--as-of", "2026-09-30", clean)
    out = text(done)
    assert done.returncode == 0 and "可以报送" in out


def test_check_from_inside_the_folder_with_a_value_gbk_cannot_show(workdir, tmp_path):
    """A unit typed an emoji: the console shows a replacement character, never a crash."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "录用登记"
    ws.append(["稿件标题", "录用形式", "媒体名称", "录用日期"])
    ws.append(["党建引领 🚩 基层治理", "采用", "郑州日报", "2026.13.5 🙂"])
    path = workdir / "inbox" / "峡窝镇党委 补报.xlsx"
    wb.save(path)
    try:
        done = zg("check", "-w", "..", "--as-of", "2026-09-30", path.name, cwd=workdir / "inbox")
        # run from inside inbox, -w naming the working folder above it
        out = text(done)
        assert done.returncode == 1 and "峡窝镇党委" in out
    finally:
        path.unlink()


def test_rules_check_and_usage_errors(workdir):
    done = zg("rules", "check", "-w", workdir)
    assert done.returncode == 0, text(done)
    assert "检查通过" in text(done)
    done = zg("check", "-w", workdir, "--as-of", "2026/9/31", SAMPLES / "组织科-2026年前三季度.xlsx")
    assert done.returncode == 2 and "日期不存在" in text(done)
    done = zg("merge", "-w", workdir / "没有 这个")
    assert done.returncode == 2 and "工作目录不存在" in text(done)

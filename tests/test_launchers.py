"""Double-click launchers: .bat (GBK, CRLF) for Windows and .sh for 统信UOS / 麒麟."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from zg_excel.launchers import BAT_ENCODING, write_launchers

NAMES = ("生成模板", "合并汇总", "检查退回文件")


@pytest.fixture()
def here(tmp_path) -> Path:
    w = tmp_path / "2026 组工 信息"
    w.mkdir()
    return w


def test_all_six_are_written_once_and_never_overwritten(here):
    done = write_launchers(here)
    assert sorted(p.name for p, created in done if created) == sorted(
        [f"{n}.bat" for n in NAMES] + [f"{n}.sh" for n in NAMES])
    (here / "合并汇总.bat").write_bytes(b"@echo my own\r\n")
    again = write_launchers(here)
    assert all(not created for _, created in again)
    assert (here / "合并汇总.bat").read_bytes() == b"@echo my own\r\n"


def test_bat_files_are_gbk_with_crlf_and_ascii_commands(here):
    write_launchers(here)
    assert BAT_ENCODING == "gbk"
    for name in NAMES:
        data = (here / f"{name}.bat").read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")  # no BOM: cmd.exe would run it as a command
        text = data.decode("gbk")  # what cmd.exe reads with the Chinese code page 936
        assert "\n" not in text.replace("\r\n", "")  # CRLF everywhere, no bare LF
        lines = text.split("\r\n")
        assert lines[0] == "@echo off"
        assert "chcp 936 >nul" in lines[:3]
        assert 'cd /d "%~dp0"' in lines
        assert "where zg-excel >nul 2>nul && set \"ZG=zg-excel\"" in lines
        assert any("py -m zg_excel" in ln for ln in lines)
        assert "pause" in lines
        for ln in lines:
            words = ln.split()
            # commands are ASCII; Chinese only in messages and remarks
            if words and words[0].lower() not in ("echo", "rem") and "echo " not in ln:
                assert ln.isascii(), ln
        assert re_chinese(text)
    check = (here / "检查退回文件.bat").read_bytes().decode("gbk")
    assert "%ZG% check -w . %*" in check and "%ZG% check -w . inbox" in check
    assert "%ZG% merge -w ." in (here / "合并汇总.bat").read_bytes().decode("gbk")
    assert "%ZG% template -w ." in (here / "生成模板.bat").read_bytes().decode("gbk")


def re_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_sh_files_are_executable_utf8_lf(here):
    write_launchers(here)
    for name in NAMES:
        path = here / f"{name}.sh"
        assert path.stat().st_mode & stat.S_IXUSR
        text = path.read_bytes().decode("utf-8")
        assert "\r" not in text and text.startswith("#!/usr/bin/env bash\n")
        assert 'cd "$(dirname "$0")"' in text
        assert 'read -r -p "按回车键关闭窗口" _' in text
        if shutil.which("bash"):
            assert subprocess.run(["bash", "-n", str(path)]).returncode == 0


def _stub(folder: Path, name: str, body: str) -> None:
    folder.mkdir(exist_ok=True)
    p = folder / name
    p.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    p.chmod(0o755)


@pytest.mark.skipif(not shutil.which("bash"), reason="needs bash")
def test_sh_runs_in_its_folder_with_dropped_files(here, tmp_path):
    write_launchers(here)
    stubs = tmp_path / "bin"
    _stub(stubs, "zg-excel", 'echo "RAN in $PWD:" "$@"\nexit 1\n')
    env = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}", "HOME": str(tmp_path)}
    dropped = tmp_path / "别处" / "峡窝镇 9月.xlsx"
    run = subprocess.run(["bash", str(here / "检查退回文件.sh"), str(dropped), "相对 路径.xlsx"],
                         cwd=tmp_path, env=env, input="\n", capture_output=True, text=True)
    assert run.returncode == 1
    assert f"RAN in {here}: check -w . {dropped} {tmp_path}/相对 路径.xlsx" in run.stdout
    assert "有文件需要修改" in run.stdout

    run = subprocess.run(["bash", str(here / "检查退回文件.sh")], cwd=tmp_path, env=env, input="\n",
                         capture_output=True, text=True)
    assert f"RAN in {here}: check -w . inbox" in run.stdout

    _stub(stubs, "zg-excel", 'echo "RAN in $PWD:" "$@"\nexit 0\n')
    run = subprocess.run(["bash", str(here / "合并汇总.sh")], cwd=tmp_path, env=env, input="\n",
                         capture_output=True, text=True)
    assert run.returncode == 0 and f"RAN in {here}: merge -w ." in run.stdout and "合并完成" in run.stdout


@pytest.mark.skipif(not shutil.which("bash"), reason="needs bash")
def test_sh_falls_back_to_python_module_then_says_what_is_missing(here, tmp_path):
    write_launchers(here)
    stubs = tmp_path / "bin"
    _stub(stubs, "python3", 'if [ "$1" = "-c" ]; then exit 0; fi\necho "MODULE $*"\n')
    env = {"PATH": f"{stubs}:/usr/bin:/bin", "HOME": str(tmp_path)}
    run = subprocess.run(["bash", str(here / "生成模板.sh")], env=env, input="\n", capture_output=True, text=True)
    assert "MODULE -m zg_excel template -w ." in run.stdout

    _stub(stubs, "python3", "exit 1\n")  # a Python without zg_excel
    run = subprocess.run(["bash", str(here / "生成模板.sh")], env=env, input="\n", capture_output=True, text=True)
    assert run.returncode == 2 and "没有找到 zg-excel" in run.stdout

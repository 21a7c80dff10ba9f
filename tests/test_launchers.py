"""Double-click launchers: .bat (GBK, CRLF) for Windows and .sh for 统信UOS / 麒麟."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from zg_excel.launchers import BAT_ENCODING, write_launchers

NAMES = ("生成模板", "合并汇总", "检查退回文件")


@pytest.fixture()
def here(tmp_path) -> Path:
    w = tmp_path / "2026 组工 信息"
    w.mkdir()
    return w


def test_all_six_are_written_then_refreshed_when_they_differ(here):
    done = write_launchers(here, python="/opt/zg-excel/venv/bin/python")
    assert sorted(p.name for p, state in done if state == "created") == sorted(
        [f"{n}.bat" for n in NAMES] + [f"{n}.sh" for n in NAMES])
    assert all(state == "unchanged" for _, state in write_launchers(here, python="/opt/zg-excel/venv/bin/python"))
    (here / "合并汇总.bat").write_bytes(b"@echo my own\r\n")
    again = dict(write_launchers(here, python="/opt/zg-excel/venv/bin/python"))
    assert again[here / "合并汇总.bat"] == "refreshed"
    assert b"merge -w . %*" in (here / "合并汇总.bat").read_bytes()
    # another install (an upgrade elsewhere): every launcher is rewritten for it
    moved = write_launchers(here, python="/srv/新 安装/venv/bin/python")
    assert all(state == "refreshed" for _, state in moved)
    assert "ZG_PYTHON='/srv/新 安装/venv/bin/python'" in (here / "合并汇总.sh").read_text(encoding="utf-8")


def test_bat_files_are_gbk_with_crlf_and_ascii_commands(here):
    write_launchers(here, python="C:\\Program Files\\组工 软件\\venv\\Scripts\\python.exe")
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
        assert 'set "ZG_PYTHON=C:\\Program Files\\组工 软件\\venv\\Scripts\\python.exe"' in lines
        assert '"%ZG_PYTHON%" -c "import zg_excel" >nul 2>nul && set ZG="%ZG_PYTHON%" -m zg_excel' in lines
        for ln in lines:
            words = ln.split()
            # commands are ASCII; Chinese only in messages, remarks and the interpreter's path
            if words and words[0].lower() not in ("echo", "rem") and "echo " not in ln \
                    and not ln.startswith('set "ZG_PYTHON='):
                assert ln.isascii(), ln
        assert re_chinese(text)
    check = (here / "检查退回文件.bat").read_bytes().decode("gbk")
    assert "%ZG% check -w . %*" in check and "%ZG% check -w . inbox" in check
    assert "%ZG% merge -w . %*" in (here / "合并汇总.bat").read_bytes().decode("gbk")
    assert "%ZG% template -w . %*" in (here / "生成模板.bat").read_bytes().decode("gbk")


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
    write_launchers(here, python=str(tmp_path / "gone" / "python"))  # the install is gone: PATH
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
    write_launchers(here, python=str(tmp_path / "gone" / "python"))
    stubs = tmp_path / "bin"
    _stub(stubs, "python3", 'if [ "$1" = "-c" ]; then exit 0; fi\necho "MODULE $*"\n')
    env = {"PATH": f"{stubs}:/usr/bin:/bin", "HOME": str(tmp_path)}
    run = subprocess.run(["bash", str(here / "生成模板.sh")], env=env, input="\n", capture_output=True, text=True)
    assert "MODULE -m zg_excel template -w ." in run.stdout

    _stub(stubs, "python3", "exit 1\n")  # a Python without zg_excel
    run = subprocess.run(["bash", str(here / "生成模板.sh")], env=env, input="\n", capture_output=True, text=True)
    assert run.returncode == 2 and "没有找到 zg-excel" in run.stdout
    assert f"安装时的 Python（{tmp_path}/gone/python）已不存在" in run.stdout
    assert "install.sh（Windows 为 安装.bat）" in run.stdout and "安装说明.txt" in run.stdout
    assert "zg-excel init 本文件夹" in run.stdout


# ------------------------------------------------------------ bound to the install

SAMPLES = Path(__file__).resolve().parent.parent / "sample_workbooks"


def _interpreter_in(folder: Path) -> Path:
    """A virtual environment in ``folder`` whose python sees this one's packages (a .pth, no pip)."""
    import sysconfig
    import venv

    venv.EnvBuilder(symlinks=True, with_pip=False).create(folder)
    py = folder / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    here = Path(__file__).resolve().parent.parent
    (Path(purelib) / "zg_test.pth").write_text(f"{sysconfig.get_paths()['purelib']}\n{here}\n", encoding="utf-8")
    return py


def _init(workdir: Path, python: Path | str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-m", "zg_excel", "init", str(workdir)], env=env, capture_output=True,
                          text=True, timeout=120)


def _bare_env(tmp_path: Path) -> dict:
    """No zg-excel and no python3 with zg_excel on PATH; zg_excel importable only by the given interpreter."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}


@pytest.mark.skipif(not shutil.which("bash") or os.name == "nt", reason="needs bash")
def test_sh_runs_the_interpreter_that_ran_init_with_spaces_and_chinese(tmp_path):
    py = _interpreter_in(tmp_path / "安装 目录" / "venv")
    work = tmp_path / "2026 组工 信息"
    env = _bare_env(tmp_path)
    made = _init(work, py, env)
    assert made.returncode == 0, made.stderr
    text = (work / "合并汇总.sh").read_text(encoding="utf-8")
    assert f"ZG_PYTHON='{py}'" in text  # absolute, quoted, not resolved to the real interpreter
    for src in SAMPLES.glob("[!~]*.xlsx"):
        shutil.copy2(src, work / "inbox" / src.name)
    assert subprocess.run(["sh", "-c", "command -v zg-excel"], env=env).returncode != 0
    run = subprocess.run(["bash", str(work / "合并汇总.sh"), "--year", "2026", "--as-of", "2026-09-30"],
                         cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr  # the samples hold two errors on purpose
    assert subprocess.run(["sh", "-c", "python3 -c 'import zg_excel'"], env=env, cwd=work,
                          capture_output=True).returncode != 0  # so the launcher ran the install's python
    assert "有2个错误需要处理" in run.stdout + run.stderr and "合并完成，但有需要处理的问题" in run.stdout
    assert (work / "output" / "result.json").is_file()

    # the install is gone and nothing is on PATH: say what to do, in Chinese
    shutil.rmtree(tmp_path / "安装 目录")
    run = subprocess.run(["bash", str(work / "合并汇总.sh")], env=env, stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert f"没有找到 zg-excel：安装时的 Python（{py}）已不存在，PATH 中也没有 zg-excel。" in run.stdout
    assert "请在 zg-excel 离线安装包文件夹中运行 install.sh（Windows 为 安装.bat）（见 安装说明.txt）" in run.stdout


@pytest.mark.skipif(not shutil.which("bash") or os.name == "nt", reason="needs bash")
def test_init_again_after_an_upgrade_refreshes_launchers_and_keeps_the_users_files(tmp_path):
    env = _bare_env(tmp_path)
    old = _interpreter_in(tmp_path / "旧版" / "venv")
    new = _interpreter_in(tmp_path / "新 版" / "venv")
    work = tmp_path / "工作 目录"
    assert _init(work, old, env).returncode == 0
    (work / "rules.toml").write_text("# 我的规则\n", encoding="utf-8")
    (work / "inbox" / "某单位.xlsx").write_bytes(b"mine")
    (work / "templates" / "通报.txt.j2").write_text("我的通报模板", encoding="utf-8")
    (work / "合并汇总.sh").write_text("#!/bin/sh\necho edited\n", encoding="utf-8")
    users = {p: p.read_bytes() for p in work.rglob("*") if p.is_file() and p.suffix not in (".sh", ".bat")}

    again = _init(work, new, env)
    assert again.returncode == 0, again.stderr
    assert {p: p.read_bytes() for p in users} == users
    for name in NAMES:
        assert f"已更新（启动文件属于 zg-excel，按本次安装重写）：{work / (name + '.sh')}" in again.stdout
        assert f"ZG_PYTHON='{new}'" in (work / f"{name}.sh").read_text(encoding="utf-8")
    assert "已存在，未改动：" + str(work / "rules.toml") in again.stdout
    run = subprocess.run(["bash", str(work / "生成模板.sh"), "--help"], env=env, stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "zg-excel template" in run.stdout


def test_bat_path_falls_back_when_gbk_cannot_hold_it(tmp_path):
    from zg_excel.launchers import bat_python, bat_text

    assert bat_python("C:\\Program Files\\组工\\python.exe") == "C:\\Program Files\\组工\\python.exe"
    assert bat_python("C:\\100%\\python.exe") == "C:\\100%%\\python.exe"  # cmd.exe would expand a single %
    korean = "C:\\사용자\\zg-excel\\venv\\Scripts\\python.exe"
    got = bat_python(korean, tmp_path)
    if os.name != "nt":
        assert got is None  # no short name or relative path to try off Windows: PATH only
        text = bat_text("合并汇总", got)
        assert 'set "ZG_PYTHON="' in text and "没有找到 zg-excel：PATH 中没有 zg-excel。" in text
        text.replace("\n", "\r\n").encode(BAT_ENCODING)
    else:  # pragma: no cover - Windows CI
        assert got is None or got.encode(BAT_ENCODING)

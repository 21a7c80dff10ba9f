"""Faults while writing outputs or reading the inbox end in a Chinese message, the right exit code and an
intact previous output set (issue 12 items 4-6, 13): a locked file, read-only folders, a full disk, a file
that vanishes, non-UTF-8 names, a FIFO, an unreadable folder, links out of the inbox."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import copy_samples
from zg_excel.files import STAGING_PREFIX
from zg_excel.mail.sources import run_id_of

ARGS = ["--year", "2026", "--as-of", "2026-09-30", "--date", "2026-10-09"]
NOT_UPDATED = "输出文件没有更新，原有的汇总表、通报仍是上一次的结果"


@pytest.fixture
def work(tmp_path) -> Path:
    from zg_excel.workspace import init_workspace

    root = tmp_path / "2026组工信息"
    init_workspace(root)
    copy_samples(root / "inbox")
    return root


def run(capfd, *args: str) -> tuple[int, str]:
    from zg_excel.cli import main

    with pytest.raises(SystemExit) as ex:
        main(list(args))
    out, err = capfd.readouterr()
    return ex.value.code, out + err


def snapshot(out: Path) -> dict[str, str]:
    """Every file below ``out`` (hidden ones too) → sha256."""
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def assert_one_set(out: Path) -> str:
    """result.json, the workbook and 通报.docx carry one run id; 通报.txt has the recorded hash."""
    data = json.loads((out / "result.json").read_text(encoding="utf-8"))
    run_id = data["run_id"]
    assert run_id
    assert run_id_of(out / "2026年组工信息考核汇总表.xlsx") == run_id
    assert run_id_of(out / "通报.docx") == run_id
    assert data["run_files"]["通报.txt"] == hashlib.sha256((out / "通报.txt").read_bytes()).hexdigest()
    return run_id


def assert_clean(out: Path) -> None:
    left = [p.name for p in out.rglob("*") if p.name.startswith((".~", STAGING_PREFIX, ".zg-lock"))]
    assert not left


@contextlib.contextmanager
def immutable(path: Path):
    """``chattr +i`` (refuses writes even to root); yields False where the file system has no such flag."""
    ok = subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0 if _has_chattr() else False
    try:
        yield ok
    finally:
        if ok:
            subprocess.run(["chattr", "-i", str(path)], check=True)


def _has_chattr() -> bool:
    import shutil

    return shutil.which("chattr") is not None


def test_outputs_carry_one_run_id(work, capfd):
    code, _ = run(capfd, "merge", "-w", str(work), *ARGS, "-q")
    assert code == 1  # the samples hold 2 errors on purpose
    first = assert_one_set(work / "output")
    assert_clean(work / "output")
    run(capfd, "merge", "-w", str(work), *ARGS, "-q")
    assert assert_one_set(work / "output") != first


def test_output_open_in_wps_refused_before_reading(work, capfd, monkeypatch):
    run(capfd, "merge", "-w", str(work), *ARGS, "-q")
    out = work / "output"
    before = snapshot(out)
    target = out / "通报.txt"
    with immutable(target) as ok:
        if not ok:  # no chattr here (tmpfs, containers): the open Excel/WPS makes opening for writing fail
            import zg_excel.files as files

            real_open = os.open

            def locked(path, flags, *a, **kw):
                if Path(path) == target and flags & os.O_WRONLY:
                    raise PermissionError(errno.EACCES, "locked", str(path))
                return real_open(path, flags, *a, **kw)

            monkeypatch.setattr(files.os, "open", locked)
        code, text = run(capfd, "merge", "-w", str(work), *ARGS)
    assert code == 2
    assert "文件被占用或不能改写" in text and "通报.txt" in text and "请先关闭" in text
    assert NOT_UPDATED in text
    assert "[1/" not in text  # said before any file was read
    assert "Traceback" not in text and "程序内部错误" not in text
    assert snapshot(out) == before


def test_rename_failure_rolls_back_the_set(work, capfd, monkeypatch):
    """A target that becomes locked between the check and the renames: the files already moved go back."""
    import zg_excel.files as files

    run(capfd, "merge", "-w", str(work), *ARGS, "-q")
    out = work / "output"
    (out / "退回" / "退回单-旧单位.xlsx").write_bytes(b"stale slip")  # removed by a successful run only
    before = snapshot(out)
    real_replace = os.replace
    moved = []

    def replace(src, dst):
        if Path(dst).parent == out and Path(src).parent.name.startswith(STAGING_PREFIX):
            if Path(dst).name == "result.json":
                raise PermissionError(errno.EACCES, "Permission denied", str(src))
            moved.append(Path(dst).name)
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", replace)
    code, text = run(capfd, "merge", "-w", str(work), *ARGS, "-q")
    assert moved  # some files had been moved before the failure
    assert code == 2
    assert "result.json" in text and NOT_UPDATED in text
    assert snapshot(out) == before
    monkeypatch.setattr(files.os, "replace", real_replace)
    run(capfd, "merge", "-w", str(work), *ARGS, "-q")
    assert not (out / "退回" / "退回单-旧单位.xlsx").exists()
    assert_one_set(out)


def _unwritable_folder(folder: Path, monkeypatch, stack: contextlib.ExitStack) -> None:
    """Make ``folder`` refuse new files: mode 555 (non-root), chattr +i (root), else a patched mkstemp."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        stack.callback(folder.chmod, 0o755)
        return
    if stack.enter_context(immutable(folder)):
        return
    import tempfile

    real = tempfile.mkstemp

    def mkstemp(*a, dir=None, **kw):
        if dir is not None and Path(dir) == folder:
            raise PermissionError(errno.EACCES, "Permission denied", str(dir))
        return real(*a, dir=dir, **kw)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


@pytest.mark.parametrize("sub", ["", "退回"])
def test_read_only_output_folder(work, capfd, monkeypatch, sub):
    run(capfd, "merge", "-w", str(work), *ARGS, "-q")
    out = work / "output"
    before = snapshot(out)
    with contextlib.ExitStack() as stack:
        _unwritable_folder(out / sub if sub else out, monkeypatch, stack)
        code, text = run(capfd, "merge", "-w", str(work), *ARGS)
    assert code == 2
    assert "文件夹不能写入" in text and (sub in text if sub else "output" in text)
    assert "[1/" not in text and "Traceback" not in text
    assert snapshot(out) == before


def _mount_tmpfs(folder: Path, size: str) -> bool:
    if os.geteuid() != 0:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True).returncode == 0


def test_disk_full(work, capfd, monkeypatch):
    out = work / "output"
    mounted = _mount_tmpfs(out, "400k")
    try:
        code, _ = run(capfd, "merge", "-w", str(work), *ARGS, "-q")
        assert code == 1
        before = snapshot(out)
        if mounted:  # leave a few KB: the new summary cannot be staged
            st = os.statvfs(out)
            (out / "filler").write_bytes(b"\0" * max(0, st.f_bavail * st.f_frsize - 20_000))
            before = snapshot(out)
        else:  # no mount here: a write of the summary fails as on a full disk
            import zg_excel.outputs.write as write

            def full(*a, **kw):
                raise OSError(errno.ENOSPC, "No space left on device")

            monkeypatch.setattr(write, "write_summary", full)
        code, text = run(capfd, "merge", "-w", str(work), *ARGS, "-q")
        assert code == 2
        assert "磁盘空间不足" in text and NOT_UPDATED in text
        assert "Exception ignored" not in text and "Traceback" not in text
        assert snapshot(out) == before
        assert_clean(out)
    finally:
        if mounted:
            subprocess.run(["umount", str(out)], check=True)


def test_file_vanishing_during_merge(work, monkeypatch):
    """Listed, then gone before it is read: an issue on that entry, the batch goes on."""
    import datetime as dt

    import zg_excel.merge as merge_mod

    real = merge_mod.scan_inbox

    def scan(inbox, exclude):
        paths, problems = real(inbox, exclude)
        (inbox / "区直机关工委.xlsx").unlink()
        return paths, problems

    monkeypatch.setattr(merge_mod, "scan_inbox", scan)
    result = merge_mod.merge(work, year=2026, as_of=dt.date(2026, 9, 30))
    gone = next(f for f in result.files if f.relpath == "区直机关工委.xlsx")
    assert "被移走或删除" in gone.message and gone.status == "无法读取"
    assert any(i.code == "vanished" and i.severity == "error" for i in result.issues)
    assert sum(1 for f in result.files if f.status == "已合并") > 20


def test_office_lock_file_vanishing_is_only_skipped(work, monkeypatch):
    """A ``~$`` lock file goes when the unit closes its workbook: still only 已跳过 (a 提示), never an error."""
    import datetime as dt

    import zg_excel.merge as merge_mod

    lock = "~$峡窝镇党委-2026年9月.xlsx"
    present = merge_mod.merge(work, year=2026, as_of=dt.date(2026, 9, 30))
    real = merge_mod.scan_inbox

    def scan(inbox, exclude):
        paths, problems = real(inbox, exclude)
        (inbox / lock).unlink()  # Excel closed: its lock file goes away
        return paths, problems

    monkeypatch.setattr(merge_mod, "scan_inbox", scan)
    result = merge_mod.merge(work, year=2026, as_of=dt.date(2026, 9, 30))
    entry = next(f for f in result.files if f.relpath == lock)
    assert entry.status == next(f for f in present.files if f.relpath == lock).status == "已跳过"
    assert not any(i.file == lock and i.severity != "info" for i in result.issues)
    assert not any(i.code == "vanished" for i in result.issues)
    assert len([i for i in result.issues if i.severity == "error"]) == len(
        [i for i in present.issues if i.severity == "error"])


def test_office_lock_file_vanishing_while_listed_is_no_error(work, monkeypatch):
    """Gone between the folder listing and its ``lstat``: nothing to report for a ``~$`` file."""
    import zg_excel.merge as merge_mod

    lock = work / "inbox" / "~$峡窝镇党委-2026年9月.xlsx"
    victim = work / "inbox" / "区直机关工委.xlsx"
    real = os.lstat

    def lstat(path, *args, **kwargs):
        if Path(os.fsdecode(path)) in (lock, victim):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", os.fsdecode(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", lstat)
    paths, problems = merge_mod.scan_inbox(work / "inbox", [])
    assert [(f.path, f.code) for f in problems] == [("区直机关工委.xlsx", "vanished")]
    assert lock not in paths and victim not in paths


def test_file_deleted_after_reading(work, monkeypatch):
    import datetime as dt

    import zg_excel.merge as merge_mod

    victim = work / "inbox" / "区直机关工委.xlsx"

    def progress(stage, done, total, name):
        if stage == "read" and victim.exists():
            victim.unlink()

    result = merge_mod.merge(work, year=2026, as_of=dt.date(2026, 9, 30), progress=progress)
    entry = next(f for f in result.files if f.relpath == "区直机关工委.xlsx")
    assert entry.status in ("已合并", "无法读取")
    assert any(i.code == "vanished" and i.file == "区直机关工委.xlsx" for i in result.issues)


def test_invalid_utf8_file_name(work, capfd):
    inbox = os.fsencode(work / "inbox")
    with open(os.path.join(inbox, b"bad-\xff\xfe.xlsx"), "wb") as fh:
        fh.write((work / "inbox" / "区直机关工委.xlsx").read_bytes())
    (work / "inbox" / "区直机关工委.xlsx").unlink()
    code, text = run(capfd, "merge", "-w", str(work), *ARGS)
    assert code == 1, text
    assert "bad-\ufffd\ufffd.xlsx" in text  # progress line
    data = json.loads((work / "output" / "result.json").read_text(encoding="utf-8"))
    assert "bad-\ufffd\ufffd.xlsx" in [f["file"] for f in data["files"]]
    import openpyxl

    wb = openpyxl.load_workbook(work / "output" / "2026年组工信息考核汇总表.xlsx", read_only=True)
    names = [c for row in wb["文件清单"].iter_rows(values_only=True) for c in row]
    wb.close()
    assert "bad-\ufffd\ufffd.xlsx" in names
    assert_one_set(work / "output")


def test_fifo_never_opened(work, capfd):
    os.mkfifo(work / "inbox" / "管道.xlsx")
    code, text = run(capfd, "merge", "-w", str(work), *ARGS, "-q")  # would block forever if opened
    assert code == 1 and "管道.xlsx：不是普通文件" in text
    data = json.loads((work / "output" / "result.json").read_text(encoding="utf-8"))
    entry = next(f for f in data["files"] if f["file"] == "管道.xlsx")
    assert "不是普通文件" in entry["message"] and "空" not in entry["message"]


def test_unreadable_subfolder_named(work, monkeypatch):
    import datetime as dt

    import zg_excel.merge as merge_mod

    locked = work / "inbox" / "九月"
    locked.mkdir()
    (work / "inbox" / "区直机关工委.xlsx").rename(locked / "区直机关工委.xlsx")
    if os.geteuid() == 0:  # root reads mode-000 folders: refuse the listing as the system would
        real = os.scandir

        def scandir(path="."):
            if not isinstance(path, int) and Path(os.fsdecode(path)) == locked:
                raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))
            return real(path)

        monkeypatch.setattr(os, "scandir", scandir)
    else:
        locked.chmod(0)
    try:
        result = merge_mod.merge(work, year=2026, as_of=dt.date(2026, 9, 30))
    finally:
        locked.chmod(0o755)
    entry = next(f for f in result.files if f.relpath == "九月/")
    assert "文件夹无法打开（没有访问权限）" in entry.message
    assert not re.search("[A-Za-z]", entry.message), entry.message  # not the system's "Permission denied"
    assert any(i.file == "九月/" and i.severity == "error" for i in result.issues)


@pytest.mark.parametrize("code, words", [(errno.EACCES, "没有访问权限"), (errno.EIO, "磁盘读写出错"),
                                         (errno.ENOENT, "文件或文件夹不存在"), (errno.ELOOP, "链接层数过多"),
                                         (errno.EPIPE, f"系统错误（错误码 {errno.EPIPE}）")])
def test_system_errors_said_in_chinese(code, words):
    from zg_excel.files import describe_os_error, os_error_reason

    exc = OSError(code, os.strerror(code), "/x/通报.txt")
    assert os_error_reason(exc) == words or os_error_reason(exc).startswith(words)
    if code in (errno.EIO, errno.ELOOP, errno.EPIPE):  # the general case of describe_os_error
        text = describe_os_error(exc)
        assert words in text and "/x/通报.txt" in text
        assert not re.search("[A-Za-z]", text.replace("/x/通报.txt", "")), text


def test_links_out_of_inbox_not_followed(work, tmp_path):
    import datetime as dt

    from zg_excel.merge import merge

    outside = tmp_path / "外面"
    outside.mkdir()
    (work / "inbox" / "区直机关工委.xlsx").rename(outside / "区直机关工委.xlsx")
    (work / "inbox" / "区直机关工委.xlsx").symlink_to(outside / "区直机关工委.xlsx")
    (work / "inbox" / "外面的文件夹").symlink_to(outside, target_is_directory=True)
    (work / "inbox" / "里面.xlsx").symlink_to(work / "inbox" / "干部科-2026年前三季度.xlsx")
    result = merge(work, year=2026, as_of=dt.date(2026, 9, 30))
    by = {f.relpath: f for f in result.files}
    assert "链接指向收件文件夹以外" in by["区直机关工委.xlsx"].message
    assert "链接指向收件文件夹以外" in by["外面的文件夹/"].message
    assert by["里面.xlsx"].status != "无法读取"
    assert not any(t.unit == "区直机关工委" and t.returned for t in result.units)


def test_mail_refuses_files_of_different_runs(work, capfd, tmp_path):
    from zg_excel.mail.errors import MailSetupError
    from zg_excel.mail.sources import find_output_files

    out = work / "output"
    run(capfd, "merge", "-w", str(work), *ARGS, "-q")
    first = {name: (out / name).read_bytes() for name in ("通报.docx", "通报.txt")}
    run(capfd, "merge", "-w", str(work), *ARGS, "-q")
    files = find_output_files(work)  # one run: accepted
    assert files.summary and files.bulletin_docx and files.bulletin_txt
    (out / "通报.docx").write_bytes(first["通报.docx"])  # the 通报 of the earlier run beside the new summary
    with pytest.raises(MailSetupError, match="通报.docx 与 result.json 不是同一次合并生成的"):
        find_output_files(work)
    run(capfd, "merge", "-w", str(work), *ARGS, "-q")
    with open(out / "通报.txt", "ab") as fh:
        fh.write("手工加的一行\r\n".encode())
    with pytest.raises(MailSetupError, match="通报.txt"):
        find_output_files(work)

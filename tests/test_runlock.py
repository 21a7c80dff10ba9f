"""The working-folder lock (zg_excel/runlock.py): one run at a time, stale locks taken over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from zg_excel.files import STAGING_PREFIX
from zg_excel.runlock import LockBusy, lock_path, workspace_lock
from zg_excel.workspace import Workspace


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_second_holder_refused_with_holder_named(tmp_path):
    ws = Workspace(tmp_path)
    with workspace_lock(ws):
        with pytest.raises(LockBusy) as err:
            with workspace_lock(ws, wait=0):
                pass
        assert f"另一个合并正在进行（进程 {os.getpid()}" in str(err.value)
    assert not lock_path(ws).exists()  # released
    with workspace_lock(ws, wait=0):  # and free again
        assert lock_path(ws).exists()


def test_waiter_gets_lock_when_holder_ends(tmp_path):
    ws = Workspace(tmp_path)
    got = []
    with workspace_lock(ws):
        def second():
            with workspace_lock(ws, wait=10, poll=0.05):
                got.append(time.monotonic())

        t = threading.Thread(target=second)
        t.start()
        time.sleep(0.3)
        assert not got  # still waiting
        released = time.monotonic()
    t.join(10)
    assert got and got[0] >= released


def test_stale_lock_of_dead_process_taken_over_and_leftovers_swept(tmp_path):
    ws = Workspace(tmp_path)
    ws.output.mkdir()
    lock_path(ws).write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname(), "started": "x"}))
    staging = ws.output / f"{STAGING_PREFIX}20260101T000000-abcdef"
    staging.mkdir()
    (staging / "通报.txt").write_text("half")
    (ws.output / ".~通报abc.tmp").write_text("")
    with workspace_lock(ws, wait=0) as info:
        assert info["pid"] == os.getpid()
        assert json.loads(lock_path(ws).read_text())["pid"] == os.getpid()
    assert not staging.exists()
    assert not (ws.output / ".~通报abc.tmp").exists()
    assert not (ws.output / "通报.txt").exists()  # an unfinished staging folder is not moved into place


def test_committed_staging_of_killed_run_rolled_forward(tmp_path):
    """Killed while renaming: the journal says the set was complete, so the move is finished."""
    ws = Workspace(tmp_path)
    ws.output.mkdir()
    (ws.output / "通报.txt").write_text("old")
    (ws.output / "result.json").write_text("new")  # already moved before the kill
    staging = ws.output / f"{STAGING_PREFIX}run2"
    staging.mkdir()
    (staging / "通报.txt").write_text("new")
    (staging / ".commit.json").write_text(json.dumps({"move": ["result.json", "通报.txt"], "remove": []}))
    with workspace_lock(ws, wait=0):
        pass
    assert (ws.output / "通报.txt").read_text() == "new"
    assert not staging.exists()


def test_lock_of_another_host_stale_only_when_old(tmp_path):
    ws = Workspace(tmp_path)
    ws.output.mkdir()
    path = lock_path(ws)
    path.write_text(json.dumps({"pid": 1, "host": "other-pc", "started": "2026-12-01 08:00:00"}))
    with pytest.raises(LockBusy) as err:
        with workspace_lock(ws, wait=0):
            pass
    assert "other-pc" in str(err.value)
    old = time.time() - 13 * 3600
    os.utime(path, (old, old))
    with workspace_lock(ws, wait=0) as info:
        assert info["pid"] == os.getpid()


def test_pid_reused_by_another_process_is_stale(tmp_path):
    ws = Workspace(tmp_path)
    ws.output.mkdir()
    # our own pid, but a different process start time: the pid was reused
    lock_path(ws).write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname(), "proc_start": "1"}))
    if not os.path.exists(f"/proc/{os.getppid()}/stat"):
        lock_path(ws).write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname()}))
    with workspace_lock(ws, wait=0):
        pass


def test_a_full_disk_while_taking_the_lock_leaves_no_empty_lock_file(tmp_path, monkeypatch):
    """ENOSPC while the lock's JSON is written: the half-made lock is removed, so the next run is not blocked."""
    import errno

    from zg_excel import runlock
    from zg_excel.files import OutputError

    ws = Workspace(tmp_path)
    real_fsync = os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runlock.os, "fsync", full)
    with pytest.raises((OutputError, OSError)):
        with workspace_lock(ws, wait=0):
            pass
    assert not lock_path(ws).exists()
    monkeypatch.setattr(runlock.os, "fsync", real_fsync)
    with workspace_lock(ws, wait=0):  # the next run gets it at once
        assert lock_path(ws).exists()


# ------------------------------------------------------------------ the watchdog of a killed run

def _killed_holder(ws: Workspace) -> dict:
    """The lock of a run that ended without releasing it (kill -9), as the watchdog was told it."""
    info = {"pid": _dead_pid(), "host": socket.gethostname(), "proc_start": "", "started": "2026-12-02 09:40:01",
            "command": "合并"}
    ws.output.mkdir(parents=True, exist_ok=True)
    lock_path(ws).write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    return info


def test_watchdog_of_a_killed_run_finishes_its_set_and_removes_lock_staging_and_scratch(tmp_path, monkeypatch):
    import tempfile

    from zg_excel.runlock import after_parent

    ws = Workspace(tmp_path / "work")
    info = _killed_holder(ws)
    (ws.output / "通报.txt").write_text("old")
    (ws.output / "result.json").write_text("new")  # moved before the kill
    staging = ws.output / f"{STAGING_PREFIX}run2"
    staging.mkdir()
    (staging / "通报.txt").write_text("new")
    (staging / ".commit.json").write_text(json.dumps({"move": ["result.json", "通报.txt"], "remove": []}))
    (ws.output / "退回").mkdir()
    (ws.output / "退回" / ".~退回单abc.xlsx").write_text("")
    base = tmp_path / "tmp"
    scratch = base / f"zg-excel-intake-{info['pid']}-abc"
    other = base / f"zg-excel-intake-{os.getpid()}-abc"  # a live process's: not touched
    for d in (scratch, other):
        d.mkdir(parents=True)
        (d / "worker-1.err").write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(base))
    cleaned = after_parent(str(ws.root), json.dumps(info, ensure_ascii=False))
    assert (ws.output / "通报.txt").read_text() == "new"  # wholly the new set, as the next run would make it
    assert not staging.exists() and not (ws.output / "退回" / ".~退回单abc.xlsx").exists()
    assert not lock_path(ws).exists()
    assert not scratch.exists() and other.exists()
    assert ".zg-lock" in cleaned and scratch.name in cleaned
    assert after_parent(str(ws.root), json.dumps(info, ensure_ascii=False)) == []  # idempotent


def test_watchdog_never_touches_a_newer_runs_lock_or_staging(tmp_path):
    from zg_excel.runlock import after_parent

    ws = Workspace(tmp_path)
    dead = _killed_holder(ws)
    with workspace_lock(ws, wait=0) as newer:  # the next run took the stale lock over
        staging = ws.output / f"{STAGING_PREFIX}newer"
        staging.mkdir()
        (ws.output / ".~汇总表abc.xlsx").write_text("")  # the newer run's writer at work
        assert after_parent(str(ws.root), json.dumps(dead, ensure_ascii=False), patience=0) == []
        assert json.loads(lock_path(ws).read_text(encoding="utf-8")) == newer
        assert staging.exists() and (ws.output / ".~汇总表abc.xlsx").exists()
        # the lock naming a live holder (a server that released and took it again): left alone
        assert after_parent(str(ws.root), json.dumps(newer, ensure_ascii=False), patience=0) == []
        assert lock_path(ws).exists() and staging.exists()


def test_lock_holder_has_a_watchdog_that_leaves_after_a_normal_release(tmp_path):
    psutil = pytest.importorskip("psutil")
    ws = Workspace(tmp_path)
    me = psutil.Process()
    before = {p.pid for p in me.children()}
    with workspace_lock(ws, wait=0):
        dogs = [p for p in me.children() if p.pid not in before and "after_parent" in " ".join(p.cmdline())]
        assert len(dogs) == 1
    dogs[0].wait(5)  # ended at once: nothing to clean, the lock is gone
    assert not lock_path(ws).exists() and sorted(p.name for p in ws.output.iterdir()) == []


def test_zombie_lock_holder_counts_as_gone():
    if not sys.platform.startswith("linux"):
        pytest.skip("/proc state")
    from zg_excel.intake.worker import pid_alive

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while pid_alive(proc.pid) and time.monotonic() < deadline:  # ended, not yet reaped: a zombie
        time.sleep(0.02)
    assert not pid_alive(proc.pid)
    assert os.path.exists(f"/proc/{proc.pid}")  # still a zombie: only its state says it is gone
    proc.wait()
    assert pid_alive(os.getpid())

"""The working-folder lock: one run at a time writes a working folder's outputs.

``with workspace_lock(ws, wait=seconds):`` around a merge, ``remind`` or
``template`` run. The lock is a small JSON file ``output/.zg-lock`` made with
``O_CREAT | O_EXCL`` (works on local disks and network shares alike) holding
the holder's pid, host, process start time and start time. A second run waits
up to ``wait`` seconds, then raises :class:`LockBusy` naming the holder. A lock
whose holder is gone is stale and taken over: on this host when its pid no
longer runs (or runs a different process: pid reuse is told apart by the
process start time), on another host when it is older than
``STALE_AFTER_HOURS``. Whoever takes the lock also cleans what killed runs left
(staging folders, temporary files): see :func:`zg_excel.files.recover_output`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import time
from pathlib import Path

from .files import OutputError, describe_os_error, recover_output, sweep_temp_files
from .workspace import REMINDERS_DIR, RETURNSLIPS_DIR, Workspace

LOCK_NAME = ".zg-lock"
STALE_AFTER_HOURS = 12


class LockBusy(OutputError):
    """Another run holds the working folder (exit code 2)."""


def lock_path(ws: Workspace) -> Path:
    return ws.output / LOCK_NAME


def _proc_start(pid: int) -> str:
    """A token for when process ``pid`` started (Linux: /proc start ticks), "" when unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        return stat[stat.rindex(b")") + 2:].split()[19].decode()
    except (OSError, ValueError, IndexError):
        return ""


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if os.name == "nt":  # pragma: no cover - Windows
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # half-written or damaged: judged by its age


def is_stale(info: dict, mtime: float, *, now: float | None = None) -> bool:
    """Whether the lock described by ``info`` (file modified at ``mtime``) has no living holder."""
    now = time.time() if now is None else now
    pid = info.get("pid")
    if info.get("host") == socket.gethostname() and isinstance(pid, int):
        if not _pid_alive(pid):
            return True
        start = info.get("proc_start") or ""
        return bool(start) and start != _proc_start(pid)  # the pid now belongs to another process
    if not info and now - mtime > 60:
        return True  # an unreadable lock file nobody has finished writing in a minute
    return now - mtime > STALE_AFTER_HOURS * 3600


def describe(info: dict) -> str:
    """"另一个合并正在进行（进程 1234，开始于 2026-12-02 09:40:01）…"."""
    what = info.get("command") or "合并"
    host = info.get("host")
    where = f"，计算机 {host}" if host and host != socket.gethostname() else ""
    return (f"另一个{what}正在进行（进程 {info.get('pid', '?')}{where}，开始于 {info.get('started', '?')}），"
            f"请等它结束后再运行。如果确定没有程序在运行，可删除锁文件后重试")


def _try_create(path: Path, info: dict) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(info, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:  # a full disk: no empty lock file may stay behind to block the next run
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    return True


def _take_over(path: Path, seen: dict) -> None:
    """Move the stale lock aside, but only if it is still the one judged stale."""
    aside = path.with_name(f"{LOCK_NAME}.stale-{os.getpid()}")
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        return
    if (_read(aside) or {}) != seen:  # someone took it over and made a fresh one meanwhile: give it back
        with contextlib.suppress(OSError):
            os.link(aside, path)
    with contextlib.suppress(OSError):
        os.unlink(aside)


@contextlib.contextmanager
def workspace_lock(ws: Workspace, *, wait: float = 0.0, command: str = "合并", poll: float = 0.2):
    """Hold the working folder's lock for the block; ``LockBusy`` if another live run holds it
    after ``wait`` seconds. On entry, leftovers of killed runs in ``output/`` are cleaned."""
    path = lock_path(ws)
    try:
        ws.output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(describe_os_error(exc, ws.output) + "输出文件没有更新。") from None
    info = {"pid": os.getpid(), "host": socket.gethostname(), "proc_start": _proc_start(os.getpid()),
            "started": dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S"), "command": command}
    deadline = time.monotonic() + max(0.0, wait)
    while True:
        try:
            if _try_create(path, info):
                break
        except OSError as exc:
            raise OutputError(describe_os_error(exc, ws.output) + "输出文件没有更新。") from None
        seen = _read(path)
        if seen is None:
            continue  # released just now
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            continue
        if is_stale(seen, mtime):
            _take_over(path, seen)
            continue
        if time.monotonic() >= deadline:
            raise LockBusy(f"{describe(seen)}（{path}）。")
        time.sleep(poll)
    try:
        recover_output(ws.output, subfolders=(RETURNSLIPS_DIR, REMINDERS_DIR))
        sweep_temp_files(ws.outbox)  # templates are written there under this lock too
        yield info
    finally:
        if (_read(path) or {}).get("pid") == os.getpid():
            with contextlib.suppress(OSError):
                os.unlink(path)

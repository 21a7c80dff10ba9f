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

A killed run also cleans up after itself, without waiting for the next one: while
it holds the lock, a small watchdog process (:func:`start_watchdog`) blocks
reading a pipe from it. When the holder ends, however it ends (kill -9
included), the pipe reaches end-of-file and the watchdog, if the lock still
names its dead parent, takes the lock over and cleans exactly as the next run
would (:func:`clean_leftovers`: finish or discard the output set, remove the
staging folders and temporary files), releases the lock and removes the
parent's intake scratch folder. After a normal end the lock is already gone
and the watchdog leaves at once. It never touches a lock that names anyone
else, and holding the lock means no other run is writing.
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
from .intake.worker import TMP_PREFIX, pid_alive
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
        if not pid_alive(pid):
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
    watchdog = None
    try:
        watchdog = start_watchdog(ws, info)
        clean_leftovers(ws)
        yield info
    finally:
        if (_read(path) or {}).get("pid") == os.getpid():
            with contextlib.suppress(OSError):
                os.unlink(path)
        if watchdog is not None:  # end-of-file: it finds the lock gone and leaves; never waited for
            with contextlib.suppress(OSError):
                watchdog.stdin.close()


def clean_leftovers(ws: Workspace) -> list[str]:
    """What killed runs left in the working folder (call it holding the lock). Returns the names cleaned."""
    cleaned = recover_output(ws.output, subfolders=(RETURNSLIPS_DIR, REMINDERS_DIR))
    return cleaned + sweep_temp_files(ws.outbox)  # templates are written there under this lock too


# ------------------------------------------------------------------ the watchdog of a killed run


# Runs in the watchdog: only ``sys`` and ``signal`` until the parent is gone, so it starts in a few
# milliseconds and costs the run nothing; zg_excel is imported only to clean up.
_WATCHDOG_CODE = (
    "import signal, sys\n"
    "for name in ('SIGINT', 'SIGHUP', 'SIGTERM'):\n"
    "    try: signal.signal(getattr(signal, name), signal.SIG_IGN)\n"
    "    except (AttributeError, OSError, ValueError): pass\n"
    "try:\n"
    "    while sys.stdin.buffer.read(4096): pass\n"
    "except (OSError, ValueError): pass\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "from zg_excel.runlock import after_parent\n"
    "after_parent(*sys.argv[2:])\n"
)


def start_watchdog(ws: Workspace, info: dict):
    """Start the process that cleans up if this run is killed while holding the lock (``info``).
    Returns its ``Popen`` (close its stdin on a normal release), or None where it cannot run
    (a frozen executable, no free process); the next run then cleans, as before."""
    import sys

    if getattr(sys, "frozen", False) or not sys.executable:
        return None
    import subprocess

    package_parent = str(Path(__file__).resolve().parent.parent)
    args = [sys.executable, "-c", _WATCHDOG_CODE, package_parent, str(ws.root),
            json.dumps(info, ensure_ascii=False)]
    extra = ({"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)} if os.name == "nt"
             else {"start_new_session": True})  # Ctrl-C / a closed terminal must not end it first
    _WATCHDOGS[:] = [w for w in _WATCHDOGS if w.poll() is None]  # reap those that have ended
    try:
        watchdog = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, close_fds=True, **extra)
    except (OSError, ValueError):
        return None
    _WATCHDOGS.append(watchdog)  # never waited for, and never collected while it runs (ResourceWarning)
    return watchdog


_WATCHDOGS: list = []  # this process's watchdogs (Popen) that may still be running


def after_parent(root: str, holder: str, patience: float = 2.0) -> list[str]:
    """In the watchdog, once its parent (the lock holder described by ``holder``, JSON) is gone:
    if the lock still names it, take the lock, clean as the next run would and release it; then
    remove the parent's intake scratch folders. Returns what was cleaned. Idempotent."""
    info = json.loads(holder)
    ws = Workspace(Path(root))
    path = lock_path(ws)
    cleaned: list[str] = []
    pid = info.get("pid")
    here = isinstance(pid, int) and info.get("host") == socket.gethostname()
    if here and _read(path) == info:  # end-of-file came as the parent was ending: let it finish
        deadline = time.monotonic() + patience
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
    seen = _read(path)
    if seen and seen == info and is_stale(seen, time.time()):  # not a live holder (a server) taking it again
        _take_over(path, seen)
        mine = dict(info, pid=os.getpid(), proc_start=_proc_start(os.getpid()),
                    started=dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S"))
        try:
            taken = _try_create(path, mine)
        except OSError:
            taken = False
        if taken:  # else a newer run took it first: it cleans, and its lock is not ours to touch
            try:
                cleaned += clean_leftovers(ws)
            finally:
                if _read(path) == mine:
                    with contextlib.suppress(OSError):
                        os.unlink(path)
                cleaned.append(LOCK_NAME)
    if here and not pid_alive(pid):
        cleaned += remove_intake_tmpdirs(pid)
    return cleaned


def remove_intake_tmpdirs(pid: int, *, base: str | None = None, patience: float = 3.0) -> list[str]:
    """Remove the intake scratch folders ``zg-excel-intake-<pid>-*`` of the ended process ``pid``.
    Retries for up to ``patience`` seconds while a file is still held (Windows: a worker ending)."""
    import shutil
    import tempfile

    base = base or tempfile.gettempdir()
    prefix = f"{TMP_PREFIX}{pid}-"
    try:
        found = [os.path.join(base, n) for n in os.listdir(base) if n.startswith(prefix)]
    except OSError:
        return []
    deadline = time.monotonic() + patience
    for folder in found:
        while True:
            shutil.rmtree(folder, ignore_errors=True)
            if not os.path.lexists(folder) or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
    return [os.path.basename(f) for f in found if not os.path.lexists(f)]

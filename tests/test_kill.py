"""A merge killed at any point (kill -9, SIGTERM, Ctrl-C) leaves no orphan process, no temporary file,
and an output set that is wholly the old one or wholly the new one (issue 12 items 8, 9) — within a
few seconds and without a second run (the run's cleanup watchdog, zg_excel/runlock.py); a run whose
watchdog was killed too is cleaned by the next one."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from zg_excel.files import STAGING_PREFIX
from zg_excel.mail.sources import run_id_of

psutil = pytest.importorskip("psutil")

pytestmark = pytest.mark.slow

ARGS = ["--year", "2026", "--as-of", "2026-09-30", "--date", "2026-10-09", "-q"]
OUTPUTS = ("2026年组工信息考核汇总表.xlsx", "通报.txt", "通报.docx", "result.json")


@pytest.fixture
def work(tmp_path) -> tuple[Path, dict]:
    """A working folder with ~230 returns (a merge takes seconds), its first outputs written, and a TMPDIR."""
    from zg_excel.workspace import init_workspace

    root = tmp_path / "work"
    init_workspace(root)
    for i in range(8):
        sub = root / "inbox" / f"d{i}"
        sub.mkdir()
        for p in SAMPLES.iterdir():
            if p.suffix == ".xlsx":
                shutil.copy2(p, sub / p.name)
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"), PYTHONUNBUFFERED="1")
    (tmp_path / "tmp").mkdir()
    started = time.monotonic()
    assert subprocess.run(_cmd(root), env=env, capture_output=True, timeout=300).returncode == 1
    env["_TEST_MERGE_S"] = str(time.monotonic() - started)  # how long a whole merge takes here
    return root, env


def _cmd(root: Path) -> list[str]:
    return [sys.executable, "-m", "zg_excel", "merge", "-w", str(root), *ARGS]


def snapshot(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file() and p.parent.name != "mail"}


def one_run_id(out: Path) -> str:
    data = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert run_id_of(out / OUTPUTS[0]) == data["run_id"]
    assert run_id_of(out / "通报.docx") == data["run_id"]
    assert data["run_files"]["通报.txt"] == hashlib.sha256((out / "通报.txt").read_bytes()).hexdigest()
    return data["run_id"]


def gone(procs: list, timeout: float = 5.0) -> list:
    """Those of ``procs`` still running after ``timeout`` seconds (zombies count as ended)."""
    deadline = time.monotonic() + timeout
    alive = list(procs)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _running(p)]
        time.sleep(0.05)
    return alive


def _running(p) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.rglob("*") if p.name.startswith((".~", STAGING_PREFIX)))


def is_watchdog(p) -> bool:
    """The run's cleanup watchdog (known by its command line: ask while it runs)."""
    if getattr(p, "_zg_watchdog", None) is None:
        try:
            p._zg_watchdog = "after_parent" in " ".join(p.cmdline())
        except psutil.Error:
            return False
    return p._zg_watchdog


def collect(parent, children: dict) -> None:
    """Add ``parent``'s descendants to ``children``, each told watchdog or not while it runs."""
    with contextlib.suppress(psutil.NoSuchProcess):
        for c in parent.children(recursive=True):
            if c.pid not in children:
                is_watchdog(c)
                children[c.pid] = c


def scratch(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.glob("zg-excel-intake-*"))


def settled(out: Path, tmp: Path, timeout: float = 5.0) -> list[str]:
    """What is still left of killed runs after up to ``timeout`` seconds: the lock, staging folders,
    temporary files in output/ (and its subfolders), intake scratch folders in TMPDIR."""
    deadline = time.monotonic() + timeout
    while True:
        left = leftovers(out) + [".zg-lock"] * (out / ".zg-lock").exists() + scratch(tmp)
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def old_or_new(out: Path, old: dict, old_id: str, what: str) -> tuple[dict, str]:
    """The output set is wholly the previous one (same bytes) or wholly a new one (one run id)."""
    now = snapshot(out)
    if now == old:
        return old, old_id
    new_id = one_run_id(out)  # the kill came after the set was moved into place: wholly the new one
    assert new_id != old_id, what
    return now, new_id


def _kill_during_merge(root: Path, env: dict, delay: float) -> dict[int, object]:
    """Start a merge, kill -9 it after ``delay`` seconds; return its descendants seen until then."""
    proc = subprocess.Popen(_cmd(root), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + delay
    children: dict[int, object] = {}
    while time.monotonic() < deadline and proc.poll() is None:
        collect(parent, children)
        time.sleep(0.02)
    proc.kill()
    proc.wait(10)
    return children


def test_kill_9_at_random_points_cleans_up_without_a_second_run(work):
    root, env = work
    out = root / "output"
    tmp = Path(env["TMPDIR"])
    old = snapshot(out)
    old_id = one_run_id(out)
    span = float(env["_TEST_MERGE_S"])
    with_workers = with_watchdog = 0
    for seed in range(6):
        delay = random.Random(seed).uniform(0.2, span * 1.1)
        children = _kill_during_merge(root, env, delay)
        with_workers += any(not is_watchdog(c) for c in children.values())
        with_watchdog += any(is_watchdog(c) for c in children.values())
        what = f"seed {seed}, killed after {delay:.2f} s"
        # no second run: the workers and the watchdog end, and the watchdog leaves nothing behind
        assert not gone(list(children.values())), f"{what}: processes outlived the killed merge"
        assert settled(out, tmp) == [], what
        old, old_id = old_or_new(out, old, old_id, what)
        # and the next run (here: whoever takes the lock) finds nothing to do and changes nothing
        from zg_excel.runlock import clean_leftovers, workspace_lock
        from zg_excel.workspace import Workspace

        with workspace_lock(Workspace(root), wait=5):
            assert clean_leftovers(Workspace(root)) == [], what
        assert snapshot(out) == old, what
    assert with_workers and with_watchdog  # some kills came while the workers were reading
    done = subprocess.run(_cmd(root), env=env, capture_output=True, timeout=300)
    assert done.returncode == 1, done.stderr.decode()
    one_run_id(out)
    assert leftovers(out) == []
    assert not scratch(tmp), "scratch folders of killed runs left"
    assert not list(tmp.glob("tmp*")), "xlsxwriter scratch files left in TMPDIR"


def test_kill_9_of_run_and_watchdog_cleaned_by_next_run(work):
    """When the watchdog is killed too (kill -9 of everything), the next run cleans, as before."""
    root, env = work
    out = root / "output"
    tmp = Path(env["TMPDIR"])
    old = snapshot(out)
    old_id = one_run_id(out)
    span = float(env["_TEST_MERGE_S"])
    left_behind = 0
    for seed in range(4):
        delay = random.Random(100 + seed).uniform(0.2, span * 1.1)
        proc = subprocess.Popen(_cmd(root), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + delay
        children: dict[int, object] = {}
        while time.monotonic() < deadline and proc.poll() is None:
            collect(parent, children)
            time.sleep(0.02)
        for c in children.values():  # the watchdog first, so it cannot clean
            if is_watchdog(c):
                with contextlib.suppress(psutil.Error):
                    c.kill()
        proc.kill()
        proc.wait(10)
        what = f"seed {seed}, killed after {delay:.2f} s"
        assert not gone(list(children.values())), what
        left_behind += bool(settled(out, tmp, timeout=1.0))
        from zg_excel.runlock import workspace_lock
        from zg_excel.workspace import Workspace

        with workspace_lock(Workspace(root), wait=5):
            pass
        assert leftovers(out) == [] and not (out / ".zg-lock").exists(), what
        old, old_id = old_or_new(out, old, old_id, what)
    done = subprocess.run(_cmd(root), env=env, capture_output=True, timeout=300)
    assert done.returncode == 1, done.stderr.decode()
    one_run_id(out)
    assert leftovers(out) == [] and not scratch(tmp), "scratch folders of killed runs not swept"
    assert left_behind  # some kills did leave something for the next run to clean


def test_normal_run_watchdog_ends_and_nothing_is_left(work):
    root, env = work
    out = root / "output"
    tmp = Path(env["TMPDIR"])
    proc = subprocess.Popen(_cmd(root), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parent = psutil.Process(proc.pid)
    children: dict[int, object] = {}
    while proc.poll() is None:
        collect(parent, children)
        time.sleep(0.01)
    assert proc.returncode == 1
    assert any(is_watchdog(c) for c in children.values())
    assert not gone(list(children.values()), timeout=5)
    assert settled(out, tmp, timeout=0) == []
    one_run_id(out)


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_stops_merge_cleanly(work, sig, code):
    root, env = work
    out = root / "output"
    tmp = Path(env["TMPDIR"])
    before = snapshot(out)
    proc = subprocess.Popen(_cmd(root)[:-1], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lines: list[str] = []
    reading = threading.Event()

    def pump():
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace")
            lines.append(line)
            if line.startswith("[5/"):
                reading.set()

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    assert reading.wait(120), "".join(lines)
    found: dict[int, object] = {}
    collect(psutil.Process(proc.pid), found)
    children = list(found.values())
    assert any(not is_watchdog(c) for c in children)  # the intake workers
    assert any(is_watchdog(c) for c in children)
    proc.send_signal(sig)
    assert proc.wait(60) == code
    t.join(10)
    text = "".join(lines)
    assert "已中断" in text and "Traceback" not in text
    assert not gone(children)
    assert snapshot(out) == before
    assert settled(out, tmp, timeout=0) == []  # the run itself cleaned; its watchdog had nothing to do


def test_two_merges_at_once_never_mix(work):
    """The second waits for the first (or refuses, naming it); the outputs are always one run's."""
    root, env = work
    out = root / "output"
    procs = [subprocess.Popen(_cmd(root), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for _ in range(2)]
    results = [(p.wait(300), p.stderr.read().decode("utf-8", "replace")) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes in ([1, 1], [1, 2]), results
    for code, err in results:
        if code == 2:
            assert "另一个合并正在进行（进程" in err
    one_run_id(out)
    assert leftovers(out) == [] and not (out / ".zg-lock").exists()

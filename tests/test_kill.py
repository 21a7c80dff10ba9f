"""A merge killed at any point (kill -9, SIGTERM, Ctrl-C) leaves no orphan process, no temporary file,
and an output set that is wholly the old one or wholly the new one (issue 12 items 8, 9)."""

from __future__ import annotations

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
    assert subprocess.run(_cmd(root), env=env, capture_output=True, timeout=300).returncode == 1
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


def test_kill_9_at_random_points(work):
    root, env = work
    out = root / "output"
    tmp = Path(env["TMPDIR"])
    old = snapshot(out)
    old_id = one_run_id(out)
    with_workers = 0
    for seed in range(4):
        delay = random.Random(seed).uniform(0.3, 5.0)
        proc = subprocess.Popen(_cmd(root), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + delay
        children: dict[int, object] = {}
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                children.update({c.pid: c for c in parent.children(recursive=True)})
            except psutil.NoSuchProcess:
                break
            time.sleep(0.02)
        proc.kill()
        proc.wait(10)
        with_workers += bool(children)
        assert not gone(list(children.values())), f"seed {seed}: workers outlived the killed merge"
        # the next run (here: whoever takes the lock) finishes or discards what the killed one left
        from zg_excel.runlock import workspace_lock
        from zg_excel.workspace import Workspace

        with workspace_lock(Workspace(root), wait=5):
            pass
        assert leftovers(out) == [], seed
        now = snapshot(out)
        if now != old:  # the kill came after the set was moved into place: wholly the new one
            new_id = one_run_id(out)
            assert new_id != old_id, seed
            old, old_id = now, new_id
    assert with_workers  # some kills came while the workers were reading
    done = subprocess.run(_cmd(root), env=env, capture_output=True, timeout=300)
    assert done.returncode == 1, done.stderr.decode()
    one_run_id(out)
    assert leftovers(out) == []
    assert not list(tmp.glob("zg-excel-intake-*")), "scratch folders of killed runs not swept"
    assert not list(tmp.glob("tmp*")), "xlsxwriter scratch files left in TMPDIR"


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
    children = psutil.Process(proc.pid).children(recursive=True)
    assert children  # the intake workers
    proc.send_signal(sig)
    assert proc.wait(60) == code
    t.join(10)
    text = "".join(lines)
    assert "已中断" in text and "Traceback" not in text
    assert not gone(children)
    assert snapshot(out) == before
    assert leftovers(out) == [] and not (out / ".zg-lock").exists()
    assert not list(tmp.glob("zg-excel-intake-*"))


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

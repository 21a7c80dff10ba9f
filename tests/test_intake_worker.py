"""Isolation of the readers: crashes, aborts, memory, timeouts cost one file."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import sys
import time

import pytest

from tests import hostile as H
from zg_excel.intake import worker
from zg_excel.intake.raw import FileFailure, IntakeLimits, RawBook
from zg_excel.intake.readers import read_book
from zg_excel.intake.worker import read_books

FORK = "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin"
needs_fork = pytest.mark.skipif(not FORK, reason="the test hook reaches workers only when they are forked")


def outcome(r) -> str:
    return "book" if isinstance(r, RawBook) else r.code


def summary(r):
    if isinstance(r, RawBook):
        return ("book", r.format, [(s.name, s.rows, s.hidden, sorted(s.hidden_rows), s.formulas_without_value)
                                   for s in r.sheets])
    return (r.code, r.message, r.skipped)


@pytest.fixture
def returns(tmp_path):
    """Ten ordinary returns."""
    return [H.plain_return(str(tmp_path / f"单位{i:02}.xlsx"), 5 + i) for i in range(10)]


@pytest.fixture
def mixed(tmp_path):
    """One file of every kind the generators make (small ones)."""
    d = tmp_path
    return [
        H.plain_return(str(d / "plain.xlsx")),
        H.formulas_without_value(str(d / "formulas.xlsx")),
        H.hidden_things(str(d / "hidden.xlsx")),
        H.merged_header(str(d / "merged.xlsx")),
        H.error_cells(str(d / "errors.xlsx")),
        H.no_row_numbers(str(d / "norow.xlsx")),
        H.wps_wrong_dimension(str(d / "wps.xlsx")),
        H.protected_structure(str(d / "protected.xlsx")),
        H.encrypted_xlsx(str(d / "encrypted.xlsx")),
        H.zip_bomb(str(d / "bomb.xlsx"), mb=32),
        H.xxe_billion_laughs(str(d / "laughs.xlsx")),
        H.xxe_external(str(d / "xxe.xlsx")),
        H.far_stray_cell(str(d / "far.xlsx")),
        H.csv_file(str(d / "csv.xlsx")),
        H.csv_file(str(d / "gbk.xls"), "gbk"),
        H.html_table(str(d / "web.xls")),
        H.spreadsheetml_2003(str(d / "x2003.xls")),
        H.plain_text(str(d / "text.xls")),
        H.empty_file(str(d / "empty.xlsx")),
        H.lock_file(str(d / "~$plain.xlsx")),
        H.numbers_like(str(d / "a.numbers")),
        H.ods_file(str(d / "a.ods")),
        H.xls_file(str(d / "a.xls")),
        H.xls_file(str(d / "pw.xls"), filepass=True),
        H.biff2_raw(str(d / "old.xls")),
        H.random_binary(str(d / "junk.bin")),
    ]


EXPECTED_MIXED = {
    "plain.xlsx": "book", "formulas.xlsx": "book", "hidden.xlsx": "book", "merged.xlsx": "book",
    "errors.xlsx": "book", "norow.xlsx": "book", "wps.xlsx": "book", "protected.xlsx": "book",
    "encrypted.xlsx": "encrypted", "bomb.xlsx": "too_large", "laughs.xlsx": "corrupt", "xxe.xlsx": "corrupt",
    "far.xlsx": "too_large", "csv.xlsx": "book", "gbk.xls": "book", "web.xls": "html", "x2003.xls": "html",
    "text.xls": "not_spreadsheet", "empty.xlsx": "empty", "~$plain.xlsx": "lock_file", "a.numbers": "numbers",
    "a.ods": "book", "a.xls": "book", "pw.xls": "encrypted", "old.xls": "book", "junk.bin": "not_spreadsheet",
}


def sha(paths):
    return {p: hashlib.sha256(open(p, "rb").read()).hexdigest() for p in paths}


def test_every_path_once_with_progress(mixed):
    done = []
    before = sha(mixed)
    got = list(read_books(mixed, IntakeLimits(workers=2), on_done=done.append))
    assert sorted(p for p, _ in got) == sorted(mixed)
    assert sorted(done) == sorted(mixed)
    assert {os.path.basename(p): outcome(r) for p, r in got} == EXPECTED_MIXED
    assert sha(mixed) == before  # inputs never modified


def test_isolated_equals_in_process(mixed):
    lim = IntakeLimits(workers=2)
    pooled = {p: summary(r) for p, r in read_books(mixed, lim)}
    direct = {p: summary(r) for p, r in read_books(mixed, lim, isolate=False)}
    assert pooled == direct
    assert direct == {p: summary(read_book(p, lim)) for p in mixed}


def test_big_results_arrive_whole(tmp_path):
    """Books above a few MB travel in pieces; they must come back identical."""
    paths = []
    for i in range(4):
        rows = [[f"{i}-{r}-" + "文" * 1500, r] for r in range(3000)]  # ~13 MB of text per book
        paths.append(H.write_xlsx(str(tmp_path / f"big{i}.xlsx"), [H.Sheet("S", rows), H.Sheet("T", [["t"]])]))
    paths += [H.plain_return(str(tmp_path / f"small{i}.xlsx")) for i in range(6)]
    lim = IntakeLimits(workers=2)
    pooled = {p: summary(r) for p, r in read_books(paths, lim)}
    direct = {p: summary(r) for p, r in read_books(paths, lim, isolate=False)}
    assert pooled == direct
    assert all(v[0] == "book" for v in pooled.values())


def test_empty_input():
    assert list(read_books([], IntakeLimits())) == []


@needs_fork
@pytest.mark.parametrize("workers", [1, 2])
def test_abort_costs_one_file(returns, monkeypatch, workers):
    victim = returns[3]

    def hook(path):
        if path == victim:
            os.abort()  # what calamine does on an allocation failure

    monkeypatch.setattr(worker, "_child_test_hook", hook)
    got = dict(read_books(returns, IntakeLimits(workers=workers)))
    assert sorted(got) == sorted(returns)
    assert outcome(got[victim]) == "crashed"
    assert "其他文件不受影响" in got[victim].message
    assert all(isinstance(r, RawBook) for p, r in got.items() if p != victim)


@needs_fork
def test_rust_allocation_abort_is_memory(returns, tmp_path, monkeypatch):
    """A real calamine abort: one stray cell in XFD1048576 read without the prescan guard."""
    far = H.far_stray_cell(str(tmp_path / "far.xlsx"))
    victim = returns[0]

    def hook(path):
        if path == victim:
            from python_calamine import CalamineWorkbook

            CalamineWorkbook.from_path(far).get_sheet_by_index(0)  # allocates 17 G cells: SIGABRT

    monkeypatch.setattr(worker, "_child_test_hook", hook)
    got = dict(read_books(returns, IntakeLimits(workers=2, memory_mb=512)))
    assert outcome(got[victim]) == "memory"
    assert "512 MB" in got[victim].message
    assert sum(isinstance(r, RawBook) for r in got.values()) == len(returns) - 1


@needs_fork
def test_python_memory_error_under_cap(returns, monkeypatch):
    victim = returns[5]

    def hook(path):
        if path == victim:
            bytearray(2 << 30)  # beyond the 256 MB cap

    monkeypatch.setattr(worker, "_child_test_hook", hook)
    got = dict(read_books(returns, IntakeLimits(workers=2, memory_mb=256)))
    assert outcome(got[victim]) == "memory"
    assert sum(isinstance(r, RawBook) for r in got.values()) == len(returns) - 1


@needs_fork
def test_panic_is_crashed(returns, monkeypatch):
    class PanicException(BaseException):  # what pyo3 raises on a Rust panic
        pass

    victim = returns[2]

    def hook(path):
        if path == victim:
            raise PanicException("index out of bounds")

    monkeypatch.setattr(worker, "_child_test_hook", hook)
    got = dict(read_books(returns, IntakeLimits(workers=2)))
    assert outcome(got[victim]) == "crashed"
    assert sum(isinstance(r, RawBook) for r in got.values()) == len(returns) - 1


@needs_fork
@pytest.mark.parametrize("workers", [1, 2])
def test_timeout_kills_and_continues(returns, monkeypatch, workers):
    victim = returns[1]

    def hook(path):
        if path == victim:
            time.sleep(120)

    monkeypatch.setattr(worker, "_child_test_hook", hook)
    t = time.perf_counter()
    got = dict(read_books(returns, IntakeLimits(workers=workers, timeout_s=1.0)))
    elapsed = time.perf_counter() - t
    assert outcome(got[victim]) == "timeout"
    assert "超时" in got[victim].message
    assert sum(isinstance(r, RawBook) for r in got.values()) == len(returns) - 1
    assert elapsed < 15


@needs_fork
def test_several_failures_in_one_batch(returns, monkeypatch):
    bad = {returns[0]: "abort", returns[4]: "hang", returns[9]: "abort"}

    def hook(path):
        if bad.get(path) == "abort":
            os.abort()
        if bad.get(path) == "hang":
            time.sleep(120)

    monkeypatch.setattr(worker, "_child_test_hook", hook)
    got = dict(read_books(returns, IntakeLimits(workers=2, timeout_s=1.0)))
    assert {p: outcome(r) for p, r in got.items() if p in bad} == {
        returns[0]: "crashed", returns[4]: "timeout", returns[9]: "crashed"}
    assert sum(isinstance(r, RawBook) for r in got.values()) == len(returns) - 3


def test_stopping_early_stops_workers(returns):
    gen = read_books(returns, IntakeLimits(workers=2))
    next(gen)
    gen.close()
    deadline = time.monotonic() + 5
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not multiprocessing.active_children()


def test_mutated_files_never_break_the_batch(tmp_path):
    rnd = random.Random(20240305)
    sources = [open(H.plain_return(str(tmp_path / "src.xlsx")), "rb").read(),
               open(H.xls_file(str(tmp_path / "src.xls")), "rb").read(),
               open(H.ods_file(str(tmp_path / "src.ods")), "rb").read()]
    paths = []
    for i in range(60):
        data = bytearray(sources[i % 3])
        for _ in range(rnd.randrange(1, 30)):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
        p = tmp_path / f"fuzz{i:02}{('.xlsx', '.xls', '.ods')[i % 3]}"
        p.write_bytes(bytes(data))
        paths.append(str(p))
    got = dict(read_books(paths, IntakeLimits(workers=2, timeout_s=20, memory_mb=512)))
    assert sorted(got) == sorted(paths)
    assert all(isinstance(r, (RawBook, FileFailure)) for r in got.values())
    assert not any(r.code == "timeout" for r in got.values() if isinstance(r, FileFailure))


def test_pool_overhead_is_small(tmp_path):
    """Hundreds of small returns: the pool costs about what reading them in-process does."""
    src = H.plain_return(str(tmp_path / "src.xlsx"), 30)
    data = open(src, "rb").read()
    paths = []
    for i in range(300):
        p = tmp_path / f"u{i:03}.xlsx"
        p.write_bytes(data)
        paths.append(str(p))
    lim = IntakeLimits(workers=2)
    list(read_books(paths[:20], lim, isolate=False))  # warm caches
    t = time.perf_counter()
    direct = list(read_books(paths, lim, isolate=False))
    t_direct = time.perf_counter() - t
    t = time.perf_counter()
    pooled = list(read_books(paths, lim))
    t_pool = time.perf_counter() - t
    assert len(pooled) == len(direct) == 300
    assert all(isinstance(r, RawBook) for _, r in pooled)
    # generous: CI machines are noisy; a process per file would be ~10x slower
    assert t_pool < 2.5 * t_direct + 1.0, (t_pool, t_direct)


# ------------------------------------------------------------ the parent dies (issue 12 item 8)

_ORPHAN_SCRIPT = r"""
import os, sys, time
from zg_excel.intake import worker
from zg_excel.intake.raw import IntakeLimits

def hang(path):
    if os.environ.get("HANG_MODE") == "native":
        import ctypes
        ctypes.CDLL(None).pause()  # blocked outside Python: only the kernel can end it
    time.sleep(3600)

worker._child_test_hook = hang
paths = sys.argv[1:]
it = worker.read_books(paths, IntakeLimits(workers=2, timeout_s=3600))
import threading
def report():
    time.sleep(1.0)
    import psutil
    kids = [c.pid for c in psutil.Process().children()]
    print(" ".join(map(str, kids)), flush=True)
threading.Thread(target=report, daemon=True).start()
for _ in it:
    pass
"""


@needs_fork
@pytest.mark.parametrize("how", ["kill9", "sigterm"])
@pytest.mark.parametrize("mode", ["python", "native"])
def test_workers_end_when_parent_dies(returns, tmp_path, how, mode):
    """Workers blocked reading (in Python or in native code) end when their parent is killed, and the
    scratch folder the dead parent left is swept by the next pool."""
    import signal
    import subprocess

    psutil = pytest.importorskip("psutil")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp), HANG_MODE=mode)
    proc = subprocess.Popen([sys.executable, "-c", _ORPHAN_SCRIPT, *returns[:4]], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = proc.stdout.readline().decode().split()
    kids = [psutil.Process(int(p)) for p in line]
    assert len(kids) == 2
    proc.send_signal(signal.SIGKILL if how == "kill9" else signal.SIGTERM)
    proc.wait(10)
    deadline = time.monotonic() + 5
    alive = kids
    while alive and time.monotonic() < deadline:
        alive = [k for k in alive if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.05)
    assert not alive, "intake workers outlived their parent"
    left = list(tmp.glob(f"{worker.TMP_PREFIX}{proc.pid}-*"))
    assert len(left) == 1  # killed without cleaning up: named by the dead pid ...
    assert worker.sweep_stale_tmpdirs(str(tmp)) == [str(left[0])]  # ... and swept by the next pool
    assert not left[0].exists()


_IDLE_ORPHAN_SCRIPT = r"""
import ctypes, os, sys, time
def no_death_signal(*args, **kwargs):  # as where the kernel cannot end workers with their parent (not Linux)
    raise OSError("no prctl here")
ctypes.CDLL = no_death_signal
from zg_excel.intake import worker
from zg_excel.intake.raw import IntakeLimits
pool = worker._Pool(IntakeLimits(workers=2, timeout_s=3600), 2)
ws = [pool._start(), pool._start()]
for w in ws:  # both started and waiting for a path
    assert w.conn.recv() == ("ready",)
print(pool.tmpdir, *(w.proc.pid for w in ws), flush=True)
time.sleep(3600)
"""


@needs_fork
def test_workers_of_a_killed_parent_remove_their_scratch_folder(tmp_path):
    """Without the kernel's death signal (not Linux), each worker that finds its parent gone removes its
    own scratch file, and the last one out the folder: nothing is left without a next pool."""
    import signal
    import subprocess

    psutil = pytest.importorskip("psutil")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", _IDLE_ORPHAN_SCRIPT], env=dict(os.environ, TMPDIR=str(tmp)),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    folder, *pids = proc.stdout.readline().decode().split()
    kids = [psutil.Process(int(p)) for p in pids]
    assert len(kids) == 2 and sorted(os.listdir(folder)) == ["worker-1.err", "worker-2.err"]
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    deadline = time.monotonic() + 5
    while (os.path.exists(folder) or any(k.is_running() and k.status() != psutil.STATUS_ZOMBIE for k in kids)) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(folder), os.listdir(folder)
    assert not any(k.is_running() and k.status() != psutil.STATUS_ZOMBIE for k in kids)


_LEAVE_SCRIPT = r"""
import os, sys
from zg_excel.intake.worker import _leave_scratch
folder = sys.argv[1]
_leave_scratch(os.path.join(folder, "worker-1.err"))
first = sorted(os.listdir(folder))
_leave_scratch(os.path.join(folder, "worker-2.err"))
print(first, os.path.exists(folder))
"""


def test_last_worker_out_removes_the_scratch_folder(tmp_path):
    """Each leaving worker removes only its own file; the folder goes with the last one (rmdir)."""
    import subprocess

    folder = tmp_path / "zg-excel-intake-1-x"
    folder.mkdir()
    for n in (1, 2):
        (folder / f"worker-{n}.err").write_text("")
    done = subprocess.run([sys.executable, "-c", _LEAVE_SCRIPT, str(folder)], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.split("\n")[0] == "['worker-2.err'] False", done.stderr

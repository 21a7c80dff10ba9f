"""Read many untrusted files without letting one of them take the batch down.

``read_books(paths, limits)`` parses each file in one of a few long-lived
worker processes. Each worker runs under an address-space cap, and the parent
enforces a per-file wall-clock timeout. A reader that aborts the process
(python-calamine aborts on allocation failure: tafia/calamine#550), panics
(pyo3 ``PanicException`` derives from ``BaseException``), loops or eats all
memory costs that one file — reported as a ``FileFailure`` with code
``crashed``, ``memory`` or ``timeout`` — and the batch carries on with a fresh
worker.

Design, and why:

* A persistent pool of ``limits.workers`` (0 = ``os.cpu_count()``) processes,
  not a process per file: forking costs milliseconds, reading a small return
  about one, and a batch is ~100-1,000 files.
* Each worker gets paths over a ``multiprocessing`` Pipe and sends back the
  pickled ``RawBook`` / ``FileFailure``. The parent multiplexes all pipes and
  process sentinels with ``multiprocessing.connection.wait``, so it sees a
  result, a death and a deadline without polling.
* Linux / other POSIX with fork (not macOS): workers are forked, so they start
  in milliseconds with the readers already imported. Before each file a
  worker sets ``RLIMIT_AS`` to its current size plus ``limits.memory_mb``
  MiB, so ``memory_mb`` is the budget for reading one file, whatever the
  caller's process already maps (a cap below the inherited size would make
  every allocation fail) and whatever earlier files left behind. Core dumps
  are switched off, SIGINT is ignored (the parent handles Ctrl-C), stdout
  goes to /dev/null and stderr to a scratch file whose tail tells an
  allocation abort ("memory allocation of N bytes failed") from another
  crash — the library never prints, and neither do its workers.
* Big results travel in pieces (rows, then the book without them), so
  neither process holds one pickle of a whole large book next to the book.
* Two paths are kept queued per worker, so a worker never idles waiting for
  the parent to wake up; a worker that dies or times out gives its queued
  paths back, and only the file it was reading is blamed.
* macOS and Windows: ``spawn`` workers (slower to start, same protocol);
  ``RLIMIT_AS`` is not enforced there (macOS ignores it, Windows has none), so
  only the timeout and crash isolation apply.
* ``isolate=False`` reads in-process, one file after another, for debugging
  (no timeout, no memory cap, a reader abort kills the caller).

A worker whose address space has grown by more than the budget since it
started retires and is replaced (freed memory is rarely given back to the
system), so a long batch does not accumulate resident memory.

Workers end when the parent ends, however it ends. On Linux each worker asks
the kernel for SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``),
which works even while a reader is stuck in native code. Everywhere, a
watchdog thread in the worker checks the parent every ``WATCH_S`` seconds and
leaves when it is gone, and a forked worker closes the parent's ends of every
pipe it inherited, so ``recv`` sees end-of-file once the parent is gone. The
scratch folder is named ``zg-excel-intake-<parent pid>-…``: the pool removes
its own on close; a worker that finds its parent gone removes its own scratch
file and then the folder if it is the last one out (``rmdir`` of a folder other
workers still use fails, so this is race-free); where the kernel kills the
workers first (Linux), the run's cleanup watchdog (``zg_excel.runlock``) removes
the folder; and each new pool removes those whose process is gone. Linux sends the death signal when the
*thread* that started the worker ends: call ``read_books`` and consume it in one
thread (a web server's request thread is fine; the pool is closed before the
call returns).
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from multiprocessing.connection import wait
from typing import Callable, Iterable, Iterator

from .raw import FileFailure, IntakeLimits, RawBook
from .readers import failure, read_book

# Test-only hook, called in the worker with each path before it is read (the
# tests use it to make a worker abort or hang on one chosen file). Workers are
# forked, so a value set by a test in the parent is seen by the workers.
_child_test_hook: Callable[[str], None] | None = None

_MB = 1 << 20
TMP_PREFIX = "zg-excel-intake-"
WATCH_S = 0.5  # how often a worker checks that its parent is still there


def default_workers(limits: IntakeLimits) -> int:
    return limits.workers if limits.workers and limits.workers > 0 else (os.cpu_count() or 1)


def read_books(
    paths: Iterable[str],
    limits: IntakeLimits,
    on_done: Callable[[str], None] | None = None,
    *,
    isolate: bool = True,
    transform: Callable[[str, RawBook], object] | None = None,
) -> Iterator[tuple[str, RawBook | FileFailure | object]]:
    """Read every path; yield ``(path, RawBook | FileFailure)`` once per path, in
    completion order. ``on_done(path)`` is called as each file finishes (for a
    progress bar). Never raises for a bad file; stopping the iteration early
    stops the workers.

    ``transform(path, book)``, when given, runs in the worker on each book read
    and its (picklable) result is yielded instead of the book: the per-file work
    that follows reading then runs on every core, and only its result crosses
    the pipe. If it raises, the book itself is yielded (the caller's own code
    path then shows the error)."""
    todo = list(paths)
    if not todo:
        return
    if not isolate:
        for path in todo:
            result = _transformed(transform, path, read_book(path, limits))
            if on_done is not None:
                on_done(path)
            yield path, result
        return
    pool = _Pool(limits, min(default_workers(limits), len(todo)), transform)
    try:
        for path, result in pool.run(todo):
            if on_done is not None:
                on_done(path)
            yield path, result
    finally:
        pool.close()


# ---------------------------------------------------------------- child ---

def _proc_vsize() -> int:
    """Current virtual size of this process in bytes (Linux), else 0."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0


def _child_setup(limits: IntakeLimits, err_path: str) -> None:
    """Quiet output, no core dumps, Ctrl-C left to the parent."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError, AttributeError):
        pass
    os.environ["RUST_BACKTRACE"] = "0"  # a panic message is enough in the scratch file
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
        err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(err, 2)
        os.close(err)
        # a fault handler inherited from the caller (pytest, python -X faulthandler)
        # still writes to the caller's terminal: point it at the scratch file too
        import faulthandler

        if faulthandler.is_enabled():
            faulthandler.enable(file=2)
    except (OSError, ValueError, RuntimeError):
        pass
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass


class _AddressSpace:
    """Gives each file ``memory_mb`` of fresh address space (Linux RLIMIT_AS).

    The soft limit is set before every file to the current size plus the
    budget, so a file never inherits less because an earlier one left the heap
    large; the hard limit is left alone so the worker can do this. A worker
    whose size has grown by more than the budget since it started retires."""

    def __init__(self, limits: IntakeLimits):
        self.budget = int(limits.memory_mb) * _MB if limits.memory_mb else 0
        self.base = 0
        self.resource = None
        if self.budget and sys.platform.startswith("linux"):
            try:
                import resource

                self.resource = resource
                self.base = _proc_vsize()
            except ImportError:
                pass

    def arm(self) -> None:
        if self.resource is None:
            return
        r = self.resource
        try:
            _, hard = r.getrlimit(r.RLIMIT_AS)
            cap = _proc_vsize() + self.budget
            if hard != r.RLIM_INFINITY:
                cap = min(cap, hard)
            r.setrlimit(r.RLIMIT_AS, (cap, hard))
        except (ValueError, OSError):
            pass

    def worn_out(self) -> bool:
        return self.resource is not None and _proc_vsize() > self.base + self.budget


def _transformed(transform, path: str, result):
    if transform is None or not isinstance(result, RawBook):
        return result
    try:
        return transform(path, result)
    except Exception:  # noqa: BLE001 - a bug in the caller's step: hand back the book, the caller re-runs it
        return result


def _leave_scratch(err_path: str) -> None:
    """The parent is gone: remove this worker's scratch file, and the folder if no other worker's
    file is left in it (the last worker out removes it; ``rmdir`` fails while others remain)."""
    if not err_path:
        return
    try:  # stderr points at the file: on Windows an open file cannot be removed
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        pass
    for remove, target in ((os.unlink, err_path), (os.rmdir, os.path.dirname(err_path))):
        try:
            remove(target)
        except OSError:
            pass


def _die_with_parent(parent: int, close_fds: tuple[int, ...] = (), err_path: str = "") -> None:
    """End this worker when ``parent`` ends (see the module docstring)."""
    for fd in close_fds:  # the parent's ends of pipes, inherited through fork
        try:
            os.close(fd)
        except OSError:
            pass
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError, ValueError):
            pass
    if os.getppid() != parent:  # it died before the request above took effect
        _leave_scratch(err_path)
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(WATCH_S)
            if os.getppid() != parent or not pid_alive(parent):
                _leave_scratch(err_path)
                os._exit(1)

    threading.Thread(target=watch, name="zg-excel-parent-watch", daemon=True).start()


def _parent_ends(parent: int, patience: float = 1.0) -> bool:
    """Whether ``parent`` is ending: its pipe reached end-of-file as it was closing its files, so
    wait a little for it to be gone (a live parent never closes a worker's pipe first)."""
    deadline = time.monotonic() + patience
    while os.getppid() == parent and pid_alive(parent):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs: the one liveness test of the package (the intake workers
    watch their parent with it, the working-folder lock judges its holder). A zombie (ended, not yet
    reaped by its parent) counts as gone."""
    if pid <= 0:
        return False
    if os.name == "nt":  # pragma: no cover - Windows: getppid() does not change, ask the system
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
    except OSError:  # exists, owned by someone else
        return True
    try:  # Linux: a zombie holds nothing any more
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        return stat[stat.rindex(b")") + 2:][:1] not in (b"Z", b"X")
    except (OSError, ValueError):
        return True


def sweep_stale_tmpdirs(base: str | None = None) -> list[str]:
    """Remove ``zg-excel-intake-<pid>-*`` scratch folders whose process is gone; return their paths."""
    base = base or tempfile.gettempdir()
    removed = []
    try:
        names = os.listdir(base)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(TMP_PREFIX):
            continue
        pid_text = name[len(TMP_PREFIX):].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or pid_alive(int(pid_text)):
            continue
        path = os.path.join(base, name)
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _worker_main(conn, limits: IntakeLimits, err_path: str, transform=None, parent: int = 0,
                 close_fds: tuple[int, ...] = ()) -> None:
    if parent:
        _die_with_parent(parent, close_fds, err_path)
    _child_setup(limits, err_path)
    space = _AddressSpace(limits)
    try:
        conn.send(("ready",))  # a worker that dies before this failed to start: no file is blamed
    except (BrokenPipeError, EOFError, OSError):
        return
    while True:
        try:
            path = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):  # the parent is gone (a live one says None)
            if parent and _parent_ends(parent):
                _leave_scratch(err_path)
            return
        if path is None:
            return
        try:
            os.ftruncate(2, 0)
            os.lseek(2, 0, os.SEEK_SET)
        except OSError:
            pass
        try:
            space.arm()
            if _child_test_hook is not None:
                _child_test_hook(path)
            result = _transformed(transform, path, read_book(path, limits))
        except MemoryError:
            result = failure(path, "memory", limit=limits.memory_mb)
        except BaseException:  # noqa: BLE001 - PanicException, SystemExit from a hook, anything
            result = failure(path, "crashed")
        try:
            retire = isinstance(result, FileFailure) and result.code in ("memory", "crashed")
            retire = retire or space.worn_out()
            _send_result(conn, path, result, retire)
        except MemoryError:
            # not even the answer fits: say so on stderr, where the parent looks
            result = None
            try:
                conn.send(("done", path, failure(path, "memory", limit=limits.memory_mb), True))
            except BaseException:  # noqa: BLE001
                os.write(2, b"\nMemoryError while sending the result\n")
                os._exit(3)
            return
        except (BrokenPipeError, EOFError, OSError):
            return
        if retire:
            return


# Results above this size go over the pipe in pieces (rows first, then the book
# without its rows), so neither side ever holds one pickle of a whole big book
# next to the book itself.
PART_BYTES = 4 * _MB


def _send_result(conn, path: str, result, retire: bool) -> None:
    if isinstance(result, RawBook) and sum(len(s.rows) for s in result.sheets) > 2000:
        for idx, sheet in enumerate(result.sheets):
            part: list = []
            size = 0
            for row in sheet.rows:
                part.append(row)
                size += 16 * len(row) + sum(len(v) for v in row if type(v) is str)
                if size >= PART_BYTES:
                    conn.send(("part", idx, part))
                    part, size = [], 0
            if part:
                conn.send(("part", idx, part))
            sheet.rows = []
    conn.send(("done", path, result, retire))


# --------------------------------------------------------------- parent ---

class _Worker:
    """Parent-side handle. ``queue`` holds the paths sent and not yet answered,
    in order; the worker is reading ``queue[0]``, whose deadline is ``deadline``."""

    __slots__ = ("proc", "conn", "err_path", "queue", "deadline", "parts", "ready")

    def __init__(self, proc, conn, err_path: str):
        self.proc = proc
        self.conn = conn
        self.err_path = err_path
        self.queue: collections.deque[str] = collections.deque()
        self.deadline = float("inf")
        self.parts: dict[int, list] = {}  # rows of the book being received, per sheet
        self.ready = False  # the worker has started (sent "ready")


# Paths sent ahead to a worker: the next path is already in its pipe when it
# finishes a file, so it never sleeps waiting for the parent to wake up (on a
# VM that round trip costs a few ms, more than reading a small return).
PREFETCH = 2


class _Pool:
    def __init__(self, limits: IntakeLimits, n: int, transform=None):
        self.limits = limits
        self.transform = transform
        self.n = max(1, n)
        if "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin":
            self.ctx = multiprocessing.get_context("fork")
        else:
            self.ctx = multiprocessing.get_context("spawn")
        if self.ctx.get_start_method() == "fork":
            # import the readers' native parts once, before forking, so workers share them
            for mod in ("python_calamine", "olefile"):
                try:
                    __import__(mod)
                except ImportError:
                    pass
        sweep_stale_tmpdirs()
        self.tmpdir = tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-")
        self.workers: list[_Worker] = []
        self._serial = 0
        self._failed_starts = 0  # workers in a row that died before they were ready

    # -- lifecycle
    def _start(self) -> _Worker:
        self._serial += 1
        err_path = os.path.join(self.tmpdir, f"worker-{self._serial}.err")
        parent_conn, child_conn = self.ctx.Pipe(duplex=True)
        # a forked worker closes the parent's pipe ends it inherits (its own and the other workers')
        close_fds = ((parent_conn.fileno(), *(w.conn.fileno() for w in self.workers))
                     if self.ctx.get_start_method() == "fork" else ())
        proc = self.ctx.Process(target=_worker_main, args=(child_conn, self.limits, err_path, self.transform,
                                                           os.getpid(), close_fds),
                                name=f"zg-excel-intake-{self._serial}", daemon=True)
        proc.start()
        child_conn.close()
        w = _Worker(proc, parent_conn, err_path)
        self.workers.append(w)
        return w

    def _discard(self, w: _Worker, kill: bool) -> None:
        if kill and w.proc.is_alive():
            w.proc.kill()
        w.proc.join(5)
        if w.proc.is_alive():  # pragma: no cover - SIGKILL does not fail
            w.proc.kill()
            w.proc.join(1)
        try:
            w.conn.close()
        except OSError:
            pass
        try:
            w.proc.close()
        except (ValueError, AttributeError):
            pass
        if w in self.workers:
            self.workers.remove(w)

    def close(self) -> None:
        for w in list(self.workers):
            if not w.queue:
                try:
                    w.conn.send(None)
                except (OSError, ValueError):
                    pass
        for w in list(self.workers):
            if not w.queue:
                w.proc.join(2)
            self._discard(w, kill=True)
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    # -- work
    def run(self, paths: list[str]) -> Iterator[tuple[str, RawBook | FileFailure]]:
        pending = collections.deque(paths)
        timeout = float(self.limits.timeout_s) if self.limits.timeout_s else None

        def restart_clock(w: _Worker) -> None:
            w.deadline = time.monotonic() + timeout if (timeout and w.queue) else float("inf")

        while pending or any(w.queue for w in self.workers):
            # hand out work, least loaded worker first; start workers as needed
            while pending:
                w = min(self.workers, key=lambda x: len(x.queue), default=None)
                if w is None or (w.queue and len(self.workers) < self.n):
                    w = self._start()
                if len(w.queue) >= PREFETCH:
                    break
                path = pending.popleft()
                try:
                    w.conn.send(path)
                except (OSError, ValueError):
                    # the worker is gone (e.g. it retired): give its paths back
                    pending.appendleft(path)
                    pending.extendleft(reversed(w.queue))
                    w.queue.clear()
                    self._discard(w, kill=True)
                    continue
                w.queue.append(path)
                if len(w.queue) == 1:
                    restart_clock(w)

            busy = [w for w in self.workers if w.queue]
            if not busy:
                continue
            wait_for = min(w.deadline for w in busy) - time.monotonic()
            objects = [w.conn for w in busy] + [w.proc.sentinel for w in busy]
            ready = set(wait(objects, timeout=None if wait_for == float("inf") else max(0.0, wait_for)))
            now = time.monotonic()
            for w in busy:
                if w.conn in ready or w.proc.sentinel in ready:
                    for got in self._collect(w, pending):
                        yield got
                    restart_clock(w)
                elif now >= w.deadline:
                    path = w.queue.popleft()
                    pending.extendleft(reversed(w.queue))
                    w.queue.clear()
                    self._discard(w, kill=True)
                    yield path, failure(path, "timeout", limit=self.limits.timeout_s)

    def _collect(self, w: _Worker, pending: collections.deque) -> list[tuple[str, RawBook | FileFailure]]:
        """A worker is readable or has exited: take its results or diagnose its death."""
        out: list[tuple[str, RawBook | FileFailure]] = []
        try:
            if self._drain(w, pending, out):
                return out  # retired
            if w.proc.is_alive():
                return out  # more to come
            # it exited: whatever it sent before is still in the pipe
            if self._drain(w, pending, out):
                return out
        except Exception:  # noqa: BLE001 - EOF, or a pickle cut short by the worker's death
            pass
        # no complete answer: the worker died (or its pipe broke) while reading queue[0]
        w.parts = {}
        w.proc.join(2)
        code = w.proc.exitcode
        self._discard(w, kill=code is None)
        if not w.ready:
            # it never started: the environment is at fault, not the file
            pending.extendleft(reversed(w.queue))
            w.queue.clear()
            self._failed_starts += 1
            if self._failed_starts >= 3:
                raise RuntimeError("intake worker processes fail to start (exit code "
                                   f"{code}): {self._stderr_tail(w.err_path)[-500:]}")
            return out
        if w.queue:
            path = w.queue.popleft()
            pending.extendleft(reversed(w.queue))
            w.queue.clear()
            out.append((path, self._death_failure(path, code, w.err_path)))
        return out

    def _drain(self, w: _Worker, pending: collections.deque, out: list) -> bool:
        """Read every message waiting in the worker's pipe; True if it retired."""
        while (w.queue or not w.ready) and w.conn.poll():
            msg = w.conn.recv()
            if msg[0] == "ready":
                w.ready = True
                self._failed_starts = 0
                continue
            if msg[0] == "part":
                w.parts.setdefault(msg[1], []).extend(msg[2])
                continue
            _, got_path, result, retire = msg
            if w.parts:
                for idx, rows in w.parts.items():
                    result.sheets[idx].rows = rows
                w.parts = {}
            w.queue.popleft()  # a worker answers in the order it was asked
            out.append((got_path, result))
            if retire:
                pending.extendleft(reversed(w.queue))
                w.queue.clear()
                self._discard(w, kill=False)
                return True
        return False

    @staticmethod
    def _stderr_tail(err_path: str) -> str:
        try:
            with open(err_path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - 8192))
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _death_failure(self, path: str, exitcode: int | None, err_path: str) -> FileFailure:
        tail = self._stderr_tail(err_path)
        memory_signs = ("memory allocation of", "MemoryError", "Cannot allocate memory", "out of memory",
                        "capacity overflow")
        killed = exitcode is not None and exitcode < 0 and -exitcode == getattr(signal, "SIGKILL", 9)
        if killed or any(s in tail for s in memory_signs):
            return failure(path, "memory", limit=self.limits.memory_mb)
        return failure(path, "crashed")

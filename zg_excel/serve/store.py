"""What the server keeps: read workbooks by content hash, the inbox index, uploads and their audit log.

* ``BookCache`` — sha256 of a file's bytes → the ``RawBook`` (or ``FileFailure``) read from them,
  in memory and pickled under ``网页报送/.cache/``, each file signed with the server's key (an
  unsigned or changed file is never unpickled): a file is read once, whatever its name, and
  after a restart too. Pages never re-read the inbox.
* ``Desk`` — the inbox as the server sees it (relpath → stat signature → sha256 → book and
  unit), the handling of one upload (sniff, read, check, store, audit), the per-unit points
  with and without a file, and the office's standings snapshot (rebuilt in the background
  when the inbox changed, so the office page renders from the last one at once).
* ``run_merge`` — the real merge and its outputs, one at a time in this process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import pickle
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path, PurePosixPath

from ..check import FileCheck, file_check
from ..intake.raw import FileFailure, RawBook
from ..intake.sniff import sniff_bytes
from ..ledger import PROOF_SUFFIXES, ProofFile, sniff_proof
from ..merge import list_inbox, score_books
from ..model import EventRow
from ..period import resolve_period
from ..result import FAILED, MERGED, REJECTED, SKIPPED, Result
from ..text import safe_filename
from ..workspace import Workspace, inbox_unit_folder
from .settings import ServeSettings
from .tokens import load_store, serve_dir

_EXT = {"xlsx": ".xlsx", "xlsm": ".xlsm", "xlsb": ".xlsb", "ods": ".ods", "xls": ".xls", "biff": ".xls",
        "text": ".csv"}
_SNIFF_ZH = {
    "empty": "文件是空的（0 字节）",
    "lock_file": "这是 Excel/WPS 打开文件时自动生成的临时锁定文件，不是报表",
    "encrypted": "文件设置了打开密码，无法读取，请取消密码后重新上传",
    "numbers": "这是苹果 Numbers 文件，请在 Numbers 中导出为 Excel 工作簿（.xlsx）后重新上传",
    "html": "这是网页文件（HTML），并不是真正的 Excel 工作簿，请用 Excel 或 WPS 打开后“另存为” Excel 工作簿（.xlsx）再上传",
    "corrupt": "文件已损坏或格式不完整，无法打开，请用 Excel 或 WPS 打开后“另存为” Excel 工作簿（.xlsx）再上传",
    "not_spreadsheet": "文件内容不是电子表格，也不是台帐证明材料（PDF、图片或Word/WPS文档），可能发错了文件。"
                       "报表请上传 Excel 工作簿（.xlsx）",
}


def _server_secret(workdir: Path) -> bytes:
    """The server's secret key (令牌.json), b'' before the links were first made."""
    try:
        return bytes.fromhex(load_store(workdir).csrf_key)
    except (OSError, ValueError):
        return b""


PROOF_FOLDER = "台帐"  # inbox/<unit>/台帐/: the unit's proof files uploaded on its page
_PROOF_EXT = {"PDF": ".pdf", "Word/WPS文档": ".docx", "OFD文档": ".ofd"}
_IMAGE_EXT = ((b"\x89PNG", ".png"), (b"\xff\xd8\xff", ".jpg"), (b"GIF8", ".gif"), (b"BM", ".bmp"),
              (b"II*\x00", ".tif"), (b"MM\x00*", ".tif"), (b"RIFF", ".webp"))


def proof_name(client_name: str, kind: str, data: bytes) -> str:
    """The stored name of a proof file: the client's file name made safe (the 证明材料 column names files
    by name), with an extension of its type when the client's is none of the proof types."""
    name = safe_filename(client_name).lstrip(".") or "证明材料"
    suffix = PurePosixPath(name).suffix
    if suffix.lower() in PROOF_SUFFIXES:
        return name
    ext = _PROOF_EXT.get(kind) or next((e for magic, e in _IMAGE_EXT if data.startswith(magic)), ".bin")
    if suffix[1:].isascii() and suffix[1:].isalpha() and len(suffix) <= 6:  # 照片.xlsx: an extension, replaced
        name = name[:-len(suffix)]
    return safe_filename(name + ext)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_folder(unit: str) -> str:
    """A folder name for a roster unit (roster names are trusted, but never a path)."""
    return inbox_unit_folder(unit)


class BookCache:
    """sha256 → RawBook | FileFailure: in memory, and pickled on disk (a restart reads nothing again).

    Unpickling runs code, so a file of the folder is loaded only when it carries the HMAC-SHA256
    of its sha256 name and its bytes, keyed by the server's secret (``key()``: derived from the
    key kept in 令牌.json): a file anyone else wrote or changed is ignored, never unpickled, and
    the return is read again. Without a secret nothing is written to or read from disk.
    """

    MAC_BYTES = 32

    def __init__(self, folder: Path, key: Callable[[], bytes] | None = None):
        self.folder = folder
        self.mem: dict[str, RawBook | FileFailure] = {}
        self.lock = threading.Lock()
        self._key_source = key
        self._key = b""

    def key(self) -> bytes:
        if not self._key and self._key_source is not None:
            secret = self._key_source()
            if secret:
                self._key = hmac.new(secret, b"zg-excel serve book cache v1", hashlib.sha256).digest()
        return self._key

    def _mac(self, key: bytes, sha: str, payload: bytes) -> bytes:
        return hmac.new(key, sha.encode("ascii", "replace") + b"\0" + payload, hashlib.sha256).digest()

    def get(self, sha: str):
        got = self.mem.get(sha)
        if got is not None:
            return got
        key = self.key()
        if not key:
            return None
        path = self.folder / f"{sha}.pickle"
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        mac, payload = blob[:self.MAC_BYTES], blob[self.MAC_BYTES:]
        if len(mac) != self.MAC_BYTES or not hmac.compare_digest(mac, self._mac(key, sha, payload)):
            return None  # unsigned, tampered or another server's: never unpickled
        try:
            got = pickle.loads(payload)  # signed by this server: written by put() only
        except Exception:  # noqa: BLE001 - a signed file from an older version of the classes
            return None
        if not isinstance(got, (RawBook, FileFailure)):
            return None
        self.mem[sha] = got
        return got

    def put(self, sha: str, book) -> None:
        self.mem[sha] = book
        key = self.key()
        if not key:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        payload = pickle.dumps(book, protocol=pickle.HIGHEST_PROTOCOL)
        tmp = self.folder / f".{sha}.{secrets.token_hex(4)}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(self._mac(key, sha, payload) + payload)
        os.replace(tmp, self.folder / f"{sha}.pickle")  # replaces an unsigned or tampered file


@dataclass
class Entry:
    """One file of the inbox."""

    relpath: str
    size: int
    mtime_ns: int
    sha: str
    unit: str = ""  # as a merge would count it ('' = not a unit's return)

    @property
    def mtime(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.mtime_ns / 1e9).replace(microsecond=0)


@dataclass
class Outcome:
    """What happened to one uploaded file (the unit's result page renders it)."""

    name: str  # the client's file name, shown only
    size: int
    sha: str = ""
    accepted: bool = False
    reason: str = ""  # why it was refused
    stored: str = ""  # inbox relpath when accepted
    checked_as: str = ""  # the server's name of the file while it was checked (never shown)
    proof: str = ""  # a 台帐 proof file: its type (PDF / 图片 / Word/WPS文档 / OFD文档)
    proves: list[tuple[str, int, str]] = field(default_factory=list)  # (return, row, title) naming it
    proof_waiting: bool = False  # the unit has no return yet: it counts as its proof once one arrives
    check: FileCheck | None = None
    events: list[EventRow] = field(default_factory=list)
    months: list[tuple[int, int]] = field(default_factory=list)
    before: Fraction | None = None
    after: Fraction | None = None


@dataclass
class Snapshot:
    key: tuple
    result: Result
    entries: list[Entry]
    built: dt.datetime
    seconds: float


class Desk:
    """The server's view of one working folder."""

    def __init__(self, workdir: Path, settings: ServeSettings, *, year: int | None = None,
                 as_of: dt.date | None = None):
        self.ws = Workspace(Path(workdir))
        self.root = serve_dir(workdir)
        self.settings = settings
        self.fixed_year, self.fixed_as_of = year, as_of
        self.rules, self.roster, self.catalog = self.ws.load()
        self.units = [u.name for u in self.roster]
        self.cache = BookCache(Workspace(Path(workdir)).web_cache, key=lambda: _server_secret(Path(workdir)))
        self.staging = Workspace(Path(workdir)).web_staging
        self.audit_path = Workspace(Path(workdir)).web_audit_log
        self._sigs: dict[str, tuple[int, int, str]] = {}  # relpath -> (size, mtime_ns, sha)
        self._units: dict[tuple[str, str], str] = {}  # (relpath, sha) -> unit
        self._lock = threading.RLock()  # index and cache
        self._audit_lock = threading.Lock()
        self._store_lock = threading.Lock()
        self._snap: Snapshot | None = None
        self._snap_lock = threading.Lock()  # one rebuild at a time
        self._snap_thread: threading.Thread | None = None
        self.root.mkdir(parents=True, exist_ok=True)
        self.staging.mkdir(parents=True, exist_ok=True)
        self.ws.inbox.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------ period

    def period(self) -> tuple[int, dt.date]:
        return resolve_period(self.fixed_year, self.fixed_as_of)

    # ------------------------------------------------------------ inbox index

    def scan(self) -> list[Entry]:
        """Every inbox file with its hash, unit and book cached; only new or changed files are read."""
        inbox = self.ws.inbox
        paths = list_inbox(inbox, [self.ws.output]) if inbox.exists() else []
        year, _ = self.period()
        with self._lock:
            entries, todo = [], []
            for p in paths:
                rel = p.relative_to(inbox).as_posix()
                try:
                    st = p.stat()
                except OSError:
                    continue
                sig = self._sigs.get(rel)
                if sig is None or sig[0] != st.st_size or sig[1] != st.st_mtime_ns:
                    try:
                        sha = sha256(p.read_bytes())
                    except OSError:
                        continue
                    self._sigs[rel] = sig = (st.st_size, st.st_mtime_ns, sha)
                e = Entry(rel, sig[0], sig[1], sig[2])
                entries.append(e)
                if self.cache.get(e.sha) is None:
                    todo.append(p)
            if todo:
                from ..intake.worker import read_books

                by_path = {str(p): p for p in todo}
                for path, book in read_books(list(by_path), self.rules.limits):
                    rel = by_path[path].relative_to(inbox).as_posix()
                    self.cache.put(self._sigs[rel][2], book)
            for e in entries:
                e.unit = self._unit_of(e, year)
            return entries

    def _unit_of(self, e: Entry, year: int) -> str:
        key = (e.relpath, e.sha)
        got = self._units.get(key)
        if got is None:
            book = self.cache.get(e.sha)
            got = ""
            if isinstance(book, RawBook):
                from ..returns import read_return

                ret, _ = read_return(book, e.relpath, year=year, rules=self.rules, roster=self.roster,
                                     catalog=self.catalog, file_time=e.mtime)
                got = (ret.unit or "") if ret is not None else ""
            self._units[key] = got
        return got

    def items_of(self, entries: list[Entry]) -> list[tuple]:
        out = []
        for e in entries:
            book = self.cache.get(e.sha)
            if book is None:
                book = FileFailure(e.relpath, "crashed", "读取过程异常中断，未能读取")
            out.append((e.relpath, book, e.mtime))
        return out

    def score(self, items: list[tuple]) -> Result:
        year, as_of = self.period()
        return score_books(items, year=year, as_of=as_of, rules=self.rules, roster=self.roster,
                           catalog=self.catalog, workdir=self.ws.root, inbox=self.ws.inbox)

    def unit_entries(self, unit: str, entries: list[Entry] | None = None) -> list[Entry]:
        return [e for e in (entries if entries is not None else self.scan()) if e.unit == unit]

    def unit_total(self, unit: str, items: list[tuple]) -> Fraction:
        if not items:
            return Fraction(0)
        return self.score(items).unit(unit).total

    # ------------------------------------------------------------ uploads

    def receive(self, unit: str, files: list[tuple[str, bytes]], client: str) -> list[Outcome]:
        """Check each uploaded file for ``unit``; store the acceptable ones; log every one."""
        from ..intake.worker import read_books

        now = dt.datetime.now().replace(microsecond=0)
        outcomes: list[Outcome] = []
        proofs: list[tuple[Outcome, bytes]] = []  # 台帐 proof files: stored after the returns of the same upload
        staged: dict[str, tuple[Outcome, Path, str]] = {}  # staged path -> (outcome, path, ext)
        for name, data in files:
            shown = os.path.basename(name.replace("\\", "/"))[:200] or "（无文件名）"
            out = Outcome(name=shown, size=len(data))
            outcomes.append(out)
            if len(data) > self.settings.max_file_bytes:
                out.reason = (f"文件过大（{len(data) / 1048576:.1f} MB，上限 {self.settings.max_file_mb:g} MB），"
                              "请删除无关的工作表、图片后重新上传")
                continue
            out.sha = sha256(data)
            sniffed = sniff_bytes(data, shown)
            if sniffed.kind not in _EXT:  # the kinds the readers read; else perhaps a 台帐 proof file
                out.proof = sniff_proof(data[:16], shown) if sniffed.kind in ("not_spreadsheet", "corrupt") else ""
                if out.proof:
                    proofs.append((out, data))
                else:
                    out.reason = _SNIFF_ZH.get(sniffed.kind, _SNIFF_ZH["not_spreadsheet"])
                continue
            ext = _EXT[sniffed.kind]
            tmp = self.staging / f"{secrets.token_hex(12)}{ext}"
            with open(tmp, "xb") as fh:
                fh.write(data)
            staged[str(tmp)] = (out, tmp, ext)
        books: dict[str, object] = {}
        todo = []
        for key, (out, tmp, _) in staged.items():
            got = self.cache.get(out.sha)
            if got is not None:
                books[key] = got
            else:
                todo.append(key)
        if todo:
            books.update(dict(read_books(todo, self.rules.limits)))
        try:
            if staged:
                entries = self.scan()
                mine = self.unit_entries(unit, entries)
                mine_items = self.items_of(mine + self.proof_entries(unit, entries))  # [ledger] proof_required
                before = None
            for key, (out, tmp, ext) in staged.items():
                book = books.get(key) or FileFailure(key, "crashed", "读取过程异常中断，未能读取")
                if isinstance(book, RawBook):
                    self.cache.put(out.sha, book)
                relpath = self.ws.web_upload_relpath(unit, now.strftime("%Y%m%d-%H%M%S"), out.sha[:8], ext)
                self._check(unit, out, book, relpath, now)
                if out.reason:
                    continue
                if before is None:
                    before = self.unit_total(unit, mine_items)
                out.before = before
                out.after = self.unit_total(unit, [*mine_items, (relpath, book, now)])
                out.stored = self._store(tmp, relpath)
                out.accepted = True
                self._units[(out.stored, out.sha)] = unit
        finally:
            for _, tmp, _ in staged.values():
                try:
                    tmp.unlink()
                except FileNotFoundError:
                    pass
        if proofs:
            self._receive_proofs(unit, proofs)
        for out in outcomes:
            self._audit(unit, now, out, client)
        if any(o.accepted for o in outcomes):
            self.refresh_snapshot()
        return outcomes

    def _receive_proofs(self, unit: str, proofs: list[tuple[Outcome, bytes]]) -> None:
        """Store each 台帐 proof file (a type and size zg_excel.ledger accepts) as
        ``inbox/<unit>/台帐/<its own name>`` — the 证明材料 column names files by name — with （2）…
        when taken; then tell which rows of the unit's returns name it."""
        max_bytes = int(self.rules.max_proof_mb * 1048576)
        stored: list[Outcome] = []
        for out, data in proofs:
            if ProofFile(out.name, Path(out.name), unit, len(data), out.proof, max_bytes).too_large:
                out.reason = (f"台帐证明材料过大（{len(data) / 1048576:.1f} MB，上限 {self.rules.max_proof_mb:g} MB），"
                              "请压缩或分成几个文件后重新上传")
                continue
            name = proof_name(out.name, out.proof, data)
            tmp = self.staging / f"{secrets.token_hex(12)}{PurePosixPath(name).suffix}"
            with open(tmp, "xb") as fh:
                fh.write(data)
            try:
                out.stored = self._store(tmp, f"{safe_folder(unit)}/{PROOF_FOLDER}/{name}", numbered=True)
            finally:
                tmp.unlink(missing_ok=True)
            out.accepted = True
            stored.append(out)
        if not stored:
            return
        entries = self.scan()
        mine = self.unit_entries(unit, entries)
        if not mine:
            for out in stored:
                out.proof_waiting = True
            return
        result = self.score(self.items_of(mine + self.proof_entries(unit, entries)))
        by_path = {f.relpath: f for f in result.ledger.files}
        names = {r.relpath: r.relpath.rsplit("/", 1)[-1] for r in result.returns}
        for out in stored:
            f = by_path.get(out.stored)
            out.proves = [(names.get(ev.where[0], ev.where[0]), ev.line, ev.title or "") for ev in (f.rows if f else [])]

    def proof_entries(self, unit: str, entries: list[Entry] | None = None) -> list[Entry]:
        """The files in the unit's 台帐 folder of the inbox (proof files uploaded or dropped there)."""
        prefix = f"{safe_folder(unit)}/{PROOF_FOLDER}/"
        return [e for e in (entries if entries is not None else self.scan()) if e.relpath.startswith(prefix)]

    def _check(self, unit: str, out: Outcome, book, relpath: str, now: dt.datetime) -> None:
        result = self.score([(relpath, book, now)])
        fc = file_check(Path(relpath), out.name, result)
        out.check = fc
        out.checked_as = relpath
        if fc.status in (FAILED, SKIPPED):
            out.reason = fc.message or "无法读取"
        elif fc.status == REJECTED or fc.status != MERGED and not fc.unit:
            out.reason = fc.message or "未能识别为报送文件"
        elif fc.unit != unit:
            out.reason = (f"这个文件是“{fc.unit}”的报表，不能通过“{unit}”的链接报送。"
                          f"请使用下发给本单位（{unit}）的模板填报后重新上传；{fc.unit}的报表请由该单位用自己的链接上传")
        elif any(i.code == "unit_cell_mismatch" for i in fc.issues):
            out.reason = ("文件中的单位标识与表头“填报单位”不一致，不能确定是哪个单位的报表。"
                          "请把“填报单位”改为本单位全称，并确认使用的是本单位的模板")
        if not out.reason and result.returns:
            ret = result.returns[0]
            out.events = list(ret.events)
            out.months = sorted(ret.months)

    def _store(self, tmp: Path, relpath: str, *, numbered: bool = False) -> str:
        """Link the staged file into the inbox under ``relpath`` (a new name if taken: ``-2`` or,
        ``numbered``, ``（2）``); never overwrite."""
        target = self.ws.inbox / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        stem, suffix = target.stem, target.suffix
        fmt = "{stem}（{n}）{suffix}" if numbered else "{stem}-{n}{suffix}"
        with self._store_lock:
            n = 1
            while True:
                try:
                    os.link(tmp, target)
                    break
                except FileExistsError:
                    n += 1
                    target = target.with_name(fmt.format(stem=stem, n=n, suffix=suffix))
                except OSError:  # a file system without hard links: exclusive create, then copy
                    try:
                        with open(target, "xb") as dst, open(tmp, "rb") as src:
                            dst.write(src.read())
                        break
                    except FileExistsError:
                        n += 1
                        target = target.with_name(fmt.format(stem=stem, n=n, suffix=suffix))
        return target.relative_to(self.ws.inbox).as_posix()

    def _audit(self, unit: str, when: dt.datetime, out: Outcome, client: str) -> None:
        rec = {"time": when.isoformat(), "unit": unit, "client": client, "name": out.name, "size": out.size,
               "sha256": out.sha, "result": "accepted" if out.accepted else "refused",
               "stored": out.stored, "reason": out.reason, "kind": "台帐证明材料" if out.proof else "报表"}
        line = (json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8")
        with self._audit_lock:
            fd = os.open(self.audit_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)

    def audit_lines(self, unit: str | None = None) -> list[dict]:
        if not self.audit_path.exists():
            return []
        out = []
        with open(self.audit_path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if unit is None or rec.get("unit") == unit:
                    out.append(rec)
        return out

    # ------------------------------------------------------------ office snapshot

    def snapshot(self, *, wait: bool = False) -> tuple[Snapshot | None, bool]:
        """The last standings built and whether they are behind the inbox (one scan).

        When they are, a rebuild starts in the background (or runs here with ``wait``)."""
        entries = self.scan()
        key = (self.period(), tuple((e.relpath, e.sha) for e in entries))
        snap = self._snap
        if snap is None or snap.key != key:
            if wait:
                self._build(entries, key)
            else:
                self.refresh_snapshot()
        snap = self._snap
        return snap, snap is not None and snap.key != key

    def refresh_snapshot(self) -> None:
        t = self._snap_thread
        if t is not None and t.is_alive():
            self._again = True
            return
        self._again = False
        self._snap_thread = threading.Thread(target=self._rebuild_loop, name="zg-serve-snapshot", daemon=True)
        self._snap_thread.start()

    def _rebuild_loop(self) -> None:
        while True:
            entries = self.scan()
            key = (self.period(), tuple((e.relpath, e.sha) for e in entries))
            if self._snap is None or self._snap.key != key:
                self._build(entries, key)
            if not getattr(self, "_again", False):
                return
            self._again = False

    def _build(self, entries: list[Entry], key: tuple) -> None:
        with self._snap_lock:
            t0 = time.perf_counter()
            result = self.score(self.items_of(entries))
            self._snap = Snapshot(key=key, result=result, entries=entries,
                                  built=dt.datetime.now().replace(microsecond=0),
                                  seconds=time.perf_counter() - t0)

    def wait_snapshot(self, timeout: float = 60.0) -> None:
        t = self._snap_thread
        if t is not None:
            t.join(timeout)


# ---------------------------------------------------------------- merge

_MERGE_LOCK = threading.Lock()


class MergeBusy(Exception):
    """Another merge of this process is running."""


def run_merge(workdir: Path, *, year: int | None = None, as_of: dt.date | None = None) -> tuple[Result, list[Path]]:
    """The real merge with all its outputs, one at a time: this process's lock first (a second click
    is told at once), then the working folder's lock (``runlock.workspace_lock``: a merge started
    from the command line meanwhile). ``MergeBusy`` when either is held."""
    if not _MERGE_LOCK.acquire(blocking=False):
        raise MergeBusy("已有一次合并正在进行，请稍后再试")
    try:
        from ..merge import merge
        from ..outputs.write import write_outputs
        from ..runlock import LockBusy, workspace_lock

        ws = Workspace(Path(workdir))
        try:
            with workspace_lock(ws, wait=0, command="网页报送的合并"):
                result = merge(ws.root, year=year, as_of=as_of, loaded=ws.load())
                written = write_outputs(result, ws.output, bulletin_template=ws.bulletin_template())
        except LockBusy as exc:
            raise MergeBusy(f"工作目录正被另一次运行占用，请稍后再试：{exc}") from None
        return result, written
    finally:
        _MERGE_LOCK.release()


def latest_downloads(workdir: Path, year: int) -> dict[str, Path]:
    """The office's downloads: the year's summary workbook and the 通报 in output/ (fixed names, nothing else)."""
    ws = Workspace(Path(workdir))
    found: dict[str, Path] = {}
    for key, path in (("summary", ws.summary_path(year)), ("bulletin-docx", ws.bulletin_docx),
                      ("bulletin-txt", ws.bulletin_txt)):
        if path.is_file():
            found[key] = path
    return found


DOWNLOAD_ZH = {"summary": "考核汇总表（Excel）", "bulletin-docx": "通报（Word）", "bulletin-txt": "通报（文本）"}

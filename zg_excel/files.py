"""Atomic file writing: a temporary name beside the target (or in a staging folder), then a rename.

``atomic_open`` / ``atomic_write_bytes`` write a file and rename it over its
target only when the whole content is on disk; ``atomic_target`` gives writers
that take a file name (xlsxwriter) a temporary name beside the target. Every
temporary name starts with ``.~`` so a sweep can recognise leftovers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

TEMP_PREFIX = ".~"


def public_mode() -> int:
    """The mode an ordinary new file gets (mkstemp's 0600 would hide outputs from colleagues)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary name in the same folder, then rename over the target."""
    with atomic_open(path, binary=True) as fh:
        fh.write(data)


@contextlib.contextmanager
def atomic_open(path: Path, encoding: str = "utf-8", *, binary: bool = False):
    """A file written beside ``path`` (text, or bytes with ``binary``), on disk (fsync) and renamed
    over ``path`` when the block ends without error; removed otherwise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX + _short(path.name), suffix=".tmp", dir=path.parent)
    try:
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding=encoding, newline="\n")) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())  # on disk before it replaces the old file
        os.chmod(tmp, public_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_target(path: Path) -> str:
    """A temporary file name beside ``path`` for writers that take a file name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX + _short(path.stem), suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, public_mode())
    return tmp


def _short(name: str, limit: int = 40) -> str:
    """The start of ``name`` for a temporary name: a long unit name must not make it too long."""
    return name if len(name) <= limit else name[:limit]


# ------------------------------------------------------------------ one run, one output set

STAGING_PREFIX = ".zg-staging-"
_JOURNAL = ".commit.json"  # written when every staged file is complete: the set may be moved into place
_BACKUP = ".old"  # the previous files (hard links), for putting them back if a rename fails
NOT_UPDATED = "输出文件没有更新，原有的汇总表、通报仍是上一次的结果。"
COMMITTED: list[str] = []  # run ids whose output set this process has moved into place


class OutputError(Exception):
    """An output could not be written (file open in Excel/WPS, read-only folder, disk full).

    ``str()`` is the Chinese message for the user; the previous output set is intact
    unless the message says otherwise. A set-up problem: exit code 2."""

    exit_code = 2


def new_run_id() -> str:
    """``20261202T094001-1a2b3c``: when the run started, and 6 random hex digits."""
    import datetime as dt
    import secrets

    return f"{dt.datetime.now():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def sha256_file(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def os_error_reason(exc: OSError) -> str:
    """Why a system call failed, in Chinese (never the system's English ``strerror``)."""
    import errno

    reasons = {
        errno.EACCES: "没有访问权限", errno.EPERM: "没有访问权限", errno.ENOENT: "文件或文件夹不存在",
        errno.ENOTDIR: "路径中有一部分不是文件夹", errno.EISDIR: "这是一个文件夹", errno.ENOSPC: "磁盘空间不足",
        errno.EROFS: "文件夹是只读的", errno.EBUSY: "文件被占用", errno.ENAMETOOLONG: "文件名太长",
        errno.EIO: "磁盘读写出错（输入/输出错误）", errno.ELOOP: "链接层数过多（链接指向自身）",
        errno.EMFILE: "同时打开的文件太多", errno.ENFILE: "同时打开的文件太多", errno.EEXIST: "文件已存在",
        errno.ENOTEMPTY: "文件夹不是空的", errno.EINVAL: "参数无效", errno.EXDEV: "不能跨磁盘移动",
        errno.ENODEV: "设备不存在", errno.ENXIO: "设备不存在",
    }
    for name, text in (("EDQUOT", "磁盘配额已用完"), ("ETXTBSY", "文件被占用"), ("ESTALE", "网络文件已失效，请重新连接"),
                       ("ETIMEDOUT", "连接超时"), ("EHOSTDOWN", "网络主机不可用"), ("ENOTCONN", "网络连接已断开")):
        code = getattr(errno, name, None)
        if code is not None:
            reasons.setdefault(code, text)
    if exc.errno in reasons:
        return reasons[exc.errno]
    if isinstance(exc, PermissionError):
        return "没有访问权限"
    if isinstance(exc, FileNotFoundError):
        return "文件或文件夹不存在"
    return f"系统错误（错误码 {exc.errno}）" if exc.errno else "系统错误"


def describe_os_error(exc: OSError, path: Path | str | None = None) -> str:
    """The Chinese explanation of why ``path`` could not be written, and what to do."""
    import errno

    where = str(path if path is not None else (exc.filename or ""))
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return f"磁盘空间不足，无法写入 {where}：请清理磁盘空间后重新运行。"
    if exc.errno == errno.EROFS:
        return f"文件夹是只读的，无法写入 {where}：请换到可写的位置，或取消只读后重新运行。"
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EBUSY,
                                                         getattr(errno, "ETXTBSY", -1)):
        if where and os.path.isdir(where):
            return f"文件夹不能写入：{where}。请检查它是否只读或没有写入权限，改正后重新运行。"
        return (f"文件被占用或不能改写：{where}。如果它正在 Excel / WPS 中打开，请先关闭，"
                f"再重新运行（也请检查文件或文件夹是否只读）。")
    if exc.errno == errno.ENAMETOOLONG:
        return f"文件名太长，无法写入：{where}。"
    return f"无法写入 {where}：{os_error_reason(exc)}。"


def check_writable(folder: Path, targets: list[Path] = ()) -> None:
    """Raise ``OutputError`` unless ``folder`` can take new files and each existing ``targets`` file can be
    replaced (not open in Excel/WPS on Windows, not immutable). Changes nothing; run it before reading."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=TEMP_PREFIX + "probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(describe_os_error(exc, folder) + NOT_UPDATED) from None
    for target in targets:
        target = Path(target)
        if not target.is_file():
            continue
        try:
            fd = os.open(target, os.O_WRONLY | os.O_APPEND)  # writes nothing; fails if locked or immutable
            os.close(fd)
        except PermissionError as exc:
            st = target.stat()
            if os.name == "posix" and not st.st_mode & 0o222 and not _immutable(target):
                continue  # merely read-only: a rename over it still works on POSIX
            raise OutputError(describe_os_error(exc, target) + NOT_UPDATED) from None
        except OSError as exc:
            raise OutputError(describe_os_error(exc, target) + NOT_UPDATED) from None


def _immutable(path: Path) -> bool:
    """Linux: the file has the immutable or append-only attribute (``chattr +i`` / ``+a``)."""
    flags = getattr(os.stat(path), "st_flags", None)  # BSD/macOS
    if flags is not None:
        return bool(flags & 0x00020006)  # UF_IMMUTABLE | UF_APPEND | SF_IMMUTABLE
    try:
        import fcntl
        import struct

        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            buf = fcntl.ioctl(fd, 0x80086601, struct.pack("l", 0))  # FS_IOC_GETFLAGS
        finally:
            os.close(fd)
        return bool(struct.unpack("l", buf)[0] & (0x10 | 0x20))  # FS_IMMUTABLE_FL | FS_APPEND_FL
    except (ImportError, OSError):
        return False


class Staging:
    """Every output of one run goes to ``<output>/.zg-staging-<run_id>/`` (same file system), then
    :meth:`commit` renames each file over its target. Until then the previous set is untouched; a
    rename that fails puts back the files already moved. ``remove`` lists outputs of the previous
    run that this run replaces by nothing (a 退回单 of a unit that no longer has errors)."""

    def __init__(self, output: Path, run_id: str):
        self.output = Path(output)
        self.run_id = run_id
        self.dir = self.output / f"{STAGING_PREFIX}{run_id}"
        self.committed = False

    def __enter__(self) -> Staging:
        try:
            self.dir.mkdir(parents=True)
        except OSError as exc:
            raise OutputError(describe_os_error(exc, self.output) + NOT_UPDATED) from None
        return self

    def __exit__(self, kind, exc, tb) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        if exc is None or isinstance(exc, OutputError):
            return
        # a writer's own wrapper of the system error (xlsxwriter's FileCreateError) names its cause
        cause = exc if isinstance(exc, OSError) else (exc.__cause__ or exc.__context__
                                                      or (exc.args[0] if exc.args else None))
        if isinstance(cause, OSError):
            where = _user_path(self, os.fsdecode(cause.filename)) if cause.filename else self.output
            raise OutputError(describe_os_error(cause, where) + NOT_UPDATED) from exc

    def path(self, final: Path) -> Path:
        """Where the staged copy of ``final`` (a path inside the output folder) is written."""
        return self.dir / Path(final).relative_to(self.output)

    @property
    def tmpdir(self) -> Path:
        """For writers' own scratch files (xlsxwriter): removed with the staging folder."""
        d = self.dir / ".tmp"
        d.mkdir(exist_ok=True)
        return d

    def staged(self) -> list[Path]:
        """The staged outputs (relative paths), scratch and bookkeeping files left out."""
        out = []
        for dirpath, dirnames, filenames in os.walk(self.dir):
            dirnames[:] = sorted(d for d in dirnames if d not in (".tmp", _BACKUP))
            for name in sorted(filenames):
                if name != _JOURNAL and not name.startswith(TEMP_PREFIX):
                    out.append((Path(dirpath) / name).relative_to(self.dir))
        return out

    def commit(self, remove: list[Path] = ()) -> list[Path]:
        """Move the staged set into place; return the final paths. ``OutputError`` leaves the old set."""
        rels = self.staged()
        removals = [Path(p).relative_to(self.output) for p in remove if Path(p).is_file()]
        targets = [self.output / r for r in rels]
        check_writable(self.output, [t for t in targets if t.parent == self.output])
        for folder in sorted({t.parent for t in targets + [self.output / r for r in removals]} - {self.output}):
            check_writable(folder, [t for t in targets if t.parent == folder])
        backup = self.dir / _BACKUP
        try:
            for rel in (*rels, *removals):
                old = self.output / rel
                if old.is_file():
                    (backup / rel).parent.mkdir(parents=True, exist_ok=True)
                    _link_or_copy(old, backup / rel)
            _write_journal(self.dir / _JOURNAL, rels, removals)
        except OSError as exc:
            raise OutputError(describe_os_error(exc) + NOT_UPDATED) from None
        done: list[Path] = []
        with _signals_held():
            try:
                for rel in rels:
                    (self.output / rel).parent.mkdir(parents=True, exist_ok=True)
                    os.replace(self.dir / rel, self.output / rel)
                    done.append(rel)
                for rel in removals:
                    os.unlink(self.output / rel)
                    done.append(rel)
            except OSError as exc:
                failed = exc.filename or ""
                _roll_back(self.output, backup, done, rels)
                with contextlib.suppress(OSError):
                    os.unlink(self.dir / _JOURNAL)
                raise OutputError(describe_os_error(exc, _user_path(self, failed)) + NOT_UPDATED) from None
            with contextlib.suppress(OSError):
                os.unlink(self.dir / _JOURNAL)
            self.committed = True
            COMMITTED.append(self.run_id)  # before a held-back SIGTERM is delivered: the CLI says so
        return targets


def _user_path(staging: Staging, name: str) -> str:
    """The output path a user knows for a failed rename (not the staging copy)."""
    try:
        return str(staging.output / Path(name).relative_to(staging.dir))
    except ValueError:
        return name


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)  # file systems without hard links (FAT on a USB stick)


def _write_journal(path: Path, rels: list[Path], removals: list[Path]) -> None:
    import json

    data = json.dumps({"move": [r.as_posix() for r in rels], "remove": [r.as_posix() for r in removals]})
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _roll_back(output: Path, backup: Path, done: list[Path], rels: list[Path]) -> None:
    """Put back the previous files over those already replaced or removed."""
    for rel in reversed(done):
        try:
            if (backup / rel).is_file():
                os.replace(backup / rel, output / rel)
            elif rel in rels:
                os.unlink(output / rel)  # new file where there was none
        except OSError:
            pass


@contextlib.contextmanager
def _signals_held():
    """SIGINT/SIGTERM wait until the renames are done (POSIX, main thread); elsewhere a no-op."""
    import signal
    import threading

    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    old = mask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, old)


def recover_output(output: Path, *, subfolders: tuple[str, ...] = ()) -> list[str]:
    """Clean what killed runs left in ``output`` (call it holding the working-folder lock).

    A staging folder whose journal is complete was killed while moving its files into place: the
    move is finished (the set becomes wholly the new one). Any other staging folder is removed, as are
    ``.~`` temporary files in ``output`` and its ``subfolders``. Returns the names cleaned."""
    import json

    output = Path(output)
    cleaned: list[str] = []
    if not output.is_dir():
        return cleaned
    for entry in sorted(output.iterdir()):
        if entry.name.startswith(STAGING_PREFIX) and entry.is_dir():
            journal = entry / _JOURNAL
            if journal.is_file():
                try:
                    plan = json.loads(journal.read_text(encoding="utf-8"))
                    for rel in plan.get("move", []):
                        if (entry / rel).is_file():
                            (output / rel).parent.mkdir(parents=True, exist_ok=True)
                            os.replace(entry / rel, output / rel)
                    for rel in plan.get("remove", []):
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(output / rel)
                except (OSError, ValueError):
                    pass
            shutil.rmtree(entry, ignore_errors=True)
            cleaned.append(entry.name)
    for folder in (output, *(output / s for s in subfolders)):
        cleaned += sweep_temp_files(folder)
    return cleaned


def sweep_temp_files(folder: Path) -> list[str]:
    """Remove the ``.~`` temporary files directly in ``folder`` (left by killed runs; call it holding
    the working-folder lock, so no live writer owns them). Returns their names."""
    cleaned: list[str] = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return cleaned
    for entry in entries:
        if entry.name.startswith(TEMP_PREFIX) and entry.is_file():
            with contextlib.suppress(OSError):
                entry.unlink()
                cleaned.append(entry.name)
    return cleaned

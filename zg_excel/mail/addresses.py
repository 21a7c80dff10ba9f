"""Text and address hygiene: nothing from a workbook, a roster or a template reaches a header unchecked.

:func:`header_text` makes one safe header line (control characters removed);
:func:`parse_address` accepts exactly one conservative ASCII address, so a
crafted unit name or email cell cannot add a header or a recipient.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import parseaddr
from typing import Iterable

from .errors import AddressError

# C0 and C1 controls (tab handled separately), DEL, line/paragraph
# separators, the BOM and lone surrogates: nothing of this may reach a header.
_CONTROL_RE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]")
_SPACES_RE = re.compile(r"[ \t]+")


def header_text(value: object) -> str:
    """``value`` as one safe header line: control characters (CR, LF, NUL, …) removed.

    Tabs become spaces; leading and trailing whitespace is stripped. Used on
    everything that may end up in a header or a file name. (Unlike
    :func:`zg_excel.values.clean_text` it keeps inner runs of spaces and
    drops line breaks rather than turning them into spaces.)
    """
    text = "" if value is None else str(value)
    text = text.replace("\t", " ")
    text = _CONTROL_RE.sub("", text)
    return text.strip()


def one_line(text: str) -> str:
    """Join a (rendered) multi-line text into one clean line."""
    lines = [line.strip() for line in str(text).splitlines()]
    joined = " ".join(line for line in lines if line)
    return _SPACES_RE.sub(" ", header_text(joined))


def decode_text(raw: bytes) -> str:
    """UTF-8 (with or without BOM); files saved as ANSI on Chinese Windows
    are GBK, so fall back to GB18030."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


_LOCAL_ATOM = r"[A-Za-z0-9_%+\-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_ADDR_RE = re.compile(
    rf"{_LOCAL_ATOM}(?:\.{_LOCAL_ATOM})*@(?:{_LABEL}\.)+[A-Za-z](?:[A-Za-z0-9\-]{{0,61}}[A-Za-z0-9])"
)
_SEPARATORS = ",;"


@dataclass(frozen=True)
class Mailbox:
    """One validated address, with an optional (clean) display name."""

    addr: str
    name: str = ""

    @property
    def key(self) -> str:
        return self.addr.lower()

    def header(self) -> Address:
        return Address(display_name=self.name, addr_spec=self.addr)

    def __str__(self) -> str:
        return f"{self.name} <{self.addr}>" if self.name else self.addr


def parse_address(text: object, name: str = "") -> Mailbox:
    """Validate one address (``a@b.cn`` or ``张三 <a@b.cn>``).

    Full-width characters typed with a Chinese input method (＠, ．) are
    normalised first. Anything with CR/LF/NUL, a comma or semicolon (two
    addresses), non-ASCII in the address itself or a shape outside a
    conservative syntax raises :class:`AddressError`. ``name`` is a fallback
    display name (e.g. the unit's name).
    """
    if not isinstance(text, str):
        raise AddressError(f"邮箱地址应为文字，实际为：{text!r}")
    raw = unicodedata.normalize("NFKC", text)
    shown = header_text(raw) or "（空）"
    if any(ch in raw for ch in "\r\n\x00"):
        raise AddressError(f"邮箱地址中含有换行或控制字符，已拒绝：{shown}")
    if _CONTROL_RE.search(raw.replace("\t", " ")):
        raise AddressError(f"邮箱地址中含有控制字符，已拒绝：{shown}")
    raw = raw.strip()
    if not raw:
        raise AddressError("邮箱地址为空")
    if any(ch in raw for ch in _SEPARATORS) or "、" in raw:
        raise AddressError(f"一处只能写一个邮箱地址，多个地址请分开填写：{shown}")
    display, addr = parseaddr(raw)
    addr = addr.strip()
    if (
        not addr
        or len(addr) > 254
        or addr not in raw
        or not _ADDR_RE.fullmatch(addr)
    ):
        raise AddressError(f"邮箱地址格式不对：{shown}")
    # Whatever is not the address must be a display name in front of <addr>.
    if raw != addr and not raw.endswith(f"<{addr}>"):
        raise AddressError(f"邮箱地址格式不对：{shown}")
    display = header_text(display) or header_text(name)
    return Mailbox(addr=addr, name=display)


_LIST_SPLIT_RE = re.compile(r"[,;、/]+")


def parse_address_list(text: object, name: str = "") -> tuple[list[Mailbox], list[str]]:
    """Split a roster's email cell into addresses: ``(good, bad)``.

    Units often write two addresses in one cell (``a@qq.com；b@163.com``);
    they are split on commas, semicolons, 、 and whitespace (full-width too).
    A cell with CR/LF/NUL, or with any piece that is not an address, is
    rejected as a whole (``good`` empty): a part of it is never used.
    ``bad`` holds the rejected pieces, cleaned for display.
    """
    if text is None:
        return [], []
    raw = unicodedata.normalize("NFKC", str(text))
    if not raw.strip():
        return [], []
    if any(ch in raw for ch in "\r\n\x00"):
        return [], [header_text(raw)]
    if not re.search(r"[,;、/]", raw):
        try:  # one address, possibly with a name: 张三 <a@b.cn>
            return [parse_address(raw, name=name)], []
        except AddressError:
            pass
    good: list[Mailbox] = []
    bad: list[str] = []
    seen: set[str] = set()
    for chunk in _LIST_SPLIT_RE.split(raw):
        try:  # 张三 <a@b.cn> between separators
            boxes = [parse_address(chunk, name=name)] if chunk.strip() else []
        except AddressError:
            boxes = []
            for piece in chunk.split():  # addresses separated by spaces only
                try:
                    boxes.append(parse_address(piece, name=name))
                except AddressError:
                    bad.append(header_text(piece))
        for box in boxes:
            if box.key not in seen:
                seen.add(box.key)
                good.append(box)
    if bad:  # never send to a part of a cell that is not a clean list of addresses
        return [], bad
    return good, bad


def as_mailboxes(values: Iterable[object] | None) -> list[Mailbox]:
    """``values`` (addresses or :class:`Mailbox`) validated, without repeats, in order."""
    out: list[Mailbox] = []
    seen: set[str] = set()
    for value in values or ():
        box = value if isinstance(value, Mailbox) else parse_address(value)
        if box.key not in seen:
            seen.add(box.key)
            out.append(box)
    return out


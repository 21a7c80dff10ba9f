"""Decide what a file is from its bytes, never from its name.

Units rename files freely: a web export saved as ``.xls`` is HTML, a CSV is
renamed ``.xlsx``, a real ``.xls`` arrives as ``.xlsx``, WPS writes ``.et``.
``zipfile.is_zipfile()`` is not a sniffer either (it says True for a CFB
``.xls`` that embeds a theme zip), so the leading bytes decide:

* ``PK\\x03\\x04`` — a zip: xlsx / xlsm / xlsb (OOXML, found through
  ``_rels/.rels``), ods (``mimetype``), Apple Numbers (``Index/*.iwa``).
* ``D0 CF 11 E0 A1 B1 1A E1`` — a CFB compound file: ``EncryptionInfo`` /
  ``EncryptedPackage`` = a password-encrypted OOXML (xlsx/xlsm/xlsb);
  ``Workbook`` / ``Book`` = legacy xls (BIFF5/8), itself encrypted when its
  globals carry a FILEPASS record.
* ``09 00`` / ``09 02`` / ``09 04`` — a raw BIFF2-4 worksheet stream.
* ``<`` — HTML or XML (web "Excel" exports, SpreadsheetML 2003, flat ODS).
* ``%PDF-`` and image signatures — not a spreadsheet, named as such (``pdf``, ``image``).
* otherwise text (CSV / tab-separated, UTF-8, UTF-16 or GBK) or junk.

Everything here works on bytes already in memory and never parses a
workbook; the readers do that after these checks pass.
"""

from __future__ import annotations

import io
import os
import re
import struct
import zipfile
from dataclasses import dataclass

ZIP_MAGIC = b"PK\x03\x04"
ZIP_EMPTY_MAGIC = b"PK\x05\x06"  # end-of-central-directory first: an empty archive
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# BOF record of a raw (not CFB-wrapped) BIFF2 / BIFF3 / BIFF4 / BIFF5 stream
BIFF_RAW_BOF = (b"\x09\x00", b"\x09\x02", b"\x09\x04", b"\x09\x08")

# Extensions under which a unit sends a return; anything else that is not a
# spreadsheet is a stray file in the inbox and is skipped, not an error.
SPREADSHEET_EXTENSIONS = frozenset(
    {".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlt", ".xlsb", ".et", ".ett",
     ".ods", ".fods", ".csv", ".tsv", ".xls5", ".numbers", ".htm", ".html", ".xml"}
)


@dataclass
class Sniffed:
    """What the bytes say.

    ``kind`` is a readable format (``xlsx xlsm xlsb ods xls biff text``) or a
    failure code (``empty lock_file encrypted numbers html corrupt
    not_spreadsheet``). ``detail`` names what was seen, for messages and
    tests (e.g. ``word``, ``spreadsheetml2003``, ``ooxml-encrypted``).
    ``zip`` is the opened archive for zip kinds, so it is not opened twice.
    """

    kind: str
    detail: str = ""
    zip: zipfile.ZipFile | None = None


def is_lock_file_name(name: str) -> bool:
    """Office / WPS owner files (``~$book.xlsx``) and LibreOffice locks (``.~lock.book.xlsx#``)."""
    base = os.path.basename(name)
    return base.startswith("~$") or (base.startswith(".~lock.") and base.endswith("#"))


def looks_like_owner_file(data: bytes) -> bool:
    """The 165-byte Excel owner file: length byte + ANSI user name padded to 54
    bytes, then a UTF-16LE length + the same name."""
    if not 150 <= len(data) <= 180:
        return False
    n = data[0]
    if n == 0 or n > 53:
        return False
    if any(b < 0x20 and b not in (0x09,) for b in data[1:1 + n]):
        return False
    (wlen,) = struct.unpack_from("<H", data, 54)
    if wlen == 0 or 56 + 2 * wlen > len(data):
        return False
    try:
        data[56:56 + 2 * wlen].decode("utf-16-le")
    except UnicodeDecodeError:
        return False
    return True


def sniff_bytes(data: bytes, name: str = "") -> Sniffed:
    """Classify a whole file held in memory. ``name`` is only used for lock files
    and to tell a stray non-spreadsheet file from a broken return."""
    if name and is_lock_file_name(name):
        return Sniffed("lock_file", "name")
    if not data:
        return Sniffed("empty")
    head = data[:8]
    if head.startswith(ZIP_MAGIC):
        return _sniff_zip(data, name)
    if head.startswith(ZIP_EMPTY_MAGIC):
        return Sniffed("corrupt", "empty-zip")
    if head == CFB_MAGIC:
        return _sniff_cfb(data, name)
    if head[:2] in BIFF_RAW_BOF and len(data) >= 4 and struct.unpack_from("<H", data, 2)[0] in (4, 6, 8, 16):
        return Sniffed("biff", "raw-biff")
    if looks_like_owner_file(data):
        return Sniffed("lock_file", "owner-file")
    if data.startswith(b"%PDF-"):  # mostly text in its first bytes: named for what it is, not 纯文本
        return Sniffed("not_spreadsheet", "pdf")
    if is_image(data):
        return Sniffed("not_spreadsheet", "image")
    return _sniff_text(data, name)


def is_image(data: bytes) -> bool:
    """PNG, JPEG, GIF, BMP (its header's size = the file's: a text may start with "BM"), TIFF or WebP."""
    return (data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")) or data[:6] in (b"GIF87a", b"GIF89a")
            or (data.startswith(b"BM") and len(data) >= 26 and data[6:10] == b"\0\0\0\0"
                and int.from_bytes(data[2:6], "little") == len(data)) or data[:4] in (b"II*\x00", b"MM\x00*")
            or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"))


def claims_spreadsheet(name: str) -> bool:
    """True when the file name says it is a return (so junk inside is an error)."""
    return os.path.splitext(name)[1].lower() in SPREADSHEET_EXTENSIONS


# --------------------------------------------------------------------- zip ---

_REL_OFFICE_DOC = re.compile(
    rb"<(?:\w+:)?Relationship\b[^>]*?Type=\"[^\"]*/officeDocument\"[^>]*>", re.S)
_TARGET = re.compile(rb"\bTarget=\"([^\"]*)\"")


def office_document_part(zf: zipfile.ZipFile, names: set[str]) -> str | None:
    """The main part named by ``_rels/.rels`` (``xl/workbook.xml`` normally)."""
    if "_rels/.rels" in names:
        try:
            info = zf.getinfo("_rels/.rels")
            if info.file_size <= 1 << 20:
                rels = zf.read(info)
                m = _REL_OFFICE_DOC.search(rels)
                if m:
                    t = _TARGET.search(m.group(0))
                    if t:
                        target = t.group(1).decode("utf-8", "replace").lstrip("/")
                        if target in names:
                            return target
        except (zipfile.BadZipFile, KeyError, OSError, EOFError, RuntimeError, ValueError):
            pass
    for cand in ("xl/workbook.xml", "xl/workbook.bin"):
        if cand in names:
            return cand
    return None


def _small_member(zf: zipfile.ZipFile, name: str, limit: int = 1 << 20) -> bytes:
    try:
        info = zf.getinfo(name)
        if info.file_size > limit:
            return b""
        return zf.read(info)
    except Exception:  # noqa: BLE001 - a broken member only means "not this kind"
        return b""


def _sniff_zip(data: bytes, name: str) -> Sniffed:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, struct.error,
            NotImplementedError, UnicodeDecodeError):
        return Sniffed("corrupt", "bad-zip")
    # OOXML first: it is the common case
    main = office_document_part(zf, names)
    if main is not None:
        if main.endswith(".bin"):
            return Sniffed("xlsb", "ooxml", zf)
        ct = _small_member(zf, "[Content_Types].xml")
        if b"sheet.macroEnabled.main+xml" in ct or any(n.endswith("vbaProject.bin") for n in names):
            return Sniffed("xlsm", "ooxml", zf)
        if b"wordprocessingml" in ct and b"spreadsheetml" not in ct:
            return Sniffed("not_spreadsheet", "word", zf)
        if b"presentationml" in ct and b"spreadsheetml" not in ct:
            return Sniffed("not_spreadsheet", "powerpoint", zf)
        return Sniffed("xlsx", "ooxml", zf)
    if "mimetype" in names:
        mt = _small_member(zf, "mimetype", 4096).strip()
        if mt.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
            return _ods_or_encrypted(zf)
        if mt.startswith(b"application/vnd.oasis.opendocument"):
            return Sniffed("not_spreadsheet", "opendocument", zf)
    if "content.xml" in names and "META-INF/manifest.xml" in names:
        man = _small_member(zf, "META-INF/manifest.xml")
        if b"opendocument.spreadsheet" in man:
            return _ods_or_encrypted(zf)
    if "Index.zip" in names or any(n.startswith("Index/") and n.endswith(".iwa") for n in names):
        return Sniffed("numbers", "numbers", zf)
    if "word/document.xml" in names:
        return Sniffed("not_spreadsheet", "word", zf)
    if any(n.startswith("ppt/") for n in names):
        return Sniffed("not_spreadsheet", "powerpoint", zf)
    if "[Content_Types].xml" in names or claims_spreadsheet(name):
        # looks like it wanted to be a workbook, but the workbook part is missing
        return Sniffed("corrupt", "no-workbook-part", zf)
    return Sniffed("not_spreadsheet", "zip", zf)


def _ods_or_encrypted(zf: zipfile.ZipFile) -> Sniffed:
    man = _small_member(zf, "META-INF/manifest.xml")
    if b"encryption-data" in man:
        return Sniffed("encrypted", "ods-encrypted", zf)
    return Sniffed("ods", "odf", zf)


# --------------------------------------------------------------------- cfb ---

_ENC_NAMES = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))


def _sniff_cfb(data: bytes, name: str) -> Sniffed:
    streams: list[str] | None = None
    ole = None
    try:
        import olefile  # a dependency of msoffcrypto-tool

        ole = olefile.OleFileIO(io.BytesIO(data))
        streams = ["/".join(p) for p in ole.listdir(streams=True, storages=False)]
    except Exception:  # noqa: BLE001 - fuzzed CFB headers make olefile raise anything
        streams = None
    if streams is None:
        # directory entries hold UTF-16LE names: a byte search still finds them
        if any(n in data for n in _ENC_NAMES):
            return Sniffed("encrypted", "ooxml-encrypted")
        return Sniffed("xls", "cfb-unparsed")  # let the readers try, then call it corrupt
    lower = {s.lower(): s for s in streams}
    try:
        if "encryptioninfo" in lower or "encryptedpackage" in lower:
            return Sniffed("encrypted", "ooxml-encrypted")
        book = lower.get("workbook") or lower.get("book")
        if book is not None:
            try:
                with ole.openstream(book) as st:
                    globals_ = st.read(1 << 16)
            except Exception:  # noqa: BLE001
                globals_ = b""
            if biff_has_filepass(globals_):
                return Sniffed("encrypted", "xls-encrypted")
            return Sniffed("xls", "biff8" if lower.get("workbook") else "biff5")
        if "worddocument" in lower:
            return Sniffed("not_spreadsheet", "word")
        if "powerpoint document" in lower:
            return Sniffed("not_spreadsheet", "powerpoint")
        if claims_spreadsheet(name):
            return Sniffed("corrupt", "cfb-no-workbook")
        return Sniffed("not_spreadsheet", "cfb")
    finally:
        try:
            ole.close()
        except Exception:  # noqa: BLE001
            pass


def biff_has_filepass(stream: bytes, max_records: int = 4096) -> bool:
    """True if the workbook globals (up to their EOF record) contain FILEPASS
    (0x002F), i.e. the xls has an open password (RC4, CryptoAPI or XOR)."""
    pos = 0
    n = len(stream)
    for _ in range(max_records):
        if pos + 4 > n:
            return False
        rtype, rlen = struct.unpack_from("<HH", stream, pos)
        if rtype == 0x002F:
            return True
        if rtype == 0x000A:  # EOF of the globals substream
            return False
        pos += 4 + rlen
    return False


# -------------------------------------------------------------------- text ---

_MARKUP_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<")


def _sniff_text(data: bytes, name: str) -> Sniffed:
    sample = data[:8192]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = sample.decode("utf-16")
        except UnicodeDecodeError:
            text = ""
        if text.lstrip("\ufeff \t\r\n").startswith("<"):
            return _markup_kind(text.encode("utf-8", "replace"))
        return Sniffed("text", "utf-16")
    if _MARKUP_START.match(sample):
        return _markup_kind(sample)
    if b"\x00" in sample:
        return Sniffed("not_spreadsheet", "binary")
    # text if (almost) every byte is printable in UTF-8 or GB18030
    for enc in ("utf-8", "gb18030"):
        try:
            text = sample.decode(enc)
        except UnicodeDecodeError as e:
            # the sample may cut a multi-byte character in two at its end
            if e.start < len(sample) - 4:
                continue
            text = sample[:e.start].decode(enc, "replace")
        if _mostly_printable(text):
            return Sniffed("text", enc)
    return Sniffed("not_spreadsheet", "binary")


def _mostly_printable(text: str) -> bool:
    if not text:
        return False
    bad = sum(1 for ch in text if ch < " " and ch not in "\t\r\n\x0c")
    return bad <= len(text) // 100


def _markup_kind(sample: bytes) -> Sniffed:
    low = sample[:8192].lower()
    if b"urn:schemas-microsoft-com:office:spreadsheet" in low and b"<workbook" in low:
        return Sniffed("html", "spreadsheetml2003")
    if b"opendocument" in low and b"office:document" in low:
        return Sniffed("html", "flat-ods")
    if b"<html" in low or b"<table" in low or b"<!doctype html" in low:
        return Sniffed("html", "html")
    return Sniffed("html", "xml")

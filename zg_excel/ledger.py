"""The 台帐 (method §六.3): every 市级以上 adoption with its proof — the one owner of proof matching.

A unit fills three optional columns of 录用登记 (期号版面, 链接, 证明材料) and sends
its proof files (电子稿, scans, screenshots) with its return. :func:`classify` tells,
among the inbox files that are not workbooks, which are proof files and whose;
:func:`match` pairs each scored 市级以上 row with its proof: (a) a file named in
证明材料 found among the unit's proof files (exact name, then case- and
width-insensitive, then without the extension), (b) a link, (c) 期号版面.

Which rows need proof: scored 采用 / 综合 rows of a 市级以上 outlet (the level of
the catalog): the method asks for the 复印件 or 电子稿 of "市级以上党报、党刊及网站等
媒体录用的稿件". 批示 rows are matched too (the 台帐 lists them with the 批示件 when
sent) but a missing proof is never noted nor scored for them.

A row without proof gets one 提示 (``MISSING``); with ``[ledger] proof_required`` a
positive row also scores 0, said in its 计分说明 (a negative row keeps its deduction:
a missing proof never lifts a penalty). Proof files are read only for their
name, size and first bytes (their type); never parsed, never modified.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path, PurePosixPath

from .issues import INFO, Issue
from .model import SCORED, EventRow, Return
from .roster import Roster
from .rules import Rules

LEDGER_FILE = "台帐材料"  # the FileReport status of a proof file
MISSING = "ledger_missing"  # issue code: a 市级以上 row without proof
NOT_FOUND = "ledger_file_not_found"  # issue code: a named proof file not among the unit's files
ENDORSEMENT = "批示"

# Proof types: by magic bytes; the extension only tells a Word/WPS document from a workbook of the same container.
PROOF_SUFFIXES = frozenset({".pdf", ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp",
                            ".doc", ".docx", ".wps", ".ofd"})
_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"


def sniff_proof(head: bytes, name: str) -> str:
    """The proof type of a file from its first bytes ('' when it is none): PDF, 图片, Word/WPS文档, OFD."""
    suffix = PurePosixPath(name).suffix.lower()
    if head.startswith(b"%PDF-"):
        return "PDF"
    if (head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")) or head[:6] in (b"GIF87a", b"GIF89a")
            or (head.startswith(b"BM") and len(head) >= 14) or head[:4] in (b"II*\x00", b"MM\x00*")
            or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")):
        return "图片"
    if head.startswith(_CFB) and suffix in (".doc", ".wps"):
        return "Word/WPS文档"
    if head.startswith(_ZIP) and suffix in (".docx", ".wps"):
        return "Word/WPS文档"
    if head.startswith(_ZIP) and suffix == ".ofd":
        return "OFD文档"
    return ""


def _loose(name: str) -> str:
    """Case- and width-insensitive form of a file name (full-width letters, digits and dots as ASCII)."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


def _stem(name: str) -> str:
    loose = _loose(name)
    stem, dot, _ = loose.rpartition(".")
    return stem if dot and stem else loose


@dataclass(eq=False)
class ProofFile:
    """One proof file of the inbox: name, size and type only."""

    relpath: str  # relative to the inbox, as listed everywhere
    path: Path
    unit: str  # whose files it is among
    size: int = 0
    kind: str = ""  # '' when it is not a proof type
    max_bytes: int = 0
    rows: list[EventRow] = field(default_factory=list)  # the rows it proves

    @property
    def name(self) -> str:
        return PurePosixPath(self.relpath).name

    @property
    def too_large(self) -> bool:
        return self.size > self.max_bytes

    @property
    def usable(self) -> bool:
        return bool(self.kind) and not self.too_large

    @property
    def problem(self) -> str:
        """Why it is not copied ('' when it is)."""
        if not self.kind:
            return "不是PDF、图片或Word/WPS文档，未复制"
        if self.too_large:
            return f"文件大小{self.size / 1048576:.1f}MB，超过上限{self.max_bytes / 1048576:g}MB，未复制"
        return ""


@dataclass(eq=False, slots=True)
class Proof:  # one per 市级以上 row: hundreds of thousands in a large year, so no __dict__
    """What proves one row: its files found, its link, its 期号版面."""

    row: EventRow
    files: list[ProofFile] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # names in 证明材料 not found among the unit's files

    @property
    def usable_files(self) -> list[ProofFile]:
        return [f for f in self.files if f.usable]

    @property
    def found(self) -> bool:
        return bool(self.usable_files or self.row.link or self.row.issue_page)

    @property
    def needed(self) -> bool:
        return self.row.form != ENDORSEMENT


@dataclass
class Ledger:
    """The proof of every scored 市级以上 row, and every proof file of the inbox."""

    files: list[ProofFile] = field(default_factory=list)
    proofs: dict[int, Proof] = field(default_factory=dict)  # id(row) → its proof (rows are not hashable)

    def of(self, row: EventRow) -> Proof | None:
        got = self.proofs.get(id(row))
        return got if got is not None and got.row is row else None

    def unmatched(self) -> list[ProofFile]:
        return [f for f in self.files if not f.rows]


def is_candidate(relpath: str, code: str) -> bool:
    """Whether a file the intake did not read as a workbook may be a proof file (decided by :func:`classify`):
    one it found not to be a spreadsheet, or a damaged / empty one (a proof type it does not know)."""
    return code in ("not_spreadsheet", "empty", "corrupt", "html", "xml")


def _head(path: Path) -> tuple[int, bytes]:
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
            return os.fstat(fh.fileno()).st_size, head
    except OSError:
        return -1, b""


def classify(candidates: list[str], returns: list[Return], roster: Roster, inbox: Path,
             rules: Rules, paths: dict[str, Path] | None = None) -> dict[str, ProofFile]:
    """The proof files among ``candidates`` (inbox-relative paths of files not read as workbooks).

    A file is a unit's proof file when it lies in a folder named for the unit
    (``inbox/峡窝镇党委/…``), or beside the returns of that unit only, or beside
    several units' returns with the unit's name in its file name or its name in
    a 证明材料 cell of that unit — of a unit that sent a return. Anything else (a
    lone ``.doc`` named by no row, a unit's only file) is not a proof file: the
    caller reports it as before. ``paths`` gives the real path of a candidate that is not
    ``inbox / relpath`` (``check`` of files from several folders).
    """
    dirs: dict[str, set[str]] = {}  # folder (inbox-relative, '' = inbox) → units with a return there
    named: dict[str, set[str]] = {}  # loose file name → units whose rows name it
    for r in returns:
        if not r.unit:
            continue
        dirs.setdefault(_parent(r.relpath), set()).add(r.unit)
        for ev in r.events:
            for n in ev.proof_files:
                named.setdefault(_loose(PurePosixPath(n.replace("\\", "/")).name), set()).add(r.unit)
                named.setdefault("\0" + _stem(PurePosixPath(n.replace("\\", "/")).name), set()).add(r.unit)
    returned = {u for units in dirs.values() for u in units}
    max_bytes = int(rules.max_proof_mb * 1048576)
    out: dict[str, ProofFile] = {}
    for rel in candidates:
        p = PurePosixPath(rel)
        parent = _parent(rel)
        unit = _folder_unit(p, roster)
        if unit is None:
            here = dirs.get(parent, set())
            if len(here) == 1:
                unit = next(iter(here))
            elif here:
                by_name = roster.find_in(p.stem)
                naming = (named.get(_loose(p.name), set()) | named.get("\0" + _stem(p.name), set())) & here
                if by_name is not None and by_name.name in here:
                    unit = by_name.name
                elif len(naming) == 1:
                    unit = next(iter(naming))
        if unit is None or unit not in returned:
            continue  # a unit that sent no return: its lone document is reported as before (not a spreadsheet)
        real = (paths or {}).get(rel) or inbox / rel
        size, head = _head(real)
        if size < 0:
            continue
        kind = sniff_proof(head, rel)
        if not kind and p.suffix.lower() not in PROOF_SUFFIXES and \
                not (named.get(_loose(p.name), set()) | named.get("\0" + _stem(p.name), set())):
            continue  # not a proof type and named by no row: not the 台帐's (listed as before)
        out[rel] = ProofFile(rel, real, unit, size, kind, max_bytes)
    return out


def _parent(relpath: str) -> str:
    parent = PurePosixPath(relpath).parent.as_posix()
    return "" if parent == "." else parent


def _folder_unit(p: PurePosixPath, roster: Roster) -> str | None:
    """The unit a folder of the file's path is named for (nearest first)."""
    for folder in reversed(p.parts[:-1]):
        unit = roster.find_in(folder)
        if unit is not None:
            return unit.name
    return None


def ledger_row(ev: EventRow, rules: Rules) -> bool:
    """A scored row of a 市级以上 outlet or leader: it belongs in the 台帐."""
    return ev.outcome == SCORED and bool(ev.level) and ev.level != rules.levels[0]


def match(returns: list[Return], files: dict[str, ProofFile], rules: Rules) -> tuple[Ledger, list[Issue]]:
    """Pair every 台帐 row with its proof; one 提示 per row that needs proof and has none.

    With ``rules.proof_required`` such a row with positive points scores 0 and its
    计分说明 says why (run after scoring, before the tally).
    """
    ledger = Ledger(files=sorted(files.values(), key=lambda f: f.relpath))
    by_unit: dict[str, list[ProofFile]] = {}
    for f in ledger.files:
        by_unit.setdefault(f.unit, []).append(f)
    issues: list[Issue] = []
    messages: dict[tuple[str, str], str] = {}
    for r in returns:
        for ev in r.events:
            if not ledger_row(ev, rules):
                continue
            proof = Proof(ev)
            ledger.proofs[id(ev)] = proof
            mine = by_unit.get(ev.unit, [])
            for name in ev.proof_files:
                got = _find(name, mine)
                if got is None:
                    proof.missing.append(name)
                    continue
                if got not in proof.files:
                    proof.files.append(got)
                    got.rows.append(ev)
            where = {"file": ev.where[0], "sheet": ev.where[1], "row": ev.line, "unit": ev.unit}
            for name in proof.missing:
                issues.append(Issue(INFO, NOT_FOUND, f"证明材料“{name}”没有随报表收到", column="证明材料", value=name,
                                    action="该文件未列入台帐", fix="请把该文件随报表一并发送，或更正“证明材料”中的文件名",
                                    **where))
            for f in proof.files:
                if not f.usable:
                    issues.append(Issue(INFO, NOT_FOUND, f"证明材料“{f.relpath}”{f.problem}", column="证明材料",
                                        value=f.name, action="该文件未列入台帐",
                                        fix="请改发PDF、图片（JPG/PNG）或Word/WPS文档", **where))
            if not proof.needed or proof.found:
                continue
            zero = rules.proof_required and ev.points > 0
            if zero:
                ev.points = Fraction(0)
                ev.explanation = f"{ev.explanation}；缺少台帐证明材料（期号版面、链接或证明材料），按规定计0分"
            # The title goes in the issue's value (the row's own string); the message is shared per outlet,
            # so a year of rows without proof does not hold a new text per notice.
            key = (ev.level, ev.outlet or ev.outlet_text or "")
            message = messages.get(key)
            if message is None:
                message = messages[key] = f"{key[0]}媒体“{key[1]}”录用的稿件缺少台帐证明材料"
            issues.append(Issue(
                INFO, MISSING, message, value=ev.title or "",
                column="证明材料", action="按规定计0分" if zero else "仅提示，不影响计分",
                fix="请在“期号版面”“链接”或“证明材料”中至少填写一项，并随报表发送电子稿或扫描件", **where))
    return ledger, issues


def _find(name: str, files: list[ProofFile]) -> ProofFile | None:
    """The unit's file a 证明材料 name names: exact name, then case-/width-insensitive, then without extension."""
    base = PurePosixPath(name.replace("\\", "/")).name
    for key in (lambda f: f.name == base, lambda f: _loose(f.name) == _loose(base),
                lambda f: _stem(f.name) == _stem(base)):
        hits = [f for f in files if key(f)]
        if hits:
            return hits[0]
    return None


def copy_name(ev: EventRow, f: ProofFile) -> tuple[str, str]:
    """(``日期-媒体-标题``, ``.ext``) of the copy of ``f`` for row ``ev`` (the stem made safe by the caller)."""
    suffix = PurePosixPath(f.name).suffix.lower()
    date = ev.date.isoformat() if ev.date else "无日期"
    outlet = ev.outlet or ev.outlet_text or (f"{ev.level}批示" if ev.form == ENDORSEMENT else "")
    return f"{date}-{outlet}-{ev.title or '无标题'}", suffix

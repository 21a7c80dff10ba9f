"""The measurements behind PROFILE.md's suggestions, re-runnable on the current code.

    .venv/bin/python bench/experiments.py rawxml [WORKDIR]   # 录用明细: xlsxwriter (_details) vs a raw-XML writer
    .venv/bin/python bench/experiments.py read [WORKDIR]     # per-file cost of each piece of the reader path

Both run in one process on W1 (bench/out/w1 by default), CPU time, variants alternating. They call
private functions of zg_excel (``summary._details``, ``readers._scan_sheet``, …); when one is renamed,
the line that needs it says so and the rest still runs.
"""

from __future__ import annotations

import datetime as dt
import io
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _col(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def rawxml(workdir: Path, rounds: int = 3) -> None:
    """Same rows, same process: ``summary._details`` + close vs rows streamed as raw SpreadsheetML."""
    import zg_excel.outputs.summary as S
    from zg_excel.merge import merge
    from zg_excel.model import OUTCOME_ZH
    from zg_excel.scoring import fmt

    result = merge(workdir, year=2026, as_of=dt.date(2026, 12, 31))
    events = S._events_in_order(result)
    epoch = dt.date(1899, 12, 30)
    cols = [_col(i) for i in range(18)]
    tmpdir = Path(tempfile.mkdtemp(prefix="zg-exp-"))

    def current() -> None:
        book = S._Book(str(tmpdir / "current.xlsx"), result)
        S._details(book, result)
        book.close()

    def raw() -> None:
        sst: dict[str, int] = {}
        nums: dict = {}
        with zipfile.ZipFile(tmpdir / "raw.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            with zf.open("xl/worksheets/sheet2.xml", "w", force_zip64=True) as fh:
                buf: list[str] = []

                def s(r: int, c: int, v, st: int) -> None:
                    if v:
                        i = sst.get(v)
                        if i is None:
                            i = sst[v] = len(sst)
                        buf.append(f'<c r="{cols[c]}{r}" s="{st}" t="s"><v>{i}</v></c>')

                for r, e in enumerate(events, start=4):
                    buf.append(f'<row r="{r}">')
                    s(r, 0, e.unit, 1)
                    s(r, 1, e.title, 1)
                    s(r, 2, e.form, 2)
                    s(r, 3, e.outlet_text, 1)
                    s(r, 4, e.outlet, 1)
                    s(r, 5, e.level or e.outlet_level, 2)
                    if e.date:
                        buf.append(f'<c r="G{r}" s="3"><v>{(e.date - epoch).days}</v></c>')
                    if e.chars is not None:
                        buf.append(f'<c r="H{r}" s="4"><v>{e.chars}</v></c>')
                    if e.minutes is not None:
                        buf.append(f'<c r="I{r}" s="5"><v>{float(e.minutes)}</v></c>')
                    if e.multiplier != 1:
                        s(r, 9, f"×{fmt(e.multiplier)}", 2)
                    p = nums.get(e.points)
                    if p is None:
                        p = nums[e.points] = S.num(e.points)
                    buf.append(f'<c r="K{r}" s="5"><v>{p}</v></c>')
                    s(r, 11, e.section, 2)
                    if e.credit:
                        buf.append(f'<c r="M{r}" s="5"><v>{S.num(e.credit)}</v></c>')
                    s(r, 13, OUTCOME_ZH.get(e.outcome, e.outcome), 2)
                    s(r, 14, e.explanation, 1)
                    s(r, 15, e.source.file, 1)
                    s(r, 16, e.source.sheet, 2)
                    buf.append(f'<c r="R{r}" s="4"><v>{e.source.row}</v></c></row>')
                    if len(buf) > 20000:
                        fh.write("".join(buf).encode())
                        buf.clear()
                fh.write("".join(buf).encode())
            with zf.open("xl/sharedStrings.xml", "w") as fh:
                fh.write("".join(f"<si><t>{escape(k)}</t></si>" for k in sst).encode())

    runs: dict[str, list[float]] = {"xlsxwriter: summary._details + close": [], "raw XML, streamed": []}
    for _ in range(rounds):
        for name, f in zip(runs, (current, raw)):
            t = time.process_time()
            f()
            runs[name].append(time.process_time() - t)
            print(f"  {name}: {runs[name][-1]:.2f} s CPU", flush=True)
    base = statistics.median(runs["xlsxwriter: summary._details + close"])
    print(f"{len(events)} rows × 18 columns:")
    for name, v in runs.items():
        print(f"  {name:40s} median {statistics.median(v):6.2f} s CPU ({statistics.median(v) / base:.2f}×)")


def read(workdir: Path, n: int = 300) -> None:
    """Per-file CPU of the pieces of ``read_book`` and ``read_return`` (best of 3 passes over n files)."""
    from python_calamine import CalamineWorkbook

    import zg_excel.intake.readers as R
    from zg_excel.intake.raw import RawBook
    from zg_excel.intake.readers.docprops import ooxml_doc_props
    from zg_excel.intake.readers.parts import sheet_parts
    from zg_excel.intake.readers.scan import scan_sheet
    from zg_excel.workspace import Workspace

    ws = Workspace(workdir)
    rules, roster, catalog = ws.load()
    paths = [str(p) for p in sorted(ws.inbox.iterdir())[:n]]
    datas = [open(p, "rb").read() for p in paths]
    lim = rules.limits

    def t(label: str, f) -> None:
        try:
            best = min(_timed(f, len(paths)) for _ in range(3))
        except (AttributeError, TypeError, ImportError) as e:
            print(f"  {label:60s} (not measured: {e})")
            return
        print(f"  {label:60s} {best:6.2f} ms/file", flush=True)

    def cal(i: int, names=None) -> None:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(datas[i]))
        for name in names or [m.name for m in wb.sheets_metadata]:
            wb.get_sheet_by_name(name).to_python(skip_empty_area=False)

    def scan(i: int) -> None:
        zf = zipfile.ZipFile(io.BytesIO(datas[i]))
        for _, part in sheet_parts(zf).items():
            scan_sheet(zf, part, lim)

    def floor(i: int) -> None:
        wb = CalamineWorkbook.from_path(paths[i])
        for name in ("报送登记", "录用登记"):
            wb.get_sheet_by_name(name).to_python()

    print(f"{len(paths)} files of {workdir}:")
    t("read_book (whole reader path)", lambda i: R.read_book(paths[i], lim))
    t("  pre-scan: scan_sheet over every sheet part", scan)
    t("  calamine: every sheet, to_python(skip_empty_area=False)", cal)
    t("  calamine: 报送登记 + 录用登记 + _zg only", lambda i: cal(i, ("报送登记", "录用登记", "_zg")))
    t("  ooxml_doc_props", lambda i: ooxml_doc_props(zipfile.ZipFile(io.BytesIO(datas[i])),
                                                         RawBook(path="", format="xlsx", sheets=[])))
    try:
        from zg_excel.merge import _ParseInWorker

        books = [R.read_book(p, lim) for p in paths]
        parse = _ParseInWorker(ws.inbox, 2026, rules, roster, catalog)
        t("read_return via merge._ParseInWorker", lambda i: parse(paths[i], books[i]))
        from multiprocessing.reduction import ForkingPickler
        import pickle

        parsed = [parse(p, b) for p, b in zip(paths, books)]
        blobs = [bytes(ForkingPickler.dumps(x)) for x in parsed]
        print(f"  {'result pickle size':60s} {statistics.mean(map(len, blobs)) / 1024:6.1f} KB/file")
        t("  pickle (worker side)", lambda i: ForkingPickler.dumps(parsed[i]))
        t("  unpickle (parent side)", lambda i: pickle.loads(blobs[i]))
    except (ImportError, AttributeError, TypeError) as e:
        print(f"  read_return: not measured ({e})")
    t("floor.py: calamine from_path, the two data sheets", floor)


def _timed(f, n: int) -> float:
    t0 = time.process_time()
    for i in range(n):
        f(i)
    return (time.process_time() - t0) / n * 1000


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("rawxml", "read"):
        raise SystemExit(__doc__)
    workdir = Path(args[1]) if len(args) > 1 else HERE / "out" / "w1"
    if not (workdir / "inbox").exists():
        raise SystemExit(f"{workdir}: no workload (run bench/make_workload.py or bench/run.py first)")
    (rawxml if args[0] == "rawxml" else read)(workdir)


if __name__ == "__main__":
    main()

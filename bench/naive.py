"""The script a user would write instead of zg-excel: pandas in, pandas out.

    python bench/naive.py WORKDIR [OUT.xlsx]

For every file of ``WORKDIR/inbox``: ``pandas.read_excel`` (openpyxl engine)
of both data sheets (header on row 3, where the template puts it), a column
with the file name; ``concat`` each sheet over all files; ``to_excel`` with
xlsxwriter. No validation, no scoring, no formatting. Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

SHEETS = ("报送登记", "录用登记")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    workdir = Path(args[0])
    out = Path(args[1]) if len(args) > 1 else workdir / "output" / "naive.xlsx"
    t0 = time.perf_counter()
    frames: dict[str, list[pd.DataFrame]] = {s: [] for s in SHEETS}
    files = failed = 0
    for dirpath, _, names in os.walk(workdir / "inbox"):
        for name in sorted(names):
            if not name.lower().endswith(".xlsx") or name.startswith("~$"):
                continue
            path = Path(dirpath) / name
            try:
                got = pd.read_excel(path, sheet_name=list(SHEETS), header=2, engine="openpyxl")
            except Exception:  # noqa: BLE001 - the naive script skips what it cannot read
                failed += 1
                continue
            files += 1
            for s in SHEETS:
                df = got[s].dropna(how="all")
                df.insert(0, "文件", name)
                frames[s].append(df)
    t_read = time.perf_counter() - t0
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = {}
    with pd.ExcelWriter(out, engine="xlsxwriter") as xw:
        for s in SHEETS:
            df = pd.concat(frames[s], ignore_index=True) if frames[s] else pd.DataFrame()
            rows[s] = len(df)
            df.to_excel(xw, sheet_name=s, index=False)
    print(json.dumps({"files": files, "failed": failed, "rows": rows, "read_s": round(t_read, 3),
                      "total_s": round(time.perf_counter() - t0, 3)}, ensure_ascii=False))


if __name__ == "__main__":
    main()

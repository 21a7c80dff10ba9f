"""Speed of ``zg-excel serve`` (issue 15): upload → result, and the office page, at 100 units × 12 months.

    .venv/bin/python bench/serve_bench.py            # makes bench/out/serve12 once (~15 s), then measures

Targets: a typical return's result page within 1 s of the upload (one file of 100 录用登记 and 12
报送登记 rows), and the office page within 1 s with 1,200 returns in the inbox. A real cheroot
server runs in this process on 127.0.0.1 (ephemeral port); times are wall-clock of complete HTTP
requests (http.client). Ten units' December returns are held back from the inbox and uploaded
through their links; the inbox then holds 1,200 returns.

Also reported (no target): the first scan of the inbox with an empty cache (every file read once),
the same after a restart (books from the content-hash cache on disk), the standings snapshot
rebuild after an upload (background; the office page shows the previous one meanwhile), and RSS.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import shutil
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from make_workload import make_workload  # noqa: E402

from zg_excel.serve.app import create_app  # noqa: E402
from zg_excel.serve.server import make_server  # noqa: E402
from zg_excel.serve.settings import ServeSettings  # noqa: E402
from zg_excel.serve.store import Desk  # noqa: E402
from zg_excel.serve.tokens import ensure_links  # noqa: E402

HELD_BACK = 10


def rss_mb() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        return float("nan")


def request(port: int, method: str, path: str, body: bytes | None = None, headers=None) -> tuple[int, str, float]:
    t0 = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    text = r.read().decode("utf-8", "replace")
    return r.status, text, time.perf_counter() - t0


def multipart(csrf: str, name: str, data: bytes) -> tuple[bytes, str]:
    b = uuid.uuid4().hex
    body = (f"--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n"
            f"--{b}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{b}--\r\n".encode()
    return body, f"multipart/form-data; boundary={b}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=HERE / "out" / "serve12")
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--months", type=int, default=12)
    args = ap.parse_args()

    src = args.out.with_name(args.out.name + "-src")
    make_workload(src, units=args.units, months=args.months, events=100, subs=12, seed=1, quiet=True)
    if args.out.exists():
        shutil.rmtree(args.out)
    shutil.copytree(src, args.out)
    root = args.out
    inbox = root / "inbox"
    all_files = sorted(p for p in inbox.rglob("*") if p.is_file())
    december = [p for p in all_files if "12月" in p.name][:HELD_BACK]
    assert len(december) == HELD_BACK, "no December returns found"
    held = root.parent / (root.name + "-held")
    shutil.rmtree(held, ignore_errors=True)
    held.mkdir()
    for p in december:
        shutil.move(p, held / p.name)
    n_inbox = len(all_files) - HELD_BACK

    settings = ServeSettings(uploads_per_window=10_000)
    figures: dict[str, float | str] = {"returns": len(all_files)}

    t0 = time.perf_counter()
    desk = Desk(root, settings, year=2026)
    entries = desk.scan()
    figures["cold_scan_s"] = time.perf_counter() - t0
    assert len(entries) == n_inbox
    t0 = time.perf_counter()
    desk.snapshot(wait=True)
    figures["snapshot_build_s"] = time.perf_counter() - t0
    figures["rss_after_snapshot_mb"] = rss_mb()

    t0 = time.perf_counter()
    desk2 = Desk(root, settings, year=2026)  # a restart: books come from the disk cache
    desk2.scan()
    figures["restart_scan_s"] = time.perf_counter() - t0
    del desk2

    server = make_server(create_app(root, settings, desk=desk), "127.0.0.1", 0)
    server.prepare()
    port = server.bind_addr[1]
    links = ensure_links(root, desk.units, f"http://127.0.0.1:{port}")
    server.wsgi_app = create_app(root, settings, desk=desk)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        office = urlsplit(links.office).path
        times = []
        for _ in range(10):
            status, page, s = request(port, "GET", office)
            assert status == 200 and "当前排名" in page, page[:500]
            times.append(s)
        figures["office_page_1190_median_s"] = statistics.median(times)
        figures["office_page_1190_max_s"] = max(times)

        upload_times, unit_page_times = [], []
        for p in sorted(held.iterdir()):
            unit = next(u for u in sorted(links.units, key=len, reverse=True) if u in p.name)
            path = urlsplit(links.units[unit]).path
            status, page, s = request(port, "GET", path)
            unit_page_times.append(s)
            csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
            body, ctype = multipart(csrf, p.name, p.read_bytes())
            status, page, s = request(port, "POST", path + "upload", body, {"Content-Type": ctype})
            assert status == 200 and "1 个已保存" in page, page[:2000]
            upload_times.append(s)
        figures["upload_result_median_s"] = statistics.median(upload_times)
        figures["upload_result_max_s"] = max(upload_times)
        figures["unit_page_median_s"] = statistics.median(unit_page_times)

        t0 = time.perf_counter()
        desk.wait_snapshot(600)
        snap, stale = desk.snapshot(wait=True)
        figures["snapshot_catch_up_after_uploads_s"] = time.perf_counter() - t0
        assert len(snap.entries) == len(all_files) and not stale
        times = []
        for _ in range(10):
            status, page, s = request(port, "GET", office)
            assert status == 200 and "正在更新" not in page
            times.append(s)
        figures["office_page_1200_median_s"] = statistics.median(times)
        figures["office_page_1200_max_s"] = max(times)
        figures["rss_end_mb"] = rss_mb()
    finally:
        server.stop()
    figures["target_upload_le_1s"] = "PASS" if figures["upload_result_max_s"] <= 1 else "FAIL"
    figures["target_office_le_1s"] = "PASS" if figures["office_page_1200_max_s"] <= 1 else "FAIL"
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()},
                     ensure_ascii=False, indent=1))
    (HERE / "out" / "serve_results.json").write_text(json.dumps(figures, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

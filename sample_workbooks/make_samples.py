"""Regenerate the sample returns of 上街区 for January–September 2026.

    python sample_workbooks/make_samples.py            # writes into sample_workbooks/

They are what units really send back: monthly files, one cumulative file, a
corrected resend, a file saved by LibreOffice, rows copied into a plain
workbook, typed dates and ``1200字`` values, a bad cell, an unknown outlet, a
duplicate row, an Office lock file, and one unit that sent nothing
(矿山街道党工委); 台帐 proof for a few 市级以上 rows (a small PDF and a PNG sent beside the
returns, a link, an issue and page), the other such rows with none. Deterministic: the same seed
gives the same rows.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from zg_excel.rules import load_rules  # noqa: E402
from tests.fill import fill_return, set_saved_time  # noqa: E402
from zg_excel.roster import load_catalog, load_roster  # noqa: E402
from zg_excel.schema import EVENT_SHEET, SUBMISSION_SHEET  # noqa: E402
from zg_excel.template import write_template  # noqa: E402

YEAR = 2026
SEED = 20260930
TOPICS = ["党员积分制管理", "“红色物业”建设", "年轻干部墩苗历练", "基层党组织标准化建设", "流动党员教育管理",
          "村级后备干部培养", "“两新”组织党建全覆盖", "干部作风建设", "人才引进服务专员", "党建引领基层治理",
          "发展党员全程纪实", "“书记项目”攻坚", "机关党员进社区", "党员志愿服务积分", "干部实绩档案"]
VERBS = ["推行", "深化", "探索", "创新", "扎实推进", "多措并举抓好", "以“三个聚焦”推动", "健全机制抓实"]


def title(rng: random.Random, short: str) -> str:
    return f"{short}{rng.choice(VERBS)}{rng.choice(TOPICS)}"


def month_dates(rng: random.Random, month: int, n: int) -> list[dt.date]:
    return sorted(dt.date(YEAR, month, rng.randint(1, 28)) for _ in range(n))


def submissions(rng, short, months, per_month, destinations):
    rows = []
    for m in months:
        n = per_month(m) if callable(per_month) else per_month
        for d in month_dates(rng, m, n):
            rows.append({"报送日期": d, "稿件标题": title(rng, short), "报送对象": rng.choice(destinations)})
    return rows


def events(rng, short, months, outlets, per_month=1, section=None):
    rows = []
    for m in months:
        for d in month_dates(rng, m, per_month):
            outlet = rng.choice(outlets)
            chars = rng.choice([650, 700, 800, 850, 900, 950, 1000, 1000, 1200, 2300])
            row = {"稿件标题": title(rng, short), "录用形式": "采用", "媒体名称": outlet, "录用日期": d,
                   "字数": chars}
            if section and rng.random() < 0.3 and outlet not in ("上街区党建网", "上街组工动态", "上街时讯"):
                row["经对口处室"] = section
            rows.append(row)
    return rows


def main(out: Path = HERE) -> list[Path]:
    rules = load_rules()
    roster, catalog = load_roster(None, rules), load_catalog(None, rules)
    rng = random.Random(SEED)
    tmp = Path(tempfile.mkdtemp(prefix="zg_samples_"))
    for pattern in ("*.xlsx", "*.pdf", "*.png"):
        for old in out.glob(pattern):
            old.unlink()
    written: list[Path] = []

    def template(unit: str) -> Path:
        path = tmp / f"{unit}.xlsx"
        if not path.exists():
            write_template(path, unit=unit, year=YEAR, roster=roster, catalog=catalog, rules=rules)
        return path

    def put(unit: str, name: str, subs, evs, saved: dt.datetime) -> Path:
        path = fill_return(template(unit), out / name, submissions=subs, events=evs, saved=saved)
        written.append(path)
        return path

    district = ["上街区党建网", "上街组工动态", "上街时讯"]
    city = ["郑州日报", "《郑州组织信息》", "《郑州组工通讯》", "郑州电视台"]
    province = ["河南日报", "《河南组工信息》"]
    town_outlets = district * 4 + city + province[:1]
    up = ["区委组织部"] * 4 + ["市委组织部"]

    # 峡窝镇党委: one file a month; typed dates, 1200字, an endorsement of an earlier manuscript.
    for m in range(1, 10):
        subs = submissions(rng, "峡窝镇", [m], 2 + (m % 2), up)
        evs = events(rng, "峡窝镇", [m], town_outlets, per_month=1 + (m % 3 == 0), section="干部科")
        if m == 3:
            evs[0]["录用日期"] = "2026年3月5日"
            evs[0]["字数"] = "1200字"
        if m == 4:
            evs.append({"稿件标题": evs[0]["稿件标题"], "录用形式": "批示", "媒体级别": "市级",
                        "录用日期": dt.date(YEAR, 4, 20)})
        put("峡窝镇党委", f"峡窝镇党委-{YEAR}年{m}月.xlsx", subs, evs, dt.datetime(YEAR, m + 1, 3, 9, 30))

    # 济源路街道党工委: one cumulative file; May is short; a duplicate row; an event of last year.
    subs = submissions(rng, "济源路街道", range(1, 10), lambda m: 1 if m == 5 else 2, up)
    evs = events(rng, "济源路街道", range(1, 10), town_outlets, section="组织科")
    evs.append(dict(evs[2]))  # pasted twice
    evs.append({"稿件标题": "济源路街道2025年度党建工作综述", "录用形式": "采用", "媒体名称": "郑州日报",
                "录用日期": dt.date(YEAR - 1, 12, 28), "字数": 1800})
    evs.append({"稿件标题": evs[0]["稿件标题"], "录用形式": "综合", "媒体名称": "《河南组工信息》",
                "录用日期": dt.date(YEAR, 6, 18)})
    put("济源路街道党工委", "济源路街道党工委-1至9月累计.xlsx", subs, evs, dt.datetime(YEAR, 10, 5, 16, 0))

    # 中心路街道党工委: Jan–Jun file, then a corrected resend of it, then a Jul–Sep file.
    subs16 = submissions(rng, "中心路街道", range(1, 7), 2, up)
    evs16 = events(rng, "中心路街道", range(1, 7), town_outlets, per_month=1)
    put("中心路街道党工委", "中心路街道党工委-1至6月.xlsx", subs16, evs16[:-1] + [
        dict(evs16[-1], 字数=600)], dt.datetime(YEAR, 7, 4, 10, 0))
    put("中心路街道党工委", "中心路街道党工委-1至6月（更正）.xlsx", subs16, evs16, dt.datetime(YEAR, 7, 9, 15, 20))
    put("中心路街道党工委", "中心路街道党工委-7至9月.xlsx", submissions(rng, "中心路街道", range(7, 10), 3, up),
        events(rng, "中心路街道", range(7, 10), town_outlets, per_month=2), dt.datetime(YEAR, 10, 8, 11, 0))

    # 新安路街道党工委: saved again by LibreOffice (WPS/LibreOffice users).
    lo_src = fill_return(template("新安路街道党工委"), tmp / "新安路街道党工委-三季度.xlsx",
                         submissions=submissions(rng, "新安路街道", range(1, 10), 2, up),
                         events=events(rng, "新安路街道", range(1, 10), town_outlets, section="干部科"),
                         saved=dt.datetime(YEAR, 10, 6, 9, 0))
    written.append(_libreoffice_copy(lo_src, out / "新安路街道党工委-三季度（LibreOffice保存）.xlsx"))

    # 工业路街道党工委: a bad date cell and 1,200 typed with a thousands separator.
    evs = events(rng, "工业路街道", range(1, 10), town_outlets)
    evs[1]["录用日期"] = "2026.13.5"
    evs[4]["字数"] = "1,200"
    evs[6]["录用日期"] = "2026.7.15"
    put("工业路街道党工委", "工业路街道党工委报送统计表.xlsx",
        submissions(rng, "工业路街道", range(1, 10), 2, up), evs, dt.datetime(YEAR, 10, 4, 8, 45))

    # 矿山街道党工委: nothing returned.

    party = ["区委组织部"] * 3 + ["市委组织部"]
    other_outlets = district * 2 + city + ["河南电视台"]
    # 区直机关工委: an unknown outlet; a video over one minute.
    evs = events(rng, "区直机关工委", [2, 4, 6, 8], other_outlets, section="组织科")
    evs.append({"稿件标题": "区直机关工委开展“机关党员进社区”活动", "录用形式": "采用", "媒体名称": "人民网",
                "录用日期": dt.date(YEAR, 5, 12), "字数": 1100})
    evs.append({"稿件标题": "区直机关党员志愿服务纪实", "录用形式": "采用", "媒体名称": "河南电视台",
                "录用日期": dt.date(YEAR, 7, 2), "视频时长（分钟）": "1分30秒"})
    put("区直机关工委", "区直机关工委.xlsx", submissions(rng, "区直机关工委", [1, 3, 5, 7, 9], 2, party), evs,
        dt.datetime(YEAR, 10, 3, 17, 10))
    # 区委教育工委: one manuscript outside organisation work.
    evs = events(rng, "区委教育工委", [3, 6, 9], other_outlets)
    evs.append({"稿件标题": "区实验中学举办春季运动会", "录用形式": "采用", "媒体名称": "郑州日报",
                "录用日期": dt.date(YEAR, 4, 9), "字数": 700, "是否组织工作": "否"})
    put("区委教育工委", "区委教育工委-2026年1-9月.xlsx", submissions(rng, "区委教育工委", [2, 5, 8], 2, party),
        evs, dt.datetime(YEAR, 10, 2, 9, 0))
    # 区卫生健康系统党委: rows copied into a plain workbook (no fingerprint); found by 填报单位.
    written.append(_plain_copy(out / "卫健系统报送情况.xlsx", "区卫生健康系统党委",
                               submissions(rng, "区卫健系统", [1, 4, 7], 2, party),
                               events(rng, "区卫健系统", [4, 8], other_outlets)))
    for unit, short in (("区非公有制经济组织和社会组织党委", "区两新党委"), ("经济开发区党工委", "经开区")):
        put(unit, f"{unit}.xlsx", submissions(rng, short, [1, 2, 4, 6, 9], 2, party),
            events(rng, short, [2, 5, 7, 9], other_outlets), dt.datetime(YEAR, 10, 4, 14, 0))

    # 科室: two a month to 市委组织部; adoptions by 《河南组工信息》 count toward the provincial target.
    section_outlets = ["《郑州组织信息》", "《郑州组工通讯》", "《河南组工信息》", "郑州日报"]
    for unit in ("办公室", "组织科", "干部科", "干部监督科", "信息调研科", "人才工作科"):
        per = (lambda m: 1 if m in (2, 7) else 2) if unit == "干部监督科" else 2
        dests = ["市委组织部"] * 5 + ["省委组织部"]
        evs = events(rng, unit, [2, 5, 8] if unit in ("办公室", "人才工作科") else [1, 4, 6, 9], section_outlets)
        if unit == "信息调研科":  # 台帐: a screenshot and the link of the published item
            evs.append({"稿件标题": "以高质量组工信息服务领导决策", "录用形式": "采用", "媒体名称": "中组部《组工信息》",
                        "录用日期": dt.date(YEAR, 8, 26), "字数": 2100,
                        "链接": "https://www.12371.cn/zgxx/2026/08/26/example.html",
                        "证明材料": "信息调研科-组工信息截图.png"})
            written.append(_write(out / "信息调研科-组工信息截图.png", tiny_png()))
        for e in evs:  # 台帐: 组织科 sends the September clippings as one PDF; 干部科 gives issue and page
            if unit == "组织科" and e["录用日期"].month == 9:
                e["证明材料"] = "组织科-9月录用稿件.pdf"
            if unit == "干部科" and e["录用日期"].month == 9:
                e["期号版面"] = f"{YEAR}年第9期第2版"
        if unit == "组织科":
            written.append(_write(out / "组织科-9月录用稿件.pdf", tiny_pdf("Zuzhike 2026-09 clippings")))
        put(unit, f"{unit}-{YEAR}年前三季度.xlsx", submissions(rng, unit, range(1, 10), per, dests), evs,
            dt.datetime(YEAR, 10, 5, 10, 0))

    # An Office lock file left by someone who had a return open.
    lock = out / "~$峡窝镇党委-2026年9月.xlsx"
    lock.write_bytes(bytes([6]) + "Zhang3".encode("ascii") + b" " * 47 + "Zhang3".encode("utf-16-le")
                     + b"\x00" * (165 - 54 - 12))
    written.append(lock)
    shutil.rmtree(tmp, ignore_errors=True)
    return written


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def tiny_pdf(text: str) -> bytes:
    """A minimal valid one-page PDF (written by hand: objects, xref table, trailer)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def tiny_png(width: int = 8, height: int = 8) -> bytes:
    """A small grey PNG (zlib only)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    raw = b"".join(b"\x00" + b"\x99" * width for _ in range(height))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x00\x00\x00\x00"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def _libreoffice_copy(src: Path, dest: Path) -> Path:
    """Open and save ``src`` with LibreOffice (headless), as a LibreOffice user would."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("需要 LibreOffice（soffice）来生成“LibreOffice保存”的样例：apt-get install libreoffice-calc-nogui")
    outdir = Path(tempfile.mkdtemp(prefix="zg_lo_"))
    profile = Path(tempfile.mkdtemp(prefix="zg_lo_profile_"))
    subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to",
                    "xlsx:Calc MS Excel 2007 XML", "--outdir", str(outdir), str(src)],
                   check=True, capture_output=True, timeout=180)
    shutil.move(str(outdir / src.name), dest)
    set_saved_time(dest, dt.datetime(YEAR, 10, 6, 9, 5))
    shutil.rmtree(outdir, ignore_errors=True)
    shutil.rmtree(profile, ignore_errors=True)
    return dest


def _plain_copy(dest: Path, unit: str, subs: list[dict], evs: list[dict]) -> Path:
    """A unit that pasted its rows into a new workbook: same headers, no fingerprint, sheet names kept."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for schema, rows in ((SUBMISSION_SHEET, subs), (EVENT_SHEET, evs)):
        ws = wb.create_sheet(schema.name)
        ws.append([f"填报单位：{unit}"])
        names = [c.name for c in schema.columns]
        ws.append(names)
        for rec in rows:
            ws.append([rec.get(n) for n in names])
    wb.save(dest)
    set_saved_time(dest, dt.datetime(YEAR, 10, 7, 8, 30))
    return dest


if __name__ == "__main__":
    for p in main():
        print(p.name)

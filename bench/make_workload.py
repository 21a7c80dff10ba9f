"""Generate a benchmark workload: a working folder whose inbox holds filled returns.

    python bench/make_workload.py --units 100 --months 10 --events 100 --subs 12 --seed 1 bench/out/w1

The folder is a real working folder (``zg_excel.workspace.init_workspace``)
whose 单位名册.xlsx lists the ``--units`` units (the shipped roster's 17 first,
then generated 镇街 / 其他党工委 units). Every unit gets its template from the
project's own ``zg_excel.template.write_template`` (in ``outbox/``), and every
monthly return is that template with rows typed in, like a unit filling it in
Excel: ``--events`` 录用登记 rows and ``--subs`` 报送登记 rows per file, dated
in the file's month, saved early the next month.

Filling with openpyxl (``tests.fill.fill_return``) costs ~0.3 s a file, so
the rows are written straight into the sheet XML of the template's zip
instead: strings inline (``t="inlineStr"``), numbers as numbers, dates as
serials in the column's own date style; every other part (styles,
validations, protection, the ``_zg`` fingerprint, custom properties) is the
template's, byte for byte. ``docProps/core.xml`` gets the save time, and the
file's mtime is set to it. The rows carry the noise hand-filled returns have
(typed dates, ``1200字``, ``1分30秒``, aliases, 批示 rows without outlet, an
unknown outlet, an odd bad date, a duplicated row) in small, fixed shares.

Deterministic from ``--seed``. When the folder already holds a complete
workload made with the same parameters (``.workload.json``), nothing is done.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import sys
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from zg_excel.roster import ROSTER_COLUMNS, Roster, Unit, default_roster_rows  # noqa: E402
from zg_excel.schema import EVENT_SHEET, FIRST_DATA_ROW, SUBMISSION_SHEET  # noqa: E402
from zg_excel.template import template_filename, write_template  # noqa: E402
from zg_excel.values import normalize_key  # noqa: E402
from zg_excel.workspace import Workspace, init_workspace  # noqa: E402

GENERATOR_VERSION = 3  # bump when the output of the same parameters changes
MARKER = ".workload.json"
EPOCH = dt.date(1899, 12, 30)  # Excel's 1900 date system

# ------------------------------------------------------------------ roster

_SYLLABLES = ("金水 桐柏 东风 西城 南湖 北辰 新兴 安和 华阳 光明 德政 福寿 泰来 康宁 平安 丰收 源头 青山 "
              "清河 林海 石桥 古城 关帝 红旗 营盘 龙集 凤寨 白沙 黄河 松林 柳湾 杏园 枫岭 梅川 兰亭 竹溪 "
              "云台 雪峰 星火 晨光 春华 秋实 冬青 夏邑 高岗 长岭 永兴 太平 万福 千秋 百泉 双桥 三里 五星 "
              "七里 八角 九龙 十里 田园 苗圃 荷塘 桃源 李庄 张营 王寨 刘湾 陈桥 杨柳 赵庄 孙家 周口 吴岗 "
              "郑庄 冯营 褚河 卫东 蒋湾 沈丘 韩庄 朱集 秦川 尤湾 许岗 何营 吕梁 施桥 孔集 曹营 严庄 华容 "
              "金城 魏岗 陶湾 姜寨 戚庄 谢营 邹城 喻湾 柏林 水磨 窦庄 章丘 云梦 苏桥 潘集 葛岗 奚庄 范营 "
              "彭城 郎溪 鲁山 韦庄 昌平 马营 苗寨 凤鸣 花园 方城 俞湾 任丘 袁庄 柳林 酆都 鲍营 史庄 唐河 "
              "费县 廉湾 岑溪 薛城 雷岗 贺兰 倪湾 汤阴 滕州 殷墟 罗山 毕节 郝庄 邬岗 安阳 常庄 乐陵 于都 "
              "时村 傅营 皮口 卞庄 齐河 康乐 伍营 余庆 元阳 卜岗 顾庄 孟津 平舆 黄岗 和顺 穆棱 萧县 尹庄").split()
_TOWN_SUFFIX = (("镇党委", "镇"), ("街道党工委", "街道"), ("乡党委", "乡"))
_OTHER_SUFFIX = (("系统党委", "系统党委"), ("园区党工委", "园区"), ("商会党委", "商会"), ("片区党工委", "片区"))


def roster_rows(n_units: int, seed: int) -> list[dict[str, str]]:
    """The shipped roster (its 6 科室 always), then generated units up to ``n_units``."""
    base = default_roster_rows()
    if n_units <= len(base):
        rows = [dict(r) for r in base[:n_units]]
        if n_units > 1 and not any(r["类别"] == "科室" for r in rows):  # a roster needs its 科室 (rules check
            rows[-1] = dict(next(r for r in base if r["类别"] == "科室"))  # and every command refuse one without)
        return rows
    rng = random.Random(f"roster-{seed}")
    places = list(_SYLLABLES)
    rng.shuffle(places)
    units = [Unit(r["单位名称"], r["类别"], tuple(a for a in r["别名"].split(";") if a), order=i)
             for i, r in enumerate(base)]
    rows = [dict(r) for r in base]
    names_seen = [normalize_key(u.name) for u in units]
    i = 0
    while len(rows) < n_units:
        place = places[i % len(places)]
        turn = i // len(places)
        i += 1
        if rng.random() < 0.6:
            suffix, alias_suffix = _TOWN_SUFFIX[turn % len(_TOWN_SUFFIX)]
            cat = "镇街"
        else:
            suffix, alias_suffix = _OTHER_SUFFIX[turn % len(_OTHER_SUFFIX)]
            cat = "其他党工委"
        name = f"{place}{suffix}"
        alias = f"{place}{alias_suffix}"
        cand = Unit(name, cat, (alias,) if alias != name else (), order=len(units))
        # Every unit must stay findable by its own file name and by nobody else's.
        new_keys = [normalize_key(n) for n in (name, *cand.aliases)]
        if any(k in taken_key for k in new_keys for taken_key in names_seen):
            continue
        trial = Roster(units=units + [cand])
        if trial.find(name) is not cand or trial.find_in(f"{name}-2026年1月") is not cand:
            continue
        units.append(cand)
        names_seen.append(normalize_key(name))
        rows.append({"单位名称": name, "类别": cat, "别名": alias if alias != name else "", "联系人": "",
                     "邮箱": "", "备注": "基准测试生成"})
        if i > 20 * n_units + 1000:
            raise SystemExit(f"cannot make {n_units} distinct unit names")
    return rows


def write_roster(path: Path, rows: list[dict[str, str]]) -> None:
    import xlsxwriter

    tmp = path.with_name(path.name + ".tmp.xlsx")
    # in_memory + a fixed creation date: the same rows give the same bytes
    wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True})
    wb.set_properties({"created": dt.datetime(2026, 1, 1)})
    ws = wb.add_worksheet("单位名册")
    for c, name in enumerate(ROSTER_COLUMNS):
        ws.write_string(0, c, name)
    for r, rec in enumerate(rows, start=1):
        for c, name in enumerate(ROSTER_COLUMNS):
            ws.write_string(r, c, rec.get(name, "") or "")
    wb.close()
    os.replace(tmp, path)


# ------------------------------------------------------------------ rows

TOPICS = ["党员积分制管理", "“红色物业”建设", "年轻干部墩苗历练", "基层党组织标准化建设", "流动党员教育管理",
          "村级后备干部培养", "“两新”组织党建全覆盖", "干部作风建设", "人才引进服务专员", "党建引领基层治理",
          "发展党员全程纪实", "“书记项目”攻坚", "机关党员进社区", "党员志愿服务积分", "干部实绩档案",
          "软弱涣散党组织整顿", "村党组织书记擂台比武", "党员教育培训", "选调生培养", "干部容错纠错",
          "“四议两公开”", "网格化党建", "新业态党建", "离退休干部党建", "党建+乡村振兴"]
VERBS = ["推行", "深化", "探索", "创新", "扎实推进", "多措并举抓好", "以“三个聚焦”推动", "健全机制抓实",
         "聚焦短板补强", "全链条推进", "“三步走”做实", "打好组合拳推进"]
TAILS = ["", "", "", "见实效", "的实践与思考", "工作纪实", "出新招", "跑出加速度", "激活“一池春水”",
         "取得阶段性成效", "的经验做法", "打通“最后一公里”"]
WHO = ["", "", "{s}：", "{s}", "【组工动态】{s}", "{s}“"]


class Filler:
    """Deterministic rows of one unit's returns."""

    def __init__(self, rng: random.Random, unit: dict, catalog, sections: list[str], year: int):
        self.rng = rng
        self.unit = unit
        self.short = unit["别名"] or unit["单位名称"]
        self.sections = [s for s in sections if s != unit["单位名称"]]
        self.year = year
        outlets = catalog.outlets
        by_level: dict[str, list] = {}
        for o in outlets:
            by_level.setdefault(o.level, []).append(o)
        self.by_level = by_level
        self.serial = 0
        self.section_unit = unit["类别"] == "科室"

    def title(self) -> str:
        rng = self.rng
        self.serial += 1
        who = rng.choice(WHO).format(s=self.short)
        t = f"{who}{rng.choice(VERBS)}{rng.choice(TOPICS)}{rng.choice(TAILS)}"
        if who.endswith("“"):
            t += "”"
        # Titles repeat across a year; a number keeps most manuscripts distinct, as real ones are.
        return t if rng.random() < 0.03 else f"{t}（{self.serial}）"

    def date(self, month: int):
        return dt.date(self.year, month, self.rng.randint(1, 28))

    def typed_date(self, d: dt.date):
        """A date as units type it: mostly a real date cell, sometimes text."""
        x = self.rng.random()
        if x < 0.94:
            return d
        if x < 0.97:
            return f"{d.year}年{d.month}月{d.day}日"
        if x < 0.985:
            return f"{d.year}.{d.month}.{d.day}"
        if x < 0.999:
            return f"{d.year}-{d.month}-{d.day}"
        return f"{d.year}.13.{d.day}"  # a typo: reported, row not scored

    def outlet(self):
        rng = self.rng
        x = rng.random()
        if self.section_unit:
            level = "市级" if x < 0.6 else "省级" if x < 0.95 else "中央级"
        else:
            level = "区级" if x < 0.55 else "市级" if x < 0.88 else "省级" if x < 0.985 else "中央级"
        o = rng.choice(self.by_level[level])
        if o.aliases and rng.random() < 0.1:
            return rng.choice(o.aliases)
        return o.name

    def submissions(self, month: int, n: int) -> list[dict]:
        rng = self.rng
        dests = (["市委组织部"] * 5 + ["省委组织部"]) if self.section_unit else (["区委组织部"] * 4 + ["市委组织部"])
        rows = []
        for d in sorted(self.date(month) for _ in range(n)):
            row = {"报送日期": self.typed_date(d), "稿件标题": self.title(), "报送对象": rng.choice(dests)}
            if self.sections and rng.random() < 0.15:
                row["经对口处室"] = rng.choice(self.sections)
            if rng.random() < 0.03:
                row["备注"] = "已电话确认"
            rows.append(row)
        return rows

    def events(self, month: int, n: int) -> list[dict]:
        rng = self.rng
        rows: list[dict] = []
        while len(rows) < n:
            title = self.title()
            x = rng.random()
            if x < 0.05:  # an endorsement of a manuscript
                rows.append({"稿件标题": title, "录用形式": "批示", "媒体级别": rng.choice(["市级", "市级", "省级"]),
                             "录用日期": self.typed_date(self.date(month))})
                continue
            form = "综合" if x < 0.15 else "采用"
            adoptions = 1 if rng.random() < 0.7 else rng.randint(2, 3)  # one manuscript, several outlets
            for _ in range(min(adoptions, n - len(rows))):
                row = {"稿件标题": title, "录用形式": form, "媒体名称": self.outlet(),
                       "录用日期": self.typed_date(self.date(month))}
                if rng.random() < 0.002:
                    row["媒体名称"] = rng.choice(["人民网", "大河网", "郑州晚报客户端"])  # not in the catalog
                y = rng.random()
                if y < 0.8:
                    row["字数"] = rng.choice([450, 650, 800, 900, 1000, 1200, 1500, 2300, 3100])
                elif y < 0.83:
                    row["字数"] = f"{rng.choice([800, 1200, 1500])}字"
                elif y < 0.9:
                    row["视频时长（分钟）"] = rng.choice([0.5, 1, 1.5, 2, 3.5, "1分30秒", "2分钟"])
                if self.sections and rng.random() < 0.15:
                    row["经对口处室"] = rng.choice(self.sections)
                if rng.random() < 0.02:
                    row["是否组织工作"] = "否"
                elif rng.random() < 0.05:
                    row["是否组织工作"] = "是"
                if rng.random() < 0.001:
                    row["严重失实或政治性问题"] = "是"
                if rng.random() < 0.02:
                    row["备注"] = "见报日期以版面为准"
                rows.append(row)
        if n >= 20 and rng.random() < 0.3:  # a row pasted twice
            rows[-1] = dict(rows[rng.randrange(n - 1)])
        return rows


# ------------------------------------------------------------------ xlsx editing

_SHEET = re.compile(r'<sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"')
_REL = re.compile(r'<Relationship\b[^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"')
_COL = re.compile(r'<col\b[^>]*?min="(\d+)"[^>]*?max="(\d+)"[^>]*?style="(\d+)"')
_DIM = re.compile(r'<dimension ref="[^"]*"/>')
_MODIFIED = re.compile(r"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


class TemplateParts:
    """A template's zip members, and where each data sheet's XML is."""

    def __init__(self, path: Path):
        with zipfile.ZipFile(path) as z:
            self.infos = z.infolist()
            self.members = {i.filename: z.read(i.filename) for i in self.infos}
        wb = self.members["xl/workbook.xml"].decode("utf-8")
        rels = dict(_REL.findall(self.members["xl/_rels/workbook.xml.rels"].decode("utf-8")))
        self.sheet_part = {}
        for name, rid in _SHEET.findall(wb):
            target = rels[rid]
            self.sheet_part[name] = target.lstrip("/") if target.startswith("/") else "xl/" + target
        self.styles = {}
        for name in (SUBMISSION_SHEET.name, EVENT_SHEET.name):
            xml = self.members[self.sheet_part[name]].decode("utf-8")
            st = {}
            for lo, hi, s in _COL.findall(xml):
                for c in range(int(lo), int(hi) + 1):
                    st[c - 1] = s
            self.styles[name] = st

    def filled(self, sheets: dict[str, list[dict]], saved: dt.datetime) -> dict[str, bytes]:
        out = dict(self.members)
        for schema in (SUBMISSION_SHEET, EVENT_SHEET):
            rows = sheets.get(schema.name) or []
            part = self.sheet_part[schema.name]
            xml = out[part].decode("utf-8")
            styles = self.styles[schema.name]
            index = {c.name: i for i, c in enumerate(schema.columns)}
            buf = []
            r = FIRST_DATA_ROW
            for rec in rows:
                cells = []
                for key in sorted(rec, key=index.__getitem__):
                    v = rec[key]
                    if v is None or v == "":
                        continue
                    c = index[key]
                    ref = f"{_col_letter(c)}{r}"
                    s = styles.get(c)
                    sa = f' s="{s}"' if s else ""
                    if isinstance(v, dt.date):
                        cells.append(f'<c r="{ref}"{sa}><v>{(v - EPOCH).days}</v></c>')
                    elif isinstance(v, (int, float)):
                        cells.append(f'<c r="{ref}"{sa}><v>{v!r}</v></c>')
                    else:
                        cells.append(f'<c r="{ref}"{sa} t="inlineStr"><is><t>{escape(str(v))}</t></is></c>')
                buf.append(f'<row r="{r}" spans="1:{len(schema.columns)}">{"".join(cells)}</row>')
                r += 1
            last_row = max(r - 1, FIRST_DATA_ROW - 1)
            xml = _DIM.sub(f'<dimension ref="A1:{_col_letter(len(schema.columns) - 1)}{last_row}"/>', xml, count=1)
            xml = xml.replace("</sheetData>", "".join(buf) + "</sheetData>", 1)
            out[part] = xml.encode("utf-8")
        core = out["docProps/core.xml"].decode("utf-8")
        stamp = saved.strftime("%Y-%m-%dT%H:%M:%SZ")
        out["docProps/core.xml"] = _MODIFIED.sub(rf"\g<1>{stamp}\g<2>", core).encode("utf-8")
        return out

    def write(self, path: Path, members: dict[str, bytes], saved: dt.datetime) -> None:
        tmp = path.with_name(path.name + ".part")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
            for info in self.infos:
                zi = zipfile.ZipInfo(info.filename, date_time=saved.timetuple()[:6])
                zi.compress_type = zipfile.ZIP_DEFLATED
                zi.external_attr = 0o644 << 16
                z.writestr(zi, members[info.filename])
        os.replace(tmp, path)
        ts = saved.replace(tzinfo=dt.timezone.utc).timestamp()
        os.utime(path, (ts, ts))


# ------------------------------------------------------------------ main

def _file_name(rng: random.Random, unit: str, year: int, month: int) -> str:
    x = rng.random()
    if x < 0.7:
        return f"{unit}-{year}年{month}月.xlsx"
    if x < 0.9:
        return f"{unit}{month}月组工信息报送登记表.xlsx"
    return f"{year}年{month:02d}月-{unit}.xlsx"


def make_workload(out: Path, *, units: int, months: int, events: int, subs: int, seed: int,
                  year: int = 2026, force: bool = False, quiet: bool = False) -> dict:
    out = Path(out)
    params = {"units": units, "months": months, "events": events, "subs": subs, "seed": seed, "year": year,
              "generator": GENERATOR_VERSION}
    marker = out / MARKER
    if not force and marker.exists():
        try:
            done = json.loads(marker.read_text(encoding="utf-8"))
        except ValueError:
            done = {}
        if done.get("params") == params:
            if not quiet:
                print(f"{out}: workload with the same parameters exists, kept", file=sys.stderr)
            return done
    if out.exists():
        shutil.rmtree(out)
    t0 = time.perf_counter()
    init_workspace(out)
    ws = Workspace(out)
    rows = roster_rows(units, seed)
    write_roster(ws.roster_file, rows)
    rules, roster, catalog = ws.load()
    assert len(roster.units) == units, (len(roster.units), units)
    sections = [u.name for u in roster.sections(rules.section_category)]
    n_files = n_events = n_subs = 0
    for i, rec in enumerate(rows):
        if months <= 0:
            break
        name = rec["单位名称"]
        tpl = ws.outbox / template_filename(name, year)
        write_template(tpl, unit=name, year=year, roster=roster, catalog=catalog, rules=rules)
        parts = TemplateParts(tpl)
        rng = random.Random(f"{seed}-{name}")
        filler = Filler(rng, rec, catalog, sections, year)
        for m in range(1, months + 1):
            sub_rows = filler.submissions(m, subs)
            ev_rows = filler.events(m, events)
            sy, sm = (year, m + 1) if m < 12 else (year + 1, 1)
            saved = dt.datetime(sy, sm, rng.randint(1, 5), rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59))
            path = ws.inbox / _file_name(rng, name, year, m)
            members = parts.filled({SUBMISSION_SHEET.name: sub_rows, EVENT_SHEET.name: ev_rows}, saved)
            parts.write(path, members, saved)
            n_files += 1
            n_events += len(ev_rows)
            n_subs += len(sub_rows)
        if not quiet and (i + 1) % 50 == 0:
            print(f"  {i + 1}/{units} units, {n_files} files", file=sys.stderr)
    size = sum(p.stat().st_size for p in ws.inbox.iterdir())
    done = {"params": params, "files": n_files, "events": n_events, "submissions": n_subs,
            "inbox_bytes": size, "seconds": round(time.perf_counter() - t0, 1),
            "roster_sha1": hashlib.sha1(ws.roster_file.read_bytes()).hexdigest()}
    marker.write_text(json.dumps(done, ensure_ascii=False, indent=1), encoding="utf-8")
    if not quiet:
        print(f"{out}: {n_files} files, {n_events} events, {n_subs} submissions, {size / 1e6:.1f} MB "
              f"in {done['seconds']} s", file=sys.stderr)
    return done


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--months", type=int, default=10, help="monthly returns per unit (0: roster only)")
    ap.add_argument("--events", type=int, default=100, help="录用登记 rows per return")
    ap.add_argument("--subs", type=int, default=12, help="报送登记 rows per return")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--year", type=int, default=2026)
    ap.add_argument("--force", action="store_true", help="regenerate even when cached")
    ap.add_argument("-q", "--quiet", action="store_true")
    ap.add_argument("out", type=Path)
    a = ap.parse_args(argv)
    if not 0 <= a.months <= 12:
        ap.error("--months must be 0..12")
    make_workload(a.out, units=a.units, months=a.months, events=a.events, subs=a.subs, seed=a.seed,
                  year=a.year, force=a.force, quiet=a.quiet)


if __name__ == "__main__":
    main()

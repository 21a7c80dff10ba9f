"""zg-excel's own generators of odd and hostile input files, for the intake tests.

Every file is assembled here from the format specifications (zip parts
written by hand, a minimal CFB / BIFF8 writer), so no third-party sample is
copied into the repository. Each function writes one file and returns its path.

Kinds covered: plain returns, zip bomb, lying zip sizes, XXE / billion laughs,
0-byte, Office lock files, CSV / HTML / SpreadsheetML / plain text renamed to
.xls(x), GBK CSV, encrypted xlsx (msoffcrypto-tool), encrypted xls (FILEPASS),
huge formatted-blank-rows sheets, XFD dimension, WPS-style wrong
``<dimension>``, formulas without a cached value, hidden rows / columns /
sheets, merged header cells, error cells, rows without ``r=`` attributes,
document properties, ods, a Numbers-like zip, Word documents.
"""

from __future__ import annotations

import datetime as _dt
import io
import os
import struct
import zipfile
from dataclasses import dataclass, field

# ------------------------------------------------------------------- xlsx ---

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

STYLES = (
    XML_DECL + f'<styleSheet xmlns="{NS_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFFFFF00"/></patternFill></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="0" fillId="2" borderId="0" xfId="0" applyFill="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)
STYLE_FILLED = 1  # a yellow "formatted blank"
STYLE_DATE = 2


def esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def col_letters(col: int) -> str:
    s = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        s = chr(65 + rem) + s
    return s


@dataclass
class F:
    """A formula cell; ``value`` None = no cached value (as web exporters and openpyxl write)."""

    text: str
    value: object = None


@dataclass
class Err:
    """An error cell such as #DIV/0!."""

    text: str = "#DIV/0!"


@dataclass
class Sheet:
    name: str
    rows: list[list] = field(default_factory=list)  # python values; None = no cell
    state: str = "visible"  # visible | hidden | veryHidden
    dimension: str | None = None  # written as is (may lie)
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)
    merged: list[str] = field(default_factory=list)  # "A1:C1"
    extra_rows_xml: str = ""  # appended inside <sheetData>
    xml: str | bytes | None = None  # full sheet XML, overrides everything above


def _cell_xml(ref: str, v) -> str:
    if v is None:
        return ""
    if isinstance(v, F):
        body = f"<f>{esc(v.text.lstrip('='))}</f>"
        if v.value is None:
            return f'<c r="{ref}">{body}<v></v></c>'
        if isinstance(v.value, str):
            return f'<c r="{ref}" t="str">{body}<v>{esc(v.value)}</v></c>'
        return f'<c r="{ref}">{body}<v>{v.value}</v></c>'
    if isinstance(v, Err):
        return f'<c r="{ref}" t="e"><v>{esc(v.text)}</v></c>'
    if isinstance(v, bool):
        return f'<c r="{ref}" t="b"><v>{int(v)}</v></c>'
    if isinstance(v, (int, float)):
        return f'<c r="{ref}"><v>{v!r}</v></c>'
    if isinstance(v, _dt.date):
        serial = (v - _dt.date(1899, 12, 30)).days
        return f'<c r="{ref}" s="{STYLE_DATE}"><v>{serial}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{esc(str(v))}</t></is></c>'


def sheet_xml(sh: Sheet) -> str:
    out = [XML_DECL, f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_REL}">']
    if sh.dimension:
        out.append(f'<dimension ref="{sh.dimension}"/>')
    if sh.hidden_cols:
        out.append("<cols>")
        for c in sorted(sh.hidden_cols):
            out.append(f'<col min="{c}" max="{c}" width="9" hidden="1" customWidth="1"/>')
        out.append("</cols>")
    out.append("<sheetData>")
    for ri, row in enumerate(sh.rows, 1):
        attrs = ' hidden="1"' if ri in sh.hidden_rows else ""
        cells = "".join(_cell_xml(f"{col_letters(ci)}{ri}", v) for ci, v in enumerate(row, 1))
        if cells or attrs:
            out.append(f'<row r="{ri}"{attrs}>{cells}</row>')
    out.append(sh.extra_rows_xml)
    out.append("</sheetData>")
    if sh.merged:
        out.append(f'<mergeCells count="{len(sh.merged)}">')
        out.extend(f'<mergeCell ref="{m}"/>' for m in sh.merged)
        out.append("</mergeCells>")
    out.append("</worksheet>")
    return "".join(out)


def write_xlsx(path: str, sheets: list[Sheet], *, modified: str | None = "2024-03-05T08:30:00Z",
               application: str | None = "Microsoft Excel", custom: dict[str, str] | None = None,
               sst: str | None = None, macro: bool = False, compresslevel: int = 6) -> str:
    """Write a workbook part by part. Sheet XML may be str, bytes or an iterable of chunks."""
    wb_ct = ("application/vnd.ms-excel.sheet.macroEnabled.main+xml" if macro
             else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")
    ct = [XML_DECL, '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          f'<Override PartName="/xl/workbook.xml" ContentType="{wb_ct}"/>'
          '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>']
    for i, _ in enumerate(sheets, 1):
        ct.append(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                  'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
    if sst is not None:
        ct.append('<Override PartName="/xl/sharedStrings.xml" '
                  'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
    ct.append("</Types>")
    root_rels = [XML_DECL, f'<Relationships xmlns="{NS_PKG_REL}">'
                 f'<Relationship Id="rId1" Type="{NS_REL}/officeDocument" Target="xl/workbook.xml"/>'
                 '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
                 'metadata/core-properties" Target="docProps/core.xml"/>'
                 f'<Relationship Id="rId3" Type="{NS_REL}/extended-properties" Target="docProps/app.xml"/>']
    if custom:
        root_rels.append(f'<Relationship Id="rId4" Type="{NS_REL}/custom-properties" Target="docProps/custom.xml"/>')
    root_rels.append("</Relationships>")
    wb = [XML_DECL, f'<workbook xmlns="{NS_MAIN}" xmlns:r="{NS_REL}"><sheets>']
    wb_rels = [XML_DECL, f'<Relationships xmlns="{NS_PKG_REL}">']
    for i, sh in enumerate(sheets, 1):
        state = "" if sh.state == "visible" else f' state="{sh.state}"'
        wb.append(f'<sheet name="{esc(sh.name)}" sheetId="{i}"{state} r:id="rId{i}"/>')
        wb_rels.append(f'<Relationship Id="rId{i}" Type="{NS_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>')
    wb.append("</sheets></workbook>")
    n = len(sheets)
    wb_rels.append(f'<Relationship Id="rId{n + 1}" Type="{NS_REL}/styles" Target="styles.xml"/>')
    if sst is not None:
        wb_rels.append(f'<Relationship Id="rId{n + 2}" Type="{NS_REL}/sharedStrings" Target="sharedStrings.xml"/>')
    wb_rels.append("</Relationships>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as z:
        z.writestr("[Content_Types].xml", "".join(ct))
        z.writestr("_rels/.rels", "".join(root_rels))
        z.writestr("xl/workbook.xml", "".join(wb))
        z.writestr("xl/_rels/workbook.xml.rels", "".join(wb_rels))
        z.writestr("xl/styles.xml", STYLES)
        if sst is not None:
            z.writestr("xl/sharedStrings.xml", sst)
        for i, sh in enumerate(sheets, 1):
            content = sh.xml if sh.xml is not None else sheet_xml(sh)
            with z.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as fh:
                if isinstance(content, (str, bytes)):
                    content = [content]
                for chunk in content:
                    fh.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
        core = [XML_DECL, '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
                'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>测试</dc:creator>']
        if modified:
            core.append(f'<dcterms:modified xsi:type="dcterms:W3CDTF">{modified}</dcterms:modified>')
        core.append("</cp:coreProperties>")
        z.writestr("docProps/core.xml", "".join(core))
        app = "" if application is None else f"<Application>{esc(application)}</Application>"
        z.writestr("docProps/app.xml", XML_DECL + '<Properties xmlns="http://schemas.openxmlformats.org/'
                   f'officeDocument/2006/extended-properties">{app}</Properties>')
        if custom:
            props = "".join(
                f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{i}" name="{esc(k)}">'
                f"<vt:lpwstr>{esc(v)}</vt:lpwstr></property>" for i, (k, v) in enumerate(custom.items(), 2))
            z.writestr("docProps/custom.xml", XML_DECL + '<Properties xmlns="http://schemas.openxmlformats.org/'
                       'officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/'
                       f'officeDocument/2006/docPropsVTypes">{props}</Properties>')
    return path


HEADER = ["单位", "标题", "报送日期", "字数"]


def plain_rows(n: int = 20) -> list[list]:
    rows = [list(HEADER)]
    for i in range(1, n + 1):
        rows.append([f"第{i % 7 + 1}党支部", f"信息标题{i}", _dt.date(2024, 3, 1 + i % 28), 800 + i])
    return rows


def plain_return(path: str, n: int = 20) -> str:
    """An ordinary small return, as Excel would write it."""
    return write_xlsx(path, [Sheet("报送", plain_rows(n))], custom={"单位": "峡窝镇", "版本": "1"})


# ---------------------------------------------------------- zip hostility ---

def zip_bomb(path: str, mb: int = 64) -> str:
    """A valid xlsx whose one cell holds ``mb`` MiB of 'A' (compresses ~1000:1)."""
    def chunks():
        yield (XML_DECL + f'<worksheet xmlns="{NS_MAIN}"><sheetData><row r="1">'
               '<c r="A1" t="inlineStr"><is><t>')
        block = b"A" * (1 << 20)
        for _ in range(mb):
            yield block
        yield "</t></is></c></row></sheetData></worksheet>"
    return write_xlsx(path, [Sheet("Sheet1", xml=chunks())], compresslevel=9)


def many_rows_bomb(path: str, mb: int = 64) -> str:
    """Valid xlsx, ~``mb`` MiB of identical rows without r= (compresses ~300:1)."""
    unit = '<row><c t="inlineStr"><is><t>x</t></is></c></row>'

    def chunks():
        yield XML_DECL + f'<worksheet xmlns="{NS_MAIN}"><sheetData>'
        block = (unit * ((1 << 20) // len(unit))).encode()
        for _ in range(mb):
            yield block
        yield "</sheetData></worksheet>"
    return write_xlsx(path, [Sheet("Sheet1", xml=chunks())], compresslevel=9)


def lie_about_size(src: str, dst: str, member: str = "xl/worksheets/sheet1.xml", fake: int = 4096) -> str:
    """Copy ``src`` with the declared uncompressed size of ``member`` set to
    ``fake`` in the local header, the zip64 extra fields and the central directory."""
    data = bytearray(open(src, "rb").read())
    with zipfile.ZipFile(src) as z:
        info = z.getinfo(member)
    real = info.file_size

    def patch(size_off: int, extra_off: int, extra_len: int) -> None:
        (declared,) = struct.unpack_from("<I", data, size_off)
        if declared != 0xFFFFFFFF:
            struct.pack_into("<I", data, size_off, fake)
            return
        p = extra_off
        while p + 4 <= extra_off + extra_len:
            hid, hlen = struct.unpack_from("<HH", data, p)
            if hid == 0x0001:
                (val,) = struct.unpack_from("<Q", data, p + 4)
                if val == real:
                    struct.pack_into("<Q", data, p + 4, fake)
                return
            p += 4 + hlen

    off = info.header_offset
    n_len, x_len = struct.unpack_from("<HH", data, off + 26)
    patch(off + 22, off + 30 + n_len, x_len)
    pos = 0
    while (cd := data.find(b"PK\x01\x02", pos)) >= 0:
        n_len, x_len = struct.unpack_from("<HH", data, cd + 28)
        if bytes(data[cd + 46:cd + 46 + n_len]).decode() == member:
            patch(cd + 24, cd + 46 + n_len, x_len)
        pos = cd + 4
    open(dst, "wb").write(bytes(data))
    return dst


def xxe_billion_laughs(path: str) -> str:
    ents = ['<!ENTITY l0 "ha">'] + [f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10}">' for i in range(1, 10)]
    sst = (XML_DECL.replace(' standalone="yes"', "") + "<!DOCTYPE sst [" + "".join(ents) + "]>"
           f'<sst xmlns="{NS_MAIN}" count="1" uniqueCount="1"><si><t>&l9;</t></si></sst>')
    xml = (XML_DECL + f'<worksheet xmlns="{NS_MAIN}"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c>'
           "</row></sheetData></worksheet>")
    return write_xlsx(path, [Sheet("Sheet1", xml=xml)], sst=sst)


def xxe_external(path: str, target: str = "file:///etc/hostname") -> str:
    sst = (XML_DECL.replace(' standalone="yes"', "") + f'<!DOCTYPE sst [<!ENTITY xxe SYSTEM "{target}">]>'
           f'<sst xmlns="{NS_MAIN}" count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>')
    xml = (XML_DECL + f'<worksheet xmlns="{NS_MAIN}"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c>'
           "</row></sheetData></worksheet>")
    return write_xlsx(path, [Sheet("Sheet1", xml=xml)], sst=sst)


# ------------------------------------------------ dimensions and blank rows ---

def formatted_blank_rows(path: str, n_rows: int = 1_048_576, dimension: str = "A1:A1048576",
                         data_rows: int = 1) -> str:
    """``data_rows`` real rows, then styled empty <row>s up to ``n_rows``."""
    def chunks():
        yield XML_DECL + f'<worksheet xmlns="{NS_MAIN}"><dimension ref="{dimension}"/><sheetData>'
        for r in range(1, data_rows + 1):
            yield f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>数据{r}</t></is></c><c r="B{r}"><v>{r}</v></c></row>'
        buf = []
        for r in range(data_rows + 1, n_rows + 1):
            buf.append(f'<row r="{r}" s="{STYLE_FILLED}" customFormat="1"/>')
            if len(buf) == 65536:
                yield "".join(buf)
                buf = []
        yield "".join(buf)
        yield "</sheetData></worksheet>"
    return write_xlsx(path, [Sheet("Sheet1", xml=chunks())])


def xfd_dimension(path: str, n_rows: int = 1_048_576) -> str:
    """Formatted blank rows under a <dimension> claiming the whole grid A1:XFD1048576."""
    return formatted_blank_rows(path, n_rows, dimension="A1:XFD1048576")


def wps_wrong_dimension(path: str) -> str:
    """<dimension ref="A1:B2"> although the data runs to E30 (as some WPS versions write)."""
    rows = [["序号", "单位", "标题", "日期", "字数"]] + [[i, f"单位{i}", f"标题{i}", _dt.date(2024, 1, i % 28 + 1), i * 10]
                                                    for i in range(1, 30)]
    return write_xlsx(path, [Sheet("Sheet1", rows, dimension="A1:B2")], application="WPS 表格")


def far_stray_cell(path: str, ref: str = "XFD1048576") -> str:
    """A1 plus one stray value in the very last cell of the grid."""
    xml = (XML_DECL + f'<worksheet xmlns="{NS_MAIN}"><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
           f'<row r="{ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}"><c r="{ref}"><v>2</v></c></row>'
           "</sheetData></worksheet>")
    return write_xlsx(path, [Sheet("Sheet1", xml=xml)])


# ------------------------------------------------------------ features ---

def formulas_without_value(path: str) -> str:
    rows = [["项目", "数量", "合计"],
            ["甲", 2, F("=B2*2")],                # no cached value
            ["乙", 3, F("=B3*2", 6)],             # cached 6
            ["丙", 4, F('=IF(B4>3,"多","少")', "多")],  # cached text
            ["合计", F("=SUM(B2:B4)"), F("=SUM(C2:C4)")]]
    return write_xlsx(path, [Sheet("Sheet1", rows)], application="SomeWebExporter")


def hidden_things(path: str) -> str:
    rows = plain_rows(8)
    return write_xlsx(path, [
        Sheet("报送", rows, hidden_rows={3, 5}, hidden_cols={2}),
        Sheet("隐藏表", [["秘密", 1]], state="hidden"),
        Sheet("深度隐藏", [["更秘密", 2]], state="veryHidden"),
    ])


def merged_header(path: str) -> str:
    rows = [["2024年第一季度信息报送表", None, None, None],
            ["单位", "信息", None, "备注"],
            [None, "标题", "字数", None],
            ["第一党支部", "标题1", 1200, ""],
            ["第二党支部", "标题2", 900, "补报"]]
    return write_xlsx(path, [Sheet("Sheet1", rows, merged=["A1:D1", "A2:A3", "B2:C2", "D2:D3"])])


def error_cells(path: str) -> str:
    rows = [["a", "b"], [1, Err("#DIV/0!")], [2, Err("#VALUE!")], [None, None, Err("#N/A")]]
    return write_xlsx(path, [Sheet("Sheet1", rows)])


def no_row_numbers(path: str) -> str:
    """Rows and cells without r= attributes (valid OOXML), with a hidden row and a formula."""
    xml = (XML_DECL + f'<worksheet xmlns="{NS_MAIN}"><sheetData>'
           '<row><c t="inlineStr"><is><t>h1</t></is></c><c t="inlineStr"><is><t>h2</t></is></c></row>'
           '<row hidden="1"><c><v>1</v></c><c><f>A2*2</f></c></row>'
           '<row><c><v>3</v></c><c><v>4</v></c></row>'
           "</sheetData></worksheet>")
    return write_xlsx(path, [Sheet("Sheet1", xml=xml)])


def prefixed_namespace(path: str) -> str:
    """SpreadsheetML with an x: prefix everywhere (some generators do this)."""
    xml = (XML_DECL + f'<x:worksheet xmlns:x="{NS_MAIN}"><x:sheetData>'
           '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>k</x:t></x:is></x:c><x:c r="B1"><x:f>1+1</x:f></x:c></x:row>'
           '<x:row r="2" hidden="1"><x:c r="A2"><x:v>5</x:v></x:c></x:row>'
           "</x:sheetData></x:worksheet>")
    return write_xlsx(path, [Sheet("Sheet1", xml=xml)])


def long_string(path: str, chars: int = 40_000) -> str:
    return write_xlsx(path, [Sheet("Sheet1", [["长文本"], ["字" * chars]])])


def many_cells(path: str, rows: int, cols: int) -> str:
    data = [[r * cols + c for c in range(cols)] for r in range(rows)]
    return write_xlsx(path, [Sheet("Sheet1", data)])


def protected_structure(path: str) -> str:
    """Workbook-structure and sheet protection without an open password: must read normally."""
    xml = sheet_xml(Sheet("Sheet1", plain_rows(3))).replace(
        "</sheetData>", '</sheetData><sheetProtection sheet="1" objects="1" scenarios="1" '
        'algorithmName="SHA-512" hashValue="x" saltValue="y" spinCount="100000"/>')
    write_xlsx(path, [Sheet("Sheet1", xml=xml)])
    # add <workbookProtection> to workbook.xml
    buf = io.BytesIO(open(path, "rb").read())
    with zipfile.ZipFile(buf) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b"<sheets>", b'<workbookProtection lockStructure="1"/><sheets>')
            zout.writestr(info, data)
    return path


def encrypted_xlsx(path: str, password: str = "secret") -> str:
    """An xlsx with an open password (agile encryption), via msoffcrypto-tool."""
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO()
    tmp = path + ".plain.xlsx"
    plain_return(tmp, 3)
    plain.write(open(tmp, "rb").read())
    os.remove(tmp)
    plain.seek(0)
    with open(path, "wb") as out:
        OOXMLFile(plain).encrypt(password, out)
    return path


# ------------------------------------------------------ text in disguise ---

CSV_TEXT = "单位,标题,字数\n第一党支部,信息一,1200\n第二党支部,\"含,逗号\",900\n=1+2,公式样文字,5\n"


def csv_file(path: str, encoding: str = "utf-8-sig", text: str = CSV_TEXT, delimiter: str = ",") -> str:
    if delimiter != ",":
        text = text.replace('"含,逗号"', '含，逗号').replace(',', delimiter)
    open(path, "wb").write(text.encode(encoding))
    return path


def html_table(path: str) -> str:
    html = ('<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel">'
            '<head><meta charset="utf-8"></head><body><table><tr><th>单位</th><th>数量</th></tr>'
            "<tr><td>第一党支部</td><td>3</td></tr></table></body></html>")
    open(path, "wb").write(html.encode("utf-8"))
    return path


def spreadsheetml_2003(path: str) -> str:
    xml = ('<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
           '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
           'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="Sheet1"><Table>'
           '<Row><Cell><Data ss:Type="String">单位</Data></Cell></Row></Table></Worksheet></Workbook>')
    open(path, "wb").write(xml.encode("utf-8"))
    return path


def plain_text(path: str) -> str:
    open(path, "wb").write("请查收附件。\n此致\n敬礼\n".encode("utf-8"))
    return path


def random_binary(path: str, size: int = 4096, seed: int = 7) -> str:
    import random

    rnd = random.Random(seed)
    data = bytes(rnd.randrange(256) for _ in range(size))
    open(path, "wb").write(b"\x00\x01\x02" + data)
    return path


def empty_file(path: str) -> str:
    open(path, "wb").close()
    return path


def lock_file(path: str, user: str = "李四 (Li Si)") -> str:
    """An Excel owner file: length byte + ANSI name padded to 54 bytes, then the
    UTF-16LE length + name, padded to 165 bytes."""
    ansi = user.encode("ascii", "replace")[:53]
    b = bytes([len(ansi)]) + ansi.ljust(53, b" ")
    b += struct.pack("<H", len(user)) + user.encode("utf-16-le")
    open(path, "wb").write(b.ljust(165, b" ")[:165])
    return path


# -------------------------------------------------------- other zips ---

def numbers_like(path: str) -> str:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("Index/Document.iwa", b"\x00\x01fake-iwa")
        z.writestr("Metadata/Properties.plist", b"<plist/>")
    return path


def docx_like(path: str) -> str:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", '<Types><Override PartName="/word/document.xml" ContentType="application/'
                   'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("word/document.xml", "<w:document/>")
    return path


def zip_of_files(path: str) -> str:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("说明.txt", "见附件")
    return path


ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"


def ods_file(path: str, encrypted: bool = False) -> str:
    content = ('<?xml version="1.0" encoding="UTF-8"?>'
               '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               '<office:body><office:spreadsheet><table:table table:name="表1">'
               '<table:table-row><table:table-cell office:value-type="string"><text:p>单位</text:p></table:table-cell>'
               '<table:table-cell office:value-type="string"><text:p>数量</text:p></table:table-cell></table:table-row>'
               '<table:table-row><table:table-cell office:value-type="string"><text:p>甲</text:p></table:table-cell>'
               '<table:table-cell office:value-type="float" office:value="3"><text:p>3</text:p></table:table-cell>'
               "</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>")
    enc = ('<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x">'
           '<manifest:algorithm manifest:algorithm-name="Blowfish CFB" manifest:initialisation-vector="x"/>'
           "</manifest:encryption-data>") if encrypted else ""
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODS_MIME}"/>'
                f'<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">{enc}'
                "</manifest:file-entry></manifest:manifest>")
    meta = ('<?xml version="1.0" encoding="UTF-8"?><office:document-meta '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            "<office:meta><meta:generator>LibreOffice/7.6</meta:generator><dc:date>2024-02-01T10:00:00</dc:date>"
            '<meta:user-defined meta:name="单位">峡窝镇</meta:user-defined></office:meta></office:document-meta>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), ODS_MIME)  # stored, first
        z.writestr("content.xml", content)
        z.writestr("meta.xml", meta)
        z.writestr("META-INF/manifest.xml", manifest)
    return path


# ------------------------------------------------------ CFB and BIFF8 ---

CFB_SIG = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def write_cfb(path: str, streams: dict[str, bytes]) -> str:
    """A minimal CFB v3 compound file (one FAT sector, one directory sector).
    Streams are padded to 4096 bytes so none lives in the mini stream."""
    assert len(streams) <= 3
    sec = 512
    names = sorted(streams, key=lambda n: (len(n), n.upper()))
    datas = [streams[n].ljust(4096, b"\x00") for n in names]
    fat = [_FATSECT, _END]  # sector 0 = FAT, sector 1 = directory
    starts = []
    for d in datas:
        n_sec = -(-len(d) // sec)
        start = len(fat)
        starts.append(start)
        fat.extend(range(start + 1, start + n_sec))
        fat.append(_END)
    assert len(fat) <= 128
    fat.extend([_FREE] * (128 - len(fat)))

    def entry(name: str, typ: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\x00\x00"
        return (raw.ljust(64, b"\x00") + struct.pack("<HBB", len(raw), typ, 1)
                + struct.pack("<III", _NOSTREAM, right, child) + b"\x00" * 36
                + struct.pack("<IQ", start, size))

    dirs = [entry("Root Entry", 5, 1 if names else _NOSTREAM, _NOSTREAM, _END, 0)]
    for i, (n, d) in enumerate(zip(names, datas)):
        right = i + 2 if i + 1 < len(names) else _NOSTREAM
        dirs.append(entry(n, 2, _NOSTREAM, right, starts[i], len(d)))
    while len(dirs) < 4:
        dirs.append(b"\x00" * 64 + struct.pack("<HBB", 0, 0, 0) + struct.pack("<III", _NOSTREAM, _NOSTREAM, _NOSTREAM)
                    + b"\x00" * 36 + struct.pack("<IQ", 0, 0))
    header = (CFB_SIG + b"\x00" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\x00" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
              + struct.pack("<I", 0) + struct.pack("<I", _FREE) * 108)
    assert len(header) == sec
    out = header + struct.pack("<128I", *fat) + b"".join(dirs)
    for d in datas:
        out += d.ljust(-(-len(d) // sec) * sec, b"\x00")
    open(path, "wb").write(out)
    return path


def _rec(rtype: int, payload: bytes = b"") -> bytes:
    return struct.pack("<HH", rtype, len(payload)) + payload


def _bof(dt: int) -> bytes:
    return _rec(0x0809, struct.pack("<HHHHII", 0x0600, dt, 0x0DBB, 0x07CC, 0, 0x06))


def _xf_records() -> bytes:
    # 16 style XFs + 1 cell XF, all "General"
    style = struct.pack("<HHHBBBBIIH", 0, 0, 0xFFF5, 0x20, 0, 0, 0, 0, 0, 0x20C0)
    cell = struct.pack("<HHHBBBBIIH", 0, 0, 0x0001, 0x20, 0, 0, 0, 0, 0, 0x20C0)
    font = _rec(0x0031, struct.pack("<HHHHHBBBB", 200, 0, 0x7FFF, 400, 0, 0, 0, 0, 0) + b"\x05\x01" + "Arial".encode("utf-16-le"))
    return font * 5 + b"".join(_rec(0x00E0, style) for _ in range(16)) + _rec(0x00E0, cell)


_BIFF_ERROR_CODES = {"#NULL!": 0x00, "#DIV/0!": 0x07, "#VALUE!": 0x0F, "#REF!": 0x17, "#NAME?": 0x1D,
                     "#NUM!": 0x24, "#N/A": 0x2A}


def biff8_stream(rows: list[list], sheet_name: str = "Sheet1", filepass: bool = False, hidden: bool = False) -> bytes:
    """A minimal BIFF8 workbook stream with one worksheet: numbers, strings (SST),
    error cells (``Err``) and formulas with an error result (``F("=1", Err(...))``)."""
    strings: list[str] = []
    for row in rows:
        for v in row:
            if isinstance(v, str) and v not in strings:
                strings.append(v)
    sst = struct.pack("<II", len(strings), len(strings)) + b"".join(
        struct.pack("<HB", len(s), 1) + s.encode("utf-16-le") for s in strings)
    name = sheet_name.encode("utf-16-le")

    def globals_(sheet_pos: int) -> bytes:
        g = _bof(0x0005)
        if filepass:  # XOR obfuscation header: the workbook has an open password
            g += _rec(0x002F, struct.pack("<HHH", 0, 0x1234, 0x5678))
        g += _rec(0x0042, struct.pack("<H", 1200))  # CODEPAGE: UTF-16
        g += _xf_records()
        g += _rec(0x0085, struct.pack("<IBB", sheet_pos, 1 if hidden else 0, 0)
                  + struct.pack("<BB", len(sheet_name), 1) + name)
        g += _rec(0x00FC, sst)
        g += _rec(0x000A)
        return g

    n_cols = max((len(r) for r in rows), default=0)
    sheet = _bof(0x0010) + _rec(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, n_cols, 0))
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, Err):
                sheet += _rec(0x0205, struct.pack("<HHHBB", r, c, 16, _BIFF_ERROR_CODES[v.text], 1))  # BOOLERR
            elif isinstance(v, F) and isinstance(v.value, Err):
                # FORMULA "=1" whose cached result is an error
                value = struct.pack("<BBBBHH", 2, 0, _BIFF_ERROR_CODES[v.value.text], 0, 0, 0xFFFF)
                sheet += _rec(0x0006, struct.pack("<HHH", r, c, 16) + value
                              + struct.pack("<HIH", 0, 0, 3) + b"\x1e\x01\x00")
            elif isinstance(v, str):
                sheet += _rec(0x00FD, struct.pack("<HHHI", r, c, 16, strings.index(v)))
            else:
                sheet += _rec(0x0203, struct.pack("<HHHd", r, c, 16, float(v)))
    sheet += _rec(0x000A)
    pos = len(globals_(0))
    return globals_(pos) + sheet


def xls_file(path: str, rows: list[list] | None = None, *, filepass: bool = False, hidden: bool = False) -> str:
    rows = rows if rows is not None else [["单位", "数量"], ["甲", 1], ["乙", 2.5]]
    return write_cfb(path, {"Workbook": biff8_stream(rows, filepass=filepass, hidden=hidden)})


def cfb_encrypted_package(path: str) -> str:
    """The container shape of a password-encrypted xlsx (streams only, not real crypto)."""
    return write_cfb(path, {"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00",
                            "EncryptedPackage": b"\x00" * 64})


def word_doc(path: str) -> str:
    return write_cfb(path, {"WordDocument": b"\xec\xa5" + b"\x00" * 64})


def biff2_raw(path: str) -> str:
    """A raw BIFF2 worksheet stream (as very old programs and some exporters write)."""
    data = _rec(0x0009, struct.pack("<HH", 0x0002, 0x0010))
    data += _rec(0x0000, struct.pack("<HHHH", 0, 2, 0, 2))  # DIMENSIONS
    data += _rec(0x0003, struct.pack("<HH", 0, 0) + b"\x00\x00\x00" + struct.pack("<d", 42.0))  # NUMBER
    label = "abc".encode("latin-1")
    data += _rec(0x0004, struct.pack("<HH", 0, 1) + b"\x00\x00\x00" + bytes([len(label)]) + label)  # LABEL
    data += _rec(0x000A)
    open(path, "wb").write(data)
    return path

"""The columns of the two data sheets: written once, used by the template and the intake.

Names and order are the contract with the units' returns: a template's headers
are these names, in this order. Each column also carries the aliases people type
when they retitle a header, its value kind (which parser reads it), and the
dropdown / input message the template shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from .values import normalize_header

SUBMISSIONS = "报送登记"
EVENTS = "录用登记"
INSTRUCTIONS = "填报说明"
CATALOG_SHEET = "媒体目录"
META_SHEET = "_zg"  # hidden sheet holding the machine-readable fingerprint

UNIT_LABEL = "填报单位"


@lru_cache(maxsize=None)
def _header_keys(name: str, aliases: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normalize_header(n) for n in (name, *aliases))


@dataclass(frozen=True)
class Column:
    """One column of a data sheet."""

    name: str
    kind: str  # date | text | choice | count | minutes | yesno | media | section | url | files
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()  # fixed dropdown values (kind choice)
    width: float = 12
    prompt: str = ""  # the template's input message
    required_for: tuple[str, ...] = ()  # forms (录用形式) for which it is required
    ledger: bool = False  # a 台帐 proof column: optional, and a return without it is read as before (no notice)

    def header_keys(self) -> frozenset[str]:
        return _header_keys(self.name, self.aliases)


@dataclass(frozen=True)
class SheetSchema:
    name: str
    columns: tuple[Column, ...]
    title: str = ""  # sheet title above the header, ``{year}`` filled in
    aliases: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})

    def column(self, name: str) -> Column:
        return self._by_name[name]  # type: ignore[attr-defined]

    @property
    def required(self) -> list[Column]:
        return [c for c in self.columns if c.required]


DESTINATIONS = ("区委组织部", "市委组织部", "省委组织部", "中组部")
FORMS = ("采用", "综合", "批示")
LEVELS = ("区级", "市级", "省级", "中央级")
YES_NO = ("是", "否")

SUBMISSION_SHEET = SheetSchema(
    name=SUBMISSIONS,
    title="{year}年度组工信息报送登记表",
    aliases=("报送登记表", "报送情况", "信息报送"),
    columns=(
        Column("报送日期", "date", True, ("日期", "报送时间", "上报日期"), width=13,
               prompt="填写报送日期，如 2026-03-05"),
        Column("稿件标题", "text", True, ("标题", "稿件题目", "题目", "信息标题", "稿件名称"), width=46,
               prompt="填写报送稿件的完整标题"),
        Column("报送对象", "choice", True, ("报送单位", "报送至", "上报对象"), choices=DESTINATIONS, width=14,
               prompt="从下拉列表选择：区委组织部 / 市委组织部 / 省委组织部 / 中组部"),
        Column("经对口处室", "section", False, ("对口处室", "经办科室", "对口科室"), width=14,
               prompt="经区委组织部对口科室报送的，选择该科室；否则留空"),
        Column("备注", "text", False, ("说明",), width=24),
    ),
)

EVENT_SHEET = SheetSchema(
    name=EVENTS,
    title="{year}年度组工信息录用登记表",
    aliases=("录用登记表", "录用情况", "采用登记", "刊发登记"),
    columns=(
        Column("稿件标题", "text", True, ("标题", "稿件题目", "题目", "信息标题", "稿件名称"), width=40,
               prompt="填写录用稿件的完整标题；同一稿件被多家媒体录用的，每家各填一行"),
        Column("录用形式", "choice", True, ("形式", "录用类型", "采用形式"), choices=FORMS, width=10,
               prompt="采用：稿件本身被刊发；综合：素材被综合稿使用；批示：领导批示"),
        Column("媒体名称", "media", True, ("媒体", "录用媒体", "刊发媒体", "采用媒体", "媒体（刊物）名称"),
               width=24, required_for=("采用", "综合"),
               prompt="从下拉列表选择媒体；批示可留空。列表中没有的媒体请在备注中说明"),
        Column("媒体级别", "choice", False, ("级别", "录用级别", "批示级别"), choices=LEVELS, width=10,
               required_for=("批示",),
               prompt="批示填领导级别（中央级=国家）；其他形式按媒体目录自动认定，可不填"),
        Column("录用日期", "date", True, ("日期", "刊发日期", "采用日期", "批示日期", "录用时间"), width=13,
               prompt="填写刊发（批示）日期，如 2026-03-05"),
        Column("字数", "count", False, ("稿件字数", "文字字数"), width=8,
               prompt="文字稿件的字数（整数），超过1000字按3倍计分"),
        Column("视频时长（分钟）", "minutes", False, ("视频时长", "时长", "时长（分钟）", "影像时长"), width=17,
               prompt="影像报道时长，单位分钟，可填小数或“1分30秒”，超过1分钟按3倍计分"),
        Column("经对口处室", "section", False, ("对口处室", "经办科室", "对口科室"), width=14,
               prompt="经区委组织部对口科室向上报送并录用的，选择该科室"),
        Column("是否组织工作", "yesno", False, ("组织工作", "是否组织工作范畴"), choices=YES_NO, width=10,
               prompt="非组织工作范畴或角度的稿件选“否”（不计分）；空白视为“是”"),
        Column("严重失实或政治性问题", "yesno", False, ("严重失实", "是否严重失实", "政治性问题"),
               choices=YES_NO, width=12, prompt="因严重失实或政治性问题产生不良影响的选“是”（倒扣分值）；空白视为“否”"),
        Column("期号版面", "text", False, ("期号/版面", "期号、版面", "期号版次", "日期版次", "刊期版面", "期号", "版面"),
               width=16, ledger=True,
               prompt="市级以上媒体录用的填写：刊物期号和版面，或报纸日期和版次，如“2026年第12期”“3月5日第2版”"),
        Column("链接", "url", False, ("网址", "链接地址", "网页链接", "URL"), width=28, ledger=True,
               prompt="市级以上网站、新媒体录用的填写网页地址，以 http:// 或 https:// 开头"),
        Column("证明材料", "files", False, ("证明材料文件", "台帐材料", "附件", "电子稿", "复印件"), width=24,
               ledger=True,
               prompt="随本表一并报送的电子稿或扫描件的文件名（含扩展名），多个用“;”隔开，如“郑州日报0305.pdf”"),
        Column("备注", "text", False, ("说明",), width=24),
    ),
)

DATA_SHEETS = (SUBMISSION_SHEET, EVENT_SHEET)

# Layout of a fresh template's data sheets (1-based rows).
TITLE_ROW = 1
UNIT_ROW = 2
HEADER_ROW = 3
FIRST_DATA_ROW = 4

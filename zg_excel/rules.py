"""The rules file: shipped defaults + a user's overrides → typed, validated rules.

Every reading of the assessment method that RULES.md fixes is one key of
``defaults/rules.toml``. A working folder's ``rules.toml`` overrides it key by
key; unknown keys and bad values are set-up errors naming the key.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

from .intake.raw import IntakeLimits
from .values import normalize_key

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]


class ConfigError(Exception):
    """A fatal set-up error (bad rules file, roster or catalog); message in Chinese."""


def default_rules_text() -> str:
    return resources.files("zg_excel").joinpath("defaults/rules.toml").read_text(encoding="utf-8")


def to_fraction(value: Any, key: str) -> Fraction:
    """Read a point value exactly: 5, "0.5", "1/5" (floats go through their decimal repr)."""
    if isinstance(value, bool):
        raise ConfigError(f"规则文件 {key}：应为数值，实际为 {value!r}")
    if isinstance(value, (int, str)):
        try:
            return Fraction(str(value).strip())
        except (ValueError, ZeroDivisionError):
            raise ConfigError(f"规则文件 {key}：无法识别的数值 {value!r}") from None
    if isinstance(value, float):
        return Fraction(repr(value))
    raise ConfigError(f"规则文件 {key}：应为数值，实际为 {value!r}")


CATEGORY_KEYS = {
    "annual_points", "monthly_submissions", "yearly_submissions", "counts_destinations",
    "provincial_adoptions", "provincial_outlets", "provincial_forms",
}
# Tables whose keys are names chosen by the user (forms, levels, categories, destinations).
_OPEN_TABLES = {"points", "forms", "level_aliases", "categories", "destinations"}


@dataclass(frozen=True)
class Category:
    name: str
    annual_points: Fraction
    counts_destinations: tuple[str, ...]
    monthly_submissions: int | None = None
    yearly_submissions: int | None = None
    provincial_adoptions: int | None = None
    provincial_outlets: tuple[str, ...] = ()
    provincial_forms: tuple[str, ...] = ()

    @property
    def target_keys(self) -> list[str]:
        keys = ["points"]
        if self.monthly_submissions:
            keys.append("monthly")
        if self.yearly_submissions:
            keys.append("yearly")
        if self.provincial_adoptions:
            keys.append("provincial")
        return keys


@dataclass(frozen=True)
class Rules:
    """Typed rules; ``data`` keeps the merged table for the 计分口径 sheet."""

    data: dict
    overridden: frozenset[str]
    levels: tuple[str, ...]
    points: dict[str, dict[str, Fraction]]
    forms: tuple[str, ...]
    form_lookup: dict[str, str]
    level_lookup: dict[str, str]
    multiplier_factor: Fraction
    multiplier_forms: tuple[str, ...]
    text_chars_over: int
    video_minutes_over: Fraction
    district_adopters: tuple[str, ...]
    unknown_media: str
    not_org_work_points: Fraction
    serious_problem: str
    section_category: str
    credit_fraction: Fraction
    negative_credit: bool
    submissions_count_for_section: bool
    warn_same_title_outlet_other_date: bool
    supersede: str
    time_source: str
    prorate_before_year_end: bool
    as_of_month_elapsed: bool
    places: int
    categories: dict[str, Category]
    destinations: tuple[str, ...]
    destination_lookup: dict[str, str]
    title_similarity: float
    same_outlet_required: bool
    limits: IntakeLimits = field(default_factory=IntakeLimits)

    def form_of(self, text: str) -> str | None:
        return self.form_lookup.get(normalize_key(text))

    def level_of(self, text: str) -> str | None:
        return self.level_lookup.get(normalize_key(text))

    def destination_of(self, text: str) -> str | None:
        return self.destination_lookup.get(normalize_key(text))

    def level_rank(self, level: str) -> int:
        return self.levels.index(level)


def _merge(base: dict, over: dict, path: str, overridden: set[str], errors: list[str]) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        here = f"{path}.{key}" if path else key
        top = here.split(".")[0]
        open_table = top in _OPEN_TABLES and here.count(".") <= (1 if top == "categories" else 0)
        if key not in base and not open_table:
            errors.append(f"未知的键 {here}")
            continue
        if top == "categories" and here.count(".") == 2 and key not in CATEGORY_KEYS:
            errors.append(f"未知的键 {here}（可用：{'、'.join(sorted(CATEGORY_KEYS))}）")
            continue
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = _merge(base[key], value, here, overridden, errors)
        else:
            out[key] = copy.deepcopy(value)
            overridden.add(here)
    return out


def _lookup(table: dict[str, list[str]], key: str, errors: list[str]) -> dict[str, str]:
    """Map each normalized name and alias to its canonical name; an alias may not serve two."""
    out: dict[str, str] = {}
    for canonical, aliases in table.items():
        for name in (canonical, *aliases):
            k = normalize_key(name)
            if k in out and out[k] != canonical:
                errors.append(f"{key}：别名“{name}”同时属于“{out[k]}”和“{canonical}”")
            out[k] = canonical
    return out


def load_rules(user_file: Path | None = None) -> Rules:
    """Load the shipped rules, overridden key by key by ``user_file`` when it exists."""
    base = tomllib.loads(default_rules_text())
    overridden: set[str] = set()
    errors: list[str] = []
    data = base
    if user_file is not None and Path(user_file).exists():
        try:
            user = tomllib.loads(Path(user_file).read_text(encoding="utf-8-sig"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"规则文件 {user_file} 格式错误：{exc}") from None
        data = _merge(base, user, "", overridden, errors)
    try:
        rules = _build(data, frozenset(overridden), errors)
    except (KeyError, TypeError, ValueError) as exc:
        errors.append(f"规则文件缺少或写错了键：{exc}")
        rules = None
    if errors:
        where = f"（{user_file}）" if user_file else ""
        raise ConfigError("规则文件有误" + where + "：\n" + "\n".join(f"  - {e}" for e in errors))
    assert rules is not None
    return rules


def _build(d: dict, overridden: frozenset[str], errors: list[str]) -> Rules | None:
    levels = tuple(d["levels"])
    forms = tuple(d["forms"])
    points: dict[str, dict[str, Fraction]] = {}
    for form, table in d["points"].items():
        if form not in forms:
            errors.append(f"points.{form}：录用形式不在 [forms] 中")
            continue
        points[form] = {}
        for level, value in table.items():
            if level not in levels:
                errors.append(f"points.{form}.{level}：级别不在 levels 中")
                continue
            points[form][level] = to_fraction(value, f"points.{form}.{level}")
        for level in levels:
            if level not in points[form]:
                errors.append(f"points.{form}：缺少级别“{level}”的分值")
    for form in forms:
        if form not in points:
            errors.append(f"points：缺少录用形式“{form}”的分值")
    for key in ("level_aliases",):
        for level in d[key]:
            if level not in levels:
                errors.append(f"{key}.{level}：级别不在 levels 中")
    mult = d["multiplier"]
    for f in mult["forms"]:
        if f not in forms:
            errors.append(f"multiplier.forms：未知的录用形式“{f}”")
    unknown_media = d["outlets"]["unknown_media"]
    if unknown_media not in ("exclude", "declared_level"):
        errors.append("outlets.unknown_media：只能是 \"exclude\" 或 \"declared_level\"")
    serious = d["flags"]["serious_problem"]
    if serious not in ("negate", "zero"):
        errors.append("flags.serious_problem：只能是 \"negate\" 或 \"zero\"")
    supersede = d["versions"]["supersede"]
    if supersede not in ("months_subset", "none"):
        errors.append("versions.supersede：只能是 \"months_subset\" 或 \"none\"")
    time_source = d["versions"]["time_source"]
    if time_source not in ("saved_time", "file_time"):
        errors.append("versions.time_source：只能是 \"saved_time\" 或 \"file_time\"")
    if d["rounding"]["mode"] != "half_up":
        errors.append("rounding.mode：目前只支持 \"half_up\"（四舍五入）")
    destinations = tuple(d["destinations"])
    categories: dict[str, Category] = {}
    for name, c in d["categories"].items():
        key = f"categories.{name}"
        if "annual_points" not in c or "counts_destinations" not in c:
            errors.append(f"{key}：必须有 annual_points 和 counts_destinations")
            continue
        for dest in c["counts_destinations"]:
            if dest not in destinations:
                errors.append(f"{key}.counts_destinations：未知的报送对象“{dest}”")
        for f in c.get("provincial_forms", []):
            if f not in forms:
                errors.append(f"{key}.provincial_forms：未知的录用形式“{f}”")
        categories[name] = Category(
            name=name,
            annual_points=to_fraction(c["annual_points"], f"{key}.annual_points"),
            counts_destinations=tuple(c["counts_destinations"]),
            monthly_submissions=c.get("monthly_submissions"),
            yearly_submissions=c.get("yearly_submissions"),
            provincial_adoptions=c.get("provincial_adoptions"),
            provincial_outlets=tuple(c.get("provincial_outlets", ())),
            provincial_forms=tuple(c.get("provincial_forms", ())),
        )
    intake = d["intake"]
    limits = IntakeLimits(
        max_file_mb=float(intake["max_file_mb"]),
        max_uncompressed_mb=float(intake["max_uncompressed_mb"]),
        max_ratio=float(intake["max_ratio"]),
        max_cells=int(intake["max_cells"]),
        timeout_s=float(intake["timeout_s"]),
        memory_mb=int(intake["memory_mb"]),
        workers=int(intake["workers"]),
    )
    seal = d.get("bulletin", {}).get("seal", False)
    if not isinstance(seal, bool):
        errors.append(f"bulletin.seal：应为 true 或 false，实际为 {seal!r}")
    form_lookup = _lookup(d["forms"], "forms", errors)
    level_lookup = _lookup({lv: d["level_aliases"].get(lv, []) for lv in levels}, "level_aliases", errors)
    destination_lookup = _lookup(d["destinations"], "destinations", errors)
    if errors:
        return None
    return Rules(
        data=d,
        overridden=overridden,
        levels=levels,
        points=points,
        forms=forms,
        form_lookup=form_lookup,
        level_lookup=level_lookup,
        multiplier_factor=to_fraction(mult["factor"], "multiplier.factor"),
        multiplier_forms=tuple(mult["forms"]),
        text_chars_over=int(mult["text_chars_over"]),
        video_minutes_over=to_fraction(mult["video_minutes_over"], "multiplier.video_minutes_over"),
        district_adopters=tuple(d["district"]["adopters"]),
        unknown_media=unknown_media,
        not_org_work_points=to_fraction(d["flags"]["not_org_work_points"], "flags.not_org_work_points"),
        serious_problem=serious,
        section_category=str(d["liaison"]["section_category"]),
        credit_fraction=to_fraction(d["liaison"]["credit_fraction"], "liaison.credit_fraction"),
        negative_credit=bool(d["liaison"]["negative_credit"]),
        submissions_count_for_section=bool(d["liaison"]["submissions_count_for_section"]),
        warn_same_title_outlet_other_date=bool(d["duplicates"]["warn_same_title_outlet_other_date"]),
        supersede=supersede,
        time_source=time_source,
        prorate_before_year_end=bool(d["targets"]["prorate_before_year_end"]),
        as_of_month_elapsed=bool(d["targets"]["as_of_month_elapsed"]),
        places=int(d["rounding"]["places"]),
        categories=categories,
        destinations=destinations,
        destination_lookup=destination_lookup,
        title_similarity=float(d["claims"]["title_similarity"]),
        same_outlet_required=bool(d["claims"]["same_outlet_required"]),
        limits=limits,
    )


def flatten(data: dict, prefix: str = "") -> list[tuple[str, Any]]:
    """The merged rules as (dotted key, value) rows, in file order."""
    rows: list[tuple[str, Any]] = []
    for key, value in data.items():
        here = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            rows.extend(flatten(value, here))
        else:
            rows.append((here, value))
    return rows


def round_half_up(value: Fraction, places: int = 2) -> str:
    """Exact half-up rounding of a Fraction to a fixed-point string (once, for display)."""
    scale = 10**places
    scaled = value * scale
    sign = -1 if scaled < 0 else 1
    n = abs(scaled)
    q, r = divmod(n.numerator, n.denominator)
    if 2 * r >= n.denominator:
        q += 1
    q *= sign
    s = f"{abs(q):0{places + 1}d}"
    text = (s[:-places] + "." + s[-places:]) if places else s
    return ("-" if q < 0 else "") + text

"""zg-excel: collect, validate and score the units' 组工信息 returns of a district."""

__version__ = "0.1.0"
TEMPLATE_VERSION = "1"

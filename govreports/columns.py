"""One metadata model for every published table: columns, types, labels, constraints, keys.

Generated from the template spec (codes and their Chinese/English titles) and the contract.  Pandera
schemas (``govreports.schemas``), Frictionless Table Schemas (``datapackage``), Dagster column metadata
(``assets``) and the docs are all produced from ``TABLES`` below; no other module lists a table's columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from govreports.spec import load_spec


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # string | integer | number | boolean | date
    description: str
    title_zh: str = ""
    required: bool = False
    minimum: float | None = None
    enum: tuple[str, ...] | None = None  # allowed codes
    enum_titles: dict[str, dict[str, str]] | None = None  # code -> {zh, en}


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    title_zh: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = ()
    sort_by: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _titles(codes) -> dict[str, dict[str, str]]:
    return {code: {"zh": c.zh, "en": c.en} for code, c in codes.items()}


def _report_fk() -> tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...]:
    return ((("report_id",), "reports", ("report_id",)),)


def _cell_columns(value_type: str, minimum: float | None) -> tuple[Column, ...]:
    return (
        Column("value", value_type, "the normalised number; null when blank, unreadable or ambiguous", "数值",
               minimum=minimum),
        Column("raw", "string", "the cell exactly as printed (blank cells give an empty string; null when the "
               "text cannot decide which printed value belongs here)", "原文"),
        Column("ambiguous", "boolean", "true when the text allows several placements (see findings: ambiguous_cells)",
               "位置不确定", required=True),
        Column("line", "integer", "line of the row in the parsed text (lineage)", "行号", minimum=1),
    )


CodedKey = tuple[str, str, str, dict]  # column name, description, Chinese title, codes of the spec


def _coded_key(key: CodedKey) -> Column:
    name, description, title_zh, codes = key
    return Column(name, "string", description, title_zh, required=True, enum=tuple(codes), enum_titles=_titles(codes))


def _cell_table(name: str, title: str, title_zh: str, description: str, first: CodedKey, second: CodedKey,
                value_type: str, minimum: float | None, *extra: Column) -> Table:
    """A table of printed cells: the report, two coded keys (row, column), the cell, and any extra columns."""
    keys = ("report_id", first[0], second[0])
    return Table(
        name, title, title_zh, description,
        (Column("report_id", "string", "the report", "报告编号", required=True), _coded_key(first),
         _coded_key(second), *_cell_columns(value_type, minimum), *extra),
        keys, _report_fk(), sort_by=keys,
    )


@cache
def build_tables() -> dict[str, Table]:
    spec = load_spec()
    templates = ("2019", "2021", "pre2019")
    statuses = ("parsed", "partial", "quarantined")
    severities = ("error", "warning", "info")
    reports = Table(
        "reports", "Reports", "报告", "one row per parsed report: metadata, template, status, source and lineage",
        (
            Column("report_id", "string", "stable id: sha256 of the normalised text (32 hex)", "报告编号", required=True),
            Column("status", "string", "parsed | partial", "状态", required=True, enum=statuses),
            Column("reason", "string", "why a report is partial (e.g. no_standard_tables)", "原因"),
            Column("agency", "string", "reporting body as named in the report (or in the collector's manifest, "
                   "which takes precedence)", "报告单位"),
            Column("region", "string", "administrative region of the reporting body, from the collector's manifest",
                   "行政区划"),
            Column("region_code", "string", "code of that region (GB/T 2260, e.g. 350300), from the collector's "
                   "manifest", "行政区划代码"),
            Column("report_year", "integer", "the year the report covers: its year folder, else the collector's "
                   "manifest, else the year printed in the report", "报告年度", minimum=2000),
            Column("template", "string", "template version detected from the table structure", "模板版本",
                   enum=templates),
            Column("published_on", "date", "publication date printed on the page or report", "发布日期"),
            Column("index_number", "string", "索引号 where printed", "索引号"),
            Column("title", "string", "report title", "标题"),
            Column("source_path", "string", "path of the raw file in the landing folder", "源文件"),
            Column("source_url", "string", "where the collector downloaded the file, from its manifest", "来源网址"),
            Column("source_fetched_at", "string", "when the collector downloaded the file (ISO 8601 date or date and "
                   "time, as its manifest gives it)", "获取时间"),
            Column("source_sha256", "string", "sha256 of the raw bytes", "源文件SHA256", required=True),
            Column("source_bytes", "integer", "size of the raw file", "源文件字节数", minimum=0),
            Column("source_format", "string", "text | html | docx | pdf", "源文件格式"),
            Column("encoding", "string", "detected text encoding", "编码"),
            Column("parser_version", "string", "version of the parser that produced the row", "解析器版本",
                   required=True),
            Column("active_disclosure_lines", "string", "first-last line of table 二 in the parsed text", "表二行号"),
            Column("applications_lines", "string", "first-last line of table 三 in the parsed text", "表三行号"),
            Column("appeals_lines", "string", "first-last line of table 四 in the parsed text", "表四行号"),
            Column("findings_error", "integer", "number of error findings", "错误数", minimum=0),
            Column("findings_warning", "integer", "number of warning findings", "警告数", minimum=0),
            Column("findings_info", "integer", "number of info findings", "提示数", minimum=0),
        ),
        ("report_id",),
        sort_by=("report_id",),
    )
    active = _cell_table(
        "active_disclosure", "Proactive disclosure (table 二)", spec.table_title("active_disclosure")["zh"],
        "one row per printed cell of table 二 (第二十条 blocks)",
        ("item", "row of table 二", "信息内容", spec.items), ("metric", "column of table 二", "指标", spec.metrics),
        "number", None, Column("unit", "string", "unit of value (万元 for amounts)", "单位"),
    )
    applications = _cell_table(
        "applications", "Requests received and handled (table 三)", spec.table_title("applications")["zh"],
        "one row per cell of table 三: request counts by handling row and applicant type",
        ("row", "row of table 三", "行", spec.application_rows),
        ("applicant", "applicant column of table 三", "申请人", spec.applicants), "integer", 0,
    )
    appeals = _cell_table(
        "appeals", "Administrative review and litigation (table 四)", spec.table_title("appeals")["zh"],
        "one row per cell of table 四",
        ("proceeding", "review or litigation", "程序", spec.proceedings),
        ("outcome", "outcome column", "结果", spec.outcomes), "integer", 0,
    )
    sections = Table(
        "sections", "Narrative sections", "正文章节", "the six narrative sections of each report",
        (
            Column("report_id", "string", "the report", "报告编号", required=True),
            Column("number", "integer", "section number 1-6", "章节号", required=True, minimum=1),
            Column("title", "string", "heading as printed", "标题"),
            Column("text", "string", "section text", "正文"),
        ),
        ("report_id", "number"),
        _report_fk(),
        sort_by=("report_id", "number"),
    )
    findings = Table(
        "findings", "Findings", "问题记录",
        "every inconsistency or interpretation: rule violations (R1-R5, X1-X4) and parser findings",
        (
            Column("report_id", "string", "the report", "报告编号", required=True),
            Column("finding_no", "integer", "position of the finding within the report", "序号", required=True,
                   minimum=0),
            Column("rule", "string", "rule id or parser finding code", "规则", required=True,
                   enum=tuple(spec.finding_codes())),
            Column("severity", "string", "error | warning | info", "严重程度", required=True, enum=severities),
            Column("message", "string", "what was found", "说明"),
            Column("cells", "string", "cells involved, as table:row:column separated by ';'", "单元格"),
            Column("expected", "string", "expected value (JSON); for manifest_disagrees the manifest's value",
                   "应为"),
            Column("actual", "string", "actual value (JSON); for manifest_disagrees the value it disagrees with: the "
                   "text's, or the year folder's for a report year the folder overruled", "实为"),
        ),
        ("report_id", "finding_no"),
        _report_fk(),
        sort_by=("report_id", "finding_no"),
    )
    quarantine = Table(
        "quarantine", "Quarantine", "隔离", "every input that did not become a report, with a machine-readable reason",
        (
            Column("source_sha256", "string", "sha256 of the raw bytes", "源文件SHA256", required=True),
            Column("source_path", "string", "path of the raw file", "源文件", required=True),
            Column("source_bytes", "integer", "size of the raw file", "字节数", minimum=0),
            Column("reason", "string", "machine-readable reason code", "原因", required=True),
            Column("message", "string", "details", "说明"),
            Column("parser_version", "string", "parser version", "解析器版本"),
        ),
        ("source_sha256", "source_path"),
        sort_by=("source_sha256", "source_path"),
    )
    return {t.name: t for t in (reports, active, applications, appeals, sections, findings, quarantine)}


TABLE_NAMES = ("reports", "active_disclosure", "applications", "appeals", "sections", "findings", "quarantine")

"""Finding the three statistical tables in report text and reading their cells.

Tables are found by their structure (the 第二十条 block markers, the template's row labels, the table-四
header words), never by line numbers.  Cells between two labels are read from the original text, in whatever
layout it uses: pipes, tabs, one cell per line, or digits run together.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from govreports.normalise import normalise_cell
from govreports.parser.placement import Placement, Reading, SumRule, place_row
from govreports.parser.textview import TextView, label_pattern
from govreports.spec import Code, Spec, load_spec

_CELL = re.compile(
    r"(?:[+\-]|增加?|减少?)?\d[\d,]*(?:\.\d+)?(?:万元|亿元|千元|元|万宗|万件|万|次|件|个|条|项|宗)?"
    r"|(?<![\d\w])(?:[-/\\]|—{1,2}|无)(?![\d\w])"
)
_PAGE_FOOTER = re.compile(r"第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|(?m:^\s*[-—]\s*\d+\s*[-—]\s*$)|(?m:^\s*\d+\s*/\s*\d+\s*$)")
_BLOCK_MARKER = re.compile(r"第二十条第?\(?([一二三四五六七八九十]{1,2})\)?项")
_BLOCK_NUMERALS = {"一": "article20_1", "五": "article20_5", "六": "article20_6", "八": "article20_8", "九": "article20_9"}
_APPEAL_HEADERS = re.compile(r"结果维持|结果纠正|其他结果|尚未审结|总计|行政复议|行政诉讼|未经复议直接起诉|复议后起诉|复议后|直接起诉")
_APPEAL_START = re.compile(r"(?:四[、.]?)?(?:政府信息公开)?(?:行政复议、?(?:和|及)?(?:提起)?行政诉讼|行政复议)")
_TABLE3_HEADING = re.compile(r"(?:三[、.]?)?收到和处理政府信息公开申请|申请人情况")
_SECTION5 = re.compile(r"五[、.]?(?:政府信息公开工作)?存在的主要问题|存在的主要问题及改进情况|五[、.]?主要问题")
_NUMBERING_TRAIL = re.compile(r"\d{1,2}\s*[.、]\s*$")
_PAREN_NOTE = re.compile(r"\([^)]*\)")
_UNIT_IN_HEADER = re.compile(r"单位[:]?\s*(万元|元|亿元)")

_FINDING_NOTES = {"unit_converted", "unit_assumed", "value_with_text", "placeholder_cell", "unreadable_cell",
                  "chinese_numeral", "leading_zeros", "thousands_separator"}


CELL_KEYS = {"active_disclosure": ("item", "metric"), "applications": ("row", "applicant"),
             "appeals": ("proceeding", "outcome")}

Cell = dict  # one printed cell in the CONTRACT.md shape, e.g. {"row", "applicant", "value", "raw", "line"}


def cell_ref(table: str, cell: Cell) -> str:
    first, second = CELL_KEYS[table]
    return f"{table}:{cell[first]}:{cell[second]}"


@dataclass
class TableSpan:
    start: int
    end: int
    start_line: int
    end_line: int


@dataclass
class Tables:
    template: str | None
    cells: dict[str, list[Cell]] = field(default_factory=lambda: {
        "active_disclosure": [], "applications": [], "appeals": []})
    findings: list[dict] = field(default_factory=list)
    spans: dict[str, TableSpan] = field(default_factory=dict)
    flattened: bool = False
    with_blank_cells: set[str] = field(default_factory=set)  # tables holding a blank cell

    def finding(self, rule: str, message: str, cells: Sequence[str] = (), **extra: object) -> None:
        entry: dict[str, object] = {"rule": rule, "severity": load_spec().severity(rule), "message": message,
                                    "cells": list(cells)}
        entry.update(extra)
        self.findings.append(entry)


# ---------------------------------------------------------------------------------------------- helpers


_ROW_PATTERNS: dict[int, tuple[Code, re.Pattern[str]]] = {}


def _row_pattern(row: Code) -> re.Pattern[str]:
    """The row's label pattern, kept per row object (hashing a row's every field on each lookup costs more
    than the search it serves)."""
    cached = _ROW_PATTERNS.get(id(row))
    if cached is not None and cached[0] is row:
        return cached[1]
    pattern = _compile_row_pattern(row)
    _ROW_PATTERNS[id(row)] = (row, pattern)
    return pattern


def _compile_row_pattern(row: Code) -> re.Pattern[str]:
    labels = list(row.labels)
    if row.short:
        labels.append(row.short)
    number = row.number or ""
    if len(row.zh) <= 2:  # generic labels (其他, 总计) only count with their printed number
        return label_pattern(*labels, prefix=re.escape(number.rstrip(".、")) + r"[.、]?" if number else "")
    if number:
        num = re.escape(number.rstrip(".、").replace("（", "(").replace("）", ")"))
        return label_pattern(*labels, prefix=f"(?:{num}[.、]?)?")
    return label_pattern(*labels)


class _LineCounter:
    """1-based line numbers of offsets, counted on (or back) from the last offset asked: offsets arrive nearly
    in order (a table's span, then its rows)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset = 0
        self.line = 1

    def __call__(self, offset: int) -> int:
        if offset >= self.offset:
            self.line += self.text.count("\n", self.offset, offset)
        else:
            self.line -= self.text.count("\n", offset, self.offset)
        self.offset = offset
        return self.line


def _classify(part: str) -> str:
    stripped = part.strip()
    if not stripped:
        return "empty"
    if stripped.isdigit() and stripped.isascii():  # the common cell, without the regex
        return "cell"
    if _CELL.fullmatch(stripped):
        return "cell"
    if all(_CELL.fullmatch(p) for p in stripped.split()):
        return "cells"
    return "junk"


def _pipe_cells(text: str, ncols: int) -> list[str] | None:
    """Cells of a pipe-separated row, blanks included, when the pipes say where each cell is."""
    parts = text.split("|")
    kinds = [_classify(p) for p in parts]
    if "cells" in kinds:
        return None
    if kinds and kinds[0] != "cell":  # what follows the label inside the label's own cell
        parts, kinds = parts[1:], kinds[1:]
    cell_positions = [i for i, k in enumerate(kinds) if k == "cell"]
    last_cell = cell_positions[-1] if cell_positions else -1
    junk_after = next((i for i in range(last_cell + 1, len(kinds)) if kinds[i] == "junk"), None)
    if junk_after is not None:  # the next row's group label: it stands after this row's final pipe
        parts, kinds = parts[:junk_after], kinds[:junk_after]
    elif kinds and kinds[-1] == "empty":  # what follows the row's final pipe
        parts, kinds = parts[:-1], kinds[:-1]
    cells = [p.strip() for p, k in zip(parts, kinds, strict=True) if k != "junk"]
    if len(cells) > ncols:
        filled = [i for i, c in enumerate(cells) if c]
        interior_blank = bool(filled) and any(not c for c in cells[: filled[-1]])
        # Some tools pack a row's values to the left and pad every row to one pipe count; trailing empties are
        # then padding, not blank cells.  Only where blanks also stand between values are the pipes positional.
        floor = ncols if interior_blank else 0
        while len(cells) > floor and cells and not cells[-1]:
            cells.pop()
    return cells if len(cells) == ncols else None


def _tab_cells(text: str, ncols: int) -> list[str] | None:
    parts = [p.strip() for p in text.split("\n")]
    if any(_classify(p) in ("junk", "cells") for p in parts):
        return None
    while parts and not parts[0]:
        parts.pop(0)
    while parts and not parts[-1]:
        parts.pop()
    return parts if len(parts) == ncols else None


def split_cells(value_text: str, ncols: int) -> tuple[list[str] | None, list[str]]:
    """(positional cells incl. blanks, or None; printed chunks — only when there are no positional cells, as
    only placement needs them) for the text between two labels.

    Blank cells are only positional where the layout marks cell boundaries (pipes, tabs); in layouts of one
    cell per line or run-together digits a blank cell leaves no trace and placement has to decide.
    """
    text = value_text
    if "页" in text or "/" in text or "-" in text or "—" in text:  # else no footer pattern can match
        text = _PAGE_FOOTER.sub(" ", text)
    text = text.rstrip()
    if text.endswith((".", "、")):
        text = _NUMBERING_TRAIL.sub("", text)
    positional: list[str] | None = None
    if "|" in text:
        positional = _pipe_cells(text, ncols)
    elif "\t" in text:
        positional = _tab_cells(text, ncols)
    return positional, ([] if positional is not None else _CELL.findall(text))


# ---------------------------------------------------------------------------------------------- rules for placement


@lru_cache(maxsize=65_536)
def _int_or_zero(raw: str | None) -> float:
    if raw is None:
        return 0
    return normalise_cell(raw).value or 0


_r3_check = SumRule(((0, 6),), _int_or_zero)  # table 三: six applicant columns add up to 总计
_r4_check = SumRule(((0, 4), (5, 9), (10, 14)), _int_or_zero)  # table 四: per proceeding, four outcomes to 总计


_HEADER_PATTERNS: dict[int, tuple[re.Pattern[str], dict[str, str]]] = {}


def _metric_header_pattern(spec: Spec) -> tuple[re.Pattern[str], dict[str, str]]:
    cached = _HEADER_PATTERNS.get(id(spec))
    if cached is not None:
        return cached
    labels = [lab for metric in spec.metrics.values() for lab in metric.labels if not lab.startswith("\\")]
    label_to_code = {}
    for code, metric in spec.metrics.items():
        for lab in metric.labels:
            label_to_code[lab.replace("（", "(").replace("）", ")")] = code
    _HEADER_PATTERNS[id(spec)] = (label_pattern(*labels), label_to_code)
    return _HEADER_PATTERNS[id(spec)]


_CHECKS = {"R3": _r3_check, "R4": _r4_check}


@lru_cache(maxsize=1024)
def _cell_keys(table: str, key: str, columns: tuple[str, ...]) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """(row key, column) of each cell of a row, and each cell's reference; table 四's columns are
    ``proceeding.outcome``."""
    if table == "appeals":
        keys = tuple(tuple(c.split(".")) for c in columns)
    else:
        keys = tuple((key, c) for c in columns)
    return keys, tuple(f"{table}:{k}:{c}" for k, c in keys)  # type: ignore[return-value]

CellReading = tuple[str | None, int | float | None, str | None, tuple[str, ...], bool]  # raw, value, unit, notes, ambiguous


@dataclass(frozen=True, slots=True)
class RowReading:
    """How one row's printed text reads: its cells, and whether that was literal, placed, or ambiguous."""

    chunks: tuple[str, ...]
    cells: tuple[CellReading, ...]
    status: str  # literal | placed | ambiguous | unreadable
    blanks_inserted: bool = False
    candidates: tuple[Reading, ...] = ()
    truncated: bool = False
    message: str = ""  # what the finding for a non-literal row says after "<table> <row>: "
    plain: bool = False  # no cell is ambiguous or carries notes: cells need only their raw text and value
    has_blank: bool = False  # some cell is blank (raw "" and no value): R3/R4 may prove it zero


@lru_cache(maxsize=32_768)
def read_row(value_text: str, kinds: tuple[str, ...], rule: str | None, flattened: bool,
             declared_unit: str | None) -> RowReading:
    """Read a row's cells from the text between its label and the next one.  Pure, hence cached: the same
    printed row (a row of zeros, above all) recurs across thousands of reports."""
    positional, chunks = split_cells(value_text, len(kinds))
    return _read_cells(None if positional is None else tuple(positional), tuple(chunks), kinds, rule, flattened,
                       declared_unit)


def clear_row_caches() -> None:
    """Forget every row read so far (benchmarks measure rows read afresh)."""
    read_row.cache_clear()
    _read_cells.cache_clear()


@lru_cache(maxsize=32_768)
def _read_cells(positional: tuple[str, ...] | None, chunks: tuple[str, ...], kinds: tuple[str, ...], rule: str | None,
                flattened: bool, declared_unit: str | None) -> RowReading:
    """A row's cells from what its text printed, however it was laid out: the same printed values in another
    layout (another line breaking, more spaces) read the same."""
    ncols = len(kinds)
    if positional is not None:
        placement = Placement((tuple(positional),), literal=True, rule_checked=False, blanks_inserted=False)
    else:
        placement = place_row(chunks, kinds, _CHECKS.get(rule or ""), flattened=flattened)
    if not placement.readings:
        return RowReading(chunks, (), "unreadable",
                          message=f"{len(chunks)} printed values for {ncols} columns: {list(chunks)!r}")
    agreed = placement.agreed()
    undetermined = set(placement.undetermined())
    cells: list[CellReading] = []
    for index, raw in enumerate(agreed):
        if index in undetermined:
            cells.append((None, None, None, (), True))
            continue
        normalised = normalise_cell(raw or "", kinds[index], declared_unit)
        cells.append((raw if raw is not None else "", normalised.value, normalised.unit, normalised.notes, False))
    message = ""
    if undetermined:
        status = "ambiguous"
        message = (f"printed {list(chunks)!r} allows {len(placement.readings)} placements"
                   + (" (list truncated)" if placement.truncated else ""))
    elif placement.literal:
        status = "literal"
    else:
        status = "placed"
        message = (f"printed {list(chunks)!r} placed as {list(agreed)}"
                   + (" (blank cells inserted)" if placement.blanks_inserted else ""))
    plain = not any(c[3] or c[4] for c in cells)
    has_blank = any(c[0] == "" and c[1] is None for c in cells)
    return RowReading(chunks, tuple(cells), status, placement.blanks_inserted,
                      placement.readings if undetermined else (), placement.truncated, message, plain, has_blank)


# ---------------------------------------------------------------------------------------------- the reader


class TableReader:
    def __init__(self, text: str, spec: Spec | None = None) -> None:
        self.spec = spec or load_spec()
        self.original = text  # cells are sliced from here, so raw values stay as printed
        # Labels are only searched from the first table on: translate and squeeze just that part of the text
        # (narrative prose is full of full-width punctuation, and translating it costs more than the tables).
        anchors = [i for i in (text.find("第二十条"), text.find("本年新收")) if i >= 0]
        start = max(0, min(anchors) - 200) if anchors else len(text)
        self.view = TextView.of(text, start)
        self.text = self.view.text
        self._line_of = _LineCounter(self.text)

    # -- locating -------------------------------------------------------------------------------------------
    def _blocks(self) -> list[tuple[str, int, int]]:
        """(block code, marker start, marker end) in printed order, original offsets."""
        found: list[tuple[str, int, int]] = []
        seen: set[str] = set()
        for match in _BLOCK_MARKER.finditer(self.view.squeezed):
            code = _BLOCK_NUMERALS.get(match.group(1))
            if code is None or code in seen:
                continue
            if found and code == "article20_1":
                break
            seen.add(code)
            found.append((code, self.view.to_original(match.start()), self.view.to_original(match.end(), end=True)))
        return found

    def detect_template(self, blocks: list[tuple[str, int, int]], t3_start: int | None) -> str | None:
        if not blocks and t3_start is None:
            return None
        region_end = t3_start if t3_start is not None else len(self.text)
        start = blocks[0][1] if blocks else (t3_start or 0)
        squeezed = self.view.squeezed[self.view.to_squeezed(start): self.view.to_squeezed(region_end)]
        score_2021 = sum(lab in squeezed for lab in ("本年制发件数", "本年废止件数", "现行有效件数", "本年收费金额"))
        score_2019 = sum(lab in squeezed for lab in ("本年新制作数量", "本年新公开数量", "上一年项目数量", "政府集中采购",
                                                      "对外公开总数量", "本年增/减"))
        if any(code == "article20_9" for code, _, _ in blocks):
            score_2019 += 1
        tail = self.view.squeezed[self.view.to_squeezed(region_end):]
        if "逾期不补正" in tail or "逾期未按收费通知" in tail:
            score_2021 += 2
        elif "其他处理" in tail and t3_start is not None:
            score_2019 += 1
        if score_2021 == score_2019 == 0:
            return None
        return "2021" if score_2021 > score_2019 else "2019"

    def read(self) -> Tables:
        blocks = self._blocks()
        search_from = blocks[0][1] if blocks else 0
        t3_first = self.view.search(label_pattern("本年新收政府信息公开申请数量", "本年新收政府信息公开申请"), search_from)
        t3_start = None
        if t3_first:
            heading = self.view.search(_TABLE3_HEADING, blocks[-1][2] if blocks else max(0, t3_first[0] - 400), t3_first[0])
            t3_start = heading[0] if heading else t3_first[0]
        template = self.detect_template(blocks, t3_start)
        tables = Tables(template)
        if template is None:
            tables.finding("no_standard_tables", "none of the three standard tables was found")
            return tables
        self.flattened = self._is_flattened(t3_first)
        tables.flattened = self.flattened
        t2_end = t3_start if t3_start is not None else len(self.text)
        if blocks:
            self._read_active_disclosure(tables, template, blocks, t2_end)
        else:
            tables.finding("missing_table", "table 二 (主动公开政府信息情况) not found", ["active_disclosure"])
        t4_from = blocks[-1][2] if blocks else 0
        if t3_first:
            t4_from = self._read_applications(tables, template, t3_start or t3_first[0], t3_first)
        else:
            tables.finding("missing_table", "table 三 (收到和处理政府信息公开申请情况) not found", ["applications"])
        self._read_appeals(tables, t4_from)
        return tables

    def _is_flattened(self, t3_first: tuple[int, int] | None) -> bool:
        """Flattened copies run whole rows together: no line break, tab or pipe between two rows' cells."""
        if t3_first is None:
            return False
        carried_over = self.spec.application_rows["carried_over"]
        nxt = self.view.search(_row_pattern(carried_over), t3_first[1], t3_first[1] + 400)
        between = self.text[t3_first[1]: nxt[0] if nxt else t3_first[1] + 40]
        return not re.search(r"[\n\t|]", between) and bool(re.search(r"\d", between))

    def _span(self, start: int, end: int) -> TableSpan:
        return TableSpan(start, end, self._line_of(start), self._line_of(max(start, end - 1)))

    # -- table 二 ------------------------------------------------------------------------------------------
    def _read_active_disclosure(self, tables: Tables, template: str, blocks: list[tuple[str, int, int]], end: int) -> None:
        spec_blocks = {b.code: b for b in self.spec.blocks(template)}
        tables.spans["active_disclosure"] = self._span(blocks[0][1], end)
        for index, (code, _start, marker_end) in enumerate(blocks):
            block_end = blocks[index + 1][1] if index + 1 < len(blocks) else end
            block = spec_blocks.get(code)
            if block is None:
                tables.finding("template_mismatch", f"block {code} is not part of the {template} template",
                               [f"active_disclosure:{code}"])
                continue
            item_hits: list[tuple[str, int, int]] = []
            cursor = marker_end
            for item in block.items:
                hit = self.view.search(label_pattern(*self.spec.items[item].labels), cursor, block_end)
                if hit is None:
                    tables.finding("missing_row", f"row {item} not found in block {code}", [f"active_disclosure:{item}"])
                    continue
                item_hits.append((item, *hit))
                cursor = hit[1]
            if not item_hits:
                continue
            metrics, unit = self._block_metrics(tables, block, marker_end, item_hits[0][1])
            kinds = [self.spec.metrics[m].kind for m in metrics]
            for position, (item, _s, label_end) in enumerate(item_hits):
                value_end = item_hits[position + 1][1] if position + 1 < len(item_hits) else block_end
                self._place(tables, "active_disclosure", item, metrics, kinds,
                            self.original[label_end:value_end], None, label_end, unit)

    def _block_metrics(self, tables: Tables, block, start: int, end: int) -> tuple[list[str], str | None]:
        """The block's columns, read from its header; the template's order where the header cannot say."""
        header = self.view.squeezed[self.view.to_squeezed(start): self.view.to_squeezed(end)]
        unit_match = _UNIT_IN_HEADER.search(header)
        unit = unit_match.group(1) if unit_match else None
        header = _PAREN_NOTE.sub("", header).replace("信息内容", "")
        pattern, label_to_code = _metric_header_pattern(self.spec)
        found: list[str] = []
        covered = 0
        for match in pattern.finditer(header):
            code = label_to_code.get(match.group(0))
            if code is None:
                continue
            found.append(code)
            covered += len(match.group(0))
        for match in re.finditer(r"\d{4}年项目数量", header):
            found.insert(0, "current_year_count")
            covered += len(match.group(0))
        expected = list(block.metrics)
        if found == expected:
            return found, unit
        if found and covered == len(header) and len(set(found)) == len(found):
            if found != expected:
                tables.finding("header_assumed" if set(found) <= set(expected) else "template_mismatch",
                               f"block {block.code} prints columns {found} (template: {expected})",
                               [f"active_disclosure:{block.code}"])
            return found, unit
        tables.finding("header_assumed",
                       f"block {block.code} header {header!r} not fully readable; columns taken in template order",
                       [f"active_disclosure:{block.code}"])
        return expected, unit

    # -- table 三 ------------------------------------------------------------------------------------------
    def _read_applications(self, tables: Tables, template: str, start: int, first: tuple[int, int]) -> int:
        rows = self.spec.rows_for(template)
        columns = list(self.spec.applicants)
        hits: list[tuple[Code, int, int]] = [(rows[0], *first)]
        cursor = first[1]
        limit = min(len(self.text), first[1] + 20_000)
        for row in rows[1:]:
            hit = self.view.search(_row_pattern(row), cursor, limit)
            if hit is None and len(row.zh) <= 2:
                hit = self.view.search(label_pattern(*row.labels), cursor, limit)
            if hit is None:
                tables.finding("missing_row", f"row {row.code} ({row.zh}) not found", [f"applications:{row.code}"])
                continue
            hits.append((row, *hit))
            cursor = hit[1]
        appeals = self.view.search(_APPEAL_START, hits[-1][2], min(len(self.text), hits[-1][2] + 5000))
        end = appeals[0] if appeals else min(len(self.text), hits[-1][2] + 400)
        tables.spans["applications"] = self._span(start, end)
        kinds = ["count"] * len(columns)
        for position, (row, _s, label_end) in enumerate(hits):
            value_end = hits[position + 1][1] if position + 1 < len(hits) else end
            self._place(tables, "applications", row.code, columns, kinds, self.original[label_end:value_end],
                        "R3", label_end)
        return end

    # -- table 四 ------------------------------------------------------------------------------------------
    def _read_appeals(self, tables: Tables, start: int) -> None:
        heading = self.view.search(_APPEAL_START, start, min(len(self.text), start + 5000))
        if heading is None:
            tables.finding("missing_table", "table 四 (行政复议、行政诉讼情况) not found", ["appeals"])
            return
        # Some copies print the next section's heading before the table body: look for it after the headers.
        first_header = self.view.search(_APPEAL_HEADERS, heading[1], min(len(self.text), heading[1] + 3000))
        section5 = self.view.search(_SECTION5, first_header[1] if first_header else heading[1],
                                    min(len(self.text), heading[1] + 6000))
        end = section5[0] if section5 else min(len(self.text), heading[1] + 1500)
        sq_from, sq_to = self.view.to_squeezed(heading[0]), self.view.to_squeezed(end)
        last_header_end = None
        for match in _APPEAL_HEADERS.finditer(self.view.squeezed, sq_from, sq_to):
            last_header_end = match.end()
        if last_header_end is None:
            tables.finding("missing_table", "table 四 header not found", ["appeals"])
            return
        values_from = self.view.to_original(last_header_end, end=True)
        tables.spans["appeals"] = self._span(heading[0], end)
        columns = [f"{p}.{o}" for p in self.spec.proceedings for o in self.spec.outcomes]
        self._place(tables, "appeals", "", columns, ["count"] * 15, self.original[values_from:end], "R4", values_from)

    # -- placing -------------------------------------------------------------------------------------------
    def _place(self, tables: Tables, table: str, key: str, columns: list[str], kinds: list[str],
               value_text: str, rule: str | None, offset: int, declared_unit: str | None = None) -> None:
        reading = read_row(value_text, tuple(kinds), rule, self.flattened, declared_unit)
        line = self._line_of(offset)
        keys, cell_refs = _cell_keys(table, key, tuple(columns))
        if reading.status != "literal":
            refs = list(cell_refs)
            chunks = list(reading.chunks)
            message = f"{table} {key or 'row'}: {reading.message}"
            if reading.status == "unreadable":
                tables.finding("extra_cells" if len(chunks) > len(columns) else "unreadable_cell", message, refs,
                               printed=chunks)
                return
            if reading.status == "placed":
                tables.finding("cells_placed_by_rule", message, refs, printed=chunks)
            else:
                tables.finding("ambiguous_cells", message, [refs[i] for i, c in enumerate(reading.cells) if c[4]],
                               printed=chunks, candidates=[list(r) for r in reading.candidates])
        out = tables.cells[table]
        if reading.has_blank:
            tables.with_blank_cells.add(table)
        first, second = CELL_KEYS[table]
        with_unit = table == "active_disclosure"
        if reading.plain and not with_unit:  # the common row: nothing but keys, value, raw text and line
            out.extend([{first: row_key, second: column, "value": cell[1], "raw": cell[0], "line": line}
                        for (row_key, column), cell in zip(keys, reading.cells, strict=True)])
            return
        for (row_key, column), (raw, value, unit, notes, ambiguous) in zip(keys, reading.cells, strict=True):
            cell = {first: row_key, second: column, "value": value, "raw": raw, "line": line}
            if with_unit:
                cell["unit"] = unit
            if ambiguous:
                cell["ambiguous"] = True
            out.append(cell)
            for note in notes:
                if note in _FINDING_NOTES:
                    ref = f"{table}:{row_key}:{column}"
                    tables.finding(note, f"{ref}: {raw!r} read as {value!r}" + (f" {unit}" if unit else ""), [ref])

"""Test helper: render a report's three tables in the layouts seen in real copies.

Truth is a dict {"active_disclosure": {(item, metric): value}, "applications": {(row, applicant): value},
"appeals": {(proceeding, outcome): value}}.  Each renderer returns full report text around the tables.
"""

from __future__ import annotations

from collections.abc import Callable

from govreports.spec import load_spec

SPEC = load_spec()
APPLICANTS = list(SPEC.applicants)
OUTCOMES = list(SPEC.outcomes)
PROCEEDINGS = list(SPEC.proceedings)

Row = tuple[str, list[str]]  # (label cells, values)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def table_rows(template: str, truth: dict) -> dict[str, list[tuple[list[str], list[str]]]]:
    """Per table: list of (label cells, value strings) in printed order, including header rows (no values)."""
    out: dict[str, list[tuple[list[str], list[str]]]] = {"active_disclosure": [], "applications": [], "appeals": []}
    for block in SPEC.blocks(template):
        out["active_disclosure"].append(([block.marker], []))
        out["active_disclosure"].append((["信息内容", *[SPEC.metrics[m].zh for m in block.metrics]], []))
        for item in block.items:
            label = SPEC.items[item].variants[0] if (template == "2021" and SPEC.items[item].variants) else SPEC.items[item].zh
            out["active_disclosure"].append(([label], [_fmt(truth["active_disclosure"][(item, m)]) for m in block.metrics]))
    apps = out["applications"]
    apps.append((["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "申请人情况"], []))
    apps.append((["自然人", "法人或其他组织", "总计"], []))
    apps.append((["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"], []))
    groups_printed: set[str] = set()
    for row in SPEC.rows_for(template):
        labels = []
        if row.group == "本年度办理结果" and "本年度办理结果" not in groups_printed:
            labels.append("三、本年度办理结果")
            groups_printed.add("本年度办理结果")
        if row.group in ("不予公开", "无法提供", "不予处理", "其他处理") and row.group not in groups_printed:
            number = {"不予公开": "（三）", "无法提供": "（四）", "不予处理": "（五）", "其他处理": "（六）"}[row.group]
            labels.append(number + row.group)
            groups_printed.add(row.group)
        text = (row.number or "") + row.zh
        if row.code == "partially_granted":
            text += "（区分处理的，只计这一情形，不计其他情形）"
        if row.code == "denied_three_securities_one_stability":
            text = "3.危及“三安全一稳定”"
        labels.append(text)
        apps.append((labels, [_fmt(truth["applications"][(row.code, a)]) for a in APPLICANTS]))
    out["appeals"].append((["行政复议", "行政诉讼"], []))
    out["appeals"].append((["结果维持", "结果纠正", "其他结果", "尚未审结", "总计", "未经复议直接起诉", "复议后起诉"], []))
    out["appeals"].append(([*["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 2], []))
    out["appeals"].append(([], [_fmt(truth["appeals"][(p, o)]) for p in PROCEEDINGS for o in OUTCOMES]))
    return out


HEADINGS = ("二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议、行政诉讼情况")


def _wrap(agency: str, year: int, tables: list[str]) -> str:
    return (
        f"{agency}{year}年政府信息公开工作年度报告\n"
        f"本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。\n"
        "一、总体情况\n本年度我单位认真贯彻落实《条例》。\n"
        f"{HEADINGS[0]}\n{tables[0]}\n{HEADINGS[1]}\n{tables[1]}\n{HEADINGS[2]}\n{tables[2]}\n"
        "五、存在的主要问题及改进情况\n公开意识有待提高。\n六、其他需要报告的事项\n无。\n"
    )


def render_pipe(rows: list[tuple[list[str], list[str]]]) -> str:
    return "\n".join(" | ".join([*labels, *values]) + " |" for labels, values in rows)


def render_tab(rows: list[tuple[list[str], list[str]]]) -> str:
    return "\n\n".join("\n".join("\t" + cell for cell in [*labels, *values]) for labels, values in rows)


def render_lines(rows: list[tuple[list[str], list[str]]], *, blank_between: bool = False) -> str:
    joiner = "\n\n" if blank_between else "\n"
    return joiner.join(cell for labels, values in rows for cell in [*labels, *values])


def render_collapsed(rows: list[tuple[list[str], list[str]]]) -> str:
    """One cell per line with consecutive identical lines dropped (the copying tool's habit)."""
    out: list[str] = []
    for labels, values in rows:
        for cell in [*labels, *values]:
            if not out or out[-1] != cell:
                out.append(cell)
    return "\n".join(out)


def render_flattened(rows: list[tuple[list[str], list[str]]]) -> str:
    return "".join("".join([*labels, *values]) for labels, values in rows)


LAYOUTS: dict[str, Callable[[list[tuple[list[str], list[str]]]], str]] = {
    "pipe": render_pipe,
    "tab": render_tab,
    "lines": render_lines,
    "lines_blank": lambda rows: render_lines(rows, blank_between=True),
    "collapsed": render_collapsed,
    "flattened": render_flattened,
}
EXACT_LAYOUTS = ("pipe", "tab", "lines", "lines_blank")


def render_report(template: str, truth: dict, layout: str, agency: str = "某某市某某局", year: int = 2020) -> str:
    rows = table_rows(template, truth)
    renderer = LAYOUTS[layout]
    return _wrap(agency, year, [renderer(rows[t]) for t in ("active_disclosure", "applications", "appeals")])

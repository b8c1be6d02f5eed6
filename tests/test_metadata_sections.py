from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govreports.parser import metadata, parse_path
from govreports.parser.metadata import extract_metadata
from govreports.parser.sections import extract_sections
from tests.gold import CORPUS


@pytest.mark.parametrize(
    ("text", "agency", "year"),
    [
        ("标题: 莆田市统计局2020年政府信息公开工作年度报告\n正文", "莆田市统计局", 2020),
        ("2019年上海市人民政府办公厅政府信息公开工作年度报告\n发布日期：2020-01-31", "上海市人民政府办公厅", 2019),
        ("新乡市牧野区新辉路街道办事处2020年\n\n政府信息公开工作年度报告\n", "新乡市牧野区新辉路街道办事处", 2020),
        ("向社会公布北戴河区人民政府办公室2022年政府信息公开工作年度报告。", "北戴河区人民政府办公室", 2022),
        ("如有疑问，请与安顺市西秀区城市管理局办公室联系（地址：…）。本年度报告中所列数据的统计期限为2019年1月1日至2019年12月31日", "安顺市西秀区城市管理局", 2019),
    ],
)
def test_agency_and_year(text: str, agency: str, year: int) -> None:
    meta = extract_metadata(text)
    assert (meta.agency, meta.report_year) == (agency, year)


def test_report_year_is_the_year_covered_not_published() -> None:
    meta = extract_metadata("某某局2020年政府信息公开工作年度报告\n发布时间: 2021-01-11 11:20\n"
                            "本报告中所列数据的统计期限自2020年1月1日起至2020年12月31日止。")
    assert meta.report_year == 2020 and meta.published_on == "2021-01-11"


def test_period_and_title_disagreement_is_a_finding() -> None:
    meta = extract_metadata("某某局2021年政府信息公开工作年度报告\n统计期限自2020年1月1日起至2020年12月31日止")
    assert meta.report_year == 2020
    assert [code for code, _ in meta.notes] == ["year_uncertain"]


def test_index_number_and_iso_date_line() -> None:
    meta = extract_metadata("11330703662882460N/2021-45814\n单位审核公开\n鞋塘办事处\n2020-12-31\n主动公开\n")
    assert meta.index_number == "11330703662882460N/2021-45814" and meta.published_on == "2020-12-31"
    assert extract_metadata("索引号：000014349/2021-00012\n").index_number == "000014349/2021-00012"


def test_six_sections_with_varied_headings() -> None:
    record = parse_path(CORPUS / "seeds" / "003_d44e2812b3c67d69.txt")
    numbers = [s["number"] for s in record["sections"]]
    assert numbers == [1, 2, 3, 4, 5, 6]
    six = record["sections"][-1]
    assert six["title"] == "其他需要报告的事项"  # printed without its numeral
    assert six["text"].startswith("认真贯彻落实")


def test_site_chrome_after_the_last_section_is_cut() -> None:
    record = parse_path(CORPUS / "seeds" / "004_0669d706a953c37f.txt")
    assert record["sections"][-1]["text"] == "无。"


def test_flattened_sections_are_found_inside_one_line() -> None:
    sections = extract_sections("导语。一、总体情况2020年，我区……二、主动公开政府信息情况 表格三、收到和处理政府信息公开申请情况 表"
                                "四、政府信息公开行政复议、行政诉讼情况 表五、存在的主要问题及改进情况（一）问题六、其他需要报告的事项 无")
    assert [s.number for s in sections] == [1, 2, 3, 4, 5, 6]
    assert sections[5].text == "无"


@pytest.mark.parametrize(
    ("fixture", "template"),
    [("seeds/000_5c245e0f5975cf67.txt", "2019"), ("seeds/002_274977fa68b70c55.txt", "2021"),
     ("dev/putian_shi_2008.txt", "pre2019"), ("dev/pingtan_gaj_2022.txt", "2021")],
)
def test_template_detected_from_structure(fixture: str, template: str) -> None:
    assert parse_path(CORPUS / fixture)["metadata"]["template"] == template


# Text built from the pieces titles, dates and their look-alikes are made of, so that random texts hold titles,
# near-titles and date lines in every arrangement.
_PIECES = ["西秀区城市管理局", "莆田市人民政府", "关于", "的", "2019", "2020", "年", "度", "政府信息公开", "政务公开",
           "工作", "年度", "报告", "年报", "\n", " ", "\u3000", "《", "》", "。", "，", "通知", "发布日期：", "时间", "日期",
           "统计", ":", "2021-01-05", "-", "12", "月", "3", "日"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=60))
def test_windowed_title_and_date_search_equals_a_search_of_the_whole_text(pieces: list[str]) -> None:
    """The metadata reader only searches windows around literal anchors; it must find what a search of the whole
    text finds."""
    text = "".join(pieces)
    head = text[:20_000]
    alone, year_first = metadata._TITLE_ALONE.search(head), metadata._YEAR_FIRST_TITLE.search(head)
    if year_first and (alone is None or year_first.start() < alone.start()):
        expected = year_first.group(0)
    else:
        whole = alone or metadata._REPORT_TITLE.search(head)
        expected = whole.group(0) if whole else None
    found = metadata._title_in_text(text)
    assert (found.group(0) if found else None) == expected
    head_8k = text[:8000]
    published = metadata._PUBLISHED.search(head_8k)
    windowed = metadata._first_match(metadata._PUBLISHED, head_8k,
                                     metadata._literal_spans(head_8k, metadata._DATE_WORDS), 2, 40)
    assert (windowed.group(0) if windowed else None) == (published.group(0) if published else None)

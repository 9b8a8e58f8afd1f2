"""The dashboard's SVG charts: one mark per figure, labels escaped, nothing a strict CSP refuses."""
from views.dashboard import Bar
from webapp import charts


def test_bars_draw_one_mark_per_figure_with_its_number_and_escape_labels():
    svg = str(charts.hbars([Bar("<b>Draft</b>", 16), Bar("Closed", 4, href="/views/by_status")], "Orders"))
    assert svg.count("class=\"bar ") == 2 and ">16<" in svg and ">4<" in svg
    assert "<b>" not in svg and "&lt;b&gt;Draft" in svg
    assert '<a href="/views/by_status">' in svg
    assert "style=" not in svg and "<script" not in svg


def test_columns_draw_each_series_per_day_with_a_legend():
    svg = str(charts.columns(["11-01", "11-02", "11-03"], [("Placed", [1, 2, 3]), ("Shipped", [0, 1, 2])], "Flow"))
    assert svg.count("<rect") == 2 + 6  # legend swatches + columns
    assert "Placed" in svg and "Shipped" in svg and "style=" not in svg


def test_an_empty_chart_says_so():
    assert "Nothing to show yet" in str(charts.hbars([], "Backlog"))


def test_bars_tell_their_unit_and_value_in_money_and_keep_their_text_size_at_any_width():
    svg = str(charts.hbars([Bar("Draft", 1, money={"EUR": 123450, "GBP": 8000}), Bar("Closed", 4)], "Orders", "orders"))
    assert ">1 order<" in svg and ">4 orders<" in svg and ">EUR 1,234.50 · GBP 80.00<" in svg
    assert "viewBox" not in svg   # a scaled drawing would shrink its text with the page

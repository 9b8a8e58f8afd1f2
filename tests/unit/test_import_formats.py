"""Reading import files (oms/import_formats.py) without a server: what JSON is refused, and the
line each record starts on."""
import pytest

from oms.import_formats import ImportRefused, read_json


@pytest.mark.parametrize("text", ['{"orders": [{"external_ref": "A", "qty": NaN}]}',
                                  '[{"external_ref": "A", "qty": Infinity}]',
                                  '{"external_ref": "A"}\n{"external_ref": "B", "qty": -Infinity}'])
def test_nan_and_infinity_are_refused_as_not_json(text):
    with pytest.raises(ImportRefused, match="(?i)not (valid )?JSON|is not a JSON value"):
        read_json(text, "orders")


def test_records_carry_the_line_they_start_on_in_a_big_file():
    lines = ["["] + [f'  {{"external_ref": "R{i}"}},' for i in range(2000)] + ['  {"external_ref": "LAST"}', "]"]
    records = read_json("\n".join(lines), "orders")
    assert [r.line for r in records[:3]] == [2, 3, 4]
    assert records[-1].line == 2002 and records[-1].data["external_ref"] == "LAST"

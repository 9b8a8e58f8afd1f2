"""Reading import files (oms/interchange/formats.py) without a server: what JSON is refused, and the
line each record starts on."""
import re

import pytest

from oms.interchange.formats import ImportRefused, read_json


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


# A well-formed file is read in one pass (_read_json_at_once); anything out of the ordinary goes
# the checked way (_read_json_checked). Both must give the same records, or the same refusal.
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st  # noqa: E402

from oms.interchange.formats import _read_json_at_once, _read_json_checked  # noqa: E402

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=5))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                      max_leaves=6)
records = st.lists(st.one_of(st.dictionaries(st.sampled_from(["external_ref", "customer", "lines", "id", "name", "sku",
                                                              "warehouse", "on_hand", "kind", "x"]), values, max_size=4),
                             values), max_size=4)
spaces = st.sampled_from(["", " ", "\n", "\t", "\r\n", "  \n  "])


def as_text(tree, ws) -> str:
    """JSON with the given whitespace between every token, so records fall on many lines."""
    import json as _json
    if isinstance(tree, dict):
        return "{" + ws + ("," + ws).join(_json.dumps(k) + ws + ":" + ws + as_text(v, ws) for k, v in tree.items()) + ws + "}"
    if isinstance(tree, list):
        return "[" + ws + ("," + ws).join(as_text(v, ws) for v in tree) + ws + "]"
    return _json.dumps(tree)


def checked(text, kind):
    try:
        return _read_json_checked(text, kind)
    except ImportRefused as exc:
        return exc.reason


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(records, st.dictionaries(st.sampled_from(["orders", "customers", "stock", "other"]), records, max_size=3)),
       spaces, st.sampled_from([None, "orders", "customers"]),
       st.sampled_from(["", "x", ",", "]", "}", " NaN", "\n{}", "[", "{"]), st.integers(0, 400))
def test_reading_a_file_at_once_gives_the_checked_reading_or_leaves_it_to_it(tree, ws, kind, noise, where):
    text = as_text(tree, ws)
    for candidate in (text, text[:where] + noise + text[where:], text[:where] + text[where + 1:]):
        fast = _read_json_at_once(candidate, kind)
        if fast is not None:
            assert fast == checked(candidate, kind), candidate
    expected = checked(text, kind)
    if isinstance(expected, str):
        with pytest.raises(ImportRefused, match=re.escape(expected)):
            read_json(text, kind)
    else:
        assert read_json(text, kind) == expected


@pytest.mark.parametrize("text", [
    '[{"external_ref": "A"} {"external_ref": "B"}]', '[{"external_ref": "A"},]', '[{"external_ref": "A"}',
    '{"orders" [{"external_ref": "A"}]}', '{"orders": [{"external_ref": "A"}] "stock": []}', '{"orders": []}}',
    '{"orders": [{"external_ref": "A"}]} x', '{"orders": [], }', '{"orders": {"external_ref": "A"}}',
    '{"colour": []}', '{orders: []}', '[1 2]', '[1 22]', '[{"external_ref": "A"}  {"external_ref": "B"}]', '[{"a": 1}]]', '{"external_ref": "A"}\n{"external_ref": "B"}',
    '{"orders": [{"external_ref": "A"}], "orders": [{"external_ref": "B"}]}', ' [ ] ', '{}', '[{"q": NaN}]'])
def test_a_file_out_of_the_ordinary_is_read_the_checked_way(text):
    assert _read_json_at_once(text, None) in (None, checked(text, None))
    assert _read_json_at_once(text, "stock") in (None, checked(text, "stock"))

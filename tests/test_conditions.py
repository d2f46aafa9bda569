"""The condition language of branch nodes."""

import pytest

from bot.flow.conditions import ConditionError, evaluate, list_names, parse, variables

LISTS = {"visa_free": ("GE", "AL")}


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ("eu == yes", {"eu": "yes"}, True),
        ("eu = YES", {"eu": "yes"}, True),
        ("eu != yes", {"eu": "no"}, True),
        ("eu == yes", {}, False),
        ("eu != yes", {}, True),
        ("age >= 18", {"age": "18"}, True),
        ("age < 18", {"age": "9"}, True),
        ("age > 18", {"age": "abc"}, False),
        ("country in visa_free", {"country": "ge"}, True),
        ("country not in visa_free", {"country": "IR"}, True),
        ("country in [IR, IQ]", {"country": "IQ"}, True),
        ("name is set", {"name": "Nino"}, True),
        ("name is not set", {}, True),
        ("a == 1 and b == 2 or c == 3", {"c": "3"}, True),
        ("a == 1 and (b == 2 or c == 3)", {"c": "3"}, False),
        ("not a == 1", {"a": "2"}, True),
        ("msg == 'hello world'", {"msg": "Hello World"}, True),
    ],
)
def test_evaluate(source, values, expected):
    assert evaluate(parse(source), values, LISTS) is expected


@pytest.mark.parametrize(
    ("source", "offset", "message"),
    [
        ("", 0, "empty"),
        ("age =>", 4, '"=>"'),
        ("age", 0, "needs a comparison"),
        ("age >= 18 age", 10, "unexpected"),
        ("(a == 1", 7, "ends too early"),
        ("1 == a", 0, "variable name"),
        ("a not b", 0, '"in"'),
    ],
)
def test_errors_point_at_the_problem(source, offset, message):
    with pytest.raises(ConditionError) as info:
        parse(source)
    assert info.value.offset == offset
    assert message in str(info.value)


def test_variables_and_lists():
    expr = parse("a == 1 and (b in visa_free or not c is set)")
    assert variables(expr) == {"a", "b", "c"}
    assert list_names(expr) == {"visa_free"}

import pytest

from kubectl_kubefed.core import selector as sel


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("region=europe", {"region": "europe"}, True),
        ("region=europe", {"region": "asia"}, False),
        ("region==europe", {"region": "europe"}, True),
        ("region!=europe", {}, True),
        ("region!=europe", {"region": "europe"}, False),
        ("region in (europe,asia)", {"region": "asia"}, True),
        ("region notin (europe,asia)", {"region": "asia"}, False),
        ("region notin (europe,asia)", {}, True),
        ("gpu", {"gpu": "yes"}, True),
        ("gpu", {}, False),
        ("!gpu", {}, True),
        ("!gpu", {"gpu": ""}, False),
        ("a=1,b in (x, y),!c", {"a": "1", "b": "y"}, True),
        ("", {"anything": "x"}, True),
    ],
)
def test_parse_and_match(text: str, labels: dict[str, str], expected: bool) -> None:
    assert sel.matches(sel.parse(text), labels) is expected


@pytest.mark.parametrize("text", ["a in ()", "a=(", "=x", "a=b=c", "!a=b", "a in (x", "bad key=1"])
def test_parse_errors(text: str) -> None:
    with pytest.raises(sel.SelectorError):
        sel.parse(text)


def test_invalid_operator() -> None:
    with pytest.raises(sel.SelectorError, match="not a valid label selector operator"):
        sel.validate({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]})


def test_format_round_trips() -> None:
    s = sel.parse("a=1,b in (x,y),!c,d")
    assert sel.parse(sel.format_selector(s)) == s

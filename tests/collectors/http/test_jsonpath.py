from __future__ import annotations

import pytest

from collectors import jsonpath

DOC = {"a": {"b": [{"c": 1}, {"c": 2}]}, "x.y": 3}


@pytest.mark.parametrize(("path", "expected"), [
    ("$.a.b[1].c", 2), ("a.b.0.c", 1), ("$['x.y']", 3), ("$", DOC), ("$.a.b[0]", {"c": 1}),
])
def test_a_path_reaches_the_value(path, expected):
    assert jsonpath.get(DOC, path) == expected


def test_a_missing_path_raises_unless_a_default_is_given():
    with pytest.raises(jsonpath.PathError, match="stopped at 'd'"):
        jsonpath.get(DOC, "$.a.d")
    assert jsonpath.get(DOC, "$.a.b[5]", None) is None


def test_bad_syntax_is_an_error():
    with pytest.raises(jsonpath.PathError):
        jsonpath.parse("$.a[")

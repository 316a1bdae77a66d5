"""Lookout's one JSON path dialect: RFC 9535 JSONPath, plain dotted paths, and the errors of both."""
from __future__ import annotations

import pytest

from collectors import jsonpath

DOC = {"a": {"b": [{"c": 1}, {"c": 2}]}, "x.y": 3, "in": 4, "true": 5, "counts": {"0": "zero"}}


@pytest.mark.parametrize(("path", "expected"), [
    ("$.a.b[1].c", 2), ("a.b.0.c", 1), ("a.b[0].c", 1), ("$.a.b.1.c", 2), ("$['x.y']", 3), ("$", DOC),
    ("$.a.b[0]", {"c": 1}), ("$.a.b[-1].c", 2), ("in", 4), ("true", 5), ("counts.0", "zero"),
    ("  $.a.b[1].c  ", 2),
])
def test_a_path_reaches_the_value_in_either_spelling(path, expected):
    assert jsonpath.get(DOC, path) == expected


def test_a_path_that_can_match_several_values_gives_the_list_of_them():
    assert jsonpath.get(DOC, "$.a.b[*].c") == [1, 2]
    assert jsonpath.get(DOC, "$..c") == [1, 2]
    assert jsonpath.get(DOC, "$.a.b[?@.c > 1].c") == [2]
    assert jsonpath.get({"m": [[1, 2], [3, 4]]}, "$.m..1") == [[3, 4], 2, 4]


def test_a_missing_path_raises_naming_where_it_stopped_unless_a_default_is_given():
    with pytest.raises(jsonpath.PathError, match=r"matched nothing \(no 'd' under \$\['a'\]\)"):
        jsonpath.get(DOC, "$.a.d")
    assert jsonpath.get(DOC, "$.a.b[5]", None) is None
    assert jsonpath.get(DOC, "a.b.5.c", "none") == "none"


@pytest.mark.parametrize(("path", "message"), [
    ("$.a[", "malformed JSON path '$.a[': unexpected end of query"),
    ("$.a.", "malformed JSON path '$.a.': expected a shorthand selector at the end"),
    ("a b", "malformed JSON path 'a b': unexpected token 'b'"),
    ("$.1x", "malformed JSON path '$.1x'"),
    ("", "JSON path '' is empty"),
])
def test_a_malformed_path_is_a_path_error_naming_the_path_and_what_is_wrong(path, message):
    with pytest.raises(jsonpath.PathError) as err:
        jsonpath.parse(path)
    assert message in str(err.value)
    assert isinstance(err.value, ValueError)


def test_brackets_and_quoted_keys_keep_their_digits():
    doc = {"a.0": {"1": "quoted"}, "b": [["deep"]]}
    assert jsonpath.get(doc, "$['a.0']['1']") == "quoted"
    assert jsonpath.get(doc, "b.0.0") == "deep"
    assert jsonpath.get(doc, "b[0].0") == "deep"

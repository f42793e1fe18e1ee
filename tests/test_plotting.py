"""The book's figure style: bad arguments are refused with a message naming the argument,
its value and what is allowed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from adaptive_methods.plotting import method_color, method_label, method_style, new_figure  # noqa: E402


@pytest.mark.parametrize("function", [method_style, method_color, method_label])
@pytest.mark.parametrize("name", [None, 3, b"adam"])
def test_a_style_is_looked_up_by_a_string_only(function, name):
    with pytest.raises(TypeError, match=rf"name must be a str .*got {type(name).__name__}: {name!r}"):
        function(name)


@pytest.mark.parametrize("arguments, error, message", [
    (dict(ncols=0), ValueError, "ncols must be an int >= 1, got 0"),
    (dict(nrows=-2), ValueError, "nrows must be an int >= 1, got -2"),
    (dict(ncols=2.0), TypeError, "ncols must be an int >= 1, got float: 2.0"),
    (dict(nrows=True), TypeError, "nrows must be an int >= 1, got bool: True"),
])
def test_a_figure_needs_a_positive_whole_number_of_rows_and_columns(arguments, error, message):
    with matplotlib.rc_context(), pytest.raises(error, match=message):
        new_figure(**arguments)

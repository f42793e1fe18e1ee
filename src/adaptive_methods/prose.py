"""Numbers a chapter quotes in its prose, the same in the book and in JupyterLab.

A chapter computes a number in a code cell and records it with :func:`glue`; its prose
quotes it as the inline expression ``{eval}`glued("name:format")```. Two renderers read
that expression:

- the book's build (``_ext/glued_values.py``) takes the value that :func:`glue` handed to
  myst-nb's glue when the chapter was executed into the cache, formatted as
  ``{glue:text}`name:format``` would format it;
- JupyterLab with ``jupyterlab-myst`` (Binder, ``make lab``) evaluates ``glued(...)`` in the
  running kernel once the cell that computed the number has run.

The book cannot let myst-nb evaluate the expression itself: its ``eval`` role needs the
kernel of an inline execution, and the book executes through jupyter-cache (so that the
site and the PDF share one execution). ``docs/design.md`` ("Numbers in the prose") says
more.
"""

from __future__ import annotations

__all__ = ["glue", "glued"]

# name -> value, for the kernel that executes the chapter
_VALUES: dict[str, object] = {}

_INTEGER_TYPES = frozenset("bcdoxX")
_FLOAT_TYPES = frozenset("eEfFgGn%")


def glue(name: str, value: object, display: bool = False) -> None:
    """Record ``value`` under ``name`` for the prose of the chapter.

    Parameters
    ----------
    name : str
        A non-empty name, unique within the chapter (a later call replaces the value).
    value : object
        The value; the prose shows ``format(value, spec)`` (see :func:`glued`).
    display : bool, default False
        Passed to :func:`myst_nb.glue`: whether the cell also shows the value.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If ``name`` is empty or contains ``:`` (which separates the format).

    Examples
    --------
    >>> glue("rounds", 1000)
    >>> glued("rounds:,")
    '1,000'
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}: {name!r}")
    if not name or ":" in name:
        raise ValueError(f"name must be non-empty and contain no ':', got {name!r}")
    _VALUES[name] = value
    try:
        from myst_nb import glue as myst_nb_glue
    except ImportError:  # outside the book's environment (Colab) only the kernel's copy is needed
        return
    myst_nb_glue(name, value, display=display)


def glued(spec: str) -> str:
    """The text of a value recorded by :func:`glue`, as ``{glue:text}`` formats it.

    Parameters
    ----------
    spec : str
        ``"name"`` or ``"name:format"``, with ``format`` a format specification of
        :func:`format` ending in its type character (``".3f"``, ``".2e"``, ``".0%"``,
        ``","``). As in myst-nb's ``{glue:text}``, the value is converted to ``int`` for
        the types ``b c d o x X``, to ``float`` for ``e E f F g G n %`` and to ``str``
        for ``s``.

    Returns
    -------
    str
        The formatted value.

    Raises
    ------
    KeyError
        If no value was recorded under ``name`` (the cell that computes it has not run).
    TypeError
        If ``spec`` is not a string.

    Examples
    --------
    >>> glue("avg_regret", 0.012345)
    >>> glued("avg_regret:.3g")
    '0.0123'
    >>> glued("avg_regret:.1%")
    '1.2%'
    >>> glued("avg_regret")
    '0.012345'
    """
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a str, got {type(spec).__name__}: {spec!r}")
    name, _, fmt = spec.partition(":")
    if name not in _VALUES:
        raise KeyError(f"no value named {name!r} was glued yet: run the cell that computes it first")
    value = _VALUES[name]
    if not fmt:
        return str(value)
    kind = fmt[-1]
    if kind == "s":
        value = str(value)
    elif kind in _INTEGER_TYPES:
        value = int(value)
    elif kind in _FLOAT_TYPES:
        value = float(value)
    return format(value, fmt)

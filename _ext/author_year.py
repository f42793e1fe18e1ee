"""Author-year labels in the list of references, as in the text.

The text cites "Reddi et al. (2018)" (the referencing style ``author_year_round``
registered here), while pybtex's default labels in the list are "[RKK18]". The style registered here labels each
entry "Reddi et al., 2018" (one author: "Duchi, 2011"; two: "Kingma and Ba, 2015"), with
a letter after the year where two entries would share a label, and sorts the list by
author and year.
"""

from __future__ import annotations

import codecs
import dataclasses
import string

from latexcodec.codec import register as register_latex_codec
from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from sphinx.application import Sphinx
from sphinxcontrib.bibtex.plugin import register_plugin as register_bibtex_plugin
from sphinxcontrib.bibtex.style.referencing import BracketStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle


def _last_names(entry) -> list[str]:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    # the names are LaTeX: "D\\'efossez" -> "Défossez"
    names = (codecs.decode(" ".join(p.last_names), "ulatex") for p in people)
    return [name.replace("{", "").replace("}", "") for name in names]


def author_year_label(entry) -> str:
    names = _last_names(entry)
    if not names:
        who = entry.fields.get("key", entry.key)
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabelStyle(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        labels = [author_year_label(entry) for entry in sorted_entries]
        seen: dict[str, int] = {}
        for label in labels:
            seen[label] = seen.get(label, 0) + 1
        suffix: dict[str, int] = {}
        for label in labels:
            if seen[label] > 1:
                suffix[label] = suffix.get(label, -1) + 1
                yield label + string.ascii_lowercase[suffix[label]]
            else:
                yield label


class AuthorYearStyle(UnsrtStyle):
    default_label_style = "author_year_labels"
    default_sorting_style = "author_year_title"


def _round() -> BracketStyle:
    return BracketStyle(left="(", right=")")


@dataclasses.dataclass
class RoundAuthorYearReferenceStyle(AuthorYearReferenceStyle):
    """In the text: "Reddi et al. (2018)" and "(Kingma and Ba, 2015)"."""

    bracket_parenthetical: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_textual: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_author: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_label: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_year: BracketStyle = dataclasses.field(default_factory=_round)


def setup(app: Sphinx) -> dict:
    register_latex_codec()  # the "ulatex" codec used above
    register_plugin("pybtex.style.labels", "author_year_labels", AuthorYearLabelStyle)
    register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)
    register_bibtex_plugin("sphinxcontrib.bibtex.style.referencing", "author_year_round",
                           RoundAuthorYearReferenceStyle)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

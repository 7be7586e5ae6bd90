"""Every user-visible string in every template is inside {% translate %} / {% blocktranslate %}.

The scan reads each ``*.html`` under ``templates/`` and ``<app>/templates/`` as text, blanks out what
is translated or not shown (translation tags, template variables and tags, comments, script and
style contents), then parses what is left as HTML. Any text node, or any user-visible attribute
value, that still holds a letter after the allow-list below is taken out is a finding, reported as
``path:line: text``. No database, no rendering: a template nobody visits in a test is still read.
"""

import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

from django.template import TemplateSyntaxError
from django.template.loader import get_template

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".venv", "staticfiles", "node_modules", ".git"}

# Language-neutral words only: codes, registry numbers, standard abbreviations and units, and the
# two names of the language switcher. Each is the same on the English and the Chinese page.
ALLOWED = (
    "SCR-ESCC-01",  # protocol code
    "NCT05978193",  # ClinicalTrials.gov number
    "A",  # arm codes (ARMCD), as in the allocation list and the exports
    "B",
    "SAE",
    "AE",
    "ECOG",
    "PG-SGA",
    "CTCAE",
    "MedDRA",
    "G",  # CTCAE grade prefix, G1 ... G5, as on the dashboard chart
    "RECIST 1.1",
    "CR",
    "PR",
    "SD",
    "PD",
    "NE",
    "DSMB",
    "HR",  # hazard ratio
    "CI",  # confidence interval, as in "95% CI"
    "SHA-256",
    "CSV",
    "API",
    "SVG",
    "Gy",
    "mm",
    "χ²",
    "n",  # count, as in "n (%)"
    "p",  # p-value
    "C",  # cycle prefix, C1, C2 ...
    "T",  # target lesion, T1, T2 ...
    "NT",  # non-target lesion, NT1 ...
    "English",  # language switcher: each language is named in itself
    "中文",
)
_ALLOWED_RE = re.compile(
    "|".join(r"(?<!\w)" + re.escape(word) + r"(?!\w)" for word in sorted(ALLOWED, key=len, reverse=True))
)

# Attributes a user reads or hears. `value` only on inputs that show it as their caption; a
# <button>'s value is the form payload (its caption is its content, a text node).
VISIBLE_ATTRIBUTES = {"title", "placeholder", "aria-label", "aria-description", "alt"}
CAPTION_INPUT_TYPES = {"submit", "button", "reset"}

# Removed before parsing, in this order. Each match is replaced by a space and its own newlines, so
# words on either side stay apart and line numbers stay true.
_REMOVED = [
    re.compile(r"{%\s*comment\b.*?%}.*?{%\s*endcomment\s*%}", re.S),
    re.compile(r"{#.*?#}", re.S),
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r"{%\s*blocktrans(?:late)?\b.*?%}.*?{%\s*endblocktrans(?:late)?\s*%}", re.S),
    re.compile(r"{%\s*trans(?:late)?\s.*?%}", re.S),
    re.compile(r"{{.*?}}", re.S),
]
_ANY_TAG = re.compile(r"{%.*?%}", re.S)
# A literal string handed to an include as a label or title is shown to the user, untranslated
# unless written _("..."): {% include "x.html" with label="Longest diameter" %}.
_INCLUDE_LITERAL = re.compile(
    r"""\b(label|title|text|caption|heading|placeholder|help)=(?P<q>["'])(?P<text>[^"']*)(?P=q)"""
)
_SCRIPT_STYLE = re.compile(r"(<(script|style)\b[^>]*>)(.*?)(</\2\s*>)", re.S | re.I)


def _blank(match):
    return " " + "\n" * match.group(0).count("\n")


def leftover(text):
    """What of `text` still needs translating: '' when it holds no letter outside the allow-list."""
    text = " ".join(text.split())
    rest = _ALLOWED_RE.sub(" ", text)
    if any(unicodedata.category(char).startswith("L") for char in rest):
        return text
    return ""


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []  # (line, text)

    def handle_data(self, data):
        text = leftover(data)
        if text:
            line, _ = self.getpos()
            line += data[: len(data) - len(data.lstrip())].count("\n")
            self.found.append((line, text))

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        names = set(VISIBLE_ATTRIBUTES)
        if tag == "input" and (attributes.get("type") or "").strip().lower() in CAPTION_INPUT_TYPES:
            names.add("value")
        if tag in {"optgroup", "option", "track"}:
            names.add("label")
        for name, value in attrs:
            text = leftover(value or "") if name in names else ""
            if text:
                self.found.append((self.getpos()[0], f'{name}="{text}"'))

    handle_startendtag = handle_starttag


def untranslated(source):
    """[(line, text)] of the user-visible strings in template `source` that are not translated."""
    found = []
    for tag in _ANY_TAG.finditer(source):
        if re.match(r"{%\s*include\b", tag.group(0)):
            for literal in _INCLUDE_LITERAL.finditer(tag.group(0)):
                if leftover(literal.group("text")):
                    line = source.count("\n", 0, tag.start() + literal.start()) + 1
                    found.append((line, literal.group(0)))
    source = _SCRIPT_STYLE.sub(lambda m: m.group(1) + _blank(re.match(r".*", m.group(3), re.S)) + m.group(4), source)
    for pattern in _REMOVED:
        source = pattern.sub(_blank, source)
    source = _ANY_TAG.sub(_blank, source)
    parser = _VisibleText()
    parser.feed(source)
    parser.close()
    return sorted(found + parser.found)


def template_files(with_names=False):
    roots = [ROOT / "templates", *sorted(ROOT.glob("*/templates"))]
    for root in roots:
        for path in sorted(root.rglob("*.html")):
            if not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts):
                yield (path, path.relative_to(root).as_posix()) if with_names else path


def test_every_user_visible_string_in_every_template_is_translated():
    files = list(template_files())
    assert len(files) > 40, "the scan found too few templates: is ROOT right?"
    findings = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in files
        for line, text in untranslated(path.read_text(encoding="utf-8"))
    ]
    assert not findings, (
        f"{len(findings)} user-visible string(s) outside {{% translate %}} / {{% blocktranslate %}}:\n"
        + "\n".join(findings)
    )


def test_every_template_compiles_so_no_translation_tag_is_malformed():
    """{% blocktranslate %} refuses filters and attribute lookups in its body: a page nobody opens in a
    test would only fail in production."""
    broken = []
    for path, name in template_files(with_names=True):
        try:
            get_template(name)
        except TemplateSyntaxError as error:
            broken.append(f"{path.relative_to(ROOT)}: {error}")
    assert not broken, "\n".join(broken)


def test_the_scan_catches_untranslated_text_and_attributes_and_passes_translated_ones():
    bad = (
        "{% load i18n %}\n"
        "<p>Hello nurse</p>\n"
        '<a href="/" title="Open">{% translate "Open" %}</a>\n'
        '<input type="text" placeholder="Search participants">\n'
        '<img src="x.png" alt="Swimmer plot">\n'
        '<input type="submit" value="Save">\n'
        '<button aria-label="Close"></button>\n'
        "<td>{{ count }} of {{ total }}</td>\n"
        '{% include "efficacy/table_field.html" with f=form.x label="Longest diameter" %}\n'
        "{% block title %}Screening{% endblock %}\n"
    )
    assert untranslated(bad) == [
        (2, "Hello nurse"),
        (3, 'title="Open"'),
        (4, 'placeholder="Search participants"'),
        (5, 'alt="Swimmer plot"'),
        (6, 'value="Save"'),
        (7, 'aria-label="Close"'),
        (8, "of"),
        (9, 'label="Longest diameter"'),
        (10, "Screening"),
    ]
    good = (
        "{% load i18n %}{# Hello nurse #}{% comment %}Not shown{% endcomment %}<!-- nor this -->\n"
        '<p title="{% translate \'Open\' %}">{% translate "Hello nurse" %}</p>\n'
        "<p>{% blocktranslate trimmed count n=rows|length %}\n  one row\n{% plural %}\n  {{ n }} rows\n"
        "{% endblocktranslate %}</p>\n"
        "<p>{% blocktranslate with code=site.code %}Site {{ code }}{% endblocktranslate %}</p>\n"
        "<script>const label = 'Not a text node';</script><style>.x::after { content: 'no'; }</style>\n"
        '<button type="submit" name="decision" value="confirm">{% translate "Confirm" %}</button>\n'
        "<th>SAE</th><th>CTCAE</th><td>RECIST 1.1</td><td>C{{ n }}</td><td>n (%)</td><td>χ²</td>\n"
        '<td>&nbsp;&middot; — ✔ ✘ 12.5 {{ value|default:"—" }}</td><a href="{% url \'home\' %}">SCR-ESCC-01</a>\n'
        '{% include "efficacy/table_field.html" with f=form.x label=_("Longest diameter") %}\n'
    )
    assert untranslated(good) == []

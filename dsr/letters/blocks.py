"""The structure of a letter, read from the markup its template renders.

A letter template renders a small, well-formed HTML subset, escaped by Jinja:

    <letter>
      <header><p>controller</p>...</header>   the page header of every page
      <h1>, <h2>, <h3>                        the title and headings
      <p>                                     a paragraph
      <ul><li>...</li></ul>                   a bullet list
      <table><tr><th>..</th></tr><tr><td>..</td></tr></table>
      <pagebreak/>                            what follows starts a new page
    </letter>

Inside a paragraph, list item or cell, `<strong>` marks bold words. Whitespace
collapses as in HTML, so templates may wrap their lines freely. Anything else
is a template error, reported with the tag's name.
"""

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

#: a piece of text and whether it is bold
Run = tuple[str, bool]
#: the whitespace that collapses; not the no-break spaces of French punctuation
SPACES = re.compile(r"[ \t\n\r\f\v]+")


class LetterMarkupError(ValueError):
    """The template rendered something the letter renderer does not know."""


@dataclass
class Heading:
    level: int  #: 0 the title, then 1, 2, 3
    text: str


@dataclass
class Paragraph:
    runs: list[Run]


@dataclass
class BulletList:
    items: list[list[Run]]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class PageBreak:
    """What follows starts on a new page."""


Block = Heading | Paragraph | BulletList | Table | PageBreak


@dataclass
class Letter:
    header: list[str]  #: lines of the page header
    blocks: list[Block]


def parse(markup: str) -> Letter:
    """The letter a template rendered."""
    try:
        root = ET.fromstring(markup)
    except ET.ParseError as exc:
        raise LetterMarkupError(f"the letter template is not well-formed: {exc}") from exc
    if root.tag != "letter":
        raise LetterMarkupError(f"a letter starts with <letter>, not <{root.tag}>")
    header, blocks = [], []
    for element in root:
        if element.tag == "header":
            header.extend(plain(line) for line in element if plain(line))
        else:
            blocks.append(block(element))
    return Letter(header, blocks)


def block(element: ET.Element) -> Block:
    tag = element.tag
    if tag in ("h1", "h2", "h3"):
        return Heading(int(tag[1]) - 1, plain(element))
    if tag == "p":
        return Paragraph(runs(element))
    if tag == "ul":
        return BulletList([runs(item) for item in children(element, "li")])
    if tag == "table":
        rows = children(element, "tr")
        header = (
            [plain(cell) for cell in rows[0]] if rows and rows[0].find("th") is not None else []
        )
        body = rows[1:] if header else rows
        return Table(header, [[plain(cell) for cell in row] for row in body])
    if tag == "pagebreak":
        return PageBreak()
    raise LetterMarkupError(f"the letter template used <{tag}>, which letters do not know")


def children(element: ET.Element, tag: str) -> list[ET.Element]:
    unexpected = [child.tag for child in element if child.tag != tag]
    if unexpected:
        raise LetterMarkupError(f"<{element.tag}> may only hold <{tag}>, not <{unexpected[0]}>")
    return list(element)


def runs(element: ET.Element) -> list[Run]:
    """The text of a paragraph-like element, bold where `<strong>` says, whitespace collapsed."""
    pieces: list[Run] = [(element.text or "", False)]
    for child in element:
        if child.tag != "strong":
            raise LetterMarkupError(f"<{element.tag}> may only hold text and <strong>")
        pieces.append(("".join(child.itertext()), True))
        pieces.append((child.tail or "", False))
    collapsed = [(SPACES.sub(" ", text), bold) for text, bold in pieces]
    collapsed = [(text, bold) for text, bold in collapsed if text]
    if collapsed:
        collapsed[0] = (collapsed[0][0].lstrip(" "), collapsed[0][1])
        collapsed[-1] = (collapsed[-1][0].rstrip(" "), collapsed[-1][1])
    return [(text, bold) for text, bold in collapsed if text]


def plain(element: ET.Element) -> str:
    """An element's whole text, whitespace collapsed."""
    return SPACES.sub(" ", "".join(element.itertext())).strip(" ")

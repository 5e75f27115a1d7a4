"""A letter's blocks laid out as a DOCX document, with sober styles (python-docx).

The styles are those of python-docx's default template, toned down: one font,
black headings, a plain grid for tables with a repeated header row, A4 pages
with wide margins, the controller in the page header and page numbers in the
footer. The document's language is set so that word processors check the
spelling in the letter's language.
"""

from typing import IO

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from dsr.letters.blocks import BulletList, Heading, Letter, PageBreak, Paragraph, Run, Table

FONT = "Calibri"
INK = RGBColor(0x1A, 0x1A, 0x1A)
MUTED = RGBColor(0x55, 0x55, 0x55)
#: heading level -> font size in points (level 0 is the title)
HEADING_SIZES = {0: 18, 1: 13, 2: 11.5}
#: A4 less the left and right margins
TEXT_WIDTH_CM = 21 - 2 * 2.5
#: a column's share of the width follows its longest text, counted within these bounds
SHORTEST, LONGEST = 8, 60
#: the width of a character of the bold header at this size, and a cell's inner margins
CHAR_CM, CELL_PADDING_CM = 0.23, 0.4


def write(letter: Letter, stream: IO[bytes], *, language: str, footer: str) -> None:
    """Write `letter` as a DOCX document to the binary `stream`; `footer` goes before the
    page numbers (the request's reference)."""
    document = Document()
    style(document, language)
    page(document, letter.header, footer)
    for item in letter.blocks:
        if isinstance(item, Heading):
            document.add_heading(item.text, level=item.level)
        elif isinstance(item, Paragraph):
            add_runs(document.add_paragraph(), item.runs)
        elif isinstance(item, BulletList):
            for entry in item.items:
                add_runs(document.add_paragraph(style="List Bullet"), entry)
        elif isinstance(item, Table):
            add_table(document, item)
        elif isinstance(item, PageBreak):
            document.add_page_break()
    properties = document.core_properties
    titles = [item.text for item in letter.blocks if isinstance(item, Heading) and not item.level]
    properties.title, properties.language = (titles or [""])[0], language
    properties.author = letter.header[0] if letter.header else ""
    document.save(stream)


def style(document, language: str) -> None:
    """One font and colour throughout, headings in black, the text in `language`."""
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(10.5)
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.widow_control = True  # no line left alone at a page's end or top
    rpr = normal.element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), language)
    rpr.append(lang)
    for level, size in HEADING_SIZES.items():
        heading = document.styles["Title" if level == 0 else f"Heading {level}"]
        heading.font.name, heading.font.size = FONT, Pt(size)
        heading.font.color.rgb, heading.font.italic = INK, False
        heading.font.bold = True
        heading.paragraph_format.space_before = Pt(0 if level == 0 else 14)
        heading.paragraph_format.space_after = Pt(6)
        heading.paragraph_format.keep_with_next = True
        # the theme fonts would override the name above in Word; drop them
        fonts = heading.element.rPr.find(qn("w:rFonts"))
        if fonts is not None:
            for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                fonts.attrib.pop(qn(attribute), None)


def page(document, header: list[str], footer: str) -> None:
    """A4, margins, the controller on top of every page, the reference and page below."""
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm((21 - TEXT_WIDTH_CM) / 2)
    section.top_margin, section.bottom_margin = Cm(3.2), Cm(2.2)
    section.header_distance, section.footer_distance = Cm(1.2), Cm(1.2)
    lines = section.header.paragraphs[0]
    for number, line in enumerate(header):
        run = lines.add_run(line)
        run.bold, run.font.size = number == 0, Pt(10 if number == 0 else 8.5)
        run.font.color.rgb = INK if number == 0 else MUTED
        if number < len(header) - 1:
            run.add_break()
    below = section.footer.paragraphs[0]
    below.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    text = below.add_run(f"{footer} · ")
    text.font.size, text.font.color.rgb = Pt(8.5), MUTED
    page_number(below)


def page_number(paragraph) -> None:
    """A PAGE field: the word processor writes each page's number."""
    run = paragraph.add_run()
    run.font.size, run.font.color.rgb = Pt(8.5), MUTED
    for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), (None, "1")):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText" if text == "PAGE" else "w:t")
            element.text = text
        run._r.append(element)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run._r.append(end)


def add_runs(paragraph, runs: list[Run]) -> None:
    for text, bold in runs:
        paragraph.add_run(text).bold = bold


def add_table(document, table: Table) -> None:
    """A plain grid, its header row bold and repeated on every page, no row split across two
    pages, each column as wide as its longest texts ask (within bounds)."""
    columns = len(table.header) or max((len(row) for row in table.rows), default=1)
    grid = document.add_table(rows=0, cols=columns)
    grid.style, grid.autofit = "Table Grid", False
    if table.header:
        cells = grid.add_row().cells
        for cell, text in zip(cells, table.header, strict=False):
            cell.paragraphs[0].add_run(text).bold = True
        flag(grid.rows[0], "w:tblHeader")
    for row in table.rows:
        for cell, text in zip(grid.add_row().cells, row, strict=False):
            cell.text = text
    for row in grid.rows:
        flag(row, "w:cantSplit")
    for column, width in zip(grid.columns, column_widths(table, columns), strict=True):
        column.width = width  # the grid, which LibreOffice reads; Word reads the cells'
        for cell in column.cells:
            cell.width = width
    document.add_paragraph()  # the next heading or paragraph does not touch the grid


def flag(row, name: str) -> None:
    """Set an on/off property of a table row (`w:tblHeader`, `w:cantSplit`)."""
    element = OxmlElement(name)
    element.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(element)


def column_widths(table: Table, columns: int) -> list[Cm]:
    """The text width shared by the columns after their longest text, each counted between
    SHORTEST and LONGEST characters (short labels stay narrow, long texts get the room), no
    column narrower than its longest word."""
    rows = [table.header, *table.rows]
    texts = [[row[i] for row in rows if i < len(row)] for i in range(columns)]
    weights = [min(max(max(map(len, t), default=0), SHORTEST), LONGEST) for t in texts]
    least = [
        CELL_PADDING_CM + CHAR_CM * max((len(w) for text in t for w in text.split()), default=0)
        for t in texts
    ]
    shares = [TEXT_WIDTH_CM * weight / sum(weights) for weight in weights]
    narrow = {i for i in range(columns) if shares[i] < least[i]}
    room = TEXT_WIDTH_CM - sum(least[i] for i in narrow)
    rest = sum(weights[i] for i in range(columns) if i not in narrow) or 1
    return [Cm(least[i] if i in narrow else room * weights[i] / rest) for i in range(columns)]

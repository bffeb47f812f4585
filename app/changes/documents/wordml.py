"""WordprocessingML by hand where python-docx stops: the pieces `docx.amendment_docx` lays its
document out with (docs-sample/README.md, « DOCX pieces »).

- every child added by hand goes to its ECMA-376 position (`insert`): Word rejects files whose
  pPr/rPr/tblPr/tcPr children are out of order, LibreOffice does not complain;
- tables carry tblW, gridCol, tcW, a fixed layout and cell margins, so that widths hold in Word
  (which reads tcW) and LibreOffice (which reads gridCol);
- headings are restyled (Arial, black, grey shading, box, no theme fonts), the Normal style is
  in fr-FR, and ☐ ☒ ◼ runs are set in "Segoe UI Symbol" (Arial lacks them);
- each section has its header (PROJET) and footer (LEGAL.md §F text, « Page N sur M » fields)."""

from __future__ import annotations

import re

from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from lxml.etree import QName

from app.changes.documents import view
from app.changes.documents.typography import fr

# --- ECMA-376 child sequences (Part 1, transitional schema) ---------------------------------------

SEQ = {
    "pPr": ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl",
            "numPr", "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens",
            "kinsoku", "wordWrap", "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN",
            "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind", "contextualSpacing",
            "mirrorIndents", "suppressOverlap", "jc", "textDirection", "textAlignment",
            "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange"],
    "rPr": ["ins", "del", "moveFrom", "moveTo", "rStyle", "rFonts", "b", "bCs", "i", "iCs",
            "caps", "smallCaps", "strike", "dstrike", "outline", "shadow", "emboss", "imprint",
            "noProof", "snapToGrid", "vanish", "webHidden", "color", "spacing", "w", "kern",
            "position", "sz", "szCs", "highlight", "u", "effect", "bdr", "shd", "fitText",
            "vertAlign", "rtl", "cs", "em", "lang", "eastAsianLayout", "specVanish", "oMath",
            "rPrChange"],
    "tblPr": ["tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize",
              "tblStyleColBandSize", "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders",
              "shd", "tblLayout", "tblCellMar", "tblLook", "tblCaption", "tblDescription",
              "tblPrChange"],
    "tcPr": ["cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap",
             "tcMar", "textDirection", "tcFitText", "vAlign", "hideMark", "headers", "cellIns",
             "cellDel", "cellMerge", "tcPrChange"],
}  # fmt: skip

TWIPS_PER_MM = 56.7
PORTRAIT_WIDTH = 178  # mm of text on A4 portrait with 16 mm margins
LANDSCAPE_WIDTH = 265
SYMBOL_FONT = "Segoe UI Symbol"
SYMBOLS = "☐☒◼"
_SYMBOL_SPLIT = re.compile(f"([{SYMBOLS}]+)")
BODY_FONT = "Arial"
RED = RGBColor(0xA4, 0x16, 0x1A)
GREY = RGBColor(0x55, 0x55, 0x55)
THEME_ATTRS = ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme")


def el(tag: str, **attrs) -> OxmlElement:
    """`el("w:tblW", **{"w:w": "100", "w:type": "dxa"})`."""
    element = OxmlElement(tag)
    for key, value in attrs.items():
        element.set(qn(key), str(value))
    return element


def insert(parent, child):
    """Put `child` at its ECMA-376 position in `parent` (pPr, rPr, tblPr, tcPr), replacing an
    existing child of the same name."""
    seq = [qn(f"w:{name}") for name in SEQ[QName(parent).localname]]
    later = seq[seq.index(child.tag) + 1 :]
    old = parent.find(child.tag)
    if old is not None:
        parent.replace(old, child)
        return child
    for i, existing in enumerate(parent):
        if existing.tag in later:
            parent.insert(i, child)
            return child
    parent.append(child)
    return child


def twips(mm: float) -> int:
    return round(mm * TWIPS_PER_MM)


# --- Text -----------------------------------------------------------------------------------------


def set_fonts(rpr, name: str) -> None:
    """All four font slots of an rPr (or rPrDefault) to `name`, theme attributes removed."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = insert(rpr, el("w:rFonts"))
    for attr in THEME_ATTRS:
        fonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attr}"), name)


def add_text(p, text: str, bold=False, italic=False, size=None, color=None):
    """Runs of `text` after the French typography pass; ☐ ☒ ◼ in their own runs, in
    "Segoe UI Symbol"."""
    for chunk in _SYMBOL_SPLIT.split(fr(text or "")):
        if not chunk:
            continue
        run = p.add_run(chunk)
        run.bold = bold or None
        run.italic = italic or None
        if size:
            run.font.size = Pt(size)
        if color is not None:
            run.font.color.rgb = color
        if chunk[0] in SYMBOLS:
            set_fonts(run._r.get_or_add_rPr(), SYMBOL_FONT)
    return p


class Writer:
    """Paragraphs and tables into the document or into a table cell."""

    def __init__(self, document):
        self.document = document
        # Cells whose first (empty) paragraph is still unused. The lxml elements themselves
        # are kept: an id() of a proxy may be reused once the proxy is collected.
        self._fresh_cells: set = set()

    # paragraphs

    def para(self, where, text="", *, bold=False, italic=False, size=None, color=None,
             align=None, before=0, after=2, indent=0, keep_next=False, style=None):  # fmt: skip
        if where is self.document:
            p = self.document.add_paragraph(style=style)
        elif where._tc in self._fresh_cells:
            self._fresh_cells.discard(where._tc)
            p = where.paragraphs[0]
        else:
            p = where.add_paragraph(style=style)
        fmt = p.paragraph_format
        fmt.space_before, fmt.space_after = Pt(before), Pt(after)
        if indent:
            fmt.left_indent = Mm(indent)
        if keep_next:
            fmt.keep_with_next = True
        if align is not None:
            p.alignment = align
        if text:
            add_text(p, text, bold=bold, italic=italic, size=size, color=color)
        return p

    def label(self, where, label, value="", *, symbol=True, size=None, after=2, keep_next=False):
        """« ◼ Label : value », the label in bold."""
        p = self.para(where, after=after, keep_next=keep_next)
        add_text(p, ("◼ " if symbol else "") + label, bold=True, size=size)
        if value:
            add_text(p, " " + value, size=size)
        return p

    def instruction(self, where, text, after=3):
        return self.para(where, text, italic=True, size=7.5, color=GREY, after=after)

    def heading(self, text, level=1, page_break=False):
        p = self.document.add_paragraph(style=f"Heading {level}")
        if page_break:
            p.paragraph_format.page_break_before = True
        add_text(p, text)
        return p

    # tables

    def table(self, where, header, rows, widths_mm, *, num_cols=(), size=8.5, grid=True,
              shade_header=True, bold_first_col=False, row_height_mm=None):  # fmt: skip
        """A table whose widths hold in Word and LibreOffice. `rows` are lists of strings (a
        string with "\\n\\n" makes several paragraphs) or of callables `f(writer, cell)`."""
        container = self.document if where is self.document else where
        t = container.add_table(rows=0, cols=len(widths_mm))
        if grid:
            t.style = self.document.styles["Table Grid"]
        t.autofit = False  # tblLayout fixed
        t.alignment = WD_TABLE_ALIGNMENT.LEFT
        pr = t._tbl.tblPr
        insert(pr, el("w:tblW", **{"w:w": twips(sum(widths_mm)), "w:type": "dxa"}))
        insert(pr, cell_margins(top=40, bottom=40, left=85, right=85))
        for col, width in zip(t._tbl.tblGrid.findall(qn("w:gridCol")), widths_mm, strict=True):
            col.set(qn("w:w"), str(twips(width)))
        all_rows = ([header] if header else []) + list(rows)
        for i, values in enumerate(all_rows):
            is_header = bool(header) and i == 0
            row = t.add_row()
            tr_pr = row._tr.get_or_add_trPr()
            tr_pr.append(el("w:cantSplit"))
            if is_header:
                tr_pr.append(el("w:tblHeader"))
            if row_height_mm and not is_header:
                row.height = Mm(row_height_mm)
            for j, value in enumerate(values):
                cell = row.cells[j]
                cell.width = Mm(widths_mm[j])
                if is_header and shade_header:
                    shade(cell, "EEEEEE")
                self._fresh_cells.add(cell._tc)
                if callable(value):
                    value(self, cell)
                    continue
                bold = is_header or (bold_first_col and j == 0)
                texts = view.paragraphs(value) if "\n\n" in value else [value]
                for k, text in enumerate(texts):
                    p = self.para(cell, text, bold=bold, size=size, after=0, before=3 if k else 0)
                    if j in num_cols:
                        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        return t

    def box(self, where, width_mm, fill=None, border=None):
        """A one-cell table: its cell, to write into."""
        t = self.table(where, None, [[lambda w, c: None]], [width_mm])
        cell = t.rows[0].cells[0]
        if fill:
            shade(cell, fill)
        if border:
            borders = el("w:tblBorders")
            for side in ("top", "left", "bottom", "right"):
                borders.append(el(f"w:{side}", **{"w:val": "single", "w:sz": "6",
                                                  "w:space": "0", "w:color": border}))  # fmt: skip
            insert(t._tbl.tblPr, borders)
        return cell

    def gap(self, where=None, points=4):
        return self.para(where or self.document, after=0, before=0, size=points)


def cell_margins(**sides):
    mar = el("w:tblCellMar")
    for side in ("top", "left", "bottom", "right"):
        if side in sides:
            mar.append(el(f"w:{side}", **{"w:w": sides[side], "w:type": "dxa"}))
    return mar


def shade(cell, fill: str) -> None:
    insert(cell._tc.get_or_add_tcPr(), el("w:shd", **{"w:val": "clear", "w:color": "auto",
                                                      "w:fill": fill}))  # fmt: skip


# --- Styles, sections, header and footer ----------------------------------------------------------


def styles(document) -> None:
    styles = document.styles
    # Document defaults: Arial, French, no theme fonts.
    defaults = styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(qn("w:rPrDefault") + "/" + qn("w:rPr"))
        if rpr is not None:
            set_fonts(rpr, BODY_FONT)
            insert(rpr, el("w:lang", **{"w:val": "fr-FR", "w:eastAsia": "fr-FR",
                                        "w:bidi": "ar-SA"}))  # fmt: skip
    normal = styles["Normal"]
    normal.font.size = Pt(9.5)
    rpr = normal.element.get_or_add_rPr()
    set_fonts(rpr, BODY_FONT)
    insert(rpr, el("w:lang", **{"w:val": "fr-FR", "w:eastAsia": "fr-FR", "w:bidi": "ar-SA"}))
    normal.paragraph_format.space_after = Pt(2)
    normal.paragraph_format.line_spacing = 1.0

    h1 = styles["Heading 1"]
    set_fonts(h1.element.get_or_add_rPr(), BODY_FONT)
    h1.font.size = Pt(10.5)
    h1.font.bold = True
    h1.font.color.rgb = RGBColor(0, 0, 0)
    fmt = h1.paragraph_format
    fmt.space_before, fmt.space_after = Pt(10), Pt(4)
    fmt.keep_with_next = True
    ppr = h1.element.get_or_add_pPr()
    borders = el("w:pBdr")
    for side in ("top", "left", "bottom", "right"):
        borders.append(el(f"w:{side}", **{"w:val": "single", "w:sz": "6", "w:space": "3",
                                          "w:color": "444444"}))  # fmt: skip
    insert(ppr, borders)
    insert(ppr, el("w:shd", **{"w:val": "clear", "w:color": "auto", "w:fill": "D9D9D9"}))

    h2 = styles["Heading 2"]
    set_fonts(h2.element.get_or_add_rPr(), BODY_FONT)
    h2.font.size = Pt(12)
    h2.font.bold = True
    h2.font.color.rgb = RGBColor(0, 0, 0)
    h2.paragraph_format.space_before, h2.paragraph_format.space_after = Pt(0), Pt(4)

    for name in ("Header", "Footer"):  # their tab stops (4680, 9360) would misplace our texts
        ppr = styles[name].element.get_or_add_pPr()
        tabs = ppr.find(qn("w:tabs"))
        if tabs is not None:
            ppr.remove(tabs)


def page_setup(section, landscape: bool) -> None:
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))  # fmt: skip
    section.left_margin = section.right_margin = Mm(16)
    section.top_margin, section.bottom_margin = Mm(20), Mm(22)
    section.header_distance, section.footer_distance = Mm(9), Mm(8)


def page_field(p, instruction: str, size_pt: float) -> None:
    """A w:fldSimple (PAGE, NUMPAGES) whose result run has its own size."""
    fld = el("w:fldSimple", **{"w:instr": f" {instruction} "})
    run = el("w:r")
    rpr = el("w:rPr")
    insert(rpr, el("w:sz", **{"w:val": int(size_pt * 2)}))
    insert(rpr, el("w:szCs", **{"w:val": int(size_pt * 2)}))
    run.append(rpr)
    text = el("w:t")
    text.text = "1"
    run.append(text)
    fld.append(run)
    p._p.append(fld)


def header_footer(section, width_mm: float, right_text: str) -> None:
    section.header.is_linked_to_previous = False
    section.footer.is_linked_to_previous = False
    p = section.header.paragraphs[0]
    p.paragraph_format.tab_stops.add_tab_stop(Mm(width_mm), WD_TAB_ALIGNMENT.RIGHT)
    add_text(p, "PROJET — document non signé", bold=True, size=8, color=RED)
    add_text(p, "\t" + right_text, size=8)

    first = section.footer.paragraphs[0]
    add_text(first, view.AMENDMENT_FOOTER, size=7, color=GREY)
    page = section.footer.add_paragraph()
    page.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    add_text(page, "Page ", size=8)
    page_field(page, "PAGE", 8)
    add_text(page, " sur ", size=8)
    page_field(page, "NUMPAGES", 8)

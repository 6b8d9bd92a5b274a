"""PDF documents in Chinese with the font embedded, drawn on the server without
network or browser: the audit file, a case file, the weekly report.

One place builds every PDF envwatch writes. ``PdfDocument`` wraps fpdf2 with a
CJK font found on the machine (``ENVWATCH_PDF_FONT``, else the usual Debian
paths) and embeds the glyphs it uses (fpdf2 subsets the font), so a reader
without the font sees the same text. Charts and the county map are drawn with
PDF vector primitives from plain numbers, not from images, so they stay sharp
and the text in them stays searchable.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from envwatch.errors import ConfigError
from envwatch.web.mapsvg import frame

# fontTools reports each font table it does not subset (the CJK fonts' bitmap
# tables, which a PDF does not need) on every document: not news to a reader.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

PDF_FONT_ENV = "ENVWATCH_PDF_FONT"

# Fonts with TrueType outlines that fpdf2 embeds (Debian packages in brackets).
KNOWN_CJK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # fonts-wqy-zenhei
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # fonts-wqy-microhei
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),  # fonts-arphic-uming
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),  # fonts-droid-fallback
)

# Series colours (ECharts' default palette, so the PDF looks like the page).
PALETTE = ("#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452")


class PdfFontMissingError(ConfigError):
    """No font with Chinese glyphs: a PDF in Chinese cannot be written."""

    def __init__(self, looked_at: Sequence[Path]) -> None:
        places = ", ".join(str(p) for p in looked_at)
        super().__init__(
            PDF_FONT_ENV,
            "no font with Chinese glyphs for PDF files; install the Debian package "
            f"fonts-wqy-zenhei or set {PDF_FONT_ENV} to a .ttf/.ttc file (looked at {places})",
            "没有可用于 PDF 的中文字体；请安装 Debian 软件包 fonts-wqy-zenhei，"
            f"或将 {PDF_FONT_ENV} 设为一个 .ttf/.ttc 字体文件（已查找：{places}）",
        )
        self.code = "pdf_font_missing"


def find_cjk_font(configured: str | Path | None = None) -> Path:
    """The font file for Chinese text: ``configured``, else ``ENVWATCH_PDF_FONT``,
    else the first of ``KNOWN_CJK_FONTS`` that exists."""
    wanted = configured or os.environ.get(PDF_FONT_ENV)
    candidates = [Path(wanted)] if wanted else list(KNOWN_CJK_FONTS)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise PdfFontMissingError(candidates)


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def _text(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if math.isfinite(value) else "—"
    return str(value)


@dataclass(frozen=True, slots=True)
class MapArea:
    """One area of a map: its name, its rings in longitude-latitude, its fill."""

    name: str
    rings: list[list[list[float]]]
    fill: str
    label: str = ""


class _Canvas(FPDF):
    def __init__(self, title: str, footer_note: str, landscape: bool) -> None:
        super().__init__(orientation="L" if landscape else "P", unit="mm", format="A4")
        self._title = title
        self._footer_note = footer_note

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(size=8)
        self.set_text_color(110, 110, 110)
        note = f"{self._title} · {self._footer_note}" if self._footer_note else self._title
        self.cell(0, 6, f"{note}    {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0, 0, 0)


class PdfDocument:
    """A document of headings, paragraphs, key-value blocks, tables, charts and
    maps; ``to_bytes`` gives the PDF.

    ``created`` fixes the creation date written into the file, so the same
    inputs give the same document (an audit file is reproducible).
    """

    def __init__(
        self,
        title: str,
        *,
        created: datetime,
        landscape: bool = False,
        footer_note: str = "",
        font: Path | None = None,
        author: str = "envwatch",
    ) -> None:
        self.title = title
        self._pdf = _Canvas(title, footer_note, landscape)
        font_path = font or find_cjk_font()
        self._pdf.add_font("cjk", "", str(font_path), collection_font_number=0)
        self._pdf.add_font("cjk", "B", str(font_path), collection_font_number=0)
        self._pdf.set_font("cjk", size=10)
        self._pdf.set_title(title)
        self._pdf.set_author(author)
        self._pdf.set_creator("envwatch")
        self._pdf.set_creation_date(created)
        self._pdf.set_auto_page_break(auto=True, margin=16)
        self._pdf.alias_nb_pages()
        self._pdf.add_page()

    @property
    def width(self) -> float:
        """The width of the text area [mm]."""
        return float(self._pdf.epw)

    def title_block(self, subtitle: str = "") -> None:
        self._pdf.set_font("cjk", size=18)
        self._pdf.multi_cell(0, 10, self.title, align="C", new_x="LMARGIN", new_y="NEXT")
        if subtitle:
            self._pdf.set_font("cjk", size=10)
            self._pdf.multi_cell(0, 6, subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
        self._pdf.ln(3)
        self._pdf.set_font("cjk", size=10)

    def heading(self, text: str, level: int = 1) -> None:
        size = {1: 14, 2: 12}.get(level, 11)
        self._keep(12)
        self._pdf.ln(2)
        self._pdf.set_font("cjk", size=size)
        self._pdf.multi_cell(0, size * 0.55, text, new_x="LMARGIN", new_y="NEXT")
        self._pdf.ln(1)
        self._pdf.set_font("cjk", size=10)

    def paragraph(self, text: str, *, size: float = 10) -> None:
        self._pdf.set_font("cjk", size=size)
        self._pdf.multi_cell(0, size * 0.55, text, new_x="LMARGIN", new_y="NEXT")
        self._pdf.ln(1)
        self._pdf.set_font("cjk", size=10)

    def key_values(self, pairs: Sequence[tuple[str, object]]) -> None:
        """Label: value lines, two columns wide."""
        self.table(("项目 Item", "内容 Value"), [(k, v) for k, v in pairs], widths=(1, 2))

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[object]],
        *,
        widths: Sequence[float] | None = None,
        size: float = 8.5,
        numbers_right: bool = True,
    ) -> None:
        """A table whose heading row repeats on every page; cells wrap."""
        pdf = self._pdf
        pdf.set_font("cjk", size=size)
        align = ["LEFT"] * len(header)
        if numbers_right and rows:
            for column in range(len(header)):
                values = [row[column] for row in rows if row[column] is not None]
                if values and all(isinstance(v, int | float) for v in values):
                    align[column] = "RIGHT"
        with pdf.table(
            col_widths=tuple(widths) if widths else None,
            headings_style=FontFace(fill_color=(232, 238, 247)),
            line_height=size * 0.5,
            repeat_headings=1,
            text_align=tuple(align),
            width=self.width,
        ) as table:
            heading = table.row()
            for name in header:
                heading.cell(name)
            for cells in rows:
                row = table.row()
                for cell in cells:
                    row.cell(_text(cell))
        pdf.ln(2)
        pdf.set_font("cjk", size=10)

    def bar_chart(
        self,
        title: str,
        categories: Sequence[str],
        series: Sequence[tuple[str, Sequence[float | None]]],
        *,
        unit: str = "",
        height: float = 60,
        reference: tuple[str, float] | None = None,
    ) -> None:
        """Grouped bars per category; ``reference`` draws a labelled level line."""
        values = [v for _, vs in series for v in vs if v is not None]
        top = max([*values, reference[1] if reference else 0.0, 0.0]) or 1.0
        box = self._chart_frame(title, unit, height, top)
        x0, y0, w, h = box
        slot = w / max(len(categories), 1)
        bar = slot * 0.8 / max(len(series), 1)
        pdf = self._pdf
        for index, (_, vs) in enumerate(series):
            pdf.set_fill_color(*_rgb(PALETTE[index % len(PALETTE)]))
            for position, value in enumerate(vs):
                if value is None or value <= 0:
                    continue
                bar_h = h * value / top
                left = x0 + position * slot + slot * 0.1 + index * bar
                pdf.rect(left, y0 + h - bar_h, bar, bar_h, style="F")
        self._x_labels(categories, x0, y0 + h, slot)
        if reference:
            self._reference(reference, (x0, y0, w, h), top)
        self._legend([name for name, _ in series], y0 + h + 6)

    def line_chart(
        self,
        title: str,
        categories: Sequence[str],
        series: Sequence[tuple[str, Sequence[float | None]]],
        *,
        unit: str = "",
        height: float = 60,
        reference: tuple[str, float] | None = None,
    ) -> None:
        """Lines over categories (gaps where a value is None)."""
        values = [v for _, vs in series for v in vs if v is not None]
        top = max([*values, reference[1] if reference else 0.0, 0.0]) or 1.0
        x0, y0, w, h = self._chart_frame(title, unit, height, top)
        slot = w / max(len(categories), 1)
        pdf = self._pdf
        pdf.set_line_width(0.5)
        for index, (_, vs) in enumerate(series):
            pdf.set_draw_color(*_rgb(PALETTE[index % len(PALETTE)]))
            previous: tuple[float, float] | None = None
            for position, value in enumerate(vs):
                if value is None:
                    previous = None
                    continue
                point = (x0 + (position + 0.5) * slot, y0 + h - h * value / top)
                if previous:
                    pdf.line(*previous, *point)
                else:
                    pdf.circle(x=point[0], y=point[1], radius=0.5, style="D")
                previous = point
        pdf.set_line_width(0.2)
        pdf.set_draw_color(0, 0, 0)
        self._x_labels(categories, x0, y0 + h, slot)
        if reference:
            self._reference(reference, (x0, y0, w, h), top)
        self._legend([name for name, _ in series], y0 + h + 6)

    def map(
        self,
        title: str,
        areas: Sequence[MapArea],
        legend: Sequence[tuple[str, str]] = (),
        *,
        width: float = 120,
    ) -> None:
        """A choropleth: each area filled with its colour and labelled."""
        features: list[Mapping[str, Any]] = [
            {"geometry": {"type": "Polygon", "coordinates": a.rings}} for a in areas
        ]
        projection = frame(features, width)
        self._keep(projection.height + 16)
        pdf = self._pdf
        self.paragraph(title, size=10)
        left = pdf.l_margin + (self.width - width) / 2
        top = pdf.get_y()
        pdf.set_draw_color(255, 255, 255)
        pdf.set_line_width(0.3)
        for area in areas:
            pdf.set_fill_color(*_rgb(area.fill))
            for ring in area.rings:
                points = [projection.xy(p[0], p[1]) for p in ring]
                pdf.polygon([(left + x, top + y) for x, y in points], style="DF")
        pdf.set_font("cjk", size=7)
        for area in areas:
            ring = max(area.rings, key=len)
            xs = [projection.xy(p[0], p[1]) for p in ring]
            cx = sum(x for x, _ in xs) / len(xs)
            cy = sum(y for _, y in xs) / len(xs)
            text = f"{area.name} {area.label}".strip()
            pdf.set_xy(left + cx - 20, top + cy - 2)
            pdf.cell(40, 4, text, align="C")
        pdf.set_draw_color(0, 0, 0)
        pdf.set_line_width(0.2)
        pdf.set_y(top + projection.height + 2)
        x = pdf.l_margin
        for label, colour in legend:
            pdf.set_fill_color(*_rgb(colour))
            pdf.rect(x, pdf.get_y() + 1, 4, 3, style="F")
            pdf.set_xy(x + 5, pdf.get_y())
            pdf.cell(pdf.get_string_width(label) + 4, 5, label)
            x = pdf.get_x() + 2
        pdf.ln(7)
        pdf.set_font("cjk", size=10)

    def page_break(self) -> None:
        self._pdf.add_page()

    def to_bytes(self) -> bytes:
        return bytes(self._pdf.output())

    # -- drawing helpers --------------------------------------------------------

    def _keep(self, height: float) -> None:
        """Start a new page unless ``height`` mm still fit on this one."""
        if self._pdf.get_y() + height > self._pdf.h - self._pdf.b_margin:
            self._pdf.add_page()

    def _chart_frame(
        self, title: str, unit: str, height: float, top: float
    ) -> tuple[float, float, float, float]:
        self._keep(height + 22)
        pdf = self._pdf
        self.paragraph(f"{title}（{unit}）" if unit else title, size=10)
        x0 = pdf.l_margin + 14
        y0 = pdf.get_y() + 2
        w = self.width - 16
        pdf.set_font("cjk", size=7)
        pdf.set_draw_color(200, 200, 200)
        for step in range(5):
            level = top * step / 4
            y = y0 + height - height * step / 4
            pdf.line(x0, y, x0 + w, y)
            pdf.set_xy(pdf.l_margin, y - 2)
            pdf.cell(13, 4, _text(round(level, 3)), align="R")
        pdf.set_draw_color(0, 0, 0)
        return x0, y0, w, height

    def _x_labels(self, categories: Sequence[str], x0: float, y: float, slot: float) -> None:
        pdf = self._pdf
        pdf.set_font("cjk", size=6.5)
        every = max(1, math.ceil(len(categories) * 9 / (slot * len(categories) or 1) / 2))
        for position, label in enumerate(categories):
            if position % every:
                continue
            pdf.set_xy(x0 + position * slot, y + 0.5)
            pdf.cell(slot * every, 4, label, align="C" if every == 1 else "L")

    def _reference(
        self, reference: tuple[str, float], box: tuple[float, float, float, float], top: float
    ) -> None:
        label, level = reference
        x0, y0, w, h = box
        pdf = self._pdf
        y = y0 + h - h * level / top
        pdf.set_draw_color(238, 102, 102)
        pdf.set_dash_pattern(dash=1.5, gap=1)
        pdf.line(x0, y, x0 + w, y)
        pdf.set_dash_pattern()
        pdf.set_draw_color(0, 0, 0)
        pdf.set_font("cjk", size=7)
        pdf.set_text_color(200, 60, 60)
        pdf.set_xy(x0 + w - 40, y - 4)
        pdf.cell(40, 4, label, align="R")
        pdf.set_text_color(0, 0, 0)

    def _legend(self, names: Sequence[str], y: float) -> None:
        pdf = self._pdf
        pdf.set_font("cjk", size=7.5)
        x = pdf.l_margin + 14
        for index, name in enumerate(names):
            pdf.set_fill_color(*_rgb(PALETTE[index % len(PALETTE)]))
            pdf.rect(x, y + 1, 4, 3, style="F")
            pdf.set_xy(x + 5, y)
            pdf.cell(pdf.get_string_width(name) + 3, 5, name)
            x = pdf.get_x() + 3
        pdf.set_y(y + 8)
        pdf.set_font("cjk", size=10)

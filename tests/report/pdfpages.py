"""Reading rendered PDFs in tests with pypdfium2 (PDFium ships inside the wheel: no poppler on the machine).

Pages as PNG images, the text of each page, and the raster images embedded in each page, so a test
can look at a report as a reader would and check that every chart is there and not blank.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image


@dataclass
class PdfImage:
    page: int          # 1-based page number
    image: Image.Image


def page_count(pdf_path: Path) -> int:
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        return len(pdf)
    finally:
        pdf.close()


def render_pages(pdf_path: Path, out_dir: Path, dpi: int = 50, prefix: str = "page") -> list[Path]:
    """Every page as `{prefix}-{n:02d}.png` in out_dir (n from 1); returns the paths in page order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf = pdfium.PdfDocument(str(pdf_path))
    paths = []
    try:
        for number, page in enumerate(pdf, start=1):
            image = page.render(scale=dpi / 72).to_pil().convert("RGB")
            path = out_dir / f"{prefix}-{number:02d}.png"
            image.save(path)
            paths.append(path)
    finally:
        pdf.close()
    return paths


def page_texts(pdf_path: Path) -> list[str]:
    """The text of each page (what a reader can select), in page order."""
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        return [page.get_textpage().get_text_range() for page in pdf]
    finally:
        pdf.close()


def embedded_images(pdf_path: Path) -> list[PdfImage]:
    """The raster images placed on each page (the report's charts), decoded to PIL images."""
    pdf = pdfium.PdfDocument(str(pdf_path))
    out = []
    try:
        for number, page in enumerate(pdf, start=1):
            for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
                out.append(PdfImage(number, obj.get_bitmap().to_pil().convert("RGB")))
    finally:
        pdf.close()
    return out

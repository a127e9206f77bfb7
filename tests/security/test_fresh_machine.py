"""Issue 14 point 16: the README's `make test` passes on a fresh machine, where poppler-utils is not
installed: PDFs are read with pypdfium2 (a dev dependency shipping its own PDFium), no test or CI step
calls poppler's tools, and `make demo`'s home is ignored by git."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POPPLER_TOOLS = re.compile(r"\b(pdftoppm|pdfimages|pdftotext|pdfinfo|pdftocairo)\b|poppler-utils")


def test_no_test_or_ci_step_needs_poppler() -> None:
    offenders = []
    for path in [*ROOT.joinpath("tests").rglob("*.py"), ROOT / ".ci" / "run", ROOT / "Makefile"]:
        if path == Path(__file__).resolve():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            if POPPLER_TOOLS.search(code):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, offenders


def test_pdfs_are_read_with_a_dev_dependency_that_ships_its_binary(tmp_path: Path) -> None:
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]["dev"]
    assert any(d.split(">")[0].split("=")[0].strip() == "pypdfium2" for d in dev)
    weasyprint = pytest.importorskip("weasyprint")
    from tests.report.pdfpages import embedded_images, page_texts, render_pages

    pdf = tmp_path / "t.pdf"
    weasyprint.HTML(string="<h1>TLP:AMBER</h1><p>page one</p><p style='page-break-before: always'>two</p>").write_pdf(pdf)
    assert [("TLP:AMBER" in t, "two" in t) for t in page_texts(pdf)] == [(True, False), (False, True)]
    pages = render_pages(pdf, tmp_path / "pages", dpi=30)
    assert [p.name for p in pages] == ["page-01.png", "page-02.png"] and embedded_images(pdf) == []


def test_make_demo_home_is_ignored_by_git() -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    paths = ["trilateral-demo/hub.sqlite3", "test-output/report/x.png"]
    res = subprocess.run(["git", "check-ignore", *paths], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.split() == paths, res.stderr

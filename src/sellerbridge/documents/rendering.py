"""Documents as PDF/A-3b: Jinja2 HTML/CSS templates laid out by WeasyPrint.

One code path for every document and every merchant: the built-in layout and a merchant's
override are both HTML/CSS templates, found through a Jinja2 ``ChoiceLoader`` that looks in the
configuration directory's ``templates/`` first. Invoices and correction invoices embed their
Factur-X XML (:mod:`.einvoice`) as ``factur-x.xml`` with ``AFRelationship /Data``, and their
XMP metadata declares the Factur-X extension schema next to the PDF/A identification in one
``rdf:RDF``: through WeasyPrint's ``generate_rdf_metadata`` hook (its changelog 68.0 names it for
Factur-X), not its ``xmp_metadata`` option, which appends a second ``rdf:RDF`` that readers
taking only the first one (pypdf, XMP toolkits) never see.

System libraries (Debian 12 package names): ``libpango-1.0-0`` and ``libpangoft2-1.0-0`` (text
layout), ``libharfbuzz-subset0`` (font subsetting; without it WeasyPrint warns on import and is
three times slower) and ``fonts-dejavu-core`` (DejaVu Sans, the font the layout asks for; PDF/A
embeds it in every document).

Speed, measured with ``bench/render_invoices.py`` on the project's 2-core machine; a one-page
invoice with 1-6 articles and shipping, Factur-X XML built and XSD-checked, PDF/A-3b:

- cold: importing WeasyPrint and this package 0.5 s, the first invoice 0.15 s;
- warm, one process: median 66-70 ms, 95th percentile 90-100 ms per invoice (~14 invoices/s);
  with fontTools instead of HarfBuzz subsetting the fonts: ~210 ms per invoice;
- :func:`render_many`, 2 worker processes, 400 invoices: 23-28 invoices/s, pool start
  (~0.7 s) included, on an otherwise idle machine (target: 20/s on 2 cores); 14-17/s while
  another test suite shared the two cores.

What got it there, measured one by one on the warm renderer: HarfBuzz subsetting instead of
fontTools (DejaVu Sans' large OpenType tables were decompiled for every PDF: ~3× faster);
the fonts, parsed stylesheet and compiled template kept in a :class:`Renderer` and reused;
floats instead of flexbox (−17 %) and ``table-layout: fixed`` for the tables (WeasyPrint
measured every cell otherwise: −13 %); :func:`~sellerbridge.runtime.tune_gc` in the workers
(−7 %). Layout is pure Python under the GIL, so the second core is used by a second process,
not a thread.
A code-driven renderer (fpdf2) for the standard layout was not needed: one code path serves the
built-in layout and every merchant's override.
"""

from __future__ import annotations

import multiprocessing
import re
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache, partial
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pycountry
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
)
from markupsafe import Markup
from weasyprint import CSS, HTML, Attachment
from weasyprint.text.ffi import harfbuzz_subset
from weasyprint.text.fonts import FontConfiguration

from sellerbridge.core.clock import utcnow
from sellerbridge.core.documents import DocumentContent
from sellerbridge.documents.einvoice import (
    FILENAME,
    check_xml,
    delivery_date,
    facturx_xml,
    xmp_descriptions,
)
from sellerbridge.documents.formatting import Formatter
from sellerbridge.documents.labels import LABELS, TITLES, check_language
from sellerbridge.runtime import tune_gc

BUILTIN_TEMPLATES = Path(__file__).parent / "templates"
LAYOUT = "document.html"
STYLESHEET = "document.css"
LOGOS = ("logo.svg", "logo.png")
"""Looked for in the merchant's template directory, in this order."""

PDF_VARIANT = "pdf/a-3b"


class Renderer:
    """Renders documents with one set of templates; keep it and reuse it.

    Building it costs what makes the first document slow (templates compiled, stylesheet
    parsed, fonts found); every later document pays only for its own layout. Templates, the
    stylesheet and the logo are read once: a changed template shows after a restart.
    """

    def __init__(self, template_dir: Path | None = None) -> None:
        builtin = FileSystemLoader(BUILTIN_TEMPLATES)
        loaders: list[BaseLoader] = [builtin, PrefixLoader({"builtin": builtin})]
        if template_dir is not None:
            loaders.insert(0, FileSystemLoader(template_dir))
        loader = ChoiceLoader(loaders)
        environment = Environment(
            loader=loader,
            autoescape=True,  # names and addresses come from marketplace buyers
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._template = environment.get_template(LAYOUT)
        self._base_url = (template_dir or BUILTIN_TEMPLATES).resolve().as_uri() + "/"
        self._fonts = FontConfiguration()
        css, css_path, _ = loader.get_source(environment, STYLESHEET)
        self._stylesheet = CSS(string=css, base_url=css_path, font_config=self._fonts)
        self._logo = _logo(template_dir)
        # WeasyPrint's font configuration (a Pango font map) is shared by all documents of
        # this renderer and is not safe to use from two threads at once.
        self._lock = threading.Lock()

    def render(self, content: DocumentContent) -> bytes:
        """The document as PDF/A-3b; invoices and corrections with their checked XML."""
        check_language(content.language)
        xml = None
        if content.kind.is_e_invoice:
            xml = facturx_xml(content)
            check_xml(xml)
        html = self._template.render(self._context(content))
        with self._lock:
            document = HTML(string=html, base_url=self._base_url).render(
                stylesheets=[self._stylesheet], font_config=self._fonts
            )
            if xml is not None:
                _embed(document, xml)
            with warnings.catch_warnings():
                # WeasyPrint 70 opens its sRGB profile for every PDF/A and leaves the file to
                # the garbage collector; the ResourceWarning is about its file, not our PDF.
                warnings.simplefilter("ignore", ResourceWarning)
                pdf: bytes = document.write_pdf(pdf_variant=PDF_VARIANT)
        return pdf

    def _context(self, content: DocumentContent) -> Mapping[str, Any]:
        formatter = Formatter(content.language)
        labels = LABELS[content.language]
        return {
            "content": content,
            "title": TITLES[content.language][content.kind],
            "labels": labels,
            "money": partial(formatter.money, currency=content.currency),
            "number": formatter.number,
            "rate": formatter.rate,
            "date": formatter.date,
            "country": _country_name,
            "logo": self._logo,
            "has_prices": content.kind.has_prices,
            "show_discount": any(line.discount for line in content.lines),
            "delivered_on": (
                delivery_date(content) if content.kind.is_e_invoice else content.delivered_on
            ),
            "amount_due": content.total_gross - content.prepaid,
            # CSS from our own label table, its strings escaped by _page_counter; HTML escaping
            # would break it inside <style>.
            "page_counter": Markup(_page_counter(labels["page"])),  # noqa: S704
        }


def render(content: DocumentContent, *, template_dir: Path | None = None) -> bytes:
    """The document as PDF/A-3b, with ``template_dir`` searched before the built-in templates.

    Uses a warm :class:`Renderer` per template directory, kept for the life of the process.
    """
    return renderer_for(template_dir).render(content)


def render_many(
    contents: Sequence[DocumentContent],
    *,
    template_dir: Path | None = None,
    workers: int = 2,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[bytes]:
    """Render many documents, in ``workers`` processes; the PDFs in the order of ``contents``.

    Layout is pure CPU work under the GIL, so threads would not help; each worker process keeps
    its own warm renderer. Starting the workers costs ~0.7 s, so this pays from a few dozen
    documents on. They are started by a fork server, not forked from this process, so a caller
    with threads of its own (web server, job worker) is safe; like every pool that does not
    fork, a script must call it under ``if __name__ == "__main__":``. ``on_progress(done,
    total)`` is called after each document, for a progress bar.
    """
    pdfs: list[bytes] = []
    if workers <= 1 or len(contents) <= 1:
        for content in contents:
            pdfs.append(render(content, template_dir=template_dir))
            if on_progress is not None:
                on_progress(len(pdfs), len(contents))
        return pdfs
    context = multiprocessing.get_context("forkserver")
    chunk = max(1, len(contents) // (workers * 8))
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(template_dir,)
    ) as pool:
        for pdf in pool.map(partial(render, template_dir=template_dir), contents, chunksize=chunk):
            pdfs.append(pdf)
            if on_progress is not None:
                on_progress(len(pdfs), len(contents))
    return pdfs


@lru_cache(maxsize=8)
def renderer_for(template_dir: Path | None) -> Renderer:
    """The process's warm renderer for ``template_dir``."""
    return Renderer(template_dir)


def _start_worker(template_dir: Path | None) -> None:
    """Warm a worker process up before its first document.

    Layout allocates many short-lived objects; with CPython's default collector thresholds a
    worker spends ~7 % of its time in collections walking the renderer's long-lived objects,
    which :func:`~sellerbridge.runtime.tune_gc` freezes.
    """
    renderer_for(template_dir)
    tune_gc()


def fast_font_subsetting() -> bool:
    """Whether WeasyPrint found HarfBuzz-Subset; without it every document is ~3× slower."""
    return harfbuzz_subset is not None


def _embed(document: Any, xml: bytes) -> None:
    """Attach the Factur-X XML and announce it in the XMP metadata."""
    now = utcnow()
    document.metadata.attachments.append(
        Attachment(
            string=xml,
            name=FILENAME,
            description="Factur-X/ZUGFeRD invoice (EN 16931)",
            relationship="Data",
            created=now,
            modified=now,
        )
    )
    document.metadata.generate_rdf_metadata = partial(
        _rdf_with_facturx, document.metadata.generate_rdf_metadata
    )


def _rdf_with_facturx(
    default: Callable[[str, int, str], bytes], variant: str, version: int, conformance: str
) -> bytes:
    """WeasyPrint's RDF (PDF/A identification, title, producer) plus the Factur-X entries."""
    rdf = ElementTree.fromstring(default(variant, version, conformance))  # noqa: S314 (ours)
    rdf.extend(xmp_descriptions())
    xml: bytes = ElementTree.tostring(rdf, encoding="utf-8")
    return xml


def _logo(template_dir: Path | None) -> str | None:
    if template_dir is None:
        return None
    for name in LOGOS:
        path = template_dir / name
        if path.is_file():
            return path.resolve().as_uri()
    return None


@lru_cache(maxsize=64)
def _country_name(code: str) -> str:
    """The country in capitals for the last line of a foreign address, as the post wants it."""
    country = pycountry.countries.get(alpha_2=code)
    return str(country.name).upper() if country is not None else code


def _page_counter(label: str) -> str:
    """A label like "Seite {page} von {pages}" as CSS content with the page counters."""
    parts = []
    for piece in re.split(r"(\{pages?\})", label):
        if piece in ("{page}", "{pages}"):
            parts.append(f"counter({piece[1:-1]})")
        elif piece:
            escaped = piece.replace("\\", "\\\\").replace('"', '\\"')
            parts.append(f'"{escaped}"')
    return " ".join(parts)

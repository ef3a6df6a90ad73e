"""Business documents as files: invoices, correction invoices and delivery notes.

Reads only :class:`~sellerbridge.core.documents.DocumentContent` and returns PDF/A-3b bytes;
invoices and correction invoices are Factur-X / ZUGFeRD e-invoices (profile EN 16931) with
their CII XML embedded and checked against the XSD before they are returned. Storing the exact
bytes that were issued (GoBD) is the caller's job: a later rendering with changed templates is
not the same document.

    render(content, template_dir=None) -> bytes            one document, warm renderer
    render_many(contents, template_dir=None, workers=2)    a batch in worker processes
    facturx_xml(content) -> bytes, check_xml(xml)          the e-invoice alone

The speed figures and the choice of WeasyPrint are in :mod:`.rendering`.
"""

from sellerbridge.documents.einvoice import FILENAME, InvalidEInvoice, check_xml, facturx_xml
from sellerbridge.documents.rendering import Renderer, render, render_many

__all__ = [
    "FILENAME",
    "InvalidEInvoice",
    "Renderer",
    "check_xml",
    "facturx_xml",
    "render",
    "render_many",
]

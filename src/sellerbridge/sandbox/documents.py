"""Feed and report documents behind pre-signed URLs, like Amazon's S3 links.

``createFeedDocument`` hands out an upload URL; the client PUTs the file there (no SP-API
token: the URL itself is the permission). Result and report documents are fetched with GET from
such URLs. Every URL carries its expiry and an HMAC signature; after 5 minutes (configurable)
it answers 403 the way S3 does, with an XML error.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

if TYPE_CHECKING:
    from sellerbridge.sandbox.core import Sandbox


def _from_json(value: Any) -> Any:
    return base64.b64decode(value) if isinstance(value, str) else value


StoredBytes = Annotated[
    bytes,
    BeforeValidator(_from_json),
    PlainSerializer(lambda value: base64.b64encode(value).decode("ascii"), when_used="json"),
]
"""Bytes kept as they are in memory and written as base64 in the JSON state file."""


class Document(BaseModel):
    document_id: str
    seller_id: str
    purpose: Literal["feed", "feed_result", "report"]
    content_type: str
    content: StoredBytes | None = None
    compression: Literal["GZIP"] | None = None
    created_at: datetime


COMPRESS_ABOVE = 100_000


class DocumentsState(BaseModel):
    documents: dict[str, Document] = Field(default_factory=dict)
    signing_key: str = ""


def create(
    sandbox: Sandbox,
    *,
    seller_id: str,
    purpose: Literal["feed", "feed_result", "report"],
    content_type: str,
    now: datetime,
    content: bytes | None = None,
    compress: bool | None = None,
) -> Document:
    """Store a document, GZIP-compressed if ``compress`` says so; by default (``None``) only
    when it is larger than :data:`COMPRESS_ABOVE` bytes, as Amazon compresses big results."""
    if compress is None:
        compress = content is not None and len(content) > COMPRESS_ABOVE
    document_id = _new_id(sandbox)
    while document_id in sandbox.state.documents.documents:
        document_id = _new_id(sandbox)
    document = Document(
        document_id=document_id,
        seller_id=seller_id,
        purpose=purpose,
        content_type=content_type,
        content=gzip.compress(content, mtime=0) if compress and content is not None else content,
        compression="GZIP" if compress else None,
        created_at=now,
    )
    sandbox.state.documents.documents[document.document_id] = document
    return document


def _new_id(sandbox: Sandbox) -> str:
    token = sandbox.random_token
    return f"amzn1.tortuga.4.eu.{token(8).lower()}-{token(4).lower()}-{token(12).lower()}"


def plain_content(document: Document) -> bytes:
    """The document's bytes, uncompressed."""
    if document.content is None:
        return b""
    return gzip.decompress(document.content) if document.compression else document.content


def _signature(sandbox: Sandbox, document_id: str, expires: int) -> str:
    if not sandbox.state.documents.signing_key:
        sandbox.state.documents.signing_key = sandbox.random_token(40)
    key = sandbox.state.documents.signing_key.encode()
    return hmac.new(key, f"{document_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def presigned_url(sandbox: Sandbox, base_url: str, document: Document, now: datetime) -> str:
    expires = int((now + timedelta(seconds=sandbox.config.document_url_seconds)).timestamp())
    signature = _signature(sandbox, document.document_id, expires)
    return f"{base_url}/_documents/{document.document_id}?Expires={expires}&Signature={signature}"


def _s3_error(status: int, code: str, message: str) -> Response:
    body = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return Response(body.encode(), status_code=status, media_type="application/xml")


def _refusal(sandbox: Sandbox, request: Request, document: Document | None) -> Response | None:
    """The S3 error for a URL that is forged, expired or used the wrong way; else ``None``."""
    document_id = request.path_params["document_id"]
    try:
        expires = int(request.query_params.get("Expires", ""))
    except ValueError:
        return _s3_error(403, "AccessDenied", "Query-string authentication requires Expires.")
    signature = request.query_params.get("Signature", "")
    if document is None or not hmac.compare_digest(
        signature, _signature(sandbox, document_id, expires)
    ):
        return _s3_error(403, "SignatureDoesNotMatch", "The request signature does not match.")
    if sandbox.now().timestamp() > expires:
        return _s3_error(403, "AccessDenied", "Request has expired")
    return _misuse(request, document)


def _misuse(request: Request, document: Document) -> Response | None:
    """The S3 error for a valid URL used for what it was not signed for; else ``None``."""
    if request.method == "GET":
        if document.content is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return None
    if document.purpose != "feed":
        return _s3_error(403, "AccessDenied", "This URL is for downloading.")
    if request.headers.get("content-type") != document.content_type:
        # The URL was signed for the content type given to createFeedDocument; S3 refuses any
        # other, and this is the most common reason a feed upload fails.
        return _s3_error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided: "
            f"upload with Content-Type {document.content_type!r}.",
        )
    return None


def routes(sandbox: Sandbox) -> list[Route]:
    async def endpoint(request: Request) -> Response:
        document = sandbox.state.documents.documents.get(request.path_params["document_id"])
        refusal = _refusal(sandbox, request, document)
        if refusal is not None:
            return refusal
        assert document is not None  # _refusal answered otherwise
        if request.method == "PUT":
            document.content = await request.body()
            return Response(b"", status_code=200)
        return Response(document.content, media_type=document.content_type)

    return [Route("/_documents/{document_id}", endpoint, methods=["GET", "PUT"])]

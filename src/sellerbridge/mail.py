"""E-mail an issued invoice to the buyer, over SMTP.

Two steps, kept apart so that each attempt can be recorded: :func:`compose_invoice_mail` builds
the message (the text in the buyer's language, the PDF attached byte for byte, a Message-ID the
caller stores for the GoBD trail), :func:`send` hands it to the merchant's mail server and
returns that Message-ID. Nothing here touches the database or decides *whether* a document is
mailed; the caller records every attempt and schedules retries from the exception it gets.

What can go wrong is classified where it happens, so the caller can catch exactly what it
handles::

    MailError                   any failed sending; the message says what to do
    ├── MailRefused             the server answered 5xx to the recipient or the message:
    │                           sending the same mail again gets the same answer
    └── MailTemporaryFailure    4xx, connection refused or reset, timeout, DNS, TLS
        │                       connection lost: try again later
        └── MailSettingsError   the server cannot be used with these settings (login refused
                                or missing, no STARTTLS, TLS on a plain port, certificate not
                                trusted, sender not allowed): the mail is fine; retries succeed
                                once an operator fixes the settings, so it is temporary too

A timeout while the server acknowledges the data can leave a mail delivered although
:func:`send` raised :class:`MailTemporaryFailure`; a retry then mails the same invoice (same
number, same PDF) twice, which is harmless.

Privacy: the password is only ever handed to ``smtplib``'s login; the recipient's address is
personal data and appears in no log line and no exception message (server replies are scrubbed
of addresses before they are quoted); message bodies are never logged.

Amazon: mail to a buyer's anonymised relay address (``…@marketplace.amazon.de``) goes through
Buyer-Seller Messaging, which accepts it only from a sender registered on the Messaging
Permissions page, allows transactional messages only (no marketing text), and delivers messages
needed to complete an order to buyers who opted out of others when the subject starts with
``[Important]`` (``reference/vat-invoicing.md`` §5). Whether an invoice is mailed to a relay
address at all is the caller's decision.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from enum import StrEnum
from pathlib import Path
from typing import NoReturn

import structlog
from pydantic import SecretStr

from sellerbridge.core.clock import utcnow
from sellerbridge.core.documents import LANGUAGES, DocumentContent, DocumentKind

__all__ = [
    "MailError",
    "MailRefused",
    "MailSettingsError",
    "MailTemporaryFailure",
    "SmtpSecurity",
    "SmtpSettings",
    "attachment_filename",
    "compose_invoice_mail",
    "is_amazon_relay_address",
    "send",
]

log = structlog.get_logger("sellerbridge.mail")


# --- settings ---------------------------------------------------------------------------------


class SmtpSecurity(StrEnum):
    """How the connection to the mail server is protected."""

    STARTTLS = "starttls"  # plain connection upgraded with STARTTLS (submission, port 587)
    SSL = "ssl"  # TLS from the first byte (implicit TLS, port 465)
    NONE = "none"  # no encryption: only for a relay on the same host or a trusted network


@dataclass(frozen=True, kw_only=True)
class SmtpSettings:
    """Where and how invoices are mailed.

    ``sender`` is the envelope sender and the usual ``From`` of invoice mails; for buyers on
    Amazon it must be one of the seller's authorised sender addresses, or Amazon drops the mail.
    ``ca_file`` trusts the certificates in that file *instead of* the system's, for a server
    with a certificate from a private CA; there is deliberately no way to switch verification
    off. The password is a :class:`~pydantic.SecretStr` and left out of ``repr``.
    """

    host: str
    port: int
    sender: str
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    reply_to: str | None = None
    timeout: float = 30.0  # seconds, for the connection and for each reply of the server
    ca_file: Path | None = None

    def __post_init__(self) -> None:
        # Accept "starttls" from a config file as well as the enum member.
        try:
            object.__setattr__(self, "security", SmtpSecurity(self.security))
        except ValueError:
            choices = ", ".join(repr(member.value) for member in SmtpSecurity)
            raise ValueError(
                f"SMTP settings: security {self.security!r} is not one of {choices}"
            ) from None
        if not self.host.strip():
            raise ValueError("SMTP settings: the mail server's host name is empty")
        if not 0 < self.port < 65536:
            raise ValueError(f"SMTP settings: port {self.port} is not a TCP port (1-65535)")
        if self.timeout <= 0:
            raise ValueError(f"SMTP settings: the timeout must be positive, not {self.timeout}")
        _require_address(self.sender, "SMTP settings: the sender")
        if self.reply_to is not None:
            _require_address(self.reply_to, "SMTP settings: the reply-to address")
        if self.password is not None and not self.username:
            raise ValueError("SMTP settings: a password is set but no username to log in with")
        if self.username and self.security is SmtpSecurity.NONE:
            raise ValueError(
                "SMTP settings: logging in over an unencrypted connection would send the "
                "password in clear text; set security to 'starttls' or 'ssl'"
            )

    @property
    def server(self) -> str:
        """``host:port``, for messages."""
        return f"{self.host}:{self.port}"


# --- errors -----------------------------------------------------------------------------------


class MailError(Exception):
    """A mail was not (or not certainly) delivered to the mail server.

    ``code`` is the SMTP reply code when the server gave one; ``reply`` is the server's text as
    it sent it (it can quote the recipient's address: do not log it), while ``str(error)``
    quotes it with addresses replaced.
    """

    def __init__(self, message: str, *, code: int | None = None, reply: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reply = reply


class MailRefused(MailError):
    """The server refused the recipient or the message for good (5xx); do not retry as is."""


class MailTemporaryFailure(MailError):
    """The mail could not be handed over now (4xx, network, timeout, TLS); retry later."""


class MailSettingsError(MailTemporaryFailure):
    """The server cannot be used with the configured settings; retry after fixing them."""


# --- composing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Wording:
    """The text of an invoice mail in one language."""

    invoice_subject: str  # {number}, {order}
    correction_subject: str
    invoice_intro: str  # {number}, {date}, {order}
    correction_intro: str
    corrects: str  # {original}: the invoice a correction invoice refers to
    questions: str
    greeting: str
    closing: str
    date_format: str  # strftime pattern with numbers only, so no locale is involved


_WORDING: dict[str, _Wording] = {
    "de": _Wording(
        invoice_subject="Ihre Rechnung {number} zu Bestellung {order}",
        correction_subject="Ihre Rechnungskorrektur {number} zu Bestellung {order}",
        invoice_intro=(
            "anbei erhalten Sie Ihre Rechnung {number} vom {date} zu Ihrer Bestellung {order}."
        ),
        correction_intro=(
            "anbei erhalten Sie die Rechnungskorrektur {number} vom {date} zu Ihrer "
            "Bestellung {order}."
        ),
        corrects="Sie bezieht sich auf die Rechnung {original}.",
        questions="Bei Fragen antworten Sie bitte einfach auf diese E-Mail.",
        greeting="Guten Tag,",
        closing="Mit freundlichen Grüßen",
        date_format="%d.%m.%Y",
    ),
    "en": _Wording(
        invoice_subject="Your invoice {number} for order {order}",
        correction_subject="Your credit note {number} for order {order}",
        invoice_intro=(
            "Please find attached your invoice {number} of {date} for your order {order}."
        ),
        correction_intro=(
            "Please find attached the credit note {number} of {date} for your order {order}."
        ),
        corrects="It refers to invoice {original}.",
        questions="If you have any questions, simply reply to this e-mail.",
        greeting="Hello,",
        closing="Kind regards",
        date_format="%d/%m/%Y",
    ),
    "fr": _Wording(
        invoice_subject="Votre facture {number} pour la commande {order}",
        correction_subject="Votre avoir {number} pour la commande {order}",
        invoice_intro=(
            "Veuillez trouver ci-joint votre facture {number} du {date} relative à votre "
            "commande {order}."
        ),
        correction_intro=(
            "Veuillez trouver ci-joint l'avoir {number} du {date} relatif à votre commande {order}."
        ),
        corrects="Il se rapporte à la facture {original}.",
        questions="Pour toute question, il vous suffit de répondre à cet e-mail.",
        greeting="Bonjour,",
        closing="Cordialement,",
        date_format="%d/%m/%Y",
    ),
    "it": _Wording(
        invoice_subject="Fattura {number} relativa all'ordine {order}",
        correction_subject="Nota di credito {number} relativa all'ordine {order}",
        invoice_intro=(
            "in allegato trova la fattura {number} del {date} relativa al Suo ordine {order}."
        ),
        correction_intro=(
            "in allegato trova la nota di credito {number} del {date} relativa al Suo "
            "ordine {order}."
        ),
        corrects="Si riferisce alla fattura {original}.",
        questions="Per qualsiasi domanda può rispondere direttamente a questa e-mail.",
        greeting="Gentile cliente,",
        closing="Cordiali saluti",
        date_format="%d/%m/%Y",
    ),
    "es": _Wording(
        invoice_subject="Su factura {number} del pedido {order}",
        correction_subject="Su factura rectificativa {number} del pedido {order}",
        invoice_intro=(
            "Le enviamos adjunta su factura {number} del {date} correspondiente a su "
            "pedido {order}."
        ),
        correction_intro=(
            "Le enviamos adjunta la factura rectificativa {number} del {date} correspondiente "
            "a su pedido {order}."
        ),
        corrects="Rectifica la factura {original}.",
        questions="Si tiene alguna pregunta, basta con responder a este correo electrónico.",
        greeting="Estimado/a cliente:",
        closing="Atentamente,",
        date_format="%d/%m/%Y",
    ),
    "nl": _Wording(
        invoice_subject="Uw factuur {number} voor bestelling {order}",
        correction_subject="Uw creditfactuur {number} voor bestelling {order}",
        invoice_intro=(
            "In de bijlage vindt u uw factuur {number} van {date} voor uw bestelling {order}."
        ),
        correction_intro=(
            "In de bijlage vindt u de creditfactuur {number} van {date} voor uw bestelling {order}."
        ),
        corrects="Deze heeft betrekking op factuur {original}.",
        questions="Hebt u vragen? Beantwoord dan gewoon deze e-mail.",
        greeting="Geachte klant,",
        closing="Met vriendelijke groet,",
        date_format="%d-%m-%Y",
    ),
    "pl": _Wording(
        invoice_subject="Faktura nr {number} do zamówienia {order}",
        correction_subject="Faktura korygująca nr {number} do zamówienia {order}",
        invoice_intro=(
            "w załączniku przesyłamy fakturę nr {number} z dnia {date} do Państwa "
            "zamówienia {order}."
        ),
        correction_intro=(
            "w załączniku przesyłamy fakturę korygującą nr {number} z dnia {date} do Państwa "
            "zamówienia {order}."
        ),
        corrects="Koryguje ona fakturę nr {original}.",
        questions="W razie pytań prosimy po prostu odpowiedzieć na tę wiadomość.",
        greeting="Dzień dobry,",
        closing="Z poważaniem",
        date_format="%d.%m.%Y",
    ),
    "sv": _Wording(
        invoice_subject="Din faktura {number} för beställning {order}",
        correction_subject="Din kreditfaktura {number} för beställning {order}",
        invoice_intro=(
            "Bifogat finns din faktura {number} daterad {date} för din beställning {order}."
        ),
        correction_intro=(
            "Bifogat finns kreditfakturan {number} daterad {date} för din beställning {order}."
        ),
        corrects="Den avser faktura {original}.",
        questions="Om du har frågor kan du svara direkt på detta e-postmeddelande.",
        greeting="Hej,",
        closing="Med vänliga hälsningar",
        date_format="%Y-%m-%d",
    ),
}

_AMAZON_RELAY = re.compile(r"@marketplace\.amazon\.[a-z.]+$", re.IGNORECASE)
_IMPORTANT = "[Important]"  # Amazon's marker, in English on every marketplace
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def is_amazon_relay_address(address: str) -> bool:
    """Whether ``address`` is a buyer's anonymised Amazon address (Buyer-Seller Messaging)."""
    return bool(_AMAZON_RELAY.search(parseaddr(address)[1].strip()))


def compose_invoice_mail(
    content: DocumentContent,
    pdf: bytes,
    *,
    to: str,
    sender: str,
    reply_to: str | None = None,
) -> EmailMessage:
    """The mail that carries an issued invoice or correction invoice to the buyer.

    The subject names the document number and the order (the marketplace's order id when
    there is one, since that is what the buyer knows); the short plain-text body is in the
    document's language and holds no marketing text. The PDF is attached unchanged as
    ``<number>.pdf``: it is the document that was issued and hashed, and a Factur-X PDF must
    reach the buyer with its embedded XML intact. To an Amazon relay address the subject starts
    with ``[Important]`` so that Amazon delivers it to buyers who opted out of other messages.

    Raises :class:`ValueError` for a delivery note (it is printed for the parcel, not mailed),
    a language without mail text, or bytes that are not a PDF.
    """
    if content.kind is DocumentKind.DELIVERY_NOTE:
        raise ValueError(
            f"Delivery note {content.number} cannot be e-mailed: only invoices and correction "
            "invoices are sent to the buyer"
        )
    wording = _WORDING.get(content.language)
    if wording is None:
        raise ValueError(
            f"Document {content.number} is in language {content.language!r}, for which there "
            f"is no mail text; expected one of {', '.join(LANGUAGES)}"
        )
    if not pdf.startswith(b"%PDF-"):
        raise ValueError(f"The attachment for document {content.number} is not a PDF file")
    _require_address(to, "The recipient")
    _require_address(sender, "The sender")
    if reply_to is not None:
        _require_address(reply_to, "The reply-to address")

    order = content.order_reference or content.order_number
    subject = _subject(content, wording, order)
    if is_amazon_relay_address(to):
        subject = f"{_IMPORTANT} {subject}"

    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    if reply_to is not None:
        message["Reply-To"] = reply_to
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    # Quoted-printable keeps the text 7-bit clean for any server and readable in the raw mail.
    message.set_content(_body(content, wording, order), cte="quoted-printable")
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=attachment_filename(content.number)
    )
    # Set last: turning the message into multipart/mixed moves Content-* headers to the text.
    message["Content-Language"] = content.language
    return message


def attachment_filename(number: str) -> str:
    """``<number>.pdf``, with characters a file name must not hold (``/`` in ``RE/2026/1``)."""
    return f"{_UNSAFE_FILENAME.sub('-', number).strip('-.') or 'document'}.pdf"


def _subject(content: DocumentContent, wording: _Wording, order: str) -> str:
    template = (
        wording.correction_subject
        if content.kind is DocumentKind.CORRECTION
        else wording.invoice_subject
    )
    return template.format(number=content.number, order=order)


def _body(content: DocumentContent, wording: _Wording, order: str) -> str:
    issued = _format_date(content.issued_on, wording)
    if content.kind is DocumentKind.CORRECTION:
        intro = wording.correction_intro.format(number=content.number, date=issued, order=order)
        if content.original is not None:
            intro += " " + wording.corrects.format(original=content.original.number)
    else:
        intro = wording.invoice_intro.format(number=content.number, date=issued, order=order)
    signature = content.seller.company or content.seller.name
    return (
        f"{wording.greeting}\n\n{intro}\n\n{wording.questions}\n\n{wording.closing}\n{signature}\n"
    )


def _format_date(value: date, wording: _Wording) -> str:
    return value.strftime(wording.date_format)


def _require_address(value: str, what: str) -> None:
    address = parseaddr(value)[1]
    local, at, domain = address.rpartition("@")
    if not (local and at and "." in domain) or any(char in value for char in "\r\n"):
        # The value itself is not quoted: it may be a buyer's address.
        raise ValueError(f"{what} is not a usable e-mail address")


def _domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2]


# --- sending ----------------------------------------------------------------------------------


def send(message: EmailMessage, settings: SmtpSettings) -> str:
    """Hand ``message`` to the mail server and return its Message-ID.

    The envelope sender is ``settings.sender``, the recipients are the message's ``To``,
    ``Cc`` and ``Bcc``. Raises a :class:`MailError` subclass when the server did not accept the
    mail for every recipient (see the module docstring for which one means what).
    """
    message_id = message["Message-ID"]
    if not message_id:
        raise ValueError("The message has no Message-ID, so its sending could not be traced")
    with closing(_connect(settings)) as smtp:
        _secure_and_log_in(smtp, settings)
        _transmit(smtp, message, settings)
        _say_goodbye(smtp)
    log.info("mail.sent", message_id=message_id, server=settings.server)
    return str(message_id)


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    try:
        if settings.security is SmtpSecurity.SSL:
            return smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                timeout=settings.timeout,
                context=_tls_context(settings),
            )
        return smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    except smtplib.SMTPConnectError as error:
        _raise_for_reply(
            error.smtp_code,
            error.smtp_error,
            permanent=MailSettingsError,
            what=(
                f"The mail server at {settings.server} refused the connection",
                "check the host and port, and that this machine may send mail through it",
            ),
        )
    except (smtplib.SMTPException, OSError) as error:
        _raise_for_connection(error, settings, during="while connecting")


def _secure_and_log_in(smtp: smtplib.SMTP, settings: SmtpSettings) -> None:
    try:
        smtp.ehlo()
        if settings.security is SmtpSecurity.STARTTLS:
            if not smtp.has_extn("starttls"):
                raise MailSettingsError(
                    f"The mail server at {settings.server} does not offer STARTTLS: check the "
                    "port (587 for 'starttls', 465 for 'ssl') or set security to 'ssl'"
                )
            smtp.starttls(context=_tls_context(settings))
            smtp.ehlo()
        if settings.username:
            _log_in(smtp, settings.username, settings)
    except smtplib.SMTPResponseException as error:
        _raise_for_reply(
            error.smtp_code,
            error.smtp_error,
            permanent=MailSettingsError,
            what=(
                f"The mail server at {settings.server} refused to start a session",
                "check the mail settings",
            ),
        )
    except (smtplib.SMTPException, OSError) as error:
        _raise_for_connection(error, settings, during="while setting up the session")


_LOGIN_METHODS = ("CRAM-MD5", "PLAIN", "LOGIN")  # what smtplib's login() can do


def _log_in(smtp: smtplib.SMTP, username: str, settings: SmtpSettings) -> None:
    offered = smtp.esmtp_features.get("auth", "").upper().split()
    if not set(offered) & set(_LOGIN_METHODS):
        raise MailSettingsError(
            f"The mail server at {settings.server} offers no login this program can use "
            f"(it offers {', '.join(offered) or 'none'}; {', '.join(_LOGIN_METHODS)} would do): "
            "remove the username from the settings or use the server's submission port"
        )
    password = settings.password.get_secret_value() if settings.password is not None else ""
    try:
        smtp.login(username, password)
    except smtplib.SMTPAuthenticationError as error:
        _raise_for_reply(
            error.smtp_code,
            error.smtp_error,
            permanent=MailSettingsError,
            what=(
                f"The mail server at {settings.server} refused the login of {username}",
                "check the username and password in the mail settings",
            ),
        )


def _transmit(smtp: smtplib.SMTP, message: EmailMessage, settings: SmtpSettings) -> None:
    envelope_sender = parseaddr(settings.sender)[1]
    try:
        refused = smtp.send_message(message, from_addr=envelope_sender)
    except smtplib.SMTPRecipientsRefused as error:
        _raise_for_recipients(error.recipients, total=len(error.recipients))
    except smtplib.SMTPSenderRefused as error:
        _raise_for_reply(
            error.smtp_code,
            error.smtp_error,
            permanent=MailSettingsError,
            what=(
                (
                    "The mail server wants a login or STARTTLS before it takes mail",
                    "check security, username and password in the mail settings",
                )
                if error.smtp_code == 530
                else (
                    f"The mail server refused the sender address {envelope_sender}",
                    "check that the mail account may send as this address (and, for Amazon "
                    "buyers, that it is an authorised sender in Seller Central)",
                )
            ),
        )
    except smtplib.SMTPDataError as error:
        _raise_for_reply(
            error.smtp_code,
            error.smtp_error,
            permanent=MailRefused,
            what=(
                "The mail server refused the message",
                "it may be too large or taken for spam; check the server's reason",
            ),
        )
    except smtplib.SMTPNotSupportedError:
        raise MailRefused(
            "The mail server cannot take this mail: an address holds non-ASCII characters and "
            "the server does not support SMTPUTF8; check the buyer's e-mail address"
        ) from None
    except smtplib.SMTPResponseException as error:
        _raise_for_reply(
            error.smtp_code,
            error.smtp_error,
            permanent=MailRefused,
            what=("The mail server refused the mail", "check the server's reason"),
        )
    except (smtplib.SMTPException, OSError) as error:
        _raise_for_connection(error, settings, during="while sending the mail")
    if refused:
        _raise_for_recipients(refused, total=len(_recipients(message)))


def _say_goodbye(smtp: smtplib.SMTP) -> None:
    """QUIT politely; the server has the mail already, so a failing QUIT changes nothing."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError) as error:
        log.info("mail.quit_failed", error=type(error).__name__)


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    """Verify the server's certificate and host name, against ``ca_file`` if one is set."""
    return ssl.create_default_context(
        cafile=str(settings.ca_file) if settings.ca_file is not None else None
    )


def _recipients(message: EmailMessage) -> list[str]:
    return [
        address
        for _name, address in getaddresses(
            [str(value) for header in ("To", "Cc", "Bcc") for value in message.get_all(header, [])]
        )
        if address
    ]


def _raise_for_recipients(refused: dict[str, tuple[int, bytes]], *, total: int) -> NoReturn:
    """The server refused one or more recipients (the usual reason an invoice mail fails).

    Permanent only when every refusal is permanent: a retry may get the others through.
    """
    replies = list(refused.values())
    permanent = [reply for reply in replies if reply[0] >= 500]
    code, text = permanent[0] if len(permanent) == len(replies) else replies[0]
    partly = (
        f" ({len(refused)} of {total} recipients; the others received it)"
        if total > len(refused)
        else ""
    )
    _raise_for_reply(
        code,
        text,
        permanent=MailRefused,
        what=(f"The mail server refused the recipient{partly}", "check the buyer's e-mail address"),
    )


def _raise_for_reply(
    code: int,
    text: bytes | str,
    *,
    permanent: type[MailError],
    what: tuple[str, str],
) -> NoReturn:
    """Raise ``permanent`` for a 5xx reply, :class:`MailTemporaryFailure` otherwise.

    The smtplib exception is not chained: its text holds the addresses the server quoted, and
    a logged traceback would show them.
    """
    reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    quoted = f"{code} {_scrub(reply)}".strip()
    event, advice = what
    if 500 <= code < 600:
        log.warning("mail.refused", code=code, error=permanent.__name__)
        raise permanent(f"{event} ({quoted}): {advice}", code=code, reply=reply) from None
    log.warning("mail.deferred", code=code)
    raise MailTemporaryFailure(
        f"{event} for now ({quoted}). Sending can be tried again later.", code=code, reply=reply
    ) from None


def _raise_for_connection(
    error: smtplib.SMTPException | OSError, settings: SmtpSettings, *, during: str
) -> NoReturn:
    """A network, TLS or protocol failure without a reply code from the server."""
    # smtplib turns a failed read (timeout, reset, TLS alert) into SMTPServerDisconnected.
    cause = error.__context__ if isinstance(error, smtplib.SMTPServerDisconnected) else None
    reason = cause if isinstance(cause, OSError) else error
    log.warning("mail.unreachable", server=settings.server, error=type(reason).__name__)
    server = settings.server
    if isinstance(reason, ssl.SSLCertVerificationError):
        raise MailSettingsError(
            f"The certificate of the mail server at {server} is not trusted "
            f"({reason.verify_message}): check the host name, or set ca_file to the CA that "
            "issued the server's certificate"
        ) from error
    if isinstance(reason, ssl.SSLError) and not isinstance(reason, _TLS_CONNECTION_LOST):
        # Not a broken connection: the two sides disagree (TLS spoken to a plain port, no
        # common protocol version or cipher). That stays so until the settings change.
        raise MailSettingsError(
            f"The TLS handshake with the mail server at {server} failed ({reason.reason}): "
            "check that security matches the port (465: 'ssl', 587: 'starttls')"
        ) from error
    if isinstance(reason, ConnectionRefusedError):
        problem = f"Nothing accepts connections at {server}"
        advice = "check the host and port, and that the mail server is running"
    elif isinstance(reason, TimeoutError):
        problem = f"The mail server at {server} did not answer within {settings.timeout:g} s"
        advice = "check the host, port and firewall if this keeps happening"
    elif isinstance(reason, socket.gaierror):
        problem = f"The host name of the mail server {settings.host} cannot be resolved"
        advice = "check the host name in the mail settings"
    else:
        problem = f"The connection to the mail server at {server} broke {during}"
        advice = "this is usually temporary"
    raise MailTemporaryFailure(f"{problem}: {advice}. Sending can be tried again later.") from error


_TLS_CONNECTION_LOST = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)


_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>@]+>?")


def _scrub(reply: str, *, limit: int = 200) -> str:
    """The server's reply, one line, without e-mail addresses, short enough for a message."""
    text = " ".join(_ADDRESS.sub("<address>", reply).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

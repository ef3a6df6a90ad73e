"""Invoices mailed over a real SMTP conversation with an in-process server (``tests/smtp.py``)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import parseaddr

import pytest
import structlog
from pydantic import SecretStr

from sellerbridge.core.documents import LANGUAGES, DocumentContent
from sellerbridge.documents.samples import (
    coffee_invoice,
    correction_invoice,
    delivery_note,
    intra_eu_invoice,
)
from sellerbridge.mail import (
    MailRefused,
    MailSettingsError,
    MailTemporaryFailure,
    SmtpSecurity,
    SmtpSettings,
    compose_invoice_mail,
    send,
)
from tests.smtp import SENDER, MailServer, mail_server

AMAZON_BUYER = "8y3tqz6rl1fxk2n@marketplace.amazon.de"  # the buyer's anonymised relay address
PRIVATE_BUYER = "lukas.schroeder@example.de"  # an address of the buyer's own: no "[Important]"
PASSWORD = "correct horse battery staple"

PDF = (
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    b"1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    + bytes(range(256))  # every byte value: an attachment must arrive unchanged
    + b"\n%%EOF\n"
)
"""Stands in for a rendered PDF where only its bytes matter (it opens in no viewer)."""


@pytest.fixture
def server() -> Iterator[MailServer]:
    with mail_server() as running:
        yield running


def mail_to(address: str, content: DocumentContent | None = None) -> EmailMessage:
    return compose_invoice_mail(
        content or coffee_invoice(),
        PDF,
        to=address,
        sender=SENDER,
        reply_to="service@muster-handel.example",
    )


def attachments(message: EmailMessage) -> list[EmailMessage]:
    return list(message.iter_attachments())


def subject_of(message: EmailMessage) -> str:
    """The subject as a mail client shows it.

    Python folds a long subject right after ``Subject:`` and, parsing it back, keeps the
    space of the fold; unfolding as RFC 5322 says and dropping that space is what clients do.
    """
    return str(message["Subject"]).strip()


def text_of(message: EmailMessage) -> str:
    """The plain-text body, with the wire's CRLF line ends read as newlines."""
    body = message.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    text: str = body.get_content()
    return text.replace("\r\n", "\n")


# --- delivered mail ---------------------------------------------------------------------------


def test_invoice_reaches_the_buyer_with_the_pdf_unchanged(server: MailServer) -> None:
    message = mail_to(AMAZON_BUYER)

    message_id = send(message, server.settings())

    (mail,) = server.received
    assert mail.envelope_sender == "rechnung@muster-handel.example"
    assert mail.recipients == (AMAZON_BUYER,)
    received = mail.message
    assert received["Message-ID"] == message_id == message["Message-ID"]
    assert received["From"] == SENDER
    assert received["To"] == AMAZON_BUYER
    assert received["Reply-To"] == "service@muster-handel.example"
    assert received["Date"] is not None
    assert subject_of(received) == (
        "[Important] Ihre Rechnung RE-2026-000123 zu Bestellung 302-4716082-5512345"
    )
    (attachment,) = attachments(received)
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "RE-2026-000123.pdf"
    assert attachment.get_content() == PDF
    assert text_of(received) == (
        "Guten Tag,\n\n"
        "anbei erhalten Sie Ihre Rechnung RE-2026-000123 vom 27.11.2026 zu Ihrer Bestellung "
        "302-4716082-5512345.\n\n"
        "Bei Fragen antworten Sie bitte einfach auf diese E-Mail.\n\n"
        "Mit freundlichen Grüßen\nRöstwerk Böhm GmbH\n"
    )


@pytest.mark.parametrize(
    ("language", "subject", "sentence"),
    [
        (
            "fr",
            "Votre facture RE-2026-000123 pour la commande 302-4716082-5512345",
            "Veuillez trouver ci-joint votre facture RE-2026-000123 du 27/11/2026 relative à "
            "votre commande 302-4716082-5512345.",
        ),
        (
            "pl",
            "Faktura nr RE-2026-000123 do zamówienia 302-4716082-5512345",
            "w załączniku przesyłamy fakturę nr RE-2026-000123 z dnia 27.11.2026 do Państwa "
            "zamówienia 302-4716082-5512345.",
        ),
    ],
)
def test_the_mail_is_written_in_the_buyers_language(
    server: MailServer, language: str, subject: str, sentence: str
) -> None:
    send(mail_to(PRIVATE_BUYER, coffee_invoice(language=language)), server.settings())

    (mail,) = server.received
    received = mail.message
    assert subject_of(received) == subject  # no "[Important]": not an Amazon relay address
    assert received["Content-Language"] == language
    assert sentence in text_of(received)
    assert attachments(received)[0].get_content() == PDF


def test_a_correction_invoice_names_the_invoice_it_corrects(server: MailServer) -> None:
    send(mail_to(PRIVATE_BUYER, correction_invoice(coffee_invoice())), server.settings())

    received = server.received[0].message
    assert subject_of(received) == "Ihre Rechnungskorrektur RK-2026-000045 zu Bestellung " + (
        "302-4716082-5512345"
    )
    assert "Sie bezieht sich auf die Rechnung RE-2026-000123." in text_of(received)
    assert attachments(received)[0].get_filename() == "RK-2026-000045.pdf"


def test_an_order_without_marketplace_id_is_named_by_its_own_number() -> None:
    invoice = intra_eu_invoice(language="en")  # a B2B order, not from a marketplace
    assert invoice.order_reference is None

    message = mail_to(PRIVATE_BUYER, invoice)

    assert message["Subject"] == "Your invoice RE-2026-000124 for order AU-2026-004711"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_document_language_has_its_mail_text(language: str) -> None:
    message = mail_to(PRIVATE_BUYER, correction_invoice(coffee_invoice(language=language)))

    text = text_of(message)
    assert "RK-2026-000045" in message["Subject"]
    assert "302-4716082-5512345" in message["Subject"]
    for expected in ("RK-2026-000045", "302-4716082-5512345", "RE-2026-000123"):
        assert expected in text
    assert text.rstrip().endswith("Röstwerk Böhm GmbH")


def test_delivery_notes_are_not_mailed() -> None:
    with pytest.raises(ValueError, match="Delivery note LS-2026-000311 cannot be e-mailed"):
        mail_to(PRIVATE_BUYER, delivery_note(coffee_invoice()))


def test_a_number_with_slashes_still_gives_a_file_name(server: MailServer) -> None:
    send(mail_to(PRIVATE_BUYER, coffee_invoice(number="RE/2026/17")), server.settings())

    (attachment,) = attachments(server.received[0].message)
    assert attachment.get_filename() == "RE-2026-17.pdf"


def test_only_a_pdf_is_attached() -> None:
    with pytest.raises(ValueError, match="not a PDF"):
        compose_invoice_mail(coffee_invoice(), b"<html>", to=PRIVATE_BUYER, sender=SENDER)


# --- refusals and failures --------------------------------------------------------------------


def test_a_recipient_refused_for_good_raises_mail_refused(server: MailServer) -> None:
    server.refuse(AMAZON_BUYER)

    with pytest.raises(MailRefused) as refused:
        send(mail_to(AMAZON_BUYER), server.settings())

    assert refused.value.code == 550
    assert str(refused.value) == (
        "The mail server refused the recipient (550 5.1.1 <address>: Recipient address "
        "rejected): check the buyer's e-mail address"
    )
    assert AMAZON_BUYER in (refused.value.reply or "")  # kept for code that may show it
    assert server.received == []


def test_a_recipient_refused_for_now_raises_a_temporary_failure(server: MailServer) -> None:
    server.defer(AMAZON_BUYER)

    with pytest.raises(MailTemporaryFailure) as deferred:
        send(mail_to(AMAZON_BUYER), server.settings())

    assert not isinstance(deferred.value, MailRefused | MailSettingsError)
    assert deferred.value.code == 451
    assert "can be tried again later" in str(deferred.value)
    assert AMAZON_BUYER not in str(deferred.value)


def test_a_refused_message_raises_mail_refused(server: MailServer) -> None:
    server.refuse_messages()

    with pytest.raises(MailRefused, match=r"refused the message \(554 5.6.0"):
        send(mail_to(AMAZON_BUYER), server.settings())


def test_a_closed_port_is_a_temporary_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens once the probe is closed
    settings = SmtpSettings(host="127.0.0.1", port=port, sender=SENDER, security=SmtpSecurity.NONE)

    with pytest.raises(MailTemporaryFailure, match=r"Nothing accepts connections at 127\.0\.0\.1"):
        send(mail_to(AMAZON_BUYER), settings)


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel accepts the connection; no greeting ever comes
        settings = SmtpSettings(
            host="127.0.0.1",
            port=silent.getsockname()[1],
            sender=SENDER,
            security=SmtpSecurity.NONE,
            timeout=0.3,
        )

        with pytest.raises(MailTemporaryFailure, match=r"did not answer within 0\.3 s"):
            send(mail_to(AMAZON_BUYER), settings)


# --- TLS and login ----------------------------------------------------------------------------


@pytest.mark.parametrize("security", [SmtpSecurity.STARTTLS, SmtpSecurity.SSL])
def test_mail_goes_encrypted_with_a_login(security: SmtpSecurity) -> None:
    with mail_server(security=security, login=("shop", PASSWORD)) as server:
        send(
            mail_to(AMAZON_BUYER),
            server.settings(username="shop", password=SecretStr(PASSWORD)),
        )

    (mail,) = server.received
    assert mail.encrypted
    assert mail.login == "shop"
    assert attachments(mail.message)[0].get_content() == PDF


def test_a_wrong_password_is_a_settings_error_that_does_not_show_it() -> None:
    with (
        mail_server(security=SmtpSecurity.STARTTLS, login=("shop", PASSWORD)) as server,
        pytest.raises(MailSettingsError) as wrong,
    ):
        send(mail_to(AMAZON_BUYER), server.settings(username="shop", password=SecretStr("x1")))

    assert wrong.value.code == 535
    assert "refused the login of shop" in str(wrong.value)
    assert "check the username and password" in str(wrong.value)
    assert "x1" not in str(wrong.value)
    assert isinstance(wrong.value, MailTemporaryFailure)  # retried once the settings are fixed


def test_a_certificate_nobody_vouches_for_is_refused() -> None:
    with (
        mail_server(security=SmtpSecurity.STARTTLS) as server,
        pytest.raises(MailSettingsError, match=r"certificate of the mail server .* not trusted"),
    ):
        send(mail_to(AMAZON_BUYER), server.settings(ca_file=None))
    assert server.received == []


def test_starttls_configured_but_not_offered_is_a_settings_error(server: MailServer) -> None:
    with pytest.raises(MailSettingsError, match="does not offer STARTTLS"):
        send(mail_to(AMAZON_BUYER), server.settings(security=SmtpSecurity.STARTTLS))
    assert server.received == []


def test_tls_spoken_to_a_plain_port_is_a_settings_error(server: MailServer) -> None:
    with pytest.raises(MailSettingsError, match="check that security matches the port"):
        send(mail_to(AMAZON_BUYER), server.settings(security=SmtpSecurity.SSL))


def test_a_missing_login_is_a_settings_error() -> None:
    with (
        mail_server(security=SmtpSecurity.STARTTLS, login=("shop", PASSWORD)) as server,
        pytest.raises(MailSettingsError, match="wants a login or STARTTLS") as missing,
    ):
        send(mail_to(AMAZON_BUYER), server.settings())
    assert missing.value.code == 530


def test_nothing_sensitive_is_logged() -> None:
    with (
        mail_server(security=SmtpSecurity.STARTTLS, login=("shop", PASSWORD)) as server,
        structlog.testing.capture_logs() as logs,
    ):
        settings = server.settings(username="shop", password=SecretStr(PASSWORD))
        send(mail_to(AMAZON_BUYER), settings)
        server.refuse(AMAZON_BUYER)
        with pytest.raises(MailRefused):
            send(mail_to(AMAZON_BUYER), settings)

    assert [entry["event"] for entry in logs] == ["mail.sent", "mail.refused"]
    logged = repr(logs)
    for secret in (PASSWORD, AMAZON_BUYER, "Guten Tag"):
        assert secret not in logged


# --- settings ---------------------------------------------------------------------------------


def test_settings_keep_the_password_out_of_repr() -> None:
    settings = SmtpSettings(
        host="smtp.example.de",
        port=587,
        sender=SENDER,
        username="shop",
        password=SecretStr(PASSWORD),
    )

    assert PASSWORD not in repr(settings)
    assert settings.security is SmtpSecurity.STARTTLS
    assert parseaddr(settings.sender)[1] == "rechnung@muster-handel.example"


def test_settings_refuse_a_login_over_an_unencrypted_connection() -> None:
    with pytest.raises(ValueError, match="password in clear text"):
        SmtpSettings(
            host="smtp.example.de",
            port=25,
            sender=SENDER,
            security=SmtpSecurity.NONE,
            username="shop",
            password=SecretStr(PASSWORD),
        )

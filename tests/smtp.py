"""A real SMTP server in the test process (aiosmtpd) that records what it receives.

Tests talk SMTP to it over a localhost socket exactly as to a mail provider: plain, with
STARTTLS or with TLS from the first byte (a self-signed certificate made for the occasion), with
or without a login. It can be told to refuse a recipient for good (550) or for now (451), or to
refuse the message itself::

    with mail_server(security=SmtpSecurity.STARTTLS, login=("shop", "s3cret")) as server:
        server.refuse("buyer@example.de")            # 550 for this recipient
        send(message, server.settings(username="shop", password=SecretStr("s3cret")))
        (mail,) = server.received
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sellerbridge.core.clock import utcnow
from sellerbridge.mail import SmtpSecurity, SmtpSettings

HOST = "127.0.0.1"
SENDER = "Muster Handels GmbH <rechnung@muster-handel.example>"


@dataclass(frozen=True)
class ReceivedMail:
    """One mail as the server took it: the envelope, the bytes, and how the client connected."""

    envelope_sender: str
    recipients: tuple[str, ...]
    raw: bytes
    login: str | None  # the username the client logged in with
    encrypted: bool  # whether the mail came over TLS (STARTTLS or implicit)

    @property
    def message(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.raw)


@dataclass
class RecordingHandler:
    """aiosmtpd handler: accepts mail, records it, and refuses what it was told to refuse."""

    received: list[ReceivedMail] = field(default_factory=list)
    recipient_replies: dict[str, str] = field(default_factory=dict)  # lower-case address
    data_reply: str | None = None

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self.recipient_replies.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply is not None:
            return self.data_reply
        transport = server.transport
        assert transport is not None
        assert envelope.mail_from is not None
        assert envelope.original_content is not None
        self.received.append(
            ReceivedMail(
                envelope_sender=envelope.mail_from,
                recipients=tuple(envelope.rcpt_tos),
                raw=envelope.original_content,
                login=session.auth_data if session.authenticated else None,
                encrypted=transport.get_extra_info("ssl_object") is not None,
            )
        )
        return "250 2.0.0 Message accepted for delivery"


class _Controller(Controller):
    """Listens on a port the operating system picks, so no two test runs collide."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@dataclass
class MailServer:
    """The running server: where it listens, what it received, what it should refuse."""

    host: str
    port: int
    security: SmtpSecurity
    handler: RecordingHandler
    ca_file: Path | None  # the server's self-signed certificate, for the client to trust

    @property
    def received(self) -> list[ReceivedMail]:
        return self.handler.received

    def refuse(
        self, address: str, reply: str = "550 5.1.1 <{address}>: Recipient address rejected"
    ) -> None:
        """Refuse ``address`` for good (a 5xx reply quoting the address, as servers do)."""
        self.handler.recipient_replies[address.lower()] = reply.format(address=address)

    def defer(
        self, address: str, reply: str = "451 4.3.0 <{address}>: Mailbox temporarily unavailable"
    ) -> None:
        """Refuse ``address`` for now (greylisting, a full queue)."""
        self.handler.recipient_replies[address.lower()] = reply.format(address=address)

    def refuse_messages(self, reply: str = "554 5.6.0 Message rejected as spam") -> None:
        """Answer the end of every message's data with ``reply``."""
        self.handler.data_reply = reply

    def settings(self, **changes: Any) -> SmtpSettings:
        """Settings that reach this server (its security, its certificate), with ``changes``."""
        values: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "sender": SENDER,
            "security": self.security,
            "ca_file": self.ca_file,
            "timeout": 5.0,
        }
        values.update(changes)
        return SmtpSettings(**values)


@contextmanager
def mail_server(
    *,
    security: SmtpSecurity = SmtpSecurity.NONE,
    login: tuple[str, str] | None = None,
) -> Iterator[MailServer]:
    """Run a recording SMTP server for the duration of the ``with`` block.

    With ``login`` the server offers AUTH PLAIN/LOGIN (only over TLS) and accepts only that
    username and password; with STARTTLS it also refuses mail from clients that did not log in.
    """
    handler = RecordingHandler()
    with tempfile.TemporaryDirectory(prefix="sellerbridge-smtp-") as directory:
        tls: ssl.SSLContext | None = None
        ca_file: Path | None = None
        if security is not SmtpSecurity.NONE:
            ca_file, key_file = write_self_signed_certificate(Path(directory))
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(ca_file, key_file)
        options: dict[str, Any] = {}
        if login is not None:
            options["authenticator"] = _Authenticator(*login)
            # Implicit TLS is encryption too, but aiosmtpd only counts STARTTLS as such.
            options["auth_require_tls"] = security is not SmtpSecurity.SSL
            options["auth_required"] = security is SmtpSecurity.STARTTLS
        if security is SmtpSecurity.STARTTLS:
            options.update(tls_context=tls, require_starttls=True)
        controller = _Controller(
            handler,
            hostname=HOST,
            port=0,
            ssl_context=tls if security is SmtpSecurity.SSL else None,
            server_hostname="mail.test",
            **options,
        )
        controller.start()
        try:
            yield MailServer(HOST, controller.port, security, handler, ca_file)
        finally:
            controller.stop()


@dataclass(frozen=True)
class _Authenticator:
    username: str
    password: str

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if (
            isinstance(data, LoginPassword)
            and data.login.decode() == self.username
            and data.password.decode() == self.password
        ):
            return AuthResult(success=True, auth_data=self.username)
        return AuthResult(success=False, handled=False)


def write_self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for ``localhost`` and 127.0.0.1 that is its own CA; returns (cert, key).

    It carries what strict verifiers ask of a trust anchor (CA basic constraints, key usage,
    key identifiers), so the client's ordinary verification accepts it through ``ca_file``.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sellerbridge test mail server")])
    now = utcnow()
    public_key = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / "server.pem"
    key_file = directory / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file

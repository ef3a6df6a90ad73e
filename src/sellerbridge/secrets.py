"""Secrets at rest: the LWA client secret and refresh tokens are stored encrypted.

Fernet (AES-128 in CBC mode with an HMAC-SHA256, from ``cryptography``) with one key per
installation: ``SELLERBRIDGE_SECRET_KEY``, or the key file ``secret.key`` in the data directory
that ``sellerbridge init`` creates readable by its owner only. Whoever holds the database file
without the key reads nothing. Losing the key means connecting the Amazon accounts again.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from sellerbridge.config import ConfigError, Settings
from sellerbridge.core.errors import DomainError

KEY_FILE_NAME = "secret.key"


class SecretBox:
    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except ValueError:
            raise ConfigError(
                "The secret key is not a valid key (32 url-safe base64-encoded bytes)."
            ) from None

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise DomainError(
                "A stored secret cannot be decrypted with this installation's key.",
                hint="Use the secret key it was stored with, or store the credentials again with "
                "`sellerbridge amazon credentials --client-secret --refresh-token`.",
            ) from None


def key_file(settings: Settings) -> Path:
    return settings.secret_key_file or settings.data_dir / KEY_FILE_NAME


def create_key_file(settings: Settings) -> Path | None:
    """Create the key file if there is neither a key in the environment nor a file yet."""
    path = key_file(settings)
    if settings.secret_key is not None or path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(Fernet.generate_key())
    return path


def secret_box(settings: Settings) -> SecretBox:
    """The installation's box; explains where the key should be when it is missing."""
    if settings.secret_key is not None:
        return SecretBox(settings.secret_key.get_secret_value().encode("ascii"))
    path = key_file(settings)
    if not path.exists():
        raise ConfigError(
            f"There is no secret key: neither SELLERBRIDGE_SECRET_KEY nor the key file {path}. "
            "Run `sellerbridge init` to create one."
        )
    return SecretBox(path.read_bytes().strip())

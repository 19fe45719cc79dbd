"""Pseudonyms and field encryption: why a seized database reveals no one.

Two keys are derived with HKDF from the operator's secret (ASAMBLEA_SECRET_KEY) and a random
salt kept in the database's keyring. Neither alone is enough: the secret without the database
derives nothing useful, and destroying the salt (crypto-shredding) makes every ciphertext and
pseudonym in the database, and in any backup of it, permanently unreadable and unlinkable.

* Telegram user ids exist only as keyed HMAC pseudonyms: a voice can be counted once without
  anyone, the operator included, learning whose it is.
* Ids the bot must send to (chat ids) are stored twice: an HMAC to find the row, and an AES-GCM
  ciphertext to send to. The ciphertext's associated data names its table, column and row, so
  a ciphertext copied into another row or column fails to decrypt instead of misdirecting a call.
* Sensitive free text (names, demands, places) is AES-GCM encrypted the same way.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from functools import cached_property

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PSEUDONYM_BYTES = 16
_NONCE_BYTES = 12
_FORMAT_V1 = b"\x01"


class DecryptionError(Exception):
    """A ciphertext does not belong where it was read from, or the key is wrong."""


def _derive(secret: bytes, salt: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"asamblea/" + purpose).derive(secret)


@dataclass(frozen=True)
class Crypto:
    """The pseudonym and encryption keys of one database."""

    pseudonym_key: bytes
    field_key: bytes

    @classmethod
    def derive(cls, secret: bytes, salt: bytes) -> Crypto:
        return cls(
            pseudonym_key=_derive(secret, salt, b"pseudonym/v1"),
            field_key=_derive(secret, salt, b"field-encryption/v1"),
        )

    def __repr__(self) -> str:
        return "Crypto(<keys hidden>)"

    @cached_property
    def _aead(self) -> AESGCM:
        # Built once: constructing it is half the cost of a seal or an open. It keeps no state
        # between calls (each encrypt or decrypt makes its own context), so threads may share it.
        return AESGCM(self.field_key)

    # -- pseudonyms -----------------------------------------------------------------------
    def _pseudonym(self, domain: bytes, value: str) -> bytes:
        return hmac.digest(self.pseudonym_key, domain + b"\x00" + value.encode(), "sha256")[:PSEUDONYM_BYTES]

    def user(self, user_id: int) -> bytes:
        """A user's pseudonym: stable for counting and permissions, useless for identifying."""
        return self._pseudonym(b"user", str(user_id))

    def chat(self, chat_id: int) -> bytes:
        """The look-up key of a chat id."""
        return self._pseudonym(b"chat", str(chat_id))

    def secret_code(self, code: str) -> bytes:
        """The stored form of a one-time code, so the database never holds a usable code."""
        return self._pseudonym(b"code", code)

    def check_value(self) -> bytes:
        """Stored with the salt to tell a wrong ASAMBLEA_SECRET_KEY from a damaged database."""
        return self._pseudonym(b"check", "asamblea")

    # -- fields ---------------------------------------------------------------------------
    @staticmethod
    def _associated(table: str, column: str, row: int) -> bytes:
        return f"{table}\x00{column}\x00{row}".encode()

    def seal(self, plaintext: bytes, *, table: str, column: str, row: int) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, self._associated(table, column, row))
        return _FORMAT_V1 + nonce + sealed

    def open(self, blob: bytes, *, table: str, column: str, row: int) -> bytes:
        if not blob or blob[:1] != _FORMAT_V1:
            raise DecryptionError(f"unknown ciphertext format in {table}.{column}")
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed, self._associated(table, column, row))
        except Exception as exc:  # InvalidTag: wrong key, wrong row, or tampering
            raise DecryptionError(f"cannot decrypt {table}.{column} of row {row}") from exc

    def seal_text(self, text: str, *, table: str, column: str, row: int) -> bytes:
        return self.seal(text.encode(), table=table, column=column, row=row)

    def open_text(self, blob: bytes, *, table: str, column: str, row: int) -> str:
        return self.open(blob, table=table, column=column, row=row).decode()

    def seal_chat_id(self, chat_id: int, *, table: str, row: int, column: str = "chat_id_ct") -> bytes:
        return self.seal(chat_id.to_bytes(8, "big", signed=True), table=table, column=column, row=row)

    def open_chat_id(self, blob: bytes, *, table: str, row: int, column: str = "chat_id_ct") -> int:
        return int.from_bytes(self.open(blob, table=table, column=column, row=row), "big", signed=True)

"""Keys and encryption of research exports.

One master key from settings (``KINDRED_RESEARCH_KEY``; by default derived from ``SECRET_KEY``) is
stretched (SHA-256 with a label) into two Fernet keys: one encrypts the export files at rest, the other
encrypts each agreement's pseudonym secret (32 random bytes, made on the agreement's first export). A
database dump alone therefore reveals no secret and no file. Rotating the master key makes old files
and old pseudonym secrets unreadable: re-encrypt them first (not automated yet).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet
from django.conf import settings


def _fernet(label: str) -> Fernet:
    digest = hashlib.sha256(f"kindred-research:{label}:{settings.KINDRED_RESEARCH_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_file_bytes(data: bytes) -> bytes:
    return _fernet("files").encrypt(data)


def decrypt_file_bytes(token: bytes) -> bytes:
    return _fernet("files").decrypt(token)


def new_encrypted_secret() -> bytes:
    return _fernet("agreement-secrets").encrypt(secrets.token_bytes(32))


def decrypt_secret(token: bytes) -> bytes:
    return _fernet("agreement-secrets").decrypt(token)


def pseudonym(secret: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of ``kind:value`` under the agreement's secret, 20 hex characters (80 bits)."""
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:20]

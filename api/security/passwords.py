"""Password hashing with argon2id (memory-hard), and the rules a new password must meet."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile defaults

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128

# A hash of a random password, checked when the email is unknown so that the time taken does not
# reveal which accounts exist.
_DECOY_HASH = _hasher.hash("decoy-password-never-used")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DECOY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Length only (NIST SP 800-63B / ASVS 6.2): no composition rules that push people to patterns."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer"
    return None

"""Password hashing with argon2id (memory-hard), and the rules a new password must meet."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.config import get_settings

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128


@cache
def _hasher_of(memory_kib: int, iterations: int, parallelism: int) -> tuple[PasswordHasher, str]:
    """The argon2id hasher for these costs, and a hash of a random password made with it: the
    decoy checked when the email is unknown, so that the time taken does not reveal which
    accounts exist (it costs what a real account's check costs)."""
    hasher = PasswordHasher(time_cost=iterations, memory_cost=memory_kib, parallelism=parallelism)
    return hasher, hasher.hash("decoy-password-never-used")


def _hasher() -> tuple[PasswordHasher, str]:
    # From the settings, so a trust can tune the cost to its servers and the test suite can
    # make it cheap (a hash's own costs are stored in it: verifying any hash still works).
    settings = get_settings()
    return _hasher_of(
        settings.password_hash_memory_kib,
        settings.password_hash_iterations,
        settings.password_hash_parallelism,
    )


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, decoy = _hasher()
    try:
        return hasher.verify(password_hash or decoy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

TOO_COMMON = (
    "This password is on a list of commonly used passwords, so it is easy to guess. "
    "Choose another: three random words together work well"
)
TOO_PREDICTABLE = (
    "This password is easy to guess (a repeated character, a run like 1234 or abcd, or the name "
    "of this service or of you). Choose another: three random words together work well"
)

#: Words of this service, and of the NHS, that a guesser tries first (NIST SP 800-63B 5.1.1.2).
SERVICE_WORDS = ("frontline", "nhs", "password", "passwort", "qwerty")

_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_SEQUENCES = ("0123456789" * 2, "abcdefghijklmnopqrstuvwxyz" * 2, "qwertyuiopasdfghjklzxcvbnm")


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list (api/security/common_passwords.txt, from zxcvbn's frequency lists), folded."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.casefold() for line in lines if line and not line.startswith("#"))


def _predictable(folded: str, context: Iterable[str]) -> bool:
    squeezed = re.sub(r"[\W_]+", "", folded)
    if len(set(squeezed)) <= 2:
        return True  # "aaaaaaaaaaaa", "abababababab"
    if any(squeezed in sequence or squeezed in sequence[::-1] for sequence in _SEQUENCES):
        return True
    # Only the service's or the person's own words (their name, their email), with digits or
    # symbols between: "frontline2026", "Nia.Newcomer1".
    rest = re.sub(r"[\W\d_]+", "", folded)
    if not rest:
        return False  # digits and symbols only: judged by the two rules above
    for word in sorted(
        {*SERVICE_WORDS, *(w for w in context if len(w) >= 3)}, key=len, reverse=True
    ):
        rest = rest.replace(word, "")
    return len(rest) <= 2


def password_problem(password: str, context: Iterable[str] = ()) -> str | None:
    """Length (NIST SP 800-63B / ASVS 6.2.1, 6.2.9: no composition rules that push people to
    patterns), then not a known or predictable password (ASVS 6.2.4, 6.2.11): on the bundled list
    of common passwords (as typed, in any letter case, or with digits and symbols around it), one
    character repeated, a run such as 1234 or qwerty, or only the words of this service or of
    ``context`` (the person's name and email address)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer"
    folded = password.casefold()
    common = common_passwords()
    variants = {folded, folded.replace(" ", ""), _EDGES.sub("", folded)}
    if any(v in common for v in variants):
        return TOO_COMMON
    context_words = [part for text in context for part in re.split(r"[\W\d_]+", text.casefold())]
    if _predictable(folded, context_words):
        return TOO_PREDICTABLE
    return None

"""Password hashing (Argon2id), API token secrets, CSRF tokens."""
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.core.config import settings

# argon2-cffi's defaults are RFC 9106's low-memory profile (Argon2id, t=3, m=64 MiB, p=4),
# above OWASP's minimum (m=19 MiB, t=2, p=1). The test suite alone (ENVIRONMENT=test) hashes
# with the cheapest parameters: it signs in hundreds of times and tests behaviour, not cost.
_hasher = (PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
           if settings.ENVIRONMENT == "test" else PasswordHasher())
# Verified against when the username does not exist, so a miss costs as long as a hit and
# response time does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("timing-safe dummy password")
# Letters and digits that cannot be mistaken for one another when read aloud or copied.
_TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
TOKEN_PREFIX = "mttq_"  # noqa: S105 — the visible start of every token, not a secret


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's (rehash on next sign-in)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def new_temporary_password() -> str:
    """A one-time password an administrator hands over, e.g. `k7mq-xr2d-p9ta` (14 characters)."""
    raw = "".join(secrets.choice(_TEMP_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def new_api_token() -> tuple[str, str]:
    """A fresh token secret (shown once) and its SHA-256 (stored).

    A plain SHA-256 suffices: the secret has 256 bits of entropy, so unlike a password it
    cannot be guessed from its hash, and a lookup by hash stays one indexed query.
    """
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return secret, hash_api_token(secret)


def hash_api_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a, b)  # type: ignore[arg-type]


"""Every error the ``signing`` package raises, as one tree.

Callers catch the branch they can act on: a ``TimestampUnavailable`` is worth retrying later, a
``KeySourceError`` is an operator's configuration problem, and so on. Verification never raises
for a bad *document*: a hostile or broken PDF yields a ``VerificationReport`` whose indication is
``INDETERMINATE`` or ``TOTAL_FAILED``. Errors here are about the caller's own inputs and
infrastructure.

    SigningError
     ├── ConfigurationError         settings that cannot work (bad placement, no trust roots, ...)
     │    └── FontNotFound          no CJK font for drawing the seal image
     ├── KeySourceError             key material cannot be loaded or used
     ├── PkiError                   the development PKI directory is unusable
     ├── TimestampError
     │    ├── TimestampUnavailable  the TSA could not be reached or refused: retry later
     │    └── TimestampInvalid      a token does not verify (wrong digest, untrusted TSA, garbled)
     └── SigningFailed              the PDF could not be signed (unreadable, encrypted, ...)
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "FontNotFound",
    "KeySourceError",
    "PkiError",
    "SigningError",
    "SigningFailed",
    "TimestampError",
    "TimestampInvalid",
    "TimestampUnavailable",
]


class SigningError(Exception):
    """Base class of every error raised on purpose by the ``signing`` package."""


class ConfigurationError(SigningError):
    """A setting or argument that cannot work, detected before any cryptography runs."""


class FontNotFound(ConfigurationError):
    """No font able to draw Chinese characters was found for the seal image."""

    def __init__(self, searched: tuple[str, ...]) -> None:
        self.searched = searched
        super().__init__(
            "no CJK font found for the seal image; install fonts-noto-cjk or pass font_path "
            f"(looked at: {', '.join(searched) or 'nothing'})"
        )


class KeySourceError(SigningError):
    """Key material could not be loaded: wrong password, unsupported key type, bad file."""


class PkiError(SigningError):
    """The development PKI directory is incomplete, corrupt or asked for something unknown."""


class TimestampError(SigningError):
    """Base class of RFC 3161 timestamp problems."""


class TimestampUnavailable(TimestampError):
    """The time-stamping authority was unreachable or did not grant the request.

    The caller keeps what it has (e.g. a delivery stands) and asks again later.
    """


class TimestampInvalid(TimestampError):
    """A timestamp token failed verification; ``reason`` says why (in English, for logs)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class SigningFailed(SigningError):
    """The document could not be signed; the message says why."""

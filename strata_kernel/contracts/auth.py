"""Who may change things: the operator token (where every deployable finds it) and the bearer check.

Mutating calls between deployables and from operators carry ``Authorization: Bearer <token>``. A credential
names its caller, so a service that accepts several callers (operators today; one credential per calling
service later) learns *who* called, not just that the token was right.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from strata_kernel.errors import Forbidden, Unauthorized

AUTHORIZATION = "Authorization"
#: comparative_eval writes the generated operator token here (under ``var_dir``); the CLI and the engine read it
OPERATOR_TOKEN_FILE = ("comparative_eval", "operator_token")
OPERATOR = "operator"


@dataclass(frozen=True)
class Credential:
    """A caller and the secret it presents as a bearer token."""

    caller: str
    token: str

    def __repr__(self) -> str:  # never print a secret
        return f"Credential(caller={self.caller!r})"

    def header(self) -> dict[str, str]:
        return {AUTHORIZATION: f"Bearer {self.token}"}


def operator_token_file(var_dir: Path) -> Path:
    return var_dir.joinpath(*OPERATOR_TOKEN_FILE)


def read_operator_token(configured: str | None, var_dir: Path) -> str | None:
    """The configured token, else the token file's (read each time: it may appear after the reader started);
    None when neither has one."""
    if configured and configured.strip():
        return configured.strip()
    try:
        token = operator_token_file(var_dir).read_text().strip()
    except OSError:
        return None
    return token or None


def issue_operator_token(var_dir: Path) -> tuple[str, bool]:
    """The token file's token, generated first if there is none (mode 0600). Returns ``(token, created)``.

    Several processes starting together create it once: the loser of ``O_EXCL`` reads the winner's token.
    Raises ValueError for an existing but empty file (someone truncated it: refuse rather than guess).
    """
    path = operator_token_file(var_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        token = path.read_text().strip()
        if not token:
            raise ValueError(f"operator token file {path} is empty; delete it or set operator_token") from None
        return token, False
    token = secrets.token_urlsafe(32)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token + "\n")
    return token, True


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value; None for anything else."""
    scheme, _, given = (authorization or "").partition(" ")
    token = given.strip()
    return token if scheme.lower() == "bearer" and token else None


def authenticate(authorization: str | None, credentials: Iterable[Credential], *, what: str = "operator token") -> str:
    """The caller whose credential the header carries.

    401 (Unauthorized) when the header carries no bearer token, 403 (Forbidden) when no credential matches.
    Every credential is compared in constant time, so timing tells nothing about which one came close.
    """
    given = bearer_token(authorization)
    if given is None:
        raise Unauthorized(f"{what} required: send 'Authorization: Bearer <token>'")
    caller = None
    for credential in credentials:
        if hmac.compare_digest(given.encode(), credential.token.encode()) and caller is None:
            caller = credential.caller
    if caller is None:
        raise Forbidden(f"wrong {what}")
    return caller

"""What every deployable's command line shares: a failure is one line on stderr and a non-zero exit.

Exit status 2 means bad input — bad arguments or settings (as typer/argparse use it) — 1 any other failure.
Nothing here imports typer: a sidecar monitor's command line is argparse (typer is about 1 MB of its 40).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from pydantic import ValidationError

from strata_kernel.errors import BadRequest, ConfigurationError, StrataError

BAD_INPUT = 2
FAILURE = 1


def fail(message: str, code: int = FAILURE) -> NoReturn:
    """``error: <message>`` on stderr and exit ``code`` (SystemExit: a typer command and a test runner's invoke
    take it as the exit status)."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(code)


@contextmanager
def one_line_errors(context: str = "") -> Iterator[None]:
    """Run a command body; known failures become ``error: <context><why>``, never a traceback."""
    prefix = f"{context}: " if context else ""
    try:
        yield
    except StrataError as exc:
        where = f"{exc.field}: " if exc.field and exc.field not in exc.message else ""
        bad_input = isinstance(exc, BadRequest | ConfigurationError)
        fail(f"{prefix}{where}{exc.message}", BAD_INPUT if bad_input else FAILURE)
    except ValidationError as exc:  # settings from the environment or the YAML file
        first = exc.errors()[0]
        fail(f"{prefix}settings: {'.'.join(map(str, first['loc']))}: {first['msg']}", BAD_INPUT)
    except (ValueError, OSError) as exc:
        lines = str(exc).strip().splitlines()
        fail(f"{prefix}{lines[0] if lines else type(exc).__name__}")


#: new files 0640 and directories 0750: state (databases with users' questions, tokens, the lake) is not
#: world-readable; token files are 0600 besides (strata_kernel.contracts.auth)
PRIVATE_UMASK = 0o027


def restrict_new_files() -> None:
    """Every Strata process (its ``__main__``) creates its state files private to its user and group."""
    os.umask(PRIVATE_UMASK)

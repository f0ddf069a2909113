"""One error tree for perfgate; each class carries its exit code.

    PerfgateError (70, internal)
    ├── UsageError (2)            bad command line or option values
    ├── InputDataError (3)        unreadable or invalid result / baseline / profile file
    │   └── SchemaVersionError    a file written by a newer perfgate
    └── ExternalError (4)         k6, git or a remote service failed
        ├── K6Error               k6 exited with a failure code or wrote no summary
        └── ToolNotFoundError     a required binary is missing

`perfgate.cli.main` catches `PerfgateError` once and turns it into a one-line message and
the exit code. Nothing below the CLI prints or exits.
"""

from __future__ import annotations

EXCERPT_CHARS = 60


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """`repr` of untrusted text, cut to `limit` characters: errors never echo a whole input."""
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"


class PerfgateError(Exception):
    """Base of every error perfgate raises on purpose."""

    exit_code = 70


class UsageError(PerfgateError):
    exit_code = 2


class InputDataError(PerfgateError):
    """A file we were asked to read is not what it should be. Message names the file."""

    exit_code = 3

    def __init__(self, source: object, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


class SchemaVersionError(InputDataError):
    pass


class ExternalError(PerfgateError):
    exit_code = 4


class ToolNotFoundError(ExternalError):
    pass


class K6Error(ExternalError):
    """k6 failed: carries k6's exit code and its own last error line."""

    def __init__(self, message: str, exit_code: int | None = None, k6_message: str = "") -> None:
        self.k6_exit_code = exit_code
        self.k6_message = k6_message
        detail = f" (k6 exit {exit_code})" if exit_code is not None else ""
        tail = f": {k6_message}" if k6_message else ""
        super().__init__(f"{message}{detail}{tail}")

"""The one error type actions raise for a change that is refused."""

from __future__ import annotations


class ActionError(Exception):
    """A refused change. `message` is a plain Chinese sentence shown to the user as is;
    `code` is a stable machine-readable code for JSON APIs and tests."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

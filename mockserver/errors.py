"""One error type for every failure; each vendor maps its ``kind`` to its own wire format."""

from __future__ import annotations

#: The detail a scenario's error carries where a vendor's message has a blank to fill
#: (DumplingAI's "[specific error message]"); the catalogue shows the same words.
SIMULATED = "Simulated by mockserver"


class MockError(Exception):
    """A failure a vendor would report.

    ``kind`` names the situation in vendor-neutral words (``missing_param``,
    ``not_found``, ``upstream_unavailable``...); ``detail`` fills the blanks of
    the vendor's message (a handle, a URL, a validator's text). ``reason`` is the mock's
    own account of a refusal, for the journal only: the vendor's wire format never shows it.
    """

    def __init__(self, kind: str, detail: str = "", *, retry_after: int | None = None,
                 reason: str = "") -> None:
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail
        self.retry_after = retry_after
        self.reason = reason

    def __repr__(self) -> str:
        return f"MockError({self.kind!r}, {self.detail!r})"


class AdminError(Exception):
    """A bad call to the ``/__mock/`` admin surface: a 400 with a plain message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

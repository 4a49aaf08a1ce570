"""API keys: balance, status and rate limit per key, kept in the store.

Out of the box any key of the vendor's form is welcome and starts with the
default balance; strict mode accepts only keys from the config or fixtures (or set
through the admin API). The store keeps each key's record under its digest
(``store.key_id``), never the key itself.
Keys of a vendor that documents no request rate (Social Fetch's ``sfk_``) have no
per-minute limit at all: their ``rate_limit`` is 0 and cannot be set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mockserver.errors import AdminError, MockError
from mockserver.store import (
    MAX_COUNT,
    Charge,
    Store,
    Window,
    Writes,
    key_id,
)
from mockserver.store.records import KEY_STATUSES
from mockserver.store.records import stored_key_record as stored_record

TABLE = "keys"
MASKED = "masked"  # the record's own field naming its key as the journal does
STATUSES = KEY_STATUSES
KEY_CHARS = 256  # longer is no vendor's key: refused as invalid
RUN_TIME_KEYS = 10_000  # keys requests may create before a reset


def mask(key: str) -> str:
    """Enough of a key to tell two apart in a journal, never enough to reuse it: at most its
    last 4 characters (fewer of a short key) and a 4-hex fingerprint of the whole key."""
    shown = key[-4:] if len(key) >= 16 else key[-2:] if len(key) >= 10 else ""
    fingerprint = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=2).hexdigest()
    return f"…{shown}#{fingerprint}"


class KeyRing:
    def __init__(self, store: Store, *, default_balance: int, default_rate_limit: int,
                 strict: bool, configured: Mapping[str, Mapping[str, Any]],
                 unlimited_prefixes: tuple[str, ...] = ()) -> None:
        self._store = store
        self.default_balance = default_balance
        self.default_rate_limit = default_rate_limit
        self.strict = strict
        self.unlimited_prefixes = unlimited_prefixes
        for key, values in configured.items():
            self._check_limit(key, values)
        self._configured = dict(configured)
        self._made = 0  # keys created by requests since start or reset

    def _fresh(self, key: str) -> dict[str, Any]:
        limit = 0 if key.startswith(self.unlimited_prefixes) else self.default_rate_limit
        state = {"balance": self.default_balance, "status": "active", "rate_limit": limit,
                 MASKED: mask(key)}
        state.update(self._configured.get(key, {}))
        return state

    def _check_limit(self, key: str, changes: Mapping[str, Any]) -> None:
        if changes.get("rate_limit") and key.startswith(self.unlimited_prefixes):
            prefix = next(p for p in self.unlimited_prefixes if key.startswith(p))
            raise AdminError(f"keys starting with {prefix} have no per-minute rate limit "
                             "(their vendor documents none), so rate_limit must be 0")

    def state(self, key: str, kid: str | None = None) -> dict[str, Any]:
        """The key's state, created on first use (unless strict mode forbids unknown keys).
        ``kid`` is ``key_id(key)`` when the caller has it already."""
        kid = kid or key_id(key)
        state = self._store.get(TABLE, kid)
        if state is None:
            fresh = self.fresh_for_request(key)
            state = self._store.put_new(TABLE, kid, fresh)
            self.count_made(state is fresh)
        return stored_record(state) if self._store.shared else state

    def fresh_for_request(self, key: str) -> dict[str, Any]:
        """The state a request may give a key the store does not hold, or the error that
        refuses the key (strict mode, a key no vendor issues, too many keys made)."""
        if self.strict and key not in self._configured:
            raise MockError("unauthorized", reason="strict mode (--strict) accepts only "
                            "keys from the config's [[keys]] or the fixtures")
        if len(key) > KEY_CHARS:
            raise MockError("unauthorized", reason=f"a key longer than {KEY_CHARS} "
                            "characters is no vendor's key")
        if self._made >= RUN_TIME_KEYS and key not in self._configured:
            raise MockError("mock_usage", f"The mock holds at most {RUN_TIME_KEYS} keys "
                            "made by requests; POST /__mock/reset forgets them.")
        return self._fresh(key)

    def count_made(self, created: bool) -> None:
        """A request made a key's record (counted per process)."""
        self._made += created

    @staticmethod
    def require_active(state: Mapping[str, Any]) -> None:
        if state["status"] != "active":
            raise MockError("unauthorized", reason=f"the key is {state['status']}")

    def ensure_balance(self, state: Mapping[str, Any], cost: int) -> None:
        """A first look, before the work of rendering; :meth:`charge` has the last word."""
        if cost and state["balance"] < cost:
            raise MockError("insufficient_credits", reason=f"the key's balance {state['balance']}"
                            f" is less than the cost {cost}")

    def charge(self, key: str, cost: int, kid: str | None = None,
               state: dict[str, Any] | None = None) -> int:
        """Take ``cost`` credits in one store step: all of them, or none and
        ``insufficient_credits`` (another process may have spent them since the check).
        The balance left; ``state`` (the key's, as read) answers when nothing is taken."""
        kid = kid or key_id(key)
        if not cost:
            return (state or self.state(key, kid))["balance"]
        # created from the state as read if a reset took the record meanwhile
        return _left(self._store.charge(TABLE, kid, "balance", cost,
                                        state if state is not None else self._fresh(key)), cost)

    async def charge_async(self, key: str, cost: int, kid: str, state: dict[str, Any]) -> int:
        """:meth:`charge` from the event loop (a request's own charge)."""
        if not cost:
            return state["balance"]
        store = self._store
        after = await store.charge_async(TABLE, kid, "balance", cost, state) if store.awaits \
            else store.charge(TABLE, kid, "balance", cost, state)
        return _left(after, cost)

    async def finish_async(self, cost: int, kid: str, state: dict[str, Any],
                           fill: Callable[[Writes], None], cached_at: str | None = None,
                           window: Window | None = None) -> tuple[int, bool]:
        """:meth:`charge_async` with a request's last writes (``fill``, its journal line and
        coverage counts) in one store step: the balance left, and whether the writes were
        made. They assume the balance left is below ``cost`` (coverage's low balance)
        exactly when ``state``'s balance less ``cost`` is; when another process moved it
        across, they are not made (the caller makes them anew). ``cached_at``: the request's
        Opening.cached_at (``StaleOpening`` if the store moved past it); ``window``: the
        request's rate window, counted first (``WindowSpent``, nothing written, if spent)."""
        after, made = await self._store.finish_async(
            Charge(TABLE, kid, "balance", cost, state, cost, state["balance"] - cost < cost,
                   cached_at, window), fill)
        return _left(after, cost), made

    def update(self, key: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Admin: set balance, status or rate limit, checking each."""
        if len(key) > KEY_CHARS:
            raise AdminError(f"a key is at most {KEY_CHARS} characters")
        changes = checked(changes)
        self._check_limit(key, changes)
        return _shown(self._read(self._store.update(TABLE, key_id(key), changes,
                                                    self._fresh(key))))

    def peek(self, key: str) -> dict[str, Any]:
        """Admin: the state without creating it."""
        return _shown(self._read(self._store.get(TABLE, key_id(key)) or self._fresh(key)))

    def listing(self) -> list[dict[str, Any]]:
        """Admin: every key used or set so far, masked, with its state."""
        return sorted(({"key": state.get(MASKED, "…"), **_shown(self._read(state))}
                       for _, state in self._store.items(TABLE)), key=lambda entry: entry["key"])

    def _read(self, state: Any) -> dict[str, Any]:
        """A record as read from the store: checked if others may write there."""
        return stored_record(state) if self._store.shared else state

    def configure(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """Keys from the config file: ``{"key": ..., "balance"/"status"/"rate_limit"/...}``."""
        for number, entry in enumerate(entries, 1):
            entry = dict(entry)
            key = entry.pop("key", None)
            if not isinstance(key, str) or not key:
                raise AdminError(f"[[keys]] entry {number} needs a key = \"...\"")
            try:
                self._configured[key] = checked(entry, ("scenario",))
                self._check_limit(key, entry)
            except AdminError as error:
                raise AdminError(f"[[keys]] entry {number} ({mask(key)}): {error}") from None

    def reset(self) -> None:
        """Count keys made by requests from nothing again. (Keys set at run time live in the
        store, which a reset clears, so strict mode refuses them again.)"""
        self._made = 0


def _left(after: Mapping[str, Any] | None, cost: int) -> int:
    """The balance a charge left, or ``insufficient_credits`` if it took nothing."""
    if after is None:
        raise MockError("insufficient_credits", reason="another request spent the balance "
                        f"first; it is less than the cost {cost}")
    return after["balance"]


def _shown(state: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in state.items() if name != MASKED}


def checked(changes: Mapping[str, Any], extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """Balance, status and rate limit (and ``extra`` names, unchecked), each validated."""
    unknown = set(changes) - {"balance", "status", "rate_limit", *extra}
    if unknown:
        raise AdminError(f"unknown key fields {sorted(unknown)}; allowed: balance, status, "
                         "rate_limit")
    for field in ("balance", "rate_limit"):
        value = changes.get(field, 0)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
            raise AdminError(f"{field} must be a whole number from 0 to {MAX_COUNT}")
    if "status" in changes and changes["status"] not in STATUSES:
        raise AdminError(f"status must be one of {list(STATUSES)}")
    return dict(changes)

"""Request ids that differ on every request yet come out the same on every run.

A request's id depends on the seed, the request (method, path, query, body) and how
many times that same request was made before, so a test suite replays the same ids in
any order. Both hashes are cheap: the request's own is made once per distinct request
and kept; each call then counts, and hashes that digest and its count only when its id
is shown (a vendor's header or body, the journal, coverage's first request).
"""

from __future__ import annotations

import hashlib

from mockserver.limits import REQUEST_IDS_BYTES, BoundedCache

_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
Occurrence = tuple[bytes, int]  # (the request's digest, times it was made before)


class RequestDigests:
    def __init__(self, seed: int, remembered: int = 100_000, salt: bytes = b"") -> None:
        """``salt``: this process's own, where processes share a store: each counts the
        requests it serves, so without it two processes gave the same request the same ids
        (half the ids of a two-process run were repeats)."""
        self._seed = seed
        self._salt = salt
        # request -> [times seen, its digest]; least recently seen forgotten first, so a
        # request made over and over keeps counting (and its ids keep differing); bounded by
        # the bytes its requests hold too, so large distinct bodies cannot pile up
        self._seen = BoundedCache(remembered, max_bytes=REQUEST_IDS_BYTES)

    def occurrence(self, method: str, path: str, query: str, body: bytes) -> Occurrence:
        """This request's own digest and how many times it was made before: what its id is
        made of, counted on every request; ``digest`` hashes it only when an id is shown."""
        request = (method, path, query, body)
        known = self._seen.recall(request)
        if known is None:
            head = f"{self._seed}\x1f{method}\x1f{path}\x1f{query}\x1f".encode()
            digest = hashlib.blake2b(self._salt + head + body, digest_size=32).digest()
            known = [0, digest]
            self._seen.remember(request, known, len(path) + len(query) + len(body) + 256)
        count = known[0]
        known[0] = count + 1
        return known[1], count

    def clear(self) -> None:
        self._seen.clear()


def digest(occurrence: Occurrence) -> bytes:
    """32 bytes unique to one occurrence of a request."""
    request, count = occurrence
    return hashlib.blake2b(request + count.to_bytes(8, "little"), digest_size=32).digest()


def request_id(occurrence: Occurrence) -> str:
    return uuid4_text(digest(occurrence))


def uuid4_text(digest: bytes) -> str:
    """The first 16 bytes of ``digest`` as a version-4 UUID (version and variant bits set)."""
    x = digest[:16].hex()
    return f"{x[:8]}-{x[8:12]}-4{x[13:16]}-{_VARIANT[x[16]]}{x[17:20]}-{x[20:]}"

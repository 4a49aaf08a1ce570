"""Words, names and sentences drawn once per seed with Faker, then indexed by hashes.

Reseeding Faker for every field of every video made a never-seen account's first page
cost thirty times a cached one. Faker is good at making plausible text in many
languages; it is drawn from here once per process and picked from by number after.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

# language -> Faker locale for names and sentences (Faker's Portuguese and Indonesian
# sentences are Latin lorem ipsum, so those languages caption in English)
_LOCALES = {"en": ("en_US", "en_US"), "de": ("de_DE", "de_DE"), "fr": ("fr_FR", "fr_FR"),
            "es": ("es_MX", "es_MX"), "pt": ("pt_BR", "en_US"), "id": ("id_ID", "en_US")}
EMOJI = ("😂", "🔥", "❤️", "✨", "🙏", "😍", "🎉", "💯", "👀", "🥹", "🤣", "😭", "🍕", "⚽",
         "🎶", "🌍", "💪", "🙌", "🤯", "🫶")
TRENDING_TAGS = ("fyp", "foryou", "foryoupage", "viral", "trending", "comedy", "funny", "duet",
                 "tutorial", "dance", "food", "travel", "sports", "music", "pov", "storytime",
                 "lifehack", "fitness", "pets", "fashion", "fürdich", "pourtoi", "parati",
                 "viralvideo", "tiktokespaña")
NAMES, SENTENCES, WORDS, HANDLES, TITLES = 300, 600, 400, 400, 300
#: the providers the pools draw from: a Faker made with all of them looks for every one's
#: locale module on disk, a quarter of a second of each start (the pools are the same bytes)
_PROVIDERS = ("faker.providers.person", "faker.providers.lorem", "faker.providers.internet",
              "faker.providers.company")


@dataclass(frozen=True)
class Language:
    names: tuple[str, ...]
    sentences: tuple[str, ...]
    words: tuple[str, ...]


@dataclass(frozen=True)
class Pools:
    languages: dict[str, Language]
    handles: tuple[str, ...]  # accounts captions mention
    song_titles: tuple[str, ...]
    albums: tuple[str, ...]
    urls: tuple[str, ...]

    def language(self, code: str) -> Language:
        return self.languages.get(code) or self.languages["en"]


def _bmp(text: str) -> bool:
    """One UTF-16 unit a character, so caption offsets need no counting."""
    return all(ord(ch) <= 0xFFFF for ch in text)


def pools_for(seed: int, cache_dir: Path | None) -> Pools:
    """The pools of ``seed``: read from ``cache_dir`` if an earlier start kept them there,
    else drawn and kept there. Drawing them (and importing Faker) is most of a start;
    reading them back is a few milliseconds. A file is named by the seed, Faker's version
    and this module's text, so a Faker or a mock that would draw otherwise never reads an
    old one. A file that cannot be read or is not the pools' shape is drawn anew; a folder
    that cannot be written keeps nothing, quietly: the pools are the same either way."""
    if cache_dir is None:
        return build_pools(seed)
    path = cache_dir / f"pools-{seed}-{_drawing_version()}.json"
    try:
        if path.is_file():  # not a folder, nor a FIFO a read would wait on for ever
            return _from_kept(path.read_bytes())
    except (OSError, ValueError, TypeError, KeyError):
        pass
    pools = build_pools(seed)
    document = orjson.dumps(asdict(pools))
    _keep(path, hashlib.sha256(document).hexdigest().encode() + b"\n" + document)
    return pools


def _from_kept(kept: bytes) -> Pools:
    """Pools from a file :func:`pools_for` wrote: its first line is the SHA-256 of the rest,
    so a file changed since (by hand, a disk, a half write) is drawn anew rather than
    making another world than the seed's."""
    digest, _, document = kept.partition(b"\n")
    if hashlib.sha256(document).hexdigest().encode() != digest:
        raise ValueError("not the pools as drawn")
    return _from_document(orjson.loads(document))


def _drawing_version() -> str:
    """What the pools of a seed depend on besides the seed: Faker's version (its word
    lists and how it draws from them) and this module (what is drawn, how many)."""
    source = Path(__file__).read_bytes()
    faker_version = metadata.version("faker").encode()
    return hashlib.sha256(faker_version + b"\0" + source).hexdigest()[:16]


def _strings(value: Any) -> tuple[str, ...]:
    """A pool: never empty, as the world picks from it by number."""
    if not isinstance(value, list) or not value or not all(isinstance(item, str)
                                                           for item in value):
        raise TypeError("not a list of strings")
    return tuple(value)


def _from_document(document: Any) -> Pools:
    """Pools from what :func:`pools_for` wrote, checked field by field (TypeError or
    KeyError otherwise): the file is outside the mock's control, and its digest says only
    that it is what some version of the mock wrote."""
    languages = document["languages"]
    if not isinstance(languages, dict) or set(languages) != set(_LOCALES):
        raise TypeError("not the pools' languages")
    return Pools(
        languages={code: Language(**{field: _strings(language[field])
                                     for field in ("names", "sentences", "words")})
                   for code, language in languages.items()},
        **{field: _strings(document[field])
           for field in ("handles", "song_titles", "albums", "urls")})


def _keep(path: Path, data: bytes) -> None:
    """Written whole or not at all: under a temporary name, then renamed, so a start
    reading while another writes never reads half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".pools-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.chmod(temporary, 0o644)  # as a file written with open(): an image's users read it
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        pass


def build_pools(seed: int) -> Pools:
    """Every pool for ``seed``; once per process. One Faker a locale, reseeded before each
    pool it draws (a reseeded instance draws what a new one seeded so would): making a
    Faker lists its providers' modules on disk, and 13 of them were a third of the start."""
    from faker import Faker  # a tenth of a second to import: not when the pools are kept

    fakers: dict[str, Faker] = {}

    def seeded(locale: str, name: str) -> Faker:
        faker = fakers.get(locale) or fakers.setdefault(
            locale, Faker(locale, providers=list(_PROVIDERS)))
        faker.seed_instance(f"{seed}-{name}")
        return faker

    languages = {}
    for code, (name_locale, text_locale) in _LOCALES.items():
        names = seeded(name_locale, f"names-{code}")
        drawn_names = tuple(names.name() for _ in range(NAMES))
        text = seeded(text_locale, f"text-{code}")
        languages[code] = Language(
            names=drawn_names,
            sentences=tuple(text.sentence(nb_words=4 + i % 9).rstrip(".")
                            for i in range(SENTENCES)),
            words=tuple(w for w in dict.fromkeys(
                text.word().lower() for _ in range(WORDS)) if w.isalpha() and _bmp(w)),
        )
    faker = seeded("en_US", "misc")
    handles = tuple(dict.fromkeys(
        faker.user_name().lower().replace("-", "_")[:24] for _ in range(HANDLES)))
    return Pools(
        languages=languages,
        handles=tuple(h for h in handles if len(h) >= 2 and h.isascii()),
        song_titles=tuple(" ".join(faker.words(1 + i % 4)).title() for i in range(TITLES)),
        albums=tuple(faker.catch_phrase() for _ in range(TITLES)),
        urls=tuple(faker.url() for _ in range(TITLES)),
    )

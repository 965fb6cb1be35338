"""Words and their parts of speech from a Chinese segmenter: where names start and end.

Rules written by hand keep missing persons (当事人张三销售…, 证人欧阳明出具证言), so
``portal.publicity.names`` asks a maintained segmenter where the words of a text are and which
of them are person names. The segmenter is jieba-rs (the ``rjieba`` binding): jieba's
dictionary of 350,000 words with their parts of speech and its HMM for words the dictionary
lacks, which is how names it has never seen are found; it ships with the package, nothing is
downloaded at run time, and it segments a 2,000-character text in about 5 ms with 40 MB of
memory (``jieba`` itself, the same dictionary in pure Python, takes ~30x the time and 3x the
memory). The dictionary is told the role words of enforcement texts (法定代表人, 记录人 ...),
so that it does not glue their last character to the name after them (人乔峰).

Tags are jieba's (ICTCLAS): ``nr`` person name, ``nrfg``/``nrt`` names of people and
transliterations, ``ns`` place, ``v`` verb, ``p`` preposition, ``x`` punctuation and other
non-words ... A tag is a guess, so ``names`` uses tags only together with its own rules (a
surname must start the name; common words that look like names are listed there).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import rjieba

NAME_TAGS = frozenset({"nr", "nrfg", "nrt"})
"""Tags of person names."""

FUNCTION_TAGS = frozenset({"p", "c", "u", "uj", "ul", "uz", "ud", "ug", "uv", "d", "x", "m", "q",
                           "f", "r", "y", "e", "o", "w", "t", "eng", "v", "vn", "vd", "l", "i"})
"""Tags of tokens that cannot be (part of) a given name: particles, prepositions, verbs,
punctuation, numbers, idioms ... (a given name is tagged nr, nz, n, a, ng or the like)."""


@dataclass(frozen=True, slots=True)
class Token:
    """``text[start:end]`` is one word, tagged ``tag``."""

    start: int
    end: int
    word: str
    tag: str


class Tokens(Sequence[Token]):
    """A text's words in order, with lookups by position."""

    def __init__(self, tokens: Iterable[Token]) -> None:
        self._tokens = tuple(tokens)

    def __getitem__(self, index: int) -> Token:  # type: ignore[override]
        return self._tokens[index]

    def __len__(self) -> int:
        return len(self._tokens)

    @cached_property
    def _by_start(self) -> dict[int, Token]:
        return {token.start: token for token in self._tokens}

    def at(self, position: int) -> Token | None:
        """The token starting at ``position``, or None when ``position`` is inside a word."""
        return self._by_start.get(position)


_lock = threading.Lock()
_segmenter: rjieba.Jieba | None = None


def _instance(words: Iterable[str]) -> rjieba.Jieba:
    global _segmenter
    with _lock:
        if _segmenter is None:
            segmenter = rjieba.Jieba()
            for word in words:
                segmenter.add_word(word, None, "n")
            _segmenter = segmenter
        return _segmenter


def segment(text: str, role_words: Iterable[str]) -> Tokens:
    """The words of ``text``; ``role_words`` join the dictionary (once per process)."""
    tokens, position = [], 0
    for word, tag in _instance(role_words).tag(text, True):
        if text.startswith(word, position):
            tokens.append(Token(position, position + len(word), word, tag))
            position += len(word)
        else:  # never seen: the segmenter gives back the text it was given, word by word
            raise RuntimeError("segmenter output does not match its input")
    return Tokens(tokens)

"""normalise -> tokens -> vectorise: hashed word and character n-grams (fastText style), stable across processes.

Every table below is part of the algorithm: changing one changes ``VECTORISER_ID`` (its fingerprint is computed
from them), so a model trained on the old ids is refused instead of answering nonsense. A change to the *code*
of these functions must bump ``ALGORITHM`` by hand (the golden test in tests/data_processing fails as a reminder).
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from functools import lru_cache
from itertools import pairwise

ALGORITHM = "hash-ngram-v1"
#: ids live in [1, TEXT_BUCKETS); 0 is the padding id of the model's input
TEXT_BUCKETS = 2**15
#: at most this many distinct ids per text (word unigrams first, then bigrams, then character n-grams)
MAX_TOKENS = 256
CHAR_NGRAM_SIZES = (3, 4, 5)

# typographic apostrophes and look-alikes people paste or phones produce -> "'"
_APOSTROPHES = str.maketrans({c: "'" for c in "\u2019\u2018\u02bc\u02bb\u0060\u00b4\u2032\u201b"})

#: whole words (with or without the apostrophe, as typed in chats) -> their expansion
EXPANSIONS: dict[str, str] = {
    "won't": "will not", "wont": "will not", "can't": "can not", "cant": "can not", "cannot": "can not",
    "shan't": "shall not", "ain't": "is not", "let's": "let us",
    "dont": "do not", "doesnt": "does not", "didnt": "did not", "isnt": "is not", "arent": "are not",
    "wasnt": "was not", "werent": "were not", "havent": "have not", "hasnt": "has not", "hadnt": "had not",
    "couldnt": "could not", "wouldnt": "would not", "shouldnt": "should not",
    "im": "i am", "ive": "i have", "youre": "you are", "theyre": "they are", "whats": "what is",
    "wheres": "where is", "hows": "how is", "thats": "that is",
    "it's": "it is", "that's": "that is", "what's": "what is", "where's": "where is", "who's": "who is",
    "how's": "how is", "there's": "there is", "here's": "here is", "he's": "he is", "she's": "she is",
    "when's": "when is", "why's": "why is",
}  # fmt: skip
#: suffixes of other apostrophe words; a remaining "'s" is a possessive and is dropped ("order's" -> "order")
SUFFIXES: tuple[tuple[str, str], ...] = (
    ("n't", " not"), ("'re", " are"), ("'m", " am"), ("'ll", " will"), ("'ve", " have"), ("'d", " would"),
    ("'s", ""),
)  # fmt: skip
#: small on purpose: question words (how, where, when, why, what) and negations tell help articles apart
STOP_WORDS = frozenset({
    "a", "an", "the", "is", "are", "am", "was", "were", "be", "been", "being", "do", "does", "did", "i", "me", "my",
    "mine", "we", "us", "our", "you", "your", "it", "its", "this", "that", "these", "those", "to", "of", "for", "in",
    "on", "at", "by", "with", "and", "or", "so", "please", "hi", "hello", "thanks", "thank", "there", "here", "would",
    "could", "should", "will", "shall", "can", "have", "has", "had", "just", "some", "any", "about", "into", "from",
})  # fmt: skip

# a word: letters/digits, with inner apostrophes ("don't"); everything else is punctuation and goes
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def _fingerprint() -> str:
    tables = repr((TEXT_BUCKETS, MAX_TOKENS, CHAR_NGRAM_SIZES, sorted(EXPANSIONS.items()), SUFFIXES,
                   sorted(STOP_WORDS)))  # fmt: skip
    return f"{zlib.crc32(tables.encode()):08x}"


#: identifies the algorithm and every parameter; a model records it (tag ``vectoriser``), the runtime sends it
VECTORISER_ID = f"{ALGORITHM}:{TEXT_BUCKETS}:crc32:{_fingerprint()}"


def normalise(text: str) -> str:
    """NFKC, unified apostrophes, casefold, accents stripped, contractions expanded, no punctuation, single spaces.

    Idempotent: ``normalise(normalise(t)) == normalise(t)``.
    """
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).casefold()
    if not text.isascii():  # the common case (plain English) skips two Unicode passes
        decomposed = unicodedata.normalize("NFKD", text)
        text = unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))
    return " ".join(_expand(word) for word in _WORD.findall(text))


def _expand(word: str) -> str:
    expanded = EXPANSIONS.get(word)
    if expanded is not None:
        return expanded
    if "'" not in word:
        return word
    for suffix, replacement in SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            return word[: -len(suffix)].replace("'", "") + replacement
    return word.replace("'", "")  # "o'clock" -> "oclock": one word, as people also type it


def tokens(normalised: str) -> list[str]:
    """Word unigrams (``w:``) and bigrams (``b:``) without stop words, then character 3-5-grams of each word
    with boundary markers (``c:<ca``, ``c:can``, ...), which keep typos close to the word they miss.

    A text made only of stop words keeps them (so "can I?" is not empty). Digits get no character n-grams:
    order numbers sharing digits are not alike.
    """
    content = _content_words(normalised)
    found = [f"w:{word}" for word in content]
    found.extend(_bigrams(content))
    for word in content:
        found.extend(_char_ngrams(word))
    return found


def _content_words(normalised: str) -> list[str]:
    words = normalised.split()
    return [word for word in words if word not in STOP_WORDS] or words


def _bigrams(content: list[str]) -> list[str]:
    return [f"b:{first} {second}" for first, second in pairwise(content)]


@lru_cache(maxsize=1 << 15)
def _char_ngrams(word: str) -> tuple[str, ...]:
    if word.isdigit():
        return ()
    marked = f"<{word}>"
    return tuple(f"c:{marked[i : i + size]}" for size in CHAR_NGRAM_SIZES for i in range(len(marked) - size + 1))


@lru_cache(maxsize=1 << 16)
def token_id(token: str) -> int:
    """A stable id in [1, TEXT_BUCKETS): CRC-32 of the UTF-8 token (Python's ``hash`` is salted per process)."""
    return zlib.crc32(token.encode("utf-8")) % (TEXT_BUCKETS - 1) + 1


@lru_cache(maxsize=1 << 15)
def _word_ids(word: str) -> tuple[int, tuple[int, ...]]:
    """A word's unigram id and its character n-gram ids: words repeat across questions, so this is cached."""
    return token_id(f"w:{word}"), tuple(token_id(token) for token in _char_ngrams(word))


def vectorise(text: str) -> list[int]:
    """The model's input for ``text``: distinct token ids in token order, at most ``MAX_TOKENS``; [] if no words.

    Exactly ``token_id`` of each of ``tokens(normalise(text))``, deduplicated and capped (a test holds it to
    that); it reads the per-word ids from a cache instead of building every n-gram string again.
    """
    content = _content_words(normalise(text))
    cached = [_word_ids(word) for word in content]
    ids = [unigram for unigram, _ in cached]
    ids.extend(token_id(bigram) for bigram in _bigrams(content))
    for _, char_ids in cached:
        ids.extend(char_ids)
    return list(dict.fromkeys(ids))[:MAX_TOKENS]

"""data_processing.text: the one normalise -> tokens -> vectorise path of the chatbot's training job and runtime."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from data_processing.text import (
    MAX_TOKENS,
    TEXT_BUCKETS,
    VECTORISER_ID,
    normalise,
    token_id,
    tokens,
    vectorise,
)

ROOT = Path(__file__).resolve().parents[2]
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=120)
RSQUO = "\u2019"  # the typographic apostrophe phones type


def _crc32(data: bytes) -> int:
    """CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) bit by bit: a second implementation to check against."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c != " " else c for c in text)


def _overlap(first: str, second: str) -> float:
    a, b = set(vectorise(first)), set(vectorise(second))
    return len(a & b) / len(a | b)


def test_ids_follow_the_documented_hash_and_never_change() -> None:
    assert _crc32(b"123456789") == 0xCBF43926  # the standard check value: the reference itself is right
    assert token_id("w:cancel") == _crc32(b"w:cancel") % (TEXT_BUCKETS - 1) + 1 == 10768
    assert token_id("w:cancel") in vectorise("Cancel")
    # golden output: if either assertion fails, the vectoriser changed: bump ALGORITHM in data_processing.text
    # (models trained on the old ids must be refused, not fed different ids)
    assert VECTORISER_ID == "hash-ngram-v1:32768:crc32:fdd9aa48"
    assert vectorise("Where's my order?")[:6] == [1838, 13865, 25469, 2927, 30131, 17913]


def test_ids_are_the_same_in_another_process_with_another_hash_seed() -> None:
    text = "How do I change my delivery address?"
    script = f"import json; from data_processing.text import vectorise; print(json.dumps(vectorise({text!r})))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    output = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, check=True)

    assert json.loads(output.stdout) == vectorise(text)


def test_casing_punctuation_accents_and_apostrophes_do_not_change_the_ids() -> None:
    forms = [
        "Where is my cafe order?",
        "WHERE IS MY CAFÉ ORDER!!!",
        "where   is my café, order",
        _full_width("Where is my cafe order"),  # NFKC folds it
        f"Where{RSQUO}s my cafe order\u2026",  # typographic apostrophe + contraction, ellipsis
    ]

    assert {normalise(form) for form in forms} == {"where is my cafe order"}
    assert all(vectorise(form) == vectorise(forms[0]) for form in forms)


def test_contractions_are_expanded_with_or_without_the_apostrophe() -> None:
    assert normalise("I can't log in") == normalise("I cant log in") == normalise("I cannot log in")
    assert normalise("I can't log in") == "i can not log in"
    assert normalise(f"The courier didn{RSQUO}t ring, I'm waiting") == "the courier did not ring i am waiting"
    assert normalise("the restaurant's menu") == "the restaurant menu"  # possessive


def test_typos_keep_most_ids_and_other_questions_share_few() -> None:
    question = "How do I cancel my order?"

    typos = "how do i cancle my ordr"

    assert _overlap(question, "how do i cancel my ordr") > 0.5  # one typo
    assert _overlap(question, typos) > 0.25  # two: still far more than an unrelated question shares
    assert _overlap(question, "What payment cards do you accept?") < 0.05
    assert _overlap(typos, question) > _overlap(typos, "Where is my order?")  # closest to what was meant
    assert _overlap(question, "How can I cancel the order") == 1.0  # only stop words differ


def test_stop_words_are_dropped_unless_that_leaves_nothing() -> None:
    assert tokens("how do i cancel my order")[:3] == ["w:how", "w:cancel", "w:order"]
    assert "b:cancel order" in tokens("how do i cancel my order")
    assert "c:<can" in tokens("cancel")
    assert tokens("can i")[:3] == ["w:can", "w:i", "b:can i"]
    assert vectorise("?!? …") == []


def test_long_text_is_capped_with_the_words_first() -> None:
    words = [f"word{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(80)]  # 80 distinct words
    ids = vectorise(" ".join(words))

    assert len(ids) == MAX_TOKENS
    assert ids[:80] == [token_id(f"w:{word}") for word in words]
    assert len(set(ids)) == len(ids)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_ids_are_never_padding_and_follow_the_tokens(text: str) -> None:
    ids = vectorise(text)
    reference = list(dict.fromkeys(token_id(token) for token in tokens(normalise(text))))[:MAX_TOKENS]

    assert ids == reference  # the cached fast path is exactly tokens() hashed
    assert all(1 <= i < TEXT_BUCKETS for i in ids)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_normalise_is_idempotent_and_leaves_words_separated_by_single_spaces(text: str) -> None:
    once = normalise(text)

    assert normalise(once) == once
    assert once == " ".join(once.split())
    assert all(char.isalnum() or char == " " for char in once)

"""Pure rules of the help chatbot: the prohibited-words check, safe links, which reply each answer becomes."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from business_logic.domain.help import (
    BLOCKED_ANSWER,
    EngineAnswer,
    HelpCentre,
    PredefinedQuestion,
    ProhibitedWords,
    fold,
    reply_for_engine,
    reply_for_predefined,
    web_url,
)

CENTRE = HelpCentre("http://help.test/", {"orders": "Orders", "payments": "Payments"})
CENTRE_LINKS = [
    ("Help centre", "http://help.test/"),
    ("Orders", "http://help.test/categories/orders.html"),
    ("Payments", "http://help.test/categories/payments.html"),
]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("You IDIOT, read the menu", "idiot"),
        ("what an idiót", "idiot"),  # accents do not dodge the check
        ("\uff29\uff44\uff49\uff4f\uff54", "idiot"),  # nor full-width letters
        ("this is crap.", "crap"),
        ("well, GO  TO\nhell then", "go to hell"),  # a phrase, across any whitespace
        ("keep your scrapbook", None),  # whole words only
        ("idiotic is not idiot-proof", "idiot"),  # "-" is a word border, "idiotic" is another word
        ("an idiotic remark", None),
        ("", None),
    ],
)
def test_prohibited_words_are_whole_words_any_case_any_accent(text: str, found: str | None) -> None:
    words = ProhibitedWords(["Idiot", "crap", "go to hell", "  "])
    assert words.find(text) == found


@given(st.text(max_size=60) | st.text(st.characters(max_codepoint=127), max_size=60))
def test_folding_is_lower_case_without_accents_for_any_text(text: str) -> None:
    """ASCII text takes a short cut; every text folds as the letter-by-letter walk over its NFKD form does."""
    walked = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
    assert fold(text) == walked


def test_no_prohibited_words_blocks_nothing() -> None:
    assert ProhibitedWords([]).find("anything at all") is None


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://help.test/a.html", True),
        ("http://help.test/a.html", True),
        ("javascript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        ("/relative/page.html", False),
        ("data:text/html,<b>x</b>", False),
        ("", False),
        (None, False),
    ],
)
def test_only_absolute_web_urls_become_links(url: str | None, kept: bool) -> None:
    assert (web_url(url) is not None) is kept


def test_unknown_model_answer_is_a_polite_i_dont_know_with_help_centre_links() -> None:
    engine = EngineAnswer(known=False, confidence=0.2, model="helpbot", version="3")
    reply = reply_for_engine("q-1", engine, CENTRE, ProhibitedWords(["idiot"]))
    assert reply.source == "unknown"
    assert "don't know" in reply.answer
    assert [(link.title, link.url) for link in reply.links] == CENTRE_LINKS
    assert reply.article_url is None and reply.ask_feedback is True


def test_model_answer_with_a_prohibited_title_is_blocked_and_loses_its_article() -> None:
    engine = EngineAnswer(True, 0.9, "helpbot", "3", "a-1", "Idiot's guide", "http://help.test/a.html", "Fine text.")
    reply = reply_for_engine("q-1", engine, CENTRE, ProhibitedWords(["idiot"]))
    assert (reply.source, reply.answer, reply.article_url) == ("blocked", BLOCKED_ANSWER, None)
    assert [(link.title, link.url) for link in reply.links] == CENTRE_LINKS


def test_model_answer_with_a_script_url_keeps_its_text_but_no_link() -> None:
    engine = EngineAnswer(True, 0.9, "helpbot", "3", "a-1", "Refunds", "javascript:alert(1)", "Refunds take 3 days.")
    reply = reply_for_engine("q-1", engine, CENTRE, ProhibitedWords([]))
    assert (reply.source, reply.answer, reply.article_url, reply.links) == (
        "model",
        "Refunds take 3 days.",
        None,
        (),
    )


def test_predefined_answer_links_its_article() -> None:
    question = PredefinedQuestion("refunds", "How long?", "3 to 5 days.", "https://help.test/payments/refunds.html")
    reply = reply_for_predefined("q-1", question, CENTRE, ProhibitedWords(["idiot"]))
    assert (reply.source, reply.answer, reply.article_url) == (
        "predefined",
        "3 to 5 days.",
        "https://help.test/payments/refunds.html",
    )

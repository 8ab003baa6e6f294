"""The demo help centre: a static site (``site/``, served by ``python -m data_collection serve-helpcentre`` and read
by ``crawl``) and the held-out evaluation questions (``heldout_questions.yaml``, landed by ``land-heldout``).

The HTML pages are the source of truth. ``site/`` deliberately holds pages the crawler must reject (an article
with no answer, one with no ``data-article-id``, an old copy of an article at another URL, a text file, a link to
a missing page) and a staff page under ``/internal/`` that robots.txt forbids.
"""

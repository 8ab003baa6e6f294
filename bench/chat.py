"""Chatbot benchmark: free-text answers through every layer, and the engine's held-out quality.

Runs on the demo Strata under var/bench (built by `strata build` when missing or built before the chatbot):
- latency of a free-text answer through business logic (business logic -> data processing -> inference engine
  -> business logic, stored + published through the outbox), concurrency 1, over ``questions`` questions;
- the same question through data processing alone and the inference engine alone, to show where time goes;
- top-1 accuracy and coverage on the held-out paraphrases, as recorded on the served helpbot version.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from bench.etd import PORTS, ROOT, _env, running_strata
from bench.harness import JsonPoster, Summary, measure

HELDOUT = ROOT / "data_collection" / "helpcentre" / "heldout_questions.yaml"


def _questions(count: int) -> list[str]:
    """The held-out paraphrases (in scope and out of scope), repeated to ``count``: real user-like text."""
    texts = [str(item["text"]) for item in yaml.safe_load(HELDOUT.read_text())]
    return [texts[i % len(texts)] for i in range(count)]


def _built_with_chatbot(var_dir: Path) -> bool:
    marker = var_dir / "demo" / "BUILT"
    return marker.exists() and "helpbot" in json.loads(marker.read_text())


def _measure_posts(label: str, base: str, path: str, bodies: list[dict[str, str]], count: int) -> Summary:
    poster = JsonPoster(base)

    def call(i: int) -> int:
        return poster.post(path, bodies[i])[0]

    measure("warm-up", call, requests=100)
    return measure(label, call, requests=count)


def run(count: int = 1000) -> tuple[list[Summary], dict[str, object]]:
    """Latency summaries, and the training summary of the helpbot version the build registered."""
    from data_processing.text import vectorise  # the runtime's own code path (a benchmark may import it)

    var_dir = ROOT / "var" / "bench"
    if not _built_with_chatbot(var_dir):
        subprocess.run([sys.executable, "-m", "strata_cli", "build"], env=_env(var_dir), cwd=ROOT, check=True)
    texts = _questions(count)
    results: list[Summary] = []
    with running_strata(var_dir):
        bl = f"http://127.0.0.1:{PORTS['business_logic']}"
        dp = f"http://127.0.0.1:{PORTS['data_processing']}"
        ie = f"http://127.0.0.1:{PORTS['inference_engine']}"
        for label, base, path, bodies in (
            ("free text via business logic (3 services)", bl, "/v1/help/ask", [{"text": t} for t in texts]),
            ("data processing -> engine", dp, "/v1/help/answer", [{"text": t} for t in texts]),
        ):
            results.append(_measure_posts(label, base, path, bodies, count))
        poster = JsonPoster(ie)
        instances = [{"instances": [{"token_ids": vectorise(text)}]} for text in texts]
        results.append(
            measure(
                "inference engine alone",
                lambda i: poster.post("/v1/models/helpbot/predict", instances[i])[0],
                requests=count,
            )
        )
    training = json.loads((var_dir / "demo" / "BUILT").read_text())["helpbot"]
    return results, training

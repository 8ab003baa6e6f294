"""Reads a predefined-questions YAML file: a list (or ``{questions: [...]}``) of {id, question, answer, article_url?}.

Types and required fields are checked here; set-wide rules (unique ids, http(s) links) live in ``domain.help``.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from business_logic.domain.help import MAX_QUESTION_CHARS, PredefinedQuestion, check_predefined_set
from business_logic.help_errors import InvalidHelpFile


class _QuestionRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=64)
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: str = Field(min_length=1, max_length=5000)
    article_url: str | None = Field(default=None, max_length=1000)


class _HelpFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    questions: list[_QuestionRecord] = Field(min_length=1)


def read_help_file(path: Path) -> list[PredefinedQuestion]:
    """Parse ``path``; any problem raises :class:`InvalidHelpFile` naming the field that caused it."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidHelpFile(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        first = (str(exc).strip().splitlines() or ["syntax error"])[0]
        raise InvalidHelpFile(f"{path} is not valid YAML: {first}") from exc
    return parse_help(raw)


def parse_help(raw: object) -> list[PredefinedQuestion]:
    try:
        record = _HelpFile.model_validate({"questions": raw} if isinstance(raw, list) else raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(part) for part in problem["loc"]) or "questions"
        raise InvalidHelpFile(problem["msg"], field=field) from exc
    questions = [
        PredefinedQuestion(id=q.id, question=q.question, answer=q.answer, article_url=q.article_url or None)
        for q in record.questions
    ]
    check_predefined_set(questions)
    return questions

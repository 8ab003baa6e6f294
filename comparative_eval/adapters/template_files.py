"""Analysis templates from YAML files ``<dir>/<model>.yaml`` (``default.yaml`` for any other model)."""

from __future__ import annotations

from pathlib import Path

import yaml

from comparative_eval.domain.template import AnalysisTemplate, TemplateError, parse_template
from comparative_eval.errors import InvalidTemplate, UnknownModel
from comparative_eval.ports import TemplateSource

DEFAULT_TEMPLATE = "default"


class YamlTemplates(TemplateSource):
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def template(self, model: str) -> AnalysisTemplate:
        path = self._directory / f"{model}.yaml"
        if not path.is_file():
            path = self._directory / f"{DEFAULT_TEMPLATE}.yaml"
        if not path.is_file():  # a model nobody can deploy here: the caller named an unknown one
            raise UnknownModel(
                f"no analysis template for model {model}: neither {model}.yaml nor {DEFAULT_TEMPLATE}.yaml",
                field="model",
            )
        return load_template(path)

    def check_all(self) -> list[str]:
        paths = sorted(self._directory.glob("*.yaml"))
        if not paths:
            raise InvalidTemplate(f"no analysis templates (*.yaml) in {self._directory}")
        return [load_template(path).name for path in paths]


def load_template(path: Path) -> AnalysisTemplate:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidTemplate(f"template {path}: cannot be read as YAML: {str(exc).splitlines()[0]}") from exc
    try:
        return parse_template(path.stem, data)
    except TemplateError as exc:
        raise InvalidTemplate(f"template {path}: {exc}", field=exc.key) from exc

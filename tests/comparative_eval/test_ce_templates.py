"""Analysis templates: the shipped ones load; a malformed one is refused naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from comparative_eval.adapters.template_files import YamlTemplates
from comparative_eval.entrypoints.cli import app
from comparative_eval.errors import InvalidTemplate
from comparative_eval.settings import PACKAGE_TEMPLATES


def test_shipped_templates_load() -> None:
    templates = YamlTemplates(PACKAGE_TEMPLATES)
    assert sorted(templates.check_all()) == ["default", "etd", "helpbot"]
    etd = templates.template("etd")
    assert etd.steps == (5, 25, 50, 100)
    assert etd.mae is not None and etd.mae.tolerance == 0.05 and etd.mae.test == "mann_whitney"
    assert templates.template("helpbot").helpful_rate is not None
    assert templates.template("some_other_model").name == "default"


@pytest.mark.parametrize(
    ("text", "key", "why"),
    [
        ("steps: [5, 50]\nrules: {error_rate: {}}", "steps", "must end with 100"),
        ("steps: [50, 5, 100]\nrules: {error_rate: {}}", "steps", "strictly increasing"),
        ("steps: [5, 'x', 100]\nrules: {error_rate: {}}", "steps.1", "integer in 1..100"),
        ("steps: [100]\nrules: {mae: {tolerance: -1}}", "rules.mae.tolerance", "number >= 0"),
        ("steps: [100]\nrules: {mae: {test: ttest}}", "rules.mae.test", "mann_whitney"),
        ("steps: [100]\nrules: {latency_p99: {max_ratoi: 2}}", "rules.latency_p99.max_ratoi", "unknown key"),
        ("steps: [100]\nalpha: 0.9\nrules: {error_rate: {}}", "alpha", "(0, 0.5)"),
        ("steps: [100]\nrules: {}", "rules", "non-empty"),
        ("steps: [100]\nrules: {error_rate: {min_samples: 0}}", "rules.error_rate.min_samples", ">= 1"),
    ],
)
def test_a_malformed_template_names_the_key(tmp_path: Path, text: str, key: str, why: str) -> None:
    (tmp_path / "etd.yaml").write_text(text)
    with pytest.raises(InvalidTemplate) as caught:
        YamlTemplates(tmp_path).template("etd")
    assert caught.value.field == key
    assert f"{key}: " in caught.value.message and why in caught.value.message
    assert "etd.yaml" in caught.value.message


def test_check_templates_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("STRATA_TEMPLATES_DIR", str(PACKAGE_TEMPLATES))
    ok = CliRunner().invoke(app, ["check-templates"])
    assert ok.exit_code == 0 and "3 templates ok" in ok.output
    (tmp_path / "etd.yaml").write_text("steps: [5, 50]\nrules: {error_rate: {}}\n")
    monkeypatch.setenv("STRATA_TEMPLATES_DIR", str(tmp_path))
    bad = CliRunner().invoke(app, ["check-templates"])
    assert bad.exit_code == 2
    assert "steps: must end with 100" in bad.output

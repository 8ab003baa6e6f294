"""Where model declarations live (``model_specs_dir``: ``<name>.yaml`` each) and how they are read."""

from __future__ import annotations

from pathlib import Path

import yaml

from strata_kernel.contracts.model_spec import InvalidModelSpec, ModelSpec
from strata_kernel.errors import NotFound

#: the repository's own declarations (the demo's ETD); a deployment points ``model_specs_dir`` at its own
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "model_specs"


class UnknownModel(NotFound):
    code = "unknown_model"


def default_specs_dir() -> Path:
    """The repository's ``model_specs/`` (editable install), else ``./model_specs`` (an image's working dir)."""
    return DEFAULT_DIR if DEFAULT_DIR.is_dir() else Path("model_specs")


def declared_models(directory: Path) -> list[str]:
    return sorted(path.stem for path in directory.glob("*.yaml"))


def load_model_spec(name: str, directory: Path) -> ModelSpec:
    """Read and check ``<directory>/<name>.yaml``; UnknownModel (404) names the declared ones."""
    path = directory / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(declared_models(directory)) or "none"
        raise UnknownModel(f"model {name!r} is not declared (no {name}.yaml in {directory}; declared: {known})",
                           field="model")  # fmt: skip
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise InvalidModelSpec(f"{path.name}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    spec = ModelSpec.from_mapping(data, path.name)
    if spec.name != name:
        raise InvalidModelSpec(f"{path.name}: name: {spec.name!r} must be the file's name ({name!r})", field="name")
    return spec

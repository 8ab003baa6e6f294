"""`python -m business_logic load-catalog PATH`: good file, bad file changes nothing, re-load is idempotent."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from business_logic.entrypoints.cli import app

runner = CliRunner()


def _load(tmp_path: Path, catalog: Path) -> Any:
    return runner.invoke(
        app, ["load-catalog", str(catalog)], env={"STRATA_VAR_DIR": str(tmp_path / "var"), "STRATA_DATABASE_URL": ""}
    )


def _rows(tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(tmp_path / "var" / "business_logic" / "app.db") as connection:
        return {
            table: sorted(connection.execute(f"SELECT * FROM {table}").fetchall())
            for table in ("countries", "cities", "restaurants", "menu_items")
        }


def _write(tmp_path: Path, name: str, catalog: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(catalog), encoding="utf-8")
    return path


def test_loads_a_good_file(tmp_path: Path, catalog_file: Path) -> None:
    result = _load(tmp_path, catalog_file)
    assert result.exit_code == 0, result.output
    assert "3 restaurants, 4 menu items" in result.output
    rows = _rows(tmp_path)
    assert len(rows["restaurants"]) == 3
    assert ("r-000001", "i-000001-01", "Bacalhau", 1210) in rows["menu_items"]


def test_reloading_is_idempotent(tmp_path: Path, catalog_file: Path) -> None:
    _load(tmp_path, catalog_file)
    first = _rows(tmp_path)
    assert _load(tmp_path, catalog_file).exit_code == 0
    assert _rows(tmp_path) == first


def test_reload_updates_and_replaces_menus(tmp_path: Path, catalog_file: Path, catalog_data: dict[str, Any]) -> None:
    _load(tmp_path, catalog_file)
    catalog_data["restaurants"][0]["name"] = "Tasca Nova"
    catalog_data["restaurants"][0]["menu"] = [{"item_id": "i-000001-09", "name": "Caldo verde", "price": 4}]
    assert _load(tmp_path, _write(tmp_path, "v2.json", catalog_data)).exit_code == 0
    rows = _rows(tmp_path)
    assert ("r-000001", "Tasca Nova", "c-0001", "PT", "portuguese") in rows["restaurants"]
    assert [row for row in rows["menu_items"] if row[0] == "r-000001"] == [
        ("r-000001", "i-000001-09", "Caldo verde", 400)
    ]


def test_bad_file_exits_2_with_one_line_and_changes_nothing(
    tmp_path: Path, catalog_file: Path, catalog_data: dict[str, Any]
) -> None:
    _load(tmp_path, catalog_file)
    before = _rows(tmp_path)
    catalog_data["restaurants"][0]["name"] = "Renamed"  # would change data if anything were applied
    catalog_data["restaurants"][2]["city_id"] = "c-9999"
    result = _load(tmp_path, _write(tmp_path, "bad.json", catalog_data))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "restaurants.2.city_id: unknown city 'c-9999'" in lines[0]
    assert _rows(tmp_path) == before


def test_wrong_types_name_the_field(tmp_path: Path, catalog_data: dict[str, Any]) -> None:
    catalog_data["restaurants"][1]["menu"][0]["price"] = "cheap"
    result = _load(tmp_path, _write(tmp_path, "bad.json", catalog_data))
    assert result.exit_code == 2
    assert "restaurants.1.menu.0.price: " in result.output


def test_unreadable_and_non_json_files_exit_2(tmp_path: Path) -> None:
    missing = _load(tmp_path, tmp_path / "missing.json")
    assert missing.exit_code == 2 and "cannot read" in missing.output
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    broken = _load(tmp_path, tmp_path / "broken.json")
    assert broken.exit_code == 2 and "not valid JSON" in broken.output

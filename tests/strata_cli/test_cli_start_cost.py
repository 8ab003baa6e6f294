"""An operator command starts fast (a rollback is a page-time action): loading the CLI must not import
what only running, building or clustering the platform needs."""

import subprocess
import sys

HEAVY = ("httpx", "supervisor", "strata_cli.cluster", "strata_cli.devflow", "rich.progress", "pygments", "pyspark")


def test_the_cli_loads_without_what_only_running_the_platform_needs() -> None:
    code = f"import sys, strata_cli.main; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"

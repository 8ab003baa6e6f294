"""An operator command starts fast (a rollback is a page-time action): loading the CLI must not import
what only running, building or clustering the platform needs."""

import json
import subprocess
import sys

HEAVY = ("httpx", "supervisor", "strata_cli.cluster", "strata_cli.devflow", "rich.progress", "pygments", "pyspark")


def test_the_cli_loads_without_what_only_running_the_platform_needs() -> None:
    code = f"import sys, strata_cli.main; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


def test_the_libraries_the_cli_loads_are_byte_compiled_at_install() -> None:
    """With PYTHONDONTWRITEBYTECODE (the image and the shared machines set it) Python caches no bytecode, so a
    library installed without its .pyc is compiled from source at every start: most of a rollback's second."""
    code = """
import json, os, site, sys
from importlib.util import cache_from_source
import strata_cli.main
roots = tuple(site.getsitepackages())
files = {getattr(module, "__file__", None) or "" for module in list(sys.modules.values())}
print(json.dumps(sorted(f for f in files if f.startswith(roots) and f.endswith(".py")
                        and not os.path.isfile(cache_from_source(f)))))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    uncompiled = json.loads(done.stdout)
    assert uncompiled == [], f"{len(uncompiled)} modules without bytecode, e.g. {uncompiled[:3]} (make install)"

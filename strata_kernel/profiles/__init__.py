"""One way to describe data in the whole platform: table profiles (see ``docs/profiles.md``).

Used by the data lake (a profile of every table version, computed when it is committed), by training jobs (the
reference profile of a model version, stored with it in MLflow) and by the sidecar monitors (a window of live
data compared with that reference). The model (``model``) is pure Python; building (``builder``), merging
(``merge``), comparing (``compare``) and the engines (``engines``: DuckDB, Spark) import their libraries inside
functions, so importing this package is cheap.

    from strata_kernel.profiles import profile_arrow, compare_profiles, TableProfile
    reference = TableProfile.from_dict(json.load(open("profile.json")))
    diff = compare_profiles(reference, profile_arrow(window_table))
"""

from strata_kernel.profiles.builder import ProfileBuilder, profile_arrow
from strata_kernel.profiles.compare import ColumnDiff, ProfileDiff, compare_profiles
from strata_kernel.profiles.merge import conform, merge_profiles
from strata_kernel.profiles.model import (
    FORMAT,
    FORMAT_VERSION,
    ColumnProfile,
    Partition,
    ProfileFormatError,
    SketchParams,
    TableProfile,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ColumnDiff",
    "ColumnProfile",
    "Partition",
    "ProfileBuilder",
    "ProfileDiff",
    "ProfileFormatError",
    "SketchParams",
    "TableProfile",
    "compare_profiles",
    "conform",
    "merge_profiles",
    "profile_arrow",
]

"""What a sidecar can watch in a component's data (docs/monitoring.md).

Apart from the judgement rules, so a sidecar that only probes can name them without loading the data monitors'
code (profiles, sketches, windows).
"""

from __future__ import annotations

#: what a monitor records: distribution drift (the engine's sidecar), missing and out-of-range values (data
#: processing's sidecar: the feature vector is its output)
DRIFT = "drift"
MISSING = "missing"

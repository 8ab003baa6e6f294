"""Errors of the monitoring deployable."""

from __future__ import annotations

from strata_kernel.errors import ConfigurationError


class SidecarConfigurationError(ConfigurationError):
    """The sidecar was asked to watch something it cannot (unknown component, bad target URL)."""

    code = "sidecar_configuration_error"

"""The port of the feature directory, in domain terms."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime

from data_processing.domain.registry_rules import FeatureUsage, GroupEntry, RegisteredFeature, RegistrationPlan


class FeatureDirectory(abc.ABC):
    """Registered feature groups and features, their data availability, and who reads which feature."""

    @abc.abstractmethod
    def save_registration(self, plan: RegistrationPlan, at: datetime) -> None:
        """Upsert the group's metadata and add the plan's new features, in one transaction.

        Features already registered are never rewritten (their meaning is fixed).
        """

    @abc.abstractmethod
    def groups(self, text: str = "") -> list[GroupEntry]:
        """Groups, by name; ``text`` filters on group or feature name, description, owner, entity."""

    @abc.abstractmethod
    def group(self, name: str) -> GroupEntry | None:
        """One group, or None if it was never registered."""

    @abc.abstractmethod
    def features(self, group: str) -> list[RegisteredFeature]:
        """The group's registered features, in registration order."""

    @abc.abstractmethod
    def deprecate(self, group: str, feature: str, reason: str, at: datetime) -> RegisteredFeature | None:
        """Mark a feature deprecated (keeps the first deprecation); None if it is not registered."""

    @abc.abstractmethod
    def record_availability(self, group: str, newest_nominal_time: datetime, at: datetime) -> None:
        """A job committed data of ``group`` up to ``newest_nominal_time`` (never moves backwards)."""

    @abc.abstractmethod
    def add_usage(self, usage: Sequence[FeatureUsage]) -> None:
        """Add counts to (feature, consumer) rows and move their last_used forward."""

    @abc.abstractmethod
    def usage(self, group: str, feature: str | None = None) -> list[FeatureUsage]:
        """Who used the group's features (or one feature), most used first."""

    def close(self) -> None:
        """Release connections."""

"""Contraindication rules as data, for modality plugins: a condition on record, or a procedure within a waiting period.

A plugin lists its rules and calls :func:`evaluate`; waiting periods become clinic settings through
:func:`waiting_settings`, so the clinic's medical director decides the days. Rules a table cannot say (a point that is
forbidden in pregnancy, neck work with a thyroid condition) stay ordinary code in the plugin's check.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import wording
from .plugin_api import CONDITION_KINDS, Finding, SettingSpec

if TYPE_CHECKING:
    from .screening import HealthHistory


class Rule(ABC):
    """What every rule is: a ``severity`` and an ``apply`` that answers the finding's message, or None. A list mixing
    ``block``/``warn`` rules and waiting rules is a ``list[Rule]`` (annotate ``RULES: list[Rule]`` if you like)."""

    severity: str

    @abstractmethod
    def apply(self, history: HealthHistory, settings: Mapping[str, Any]) -> str | None:
        """The finding's message when the rule fires for ``history`` and the clinic's ``settings``, else None."""


@dataclass(frozen=True)
class ConditionRule(Rule):
    """``severity`` when any of ``codes`` is active on the treatment's day (an undated entry counts as active)."""

    codes: tuple[str, ...]
    severity: str
    message: str

    def apply(self, history: HealthHistory, settings: Mapping[str, Any]) -> str | None:
        if history.active(*self.codes):
            return self.message
        return None


@dataclass(frozen=True)
class WaitingRule(Rule):
    """``severity`` while ``code`` was last on record fewer days ago than the setting ``setting`` (default ``days``).

    The days count from the entry's end date when it has one (a medication stopped, a course of radiotherapy
    finished). Without one, a procedure counts from its date (a filler, a peel: done that day), and an entry of any
    other kind (a medication, a condition, a state) is still going on, so it counts as today: a client still taking
    isotretinoin is within every wait after it (``HealthHistory.days_since``, by the code's registered kind). An entry
    without a date, or ending on or after the treatment's day, counts as today too: screening fails closed.

    ``label`` names one entry ("Isotretinoin", "Dermal filler") and ``kind`` is the code's registered kind, which
    decides how the setting and the finding say it (:mod:`clinicadmin.wording`: "an isotretinoin course ended").
    """

    code: str
    setting: str
    days: int
    severity: str
    label: str
    kind: str = "procedure"

    def __post_init__(self) -> None:
        if self.kind not in CONDITION_KINDS:
            raise ValueError(f"waiting rule {self.code!r}: kind must be one of {CONDITION_KINDS}")

    def apply(self, history: HealthHistory, settings: Mapping[str, Any]) -> str | None:
        wait = settings[self.setting]
        if not history.within(self.code, wait):
            return None
        return wording.waiting_message(
            self.label, self.kind, history.days_since(self.code), wait, ongoing=history.ongoing(self.code)
        )

    def setting_spec(self, modality_label: str) -> SettingSpec:
        return SettingSpec(
            self.setting,
            wording.waiting_label(modality_label, self.label, self.kind),
            self.days,
            help=wording.waiting_help(self.label, self.kind, self.severity),
            minimum=0,
            maximum=3650,
        )


def rule_code(prefix: str, rule: Rule) -> str:
    """The finding code of a rule: ``<prefix>.<code>``, or ``<prefix>.recent_<code>`` for a waiting period. A plugin's
    own code that carries the prefix already (``cupping.skin_fragility``) is not prefixed twice."""
    if isinstance(rule, WaitingRule):
        return f"{prefix}.recent_{rule.code.removeprefix(f'{prefix}.')}"
    if isinstance(rule, ConditionRule):
        return f"{prefix}.{rule.codes[0].removeprefix(f'{prefix}.')}"
    raise TypeError(f"{rule!r} is not a ConditionRule or WaitingRule")


def evaluate(prefix: str, rules: Iterable[Rule], history: HealthHistory, settings: Mapping[str, Any]) -> list[Finding]:
    """The findings of ``rules`` for a client's ``history`` (as of the treatment's day) and the clinic's settings."""
    findings = []
    for rule in rules:
        message = rule.apply(history, settings)
        if message is not None:
            findings.append(Finding(rule_code(prefix, rule), rule.severity, message))
    return findings


def waiting_settings(modality_label: str, rules: Iterable[Rule]) -> list[SettingSpec]:
    """The :class:`SettingSpec` of every waiting period among ``rules``."""
    return [rule.setting_spec(modality_label) for rule in rules if isinstance(rule, WaitingRule)]


def block(code: str, message: str, *more_codes: str) -> ConditionRule:
    """A rule that blocks while ``code`` (or any of ``more_codes``) is active."""
    return ConditionRule((code, *more_codes), "block", message)


def warn(code: str, message: str, *more_codes: str) -> ConditionRule:
    """A rule that warns while ``code`` (or any of ``more_codes``) is active."""
    return ConditionRule((code, *more_codes), "warn", message)


#: What a plugin may import from here (docs/plugin-hooks.md documents each; tests/test_plugin_reference.py holds it).
__all__ = ["Rule", "ConditionRule", "WaitingRule", "block", "warn", "evaluate", "waiting_settings", "rule_code"]

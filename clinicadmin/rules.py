"""Contraindication rules as data, for modality plugins: a condition on record, or a procedure within a waiting period.

A plugin lists its rules and calls :func:`evaluate`; waiting periods become clinic settings through
:func:`waiting_settings`, so the clinic's medical director decides the days. Rules a table cannot say (a point that is
forbidden in pregnancy, neck work with a thyroid condition) stay ordinary code in the plugin's check.
"""
from dataclasses import dataclass

from .plugin_api import Finding, SettingSpec


@dataclass(frozen=True)
class ConditionRule:
    """``severity`` when any of ``codes`` is active on the treatment's day (an undated entry counts as active)."""

    codes: tuple
    severity: str
    message: str

    def apply(self, history, settings):
        if history.active(*self.codes):
            return self.message
        return None


@dataclass(frozen=True)
class WaitingRule:
    """``severity`` while ``code`` was last on record fewer days ago than the setting ``setting`` (default ``days``).

    The days count from the entry's end date when it has one (a medication stopped, a course of radiotherapy
    finished), else from its date (a filler, a peel): ``HealthHistory.days_since``. An entry without a date, or one
    still going on on the treatment's day, counts as today: screening fails closed.
    """

    code: str
    setting: str
    days: int
    severity: str
    label: str

    def apply(self, history, settings):
        wait = settings[self.setting]
        if not history.within(self.code, wait):
            return None
        since = history.days_since(self.code)
        when = f"{since} days ago" if since else "today, still ongoing, or on an unrecorded date"
        return f"{self.label} {when}; the clinic waits {wait} days."

    def setting_spec(self, modality_label):
        return SettingSpec(self.setting, f"{modality_label}: wait after {self.label.lower()} (days)", self.days,
                           help=f"A {self.label.lower()} fewer days ago than this gives a {self.severity} finding.",
                           minimum=0, maximum=3650)


def rule_code(prefix, rule):
    """The finding code of a rule: ``<prefix>.<code>``, or ``<prefix>.recent_<code>`` for a waiting period."""
    if isinstance(rule, WaitingRule):
        return f"{prefix}.recent_{rule.code}"
    return f"{prefix}.{rule.codes[0]}"


def evaluate(prefix, rules, history, settings):
    """The findings of ``rules`` for a client's ``history`` (as of the treatment's day) and the clinic's settings."""
    findings = []
    for rule in rules:
        message = rule.apply(history, settings)
        if message is not None:
            findings.append(Finding(rule_code(prefix, rule), rule.severity, message))
    return findings


def waiting_settings(modality_label, rules):
    """The :class:`SettingSpec` of every waiting period among ``rules``."""
    return [rule.setting_spec(modality_label) for rule in rules if isinstance(rule, WaitingRule)]


def block(code, message, *more_codes):
    return ConditionRule((code, *more_codes), "block", message)


def warn(code, message, *more_codes):
    return ConditionRule((code, *more_codes), "warn", message)

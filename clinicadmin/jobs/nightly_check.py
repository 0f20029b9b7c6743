"""The nightly ``clinicadmin check``: the same checks as the command, kept with the job's run for the admin's home
page (when it ran, and any problem it found)."""

from ..integrity import run_checks
from .registry import JobResult

JOB = "nightly-check"


def run() -> JobResult:
    result = run_checks()
    if result.ok:
        summary = f"no problems ({result.lots} lots, {result.audit_rows} audit rows checked)"
    else:
        summary = f"{len(result.problems)} problem(s) found"
    if result.audit_warnings:
        summary += f"; {len(result.audit_warnings)} audit warning(s)"
    if result.open_count:
        summary += f"; {result.open_count} open stock exception(s)"
    return JobResult(summary, result.as_json())

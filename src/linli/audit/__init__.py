"""The built-area audit (缺什么、补什么): minutes, floor areas, coverage, recommendations."""

from linli.audit.run import AuditResult, run_audit

__all__ = ["AuditResult", "run_audit"]

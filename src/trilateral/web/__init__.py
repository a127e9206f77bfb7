"""Analyst console: server-rendered pages over hub, trace, screening and report (see docs/console.md)."""

from trilateral.web.app import install_console

__all__ = ["install_console"]

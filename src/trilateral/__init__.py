"""Trilateral: joint US-KR-JP response to DPRK cyber operations."""

__version__ = "0.1.0"

"""Laundering scenario simulator: DPRK-style thefts among ordinary users, in real chain formats, with ground truth.

Only the CLI imports this package; product code must not (it would be testing against itself).
"""

from trilateral.sim.generate import generate
from trilateral.sim.scenarios import SCENARIOS

__all__ = ["SCENARIOS", "generate"]

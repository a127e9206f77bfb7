"""The main job end to end, on the embedded default: the showcase behind `trilateral demo`.

Like the CLI, this package may use `trilateral.sim` (it needs a theft to trace); product packages may not.
"""

from trilateral.demo.run import DemoOptions, DemoSummary, run_demo

__all__ = ["DemoOptions", "DemoSummary", "run_demo"]

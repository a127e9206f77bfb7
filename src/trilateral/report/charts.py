"""Charts for print: matplotlib (Agg), Okabe-Ito colours, hatches and direct labels so colour is never alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

# Okabe & Ito (2008), the colour-blind safe qualitative palette.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
HATCHES = ["", "//", "..", "xx", "\\\\", "++", "oo", "--"]
DPI = 130

plt.rcParams.update({"font.size": 9, "axes.titlesize": 10, "font.family": "DejaVu Sans",
                     "axes.spines.top": False, "axes.spines.right": False})


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    from PIL import Image

    with Image.open(path) as image:  # opaque RGB: no alpha mask in the PDF, smaller files
        rgb = image.convert("RGB")
    rgb.save(path)
    return path


def bar_labels(ax: Any, bars: Any, texts: list[str]) -> None:
    for bar, text in zip(bars, texts, strict=True):
        if text:
            ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height() + bar.get_y()),
                        ha="center", va="bottom", fontsize=7, xytext=(0, 2), textcoords="offset points")


def incidents_trend(quarters: list[str], counts: list[int], usd_millions: list[float], path: Path) -> Path:
    """Incidents per quarter (bars, labelled) and USD stolen where known (second panel)."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7.2, 2.6))
    x = np.arange(len(quarters))
    bars = ax1.bar(x, counts, color=OKABE_ITO[0], edgecolor="black", linewidth=0.5)
    bar_labels(ax1, bars, [str(c) for c in counts])
    ax1.set_title("DPRK-attributed incidents per quarter")
    ax1.set_ylabel("incidents")
    bars = ax2.bar(x, usd_millions, color=OKABE_ITO[1], edgecolor="black", linewidth=0.5, hatch="//")
    bar_labels(ax2, bars, [f"{v:,.1f}" if v else "" for v in usd_millions])
    ax2.set_title("USD stolen where known (millions)")
    ax2.set_ylabel("USD millions")
    for ax in (ax1, ax2):
        ax.set_xticks(x, quarters, rotation=45, ha="right")
        ax.margins(y=0.18)
    fig.tight_layout()
    return _save(fig, path)


def _band(ax: Any, x0: float, x1: float, y0: tuple[float, float], y1: tuple[float, float], color: str,
          hatch: str) -> None:
    """A smooth band from span y0 at x0 to span y1 at x1 (lower, upper)."""
    t = np.linspace(0, 1, 60)
    s = t * t * (3 - 2 * t)
    xs = x0 + (x1 - x0) * t
    lower = y0[0] + (y1[0] - y0[0]) * s
    upper = y0[1] + (y1[1] - y0[1]) * s
    ax.fill_between(xs, lower, upper, color=color, alpha=0.45, hatch=hatch, edgecolor="white", linewidth=0)


def _stack(values: list[float], scale: float, gap: float) -> list[tuple[float, float]]:
    spans, y = [], 0.0
    for v in values:
        spans.append((y, y + v * scale))
        y += v * scale + gap
    return spans


def sankey(stolen: float, kinds: dict[str, float], offramps: dict[str, float], unit: str, path: Path,
           kind_labels: dict[str, str] | None = None) -> Path:
    """Theft -> kinds of step -> off-ramp category; labels carry the share of stolen value."""
    kind_labels = kind_labels or {}
    remainder = max(0.0, stolen - sum(offramps.values()))
    right = dict(offramps)
    if remainder > 0:
        right["not off-ramped"] = remainder
    mid_names, right_names = list(kinds), list(right)
    mid_vals, right_vals = [kinds[k] for k in mid_names], [right[k] for k in right_names]
    total = max(stolen, sum(mid_vals), sum(right_vals), 1e-12)
    gap = 0.06
    scale = 1.0 / total
    fig, ax = plt.subplots(figsize=(7.2, 3.6))
    left_span = (0.0, stolen * scale)
    mid_spans = _stack(mid_vals, scale, gap)
    right_spans = _stack(right_vals, scale, gap)
    mid_sum, right_sum = sum(mid_vals) or 1.0, sum(right_vals) or 1.0
    cursor = left_span[0]
    for i, span in enumerate(mid_spans):
        share = (span[1] - span[0]) * min(1.0, stolen / mid_sum)
        _band(ax, 0.06, 0.94, (cursor, cursor + share), span, OKABE_ITO[i % 8], HATCHES[i % 8])
        cursor += share
    right_cursor = [s[0] for s in right_spans]
    for i, span in enumerate(mid_spans):
        y = span[0]
        for j, rspan in enumerate(right_spans):
            out = (span[1] - span[0]) * right_vals[j] / right_sum
            into = (rspan[1] - rspan[0]) * mid_vals[i] / mid_sum
            _band(ax, 1.06, 1.94, (y, y + out), (right_cursor[j], right_cursor[j] + into),
                  OKABE_ITO[i % 8], HATCHES[i % 8])
            y += out
            right_cursor[j] += into
    for x, spans, names, vals in ((0.0, [left_span], ["Stolen"], [stolen]), (1.0, mid_spans, mid_names, mid_vals),
                                  (2.0, right_spans, right_names, right_vals)):
        for (lo, hi), name, val in zip(spans, names, vals, strict=True):
            ax.add_patch(plt.Rectangle((x - 0.06, lo), 0.12, max(hi - lo, 0.004), color="#333333"))
            shown = kind_labels.get(name, name) if x == 1.0 else name
            share = f"{100 * val / stolen:.1f} %" if stolen else ""
            if x == 1.0:
                ax.text(x, (lo + hi) / 2, f"{shown} {share}", ha="center", va="center", fontsize=7,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "#333333", "lw": 0.5})
            else:
                ha, dx = ("right", -0.08) if x == 0.0 else ("left", 0.08)
                ax.text(x + dx, (lo + hi) / 2, f"{shown}\n{share} of stolen", ha=ha, va="center", fontsize=7)
    top = max([1.0] + [s[1] for s in mid_spans + right_spans])
    ax.set_xlim(-0.6, 2.7)
    ax.set_ylim(top + 0.05, -0.1)
    ax.axis("off")
    ax.set_title(f"Where the money went (value in {unit})")
    for x, text in ((0, "theft"), (1, "laundering steps"), (2, "off-ramp category")):
        ax.text(x, -0.05, text, ha="center", va="bottom", fontsize=8, style="italic")
    return _save(fig, path)


def stacked_bars(categories: list[str], series: dict[str, list[int]], title: str, xlabel: str, path: Path,
                 horizontal: bool = True) -> Path:
    """Stacked counts per category; each series has its own colour and hatch, counts written in the bars."""
    fig, ax = plt.subplots(figsize=(7.2, max(1.8, 0.42 * len(categories) + 1.2)))
    pos = np.arange(len(categories))
    base = np.zeros(len(categories))
    for i, (name, values) in enumerate(series.items()):
        vals = np.array(values, dtype=float)
        if not vals.any():
            continue
        bars = ax.barh(pos, vals, left=base, color=OKABE_ITO[i % 8], hatch=HATCHES[i % 8], edgecolor="black",
                       linewidth=0.5, label=name)
        for bar, v in zip(bars, vals, strict=True):
            if v:
                ax.text(bar.get_x() + bar.get_width() / 2, bar.get_y() + bar.get_height() / 2, f"{int(v)}",
                        ha="center", va="center", fontsize=7,
                        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})
        base += vals
    ax.set_yticks(pos, categories)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=7, frameon=True)
    fig.tight_layout()
    return _save(fig, path)


def heatmap(rows: list[str], columns: list[str], values: list[list[int]], title: str, path: Path) -> Path:
    """Counts as a cividis heatmap (perceptually uniform, CVD-safe) with every cell's number written."""
    data = np.array(values, dtype=float)
    fig, ax = plt.subplots(figsize=(7.2, max(1.8, 0.3 * len(rows) + 1.2)))
    image = ax.imshow(data, cmap="cividis", aspect="auto", vmin=0, vmax=max(1.0, data.max()))
    ax.set_xticks(range(len(columns)), columns)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    threshold = data.max() / 2 if data.size else 0
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            ax.text(j, i, f"{int(data[i, j])}", ha="center", va="center", fontsize=7,
                    color="black" if data[i, j] > threshold else "white")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="incidents", shrink=0.8)
    ax.spines[:].set_visible(False)
    fig.tight_layout()
    return _save(fig, path)

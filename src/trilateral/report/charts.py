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


def sankey(stolen: float, kinds: dict[str, float], destinations: dict[str, float], unit: str, path: Path,
           kind_labels: dict[str, str] | None = None) -> Path:
    """Left: the stolen value split into where it ended (the bands partition it: they sum to 100 %).
    Right: the share of stolen value that passed each kind of step, one bar each on a 0-100 % axis;
    these overlap (value can pass a DEX and then a bridge), so they are bars, never bands."""
    kind_labels = kind_labels or {}
    names, vals = list(destinations), [destinations[k] for k in destinations]
    whole = max(stolen, 1e-12)
    if sum(vals) > whole * (1 + 1e-9):
        raise ValueError("destinations exceed the stolen value: the caller must split, not overlap")
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(7.2, 3.4), gridspec_kw={"width_ratios": [3, 2]})
    gap = 0.04
    spans = _stack(vals, 1.0 / whole, gap)
    cursor = 0.0
    for i, ((lo, hi), name, val) in enumerate(zip(spans, names, vals, strict=True)):
        _band(ax, 0.06, 0.94, (cursor, cursor + (hi - lo)), (lo, hi), OKABE_ITO[i % 8], HATCHES[i % 8])
        cursor += hi - lo
        ax.add_patch(plt.Rectangle((0.94, lo), 0.12, max(hi - lo, 0.004), color="#333333"))
        ax.text(1.1, (lo + hi) / 2, f"{name}\n{100 * val / whole:.1f} % of stolen", ha="left", va="center", fontsize=7)
    ax.add_patch(plt.Rectangle((-0.06, 0.0), 0.12, 1.0, color="#333333"))
    ax.text(-0.1, 0.5, "Stolen\n100 %", ha="right", va="center", fontsize=7)
    ax.set_xlim(-0.55, 2.0)
    ax.set_ylim(max(1.0, spans[-1][1] if spans else 1.0) + 0.05, -0.1)
    ax.axis("off")
    ax.set_title(f"Where the stolen value ended ({unit})")
    labels = [kind_labels.get(k, k) for k in kinds]
    shares = [min(100.0, 100 * kinds[k] / whole) for k in kinds]
    pos = np.arange(len(labels))
    bars = bx.barh(pos, shares, color=[OKABE_ITO[(i + 4) % 8] for i in range(len(labels))], edgecolor="black",
                   linewidth=0.5, hatch="//")
    bar_values = [f"{v:.1f} %" for v in shares]
    for bar, text in zip(bars, bar_values, strict=True):
        bx.text(min(bar.get_width() + 2, 70), bar.get_y() + bar.get_height() / 2, text, va="center", fontsize=7,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "#333333", "lw": 0.5})
    bx.set_yticks(pos, labels)
    bx.set_xlim(0, 100)
    bx.invert_yaxis()
    bx.set_xlabel("% of stolen value")
    bx.set_title("Passed each kind of step\n(overlapping: not additive)", fontsize=9)
    fig.tight_layout()
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

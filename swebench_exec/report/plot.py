"""Cost per solved task (log x) against solve rate (y, 95% Wilson interval), one point per model x arm x tier.

matplotlib is imported inside `plot_cost_vs_solve` (Agg backend, no display), so importing this module is cheap.
A log axis cannot show 0 or "unknown": such points sit in a shaded strip left of the scale, and models that solved
nothing (cost per solved task undefined) in a strip on the right, each strip labelled, so no point silently vanishes.
The Pareto front (no other point is at least as cheap and at least as good) is drawn per tier.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Iterable, Protocol

class SeriesLike(Protocol):
    tier: str
    model: str
    arm: str
    scored: int
    solved: int
    cost: float | None
    cost_per_solved: float | None
    solve_rate: float | None
    solve_ci: tuple[float, float] | None


@dataclass
class Point:
    tier: str
    model: str
    arm: str
    rate: float
    ci: tuple[float, float]
    x: float | None  # cost per solved task in USD; None when it cannot be placed on the log scale
    zone: str  # "scale", "free" ($0), "unknown" (cost unknown), "unsolved" (nothing solved)


def to_points(series: Iterable[SeriesLike]) -> tuple[list[Point], dict[str, list[str]]]:
    """Plot points, and per tier the series that cannot be plotted at all (no scored row)."""
    points: list[Point] = []
    skipped: dict[str, list[str]] = {}
    for s in series:
        if not s.scored:
            skipped.setdefault(s.tier, []).append(f"{s.model} · {s.arm}")
            continue
        if s.solved == 0:
            zone, x = "unsolved", None
        elif s.cost is None:
            zone, x = "unknown", None
        elif s.cost_per_solved is not None and s.cost_per_solved > 0:
            zone, x = "scale", s.cost_per_solved
        else:
            zone, x = "free", 0.0
        points.append(Point(s.tier, s.model, s.arm, s.solve_rate, s.solve_ci, x, zone))
    return points, skipped


def pareto_front(points: list[Point]) -> list[Point]:
    """Points no other point beats on both axes (cheaper or equal per solved task, and at least as high a solve rate).
    Only points with a known cost and at least one solve compete; returned cheapest first."""
    candidates = [p for p in points if p.zone in ("scale", "free")]
    candidates.sort(key=lambda p: (p.x, -p.rate))
    front, best = [], -1.0
    for p in candidates:
        if p.rate > best:
            front.append(p)
            best = p.rate
    return front


TIER_MARKERS = {"public": "o", "swebench": "D"}
ARM_FILLED = {"harnessed": True, "bare": False}


def _axis_span(points: list[Point]) -> tuple[float, float]:
    """log10 bounds of the real scale, at least two decades wide."""
    xs = [p.x for p in points if p.zone == "scale"]
    lo, hi = (math.log10(min(xs)), math.log10(max(xs))) if xs else (-3.0, -1.0)
    lo, hi = math.floor(lo - 0.3), math.ceil(hi + 0.3)
    if hi - lo < 2:
        hi = lo + 2
    return lo, hi


def _money(value: float) -> str:
    return f"${value:.{max(0, -math.floor(math.log10(value)))}f}" if value < 1 else f"${value:g}"


def _draw_tier(ax, tier: str, points: list[Point], colours: dict[str, object], skipped: list[str]) -> None:
    lo, hi = _axis_span(points)
    has_left = any(p.zone in ("free", "unknown") for p in points)
    has_right = any(p.zone == "unsolved" for p in points)
    left_x, right_x = 10 ** (lo - 0.6), 10 ** (hi + 0.6)
    xmin = 10 ** (lo - 1.1) if has_left else 10 ** (lo - 0.1)
    xmax = 10 ** (hi + 1.1) if has_right else 10 ** (hi + 0.1)
    ax.set_xscale("log")
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(-0.04, 1.1)
    ax.minorticks_off()
    ticks = [10.0**k for k in range(lo, hi + 1)]
    labels = [_money(t) for t in ticks]
    if has_left:
        ax.axvspan(xmin, 10 ** (lo - 0.2), color="0.92", zorder=0)
        ax.text(10 ** (lo - 0.6), 1.065, "cost $0 or\nunknown", ha="center", va="center", fontsize=7, color="0.3")
        ticks.insert(0, left_x)
        labels.insert(0, "$0 / ?")
    if has_right:
        ax.axvspan(10 ** (hi + 0.2), xmax, color="0.92", zorder=0)
        ax.text(10 ** (hi + 0.6), 1.065, "nothing\nsolved", ha="center", va="center", fontsize=7, color="0.3")
        ticks.append(right_x)
        labels.append("n/a")
    ax.set_xticks(ticks, labels)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
    ax.grid(True, which="major", color="0.85", linewidth=0.6)
    ax.set_xlabel("cost per solved task (USD, log scale)"
                  + (f"\nnot plotted (no scored rows): {', '.join(skipped)}" if skipped else ""))
    ax.set_ylabel("solve rate (rows with full score)")
    ax.set_title(f"tier: {tier}", fontsize=10)

    placed: dict[tuple[float, float], list[Point]] = {}
    # bare (hollow, large) under harnessed (filled, small): where both arms coincide, a ring with a dot
    for p in sorted(points, key=lambda p: ARM_FILLED.get(p.arm, True)):
        x = {"scale": p.x, "free": left_x, "unknown": left_x, "unsolved": right_x}[p.zone]
        colour = colours[p.model]
        filled = ARM_FILLED.get(p.arm, True)
        marker = "X" if p.zone == "unknown" else TIER_MARKERS.get(p.tier, "^")
        ax.errorbar([x], [p.rate], yerr=[[max(0.0, p.rate - p.ci[0])], [max(0.0, p.ci[1] - p.rate)]], fmt="none",
                    ecolor=colour, elinewidth=1.2, capsize=4, alpha=0.8, zorder=2)  # fmt: skip
        ax.scatter([x], [p.rate], s=45 if filled else 130, marker=marker, facecolors=colour if filled else "white",
                   edgecolors=colour, linewidths=1.8, zorder=4 if filled else 3)  # fmt: skip
        placed.setdefault((round(math.log10(x), 2), round(p.rate, 3)), []).append(p)
    for (lx, y), group in placed.items():
        lines = []
        for model in dict.fromkeys(p.model for p in group):
            arms = [p.arm + (" (cost ?)" if p.zone == "unknown" else " ($0)" if p.zone == "free" else "")
                    for p in group if p.model == model]  # fmt: skip
            lines.append(f"{model}: {', '.join(sorted(arms, key=lambda a: not a.startswith('harnessed')))}")
        right = group[0].zone == "unsolved"
        dx, ha = (-9, "right") if right else (9, "left")
        dy, va = (-5, "top") if y > 0.9 else (5, "bottom") if y < 0.1 else (0, "center")
        ax.annotate("\n".join(lines), (10**lx, y), xytext=(dx, dy), textcoords="offset points", fontsize=7.5,
                    va=va, ha=ha, zorder=5,
                    bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.8))  # fmt: skip

    front = pareto_front(points)
    if front:
        xs = [p.x if p.zone == "scale" else left_x for p in front]
        ys = [p.rate for p in front]
        # a staircase: the best solve rate reachable at or below each cost per solved task
        ax.step(xs + [10 ** (hi + 0.1)], ys + [ys[-1]], where="post", color="black", linestyle="--", linewidth=1,
                zorder=1)  # fmt: skip
        ax.scatter(xs, ys, s=260, facecolors="none", edgecolors="black", linewidths=0.8, zorder=1)


def _legend(fig, tiers: list[str], points: list[Point]) -> None:
    from matplotlib.lines import Line2D

    def proxy(label: str, **kw) -> Line2D:
        return Line2D([], [], linestyle="none", color="0.3", markersize=8, label=label, **kw)

    handles = [proxy("harnessed (filled)", marker="o", markerfacecolor="0.3"),
               proxy("bare (hollow)", marker="o", markerfacecolor="white", markeredgewidth=1.6)]  # fmt: skip
    handles += [proxy(f"{t} tier", marker=TIER_MARKERS.get(t, "^"), markerfacecolor="0.6") for t in tiers]
    if any(p.zone == "unknown" for p in points):
        handles.append(proxy("cost unknown", marker="X", markerfacecolor="0.6"))
    handles.append(Line2D([], [], color="black", linestyle="--", linewidth=1, marker="o", markersize=12,
                          markerfacecolor="none", markeredgewidth=0.8,
                          label="Pareto front (cheaper and better)"))  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8, frameon=False)


def plot_cost_vs_solve(series: Iterable[SeriesLike]) -> bytes:
    """The PNG bytes of the scatter: one panel per tier (tiers do not share a scale or a front)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"text.parse_math": False}):  # "$0" and model names are text, not TeX
        return _render(Figure, matplotlib.colormaps["tab10"].colors, *to_points(series))


def _render(Figure, palette, points: list[Point], skipped: dict[str, list[str]]) -> bytes:
    tiers = list(dict.fromkeys([p.tier for p in points] + list(skipped))) or ["(none)"]
    fig = Figure(figsize=(8.5 * len(tiers), 6.2), dpi=110, layout="constrained")
    axes = fig.subplots(1, len(tiers), squeeze=False)[0]
    colours = {m: palette[i % len(palette)] for i, m in enumerate(dict.fromkeys(p.model for p in points))}
    for ax, tier in zip(axes, tiers):
        tier_points = [p for p in points if p.tier == tier]
        if tier_points:
            _draw_tier(ax, tier, tier_points, colours, skipped.get(tier, []))
        else:
            ax.text(0.5, 0.5, f"tier: {tier}\nno scored rows to plot\n{', '.join(skipped.get(tier, []))}",
                    ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
    fig.suptitle("Cost per solved task vs solve rate (95% Wilson intervals)", fontsize=12)
    _legend(fig, [t for t in tiers if t != "(none)"], points)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()

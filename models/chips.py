"""Accelerator generations and the efficiency frontier.

Derived per chip g (DESIGN.md):

* ``pi_h100e_per_mw``  π_g = 1000 · h100e_per_unit / it_kw_per_unit  (H100e per IT-MW)
* ``kappa_usd_per_mw`` κ_g = 1000 · capex_usd_per_unit / it_kw_per_unit (USD per IT-MW)

Synthetic frontier generations extend the announced ones: for every year after
the newest announced generation's first year, a generation ``frontier-YYYY``
is added whose efficiency π is the best announced π times
``frontier_growth ** (YYYY − reference year)``. Its power per unit, capital
cost per IT-MW (κ) and life are the reference chip's, so its cost per H100e
falls at the same rate as efficiency rises — the stated cost curve: from the
reference chip on, the price of accelerator *power* (USD per IT-MW) is held
flat while throughput per watt grows. (In the announced table κ has risen:
40.5 M USD per IT-MW for H100, 41.6 M for GB200, 57.7 M for Rubin, 69.3 M for
Rubin Ultra — 1.7× while π rose 5.4×; holding it at Rubin Ultra's 69.3 M is
the assumption.) Each synthetic generation is sold for as many years as the
reference chip.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from grids.tables import Column, TableSchema, read_table, row_error

CHIPS = TableSchema(
    name="chips",
    description="Accelerator generations: when they can be bought, power, throughput, cost.",
    key=("chip",),
    columns=(
        Column("chip", "str", "-", "chip id"),
        Column("vendor", "str", "-", "vendor"),
        Column("first_year", "int", "year", "first year it can be bought", minimum=1900,
               maximum=2300),
        Column("last_year", "int", "year", "last year it can be bought new", minimum=1900,
               maximum=2300),
        Column("it_kw_per_unit", "float", "kW", "system IT power per accelerator "
               "(accelerator, host, network)", minimum=0, exclusive_minimum=True),
        Column("h100e_per_unit", "float", "H100e", "dense-BF16 throughput in H100 equivalents",
               minimum=0, exclusive_minimum=True),
        Column("capex_usd_per_unit", "float", "USD", "installed system cost per accelerator",
               minimum=0),
        Column("life_years", "int", "years", "years in service", minimum=1, maximum=50),
    ),
)

DATA = resources.files("models") / "data"


def default_chips_path() -> Path:
    return Path(str(DATA / "chips.csv"))


def load_chips(path: str | Path | None = None) -> pd.DataFrame:
    """The chips table, validated; indexed by ``chip``.

    Examples
    --------
    >>> chips = load_chips()
    >>> bool(chips.loc["h100", "h100e_per_unit"] == 1.0)
    True
    """
    path = Path(path) if path is not None else default_chips_path()
    df = read_table(path, CHIPS)
    bad = df["last_year"] < df["first_year"]
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise row_error(df, i, "last_year",
                        f"expected last_year >= first_year ({df.at[i, 'first_year']}), "
                        f"got {df.at[i, 'last_year']}", path)
    df.attrs["path"] = str(path)
    return df.set_index("chip", drop=False)


def with_derived(chips: pd.DataFrame) -> pd.DataFrame:
    """Add π (H100e per IT-MW) and κ (USD per IT-MW) columns.

    Examples
    --------
    >>> c = pd.DataFrame({"it_kw_per_unit": [2.0], "h100e_per_unit": [3.0],
    ...                   "capex_usd_per_unit": [50_000.0]})
    >>> d = with_derived(c)
    >>> float(d["pi_h100e_per_mw"][0]), float(d["kappa_usd_per_mw"][0])
    (1500.0, 25000000.0)
    """
    out = chips.copy()
    out["pi_h100e_per_mw"] = 1000.0 * out["h100e_per_unit"] / out["it_kw_per_unit"]
    out["kappa_usd_per_mw"] = 1000.0 * out["capex_usd_per_unit"] / out["it_kw_per_unit"]
    return out


def frontier_reference(chips: pd.DataFrame) -> str:
    """The announced chip the frontier extrapolates from: the most efficient
    (highest π); ties go to the newest, then the first listed."""
    d = with_derived(chips)
    order = d.sort_values(["pi_h100e_per_mw", "first_year"], ascending=False, kind="stable")
    return str(order.index[0])


def with_frontier(
    chips: pd.DataFrame, frontier_growth: float | None, last_year: int
) -> pd.DataFrame:
    """Announced chips plus synthetic frontier generations up to ``last_year``.

    Parameters
    ----------
    chips : validated chips table indexed by chip.
    frontier_growth : yearly efficiency multiplier of the frontier (1.35 =
        +35 %/yr); ``None`` adds no synthetic generations.
    last_year : last model year.

    Returns
    -------
    DataFrame indexed by chip with the derived columns π and κ and a boolean
    ``synthetic`` column.

    Examples
    --------
    >>> c = pd.DataFrame({"chip": ["a"], "vendor": ["v"], "first_year": [2026],
    ...     "last_year": [2027], "it_kw_per_unit": [1.0], "h100e_per_unit": [1.0],
    ...     "capex_usd_per_unit": [1000.0], "life_years": [5]}).set_index("chip", drop=False)
    >>> f = with_frontier(c, 1.5, 2028)
    >>> list(f.index), [round(x) for x in f["pi_h100e_per_mw"]]
    (['a', 'frontier-2027', 'frontier-2028'], [1000, 1500, 2250])
    """
    base = with_derived(chips)
    base["synthetic"] = False
    if frontier_growth is None:
        return base
    ref = base.loc[frontier_reference(chips)]
    start = int(base["first_year"].max())
    years = range(start + 1, last_year + 1)
    if not len(years):
        return base
    window = int(ref["last_year"] - ref["first_year"])
    rows = []
    for y in years:
        growth = frontier_growth ** (y - int(ref["first_year"]))
        rows.append({
            "chip": f"frontier-{y}",
            "vendor": "frontier",
            "first_year": y,
            "last_year": y + window,
            "it_kw_per_unit": float(ref["it_kw_per_unit"]),
            "h100e_per_unit": float(ref["h100e_per_unit"]) * growth,
            "capex_usd_per_unit": float(ref["capex_usd_per_unit"]),
            "life_years": int(ref["life_years"]),
        })
    synth = with_derived(pd.DataFrame(rows).set_index("chip", drop=False))
    synth["synthetic"] = True
    keep = [c for c in base.columns if c in synth.columns]
    return pd.concat([base[keep], synth[keep]])


def spread_labels(y: np.ndarray, gap: float) -> np.ndarray:
    """Label positions for sorted values ``y``: each at least ``gap`` above the one below,
    the column centred on the values' own centre.

    Examples
    --------
    >>> spread_labels(np.array([0.0, 0.01, 1.0]), 0.1).round(3).tolist()
    [-0.045, 0.055, 1.0]
    """
    out = np.array(y, dtype=float)
    for _ in range(len(out)):
        moved = False
        for i in range(1, len(out)):
            if out[i] - out[i - 1] < gap - 1e-12:
                mid = (out[i] + out[i - 1]) / 2
                # push the pair apart, then let the whole cluster recentre next pass
                lo = i - 1
                while lo > 0 and out[lo] - out[lo - 1] < gap + 1e-12:
                    lo -= 1
                hi = i
                while hi < len(out) - 1 and out[hi + 1] - out[hi] < gap + 1e-12:
                    hi += 1
                centre = (y[lo:hi + 1].mean() if hi > lo else mid)
                n = hi - lo + 1
                out[lo:hi + 1] = centre + (np.arange(n) - (n - 1) / 2) * gap
                moved = True
        if not moved:
            break
    return out


def plot_frontier(chips: pd.DataFrame, years: list[int], path: str | Path, title: str = "") -> None:
    """Draw :func:`frontier_figure` into ``path``."""
    import matplotlib.pyplot as plt

    fig = frontier_figure(chips, years, title)
    fig.savefig(path)
    plt.close(fig)


def frontier_figure(chips: pd.DataFrame, years: list[int], title: str = "") -> Any:
    """Efficiency (H100e per IT-MW, log scale) of every generation by first year,
    with the frontier (best on sale each year) as a step line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(11, 5.5), dpi=110)
    real = chips[~chips.get("synthetic", False)]
    synth = chips[chips.get("synthetic", False)]
    for vendor, grp in real.groupby("vendor"):
        ax.scatter(grp["first_year"], grp["pi_h100e_per_mw"], label=str(vendor), zorder=3)
    label_years = set(real["first_year"].astype(int))
    for year, grp in real.groupby("first_year"):
        # one column of labels per year, spread apart vertically (log scale) so none overlap,
        # on the left when the next year has points of its own
        grp = grp.sort_values("pi_h100e_per_mw")
        y_at = spread_labels(np.log10(grp["pi_h100e_per_mw"].to_numpy(float)), 0.11)
        left = int(year) + 1 in label_years
        for (g, row), ly in zip(grp.iterrows(), y_at):
            ax.annotate(str(g), (row["first_year"], row["pi_h100e_per_mw"]), fontsize=7.5,
                        xytext=(row["first_year"] + (-0.18 if left else 0.18), 10 ** ly),
                        textcoords="data", ha="right" if left else "left", va="center",
                        arrowprops={"arrowstyle": "-", "color": "0.6", "lw": 0.6},
                        bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none",
                              "alpha": 0.85}, zorder=4)
    if len(synth):
        ax.scatter(synth["first_year"], synth["pi_h100e_per_mw"], marker="x", color="grey",
                   label="synthetic frontier", zorder=3)
    span = range(int(chips["first_year"].min()), max(years) + 1)
    best = [chips.loc[(chips["first_year"] <= y) & (chips["last_year"] >= y),
                      "pi_h100e_per_mw"].max() for y in span]
    ax.step(list(span), best, where="post", color="black", lw=1, label="frontier on sale")
    ax.set_yscale("log")
    ax.set_xlabel("first year on sale")
    ax.set_ylabel("H100e per IT-MW")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(title or "accelerator efficiency")
    fig.tight_layout()
    return fig

"""Files of ``dcplan headroom``: the CSV table and the PNG of curtailment against added load.

Neither ever replaces a user's file: an existing CSV is replaced only when its first line is
the :data:`CSV_MARKER` comment dcplan writes, an existing PNG only when its ``Software`` text
chunk is :data:`PNG_SOFTWARE`. Both targets are checked before anything is written, and each
file is written to a temporary sibling and renamed into place when complete.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from grids.tables import InputError
from planner.inputs.headroom import RegionCurve
from planner.outputs.fileio import atomic_file

#: First line of every headroom CSV (a ``#`` comment: ``pandas.read_csv(comment="#")``).
CSV_MARKER = "# written by dcplan headroom"
#: ``Software`` text chunk of every headroom PNG.
PNG_SOFTWARE = "dcplan headroom"


def png_path_for(csv_path: str | Path) -> Path:
    """The PNG written beside a headroom CSV: same name, ``.png``."""
    return Path(csv_path).with_suffix(".png")


def check_output_file(path: str | Path) -> None:
    """Raise :class:`InputError` unless ``path`` is new or a file dcplan headroom wrote."""
    path = Path(path)
    if not path.exists():
        return
    if not path.is_file():
        raise InputError("the output path exists and is not a file (expected a new file "
                         "name or one dcplan headroom wrote)", file=path)
    if not _written_by_us(path):
        raise InputError("the output file exists and was not written by dcplan headroom; "
                         "refusing to replace it (choose another -o, or move it)", file=path)


def _written_by_us(path: Path) -> bool:
    if path.suffix.lower() == ".png":
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as im:
                return im.info.get("Software") == PNG_SOFTWARE
        except (UnidentifiedImageError, OSError):
            return False
    try:
        with open(path, encoding="utf-8") as f:
            return f.readline().startswith(CSV_MARKER)
    except (UnicodeDecodeError, OSError):
        return False


def write_csv(table: pd.DataFrame, path: str | Path, provenance: str) -> Path:
    """Write the headroom table after a one-line marker comment carrying ``provenance``."""
    path = Path(path)
    check_output_file(path)
    with atomic_file(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(f"{CSV_MARKER}; {provenance}".replace("\n", " ") + "\n")
            table.to_csv(f, index=False, float_format="%.6g", lineterminator="\n")
    return path


def _mw_label(mw: float) -> str:
    """``13442.4`` → ``"13.4 GW"``; ``212.6`` → ``"213 MW"``."""
    return f"{mw / 1e3:,.1f} GW" if mw >= 1000 else f"{mw:,.0f} MW"


def plot_curves(curves: dict[str, RegionCurve], table: pd.DataFrame, path: str | Path,
                title: str) -> Path:
    """Small multiples, one panel per region: curtailment rate (%, log scale) against the
    added load (GW), with the solved headroom at each rate marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    check_output_file(path)
    names = list(curves)
    ncol = 4 if len(names) > 6 else min(3, len(names))
    nrow = -(-len(names) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(max(3.4 * ncol, 6.0), 2.7 * nrow + 0.9),
                             squeeze=False, layout="constrained")
    rates = sorted(table["curtailment_pct"].unique())
    for ax, name in zip(axes.flat, names):
        c = curves[name]
        rows = table[table["region"] == name].sort_values("curtailment_pct")
        top = max(float(rows["headroom_mw"].max()) * 1.25, 0.05 * c.peak_load_mw, 1.0)
        d = np.linspace(0.0, top, 400)[1:]
        ax.plot(d / 1e3, 100 * c.rate(d), color="tab:blue", lw=1.4)
        ax.scatter(rows["headroom_mw"] / 1e3, rows["curtailment_pct"], color="tab:red", s=14,
                   zorder=3)
        for _, r in rows.iterrows():
            ax.annotate(_mw_label(r["headroom_mw"]), (r["headroom_mw"] / 1e3,
                        r["curtailment_pct"]), textcoords="offset points", xytext=(-4, 4),
                        ha="right", fontsize=7)
        ax.set_yscale("log")
        ax.set_ylim(min(rates) / 4, max(max(rates) * 3, 10))
        ax.set_xlim(0, top / 1e3)
        ax.set_title(f"{name} (peak {_mw_label(c.peak_load_mw)})", fontsize=9)
        ax.grid(True, which="both", alpha=0.25)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    fig.supxlabel("constant added load, GW")
    fig.supylabel("curtailment, % of added energy")
    fig.suptitle(title, fontsize=10)
    with atomic_file(path) as tmp:
        fig.savefig(tmp, dpi=110, metadata={"Software": PNG_SOFTWARE})
    plt.close(fig)
    return path

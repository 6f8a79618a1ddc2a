r"""A linopy twin of the capacity LP, for benchmarking build + hand-off time.

:func:`build_linopy` formulates exactly the LP that
:func:`models.capacity_matrix.build_matrix` assembles with NumPy and
:func:`models.capacity.build_model` builds with Pyomo: the same variables
(with the same "allowed when" masks), bounds, constraints, coefficients and
internal scaling (objective in million USD, :data:`~models.capacity.USD_SCALE`;
compute in thousand H100e, :data:`~models.capacity.COMPUTE_SCALE`). It is
vectorized with xarray over the dims ``site``, ``year``, ``chip``, ``vintage``
(the purchase year of a chip) and ``block`` (demand-curve block); nothing
loops over sites. Variables and constraints are added in the matrix route's
order, with dims ordered like its index tuples, so HiGHS receives the same LP
column for column and row for row and the solve times are comparable.

Hand-off (:func:`linopy_to_highs`): ``Model.to_highspy()`` — linopy's direct
in-memory API (``io_api="direct"``; no LP/MPS file), which builds
``Model.matrices`` (CSR) and calls ``Highs.addVars`` / ``changeColsCost`` /
``addRows``. Names are not passed (``set_names=False``, linopy's default),
which is the fastest setting; our matrix route does not pass names either.

Usage, from the repository root::

    python -m bench.linopy_twin [SCENARIO.yaml] [--elastic] [--must-run] [--sparse]
                               [--warmup] [--no-solve] [--no-matrix]

prints one JSON line: linopy's ``build_seconds``, ``handoff_seconds``,
``solve_seconds``, size and ``objective`` (million USD), the same figures for
the matrix route (``matrix_*``), ``matrix_over_linopy_build_handoff`` (< 1:
ours is faster), and asserts that the two objectives agree to 1e-6 relative.
``--elastic`` swaps in an elastic demand curve (the blocks of
``tests/test_scale.py``), ``--must-run`` sets ``allow_idle = False``,
``--sparse`` builds with ``linopy.Model(sparse=True)``, ``--warmup`` times a
second build (first-call costs excluded), ``--no-solve`` times build and
hand-off only. The HiGHS banner goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import highspy
import linopy
import numpy as np
import pandas as pd
import xarray as xr

from models.capacity import (
    COMPUTE_SCALE,
    HOURS_PER_YEAR,
    USD_SCALE,
    CapacityInputs,
    annuity_pv_factor,
    discount_factors,
)

REL_TOL = 1e-6


def _da(values: Any, dims: tuple[str, ...], coords: dict[str, Any]) -> xr.DataArray:
    return xr.DataArray(np.asarray(values), dims=dims,
                        coords={k: coords[k] for k in dims})


def build_linopy(d: CapacityInputs, *, sparse: bool = False) -> linopy.Model:
    """The capacity LP of ``d`` as a :class:`linopy.Model` (v1 arithmetic semantics).

    Variables ``Build, Grid, Onsite, IT, Fleet, GridLoad, OnsiteLoad,
    Unserved`` and constraints ``Fleet_Installed, Facility_Load,
    Facility_Limit, Load_Split, Grid_Capacity, Onsite_Capacity, Grid_Headroom,
    Compute_Demand`` as in :mod:`models.capacity`. ``sparse=True`` builds on
    linopy's CSR path (``Model(sparse=True)``: constraints frozen to CSR as
    they are added); the LP is the same.
    """
    with linopy.options:
        linopy.options["semantics"] = "v1"
        return _build(d, sparse)


def _build(d: CapacityInputs, sparse: bool) -> linopy.Model:
    years = np.asarray(d.years, dtype=np.int64)
    y0 = int(years[0])
    rate = d.discount_rate
    k = 1.0 / USD_SCALE
    sites = d.sites.index.to_numpy()
    region_ids = d.regions.index.to_numpy()
    site_region = d.sites["region"].to_numpy()

    # chips with at least one purchase year inside the horizon (the Pyomo CHIPS set)
    first = d.chips["first_year"].to_numpy(dtype=np.int64)
    last = d.chips["last_year"].to_numpy(dtype=np.int64)
    buy = (years[None, :] >= first[:, None]) & (years[None, :] <= last[:, None])  # G × Y
    used = buy.any(axis=1)
    chips = d.chips.index.to_numpy()[used]
    buy = buy[used]
    life = d.chips["life_years"].to_numpy(dtype=np.int64)[used]
    kappa = d.chips["kappa_usd_per_mw"].to_numpy(dtype=float)[used]
    pi_k = d.chips["pi_h100e_per_mw"].to_numpy(dtype=float)[used] / COMPUTE_SCALE

    co = {"site": sites, "year": years, "chip": chips, "vintage": years,
          "region": region_ids}

    # vintage t of chip g is in service in year y: bought in t and y − life_g < t ≤ y
    age = years[:, None] - years[None, :]  # Y (year) × Y (vintage)
    in_service = (buy[:, None, :] & (age[None, :, :] >= 0)
                  & (age[None, :, :] < life[:, None, None]))  # G × Y × Y
    vintage_w = _da(in_service.astype(float), ("chip", "year", "vintage"), co)
    fleet_ok = _da(in_service.any(axis=2).T, ("year", "chip"), co)  # chips_in[y]
    buy_ok = _da(buy, ("chip", "year"), co)

    # ---- "allowed when" masks ---------------------------------------------------------
    lead = d.regions["interconnect_lead_years"].reindex(site_region).to_numpy(dtype=np.int64)
    grid_ok = _da(years[None, :] >= (y0 + lead)[:, None], ("site", "year"), co)
    onsite_allowed = d.sites["onsite_allowed"].to_numpy(dtype=bool)
    onsite_ok = _da(onsite_allowed[:, None] & (years[None, :] >= y0 + d.onsite_lead_years),
                    ("site", "year"), co)

    # ---- demand blocks: a (year, block) grid, masked where a block does not exist ----
    blocks = d.blocks()
    blk = blocks.assign(year=blocks["year"].astype(np.int64),
                        block=blocks["block"].astype(np.int64))
    if blk.duplicated(["year", "block"]).any():
        raise ValueError("demand blocks repeat a (year, block) pair")
    if not blk["year"].isin(years).all():
        raise ValueError("demand blocks name a year outside the model years")
    block_ids = np.sort(blk["block"].unique())
    co["block"] = block_ids
    grid_yb = pd.MultiIndex.from_product([years, block_ids], names=["year", "block"])
    wide = blk.set_index(["year", "block"]).reindex(grid_yb)
    shape_yb = (len(years), len(block_ids))
    block_ok = _da(wide["size_h100e"].notna().to_numpy().reshape(shape_yb),
                   ("year", "block"), co)
    wide_size = wide["size_h100e"].fillna(0.0).to_numpy(dtype=float).reshape(shape_yb)
    size_k = wide_size / COMPUTE_SCALE
    value = wide["value_usd_per_h100e_year"].fillna(0.0).to_numpy(dtype=float) \
        .reshape(shape_yb)
    unserved_ub = size_k if d.demand_blocks is not None else np.full(shape_yb, np.inf)

    m = linopy.Model(sparse=sparse)

    # ---- variables (all ≥ 0), in the matrix route's column order ------------------
    def var(name: str, dims: tuple[str, ...], mask: xr.DataArray | None = None,
            upper: Any = np.inf) -> linopy.Variable:
        return m.add_variables(lower=0.0, upper=upper, coords=[(k_, co[k_]) for k_ in dims],
                               name=name, mask=mask)

    build = var("Build", ("site", "year"))
    grid = var("Grid", ("site", "year"), grid_ok)
    onsite = var("Onsite", ("site", "year"), onsite_ok)
    it = var("IT", ("site", "chip", "year"), buy_ok)
    fleet = var("Fleet", ("site", "year", "chip"), fleet_ok)
    gridload = var("GridLoad", ("site", "year"))
    onsiteload = var("OnsiteLoad", ("site", "year"))
    unserved = var("Unserved", ("year", "block"), block_ok,
                   upper=_da(unserved_ub, ("year", "block"), co))

    # ---- constraints, in the matrix route's row order ------------------------------
    pue = _da(d.sites["pue"].to_numpy(dtype=float), ("site",), co)
    existing = _da(d.sites["existing_mw"].to_numpy(dtype=float), ("site",), co)
    max_mw = _da(d.sites["max_mw"].to_numpy(dtype=float), ("site",), co)
    queued = d.sites["queued_mw"].to_numpy(dtype=float)
    qyear = d.sites["queue_year"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):  # NaN queue year: never energized
        queued_on = (queued > 0)[:, None] & (years[None, :] >= qyear[:, None])
    grid_rhs = existing + _da(np.where(queued_on, queued[:, None], 0.0), ("site", "year"), co)

    # (0) U[s,g,y] ≤ Σ it[s,g,τ] over y − life_g < τ ≤ y  (= with allow_idle off)
    installed = (it.rename(year="vintage") * vintage_w).sum("vintage")
    m.add_constraints(fleet - installed, "<=" if d.allow_idle else "==", 0.0,
                      name="Fleet_Installed", mask=fleet_ok)
    fleet_mw = fleet.sum("chip")  # Σ_g U[s,g,y]
    built = build.cumsum("year")  # Σ_{τ≤y} build[s,τ]
    # (1a) PUE_s · Σ_g U[s,g,y] − Σ_{τ≤y} build[s,τ] ≤ existing_mw_s
    m.add_constraints(pue * fleet_mw - built, "<=", existing, name="Facility_Load")
    # (1b) Σ_{τ≤y} build[s,τ] ≤ max_mw_s − existing_mw_s
    m.add_constraints(built, "<=", max_mw - existing, name="Facility_Limit")
    # (2) gridload + onsiteload − PUE_s · Σ_g U[s,g,y] = 0
    m.add_constraints(gridload + onsiteload - pue * fleet_mw, "==", 0.0, name="Load_Split")
    # (3) gridload[s,y] − Σ_{τ≤y} grid[s,τ] ≤ existing_mw_s + queued_mw_s·[y ≥ queue_year_s]
    m.add_constraints(gridload - grid.cumsum("year"), "<=", grid_rhs, name="Grid_Capacity")
    # (4) onsiteload[s,y] − Σ onsite[s,τ] over y − onsite life < τ ≤ y ≤ 0
    window = min(int(d.onsite_life_years), len(years))
    m.add_constraints(onsiteload - onsite.rolling(year=window).sum(), "<=", 0.0,
                      name="Onsite_Capacity")
    # (5) Σ_{s∈r} grid[s,y] ≤ new_load_limit_mw_per_year(r), where r has a limit and
    #     at least one grid connection is allowed in (r, y)
    limit = d.regions["new_load_limit_mw_per_year"].to_numpy(dtype=float)
    limited = ~np.isnan(limit)
    if limited.any():
        lim_regions = region_ids[limited][np.isin(region_ids[limited], site_region)]
        if len(lim_regions):
            group = xr.DataArray(site_region, dims="site", coords={"site": sites},
                                 name="region")
            g = grid.groupby(group).sum().sel(region=lim_regions)
            has_grid = grid_ok.groupby(group).any().sel(region=lim_regions)
            rhs = xr.DataArray(limit[limited][np.isin(region_ids[limited], site_region)],
                               dims="region", coords={"region": lim_regions})
            m.add_constraints(g, "<=", rhs, name="Grid_Headroom", mask=has_grid)
    # (6) Σ_{s,g} π_g · U[s,g,y] + Σ_b unserved[y,b] ≥ Σ_b demand[y,b]  (thousand H100e)
    demand_k = _da(wide_size.sum(axis=1) / COMPUTE_SCALE, ("year",), co)
    served = (fleet * _da(pi_k, ("chip",), co)).sum(["site", "chip"])
    m.add_constraints(served + unserved.sum("block"), ">=", demand_k, name="Compute_Demand")

    # ---- objective: present value, million USD ---------------------------------------
    yl = list(d.years)
    delta = discount_factors(yl, rate).to_numpy()
    ann_fac = np.array([annuity_pv_factor(int(t), d.facility_life_years, yl, rate)
                        for t in years])
    ann_on = np.array([annuity_pv_factor(int(t), d.onsite_life_years, yl, rate)
                       for t in years])
    ann_chip = {gl: np.array([annuity_pv_factor(int(t), gl, yl, rate) for t in years])
                for gl in set(life.tolist())}
    chip_factor = np.stack([ann_chip[gl] for gl in life.tolist()]) if len(life) \
        else np.zeros((0, len(years)))
    capex = d.sites["build_capex_usd_per_mw"].to_numpy(dtype=float)
    gcapex = d.regions["interconnect_capex_usd_per_mw"].reindex(site_region) \
        .to_numpy(dtype=float)
    uh = d.utilization * HOURS_PER_YEAR
    energy = d.energy_price_usd_per_mwh.loc[list(sites), yl].to_numpy(dtype=float)
    cap = d.capacity_price_usd_per_mw_year.reindex(site_region)[yl].to_numpy(dtype=float)

    c_build = _da(k * (capex[:, None] * ann_fac[None, :]), ("site", "year"), co)
    c_grid = _da(k * gcapex[:, None] * ann_fac[None, :], ("site", "year"), co)
    c_onsite = _da(k * d.onsite_capex_usd_per_mw * ann_on, ("year",), co)
    c_it = _da(k * (kappa[:, None] * chip_factor), ("chip", "year"), co)
    c_gl = _da(k * (delta[None, :] * (uh * energy + cap)), ("site", "year"), co)
    c_ol = _da(k * (delta * uh * d.onsite_fuel_usd_per_mwh), ("year",), co)
    c_un = _da((COMPUTE_SCALE / USD_SCALE) * delta[:, None] * value, ("year", "block"), co)
    m.add_objective(
        (build * c_build).sum() + (grid * c_grid).sum() + (onsite * c_onsite).sum()
        + (it * c_it).sum() + (gridload * c_gl).sum() + (onsiteload * c_ol).sum()
        + (unserved * c_un).sum(),
        sense="min",
    )
    return m


def linopy_to_highs(m: linopy.Model) -> highspy.Highs:
    """Hand ``m`` to HiGHS in memory: ``Model.to_highspy()`` (linopy's direct API).

    This is linopy's fastest hand-off: it assembles ``m.matrices`` (CSR) and
    passes it with ``Highs.addVars``/``changeColsCost``/``addRows``; no file is
    written and no names are set. The HiGHS log is switched off.
    """
    h = m.to_highspy()
    h.setOptionValue("output_flag", False)
    return h


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send file descriptor 1 to 2: HiGHS prints its banner to stdout from C."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _matrix_route(d: CapacityInputs, *, solve: bool) -> dict[str, Any]:
    """Our matrix route on the same inputs; the same figures, prefixed ``matrix_``."""
    from models.capacity_matrix import build_matrix
    from planner.optimize.highs import solve_standard_form

    t0 = time.perf_counter()
    lp = build_matrix(d)
    t1 = time.perf_counter()
    out: dict[str, Any] = {"matrix_build_seconds": t1 - t0}
    if solve:
        sol = solve_standard_form(lp)
        out.update(matrix_handoff_seconds=sol.handoff_seconds,
                   matrix_solve_seconds=sol.solve_seconds, matrix_objective=sol.objective,
                   matrix_simplex_iterations=sol.info.get("simplex_iterations"))
    else:
        from planner.optimize.highs import _highs_with  # the hand-off inside solve_standard_form

        t1 = time.perf_counter()
        _highs_with(lp.c, lp.A, lp.col_lower, lp.col_upper, lp.row_lower, lp.row_upper,
                    lp.offset, time_limit_seconds=None, threads=None, verbose=False)
        out["matrix_handoff_seconds"] = time.perf_counter() - t1
    out.update(matrix_variables=lp.A.shape[1], matrix_constraints=lp.A.shape[0],
               matrix_nonzeros=int(lp.A.nnz))
    return out


def run(d: CapacityInputs, *, matrix: bool = True, solve: bool = True, sparse: bool = False,
        warmup: bool = False) -> dict[str, Any]:
    """Time linopy's build and hand-off, solve, and compare with the matrix route.

    ``warmup`` first builds and hands off both routes once, untimed, so that
    first-call costs (lazy imports inside xarray/linopy) are not timed.
    """
    if warmup:
        with _stdout_to_stderr():
            linopy_to_highs(build_linopy(d, sparse=sparse))
        if matrix:
            from models.capacity_matrix import build_matrix

            build_matrix(d)
    t0 = time.perf_counter()
    m = build_linopy(d, sparse=sparse)
    with _stdout_to_stderr():  # keep stdout to the one JSON line; outside the timing
        t1 = time.perf_counter()
        h = linopy_to_highs(m)
        t2 = time.perf_counter()
    out: dict[str, Any] = {
        "build_seconds": t1 - t0,
        "handoff_seconds": t2 - t1,
        "variables": int(h.getNumCol()),
        "constraints": int(h.getNumRow()),
        "nonzeros": int(h.getNumNz()),
    }
    if solve:
        h.run()
        out["solve_seconds"] = time.perf_counter() - t2
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError("HiGHS did not solve the linopy model: "
                               + h.modelStatusToString(status))
        info = h.getInfo()
        out.update(objective=float(info.objective_function_value),
                   simplex_iterations=int(info.simplex_iteration_count))
    out.update(sites=len(d.sites), allow_idle=bool(d.allow_idle),
               elastic=d.demand_blocks is not None, sparse=sparse, warmup=warmup,
               linopy_version=linopy.__version__)
    if matrix:
        out.update(_matrix_route(d, solve=solve))
        out["matrix_over_linopy_build_handoff"] = (
            (out["matrix_build_seconds"] + out["matrix_handoff_seconds"])
            / (out["build_seconds"] + out["handoff_seconds"]))
    if matrix and solve:
        a, b = out["objective"], out["matrix_objective"]
        rel = abs(a - b) / max(abs(a), abs(b), 1e-12)
        out["objective_rel_diff"] = rel
        assert rel <= REL_TOL, (
            f"linopy twin and matrix route disagree: objective {a!r} vs {b!r} million USD "
            f"(relative difference {rel:.3g} > {REL_TOL:g})")
    return out


def main(argv: list[str] | None = None) -> int:
    import planner
    from models.demand import elastic_blocks

    p = argparse.ArgumentParser(prog="python -m bench.linopy_twin",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("scenario", nargs="?", default=None,
                   help="scenario YAML (default: the bundled us-base)")
    p.add_argument("--elastic", action="store_true",
                   help="elastic demand: elastic_blocks(demand, 1.3, 8000, 20586, 800, 6)")
    p.add_argument("--must-run", action="store_true", help="allow_idle = False")
    p.add_argument("--sparse", action="store_true", help="linopy.Model(sparse=True)")
    p.add_argument("--warmup", action="store_true",
                   help="build both routes once, untimed, before timing")
    p.add_argument("--no-solve", action="store_true",
                   help="time build and hand-off only (no solve, no objective check)")
    p.add_argument("--no-matrix", action="store_true",
                   help="skip the matrix route (and the objective check)")
    args = p.parse_args(argv)
    sc = planner.load_scenario(args.scenario)
    d = sc.capacity_inputs()
    if args.elastic:
        d.demand_blocks = elastic_blocks(d.demand_h100e, 1.3, 8000.0, 20586.0, 800.0, 6)
    if args.must_run:
        d.allow_idle = False
    out = run(d, matrix=not args.no_matrix, solve=not args.no_solve, sparse=args.sparse,
              warmup=args.warmup)
    out["scenario"] = args.scenario or "us-base"
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

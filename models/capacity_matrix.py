r"""The capacity model assembled directly as sparse matrices (the "matrix" route).

The same LP as :func:`models.capacity.build_model` — the same variables,
constraints, coefficients, bounds and internal scaling, row for row — built
with vectorized NumPy instead of Pyomo rules. It exists for national-scale
instances (thousands of sites), where Pyomo's per-term construction costs far
more than the HiGHS solve; ``docs/benchmarks.md`` has the measurements and
``tests/test_scale.py`` checks that both routes give the same optimum.

Column blocks (each in the order of the Pyomo model's index sets): ``Build``
(s, y), ``Grid`` (s, y ≥ y0 + lead), ``Onsite`` (s, y allowed), ``IT``
(s, g, t), ``Fleet`` (s, g, y), ``GridLoad`` (s, y), ``OnsiteLoad`` (s, y),
``Unserved`` (y, block). Row blocks: ``Fleet_Installed``, ``Facility_Load``,
``Facility_Limit``, ``Load_Split``, ``Grid_Capacity``, ``Onsite_Capacity``,
``Grid_Headroom``, ``Compute_Demand`` — the math is in
:mod:`models.capacity`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from grids.tables import InputError
from models.capacity import (
    COMPUTE_SCALE,
    HOURS_PER_YEAR,
    USD_SCALE,
    CapacityInputs,
    annuity_pv_factor,
    discount_factors,
)
from models.levers import active_levers


@dataclass
class StandardFormLP:
    """min c·x + offset s.t. row_lower ≤ A x ≤ row_upper, col_lower ≤ x ≤ col_upper.

    ``col_blocks``/``row_blocks`` map a component name to the index tuples of
    its columns/rows, in order; ``col_start``/``row_start`` give each block's
    first position.
    """

    c: np.ndarray
    A: sp.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    col_blocks: dict[str, list[Any]]
    row_blocks: dict[str, list[Any]]
    col_start: dict[str, int] = field(default_factory=dict)
    row_start: dict[str, int] = field(default_factory=dict)
    offset: float = 0.0


class _Rows:
    """Collects COO triplets block by block."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.blocks: dict[str, list[Any]] = {}
        self.start: dict[str, int] = {}
        self.n = 0

    def add(self, name: str, keys: list[Any], lower: np.ndarray, upper: np.ndarray,
            entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
        self.blocks[name] = keys
        self.start[name] = self.n
        for rows, cols, vals in entries:
            rows = np.asarray(rows, dtype=np.int64)
            self.r.append(rows + self.n)
            self.c.append(np.asarray(cols, dtype=np.int64))
            self.v.append(np.broadcast_to(np.asarray(vals, dtype=float), rows.shape).ravel())
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (len(keys),)))
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (len(keys),)))
        self.n += len(keys)


def build_matrix(d: CapacityInputs) -> StandardFormLP:
    """Assemble the capacity LP of ``d`` as a :class:`StandardFormLP`.

    Raises
    ------
    InputError
        When ``d`` sets any of the planner's levers (``models.levers``): this
        route does not express them; route ``pyomo`` does.
    """
    levers = active_levers(d)
    if levers:
        raise InputError(f"lever {', '.join(levers)} needs route pyomo (the matrix route does "
                         "not express the planner's levers; use --route pyomo or auto)")
    years = np.array(d.years, dtype=np.int64)
    Y = len(years)
    y0 = int(years[0])
    sites = list(d.sites.index)
    S = len(sites)
    region_ids = list(d.regions.index)
    site_region = d.sites["region"].to_numpy()
    r_of = pd.Index(region_ids).get_indexer(site_region)
    lead = d.regions["interconnect_lead_years"].to_numpy(dtype=np.int64)[r_of]
    rate = d.discount_rate
    delta = discount_factors(list(d.years), rate).to_numpy()
    k = 1.0 / USD_SCALE

    # ---- chips: purchasable (g, t) pairs and in-service (g, y) pairs -------------
    chips_all = list(d.chips.index)
    first = d.chips["first_year"].to_numpy(dtype=np.int64)
    last = d.chips["last_year"].to_numpy(dtype=np.int64)
    life = d.chips["life_years"].to_numpy(dtype=np.int64)
    pairs_g, pairs_t = [], []
    for gi in range(len(chips_all)):
        ts = years[(years >= first[gi]) & (years <= last[gi])]
        pairs_g += [gi] * len(ts)
        pairs_t += ts.tolist()
    pairs_g_arr = np.array(pairs_g, dtype=np.int64)
    pairs_t_arr = np.array(pairs_t, dtype=np.int64)
    P = len(pairs_g)
    chip_used = sorted(set(pairs_g))
    # in-service pairs, ordered by year then chip (the Pyomo FLEET_SGY order)
    fleet_q: list[tuple[int, int]] = []
    vint_q, vint_p = [], []
    for j, y in enumerate(years):
        for gi in chip_used:
            ps = np.flatnonzero((pairs_g_arr == gi) & (pairs_t_arr <= y)
                                & (pairs_t_arr > y - life[gi]))
            if len(ps):
                q = len(fleet_q)
                fleet_q.append((gi, j))
                vint_q += [q] * len(ps)
                vint_p += ps.tolist()
    Q = len(fleet_q)
    q_g = np.array([g for g, _ in fleet_q], dtype=np.int64)
    q_j = np.array([j for _, j in fleet_q], dtype=np.int64)
    vint_q_arr, vint_p_arr = np.array(vint_q, np.int64), np.array(vint_p, np.int64)

    # ---- column layout ----------------------------------------------------------------
    grid_mask = years[None, :] >= (y0 + lead)[:, None]  # S × Y
    onsite_ok = d.sites["onsite_allowed"].to_numpy(dtype=bool)
    onsite_mask = onsite_ok[:, None] & (years[None, :] >= y0 + d.onsite_lead_years)
    blocks = d.blocks()
    blk_year = blocks["year"].to_numpy(dtype=np.int64)
    blk_j = np.searchsorted(years, blk_year)
    B = len(blocks)

    col_blocks: dict[str, list[Any]] = {}
    col_start: dict[str, int] = {}
    n = 0

    def take(name: str, keys: list[Any]) -> int:
        nonlocal n
        col_blocks[name], col_start[name] = keys, n
        n += len(keys)
        return col_start[name]

    site_arr = np.array(sites, dtype=object)
    yi_s, yj_s = np.nonzero(np.ones((S, Y), dtype=bool))
    sy_keys = list(zip(site_arr[yi_s].tolist(), years[yj_s].tolist()))
    gi_s, gj_s = np.nonzero(grid_mask)
    oi_s, oj_s = np.nonzero(onsite_mask)
    off_build = take("Build", sy_keys)
    off_grid = take("Grid", list(zip(site_arr[gi_s].tolist(), years[gj_s].tolist())))
    off_onsite = take("Onsite", list(zip(site_arr[oi_s].tolist(), years[oj_s].tolist())))
    chip_arr = np.array(chips_all, dtype=object)
    it_i = np.repeat(np.arange(S), P)
    it_p = np.tile(np.arange(P), S)
    off_it = take("IT", list(zip(site_arr[it_i].tolist(), chip_arr[pairs_g_arr[it_p]].tolist(),
                                 pairs_t_arr[it_p].tolist())))
    fl_i = np.repeat(np.arange(S), Q)
    fl_q = np.tile(np.arange(Q), S)
    off_fleet = take("Fleet", list(zip(site_arr[fl_i].tolist(), chip_arr[q_g[fl_q]].tolist(),
                                       years[q_j[fl_q]].tolist())))
    off_gl = take("GridLoad", sy_keys)
    off_ol = take("OnsiteLoad", sy_keys)
    off_un = take("Unserved", list(zip(blk_year.tolist(),
                                       blocks["block"].to_numpy(dtype=np.int64).tolist())))
    n_cols = n

    grid_col = np.full((S, Y), -1, dtype=np.int64)
    grid_col[gi_s, gj_s] = off_grid + np.arange(len(gi_s))
    onsite_col = np.full((S, Y), -1, dtype=np.int64)
    onsite_col[oi_s, oj_s] = off_onsite + np.arange(len(oi_s))

    # ---- objective (million USD) ----------------------------------------------------
    c = np.zeros(n_cols)
    ann_fac = np.array([annuity_pv_factor(int(t), d.facility_life_years, list(d.years), rate)
                        for t in years])
    ann_on = np.array([annuity_pv_factor(int(t), d.onsite_life_years, list(d.years), rate)
                       for t in years])
    capex = d.sites["build_capex_usd_per_mw"].to_numpy(dtype=float)
    c[off_build:off_build + S * Y] = k * (capex[:, None] * ann_fac[None, :]).ravel()
    gcapex = d.regions["interconnect_capex_usd_per_mw"].to_numpy(dtype=float)[r_of]
    c[off_grid:off_grid + len(gi_s)] = k * gcapex[gi_s] * ann_fac[gj_s]
    c[off_onsite:off_onsite + len(oi_s)] = k * d.onsite_capex_usd_per_mw * ann_on[oj_s]
    kappa = d.chips["kappa_usd_per_mw"].to_numpy(dtype=float)
    ann_chip = {}
    for gl in set(life[pairs_g_arr].tolist()):
        ann_chip[gl] = {int(t): annuity_pv_factor(int(t), gl, list(d.years), rate)
                        for t in years}
    pair_cost = np.array([kappa[g] * ann_chip[int(life[g])][int(t)]
                          for g, t in zip(pairs_g, pairs_t)])
    c[off_it:off_it + S * P] = k * np.tile(pair_cost, S)
    uh = d.utilization * HOURS_PER_YEAR
    energy = d.energy_price_usd_per_mwh.loc[sites, list(d.years)].to_numpy(dtype=float)
    cap = d.capacity_price_usd_per_mw_year.loc[region_ids, list(d.years)].to_numpy(dtype=float)
    c[off_gl:off_gl + S * Y] = k * (delta[None, :] * (uh * energy + cap[r_of])).ravel()
    c[off_ol:off_ol + S * Y] = k * np.tile(delta * uh * d.onsite_fuel_usd_per_mwh, S)
    c[off_un:off_un + B] = (COMPUTE_SCALE / USD_SCALE) * delta[blk_j] * \
        blocks["value_usd_per_h100e_year"].to_numpy(dtype=float)

    col_lower = np.zeros(n_cols)
    col_upper = np.full(n_cols, np.inf)
    if d.demand_blocks is not None:
        col_upper[off_un:off_un + B] = blocks["size_h100e"].to_numpy(dtype=float) / COMPUTE_SCALE

    # ---- rows -----------------------------------------------------------------------
    R = _Rows()
    pue = d.sites["pue"].to_numpy(dtype=float)
    existing = d.sites["existing_mw"].to_numpy(dtype=float)
    max_mw = d.sites["max_mw"].to_numpy(dtype=float)
    queued = d.sites["queued_mw"].to_numpy(dtype=float)
    qyear = d.sites["queue_year"].to_numpy(dtype=float)
    sy_row = (np.arange(S)[:, None] * Y + np.arange(Y)[None, :])  # S × Y

    # cumulative sums over t ≤ y: (j, t) pairs with t ≤ j
    tj, tt = np.nonzero(np.tril(np.ones((Y, Y), dtype=bool)))

    # (0) Fleet_Installed
    fi_rows_fleet = np.arange(S * Q)
    fi_cols_fleet = off_fleet + np.arange(S * Q)
    nv = len(vint_q_arr)
    fi_rows_it = (np.arange(S)[:, None] * Q + vint_q_arr[None, :]).ravel()
    fi_cols_it = (off_it + np.arange(S)[:, None] * P + vint_p_arr[None, :]).ravel()
    R.add("Fleet_Installed", col_blocks["Fleet"], -np.inf if d.allow_idle else 0.0, 0.0, [
        (fi_rows_fleet, fi_cols_fleet, 1.0),
        (fi_rows_it, fi_cols_it, -np.ones(S * nv)),
    ])

    # fleet columns of each (s, y): q with q_j == j
    fq_rows = (np.arange(S)[:, None] * Y + q_j[None, :]).ravel()  # (s, y) row per fleet col
    fq_cols = off_fleet + np.arange(S * Q)
    fq_pue = np.repeat(pue, Q)
    b_rows = (np.arange(S)[:, None] * Y + tj[None, :]).ravel()
    b_cols = (off_build + np.arange(S)[:, None] * Y + tt[None, :]).ravel()

    # (1a) Facility_Load
    R.add("Facility_Load", sy_keys, -np.inf, np.repeat(existing, Y), [
        (fq_rows, fq_cols, fq_pue),
        (b_rows, b_cols, -1.0),
    ])
    # (1b) Facility_Limit
    R.add("Facility_Limit", sy_keys, -np.inf, np.repeat(max_mw - existing, Y), [
        (b_rows, b_cols, 1.0),
    ])
    # (2) Load_Split
    R.add("Load_Split", sy_keys, 0.0, 0.0, [
        (sy_row.ravel(), off_gl + np.arange(S * Y), 1.0),
        (sy_row.ravel(), off_ol + np.arange(S * Y), 1.0),
        (fq_rows, fq_cols, -fq_pue),
    ])
    # (3) Grid_Capacity
    queued_on = queued[:, None] * (years[None, :] >= np.nan_to_num(qyear, nan=np.inf)[:, None])
    gcols = grid_col[:, tt]  # S × (pairs t ≤ j)
    ok = gcols >= 0
    g_rows = (np.arange(S)[:, None] * Y + tj[None, :])[ok]
    R.add("Grid_Capacity", sy_keys, -np.inf, (existing[:, None] + queued_on).ravel(), [
        (sy_row.ravel(), off_gl + np.arange(S * Y), 1.0),
        (g_rows, gcols[ok], -1.0),
    ])
    # (4) Onsite_Capacity
    win = (tt > tj - d.onsite_life_years) & (tt <= tj)
    ocols = onsite_col[:, tt[win]]
    ok = ocols >= 0
    o_rows = (np.arange(S)[:, None] * Y + tj[win][None, :])[ok]
    R.add("Onsite_Capacity", sy_keys, -np.inf, 0.0, [
        (sy_row.ravel(), off_ol + np.arange(S * Y), 1.0),
        (o_rows, ocols[ok], -1.0),
    ])
    # (5) Grid_Headroom
    limits = d.regions["new_load_limit_mw_per_year"].to_numpy(dtype=float)
    h_keys, h_rows, h_cols, h_rhs = [], [], [], []
    for ri, r in enumerate(region_ids):
        if np.isnan(limits[ri]):
            continue
        in_r = r_of == ri
        for j in range(Y):
            cols = grid_col[in_r, j]
            cols = cols[cols >= 0]
            if len(cols):
                h_rows.append(np.full(len(cols), len(h_keys)))
                h_cols.append(cols)
                h_keys.append((r, int(years[j])))
                h_rhs.append(limits[ri])
    R.add("Grid_Headroom", h_keys, -np.inf, np.array(h_rhs, dtype=float), [
        (np.concatenate(h_rows) if h_rows else np.zeros(0), np.concatenate(h_cols)
         if h_cols else np.zeros(0), 1.0),
    ])
    # (6) Compute_Demand
    pi_k = d.chips["pi_h100e_per_mw"].to_numpy(dtype=float) / COMPUTE_SCALE
    demand_k = np.bincount(blk_j, weights=blocks["size_h100e"].to_numpy(dtype=float),
                           minlength=Y) / COMPUTE_SCALE
    R.add("Compute_Demand", [int(y) for y in years], demand_k, np.inf, [
        (np.tile(q_j, S), fq_cols, np.tile(pi_k[q_g], S)),
        (blk_j, off_un + np.arange(B), 1.0),
    ])

    rows = np.concatenate(R.r)
    cols = np.concatenate(R.c)
    vals = np.concatenate(R.v)
    A = sp.csc_matrix((vals, (rows, cols)), shape=(R.n, n_cols))
    A.sum_duplicates()
    A.eliminate_zeros()
    return StandardFormLP(
        c=c, A=A, row_lower=np.concatenate(R.lower), row_upper=np.concatenate(R.upper),
        col_lower=col_lower, col_upper=col_upper, col_blocks=col_blocks, row_blocks=R.blocks,
        col_start=col_start, row_start=R.start,
    )

r"""Monte Carlo stress tests: ``dcplan stress --samples N --seed S``.

The portfolio's ``monte_carlo:`` list names the risk factors; each is a shock kind whose
magnitude and start year are numbers or distributions of ``dcplan sweep``
(:mod:`planner.sweep.distributions`), and, for defaults, an annual probability::

    monte_carlo:
      - {kind: lease_rate, start_year: 2028,
         magnitude: {dist: normal, mean: 0.0, sd: 0.15, low: -0.6, high: 0.5}}
      - {kind: refinancing, start_year: 2027, magnitude: {dist: uniform, low: 0, high: 0.04}}
      - {kind: default, target: openai, annual_probability: 0.03,
         magnitude: {dist: uniform, low: 0.4, high: 1.0}}

Sample i draws from ``numpy.random.default_rng([seed, i])`` factor by factor in file order
(the sweep's convention: the same seed gives the same paths, more samples keep the first
ones). A factor with ``probability`` p happens on a path with probability p; a default
factor with ``annual_probability`` h defaults in the first year whose uniform draw is < h.
Each path runs :func:`planner.stress.simulate` on the same market (the capacity model is
solved once; demand shocks, which re-solve it, are not drawn here — use ``dcplan sweep``).
Paths run in this process (``workers=0``) or in chunks on Dask (a LocalCluster, or a
running scheduler), like the sweep's runner.

Outputs per operator o and year y over N paths:

- p_breach(o, y) = share of paths with a covenant breach in y; p_default(o, y) = share of
  paths in which o is in default by the end of y; standard errors √(p(1 − p) / N);
- expected loss to each creditor class (lenders by security, lessors) and to each creditor
  through each obligor: the mean over paths of the losses of
  :class:`planner.stress.StressResult` (``lender_losses``; contract payments lost when a
  lessee defaulted), with the standard error of that mean.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, TypeAdapter, ValidationError, model_validator

from grids.tables import InputError
from grids.yamlfile import StrictModel
from grids.yamlfile import yaml_line as _yaml_line
from planner.optimize.interrupts import check, deferred
from planner.stress.engine import simulate
from planner.stress.market import Market
from planner.sweep.distributions import Distribution
from sites.portfolio import Portfolio, Shock, check_shock_targets

_DIST: TypeAdapter[Any] = TypeAdapter(Distribution)


class RiskFactor(StrictModel):
    """One risk factor of ``monte_carlo:``: a shock with drawn magnitude and start year."""

    kind: str = Field(description="shock kind (docs/stress.md); not demand")
    target: str | None = Field(default=None, description="default shocks: who defaults")
    magnitude: float | Distribution = Field(default=1.0, description="number or distribution")
    start_year: int | Distribution | None = Field(
        default=None, description="number or distribution (default: the first year)")
    probability: float = Field(default=1.0, ge=0, le=1, description="chance the factor "
                               "happens on a path")
    annual_probability: float | None = Field(
        default=None, ge=0, le=1, description="default shocks: chance of default each year "
        "(the first year drawn below it is the default year)")

    @model_validator(mode="after")
    def _kind(self) -> RiskFactor:
        if self.kind == "demand":
            raise ValueError("demand shocks re-solve the capacity model and are not drawn by "
                             "--samples; use dcplan sweep with stress.shocks")
        if self.annual_probability is not None and self.kind != "default":
            raise ValueError("annual_probability is for default factors only")
        return self

    def draw(self, rng: np.random.Generator, years: list[int]) -> Shock | None:
        """One draw: a shock, or None when the factor does not happen on this path."""
        mag = self.magnitude if isinstance(self.magnitude, (int, float)) \
            else self.magnitude.draw(rng)
        start = years[0] if self.start_year is None else (
            self.start_year if isinstance(self.start_year, int) else self.start_year.draw(rng))
        happens = rng.uniform() < self.probability
        if self.annual_probability is not None:
            u = rng.uniform(size=len(years))
            hit = np.flatnonzero(u < self.annual_probability)
            if not len(hit):
                return None
            start = years[int(hit[0])]
        if not happens:
            return None
        start = int(min(max(int(start), years[0]), years[-1]))
        return Shock(kind=self.kind, magnitude=float(mag), start_year=start, target=self.target)


def read_risk_factors(portfolio: Portfolio) -> list[RiskFactor]:
    """The portfolio's ``monte_carlo:`` list, validated; errors name the YAML line."""
    raw = portfolio.spec.monte_carlo
    if not raw:
        raise InputError("--samples: the portfolio has no monte_carlo: risk factors "
                         "(docs/stress.md, Probabilities of default)", file=portfolio.path,
                         key="monte_carlo")
    out = []
    for i, item in enumerate(raw):
        try:
            f = RiskFactor.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function"))
            msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
            raise InputError(f"{loc + ': ' if loc else ''}{msg}", file=portfolio.path,
                             key=f"monte_carlo.{i}",
                             line=_yaml_line(portfolio.path, ("monte_carlo", str(i)))) from None
        try:
            probe = Shock(kind=f.kind, magnitude=0.0 if f.kind != "default" else 1.0,
                          start_year=portfolio.years[0], target=f.target)
            check_shock_targets([probe], portfolio.operators, portfolio.customers,
                                portfolio.spec.years)
        except (ValidationError, InputError) as exc:
            msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            msg = re.sub(r"^--shock '[^']*': ", "", str(msg).removeprefix("Value error, "))
            raise InputError(msg, file=portfolio.path,
                             key=f"monte_carlo.{i}",
                             line=_yaml_line(portfolio.path, ("monte_carlo", str(i)))) from None
        out.append(f)
    return out


def draw_shocks(factors: list[RiskFactor], seed: int, sample: int,
                years: list[int]) -> list[Shock]:
    """The shocks of path ``sample`` (``default_rng([seed, sample])``, factors in order)."""
    rng = np.random.default_rng([seed, sample])
    out = []
    for f in factors:
        s = f.draw(rng, years)
        if s is not None:
            out.append(s)
    return out


@dataclass
class MonteCarlo:
    """The outcome of N sampled paths."""

    samples: int
    seed: int
    default_probability: pd.DataFrame  # operator, year, p_breach(_se), p_default(_se)
    expected_loss_by_class: pd.DataFrame  # creditor_class, expected_loss_usd, se_usd
    expected_loss_by_counterparty: pd.DataFrame  # creditor, through, class, loss, se
    paths: pd.DataFrame = field(default_factory=pd.DataFrame)  # sample → shocks, defaults


def _path(pf: Portfolio, market: Market, base: list[Shock], factors: list[RiskFactor],
          seed: int, sample: int) -> dict[str, Any]:
    shocks = draw_shocks(factors, seed, sample, pf.years)
    r = simulate(pf, base + shocks, market)
    m = r.metrics
    losses: list[tuple[str, str, str, float]] = []
    for _, row in r.lender_losses.iterrows():
        losses.append((f"lenders of {row['operator']}", row["operator"],
                       f"lenders:{row['security']}", float(row["loss_usd"])))
    ct = r.contracts
    if len(ct):
        hit = ct[(ct["share_in_force"] < 1.0 - 1e-12)
                 | (ct["paid_usd_per_year"] < ct["due_usd_per_year"] - 1e-6)]
        for (lessor, lessee), g in hit.groupby(["lessor", "lessee"]):
            lost = float((g["contracted_usd_per_year"] - g["paid_usd_per_year"]
                          - g["prepaid_recognized_usd_per_year"]).clip(lower=0).sum())
            if lost > 0:
                losses.append((lessor, lessee, "lessors", lost))
    return {"sample": sample, "shocks": [s.text() for s in shocks],
            "breach": m["breach"].values.copy(), "in_default": m["in_default"].values.copy(),
            "losses": losses}


def _chunk(pf: Portfolio, market: Market, base: list[Shock], factors: list[RiskFactor],
           seed: int, samples: list[int]) -> list[dict[str, Any]]:
    return [_path(pf, market, base, factors, seed, i) for i in samples]


def run_monte_carlo(pf: Portfolio, market: Market, base_shocks: list[Shock], samples: int,
                    seed: int, *, workers: int | None = 0,
                    scheduler: str | None = None) -> MonteCarlo:
    """Draw ``samples`` paths and summarize them (module docstring)."""
    if samples < 1:
        raise InputError(f"--samples must be >= 1, got {samples}")
    factors = read_risk_factors(pf)
    ids = list(range(samples))
    with deferred():
        if workers == 0 and scheduler is None:
            results = []
            for i in ids:
                results.append(_path(pf, market, base_shocks, factors, seed, i))
                check()
        else:
            results = _on_dask(pf, market, base_shocks, factors, seed, ids, workers, scheduler)
    results.sort(key=lambda d: d["sample"])
    return summarize(pf, results, samples, seed)


def _on_dask(pf: Portfolio, market: Market, base: list[Shock], factors: list[RiskFactor],
             seed: int, ids: list[int], workers: int | None,
             scheduler: str | None) -> list[dict[str, Any]]:
    from distributed import as_completed

    from planner.sweep.cluster import connect, local_cluster

    cluster = None
    if scheduler:
        client = connect(scheduler)
    else:  # the sweep's cluster: TLS with temporary credentials, no HTTP server
        n = max(1, min(workers or len(os.sched_getaffinity(0)), len(ids)))
        cluster, client = local_cluster(n)
    out: list[dict[str, Any]] = []
    futures = []
    try:
        pf_f, m_f = client.scatter([pf, market], broadcast=True)
        size = max(1, math.ceil(len(ids) / (4 * max(1, len(client.nthreads())))))
        for k in range(0, len(ids), size):
            futures.append(client.submit(_chunk, pf_f, m_f, base, factors, seed,
                                         ids[k:k + size], pure=False))
        for fut in as_completed(futures, loop=client.loop):  # not the default client
            check()
            out.extend(fut.result())
    except BaseException:
        if futures:
            client.cancel(futures)
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return out


def summarize(pf: Portfolio, results: list[dict[str, Any]], samples: int,
              seed: int) -> MonteCarlo:
    """Probabilities with standard errors and expected losses over the paths."""
    ops = list(pf.operators.index)
    years = pf.years
    n = len(results)
    breach = np.stack([r["breach"] for r in results])  # sample × operator × year
    dflt = np.stack([r["in_default"] for r in results])
    rows = []
    for i, o in enumerate(ops):
        for j, y in enumerate(years):
            pb = float(breach[:, i, j].mean())
            pd_ = float(dflt[:, i, j].mean())
            rows.append({"operator": o, "year": y, "p_breach": pb,
                         "p_breach_se": math.sqrt(pb * (1 - pb) / n),
                         "p_default": pd_, "p_default_se": math.sqrt(pd_ * (1 - pd_) / n),
                         "samples": n})
    prob = pd.DataFrame(rows)

    def mean_se(values: dict[tuple, np.ndarray]) -> list[tuple[tuple, float, float]]:
        return [(k, float(v.mean()), float(v.std(ddof=1) / math.sqrt(n)) if n > 1 else
                 float("nan")) for k, v in values.items()]

    by_class: dict[tuple, np.ndarray] = {}
    by_cp: dict[tuple, np.ndarray] = {}
    for s, r in enumerate(results):
        for creditor, through, cls, loss in r["losses"]:
            by_class.setdefault((cls,), np.zeros(n))[s] += loss
            by_cp.setdefault((creditor, through, cls), np.zeros(n))[s] += loss
    cls_df = pd.DataFrame([{"creditor_class": k[0], "expected_loss_usd": m, "se_usd": se}
                           for k, m, se in mean_se(by_class)],
                          columns=["creditor_class", "expected_loss_usd", "se_usd"])
    cp_df = pd.DataFrame([{"creditor": k[0], "through": k[1], "creditor_class": k[2],
                           "expected_loss_usd": m, "se_usd": se}
                          for k, m, se in mean_se(by_cp)],
                         columns=["creditor", "through", "creditor_class",
                                  "expected_loss_usd", "se_usd"])
    paths = pd.DataFrame([{"sample": r["sample"], "shocks": "; ".join(r["shocks"]),
                           **{f"default_year_{o}": _first_year(r["in_default"][i], years)
                              for i, o in enumerate(ops)}} for r in results])
    return MonteCarlo(samples=samples, seed=seed, default_probability=prob,
                      expected_loss_by_class=cls_df.sort_values(
                          "expected_loss_usd", ascending=False).reset_index(drop=True),
                      expected_loss_by_counterparty=cp_df.sort_values(
                          "expected_loss_usd", ascending=False).reset_index(drop=True),
                      paths=paths)


def _first_year(row: np.ndarray, years: list[int]) -> float:
    hit = np.flatnonzero(row > 0)
    return float(years[hit[0]]) if len(hit) else float("nan")


def write_monte_carlo(mc: MonteCarlo, folder: Path) -> list[str]:
    """default_probability.csv, expected_loss.csv, mc_paths.csv and default_risk.png."""
    mc.default_probability.to_csv(folder / "default_probability.csv", index=False,
                                  float_format="%.6g")
    el = pd.concat([mc.expected_loss_by_class.assign(creditor="", through=""),
                    mc.expected_loss_by_counterparty], ignore_index=True)
    el = el[["creditor_class", "creditor", "through", "expected_loss_usd", "se_usd"]]
    el.to_csv(folder / "expected_loss.csv", index=False, float_format="%.6g")
    mc.paths.to_csv(folder / "mc_paths.csv", index=False, float_format="%.6g")
    plot_default_risk(mc, folder / "default_risk.png")
    return ["default_probability.csv", "expected_loss.csv", "mc_paths.csv", "default_risk.png"]


def plot_default_risk(mc: MonteCarlo, path: Path) -> None:
    """Left: P(default by year) per operator with ±2 standard errors; right: expected loss
    by creditor and obligor ("who loses through whom")."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.8), dpi=110)
    for o, g in mc.default_probability.groupby("operator", sort=False):
        a.plot(g["year"], g["p_default"], "o-", ms=3, label=o)
        a.fill_between(g["year"], (g["p_default"] - 2 * g["p_default_se"]).clip(lower=0),
                       (g["p_default"] + 2 * g["p_default_se"]).clip(upper=1), alpha=0.15)
    a.set_ylim(-0.02, 1.02)
    a.set_xlabel("year")
    a.set_ylabel("P(in default by the end of the year)")
    a.set_title(f"default probability, {mc.samples} paths (seed {mc.seed}); band ±2 s.e.",
                fontsize=10)
    a.grid(True, alpha=0.3)
    a.legend(fontsize=8)
    cp = mc.expected_loss_by_counterparty.head(12).iloc[::-1]
    labels = [f"{r.creditor} ← {r.through} ({r.creditor_class})" for r in cp.itertuples()]
    b.barh(labels, cp["expected_loss_usd"] / 1e9, xerr=2 * cp["se_usd"].fillna(0) / 1e9,
           color="#c44e52")
    b.set_xlabel("expected loss, billion USD (±2 s.e.)")
    b.set_title("who loses through whom", fontsize=10)
    b.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)

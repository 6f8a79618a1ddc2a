"""Investor portfolios: operators, their sites, contracts and customers; shocks.

A portfolio is one YAML file (validated with pydantic; unknown keys are errors)
that names four tables, each validated through the one schema registry
(:mod:`grids.tables`)::

    name: ai-chains-2026
    years: {start: 2026, end: 2040}
    operators: operators.csv      # who carries the debt
    contracts: contracts.csv      # lessor → lessee, MW, price, start, term
    customers: customers.csv      # end customers (not operators)
    sites: sites.csv              # the `sites` schema; `operator` required
    re_lease: {delay_years: 1, haircut: 0.25, window_years: 5}
    shocks: ["lease_rate:-0.3@2027", {kind: default, target: microsoft, start_year: 2028}]

Errors name the file, the row (and line) and the column or key, and say what
was expected, exactly as for scenarios.

Shocks have a compact text form, used on the command line and accepted in the
YAML list: ``KIND:MAGNITUDE@YEAR`` or, for a default, ``default:TARGET[:LGD]@YEAR``
(see :func:`parse_shock`).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, ValidationError, model_validator

from grids.regions import is_bundled, load_geometry, load_regions
from grids.tables import Column, InputError, TableSchema, check_references, read_table, row_error
from grids.yamlfile import StrictModel, YearSpan, read_yaml_mapping, referenced_file
from grids.yamlfile import yaml_line as _yaml_line
from sites.debt import DEBT, check_debt, check_interest
from sites.sites import place_sites, read_sites

#: Operator kinds: who owns what.
OPERATOR_KINDS = {
    "landlord": "leases powered shells (space and power); owns no chips",
    "gpu_cloud": "owns the chips and sells compute; leases space from landlords",
    "integrated": "owns power, sites and chips and sells compute",
}
#: Kinds that own GPU fleets (hit by chip obsolescence; re-let at the value of compute).
GPU_OWNERS = frozenset({"gpu_cloud", "integrated"})

OPERATORS = TableSchema(
    name="operators",
    description="Datacenter operators: balance sheet, costs, covenant.",
    key=("operator",),
    columns=(
        Column("operator", "str", "-", "operator id (used by contracts and sites)"),
        Column("name", "str", "-", "readable name"),
        Column("kind", "str", "-", "landlord, gpu_cloud or integrated"),
        Column("debt_usd", "float", "USD", "flat debt outstanding at the start, outside the "
               "debt table (0 when every tranche is in the debt table)", required=False,
               default=0.0, minimum=0),
        Column("debt_service_usd_per_year", "float", "USD/year",
               "interest plus principal due each year on the flat debt_usd", required=False,
               default=0.0, minimum=0),
        Column("debt_maturity_year", "int", "year", "last year the flat debt service is due "
               "(blank = every year of the horizon)", required=False, minimum=1900,
               maximum=2300),
        Column("reported_interest_usd_per_year", "float", "USD/year", "interest the operator "
               "reports (checked against its debt: docs/stress.md)", required=False,
               minimum=0),
        Column("cash_usd", "float", "USD", "cash at the start of the first year", minimum=0),
        Column("opex_usd_per_year", "float", "USD/year", "fixed operating cost (G&A)",
               minimum=0),
        Column("opex_usd_per_mw_year", "float", "USD/(MW·year)",
               "operating cost per MW delivered to customers (excl. power and leases)",
               minimum=0),
        Column("pays_power", "bool", "-", "the operator buys the electricity of the MW it "
               "delivers (false = passed through to the lessee)"),
        Column("covenant_min_dscr", "float", "1", "minimum debt-service coverage ratio "
               "(EBITDA ÷ debt service) in the loan documents", minimum=0),
        Column("covenant_start_year", "int", "year", "first year the covenant is tested "
               "(blank = first year)", required=False, minimum=1900, maximum=2300),
        Column("covenant_cure_years", "int", "years", "a breach not cured (DSCR back at the "
               "minimum) within this many following years is an event of default and the "
               "debt is accelerated", required=False, default=1, minimum=0, maximum=10),
        Column("merchant_revenue_usd_per_year", "float", "USD/year",
               "uncontracted revenue (e.g. bitcoin mining, on-demand compute), before power",
               required=False, default=0.0, minimum=0),
        Column("merchant_mw", "float", "MW", "MW used by the merchant business (power is "
               "charged when pays_power)", required=False, default=0.0, minimum=0),
        Column("fleet_h100e_per_mw", "float", "H100e/MW", "compute of the GPU fleet per IT "
               "MW (gpu_cloud and integrated: this or fleet_chip)", required=False,
               minimum=0, exclusive_minimum=True),
        Column("fleet_chip", "str", "-", "chip of the capacity scenario the operator buys for "
               "its contracts: GPU capex per IT MW and H100e per IT MW at the capacity model's "
               "chip costs", required=False),
        Column("gpu_capex_usd_per_mw", "float", "USD/MW", "GPU capex per IT MW of a contract "
               "the operator starts (blank = the capacity model's cost of its fleet_chip)",
               required=False, minimum=0),
        Column("gpu_debt_share", "float", "1", "share of each contract's GPU capex drawn as "
               "a GPU-backed loan amortizing over the contract term", required=False,
               default=0.0, minimum=0, maximum=1),
        Column("gpu_debt_rate", "float", "1/year", "interest rate of those GPU-backed loans",
               required=False, minimum=0, maximum=1),
        Column("pue", "float", "1", "facility MW per IT MW for contracts without a site "
               "(a site's own pue otherwise)", required=False, default=1.0, minimum=1.0),
    ),
)

CONTRACTS = TableSchema(
    name="contracts",
    description="Leases and compute contracts: lessor → lessee (an operator or a customer).",
    key=("contract",),
    columns=(
        Column("contract", "str", "-", "contract id"),
        Column("lessor", "str", "-", "operator that delivers the MW and is paid"),
        Column("lessee", "str", "-", "operator or customer that pays"),
        Column("site", "str", "-", "portfolio site the MW are at (blank = not modelled: "
               "no interconnection slip, national average power price)", required=False),
        Column("mw", "float", "MW", "contracted MW", minimum=0, exclusive_minimum=True),
        Column("usd_per_kw_month", "float", "USD/(kW·month)", "price per kW and month "
               "(give this or total_value_usd)", required=False, minimum=0),
        Column("total_value_usd", "float", "USD", "total contract value over the term, paid "
               "evenly (give this or usd_per_kw_month)", required=False, minimum=0),
        Column("start_year", "int", "year", "first year of payments", minimum=1900,
               maximum=2300),
        Column("term_years", "int", "years", "years of payments", minimum=1, maximum=100),
        Column("prepaid_share", "float", "1", "share of the total value the lessee prepays in "
               "the start year (deducted evenly from the yearly payments)", required=False,
               default=0.0, minimum=0, maximum=1),
    ),
)

CUSTOMERS = TableSchema(
    name="customers",
    description="End customers that are not operators (hyperscalers, AI labs, …).",
    key=("customer",),
    columns=(
        Column("customer", "str", "-", "customer id (must not also be an operator id)"),
        Column("name", "str", "-", "readable name"),
        Column("investment_grade", "bool", "-", "rated investment grade"),
        Column("rating", "str", "-", "rating text, informational", required=False),
        Column("guarantor", "str", "-", "customer that guarantees part of this customer's "
               "obligations", required=False),
        Column("guaranteed_share", "float", "1", "share of each contract the guarantor "
               "takes over on default", required=False, default=0.0, minimum=0, maximum=1),
    ),
)

SCHEMAS = (OPERATORS, CONTRACTS, CUSTOMERS, DEBT)

DATA = resources.files("sites") / "data" / "portfolio"

# --------------------------------------------------------------------------
# Shocks
# --------------------------------------------------------------------------
ShockKind = Literal["demand", "lease_rate", "power_price", "interconnect", "obsolescence",
                    "refinancing", "default"]

#: What each shock does and what its magnitude means (also used by the docs and the CLI help).
SHOCK_KINDS: dict[str, str] = {
    "demand": "compute demand × (1 + m) from the start year: the capacity scenario is re-solved "
              "with it, re-let occupancy and merchant revenue scale by (1 + m); m > -1",
    "lease_rate": "prices × (1 + m) for contracts starting in or after the start year and for "
                  "every re-let; m > -1",
    "power_price": "electricity prices × (1 + m) from the start year; m > -1",
    "interconnect": "sites whose queued MW are not energized before the start year get them m "
                    "years later (whole years >= 0)",
    "obsolescence": "GPU fleets lose a further share m of their value and rate every year from "
                    "the start year (re-lets and contracts starting then); 0 <= m < 1",
    "refinancing": "debt refinanced at a maturity in or after the start year pays m more "
                   "interest (refinancing:+300bp@2028 = +3 points); m > -1",
    "default": "the named customer or operator defaults in the start year and pays only "
               "(1 - m) of that year's dues, then walks away; m = loss given default, "
               "0 <= m <= 1, default 1",
}

_SHOCK_RE = re.compile(
    r"^\s*(?P<kind>[a-z_]+)\s*:\s*(?P<body>[^@]+?)\s*@\s*(?P<year>[0-9]{4})\s*$")


#: Largest demand, lease-rate or power-price shock, as a fraction: +10,000 %, far past any
#: market move, and small enough that compounded factors stay finite (+1e308 % is inf).
MAX_SHOCK_FACTOR = 100.0


class Shock(StrictModel):
    """One shock: a kind, a magnitude, a start year and (for defaults) a target."""

    kind: ShockKind = Field(description="what is shocked (see SHOCK_KINDS)")
    magnitude: float = Field(default=1.0, description="size of the shock; meaning by kind")
    start_year: int = Field(ge=1900, le=2300, description="first year the shock applies")
    target: str | None = Field(default=None, description="customer or operator id "
                               "(default shocks only)")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            return parse_shock_fields(data)
        return data

    @model_validator(mode="after")
    def _ranges(self) -> Shock:
        m, kind = self.magnitude, self.kind
        if kind == "default":
            if not self.target:
                raise ValueError("a default shock needs a target (a customer or operator id)")
            if not 0.0 <= m <= 1.0:
                raise ValueError(f"default: loss given default must be in [0, 1], got {m:g}")
            return self
        if self.target is not None:
            raise ValueError(f"{kind}: a target is allowed only for default shocks")
        if not np.isfinite(m):
            raise ValueError(f"{kind}: magnitude must be a finite number, got {m}")
        if kind in ("demand", "lease_rate", "power_price", "refinancing") and m <= -1.0:
            raise ValueError(f"{kind}: magnitude must be > -1 (a fraction, -0.3 = -30 %), "
                             f"got {m:g}")
        if kind in ("demand", "lease_rate", "power_price") and m > MAX_SHOCK_FACTOR:
            raise ValueError(f"{kind}: magnitude must be at most {MAX_SHOCK_FACTOR:g} "
                             f"(+{MAX_SHOCK_FACTOR * 100:,.0f} %), got {m:g}")
        if kind == "interconnect" and (m < 0 or m > 100 or abs(m - round(m)) > 1e-9):
            raise ValueError(f"interconnect: magnitude must be whole years from 0 to 100, "
                             f"got {m:g}")
        if kind == "obsolescence" and not 0.0 <= m < 1.0:
            raise ValueError(f"obsolescence: magnitude must be in [0, 1), got {m:g}")
        return self

    def text(self) -> str:
        """The compact form, e.g. ``lease_rate:-0.3@2027``."""
        if self.kind == "default":
            return f"default:{self.target}:{self.magnitude:g}@{self.start_year}"
        if self.kind == "refinancing":
            return f"refinancing:{self.magnitude * 1e4:+g}bp@{self.start_year}"
        return f"{self.kind}:{self.magnitude:+g}@{self.start_year}"


def parse_shock_fields(text: str) -> dict[str, Any]:
    """Split the compact syntax into fields (no range checks; see :class:`Shock`).

    ``KIND:MAGNITUDE@YEAR``; for defaults ``default:TARGET@YEAR`` (loss given
    default 1) or ``default:TARGET:LGD@YEAR``. Magnitudes may carry a sign and
    a trailing ``%`` (``-30%`` = -0.3) or ``bp`` (``+300bp`` = 0.03).

    Examples
    --------
    >>> parse_shock_fields("lease_rate:-0.3@2027")
    {'kind': 'lease_rate', 'magnitude': -0.3, 'start_year': 2027}
    >>> parse_shock_fields("default:microsoft:0.6@2028")
    {'kind': 'default', 'magnitude': 0.6, 'start_year': 2028, 'target': 'microsoft'}
    >>> parse_shock_fields("power_price:+50%@2027")["magnitude"]
    0.5
    >>> parse_shock_fields("refinancing:+300bp@2028")["magnitude"]
    0.03
    """
    m = _SHOCK_RE.match(text)
    if not m:
        raise ValueError(f"cannot read shock '{text}': expected KIND:MAGNITUDE@YEAR "
                         "(e.g. lease_rate:-0.3@2027) or default:TARGET[:LGD]@YEAR")
    kind, body, year = m.group("kind"), m.group("body"), int(m.group("year"))
    if kind not in SHOCK_KINDS:
        close = difflib.get_close_matches(kind, list(SHOCK_KINDS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ValueError(f"unknown shock kind '{kind}'{hint}; known: {', '.join(SHOCK_KINDS)}")
    parts = [p.strip() for p in body.split(":")]
    out: dict[str, Any] = {"kind": kind}
    if kind == "default":
        if len(parts) > 2 or not parts[0]:
            raise ValueError(f"cannot read shock '{text}': expected default:TARGET@YEAR or "
                             "default:TARGET:LGD@YEAR")
        out["magnitude"] = _number(parts[1], text) if len(parts) == 2 else 1.0
        out["start_year"] = year
        out["target"] = parts[0]
        return out
    if len(parts) != 1:
        raise ValueError(f"cannot read shock '{text}': only default shocks take a target")
    out["magnitude"] = _number(parts[0], text)
    out["start_year"] = year
    return out


def _number(s: str, text: str) -> float:
    scale = 100.0 if s.endswith("%") else 1e4 if s.lower().endswith("bp") else 1.0
    body = s[:-1] if scale == 100.0 else s[:-2] if scale == 1e4 else s
    try:
        v = float(body)
    except ValueError:
        raise ValueError(f"cannot read shock '{text}': magnitude '{s}' is not a number") \
            from None
    return round(v / scale, 12)


def parse_shock(text: str) -> Shock:
    """Parse and check one compact shock; raises :class:`InputError`.

    Examples
    --------
    >>> parse_shock("interconnect:2@2027").magnitude
    2.0
    """
    try:
        return Shock.model_validate(text)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = str(err.get("msg", "invalid shock")).removeprefix("Value error, ")
        if err.get("type") == "literal_error":
            msg = f"unknown shock kind; known: {', '.join(SHOCK_KINDS)}"
        raise InputError(f"--shock '{text}': {msg}") from None


# --------------------------------------------------------------------------
# The portfolio file
# --------------------------------------------------------------------------


class ReLease(StrictModel):
    """How MW freed by a default or an expiry are let again."""

    delay_years: int = Field(default=1, ge=0, le=20, description="years without revenue "
                             "before freed MW earn again")
    haircut: float = Field(default=0.25, ge=0, le=1, description="discount to the market "
                           "value of capacity when re-letting")
    window_years: int = Field(default=5, ge=1, le=30, description="a re-let earns the mean "
                              "market value over this many years from the year it is earned")


class Financing(StrictModel):
    """How bullet maturities are refinanced (docs/stress.md, Maturities and refinancing)."""

    spread_bp: float = Field(default=0.0, ge=-1000, le=5000, description="added to a "
                             "tranche's rate when it is refinanced (basis points)")
    max_leverage: float = Field(default=6.0, gt=0, description="no refinancing when debt ÷ "
                                "EBITDA of the last year is above this (or EBITDA ≤ 0)")
    min_dscr: float = Field(default=1.1, ge=0, description="no refinancing when EBITDA of the "
                            "last year ÷ the refinanced debt service is below this")
    term_years: int = Field(default=5, ge=1, le=40, description="a refinanced tranche "
                            "amortizes over this many years")
    cash_reserve_years: float | None = Field(
        default=None, ge=0, le=10, description="cash kept at a year end, in years of that "
        "year's cash costs (debt service, leases, opex, power); the excess is swept "
        "(None = cash accumulates)")
    sweep_to_debt: float = Field(default=1.0, ge=0, le=1, description="share of the swept "
                                 "excess that prepays debt; the rest is paid out to equity")


class PortfolioFile(StrictModel):
    """The portfolio YAML schema."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$",
                      description="portfolio id (letters, digits, _ . -); names the output")
    description: str | None = Field(default=None, description="free text")
    illustrative: bool = Field(default=False, description="figures are illustrative")
    years: YearSpan
    operators: str = Field(description="operators table")
    contracts: str = Field(description="contracts table")
    customers: str = Field(description="customers table")
    sites: str | None = Field(default=None, description="sites table (sites schema, "
                              "operator column required); omit when no contract names a site")
    debt: str | None = Field(default=None, description="debt tranches table (docs/stress.md)")
    financing: Financing = Field(default_factory=Financing)
    re_lease: ReLease = Field(default_factory=ReLease)
    monte_carlo: list[dict[str, Any]] | None = Field(
        default=None, description="risk factors drawn by `dcplan stress --samples N` "
        "(checked by planner.stress.montecarlo)")
    shocks: list[Shock] = Field(default_factory=list, description="shocks applied on every run")


@dataclass
class Portfolio:
    """A validated portfolio with every table loaded and cross-checked."""

    path: Path
    spec: PortfolioFile
    operators: pd.DataFrame  # indexed by operator
    contracts: pd.DataFrame  # indexed by contract; adds annual_usd_per_year
    customers: pd.DataFrame  # indexed by customer
    sites: pd.DataFrame  # indexed by site (may be empty)
    table_paths: dict[str, str]
    debt: pd.DataFrame = dataclasses.field(default_factory=lambda: _empty_debt())

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def years(self) -> list[int]:
        return list(range(self.spec.years.start, self.spec.years.end + 1))

    @property
    def parties(self) -> list[str]:
        """Every operator and customer id."""
        return list(self.operators.index) + list(self.customers.index)


def default_portfolio_path() -> Path:
    """The bundled illustrative portfolio (``sites/data/portfolio/portfolio.yaml``)."""
    return Path(str(DATA / "portfolio.yaml"))


def annual_payment_usd_per_year(mw: float, usd_per_kw_month: float | None,
                                total_value_usd: float | None, term_years: int) -> float:
    """Payment per year at full delivery.

    ``mw · 1000 kW/MW · usd_per_kw_month · 12`` or ``total_value_usd / term_years``.

    Examples
    --------
    >>> annual_payment_usd_per_year(100, 150.0, None, 10)
    180000000.0
    >>> annual_payment_usd_per_year(400, None, 11e9, 15) / 1e6
    733.3333333333334
    """
    if usd_per_kw_month is not None and not np.isnan(usd_per_kw_month):
        return float(mw) * 1000.0 * float(usd_per_kw_month) * 12.0
    return float(total_value_usd) / float(term_years)


def load_portfolio(
    path: str | Path | None = None,
    regions: pd.DataFrame | None = None,
    geometry: gpd.GeoDataFrame | None = None,
) -> Portfolio:
    """Read, validate and cross-check a portfolio and its tables.

    Parameters
    ----------
    path : the portfolio YAML; ``None`` for the bundled illustrative example.
    regions : validated regions table for the sites (default: bundled regions).
    geometry : region polygons, to place sites without a region (default: bundled).

    Raises
    ------
    InputError
        With file, row/line and column/key for any bad input.

    Examples
    --------
    >>> p = load_portfolio()
    >>> sorted(p.operators.index)
    ['applied_digital', 'cipher', 'coreweave', 'iren']
    """
    path = Path(path) if path is not None else default_portfolio_path()
    spec = read_portfolio_file(path)

    def table(key: str) -> Path:
        value = getattr(spec, key)
        return referenced_file(path, (key,), value)

    op_path, ct_path, cu_path = table("operators"), table("contracts"), table("customers")
    operators = _check_operators(read_table(op_path, OPERATORS), op_path)
    customers = _check_customers(read_table(cu_path, CUSTOMERS), cu_path, operators)

    if spec.sites is not None:
        site_path = table("sites")
        if regions is None:
            regions = load_regions()
        if geometry is None:
            geometry = load_geometry(None, regions)
        raw = read_sites(site_path)
        if path == default_portfolio_path() and not is_bundled(regions):
            _check_bundled_portfolio_sites(raw, regions)
        sites = place_sites(raw, regions, geometry, site_path)
        _check_site_operators(sites, site_path, operators)
    else:
        site_path = None
        sites = pd.DataFrame(columns=["site", "region", "operator", "existing_mw", "queued_mw",
                                      "queue_year", "energy_price_usd_per_mwh"])
        sites = sites.set_index("site", drop=False)

    contracts = _check_contracts(read_table(ct_path, CONTRACTS), ct_path, operators, customers,
                                 sites, spec, path)
    if spec.debt is not None:
        debt_path = table("debt")
        debt = check_debt(read_table(debt_path, DEBT), debt_path, operators, spec.years.start)
    else:
        debt_path, debt = None, _empty_debt()
    check_interest(operators, debt, op_path, spec.years.start)
    check_shock_targets(spec.shocks, operators, customers, spec.years, file=path,
                        yaml_path=path)
    paths = {"portfolio": str(path), "operators": str(op_path), "contracts": str(ct_path),
             "customers": str(cu_path), "sites": str(site_path or ""),
             "debt": str(debt_path or "")}
    return Portfolio(path=path, spec=spec, operators=operators.set_index("operator", drop=False),
                     contracts=contracts.set_index("contract", drop=False),
                     customers=customers.set_index("customer", drop=False), sites=sites,
                     table_paths=paths, debt=debt.set_index("tranche", drop=False))


def _empty_debt() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c in ("amount_usd", "rate", "draw_year",
                                                           "maturity_year") else object)
                         for c in DEBT.names}).set_index("tranche", drop=False)


def _check_bundled_portfolio_sites(sites: pd.DataFrame, regions: pd.DataFrame) -> None:
    """The bundled portfolio's sites lie in the bundled regions: with a scenario of regions
    of its own the user needs a portfolio of their own (the error names no bundled file)."""
    unknown = sorted({str(r) for r in sites["region"].dropna()} - {str(r) for r in regions.index})
    if unknown:
        raise InputError(f"the bundled portfolio's sites lie in {', '.join(unknown)}, which the "
                         f"scenario's own regions ({Path(regions.attrs.get('path', '')).name}) "
                         "do not have: give a portfolio of your own (dcplan stress PORTFOLIO, "
                         "docs/stress.md)")


def _first(mask: pd.Series | np.ndarray) -> int | None:
    arr = np.asarray(mask, dtype=bool)
    return int(np.flatnonzero(arr)[0]) if arr.any() else None


def _check_operators(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    bad = _first(~df["kind"].isin(list(OPERATOR_KINDS)))
    if bad is not None:
        raise row_error(df, bad, "kind", f"expected one of {', '.join(OPERATOR_KINDS)}, got "
                        f"'{df.at[bad, 'kind']}'", path)
    no_fleet = _first(df["kind"].isin(list(GPU_OWNERS)) & df["fleet_h100e_per_mw"].isna()
                      & df["fleet_chip"].isna())
    if no_fleet is not None:
        raise row_error(df, no_fleet, "fleet_h100e_per_mw",
                        f"expected a number > 0 (or a fleet_chip) for a "
                        f"{df.at[no_fleet, 'kind']} operator (its GPU fleet is re-let at the "
                        "value of compute), got blank", path)
    return df


def _check_customers(df: pd.DataFrame, path: Path, operators: pd.DataFrame) -> pd.DataFrame:
    both = _first(df["customer"].isin(list(operators["operator"])))
    if both is not None:
        raise row_error(df, both, "customer", f"'{df.at[both, 'customer']}' is also an operator "
                        "id (an operator that buys capacity is a lessee in contracts, not a "
                        "customer row)", path)
    check_references(df, "guarantor", df["customer"], "guarantor (a customer id)", path)
    own = _first(df["guarantor"] == df["customer"])
    if own is not None:
        raise row_error(df, own, "guarantor", "a customer cannot guarantee itself", path)
    lonely = _first((df["guaranteed_share"] > 0) & df["guarantor"].isna())
    if lonely is not None:
        raise row_error(df, lonely, "guarantor", "expected a guarantor because "
                        "guaranteed_share > 0, got blank", path)
    return df


def _check_site_operators(sites: pd.DataFrame, path: Path, operators: pd.DataFrame) -> None:
    df = sites.reset_index(drop=True)
    blank = _first(df["operator"].isna())
    if blank is not None:
        raise row_error(df, blank, "operator", "expected the operator that owns the site "
                        "(required in a portfolio), got blank", path)
    check_references(df, "operator", operators["operator"], "operator", path)


def _check_contracts(df: pd.DataFrame, path: Path, operators: pd.DataFrame,
                     customers: pd.DataFrame, sites: pd.DataFrame, spec: PortfolioFile,
                     yaml_path: Path) -> pd.DataFrame:
    check_references(df, "lessor", operators["operator"], "lessor (an operator id)", path)
    parties = list(operators["operator"]) + list(customers["customer"])
    check_references(df, "lessee", parties, "lessee (an operator or customer id)", path)
    same = _first(df["lessor"] == df["lessee"])
    if same is not None:
        raise row_error(df, same, "lessee", "lessee must differ from lessor", path)
    if df["site"].notna().any():
        if spec.sites is None:
            i = _first(df["site"].notna())
            raise row_error(df, int(i), "site", "names a site but the portfolio has no "
                            "sites table (add 'sites:' to the portfolio YAML)", path)
        check_references(df, "site", sites.index, "site", path)
    rate, total = df["usd_per_kw_month"].notna(), df["total_value_usd"].notna()
    both = _first(rate & total)
    if both is not None:
        raise row_error(df, both, "total_value_usd", "give either usd_per_kw_month or "
                        "total_value_usd, not both", path)
    neither = _first(~rate & ~total)
    if neither is not None:
        raise row_error(df, neither, "usd_per_kw_month", "expected a price: usd_per_kw_month "
                        "or total_value_usd, got both blank", path)
    df["annual_usd_per_year"] = [
        annual_payment_usd_per_year(m, r, t, n) for m, r, t, n in
        zip(df["mw"], df["usd_per_kw_month"], df["total_value_usd"], df["term_years"])]
    return df


def check_shock_targets(
    shocks: list[Shock],
    operators: pd.DataFrame,
    customers: pd.DataFrame,
    years: YearSpan,
    *,
    file: str | Path | None = None,
    yaml_path: Path | None = None,
) -> None:
    """Every default target is a known party; every start year inside the horizon."""
    known = set(operators["operator"]) | set(customers["customer"])
    for i, s in enumerate(shocks):
        where: dict[str, Any] = {}
        if yaml_path is not None:
            where = {"file": file, "key": f"shocks.{i}",
                     "line": _yaml_line(yaml_path, ("shocks", str(i)))}
        label = "" if yaml_path is not None else f"--shock '{s.text()}': "
        if s.kind == "default" and s.target not in known:
            close = difflib.get_close_matches(str(s.target), sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise InputError(f"{label}unknown default target '{s.target}'{hint}; known: "
                             f"{', '.join(sorted(known))}", **where)
        if not years.start <= s.start_year <= years.end:
            raise InputError(f"{label}start year {s.start_year} is outside the portfolio "
                             f"years {years.start}–{years.end}", **where)


def read_portfolio_file(path: Path) -> PortfolioFile:
    """Parse and validate the YAML; errors carry the line of the bad key."""
    raw = read_yaml_mapping(path, "a portfolio YAML", "portfolio keys")
    try:
        return PortfolioFile.model_validate(raw)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e.get("type") != "extra_forbidden")
        err = errors[0]
        loc = tuple(str(p) for p in err["loc"])
        kind = err.get("type", "")
        if kind == "extra_forbidden":
            msg = "unknown key (see docs/stress.md for the portfolio schema)" + _did_you_mean(loc)
        elif kind == "missing":
            msg = "required key is missing"
        else:
            msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
            got = err.get("input")
            if got is not None and not isinstance(got, (dict, list)) and kind != "value_error":
                msg += f", got {got!r}"
        raise InputError(msg, file=path, key=".".join(loc) or "(top level)",
                         line=_yaml_line(path, loc)) from None


def _did_you_mean(loc: tuple[str, ...]) -> str:
    model: Any = PortfolioFile
    for part in loc[:-1]:
        if part.isdigit():
            continue
        field = model.model_fields.get(part)
        ann = getattr(field, "annotation", None)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
        elif part == "shocks":
            model = Shock
        else:
            return ""
    close = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""

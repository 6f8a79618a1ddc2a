r"""Hedged plans: the extensive form of the capacity model over a scenario tree.

Every scenario k is the capacity model exactly as a single run builds it
(:func:`models.model.build_model`); the extensive form holds one copy per scenario
as a sub-block and adds what ties them together.

Commitments
-----------
A decision is *committed* when it can no longer be undone, its lead time before it
takes effect (:func:`commitments`):

==========  ===================  ===============================================
kind        variable             committed in
==========  ===================  ===============================================
facility    ``Build[s,y]``       y − the site's construction lead (0 without one)
grid        ``Grid[s,y]``        y − interconnect_lead_years(r(s))
onsite      ``Onsite[s,y]``      y − onsite.lead_years
onsite      ``OnsiteTech[s,t,y]``  y − lead_t (layer ``onsite_technologies``; t in the
                                 key's third field, where chips carry the chip)
chips       ``IT[s,g,y]``        y (chips are bought in the year they install)
==========  ===================  ===============================================

Non-anticipativity
------------------
With reveal years R₁ < … < R_n, a commitment made in year c belongs to stage
``σ(c) = #{i : R_i ≤ c}``. Scenarios k, k′ whose branches agree on the first σ(c)
reveals cannot be told apart in year c, so (``Non_Anticipativity``)

    x_k[kind, s, g, c] = x_k′[kind, s, g, c]   for path_k[:σ(c)] = path_k′[:σ(c)],

and σ(c) = n (committed after the last reveal) is recourse, free per scenario. A
commitment that falls outside one scenario's horizon (its lead there is longer) has no
variable in that scenario and binds only the others.

Objective
---------
With C_k the present cost of scenario k (its own objective, million USD) and p_k its
probability::

    min  Σ_k p_k C_k  +  λ · ( η + 1/(1−α) · Σ_k p_k z_k )          (Expected_Cost + λ·CVaR)
    s.t. z_k ≥ C_k − η,  z_k ≥ 0                                     (Cvar_Excess)

the Rockafellar–Uryasev linearisation of CVaR_α; at the optimum η is the value-at-risk
and the bracket the mean of the worst (1 − α) share of outcomes. λ = 0 is risk-neutral
(no η, z variables are added).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo

from models.capacity import CapacityInputs, IndexSets
from models.levers import construction, onsite_tech

#: The decision kinds a hedged plan commits, in report order.
KINDS = ("facility", "grid", "onsite", "chips")

#: (kind, site, chip (chips) or technology (per-technology on-site) or "", commit year)
CommitKey = tuple[str, str, str, int]


@dataclass(frozen=True)
class Tree:
    """A scenario tree: probabilities, branch paths and reveal years."""

    probability: Mapping[str, float]
    path: Mapping[str, Sequence[str]]
    reveal_years: Sequence[int]

    def stage(self, commit_year: int) -> int:
        """σ(c): how many reveal years have passed when a commitment is made in ``c``.

        Examples
        --------
        >>> t = Tree({"a": 1.0}, {"a": ["a"]}, [2029])
        >>> t.stage(2028), t.stage(2029)
        (0, 1)
        """
        return sum(1 for r in self.reveal_years if r <= commit_year)

    def group(self, name: str, commit_year: int) -> tuple[str, ...]:
        """The branch prefix scenario ``name`` shares with the futures it cannot yet tell apart."""
        return tuple(self.path[name][: self.stage(commit_year)])

    def is_recourse(self, commit_year: int) -> bool:
        """Committed after the last reveal: free in every scenario."""
        return self.stage(commit_year) >= len(self.reveal_years)


def commit_lead_years(d: CapacityInputs) -> dict[str, Any]:
    """Lead times by kind of the capacity model of ``d`` (facility and grid: per site; a
    hall's is the site's own construction lead where the layer ``construction`` gives one,
    else ``facility_lead_years``)."""
    region = d.sites["region"]
    lead = d.regions["interconnect_lead_years"].astype(int)
    return {
        "facility": construction.lead_years(d),
        "grid": {s: int(lead[region[s]]) for s in d.sites.index},
        "onsite": int(d.onsite_lead_years),
        "chips": 0,
    }


def commit_index(d: CapacityInputs, ix: IndexSets) -> dict[CommitKey, tuple[str, tuple]]:
    """Every committable variable of the capacity model of ``d``: commitment → (Var, index).

    ``chip`` is ``""`` except for chips. Computed from the index sets alone, so the
    commitments of a future are known without building its model.
    """
    lead = commit_lead_years(d)
    out: dict[CommitKey, tuple[str, tuple]] = {}
    tech_lead = onsite_tech_lead_years(d)
    for s in ix.sites:
        for y in ix.years:
            out["facility", s, "", y - lead["facility"][s]] = ("Build", (s, y))
    for s, y in ix.grid_sy:
        out["grid", s, "", y - lead["grid"][s]] = ("Grid", (s, y))
    for s, y in ix.onsite_sy:
        out["onsite", s, "", y - lead["onsite"]] = ("Onsite", (s, y))
    for s, t, y in (onsite_tech.build_rows(d) if tech_lead else []):
        out["onsite", s, t, y - tech_lead[t]] = ("OnsiteTech", (s, t, y))
    for s, g, y in ix.it_sgy:
        out["chips", s, g, y] = ("IT", (s, g, y))
    return out


def onsite_tech_lead_years(d: CapacityInputs) -> dict[str, int]:
    """Lead time of each on-site technology (layer ``onsite_technologies``; {} when off)."""
    if not onsite_tech.active(d):
        return {}
    table = d.levers.onsite_tech.table
    return {str(t): int(v) for t, v in table["lead_years"].items()}


def commitments(m: pyo.ConcreteModel) -> dict[CommitKey, Any]:
    """Every committable variable of the capacity model ``m``: commitment → VarData."""
    return {key: getattr(m, name)[idx] for key, (name, idx) in commit_index(m.inputs, m.ix).items()}


def energize_years(m: pyo.ConcreteModel) -> dict[CommitKey, int]:
    """The year each commitment of the capacity model ``m`` takes effect: the year of its
    variable's index (what :func:`energize_year` computes for one key, for all at once)."""
    return {key: int(idx[-1]) for key, (_, idx) in commit_index(m.inputs, m.ix).items()}


def energize_year(d: CapacityInputs, key: CommitKey) -> int:
    """The year a commitment takes effect in the model of ``d``."""
    kind, s, g, c = key
    if kind == "onsite" and g:
        return c + onsite_tech_lead_years(d)[g]
    lead = commit_lead_years(d)[kind]
    return c + (lead[s] if isinstance(lead, dict) else lead)


def scenario_objective(m: pyo.ConcreteModel) -> Any:
    """The single active objective of a scenario model."""
    objectives = list(m.component_data_objects(pyo.Objective, active=True))
    if len(objectives) != 1:
        raise ValueError(f"a scenario model needs one active objective, has {len(objectives)}")
    return objectives[0]


def extensive_form(
    models: Mapping[str, pyo.ConcreteModel],
    tree: Tree,
    *,
    cvar_alpha: float = 0.9,
    cvar_weight: float = 0.0,
) -> pyo.ConcreteModel:
    """The extensive form: one block per scenario, non-anticipativity, expected cost + λ·CVaR.

    Parameters
    ----------
    models : scenario name → its capacity model (each adopted as a sub-block; its own
        objective is deactivated and becomes ``Scenario_Cost[k]``).
    tree : probabilities, paths and reveal years.
    cvar_alpha, cvar_weight : α and λ of the CVaR term (λ = 0: risk-neutral).

    Returns
    -------
    A model with ``SCENARIOS``, ``Scenario_Cost[k]`` (million USD, the scenario's own
    objective), ``Expected_Cost``, ``Non_Anticipativity[kind, s, g, c, k]`` (scenario k's
    commitment equals the first scenario of its group), with λ > 0 ``Eta``, ``Excess[k]``,
    ``Cvar_Excess[k]`` and ``CVaR``; the objective ``Hedged_Cost``. ``m.scenario_block``
    maps names to blocks.

    """
    names = list(models)
    ef = pyo.ConcreteModel(name="dcplan hedged plan")
    ef.SCENARIOS = pyo.Set(initialize=names, ordered=True)
    ef.scenario_block = {}
    costs: dict[str, Any] = {}
    for i, k in enumerate(names):
        m = models[k]
        obj = scenario_objective(m)
        costs[k] = obj.expr
        obj.deactivate()
        ef.add_component(f"scenario_{i}", m)
        ef.scenario_block[k] = m

    groups: dict[tuple, list[tuple[str, Any]]] = {}
    for k in names:
        for key, var in commitments(models[k]).items():
            if tree.is_recourse(key[3]):
                continue
            groups.setdefault((key, tree.group(k, key[3])), []).append((k, var))
    links = {(*key, k): (var, members[0][1])
             for (key, _), members in groups.items() for k, var in members[1:]}
    ef.NONANT = pyo.Set(dimen=5, initialize=list(links), ordered=True)

    def non_anticipativity(ef: Any, kind: str, s: str, g: str, c: int, k: str) -> Any:
        """x_k[kind,s,g,c] = x_first(group)[kind,s,g,c]: committed before the future is known."""
        var, first = links[kind, s, g, c, k]
        return var - first == 0

    ef.Non_Anticipativity = pyo.Constraint(ef.NONANT, rule=non_anticipativity,
                                           doc=non_anticipativity.__doc__)
    ef.Scenario_Cost = pyo.Expression(ef.SCENARIOS, rule=lambda ef, k: costs[k],
                                      doc="present cost of scenario k, million USD")
    ef.Expected_Cost = pyo.Expression(
        expr=sum(tree.probability[k] * ef.Scenario_Cost[k] for k in names),
        doc="Σ_k p_k C_k, million USD")
    risk: Any = 0
    if cvar_weight > 0:
        ef.Eta = pyo.Var(domain=pyo.Reals, doc="value-at-risk η, million USD")
        ef.Excess = pyo.Var(ef.SCENARIOS, domain=pyo.NonNegativeReals,
                            doc="z_k: cost of k above η, million USD")

        def cvar_excess(ef: Any, k: str) -> Any:
            """z_k ≥ C_k − η."""
            return ef.Excess[k] - ef.Scenario_Cost[k] + ef.Eta >= 0

        ef.Cvar_Excess = pyo.Constraint(ef.SCENARIOS, rule=cvar_excess, doc=cvar_excess.__doc__)
        ef.CVaR = pyo.Expression(
            expr=ef.Eta + sum(tree.probability[k] * ef.Excess[k] for k in names)
            / (1.0 - cvar_alpha), doc="CVaR_α of the scenario costs, million USD")
        risk = cvar_weight * ef.CVaR
    ef.Hedged_Cost = pyo.Objective(expr=ef.Expected_Cost + risk, sense=pyo.minimize,
                                   doc="Σ_k p_k C_k + λ·CVaR_α, million USD")
    return ef


def cvar(costs: Mapping[str, float], probability: Mapping[str, float], alpha: float) -> float:
    """CVaR_α of a discrete cost distribution: the mean of its worst (1 − α) share.

    Examples
    --------
    >>> cvar({"a": 1.0, "b": 3.0}, {"a": 0.5, "b": 0.5}, 0.5)
    3.0
    >>> cvar({"a": 1.0, "b": 3.0}, {"a": 0.5, "b": 0.5}, 0.0)
    2.0
    """
    order = sorted(costs, key=lambda k: costs[k], reverse=True)
    tail, acc, left = 1.0 - alpha, 0.0, 1.0 - alpha
    for k in order:
        take = min(probability[k], left)
        acc += take * costs[k]
        left -= take
        if left <= 1e-15:
            break
    return acc / tail

"""The planner's levers: optional layers on the capacity model, one module each.

Each lever module has ``active(d)`` (does the scenario set it?) and
``add(model, data)``, which adds its sets, parameters, variables, named
expressions, constraints and cost component to the capacity model
(:mod:`models.capacity`); :func:`models.model.build_model` calls them in the order
of :data:`LAYERS`. The capacity model never imports a lever. Two levers change only
the index sets and have no ``add``: :mod:`~models.levers.fleet` (an existing fleet
in ``Fleet_Installed``'s right-hand side) and :mod:`~models.levers.moratoria`
(Grid[s,y] left out of ``GRID_SY``).

==========================  =========================================================
lever (scenario key)        module: adds
==========================  =========================================================
``build_block_mw``,         :mod:`~models.levers.lumpy`: ``NBuild``/``NGrid`` (integer),
``grid_block_mw``           ``Build_Blocks`` (L1a), ``Grid_Blocks`` (L1b): a MILP
``fleet``                   :mod:`~models.levers.fleet`: F[s,g,y] in the index sets
``budget``                  :mod:`~models.levers.budget`: ``Capex_Spend``,
                            ``Capital_Budget``, ``…_Region``, ``…_Operator`` (L3a)
``carbon``                  :mod:`~models.levers.carbon`: ``Site_Emissions``,
                            ``Emissions``, ``Carbon_Accounting`` (L3b), ``Carbon_Cap``
                            (L3c), cost component ``carbon``
``water``                   :mod:`~models.levers.water`: ``Water_Use``, ``Water_Site``,
                            ``Water_Region`` (L4a)
``moratoria``               :mod:`~models.levers.moratoria`: Grid[s,y] out of ``GRID_SY``
``regional_demand``         :mod:`~models.levers.regional_demand`: ``Regional_Served``,
                            ``Regional_Demand`` (L5a)
``forced_builds``           :mod:`~models.levers.forced_builds`: ``Forced_Build`` (L5b)
``nonfirm``                 :mod:`~models.levers.nonfirm`: ``NonFirm``, ``NonFirm_Draw``
                            (N1), ``NonFirm_Headroom`` (N2), curtailment cover (N3–N7),
                            ``NonFirm_Within_Load`` (N8), constraint (3) extended; cost components
                            ``nonfirm``, ``battery``, ``lost_compute``, ``onsite_cover``,
                            ``capacity_credit``
``hours``                   :mod:`~models.levers.hours`: hourly operation of the non-firm
                            connections on representative days, replacing N3–N7:
                            ``Hourly_Draw`` (H1), ``Hourly_Headroom`` (H2), ``Hourly_Cover``
                            (H3), … ``Battery_State`` (H7), yearly links (H9, H10)
``construction``,           :mod:`~models.levers.construction`: ``Build_Lead`` (L6a)
``facility_lead_years``
``accelerator_supply``      :mod:`~models.levers.accelerator_supply`: ``Bought``,
                            ``Accelerator_Supply`` (L6b)
``firm_headroom``           :mod:`~models.levers.national_headroom`:
                            ``Grid_Headroom_National`` (L6c); the regional rows feed (5)
``market``                  :mod:`~models.levers.facility_om`: cost component
                            ``facility_om``
``onsite_technologies``     :mod:`~models.levers.onsite_tech`: ``OnsiteTech``,
                            ``OnsiteGen``, ``Onsite_Tech_Split`` (O1),
                            ``Onsite_Tech_Output`` (O2), ``Onsite_Reserve`` (O3, replaces
                            4), ``Onsite_Supply`` (O4), ``Onsite_Total`` (O5); cost
                            component ``onsite_om``; ``onsite`` and ``fuel`` per technology
==========================  =========================================================

The levers' data (:class:`Levers`) is in :mod:`models.levers.data`; plain words for
their rows in :mod:`models.levers.describe`.
"""

from __future__ import annotations

from models.capacity import CapacityInputs
from models.levers import (
    accelerator_supply,
    budget,
    carbon,
    construction,
    facility_om,
    forced_builds,
    hours,
    lumpy,
    national_headroom,
    nonfirm,
    onsite_tech,
    regional_demand,
    water,
)
from models.levers.data import (
    COOLING_WATER,
    EMISSIONS_SCALE,
    ONSITE_GAS_T_PER_MWH,
    WATER_SCALE,
    ForcedBuild,
    Hours,
    Levers,
    NonFirm,
    OnsiteTech,
    RegionalRequirement,
    per_year,
    water_per_mwh,
)

#: The lever modules with components, in the order they are added.
LAYERS = (lumpy, budget, carbon, water, regional_demand, forced_builds, construction,
          accelerator_supply, national_headroom, facility_om, nonfirm, hours, onsite_tech)

__all__ = [
    "COOLING_WATER", "EMISSIONS_SCALE", "LAYERS", "ONSITE_GAS_T_PER_MWH", "WATER_SCALE",
    "ForcedBuild", "Hours", "Levers", "NonFirm", "OnsiteTech", "RegionalRequirement",
    "active_levers", "per_year", "water_per_mwh",
]


def active_levers(d: CapacityInputs) -> list[str]:
    """The levers set on a model instance, as scenario keys (``[]`` without levers)."""
    return d.levers.active() if d.levers is not None else []

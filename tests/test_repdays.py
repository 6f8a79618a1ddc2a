"""Representative days (grids.repdays): K respected, weights sum to a year, peak days kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grids.hourly import load_hourly, select_years
from grids.repdays import YEAR_DAYS, representative_days
from grids.tables import InputError


@pytest.fixture(scope="module")
def record() -> pd.DataFrame:
    return select_years(load_hourly(), [2022, 2023, 2024])


def _day(load: pd.DataFrame, day: pd.Timestamp) -> np.ndarray:
    return load.loc[day:day + pd.Timedelta(hours=23)].to_numpy()


@pytest.mark.parametrize("k", [4, 12])
def test_k_days_weights_and_the_system_peak_days(record: pd.DataFrame, k: int) -> None:
    rd = representative_days(record, k)
    assert rd.k == k
    assert rd.load_mw.index.get_level_values("period").nunique() == k
    assert len(rd.load_mw) == 24 * k and list(rd.load_mw.columns) == list(record.columns)
    assert rd.weight_days.sum() == pytest.approx(YEAR_DAYS, abs=1e-9)
    assert (rd.weight_days > 0).all()
    system = record.sum(axis=1)
    summer = system[system.index.month.isin([6, 7, 8])].idxmax().normalize()
    winter = system[system.index.month.isin([12, 1, 2])].idxmax().normalize()
    assert rd.peak_days["system_summer"][1] == summer
    assert rd.peak_days["system_winter"][1] == winter
    n_days = len(record) // 24
    for _, (period, day) in rd.peak_days.items():
        # the peak day is a period of its own: exactly that day, weighing one record day
        np.testing.assert_allclose(rd.load_mw.loc[period].to_numpy(), _day(record, day),
                                   rtol=1e-9)
        assert rd.weight_days[period] == pytest.approx(YEAR_DAYS / n_days)
        assert (rd.assignment == period).sum() == 1 and rd.assignment[day] == period
    # the system's peak hour is in the representative days, so a peak-based charge sees it
    assert rd.load_mw.sum(axis=1).max() == pytest.approx(system.max(), rel=1e-9)


def test_region_peaks_are_kept_too(record: pd.DataFrame) -> None:
    rd = representative_days(record, 16, region_peaks=True)
    assert rd.k == 16
    for region in record.columns:
        period, day = rd.peak_days[region]
        assert rd.load_mw.loc[period, region].max() == pytest.approx(record[region].max())
        assert day == record[region].idxmax().normalize()


@pytest.mark.parametrize("k", [2, 10_000])
def test_k_outside_its_range_is_one_line(record: pd.DataFrame, k: int) -> None:
    with pytest.raises(InputError, match=r"representative days: expected k from 3 .* got"):
        representative_days(record, k)

"""The Eisenberg–Noe clearing LP (models/exposure.py): hand cases and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from models.exposure import (
    clearing_fixed_point,
    clearing_lp,
    eisenberg_noe_map,
    relative_liabilities,
)


def test_three_node_chain_by_hand() -> None:
    """C owes B 120, B owes A 50 and 50 outside, A owes 30 outside.

    C has 60 of its own: pays 60 (defaults). B receives 60, owes 100: pays 60, Π_BA = 0.5,
    so A receives 30 and pays its 30 in full. A ends with 0 equity, B and C default.
    Nodes in order (A, B, C).
    """
    L = np.array([[0.0, 0.0, 0.0],
                  [50.0, 0.0, 0.0],
                  [0.0, 120.0, 0.0]])
    b = np.array([30.0, 50.0, 0.0])
    e = np.array([0.0, 0.0, 60.0])
    c = clearing_lp(L, e, b)
    np.testing.assert_allclose(c.payments, [30.0, 60.0, 60.0], atol=1e-6)
    np.testing.assert_allclose(c.received, [30.0, 60.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(c.recovery, [1.0, 0.6, 0.5], atol=1e-9)
    assert c.defaulted.tolist() == [False, True, True]
    np.testing.assert_allclose(c.equity, [0.0, 0.0, 0.0], atol=1e-6)


def test_closed_cycle_takes_the_greatest_clearing_vector() -> None:
    """Two nodes owe each other 10 and have nothing: p = 0 and p = (10, 10) both clear; the
    LP (and the iteration from p̄) give the greatest, (10, 10), and nobody defaults."""
    L = np.array([[0.0, 10.0], [10.0, 0.0]])
    e = np.zeros(2)
    for c in (clearing_lp(L, e), clearing_fixed_point(L, e)):
        np.testing.assert_allclose(c.payments, [10.0, 10.0], atol=1e-9)
        assert not c.defaulted.any()


def test_solvent_network_pays_in_full_and_keeps_the_rest() -> None:
    L = np.array([[0.0, 5.0], [2.0, 0.0]])
    e = np.array([10.0, 1.0])
    b = np.array([1.0, 0.0])
    c = clearing_lp(L, e, b)
    np.testing.assert_allclose(c.payments, c.due, atol=1e-9)
    # equity = e + received − paid: A 10 + 2 − 6, B 1 + 5 − 2
    np.testing.assert_allclose(c.equity, [6.0, 4.0], atol=1e-9)


def test_empty_network() -> None:
    c = clearing_lp(np.zeros((0, 0)), np.zeros(0), np.zeros(0))
    assert c.payments.shape == (0,)


def test_amounts_in_usd_scale_are_handled() -> None:
    """Billions of USD: the LP is scaled internally; the result is exact to < 1 USD."""
    L = np.array([[0.0, 7.3e9], [0.0, 0.0]])
    e = np.array([2.1e9, 0.0])
    b = np.array([2.74e9, 0.3e9])
    c = clearing_lp(L, e, b)
    assert c.payments[0] == pytest.approx(2.1e9, abs=1.0)
    assert c.payments[1] == pytest.approx(0.3e9, abs=1.0)  # receives 7.3/10.04 · 2.1e9


@pytest.mark.parametrize("bad", [
    (np.array([[0.0, -1.0], [0.0, 0.0]]), np.zeros(2)),
    (np.array([[1.0, 0.0], [0.0, 0.0]]), np.zeros(2)),
    (np.zeros((2, 3)), np.zeros(2)),
    (np.zeros((2, 2)), np.zeros(3)),
    (np.zeros((2, 2)), np.array([np.nan, 0.0])),
])
def test_bad_arrays_are_rejected(bad: tuple[np.ndarray, np.ndarray]) -> None:
    with pytest.raises(ValueError):
        clearing_lp(bad[0], bad[1])


@st.composite
def networks(draw: st.DrawFn, contracting: bool = True) -> tuple[np.ndarray, ...]:
    """Random networks of 1–7 nodes; with ``contracting`` every node owes at least 20 % of
    its interbank debts outside (row sums of Π ≤ 1/1.2, so the iteration converges fast)."""
    n = draw(st.integers(1, 7))
    amounts = st.floats(0.0, 100.0, allow_nan=False, allow_infinity=False)
    L = draw(arrays(float, (n, n), elements=amounts))
    mask = draw(arrays(bool, (n, n)))
    L = np.where(mask, L, 0.0)
    np.fill_diagonal(L, 0.0)
    e = draw(arrays(float, (n,), elements=amounts))
    extra = draw(arrays(float, (n,), elements=st.floats(0.0, 50.0)))
    b = (0.2 * L.sum(axis=1) + 0.01 + extra) if contracting else extra
    return L, e, b


@settings(max_examples=150, deadline=None)
@given(networks())
def test_lp_equals_the_fixed_point_of_the_eisenberg_noe_map(
        net: tuple[np.ndarray, ...]) -> None:
    L, e, b = net
    lp = clearing_lp(L, e, b)
    fp = clearing_fixed_point(L, e, b)
    scale = max(1.0, float(lp.due.max()))
    np.testing.assert_allclose(lp.payments, fp.payments, atol=1e-7 * scale)
    clear = np.abs(fp.payments - fp.due) > 1e-5 * scale  # away from the default tolerance
    np.testing.assert_array_equal(lp.defaulted[clear], fp.defaulted[clear])


@settings(max_examples=150, deadline=None)
@given(networks(contracting=False))
def test_lp_solution_is_a_clearing_vector(net: tuple[np.ndarray, ...]) -> None:
    """For any network (also without outside debts): 0 ≤ p ≤ p̄, p = Φ(p), equity ≥ 0,
    a default is exactly a payment short of the obligation."""
    L, e, b = net
    c = clearing_lp(L, e, b)
    due, rel = relative_liabilities(L, b)
    scale = max(1.0, float(due.max()), float(e.max()))
    assert (c.payments >= -1e-9).all() and (c.payments <= due + 1e-9 * scale).all()
    np.testing.assert_allclose(eisenberg_noe_map(c.payments, due, rel, e), c.payments,
                               atol=1e-6 * scale)
    assert (c.equity >= 0).all()
    np.testing.assert_array_equal(c.defaulted, c.payments < due - 1e-7 * max(1.0, due.max()))


@settings(max_examples=80, deadline=None)
@given(networks(), st.integers(0, 6), st.floats(0.0, 100.0))
def test_more_outside_assets_never_lower_payments(net: tuple[np.ndarray, ...], k: int,
                                                  more: float) -> None:
    """Φ is monotone in e, so the greatest clearing vector is too."""
    L, e, b = net
    e2 = e.copy()
    e2[k % len(e)] += more
    p1, p2 = clearing_lp(L, e, b).payments, clearing_lp(L, e2, b).payments
    assert (p2 >= p1 - 1e-6 * max(1.0, float(L.sum() + b.sum()))).all()

"""What every class of voters holds during one MES pass, exact where a decision needs it.

A class is born in a round from a parent class whose members paid their weight times that
round's share (their utility over the project's total, times what was left to pay). So its
budget is its parent's minus that payment, and its slope in the endowment step k likewise.
Exact budgets are integers in units of 1/den, where den grows in rounds whose share is not
whole. Each class keeps its budget in units of the den of the round it was born in, so a
larger den costs nothing until a budget is read (rescaling every class each round was most
of a pass's time). A float copy of every budget, in currency, orders classes and settles the
comparisons that are clear by more than `margin`, the float copy's error bound; the others
are decided on the exact values.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

BROKE = 0  # the class of voters with nothing left, now and for larger k
FIRST = 1  # the class every voter starts in
# Each float budget comes from at most one subtraction per round, each off by at most a
# few units in the last place of the endowment: far below a billionth of it.
RELATIVE_ERROR = 1e-9


class Budgets:
    def __init__(self, den: int, endowment: Fraction, slope: int) -> None:
        """Every voter in FIRST with `endowment`; `slope` (units of 1/den per step of k) is
        0 unless the pass is tracked."""
        capacity = 64
        self.born = np.zeros(capacity, dtype=np.int64)  # the round a class was born in
        self.approx = np.zeros(capacity)  # budget in currency, as a float
        self.value = np.zeros(capacity, dtype=object)  # exact, units of 1/dens[born]
        self.slope = np.zeros(capacity, dtype=object)
        self.value[FIRST], self.slope[FIRST] = int(endowment * den), slope
        self.tracked = slope != 0  # else every slope stays 0
        self.approx[FIRST] = float(endowment)
        self.size = FIRST + 1  # the number the next class gets
        self.dens = [den]  # den in each round (0: the start)
        self.margin = RELATIVE_ERROR * float(endowment)
        self._scales = np.ones(0, dtype=object)  # den // dens[r], for the current den

    @property
    def den(self) -> int:
        return self.dens[-1]

    def pay(self, grow: int, share: int, share_slope: int, parents: np.ndarray,
            weights: np.ndarray | None, weights_f: np.ndarray | None) -> np.ndarray:
        """A purchase: den grows by `grow`; each class in `parents` pays `weights` (1 when
        None) times `share` and moves to a new class of its own. Returns their numbers."""
        self.dens.append(self.dens[-1] * grow)
        scales = self._scales = np.append(self._scales_to_den(len(self.dens) - 1) * grow, 1)
        start, end = self.size, self.size + len(parents)
        self._reserve(end)
        new = slice(start, end)
        self.born[new] = len(self.dens) - 1
        w = share if weights is None else weights * share
        self.value[new] = self.value[parents] * scales[self.born[parents]] - w
        if self.tracked:
            w = share_slope if weights is None else weights * share_slope
            self.slope[new] = self.slope[parents] * scales[self.born[parents]] - w
        self.approx[new] = self.approx[parents] - share / self.den * (
            1.0 if weights_f is None else weights_f)
        self.size = end
        return np.arange(start, end, dtype=np.int64)

    def exact(self, ids: np.ndarray, slopes: bool = True) -> tuple:
        """Exact budgets and (unless not asked for: None) slopes of these classes, in units
        of 1/den (object arrays)."""
        scale = self._scales_to_den()[self.born[ids]]
        return self.value[ids] * scale, self.slope[ids] * scale if slopes else None

    def _scales_to_den(self, rounds: int | None = None) -> np.ndarray:
        """dens[rounds - 1] // dens[r] for every round r before `rounds` (all by default)."""
        rounds = len(self.dens) if rounds is None else rounds
        if len(self._scales) != rounds:
            last = self.dens[rounds - 1]
            self._scales = np.array([last // d for d in self.dens[:rounds]], dtype=object)
        return self._scales

    def shift(self, steps: int) -> None:
        """Move every budget to the endowment `steps` further on, along its slope."""
        live = slice(FIRST, self.size)
        self.value[live] += self.slope[live] * steps
        dens = np.array(self.dens, dtype=object)
        self.approx[live] = (self.value[live] / dens[self.born[live]]).astype(np.float64)
        self.margin = RELATIVE_ERROR * self.approx[FIRST]

    def copy(self) -> Budgets:
        other = Budgets.__new__(Budgets)
        for name in ("born", "approx", "value", "slope"):
            setattr(other, name, getattr(self, name)[:self.size].copy())
        other.dens = list(self.dens)
        other.size, other.margin, other.tracked = self.size, self.margin, self.tracked
        other._scales = self._scales
        return other

    def _reserve(self, end: int) -> None:
        if end <= len(self.born):
            return
        capacity = max(end, 2 * len(self.born))
        for name, fill in (("born", 0), ("approx", 0.0), ("value", 0), ("slope", 0)):
            old = getattr(self, name)
            grown = np.full(capacity, fill, dtype=old.dtype)
            grown[:self.size] = old[:self.size]
            setattr(self, name, grown)

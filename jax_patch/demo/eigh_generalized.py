# Copyright 2026 The jax_patch Authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     https://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""Stock JAX against jax_patch for eigh(a, b), H C = S C diag(e) (issue 12).

  python -m jax_patch.demo.eigh_generalized

Every number is computed when this runs.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from jax_patch.demo._common import row, stock_and_patched

TITLE = "Generalized eigenproblem eigh(a, b) (JAX #5461)"


def _methane(stretch=0.):
  """Extended-Hueckel CH4 (C 2s, 2p; four H 1s): the Hamiltonian H and the
  overlap S, with the overlaps of the first C-H bond scaled by
  1 - stretch, as if that bond were stretched."""
  corners = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]])
  s = np.eye(8)
  s[4:, 4:] += 0.2 * (1 - np.eye(4))
  for i, u in enumerate(corners / np.sqrt(3)):
    bond = np.r_[0.55, 0.45 * u] * (1 - stretch if i == 0 else 1)
    s[4 + i, :4] = s[:4, 4 + i] = bond
  vsip = np.r_[-21.4, -11.4, -11.4, -11.4, -13.6, -13.6, -13.6, -13.6]
  h = 0.875 * (vsip[:, None] + vsip[None, :]) * s  # Wolfsberg-Helmholz.
  h[np.diag_indices(8)] = vsip
  return h, s


def _population(eigh):
  """The Mulliken population of the first H, from the density matrix
  D = 2 C_occ C_occ^T of the 8 valence electrons (a1 and the threefold t2)."""
  def population(h, s):
    _, c = eigh(h, s)
    d = 2 * c[:, :4] @ c[:, :4].T
    return (d @ s)[4, 4]
  return population


def _by_cholesky(h, s):
  # The usual workaround in stock JAX: reduce with Cholesky by hand.
  l = jnp.linalg.cholesky(s)
  l_inv = jax.scipy.linalg.solve_triangular(l, jnp.eye(len(l)), lower=True)
  w, u = jnp.linalg.eigh(l_inv @ h @ l_inv.T)
  return w, l_inv.T @ u


def run(out=print):
  with jax.enable_x64(True):
    _run(out)


def _run(out):
  h, s = _methane()
  # H and S are linear in the stretch: this is their derivative.
  dh, ds = (np.subtract(*pair) for pair in zip(_methane(1.), _methane()))
  out("Extended-Hueckel methane, H C = S C diag(e), overlap S with "
      f"condition number {np.linalg.cond(s):.1f}:")
  row(out, "jax.scipy.linalg.eigh(H, S, eigvals_only=True) (eV)",
      *stock_and_patched(lambda: jax.scipy.linalg.eigh(
          h, s, eigvals_only=True)),
      scipy.linalg.eigh(h, s, eigvals_only=True))

  # Looked up at each call: stock JAX's or jax_patch's.
  population = _population(lambda h, s: jax.scipy.linalg.eigh(h, s))
  reference = _population(scipy.linalg.eigh)
  eps = 1e-4
  fd = [(reference(h + e * dh, s + e * ds) - reference(h - e * dh, s - e * ds))
        / (2 * e) for e in (eps, eps / 2)]
  fd = (4 * fd[1] - fd[0]) / 3
  out(f"\nPopulation of H1, {reference(h, s):.6f} electrons, and its "
      "derivative as the first")
  out("C-H bond stretches (its overlaps shrink); the occupied t2 level is "
      "threefold:")
  def reverse():
    g_h, g_s = jax.jit(jax.grad(population, (0, 1)))(h, s)
    return float(np.sum(g_h * dh) + np.sum(g_s * ds))
  def forward():
    return float(jax.jvp(population, (h, s), (dh, ds))[1])
  def by_cholesky():
    g_h, g_s = jax.grad(_population(_by_cholesky), (0, 1))(h, s)
    return float(np.sum(g_h * dh) + np.sum(g_s * ds))
  row(out, "grad of eigh(H, S) (reverse mode)", *stock_and_patched(reverse),
      fd)
  row(out, "jvp of eigh(H, S) (forward mode)", *stock_and_patched(forward),
      fd)
  stock, patched = stock_and_patched(by_cholesky)
  row(out, "grad of Cholesky + jnp.linalg.eigh by hand", stock, patched, fd)
  out("  reference: Richardson central differences of scipy.linalg.eigh")
  out(f"  {_verdict(stock, fd)}")


def _verdict(stock, reference) -> str:
  """What stock JAX's eigh rule gave by hand, as measured by this run."""
  which = f"Stock jax {jax.__version__}'s eigh rule"
  if isinstance(stock, str):
    return f"{which} raised {stock}."
  if np.isnan(stock):
    return f"{which} gives NaN at the threefold level."
  off = abs(stock / reference - 1)
  if off > 1e-6:
    return (f"{which} is wrong at the threefold level ({off:.0%} off), "
            "without a NaN to show it.")
  return f"{which} is right here (relative error {off:.0e})."


if __name__ == "__main__":
  run()

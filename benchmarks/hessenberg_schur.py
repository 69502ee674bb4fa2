# Copyright 2026 The JAX Authors.
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

"""Feasibility of the Hessenberg–Schur method for solve_sylvester, in XLA.

Golub, Nash and Van Loan (1979) reduce B only to Hessenberg form H, which
costs a fraction of a Schur form, and solve T Y + Y H = F row by row from the
bottom: y_i^T (H + t_ii I) = f_i^T - t[i, i+1:] Y[i+1:], one shifted
Hessenberg solve (an elimination of n sequential steps with adjacent-row
pivoting, then a triangular solve) per row. This script times a
straightforward XLA implementation of those row solves (T upper triangular
with real eigenvalues: no 2 x 2 blocks, a best case) against the cost that
the method saves, schur(B) - hessenberg(B), float64, CPU, in one process:

  python benchmarks/hessenberg_schur.py [--sizes 100 300]

It checks the result against scipy.linalg.solve_sylvester. Not used by the
package: it records why the method was not adopted.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _hessenberg_schur_rows(t, h, f):
  import jax  # pylint: disable=g-import-not-at-top
  from jax import lax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  # With P the reversal, y_i = P x where u x = P g_i for the upper Hessenberg
  # u = P (H + s I)^T P, s = t_ii.
  m, n = t.shape[0], h.shape[0]
  hr = h.T[::-1, ::-1]
  eye = jnp.eye(n, dtype=h.dtype)

  def row(step, y):
    i = m - 1 - step
    s = t[i, i]
    g = (f[i] - t[i] @ y)[::-1]

    def eliminate(k, carry):
      # carry: the running pivot row k and its right-hand side, the rows of
      # the triangular factor and of the reduced right-hand side so far.
      row_k, rhs_k, r, rhs = carry
      row_next = (lax.dynamic_index_in_dim(hr, k + 1, 0, keepdims=False) +
                  s * lax.dynamic_index_in_dim(eye, k + 1, 0, keepdims=False))
      rhs_next = lax.dynamic_index_in_dim(g, k + 1, 0, keepdims=False)
      swap = jnp.abs(row_k[k]) < jnp.abs(row_next[k])
      pivot, pivot_rhs = (jnp.where(swap, row_next, row_k),
                          jnp.where(swap, rhs_next, rhs_k))
      other, other_rhs = (jnp.where(swap, row_k, row_next),
                          jnp.where(swap, rhs_k, rhs_next))
      mult = other[k] / pivot[k]
      r = lax.dynamic_update_index_in_dim(r, pivot, k, 0)
      rhs = lax.dynamic_update_index_in_dim(rhs, pivot_rhs, k, 0)
      return other - mult * pivot, other_rhs - mult * pivot_rhs, r, rhs

    init = (hr[0] + s * eye[0], g[0], jnp.zeros((n, n), h.dtype),
            jnp.zeros(n, h.dtype))
    last, last_rhs, r, rhs = lax.fori_loop(0, n - 1, eliminate, init)
    r, rhs = r.at[n - 1].set(last), rhs.at[n - 1].set(last_rhs)
    x = jax.scipy.linalg.solve_triangular(r, rhs, lower=False)
    return y.at[i].set(x[::-1])

  return lax.fori_loop(0, m, row, jnp.zeros((m, n), f.dtype))


def _best_ms(jax, fn, repeats=5):
  best = np.inf
  for _ in range(repeats):
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    best = min(best, time.perf_counter() - t0)
  return best * 1e3


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300])
  args = parser.parse_args()
  import jax  # pylint: disable=g-import-not-at-top
  import scipy.linalg  # pylint: disable=g-import-not-at-top
  jax.config.update("jax_enable_x64", True)
  rows = jax.jit(_hessenberg_schur_rows)
  hess = jax.jit(jax.lax.linalg.hessenberg)
  schur = jax.jit(jax.lax.linalg.schur)
  print(f"{'n':>5s} {'HS rows':>9s} {'schur(B)':>9s} {'hess(B)':>9s} "
        f"{'saved':>9s} {'rel err':>8s}   (ms)")
  for n in args.sizes:
    rng = np.random.default_rng(0)
    t = (np.triu(rng.standard_normal((n, n)), 1) / np.sqrt(n) +
         np.diag(rng.uniform(2, 3, n)))
    b = rng.standard_normal((n, n)) / np.sqrt(n) + 3 * np.eye(n)
    f = rng.standard_normal((n, n))
    h = scipy.linalg.hessenberg(b)
    y = np.asarray(rows(t, h, f))
    expected = scipy.linalg.solve_sylvester(t, h, f)
    err = np.abs(y - expected).max() / np.abs(expected).max()
    t_rows = _best_ms(jax, lambda: rows(t, h, f))
    jax.block_until_ready((hess(b), schur(b)))
    t_hess = _best_ms(jax, lambda: hess(b))
    t_schur = _best_ms(jax, lambda: schur(b))
    print(f"{n:5d} {t_rows:9.1f} {t_schur:9.1f} {t_hess:9.1f} "
          f"{t_schur - t_hess:9.1f} {err:8.1e}", flush=True)


if __name__ == "__main__":
  main()

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


"""Stock JAX against jax_patch for solve_sylvester: its gradient in A, the
opt-in generalized-inverse solution, and its speed against SciPy's.

Every number is computed when this runs (the timings vary from run to run).
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from jax_patch.demo._common import central_difference, row, stock_and_patched

TITLE = "Sylvester equation A X + X B = C"


def run(out=print):
  rng = np.random.default_rng(0)
  n = 100
  a = rng.standard_normal((n, n)) / np.sqrt(n) + 3 * np.eye(n)
  b = rng.standard_normal((n, n)) / np.sqrt(n) + 3 * np.eye(n)
  c = rng.standard_normal((n, n))

  def grad_in_a():
    loss = lambda a: jnp.sum(jax.scipy.linalg.solve_sylvester(a, b, c) ** 2)
    g = jax.grad(loss)(a)
    h = rng.standard_normal((n, n))
    exact = np.sum(np.asarray(g) * h)
    f = lambda a: np.sum(scipy.linalg.solve_sylvester(a, b, c) ** 2)
    return f"d/dA . H = {exact:.10g} (central difference " + (
        f"{central_difference(f, a, h, 1e-5):.10g})")
  stock, patched = stock_and_patched(grad_in_a)
  row(out, f"grad of sum(X^2) with respect to A (n = {n})", stock, patched)

  def singular():
    a = np.diag([1., 2., 3.])
    b = np.diag([-2., 5.])
    return jax.scipy.linalg.solve_sylvester(a, b, np.ones((3, 2)),
                                            tol=None).ravel()
  row(out, "singular pair λ(A) + λ(B) = 0 (A = diag(1, 2, 3), "
      "B = diag(-2, 5)), opt-in tol=None\n  (the default tol=1e-8 gives "
      "all NaN in both, as before)", *stock_and_patched(singular),
      "[-1, 1/6, 0 (pseudo-inverse for 1/0), 1/7, 1, 1/8]")

  def timing():
    f = jax.jit(jax.scipy.linalg.solve_sylvester)
    x = f(a, b, c).block_until_ready()
    t = time.perf_counter()
    for _ in range(3):
      x = f(a, b, c).block_until_ready()
    ms = (time.perf_counter() - t) / 3 * 1e3
    residual = np.abs(a @ x + x @ b - c).max()
    return f"{ms:.1f} ms per solve, max residual {residual:.1e}"
  def scipy_timing():
    t = time.perf_counter()
    for _ in range(3):
      x = scipy.linalg.solve_sylvester(a, b, c)
    ms = (time.perf_counter() - t) / 3 * 1e3
    return f"{ms:.1f} ms per solve (scipy), max residual " + (
        f"{np.abs(a @ x + x @ b - c).max():.1e}")
  row(out, f"jit(solve_sylvester) at n = {n}, float64",
      *stock_and_patched(timing), scipy_timing())

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

"""Tests for the blocked kernel of lax.linalg.sylvester_solve, real Schur."""

import contextlib
from functools import partial

from absl.testing import absltest
import numpy as np
import scipy.linalg as osp_linalg

import jax
import jax.numpy as jnp
from jax._src import config
from jax._src import test_util as jtu
from jax.lax import linalg as lax_linalg

config.parse_flags_with_absl()
jtu.request_cpu_devices(4)

float_types = jtu.dtypes.floating


def _tol(dtype, n):
  # Error relative to the largest entry of the solution. The equations below
  # have pivots of modulus at least 3 and coefficients of norm at most about
  # 5, so the Sylvester operator has a condition number of order 10, and a
  # backward stable solve errs by a small multiple of n eps times that.
  return 50 * max(n, 1) * np.finfo(dtype).eps


def _random(rng, shape, dtype):
  x = rng.standard_normal(shape)
  if np.issubdtype(dtype, np.complexfloating):
    x = x + 1j * rng.standard_normal(shape)
  return x.astype(dtype)


def _real_schur(rng, batch, n, dtype, shift=3.0):
  # Real Schur forms (quasi-triangular, with 2 x 2 diagonal blocks for the
  # complex conjugate pairs of eigenvalues), computed in float64, of random
  # matrices with eigenvalues within about 1 of `shift`.
  x = rng.standard_normal(batch + (n, n)) / np.sqrt(n) + shift * np.eye(n)
  t = np.empty_like(x)
  for i in np.ndindex(batch):
    t[i] = osp_linalg.schur(x[i])[0]
  return t.astype(dtype)


def _batch_sharded(fun, args, explicit):
  """jit(fun) with args split along their batch axis over 4 devices.

  With explicit, under a mesh of Explicit axes (jax.set_mesh), else with
  in_shardings on a mesh of Auto axes. Returns the outputs, the compiled
  HLO text and the sharding of the inputs.
  """
  axis_type = (jax.sharding.AxisType.Explicit if explicit else
               jax.sharding.AxisType.Auto)
  mesh = jax.make_mesh((4,), ("batch",), axis_types=(axis_type,))
  sharding = jax.sharding.NamedSharding(
      mesh, jax.sharding.PartitionSpec("batch"))
  with jax.set_mesh(mesh) if explicit else contextlib.nullcontext():
    args = [jax.device_put(x, sharding) for x in args]
    f = jax.jit(fun) if explicit else jax.jit(fun, in_shardings=sharding)
    compiled = f.lower(*args).compile()
    return compiled(*args), compiled.as_text(), sharding


_COLLECTIVES = ("all-reduce", "all-gather", "reduce-scatter",
                "collective-permute", "all-to-all")


def _mT(x):
  return np.swapaxes(x, -1, -2)


def _scipy_solve(a, b, c):
  # SciPy's solve of A X + X B = C, batched, on the inputs cast to one
  # common dtype, complex128: SciPy 1.17 solves mixed real and complex
  # inputs wrongly when only `a` is complex.
  out = np.empty(c.shape, np.result_type(a, b, c))
  for i in np.ndindex(c.shape[:-2]):
    x = osp_linalg.solve_sylvester(
        *(np.asarray(x[i], np.complex128) for x in (a, b, c)))
    out[i] = x if np.iscomplexobj(out) else x.real
  return out


class SylvesterQuasiBlockedTest(jtu.JaxTestCase):

  def _assertSolutionClose(self, y, expected, dtype, n):
    self.assertEqual(y.dtype, dtype)
    tol = _tol(dtype, n)
    self.assertAllClose(y, expected, atol=tol * np.abs(expected).max(),
                        rtol=tol)

  @jtu.sample_product([
      dict(mn=(101, 40), batch=(2,), transpose=True),
      dict(mn=(200, 230), batch=(), transpose=False),
  ])
  def testLargeAgainstScipy(self, mn, batch, transpose):
    # Real Schur forms with more than 100 rows or columns are solved by the
    # blocked kernel in real arithmetic, with m > n and m < n (the
    # transposed solve swaps them). From about 190 rows on both sides the
    # blocked kernel solves its rows in bands: the last case has two.
    m, n = mn
    dtype = float_types[-1]
    rng = self.rng()
    a, b = _real_schur(rng, batch, m, dtype), _real_schur(rng, batch, n, dtype)
    c = _random(rng, batch + (m, n), dtype)
    y = lax_linalg.sylvester_solve(a, b, c, quasi_triangular=True,
                                   transpose=transpose)
    op = _mT if transpose else (lambda x: x)
    self._assertSolutionClose(y, _scipy_solve(op(a), op(b), c), dtype,
                              max(m, n))

  @jtu.sample_product(
      dtype=float_types,
      transpose=[False, True],
      bad=[np.inf, np.nan],
  )
  def testNonFiniteCoefficientsGiveNan(self, dtype, transpose, bad):
    # Per batch element: a coefficient that is not finite makes that
    # element's solution all NaN, rather than silently finite, for the
    # equation and its transpose.
    n = 120
    rng = self.rng()
    a, b = _real_schur(rng, (3,), n, dtype), _real_schur(rng, (3,), 3, dtype)
    c = _random(rng, (3, n, 3), dtype)
    a[0, 0, n - 1] = bad
    b[1, 1, 1] = bad
    y = np.asarray(lax_linalg.sylvester_solve(
        a, b, c, quasi_triangular=True, transpose=transpose))
    self.assertTrue(np.all(np.isnan(y[:2])))
    self.assertTrue(np.all(np.isfinite(y[2])))

  def testQuasiTriangularSingularPairs(self):
    # lam(A) + lam(-A) = 0 for every eigenvalue: the blocked kernel's
    # fallback for singular equations. For a consistent right-hand side the
    # result solves the equation, to the residual of a backward stable solve
    # (a few n eps |A| |Y|); for any it is finite.
    n, dtype = 104, float_types[-1]
    rng = self.rng()
    a = _real_schur(rng, (), n, dtype, shift=0.5)
    x0 = _random(rng, (n, n), dtype)
    c = a @ x0 - x0 @ a
    y = np.asarray(lax_linalg.sylvester_solve(a, -a, c,
                                              quasi_triangular=True))
    scale = np.abs(a).max() * np.abs(y).max() + np.abs(c).max()
    self.assertAllClose(a @ y - y @ a, c, rtol=0,
                        atol=_tol(dtype, n) * scale)
    y = lax_linalg.sylvester_solve(a, -a, _random(rng, (n, n), dtype),
                                   quasi_triangular=True)
    self.assertTrue(np.all(np.isfinite(y)))

  @jtu.run_on_devices("cpu")
  def testSingularEquationLeavesTheRestOfItsBatchAlone(self):
    # The blocked real quasi-triangular solve falls back to the complex
    # Schur bases for a singular equation. It decides per equation, so the
    # other equations of a batch get the solutions they get in the same
    # batch without the singular one, from the real solve, to the last bit
    # (the two solves differ by rounding errors, which a tolerance would
    # not tell apart).
    n = 120
    dtype = np.float64 if config.enable_x64.value else np.float32
    rng = self.rng()
    a, b = _real_schur(rng, (3,), n, dtype), _real_schur(rng, (3,), n, dtype)
    c = _random(rng, (3, n, n), dtype)
    solve = jax.jit(partial(lax_linalg.sylvester_solve, quasi_triangular=True))
    regular = solve(a, b, c)
    b[1] = -a[1]  # Pivots lam_i(a) - lam_j(a): zero for i = j.
    y = solve(a, b, c)
    self.assertTrue(np.all(np.isfinite(y)))
    for i in (0, 2):
      self.assertArraysEqual(y[i], regular[i])

  @jtu.run_on_devices("cpu")
  def testBatchOfOneIsSolvedAsOneEquation(self):
    # A batch of one equation takes one of the two solves, as an unbatched
    # equation does, and gets its solution to the last bit, nonsingular
    # (real solve) or singular (complex fallback).
    n = 120
    dtype = np.float64 if config.enable_x64.value else np.float32
    rng = self.rng()
    a, b = _real_schur(rng, (), n, dtype), _real_schur(rng, (), n, dtype)
    c = _random(rng, (n, n), dtype)
    solve = jax.jit(partial(lax_linalg.sylvester_solve, quasi_triangular=True))
    for b in (b, -a):
      self.assertArraysEqual(solve(a[None], b[None], c[None])[0],
                             solve(a, b, c))

  @jtu.sample_product(platform=["cuda", "rocm"])
  def testLowersForGpu(self, platform):
    # The solve and its derivatives lower for GPUs (factors computed
    # elsewhere, Schur forms on the host, can be solved on the device), and
    # compile and solve here. Lowering for GPUs needs no GPU.
    # The blocked wavefront in bands (two of them).
    dtype, n = np.float32, 200
    rng = self.rng()
    a, b = _real_schur(rng, (), n, dtype), _real_schur(rng, (), n, dtype)
    c = _random(rng, (n, n), dtype)
    solve = partial(lax_linalg.sylvester_solve, quasi_triangular=True)
    loss = lambda a, b, c: jnp.sum(solve(a, b, c, transpose=True) ** 2)
    funs = [
        solve,
        # Y is invariant under a common scaling of a, b and c: a zero
        # tangent.
        lambda a, b, c: jax.jvp(solve, (a, b, c), (a, b, c))[1],
        jax.grad(loss, argnums=(0, 1, 2)),
        lambda a, b, c: jax.vmap(solve)(a[None], b[None], c[None])[0],
    ]
    y, y_dot, _, y_vmap = (
        jax.jit(fun).lower(a, b, c).compile()(a, b, c) for fun in funs)
    for fun in funs:
      exported = jax.export.export(jax.jit(fun), platforms=(platform,))(
          a, b, c)
      self.assertEqual(exported.platforms, (platform,))
    tol = _tol(dtype, n)
    self.assertAllClose(a @ y + y @ b, c, rtol=tol, atol=tol)
    self.assertAllClose(y_dot, np.zeros_like(y), atol=tol)
    self.assertAllClose(y_vmap, y, rtol=tol, atol=tol)


class SylvesterQuasiBlockedShardingTest(jtu.JaxTestCase):

  def setUp(self):
    super().setUp()
    if jax.device_count() < 4:
      self.skipTest("needs 4 devices")

  def testBatchShardedSolveAndGrad(self):
    # The batch axis may be sharded, explicitly or not: the solve and its
    # derivatives keep it sharded, compile to no collective, and give the
    # unsharded results.
    # The real solve, which falls back to the complex Schur bases for
    # singular equations: both are compiled.
    dtype, n = np.float32, 120
    rng = self.rng()
    a, b = _real_schur(rng, (8,), n, dtype), _real_schur(rng, (8,), n, dtype)
    c = _random(rng, (8, n, n), dtype)
    solve = partial(lax_linalg.sylvester_solve, quasi_triangular=True)
    loss = lambda a, b, c: jnp.sum(jnp.abs(solve(a, b, c)) ** 2)
    grad = jax.grad(loss, argnums=(0, 1, 2))
    tol = _tol(dtype, n)
    for fun in (solve, grad):
      expected = jax.jit(fun)(a, b, c)
      for explicit in (False, True):
        out, hlo, sharding = _batch_sharded(fun, (a, b, c), explicit)
        for op in _COLLECTIVES:
          self.assertNotIn(op, hlo)
        for x, y in zip(jax.tree.leaves(out), jax.tree.leaves(expected)):
          self.assertTrue(x.sharding.is_equivalent_to(sharding, x.ndim))
          self.assertAllClose(x, y, rtol=tol, atol=tol)


if __name__ == "__main__":
  absltest.main(testLoader=jtu.JaxTestLoader())

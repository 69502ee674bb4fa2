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

"""Tests for lax.linalg.sylvester_solve's blocked kernel (large equations)."""

import contextlib

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
complex_types = jtu.dtypes.complex


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


def _triangular(rng, batch, n, dtype):
  # Upper triangular with a diagonal of real part in [1.5, 2.5] (and an
  # imaginary part in [-1, 1] for complex dtypes) and off-diagonal entries of
  # size 1/sqrt(n): the pivots a_ii + b_jj have real part at least 3.
  t = _random(rng, batch + (n, n), dtype) / np.sqrt(n)
  d = 1.5 + rng.uniform(size=batch + (n,))
  if np.issubdtype(dtype, np.complexfloating):
    d = d + 1j * rng.uniform(-1, 1, size=batch + (n,))
  return (np.triu(t, 1) + d[..., None] * np.eye(n)).astype(dtype)


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


class SylvesterBlockedTest(jtu.JaxTestCase):

  def _assertSolutionClose(self, y, expected, dtype, n):
    self.assertEqual(y.dtype, dtype)
    tol = _tol(dtype, n)
    self.assertAllClose(y, expected, atol=tol * np.abs(expected).max(),
                        rtol=tol)

  @jtu.sample_product([
      dict(mn=(101, 40), batch=(), dtype=complex_types[-1], transpose=False),
      dict(mn=(30, 130), batch=(2,), dtype=float_types[-1], transpose=True),
      dict(mn=(230, 200), batch=(), dtype=complex_types[-1], transpose=False),
  ])
  def testLargeAgainstScipy(self, mn, batch, dtype, transpose):
    # Equations with more than 100 rows or columns are solved by the blocked
    # kernel, whose compilation is slower: a few cases, with m > n and m < n
    # (the transposed solve swaps them). From about 190 rows on both sides
    # the blocked kernel solves its rows in bands, each updated by the bands
    # below it: the last case has two.
    m, n = mn
    rng = self.rng()
    a, b = _triangular(rng, batch, m, dtype), _triangular(rng, batch, n, dtype)
    c = _random(rng, batch + (m, n), dtype)
    y = lax_linalg.sylvester_solve(a, b, c, transpose=transpose)
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
    # element's solution all NaN, rather than silently finite, on the
    # blocked path, for the equation and its transpose.
    n = 120
    rng = self.rng()
    a, b = _triangular(rng, (3,), n, dtype), _triangular(rng, (3,), 3, dtype)
    c = _random(rng, (3, n, 3), dtype)
    a[0, 0, n - 1] = bad
    b[1, 1, 1] = bad
    y = np.asarray(lax_linalg.sylvester_solve(a, b, c, transpose=transpose))
    self.assertTrue(np.all(np.isnan(y[:2])))
    self.assertTrue(np.all(np.isfinite(y[2])))

  @jtu.sample_product(platform=["cuda", "rocm"])
  def testLowersForGpu(self, platform):
    # The solve and its derivatives lower for GPUs (factors computed
    # elsewhere, Schur forms on the host, can be solved on the device), and
    # compile and solve here. Lowering for GPUs needs no GPU.
    # The blocked wavefront in bands (two of them).
    dtype, n = np.float32, 200
    rng = self.rng()
    a, b = _triangular(rng, (), n, dtype), _triangular(rng, (), n, dtype)
    c = _random(rng, (n, n), dtype)
    solve = lax_linalg.sylvester_solve
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


class SylvesterBlockedShardingTest(jtu.JaxTestCase):

  def setUp(self):
    super().setUp()
    if jax.device_count() < 4:
      self.skipTest("needs 4 devices")

  @jtu.sample_product(
      dtype=[np.float32, np.complex64],
  )
  def testBatchShardedSolveAndGrad(self, dtype):
    # The batch axis may be sharded, explicitly or not: the solve and its
    # derivatives keep it sharded, compile to no collective, and give the
    # unsharded results.
    n = 120
    rng = self.rng()
    a, b = _triangular(rng, (8,), n, dtype), _triangular(rng, (8,), n, dtype)
    c = _random(rng, (8, n, n), dtype)
    solve = lax_linalg.sylvester_solve
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

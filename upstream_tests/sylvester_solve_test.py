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

"""Tests for lax.linalg.sylvester_solve on triangular (Schur) factors."""

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


def _lower_garbage(rng, t, k=-1):
  # t plus large entries below its k-th diagonal, which the solve ignores.
  return t + 100 * np.tril(_random(rng, t.shape, t.dtype), k)


def _diag(d, dtype):
  # Diagonal matrices with diagonals d [..., n], as [..., n, n].
  d = np.asarray(d)
  return (d[..., None] * np.eye(d.shape[-1])).astype(dtype)


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


class SylvesterSolveTest(jtu.JaxTestCase):

  def _assertSolutionClose(self, y, expected, dtype, n):
    self.assertEqual(y.dtype, dtype)
    tol = _tol(dtype, n)
    self.assertAllClose(y, expected, atol=tol * np.abs(expected).max(),
                        rtol=tol)

  @jtu.sample_product(
      mn=[(1, 1), (3, 5), (7, 2), (16, 16), (17, 33), (40, 9)],
      batch=[(), (2,)],
      dtype=float_types + complex_types,
      transpose=[False, True],
  )
  def testTriangularAgainstScipy(self, mn, batch, dtype, transpose):
    m, n = mn
    rng = self.rng()
    a = _triangular(rng, batch, m, dtype)
    b = _triangular(rng, batch, n, dtype)
    c = _random(rng, batch + (m, n), dtype)
    # Entries below the diagonal are ignored.
    y = lax_linalg.sylvester_solve(
        _lower_garbage(rng, a), _lower_garbage(rng, b), c,
        transpose=transpose)
    op = _mT if transpose else (lambda x: x)
    self._assertSolutionClose(y, _scipy_solve(op(a), op(b), c), dtype,
                              max(m, n))

  @jtu.sample_product(dtype=float_types + complex_types)
  def testDiagonalCoefficients(self, dtype):
    # Diagonal A and B: Y = C / (a_i + b_j) entrywise.
    m, n = 4, 6
    rng = self.rng()
    a = 1.5 + rng.uniform(size=(m,))
    b = 1.5 + rng.uniform(size=(n,))
    args_maker = lambda: [_diag(a, dtype), _diag(b, dtype),
                          _random(rng, (m, n), dtype)]
    expected = lambda a, b, c: c / (np.diagonal(a)[:, None] +
                                    np.diagonal(b)[None, :])
    self._CheckAgainstNumpy(expected, lax_linalg.sylvester_solve, args_maker,
                            tol=_tol(dtype, 1))

  @jtu.sample_product(dtype=float_types + complex_types)
  def testSingularPairsGiveZeroComponents(self, dtype):
    # a_0 + b_1 = 0 exactly: that component is zero (a generalized-inverse
    # solution), not inf or NaN; the others are unchanged.
    a = np.array([1., 2., 3.])
    b = np.array([4., -1., 5.])
    c = np.ones((3, 3), dtype)
    y = lax_linalg.sylvester_solve(_diag(a, dtype), _diag(b, dtype), c)
    d = a[:, None] + b[None, :]
    expected = np.where(d == 0, 0, 1 / np.where(d == 0, 1, d)).astype(dtype)
    self.assertArraysAllClose(y, expected, rtol=_tol(dtype, 1))
    # Triangular: a singular pivot in the middle of the substitution.
    at = np.triu(np.ones((3, 3), dtype)) + np.diag(a - 1).astype(dtype)
    bt = np.triu(np.ones((3, 3), dtype)) + np.diag(b - 1).astype(dtype)
    for transpose in (False, True):
      yt = np.asarray(lax_linalg.sylvester_solve(at, bt, c,
                                                 transpose=transpose))
      self.assertTrue(np.all(np.isfinite(yt)))
      self.assertEqual(yt[0, 1], 0)
      # The other components satisfy their equations, to rounding.
      op = _mT if transpose else (lambda x: x)
      residual = op(at) @ yt + yt @ op(bt) - c
      residual[0, 1] = 0
      self.assertAllClose(residual, np.zeros_like(residual),
                          atol=10 * _tol(dtype, 3))

  @jtu.sample_product(dtype=float_types + complex_types)
  def testOneByOneFactorsKeepTheTriangularTolerance(self, dtype):
    # 1 x 1 triangular factors are diagonal too, but take the documented
    # tolerance of triangular ones: the pivot 1 - 0.999 = 1e-3 is below
    # rtol (max|A| + max|B|) = 0.01 * 1.999 and gives zero, as the same
    # pivot does inside a 2 x 2 equation.
    a, b, c = (np.array([[x]], dtype) for x in (1., -0.999, 1.))
    self.assertEqual(lax_linalg.sylvester_solve(a, b, c, rtol=0.01)[0, 0], 0)
    a2 = np.diag([1., 5.]).astype(dtype)
    b2 = np.diag([-0.999, 7.]).astype(dtype)
    y2 = lax_linalg.sylvester_solve(a2, b2, np.ones((2, 2), dtype), rtol=0.01)
    self.assertEqual(y2[0, 0], 0)
    y = lax_linalg.sylvester_solve(a, b, c)
    self.assertAllClose(y[0, 0], 1 / (np.float64(1) - np.float64(0.999)),
                        rtol=_tol(dtype, 1e3), check_dtypes=False)

  @jtu.sample_product(dtype=float_types + complex_types)
  def testScaleAwareTolerance(self, dtype):
    # A pivot of 1e-3 relative to coefficients of size 1 is not singular;
    # relative to coefficients of size 1e2 / eps it is (the default rtol is
    # max(m, n) eps, times max|A| + max|B|: about 2e2, far above 1e-3).
    eps = np.finfo(dtype).eps
    b = _diag([-1. + 1e-3, 0.], dtype)
    c = np.ones((2, 2), dtype)
    for scale, singular in ((1., False), (1e2 / eps, True)):
      y = lax_linalg.sylvester_solve(_diag([1., scale], dtype), b, c)
      self.assertEqual(bool(y[0, 0] == 0), singular, msg=str(scale))
    # Only the upper triangles count: large entries below the diagonal do
    # not raise the threshold.
    a = _diag([1., 1.], dtype) + np.array([[0, 0], [1e2 / eps, 0]], dtype)
    self.assertNotEqual(lax_linalg.sylvester_solve(a, b, c)[0, 0], 0)
    # An explicit rtol: 1e-2 (max|A| + max|B|) = 2e-2 > 1e-3.
    y = lax_linalg.sylvester_solve(_diag([1., 1.], dtype), b, c, rtol=1e-2)
    self.assertEqual(y[0, 0], 0)
    self.assertAllClose(y[1, 1], dtype(1), rtol=_tol(dtype, 1))

  @jtu.sample_product(
      dtype=float_types,
      transpose=[False, True],
      bad=[np.inf, np.nan],
  )
  def testNonFiniteCoefficientsGiveNan(self, dtype, transpose, bad):
    # Per batch element: a coefficient that is not finite makes that
    # element's solution all NaN, rather than silently finite, for the
    # equation and its transpose.
    rng = self.rng()
    n = 4
    a, b = _triangular(rng, (3,), n, dtype), _triangular(rng, (3,), 3, dtype)
    c = _random(rng, (3, n, 3), dtype)
    a[0, 0, n - 1] = bad
    b[1, 1, 1] = bad
    y = np.asarray(lax_linalg.sylvester_solve(a, b, c, transpose=transpose))
    self.assertTrue(np.all(np.isnan(y[:2])))
    self.assertTrue(np.all(np.isfinite(y[2])))

  @jtu.sample_product([
      dict(dtype=np.float64, transpose=False),
      dict(dtype=np.complex128, transpose=True),
  ])
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testGradsAllOperands(self, dtype, transpose):
    # In float64: check_grads' finite differences are too noisy in float32.
    # Reverse mode binds the solve with the other value of transpose.
    rng = self.rng()
    a, b = _triangular(rng, (), 4, dtype), _triangular(rng, (), 3, dtype)
    c = _random(rng, (4, 3), dtype)
    solve = partial(lax_linalg.sylvester_solve, transpose=transpose)
    jtu.check_grads(solve, (a, b, c), order=2, modes=["fwd", "rev"])
    # Entries below the diagonal are ignored, so their cotangents are zero.
    loss = lambda a, b: jnp.real(jnp.sum(solve(a, b, c) ** 2))
    ga, gb = jax.grad(loss, argnums=(0, 1))(_lower_garbage(rng, a),
                                            _lower_garbage(rng, b))
    self.assertArraysEqual(np.tril(ga, -1), np.zeros_like(ga))
    self.assertArraysEqual(np.tril(gb, -1), np.zeros_like(gb))

  @jtu.sample_product(dtype=float_types + complex_types)
  def testTransposeMatchesLinearTranspose(self, dtype):
    rng = self.rng()
    a, b = _triangular(rng, (), 4, dtype), _triangular(rng, (), 3, dtype)
    c, ct = _random(rng, (4, 3), dtype), _random(rng, (4, 3), dtype)
    tol = _tol(dtype, 4)
    for transpose in (False, True):
      solve = lambda c: lax_linalg.sylvester_solve(a, b, c,
                                                   transpose=transpose)
      transposed, = jax.linear_transpose(solve, c)(ct)
      expected = lax_linalg.sylvester_solve(a, b, ct,
                                            transpose=not transpose)
      self.assertAllClose(transposed, expected, rtol=tol, atol=tol)
      # <ct, S^-1 c> = <S^-T ct, c> (bilinear, not sesquilinear).
      self.assertAllClose(np.sum(ct * solve(c)), np.sum(transposed * c),
                          rtol=10 * tol, atol=10 * tol)

  @jtu.sample_product(
      in_axes=[(0, 0, 0), (None, None, 0), (0, None, 1), (None, 1, None)],
  )
  def testVmap(self, in_axes):
    dtype = np.float32
    rng = self.rng()
    k, m, n = 3, 4, 5
    def operand(axis, x):
      return x[0] if axis is None else np.moveaxis(x, 0, axis)
    a = operand(in_axes[0], _triangular(rng, (k,), m, dtype))
    b = operand(in_axes[1], _triangular(rng, (k,), n, dtype))
    c = operand(in_axes[2], _random(rng, (k, m, n), dtype))
    solve = lax_linalg.sylvester_solve
    out = jax.vmap(solve, in_axes=in_axes)(a, b, c)
    take = lambda x, axis, i: x if axis is None else np.take(x, i, axis)
    expected = np.stack([
        solve(*(take(x, ax, i) for x, ax in zip((a, b, c), in_axes)))
        for i in range(k)])
    tol = _tol(dtype, n)
    self.assertAllClose(out, expected, rtol=tol, atol=tol)

  def testJit(self):
    rng = self.rng()
    dtype = np.float32
    args_maker = lambda: [_triangular(rng, (2,), 6, dtype),
                          _triangular(rng, (2,), 4, dtype),
                          _random(rng, (2, 6, 4), dtype)]
    self._CompileAndCheck(lax_linalg.sylvester_solve, args_maker,
                          tol=_tol(dtype, 6))

  def testBadShapesAndDtypesRaiseAtTraceTime(self):
    f32 = lambda *s: jax.ShapeDtypeStruct(s, np.float32)
    solve = lax_linalg.sylvester_solve
    with self.assertRaisesRegex(ValueError, r"argument a .*\(3, 4\)"):
      jax.eval_shape(solve, f32(3, 4), f32(2, 2), f32(3, 2))
    with self.assertRaisesRegex(ValueError, r"argument b .*\(2,\)"):
      jax.eval_shape(solve, f32(3, 3), f32(2), f32(3, 2))
    with self.assertRaisesRegex(ValueError, r"argument c .*\(3, 3\)"):
      jax.eval_shape(solve, f32(3, 3), f32(2, 2), f32(3, 3))
    with self.assertRaisesRegex(ValueError, "batch dimensions"):
      jax.eval_shape(solve, f32(2, 3, 3), f32(2, 2), f32(2, 3, 2))
    with self.assertRaisesRegex(TypeError, r"argument a .*int32"):
      jax.eval_shape(solve, jax.ShapeDtypeStruct((3, 3), np.int32),
                     f32(2, 2), f32(3, 2))
    with self.assertRaisesRegex(TypeError, "same dtype.*c: complex64"):
      jax.eval_shape(solve, f32(3, 3), f32(2, 2),
                     jax.ShapeDtypeStruct((3, 2), np.complex64))
    with self.assertRaisesRegex(ValueError, "rtol must be None or"):
      jax.eval_shape(partial(solve, rtol=-1.), f32(3, 3), f32(2, 2),
                     f32(3, 2))

  @jtu.sample_product(platform=["cuda", "rocm"])
  def testLowersForGpu(self, platform):
    # The solve and its derivatives lower for GPUs (factors computed
    # elsewhere, Schur forms on the host, can be solved on the device), and
    # compile and solve here. Lowering for GPUs needs no GPU.
    dtype, n = np.float32, 40
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

  def testPrimitiveIsExported(self):
    jaxpr = jax.make_jaxpr(partial(lax_linalg.sylvester_solve,
                                   transpose=True))(
        np.eye(3, dtype=np.float32), np.eye(2, dtype=np.float32),
        np.ones((3, 2), np.float32))
    eqn, = jaxpr.eqns
    self.assertIs(eqn.primitive, lax_linalg.triangular_sylvester_solve_p)
    self.assertEqual(eqn.params["transpose"], True)


class SylvesterSolveShardingTest(jtu.JaxTestCase):

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
    n = 20
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

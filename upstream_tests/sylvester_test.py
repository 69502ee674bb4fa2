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

"""Tests for lax.linalg.sylvester_solve and scipy.linalg.solve_sylvester."""

from functools import partial
from unittest import mock

from absl.testing import absltest
import numpy as np
import scipy.linalg as osp_linalg

import jax
import jax.numpy as jnp
from jax._src import config
from jax._src import test_util as jtu
from jax._src import xla_bridge
from jax._src.lax import linalg as lax_linalg
from jax._src.scipy import linalg as jsp_linalg

config.parse_flags_with_absl()

float_types = [np.float32, np.float64]
complex_types = [np.complex64, np.complex128]

# Relative tolerances: the test problems below have condition numbers of
# order 10, so errors are a few hundred ulps at most.
_tol = {np.float32: 2e-4, np.complex64: 2e-4, np.float64: 1e-11,
        np.complex128: 1e-11}


def _random(rng, shape, dtype):
  x = rng.standard_normal(shape)
  if np.issubdtype(dtype, np.complexfloating):
    x = x + 1j * rng.standard_normal(shape)
  return x.astype(dtype)


def _triangular(rng, batch, n, dtype, shift=1.5):
  # Upper triangular with a diagonal in [shift, shift + 1] (plus an
  # imaginary part for complex dtypes) and off-diagonal entries of size
  # 1/sqrt(n): the pivots a_ii + b_jj are at least 2 * shift.
  t = _random(rng, batch + (n, n), dtype) / np.sqrt(n)
  d = shift + rng.uniform(size=batch + (n,))
  if np.issubdtype(dtype, np.complexfloating):
    d = d + 1j * rng.uniform(-1, 1, size=batch + (n,))
  t = np.triu(t, 1) + d[..., None] * np.eye(n)
  return t.astype(dtype)


def _coefficient(rng, n, dtype, diagonal):
  # A Sylvester coefficient: a diagonal in [1.5, 2.5] given as a vector, or
  # a well-conditioned upper triangular matrix (see _triangular).
  if diagonal:
    return (1.5 + rng.uniform(size=(n,))).astype(dtype)
  return _triangular(rng, (), n, dtype)


def _general(rng, batch, n, dtype, shift=3.0):
  # Eigenvalues within about 1 of `shift`: sums stay away from zero.
  return (_random(rng, batch + (n, n), dtype) / np.sqrt(n)
          + shift * np.eye(n)).astype(dtype)


def _real_schur(rng, batch, n, dtype, shift=3.0):
  # Real Schur forms (quasi-triangular, with 2 x 2 blocks for the complex
  # conjugate pairs) of _general matrices, computed in float64.
  x = _general(rng, batch, n, np.float64, shift)
  t = np.empty_like(x)
  for i in np.ndindex(batch):
    t[i] = osp_linalg.schur(x[i])[0]
  return t.astype(dtype)


def _hermitian(rng, batch, n, dtype, shift=3.0):
  x = _random(rng, batch + (n, n), dtype) / np.sqrt(n)
  return ((x + np.conj(np.swapaxes(x, -1, -2))) / 2
          + shift * np.eye(n)).astype(dtype)


def _batched_scipy(a, b, c):
  out = np.empty(np.broadcast_shapes(a.shape[:-2], b.shape[:-2],
                                     c.shape[:-2]) + c.shape[-2:],
                 np.result_type(a, b, c))
  a, b, c = (np.broadcast_to(x, out.shape[:-2] + x.shape[-2:])
             for x in (a, b, c))
  for i in np.ndindex(out.shape[:-2]):
    x = osp_linalg.solve_sylvester(a[i].astype(np.complex128),
                                   b[i].astype(np.complex128),
                                   c[i].astype(np.complex128))
    out[i] = x if np.iscomplexobj(out) else x.real
  return out


@jtu.with_config(jax_enable_x64=True)
class SylvesterSolveTest(jtu.JaxTestCase):
  """Tests for the primitive, lax.linalg.sylvester_solve."""

  @jtu.sample_product(
      mn=[(1, 1), (3, 5), (7, 2), (16, 16), (17, 33), (40, 9)],
      batch=[(), (2,)],
      dtype=float_types + complex_types,
      transpose=[False, True],
  )
  def testTriangularAgainstScipy(self, mn, batch, dtype, transpose):
    m, n = mn
    rng = np.random.default_rng(m * 100 + n)
    a = _triangular(rng, batch, m, dtype)
    b = _triangular(rng, batch, n, dtype)
    c = _random(rng, batch + (m, n), dtype)
    # Entries below the diagonal are ignored.
    a_garbage = a + np.tril(_random(rng, a.shape, dtype), -1)
    y = lax_linalg.sylvester_solve(a_garbage, b, c, transpose=transpose)
    op = (lambda x: np.swapaxes(x, -1, -2)) if transpose else (lambda x: x)
    expected = _batched_scipy(op(a), op(b), c)
    self.assertEqual(y.dtype, dtype)
    self.assertAllClose(y, expected, rtol=_tol[dtype], atol=_tol[dtype])

  @jtu.sample_product(
      mn=[(1, 1), (4, 6), (9, 3)],
      dtype=float_types + complex_types,
  )
  def testDiagonal(self, mn, dtype):
    m, n = mn
    rng = np.random.default_rng(0)
    a = (1.5 + rng.uniform(size=(m,))).astype(dtype)
    b = (1.5 + rng.uniform(size=(n,))).astype(dtype)
    c = _random(rng, (m, n), dtype)
    args_maker = lambda: [a, b, c]
    solve = partial(lax_linalg.sylvester_solve, diagonal=True)
    self._CheckAgainstNumpy(lambda a, b, c: c / (a[:, None] + b[None, :]),
                            solve, args_maker, tol=_tol[dtype])
    self._CompileAndCheck(solve, args_maker)

  @jtu.sample_product(dtype=float_types + complex_types)
  def testSingularPairsGiveZeroComponents(self, dtype):
    # a_0 + b_1 = 0 exactly: that component is zero (the pseudo-inverse),
    # not inf or NaN; the others are unchanged.
    a = np.array([1., 2., 3.], dtype)
    b = np.array([4., -1., 5.], dtype)
    c = np.ones((3, 3), dtype)
    y = lax_linalg.sylvester_solve(a, b, c, diagonal=True)
    expected = 1 / (a[:, None] + b[None, :] + (a[:, None] + b[None, :] == 0))
    expected[0, 1] = 0
    self.assertAllClose(y, expected, rtol=_tol[dtype])
    # Triangular: a singular pivot in the middle of the substitution.
    at = np.triu(np.ones((3, 3), dtype)) + np.diag(a - 1)
    bt = np.triu(np.ones((3, 3), dtype)) + np.diag(b - 1)
    yt = np.asarray(lax_linalg.sylvester_solve(at, bt, c))
    self.assertTrue(np.all(np.isfinite(yt)))
    self.assertEqual(yt[0, 1], 0)
    # The nonsingular components satisfy their equations exactly.
    residual = np.triu(at) @ yt + yt @ np.triu(bt) - c
    residual[0, 1] = 0
    self.assertAllClose(residual, np.zeros_like(residual),
                        atol=10 * _tol[dtype])

  @jtu.sample_product(dtype=float_types + complex_types)
  def testScaleAwareTolerance(self, dtype):
    # A pivot of 1e-3 relative to coefficients of size 1 is not singular;
    # relative to coefficients of size 1e8 (rtol * scale = 1e8 max(m, n) eps,
    # far above it) it is.
    eps = np.finfo(dtype).eps
    for scale, singular in ((1., False), (1e8 * 1e-3 / eps, True)):
      a = np.array([1., scale], dtype)
      b = np.array([-1. + 1e-3, 0.], dtype)
      y = lax_linalg.sylvester_solve(a, b, np.ones((2, 2), dtype),
                                     diagonal=True)
      self.assertEqual(bool(y[0, 0] == 0), singular)

  @jtu.sample_product(dtype=[np.float64, np.complex128])
  def testBroadening(self, dtype):
    a = np.array([1., 2., -0.5], dtype)
    b = np.array([-1., 0.5, 0.75], dtype)
    c = np.arange(9.).reshape(3, 3).astype(dtype) + 1
    # beta sets the curvature near d = 0 (the third derivative of g is of
    # order beta^-2), hence check_grads' finite-difference error.
    beta = 0.25
    y = lax_linalg.sylvester_solve(a, b, c, diagonal=True, broadening=beta)
    d = a[:, None] + b[None, :]
    self.assertAllClose(y, c * np.conj(d) / (np.abs(d) ** 2 + beta))
    f = partial(lax_linalg.sylvester_solve, diagonal=True, broadening=beta)
    jtu.check_grads(f, (a, b, c), order=2, modes=["fwd", "rev"], eps=1e-6)
    # Triangular with broadening: a smooth function of all operands too.
    rng = np.random.default_rng(1)
    at, bt = _triangular(rng, (), 4, dtype), -_triangular(rng, (), 3, dtype)
    ct = _random(rng, (4, 3), dtype)
    f = partial(lax_linalg.sylvester_solve, broadening=beta)
    jtu.check_grads(f, (at, bt, ct), order=2, modes=["fwd", "rev"], eps=1e-6)

  @jtu.sample_product(
      dtype=[np.float64, np.complex128],
      diagonal=[False, True],
      transpose=[False, True],
  )
  def testGradsAllOperands(self, dtype, diagonal, transpose):
    rng = np.random.default_rng(2)
    a = _coefficient(rng, 4, dtype, diagonal)
    b = _coefficient(rng, 3, dtype, diagonal)
    c = _random(rng, (4, 3), dtype)
    f = partial(lax_linalg.sylvester_solve, diagonal=diagonal,
                transpose=transpose)
    jtu.check_grads(f, (a, b, c), order=2, modes=["fwd", "rev"])

  @jtu.sample_product(
      dtype=float_types + complex_types,
      diagonal=[False, True],
      transpose=[False, True],
  )
  def testTransposeMatchesLinearTranspose(self, dtype, diagonal, transpose):
    rng = np.random.default_rng(3)
    a = _coefficient(rng, 5, dtype, diagonal)
    b = _coefficient(rng, 3, dtype, diagonal)
    c = _random(rng, (5, 3), dtype)
    ct = _random(rng, (5, 3), dtype)
    solve = lambda c: lax_linalg.sylvester_solve(
        a, b, c, diagonal=diagonal, transpose=transpose)
    transposed, = jax.linear_transpose(solve, c)(ct)
    expected = lax_linalg.sylvester_solve(a, b, ct, diagonal=diagonal,
                                          transpose=not transpose)
    self.assertAllClose(transposed, expected, rtol=_tol[dtype],
                        atol=_tol[dtype])
    # <ct, S⁻¹ c> = <S⁻ᵀ ct, c> (bilinear pairing).
    self.assertAllClose(np.sum(ct * solve(c)), np.sum(transposed * c),
                        rtol=10 * _tol[dtype], atol=10 * _tol[dtype])

  @jtu.sample_product(
      in_axes=[(0, 0, 0), (None, None, 0), (0, None, 1), (None, 1, None)],
      diagonal=[False, True],
  )
  def testVmap(self, in_axes, diagonal):
    dtype = np.float32
    rng = np.random.default_rng(4)
    k, m, n = 3, 4, 5
    def operand(axis, make, shape):
      if axis is None:
        return make(shape)
      return np.stack([make(shape) for _ in range(k)], axis=axis)
    mk = lambda s: _coefficient(rng, s[0], dtype, diagonal)
    a = operand(in_axes[0], mk, (m, m))
    b = operand(in_axes[1], mk, (n, n))
    c = operand(in_axes[2], lambda s: _random(rng, s, dtype), (m, n))
    solve = partial(lax_linalg.sylvester_solve, diagonal=diagonal)
    out = jax.vmap(solve, in_axes=in_axes)(a, b, c)
    take = lambda x, axis, i: x if axis is None else np.take(x, i, axis)
    expected = np.stack([
        solve(*(take(x, ax, i) for x, ax in zip((a, b, c), in_axes)))
        for i in range(k)])
    self.assertAllClose(out, expected, rtol=_tol[dtype], atol=_tol[dtype])

  def testJit(self):
    rng = np.random.default_rng(5)
    args_maker = lambda: [_triangular(rng, (2,), 6, np.float32),
                          _triangular(rng, (2,), 4, np.float32),
                          _random(rng, (2, 6, 4), np.float32)]
    self._CompileAndCheck(lax_linalg.sylvester_solve, args_maker,
                          rtol=_tol[np.float32], atol=_tol[np.float32])

  def testBadShapesAndDtypesRaiseAtTraceTime(self):
    f32 = lambda *s: jax.ShapeDtypeStruct(s, np.float32)
    solve = lax_linalg.sylvester_solve
    with self.assertRaisesRegex(ValueError, r"argument a .*\(3, 4\)"):
      jax.eval_shape(solve, f32(3, 4), f32(2, 2), f32(3, 2))
    with self.assertRaisesRegex(ValueError, r"argument c .*\(3, 3\)"):
      jax.eval_shape(solve, f32(3, 3), f32(2, 2), f32(3, 3))
    with self.assertRaisesRegex(ValueError, "batch dimensions"):
      jax.eval_shape(solve, f32(2, 3, 3), f32(2, 2), f32(2, 3, 2))
    with self.assertRaisesRegex(ValueError, r"argument b .*\[\.\.\., k\]"):
      jax.eval_shape(partial(solve, diagonal=True), f32(3), f32(),
                     f32(3, 2))
    with self.assertRaisesRegex(TypeError, "int32"):
      jax.eval_shape(solve, jax.ShapeDtypeStruct((3, 3), np.int32),
                     f32(2, 2), f32(3, 2))
    with self.assertRaisesRegex(TypeError, "same"):
      jax.eval_shape(solve, f32(3, 3), f32(2, 2),
                     jax.ShapeDtypeStruct((3, 2), np.complex64))

  @jtu.sample_product(
      mn=[(1, 1), (2, 2), (5, 3), (16, 17), (30, 41)],
      batch=[(), (2,)],
      dtype=float_types,
      transpose=[False, True],
  )
  def testQuasiTriangularAgainstScipy(self, mn, batch, dtype, transpose):
    m, n = mn
    rng = np.random.default_rng(m * 100 + n + 1)
    a = _real_schur(rng, batch, m, dtype)
    b = _real_schur(rng, batch, n, dtype)
    c = _random(rng, batch + (m, n), dtype)
    # Entries below the subdiagonal are ignored.
    a_garbage = a + np.tril(_random(rng, a.shape, dtype), -2)
    y = lax_linalg.sylvester_solve(a_garbage, b, c, quasi_triangular=True,
                                   transpose=transpose)
    op = (lambda x: np.swapaxes(x, -1, -2)) if transpose else (lambda x: x)
    expected = _batched_scipy(op(a), op(b), c)
    self.assertEqual(y.dtype, dtype)
    self.assertAllClose(y, expected, rtol=_tol[dtype], atol=_tol[dtype])

  @jtu.sample_product(dtype=float_types)
  def testQuasiTriangularSingularPairs(self, dtype):
    # lam(A) + lam(-A) = 0 for every eigenvalue: the equation is solved in
    # the complex Schur bases with those components dropped. A consistent
    # right-hand side gives an exact solution; any gives a finite one.
    rng = np.random.default_rng(11)
    a = _real_schur(rng, (), 6, dtype, shift=0.5)
    x0 = _random(rng, (6, 6), dtype)
    c = a @ x0 - x0 @ a
    y = lax_linalg.sylvester_solve(a, -a, c, quasi_triangular=True)
    self.assertAllClose(a @ y - y @ a, c, rtol=_tol[dtype], atol=_tol[dtype])
    y = lax_linalg.sylvester_solve(a, -a, _random(rng, (6, 6), dtype),
                                   quasi_triangular=True)
    self.assertTrue(np.all(np.isfinite(y)))

  @jtu.sample_product(transpose=[False, True])
  def testQuasiTriangularDerivatives(self, transpose):
    # Tangents of a and b keep their quasi-triangular pattern (perturbing a
    # zero subdiagonal entry would create a 2 x 2 block), so derivatives are
    # checked along such a direction, to second order.
    dtype = np.float64
    rng = np.random.default_rng(12)
    a, b = _real_schur(rng, (), 7, dtype), _real_schur(rng, (), 5, dtype)
    c = _random(rng, (7, 5), dtype)
    pattern = lambda t: np.triu(np.ones_like(t)) + np.diag(
        (np.diag(t, -1) != 0).astype(dtype), -1)
    da = _random(rng, a.shape, dtype) * pattern(a)
    db = _random(rng, b.shape, dtype) * pattern(b)
    dc = _random(rng, c.shape, dtype)
    f = lambda s: lax_linalg.sylvester_solve(
        a + s * da, b + s * db, c + s * dc, quasi_triangular=True,
        transpose=transpose)
    jtu.check_grads(f, (0.,), order=2, modes=["fwd", "rev"])
    solve = lambda c: lax_linalg.sylvester_solve(
        a, b, c, quasi_triangular=True, transpose=transpose)
    ct = _random(rng, c.shape, dtype)
    transposed, = jax.linear_transpose(solve, c)(ct)
    self.assertAllClose(np.sum(ct * solve(dc)), np.sum(transposed * dc),
                        rtol=_tol[dtype], atol=_tol[dtype])
    batched = jax.vmap(solve)(np.stack([c, dc]))
    self.assertAllClose(batched[1], solve(dc), rtol=_tol[dtype],
                        atol=_tol[dtype])

  def testQuasiTriangularBadArgs(self):
    f64 = lambda *s: jax.ShapeDtypeStruct(s, np.float64)
    c128 = lambda *s: jax.ShapeDtypeStruct(s, np.complex128)
    solve = partial(lax_linalg.sylvester_solve, quasi_triangular=True)
    with self.assertRaisesRegex(ValueError, "quasi_triangular.*complex128"):
      jax.eval_shape(solve, c128(3, 3), c128(2, 2), c128(3, 2))
    with self.assertRaisesRegex(ValueError, "quasi_triangular.*diagonal=True"):
      jax.eval_shape(partial(solve, diagonal=True), f64(3), f64(2),
                     f64(3, 2))
    with self.assertRaisesRegex(ValueError, "quasi_triangular.*broadening"):
      jax.eval_shape(partial(solve, broadening=1e-3), f64(3, 3), f64(2, 2),
                     f64(3, 2))

  def testPrimitiveIsExported(self):
    self.assertIs(jax.lax.linalg.sylvester_solve_p,
                  lax_linalg.sylvester_solve_p)


@jtu.with_config(jax_enable_x64=True)
class SolveSylvesterTest(jtu.JaxTestCase):
  """Tests for scipy.linalg.solve_sylvester and the factor/solve pair."""

  @jtu.sample_product(
      shapes=[((3, 3), (3, 3), (3, 3)), ((4, 4), (2, 2), (4, 2)),
              ((2, 5, 5), (3, 3), (2, 5, 3)), ((6, 6), (2, 1, 1), (6, 1))],
      dtype=float_types + complex_types,
  )
  @jtu.run_on_devices("cpu")
  def testSchurAgainstScipy(self, shapes, dtype):
    rng = np.random.default_rng(sum(map(sum, shapes)))
    a_shape, b_shape, c_shape = shapes
    a = _general(rng, a_shape[:-2], a_shape[-1], dtype)
    b = _general(rng, b_shape[:-2], b_shape[-1], dtype)
    c = _random(rng, c_shape, dtype)
    args_maker = lambda: [a, b, c]
    self._CheckAgainstNumpy(_batched_scipy, jsp_linalg.solve_sylvester,
                            args_maker, tol=_tol[dtype])
    self._CompileAndCheck(jsp_linalg.solve_sylvester, args_maker,
                          rtol=_tol[dtype], atol=_tol[dtype])

  @jtu.sample_product(
      dtype=float_types + complex_types,
      method=["eigh", "eigen"],
  )
  def testOtherMethodsAgainstScipy(self, dtype, method):
    if method == "eigen" and jtu.device_under_test() != "cpu":
      self.skipTest("eig is CPU-only")
    rng = np.random.default_rng(6)
    a = _hermitian(rng, (2,), 4, dtype)
    b = _hermitian(rng, (), 3, dtype)
    c = _random(rng, (2, 4, 3), dtype)
    solve = partial(jsp_linalg.solve_sylvester, method=method)
    self._CheckAgainstNumpy(_batched_scipy, solve, lambda: [a, b, c],
                            tol=_tol[dtype])

  @jtu.sample_product(
      dtype=[np.float64, np.complex128],
      method=["schur", "eigh"],
  )
  @jtu.run_on_devices("cpu")
  def testGradsAllArguments(self, dtype, method):
    # Stock JAX could not differentiate solve_sylvester in A or B at all.
    rng = np.random.default_rng(7)
    maker = _hermitian if method == "eigh" else _general
    a, b = maker(rng, (), 4, dtype), maker(rng, (), 3, dtype)
    c = _random(rng, (4, 3), dtype)
    f = partial(jsp_linalg.solve_sylvester, method=method)
    jtu.check_grads(f, (a, b, c), order=2, modes=["fwd", "rev"])
    x = f(a, b, c)
    # The tangent solves A dX + dX B = dC - dA X - X dB.
    da, db, dc = (_random(rng, x.shape, dtype) for x in (a, b, c))
    if method == "eigh":
      da, db = da + np.conj(da.T), db + np.conj(db.T)
    _, dx = jax.jvp(f, (a, b, c), (da, db, dc))
    self.assertAllClose(a @ dx + dx @ b, dc - da @ x - x @ db,
                        rtol=1e-10, atol=1e-10)

  @jtu.run_on_devices("cpu")
  def testVmapAndJitOfGrad(self):
    rng = np.random.default_rng(8)
    a = _general(rng, (3,), 4, np.float32)
    b = _general(rng, (), 2, np.float32)
    c = _random(rng, (3, 4, 2), np.float32)
    loss = lambda a, b, c: jnp.sum(jsp_linalg.solve_sylvester(a, b, c) ** 2)
    g = jax.jit(jax.vmap(jax.grad(loss, argnums=(0, 1, 2)),
                         in_axes=(0, None, 0)))(a, b, c)
    for i in range(3):
      gi = jax.grad(loss, argnums=(0, 1, 2))(a[i], b, c[i])
      for x, y in zip(g, gi):
        self.assertAllClose(x[i], y, rtol=1e-4, atol=1e-4)

  @jtu.run_on_devices("cpu")
  def testSchurFormsComputedOnce(self):
    # The primal solve, its JVP and the transposed solve of reverse mode all
    # reuse one Schur decomposition of each of A and B.
    rng = np.random.default_rng(9)
    a, b = _general(rng, (), 4, np.float32), _general(rng, (), 3, np.float32)
    c = _random(rng, (4, 3), np.float32)
    loss = lambda a, b, c: jnp.sum(jsp_linalg.solve_sylvester(a, b, c) ** 2)
    def count(fun, *args):
      jaxpr = jax.make_jaxpr(fun)(*args)
      return str(jaxpr).count("schur[")
    self.assertEqual(count(jsp_linalg.solve_sylvester, a, b, c), 2)
    self.assertEqual(count(
        lambda *x: jax.jvp(jsp_linalg.solve_sylvester, x, x), a, b, c), 2)
    self.assertEqual(count(jax.grad(loss, argnums=(0, 1, 2)), a, b, c), 2)

  @jtu.sample_product(
      dtype=float_types + complex_types,
      method=["schur", "eigh"],
  )
  @jtu.run_on_devices("cpu")
  def testFactorOnceSolveMany(self, dtype, method):
    rng = np.random.default_rng(10)
    maker = _hermitian if method == "eigh" else _general
    a, b = maker(rng, (), 5, dtype), maker(rng, (), 4, dtype)
    cs = _random(rng, (3, 5, 4), dtype)
    factors = jsp_linalg.sylvester_factor(a, b, method=method)
    solve = jax.jit(jsp_linalg.sylvester_solve)
    for c in cs:
      self.assertAllClose(solve(factors, c), _batched_scipy(a, b, c),
                          rtol=_tol[dtype], atol=_tol[dtype])
    # Batched right-hand sides broadcast against unbatched factors.
    self.assertAllClose(solve(factors, cs), _batched_scipy(a, b, cs),
                        rtol=_tol[dtype], atol=_tol[dtype])
    # Differentiable in c; the transpose reuses the factors.
    if np.dtype(dtype) in (np.float64, np.complex128):
      jtu.check_grads(lambda c: jsp_linalg.sylvester_solve(factors, c),
                      (cs[0],), order=2, modes=["fwd", "rev"])

  @jtu.run_on_devices("cpu")
  def testRealInputSolvesInRealArithmetic(self):
    # Real Schur factors, used as they are: the primitive is bound with
    # quasi_triangular=True. Broadening and complex right-hand sides convert
    # them to complex Schur form (an O(n^2) rotation per 2 x 2 block).
    rng = np.random.default_rng(13)
    a, b = _general(rng, (), 6, np.float64), _general(rng, (), 4, np.float64)
    c = _random(rng, (6, 4), np.float64)
    jaxpr = str(jax.make_jaxpr(jsp_linalg.solve_sylvester)(a, b, c))
    self.assertIn("quasi_triangular=True", jaxpr)
    factors = jsp_linalg.sylvester_factor(a, b)
    self.assertEqual(factors.t_a.dtype, np.float64)
    expected = _batched_scipy(a, b, c)
    self.assertAllClose(jsp_linalg.sylvester_solve(factors, c), expected,
                        rtol=_tol[np.float64], atol=_tol[np.float64])
    self.assertAllClose(
        jsp_linalg.sylvester_solve(factors, c, broadening=1e-20), expected,
        rtol=_tol[np.float64], atol=_tol[np.float64])
    cc = c + 1j * _random(rng, (6, 4), np.float64)
    self.assertAllClose(jsp_linalg.sylvester_solve(factors, cc),
                        _batched_scipy(a, b, cc), rtol=_tol[np.complex128],
                        atol=_tol[np.complex128])

  @jtu.run_on_devices("cpu")
  def testSingularEquationIsFinite(self):
    # λ(A) + λ(B) = 0 for a pair: stock JAX returns all NaN.
    a = np.diag([1., 2., 3.])
    b = np.diag([-2., 5.])
    c = np.ones((3, 2))
    for method in ("schur", "eigh"):
      x = jsp_linalg.solve_sylvester(a, b, c, method=method)
      self.assertTrue(np.all(np.isfinite(x)), msg=method)
      self.assertAllClose(x[1, 0], 0., atol=1e-6)
      self.assertAllClose(x[0, 1], 1 / 6, rtol=1e-5)

  @jtu.sample_product(method=["schur", "eigh", "eigen"])
  @jtu.run_on_devices("cpu")
  def testExplicitTolKeepsNanForSingularEquations(self, method):
    # The previous semantics of `tol`, kept for compatibility: an explicit
    # tol turns nearly singular equations into NaN (per batch element).
    a = np.stack([np.diag([1., 2., 3.]), np.diag([1.5, 2.5, 4.])])
    b = np.diag([-2., 5.])
    c = np.ones((2, 3, 2))
    x = jsp_linalg.solve_sylvester(a, b, c, method=method, tol=1e-5)
    self.assertTrue(np.all(np.isnan(x[0])))
    self.assertAllClose(x[1], 1 / (np.diag(a[1])[:, None] + np.diag(b)),
                        rtol=1e-5)

  def testBadInputs(self):
    with self.assertRaisesRegex(ValueError, r"argument a .*\(3, 2\)"):
      jsp_linalg.solve_sylvester(np.ones((3, 2)), np.eye(2), np.ones((3, 2)))
    with self.assertRaisesRegex(ValueError, r"argument c .*\(2, 3\)"):
      jsp_linalg.solve_sylvester(np.eye(3), np.eye(2), np.ones((2, 3)))
    with self.assertRaisesRegex(ValueError, "method"):
      jsp_linalg.solve_sylvester(np.eye(2), np.eye(2), np.eye(2),
                                 method="qr")
    with self.assertRaisesRegex(TypeError, "sylvester_factor"):
      jsp_linalg.sylvester_solve((np.eye(2), np.eye(2)), np.eye(2))
    with mock.patch.object(xla_bridge, "default_backend",
                           return_value="gpu"):
      with self.assertRaisesRegex(ValueError, "method='eigh'"):
        jsp_linalg.solve_sylvester(np.eye(2), np.eye(2), np.eye(2))


# Sizes on both sides of the solver's small-equation path: equations with
# max(m, n) <= 100 are solved column by column in the complex Schur bases,
# larger ones by the blocked real wavefront, which falls back to the former
# for singular equations.
_SIZES = [(4, 4), (100, 100), (101, 40), (30, 130)]


class SylvesterSizesTest(jtu.JaxTestCase):
  """Accuracy of each of the solver's paths against SciPy."""

  def _tol(self, dtype, n):
    # Relative to the largest entry of the solution. The matrices of
    # _general have eigenvalue sums near 6 and norms near 5, so the
    # Sylvester operator has a condition number of order 10 and a backward
    # stable solve errs by a few times n eps times that.
    eps = np.finfo(dtype).eps
    return 30 * n * eps

  def _check(self, x, expected, dtype, n):
    self.assertEqual(x.dtype, dtype)
    err = np.abs(np.asarray(x) - expected).max() / np.abs(expected).max()
    self.assertLess(err, self._tol(dtype, n))

  @jtu.sample_product(
      mn=_SIZES,
      dtype=jtu.dtypes.floating + jtu.dtypes.complex,
  )
  @jtu.run_on_devices("cpu")
  def testSolveSylvesterAgainstScipy(self, mn, dtype):
    m, n = mn
    rng = np.random.default_rng(m * 1000 + n)
    a, b = _general(rng, (), m, dtype), _general(rng, (), n, dtype)
    c = _random(rng, (m, n), dtype)
    # The oracle in complex128 from the same (rounded) inputs.
    self._check(jsp_linalg.solve_sylvester(a, b, c), _batched_scipy(a, b, c),
                dtype, max(m, n))

  @jtu.sample_product(mn=_SIZES, dtype=jtu.dtypes.complex)
  @jtu.run_on_devices("cpu")
  def testComplexAWithRealB(self, mn, dtype):
    # Mixed inputs are promoted to the complex dtype. SciPy 1.17 solves this
    # case wrongly when b has complex eigenvalues, so the oracle gets all
    # three in complex128.
    m, n = mn
    real = np.finfo(dtype).dtype
    rng = np.random.default_rng(m * 1000 + n + 1)
    a = _general(rng, (), m, dtype)
    b = _general(rng, (), n, real)
    c = _random(rng, (m, n), real)
    with jax.numpy_dtype_promotion("standard"):
      x = jsp_linalg.solve_sylvester(a, b, c)
    self._check(x, _batched_scipy(a, b, c), dtype, max(m, n))

  @jtu.sample_product(
      mn=_SIZES,
      dtype=jtu.dtypes.floating,
      transpose=[False, True],
  )
  def testQuasiTriangularBatchedAgainstScipy(self, mn, dtype, transpose):
    # The primitive on real Schur forms, batched, and its transposed solve.
    m, n = mn
    rng = np.random.default_rng(m * 1000 + n + 2)
    a, b = _real_schur(rng, (2,), m, dtype), _real_schur(rng, (2,), n, dtype)
    c = _random(rng, (2, m, n), dtype)
    y = lax_linalg.sylvester_solve(a, b, c, quasi_triangular=True,
                                   transpose=transpose)
    op = (lambda x: np.swapaxes(x, -1, -2)) if transpose else (lambda x: x)
    self._check(y, _batched_scipy(op(a), op(b), c), dtype, max(m, n))

  @jtu.sample_product(n=[6, 104])
  @jtu.run_on_devices("cpu")
  def testSingularEquationGeneralizedSolution(self, n):
    # A X - X A = C: every pair lam_i - lam_i is singular. For a consistent
    # C the solution solves the equation (to a backward stable residual of
    # a few n eps |A| |X|); for any C it is finite.
    dtype = jtu.dtypes.floating[-1]
    rng = np.random.default_rng(n)
    a = _general(rng, (), n, dtype, shift=0.5)
    x0 = _random(rng, (n, n), dtype)
    c = a @ x0 - x0 @ a
    x = np.asarray(jsp_linalg.solve_sylvester(a, -a, c))
    eps = np.finfo(dtype).eps
    scale = np.abs(a).max() * np.abs(x).max() + np.abs(c).max()
    self.assertLess(np.abs(a @ x - x @ a - c).max(), 30 * n * eps * scale)
    x = jsp_linalg.solve_sylvester(a, -a, _random(rng, (n, n), dtype))
    self.assertTrue(np.all(np.isfinite(x)))


if __name__ == "__main__":
  absltest.main(testLoader=jtu.JaxTestLoader())

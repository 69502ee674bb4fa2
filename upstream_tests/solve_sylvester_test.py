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

"""Tests for jax.scipy.linalg.solve_sylvester."""

import contextlib
from functools import partial

from absl.testing import absltest
import numpy as np
import scipy.linalg as osp_linalg

import jax
import jax.numpy as jnp
from jax._src import config
from jax._src import test_util as jtu
from jax._src.scipy import linalg as jsp_linalg

config.parse_flags_with_absl()
jtu.request_cpu_devices(4)

float_types = jtu.dtypes.floating
complex_types = jtu.dtypes.complex

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


class SolveSylvesterTest(jtu.JaxTestCase):
  """Tests for scipy.linalg.solve_sylvester."""

  @jtu.sample_product(
      shapes=[((3, 3), (3, 3), (3, 3)), ((4, 4), (2, 2), (4, 2)),
              ((2, 5, 5), (3, 3), (2, 5, 3)), ((6, 6), (2, 1, 1), (6, 1))],
      dtype=float_types + complex_types,
  )
  @jtu.run_on_devices("cpu")
  def testSchurAgainstScipy(self, shapes, dtype):
    rng = self.rng()
    a_shape, b_shape, c_shape = shapes
    a = _general(rng, a_shape[:-2], a_shape[-1], dtype)
    b = _general(rng, b_shape[:-2], b_shape[-1], dtype)
    c = _random(rng, c_shape, dtype)
    args_maker = lambda: [a, b, c]
    self._CheckAgainstNumpy(_batched_scipy, jsp_linalg.solve_sylvester,
                            args_maker, tol=_tol[dtype])
    self._CompileAndCheck(jsp_linalg.solve_sylvester, args_maker,
                          rtol=_tol[dtype], atol=_tol[dtype])

  @jtu.sample_product(dtype=float_types + complex_types)
  @jtu.run_on_devices("cpu")
  def testEigenAgainstScipy(self, dtype):
    rng = self.rng()
    a = _general(rng, (2,), 4, dtype)
    b = _general(rng, (), 3, dtype)
    c = _random(rng, (2, 4, 3), dtype)
    solve = partial(jsp_linalg.solve_sylvester, method="eigen")
    self._CheckAgainstNumpy(_batched_scipy, solve, lambda: [a, b, c],
                            tol=_tol[dtype])

  @jtu.sample_product(
      dtype=[np.float64, np.complex128],
      method=["schur", "eigen"],
  )
  @jtu.run_on_devices("cpu")
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testGradsAllArguments(self, dtype, method):
    # Stock JAX could not differentiate solve_sylvester in A or B at all.
    rng = self.rng()
    a, b = _general(rng, (), 4, dtype), _general(rng, (), 3, dtype)
    c = _random(rng, (4, 3), dtype)
    f = partial(jsp_linalg.solve_sylvester, method=method)
    jtu.check_grads(f, (a, b, c), order=2, modes=["fwd", "rev"])
    x = f(a, b, c)
    # The tangent solves A dX + dX B = dC - dA X - X dB.
    da, db, dc = (_random(rng, x.shape, dtype) for x in (a, b, c))
    _, dx = jax.jvp(f, (a, b, c), (da, db, dc))
    self.assertAllClose(a @ dx + dx @ b, dc - da @ x - x @ db,
                        rtol=1e-10, atol=1e-10)

  @jtu.run_on_devices("cpu")
  def testVmapAndJitOfGrad(self):
    rng = self.rng()
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
    rng = self.rng()
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

  @jtu.run_on_devices("cpu")
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testRealInputSolvesInRealArithmetic(self):
    # Real Schur factors, used as they are: the primitive is bound with
    # quasi_triangular=True. Complex right-hand sides convert them to
    # complex Schur form (an O(n^2) rotation per 2 x 2 block).
    rng = self.rng()
    a, b = _general(rng, (), 6, np.float64), _general(rng, (), 4, np.float64)
    c = _random(rng, (6, 4), np.float64)
    jaxpr = str(jax.make_jaxpr(jsp_linalg.solve_sylvester)(a, b, c))
    self.assertIn("quasi_triangular=True", jaxpr)
    # Without the tol check, which needs the (complex) eigenvalues, nothing
    # is complex.
    jaxpr = str(jax.make_jaxpr(partial(jsp_linalg.solve_sylvester, tol=None))(
        a, b, c))
    self.assertNotIn("c128", jaxpr)
    expected = _batched_scipy(a, b, c)
    self.assertAllClose(jsp_linalg.solve_sylvester(a, b, c), expected,
                        rtol=_tol[np.float64], atol=_tol[np.float64])
    cc = c + 1j * _random(rng, (6, 4), np.float64)
    with jax.numpy_dtype_promotion("standard"):
      x = jsp_linalg.solve_sylvester(a, b, cc)
    self.assertAllClose(x, _batched_scipy(a, b, cc),
                        rtol=_tol[np.complex128], atol=_tol[np.complex128])

  @jtu.run_on_devices("cpu")
  def testSingularEquationIsFiniteWithoutTol(self):
    # λ(A) + λ(B) = 0 for a pair. With tol=None (opt-in) the singular
    # component is zero and the others are solved: a generalized-inverse
    # solution instead of all NaN.
    a = np.diag([1., 2., 3.])
    b = np.diag([-2., 5.])
    c = np.ones((3, 2))
    for method in ("schur", "eigen"):
      x = jsp_linalg.solve_sylvester(a, b, c, method=method, tol=None)
      self.assertTrue(np.all(np.isfinite(x)), msg=method)
      self.assertAllClose(x[1, 0], 0., atol=1e-6)
      self.assertAllClose(x[0, 1], 1 / 6, rtol=1e-5)

  @jtu.sample_product(method=["schur", "eigen"])
  @jtu.run_on_devices("cpu")
  def testTolGivesNanForSingularEquations(self, method):
    # The semantics of `tol` are unchanged: by default (tol=1e-8) and for an
    # explicit, possibly traced, tol, nearly singular equations give NaN, per
    # batch element.
    a = np.stack([np.diag([1., 2., 3.]), np.diag([1.5, 2.5, 4.])])
    b = np.diag([-2., 5.])
    c = np.ones((2, 3, 2))
    expected = 1 / (np.diag(a[1])[:, None] + np.diag(b))
    solve = partial(jsp_linalg.solve_sylvester, method=method)
    for x in (solve(a, b, c), solve(a, b, c, tol=1e-5),
              jax.jit(lambda tol: solve(a, b, c, tol=tol))(1e-5)):
      self.assertTrue(np.all(np.isnan(x[0])))
      self.assertAllClose(x[1], expected, rtol=1e-5)
    # A pivot of 0.5 is below tol=1 only.
    self.assertTrue(np.all(np.isnan(solve(a[1], b, c[1], tol=1.))))
    self.assertAllClose(solve(a[1], b, c[1], tol=0.4), expected, rtol=1e-5)

  @jtu.sample_product(method=["schur", "eigen"])
  @jtu.run_on_devices("cpu")
  def testNanPropagatesToDerivatives(self, method):
    # A NaN solution (a nearly singular equation under the default tol) has
    # NaN derivatives in every argument, per batch element: a zero gradient
    # would read as converged to an optimizer. The first equation is a
    # well-conditioned one scaled by 1e-9: its pivots lam_i(A) + lam_j(B),
    # near 6e-9, are below tol=1e-8.
    rng = self.rng()
    a = np.stack([1e-9 * _general(rng, (), 3, np.float64),
                  np.diag([1.5, 2.5, 4.])])
    b = 1e-9 * _general(rng, (), 2, np.float64)
    c = np.ones((2, 3, 2))
    loss = lambda a, b, c: jnp.sum(
        jsp_linalg.solve_sylvester(a, b, c, method=method))
    for g in jax.grad(loss, argnums=(0, 1, 2))(a, b, c):
      g = np.asarray(g)
      if g.ndim == 3:
        self.assertTrue(np.all(np.isnan(g[0])))
        self.assertTrue(np.all(np.isfinite(g[1])))
      else:  # b is shared: NaN from the singular element.
        self.assertTrue(np.all(np.isnan(g)))
    _, tangent = jax.jvp(lambda c: jsp_linalg.solve_sylvester(
        a, b, c, method=method), (c,), (c,))
    self.assertTrue(np.all(np.isnan(tangent[0])))
    self.assertTrue(np.all(np.isfinite(tangent[1])))

  def testBadInputs(self):
    with self.assertRaisesRegex(ValueError, r"argument A .*\(3, 2\)"):
      jsp_linalg.solve_sylvester(np.ones((3, 2)), np.eye(2), np.ones((3, 2)))
    with self.assertRaisesRegex(ValueError, r"argument C .*\(2, 3\)"):
      jsp_linalg.solve_sylvester(np.eye(3), np.eye(2), np.ones((2, 3)))
    with self.assertRaisesRegex(ValueError, r"batch.*\(2, 3, 3\).*\(4, 2, 2\)"):
      jsp_linalg.solve_sylvester(np.ones((2, 3, 3)), np.ones((4, 2, 2)),
                                 np.ones((3, 2)))
    with self.assertRaisesRegex(ValueError, "method"):
      jsp_linalg.solve_sylvester(np.eye(2), np.eye(2), np.eye(2),
                                 method="qr")


# Sizes on both sides of the solver's small-equation path: equations with
# max(m, n) <= 100 are solved column by column, larger ones by the blocked
# wavefront, which falls back to the former for singular real equations.
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
    rng = self.rng()
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
    rng = self.rng()
    a = _general(rng, (), m, dtype)
    b = _general(rng, (), n, real)
    c = _random(rng, (m, n), real)
    with jax.numpy_dtype_promotion("standard"):
      x = jsp_linalg.solve_sylvester(a, b, c)
    self._check(x, _batched_scipy(a, b, c), dtype, max(m, n))

  @jtu.sample_product(
      # jax._src.scipy.linalg._SYLVESTER_STACKED_FACTORS, and one more.
      n=[80, 81],
      method=["schur", "eigen"],
      dtype=[jtu.dtypes.floating[-1], jtu.dtypes.complex[-1]],
  )
  @jtu.run_on_devices("cpu")
  def testEqualShapesFactoredTogether(self, n, method, dtype):
    # A and B of equal shapes up to n = 80 are factored as one batch of two,
    # which the CPU LAPACK kernels split across threads; larger ones one
    # after the other. Both agree with SciPy, batched and differentiated. A
    # complex A comes with a real B (promoted to A's dtype).
    rng = self.rng()
    maker = _general if method == "schur" else _hermitian
    a = maker(rng, (2,), n, dtype)
    b = maker(rng, (), n, np.finfo(dtype).dtype)
    c = _random(rng, (2, n, n), dtype)
    solve = partial(jsp_linalg.solve_sylvester, method=method)
    with jax.numpy_dtype_promotion("standard"):
      jaxpr = str(jax.make_jaxpr(solve)(a, b, c))
      x = solve(a, b, c)
    name = {"schur": "schur[", "eigen": "eig["}[method]
    self.assertEqual(jaxpr.count(name), 1 if n <= 80 else 2)
    self._check(x, _batched_scipy(a, b, c), dtype, n)
    # The tangent solves A dX + dX B = dC - dA X - X dB, with the factors of
    # the primal solve (to the same backward-stable residual).
    da = maker(rng, a.shape[:-2], n, a.dtype, shift=0.0)
    db = maker(rng, b.shape[:-2], n, b.dtype, shift=0.0)
    dc = _random(rng, c.shape, dtype)
    with jax.numpy_dtype_promotion("standard"):
      x, dx = jax.jvp(solve, (a, b, c), (da, db, dc))
    x, dx = np.asarray(x), np.asarray(dx)
    rhs = dc - da @ x - x @ db
    eps = np.finfo(dtype).eps
    self.assertLess(np.abs(a @ dx + dx @ b - rhs).max(),
                    30 * n * eps * np.abs(rhs).max())

  @jtu.sample_product(n=[6, 104])
  @jtu.run_on_devices("cpu")
  def testSingularEquationGeneralizedSolution(self, n):
    # A X - X A = C with tol=None: every pair lam_i - lam_i is singular. For
    # a consistent C the solution solves the equation (to a backward stable
    # residual of a few n eps |A| |X|); for any C it is finite.
    dtype = jtu.dtypes.floating[-1]
    rng = self.rng()
    a = _general(rng, (), n, dtype, shift=0.5)
    x0 = _random(rng, (n, n), dtype)
    c = a @ x0 - x0 @ a
    x = np.asarray(jsp_linalg.solve_sylvester(a, -a, c, tol=None))
    eps = np.finfo(dtype).eps
    scale = np.abs(a).max() * np.abs(x).max() + np.abs(c).max()
    self.assertLess(np.abs(a @ x - x @ a - c).max(), 30 * n * eps * scale)
    x = jsp_linalg.solve_sylvester(a, -a, _random(rng, (n, n), dtype),
                                   tol=None)
    self.assertTrue(np.all(np.isfinite(x)))


class SolveSylvesterShardingTest(jtu.JaxTestCase):

  def setUp(self):
    super().setUp()
    if jax.device_count() < 4:
      self.skipTest("needs 4 devices")

  @jtu.sample_product(
      # The column-by-column solves (n <= 100) and the blocked ones: for
      # real input in real Schur forms, for complex input in complex ones.
      n=[20, 120],
      dtype=[np.float32, np.complex64],
  )
  @jtu.run_on_devices("cpu")
  def testBatchShardedSolveAndGrad(self, n, dtype):
    # The batch axis may be sharded, explicitly or not: the solve and its
    # derivatives in A, B and C keep it sharded, compile to no collective,
    # and give the unsharded results.
    rng = self.rng()
    a, b = _general(rng, (8,), n, dtype), _general(rng, (8,), n, dtype)
    c = _random(rng, (8, n, n), dtype)
    solve = jsp_linalg.solve_sylvester
    loss = lambda a, b, c: jnp.sum(jnp.abs(solve(a, b, c)) ** 2)
    grad = jax.grad(loss, argnums=(0, 1, 2))
    tol = _tol[dtype]
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

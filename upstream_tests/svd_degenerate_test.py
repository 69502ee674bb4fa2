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

"""Tests for the degenerate-aware SVD JVP (issues #2311, #8732)."""

import contextlib
import functools

from absl.testing import absltest
import numpy as np
import scipy.linalg as osp_linalg

import jax
from jax import lax
from jax import numpy as jnp
from jax._src import config
from jax._src import core
from jax._src import test_util as jtu
from jax._src.lax import linalg as lax_linalg

config.parse_flags_with_absl()
jtu.request_cpu_devices(4)

inexact_types = jtu.dtypes.floating + jtu.dtypes.complex

# Tolerances against float64 oracles evaluated at the (rounded) input. The
# rule's error is the SVD's rounding error times the conditioning of the
# derivative, measured at most 1e-6 (single) and 1e-14 (double) relative at
# the exactly degenerate inputs below, and bounded by about sqrt(eps) for
# pairs just above the degeneracy tolerance (measured: 7e-5 and 6e-10, see
# testNearDegenerateSplittingsStayAccurate). The float64 bound also covers
# the Richardson-extrapolated central differences (about 1e-10).
_TOL = {np.float32: 3e-4, np.complex64: 3e-4, np.float64: 1e-8,
        np.complex128: 1e-8}


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


def _primitives(jaxpr):
  """The primitives of a jaxpr's equations, sub-jaxprs included."""
  for eqn in jaxpr.eqns:
    yield eqn.primitive
    for sub in core.jaxprs_in_params(eqn.params):
      yield from _primitives(sub)


def _is_complex(dtype):
  return np.issubdtype(dtype, np.complexfloating)


def _random(rng, shape, dtype):
  x = rng.randn(*shape)
  if _is_complex(dtype):
    x = x + 1j * rng.randn(*shape)
  return x.astype(dtype)


def _unitary(rng, n, dtype):
  return np.linalg.qr(_random(rng, (n, n), dtype).astype(np.complex128
                      if _is_complex(dtype) else np.float64))[0]


def _with_singular_values(rng, s, shape, dtype):
  """U diag(s) V^H of the given shape for random unitary U and V."""
  m, n = shape
  k = len(s)
  u, v = _unitary(rng, m, dtype)[:, :k], _unitary(rng, n, dtype)[:, :k]
  return ((u * np.asarray(s)) @ v.conj().T).astype(dtype)


def _f64(x):
  x = np.asarray(x)
  return x.astype(np.complex128 if _is_complex(x.dtype) else np.float64)


def _inner(x, y):
  # The directional derivative <grad L, E> of a real loss, in JAX's
  # convention for complex cotangents.
  return float(np.real(np.sum(_f64(x) * _f64(y))))


def _central_difference(f, x, dx, h=1e-3):
  # Richardson-extrapolated central difference of a float64 function: error
  # O(h^4) + O(eps / h), about 1e-11 relative here.
  x, dx = _f64(x), _f64(dx)
  d = lambda h: (f(x + h * dx) - f(x - h * dx)) / (2 * h)
  return (4 * d(h / 2) - d(h)) / 3


def _polar_derivative(a, e):
  """d(U V^H) along e, in closed form: no SVD derivative involved.

  With A = Q P (Q = U V^H, P = (A^H A)^(1/2) positive definite),
  Q^H dQ = Ω solves the Lyapunov equation Ω P + P Ω = Q^H E - E^H Q, and a
  tall A adds (I - Q Q^H) E P^-1. A wide A is the conjugate transpose of a
  tall one.
  """
  a, e = _f64(a), _f64(e)
  if a.shape[0] < a.shape[1]:
    return _polar_derivative(a.conj().T, e.conj().T).conj().T
  q, p = osp_linalg.polar(a)
  omega = osp_linalg.solve_sylvester(p, p, q.conj().T @ e - e.conj().T @ q)
  dq = q @ omega
  if a.shape[0] > a.shape[1]:
    dq = dq + (np.eye(a.shape[0]) - q @ q.conj().T) @ e @ np.linalg.inv(p)
  return dq


def _projector_derivative(a, e, k):
  """d(U_k U_k^H) along e for the k largest left singular vectors.

  U_k U_k^H is the spectral projector of A A^H onto its k largest
  eigenvalues; with the eigenpairs (λ, W) of A A^H, first-order perturbation
  theory gives dP = W (F ∘ W^H M W) W^H, M = E A^H + A E^H, with
  F_ij = 1 / |λ_i - λ_j| for i and j on opposite sides of the gap, else 0.
  (For V_k V_k^H, pass A^H and E^H.)
  """
  a, e = _f64(a), _f64(e)
  lam, w = np.linalg.eigh(a @ a.conj().T)
  lam, w = lam[::-1], w[:, ::-1]
  inside = np.arange(len(lam)) < k
  opposite = inside[:, None] != inside[None, :]
  with np.errstate(divide="ignore"):
    f = np.where(opposite, 1 / abs(lam[None, :] - lam[:, None]), 0)
  mw = w.conj().T @ (e @ a.conj().T + a @ e.conj().T) @ w
  return w @ (f * mw) @ w.conj().T


def _polar(a):
  u, _, vh = jnp.linalg.svd(a, full_matrices=False)
  return u @ vh


def _np_polar(a):
  u, _, vh = np.linalg.svd(a, full_matrices=False)
  return u @ vh


def _left_projector(k, svd=jnp.linalg.svd):
  def projector(a):
    u = svd(a, full_matrices=False)[0][..., :, :k]
    return u @ jnp.conj(u).mT
  return projector


def _right_projector(k):
  def projector(a):
    vh = jnp.linalg.svd(a, full_matrices=False)[2][..., :k, :]
    return jnp.conj(vh).mT @ vh
  return projector


def _np_projector(k, side):
  def projector(a):
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    x = u[:, :k] if side == "left" else vh[:k].conj().T
    return x @ x.conj().T
  return projector


def _weighted(f, weights):
  """The real loss sum(Re(W * f(a)))."""
  def loss(a):
    return jnp.sum(jnp.real(jnp.asarray(weights) * f(a)))
  return loss


def _np_weighted(f, weights):
  return lambda a: float(np.sum(np.real(weights * f(a))))


def _textbook_svd_jvp(u, s, vh, e):
  """The nondegenerate rule (JAX's before this change), in numpy.

  F_ij = 1 / (s_j^2 - s_i^2), the joint phase on U, the tall/wide complement
  divided by s; at the singular vectors (u, s, vh) that svd returned.
  """
  u, s, vh, e = _f64(u), _f64(s).real, _f64(vh), _f64(e)
  v = vh.conj().T
  k = u.conj().T @ e @ v
  with np.errstate(divide="ignore"):
    f = 1 / (s[None, :] ** 2 - s[:, None] ** 2)
  np.fill_diagonal(f, 0)
  phase = np.diag(1j * np.imag(np.diag(k)) / s) if np.iscomplexobj(k) else 0
  du = u @ (f * (k * s[None, :] + s[:, None] * k.conj().T) + phase)
  dv = v @ (f * (s[:, None] * k + k.conj().T * s[None, :]))
  m, n = e.shape
  if m > n:
    du = du + (e @ v - u @ (u.conj().T @ e @ v)) / s
  if n > m:
    dv = dv + (e.conj().T @ u - v @ (vh @ e.conj().T @ u)) / s
  return np.real(np.diag(k)), du, dv.conj().T


# Square, tall and wide matrices with repeated singular values.
_REPEATED = [((4, 4), (2., 2., 2., 0.5)), ((5, 3), (3., 1.5, 1.5)),
             ((3, 5), (3., 1.5, 1.5))]
# Rank-deficient tall and wide matrices, with a gap below the top k.
_RANK_DEFICIENT = [((5, 3), (3., 2., 0.), 2), ((3, 5), (3., 2., 0.), 2),
                   ((6, 4), (2., 1., 0., 0.), 2), ((4, 6), (2., 2., 0., 0.), 2)]


class SvdDegenerateJvpTest(jtu.JaxTestCase):

  @jtu.sample_product(case=_REPEATED, dtype=inexact_types)
  def testPolarFactorAtRepeatedSingularValues(self, case, dtype):
    # From #2311: the gradient of a function of U V^H, which is smooth while
    # the singular values are positive, was NaN (or, with complex input or
    # singular values equal only to rounding, finite and wrong).
    shape, s = case
    rng = self.rng()
    a = _with_singular_values(rng, s, shape, dtype)
    e = _random(rng, shape, dtype)
    weights = _random(rng, shape, dtype)
    loss = _weighted(_polar, weights)
    expected = _inner(weights, _polar_derivative(a, e))
    fd = _central_difference(_np_weighted(_np_polar, weights), a, e)
    self.assertAllClose(fd, expected, rtol=1e-8, atol=1e-8)
    tol = _TOL[dtype]
    _, forward = jax.jvp(loss, (a,), (e,))
    self.assertAllClose(float(forward), expected, rtol=tol, atol=tol)
    reverse = _inner(jax.grad(loss)(a), e)
    self.assertAllClose(reverse, expected, rtol=tol, atol=tol)
    # The whole tangent of U V^H, not just one projection of it.
    _, q_dot = jax.jvp(_polar, (a,), (e,))
    self.assertAllClose(_f64(q_dot), _polar_derivative(a, e), rtol=tol,
                        atol=tol)

  @jtu.sample_product(
      case=[((4, 4), (3., 3., 1., 1.)), ((5, 4), (3., 3., 1., 1.)),
            ((4, 6), (2., 2., 1., 0.5))],
      dtype=inexact_types,
  )
  def testSingularSubspaceProjectors(self, case, dtype):
    # Projectors onto the top-2 left and right singular subspaces are smooth
    # at a gap. Stock JAX's grad and jvp disagreed with each other and with
    # central differences there, without NaN.
    shape, s = case
    rng = self.rng()
    a = _with_singular_values(rng, s, shape, dtype)
    e = _random(rng, shape, dtype)
    tol = _TOL[dtype]
    for side, projector, dim in (("left", _left_projector(2), shape[0]),
                                 ("right", _right_projector(2), shape[1])):
      weights = _random(rng, (dim, dim), dtype)
      loss = _weighted(projector, weights)
      expected = (_projector_derivative(a, e, 2) if side == "left" else
                  _projector_derivative(a.conj().T, e.conj().T, 2))
      fd = _central_difference(
          _np_weighted(_np_projector(2, side), weights), a, e)
      self.assertAllClose(fd, _inner(weights, expected), rtol=1e-8, atol=1e-8)
      _, p_dot = jax.jvp(projector, (a,), (e,))
      self.assertAllClose(_f64(p_dot), expected, rtol=tol, atol=tol)
      reverse = _inner(jax.grad(loss)(a), e)
      self.assertAllClose(reverse, _inner(weights, expected), rtol=tol,
                          atol=tol)

  @jtu.sample_product(case=_RANK_DEFICIENT, dtype=inexact_types)
  def testRankDeficientTallAndWide(self, case, dtype):
    # Zero singular values: the complement terms divide by s. Projectors
    # onto the top-k singular subspaces above a gap to the null space, and
    # the partial isometry U_k V_k^H, are smooth in every direction.
    shape, s, k = case
    rng = self.rng()
    a = _with_singular_values(rng, s, shape, dtype)
    e = _random(rng, shape, dtype)
    tol = _TOL[dtype]
    _, p_dot = jax.jvp(_left_projector(k), (a,), (e,))
    self.assertAllClose(_f64(p_dot), _projector_derivative(a, e, k),
                        rtol=tol, atol=tol)
    _, p_dot = jax.jvp(_right_projector(k), (a,), (e,))
    self.assertAllClose(
        _f64(p_dot), _projector_derivative(a.conj().T, e.conj().T, k),
        rtol=tol, atol=tol)
    def isometry(a):
      u, _, vh = jnp.linalg.svd(a, full_matrices=False)
      return u[:, :k] @ vh[:k]
    def np_isometry(a):
      u, _, vh = np.linalg.svd(a, full_matrices=False)
      return u[:, :k] @ vh[:k]
    weights = _random(rng, shape, dtype)
    fd = _central_difference(_np_weighted(np_isometry, weights), a, e)
    loss = _weighted(isometry, weights)
    _, forward = jax.jvp(loss, (a,), (e,))
    self.assertAllClose(float(forward), fd, rtol=tol, atol=tol)
    self.assertAllClose(_inner(jax.grad(loss)(a), e), fd, rtol=tol, atol=tol)

  @jtu.sample_product(dtype=inexact_types)
  def testBestRankApproximation(self, dtype):
    # The best rank-2 approximation at singular values (3, 3, 1, 1) is smooth
    # (a gap after the second). Written with projectors, P_U A P_V, it is
    # exact in every direction. Written as U_2 S_2 V_2^H it weighs the
    # cluster's vectors by s, and its derivative on the cluster block is the
    # whole block of U^H E V, whose off-diagonal Hermitian part no rule with
    # a diagonal ṡ can produce: it is exact for perturbations that keep the
    # clusters (and off by a few percent in directions that split one).
    rng = self.rng()
    q1, q2 = _unitary(rng, 4, dtype), _unitary(rng, 4, dtype)
    s = np.array([3., 3., 1., 1.])
    a = ((q1 * s) @ q2.conj().T).astype(dtype)
    e = _random(rng, (4, 4), dtype)
    k = q1.conj().T @ _f64(e) @ q2
    for d in (np.ix_([0, 1], [0, 1]), np.ix_([2, 3], [2, 3])):
      k[d] = np.trace(k[d]) / 2 * np.eye(2)  # Keep the clusters: K_DD ∝ I.
    e_keep = (q1 @ k @ q2.conj().T).astype(dtype)
    def np_best(a):
      u, s, vh = np.linalg.svd(a)
      return (u[:, :2] * s[:2]) @ vh[:2]
    def projected(a):
      u, _, vh = jnp.linalg.svd(a)
      return u[:, :2] @ jnp.conj(u[:, :2]).mT @ a @ jnp.conj(vh[:2]).mT @ vh[:2]
    def weighted(a):
      u, s, vh = jnp.linalg.svd(a)
      return (u[:, :2] * s[None, :2].astype(u.dtype)) @ vh[:2]
    tol = _TOL[dtype]
    for f, direction in ((projected, e), (projected, e_keep),
                         (weighted, e_keep)):
      _, x_dot = jax.jvp(f, (a,), (direction,))
      self.assertAllClose(_f64(x_dot),
                          _central_difference(np_best, a, direction),
                          rtol=tol, atol=tol)

  @jtu.sample_product(transpose=[False, True], dtype=inexact_types)
  def testExactZeroSingularValues(self, transpose, dtype):
    # A zero column (or row) gives a singular value that is exactly zero;
    # the stock rule divided by it. Two exact zeros: a zero pair as well.
    rng = self.rng()
    a = _random(rng, (5, 4), dtype)
    a[:, 2:] = 0
    e = _random(rng, (5, 4), dtype)
    if transpose:
      a, e = a.T, e.T
    s = np.linalg.svd(a, compute_uv=False)
    self.assertEqual(s[-1], 0)
    tol = _TOL[dtype]
    weights = _random(rng, (a.shape[0],) * 2, dtype)
    loss = _weighted(_left_projector(2), weights)
    g = jax.grad(loss)(a)
    self.assertTrue(np.all(np.isfinite(g)))
    expected = _inner(weights, _projector_derivative(a, e, 2))
    self.assertAllClose(_inner(g, e), expected, rtol=tol, atol=tol)
    _, forward = jax.jvp(loss, (a,), (e,))
    self.assertAllClose(float(forward), expected, rtol=tol, atol=tol)
    # The tangents of the outputs themselves are finite too.
    tangents = jax.jvp(functools.partial(jnp.linalg.svd, full_matrices=False),
                       (a,), (e,))[1]
    for t in tangents:
      self.assertTrue(np.all(np.isfinite(t)))

  @jtu.sample_product(dtype=inexact_types)
  def testMixedBatchUnderJitVmapGrad(self, dtype):
    # A batch of one matrix with repeated singular values and one generic
    # matrix: stock JAX returned finite numbers, wrong for the first.
    rng = self.rng()
    batch = np.stack([
        _with_singular_values(rng, (3., 3., 1., 1.), (4, 4), dtype),
        _random(rng, (4, 4), dtype)])
    weights = _random(rng, (4, 4), dtype)
    e = _random(rng, (4, 4), dtype)
    tol = _TOL[dtype]
    for f, np_f in ((_left_projector(2), _np_projector(2, "left")),
                    (_polar, _np_polar)):
      grads = jax.jit(jax.vmap(jax.grad(_weighted(f, weights))))(batch)
      for a, g in zip(batch, grads):
        fd = _central_difference(_np_weighted(np_f, weights), a, e)
        self.assertAllClose(_inner(g, e), fd, rtol=tol, atol=tol)

  @jtu.sample_product(
      shape=[(4, 4), (5, 3), (3, 5), (2, 4, 3)],
      dtype=inexact_types,
  )
  def testDistinctSingularValuesMatchTextbookRule(self, shape, dtype):
    # Away from degeneracy the rule is the nondegenerate one, to rounding,
    # for the singular vectors that svd returned (complex ones included:
    # the joint phase goes to U, as before).
    rng = self.rng()
    k = min(shape[-2:])
    a = np.stack([_with_singular_values(rng, (4., 3., 2., 1.)[:k],
                                        shape[-2:], dtype)
                  for _ in range(int(np.prod(shape[:-2])))]).reshape(shape)
    e = _random(rng, shape, dtype)
    svd = functools.partial(lax_linalg.svd, full_matrices=False)
    (u, s, vh), (du, ds, dvh) = jax.jvp(svd, (a,), (e,))
    # Singular values 1 apart, so the coefficients are rounding errors times
    # at most 10; a float64 oracle from the rounded outputs.
    tol = {np.float32: 1e-4, np.complex64: 1e-4, np.float64: 1e-12,
           np.complex128: 1e-12}[dtype]
    for i in np.ndindex(shape[:-2]):
      ds_ref, du_ref, dvh_ref = _textbook_svd_jvp(u[i], s[i], vh[i], e[i])
      self.assertAllClose(_f64(ds[i]).real, ds_ref, rtol=tol, atol=tol)
      self.assertAllClose(_f64(du[i]), du_ref, rtol=tol, atol=tol)
      self.assertAllClose(_f64(dvh[i]), dvh_ref, rtol=tol, atol=tol)

  def testDerivativesBindSylvesterSolve(self):
    # The rotations and the complement term are Sylvester equations with
    # diagonal factors, solved by sylvester_solve_p in both modes.
    a = np.arange(12.).reshape(4, 3).astype(np.float32)
    loss = lambda x: jnp.sum(jnp.linalg.svd(x, full_matrices=False)[0] ** 3)
    for f in (jax.grad(loss), lambda x: jax.jvp(loss, (x,), (x,))):
      jaxpr = jax.make_jaxpr(f)(a).jaxpr
      self.assertIn(lax_linalg.sylvester_solve_p, set(_primitives(jaxpr)))

  @jtu.skip_on_flag("jax_enable_x64", False)
  def testSamePolicyAsEigh(self):
    # On A = I + 1e-9 diag(0, 1, 2), symmetric positive definite, the
    # singular values are the eigenvalues. Their gaps of 1e-9 are far above
    # the ties tolerance, so by default both rules treat them as distinct
    # and give the same, large, coefficients (K_01 / 1e-9), U^T U̇ = V^T V̇
    # for eigh.
    a = np.eye(3) + 1e-9 * np.diag([0., 1., 2.])
    e = np.random.RandomState(0).randn(3, 3)
    e = e + e.T
    (w, v), (_, v_dot) = jax.jvp(jnp.linalg.eigh, (a,), (e,))
    (u, _, _), (u_dot, _, _) = jax.jvp(jnp.linalg.svd, (a,), (e,))
    y_eigh = np.asarray(v).T @ np.asarray(v_dot)
    y_svd = np.asarray(u).T @ np.asarray(u_dot)
    self.assertGreater(abs(y_eigh[0, 1]), 1e6)
    # eigh sorts ascending, svd descending; the signs of the vectors are
    # their own. The pair's coefficients carry the rounding of the 1e-9
    # gaps, about eps / 1e-9 relative.
    self.assertAllClose(np.abs(y_svd[::-1, ::-1]), np.abs(y_eigh),
                        rtol=1e-6, atol=1e-6)

  @jtu.sample_product(dtype=inexact_types)
  def testNearDegenerateSplittingsStayAccurate(self, dtype):
    # Singular values 3 and 3 (1 + δ), with the near-degenerate band
    # (jax_linalg_degeneracy_rtol): below it (2 sqrt(eps) max(s)) the pair
    # is zeroed, which is exact for the polar factor and the top-2
    # projector; above it the textbook coefficients cancel to about eps / δ.
    # The error stays bounded at every splitting, from exact degeneracy
    # through the band (measured over 61 splittings in [1e-16, 1e-1]: at
    # most 6e-10 in float64 and 7e-5 in float32, both just above the band).
    rng = self.rng()
    q1, q2 = _unitary(rng, 5, dtype), _unitary(rng, 4, dtype)
    e = _random(rng, (5, 4), dtype)
    bound = {np.float32: 3e-4, np.complex64: 3e-4, np.float64: 1e-8,
             np.complex128: 1e-8}[dtype]
    errors = []
    for delta in [0.] + list(np.logspace(-16, -1, 16)):
      s = np.array([3., 3. * (1 + delta), 1., 0.5])
      a = ((q1[:, :4] * s) @ q2.conj().T).astype(dtype)
      for f, expected in ((_polar, _polar_derivative(a, e)),
                          (_left_projector(2), _projector_derivative(a, e, 2))):
        with config.linalg_degeneracy_rtol("sqrt_eps"):
          _, dx = jax.jvp(f, (a,), (e,))
        errors.append(np.abs(_f64(dx) - expected).max() /
                      np.abs(expected).max())
    self.assertLess(max(errors), bound)

  @jtu.sample_product(dtype=inexact_types)
  def testTransformationsAndApis(self, dtype):
    # jnp.linalg.svd, jax.scipy.linalg.svd and lax.linalg.svd share the rule;
    # jit, jacfwd, jacrev and vmap agree.
    rng = self.rng()
    a = _with_singular_values(rng, (2., 2., 1.), (4, 3), dtype)
    weights = _random(rng, (4, 4), dtype)
    apis = [jnp.linalg.svd, jax.scipy.linalg.svd,
            lambda a, full_matrices: lax_linalg.svd(
                a, full_matrices=full_matrices),
            lambda a, full_matrices: lax.linalg.svd(
                a, full_matrices=full_matrices)]
    grads = [jax.grad(_weighted(_left_projector(2, svd), weights))(a)
             for svd in apis]
    tol = _TOL[dtype]
    for g in grads[1:]:
      self.assertAllClose(g, grads[0], rtol=tol, atol=tol)
    loss = _weighted(_left_projector(2), weights)
    self.assertAllClose(jax.jit(jax.grad(loss))(a), grads[0], rtol=tol,
                        atol=tol)
    if not _is_complex(dtype):  # jacfwd/jacrev need real inputs.
      self.assertAllClose(jax.jacfwd(loss)(a), grads[0], rtol=tol, atol=tol)
      self.assertAllClose(jax.jacrev(loss)(a), grads[0], rtol=tol, atol=tol)
    batch = np.stack([a, 2 * a])
    self.assertAllClose(jax.vmap(jax.grad(loss))(batch),
                        np.stack([grads[0], grads[0] / 2]), rtol=tol,
                        atol=tol)
    self._CompileAndCheck(jax.grad(loss), lambda: [a])

  @jtu.sample_product(dtype=inexact_types)
  def testSingularValuesOnly(self, dtype):
    # compute_uv=False: ṡ = Re diag(U^H E V), and the nuclear norm, the sum
    # of the singular values, has the gradient U V^H (full rank) and second
    # derivatives along the polar factor's derivative, also at repeated
    # singular values.
    rng = self.rng()
    a = _with_singular_values(rng, (2., 2., 1.), (4, 3), dtype)
    e = _random(rng, (4, 3), dtype)
    tol = _TOL[dtype]
    u, s, vh = np.linalg.svd(_f64(a), full_matrices=False)
    _, ds = jax.jvp(functools.partial(jnp.linalg.svd, compute_uv=False),
                    (a,), (e,))
    self.assertAllClose(np.sum(_f64(ds)),
                        np.real(np.trace(u.conj().T @ _f64(e) @ vh.conj().T)),
                        rtol=tol, atol=tol)
    nuclear = lambda a: jnp.linalg.norm(a, "nuc")
    self.assertAllClose(_f64(jax.grad(nuclear)(a)), (u @ vh).conj(),
                        rtol=tol, atol=tol)
    _, hvp = jax.jvp(jax.grad(nuclear), (a,), (e,))
    self.assertAllClose(_f64(hvp), _polar_derivative(a, e).conj(), rtol=tol,
                        atol=tol)
    # jnp.linalg.matrix_rank goes through the same primitive.
    b = np.stack([a, a @ np.diag([1., 1., 0.]).astype(dtype)])
    rank = jax.jit(jax.vmap(jnp.linalg.matrix_rank))
    self.assertArraysEqual(rank(b), np.array([3, 2]), check_dtypes=False)
    _, rank_dot = jax.jvp(jnp.linalg.matrix_rank, (a,), (e,))
    self.assertEqual(rank_dot.dtype, jax.dtypes.float0)

  @jtu.sample_product(dtype=inexact_types)
  def testPolarAndPinv(self, dtype):
    # jax.scipy.linalg.polar(method="svd") inherits the rule. jnp.linalg.pinv
    # has its own JVP (Golub and Pereyra), which never calls the SVD's: at
    # constant rank it is exact, also at repeated singular values.
    rng = self.rng()
    a = _with_singular_values(rng, (2., 2., 2., 0.5), (4, 4), dtype)
    e = _random(rng, (4, 4), dtype)
    tol = _TOL[dtype]
    polar = lambda a: jax.scipy.linalg.polar(a, method="svd")[0]
    _, q_dot = jax.jvp(polar, (a,), (e,))
    self.assertAllClose(_f64(q_dot), _polar_derivative(a, e), rtol=tol,
                        atol=tol)
    # pinv is smooth along curves of constant rank, here B(t) = L(t) R(t)
    # with L(t) = L + t X (4 x 2) and R(t) = R + t Y (2 x 3), whose tangent is
    # X R + L Y, at B with singular values (2, 2, 0).
    l = _with_singular_values(rng, (2., 2.), (4, 2), dtype)
    r = _unitary(rng, 3, dtype)[:2].astype(dtype)
    x, y = _random(rng, (4, 2), dtype), _random(rng, (2, 3), dtype)
    expected = _central_difference(
        lambda t: np.linalg.pinv((_f64(l) + t * x) @ (_f64(r) + t * y),
                                 rcond=1e-10), 0., 1.)
    _, p_dot = jax.jvp(jnp.linalg.pinv, (l @ r,), (x @ r + l @ y,))
    self.assertAllClose(_f64(p_dot), expected, rtol=tol, atol=tol)

  def testNanPropagates(self):
    a = np.diag([2., 2., 1.]).astype(np.float32)
    a[0, 1] = np.nan
    tangents = jax.jvp(jnp.linalg.svd, (a,), (np.ones_like(a),))[1]
    for t in tangents:
      self.assertTrue(np.all(np.isnan(t)))

  def testPartialDecompositionRaises(self):
    with self.assertRaisesRegex(NotImplementedError, "partial"):
      jax.jvp(lambda x: lax_linalg.svd(x, full_matrices=False,
                                       subset_by_index=(0, 2))[0],
              (np.eye(3, dtype=np.float32),), (np.eye(3, dtype=np.float32),))


class SvdShardingTest(jtu.JaxTestCase):

  def setUp(self):
    super().setUp()
    if jax.device_count() < 4:
      self.skipTest("needs 4 devices")

  @jtu.sample_product(n=[20, 120], extra_rows=[0, 3])
  def testBatchShardedGrad(self, n, extra_rows):
    # The batch axis may be sharded, explicitly or not: the rule's
    # primitives (for tall matrices, the complement's solve too) keep it
    # sharded, compile to no collective, and give the unsharded results.
    a = _random(self.rng(), (8, n + extra_rows, n), np.float32)
    weights = _random(self.rng(), (8, n + extra_rows, n + extra_rows),
                      np.float32)
    loss = _weighted(_left_projector(2), weights)
    grad = jax.grad(loss)
    expected = jax.jit(grad)(a)
    for explicit in (False, True):
      out, hlo, sharding = _batch_sharded(grad, (a,), explicit)
      for op in _COLLECTIVES:
        self.assertNotIn(op, hlo)
      self.assertTrue(out.sharding.is_equivalent_to(sharding, out.ndim))
      self.assertAllClose(out, expected, rtol=_TOL[np.float32],
                          atol=_TOL[np.float32])


if __name__ == "__main__":
  absltest.main(testLoader=jtu.JaxTestLoader())

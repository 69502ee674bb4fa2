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

"""Tests for the degenerate-aware eigh JVP (issues #669, #4646)."""

from absl.testing import absltest
import numpy as np

import jax
import jax.numpy as jnp
from jax._src import config
from jax._src import core
from jax._src import test_util as jtu
from jax._src.lax import linalg as lax_linalg

config.parse_flags_with_absl()

float_types = jtu.dtypes.floating
complex_types = jtu.dtypes.complex


def _hermitian(rng, w, dtype):
  """Q diag(w) Q^H for a random unitary (orthogonal) Q, in float64."""
  n = len(w)
  z = rng.standard_normal((n, n))
  if np.issubdtype(dtype, np.complexfloating):
    z = z + 1j * rng.standard_normal((n, n))
  q, _ = np.linalg.qr(z)
  return ((q * np.asarray(w)) @ q.conj().T).astype(dtype), q


def _random_hermitian(rng, n, dtype):
  z = rng.standard_normal((n, n))
  if np.issubdtype(dtype, np.complexfloating):
    z = z + 1j * rng.standard_normal((n, n))
  return ((z + z.conj().T) / 2).astype(dtype)


def _projector_loss(k, weights):
  """sum(W * P) with P the projector onto the k lowest eigenvectors."""
  def loss(a):
    _, v = jnp.linalg.eigh(a)
    vk = v[..., :k]
    p = vk @ jnp.conj(vk).mT
    return jnp.real(jnp.sum(jnp.asarray(weights, p.dtype) * p))
  return loss


def _projector_loss_np(k, weights):
  """The same loss in NumPy: the oracle shares no code with JAX's eigh."""
  def loss(a):
    _, v = np.linalg.eigh(np.asarray(a, np.complex128))
    vk = v[:, :k]
    return np.real(np.sum(weights * (vk @ vk.conj().T)))
  return loss


def _central_difference(f, x, dx, h=1e-3):
  # Richardson-extrapolated central difference in float64: error O(h^4) +
  # O(eps / h), about 1e-12 relative for smooth functions of O(1) inputs.
  x, dx = np.asarray(x, np.complex128), np.asarray(dx, np.complex128)
  d = lambda h: (f(x + h * dx) - f(x - h * dx)) / (2 * h)
  return (4 * d(h / 2) - d(h)) / 3


def _projector_derivative(q, w, occupied, e):
  """d(Q_occ Q_occ^H)[E] from first-order perturbation theory.

  Only pairs across the occupied/virtual cut contribute: the exact first
  derivative of the projector onto a union of whole clusters, whatever the
  splittings inside the clusters. Shares no code with the rule under test.
  """
  k = q.conj().T @ e @ q
  cross = occupied[:, None] != occupied[None, :]
  gap = w[None, :] - w[:, None]
  dv = q @ np.where(cross, k / np.where(cross, gap, 1), 0)
  qo, dvo = q[:, occupied], dv[:, occupied]
  return dvo @ qo.conj().T + qo @ dvo.conj().T


def _stock_eigh_jvp(w, v, a_dot):
  """The nondegenerate textbook JVP at eigenpairs (w, v), in NumPy."""
  k = v.conj().T @ a_dot @ v
  with np.errstate(divide="ignore"):
    f = 1 / (w[None, :] - w[:, None])
  np.fill_diagonal(f, 0)
  return v @ (f * k), np.real(np.diag(k))


def _degeneracy_tol(w, dtype):
  # The documented tolerance: eigenvalues closer than 16 sqrt(n) eps max|w|
  # agree to working precision and count as degenerate.
  return 16 * np.sqrt(len(w)) * np.finfo(dtype).eps * np.max(np.abs(w))


def _eigenvector_derivative(q, w, k, e):
  """d q_k[E] from first-order perturbation theory in the exact basis q."""
  kk = q.conj().T @ e @ q
  others = np.arange(len(w)) != k
  return q[:, others] @ (kk[others, k] / (w[k] - w[others]))


def _cluster_preserving(rng, q, w, dtype):
  """A random Hermitian E that does not split any cluster of w."""
  e = _random_hermitian(rng, len(w), np.complex128)
  k = q.conj().T @ e @ q
  for value in np.unique(w):
    idx = np.flatnonzero(w == value)
    block = k[np.ix_(idx, idx)]
    k[np.ix_(idx, idx)] = np.trace(block) / len(idx) * np.eye(len(idx))
  e = q @ k @ q.conj().T
  return (e if np.issubdtype(dtype, np.complexfloating) else e.real).astype(
      dtype)


def _primitives(jaxpr):
  """The primitives of a jaxpr's equations, sub-jaxprs included."""
  for eqn in jaxpr.eqns:
    yield eqn.primitive
    for sub in core.jaxprs_in_params(eqn.params):
      yield from _primitives(sub)


def _benzene():
  """The Hückel matrix of benzene: eigenvalues -2, -1, -1, 1, 1, 2."""
  n = 6
  return -(np.roll(np.eye(n), 1, 0) + np.roll(np.eye(n), -1, 0))


class EighDegenerateJvpTest(jtu.JaxTestCase):

  @jtu.sample_product(dtype=float_types + complex_types, jit=[False, True])
  def testSeedGradSumEigenvalues(self, dtype, jit):
    # From #669: the gradient of the sum of the eigenvalues (the trace) at a
    # matrix with repeated eigenvalues (NaN in jax 0.1.x; a regression
    # guard).
    def f(x):
      w, _ = jnp.linalg.eigh(x)
      return jnp.real(jnp.sum(w))
    g = jax.grad(f)
    g = jax.jit(g) if jit else g
    x = np.eye(3, dtype=dtype)
    self.assertAllClose(g(x), np.eye(3, dtype=dtype), check_dtypes=True)

  @jtu.sample_product(dtype=float_types + complex_types)
  def testSeedIdentityEigenvectorFunctions(self, dtype):
    # From #669: functions of eigenvectors at the identity had NaN gradients
    # even when they do not depend on the basis of the eigenspace.
    x = np.eye(3, dtype=dtype)
    weights = self.rng().standard_normal((3, 3))
    def density(a):  # V f(Λ) V^H with f constant on the single cluster.
      w, v = jnp.linalg.eigh(a)
      p = (v * jnp.exp(w[0]).astype(v.dtype)) @ jnp.conj(v).mT
      return jnp.real(jnp.sum(weights.astype(p.dtype) * p))
    def projector(a):
      _, v = jnp.linalg.eigh(a)
      p = v @ jnp.conj(v).mT
      return jnp.real(jnp.sum(weights.astype(p.dtype) * p))
    for f in (density, projector):
      g = jax.grad(f)(x)
      self.assertTrue(np.all(np.isfinite(g)), msg=f.__name__)
    # The projector onto the whole space is constant: its gradient is zero.
    self.assertAllClose(jax.grad(projector)(x), np.zeros_like(x))
    # V exp(λ_0) V^H = exp(λ_0) I: exact in the direction that keeps the
    # cluster (a shift), where d/dt sum(W * exp(1 + t) I) = e tr(W). The
    # tolerance is a few ulps of the terms summed.
    _, tangent = jax.jvp(density, (x,), (np.eye(3, dtype=dtype),))
    atol = 10 * np.finfo(dtype).eps * np.e * np.abs(np.diag(weights)).sum()
    self.assertAllClose(tangent, np.e * np.trace(weights), rtol=0, atol=atol,
                        check_dtypes=False)

  @jtu.skip_on_flag("jax_enable_x64", False)
  def testBenzeneDensityMatrix(self):
    # The computed pairs of benzene's repeated eigenvalues differ by
    # rounding. Stock JAX's reverse mode gave -1.914 (silently wrong) for this
    # direction; perturbation theory in the known eigenbasis gives the exact
    # value, and central differences confirm it to 1e-8 (their own error).
    h = _benzene()
    w = np.random.RandomState(0).randn(6, 6)
    e = np.random.RandomState(1).randn(6, 6)
    e = e + e.T
    loss = _projector_loss(3, w)
    lam, q = np.linalg.eigh(h)
    exact = np.sum(w * _projector_derivative(q, lam, np.arange(6) < 3, e))
    _, forward = jax.jvp(loss, (h,), (e,))
    reverse = np.sum(jax.grad(loss)(h) * e)
    jit_reverse = np.sum(jax.jit(jax.grad(loss))(h) * e)
    for value in (forward, reverse, jit_reverse):
      self.assertAllClose(value, exact, rtol=0, atol=1e-12)
    fd = _central_difference(_projector_loss_np(3, w), h, e)
    self.assertAllClose(fd, exact, rtol=0, atol=1e-8)

  @jtu.skip_on_flag("jax_enable_x64", False)
  def testBenzeneSplitPairAtTiesAndAbove(self):
    # The pair (1, 2) split by δ in the eigenbasis. Up to the ties tolerance
    # (here 16 sqrt(6) eps 2 = 1.7e-14) the pair is degenerate, and the
    # occupied projector's derivative is exact; above it, the rule is the
    # stock one, whose error in this cluster-invariant loss is about
    # eps spread / δ (rounding of the within-cluster coefficients), so at
    # δ = 1e-6 it is accurate to 1e-8.
    h = _benzene()
    rs = np.random.RandomState(0)
    w, e = rs.randn(6, 6), rs.randn(6, 6)
    e = e + e.T
    lam, q = np.linalg.eigh(h)
    loss = jax.jit(_projector_loss(3, w))
    grad = jax.jit(jax.grad(loss))
    for delta, rtol in ((0., 1e-11), (1e-15, 1e-11), (1e-6, 1e-8)):
      lam_d = lam + delta * (np.arange(6) == 1)
      a = (q * lam_d) @ q.T
      exact = np.sum(w * _projector_derivative(q, lam_d, np.arange(6) < 3, e))
      _, forward = jax.jvp(loss, (a,), (e,))
      reverse = np.sum(grad(a) * e)
      for value in (forward, reverse):
        self.assertAllClose(value, exact, rtol=rtol, atol=0,
                            err_msg=f"delta={delta}")

  @jtu.sample_product(
      case=[
          ([0., 1e-9, 1.], 0),
          ([0., 1e-10, 0.3, 0.6, 1.], 1),
          ([1e3, 1e3 + 3e-6, 2e3], 0),
      ],
  )
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testDistinctEigenvectorMatchesStockRule(self, case):
    # A loss of one eigenvector of a simple eigenvalue whose neighbour is
    # close but distinct, well above the ties tolerance: its derivative is
    # well defined and the stock rule computes it. The rule must give the
    # stock rule's derivative at the eigenpairs eigh returned (to rounding)
    # and so match perturbation theory in the exact basis to the accuracy of
    # those eigenpairs, about eps max|w| / gap (here <= 2e-4 relative to
    # ||K|| / gap; measured 4e-8 to 2e-6).
    w, k = case
    w = np.array(w)
    rng = self.rng()
    a, q = _hermitian(rng, w, np.float64)
    e = _random_hermitian(rng, len(w), np.float64)
    weights = rng.standard_normal(a.shape)
    def loss(x):
      _, v = jnp.linalg.eigh(x)
      return jnp.sum(weights * jnp.outer(v[:, k], v[:, k]))
    dq = _eigenvector_derivative(q, w, k, e)
    exact = np.sum(weights * (np.outer(dq, q[:, k]) + np.outer(q[:, k], dq)))
    lam, v = (np.asarray(x) for x in jnp.linalg.eigh(a))
    dv, _ = _stock_eigh_jvp(lam, v, e)
    stock = np.real(np.sum(weights * (np.outer(dv[:, k], v[:, k])
                                      + np.outer(v[:, k], dv[:, k]))))
    _, forward = jax.jvp(loss, (a,), (e,))
    reverse = np.sum(jax.grad(loss)(a) * e)
    gap = np.min(np.abs(np.delete(w, k) - w[k]))
    bound = 1e3 * np.finfo(np.float64).eps * np.max(np.abs(w)) / gap
    for value in (forward, reverse):
      self.assertAllClose(value, stock, rtol=1e-10, atol=0)
      self.assertAllClose(value, exact, rtol=bound, atol=0)

  @jtu.skip_on_flag("jax_enable_x64", False)
  def testMultivariateNormalNearlyEqualVariances(self):
    # jax.random.multivariate_normal(method="eigh") samples mean + V
    # sqrt(Λ) z. With covariance eigenvalues (1, 1 + 1e-9, 2), the gradient
    # of (w.x)^2 in the covariance is well defined; the reference is
    # perturbation theory in the exact basis, with the signs of eigh's
    # eigenvectors.
    rng = self.rng()
    lam = np.array([1., 1. + 1e-9, 2.])
    cov, q = _hermitian(rng, lam, np.float64)
    cov = (cov + cov.T) / 2
    wvec = rng.standard_normal(3)
    key = jax.random.key(0)
    def loss(c):
      x = jax.random.multivariate_normal(key, jnp.zeros(3), c, method="eigh")
      return jnp.dot(wvec, x) ** 2
    _, v = jnp.linalg.eigh(cov)
    q = q * np.sign(np.sum(q * v, axis=0))
    z = (np.asarray(jax.random.multivariate_normal(
        key, jnp.zeros(3), cov, method="eigh")) @ q) / np.sqrt(lam)
    e = _random_hermitian(rng, 3, np.float64)
    dq = np.stack([_eigenvector_derivative(q, lam, i, e) for i in range(3)], 1)
    dlam = np.diag(q.T @ e @ q)
    x = q @ (np.sqrt(lam) * z)
    dx = dq @ (np.sqrt(lam) * z) + q @ (dlam / (2 * np.sqrt(lam)) * z)
    exact = 2 * np.dot(wvec, x) * np.dot(wvec, dx)
    reverse = np.sum(jax.grad(loss)(cov) * e)
    _, forward = jax.jvp(loss, (cov,), (e,))
    bound = 1e3 * np.finfo(np.float64).eps * 2 / 1e-9
    for value in (forward, reverse):
      self.assertAllClose(value, exact, rtol=bound, atol=0)

  def testDerivativesBindSylvesterSolve(self):
    # The eigenvector tangent is the Sylvester equation Y Λ - Λ Y = K on the
    # eigenvalues: forward and reverse mode solve it with sylvester_solve_p.
    a = np.diag(np.arange(3.)).astype(np.float32)
    loss = lambda x: jnp.sum(jnp.linalg.eigh(x)[1] ** 3)
    for f in (jax.grad(loss), lambda x: jax.jvp(loss, (x,), (x,))):
      jaxpr = jax.make_jaxpr(f)(a).jaxpr
      self.assertIn(lax_linalg.sylvester_solve_p, set(_primitives(jaxpr)))

  @jtu.sample_product(
      dtype=float_types + complex_types,
      spectrum=[
          ([-1., -1., 0.5, 2., 2., 2., 3.], 2),
          ([-1., -1., 0.5, 2., 2., 2., 3.], 6),
          ([0., 0., 0., 1., 4.], 3),
          ([-3., 1., 1., 1., 1., 5.], 5),
      ],
  )
  def testClusterProjectorAnyDirection(self, dtype, spectrum):
    # A projector onto whole clusters is smooth; its derivative is exact in
    # every direction, including ones that split a cluster. The oracle is a
    # float64 central difference of a NumPy version of the loss; the
    # tolerance is the dtype's rounding amplified by the conditioning of the
    # cut (gaps >= 0.5 against a spread of at most 8).
    w, k = spectrum
    rng = self.rng()
    a, _ = _hermitian(rng, w, dtype)
    weights = rng.standard_normal(a.shape)
    e = _random_hermitian(rng, len(w), dtype)
    loss = _projector_loss(k, weights)
    fd = _central_difference(_projector_loss_np(k, weights), a, e)
    _, forward = jax.jvp(loss, (a,), (e,))
    reverse = np.real(np.sum(jax.grad(loss)(a) * e))
    tol = 1e-8 if np.finfo(dtype).eps < 1e-10 else 1e-3
    self.assertAllClose(forward, fd, rtol=tol, atol=tol, check_dtypes=False)
    self.assertAllClose(reverse, fd, rtol=tol, atol=tol, check_dtypes=False)

  @jtu.sample_product(dtype=float_types + complex_types)
  def testClusterPreservingPerturbation(self, dtype):
    # For perturbations that do not split a cluster, V f(Λ) V^H and the
    # eigenvalues are differentiable, and the rule is exact for any f.
    w = np.array([-2., -2., -0.5, 1., 1., 1., 2.5])
    rng = self.rng()
    a, q = _hermitian(rng, w, dtype)
    e = _cluster_preserving(rng, q, w, dtype)
    weights = rng.standard_normal(a.shape)
    def loss(a):
      lam, v = jnp.linalg.eigh(a)
      p = (v * jnp.sin(lam).astype(v.dtype)[None, :]) @ jnp.conj(v).mT
      return jnp.real(jnp.sum(weights.astype(p.dtype) * p))
    def loss_np(a):
      lam, v = np.linalg.eigh(a)
      return np.real(np.sum(weights * ((v * np.sin(lam)) @ v.conj().T)))
    fd = _central_difference(loss_np, a, e)
    _, forward = jax.jvp(loss, (a,), (e,))
    reverse = np.real(np.sum(jax.grad(loss)(a) * e))
    tol = 1e-8 if np.finfo(dtype).eps < 1e-10 else 1e-3
    self.assertAllClose(forward, fd, rtol=tol, atol=tol, check_dtypes=False)
    self.assertAllClose(reverse, fd, rtol=tol, atol=tol, check_dtypes=False)
    _, w_dot = jax.jvp(lambda x: jnp.linalg.eigh(x)[0], (a,), (e,))
    w_fd = _central_difference(lambda x: np.linalg.eigh(x)[0], a, e)
    self.assertAllClose(w_dot, w_fd, rtol=tol, atol=tol, check_dtypes=False)

  @jtu.sample_product(dtype=float_types + complex_types)
  def testToleranceBothSides(self, dtype):
    # diag(1, 1 + δ, 3) has exactly known eigenpairs. Below the documented
    # tolerance the pair (0, 1) is degenerate and gets no eigenvector mixing
    # (the tolerance's price: the textbook coefficient K_01 / δ, which only
    # an input with exact eigenvectors like this one determines, is lost);
    # above it the rule is the textbook one.
    tol = _degeneracy_tol(np.array([1., 1., 3.]), dtype)
    e = np.ones((3, 3), dtype)
    rtol = 100 * np.finfo(dtype).eps
    for delta, degenerate in ((tol / 4, True), (4 * tol, False)):
      a = np.diag([1., 1. + delta, 3.]).astype(dtype)
      (w, v), (w_dot, v_dot) = map(
          lambda t: tuple(map(np.asarray, t)),
          jax.jvp(lambda x: lax_linalg.eigh(x)[::-1], (a,), (e,)))
      k = np.conj(v).T @ e @ v
      y = np.conj(v).T @ v_dot
      gap = float(w[1] - w[0])
      if degenerate:
        self.assertLessEqual(gap, tol)
        self.assertEqual(y[0, 1], 0)
        self.assertEqual(y[1, 0], 0)
      else:
        self.assertGreater(gap, tol)
        # The computed gap carries the relative error of w[1] - w[0].
        self.assertAllClose(y[0, 1], k[0, 1] / gap, rtol=1e-3)
      # The well separated pairs are unaffected either way.
      self.assertAllClose(y[0, 2], k[0, 2] / (w[2] - w[0]), rtol=rtol)
      self.assertAllClose(w_dot, np.real(np.diag(k)), rtol=rtol)

  @jtu.sample_product(
      shape=[(4, 4), (2, 5, 5)],
      dtype=float_types + complex_types,
  )
  def testNondegenerateMatchesTextbookRule(self, shape, dtype):
    # With distinct eigenvalues the rule is the stock one (to rounding).
    rng = self.rng()
    batch = int(np.prod(shape[:-2]))
    a = np.stack([_random_hermitian(rng, shape[-1], dtype)
                  for _ in range(batch)]).reshape(shape)
    e = np.stack([_random_hermitian(rng, shape[-1], dtype)
                  for _ in range(batch)]).reshape(shape)
    (v, w), (v_dot, w_dot) = jax.jvp(lax_linalg.eigh, (a,), (e,))
    for i in np.ndindex(shape[:-2]):
      # Eigenvectors are unique up to phase: use the ones eigh returned.
      expected_v_dot, expected_w_dot = _stock_eigh_jvp(
          np.asarray(w[i], np.float64), np.asarray(v[i], np.complex128),
          e[i].astype(np.complex128))
      tol = 1e-10 if np.finfo(dtype).eps < 1e-10 else 1e-3
      self.assertAllClose(np.asarray(v_dot[i], np.complex128),
                          expected_v_dot, atol=tol, rtol=tol)
      self.assertAllClose(w_dot[i], expected_w_dot.astype(w_dot.dtype),
                          atol=tol, rtol=tol)

  @jtu.sample_product(dtype=[np.float64, np.complex128])
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testCheckGradsAtDegeneracy(self, dtype):
    # The projector onto a repeated eigenvalue's eigenspace is smooth there:
    # check_grads compares with its own finite differences in random
    # directions, most of which split the cluster. (float32 is covered
    # against float64 differences in testClusterProjectorAnyDirection:
    # check_grads' own float32 differences are too noisy here.)
    a, _ = _hermitian(self.rng(), [-1., -1., 0.5, 2., 2.], dtype)
    loss = _projector_loss(2, self.rng().standard_normal(a.shape))
    jtu.check_grads(loss, (a,), order=1, modes=["fwd", "rev"])

  def testTransformations(self):
    rng = self.rng()
    a, _ = _hermitian(rng, [0., 0., 1., 3.], np.float32)
    weights = rng.standard_normal(a.shape).astype(np.float32)
    def loss_with(eigh):
      def loss(a):
        _, v = eigh(a)
        return jnp.sum(weights * (v[:, :2] @ v[:, :2].T))
      return loss
    apis = [
        jnp.linalg.eigh,
        jax.scipy.linalg.eigh,
        lambda a: lax_linalg.eigh(a)[::-1],
        lambda a: jax.lax.linalg.eigh(a)[::-1],
    ]
    grads = [jax.grad(loss_with(eigh))(a) for eigh in apis]
    for g in grads[1:]:
      self.assertAllClose(grads[0], g)
    loss = loss_with(apis[2])
    self.assertAllClose(jax.jit(jax.grad(loss))(a), grads[0])
    self.assertAllClose(jax.jacfwd(loss)(a), grads[0])
    self.assertAllClose(jax.jacrev(loss)(a), grads[0])
    batch = np.stack([a, a + np.eye(4, dtype=a.dtype)])
    self.assertAllClose(jax.vmap(jax.grad(loss))(batch),
                        np.stack([grads[0], grads[0]]))
    self._CompileAndCheck(jax.grad(loss), lambda: [a])

  @jtu.sample_product(dtype=float_types + complex_types)
  def testNaNPropagates(self, dtype):
    # NaN eigenvalues make no pair degenerate: the derivative is NaN, never
    # a finite number.
    a = np.array([[1., np.nan], [np.nan, 2.]], dtype)
    g = jax.grad(lambda x: jnp.real(jnp.sum(jnp.linalg.eigh(x)[1])))(a)
    self.assertTrue(np.all(np.isnan(g)))

  def testPartialDecompositionStillRaises(self):
    with self.assertRaisesRegex(NotImplementedError, "partial eigen"):
      jax.jvp(lambda x: lax_linalg.eigh(x, subset_by_index=(0, 2))[1],
              (np.eye(3),), (np.eye(3),))


if __name__ == "__main__":
  absltest.main(testLoader=jtu.JaxTestLoader())

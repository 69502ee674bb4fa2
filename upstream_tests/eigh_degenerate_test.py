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

import functools

from absl.testing import absltest
import hypothesis
from hypothesis import strategies as st
import numpy as np

import jax
import jax.numpy as jnp
from jax._src import config
from jax._src import test_util as jtu
from jax._src.lax import linalg as lax_linalg

config.parse_flags_with_absl()

float_types = [np.float32, np.float64]
complex_types = [np.complex64, np.complex128]


def _hermitian(rng, w, dtype):
  """Q diag(w) Q^H for a random unitary (orthogonal) Q."""
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


def _gauge_check(mode):
  """Runs a test method with jax_linalg_gauge_check set to `mode`."""
  def decorator(method):
    @functools.wraps(method)
    def wrapped(*args, **kwargs):
      with config.linalg_gauge_check(mode):
        return method(*args, **kwargs)
    return wrapped
  return decorator


def _central_difference(f, x, dx, h=1e-3):
  # Richardson-extrapolated central difference: error O(h^4) + O(eps / h),
  # about 1e-12 relative for smooth float64 functions of O(1) inputs.
  d = lambda h: (f(x + h * dx) - f(x - h * dx)) / (2 * h)
  return (4 * d(h / 2) - d(h)) / 3


def _stock_eigh_jvp(w, v, a_dot):
  """The nondegenerate textbook JVP at eigenpairs (w, v), in numpy."""
  k = v.conj().T @ a_dot @ v
  with np.errstate(divide="ignore"):
    f = 1 / (w[None, :] - w[:, None])
  np.fill_diagonal(f, 0)
  return v @ (f * k), np.real(np.diag(k))


def _degeneracy_tol(w, dtype):
  # The documented tolerance: eigenvalues closer than
  # max(sqrt(eps) (max w - min w), 2 n eps max|w|) are degenerate.
  eps = np.finfo(dtype).eps
  return max(np.sqrt(eps) * (np.max(w) - np.min(w)),
             2 * len(w) * eps * np.max(np.abs(w)))


def _cluster_preserving(rng, q, w, dtype):
  """A random Hermitian E that does not split any cluster of w."""
  e = _random_hermitian(rng, len(w), dtype).astype(np.complex128)
  k = q.conj().T @ e @ q
  for value in np.unique(w):
    idx = np.flatnonzero(w == value)
    block = k[np.ix_(idx, idx)]
    k[np.ix_(idx, idx)] = np.trace(block) / len(idx) * np.eye(len(idx))
  e = q @ k @ q.conj().T
  return (e if np.issubdtype(dtype, np.complexfloating) else e.real).astype(
      dtype)


@jtu.with_config(jax_enable_x64=True)
class EighDegenerateJvpTest(jtu.JaxTestCase):

  @jtu.sample_product(dtype=complex_types, jit=[False, True])
  def testSeedGradSumEigenvaluesComplex(self, dtype, jit):
    # From #669: the gradient of the sum of the eigenvalues (the trace) at a
    # matrix with repeated eigenvalues was NaN.
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
    rng = np.random.default_rng(0)
    weights = rng.standard_normal((3, 3))
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
    # cluster (a shift), where d/dt sum(W * exp(1 + t) I) = e tr(W).
    if np.dtype(dtype) == np.float64:
      expected = np.e * np.trace(weights)
      _, tangent = jax.jvp(density, (x,), (np.eye(3, dtype=dtype),))
      self.assertAllClose(tangent, expected, rtol=1e-12, atol=0)

  def testBenzeneDensityMatrix(self):
    # The Hückel matrix of benzene has eigenvalues -2, -1, -1, 1, 1, 2; the
    # computed pairs differ by rounding. Stock JAX's reverse mode gave
    # -1.914 (silently wrong); the exact value is -1.5335046575.
    n = 6
    h = -(np.roll(np.eye(n), 1, 0) + np.roll(np.eye(n), -1, 0))
    w = np.random.RandomState(0).randn(n, n)
    e = np.random.RandomState(1).randn(n, n)
    e = e + e.T
    loss = _projector_loss(3, w)
    expected = -1.5335046575
    _, forward = jax.jvp(loss, (h,), (e,))
    reverse = np.sum(jax.grad(loss)(h) * e)
    jit_reverse = np.sum(jax.jit(jax.grad(loss))(h) * e)
    fd = _central_difference(loss, h, e)
    self.assertAllClose(forward, expected, rtol=0, atol=1e-9)
    self.assertAllClose(reverse, expected, rtol=0, atol=1e-9)
    self.assertAllClose(jit_reverse, expected, rtol=0, atol=1e-9)
    self.assertAllClose(fd, forward, rtol=0, atol=1e-8)

  @jtu.sample_product(
      dtype=[np.float64, np.complex128],
      spectrum=[
          ([-1., -1., 0.5, 2., 2., 2., 3.], 2),
          ([-1., -1., 0.5, 2., 2., 2., 3.], 6),
          ([0., 0., 0., 1., 4.], 3),
          ([-3., 1., 1., 1., 1., 5.], 5),
      ],
  )
  def testClusterProjectorAnyDirection(self, dtype, spectrum):
    # A projector onto whole clusters is smooth; its derivative is exact in
    # every direction, including ones that split a cluster.
    w, k = spectrum
    rng = np.random.default_rng(len(w) + k)
    a, _ = _hermitian(rng, w, dtype)
    weights = rng.standard_normal(a.shape)
    e = _random_hermitian(rng, len(w), dtype)
    loss = _projector_loss(k, weights)
    fd = _central_difference(loss, a, e)
    _, forward = jax.jvp(loss, (a,), (e,))
    reverse = np.real(np.sum(jax.grad(loss)(a) * e))
    self.assertAllClose(forward, fd, rtol=1e-8, atol=1e-8)
    self.assertAllClose(reverse, fd, rtol=1e-8, atol=1e-8)

  @jtu.sample_product(dtype=[np.float64, np.complex128])
  def testClusterPreservingPerturbation(self, dtype):
    # For perturbations that do not split a cluster, V f(Λ) V^H and the
    # eigenvalues are differentiable, and the rule is exact for any f.
    w = np.array([-2., -2., -0.5, 1., 1., 1., 2.5])
    rng = np.random.default_rng(3)
    a, q = _hermitian(rng, w, dtype)
    e = _cluster_preserving(rng, q, w, dtype)
    weights = rng.standard_normal(a.shape)
    def loss(a):
      lam, v = jnp.linalg.eigh(a)
      p = (v * jnp.sin(lam).astype(v.dtype)[None, :]) @ jnp.conj(v).mT
      return jnp.real(jnp.sum(weights.astype(p.dtype) * p))
    def eigenvalues(a):
      return jnp.linalg.eigh(a)[0]
    fd = _central_difference(loss, a, e)
    _, forward = jax.jvp(loss, (a,), (e,))
    reverse = np.real(np.sum(jax.grad(loss)(a) * e))
    self.assertAllClose(forward, fd, rtol=1e-8, atol=1e-8)
    self.assertAllClose(reverse, fd, rtol=1e-8, atol=1e-8)
    _, w_dot = jax.jvp(eigenvalues, (a,), (e,))
    w_fd = _central_difference(lambda x: np.linalg.eigh(x)[0], a, e)
    self.assertAllClose(w_dot, w_fd, rtol=1e-8, atol=1e-8)

  @jtu.sample_product(dtype=[np.float64, np.complex128])
  def testToleranceBothSides(self, dtype):
    # diag(1, 1 + δ, 3) has exactly known eigenpairs. Below the documented
    # tolerance the pair (0, 1) is degenerate and gets no eigenvector mixing;
    # above it the rule is the textbook one.
    tol = _degeneracy_tol(np.array([1., 1., 3.]), dtype)
    e = np.ones((3, 3), dtype)
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
        self.assertAllClose(y[0, 1], k[0, 1] / gap, rtol=1e-10)
      # The well separated pairs are unaffected either way.
      self.assertAllClose(y[0, 2], k[0, 2] / (w[2] - w[0]), rtol=1e-12)
      self.assertAllClose(w_dot, np.real(np.diag(k)), rtol=1e-12)

  @jtu.sample_product(
      shape=[(4, 4), (2, 5, 5)],
      dtype=float_types + complex_types,
  )
  def testNondegenerateMatchesTextbookRule(self, shape, dtype):
    rng = np.random.default_rng(0)
    a = np.stack([_random_hermitian(rng, shape[-1], dtype)
                  for _ in range(int(np.prod(shape[:-2])))]).reshape(shape)
    e = np.stack([_random_hermitian(rng, shape[-1], dtype)
                  for _ in range(int(np.prod(shape[:-2])))]).reshape(shape)
    (v, w), (v_dot, w_dot) = jax.jvp(lax_linalg.eigh, (a,), (e,))
    for i in np.ndindex(shape[:-2]):
      # Eigenvectors are unique up to phase: use the ones eigh returned.
      expected_v_dot, expected_w_dot = _stock_eigh_jvp(
          np.asarray(w[i], np.float64), np.asarray(v[i], np.complex128),
          e[i].astype(np.complex128))
      tol = {np.float32: 1e-3, np.complex64: 1e-3, np.float64: 1e-10,
             np.complex128: 1e-10}[dtype]
      self.assertAllClose(np.asarray(v_dot[i], np.complex128),
                          expected_v_dot, atol=tol, rtol=tol)
      self.assertAllClose(w_dot[i], expected_w_dot.astype(w_dot.dtype),
                          atol=tol, rtol=tol)

  @jtu.sample_product(dtype=[np.float64, np.complex128])
  def testSecondOrderProjector(self, dtype):
    # Second derivatives of cluster projectors are exact too, also in
    # directions that split a cluster (degenerate perturbation theory).
    w = np.array([-1., -1., 0.5, 2., 2.])
    rng = np.random.default_rng(7)
    a, _ = _hermitian(rng, w, dtype)
    loss = _projector_loss(2, rng.standard_normal(a.shape))
    jtu.check_grads(loss, (a,), order=2, modes=["fwd", "rev"],
                    atol=1e-6, rtol=1e-6)

  def testHessianCompositions(self):
    w = np.array([-1., -1., 0.5, 2., 2.])
    rng = np.random.default_rng(8)
    a, _ = _hermitian(rng, w, np.float64)
    loss = _projector_loss(2, rng.standard_normal(a.shape))
    h1 = jax.hessian(loss)(a)
    h2 = jax.jacrev(jax.jacrev(loss))(a)
    h3 = jax.jacfwd(jax.jacfwd(loss))(a)
    self.assertAllClose(h1, h2, atol=1e-10, rtol=1e-10)
    self.assertAllClose(h1, h3, atol=1e-10, rtol=1e-10)
    e1, e2 = (_random_hermitian(rng, 5, np.float64) for _ in range(2))
    hvp = np.einsum("ij,ijkl,kl->", e1, h1, e2)
    fd = _central_difference(
        lambda x: jax.jvp(loss, (x,), (e1,))[1], a, e2)
    self.assertAllClose(hvp, fd, rtol=1e-7, atol=1e-7)

  def testTransformations(self):
    w = np.array([0., 0., 1., 3.])
    rng = np.random.default_rng(9)
    a, _ = _hermitian(rng, w, np.float64)
    weights = rng.standard_normal(a.shape)
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
      self.assertAllClose(grads[0], g, atol=1e-12, rtol=1e-12)
    loss = loss_with(apis[2])
    self.assertAllClose(jax.jit(jax.grad(loss))(a), grads[0], atol=1e-12)
    self.assertAllClose(jax.jacfwd(loss)(a), grads[0], atol=1e-12)
    self.assertAllClose(jax.jacrev(loss)(a), grads[0], atol=1e-12)
    batch = np.stack([a, a + np.eye(4)])
    self.assertAllClose(jax.vmap(jax.grad(loss))(batch),
                        np.stack([grads[0], grads[0]]), atol=1e-12)
    self._CompileAndCheck(jax.grad(loss), lambda: [a])

  def testPartialDecompositionStillRaises(self):
    with self.assertRaisesRegex(NotImplementedError, "partial eigen"):
      jax.jvp(lambda x: lax_linalg.eigh(x, subset_by_index=(0, 2))[1],
              (np.eye(3),), (np.eye(3),))


@jtu.with_config(jax_enable_x64=True)
class EighGaugeCheckTest(jtu.JaxTestCase):

  def _rotated(self, w, dtype=np.float64, seed=0):
    return _hermitian(np.random.default_rng(seed), w, dtype)[0]

  def testRaiseOnGaugeDependentLoss(self):
    # sum(V) changes when the basis of the repeated eigenspace rotates.
    a = self._rotated([1., 1., 2.])
    sum_v = lambda a: jnp.sum(jnp.linalg.eigh(a)[1])
    ignored = jax.grad(sum_v)(a)
    self.assertTrue(np.all(np.isfinite(ignored)))
    with config.linalg_gauge_check("raise"):
      with self.assertRaisesRegex(Exception, "eigenpairs 0 and 1"):
        jax.block_until_ready(jax.jit(jax.grad(sum_v))(a))

  @_gauge_check("raise")
  def testSilentOnProjectorsAndAtFirstOrderInvariantPoints(self):
    a = self._rotated([1., 1., 2.])
    loss = _projector_loss(2, np.arange(9.).reshape(3, 3))
    self.assertTrue(np.all(np.isfinite(jax.grad(loss)(a))))
    # At exactly I, eigh returns V = I and V^T d sum(V)/dV = ones is
    # symmetric: sum(V) is stationary under rotations of the eigenspace
    # there, so the gradient is well defined and the check stays silent.
    g = jax.grad(lambda a: jnp.sum(jnp.linalg.eigh(a)[1]))(np.eye(3))
    self.assertTrue(np.all(np.isfinite(g)))

  @_gauge_check("nan")
  def testNanOnlyInAffectedBatchElements(self):
    a = np.stack([self._rotated([1., 1., 2.]), self._rotated([1., 2., 3.])])
    sum_v = lambda a: jnp.sum(jnp.linalg.eigh(a)[1])
    g = jax.vmap(jax.grad(sum_v))(a)
    self.assertTrue(np.all(np.isnan(g[0])))
    self.assertTrue(np.all(np.isfinite(g[1])))
    loss = _projector_loss(2, np.ones((3, 3)))
    self.assertTrue(np.all(np.isfinite(jax.vmap(jax.grad(loss))(a))))

  @_gauge_check("raise")
  def testComplexPhaseGauge(self):
    # Eigenvector phases are arbitrary: Im(sum(V)) depends on them (even
    # with distinct eigenvalues), sum(|V|^2 c) does not.
    a = self._rotated([1., 2., 3.], np.complex128)
    phase_free = lambda a: jnp.sum(
        jnp.abs(jnp.linalg.eigh(a)[1]) ** 2 * jnp.arange(3.)[None, :])
    self.assertTrue(np.all(np.isfinite(jax.grad(phase_free)(a))))
    phased = lambda a: jnp.imag(jnp.sum(jnp.linalg.eigh(a)[1]))
    with self.assertRaisesRegex(Exception, "phase"):
      jax.block_until_ready(jax.grad(phased)(a))

  def testBadModeRaises(self):
    with self.assertRaises(ValueError):
      jax.config.update("jax_linalg_gauge_check", "sometimes")

  def testModeIsPartOfTheJitKey(self):
    # The option enters the jit cache key: a function compiled with one mode
    # is retraced, not reused, under another.
    a = self._rotated([1., 1., 2.])
    f = jax.jit(jax.grad(lambda a: jnp.sum(jnp.linalg.eigh(a)[1])))
    self.assertTrue(np.all(np.isfinite(f(a))))
    with config.linalg_gauge_check("nan"):
      self.assertTrue(np.all(np.isnan(f(a)[:2])))
    self.assertTrue(np.all(np.isfinite(f(a))))


@jtu.with_config(jax_enable_x64=True)
class EighRandomClusterTest(jtu.JaxTestCase):

  @hypothesis.settings(max_examples=8, deadline=None, derandomize=True,
                       suppress_health_check=list(hypothesis.HealthCheck))
  @hypothesis.given(
      sizes=st.lists(st.integers(1, 3), min_size=2, max_size=4),
      gaps=st.lists(st.floats(0.2, 2.0), min_size=4, max_size=4),
      complex_=st.booleans(),
      seed=st.integers(0, 2**16),
  )
  def testRandomClusteredSpectra(self, sizes, gaps, complex_, seed):
    values = np.cumsum(gaps[:len(sizes)]) - 1.5
    w = np.repeat(values, sizes)
    dtype = np.complex128 if complex_ else np.float64
    rng = np.random.default_rng(seed)
    a, _ = _hermitian(rng, w, dtype)
    k = sizes[0]  # The lowest cluster, a whole invariant subspace.
    loss = jax.jit(_projector_loss(k, rng.standard_normal(a.shape)))
    e = _random_hermitian(rng, len(w), dtype)
    fd = _central_difference(loss, a, e)
    _, forward = jax.jvp(loss, (a,), (e,))
    reverse = np.real(np.sum(jax.grad(loss)(a) * e))
    scale = max(1.0, abs(fd))
    self.assertAllClose(forward / scale, fd / scale, atol=1e-7, rtol=0)
    self.assertAllClose(reverse / scale, fd / scale, atol=1e-7, rtol=0)


if __name__ == "__main__":
  absltest.main(testLoader=jtu.JaxTestLoader())

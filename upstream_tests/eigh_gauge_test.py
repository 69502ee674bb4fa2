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

"""Tests for eigh's near-degenerate band, second-order degenerate coupling
and gauge check."""

import contextlib
import functools

from absl.testing import absltest
import numpy as np

import jax
import jax.numpy as jnp
from jax._src import config
from jax._src import test_util as jtu

config.parse_flags_with_absl()
jtu.request_cpu_devices(4)

float_types = jtu.dtypes.floating
complex_types = jtu.dtypes.complex


def _hermitian(rng, w, dtype):
  """Q diag(w) Q^H for a random unitary (orthogonal) Q."""
  n = len(w)
  z = rng.standard_normal((n, n))
  if np.issubdtype(dtype, np.complexfloating):
    z = z + 1j * rng.standard_normal((n, n))
  q, _ = np.linalg.qr(z)
  return ((q * np.asarray(w)) @ q.conj().T).astype(dtype)


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


def _sum_v(a):
  # Depends on the basis of a degenerate eigenspace (and on the phases).
  return jnp.real(jnp.sum(jnp.linalg.eigh(a)[1]))


class EighSecondOrderTest(jtu.JaxTestCase):

  @jtu.sample_product(dtype=[np.float64, np.complex128])
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testSecondOrderProjector(self, dtype):
    # Second derivatives of cluster projectors are exact too, also in
    # directions that split a cluster (degenerate perturbation theory);
    # check_grads compares with finite differences of the first derivative.
    # In float64 only: check_grads' own float32 differences of a projector
    # with gaps of 1.5 are noisier than its float32 tolerance.
    a = _hermitian(self.rng(), [-1., -1., 0.5, 2., 2.], dtype)
    loss = _projector_loss(2, self.rng().standard_normal(a.shape))
    jtu.check_grads(loss, (a,), order=2, modes=["fwd", "rev"])

  @jtu.skip_on_flag("jax_enable_x64", False)
  def testHessianCompositions(self):
    rng = self.rng()
    a = _hermitian(rng, [-1., -1., 0.5, 2., 2.], np.float64)
    loss = _projector_loss(2, rng.standard_normal(a.shape))
    h1 = jax.hessian(loss)(a)
    h2 = jax.jacrev(jax.jacrev(loss))(a)
    h3 = jax.jacfwd(jax.jacfwd(loss))(a)
    self.assertAllClose(h1, h2, atol=1e-10, rtol=1e-10)
    self.assertAllClose(h1, h3, atol=1e-10, rtol=1e-10)
    # Against a float64 central difference of the first derivative, with
    # its own O(h^2) error at h = 1e-4: about 1e-8.
    e1, e2 = (_hermitian(rng, rng.standard_normal(5), np.float64)
              for _ in range(2))
    hvp = np.einsum("ij,ijkl,kl->", e1, h1, e2)
    jvp = lambda x: jax.jvp(loss, (x,), (e1,))[1]
    fd = (jvp(a + 1e-4 * e2) - jvp(a - 1e-4 * e2)) / 2e-4
    self.assertAllClose(hvp, fd, rtol=1e-7, atol=1e-7)


class EighGaugeCheckTest(jtu.JaxTestCase):

  def _rotated(self, w, dtype=np.float32):
    return _hermitian(self.rng(), w, dtype)

  def testRaiseOnGaugeDependentLoss(self):
    # sum(V) changes when the basis of the repeated eigenspace rotates.
    a = self._rotated([1., 1., 2.])
    ignored = jax.grad(_sum_v)(a)
    self.assertTrue(np.all(np.isfinite(ignored)))
    with config.linalg_gauge_check("raise"):
      with self.assertRaisesRegex(Exception, "eigenpairs 0 and 1"):
        jax.block_until_ready(jax.jit(jax.grad(_sum_v))(a))

  @_gauge_check("raise")
  def testSilentOnProjectorsAndAtFirstOrderInvariantPoints(self):
    a = self._rotated([1., 1., 2.])
    loss = _projector_loss(2, np.arange(9.).reshape(3, 3))
    self.assertTrue(np.all(np.isfinite(jax.grad(loss)(a))))
    # At exactly I, eigh returns V = I and V^T d sum(V)/dV = ones is
    # symmetric: sum(V) is stationary under rotations of the eigenspace
    # there, so the gradient is well defined and the check stays silent.
    g = jax.grad(_sum_v)(np.eye(3, dtype=np.float32))
    self.assertTrue(np.all(np.isfinite(g)))

  @_gauge_check("raise")
  def testSilentOnNearlyDegenerateProjectors(self):
    # With the near-degenerate band, splittings inside it count as
    # degenerate; a projector onto the whole (split) cluster is still
    # invariant.
    w = np.array([1., 1. + 1e-9, 2.]) if config.enable_x64.value else (
        np.array([1., 1. + 1e-5, 2.]))
    a = self._rotated(w, np.float64 if config.enable_x64.value
                      else np.float32)
    loss = _projector_loss(2, np.arange(9.).reshape(3, 3))
    with config.linalg_degeneracy_rtol("sqrt_eps"):
      self.assertTrue(np.all(np.isfinite(jax.grad(loss)(a))))
      with self.assertRaisesRegex(Exception, "eigenpairs 0 and 1"):
        jax.block_until_ready(jax.grad(_sum_v)(a))

  @_gauge_check("nan")
  def testNanOnlyInAffectedBatchElements(self):
    a = np.stack([self._rotated([1., 1., 2.]), self._rotated([1., 2., 3.])])
    g = jax.vmap(jax.grad(_sum_v))(a)
    self.assertTrue(np.all(np.isnan(g[0])))
    self.assertTrue(np.all(np.isfinite(g[1])))
    loss = _projector_loss(2, np.ones((3, 3)))
    self.assertTrue(np.all(np.isfinite(jax.vmap(jax.grad(loss))(a))))

  @jtu.sample_product(dtype=complex_types)
  @_gauge_check("raise")
  def testComplexPhaseGauge(self, dtype):
    # Eigenvector phases are arbitrary: Im(sum(V)) depends on them (even
    # with distinct eigenvalues), sum(|V|^2 c) does not.
    a = self._rotated([1., 2., 3.], dtype)
    phase_free = lambda a: jnp.sum(
        jnp.abs(jnp.linalg.eigh(a)[1]) ** 2
        * jnp.arange(3, dtype=a.real.dtype)[None, :])
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
    f = jax.jit(jax.grad(_sum_v))
    self.assertTrue(np.all(np.isfinite(f(a))))
    with config.linalg_gauge_check("nan"):
      self.assertTrue(np.all(np.isnan(f(a)[:2])))
    self.assertTrue(np.all(np.isfinite(f(a))))


def _projector_derivative(q, w, occupied, e):
  """d(Q_occ Q_occ^H)[E] from perturbation theory in the exact basis q."""
  k = q.conj().T @ e @ q
  cross = occupied[:, None] != occupied[None, :]
  gap = w[None, :] - w[:, None]
  dv = q @ np.where(cross, k / np.where(cross, gap, 1), 0)
  qo, dvo = q[:, occupied], dv[:, occupied]
  return dvo @ qo.conj().T + qo @ dvo.conj().T


def _symmetric(rng, n, dtype):
  z = rng.standard_normal((n, n))
  if np.issubdtype(dtype, np.complexfloating):
    z = z + 1j * rng.standard_normal((n, n))
  return ((z + z.conj().T) / 2).astype(dtype)


class EighDegeneracyBandTest(jtu.JaxTestCase):
  """jax_linalg_degeneracy_rtol: the opt-in near-degenerate band."""

  @jtu.sample_product(dtype=float_types + complex_types)
  def testBandChangesOnlyThePairsInsideIt(self, dtype):
    # diag(w) has the eigenvectors I, so Y = V^H V̇ is read off directly.
    # With rtol = 1e-3 (band 1e-3 * 6), the pair split by 1e-4 inside it
    # gets Y = 0, the pair split by 0.1 outside it and every other pair the
    # coefficients they get without the band.
    w = np.array([1., 1. + 1e-4, 3., 3.1, 7.])
    a = np.diag(w).astype(dtype)
    e = _symmetric(self.rng(), 5, dtype)
    jvp = lambda: jax.jvp(jnp.linalg.eigh, (a,), (e,))[1]
    dw, dv = jvp()
    with config.linalg_degeneracy_rtol(1e-3):
      band_dw, band_dv = jvp()
    self.assertEqual(band_dv[0, 1], 0)
    self.assertEqual(band_dv[1, 0], 0)
    self.assertNotEqual(dv[0, 1], 0)
    outside = ~np.isin(np.arange(25).reshape(5, 5), [1, 5])
    self.assertArraysEqual(np.asarray(band_dv)[outside],
                           np.asarray(dv)[outside])
    self.assertArraysEqual(band_dw, dw)

  @jtu.sample_product(dtype=float_types + complex_types, seed=range(3))
  def testNearDegenerateErrorIsBounded(self, dtype, seed):
    # Random clustered spectra with within-cluster splittings from 0 to
    # 1e-5 relative, across the band sqrt(eps) (max - min): with the band,
    # the projector onto whole clusters must have a relative error of at
    # most 1e-6 (float64) / 1e-2 (float32) in forward and reverse mode. The
    # rule's error is about 0.7 eps / sqrt(eps) (1e-8, 3e-4) for the zeroed
    # pairs' neighbours plus eps times the conditioning of the cut, here at
    # most (max - min) / 0.3.
    rng = np.random.RandomState(seed)
    eps = np.finfo(dtype).eps
    target = 1e-6 if eps < 1e-10 else 1e-2
    sizes = [2, 3, 1, 2]
    centers = np.array([-1., -0.4, 0.2, 0.9])
    cdtype = (np.complex128 if np.issubdtype(dtype, np.complexfloating)
              else np.float64)
    for delta in (0., 1e-16, 1e-14, 1e-12, 1e-10, 1e-8, 1e-7, 1e-6, 1e-5):
      lam = np.sort(np.concatenate([c + delta * rng.uniform(-1, 1, s)
                                    for c, s in zip(centers, sizes)]))
      z = rng.standard_normal((8, 8))
      if cdtype == np.complex128:
        z = z + 1j * rng.standard_normal((8, 8))
      q, _ = np.linalg.qr(z)
      a = (q * lam) @ q.conj().T
      occupied = np.arange(len(lam)) < 5  # The two lowest clusters.
      e = _symmetric(rng, len(lam), cdtype)
      exact = _projector_derivative(q, lam, occupied, e)
      mask = jnp.asarray(occupied, dtype)[None, :]
      vk = lambda x: jnp.linalg.eigh(x)[1] * mask
      p = lambda x: vk(x) @ jnp.conj(vk(x)).mT
      weights = rng.standard_normal(a.shape)
      loss = lambda x: jnp.real(jnp.sum(jnp.asarray(weights, dtype) * p(x)))
      with config.linalg_degeneracy_rtol("sqrt_eps"):
        _, p_dot = jax.jvp(p, (a.astype(dtype),), (e.astype(dtype),))
        g = np.asarray(jax.grad(loss)(a.astype(dtype)), np.complex128)
      err = np.linalg.norm(np.asarray(p_dot, np.complex128) - exact)
      self.assertLessEqual(err / np.linalg.norm(exact), target,
                           msg=f"forward, delta={delta}")
      d_exact = np.real(np.sum(weights * exact))
      err = abs(np.real(np.sum(g * e)) - d_exact)
      scale = np.linalg.norm(weights) * np.linalg.norm(exact)
      self.assertLessEqual(err / scale, target, msg=f"reverse, delta={delta}")

  @jtu.skip_on_flag("jax_enable_x64", False)
  def testBandGivesTheClusterProjectorsDerivative(self):
    # The documented price of the band: the derivative of v_0 v_0^T with
    # eigenvalues (0, 1e-9, 1) is well defined (without the band, the stock
    # rule's value), but inside the band the pair (0, 1) counts as
    # degenerate, and the rule returns the derivative with the in-cluster
    # coefficient zeroed: perturbation theory in the exact basis with only
    # the eigenvalue 1 as a partner. eigh determines the basis of the pair
    # only to an angle of about eps / 1e-9 = 2e-7, which moves this
    # basis-dependent value by as much (measured: 2.6e-9 relative).
    w = np.array([0., 1e-9, 1.])
    rng = self.rng()
    z, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    a = (z * w) @ z.T
    e = _symmetric(rng, 3, np.float64)
    weights = rng.standard_normal((3, 3))
    def loss(x):
      _, v = jnp.linalg.eigh(x)
      return jnp.sum(weights * jnp.outer(v[:, 0], v[:, 0]))
    k = z.T @ e @ z
    def derivative(partners):
      dq = sum(z[:, j] * k[j, 0] / (w[0] - w[j]) for j in partners)
      return np.sum(weights * (np.outer(dq, z[:, 0]) + np.outer(z[:, 0], dq)))
    with config.linalg_degeneracy_rtol("sqrt_eps"):
      band = np.sum(jax.grad(loss)(a) * e)
      _, band_fwd = jax.jvp(loss, (a,), (e,))
    default = np.sum(jax.grad(loss)(a) * e)
    self.assertAllClose(band, derivative([2]), rtol=1e-6, atol=0)
    self.assertAllClose(band_fwd, derivative([2]), rtol=1e-6, atol=0)
    # Without the band: the true derivative, to eigh's accuracy
    # eps / 1e-9.
    self.assertAllClose(default, derivative([1, 2]), rtol=1e-5, atol=0)

  def testBandIsPartOfTheJitKey(self):
    # A function compiled without the band is retraced, not reused, under
    # it, and the other way round.
    a = np.diag([1., 1. + 1e-4, 3.]).astype(np.float32)
    e = np.ones((3, 3), np.float32)
    f = jax.jit(lambda x: jax.jvp(jnp.linalg.eigh, (x,), (e,))[1][1])
    self.assertNotEqual(f(a)[0, 1], 0)
    with config.linalg_degeneracy_rtol(1e-3):
      self.assertEqual(f(a)[0, 1], 0)
    self.assertNotEqual(f(a)[0, 1], 0)

  def testBadBandRaises(self):
    for bad in (-1e-3, 1., 2, "sqrt", float("nan"), True):
      with self.assertRaisesRegex(ValueError, "jax_linalg_degeneracy_rtol"):
        jax.config.update("jax_linalg_degeneracy_rtol", bad)
    self.assertIsNone(config.linalg_degeneracy_rtol.value)


class EighShardingTest(jtu.JaxTestCase):

  def setUp(self):
    super().setUp()
    if jax.device_count() < 4:
      self.skipTest("needs 4 devices")

  @jtu.sample_product(mode=["ignore", "nan"], n=[20, 120])
  def testBatchShardedDegenerateGrad(self, mode, n):
    # The batch axis may be sharded, explicitly or not: the rule's
    # primitives keep it sharded, compile to no collective, and give the
    # unsharded results.
    w = [1., 1.] + list(np.linspace(2., 3., n - 2))
    a = np.stack([_hermitian(self.rng(), w, np.float32) for _ in range(8)])
    loss = _projector_loss(2, np.ones((n, n)))
    fun = jax.vmap(jax.grad(loss))
    with config.linalg_gauge_check(mode):
      expected = jax.jit(fun)(a)
      for explicit in (False, True):
        out, hlo, sharding = _batch_sharded(fun, (a,), explicit)
        for op in _COLLECTIVES:
          self.assertNotIn(op, hlo)
        self.assertTrue(out.sharding.is_equivalent_to(sharding, out.ndim))
        self.assertAllClose(out, expected)


if __name__ == "__main__":
  absltest.main(testLoader=jtu.JaxTestLoader())

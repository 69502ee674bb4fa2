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

"""Tests for the opt-in near-degenerate band of the eigh derivative
(jax_linalg_degeneracy_rtol)."""

from absl.testing import absltest
import numpy as np

import jax
import jax.numpy as jnp
from jax._src import config
from jax._src import test_util as jtu

config.parse_flags_with_absl()

float_types = jtu.dtypes.floating
complex_types = jtu.dtypes.complex


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


if __name__ == "__main__":
  absltest.main(testLoader=jtu.JaxTestLoader())

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

"""Tests for exact second derivatives of eigh and svd at degenerate points
(degenerate perturbation theory to second order)."""

from absl.testing import absltest
import numpy as np

import jax
import jax.numpy as jnp
from jax._src import config
from jax._src import test_util as jtu

config.parse_flags_with_absl()


def _hermitian(rng, w, dtype):
  """Q diag(w) Q^H for a random unitary (orthogonal) Q."""
  n = len(w)
  z = rng.standard_normal((n, n))
  if np.issubdtype(dtype, np.complexfloating):
    z = z + 1j * rng.standard_normal((n, n))
  q, _ = np.linalg.qr(z)
  return ((q * np.asarray(w)) @ q.conj().T).astype(dtype)


def _projector_loss(k, weights):
  """sum(W * P) with P the projector onto the k lowest eigenvectors."""
  def loss(a):
    _, v = jnp.linalg.eigh(a)
    vk = v[..., :k]
    p = vk @ jnp.conj(vk).mT
    return jnp.real(jnp.sum(jnp.asarray(weights, p.dtype) * p))
  return loss


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


def _central_difference(f, x, dx, h=1e-3):
  # Richardson-extrapolated central difference of a float64 function: error
  # O(h^4) + O(eps / h), about 1e-11 relative here.
  x, dx = _f64(x), _f64(dx)
  d = lambda h: (f(x + h * dx) - f(x - h * dx)) / (2 * h)
  return (4 * d(h / 2) - d(h)) / 3


def _polar(a):
  u, _, vh = jnp.linalg.svd(a, full_matrices=False)
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


def _weighted(f, weights):
  """The real loss sum(Re(W * f(a)))."""
  def loss(a):
    return jnp.sum(jnp.real(jnp.asarray(weights) * f(a)))
  return loss

def _second_difference(f, x, dx, h=1e-3):
  # d^2/dt^2 f(x + t dx) at t = 0 by a central difference in float64 NumPy:
  # error O(h^2) + O(eps / h^2), about 1e-6 relative here. The oracle for
  # float32 second derivatives: it shares no code with JAX's rules.
  x, dx = np.asarray(x, np.float64), np.asarray(dx, np.float64)
  return (f(x + h * dx) - 2 * f(x) + f(x - h * dx)) / h**2


def _second_derivatives(loss, x, dx):
  """d^2/dt^2 loss(x + t dx) forward-over-forward and forward-over-reverse."""
  fwd = jax.jvp(lambda y: jax.jvp(loss, (y,), (dx,))[1], (x,), (dx,))[1]
  rev = jnp.vdot(jax.jvp(jax.grad(loss), (x,), (dx,))[1], dx)
  return fwd, rev



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

  def testSecondDerivativeFloat32(self):
    # In float32 (no x64 needed) against a float64 NumPy second difference:
    # a projector onto two clusters of a spectrum with repeated eigenvalues,
    # in random directions that split them. Measured over 20 seeds: at most
    # 6.5e-6 relative; without the coupling primitive, up to 3.8.
    for seed in range(5):
      rng = np.random.default_rng(seed)
      q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
      a = (q * np.array([-1., -1., 0.5, 2., 2.])) @ q.T
      e = rng.standard_normal((5, 5))
      e = (e + e.T) / 2
      weights = rng.standard_normal((5, 5))
      def np_loss(x):
        vk = np.linalg.eigh(x)[1][:, :2]
        return np.sum(weights * (vk @ vk.T))
      expected = _second_difference(np_loss, a, e)
      loss = _projector_loss(2, weights.astype(np.float32))
      for got in _second_derivatives(loss, a.astype(np.float32),
                                     e.astype(np.float32)):
        self.assertLess(abs(float(got) - expected) / abs(expected), 1e-3)


class SvdSecondOrderTest(jtu.JaxTestCase):

  @jtu.sample_product(dtype=[np.float64, np.complex128])
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testSecondOrder(self, dtype):
    # Second derivatives of cluster-invariant losses are exact too, also in
    # directions that split a cluster (degenerate perturbation theory), at
    # repeated singular values, at zero singular values of rank-deficient
    # tall and wide matrices, and for the full U of a tall matrix.
    rng = self.rng()
    cases = [
        (_weighted(_polar, _random(rng, (4, 4), dtype)),
         _with_singular_values(rng, (2., 2., 2., 0.5), (4, 4), dtype)),
        (_weighted(_polar, _random(rng, (3, 5), dtype)),
         _with_singular_values(rng, (3., 1.5, 1.5), (3, 5), dtype)),
        (_weighted(_left_projector(2), _random(rng, (5, 5), dtype)),
         _with_singular_values(rng, (3., 3., 0., 0.), (5, 4), dtype)),
        (_weighted(_right_projector(2), _random(rng, (6, 6), dtype)),
         _with_singular_values(rng, (3., 2., 0.), (3, 6), dtype)),
    ]
    d = np.array([1., 1., 0.5, 0.5, 0.5], dtype)
    w = _random(rng, (5, 5), dtype)
    def full_u(a):  # Invariant to the basis of the complement.
      u = jnp.linalg.svd(a, full_matrices=True)[0]
      return jnp.sum(jnp.real(w * ((u * d[None, :]) @ jnp.conj(u).mT)))
    cases.append((full_u, _with_singular_values(rng, (2., 2., 1.), (5, 3),
                                                dtype)))
    for loss, a in cases:
      jtu.check_grads(loss, (a,), order=2, modes=["fwd", "rev"], atol=1e-6,
                      rtol=1e-6)

  @jtu.skip_on_flag("jax_enable_x64", False)
  def testHessianCompositions(self):
    rng = self.rng()
    a = _with_singular_values(rng, (2., 2., 1., 0.5), (4, 4), np.float64)
    loss = _weighted(_polar, _random(rng, (4, 4), np.float64))
    h1 = jax.hessian(loss)(a)
    h2 = jax.jacrev(jax.jacrev(loss))(a)
    h3 = jax.jacfwd(jax.jacfwd(loss))(a)
    self.assertAllClose(h1, h2, atol=1e-10, rtol=1e-10)
    self.assertAllClose(h1, h3, atol=1e-10, rtol=1e-10)
    e1, e2 = (_random(rng, (4, 4), np.float64) for _ in range(2))
    hvp = np.einsum("ij,ijkl,kl->", e1, h1, e2)
    fd = _central_difference(lambda x: jax.jvp(loss, (x,), (e1,))[1], a, e2)
    self.assertAllClose(hvp, fd, rtol=1e-7, atol=1e-7)

  def testSecondDerivativeFloat32(self):
    # The polar factor U V^T at singular values (2, 2, 2, 0.5), in float32
    # against a float64 NumPy second difference, in random directions.
    # Measured over these 5 seeds: at most 4.3e-6 relative; without the
    # coupling, up to 0.89.
    for seed in range(5):
      rng = np.random.RandomState(seed)
      a = _with_singular_values(rng, (2., 2., 2., 0.5), (4, 4), np.float64)
      e = rng.randn(4, 4)
      weights = rng.randn(4, 4)
      def np_loss(x):
        u, _, vh = np.linalg.svd(x)
        return np.sum(weights * (u @ vh))
      expected = _second_difference(np_loss, a, e)
      loss = _weighted(_polar, weights.astype(np.float32))
      for got in _second_derivatives(loss, a.astype(np.float32),
                                     e.astype(np.float32)):
        self.assertLess(abs(float(got) - expected) / abs(expected), 1e-3)


if __name__ == "__main__":
  absltest.main(testLoader=jtu.JaxTestLoader())

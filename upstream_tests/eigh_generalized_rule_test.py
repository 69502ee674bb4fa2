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

"""Tests for the derivative rule of jax.scipy.linalg.eigh(a, b)."""

from functools import partial

from absl.testing import absltest
import numpy as np
import scipy.linalg as osp_linalg

import jax
from jax import numpy as jnp
from jax.scipy import linalg as jsp_linalg
from jax._src import config
from jax._src import core
from jax._src import test_util as jtu

config.parse_flags_with_absl()
jtu.request_cpu_devices(4)


def _explicitly_batch_sharded(fun, args):
  """jit(fun) compiled under a mesh of Explicit axes (jax.set_mesh), with
  args split along their batch axis on 4 devices. Returns the output
  shardings, the compiled HLO text and the sharding of the inputs."""
  mesh = jax.make_mesh((4,), ("batch",),
                       axis_types=(jax.sharding.AxisType.Explicit,))
  sharding = jax.sharding.NamedSharding(
      mesh, jax.sharding.PartitionSpec("batch"))
  with jax.set_mesh(mesh):
    args = [jax.device_put(x, sharding) for x in args]
    compiled = jax.jit(fun).lower(*args).compile()
    return compiled.output_shardings, compiled.as_text(), sharding


_COLLECTIVES = ("all-reduce", "all-gather", "reduce-scatter",
                "collective-permute", "all-to-all")


def _H(x):
  return np.conj(np.swapaxes(x, -1, -2))


def _random_hermitian(rng, shape, dtype):
  x = rng.randn(*shape)
  if np.issubdtype(dtype, np.complexfloating):
    x = x + 1j * rng.randn(*shape)
  return ((x + _H(x)) / 2).astype(dtype)


def _random_pd(rng, shape, dtype):
  # Eigenvalues in [1, 1 + n / 4]: condition number below about 1 + n / 4.
  x = _random_hermitian(rng, shape, dtype)
  n = shape[-1]
  return (x @ _H(x) / (4 * n) + np.eye(n)).astype(dtype)


def _methane(dtype=np.float64):
  """An extended-Hueckel model of methane, CH4: H C = S C diag(e).

  A minimal basis, C 2s and 2p and four H 1s at the corners of a
  tetrahedron; overlaps S of the size of real ones (condition number 15);
  Wolfsberg-Helmholz H_ij = 1.75 (H_ii + H_jj) / 2 S_ij with valence
  ionization energies (eV). The tetrahedral symmetry makes the bonding and
  antibonding t2 levels exactly threefold degenerate:
  -24.83, -15.14 (x3), 3.54 (x3), 55.58. A complex dtype gets complex
  orbital phases, H -> D H D^H and S -> D S D^H, D diagonal unitary.
  """
  u = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]])
  u = u / np.sqrt(3)
  s = np.eye(8)
  s[0, 4:] = s[4:, 0] = 0.55
  s[1:4, 4:] = 0.45 * u.T
  s[4:, 1:4] = 0.45 * u
  s[4:, 4:] += 0.2 * (np.ones((4, 4)) - np.eye(4))
  h_ii = np.array([-21.4, -11.4, -11.4, -11.4, -13.6, -13.6, -13.6, -13.6])
  h = 1.75 * (h_ii[:, None] + h_ii[None, :]) / 2 * s
  np.fill_diagonal(h, h_ii)
  if np.issubdtype(dtype, np.complexfloating):
    d = np.exp(1j * np.linspace(0.3, 2.9, 8))
    h = d[:, None] * h * d.conj()[None, :]
    s = d[:, None] * s * d.conj()[None, :]
  return h.astype(dtype), s.astype(dtype)


def _degenerate_random(rng, dtype, type=1, n=6):
  """A random b and an a whose eigenvalues are (1, 1, 1, 2, 3, 3)."""
  b = _random_pd(rng, (n, n), dtype)
  q, _ = np.linalg.qr(_random_hermitian(rng, (n, n), dtype) + 3 * np.eye(n))
  x = (q * np.array([1., 1., 1., 2., 3., 3.])) @ _H(q)
  # b = L L^H. Type 1 reduces to L^-1 a L^-H, types 2 and 3 to L^H a L.
  l = np.linalg.cholesky(b)
  if type == 1:
    a = l @ x @ _H(l)
  else:
    l_inv = np.linalg.inv(l)
    a = _H(l_inv) @ x @ l_inv
  return ((a + _H(a)) / 2).astype(dtype), b


def _problem(name, dtype, rng, type=1):
  if name == "methane":
    return _methane(dtype)
  if name == "degenerate":
    return _degenerate_random(rng, dtype, type)
  assert name == "random"
  return (_random_hermitian(rng, (6, 6), dtype),
          _random_pd(rng, (6, 6), dtype))


def _clusters(w, tol=1e-6):
  """Cluster labels of sorted eigenvalues: equal where they are degenerate."""
  return np.concatenate([[0], np.cumsum(np.diff(w) > tol * np.ptp(w))])


def _occupied(w):
  """The number of lowest eigenvalues closest to half that splits no cluster."""
  labels = _clusters(w)
  bounds = [k for k in range(1, len(w)) if labels[k] != labels[k - 1]]
  return min(bounds, key=lambda k: abs(k - len(w) / 2))


def _observables(v, w, f, k, xp=np):
  """Gauge-invariant functions of a generalized eigendecomposition, flattened.

  The density matrix V_k V_k^H of the k lowest (whole levels), the matrix
  function V diag(f) V^H with weights f constant on levels, and the sum of
  the k lowest eigenvalues, weighted by f.
  """
  vk = v[:, :k]
  density = vk @ xp.conj(vk.T)
  weighted = (v * f.astype(v.dtype)[None, :]) @ xp.conj(v.T)
  level_sum = xp.sum(f[:k].astype(w.dtype) * w[:k])
  return xp.concatenate([xp.ravel(density), xp.ravel(weighted),
                         xp.reshape(level_sum, (1,)).astype(v.dtype)])


def _scipy_observables(a, b, type, f, k):
  w, v = osp_linalg.eigh(a, b, type=type)
  return _observables(v, w, f, k)


def _second_central_difference(f, x, dx, h):
  # (f(x + h dx) - 2 f(x) + f(x - h dx)) / h^2 with one Richardson step:
  # error O(h^4) + O(eps |f| / h^2).
  d2 = lambda h: (f(x + h * dx) - 2 * f(x) + f(x - h * dx)) / h ** 2
  return (4 * d2(h / 2) - d2(h)) / 3


def _derivative_case(name, dtype, type, rng):
  a, b = _problem(name, dtype, rng, type)
  w = osp_linalg.eigh(a, b, type=type, eigvals_only=True)
  labels = _clusters(w)
  f = (1. + labels).astype(np.finfo(dtype).dtype)
  da = _random_hermitian(rng, a.shape, dtype)
  db = 0.1 * _random_hermitian(rng, b.shape, dtype)
  # Central-difference step: small against the gaps between levels, which
  # set the scale on which the observables vary.
  gap = np.min(np.diff(w)[np.diff(labels) > 0])
  return a, b, f, _occupied(w), da, db, 1e-3 * min(1., gap)


def _jax_observables(type, f, k):
  def observables(a, b):
    w, v = jsp_linalg.eigh(a, b, type=type)
    return _observables(v, w, f, k, xp=jnp)
  return observables


def _composed(a, b, type):
  """eigh(a, b) written out, for JAX to differentiate through its steps."""
  l = jnp.linalg.cholesky(b)
  solve = partial(jax.lax.linalg.triangular_solve, l, lower=True)
  if type == 1:
    c = solve(solve(a, left_side=True), transpose_a=True, conjugate_a=True)
  else:
    c = jnp.conj(l.T) @ a @ l
  w, u = jnp.linalg.eigh(c)
  if type == 3:
    return w, l @ u
  return w, solve(u, left_side=True, transpose_a=True, conjugate_a=True)


def _count(jaxpr, name):
  """How many equations of primitive `name` a jaxpr holds, in all its
  sub-jaxprs too."""
  return sum(eqn.primitive.name == name for eqn in jaxpr.eqns) + sum(
      _count(sub, name) for sub in core.subjaxprs(jaxpr))


class EighGeneralizedRuleTest(jtu.JaxTestCase):

  @jtu.sample_product(
      name=["methane", "degenerate", "random"],
      dtype=[np.float64, np.complex128],
      type=[1, 2, 3],
  )
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testMatchesComposition(self, name, dtype, type):
    # The rule gives the derivatives of its steps, which JAX's rules for
    # Cholesky, triangular solves and eigh give too: first and second
    # order, forward and reverse, at the threefold levels as elsewhere.
    rng = self.rng()
    a, b, f, k, da, db, _ = _derivative_case(name, dtype, type, rng)
    x, dx = np.stack([a, b]), np.stack([da, db])
    weights = _random_hermitian(rng, (2 * a.size + 1,) * 2, dtype)[0]
    def loss(eigh):
      def loss(x):
        w, v = eigh(x[0], x[1], type)
        return jnp.real(jnp.sum(weights * _observables(v, w, f, k, xp=jnp)))
      return loss
    rule = loss(lambda a, b, type: jsp_linalg.eigh(a, b, type=type))
    composed = loss(_composed)
    directional = lambda g: jnp.real(jnp.sum(g * dx))
    derivatives = {
        "jvp": lambda loss: jax.jvp(loss, (x,), (dx,))[1],
        "grad": lambda loss: directional(jax.grad(loss)(x)),
        "fwd_rev": lambda loss: directional(
            jax.jvp(jax.grad(loss), (x,), (dx,))[1]),
        "rev_rev": lambda loss: directional(jax.grad(
            lambda x: directional(jax.grad(loss)(x)))(x)),
    }
    # Both are exact up to rounding: eps cond(b) max|w| / gap, 3e-13 with
    # cond(b) <= 15 and max|w| / gap <= 100, and at second order once more
    # max|w| / gap (measured: at most 3e-16 and 3e-15 of the scale).
    scale = np.linalg.norm(weights) * np.max(np.abs(
        _scipy_observables(a, b, type, f, k)))
    for mode, derivative in derivatives.items():
      tol = 1e-12 if mode in ("jvp", "grad") else 1e-10
      self.assertAllClose(derivative(rule), derivative(composed),
                          atol=tol * scale, rtol=tol, err_msg=mode)

  @jtu.sample_product(
      name=["methane", "degenerate"],
      dtype=[np.float64, np.complex128],
      type=[1, 2, 3],
  )
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testSecondOrderAtDegeneracy(self, name, dtype, type):
    # A random direction splits the degenerate levels; the density matrix
    # and the weighted sums over whole levels stay smooth, and their second
    # derivatives come out exact through every composition of modes.
    rng = self.rng()
    a, b, f, k, da, db, h = _derivative_case(name, dtype, type, rng)
    x, dx = np.stack([a, b]), np.stack([da, db])
    weights = _random_hermitian(rng, (2 * a.size + 1,) * 2, dtype)[0]
    loss_np = lambda x: np.real(np.sum(
        weights * _scipy_observables(x[0], x[1], type, f, k)))
    # Second differences with a 3x larger step: rounding eps |L| / h^2 and
    # truncation, after Richardson, (h |dx| / gap)^4 |L| are both below
    # 1e-8 |L|.
    expected = _second_central_difference(loss_np, x, dx, 3 * h)
    observables = _jax_observables(type, f, k)
    loss = lambda x: jnp.real(jnp.sum(weights * observables(x[0], x[1])))
    # JAX's gradient of a real function of complex x pairs with a direction
    # as Re sum(g * dx), without conjugation.
    directional = lambda g: jnp.real(jnp.sum(g * dx))
    hvps = {
        "fwd_fwd": lambda x: jax.jvp(
            lambda x: jax.jvp(loss, (x,), (dx,))[1], (x,), (dx,))[1],
        "fwd_rev": lambda x: directional(
            jax.jvp(jax.grad(loss), (x,), (dx,))[1]),
        "rev_fwd": lambda x: directional(
            jax.grad(lambda x: jax.jvp(loss, (x,), (dx,))[1])(x)),
        "rev_rev": lambda x: directional(
            jax.grad(lambda x: directional(jax.grad(loss)(x)))(x)),
    }
    scale = np.linalg.norm(weights) * np.max(np.abs(
        _scipy_observables(a, b, type, f, k)))
    for mode, hvp in hvps.items():
      self.assertAllClose(jax.jit(hvp)(x), expected, atol=1e-7 * scale,
                          rtol=1e-7, err_msg=mode)

  @jtu.sample_product(type=[1, 2, 3])
  def testGradientFactorsOnce(self, type):
    # The rule's backward pass is products with the eigenvectors: the
    # gradient has the forward pass's Cholesky factorization and triangular
    # solves and no others (the steps' own rules add their transposes).
    rng = self.rng()
    a = _random_hermitian(rng, (6, 6), np.float32)
    b = _random_pd(rng, (6, 6), np.float32)
    weights = rng.randn(6, 6).astype(np.float32)
    def loss(a, b):
      v = jsp_linalg.eigh(a, b, type=type)[1][:, :3]
      return jnp.sum(weights * (v @ v.T))
    forward = jax.make_jaxpr(loss)(a, b).jaxpr
    grad = jax.make_jaxpr(jax.grad(loss, (0, 1)))(a, b).jaxpr
    self.assertEqual(_count(forward, "cholesky"), 1)
    for name in ("cholesky", "triangular_solve"):
      self.assertEqual(_count(grad, name), _count(forward, name), name)
    composed = lambda a, b: jnp.sum(
        weights * (_composed(a, b, type)[1][:, :3] @ _composed(
            a, b, type)[1][:, :3].T))
    self.assertGreater(
        _count(jax.make_jaxpr(jax.grad(composed, (0, 1)))(a, b).jaxpr,
               "triangular_solve"),
        _count(jax.make_jaxpr(composed)(a, b).jaxpr, "triangular_solve"))


class EighGeneralizedRuleShardingTest(jtu.JaxTestCase):

  def setUp(self):
    super().setUp()
    if jax.device_count() < 4:
      self.skipTest("needs 4 devices")

  @jtu.sample_product(n=[20, 120], type=[1, 2, 3])
  def testExplicitlyBatchShardedGrad(self, n, type):
    # Under a mesh of Explicit axes (jax.set_mesh) the derivatives in a and
    # b keep the batch sharded and compile to no collective. (Through
    # Cholesky's own rule they do not trace: its mask of the lower triangle
    # is unsharded.) Compiled only, as in eigh_generalized_test.py.
    rng = np.random.RandomState(0)
    a = _random_hermitian(rng, (8, n, n), np.float32)
    b = _random_pd(rng, (8, n, n), np.float32)
    weights = rng.randn(8, n, 2).astype(np.float32)
    loss = lambda a, b: jnp.sum(
        weights * jsp_linalg.eigh(a, b, type=type)[1][..., :2] ** 2)
    grad = jax.grad(loss, argnums=(0, 1))
    out, hlo, sharding = _explicitly_batch_sharded(grad, (a, b))
    for op in _COLLECTIVES:
      self.assertNotIn(op, hlo)
    for x in out:
      self.assertTrue(x.is_equivalent_to(sharding, 3))


if __name__ == "__main__":
  absltest.main(testLoader=jtu.JaxTestLoader())

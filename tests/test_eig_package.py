# Copyright 2026 The jax_patch Authors.
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

"""The package-only parts of the eig rule: the gauge check
(jax_linalg_gauge_check) and the Lorentzian broadening
(jax_linalg_eig_broadening). The rule itself is tested in
upstream_tests/eig_degenerate_test.py."""

import numpy as np
import pytest

import jax
import jax.numpy as jnp
from jax.experimental import checkify
import jax_patch

jax.config.update("jax_enable_x64", True)


@pytest.fixture(autouse=True)
def _installed():
  with jax_patch.patched():
    yield


def _eig(a):
  return jax.lax.linalg.eig(a, compute_left_eigenvectors=False,
                            enable_eigvec_derivs=True)


def _similar(seed, w, complex_=False):
  rng = np.random.default_rng(seed)
  n = len(w)
  x = rng.standard_normal((n, n))
  if complex_:
    x = x + 1j * rng.standard_normal((n, n))
  a = x @ np.diag(w) @ np.linalg.inv(x)
  return a if complex_ else a.real


def _projector_loss(d, g):
  def loss(a):
    _, v = _eig(a)
    return jnp.real(jnp.sum(g * (v[:, d] @ jnp.linalg.inv(v)[d, :])))
  return loss


def _cluster(a, centre, m):
  return np.sort(np.argsort(np.abs(np.linalg.eigvals(a) - centre))[:m])


# A non-defective matrix with the double eigenvalue 1 (entries 0 and 1 of
# eig's output here).
A = _similar(0, [1., 1., 3., -2.])
D = _cluster(A, 1., 2)
G = np.random.default_rng(1).standard_normal((4, 4))


def _basis_loss(a):
  # |V[0, D[0]]|^2: one eigenvector of the cluster, whose basis is arbitrary.
  _, v = _eig(a)
  return jnp.abs(v[0, D[0]]) ** 2


def _unequal_values_loss(a):
  # One eigenvalue of the cluster, not their sum.
  w = jnp.linalg.eigvals(a)
  return jnp.real(w[D[0]])


@pytest.mark.parametrize("loss", [_basis_loss, _unequal_values_loss])
def test_gauge_check_nan_flags_basis_dependent_losses(loss):
  with jax_patch.linalg_gauge_check("nan"):
    g = jax.grad(loss)(A)
  assert np.isnan(g).all()
  # The same loss at distinct eigenvalues is well defined: not flagged.
  b = _similar(0, [1., 1.5, 3., -2.])
  with jax_patch.linalg_gauge_check("nan"):
    g = jax.grad(loss)(b)
  assert np.isfinite(g).all()


def test_gauge_check_passes_cluster_invariant_losses():
  loss = _projector_loss(D, G)
  expected = jax.grad(loss)(A)
  for mode in ("nan", "raise"):
    with jax_patch.linalg_gauge_check(mode):
      np.testing.assert_array_equal(jax.grad(loss)(A), expected)
  # The cluster's eigenvalues through their sum: not flagged either (lax's
  # eig, not the jitted jnp.linalg.eigvals, whose staged check would need
  # checkify).
  total = lambda a: jnp.real(jnp.sum(jax.lax.linalg.eig(
      a, compute_left_eigenvectors=False,
      compute_right_eigenvectors=False)[0][D]))
  expected = jax.grad(total)(A)
  with jax_patch.linalg_gauge_check("raise"):
    np.testing.assert_array_equal(jax.grad(total)(A), expected)


def test_gauge_check_raise():
  with jax_patch.linalg_gauge_check("raise"):
    match = rf"eig: .* basis .* Offending: eigenvectors {D[0]} and {D[1]}"
    with pytest.raises(jax_patch.GaugeDependenceError, match=match):
      jax.grad(_basis_loss)(A)
    # Under jit the check is staged: checkify functionalizes it.
    err, _ = checkify.checkify(jax.jit(jax.grad(_basis_loss)))(A)
    with pytest.raises(checkify.JaxRuntimeError, match="eig: "):
      err.throw()


def test_broadening_is_the_lorentzian_of_each_gap():
  # For a diagonal A the eigenvectors are I and K = Ȧ, so the eigenvector
  # tangent's off-diagonal entries are K_ij conj(d) / (|d|^2 + beta),
  # d = w_j - w_i, exactly (the normalization term is on the diagonal).
  w = np.array([1., 1.5, 3., -2.])
  e = np.random.default_rng(2).standard_normal((4, 4))
  d = w[None, :] - w[:, None]
  off = ~np.eye(4, dtype=bool)
  for beta in (1e-3, 0.5):
    with jax_patch.linalg_eig_broadening(beta):
      _, dv = jax.jvp(lambda a: _eig(a)[1], (np.diag(w),), (e,))
    expected = e * d / (d ** 2 + beta)
    np.testing.assert_allclose(np.asarray(dv)[off], expected[off],
                               rtol=1e-12)


def test_broadening_trade():
  # Both sides of the trade. Default: exact at distinct eigenvalues, and
  # the individual eigenvectors of a pair split by 1e-9 get coefficients of
  # order 1e9 (their true derivative). Broadened (beta = 1e-6): bounded
  # coefficients at the near tie, at the price of a bias of about
  # beta / |d|^2 relative at the other gaps (|d| >= 0.5 here: <= 4e-6).
  w = np.array([1., 1. + 1e-9, 3., -2.])
  a = _similar(3, w)
  e = np.random.default_rng(4).standard_normal((4, 4))
  tangent = lambda a: jax.jvp(lambda a: _eig(a)[1], (a,), (e,))[1]
  exact = np.asarray(tangent(a))
  with jax_patch.linalg_eig_broadening(1e-6):
    broad = np.asarray(tangent(a))
  assert np.abs(exact).max() > 1e6
  assert np.abs(broad).max() < 1e4
  # The projector of the far pair {3, -2} does not see the near tie: its
  # derivative moves by the bias only.
  far = np.sort(np.argsort(np.abs(np.linalg.eigvals(a) - 1.))[2:])
  loss = _projector_loss(far, G)
  exact = jax.jvp(loss, (a,), (e,))[1]
  with jax_patch.linalg_eig_broadening(1e-6):
    broad = jax.jvp(loss, (a,), (e,))[1]
    broad_rev = np.sum(np.asarray(jax.grad(loss)(a)) * e)
  np.testing.assert_allclose(broad_rev, broad, rtol=1e-10)
  bias = abs(broad / exact - 1)
  assert 1e-9 < bias < 4e-5, bias


@pytest.mark.parametrize("value", [-1., 0., float("inf"), True, "x"])
def test_broadening_option_rejects(value):
  with pytest.raises(ValueError, match="jax_linalg_eig_broadening"):
    jax.config.update("jax_linalg_eig_broadening", value)


def test_broadening_option_accepts_numbers_only():
  # A NumPy scalar or a string (as from the environment) works; a JAX array
  # is not hashable (the option is in the jit cache key): a ValueError, not
  # a TypeError from deep inside jit.
  for value in (np.float32(1e-8), "1e-8", 1):
    with jax_patch.linalg_eig_broadening(value):
      jax.jvp(lambda a: _eig(a)[1], (A,), (A,))
  with pytest.raises(ValueError, match="jax_linalg_eig_broadening"):
    jax.config.update("jax_linalg_eig_broadening", jnp.float32(1e-8))


def _stock(fun):
  # fun() with JAX's own eig rule.
  jax_patch.uninstall()
  try:
    return fun()
  finally:
    jax_patch.install()


def test_tie_radius_both_sides():
  # The radius 2 sqrt(n) eps |A|_F kappa is the eigenvalues' uncertainty at
  # working precision. Inside it, a distinct pair is tied: the exactly
  # triangular [[1, c], [0, 2]] in float32 with c = 2000 (kappa about c,
  # radius 1.35 > gap 1) gets the pair's projector derivative, which is not
  # stock's (exact here only because triangular input makes LAPACK's
  # eigenvalues exact). With c = 1000 (radius 0.34) the pair is apart and the
  # derivative is stock's.
  e = np.array([[0.3, -1.2], [0.7, 0.4]], np.float32)
  tangent = lambda a: np.asarray(jax.jvp(lambda x: _eig(x)[1], (a,), (e,))[1])
  for c, tied in ((2000., True), (1000., False)):
    a = np.array([[1., c], [0., 2.]], np.float32)
    ours, stock = tangent(a), _stock(lambda: tangent(a))
    if tied:
      assert np.abs(ours - stock).max() > 0.5 * np.abs(stock).max()
    else:
      np.testing.assert_allclose(ours, stock, rtol=1e-6, atol=0)


def test_kappa_ties_matter_for_non_normal_repeats():
  # A double eigenvalue of X diag(w) X^-1 with cond(X) = 1e3 comes back split
  # by rounding by far more than eigh's eigenvalue-relative tolerance; only
  # the kappa-scaled radius ties it. Its projector's derivative against
  # perturbation theory in the exact basis X: exact to 1e-9 (float64), where
  # eigh's tolerance alone leaves errors of up to 1e-3 (measured by the
  # maintainer review; stock up to 0.4).
  rng = np.random.default_rng(5)
  u, _, vt = np.linalg.svd(rng.standard_normal((6, 6)))
  x = (u * np.logspace(0, 3, 6)) @ vt
  w = np.array([1., 1., 3., -2., 0.5, 4.])
  x_inv = np.linalg.inv(x)
  a = x @ np.diag(w) @ x_inv
  e = rng.standard_normal((6, 6))
  k = x_inv @ e @ x
  d = w[None, :] - w[:, None]
  in_d = np.isin(np.arange(6), [0, 1])
  cross = in_d[:, None] != in_d[None, :]
  y = np.where(cross, k / np.where(cross, d, 1), 0)
  dp = x @ (y * in_d[None, :] - in_d[:, None] * y) @ x_inv
  cluster = _cluster(a, 1., 2)
  def projector(b):
    _, v = _eig(b)
    return v[:, cluster] @ jnp.linalg.inv(v)[cluster, :]
  got = np.asarray(jax.jvp(projector, (a,), (e,))[1])
  assert np.linalg.norm(got - dp) <= 1e-9 * np.linalg.norm(dp)

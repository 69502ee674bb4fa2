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

"""jax_linalg_gauge_check, the package-only check of eigh and svd gradients
that depend on the arbitrary basis of a degenerate eigenspace or singular
subspace.

"raise" raises GaugeDependenceError where the backward pass runs on concrete
values (lax.linalg.eigh / svd, not jitted, under an un-jitted grad); under a
trace (jit, and jnp.linalg.eigh / svd, which are jitted) it stages
checkify.check, which checkify.checkify reports and which fails to lower
without it. "nan" works everywhere."""

import jax
from jax.experimental import checkify
import jax.numpy as jnp
import numpy as np
import pytest

import jax_patch
from jax_patch import GaugeDependenceError

EIGH_FIRST = (
    "eigh: the gradient of this loss depends on the arbitrary basis chosen "
    "for the eigenvectors of a repeated (or, within "
    "jax_linalg_degeneracy_rtol, nearly repeated) eigenvalue, or on their "
    "complex phases, so it is ill-defined at this point.")
SVD_FIRST = (
    "svd: the gradient of this loss depends on the arbitrary basis chosen "
    "for the singular vectors of a repeated (or, within "
    "jax_linalg_degeneracy_rtol, nearly repeated) or zero singular value, "
    "or on their complex phases, so it is ill-defined at this point.")
# JAX 0.10.2's error for a checkify.check that is lowered unfunctionalized.
NOT_FUNCTIONALIZED = "without functionalizing it through `checkify.checkify`"


@pytest.fixture(autouse=True)
def _installed():
  was = jax_patch.is_installed()
  jax_patch.install()
  yield
  jax.config.update("jax_linalg_gauge_check", "ignore")
  jax.config.update("jax_linalg_degeneracy_rtol", None)
  if not was:
    jax_patch.uninstall()


def _first_sentence(message):
  return message[:message.index(". ") + 1]


def _unitary(rng, n, dtype):
  z = rng.standard_normal((n, n))
  if np.issubdtype(dtype, np.complexfloating):
    z = z + 1j * rng.standard_normal((n, n))
  return np.linalg.qr(z)[0]


def _hermitian(w, dtype=np.float32, seed=0):
  q = _unitary(np.random.default_rng(seed), len(w), dtype)
  return ((q * np.asarray(w)) @ q.conj().T).astype(dtype)


def _with_singular_values(s, shape=None, dtype=np.float32, seed=0):
  m, n = shape or (len(s), len(s))
  rng = np.random.default_rng(seed)
  u, v = (_unitary(rng, d, dtype)[:, :len(s)] for d in (m, n))
  return ((u * np.asarray(s)) @ v.conj().T).astype(dtype)


def _finite(x):
  return all(np.all(np.isfinite(y)) for y in jax.tree.leaves(x))


# lax.linalg.eigh and svd are not jitted: under an un-jitted grad their
# backward pass runs on concrete values. jnp.linalg's are jitted.
def _sum_v(a):
  return jnp.real(jnp.sum(jax.lax.linalg.eigh(a)[0]))


def _sum_v_jnp(a):
  return jnp.real(jnp.sum(jnp.linalg.eigh(a)[1]))


def _projector_loss(k, weights, eigh=jnp.linalg.eigh):
  def loss(a):
    v = eigh(a)[1] if eigh is jnp.linalg.eigh else eigh(a)[0]
    p = v[..., :k] @ jnp.conj(v[..., :k]).mT
    return jnp.real(jnp.sum(jnp.asarray(weights, p.dtype) * p))
  return loss


def _ring(t):
  """-t_i (|i><i+1| + h.c.) on a ring of len(t) sites."""
  n = len(t)
  i = np.arange(n)
  j = (i + 1) % n
  return jnp.zeros((n, n), t.dtype).at[i, j].set(-t).at[j, i].set(-t)


def _band_energy(k, eigh=jax.lax.linalg.eigh):
  """2 sum of the k lowest eigenvalues: k doubly occupied levels."""
  def energy(t):
    w = eigh(_ring(t))[1 if eigh is jax.lax.linalg.eigh else 0]
    return 2 * jnp.sum(w[:k])
  return energy


# eigh, "raise"

@jax_patch.linalg_gauge_check("raise")
def test_eigh_eager_raise_says_what_is_wrong_first():
  a = _hermitian([1., 1., 2.])
  with pytest.raises(GaugeDependenceError) as info:
    jax.grad(_sum_v)(a)
  message = str(info.value)
  assert isinstance(info.value, ValueError)
  assert _first_sentence(message) == EIGH_FIRST
  assert "eigenvectors 0 and 1 (eigenvalues 1 and 1)" in message
  assert "jax_linalg_gauge_check='nan'" in message
  assert len(message) < 600
  assert "undefined" not in message


@jax_patch.linalg_gauge_check("raise")
def test_eigh_checkify_reports_under_jit():
  a = _hermitian([1., 1., 2.])
  err, g = checkify.checkify(jax.jit(jax.grad(_sum_v_jnp)))(a)
  assert err.get().startswith(EIGH_FIRST)
  assert "the first (0, 1)" in err.get()
  with pytest.raises(checkify.JaxRuntimeError, match="ill-defined at this"):
    err.throw()
  # Eager grad through the (jitted) jnp.linalg.eigh is checked the same way.
  err, _ = checkify.checkify(jax.grad(_sum_v_jnp))(a)
  assert err.get().startswith(EIGH_FIRST)
  loss = _projector_loss(2, np.arange(9.).reshape(3, 3))
  err, g = checkify.checkify(jax.jit(jax.grad(loss)))(a)
  assert err.get() is None
  assert _finite(g)


@jax_patch.linalg_gauge_check("raise")
def test_eigh_staged_check_without_checkify_fails_to_lower():
  # JAX's own error, at lowering, before anything runs; for any loss.
  a = _hermitian([1., 2., 3.])
  loss = _projector_loss(2, np.ones((3, 3)))
  with pytest.raises(ValueError, match=NOT_FUNCTIONALIZED):
    jax.jit(jax.grad(loss)).lower(a)
  with pytest.raises(ValueError, match=NOT_FUNCTIONALIZED):
    jax.grad(loss)(a)  # jnp.linalg.eigh is jitted.


@jax_patch.linalg_gauge_check("raise")
def test_eigh_eager_vmap_raises_through_checkify_impl():
  # Under an eager vmap the staged check runs at once.
  a = np.stack([_hermitian([1., 2., 3.]), _hermitian([1., 1., 2.])])
  with pytest.raises(checkify.JaxRuntimeError) as info:
    jax.vmap(jax.grad(_sum_v))(a)
  assert str(info.value).startswith(EIGH_FIRST)


@jax_patch.linalg_gauge_check("raise")
def test_eigh_silent_on_projectors_and_at_first_order_invariant_points():
  a = _hermitian([1., 1., 2.])
  loss = _projector_loss(2, np.arange(9.).reshape(3, 3), jax.lax.linalg.eigh)
  assert _finite(jax.grad(loss)(a))
  # At exactly I, eigh returns V = I and V^T d sum(V)/dV = ones is
  # symmetric: sum(V) is stationary under rotations of the eigenspace there.
  assert _finite(jax.grad(_sum_v)(np.eye(3, dtype=np.float32)))


@jax_patch.linalg_gauge_check("raise")
def test_eigh_band_flags_nearly_degenerate_pairs():
  x64 = jax.config.jax_enable_x64
  dtype = np.float64 if x64 else np.float32
  a = _hermitian([1., 1. + (1e-9 if x64 else 1e-5), 2.], dtype)
  loss = _projector_loss(2, np.arange(9.).reshape(3, 3), jax.lax.linalg.eigh)
  assert _finite(jax.grad(_sum_v)(a))  # A gap above the ties: no flag.
  with jax_patch.linalg_degeneracy_rtol("sqrt_eps"):
    assert _finite(jax.grad(loss)(a))
    with pytest.raises(GaugeDependenceError, match="eigenvectors 0 and 1"):
      jax.grad(_sum_v)(a)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@jax_patch.linalg_gauge_check("raise")
def test_eigh_complex_phase(dtype):
  # Eigenvector phases are arbitrary: Im(sum(V)) depends on them (even with
  # distinct eigenvalues), sum(|V|^2 c) does not.
  a = _hermitian([1., 2., 3.], dtype)
  phase_free = lambda a: jnp.sum(
      jnp.abs(jax.lax.linalg.eigh(a)[0]) ** 2
      * jnp.arange(3, dtype=a.real.dtype)[None, :])
  assert _finite(jax.grad(phase_free)(a))
  phased = lambda a: jnp.imag(jnp.sum(jax.lax.linalg.eigh(a)[0]))
  with pytest.raises(GaugeDependenceError, match="the phase of eigenvector"):
    jax.grad(phased)(a)


# eigh, eigenvalue cotangents within a cluster

def test_ring_at_half_filling():
  # A 12-site ring, -2 cos(2 pi k / 12): levels -2, -sqrt(3) (x2), -1 (x2),
  # 0 (x2), 1 (x2), sqrt(3) (x2), 2. Filling 5 or 7 levels fills whole
  # shells; 6 cuts the degenerate shell at 0, and its gradient with
  # respect to the bonds then depends on the basis eigh picked there.
  t = np.ones(12, np.float32)
  for k in (5, 7):
    with jax_patch.linalg_gauge_check("raise"):
      g = jax.grad(_band_energy(k))(t)
    np.testing.assert_allclose(g, np.full(12, g.mean()), rtol=1e-5)
  with jax_patch.linalg_gauge_check("raise"):
    with pytest.raises(GaugeDependenceError,
                       match=r"eigenvalues 5 and 6 \(.*\) weighted "):
      jax.grad(_band_energy(6))(t)
  with jax_patch.linalg_gauge_check("nan"):
    energy = _band_energy(6, jnp.linalg.eigh)
    assert np.all(np.isnan(jax.jit(jax.grad(energy))(t)))
    closed = _band_energy(5, jnp.linalg.eigh)
    assert _finite(jax.jit(jax.grad(closed))(t))
    # One ring per batch element, under jit and vmap: only the cut one.
    batch = np.stack([t, 1 + np.arange(12, dtype=np.float32) / 12])
    g = jax.jit(jax.vmap(jax.grad(energy)))(batch)
    assert np.all(np.isnan(g[0])) and _finite(g[1])


# eigh, "nan" and the option

@jax_patch.linalg_gauge_check("nan")
def test_eigh_nan_only_in_affected_batch_elements():
  a = np.stack([_hermitian([1., 1., 2.]), _hermitian([1., 2., 3.])])
  for f in (jax.vmap(jax.grad(_sum_v_jnp)),
            jax.jit(jax.vmap(jax.grad(_sum_v_jnp)))):
    g = f(a)
    assert np.all(np.isnan(g[0])) and _finite(g[1])
  loss = _projector_loss(2, np.ones((3, 3)))
  assert _finite(jax.jit(jax.vmap(jax.grad(loss)))(a))


def test_forward_mode_is_not_checked():
  # Forward mode never sees the loss: the check is reverse-mode only.
  a = _hermitian([1., 1., 2.])
  with jax_patch.linalg_gauge_check("nan"):
    assert _finite(jax.jacfwd(_sum_v_jnp)(a))
    assert np.any(np.isnan(jax.jacrev(_sum_v_jnp)(a)))


def test_bad_mode_raises():
  with pytest.raises(ValueError):
    jax.config.update("jax_linalg_gauge_check", "sometimes")


def test_mode_is_part_of_the_jit_key():
  a = _hermitian([1., 1., 2.])
  f = jax.jit(jax.grad(_sum_v_jnp))
  assert _finite(f(a))
  with jax_patch.linalg_gauge_check("nan"):
    assert np.all(np.isnan(f(a)[:2]))
  assert _finite(f(a))
  g = jax.jit(jax.grad(lambda a: jnp.sum(jnp.linalg.svd(a)[0])))
  assert _finite(g(a))
  with jax_patch.linalg_gauge_check("nan"):
    assert np.all(np.isnan(g(a)))


# svd

def _svd(a, full_matrices=False):
  return jax.lax.linalg.svd(a, full_matrices=full_matrices)


@jax_patch.linalg_gauge_check("raise")
def test_svd_eager_raise_says_what_is_wrong_first():
  a = _with_singular_values([2., 2., 1.])
  sum_u = lambda a: jnp.sum(_svd(a)[0])
  with pytest.raises(GaugeDependenceError) as info:
    jax.grad(sum_u)(a)
  message = str(info.value)
  assert _first_sentence(message) == SVD_FIRST
  assert "singular values 0 and 1 (2 and 2)" in message
  assert len(message) < 600
  err, _ = checkify.checkify(jax.jit(jax.grad(
      lambda a: jnp.sum(jnp.linalg.svd(a)[0]))))(a)
  assert err.get().startswith(SVD_FIRST)
  assert "the first (0, 1)" in err.get()


@jax_patch.linalg_gauge_check("raise")
def test_svd_silent_on_invariant_losses():
  rng = np.random.default_rng(1)
  for dtype in (np.float32, np.complex64):
    a = _with_singular_values([2., 2., 1., 0.], (5, 4), dtype)
    w5, w4, w = (rng.standard_normal(s).astype(np.float32)
                 for s in ((5, 5), (4, 4), (5, 4)))
    def left_projector(a):
      u = jnp.linalg.svd(a, full_matrices=False)[0][:, :3]
      return jnp.real(jnp.sum(w5 * (u @ jnp.conj(u).T)))
    def right_projector(a):
      vh = jnp.linalg.svd(a, full_matrices=False)[2][:2]
      return jnp.real(jnp.sum(w4 * (jnp.conj(vh).T @ vh)))
    def top_polar(a):  # U_3 V_3^H, above the zero singular value.
      u, _, vh = jnp.linalg.svd(a, full_matrices=False)
      return jnp.real(jnp.sum(w * (u[:, :3] @ vh[:3])))
    squares = lambda a: jnp.sum(jnp.linalg.svd(a, compute_uv=False) ** 2)
    for loss in (left_projector, right_projector, top_polar, squares):
      err, g = checkify.checkify(jax.jit(jax.grad(loss)))(a)
      assert err.get() is None, loss
      assert _finite(g)


def test_svd_nuclear_norm_at_zero_singular_values():
  # sum(s) has the basis-dependent subgradient U V^H at a rank-deficient
  # matrix (its u_i v_i^H for s_i = 0 is arbitrary); sum(s**2) is smooth.
  a = _with_singular_values([3., 2., 0.], (5, 4))
  nuclear = lambda a: jnp.sum(jax.lax.linalg.svd(a, compute_uv=False))
  squares = lambda a: jnp.sum(jax.lax.linalg.svd(a, compute_uv=False) ** 2)
  with jax_patch.linalg_gauge_check("raise"):
    with pytest.raises(GaugeDependenceError, match="zero singular value 2"):
      jax.grad(nuclear)(a)
    assert _finite(jax.grad(squares)(a))
    err, _ = checkify.checkify(jax.jit(jax.grad(
        lambda a: jnp.linalg.norm(a, "nuc"))))(a)
    assert err.get().startswith(SVD_FIRST)
  with jax_patch.linalg_gauge_check("nan"):
    nuclear_jnp = lambda a: jnp.linalg.norm(a, "nuc")
    assert np.all(np.isnan(jax.jit(jax.grad(nuclear_jnp))(a)))
    assert _finite(jax.jit(jax.grad(squares))(a))
    full_rank = _with_singular_values([3., 2., 1., .5], (5, 4))
    g = jax.jit(jax.vmap(jax.grad(nuclear_jnp)))(np.stack([a, full_rank]))
    assert np.all(np.isnan(g[0])) and _finite(g[1])


@jax_patch.linalg_gauge_check("raise")
def test_svd_unequal_weights_within_a_cluster():
  a = _with_singular_values([2., 2., 1.])
  s = lambda a: jax.lax.linalg.svd(a, compute_uv=False)
  with pytest.raises(GaugeDependenceError, match="singular values 0 and 1"):
    jax.grad(lambda a: s(a)[0])(a)
  assert _finite(jax.grad(lambda a: jnp.sum(s(a) * np.array([1., 1., 3.])))(a))


@jax_patch.linalg_gauge_check("nan")
def test_svd_nan_only_in_affected_batch_elements():
  a = np.stack([_with_singular_values([2., 2., 1.]),
                _with_singular_values([3., 2., 1.])])
  sum_u = lambda a: jnp.sum(jnp.linalg.svd(a)[0])
  g = jax.jit(jax.vmap(jax.grad(sum_u)))(a)
  assert np.all(np.isnan(g[0])) and _finite(g[1])
  polar = lambda a: jnp.sum((lambda u, s, vh: u @ vh)(*jnp.linalg.svd(a)))
  assert _finite(jax.vmap(jax.grad(polar))(a))


@jax_patch.linalg_gauge_check("raise")
def test_svd_batch_index_in_message():
  a = np.stack([_with_singular_values([3., 2., 1.]),
                _with_singular_values([2., 2., 1.])])
  with pytest.raises(GaugeDependenceError,
                     match=r"batch index \(1,\): singular values 0 and"):
    jax.grad(lambda a: jnp.sum(_svd(a)[0]))(a)


@jax_patch.linalg_gauge_check("raise")
def test_svd_complex_joint_phase():
  # The phases of u_i and v_i are arbitrary (jointly): Im(sum(U)) depends on
  # them even with distinct singular values; |U|^2 and U V^H do not.
  a = _with_singular_values([3., 2., 1.], dtype=np.complex64)
  weights = np.arange(3.)[None, :].astype(np.float32)
  phase_free = lambda a: jnp.sum(jnp.abs(_svd(a)[0]) ** 2 * weights)
  assert _finite(jax.grad(phase_free)(a))
  polar = lambda a: jnp.real(jnp.sum((lambda u, s, vh: u @ vh)(*_svd(a))))
  assert _finite(jax.grad(polar)(a))
  phased = lambda a: jnp.imag(jnp.sum(_svd(a)[0]))
  with pytest.raises(GaugeDependenceError, match="joint phase"):
    jax.grad(phased)(a)


@jax_patch.linalg_gauge_check("raise")
def test_svd_null_space_rotations():
  # A singular vector of a zero singular value can turn into the complement
  # of a reduced U; the complement of a full U has no preferred basis.
  a = _with_singular_values([3., 2., 0.], (5, 3))
  last_u = lambda a: jnp.sum(_svd(a)[0][:, 2])
  with pytest.raises(GaugeDependenceError, match="zero singular value 2"):
    jax.grad(last_u)(a)
  full_u = lambda a: jnp.sum(_svd(a, full_matrices=True)[0][:, 4])
  with pytest.raises(GaugeDependenceError,
                     match="basis of the null-space complement"):
    jax.grad(full_u)(_with_singular_values([3., 2., 1.], (5, 3)))


def test_nan_flags_matrix_function_through_eigh():
  # V exp(Λ) V^T through eigh at a repeated eigenvalue: its first derivative
  # needs the whole block V_D^T dA V_D, which the rule does not give (the
  # README's Limits). Its eigenvalue cotangents differ within the cluster,
  # so 'nan' flags it; a symmetric function of the eigenvalues, whose
  # cotangents are equal there, stays finite.
  a = _hermitian([1., 1., 2., 3., 3., 3.], np.float64)
  weights = np.random.default_rng(1).standard_normal((6, 6))
  def expm(x):
    w, v = jnp.linalg.eigh(x)
    return jnp.sum(weights * ((v * jnp.exp(w)) @ v.T))
  trace_exp = lambda x: jnp.sum(jnp.exp(jnp.linalg.eigh(x)[0]))
  assert np.all(np.isfinite(jax.grad(expm)(a)))  # 'ignore'
  with jax_patch.linalg_gauge_check("nan"):
    assert np.any(np.isnan(jax.grad(expm)(a)))
    assert np.all(np.isfinite(jax.grad(trace_exp)(a)))

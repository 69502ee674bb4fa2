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

"""The small profile of the fuzz campaign (tests/fuzz_campaign.py), the
checks of its oracles, and the benzene table of issue 9. The eig group
(general matrices, jax.lax.linalg.eig with enable_eigvec_derivs=True) has
its own strategies, oracle checks and groups at the end.

The campaign's checks run on a few fixed shapes here (JAX compiles once per
shape, dtype and setting of jax_linalg_degeneracy_rtol), with the
near-degenerate band (the campaign's targets at every splitting) and with
the default, ties only (its targets at exact degeneracy, and the stock rule
above ties); the local profile, `python3 tests/fuzz_campaign.py
--examples 10000 [--degeneracy-rtol none]`, draws every shape. Hypothesis
is derandomized (the same examples on every run) with no deadline, and
shrinks a failing example.
"""

import contextlib
import dataclasses
import os
import sys

import hypothesis
from hypothesis import strategies as st
import numpy as np
import pytest
import scipy.linalg

# realpath: Bazel runs this file from its runfiles tree, which holds only it.
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

import benzene_table  # noqa: E402
import fuzz_campaign as campaign  # noqa: E402
import fuzz_oracles as oracles  # noqa: E402
import fuzz_strategies as strategies  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax_patch  # noqa: E402
from jax._src.lax import linalg as lax_linalg  # noqa: E402
from jax_patch import monkeypatch  # noqa: E402
from jax_patch._src import compat  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def _installed():
  # Installed once for the module: run_checks and benzene_table.rows() are
  # then inside their own patched() without clearing JAX's caches, so each
  # shape compiles once, not once per example.
  with jax_patch.patched():
    yield


# CI runs the suite several ways (Bazel, Python 3.13); the repeats scale the
# number of examples down with JAX_PATCH_FUZZ_SCALE (the README's run uses 1).
_SCALE = float(os.environ.get("JAX_PATCH_FUZZ_SCALE", "1"))


def _settings(max_examples):
  return hypothesis.settings(max_examples=max(1, round(max_examples * _SCALE)),
                             derandomize=True, database=None, deadline=None)


def _complex_dtypes(dtype):
  return strategies.is_complex(dtype)


# jax_linalg_degeneracy_rtol of the campaign's near-degenerate targets; the
# other setting checked here is None, the default (ties only).
BAND = "sqrt_eps"


# The strategies.

@_settings(200)
@hypothesis.given(st.integers(1, strategies.MAX_N).flatmap(
    lambda n: strategies.spectra(n, np.float32)))
def test_spectra_have_the_documented_structure(spec):
  nu, cluster = strategies.normalized_eigenvalues(spec)
  assert len(nu) == spec.n and np.all(np.diff(nu) >= 0)
  k = len(spec.sizes)
  if k > 1:
    assert nu[0] == 0 and abs(nu[-1] - 1) < 1e-12
  for c in range(k):
    steps = np.diff(nu[cluster == c])
    delta = spec.splittings[c]
    assert np.all(steps >= delta * (1 - 1e-9) - 1e-16)
    assert np.all(steps <= 2 * delta * (1 + 1e-9) + 1e-16)
  for c in range(k - 1):
    gap = nu[cluster == c + 1][0] - nu[cluster == c][-1]
    assert gap >= strategies.MIN_GAP * (1 - 1e-12)


@_settings(30)
@hypothesis.given(strategies.spectral_examples(sizes=(1, 4, 9)))
def test_built_matrices_have_the_known_eigenbasis(example):
  for m in strategies.build_spectral(example):
    a = strategies.from_eigenbasis(m.q, m.lam)
    assert np.allclose(m.q.conj().T @ m.q, np.eye(len(m.lam)), atol=1e-13)
    np.testing.assert_allclose(np.linalg.eigvalsh(a), m.lam, rtol=0,
                               atol=1e-13 * np.max(np.abs(m.lam)))
    assert m.a.dtype == example.dtype and m.e.dtype == example.dtype
    np.testing.assert_array_equal(m.e, m.e.conj().T)


# The oracles, against central differences of NumPy / SciPy in float64 and
# against each other (gradient = transpose of the tangent).

def _hermitian_direction(rng, n, complex_):
  return strategies.random_hermitian(rng, n, complex_)


@_settings(40)
@hypothesis.given(strategies.spectral_examples(
    dtypes=(np.float64, np.complex128), sizes=(2, 5, 8), batch_shapes=((),)))
def test_projector_oracle_matches_central_differences(example):
  m, = strategies.build_spectral(example)
  hypothesis.assume(m.proj_mask is not None)
  a = strategies.from_eigenbasis(m.q, m.lam)
  e = m.e.astype(a.dtype) * m.spec.scale
  order = np.argsort(m.lam, kind="stable")
  occupied = m.proj_mask[order].astype(bool)
  def projector(x):
    _, v = np.linalg.eigh(x)
    return (v * occupied) @ v.conj().T
  # Steps of 1e-4 of the smallest gap between clusters, MIN_GAP * scale:
  # truncation (h / gap)^4 = 1e-16, rounding eps / (h / spread) < 1e-9.
  h = 1e-4 * strategies.MIN_GAP
  fd = oracles.central_difference(projector, a, e, h)
  ref = oracles.projector_tangent(m.q, m.lam, m.proj_mask, e)
  np.testing.assert_allclose(fd, ref, rtol=0,
                             atol=1e-6 * np.linalg.norm(ref))


@_settings(40)
@hypothesis.given(strategies.spectral_examples(
    dtypes=(np.float64, np.complex128), sizes=(1, 3, 6), batch_shapes=((),)),
    st.sampled_from(campaign.MATFUNS))
def test_frechet_oracle_matches_scipy_central_differences(example, name):
  m, = strategies.build_spectral(example)
  lam = {"expm": m.lam_exp, "funm_tanh": m.lam_tanh}.get(name, m.lam_pd)
  a = strategies.from_eigenbasis(m.q, lam)
  unit = np.max(np.abs(lam)) or 1.0
  e = m.e.astype(a.dtype) * unit
  f = oracles.scipy_matrix_function(name)
  dd = oracles.divided_differences(oracles.FUNCTIONS[name], lam)
  ref = oracles.frechet_tangent(dd, m.q, e)
  # Rounding A moves f(A) by about eps |f'(λ) λ|, which log(1) = 0 shows.
  size = np.linalg.norm(f(a)) + np.linalg.norm(np.diagonal(dd) * lam)
  np.testing.assert_allclose(oracles.matrix_function(oracles.FUNCTIONS[name],
                                                     m.q, lam), f(a),
                             rtol=0, atol=1e-10 * size)
  # The functions vary on the scale of min|λ| (log, sqrt, power) or 1
  # (exp, tanh): steps of 1e-3 of it make truncation about 1e-12.
  h = 1e-3 * (np.min(np.abs(lam)) if name in ("logm", "sqrtm", "powm")
              else 1.0) / unit
  fd = oracles.central_difference(f, a, e, h)
  np.testing.assert_allclose(fd, ref, rtol=0,
                             atol=1e-6 * np.linalg.norm(ref))


@_settings(40)
@hypothesis.given(strategies.spectral_examples(
    dtypes=(np.float64, np.complex128), sizes=(1, 4, 7), batch_shapes=((),)),
    st.integers(0, 2**32 - 1))
def test_gradient_oracles_are_transposes_of_the_tangents(example, seed):
  m, = strategies.build_spectral(example)
  complex_ = _complex_dtypes(example.dtype)
  rng = np.random.default_rng(seed)
  n = len(m.lam)
  e = strategies.random_matrix(rng, (n, n), complex_)  # Not Hermitian.
  eh = oracles.hermitian_part(e)
  w = m.w.astype(np.complex128)
  def check(grad, tangent):
    lhs = np.real(np.sum(grad * e))
    rhs = np.real(tangent)
    assert abs(lhs - rhs) <= 1e-11 * np.linalg.norm(grad) * np.linalg.norm(e)
  if m.proj_mask is not None:
    check(oracles.projector_gradient(m.q, m.lam, m.proj_mask, w),
          np.sum(w * oracles.projector_tangent(m.q, m.lam, m.proj_mask, eh)))
  sums = oracles.cluster_sums_tangent(m.q, m.cluster, eh)
  c = m.cluster_weights
  check(oracles.weighted_eigenvalue_sum_gradient(m.q, c),
        np.sum(np.bincount(m.cluster, weights=c) / np.bincount(m.cluster)
               * sums))
  dd = oracles.divided_differences(oracles.FUNCTIONS["expm"], m.lam_exp)
  check(oracles.frechet_gradient(dd, m.q, w),
        np.sum(w * oracles.frechet_tangent(dd, m.q, eh)))
  # The stock rule, at eigenpairs with distinct eigenvalues.
  lam = np.arange(n) + 0.5 * rng.uniform(size=n)
  dw, dv = oracles.stock_eigh_tangent(lam, m.q, eh)
  check(oracles.stock_eigh_gradient(lam, m.q, w, c), np.sum(w * dv)
        + np.sum(c * dw))


@pytest.mark.parametrize("complex_", [False, True])
def test_gauge_violation_oracle_is_the_rate_of_change_of_the_loss(complex_):
  # L(V exp(t K)) for K skew-Hermitian on one pair, by central differences.
  rng = np.random.default_rng(3)
  n, k = 5, 2
  v = strategies.random_unitary(rng, n, complex_)
  w = strategies.random_matrix(rng, (n, n), complex_)
  mask = (np.arange(n) < k).astype(np.float64)
  loss = lambda u: np.real(np.sum(w * ((u * mask) @ u.conj().T)))
  viol = oracles.projector_gauge_violation(v, w, mask)
  c = v.T @ (w + w.conj().T) @ v.conj() * mask
  for i, j in [(0, 1), (0, 2), (1, 4), (3, 4)]:
    rates = []
    for z in (1, 1j) if complex_ else (1,):
      k_ = np.zeros((n, n), complex)
      k_[i, j], k_[j, i] = z, -np.conj(z)
      rot = lambda t: v @ scipy.linalg.expm(t * k_)
      rates.append((loss(rot(1e-5)) - loss(rot(-1e-5))) / 2e-5)
    np.testing.assert_allclose(np.hypot(*rates) if complex_ else abs(
        rates[0]), viol[i, j] * np.max(np.abs(c)), rtol=1e-7, atol=1e-9)
  # Pairs on one side of the cut do not change the projector.
  assert viol[0, 1] < 1e-14 and viol[3, 4] < 1e-14


@_settings(30)
@hypothesis.given(strategies.sylvester_examples(
    dtypes=(np.float64, np.complex128), schur_sizes=(1, 3, 6),
    eigh_sizes=(2, 5), batch_shapes=((),)), st.integers(0, 2**32 - 1))
def test_sylvester_oracles(example, seed):
  m, = strategies.build_sylvester(example)
  a, b, c, da, db, dc, w = (x.astype(np.complex128) for x in (
      m.a, m.b, m.c, m.da, m.db, m.dc, m.w))
  x = oracles.solve_sylvester(a, b, c)
  np.testing.assert_allclose(a @ x + x @ b, c, rtol=0,
                             atol=1e-12 * np.linalg.norm(c))
  solve = lambda t: oracles.solve_sylvester(a + t * da, b + t * db,
                                            c + t * dc)
  scale = np.linalg.norm(a) + np.linalg.norm(b)
  dx = oracles.sylvester_tangent(a, b, x, da, db, dc)
  fd = oracles.central_difference(solve, 0.0, 1.0, 1e-4 * scale
                                  / (np.linalg.norm(da) + np.linalg.norm(db)))
  np.testing.assert_allclose(fd, dx, rtol=0, atol=1e-7 * np.linalg.norm(dx))
  hermitian = example.method == "eigh"
  ga, gb, gc = oracles.sylvester_gradient(a, b, x, w, hermitian=hermitian)
  rng = np.random.default_rng(seed)
  complex_ = _complex_dtypes(example.dtype)
  ea, eb, ec = (strategies.random_matrix(rng, a.shape, complex_)
                for _ in range(3))
  if hermitian:  # The method reads the Hermitian parts of A and B.
    t = oracles.sylvester_tangent(a, b, x, oracles.hermitian_part(ea),
                                  oracles.hermitian_part(eb), ec)
  else:
    t = oracles.sylvester_tangent(a, b, x, ea, eb, ec)
  lhs = np.real(np.sum(ga * ea) + np.sum(gb * eb) + np.sum(gc * ec))
  assert abs(lhs - np.real(np.sum(w * t))) <= 1e-10 * np.linalg.norm(
      w) * np.linalg.norm(t)


def test_sylvester_oracle_casts_to_one_dtype():
  # SciPy 1.17 solves a complex a with a real b whose eigenvalues are
  # complex wrongly, without warning; the oracle casts both to complex.
  rng = np.random.default_rng(0)
  a = rng.standard_normal((4, 4)) + 1j * rng.standard_normal((4, 4)) + 6
  b = np.array([[1.0, -3.0, 0, 0], [3.0, 1.0, 0, 0], [0, 0, 2.0, 0],
                [0, 0, 0, 5.0]])
  c = rng.standard_normal((4, 4))
  x = oracles.solve_sylvester(a, b, c)
  np.testing.assert_allclose(a @ x + x @ b, c, atol=1e-12)


# The campaign's checks on a few shapes (the small profile).

SPECTRAL_GROUPS = [
    (np.float32, 6, ()),
    (np.float64, 7, ()),
    (np.complex64, 5, (3,)),
    (np.complex128, 4, (2, 2)),
]


def _assert_no_misses(tally):
  assert tally.total_checks > 0
  assert not tally.failures(), (
      "\n" + campaign.format_worst(tally) + "\n" + campaign.format_table(tally))


@pytest.mark.parametrize("dtype,n,batch", SPECTRAL_GROUPS,
                         ids=lambda x: getattr(x, "__name__", str(x)))
def test_spectral_checks(dtype, n, batch):
  @_settings(25)
  @hypothesis.given(strategies.spectral_examples(
      dtypes=(dtype,), sizes=(n,), batch_shapes=(batch,)))
  def check(example):
    _assert_no_misses(campaign.run_checks([example], degeneracy_rtol=BAND,
                                          chunk=None))
  check()


# With the default, ties only: the campaign's claim at exact degeneracy.

@st.composite
def _exact_or_no_clusters(draw, dtype, n, batch):
  """spectral_examples whose members have exactly degenerate clusters
  (every δ = 0) or no cluster, about half each."""
  example = draw(strategies.spectral_examples(
      dtypes=(dtype,), sizes=(n,), batch_shapes=(batch,)))
  members = []
  for spec in example.members:
    if draw(st.booleans()):
      spec = dataclasses.replace(spec, splittings=(0.0,) * len(spec.sizes))
    else:
      spec = dataclasses.replace(
          spec, sizes=(1,) * n, splittings=(0.0,) * n,
          gap_weights=tuple(draw(st.floats(1e-3, 1.0)) for _ in range(n - 1)))
    members.append(spec)
  return dataclasses.replace(example, members=tuple(members))


# What the campaign claims with the default: everything at exact
# degeneracy, and the stock rule wherever the eigenvalues are distinct.
DEFAULT_CLAIMS = (*campaign.INVARIANT_CHECKS,
                  *(f"{f} {m}" for f in campaign.MATFUNS
                    for m in ("fwd", "rev")),
                  "stock rule fwd (generic)", "stock rule rev (generic)")


# Two of the groups, single and double precision, real and complex, with and
# without a batch: each setting compiles the bundle once per shape, and the
# local profile runs every shape with --degeneracy-rtol none.
@pytest.mark.parametrize("dtype,n,batch", SPECTRAL_GROUPS[1:3],
                         ids=lambda x: getattr(x, "__name__", str(x)))
def test_spectral_checks_at_exact_degeneracy_with_defaults(dtype, n, batch):
  examples = campaign.draw_examples(
      _exact_or_no_clusters(dtype, n, batch), 16, seed=0)
  tally = campaign.run_checks(examples, degeneracy_rtol=None, chunk=None)
  _assert_no_misses(tally)
  dt = np.dtype(dtype).name
  for check in DEFAULT_CLAIMS:
    assert tally.stats[check, dt].checks > 0, check
  assert all(campaign.claimed(check) for check, _ in tally.stats)
  assert {b for b, _ in tally.by_splitting} == {"δ = 0", "no cluster"}


@st.composite
def _split_above_ties(draw, n):
  """A spectrum with at least one cluster, split by δ in [1e-9, 1e-6]."""
  spec = draw(strategies.spectra(n, np.float64))
  hypothesis.assume(max(spec.sizes) > 1)
  return dataclasses.replace(spec, splittings=tuple(
      draw(st.floats(-9, -6).map(lambda e: 10.0 ** e)) if m > 1 else 0.0
      for m in spec.sizes))


@jax.jit
def _eigh_jvp_and_grad(a, e, wv, cw):
  def loss(x):
    lam, v = jnp.linalg.eigh(x)
    return jnp.real(jnp.sum(wv * v)) + jnp.sum(cw * lam)
  primals, tangents = jax.jvp(jnp.linalg.eigh, (a,), (e,))
  return primals, tangents, jax.grad(loss)(a)


@_settings(25)
@hypothesis.given(_split_above_ties(6), st.sampled_from((np.float64,
                                                         np.complex128)))
def test_defaults_equal_the_stock_rule_above_ties(spec, dtype):
  # Issue 22: with the default every first derivative is the stock rule's
  # once two eigenvalues are distinct to working precision, however close.
  # Here the closest pairs are 1e-9 to 2e-6 apart (of the spread, or of
  # the scale for a single cluster), at least 3e4 times the ties threshold
  # 16 sqrt(n) eps max|w|, and 40% of them inside the band sqrt(eps) spread
  # that the option would zero.
  m = strategies.build_member(spec, dtype)
  cw = m.cluster_weights
  with jax_patch.linalg_degeneracy_rtol(None), jax.enable_x64(True):
    (w, v), (dw, dv), grad = (jax.tree.map(np.asarray, x) for x in
                              _eigh_jvp_and_grad(m.a, m.e, m.w, cw))
  gap = np.min(np.diff(w))
  assert gap > 1e3 * oracles.degeneracy_tolerance(w, dtype, None)
  # Both sides compute K = V^H E V in float64, in different orders: with V
  # unitary its entries differ by a few n eps |E|. The gaps are differences
  # of the same floats (exact for close pairs, by Sterbenz), so in
  # V' = V (F o K), F_ij = 1 / (w_j - w_i), that is at most a few
  # n eps |E| / gap, and the divisions and the products with V add a few
  # n eps |V'|. The tolerance is 8 n eps times both (measured: the errors
  # stay below 2% of it), about 1e-14 of the derivative, where zeroing one
  # pair (as the band does) changes it by O(1). Reverse mode is the
  # transpose, with V^T Wv in place of K and the eigenvalue weights cw on
  # the diagonal.
  tol = 8 * len(w) * np.finfo(np.float64).eps
  ref_dw, ref_dv = oracles.stock_eigh_tangent(w, v, m.e)
  ref_grad = oracles.stock_eigh_gradient(w, v, m.w, cw.astype(dtype))
  norm = np.linalg.norm
  assert norm(dw - ref_dw) <= tol * norm(m.e)
  assert norm(dv - ref_dv) <= tol * (norm(m.e) / gap + norm(ref_dv))
  assert norm(grad - ref_grad) <= tol * (norm(m.w) / gap + norm(cw)
                                         + norm(ref_grad))


def test_spectral_checks_vmapped_chunks():
  # The local profile's path: examples of one shape stacked under vmap.
  examples = campaign.draw_examples(strategies.spectral_examples(
      dtypes=(np.float64,), sizes=(3,), batch_shapes=((),)), 12, seed=0)
  tally = campaign.run_checks(examples, degeneracy_rtol=BAND, chunk=8)
  _assert_no_misses(tally)
  assert sum(tally.examples.values()) == 12


@pytest.mark.parametrize("dtype,method,n", [
    (np.float64, "schur", 3), (np.complex64, "eigh", 4)],
    ids=lambda x: getattr(x, "__name__", str(x)))
def test_sylvester_checks(dtype, method, n):
  @_settings(10)
  @hypothesis.given(strategies.sylvester_examples(
      dtypes=(dtype,), methods=(method,), schur_sizes=(n,), eigh_sizes=(n,),
      batch_shapes=((),)))
  def check(example):
    _assert_no_misses(campaign.run_checks([example], degeneracy_rtol=BAND,
                                          chunk=None))
  check()


@contextlib.contextmanager
def _stock_jvp_rule(name):
  """Inside patched(): the stock JVP rule `name` (of jax._src.lax.linalg)
  in place of the patched one. install(), which run_checks calls through
  patched(), checks that the registered rule is jax._src.lax.linalg's:
  swap both."""
  registry, rules = compat.jvp_registry()
  prim = rules[name]
  stock, = [old for target, key, old in monkeypatch._saved
            if target is registry and key is prim]
  patched_rule = registry[prim]
  registry[prim] = stock
  setattr(lax_linalg, name, stock)
  jax.clear_caches()
  try:
    yield
  finally:
    registry[prim] = patched_rule
    setattr(lax_linalg, name, patched_rule)
    jax.clear_caches()


def test_the_campaign_catches_the_stock_rule():
  # Not a check that cannot fail: with the stock eigh JVP swapped back in
  # (patched matrix functions kept), the projector checks of an exactly
  # degenerate example are NaN or wrong, and the campaign counts them.
  example = strategies.SpectralExample(
      dtype=np.float64, batch=(), members=(strategies.Spectrum(
          sizes=(2, 1, 3), splittings=(0.0, 0.0, 1e-13),
          gap_weights=(0.5, 0.3), scale=2.0, shift=-0.5, offset=1.0,
          exp_scale=1.0, seed=1),))
  with jax_patch.patched(), _stock_jvp_rule("_eigh_jvp_rule"):
    tally = campaign.run_checks([example], degeneracy_rtol=BAND, chunk=None)
  stats = {k[0]: s for k, s in tally.stats.items()}
  assert stats["projector fwd"].misses == 1
  assert stats["projector rev"].misses == 1
  assert stats["expm fwd"].misses == 0  # Not an eigh JVP.
  _assert_no_misses(campaign.run_checks([example], degeneracy_rtol=BAND,
                                        chunk=None))


# The benzene table of issue 9, under both settings (issue 22).

@pytest.mark.parametrize("degeneracy_rtol", [None, BAND])
def test_benzene_table(degeneracy_rtol):
  table = benzene_table.rows(degeneracy_rtol=degeneracy_rtol)
  assert [r[0] for r in table] == list(benzene_table.DELTAS)
  # Ties (16 sqrt(6) eps max|w| = 1.7e-14) and the band (6e-8).
  edge = 1e-14 if degeneracy_rtol is None else 1e-8
  eps = np.finfo(np.float64).eps
  for row in table:
    delta, fd, pt, rev, fwd = row
    assert benzene_table.degenerate(delta, degeneracy_rtol) == (
        delta <= edge), delta
    # The value at δ = 0, to its 9 digits; it moves by about δ / 2.
    assert abs(fd - 2.035494228) < 1e-9 + delta, delta
    assert abs(pt - fd) <= 1e-9 * abs(fd), delta
    if benzene_table.claimed(delta, degeneracy_rtol):
      assert benzene_table.error(row) <= benzene_table.TOLERANCE, delta
    else:
      # The default's price for this loss: the stock coefficients K_ij / δ
      # of the pair cancel in the projector only to about eps |K| / δ
      # (measured: 0.04 to 0.8 eps / δ relative).
      assert benzene_table.error(row) <= 4 * eps / delta, delta


# The eig group: general matrices A = X diag(λ) X^-1.

@_settings(60)
@hypothesis.given(st.integers(2, strategies.EIG_MAX_N).flatmap(
    lambda n: st.tuples(st.sampled_from(strategies.DTYPES)).flatmap(
        lambda d: st.tuples(st.just(d[0]), strategies.eig_spectra(n, d[0])))))
def test_eig_members_have_the_known_eigenbasis(dtype_spec):
  dtype, spec = dtype_spec
  m = strategies.build_eig_member(spec, dtype)
  n = spec.n
  assert m.a.dtype == dtype and m.x.shape == (n, n) and len(m.lam) == n
  a = m.a.astype(np.complex128)
  # X diag(λ) X^-1 is A up to the rounding of A to the dtype.
  scale = np.linalg.norm(a)
  eps = np.finfo(dtype).eps
  np.testing.assert_allclose((m.x * m.lam) @ m.x_inv, a, rtol=0,
                             atol=4 * eps * scale + 1e-300)
  np.testing.assert_allclose(np.linalg.cond(m.x), 10.0 ** spec.log_cond,
                             rtol=1e-6)
  assert max(spec.sizes) <= n // 2 + 1
  if not strategies.is_complex(dtype):   # Real A: conjugate pairs.
    np.testing.assert_allclose(np.sort_complex(m.lam),
                               np.sort_complex(m.lam.conj()), rtol=0,
                               atol=1e-12 * np.max(np.abs(m.lam)))
  # Clusters EIG_MIN_GAP / (2 sqrt 2) of the spread apart or more.
  centres = np.array([np.mean(m.lam[m.cluster == c])
                      for c in np.unique(m.cluster)])
  spread = np.max(np.abs(centres[:, None] - centres[None, :]))
  if len(centres) > 1:
    dist = np.abs(centres[:, None] - centres[None, :])
    assert np.min(dist[dist > 0]) >= (strategies.EIG_MIN_GAP * spread
                                      / (2 * np.sqrt(2)) * 0.99)
  if m.radius >= 0:
    sel = np.abs(m.lam - m.centre) <= m.radius
    np.testing.assert_array_equal(sel, m.mask > 0)
    assert 0 < m.mask.sum() < n


def _scipy_eig_projector(a, centre, radius):
  lam, v = scipy.linalg.eig(a)
  sel = np.abs(lam - centre) <= radius
  return (v * sel) @ np.linalg.inv(v)


@_settings(30)
@hypothesis.given(strategies.eig_examples(
    dtypes=(np.float64, np.complex128), sizes=(2, 5, 8), batch_shapes=((),)))
def test_eig_projector_oracle_matches_scipy_central_differences(example):
  m, = strategies.build_eig(example)
  hypothesis.assume(m.radius >= 0)
  a = (m.x * m.lam) @ m.x_inv
  a = a if strategies.is_complex(example.dtype) else a.real
  e = m.e.astype(a.dtype)
  ref = oracles.eig_projector_tangent(m.x, m.x_inv, m.lam, m.mask, e)
  # Steps of 1e-3 of the gap of D over the size of E's effect on the
  # eigenvalues: truncation about (h kappa |E| / gap)^4, rounding
  # eps kappa |A| / h, both below 1e-7 for cond(X) <= 1e3.
  gap = 2 * float(m.radius)
  h = 1e-3 * gap / np.linalg.norm(e)
  fd = oracles.central_difference(
      lambda x: _scipy_eig_projector(x, m.centre, m.radius), a, e, h)
  np.testing.assert_allclose(fd, ref, rtol=0,
                             atol=1e-6 * np.linalg.norm(ref))


@_settings(30)
@hypothesis.given(strategies.eig_examples(
    dtypes=(np.float64, np.complex128), sizes=(2, 4, 7), batch_shapes=((),)),
    st.integers(0, 2**32 - 1))
def test_eig_gradient_oracles_are_transposes_of_the_tangents(example, seed):
  m, = strategies.build_eig(example)
  real = not strategies.is_complex(example.dtype)
  rng = np.random.default_rng(seed)
  n = len(m.lam)
  e = strategies.random_matrix(rng, (n, n), not real)
  def check(grad, tangent):
    lhs = np.real(np.sum(grad * e))
    assert abs(lhs - np.real(tangent)) <= 1e-10 * np.linalg.norm(
        grad) * np.linalg.norm(e)
  if m.radius >= 0:
    check(oracles.eig_projector_gradient(m.x, m.x_inv, m.lam, m.mask,
                                         m.g.astype(complex), real=real),
          np.sum(m.g * oracles.eig_projector_tangent(m.x, m.x_inv, m.lam,
                                                     m.mask, e)))
  c = m.cd * m.mask
  sums = oracles.eig_cluster_sums_tangent(m.x, m.x_inv, m.cluster, e)
  check(oracles.eig_weighted_sum_gradient(m.x, m.x_inv, c, real=real),
        np.sum(m.cd * sums[np.unique(m.cluster[m.mask > 0])]))
  # The stock rule, at eigenpairs with distinct eigenvalues.
  w = np.arange(n) + 0.5 * rng.uniform(size=n) + 1j * rng.uniform(size=n)
  v = m.x / np.linalg.norm(m.x, axis=0)
  wv, cw = m.wv.astype(complex), m.cw.astype(complex)
  dw, dv = oracles.stock_eig_tangent(w, v, e)
  check(oracles.stock_eig_gradient(w, v, wv, cw, real=real),
        np.sum(wv * dv) + np.sum(cw * dw))


def _lapack_normalized_eig(a, w0, v0):
  """scipy.linalg.eig(a), its eigenvalues in the order of the nearest of w0
  and each eigenvector's sign fixed like v0's largest component."""
  lam, v = scipy.linalg.eig(a)
  order = [int(np.argmin(np.abs(lam - x))) for x in w0]
  lam, v = lam[order], v[:, order]
  top = np.argmax(np.abs(v0), axis=0)
  cols = np.arange(len(w0))
  return lam, v * np.sign(v[top, cols].real * v0[top, cols].real)


@_settings(30)
@hypothesis.given(strategies.eig_examples(
    dtypes=(np.float64, np.complex128), sizes=(2, 3, 6), batch_shapes=((),)))
def test_stock_eig_oracle_matches_scipy_central_differences(example):
  # The stock formula at simple eigenvalues, with LAPACK's normalization
  # (unit 2-norm, largest component real), against SciPy's ?geev.
  m, = strategies.build_eig(example)
  a = m.a.astype(np.float64 if m.a.dtype.kind == "f" else np.complex128)
  w0, v0 = scipy.linalg.eig(a)
  # No eigenvector whose largest components are within the steps' reach of
  # a tie (LAPACK would make a different one real along the way).
  hypothesis.assume(not campaign.tied_components(v0, np.float64, 1e-6))
  dist = np.abs(w0[:, None] - w0[None, :]) + np.eye(len(w0))
  hypothesis.assume(np.min(dist) > 1e-3 * np.max(np.abs(w0)))
  e = m.e.astype(a.dtype)
  dw, dv = oracles.stock_eig_tangent(w0, v0, e)
  h = 1e-4 * np.min(dist) / np.linalg.norm(e)
  fd = oracles.central_difference(
      lambda x: np.concatenate([
          *_lapack_normalized_eig(x, w0, v0)[:1],
          _lapack_normalized_eig(x, w0, v0)[1].ravel()]), a, e, h)
  ref = np.concatenate([dw, dv.ravel()])
  np.testing.assert_allclose(fd, ref, rtol=0, atol=1e-5 * np.linalg.norm(ref))


EIG_GROUPS = [
    (np.float32, 5, ()),
    (np.float64, 6, (3,)),
    (np.complex64, 4, ()),
    (np.complex128, 3, (2, 2)),
]


@pytest.mark.parametrize("dtype,n,batch", EIG_GROUPS,
                         ids=lambda x: getattr(x, "__name__", str(x)))
def test_eig_checks(dtype, n, batch):
  examples = campaign.draw_examples(strategies.eig_examples(
      dtypes=(dtype,), sizes=(n,), batch_shapes=(batch,)), 12, seed=0)
  tally = campaign.run_checks(examples, degeneracy_rtol=BAND, chunk=None)
  _assert_no_misses(tally)
  dt = np.dtype(dtype).name
  for check in campaign.EIG_PROJECTOR_CHECKS:
    assert tally.stats[check, dt].checks > 0, check


@st.composite
def _eig_exact_or_simple(draw, dtype, n, batch):
  """eig_examples whose members have exactly repeated clusters (every
  δ = 0) or simple eigenvalues only."""
  example = draw(strategies.eig_examples(dtypes=(dtype,), sizes=(n,),
                                         batch_shapes=(batch,)))
  members = tuple(dataclasses.replace(
      spec, splittings=(0.0,) * len(spec.sizes)) for spec in example.members)
  return dataclasses.replace(example, members=members)


@pytest.mark.parametrize("dtype,n,batch", [(np.float64, 5, ()),
                                           (np.complex64, 6, (3,))],
                         ids=lambda x: getattr(x, "__name__", str(x)))
def test_eig_checks_at_exact_degeneracy_with_defaults(dtype, n, batch):
  examples = campaign.draw_examples(_eig_exact_or_simple(dtype, n, batch),
                                    12, seed=0)
  tally = campaign.run_checks(examples, degeneracy_rtol=None, chunk=None)
  _assert_no_misses(tally)
  dt = np.dtype(dtype).name
  for check in campaign.EIG_CHECKS:
    assert tally.stats[check, dt].checks > 0, check
  assert not any(check.endswith(campaign.NOT_CLAIMED)
                 for check, _ in tally.stats)


def test_the_eig_campaign_catches_the_stock_rule():
  # With the stock eig JVP swapped back in, the projector checks of an
  # exactly repeated eigenvalue miss (the stock rule divides by the rounding
  # noise between the repeated eigenvalues).
  example = strategies.EigExample(
      dtype=np.float64, batch=(), members=(strategies.EigSpectrum(
          sizes=(2, 1, 1), pairs=(False, False, False),
          splittings=(0.0, 0.0, 0.0), log_cond=1.0, scale=1.0, shift=0.0,
          seed=4),))
  with jax_patch.patched(), _stock_jvp_rule("eig_jvp_rule"):
    tally = campaign.run_checks([example], degeneracy_rtol=BAND, chunk=None)
  stats = {k[0]: s for k, s in tally.stats.items()}
  assert stats["eig projector fwd"].misses == 1
  assert stats["eig projector rev"].misses == 1
  _assert_no_misses(campaign.run_checks([example], degeneracy_rtol=BAND,
                                        chunk=None))


# Found by the eig group (shrunk by hand from the member EigSpectrum(
# sizes=(1,), pairs=(True,), splittings=(0.0,), log_cond=0.0,
# scale=0.3445134703601294, shift=0.0, seed=135)): a real 2 x 2 matrix
# [[a, -b], [b, a]] (up to rounding) has eigenvectors [1, -+i] / sqrt 2,
# whose components tie for the largest magnitude. LAPACK makes one of them
# real; argmax |v_ij| in the rule's normalization term may pick the other,
# whose real part is rounding noise (4e-16 here), and the eigenvector
# tangent comes out of size 6e14 in stock JAX (upstream's condition (ii) of
# enable_eigvec_derivs). The projector onto one of the
# eigenvalues does not depend on the normalization, yet its derivative
# comes out 24% wrong. The campaign leaves such members out of its claim
# (fuzz_campaign.tied_components); the patched rule now takes the
# component that LAPACK made real (imaginary part exactly 0), and is exact.
def test_eig_projector_with_tied_largest_components():
  a = np.array([[0.7599022461840993, -0.24308129466308087],
                [0.24308129466308095, 0.7599022461840996]])
  e = np.array([[0.3, -1.2], [0.7, 0.4]])
  lam, x = np.linalg.eig(a.astype(complex))
  mask = (lam.imag > 0).astype(np.float64)
  ref = oracles.eig_projector_tangent(x, np.linalg.inv(x), lam, mask, e)
  with jax.enable_x64(True):
    centre = jnp.asarray(lam[lam.imag > 0][0])
    radius = jnp.asarray(lam.imag.max())
    v = np.asarray(campaign._eig(a)[1])
    assert campaign.tied_components(v, np.float64)
    dp = jax.jvp(lambda y: campaign._eig_projector(y, centre, radius),
                 (a,), (e,))[1]
  assert campaign.rel_err(dp, ref) <= 1e-12

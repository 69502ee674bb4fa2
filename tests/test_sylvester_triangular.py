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

"""Tests of the Sylvester kernels of jax_patch._src.lax.sylvester.

The triangular kernels (column by column and blocked), the real
quasi-triangular ones and the real-to-complex Schur conversion, each called
directly, against SciPy on the same inputs in one common dtype. The public
primitive is tested in upstream_tests/sylvester_solve_test.py (triangular
factors), sylvester_quasi_triangular_test.py (real Schur factors),
sylvester_blocked_test.py and sylvester_quasi_blocked_test.py (the blocked
kernel), and its package-only broadening in test_sylvester_broadening.py.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from jax_patch._src.lax import sylvester as st

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]


@pytest.fixture(autouse=True)
def _x64():
  with jax.enable_x64(True):
    yield


def _rand(rng, shape, dtype):
  x = rng.standard_normal(shape)
  if np.issubdtype(dtype, np.complexfloating):
    x = x + 1j * rng.standard_normal(shape)
  return x


def _triangular(rng, batch, n, dtype):
  # Unit-scale upper triangle plus a diagonal with real part in [1, 2], so
  # |a_ii + b_jj| >= 2 and the Sylvester operator is well conditioned. The
  # strict lower triangle is large garbage that the kernel must ignore.
  x = np.triu(_rand(rng, (*batch, n, n), dtype), 1) / np.sqrt(n)
  d = rng.uniform(1, 2, (*batch, n))
  if np.issubdtype(dtype, np.complexfloating):
    d = d + 1j * rng.uniform(-1, 1, (*batch, n))
  x = x + d[..., :, None] * np.eye(n)
  garbage = 100 * np.tril(_rand(rng, (*batch, n, n), dtype), -1)
  return x, x + garbage


def _tol(dtype, m, n):
  # Forward error of the substitution is O((m + n) eps cond); cond is O(1)
  # for the matrices of _triangular.
  return 30 * (m + n) * np.finfo(dtype).eps


# The two kernels of _sylvester_triangular_solve, called directly so that
# each is tested at every size; "dispatch" is the function itself, which
# picks one by size (_SYLVESTER_SMALL).
_PATHS = {"column": st._sylvester_column_solve,
          "blocked": st._sylvester_blocked_solve,
          "dispatch": st._sylvester_triangular_solve}


def _solve(a, b, c, inv_diag, path="dispatch"):
  return np.asarray(jax.jit(_PATHS[path])(a, b, c, inv_diag))


def _reference_substitution(a, b, c, inv_diag):
  m, n = c.shape
  y = np.zeros_like(c)
  for i in reversed(range(m)):
    for j in range(n):
      r = c[i, j] - a[i, i + 1:] @ y[i + 1:, j] - y[i, :j] @ b[:j, j]
      y[i, j] = inv_diag[i, j] * r
  return y


_SHAPES = [(1, 1), (1, 7), (2, 3), (3, 2), (7, 16), (16, 17), (17, 33),
           (33, 64), (64, 100), (100, 7)]


@pytest.mark.parametrize("path", ["column", "blocked"])
@pytest.mark.parametrize(
    "shape,dtype",
    [(s, DTYPES[i % 4]) for i, s in enumerate(_SHAPES)] +
    [((16, 33), d) for d in DTYPES])
def test_against_scipy(shape, dtype, path):
  m, n = shape
  rng = np.random.default_rng(m * 1000 + n)
  a, a_garbage = _triangular(rng, (), m, dtype)
  b, b_garbage = _triangular(rng, (), n, dtype)
  c = _rand(rng, (m, n), dtype)
  inv_diag = 1 / (np.diag(a)[:, None] + np.diag(b)[None, :])
  cast = lambda x: x.astype(dtype)
  y = _solve(*map(cast, (a_garbage, b_garbage, c, inv_diag)), path=path)
  assert y.dtype == dtype
  # Reference in float64/complex128 from the rounded inputs.
  a, b, c = (cast(x).astype(np.complex128) for x in (a, b, c))
  expected = scipy.linalg.solve_sylvester(a, b, c)
  err = np.abs(y - expected).max() / np.abs(expected).max()
  assert err < _tol(dtype, m, n), err


@pytest.mark.parametrize("path", ["column", "blocked"])
@pytest.mark.parametrize("dtype", [np.float64, np.complex64])
def test_batched(dtype, path):
  rng = np.random.default_rng(1)
  batch, m, n = (2, 3), 9, 20
  a, a_garbage = _triangular(rng, batch, m, dtype)
  b, b_garbage = _triangular(rng, batch, n, dtype)
  c = _rand(rng, (*batch, m, n), dtype)
  inv_diag = 1 / (np.diagonal(a, axis1=-2, axis2=-1)[..., :, None] +
                  np.diagonal(b, axis1=-2, axis2=-1)[..., None, :])
  cast = lambda x: x.astype(dtype)
  y = _solve(*map(cast, (a_garbage, b_garbage, c, inv_diag)), path=path)
  # Reference in complex128 from the rounded inputs.
  a, b, c = (cast(x).astype(np.complex128) for x in (a, b, c))
  for idx in np.ndindex(*batch):
    expected = scipy.linalg.solve_sylvester(a[idx], b[idx], c[idx])
    err = np.abs(y[idx] - expected).max() / np.abs(expected).max()
    assert err < _tol(dtype, m, n), (idx, err)


@pytest.mark.parametrize("path", ["column", "blocked"])
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_a_with_real_b(dtype, path):
  # a X + X b = c for complex a and real b with complex eigenvalues, as
  # solve_sylvester does it: with b = z t z^T its real Schur form and
  # (t_c, z_c) = _real_schur_to_complex(t, z), X = Y z_c^H where
  # a Y + Y t_c = c z_c. The reference is SciPy with all three in complex128
  # (SciPy 1.17 is silently wrong when only a is complex).
  real = np.finfo(dtype).dtype
  m, n = 9, 14
  rng = np.random.default_rng(5)
  a, a_garbage = _triangular(rng, (), m, dtype)
  a, a_garbage = a.astype(dtype), a_garbage.astype(dtype)
  b = (rng.standard_normal((n, n)) / np.sqrt(n) + 2 * np.eye(n)).astype(real)
  c = _rand(rng, (m, n), dtype).astype(dtype)
  t, z = (x.astype(real) for x in scipy.linalg.schur(b.astype(np.float64)))
  assert np.any(np.diag(t, -1) != 0)  # Complex eigenvalues in b.
  t_c, z_c = (np.asarray(x) for x in
              jax.jit(st._real_schur_to_complex)(t, z))
  assert t_c.dtype == z_c.dtype == dtype
  inv_diag = (1 / (np.diag(a)[:, None] + np.diag(t_c)[None, :])).astype(dtype)
  y = _solve(a_garbage, t_c, (c @ z_c).astype(dtype), inv_diag, path=path)
  solution = y @ np.conj(z_c).T
  a, b, c = (v.astype(np.complex128) for v in (a, b, c))
  expected = scipy.linalg.solve_sylvester(a, b, c)
  err = np.abs(solution - expected).max() / np.abs(expected).max()
  assert err < _tol(dtype, m, n), err


@pytest.mark.parametrize("path", ["column", "blocked"])
@pytest.mark.parametrize("shape", [(3, 4), (7, 5), (17, 9)])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_generalized_inverse_pivots(shape, dtype, path):
  # inv_diag == 0 drops a component: compare with the scalar substitution.
  # Pivots a_ii + b_jj that are exactly zero get inv_diag = 0, as the caller
  # does for singular pairs, and must give finite results.
  m, n = shape
  rng = np.random.default_rng(m + n)
  a, a_garbage = _triangular(rng, (), m, dtype)
  b, b_garbage = _triangular(rng, (), n, dtype)
  a[0, 0] = a_garbage[0, 0] = -b[0, 0]
  c = _rand(rng, (m, n), dtype)
  pivots = np.diag(a)[:, None] + np.diag(b)[None, :]
  keep = (rng.uniform(size=(m, n)) > 0.3) & (pivots != 0)
  inv_diag = np.where(keep, 1 / np.where(keep, pivots, 1), 0).astype(dtype)
  y = _solve(a_garbage, b_garbage, c, inv_diag, path=path)
  assert np.all(np.isfinite(y))
  expected = _reference_substitution(a, b, c, inv_diag)
  np.testing.assert_allclose(y, expected, rtol=0,
                             atol=_tol(dtype, m, n) * np.abs(expected).max())
  np.testing.assert_array_equal(y[~keep], 0)


@pytest.mark.parametrize("path", ["column", "blocked"])
def test_nan_is_not_masked(path):
  # 0 * nan = nan: a dropped component of a nan right-hand side stays nan.
  rng = np.random.default_rng(3)
  a, _ = _triangular(rng, (), 5, np.float64)
  b, _ = _triangular(rng, (), 4, np.float64)
  c = _rand(rng, (5, 4), np.float64)
  c[4, 0] = np.nan
  inv_diag = np.zeros((5, 4))
  y = _solve(a, b, c, inv_diag, path=path)
  assert np.isnan(y[4, 0])


# Shapes whose smaller side spans 4 to 6 blocks (of 16 real, 12 complex
# entries), and band heights that split them into 2 to 5 bands, the bottom
# one padded where the bands do not divide the block rows (5 block rows in
# 2 bands); the default height gives one band at these sizes.
_BAND_CASES = [((64, 100), np.float64, 1), ((64, 100), np.float32, 2),
               ((70, 100), np.float64, 2), ((100, 70), np.float64, 1),
               ((48, 48), np.complex128, 2), ((100, 70), np.complex64, 4)]


@pytest.mark.parametrize("shape,dtype,height", _BAND_CASES)
def test_blocked_bands(shape, dtype, height, monkeypatch):
  # The blocked wavefront in several bands of block rows, each updated by the
  # bands below it, against the scalar substitution, with pivots dropped
  # (inv_diag == 0) across the bands.
  monkeypatch.setattr(st, "_SYLVESTER_BAND_HEIGHT", height)
  m, n = shape
  s = st._sylvester_block_size(min(m, n), dtype=dtype)
  assert st._sylvester_bands(-(-min(m, n) // s)) > 1
  rng = np.random.default_rng(m * 1000 + n + height)
  a, a_garbage = _triangular(rng, (), m, dtype)
  b, b_garbage = _triangular(rng, (), n, dtype)
  c = _rand(rng, (m, n), dtype)
  pivots = np.diag(a)[:, None] + np.diag(b)[None, :]
  keep = rng.uniform(size=(m, n)) > 0.2
  inv_diag = np.where(keep, 1 / pivots, 0)
  cast = lambda x: x.astype(dtype)
  y = np.asarray(jax.jit(lambda *x: st._sylvester_blocked_solve(*x))(
      *map(cast, (a_garbage, b_garbage, c, inv_diag))))
  assert y.dtype == dtype
  expected = _reference_substitution(
      *(cast(x).astype(np.complex128) for x in (a, b, c, inv_diag)))
  np.testing.assert_allclose(y, expected, rtol=0,
                             atol=_tol(dtype, m, n) * np.abs(expected).max())
  np.testing.assert_array_equal(y[~keep], 0)


@pytest.mark.parametrize("height", [1, 2])
def test_blocked_bands_batched(height, monkeypatch):
  monkeypatch.setattr(st, "_SYLVESTER_BAND_HEIGHT", height)
  rng = np.random.default_rng(height)
  batch, m, n = (2,), 40, 70
  a, a_garbage = _triangular(rng, batch, m, np.float64)
  b, b_garbage = _triangular(rng, batch, n, np.float64)
  c = _rand(rng, (*batch, m, n), np.float64)
  inv_diag = 1 / (np.diagonal(a, axis1=-2, axis2=-1)[..., :, None] +
                  np.diagonal(b, axis1=-2, axis2=-1)[..., None, :])
  y = np.asarray(jax.jit(lambda *x: st._sylvester_blocked_solve(*x))(
      a_garbage, b_garbage, c, inv_diag))
  for idx in np.ndindex(*batch):
    expected = scipy.linalg.solve_sylvester(a[idx], b[idx], c[idx])
    err = np.abs(y[idx] - expected).max() / np.abs(expected).max()
    assert err < _tol(np.float64, m, n), (idx, err)


@pytest.mark.parametrize("path", ["column", "blocked", "dispatch"])
def test_zero_size(path):
  y = _solve(np.zeros((0, 0)), np.eye(3), np.zeros((0, 3)), np.zeros((0, 3)),
             path=path)
  assert y.shape == (0, 3)


@pytest.mark.parametrize("shape", [(st._SYLVESTER_SMALL, 3),
                                   (st._SYLVESTER_SMALL + 1, 3),
                                   (5, st._SYLVESTER_SMALL + 9)])
def test_dispatch_at_the_threshold(shape):
  # Either side of _SYLVESTER_SMALL through _sylvester_triangular_solve,
  # against the substitution itself.
  m, n = shape
  rng = np.random.default_rng(m + n)
  a, a_garbage = _triangular(rng, (), m, np.float64)
  b, b_garbage = _triangular(rng, (), n, np.float64)
  c = _rand(rng, (m, n), np.float64)
  inv_diag = 1 / (np.diag(a)[:, None] + np.diag(b)[None, :])
  y = _solve(a_garbage, b_garbage, c, inv_diag)
  expected = _reference_substitution(a, b, c, inv_diag)
  np.testing.assert_allclose(y, expected, rtol=0,
                             atol=_tol(np.float64, m, n) *
                             np.abs(expected).max())


@pytest.mark.parametrize("n", [1, 2, 5, 33])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_real_schur_to_complex(n, dtype):
  rng = np.random.default_rng(n)
  x = rng.standard_normal((3, n, n)).astype(dtype)
  # One matrix with only real eigenvalues (no bumps): nothing to rotate.
  x[2] = x[2] + x[2].T
  t, z = map(np.stack, zip(*(scipy.linalg.schur(xi) for xi in x)))
  t_c, z_c = jax.jit(st._real_schur_to_complex)(t, z)
  t_c, z_c = np.asarray(t_c), np.asarray(z_c)
  assert t_c.dtype == z_c.dtype == np.result_type(dtype, np.complex64)
  np.testing.assert_array_equal(np.tril(t_c, -1), 0)
  eps = np.finfo(dtype).eps
  scale = np.abs(x).max()
  tol = 30 * n * eps
  recon = z_c @ t_c @ np.conj(np.swapaxes(z_c, -1, -2))
  np.testing.assert_allclose(recon, z @ t @ np.swapaxes(z, -1, -2),
                             rtol=0, atol=tol * scale)
  np.testing.assert_allclose(np.conj(np.swapaxes(z_c, -1, -2)) @ z_c,
                             np.broadcast_to(np.eye(n), z_c.shape),
                             rtol=0, atol=tol)
  np.testing.assert_allclose(t_c[2], t[2], rtol=0, atol=0)
  # The diagonal of t_c holds the eigenvalues: both of each conjugate pair.
  for xi, ti in zip(x, t_c):
    lam = np.linalg.eigvals(xi.astype(np.float64))
    dist = np.abs(np.diag(ti)[:, None] - lam[None, :]).min(axis=1)
    assert dist.max() < 100 * tol * scale, dist.max()


# Real quasi-triangular (real Schur form) solves.


def _real_schur_from_pattern(rng, pattern, dtype):
  # A real Schur form with 1 x 1 blocks (1) and 2 x 2 blocks (2) in the order
  # of pattern: diagonal blocks [[alpha, beta], [gamma, alpha]] with
  # beta gamma < 0 (complex pair alpha +- i sqrt(-beta gamma)), real parts in
  # [1, 2], and a random strictly upper triangle outside the blocks.
  n = sum(pattern)
  t = np.triu(rng.standard_normal((n, n)), 1) / np.sqrt(n)
  k = 0
  for size in pattern:
    alpha = rng.uniform(1, 2)
    t[k, k] = alpha
    if size == 2:
      beta, gamma = rng.uniform(0.5, 2), -rng.uniform(0.5, 2)
      t[k, k + 1], t[k + 1, k], t[k + 1, k + 1] = beta, gamma, alpha
    k += size
  return t.astype(dtype)


def _quasi_real(a, b, c):
  # The real blocked kernel alone, with the static sizes of the dispatch.
  m, n = c.shape[-2:]
  size_a, size_b = st._sylvester_quasi_sizes(m, n)
  mask = lambda t: jnp.where(st._sylvester_quasi_mask(t), t, 0)
  def solve(a, b, c):
    a, b = mask(a), mask(b)
    layout_a = st._sylvester_bump_layout(a, size_a)
    layout_b = st._sylvester_bump_layout(b, size_b)
    assert_fits = jnp.all(layout_a[2]) & jnp.all(layout_b[2])
    y = st._sylvester_quasi_triangular_solve(a, b, c, layout_a[:2],
                                             layout_b[:2])
    return y, assert_fits
  y, fits = jax.jit(solve)(a, b, c)
  assert bool(fits)
  return np.asarray(y)


def _quasi_complex(a, b, c, dense=False):
  # The complex Schur column solve alone, with the default tolerance.
  def solve(a, b, c):
    ab = st._sylvester_quasi_stack(a, b)
    tol = max(c.shape[-2:]) * jnp.finfo(c.dtype).eps * (
        jnp.abs(ab[0]).max((-2, -1)) + jnp.abs(ab[1]).max((-2, -1)))
    return st._sylvester_quasi_complex_solve(
        ab, c, jnp.broadcast_to(tol[..., None, None], c.shape),
        st._real_schur_rotation(ab), dense=dense)
  return np.asarray(jax.jit(solve)(a, b, c))


def _quasi_complex_dense(a, b, c):
  # The same with the rotations as dense products (the small solve up to
  # _SYLVESTER_DENSE_ROTATIONS_SMALL, and the blocked path's fallback).
  return _quasi_complex(a, b, c, dense=True)


def _quasi_dispatch(a, b, c):
  return np.asarray(jax.jit(st._sylvester_quasi_solve, static_argnums=3)(
      a, b, c, None))


_QUASI_PATHS = {"real": _quasi_real, "complex": _quasi_complex,
                "complex_dense": _quasi_complex_dense,
                "dispatch": _quasi_dispatch}


def _layout_reference(t):
  # The row positions of _sylvester_bump_layout by a sequential scan.
  n = t.shape[0]
  pos, p, i = [], 0, 0
  while i < n:
    if i + 1 < n and t[i + 1, i] != 0:
      p += p % 2
      pos += [p, p + 1]
      p, i = p + 2, i + 2
    else:
      pos.append(p)
      p, i = p + 1, i + 1
  return np.array(pos)


_PATTERNS = [(1,), (2,), (1, 2), (2, 1, 1, 2), (1, 2, 1, 2, 2, 1),
             (1, 1, 2, 1, 2, 2, 2, 1, 2, 1, 1)]


@pytest.mark.parametrize("pattern", _PATTERNS)
def test_bump_layout(pattern):
  rng = np.random.default_rng(len(pattern))
  t = _real_schur_from_pattern(rng, pattern, np.float64)
  n = t.shape[0]
  expected = _layout_reference(t)
  size = int(expected[-1]) + 1
  pos, src, fits = jax.jit(st._sylvester_bump_layout, static_argnums=1)(
      t, size + 2)
  np.testing.assert_array_equal(pos, expected)
  assert bool(fits)
  # Every 2 x 2 block starts at an even index; src inverts pos.
  for i in range(n - 1):
    if t[i + 1, i] != 0:
      assert expected[i] % 2 == 0
  src = np.asarray(src)
  np.testing.assert_array_equal(src[expected], np.arange(n))
  dummies = np.setdiff1d(np.arange(size + 2), expected)
  np.testing.assert_array_equal(src[dummies], n)
  _, _, fits = jax.jit(st._sylvester_bump_layout, static_argnums=1)(
      t, size - 1)
  assert not bool(fits)


@pytest.mark.parametrize("path", ["real", "complex", "complex_dense"])
@pytest.mark.parametrize(
    "shape,dtype",
    [((1, 1), np.float64), ((2, 3), np.float32), ((5, 2), np.float64),
     ((7, 16), np.float32), ((16, 17), np.float64), ((33, 20), np.float64),
     ((50, 64), np.float32)])
def test_quasi_against_scipy(shape, dtype, path):
  m, n = shape
  rng = np.random.default_rng(m * 1000 + n)
  x = lambda k: rng.standard_normal((k, k)) / np.sqrt(k) + 2 * np.eye(k)
  a, b = scipy.linalg.schur(x(m))[0], scipy.linalg.schur(x(n))[0]
  c = rng.standard_normal((m, n))
  cast = lambda x: x.astype(dtype)
  garbage = lambda t: t + 100 * np.tril(rng.standard_normal(t.shape), -2)
  y = _QUASI_PATHS[path](cast(garbage(a)), cast(garbage(b)), cast(c))
  assert y.dtype == dtype
  a, b, c = (cast(x).astype(np.float64) for x in (a, b, c))
  expected = scipy.linalg.solve_sylvester(a, b, c)
  err = np.abs(y - expected).max() / np.abs(expected).max()
  assert err < _tol(dtype, m, n), err


@pytest.mark.parametrize("path", ["real", "complex", "complex_dense"])
def test_quasi_batched(path):
  rng = np.random.default_rng(7)
  batch, m, n = (2, 3), 9, 14
  x = lambda k: rng.standard_normal((*batch, k, k)) + 2 * np.eye(k)
  schur = lambda x: np.stack([scipy.linalg.schur(xi)[0]
                              for xi in x.reshape(-1, *x.shape[-2:])]
                             ).reshape(x.shape)
  a, b = schur(x(m)), schur(x(n))
  c = rng.standard_normal((*batch, m, n))
  y = _QUASI_PATHS[path](a, b, c)
  for idx in np.ndindex(*batch):
    expected = scipy.linalg.solve_sylvester(a[idx], b[idx], c[idx])
    err = np.abs(y[idx] - expected).max() / np.abs(expected).max()
    assert err < _tol(np.float64, m, n), (idx, err)


@pytest.mark.parametrize("height", [1, 2])
@pytest.mark.parametrize("shape,dtype", [((50, 64), np.float64),
                                         ((64, 50), np.float32)])
def test_quasi_bands(shape, dtype, height, monkeypatch):
  # The real quasi-triangular solve in bands (_sylvester_wavefront): the 2 x 2
  # blocks sit at even indices and the bands start at whole blocks, so no
  # band cuts one; against SciPy in float64.
  monkeypatch.setattr(st, "_SYLVESTER_BAND_HEIGHT", height)
  m, n = shape
  rng = np.random.default_rng(m * 1000 + n + height)
  a = _real_schur_from_pattern(rng, (1, 2, 2, 1, 2) * (m // 8) +
                               (1,) * (m % 8), dtype)
  b = _real_schur_from_pattern(rng, (2, 1, 2) * (n // 5) + (1,) * (n % 5),
                               dtype)
  c = rng.standard_normal((m, n)).astype(dtype)
  y = _quasi_real(a, b, c)
  expected = scipy.linalg.solve_sylvester(
      *(x.astype(np.float64) for x in (a, b, c)))
  err = np.abs(y - expected).max() / np.abs(expected).max()
  assert err < _tol(dtype, m, n), err


def test_quasi_dispatch_in_bands():
  # At n = 200 the default height splits the real quasi-triangular solve
  # into two bands (224 rows of the layout, 14 blocks of 16).
  n = 200
  size = st._sylvester_quasi_sizes(n, n)[0]
  assert st._sylvester_bands(size // st._SYLVESTER_BLOCK_SIZE) == 2
  rng = np.random.default_rng(n)
  x = lambda: rng.standard_normal((n, n)) / np.sqrt(n) + 2 * np.eye(n)
  a, b = scipy.linalg.schur(x())[0], scipy.linalg.schur(x())[0]
  c = rng.standard_normal((n, n))
  y = _quasi_dispatch(a, b, c)
  expected = scipy.linalg.solve_sylvester(a, b, c)
  err = np.abs(y - expected).max() / np.abs(expected).max()
  assert err < _tol(np.float64, n, n), err


def test_quasi_layout_overflow_falls_back():
  # One real eigenvalue before each 2 x 2 block: every block needs a dummy
  # row, more than the static layout holds, so the complex Schur path runs
  # (at a size above _SYLVESTER_SMALL, where the real path is the default).
  rng = np.random.default_rng(8)
  pattern = (1, 2) * 40
  a = _real_schur_from_pattern(rng, pattern, np.float64)
  b = _real_schur_from_pattern(rng, (2, 1) * 5, np.float64)
  n = a.shape[0]
  assert n > st._SYLVESTER_SMALL
  size = st._sylvester_quasi_sizes(n, b.shape[0])[0]
  assert not bool(st._sylvester_bump_layout(a, size)[2])
  c = rng.standard_normal((n, b.shape[0]))
  y = _quasi_dispatch(a, b, c)
  expected = scipy.linalg.solve_sylvester(a, b, c)
  np.testing.assert_allclose(y, expected, rtol=0,
                             atol=_tol(np.float64, *c.shape) *
                             np.abs(expected).max())


@pytest.mark.parametrize("dtype,repeats", [(np.float32, 1), (np.float64, 1),
                                           (np.float64, 18)])
def test_quasi_singular_is_a_generalized_solution(dtype, repeats):
  # lam(a) + lam(-a) = 0: singular pairs. For a consistent right-hand side
  # c = a x + x (-a) the result solves the equation; it is finite always.
  # 18 repeats give n = 108 > _SYLVESTER_SMALL: the singular branch of the
  # dispatch.
  rng = np.random.default_rng(9)
  a = _real_schur_from_pattern(rng, (2, 1, 2, 1) * repeats, dtype)
  x0 = rng.standard_normal(a.shape).astype(dtype)
  c = a @ x0 - x0 @ a
  y = _quasi_dispatch(a, -a, c)
  assert np.all(np.isfinite(y))
  # A backward stable solve leaves a residual of a few eps |a| |y| per term
  # (y is large where distinct eigenvalues are close: 4e5 at n = 108).
  eps = np.finfo(dtype).eps
  scale = np.abs(a).max() * np.abs(y).max() + np.abs(c).max()
  np.testing.assert_allclose(a @ y - y @ a, c, rtol=0,
                             atol=10 * a.shape[0] * eps * scale)
  y = _quasi_dispatch(a, -a, rng.standard_normal(a.shape).astype(dtype))
  assert np.all(np.isfinite(y))


@pytest.mark.parametrize("shape", [(st._SYLVESTER_SMALL, 30),
                                   (st._SYLVESTER_SMALL + 1, 30),
                                   (30, st._SYLVESTER_SMALL + 20)])
def test_quasi_dispatch_at_the_threshold(shape):
  m, n = shape
  rng = np.random.default_rng(m * 1000 + n)
  x = lambda k: rng.standard_normal((k, k)) / np.sqrt(k) + 2 * np.eye(k)
  a, b = scipy.linalg.schur(x(m))[0], scipy.linalg.schur(x(n))[0]
  c = rng.standard_normal((m, n))
  y = _quasi_dispatch(a, b, c)
  expected = scipy.linalg.solve_sylvester(a, b, c)
  err = np.abs(y - expected).max() / np.abs(expected).max()
  assert err < _tol(np.float64, m, n), err


def test_pair_solve():
  rng = np.random.default_rng(10)
  a, b, c = (rng.standard_normal((2, 2, 5)) for _ in range(3))
  entries = lambda x: [[x[0, 0], x[0, 1]], [x[1, 0], x[1, 1]]]
  def solve(a, b, c):
    a, b, c = map(entries, (a, b, c))
    return st._sylvester_pair_apply(a, b, st._sylvester_pair_inverse(a, b), c)
  y = np.asarray(jax.jit(solve)(a, b, c))
  for k in range(5):
    expected = scipy.linalg.solve_sylvester(a[..., k], b[..., k], c[..., k])
    np.testing.assert_allclose(y[..., k], expected, rtol=1e-12, atol=1e-12)


def test_real_schur_eigenvalues_and_rotations():
  rng = np.random.default_rng(11)
  t = _real_schur_from_pattern(rng, (1, 2, 2, 1, 2), np.float64)
  n = t.shape[0]
  lam = np.asarray(jax.jit(st._real_schur_eigenvalues)(t))
  t_c, z_c = jax.jit(st._real_schur_to_complex)(t, np.eye(n))
  np.testing.assert_allclose(lam, np.diag(t_c), rtol=0, atol=1e-13)
  # Against LAPACK, pair by pair: the eigenvalues of each diagonal block in
  # the order of the diagonal, the one with positive imaginary part first
  # (as LAPACK's dgees orders a pair).
  k = 0
  for size in (1, 2, 2, 1, 2):
    w = np.linalg.eigvals(t[k:k + size, k:k + size])
    w = w[np.argsort(-w.imag)]
    np.testing.assert_allclose(lam[k:k + size], w, rtol=0, atol=1e-13)
    k += size
  # Q t Q^H is upper triangular and similar to t.
  np.testing.assert_allclose(np.tril(np.asarray(t_c), -1), 0, atol=0)
  np.testing.assert_allclose(np.asarray(z_c) @ np.asarray(t_c) @
                             np.conj(np.asarray(z_c)).T, t, atol=1e-13)
  # z_c = Q^H for the Q of _real_schur_rotation.
  q = np.conj(np.asarray(z_c)).T
  diagonals = jax.jit(st._real_schur_rotation)(t)
  x = rng.standard_normal((n, n)).astype(np.complex128)
  for left, adjoint, expected in ((True, False, q @ x),
                                  (True, True, q.conj().T @ x),
                                  (False, False, x @ q),
                                  (False, True, x @ q.conj().T)):
    got = st._sylvester_rotate(x, diagonals, left=left, adjoint=adjoint)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-13)

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

"""solve_sylvester's keywords that stay in jax_patch (not in the patches).

Upstream, jax.scipy.linalg.solve_sylvester keeps SciPy's name and its stock
keywords, method ("schur" or "eigen") and tol
(upstream_tests/solve_sylvester_test.py). jax_patch's solve_sylvester, which
install() puts into jax.scipy.linalg, also takes method="eigh", rtol and
broadening, and refuses a Schur solve that would run on a GPU at trace time.
"""

from unittest import mock

import jax
import jax.numpy as jnp
from jax import config
from jax._src import test_util as jtu
from jax._src import xla_bridge
import numpy as np
import pytest
import scipy.linalg

from jax_patch.scipy.linalg import solve_sylvester


@pytest.fixture(autouse=True)
def _x64():
  old = config.jax_enable_x64
  config.update("jax_enable_x64", True)
  yield
  config.update("jax_enable_x64", old)


# Relative tolerances: the problems below have Sylvester operators of
# condition number of order 10 (eigenvalue sums near 6, norms near 4), so a
# backward stable solve errs by a few hundred ulps at most.
TOL = {np.float32: 2e-4, np.complex64: 2e-4, np.float64: 1e-11,
       np.complex128: 1e-11}


def _random(rng, shape, dtype):
  x = rng.standard_normal(shape)
  if np.issubdtype(dtype, np.complexfloating):
    x = x + 1j * rng.standard_normal(shape)
  return x.astype(dtype)


def _matrix(rng, batch, n, dtype, hermitian, shift=3.0):
  # Eigenvalues within about 1 of `shift`: sums stay away from zero.
  x = _random(rng, batch + (n, n), dtype) / np.sqrt(n)
  if hermitian:
    x = (x + np.conj(np.swapaxes(x, -1, -2))) / 2
  return (x + shift * np.eye(n)).astype(dtype)


def _hermitian_part(x):
  return (x + np.conj(np.swapaxes(x, -1, -2))) / 2


def _scipy(a, b, c):
  # In complex128 from the same (rounded) inputs: SciPy 1.17 mis-solves
  # mixed real/complex inputs.
  shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2], c.shape[:-2])
  out = np.empty(shape + c.shape[-2:], np.result_type(a, b, c))
  a, b, c = (np.broadcast_to(x, shape + x.shape[-2:]) for x in (a, b, c))
  for i in np.ndindex(shape):
    x = scipy.linalg.solve_sylvester(*(np.asarray(v[i], np.complex128)
                                       for v in (a, b, c)))
    out[i] = x if np.iscomplexobj(out) else x.real
  return out


def _assert_close(x, expected, dtype):
  assert x.dtype == dtype
  np.testing.assert_allclose(x, expected, rtol=TOL[dtype], atol=TOL[dtype])


# method="eigh": Hermitian A and B, on every platform.


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64,
                                   np.complex128])
def test_eigh_against_scipy(dtype):
  rng = np.random.default_rng(0)
  a = _matrix(rng, (2,), 4, dtype, True)
  b = _matrix(rng, (), 3, dtype, True)
  c = _random(rng, (2, 4, 3), dtype)
  _assert_close(solve_sylvester(a, b, c, method="eigh"), _scipy(a, b, c),
                dtype)


def test_eigh_uses_hermitian_parts():
  # Only the Hermitian parts of A and B count: the anti-Hermitian ones,
  # of the same size here, would change the solution by order 1.
  rng = np.random.default_rng(1)
  a = _matrix(rng, (), 4, np.complex128, False)
  b = _matrix(rng, (), 3, np.complex128, False)
  c = _random(rng, (4, 3), np.complex128)
  expected = _scipy(_hermitian_part(a), _hermitian_part(b), c)
  _assert_close(solve_sylvester(a, b, c, method="eigh"), expected,
                np.complex128)
  assert np.abs(_scipy(a, b, c) - expected).max() > 1e-2


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_eigh_grads_all_arguments(dtype):
  rng = np.random.default_rng(2)
  a = _matrix(rng, (), 4, dtype, True)
  b = _matrix(rng, (), 3, dtype, True)
  c = _random(rng, (4, 3), dtype)
  f = lambda a, b, c: solve_sylvester(a, b, c, method="eigh")
  jtu.check_grads(f, (a, b, c), order=2, modes=["fwd", "rev"])
  # With Hermitian tangents, the tangent solves A dX + dX B = dC - dA X -
  # X dB, to a backward stable residual (condition number of order 10).
  x = np.asarray(f(a, b, c))
  da, db = (_hermitian_part(_random(rng, y.shape, dtype)) for y in (a, b))
  dc = _random(rng, c.shape, dtype)
  _, dx = jax.jvp(f, (a, b, c), (da, db, dc))
  np.testing.assert_allclose(a @ dx + dx @ b, dc - da @ x - x @ db,
                             rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("n", [80, 81])
def test_eigh_equal_shapes_factored_together(n):
  # As for the other methods (upstream_tests): A and B of equal shapes up to
  # n = 80 are factored as one batch of two, larger ones separately.
  rng = np.random.default_rng(3)
  a = _matrix(rng, (2,), n, np.complex128, True)
  b = _matrix(rng, (), n, np.float64, True)
  c = _random(rng, (2, n, n), np.complex128)
  solve = lambda a, b, c: solve_sylvester(a, b, c, method="eigh")
  with jax.numpy_dtype_promotion("standard"):
    jaxpr = str(jax.make_jaxpr(solve)(a, b, c))
    x = solve(a, b, c)
  assert jaxpr.count("eigh[") == (1 if n <= 80 else 2)
  # A backward stable solve errs by a few times n eps times the condition
  # number (of order 10).
  expected = _scipy(a, b, c)
  err = np.abs(np.asarray(x) - expected).max() / np.abs(expected).max()
  assert err < 30 * n * np.finfo(np.float64).eps


def test_eigh_singular_and_nearly_singular():
  # tol keeps its meaning with method="eigh": NaN per batch element under
  # tol, in the value and in every derivative; tol=None gives the
  # generalized-inverse solution.
  a = np.stack([np.diag([1., 2., 3.]), np.diag([1.5, 2.5, 4.])])
  b = np.diag([-2., 5.])
  c = np.ones((2, 3, 2))
  solve = lambda a, b, c, **kw: solve_sylvester(a, b, c, method="eigh", **kw)
  x = np.asarray(solve(a, b, c))
  assert np.all(np.isnan(x[0]))
  np.testing.assert_allclose(x[1], 1 / (np.diag(a[1])[:, None] + np.diag(b)),
                             rtol=1e-14)
  for g in jax.grad(lambda *x: jnp.sum(solve(*x)), (0, 1, 2))(a, b, c):
    g = np.asarray(g)
    assert np.all(np.isnan(g[0] if g.ndim == 3 else g))
    if g.ndim == 3:
      assert np.all(np.isfinite(g[1]))
  x = np.asarray(solve(a[0], b, c[0], tol=None))
  # The singular pivot 2 - 2 gets 0; eigh factors diagonal matrices
  # exactly.
  np.testing.assert_allclose(x[1, 0], 0, atol=1e-14)
  np.testing.assert_allclose(x[0, 1], 1 / 6, rtol=1e-14)


# rtol: which pivots count as zero.


@pytest.mark.parametrize("method", ["schur", "eigh", "eigen"])
def test_rtol(method):
  # A pivot of 1e-12 is above the default relative threshold (max(m, n) eps
  # (max|T_A| + max|T_B|), about 1e-15 here): with tol=None its component is
  # solved, about 1e12. With rtol=1e-6 (a threshold of 3e-6) it counts as
  # zero and its component is 0; the others are unchanged.
  a = np.diag([1., 2.])
  b = np.diag([-1. + 1e-12, 1.])
  c = np.ones((2, 2))
  x = np.asarray(solve_sylvester(a, b, c, method=method, tol=None))
  np.testing.assert_allclose(x[0, 0], 1e12, rtol=1e-3)
  y = np.asarray(solve_sylvester(a, b, c, method=method, tol=None,
                                 rtol=1e-6))
  assert y[0, 0] == 0
  np.testing.assert_allclose(y[0, 1], 0.5, rtol=1e-14)
  np.testing.assert_allclose(y[1], [1 / (1 + 1e-12), 1 / 3], rtol=1e-12)


# broadening: every 1/d becomes conj(d) / (|d|^2 + beta).


@pytest.mark.parametrize("method", ["schur", "eigh", "eigen"])
def test_broadening(method):
  # For diagonal A and B the broadened solution is known entrywise.
  a, b = np.diag([1., 2., 3.]), np.diag([-4., 5.])
  c = np.arange(1., 7.).reshape(3, 2)
  d = np.diag(a)[:, None] + np.diag(b)[None, :]
  x = solve_sylvester(a, b, c, method=method, broadening=1.)
  np.testing.assert_allclose(x, c * d / (d ** 2 + 1.), rtol=1e-13)


def test_broadening_far_below_the_pivots_changes_nothing():
  # Real input with a real and a complex right-hand side: a broadening far
  # below the squared pivots (about 36) gives SciPy's solution.
  rng = np.random.default_rng(4)
  a = _matrix(rng, (), 6, np.float64, False)
  b = _matrix(rng, (), 4, np.float64, False)
  c = _random(rng, (6, 4), np.complex128)
  _assert_close(solve_sylvester(a, b, c.real, broadening=1e-20),
                _scipy(a, b, c.real), np.float64)
  _assert_close(solve_sylvester(a, b, c, broadening=1e-20), _scipy(a, b, c),
                np.complex128)


@pytest.mark.parametrize("method", ["schur", "eigh"])
def test_broadening_differentiable_in_c_only(method):
  # The broadened solution is linear in C: its derivative there is the
  # broadened solve itself. In A and B the implicit-function rule would be
  # wrong, so they raise.
  rng = np.random.default_rng(5)
  hermitian = method == "eigh"
  a = _matrix(rng, (), 4, np.float64, hermitian)
  b = _matrix(rng, (), 3, np.float64, hermitian)
  c, dc = _random(rng, (4, 3), np.float64), _random(rng, (4, 3), np.float64)
  solve = lambda a, b, c: solve_sylvester(a, b, c, method=method,
                                          broadening=1.)
  # The same solve with the same factors: equal up to rounding.
  _, tangent = jax.jvp(lambda c: solve(a, b, c), (c,), (dc,))
  np.testing.assert_allclose(tangent, solve(a, b, dc), rtol=1e-12,
                             atol=1e-12)
  for argnum, name in ((0, "A"), (1, "B")):
    with pytest.raises(NotImplementedError,
                       match=f"differentiable in C only, not in {name}"):
      jax.grad(lambda *x: jnp.sum(solve(*x)), argnum)(a, b, c)


# The platform check of method="schur" (jax.lax.linalg.schur is CPU only).


def test_schur_refused_where_the_solve_would_run_on_a_gpu():
  # Simulated GPU default backend: a trace-time error that names the way
  # out, instead of a failure in lowering.
  with mock.patch.object(xla_bridge, "default_backend", return_value="gpu"):
    with pytest.raises(ValueError, match="would run on gpu.*method='eigh'"):
      solve_sylvester(np.eye(2), np.eye(2), np.eye(2))
    # method="eigh" runs on every platform.
    np.testing.assert_allclose(
        solve_sylvester(2 * np.eye(2), np.eye(2), np.eye(2), method="eigh"),
        np.eye(2) / 3, rtol=1e-15)


def test_schur_runs_wherever_the_cpu_is_chosen():
  # On a machine whose default backend is a GPU (simulated), method='schur'
  # runs when the solve is placed on the CPU: by jax.default_device (a
  # device or a platform name) or by committed CPU inputs.
  cpu = jax.devices("cpu")[0]
  a, b = np.diag([1., 2., 3.]), np.diag([4., 5.])
  c = np.ones((3, 2))
  expected = c / (np.diag(a)[:, None] + np.diag(b)[None, :])
  with mock.patch.object(xla_bridge, "default_backend", return_value="gpu"):
    for device in (cpu, "cpu"):
      with jax.default_device(device):
        np.testing.assert_allclose(solve_sylvester(a, b, c), expected,
                                   rtol=1e-15)
    committed = [jax.device_put(x, cpu) for x in (a, b, c)]
    np.testing.assert_allclose(solve_sylvester(*committed), expected,
                               rtol=1e-15)

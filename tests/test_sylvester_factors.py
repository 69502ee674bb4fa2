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

"""jax_patch's own factor-once, solve-many pair (not part of the patches)."""

from unittest import mock

import jax
import jax.numpy as jnp
from jax import config
from jax._src import test_util as jtu
from jax._src import xla_bridge
import numpy as np
import pytest
import scipy.linalg

from jax_patch.scipy.linalg import sylvester_factor, sylvester_solve



@pytest.fixture(autouse=True)
def _x64():
  old = config.jax_enable_x64
  config.update("jax_enable_x64", True)
  yield
  config.update("jax_enable_x64", old)

# Relative tolerances: the problems have Sylvester operators of condition
# number of order 10, so errors are a few hundred ulps at most.
TOL = {np.float32: 2e-4, np.complex64: 2e-4, np.float64: 1e-11,
       np.complex128: 1e-11}


def _random(rng, shape, dtype):
  x = rng.standard_normal(shape)
  if np.issubdtype(dtype, np.complexfloating):
    x = x + 1j * rng.standard_normal(shape)
  return x.astype(dtype)


def _matrix(rng, n, dtype, hermitian):
  x = _random(rng, (n, n), dtype) / np.sqrt(n)
  if hermitian:
    x = (x + x.conj().T) / 2
  return (x + 3 * np.eye(n)).astype(dtype)


def _scipy(a, b, c):
  # In complex128: SciPy 1.17 mis-solves mixed real/complex inputs.
  out = np.empty(c.shape, np.result_type(a, b, c))
  for i in np.ndindex(c.shape[:-2]):
    x = scipy.linalg.solve_sylvester(*(np.asarray(v, np.complex128)
                                       for v in (a, b, c[i])))
    out[i] = x if np.iscomplexobj(out) else x.real
  return out


@pytest.mark.parametrize("method", ["schur", "eigh", "eigen"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64,
                                   np.complex128])
def test_factor_once_solve_many(method, dtype):
  rng = np.random.default_rng(10)
  hermitian = method == "eigh"
  a, b = _matrix(rng, 5, dtype, hermitian), _matrix(rng, 4, dtype, hermitian)
  cs = _random(rng, (3, 5, 4), dtype)
  factors = sylvester_factor(a, b, method=method)
  solve = jax.jit(sylvester_solve)
  for c in cs:
    np.testing.assert_allclose(solve(factors, c), _scipy(a, b, c[None])[0],
                               rtol=TOL[dtype], atol=TOL[dtype])
  # Batched right-hand sides broadcast against unbatched factors.
  np.testing.assert_allclose(solve(factors, cs), _scipy(a, b, cs),
                             rtol=TOL[dtype], atol=TOL[dtype])
  if np.dtype(dtype) in (np.float64, np.complex128):
    # Linear in c; the transpose reuses the factors.
    jtu.check_grads(lambda c: sylvester_solve(factors, c), (cs[0],), order=2,
                    modes=["fwd", "rev"])


def test_real_factors_with_complex_rhs_and_broadening():
  rng = np.random.default_rng(13)
  a, b = _matrix(rng, 6, np.float64, False), _matrix(rng, 4, np.float64, False)
  factors = sylvester_factor(a, b)
  assert factors.t_a.dtype == np.float64  # The real Schur form.
  c = _random(rng, (6, 4), np.complex128)
  np.testing.assert_allclose(sylvester_solve(factors, c),
                             _scipy(a, b, c[None])[0], rtol=1e-11, atol=1e-11)
  # A broadening far below the squared pivots (about 36) changes nothing.
  np.testing.assert_allclose(
      sylvester_solve(factors, c.real, broadening=1e-20),
      _scipy(a, b, c.real[None])[0], rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("method", ["schur", "eigen"])
def test_factors_are_a_pytree(method):
  # Registered in jax_patch.scipy.linalg: factors cross jit boundaries with
  # their arrays as leaves (None, where Z is unitary, as no leaf) and their
  # method and dtype as static data.
  rng = np.random.default_rng(4)
  a, b = _matrix(rng, 3, np.float64, False), _matrix(rng, 2, np.float64, False)
  factors = sylvester_factor(a, b, method=method)
  leaves = jax.tree.leaves(factors)
  assert len(leaves) == (4 if method == "schur" else 6)
  out = jax.jit(lambda f: f)(factors)
  assert (out.method, out.dtype) == (method, np.float64)
  for x, y in zip(out.arrays, factors.arrays):
    assert (x is None) == (y is None)
    if x is not None:
      np.testing.assert_array_equal(x, y)


def test_factors_are_constants():
  # No derivative flows back to a and b through the factors.
  rng = np.random.default_rng(3)
  a, b = _matrix(rng, 3, np.float64, False), _matrix(rng, 2, np.float64, False)
  c = _random(rng, (3, 2), np.float64)
  g = jax.grad(lambda a: jnp.sum(sylvester_solve(sylvester_factor(a, b), c)))(a)
  np.testing.assert_array_equal(g, np.zeros_like(a))


def test_bad_input():
  with pytest.raises(TypeError, match="sylvester_factor"):
    sylvester_solve((np.eye(2), np.eye(2)), np.eye(2))
  factors = sylvester_factor(np.eye(3), np.eye(2))
  with pytest.raises(ValueError, match=r"argument c .*\(2, 3\)"):
    sylvester_solve(factors, np.ones((2, 3)))
  with pytest.raises(ValueError, match=r"argument a .*\(3, 2\)"):
    sylvester_factor(np.ones((3, 2)), np.eye(2))
  with pytest.raises(ValueError, match="method"):
    sylvester_factor(np.eye(2), np.eye(2), method="qr")
  factors = sylvester_factor(np.ones((2, 3, 3)) + np.eye(3), np.eye(2))
  with pytest.raises(ValueError, match=r"batch.*\(4, 3, 2\)"):
    sylvester_solve(factors, np.ones((4, 3, 2)))


def test_factor_on_the_host_of_a_gpu_machine():
  # Where the default backend is a GPU (simulated), the Schur factors are
  # computed on the CPU under jax.default_device, as the lowering test below
  # intends for a GPU solve; without it the factorization is refused with a
  # clear error rather than a lowering failure.
  rng = np.random.default_rng(7)
  a, b = _matrix(rng, 6, np.float64, False), _matrix(rng, 4, np.float64, False)
  c = _random(rng, (6, 4), np.float64)
  with mock.patch.object(xla_bridge, "default_backend", return_value="gpu"):
    with pytest.raises(ValueError, match="would run on gpu"):
      sylvester_factor(a, b)
    with jax.default_device(jax.devices("cpu")[0]):
      factors = sylvester_factor(a, b)
  np.testing.assert_allclose(sylvester_solve(factors, c),
                             _scipy(a, b, c[None])[0], rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("platform", ["cuda", "rocm"])
@pytest.mark.parametrize("method", ["schur", "eigh", "eigen"])
@pytest.mark.parametrize("dtype", [np.float32, np.complex64])
def test_factored_solve_lowers_for_gpu(platform, method, dtype):
  # Factors computed on the CPU host (JAX has no GPU Schur decomposition) can
  # be moved to a GPU and solved there: the solve with them, and its
  # derivative in c, lower to standard StableHLO with no custom call (such
  # as a LAPACK one). Lowering only, which needs no GPU; n = 130 takes the
  # blocked kernel.
  rng = np.random.default_rng(5)
  n = 130
  hermitian = method == "eigh"
  a, b = _matrix(rng, n, dtype, hermitian), _matrix(rng, n, dtype, hermitian)
  factors = sylvester_factor(a, b, method=method)
  spec = lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype)
  c = jax.ShapeDtypeStruct((n, n), dtype)
  loss = lambda f, c: jnp.sum(jnp.abs(sylvester_solve(f, c)) ** 2)
  for fun in (sylvester_solve, jax.grad(loss, argnums=1)):
    exported = jax.export.export(jax.jit(fun), platforms=(platform,))(
        jax.tree.map(spec, factors), c)
    module = exported.mlir_module()
    assert "custom_call" not in module, (method, dtype)
    assert "stablehlo.dot_general" in module

@pytest.mark.parametrize("method", ["schur", "eigh", "eigen"])
@pytest.mark.parametrize("dtype", [np.float32, np.complex128])
def test_stacked_factors_match_separate(method, dtype, monkeypatch):
  # a and b of equal shapes up to _SYLVESTER_STACKED_FACTORS are factored as
  # one batch of two (run concurrently by the CPU LAPACK kernels). Each
  # matrix of the batch goes through the same LAPACK routine as alone, so the
  # factors are the separate ones, bit for bit.
  if jax.default_backend() != "cpu":
    pytest.skip("GPU solvers may pick another algorithm for a batch")
  from jax_patch._src.scipy import linalg as _linalg
  # The size upstream_tests/solve_sylvester_test.py tests on both sides of.
  assert _linalg._SYLVESTER_STACKED_FACTORS == 80
  rng = np.random.default_rng(11)
  n = 40
  hermitian = method != "schur"
  a = jnp.asarray(np.stack([_matrix(rng, n, dtype, hermitian)
                            for _ in range(3)]))
  b = jnp.asarray(np.stack([_matrix(rng, n, dtype, hermitian)
                            for _ in range(3)]))
  stacked = _linalg._sylvester_factor(a, b, method)
  monkeypatch.setattr(_linalg, "_SYLVESTER_STACKED_FACTORS", 0)
  separate = _linalg._sylvester_factor(a, b, method)
  for x, y in zip(stacked.arrays, separate.arrays):
    assert (x is None) == (y is None)
    if x is not None:
      assert x.shape == y.shape and x.dtype == y.dtype
      np.testing.assert_array_equal(np.asarray(x), np.asarray(y))

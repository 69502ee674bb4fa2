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

"""Tests of sylvester_solve's Lorentzian broadening, which stays in jax_patch.

Upstream's sylvester_solve has no broadening (ci/stack.py,
PACKAGE_ONLY_SYLVESTER); these tests moved here from
upstream_tests/sylvester_solve_test.py.
"""

from functools import partial

import jax
from jax._src import test_util as jtu
import numpy as np
import pytest

from jax_patch.lax import linalg as lax_linalg


@pytest.fixture(autouse=True)
def _x64():
  with jax.enable_x64(True):
    yield


def _diag(d, dtype):
  d = np.asarray(d)
  return (d[..., None] * np.eye(d.shape[-1])).astype(dtype)


def _triangular(rng, n, dtype):
  # Upper triangular, diagonal of real part in [1.5, 2.5], off-diagonal
  # entries of size 1/sqrt(n).
  t = rng.standard_normal((n, n)) / np.sqrt(n)
  d = 1.5 + rng.uniform(size=n)
  if np.issubdtype(dtype, np.complexfloating):
    t = t + 1j * rng.standard_normal((n, n)) / np.sqrt(n)
    d = d + 1j * rng.uniform(-1, 1, size=n)
  return (np.triu(t, 1) + np.diag(d)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_broadening(dtype):
  # Diagonal A and B, with an exactly singular pivot a_0 + b_0 = 0:
  # Y = C conj(d) / (|d|^2 + beta) entrywise, d = a_i + b_j.
  a = np.array([1., 2., -0.5])
  b = np.array([-1., 0.5, 0.75])
  c = (np.arange(9.).reshape(3, 3) + 1).astype(dtype)
  beta = 0.25
  solve = partial(lax_linalg.sylvester_solve, broadening=beta)
  y = solve(_diag(a, dtype), _diag(b, dtype), c)
  d = a[:, None] + b[None, :]
  np.testing.assert_allclose(y, c * np.conj(d) / (np.abs(d) ** 2 + beta),
                             rtol=1e-13)
  # Triangular, with an exactly singular pivot a_00 + b_00 = 0: a smooth
  # function of all operands. beta sets the curvature near d = 0 (the
  # third derivative of the Lorentzian is of order beta^-2), hence the
  # small finite-difference step. First order, jitted, in float64.
  rng = np.random.default_rng(0)
  at, bt = _triangular(rng, 4, dtype), -_triangular(rng, 3, dtype)
  at[0, 0] = -bt[0, 0]
  ct = rng.standard_normal((4, 3)).astype(dtype)
  jtu.check_grads(jax.jit(solve), (at, bt, ct), order=1,
                  modes=["fwd", "rev"], eps=1e-6)


def test_bad_broadening():
  f32 = lambda *s: jax.ShapeDtypeStruct(s, np.float32)
  solve = lax_linalg.sylvester_solve
  with pytest.raises(ValueError, match="broadening must be None or"):
    jax.eval_shape(partial(solve, broadening=-1.), f32(3, 3), f32(2, 2),
                   f32(3, 2))
  with pytest.raises(ValueError, match="quasi_triangular.*broadening"):
    jax.eval_shape(partial(solve, quasi_triangular=True, broadening=1e-3),
                   f32(3, 3), f32(2, 2), f32(3, 2))

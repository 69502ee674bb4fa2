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

"""Tests for the JVP of the SVD with full_matrices=True (issue #508)."""

import functools

from absl.testing import absltest
import numpy as np

import jax
from jax import numpy as jnp
from jax._src import config
from jax._src import test_util as jtu

config.parse_flags_with_absl()

inexact_types = jtu.dtypes.floating + jtu.dtypes.complex

# Tolerances against float64 oracles evaluated at the (rounded) input. The
# rule's error is the SVD's rounding error times the conditioning of the
# derivative, measured at most 1e-6 (single) and 1e-14 (double) relative at
# the exactly degenerate inputs below, and bounded by about sqrt(eps) for
# pairs just above the degeneracy tolerance (measured: 7e-5 and 6e-10, see
# testNearDegenerateSplittingsStayAccurate). The float64 bound also covers
# the Richardson-extrapolated central differences (about 1e-10).
_TOL = {np.float32: 3e-4, np.complex64: 3e-4, np.float64: 1e-8,
        np.complex128: 1e-8}


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


def _inner(x, y):
  # The directional derivative <grad L, E> of a real loss, in JAX's
  # convention for complex cotangents.
  return float(np.real(np.sum(_f64(x) * _f64(y))))


def _central_difference(f, x, dx, h=1e-3):
  # Richardson-extrapolated central difference of a float64 function: error
  # O(h^4) + O(eps / h), about 1e-11 relative here.
  x, dx = _f64(x), _f64(dx)
  d = lambda h: (f(x + h * dx) - f(x - h * dx)) / (2 * h)
  return (4 * d(h / 2) - d(h)) / 3


class SvdFullMatricesJvpTest(jtu.JaxTestCase):

  @jtu.sample_product(
      case=[((5, 3), (3., 2., 1.)), ((3, 5), (3., 2., 1.)),
            ((5, 3), (2., 2., 1.)), ((6, 4), (2., 1., 0., 0.))],
      dtype=inexact_types,
  )
  def testFullMatrices(self, case, dtype):
    # #508: no JVP for full_matrices=True on non-square input. The rule
    # differentiates the complement too, exactly for losses that do not
    # depend on its basis: here X diag(d) X^H for the full U or V, with d
    # equal on each degenerate cluster, the zero singular values and the
    # complement.
    shape, s = case
    rng = self.rng()
    a = _with_singular_values(rng, s, shape, dtype)
    e = _random(rng, shape, dtype)
    p = max(shape)
    d = np.concatenate([[1.5, -0.5, 0.25, 2.][:len(s)],
                        np.full(p - len(s), 0.75)])
    d[1] = d[0] if s[1] == s[0] else d[1]
    d[np.flatnonzero(np.asarray(s) == 0)] = 0.75
    d = d.astype(dtype)
    weights = _random(rng, (p, p), dtype)
    pick = lambda u, vh: u if shape[0] > shape[1] else jnp.conj(vh).mT
    def loss(a):
      u, _, vh = jnp.linalg.svd(a, full_matrices=True)
      x = pick(u, vh)
      return jnp.sum(jnp.real(weights * ((x * d[None, :]) @ jnp.conj(x).mT)))
    def np_loss(a):
      u, _, vh = np.linalg.svd(a, full_matrices=True)
      x = u if shape[0] > shape[1] else vh.conj().T
      return float(np.sum(np.real(weights * ((x * d) @ x.conj().T))))
    fd = _central_difference(np_loss, a, e)
    tol = _TOL[dtype]
    _, forward = jax.jvp(loss, (a,), (e,))
    self.assertAllClose(float(forward), fd, rtol=tol, atol=tol)
    self.assertAllClose(_inner(jax.grad(loss)(a), e), fd, rtol=tol, atol=tol)
    # The full U and V^H stay unitary to first order: X^H dX is
    # skew-Hermitian.
    _, (du, _, dvh) = jax.jvp(
        functools.partial(jnp.linalg.svd, full_matrices=True), (a,), (e,))
    u, _, vh = jnp.linalg.svd(a, full_matrices=True)
    for x, dx in ((u, du), (jnp.conj(vh).mT, jnp.conj(dvh).mT)):
      skew = _f64(jnp.conj(x).mT @ dx)
      self.assertAllClose(skew, -skew.conj().T, rtol=tol, atol=tol)

  @jtu.sample_product(shape=[(5, 3), (3, 5)], dtype=inexact_types)
  def testReducedColumnsMatchThinJvp(self, shape, dtype):
    # The first min(m, n) columns of the full U (V) and their tangents are
    # those of the thin SVD, under jit and vmap too.
    rng = self.rng()
    a = _with_singular_values(rng, (3., 2., 1.), shape, dtype)
    e = _random(rng, shape, dtype)
    k = min(shape)
    thin = jax.jvp(functools.partial(jnp.linalg.svd, full_matrices=False),
                   (a,), (e,))[1]
    full = jax.jit(jax.vmap(lambda a, e: jax.jvp(
        functools.partial(jnp.linalg.svd, full_matrices=True), (a,), (e,))[1]
    ))(a[None], e[None])
    tol = _TOL[dtype]
    self.assertAllClose(full[0][0][:, :k], thin[0], rtol=tol, atol=tol)
    self.assertAllClose(full[1][0], thin[1], rtol=tol, atol=tol)
    self.assertAllClose(full[2][0][:k], thin[2], rtol=tol, atol=tol)


if __name__ == "__main__":
  absltest.main(testLoader=jtu.JaxTestLoader())

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

"""Stock JAX against jax_patch for eig's eigenvector derivatives (issue 25).

  python -m jax_patch demo

Every number is computed when this runs: the derivative of a loss through
the spectral projector P = V[:, D] inv(V)[D, :] of a whole cluster D of
eigenvalues of a non-normal matrix (well defined while D stays apart from
the rest), by stock JAX's and jax_patch's rules for
``jax.lax.linalg.eig(a, enable_eigvec_derivs=True)``, forward (jvp) and
reverse (grad), next to Richardson-extrapolated central differences of
SciPy's eig.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

import jax_patch
from jax_patch.demo._common import central_difference, stock_and_patched

TITLE = ("eig of non-normal matrices with repeated eigenvalues "
         "(JAX #2748, PR #36832)")


def _similar(rng, diagonal, complex_):
  # X D X^-1 for a random X: a non-normal matrix with the spectrum of D.
  n = diagonal.shape[0]
  x = rng.standard_normal((n, n))
  if complex_:
    x = x + 1j * rng.standard_normal((n, n))
  a = x @ diagonal @ np.linalg.inv(x)
  return a if complex_ else a.real


def _cases():
  rng = np.random.default_rng(3)
  pair = np.array([[0.5, 1.5], [-1.5, 0.5]])
  blocks = scipy.linalg.block_diag(pair, pair, [[-1.]])
  yield ("real 4x4, double eigenvalue 1", None,
         _similar(rng, np.diag([1., 1., 3., -2.]), False), 1., 2)
  yield ("real 6x6, triple eigenvalue 2", None,
         _similar(rng, np.diag([2., 2., 2., -1., 4., .5]), False), 2., 3)
  yield ("real 5x5, double complex pair 0.5 +- 1.5i (cluster 0.5 + 1.5i)",
         None, _similar(rng, blocks, False), .5 + 1.5j, 2)
  yield ("complex 4x4, double eigenvalue 1 + i", None,
         _similar(rng, np.diag([1 + 1j, 1 + 1j, -1, 2j]), True), 1 + 1j, 2)
  yield ("complex 4x4, pair split by 1e-12 (jax_linalg_degeneracy_rtol="
         "'sqrt_eps')", "sqrt_eps",
         _similar(rng, np.diag([1 + 1j, 1 + 1j + 1e-12, -1, 2j]), True),
         1 + 1j, 2)


def _cluster(w, centre, m):
  return np.sort(np.argsort(np.abs(np.asarray(w) - centre))[:m])


def _np_loss(a, g, centre, m):
  w, v = scipy.linalg.eig(a)
  d = _cluster(w, centre, m)
  return np.real(np.sum(g * (v[:, d] @ np.linalg.inv(v)[d, :])))


def _loss(a, g, d):
  _, v = jax.lax.linalg.eig(a, compute_left_eigenvectors=False,
                            enable_eigvec_derivs=True)
  return jnp.real(jnp.sum(g * (v[:, d] @ jnp.linalg.inv(v)[d, :])))


def run(out=print):
  with jax.enable_x64(True):
    _run(out)


def _run(out):
  out("  <d/dA sum(G * P_D), E>, P_D the cluster's spectral projector: "
      "jvp, grad")
  for label, rtol, a, centre, m in _cases():
    rng = np.random.default_rng(7)
    n = a.shape[0]
    e = rng.standard_normal((n, n))
    if np.iscomplexobj(a):
      e = e + 1j * rng.standard_normal((n, n))
    g = rng.standard_normal((n, n))
    d = _cluster(np.linalg.eigvals(a), centre, m)
    f = lambda a: _np_loss(a, g, centre, m)
    reference = (4 * central_difference(f, a, e, 5e-5)
                 - central_difference(f, a, e, 1e-4)) / 3
    loss = lambda a: _loss(a, g, d)
    def both():
      with jax_patch.linalg_degeneracy_rtol(rtol):
        fwd = float(jax.jvp(loss, (a,), (e,))[1])
        rev = float(np.real(np.sum(np.asarray(jax.grad(loss)(a)) * e)))
      return fwd, rev
    stock, patched = stock_and_patched(both)
    out(f"  {label}")
    out(f"    stock JAX : {stock[0]:.10g}, {stock[1]:.10g}")
    out(f"    jax_patch : {patched[0]:.10g}, {patched[1]:.10g}")
    out(f"    reference : {reference:.10g} (central difference)")

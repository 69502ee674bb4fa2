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


"""Stock JAX against jax_patch for eigh with repeated eigenvalues (JAX #669,
#4646): a projector, and the benzene Hueckel density matrix in both modes.

Every number is computed when this runs.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jax_patch.demo._common import central_difference, row, stock_and_patched

TITLE = "eigh with repeated eigenvalues (JAX #669, #4646)"


def run(out=print):
  def grad_trace_complex():
    f = lambda x: jnp.real(jnp.sum(jnp.linalg.eigh(x)[0]))
    return jax.jit(jax.grad(f))(np.eye(3, dtype=np.complex128)).ravel()
  row(out, "jit(grad(sum(eigvalsh(x)))) at x = eye(3), complex "
      "(exact: eye(3))", *stock_and_patched(grad_trace_complex),
      np.eye(3).ravel())

  weights = np.arange(9.).reshape(3, 3)
  def grad_projector_identity():
    def f(a):
      _, v = jnp.linalg.eigh(a)
      return jnp.sum(weights * (v[:, :2] @ v[:, :2].T))
    a = np.diag([1., 1., 2.])
    return jax.grad(f)(a).ravel()
  def fd_projector():
    a = np.diag([1., 1., 2.])
    def f(a):
      v = np.linalg.eigh(a)[1]
      return np.sum(weights * (v[:, :2] @ v[:, :2].T))
    g = np.zeros((3, 3))
    for i in range(3):
      for j in range(3):
        e = np.zeros((3, 3))
        e[i, j] = 1
        g[i, j] = central_difference(f, a, (e + e.T) / 2)
    return g.ravel()
  row(out, "grad of sum(W * P), P = projector on the repeated eigenvalue 1 "
      "of diag(1, 1, 2)", *stock_and_patched(grad_projector_identity),
      fd_projector())

  n = 6
  huckel = -(np.roll(np.eye(n), 1, 0) + np.roll(np.eye(n), -1, 0))
  w = np.random.RandomState(0).randn(n, n)
  e = np.random.RandomState(1).randn(n, n)
  e = e + e.T
  def density(a):
    _, v = jnp.linalg.eigh(a)
    return jnp.sum(w * (v[:, :3] @ v[:, :3].T))
  def benzene_reverse():
    return float(np.sum(jax.grad(density)(huckel) * e))
  def benzene_forward():
    return float(jax.jvp(density, (huckel,), (e,))[1])
  def fd():
    def f(a):
      v = np.linalg.eigh(a)[1]
      return np.sum(w * (v[:, :3] @ v[:, :3].T))
    d = lambda h: central_difference(f, huckel, e, h)
    return (4 * d(5e-4) - d(1e-3)) / 3
  out("  benzene Hückel matrix (eigenvalues -2, -1, -1, 1, 1, 2 up to "
      "rounding),")
  out("  directional derivative of sum(W * P_occ), P_occ the density "
      "matrix of 3 orbitals:")
  row(out, "  reverse mode (grad)", *stock_and_patched(benzene_reverse),
      fd())
  row(out, "  forward mode (jvp)", *stock_and_patched(benzene_forward),
      fd())

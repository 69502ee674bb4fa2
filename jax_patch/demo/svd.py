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

"""Stock JAX against jax_patch for the SVD's derivatives (issue 11).

  python -m jax_patch demo

Every number is computed when this runs: stock JAX's and jax_patch's
derivatives, next to central differences of NumPy's SVD and, for the polar
factor U V^H, its closed-form derivative (a Lyapunov equation).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from jax_patch.demo._common import central_difference, row, stock_and_patched

TITLE = "Singular value decomposition with repeated singular values (JAX #2311)"


def _with_singular_values(rng, s, m, n, complex_=False):
  def unitary(k):
    z = rng.standard_normal((k, k))
    if complex_:
      z = z + 1j * rng.standard_normal((k, k))
    return np.linalg.qr(z)[0]
  return (unitary(m)[:, :len(s)] * s) @ unitary(n)[:, :len(s)].conj().T


def _richardson(f, x, dx):
  # Central differences with steps 1e-3 and 5e-4, extrapolated: about
  # 1e-11 relative for these float64 functions.
  return (4 * central_difference(f, x, dx, 5e-4)
          - central_difference(f, x, dx, 1e-3)) / 3


def _polar(a):
  u, _, vh = jnp.linalg.svd(a, full_matrices=False)
  return u @ vh


def _polar_derivative(a, e):
  # A = Q P with P = (A^H A)^(1/2); Q^H dQ = Ω solves Ω P + P Ω = Q^H E - E^H Q.
  q, p = scipy.linalg.polar(a)
  return q @ scipy.linalg.solve_sylvester(p, p, q.conj().T @ e - e.conj().T @ q)


def _projector(a):
  u = jnp.linalg.svd(a)[0][:, :2]
  return u @ u.conj().T


def _np_projector(a):
  u = np.linalg.svd(a)[0][:, :2]
  return u @ u.conj().T


def _directional(loss, a, e):
  """(<grad loss(a), e>, jvp of loss along e): reverse and forward mode."""
  reverse = float(np.real(np.sum(np.asarray(jax.grad(loss)(a)) * e)))
  return reverse, float(jax.jvp(loss, (a,), (e,))[1])


def _off(value, reference):
  err = abs(value / reference - 1)
  return f"{value:.6g} ({err:.0%} off)" if not err < 1e-3 else (
      f"{value:.6g} (relative error {err:.0e})")


def run(out=print):
  with jax.enable_x64(True):
    _run(out)


def _run(out):
  # Each case draws from its own seed. Whether stock JAX returns NaN or
  # finite wrong numbers depends on whether the computed singular values of
  # a cluster tie exactly, which changes from matrix to matrix.
  rng = np.random.default_rng(0)
  a = _with_singular_values(rng, [2., 2., 2., 0.5], 4, 4)
  w = rng.standard_normal((4, 4))
  e = rng.standard_normal((4, 4))
  loss = lambda a: jnp.sum(w * _polar(a))
  closed = np.sum(w * _polar_derivative(a, e))
  fd = _richardson(lambda a: np.sum(w * scipy.linalg.polar(a)[0]), a, e)
  row(out, "<grad sum(W * U V^H), E> (the polar factor) at singular values "
      "(2, 2, 2, 0.5)",
      *stock_and_patched(lambda: _directional(loss, a, e)[0]),
      f"{fd:.10g} (central difference), {closed:.10g} (closed form)")

  rng = np.random.default_rng(1)
  a = _with_singular_values(rng, [3., 3., 1., 1.], 4, 4)
  w = rng.standard_normal((4, 4))
  e = rng.standard_normal((4, 4))
  loss = lambda a: jnp.sum(w * _projector(a))
  fd = _richardson(lambda a: np.sum(w * _np_projector(a)), a, e)
  stock, patched = stock_and_patched(lambda: _directional(loss, a, e))
  out("  projector U[:, :2] U[:, :2]^T at singular values (3, 3, 1, 1), "
      "along E (grad, jvp)")
  out(f"    stock JAX : {stock[0]:.10g}, {stock[1]:.10g}")
  out(f"    jax_patch : {patched[0]:.10g}, {patched[1]:.10g}")
  out(f"    reference : {fd:.10g} (central difference)")

  rng = np.random.default_rng(0)
  a = _with_singular_values(rng, [2., 2., 2., 0.5], 4, 4, complex_=True)
  w = rng.standard_normal((4, 4))
  e = rng.standard_normal((4, 4)) + 1j * rng.standard_normal((4, 4))
  loss = lambda a: jnp.real(jnp.sum(w * _polar(a)))
  closed = np.real(np.sum(w * _polar_derivative(a, e)))
  stock, patched = stock_and_patched(lambda: _directional(loss, a, e))
  out("  complex input: sum(W * Re(U V^H)) at singular values (2, 2, 2, 0.5), "
      "along E")
  for name, (g, f) in (("stock JAX", stock), ("jax_patch", patched)):
    out(f"    {name} : grad {_off(g, closed)}, jvp {_off(f, closed)}")
  out(f"    reference : {closed:.10g} (closed form)")

  rng = np.random.default_rng(1)
  batch = np.stack([_with_singular_values(rng, [3., 3., 1., 1.], 4, 4),
                    rng.standard_normal((4, 4))])
  w = rng.standard_normal((4, 4))
  e = rng.standard_normal((4, 4))
  loss = lambda a: jnp.sum(w * _projector(a))
  fds = [_richardson(lambda a: np.sum(w * _np_projector(a)), x, e)
         for x in batch]
  def batched():
    grads = np.asarray(jax.jit(jax.vmap(jax.grad(loss)))(batch))
    return ", ".join(_off(np.sum(g * e), fd) for g, fd in zip(grads, fds))
  row(out, "jit(vmap(grad)) of the projector over [singular values "
      "(3, 3, 1, 1), generic], along E", *stock_and_patched(batched),
      ", ".join(f"{fd:.6g}" for fd in fds))

  rng = np.random.default_rng(4)
  a = _with_singular_values(rng, [3., 2., 1.], 5, 3)
  w = rng.standard_normal((5, 5))
  e = rng.standard_normal((5, 3))
  def complement(a):  # U_2 U_2^T: invariant to the complement's basis.
    u = jnp.linalg.svd(a, full_matrices=True)[0][:, 3:]
    return jnp.sum(w * (u @ u.T))
  def np_complement(a):
    u = np.linalg.svd(a, full_matrices=True)[0][:, 3:]
    return np.sum(w * (u @ u.T))
  row(out, "full_matrices=True, 5 x 3: jvp of sum(W * U_2 U_2^T), U_2 the "
      "complement (JAX #508)",
      *stock_and_patched(lambda: jax.jvp(complement, (a,), (e,))[1]),
      _richardson(np_complement, a, e))

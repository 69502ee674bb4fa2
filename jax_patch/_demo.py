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

"""``python -m jax_patch demo``: stock JAX and jax_patch, side by side.

Every number printed is computed when the demo runs.
"""

from __future__ import annotations

import time

import numpy as np

import jax
import jax.numpy as jnp

import jax_patch


def _stock_and_patched(fun):
  """Returns (fun() with stock JAX, fun() with jax_patch installed)."""
  was_installed = jax_patch.is_installed()
  jax_patch.uninstall()
  try:
    stock = _capture(fun)
    with jax_patch.patched():
      patched = _capture(fun)
  finally:
    if was_installed:
      jax_patch.install()
  return stock, patched


def _capture(fun):
  try:
    return fun()
  except Exception as e:  # pylint: disable=broad-except
    first = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {first[:70]}"


def _fmt(x) -> str:
  if isinstance(x, str):
    return x
  x = np.asarray(x)
  if x.size == 1:
    return f"{complex(x.item()).real:.10g}" if np.iscomplexobj(x) else (
        f"{float(x):.10g}")
  flat = np.round(np.real(x).ravel(), 4)
  s = np.array2string(flat[:6], separator=", ")
  nan = " (NaN)" if np.isnan(x).any() else ""
  return s + (" ..." if flat.size > 6 else "") + nan


def _row(out, label, stock, patched, reference=None):
  out(f"  {label}")
  out(f"    stock JAX : {_fmt(stock)}")
  out(f"    jax_patch : {_fmt(patched)}")
  if reference is not None:
    out(f"    reference : {_fmt(reference)}")


def _central_difference(f, x, dx, h=1e-4):
  return (f(x + h * dx) - f(x - h * dx)) / (2 * h)


def demo_eigh(out=print):
  out("eigh with repeated eigenvalues (JAX #669, #4646)")
  out("-" * 72)

  def grad_trace_complex():
    f = lambda x: jnp.real(jnp.sum(jnp.linalg.eigh(x)[0]))
    return jax.jit(jax.grad(f))(np.eye(3, dtype=np.complex128)).ravel()
  _row(out, "jit(grad(sum(eigvalsh(x)))) at x = eye(3), complex "
       "(exact: eye(3))", *_stock_and_patched(grad_trace_complex),
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
        g[i, j] = _central_difference(f, a, (e + e.T) / 2)
    return g.ravel()
  _row(out, "grad of sum(W * P), P = projector on the repeated eigenvalue 1 "
       "of diag(1, 1, 2)", *_stock_and_patched(grad_projector_identity),
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
    d = lambda h: _central_difference(f, huckel, e, h)
    return (4 * d(5e-4) - d(1e-3)) / 3
  out("  benzene Hückel matrix (eigenvalues -2, -1, -1, 1, 1, 2 up to "
      "rounding),")
  out("  directional derivative of sum(W * P_occ), P_occ the density "
      "matrix of 3 orbitals:")
  _row(out, "  reverse mode (grad)", *_stock_and_patched(benzene_reverse),
       fd())
  _row(out, "  forward mode (jvp)", *_stock_and_patched(benzene_forward),
       fd())
  out("")


def demo_sylvester(out=print):
  out("Sylvester equation A X + X B = C")
  out("-" * 72)
  rng = np.random.default_rng(0)
  n = 100
  a = rng.standard_normal((n, n)) / np.sqrt(n) + 3 * np.eye(n)
  b = rng.standard_normal((n, n)) / np.sqrt(n) + 3 * np.eye(n)
  c = rng.standard_normal((n, n))

  def grad_in_a():
    loss = lambda a: jnp.sum(jax.scipy.linalg.solve_sylvester(a, b, c) ** 2)
    g = jax.grad(loss)(a)
    h = rng.standard_normal((n, n))
    exact = np.sum(np.asarray(g) * h)
    import scipy.linalg  # pylint: disable=g-import-not-at-top
    f = lambda a: np.sum(scipy.linalg.solve_sylvester(a, b, c) ** 2)
    return f"d/dA . H = {exact:.10g} (central difference " + (
        f"{_central_difference(f, a, h, 1e-5):.10g})")
  stock, patched = _stock_and_patched(grad_in_a)
  _row(out, f"grad of sum(X^2) with respect to A (n = {n})", stock, patched)

  def singular():
    a = np.diag([1., 2., 3.])
    b = np.diag([-2., 5.])
    return jax.scipy.linalg.solve_sylvester(a, b, np.ones((3, 2)),
                                            tol=None).ravel()
  _row(out, "singular pair λ(A) + λ(B) = 0 (A = diag(1, 2, 3), "
       "B = diag(-2, 5)), opt-in tol=None\n  (the default tol=1e-8 gives "
       "all NaN in both, as before)", *_stock_and_patched(singular),
       "[-1, 1/6, 0 (pseudo-inverse for 1/0), 1/7, 1, 1/8]")

  def timing():
    f = jax.jit(jax.scipy.linalg.solve_sylvester)
    x = f(a, b, c).block_until_ready()
    t = time.perf_counter()
    for _ in range(3):
      x = f(a, b, c).block_until_ready()
    ms = (time.perf_counter() - t) / 3 * 1e3
    residual = np.abs(a @ x + x @ b - c).max()
    return f"{ms:.1f} ms per solve, max residual {residual:.1e}"
  def scipy_timing():
    import scipy.linalg  # pylint: disable=g-import-not-at-top
    t = time.perf_counter()
    for _ in range(3):
      x = scipy.linalg.solve_sylvester(a, b, c)
    ms = (time.perf_counter() - t) / 3 * 1e3
    return f"{ms:.1f} ms per solve (scipy), max residual " + (
        f"{np.abs(a @ x + x @ b - c).max():.1e}")
  _row(out, f"jit(solve_sylvester) at n = {n}, float64",
       *_stock_and_patched(timing), scipy_timing())
  out("")


def main(out=print) -> None:
  jax.config.update("jax_enable_x64", True)
  out(f"jax {jax.__version__}, jax_patch {jax_patch.__version__}, "
      f"backend {jax.default_backend()}, float64 (stock JAX below is jax "
      f"{jax.__version__}, as measured now)")
  out("")
  demo_eigh(out)
  demo_sylvester(out)
  from jax_patch import _demo_svd  # pylint: disable=g-import-not-at-top
  out("Singular value decomposition with repeated singular values (JAX #2311)")
  out("-" * 72)
  _demo_svd.run(out)
  try:
    from jax_patch import _demo_matfun  # pylint: disable=g-import-not-at-top
  except ImportError:
    return
  out("Hermitian matrix functions (eigh's rule cannot give f')")
  out("-" * 72)
  _demo_matfun.run(out)
  out("")
  from jax_patch import _demo_eigh_generalized  # pylint: disable=g-import-not-at-top
  out("Generalized eigenproblem eigh(a, b) (JAX #5461)")
  out("-" * 72)
  _demo_eigh_generalized.run(out)

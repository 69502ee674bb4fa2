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

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from jax._src import dtypes
from jax._src import lax
from jax._src import numpy as jnp
from jax._src import tree_util
from jax._src import xla_bridge
from jax._src.api import jit
from jax._src.lax import control_flow
from jax._src.lax.lax import optimization_barrier
from jax._src.numpy import linalg as jnp_linalg
from jax._src.numpy.util import promote_dtypes_inexact
from jax._src.typing import Array, ArrayLike

from jax_patch._src.lax import linalg as lax_linalg


# Sylvester equation

_SYLVESTER_METHODS = ("schur", "eigh", "eigen")


@tree_util.register_pytree_node_class
class SylvesterFactors:
  """Factors of :math:`A` and :math:`B` from :func:`sylvester_factor`.

  :math:`A = Z_A T_A Z_A^{-1}` and likewise for :math:`B`: with
  ``method="schur"``, ``t_a`` is upper triangular (for real input, upper
  quasi-triangular: the real Schur form) and ``z_a`` unitary; with
  ``"eigh"``, ``t_a`` holds the (real) eigenvalues and ``z_a`` is unitary;
  with ``"eigen"``, ``t_a`` holds the eigenvalues and ``z_a_inv`` is the
  inverse of ``z_a``. ``dtype`` is the dtype of ``a`` and ``b``.
  """

  def __init__(self, t_a, z_a, t_b, z_b, z_a_inv=None, z_b_inv=None, *,
               method: str, dtype: Any):
    self.t_a, self.z_a, self.t_b, self.z_b = t_a, z_a, t_b, z_b
    self.z_a_inv, self.z_b_inv = z_a_inv, z_b_inv
    self.method, self.dtype = method, np.dtype(dtype)

  @property
  def arrays(self):
    return (self.t_a, self.z_a, self.t_b, self.z_b, self.z_a_inv,
            self.z_b_inv)

  def tree_flatten(self):
    return self.arrays, (self.method, self.dtype)

  @classmethod
  def tree_unflatten(cls, aux, children):
    method, dtype = aux
    return cls(*children, method=method, dtype=dtype)


def _check_sylvester_shapes(a: Array, b: Array, c: Array | None) -> None:
  for name, x in (("a", a), ("b", b)):
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
      raise ValueError(
          f"solve_sylvester: argument {name} must have shape [..., k, k], got "
          f"shape {x.shape}.")
  if c is None:
    return
  m, n = a.shape[-1], b.shape[-1]
  if c.ndim < 2 or c.shape[-2:] != (m, n):
    raise ValueError(
        f"solve_sylvester: argument c must have shape [..., {m}, {n}] to match "
        f"a with shape {a.shape} and b with shape {b.shape}, got shape "
        f"{c.shape}.")


def _check_sylvester_backend(method: str) -> None:
  if method == "schur" and xla_bridge.default_backend() != "cpu":
    raise ValueError(
        "solve_sylvester: method='schur' needs jax.lax.linalg.schur, which "
        f"JAX implements only on CPU (default backend: "
        f"{xla_bridge.default_backend()}). For Hermitian a and b use "
        "method='eigh', which runs on every platform.")


def _factor_one(x: Array, method: str) -> tuple[Array, Array, Array | None]:
  if method == "eigh":
    v, w = lax_linalg.eigh(x)
    return w, v, None
  if method == "eigen":
    w, v = jnp_linalg.eig(x)
    return w, v, jnp_linalg.inv(v)
  t, z = lax_linalg.schur(x)
  return t, z, None


def sylvester_factor(a: ArrayLike, b: ArrayLike, *,
                     method: str = "schur") -> SylvesterFactors:
  r"""Factors :math:`A` and :math:`B` once for many Sylvester solves.

  The factor step of :func:`solve_sylvester`, in the manner of
  :func:`lu_factor`: pass the result to :func:`sylvester_solve` to solve
  :math:`A X + X B = C` for any number of right-hand sides :math:`C`.

  Args:
    a: array of shape ``(..., m, m)``.
    b: array of shape ``(..., n, n)``; batch dimensions broadcast with ``a``.
    method: ``"schur"`` (default; any square matrices; Schur forms, real
      ones for real inputs, which are solved in real arithmetic; CPU only,
      since :func:`jax.lax.linalg.schur` is), ``"eigh"`` (``a`` and ``b``
      Hermitian; eigendecompositions; every platform) or ``"eigen"``
      (diagonalizable matrices; eigenvector bases, which are inaccurate for
      non-normal matrices).

  Returns:
    A :class:`SylvesterFactors`. The factorization is not differentiated
    (no derivative flows back to ``a`` and ``b`` through it); use
    :func:`solve_sylvester` to differentiate with respect to ``a`` and ``b``.
  """
  if method not in _SYLVESTER_METHODS:
    raise ValueError(
        f"sylvester_factor: method must be one of {_SYLVESTER_METHODS}, got "
        f"{method!r}.")
  a, b = promote_dtypes_inexact(jnp.asarray(a), jnp.asarray(b))
  _check_sylvester_shapes(a, b, None)
  _check_sylvester_backend(method)
  batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
  a = jnp.broadcast_to(a, batch + a.shape[-2:])
  b = jnp.broadcast_to(b, batch + b.shape[-2:])
  a, b = lax.stop_gradient(a), lax.stop_gradient(b)
  t_a, z_a, z_a_inv = _factor_one(a, method)
  t_b, z_b, z_b_inv = _factor_one(b, method)
  return SylvesterFactors(t_a, z_a, t_b, z_b, z_a_inv, z_b_inv,
                          method=method, dtype=a.dtype)


def _sylvester_solve_factored(factors: SylvesterFactors, c: Array, *,
                              transpose: bool, rtol: float | None,
                              broadening: float | None) -> Array:
  # A = Z_A T_A Z_A^{-1} and B = Z_B T_B Z_B^{-1}. Then A X + X B = C is
  # T_A Y + Y T_B = Z_A^{-1} C Z_B with X = Z_A Y Z_B^{-1}, and the transposed
  # equation A^T X + X B^T = C is T_A^T Y + Y T_B^T = Z_A^T C Z_B^{-T} with
  # X = Z_A^{-T} Y Z_B^T (for unitary Z, Z^{-1} = Z^H and Z^{-T} = conj(Z)).
  t_a, z_a, t_b, z_b, z_a_inv, z_b_inv = factors.arrays
  quasi = (factors.method == "schur" and
           not dtypes.issubdtype(t_a.dtype, np.complexfloating))
  if quasi and (broadening is not None or
                dtypes.issubdtype(c.dtype, np.complexfloating)):
    # Broadening, and complex right-hand sides, need the complex Schur forms:
    # an O(n^2) Givens pass away from the real ones.
    t_a, z_a = lax_linalg._real_schur_to_complex(t_a, z_a)
    t_b, z_b = lax_linalg._real_schur_to_complex(t_b, z_b)
    quasi = False
  dtype = np.result_type(t_a.dtype, z_a.dtype, c.dtype)
  z_a, z_b, c = z_a.astype(dtype), z_b.astype(dtype), c.astype(dtype)
  if z_a_inv is None:
    z_a_inv, z_b_inv = lax_linalg._H(z_a), lax_linalg._H(z_b)
  else:
    z_a_inv, z_b_inv = z_a_inv.astype(dtype), z_b_inv.astype(dtype)
  if transpose:
    left, right = lax_linalg._T(z_a), lax_linalg._T(z_b_inv)
    back_left, back_right = lax_linalg._T(z_a_inv), lax_linalg._T(z_b)
  else:
    left, right, back_left, back_right = z_a_inv, z_b, z_a, z_b_inv
  mm = lambda x, y: jnp.matmul(x, y, precision=lax.Precision.HIGHEST)
  # left is usually an adjoint: materialize it, or XLA:CPU folds the
  # transpose into a product that contracts the left operand's rows, which
  # it computes about 2x slower (2.2 vs 1.2 ms at n = 300).
  left = optimization_barrier(left)
  rhs = mm(mm(left, c), right)
  t_a, t_b = t_a.astype(dtype), t_b.astype(dtype)
  if factors.method == "schur":
    y = lax_linalg.sylvester_solve(
        t_a, t_b, rhs, quasi_triangular=quasi, transpose=transpose, rtol=rtol,
        broadening=broadening)
  else:
    # Eigenvalues: the equation is diagonal, Y_ij = rhs_ij / (a_i + b_j),
    # with the same treatment of singular pivots as sylvester_solve (the
    # pivots do not depend on the transpose).
    scale = jnp.max(abs(t_a), axis=-1) + jnp.max(abs(t_b), axis=-1)
    y = rhs * lax_linalg._sylvester_pivot_inverses(
        t_a, t_b, scale, rtol=rtol, broadening=broadening)
  return mm(mm(back_left, y), back_right)


def sylvester_solve(factors: SylvesterFactors, c: ArrayLike, *,
                    rtol: float | None = None,
                    broadening: float | None = None) -> Array:
  r"""Solves :math:`A X + X B = C` with factors from :func:`sylvester_factor`.

  Each call costs two matrix products on each side and one triangular (or,
  for ``"eigh"``/``"eigen"`` factors, elementwise) solve: no matrix is
  factored again. Differentiable in ``c`` to any order (the solve is linear
  in ``c``; its transpose reuses the same factors); ``factors`` are treated
  as constants.

  Args:
    factors: the result of :func:`sylvester_factor`.
    c: array of shape ``(..., m, n)``; batch dimensions must broadcast with
      the factors'.
    rtol: relative tolerance below which a pivot :math:`\lambda_i(A) +
      \lambda_j(B)` counts as zero; see :func:`jax.lax.linalg.sylvester_solve`.
    broadening: optional Lorentzian broadening used instead of truncation.

  Returns:
    ``x`` with shape ``(..., m, n)``.
  """
  if not isinstance(factors, SylvesterFactors):
    raise TypeError(
        "sylvester_solve: factors must come from sylvester_factor, got "
        f"{type(factors).__name__}.")
  c = jnp.asarray(c)
  m, n = factors.z_a.shape[-1], factors.z_b.shape[-1]
  if c.ndim < 2 or c.shape[-2:] != (m, n):
    raise ValueError(
        f"sylvester_solve: argument c must have shape [..., {m}, {n}] to match "
        f"the factors, got shape {c.shape}.")
  out_dtype = np.result_type(factors.dtype, c.dtype)
  c = c.astype(dtypes.to_inexact_dtype(out_dtype))
  batch = np.broadcast_shapes(factors.z_a.shape[:-2], c.shape[:-2])
  c = jnp.broadcast_to(c, batch + c.shape[-2:])
  k = len(factors.z_a.shape) - 2
  if batch != factors.z_a.shape[:-2]:
    factors = SylvesterFactors(
        *(None if x is None else jnp.broadcast_to(x, batch + x.shape[k:])
          for x in factors.arrays), method=factors.method,
        dtype=factors.dtype)
  x = _sylvester_solve_factored(factors, c, transpose=False, rtol=rtol,
                                broadening=broadening)
  return _real_if(x, out_dtype)


def solve_sylvester(A: ArrayLike, B: ArrayLike, C: ArrayLike, *,
                    method: str = "schur", tol: float | None = None,
                    rtol: float | None = None,
                    broadening: float | None = None) -> Array:
  r"""Solves the Sylvester equation :math:`A X + X B = C`.

  JAX implementation of :func:`scipy.linalg.solve_sylvester`.

  The Bartels–Stewart method: Schur (or eigen-) decompositions of ``A`` and
  ``B``, computed once, turn the equation into a triangular (or diagonal)
  one, which :func:`jax.lax.linalg.sylvester_solve` solves with a recursive
  blocked algorithm whose work is mostly matrix multiplication.

  Differentiable in ``A``, ``B`` and ``C`` to any order, in forward and
  reverse mode, under :func:`jax.jit` and :func:`jax.vmap`: the derivative
  :math:`\dot X` solves :math:`A \dot X + \dot X B = \dot C - \dot A X -
  X \dot B` and reuses the factors of the primal solve (through
  :func:`jax.lax.custom_linear_solve`), as does the transposed solve of
  reverse mode.

  Args:
    A: array of shape ``(..., m, m)``.
    B: array of shape ``(..., n, n)``.
    C: array of shape ``(..., m, n)``. Batch dimensions are broadcast across
      ``A``, ``B``, and ``C``.
    method: ``"schur"`` (default; CPU only, since JAX's Schur decomposition
      is), ``"eigh"`` for Hermitian ``A`` and ``B`` (every platform; only the
      lower triangles are read), or ``"eigen"`` (diagonalizable matrices;
      inaccurate when the eigenvectors are ill-conditioned).
    tol: if given, the previous behaviour of this function, kept for
      compatibility: the whole solution is NaN when some
      :math:`|\lambda_i(A) + \lambda_j(B)| < \mathrm{tol}`. By default
      (``None``) singular equations get a generalized-inverse solution
      instead (see ``rtol``).
    rtol: relative tolerance below which a sum of eigenvalues
      :math:`\lambda_i(A) + \lambda_j(B)` counts as zero, relative to
      :math:`\max|T_A| + \max|T_B|`; defaults to :math:`\max(m, n)
      \varepsilon`. Such singular components of the solution are set to zero
      (a generalized-inverse solution) instead of returning inf or NaN.
    broadening: optional Lorentzian broadening :math:`\beta`: every
      :math:`1/d` becomes :math:`\bar d/(|d|^2 + \beta)` instead.

  Returns:
    Array of shape ``(..., m, n)``: the solution ``X``.

  Examples:
    >>> A = jax.numpy.array([[1., 2.], [3., 4.]])
    >>> B = jax.numpy.array([[5., 6.], [7., 8.]])
    >>> C = jax.numpy.array([[6., 8.], [10., 12.]])
    >>> X = jax.scipy.linalg.solve_sylvester(A, B, C)
    >>> print(X)  # doctest: +SKIP
    [[1. 0.]
     [0. 1.]]
  """
  if method not in _SYLVESTER_METHODS:
    raise ValueError(
        f"solve_sylvester: method must be one of {_SYLVESTER_METHODS}, got "
        f"{method!r}.")
  A, B, C = promote_dtypes_inexact(jnp.asarray(A), jnp.asarray(B),
                                   jnp.asarray(C))
  _check_sylvester_shapes(A, B, C)
  _check_sylvester_backend(method)
  return _solve_sylvester(A, B, C, method=method, tol=tol, rtol=rtol,
                          broadening=broadening)


@partial(jit, static_argnames=("method", "tol", "rtol", "broadening"))
def _solve_sylvester(A: Array, B: Array, C: Array, *, method: str,
                     tol: float | None, rtol: float | None,
                     broadening: float | None) -> Array:
  batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2], C.shape[:-2])
  A, B, C = (jnp.broadcast_to(x, batch + x.shape[-2:]) for x in (A, B, C))
  if method == "eigh":
    A, B = lax_linalg.symmetrize(A), lax_linalg.symmetrize(B)
  factors = sylvester_factor(A, B, method=method)
  solve = lambda transpose: lambda _, rhs: _real_if(
      _sylvester_solve_factored(factors, rhs, transpose=transpose, rtol=rtol,
                                broadening=broadening), C.dtype)
  mm = lambda x, y: jnp.matmul(x, y, precision=lax.Precision.HIGHEST)
  x = control_flow.custom_linear_solve(
      lambda x: mm(A, x) + mm(x, B), C, solve(False), solve(True))
  if tol is None:
    return x
  return lax.select(_sylvester_nearly_singular(factors, tol),
                    lax.full_like(x, np.nan), x)


def _sylvester_nearly_singular(factors: SylvesterFactors, tol: float
                               ) -> Array:
  # Whether some |λ_i(A) + λ_j(B)| < tol, broadcast to the solution's shape.
  t_a, _, t_b, _, _, _ = factors.arrays
  if factors.method == "schur":
    t_a, t_b = (lax_linalg._real_schur_eigenvalues(t)
                if not dtypes.issubdtype(t.dtype, np.complexfloating) else
                t.diagonal(axis1=-2, axis2=-1) for t in (t_a, t_b))
  dtype = np.result_type(t_a.dtype, t_b.dtype)
  d = abs(t_a.astype(dtype)[..., :, None] + t_b.astype(dtype)[..., None, :])
  singular = jnp.any(d < tol, axis=(-2, -1), keepdims=True)
  return jnp.broadcast_to(singular, d.shape)


def _real_if(x: Array, dtype) -> Array:
  return x if dtypes.issubdtype(dtype, np.complexfloating) else x.real

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
import operator
from typing import Any, Literal, overload

import numpy as np

from jax._src import ad_util
from jax._src import config
from jax._src import core
from jax._src import dtypes
from jax._src import lax
from jax._src import numpy as jnp
from jax._src import xla_bridge
from jax._src.api import jit
from jax._src.custom_derivatives import custom_jvp
from jax._src.interpreters import ad
from jax._src.lax import control_flow
from jax._src.lax.lax import optimization_barrier
from jax._src.lax.linalg import _H, _T
from jax._src.numpy import linalg as jnp_linalg
from jax._src.numpy.util import promote_dtypes_inexact
from jax._src.typing import Array, ArrayLike

from jax_patch._src.lax import linalg as lax_linalg
from jax_patch._src.lax import sylvester as lax_sylvester


@overload
def eigh(a: ArrayLike, b: ArrayLike | None = None, lower: bool = True,
         eigvals_only: Literal[False] = False, overwrite_a: bool = False,
         overwrite_b: bool = False, turbo: bool = True, eigvals: None = None,
         type: int = 1, check_finite: bool = True, *,
         subset_by_index: tuple[int, int] | None = None
         ) -> tuple[Array, Array]: ...

@overload
def eigh(a: ArrayLike, b: ArrayLike | None = None, lower: bool = True, *,
         eigvals_only: Literal[True], overwrite_a: bool = False,
         overwrite_b: bool = False, turbo: bool = True, eigvals: None = None,
         type: int = 1, check_finite: bool = True,
         subset_by_index: tuple[int, int] | None = None) -> Array: ...

@overload
def eigh(a: ArrayLike, b: ArrayLike | None, lower: bool,
         eigvals_only: Literal[True], overwrite_a: bool = False,
         overwrite_b: bool = False, turbo: bool = True, eigvals: None = None,
         type: int = 1, check_finite: bool = True, *,
         subset_by_index: tuple[int, int] | None = None) -> Array: ...

@overload
def eigh(a: ArrayLike, b: ArrayLike | None = None, lower: bool = True,
         eigvals_only: bool = False, overwrite_a: bool = False,
         overwrite_b: bool = False, turbo: bool = True, eigvals: None = None,
         type: int = 1, check_finite: bool = True, *,
         subset_by_index: tuple[int, int] | None = None
         ) -> Array | tuple[Array, Array]: ...

def eigh(a: ArrayLike, b: ArrayLike | None = None, lower: bool = True,
         eigvals_only: bool = False, overwrite_a: bool = False,
         overwrite_b: bool = False, turbo: bool = True, eigvals: None = None,
         type: int = 1, check_finite: bool = True, *,
         subset_by_index: tuple[int, int] | None = None
         ) -> Array | tuple[Array, Array]:
  """Solve a standard or generalized Hermitian eigenvalue problem.

  JAX implementation of :func:`scipy.linalg.eigh`.

  Finds the eigenvalues ``w`` and eigenvectors ``v`` of the Hermitian matrix
  ``a`` (``a @ v = w * v``) or, given a Hermitian positive definite ``b``, of
  the generalized problem selected by ``type``:

  - ``type=1``: ``a @ v = w * (b @ v)``
  - ``type=2``: ``a @ b @ v = w * v``
  - ``type=3``: ``b @ a @ v = w * v``

  As in SciPy (LAPACK's ``?sygvd``/``?hegvd``), the eigenvectors are
  normalized so that ``v^H b v = I`` for types 1 and 2, ``v^H b^{-1} v = I``
  for type 3, and ``v^H v = I`` without ``b``.

  The generalized problem is reduced to a standard one with the Cholesky
  factor of ``b``, as LAPACK does. If ``b`` is not positive definite (where
  SciPy raises ``LinAlgError``), the eigenvalues and eigenvectors of that
  problem are NaN, also outside of :func:`jax.jit`, as for
  :func:`jax.scipy.linalg.cholesky`; other members of a batch are not
  affected.

  Derivatives with respect to ``a`` and ``b``, forward and reverse, treat
  repeated eigenvalues as :func:`jax.numpy.linalg.eigh` does: a loss that
  depends on the eigenvectors of a repeated eigenvalue only through the
  space they span, such as the density matrix ``v[..., :k] @ v[..., :k]^H``
  over whole degenerate levels, or on the eigenvalues only through their
  sums over such levels, has exact first and second derivatives. Other
  losses get the derivative for one choice of basis, which the option
  ``jax_linalg_gauge_check`` can report.

  Args:
    a: Hermitian input array of shape ``(..., N, N)``.
    b: optional Hermitian positive definite array of shape ``(..., N, N)``;
      its batch dimensions broadcast with those of ``a``. If ``None``
      (default), solves the standard eigenvalue problem.
    lower: no effect beyond rounding: ``a`` and ``b`` are symmetrized,
      ``(x + x^H) / 2``, so both triangles are read (as for ``a`` alone,
      and :func:`jax.numpy.linalg.eigh`).
    eigvals_only: If True, compute only the eigenvalues. If False (default)
      compute both eigenvalues and eigenvectors.
    type: 1 (default), 2 or 3, the type of the generalized problem (see
      above). Without ``b`` all three are the standard problem.
    subset_by_index: optional pair ``(lo, hi)`` of 0-based indices: return
      only the eigenvalues ``lo`` to ``hi`` inclusive, in ascending order, and
      their eigenvectors. All eigenpairs are computed and the subset is
      sliced out.
    eigvals: Not used. Only eigvals=None is supported; use
      ``subset_by_index``, which replaces it in SciPy.
    overwrite_a: unused by JAX.
    overwrite_b: unused by JAX.
    turbo: unused by JAX.
    check_finite: unused by JAX.

  Returns:
    A tuple of arrays ``(eigvals, eigvecs)`` if ``eigvals_only`` is False,
    otherwise an array ``eigvals``.

    - ``eigvals``: array of shape ``(..., M)`` containing the eigenvalues in
      ascending order, ``M = N`` or ``hi - lo + 1`` with ``subset_by_index``.
    - ``eigvecs``: array of shape ``(..., N, M)`` whose columns are the
      eigenvectors.

  Raise:
    ValueError: if ``a`` or ``b`` is not a (batch of) square matrices, their
      shapes do not match, ``type`` is not 1, 2 or 3, or ``subset_by_index``
      is out of range.

  See also:
    - :func:`jax.numpy.linalg.eigh`: NumPy-style eigh API.
    - :func:`jax.lax.linalg.eigh`: XLA-style eigh API.
    - :func:`jax.numpy.linalg.eig`: non-hermitian eigenvalue problem.
    - :func:`jax.scipy.linalg.eigh_tridiagonal`: tri-diagonal eigenvalue
      problem.

  Examples:
    Compute the standard eigenvalue decomposition of a simple 2x2 matrix:

    >>> a = jnp.array([[2., 1.],
    ...                [1., 2.]])
    >>> eigvals, eigvecs = jax.scipy.linalg.eigh(a)
    >>> eigvals
    Array([1., 3.], dtype=float32)
    >>> eigvecs
    Array([[-0.70710677,  0.70710677],
           [ 0.70710677,  0.70710677]], dtype=float32)

    Eigenvectors are orthonormal:

    >>> jnp.allclose(eigvecs.T @ eigvecs, jnp.eye(2), atol=1E-5)
    Array(True, dtype=bool)

    Solution satisfies the eigenvalue problem:

    >>> jnp.allclose(a @ eigvecs, eigvecs @ jnp.diag(eigvals))
    Array(True, dtype=bool)

    A generalized problem: the eigenvectors are orthonormal in the ``b``
    inner product.

    >>> b = jnp.array([[2., 0.],
    ...                [0., 1.]])
    >>> eigvals, eigvecs = jax.scipy.linalg.eigh(a, b)
    >>> jnp.allclose(a @ eigvecs, b @ eigvecs * eigvals, atol=1E-5)
    Array(True, dtype=bool)
    >>> jnp.allclose(eigvecs.T @ b @ eigvecs, jnp.eye(2), atol=1E-5)
    Array(True, dtype=bool)
  """
  del overwrite_a, overwrite_b, turbo, check_finite  # unused
  if eigvals is not None:
    raise NotImplementedError(
        "Only the eigvals=None case of eigh is implemented; use "
        "subset_by_index=(lo, hi), which replaces eigvals in SciPy.")
  a, b = _check_eigh_inputs(a, b)
  if type not in (1, 2, 3):
    raise ValueError(f"eigh: type must be 1, 2 or 3, got type={type!r}.")
  subset_by_index = _check_eigh_subset(subset_by_index, a.shape[-1])
  return _eigh(a, b, lower, eigvals_only, subset_by_index, type)


# Sylvester equation

_SYLVESTER_METHODS = ("schur", "eigh", "eigen")


class SylvesterFactors:
  """Factors of :math:`A` and :math:`B` for Sylvester solves.

  :math:`A = Z_A T_A Z_A^{-1}` and likewise for :math:`B`: with
  ``method="schur"``, ``t_a`` is upper triangular (for real input, upper
  quasi-triangular: the real Schur form) and ``z_a`` unitary; with the
  other methods, ``t_a`` holds the eigenvalues. ``z_a_inv`` is the inverse
  of ``z_a``, or ``None`` where ``z_a`` is unitary. ``dtype`` is the dtype
  of ``a`` and ``b``.
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


def _check_sylvester_args(fun: str, a: Array, b: Array, c: Array | None,
                          method: str) -> tuple[int, ...]:
  # Trace-time errors naming the argument and its shape; returns the
  # broadcast batch shape.
  if method not in _SYLVESTER_METHODS:
    raise ValueError(
        f"{fun}: method must be one of {_SYLVESTER_METHODS}, got {method!r}.")
  if method == "schur":
    platform = _sylvester_platform(a, b, c)
    if platform != "cpu":
      raise ValueError(
          f"{fun}: method='schur' needs jax.lax.linalg.schur, which JAX "
          f"implements only on CPU (the solve would run on {platform}). Run "
          "it on the CPU (e.g. under jax.default_device(jax.devices('cpu')"
          "[0])), or, for Hermitian A and B, use method='eigh', which runs "
          "on every platform.")
  names = ("A", "B") if fun == "solve_sylvester" else ("a", "b")
  for name, x in zip(names, (a, b)):
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
      raise ValueError(
          f"{fun}: argument {name} must have shape [..., k, k], got shape "
          f"{x.shape}.")
  operands = [(names[0], a), (names[1], b)]
  if c is not None:
    m, n = a.shape[-1], b.shape[-1]
    if c.ndim < 2 or c.shape[-2:] != (m, n):
      raise ValueError(
          f"{fun}: argument C must have shape [..., {m}, {n}] to match A "
          f"with shape {a.shape} and B with shape {b.shape}, got shape "
          f"{c.shape}.")
    operands.append(("C", c))
  try:
    return np.broadcast_shapes(*(x.shape[:-2] for _, x in operands))
  except ValueError:
    shapes = ", ".join(f"{name} with shape {x.shape}" for name, x in operands)
    raise ValueError(
        f"{fun}: the batch dimensions of the arguments must broadcast, got "
        f"{shapes}.") from None


def _sylvester_platform(*operands: Array | None) -> str:
  # The platform a jitted solve of the operands runs on: that of the first
  # committed array among them, else jax.default_device's, else the default
  # backend (traced operands leave the latter two).
  for x in operands:
    if (isinstance(x, Array) and not isinstance(x, core.Tracer) and
        x.committed):
      return next(iter(x.devices())).platform
  device = config.default_device.value
  if isinstance(device, str):
    return device
  if device is not None:
    return device.platform
  return xla_bridge.default_backend()


def _sylvester_factor_one(x: Array, method: str
                          ) -> tuple[Array, Array, Array | None]:
  if method == "eigh":
    v, w = lax_linalg.eigh(x)
    return w, v, None
  if method == "eigen":
    w, v = jnp_linalg.eig(x)
    return w, v, jnp_linalg.inv(v)
  t, z = lax_linalg.schur(x)
  return t, z, None


# a and b of equal shapes up to this size are factored as one batch of two:
# JAX's CPU LAPACK kernels split a batch across XLA's intra-op threads, so the
# two factorizations run concurrently. Larger ones gain little or nothing
# with OpenBLAS's default threads, whose own threads LAPACK then uses, and
# lose from n = 300. Measured (benchmarks/sylvester.py --stacked-sizes; 2
# cores, float64, real Schur, best of 5 blocks): the solve with the pair
# stacked took 0.63-0.70x the time of the solve with the pair one after the
# other for n = 48-80 (1.0x at n = 32) with either threading; with default
# threads 0.88-1.01x for n = 96-200 and 1.05-1.09x at n = 300-600, with one
# thread 0.65-0.79x for n = 96-600.
_SYLVESTER_STACKED_FACTORS = 80


def _sylvester_factor(a: Array, b: Array, method: str) -> SylvesterFactors:
  # Factors a and b, with equal batch dimensions and dtypes, as constants.
  a, b = lax.stop_gradient(a), lax.stop_gradient(b)
  if (a.shape == b.shape and a.dtype == b.dtype and
      a.shape[-1] <= _SYLVESTER_STACKED_FACTORS):
    factors = _sylvester_factor_one(
        lax.concatenate([lax.expand_dims(x, (0,)) for x in (a, b)], 0),
        method)
    (t_a, z_a, z_a_inv), (t_b, z_b, z_b_inv) = (
        [None if x is None else x[i] for x in factors] for i in (0, 1))
  else:
    t_a, z_a, z_a_inv = _sylvester_factor_one(a, method)
    t_b, z_b, z_b_inv = _sylvester_factor_one(b, method)
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
    t_a, z_a = lax_sylvester._real_schur_to_complex(t_a, z_a)
    t_b, z_b = lax_sylvester._real_schur_to_complex(t_b, z_b)
    quasi = False
  dtype = np.result_type(t_a.dtype, z_a.dtype, c.dtype)
  z_a, z_b, c = z_a.astype(dtype), z_b.astype(dtype), c.astype(dtype)
  if z_a_inv is None:
    z_a_inv, z_b_inv = _H(z_a), _H(z_b)
  else:
    z_a_inv, z_b_inv = z_a_inv.astype(dtype), z_b_inv.astype(dtype)
  if transpose:
    left, right = _T(z_a), _T(z_b_inv)
    back_left, back_right = _T(z_a_inv), _T(z_b)
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
    y = lax_sylvester.sylvester_solve(
        t_a, t_b, rhs, quasi_triangular=quasi, transpose=transpose,
        rtol=rtol, broadening=broadening)
  else:
    # Eigenvalues: the equation is diagonal, Y_ij = rhs_ij / (a_i + b_j),
    # with the same treatment of singular pivots as sylvester_solve (the
    # pivots do not depend on the transpose).
    scale = jnp.max(abs(t_a), axis=-1) + jnp.max(abs(t_b), axis=-1)
    y = rhs * lax_sylvester._sylvester_scaled_inverses(
        t_a, t_b, scale, rtol=rtol, broadening=broadening)
  return mm(mm(back_left, y), back_right)


@partial(jit, static_argnames=("batch", "method", "rtol", "broadening"))
def _solve_sylvester(A: Array, B: Array, C: Array, tol: Array | None, *,
                     batch: tuple[int, ...], method: str,
                     rtol: float | None, broadening: float | None) -> Array:
  A, B, C = promote_dtypes_inexact(A, B, C)
  A, B, C = (jnp.broadcast_to(x, batch + x.shape[-2:]) for x in (A, B, C))
  if C.size == 0:
    return jnp.zeros_like(C)
  if method == "eigh":
    A, B = lax_linalg.symmetrize(A), lax_linalg.symmetrize(B)
  if broadening is not None:
    # The broadened solve is not the solution of A X + X B = C, so the
    # implicit-function rule below gives its derivative in C but not in A
    # and B (a derivative of the broadened operator itself, through the
    # factors, is not implemented): refuse those rather than return a wrong
    # one.
    A, B = (_not_differentiable(
        f"solve_sylvester: with broadening, the solution is differentiable "
        f"in C only, not in {name}.", x) for name, x in (("A", A), ("B", B)))
  factors = _sylvester_factor(A, B, method)
  solve = lambda transpose: lambda _, rhs: _real_if(
      _sylvester_solve_factored(factors, rhs, transpose=transpose,
                                rtol=rtol, broadening=broadening), C.dtype)
  mm = lambda x, y: jnp.matmul(x, y, precision=lax.Precision.HIGHEST)
  x = control_flow.custom_linear_solve(
      lambda x: mm(A, x) + mm(x, B), C, solve(False), solve(True))
  if tol is None:
    return x
  # NaN for nearly singular equations, in the value and, as a factor rather
  # than a select, in every derivative.
  singular = _sylvester_nearly_singular(factors, tol)
  return x * lax.select(singular, lax.full_like(x, np.nan),
                        lax.full_like(x, 1))


@partial(custom_jvp, nondiff_argnums=(0,))
def _not_differentiable(message: str, x: Array) -> Array:
  # The identity, whose derivative raises NotImplementedError(message) at
  # trace time unless its tangent is a symbolic zero.
  return x


@partial(_not_differentiable.defjvp, symbolic_zeros=True)
def _not_differentiable_jvp(message, primals, tangents):
  (x,), (x_dot,) = primals, tangents
  if type(x_dot) is not ad_util.SymbolicZero:
    raise NotImplementedError(message)
  return x, x_dot


def _sylvester_nearly_singular(factors: SylvesterFactors, tol: Array
                               ) -> Array:
  # Whether some |λ_i(A) + λ_j(B)| < tol, broadcast to the solution's shape.
  t_a, _, t_b, _, _, _ = factors.arrays
  if factors.method == "schur":
    if dtypes.issubdtype(t_a.dtype, np.complexfloating):
      t_a, t_b = (t.diagonal(axis1=-2, axis2=-1) for t in (t_a, t_b))
    else:
      # The eigenvalues of both real Schur forms in one pass, on the
      # unmasked stack that sylvester_solve builds too (XLA computes them
      # once).
      m, n = t_a.shape[-1], t_b.shape[-1]
      lam = lax_sylvester._real_schur_eigenvalues(
          lax_sylvester._sylvester_quasi_stack(t_a, t_b, mask=False))
      t_a, t_b = lam[0, ..., :m], lam[1, ..., :n]
  dtype = np.result_type(t_a.dtype, t_b.dtype)
  d = abs(t_a.astype(dtype)[..., :, None] + t_b.astype(dtype)[..., None, :])
  singular = jnp.any(d < tol, axis=(-2, -1), keepdims=True)
  return jnp.broadcast_to(singular, d.shape)


def _real_if(x: Array, dtype) -> Array:
  return x if dtypes.issubdtype(dtype, np.complexfloating) else x.real


def solve_sylvester(A: ArrayLike, B: ArrayLike, C: ArrayLike, *,
                    method: str = "schur", tol: ArrayLike | None = 1e-8,
                    rtol: float | None = None,
                    broadening: float | None = None) -> Array:
  r"""Solves the Sylvester equation :math:`A X + X B = C`.

  JAX implementation of :func:`scipy.linalg.solve_sylvester`.

  The Bartels–Stewart method: Schur (or eigen-) decompositions of ``A`` and
  ``B``, computed once, turn the equation into a triangular (or diagonal)
  one, which :func:`jax.lax.linalg.sylvester_solve` solves; for real input
  the real Schur forms are used and the solve runs in real arithmetic.

  Differentiable in ``A``, ``B`` and ``C`` to any order, in forward and
  reverse mode, under :func:`jax.jit` and :func:`jax.vmap`: the derivative
  :math:`\dot X` solves :math:`A \dot X + \dot X B = \dot C - \dot A X -
  X \dot B` and reuses the factors of the primal solve (through
  :func:`jax.lax.custom_linear_solve`), as does the transposed solve of
  reverse mode.

  Args:
    A: array of shape ``(..., m, m)``
    B: array of shape ``(..., n, n)``
    C: array of shape ``(..., m, n)``. Batch dimensions are broadcast across
      ``A``, ``B``, and ``C``.
    method: ``"schur"`` (default; any square matrices; CPU only, since
      :func:`jax.lax.linalg.schur` is) or ``"eigen"`` (diagonalizable
      matrices; inaccurate when the eigenvectors are ill-conditioned).
      ``"eigh"``: Hermitian ``A`` and ``B`` (their Hermitian parts
      :math:`(A + A^H)/2` and :math:`(B + B^H)/2` are used), on every
      platform. ``"schur"`` raises ``ValueError`` where the solve would run
      on a platform other than the CPU: place it on the CPU with
      :func:`jax.default_device` or CPU inputs.
    tol: the solution (of each matrix in the batch) is all NaN when some sum
      of eigenvalues :math:`|\lambda_i(A) + \lambda_j(B)|` is below ``tol``,
      an absolute threshold (may be traced). ``None`` disables the check:
      singular equations then get a finite generalized-inverse solution.
    rtol: relative tolerance below which a pivot :math:`\lambda_i(A) +
      \lambda_j(B)` counts as zero, relative to :math:`\max|T_A| +
      \max|T_B|`; defaults to :math:`\max(m, n)\,\varepsilon`. Components of
      the solution on such pivots are set to zero instead of :math:`\pm
      \infty`; this matters with ``tol=None``, which otherwise makes such
      solutions NaN.
    broadening: optional Lorentzian broadening :math:`\beta`: every
      :math:`1/d` becomes :math:`\bar d/(|d|^2 + \beta)` instead. The
      solution is then differentiable in ``C`` only; derivatives in ``A``
      or ``B`` raise ``NotImplementedError``.

  Returns:
    Array of shape ``(..., m, n)`` representing the solution ``X``.

  Examples:
    >>> A = jax.numpy.array([[1, 2], [3, 4]])
    >>> B = jax.numpy.array([[5, 6], [7, 8]])
    >>> C = jax.numpy.array([[6, 8], [10, 12]])
    >>> X = jax.scipy.linalg.solve_sylvester(A, B, C)
    >>> print(X) # doctest: +SKIP
    [[1. 0.]
     [0.  1.]]
  """
  # NumPy and JAX arrays go to the jitted solve as they are, which promotes
  # them: jnp.asarray would compile a staging computation per new shape
  # (about 40 ms of a first call).
  A, B, C = (x if isinstance(x, (np.ndarray, Array)) else jnp.asarray(x)
             for x in (A, B, C))
  batch = _check_sylvester_args("solve_sylvester", A, B, C, method)
  return _solve_sylvester(A, B, C, tol, batch=batch, method=method,
                          rtol=rtol, broadening=broadening)


# Generalized Hermitian eigenproblem
#
# With b = L L^H (Cholesky), each type, a v = w b v (1),
# a b v = w v (2) and b a v = w v (3), is a standard Hermitian problem
# C u = w u, as in LAPACK's ?sygst/?hegst and ?sygvd:
#
#   type 1:  C = L^{-1} a L^{-H},  v = L^{-H} u,  v^H b v = I,
#   type 2:  C = L^H a L,          v = L^{-H} u,  v^H b v = I,
#   type 3:  C = L^H a L,          v = L u,       v^H b^{-1} v = I.
#
# The derivatives in a and b are those of these steps. They are exact at
# repeated eigenvalues for the losses for which eigh's are (issue #669):
# those that depend on the eigenvectors of a repeated eigenvalue only
# through the projector onto their space in the metric of the problem,
# L^{-H} u_D u_D^H L^{-1} or L u_D u_D^H L^H, a smooth function of L and of
# the projector u_D u_D^H of C.

_dot = partial(jnp.matmul, precision=lax.Precision.HIGHEST)


def _to_eigenbasis(v: Array, x: Array) -> Array:
  return _dot(_dot(lax_linalg._H(v), x), v)


def _check_eigh_inputs(a: ArrayLike, b: ArrayLike | None
                       ) -> tuple[Array, Array | None]:
  a = jnp.asarray(a)
  if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
    raise ValueError("eigh: argument a must be a (batch of) square matrices "
                     f"with shape [..., n, n], got shape {a.shape}.")
  if b is None:
    return a, None
  b = jnp.asarray(b)
  if b.ndim < 2 or b.shape[-1] != b.shape[-2]:
    raise ValueError("eigh: argument b must be a (batch of) square matrices "
                     f"with shape [..., n, n], got shape {b.shape}.")
  try:
    np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
  except ValueError:
    ok = False
  else:
    ok = a.shape[-1] == b.shape[-1]
  if not ok:
    raise ValueError(
        "eigh: argument b must have the shape of a, up to broadcasting of "
        f"batch dimensions; got a with shape {a.shape} and b with shape "
        f"{b.shape}.")
  a, b = promote_dtypes_inexact(a, b)
  return a, b


def _check_eigh_subset(subset_by_index: Any, n: int
                       ) -> tuple[int, int] | None:
  if subset_by_index is None:
    return None
  try:
    lo, hi = (operator.index(i) for i in subset_by_index)
  except (TypeError, ValueError):
    raise ValueError(
        "eigh: subset_by_index must be a pair of integers (lo, hi), got "
        f"subset_by_index={subset_by_index!r}.") from None
  if not 0 <= lo <= hi < n:
    raise ValueError(
        "eigh: subset_by_index=(lo, hi) must satisfy 0 <= lo <= hi < n = "
        f"{n}, got subset_by_index={subset_by_index!r}.")
  return lo, hi


@jit(static_argnames=("lower", "eigvals_only", "subset_by_index", "type"))
def _eigh(a: Array, b: Array | None, lower: bool, eigvals_only: bool,
          subset_by_index: tuple[int, int] | None, type: int
          ) -> Array | tuple[Array, Array]:
  if b is None:
    a, = promote_dtypes_inexact(a)
    v, w = lax_linalg.eigh(a, lower=lower)
  else:
    w, v = _eigh_generalized(a, b, lower=lower, itype=type,
                             eigvals_only=eigvals_only)
  if subset_by_index is not None:
    lo, hi = subset_by_index
    w = w[..., lo:hi + 1]
    v = None if v is None else v[..., lo:hi + 1]
  return w if eigvals_only else (w, v)


def _eigh_generalized(a: Array, b: Array, *, lower: bool, itype: int,
                      eigvals_only: bool) -> tuple[Array, Array | None]:
  batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
  a = lax_linalg.symmetrize(jnp.broadcast_to(a, batch + a.shape[-2:]))
  b = lax_linalg.symmetrize(jnp.broadcast_to(b, batch + b.shape[-2:]))
  w, z, x = _eigh_generalized_core(itype, lower, a, b)
  if eigvals_only:
    return w, None
  return w, x if itype == 3 else z


def _eigh_generalized_reduce(itype: int, lower: bool, a: Array, b: Array
                             ) -> tuple[Array, Array, Array | None]:
  # Returns w, z = L^{-H} u (v for types 1 and 2) and x = L u = b z (v for
  # type 3; None for type 1).
  # lax_linalg.cholesky(b, symmetrize_input=False), whose mask of the lower
  # triangle JAX builds unsharded, which explicit sharding of the batch
  # rejects; jnp.tril's is sharded as b.
  l = jnp.tril(lax_linalg.cholesky_p.bind(b))
  solve = partial(lax_linalg.triangular_solve, l, lower=True)
  if itype == 1:
    c = solve(solve(a, left_side=True), left_side=False, transpose_a=True,
              conjugate_a=True)
  else:
    c = _dot(_dot(lax_linalg._H(l), a), l)
  u, w = lax_linalg.eigh(c, lower=lower)
  z = solve(u, left_side=True, transpose_a=True, conjugate_a=True)
  return w, z, None if itype == 1 else _dot(l, u)


# The derivatives of these steps, as a rule of their own (' is a tangent).
# All three types are the type-1 problem a1 z = b z W, z^H b z = I, for
# a1 = a (type 1) or a1 = b a b (types 2 and 3, with z = L^{-H} u and
# a b z = z W); type 3's v is x = b z = L u. With z' = z Y, K_b = z^H b' z
# and
#
#   G = z^H a1' z - K_b W = z^H a' z - K_b W       (type 1)
#                         = x^H a' x + W K_b       (types 2, 3),
#
# differentiating gives w' = Re diag(G), Y + Y^H = -K_b and
# Y_ij = G_ij / (w_j - w_i) for w_i != w_j; x' = b' z + b z Y = x (Y + K_b),
# since x^{-1} = z^H. Pairs that eigh's rule treats as degenerate
# (_eigh_degenerate_mask, relative to the spread of w) and the diagonal get
# Y = -K_b / 2: the Hermitian part that the normalization fixes and no
# anti-Hermitian, gauge, part. This is the derivative of the b-metric
# projectors z_D z_D^H onto degenerate eigenspaces D, and of every loss that
# depends on z only through them, as eigh's rule is for eigh (issue #669;
# the same pairs, so the same error bound at near-degeneracy).
#
# Second order. Degenerate perturbation theory (as for _eigh_coupling_p):
# let M = W + N be the cluster-block-diagonal part of z^H a1 z. Then
# M Y - Y M = K_b M - K_a1 off the clusters and d(tr M_DD) =
# tr(K_a1 - K_b M)_DD. So G gains -K_b N (type 1) or, as z^H a1' z holds
# K_b M + M K_b for a1 = b a b, +N K_b (types 2, 3), and Y gains
# F o (that + N Y - Y N), F the masked 1 / (w_j - w_i). N vanishes at the
# primal point, but its tangent, N' = (z^H a1 z)' on degenerate pairs, does
# not: the generalized coupling below has value 0 and, using
# K_b = -(Y + Y^H), the tangent N' Y + Y^H N' (type 1) or
# -(Y N' + N' Y^H) (types 2, 3). It
# makes second derivatives of the losses above, and of eigenvalue sums over
# whole clusters, exact; it costs nothing to first order.
#
# The gauge check of eigh's rule (jax_linalg_gauge_check) inspects the
# cotangent of Y: rotations z_D -> z_D Q of a cluster rotate v alike, and
# that cotangent is conj(v^H dL/dv), as for eigh.
#
# Why a rule: JAX's derivatives of the steps are as accurate (measured:
# float64 and complex128, n = 8, b of condition number 30, a threefold
# cluster split by 0 to 1e-3 of the spread, 20 problems each; first
# derivatives of density matrices and cluster eigenvalue sums to <= 6e-15
# relative for splittings up to 1e-8, <= 2e-8 just above the threshold
# (3e-8); second derivatives, in all four compositions of forward and
# reverse mode, to the 4e-11 (float64) and 3e-10 (complex128) of the
# central-difference oracle for splittings up to 1e-9; without the coupling
# term this rule's are 140% and 570% off), but they transpose the rules of
# Cholesky and of three triangular solves, where this rule's backward pass
# is five products with z: jit(grad) of a density matrix takes 0.45-0.9x
# (median 0.65x) the time of the steps' (benchmarks/eigh_generalized_grad.py:
# types 1-3, float64, n = 64 to 512, one CPU core).
@partial(custom_jvp, nondiff_argnums=(0, 1))
def _eigh_generalized_core(itype: int, lower: bool, a: Array, b: Array
                           ) -> tuple[Array, Array, Array | None]:
  return _eigh_generalized_reduce(itype, lower, a, b)


@partial(_eigh_generalized_core.defjvp, symbolic_zeros=True)
def _eigh_generalized_jvp(itype, lower, primals, tangents):
  a, b = primals
  a_dot, b_dot = tangents
  w, z, x = _eigh_generalized_core(itype, lower, a, b)
  w_c = w.astype(z.dtype)
  a_side = z if itype == 1 else x
  g = (_to_eigenbasis(a_side, lax_linalg.symmetrize(a_dot))
       if type(a_dot) is not ad_util.SymbolicZero else jnp.zeros_like(z))
  if type(b_dot) is ad_util.SymbolicZero:
    k_b = None
  else:
    k_b = _to_eigenbasis(z, lax_linalg.symmetrize(b_dot))
    g = g + (w_c[..., :, None] * k_b if itype != 1 else
             -k_b * w_c[..., None, :])
  y = lax_linalg._eigh_solve(w, g)
  if k_b is not None:
    degenerate = lax_linalg._eigh_degenerate_mask(w)
    same = degenerate | jnp.broadcast_to(jnp.eye(w.shape[-1], dtype=bool),
                                         degenerate.shape)
    y = y - lax.select(same, k_b, lax.full_like(k_b, 0)) / 2
  coupling = _eigh_generalized_coupling_p.bind(
      _to_eigenbasis(a_side, a), w, y, left=itype == 1, transpose=False)
  g = g + coupling
  y = y + lax_linalg._eigh_solve(w, coupling)
  w_dot = lax_linalg._extract_diagonal(g.real).astype(w.dtype)
  mode = config.linalg_gauge_check.value
  if mode != "ignore":
    w_dot, y = lax_linalg._eigh_gauge_check_p.bind(w, w_dot, y, mode=mode)
  z_dot = _dot(z, y)
  if x is None:
    return (w, z, x), (w_dot, z_dot, None)
  x_dot = _dot(x, y if k_b is None else y + k_b)
  return (w, z, x), (w_dot, z_dot, x_dot)


def _eigh_generalized_coupling_impl(m, w, y, **_):
  return lax.full_like(y, 0)


def _eigh_generalized_coupling_tangent(m_dot, w, y, *, left, transpose):
  # With N' the masked m_dot: N' Y + Y^H N' (left, type 1) or
  # -(Y N' + N' Y^H) (types 2, 3); transposed for JAX's pairing
  # Re sum(c * t), C -> N'^T (C + C^H) and C -> -(C + C^H) N'^T.
  degenerate = lax_linalg._eigh_degenerate_mask(w)
  n_dot = lax.select(jnp.broadcast_to(degenerate, m_dot.shape), m_dot,
                     lax.full_like(m_dot, 0))
  if transpose:
    y = y + lax_linalg._H(y)
    n_dot = lax_linalg._T(n_dot)
    return _dot(n_dot, y) if left else -_dot(y, n_dot)
  if left:
    return _dot(n_dot, y) + _dot(lax_linalg._H(y), n_dot)
  return -(_dot(y, n_dot) + _dot(n_dot, lax_linalg._H(y)))


def _eigh_generalized_coupling_jvp_rule(primals, tangents, **params):
  m, w, y = primals
  m_dot, _, y_dot = tangents
  out = _eigh_generalized_coupling_p.bind(m, w, y, **params)
  terms = []
  if type(y_dot) is not ad_util.Zero:
    terms.append(_eigh_generalized_coupling_p.bind(m, w, y_dot, **params))
  if type(m_dot) is not ad_util.Zero:
    terms.append(_eigh_generalized_coupling_tangent(m_dot, w, y, **params))
  if not terms:  # Only the tangent of w, which N does not depend on.
    return out, ad_util.Zero.from_primal_value(out)
  return out, terms[0] if len(terms) == 1 else terms[0] + terms[1]


def _eigh_generalized_coupling_transpose_rule(ct, m, w, y, *, left,
                                              transpose):
  assert ad.is_undefined_primal(y)
  if type(ct) is ad_util.Zero:
    return [None, None, ct]
  return [None, None, _eigh_generalized_coupling_p.bind(
      m, w, ct, left=left, transpose=not transpose)]


# The second-order cluster coupling of the generalized problem (see above):
# zero-valued, linear in y; its tangent in m is N' Y + Y^H N', and its
# transpose is the same map transposed.
_eigh_generalized_coupling_p = lax_linalg._internal_primitive(
    "eigh_generalized_coupling", _eigh_generalized_coupling_impl,
    lambda m, w, y, **_: y, _eigh_generalized_coupling_jvp_rule,
    _eigh_generalized_coupling_transpose_rule)

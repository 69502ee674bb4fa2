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

"""Functions of Hermitian matrices with exact derivatives at degeneracy."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial

import numpy as np

from jax._src import ad_util
from jax._src import core
from jax._src import dispatch
from jax._src import dtypes
from jax._src import lax
from jax._src import numpy as jnp
from jax._src.api import eval_shape, jit, jvp
from jax._src.custom_derivatives import custom_jvp
from jax._src.interpreters import ad
from jax._src.interpreters import batching
from jax._src.interpreters import mlir
from jax_patch._src.lax import linalg as lax_linalg
from jax._src.lax.linalg import _H, _T, symmetrize
from jax._src.numpy import vectorize as jnp_vectorize
from jax._src.numpy.einsum import einsum
from jax._src.numpy.util import check_arraylike, promote_dtypes_inexact
from jax._src.typing import Array, ArrayLike


def expm_hermitian(a: ArrayLike) -> Array:
  r"""Compute the matrix exponential of a Hermitian matrix.

  Unlike :func:`jax.scipy.linalg.expm`, which uses a Pade approximant valid
  for any matrix, this function requires a Hermitian input and computes

  .. math::

    e^A = V e^{\Lambda} V^H.

  The input is symmetrized as :math:`\frac{1}{2}(A + A^H)`, as in
  :func:`jax.numpy.linalg.eigh`. Derivatives do not differentiate ``eigh``:
  they use the Daleckii-Krein formula
  :math:`Df(A)[E] = V (G \circ (V^H E V)) V^H` with the divided differences
  :math:`G_{ij} = f[\lambda_i, \lambda_j]`, and its second-order analogue,
  so first and second derivatives are exact also at repeated eigenvalues, in
  forward and reverse mode and their compositions. Third and higher
  derivatives are finite, and exact where the eigenvalues are distinct.

  The divided differences use
  :math:`f[x, y] = e^{y} \operatorname{expm1}(x - y) / (x - y)`.

  Args:
    a: array of shape ``[..., n, n]``, Hermitian (complex) or symmetric
      (real).

  Returns:
    Array of shape ``[..., n, n]`` containing :math:`e^A`.

  See also:
    - :func:`jax.scipy.linalg.expm`: matrix exponential of any matrix.
    - :func:`jax.lax.linalg.funm_hermitian`: any scalar function of a
      Hermitian matrix.
  """
  return _funm_hermitian_wrapper(_EXPM, _check_hermitian_input(
      a, "expm_hermitian"))


def funm_hermitian(a: ArrayLike, func: Callable[[Array], Array]) -> Array:
  r"""Evaluate a scalar function of a Hermitian matrix.

  .. math::

    f(A) = V f(\Lambda) V^H, \qquad A = V \Lambda V^H.

  Unlike :func:`jax.scipy.linalg.funm`, which needs a Schur decomposition
  and cannot be differentiated (``schur`` has no JVP rule), this function
  only needs ``eigh``, runs on every backend and is differentiable.

  The input is symmetrized as :math:`\frac{1}{2}(A + A^H)`, as in
  :func:`jax.numpy.linalg.eigh`. Derivatives do not differentiate ``eigh``:
  they use the Daleckii-Krein formula
  :math:`Df(A)[E] = V (G \circ (V^H E V)) V^H` with the divided differences
  :math:`G_{ij} = f[\lambda_i, \lambda_j]`, and its second-order analogue,
  so first and second derivatives are exact also at repeated eigenvalues, in
  forward and reverse mode and their compositions. Third and higher
  derivatives are finite, and exact where the eigenvalues are distinct.

  ``func`` is only evaluated at real scalars; its first and second
  derivatives are obtained with :func:`jax.jvp`, so the derivatives of the
  result are only as accurate as those (e.g. in float32, JAX's derivative
  of :func:`jax.numpy.tanh`, ``1 - tanh(x)**2``, is 0 for ``|x| > 9``).
  Divided differences :math:`f[x, y]` of close eigenvalues use the midpoint
  value :math:`f'((x + y)/2)` when its estimated truncation error is smaller
  than the estimated rounding error of :math:`(f(x) - f(y))/(x - y)`.

  Args:
    a: array of shape ``[..., n, n]``, Hermitian (complex) or symmetric
      (real).
    func: a JAX-traceable scalar function, e.g. :func:`jax.numpy.tanh`,
      differentiable twice (three times for third derivatives of the result).
      It is applied elementwise to the eigenvalues.

  Returns:
    Array of shape ``[..., n, n]`` containing :math:`f(A)`.

  See also:
    - :func:`jax.scipy.linalg.funm`: functions of general matrices.
  """
  a = _check_hermitian_input(a, "funm_hermitian")
  if not callable(func):
    raise TypeError("funm_hermitian: func must be a callable that maps a "
                    f"scalar to a scalar, got {func!r} of type "
                    f"{type(func).__name__}.")
  return _funm_hermitian_wrapper(_matrix_function_for(func), a)


def logm_hermitian(a: ArrayLike) -> Array:
  r"""Compute the principal logarithm of a Hermitian positive definite matrix.

  .. math::

    \log A = V \log(\Lambda) V^H.

  The input is symmetrized as :math:`\frac{1}{2}(A + A^H)`, as in
  :func:`jax.numpy.linalg.eigh`. Derivatives do not differentiate ``eigh``:
  they use the Daleckii-Krein formula
  :math:`Df(A)[E] = V (G \circ (V^H E V)) V^H` with the divided differences
  :math:`G_{ij} = f[\lambda_i, \lambda_j]`, and its second-order analogue,
  so first and second derivatives are exact also at repeated eigenvalues, in
  forward and reverse mode and their compositions. Third and higher
  derivatives are finite, and exact where the eigenvalues are distinct.

  The divided differences use
  :math:`f[x, y] = \operatorname{log1p}(u) / (u y)` with
  :math:`u = (x - y) / y`, :math:`y = \max(x, y)`.

  Args:
    a: array of shape ``[..., n, n]``, Hermitian positive definite.

  Returns:
    Array of shape ``[..., n, n]`` containing :math:`\log A`. Eigenvalues
    that are not positive give ``nan`` or ``-inf``.

  See also:
    - :func:`jax.lax.linalg.expm_hermitian`: the inverse function.
  """
  return _funm_hermitian_wrapper(_LOGM, _check_hermitian_input(
      a, "logm_hermitian"))


def powm_hermitian(a: ArrayLike, p: float) -> Array:
  r"""Raise a Hermitian positive definite matrix to a power.

  .. math::

    A^p = V \Lambda^p V^H.

  The input is symmetrized as :math:`\frac{1}{2}(A + A^H)`, as in
  :func:`jax.numpy.linalg.eigh`. Derivatives do not differentiate ``eigh``:
  they use the Daleckii-Krein formula
  :math:`Df(A)[E] = V (G \circ (V^H E V)) V^H` with the divided differences
  :math:`G_{ij} = f[\lambda_i, \lambda_j]`, and its second-order analogue,
  so first and second derivatives are exact also at repeated eigenvalues, in
  forward and reverse mode and their compositions. Third and higher
  derivatives are finite, and exact where the eigenvalues are distinct.

  For non-integer ``p`` the divided differences use
  :math:`f[x, y] = y^{p-1} \operatorname{expm1}(p \operatorname{log1p}(u))
  / u` with :math:`u = (x - y) / y`, :math:`y = \max(x, y)`. Eigenvalues
  within rounding of zero (:math:`|\lambda| \le 2 n \varepsilon
  \max|\lambda|`) count as zero, so positive semidefinite inputs are allowed
  for ``p > 0``; a more negative eigenvalue gives ``nan``. Integer ``p``
  allows any Hermitian ``a``.

  Args:
    a: array of shape ``[..., n, n]``, Hermitian positive definite.
    p: the exponent, a Python or NumPy real scalar. It is static: its value
      selects the computation and derivatives with respect to ``p`` are not
      supported.

  Returns:
    Array of shape ``[..., n, n]`` containing :math:`A^p`.

  See also:
    - :func:`scipy.linalg.fractional_matrix_power`: the SciPy function for
      general matrices.
  """
  a = _check_hermitian_input(a, "powm_hermitian")
  if (isinstance(p, (bool, np.bool_)) or not isinstance(
      p, (int, float, np.integer, np.floating)) or not np.isfinite(p)):
    raise TypeError("powm_hermitian: p must be a finite real Python or NumPy "
                    f"scalar, got {p!r} of type {type(p).__name__}.")
  return _funm_hermitian_wrapper(_powm_matrix_function(float(p)), a)


def sqrtm_hermitian(a: ArrayLike) -> Array:
  r"""Compute the square root of a Hermitian positive semidefinite matrix.

  .. math::

    A^{1/2} = V \Lambda^{1/2} V^H.

  Unlike :func:`jax.scipy.linalg.sqrtm`, which needs a Schur decomposition
  and cannot be differentiated (``schur`` has no JVP rule), this function
  only needs ``eigh``, runs on every backend and is differentiable.

  The input is symmetrized as :math:`\frac{1}{2}(A + A^H)`, as in
  :func:`jax.numpy.linalg.eigh`. Derivatives do not differentiate ``eigh``:
  they use the Daleckii-Krein formula
  :math:`Df(A)[E] = V (G \circ (V^H E V)) V^H` with the divided differences
  :math:`G_{ij} = f[\lambda_i, \lambda_j]`, and its second-order analogue,
  so first and second derivatives are exact also at repeated eigenvalues, in
  forward and reverse mode and their compositions. Third and higher
  derivatives are finite, and exact where the eigenvalues are distinct.

  The divided differences use
  :math:`f[x, y] = 1 / (\sqrt{x} + \sqrt{y})`. Eigenvalues within rounding
  of zero (:math:`|\lambda| \le 2 n \varepsilon \max|\lambda|`) count as
  zero; a more negative eigenvalue gives ``nan``, as :func:`jax.numpy.sqrt`
  does. Derivatives are infinite along a zero eigenvalue.

  Args:
    a: array of shape ``[..., n, n]``, Hermitian positive semidefinite.

  Returns:
    Array of shape ``[..., n, n]`` containing the positive semidefinite
    square root of ``a``.

  See also:
    - :func:`jax.scipy.linalg.sqrtm`: square root of a general matrix.
  """
  return _funm_hermitian_wrapper(_SQRTM, _check_hermitian_input(
      a, "sqrtm_hermitian"))


# Hermitian matrix functions
#
# For Hermitian A = V diag(l) V^H and a scalar function f, f(A) =
# V diag(f(l)) V^H. Write X^ = V^H X V. The Daleckii-Krein theorem
# (Daleckii & Krein, 1965; Bhatia, "Matrix Analysis", Ch. V; Higham,
# "Functions of Matrices", Ch. 3) gives the Frechet derivative
#
#   Df(A)[E] = V (G o E^) V^H,   G_ij = f[l_i, l_j],
#
# with divided differences f[x, y] = (f(x) - f(y)) / (x - y) and
# f[x, x] = f'(x). Differentiating again,
#
#   Q_A(E, H) = D2f(A)[E, H] = V M V^H,
#   M_ij = sum_k f[l_i, l_k, l_j] (E^_ik H^_kj + H^_ik E^_kj),
#
# with second-order divided differences. Both are smooth in A at repeated
# eigenvalues, although V is not: this is the point of differentiating the
# matrix function instead of eigh. At A = I, d sum(e^A) = e * ones,
# but any eigh rule that drops degenerate pairs gives e * I, because it never
# sees f'.
#
# Design. `funm_hermitian_frechet_p(a, e, w, v)` is L_A(E) = Df(A)[E], and
# `funm_hermitian_frechet2_p(a, e, h, w, v)` is D2f(A)[E, H]. `w, v` are
# `eigh(a)`, computed once under `stop_gradient` and passed along so that
# every rule reuses one decomposition; their tangents are ignored, because
# the rules below account for all of the dependence on `a`. Both primitives
# are linear in their matrix directions and their transposes are the same
# primitives again:
#
#   <C, V (G o (V^H E V)) V^H> = <(V (G o (V^H C^T V)) V^H)^T, E>
#
# for any G with G = G^T (and likewise for M, whose coefficient
# f[l_i, l_k, l_j] is symmetric in all indices), where <X, Y> = sum(X * Y).
# So L^T(C) = L(C^T)^T and Q_H^T(C) = Q(C^T, H)^T. Hence
#
#   jvp:             f(A)     -> L_A(dA)
#   grad:            L_A(dA)  -> L_A(ct^T)^T
#   any 2nd order:   L_A(E)   -> L_A(dE) + Q_A(E, dA)   (and its transpose)
#
# stay inside these two primitives, so jacfwd(jacrev), jacrev(jacrev),
# jacfwd(jacfwd) and jacrev(jacfwd) all give the exact second derivative.
# (A `custom_jvp` alone would not do: reverse mode transposes the body of the
# tangent function, and differentiating that body again goes through eigh.)
# The third-order term, the derivative of Q_A in A, falls back to composition
# through an eigh whose JVP drops near-degenerate pairs: finite everywhere,
# exact where the eigenvalues are distinct.

def _check_hermitian_input(a: ArrayLike, name: str) -> Array:
  check_arraylike(name, a)
  a = jnp.asarray(a)
  if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
    raise ValueError(f"{name}: a must be a batch of square matrices with shape "
                     f"[..., n, n], got a.shape={a.shape}.")
  if dtypes.issubdtype(a.dtype, np.bool_):
    raise TypeError(f"{name}: a must have a numeric dtype, got "
                    f"a.dtype={a.dtype}.")
  a, = promote_dtypes_inexact(a)
  return a


class _MatrixFunction:
  """A scalar function with its derivatives and first divided differences.

  Compared by identity, so it can be a static argument and a primitive
  parameter.
  """

  def __init__(self, name: str, func: Callable,
               divided_difference: Callable | None = None, *,
               nonnegative: bool = False):
    self.name = name
    self.func = func
    self.divided_difference = divided_difference
    self.nonnegative = nonnegative
    d1 = partial(_scalar_derivative, func)
    d2 = partial(_scalar_derivative, d1)
    self.value = jnp_vectorize.vectorize(func)
    self.derivative = jnp_vectorize.vectorize(d1)
    self.second_derivative = jnp_vectorize.vectorize(d2)

  def __repr__(self):
    return f"_MatrixFunction({self.name})"


def _eigenvalues_in_domain(matfun: _MatrixFunction, w: Array) -> Array:
  # For functions defined on [0, inf) (sqrt, fractional powers), a negative
  # eigenvalue within rounding of zero, |w_i| <= 2 n eps max|w| (the
  # backward error of eigh, with a margin of n), is taken as 0, so that
  # positive semidefinite matrices work; a more negative one gives NaN, as
  # jnp.sqrt does, instead of being silently clipped.
  if not matfun.nonnegative:
    return w
  n = w.shape[-1]
  tol = (2 * n * dtypes.finfo(w.dtype).eps
         * jnp.max(jnp.abs(w), axis=-1, keepdims=True, initial=0))
  return jnp.where(w >= -tol, jnp.maximum(w, 0), np.nan).astype(w.dtype)


def _scalar_derivative(func: Callable, x: Array) -> Array:
  return jvp(func, (x,), (lax.full_like(x, 1),))[1]


def _expm_divided_difference(x: Array, y: Array) -> Array:
  # f[x, y] = e^hi expm1(d) / d with hi = max(x, y), d = min(x, y) - hi <= 0:
  # no cancellation and nothing larger than e^hi.
  hi = jnp.maximum(x, y)
  d = jnp.minimum(x, y) - hi
  d_safe = jnp.where(d == 0, -1, d)
  return jnp.exp(hi) * jnp.where(d == 0, 1, jnp.expm1(d_safe) / d_safe)


def _logm_divided_difference(x: Array, y: Array) -> Array:
  # log(lo) - log(hi) = log1p(u) with u = (lo - hi) / hi in (-1, 0], where
  # lo - hi is exact for close arguments (Sterbenz).
  hi = jnp.maximum(x, y)
  u = (jnp.minimum(x, y) - hi) / hi
  u_safe = jnp.where(u == 0, -0.5, u)
  return jnp.where(u == 0, 1, jnp.log1p(u_safe) / u_safe) / hi


def _sqrtm_divided_difference(x: Array, y: Array) -> Array:
  # (sqrt x - sqrt y) / (x - y) = 1 / (sqrt x + sqrt y).
  return 1 / (_sqrt_clipped(x) + _sqrt_clipped(y))


def _powm_divided_difference(p: float, x: Array, y: Array) -> Array:
  # lo^p - hi^p = hi^p expm1(p log1p(u)), u = (lo - hi) / hi in [-1, 0], so
  # f[x, y] = hi^(p-1) expm1(p log1p(u)) / u, with limit p hi^(p-1) at u = 0.
  # At lo = 0 (u = -1) this is hi^(p-1) for p > 0, as it should be.
  hi = jnp.maximum(jnp.maximum(x, y), 0)
  lo = jnp.maximum(jnp.minimum(x, y), 0)
  hi_safe = jnp.where(hi == 0, 1, hi)
  u = jnp.where(hi == 0, 0, (lo - hi) / hi_safe)
  u_safe = jnp.where(u == 0, -0.5, u)
  ratio = jnp.where(u == 0, p, jnp.expm1(p * jnp.log1p(u_safe)) / u_safe)
  return jnp.power(hi, p - 1) * ratio


def _sqrt_clipped(x: Array) -> Array:
  return jnp.sqrt(jnp.maximum(x, 0))


_EXPM = _MatrixFunction("exp", jnp.exp, _expm_divided_difference)
_LOGM = _MatrixFunction("log", jnp.log, _logm_divided_difference)
_SQRTM = _MatrixFunction("sqrt", _sqrt_clipped, _sqrtm_divided_difference,
                         nonnegative=True)


@lru_cache(maxsize=64)
def _powm_matrix_function(p: float) -> _MatrixFunction:
  if p == int(p):
    # Integer powers are defined for any real eigenvalue and are smooth, so
    # the generic divided differences apply.
    return _MatrixFunction(f"power({int(p)})",
                           partial(_integer_power, int(p)))
  return _MatrixFunction(f"power({p})",
                         lambda x: jnp.power(jnp.maximum(x, 0), p),
                         partial(_powm_divided_difference, p),
                         nonnegative=True)


def _integer_power(p: int, x: Array) -> Array:
  return lax.integer_pow(x, p)


@lru_cache(maxsize=64)
def _matrix_function_for(func: Callable) -> _MatrixFunction:
  # Cached so that repeated calls with the same `func` hit the jit cache.
  return _MatrixFunction(getattr(func, "__name__", repr(func)), func)


_dot = partial(jnp.matmul, precision=lax.Precision.HIGHEST)


def _to_eigenbasis(v: Array, x: Array) -> Array:
  return _dot(_dot(_H(v), x), v)


def _from_eigenbasis(v: Array, x: Array) -> Array:
  return _dot(_dot(v, x), _H(v))


def _first_divided_differences(matfun: _MatrixFunction, w: Array
                               ) -> tuple[Array, Array]:
  """Returns G[..., i, j] = f[w_i, w_j] and an estimate of its error."""
  eps = dtypes.finfo(w.dtype).eps
  x, y = w[..., :, None], w[..., None, :]
  if matfun.divided_difference is not None:
    g = matfun.divided_difference(x, y)
    return g, 4 * eps * jnp.abs(g)
  # f[x, y] is either (f(x) - f(y)) / (x - y), with rounding error about
  # eps (|f(x)| + |f(y)|) / |x - y|, or the midpoint value f'(m), m = (x+y)/2,
  # with truncation error f'''(m) h^2 / 6, h = (x - y) / 2. We estimate
  # f'''(m) h^2 by f'(x) + f'(y) - 2 f'(m) and take whichever error is
  # smaller. With f of unit scale this is the usual threshold
  # |x - y| ~ eps^(1/3) balancing truncation (h^2) against cancellation
  # (eps / h), giving a relative error of about eps^(2/3) in the worst case;
  # taking the scale from f itself keeps it right for, e.g., log near 0.
  fw = matfun.value(w)
  dfw = matfun.derivative(w)
  fx, fy = fw[..., :, None], fw[..., None, :]
  dfm = matfun.derivative((x + y) / 2)
  diff = x - y
  exact = (fx - fy) / jnp.where(diff == 0, 1, diff)
  truncation = jnp.abs(dfw[..., :, None] + dfw[..., None, :] - 2 * dfm) / 6
  rounding = eps * (jnp.abs(fx) + jnp.abs(fy))
  use_midpoint = truncation * jnp.abs(diff) <= rounding
  g = jnp.where(use_midpoint, dfm, exact)
  err = jnp.where(use_midpoint, truncation,
                  rounding / jnp.where(diff == 0, 1, jnp.abs(diff)))
  return g, jnp.maximum(err, eps * jnp.abs(g))


@lru_cache(maxsize=32)
def _sorted_triples(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  i, k, j = np.ix_(np.arange(n), np.arange(n), np.arange(n))
  lo = np.minimum(np.minimum(i, k), j)
  hi = np.maximum(np.maximum(i, k), j)
  return lo, i + k + j - lo - hi, hi


def _second_divided_differences(matfun: _MatrixFunction, w: Array, g: Array,
                                g_err: Array) -> Array:
  """Returns D[..., i, k, j] = f[w_i, w_k, w_j]; w must be sorted."""
  # Order each triple as lo <= mid <= hi (eigh sorts w, so by index). Then
  # f[lo, mid, hi] = (f[mid, hi] - f[lo, mid]) / (hi - lo) divides by the
  # largest gap, with rounding error (eps (|f[lo,mid]| + |f[mid,hi]|) + the
  # errors of both) / (hi - lo). Its confluent form is f''(c) / 2 at the
  # centroid c, where the first-order Taylor term vanishes, so the truncation
  # error is f''''(c) sum_i (x_i - c)^2 / 48 <= f'''' (hi - lo)^2 / 72; we
  # estimate f'''' (hi - lo)^2 / 4 by f''(lo) + f''(hi) - 2 f''((lo+hi)/2).
  # Taking the smaller error balances span^2 against eps / span^2, i.e. the
  # eps^(1/4) threshold for second differences.
  eps = dtypes.finfo(w.dtype).eps
  lo, mid, hi = _sorted_triples(w.shape[-1])
  w_lo, w_mid, w_hi = w[..., lo], w[..., mid], w[..., hi]
  g_a, g_b = g[..., lo, mid], g[..., mid, hi]
  span = w_hi - w_lo
  exact = (g_b - g_a) / jnp.where(span == 0, 1, span)
  d2w = matfun.second_derivative(w)
  d2_mid = matfun.second_derivative((w[..., :, None] + w[..., None, :]) / 2)
  curvature = d2w[..., lo] + d2w[..., hi] - 2 * d2_mid[..., lo, hi]
  truncation = jnp.abs(curvature) / 18
  rounding = (eps * (jnp.abs(g_a) + jnp.abs(g_b)) + g_err[..., lo, mid]
              + g_err[..., mid, hi])
  use_taylor = truncation * span <= rounding
  taylor = matfun.second_derivative((w_lo + w_mid + w_hi) / 3) / 2
  return jnp.where(use_taylor, taylor, exact)


def _promote(*operands: tuple[Array, int]) -> list[Array]:
  # Explicit dtype and rank promotion of (array, core rank) pairs, so that
  # real eigenvalue tables meet complex eigenvectors, and an unbatched `a`
  # batched directions, also under jax_numpy_dtype_promotion=strict and
  # jax_numpy_rank_promotion=raise.
  dtype = np.result_type(*(x.dtype for x, _ in operands))
  nbatch = max(x.ndim - r for x, r in operands)
  return [x.astype(dtype).reshape((1,) * (nbatch + r - x.ndim) + x.shape)
          for x, r in operands]


def _funm_from_eigh(matfun: _MatrixFunction, w: Array, v: Array) -> Array:
  fw, v = _promote((matfun.value(w), 1), (v, 2))
  return _dot(v * fw[..., None, :], _H(v))


def _frechet_from_eigh(matfun: _MatrixFunction, w: Array, v: Array,
                       e: Array) -> Array:
  g, _ = _first_divided_differences(matfun, w)
  g, v, e = _promote((g, 2), (v, 2), (e, 2))
  return _from_eigenbasis(v, g * _to_eigenbasis(v, e))


def _frechet2_from_eigh(matfun: _MatrixFunction, w: Array, v: Array,
                        e: Array, h: Array) -> Array:
  g, g_err = _first_divided_differences(matfun, w)
  d = _second_divided_differences(matfun, w, g, g_err)
  d, v, e, h = _promote((d, 3), (v, 2), (e, 2), (h, 2))
  e_hat, h_hat = _to_eigenbasis(v, e), _to_eigenbasis(v, h)
  contract = partial(einsum, "...ikj,...ik,...kj->...ij",
                     precision=lax.Precision.HIGHEST)
  m = contract(d, e_hat, h_hat) + contract(d, h_hat, e_hat)
  return _from_eigenbasis(v, m)


@partial(jit, static_argnums=(0,))
def _funm_hermitian_wrapper(matfun: _MatrixFunction, a: Array) -> Array:
  a = symmetrize(a)
  v, w = lax_linalg.eigh(lax.stop_gradient(a), symmetrize_input=False)
  return _funm_hermitian(matfun, a, _eigenvalues_in_domain(matfun, w), v)


@partial(custom_jvp, nondiff_argnums=(0,))
def _funm_hermitian(matfun: _MatrixFunction, a: Array, w: Array, v: Array
                    ) -> Array:
  del a  # Only carries the tangent; `w, v = eigh(a)`.
  return _funm_from_eigh(matfun, w, v)


@_funm_hermitian.defjvp
def _funm_hermitian_jvp(matfun, primals, tangents):
  a, w, v = primals
  a_dot, _, _ = tangents
  out = _funm_hermitian(matfun, a, w, v)
  return out, funm_hermitian_frechet_p.bind(a, a_dot, w, v, matfun=matfun)


@custom_jvp
def _eigh_dropping_degenerate_pairs(a: Array) -> tuple[Array, Array]:
  v, w = lax_linalg.eigh(a, symmetrize_input=False)
  return w, v


@_eigh_dropping_degenerate_pairs.defjvp
def _eigh_dropping_degenerate_pairs_jvp(primals, tangents):
  # The eigh JVP, dV = V Y with Y_ij = K_ij / (l_j - l_i), K = V^H dA V, and
  # Y_ij = 0 on the pairs closer than sqrt(eps) of the spread, without its
  # second-order coupling and gauge check: only used for the third-order
  # fallback. Matrix functions depend on the eigenvectors only through the
  # projectors onto whole clusters, for which zeroing such pairs is exact
  # and bounds the rounding error of the others (see
  # _sylvester_singular_pivots), whatever jax_linalg_degeneracy_rtol says.
  a, = primals
  a_dot, = tangents
  w, v = _eigh_dropping_degenerate_pairs(a)
  a_dot_hat = _to_eigenbasis(v, a_dot)
  w_dot = jnp.real(einsum("...ii->...i", a_dot_hat))
  w_c = w.astype(a_dot_hat.dtype)
  v_dot = _dot(v, lax_linalg.sylvester_solve_p.bind(
      -w_c, w_c, a_dot_hat, rtol=float(np.sqrt(np.finfo(w.dtype).eps))))
  return (w, v), (w_dot.astype(w.dtype), v_dot)


def _cotangent_like(ct: Array, aval: core.AbstractValue) -> Array:
  # Undo the broadcasting of leading dimensions, and the real -> complex
  # promotion of a real direction (whose transpose takes the real part).
  extra = ct.ndim - len(aval.shape)
  axes = tuple(range(extra)) + tuple(
      extra + i for i, d in enumerate(aval.shape[:-2])
      if d == 1 and ct.shape[extra + i] != 1)
  if axes:
    ct = jnp.sum(ct, axis=axes).reshape(aval.shape)
  if (dtypes.issubdtype(ct.dtype, np.complexfloating)
      and not dtypes.issubdtype(aval.dtype, np.complexfloating)):
    ct = jnp.real(ct)
  return ct.astype(aval.dtype)


def _funm_frechet_abstract_eval(a, *directions_and_eigh, matfun):
  *directions, w, v = directions_and_eigh
  batch_shape = np.broadcast_shapes(*(x.shape[:-2] for x in (a, *directions)))
  dtype = np.result_type(v.dtype, _value_dtype(matfun, w.dtype),
                         *(x.dtype for x in directions))
  return core.ShapedArray(batch_shape + v.shape[-2:], dtype)


@lru_cache(maxsize=256)
def _value_dtype(matfun: _MatrixFunction, dtype: np.dtype) -> np.dtype:
  return eval_shape(matfun.value, core.ShapedArray((), dtype)).dtype


def _funm_frechet_batching_rule(prim, core_ranks, batched_args, batch_dims,
                                **params):
  # The primitives broadcast leading dimensions, so unbatched operands (e.g.
  # `a`, `w`, `v` under jacfwd) are left alone and decomposed only once.
  size = next(x.shape[d] for x, d in zip(batched_args, batch_dims)
              if d is not None)
  nbatch = max(x.ndim - r - (d is not None)
               for x, d, r in zip(batched_args, batch_dims, core_ranks))
  args = []
  for x, d, r in zip(batched_args, batch_dims, core_ranks):
    if d is not None:
      x = batching.moveaxis(x, d, 0)
      x = x.reshape((size,) + (1,) * (nbatch - (x.ndim - 1 - r))
                    + x.shape[1:])
    args.append(x)
  return prim.bind(*args, **params), 0


def _frechet_lowering(a, e, w, v, *, matfun):
  del a
  return _frechet_from_eigh(matfun, w, v, e)


def _frechet2_lowering(a, e, h, w, v, *, matfun):
  del a
  return _frechet2_from_eigh(matfun, w, v, e, h)


def _funm_frechet_jvp_rule(primals, tangents, *, matfun):
  # d L_A(E) = L_A(dE) + Q_A(E, dA); w and v move with a.
  a, e, w, v = primals
  a_dot, e_dot, _, _ = tangents
  out = funm_hermitian_frechet_p.bind(a, e, w, v, matfun=matfun)
  terms = []
  if type(e_dot) is not ad_util.Zero:
    terms.append(funm_hermitian_frechet_p.bind(a, e_dot, w, v, matfun=matfun))
  if type(a_dot) is not ad_util.Zero:
    terms.append(funm_hermitian_frechet2_p.bind(a, e, a_dot, w, v,
                                                matfun=matfun))
  if not terms:
    return out, ad_util.p2tz(out)
  return out, _sum_like(out, terms)


def _funm_frechet_transpose_rule(ct, a, e, w, v, *, matfun):
  # L^T(C) = L(C^T)^T, see the derivation above.
  assert ad.is_undefined_primal(e)
  assert not any(map(ad.is_undefined_primal, (a, w, v)))
  if type(ct) is ad_util.Zero:
    return [None, ad_util.Zero(e.aval), None, None]
  ct_e = _T(funm_hermitian_frechet_p.bind(a, _T(ct), w, v, matfun=matfun))
  return [None, _cotangent_like(ct_e, e.aval), None, None]


def _funm_frechet2_jvp_rule(primals, tangents, *, matfun):
  # d Q_A(E, H) = Q_A(dE, H) + Q_A(E, dH) + (D_A Q_A(E, H))[dA]. The last,
  # third-order, term differentiates the formula for Q through
  # `_eigh_dropping_degenerate_pairs`.
  a, e, h, w, v = primals
  a_dot, e_dot, h_dot, _, _ = tangents
  out = funm_hermitian_frechet2_p.bind(a, e, h, w, v, matfun=matfun)
  terms = []
  if type(e_dot) is not ad_util.Zero:
    terms.append(funm_hermitian_frechet2_p.bind(a, e_dot, h, w, v,
                                                matfun=matfun))
  if type(h_dot) is not ad_util.Zero:
    terms.append(funm_hermitian_frechet2_p.bind(a, e, h_dot, w, v,
                                                matfun=matfun))
  if type(a_dot) is not ad_util.Zero:
    def q(a):
      w, v = _eigh_dropping_degenerate_pairs(a)
      w = _eigenvalues_in_domain(matfun, w)
      return _frechet2_from_eigh(matfun, w, v, e, h)
    terms.append(jvp(q, (a,), (a_dot,))[1])
  if not terms:
    return out, ad_util.p2tz(out)
  return out, _sum_like(out, terms)


def _funm_frechet2_transpose_rule(ct, a, e, h, w, v, *, matfun):
  # Q_H^T(C) = Q(C^T, H)^T and, Q being symmetric, Q_E^T(C) = Q(E, C^T)^T.
  assert ad.is_undefined_primal(e) != ad.is_undefined_primal(h)
  assert not any(map(ad.is_undefined_primal, (a, w, v)))
  linear = e if ad.is_undefined_primal(e) else h
  other = h if ad.is_undefined_primal(e) else e
  if type(ct) is ad_util.Zero:
    ct_linear = ad_util.Zero(linear.aval)
  else:
    ct_linear = _cotangent_like(_T(funm_hermitian_frechet2_p.bind(
        a, _T(ct), other, w, v, matfun=matfun)), linear.aval)
  if ad.is_undefined_primal(e):
    return [None, ct_linear, None, None, None]
  return [None, None, ct_linear, None, None]


def _sum_like(out: Array, terms: list[Array]) -> Array:
  total = terms[0]
  for t in terms[1:]:
    total = total + t
  return jnp.broadcast_to(total, out.shape).astype(out.dtype)


funm_hermitian_frechet_p = core.Primitive("funm_hermitian_frechet")
funm_hermitian_frechet_p.def_impl(
    partial(dispatch.apply_primitive, funm_hermitian_frechet_p))
funm_hermitian_frechet_p.def_abstract_eval(_funm_frechet_abstract_eval)
ad.primitive_jvps[funm_hermitian_frechet_p] = _funm_frechet_jvp_rule
ad.primitive_transposes[funm_hermitian_frechet_p] = (
    _funm_frechet_transpose_rule)
batching.primitive_batchers[funm_hermitian_frechet_p] = partial(
    _funm_frechet_batching_rule, funm_hermitian_frechet_p, (2, 2, 1, 2))
mlir.register_lowering(funm_hermitian_frechet_p, mlir.lower_fun(
    _frechet_lowering, multiple_results=False))

funm_hermitian_frechet2_p = core.Primitive("funm_hermitian_frechet2")
funm_hermitian_frechet2_p.def_impl(
    partial(dispatch.apply_primitive, funm_hermitian_frechet2_p))
funm_hermitian_frechet2_p.def_abstract_eval(_funm_frechet_abstract_eval)
ad.primitive_jvps[funm_hermitian_frechet2_p] = _funm_frechet2_jvp_rule
ad.primitive_transposes[funm_hermitian_frechet2_p] = (
    _funm_frechet2_transpose_rule)
batching.primitive_batchers[funm_hermitian_frechet2_p] = partial(
    _funm_frechet_batching_rule, funm_hermitian_frechet2_p, (2, 2, 2, 1, 2))
mlir.register_lowering(funm_hermitian_frechet2_p, mlir.lower_fun(
    _frechet2_lowering, multiple_results=False))

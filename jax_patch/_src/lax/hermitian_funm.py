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
from jax._src import dtypes
from jax._src import lax
from jax._src import numpy as jnp
from jax._src.api import jvp, make_jaxpr
from jax._src.custom_derivatives import SymbolicZero, custom_jvp
from jax._src.interpreters import ad
from jax._src.interpreters import batching
from jax._src.interpreters import mlir
from jax._src.interpreters import partial_eval as pe
from jax._src.lax.control_flow.loops import map as lax_map
from jax_patch._src.lax import linalg as lax_linalg
from jax._src.lax.linalg import _H, _T, symmetrize
from jax._src.numpy import vectorize as jnp_vectorize
from jax._src.numpy.einsum import einsum
from jax._src.numpy.util import check_arraylike, promote_dtypes_inexact
from jax._src.typing import Array, ArrayLike


def expm_hermitian(a: ArrayLike) -> Array:
  r"""Compute the matrix exponential of a Hermitian matrix.

  .. math::

    e^A = V e^{\Lambda} V^H, \qquad A = V \Lambda V^H.

  :func:`funm_hermitian` with :func:`jax.numpy.exp`, whose input handling
  and derivatives it shares, with the closed-form divided differences
  :math:`f[x, y] = e^{y} \operatorname{expm1}(x - y) / (x - y)`. Unlike
  :func:`jax.scipy.linalg.expm` (a Pade approximant valid for any matrix),
  it requires a Hermitian input.

  Args:
    a: array of shape ``[..., n, n]``, Hermitian (complex) or symmetric
      (real).

  Returns:
    Array of shape ``[..., n, n]`` containing :math:`e^A`.
  """
  return _funm_hermitian_closed_form(a, "expm_hermitian", jnp.exp,
                                     _expm_divided_difference)


def funm_hermitian(a: ArrayLike, func: Callable[[Array], Array]) -> Array:
  r"""Evaluate a scalar function of a Hermitian matrix.

  .. math::

    f(A) = V f(\Lambda) V^H, \qquad A = V \Lambda V^H.

  Unlike :func:`jax.scipy.linalg.funm`, which needs a Schur decomposition
  and cannot be differentiated, this function only needs ``eigh``, runs on
  every backend and is differentiable: ``funm_hermitian(a, jnp.exp)`` is the
  matrix exponential of a Hermitian ``a``, ``funm_hermitian(a, jnp.sqrt)``
  the square root of a positive definite one.

  The input is symmetrized as :math:`\frac{1}{2}(A + A^H)`, as in
  :func:`jax.numpy.linalg.eigh`. Derivatives do not differentiate ``eigh``:
  they use the Daleckii-Krein formula
  :math:`Df(A)[E] = V (G \circ (V^H E V)) V^H` with the divided differences
  :math:`G_{ij} = f[\lambda_i, \lambda_j]`, and its second-order analogue,
  so first and second derivatives are exact also at repeated eigenvalues, in
  forward and reverse mode and their compositions. Third and higher
  derivatives are finite, and exact where the eigenvalues are distinct.

  ``func`` is applied to real scalars and differentiated with
  :func:`jax.jvp`, so the derivatives of the result are only as accurate as
  its own (e.g. in float32, that of :func:`jax.numpy.tanh` is 0 for
  ``|x| > 9``). It may close over arrays, also traced ones; derivatives with
  respect to those are not implemented.

  Args:
    a: array of shape ``[..., n, n]``, Hermitian (complex) or symmetric
      (real).
    func: a JAX-traceable function from a scalar to a scalar, e.g.
      :func:`jax.numpy.tanh`, differentiable twice (three times for third
      derivatives of the result).

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
  a = symmetrize(a)
  v, w = lax_linalg.eigh(lax.stop_gradient(a), symmetrize_input=False)
  fun, consts = _trace_scalar_function(func, w.dtype)
  return _funm_hermitian(fun, a, w, v, *consts)


def logm_hermitian(a: ArrayLike) -> Array:
  r"""Compute the principal logarithm of a Hermitian positive definite matrix.

  .. math::

    \log A = V \log(\Lambda) V^H.

  :func:`funm_hermitian` with :func:`jax.numpy.log`, with the closed-form
  divided differences :math:`f[x, y] = \operatorname{log1p}(u) / (u y)`,
  :math:`u = (x - y) / y`, :math:`y = \max(x, y)`.

  Args:
    a: array of shape ``[..., n, n]``, Hermitian positive definite.

  Returns:
    Array of shape ``[..., n, n]`` containing :math:`\log A`. Eigenvalues
    that are not positive give ``nan`` or ``-inf``.
  """
  return _funm_hermitian_closed_form(a, "logm_hermitian", jnp.log,
                                     _logm_divided_difference)


def powm_hermitian(a: ArrayLike, p: float) -> Array:
  r"""Raise a Hermitian positive definite matrix to a power.

  .. math::

    A^p = V \Lambda^p V^H.

  :func:`funm_hermitian` with :math:`x^p`. For non-integer ``p`` the
  divided differences have the closed form
  :math:`f[x, y] = y^{p-1} \operatorname{expm1}(p \operatorname{log1p}(u))
  / u`, :math:`u = (x - y) / y`, :math:`y = \max(x, y)`, and eigenvalues
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
  """
  if (isinstance(p, (bool, np.bool_)) or not isinstance(
      p, (int, float, np.integer, np.floating)) or not np.isfinite(p)):
    raise TypeError("powm_hermitian: p must be a finite real Python or NumPy "
                    f"scalar, got {p!r} of type {type(p).__name__}.")
  if p == int(p):
    # Integer powers are defined for any real eigenvalue and are smooth, so
    # the generic divided differences apply.
    return _funm_hermitian_closed_form(
        a, "powm_hermitian", partial(lax.integer_pow, y=int(p)))
  p = float(p)
  return _funm_hermitian_closed_form(
      a, "powm_hermitian", lambda x: jnp.power(jnp.maximum(x, 0), p),
      partial(_powm_divided_difference, p), nonnegative=True)


def sqrtm_hermitian(a: ArrayLike) -> Array:
  r"""Compute the square root of a Hermitian positive semidefinite matrix.

  .. math::

    A^{1/2} = V \Lambda^{1/2} V^H.

  :func:`funm_hermitian` with :func:`jax.numpy.sqrt`, with the closed-form
  divided differences :math:`f[x, y] = 1 / (\sqrt{x} + \sqrt{y})`. Unlike
  :func:`jax.scipy.linalg.sqrtm`, it needs no Schur decomposition and is
  differentiable. Eigenvalues within rounding of zero
  (:math:`|\lambda| \le 2 n \varepsilon \max|\lambda|`) count as zero; a
  more negative eigenvalue gives ``nan``, as :func:`jax.numpy.sqrt` does.
  Derivatives are infinite along a zero eigenvalue.

  Args:
    a: array of shape ``[..., n, n]``, Hermitian positive semidefinite.

  Returns:
    Array of shape ``[..., n, n]`` containing the positive semidefinite
    square root of ``a``.
  """
  return _funm_hermitian_closed_form(a, "sqrtm_hermitian", _sqrt_clipped,
                                     _sqrtm_divided_difference,
                                     nonnegative=True)


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
# eigenvalues, although V is not: hence differentiating f(A), not eigh. At
# A = I, d sum(e^A) = e * ones; an eigh rule that drops degenerate pairs
# gives e * I, because it never sees f'.
#
# Design. `funm_hermitian_frechet_p(a, e, w, v, *consts)` is L_A(E) =
# Df(A)[E], and `funm_hermitian_frechet2_p(a, e, h, w, v, *consts)` is
# D2f(A)[E, H]. `w, v = eigh(a)`, computed once under `stop_gradient`, are
# passed along so that every rule reuses one decomposition; the rules below
# account for all of the dependence on `a`. Both primitives are linear in
# their matrix directions and their transposes are the same primitives again:
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
#
# The parameter `fun` is the jaxpr of `func`, traced per call, with the
# values `func` closes over as inputs, passed as the operands `consts`
# (closure conversion): it holds no tracers and keeps neither `func` nor its
# closure alive. Outside of `jit` the primitives run op by op (`def_impl`):
# `dispatch.apply_primitive` would compile per call with a new lambda.

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


class _ScalarFunction:
  """f, with `jaxpr` mapping (*consts, x) to f(x) for a real scalar x."""

  def __init__(self, jaxpr: core.Jaxpr, name: str):
    self.jaxpr = jaxpr
    self.name = name

  def __repr__(self):
    return f"{type(self).__name__}({self.name})"

  @property
  def dtype(self) -> np.dtype:
    return self.jaxpr.outvars[0].aval.dtype

  def _scalar(self, consts: tuple[Array, ...], x: Array) -> Array:
    return core.eval_jaxpr(self.jaxpr, (), *consts, x)[0]

  def __call__(self, x: Array, consts: tuple[Array, ...], order: int = 0
               ) -> Array:
    """f(x), f'(x) or f''(x), elementwise."""
    f = partial(self._scalar, consts)
    for _ in range(order):
      f = partial(_scalar_derivative, f)
    return jnp_vectorize.vectorize(f)(x)

  def divided_differences(self, w: Array, consts: tuple[Array, ...]
                          ) -> tuple[Array, Array]:
    """Returns G[..., i, j] = f[w_i, w_j] and an estimate of its error."""
    # f[x, y] is either (f(x) - f(y)) / (x - y), with rounding error about
    # eps (|f(x)| + |f(y)|) / |x - y|, or f'(m), m = (x+y)/2, with truncation
    # error f'''(m) h^2 / 6, h = (x - y) / 2, estimated by
    # f'(x) + f'(y) - 2 f'(m): whichever error is smaller. For f of unit
    # scale the threshold is |x - y| ~ eps^(1/3) and the worst relative error
    # eps^(2/3); the scale from f itself keeps it right for, e.g., log near 0.
    eps = dtypes.finfo(w.dtype).eps
    x, y = w[..., :, None], w[..., None, :]
    fw = self(w, consts)
    dfw = self(w, consts, 1)
    fx, fy = fw[..., :, None], fw[..., None, :]
    dfm = self((x + y) / 2, consts, 1)
    diff = x - y
    exact = (fx - fy) / jnp.where(diff == 0, 1, diff)
    truncation = jnp.abs(dfw[..., :, None] + dfw[..., None, :] - 2 * dfm) / 6
    rounding = eps * (jnp.abs(fx) + jnp.abs(fy))
    use_midpoint = truncation * jnp.abs(diff) <= rounding
    g = jnp.where(use_midpoint, dfm, exact)
    err = jnp.where(use_midpoint, truncation,
                    rounding / jnp.where(diff == 0, 1, jnp.abs(diff)))
    return g, jnp.maximum(err, eps * jnp.abs(g))


def _trace_scalar_function(func: Callable, dtype: np.dtype
                           ) -> tuple[_ScalarFunction, list[Array]]:
  closed = make_jaxpr(func)(np.zeros((), dtype))
  outs = closed.jaxpr.outvars
  if len(outs) != 1 or outs[0].aval.shape != ():
    raise TypeError("funm_hermitian: func must map a scalar to a scalar, got "
                    f"outputs {[v.aval for v in outs]} for an input of dtype "
                    f"{np.dtype(dtype).name}.")
  jaxpr = pe.convert_constvars_jaxpr(closed.jaxpr)
  return (_ScalarFunction(jaxpr, getattr(func, "__name__", repr(func))),
          list(closed.consts))


def _scalar_derivative(func: Callable, x: Array) -> Array:
  return jvp(func, (x,), (lax.full_like(x, 1),))[1]


_dot = partial(jnp.matmul, precision=lax.Precision.HIGHEST)


def _to_eigenbasis(v: Array, x: Array) -> Array:
  return _dot(_dot(_H(v), x), v)


def _from_eigenbasis(v: Array, x: Array) -> Array:
  return _dot(_dot(v, x), _H(v))


@lru_cache(maxsize=32)
def _sorted_triples(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  i, k, j = np.ix_(np.arange(n), np.arange(n), np.arange(n))
  lo = np.minimum(np.minimum(i, k), j)
  hi = np.maximum(np.maximum(i, k), j)
  return lo, i + k + j - lo - hi, hi


def _second_divided_differences(fun: _ScalarFunction, consts, w: Array,
                                g: Array, g_err: Array) -> Array:
  """Returns D[..., i, k, j] = f[w_i, w_k, w_j]; w must be sorted."""
  # With lo <= mid <= hi (eigh sorts w, so by index), f[lo, mid, hi] =
  # (f[mid, hi] - f[lo, mid]) / (hi - lo) has rounding error
  # (eps (|f[lo,mid]| + |f[mid,hi]|) + their errors) / (hi - lo); f''(c) / 2
  # at the centroid c, where the first-order Taylor term vanishes, has
  # truncation error O(f'''' (hi - lo)^2), estimated by the larger of
  # f''(lo) + f''(hi) - 2 f''((lo+hi)/2) (zero for an odd f'', as tanh's at
  # -1, -1, 1) and the distance of f''(c)/2 to the mean of f''/2 at the
  # nodes. The smaller error wins: an eps^(1/4) threshold.
  eps = dtypes.finfo(w.dtype).eps
  lo, mid, hi = _sorted_triples(w.shape[-1])
  w_lo, w_mid, w_hi = w[..., lo], w[..., mid], w[..., hi]
  g_a, g_b = g[..., lo, mid], g[..., mid, hi]
  span = w_hi - w_lo
  exact = (g_b - g_a) / jnp.where(span == 0, 1, span)
  d2w = fun(w, consts, 2)
  d2_mid = fun((w[..., :, None] + w[..., None, :]) / 2, consts, 2)
  taylor = fun((w_lo + w_mid + w_hi) / 3, consts, 2) / 2
  curvature = d2w[..., lo] + d2w[..., hi] - 2 * d2_mid[..., lo, hi]
  mean = (d2w[..., lo] + d2w[..., mid] + d2w[..., hi]) / 6
  truncation = jnp.maximum(jnp.abs(curvature) / 18, jnp.abs(taylor - mean))
  rounding = (eps * (jnp.abs(g_a) + jnp.abs(g_b)) + g_err[..., lo, mid]
              + g_err[..., mid, hi])
  use_taylor = truncation * span <= rounding
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


def _funm_frechet_impl(a, e, w, v, *consts, fun):
  del a
  g, _ = fun.divided_differences(w, consts)
  g, v, e = _promote((g, 2), (v, 2), (e, 2))
  return _from_eigenbasis(v, g * _to_eigenbasis(v, e))


def _funm_frechet2_impl(a, e, h, w, v, *consts, fun):
  del a
  g, g_err = fun.divided_differences(w, consts)
  d = _second_divided_differences(fun, consts, w, g, g_err)
  d, v, e, h = _promote((d, 3), (v, 2), (e, 2), (h, 2))
  e_hat, h_hat = _to_eigenbasis(v, e), _to_eigenbasis(v, h)
  contract = partial(einsum, "...ikj,...ik,...kj->...ij",
                     precision=lax.Precision.HIGHEST)
  m = contract(d, e_hat, h_hat) + contract(d, h_hat, e_hat)
  return _from_eigenbasis(v, m)


def _check_no_const_tangents(fun: _ScalarFunction, const_tangents) -> None:
  if not all(type(t) in (SymbolicZero, ad_util.Zero) for t in const_tangents):
    raise NotImplementedError(
        "funm_hermitian: derivatives with respect to values that func "
        f"closes over are not implemented (func={fun.name}).")


@partial(custom_jvp, nondiff_argnums=(0,))
def _funm_hermitian(fun: _ScalarFunction, a: Array, w: Array, v: Array,
                    *consts: Array) -> Array:
  del a  # Only carries the tangent; `w, v = eigh(a)`.
  fw, v = _promote((fun(w, consts), 1), (v, 2))
  return _dot(v * fw[..., None, :], _H(v))


@partial(_funm_hermitian.defjvp, symbolic_zeros=True)
def _funm_hermitian_jvp(fun, primals, tangents):
  a, w, v, *consts = primals
  a_dot, _, _, *consts_dot = tangents
  # w, v are under stop_gradient: a tangent that is not a_dot is a const's.
  _check_no_const_tangents(fun, consts_dot)
  out = _funm_hermitian(fun, a, w, v, *consts)
  return out, funm_hermitian_frechet_p.bind(a, a_dot, w, v, *consts, fun=fun)


@custom_jvp
def _eigh_dropping_degenerate_pairs(a: Array) -> tuple[Array, Array]:
  v, w = lax_linalg.eigh(a, symmetrize_input=False)
  return w, v


@_eigh_dropping_degenerate_pairs.defjvp
def _eigh_dropping_degenerate_pairs_jvp(primals, tangents):
  # The eigh JVP, dV = V Y with Y_ij = K_ij / (l_j - l_i), K = V^H dA V, and
  # Y_ij = 0 on pairs closer than sqrt(eps) of the spread, for the third-order
  # fallback only: matrix functions depend on the eigenvectors only through
  # projectors onto whole clusters, for which zeroing such pairs is exact.
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


def _funm_frechet_abstract_eval(a, *operands, fun):
  *directions, w, v = operands[:len(operands) + 1 - len(fun.jaxpr.invars)]
  batch_shape = np.broadcast_shapes(*(x.shape[:-2] for x in (a, *directions)))
  dtype = np.result_type(v.dtype, fun.dtype, *(x.dtype for x in directions))
  return core.ShapedArray(batch_shape + v.shape[-2:], dtype)


def _funm_frechet_batching_rule(prim, core_ranks, batched_args, batch_dims,
                                *, fun):
  # The primitives broadcast leading dimensions, so unbatched operands (e.g.
  # `a`, `w`, `v` under jacfwd) are left alone and decomposed only once.
  # `fun` takes one value per const: batched consts (temperatures of
  # expm(-t H), say) bind the primitive once per member, in a loop that
  # keeps its derivative rules.
  size = next(x.shape[d] for x, d in zip(batched_args, batch_dims)
              if d is not None)
  if any(d is not None for d in batch_dims[len(core_ranks):]):
    args = [batching.bdim_at_front(x, d, size)
            for x, d in zip(batched_args, batch_dims)]
    return lax_map(lambda args: prim.bind(*args, fun=fun), args), 0
  nbatch = max(x.ndim - r - (d is not None)
               for x, d, r in zip(batched_args, batch_dims, core_ranks))
  args = []
  for x, d, r in zip(batched_args, batch_dims, core_ranks):
    if d is not None:
      x = batching.moveaxis(x, d, 0)
      x = x.reshape((size,) + (1,) * (nbatch - (x.ndim - 1 - r))
                    + x.shape[1:])
    args.append(x)
  args += batched_args[len(core_ranks):]
  return prim.bind(*args, fun=fun), 0


def _funm_frechet_jvp_rule(primals, tangents, *, fun):
  # d L_A(E) = L_A(dE) + Q_A(E, dA); w and v move with a.
  a, e, w, v, *consts = primals
  a_dot, e_dot, _, _, *consts_dot = tangents
  _check_no_const_tangents(fun, consts_dot)
  out = funm_hermitian_frechet_p.bind(a, e, w, v, *consts, fun=fun)
  terms = []
  if type(e_dot) is not ad_util.Zero:
    terms.append(funm_hermitian_frechet_p.bind(a, e_dot, w, v, *consts,
                                               fun=fun))
  if type(a_dot) is not ad_util.Zero:
    terms.append(funm_hermitian_frechet2_p.bind(a, e, a_dot, w, v, *consts,
                                                fun=fun))
  return out, _sum_like(out, terms)


def _funm_frechet_transpose_rule(ct, a, e, w, v, *consts, fun):
  # L^T(C) = L(C^T)^T, see the derivation above.
  assert ad.is_undefined_primal(e)
  assert not any(map(ad.is_undefined_primal, (a, w, v, *consts)))
  nones = [None] * len(consts)
  if type(ct) is ad_util.Zero:
    return [None, ad_util.Zero(e.aval), None, None, *nones]
  ct_e = _T(funm_hermitian_frechet_p.bind(a, _T(ct), w, v, *consts, fun=fun))
  return [None, _cotangent_like(ct_e, e.aval), None, None, *nones]


def _funm_frechet2_jvp_rule(primals, tangents, *, fun):
  # d Q_A(E, H) = Q_A(dE, H) + Q_A(E, dH) + (D_A Q_A(E, H))[dA]. The last,
  # third-order, term differentiates the formula for Q through
  # `_eigh_dropping_degenerate_pairs`.
  a, e, h, w, v, *consts = primals
  a_dot, e_dot, h_dot, _, _, *consts_dot = tangents
  _check_no_const_tangents(fun, consts_dot)
  out = funm_hermitian_frechet2_p.bind(a, e, h, w, v, *consts, fun=fun)
  terms = []
  if type(e_dot) is not ad_util.Zero:
    terms.append(funm_hermitian_frechet2_p.bind(a, e_dot, h, w, v, *consts,
                                                fun=fun))
  if type(h_dot) is not ad_util.Zero:
    terms.append(funm_hermitian_frechet2_p.bind(a, e, h_dot, w, v, *consts,
                                                fun=fun))
  if type(a_dot) is not ad_util.Zero:
    def q(a):
      w, v = _eigh_dropping_degenerate_pairs(a)
      return _funm_frechet2_impl(a, e, h, w, v, *consts, fun=fun)
    terms.append(jvp(q, (a,), (a_dot,))[1])
  return out, _sum_like(out, terms)


def _funm_frechet2_transpose_rule(ct, a, e, h, w, v, *consts, fun):
  # Q_H^T(C) = Q(C^T, H)^T and, Q being symmetric, Q_E^T(C) = Q(E, C^T)^T.
  assert ad.is_undefined_primal(e) != ad.is_undefined_primal(h)
  assert not any(map(ad.is_undefined_primal, (a, w, v, *consts)))
  linear, other = (e, h) if ad.is_undefined_primal(e) else (h, e)
  if type(ct) is ad_util.Zero:
    ct_linear = ad_util.Zero(linear.aval)
  else:
    ct_linear = _cotangent_like(_T(funm_hermitian_frechet2_p.bind(
        a, _T(ct), other, w, v, *consts, fun=fun)), linear.aval)
  cts = [ct_linear, None] if linear is e else [None, ct_linear]
  return [None, *cts, None, None] + [None] * len(consts)


def _sum_like(out: Array, terms: list[Array]) -> Array:
  if not terms:
    return ad_util.p2tz(out)
  total = sum(terms[1:], terms[0])
  return jnp.broadcast_to(total, out.shape).astype(out.dtype)


funm_hermitian_frechet_p = core.Primitive("funm_hermitian_frechet")
funm_hermitian_frechet_p.def_impl(_funm_frechet_impl)
funm_hermitian_frechet_p.def_abstract_eval(_funm_frechet_abstract_eval)
ad.primitive_jvps[funm_hermitian_frechet_p] = _funm_frechet_jvp_rule
ad.primitive_transposes[funm_hermitian_frechet_p] = (
    _funm_frechet_transpose_rule)
batching.primitive_batchers[funm_hermitian_frechet_p] = partial(
    _funm_frechet_batching_rule, funm_hermitian_frechet_p, (2, 2, 1, 2))
mlir.register_lowering(funm_hermitian_frechet_p, mlir.lower_fun(
    _funm_frechet_impl, multiple_results=False))

funm_hermitian_frechet2_p = core.Primitive("funm_hermitian_frechet2")
funm_hermitian_frechet2_p.def_impl(_funm_frechet2_impl)
funm_hermitian_frechet2_p.def_abstract_eval(_funm_frechet_abstract_eval)
ad.primitive_jvps[funm_hermitian_frechet2_p] = _funm_frechet2_jvp_rule
ad.primitive_transposes[funm_hermitian_frechet2_p] = (
    _funm_frechet2_transpose_rule)
batching.primitive_batchers[funm_hermitian_frechet2_p] = partial(
    _funm_frechet_batching_rule, funm_hermitian_frechet2_p, (2, 2, 2, 1, 2))
mlir.register_lowering(funm_hermitian_frechet2_p, mlir.lower_fun(
    _funm_frechet2_impl, multiple_results=False))


# The named functions below (expm, logm, sqrtm, powm) stay in this package:
# their closed-form divided differences are more accurate than the generic
# ones for close eigenvalues, but are not worth four new names in jax.lax.
def _funm_hermitian_closed_form(a: ArrayLike, name: str, func: Callable,
                                divided_difference: Callable | None = None,
                                *, nonnegative: bool = False) -> Array:
  a = symmetrize(_check_hermitian_input(a, name))
  v, w = lax_linalg.eigh(lax.stop_gradient(a), symmetrize_input=False)
  fun, consts = _trace_scalar_function(func, w.dtype)
  if divided_difference is not None:
    fun = _ClosedFormFunction(fun.jaxpr, fun.name, divided_difference)
  return _funm_hermitian(fun, a, _eigenvalues_in_domain(nonnegative, w), v,
                         *consts)


# A built-in function whose first divided differences have a closed form.
class _ClosedFormFunction(_ScalarFunction):

  def __init__(self, jaxpr: core.Jaxpr, name: str,
               divided_difference: Callable):
    super().__init__(jaxpr, name)
    self.divided_difference = divided_difference

  def divided_differences(self, w, consts):
    g = self.divided_difference(w[..., :, None], w[..., None, :])
    return g, 4 * dtypes.finfo(w.dtype).eps * jnp.abs(g)


# For functions defined on [0, inf) (sqrt, fractional powers), a negative
# eigenvalue within rounding of zero, |w_i| <= 2 n eps max|w| (the backward
# error of eigh, with a margin of n), is taken as 0, so that positive
# semidefinite matrices work; a more negative one gives NaN, as jnp.sqrt
# does, instead of being silently clipped.
def _eigenvalues_in_domain(nonnegative: bool, w: Array) -> Array:
  if not nonnegative:
    return w
  n = w.shape[-1]
  tol = (2 * n * dtypes.finfo(w.dtype).eps
         * jnp.max(jnp.abs(w), axis=-1, keepdims=True, initial=0))
  return jnp.where(w >= -tol, jnp.maximum(w, 0), np.nan).astype(w.dtype)


# f[x, y] = e^hi expm1(d) / d with hi = max(x, y), d = min(x, y) - hi <= 0:
# no cancellation and nothing larger than e^hi.
def _expm_divided_difference(x: Array, y: Array) -> Array:
  hi = jnp.maximum(x, y)
  d = jnp.minimum(x, y) - hi
  d_safe = jnp.where(d == 0, -1, d)
  return jnp.exp(hi) * jnp.where(d == 0, 1, jnp.expm1(d_safe) / d_safe)


# log(lo) - log(hi) = log1p(u) with u = (lo - hi) / hi in (-1, 0], where
# lo - hi is exact for close arguments (Sterbenz).
def _logm_divided_difference(x: Array, y: Array) -> Array:
  hi = jnp.maximum(x, y)
  u = (jnp.minimum(x, y) - hi) / hi
  u_safe = jnp.where(u == 0, -0.5, u)
  return jnp.where(u == 0, 1, jnp.log1p(u_safe) / u_safe) / hi


# (sqrt x - sqrt y) / (x - y) = 1 / (sqrt x + sqrt y).
def _sqrtm_divided_difference(x: Array, y: Array) -> Array:
  return 1 / (_sqrt_clipped(x) + _sqrt_clipped(y))


# lo^p - hi^p = hi^p expm1(p log1p(u)), u = (lo - hi) / hi in [-1, 0], so
# f[x, y] = hi^(p-1) expm1(p log1p(u)) / u, with limit p hi^(p-1) at u = 0.
# At lo = 0 (u = -1) this is hi^(p-1) for p > 0, as it should be.
def _powm_divided_difference(p: float, x: Array, y: Array) -> Array:
  hi = jnp.maximum(jnp.maximum(x, y), 0)
  lo = jnp.maximum(jnp.minimum(x, y), 0)
  hi_safe = jnp.where(hi == 0, 1, hi)
  u = jnp.where(hi == 0, 0, (lo - hi) / hi_safe)
  u_safe = jnp.where(u == 0, -0.5, u)
  ratio = jnp.where(u == 0, p, jnp.expm1(p * jnp.log1p(u_safe)) / u_safe)
  return jnp.power(hi, p - 1) * ratio


def _sqrt_clipped(x: Array) -> Array:
  return jnp.sqrt(jnp.maximum(x, 0))

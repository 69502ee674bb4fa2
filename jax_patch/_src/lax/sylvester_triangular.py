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

import math

import numpy as np

from jax._src import dtypes
from jax._src.lax import control_flow
from jax._src.lax import lax
from jax._src.lax.linalg import _triu
from jax._src.lax import slicing
from jax._src.typing import Array


# Sylvester solve: triangular kernel

# The kernel below is a wavefront over s x s blocks, s = _SYLVESTER_BLOCK_SIZE
# (or less for small matrices), whose diagonal blocks are solved as a grid of
# _SYLVESTER_LEAF_SIZE leaves by unrolled elementwise substitution. The block
# size trades the number of sequential steps (m / s + n / s) against the
# unrolled work per step (grows as s^2) and the compile time (likewise): on
# CPU, float64, s = 8, 12, 16 take 14.1, 12.4, 12.2 ms at n = 300 and 123,
# 92, 95 ms at n = 600, and compile in 1.2, 1.7, 2.7 s.
_SYLVESTER_BLOCK_SIZE = 12
_SYLVESTER_LEAF_SIZE = 4


def _sylvester_swap(x: Array, i: int, j: int) -> Array:
  perm = list(range(x.ndim))
  perm[i], perm[j] = perm[j], perm[i]
  return lax.transpose(x, perm)


def _sylvester_flip_t(x: Array) -> Array:
  """J x^T J, with J the exchange matrix."""
  return lax.rev(_sylvester_swap(x, -1, -2), (x.ndim - 2, x.ndim - 1))


def _sylvester_entry(x: Array, i: int, j: int) -> Array:
  """x[i, j] of an array [s, s, ...]: an array [...]."""
  x = slicing.index_in_dim(x, i, 0, keepdims=False)
  return slicing.index_in_dim(x, j, 0, keepdims=False)


def _sylvester_stack(rows: list[list[Array]]) -> Array:
  """The array [len(rows), len(rows[0]), ...] with entries rows[i][j]."""
  return lax.concatenate(
      [lax.concatenate([lax.expand_dims(x, (0, 1)) for x in row], 1)
       for row in rows], 0)


def _sylvester_leaf_solve(a: Array, b: Array, c: Array, inv_diag: Array
                          ) -> Array:
  """Leaf solve of a Y + Y b = c, all [s, s, ...], batched over [...]."""
  # The substitution written out entry by entry: elementwise operations on
  # the batch, which XLA fuses into a few loops.
  s = a.shape[0]
  y = [[None] * s for _ in range(s)]
  for i in reversed(range(s)):
    for j in range(s):
      acc = _sylvester_entry(c, i, j)
      for k in range(i + 1, s):
        acc = acc - _sylvester_entry(a, i, k) * y[k][j]
      for l in range(j):
        acc = acc - y[i][l] * _sylvester_entry(b, l, j)
      y[i][j] = _sylvester_entry(inv_diag, i, j) * acc
  return _sylvester_stack(y)


def _sylvester_leaf_matmul(x: Array, y: Array) -> Array:
  """x @ y over the leading two axes of [s, s, ...] arrays, elementwise."""
  s = x.shape[0]
  shape = (s, s, s, *x.shape[2:])
  rest = tuple(range(3, len(shape)))
  x = lax.broadcast_in_dim(x, shape, (0, 1, *rest))
  y = lax.broadcast_in_dim(y, shape, (1, 2, *rest))
  return lax.reduce_sum(x * y, (1,))


def _sylvester_block_solve(a: Array, b: Array, c: Array, inv_diag: Array
                           ) -> Array:
  """Solves a Y + Y b = c for [..., s, s] blocks by a grid of leaves."""
  # Leaves in the order of the substitution (bottom to top, left to right),
  # each with its right-hand side updated by the solved leaves below it and
  # left of it, all unrolled: the block is small, and every operation is
  # elementwise on the batch.
  *batch, s, _ = c.shape
  t = _SYLVESTER_LEAF_SIZE
  g = s // t
  size = math.prod(batch)
  def leaves(x):  # [..., s, s] -> [g, g, t, t, size]
    x = x.reshape(size, g, t, g, t)
    return lax.transpose(x, (1, 3, 2, 4, 0))
  a, b, c, inv_diag = map(leaves, (a, b, c, inv_diag))
  leaf = lambda x, k, l: _sylvester_entry(x, k, l)
  y = [[None] * g for _ in range(g)]
  for k in reversed(range(g)):
    for l in range(g):
      rhs = leaf(c, k, l)
      for k2 in range(k + 1, g):
        rhs = rhs - _sylvester_leaf_matmul(leaf(a, k, k2), y[k2][l])
      for l2 in range(l):
        rhs = rhs - _sylvester_leaf_matmul(y[k][l2], leaf(b, l2, l))
      y[k][l] = _sylvester_leaf_solve(leaf(a, k, k), leaf(b, l, l), rhs,
                                      leaf(inv_diag, k, l))
  y = lax.transpose(_sylvester_stack(y), (4, 0, 2, 1, 3))
  return y.reshape(*batch, s, s)


def _sylvester_blocks(x: Array, s: int) -> Array:
  """[..., r*s, q*s] -> [..., r, q, s, s], the grid of s x s blocks."""
  *batch, m, n = x.shape
  x = x.reshape(*batch, m // s, s, n // s, s)
  return _sylvester_swap(x, -3, -2)


def _sylvester_unblocks(x: Array) -> Array:
  """Inverse of _sylvester_blocks."""
  *batch, r, q, s, t = x.shape
  return _sylvester_swap(x, -3, -2).reshape(*batch, r * s, q * t)


def _sylvester_skew(x: Array, axis: int) -> Array:
  """z[K, u] = x[K, u - K] on axes (axis, axis + 1), zero elsewhere."""
  # [.., R, Q, ..] -> [.., R, Q + R - 1, ..]: with rows padded to Q + R and
  # read back as rows of Q + R - 1, row K starts K entries later.
  r, q = x.shape[axis], x.shape[axis + 1]
  pre, post = x.shape[:axis], x.shape[axis + 2:]
  pads = [(0, 0, 0)] * x.ndim
  pads[axis + 1] = (0, r, 0)
  x = lax.pad(x, lax._zero(x), pads).reshape(*pre, r * (q + r), *post)
  x = slicing.slice_in_dim(x, 0, r * (q + r - 1), axis=axis)
  return x.reshape(*pre, r, q + r - 1, *post)


def _sylvester_unskew(x: Array, axis: int, width: int) -> Array:
  """z[K, u] = x[K, u + K] for u < width, on axes (axis, axis + 1)."""
  # The reverse of _sylvester_skew: rows padded to W + R and read back as
  # rows of W + R + 1, row K starts K entries earlier; x[K, u + K] beyond the
  # end of row K reads the padding.
  r, w = x.shape[axis], x.shape[axis + 1]
  pre, post = x.shape[:axis], x.shape[axis + 2:]
  zero = lax._zero(x)
  pads = [(0, 0, 0)] * x.ndim
  pads[axis + 1] = (0, r, 0)
  x = lax.pad(x, zero, pads).reshape(*pre, r * (w + r), *post)
  pads = [(0, 0, 0)] * x.ndim
  pads[axis] = (0, r, 0)
  x = lax.pad(x, zero, pads).reshape(*pre, r, w + r + 1, *post)
  return slicing.slice_in_dim(x, 0, width, axis=axis + 1)


def _sylvester_split_complex(x: Array, axis: int) -> Array:
  """[re x, im x] concatenated along axis, or x itself if x is real."""
  if not dtypes.issubdtype(x.dtype, np.complexfloating):
    return x
  return lax.concatenate([lax.real(x), lax.imag(x)], axis % x.ndim)


def _sylvester_panel_dot(x: Array, y: Array, dtype) -> Array:
  """Batched x @ y of [..., s(2), k] and [..., k, s(2)] panels, as dtype."""
  # Complex panels come split by _sylvester_split_complex, x along its rows
  # and y along its columns, so one real product gives the four products
  #   [[xr yr, xr yi], [xi yr, xi yi]]
  # of the complex one: XLA:CPU's real products are several times faster
  # than its complex ones (7.5 vs 19 ms per step at n = 300).
  nb = x.ndim - 2
  batch = tuple(range(nb))
  z = lax.dot_general(x, y, (((nb + 1,), (nb,)), (batch, batch)),
                      precision=lax.Precision.HIGHEST)
  if not dtypes.issubdtype(dtype, np.complexfloating):
    return z
  s = z.shape[-1] // 2
  part = lambda i, j: slicing.slice(
      z, (0,) * nb + (i * s, j * s), (*z.shape[:nb], (i + 1) * s, (j + 1) * s))
  return lax.complex(part(0, 0) - part(1, 1), part(0, 1) + part(1, 0))


def _sylvester_wavefront(a: Array, b: Array, c: Array, inv_diag: Array,
                         s: int) -> Array:
  """Solves a Y + Y b = c by anti-diagonal sweeps over s x s blocks."""
  # a: [..., r*s, r*s] and b: [..., q*s, q*s] upper triangular with zeros
  # below the diagonal, r <= q. Block (K, L) of Y depends on the blocks below
  # it in column L and left of it in row K, so the r blocks
  #   (K, L_K) with L_K = d - r + 1 + K,  K = 0..r-1,
  # (anti-diagonal d when rows are counted from the bottom) are independent
  # and are solved together at step d, d = 0..r+q-2, after their right-hand
  # sides are brought up to date by two batched products over K:
  #   C[K, L_K] - sum_{j>0} A[K, K+j] Y[K+j, L_K] - sum_{j>0} Y[K, L_K-j] B[L_K-j, L_K],
  # in which Y[K+j, L_K] and Y[K, L_K-j] were solved at step d - j. The first
  # sum reads a rolling buffer ra[K, :] of Y[K+j, L_K], shifted by one block
  # each step; the second a window of the history h[K, :, d', :] of the
  # solved blocks. The coefficients are laid out once, with the off-diagonal
  # blocks of row K of A and of column L of B in the order of those buffers.
  # Only the r updated blocks are written per step (a lazy, left-looking
  # update, unlike trsyl3's eager one), and both products have long
  # contractions. Blocks with L_K outside [0, q) have c = inv_diag = 0 and
  # give 0. Jonsson & Kagstrom, "Recursive blocked algorithms for solving
  # triangular systems", ACM TOMS 28 (2002); LAPACK trsyl3.
  *batch, m, n = c.shape
  nb = len(batch)
  r, q = m // s, n // s
  num_d = r + q - 1
  dtype = c.dtype
  zero = lax._zero(c)
  is_complex = dtypes.issubdtype(dtype, np.complexfloating)
  s2 = 2 * s if is_complex else s
  # cs[K, d] = C[K, d - r + 1 + K]: row K of the block grid shifted right by
  # r - 1 - K; likewise inv_diag.
  by_step = lambda x: lax.rev(
      _sylvester_skew(lax.rev(_sylvester_blocks(x, s), (nb,)), nb), (nb,))
  cs, inv_s = by_step(c), by_step(inv_diag)
  a_blocks, b_blocks = _sylvester_blocks(a, s), _sylvester_blocks(b, s)
  a_diag = _sylvester_unskew(a_blocks, nb, 1).reshape(*batch, r, s, s)
  b_diag = _sylvester_unskew(b_blocks, nb, 1).reshape(*batch, q, s, s)
  b_diag = lax.pad(b_diag, zero, [(0, 0, 0)] * nb + [(r - 1, r - 1, 0)] +
                   [(0, 0, 0)] * 2)
  # a_row[K, i] = A[K, K + r - 1 - i], i = 0..r-2: the blocks right of the
  # diagonal, farthest first (the order of ra), as [..., r, s(2), (r-1) s].
  a_row = lax.rev(slicing.slice_in_dim(
      _sylvester_unskew(a_blocks, nb, r), 1, r, axis=nb + 1), (nb + 1,))
  a_row = _sylvester_swap(a_row, nb + 1, nb + 2)
  a_row = _sylvester_split_complex(a_row, nb + 1).reshape(
      *batch, r, s2, (r - 1) * s)
  # b_col[L, i] = B[L - q + 1 + i, L], i = 0..q-2: the blocks above the
  # diagonal, farthest first (the order of the history window), as
  # [..., q + 2 (r-1), (q-1) s, s(2)], padded for the windows over L.
  b_col = _sylvester_swap(b_blocks, nb, nb + 1)
  b_col = lax.pad(b_col, zero, [(0, 0, 0)] * (nb + 1) + [(q - 1, 0, 0)] +
                  [(0, 0, 0)] * 2)
  b_col = _sylvester_unskew(b_col, nb, q - 1).reshape(
      *batch, q, (q - 1) * s, s)
  b_col = _sylvester_split_complex(b_col, -1)
  b_col = lax.pad(b_col, zero if not is_complex else lax._zero(b_col),
                  [(0, 0, 0)] * nb + [(r - 1, r - 1, 0)] + [(0, 0, 0)] * 2)
  real_zero = lax._zero(a_row)
  # History h[K, :, q - 1 + d', :] = Y[K, L_K] solved at step d' (zero for
  # the q - 1 slots before the first step), rows split if complex.
  num_t = q - 1 + num_d
  h = lax.full((*batch, r, s2, num_t, s), 0, a_row.dtype)
  # ra[K, i] = Y[K + r - 1 - i, L_K] for the coming step, columns split.
  ra = lax.full((*batch, r, r - 1, s, s2), 0, a_row.dtype)

  def body(d, carry):
    h, ra = carry
    rhs = slicing.dynamic_index_in_dim(cs, d, axis=nb + 1, keepdims=False)
    if r > 1:
      rhs = rhs - _sylvester_panel_dot(
          a_row, ra.reshape(*batch, r, (r - 1) * s, s2), dtype)
    if q > 1:
      hw = slicing.dynamic_slice_in_dim(h, d, q - 1, axis=nb + 2)
      bw = slicing.dynamic_slice_in_dim(b_col, d, r, axis=nb)
      rhs = rhs - _sylvester_panel_dot(
          hw.reshape(*batch, r, s2, (q - 1) * s), bw, dtype)
    y = _sylvester_block_solve(
        a_diag, slicing.dynamic_slice_in_dim(b_diag, d, r, axis=nb), rhs,
        slicing.dynamic_index_in_dim(inv_s, d, axis=nb + 1, keepdims=False))
    h = slicing.dynamic_update_index_in_dim(
        h, _sylvester_split_complex(y, -2), d + q - 1, axis=nb + 2)
    if r > 1:
      # The next step needs Y[K + 1 + r - 1 - i, L_K + 1]: drop the oldest
      # block, append this step's, and move every row up one block.
      ra = lax.concatenate(
          [slicing.slice_in_dim(ra, 1, r - 1, axis=nb + 1),
           lax.expand_dims(_sylvester_split_complex(y, -1), (nb + 1,))],
          nb + 1)
      ra = lax.pad(slicing.slice_in_dim(ra, 1, r, axis=nb), real_zero,
                   [(0, 0, 0)] * nb + [(0, 1, 0)] + [(0, 0, 0)] * 3)
    return h, ra

  h, _ = control_flow.fori_loop(0, num_d, body, (h, ra))
  # Y[K, L] = h[K, :, q - 1 + L + r - 1 - K, :]: with K' = r - 1 - K, an
  # unskew of the history by K'.
  h = lax.rev(slicing.slice_in_dim(h, q - 1, num_t, axis=nb + 2), (nb,))
  y = _sylvester_unskew(_sylvester_swap(h, nb + 1, nb + 2), nb, q)
  y = lax.rev(y, (nb,))
  if is_complex:
    y = lax.complex(slicing.slice_in_dim(y, 0, s, axis=nb + 2),
                    slicing.slice_in_dim(y, s, s2, axis=nb + 2))
  return _sylvester_unblocks(y)


def _sylvester_triangular_solve(a: Array, b: Array, c: Array,
                                inv_diag: Array) -> Array:
  """Y with a Y + Y b = c, a and b upper triangular, pivots given inverted."""
  # Computes exactly the substitution
  #   y[i,j] = inv_diag[i,j] (c[i,j] - sum_{k>i} a[i,k] y[k,j]
  #                                  - sum_{k<j} y[i,k] b[k,j]),
  # ignoring a and b below the diagonal, with level-3 blocking (see
  # _sylvester_wavefront), so that inv_diag[i, j] == 0 gives y[i, j] == 0
  # with no special casing (and nan for a nan right-hand side: 0 * nan).
  *batch, m, n = c.shape
  nb = len(batch)
  if m == 0 or n == 0:
    return c
  if m > n:
    # Y' = J Y^T J solves (J b^T J) Y' + Y' (J a^T J) = J c^T J, with upper
    # triangular coefficients and the same substitution; the wavefront wants
    # fewer row blocks than column blocks.
    return _sylvester_flip_t(_sylvester_triangular_solve(
        _sylvester_flip_t(b), _sylvester_flip_t(a), _sylvester_flip_t(c),
        _sylvester_flip_t(inv_diag)))
  t = _SYLVESTER_LEAF_SIZE
  s = min(_SYLVESTER_BLOCK_SIZE, -(-m // t) * t)
  # Pad to whole blocks at the bottom and right: zero coefficients and
  # inv_diag = 0 decouple the padding, whose unknowns come out 0.
  pm, pn = -m % s, -n % s
  zero = lax._zero(c)
  batch_pad = [(0, 0, 0)] * nb
  a = lax.pad(_triu(a), zero, [*batch_pad, (0, pm, 0), (0, pm, 0)])
  b = lax.pad(_triu(b), zero, [*batch_pad, (0, pn, 0), (0, pn, 0)])
  c = lax.pad(c, zero, [*batch_pad, (0, pm, 0), (0, pn, 0)])
  inv_diag = lax.pad(inv_diag, zero, [*batch_pad, (0, pm, 0), (0, pn, 0)])
  y = _sylvester_wavefront(a, b, c, inv_diag, s)
  return slicing.slice(y, (0,) * (nb + 2), (*batch, m, n))


def _sylvester_diag(x: Array, offset: int) -> Array:
  """[..., n, n] -> [..., n - |offset|], the diagonal x[i, i + offset]."""
  *batch, n, _ = x.shape
  nb = len(batch)
  mask = (lax.broadcasted_iota('int32', x.shape, nb) + offset ==
          lax.broadcasted_iota('int32', x.shape, nb + 1))
  d = lax.reduce_sum(lax.select(mask, x, lax.full_like(x, 0)), (nb + 1,))
  return (slicing.slice_in_dim(d, 0, n - offset, axis=nb) if offset >= 0 else
          slicing.slice_in_dim(d, -offset, n, axis=nb))


def _sylvester_tridiag_apply(x: Array, lo: Array, dg: Array, up: Array,
                             axis: int) -> Array:
  """Q x along axis (-2: rows) with Q tridiagonal given by its diagonals."""
  # (Q x)[i] = lo[i-1] x[i-1] + dg[i] x[i] + up[i] x[i+1], lo and up of
  # length n - 1; along axis -1 the same with x[..., i] in place of x[i].
  nb = x.ndim - 2
  ax = x.ndim + axis
  n = x.shape[ax]
  zero = lax._zero(x)
  no_pad = [(0, 0, 0)] * x.ndim
  def shifted(v, lo_pad, hi_pad):
    v = lax.pad(v, zero, [(0, 0, 0)] * nb + [(lo_pad, hi_pad, 0)])
    return lax.expand_dims(v, (nb + 1,) if axis == -2 else (nb,))
  def shift_x(lo_pad, hi_pad, start, stop):
    pads = list(no_pad)
    pads[ax] = (lo_pad, hi_pad, 0)
    return lax.pad(slicing.slice_in_dim(x, start, stop, axis=ax), zero, pads)
  return (shifted(dg, 0, 0) * x +
          shifted(lo, 1, 0) * shift_x(1, 0, 0, n - 1) +
          shifted(up, 0, 1) * shift_x(0, 1, 1, n))


def _real_schur_to_complex(t: Array, z: Array) -> tuple[Array, Array]:
  """Complex Schur pair (t_c, z_c) from a real one, z t z^T = z_c t_c z_c^H."""
  # As scipy.linalg.rsf2csf: for each 2 x 2 bump [[a, b], [c, d]] at rows
  # (k, k+1) of the quasi-triangular t, with eigenvalue lam and
  #   mu = lam - d,  rho = hypot(|mu|, c),  G = [[conj(mu), c], [-c, mu]] / rho,
  # the unitary G zeroes the bump: t <- G t G^H, z <- z G^H. Bumps never touch
  # (the real Schur form has no adjacent ones), so the rotations act on
  # disjoint pairs of rows and columns, commute, and each sees its bump as in
  # the input. They are therefore all applied at once as one block diagonal
  # Q with 2 x 2 blocks G: t_c = Q t Q^H, z_c = z Q^H, in O(n^2) with no loop
  # (a fori_loop over the bumps, as jax.scipy.linalg.rsf2csf does, makes XLA
  # copy t on every step).
  *batch, n, _ = t.shape
  nb = len(batch)
  dtype = dtypes.to_complex_dtype(t.dtype)
  t = lax.convert_element_type(t, dtype)
  z = lax.convert_element_type(z, dtype)
  if n < 2:
    return t, z
  eps = dtypes.finfo(dtype).eps
  diag = _sylvester_diag(t, 0)
  a = slicing.slice_in_dim(diag, 0, n - 1, axis=nb)
  d = slicing.slice_in_dim(diag, 1, n, axis=nb)
  b, c = _sylvester_diag(t, 1), _sylvester_diag(t, -1)
  # lam = (a + d) / 2 + sqrt(((a - d) / 2)^2 + b c), so mu = lam - d is
  half = (a - d) / 2
  mu = half + lax.sqrt(half * half + b * c)
  rho = lax.sqrt(lax.real(mu * lax.conj(mu)) + lax.real(c * lax.conj(c)))
  bump = lax.abs(c) > eps * (lax.abs(a) + lax.abs(d))
  # Guard against adjacent flags, which a real Schur form does not have.
  after = lax.pad(bump, False, [(0, 0, 0)] * nb + [(1, 0, 0)])
  bump = bump & ~slicing.slice_in_dim(after, 0, n - 1, axis=nb)
  rho = lax.convert_element_type(rho, dtype)
  cs = lax.select(bump, mu / rho, lax.full_like(mu, 1))
  sn = lax.select(bump, c / rho, lax.full_like(mu, 0))
  # Diagonal of Q: conj(cs_k) at k and cs_k at k + 1 for each bump k.
  one = lax.full((*batch, 1), 1, dtype)
  dg = (lax.concatenate([lax.conj(cs), one], nb) *
        lax.concatenate([one, cs], nb))
  # t <- Q t on the rows, then t <- t Q^H and z <- z Q^H on the columns:
  # (x Q^H)[:, j] = sum_l x[:, l] conj(Q[j, l]).
  t = _sylvester_tridiag_apply(t, -sn, dg, sn, axis=-2)
  lo, dg, up = lax.conj(-sn), lax.conj(dg), lax.conj(sn)
  t = _sylvester_tridiag_apply(t, lo, dg, up, axis=-1)
  z = _sylvester_tridiag_apply(z, lo, dg, up, axis=-1)
  # The bumps are zero up to rounding; make t_c exactly upper triangular.
  return _triu(t), z

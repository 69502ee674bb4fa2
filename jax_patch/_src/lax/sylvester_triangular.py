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


def _sylvester_pair_solve(a: Array, b: Array, c: Array) -> Array:
  """Solves a Y + Y b = c for general 2 x 2 a and b, all [2, 2, ...]."""
  # With t = tr b, det b and adj(b) = t I - b, Cayley-Hamilton
  # (b^2 = t b - det(b) I) gives, for S(Y) = a Y + Y b,
  #   a S(Y) + S(Y) adj(b) = (a^2 + t a + det(b) I) Y = P Y,
  # so Y = adj(P) (a c + c adj(b)) / det(P), in closed form. det(P) is the
  # product of the four pivots alpha_i + beta_j over the eigenvalues of a and
  # b: zero exactly when the equation is singular (dlasy2 solves the same 4 x 4
  # system by Gaussian elimination).
  e = _sylvester_entry
  a00, a01, a10, a11 = e(a, 0, 0), e(a, 0, 1), e(a, 1, 0), e(a, 1, 1)
  b00, b01, b10, b11 = e(b, 0, 0), e(b, 0, 1), e(b, 1, 0), e(b, 1, 1)
  c00, c01, c10, c11 = e(c, 0, 0), e(c, 0, 1), e(c, 1, 0), e(c, 1, 1)
  t = b00 + b11
  det_b = b00 * b11 - b01 * b10
  p00 = a00 * a00 + a01 * a10 + t * a00 + det_b
  p11 = a11 * a11 + a01 * a10 + t * a11 + det_b
  p01, p10 = a01 * (a00 + a11 + t), a10 * (a00 + a11 + t)
  r00 = a00 * c00 + a01 * c10 + c00 * b11 - c01 * b10
  r01 = a00 * c01 + a01 * c11 - c00 * b01 + c01 * b00
  r10 = a10 * c00 + a11 * c10 + c10 * b11 - c11 * b10
  r11 = a10 * c01 + a11 * c11 - c10 * b01 + c11 * b00
  inv_det = lax.full_like(p00, 1) / (p00 * p11 - p01 * p10)
  return _sylvester_stack(
      [[(p11 * r00 - p01 * r10) * inv_det, (p11 * r01 - p01 * r11) * inv_det],
       [(p00 * r10 - p10 * r00) * inv_det, (p00 * r11 - p10 * r01) * inv_det]])


def _sylvester_grid_solve(a: Array, b: Array, c: Array, inv_diag: Array | None,
                          t: int, solve_leaf) -> Array:
  """Solves a Y + Y b = c, all [s, s, ...], as a grid of t x t leaves."""
  # Leaves in the order of the substitution (bottom to top, left to right),
  # each with its right-hand side updated by the solved leaves below it and
  # left of it, all unrolled: the grid is small, and every operation is
  # elementwise on the trailing batch dimensions.
  s, _, *rest = c.shape
  g = s // t
  perm = (0, 2, 1, 3, *range(4, 4 + len(rest)))
  leaves = lambda x: lax.transpose(x.reshape(g, t, g, t, *rest), perm)
  a, b, c = map(leaves, (a, b, c))
  if inv_diag is not None:
    inv_diag = leaves(inv_diag)
  leaf = _sylvester_entry
  y = [[None] * g for _ in range(g)]
  for k in reversed(range(g)):
    for l in range(g):
      rhs = leaf(c, k, l)
      for k2 in range(k + 1, g):
        rhs = rhs - _sylvester_leaf_matmul(leaf(a, k, k2), y[k2][l])
      for l2 in range(l):
        rhs = rhs - _sylvester_leaf_matmul(y[k][l2], leaf(b, l2, l))
      y[k][l] = solve_leaf(leaf(a, k, k), leaf(b, l, l), rhs,
                           None if inv_diag is None else leaf(inv_diag, k, l))
  return lax.transpose(_sylvester_stack(y), perm).reshape(s, s, *rest)


def _sylvester_block_solve(a: Array, b: Array, c: Array,
                           inv_diag: Array | None) -> Array:
  """Solves a Y + Y b = c for [..., s, s] blocks by a grid of leaves."""
  # Leaves of _SYLVESTER_LEAF_SIZE solved by elementwise substitution, or,
  # if inv_diag is None, for quasi-triangular a and b whose 2 x 2 diagonal
  # blocks start at even indices, as grids of those 2 x 2 blocks solved in
  # closed form.
  *batch, s, _ = c.shape
  nb = len(batch)
  perm = (nb, nb + 1, *range(nb))
  to_leaves = lambda x: lax.transpose(x, perm)
  a, b, c = map(to_leaves, (a, b, c))
  if inv_diag is None:
    solve_leaf = lambda a, b, c, _: _sylvester_grid_solve(
        a, b, c, None, 2, lambda a, b, c, _: _sylvester_pair_solve(a, b, c))
  else:
    inv_diag = to_leaves(inv_diag)
    solve_leaf = _sylvester_leaf_solve
  y = _sylvester_grid_solve(a, b, c, inv_diag, _SYLVESTER_LEAF_SIZE,
                            solve_leaf)
  return lax.transpose(y, (*range(2, nb + 2), 0, 1))


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
  # of the complex one: XLA:CPU's complex products are several times slower
  # than its real ones (at n = 300, two complex products per step took 38 ms
  # of a 62 ms complex128 solve, which takes 31 ms this way).
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


def _sylvester_wavefront(a: Array, b: Array, c: Array,
                         inv_diag: Array | None, s: int,
                         dummy: Array | None = None) -> Array:
  """Solves a Y + Y b = c by anti-diagonal sweeps over s x s blocks."""
  # a: [..., r*s, r*s] and b: [..., q*s, q*s] upper triangular with zeros
  # below the diagonal (or quasi-triangular, see below), r <= q. Block (K, L)
  # of Y depends on the blocks below it in column L and left of it in row K,
  # so the r blocks
  #   (K, L_K) with L_K = d - r + 1 + K,  K = 0..r-1,
  # (anti-diagonal d when rows are counted from the bottom) are independent
  # and are solved together at step d, d = 0..r+q-2, after their right-hand
  # sides are brought up to date by two batched products over K:
  #   C[K, L_K] - sum_{j>0} A[K, K+j] Y[K+j, L_K]
  #             - sum_{j>0} Y[K, L_K-j] B[L_K-j, L_K],
  # in which Y[K+j, L_K] and Y[K, L_K-j] were solved at step d - j. The first
  # sum reads a rolling buffer ra[K, :] of Y[K+j, L_K], shifted by one block
  # each step; the second a window of the history h[K, :, d', :] of the
  # solved blocks. The coefficients are laid out once, with the off-diagonal
  # blocks of row K of A and of column L of B in the order of those buffers.
  # Only the r updated blocks are written per step (a lazy, left-looking
  # update, unlike trsyl3's eager one), and both products have long
  # contractions. Blocks with L_K outside [0, q) have c = inv_diag = 0 and
  # give 0 (with inv_diag None, a and b are quasi-triangular, see
  # _sylvester_block_solve, and such blocks give finite values that are
  # multiplied by zero blocks only). Jonsson & Kagstrom, "Recursive blocked
  # algorithms for solving triangular systems", ACM TOMS 28 (2002); LAPACK
  # trsyl3.
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
  cs = by_step(c)
  inv_s = None if inv_diag is None else by_step(inv_diag)
  a_blocks, b_blocks = _sylvester_blocks(a, s), _sylvester_blocks(b, s)
  a_diag = _sylvester_unskew(a_blocks, nb, 1).reshape(*batch, r, s, s)
  b_diag = _sylvester_unskew(b_blocks, nb, 1).reshape(*batch, q, s, s)
  # Windows of b's diagonal blocks over L_K, padded for the blocks outside
  # the grid with 0 or, for quasi-triangular a and b, with dummy * I, which
  # keeps their (discarded) closed-form solves finite.
  pad_block = lax.full((*batch, r - 1, s, s), 0, dtype)
  if dummy is not None:
    pad_block = pad_block + lax.broadcast_in_dim(
        dummy, pad_block.shape, tuple(range(nb))) * lax.broadcast_in_dim(
            lax._eye(dtype, (s, s)), pad_block.shape, (nb + 1, nb + 2))
  b_diag = lax.concatenate([pad_block, b_diag, pad_block], nb)
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
  b_col = lax.pad(b_col, lax._zero(b_col),
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
        None if inv_s is None else
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
                                inv_diag: Array,
                                block_size: int = _SYLVESTER_BLOCK_SIZE
                                ) -> Array:
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
        _sylvester_flip_t(inv_diag), block_size))
  s = _sylvester_block_size(m, block_size)
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


def _sylvester_block_size(m: int, block_size: int = _SYLVESTER_BLOCK_SIZE
                          ) -> int:
  # At most block_size, and no more than m rounded up to whole leaves.
  t = _SYLVESTER_LEAF_SIZE
  return min(block_size, -(-m // t) * t)


def _sylvester_take(x: Array, idx: Array, axis: int) -> Array:
  """x[..., idx[...], ...] along axis, idx batched like x's leading dims."""
  # x: [..., n, ...] with the batch dimensions of idx: [..., p] in front.
  nb = idx.ndim - 1
  x = _sylvester_swap(x, axis, nb) if axis != nb else x
  dnums = slicing.GatherDimensionNumbers(
      offset_dims=tuple(range(nb + 1, x.ndim)), collapsed_slice_dims=(nb,),
      start_index_map=(nb,), operand_batching_dims=tuple(range(nb)),
      start_indices_batching_dims=tuple(range(nb)))
  out = slicing.gather(x, lax.expand_dims(idx, (idx.ndim,)), dnums,
                       slice_sizes=(*(1,) * (nb + 1), *x.shape[nb + 1:]),
                       mode=slicing.GatherScatterMode.PROMISE_IN_BOUNDS)
  return _sylvester_swap(out, axis, nb) if axis != nb else out


def _sylvester_bump_layout(t: Array, size: int) -> tuple[Array, Array, Array]:
  """Where the rows of a real Schur form go so that its 2 x 2 blocks are even.

  Returns pos [..., n], the new index of each row; src [..., size], the old
  index of each new row (n for a dummy row); and whether the n rows and the
  dummies they need fit in size.
  """
  # A bump (2 x 2 block) at rows (k, k+1) must start at an even index. After
  # an aligned bump the next index is even again, so a bump needs one dummy
  # row before it exactly when an odd number of real eigenvalues separates it
  # from the previous bump (or from the top).
  *batch, n, _ = t.shape
  nb = len(batch)
  if n < 2:
    pos = lax.full((*batch, n), 0, np.int32)
    src = lax.broadcast_in_dim(
        lax.select(lax.iota(np.int32, size) < n, lax.full((size,), 0, np.int32),
                   lax.full((size,), n, np.int32)), (*batch, size), (nb,))
    return pos, src, lax.full(batch, n <= size, np.bool_)
  start = _sylvester_bumps(t)
  no = lax.full((*batch, 1), False, np.bool_)
  second = lax.concatenate([no, start], nb)
  start = lax.concatenate([start, no], nb)
  as_int = lambda x: lax.convert_element_type(x, np.int32)
  real = as_int(~start & ~second)
  reals_before = control_flow.cumsum(real, axis=nb) - real
  # Reals before the last bump that starts before each row.
  last = control_flow.cummax(
      lax.select(start, reals_before, lax.full_like(reals_before, 0)), axis=nb)
  last = lax.pad(slicing.slice_in_dim(last, 0, n - 1, axis=nb), np.int32(0),
                 [(0, 0, 0)] * nb + [(1, 0, 0)])
  need = as_int(start) * ((reals_before - last) % 2)
  pos = lax.broadcasted_iota(np.int32, (*batch, n), nb) + control_flow.cumsum(
      need, axis=nb)
  fits = slicing.index_in_dim(pos, n - 1, nb, keepdims=False) < size
  # src by comparison, O(n size): src[p] = i where pos[i] == p, else n.
  shape = (*batch, size, n)
  hit = (lax.broadcast_in_dim(pos, shape, (*range(nb), nb + 1)) ==
         lax.broadcasted_iota(np.int32, shape, nb))
  i = lax.broadcasted_iota(np.int32, shape, nb + 1)
  src = lax.reduce_min(lax.select(hit, i, lax.full_like(i, n)), (nb + 1,))
  return pos, src, fits


def _sylvester_pad_quasi(t: Array, src: Array, dummy: Array) -> Array:
  """t with rows and columns moved to src's layout, dummy on new diagonals."""
  *batch, n, _ = t.shape
  nb = len(batch)
  zero = lax._zero(t)
  t = lax.pad(t, zero, [(0, 0, 0)] * nb + [(0, 1, 0), (0, 1, 0)])
  t = _sylvester_take(_sylvester_take(t, src, nb), src, nb + 1)
  size = src.shape[-1]
  is_dummy = src == n
  eye = lax.broadcasted_iota(np.int32, (size, size), 0) == (
      lax.broadcasted_iota(np.int32, (size, size), 1))
  on_dummy_diag = lax.broadcast_in_dim(
      is_dummy, (*batch, size, size), (*range(nb), nb)) & lax.broadcast_in_dim(
          eye, (*batch, size, size), (nb, nb + 1))
  return lax.select(on_dummy_diag, lax.broadcast_in_dim(
      dummy, t.shape, tuple(range(nb))), t)


def _sylvester_quasi_triangular_solve(a: Array, b: Array, c: Array,
                                      size_a: int, size_b: int
                                      ) -> tuple[Array, Array]:
  """Y with a Y + Y b = c for real quasi-triangular (real Schur) a and b.

  Returns Y and whether the layout fitted (see below); where it did not, Y
  is garbage. The equation must be nonsingular.
  """
  # Each 2 x 2 diagonal block (bump) is moved to an even index by inserting
  # decoupled dummy rows and columns (zero off the diagonal, zero right-hand
  # side, so zero unknowns) in front of it, to sizes size_a and size_b, which
  # must be multiples of the block size used (see _sylvester_quasi_sizes); the
  # wavefront then solves 2 x 2 blocks of unknowns in closed form. The
  # dummies' diagonal value exceeds every eigenvalue's modulus (bounded by
  # twice the largest entry of the tridiagonal band), so that no dummy pivot
  # vanishes.
  *batch, m, n = c.shape
  nb = len(batch)
  a = lax.select(_sylvester_quasi_mask(a), a, lax.full_like(a, 0))
  b = lax.select(_sylvester_quasi_mask(b), b, lax.full_like(b, 0))
  band = lambda x: lax.reduce_max(abs(x - _triu(x, 2)), (nb, nb + 1))
  dummy = lax.convert_element_type(1 + 2 * (band(a) + band(b)), a.dtype)
  pos_a, src_a, fits_a = _sylvester_bump_layout(a, size_a)
  pos_b, src_b, fits_b = _sylvester_bump_layout(b, size_b)
  a_p = _sylvester_pad_quasi(a, src_a, dummy)
  b_p = _sylvester_pad_quasi(b, src_b, dummy)
  zero = lax._zero(c)
  c_p = lax.pad(c, zero, [(0, 0, 0)] * nb + [(0, 1, 0), (0, 1, 0)])
  c_p = _sylvester_take(_sylvester_take(c_p, src_a, nb), src_b, nb + 1)
  s = _sylvester_block_size(min(size_a, size_b))
  if size_a > size_b:
    y_p = _sylvester_flip_t(_sylvester_wavefront(
        _sylvester_flip_t(b_p), _sylvester_flip_t(a_p), _sylvester_flip_t(c_p),
        None, s, dummy))
  else:
    y_p = _sylvester_wavefront(a_p, b_p, c_p, None, s, dummy)
  y = _sylvester_take(_sylvester_take(y_p, pos_a, nb), pos_b, nb + 1)
  return y, fits_a & fits_b


def _sylvester_quasi_sizes(m: int, n: int) -> tuple[int, int]:
  """Static sizes for _sylvester_quasi_triangular_solve."""
  # Room for 1.3 sqrt(k) + 1 dummies, rounded up to whole blocks. At most one
  # dummy per real eigenvalue is needed, and a random real k x k matrix has
  # about sqrt(2 k / pi) of them; measured on randn(k, k) / sqrt(k) + 3 I,
  # 8 seeds each, at most 8, 15 and 26 dummies at k = 100, 300 and 600 (the
  # room is 20, 24 and 36 after rounding). The caller falls back to the
  # complex Schur forms when a layout does not fit.
  room = lambda k: k + math.ceil(1.3 * math.sqrt(k)) + 1
  s = _sylvester_block_size(room(min(m, n)))
  size = lambda k: -(-room(k) // s) * s
  return size(m), size(n)


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


def _sylvester_bumps(t: Array) -> Array:
  """[..., n - 1] flags: whether t[k+1, k] is the bump of a 2 x 2 block."""
  # Subdiagonal entries that are zero to working precision relative to their
  # diagonal neighbours are not bumps. A real Schur form has no adjacent
  # bumps; if given some, the first of each run is kept.
  *batch, n, _ = t.shape
  nb = len(batch)
  eps = dtypes.finfo(t.dtype).eps
  diag = _sylvester_diag(t, 0)
  a = slicing.slice_in_dim(diag, 0, n - 1, axis=nb)
  d = slicing.slice_in_dim(diag, 1, n, axis=nb)
  bump = lax.abs(_sylvester_diag(t, -1)) > eps * (lax.abs(a) + lax.abs(d))
  after = lax.pad(bump, False, [(0, 0, 0)] * nb + [(1, 0, 0)])
  return bump & ~slicing.slice_in_dim(after, 0, n - 1, axis=nb)


def _sylvester_quasi_mask(t: Array) -> Array:
  """The entries of a quasi-triangular t in use: upper triangle and bumps."""
  *batch, n, _ = t.shape
  nb = len(batch)
  shape = (*batch, n, n)
  rows = lax.broadcasted_iota(np.int32, shape, nb)
  cols = lax.broadcasted_iota(np.int32, shape, nb + 1)
  if n < 2:
    return rows <= cols
  bump = lax.pad(_sylvester_bumps(t), False, [(0, 0, 0)] * nb + [(0, 1, 0)])
  bump = lax.broadcast_in_dim(bump, shape, (*range(nb), nb + 1))
  return (rows <= cols) | ((rows == cols + 1) & bump)


def _real_schur_shifts(t: Array) -> tuple[Array, Array, Array, Array]:
  """Per bump k of a real Schur form t: (bump, d, c, mu), complex, [..., n-1].

  For the 2 x 2 block [[a, b], [c, d]] at rows (k, k+1), with eigenvalue
  lam = (a + d) / 2 + sqrt(((a - d) / 2)^2 + b c): mu = lam - d.
  """
  *batch, n, _ = t.shape
  nb = len(batch)
  dtype = dtypes.to_complex_dtype(t.dtype)
  bump = _sylvester_bumps(t)
  t = lax.convert_element_type(t, dtype)
  diag = _sylvester_diag(t, 0)
  a = slicing.slice_in_dim(diag, 0, n - 1, axis=nb)
  d = slicing.slice_in_dim(diag, 1, n, axis=nb)
  b, c = _sylvester_diag(t, 1), _sylvester_diag(t, -1)
  half = (a - d) / 2
  return bump, d, c, half + lax.sqrt(half * half + b * c)


def _real_schur_eigenvalues(t: Array) -> Array:
  """The eigenvalues of a real Schur form t, in the order of its diagonal."""
  # lam = d + mu (_real_schur_shifts) at each bump k and its conjugate at
  # k + 1; the diagonal entry elsewhere.
  *batch, n, _ = t.shape
  nb = len(batch)
  dtype = dtypes.to_complex_dtype(t.dtype)
  diag = lax.convert_element_type(_sylvester_diag(t, 0), dtype)
  if n < 2:
    return diag
  bump, d, _, mu = _real_schur_shifts(t)
  lam = d + mu
  no = lax.full((*batch, 1), False, np.bool_)
  zero = lax.full((*batch, 1), 0, dtype)
  first = lax.concatenate([bump, no], nb)
  second = lax.concatenate([no, bump], nb)
  return lax.select(first, lax.concatenate([lam, zero], nb), lax.select(
      second, lax.conj(lax.concatenate([zero, lam], nb)), diag))


def _real_schur_rotation(t: Array) -> tuple[Array, Array]:
  """The unitary Q with Q t Q^H upper triangular, for a real Schur form t.

  Q is block diagonal with a 2 x 2 rotation per bump, returned as (sn, dg):
  Q = tridiag(-sn, dg, sn), complex, with sn [..., n - 1] and dg [..., n].
  """
  # As scipy.linalg.rsf2csf: for each 2 x 2 bump [[a, b], [c, d]] at rows
  # (k, k+1) of the quasi-triangular t, with eigenvalue lam and
  #   mu = lam - d,  rho = hypot(|mu|, c),  G = [[conj(mu), c], [-c, mu]] / rho,
  # the unitary G zeroes the bump: t <- G t G^H. Bumps never touch (the real
  # Schur form has no adjacent ones), so the rotations act on disjoint pairs
  # of rows and columns, commute, and each sees its bump as in the input.
  # They are therefore all applied at once as one block diagonal Q with 2 x 2
  # blocks G, in O(n^2) with no loop (a fori_loop over the bumps, as
  # jax.scipy.linalg.rsf2csf does, makes XLA copy t on every step).
  *batch, _, _ = t.shape
  nb = len(batch)
  dtype = dtypes.to_complex_dtype(t.dtype)
  bump, _, c, mu = _real_schur_shifts(t)
  rho = lax.sqrt(lax.real(mu * lax.conj(mu)) + lax.real(c * lax.conj(c)))
  rho = lax.convert_element_type(rho, dtype)
  cs = lax.select(bump, mu / rho, lax.full_like(mu, 1))
  sn = lax.select(bump, c / rho, lax.full_like(mu, 0))
  # Diagonal of Q: conj(cs_k) at k and cs_k at k + 1 for each bump k.
  one = lax.full((*batch, 1), 1, dtype)
  dg = (lax.concatenate([lax.conj(cs), one], nb) *
        lax.concatenate([one, cs], nb))
  return sn, dg


def _sylvester_rotate(x: Array, sn: Array, dg: Array, *, left: bool,
                      adjoint: bool) -> Array:
  """Q x, Q^H x, x Q or x Q^H for Q = tridiag(-sn, dg, sn)."""
  # _sylvester_tridiag_apply computes M x (axis -2) or x M^T (axis -1) for
  # M = tridiag(lo, dg, up), and Q^H = tridiag(conj(sn), conj(dg), -conj(sn)).
  if left:
    # M = Q or Q^H.
    lo, dg, up = ((lax.conj(sn), lax.conj(dg), -lax.conj(sn)) if adjoint else
                  (-sn, dg, sn))
  else:
    # M = conj(Q) (x Q^H = x conj(Q)^T) or Q^T.
    lo, dg, up = ((-lax.conj(sn), lax.conj(dg), lax.conj(sn)) if adjoint else
                  (sn, dg, -sn))
  return _sylvester_tridiag_apply(x, lo, dg, up, axis=-2 if left else -1)


def _real_schur_complex_form(t: Array) -> tuple[Array, Array, Array]:
  """(t_c, sn, dg): t_c = Q t Q^H, Q from _real_schur_rotation."""
  dtype = dtypes.to_complex_dtype(t.dtype)
  sn, dg = _real_schur_rotation(t)
  t = _sylvester_rotate(
      _sylvester_rotate(lax.convert_element_type(t, dtype), sn, dg,
                        left=True, adjoint=False),
      sn, dg, left=False, adjoint=True)
  # The bumps are zero up to rounding; make t_c exactly upper triangular.
  return _triu(t), sn, dg


def _real_schur_to_complex(t: Array, z: Array) -> tuple[Array, Array]:
  """Complex Schur pair (t_c, z_c) from a real one, z t z^T = z_c t_c z_c^H."""
  # t_c = Q t Q^H and z_c = z Q^H with Q from _real_schur_rotation.
  dtype = dtypes.to_complex_dtype(t.dtype)
  z = lax.convert_element_type(z, dtype)
  if t.shape[-1] < 2:
    return lax.convert_element_type(t, dtype), z
  t, sn, dg = _real_schur_complex_form(t)
  return t, _sylvester_rotate(z, sn, dg, left=False, adjoint=True)


def _sylvester_quasi_solve(a: Array, b: Array, c: Array,
                           rtol: float | None) -> Array:
  """Y with a Y + Y b = c for real Schur forms a and b, in real arithmetic.

  Pivots lam_i(a) + lam_j(b) with modulus at most rtol (max|a| + max|b|)
  (over the entries in use) are singular, and their components of Y are zero
  in the basis of the complex Schur forms, as for triangular factors.
  """
  # Nonsingular equations whose bumps fit the static layout (see
  # _sylvester_quasi_triangular_solve) are solved in real arithmetic.
  # Otherwise the complex Schur forms Q a Q^H, Q' b Q'^H (_real_schur_rotation)
  # give T_a Y_c + Y_c T_b = Q c Q'^H, solved with the singular components
  # dropped, and Y = Re(Q^H Y_c Q'): Q^H Y_c Q' and its conjugate are the
  # generalized solutions in the bases Q and conj(Q), and their mean is real.
  *batch, m, n = c.shape
  nb = len(batch)
  if m == 0 or n == 0:
    return c
  a = lax.select(_sylvester_quasi_mask(a), a, lax.full_like(a, 0))
  b = lax.select(_sylvester_quasi_mask(b), b, lax.full_like(b, 0))
  if rtol is None:
    rtol = max(m, n) * float(dtypes.finfo(c.dtype).eps)
  red = lambda x: lax.reduce_max(lax.abs(x), (nb, nb + 1))
  tol = rtol * (red(a) + red(b))
  tol = lax.broadcast_in_dim(tol, (*batch, m, n), tuple(range(nb)))
  pivots = lambda da, db: (
      lax.broadcast_in_dim(da, (*batch, m, n), (*range(nb), nb)) +
      lax.broadcast_in_dim(db, (*batch, m, n), (*range(nb), nb + 1)))
  singular = lax.abs(pivots(_real_schur_eigenvalues(a),
                            _real_schur_eigenvalues(b))) <= tol
  size_a, size_b = _sylvester_quasi_sizes(m, n)
  fits = (_sylvester_bump_layout(a, size_a)[2] &
          _sylvester_bump_layout(b, size_b)[2])
  all_ = lambda x: lax.reduce_and(x, tuple(range(x.ndim)))
  fast = all_(fits) & ~lax.reduce_or(singular, tuple(range(singular.ndim)))

  def real_solve(a, b, c):
    return _sylvester_quasi_triangular_solve(a, b, c, size_a, size_b)[0]

  def complex_solve(a, b, c):
    rot = lambda x, sn, dg, left, adj: _sylvester_rotate(
        x, sn, dg, left=left, adjoint=adj)
    t_a, sn_a, dg_a = _real_schur_complex_form(a)
    t_b, sn_b, dg_b = _real_schur_complex_form(b)
    f = rot(rot(lax.convert_element_type(c, t_a.dtype), sn_a, dg_a, True,
                False), sn_b, dg_b, False, True)
    d = pivots(_sylvester_diag(t_a, 0), _sylvester_diag(t_b, 0))
    drop = lax.abs(d) <= tol
    one = lax.full_like(d, 1)
    inv = lax.select(drop, lax.full_like(d, 0), one / lax.select(drop, one, d))
    # The rare path: leaf-sized blocks keep its compile time short (0.7
    # instead of 3 s), at about twice the run time of the fast path's blocks.
    y = _sylvester_triangular_solve(t_a, t_b, f, inv, _SYLVESTER_LEAF_SIZE)
    y = rot(rot(y, sn_a, dg_a, True, True), sn_b, dg_b, False, False)
    return lax.real(y)

  return control_flow.cond(fast, real_solve, complex_solve, a, b, c)

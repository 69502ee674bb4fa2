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

# This module mirrors jax/_src/config.py: the options the upstream patch adds
# there. Importing it registers them with JAX's config; `import jax_patch`
# does that once per process (JAX cannot register an option twice).

from __future__ import annotations

import numpy as np

from jax._src.config import enum_state, string_or_object_state

linalg_gauge_check = enum_state(
    name='jax_linalg_gauge_check',
    enum_values=['ignore', 'nan', 'raise'],
    default='ignore',
    help=('What reverse-mode differentiation of eigh and svd does when the '
          'gradient depends on the arbitrary basis of a degenerate (or, with '
          'jax_linalg_degeneracy_rtol, nearly degenerate) eigenspace or '
          'singular subspace, or on the phases of complex eigenvectors or '
          'singular vectors, so that it is ill-defined at that point: for '
          'eigenvectors and singular vectors, and for eigenvalues (singular '
          'values) weighted unequally within such a cluster or, for svd, '
          'with a nonzero weight at a zero singular value (the nuclear '
          'norm). "ignore" returns the gauge-fixed gradient; "nan" puts NaN '
          'into the cotangents of the affected eigenpairs, which spreads to '
          'the whole gradient of the affected batch elements, under jit '
          'and vmap too; "raise" raises jax_patch.GaugeDependenceError (a '
          'ValueError) where the backward pass runs on concrete values, '
          'i.e. jax.grad outside jit of lax.linalg.eigh or svd, and under a '
          'trace stages a jax.experimental.checkify.check: wrap the jitted '
          'function in checkify.checkify and call err.throw(), or it fails '
          'to lower with JAX\'s "without functionalizing it through '
          'checkify.checkify" error, whatever the loss. jnp.linalg.eigh, '
          'jnp.linalg.svd and jax.scipy.linalg.eigh are jitted, so even an '
          'eager jax.grad through them needs checkify. Forward mode (jvp, '
          'jacfwd) never sees the loss and is not checked.'),
    include_in_jit_key=True,
    include_in_trace_context=True)


def _validate_linalg_degeneracy_rtol(value):
  if value is None or value == 'sqrt_eps':
    return
  try:
    ok = not isinstance(value, bool) and 0 <= float(value) < 1
  except (TypeError, ValueError):
    ok = False
  if not ok:
    raise ValueError(
        'jax_linalg_degeneracy_rtol must be None, "sqrt_eps" or a number in '
        f'[0, 1), got {value!r}.')

linalg_degeneracy_rtol = string_or_object_state(
    name='jax_linalg_degeneracy_rtol',
    default=None,
    help=('Eigenvalues closer than this times their spread count as '
          'degenerate in the derivatives of eigh (and of the decompositions '
          'whose rules solve on sylvester_solve_p): within such a pair, the '
          'eigenvector derivative is that of the projector onto the pair\'s '
          'eigenspace, not of the individual vectors. None (the default) '
          'treats only eigenvalues equal to working precision as '
          'degenerate; "sqrt_eps" uses the square root of the machine '
          'epsilon of the input\'s dtype (a string holding a number, as '
          'from the environment variable, is read as that number). A band '
          'makes derivatives of losses '
          'that depend on whole degenerate clusters (projectors, density '
          'matrices) accurate at any splitting, and changes the derivatives '
          'of individual eigenvectors of the pairs inside it. It is read '
          'when the derivative rule runs: set it around the transformation '
          '(jax.grad, jax.jit of a derivative), not around the eigh call.'),
    validator=_validate_linalg_degeneracy_rtol,
    include_in_jit_key=True,
    include_in_trace_context=True)


def _validate_linalg_eig_broadening(value):
  # A Python or NumPy scalar (the option is part of the jit cache key, so it
  # must be hashable) or a string holding one (from the environment): 0
  # would be the stock rule's 1 / d with no treatment of ties at all.
  if value is None:
    return
  try:
    ok = (isinstance(value, (int, float, str, np.integer, np.floating))
          and not isinstance(value, bool)
          and 0 < float(value) < float('inf'))
  except (TypeError, ValueError):
    ok = False
  if not ok:
    raise ValueError(
        'jax_linalg_eig_broadening must be None (the exact rule) or a '
        f'finite number > 0, got {value!r}.')

linalg_eig_broadening = string_or_object_state(
    name='jax_linalg_eig_broadening',
    default=None,
    help=('If set, the eigenvector derivatives of eig (with '
          'enable_eigvec_derivs=True) replace each inverse eigenvalue gap '
          '1 / d, d = w_j - w_i, by the Lorentzian conj(d) / (|d|^2 + '
          'broadening), in the units of the square of the eigenvalues: a '
          'smooth, biased regularization (relative bias about broadening / '
          '|d|^2 on a pair with gap |d|) that some codes (e.g. RCWA) use '
          'at degenerate modes. None (the default) keeps the exact rule, '
          'with the pseudo-inverse at degenerate pairs. Read when the '
          'derivative rule runs; package-only.'),
    validator=_validate_linalg_eig_broadening,
    include_in_jit_key=True,
    include_in_trace_context=True)

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

"""Degenerate-aware eigh and SVD autodiff, a differentiable Sylvester solver.

Importing this package changes nothing in JAX. ``install()`` does::

  import jax_patch
  jax_patch.install()          # or: with jax_patch.patched(): ...

after which ``eigh`` and ``svd`` (``jnp.linalg``, ``jax.scipy.linalg``,
``jax.lax.linalg`` and what builds on them) use the degenerate-aware JVP
rules, ``jax.lax.linalg`` has ``sylvester_solve(_p)`` and the Hermitian
matrix functions, and ``jax.scipy.linalg.solve_sylvester`` is
differentiable.
"""

from __future__ import annotations

import contextlib
import threading

from jax_patch import monkeypatch as _monkeypatch
# Registers the jax_linalg_degeneracy_rtol and jax_linalg_gauge_check options
# with JAX's config, so that jax.config.update, the JAX_LINALG_* environment
# variables and these context managers work from here on. They take effect
# on derivatives once install() is in effect.
from jax_patch._src.config import (
    linalg_degeneracy_rtol as linalg_degeneracy_rtol,
    linalg_eig_broadening as linalg_eig_broadening,
    linalg_gauge_check as linalg_gauge_check,
)
# Raised by jax_linalg_gauge_check="raise" where the backward pass runs on
# concrete values; importing it changes nothing in JAX.
from jax_patch._src.lax.linalg import (
    GaugeDependenceError as GaugeDependenceError,
)

__version__ = "0.1.0"


def install(*, gauge_check: str | None = None,
            degeneracy_rtol: float | str | None = None) -> None:
  """Installs jax_patch's rules and functions into JAX.

  Idempotent; clears JAX's caches so that functions traced before pick up
  the new rules. Raises ``RuntimeError`` for an unsupported JAX version.

  By default the derivatives of ``eigh``, ``svd`` and ``eigh(a, b)`` treat
  only eigenvalues (singular values) that are equal to working precision as
  degenerate; everywhere else they are the stock rules' derivatives.

  Args:
    degeneracy_rtol: if given, sets the ``jax_linalg_degeneracy_rtol``
      option: eigenvalues closer than this times their spread (``max(w) -
      min(w)``; for the SVD ``2 max(s)``) also count as degenerate, a number
      in ``[0, 1)`` or ``"sqrt_eps"`` for the square root of the dtype's
      machine epsilon (a string holding such a number, as the environment
      variable gives, is read as that number). This makes derivatives of
      losses that depend on whole clusters of nearly equal eigenvalues
      (projectors, density matrices) accurate at any splitting, and changes
      the derivatives of individual eigenvectors inside the band to those
      of their cluster's projector.
      ``None`` (the default) leaves the option as it is (ties only unless
      set otherwise); to go back to ties only, use
      ``jax_patch.linalg_degeneracy_rtol(None)`` as a context manager or
      ``jax.config.update("jax_linalg_degeneracy_rtol", None)``. Also
      ``jax.config.update("jax_linalg_degeneracy_rtol", ...)``, the
      ``JAX_LINALG_DEGENERACY_RTOL`` environment variable, or scoped with
      ``jax_patch.linalg_degeneracy_rtol("sqrt_eps")``.
    gauge_check: if given, sets the ``jax_linalg_gauge_check`` option
      (registered by ``import jax_patch``): what reverse-mode ``eigh`` and
      ``svd`` do when the loss depends on the arbitrary basis of a
      degenerate eigenspace or singular subspace: ``"ignore"`` (default,
      the gauge-fixed gradient), ``"nan"`` (NaN in the affected entries, for
      ``svd`` in the affected batch elements) or ``"raise"`` (an error
      naming the eigenpairs or singular values: ``GaugeDependenceError``,
      a ``ValueError``, where the backward pass runs eagerly; under ``jit``,
      and through the jitted ``jnp.linalg`` functions, a ``checkify.check``
      that needs ``jax.experimental.checkify.checkify``; see the option's
      help). Like any JAX option it can
      also be set with ``jax.config.update("jax_linalg_gauge_check", ...)``,
      the
      ``JAX_LINALG_GAUGE_CHECK`` environment variable, or scoped with
      ``jax_patch.linalg_gauge_check("raise")`` as a context manager.
  """
  _monkeypatch.install(gauge_check=gauge_check,
                       degeneracy_rtol=degeneracy_rtol)


def uninstall() -> None:
  """Restores everything ``install()`` replaced. Idempotent.

  The ``jax_linalg_gauge_check`` and ``jax_linalg_degeneracy_rtol``
  options stay registered (JAX cannot unregister an option), without effect
  on stock JAX's rules.
  """
  _monkeypatch.uninstall()


def is_installed() -> bool:
  """Whether ``install()`` is in effect."""
  return _monkeypatch.is_installed()


_scopes_lock = threading.Lock()
_scopes = 0  # Active patched() scopes, in all threads.
_installed_before_scopes = False


@contextlib.contextmanager
def patched(*, gauge_check: str | None = None,
            degeneracy_rtol: float | str | None = None):
  """Context manager: installed inside, restored to the previous state after.

  Installing is process-wide, so scopes are reference-counted: jax_patch
  stays installed while any ``patched()`` scope is open, in any thread, and
  the state from before the first scope is restored when the last one
  closes. ``gauge_check`` and ``degeneracy_rtol`` (see ``install()``) are
  set for this thread only (JAX's thread-local config context), so
  concurrent scopes may use different settings.
  """
  global _scopes, _installed_before_scopes
  _monkeypatch.check_options(gauge_check, degeneracy_rtol)
  with _scopes_lock:
    if _scopes == 0:
      _installed_before_scopes = is_installed()
    install()
    _scopes += 1
  try:
    with contextlib.ExitStack() as stack:
      if gauge_check is not None:
        stack.enter_context(linalg_gauge_check(gauge_check))
      if degeneracy_rtol is not None:
        stack.enter_context(linalg_degeneracy_rtol(degeneracy_rtol))
      yield
  finally:
    with _scopes_lock:
      _scopes -= 1
      if _scopes == 0 and not _installed_before_scopes:
        uninstall()

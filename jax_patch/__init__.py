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

__version__ = "0.1.0"


def install(*, gauge_check: str | None = None) -> None:
  """Installs jax_patch's rules and functions into JAX.

  Idempotent; clears JAX's caches so that functions traced before pick up
  the new rules. Raises ``RuntimeError`` for an unsupported JAX version.

  Args:
    gauge_check: if given, sets the ``jax_linalg_gauge_check`` option that
      install() registers: what reverse-mode ``eigh`` and ``svd`` do when
      the loss depends on the arbitrary basis of a degenerate eigenspace or
      singular subspace: ``"ignore"`` (default, the gauge-fixed gradient),
      ``"nan"`` (NaN in the affected entries, for ``svd`` in the affected
      batch elements) or ``"raise"`` (an error naming the eigenpairs or
      singular values). Like any JAX option it can also be set with
      ``jax.config.update("jax_linalg_gauge_check", ...)``, the
      ``JAX_LINALG_GAUGE_CHECK`` environment variable, or scoped with
      ``jax._src.config.linalg_gauge_check("raise")`` as a context manager.
  """
  _monkeypatch.install(gauge_check=gauge_check)


def uninstall() -> None:
  """Restores everything ``install()`` replaced. Idempotent.

  The ``jax_linalg_gauge_check`` option stays registered (JAX cannot
  unregister an option), without effect on stock JAX's rules.
  """
  _monkeypatch.uninstall()


def is_installed() -> bool:
  """Whether ``install()`` is in effect."""
  return _monkeypatch.is_installed()


_scopes_lock = threading.Lock()
_scopes = 0  # Active patched() scopes, in all threads.
_installed_before_scopes = False


@contextlib.contextmanager
def patched(*, gauge_check: str | None = None):
  """Context manager: installed inside, restored to the previous state after.

  Installing is process-wide, so scopes are reference-counted: jax_patch
  stays installed while any ``patched()`` scope is open, in any thread, and
  the state from before the first scope is restored when the last one
  closes. ``gauge_check`` is set for this thread only (JAX's thread-local
  config context), so concurrent scopes may use different modes.
  """
  global _scopes, _installed_before_scopes
  if gauge_check is not None and gauge_check not in (
      _monkeypatch.GAUGE_CHECK_MODES):
    raise ValueError(f"gauge_check must be one of "
                     f"{_monkeypatch.GAUGE_CHECK_MODES} or None, got "
                     f"{gauge_check!r}.")
  with _scopes_lock:
    if _scopes == 0:
      _installed_before_scopes = is_installed()
    install()
    _scopes += 1
  try:
    if gauge_check is None:
      yield
    else:
      from jax._src import config  # pylint: disable=g-import-not-at-top
      with config.linalg_gauge_check(gauge_check):
        yield
  finally:
    with _scopes_lock:
      _scopes -= 1
      if _scopes == 0 and not _installed_before_scopes:
        uninstall()

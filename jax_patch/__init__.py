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
rules,
``jax.lax.linalg.sylvester_solve(_p)`` exist, and ``jax.scipy.linalg`` has
the new ``solve_sylvester`` and Hermitian matrix functions.
"""

from __future__ import annotations

import contextlib

import jax

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


@contextlib.contextmanager
def patched(*, gauge_check: str | None = None):
  """Context manager: installed inside, restored to the previous state after.

  The gauge-check option is restored too.
  """
  was_installed = is_installed()
  install()
  old_mode = jax.config.jax_linalg_gauge_check
  install(gauge_check=gauge_check)
  try:
    yield
  finally:
    jax.config.update("jax_linalg_gauge_check", old_mode)
    if not was_installed:
      uninstall()

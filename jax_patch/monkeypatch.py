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

"""What install() swaps into JAX, and how uninstall() restores it.

Every replaced attribute and registry entry is saved before it is replaced
and put back exactly; attributes JAX did not have are deleted again.
"""

from __future__ import annotations

import importlib
import threading

import jax

from jax_patch._src import compat

_MISSING = object()
_lock = threading.Lock()
_saved: list[tuple[object, str, object]] | None = None  # (target, name, old)


def _public_names(module) -> list[str]:
  """The names a re-export module exports (its ``name as name`` imports)."""
  return sorted(n for n, v in vars(module).items()
                if not n.startswith("_") and not isinstance(v, type(module)))


# The jax.scipy.linalg functions the patch replaces. jax_patch.scipy.linalg has
# more names, conveniences that SciPy does not have, which install() leaves
# out of jax.scipy.linalg.
SCIPY_REPLACED = ("eigh", "solve_sylvester")


def _targets():
  """(module, attribute, new value) for everything install() sets."""
  from jax_patch._src import config as ours_config
  from jax_patch._src.lax import linalg as ours_lax
  from jax_patch.lax import linalg as public_lax
  from jax_patch.scipy import linalg as public_scipy
  jax_src_lax = importlib.import_module("jax._src.lax.linalg")
  jax_lax = importlib.import_module("jax.lax.linalg")
  jax_src_scipy = importlib.import_module("jax._src.scipy.linalg")
  jax_scipy = importlib.import_module("jax.scipy.linalg")
  jax_config = importlib.import_module("jax._src.config")
  out = [(jax_config, name, getattr(ours_config, name))
         for name in ("linalg_degeneracy_rtol", "linalg_gauge_check",
                      "linalg_eig_broadening")]
  _, rules = compat.jvp_registry()
  out += [(jax_src_lax, name, getattr(ours_lax, name)) for name in rules]
  for mod in (jax_src_lax, jax_lax):
    for name in _public_names(public_lax):
      out.append((mod, name, getattr(public_lax, name)))
  for mod in (jax_src_scipy, jax_scipy):
    for name in SCIPY_REPLACED:
      out.append((mod, name, getattr(public_scipy, name)))
  return out


GAUGE_CHECK_MODES = ("ignore", "nan", "raise")


def install(gauge_check=None, degeneracy_rtol=None) -> None:
  global _saved
  check_options(gauge_check, degeneracy_rtol)
  from jax_patch._src.lax import linalg as ours_lax
  with _lock:
    if _saved is None:
      # Under the lock: another thread's install() or uninstall() is never
      # half done while the internals are checked.
      compat.check_supported()
      saved = []
      registry, rules = compat.jvp_registry()
      for name, prim in rules.items():
        saved.append((registry, prim, registry.get(prim, _MISSING)))
        registry[prim] = getattr(ours_lax, name)
      for mod, name, value in _targets():
        saved.append((mod, name, getattr(mod, name, _MISSING)))
        setattr(mod, name, value)
      _saved = saved
      compat.clear_caches()
    # jax.config options in the jit cache key: no cache clearing needed.
    if gauge_check is not None:
      jax.config.update("jax_linalg_gauge_check", gauge_check)
    if degeneracy_rtol is not None:
      jax.config.update("jax_linalg_degeneracy_rtol", degeneracy_rtol)


def check_options(gauge_check, degeneracy_rtol) -> None:
  """ValueError for an invalid install()/patched() option, before any change."""
  from jax_patch._src import config as ours_config
  if gauge_check is not None and gauge_check not in GAUGE_CHECK_MODES:
    raise ValueError(f"gauge_check must be one of {GAUGE_CHECK_MODES} or "
                     f"None, got {gauge_check!r}.")
  ours_config._validate_linalg_degeneracy_rtol(degeneracy_rtol)


def uninstall() -> None:
  global _saved
  with _lock:
    if _saved is None:
      return
    for target, key, old in reversed(_saved):
      if isinstance(target, dict):
        if old is _MISSING:
          target.pop(key, None)
        else:
          target[key] = old
      elif old is _MISSING:
        delattr(target, key)
      else:
        setattr(target, key, old)
    _saved = None
    compat.clear_caches()


def is_installed() -> bool:
  return _saved is not None

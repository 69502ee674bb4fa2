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


"""Helpers the demo's sections share: run a case under stock JAX and under
jax_patch, and print the two side by side."""

from __future__ import annotations

import numpy as np

import jax_patch


def stock_and_patched(fun):
  """Returns (fun() with stock JAX, fun() with jax_patch installed)."""
  was_installed = jax_patch.is_installed()
  jax_patch.uninstall()
  try:
    stock = capture(fun)
    with jax_patch.patched():
      patched = capture(fun)
  finally:
    if was_installed:
      jax_patch.install()
  return stock, patched


def capture(fun):
  try:
    return fun()
  except Exception as e:  # pylint: disable=broad-except
    first = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {first[:70]}"


def fmt(x) -> str:
  if isinstance(x, str):
    return x
  x = np.asarray(x)
  if x.size == 1:
    return f"{complex(x.item()).real:.10g}" if np.iscomplexobj(x) else (
        f"{float(x):.10g}")
  flat = np.round(np.real(x).ravel(), 4)
  s = np.array2string(flat[:6], separator=", ")
  nan = " (NaN)" if np.isnan(x).any() else ""
  return s + (" ..." if flat.size > 6 else "") + nan


def row(out, label, stock, patched, reference=None):
  out(f"  {label}")
  out(f"    stock JAX : {fmt(stock)}")
  out(f"    jax_patch : {fmt(patched)}")
  if reference is not None:
    out(f"    reference : {fmt(reference)}")


def central_difference(f, x, dx, h=1e-4):
  return (f(x + h * dx) - f(x - h * dx)) / (2 * h)

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


"""``python -m jax_patch demo``: stock JAX and jax_patch, side by side.

Every number printed is computed when the demo runs. Each section is a module
of this package with a ``TITLE`` and a ``run(out)``; the sections share only
the helpers in ``_common``.
"""

from __future__ import annotations

import jax

import jax_patch
from jax_patch.demo import eig
from jax_patch.demo import eigh
from jax_patch.demo import eigh_generalized
from jax_patch.demo import matfun
from jax_patch.demo import svd
from jax_patch.demo import sylvester

SECTIONS = (eigh, sylvester, svd, eig, matfun, eigh_generalized)


def main(out=print) -> None:
  jax.config.update("jax_enable_x64", True)
  out(f"jax {jax.__version__}, jax_patch {jax_patch.__version__}, "
      f"backend {jax.default_backend()}, float64 (stock JAX below is jax "
      f"{jax.__version__}, as measured now)")
  for section in SECTIONS:
    out("")
    out(section.TITLE)
    out("-" * 72)
    section.run(out)

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
# there. Importing it registers them with JAX's config, so only install()
# imports it (once per process: JAX cannot register an option twice).

from __future__ import annotations

from jax._src.config import enum_state

linalg_gauge_check = enum_state(
    name='jax_linalg_gauge_check',
    enum_values=['ignore', 'nan', 'raise'],
    default='ignore',
    help=('What reverse-mode differentiation of eigh and svd does when the '
          'loss depends, to first order, on the arbitrary basis of a '
          'degenerate eigenspace or singular subspace (or on the phases of '
          'complex eigenvectors or singular vectors), where its gradient is '
          'undefined: "ignore" returns the gauge-fixed gradient, "nan" puts '
          'NaN into the affected entries (for svd, batch elements), "raise" '
          'raises an error naming the eigenpairs or singular values.'),
    include_in_jit_key=True,
    include_in_trace_context=True)

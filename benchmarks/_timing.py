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

"""Interleaved best-of-N timing shared by the benchmark scripts."""

import time

import numpy as np


def interleaved_best(fns, args, repeats, number):
  """Best time per call (seconds) of each of ``fns`` on ``args``.

  The functions are timed in turn within each repeat, so that drift in the
  machine's load hits all of them alike.
  """
  best = {name: np.inf for name in fns}
  for _ in range(repeats):
    for name, fn in fns.items():
      fn(*args).block_until_ready()
      t0 = time.perf_counter()
      for _ in range(number):
        r = fn(*args)
      r.block_until_ready()
      best[name] = min(best[name], (time.perf_counter() - t0) / number)
  return best

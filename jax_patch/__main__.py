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

"""Command line: ``python -m jax_patch demo``."""

import argparse
import sys


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(prog="python -m jax_patch")
  sub = parser.add_subparsers(dest="command", required=True)
  sub.add_parser("demo", help="stock JAX vs jax_patch, side by side")
  args = parser.parse_args(argv)
  if args.command == "demo":
    from jax_patch import demo  # pylint: disable=g-import-not-at-top
    demo.main()
  return 0


if __name__ == "__main__":
  sys.exit(main())

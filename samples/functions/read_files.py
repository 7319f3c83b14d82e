#!/usr/bin/env python3
"""Sample function for `lockbox run --deliver file`: reads secrets from FLUXBASE_SECRETS_DIR.

Each secret is a file named after its variable without the prefix, raw bytes, no newline added.
The directory also holds lockbox's `.lock` file, which is not a secret.
"""
import os
import sys


def main() -> int:
    directory = os.environ.get("FLUXBASE_SECRETS_DIR")
    if not directory:
        print("read-files: run me with --deliver file", file=sys.stderr)
        return 1
    names = sorted(n for n in os.listdir(directory) if not n.startswith("."))
    print(f"read-files: {len(names)} secret file(s) in a tmpfs directory")
    for name in names:
        with open(os.path.join(directory, name), "rb") as f:
            print(f"  {name} ({len(f.read())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Sample function for `lockbox run --deliver file`: reads secrets from FLUXBASE_SECRETS_DIR
through the lockbox Python SDK, which reads the files there instead of variables.

Each secret is a file named after its variable without the prefix, raw bytes, no newline added.
The directory also holds lockbox's `.lock` file, which is not a secret (the SDK skips it).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sdk", "python"))
import lockbox_secrets as secrets  # noqa: E402


def main() -> int:
    if not os.environ.get("FLUXBASE_SECRETS_DIR"):
        print("read-files: run me with --deliver file", file=sys.stderr)
        return 1
    received = secrets.all()
    print(f"read-files: {len(received)} secret file(s) in a tmpfs directory")
    for name, value in received.items():
        print(f"  {name} ({len(value.encode('utf-8', 'surrogateescape'))} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Sample job: reads its payload from stdin and the database URL from its secret variable."""
import os
import sys


def main() -> int:
    payload = sys.stdin.read()
    url = os.environ.get("FLUXBASE_SECRET_DATABASE_URL")
    if not url:
        print("sync-data: FLUXBASE_SECRET_DATABASE_URL is missing", file=sys.stderr)
        return 1
    print(f"sync-data: got a {len(payload)}-byte payload and a database URL ({len(url)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

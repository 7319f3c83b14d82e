#!/usr/bin/env python3
"""Sample function: reads its FLUXBASE_SECRET_* variables and reports what it received.

It prints names and lengths only, never values: a function's logs are not a place for secrets.
"""
import os
import sys

PREFIX = "FLUXBASE_SECRET_"


def main() -> int:
    received = sorted(k for k in os.environ if k.startswith(PREFIX))
    print(f"send-email: received {len(received)} secret variable(s)")
    for name in received:
        print(f"  {name} ({len(os.environ[name])} bytes)")
    api_key = os.environ.get(PREFIX + "SENDGRID_API_KEY")
    if not api_key:
        print("send-email: FLUXBASE_SECRET_SENDGRID_API_KEY is missing", file=sys.stderr)
        return 1
    # A real function would call the SendGrid API here with api_key.
    sender = "the configured sender" if PREFIX + "SENDGRID_FROM" in os.environ else "a default sender"
    print(f"send-email: ready to send from {sender}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

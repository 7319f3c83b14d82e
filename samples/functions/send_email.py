#!/usr/bin/env python3
"""Sample function: reads its secrets through the lockbox Python SDK (sdk/python/lockbox_secrets)
and reports what it received.

It prints names and lengths only, never values: a function's logs are not a place for secrets.
"""
import os
import sys

# A deployed function would have lockbox_secrets on its path; the sample finds it in the repository.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sdk", "python"))
import lockbox_secrets as secrets  # noqa: E402


def main() -> int:
    received = secrets.all()
    print(f"send-email: received {len(received)} secret variable(s)")
    for name, value in received.items():
        print(f"  FLUXBASE_SECRET_{name} ({len(value)} bytes)")
    try:
        api_key = secrets.get_required("SENDGRID_API_KEY")
    except secrets.MissingSecretError as e:
        print(f"send-email: {e}", file=sys.stderr)
        return 1
    # A real function would call the SendGrid API here with api_key.
    del api_key
    sender = "the configured sender" if secrets.get("SENDGRID_FROM") else "a default sender"
    print(f"send-email: ready to send from {sender}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

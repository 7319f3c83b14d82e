"""Run by sdk_test.sh under `lockbox run`: checks sdk/python/lockbox_secrets against the secrets
the test stored. Usage: python3 probe.py MODE(env|file) SDK_DIR. Prints "ok" or the failed checks
(never a value) and exits 1."""
import os
import sys

mode, sdk_dir = sys.argv[1], sys.argv[2]
sys.path.insert(0, sdk_dir)
import lockbox_secrets as secrets  # noqa: E402

URL = "postgres://u:p@db.invalid/app"
failures = []


def check(what, ok):
    if not ok:
        failures.append(what)


if mode == "file":
    check("the mode is as delivered", os.environ.get("FLUXBASE_SECRETS_DIR")
          and "FLUXBASE_SECRET_DB_URL" not in os.environ)
else:
    check("the mode is as delivered", not os.environ.get("FLUXBASE_SECRETS_DIR")
          and "FLUXBASE_SECRET_DB_URL" in os.environ)
check("get returns the value", secrets.get("DB_URL") == URL)
check("get keeps a trailing newline", secrets.get("API_KEY") == "k-123\n")
check("get of a missing secret is None", secrets.get("NOT_THERE") is None)
check("get of a missing secret is the fallback", secrets.get("NOT_THERE", "fb") == "fb")
check("get finds the posix form", secrets.get("db-url") == URL)
message = ""
try:
    secrets.get_required("NOT_THERE")
except secrets.MissingSecretError as e:
    message = str(e)
check("get_required raises naming the secret", "NOT_THERE" in message)
check("get_required's error has no value", "postgres" not in message and "k-123" not in message)
check("get_required returns the value", secrets.get_required("API_KEY") == "k-123\n")
try:
    secrets.get("../etc/passwd")
    check("a path is not a secret name", False)
except ValueError:
    pass
everything = secrets.all()
check("all has exactly the injected secrets", sorted(everything) == ["API_KEY", "DB_URL"])
check("all has the values", everything.get("DB_URL") == URL and everything.get("API_KEY") == "k-123\n")
if failures:
    print("python sdk (%s): FAILED: %s" % (mode, "; ".join(failures)))
    sys.exit(1)
print("python sdk (%s): ok" % mode)

"""lockbox function SDK for Python (standard library only).

    import lockbox_secrets as secrets
    url = secrets.get_required("DATABASE_URL")   # raises MissingSecretError naming the secret
    sender = secrets.get("SENDGRID_FROM", "noreply@example.invalid")
    every = secrets.all()                         # {NAME: value, ...}

It reads what `lockbox run` injected: the variable FLUXBASE_SECRET_<NAME> (`--deliver env`, the
default) or, when FLUXBASE_SECRETS_DIR is set (`--deliver file`), the file
$FLUXBASE_SECRETS_DIR/<NAME> (raw bytes, no newline added: nothing is trimmed). NAME is the final
variable name without the prefix; a name not found as given is tried once more in its
`name_transform: posix` form (upper case, "-" as "_"). File values are decoded as UTF-8 with
surrogateescape, as os.environ decodes variables. No error message ever contains a value.
"""

import os
import re

__all__ = ["get", "get_required", "all", "MissingSecretError", "Secrets"]

DEFAULT_PREFIX = "FLUXBASE_SECRET_"
# The names lockbox can deliver as files (no "/", ".", ".."), see launcher/file_delivery.hpp.
_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}\Z")


class MissingSecretError(LookupError):
    """A required secret was not injected. The message names the secret, never a value."""


def _check_name(name):
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError("lockbox: not a secret name: %r" % (str(name)[:80],))


class Secrets:
    """A reader; the module functions use Secrets() (prefix FLUXBASE_SECRET_, os.environ)."""

    def __init__(self, prefix=DEFAULT_PREFIX, environ=None):
        self.prefix = prefix
        self._environ = environ

    def _env(self):
        return os.environ if self._environ is None else self._environ

    def _dir(self):
        return self._env().get("FLUXBASE_SECRETS_DIR") or None

    def _lookup(self, name):
        directory = self._dir()
        if directory is not None:
            try:
                with open(os.path.join(directory, name), "rb") as f:
                    return f.read().decode("utf-8", "surrogateescape")
            except (FileNotFoundError, NotADirectoryError):
                return None
            except OSError as e:
                raise OSError("lockbox: cannot read secret %s from FLUXBASE_SECRETS_DIR (%s)"
                              % (name, e.strerror)) from None
        return self._env().get(self.prefix + name)

    def _find(self, name):
        _check_name(name)
        value = self._lookup(name)
        if value is None:
            posix = name.upper().replace("-", "_")
            if posix != name:
                value = self._lookup(posix)
        return value

    def get(self, name, fallback=None):
        """The secret `name`, or `fallback` when it was not injected."""
        value = self._find(name)
        return fallback if value is None else value

    def get_required(self, name):
        """The secret `name`; raises MissingSecretError naming it when it was not injected."""
        value = self._find(name)
        if value is None:
            where = ("in FLUXBASE_SECRETS_DIR" if self._dir() is not None
                     else "as " + self.prefix + name)
            raise MissingSecretError("lockbox: required secret %s was not injected (%s)"
                                     % (name, where))
        return value

    def all(self):
        """Every injected secret, as {NAME: value} (names without the prefix)."""
        directory = self._dir()
        if directory is not None:
            out = {}
            for name in sorted(os.listdir(directory)):
                if _NAME.match(name):  # skips lockbox's .lock file
                    with open(os.path.join(directory, name), "rb") as f:
                        out[name] = f.read().decode("utf-8", "surrogateescape")
            return out
        env = self._env()
        return {k[len(self.prefix):]: env[k] for k in sorted(env)
                if k.startswith(self.prefix) and len(k) > len(self.prefix)}


_default = Secrets()


def get(name, fallback=None):
    """The secret `name`, or `fallback` when it was not injected."""
    return _default.get(name, fallback)


def get_required(name):
    """The secret `name`; raises MissingSecretError naming it when it was not injected."""
    return _default.get_required(name)


def all():  # noqa: A001 - the name the SDK contract gives it
    """Every injected secret, as {NAME: value}."""
    return _default.all()

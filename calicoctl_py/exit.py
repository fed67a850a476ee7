"""Turning library errors into what calicoctl users see: one line on stderr and an exit
code, never a traceback. Every command body runs inside `handled()`."""
from __future__ import annotations

import contextlib
import sys

import click


class CommandError(Exception):
    """A failure already phrased for the user."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = 1):
    raise CommandError(message, code)


@contextlib.contextmanager
def handled():
    from libcalico_py.errors import CalicoError
    try:
        yield
    except CommandError as e:
        _die(str(e), e.code)
    except CalicoError as e:
        _die(_calico_message(e))
    except KeyboardInterrupt:
        _die("interrupted", 130)
    except Exception as e:
        # A ManifestError can only come from a command that loaded calicoctl_py.manifests;
        # looking it up here keeps `get`/`version` from importing the manifest reader.
        manifests = sys.modules.get("calicoctl_py.manifests")
        if manifests is not None and isinstance(e, manifests.ManifestError):
            _die(f"Failed to execute command: {e}")
        raise


def _calico_message(e) -> str:
    from libcalico_py.errors import DatastoreUnavailable
    if isinstance(e, DatastoreUnavailable):
        return f"Failed to connect to the datastore: {e}"
    return str(e)


def _die(message: str, code: int = 1):
    click.echo(message, err=True)
    sys.exit(code)

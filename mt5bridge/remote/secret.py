"""The per-server secret: made fresh by each server, kept in a file only its owner can read.

Whoever can read the file can drive the terminal, so the file is the whole access control
(the address is no secret: a TCP port is open to every local user).  Hence:

- the secret is ``secrets.token_bytes(SECRET_BYTES)``, new for every server, never a
  constant in the source and never logged (only the file's path is printed);
- the file is created with ``os.open(..., O_EXCL, 0o600)``: it never exists with wider
  permissions, and a file or link already at that path is refused, never followed or
  replaced;
- a client refuses a secret file that others may read or write, or that another user owns
  (POSIX): such a file may have been planted to lure the client to a fake server.

The file holds the secret as one line of hex digits.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import sys
from pathlib import Path

from engine.errors import UserError

#: Bytes of randomness in a secret (256 bits).
SECRET_BYTES = 32
#: A secret shorter than this is refused (also when given as bytes, not a file).
MIN_SECRET_BYTES = 16
#: More than this in a secret file is not a secret file.
_MAX_FILE_BYTES = 1024
_POSIX = sys.platform != "win32"


def new_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def check_secret(secret: bytes) -> bytes:
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"a terminal secret must be at least {MIN_SECRET_BYTES} bytes")
    return secret


def write_secret_file(path: Path, secret: bytes) -> None:
    """Create ``path`` holding ``secret``, mode 0600 from its creation; never replace a file.

    An existing file is refused, not overwritten: it may be a running server's secret (its
    clients would be locked out) or any file of the user's, named by a slip of the keyboard.
    """
    path = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise UserError(f"secret file {path} already exists (a running server's, or left by a "
                        "killed one): remove it or choose another --secret-file") from None
    except OSError as exc:
        raise UserError(f"cannot write the secret file {path}: {exc.strerror or exc}") from None
    try:
        if _POSIX:
            os.fchmod(fd, 0o600)  # exactly 0600, whatever the umask took away
        os.write(fd, secret.hex().encode("ascii") + b"\n")
        os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise UserError(f"cannot write the secret file {path}: {exc.strerror or exc}") from None
    os.close(fd)


def read_secret_file(path: Path) -> bytes:
    """The secret in ``path``; ``UserError`` naming the file when it cannot be trusted or read."""
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UserError(f"secret file {path}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        _check_file(path, info)
        data = os.read(fd, _MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)
    text = data.decode("ascii", errors="replace").strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(data) > _MAX_FILE_BYTES or len(secret) < MIN_SECRET_BYTES:
        raise UserError(f"secret file {path}: not a terminal secret (one line of at least "
                        f"{2 * MIN_SECRET_BYTES} hex digits)")
    return secret


def _check_file(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"secret file {path}: not a regular file")
    if not _POSIX:
        return
    if info.st_uid != os.getuid():
        raise UserError(f"secret file {path}: owned by another user (uid {info.st_uid})")
    if info.st_mode & 0o077:
        raise UserError(f"secret file {path}: others may read or change it "
                        f"(mode {stat.S_IMODE(info.st_mode):04o}); it must be 0600")

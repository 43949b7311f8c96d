"""The link under the messages: length-prefixed frames and the secret-based handshake.

A frame is a 4-byte big-endian length and that many bytes.  The reader says how much it
accepts: a header announcing more is refused before a byte of the body is read
(``FrameTooLarge``), so nobody makes the other side allocate what they announce.

The handshake proves to each side that the other holds the server's secret, without
sending it (HMAC-SHA256 over fresh random challenges, one label per direction so an answer
cannot be reflected back), in three frames of at most ``HANDSHAKE_FRAME_BYTES``:

1. server -> client: ``GREETING + server challenge`` (or ``BUSY`` at the connection cap)
2. client -> server: ``HMAC(secret, "client" + server challenge) + client challenge``
3. server -> client: ``WELCOME + HMAC(secret, "server" + client challenge)``, or
   ``REFUSED`` and the server closes.

Only after step 3 does the server read a request, and only once the client has checked the
server's answer does it send one.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import socket
import ssl
import struct
import time
from dataclasses import dataclass

_HEADER = struct.Struct("!I")
#: The first read of a frame: most replies fit, so most frames cost one ``recv``.
_FIRST_READ = 64 * 1024
#: Frames of the handshake are tiny; anything bigger is not a client of ours.
HANDSHAKE_FRAME_BYTES = 256
_CHALLENGE_BYTES = 32
_DIGEST_BYTES = hashlib.sha256().digest_size
GREETING = b"fxcluster-terminal/2 challenge "
BUSY = b"fxcluster-terminal/2 busy"
WELCOME = b"fxcluster-terminal/2 welcome "
REFUSED = b"fxcluster-terminal/2 refused"


class LinkClosed(ConnectionError):
    """The peer closed the connection (or it broke) before a whole frame arrived."""


class FrameTooLarge(ConnectionError):
    """A frame header announced more than the reader accepts; nothing of it was read."""


class HandshakeRefused(ConnectionError):
    """The other side does not hold the secret, is at its connection cap, or is no server
    of ours; the message says which."""


@dataclass(frozen=True)
class LinkLimits:
    """What a terminal server accepts from the connections it serves.

    - ``handshake_timeout_s`` (5.0; 0 < x <= 300): a connection that has not completed the
      handshake (TLS included) this long after it was accepted is dropped.
    - ``max_connections`` (16; 1..1024): connections that proved the secret served at
      once; one more is told ``BUSY`` and closed, and costs no thread.
    - ``max_handshakes`` (64; 1..4096): connections still in the handshake at once; one
      more closes the oldest of them, so that connections which hold no secret and send
      nothing (any local process can open them) cannot keep out a client that has it: a
      handshake takes a few milliseconds, and the slots turn over under it.
    - ``max_request_bytes`` (4 MiB; 1 KiB..1 GiB): the largest request frame; a header
      announcing more drops the connection before its body is read.  Requests are calls
      with their arguments: an order is a few hundred bytes.
    """

    handshake_timeout_s: float = 5.0
    max_connections: int = 16
    max_handshakes: int = 64
    max_request_bytes: int = 4 * 1024 * 1024

    def __post_init__(self) -> None:
        if not 0 < self.handshake_timeout_s <= 300:
            raise ValueError(f"handshake_timeout_s={self.handshake_timeout_s} is not within "
                             "(0, 300] seconds")
        if not 1 <= self.max_connections <= 1024:
            raise ValueError(f"max_connections={self.max_connections} is not within 1..1024")
        if not 1 <= self.max_handshakes <= 4096:
            raise ValueError(f"max_handshakes={self.max_handshakes} is not within 1..4096")
        if not 1024 <= self.max_request_bytes <= 1 << 30:
            raise ValueError(f"max_request_bytes={self.max_request_bytes} is not within "
                             "1 KiB..1 GiB")


#: The largest reply a client reads by default: ``copy_ticks_*`` can return the terminal's
#: whole tick window (3,000,000 rows of 60 bytes by default, 240 MB as base64).
DEFAULT_MAX_REPLY_BYTES = 512 * 1024 * 1024


# -- frames --------------------------------------------------------------------------------------


def send_frame(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def recv_frame(sock: socket.socket, max_bytes: int, deadline: float | None = None) -> bytes:
    """One frame's body; ``FrameTooLarge`` (body unread) if it announces over ``max_bytes``.

    The peer speaks only when spoken to, so whatever arrives is one frame: a small one in a
    single ``recv``.  Bytes beyond it mean a peer that does not follow the protocol.
    """
    if deadline is not None:
        _set_remaining(sock, deadline)
    first = sock.recv(min(_HEADER.size + max_bytes, _FIRST_READ))
    if not first:
        raise LinkClosed("the connection was closed")
    if len(first) < _HEADER.size:
        first += _recv_exact(sock, _HEADER.size - len(first), deadline)
    (size,) = _HEADER.unpack_from(first)
    if size > max_bytes:
        raise FrameTooLarge(f"a frame of {size:,} bytes announced (at most {max_bytes:,} "
                            "accepted)")
    body = first[_HEADER.size:]
    if len(body) > size:
        raise LinkClosed("the peer sent more than one message at once")
    if len(body) < size:
        body += _recv_exact(sock, size - len(body), deadline)
    return body


def _set_remaining(sock: socket.socket, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("the handshake took too long")
    sock.settimeout(remaining)


def _recv_exact(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        if deadline is not None:
            _set_remaining(sock, deadline)
        n = sock.recv_into(view[got:], size - got)
        if n == 0:
            raise LinkClosed("the connection was closed")
        got += n
    return bytes(buffer)


# -- the handshake -------------------------------------------------------------------------------


def _proof(secret: bytes, label: bytes, challenge: bytes) -> bytes:
    return hmac.new(secret, label + challenge, hashlib.sha256).digest()


def server_handshake(sock: socket.socket, secret: bytes, deadline: float) -> None:
    """Challenge a new connection; ``HandshakeRefused`` (after telling it) if it fails."""
    challenge = secrets.token_bytes(_CHALLENGE_BYTES)
    sock.settimeout(max(deadline - time.monotonic(), 0.001))
    send_frame(sock, GREETING + challenge)
    answer = recv_frame(sock, HANDSHAKE_FRAME_BYTES, deadline)
    proof, client_challenge = answer[:_DIGEST_BYTES], answer[_DIGEST_BYTES:]
    if len(client_challenge) != _CHALLENGE_BYTES or \
            not hmac.compare_digest(proof, _proof(secret, b"client", challenge)):
        with contextlib.suppress(OSError):
            send_frame(sock, REFUSED)
        raise HandshakeRefused("the client does not hold the secret")
    send_frame(sock, WELCOME + _proof(secret, b"server", client_challenge))


def client_handshake(sock: socket.socket, secret: bytes, deadline: float) -> None:
    """Answer the server's challenge and check its answer to ours."""
    greeting = recv_frame(sock, HANDSHAKE_FRAME_BYTES, deadline)
    if greeting == BUSY:
        raise HandshakeRefused("it is serving as many connections as it accepts; try again "
                               "when one has closed")
    if not greeting.startswith(GREETING) or len(greeting) != len(GREETING) + _CHALLENGE_BYTES:
        raise HandshakeRefused("it does not speak this protocol (an older version, or no "
                               "terminal server)")
    challenge = secrets.token_bytes(_CHALLENGE_BYTES)
    send_frame(sock, _proof(secret, b"client", greeting[len(GREETING):]) + challenge)
    answer = recv_frame(sock, HANDSHAKE_FRAME_BYTES, deadline)
    if answer == REFUSED:
        raise HandshakeRefused("it refused the secret (is the secret file the one this server "
                               "wrote?)")
    if not answer.startswith(WELCOME) or not hmac.compare_digest(
            answer[len(WELCOME):], _proof(secret, b"server", challenge)):
        raise HandshakeRefused("it does not hold the secret: it is not the server that wrote "
                               "the secret file")


# -- TLS -----------------------------------------------------------------------------------------


def server_tls_context(cert: str, key: str) -> ssl.SSLContext:
    """TLS for a server reachable from other machines (``--tls-cert``/``--tls-key``)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def client_tls_context(ca: str) -> ssl.SSLContext:
    """TLS for a client: the server's certificate must chain to ``ca`` and name its host."""
    context = ssl.create_default_context(cafile=ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def shutdown(sock: socket.socket) -> None:
    """Wake a thread blocked reading ``sock`` (closing the descriptor would not)."""
    with contextlib.suppress(OSError, ValueError):
        # The plain socket's shutdown, also for a TLS socket: this thread must not touch the
        # TLS state another thread is reading with.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)

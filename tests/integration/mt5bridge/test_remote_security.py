"""Who gets into a terminal server, and what it takes from them: real sockets, real files.

The issue's attack first: a local process that knows the old fixed key (or even the secret)
sends a pickle whose ``__reduce__`` runs a shell command; the command must never run, on
the server or on a client, and the connection must be dropped.  Then the secret file, the
loopback-only default and ``--allow-remote`` with TLS, and the limits: handshake timeout,
connection cap, frame size cap.  Servers run in a thread of the test process (so their
threads can be counted) unless the test is about the command line.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import shutil
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from multiprocessing.connection import Client
from pathlib import Path

import pytest
from helpers.paths import REPO_ROOT

import main as cli
from engine.errors import UserError
from mt5bridge import constants as c
from mt5bridge.remote import (
    LinkLimits,
    RemoteLinkError,
    RemoteTerminal,
    TerminalServer,
    is_loopback,
    launch,
    server_tls_context,
)
from mt5bridge.remote import main as remote_main
from mt5bridge.remote.address import address_option
from mt5bridge.remote.link import (
    BUSY,
    GREETING,
    HANDSHAKE_FRAME_BYTES,
    WELCOME,
    client_handshake,
    recv_frame,
    send_frame,
    server_handshake,
)
from mt5bridge.remote.wire import HELLO, request
from mt5bridge.sim import SimConfig, SimTerminal
from mt5bridge.sim.feeds import walk_feed

SYMBOLS = ("EURUSD", "USDJPY")
START = int(datetime(2019, 1, 15, 10, tzinfo=UTC).timestamp() * 1000)
HOUR = 3_600_000
#: The key every server used before this wire: public, in the source.
OLD_PUBLIC_KEY = b"fxcluster-simulated-terminal"
WAIT_S = 30.0


def make_terminal() -> SimTerminal:
    return SimTerminal(walk_feed(SYMBOLS, START, START + HOUR, seed=7), SimConfig())


def connect(srv: TerminalServer, **options: object) -> RemoteTerminal:
    return RemoteTerminal(srv.address, secret_file=srv.secret_file, **options)


def works(remote: RemoteTerminal) -> bool:
    """Whether a client gets real answers through the server."""
    return bool(remote.initialize()) and remote.account_info() is not None


@pytest.fixture
def server() -> Iterator[TerminalServer]:
    with TerminalServer(make_terminal()) as srv:
        yield srv


def raw_socket(address: object) -> socket.socket:
    """A plain connection to a server, as an attacker's own code would open it."""
    if isinstance(address, tuple):
        sock = socket.create_connection(address, timeout=WAIT_S)
    else:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(address)  # blocking: waits for room in the backlog instead of EAGAIN
        sock.settimeout(WAIT_S)
    return sock


def secret_of(srv: TerminalServer) -> bytes:
    return bytes.fromhex(srv.secret_file.read_text().strip())


def authenticated_socket(srv: TerminalServer) -> socket.socket:
    """A connection that passed the handshake (the worst case: the attacker has the secret)."""
    sock = raw_socket(srv.address)
    client_handshake(sock, secret_of(srv), time.monotonic() + WAIT_S)
    return sock


def closed_by_peer(sock: socket.socket, within_s: float = WAIT_S) -> bool:
    """Whether the other side closes ``sock`` within ``within_s`` (whatever it sent first)."""
    sock.settimeout(within_s)
    deadline = time.monotonic() + within_s
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False
    return False


class Exploit:
    """The issue's payload: unpickling it runs ``touch MARKER`` as whoever unpickles it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def frame(payload: bytes) -> bytes:
    return struct.pack("!I", len(payload)) + payload


# -- the pickle payload ----------------------------------------------------------------------


def send_before_the_handshake(srv: TerminalServer, payload: bytes) -> socket.socket:
    sock = raw_socket(srv.address)
    sock.sendall(frame(payload))
    return sock


def send_after_the_handshake(srv: TerminalServer, payload: bytes) -> socket.socket:
    sock = authenticated_socket(srv)
    sock.sendall(frame(payload))
    return sock


def send_as_a_batch_argument(srv: TerminalServer, payload: bytes) -> socket.socket:
    sock = authenticated_socket(srv)
    sock.sendall(frame(b'["batch","",{"pickle":"' + payload.hex().encode() + b'"},{}]'))
    return sock


@pytest.mark.parametrize("deliver", [send_before_the_handshake, send_after_the_handshake,
                                     send_as_a_batch_argument],
                         ids=["before the handshake", "after the handshake (secret known)",
                              "inside a JSON request"])
def test_the_pickle_payload_runs_nothing_and_the_connection_is_dropped(server, tmp_path,
                                                                     deliver):
    # Arrange
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Exploit(marker))

    # Act
    sock = deliver(server, payload)

    # Assert
    with sock:
        assert closed_by_peer(sock)
    assert not marker.exists()
    with connect(server) as friend:
        assert works(friend)


def test_the_old_attack_with_the_public_key_is_refused(server, tmp_path):
    # Arrange: what the issue did, with the old client and the key from the old source.
    marker = tmp_path / "pwned"

    # Act
    # AuthenticationError is an OSError; the old client asserts on a challenge it cannot read.
    with pytest.raises((OSError, EOFError, AssertionError)) as refused, \
            Client(server.address, authkey=OLD_PUBLIC_KEY) as conn:
        conn.send_bytes(pickle.dumps(Exploit(marker)))
        conn.recv_bytes()

    # Assert
    assert refused.value is not None
    assert not marker.exists()


def test_a_client_never_unpickles_what_a_server_sends(tmp_path):
    # Arrange: a fake server that holds the client's secret and answers with the payload.
    marker = tmp_path / "pwned"
    secret = os.urandom(32)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    address = listener.getsockname()

    def fake_server() -> None:
        sock, _ = listener.accept()
        with sock:
            server_handshake(sock, secret, time.monotonic() + WAIT_S)
            recv_frame(sock, 1 << 20)
            send_frame(sock, pickle.dumps(Exploit(marker)))
            with contextlib.suppress(OSError):
                sock.recv(1)

    thread = threading.Thread(target=fake_server, daemon=True)
    thread.start()
    remote = RemoteTerminal(address, secret=secret)

    # Act
    initialized = remote.initialize()

    # Assert
    thread.join(WAIT_S)
    listener.close()
    assert initialized is False
    assert "unreadable reply" in remote.last_error()[1]
    assert not remote.connected
    assert not marker.exists()


# -- the secret ------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_the_secret_file_is_the_owners_only_and_new_for_every_server(server):
    # Arrange
    info = os.stat(server.secret_file)

    # Act
    with TerminalServer(make_terminal()) as other:
        other_secret = secret_of(other)

    # Assert
    assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == os.getuid()
    assert stat.S_IMODE(os.stat(server.secret_file.parent).st_mode) == 0o700
    assert len(secret_of(server)) == 32
    assert other_secret != secret_of(server)
    assert not other.secret_file.exists()  # removed when its server stopped


def test_a_wrong_secret_is_refused_and_the_server_goes_on(server):
    stranger = RemoteTerminal(server.address, secret=b"sixteen bytes or more, but not it")

    assert stranger.initialize() is False
    assert "refused the secret" in stranger.last_error()[1]
    with connect(server) as friend:
        assert works(friend)


def test_the_live_adapter_says_the_bridges_reason_not_the_terminals_install_advice(server):
    # Arrange: the live adapter over a client holding another secret
    from mt5bridge.live import LiveConfig, LiveTerminal, TerminalConnectionError

    stranger = RemoteTerminal(server.address, secret=b"sixteen bytes or more, but not it")
    live = LiveTerminal(stranger, LiveConfig(symbols=("EURUSD",)))

    # Act / Assert: the server's words, without advice about installing MetaTrader 5
    with pytest.raises(TerminalConnectionError) as refused:
        live.connect()
    assert "refused the secret" in str(refused.value)
    assert "64-bit" not in str(refused.value)


def test_a_server_that_does_not_answer_the_handshake_is_said_so(tmp_path):
    # Arrange: a listener that accepts and never speaks (a frozen server)
    listener = socket.create_server(("127.0.0.1", 0))
    remote = RemoteTerminal(listener.getsockname(), secret=b"sixteen bytes or more, any")

    # Act
    started = remote.initialize()

    # Assert: not "closed the connection", which it did not
    listener.close()
    assert started is False
    assert "did not answer the handshake within" in remote.last_error()[1]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
@pytest.mark.parametrize(("mode", "reason"), [(0o644, "others may read or change it"),
                                              (0o620, "others may read or change it")])
def test_a_client_refuses_a_secret_file_others_can_touch(server, tmp_path, mode, reason):
    # Arrange
    copy = tmp_path / "secret"
    shutil.copyfile(server.secret_file, copy)
    copy.chmod(mode)
    remote = RemoteTerminal(server.address, secret_file=copy)

    # Act
    initialized = remote.initialize()

    # Assert
    assert initialized is False
    assert reason in remote.last_error()[1] and str(copy) in remote.last_error()[1]


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links")
def test_a_client_refuses_a_secret_file_that_is_a_link(server, tmp_path):
    link = tmp_path / "secret"
    link.symlink_to(server.secret_file)
    remote = RemoteTerminal(server.address, secret_file=link)

    assert remote.initialize() is False
    assert f"secret file {link}" in remote.last_error()[1]


def test_a_server_never_overwrites_an_existing_secret_file(tmp_path):
    # Arrange
    existing = tmp_path / "notes.txt"
    existing.write_text("the user's own file\n")

    # Act
    with pytest.raises(UserError, match="already exists"):
        TerminalServer(make_terminal(), secret_file=existing).start()

    # Assert
    assert existing.read_text() == "the user's own file\n"


@pytest.mark.parametrize(("options", "message"), [
    ({}, "needs the server's secret"),
    ({"secret_file": "s", "secret": b"0123456789abcdef"}, "not both"),
    ({"secret_file": "s", "tls_ca": "/nonexistent/ca.pem"}, "--tls-ca /nonexistent/ca.pem: "),
], ids=["no secret", "two secrets", "no CA file"])
def test_a_client_that_could_never_connect_is_refused_at_once(options, message):
    with pytest.raises(UserError, match=message):
        RemoteTerminal(("127.0.0.1", 5555), **options)


# -- addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "loopback"), [
    (("127.0.0.1", 5555), True),
    (("127.8.9.10", 5555), True),
    (("::1", 5555), True),
    (("localhost", 5555), True),
    ("/tmp/fx/terminal.sock", True),
    (("0.0.0.0", 5555), False),
    (("::", 5555), False),
    (("", 5555), False),
    (("10.0.0.1", 5555), False),
    (("192.168.1.20", 5555), False),
    (("no-such-host.invalid", 5555), False),
])
def test_what_counts_as_this_machine(address, loopback):
    assert is_loopback(address) is loopback


@pytest.mark.parametrize(("address", "options", "message"), [
    (("0.0.0.0", 0), {}, "reachable from other machines"),
    (("10.0.0.1", 5555), {}, "reachable from other machines"),
    (("0.0.0.0", 0), {"allow_remote": True}, "--allow-remote needs TLS"),
    ("\\\\.\\pipe\\terminal", {}, "named pipes are not served"),
], ids=["any interface", "a LAN address", "remote without TLS", "a named pipe"])
def test_a_server_refuses_addresses_beyond_this_machine(address, options, message):
    with pytest.raises(UserError, match=message):
        TerminalServer(make_terminal(), address, **options)


def test_a_client_refuses_a_remote_address_without_tls(tmp_path):
    with pytest.raises(UserError, match="reached over TLS only"):
        RemoteTerminal(("10.0.0.1", 5555), secret_file=tmp_path / "secret")


@pytest.mark.parametrize("argv", [
    ["--address", "0.0.0.0:5555"],
    ["--address", "0.0.0.0:5555", "--allow-remote"],
    ["--address", "127.0.0.1:0", "--tls-cert", "cert.pem"],
    ["--tls-cert", "cert.pem", "--tls-key", "key.pem"],
    ["--address", "0.0.0.0:0", "--allow-remote", "--tls-cert", "nope.pem", "--tls-key",
     "nope.pem"],
], ids=["0.0.0.0 without --allow-remote", "--allow-remote without TLS", "cert without key",
        "TLS on a Unix socket", "unreadable certificate"])
def test_the_command_line_refuses_unsafe_addresses_in_one_line(capsys, argv):
    for run in (lambda: remote_main(["--serve", "--warmup-days", "1", *argv]),
                lambda: cli.main(["terminal-server", "--warmup-days", "1", *argv])):
        # Act
        code = run()

        # Assert
        err = capsys.readouterr().err
        assert code == 2
        assert err.startswith("error: ") and err.count("\n") == 1, err


@pytest.mark.parametrize(("address", "says"), [
    ("localhost:80x", "error: --address localhost:80x: port 80x is not a number from 0 to "
     "65535; give HOST:PORT (e.g. 127.0.0.1:18813) or a socket path with a '/' "
     "(e.g. ./localhost:80x)\n"),
    ("localhost:99999", "error: --address localhost:99999: port 99999 is not a number from 0 "
     "to 65535;"),
    ("[::1]:", "error: --address [::1]:: no port after the ':';"),
    ("::1:5555", "error: --address ::1:5555: '::1' is not a host name or an IP address "
     "(IPv6 in brackets: [::1]:PORT);"),
], ids=["a port with a letter", "a port past 65535", "no port", "IPv6 without brackets"])
def test_the_command_line_refuses_a_mistyped_port_in_one_line(tmp_path, monkeypatch, capsys,
                                                              address, says):
    # Arrange: in an empty folder, where a mistyped address used to become a socket file;
    # serving is replaced, so a server that starts fails the test instead of blocking it
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(launch, "serve_until_stopped", lambda *_: "served")
    for run in (lambda: remote_main(["--serve", "--warmup-days", "1", "--address", address]),
                lambda: cli.main(["terminal-server", "--warmup-days", "1", "--address",
                                  address])):
        # Act
        code = run()

        # Assert
        err = capsys.readouterr().err
        assert code == 2
        assert err.startswith(says) and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("text", "address"), [
    ("terminal.sock", "terminal.sock"),
    ("./localhost:80x", "./localhost:80x"),
    ("/tmp/a:b/terminal.sock", "/tmp/a:b/terminal.sock"),
    ("127.0.0.1:0", ("127.0.0.1", 0)),
    ("localhost:65535", ("localhost", 65535)),
    ("[::1]:18813", ("::1", 18813)),
])
def test_a_socket_path_and_a_real_port_are_still_addresses(text, address):
    assert address_option(text, "--address") == address


# -- limits ----------------------------------------------------------------------------------


def client_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("terminal-client-"))


def wait_for(condition, within_s: float = WAIT_S) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_an_idle_connection_is_dropped_after_the_handshake_timeout():
    limits = LinkLimits(handshake_timeout_s=0.5)
    with TerminalServer(make_terminal(), limits=limits) as srv:
        # Arrange
        sock = raw_socket(srv.address)
        t0 = time.monotonic()

        # Act
        greeting = recv_frame(sock, HANDSHAKE_FRAME_BYTES)
        closed = closed_by_peer(sock)
        waited = time.monotonic() - t0
        sock.close()

        # Assert
        assert greeting.startswith(GREETING)
        assert closed and 0.4 < waited < 5.0
        assert wait_for(lambda: srv.active_clients == 0)


def test_a_connection_that_dribbles_is_dropped_at_the_same_deadline():
    limits = LinkLimits(handshake_timeout_s=1.0)
    with TerminalServer(make_terminal(), limits=limits) as srv:
        sock = raw_socket(srv.address)
        recv_frame(sock, HANDSHAKE_FRAME_BYTES)
        t0 = time.monotonic()

        sent = 0
        with contextlib.suppress(OSError):
            for byte in struct.pack("!I", 64) + bytes(64):  # one byte every 0.2 s
                sock.sendall(bytes([byte]))
                sent += 1
                time.sleep(0.2)
        closed = closed_by_peer(sock)
        sock.close()

        assert closed and sent < 68
        assert time.monotonic() - t0 < 5.0


def test_300_idle_connections_do_not_make_300_threads_nor_keep_a_client_out():
    limits = LinkLimits(handshake_timeout_s=5.0, max_connections=16, max_handshakes=64)
    with TerminalServer(make_terminal(), limits=limits) as srv:
        # Arrange
        threads_before = threading.active_count()
        sockets: list[socket.socket] = []

        # Act: 300 connections that hold no secret and say nothing, then a client with it
        try:
            for _ in range(300):
                sockets.append(raw_socket(srv.address))
            assert wait_for(lambda: srv.connections_accepted >= 300)
            most_threads = threading.active_count() - threads_before
            served = client_threads()
            closed_early = sum(1 for s in sockets[:300 - 64] if closed_by_peer(s, 5.0))

            # Assert: the newest 64 wait in the handshake, each older one was closed to
            # make room, and a client holding the secret gets in while they wait
            assert served <= 64 and most_threads <= 64, (served, most_threads)
            assert closed_early == 300 - 64
            with connect(srv) as friend:
                assert works(friend)
            assert wait_for(lambda: client_threads() == 0)  # the rest timed out
        finally:
            for sock in sockets:
                sock.close()


def _closed_now(sock: socket.socket) -> bool:
    """Whether the server has closed ``sock`` (reads what it sent so far, never waits)."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(65536) == b""
    except OSError:
        return True


def test_connections_that_keep_coming_back_without_the_secret_do_not_lock_a_client_out():
    # Arrange: a process that keeps every handshake slot taken, reopening what is closed
    # (a local process needs no secret to connect: before, 18 such connections kept every
    # client out, told BUSY, 87 tries of 87)
    limits = LinkLimits(handshake_timeout_s=5.0, max_connections=16, max_handshakes=16)
    stop = threading.Event()

    def hog() -> None:
        held: list[socket.socket] = []
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(raw_socket(srv.address))
            kept = []
            for s in held:
                if _closed_now(s):
                    s.close()
                else:
                    kept.append(s)
            held = kept
            time.sleep(0.005)
        for s in held:
            s.close()

    with TerminalServer(make_terminal(), limits=limits) as srv:
        flood = threading.Thread(target=hog, daemon=True)
        flood.start()
        try:
            assert wait_for(lambda: srv.connections_accepted >= 40)
            # Act / Assert: the client with the secret gets in, again and again
            for _ in range(5):
                with connect(srv) as friend:
                    assert works(friend)
        finally:
            stop.set()
            flood.join(timeout=10)


def busy(sock: socket.socket) -> bool:
    try:
        return recv_frame(sock, HANDSHAKE_FRAME_BYTES) == BUSY and closed_by_peer(sock, 5.0)
    except OSError:
        return False


def test_a_client_beyond_the_cap_is_told_so_and_gets_in_once_one_leaves():
    limits = LinkLimits(max_connections=2)
    with TerminalServer(make_terminal(), limits=limits) as srv:
        first, second, third = connect(srv), connect(srv), connect(srv)
        assert works(first) and works(second)

        assert third.initialize() is False
        assert "as many connections as it accepts" in third.last_error()[1]
        first.close()
        assert wait_for(lambda: srv.active_clients == 1)
        assert works(third)
        second.close()
        third.close()


@pytest.mark.parametrize(("authenticated", "announced"), [
    (False, HANDSHAKE_FRAME_BYTES + 1),
    (False, 2**32 - 1),
    (True, LinkLimits().max_request_bytes + 1),
    (True, 2**32 - 1),
], ids=["handshake frame over 256 bytes", "4 GiB before the handshake",
        "request over 4 MiB", "4 GiB request"])
def test_an_oversized_frame_is_dropped_without_reading_it(server, authenticated, announced):
    # Arrange
    sock = authenticated_socket(server) if authenticated else raw_socket(server.address)
    if not authenticated:
        recv_frame(sock, HANDSHAKE_FRAME_BYTES)

    # Act: the header and only a few bytes of the body it announces
    sock.sendall(struct.pack("!I", announced) + b"x" * 100)

    # Assert
    with sock:
        assert closed_by_peer(sock)
    with connect(server) as friend:
        assert works(friend)


def test_a_client_drops_a_reply_over_its_cap(server):
    # Arrange: 30 M1 bars of 60 bytes are 2,400 characters of base64
    remote = connect(server, max_reply_bytes=2048)
    assert remote.initialize() and remote.symbol_select("EURUSD", True)
    remote.sim_advance_to(START + HOUR // 2)

    # Act
    rates = remote.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 30)

    # Assert
    assert rates is None
    assert remote.last_error() == (c.RES_E_INTERNAL_FAIL_RECEIVE, "IPC recv failed")
    assert not remote.connected


def test_a_server_of_another_protocol_is_named_as_such(tmp_path):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def old_server() -> None:
        sock, _ = listener.accept()
        with sock:
            send_frame(sock, b"#CHALLENGE#" + os.urandom(20))
            with contextlib.suppress(OSError):
                sock.recv(1)

    threading.Thread(target=old_server, daemon=True).start()
    remote = RemoteTerminal(listener.getsockname(), secret=os.urandom(32))

    assert remote.initialize() is False
    assert "does not speak this protocol" in remote.last_error()[1]
    listener.close()


# -- TLS, for --allow-remote -----------------------------------------------------------------

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")


def make_certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (it is its own CA) and its key."""
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=120)
    return cert, key


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = make_certificate(folder, "server")
    other, _ = make_certificate(folder, "other")
    return cert, key, other


@needs_openssl
def test_allow_remote_serves_over_tls_on_every_interface(certificates):
    # Arrange
    cert, key, other_ca = certificates
    tls = server_tls_context(str(cert), str(key))
    limits = LinkLimits(handshake_timeout_s=1.0)  # the plain client waits for a greeting
    with TerminalServer(make_terminal(), ("0.0.0.0", 0), allow_remote=True, tls=tls,
                        limits=limits) as srv:
        port = srv.address[1]
        secret_file = srv.secret_file
        trusted = RemoteTerminal(("127.0.0.1", port), secret_file=secret_file, tls_ca=cert)
        plain = RemoteTerminal(("127.0.0.1", port), secret_file=secret_file)
        wrong_ca = RemoteTerminal(("127.0.0.1", port), secret_file=secret_file,
                                  tls_ca=other_ca)

        # Act
        trusted_works = works(trusted)
        trusted.sim_advance_to(START + HOUR // 2)
        tick = trusted.symbol_select("EURUSD", True) and trusted.symbol_info_tick("EURUSD")
        plain_initialized = plain.initialize()
        wrong_initialized = wrong_ca.initialize()

        # Assert
        assert srv.address[0] == "0.0.0.0"
        assert trusted_works and tick is not None
        assert plain_initialized is False
        assert wrong_initialized is False
        assert "TLS handshake" in wrong_ca.last_error()[1]
        assert works(trusted)  # the failed ones did not disturb it
        trusted.close()


@needs_openssl
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_the_command_line_serves_remote_clients_over_tls(certificates):
    # Arrange
    cert, key, _ = certificates
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    child = subprocess.Popen(
        [sys.executable, "main.py", "terminal-server", "--warmup-days", "1", "--symbols",
         "EURUSD", "--address", "0.0.0.0:0", "--allow-remote", "--tls-cert", str(cert),
         "--tls-key", str(key)],
        cwd=REPO_ROOT, env=env, text=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    try:
        # Act
        address, secret_file = child.stdout.readline().strip(), child.stdout.readline().strip()
        secret = Path(secret_file).read_text().strip()
        port = int(address.rsplit(":", 1)[1])
        remote = RemoteTerminal(("127.0.0.1", port), secret_file=secret_file, tls_ca=cert)
        served = works(remote)
        remote.close()
        child.terminate()
        code = child.wait(timeout=WAIT_S)
        out, err = child.stdout.read(), child.stderr.read()

        # Assert
        assert address.startswith("0.0.0.0:") and served, err
        assert code == 0
        assert len(secret) == 64 and secret not in out + err + address + secret_file
        assert not os.path.exists(secret_file)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=WAIT_S)
        child.stdout.close()
        child.stderr.close()


def test_a_forged_answer_gets_no_welcome_and_a_real_one_is_served(server):
    sock = raw_socket(server.address)
    with sock:
        greeting = recv_frame(sock, HANDSHAKE_FRAME_BYTES)
        assert greeting.startswith(GREETING)
        send_frame(sock, b"\x00" * 64)
        answer = recv_frame(sock, HANDSHAKE_FRAME_BYTES)
        assert not answer.startswith(WELCOME)
        assert closed_by_peer(sock)
    with connect(server) as friend, contextlib.closing(authenticated_socket(server)) as raw:
        raw.sendall(frame(request(HELLO, "", (2,))))
        assert recv_frame(raw, 1 << 20).startswith(b'["ok"')
        assert works(friend)


def test_every_failure_is_a_link_error_for_sim_calls(server):
    stranger = RemoteTerminal(server.address, secret=b"sixteen bytes or more, but not it")

    with pytest.raises(RemoteLinkError, match="refused the secret"):
        stranger.sim_now_msc()


def test_a_client_refuses_to_send_what_the_wire_does_not_carry(server):
    # Arrange
    remote = connect(server)
    assert remote.initialize()

    # Act
    with pytest.raises(TypeError, match=r"builtins\.set cannot be sent"):
        remote.order_send({"action": c.TRADE_ACTION_DEAL, "symbol": {"EURUSD"}})

    # Assert: nothing was sent, and the link goes on
    assert remote.connected and remote.account_info() is not None

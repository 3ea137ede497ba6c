"""Pre-forked API workers that share the analyzer and get connections in turn (`--workers N`).

uvicorn's own supervisor spawns N fresh interpreters, and each imports spaCy, builds the
analyzer and loads the model: N cold starts one after the other on a 2-core machine. Its
workers then share one listening socket: whichever wakes first accepts the queued
connections and keep-alive keeps them there, so 16 connections split 10 + 6 or 15 + 1,
and the p99 followed the busier worker (issue 7).

Here the supervisor builds the app and the analyzer once and forks the workers, which share
its memory copy-on-write and answer at once. The supervisor alone accepts connections and
hands each over, with SCM_RIGHTS on a Unix socket pair, to the worker with the fewest open
connections (in turn among equals); the worker serves it with uvicorn's own HTTP protocol
and reports when it closes. A worker that dies is forked again from the loaded supervisor;
one that dies before it was ready stops the service, as with uvicorn (exit 3).

The worker side uses uvicorn's protocol classes the way `uvicorn.Server.startup` does,
which is why pyproject pins uvicorn to one minor version.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import os
import selectors
import signal
import socket
import sys
import time
from dataclasses import dataclass
from types import FrameType
from typing import Any

import uvicorn

logger = logging.getLogger("stagecheck.prefork")

READY = b"R"  # worker -> supervisor: started, serving
CLOSED = b"-"  # worker -> supervisor: one connection closed
CONNECTION = b"c"  # supervisor -> worker: one connection, its descriptor attached
STARTUP_FAILURE = 3  # uvicorn's exit code when the app's start-up fails
EXTRA_WAIT_SECONDS = 10.0  # beyond the graceful timeout before workers are killed
ACCEPT_PAUSE_SECONDS = 0.1
HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD)


class HandedServer(uvicorn.Server):
    """A uvicorn server that listens on nothing and serves connections handed to it."""

    def __init__(self, config: uvicorn.Config, channel: socket.socket) -> None:
        super().__init__(config)
        self.channel = channel
        self._opening: set[asyncio.Task[Any]] = set()
        self._factory: Any = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start the app (lifespan), then take connections from the supervisor."""
        await super().startup(sockets=[])
        loop = asyncio.get_running_loop()
        report_closed = self._report_closed
        base: Any = self.config.http_protocol_class

        class CountedProtocol(base):
            def connection_lost(self, exc: Exception | None) -> None:
                try:
                    super().connection_lost(exc)
                finally:
                    report_closed()

        self._factory = functools.partial(
            CountedProtocol,
            config=self.config,
            server_state=self.server_state,
            app_state=self.lifespan.state,
            _loop=loop,
        )
        self.channel.setblocking(False)
        loop.add_reader(self.channel.fileno(), self._receive, loop)
        self._send(READY)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Take no more connections, then drain the open ones as uvicorn does."""
        with contextlib.suppress(ValueError, OSError):  # the channel is already closed
            asyncio.get_running_loop().remove_reader(self.channel.fileno())
        await super().shutdown(sockets=[])

    def _receive(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            try:
                message, fds, _flags, _address = socket.recv_fds(self.channel, 16, 8)
            except BlockingIOError:
                return
            except OSError:
                message, fds = b"", []
            if not message and not fds:
                # The supervisor is gone: finish what is open and stop.
                loop.remove_reader(self.channel.fileno())
                self.should_exit = True
                return
            for fd in fds:
                self._open(loop, socket.socket(fileno=fd))

    def _open(self, loop: asyncio.AbstractEventLoop, connection: socket.socket) -> None:
        with contextlib.suppress(OSError):  # not TCP, or already reset by the client
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        task = loop.create_task(loop.connect_accepted_socket(self._factory, connection))
        self._opening.add(task)
        task.add_done_callback(functools.partial(self._opened, connection))

    def _opened(self, connection: socket.socket, task: asyncio.Task[Any]) -> None:
        self._opening.discard(task)
        if task.cancelled() or task.exception() is not None:
            # Never reached the protocol, so connection_lost will not report it.
            connection.close()
            self._report_closed()

    def _report_closed(self) -> None:
        self._send(CLOSED)

    def _send(self, message: bytes) -> None:
        with contextlib.suppress(OSError):  # supervisor gone or queue full: counts are hints
            self.channel.send(message)


@dataclass
class Worker:
    """The supervisor's view of one forked worker."""

    index: int
    pid: int
    channel: socket.socket
    ready: bool = False
    open_connections: int = 0


class Supervisor:
    """Accepts connections and hands each to the least busy of N forked workers."""

    def __init__(self, config: uvicorn.Config, listener: socket.socket, workers: int) -> None:
        self.config = config
        self.listener = listener
        self.size = workers
        self.workers: dict[int, Worker] = {}  # by pid
        self.selector = selectors.DefaultSelector()
        self.stopping = False
        self.exit_code = 0
        self._turn = 0
        self._wake_read, self._wake_write = os.pipe()

    def run(self) -> int:
        """Fork the workers and supervise until a signal stops them; returns the exit code."""
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        previous = {sig: signal.signal(sig, _note_signal) for sig in HANDLED}
        old_wakeup = signal.set_wakeup_fd(self._wake_write)
        try:
            self.listener.setblocking(False)
            self.selector.register(self.listener, selectors.EVENT_READ, "accept")
            self.selector.register(self._wake_read, selectors.EVENT_READ, "signal")
            logger.info("Started parent process [%d]", os.getpid())
            for index in range(self.size):
                self._fork(index)
            self._loop()
        finally:
            signal.set_wakeup_fd(old_wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.selector.close()
            os.close(self._wake_read)
            os.close(self._wake_write)
        logger.info("Stopping parent process [%d]", os.getpid())
        return self.exit_code

    # --- the loop -----------------------------------------------------------------------

    def _loop(self) -> None:
        deadline: float | None = None
        while self.workers or not self.stopping:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            for key, _events in self.selector.select(timeout=1.0 if timeout is None else timeout):
                if key.data == "accept":
                    self._accept()
                elif key.data == "signal":
                    self._signals()
                else:
                    self._read(key.data)
            self._reap()
            if self.stopping and deadline is None:
                graceful = self.config.timeout_graceful_shutdown or 0
                deadline = time.monotonic() + graceful + EXTRA_WAIT_SECONDS
            if deadline is not None and time.monotonic() >= deadline and self.workers:
                for worker in self.workers.values():
                    logger.error("Killing child process [%d]: it did not stop in time", worker.pid)
                    _kill(worker.pid, signal.SIGKILL)
                deadline = time.monotonic() + EXTRA_WAIT_SECONDS

    def _accept(self) -> None:
        while not self.stopping:
            try:
                connection, _address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except (ConnectionAbortedError, ConnectionResetError):
                continue  # the client gave up before it was accepted
            except OSError as exc:  # out of descriptors or memory: pause, as asyncio does
                logger.error("cannot accept a connection: %s", exc)
                time.sleep(ACCEPT_PAUSE_SECONDS)
                return
            with connection:
                self._hand_over(connection)

    def _hand_over(self, connection: socket.socket) -> None:
        # Workers that are starting queue the connection in their channel until ready.
        candidates = sorted(
            self.workers.values(),
            key=lambda w: (w.open_connections, (w.index - self._turn) % self.size),
        )
        for worker in candidates:
            try:
                socket.send_fds(worker.channel, [CONNECTION], [connection.fileno()])
            except OSError:  # its queue is full, or it is dying: try the next one
                continue
            worker.open_connections += 1
            self._turn = (worker.index + 1) % self.size
            return
        logger.error("no worker could take a connection; it was closed")

    def _read(self, worker: Worker) -> None:
        while True:
            try:
                message = worker.channel.recv(16)
            except BlockingIOError:
                return
            except OSError:
                message = b""
            if not message:  # the worker exited; _reap collects it
                self.selector.unregister(worker.channel)
                return
            if message == READY:
                worker.ready = True
                logger.info("Child process [%d] ready", worker.pid)
            elif message == CLOSED:
                worker.open_connections = max(0, worker.open_connections - 1)

    def _signals(self) -> None:
        try:
            received = os.read(self._wake_read, 64)
        except BlockingIOError:
            return
        for number in received:
            if number == signal.SIGCHLD:
                continue  # _reap runs after every wake-up
            name = signal.Signals(number).name
            if self.stopping:
                if number == signal.SIGINT:  # a second Ctrl+C: stop without draining
                    logger.info("Received SIGINT again, forcing the workers to stop.")
                    for worker in self.workers.values():
                        _kill(worker.pid, signal.SIGINT)
                continue
            logger.info("Received %s, stopping the workers after their open requests.", name)
            self._stop()

    def _stop(self) -> None:
        self.stopping = True
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(self.listener)
        self.listener.close()
        for worker in self.workers.values():
            # SIGTERM whatever came in: a terminal's Ctrl+C has already sent the workers a
            # SIGINT, and a second SIGINT would make uvicorn stop without draining.
            _kill(worker.pid, signal.SIGTERM)

    def _reap(self) -> None:
        while self.workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker = self.workers.pop(pid, None)
            if worker is None:
                continue
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(worker.channel)
            worker.channel.close()
            code = os.waitstatus_to_exitcode(status)
            if self.stopping:
                logger.info("Child process [%d] stopped", pid)
                continue
            if not worker.ready:
                logger.error(
                    "Child process [%d] failed to start (exit %d), stopping the parent process.",
                    pid,
                    code,
                )
                self.exit_code = STARTUP_FAILURE
                self._stop()
                continue
            logger.error("Child process [%d] died (exit %d); starting another", pid, code)
            self._fork(worker.index)

    # --- workers --------------------------------------------------------------------------

    def _fork(self, index: int) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # Held back over the fork: until the worker has put back the default handlers, a
        # signal would run the supervisor's and write to its wake-up pipe.
        signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED)
            raise
        if pid == 0:  # the worker
            ours.close()
            code = 1
            try:
                code = self._become_worker(theirs)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                logger.exception("worker failed")
            finally:
                logging.shutdown()
                os._exit(code)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED)
        theirs.close()
        ours.setblocking(False)
        worker = Worker(index=index, pid=pid, channel=ours)
        self.workers[pid] = worker
        self.selector.register(ours, selectors.EVENT_READ, worker)

    def _become_worker(self, channel: socket.socket) -> int:
        signal.set_wakeup_fd(-1)
        for sig in HANDLED:
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED)
        self.listener.close()
        self.selector.close()
        os.close(self._wake_read)
        os.close(self._wake_write)
        for other in self.workers.values():
            other.channel.close()
        self.workers = {}
        HandedServer(self.config, channel).run()
        return 0


def _note_signal(number: int, frame: FrameType | None) -> None:
    """A handler must exist for the wake-up descriptor to receive the signal's number."""


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def serve_preforked(config: uvicorn.Config, workers: int) -> int:
    """Bind, fork `workers` workers from this loaded process, and supervise them."""
    if not hasattr(socket, "send_fds") or not hasattr(os, "fork"):
        logger.error("pre-forked workers need a POSIX system with SCM_RIGHTS")
        return 1
    config.load()
    # What the workers inherit is never garbage: frozen, the collector leaves it alone
    # and does not touch (and so copy) the shared pages. No collection first: it would
    # cost 0.2 s and free a few thousand objects (service/startup.py).
    gc.freeze()
    listener = config.bind_socket()
    listener.listen(config.backlog)
    with listener:
        code = Supervisor(config, listener, workers).run()
    sys.stdout.flush()
    return code

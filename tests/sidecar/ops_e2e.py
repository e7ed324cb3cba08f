"""Shared by the end-to-end tests of routingd's HTTP endpoints: routingd on
free loopback ports with --http, HTTP GETs, and the demo-like contact center
both tests drive through the Python client (bindings/python/routing_sidecar).

Run with PYTHONPATH holding the client package and ROUTINGD naming the
daemon binary (see the .sh wrappers).
"""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

from routing_sidecar import Client, RoutingError

ROUTINGD = os.environ["ROUTINGD"]
TMPDIR = os.environ.get("TEST_TMPDIR", "/tmp")


def free_port(taken=()):
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in taken:
            return port


def http_get(url, headers=None, timeout=5):
    """(status, headers, body as text); HTTP errors are returned, not raised."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return (response.status, dict(response.headers),
                    response.read().decode())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


class Routingd:
    """routingd on free loopback ports, HTTP included."""

    def __init__(self, *flags, name="routingd"):
        taken = set()
        ports = []
        for _ in range(3):
            ports.append(free_port(taken))
            taken.add(ports[-1])
        self.server = f"tcp://127.0.0.1:{ports[0]}"
        self.events = f"tcp://127.0.0.1:{ports[1]}"
        self.http_port = ports[2]
        self.http = f"http://127.0.0.1:{self.http_port}"
        self.stderr_path = os.path.join(TMPDIR, name + ".stderr")
        with open(self.stderr_path, "w") as stderr:
            self.process = subprocess.Popen(
                [ROUTINGD, f"--listen={self.server}", f"--events={self.events}",
                 f"--http=127.0.0.1:{self.http_port}", *flags],
                stderr=stderr)
        deadline = time.time() + 20
        probe = Client(self.server, timeout_ms=200)
        try:
            while True:
                try:
                    probe.health()
                    break
                except (TimeoutError, RoutingError):
                    if time.time() > deadline or self.process.poll() is not None:
                        raise RuntimeError("routingd did not start: " +
                                           self.stderr())
        finally:
            probe.close()
        self.client = Client(self.server)

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def get(self, path, headers=None):
        return http_get(self.http + path, headers)

    def snapshot(self):
        status, _, body = self.get("/api/snapshot")
        assert status == 200, (status, body)
        return json.loads(body)

    def stop(self):
        self.client.close()
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def run_routingd_expecting_failure(*flags):
    """Runs routingd with `flags` (no --listen/--events defaults taken) and
    returns (exit code, stderr) once it has exited."""
    result = subprocess.run([ROUTINGD, *flags], capture_output=True, text=True,
                            timeout=20)
    return result.returncode, result.stderr


class ContactCenter:
    """A morning in a small contact center, step by step, with the numbers
    each step should leave in GetStats."""

    def __init__(self, client):
        self.client = client
        self.routed_ok = 0

    def staff(self):
        c = self.client
        c.add_agent("alice", skills={"billing": 5}, languages={"en": 5},
                    capacity={"chat": 2, "voice": 1}, max_total=2)
        c.add_agent("bruno", skills={"billing": 3, "sales": 4},
                    languages={"en": 4, "es": 5}, capacity={"chat": 1})
        c.add_agent("chen", skills={"sales": 5}, languages={"en": 5},
                    capacity={"voice": 1})
        c.add_agent("dana", skills={"support": 4}, languages={"en": 5},
                    capacity={"email": 3, "chat": 1})
        c.add_agent("emil", skills={"support": 2, "billing": 1},
                    languages={"en": 3}, capacity={"chat": 1})
        # Logged out: qualified for sales calls, so a transfer may wait for
        # her.
        c.add_agent("fay", skills={"sales": 4}, languages={"en": 4},
                    capacity={"voice": 1})
        for agent in ("alice", "bruno", "chen", "dana"):
            c.set_agent_state(agent, "available")
        c.set_agent_state("emil", "break")

    def route(self, contact_id, **kwargs):
        decision = self.client.route(contact_id, explain=True, **kwargs)
        self.routed_ok += 1
        return decision

    def morning(self):
        """Routes, queues, releases, cancels and requeues."""
        r = self.route
        r("chat-1", channel="chat", skills={"billing": 2}, languages=["en"],
          customer_id="cust-17")
        r("chat-2", channel="chat", skills={"billing": 1}, languages=["es"],
          customer_id="cust-23")
        r("call-3", channel="voice", skills={"sales": 2}, languages=["en"])
        r("mail-4", channel="email", skills={"support": 1}, languages=["en"])
        r("chat-5", channel="chat", skills={"billing": 2}, languages=["en"],
          customer_id="cust-31")
        # Everyone who takes billing chats is full now: these wait.
        r("chat-6", channel="chat", skills={"billing": 2}, languages=["en"],
          priority=5)
        r("chat-7", channel="chat", skills={"billing": 2}, languages=["en"])
        r("call-8", channel="voice", skills={"sales": 2}, languages=["en"])
        # The customer of chat-7 gives up; chat-1 is resolved, so chat-6
        # gets alice at once.
        self.client.cancel("chat-7")
        self.client.release("chat-1", "resolved")
        self.client.release("mail-4", "resolved")
        # A transfer: call-3 goes back to sales with new requirements.
        r("call-3", channel="voice", skills={"sales": 3}, languages=["en"],
          requeue=True)

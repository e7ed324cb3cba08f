"""The supervisor view (GET /) in a real browser: Debian's headless Chromium,
driven over its DevTools protocol. The page loads with no console error and
no request beyond routingd, its numbers follow a scenario as it routes,
queues and releases, a queue turns red once its oldest contact has waited
past --alarm_oldest_wait_s, and a screenshot of it is kept
(TEST_UNDECLARED_OUTPUTS_DIR/supervisor_view.png; docs/supervisor_view.png
is one).
"""

import base64
import json
import os
import shutil
import subprocess
import time
import unittest

import websocket

from ops_e2e import ContactCenter, Routingd, TMPDIR, free_port, http_get

CHROMIUM = "/usr/bin/chromium"
ALARM_WAIT_S = 3


class Chromium:
    """Headless Chromium with a profile of its own, one page, and a DevTools
    connection that keeps every event it hears."""

    def __init__(self):
        self.dir = os.path.join(TMPDIR, "chromium")
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        port = free_port()
        args = [CHROMIUM, "--headless=new", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--mute-audio",
                "--hide-scrollbars", "--window-size=1600,1200",
                f"--user-data-dir={self.dir}/profile",
                f"--remote-debugging-port={port}", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses root otherwise.
        env = dict(os.environ, HOME=self.dir)
        self.log = open(os.path.join(self.dir, "chromium.log"), "w")
        self.process = subprocess.Popen(args, stdout=self.log,
                                        stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 30
        page = None
        while page is None:
            if time.time() > deadline or self.process.poll() is not None:
                raise RuntimeError("chromium did not start")
            try:
                status, _, body = http_get(
                    f"http://127.0.0.1:{port}/json/list", timeout=1)
                pages = [t for t in json.loads(body) if t["type"] == "page"]
                page = pages[0] if status == 200 and pages else None
            except (OSError, ValueError):
                pass
            if page is None:
                time.sleep(0.2)
        self.socket = websocket.create_connection(
            page["webSocketDebuggerUrl"], timeout=15, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method,
                                     "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression,
                           returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=20):
        """Polls `expression` until it is truthy; returns its value."""
        deadline = time.time() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.time() > deadline:
                raise AssertionError(f"timed out waiting for {expression}")
            time.sleep(0.1)

    def errors(self):
        """Console errors, uncaught exceptions and failed loads seen."""
        found = []
        for e in self.events:
            method, params = e["method"], e.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(json.dumps(params["exceptionDetails"])[:500])
            elif (method == "Runtime.consoleAPICalled" and
                  params.get("type") in ("error", "assert")):
                found.append(json.dumps(params.get("args"))[:500])
            elif (method == "Log.entryAdded" and
                  params["entry"].get("level") == "error"):
                found.append(params["entry"].get("text", "")[:500])
            elif method == "Network.loadingFailed":
                found.append("load failed: " + params.get("errorText", ""))
        return found

    def requested_urls(self):
        return [e["params"]["request"]["url"] for e in self.events
                if e["method"] == "Network.requestWillBeSent"]

    def screenshot(self, path):
        metrics = self.call("Page.getLayoutMetrics")
        height = int(metrics["cssContentSize"]["height"]) + 1
        self.call("Emulation.setDeviceMetricsOverride", width=1600,
                  height=min(height, 4000), deviceScaleFactor=1, mobile=False)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.socket.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.log.close()


# What the page shows, read from its DOM.
READ_PAGE = """JSON.stringify({
  generatedAt: Number(document.body.dataset.generatedAt || 0),
  connection: document.getElementById('connection').textContent,
  decisions: Number(document.querySelector('#total-decisions .v').textContent),
  released: Number(document.querySelector('#total-released .v').textContent),
  waitingNow: Number(document.querySelector('#total-waiting-now .v').textContent),
  queues: [...document.querySelectorAll('.queue')].map(q => q.dataset.queue),
  alarms: [...document.querySelectorAll('.queue.alarm')].map(q => q.dataset.queue),
  contacts: [...document.querySelectorAll('#contacts tr[data-contact]')]
      .map(r => r.dataset.contact),
  agents: [...document.querySelectorAll('#agents tr[data-agent]')]
      .map(r => r.dataset.agent),
  decisionsListed: document.querySelectorAll('#decisions li[data-contact]').length,
  rules: document.getElementById('rules-pill').textContent,
})"""


class SupervisorPageTest(unittest.TestCase):
    def setUp(self):
        self.routingd = Routingd(f"--alarm_oldest_wait_s={ALARM_WAIT_S}",
                                 name="page")
        self.addCleanup(self.routingd.kill)
        self.browser = Chromium()
        self.addCleanup(self.browser.close)
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.browser.call(f"{domain}.enable")

    def page(self):
        return json.loads(self.browser.evaluate(READ_PAGE))

    def wait_page(self, predicate, timeout=15):
        deadline = time.time() + timeout
        while True:
            state = self.page()
            if predicate(state):
                return state
            if time.time() > deadline:
                raise AssertionError(f"page never got there; it shows {state}")
            time.sleep(0.1)

    def test_live_view_follows_the_scenario_and_turns_red(self):
        b = self.browser
        status, headers, _ = self.routingd.get("/")
        self.assertEqual(status, 200)
        self.assertIn("default-src 'none'", headers["Content-Security-Policy"])
        b.call("Page.navigate", url=self.routingd.http + "/")
        b.wait_for("document.body && document.body.dataset.generatedAt")
        first = self.page()
        self.assertEqual(first["connection"], "live")
        self.assertEqual(first["decisions"], 0)
        self.assertEqual(first["queues"], [])
        # Live: a new snapshot at least every second.
        later = self.wait_page(
            lambda s: s["generatedAt"] > first["generatedAt"], timeout=5)
        self.assertLessEqual(later["generatedAt"] - first["generatedAt"], 1000)

        center = ContactCenter(self.routingd.client)
        center.staff()
        state = self.wait_page(lambda s: len(s["agents"]) == 6)
        self.assertEqual(state["agents"],
                         ["alice", "bruno", "chen", "dana", "emil", "fay"])

        # Routes: assigned at once.
        for contact, skill in (("chat-1", "billing"), ("mail-4", "support")):
            center.route(contact, channel="chat" if skill == "billing"
                         else "email", skills={skill: 1}, languages=["en"])
        state = self.wait_page(lambda s: s["decisions"] == 2)
        self.assertEqual(state["waitingNow"], 0)
        self.assertEqual(state["contacts"], [])

        # Queued: the waiting-contacts table fills.
        center.route("chat-2", channel="chat", skills={"billing": 1},
                     languages=["es"])
        center.route("chat-5", channel="chat", skills={"billing": 2},
                     languages=["en"])
        center.route("chat-6", channel="chat", skills={"billing": 2},
                     languages=["en"], priority=5)
        state = self.wait_page(lambda s: s["waitingNow"] == 1)
        self.assertEqual(state["decisions"], 5)
        self.assertEqual(state["contacts"], ["chat-6"])

        # Released: chat-6 is assigned from the queue, the totals move.
        self.routingd.client.release("chat-1", "resolved", csat=5, nps=9)
        state = self.wait_page(lambda s: s["released"] == 1 and
                               s["waitingNow"] == 0)
        self.assertEqual(state["contacts"], [])
        self.assertGreaterEqual(state["decisionsListed"], 5)

        # A sales call waits for fay, logged out: red past the threshold.
        center.route("call-3", channel="voice", skills={"sales": 2},
                     languages=["en"])
        center.route("call-8", channel="voice", skills={"sales": 2},
                     languages=["en"])
        center.route("mail-9", channel="email", skills={"support": 1},
                     languages=["en"])
        state = self.wait_page(lambda s: "call-8" in s["contacts"])
        self.assertNotIn("sales", state["alarms"])
        started = time.time()
        state = self.wait_page(lambda s: "sales" in s["alarms"],
                               timeout=ALARM_WAIT_S + 10)
        self.assertGreaterEqual(time.time() - started, ALARM_WAIT_S - 1.5)
        colours = json.loads(b.evaluate("""JSON.stringify((() => {
            const card = document.querySelector('.queue[data-queue="sales"]');
            const style = getComputedStyle(card);
            return {border: style.borderTopColor, background: style.backgroundColor,
                    text: card.querySelector('.alarmtext').textContent};
        })())"""))
        self.assertEqual(colours["border"], "rgb(231, 76, 60)")
        self.assertEqual(colours["background"], "rgb(74, 20, 20)")
        self.assertIn("oldest wait too long", colours["text"])
        self.assertNotIn("billing", state["alarms"])
        _, _, metrics = self.routingd.get("/metrics")
        self.assertIn('routing_queue_alarm{queue="sales",reason="oldest_wait"} 1',
                      metrics)

        # The rules in force, on the header and in the rules section.
        self.assertEqual(state["rules"], "rules: built-in policy")
        self.assertTrue(self.routingd.client.reload_rules(
            source="return { score = function(c, a) return a.score end }\n"
        )["accepted"])
        state = self.wait_page(lambda s: s["rules"] == "rules v1 request.lua")

        # A VIP call jumps the sales queue; another caller gives up, which
        # takes sales' 5-minute service level to 1/2: red for both reasons.
        center.route("call-10", channel="voice", skills={"sales": 1},
                     languages=["en"], priority=7)
        center.route("call-11", channel="voice", skills={"sales": 1},
                     languages=["en"])
        self.routingd.client.cancel("call-11")
        state = self.wait_page(lambda s: s["contacts"] == ["call-10", "call-8"])
        alarm_text = b.wait_for("""(() => {
            const t = document.querySelector(
                '.queue[data-queue="sales"] .alarmtext').textContent;
            return t.includes('service level below target') ? t : '';
        })()""")
        self.assertIn("oldest wait too long", alarm_text)
        self.assertEqual(state["alarms"], ["sales"])

        outputs = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR", TMPDIR)
        shot = os.path.join(outputs, "supervisor_view.png")
        b.screenshot(shot)
        self.assertGreater(os.path.getsize(shot), 20_000)
        with open(shot, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

        self.assertEqual(b.errors(), [])
        for url in b.requested_urls():
            self.assertTrue(url.startswith(self.routingd.http + "/") or
                            url.startswith("data:"), url)


if __name__ == "__main__":
    unittest.main(verbosity=2)

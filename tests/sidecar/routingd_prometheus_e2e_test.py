"""routingd's /metrics with its real consumers: `promtool check metrics`
passes on the live output, and a Prometheus server on loopback scrapes
routingd every second while a scenario runs; the counters it stored, read
back through Prometheus' HTTP API, equal routingd's own GetStats. Also the
--http flags: off, bind failure, CURVE without a token.
"""

import json
import os
import shutil
import subprocess
import time
import unittest
import urllib.parse

from routing_sidecar import RoutingError

from ops_e2e import (ContactCenter, Routingd, TMPDIR, free_port, http_get,
                     run_routingd_expecting_failure)

PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"


def promtool_check(text):
    result = subprocess.run([PROMTOOL, "check", "metrics"], input=text,
                            capture_output=True, text=True, timeout=30)
    return result.returncode, result.stdout + result.stderr


class Prometheus:
    """A Prometheus server of its own: temp dir, loopback, 1 s scrapes."""

    def __init__(self, target_port):
        self.dir = os.path.join(TMPDIR, "prometheus")
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
                "scrape_configs:\n  - job_name: routingd\n"
                "    static_configs:\n"
                f"      - targets: ['127.0.0.1:{target_port}']\n")
        self.port = free_port({target_port})
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.process = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}",
             f"--storage.tsdb.path={self.dir}/data",
             f"--web.listen-address=127.0.0.1:{self.port}",
             "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            try:
                if http_get(self.url + "/-/ready", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline or self.process.poll() is not None:
                raise RuntimeError("prometheus did not start")
            time.sleep(0.2)

    def query(self, promql):
        """The instant vector as {frozenset(labels minus __name__): value}."""
        status, _, body = http_get(
            self.url + "/api/v1/query?" +
            urllib.parse.urlencode({"query": promql}))
        assert status == 200, (status, body)
        reply = json.loads(body)
        assert reply["status"] == "success", reply
        out = {}
        for sample in reply["data"]["result"]:
            labels = {k: v for k, v in sample["metric"].items()
                      if k not in ("__name__", "job", "instance")}
            out[frozenset(labels.items())] = float(sample["value"][1])
        return out

    def value(self, promql, **labels):
        result = self.query(promql)
        key = frozenset(labels.items())
        assert key in result, (promql, labels, result)
        return result[key]

    def last_scrape_unix(self):
        """When Prometheus last scraped routingd successfully, or 0."""
        result = self.query('timestamp(up{job="routingd"} == 1)')
        return max(result.values()) if result else 0

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


class PrometheusScrapeTest(unittest.TestCase):
    def setUp(self):
        self.routingd = Routingd(name="scraped")
        self.addCleanup(self.routingd.kill)

    def test_promtool_accepts_the_live_output(self):
        status, headers, text = self.routingd.get("/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"],
                         "text/plain; version=0.0.4; charset=utf-8")
        code, report = promtool_check(text)
        self.assertEqual(code, 0, report)
        center = ContactCenter(self.routingd.client)
        center.staff()
        center.morning()
        # A queue name that needs escaping, and a refused request.
        self.routingd.client.route("x-1", channel="chat",
                                   skills={"billing": 1},
                                   queue='bad "queue" \\ name')
        with self.assertRaises(RoutingError):
            self.routingd.client.release("x-1", "resolved")
        _, _, text = self.routingd.get("/metrics")
        code, report = promtool_check(text)
        self.assertEqual(code, 0, report + text)
        self.assertIn('routing_queue_waiting_contacts{queue='
                      '"bad \\"queue\\" \\\\ name"} 1', text)
        self.assertIn('routing_requests_total{type="ReleaseContact",'
                      'code="FailedPrecondition"} 1', text)
        # A check that can fail: promtool refuses a broken exposition.
        code, _ = promtool_check(text + "routing_broken{ 1\n")
        self.assertNotEqual(code, 0)

    def test_prometheus_scrapes_what_getstats_says(self):
        prometheus = Prometheus(self.routingd.http_port)
        self.addCleanup(prometheus.stop)
        center = ContactCenter(self.routingd.client)
        center.staff()
        center.morning()
        with self.assertRaises(RoutingError):
            self.routingd.client.release("chat-7", "resolved")  # Cancelled.
        # Rules that fail on contacts whose handoff says explode=yes: the
        # built-in policy decides those, counted as fallbacks.
        source = ("return {\n  score = function(c, a)\n"
                  "    if attr(c, 'explode') == 'yes' then error('boom') end\n"
                  "    return a.score\n  end,\n}\n")
        self.assertTrue(
            self.routingd.client.reload_rules(source=source)["accepted"])
        center.route("bad-1", channel="chat", skills={"support": 1},
                     languages=["en"],
                     handoff={"attributes": {"explode": "yes"}})
        stats = self.routingd.client.stats()
        self.assertEqual((stats["rules_version"], stats["rules_fallbacks"],
                          stats["rules_errors"]), (1, 1, 1))
        finished = time.time()
        # Wait for a scrape that started after the scenario ended.
        deadline = time.time() + 20
        while prometheus.last_scrape_unix() <= finished + 0.05:
            self.assertLess(time.time(), deadline,
                            "Prometheus did not scrape routingd")
            time.sleep(0.25)

        p = prometheus
        self.assertEqual(p.value("sum(routing_decisions_total)"),
                         stats["decisions"])
        self.assertEqual(p.value("routing_decisions_total",
                                 outcome="queued"), stats["queued"])
        self.assertEqual(p.value("routing_assignments_total",
                                 kind="from_queue"),
                         stats["assigned_from_queue"])
        self.assertEqual(p.value("sum(routing_contacts_released_total)"),
                         stats["released"])
        self.assertEqual(p.value("routing_contacts_released_total",
                                 outcome="resolved"), 2)
        self.assertEqual(p.value("routing_requeues_total"), 1)
        self.assertEqual(p.value("routing_busy_replies_total"),
                         stats["busy_rejections"])
        self.assertEqual(p.value("routing_rules_version"),
                         stats["rules_version"])
        self.assertEqual(p.value("routing_rules_fallbacks_total"),
                         stats["rules_fallbacks"])
        self.assertEqual(p.value("routing_rules_failures_total"),
                         stats["rules_errors"])
        self.assertEqual(p.value("routing_rules_suspended"),
                         int(stats["rules_suspended"]))
        self.assertEqual(p.value("routing_requests_total",
                                 type="ReloadRules", code="OK"), 1)
        self.assertEqual(p.value("routing_decision_duration_seconds_count"),
                         stats["decisions"])
        self.assertEqual(p.value("routing_requests_total",
                                 type="RouteContact", code="OK"),
                         center.routed_ok - 1)  # One was a requeue.
        self.assertEqual(p.value("routing_requests_total",
                                 type="ReleaseContact", code="NotFound"), 1)
        self.assertEqual(p.value("routing_agents", state="break"), 1)
        self.assertEqual(p.value("routing_agents_by_channel", state="available",
                                 channel="voice"), 2)
        for queue, q in stats["queues"].items():
            with self.subTest(queue=queue):
                self.assertEqual(p.value("routing_queue_waiting_contacts",
                                         queue=queue), q["waiting"])
                self.assertEqual(p.value("routing_queue_answered_total",
                                         queue=queue), q["answered"])
                self.assertEqual(p.value("routing_contacts_abandoned_total",
                                         queue=queue), q["abandoned"])
                self.assertEqual(
                    p.value("routing_queue_answer_wait_seconds_count",
                            queue=queue), q["answered"])
                self.assertEqual(
                    p.value("routing_queue_answer_wait_seconds_bucket",
                            queue=queue, le="+Inf"), q["answered"])
        self.assertEqual(stats["queues"]["billing"]["abandoned"], 1)
        self.assertEqual(stats["queues"]["billing"]["waiting"], 0)
        # The transfer freed chen, who took call-8 from the queue; call-3
        # waits for fay, logged out.
        self.assertEqual(stats["queues"]["sales"]["waiting"], 1)
        self.assertEqual(stats["assigned_from_queue"], 2)
        # PromQL over the histogram works: a quantile of decision latency.
        self.assertTrue(p.query(
            "histogram_quantile(0.99, routing_decision_duration_seconds_bucket)"))
        self.assertEqual(self.routingd.stop(), 0)


class HttpFlagsTest(unittest.TestCase):
    def test_http_off(self):
        routingd = Routingd("--http=", name="off")
        self.addCleanup(routingd.kill)
        with self.assertRaises(OSError):
            http_get(routingd.http + "/metrics", timeout=2)
        self.assertNotIn("HTTP on", routingd.stderr())

    def test_bind_failure_names_the_address(self):
        routingd = Routingd(name="first")
        self.addCleanup(routingd.kill)
        code, stderr = run_routingd_expecting_failure(
            f"--listen=tcp://127.0.0.1:{free_port()}",
            f"--events=tcp://127.0.0.1:{free_port()}",
            f"--http=127.0.0.1:{routingd.http_port}")
        self.assertEqual(code, 1, stderr)
        self.assertIn(f"cannot serve HTTP on 127.0.0.1:{routingd.http_port}",
                      stderr)

    def test_beyond_loopback_and_curve_without_token_are_refused(self):
        code, stderr = run_routingd_expecting_failure(
            "--listen=ipc:///nonexistent/never", "--http=0.0.0.0:1")
        self.assertEqual(code, 1)
        self.assertIn("--http=0.0.0.0:1 can be reached from other hosts",
                      stderr)
        key = os.path.join(TMPDIR, "server.key")
        with open(key, "w") as f:
            f.write("JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6\n")
        code, stderr = run_routingd_expecting_failure(
            "--listen=ipc:///nonexistent/never", f"--curve_secret_key_file={key}",
            "--http=127.0.0.1:1")
        self.assertEqual(code, 1)
        self.assertIn("with CURVE on needs --http_token_file", stderr)

    def test_token_protects_every_endpoint(self):
        token = os.path.join(TMPDIR, "http.token")
        with open(token, "w") as f:
            f.write("s3cret-0123456789abcdef\n")
        routingd = Routingd(f"--http_token_file={token}", name="token")
        self.addCleanup(routingd.kill)
        for path in ("/", "/metrics", "/api/snapshot", "/events"):
            self.assertEqual(routingd.get(path)[0], 401, path)
        self.assertEqual(routingd.get(
            "/metrics",
            {"Authorization": "Bearer s3cret-0123456789abcdef"})[0], 200)
        self.assertEqual(routingd.get(
            "/api/snapshot?access_token=s3cret-0123456789abcdef")[0], 200)
        self.assertEqual(routingd.get(
            "/metrics", {"Authorization": "Bearer wrong"})[0], 401)


if __name__ == "__main__":
    unittest.main(verbosity=2)

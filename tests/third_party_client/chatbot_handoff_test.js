// File: tests/third_party_client/chatbot_handoff_test.js
//
// The chatbot handoff flow, driven against a real routingd by the
// third-party client (routing_client.js): handoff with context, assignment
// events on exact topics, lifecycle events and their per-topic sequences,
// reservations (offers rejected, accepted and left to lapse), idempotent
// retry, error replies, and resync after the daemon restarts.
//
// Run by chatbot_handoff_test.sh, which generates the wire code and sets
//   ROUTINGD  the routingd binary
// and optionally XML_OUTPUT_FILE (Bazel: one <testcase> per step).
//
// Each step is independent (its own skill, queue, agents and contacts), so a
// failing step does not hide the others. Steps whose server side is still
// being built are listed in PENDING with what they wait for and the failure
// they end with meanwhile: such a step still runs, and that failure is
// printed as PENDING without failing the run (any other failure fails it).
// Nor does its success fail the run (the change that lands the feature must
// not fail here): the run names it as listed but passing, to be taken off
// the list. A step off the list fails the run when it fails.
"use strict";

const assert = require("node:assert/strict");
const childProcess = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const path = require("node:path");

const {
  EventSubscriber, RoutingClient, RoutingError, wire,
} = require("./routing_client");

const ROUTINGD = process.env.ROUTINGD;
const TMPDIR = process.env.TEST_TMPDIR || fs.mkdtempSync("/tmp/tpc-");

// Steps waiting for their server side, by name: {waitsFor, failsWith},
// what they wait for and the failure they end with until then. A pending
// step that fails otherwise fails the run, so that a listed step still
// guards everything before its gap. Empty: every step's server side has
// landed.
const PENDING = {
};

// --- routingd as a child process ------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function freePorts(count) {
  const ports = new Set();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// Every routingd started, so that none outlives this process, however it
// ends (a crash in a socket's read loop included).
const daemons = new Set();
process.on("exit", () => { for (const d of daemons) d.kill(); });

class Daemon {
  // Starts routingd on the given loopback ports (free ones if omitted),
  // HTTP off, and waits until it answers Health.
  static async start(name, flags = [], ports = null) {
    const [requests, events] = ports || await freePorts(2);
    const daemon = new Daemon(name, flags, requests, events);
    await daemon.waitServing();
    return daemon;
  }

  constructor(name, flags, requests, events) {
    this.name = name;
    this.flags = flags;
    this.ports = [requests, events];
    this.server = `tcp://127.0.0.1:${requests}`;
    this.events = `tcp://127.0.0.1:${events}`;
    this.stderrPath = path.join(TMPDIR, `${name}.stderr`);
    const stderr = fs.openSync(this.stderrPath, "w");
    this.process = childProcess.spawn(
        ROUTINGD,
        [`--listen=${this.server}`, `--events=${this.events}`, "--http=",
         ...flags],
        { stdio: ["ignore", "ignore", stderr] });
    fs.closeSync(stderr);
    daemons.add(this);
    this.exited = new Promise((resolve) => {
      this.process.on("exit", (code, signal) => {
        daemons.delete(this);
        resolve({ code, signal });
      });
    });
  }

  stderr() { return fs.readFileSync(this.stderrPath, "utf8"); }

  async waitServing() {
    const probe = new RoutingClient(this.server, { timeoutMs: 250 });
    const deadline = Date.now() + 20000;
    let exited = null;
    this.exited.then((status) => { exited = status; });
    try {
      for (;;) {
        try {
          await probe.health();
          return;
        } catch (error) {
          if (exited || Date.now() > deadline) {
            throw new Error(`${this.name} did not start (${
                JSON.stringify(exited)}): ${this.stderr().trim()}`);
          }
          if (error instanceof RoutingError && error.code !== "Busy") {
            throw error;
          }
        }
      }
    } finally {
      probe.close();
    }
  }

  // SIGTERM, then the exit status.
  async stop() {
    this.process.kill("SIGTERM");
    const timer = setTimeout(() => this.process.kill("SIGKILL"), 20000);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }

  kill() {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill("SIGKILL");
    }
  }
}

// --- The vendor's side: the roster and the open conversations it keeps ---

// What the chatbot platform knows, whatever the daemon holds: its agents
// (profile and state) and its conversations handed over and not finished.
// After a daemon restart it puts all of it back (resync).
class ChatbotPlatform {
  constructor(client) {
    this.client = client;
    this.agents = new Map();         // id -> {profile, state}
    this.conversations = new Map();  // contact id -> contact, in handover order
  }

  async addAgent(profile, state = "LoggedOut") {
    await this.client.addAgent(profile);
    if (state !== "LoggedOut") await this.client.setAgentState(profile.id, state);
    this.agents.set(profile.id, { profile, state });
  }

  async setAgentState(id, state) {
    await this.client.setAgentState(id, state);
    this.agents.get(id).state = state;
  }

  async handOver(contact, options) {
    const reply = await this.client.routeContact(contact, options);
    this.conversations.set(contact.id, contact);
    return reply;
  }

  async finish(contactId) {
    await this.client.releaseContact(contactId, "Resolved");
    this.conversations.delete(contactId);
  }

  // The daemon restarted with nothing: the roster first (so that the
  // conversations find their agents), then the conversations in the order
  // they were handed over (so that the earliest waiter is served first).
  async resync() {
    for (const { profile, state } of this.agents.values()) {
      await this.client.addAgent(profile);
      if (state !== "LoggedOut") await this.client.setAgentState(profile.id, state);
    }
    const decisions = [];
    for (const contact of this.conversations.values()) {
      decisions.push((await this.client.routeContact(contact)).decision);
    }
    return decisions;
  }
}

// --- Helpers ----------------------------------------------------------------

function chatAgent(id, skill, level = 5) {
  return {
    id, skills: { [skill]: level }, languages: { en: 5 },
    capacity: { Chat: 1 },
  };
}

function handoff(n) {
  return {
    intent: "billing.dispute",
    language: "en",
    sentiment: "negative",
    summary: `charged twice on invoice INV-${n}`,
    customerId: `cust-${n}`,
    attributes: { order_id: `ORD-${n}`, tier: "gold" },
  };
}

async function rejectsWith(promise, code) {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof RoutingError)) throw error;
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected a ${code} error reply`);
}

function contactEvents(subscriber, id) {
  const topic = EventSubscriber.contactTopic(id);
  return subscriber.events.filter((e) => e.topic === topic);
}

// The kinds of a contact's events: "Assigned" or "Offered" for a
// ContactAssigned, else the ContactChange's name, leaving out
// PositionChanged (rate-limited, so its count is not fixed).
function lifecycle(events) {
  return events.filter((e) => e.change !== "PositionChanged")
               .map((e) => (e.type === "ContactAssigned"
                   ? (e.offered ? "Offered" : "Assigned") : e.change));
}

// The events of one topic carry topic_sequence 1, 2, 3... in order.
function assertTopicSequences(events, what) {
  assert.ok(events.length > 0, `no events ${what}`);
  events.forEach((e, i) => assert.equal(
      e.topicSequence, BigInt(i + 1),
      `${what}: event ${i + 1} (${e.type} ${e.change || ""}) has ` +
      `topic_sequence ${e.topicSequence}`));
}

// --- Steps ------------------------------------------------------------------

const steps = [];
function step(name, run) { steps.push({ name, run }); }

let main;        // the daemon most steps share
let client;      // RoutingClient on it
let platform;    // ChatbotPlatform on it
const kProbe = "sync-probe";  // an agent only ever on break or logged out

step("handoff_assigned_in_reply", async () => {
  await platform.addAgent(chatAgent("alice", "billing"), "Available");
  const contact = {
    id: "conv-100", channel: "Chat", requiredSkills: { billing: 2 },
    languages: ["en"], handoff: handoff(100),
  };
  const { decision } = await platform.handOver(contact);
  assert.equal(decision.outcome, "Assigned");
  assert.equal(decision.agentId, "alice");
  assert.equal(decision.contactId, "conv-100");
  assert.equal(decision.queue, "billing");
  const { contact: held } = await client.getContact("conv-100");
  assert.equal(held.state, "Assigned");
  assert.equal(held.agentId, "alice");
  // HandoffContext.customer_id fills the contact's empty customer_id.
  assert.equal(held.customerId, "cust-100");
  await platform.finish("conv-100");
  await rejectsWith(client.getContact("conv-100"), "NotFound");
});

step("handoff_queued_then_assignment_event", async () => {
  await platform.addAgent(chatAgent("carl", "claims"));
  const events = new EventSubscriber(main.events);
  try {
    events.subscribe(EventSubscriber.contactTopic("conv-201"));
    await events.confirmSubscriptions(client, kProbe);
    const { decision } = await platform.handOver({
      id: "conv-201", channel: "Chat", requiredSkills: { claims: 1 },
      languages: ["en"], handoff: handoff(201),
    });
    assert.equal(decision.outcome, "Queued");
    assert.equal(decision.queuePosition, 1);
    await platform.setAgentState("carl", "Available");
    const assigned = await events.next(
        (e) => e.type === "ContactAssigned", "ContactAssigned for conv-201");
    assert.equal(assigned.topic, "contact/conv-201\0");
    assert.equal(assigned.contactId, "conv-201");
    assert.equal(assigned.agentId, "carl");
    assert.equal(assigned.queue, "claims");
    assert.equal(assigned.immediate, false);
    assert.deepEqual(assigned.context, handoff(201));
    assert.equal(assigned.attributes.intent, "billing.dispute");
    assert.equal(assigned.attributes.order_id, "ORD-201");
    await platform.finish("conv-201");
  } finally {
    events.close();
  }
});

step("events_contact_changed_sequences_and_sibling_topics", async () => {
  await platform.addAgent(chatAgent("olga", "orders"));
  const exact = new EventSubscriber(main.events);   // contact/chat-1\0 only
  const family = new EventSubscriber(main.events);  // every contact
  try {
    exact.subscribe(EventSubscriber.contactTopic("chat-1"));
    family.subscribe("contact/");
    await exact.confirmSubscriptions(client, kProbe);
    await family.confirmSubscriptions(client, kProbe);
    const route = (id) => platform.handOver({
      id, channel: "Chat", requiredSkills: { orders: 1 }, languages: ["en"],
      handoff: handoff(300),
    });
    assert.equal((await route("chat-10")).decision.outcome, "Queued");
    assert.equal((await route("chat-1")).decision.outcome, "Queued");
    await client.cancelContact("chat-10");
    platform.conversations.delete("chat-10");
    const chat1Topic = EventSubscriber.contactTopic("chat-1");
    const onChat1 = (what) => (e) => e.topic === chat1Topic && what(e);
    await platform.setAgentState("olga", "Available");
    await exact.next(onChat1((e) => e.type === "ContactAssigned"),
                     "chat-1 assigned");
    await platform.finish("chat-1");
    await exact.next(onChat1((e) => e.change === "Released"),
                     "chat-1 released");
    // The contact's topic counts afresh after Released: routed again (olga
    // is free, so at once), then the customer leaves.
    assert.equal((await route("chat-1")).decision.outcome, "Assigned");
    await client.cancelContact("chat-1");
    platform.conversations.delete("chat-1");
    const cancelled = await exact.next(onChat1((e) => e.change === "Cancelled"),
                                       "chat-1 cancelled");
    assert.equal(cancelled.agentId, "olga");
    // chat-10's events were published (the family heard them) ...
    const sibling = await family.next(
        (e) => e.topic === "contact/chat-10\0" && e.change === "Cancelled",
        "chat-10 cancelled on contact/");
    assert.equal(sibling.contactId, "chat-10");
    assert.deepEqual(lifecycle(contactEvents(family, "chat-10")),
                     ["Queued", "Cancelled"]);
    // ... and the exact subscription to chat-1 heard none of them.
    const strays = exact.events.filter(
        (e) => e.topic !== "contact/chat-1\0" &&
               e.topic !== EventSubscriber.agentTopic(kProbe));
    assert.deepEqual(strays.map((e) => e.topic), [],
                     "contact/chat-1\\0 heard another topic");
    const chat1 = contactEvents(exact, "chat-1");
    assert.ok(chat1.every((e) => e.contactId === "chat-1"));
    const released = chat1.findIndex((e) => e.change === "Released");
    const first = chat1.slice(0, released + 1);
    const second = chat1.slice(released + 1);
    assert.deepEqual(lifecycle(first), ["Queued", "Assigned", "Released"]);
    assert.deepEqual(lifecycle(second), ["Assigned", "Cancelled"]);
    assertTopicSequences(first, "on contact/chat-1\\0, first conversation");
    assertTopicSequences(second, "on contact/chat-1\\0 after Released");
    assert.equal(second[0].immediate, true);
    // One run: every event carries the run id Health reports.
    const { health } = await client.health();
    assert.notEqual(health.runId, 0n, "HealthStatus.run_id is 0");
    assert.ok(chat1.every((e) => e.runId === health.runId),
              "an event's run_id differs from HealthStatus.run_id");
  } finally {
    exact.close();
    family.close();
  }
});

step("pipelined_requests_matched_by_request_id", async () => {
  // Many requests in flight on one DEALER, replies matched by request_id.
  // Each contact's GetContact is sent right behind its RouteContact without
  // waiting: requests about one contact take effect in the order sent,
  // whatever --workers (routing.fbs: Order), so it finds the contact.
  await platform.addAgent(chatAgent("pia", "pipelines"));
  const ids = Array.from({ length: 40 }, (_, i) => `pipe-${i}`);
  const inFlight = [];
  for (const id of ids) {
    inFlight.push(client.routeContact({
      id, channel: "Chat", requiredSkills: { pipelines: 1 },
      languages: ["en"],
    }));
    inFlight.push(client.getContact(id));
    inFlight.push(client.health());
  }
  const replies = await Promise.all(inFlight);
  const sent = new Set(replies.map((r) => r.requestId));
  assert.equal(sent.size, replies.length, "two replies share a request id");
  ids.forEach((id, i) => {
    const [routed, held, health] = replies.slice(3 * i, 3 * i + 3);
    assert.equal(routed.decision.contactId, id);
    assert.equal(routed.decision.outcome, "Queued");
    assert.equal(held.contact.id, id);
    assert.equal(held.contact.state, "Queued");
    assert.equal(health.health.serving, true);
    assert.ok(routed.requestId < held.requestId &&
              held.requestId < health.requestId);
  });
  // Routes of different contacts may run side by side on different
  // workers, so a decision's queue_position is only within 1..40; once all
  // are answered, the queue holds each once, in places 1..40.
  for (const r of replies.filter((reply) => reply.decision)) {
    assert.ok(r.decision.queuePosition >= 1 &&
              r.decision.queuePosition <= ids.length,
              `queue_position ${r.decision.queuePosition}`);
  }
  const queued = (await client.listContacts("pipelines")).contacts;
  assert.deepEqual(queued.map((c) => c.id).sort(), [...ids].sort());
  assert.deepEqual(queued.map((c) => c.queuePosition),
                   ids.map((_, i) => i + 1));
  await Promise.all(ids.map((id) => client.cancelContact(id)));
  assert.deepEqual((await client.listContacts("pipelines")).contacts, []);
});

step("idempotent_retry_replays_the_decision", async () => {
  await platform.addAgent(chatAgent("rita", "refunds"), "Available");
  const before = (await client.getStats()).stats.contactsHeld;
  const contact = {
    id: "conv-500", channel: "Chat", requiredSkills: { refunds: 1 },
    languages: ["en"], handoff: handoff(500),
  };
  const key = "bot-7/conversation-500/handover-1";
  const body = client.routeContactBody(contact);
  // The first attempt's reply is lost on its way back.
  await client.sendAndDrop(wire.RequestBody.RouteContact, body,
                           { requestId: 1_000_001, idempotencyKey: key });
  const deadline = Date.now() + 5000;
  while (client.droppedReplies === 0 && Date.now() < deadline) await sleep(10);
  assert.equal(client.droppedReplies, 1, "the first attempt was not answered");
  // The retry: same key and body, a new request id.
  const retry = await client.call(wire.RequestBody.RouteContact, body,
                                  { requestId: 1_000_002, idempotencyKey: key });
  assert.equal(retry.requestId, 1_000_002n);
  assert.equal(retry.replayed, true, "Reply.replayed is not set");
  assert.equal(retry.decision.outcome, "Assigned");
  assert.equal(retry.decision.agentId, "rita");
  assert.equal(retry.decision.contactId, "conv-500");
  // The contact is held once: one more than before, assigned to rita.
  assert.equal((await client.getStats()).stats.contactsHeld, before + 1);
  const { contact: held } = await client.getContact("conv-500");
  assert.equal(held.state, "Assigned");
  assert.equal(held.agentId, "rita");
  // Once more: the same stored reply, to the same decision.
  const again = await client.call(wire.RequestBody.RouteContact, body,
                                  { requestId: 1_000_003, idempotencyKey: key });
  assert.equal(again.replayed, true);
  assert.equal(again.decision.decidedAtUnixMs, retry.decision.decidedAtUnixMs);
  assert.equal(again.decision.placement, retry.decision.placement);
  // The same key with another body is refused; without a key the contact
  // is routed anew and refused as already held.
  await rejectsWith(client.routeContact({ ...contact, priority: 5 },
                                        { idempotencyKey: key }),
                    "InvalidArgument");
  await rejectsWith(client.routeContact(contact), "AlreadyExists");
  await platform.finish("conv-500");
});

step("unknown_request_type_is_unimplemented", async () => {
  // A request type from a newer schema than the daemon's: a union member
  // this daemon does not know (routing.fbs: Versioning).
  const kNewerRequestType = 99;
  const error = await rejectsWith(
      client.call(kNewerRequestType, (b) => {
        wire.Health.startHealth(b);
        return wire.Health.endHealth(b);
      }, { requestId: 1_000_101 }),
      "Unimplemented");
  assert.equal(error.requestId, 1_000_101n);
  // Nothing executed, and the daemon serves on.
  assert.equal((await client.health()).health.serving, true);
});

step("missing_required_field_is_named", async () => {
  // A Contact without its required id, as an encoder that does not enforce
  // `(required)` builds it: the generated Contact.endContact would refuse,
  // so the table is ended directly.
  const contact = { channel: "Chat", requiredSkills: { billing: 1 } };
  const error = await rejectsWith(
      client.call(wire.RequestBody.RouteContact, client.routeContactBody(
          contact, (b) => b.endObject()), { requestId: 1_000_102 }),
      "MalformedRequest");
  assert.equal(error.requestId, 1_000_102n, "the request id is not echoed");
  assert.match(error.detail, /RouteContact\.contact\.id/);
});

// Offers last long enough for an accept on a loaded machine; the lapse
// waits for one once.
const kOfferMs = 3000;

// A routingd whose chat assignments are offers, with a client, a
// subscriber confirmed on `topics`, and agents on `skill` (logged out).
async function withOffers(name, topics, agentIds, skill, run) {
  const daemon = await Daemon.start(name, [
    `--offer_timeout=chat=${kOfferMs}ms`, "--missed_offer_state=break",
  ]);
  const offers = new RoutingClient(daemon.server);
  const events = new EventSubscriber(daemon.events);
  try {
    await offers.addAgent({ id: kProbe, skills: { probe: 1 },
                            capacity: { Email: 1 } });
    for (const id of agentIds) await offers.addAgent(chatAgent(id, skill));
    events.subscribe(...topics);
    await events.confirmSubscriptions(offers, kProbe);
    await run(offers, events);
  } finally {
    events.close();
    offers.close();
    const status = await daemon.stop();
    assert.deepEqual(status, { code: 0, signal: null });
  }
}

step("reservations_reject_then_accept", async () => {
  await withOffers("routingd-offers", [
    EventSubscriber.contactTopic("offer-1"),
    EventSubscriber.contactTopic("offer-2"),
    EventSubscriber.agentTopic("carol"),
  ], ["carol", "dave"], "sales", async (offers, events) => {
    await offers.setAgentState("carol", "Available");
    const route = (id, n) => offers.routeContact({
      id, channel: "Chat", requiredSkills: { sales: 1 }, languages: ["en"],
      handoff: handoff(n),
    });
    // offer-1 is offered to carol; offer-2 waits behind it.
    const sentAt = Date.now();
    const first = (await route("offer-1", 601)).decision;
    assert.equal(first.outcome, "Assigned");
    assert.equal(first.agentId, "carol");
    assert.equal(first.offered, true, "Decision.offered is not set");
    const expires = Number(first.offerExpiresAtUnixMs);
    assert.ok(expires >= sentAt + kOfferMs - 1000 &&
              expires <= Date.now() + kOfferMs + 1000,
              `offer_expires_at_unix_ms ${expires} is not about ${
                  kOfferMs} ms ahead`);
    const offeredInfo = (await offers.getContact("offer-1")).contact;
    assert.equal(offeredInfo.state, "Offered");
    assert.equal(offeredInfo.agentId, "carol");
    assert.equal(offeredInfo.offerExpiresAtUnixMs, first.offerExpiresAtUnixMs);
    // Service order compares arrival in whole milliseconds, then by when a
    // contact was placed (routing/internal/contact_record.h): a rejected
    // offer is placed anew, so it is first in line again only over
    // contacts that arrived in a later millisecond. Without this pause the
    // three calls above can all fall in one millisecond with offer-2's.
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal((await route("offer-2", 602)).decision.outcome, "Queued");
    const offered = await events.next(
        (e) => e.topic === "contact/offer-1\0" && e.type === "ContactAssigned",
        "offer-1 offered");
    assert.equal(offered.offered, true);
    assert.equal(offered.immediate, true);
    assert.deepEqual(offered.context, handoff(601));

    // carol's platform rejects: offer-1 goes back first in line, placed
    // anew, and carol on break (--missed_offer_state). The reply is the new
    // decision (sidecar/README.md: Reservations).
    const { decision: again } = await offers.rejectOffer("offer-1", "carol");
    assert.equal(again.outcome, "Queued");
    assert.equal(again.queuePosition, 1);
    const rejected = await events.next(
        (e) => e.topic === "contact/offer-1\0" && e.change === "Rejected",
        "offer-1 rejected");
    assert.equal(rejected.agentId, "carol");
    const back = (await offers.getContact("offer-1")).contact;
    assert.equal(back.state, "Queued");
    assert.equal(back.queuePosition, 1, "offer-1 lost its place");
    assert.ok(back.placement > offeredInfo.placement,
              "a rejected offer's contact is not placed anew");
    assert.equal((await offers.getContact("offer-2")).contact.queuePosition, 2);
    const missed = await events.next(
        (e) => e.topic === "agent/carol\0" && e.type === "AgentStateChanged" &&
               e.reason === "MissedOffer", "carol's missed offer");
    assert.equal(missed.state, "Break");
    const carol = (await offers.listAgents()).agents.find((a) => a.id === "carol");
    assert.equal(carol.state, "Break");

    // dave becomes available: offered offer-1 from its queue, and accepts.
    const mark = events.events.length;
    await offers.setAgentState("dave", "Available");
    const toDave = await events.next(
        (e) => e.topic === "contact/offer-1\0" && e.type === "ContactAssigned",
        "offer-1 offered to dave", 5000, mark);
    assert.equal(toDave.agentId, "dave");
    assert.equal(toDave.offered, true);
    assert.equal(toDave.immediate, false);
    assert.deepEqual(toDave.context, handoff(601));
    // An offer is accepted by the agent it was made to.
    await rejectsWith(offers.acceptOffer("offer-1", "carol"),
                      "FailedPrecondition");
    assert.equal((await offers.acceptOffer("offer-1", "dave")).ack, true);
    await events.next(
        (e) => e.topic === "contact/offer-1\0" && e.change === "Accepted",
        "offer-1 accepted");
    const accepted = (await offers.getContact("offer-1")).contact;
    assert.equal(accepted.state, "Assigned");
    assert.equal(accepted.agentId, "dave");
    // Accepting twice is refused: it is no longer an offer.
    await rejectsWith(offers.acceptOffer("offer-1", "dave"),
                      "FailedPrecondition");

    // A returned offer is followed by Queued (routing.fbs: ContactChange).
    assert.deepEqual(lifecycle(contactEvents(events, "offer-1")),
                     ["Offered", "Rejected", "Queued", "Offered", "Accepted"]);
    assertTopicSequences(contactEvents(events, "offer-1"),
                         "on contact/offer-1\\0");
    await offers.cancelContact("offer-2");
    await offers.releaseContact("offer-1");
  });
});

step("reservations_offer_lapses", async () => {
  await withOffers("routingd-lapses", [
    EventSubscriber.contactTopic("offer-3"),
    EventSubscriber.agentTopic("erin"),
  ], ["erin"], "renewals", async (offers, events) => {
    await offers.setAgentState("erin", "Available");
    const { decision } = await offers.routeContact({
      id: "offer-3", channel: "Chat", requiredSkills: { renewals: 1 },
      languages: ["en"], handoff: handoff(603),
    });
    assert.equal(decision.offered, true);
    assert.equal(decision.agentId, "erin");
    // Nobody answers: the offer lapses, erin goes on break, and the
    // contact is back first in its queue, placed anew.
    const expired = await events.next(
        (e) => e.topic === "contact/offer-3\0" && e.change === "OfferExpired",
        "offer-3's offer expired", kOfferMs + 5000);
    assert.equal(expired.agentId, "erin");
    assert.equal(expired.placement, decision.placement,
                 "OfferExpired does not carry the placement it ends");
    assert.ok(Date.now() >= Number(decision.offerExpiresAtUnixMs) - 50,
              "the offer lapsed before its deadline");
    const missed = await events.next(
        (e) => e.topic === "agent/erin\0" && e.reason === "MissedOffer",
        "erin's missed offer");
    assert.equal(missed.state, "Break");
    const lapsed = (await offers.getContact("offer-3")).contact;
    assert.equal(lapsed.state, "Queued");
    assert.equal(lapsed.queuePosition, 1);
    assert.ok(lapsed.placement > decision.placement,
              "a lapsed offer's contact is not placed anew");
    await rejectsWith(offers.acceptOffer("offer-3", "erin"),
                      "FailedPrecondition");
    // sidecar/README.md: a lapsed offer is OfferExpired, "then the new
    // offer if any"; nobody else serves renewals, so nothing follows.
    assert.deepEqual(lifecycle(contactEvents(events, "offer-3")),
                     ["Offered", "OfferExpired"]);
    assertTopicSequences(contactEvents(events, "offer-3"),
                         "on contact/offer-3\\0");
    await offers.cancelContact("offer-3");
  });
});

step("resync_after_daemon_restart", async () => {
  await platform.addAgent(chatAgent("lena", "loans"), "Available");
  await platform.addAgent(chatAgent("leo", "loans"));
  const contact = (id) => ({
    id, channel: "Chat", requiredSkills: { loans: 1 }, languages: ["en"],
    handoff: handoff(Number(id.slice(5))),
  });
  assert.equal((await platform.handOver(contact("conv-700"))).decision.agentId,
               "lena");
  assert.equal((await platform.handOver(contact("conv-701"))).decision.outcome,
               "Queued");
  const before = (await client.health()).health.runId;
  assert.notEqual(before, 0n, "HealthStatus.run_id is 0");
  const events = new EventSubscriber(main.events);
  const restarts = [];
  client.onRunChanged = (from, to) => restarts.push(["client", from, to]);
  events.onRunChanged = (from, to) => restarts.push(["events", from, to]);
  try {
    events.subscribe(EventSubscriber.contactTopic("conv-701"));
    await events.confirmSubscriptions(client, kProbe);
    assert.equal(events.runId, before);

    // SIGTERM, then a new routingd on the same endpoints. The client keeps
    // its sockets: libzmq reconnects them.
    assert.deepEqual(await main.stop(), { code: 0, signal: null });
    main = await Daemon.start("routingd-restarted", main.flags, main.ports);

    const after = (await client.health()).health.runId;
    assert.notEqual(after, before, "run_id did not change across a restart");
    assert.deepEqual(restarts, [["client", before, after]]);
    // The new daemon holds nothing of the old one's.
    await rejectsWith(client.getContact("conv-700"), "NotFound");
    assert.deepEqual((await client.listContacts()).contacts, []);
    assert.deepEqual((await client.listAgents()).agents, []);

    // The subscriber's socket reconnects on its own, but an event published
    // before it has would be lost: confirm the subscription on the new
    // daemon first (its probe agent is gone with the old one's roster).
    await client.addAgent({ id: kProbe, skills: { probe: 1 },
                            capacity: { Email: 1 } });
    await events.confirmSubscriptions(client, kProbe);
    // Resync: the roster, then the open conversations in handover order.
    const decisions = await platform.resync();
    const byId = Object.fromEntries(decisions.map((d) => [d.contactId, d]));
    assert.equal(byId["conv-700"].outcome, "Assigned");
    assert.equal(byId["conv-700"].agentId, "lena");
    assert.equal(byId["conv-701"].outcome, "Queued");
    assert.equal((await client.getContact("conv-700")).contact.agentId, "lena");
    const waiting = (await client.listContacts("loans")).contacts;
    assert.deepEqual(waiting.map((c) => [c.id, c.queuePosition]),
                     [["conv-701", 1]]);
    const roster = (await client.listAgents()).agents.map((a) => a.id)
                                                    .filter((id) => id !== kProbe);
    assert.deepEqual(roster.sort(), [...platform.agents.keys()].sort());

    // The subscriber learns of the restart from the first event of the new
    // run, whose sequences start again.
    const queued = await events.next(
        (e) => e.topic === "contact/conv-701\0" && e.runId === after,
        "conv-701 in the new run");
    assert.equal(queued.change, "Queued");
    assert.equal(queued.topicSequence, 1n);
    assert.deepEqual(restarts[1], ["events", before, after]);
  } finally {
    client.onRunChanged = null;
    events.close();
  }
});

// --- Runner -----------------------------------------------------------------

function xmlEscape(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;")
                  .replace(/>/g, "&gt;").replace(/"/g, "&quot;")
                  // XML 1.0 cannot carry control characters, the topics' NUL.
                  .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g,
                           (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

function writeJUnit(results, seconds) {
  const file = process.env.XML_OUTPUT_FILE;
  if (!file) return;
  const failures = results.filter((r) => r.status === "failed").length;
  const skipped = results.filter((r) => r.status === "pending").length;
  const cases = results.map((r) => {
    const open = `    <testcase classname="third_party_client.chatbot_handoff" ` +
        `name="${xmlEscape(r.name)}" time="${r.seconds.toFixed(3)}"`;
    if (r.status === "passed") return `${open}/>`;
    const inner = r.status === "failed"
        ? `<failure message="${xmlEscape(r.message)}"/>`
        : `<skipped message="${xmlEscape(`pending: ${r.pending}: ${r.message}`)}"/>`;
    return `${open}>${inner}</testcase>`;
  });
  fs.writeFileSync(file, [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites><testsuite name="chatbot_handoff" tests="${results.length}" ` +
        `failures="${failures}" skipped="${skipped}" time="${seconds.toFixed(3)}">`,
    ...cases,
    "  </testsuite></testsuites>", "",
  ].join("\n"));
}

async function main_() {
  if (!ROUTINGD) throw new Error("ROUTINGD must name the routingd binary");
  const unknown = Object.keys(PENDING).filter(
      (name) => !steps.some((s) => s.name === name));
  if (unknown.length) throw new Error(`PENDING names no step: ${unknown}`);
  const started = Date.now();
  // Two workers: replies may overtake one another, and requests about one
  // contact must still take effect in the order sent.
  main = await Daemon.start("routingd", ["--workers=2"]);
  client = new RoutingClient(main.server);
  platform = new ChatbotPlatform(client);
  await client.addAgent({ id: kProbe, skills: { probe: 1 },
                          capacity: { Email: 1 } });
  const results = [];
  const stale = [];  // listed as pending, yet passing
  for (const { name, run } of steps) {
    const t0 = Date.now();
    let error = null;
    try {
      await run();
    } catch (e) {
      error = e;
    }
    const seconds = (Date.now() - t0) / 1000;
    const pending = PENDING[name] && PENDING[name].waitsFor;
    const message = error ? String(error.message || error).split("\n")
        .slice(0, 3).join(" | ") : "";
    let status;
    if (!error) {
      status = "passed";
    } else if (pending && message.includes(PENDING[name].failsWith)) {
      status = "pending";
    } else {
      status = "failed";
    }
    results.push({ name, status, seconds, pending, message });
    const label = { passed: "ok     ", failed: "FAILED ", pending: "PENDING" }[status];
    console.log(`${label} ${name} (${seconds.toFixed(2)} s)`);
    if (status === "failed") {
      console.log(`        ${error.stack || error}`);
      if (pending) {
        console.log(`        (listed as pending, but its failure was to be: ${
            PENDING[name].failsWith})`);
      }
    }
    if (status === "pending") {
      console.log(`        waits for: ${pending}`);
      console.log(`        fails now with: ${message}`);
    }
    if (pending && !error) {
      console.log(`        PENDING LIST OUT OF DATE: passes now; take it ` +
                  `off PENDING (was: ${pending})`);
      stale.push(name);
    }
  }
  client.close();
  const status = await main.stop();
  const seconds = (Date.now() - started) / 1000;
  if (status.code !== 0) {
    const message = `routingd ended with ${JSON.stringify(status)} on SIGTERM: ${
        main.stderr().trim()}`;
    results.push({ name: "routingd_exits_0_on_sigterm", status: "failed",
                   seconds: 0, message });
    console.log(`FAILED  routingd_exits_0_on_sigterm\n        ${message}`);
  }
  writeJUnit(results, seconds);
  const count = (s) => results.filter((r) => r.status === s).length;
  const pendingNames = results.filter((r) => r.status === "pending")
                              .map((r) => r.name);
  console.log(`pending: [${pendingNames.join(", ")}]`);
  if (stale.length) {
    console.log(`listed as pending but passing (take them off PENDING): [${
        stale.join(", ")}]`);
  }
  console.log(`${count("passed")} passed, ${count("failed")} failed, ` +
              `${count("pending")} skipped`);
  return count("failed") === 0 ? 0 : 1;
}

main_().then((code) => process.exit(code), (error) => {
  console.error(error.stack || error);
  process.exit(1);
});

// File: tests/third_party_client/routing_client.js
//
// A client of routingd written the way an outside vendor would write one:
// from sidecar/routing.fbs and sidecar/README.md only, in JavaScript on
// Node, with npm's `zeromq` (v6) and `flatbuffers` and the wire code that
// flatc generates from the schema (`flatc --ts`, compiled by tsc). It shares
// nothing with the project's own C++ and Python clients.
//
//   const { RoutingClient, EventSubscriber } = require("./routing_client");
//   const client = new RoutingClient("tcp://127.0.0.1:5555");
//   await client.addAgent({ id: "alice", skills: { billing: 5 },
//                           languages: { en: 5 }, capacity: { Chat: 2 } });
//   const { decision } = await client.routeContact({
//     id: "chat-1", channel: "Chat", requiredSkills: { billing: 2 },
//     handoff: { intent: "billing.dispute", summary: "charged twice" } });
//   const events = new EventSubscriber("tcp://127.0.0.1:5556");
//   events.subscribe(EventSubscriber.contactTopic("chat-1"));  // ends in \0
//
// Contract (routing.fbs): requests go out on one DEALER socket, each a
// finished `Request` (identifier "RTSC", protocol_version 1) with a request
// id this client chooses; many may be in flight, and replies are matched by
// the echoed request_id whatever order they come back in. Events arrive on
// a SUB socket as [topic, Event]; every topic ends with a NUL byte.
//
// Errors: a reply carrying `Error` rejects with RoutingError (code named as
// in the schema's ErrorCode, message as sent, requestId echoed); no reply
// within the timeout rejects with RequestTimeout. The daemon's run id, read
// from every HealthStatus and Event, is kept in `runId`: when it changes the
// daemon restarted and lost its state (`onRunChanged` is told).
// Thread-safety: Node is single-threaded; one client may have any number of
// requests in flight from any number of async callers.
"use strict";

const flatbuffers = require("flatbuffers");
const zmq = require("zeromq");
// flatc 2.0.8's index module (routing_generated) leaves out the tables no
// other table refers to, Reply and Event; their own modules have them.
const wire = {
  ...require("./wire/routing_generated"),
  ...require("./wire/routing/sidecar/wire/reply"),
  ...require("./wire/routing/sidecar/wire/event"),
};

const kProtocolVersion = 1;  // routing.fbs: "Must be 1".
const kFileIdentifier = "RTSC";

class RoutingError extends Error {
  constructor(code, message, requestId) {
    super(`${code}: ${message}`);
    this.code = code;  // "InvalidArgument", "NotFound", ... (wire.ErrorCode).
    this.detail = message;
    this.requestId = requestId;
  }
}

class RequestTimeout extends Error {}

// Enum values by name, so callers write "Chat" or "Available".
function enumValue(enumType, name) {
  if (typeof name === "number") return name;
  const value = enumType[name];
  if (value === undefined) throw new TypeError(`unknown value ${name}`);
  return value;
}

function stringVector(b, createVector, strings) {
  return createVector(b, (strings || []).map((s) => b.createString(s)));
}

function keyValues(b, entries) {
  return Object.entries(entries || {}).map(([key, value]) =>
    wire.KeyValue.createKeyValue(b, b.createString(key),
                                 b.createString(String(value))));
}

function skills(b, levels) {
  return Object.entries(levels || {}).map(([name, level]) =>
    wire.Skill.createSkill(b, b.createString(name), level));
}

function agentProfile(b, agent) {
  const id = b.createString(agent.id);
  const skillVector =
      wire.AgentProfile.createSkillsVector(b, skills(b, agent.skills));
  const languages = wire.AgentProfile.createLanguagesVector(
      b, Object.entries(agent.languages || {}).map(([tag, fluency]) =>
        wire.Language.createLanguage(b, b.createString(tag), fluency)));
  const capacity = wire.AgentProfile.createCapacityVector(
      b, Object.entries(agent.capacity || {}).map(([channel, contacts]) =>
        wire.ChannelCapacity.createChannelCapacity(
            b, enumValue(wire.ChannelKind, channel), contacts)));
  wire.AgentProfile.startAgentProfile(b);
  wire.AgentProfile.addId(b, id);
  wire.AgentProfile.addSkills(b, skillVector);
  wire.AgentProfile.addLanguages(b, languages);
  wire.AgentProfile.addCapacity(b, capacity);
  wire.AgentProfile.addMaxTotalContacts(b, agent.maxTotalContacts || 0);
  return wire.AgentProfile.endAgentProfile(b);
}

function handoffContext(b, handoff) {
  const text = (s) => (s === undefined ? 0 : b.createString(s));
  const intent = text(handoff.intent);
  const language = text(handoff.language);
  const sentiment = text(handoff.sentiment);
  const summary = text(handoff.summary);
  const customerId = text(handoff.customerId);
  const attributes = wire.HandoffContext.createAttributesVector(
      b, keyValues(b, handoff.attributes));
  return wire.HandoffContext.createHandoffContext(
      b, intent, language, sentiment, summary, customerId, attributes);
}

// Builds a Contact table. `endTable` defaults to the generated
// Contact.endContact, which refuses a contact without its required id.
function contactTable(b, contact, endTable = wire.Contact.endContact) {
  const id = contact.id === undefined ? 0 : b.createString(contact.id);
  const queue = contact.queue ? b.createString(contact.queue) : 0;
  const required = wire.Contact.createRequiredSkillsVector(
      b, skills(b, contact.requiredSkills));
  const languages = stringVector(b, wire.Contact.createLanguagesVector,
                                 contact.languages);
  const customerId =
      contact.customerId ? b.createString(contact.customerId) : 0;
  const handoff = contact.handoff ? handoffContext(b, contact.handoff) : 0;
  wire.Contact.startContact(b);
  if (id) wire.Contact.addId(b, id);
  wire.Contact.addChannel(b, enumValue(wire.ChannelKind,
                                       contact.channel || "Chat"));
  if (queue) wire.Contact.addQueue(b, queue);
  wire.Contact.addRequiredSkills(b, required);
  wire.Contact.addLanguages(b, languages);
  wire.Contact.addPriority(b, contact.priority || 0);
  if (customerId) wire.Contact.addCustomerId(b, customerId);
  if (handoff) wire.Contact.addHandoff(b, handoff);
  return endTable(b);
}

function decodeKeyValues(table, count) {
  const out = {};
  for (let i = 0; i < count; i++) {
    const kv = table(i);
    out[kv.key()] = kv.value();
  }
  return out;
}

function decodeHandoff(context) {
  if (!context) return null;
  return {
    intent: context.intent(),
    language: context.language(),
    sentiment: context.sentiment(),
    summary: context.summary(),
    customerId: context.customerId(),
    attributes: decodeKeyValues((i) => context.attributes(i),
                                context.attributesLength()),
  };
}

function decodeDecision(d) {
  return {
    contactId: d.contactId(),
    outcome: wire.DecisionOutcome[d.outcome()],  // "Assigned" | "Queued"
    queue: d.queue(),
    channel: wire.ChannelKind[d.channel()],
    agentId: d.agentId(),
    score: d.score(),
    queuePosition: d.queuePosition(),
    decidedAtUnixMs: d.decidedAtUnixMs(),
    policyVersion: d.policyVersion(),
    offered: d.offered(),
    offerExpiresAtUnixMs: d.offerExpiresAtUnixMs(),
    placement: d.placement(),
  };
}

function decodeContactInfo(c) {
  return {
    id: c.id(),
    queue: c.queue(),
    channel: wire.ChannelKind[c.channel()],
    state: wire.ContactStateKind[c.state()],  // "Queued" | "Assigned" | "Offered"
    customerId: c.customerId(),
    queuePosition: Number(c.queuePosition()),
    agentId: c.agentId(),
    offerExpiresAtUnixMs: c.offerExpiresAtUnixMs(),
    placement: c.placement(),
  };
}

function decodeAgentInfo(a) {
  const load = {};
  for (let i = 0; i < a.loadLength(); i++) {
    const l = a.load(i);
    load[wire.ChannelKind[l.channel()]] = l.contacts();
  }
  return { id: a.id(), state: wire.AgentStateKind[a.state()], load };
}

// The reply body as a plain object, by its union type.
function decodeReplyBody(reply) {
  const type = reply.bodyType();
  switch (type) {
    case wire.ReplyBody.Ack:
      return { ack: true };
    case wire.ReplyBody.Decision:
      return { decision: decodeDecision(reply.body(new wire.Decision())) };
    case wire.ReplyBody.HealthStatus: {
      const h = reply.body(new wire.HealthStatus());
      return {
        health: {
          serving: h.serving(),
          protocolVersion: h.protocolVersion(),
          runId: h.runId(),
        },
      };
    }
    case wire.ReplyBody.ContactInfo:
      return { contact: decodeContactInfo(reply.body(new wire.ContactInfo())) };
    case wire.ReplyBody.ContactList: {
      const list = reply.body(new wire.ContactList());
      const contacts = [];
      for (let i = 0; i < list.contactsLength(); i++) {
        contacts.push(decodeContactInfo(list.contacts(i)));
      }
      return { contacts, truncated: list.truncated() };
    }
    case wire.ReplyBody.AgentList: {
      const list = reply.body(new wire.AgentList());
      const agents = [];
      for (let i = 0; i < list.agentsLength(); i++) {
        agents.push(decodeAgentInfo(list.agents(i)));
      }
      return { agents };
    }
    case wire.ReplyBody.Stats: {
      const s = reply.body(new wire.Stats());
      return {
        stats: {
          decisions: Number(s.decisions()),
          contactsHeld: Number(s.contactsHeld()),
          agents: Number(s.agents()),
        },
      };
    }
    default:
      return { unknownBodyType: type };
  }
}

// The event as a plain object: its envelope and its body by union type.
function decodeEvent(topic, frame) {
  const bb = new flatbuffers.ByteBuffer(new Uint8Array(frame));
  if (!bb.__has_identifier(kFileIdentifier)) {
    throw new Error(`event on ${JSON.stringify(topic)} lacks identifier RTSC`);
  }
  const e = wire.Event.getRootAsEvent(bb);
  const out = {
    topic,
    protocolVersion: e.protocolVersion(),
    sequence: e.sequence(),
    runId: e.runId(),
    topicSequence: e.topicSequence(),
    familySequence: e.familySequence(),
    type: wire.EventBody[e.bodyType()],
  };
  switch (e.bodyType()) {
    case wire.EventBody.ContactAssigned: {
      const a = e.body(new wire.ContactAssigned());
      Object.assign(out, {
        contactId: a.contactId(),
        agentId: a.agentId(),
        queue: a.queue(),
        context: decodeHandoff(a.context()),
        attributes: decodeKeyValues((i) => a.attributes(i),
                                    a.attributesLength()),
        decision: a.decision() ? decodeDecision(a.decision()) : null,
        immediate: a.immediate(),
        offered: a.offered(),
        offerExpiresAtUnixMs: a.offerExpiresAtUnixMs(),
        placement: a.placement(),
      });
      break;
    }
    case wire.EventBody.ContactChanged: {
      const c = e.body(new wire.ContactChanged());
      Object.assign(out, {
        change: wire.ContactChange[c.change()],
        contactId: c.contactId(),
        agentId: c.agentId(),
        queue: c.queue(),
        placement: c.placement(),
        queuePosition: Number(c.queuePosition()),
        outcome: wire.Outcome[c.outcome()],
      });
      break;
    }
    case wire.EventBody.AgentStateChanged: {
      const s = e.body(new wire.AgentStateChanged());
      Object.assign(out, {
        agentId: s.agentId(),
        state: wire.AgentStateKind[s.state()],
        reason: wire.AgentStateReason[s.reason()],
      });
      break;
    }
    default:
      break;
  }
  return out;
}

// One line about a reply, for diagnostics.
function describeReply(reply) {
  let body = wire.ReplyBody[reply.bodyType()];
  if (reply.bodyType() === wire.ReplyBody.Error) {
    const error = reply.body(new wire.Error());
    body = `Error ${wire.ErrorCode[error.code()]}: ${error.message()}`;
  }
  return `request_id ${reply.requestId()}` +
      (reply.requestIdUnread() ? " (request_id_unread)" : "") + `, ${body}`;
}

class RoutingClient {
  // endpoint: routingd's --listen. timeoutMs: how long a request waits for
  // its reply before it rejects with RequestTimeout.
  constructor(endpoint, { timeoutMs = 5000 } = {}) {
    this.timeoutMs = timeoutMs;
    this.runId = null;
    this.onRunChanged = null;  // (oldRunId, newRunId) => void
    this.droppedReplies = 0;   // Replies to requests sent with sendAndDrop.
    this.nextRequestId = 1n;
    this.pending = new Map();  // request id (string) -> {resolve, reject, timer}
    this.dropped = new Set();  // request ids whose replies are ignored
    this.unmatchedReplies = [];  // descriptions of replies nobody awaited
    // Linger 0: a closing client does not hold the process for unsent
    // requests. Reconnects are libzmq's: a restarted daemon on the same
    // endpoint is reached again without a new socket.
    this.socket = new zmq.Dealer({ linger: 0, reconnectInterval: 100 });
    this.socket.connect(endpoint);
    this.sending = Promise.resolve();
    this.reading = this.readReplies();
  }

  async readReplies() {
    try {
      for await (const frames of this.socket) {
        this.dispatch(frames);
      }
    } catch (error) {
      if (!this.socket.closed) throw error;
    }
  }

  dispatch(frames) {
    // A DEALER gets the Reply as its only frame (routing.fbs: Envelope).
    if (frames.length !== 1) return;
    const bb = new flatbuffers.ByteBuffer(new Uint8Array(frames[0]));
    // Only the root type (Request) has bufferHasIdentifier in flatc's code.
    if (!bb.__has_identifier(kFileIdentifier)) return;
    const reply = wire.Reply.getRootAsReply(bb);
    const key = reply.requestId().toString();
    if (this.dropped.delete(key)) {
      this.droppedReplies++;
      return;
    }
    const waiter = this.pending.get(key);
    if (!waiter) {
      // Too late (its request timed out), or a reply no request of ours
      // matches: a request whose id the daemon could not read comes back
      // with id 0 (and request_id_unread). Kept for the caller to see.
      this.unmatchedReplies.push(describeReply(reply));
      return;
    }
    this.pending.delete(key);
    clearTimeout(waiter.timer);
    waiter.resolve(reply);
  }

  // Sends a finished Request buffer; resolves with the raw wire.Reply.
  sendBuffer(requestId, bytes) {
    const key = requestId.toString();
    if (this.pending.has(key) || this.dropped.has(key)) {
      return Promise.reject(new Error(`request id ${key} is already in flight`));
    }
    const replied = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(key);
        const unmatched = this.unmatchedReplies.slice(-1)[0];
        reject(new RequestTimeout(
            `no reply to request ${key} within ${this.timeoutMs} ms` +
            (unmatched ? `; the last unmatched reply: ${unmatched}` : "")));
      }, this.timeoutMs);
      this.pending.set(key, { resolve, reject, timer });
    });
    this.queueSend(bytes).catch((error) => {
      const waiter = this.pending.get(key);
      if (!waiter) return;
      this.pending.delete(key);
      clearTimeout(waiter.timer);
      waiter.reject(error);
    });
    return replied;
  }

  // zeromq allows one send in progress per socket: sends go out in the
  // order they were asked for, each after the previous one.
  queueSend(bytes) {
    const sent = this.sending.then(() => this.socket.send(bytes));
    this.sending = sent.catch(() => {});
    return sent;
  }

  // A Request of `bodyType` (a wire.RequestBody value, or any number: a
  // type from a newer schema) around the body that `buildBody(builder)`
  // adds. Returns {requestId, bytes}. Options: requestId (default: the next
  // of this client's own), idempotencyKey, protocolVersion.
  encode(bodyType, buildBody, options = {}) {
    const b = new flatbuffers.Builder(512);
    const body = buildBody(b);
    const key = options.idempotencyKey
        ? b.createString(options.idempotencyKey) : 0;
    const requestId = options.requestId !== undefined
        ? BigInt(options.requestId) : this.nextRequestId++;
    wire.Request.startRequest(b);
    wire.Request.addProtocolVersion(
        b, options.protocolVersion !== undefined ? options.protocolVersion
                                                 : kProtocolVersion);
    wire.Request.addRequestId(b, requestId);
    wire.Request.addBodyType(b, bodyType);
    wire.Request.addBody(b, body);
    if (key) wire.Request.addIdempotencyKey(b, key);
    wire.Request.finishRequestBuffer(b, wire.Request.endRequest(b));
    return { requestId, bytes: b.asUint8Array() };
  }

  // Sends one request and resolves with {requestId, replayed, ...body}, or
  // rejects with RoutingError for an Error reply.
  async call(bodyType, buildBody, options = {}) {
    const { requestId, bytes } = this.encode(bodyType, buildBody, options);
    const reply = await this.sendBuffer(requestId, bytes);
    return this.result(reply);
  }

  result(reply) {
    const requestId = reply.requestId();
    if (reply.bodyType() === wire.ReplyBody.Error) {
      const error = reply.body(new wire.Error());
      throw new RoutingError(wire.ErrorCode[error.code()], error.message(),
                             requestId);
    }
    const body = decodeReplyBody(reply);
    if (body.health) this.noteRunId(body.health.runId);
    return { requestId, replayed: reply.replayed(), ...body };
  }

  // Sends a request whose reply this client will ignore when it comes: a
  // reply lost on its way back, as far as the caller can tell. Resolves once
  // the request is on its way, with its request id.
  async sendAndDrop(bodyType, buildBody, options = {}) {
    const { requestId, bytes } = this.encode(bodyType, buildBody, options);
    if (this.pending.has(requestId.toString())) {
      throw new Error(`request id ${requestId} is already in flight`);
    }
    this.dropped.add(requestId.toString());
    await this.queueSend(bytes);
    return requestId;
  }

  noteRunId(runId) {
    if (this.runId !== null && runId !== this.runId && this.onRunChanged) {
      this.onRunChanged(this.runId, runId);
    }
    this.runId = runId;
  }

  // --- One method per request type (routing.fbs RequestBody) -------------

  health(options) {
    return this.call(wire.RequestBody.Health, (b) => {
      wire.Health.startHealth(b);
      return wire.Health.endHealth(b);
    }, options);
  }

  // agent: {id, skills: {name: level}, languages: {tag: fluency},
  //         capacity: {Chat: n, Voice: n, ...}, maxTotalContacts}
  addAgent(agent, options) {
    return this.call(wire.RequestBody.AddAgent, (b) =>
      wire.AddAgent.createAddAgent(b, agentProfile(b, agent)), options);
  }

  setAgentState(agentId, state, options) {
    return this.call(wire.RequestBody.SetAgentState, (b) =>
      wire.SetAgentState.createSetAgentState(
          b, b.createString(agentId), enumValue(wire.AgentStateKind, state)),
    options);
  }

  listAgents(options) {
    return this.call(wire.RequestBody.ListAgents, (b) => {
      wire.ListAgents.startListAgents(b);
      return wire.ListAgents.endListAgents(b);
    }, options);
  }

  routeContactBody(contact, endTable) {
    return (b) => wire.RouteContact.createRouteContact(
        b, contactTable(b, contact, endTable), false);
  }

  // contact: {id, channel, queue, requiredSkills, languages, priority,
  //           customerId, handoff: {intent, language, sentiment, summary,
  //           customerId, attributes}}
  routeContact(contact, options) {
    return this.call(wire.RequestBody.RouteContact,
                     this.routeContactBody(contact), options);
  }

  cancelContact(contactId, options) {
    return this.call(wire.RequestBody.CancelContact, (b) =>
      wire.CancelContact.createCancelContact(b, b.createString(contactId)),
    options);
  }

  releaseContact(contactId, outcome = "Resolved", options) {
    return this.call(wire.RequestBody.ReleaseContact, (b) =>
      wire.ReleaseContact.createReleaseContact(
          b, b.createString(contactId), enumValue(wire.Outcome, outcome),
          null, null), options);
  }

  getContact(contactId, options) {
    return this.call(wire.RequestBody.GetContact, (b) =>
      wire.GetContact.createGetContact(b, b.createString(contactId)),
    options);
  }

  listContacts(queue = "", options) {
    return this.call(wire.RequestBody.ListContacts, (b) =>
      wire.ListContacts.createListContacts(b, b.createString(queue), 1000),
    options);
  }

  getStats(options) {
    return this.call(wire.RequestBody.GetStats, (b) =>
      wire.GetStats.createGetStats(b, 300), options);
  }

  acceptOffer(contactId, agentId, options) {
    return this.call(wire.RequestBody.AcceptOffer, (b) =>
      wire.AcceptOffer.createAcceptOffer(
          b, b.createString(contactId), agentId ? b.createString(agentId) : 0),
    options);
  }

  rejectOffer(contactId, agentId, options) {
    return this.call(wire.RequestBody.RejectOffer, (b) =>
      wire.RejectOffer.createRejectOffer(
          b, b.createString(contactId), agentId ? b.createString(agentId) : 0),
    options);
  }

  close() {
    for (const waiter of this.pending.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error("client closed"));
    }
    this.pending.clear();
    this.socket.close();
  }
}

// Events from routingd's PUB socket, kept in arrival order so that a caller
// can wait for one that matches and then inspect everything that came.
class EventSubscriber {
  // The exact topics (routing.fbs: every topic ends with NUL).
  static contactTopic(id) { return `contact/${id}\0`; }
  static queueTopic(name) { return `queue/${name}\0`; }
  static agentTopic(id) { return `agent/${id}\0`; }

  constructor(endpoint) {
    this.socket = new zmq.Subscriber({ linger: 0, reconnectInterval: 100 });
    this.socket.connect(endpoint);
    this.events = [];
    this.waiters = [];
    this.runId = null;
    this.onRunChanged = null;  // (oldRunId, newRunId) => void
    this.reading = this.read();
  }

  subscribe(...topics) { this.socket.subscribe(...topics); }
  unsubscribe(...topics) { this.socket.unsubscribe(...topics); }

  async read() {
    try {
      for await (const [topic, frame] of this.socket) {
        const event = decodeEvent(topic.toString("latin1"), frame);
        if (this.runId !== null && event.runId !== this.runId &&
            this.onRunChanged) {
          this.onRunChanged(this.runId, event.runId);
        }
        this.runId = event.runId;
        this.events.push(event);
        this.waiters = this.waiters.filter((w) => !w.offer(event));
      }
    } catch (error) {
      if (!this.socket.closed) throw error;
    }
  }

  // Resolves with the first event (already received or to come) for which
  // `match(event)` holds; rejects after timeoutMs naming `what`.
  next(match, what, timeoutMs = 5000, from = 0) {
    const seen = this.events.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        offer: (event) => {
          if (!match(event)) return false;
          clearTimeout(waiter.timer);
          resolve(event);
          return true;
        },
      };
      waiter.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new RequestTimeout(`no event ${what.replace(/\0/g, "\\0")} ` +
                                  `within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  // Makes sure the subscriptions made so far are in force at the daemon
  // (ZeroMQ gives no acknowledgment): subscribes to a probe agent's topic
  // after them and changes the probe agent's state through `client` until
  // its AgentStateChanged arrives. The daemon handles one connection's
  // subscriptions in order, so every earlier one is in force by then.
  async confirmSubscriptions(client, probeAgentId) {
    const topic = EventSubscriber.agentTopic(probeAgentId);
    this.subscribe(topic);
    const deadline = Date.now() + 10000;
    let state = "Break";
    for (;;) {
      const mark = this.events.length;
      state = state === "Break" ? "LoggedOut" : "Break";
      await client.setAgentState(probeAgentId, state);
      try {
        await this.next((e) => e.topic === topic, `on ${topic}`, 200, mark);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
    this.unsubscribe(topic);
  }

  close() {
    for (const waiter of this.waiters) clearTimeout(waiter.timer);
    this.waiters = [];
    this.socket.close();
  }
}

module.exports = {
  EventSubscriber,
  RequestTimeout,
  RoutingClient,
  RoutingError,
  contactTable,
  wire,
};

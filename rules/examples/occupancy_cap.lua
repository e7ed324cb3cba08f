-- occupancy_cap.lua: agent well-being.
--
-- Chat agents may hold up to three chats, but back-to-back concurrency wears
-- people out: an agent already holding two chats gets a third only if the
-- customer has waited more than 2 minutes. Agents above 85% occupancy are
-- spared new chats while anyone less loaded is free (score), and the
-- least-occupied, longest-idle agent wins ties.
local MAX_CHATS_NORMALLY = 2
local WAIT_BEFORE_THIRD_CHAT = 120  -- seconds
local HIGH_OCCUPANCY = 0.85

return {
  name = "occupancy-cap",

  eligible = function(contact, agent)
    if contact.channel ~= "chat" then return true end
    if load_on(agent, "chat") < MAX_CHATS_NORMALLY then return true end
    return contact.waited > WAIT_BEFORE_THIRD_CHAT
  end,

  score = function(contact, agent)
    local s = agent.skill_score + agent.load_score + agent.idle_score
    if agent.occupancy > HIGH_OCCUPANCY then s = s - 1 end
    return s - agent.occupancy
  end,

  tests = {
    {
      name = "a new chat goes to the agent with fewer chats",
      contact = { channel = "chat", skills = { support = 1 } },
      agents = {
        { id = "busy", skills = { support = 5 }, channels = { chat = 3 }, load = { chat = 1 }, idle = 0 },
        { id = "calm", skills = { support = 3 }, channels = { chat = 3 } },
      },
      expect = "calm",
    },
    {
      name = "no third chat for a fresh contact",
      contact = { channel = "chat", skills = { support = 1 }, waited = 10 },
      agents = {
        { id = "two", skills = { support = 5 }, channels = { chat = 3 }, load = { chat = 2 } },
      },
      expect = "queued",
    },
    {
      name = "a third chat once the customer has waited 2 minutes",
      contact = { channel = "chat", skills = { support = 1 }, waited = 130 },
      agents = {
        { id = "two", skills = { support = 5 }, channels = { chat = 3 }, load = { chat = 2 } },
      },
      expect = "two",
    },
    {
      -- The customer waits 100 s, is kept from a third chat, and gets it as
      -- soon as the wait passes 2 minutes (the host calls AdvanceQueues).
      name = "a third chat as soon as the customer has waited 2 minutes",
      contact = { channel = "chat", skills = { support = 1 }, waited = 100 },
      agents = {
        { id = "two", skills = { support = 5 }, channels = { chat = 3 }, load = { chat = 2 } },
      },
      expect = "queued",
      later = {
        { advance = 20, expect = "queued" },  -- 120 s: not yet
        { advance = 1, expect = "two" },      -- 121 s
      },
    },
    {
      name = "an agent above 85% occupancy is spared while a calmer one is free",
      contact = { channel = "chat", skills = { support = 1 } },
      agents = {
        { id = "hot", skills = { support = 5 }, channels = { chat = 3 }, occupancy = 0.9, idle = 600 },
        { id = "cool", skills = { support = 2 }, channels = { chat = 3 }, occupancy = 0.3 },
      },
      expect = "cool",
    },
    {
      name = "voice calls are not affected",
      contact = { channel = "voice", skills = { support = 1 } },
      agents = {
        { id = "ana", skills = { support = 2 }, channels = { voice = 1, chat = 3 }, load = { chat = 2 } },
      },
      expect = "ana",
    },
  },
}

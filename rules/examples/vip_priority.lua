-- vip_priority.lua: VIP lane before a launch.
--
-- Gold and platinum customers (the CRM puts the tier in the contact's
-- "tier" attribute) jump the queue and, for their first 30 seconds, go only
-- to senior agents (level 4+ in every skill the contact needs). After that
-- anyone qualified may take them: a VIP waiting is worse than a VIP served
-- by a junior.
local VIP_PRIORITY = { gold = 7, platinum = 9 }
local SENIOR_LEVEL = 4
local SENIOR_ONLY_FOR = 30  -- seconds

return {
  name = "vip-priority",

  -- Queue priority 0..9; each level is worth 30 s of waiting by default.
  priority = function(contact)
    return VIP_PRIORITY[attr(contact, "tier") or ""] or contact.priority
  end,

  eligible = function(contact, agent)
    -- No loop and no call to another function of this file: the JIT may
    -- compile this hook (`routing_rules check` lists the ones it may not).
    local vip = VIP_PRIORITY[attr(contact, "tier") or ""] ~= nil
    if not vip or contact.waited >= SENIOR_ONLY_FOR then
      return true
    end
    -- Senior in the skill the contact's queue is about.
    local needed = requires(contact, "billing")
    if needed > 0 then return skill(agent, "billing") >= SENIOR_LEVEL end
    return skill(agent, "sales") >= SENIOR_LEVEL or
           skill(agent, "support") >= SENIOR_LEVEL
  end,

  tests = {
    {
      name = "a platinum caller goes to the senior agent",
      contact = { skills = { billing = 1 }, attributes = { tier = "platinum" } },
      agents = {
        { id = "junior", skills = { billing = 2 }, idle = 300 },
        { id = "senior", skills = { billing = 5 } },
      },
      expect = "senior",
    },
    {
      name = "a platinum caller waits for a senior for 30 s",
      contact = { skills = { billing = 1 }, attributes = { tier = "platinum" }, waited = 10 },
      agents = {
        { id = "junior", skills = { billing = 2 } },
        { id = "senior", skills = { billing = 5 }, state = "busy" },
      },
      expect = "queued",
    },
    {
      name = "after 30 s a junior may take a platinum caller",
      contact = { skills = { billing = 1 }, attributes = { tier = "platinum" }, waited = 31 },
      agents = {
        { id = "junior", skills = { billing = 2 } },
        { id = "senior", skills = { billing = 5 }, state = "busy" },
      },
      expect = "junior",
    },
    {
      name = "ordinary callers go to whoever fits best",
      contact = { skills = { billing = 1 } },
      agents = {
        { id = "junior", skills = { billing = 2 }, idle = 300 },
        { id = "senior", skills = { billing = 3 } },
      },
      expect = "junior",
    },
  },
}

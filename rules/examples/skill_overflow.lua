-- skill_overflow.lua: overflow to a second skill by wait time.
--
-- Billing contacts wait up to 60 s for a billing agent. After 60 s they
-- overflow to agents with "general" at level 3+ (cross-trained generalists);
-- after 180 s to any generalist. A step's `skills` replaces the contact's
-- required skills, so from 60 s on a billing specialist without "general"
-- no longer qualifies: give specialists "general" too if they should stay
-- in the pool. The score keeps billing skill worth something.
return {
  name = "skill-overflow",

  steps = {
    { after = 0, name = "billing" },
    { after = 60, name = "generalists", skills = { general = 3 } },
    { after = 180, name = "anyone general", skills = { general = 1 } },
  },

  score = function(contact, agent)
    -- Prefer a real billing specialist whenever one is free.
    return agent.score + 0.2 * skill(agent, "billing")
  end,

  tests = {
    {
      name = "billing agents first",
      contact = { skills = { billing = 2 } },
      agents = {
        { id = "biller", skills = { billing = 3 } },
        { id = "generalist", skills = { general = 5 }, idle = 600 },
      },
      expect = "biller",
    },
    {
      name = "no billing agent free: waits until 60 s",
      contact = { skills = { billing = 2 }, waited = 30 },
      agents = {
        { id = "biller", skills = { billing = 3 }, state = "busy" },
        { id = "generalist", skills = { general = 5 } },
      },
      expect = "queued",
    },
    {
      name = "after 60 s it overflows to a generalist",
      contact = { skills = { billing = 2 }, waited = 75 },
      agents = {
        { id = "biller", skills = { billing = 3 }, state = "busy" },
        { id = "generalist", skills = { general = 4 } },
        { id = "novice", skills = { general = 1 } },
      },
      expect = "generalist",
    },
    {
      name = "after 180 s even a novice generalist",
      contact = { skills = { billing = 2 }, waited = 200 },
      agents = {
        { id = "biller", skills = { billing = 3 }, state = "busy" },
        { id = "novice", skills = { general = 1 } },
      },
      expect = "novice",
    },
  },
}

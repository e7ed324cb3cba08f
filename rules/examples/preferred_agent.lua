-- preferred_agent.lua: the customer's own agent first, with timed fallback
-- (like Amazon Connect's routing steps or Genesys' bullseye rings).
--
--   0-20 s   only the contact's preferred agents, or agents who served this
--            customer before;
--   20-60 s  the customer's account team (the CRM puts it in the contact's
--            "team" attribute; without one, anyone qualified);
--   60 s+    anyone with the required skills at level 3 or more, even if
--            the contact asked for more.
return {
  name = "preferred-agent",

  steps = {
    { after = 0, name = "own agent", preferred_only = true },
    { after = 20, name = "team" },
    { after = 60, name = "anyone at level 3+", min_level = 3 },
  },

  eligible = function(contact, agent)
    if contact.step ~= 2 then return true end
    local team = attr(contact, "team")
    return team == nil or agent.team == team or agent.preferred
  end,

  score = function(contact, agent)
    local s = agent.score
    if agent.preferred then s = s + 2 end
    if agent.resolved_before then
      s = s + 1
    elseif agent.served_before then
      s = s + 0.5
    end
    return s
  end,

  tests = {
    {
      name = "the preferred agent takes it even though less skilled",
      contact = { skills = { billing = 2 }, preferred = { "pat" } },
      agents = {
        { id = "pat", skills = { billing = 2 } },
        { id = "ace", skills = { billing = 5 }, idle = 600 },
      },
      expect = "pat",
    },
    {
      name = "while the preferred agent is busy, the contact waits 20 s",
      contact = { skills = { billing = 2 }, preferred = { "pat" }, waited = 5 },
      agents = {
        { id = "pat", skills = { billing = 2 }, state = "busy" },
        { id = "ace", skills = { billing = 5 } },
      },
      expect = "queued",
    },
    {
      name = "after 20 s the account team takes it",
      contact = { skills = { billing = 2 }, preferred = { "pat" }, waited = 25,
                  attributes = { team = "east" } },
      agents = {
        { id = "pat", skills = { billing = 2 }, team = "east", state = "busy" },
        { id = "ace", skills = { billing = 5 }, team = "west", idle = 600 },
        { id = "eve", skills = { billing = 3 }, team = "east" },
      },
      expect = "eve",
    },
    {
      name = "nobody from the account team free: waits until 60 s",
      contact = { skills = { billing = 2 }, preferred = { "pat" }, waited = 40,
                  attributes = { team = "east" } },
      agents = {
        { id = "pat", skills = { billing = 2 }, team = "east", state = "busy" },
        { id = "ace", skills = { billing = 5 }, team = "west" },
      },
      expect = "queued",
      later = { { advance = 20, expect = "ace" } },  -- 60 s: anyone at level 3+
    },
    {
      name = "after 60 s a level-3 agent may take a level-5 request",
      contact = { skills = { billing = 5 }, waited = 61 },
      agents = {
        { id = "mid", skills = { billing = 3 } },
        { id = "top", skills = { billing = 5 }, state = "break" },
      },
      expect = "mid",
    },
    {
      name = "queued for the busy preferred agent, then the account team at 20 s",
      contact = { skills = { billing = 2 }, preferred = { "pat" }, waited = 5,
                  attributes = { team = "east" } },
      agents = {
        { id = "pat", skills = { billing = 2 }, team = "east", state = "busy" },
        { id = "ace", skills = { billing = 5 }, team = "west", idle = 600 },
        { id = "eve", skills = { billing = 3 }, team = "east" },
      },
      expect = "queued",
      later = {
        { advance = 14, expect = "queued" },  -- 19 s
        { advance = 1, expect = "eve" },      -- 20 s: the team step
      },
    },
    {
      -- The customer's history: sam handled the last contact without
      -- resolving it, pat resolved the one before. Only they qualify for the
      -- first 20 s, and the resolver comes first.
      name = "a returning customer goes back to the agent who resolved the issue",
      contact = { skills = { billing = 2 }, customer = "cust-7",
                  history = {
                    { agent = "sam", outcome = "unresolved", ago = 600 },
                    { agent = "pat", outcome = "resolved", ago = 86400 },
                  } },
      agents = {
        { id = "pat", skills = { billing = 2 } },
        { id = "sam", skills = { billing = 4 }, idle = 600 },
        { id = "ace", skills = { billing = 5 }, idle = 3600 },
      },
      expect = "pat",
    },
    {
      -- agent.score includes the built-in occupancy component.
      name = "between two agents alike, the less occupied one",
      contact = { skills = { billing = 2 } },
      agents = {
        { id = "kim", skills = { billing = 3 }, occupancy = 0.9 },
        { id = "lee", skills = { billing = 3 }, occupancy = 0.3 },
      },
      expect = "lee",
    },
  },
}

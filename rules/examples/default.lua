-- default.lua: the engine's built-in policy, written out as a rules file.
--
-- Start here when writing your own. Every hook is optional; leave one out and
-- the built-in behaviour applies. docs/RULES.md lists every field and hook.
--
-- Each candidate agent arrives with the six built-in components already
-- computed (each 0..1):
--   skill_score      proficiency in the contact's required/desired skills
--   affinity_score   preferred agent, or served this customer before
--   language_score   fluency in the customer's preferred language
--   load_score       free share of the agent's capacity now
--   occupancy_score  1 - share of logged-in time spent handling
--   idle_score       time since the agent was last free (saturates at 5 min)
-- `weights` says how much each counts. These are the built-in weights.
return {
  name = "default",
  description = "The built-in policy: skill first, then affinity, language, idle time and load.",

  weights = {
    skill = 0.35,
    affinity = 0.25,
    language = 0.15,
    load = 0.10,
    occupancy = 0.05,
    idle = 0.10,
  },

  -- The file's own tests: run by `routing_rules test` and before every
  -- reload. A reload whose tests fail is refused; the old rules keep serving.
  tests = {
    {
      name = "the more proficient agent wins",
      contact = { skills = { billing = 2 } },
      agents = {
        { id = "ana", skills = { billing = 5 } },
        { id = "bo", skills = { billing = 2 } },
      },
      expect = "ana",
    },
    {
      name = "between equals, the longest idle wins",
      contact = { skills = { billing = 2 } },
      agents = {
        { id = "ana", skills = { billing = 3 }, idle = 30 },
        { id = "bo", skills = { billing = 3 }, idle = 240 },
      },
      expect = "bo",
    },
    {
      name = "nobody free with the skill: the contact queues",
      contact = { skills = { billing = 4 } },
      agents = {
        { id = "ana", skills = { billing = 5 }, state = "break" },
        { id = "bo", skills = { billing = 2 } },
      },
      expect = "queued",
    },
  },
}

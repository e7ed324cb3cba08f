-- language_first.lua: Spanish callers to bilingual agents first, with a
-- fallback.
--
-- For 45 seconds a contact goes only to agents who speak one of the
-- customer's languages, best fluency first. After 45 seconds the language
-- requirement is dropped (step 2): an English-speaking agent with an
-- interpreter line beats a customer who hangs up.
local FLUENT = 4  -- fluency 1..5

return {
  name = "language-first",

  steps = {
    { after = 0, name = "speakers only" },
    { after = 45, name = "anyone", languages = false },
  },

  -- Fluency dominates; skill and idle time break ties among speakers.
  score = function(contact, agent)
    local fluency = 0
    if contact.language ~= "" then fluency = speaks(agent, contact.language) end
    local bonus = 0
    if fluency >= FLUENT then bonus = 1 end
    return 2 * agent.language_score + bonus + agent.skill_score +
           0.5 * agent.idle_score
  end,

  tests = {
    {
      name = "a Spanish caller gets the native speaker over the better-skilled",
      contact = { skills = { billing = 1 }, languages = { "es", "en" } },
      agents = {
        { id = "native", skills = { billing = 2 }, languages = { es = 5, en = 4 } },
        { id = "expert", skills = { billing = 5 }, languages = { en = 5, es = 2 } },
      },
      expect = "native",
    },
    {
      name = "within 45 s a Spanish-only caller waits for a speaker",
      contact = { skills = { billing = 1 }, languages = { "es" }, waited = 20 },
      agents = {
        { id = "native", skills = { billing = 2 }, languages = { es = 5 }, state = "busy" },
        { id = "english", skills = { billing = 5 }, languages = { en = 5 } },
      },
      expect = "queued",
    },
    {
      name = "after 45 s anyone may take the caller",
      contact = { skills = { billing = 1 }, languages = { "es" }, waited = 50 },
      agents = {
        { id = "native", skills = { billing = 2 }, languages = { es = 5 }, state = "busy" },
        { id = "english", skills = { billing = 5 }, languages = { en = 5 } },
      },
      expect = "english",
    },
  },
}

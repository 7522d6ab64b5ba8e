-- The languages a rep writes (README "Languages"): a JSON list of ISO 639-1
-- codes, the first being the one they write by default. Empty: the team's
-- language only (SALES_AGENT_DEFAULT_LANGUAGE), as every rep wrote before.
ALTER TABLE reps ADD COLUMN languages TEXT NOT NULL DEFAULT '[]';

ALTER TABLE reps DROP COLUMN languages;

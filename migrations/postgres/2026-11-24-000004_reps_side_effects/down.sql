DROP TABLE side_effects;
DROP TABLE reps;

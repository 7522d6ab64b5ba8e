DROP TABLE voice_profiles;

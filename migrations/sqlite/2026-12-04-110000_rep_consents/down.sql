DROP INDEX rep_consents_expires;
DROP TABLE rep_consents;

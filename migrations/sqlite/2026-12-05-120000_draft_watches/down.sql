DROP INDEX draft_watches_due;
DROP TABLE draft_watches;

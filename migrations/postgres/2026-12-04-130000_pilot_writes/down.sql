DROP TABLE pilot_writes;

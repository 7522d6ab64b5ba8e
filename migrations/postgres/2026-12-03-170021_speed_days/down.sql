DROP TABLE speed_days;

DROP TABLE quota_leases;

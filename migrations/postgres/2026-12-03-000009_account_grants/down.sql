DROP TABLE account_grants;

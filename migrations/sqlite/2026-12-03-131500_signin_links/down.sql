DROP TABLE console_signin_links;

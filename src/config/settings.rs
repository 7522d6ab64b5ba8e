//! The table of every setting: variable, default, whether it is a secret, and its
//! meaning. Parsing, `--help` and the README all follow this one table.

/// One documented setting. [`SETTINGS`] is the single source for parsing,
/// `--help` and the README table.
pub struct Setting {
    pub name: &'static str,
    pub default: &'static str,
    pub secret: bool,
    pub help: &'static str,
}

const fn setting(name: &'static str, default: &'static str, help: &'static str) -> Setting {
    Setting {
        name,
        default,
        secret: false,
        help,
    }
}

const fn secret(name: &'static str, help: &'static str) -> Setting {
    Setting {
        name,
        default: "",
        secret: true,
        help,
    }
}

/// All settings. Keep README's configuration table in step with this list
/// (a test compares them).
pub const SETTINGS: &[Setting] = &[
    setting(
        "SALES_AGENT_CONFIG",
        "",
        "Optional TOML file with any of these variables as keys; the environment overrides it.",
    ),
    setting(
        "DATABASE_URL",
        "sqlite://data/sales-agent.db",
        "sqlite://PATH (file created on first run) or postgres://USER@HOST:PORT/DB.",
    ),
    setting(
        "SALES_AGENT_BIND",
        "127.0.0.1:8080",
        "host:port the HTTP server listens on.",
    ),
    setting(
        "SALES_AGENT_PUBLIC_URL",
        "http://<SALES_AGENT_BIND>",
        "Base URL HubSpot calls (scheme, host, optional path prefix); part of the v3 signature.",
    ),
    setting(
        "SALES_AGENT_TRUSTED_PROXIES",
        "",
        "Comma-separated addresses or CIDR ranges of the reverse proxies in front (e.g. Caddy's); only their X-Forwarded-For/-Proto/-Host are believed. Empty: none.",
    ),
    secret(
        "SALES_AGENT_HUBSPOT_CLIENT_SECRET",
        "App client secret that signs webhooks. Unset: every webhook is refused with 401.",
    ),
    secret(
        "SALES_AGENT_HUBSPOT_CLIENT_SECRET_PREVIOUS",
        "Previous client secret, still accepted while rotating.",
    ),
    setting(
        "SALES_AGENT_ALLOW_LEGACY_SIGNATURES",
        "false",
        "Also accept v1/v2 signatures (no timestamp, replayable).",
    ),
    setting(
        "SALES_AGENT_SIGNATURE_MAX_AGE_SECS",
        "300",
        "Reject v3 signatures whose timestamp is older than this.",
    ),
    setting(
        "SALES_AGENT_SIGNATURE_MAX_SKEW_SECS",
        "60",
        "Reject v3 signatures whose timestamp is further than this in the future.",
    ),
    setting(
        "SALES_AGENT_WEBHOOK_MAX_BODY_BYTES",
        "1048576",
        "Largest webhook body accepted; larger gets 413.",
    ),
    setting(
        "SALES_AGENT_WEBHOOK_BODY_TIMEOUT_SECS",
        "10",
        "A webhook body must arrive within this many seconds; slower gets 408 and the connection is closed.",
    ),
    setting(
        "SALES_AGENT_WEBHOOK_UNVERIFIED_BYTES",
        "8388608",
        "Body bytes all webhooks not yet verified may hold together; past it they get 503.",
    ),
    secret(
        "SALES_AGENT_ADMIN_TOKEN",
        "Bearer token for the admin API. Unset: the admin API refuses everyone.",
    ),
    secret(
        "SALES_AGENT_VIEWER_TOKEN",
        "Bearer token for read-only access to the admin API.",
    ),
    setting(
        "SALES_AGENT_CONSOLE_ADMINS",
        "",
        "Google accounts (emails, comma-separated) that sign in to the console as admins.",
    ),
    setting(
        "SALES_AGENT_CONSOLE_DOMAINS",
        "",
        "Google Workspace domains (the ID token's hd, comma-separated) whose users may sign in.",
    ),
    setting(
        "SALES_AGENT_CONSOLE_OTHERS",
        "viewer",
        "viewer or refuse: what other users of an allowed domain get at sign-in.",
    ),
    setting(
        "SALES_AGENT_CONSOLE_TOKEN_SIGNIN",
        "auto",
        "on, off or auto: the pasted-token (break-glass) sign-in; auto is off when the public URL is https.",
    ),
    secret(
        "SALES_AGENT_SECRET_KEY",
        "32-byte key (64 hex digits or base64) sealing every stored token; never stored by the service.",
    ),
    setting(
        "SALES_AGENT_SECRET_KEY_FILE",
        "",
        "File holding the secret key instead (e.g. a mounted secret); the variable wins.",
    ),
    secret(
        "SALES_AGENT_SECRET_KEY_PREVIOUS",
        "Earlier keys (comma-separated) that still open stored tokens while `rotate-key` reseals them.",
    ),
    setting(
        "SALES_AGENT_DB_POOL_SIZE",
        "8",
        "Database connections in the pool.",
    ),
    setting(
        "SALES_AGENT_DB_BUSY_TIMEOUT_MS",
        "5000",
        "SQLite busy timeout, and the pool's connection timeout.",
    ),
    setting(
        "SALES_AGENT_SUPERVISOR_POLL_SECS",
        "5",
        "How often the supervisor looks for runnable workflows.",
    ),
    setting(
        "SALES_AGENT_LOG_FORMAT",
        "text",
        "text (readable) or json (production).",
    ),
    setting(
        "SALES_AGENT_HUBSPOT_BASE_URL",
        "https://api.hubapi.com",
        "HubSpot API root (the sandbox's URL in tests and demos).",
    ),
    secret(
        "SALES_AGENT_HUBSPOT_TOKEN",
        "HubSpot private-app (or service key) bearer token for CRM calls.",
    ),
    secret(
        "SALES_AGENT_HUBSPOT_CLIENT_ID",
        "HubSpot app client id: with SALES_AGENT_HUBSPOT_CLIENT_SECRET, lets an admin install the app from /settings.",
    ),
    setting(
        "SALES_AGENT_HUBSPOT_AUTH_URL",
        "https://app.hubspot.com/oauth/authorize",
        "HubSpot's app-install (authorization) page.",
    ),
    setting(
        "SALES_AGENT_HUBSPOT_TOKEN_URL",
        "https://api.hubapi.com/oauth/v1/token",
        "HubSpot OAuth token endpoint (code and refresh-token grants).",
    ),
    setting(
        "SALES_AGENT_GMAIL_BASE_URL",
        "https://gmail.googleapis.com",
        "Gmail API root.",
    ),
    setting(
        "SALES_AGENT_GOOGLE_API_BASE_URL",
        "https://www.googleapis.com",
        "Google API root for Calendar and Drive.",
    ),
    setting(
        "SALES_AGENT_GOOGLE_TOKEN_URL",
        "https://oauth2.googleapis.com/token",
        "Google OAuth token endpoint (refresh-token grant); revocation goes to `revoke` beside it.",
    ),
    secret(
        "SALES_AGENT_GOOGLE_CLIENT_ID",
        "Google OAuth client id used to refresh rep mailbox tokens.",
    ),
    secret(
        "SALES_AGENT_GOOGLE_CLIENT_SECRET",
        "Google OAuth client secret.",
    ),
    setting(
        "SALES_AGENT_GOOGLE_AUTH_URL",
        "https://accounts.google.com/o/oauth2/v2/auth",
        "Google OAuth authorization endpoint (sign-in and connecting a mailbox).",
    ),
    setting(
        "SALES_AGENT_GOOGLE_ISSUER",
        "https://accounts.google.com",
        "OpenID issuer whose ID tokens are accepted; its discovery document names the signing keys.",
    ),
    setting(
        "SALES_AGENT_GOOGLE_JWKS_URL",
        "",
        "Google's signing keys (JWKS). Unset: the jwks_uri of the issuer's discovery document.",
    ),
    secret(
        "SALES_AGENT_GOOGLE_REFRESH_TOKENS",
        "Rep mailbox refresh tokens: mailbox=token pairs separated by commas.",
    ),
    setting(
        "SALES_AGENT_GOOGLE_SERVICE_ACCOUNT_FILE",
        "",
        "A service account's JSON key file (domain-wide delegation): every rep's Google calls use the JWT-bearer grant, no per-rep consent. A bad file stops start-up.",
    ),
    setting(
        "SALES_AGENT_LLM_BASE_URL",
        "https://api.openai.com/v1",
        "OpenAI-compatible API root; POST {base}/chat/completions.",
    ),
    secret(
        "SALES_AGENT_LLM_API_KEY",
        "Bearer key for the LLM API. Unset: compose uses the built-in templates.",
    ),
    setting(
        "SALES_AGENT_LLM_MODEL",
        "gpt-4o-mini",
        "Model name sent to the chat-completions API.",
    ),
    setting(
        "SALES_AGENT_CONNECTOR_TIMEOUT_SECS",
        "30",
        "Timeout of one HubSpot or Google request.",
    ),
    setting(
        "SALES_AGENT_LLM_TIMEOUT_SECS",
        "60",
        "Timeout of one LLM request.",
    ),
    setting(
        "SALES_AGENT_CONNECTOR_MAX_ATTEMPTS",
        "5",
        "Attempts per connector call (first included) before giving up.",
    ),
    setting(
        "SALES_AGENT_CONNECTOR_MAX_BACKOFF_SECS",
        "32",
        "Longest backoff between attempts (a longer Retry-After still wins).",
    ),
    setting(
        "SALES_AGENT_CONNECTOR_MAX_RETRY_AFTER_SECS",
        "60",
        "Longest Retry-After a connector waits out itself; longer ones return to the workflow.",
    ),
    setting(
        "SALES_AGENT_BREAKER_FAILURES",
        "5",
        "Consecutive transient failures that open a connector's circuit breaker.",
    ),
    setting(
        "SALES_AGENT_BREAKER_COOL_DOWN_SECS",
        "30",
        "How long an open breaker rejects calls before letting one probe through.",
    ),
    setting(
        "SALES_AGENT_HUBSPOT_REQUESTS_PER_10S",
        "100",
        "HubSpot requests per 10 s for the app (Free/Starter 100, Pro/Enterprise 190).",
    ),
    setting(
        "SALES_AGENT_HUBSPOT_WINDOW_MS",
        "10000",
        "Length of HubSpot's rolling window that SALES_AGENT_HUBSPOT_REQUESTS_PER_10S counts in (HubSpot: 10 s); shorter only to scale a benchmark.",
    ),
    setting(
        "SALES_AGENT_HUBSPOT_SEARCHES_PER_SEC",
        "4",
        "HubSpot CRM search requests per second.",
    ),
    setting(
        "SALES_AGENT_GMAIL_UNITS_PER_MIN",
        "6000",
        "Gmail quota units per minute per mailbox.",
    ),
    setting(
        "SALES_AGENT_GMAIL_MAX_IN_FLIGHT",
        "2",
        "Gmail calls in flight at once per mailbox (Gmail refuses too many concurrent ones).",
    ),
    setting(
        "SALES_AGENT_CALENDAR_REQUESTS_PER_MIN",
        "600",
        "Calendar requests per minute per rep.",
    ),
    setting(
        "SALES_AGENT_DRIVE_REQUESTS_PER_MIN",
        "12000",
        "Drive requests per minute per rep.",
    ),
    setting(
        "SALES_AGENT_LLM_REQUESTS_PER_MIN",
        "500",
        "LLM requests per minute.",
    ),
    setting(
        "SALES_AGENT_CONCURRENCY",
        "32",
        "Workflows this process runs at once.",
    ),
    setting(
        "SALES_AGENT_LEASE_SECS",
        "60",
        "How long a claimed workflow stays this process's without renewal.",
    ),
    setting(
        "SALES_AGENT_WORKFLOW_MAX_ATTEMPTS",
        "8",
        "Failed runs of a workflow before it is dead-lettered.",
    ),
    setting(
        "SALES_AGENT_RETRY_BASE_SECS",
        "30",
        "First wait before a failed workflow runs again; doubles each time up to SALES_AGENT_RETRY_MAX_SECS.",
    ),
    setting(
        "SALES_AGENT_QUOTA_LEASE_PERCENT",
        "5",
        "On PostgreSQL, the share of a provider quota one process leases at a time from the budget all processes share; 0 keeps each process's quotas to itself.",
    ),
    setting(
        "SALES_AGENT_DRAIN_SECS",
        "5",
        "On SIGTERM, how long /readyz answers 503 (so a load balancer stops sending) before the server stops taking connections.",
    ),
    setting(
        "SALES_AGENT_SHUTDOWN_GRACE_SECS",
        "20",
        "On shutdown, how long running workflows may finish their step.",
    ),
    setting(
        "SALES_AGENT_REPS_FILE",
        "",
        "JSON file of reps (`{\"reps\": [...]}`) loaded into the database at start.",
    ),
    setting(
        "SALES_AGENT_ALLOWED_FORMS",
        "",
        "Comma-separated HubSpot form ids to answer; empty answers every form.",
    ),
    setting(
        "SALES_AGENT_INTERNAL_DOMAINS",
        "",
        "Comma-separated email domains never answered (colleagues).",
    ),
    setting(
        "SALES_AGENT_COOL_DOWN_HOURS",
        "24",
        "A second submission from the same address within this window is skipped.",
    ),
    setting(
        "SALES_AGENT_ASSET_FOLDERS",
        "",
        "Comma-separated Drive folder ids whose files may be linked.",
    ),
    setting(
        "SALES_AGENT_DAILY_SEND_LIMIT",
        "1600",
        "Emails one mailbox may send per rolling 24 h (80% of Workspace's 2,000).",
    ),
    setting(
        "SALES_AGENT_QUIET_HOURS",
        "20-8",
        "Prospect-local hours (from-to) in which nothing is sent; weekends are quiet too.",
    ),
    setting(
        "SALES_AGENT_SENDER_DOMAIN",
        "",
        "Domain of generated Message-IDs; defaults to the public URL's host.",
    ),
    setting(
        "SALES_AGENT_QUIET_WEEKENDS",
        "true",
        "Also send nothing on the prospect's Saturday and Sunday.",
    ),
    setting(
        "SALES_AGENT_RUN_WORKFLOWS",
        "true",
        "false runs an intake-only node: webhooks and admin API, no workflow execution.",
    ),
    setting(
        "SALES_AGENT_RETRY_MAX_SECS",
        "3600",
        "Longest wait between runs of a failing workflow.",
    ),
    setting(
        "SALES_AGENT_COMPOSER",
        "template",
        "template (built-in, per intent) or llm (the LLM writes the opening; on error, timeout or invalid output the template is used and the reason recorded).",
    ),
    setting(
        "SALES_AGENT_ASSET_SYNC_SECS",
        "900",
        "The asset catalogue is re-synced from the allowlisted Drive folders when older than this.",
    ),
    setting(
        "SALES_AGENT_ASSET_SHARE",
        "false",
        "true grants the prospect read access to the linked files, without Drive's notification email.",
    ),
    setting(
        "SALES_AGENT_EXPERIMENT_CHECK_SECS",
        "600",
        "How often experiment outcomes (replies, meetings) are checked; 0 turns the timer off.",
    ),
    setting(
        "SALES_AGENT_STALE_CHECK_INTERVAL",
        "60",
        "Seconds between checks of open drafts' Gmail threads for a reply from the prospect (which makes the draft stale: never sent); 0 turns the watcher off.",
    ),
    setting(
        "SALES_AGENT_STALE_CHECK_BATCH",
        "20",
        "Open drafts read per check (one Gmail threads.get each, oldest-checked first), so a large backlog never floods a mailbox's quota.",
    ),
    setting(
        "SALES_AGENT_SLOT_HOLD_MINS",
        "240",
        "How long a slot offered to one prospect is kept from others.",
    ),
    setting(
        "SALES_AGENT_BOOKING_CALENDAR",
        "auto",
        "What a prospect's confirmed booking does: auto makes the event in the rep's calendar at once (Meet link, Google's invitation); confirm leaves the calendar untouched until the rep presses Confirm meeting on the lead's page.",
    ),
    setting(
        "SALES_AGENT_PROSPECT_HOURS",
        "08:00-18:00",
        "The prospect's business hours (HH:MM-HH:MM, their local time): no slot is proposed outside them, and routing prefers reps whose hours meet them.",
    ),
    setting(
        "SALES_AGENT_PROSPECT_DAYS",
        "mon-fri",
        "The prospect's business days: comma-separated days or ranges, e.g. mon-fri or sun-thu.",
    ),
    setting(
        "SALES_AGENT_DEFAULT_LANGUAGE",
        "en",
        "The team's language (en, de, fr or es): replies to prospects whose message, form language field and country name no language, and the language of reps who list none.",
    ),
    setting(
        "SALES_AGENT_RETAIN_SUBMISSIONS_DAYS",
        "365",
        "Finished workflows older than this are deleted whole (submission, raw event, steps, ledger); 0 keeps them.",
    ),
    setting(
        "SALES_AGENT_RETAIN_STEP_OUTPUTS_DAYS",
        "180",
        "Step outputs and errors of finished workflows older than this are blanked; 0 keeps them.",
    ),
    setting(
        "SALES_AGENT_RETAIN_MESSAGES_DAYS",
        "90",
        "The reply's text and the summary of earlier mail of finished workflows older than this are blanked; 0 keeps them.",
    ),
    setting(
        "SALES_AGENT_RETAIN_AUDIT_DETAILS_DAYS",
        "730",
        "Audit entries older than this keep who, what, when and which workflow; their detail is blanked. 0 keeps it.",
    ),
    setting(
        "SALES_AGENT_JANITOR_SECS",
        "3600",
        "How often the janitor enforces the retention settings; 0 turns it off in this process.",
    ),
    setting(
        "SALES_AGENT_JANITOR_BATCH",
        "500",
        "Rows the janitor changes per transaction (small batches, short locks).",
    ),
    setting(
        "SALES_AGENT_CONVERSATION_COMPANY_THREADS",
        "false",
        "true also reads threads with anyone at the prospect's company domain (not free-mail domains).",
    ),
    setting(
        "SALES_AGENT_BRIEF_FOLDER_ID",
        "",
        "Drive folder id where a booked meeting's brief (a Google Doc) is created, in the rep's Drive with the rep's grant; every rep must be able to add files to it. Empty: no brief.",
    ),
];

pub(super) fn default_of(name: &str) -> &'static str {
    SETTINGS
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.default)
        .unwrap_or_else(|| panic!("setting {name} is not in SETTINGS"))
}

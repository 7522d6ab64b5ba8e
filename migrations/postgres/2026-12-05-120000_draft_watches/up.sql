-- Drafts the service left in a rep's mailbox, watched until they are settled
-- (README "Stale drafts"): open until the rep sends or deletes the draft, it is
-- sent in send mode, or it goes stale because the prospect wrote first (or
-- booked a meeting). A stale draft is never sent by the service.
--
-- The supervisor checks open rows oldest-checked first, in small batches, each
-- row under a short lease (lease_owner, lease_until) so that two processes do
-- not read the same thread at once; every write it makes is conditional on the
-- row's state, so a repeated check changes nothing.
CREATE TABLE draft_watches (
    workflow_id TEXT PRIMARY KEY,
    mailbox TEXT NOT NULL,
    draft_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    thread_id TEXT,
    contact_email TEXT NOT NULL,
    drafted_at TIMESTAMP NOT NULL,
    -- open | sent | gone | stale
    state TEXT NOT NULL,
    -- prospect_replied | meeting_booked, with when it was found
    stale_reason TEXT,
    stale_at TIMESTAMP,
    -- the prospect's reply (Gmail's internalDate) and when it reached HubSpot
    -- and the experiment results
    replied_at TIMESTAMP,
    reply_recorded_at TIMESTAMP,
    checked_at TIMESTAMP NOT NULL,
    lease_owner TEXT,
    lease_until TIMESTAMP,
    closed_at TIMESTAMP
);
CREATE INDEX draft_watches_due ON draft_watches (state, checked_at);

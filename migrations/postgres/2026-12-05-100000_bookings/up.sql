-- Bookings (README "Booking"): a prospect's confirmed slot, committed before
-- anything is written to the rep's calendar, then carried through its short
-- chain (free/busy re-check → calendar event → brief → HubSpot meeting →
-- release holds) to booked, skipped with a reason, or failed (dead-lettered).
--
-- One active booking per rep and slot start, and one per workflow: two
-- prospects racing for a slot cannot both win, and a second click finds the
-- first booking instead of making another.
CREATE TABLE bookings (
    id TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    rep_id TEXT NOT NULL,
    slot_start TIMESTAMP NOT NULL,
    slot_end TIMESTAMP NOT NULL,
    time_zone TEXT NOT NULL,
    status TEXT NOT NULL,
    stage TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_link TEXT,
    meet_link TEXT,
    brief_link TEXT,
    meeting_id TEXT,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    lease_owner TEXT,
    lease_expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    booked_at TIMESTAMP
);
CREATE UNIQUE INDEX bookings_one_per_slot ON bookings (rep_id, slot_start)
    WHERE status IN ('pending', 'awaiting_rep', 'booked');
CREATE UNIQUE INDEX bookings_one_per_workflow ON bookings (workflow_id)
    WHERE status IN ('pending', 'awaiting_rep', 'booked');
CREATE INDEX bookings_unfinished ON bookings (next_attempt_at) WHERE status = 'pending';

//! Diesel table definitions, portable across SQLite and PostgreSQL
//! (ids and JSON as Text, UTC times as naive Timestamp).

diesel::table! {
    inbound_events (id) {
        id -> Text,
        idempotency_key -> Text,
        source -> Text,
        signature_version -> Text,
        portal_id -> Nullable<Text>,
        form_id -> Nullable<Text>,
        conversion_id -> Nullable<Text>,
        raw_body -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    workflows (id) {
        id -> Text,
        event_id -> Text,
        idempotency_key -> Text,
        email -> Text,
        submission -> Text,
        status -> Text,
        current_step -> Nullable<Text>,
        attempts -> Integer,
        next_run_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        draft_ms -> Nullable<BigInt>,
        company_key -> Nullable<Text>,
        name_key -> Nullable<Text>,
        surname_key -> Nullable<Text>,
        messages_purged_at -> Nullable<Timestamp>,
        outputs_purged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    step_runs (workflow_id, step) {
        workflow_id -> Text,
        step -> Text,
        outcome -> Text,
        attempts -> Integer,
        output -> Nullable<Text>,
        error -> Nullable<Text>,
        started_at -> Timestamp,
        finished_at -> Timestamp,
        duration_ms -> BigInt,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
        updated_by -> Text,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        workflow_id -> Nullable<Text>,
        reason -> Nullable<Text>,
        detail -> Text,
    }
}

diesel::table! {
    reps (id) {
        id -> Text,
        name -> Text,
        email -> Text,
        calendar_id -> Text,
        time_zone -> Text,
        working_hours -> Text,
        hubspot_owner_id -> Nullable<Text>,
        territories -> Text,
        voice -> Text,
        booking_link -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        languages -> Text,
    }
}

diesel::table! {
    side_effects (workflow_id, kind) {
        workflow_id -> Text,
        kind -> Text,
        state -> Text,
        idempotency_key -> Text,
        mailbox -> Nullable<Text>,
        external_id -> Nullable<Text>,
        detail -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(workflows -> inbound_events (event_id));
diesel::joinable!(step_runs -> workflows (workflow_id));

diesel::table! {
    suppressions (email) {
        email -> Text,
        reason -> Text,
        source -> Text,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    inbound_events,
    workflows,
    step_runs,
    settings,
    audit_log,
    suppressions,
    reps,
    side_effects
);

diesel::table! {
    voice_profiles (rep_id) {
        rep_id -> Text,
        profile -> Text,
        source -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        updated_by -> Text,
    }
}

diesel::joinable!(voice_profiles -> reps (rep_id));
diesel::allow_tables_to_appear_in_same_query!(voice_profiles, reps);

diesel::table! {
    asset_folders (folder_id) {
        folder_id -> Text,
        tags -> Text,
        added_at -> Timestamp,
        added_by -> Text,
    }
}

diesel::table! {
    assets (file_id) {
        file_id -> Text,
        folder_id -> Text,
        name -> Text,
        mime_type -> Text,
        web_view_link -> Text,
        description -> Text,
        tags -> Text,
        tags_edited -> Bool,
        active -> Bool,
        modified_time -> Nullable<Text>,
        synced_at -> Timestamp,
    }
}

diesel::table! {
    experiments (id) {
        id -> Text,
        name -> Text,
        variants -> Text,
        status -> Text,
        created_at -> Timestamp,
        created_by -> Text,
        stopped_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    experiment_assignments (id) {
        id -> Text,
        experiment_id -> Text,
        contact_email -> Text,
        variant -> Text,
        workflow_id -> Text,
        assigned_at -> Timestamp,
        replied_at -> Nullable<Timestamp>,
        meeting_at -> Nullable<Timestamp>,
        checked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    slot_holds (rep_id, slot_start) {
        rep_id -> Text,
        slot_start -> Timestamp,
        slot_end -> Timestamp,
        workflow_id -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    console_sessions (token_hash) {
        token_hash -> Text,
        role -> Text,
        actor -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        client_ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    account_grants (provider, account) {
        provider -> Text,
        account -> Text,
        key_id -> Text,
        sealed -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    account_status (provider, account) {
        provider -> Text,
        account -> Text,
        connected -> Bool,
        reason -> Nullable<Text>,
        since -> Timestamp,
    }
}

diesel::table! {
    workflow_waits (workflow_id) {
        workflow_id -> Text,
        provider -> Text,
        account -> Text,
        since -> Timestamp,
    }
}

diesel::table! {
    console_signin_links (token_hash) {
        token_hash -> Text,
        role -> Text,
        actor -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    speed_days (day) {
        day -> Text,
        leads -> BigInt,
        p50_ms -> BigInt,
        p95_ms -> BigInt,
        computed_at -> Timestamp,
    }
}

diesel::table! {
    console_signin_attempts (cookie_hash) {
        cookie_hash -> Text,
        state -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    console_users (email) {
        email -> Text,
        role -> Text,
        added_by -> Text,
        added_at -> Timestamp,
    }
}

diesel::table! {
    rep_consents (state_hash) {
        state_hash -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        rep_id -> Text,
        session_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    suppression_hashes (email_hash) {
        email_hash -> Text,
        reason -> Text,
        source -> Text,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    pilot_writes (workflow_id, step, seq) {
        workflow_id -> Text,
        step -> Text,
        seq -> Integer,
        endpoint -> Text,
        method -> Text,
        path -> Text,
        body -> Nullable<Text>,
        message -> Nullable<Text>,
        planned_at -> Timestamp,
    }
}

diesel::table! {
    bookings (id) {
        id -> Text,
        workflow_id -> Text,
        rep_id -> Text,
        slot_start -> Timestamp,
        slot_end -> Timestamp,
        time_zone -> Text,
        status -> Text,
        stage -> Text,
        event_id -> Text,
        event_link -> Nullable<Text>,
        meet_link -> Nullable<Text>,
        brief_link -> Nullable<Text>,
        meeting_id -> Nullable<Text>,
        reason -> Nullable<Text>,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        booked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    quota_leases (id) {
        id -> BigInt,
        quota_key -> Text,
        owner -> Text,
        units -> BigInt,
        granted_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    draft_watches (workflow_id) {
        workflow_id -> Text,
        mailbox -> Text,
        draft_id -> Text,
        message_id -> Text,
        thread_id -> Nullable<Text>,
        contact_email -> Text,
        drafted_at -> Timestamp,
        state -> Text,
        stale_reason -> Nullable<Text>,
        stale_at -> Nullable<Timestamp>,
        replied_at -> Nullable<Timestamp>,
        reply_recorded_at -> Nullable<Timestamp>,
        checked_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(draft_watches, side_effects);
diesel::allow_tables_to_appear_in_same_query!(draft_watches, workflows);

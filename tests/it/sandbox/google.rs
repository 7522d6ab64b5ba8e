//! Calendar, Drive and OAuth: freeBusy errors, duplicate event ids, Drive `q`,
//! refresh, revocation, expiry and scopes.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use sales_agent::sandbox::{Fixture, QuotaConfig, SandboxOptions};
use serde_json::{Value, json};

use super::{MAYA, MAYA_REFRESH, body, demo, gmail, google_token, raw, refresh, start, with_query};

#[actix_web::test]
async fn freebusy_reports_not_found_for_an_unknown_calendar_and_busy_blocks_for_a_known_one() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let now = chrono::Utc::now();
    let request = json!({"timeMin": now.to_rfc3339(), "timeMax": (now + chrono::Duration::days(7)).to_rfc3339(), "timeZone": "America/New_York",
        "items": [{"id": MAYA}, {"id": "ghost@northwind-analytics.com"}]});
    let url = format!("{}/calendar/v3/freeBusy", sb.base_url());
    let (status, json) = body(
        client
            .post(&url)
            .bearer_auth(&token)
            .json(&request)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let ghost = &json["calendars"]["ghost@northwind-analytics.com"];
    assert_eq!(
        ghost["errors"][0],
        json!({"domain": "global", "reason": "notFound"})
    );
    assert_eq!(ghost["busy"], json!([]));
    assert!(
        json["calendars"][MAYA]["busy"]
            .as_array()
            .is_some_and(|b| !b.is_empty())
    );
    assert!(json["calendars"][MAYA].get("errors").is_none());

    let empty =
        json!({"timeMin": now.to_rfc3339(), "timeMax": now.to_rfc3339(), "items": [{"id": MAYA}]});
    let (status, _) = body(
        client
            .post(&url)
            .bearer_auth(&token)
            .json(&empty)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    sb.stop().await;
}

#[actix_web::test]
async fn inserting_an_event_with_the_same_id_twice_gives_409_duplicate() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let url = format!(
        "{}/calendar/v3/calendars/primary/events?conferenceDataVersion=1&sendUpdates=none",
        sb.base_url()
    );
    let event = |id: &str| {
        json!({"id": id, "summary": "Intro call",
        "start": {"dateTime": "2026-12-01T10:00:00", "timeZone": "America/New_York"},
        "end": {"dateTime": "2026-12-01T10:30:00", "timeZone": "America/New_York"},
        "attendees": [{"email": "daniel.brooks@summitcare-clinics.com"}],
        "conferenceData": {"createRequest": {"requestId": "req-1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}}})
    };
    let (status, first) = body(
        client
            .post(&url)
            .bearer_auth(&token)
            .json(&event("sa0123456789abcdef"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert!(
        first["hangoutLink"]
            .as_str()
            .is_some_and(|l| l.starts_with("https://meet.google.com/"))
    );
    let (status, second) = body(
        client
            .post(&url)
            .bearer_auth(&token)
            .json(&event("sa0123456789abcdef"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(second["error"]["errors"][0]["reason"], "duplicate");
    assert_eq!(
        sb.events(MAYA)
            .iter()
            .filter(|e| e.id == "sa0123456789abcdef")
            .count(),
        1
    );
    assert_eq!(
        sb.events(MAYA)
            .iter()
            .find(|e| e.id == "sa0123456789abcdef")
            .map(|e| e.start.to_rfc3339()),
        Some("2026-12-01T15:00:00+00:00".into())
    );

    for bad in ["abc", "has-dash-1234", "wxyz12345"] {
        let (status, _) = body(
            client
                .post(&url)
                .bearer_auth(&token)
                .json(&event(bad))
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "id {bad}");
    }
    sb.stop().await;
}

#[actix_web::test]
async fn drive_q_honours_parents_trashed_name_contains_and_escapes() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let list = |q: &'static str| {
        client
            .get(with_query(
                &format!("{}/drive/v3/files", sb.base_url()),
                &[
                    ("q", q),
                    ("fields", "nextPageToken,files(id,name,webViewLink)"),
                    ("pageSize", "100"),
                ],
            ))
            .bearer_auth(&token)
            .send()
    };
    let names = |json: &Value| -> Vec<String> {
        json["files"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["name"].as_str().map(String::from))
            .collect()
    };
    let (_, all) = body(
        list("'1SalesCollateralFolder000000001' in parents")
            .await
            .expect("send"),
    )
    .await;
    let (_, live) = body(
        list("'1SalesCollateralFolder000000001' in parents and trashed = false")
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        names(&all).len(),
        names(&live).len() + 1,
        "trashed files are listed unless excluded"
    );
    assert!(!names(&live).iter().any(|n| n.contains("outdated")));
    assert!(
        !names(&all).iter().any(|n| n.contains("battlecard")),
        "other folders are not listed"
    );
    assert!(
        live["files"][0]["webViewLink"]
            .as_str()
            .is_some_and(|l| l.starts_with("https://drive.google.com/file/d/"))
    );
    assert!(
        live["files"][0].get("mimeType").is_none(),
        "fields limits the output"
    );

    let (_, studies) = body(list("name contains 'case study' and trashed = false and mimeType != 'application/vnd.google-apps.folder'").await.expect("send")).await;
    assert_eq!(names(&studies).len(), 5);
    let (_, escaped) = body(
        list(r"name contains 'O\'Brien' and trashed = false")
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(escaped["files"], json!([]));
    let (status, json) = body(list("name contains 'unterminated").await.expect("send")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["error"]["errors"][0]["location"], "q");

    let url = format!(
        "{}/drive/v3/files/1CaseStudyRetailUrbanMart000001/permissions?sendNotificationEmail=false",
        sb.base_url()
    );
    let (status, _) = body(client.post(&url).bearer_auth(&token).json(&json!({"role": "reader", "type": "user", "emailAddress": "sam.okafor@acme-retail.com"})).send().await.expect("send")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = body(client.post(&url).bearer_auth(&token).json(&json!({"role": "viewer", "type": "user", "emailAddress": "sam.okafor@acme-retail.com"})).send().await.expect("send")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(sb.permissions("1CaseStudyRetailUrbanMart000001").len(), 1);
    sb.stop().await;
}

#[actix_web::test]
async fn oauth_refresh_issues_a_bearer_token_and_a_revoked_grant_is_invalid_grant() {
    let sb = demo();
    let client = Client::new();
    let (status, json) = body(refresh(&client, &sb, MAYA_REFRESH).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["expires_in"], 3599);
    assert!(
        json["scope"]
            .as_str()
            .is_some_and(|s| s.contains("gmail.compose"))
    );

    let (status, json) =
        body(refresh(&client, &sb, "1//0sandbox-refresh-priya-raman-old").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json,
        json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    );

    let token = google_token(&client, &sb).await;
    assert!(sb.revoke_refresh_token(MAYA_REFRESH));
    let (status, json) = body(refresh(&client, &sb, MAYA_REFRESH).await).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (status, _) = body(
        client
            .get(gmail(&sb, "/threads"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "revoking the grant kills its access tokens"
    );

    let response = client
        .post(format!("{}/token", sb.base_url()))
        .json(&json!({"grant_type": "refresh_token"}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    sb.stop().await;
}

#[actix_web::test]
async fn access_tokens_expire_after_3599_seconds_on_the_sandbox_clock() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let (status, _) = body(
        client
            .get(gmail(&sb, "/profile"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    sb.advance(Duration::from_secs(3600));
    let (status, _) = body(
        client
            .get(gmail(&sb, "/profile"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    sb.stop().await;
}

#[actix_web::test]
async fn a_token_without_the_read_scope_can_draft_but_not_read_threads() {
    let mut fixture = Fixture::demo();
    for grant in &mut fixture.google.refresh_tokens {
        grant.revoked = false;
    }
    let sb = start(SandboxOptions {
        fixture: Some(fixture),
        ..SandboxOptions::default()
    });
    let client = Client::new();
    let (status, json) =
        body(refresh(&client, &sb, "1//0sandbox-refresh-priya-raman-old").await).await;
    assert_eq!(status, StatusCode::OK);
    let token = json["access_token"].as_str().expect("token").to_string();
    let (status, json) = body(
        client
            .get(gmail(&sb, "/threads"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        json["error"]["errors"][0]["reason"],
        "insufficientPermissions"
    );
    let message = "From: priya.raman@northwind-analytics.com\nTo: kenji.watanabe@pacificroute.co.jp\nSubject: Hello\n\nHi\n";
    let create = json!({"message": {"raw": raw(message)}});
    let (status, _) = body(
        client
            .post(gmail(&sb, "/drafts"))
            .bearer_auth(&token)
            .json(&create)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    sb.stop().await;
}

#[actix_web::test]
async fn drive_fields_accept_any_file_field_and_refuse_unknown_ones() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let base = format!("{}/drive/v3/files", sb.base_url());
    let ok = with_query(
        &base,
        &[
            ("q", "trashed = false"),
            ("fields", "files(id,modifiedTime,owners(emailAddress))"),
        ],
    );
    let (status, json) = body(
        client
            .get(ok)
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert!(json["files"][0]["modifiedTime"].is_string());
    assert!(json.get("kind").is_none());
    let bad = with_query(&base, &[("fields", "files(id,bogus)")]);
    let (status, json) = body(
        client
            .get(bad)
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["error"]["errors"][0]["location"], "fields");
    sb.stop().await;
}

#[actix_web::test]
async fn calendar_refuses_a_user_over_the_per_minute_limit_with_403_usage_limits() {
    let quotas = QuotaConfig {
        calendar_per_minute: 2,
        ..QuotaConfig::default()
    };
    let sb = start(SandboxOptions {
        quotas: Some(quotas),
        ..SandboxOptions::default()
    });
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let url = format!(
        "{}/calendar/v3/calendars/primary/events/nosuchevent",
        sb.base_url()
    );
    for _ in 0..2 {
        assert_eq!(
            client
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await
                .expect("send")
                .status(),
            StatusCode::NOT_FOUND
        );
    }
    let (status, json) = body(
        client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(json["error"]["errors"][0]["domain"], "usageLimits");
    sb.advance(Duration::from_secs(60));
    assert_eq!(
        client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::NOT_FOUND
    );
    sb.stop().await;
}

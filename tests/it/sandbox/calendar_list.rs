//! Calendar `events.list` in the sandbox: free-text `q` finds events by an
//! attendee's address, `timeMin` drops events that ended before it, paging
//! follows `maxResults`, and `orderBy=startTime` without `singleEvents=true` is
//! refused as Google refuses it.

use super::*;

fn events(sb: &SandboxHandle, pairs: &[(&str, &str)]) -> String {
    with_query(
        &format!("{}/calendar/v3/calendars/{MAYA}/events", sb.base_url()),
        pairs,
    )
}

#[actix_web::test]
async fn events_are_found_by_attendee_and_listed_as_google_lists_them() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let start = chrono::Utc::now() + chrono::Duration::days(2);
    let insert = |n: i64, attendee: &str| {
        let at = start + chrono::Duration::hours(n);
        client
            .post(format!(
                "{}/calendar/v3/calendars/{MAYA}/events",
                sb.base_url()
            ))
            .bearer_auth(&token)
            .json(&json!({"summary": "Intro call",
                "start": {"dateTime": at.to_rfc3339()},
                "end": {"dateTime": (at + chrono::Duration::minutes(30)).to_rfc3339()},
                "attendees": [{"email": attendee}]}))
            .send()
    };
    for (n, who) in [
        (0, "ana@prospect.test"),
        (1, "bo@other.test"),
        (2, "ana@prospect.test"),
    ] {
        assert_eq!(
            insert(n, who).await.expect("insert").status(),
            StatusCode::OK
        );
    }
    let now = chrono::Utc::now().to_rfc3339();
    let get = |pairs: Vec<(&'static str, String)>| {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        client.get(events(&sb, &pairs)).bearer_auth(&token).send()
    };
    let (status, page) = body(
        get(vec![
            ("q", "ana@prospect.test".into()),
            ("timeMin", now.clone()),
            ("maxResults", "1".into()),
        ])
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["kind"], "calendar#events");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let token_next = page["nextPageToken"]
        .as_str()
        .expect("a second page")
        .to_string();
    let (_, rest) = body(
        get(vec![
            ("q", "ana@prospect.test".into()),
            ("timeMin", now.clone()),
            ("maxResults", "1".into()),
            ("pageToken", token_next),
        ])
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest.get("nextPageToken").is_none());
    assert_eq!(
        rest["items"][0]["attendees"][0]["email"],
        "ana@prospect.test"
    );

    // Everything ended before a far-future timeMin.
    let later = (chrono::Utc::now() + chrono::Duration::days(400)).to_rfc3339();
    let (_, none) = body(get(vec![("timeMin", later)]).await.unwrap()).await;
    assert_eq!(none["items"], json!([]));

    let (status, refused) = body(get(vec![("orderBy", "startTime".into())]).await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let (status, _) = body(
        get(vec![
            ("orderBy", "startTime".into()),
            ("singleEvents", "true".into()),
        ])
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = body(get(vec![("timeMin", "yesterday".into())]).await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    sb.stop().await;
}

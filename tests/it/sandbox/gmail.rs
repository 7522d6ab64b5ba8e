//! Gmail: drafts sent once, threading, per-user quota units.

use reqwest::{Client, StatusCode};
use sales_agent::sandbox::{QuotaConfig, SandboxOptions};
use serde_json::json;

use super::{MAYA, body, demo, gmail, google_token, raw, start, with_query};

#[actix_web::test]
async fn a_sent_draft_cannot_be_sent_again_and_is_found_in_sent_by_its_message_id() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let message = "From: Maya Chen <maya.chen@northwind-analytics.com>\nTo: daniel.brooks@summitcare-clinics.com\n\
Subject: Staffing forecasts for SummitCare\nMessage-ID: <sa.wf-1.deliver@northwind-analytics.com>\n\nHi Daniel,\n\nThanks for reaching out.\n";
    let create = json!({"message": {"raw": raw(message)}});
    let (status, draft) = body(
        client
            .post(gmail(&sb, "/drafts"))
            .bearer_auth(&token)
            .json(&create)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    let draft_id = draft["id"].as_str().expect("draft id").to_string();
    assert_eq!(sb.drafts(MAYA).len(), 1);

    let send = json!({"id": draft_id});
    let (status, sent) = body(
        client
            .post(gmail(&sb, "/drafts/send"))
            .bearer_auth(&token)
            .json(&send)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(sent["labelIds"], json!(["SENT"]));
    assert_ne!(
        sent["id"], draft["message"]["id"],
        "sending gives the message a new id"
    );

    let (status, again) = body(
        client
            .post(gmail(&sb, "/drafts/send"))
            .bearer_auth(&token)
            .json(&send)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(again["error"]["code"], 404);
    let (status, _) = body(
        client
            .get(gmail(&sb, &format!("/drafts/{draft_id}")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let q = [(
        "q",
        "in:sent rfc822msgid:<sa.wf-1.deliver@northwind-analytics.com>",
    )];
    let (status, found) = body(
        client
            .get(with_query(&gmail(&sb, "/threads"), &q))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["threads"].as_array().map(Vec::len), Some(1));
    assert_eq!(found["threads"][0]["id"], sent["threadId"]);
    assert!(sb.drafts(MAYA).is_empty());
    assert_eq!(
        sb.messages(MAYA, "SENT")
            .iter()
            .filter(|m| m.to == vec!["daniel.brooks@summitcare-clinics.com"])
            .count(),
        1
    );
    sb.stop().await;
}

#[actix_web::test]
async fn a_reply_draft_with_thread_id_and_reply_headers_joins_the_thread_and_one_without_them_does_not()
 {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let q = [("q", "from:laura.martinez@brightpath-health.com")];
    let (_, list) = body(
        client
            .get(with_query(&gmail(&sb, "/threads"), &q))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    let thread_id = list["threads"][0]["id"]
        .as_str()
        .expect("a prior thread")
        .to_string();
    let (_, thread) = body(
        client
            .get(gmail(&sb, &format!("/threads/{thread_id}?format=metadata")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(thread["messages"].as_array().map(Vec::len), Some(2));

    let reply = "From: maya.chen@northwind-analytics.com\nTo: laura.martinez@brightpath-health.com\nSubject: Re: Scheduling forecasts for our clinics\n\
In-Reply-To: <NWA.maya.001@northwind-analytics.com>\nReferences: <CAK9laura.001@brightpath-health.com> <NWA.maya.001@northwind-analytics.com>\n\nHi Laura\n";
    let create = json!({"message": {"raw": raw(reply), "threadId": thread_id}});
    let (_, draft) = body(
        client
            .post(gmail(&sb, "/drafts"))
            .bearer_auth(&token)
            .json(&create)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(draft["message"]["threadId"], thread_id.as_str());

    // Same subject but no reply headers, and reply headers but another subject:
    // Gmail needs both, so each starts a thread of its own.
    let no_headers = "From: maya.chen@northwind-analytics.com\nTo: laura.martinez@brightpath-health.com\nSubject: Re: Scheduling forecasts for our clinics\n\nHi\n";
    let other_subject = "From: maya.chen@northwind-analytics.com\nTo: laura.martinez@brightpath-health.com\nSubject: Something else\n\
In-Reply-To: <NWA.maya.001@northwind-analytics.com>\nReferences: <NWA.maya.001@northwind-analytics.com>\n\nHi\n";
    for unthreaded in [no_headers, other_subject] {
        let create = json!({"message": {"raw": raw(unthreaded), "threadId": thread_id}});
        let (_, other) = body(
            client
                .post(gmail(&sb, "/drafts"))
                .bearer_auth(&token)
                .json(&create)
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_ne!(
            other["message"]["threadId"],
            thread_id.as_str(),
            "Gmail needs matching subject and references"
        );
    }

    let create = json!({"message": {"raw": raw(reply), "threadId": "ffffffffffffffff"}});
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
    assert_eq!(status, StatusCode::NOT_FOUND);
    sb.stop().await;
}

#[actix_web::test]
async fn gmail_answers_user_rate_limit_exceeded_when_a_users_units_run_out() {
    let quotas = QuotaConfig {
        gmail_units_per_window: 250,
        ..QuotaConfig::default()
    };
    let sb = start(SandboxOptions {
        quotas: Some(quotas),
        ..SandboxOptions::default()
    });
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    for _ in 0..25 {
        assert_eq!(
            client
                .get(gmail(&sb, "/threads"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("send")
                .status(),
            StatusCode::OK
        );
    }
    let response = client
        .get(gmail(&sb, "/threads"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let (_, json) = body(response).await;
    assert_eq!(
        json["error"]["errors"][0]["reason"],
        "userRateLimitExceeded"
    );
    sb.stop().await;
}

#[actix_web::test]
async fn the_daily_sending_limit_counts_only_delivered_mail() {
    let quotas = QuotaConfig {
        gmail_sends_per_day: 1,
        ..QuotaConfig::default()
    };
    let sb = start(SandboxOptions {
        quotas: Some(quotas),
        ..SandboxOptions::default()
    });
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let (status, _) = body(
        client
            .post(gmail(&sb, "/drafts/send"))
            .bearer_auth(&token)
            .json(&json!({"id": "r404"}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a failed send uses no allowance"
    );
    let message = "From: maya.chen@northwind-analytics.com\nTo: kenji.watanabe@pacificroute.co.jp\nSubject: Demo\n\nHi\n";
    let send = json!({"raw": raw(message)});
    let (status, _) = body(
        client
            .post(gmail(&sb, "/messages/send"))
            .bearer_auth(&token)
            .json(&send)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let response = client
        .post(gmail(&sb, "/messages/send"))
        .bearer_auth(&token)
        .json(&send)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let (_, json) = body(response).await;
    assert_eq!(
        json["error"]["message"],
        "User-rate limit exceeded (Mail sending)"
    );
    assert_eq!(
        sb.sent(MAYA).iter().filter(|m| m.subject == "Demo").count(),
        1
    );
    sb.stop().await;
}

#[actix_web::test]
async fn a_sent_message_reads_back_in_raw_full_and_metadata_formats() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let message = "From: maya.chen@northwind-analytics.com\nTo: anna.schmid@rheinwerk-maschinenbau.de\nSubject: Predictive maintenance\nMessage-ID: <rt-1@northwind-analytics.com>\n\nHallo Anna\n";
    let (_, sent) = body(
        client
            .post(gmail(&sb, "/messages/send"))
            .bearer_auth(&token)
            .json(&json!({"raw": raw(message)}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    let id = sent["id"].as_str().expect("id");
    let (_, as_raw) = body(
        client
            .get(gmail(&sb, &format!("/messages/{id}?format=raw")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(as_raw["raw"].as_str(), Some(raw(message).as_str()));
    let (_, full) = body(
        client
            .get(gmail(&sb, &format!("/messages/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    let headers = full["payload"]["headers"].as_array().expect("headers");
    assert!(
        headers
            .iter()
            .any(|h| h["name"] == "Message-ID" && h["value"] == "<rt-1@northwind-analytics.com>")
    );
    assert!(full["payload"]["body"]["data"].is_string());
    let url = with_query(
        &gmail(&sb, &format!("/messages/{id}")),
        &[("format", "metadata"), ("metadataHeaders", "Subject")],
    );
    let (_, meta) = body(
        client
            .get(url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        meta["payload"]["headers"],
        json!([{"name": "Subject", "value": "Predictive maintenance"}])
    );
    assert!(meta["payload"].get("body").is_none());
    let (status, _) = body(
        client
            .get(gmail(&sb, &format!("/messages/{id}?format=html")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    sb.stop().await;
}

#[actix_web::test]
async fn updating_a_draft_keeps_its_id_and_replaces_its_message() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let first = "From: maya.chen@northwind-analytics.com\nTo: meera.iyer@lumen-saas.io\nSubject: Partnership\n\nVersion one\n";
    let (_, draft) = body(
        client
            .post(gmail(&sb, "/drafts"))
            .bearer_auth(&token)
            .json(&json!({"message": {"raw": raw(first)}}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    let id = draft["id"].as_str().expect("draft id").to_string();
    let second = first.replace("Version one", "Version two");
    let url = gmail(&sb, &format!("/drafts/{id}"));
    let (status, updated) = body(
        client
            .put(&url)
            .bearer_auth(&token)
            .json(&json!({"id": id, "message": {"raw": raw(&second)}}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["id"], id.as_str());
    assert_ne!(updated["message"]["id"], draft["message"]["id"]);
    let drafts = sb.drafts(MAYA);
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].1.body.trim(), "Version two");
    let (status, _) = body(
        client
            .put(gmail(&sb, "/drafts/r404"))
            .bearer_auth(&token)
            .json(&json!({"message": {"raw": raw(&second)}}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    sb.stop().await;
}

#[actix_web::test]
async fn gmail_sends_from_the_account_and_fills_in_missing_headers() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let spoofed = "From: ceo@competitor.example\nTo: kenji.watanabe@pacificroute.co.jp\nSubject: Hello\n\nHi\n";
    let (status, sent) = body(
        client
            .post(gmail(&sb, "/messages/send"))
            .bearer_auth(&token)
            .json(&json!({"raw": raw(spoofed)}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let message = sb
        .sent(MAYA)
        .into_iter()
        .find(|m| m.id == sent["id"].as_str().unwrap_or_default())
        .expect("stored");
    assert_eq!(message.from, MAYA);
    let header = |name: &str| {
        message
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("From").as_deref(), Some(MAYA));
    assert!(header("Date").is_some());
    assert!(
        message
            .message_id
            .as_deref()
            .is_some_and(|id| id.ends_with("@mail.gmail.com>"))
    );
    sb.stop().await;
}

/// The control levers for what people do in a mailbox: a prospect's reply
/// filed in a thread reads back through `threads.get?format=metadata` in
/// Gmail's shapes, and the rep's Send leaves the draft as a SENT message.
#[actix_web::test]
async fn a_prospect_reply_and_the_reps_send_read_back_in_gmails_shapes() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let message = "From: Maya Chen <maya.chen@northwind-analytics.com>\nTo: ana@acme.example\n\
Subject: Your demo\nMessage-ID: <sa.wf-9.deliver@northwind-analytics.com>\n\nHi Ana,\n\nHere are some times.\n";
    let (status, draft) = body(
        client
            .post(gmail(&sb, "/drafts"))
            .bearer_auth(&token)
            .json(&json!({"message": {"raw": raw(message)}}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    let thread = draft["message"]["threadId"].as_str().unwrap().to_string();
    let control = |path: &str, payload: serde_json::Value| {
        client
            .post(format!("{}/_sandbox/gmail/{path}", sb.base_url()))
            .json(&payload)
            .send()
    };
    let (status, reply) = body(
        control(
            "reply",
            json!({"mailbox": MAYA, "threadId": thread, "from": "ana@acme.example", "name": "Ana P"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let (status, missing) = body(
        control(
            "reply",
            json!({"mailbox": MAYA, "threadId": "nope", "from": "ana@acme.example"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    let (status, bad) = body(
        control(
            "reply",
            json!({"mailbox": MAYA, "threadId": thread, "from": "ana@acme.example\r\nBcc: x@evil.test"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");

    let read = |format: &'static str| {
        client
            .get(gmail(&sb, &format!("/threads/{thread}?format={format}")))
            .bearer_auth(&token)
            .send()
    };
    let (status, got) = body(read("metadata").await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    let messages = got["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{got}");
    assert_eq!(messages[0]["labelIds"], json!(["DRAFT"]));
    let answer = &messages[1];
    assert_eq!(answer["id"], reply["id"]);
    assert_eq!(answer["labelIds"], json!(["INBOX", "UNREAD"]));
    let at: i64 = answer["internalDate"].as_str().unwrap().parse().unwrap();
    let drafted: i64 = messages[0]["internalDate"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(at >= drafted);
    let header = |name: &str| {
        answer["payload"]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["name"].as_str().unwrap().eq_ignore_ascii_case(name))
            .map(|h| h["value"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no {name} in {answer}"))
    };
    assert!(header("From").contains("ana@acme.example"));
    assert!(header("To").contains(MAYA));
    assert_eq!(header("Subject"), "Re: Your demo");
    assert!(!header("Date").is_empty());
    assert!(header("Message-ID").starts_with('<'));
    assert!(
        answer["payload"]["body"]["data"].is_null(),
        "metadata carries no body"
    );

    // The rep presses Send in Gmail: the draft goes, a SENT message keeps its Message-ID.
    let draft_id = draft["id"].as_str().unwrap();
    let (status, sent) = body(
        control("send-draft", json!({"mailbox": MAYA, "draftId": draft_id}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(sent["labelIds"], json!(["SENT"]));
    assert!(sb.drafts(MAYA).is_empty());
    let (_, got) = body(read("metadata").await.unwrap()).await;
    let ours = got["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["labelIds"] == json!(["SENT"]))
        .expect("the sent message in the thread");
    let id = ours["payload"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "Message-ID")
        .unwrap();
    assert_eq!(id["value"], "<sa.wf-9.deliver@northwind-analytics.com>");

    // A reply now answers the mail the rep sent, and says so in its headers.
    let (_, again) = body(
        control(
            "reply",
            json!({"mailbox": MAYA, "threadId": thread, "from": "ana@acme.example"}),
        )
        .await
        .unwrap(),
    )
    .await;
    let (_, got) = body(read("metadata").await.unwrap()).await;
    let answer = got["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == again["id"])
        .expect("the second reply");
    let in_reply_to = answer["payload"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "In-Reply-To")
        .expect("In-Reply-To");
    assert_eq!(
        in_reply_to["value"],
        "<sa.wf-9.deliver@northwind-analytics.com>"
    );
}

//! URL-like text from the prospect never reaches a draft verbatim, on both
//! backends: submissions whose name, company, job title or industry carry a link
//! in one of its disguises (a bare domain with a path, a shortener, an IP address,
//! `hxxp`, `[.]`, look-alike dots, zero-width characters…) are answered, and the
//! delivered Gmail draft's subject and body hold no URL-like text but the assets'
//! own links, and nothing of the disguised link.

use std::time::Duration;

use sales_agent::compose::links;
use serde_json::json;

use crate::helpers::{TestDb, spawn_stack};
use crate::on_both_backends;

on_both_backends!(links_in_form_fields_never_reach_the_draft);

/// (field, value, a fragment that must not appear in the draft).
const HOSTILE: &[(&str, &str, &str)] = &[
    (
        "company",
        "Acme. Urgent: verify your account at evil-example.com/login",
        "evil-example",
    ),
    ("company", "Acme (details: bit.ly/3xYzQ)", "bit.ly"),
    ("company", "hxxps://evil[.]com/pay", "evil"),
    ("company", "Acme evil[.]com", "evil"),
    ("company", "192.168.10.7 Systems", "192.168"),
    ("company", "Acme t.co/abc", "t.co"),
    ("company", "www.evil-example.com", "evil-example"),
    ("company", "Acme evil(dot)com/login", "evil"),
    ("company", "Acme evil\u{3002}com\u{ff0f}login", "evil"),
    ("company", "Acme evil\u{200b}.com/x", "evil"),
    ("company", "Acme http://[2001:db8::1]/x", "2001"),
    ("company", "tinyurl.com", "tinyurl"),
    ("company", "paypal.com.secure-login.xyz", "secure-login"),
    ("jobtitle", "CTO - reset at login.evil.co.uk/reset", "evil"),
    ("firstname", "Ana evil.io/x", "evil"),
    ("lastname", "Smith hxxp://evil", "evil"),
    ("industry", "Finance; see 10[.]0[.]0[.]1", "10[.]0"),
];

async fn links_in_form_fields_never_reach_the_draft(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let mut cases = Vec::new();
    for (i, (field, value, fragment)) in HOSTILE.iter().enumerate() {
        let email = format!("lead{i}@prospect{i}.example");
        let mut values = vec![
            json!({"name": "email", "value": email}),
            json!({"name": "firstname", "value": "Ana"}),
            json!({"name": "company", "value": "Acme"}),
            json!({"name": "message", "value": "Could we see a demo next week? Our site is evil-example.com/login"}),
        ];
        values.retain(|v| v["name"] != *field);
        values.push(json!({"name": field, "value": value}));
        let body = json!({
            "portalId": 24681357,
            "formGuid": "links",
            "conversionId": format!("links-{i}"),
            "submittedAt": 1_790_000_000_000u64 + i as u64,
            "values": values,
        });
        let response = stack.app.post_signed(&body.to_string()).await;
        assert_eq!(response.status(), 202, "{value}");
        let id = crate::helpers::json(response).await["workflow_id"]
            .as_str()
            .unwrap()
            .to_string();
        cases.push((id, email, *field, *value, *fragment));
    }
    let ids: Vec<String> = cases.iter().map(|c| c.0.clone()).collect();
    let statuses = stack.wait_finished(&ids, Duration::from_secs(120)).await;
    let reps = sales_agent::demo::reps_from_fixture(&stack.fixture);
    for ((id, email, field, value, fragment), status) in cases.iter().zip(&statuses) {
        assert_eq!(status, "completed", "{value}");
        let steps = stack.step_outputs(id).await;
        let lead_field = match *field {
            "firstname" => "first_name",
            "lastname" => "last_name",
            "jobtitle" => "job_title",
            other => other,
        };
        assert_eq!(
            steps["validate"]["withheld"],
            json!([lead_field]),
            "{value}: {}",
            steps["validate"]
        );
        let rep_id = steps["route"]["rep_id"].as_str().unwrap();
        let rep = reps.iter().find(|r| r.id == rep_id).unwrap();
        let drafts: Vec<_> = stack
            .sandbox
            .drafts(&rep.email)
            .into_iter()
            .filter(|(_, m)| m.to.iter().any(|t| t.contains(email.as_str())))
            .collect();
        assert_eq!(drafts.len(), 1, "{value}: one draft");
        let draft = &drafts[0].1;
        let assets: Vec<String> = steps["select_assets"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x["url"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let mut text = format!("{}\n{}", draft.subject, draft.body);
        // Our own booking links for this workflow are the reply's; nothing else is.
        for link in assets
            .iter()
            .chain(&crate::booking::genuine_links(&stack, &text, id).await)
        {
            text = text.replace(link.as_str(), " ");
        }
        let domain = email.split('@').nth(1).unwrap();
        let left = links::url_like(&text, &[domain]);
        assert!(left.is_empty(), "{value}: {left:?} in\n{text}");
        let lower = text.to_lowercase();
        assert!(
            !lower.contains(&fragment.to_lowercase()),
            "{value}: {fragment:?} echoed in\n{text}"
        );
    }
    stack.stop().await;
}

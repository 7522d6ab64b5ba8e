//! Reps managed while running, over HTTP on both backends: the admin API adds,
//! edits, deactivates and reactivates reps with every field validated and named
//! when wrong, audited, no restart; the console's forms do the same through the
//! same rules; the reps file seeds only reps the database lacks, so edits
//! survive a restart.

use reqwest::{Method, StatusCode};
use sales_agent::store::{Store, audit, reps};
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_TOKEN, TestApp, TestDb, VIEWER_TOKEN, console_session, spawn_app, spawn_app_with,
    test_config,
};
use crate::on_both_backends;

on_both_backends!(
    reps_are_added_edited_and_deactivated_through_the_api,
    every_bad_field_is_refused_by_name_and_changes_nothing,
    the_console_adds_edits_and_deactivates_reps,
    the_reps_file_seeds_new_reps_and_leaves_edited_ones
);

fn sam() -> Value {
    json!({
        "id": "sam-rivera", "name": "Sam Rivera", "email": "Sam@Example.com",
        "time_zone": "Europe/Berlin", "hours": "08:30-17:00", "days": "mon-fri",
        "territories": ["DE", "Europe/"], "hubspot_owner_id": "101",
        "languages": ["DE", "en"], "reason": "new hire"
    })
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let response = app
        .api(method, path, Some(token))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn actions(store: &Store) -> Vec<String> {
    store
        .run(|c| audit::list_recent(c, None, None, 100))
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .filter(|a| a.starts_with("rep."))
        .collect()
}

async fn active_ids(store: &Store) -> Vec<String> {
    store
        .run(reps::list_active)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

async fn reps_are_added_edited_and_deactivated_through_the_api(db: TestDb) {
    let app = spawn_app(&db).await;
    let store = app.app.state.store.clone();

    let (status, created) = call(&app, Method::POST, "/api/reps", ADMIN_TOKEN, &sam()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["email"], "sam@example.com",
        "the mailbox is stored lower-case"
    );
    assert_eq!(
        created["calendar_id"], "sam@example.com",
        "the calendar defaults to the mailbox"
    );
    assert_eq!(created["territories"], json!(["de", "Europe/"]));
    assert_eq!(
        created["languages"],
        json!(["de", "en"]),
        "codes stored lower-case, the default first"
    );
    assert_eq!(created["working_hours"]["start"], "08:30:00");
    assert_eq!(
        active_ids(&store).await,
        ["sam-rivera"],
        "the route step's query sees the new rep at once"
    );

    let (status, _) = call(&app, Method::POST, "/api/reps", ADMIN_TOKEN, &sam()).await;
    assert_eq!(status, StatusCode::CONFLICT, "the same id twice");
    let mut twin = sam();
    twin["id"] = json!("sam-twin");
    let (status, body) = call(&app, Method::POST, "/api/reps", ADMIN_TOKEN, &twin).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::CONFLICT, Some("email")),
        "one mailbox, one rep"
    );
    let (status, _) = call(&app, Method::POST, "/api/reps", VIEWER_TOKEN, &twin).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let mut moved = sam();
    moved.as_object_mut().unwrap().remove("id");
    moved["time_zone"] = json!("America/New_York");
    moved["reason"] = json!("moved to the New York office");
    let (status, edited) = call(
        &app,
        Method::PUT,
        "/api/reps/sam-rivera",
        ADMIN_TOKEN,
        &moved,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    let stored = store
        .run(|c| reps::find_by_id(c, "sam-rivera"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.time_zone, "America/New_York");
    let (status, _) = call(&app, Method::PUT, "/api/reps/nobody", ADMIN_TOKEN, &moved).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let why = json!({"reason": "left the company"});
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/reps/sam-rivera/deactivate",
        ADMIN_TOKEN,
        &why,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        active_ids(&store).await.is_empty(),
        "no lead is routed to a deactivated rep"
    );
    let (_, listed) = call(&app, Method::GET, "/api/reps", VIEWER_TOKEN, &Value::Null).await;
    assert_eq!(
        listed["reps"][0]["active"], false,
        "a deactivated rep is still listed: {listed}"
    );
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/reps/sam-rivera/activate",
        ADMIN_TOKEN,
        &json!({"reason": "back"}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(active_ids(&store).await, ["sam-rivera"]);
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/reps/sam-rivera/deactivate",
        ADMIN_TOKEN,
        &json!({}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("reason"))
    );

    let mut audited = actions(&store).await;
    audited.sort();
    assert_eq!(
        audited,
        [
            "rep.activated",
            "rep.created",
            "rep.deactivated",
            "rep.updated"
        ]
    );
    app.stop().await;
}

async fn every_bad_field_is_refused_by_name_and_changes_nothing(db: TestDb) {
    let app = spawn_app(&db).await;
    let store = app.app.state.store.clone();
    for (field, value, named) in [
        ("id", json!("sam rivera"), "id"),
        ("name", json!(""), "name"),
        ("email", json!("not-an-address"), "email"),
        ("time_zone", json!("CET+1"), "time_zone"),
        ("time_zone", json!("Mars/Olympus_Mons"), "time_zone"),
        ("hours", json!("18:00-09:00"), "working_hours"),
        ("hours", json!("9-5"), "working_hours"),
        ("days", json!("mon-funday"), "working_hours"),
        ("territories", json!(["Germany"]), "territories"),
        ("languages", json!(["German"]), "languages"),
        ("languages", json!(["de", "DE"]), "languages"),
        ("hubspot_owner_id", json!("owner-1"), "hubspot_owner_id"),
        ("booking_link", json!("javascript:alert(1)"), "booking_link"),
        ("calendar_id", json!("sam @example.com"), "calendar_id"),
        ("reason", json!(" "), "reason"),
    ] {
        let mut body = sam();
        body[field] = value.clone();
        let (status, answer) = call(&app, Method::POST, "/api/reps", ADMIN_TOKEN, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}={value}: {answer}");
        assert_eq!(answer["error"]["field"], named, "{field}={value}: {answer}");
    }
    assert!(
        store.run(reps::list_all).await.unwrap().is_empty(),
        "nothing was stored"
    );
    assert!(actions(&store).await.is_empty(), "nothing was audited");
    app.stop().await;
}

async fn the_console_adds_edits_and_deactivates_reps(db: TestDb) {
    let app = spawn_app(&db).await;
    let store = app.app.state.store.clone();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (cookie, csrf) = console_session(&store, "admin", "maria").await;
    let post = |path: &str, fields: Vec<(&str, &str)>| {
        let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        form.extend(fields);
        client
            .post(format!("{}{path}", app.address))
            .header("cookie", &cookie)
            .form(&form)
            .send()
    };
    let fields = vec![
        ("id", "ana"),
        ("name", "Ana <b>Lima</b>"),
        ("email", "ana@example.com"),
        ("calendar_id", ""),
        ("time_zone", "America/Sao_Paulo"),
        ("hours", "09:00-18:00"),
        ("days", "mon-fri"),
        ("territories", "br, pt"),
        ("languages", "pt, en"),
        ("hubspot_owner_id", ""),
        ("booking_link", ""),
        ("reason", "new hire"),
    ];
    let added = post("/reps", fields.clone()).await.unwrap();
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    assert_eq!(added.headers()["location"], "/reps/ana");
    let page = client
        .get(format!("{}/reps/ana", app.address))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Ana &lt;b&gt;Lima") && !html.contains("<b>Lima"),
        "the name is shown as text"
    );
    assert!(
        html.contains("value=\"br, pt\""),
        "the edit form holds the stored territories"
    );
    assert!(
        html.contains("<dd id=\"rep-languages\">pt, en</dd>") && html.contains("value=\"pt, en\""),
        "the page shows the rep's languages and the edit form holds them"
    );

    let mut bad = fields.clone();
    bad[4] = ("time_zone", "Europe/Atlantis");
    bad[0] = ("id", "ana");
    let refused = post("/reps/ana/edit", bad).await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(
        refused.text().await.unwrap().contains("time_zone"),
        "the console names the field"
    );

    let mut edit = fields.clone();
    edit[4] = ("time_zone", "Europe/Lisbon");
    assert_eq!(
        post("/reps/ana/edit", edit).await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let gone = post("/reps/ana/deactivate", vec![("reason", "left")])
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::SEE_OTHER);
    let ana = store
        .run(|c| reps::find_by_id(c, "ana"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ana.time_zone.as_str(), ana.active),
        ("Europe/Lisbon", false)
    );
    let list = client
        .get(format!("{}/reps", app.address))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(list.text().await.unwrap().contains("Inactive"));

    // A viewer's forged form changes nothing.
    let (viewer, viewer_csrf) = console_session(&store, "viewer", "maria").await;
    let forged = client
        .post(format!("{}/reps/ana/activate", app.address))
        .header("cookie", &viewer)
        .form(&[("csrf", viewer_csrf.as_str()), ("reason", "sneaky")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(active_ids(&store).await.is_empty());
    let mut audited = actions(&store).await;
    audited.sort();
    assert_eq!(audited, ["rep.created", "rep.deactivated", "rep.updated"]);
    app.stop().await;
}

async fn the_reps_file_seeds_new_reps_and_leaves_edited_ones(db: TestDb) {
    let dir = std::env::temp_dir().join(format!("sa-reps-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("reps.json");
    let seed = |reps: Value| std::fs::write(&file, json!({ "reps": reps }).to_string()).unwrap();
    let ana = json!({"id": "ana", "name": "Ana", "email": "ana@example.com", "calendar_id": "ana@example.com", "time_zone": "Europe/Berlin"});
    seed(json!([ana]));
    let mut config = test_config(&db);
    config.engine.reps_file = Some(file.clone());
    let app = spawn_app_with(config.clone()).await;
    let mut edit = json!({"name": "Ana", "email": "ana@example.com", "time_zone": "Asia/Tokyo", "reason": "moved"});
    let (status, _) = call(&app, Method::PUT, "/api/reps/ana", ADMIN_TOKEN, &edit).await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;

    let bo = json!({"id": "bo", "name": "Bo", "email": "bo@example.com", "calendar_id": "bo@example.com", "time_zone": "America/Chicago"});
    seed(json!([ana, bo]));
    let app = spawn_app_with(config).await;
    let store = app.app.state.store.clone();
    let stored = store.run(reps::list_all).await.unwrap();
    let zones: Vec<(&str, &str)> = stored
        .iter()
        .map(|r| (r.id.as_str(), r.time_zone.as_str()))
        .collect();
    assert_eq!(
        zones,
        [("ana", "Asia/Tokyo"), ("bo", "America/Chicago")],
        "the edit survived; the new rep was seeded"
    );
    edit["time_zone"] = json!("Europe/Berlin");
    let (status, _) = call(&app, Method::PUT, "/api/reps/ana", ADMIN_TOKEN, &edit).await;
    assert_eq!(status, StatusCode::OK, "still editable after the restart");
    app.stop().await;
}

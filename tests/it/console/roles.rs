//! Who may change what: a viewer sees no action and the server refuses a viewer's
//! forged POST; a form posted from another origin, or without the session's CSRF
//! token, changes nothing.

use std::io::{Read, Write};

use super::browser::Browser;
use super::{dead_letter, draft_only, status_of};
use crate::helpers::{ADMIN_TOKEN, TestDb, VIEWER_TOKEN, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    a_viewer_sees_no_action_and_a_forged_viewer_post_is_refused,
    a_cross_origin_form_changes_nothing,
    forwarding_headers_count_only_from_a_trusted_proxy
);

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn a_viewer_sees_no_action_and_a_forged_viewer_post_is_refused(db: TestDb) {
    let app = spawn_app(&db).await;
    let store = app.app.state.store.clone();
    let dead = dead_letter(&store).await;
    let browser = Browser::start(&app.address, &db).await;
    browser.sign_in(VIEWER_TOKEN, "vic").await;

    browser.open(&format!("/leads/{dead}")).await;
    assert!(browser.text("main").await.contains("Dead-lettered"));
    assert_eq!(
        browser.count("main form").await,
        0,
        "a viewer sees no action"
    );
    browser.check_page("lead-viewer").await;
    browser.open("/settings").await;
    // The suppression search is a GET form: reading, not an action.
    assert_eq!(
        browser.count("main form[method=post]").await,
        0,
        "a viewer sees no action"
    );
    assert_eq!(browser.count("main form[role=search]").await, 1);
    browser.open("/leads?status=dead_lettered").await;
    assert_eq!(browser.count("main form[method=post]").await, 0);

    let (cookie, csrf) = browser.credentials().await;
    // htmx asks for the list's fragment; caches must key on that header.
    let fragment = client()
        .get(format!("{}/leads", app.address))
        .header("cookie", &cookie)
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(fragment.status(), 200);
    assert_eq!(fragment.headers()["vary"], "HX-Request");
    let body = fragment.text().await.unwrap();
    assert!(
        body.starts_with("<div id=\"leads-table\"") && !body.contains("<html"),
        "{body}"
    );
    let origin = browser.base.clone();
    for (path, form) in [
        (
            format!("/leads/{dead}/retry"),
            vec![("reason", "forged"), ("confirm", "yes")],
        ),
        (
            "/settings/mode".to_string(),
            vec![
                ("draft_only", "false"),
                ("reason", "forged"),
                ("confirm", "yes"),
            ],
        ),
    ] {
        let mut fields = form.clone();
        fields.push(("csrf", csrf.as_str()));
        let refused = client()
            .post(format!("{}{path}", app.address))
            .header("cookie", &cookie)
            .header("origin", &origin)
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403, "{path}");
    }
    assert_eq!(status_of(&store, &dead).await, "dead_lettered");
    assert!(draft_only(&store).await);
    browser.quit().await;
    app.stop().await;
}

/// Serves one page, on another origin, whose form posts to the console at once.
fn attacker_page(target: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let html = format!(
        "<!doctype html><html><body><form id=f method=post action=\"{target}/settings/mode\">\
         <input name=draft_only value=false><input name=reason value=pwned><input name=confirm value=yes></form>\
         <script>document.getElementById('f').submit()</script></body></html>"
    );
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten().take(4) {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{html}",
                html.len()
            );
        }
    });
    // Same site as the console (localhost), other origin (port): the cookie goes along.
    format!("http://localhost:{port}/")
}

async fn a_cross_origin_form_changes_nothing(db: TestDb) {
    let app = spawn_app(&db).await;
    let store = app.app.state.store.clone();
    let browser = Browser::start(&app.address, &db).await;
    browser.sign_in(ADMIN_TOKEN, "maria").await;

    browser.open_url(&attacker_page(&browser.base)).await;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert!(draft_only(&store).await, "the forged form changed nothing");
    let body = browser.text("body").await;
    assert!(
        body.contains("refused") || body.contains("out of date"),
        "{body}"
    );

    // Even with the real token, a browser's request from another origin is refused.
    let (cookie, csrf) = browser
        .credentials_from(&format!("{}/settings", browser.base))
        .await;
    // A POST switching sending on, with `csrf` and `headers`: its status.
    let switch_on = async |csrf: &str, headers: &[(&str, &str)]| {
        let mut post = client()
            .post(format!("{}/settings/mode", app.address))
            .header("cookie", &cookie);
        for (name, value) in headers {
            post = post.header(*name, *value);
        }
        post.form(&[
            ("draft_only", "false"),
            ("reason", "x"),
            ("confirm", "yes"),
            ("csrf", csrf),
        ])
        .send()
        .await
        .unwrap()
        .status()
    };
    let other_origin = ("origin", "http://evil.example");
    assert_eq!(switch_on(&csrf, &[other_origin]).await, 403);
    // Nor can the request claim to have been sent to the other origin's host:
    // forwarding headers from a peer that is no trusted proxy count for nothing.
    let claimed = [
        other_origin,
        ("x-forwarded-host", "evil.example"),
        ("forwarded", "host=evil.example;proto=http"),
    ];
    assert_eq!(switch_on(&csrf, &claimed).await, 403);
    // Without a token, from our own origin: refused too.
    assert_eq!(switch_on("", &[]).await, 403);
    assert!(draft_only(&store).await);
    browser.quit().await;
    app.stop().await;
}

/// Signs in with the admin token over plain HTTP, sending `headers`; the address
/// the new session recorded for its client.
async fn signed_in_from(app: &crate::helpers::TestApp, headers: &[(&str, &str)]) -> String {
    let page = client()
        .get(format!("{}/signin", app.address))
        .send()
        .await
        .unwrap();
    let csrf = crate::helpers::cookie(&page, "sa_signin").expect("a sign-in cookie");
    let mut post = client()
        .post(format!("{}/signin", app.address))
        .header("cookie", format!("sa_signin={csrf}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("token", ADMIN_TOKEN),
            ("name", "ops"),
        ]);
    for (name, value) in headers {
        post = post.header(*name, *value);
    }
    let signed_in = post.send().await.unwrap();
    assert_eq!(signed_in.status(), 303);
    let session = crate::helpers::cookie(&signed_in, "sa_console").expect("a session");
    app.app
        .state
        .store
        .run(move |c| sales_agent::store::sessions::find_live(c, &session))
        .await
        .unwrap()
        .and_then(|s| s.client_ip)
        .expect("the session recorded an address")
}

async fn forwarding_headers_count_only_from_a_trusted_proxy(db: TestDb) {
    let forged = [
        ("x-forwarded-for", "203.0.113.9"),
        ("x-forwarded-host", "agent.example.com"),
        ("x-forwarded-proto", "https"),
    ];
    let app = spawn_app(&db).await;
    assert_eq!(signed_in_from(&app, &forged).await, "127.0.0.1");
    app.stop().await;

    let mut config = crate::helpers::test_config(&db);
    config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    let app = crate::helpers::spawn_app_with(config).await;
    assert_eq!(signed_in_from(&app, &forged).await, "203.0.113.9");
    app.stop().await;
}

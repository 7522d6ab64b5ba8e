//! MIME building: threading headers, unsubscribe headers, and header injection.

use super::*;

fn email() -> OutgoingEmail {
    OutgoingEmail {
        from: Mailbox {
            name: Some("Rita Rep".into()),
            email: "rita@seller.com".into(),
        },
        to: vec![Mailbox {
            name: Some("Bob Buyer".into()),
            email: "bob@buyer.com".into(),
        }],
        subject: "Your demo request".into(),
        date: DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
        message_id: message_id("wf-1", "deliver", "seller.com"),
        reply_to_parent: None,
        unsubscribe: Some(Unsubscribe {
            https: "https://app.seller.com/u/opaque".into(),
            mailto: Some("mailto:unsub+opaque@seller.com".into()),
        }),
        text: "Hello Bob".into(),
        html: Some("<p>Hello Bob</p>".into()),
    }
}

/// The header block, unfolded, one header per entry.
fn headers(message: &[u8]) -> Vec<String> {
    let text = String::from_utf8(message.to_vec()).unwrap();
    let head = text.split("\r\n\r\n").next().unwrap();
    let mut out: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            out.last_mut().unwrap().push_str(line);
        } else {
            out.push(line.to_string());
        }
    }
    out
}

fn header<'a>(all: &'a [String], name: &str) -> Vec<&'a str> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    all.iter()
        .filter(|h| h.to_ascii_lowercase().starts_with(&prefix))
        .map(|h| h[prefix.len()..].trim())
        .collect()
}

#[test]
fn a_new_message_has_its_deterministic_id_and_one_click_unsubscribe() {
    let all = headers(&build(&email()).unwrap());
    assert_eq!(header(&all, "Message-ID"), ["<sa.wf-1.deliver@seller.com>"]);
    assert_eq!(header(&all, "Subject"), ["Your demo request"]);
    assert_eq!(
        header(&all, "List-Unsubscribe"),
        ["<https://app.seller.com/u/opaque>, <mailto:unsub+opaque@seller.com>"]
    );
    assert_eq!(
        header(&all, "List-Unsubscribe-Post"),
        ["List-Unsubscribe=One-Click"]
    );
    assert!(header(&all, "In-Reply-To").is_empty());
    assert_eq!(header(&all, "Date").len(), 1);
    let body = String::from_utf8(build(&email()).unwrap()).unwrap();
    assert!(body.contains("multipart/alternative"));
}

#[test]
fn a_reply_carries_in_reply_to_references_and_the_re_subject() {
    let mut e = email();
    e.reply_to_parent = Some(Parent {
        message_id: "<p2@buyer.com>".into(),
        references: vec!["<p1@buyer.com>".into()],
        subject: "Pricing question".into(),
    });
    let all = headers(&build(&e).unwrap());
    assert_eq!(header(&all, "In-Reply-To"), ["<p2@buyer.com>"]);
    assert_eq!(
        header(&all, "References"),
        ["<p1@buyer.com> <p2@buyer.com>"]
    );
    assert_eq!(header(&all, "Subject"), ["Re: Pricing question"]);
}

#[test]
fn reply_subjects_do_not_stack() {
    assert_eq!(reply_subject("RE: Pricing"), "RE: Pricing");
    assert_eq!(reply_subject("Pricing"), "Re: Pricing");
}

type Mutation = Box<dyn Fn(&mut OutgoingEmail)>;

#[test]
fn no_field_can_inject_a_header() {
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "to name",
            Box::new(|e| e.to[0].name = Some("Bob\r\nBcc: victim@x.com".into())),
        ),
        (
            "to email",
            Box::new(|e| e.to[0].email = "bob@buyer.com\r\nBcc: victim@x.com".into()),
        ),
        (
            "from name",
            Box::new(|e| e.from.name = Some("Rita\nBcc: victim@x.com".into())),
        ),
        (
            "subject",
            Box::new(|e| e.subject = "Hi\r\nBcc: victim@x.com".into()),
        ),
        (
            "subject lf",
            Box::new(|e| e.subject = "Hi\nBcc: victim@x.com".into()),
        ),
        (
            "message id",
            Box::new(|e| e.message_id = "a@b\r\nBcc: victim@x.com".into()),
        ),
        (
            "unsubscribe",
            Box::new(|e| {
                e.unsubscribe.as_mut().unwrap().https = "https://x/\r\nBcc: victim@x.com".into()
            }),
        ),
        (
            "parent subject",
            Box::new(|e| {
                e.reply_to_parent = Some(Parent {
                    message_id: "p@x.com".into(),
                    references: vec![],
                    subject: "Hi\r\nBcc: victim@x.com".into(),
                })
            }),
        ),
        (
            "references",
            Box::new(|e| {
                e.reply_to_parent = Some(Parent {
                    message_id: "p@x.com".into(),
                    references: vec!["a@x.com>\r\nBcc: <victim@x.com".into()],
                    subject: "Hi".into(),
                })
            }),
        ),
    ];
    for (what, mutate) in cases {
        let mut e = email();
        mutate(&mut e);
        match build(&e) {
            Err(_) => {}
            Ok(bytes) => {
                let all = headers(&bytes);
                assert!(header(&all, "Bcc").is_empty(), "{what} injected a header");
                panic!("{what}: a line break in a header value was accepted");
            }
        }
    }
}

#[test]
fn internationalised_domains_go_into_headers_as_punycode() {
    let mut message = email();
    message.to[0].email = "ana@münchen.de".into();
    message.to[0].name = Some("Ana Müller".into());
    let raw = build(&message).unwrap();
    let all = headers(&raw);
    let to = header(&all, "To")[0];
    assert!(to.ends_with("<ana@xn--mnchen-3ya.de>"), "{to}");
    assert!(raw.is_ascii(), "{}", String::from_utf8_lossy(&raw));
    assert_eq!(
        ascii_domain("li@例え.テスト").as_deref(),
        Some("li@xn--r8jz45g.xn--zckzah")
    );
    message.to[0].email = "ana@xn--zz-.com".into();
    assert!(build(&message).is_err());
}

#[test]
fn display_names_with_specials_are_quoted_and_read_back_as_written() {
    for name in [
        "O'Neil, Ana",
        "Ana \"the boss\" Ruiz",
        "Ana <ana@evil.test>",
        "José Müller; Bcc",
        "田中 太郎",
        "Ana (CTO) @ Acme",
    ] {
        let mut message = email();
        message.to[0].name = Some(name.into());
        let raw = build(&message).unwrap();
        let parsed = mail_parser::MessageParser::default()
            .parse(&raw[..])
            .unwrap();
        let to: Vec<_> = parsed.to().unwrap().iter().collect();
        assert_eq!(to.len(), 1, "{name}: one recipient");
        assert_eq!(to[0].name(), Some(name), "{name}");
        assert_eq!(to[0].address(), Some("bob@buyer.com"), "{name}");
    }
}

#[test]
fn a_line_break_in_the_body_stays_in_the_body() {
    let mut e = email();
    e.text = "Hi\r\nBcc: victim@x.com\r\n".into();
    e.html = None;
    let bytes = build(&e).unwrap();
    assert!(header(&headers(&bytes), "Bcc").is_empty());
}

#[test]
fn raw_is_base64url_without_plus_or_slash() {
    let raw = to_raw(&[0xfb, 0xff, 0xfe]);
    assert_eq!(raw, "-__-");
}

proptest::proptest! {
    #[test]
    fn no_name_or_subject_adds_a_header(name in "\\PC*|[a-zA-Z:\r\n ]*", subject in "\\PC*|[a-zA-Z:\r\n ]*") {
        let mut e = email();
        e.to[0].name = Some(name);
        e.subject = subject;
        if let Ok(bytes) = build(&e) {
            let all = headers(&bytes);
            let names: Vec<String> = all
                .iter()
                .map(|h| h.split(':').next().unwrap_or("").to_ascii_lowercase())
                .collect();
            let expected = [
                "from", "to", "subject", "date", "message-id", "list-unsubscribe",
                "list-unsubscribe-post", "mime-version", "content-type",
            ];
            for n in &names {
                proptest::prop_assert!(expected.contains(&n.as_str()), "unexpected header {n:?}");
            }
            proptest::prop_assert_eq!(names.len(), expected.len());
        }
    }
}

mod from_other_mailers {
    use proptest::prelude::*;

    use super::*;

    /// Subjects and ids as other mailers write them, hostile ones included.
    fn wild() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[ -~\\t\\r\\n\\u{7}\\u{b}\\u{1b}\\u{85}\\u{2028}\\u{2029}\\u{feff}é漢]{0,80}",
            "<?[a-z0-9.@ <>\\[\\]\"\\\\,-]{0,40}>?",
        ]
    }

    proptest! {
        /// Whatever Gmail returned, a cleaned subject can head a reply.
        #[test]
        fn a_cleaned_subject_always_builds_a_reply(subject in wild(), id in wild()) {
            let clean = header_safe_text(&subject, 200);
            prop_assert!(clean.chars().count() <= 200);
            let separated = clean.chars().any(|c| c.is_control() || c == '\u{2028}');
            prop_assert!(!separated, "{:?}", clean);
            let parent_id = valid_message_id(&id).unwrap_or_else(|| "p@example.com".into());
            let mut mail = email();
            mail.reply_to_parent = Some(Parent {
                message_id: parent_id,
                references: vec![],
                subject: clean,
            });
            prop_assert!(build(&mail).is_ok());
        }

        /// An id accepted for threading is one `build` takes, in both places.
        #[test]
        fn an_accepted_message_id_always_threads(id in wild()) {
            if let Some(valid) = valid_message_id(&id) {
                prop_assert!(valid.is_ascii() && valid.contains('@'));
                let mut mail = email();
                mail.reply_to_parent = Some(Parent {
                    message_id: valid.clone(),
                    references: vec![valid],
                    subject: "Hello".into(),
                });
                prop_assert!(build(&mail).is_ok());
            }
        }
    }

    #[test]
    fn ids_without_a_usable_address_part_are_refused() {
        for bad in [
            "<no-at-sign>",
            "<a b@x.y>",
            "<@x.y>",
            "<a@>",
            "<>",
            "",
            "<schlüssel@x.y>",
            "<a@b@c>",
            "<a..b@x.y>",
        ] {
            assert_eq!(valid_message_id(bad), None, "{bad}");
        }
        assert_eq!(
            valid_message_id(" <CAK9.laura+1@mail.example.com> ").as_deref(),
            Some("CAK9.laura+1@mail.example.com")
        );
        assert_eq!(
            valid_message_id("<id@[127.0.0.1]>").as_deref(),
            Some("id@[127.0.0.1]")
        );
    }
}

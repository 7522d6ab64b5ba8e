//! Step 2, validate and normalise: the submission becomes a [`Lead`] — email
//! checked and lowercased, names split, every field made plain text once
//! (`domain::normalise`: markup, entities, control and hidden characters,
//! sizes) — or is skipped with a reason.

use super::{StepCx, StepDone, StepError};
use crate::domain::WorkflowStatus;
pub use crate::domain::lead::{Lead, Rejection, ValidationRules, validate};

/// Runs the step: a lead, or the workflow ends skipped with the reason.
pub async fn run(cx: &StepCx<'_>) -> Result<StepDone, StepError> {
    let rules = ValidationRules {
        allowed_forms: cx.services.config.engine.allowed_forms.clone(),
        ..ValidationRules::default()
    };
    Ok(match validate(cx.submission, &rules) {
        Ok(lead) => StepDone::ok(lead),
        Err(rejection) => StepDone::finish(WorkflowStatus::Skipped, rejection.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FormSubmission;
    use crate::intake::parse;

    fn submission(values: &[(&str, &str)]) -> FormSubmission {
        let values: Vec<_> = values
            .iter()
            .map(|(n, v)| serde_json::json!({"name": n, "value": v}))
            .collect();
        parse(
            serde_json::json!({"formGuid": "demo", "values": values})
                .to_string()
                .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn a_lead_is_lowercased_trimmed_and_split() {
        let s = submission(&[
            ("email", "  José.Ñúñez@Example.COM "),
            ("name", "José  María Ñúñez"),
            ("company", " Acme\tGmbH "),
        ]);
        let lead = validate(&s, &ValidationRules::default()).unwrap();
        assert_eq!(lead.email, "josé.ñúñez@example.com");
        assert_eq!(lead.email_domain, "example.com");
        assert_eq!(lead.first_name.as_deref(), Some("José"));
        assert_eq!(lead.last_name.as_deref(), Some("María Ñúñez"));
        assert_eq!(lead.company.as_deref(), Some("Acme GmbH"));
    }

    #[test]
    fn invalid_emails_are_rejected() {
        for bad in [
            "ana",
            "ana@",
            "@x.com",
            "ana@localhost",
            "ana@x..com",
            "a b@x.com",
            "ana@x.com\r\nBcc: v@x.com",
        ] {
            let s = submission(&[("email", bad)]);
            assert_eq!(
                validate(&s, &ValidationRules::default()),
                Err(Rejection::InvalidEmail),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn only_allowlisted_forms_pass_when_an_allowlist_is_set() {
        let s = submission(&[("email", "a@b.co")]);
        let rules = ValidationRules {
            allowed_forms: vec!["pricing".into()],
            ..ValidationRules::default()
        };
        assert_eq!(
            validate(&s, &rules),
            Err(Rejection::FormNotAllowed("demo".into()))
        );
        let rules = ValidationRules {
            allowed_forms: vec!["demo".into()],
            ..ValidationRules::default()
        };
        assert!(validate(&s, &rules).is_ok());
    }

    #[test]
    fn header_breaking_characters_never_survive_in_single_line_fields() {
        let s = submission(&[
            ("email", "a@b.co"),
            ("firstname", "Bob\r\nBcc: victim"),
            ("lastname", "Bob\u{2028}Bcc: victim@x.com"),
            ("company", "Acme\u{85}Bcc: x"),
            ("message", "line one\r\nline two\u{0}"),
        ]);
        let lead = validate(&s, &ValidationRules::default()).unwrap();
        // A name with a line break is no name; other fields join their lines.
        assert_eq!(lead.first_name, None);
        assert_eq!(lead.last_name, None);
        assert_eq!(lead.withheld, ["first_name", "last_name"]);
        assert_eq!(lead.company.as_deref(), Some("Acme Bcc: x"));
        assert_eq!(lead.message.as_deref(), Some("line one\nline two"));
    }

    #[test]
    fn every_field_is_plain_text_before_anything_reads_it() {
        let s = submission(&[
            ("email", "a@b.co"),
            ("firstname", "<b>ana</b>"),
            ("lastname", "&lt;i&gt;Ruiz&#x3C;/i&#x3E;"),
            ("company", "<script>alert(1)</script>Acme &amp; Co"),
            ("jobtitle", "Head\u{202e} of IT<!-- x -->"),
            ("message", "<p>Hello</p><p>We &hearts; demos</p>"),
        ]);
        let lead = validate(&s, &ValidationRules::default()).unwrap();
        assert_eq!(lead.first_name.as_deref(), Some("ana"));
        assert_eq!(lead.last_name.as_deref(), Some("Ruiz"));
        assert_eq!(lead.company.as_deref(), Some("Acme & Co"));
        assert_eq!(lead.job_title.as_deref(), Some("Head of IT"));
        assert_eq!(lead.message.as_deref(), Some("Hello\n\nWe \u{2665} demos"));
        // A field that is nothing but markup is absent, not empty.
        let s = submission(&[("email", "a@b.co"), ("company", "<script>x</script>")]);
        assert_eq!(
            validate(&s, &ValidationRules::default()).unwrap().company,
            None
        );
    }

    #[test]
    fn internationalised_domains_must_have_an_ascii_form() {
        let s = submission(&[("email", "Ana@München.de")]);
        let lead = validate(&s, &ValidationRules::default()).unwrap();
        assert_eq!(lead.email, "ana@münchen.de");
        let s = submission(&[("email", "ana@xn--zz-.com")]);
        assert_eq!(
            validate(&s, &ValidationRules::default()),
            Err(Rejection::InvalidEmail)
        );
    }

    #[test]
    fn oversized_fields_are_cut_and_reported() {
        let long = "ä".repeat(300);
        let s = submission(&[
            ("email", "a@b.co"),
            ("company", &long),
            ("message", &"x".repeat(6000)),
        ]);
        let lead = validate(&s, &ValidationRules::default()).unwrap();
        assert_eq!(lead.company.as_ref().map(|c| c.chars().count()), Some(200));
        assert_eq!(lead.message.as_ref().map(|m| m.len()), Some(5000));
        assert_eq!(lead.truncated, ["company", "message"]);
    }
}

//! The console's templates: minijinja, compiled into the binary with
//! `include_str!`, parsed once, HTML auto-escaped (every name ends in `.html`).
//! Prospect text reaches a page only through `{{ … }}`, never `|safe`.

use std::sync::LazyLock;

use minijinja::Environment;

/// Every template, by name: the unit test below parses them all.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("error.html", include_str!("templates/error.html")),
    (
        "signin_shell.html",
        include_str!("templates/signin_shell.html"),
    ),
    ("signin.html", include_str!("templates/signin.html")),
    (
        "signin_once.html",
        include_str!("templates/signin_once.html"),
    ),
    ("overview.html", include_str!("templates/overview.html")),
    ("leads.html", include_str!("templates/leads.html")),
    (
        "leads_table.html",
        include_str!("templates/leads_table.html"),
    ),
    ("lead.html", include_str!("templates/lead.html")),
    ("draft.html", include_str!("templates/draft.html")),
    ("drafts.html", include_str!("templates/drafts.html")),
    ("settings.html", include_str!("templates/settings.html")),
    ("people.html", include_str!("templates/people.html")),
    ("reps.html", include_str!("templates/reps.html")),
    ("assets.html", include_str!("templates/assets.html")),
    (
        "experiments.html",
        include_str!("templates/experiments.html"),
    ),
    ("experiment.html", include_str!("templates/experiment.html")),
    ("contacts.html", include_str!("templates/contacts.html")),
    ("contact.html", include_str!("templates/contact.html")),
    ("rep.html", include_str!("templates/rep.html")),
    ("reference.html", include_str!("templates/reference.html")),
    ("rep_fields.html", include_str!("templates/rep_fields.html")),
    (
        "voice_train.html",
        include_str!("templates/voice_train.html"),
    ),
];

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_filter("label", |raw: String| super::labels::label(&raw));
    for (name, source) in TEMPLATES {
        // A template that does not parse fails the unit test below, not a request.
        if let Err(error) = env.add_template(name, source) {
            tracing::error!(%error, template = name, "console template does not parse");
        }
    }
    env
});

/// Renders template `name` with `context`.
pub fn render(name: &str, context: minijinja::Value) -> Result<String, minijinja::Error> {
    ENV.get_template(name)?.render(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn the_assets_page_draws_with_its_forms() {
        let frame = minijinja::context! {
            me => minijinja::context! { actor => "admin:maria", is_admin => true, role => "admin" },
            csrf => "token", mode => "draft_only", nav => "assets", css_path => "/c.css", htmx_path => "/h.js",
        };
        let file = minijinja::context! { action => "/assets/f1/tags", name => "One-pager", folder => "d1", kind => "pdf", link => None::<String>,
        tags => "intent: demo", values => vec![("intent", "demo")], edited => false, active => true };
        let html = render(
            "assets.html",
            minijinja::context! { ..frame, ..minijinja::context! {
                folders => Vec::<()>::new(), files => vec![file], last_sync => None::<String>,
                synced => minijinja::context! { synced => None::<usize>, folders => 0, deactivated => 0 },
            }},
        )
        .unwrap();
        assert!(
            html.contains("id=\"assets\"") && html.contains("tag-1-intent"),
            "{html}"
        );
    }

    #[test]
    fn prospect_text_is_escaped() {
        let html = render(
            "error.html",
            minijinja::context! { status => 400, reason => "Bad Request", message => "<script>alert(1)</script>" },
        )
        .unwrap();
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }
}

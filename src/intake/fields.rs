//! The one place that maps HubSpot property and form-field names to the names the
//! rest of the service uses. Add a form's custom field here and nowhere else.

/// Canonical field name → the HubSpot names that carry it, first match wins.
pub const FIELD_MAP: &[(&str, &[&str])] = &[
    ("email", &["email"]),
    ("first_name", &["firstname", "first_name"]),
    ("last_name", &["lastname", "last_name"]),
    ("full_name", &["name", "full_name", "fullname"]),
    ("company", &["company", "company_name"]),
    ("job_title", &["jobtitle", "job_title"]),
    ("phone", &["phone", "mobilephone"]),
    ("website", &["website"]),
    ("industry", &["industry"]),
    ("company_size", &["numemployees", "company_size"]),
    ("country", &["country"]),
    ("state", &["state"]),
    ("city", &["city"]),
    ("time_zone", &["hs_timezone", "timezone", "time_zone"]),
    (
        "language",
        &["hs_language", "language", "preferred_language"],
    ),
    ("message", &["message", "comments", "how_can_we_help"]),
    (
        "intent",
        &["inquiry_type", "reason_for_contact", "interest"],
    ),
];

/// The canonical name for a HubSpot field, if it is one we use.
pub fn canonical_name(hubspot_name: &str) -> Option<&'static str> {
    let lower = hubspot_name.trim().to_ascii_lowercase();
    FIELD_MAP
        .iter()
        .find(|(_, names)| names.contains(&lower.as_str()))
        .map(|(canonical, _)| *canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hubspot_names_map_to_canonical_names() {
        assert_eq!(canonical_name("firstname"), Some("first_name"));
        assert_eq!(canonical_name("LastName"), Some("last_name"));
        assert_eq!(canonical_name("hs_timezone"), Some("time_zone"));
        assert_eq!(canonical_name("favourite_colour"), None);
    }

    #[test]
    fn no_hubspot_name_maps_twice() {
        let mut seen = std::collections::BTreeSet::new();
        for (_, names) in FIELD_MAP {
            for name in *names {
                assert!(seen.insert(*name), "{name} is mapped twice");
            }
        }
    }
}

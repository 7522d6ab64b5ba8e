//! Step 1, intake: what turns a signed HubSpot delivery into a submission worth
//! persisting — signature checks, payload shapes, the field map and the
//! idempotency key. Pure functions; the web handler and the store do the I/O.

pub mod fields;
pub mod payload;
pub mod signature;

pub use crate::domain::{FormSubmission, PayloadShape, idempotency_key};

pub use payload::{PayloadError, parse};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_comes_from_portal_form_and_conversion() {
        let body = br#"{"portalId": 1, "formGuid": "f", "conversionId": "c", "values": [{"name": "email", "value": "a@b.c"}]}"#;
        assert_eq!(idempotency_key(&parse(body).unwrap()), "hubspot:1:f:c");
    }

    #[test]
    fn the_older_layout_keys_on_its_submission_id_and_stays_stable() {
        let body = br#"{"portalId": 1, "formId": "f", "formSubmissionId": "c", "timestamp": 5,
            "fieldValues": [{"name": "email", "value": "a@b.c"}]}"#;
        let key = idempotency_key(&parse(body).unwrap());
        // The same submission as the Forms API posts it gets the same key.
        let forms_api = br#"{"portalId": 1, "formGuid": "f", "conversionId": "c",
            "values": [{"name": "email", "value": "a@b.c"}]}"#;
        assert_eq!(key, "hubspot:1:f:c");
        assert_eq!(key, idempotency_key(&parse(forms_api).unwrap()));
        // Without a submission id: a hash of the stable fields, order-independent.
        let a = parse(br#"{"formId": "f", "timestamp": 5, "fieldValues": [{"name": "email", "value": "A@b.c"}, {"name": "firstname", "value": "A"}]}"#).unwrap();
        let b = parse(br#"{"fieldValues": [{"name": "firstname", "value": "A"}, {"name": "email", "value": "a@b.c"}], "timestamp": 5, "formId": "f"}"#).unwrap();
        let c = parse(br#"{"formId": "f", "timestamp": 6, "fieldValues": [{"name": "email", "value": "a@b.c"}, {"name": "firstname", "value": "A"}]}"#).unwrap();
        assert!(idempotency_key(&a).starts_with("sha256:"));
        assert_eq!(idempotency_key(&a), idempotency_key(&b));
        assert_ne!(idempotency_key(&a), idempotency_key(&c));
    }

    #[test]
    fn without_a_conversion_id_the_key_hashes_stable_fields_only() {
        let a =
            parse(br#"{"properties": {"email": "A@b.c", "firstname": "A"}, "vid": 5}"#).unwrap();
        let same =
            parse(br#"{"vid": 5, "properties": {"firstname": "A", "email": "a@b.c"}}"#).unwrap();
        let other =
            parse(br#"{"properties": {"email": "a@b.c", "firstname": "B"}, "vid": 5}"#).unwrap();
        assert!(idempotency_key(&a).starts_with("sha256:"));
        assert_eq!(idempotency_key(&a), idempotency_key(&same));
        assert_ne!(idempotency_key(&a), idempotency_key(&other));
    }
}

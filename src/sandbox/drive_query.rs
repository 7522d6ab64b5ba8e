//! Drive's `q` language, the clauses the service uses: `'<id>' in parents`,
//! `trashed = true|false`, `name contains|=|!= '…'`, `fullText contains '…'`,
//! `mimeType = '…'` and `!=`, `appProperties has { key='…' and value='…' }` (and
//! `properties has`), joined by `and`; string values take `\'` and `\\`
//! escapes. Anything else is refused, as Drive refuses it, with 400.

use super::fixture::DriveFileFixture as File;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Str(String),
    Word(String),
    Op(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    InParents(String),
    Trashed(bool),
    NameContains(String),
    NameIs(String, bool),
    FullText(String),
    MimeType(String, bool),
    /// `appProperties has { key='k' and value='v' }`.
    AppProperty(String, String),
    /// `properties has { key='k' and value='v' }`.
    Property(String, String),
}

fn tokenize(q: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = q.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '\'' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some('\\') => match chars.next() {
                            Some(e @ ('\'' | '\\')) => s.push(e),
                            _ => return Err("Invalid escape in string".into()),
                        },
                        Some('\'') => break,
                        Some(ch) => s.push(ch),
                        None => return Err("Unterminated string".into()),
                    }
                }
                out.push(Token::Str(s));
            }
            '=' => {
                chars.next();
                out.push(Token::Op("="));
            }
            '{' => {
                chars.next();
                out.push(Token::Op("{"));
            }
            '}' => {
                chars.next();
                out.push(Token::Op("}"));
            }
            '!' => {
                chars.next();
                if chars.next() != Some('=') {
                    return Err("Expected '!='".into());
                }
                out.push(Token::Op("!="));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut w = String::new();
                while let Some(&ch) = chars
                    .peek()
                    .filter(|ch| ch.is_alphanumeric() || **ch == '_')
                {
                    w.push(ch);
                    chars.next();
                }
                out.push(Token::Word(w));
            }
            other => return Err(format!("Unexpected character {other:?}")),
        }
    }
    Ok(out)
}

/// Parses `q` into clauses that must all hold.
pub fn parse(q: &str) -> Result<Vec<Clause>, String> {
    let tokens = tokenize(q)?;
    let mut clauses = Vec::new();
    let mut rest = tokens.as_slice();
    while !rest.is_empty() {
        let (clause, used) = clause(rest)?;
        clauses.push(clause);
        rest = &rest[used..];
        match rest.first() {
            None => break,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("and") && rest.len() > 1 => {
                rest = &rest[1..]
            }
            Some(t) => return Err(format!("Expected 'and', found {t:?}")),
        }
    }
    Ok(clauses)
}

fn clause(t: &[Token]) -> Result<(Clause, usize), String> {
    use Token::*;
    let word = |i: usize, w: &str| matches!(t.get(i), Some(Word(x)) if x.eq_ignore_ascii_case(w));
    match (t.first(), t.get(1), t.get(2)) {
        (Some(Str(id)), _, _) if word(1, "in") && word(2, "parents") => {
            Ok((Clause::InParents(id.clone()), 3))
        }
        (Some(Word(f)), Some(Op(op)), Some(Word(v))) if f == "trashed" => {
            let b = match v.as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(format!("Invalid value for trashed: {v}")),
            };
            Ok((Clause::Trashed(if *op == "=" { b } else { !b }), 3))
        }
        (Some(Word(f)), Some(Word(c)), Some(Str(v))) if f == "name" && c == "contains" => {
            Ok((Clause::NameContains(v.clone()), 3))
        }
        (Some(Word(f)), Some(Op(op)), Some(Str(v))) if f == "name" => {
            Ok((Clause::NameIs(v.clone(), *op == "="), 3))
        }
        (Some(Word(f)), Some(Word(c)), Some(Str(v))) if f == "fullText" && c == "contains" => {
            Ok((Clause::FullText(v.clone()), 3))
        }
        (Some(Word(f)), Some(Op(op)), Some(Str(v))) if f == "mimeType" => {
            Ok((Clause::MimeType(v.clone(), *op == "="), 3))
        }
        (Some(Word(f)), Some(Word(has)), Some(Op("{")))
            if (f == "appProperties" || f == "properties") && has == "has" =>
        {
            // { key = '…' and value = '…' }
            match &t[3..t.len().min(11)] {
                [
                    Word(k),
                    Op("="),
                    Str(key),
                    Word(and),
                    Word(v),
                    Op("="),
                    Str(value),
                    Op("}"),
                ] if k == "key" && and.eq_ignore_ascii_case("and") && v == "value" => {
                    let clause = if f == "appProperties" {
                        Clause::AppProperty(key.clone(), value.clone())
                    } else {
                        Clause::Property(key.clone(), value.clone())
                    };
                    Ok((clause, 11))
                }
                _ => Err(format!("Invalid {f} has clause")),
            }
        }
        _ => Err(format!("Invalid query clause near {:?}", t.first())),
    }
}

/// Drive's `name contains` matches a prefix of a word in the name: "HelloWorld"
/// matches 'Hello' but not 'World'.
fn name_contains(name: &str, value: &str) -> bool {
    let (name, value) = (name.to_lowercase(), value.to_lowercase());
    name.char_indices()
        .filter(|(i, _)| *i == 0 || !name[..*i].chars().last().is_some_and(char::is_alphanumeric))
        .any(|(i, _)| name[i..].starts_with(&value))
}

pub fn matches(clauses: &[Clause], f: &File) -> bool {
    clauses.iter().all(|c| match c {
        Clause::InParents(id) => f.parents.iter().any(|p| p == id),
        Clause::Trashed(b) => f.trashed == *b,
        Clause::NameContains(v) => name_contains(&f.name, v),
        Clause::NameIs(v, eq) => (f.name == *v) == *eq,
        Clause::FullText(v) => {
            let v = v.to_lowercase();
            [&f.name, &f.description, &f.text]
                .iter()
                .any(|s| s.to_lowercase().contains(&v))
        }
        Clause::MimeType(v, eq) => (f.mime_type == *v) == *eq,
        Clause::AppProperty(k, v) => f.app_properties.get(k) == Some(v),
        Clause::Property(k, v) => f.properties.get(k) == Some(v),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_in_values_are_unescaped() {
        let clauses = parse(r"name contains 'O\'Brien \\ Co' and trashed = false").expect("parses");
        assert_eq!(
            clauses,
            vec![
                Clause::NameContains(r"O'Brien \ Co".into()),
                Clause::Trashed(false)
            ]
        );
    }

    #[test]
    fn unknown_clauses_and_unterminated_strings_are_refused() {
        assert!(parse("owner = 'x'").is_err());
        assert!(parse("name contains 'x").is_err());
        assert!(parse("trashed = false or trashed = true").is_err());
    }

    #[test]
    fn property_clauses_match_key_and_value() {
        let clauses = parse(
            "appProperties has { key='salesAgentBrief' and value='wf-\\'1' } and trashed = false",
        )
        .expect("parses");
        assert_eq!(
            clauses,
            vec![
                Clause::AppProperty("salesAgentBrief".into(), "wf-'1".into()),
                Clause::Trashed(false)
            ]
        );
        assert!(parse("appProperties has { key='a' }").is_err());
        assert!(parse("appProperties has { value='a' and key='b' }").is_err());
    }

    #[test]
    fn name_contains_is_a_word_prefix_match() {
        assert!(name_contains("HelloWorld deck", "hello"));
        assert!(!name_contains("HelloWorld deck", "world"));
        assert!(name_contains("Case study - Acme", "study"));
    }
}

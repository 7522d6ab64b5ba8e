//! Step 9, select assets: files from the allowlisted Drive folders, ranked by how
//! well their name and description match the lead's intent, industry and words.
//! Links are the files' own `webViewLink`s and nothing else.

use std::collections::BTreeMap;

use crate::compose::template::AssetLink;
use crate::connectors::drive::{FILES_LIST, File};
use crate::connectors::query::DriveQuery;
use crate::engine::{StepCx, StepDone, StepError};
use crate::steps::qualify::Intent;

/// At most this many files are linked.
const MAX_ASSETS: usize = 2;

pub async fn run(cx: &StepCx<'_>) -> Result<StepDone, StepError> {
    let folders = cx.services.config.engine.asset_folders.clone();
    if folders.is_empty() {
        return Ok(StepDone::skipped(Vec::<AssetLink>::new()));
    }
    let rep = cx.rep().await?;
    let mut files = Vec::new();
    // One folder per request: a query the Drive API answers the same everywhere.
    for folder in folders {
        let account = rep.email.clone();
        let query = DriveQuery::new().in_parent(&folder);
        let page = cx
            .services
            .drive(&rep.email, &FILES_LIST, move |d| {
                let (account, query) = (account.clone(), query.clone());
                async move { d.list_files(&account, &query, 100, None).await }
            })
            .await?;
        files.extend(page.files);
    }
    let lead = cx.lead()?;
    let intent = cx
        .state
        .qualification
        .as_ref()
        .map(|q| q.intent)
        .unwrap_or(Intent::Question);
    let industry = cx
        .state
        .company
        .as_ref()
        .and_then(|c| c.industry.clone())
        .or_else(|| lead.industry.clone());
    let words = keywords(
        intent,
        industry.as_deref(),
        lead.message.as_deref().unwrap_or_default(),
    );
    Ok(StepDone::ok(rank(&files, &words)))
}

/// Words that make a file relevant, with their weight: the industry's count
/// most (a case study from the prospect's own field), then the intent's and the
/// longer words of the prospect's message.
fn keywords(intent: Intent, industry: Option<&str>, message: &str) -> BTreeMap<String, usize> {
    let intent_words: &[&str] = match intent {
        Intent::Demo => &["overview", "one-pager", "product", "demo"],
        Intent::Pricing => &["pricing", "plans", "roi", "one-pager"],
        Intent::Partnership => &["partner", "integration"],
        Intent::Support => &["guide", "faq"],
        Intent::Question | Intent::Spam => &["overview", "one-pager"],
    };
    let long_words = |text: &str| -> Vec<String> {
        text.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 5)
            .map(str::to_string)
            .collect()
    };
    let mut words = BTreeMap::new();
    for word in long_words(message) {
        words.insert(word, 1);
    }
    for word in intent_words {
        words.insert(word.to_string(), 1);
    }
    for word in long_words(industry.unwrap_or_default()) {
        words.insert(word, 3);
    }
    words
}

/// The best-matching files with a real link; a name match counts double.
fn rank(files: &[File], words: &BTreeMap<String, usize>) -> Vec<AssetLink> {
    let mut scored: Vec<(usize, &File)> = files
        .iter()
        .filter(|f| {
            f.web_view_link.is_some()
                && f.mime_type.as_deref() != Some("application/vnd.google-apps.folder")
        })
        .map(|f| {
            let name = f.name.to_lowercase();
            let description = f.description.clone().unwrap_or_default().to_lowercase();
            let score = words
                .iter()
                .map(|(w, weight)| {
                    weight
                        * (2 * usize::from(name.contains(w.as_str()))
                            + usize::from(description.contains(w.as_str())))
                })
                .sum();
            (score, f)
        })
        .filter(|(score, _)| *score > 0)
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
    scored
        .into_iter()
        .take(MAX_ASSETS)
        .map(|(_, f)| AssetLink {
            title: f
                .name
                .rsplit_once('.')
                .map(|(stem, _)| stem.to_string())
                .unwrap_or_else(|| f.name.clone()),
            url: f.web_view_link.clone().unwrap_or_default(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, description: &str) -> File {
        File {
            id: name.into(),
            name: name.into(),
            mime_type: Some("application/pdf".into()),
            web_view_link: Some(format!("https://drive.google.com/file/d/{name}/view")),
            description: Some(description.into()),
            modified_time: None,
        }
    }

    #[test]
    fn files_matching_industry_and_intent_rank_first_and_only_real_links_count() {
        let mut no_link = file("Logistics secret.pdf", "logistics");
        no_link.web_view_link = None;
        let files = [
            file("Case study - Retail.pdf", "retail chain"),
            file(
                "Case study - Logistics.pdf",
                "freight and logistics operator",
            ),
            file("Product one-pager.pdf", "overview of the product"),
            no_link,
        ];
        let picked = rank(
            &files,
            &keywords(Intent::Demo, Some("Logistics"), "We run warehouses"),
        );
        let titles: Vec<&str> = picked.iter().map(|a| a.title.as_str()).collect();
        assert_eq!(titles, ["Case study - Logistics", "Product one-pager"]);
        assert!(
            picked
                .iter()
                .all(|a| a.url.starts_with("https://drive.google.com/file/d/"))
        );
    }
}

//! Per-variant results of an experiment: how many contacts each arm got, how many
//! replied and booked, the rates, and whether the differences are significant.

use serde::Serialize;

use super::Variant;
use super::stats::{Significance, compare};
use crate::store::experiments::Assignment;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct VariantResult {
    pub variant: String,
    pub assigned: u64,
    pub replies: u64,
    pub meetings: u64,
    pub reply_rate: Option<f64>,
    pub meeting_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Results {
    pub variants: Vec<VariantResult>,
    /// Do reply rates differ between arms? `None` until the test is defined.
    pub replies_significance: Option<Significance>,
    pub meetings_significance: Option<Significance>,
}

/// Counts the assignments per declared variant (an arm nobody got still shows).
pub fn tally(variants: &[Variant], assignments: &[Assignment]) -> Results {
    let rate = |x: u64, n: u64| (n > 0).then(|| x as f64 / n as f64);
    let rows: Vec<VariantResult> = variants
        .iter()
        .map(|v| {
            let mine = assignments.iter().filter(|a| a.variant == v.name);
            let (mut assigned, mut replies, mut meetings) = (0, 0, 0);
            for a in mine {
                assigned += 1;
                replies += u64::from(a.replied_at.is_some());
                meetings += u64::from(a.meeting_at.is_some());
            }
            VariantResult {
                variant: v.name.clone(),
                assigned,
                replies,
                meetings,
                reply_rate: rate(replies, assigned),
                meeting_rate: rate(meetings, assigned),
            }
        })
        .collect();
    let arms = |f: fn(&VariantResult) -> u64| -> Vec<(u64, u64)> {
        rows.iter().map(|r| (f(r), r.assigned)).collect()
    };
    Results {
        replies_significance: compare(&arms(|r| r.replies)),
        meetings_significance: compare(&arms(|r| r.meetings)),
        variants: rows,
    }
}

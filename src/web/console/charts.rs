//! What the console draws on the server (SVG, no script): the overview's speed
//! to lead p50/p95 per day and its connector health read from this process's
//! metrics; an experiment's reply and meeting rates per variant with their 95%
//! Wilson intervals as error bars.

use chrono::NaiveDate;
use prometheus::core::Collector;
use serde::Serialize;

use crate::metrics::Metrics;
use crate::store::speed::SpeedDay;

/// One day of speed to lead, in seconds.
#[derive(Debug, Serialize)]
pub struct Day {
    pub day: String,
    pub leads: usize,
    pub p50: f64,
    pub p95: f64,
}

/// The chart: one day per column, two lines; coordinates for a 600×200 canvas.
#[derive(Debug, Serialize)]
pub struct SpeedChart {
    pub days: Vec<Day>,
    pub p50_points: String,
    pub p95_points: String,
    pub max_label: String,
    pub labels: Vec<(f64, String)>,
    /// (x, y, "p50" | "p95"): a marker per day with leads, so one day still shows.
    pub dots: Vec<(f64, f64, &'static str)>,
}

/// The chart of the 7 days from `first_day`, from each day's figures (a day
/// missing from `measured` had no lead answered).
pub fn speed_chart(first_day: NaiveDate, measured: &[SpeedDay]) -> SpeedChart {
    let secs = |ms: i64| ms as f64 / 1000.0;
    let days: Vec<Day> = (0..7)
        .map(|i| {
            let day = first_day + chrono::Days::new(i);
            let found = measured.iter().find(|d| d.day == day);
            Day {
                day: day.format("%a %d %b").to_string(),
                leads: found.map_or(0, |d| d.leads as usize),
                p50: found.map_or(0.0, |d| secs(d.p50_ms)),
                p95: found.map_or(0.0, |d| secs(d.p95_ms)),
            }
        })
        .collect();
    let top = days.iter().map(|d| d.p95).fold(1.0_f64, f64::max);
    let xy = |i: usize, v: f64| (40.0 + i as f64 * 90.0, 180.0 - v / top * 160.0);
    let point = |i: usize, v: f64| {
        let (x, y) = xy(i, v);
        format!("{x:.1},{y:.1}")
    };
    let dots = days
        .iter()
        .enumerate()
        .filter(|(_, d)| d.leads > 0)
        .flat_map(|(i, d)| {
            let (x50, y50) = xy(i, d.p50);
            let (x95, y95) = xy(i, d.p95);
            [(x95, y95, "p95"), (x50, y50, "p50")]
        })
        .collect();
    let line = |pick: fn(&Day) -> f64| {
        days.iter()
            .enumerate()
            .filter(|(_, d)| d.leads > 0)
            .map(|(i, d)| point(i, pick(d)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    SpeedChart {
        p50_points: line(|d| d.p50),
        p95_points: line(|d| d.p95),
        max_label: format!("{top:.1} s"),
        labels: days
            .iter()
            .enumerate()
            .map(|(i, d)| (40.0 + i as f64 * 90.0, d.day.clone()))
            .collect(),
        dots,
        days,
    }
}

/// One connector's health since this process started.
#[derive(Debug, Serialize)]
pub struct Health {
    pub connector: String,
    pub breaker: &'static str,
    pub rate_limited: u64,
    pub unauthorized: u64,
    pub limiter_wait_secs: String,
}

fn label<'a>(metric: &'a prometheus::proto::Metric, name: &str) -> &'a str {
    metric
        .get_label()
        .iter()
        .find(|l| l.name() == name)
        .map_or("", |l| l.value())
}

pub fn connector_health(metrics: &Metrics) -> Vec<Health> {
    let mut rows: Vec<Health> = Vec::new();
    fn row(rows: &mut Vec<Health>, connector: &str) -> usize {
        if let Some(i) = rows.iter().position(|r| r.connector == connector) {
            return i;
        }
        rows.push(Health {
            connector: connector.to_string(),
            breaker: "closed",
            rate_limited: 0,
            unauthorized: 0,
            limiter_wait_secs: "0.0".into(),
        });
        rows.len() - 1
    }
    for family in metrics.connector_breaker_state.collect() {
        for m in family.get_metric() {
            let i = row(&mut rows, label(m, "connector"));
            rows[i].breaker = match m.get_gauge().get_value() as i64 {
                0 => "closed",
                1 => "half-open",
                _ => "open",
            };
        }
    }
    for family in metrics.connector_calls.collect() {
        for m in family.get_metric() {
            let count = m.get_counter().get_value() as u64;
            let i = row(&mut rows, label(m, "connector"));
            match label(m, "status") {
                "rate_limited" => rows[i].rate_limited += count,
                "unauthorized" => rows[i].unauthorized += count,
                _ => {}
            }
        }
    }
    for family in metrics.connector_rate_limit_wait.collect() {
        for m in family.get_metric() {
            let i = row(&mut rows, label(m, "connector"));
            rows[i].limiter_wait_secs = format!("{:.1}", m.get_counter().get_value());
        }
    }
    rows.sort_by(|a, b| a.connector.cmp(&b.connector));
    rows
}

/// One rate drawn as a bar from 0 with its interval as an error bar, on a
/// 0–100% axis from x = 120 to 520.
#[derive(Debug, Serialize, PartialEq)]
pub struct RateBar {
    pub y: f64,
    pub end: f64,
    pub low: f64,
    pub high: f64,
    /// "31.0% (25.5–36.6%)", for the table and the bar's title.
    pub text: String,
}

/// A variant's two bars (replies, meetings); `None` when nobody was assigned.
#[derive(Debug, Serialize)]
pub struct VariantBars {
    pub name: String,
    pub label_y: f64,
    pub replies: Option<RateBar>,
    pub meetings: Option<RateBar>,
}

/// Per-variant rates with intervals: what `experiment.html` draws.
#[derive(Debug, Serialize)]
pub struct RatesChart {
    pub variants: Vec<VariantBars>,
    pub height: f64,
    /// (x, "25%") gridlines.
    pub ticks: Vec<(f64, String)>,
}

const RATE_X: f64 = 120.0;
const RATE_WIDTH: f64 = 400.0;
const ROW: f64 = 40.0;

fn rate_bar(successes: u64, trials: u64, y: f64) -> Option<RateBar> {
    let (low, high) = crate::experiments::stats::wilson(successes, trials)?;
    let rate = successes as f64 / trials as f64;
    let x = |r: f64| ((RATE_X + r * RATE_WIDTH) * 10.0).round() / 10.0;
    Some(RateBar {
        y,
        end: x(rate),
        low: x(low),
        high: x(high),
        text: format!(
            "{:.1}% ({:.1}–{:.1}%)",
            rate * 100.0,
            low * 100.0,
            high * 100.0
        ),
    })
}

/// The chart of each variant's (name, assigned, replies, meetings).
pub fn rates_chart(arms: &[(String, u64, u64, u64)]) -> RatesChart {
    let variants = arms
        .iter()
        .enumerate()
        .map(|(i, (name, assigned, replies, meetings))| {
            let top = 10.0 + i as f64 * ROW;
            VariantBars {
                name: name.clone(),
                label_y: top + 16.0,
                replies: rate_bar(*replies, *assigned, top + 8.0),
                meetings: rate_bar(*meetings, *assigned, top + 22.0),
            }
        })
        .collect();
    let height = 10.0 + arms.len() as f64 * ROW + 20.0;
    RatesChart {
        variants,
        height,
        ticks: (0..=4)
            .map(|q| (RATE_X + q as f64 * RATE_WIDTH / 4.0, format!("{}%", q * 25)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_chart_puts_each_measured_day_in_its_column_in_seconds() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let measured = [SpeedDay {
            day: day + chrono::Days::new(2),
            leads: 20,
            p50_ms: 10_000,
            p95_ms: 19_000,
        }];
        let chart = speed_chart(day, &measured);
        assert_eq!(chart.days[2].leads, 20);
        assert_eq!(chart.days[2].p50, 10.0);
        assert_eq!(chart.days[2].p95, 19.0);
        assert_eq!(chart.days[0].leads, 0);
        assert_eq!(chart.max_label, "19.0 s");
        assert_eq!(
            chart.p50_points, "220.0,95.8",
            "one point, on the only day with leads"
        );
    }

    #[test]
    fn rates_chart_draws_each_rate_with_its_wilson_interval() {
        let chart = rates_chart(&[("plain".into(), 10, 5, 0), ("short".into(), 0, 0, 0)]);
        let replies = chart.variants[0].replies.as_ref().unwrap();
        // 5 of 10: 50%, Wilson 23.7–76.3%, on a 400 px axis from x = 120.
        assert_eq!(replies.end, 320.0);
        assert_eq!((replies.low, replies.high), (214.6, 425.4));
        assert_eq!(replies.text, "50.0% (23.7–76.3%)");
        let meetings = chart.variants[0].meetings.as_ref().unwrap();
        assert_eq!(
            (meetings.end, meetings.low, meetings.high),
            (120.0, 120.0, 231.0)
        );
        assert!(
            chart.variants[1].replies.is_none(),
            "nobody assigned: no bar"
        );
        assert_eq!(chart.ticks[4], (520.0, "100%".to_string()));
        assert_eq!(chart.height, 110.0);
    }
}

//! What the overview draws on the server: speed to lead p50/p95 per day as an
//! SVG chart (no script), and connector health read from this process's metrics.

use chrono::{NaiveDate, NaiveDateTime};
use prometheus::core::Collector;
use serde::Serialize;

use crate::metrics::Metrics;

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

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64) * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn speed_chart(first_day: NaiveDate, samples: &[(NaiveDateTime, NaiveDateTime)]) -> SpeedChart {
    let days: Vec<Day> = (0..7)
        .map(|i| {
            let day = first_day + chrono::Days::new(i);
            let mut secs: Vec<f64> = samples
                .iter()
                .filter(|(at, _)| at.date() == day)
                .map(|(at, done)| (*done - *at).num_milliseconds().max(0) as f64 / 1000.0)
                .collect();
            secs.sort_by(f64::total_cmp);
            Day {
                day: day.format("%a %d %b").to_string(),
                leads: secs.len(),
                p50: quantile(&secs, 0.5),
                p95: quantile(&secs, 0.95),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_chart_takes_each_days_median_and_95th_percentile() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let at = day.and_hms_opt(9, 0, 0).unwrap();
        let samples: Vec<_> = (1..=20)
            .map(|s| (at, at + chrono::TimeDelta::seconds(s)))
            .collect();
        let chart = speed_chart(day, &samples);
        assert_eq!(chart.days[0].leads, 20);
        assert_eq!(chart.days[0].p50, 10.0);
        assert_eq!(chart.days[0].p95, 19.0);
        assert_eq!(chart.days[1].leads, 0);
        assert_eq!(
            chart.p50_points, "40.0,95.8",
            "one point, on the only day with leads"
        );
    }
}

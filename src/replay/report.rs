//! The replay report as one self-contained HTML page: figures, issue 10's
//! figures by request category, charts drawn as inline SVG (right-routing
//! against wrong transfers over the accept threshold per engine, accuracy per
//! store, most confused pairs, decode latency histogram), the confusion list
//! with each recording playable, and the per-recording table. No script, no
//! external resource: the page links only the recordings, by relative path, so
//! it can be archived with them as a CI artefact.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::calibrate::EngineCurve;
use super::run::{Comparison, ItemResult, ReplayReport};
use super::score::{CategoryCounts, IssueFigures, Summary, Verdict};

/// What a page can show beyond the run itself (each part optional, so the
/// data model grows without breaking callers).
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Accept-threshold curves, one per engine.
    pub curves: Vec<EngineCurve>,
    /// Recording id → WAV path relative to the page, for `<audio>`.
    pub audio: HashMap<String, String>,
}

/// Escapes text for HTML element content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}\
h1{font-size:22px}h2{font-size:17px;margin-top:28px}\
.figures{display:flex;gap:12px;flex-wrap:wrap}.fig{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:120px}\
.fig b{display:block;font-size:22px}.fig span{color:#666;font-size:12px}\
table{border-collapse:collapse;font-size:12px;width:100%}td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left}\
tr.correct td:first-child{border-left:4px solid #2a9d4b}tr.false_accept td:first-child{border-left:4px solid #d1495b}\
tr.false_reject td:first-child{border-left:4px solid #edae49}tr.none td:first-child{border-left:4px solid #aaa}\
svg text{font-family:system-ui,sans-serif;font-size:12px}";

/// Horizontal bars: one row per (label, value, bar text), values scaled to `max`.
fn bar_chart(rows: &[(String, f64, String)], max: f64, color: &str) -> String {
    let label_w = 260.0;
    let bar_w = 480.0;
    let row_h = 22.0;
    let height = row_h * rows.len().max(1) as f64 + 10.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" role="img">"#,
        label_w + bar_w + 80.0
    );
    if rows.is_empty() {
        svg.push_str(r##"<text x="0" y="16" fill="#666">none</text>"##);
    }
    for (i, (label, value, text)) in rows.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let w = if max > 0.0 {
            (value / max).clamp(0.0, 1.0) * bar_w
        } else {
            0.0
        };
        let _ = write!(
            svg,
            r#"<text x="{x}" y="{ty}" text-anchor="end">{label}</text><rect x="{bx}" y="{y}" width="{w:.1}" height="{h}" fill="{color}"/><text x="{tx:.1}" y="{ty}">{text}</text>"#,
            x = label_w - 6.0,
            ty = y + 14.0,
            label = esc(label),
            bx = label_w,
            h = row_h - 6.0,
            tx = label_w + w + 6.0,
            text = esc(text),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Histogram of decode times: `bins` equal bins from 0 to the maximum.
fn histogram(values_ms: &[f64], bins: usize) -> String {
    let (w, h, left, bottom) = (720.0, 200.0, 40.0, 30.0);
    let max = values_ms.iter().copied().fold(0.0, f64::max);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{}" role="img">"#,
        h + bottom
    );
    if values_ms.is_empty() || max <= 0.0 {
        svg.push_str(r##"<text x="0" y="16" fill="#666">no utterance decoded</text></svg>"##);
        return svg;
    }
    let width = max / bins as f64;
    let mut counts = vec![0usize; bins];
    for v in values_ms {
        counts[((v / width) as usize).min(bins - 1)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let bar_w = (w - left) / bins as f64;
    for (i, c) in counts.iter().enumerate() {
        let bh = *c as f64 / top * (h - 20.0);
        let x = left + i as f64 * bar_w;
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="#3d7ab8"><title>{:.0}-{:.0} ms: {c}</title></rect>"##,
            h - bh,
            bar_w - 2.0,
            i as f64 * width,
            (i + 1) as f64 * width
        );
        if *c > 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{c}</text>"#,
                x + bar_w / 2.0,
                h - bh - 3.0
            );
        }
    }
    for i in 0..=4 {
        let x = left + (w - left) * i as f64 / 4.0;
        let _ = write!(
            svg,
            r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{:.0} ms</text>"#,
            h + 18.0,
            max * i as f64 / 4.0
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{left}" y1="{h}" x2="{w}" y2="{h}" stroke="#999"/></svg>"##
    );
    svg
}

fn figures(s: &Summary) -> String {
    let pct = |x: f64| format!("{:.1} %", x * 100.0);
    let figs = [
        (
            pct(s.accuracy),
            format!("top-1 accuracy ({} / {})", s.correct, s.total),
        ),
        (s.false_accepts.to_string(), "false accepts".to_owned()),
        (s.false_rejects.to_string(), "false rejects".to_owned()),
        (pct(s.confirmation_rate), "confirmation rate".to_owned()),
        (
            format!("{} + {}", s.in_directory, s.negatives),
            "names + negatives".to_owned(),
        ),
        (
            format!("{:.0} ms", s.latency.p50_ms),
            "decode p50".to_owned(),
        ),
        (
            format!("{:.0} ms", s.latency.p90_ms),
            "decode p90".to_owned(),
        ),
        (
            format!("{:.0} ms", s.latency.p99_ms),
            "decode p99".to_owned(),
        ),
    ];
    let mut out = String::from(r#"<div class="figures">"#);
    for (value, what) in figs {
        let _ = write!(
            out,
            r#"<div class="fig"><b>{}</b><span>{}</span></div>"#,
            esc(&value),
            esc(what.as_str())
        );
    }
    out.push_str("</div>");
    out
}

fn issue_table(f: &IssueFigures) -> String {
    let pct = |a: usize, b: usize| {
        if b == 0 {
            "–".to_owned()
        } else {
            format!("{:.1} %", 100.0 * a as f64 / b as f64)
        }
    };
    let row = |what: &str, part: usize, c: &CategoryCounts, goal: &str| {
        format!(
            "<tr><td>{}</td><td><b>{part}/{}</b></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(what),
            c.total,
            pct(part, c.total),
            c.wrong,
            c.menu,
            c.rejected,
            esc(goal)
        )
    };
    let mut out = String::from(
        "<table><tr><th>request category</th><th>count</th><th>share</th><th>wrong transfer/confirm</th><th>menu (not counted)</th><th>rejected</th><th>goal (issue 10)</th></tr>",
    );
    out.push_str(&row(
        "name requests routed right (a menu of ≤ 3 holding the entry counts)",
        f.names.right,
        &f.names,
        "≥ 95 %",
    ));
    out.push_str(&row(
        "name requests transferred or confirmed to the WRONG person",
        f.names.wrong,
        &f.names,
        "≤ 2 %",
    ));
    out.push_str(&row(
        "out-of-directory requests rejected",
        f.out_of_directory.right,
        &f.out_of_directory,
        "≥ 90 %",
    ));
    out.push_str(&row(
        "department requests transferred or confirmed at once",
        f.departments.right,
        &f.departments,
        "≥ 90 %",
    ));
    let _ = write!(
        out,
        "<tr><td>turns per call</td><td><b>{:.2}</b></td><td>{} turns / {} calls</td><td></td><td></td><td></td><td>≤ 1.3</td></tr></table>",
        f.turns_per_call, f.turns, f.calls
    );
    out
}

/// Right-routing (y) against wrong transfers (x) over the accept threshold:
/// one polyline per engine, each point titled with its threshold, the run's
/// own threshold circled.
fn curve_chart(curves: &[EngineCurve]) -> String {
    let (w, h, left, bottom, top) = (720.0, 320.0, 50.0, 40.0, 10.0);
    let max_x = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.wrong))
        .fold(0.05_f64, f64::max)
        .min(1.0);
    let px = |x: f64| left + (w - left - 20.0) * (x / max_x);
    let py = |y: f64| top + (h - top - bottom) * (1.0 - y);
    let mut svg =
        format!(r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">"#);
    let colors = ["#3d7ab8", "#d1495b", "#2a9d4b", "#edae49"];
    for i in 0..=4 {
        let y = i as f64 / 4.0;
        let x = max_x * i as f64 / 4.0;
        let _ = write!(
            svg,
            r##"<line x1="{left}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="end">{:.0} %</text><text x="{:.1}" y="{:.1}" text-anchor="middle">{:.1} %</text>"##,
            py(y),
            w - 20.0,
            py(y),
            left - 4.0,
            py(y) + 4.0,
            y * 100.0,
            px(x),
            h - bottom + 16.0,
            x * 100.0
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{x2:.1}" y1="{top}" x2="{x2:.1}" y2="{:.1}" stroke="#d1495b" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" fill="#d1495b">2 % wrong</text><line x1="{left}" y1="{y95:.1}" x2="{:.1}" y2="{y95:.1}" stroke="#2a9d4b" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" fill="#2a9d4b">95 % right</text><text x="{:.1}" y="{:.1}" text-anchor="middle">name requests transferred/confirmed to the wrong person</text>"##,
        h - bottom,
        px(0.02) + 4.0,
        top + 12.0,
        w - 20.0,
        w - 100.0,
        py(0.95) - 4.0,
        (left + w) / 2.0,
        h - 6.0,
        x2 = px(0.02),
        y95 = py(0.95),
    );
    for (n, c) in curves.iter().enumerate() {
        let color = colors[n % colors.len()];
        let points: Vec<String> = c
            .points
            .iter()
            .map(|p| format!("{:.1},{:.1}", px(p.wrong), py(p.right)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            points.join(" ")
        );
        for p in &c.points {
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"><title>accept {:.3}: right {:.1} %, wrong {:.1} %, out-of-directory rejected {:.1} %</title></circle>"#,
                px(p.wrong),
                py(p.right),
                p.accept,
                p.right * 100.0,
                p.wrong * 100.0,
                p.rejected * 100.0
            );
        }
        if let Some(at) = c.points.iter().min_by(|a, b| {
            (a.accept - f64::from(c.at.accept))
                .abs()
                .total_cmp(&(b.accept - f64::from(c.at.accept)).abs())
        }) {
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="7" fill="none" stroke="{color}" stroke-width="2"/>"#,
                px(at.wrong),
                py(at.right)
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" fill="{color}">{:?} (circled: accept {:.2})</text>"#,
            left + 10.0,
            py(0.85) + 16.0 * n as f64,
            c.engine,
            c.at.accept
        );
    }
    svg.push_str("</svg>");
    svg
}

fn audio_cell(item: &ItemResult, audio: &HashMap<String, String>) -> String {
    match audio.get(&item.id) {
        Some(src) => format!(
            r#"<audio controls preload="none" src="{}"></audio>"#,
            esc(src)
        ),
        None => String::new(),
    }
}

fn nbest_text(item: &ItemResult) -> String {
    item.utterances
        .iter()
        .map(|u| {
            u.nbest
                .iter()
                .take(3)
                .map(|h| format!("{} ({:.2})", h.text, h.confidence))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Every recording that went wrong, grouped by (expected, decided), each playable.
fn confusion_list(report: &ReplayReport, audio: &HashMap<String, String>) -> String {
    let mut wrong: Vec<&ItemResult> = report
        .items
        .iter()
        .filter(|i| matches!(i.verdict, Some(Verdict::FalseAccept | Verdict::FalseReject)))
        .collect();
    wrong.sort_by(|a, b| {
        (&a.expected_label, &a.decided_label, &a.id).cmp(&(
            &b.expected_label,
            &b.decided_label,
            &b.id,
        ))
    });
    if wrong.is_empty() {
        return "<p>No confusion.</p>".to_owned();
    }
    let mut out = String::from(
        "<table><tr><th>expected</th><th>decided</th><th>said</th><th>listen</th><th>N-best (confidence)</th><th>recording</th></tr>",
    );
    for item in wrong {
        let class = match item.verdict {
            Some(Verdict::FalseAccept) => "false_accept",
            _ => "false_reject",
        };
        let _ = write!(
            out,
            r#"<tr class="{class}"><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(&item.expected_label),
            esc(&item.decided_label),
            esc(&item.decision.label()),
            esc(item.spoken.as_deref().unwrap_or("")),
            audio_cell(item, audio),
            esc(&nbest_text(item)),
            esc(&item.id)
        );
    }
    out.push_str("</table>");
    out
}

fn run_section(report: &ReplayReport, extras: &Extras) -> String {
    let s = &report.summary;
    let mut out = figures(s);
    out.push_str("<h2>By request category (issue 10)</h2>");
    out.push_str(&issue_table(&s.figures));
    if !extras.curves.is_empty() {
        out.push_str("<h2>Name requests routed right against wrong transfers, over the accept threshold</h2>");
        out.push_str(&curve_chart(&extras.curves));
    }
    out.push_str("<h2>Accuracy per store</h2>");
    let stores: Vec<(String, f64, String)> = s
        .per_store
        .iter()
        .map(|a| {
            (
                a.store.clone(),
                a.accuracy,
                format!("{:.1} % ({}/{})", a.accuracy * 100.0, a.correct, a.total),
            )
        })
        .collect();
    out.push_str(&bar_chart(&stores, 1.0, "#2a9d4b"));
    out.push_str("<h2>Most confused pairs (expected → decided)</h2>");
    let pairs: Vec<(String, f64, String)> = s
        .confused_pairs
        .iter()
        .take(15)
        .map(|p| {
            (
                format!("{} → {}", p.expected, p.decided),
                p.count as f64,
                p.count.to_string(),
            )
        })
        .collect();
    let top = pairs.first().map_or(1.0, |p| p.1);
    out.push_str(&bar_chart(&pairs, top, "#d1495b"));
    out.push_str("<h2>Decode time per utterance</h2>");
    let decode: Vec<f64> = report
        .items
        .iter()
        .flat_map(|i| i.utterances.iter().filter_map(|u| u.decode_ms))
        .collect();
    out.push_str(&histogram(&decode, 20));
    out.push_str("<h2>Confusion list (listen to each)</h2>");
    out.push_str(&confusion_list(report, &extras.audio));
    out.push_str("<h2>Recordings</h2><table><tr><th>recording</th><th>store</th><th>said</th><th>expected</th><th>decided</th><th>N-best (confidence)</th><th>decode ms</th></tr>");
    for item in &report.items {
        let class = match item.verdict {
            Some(Verdict::Correct) => "correct",
            Some(Verdict::FalseAccept) => "false_accept",
            Some(Verdict::FalseReject) => "false_reject",
            None => "none",
        };
        let nbest: Vec<String> = item
            .utterances
            .iter()
            .map(|u| {
                u.nbest
                    .iter()
                    .take(3)
                    .map(|h| format!("{} ({:.2})", h.text, h.confidence))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .collect();
        let decode: Vec<String> = item
            .utterances
            .iter()
            .filter_map(|u| u.decode_ms)
            .map(|d| format!("{d:.0}"))
            .collect();
        let decided = match &item.error {
            Some(e) => format!("error: {e}"),
            None => format!("{} ({})", item.decided_label, item.decision.label()),
        };
        let _ = write!(
            out,
            r#"<tr class="{class}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(&item.id),
            esc(&item.store),
            esc(item.spoken.as_deref().unwrap_or("")),
            esc(&item.expected_label),
            esc(&decided),
            esc(&nbest.join(" | ")),
            decode.join(", ")
        );
    }
    out.push_str("</table>");
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body><h1>{t}</h1>{body}</body></html>\n",
        t = esc(title)
    )
}

/// The report of one run.
pub fn html(report: &ReplayReport) -> String {
    html_with(report, &Extras::default())
}

/// The report of one run, with curves and playable recordings.
pub fn html_with(report: &ReplayReport, extras: &Extras) -> String {
    page(
        &format!("Replay report: {}", report.config),
        &run_section(report, extras),
    )
}

/// The report of a comparison: the changes first, then each run.
pub fn compare_html(c: &Comparison) -> String {
    let mut body = format!(
        "<h2>{} → {}: {} recording(s) changed, {} fixed, {} broken</h2>",
        esc(&c.a.config),
        esc(&c.b.config),
        c.changes.len(),
        c.fixed,
        c.broken
    );
    body.push_str(
        "<table><tr><th>recording</th><th>expected</th><th>A</th><th>B</th><th></th></tr>",
    );
    for ch in &c.changes {
        let (class, what) = match (ch.fixed, ch.broken) {
            (true, _) => ("correct", "fixed"),
            (_, true) => ("false_accept", "broken"),
            _ => ("none", "changed"),
        };
        let _ = write!(
            body,
            r#"<tr class="{class}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{what}</td></tr>"#,
            esc(&ch.id),
            esc(&ch.expected_label),
            esc(&ch.a),
            esc(&ch.b)
        );
    }
    body.push_str("</table>");
    for r in [&c.a, &c.b] {
        let _ = write!(
            body,
            "<h1>{}</h1>{}",
            esc(&r.config),
            run_section(r, &Extras::default())
        );
    }
    page(
        &format!("Replay comparison: {} vs {}", c.a.config, c.b.config),
        &body,
    )
}

#[cfg(test)]
mod tests {
    //! The page is self-contained and escapes what recordings contain.
    use super::*;
    use crate::replay::score::summarize;

    #[test]
    fn self_contained_and_escaped() {
        let report = ReplayReport {
            config: "<A&B>".into(),
            summary: summarize(&[]),
            items: vec![],
        };
        let page = html(&report);
        assert!(page.contains("&lt;A&amp;B&gt;"));
        for forbidden in ["<script", "src=", "href=", "http://cdn", "<link"] {
            assert!(!page.contains(forbidden), "{forbidden}");
        }
        assert_eq!(page.matches("<svg").count(), 3);
    }

    #[test]
    fn curves_and_playable_confusions() {
        use crate::asr::EngineKind;
        use crate::replay::calibrate::{CurvePoint, EngineCurve};
        use crate::replay::score::{DecisionRecord, Expected};
        let item = |id: &str, verdict| ItemResult {
            id: id.into(),
            spoken: Some("Jon Smith".into()),
            store: "s".into(),
            engine: Some(EngineKind::Sphinx),
            directory_version: Some(1),
            expected: Some(Expected::Reject),
            expected_label: "Jon Smith".into(),
            utterances: vec![],
            decision: DecisionRecord::NoMatch,
            decided_label: "(no match)".into(),
            verdict,
            live_decision: None,
            error: None,
            category: None,
            turns: 1,
            notes: vec![],
        };
        let report = ReplayReport {
            config: "A".into(),
            summary: summarize(&[]),
            items: vec![
                item("wrong.wav", Some(Verdict::FalseReject)),
                item("right.wav", Some(Verdict::Correct)),
            ],
        };
        let point = |accept, right, wrong| CurvePoint {
            accept,
            right,
            wrong,
            rejected: 1.0,
        };
        let extras = Extras {
            curves: vec![EngineCurve {
                engine: EngineKind::Sphinx,
                at: crate::matching::Thresholds::default(),
                points: vec![
                    point(0.0, 0.9, 0.1),
                    point(0.8, 0.7, 0.01),
                    point(1.0, 0.2, 0.0),
                ],
            }],
            audio: [
                ("wrong.wav".to_owned(), "../corpus/wrong.wav".to_owned()),
                ("right.wav".to_owned(), "../corpus/right.wav".to_owned()),
            ]
            .into(),
        };
        let page = html_with(&report, &extras);
        assert_eq!(page.matches("<svg").count(), 4);
        assert_eq!(page.matches("<polyline").count(), 1);
        assert!(page.contains("<title>accept 0.800: right 70.0 %, wrong 1.0 %"));
        // Only the wrong recording is in the confusion list, playable by relative path.
        assert_eq!(page.matches("<audio").count(), 1);
        assert!(page.contains(r#"src="../corpus/wrong.wav""#));
        for forbidden in ["<script", "src=\"http", "href=", "<link"] {
            assert!(!page.contains(forbidden), "{forbidden}");
        }
    }

    #[test]
    fn histogram_counts_every_value() {
        let svg = histogram(&[1.0, 2.0, 10.0, 10.0], 2);
        // Bins [0,5) and [5,10]: 2 and 2.
        assert_eq!(svg.matches("ms: 2</title>").count(), 2, "{svg}");
    }
}

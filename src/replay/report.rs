//! The replay report as one self-contained HTML page: figures, charts drawn as
//! inline SVG (accuracy per store, most confused pairs, decode latency
//! histogram) and the per-recording table. No script, no external resource: the
//! file can be mailed or archived as a CI artefact.

use std::fmt::Write as _;

use super::run::{Comparison, ReplayReport};
use super::score::{Summary, Verdict};

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

fn run_section(report: &ReplayReport) -> String {
    let s = &report.summary;
    let mut out = figures(s);
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
    page(
        &format!("Replay report: {}", report.config),
        &run_section(report),
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
        let _ = write!(body, "<h1>{}</h1>{}", esc(&r.config), run_section(r));
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
    fn histogram_counts_every_value() {
        let svg = histogram(&[1.0, 2.0, 10.0, 10.0], 2);
        // Bins [0,5) and [5,10]: 2 and 2.
        assert_eq!(svg.matches("ms: 2</title>").count(), 2, "{svg}");
    }
}

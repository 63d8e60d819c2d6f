//! The HTML status page of `GET /`.

use super::status::Status;

/// The status page for people: the mode, the Ready condition and the revisions.
pub fn render(status: &Status) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>workmail-reconcile \
         controller</title></head>\n<body><h1>workmail-reconcile controller</h1>\n<p>Mode: {}. \
         Ready: {} ({}). Revision applied: {}.</p>\n<p><a href=\"/status\">/status</a> \
         <a href=\"/metrics\">/metrics</a></p></body></html>\n",
        status.mode.as_str(),
        status.ready.status,
        status.ready.reason.as_str(),
        escape(status.revision.applied.as_deref().unwrap_or("none")),
    )
}

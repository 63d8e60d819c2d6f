//! Errors on stderr, in the form `--log-format` asks for: miette's graphical reports (colored
//! as `--color` says) for people, or one JSON object per line for log pipelines, shaped like the
//! JSON log lines (`timestamp`, `level`, `message`, `target`) plus `file`, `line`, `column` and
//! `help` where known.

use super::global::{GlobalArgs, LogFormat};
use super::terminal;
use crate::model::printable::{is_unsafe, json_escaped, printable};
use crate::reconcile::{LoadError, LoadErrors};
use anstyle::{AnsiColor, Style};
use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};
use serde_json::{Map, Value};

/// How errors are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Diagnostics {
    /// miette's report (clap's for usage errors), with or without color.
    Graphical { color: bool },
    /// One JSON object per line.
    Json,
}

impl Diagnostics {
    /// The form the global flags ask for.
    pub(crate) fn new(global: &GlobalArgs) -> Diagnostics {
        match global.log_format {
            LogFormat::Json => Diagnostics::Json,
            LogFormat::Text => Diagnostics::Graphical { color: terminal::stderr_color(global) },
        }
    }

    /// A command's fatal error, with its causes and help.
    pub(crate) fn fatal(&self, report: &miette::Report) -> String {
        match self {
            Diagnostics::Graphical { color } => match escaped(report) {
                Some(escaped) => graphical(&escaped, *color),
                None => graphical(report.as_ref(), *color),
            },
            Diagnostics::Json => {
                let causes: Vec<String> = report.chain().map(ToString::to_string).collect();
                let mut fields = Map::new();
                insert_help(&mut fields, report.help().map(|h| h.to_string()));
                json_line("ERROR", &causes.join(": "), fields)
            }
        }
    }

    /// Every input error of a load with its place in the file, then the count
    /// (`error: 3 errors in 2 files`).
    pub(crate) fn load_errors(&self, errors: &LoadErrors) -> String {
        let mut out = String::new();
        for error in errors {
            match self {
                Diagnostics::Graphical { color } => {
                    out.push_str(&graphical(error, *color));
                    out.push('\n');
                }
                Diagnostics::Json => out.push_str(&load_error_json(error)),
            }
        }
        out.push_str(&self.error(&errors.to_string()));
        out
    }

    /// A one-sentence error: `error: <message>`.
    pub(crate) fn error(&self, message: &str) -> String {
        match self {
            Diagnostics::Graphical { color } => {
                let style = if *color {
                    Style::new().fg_color(Some(AnsiColor::Red.into())).bold()
                } else {
                    Style::new()
                };
                let message = printable(message);
                format!("{}error:{} {message}\n", style.render(), style.render_reset())
            }
            Diagnostics::Json => json_line("ERROR", message, Map::new()),
        }
    }

    /// A usage error from clap. The graphical form is clap's own text, colored as clap was
    /// told; the JSON form keeps its first sentence as the message and the rest (a suggested
    /// flag, the usage line) as help.
    pub(crate) fn usage(&self, error: &clap::Error) -> String {
        match self {
            Diagnostics::Graphical { color } => {
                let rendered = error.render();
                if *color { rendered.ansi().to_string() } else { rendered.to_string() }
            }
            Diagnostics::Json => {
                let plain = error.render().to_string();
                let mut lines = plain.lines().map(str::trim).filter(|l| !l.is_empty());
                let (message, help) = match error.kind() {
                    // clap prints the whole help; the message is what went wrong.
                    clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                        ("a subcommand is required".to_string(), lines.collect::<Vec<_>>())
                    }
                    _ => {
                        let first = lines.next().unwrap_or("invalid command line");
                        (first.trim_start_matches("error: ").to_string(), lines.collect())
                    }
                };
                let mut fields = Map::new();
                insert_help(&mut fields, (!help.is_empty()).then(|| help.join("\n")));
                json_line("ERROR", &message, fields)
            }
        }
    }
}

/// A report whose messages or help hold characters a terminal would act on (a path, a message
/// of the service), as a plain diagnostic with them escaped: its causes joined by `: `, as
/// the JSON form joins them. `None` when the report is safe to draw as it is.
fn escaped(report: &miette::Report) -> Option<miette::MietteDiagnostic> {
    let causes: Vec<String> = report.chain().map(ToString::to_string).collect();
    let help = report.help().map(|h| h.to_string());
    let unsafe_text = |text: &str| text.chars().any(is_unsafe);
    if !causes.iter().any(|c| unsafe_text(c)) && !help.as_deref().is_some_and(unsafe_text) {
        return None;
    }
    let message = printable(&causes.join(": ")).into_owned();
    let diagnostic = miette::MietteDiagnostic::new(message);
    Some(match help {
        Some(help) => diagnostic.with_help(printable(&help).into_owned()),
        None => diagnostic,
    })
}

/// One diagnostic as miette draws it: message, source snippet with labels, help.
fn graphical(diagnostic: &dyn Diagnostic, color: bool) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    // A fixed width and no hyperlinks keep output identical across terminals and CI logs.
    let handler = GraphicalReportHandler::new_themed(theme).with_width(110).with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, diagnostic).is_err() {
        // Rendering into a String cannot fail in practice; fall back to the bare message.
        out = format!("  × {diagnostic}\n");
    }
    out
}

fn load_error_json(error: &LoadError) -> String {
    let mut fields = Map::new();
    fields.insert("file".into(), error.file_name().into());
    if let Some(location) = error.location() {
        fields.insert("line".into(), location.line.into());
        fields.insert("column".into(), location.column.into());
    }
    insert_help(&mut fields, error.help_text().map(str::to_string));
    json_line("ERROR", error.message(), fields)
}

fn insert_help(fields: &mut Map<String, Value>, help: Option<String>) {
    if let Some(help) = help {
        fields.insert("help".into(), help.into());
    }
}

/// `{"timestamp":…,"level":…,"message":…,<fields>,"target":"workmail_reconcile"}` and a newline.
fn json_line(level: &str, message: &str, fields: Map<String, Value>) -> String {
    let mut object = Map::new();
    let now = humantime::format_rfc3339_micros(std::time::SystemTime::now());
    object.insert("timestamp".into(), now.to_string().into());
    object.insert("level".into(), level.into());
    object.insert("message".into(), message.into());
    object.extend(fields);
    object.insert("target".into(), "workmail_reconcile".into());
    let mut line = json_escaped(&Value::Object(object).to_string()).into_owned();
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Value {
        let mut value: Value = serde_json::from_str(line).expect("one JSON object");
        let timestamp = value["timestamp"].take();
        assert!(timestamp.as_str().is_some_and(|t| t.ends_with('Z')), "{timestamp}");
        value
    }

    #[test]
    fn diagnostics_json_error_has_level_message_and_target() {
        let line = Diagnostics::Json.error("nothing was applied");
        assert!(line.ends_with("}\n") && line.lines().count() == 1, "{line}");
        assert_eq!(
            parse(&line),
            serde_json::json!({"timestamp": null, "level": "ERROR", "message": "nothing was applied", "target": "workmail_reconcile"})
        );
    }

    #[test]
    fn diagnostics_json_fatal_joins_the_causes_and_keeps_the_help() {
        use miette::WrapErr;
        let report = Err::<(), _>(miette::miette!(help = "check the path", "no such file"))
            .wrap_err("cannot read the plan plan.json")
            .unwrap_err();
        let value = parse(&Diagnostics::Json.fatal(&report));
        assert_eq!(value["message"], "cannot read the plan plan.json: no such file");
        assert_eq!(value["level"], "ERROR");
    }

    #[test]
    fn diagnostics_graphical_error_colors_only_when_asked() {
        assert_eq!(Diagnostics::Graphical { color: false }.error("boom"), "error: boom\n");
        assert_eq!(
            Diagnostics::Graphical { color: true }.error("boom"),
            "\u{1b}[1m\u{1b}[31merror:\u{1b}[0m boom\n"
        );
    }
}

//! From the command line to a [`Cli`], with one rule for every way it can be wrong: an unknown
//! flag or subcommand, a bad or out-of-range value, a missing argument or conflicting flags is
//! a usage error, printed on stderr and exit 1. Never clap's own exit 2, which under
//! `--detailed-exitcode` means "the plan has changes". `--help` and `--version` exit 0.

use super::diagnostics::Diagnostics;
use super::global::{ColorChoice, LogFormat};
use super::{Cli, Exit, terminal};
use clap::{CommandFactory, FromArgMatches, ValueEnum};
use std::ffi::OsString;
use std::io::Write;

/// Parse `args` (the program name first). On help, version or a usage error, the text is
/// printed here and `Err` holds the exit code.
pub fn parse<I, T>(args: I) -> Result<Cli, Exit>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let parsed = Cli::command()
        .try_get_matches_from(&args)
        .and_then(|mut matches| Cli::from_arg_matches_mut(&mut matches));
    let error = match parsed {
        Ok(cli) => return Ok(cli),
        Err(error) => error,
    };
    let wanted = Wanted::scan(&args);
    if !error.use_stderr() {
        // --help, --version: what was asked for, on stdout.
        let rendered = error.render();
        let text = if terminal::color_on_stdout(wanted.color) {
            rendered.ansi().to_string()
        } else {
            rendered.to_string()
        };
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
        return Err(Exit::Success);
    }
    let diagnostics = match wanted.log_format {
        LogFormat::Json => Diagnostics::Json,
        LogFormat::Text => {
            Diagnostics::Graphical { color: terminal::color_on_stderr(wanted.color) }
        }
    };
    eprint!("{}", diagnostics.usage(&error));
    Err(Exit::Error)
}

/// `--color` and `--log-format` as written on a command line that did not parse, so the
/// usage error itself comes out in the asked-for form. An absent or invalid value means the
/// default.
#[derive(Debug, Default, PartialEq, Eq)]
struct Wanted {
    color: ColorChoice,
    log_format: LogFormat,
}

impl Wanted {
    fn scan(args: &[OsString]) -> Wanted {
        let mut wanted = Wanted::default();
        let words: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        let mut words = words.iter().skip(1).take_while(|w| *w != "--");
        while let Some(word) = words.next() {
            let Some((flag, inline)) = word
                .strip_prefix("--")
                .map(|long| long.split_once('=').map_or((long, None), |(f, v)| (f, Some(v))))
            else {
                continue;
            };
            if flag != "color" && flag != "log-format" {
                continue;
            }
            let Some(value) = inline.or_else(|| words.next().map(String::as_str)) else {
                break;
            };
            if flag == "color" {
                wanted.color = ColorChoice::from_str(value, false).unwrap_or(wanted.color);
            } else {
                wanted.log_format = LogFormat::from_str(value, false).unwrap_or(wanted.log_format);
            }
        }
        wanted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(line: &str) -> Wanted {
        let args: Vec<OsString> = line.split_whitespace().map(OsString::from).collect();
        Wanted::scan(&args)
    }

    #[test]
    fn usage_scan_finds_color_and_log_format_in_either_spelling() {
        assert_eq!(scan("wr plan --fromat json"), Wanted::default());
        assert_eq!(
            scan("wr --color=always plan --log-format json --bogus"),
            Wanted { color: ColorChoice::Always, log_format: LogFormat::Json }
        );
        // The last one counts, an invalid value is the default, and `--` ends the flags.
        assert_eq!(scan("wr --color never --color always x").color, ColorChoice::Always);
        assert_eq!(scan("wr --color purple plan").color, ColorChoice::Auto);
        assert_eq!(scan("wr plan -- --log-format json").log_format, LogFormat::Text);
        assert_eq!(scan("wr plan --log-format").log_format, LogFormat::Text);
    }

    #[test]
    fn usage_errors_exit_1_and_help_exits_0() {
        assert!(parse(["wr", "plan", "users/"]).is_ok());
        assert_eq!(parse(["wr", "--version"]).unwrap_err(), Exit::Success);
        assert_eq!(parse(["wr", "plan", "--fromat", "json", "users/"]).unwrap_err(), Exit::Error);
        assert_eq!(parse(["wr"]).unwrap_err(), Exit::Error);
    }
}

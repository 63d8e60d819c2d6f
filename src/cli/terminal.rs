//! What the terminal can show: colors (`--color`, `NO_COLOR`) and a progress bar on stderr.

use super::global::{ColorChoice, GlobalArgs};
use crate::reconcile::Event;
use anstream::AutoStream;
use anstream::stream::RawStream;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// Whether to color `stream`. `always` and `never` are obeyed as given (so `--color always`
/// wins over `NO_COLOR`); `auto` colors a terminal unless `NO_COLOR` is set to anything
/// non-empty, following the conventions anstream and clap share (`CLICOLOR=0`,
/// `CLICOLOR_FORCE`, `TERM=dumb` are honoured too).
fn wants_color<S: RawStream>(choice: ColorChoice, stream: &S) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => AutoStream::choice(stream) != anstream::ColorChoice::Never,
    }
}

/// Whether `choice` colors stdout (plans, reports, help).
pub(crate) fn color_on_stdout(choice: ColorChoice) -> bool {
    wants_color(choice, &std::io::stdout())
}

/// Whether `choice` colors stderr (diagnostics, logs).
pub(crate) fn color_on_stderr(choice: ColorChoice) -> bool {
    wants_color(choice, &std::io::stderr())
}

/// Whether to color what goes to stdout (plans, reports).
pub(crate) fn stdout_color(global: &GlobalArgs) -> bool {
    color_on_stdout(global.color)
}

/// Whether to color what goes to stderr (diagnostics, logs).
pub(crate) fn stderr_color(global: &GlobalArgs) -> bool {
    color_on_stderr(global.color)
}

/// stdout for rendered output that may hold color codes: they pass through when `color` is
/// on (translated for consoles that need it) and are stripped otherwise.
pub(crate) fn stdout(color: bool) -> AutoStream<std::io::StdoutLock<'static>> {
    let choice = if color { anstream::ColorChoice::Always } else { anstream::ColorChoice::Never };
    AutoStream::new(std::io::stdout().lock(), choice)
}

/// A progress bar for `total` calls, shown only when stderr is a terminal and not `--quiet`;
/// otherwise a hidden bar, so callers need not care.
pub(crate) fn progress(global: &GlobalArgs, total: usize, message: &'static str) -> ProgressBar {
    if global.quiet || !std::io::stderr().is_terminal() || total < 2 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} ({per_sec}, eta {eta})")
    {
        bar.set_style(style);
    }
    bar.set_message(message);
    bar
}

/// The progress bar of an engine run: a new bar when a step starts, one tick per user.
pub(crate) struct RunProgress<'g> {
    global: &'g GlobalArgs,
    bar: ProgressBar,
}

impl<'g> RunProgress<'g> {
    /// No bar until a step starts.
    pub(crate) fn new(global: &'g GlobalArgs) -> RunProgress<'g> {
        RunProgress { global, bar: ProgressBar::hidden() }
    }

    /// Follow one event of the engine.
    pub(crate) fn on(&mut self, event: Event<'_>) {
        match event {
            Event::Describing { users } => self.start(users, "describing users"),
            Event::Applying { users } => self.start(users, "applying"),
            Event::Described | Event::Applied(_) => self.bar.inc(1),
        }
    }

    fn start(&mut self, total: usize, message: &'static str) {
        self.bar.finish_and_clear();
        self.bar = progress(self.global, total, message);
    }
}

impl Drop for RunProgress<'_> {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

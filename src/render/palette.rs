//! The colors of the text plan and the apply report, in one place so both read alike:
//! yellow for what changes, green for what is added or done, red for what is removed, failed
//! or in error.

use anstyle::{AnsiColor, Style};

/// The styles of the text formats; all plain when color is off, so no escape code is written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Palette {
    /// Organization headers and the summary line's label.
    pub header: Style,
    /// A value or user that changes (`~`), a conflict.
    pub change: Style,
    /// A value set where there was none, the new value, a user updated.
    pub add: Style,
    /// A value cleared, the old value.
    pub remove: Style,
    /// Errors, failures, users not applied.
    pub error: Style,
}

impl Palette {
    /// The colored palette, or the plain one when `color` is false.
    pub(crate) fn new(color: bool) -> Palette {
        if !color {
            let plain = Style::new();
            return Palette {
                header: plain,
                change: plain,
                add: plain,
                remove: plain,
                error: plain,
            };
        }
        let fg = |c: AnsiColor| Style::new().fg_color(Some(c.into()));
        Palette {
            header: Style::new().bold(),
            change: fg(AnsiColor::Yellow).bold(),
            add: fg(AnsiColor::Green),
            remove: fg(AnsiColor::Red),
            error: fg(AnsiColor::Red).bold(),
        }
    }
}

/// `text` in `style`; a plain style renders as nothing, so uncolored output has no codes.
pub(crate) fn paint(style: Style, text: &str) -> String {
    format!("{}{text}{}", style.render(), style.render_reset())
}

/// `style` when `count` is not zero, so `0 errors` stays plain and `2 errors` stands out.
pub(crate) fn paint_count(style: Style, count: usize, text: &str) -> String {
    if count == 0 { text.to_string() } else { paint(style, text) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_plain_writes_no_codes() {
        let plain = Palette::new(false);
        assert_eq!(paint(plain.error, "x"), "x");
        assert_eq!(paint(Palette::new(true).error, "x"), "\u{1b}[1m\u{1b}[31mx\u{1b}[0m");
        assert_eq!(paint_count(Palette::new(true).error, 0, "0 errors"), "0 errors");
    }
}

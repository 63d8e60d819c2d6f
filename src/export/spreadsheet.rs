//! `--spreadsheet-safe`: a cell a spreadsheet would run as a formula is prefixed with `'`, so
//! that it shows as text (the OWASP rule for CSV injection). Off by default: a value written
//! exactly (a telephone `+1 555 0100`) is what an import tool must receive.

use std::borrow::Cow;

/// Whether a spreadsheet may take `cell` for a formula: it begins with `=`, `+`, `-`, `@`, a
/// tab or a carriage return.
fn runs_as_formula(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// How the cells of a CSV are written: exactly, or spreadsheet-safe, counting the cells changed.
#[derive(Debug, Clone, Default)]
pub struct Cells {
    safe: bool,
    changed: usize,
}

impl Cells {
    /// Cells written exactly (`safe` false) or spreadsheet-safe.
    pub fn new(safe: bool) -> Cells {
        Cells { safe, changed: 0 }
    }

    /// The cell as written.
    pub fn cell<'a>(&mut self, value: &'a str) -> Cow<'a, str> {
        if self.safe && runs_as_formula(value) {
            self.changed += 1;
            Cow::Owned(format!("'{value}"))
        } else {
            Cow::Borrowed(value)
        }
    }

    /// How many cells got a `'`.
    pub fn changed(&self) -> usize {
        self.changed
    }

    /// Write one record through [`Cells::cell`].
    pub(super) fn write_record<'a, W: std::io::Write>(
        &mut self,
        writer: &mut ::csv::Writer<W>,
        record: impl IntoIterator<Item = &'a str>,
    ) -> ::csv::Result<()> {
        let cells: Vec<Cow<'a, str>> = record.into_iter().map(|v| self.cell(v)).collect();
        writer.write_record(cells.iter().map(|c| c.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_formula_starts_get_a_quote_and_are_counted() {
        let mut cells = Cells::new(true);
        for (value, written) in [
            ("=1+2", "'=1+2"),
            ("+1 555 0100", "'+1 555 0100"),
            ("-x", "'-x"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("a=b", "a=b"),
            ("", ""),
            (" =x", " =x"),
            ("'x", "'x"),
        ] {
            assert_eq!(cells.cell(value), written, "{value:?}");
        }
        assert_eq!(cells.changed(), 6);
    }

    #[test]
    fn without_the_flag_every_value_is_written_exactly() {
        let mut cells = Cells::new(false);
        assert_eq!(cells.cell("=HYPERLINK(\"x\")"), "=HYPERLINK(\"x\")");
        assert_eq!(cells.cell("+1 555 0100"), "+1 555 0100");
        assert_eq!(cells.changed(), 0);
    }
}

//! `spec::load_str` promises never to panic, whatever the input: any text, valid or not, must
//! come back as a `DesiredState` or as errors, within the parser's budgets.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Files are read as UTF-8 before parsing (`load` refuses anything else), so only text is
    // worth feeding the parser.
    let Ok(text) = std::str::from_utf8(data) else { return };
    match workmail_reconcile::spec::load_str("fuzz.yaml", text) {
        Ok(state) => {
            // Everything a caller reads from a valid state must be consistent with the text.
            for organization in &state.organizations {
                for user in &organization.users {
                    assert!(!user.key.is_empty(), "an accepted user has an empty key");
                }
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "an error result holds no error");
            for error in errors.iter() {
                // The binary renders every error with miette, labels sliced out of the text: a
                // label outside the text or off a character boundary would fail here.
                let mut out = String::new();
                let handler = miette::GraphicalReportHandler::new_themed(
                    miette::GraphicalTheme::unicode_nocolor(),
                );
                handler.render_report(&mut out, error).expect("an error renders");
            }
        }
    }
});

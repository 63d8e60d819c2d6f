//! `SavedPlan::from_json` reads a file a person may have edited: it must never panic, and a plan
//! it accepts must survive writing and reading again unchanged (apply trusts what it reads).
#![no_main]

use libfuzzer_sys::fuzz_target;
use workmail_reconcile::plan::SavedPlan;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(plan) = SavedPlan::from_json(text) {
        let again = SavedPlan::from_json(&plan.to_json());
        assert_eq!(again.as_ref(), Ok(&plan), "a saved plan does not round-trip");
    }
});

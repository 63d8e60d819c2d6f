//! `workmail-reconcile schema` (placeholder until the spec loader lands).

use super::Exit;

pub fn exec() -> miette::Result<Exit> {
    Err(miette::miette!("schema is not built yet"))
}

//! The vocabulary every part speaks: the attribute table and its values, live users as the
//! directory reports them, roles, request-rate caps, and the small helpers every reader and
//! printer shares (size-capped file reads, terminal-safe text, plural wording). Imports no other
//! part of the crate.

pub mod attr_map;
pub mod attrs;
pub mod bounded_read;
pub mod live;
pub(crate) mod printable;
pub mod rate_cap;
pub(crate) mod wording;

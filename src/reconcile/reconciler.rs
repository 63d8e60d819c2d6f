//! The engine: one directory, the steps of a run as separate calls.

use super::event::Event;
use super::observe::observe;
use super::resolve::resolve_organizations;
use super::run::{GuardedRun, PlannedRun, RunError, RunReport};
use super::unmanaged::{UnmanagedPolicy, drop_described, list_unmanaged, record};
use crate::apply::{ApplyReport, AuditLog, SafetyLimits, apply_plan};
use crate::directory::{ConnectionFailure, Directory};
use crate::plan::diff;
use crate::redaction::Redaction;
use crate::spec::{DesiredState, OrganizationRef};
use std::sync::Arc;

/// How to apply, beyond the plan itself.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// One JSON line per attempted user, if set.
    pub audit: Option<Arc<AuditLog>>,
    /// How values appear in what the apply writes about users (the audit log, diagnostics).
    pub redaction: Redaction,
}

/// Reconciles desired states against one directory. Calls run concurrently, at most `width`
/// spawned at a time; the directory's own limiter decides how many are in flight.
#[derive(Debug, Clone)]
pub struct Reconciler<D> {
    directory: D,
    width: usize,
    unmanaged: UnmanagedPolicy,
}

impl<D: Directory + Clone + 'static> Reconciler<D> {
    /// An engine over `directory`, spawning at most `width` calls at once (at least one),
    /// reporting unmanaged users ([`UnmanagedPolicy::Report`]).
    pub fn new(directory: D, width: usize) -> Reconciler<D> {
        Reconciler { directory, width: width.max(1), unmanaged: UnmanagedPolicy::default() }
    }

    /// The same engine, doing `policy` about live users whom no file declares.
    pub fn with_unmanaged(mut self, policy: UnmanagedPolicy) -> Reconciler<D> {
        self.unmanaged = policy;
        self
    }

    /// The directory this engine reads and writes.
    pub(crate) fn directory(&self) -> &D {
        &self.directory
    }

    /// The connection failure that stopped this engine's directory, if one did.
    pub fn connection_failure(&self) -> Option<&ConnectionFailure> {
        self.directory.connection_failure()
    }

    /// Resolve, observe and diff: the plan of `desired`, with the live users no file declares
    /// unless the policy is [`UnmanagedPolicy::Ignore`] or `desired` is narrowed by a target.
    /// Never writes. Failures of single users or organizations are entries of the plan's
    /// errors; only a connection failure, which would fail every user alike, ends the step
    /// with an `Err`.
    pub async fn plan(
        &self,
        desired: &DesiredState,
        mut on_event: impl FnMut(Event<'_>),
    ) -> Result<PlannedRun, ConnectionFailure> {
        on_event(Event::Describing { users: desired.user_count() });
        let listing = self.unmanaged != UnmanagedPolicy::Ignore && !desired.targeted;
        // Excluded users' organizations are resolved too (in the same single listing of
        // organizations), so that an excluded user is recognised whichever way its file spells
        // the organization.
        let excluded: &[_] = if listing { &desired.excluded } else { &[] };
        let references: Vec<&OrganizationRef> =
            desired.organizations.iter().chain(excluded).map(|o| &o.reference).collect();
        let mut resolved = resolve_organizations(&self.directory, &references).await;
        let excluded_resolved = resolved.split_off(desired.organizations.len());
        let unmanaged = async {
            if !listing {
                return None;
            }
            let directory = &self.directory;
            Some(
                list_unmanaged(directory, desired, &resolved, &excluded_resolved, self.width).await,
            )
        };
        // The listings run alongside the descriptions, under the same limiter: at a rate cap,
        // their few pages add their share of calls to the run, not their round trips.
        let describe = observe(&self.directory, desired, resolved.clone(), self.width, || {
            on_event(Event::Described)
        });
        let (comparison, listings) = tokio::join!(describe, unmanaged);
        if let Some(failure) = self.connection_failure() {
            return Err(failure.clone());
        }
        let mut listings = listings;
        if let Some(listings) = &mut listings {
            drop_described(listings, &comparison);
        }
        let mut plan = diff(desired, comparison);
        if let Some(listings) = listings {
            record(&mut plan, listings, self.unmanaged);
        }
        Ok(PlannedRun { plan })
    }

    /// Converge every planned user: a fresh read, a compare-and-swap check, one UpdateUser with
    /// the full dataset. One failing user never stops the others; a connection failure leaves
    /// the users after it not attempted (see [`Reconciler::connection_failure`]).
    pub async fn apply(
        &self,
        run: GuardedRun,
        options: &ApplyOptions,
        mut on_event: impl FnMut(Event<'_>),
    ) -> ApplyReport {
        let plan = run.into_plan();
        on_event(Event::Applying { users: plan.changes.len() });
        let audit = options.audit.clone();
        apply_plan(&self.directory, plan, self.width, audit, &options.redaction, |outcome| {
            on_event(Event::Applied(outcome))
        })
        .await
    }

    /// One whole run without stopping between steps: plan, guard, apply.
    pub async fn reconcile(
        &self,
        desired: &DesiredState,
        limits: SafetyLimits,
        options: &ApplyOptions,
        mut on_event: impl FnMut(Event<'_>),
    ) -> Result<RunReport, RunError> {
        let planned = self.plan(desired, &mut on_event).await?;
        let planned_summary = planned.plan.summary();
        let guarded = planned.guard(limits)?;
        let applied = self.apply(guarded, options, on_event).await;
        match self.connection_failure() {
            Some(failure) => Err(RunError::Stopped { failure: failure.clone(), applied }),
            None => Ok(RunReport { planned: planned_summary, applied }),
        }
    }
}

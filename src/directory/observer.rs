//! Who hears of every attempt the SDK makes: a long-running controller counts requests by
//! operation and answer for its metrics. The CLI commands have no observer.

use std::fmt;
use std::sync::Arc;

/// How one attempt was answered, as request counters tell it apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum AttemptAnswer {
    /// A 2xx answer.
    Ok,
    /// A throttling error (HTTP 429, or a 400 naming a throttling code).
    Throttled,
    /// Anything else: an error answer of the service, a 5xx, or no answer at all.
    Error,
}

impl AttemptAnswer {
    /// Every answer, in the order metrics list them.
    pub(crate) const ALL: [AttemptAnswer; 3] =
        [AttemptAnswer::Ok, AttemptAnswer::Throttled, AttemptAnswer::Error];

    /// The lower-case name used as a metric label.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AttemptAnswer::Ok => "ok",
            AttemptAnswer::Throttled => "throttled",
            AttemptAnswer::Error => "error",
        }
    }
}

/// What an observer does with one attempt: the operation and the answer.
type OnAttempt = dyn Fn(&str, AttemptAnswer) + Send + Sync;

/// Called once per attempt, retries included, with the API operation (`DescribeUser`) and its
/// answer. Called on the request's task: it must be quick and must not block.
#[derive(Clone)]
pub(crate) struct AttemptObserver(Arc<OnAttempt>);

impl AttemptObserver {
    /// An observer calling `on_attempt`.
    pub(crate) fn new(on_attempt: impl Fn(&str, AttemptAnswer) + Send + Sync + 'static) -> Self {
        AttemptObserver(Arc::new(on_attempt))
    }

    /// Tell the observer of one attempt.
    pub(crate) fn attempted(&self, operation: &str, answer: AttemptAnswer) {
        (self.0)(operation, answer);
    }
}

impl fmt::Debug for AttemptObserver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AttemptObserver")
    }
}

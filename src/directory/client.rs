//! Building the aws-sdk-workmail configuration: the standard AWS chain for credentials and
//! region, the SDK's own retry and timeout settings, and the interceptor that feeds the limiter.

use super::endpoint::{check_endpoint_url, check_region};
use super::limiter::{AttemptOutcome, Limiter};
use super::observer::AttemptAnswer;
use super::sdk::OPERATIONS;
use super::sdk_error::cause;
use aws_config::BehaviorVersion;
use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::region::ProfileFileRegionProvider;
use aws_runtime::retries::classifiers::THROTTLING_ERRORS;
use aws_sdk_workmail::config::interceptors::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextMut,
    FinalizerInterceptorContextRef,
};
use aws_sdk_workmail::config::retry::{
    ClassifyRetry, RetryAction, RetryConfig, RetryPartition, TokenBucket,
};
use aws_sdk_workmail::config::timeout::TimeoutConfig;
use aws_sdk_workmail::config::{
    ConfigBag, Intercept, Region, RuntimeComponents, StalledStreamProtectionConfig,
};
use aws_sdk_workmail::error::ProvideErrorMetadata;
use aws_sdk_workmail::operation::associate_member_to_group::AssociateMemberToGroupError;
use aws_sdk_workmail::operation::create_alias::CreateAliasError;
use aws_sdk_workmail::operation::delete_alias::DeleteAliasError;
use aws_sdk_workmail::operation::describe_user::DescribeUserError;
use aws_sdk_workmail::operation::disassociate_member_from_group::DisassociateMemberFromGroupError;
use aws_sdk_workmail::operation::get_mailbox_details::GetMailboxDetailsError;
use aws_sdk_workmail::operation::list_aliases::ListAliasesError;
use aws_sdk_workmail::operation::list_group_members::ListGroupMembersError;
use aws_sdk_workmail::operation::list_groups::ListGroupsError;
use aws_sdk_workmail::operation::list_groups_for_entity::ListGroupsForEntityError;
use aws_sdk_workmail::operation::list_organizations::ListOrganizationsError;
use aws_sdk_workmail::operation::list_users::ListUsersError;
use aws_sdk_workmail::operation::update_mailbox_quota::UpdateMailboxQuotaError;
use aws_sdk_workmail::operation::update_user::UpdateUserError;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{Error, InterceptorContext};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::time::Instant;

/// Attempts per call: enough to ride out sustained throttling with exponential backoff.
const MAX_ATTEMPTS: u32 = 12;

/// How long one attempt may take, connecting included, before it is abandoned and retried.
/// A DescribeUser answers in well under a second; 20 s is generous for a slow network and
/// still lets a few attempts fit in the operation timeout.
const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one call may take, every retry included. Against an endpoint that accepts
/// connections and never answers, this is about how long a run takes to fail: the first call
/// to give up stops the run. Throttling alone stays far below it: twelve attempts back off
/// 26 s at most.
const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(90);
/// How long connecting may take (or the attempt timeout, if shorter).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The time limits of directory calls (`--attempt-timeout`, `--operation-timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeouts {
    /// One attempt, from connecting to the end of the answer.
    pub attempt: Duration,
    /// One call with all its attempts and the backoff between them.
    pub operation: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts { attempt: DEFAULT_ATTEMPT_TIMEOUT, operation: DEFAULT_OPERATION_TIMEOUT }
    }
}

impl Timeouts {
    /// Both limits; an attempt never outlasts the call it belongs to, so the attempt timeout is
    /// cut to the operation timeout when that is shorter.
    pub(crate) fn new(attempt: Duration, operation: Duration) -> Timeouts {
        Timeouts { attempt: attempt.min(operation), operation }
    }
}

/// Where and as whom to connect; `None` means "from the standard AWS chain".
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    /// Overrides `AWS_ENDPOINT_URL_WORKMAIL` / `AWS_ENDPOINT_URL`, which aws-config reads itself.
    pub endpoint_url: Option<String>,
}

/// The region signed with when an endpoint URL is given and no region is configured: an
/// emulator needs some region, and the SDK's own default would be to ask the instance
/// metadata service, which off EC2 means seconds of waiting and warnings.
const EMULATOR_REGION: &str = "us-east-1";

/// The variables aws-config reads an endpoint URL from, most specific first.
const ENDPOINT_VARIABLES: [&str; 2] = ["AWS_ENDPOINT_URL_WORKMAIL", "AWS_ENDPOINT_URL"];

/// Resolve credentials, region and endpoint through aws-config's default chain (environment,
/// profiles, SSO, container and instance roles). Nothing is contacted until the first call.
///
/// With an endpoint URL (flag or variable) and no region from the flag, the environment or the
/// profile, the region is [`EMULATOR_REGION`] and the instance metadata service is not asked.
pub(crate) async fn build_sdk_config(
    options: &ClientOptions,
) -> Result<aws_sdk_workmail::Config, String> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &options.endpoint_url {
        check_endpoint_url(url)?;
        loader = loader.endpoint_url(url);
    }
    let endpoint_from_env = endpoint_url_from_env()?;
    if let Some(region) = &options.region {
        check_region(region)?;
        loader = loader.region(Region::new(region.clone()));
    } else if options.endpoint_url.is_some() || endpoint_from_env.is_some() {
        loader = loader.region(region_without_instance_metadata(options.profile.as_deref()));
    }
    let shared = loader.load().await;
    let mut builder = aws_sdk_workmail::config::Builder::from(&shared);
    match shared.region() {
        // Read by aws-config, not by our parser: AWS_REGION, AWS_DEFAULT_REGION, the profile.
        Some(region) => check_region(region.as_ref()).map_err(|e| {
            format!("{e}; it comes from AWS_REGION, AWS_DEFAULT_REGION or the AWS profile")
        })?,
        // An endpoint URL from the profile's `endpoint_url`, read only now.
        None if shared.endpoint_url().is_some() => {
            builder = builder.region(Region::from_static(EMULATOR_REGION));
        }
        None => {
            return Err("no AWS region: pass --region or set AWS_REGION (or `region` in the \
                        AWS profile)"
                .to_string());
        }
    }
    Ok(builder.build())
}

/// The first endpoint variable that is set, checked like `--endpoint-url`.
fn endpoint_url_from_env() -> Result<Option<String>, String> {
    for variable in ENDPOINT_VARIABLES {
        if let Some(url) = std::env::var(variable).ok().filter(|v| !v.is_empty()) {
            check_endpoint_url(&url).map_err(|e| format!("{variable}: {e}"))?;
            return Ok(Some(url));
        }
    }
    Ok(None)
}

/// The environment (`AWS_REGION`, `AWS_DEFAULT_REGION`), then the profile, then
/// [`EMULATOR_REGION`]: the standard chain without its last step, the instance metadata.
fn region_without_instance_metadata(profile: Option<&str>) -> RegionProviderChain {
    let mut from_profile = ProfileFileRegionProvider::builder();
    if let Some(profile) = profile {
        from_profile = from_profile.profile_name(profile);
    }
    RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
        .or_else(from_profile.build())
        .or_else(Region::from_static(EMULATOR_REGION))
}

/// Our retry, timeout and limiter settings on top of a base configuration.
pub(super) fn tune(
    config: aws_sdk_workmail::Config,
    limiter: &Limiter,
    timeouts: Timeouts,
    notes: &AttemptNotes,
) -> aws_sdk_workmail::Config {
    config
        .to_builder()
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(50))
                .with_max_backoff(Duration::from_secs(5)),
        )
        // The default retry quota stops retrying after a burst of throttles, which would turn
        // a slow run into failed users; the limiter already slows us down instead.
        .retry_partition(
            RetryPartition::custom("workmail-reconcile")
                .token_bucket(TokenBucket::unlimited())
                .build(),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT.min(timeouts.attempt))
                .operation_attempt_timeout(timeouts.attempt)
                .operation_timeout(timeouts.operation)
                .build(),
        )
        // The attempt timeout above already bounds a stalled call; the SDK's stall detector
        // wraps every body in a throughput monitor, a measurable share of the CPU of a DescribeUser
        // (BENCHMARKS.md).
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .interceptor(AttemptInterceptor { limiter: limiter.clone(), notes: notes.clone() })
        .retry_classifier(QuotaReached)
        .build()
}

/// WorkMail's `LimitExceededException` is a quota the resource reached (the 100 aliases of a
/// user, say), which the same request meets again: the SDK's list of throttling codes has it,
/// for services that use it for throttling, so without this it is retried 12 times with backoff
/// and the limiter slows down for nothing.
const QUOTA_REACHED: &str = "LimitExceededException";

/// Forbids a retry of [`QUOTA_REACHED`] (a forbidden retry overrides every other classifier).
#[derive(Debug)]
struct QuotaReached;

impl ClassifyRetry for QuotaReached {
    fn classify_retry(&self, context: &InterceptorContext) -> RetryAction {
        match context.output_or_error() {
            Some(Err(error)) if error_code(error) == Some(QUOTA_REACHED) => {
                RetryAction::RetryForbidden
            }
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "WorkMail quota reached"
    }
}

/// What the attempts met, for error messages: the endpoint they are sent to, as the SDK
/// resolved it, and why the latest attempt could not connect. Shared by every clone.
#[derive(Debug, Clone, Default)]
pub(super) struct AttemptNotes(Arc<Notes>);

#[derive(Debug, Default)]
struct Notes {
    endpoint: OnceLock<String>,
    connect_failure: Mutex<Option<String>>,
}

impl AttemptNotes {
    /// `scheme://host[:port][/path]`, once a request has got as far as being signed.
    pub(super) fn endpoint(&self) -> Option<&str> {
        self.0.endpoint.get().map(String::as_str)
    }

    /// Why the latest attempt of any call could not connect; `None` when it was answered or
    /// timed out waiting for an answer. Tells "retried a refused connection until the
    /// operation timeout" from "never answered".
    pub(super) fn connect_failure(&self) -> Option<String> {
        self.0.connect_failure.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Watches every attempt. It reports each attempt's outcome to the limiter, with the time the
/// attempt was sent: the limiter ignores throttles of attempts sent before its last rate cut. A
/// throttled attempt's retry waits for the pacing slot the limiter reserved for it: the
/// interceptor hands that wait to the SDK's retry strategy as `x-amz-retry-after`, the header
/// by which a service asks for a retry delay (keeping the service's own, when it asks for
/// longer). And it keeps the [`AttemptNotes`] that error messages quote.
#[derive(Debug)]
struct AttemptInterceptor {
    limiter: Limiter,
    notes: AttemptNotes,
}

/// The response header (milliseconds) the SDK's retry strategy takes as the retry delay.
const RETRY_AFTER: &str = "x-amz-retry-after";

/// When the current attempt was sent, kept in the attempt's config bag.
#[derive(Debug, Clone, Copy)]
struct AttemptSentAt(Instant);

impl Storable for AttemptSentAt {
    type Storer = StoreReplace<Self>;
}

impl Intercept for AttemptInterceptor {
    fn name(&self) -> &'static str {
        "AttemptInterceptor"
    }

    fn read_before_signing(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let notes = &self.notes.0;
        notes.endpoint.get_or_init(|| context.request().uri().trim_end_matches('/').to_string());
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let failure = match context.output_or_error() {
            Some(Err(error)) => error.as_connector_error().map(|e| cause(e)),
            _ => None,
        };
        *self.notes.0.connect_failure.lock().unwrap_or_else(|p| p.into_inner()) = failure;
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(AttemptSentAt(Instant::now()));
        Ok(())
    }

    // Runs after every attempt, before the retry strategy reads the response.
    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let sent_at = cfg.load::<AttemptSentAt>().map_or_else(Instant::now, |s| s.0);
        let outcome = match context.response() {
            None => AttemptOutcome::NoAnswer,
            Some(response) => {
                let status = response.status().as_u16();
                let code = match context.output_or_error() {
                    Some(Err(error)) => error_code(error),
                    _ => None,
                };
                let throttling =
                    |code: &str| code != QUOTA_REACHED && THROTTLING_ERRORS.contains(&code);
                if status == 429 || code.is_some_and(throttling) {
                    AttemptOutcome::Throttled
                } else if status >= 500 {
                    AttemptOutcome::ServerError
                } else {
                    AttemptOutcome::Success
                }
            }
        };
        let answer = match (outcome, context.response()) {
            (AttemptOutcome::Throttled, _) => AttemptAnswer::Throttled,
            (_, Some(response)) if response.status().is_success() => AttemptAnswer::Ok,
            _ => AttemptAnswer::Error,
        };
        let operation = cfg.load::<Metadata>().map_or("unknown", Metadata::name);
        self.limiter.observe(operation, answer);
        let retry_wait = self.limiter.record(outcome, sent_at);
        if let (Some(wait), Some(response)) = (retry_wait, context.response_mut()) {
            let asked = response.headers().get(RETRY_AFTER).and_then(|v| v.parse::<u64>().ok());
            let wait = u64::try_from(wait.as_micros().div_ceil(1000)).unwrap_or(u64::MAX);
            let millis = asked.map_or(wait, |asked| asked.max(wait));
            // Digits are always a valid header value; nothing to report if not.
            let _ = response.headers_mut().try_insert(RETRY_AFTER, millis.to_string());
        }
        Ok(())
    }
}

/// The error code of an attempt's answer, as the SDK parsed it: the attempt's error is typed by
/// its operation, so each operation [`super::SdkDirectory`] calls is tried in turn.
fn error_code(error: &OrchestratorError<Error>) -> Option<&str> {
    fn code<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
        error: &Error,
    ) -> Option<&str> {
        error.downcast_ref::<E>().and_then(ProvideErrorMetadata::code)
    }
    // One per name of OPERATIONS (the length makes a missing one fail to compile): an
    // operation missing here would have its throttles counted as answers, and the limiter
    // would not slow down for them.
    const CODES: [fn(&Error) -> Option<&str>; OPERATIONS.len()] = [
        code::<ListOrganizationsError>,
        code::<ListUsersError>,
        code::<DescribeUserError>,
        code::<UpdateUserError>,
        code::<ListAliasesError>,
        code::<ListGroupsError>,
        code::<ListGroupsForEntityError>,
        code::<ListGroupMembersError>,
        code::<GetMailboxDetailsError>,
        code::<CreateAliasError>,
        code::<DeleteAliasError>,
        code::<AssociateMemberToGroupError>,
        code::<DisassociateMemberFromGroupError>,
        code::<UpdateMailboxQuotaError>,
    ];
    let error = error.as_operation_error()?;
    CODES.iter().find_map(|code| code(error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_never_outlasts_its_call() {
        let (second, minute) = (Duration::from_secs(1), Duration::from_secs(60));
        assert_eq!(Timeouts::new(second, minute), Timeouts { attempt: second, operation: minute });
        assert_eq!(Timeouts::new(minute, second), Timeouts { attempt: second, operation: second });
        // The defaults keep a hung endpoint's run under two minutes: the first call to give up
        // stops it, and a few attempts fit in one call.
        let defaults = Timeouts::default();
        assert!(defaults.operation < Duration::from_secs(120));
        assert!(defaults.operation >= 4 * defaults.attempt);
    }
}

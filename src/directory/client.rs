//! Building the aws-sdk-workmail configuration: the standard AWS chain for credentials and
//! region, the SDK's own retry and timeout settings, and the interceptor that feeds the limiter.

use super::limiter::{AttemptOutcome, Limiter};
use aws_config::BehaviorVersion;
use aws_sdk_workmail::config::interceptors::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextMut,
};
use aws_sdk_workmail::config::retry::{RetryConfig, RetryPartition, TokenBucket};
use aws_sdk_workmail::config::timeout::TimeoutConfig;
use aws_sdk_workmail::config::{
    ConfigBag, Intercept, Region, RuntimeComponents, StalledStreamProtectionConfig,
};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use std::time::Duration;
use tokio::time::Instant;

/// Attempts per call: enough to ride out sustained throttling with exponential backoff.
pub const MAX_ATTEMPTS: u32 = 12;

/// Where and as whom to connect; `None` means "from the standard AWS chain".
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    /// Overrides `AWS_ENDPOINT_URL_WORKMAIL` / `AWS_ENDPOINT_URL`, which aws-config reads itself.
    pub endpoint_url: Option<String>,
}

/// Resolve credentials, region and endpoint through aws-config's default chain (environment,
/// profiles, SSO, container and instance roles). Nothing is contacted until the first call.
pub async fn build_sdk_config(options: &ClientOptions) -> Result<aws_sdk_workmail::Config, String> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let shared = loader.load().await;
    let mut builder = aws_sdk_workmail::config::Builder::from(&shared);
    if shared.region().is_none() {
        if shared.endpoint_url().is_some() {
            // A custom endpoint (the emulator) still needs a region to sign with.
            builder = builder.region(Region::from_static("us-east-1"));
        } else {
            return Err("no AWS region: pass --region or set AWS_REGION".to_string());
        }
    }
    Ok(builder.build())
}

/// Our retry, timeout and limiter settings on top of a base configuration.
pub(super) fn tune(
    config: aws_sdk_workmail::Config,
    limiter: &Limiter,
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
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(20))
                .operation_timeout(Duration::from_secs(180))
                .build(),
        )
        // The attempt timeout above already bounds a stalled call; the SDK's stall detector
        // wraps every body in a throughput monitor that costs ~5 % of the CPU of a DescribeUser.
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .interceptor(LimiterFeedback { limiter: limiter.clone() })
        .build()
}

/// Reports each attempt's outcome to the limiter, with the time the attempt was sent: the
/// limiter ignores throttles of attempts sent before its last rate cut. A throttled attempt's
/// retry waits for the pacing slot the limiter reserved for it: the interceptor hands that wait
/// to the SDK's retry strategy as `x-amz-retry-after`, the header by which a service asks for a
/// retry delay (keeping the service's own, when it asks for longer).
#[derive(Debug)]
struct LimiterFeedback {
    limiter: Limiter,
}

/// The response header (milliseconds) the SDK's retry strategy takes as the retry delay.
const RETRY_AFTER: &str = "x-amz-retry-after";

/// When the current attempt was sent, kept in the attempt's config bag.
#[derive(Debug, Clone, Copy)]
struct AttemptSentAt(Instant);

impl Storable for AttemptSentAt {
    type Storer = StoreReplace<Self>;
}

impl Intercept for LimiterFeedback {
    fn name(&self) -> &'static str {
        "LimiterFeedback"
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
                let body = response.body().bytes().unwrap_or_default();
                if status == 429 || (status == 400 && is_throttling_body(body)) {
                    AttemptOutcome::Throttled
                } else if status >= 500 {
                    AttemptOutcome::ServerError
                } else {
                    AttemptOutcome::Success
                }
            }
        };
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

/// awsJson error bodies name their type in `__type`; these are the throttling codes.
fn is_throttling_body(body: &[u8]) -> bool {
    const CODES: [&[u8]; 4] =
        [b"Throttling", b"TooManyRequests", b"RequestLimitExceeded", b"LimitExceededException"];
    CODES.iter().any(|code| body.windows(code.len()).any(|w| w == *code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_bodies_are_recognised() {
        assert!(is_throttling_body(br#"{"__type":"ThrottlingException","Message":"slow"}"#));
        assert!(!is_throttling_body(br#"{"__type":"EntityNotFoundException"}"#));
    }
}

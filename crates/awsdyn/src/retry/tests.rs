use super::*;
use std::task::{Context, Waker};

/// Runs a future that must complete without a runtime (everything here runs on a
/// [`ManualClock`], whose sleeps complete at once).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1000 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("future did not complete");
}

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 1e-9
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn test_config(mode: RetryMode) -> RetryConfig {
    RetryConfig {
        mode,
        base_delay: ms(10),
        max_backoff: ms(200),
        ..RetryConfig::default()
    }
}

fn retrier(mode: RetryMode) -> (Retrier, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    (Retrier::with_clock(test_config(mode), clock.clone()), clock)
}

// --- classification -----------------------------------------------------------------

#[test]
fn classification_table() {
    use ErrorClass::*;
    use TransportErrorKind as T;
    type Case = (Option<u16>, Option<&'static str>, Option<T>, ErrorClass);
    #[rustfmt::skip]
        let cases: &[Case] = &[
            (Some(400), Some("Throttling"), None, Throttling),
            (Some(400), Some("ThrottlingException"), None, Throttling),
            (Some(400), Some("ThrottledException"), None, Throttling),
            (Some(400), Some("RequestThrottledException"), None, Throttling),
            (Some(400), Some("TooManyRequestsException"), None, Throttling),
            (Some(400), Some("ProvisionedThroughputExceededException"), None, Throttling),
            (Some(400), Some("TransactionInProgressException"), None, Throttling),
            (Some(503), Some("RequestLimitExceeded"), None, Throttling),
            (Some(400), Some("BandwidthLimitExceeded"), None, Throttling),
            (Some(400), Some("LimitExceededException"), None, Throttling),
            (Some(400), Some("RequestThrottled"), None, Throttling),
            (Some(503), Some("SlowDown"), None, Throttling),
            (Some(400), Some("PriorRequestNotComplete"), None, Throttling),
            (Some(400), Some("EC2ThrottledException"), None, Throttling),
            (Some(429), None, None, Throttling),
            (Some(429), Some("SomethingElse"), None, Throttling),
            (Some(400), Some("com.amazonaws.dynamodb.v20120810#ThrottlingException"), None, Throttling),
            (Some(400), Some("ThrottlingException:http://internal.amazon.com/coral/"), None, Throttling),
            (Some(400), Some("RequestTimeout"), None, Transient),
            (Some(408), Some("RequestTimeoutException"), None, Transient),
            (Some(500), Some("InternalError"), None, Transient),
            (Some(400), Some("IDPCommunicationError"), None, Transient),
            (Some(500), None, None, ServerError),
            (Some(502), None, None, ServerError),
            (Some(503), Some("ServiceUnavailable"), None, ServerError),
            (Some(504), None, None, ServerError),
            (Some(501), None, None, NonRetryable),
            (Some(509), None, None, NonRetryable),
            (Some(400), Some("ValidationException"), None, NonRetryable),
            (Some(403), Some("AccessDenied"), None, NonRetryable),
            (Some(404), None, None, NonRetryable),
            (Some(400), Some("throttling"), None, NonRetryable),
            (None, None, Some(T::Connect), Transient),
            (None, None, Some(T::Reset), Transient),
            (Some(200), None, Some(T::IncompleteBody), Transient),
            (None, None, Some(T::ConnectTimeout), Timeout),
            (None, None, Some(T::ReadTimeout), Timeout),
            (None, None, Some(T::Other), NonRetryable),
            (Some(503), None, Some(T::Other), ServerError),
            (None, Some("SlowDown"), Some(T::ReadTimeout), Throttling),
            (None, None, None, NonRetryable),
        ];
    for &(status, code, transport, expected) in cases {
        assert_eq!(
            classify(status, code, transport),
            expected,
            "status {status:?}, code {code:?}, transport {transport:?}"
        );
    }
    assert_eq!(ErrorClass::modeled(true), Throttling);
    assert_eq!(ErrorClass::modeled(false), Transient);
    assert!(!NonRetryable.is_retryable());
    assert!(Timeout.is_retryable() && Throttling.is_throttling());
}

// --- backoff ------------------------------------------------------------------------

#[test]
fn backoff_is_full_jitter_under_a_capped_exponential() {
    let config = RetryConfig::default();
    // Ceiling: min(20 s, 1 s * 2^retry).
    for (retry, ceiling) in [
        (0, 1.0),
        (1, 2.0),
        (2, 4.0),
        (4, 16.0),
        (5, 20.0),
        (60, 20.0),
    ] {
        assert_eq!(backoff_delay(&config, retry, 0.0), Duration::ZERO);
        assert!(close(
            backoff_delay(&config, retry, 0.5).as_secs_f64(),
            ceiling / 2.0
        ));
        let near_top = backoff_delay(&config, retry, 0.999_999).as_secs_f64();
        assert!(near_top < ceiling && near_top > ceiling * 0.999, "{retry}");
    }
    assert!(close(
        backoff_delay(&config, u32::MAX, 0.5).as_secs_f64(),
        10.0
    ));
}

#[test]
fn retry_delays_stay_within_bounds() {
    let config = RetryConfig {
        max_attempts: 8,
        ..test_config(RetryMode::Standard)
    };
    let retrier = Retrier::with_clock(config, Arc::new(ManualClock::new()));
    let mut largest = [Duration::ZERO; 7];
    for call in 0..200 {
        let key = RetryKey::new(format!("a{call}"), "ec2", "us-east-1");
        let mut attempt = retrier.start(&key);
        for (retry, largest) in largest.iter_mut().enumerate() {
            let ceiling = ms(10 * (1 << retry)).min(ms(200));
            match attempt.after(ErrorClass::ServerError) {
                Decision::Retry(delay) => {
                    assert!(delay < ceiling, "retry {retry}: {delay:?} >= {ceiling:?}");
                    *largest = (*largest).max(delay);
                }
                other => panic!("retry {retry}: {other:?}"),
            }
        }
        assert_eq!(
            attempt.after(ErrorClass::ServerError),
            Decision::Stop(StopReason::AttemptsExhausted { attempts: 8 })
        );
    }
    // 200 draws each: the delays use the whole range, not a fixed fraction of it.
    for (retry, largest) in largest.iter().enumerate() {
        let ceiling = ms(10 * (1 << retry)).min(ms(200));
        assert!(*largest > ceiling / 2, "retry {retry}: largest {largest:?}");
    }
}

// --- decisions ----------------------------------------------------------------------

#[test]
fn stops_say_why() {
    let (retrier, _) = retrier(RetryMode::Standard);
    let key = RetryKey::new("acct", "sts", "us-east-1");

    // Five failures that are not throttling: the default cap.
    let mut attempt = retrier.start(&key);
    for class in [
        ErrorClass::ServerError,
        ErrorClass::Timeout,
        ErrorClass::Transient,
        ErrorClass::ServerError,
    ] {
        assert!(matches!(attempt.after(class), Decision::Retry(_)));
    }
    let stop = attempt.after(ErrorClass::ServerError);
    assert_eq!(
        stop,
        Decision::Stop(StopReason::AttemptsExhausted { attempts: 5 })
    );
    assert_eq!(attempt.attempts(), 5);

    let mut attempt = retrier.start(&key);
    assert_eq!(
        attempt.after(ErrorClass::NonRetryable),
        Decision::Stop(StopReason::NotRetryable)
    );
    let mut attempt = retrier.start(&key);
    assert_eq!(
        attempt.after(Outcome::Success),
        Decision::Stop(StopReason::Succeeded)
    );

    // One attempt: no retry at all, throttling included.
    let one = RetryConfig {
        max_attempts: 1,
        ..RetryConfig::default()
    };
    let retrier = Retrier::with_clock(one, Arc::new(ManualClock::new()));
    for class in [ErrorClass::Transient, ErrorClass::Throttling] {
        let mut attempt = retrier.start(&key);
        assert_eq!(
            attempt.after(class),
            Decision::Stop(StopReason::AttemptsExhausted { attempts: 1 })
        );
    }

    assert_eq!(
        StopReason::AttemptsExhausted { attempts: 3 }.to_string(),
        "gave up after 3 attempts"
    );
    assert_eq!(
        StopReason::QuotaExhausted { attempts: 1 }.to_string(),
        "gave up after 1 attempt (retry quota exhausted)"
    );
    assert_eq!(
        StopReason::BudgetExhausted {
            attempts: 40,
            budget: Duration::from_secs(300)
        }
        .to_string(),
        "gave up after 40 attempts (time budget of 300s spent)"
    );
    assert!(StopReason::BudgetExhausted {
        attempts: 2,
        budget: ms(1)
    }
    .is_retryable_failure());
    assert!(!StopReason::NotRetryable.is_retryable_failure());
    assert!(!StopReason::Succeeded.is_retryable_failure());
}

// --- time budget --------------------------------------------------------------------

/// Drives one call to its end on `clock`, sleeping each retry's delay; returns the
/// stop and the delays.
fn drive(
    attempt: &mut Attempt<'_>,
    clock: &ManualClock,
    mut next: impl FnMut(u32) -> Outcome,
) -> (StopReason, Vec<Duration>) {
    let mut delays = Vec::new();
    loop {
        match attempt.after(next(attempt.attempts())) {
            Decision::Retry(delay) => {
                delays.push(delay);
                clock.advance(delay);
            }
            Decision::Stop(reason) => return (reason, delays),
        }
    }
}

#[test]
fn throttling_is_retried_until_the_time_budget_is_spent() {
    let clock = Arc::new(ManualClock::new());
    let config = RetryConfig {
        base_delay: Duration::from_secs(1),
        max_backoff: Duration::from_secs(20),
        time_budget: Duration::from_secs(300),
        ..RetryConfig::default()
    };
    let retrier = Retrier::with_clock(config, clock.clone());
    let key = RetryKey::new("acct", "sts", "us-east-1");
    let mut attempt = retrier.start(&key);
    let (stop, delays) = drive(&mut attempt, &clock, |_| ErrorClass::Throttling.into());
    let StopReason::BudgetExhausted { attempts, budget } = stop else {
        panic!("{stop:?}");
    };
    assert_eq!(budget, Duration::from_secs(300));
    // Far more than the 5 attempts other failures get: the delays (capped at 20 s,
    // 10 s on average) fill the 300 s, and none was planned past it.
    assert!(attempts > 15, "{attempts} attempts");
    assert_eq!(delays.len() as u32 + 1, attempts);
    assert!(clock.now() <= Duration::from_secs(300), "{:?}", clock.now());
    assert!(delays.iter().all(|d| *d < Duration::from_secs(20)));
    // Exponential up to the cap: the first delays are short.
    assert!(delays[0] < Duration::from_secs(1) && delays[1] < Duration::from_secs(2));
    // Throttling took nothing from the quota.
    assert_eq!(retrier.stats(&key).unwrap().retry_tokens, 500);
}

#[test]
fn throttled_attempts_do_not_count_towards_the_attempt_cap() {
    let (retrier, clock) = retrier(RetryMode::Standard);
    let key = RetryKey::new("acct", "ec2", "us-east-1");
    // 20% throttling, 3 server errors in a row, throttling again, then success:
    // 4 failures that count, under the cap of 5.
    let script = [
        ErrorClass::Throttling,
        ErrorClass::ServerError,
        ErrorClass::Throttling,
        ErrorClass::Throttling,
        ErrorClass::Transient,
        ErrorClass::Timeout,
        ErrorClass::Throttling,
        ErrorClass::ServerError,
        ErrorClass::Throttling,
    ];
    let mut attempt = retrier.start(&key);
    let (stop, delays) = drive(&mut attempt, &clock, |n| {
        script
            .get(n as usize)
            .map_or(Outcome::Success, |c| Outcome::Error(*c))
    });
    assert_eq!(stop, StopReason::Succeeded);
    assert_eq!(delays.len(), script.len());
    // A fifth counted failure stops the call, whatever throttling came between.
    let mut attempt = retrier.start(&key);
    let (stop, _) = drive(&mut attempt, &clock, |n| {
        if n % 2 == 0 {
            ErrorClass::Throttling.into()
        } else {
            ErrorClass::ServerError.into()
        }
    });
    assert_eq!(stop, StopReason::AttemptsExhausted { attempts: 10 });
}

#[test]
fn a_spent_quota_stops_server_errors_but_not_throttling() {
    let (retrier, clock) = retrier(RetryMode::Standard);
    let key = RetryKey::new("acct", "ec2", "us-east-1");
    // 100 failing calls spend the quota (500 tokens, 5 a retry)...
    for _ in 0..100 {
        assert!(matches!(
            retrier.start(&key).after(ErrorClass::ServerError),
            Decision::Retry(_)
        ));
    }
    assert_eq!(retrier.stats(&key).unwrap().retry_tokens, 0);
    assert_eq!(
        retrier.start(&key).after(ErrorClass::ServerError),
        Decision::Stop(StopReason::QuotaExhausted { attempts: 1 })
    );
    // ...but a throttled call is still retried until it succeeds.
    let mut attempt = retrier.start(&key);
    let (stop, delays) = drive(&mut attempt, &clock, |n| {
        if n < 30 {
            ErrorClass::Throttling.into()
        } else {
            Outcome::Success
        }
    });
    assert_eq!(stop, StopReason::Succeeded);
    assert_eq!(delays.len(), 30);
}

#[test]
fn a_callers_deadline_shortens_the_budget() {
    let (retrier, clock) = retrier(RetryMode::Standard);
    let key = RetryKey::new("acct", "s3", "us-east-1");
    clock.advance(Duration::from_secs(7));
    let mut attempt = retrier.start(&key);
    attempt.limit_budget(Duration::from_secs(2));
    // A longer limit does not lengthen it again.
    attempt.limit_budget(Duration::from_secs(3600));
    let (stop, _) = drive(&mut attempt, &clock, |_| ErrorClass::Throttling.into());
    assert!(
        matches!(stop, StopReason::BudgetExhausted { budget, .. } if budget == Duration::from_secs(2)),
        "{stop:?}"
    );
    assert!(clock.now() <= Duration::from_secs(9));
    // No time left at all: the first throttle stops the call (unless its delay is 0).
    let mut attempt = retrier.start(&key);
    attempt.limit_budget(Duration::ZERO);
    assert!(matches!(
        attempt.after_with_hint(ErrorClass::Throttling, Some(ms(1))),
        Decision::Stop(StopReason::BudgetExhausted { attempts: 1, .. })
    ));
}

#[test]
fn the_services_retry_after_is_a_floor_under_the_backoff() {
    let (retrier, _) = retrier(RetryMode::Standard);
    let key = RetryKey::new("acct", "lambda", "us-east-1");
    let mut attempt = retrier.start(&key);
    // The first backoff is under 10 ms in these tests: the hint wins.
    assert_eq!(
        attempt.after_with_hint(ErrorClass::Throttling, Some(ms(150))),
        Decision::Retry(ms(150))
    );
    // A hint of 0 still backs off: 20 more retries wait about 1.8 s in all here (half
    // of each ceiling, 20 ms to 200 ms, on average).
    let mut waited = Duration::ZERO;
    for _ in 0..20 {
        match attempt.after_with_hint(ErrorClass::Throttling, Some(Duration::ZERO)) {
            Decision::Retry(d) => waited += d,
            other => panic!("{other:?}"),
        }
    }
    assert!(waited > ms(200), "{waited:?}");
    // Capped at max_backoff (200 ms in these tests).
    assert_eq!(
        attempt.after_with_hint(ErrorClass::ServerError, Some(Duration::from_secs(60))),
        Decision::Retry(ms(200))
    );
}

// --- retry quota --------------------------------------------------------------------

#[test]
fn quota_drains_and_refunds() {
    let (retrier, _) = retrier(RetryMode::Standard);
    let key = RetryKey::new("acct", "ec2", "us-east-1");
    let tokens = |r: &Retrier| r.stats(&key).unwrap().retry_tokens;

    // A success without retries on a full quota changes nothing.
    assert_eq!(
        retrier.start(&key).after(Outcome::Success),
        Decision::Stop(StopReason::Succeeded)
    );
    assert_eq!(tokens(&retrier), 500);

    // Retries cost 5, retries after a timeout 10, throttling retries nothing.
    let mut attempt = retrier.start(&key);
    attempt.after(ErrorClass::ServerError);
    assert_eq!(tokens(&retrier), 495);
    attempt.after(ErrorClass::Throttling);
    assert_eq!(tokens(&retrier), 495);
    attempt.after(ErrorClass::Timeout);
    assert_eq!(tokens(&retrier), 485);
    // Success after retries gives back what the last retry took.
    attempt.after(Outcome::Success);
    assert_eq!(tokens(&retrier), 495);
    // Success without retries gives back 1.
    retrier.start(&key).after(Outcome::Success);
    assert_eq!(tokens(&retrier), 496);
    // A failure that is not retried takes and gives nothing.
    retrier.start(&key).after(ErrorClass::NonRetryable);
    assert_eq!(tokens(&retrier), 496);

    // Drain it: 99 retries of 5 leave 1 token, then the quota says no.
    for _ in 0..99 {
        let mut attempt = retrier.start(&key);
        assert!(matches!(
            attempt.after(ErrorClass::ServerError),
            Decision::Retry(_)
        ));
    }
    assert_eq!(tokens(&retrier), 1);
    let mut attempt = retrier.start(&key);
    assert_eq!(
        attempt.after(ErrorClass::ServerError),
        Decision::Stop(StopReason::QuotaExhausted { attempts: 1 })
    );
    // Other keys have their own quota.
    let other = RetryKey::new("acct", "ec2", "eu-west-1");
    assert!(matches!(
        retrier.start(&other).after(ErrorClass::ServerError),
        Decision::Retry(_)
    ));
    // Successes refill, capped at the initial size.
    for _ in 0..4 {
        retrier.start(&key).after(Outcome::Success);
    }
    assert_eq!(tokens(&retrier), 5);
    assert!(matches!(
        retrier.start(&key).after(ErrorClass::ServerError),
        Decision::Retry(_)
    ));
    let mut quota = RetryQuota::new(500);
    quota.release(10);
    assert_eq!(quota.available, 500);
}

// --- adaptive arithmetic ------------------------------------------------------------

#[test]
fn cubic_matches_the_reference_values() {
    // Rate 10 at a throttling error at t=5 (expected values from the formulas
    // k = cbrt(w_max * (1 - beta) / C), rate = C * (t - last_fail - k)^3 + w_max,
    // and beta * rate on throttling; they agree with the SDKs' shared test cases).
    let mut cubic = Cubic::new(10.0, 5.0);
    assert!(close(cubic.k, 1.9574338205844317));
    assert!(close(Cubic::zero_point(8.0), 1.8171205928321397));
    let mut rate = 0.0;
    let steps: &[(bool, f64, f64)] = &[
        (false, 5.0, 7.0),
        (false, 6.0, 9.64893600966),
        (true, 7.0, 6.754255206761999),
        (true, 8.0, 4.727978644733399),
        (false, 9.0, 6.606547753887045),
        (false, 10.0, 6.763279816944947),
        (false, 11.0, 7.598174833907107),
        (false, 12.0, 11.511232804773524),
    ];
    for &(throttled, t, expected) in steps {
        rate = if throttled {
            cubic.throttle(rate, t)
        } else {
            cubic.success(t)
        };
        assert!(close(rate, expected), "t={t}: {rate} != {expected}");
    }

    let cubic = Cubic::new(10.0, 5.0);
    for (t, expected) in [
        (7.0, 10.000030849917364),
        (8.0, 10.453284520772092),
        (9.0, 13.408697022224185),
        (10.0, 21.26626835427364),
        (11.0, 36.425998516920465),
    ] {
        assert!(close(cubic.success(t), expected), "t={t}");
    }
}

#[test]
fn send_rate_is_smoothed_per_half_second() {
    let mut rate = SendRate::new(0.0);
    assert_eq!(rate.record(1.0), 0.8); // 1 response in 1 s: 1 * 0.8 + 0 * 0.2
    let mut rate = SendRate::new(0.0);
    for t in 1..=20 {
        rate.record(f64::from(t));
    }
    assert!((rate.measured - 1.0).abs() < 1e-3);
}

#[test]
fn limiter_matches_the_reference_sequence() {
    // A limiter created at t=0; responses every 0.2 s, one throttle at 2.0 s and one
    // at 3.2 s. Expected values computed from the algorithm's formulas; the first
    // eleven steps are the SDKs' shared end-to-end test case.
    let mut limiter = RateLimiter::new(0.0);
    let steps: &[(f64, bool, f64, f64)] = &[
        (0.2, false, 0.0, 0.5),
        (0.4, false, 0.0, 0.5),
        (0.6, false, 4.8, 0.5),
        (0.8, false, 4.8, 0.5),
        (1.0, false, 4.16, 0.5),
        (1.2, false, 4.16, 0.6912),
        (1.4, false, 4.16, 1.0976),
        (1.6, false, 5.632, 1.6384),
        (1.8, false, 5.632, 2.3328),
        (2.0, true, 4.3264, 3.02848),
        (2.2, false, 4.3264, 3.4866391734702606),
        (2.4, false, 4.3264, 3.821874416040256),
        (2.6, false, 5.66528, 4.053385727709988),
        (2.8, false, 5.66528, 4.200373108479455),
        (3.0, false, 4.333056, 4.282036558348659),
        (3.2, true, 4.333056, 2.997425590844061),
        (3.4, false, 4.333056, 3.4522263943863467),
    ];
    for &(t, throttled, measured, fill_rate) in steps {
        limiter.on_response(t, throttled);
        assert!(
            close(limiter.send_rate.measured, measured),
            "t={t}: measured {}",
            limiter.send_rate.measured
        );
        assert!(
            close(limiter.bucket.fill_rate, fill_rate),
            "t={t}: fill {}",
            limiter.bucket.fill_rate
        );
        assert_eq!(limiter.enabled, t >= 2.0, "t={t}");
    }
    // The bucket kept filling at each step's rate and never above the rate itself.
    assert!(close(limiter.bucket.capacity, 2.997425590844061));
    assert!(close(limiter.bucket.max_capacity, 3.4522263943863467));
}

#[test]
fn token_bucket_waits_for_tokens() {
    let mut bucket = TokenBucket::new(0.0);
    assert_eq!(
        (bucket.fill_rate, bucket.max_capacity, bucket.capacity),
        (1.0, 1.0, 0.0)
    );
    assert_eq!(bucket.try_acquire(0.0), Err(Duration::from_secs(1)));
    assert_eq!(bucket.try_acquire(0.25), Err(Duration::from_millis(750)));
    assert_eq!(bucket.try_acquire(1.0), Ok(()));
    // Never fills past its capacity, which follows the rate (at least 1).
    bucket.set_rate(4.0, 1.0);
    assert_eq!(bucket.try_acquire(10.0), Ok(()));
    assert!(close(bucket.capacity, 3.0));
    // Below the minimum fill rate: 0.5 tokens/s, capacity 1.
    bucket.set_rate(0.1, 10.0);
    assert_eq!(
        (bucket.fill_rate, bucket.max_capacity, bucket.capacity),
        (0.5, 1.0, 1.0)
    );
    assert_eq!(bucket.try_acquire(10.0), Ok(()));
    assert_eq!(bucket.try_acquire(10.0), Err(Duration::from_secs(2)));
}

// --- adaptive end to end ------------------------------------------------------------

#[test]
fn unthrottled_keys_never_wait() {
    let (retrier, clock) = retrier(RetryMode::Adaptive);
    let key = RetryKey::new("acct", "s3", "us-east-1");
    for _ in 0..1000 {
        let mut attempt = retrier.start(&key);
        block_on(attempt.before_send());
        attempt.after(Outcome::Success);
    }
    assert_eq!(clock.now(), Duration::ZERO);
    let limiter = retrier.stats(&key).unwrap().limiter.unwrap();
    assert!(!limiter.enabled);
}

#[test]
fn throttling_one_key_leaves_the_others_alone() {
    let (retrier, clock) = retrier(RetryMode::Adaptive);
    let a = RetryKey::new("111111111111", "ec2", "us-east-1");
    let b = RetryKey::new("222222222222", "ec2", "us-east-1");
    let c = RetryKey::new("111111111111", "ec2", "us-west-2");
    // All three send 10 requests per second for 3 seconds...
    for _ in 0..30 {
        clock.advance(ms(100));
        for key in [&a, &b, &c] {
            let mut attempt = retrier.start(key);
            block_on(attempt.before_send());
            attempt.after(Outcome::Success);
        }
    }
    let before_b = retrier.stats(&b).unwrap();
    // ...then A is throttled.
    for _ in 0..5 {
        let mut attempt = retrier.start(&a);
        block_on(attempt.before_send());
        attempt.after(ErrorClass::Throttling);
    }
    let stats_a = retrier.stats(&a).unwrap().limiter.unwrap();
    assert!(stats_a.enabled);
    assert!(stats_a.fill_rate < 10.0);
    assert_eq!(retrier.stats(&b).unwrap(), before_b);
    for key in [&b, &c] {
        let stats = retrier.stats(key).unwrap();
        assert!(!stats.limiter.unwrap().enabled);
        assert_eq!(stats.retry_tokens, 500);
    }
    // B and C still send without waiting; A waits for its bucket.
    let now = clock.now();
    for key in [&b, &c] {
        for _ in 0..100 {
            block_on(retrier.start(key).before_send());
        }
    }
    assert_eq!(clock.now(), now);
    for _ in 0..3 {
        block_on(retrier.start(&a).before_send());
    }
    assert!(clock.now() > now);
}

#[test]
fn throttled_sends_are_paced_by_the_fill_rate() {
    let (retrier, clock) = retrier(RetryMode::Adaptive);
    let key = RetryKey::new("acct", "iam", "us-east-1");
    // One throttle right away: measured rate 0, so the fill rate drops to the 0.5/s
    // floor and the bucket holds at most one token.
    let mut attempt = retrier.start(&key);
    block_on(attempt.before_send());
    assert!(matches!(
        attempt.after(ErrorClass::Throttling),
        Decision::Retry(_)
    ));
    let stats = retrier.stats(&key).unwrap().limiter.unwrap();
    assert!(stats.enabled);
    assert_eq!(stats.fill_rate, 0.5);
    assert_eq!(stats.capacity, 0.0);
    // Each send now waits 2 s for its token.
    for n in 1..=3 {
        block_on(attempt.before_send());
        assert_eq!(clock.now(), Duration::from_secs(2 * n));
    }
}

/// A clock whose time only moves when told and whose sleeps never end: a waiting
/// send can only be released by a rate change.
#[derive(Default)]
struct StuckClock(ManualClock);

impl Clock for StuckClock {
    fn now(&self) -> Duration {
        self.0.now()
    }

    fn sleep(&self, _: Duration) -> Sleep {
        Box::pin(std::future::pending())
    }
}

#[test]
fn waiting_sends_queue_and_wake_on_rate_changes() {
    let clock = Arc::new(StuckClock::default());
    let retrier = Retrier::with_clock(test_config(RetryMode::Adaptive), clock.clone());
    let key = RetryKey::new("acct", "ec2", "us-east-1");
    retrier.start(&key).after(ErrorClass::Throttling); // 0.5 tokens/s, empty bucket

    let mut cx = Context::from_waker(Waker::noop());
    let mut first = retrier.start(&key);
    let mut second = retrier.start(&key);
    let mut first_send = Box::pin(first.before_send());
    let mut second_send = Box::pin(second.before_send());
    assert!(first_send.as_mut().poll(&mut cx).is_pending());
    assert!(second_send.as_mut().poll(&mut cx).is_pending());

    // Time passes (one token accrues), but the sleep never ends: nothing moves...
    clock.0.advance(Duration::from_secs(2));
    assert!(first_send.as_mut().poll(&mut cx).is_pending());
    // ...until a response changes the rate and wakes the head of the queue.
    retrier.start(&key).after(Outcome::Success);
    assert!(second_send.as_mut().poll(&mut cx).is_pending()); // still second in line
    assert!(first_send.as_mut().poll(&mut cx).is_ready());
    // The second send is at the head now, and the bucket is empty again.
    assert!(second_send.as_mut().poll(&mut cx).is_pending());
    clock.0.advance(Duration::from_secs(2));
    retrier.start(&key).after(Outcome::Success);
    assert!(second_send.as_mut().poll(&mut cx).is_ready());
}

#[test]
fn retrier_and_send_future_can_cross_threads() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    fn assert_send<T: Send>(_: &T) {}
    let retrier = Retrier::new(RetryConfig::default());
    assert_send_sync(&retrier);
    let key = RetryKey::new("acct", "ec2", "us-east-1");
    let mut attempt = retrier.start(&key);
    assert_send(&attempt.before_send());
}

#[test]
fn standard_mode_has_no_limiter() {
    let (retrier, clock) = retrier(RetryMode::Standard);
    let key = RetryKey::new("acct", "ec2", "us-east-1");
    for _ in 0..10 {
        let mut attempt = retrier.start(&key);
        block_on(attempt.before_send());
        attempt.after(ErrorClass::Throttling);
    }
    assert_eq!(clock.now(), Duration::ZERO);
    assert_eq!(retrier.stats(&key).unwrap().limiter, None);
}

#[test]
fn paced_services_are_rate_limited_in_standard_mode_too() {
    let (retrier, clock) = retrier(RetryMode::Standard);
    let org = RetryKey::new("caller", "organizations", "us-east-1");
    let ec2 = RetryKey::new("caller", "ec2", "us-east-1");
    // Answered at a steady 10/s for a second, then throttled: the limiter takes over.
    for _ in 0..10 {
        let mut attempt = retrier.start(&org);
        block_on(attempt.before_send());
        attempt.after(Outcome::Success);
        clock.advance(ms(100));
    }
    let mut attempt = retrier.start(&org);
    block_on(attempt.before_send());
    attempt.after(ErrorClass::Throttling);
    let limiter = retrier
        .stats(&org)
        .unwrap()
        .limiter
        .expect("organizations is paced");
    assert!(
        limiter.fill_rate < 10.0,
        "the rate is cut below what was sent: {limiter:?}"
    );
    // The next sends wait for tokens at that rate instead of going at once.
    let before = clock.now();
    for _ in 0..5 {
        let mut attempt = retrier.start(&org);
        block_on(attempt.before_send());
        attempt.after(Outcome::Success);
    }
    assert!(clock.now() > before, "paced sends wait");
    let mut attempt = retrier.start(&ec2);
    block_on(attempt.before_send());
    attempt.after(ErrorClass::Throttling);
    assert_eq!(
        retrier.stats(&ec2).unwrap().limiter,
        None,
        "ec2 is not paced"
    );
}

#[test]
fn a_label_is_forgotten_but_not_its_calls_in_progress() {
    let (retrier, _clock) = retrier(RetryMode::Adaptive);
    let done = RetryKey::new("111111111111", "ec2", "us-east-1");
    let busy = RetryKey::new("111111111111", "sqs", "us-east-1");
    let other = RetryKey::new("222222222222", "ec2", "us-east-1");
    retrier.start(&done).after(ErrorClass::Throttling);
    retrier.start(&other).after(ErrorClass::Throttling);
    let in_flight = retrier.start(&busy);
    assert_eq!(retrier.key_count(), 3);
    retrier.forget_label("111111111111");
    assert!(retrier.stats(&done).is_none());
    assert!(
        retrier.stats(&busy).is_some(),
        "a call in progress keeps its key"
    );
    assert!(retrier.stats(&other).is_some());
    drop(in_flight);
    retrier.forget_label("111111111111");
    assert_eq!(retrier.key_count(), 1);
}

#[test]
fn idle_keys_are_forgotten() {
    let (retrier, clock) = retrier(RetryMode::Adaptive);
    let idle = RetryKey::new("a", "ec2", "us-east-1");
    let busy = RetryKey::new("b", "ec2", "us-east-1");
    retrier.start(&idle).after(ErrorClass::Throttling);
    let in_flight = retrier.start(&busy);
    assert_eq!(retrier.key_count(), 2);
    // Keys are looked at every idle_eviction / 2 (5 minutes): at 599 s nothing is
    // idle for 10 minutes yet.
    clock.advance(Duration::from_secs(599));
    let _ = retrier.start(&RetryKey::new("c", "ec2", "us-east-1"));
    assert_eq!(retrier.key_count(), 3);
    // At 900 s "a" has been idle for 15 minutes, "b" has a call in progress and "c"
    // was used 5 minutes ago.
    clock.advance(Duration::from_secs(301));
    let _ = retrier.start(&RetryKey::new("c", "ec2", "us-east-1"));
    assert_eq!(retrier.key_count(), 2);
    assert!(retrier.stats(&idle).is_none());
    drop(in_flight);
    // Coming back starts fresh.
    assert_eq!(retrier.start(&idle).attempts(), 0);
    assert_eq!(retrier.stats(&idle).unwrap().retry_tokens, 500);
}

// --- configuration ------------------------------------------------------------------

#[test]
fn configuration_from_environment_values() {
    let config = RetryConfig::from_env_values(None, None).unwrap();
    assert_eq!(config, RetryConfig::default());
    assert_eq!(config.mode, RetryMode::Standard);
    assert_eq!(config.max_attempts, 5);
    assert_eq!(config.time_budget, Duration::from_secs(300));

    let config = RetryConfig::from_env_values(Some("adaptive"), Some("10")).unwrap();
    assert_eq!(
        (config.mode, config.max_attempts),
        (RetryMode::Adaptive, 10)
    );
    let config = RetryConfig::from_env_values(Some(" Standard "), Some(" 1 ")).unwrap();
    assert_eq!((config.mode, config.max_attempts), (RetryMode::Standard, 1));
    let config = RetryConfig::from_env_values(Some("legacy"), Some("")).unwrap();
    assert_eq!((config.mode, config.max_attempts), (RetryMode::Standard, 5));
    let config = RetryConfig::from_env_values(Some(""), Some("5")).unwrap();
    assert_eq!((config.mode, config.max_attempts), (RetryMode::Standard, 5));

    let err = RetryConfig::from_env_values(Some("fast"), None).unwrap_err();
    assert_eq!(err.setting, "AWS_RETRY_MODE");
    assert_eq!(
        err.to_string(),
        "AWS_RETRY_MODE is \"fast\", expected one of standard, adaptive or legacy"
    );
    for bad in ["0", "-1", "three", "2.5", "99999999999"] {
        let err = RetryConfig::from_env_values(None, Some(bad)).unwrap_err();
        assert_eq!(err.setting, "AWS_MAX_ATTEMPTS", "{bad}");
        assert!(err.to_string().starts_with("AWS_MAX_ATTEMPTS is "), "{err}");
    }
    assert_eq!("ADAPTIVE".parse::<RetryMode>(), Ok(RetryMode::Adaptive));
    assert_eq!(RetryMode::Adaptive.to_string(), "adaptive");
    assert_eq!(parse_max_attempts("4"), Ok(4));
}

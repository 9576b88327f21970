//! Moto starts on a free port, answers, resets, and is gone after drop.

use std::path::Path;
use std::time::Instant;

use serde_json::json;
use testkit::{boto3_call, Caller, Moto};

#[test]
fn starts_answers_and_stops_on_drop() {
    let started = Instant::now();
    let moto = Moto::start();
    eprintln!(
        "moto started in {:?} at {}",
        started.elapsed(),
        moto.endpoint()
    );
    assert!(moto.endpoint().starts_with("http://127.0.0.1:"));
    assert_ne!(moto.port(), 0);

    // A real boto3 call goes through.
    let identity = boto3_call(
        &moto,
        &Caller::management(),
        "sts",
        "GetCallerIdentity",
        &json!({}),
        false,
    );
    assert_eq!(identity["Account"], "123456789012");

    let pid = moto.pid();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    drop(moto);
    // The process group was killed and reaped.
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "moto (pid {pid}) is still there after drop"
    );
}

#[test]
fn two_servers_are_independent_and_reset_forgets() {
    let a = Moto::start();
    let b = Moto::start();
    assert_ne!(a.port(), b.port());

    let caller = Caller::management();
    boto3_call(
        &a,
        &caller,
        "sqs",
        "create_queue",
        &json!({"QueueName": "only-in-a"}),
        false,
    );
    let list = |m: &Moto| boto3_call(m, &caller, "sqs", "ListQueues", &json!({}), false);
    assert_eq!(list(&a)["QueueUrls"].as_array().map(Vec::len), Some(1));
    assert!(
        list(&b).get("QueueUrls").is_none(),
        "b sees a's queue: {}",
        list(&b)
    );

    a.reset();
    assert!(
        list(&a).get("QueueUrls").is_none(),
        "reset kept the queue: {}",
        list(&a)
    );
}

#[test]
fn stderr_tail_shows_requests() {
    let moto = Moto::start();
    boto3_call(
        &moto,
        &Caller::management(),
        "s3",
        "ListBuckets",
        &json!({}),
        false,
    );
    // werkzeug logs one line per request on stderr; the line may be written just after
    // the response, so wait for it (bounded).
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    while !moto.stderr_tail().contains("GET / HTTP/1.1") {
        assert!(
            Instant::now() < deadline,
            "no request line in moto's stderr:\n{}",
            moto.stderr_tail()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A moto that cannot start fails with its own stderr in the message.
#[test]
#[should_panic(expected = "testkit-broken-werkzeug")]
fn failure_to_start_shows_moto_stderr() {
    // A werkzeug that fails to import, ahead of the real one on the path.
    struct RemoveOnDrop(std::path::PathBuf);
    impl Drop for RemoveOnDrop {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let dir = std::env::temp_dir().join(format!("testkit-broken-{}", std::process::id()));
    let _cleanup = RemoveOnDrop(dir.clone());
    std::fs::create_dir_all(dir.join("werkzeug")).unwrap();
    std::fs::write(
        dir.join("werkzeug/__init__.py"),
        "raise ImportError('testkit-broken-werkzeug')\n",
    )
    .unwrap();
    let path = dir.to_string_lossy().into_owned();
    Moto::start_with(&[("PYTHONPATH", &path)]);
}

//! Without the venv, the kit says how to make it. (Its own test binary: it sets an
//! environment variable, which would race with other tests in the same process.)

#[test]
fn missing_python_says_to_run_the_setup_script() {
    std::env::set_var("CENSUS_PYTHON", "/nonexistent/census-testkit/python");
    let panic = std::panic::catch_unwind(testkit::python_path).expect_err("should panic");
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(message.contains("run scripts/setup-python.sh"), "{message}");
    assert!(
        message.contains("/nonexistent/census-testkit/python"),
        "{message}"
    );
}

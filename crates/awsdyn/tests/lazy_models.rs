//! A process that calls two services decodes those two models and no other. (Its own
//! test binary: the unit tests load models concurrently.)

#[test]
fn only_the_services_used_are_decoded() {
    assert!(awsdyn::model::services().len() > 400);
    assert_eq!(awsdyn::model::loaded_count(), 0);
    let ec2 = awsdyn::model::load("ec2").unwrap();
    let sts = awsdyn::model::load("sts").unwrap();
    assert!(
        ec2.operation("DescribeInstances").is_some()
            && sts.operation("GetCallerIdentity").is_some()
    );
    // Loading again hits the cache.
    awsdyn::model::load("EC2").unwrap();
    assert_eq!(awsdyn::model::loaded_count(), 2);
}

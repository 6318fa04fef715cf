//! Load balancers the AWS Load Balancer Controller made (EKS), through the
//! `maint` binary against moto: maint reads their tags, says that the
//! controller reconciles their web ACL, injects into the web ACL the
//! Ingress names (with consent), and where it associates its own, warns
//! that controllers up to 2.8.1 remove it and prints the annotation that
//! keeps it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use maint_core::ResourceArn;
use maint_tests::cli::Workdir;
use maint_tests::seed;

async fn controller_alb(hint: &str) -> (String, ResourceArn) {
    let name = seed::unique_lb_name(hint);
    let arn = seed::create_load_balancer(&name, "application").await;
    seed::tag_load_balancer(
        &arn,
        &[
            ("elbv2.k8s.aws/cluster", "prod"),
            ("ingress.k8s.aws/stack", "shop-group"),
        ],
    )
    .await;
    (name, ResourceArn::parse(&arn).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alb_of_the_load_balancer_controller_is_named_and_its_web_acl_kept() {
    let w = Workdir::new();

    // No web ACL: maint associates its own, and says how the controller
    // could take it away and how to keep it (the annotation, with the ARN).
    let (name, arn) = controller_alb("eks-none").await;
    let arm = w.maint(&["arm", &name, "--reason", "db upgrade"]);
    assert_eq!(arm.code, 0, "{}\n{}", arm.stdout, arm.stderr);
    let said = format!("{}{}", arm.stdout, arm.stderr);
    assert!(
        said.contains(
            "managed by the AWS Load Balancer Controller (cluster prod, Ingress shop-group)"
        ),
        "{said}"
    );
    assert!(said.contains("2.8.1"), "{said}");
    let status = w.maint(&["--json", "status", arn.as_str()]);
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let acl_arn = json["targets"][0]["web_acl_arn"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        said.contains(&format!(
            "alb.ingress.kubernetes.io/wafv2-acl-arn: {acl_arn}"
        )),
        "{said}"
    );
    assert_eq!(w.maint(&["disarm", &name]).code, 0);

    // The Ingress's web ACL: refused without consent, with why and how.
    let (name, arn) = controller_alb("eks-acl").await;
    seed::foreign_web_acl(arn.as_str()).await;
    let refused = w.maint(&["enter", &name]);
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    let said = format!("{}{}", refused.stdout, refused.stderr);
    assert!(said.contains("is the one it associates"), "{said}");
    assert!(said.contains("--inject"), "{said}");
    // (Injecting needs ListResourcesForWebACL, which moto lacks: the
    // in-memory backend's test, fleet_run_tests, covers the note then.)

    // An ALB nobody tagged gets no such note.
    let plain = seed::unique_lb_name("eks-plain");
    seed::create_load_balancer(&plain, "application").await;
    let entered = w.maint(&["enter", &plain]);
    assert_eq!(entered.code, 0);
    assert!(!format!("{}{}", entered.stdout, entered.stderr).contains("Load Balancer Controller"));
    assert_eq!(w.maint(&["exit", &plain]).code, 0);
}

//! [`Fleet::run`] and [`Fleet::bypass_links`] on the in-memory backend:
//! what every front end gets from the core's one change flow.

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use crate::access::BypassRequest;
use crate::backend::{shared_factory, LoadBalancerType, MemoryBackend};
use crate::config::Config;
use crate::fleet::{ChangeRequest, Command, EnterRequest, Event, Fleet, Silent, WaitPlan};
use crate::maintenance::Mode;

/// A webhook on the loopback that answers 200 to each POST and sends its
/// body down the channel.
fn webhook() -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            // Headers, then as many body bytes as Content-Length says.
            let body = loop {
                let n = stream.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break String::new();
                }
                seen.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&seen).to_string();
                let Some((head, body)) = text.split_once("\r\n\r\n") else {
                    continue;
                };
                let length = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    break body.to_string();
                }
            };
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
            let _ = tx.send(body);
        }
    });
    (url, rx)
}

/// A port nothing listens on: every probe fails.
fn closed_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/")
}

fn shop(extra: &str) -> (Fleet, Arc<MemoryBackend>) {
    let memory = Arc::new(MemoryBackend::new("us-east-1"));
    memory.add_load_balancer("shop-a", LoadBalancerType::Application);
    let config = Config::parse(
        &format!("region = \"us-east-1\"\n[services.shop]\nload_balancers = [\"shop-a\"]\n{extra}"),
        Path::new("maint.toml"),
    )
    .unwrap();
    let fleet = Fleet::new(Some(config), None, shared_factory(memory.clone()));
    (fleet, memory)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_webhooks_are_told_even_when_the_wait_fails() {
    let (hook, posts) = webhook();
    let (fleet, _) = shop(&format!("[notify]\nwebhooks = [{hook:?}]\n"));
    let events = std::sync::Mutex::new(Vec::new());
    let observer = |event: &Event<'_>| {
        let name = match event {
            Event::Waiting { .. } => "waiting",
            Event::Probed { .. } => "probed",
            Event::Warning { .. } => "warning",
            _ => return,
        };
        events.lock().unwrap().push(name);
    };
    let request = ChangeRequest::new(Command::Enter(EnterRequest::default()), vec!["shop".into()])
        .wait(Some(WaitPlan {
            url: Some(closed_url()),
            timeout: Some(Duration::from_millis(300)),
        }));
    let run = fleet.run(request, &observer).await.unwrap();
    assert_eq!(run.summary.changed, 1, "the change itself was made");
    assert!(run.waited.is_empty());
    let error = run.wait_error.as_ref().expect("the wait failed");
    assert!(error.to_string().contains("no answer"), "{error}");
    let body = posts.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(body.contains("put into maintenance"), "{body}");
    assert!(run.warnings.is_empty(), "{:?}", run.warnings);
    let events = events.lock().unwrap();
    assert_eq!(events.first(), Some(&"waiting"), "{events:?}");
    assert!(events.contains(&"probed"), "{events:?}");
}

#[tokio::test]
async fn no_webhook_is_told_when_asked_not_to_and_a_dry_run_waits_for_nothing() {
    let (hook, posts) = webhook();
    let (fleet, _) = shop(&format!("[notify]\nwebhooks = [{hook:?}]\n"));
    let request = ChangeRequest::new(Command::Enter(EnterRequest::default()), vec!["shop".into()])
        .notify(false);
    let run = fleet.run(request, &Silent).await.unwrap();
    assert_eq!(run.summary.changed, 1);
    assert!(posts.recv_timeout(Duration::from_millis(300)).is_err());
    let request = ChangeRequest::new(Command::Exit, vec!["shop".into()])
        .mode(Mode::DryRun)
        .wait(Some(WaitPlan {
            url: Some(closed_url()),
            timeout: Some(Duration::from_secs(60)),
        }));
    let run = fleet.run(request, &Silent).await.unwrap();
    assert!(run.wait_error.is_none() && run.waited.is_empty());
}

#[tokio::test]
async fn a_wait_with_no_url_is_bad_input_before_any_change() {
    let (fleet, memory) = shop("");
    let request = ChangeRequest::new(Command::Enter(EnterRequest::default()), vec!["shop".into()])
        .wait(Some(WaitPlan::default()));
    let error = fleet.run(request, &Silent).await.unwrap_err();
    assert!(error.to_string().contains("--wait-url"), "{error}");
    let status = fleet.status(&["shop".into()], &Silent).await.unwrap();
    assert_eq!(status.targets[0].state, crate::report::TargetState::Normal);
    drop(memory);
}

#[tokio::test]
async fn a_spoofable_client_address_is_a_warning_event_and_in_the_run() {
    let (fleet, _) = shop(
        "client_ip = { header = \"X-Forwarded-For\", position = \"first\", fallback = \"match\" }\n",
    );
    let warned = std::sync::Mutex::new(Vec::new());
    let observer = |event: &Event<'_>| {
        if let Event::Warning { message } = event {
            warned.lock().unwrap().push(message.to_string());
        }
    };
    let request = ChangeRequest::new(Command::Enter(EnterRequest::default()), vec!["shop".into()]);
    let run = fleet.run(request, &observer).await.unwrap();
    assert!(!run.warnings.is_empty());
    assert!(run.warnings.iter().all(|w| w.starts_with("service shop: ")));
    assert_eq!(*warned.lock().unwrap(), run.warnings);
}

#[tokio::test]
async fn a_base_url_with_a_trailing_slash_gives_the_same_links() {
    let (fleet, _) = shop("url = \"https://shop.example.com/\"\n");
    let request = ChangeRequest::new(
        Command::Enter(EnterRequest {
            bypass: BypassRequest::On,
            ..EnterRequest::default()
        }),
        vec!["shop".into()],
    );
    fleet.run(request, &Silent).await.unwrap();
    let shop = ["shop".to_string()];
    let link = |base: Option<&'static str>| {
        let fleet = &fleet;
        let shop = &shop;
        async move {
            let run = fleet.bypass_links(shop, base, &Silent).await.unwrap();
            run.links[0].link.clone().unwrap()
        }
    };
    let from_config = link(None).await;
    assert!(
        from_config.starts_with("https://shop.example.com/maint-bypass/"),
        "{from_config}"
    );
    assert_eq!(link(Some("https://shop.example.com")).await, from_config);
    assert_eq!(link(Some("https://shop.example.com/")).await, from_config);
    let error = fleet
        .bypass_links(&shop, Some("shop.example.com"), &Silent)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("--base-url"), "{error}");
}

/// A load balancer the AWS Load Balancer Controller made: `arm` says that
/// the controller may remove maint's web ACL and prints the annotation
/// (with the window's web ACL's ARN) that keeps it; under the Ingress's web
/// ACL, the refusal is followed by why and how to consent.
#[tokio::test]
async fn a_controllers_load_balancer_is_named_with_what_keeps_the_window() {
    use crate::platform::{CLUSTER_TAG, INGRESS_STACK_TAG, WAF_ANNOTATION};
    let (fleet, memory) = shop("");
    let arn = crate::ResourceArn::parse(
        &memory.add_load_balancer("eks-a", LoadBalancerType::Application),
    )
    .unwrap();
    memory.tag_load_balancer(&arn, CLUSTER_TAG, "prod");
    memory.tag_load_balancer(&arn, INGRESS_STACK_TAG, "shop-group");
    let run = fleet
        .run(
            ChangeRequest::new(Command::Arm(EnterRequest::default()), vec!["eks-a".into()]),
            &Silent,
        )
        .await
        .unwrap();
    let acl = crate::MaintenanceBackend::status(memory.as_ref(), &arn)
        .await
        .unwrap()
        .window_info()
        .unwrap()
        .web_acl_arn
        .clone();
    assert_eq!(run.warnings.len(), 1, "{:?}", run.warnings);
    let note = &run.warnings[0];
    assert!(note.starts_with("eks-a is managed by the AWS Load Balancer Controller (cluster prod, Ingress shop-group)"), "{note}");
    assert!(note.contains(&format!("{WAF_ANNOTATION}: {acl}")), "{note}");
    // Under the Ingress's web ACL: refused without consent, with why and
    // how; with consent, injected, and said so.
    let ingress = crate::ResourceArn::parse(
        &memory.add_load_balancer("eks-b", LoadBalancerType::Application),
    )
    .unwrap();
    memory.tag_load_balancer(&ingress, CLUSTER_TAG, "prod");
    memory.associate_foreign_web_acl(&ingress, "ingress-acl");
    let refused = fleet
        .run(
            ChangeRequest::new(
                Command::Enter(EnterRequest::default()),
                vec!["eks-b".into()],
            ),
            &Silent,
        )
        .await
        .unwrap();
    assert_eq!(refused.summary.failed, 1);
    assert!(
        refused.warnings.iter().any(
            |w| w.contains("web ACL ingress-acl is the one it associates")
                && w.contains("to consent")
        ),
        "{:?}",
        refused.warnings
    );
    let consent = EnterRequest {
        inject: true,
        ..EnterRequest::default()
    };
    let injected = fleet
        .run(
            ChangeRequest::new(Command::Enter(consent), vec!["eks-b".into()]),
            &Silent,
        )
        .await
        .unwrap();
    assert_eq!(injected.summary.changed, 1, "{injected:?}");
    assert!(
        injected
            .warnings
            .iter()
            .any(|w| w.contains("maint's rule is in the web ACL it associates")),
        "{:?}",
        injected.warnings
    );
    // Another ALB, untagged, in the same run: no note for it.
    memory.add_load_balancer("plain", LoadBalancerType::Application);
    let run = fleet
        .run(
            ChangeRequest::new(
                Command::Enter(EnterRequest::default()),
                vec!["plain".into()],
            ),
            &Silent,
        )
        .await
        .unwrap();
    assert!(run.warnings.is_empty(), "{:?}", run.warnings);
}

/// A scoped service on a load balancer the controller made: the note
/// names the service window's web ACL (its ARN in the annotation), read
/// through the service's window: the load balancer's own would see it
/// beside the service's scoped part, with no web ACL to name.
#[tokio::test]
async fn a_scoped_service_on_a_controllers_load_balancer_gets_its_web_acl_in_the_note() {
    use crate::platform::{CLUSTER_TAG, INGRESS_STACK_TAG, WAF_ANNOTATION};
    let (fleet, memory) = shop("hosts = [\"shop.example.com\"]\n");
    let arn = crate::ResourceArn::parse(
        &memory.add_load_balancer("shop-a", LoadBalancerType::Application),
    )
    .unwrap();
    memory.tag_load_balancer(&arn, CLUSTER_TAG, "prod");
    memory.tag_load_balancer(&arn, INGRESS_STACK_TAG, "shop-group");
    let request = ChangeRequest::new(Command::Enter(EnterRequest::default()), vec!["shop".into()]);
    let run = fleet.run(request, &Silent).await.unwrap();
    let window = crate::maintenance::Window::of_service("shop");
    let statuses = crate::MaintenanceBackend::window_status(memory.as_ref(), &window, &[arn])
        .await
        .unwrap();
    let acl = statuses[0]
        .as_ref()
        .unwrap()
        .window_info()
        .unwrap()
        .web_acl_arn
        .clone();
    assert_eq!(run.warnings.len(), 1, "{:?}", run.warnings);
    assert!(
        run.warnings[0].contains(&format!("{WAF_ANNOTATION}: {acl}")),
        "{}",
        run.warnings[0]
    );
}

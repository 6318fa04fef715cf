//! The evaluator on WAF JSON of every shape maint writes.

#![allow(clippy::unwrap_used)]

use serde_json::json;

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use serde_json::Value;

use crate::backend::waf::evaluate::{evaluate, Leaf, LiveAcl};
use crate::check::CheckRequest;

const V4: &str = "arn:aws:wafv2:us-east-1:123456789012:regional/ipset/maint-svc-shop-ipv4/a";
const V6: &str = "arn:aws:wafv2:us-east-1:123456789012:regional/ipset/maint-svc-shop-ipv6/b";
const SECRET: &str = "s3cret-s3cret-s3cret-s3cret";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn acl(rules: Vec<Value>) -> LiveAcl {
    LiveAcl {
        name: "maint-svc-shop".into(),
        rules,
        bodies: BTreeMap::from([(
            "maint-page".to_string(),
            (
                "TEXT_HTML".to_string(),
                "<h1>Down for maintenance</h1>".to_string(),
            ),
        )]),
        ip_sets: HashMap::from([
            (V4.to_string(), vec!["203.0.113.0/24".parse().unwrap()]),
            (V6.to_string(), vec!["2001:db8:1::/48".parse().unwrap()]),
        ]),
    }
}

fn req(ip: &str, headers: &[&str], path: &str) -> CheckRequest {
    let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    CheckRequest::new(ip, &headers, Some(path)).unwrap()
}

fn ip_set(arn: &str) -> Value {
    json!({"IPSetReferenceStatement": {"ARN": arn}})
}

fn forwarded(arn: &str, position: &str, fallback: &str) -> Value {
    json!({"IPSetReferenceStatement": {"ARN": arn, "IPSetForwardedIPConfig": {
        "HeaderName": "X-Forwarded-For", "FallbackBehavior": fallback, "Position": position}}})
}

fn exactly(field: Value, value: &str) -> Value {
    json!({"ByteMatchStatement": {"SearchString": b64(value), "FieldToMatch": field,
        "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
        "PositionalConstraint": "EXACTLY"}})
}

fn bypass_header() -> Value {
    exactly(json!({"SingleHeader": {"Name": "x-maint-bypass"}}), SECRET)
}

fn bypass_cookie() -> Value {
    exactly(
        json!({"Cookies": {"MatchPattern": {"IncludedCookies": ["maint_bypass"]},
            "MatchScope": "VALUE", "OversizeHandling": "NO_MATCH"}}),
        SECRET,
    )
}

fn match_all() -> Value {
    json!({"SizeConstraintStatement": {"FieldToMatch": {"UriPath": {}},
        "ComparisonOperator": "GE", "Size": 0,
        "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}})
}

fn not(s: Value) -> Value {
    json!({"NotStatement": {"Statement": s}})
}

fn or(s: Vec<Value>) -> Value {
    json!({"OrStatement": {"Statements": s}})
}

fn maintenance(statement: Value) -> Value {
    json!({"Name": "maint-maintenance", "Priority": 2, "Statement": statement,
        "Action": {"Block": {"CustomResponse": {"ResponseCode": 503,
            "CustomResponseBodyKey": "maint-page",
            "ResponseHeaders": [{"Name": "Cache-Control", "Value": "no-store"}]}}},
        "VisibilityConfig": {}})
}

fn link() -> Value {
    json!({"Name": "maint-bypass-link", "Priority": 1,
        "Statement": exactly(json!({"UriPath": {}}), &format!("/maint-bypass/{SECRET}")),
        "Action": {"Block": {"CustomResponse": {"ResponseCode": 302, "ResponseHeaders": [
            {"Name": "Location", "Value": "/"},
            {"Name": "Set-Cookie", "Value": format!("maint_bypass={SECRET}; Path=/")}]}}}})
}

fn client_ip(position: &str) -> Value {
    json!({"Name": "maint-client-ip", "Priority": 0,
        "Statement": or(vec![forwarded(V4, position, "NO_MATCH"), forwarded(V6, position, "NO_MATCH")]),
        "Action": {"Count": {}}, "RuleLabels": [{"Name": "maint:allowlisted"}]})
}

fn label() -> Value {
    json!({"LabelMatchStatement": {"Scope": "LABEL", "Key": "maint:allowlisted"}})
}

fn maints(name: &str) -> bool {
    name.starts_with("maint-")
}

fn decided(acl: &LiveAcl, r: &CheckRequest) -> Option<String> {
    evaluate(acl, r, maints).unwrap().decided_by
}

#[test]
fn ip_sets_of_both_families_let_their_entries_through() {
    let acl = acl(vec![maintenance(not(or(vec![ip_set(V4), ip_set(V6)])))]);
    assert_eq!(decided(&acl, &req("203.0.113.9", &[], "/")), None);
    assert_eq!(decided(&acl, &req("2001:db8:1::7", &[], "/")), None);
    let blocked = evaluate(&acl, &req("198.51.100.7", &[], "/"), maints).unwrap();
    assert_eq!(blocked.decided_by.as_deref(), Some("maint-maintenance"));
    let response = blocked.response.unwrap();
    assert_eq!(response.status, 503);
    assert_eq!(response.content_type.as_deref(), Some("text/html"));
    assert_eq!(
        response.body.as_deref(),
        Some("<h1>Down for maintenance</h1>")
    );
    assert_eq!(
        response.headers,
        [("Cache-Control".into(), "no-store".into())]
    );
    // The leaf says which entry let the request through.
    let through = evaluate(&acl, &req("203.0.113.9", &[], "/"), maints).unwrap();
    assert!(matches!(&through.trace[0].2[0],
        Leaf::IpSet { entry, .. } if entry.to_string() == "203.0.113.0/24"));
}

#[test]
fn everyone_gets_the_page_when_nothing_is_let_through_and_nobody_when_armed() {
    let all = acl(vec![maintenance(match_all())]);
    assert!(decided(&all, &req("203.0.113.9", &[], "/")).is_some());
    let armed = acl(vec![maintenance(not(match_all()))]);
    assert!(decided(&armed, &req("198.51.100.7", &[], "/")).is_none());
}

#[test]
fn the_bypass_header_and_cookie_need_the_exact_secret() {
    let acl = acl(vec![
        link(),
        maintenance(not(or(vec![ip_set(V4), bypass_header(), bypass_cookie()]))),
    ]);
    let stranger = "198.51.100.7";
    assert!(decided(&acl, &req(stranger, &[], "/")).is_some());
    let header = format!("X-Maint-Bypass: {SECRET}");
    assert_eq!(
        decided(&acl, &req(stranger, &[&header], "/")),
        None,
        "names are case-insensitive"
    );
    let wrong = format!("x-maint-bypass: {SECRET}x");
    assert!(decided(&acl, &req(stranger, &[&wrong], "/")).is_some());
    let cookie = format!("Cookie: theme=dark; maint_bypass={SECRET}; x=1");
    assert_eq!(decided(&acl, &req(stranger, &[&cookie], "/")), None);
    let other_cookie = format!("Cookie: other={SECRET}");
    assert!(decided(&acl, &req(stranger, &[&other_cookie], "/")).is_some());
    // The link: a 302 that sets the cookie, before the maintenance rule.
    let link = evaluate(
        &acl,
        &req(stranger, &[], &format!("/maint-bypass/{SECRET}?x=1")),
        maints,
    )
    .unwrap();
    assert_eq!(link.decided_by.as_deref(), Some("maint-bypass-link"));
    let response = link.response.unwrap();
    assert_eq!(response.status, 302);
    assert!(response
        .headers
        .iter()
        .any(|(n, v)| n == "Set-Cookie" && v.contains(SECRET)));
    assert!(
        decided(&acl, &req(stranger, &[], "/maint-bypass/guess")).as_deref()
            == Some("maint-maintenance")
    );
}

#[test]
fn a_forwarded_address_is_taken_from_its_position_and_labelled() {
    let rules = |position: &str| {
        acl(vec![
            client_ip(position),
            maintenance(not(or(vec![label(), bypass_header()]))),
        ])
    };
    let last = rules("LAST");
    let xff = |v: &str| format!("X-Forwarded-For: {v}");
    // Behind CloudFront: the last address is the one CloudFront saw.
    assert_eq!(
        decided(
            &last,
            &req("10.0.0.1", &[&xff("198.51.100.7, 203.0.113.9")], "/")
        ),
        None
    );
    // A client that claims an allowlisted address first does not get in.
    assert!(decided(
        &last,
        &req("10.0.0.1", &[&xff("203.0.113.9, 198.51.100.7")], "/")
    )
    .is_some());
    let first = rules("FIRST");
    assert_eq!(
        decided(
            &first,
            &req("10.0.0.1", &[&xff("203.0.113.9, 198.51.100.7")], "/")
        ),
        None
    );
    let any = rules("ANY");
    assert_eq!(
        decided(
            &any,
            &req("10.0.0.1", &[&xff("203.0.113.9, 198.51.100.7")], "/")
        ),
        None
    );
    assert_eq!(
        decided(&any, &req("10.0.0.1", &[&xff("2001:db8:1::5")], "/")),
        None
    );
    // The connection's address does not count, even allowlisted.
    assert!(decided(&last, &req("203.0.113.9", &[], "/")).is_some());
    // A missing header: the labelling rule is not applied, so no label.
    let eval = evaluate(&last, &req("203.0.113.9", &[], "/"), maints).unwrap();
    assert_eq!(
        eval.not_applied,
        [("maint-client-ip".to_string(), "X-Forwarded-For".to_string())]
    );
    // Not an address where configured: the fallback (NO_MATCH) applies.
    assert!(decided(&last, &req("10.0.0.1", &[&xff("unknown")], "/")).is_some());
}

#[test]
fn a_missing_header_inside_a_block_rule_would_let_everyone_through() {
    // Why maint labels in a rule of its own: in a block rule, a forwarded
    // IP statement whose header is missing takes the whole rule out.
    let naive = acl(vec![maintenance(not(forwarded(V4, "LAST", "NO_MATCH")))]);
    assert_eq!(decided(&naive, &req("198.51.100.7", &[], "/")), None);
}

#[test]
fn and_statements_and_fallback_match_follow_waf() {
    let both = acl(vec![maintenance(json!({"AndStatement": {"Statements": [
        not(ip_set(V4)),
        not(bypass_header()),
    ]}}))]);
    assert!(decided(&both, &req("198.51.100.7", &[], "/")).is_some());
    assert_eq!(decided(&both, &req("203.0.113.1", &[], "/")), None);
    let lenient = acl(vec![maintenance(not(forwarded(V4, "LAST", "MATCH")))]);
    let bad = "X-Forwarded-For: not-an-address";
    assert_eq!(decided(&lenient, &req("198.51.100.7", &[bad], "/")), None);
}

#[test]
fn statements_maint_does_not_write_are_refused_not_guessed() {
    let odd = acl(vec![maintenance(
        json!({"GeoMatchStatement": {"CountryCodes": ["DE"]}}),
    )]);
    let err = evaluate(&odd, &req("198.51.100.7", &[], "/"), maints).unwrap_err();
    assert!(err.to_string().contains("GeoMatchStatement"), "{err}");
    // Rules that are not maint's are not evaluated at all.
    let mut mixed = acl(vec![maintenance(not(ip_set(V4)))]);
    mixed.rules.push(json!({"Name": "geo", "Priority": 3,
        "Statement": {"GeoMatchStatement": {"CountryCodes": ["DE"]}}, "Action": {"Block": {}}}));
    assert_eq!(decided(&mixed, &req("203.0.113.1", &[], "/")), None);
}

#[test]
fn requests_are_validated() {
    assert!(CheckRequest::new("999.1.1.1", &[], None).is_err());
    assert!(CheckRequest::new("203.0.113.9", &["no colon".into()], None).is_err());
    assert!(CheckRequest::new("203.0.113.9", &["bad name: x".into()], None).is_err());
    assert!(CheckRequest::new("203.0.113.9", &[], Some("relative")).is_err());
    let r = CheckRequest::new(" 2001:db8::1 ", &["A: b".into()], Some("/x?y=1")).unwrap();
    assert_eq!(r.path(), "/x");
}

//! Reading moto's state with clients of the test's own, to check what the
//! backend left behind.

use aws_sdk_wafv2::types::Scope;
use maint_core::backend::web_acl_name;
use maint_core::ResourceArn;

use crate::seed;

/// The name of the web ACL `resource` is under, per AWS WAF in moto, if
/// any.
pub async fn web_acl_of(resource: &ResourceArn) -> Option<String> {
    let out = seed::waf_client()
        .get_web_acl_for_resource()
        .resource_arn(resource.as_str())
        .send()
        .await
        .unwrap_or_else(|e| panic!("moto GetWebACLForResource {resource}: {e}"));
    out.web_acl().map(|a| a.name().to_string())
}

/// The names of maint's web ACLs and IP sets for `lb` that exist in moto,
/// sorted.
pub async fn resources_in_moto(lb: &ResourceArn) -> Vec<String> {
    let waf = seed::waf_client();
    let prefix = web_acl_name(lb);
    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = waf
            .list_web_acls()
            .scope(Scope::Regional)
            .limit(100)
            .set_next_marker(marker.take())
            .send()
            .await
            .unwrap_or_else(|e| panic!("ListWebACLs: {e:?}"));
        names.extend(
            page.web_acls()
                .iter()
                .filter_map(|s| s.name())
                .map(String::from),
        );
        match page.next_marker() {
            Some(m) if page.web_acls().len() == 100 => marker = Some(m.to_string()),
            _ => break,
        }
    }
    loop {
        let page = waf
            .list_ip_sets()
            .scope(Scope::Regional)
            .limit(100)
            .set_next_marker(marker.take())
            .send()
            .await
            .unwrap_or_else(|e| panic!("ListIPSets: {e:?}"));
        names.extend(
            page.ip_sets()
                .iter()
                .filter_map(|s| s.name())
                .map(String::from),
        );
        match page.next_marker() {
            Some(m) if page.ip_sets().len() == 100 => marker = Some(m.to_string()),
            _ => break,
        }
    }
    names.retain(|n| n.starts_with(&prefix));
    names.sort();
    names
}

/// The IP sets maint made for `window` that exist in moto (by name: they
/// start with the window's).
pub async fn ip_sets_of(window: &maint_core::backend::Window) -> Vec<String> {
    let out = seed::waf_client()
        .list_ip_sets()
        .scope(Scope::Regional)
        .limit(100)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListIPSets: {e:?}"));
    out.ip_sets()
        .iter()
        .filter_map(|s| s.name())
        .filter(|n| n.starts_with(window.name()))
        .map(str::to_string)
        .collect()
}

//! The backend conformance suite against the WAF backend on moto.
#![allow(missing_docs)]

use maint_core::backend::conformance::run_all;
use maint_tests::WafFixture;

#[tokio::test(flavor = "multi_thread")]
async fn the_conformance_suite_passes_on_moto() {
    let fixture = WafFixture::for_conformance();
    run_all(&fixture).await;
}

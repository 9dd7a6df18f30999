//! The partnerships benchmark's demo (`citykpi demo --partner-members N
//! --partner-inquiries M`) on a real SQLite file: the register and the desk
//! are written again at the asked sizes, and the outreach leads that name a
//! member name one of the new register (they were left pointing at deleted
//! members before).

use citykpi_app::demo::{build_demo, build_partners_sized};
use citykpi_store::{InquiryFilter, LeadFilter, MemberFilter, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sized_partners_keep_leads_pointing_at_members() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("sized.db").to_str().unwrap())
        .await
        .unwrap();
    let as_of = citykpi_app::demo::reference_day();
    citykpi_app::clock::set_today(Some(as_of));
    build_demo(&store, 1, 7, as_of).await.unwrap();
    let leads_before = store
        .leads(&LeadFilter::new(citykpi_app::partners::today()))
        .await
        .unwrap()
        .total;
    assert!(leads_before > 0, "the demo has outreach leads");

    let written = build_partners_sized(&store, 7, 120, 300, as_of)
        .await
        .unwrap();
    let members = store.members(&MemberFilter::default()).await.unwrap();
    assert_eq!(members.total, 120);
    assert!(written >= 120, "{written}");
    let inquiries = store
        .inquiries(&InquiryFilter::new(citykpi_app::partners::today()))
        .await
        .unwrap();
    assert_eq!(inquiries.total, 300);

    let mut filter = LeadFilter::new(citykpi_app::partners::today());
    filter.per_page = 200;
    let leads = store.leads(&filter).await.unwrap();
    assert_eq!(leads.total, leads_before, "the leads are written again");
    let linked: Vec<i64> = leads
        .items
        .iter()
        .filter_map(|l| l.input.member_id)
        .collect();
    assert!(!linked.is_empty(), "a lead is linked to a member");
    for id in linked {
        assert!(
            store.member(id).await.unwrap().is_some(),
            "lead names member {id}, which exists"
        );
    }

    // Out of range: refused with the field named, nothing replaced.
    let err = build_partners_sized(&store, 7, 0, 300, as_of)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("partner-members"), "{err}");
    assert_eq!(
        store.members(&MemberFilter::default()).await.unwrap().total,
        120
    );
}

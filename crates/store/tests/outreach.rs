//! Startup outreach storage on a real SQLite file and a real
//! PostgreSQL database: leads with their stage history and the overdue list,
//! the funnel counts, events with the leads met there, postings of event
//! counts, every write in the audit log (without personal data), and nothing
//! half-written when a write is refused.

mod common;

use citykpi_domain::partner::Day;
use citykpi_domain::partner::member::{self, MemberForm};
use citykpi_domain::partner::outreach::{
    EventForm, LeadField, LeadForm, LeadStage, Measure, Posting, validate_event, validate_lead,
};
use citykpi_store::{EventFilter, LeadFilter, PartnerError};
use common::TestDb;

macro_rules! on_both_backends {
    ($($body:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $body() {
                    let db = crate::common::TestDb::new(citykpi_store::Backend::Sqlite).await;
                    super::$body(&db).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $body() {
                    let db = crate::common::TestDb::new(citykpi_store::Backend::Postgres).await;
                    super::$body(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

on_both_backends!(
    leads_move_through_stages_with_history,
    lead_lists_filter_page_and_overdue,
    refused_writes_leave_nothing,
    events_with_leads_and_postings,
);

fn day(s: &str) -> Day {
    Day::parse(s).unwrap()
}

const TODAY: &str = "2026-06-15";

fn lead_form(name: &str) -> LeadForm {
    LeadForm {
        name: name.into(),
        member_id: String::new(),
        met_at: "coworking".into(),
        met_where: "渋谷のコワーキングスペース".into(),
        first_met_on: "2026-05-10".into(),
        field: "mobility".into(),
        summary: "オンデマンド交通の実証".into(),
        contact_person: "佐藤 一郎".into(),
        email: "ichiro@example.jp".into(),
        kpi_codes: "K-01".into(),
        sdg_goals: vec!["9".into()],
        next_action: "面談の日程調整".into(),
        next_action_on: "2026-07-01".into(),
    }
}

fn event_form(title: &str, held_on: &str, lead_ids: &str) -> EventForm {
    EventForm {
        title: title.into(),
        kind: "pitch".into(),
        held_on: held_on.into(),
        place: "東京都渋谷区".into(),
        section_code: "KOHO".into(),
        attendees: "120".into(),
        visitors: "30".into(),
        relationship_population: "40".into(),
        firms_attracted: "1".into(),
        kpi_codes: "K-REL, K-VIS".into(),
        sdg_goals: vec!["8".into()],
        lead_ids: lead_ids.into(),
        note: String::new(),
    }
}

async fn audit_count(db: &TestDb) -> usize {
    db.store.audit_entries(10_000, 0).await.unwrap().len()
}

async fn leads_move_through_stages_with_history(db: &TestDb) {
    let s = &db.store;
    let today = day(TODAY);
    // A lead that is also a registered member links to its record.
    let m = s
        .insert_member(
            &member::validate(&MemberForm {
                name: "モビリティラボ株式会社".into(),
                org_type: "company".into(),
                lg_code: "131130".into(),
                address: "東京都渋谷区1-1".into(),
                contact_person: "佐藤 一郎".into(),
                email: "ichiro@example.jp".into(),
                sdg_goals: vec!["9".into()],
                ..MemberForm::default()
            })
            .unwrap(),
            "public",
        )
        .await
        .unwrap();
    let input = validate_lead(
        &LeadForm {
            member_id: m.id.to_string(),
            ..lead_form("モビリティラボ")
        },
        today,
    )
    .unwrap();
    let lead = s.insert_lead(&input, "desk").await.unwrap();
    assert_eq!(lead.stage, LeadStage::Contact);
    assert_eq!(lead.input.member_id, Some(m.id));
    assert_eq!(
        lead.input.field,
        LeadField::Demo(citykpi_domain::partner::projects::DemoField::Mobility)
    );
    assert_eq!(s.lead(lead.id).await.unwrap().unwrap(), lead);

    let moved = s
        .move_lead(lead.id, "meeting", "2026-06-01", "初回面談", today, "desk")
        .await
        .unwrap();
    assert_eq!(moved.stage, LeadStage::Meeting);
    assert_eq!(moved.version, lead.version + 1);
    // A skipped stage is refused by field.
    match s
        .move_lead(lead.id, "implemented", "", "", today, "desk")
        .await
        .unwrap_err()
    {
        PartnerError::Invalid(p) => assert!(p.has("to"), "{p}"),
        other => panic!("{other}"),
    }
    s.move_lead(lead.id, "proposal", "", "", today, "desk")
        .await
        .unwrap();
    let history = s.lead_moves(lead.id).await.unwrap();
    let stages: Vec<(Option<LeadStage>, LeadStage)> =
        history.iter().map(|m| (m.from, m.to)).collect();
    assert_eq!(
        stages,
        vec![
            (None, LeadStage::Contact),
            (Some(LeadStage::Contact), LeadStage::Meeting),
            (Some(LeadStage::Meeting), LeadStage::Proposal),
        ]
    );
    assert_eq!(
        history[0].on,
        day("2026-05-10"),
        "recorded on the first contact"
    );
    assert_eq!(history[1].note, "初回面談");
    assert_eq!(history[2].on, today);

    // Editing keeps the stage; a stale version is refused.
    let current = s.lead(lead.id).await.unwrap().unwrap();
    let mut changed = current.input.clone();
    changed.next_action = "提案書の確認".into();
    let saved = s
        .update_lead(lead.id, &changed, current.version, "desk")
        .await
        .unwrap();
    assert_eq!(saved.stage, LeadStage::Proposal);
    assert_eq!(saved.input.next_action, "提案書の確認");
    assert!(matches!(
        s.update_lead(lead.id, &input, current.version, "desk")
            .await,
        Err(PartnerError::Invalid(_))
    ));

    let counts = s.lead_stage_counts().await.unwrap();
    assert_eq!(counts, vec![(LeadStage::Proposal, 1)]);

    // Every change is in the audit log, never the contact person's data.
    let entries = s.audit_entries(100, 0).await.unwrap();
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .filter(|e| e.entity == "outreach_lead")
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("update", "desk"),
            ("move", "desk"),
            ("move", "desk"),
            ("insert", "desk")
        ]
    );
    for e in entries.iter().filter(|e| e.entity == "outreach_lead") {
        let text = format!("{:?}{:?}", e.before, e.after);
        assert!(!text.contains("ichiro") && !text.contains("佐藤"), "{text}");
    }
}

async fn lead_lists_filter_page_and_overdue(db: &TestDb) {
    let s = &db.store;
    let today = day(TODAY);
    let mut ids = Vec::new();
    for n in 0..30 {
        let form = LeadForm {
            field: if n % 3 == 0 { "energy" } else { "healthcare" }.into(),
            // Ten are late (due before today), ten are due later, ten have no next action.
            next_action: if n < 20 {
                "連絡".into()
            } else {
                String::new()
            },
            next_action_on: match n {
                0..10 => format!("2026-06-{:02}", n + 1),
                10..20 => format!("2026-07-{:02}", n - 9),
                _ => String::new(),
            },
            ..lead_form(&format!("スタートアップ{n:02}"))
        };
        let l = s
            .insert_lead(&validate_lead(&form, today).unwrap(), "desk")
            .await
            .unwrap();
        ids.push(l.id);
    }
    // Set two late ones aside: they leave the overdue list.
    for id in &ids[..2] {
        s.move_lead(*id, "declined", "", "予算が合わない", today, "desk")
            .await
            .unwrap();
    }
    let all = s.leads(&LeadFilter::new(today)).await.unwrap();
    assert_eq!(all.total, 30);
    // Earliest next action first, those without one last.
    assert_eq!(all.items[0].id, ids[0]);
    assert!(all.items[29].input.next_action_on.is_none());

    let overdue = s
        .leads(&LeadFilter {
            overdue_only: true,
            ..LeadFilter::new(today)
        })
        .await
        .unwrap();
    assert_eq!(overdue.total, 8);
    assert!(overdue.items.iter().all(|l| l.is_overdue(today)));

    let energy = s
        .leads(&LeadFilter {
            field: Some(LeadField::Demo(
                citykpi_domain::partner::projects::DemoField::Energy,
            )),
            ..LeadFilter::new(today)
        })
        .await
        .unwrap();
    assert_eq!(energy.total, 10);
    let declined = s
        .leads(&LeadFilter {
            stage: Some(LeadStage::Declined),
            ..LeadFilter::new(today)
        })
        .await
        .unwrap();
    assert_eq!(declined.total, 2);

    // Search by a part of the name, full-width or not; LIKE characters are literal.
    let found = s
        .leads(&LeadFilter {
            q: "スタートアップ０７".into(),
            ..LeadFilter::new(today)
        })
        .await
        .unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.items[0].input.name, "スタートアップ07");
    let none = s
        .leads(&LeadFilter {
            q: "%".into(),
            ..LeadFilter::new(today)
        })
        .await
        .unwrap();
    assert_eq!(none.total, 0);

    // Paging.
    let p2 = s
        .leads(&LeadFilter {
            page: 2,
            per_page: 12,
            ..LeadFilter::new(today)
        })
        .await
        .unwrap();
    assert_eq!((p2.items.len(), p2.pages()), (12, 3));
    assert_eq!(p2.items[0].id, all.items[12].id);
    let counts = s.lead_stage_counts().await.unwrap();
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    assert_eq!(total, 30);
    assert_eq!(
        s.leads_for_export(&LeadFilter::new(today))
            .await
            .unwrap()
            .len(),
        30
    );
}

async fn refused_writes_leave_nothing(db: &TestDb) {
    let s = &db.store;
    let today = day(TODAY);
    let before = audit_count(db).await;
    // An unknown member number is a problem of its field.
    let bad = validate_lead(
        &LeadForm {
            member_id: "999999".into(),
            ..lead_form("幽霊会員")
        },
        today,
    )
    .unwrap();
    match s.insert_lead(&bad, "desk").await.unwrap_err() {
        PartnerError::Invalid(p) => assert!(p.has("member_id"), "{p}"),
        other => panic!("{other}"),
    }
    // An event naming an unknown lead.
    let e = validate_event(&event_form("ピッチ", "2026-06-01", "424242"), today).unwrap();
    match s.insert_event(&e, "desk").await.unwrap_err() {
        PartnerError::Invalid(p) => assert!(p.has("lead_ids"), "{p}"),
        other => panic!("{other}"),
    }
    assert_eq!(s.leads(&LeadFilter::new(today)).await.unwrap().total, 0);
    assert_eq!(s.events(&EventFilter::default()).await.unwrap().total, 0);
    assert_eq!(audit_count(db).await, before, "no audit row either");
    // A move of an unknown lead is "not found"; a posting of an unknown event too.
    assert!(matches!(
        s.move_lead(777, "meeting", "", "", today, "desk").await,
        Err(PartnerError::NotFound { .. })
    ));
    let p = Posting {
        event_id: 777,
        kpi_code: "K-REL".into(),
        measure: Measure::Visitors,
        period: "2026".into(),
        value: 1,
        posted_by: "desk".into(),
        posted_at: String::new(),
    };
    assert!(matches!(
        s.record_posting(&p, "desk").await,
        Err(PartnerError::NotFound { .. })
    ));
    assert!(s.postings(None).await.unwrap().is_empty());
    assert_eq!(audit_count(db).await, before);
}

async fn events_with_leads_and_postings(db: &TestDb) {
    let s = &db.store;
    let today = day(TODAY);
    let a = s
        .insert_lead(&validate_lead(&lead_form("A社"), today).unwrap(), "desk")
        .await
        .unwrap();
    let b = s
        .insert_lead(&validate_lead(&lead_form("B社"), today).unwrap(), "desk")
        .await
        .unwrap();
    let ids = format!("{}, {}", a.id, b.id);
    let e1 = s
        .insert_event(
            &validate_event(&event_form("渋谷ピッチ", "2026-05-20", &ids), today).unwrap(),
            "desk",
        )
        .await
        .unwrap();
    assert_eq!(e1.input.lead_ids, vec![a.id, b.id]);
    assert_eq!(e1.input.counts.attendees, 120);
    let e0 = s
        .insert_event(
            &validate_event(&event_form("前年度の交流会", "2026-03-10", ""), today).unwrap(),
            "desk",
        )
        .await
        .unwrap();
    assert_eq!(s.event(e1.id).await.unwrap().unwrap(), e1);

    // Lists: newest first, by fiscal year, by search.
    let all = s.events(&EventFilter::default()).await.unwrap();
    assert_eq!(
        all.items.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![e1.id, e0.id]
    );
    let fy2025 = s
        .events(&EventFilter {
            fiscal_year: Some(2025),
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        fy2025.items.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![e0.id]
    );
    let q = s
        .events(&EventFilter {
            q: "渋谷".into(),
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(q.total, 2, "the place is searched too");
    assert_eq!(
        s.events_of_lead(a.id)
            .await
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect::<Vec<_>>(),
        vec![e1.id]
    );

    // Editing replaces the leads met; a stale version is refused.
    let mut changed = e1.input.clone();
    changed.lead_ids = vec![b.id];
    changed.counts.visitors = 45;
    let e1b = s
        .update_event(e1.id, &changed, e1.version, "desk")
        .await
        .unwrap();
    assert_eq!(e1b.input.lead_ids, vec![b.id]);
    assert_eq!(e1b.input.counts.visitors, 45);
    assert!(s.events_of_lead(a.id).await.unwrap().is_empty());
    assert!(matches!(
        s.update_event(e1.id, &e1.input, e1.version, "desk").await,
        Err(PartnerError::Invalid(_))
    ));

    // Postings: one per event and KPI, replaced when recorded again.
    let post = |event_id: i64, value: u64| Posting {
        event_id,
        kpi_code: "K-VIS".into(),
        measure: Measure::Visitors,
        period: "2026".into(),
        value,
        posted_by: "desk".into(),
        posted_at: "2026-06-15T00:00:00Z".into(),
    };
    s.record_posting(&post(e1.id, 30), "desk").await.unwrap();
    s.record_posting(&post(e1.id, 45), "desk").await.unwrap();
    s.record_posting(
        &Posting {
            period: "2025".into(),
            ..post(e0.id, 30)
        },
        "desk",
    )
    .await
    .unwrap();
    let vis = s.postings(Some("K-VIS")).await.unwrap();
    assert_eq!(
        vis.iter()
            .map(|p| (p.event_id, p.period.as_str(), p.value))
            .collect::<Vec<_>>(),
        vec![(e0.id, "2025", 30), (e1.id, "2026", 45)]
    );
    assert!(s.postings(Some("K-REL")).await.unwrap().is_empty());
    assert_eq!(s.postings_of_event(e1.id).await.unwrap().len(), 1);
    let actions: Vec<String> = s
        .audit_entries(100, 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.entity == "outreach_event")
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        vec!["post", "repost", "post", "update", "insert", "insert"]
    );

    s.clear_outreach().await.unwrap();
    assert_eq!(s.events(&EventFilter::default()).await.unwrap().total, 0);
    assert_eq!(s.leads(&LeadFilter::new(today)).await.unwrap().total, 0);
}

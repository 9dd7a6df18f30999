//! The private-proposal desk's intake storage on a real SQLite
//! file and a real PostgreSQL database: themes (create, change, close, every
//! write in the audit log), a proposal taken in with its files in one
//! transaction (a refused file leaves nothing behind), the desk's intake
//! details, and the decisions published only with the proposer's consent,
//! each with its reason and the date it was decided; a rejected proposal's
//! contact erased once the retention period has passed.

mod common;

use citykpi_domain::partner::Day;
use citykpi_domain::partner::proposal::{
    self, IntakeForm, NewIntake, ProposalChannel, ProposalForm, ProposalStage, Rubric, Theme,
    ThemeForm,
};
use citykpi_store::{PartnerError, Store, ThemeWrite};
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
    themes_are_created_changed_and_closed,
    intake_with_files_is_one_transaction,
    decisions_are_published_with_consent_reason_and_date,
    rejected_proposals_lose_their_contact_after_retention,
);

const KPIS: [&str; 3] = ["K001", "K002", "K003"];

fn kpis() -> Vec<String> {
    KPIS.iter().map(|k| k.to_string()).collect()
}

fn theme(code: &str, title: &str) -> Theme {
    proposal::validate_theme(
        &ThemeForm {
            code: code.into(),
            title: title.into(),
            description: "公園を使った提案を募集します".into(),
            kpi_codes: "K001, K002".into(),
            sdg_goals: vec!["11".into(), "3".into()],
            open_from: "2026-04-01".into(),
            open_until: "2027-03-31".into(),
            closed: false,
        },
        &kpis(),
    )
    .unwrap()
}

fn intake(title: &str, theme_code: &str, consent: bool) -> NewIntake {
    let themes = [theme("T-PARK", "公園のにぎわい")];
    proposal::validate_intake(
        &IntakeForm {
            proposal: ProposalForm {
                title: title.into(),
                proposer_name: "みなと電機株式会社".into(),
                theme_code: theme_code.into(),
                summary: "センサーで公園の利用を見える化します".into(),
                kpi_codes: "K001".into(),
                sdg_goals: vec!["11".into()],
                contact_email: "teian@example.jp".into(),
                publish_consent: consent,
                ..ProposalForm::default()
            },
            contact_person: "提案 花子".into(),
            contact_phone: "06-1111-2222".into(),
            channel: "post".into(),
        },
        &kpis(),
        &themes,
        false,
    )
    .unwrap()
}

async fn audit_texts(s: &Store) -> Vec<(String, String, String)> {
    s.audit_entries(1000, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.action.clone(),
                e.entity.clone(),
                format!("{:?}{:?}", e.before, e.after),
            )
        })
        .collect()
}

async fn proposal_count(s: &Store) -> i64 {
    s.proposals(None, 1, 1).await.unwrap().total
}

async fn themes_are_created_changed_and_closed(db: &TestDb) {
    let s = &db.store;
    let park = theme("T-PARK", "公園のにぎわい");
    let stored = s
        .save_theme(&park, ThemeWrite::Create, "desk")
        .await
        .unwrap();
    assert_eq!(stored, park);
    assert_eq!(stored.open_until, Day::parse("2027-03-31"));
    s.save_theme(
        &theme("T-DX", "手続きのデジタル化"),
        ThemeWrite::Create,
        "desk",
    )
    .await
    .unwrap();

    // The same code again is refused by field; a change of an unknown one is not found.
    let err = s
        .save_theme(&park, ThemeWrite::Create, "desk")
        .await
        .unwrap_err();
    assert!(
        matches!(err, PartnerError::Invalid(ref p) if p.has("code")),
        "{err}"
    );
    let err = s
        .save_theme(&theme("T-NONE", "無い"), ThemeWrite::Update, "desk")
        .await
        .unwrap_err();
    assert!(matches!(err, PartnerError::NotFound { .. }), "{err}");

    let changed = Theme {
        title: "公園と広場のにぎわい".into(),
        kpi_codes: vec!["K003".into()],
        open_from: None,
        ..park.clone()
    };
    let after = s
        .save_theme(&changed, ThemeWrite::Update, "desk")
        .await
        .unwrap();
    assert_eq!(after, changed);
    let closed = s.close_theme("T-PARK", "desk").await.unwrap();
    assert!(closed.closed);
    assert!(!closed.is_open(Day::parse("2026-06-01").unwrap()));
    assert!(matches!(
        s.close_theme("T-NONE", "desk").await,
        Err(PartnerError::NotFound { .. })
    ));

    let all = s.themes().await.unwrap();
    assert_eq!(
        all.iter().map(|t| t.code.as_str()).collect::<Vec<_>>(),
        vec!["T-DX", "T-PARK"]
    );
    assert_eq!(
        s.theme("T-PARK").await.unwrap().unwrap().title,
        "公園と広場のにぎわい"
    );
    assert!(s.theme("T-NONE").await.unwrap().is_none());

    // Upsert (the demo city) writes a new one and changes a stored one.
    s.save_theme(&theme("T-NEW", "新しい"), ThemeWrite::Upsert, "demo")
        .await
        .unwrap();
    s.save_theme(&theme("T-NEW", "新しい2"), ThemeWrite::Upsert, "demo")
        .await
        .unwrap();
    assert_eq!(s.theme("T-NEW").await.unwrap().unwrap().title, "新しい2");

    let audit = audit_texts(s).await;
    for action in ["insert", "update", "close"] {
        assert!(
            audit
                .iter()
                .any(|(a, e, _)| a == action && e == "partner_theme"),
            "{action}"
        );
    }
}

async fn intake_with_files_is_one_transaction(db: &TestDb) {
    let s = &db.store;
    s.save_theme(
        &theme("T-PARK", "公園のにぎわい"),
        ThemeWrite::Create,
        "desk",
    )
    .await
    .unwrap();
    let pdf = b"%PDF-1.7\n%test".to_vec();
    let (id, receipt) = s
        .insert_intake(
            &intake("公園の見える化", "T-PARK", true),
            &[
                ("提案書.pdf".to_string(), pdf.clone()),
                (
                    "費用.csv".to_string(),
                    "項目,金額\n機器,100\n".as_bytes().to_vec(),
                ),
            ],
            "public",
        )
        .await
        .unwrap();
    assert!(proposal::is_receipt_number(&receipt), "{receipt}");
    assert!(receipt.ends_with(&format!("-{id:05}")), "{receipt}");
    let p = s.proposal(id).await.unwrap().unwrap();
    assert_eq!(p.stage, ProposalStage::Received);
    assert_eq!(p.theme_code.as_deref(), Some("T-PARK"));
    let files = s.attachments(id).await.unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].file_name, "提案書.pdf");
    assert_eq!(files[0].uploaded_by, "public");
    let (_, bytes) = s.attachment(files[0].id).await.unwrap().unwrap();
    assert_eq!(bytes, pdf);
    let d = s.intake_details(id).await.unwrap().unwrap();
    assert_eq!(d.receipt, receipt);
    assert_eq!(d.contact_person, "提案 花子");
    assert_eq!(d.contact_phone, "06-1111-2222");
    assert_eq!(d.channel, ProposalChannel::Post);
    assert_eq!(d.decided_at, None);
    assert!(s.intake_details(id + 1000).await.unwrap().is_none());

    // One refused file (an executable named .pdf, a page posing as text):
    // nothing of the proposal is written.
    let before = proposal_count(s).await;
    for bad in [
        ("run.pdf".to_string(), b"MZ\x90\x00".to_vec()),
        ("page.txt".to_string(), b"<html>\x00</html>".to_vec()),
        ("empty.pdf".to_string(), Vec::new()),
    ] {
        let err = s
            .insert_intake(
                &intake("添付に誤り", "", true),
                &[("ok.pdf".to_string(), pdf.clone()), bad.clone()],
                "public",
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, PartnerError::Invalid(ref p) if p.has("files")),
            "{}: {err}",
            bad.0
        );
    }
    // A theme that is not stored: refused, nothing written.
    let err = s
        .insert_intake(&intake("無いテーマ", "T-PARK", true), &[], "public")
        .await
        .map(|_| ());
    assert!(err.is_ok(), "the stored theme is accepted");
    let mut gone = intake("消えたテーマ", "T-PARK", true);
    gone.proposal.theme_code = Some("T-GONE".into());
    let err = s.insert_intake(&gone, &[], "public").await.unwrap_err();
    assert!(
        matches!(err, PartnerError::Invalid(ref p) if p.has("theme_code")),
        "{err}"
    );
    assert_eq!(proposal_count(s).await, before + 1);
    assert_eq!(s.attachments(id).await.unwrap().len(), 2);

    // The audit log has the intake without the contact person's data.
    let audit = audit_texts(s).await;
    assert!(
        audit
            .iter()
            .any(|(a, e, t)| a == "insert" && e == "partner_proposal" && t.contains(&receipt))
    );
    for (_, _, t) in &audit {
        assert!(
            !t.contains("提案 花子") && !t.contains("06-1111-2222") && !t.contains("teian@"),
            "{t}"
        );
    }
}

async fn decide(s: &Store, id: i64, adopt: bool, reason: &str) {
    if adopt {
        s.move_proposal(id, ProposalStage::Dialogue, "", "desk")
            .await
            .unwrap();
        s.move_proposal(id, ProposalStage::Review, "", "desk")
            .await
            .unwrap();
        s.score_proposal(
            id,
            &Rubric {
                scores: [4, 3, 3, 3, 3],
            },
            "desk",
        )
        .await
        .unwrap();
        s.move_proposal(id, ProposalStage::Adopted, reason, "desk")
            .await
            .unwrap();
    } else {
        s.move_proposal(id, ProposalStage::Rejected, reason, "desk")
            .await
            .unwrap();
    }
}

async fn decisions_are_published_with_consent_reason_and_date(db: &TestDb) {
    let s = &db.store;
    s.save_theme(
        &theme("T-PARK", "公園のにぎわい"),
        ThemeWrite::Create,
        "desk",
    )
    .await
    .unwrap();
    let mut ids = Vec::new();
    for (title, theme_code, consent) in [
        ("採択される提案", "T-PARK", true),
        ("不採択の提案", "", true),
        ("非公表の提案", "", false),
        ("検討中の提案", "", true),
    ] {
        let (id, _) = s
            .insert_intake(&intake(title, theme_code, consent), &[], "public")
            .await
            .unwrap();
        ids.push(id);
    }
    assert_eq!(s.published_decisions(1, 50).await.unwrap().total, 0);
    decide(s, ids[0], true, "KPI K001 への寄与が大きい").await;
    decide(s, ids[1], false, "既存事業と重複").await;
    decide(s, ids[2], false, "非公表の理由").await;
    s.move_proposal(ids[3], ProposalStage::Dialogue, "", "desk")
        .await
        .unwrap();
    // Adoption leads to an agreement: still published as adopted, with the decision's reason.
    s.move_proposal(ids[0], ProposalStage::Agreement, "協定締結", "desk")
        .await
        .unwrap();

    let page = s.published_decisions(1, 50).await.unwrap();
    assert_eq!(page.total, 2);
    let titles: Vec<&str> = page.items.iter().map(|d| d.title.as_str()).collect();
    assert!(titles.contains(&"採択される提案") && titles.contains(&"不採択の提案"));
    assert!(!titles.contains(&"非公表の提案") && !titles.contains(&"検討中の提案"));
    let adopted = page.items.iter().find(|d| d.id == ids[0]).unwrap();
    assert!(adopted.adopted);
    assert_eq!(adopted.reason, "KPI K001 への寄与が大きい");
    assert_eq!(adopted.theme_title.as_deref(), Some("公園のにぎわい"));
    assert_eq!(adopted.kpi_codes, vec!["K001"]);
    let rejected = page.items.iter().find(|d| d.id == ids[1]).unwrap();
    assert!(!rejected.adopted);
    assert_eq!(rejected.reason, "既存事業と重複");
    assert_eq!(rejected.theme_title, None);
    // The decision's date: stamped by move_proposal when the stage moved to a decision.
    for d in &page.items {
        let day = d.decided_on.expect("decided on a day");
        let today =
            citykpi_domain::partner::Day::parse(&citykpi_store::now_rfc3339()[..10]).unwrap();
        assert!(day.days_until(today).abs() <= 1, "{day} vs {today}");
    }
    let stamped = s.intake_details(ids[0]).await.unwrap().unwrap().decided_at;
    let stamp = stamped.expect("decided_at set");
    assert!(stamp.ends_with('Z') && stamp.len() == 24, "{stamp}");
    assert_eq!(
        s.intake_details(ids[3]).await.unwrap().unwrap().decided_at,
        None
    );
    // Paging.
    let first = s.published_decisions(1, 1).await.unwrap();
    assert_eq!((first.items.len(), first.total), (1, 2));
}

async fn rejected_proposals_lose_their_contact_after_retention(db: &TestDb) {
    let s = &db.store;
    let mut ids = Vec::new();
    for title in ["採択", "不採択", "検討中"] {
        let (id, _) = s
            .insert_intake(&intake(title, "", true), &[], "public")
            .await
            .unwrap();
        ids.push(id);
    }
    decide(s, ids[0], true, "寄与が大きい").await;
    decide(s, ids[1], false, "重複").await;
    let decided = s.proposal(ids[1]).await.unwrap().unwrap();
    assert_eq!(decided.contact_person, "提案 花子");
    assert_eq!(decided.contact_phone, "06-1111-2222");
    assert_eq!(decided.channel, ProposalChannel::Post);
    assert!(decided.decided_at.is_some());
    assert_eq!(s.proposal(ids[2]).await.unwrap().unwrap().decided_at, None);

    let today = Day::parse(&citykpi_store::now_rfc3339()[..10]).unwrap();
    // Within the period: nothing goes.
    let none = s
        .erase_expired_personal(today.plus_days(10), 365, "retention")
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
    // Past it: only the rejected one, in one audit row without the values.
    let later = today.plus_days(400);
    let erased = s
        .erase_expired_personal(later, 365, "retention")
        .await
        .unwrap();
    assert_eq!(erased.proposals, vec![ids[1]]);
    assert!(erased.inquiries.is_empty());
    let gone = s.proposal(ids[1]).await.unwrap().unwrap();
    assert_eq!(
        (
            gone.contact_person.as_str(),
            gone.contact_phone.as_str(),
            gone.contact_email.as_str()
        ),
        ("", "", "")
    );
    assert_eq!(gone.contact_erased_on, Some(later));
    assert_eq!(gone.title, "不採択", "the proposal itself stays");
    for kept in [ids[0], ids[2]] {
        let p = s.proposal(kept).await.unwrap().unwrap();
        assert_eq!(p.contact_person, "提案 花子");
        assert_eq!(p.contact_erased_on, None);
    }
    let audit = audit_texts(s).await;
    let rows: Vec<_> = audit
        .iter()
        .filter(|(a, e, _)| a == "erase_personal" && e == "partner_proposal")
        .collect();
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].2.contains("06-1111-2222"), "{}", rows[0].2);
    // A second run finds nothing left to erase.
    assert!(
        s.erase_expired_personal(later, 365, "retention")
            .await
            .unwrap()
            .is_empty()
    );
}

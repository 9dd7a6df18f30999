//! The LINE official account webhook service on a real SQLite file: signed
//! requests become desk inquiries, tampered or unsigned ones write nothing.

use citykpi_app::partners::{
    LINE_SECRET_SETTING, LineError, LineWebhookError, line_signature, line_webhook,
};
use citykpi_domain::partner::desk::{Channel, InquiryStatus};
use citykpi_store::{InquiryFilter, Store};

const SECRET: &str = "8c570fa6dd201bb328f1c1eac23a96d8";

fn body() -> Vec<u8> {
    serde_json::json!({
        "destination": "Uxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "events": [
            {
                "type": "message",
                "mode": "active",
                "timestamp": 1_767_225_600_000u64,
                "source": { "type": "user", "userId": "U4af4980629a0b2f2d3e0f0e6b8c2a1d1" },
                "webhookEventId": "01FZ74A0TDDPYRVKNK77XKC3ZR",
                "deliveryContext": { "isRedelivery": false },
                "replyToken": "b60d432864f44d079f6d8efe86cf404b",
                "message": { "id": "444573844083572737", "type": "text", "quoteToken": "q3Plxr", "text": "粗大ごみの出し方を教えてください\n冷蔵庫です" }
            },
            {
                "type": "message",
                "timestamp": 1_767_225_601_000u64,
                "source": { "type": "user", "userId": "U4af4980629a0b2f2d3e0f0e6b8c2a1d1" },
                "message": { "id": "444573844083572738", "type": "sticker", "packageId": "446", "stickerId": "1988" }
            },
            { "type": "follow", "timestamp": 1_767_225_602_000u64, "source": { "type": "user", "userId": "U1" } }
        ]
    })
    .to_string()
    .into_bytes()
}

async fn count(store: &Store) -> i64 {
    store
        .inquiries(&InquiryFilter::new(citykpi_app::partners::today()))
        .await
        .unwrap()
        .total
}

#[tokio::test]
async fn signed_messages_become_inquiries_and_tampered_ones_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("line.db").to_str().unwrap())
        .await
        .unwrap();
    let body = body();
    let sig = line_signature(SECRET, &body);

    // Without a configured secret nothing is accepted.
    assert!(matches!(
        line_webhook(&store, &body, Some(&sig)).await,
        Err(LineWebhookError::Refused(LineError::NotConfigured))
    ));
    store
        .set_setting(LINE_SECRET_SETTING, SECRET)
        .await
        .unwrap();

    // Tampered body, wrong secret, no header: refused, nothing written.
    let mut tampered = body.clone();
    let at = tampered.len() - 10;
    tampered[at] ^= 0x01;
    assert!(matches!(
        line_webhook(&store, &tampered, Some(&sig)).await,
        Err(LineWebhookError::Refused(LineError::BadSignature))
    ));
    let wrong = line_signature("another-channel-secret", &body);
    assert!(matches!(
        line_webhook(&store, &body, Some(&wrong)).await,
        Err(LineWebhookError::Refused(LineError::BadSignature))
    ));
    assert!(matches!(
        line_webhook(&store, &body, None).await,
        Err(LineWebhookError::Refused(LineError::MissingSignature))
    ));
    assert_eq!(count(&store).await, 0);

    // Signed: the text message is recorded, the sticker and the follow are not.
    let ids = line_webhook(&store, &body, Some(&sig)).await.unwrap();
    assert_eq!(ids.len(), 1);
    let (i, replies) = store.inquiry(ids[0]).await.unwrap().unwrap();
    assert_eq!(i.channel, Channel::Line);
    assert_eq!(i.status, InquiryStatus::Received);
    assert_eq!(i.subject, "粗大ごみの出し方を教えてください");
    assert!(i.content.contains("冷蔵庫です"));
    assert_eq!(i.personal.name, "LINE U4af4980629a0b2f2d3e0f0e6b8c2a1d1");
    assert!(replies.is_empty());
    let audit = store.audit_entries(10, 0).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.actor == "line" && e.entity == "partner_inquiry")
    );
    assert!(
        !audit
            .iter()
            .any(|e| format!("{:?}", e.after).contains("U4af49806")),
        "the LINE user id is personal data: not in the audit log"
    );

    // A validly signed body that is not LINE's JSON is refused.
    let junk = b"not json".to_vec();
    let junk_sig = line_signature(SECRET, &junk);
    assert!(matches!(
        line_webhook(&store, &junk, Some(&junk_sig)).await,
        Err(LineWebhookError::Refused(LineError::BadBody(_)))
    ));
    assert_eq!(count(&store).await, 1);
    store.close().await;
}

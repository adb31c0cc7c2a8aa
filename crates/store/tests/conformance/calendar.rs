//! Conformance tests of `CalendarStore`.

use std::sync::Arc;

use mailroom_core::calendar::{
    ActivityAction, CalendarProps, ComponentKind, DeleteOutcome, NewCalendarObject, Precondition, PutOutcome,
    TimeSpan,
};
use mailroom_core::store::{Store, StoreError};
use mailroom_types::PrincipalId;

use super::{create, mailbox, seed_domain};

fn object(uid: &str, text: &str, start: i64) -> NewCalendarObject {
    NewCalendarObject {
        uid: uid.into(),
        component: ComponentKind::Event,
        data: format!("BEGIN:VCALENDAR\r\n{text}\r\nEND:VCALENDAR\r\n"),
        span: TimeSpan { start, end: start + 3600 },
    }
}

const ALICE: PrincipalId = PrincipalId(4242);

pub async fn every_mailbox_has_a_default_calendar_and_more_can_be_made(store: Arc<dyn Store>) {
    seed_domain(&*store).await;
    let sales = mailbox(&create(&*store, "Sales", "sales@contoso.com").await);
    let calendars = store.calendars(sales).await.unwrap();
    assert_eq!(
        calendars.iter().map(|c| (c.slug.as_str(), c.sync_seq)).collect::<Vec<_>>(),
        [("calendar", 0)]
    );
    let props = CalendarProps { color: Some(Some("#FF0000".into())), ..Default::default() };
    let rota = store.create_calendar(sales, "rota", "Rota", &props).await.unwrap();
    assert_eq!((rota.display_name.as_str(), rota.color.as_deref()), ("Rota", Some("#FF0000")));
    assert!(matches!(
        store.create_calendar(sales, "rota", "Again", &props).await,
        Err(StoreError::NameTaken { .. })
    ));
    let renamed = store
        .update_calendar(
            rota.id,
            &CalendarProps { display_name: Some("Duty".into()), color: Some(None), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!((renamed.display_name.as_str(), renamed.color.as_deref()), ("Duty", None));
    assert!(renamed.sync_seq > rota.sync_seq, "property changes move the sync token");
    let slugs: Vec<String> = store.calendars(sales).await.unwrap().into_iter().map(|c| c.slug).collect();
    assert_eq!(slugs, ["calendar", "rota"], "default first");
    store.delete_calendar(rota.id).await.unwrap();
    assert!(store.calendar(sales, "rota").await.unwrap().is_none());
}

pub async fn writes_are_conditional_unique_by_uid_and_logged(store: Arc<dyn Store>) {
    seed_domain(&*store).await;
    let sales = mailbox(&create(&*store, "Sales", "sales@contoso.com").await);
    let cal = store.calendar(sales, "calendar").await.unwrap().unwrap().id;
    let one = object("u1", "v1", 1000);
    let PutOutcome::Created { etag } =
        store.put_calendar_object(cal, "a.ics", &one, &Precondition::Absent, ALICE).await.unwrap()
    else {
        panic!("not created")
    };
    assert_eq!(
        store.put_calendar_object(cal, "a.ics", &one, &Precondition::Absent, ALICE).await.unwrap(),
        PutOutcome::PreconditionFailed
    );
    let stale = Precondition::EtagIs("\"nope\"".into());
    assert_eq!(
        store.put_calendar_object(cal, "a.ics", &one, &stale, ALICE).await.unwrap(),
        PutOutcome::PreconditionFailed
    );
    let two = object("u1", "v2", 5000);
    let PutOutcome::Replaced { etag: etag2 } = store
        .put_calendar_object(cal, "a.ics", &two, &Precondition::EtagIs(etag.clone()), ALICE)
        .await
        .unwrap()
    else {
        panic!("not replaced")
    };
    assert_ne!(etag, etag2, "new content, new tag");
    assert_eq!(
        store
            .put_calendar_object(cal, "b.ics", &object("u1", "v1", 0), &Precondition::None, ALICE)
            .await
            .unwrap(),
        PutOutcome::UidConflict { existing: "a.ics".into() }
    );
    let stored = store.calendar_object(cal, "a.ics").await.unwrap().unwrap();
    assert_eq!((stored.data.as_str(), stored.etag.as_str()), (two.data.as_str(), etag2.as_str()));
    // Time-range pre-selection on the stored span.
    let hits = store.calendar_objects_overlapping(cal, TimeSpan { start: 4000, end: 6000 }).await.unwrap();
    assert_eq!(hits.len(), 1);
    assert!(
        store.calendar_objects_overlapping(cal, TimeSpan { start: 0, end: 2000 }).await.unwrap().is_empty()
    );
    // A delete leaves a tombstone the change log reports; the UID is free again.
    let before = store.calendar(sales, "calendar").await.unwrap().unwrap().sync_seq;
    assert_eq!(
        store.delete_calendar_object(cal, "a.ics", &stale, ALICE).await.unwrap(),
        DeleteOutcome::PreconditionFailed
    );
    assert_eq!(
        store.delete_calendar_object(cal, "a.ics", &Precondition::None, ALICE).await.unwrap(),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        store.delete_calendar_object(cal, "a.ics", &Precondition::None, ALICE).await.unwrap(),
        DeleteOutcome::NotFound
    );
    assert!(store.calendar_object(cal, "a.ics").await.unwrap().is_none());
    let changes = store.calendar_changes(cal, before).await.unwrap();
    assert_eq!(changes.iter().map(|c| (c.name.as_str(), c.deleted)).collect::<Vec<_>>(), [("a.ics", true)]);
    assert!(matches!(
        store
            .put_calendar_object(cal, "b.ics", &object("u1", "v3", 0), &Precondition::None, ALICE)
            .await
            .unwrap(),
        PutOutcome::Created { .. }
    ));
    let activity = store.calendar_activity(cal, 10).await.unwrap();
    let actions: Vec<ActivityAction> = activity.iter().rev().map(|a| a.action).collect();
    assert_eq!(
        actions,
        [ActivityAction::Created, ActivityAction::Changed, ActivityAction::Deleted, ActivityAction::Created]
    );
    assert!(activity.iter().all(|a| a.actor == ALICE && a.uid == "u1"));
}

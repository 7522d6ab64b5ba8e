//! The slot checked free again at the moment of booking: the rep may have
//! filled it by hand since the reply offered it. Only the rep's calendar is
//! read here; other prospects' bookings of the same slot are kept out by the
//! database (`store::bookings`), before this link runs.

use super::BookingCx;
use crate::connectors::calendar::FREEBUSY_QUERY;
use crate::steps::StepError;

/// Whether the rep's calendar is still free for the whole slot. A calendar
/// that cannot be read is an error, never "free".
pub async fn slot_is_free(cx: &BookingCx<'_>) -> Result<bool, StepError> {
    let (account, calendar) = (cx.rep.email.clone(), cx.rep.calendar_id.clone());
    let (start, end) = (cx.start(), cx.end());
    let busy = cx
        .services
        .calendar(&cx.rep.email, &FREEBUSY_QUERY, move |c| {
            let (account, calendar) = (account.clone(), calendar.clone());
            async move { c.busy(&account, &calendar, start, end).await }
        })
        .await?;
    Ok(!busy.iter().any(|b| b.start < end && start < b.end))
}

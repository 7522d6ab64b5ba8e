//! The workflow's slot holds given up once its meeting is booked: the other
//! offered times are free for other prospects at once, not when the holds
//! would have expired.

use super::BookingCx;
use crate::steps::StepError;
use crate::store::slot_holds;

/// Releases the holds; how many there were.
pub async fn holds(cx: &BookingCx<'_>) -> Result<usize, StepError> {
    let workflow_id = cx.booking.workflow_id.clone();
    Ok(cx
        .services
        .store
        .run(move |c| slot_holds::release(c, &workflow_id))
        .await?)
}

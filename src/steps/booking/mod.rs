//! Booking a proposed meeting: what it writes besides the calendar event — the
//! meeting brief in the rep's Drive (`brief`) and the HubSpot meeting with the
//! follow-up task completed (`meeting`).

pub mod brief;
pub mod meeting;

//! The account page: one request, five services behind it — the user's profile, their orders, recommendations,
//! stock levels and reviews. The product team's rule: only the profile is essential; a page without
//! recommendations, stock or reviews is still a page (each part but the profile is an `Option` in `AccountPage`).
//!
//! Drill `five-services` — `cargo xtask incident start five-services` shows how this behaves under load.

use super::support::{call_service, AccountPage, DownstreamError};

/// How the page reaches the five services; one per process, shared by every request.
#[derive(Debug, Default)]
pub struct Downstream {}

impl Downstream {
    /// A client for the five services.
    pub fn new() -> Downstream {
        Downstream {}
    }

    /// Builds `user`'s account page from the five services.
    pub async fn account_page(&self, user: u32) -> Result<AccountPage, DownstreamError> {
        let profile = call_service("profile", user).await?;
        let orders = call_service("orders", user).await?;
        let recommendations = call_service("recommendations", user).await?;
        let inventory = call_service("inventory", user).await?;
        let reviews = call_service("reviews", user).await?;
        Ok(AccountPage {
            profile,
            orders: Some(orders),
            recommendations: Some(recommendations),
            inventory: Some(inventory),
            reviews: Some(reviews),
        })
    }
}

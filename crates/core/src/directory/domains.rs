//! Accepted domains (SPEC §1): the organisation's mail domains, one default.

use mailroom_types::{DomainName, EmailAddress};

use super::{AcceptedDomain, Actor, Directory};
use crate::error::{CoreError, CoreResult};

impl Directory {
    pub async fn accepted_domains(&self) -> CoreResult<Vec<AcceptedDomain>> {
        Ok(self.store.accepted_domains().await?)
    }

    /// The default domain; new addresses are made in it.
    pub async fn default_domain(&self) -> CoreResult<DomainName> {
        self.accepted_domains().await?.into_iter().find(|d| d.is_default).map(|d| d.name).ok_or_else(|| {
            CoreError::Invalid(
                "There is no accepted domain yet. Create one with 'mailroom init --domain contoso.com' or 'mailroom domain add contoso.com --default'.".into(),
            )
        })
    }

    pub async fn is_accepted_domain(&self, domain: &DomainName) -> CoreResult<bool> {
        Ok(self.accepted_domains().await?.iter().any(|d| &d.name == domain))
    }

    /// Addresses given to recipients must be in an accepted domain.
    pub(super) async fn check_accepted(&self, address: &EmailAddress) -> CoreResult<()> {
        if self.is_accepted_domain(address.domain()).await? {
            Ok(())
        } else {
            Err(CoreError::DomainNotAccepted { address: address.clone(), domain: address.domain().clone() })
        }
    }

    /// Adds an accepted domain; the first one is the default whatever `make_default` says.
    pub async fn add_domain(&self, actor: &Actor, domain: &DomainName, make_default: bool) -> CoreResult<()> {
        self.require_admin(actor).await?;
        self.store.add_accepted_domain(domain, make_default).await?;
        Ok(())
    }

    pub async fn set_default_domain(&self, actor: &Actor, domain: &DomainName) -> CoreResult<()> {
        self.require_admin(actor).await?;
        self.store.set_default_domain(domain).await?;
        Ok(())
    }
}

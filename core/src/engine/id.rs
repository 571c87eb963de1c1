//! Session and connection identities.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use crate::hash::FastHash;

/// Which session: our CompIDs and the counterparty's, with the optional Sub and Location IDs and
/// a qualifier that tells apart several sessions between the same CompIDs.
///
/// It displays as `SENDER[/SUB[/LOCATION]]->TARGET[/SUB[/LOCATION]][:QUALIFIER]`, from our side:
/// `ISLD->TW`, `BANK/DESK1->VENUE:2`. An empty Sub ID with a Location ID shows as `BANK//NY`.
///
/// Its parts ([`SessionIdParts`], which it dereferences to) are shared and its hash is computed
/// once: a clone (one per output that names the session) is one reference count, and a lookup
/// hashes one word.
#[derive(Clone)]
pub struct SessionId {
    parts: Arc<SessionIdParts>,
    hash: u64,
}

/// What a [`SessionId`] is made of.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionIdParts {
    /// Our `SenderCompID <49>`.
    pub sender_comp_id: String,
    /// Our `SenderSubID <50>`, when it takes part in matching.
    pub sender_sub_id: Option<String>,
    /// Our `SenderLocationID <142>`, when it takes part in matching.
    pub sender_location_id: Option<String>,
    /// The counterparty's CompID: our `TargetCompID <56>`.
    pub target_comp_id: String,
    /// Our `TargetSubID <57>`, when it takes part in matching.
    pub target_sub_id: Option<String>,
    /// Our `TargetLocationID <143>`, when it takes part in matching.
    pub target_location_id: Option<String>,
    /// A qualifier, carried on the Logon by the `LogonQualifierTag` field.
    pub qualifier: Option<String>,
}

impl SessionId {
    /// The session between our `sender` CompID and the counterparty's `target`.
    pub fn new(sender: impl Into<String>, target: impl Into<String>) -> Self {
        Self::from(SessionIdParts {
            sender_comp_id: sender.into(),
            target_comp_id: target.into(),
            ..SessionIdParts::default()
        })
    }

    /// The same session with a qualifier.
    #[must_use]
    pub fn with_qualifier(self, qualifier: impl Into<String>) -> Self {
        self.with(|parts| parts.qualifier = Some(qualifier.into()))
    }

    /// The same session with our Sub ID and the counterparty's.
    #[must_use]
    pub fn with_sub_ids(self, sender: Option<String>, target: Option<String>) -> Self {
        self.with(|parts| {
            parts.sender_sub_id = sender;
            parts.target_sub_id = target;
        })
    }

    /// The same session with our Location ID and the counterparty's.
    #[must_use]
    pub fn with_location_ids(self, sender: Option<String>, target: Option<String>) -> Self {
        self.with(|parts| {
            parts.sender_location_id = sender;
            parts.target_location_id = target;
        })
    }

    fn with(self, change: impl FnOnce(&mut SessionIdParts)) -> Self {
        let mut parts = Arc::unwrap_or_clone(self.parts);
        change(&mut parts);
        Self::from(parts)
    }
}

impl From<SessionIdParts> for SessionId {
    fn from(parts: SessionIdParts) -> Self {
        // Keyed like the engine's maps, so that a counterparty choosing CompIDs cannot aim for
        // collisions it cannot see.
        let hash = FastHash::default().hash_one(&parts);
        Self {
            parts: Arc::new(parts),
            hash,
        }
    }
}

impl Default for SessionId {
    fn default() -> Self {
        Self::from(SessionIdParts::default())
    }
}

impl Deref for SessionId {
    type Target = SessionIdParts;

    fn deref(&self) -> &SessionIdParts {
        &self.parts
    }
}

// Equal by parts; the engine's ids are clones of one another, recognised by their pointer, and
// different ids mostly differ in their hash.
impl PartialEq for SessionId {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.parts, &other.parts)
            || (self.hash == other.hash && self.parts == other.parts)
    }
}

impl Eq for SessionId {}

impl PartialOrd for SessionId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SessionId {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts.cmp(&other.parts)
    }
}

impl Hash for SessionId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn side(
            f: &mut fmt::Formatter<'_>,
            comp: &str,
            sub: &Option<String>,
            location: &Option<String>,
        ) -> fmt::Result {
            f.write_str(comp)?;
            match (sub, location) {
                (None, None) => Ok(()),
                (Some(sub), None) => write!(f, "/{sub}"),
                (sub, Some(location)) => write!(f, "/{}/{location}", sub.as_deref().unwrap_or("")),
            }
        }
        side(
            f,
            &self.sender_comp_id,
            &self.sender_sub_id,
            &self.sender_location_id,
        )?;
        f.write_str("->")?;
        side(
            f,
            &self.target_comp_id,
            &self.target_sub_id,
            &self.target_location_id,
        )?;
        match &self.qualifier {
            Some(qualifier) => write!(f, ":{qualifier}"),
            None => Ok(()),
        }
    }
}

/// A connection, numbered by the adapter that owns its socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn#{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_readably() {
        assert_eq!(SessionId::new("ISLD", "TW").to_string(), "ISLD->TW");
        let id = SessionId::new("BANK", "VENUE")
            .with_sub_ids(Some("DESK1".into()), None)
            .with_qualifier("2");
        assert_eq!(id.to_string(), "BANK/DESK1->VENUE:2");
        let located = SessionId::new("BANK", "VENUE").with_location_ids(Some("NY".into()), None);
        assert_eq!(located.to_string(), "BANK//NY->VENUE");
        assert_eq!(ConnId(7).to_string(), "conn#7");
    }

    #[test]
    fn equal_by_content_whether_shared_or_not() {
        let id = SessionId::new("ISLD", "TW").with_qualifier("A");
        assert_eq!(id, id.clone());
        assert_eq!(id, SessionId::new("ISLD", "TW").with_qualifier("A"));
        assert_ne!(id, SessionId::new("ISLD", "TW"));
        assert_ne!(id, SessionId::new("ISLD", "TW").with_qualifier("B"));
        assert_ne!(id, SessionId::new("TW", "ISLD").with_qualifier("A"));
        let sub = SessionId::new("ISLD", "TW").with_sub_ids(Some("D1".into()), None);
        assert_ne!(
            sub,
            SessionId::new("ISLD", "TW").with_sub_ids(None, Some("D1".into()))
        );
        assert_eq!(
            sub,
            SessionId::new("ISLD", "TW").with_sub_ids(Some("D1".into()), None)
        );
    }
}

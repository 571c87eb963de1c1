//! Session and connection identities.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Which session: our CompIDs and the counterparty's, with the optional Sub and Location IDs and
/// a qualifier that tells apart several sessions between the same CompIDs.
///
/// It displays as `SENDER[/SUB[/LOCATION]]->TARGET[/SUB[/LOCATION]][:QUALIFIER]`, from our side:
/// `ISLD->TW`, `BANK/DESK1->VENUE:2`. An empty Sub ID with a Location ID shows as `BANK//NY`.
///
/// Its texts are shared: a clone (one per output that names the session) allocates nothing.
#[derive(Clone, Debug, Default, Eq, PartialOrd, Ord)]
pub struct SessionId {
    /// Our `SenderCompID <49>`.
    pub sender_comp_id: Arc<str>,
    /// Our `SenderSubID <50>`, when it takes part in matching.
    pub sender_sub_id: Option<Arc<str>>,
    /// Our `SenderLocationID <142>`, when it takes part in matching.
    pub sender_location_id: Option<Arc<str>>,
    /// The counterparty's CompID: our `TargetCompID <56>`.
    pub target_comp_id: Arc<str>,
    /// Our `TargetSubID <57>`, when it takes part in matching.
    pub target_sub_id: Option<Arc<str>>,
    /// Our `TargetLocationID <143>`, when it takes part in matching.
    pub target_location_id: Option<Arc<str>>,
    /// A qualifier, carried on the Logon by the `LogonQualifierTag` field.
    pub qualifier: Option<Arc<str>>,
}

impl SessionId {
    /// The session between our `sender` CompID and the counterparty's `target`.
    pub fn new(sender: impl Into<Arc<str>>, target: impl Into<Arc<str>>) -> Self {
        Self {
            sender_comp_id: sender.into(),
            target_comp_id: target.into(),
            ..Self::default()
        }
    }

    /// The same session with a qualifier.
    #[must_use]
    pub fn with_qualifier(mut self, qualifier: impl Into<Arc<str>>) -> Self {
        self.qualifier = Some(qualifier.into());
        self
    }

    /// The same session with our Sub ID and the counterparty's.
    #[must_use]
    pub fn with_sub_ids(mut self, sender: Option<String>, target: Option<String>) -> Self {
        self.sender_sub_id = sender.map(Arc::from);
        self.target_sub_id = target.map(Arc::from);
        self
    }
}

// Equal by content, as derived, but a shared `Arc` is recognised without comparing bytes: the
// engine's ids are clones of one another, and std checks pointers first only for sized types.
impl PartialEq for SessionId {
    fn eq(&self, other: &Self) -> bool {
        fn same(a: &Arc<str>, b: &Arc<str>) -> bool {
            Arc::ptr_eq(a, b) || a == b
        }
        fn same_optional(a: &Option<Arc<str>>, b: &Option<Arc<str>>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => same(a, b),
                (a, b) => a.is_none() && b.is_none(),
            }
        }
        same(&self.sender_comp_id, &other.sender_comp_id)
            && same(&self.target_comp_id, &other.target_comp_id)
            && same_optional(&self.sender_sub_id, &other.sender_sub_id)
            && same_optional(&self.sender_location_id, &other.sender_location_id)
            && same_optional(&self.target_sub_id, &other.target_sub_id)
            && same_optional(&self.target_location_id, &other.target_location_id)
            && same_optional(&self.qualifier, &other.qualifier)
    }
}

// Hashes the two CompIDs only: ids that are equal have equal CompIDs, and sessions that differ
// only by Sub/Location IDs or a qualifier are rare, so the hash stays short on the hot path. The
// bytes go in without `str`'s separator: `FastHasher` mixes each write's length in already (with
// another hasher, ids that differ only in where one CompID ends may share a hash, which costs a
// comparison, never a wrong match).
impl Hash for SessionId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(self.sender_comp_id.as_bytes());
        state.write(self.target_comp_id.as_bytes());
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn side(
            f: &mut fmt::Formatter<'_>,
            comp: &str,
            sub: &Option<Arc<str>>,
            location: &Option<Arc<str>>,
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
        let mut located = SessionId::new("BANK", "VENUE");
        located.sender_location_id = Some("NY".into());
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

//! Routing a new connection: its first message must be a Logon, whose CompIDs (mirrored) name the
//! session; the credentials are checked before the connection is linked (DESIGN.md section 2).

use std::sync::Arc;

use super::auth::constant_time_eq;
use super::{ConnId, Engine, Outflow, Refusal, SessionDecision, SessionId, Slot};
use crate::codec::{Decoded, Message};
use crate::config::Role;
use crate::session::Session;
use crate::tag;
use crate::time::UtcTimestamp;
use crate::version::BeginString;

/// What the registry holds for a Logon.
enum Lookup {
    /// A registered acceptor.
    Registered(SessionId),
    /// A session exists but is not registered as an acceptor: no Logon reaches it.
    NotRegistered,
    /// No session matches.
    Unknown,
}

impl Engine {
    /// Tries to route a pending connection with the bytes it has sent so far.
    pub(super) fn route(&mut self, conn: ConnId) {
        let Some(pending) = self.pending.get_mut(&conn) else {
            return;
        };
        let peer = pending.peer;
        let logon = match pending.decoder.decode() {
            Ok(None) => return,
            Ok(Some(Decoded::Message(msg))) => msg,
            Ok(Some(Decoded::Garbled { .. })) | Err(_) => {
                return self.refuse(conn, Refusal::Garbled);
            }
        };
        if logon.msg_type() != b"A" {
            return self.refuse(conn, Refusal::NotLogon);
        }
        let wanted = self.identify(&logon);
        if self.locked_out(peer, &wanted.target_comp_id) {
            return self.refuse_unknown(conn, &logon, Refusal::LockedOut);
        }
        let id = match self.lookup(&wanted) {
            Lookup::Registered(id) => id,
            Lookup::NotRegistered => {
                return self.refuse_unknown(conn, &logon, Refusal::UnknownSession);
            }
            Lookup::Unknown => match self.create_unregistered(wanted, &logon) {
                Ok(id) => id,
                Err(refusal) => return self.refuse_unknown(conn, &logon, refusal),
            },
        };
        let Some(slot) = self.sessions.get_mut(&id) else {
            return self.refuse(conn, Refusal::UnknownSession);
        };
        if slot.conn.is_some() {
            // FIX test case 1S-b: the live connection is not disturbed; the new one gets nothing.
            return self.refuse(conn, Refusal::DuplicateIdentity);
        }
        if !self
            .authenticator
            .authenticate(&id, slot.credentials.as_ref(), &logon)
        {
            // A failed authentication changes nothing: a session created for it goes again.
            if slot.provisional {
                self.sessions.remove(&id);
            }
            self.note_failure(peer, &id.target_comp_id);
            return self.refuse(conn, Refusal::AuthenticationFailed);
        }
        if let Some(peer) = peer {
            self.failures.remove(&(peer, id.target_comp_id.to_string()));
        }
        let Some(slot) = self.sessions.get_mut(&id) else {
            return self.refuse(conn, Refusal::UnknownSession);
        };
        let Some(raw) = self.pending.remove(&conn).map(|pending| pending.raw) else {
            return;
        };
        slot.conn = Some(conn);
        slot.flow.clear();
        slot.session.handle_connected(self.now);
        // The session sees every byte from the Logon on and does its own Logon checks.
        slot.session.handle_input(self.now, &raw);
        self.linked.insert(conn, id.clone());
        self.ready.push_back(id);
    }

    /// The session a Logon asks for, from our side: its TargetCompID is our SenderCompID.
    fn identify(&self, logon: &Message) -> SessionId {
        let text = |t| logon.str(t).ok().map(Arc::<str>::from);
        SessionId {
            sender_comp_id: text(tag::TARGET_COMP_ID).unwrap_or_default(),
            sender_sub_id: text(tag::TARGET_SUB_ID),
            sender_location_id: text(tag::TARGET_LOCATION_ID),
            target_comp_id: text(tag::SENDER_COMP_ID).unwrap_or_default(),
            target_sub_id: text(tag::SENDER_SUB_ID),
            target_location_id: text(tag::SENDER_LOCATION_ID),
            qualifier: self.config.logon_qualifier_tag.and_then(text),
        }
    }

    /// Finds the session for `wanted`. A session's Sub and Location IDs take part in the match
    /// only when it has them; the qualifier always does.
    fn lookup(&self, wanted: &SessionId) -> Lookup {
        let matches = |id: &SessionId| {
            let optional = |ours: &Option<Arc<str>>, theirs: &Option<Arc<str>>| {
                ours.is_none() || ours == theirs
            };
            id.sender_comp_id == wanted.sender_comp_id
                && id.target_comp_id == wanted.target_comp_id
                && optional(&id.sender_sub_id, &wanted.sender_sub_id)
                && optional(&id.sender_location_id, &wanted.sender_location_id)
                && optional(&id.target_sub_id, &wanted.target_sub_id)
                && optional(&id.target_location_id, &wanted.target_location_id)
                && id.qualifier == wanted.qualifier
        };
        let mut found = Lookup::Unknown;
        for (id, slot) in &self.sessions {
            if matches(id) {
                if slot.registered && slot.session.config().role == Role::Acceptor {
                    return Lookup::Registered(id.clone());
                }
                found = Lookup::NotRegistered;
            }
        }
        found
    }

    /// A Logon for no registered session: the sessions manager may create one, when
    /// `CreateUnregisteredAcceptorSession` is on and `AcceptorCompIDs` allows our CompID.
    fn create_unregistered(
        &mut self,
        wanted: SessionId,
        logon: &Message,
    ) -> Result<SessionId, Refusal> {
        if !self.config.create_unregistered_acceptor_session || wanted.sender_comp_id.is_empty() {
            return Err(Refusal::UnknownSession);
        }
        if let Some(allowed) = &self.config.acceptor_comp_ids
            && !allowed.iter().any(|ours| **ours == *wanted.sender_comp_id)
        {
            return Err(Refusal::CompIdNotAllowed);
        }
        let id = SessionId {
            sender_comp_id: wanted.sender_comp_id,
            target_comp_id: wanted.target_comp_id,
            qualifier: wanted.qualifier,
            ..SessionId::default()
        };
        let mut config = match self.manager.on_unregistered_logon(&id, logon) {
            SessionDecision::Refuse => return Err(Refusal::RefusedByManager),
            SessionDecision::Accept => self.config.default_session.clone(),
            SessionDecision::AcceptWith(config) => *config,
        };
        config.role = Role::Acceptor;
        config.sender_comp_id = id.sender_comp_id.to_string();
        config.target_comp_id = id.target_comp_id.to_string();
        config.begin_string =
            BeginString::from_bytes(logon.begin_string()).ok_or(Refusal::UnknownSession)?;
        if config.begin_string == BeginString::Fixt11 && config.default_appl_ver_id.is_none() {
            config.default_appl_ver_id =
                logon.str(tag::DEFAULT_APPL_VER_ID).ok().map(str::to_owned);
        }
        let store = (self.store_factory)(&id, UtcTimestamp::from_system_time(self.now.utc))
            .map_err(|_| Refusal::StoreUnavailable)?;
        let session = Session::new(config, store, self.now).map_err(|_| Refusal::UnknownSession)?;
        self.sessions.insert(
            id.clone(),
            Slot {
                session,
                registered: true,
                conn: None,
                flow: Outflow::default(),
                credentials: None,
                provisional: true,
                initiator_addr: None,
                reconnect_at: None,
                connect_failures: 0,
            },
        );
        Ok(id)
    }

    /// Refuses a Logon that named no usable session, after the same constant-time comparison a
    /// password check makes, so that the time taken does not tell unknown CompIDs from wrong
    /// passwords.
    fn refuse_unknown(&mut self, conn: ConnId, logon: &Message, refusal: Refusal) {
        let password = logon.get(tag::PASSWORD).unwrap_or_default();
        std::hint::black_box(constant_time_eq(
            password,
            b"********************************",
        ));
        self.refuse(conn, refusal);
    }
}

//! Routing a new connection: its first message must be a Logon, whose CompIDs (mirrored) name the
//! session; the credentials are checked before the connection is linked (DESIGN.md section 2).

use super::auth::constant_time_eq;
use super::{ConnId, Engine, Refusal, SessionDecision, SessionId, SessionIdParts, Slot};
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
        let Some(pending) = self.pending.get_mut(&conn).filter(|p| !p.handing_over) else {
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
        // Owned by another instance (or this one's lease lapsed): refused as an unknown
        // session is, before the credentials are looked at.
        if !slot.session.is_owned_at(self.now.mono) {
            return self.refuse_unknown(conn, &logon, Refusal::NotOwned);
        }
        // `AllowedRemoteAddresses`: a Logon from elsewhere learns nothing, and is refused after
        // the same credential check as a wrong password, so that neither the wire nor the time
        // tells the two apart. Only an authenticated Logon learns that the session is connected.
        let allowed = slot
            .session
            .config()
            .allowed_remote_addresses
            .as_ref()
            .is_none_or(|list| peer.is_some_and(|ip| list.iter().any(|r| r.contains(ip))));
        let authenticated = self
            .authenticator
            .authenticate(&id, slot.credentials.as_ref(), &logon);
        if !(allowed && authenticated) {
            // A failed authentication changes nothing: a session created for it goes again.
            if slot.provisional {
                self.sessions.remove(&id);
            }
            self.note_failure(peer, &id.target_comp_id);
            let refusal = if allowed {
                Refusal::AuthenticationFailed
            } else {
                Refusal::AddressNotAllowed
            };
            return self.refuse(conn, refusal);
        }
        if let Some(peer) = peer {
            self.failures.remove(&(peer, id.target_comp_id.to_string()));
        }
        if slot.conn.is_some() {
            // The session's connection may be ending unseen yet: the Logon waits for it.
            return self.await_handover(conn, id);
        }
        self.link(conn, &id);
    }

    /// Links pending connection `conn` to session `id`, which has none, and hands the session
    /// every byte from the Logon on: it does its own Logon checks.
    pub(super) fn link(&mut self, conn: ConnId, id: &SessionId) {
        let Some(slot) = self.sessions.get_mut(id) else {
            return self.refuse(conn, Refusal::UnknownSession);
        };
        let Some(raw) = self.pending.remove(&conn).map(|pending| pending.raw) else {
            return;
        };
        slot.conn = Some(conn);
        slot.flow.clear();
        slot.inflow.clear();
        slot.session.handle_connected(self.now);
        slot.session.handle_input(self.now, &raw);
        self.linked.insert(conn, id.clone());
        super::mark_ready(&mut self.ready, slot, id);
    }

    /// The session a Logon asks for, from our side: its TargetCompID is our SenderCompID.
    fn identify(&self, logon: &Message) -> SessionId {
        let text = |t| logon.str(t).ok().map(str::to_owned);
        SessionId::from(SessionIdParts {
            sender_comp_id: text(tag::TARGET_COMP_ID).unwrap_or_default(),
            sender_sub_id: text(tag::TARGET_SUB_ID),
            sender_location_id: text(tag::TARGET_LOCATION_ID),
            target_comp_id: text(tag::SENDER_COMP_ID).unwrap_or_default(),
            target_sub_id: text(tag::SENDER_SUB_ID),
            target_location_id: text(tag::SENDER_LOCATION_ID),
            qualifier: self.config.logon_qualifier_tag.and_then(text),
        })
    }

    /// Finds the session for `wanted`. A session's Sub and Location IDs take part in the match
    /// only when it has them; the qualifier always does.
    fn lookup(&self, wanted: &SessionId) -> Lookup {
        let matches = |id: &SessionId| {
            let optional =
                |ours: &Option<String>, theirs: &Option<String>| ours.is_none() || ours == theirs;
            id.sender_comp_id == wanted.sender_comp_id
                && id.target_comp_id == wanted.target_comp_id
                && optional(&id.sender_sub_id, &wanted.sender_sub_id)
                && optional(&id.sender_location_id, &wanted.sender_location_id)
                && optional(&id.target_sub_id, &wanted.target_sub_id)
                && optional(&id.target_location_id, &wanted.target_location_id)
                && id.qualifier == wanted.qualifier
        };
        let mut found = Lookup::Unknown;
        for (id, slot) in self.sessions.iter() {
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
        let id = SessionId::from(SessionIdParts {
            sender_comp_id: wanted.sender_comp_id.clone(),
            target_comp_id: wanted.target_comp_id.clone(),
            qualifier: wanted.qualifier.clone(),
            ..SessionIdParts::default()
        });
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
        self.sessions
            .insert(id.clone(), Slot::new(session, true, true));
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

#[cfg(test)]
// Unit tests need an epoch: the clock is read here, never in the engine.
#[allow(clippy::disallowed_methods)]
mod tests {
    use std::net::IpAddr;
    use std::time::{Instant, SystemTime};

    use crate::engine::{CloseReason, ConnId, Credentials, Engine, EngineConfig, Output, Refusal};
    use crate::{BeginString, Delivered, MemoryStore, Role, SessionConfig, SessionId};
    use crate::{Now, SeqNum, TimestampPrecision, UtcTimestamp};

    fn now() -> Now {
        Now {
            mono: Instant::now(),
            utc: SystemTime::now(),
        }
    }

    /// A Logon from TW to ISLD with `password`.
    fn logon(password: &str) -> Vec<u8> {
        from_tw("A", 1, &format!("98=0|108=30|553=user|554={password}|"))
    }

    /// A message from TW to ISLD with `fields` after the header, `|` for SOH.
    fn from_tw(msg_type: &str, seq: u64, fields: &str) -> Vec<u8> {
        let time =
            UtcTimestamp::from_system_time(SystemTime::now()).format(TimestampPrecision::Millis);
        let body = format!(
            "35={msg_type}|34={seq}|49=TW|52={}|56=ISLD|{fields}",
            time.as_str()
        )
        .replace('|', "\x01");
        let mut out = format!("8=FIX.4.4\x019={}\x01{body}", body.len()).into_bytes();
        let sum = out.iter().fold(0u8, |s, &b| s.wrapping_add(b));
        out.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
        out
    }

    /// An engine with acceptor ISLD->TW (password `secret`) that allows `allowed`.
    fn engine(allowed: &str) -> (Engine, SessionId) {
        engine_with(|config| config.set("AllowedRemoteAddresses", allowed).unwrap())
    }

    /// An engine with acceptor ISLD->TW (password `secret`), its settings adjusted by `tweak`.
    fn engine_with(tweak: impl FnOnce(&mut SessionConfig)) -> (Engine, SessionId) {
        let now = now();
        let mut engine = Engine::new(EngineConfig::default(), now);
        let id = SessionId::new("ISLD", "TW");
        let mut config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
        tweak(&mut config);
        let store = MemoryStore::new(UtcTimestamp::from_system_time(now.utc));
        engine
            .create_session(id.clone(), config, Box::new(store))
            .unwrap();
        engine.register_acceptor(&id).unwrap();
        let credentials = Credentials {
            username: "user".into(),
            password: "secret".into(),
        };
        engine.set_credentials(&id, credentials).unwrap();
        (engine, id)
    }

    /// Opens connection `conn` from `peer`, sends `bytes`, and returns the refusal, if any, and
    /// how many bytes were sent back.
    fn attempt(
        engine: &mut Engine,
        conn: u64,
        peer: &str,
        bytes: &[u8],
    ) -> (Option<Refusal>, usize) {
        let peer: IpAddr = peer.parse().unwrap();
        engine.handle_connection_opened(ConnId(conn), Some(peer), now());
        engine.handle_input(ConnId(conn), now(), bytes);
        let (mut refusal, mut sent) = (None, 0);
        while let Some(output) = engine.poll_output() {
            match output {
                Output::Close {
                    reason: CloseReason::Refused(r),
                    ..
                } => refusal = Some(r),
                Output::Send { bytes, .. } => sent += bytes.len(),
                _ => {}
            }
        }
        (refusal, sent)
    }

    #[test]
    fn logon_from_an_address_outside_allowed_remote_addresses_is_refused_silently() {
        let (mut engine, id) = engine("10.0.0.0/8, 192.0.2.7");
        let refused = attempt(&mut engine, 1, "127.0.0.1", &logon("secret"));
        assert_eq!(refused, (Some(Refusal::AddressNotAllowed), 0));
        // Nothing changed: no connection, sequence numbers untouched.
        let session = engine.session(&id).unwrap();
        assert_eq!(session.next_sender_seq(), SeqNum::new(1));
        assert_eq!(session.next_target_seq(), SeqNum::new(1));
        // A wrong password from the same address is refused the same way on the wire.
        let wrong = attempt(&mut engine, 2, "127.0.0.1", &logon("guess"));
        assert_eq!(wrong, (Some(Refusal::AddressNotAllowed), 0));
        // The listed addresses log on, IPv4-mapped IPv6 included.
        let (refusal, sent) = attempt(&mut engine, 3, "10.9.8.7", &logon("secret"));
        assert_eq!(refusal, None);
        assert!(sent > 0, "the Logon reply");
        engine.handle_connection_closed(ConnId(3), now());
        while engine.poll_output().is_some() {}
        let (refusal, _) = attempt(&mut engine, 4, "::ffff:192.0.2.7", &logon("secret"));
        assert_eq!(refusal, None);
    }

    #[test]
    fn allowed_address_with_a_wrong_password_is_an_authentication_failure() {
        let (mut engine, _) = engine("127.0.0.1");
        let refused = attempt(&mut engine, 1, "127.0.0.1", &logon("guess"));
        assert_eq!(refused, (Some(Refusal::AuthenticationFailed), 0));
    }

    #[test]
    fn no_known_peer_address_fails_closed() {
        let (mut engine, _) = engine("127.0.0.1");
        engine.handle_connection_opened(ConnId(1), None, now());
        engine.handle_input(ConnId(1), now(), &logon("secret"));
        let output = engine.poll_output();
        assert!(
            matches!(
                output,
                Some(Output::Close {
                    reason: CloseReason::Refused(Refusal::AddressNotAllowed),
                    ..
                })
            ),
            "{output:?}"
        );
    }

    #[test]
    fn unsettled_deliveries_hold_input_and_pause_reading_until_half_are_settled() {
        let (mut engine, id) = engine_with(|config| config.max_unsettled_messages = 4);
        let (refusal, _) = attempt(&mut engine, 1, "127.0.0.1", &logon("secret"));
        assert_eq!(refusal, None);
        let mut delivered = Vec::new();
        let mut flow = Vec::new();
        let mut step = |engine: &mut Engine, delivered: &mut Vec<Delivered>, at: String| {
            while let Some(output) = engine.poll_output() {
                match output {
                    Output::Deliver { session } => {
                        delivered.extend(engine.take_delivered(&session));
                    }
                    Output::PauseInput { conn } => flow.push(format!("pause {} {at}", conn.0)),
                    Output::ResumeInput { conn } => flow.push(format!("resume {} {at}", conn.0)),
                    _ => {}
                }
            }
        };
        for seq in 2..=6 {
            let order = from_tw("D", seq, "11=X|55=A|54=1|38=1|40=1|");
            engine.handle_input(ConnId(1), now(), &order);
            step(&mut engine, &mut delivered, format!("at {seq}"));
        }
        // The fourth unsettled message pauses reading, once; what was read anyway waits
        // undecoded, so the application never holds more than the limit.
        let seqs = |delivered: &[Delivered]| -> Vec<u64> {
            delivered.iter().map(|d| d.seq().get()).collect()
        };
        assert_eq!(seqs(&delivered), [2, 3, 4, 5]);
        assert!(engine.session(&id).unwrap().is_input_held());
        // Each settlement lets one held message through; half the limit resumes reading.
        for i in 0..3 {
            let d = delivered[i].clone();
            engine.ack(&id, &d).unwrap();
            step(&mut engine, &mut delivered, format!("after {} acks", i + 1));
        }
        assert_eq!(seqs(&delivered), [2, 3, 4, 5, 6]);
        assert_eq!(flow, ["pause 1 at 5", "resume 1 after 3 acks"]);
    }

    #[test]
    fn pending_connections_per_address_are_limited() {
        let config = EngineConfig {
            max_pending_per_address: 2,
            ..EngineConfig::default()
        };
        let mut engine = Engine::new(config, now());
        let open = |engine: &mut Engine, conn: u64, peer: &str| {
            engine.handle_connection_opened(ConnId(conn), Some(peer.parse().unwrap()), now());
            match engine.poll_output() {
                Some(Output::Close {
                    reason: CloseReason::Refused(refusal),
                    ..
                }) => Some(refusal),
                _ => None,
            }
        };
        assert_eq!(open(&mut engine, 1, "192.0.2.1"), None);
        assert_eq!(open(&mut engine, 2, "192.0.2.1"), None);
        assert_eq!(
            open(&mut engine, 3, "192.0.2.1"),
            Some(Refusal::TooManyPendingFromAddress)
        );
        // Another address still gets a place, and a closed one frees its place.
        assert_eq!(open(&mut engine, 4, "192.0.2.2"), None);
        engine.handle_connection_closed(ConnId(1), now());
        assert_eq!(open(&mut engine, 5, "192.0.2.1"), None);
        assert_eq!(engine.pending_connections(), 3);
    }

    #[test]
    fn empty_or_bad_allowed_remote_addresses_are_invalid() {
        let mut config = SessionConfig::new(BeginString::Fix44, "A", "B", Role::Acceptor);
        assert!(config.set("AllowedRemoteAddresses", " , ").is_err());
        assert!(config.set("AllowedRemoteAddresses", "localhost").is_err());
        assert_eq!(config.allowed_remote_addresses, None);
    }
}

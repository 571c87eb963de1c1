//! Each protocol version's own defaults: timestamp precision, infinity in ResendRequest, FIXT's
//! DefaultApplVerID.

use fixgate_core::codec::{Decoded, Decoder};
use fixgate_core::{Action, BeginString, Role, SessionConfig, tag};
use fixgate_tests::peer::{ScriptedPeer, THEM, US};

fn logon_reply(begin_string: BeginString) -> fixgate_core::codec::Message {
    let mut config = SessionConfig::new(begin_string, US, THEM, Role::Acceptor);
    if begin_string == BeginString::Fixt11 {
        config.default_appl_ver_id = Some("9".into());
    }
    let mut peer = ScriptedPeer::with_config(config);
    let logon = peer.logon(30);
    peer.deliver(&logon);
    let frame = peer
        .take_actions()
        .into_iter()
        .find_map(|a| match a {
            Action::Send(bytes) => Some(bytes),
            _ => None,
        })
        .expect("a Logon reply");
    let mut decoder = Decoder::new();
    decoder.feed(&frame);
    match decoder.decode() {
        Ok(Some(Decoded::Message(msg))) => msg,
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_version_logs_on_with_its_own_begin_string_and_timestamp_precision() {
    for begin_string in BeginString::ALL {
        let reply = logon_reply(begin_string);
        assert_eq!(reply.begin_string(), begin_string.as_str().as_bytes());
        let sending_time = reply.get(tag::SENDING_TIME).unwrap();
        let expected_len = match begin_string {
            BeginString::Fix40 | BeginString::Fix41 => 17, // YYYYMMDD-HH:MM:SS
            _ => 21,                                       // with milliseconds
        };
        assert_eq!(sending_time.len(), expected_len, "{begin_string}");
        assert_eq!(
            reply.get(tag::DEFAULT_APPL_VER_ID).is_some(),
            begin_string == BeginString::Fixt11,
            "{begin_string}"
        );
    }
}

#[test]
fn timestamp_precision_setting_overrides_the_version_default() {
    let mut config = SessionConfig::new(BeginString::Fix44, US, THEM, Role::Acceptor);
    config.timestamp_precision = fixgate_core::TimestampPrecision::from_digits(6);
    let mut peer = ScriptedPeer::with_config(config);
    let logon = peer.logon(30);
    peer.deliver(&logon);
    let frame = match peer.take_actions().into_iter().next() {
        Some(Action::Send(bytes)) => bytes,
        other => panic!("{other:?}"),
    };
    let text = fixgate_tests::wire::pipe(&frame);
    let sending_time = text.split('|').find(|f| f.starts_with("52=")).unwrap();
    assert_eq!(sending_time.len(), 3 + 24, "{sending_time}");
}

#[test]
fn fixt_config_requires_default_appl_ver_id() {
    let config = SessionConfig::new(BeginString::Fixt11, US, THEM, Role::Acceptor);
    assert_eq!(
        config.validate(),
        Err(fixgate_core::ConfigError::MissingDefaultApplVerId)
    );
}

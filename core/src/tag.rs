//! Tag numbers of the session-level fields, FIX 4.0 to 4.4 and FIXT.1.1.
//!
//! Application tags are left to the application and to the data dictionary; only the fields that the
//! session layer itself reads or writes are named here.

/// `Account <1>`, used by the benchmark fixtures and common enough to name.
pub const ACCOUNT: u32 = 1;
/// `BeginSeqNo <7>` of a ResendRequest.
pub const BEGIN_SEQ_NO: u32 = 7;
/// `BeginString <8>`, always the first field.
pub const BEGIN_STRING: u32 = 8;
/// `BodyLength <9>`, always the second field.
pub const BODY_LENGTH: u32 = 9;
/// `CheckSum <10>`, always the last field.
pub const CHECK_SUM: u32 = 10;
/// `ClOrdID <11>`.
pub const CL_ORD_ID: u32 = 11;
/// `EndSeqNo <16>` of a ResendRequest; 0 means "infinity" (FIX 4.2 and later).
pub const END_SEQ_NO: u32 = 16;
/// `MsgSeqNum <34>`.
pub const MSG_SEQ_NUM: u32 = 34;
/// `MsgType <35>`, always the third field.
pub const MSG_TYPE: u32 = 35;
/// `NewSeqNo <36>` of a SequenceReset.
pub const NEW_SEQ_NO: u32 = 36;
/// `OrderQty <38>`.
pub const ORDER_QTY: u32 = 38;
/// `PossDupFlag <43>`.
pub const POSS_DUP_FLAG: u32 = 43;
/// `RefSeqNum <45>` of a Reject.
pub const REF_SEQ_NUM: u32 = 45;
/// `SenderCompID <49>`.
pub const SENDER_COMP_ID: u32 = 49;
/// `SenderSubID <50>`.
pub const SENDER_SUB_ID: u32 = 50;
/// `SendingTime <52>`.
pub const SENDING_TIME: u32 = 52;
/// `Symbol <55>`.
pub const SYMBOL: u32 = 55;
/// `TargetCompID <56>`.
pub const TARGET_COMP_ID: u32 = 56;
/// `TargetSubID <57>`.
pub const TARGET_SUB_ID: u32 = 57;
/// `Text <58>`.
pub const TEXT: u32 = 58;
/// `Signature <89>` (trailer).
pub const SIGNATURE: u32 = 89;
/// `SecureDataLen <90>` (header).
pub const SECURE_DATA_LEN: u32 = 90;
/// `SecureData <91>` (header).
pub const SECURE_DATA: u32 = 91;
/// `SignatureLength <93>` (trailer).
pub const SIGNATURE_LENGTH: u32 = 93;
/// `RawDataLength <95>`.
pub const RAW_DATA_LENGTH: u32 = 95;
/// `RawData <96>`.
pub const RAW_DATA: u32 = 96;
/// `PossResend <97>`.
pub const POSS_RESEND: u32 = 97;
/// `EncryptMethod <98>` of a Logon.
pub const ENCRYPT_METHOD: u32 = 98;
/// `HeartBtInt <108>` of a Logon.
pub const HEART_BT_INT: u32 = 108;
/// `TestReqID <112>`.
pub const TEST_REQ_ID: u32 = 112;
/// `OnBehalfOfCompID <115>`.
pub const ON_BEHALF_OF_COMP_ID: u32 = 115;
/// `OnBehalfOfSubID <116>`.
pub const ON_BEHALF_OF_SUB_ID: u32 = 116;
/// `OrigSendingTime <122>`.
pub const ORIG_SENDING_TIME: u32 = 122;
/// `GapFillFlag <123>` of a SequenceReset.
pub const GAP_FILL_FLAG: u32 = 123;
/// `DeliverToCompID <128>`.
pub const DELIVER_TO_COMP_ID: u32 = 128;
/// `DeliverToSubID <129>`.
pub const DELIVER_TO_SUB_ID: u32 = 129;
/// `ResetSeqNumFlag <141>` of a Logon.
pub const RESET_SEQ_NUM_FLAG: u32 = 141;
/// `SenderLocationID <142>`.
pub const SENDER_LOCATION_ID: u32 = 142;
/// `TargetLocationID <143>`.
pub const TARGET_LOCATION_ID: u32 = 143;
/// `OnBehalfOfLocationID <144>`.
pub const ON_BEHALF_OF_LOCATION_ID: u32 = 144;
/// `DeliverToLocationID <145>`.
pub const DELIVER_TO_LOCATION_ID: u32 = 145;
/// `XmlDataLen <212>` (header).
pub const XML_DATA_LEN: u32 = 212;
/// `XmlData <213>` (header).
pub const XML_DATA: u32 = 213;
/// `MessageEncoding <347>` (header).
pub const MESSAGE_ENCODING: u32 = 347;
/// `EncodedTextLen <354>`.
pub const ENCODED_TEXT_LEN: u32 = 354;
/// `EncodedText <355>`.
pub const ENCODED_TEXT: u32 = 355;
/// `LastMsgSeqNumProcessed <369>` (header).
pub const LAST_MSG_SEQ_NUM_PROCESSED: u32 = 369;
/// `OnBehalfOfSendingTime <370>` (header, FIX 4.2 and 4.3).
pub const ON_BEHALF_OF_SENDING_TIME: u32 = 370;
/// `RefTagID <371>` of a Reject.
pub const REF_TAG_ID: u32 = 371;
/// `RefMsgType <372>` of a Reject.
pub const REF_MSG_TYPE: u32 = 372;
/// `SessionRejectReason <373>` of a Reject.
pub const SESSION_REJECT_REASON: u32 = 373;
/// `BusinessRejectRefID <379>` of a BusinessMessageReject.
pub const BUSINESS_REJECT_REF_ID: u32 = 379;
/// `BusinessRejectReason <380>` of a BusinessMessageReject.
pub const BUSINESS_REJECT_REASON: u32 = 380;
/// `MaxMessageSize <383>` of a Logon.
pub const MAX_MESSAGE_SIZE: u32 = 383;
/// `NoMsgTypes <384>` of a Logon.
pub const NO_MSG_TYPES: u32 = 384;
/// `MsgDirection <385>`, inside the NoMsgTypes group.
pub const MSG_DIRECTION: u32 = 385;
/// `TestMessageIndicator <464>` of a Logon.
pub const TEST_MESSAGE_INDICATOR: u32 = 464;
/// `Username <553>` of a Logon.
pub const USERNAME: u32 = 553;
/// `Password <554>` of a Logon.
pub const PASSWORD: u32 = 554;
/// `NoHops <627>` (header group).
pub const NO_HOPS: u32 = 627;
/// `HopCompID <628>`, inside NoHops.
pub const HOP_COMP_ID: u32 = 628;
/// `HopSendingTime <629>`, inside NoHops.
pub const HOP_SENDING_TIME: u32 = 629;
/// `HopRefID <630>`, inside NoHops.
pub const HOP_REF_ID: u32 = 630;
/// `NextExpectedMsgSeqNum <789>` of a Logon (FIX 4.4 and later).
pub const NEXT_EXPECTED_MSG_SEQ_NUM: u32 = 789;
/// `NewPassword <925>` of a Logon.
pub const NEW_PASSWORD: u32 = 925;
/// `ApplVerID <1128>` (FIXT header).
pub const APPL_VER_ID: u32 = 1128;
/// `CstmApplVerID <1129>` (FIXT header).
pub const CSTM_APPL_VER_ID: u32 = 1129;
/// `DefaultApplVerID <1137>` of a FIXT Logon.
pub const DEFAULT_APPL_VER_ID: u32 = 1137;
/// `ApplExtID <1156>` (FIXT header).
pub const APPL_EXT_ID: u32 = 1156;
/// `EncryptedPasswordMethod <1400>` of a Logon.
pub const ENCRYPTED_PASSWORD_METHOD: u32 = 1400;
/// `EncryptedPasswordLen <1401>` of a Logon.
pub const ENCRYPTED_PASSWORD_LEN: u32 = 1401;
/// `EncryptedPassword <1402>` of a Logon.
pub const ENCRYPTED_PASSWORD: u32 = 1402;
/// `EncryptedNewPasswordLen <1403>` of a Logon.
pub const ENCRYPTED_NEW_PASSWORD_LEN: u32 = 1403;
/// `EncryptedNewPassword <1404>` of a Logon.
pub const ENCRYPTED_NEW_PASSWORD: u32 = 1404;
/// `DefaultApplExtID <1407>` of a FIXT Logon.
pub const DEFAULT_APPL_EXT_ID: u32 = 1407;
/// `DefaultCstmApplVerID <1408>` of a FIXT Logon.
pub const DEFAULT_CSTM_APPL_VER_ID: u32 = 1408;
/// `SessionStatus <1409>` of a Logon or Logout.
pub const SESSION_STATUS: u32 = 1409;

/// The standard header fields of FIX 4.0 to 5.0 SP2 (FIXT.1.1), besides BeginString, BodyLength
/// and MsgType, in ascending order.
const HEADER_TAGS: &[u32] = &[
    34, 43, 49, 50, 52, 56, 57, 90, 91, 97, 115, 116, 122, 128, 129, 142, 143, 144, 145, 212, 213,
    347, 369, 370, 627, 628, 629, 630, 1128, 1129, 1156,
];

/// Returns whether `tag` belongs to the standard header (`BeginString <8>` … `ApplExtID <1156>`).
#[inline]
pub fn is_header(tag: u32) -> bool {
    class(tag) == Class::Header
}

/// Where a tag belongs, as far as field order and Length/Data pairs are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// A standard header field.
    Header,
    /// A standard trailer field (`SignatureLength <93>`, `Signature <89>`, `CheckSum <10>`).
    Trailer,
    /// A body field that gives the length of the data field after it.
    Length,
    /// Any other body field.
    Body,
}

/// The class of every tag below 1280, which covers every header and trailer tag.
const CLASSES: [Class; 1280] = {
    let mut classes = [Class::Body; 1280];
    let mut i = 0;
    while i < HEADER_TAGS.len() {
        classes[HEADER_TAGS[i] as usize] = Class::Header;
        i += 1;
    }
    classes[BEGIN_STRING as usize] = Class::Header;
    classes[BODY_LENGTH as usize] = Class::Header;
    classes[MSG_TYPE as usize] = Class::Header;
    classes[SIGNATURE_LENGTH as usize] = Class::Trailer;
    classes[SIGNATURE as usize] = Class::Trailer;
    classes[CHECK_SUM as usize] = Class::Trailer;
    let pairs = crate::codec::LENGTH_DATA_PAIRS;
    let mut i = 0;
    while i < pairs.len() {
        let length = pairs[i].0 as usize;
        if length < 1280 && matches!(classes[length], Class::Body) {
            classes[length] = Class::Length;
        }
        i += 1;
    }
    classes
};

/// Classifies a tag: one table load below 1280.
#[inline(always)]
pub(crate) fn class(tag: u32) -> Class {
    match CLASSES.get(tag as usize) {
        Some(&class) => class,
        None if crate::codec::data_tag_for(tag).is_some() => Class::Length,
        None => Class::Body,
    }
}

/// Returns whether `tag` belongs to the standard trailer (`SignatureLength <93>`, `Signature <89>`,
/// `CheckSum <10>`).
#[inline]
pub fn is_trailer(tag: u32) -> bool {
    class(tag) == Class::Trailer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_table_is_sorted_and_classifies() {
        assert!(HEADER_TAGS.windows(2).all(|w| w[0] < w[1]));
        for tag in [8, 9, 35, 34, 49, 52, 56, 43, 122, 1128] {
            assert!(is_header(tag), "{tag}");
        }
        for tag in [1, 11, 58, 10, 93, 108] {
            assert!(!is_header(tag), "{tag}");
        }
        assert!(is_trailer(10) && is_trailer(89) && is_trailer(93) && !is_trailer(58));
    }
}

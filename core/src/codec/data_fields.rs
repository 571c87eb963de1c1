//! The Length/Data field pairs of the FIX specification: a data field may contain SOH, so its value
//! is read by the length that the field before it declares.

/// `(length tag, data tag)` pairs from FIX 4.0 to 5.0 SP2, sorted by length tag.
pub(crate) const PAIRS: &[(u32, u32)] = &[
    (90, 91),       // SecureDataLen / SecureData
    (93, 89),       // SignatureLength / Signature
    (95, 96),       // RawDataLength / RawData
    (212, 213),     // XmlDataLen / XmlData
    (348, 349),     // EncodedIssuer
    (350, 351),     // EncodedSecurityDesc
    (352, 353),     // EncodedListExecInst
    (354, 355),     // EncodedText
    (356, 357),     // EncodedSubject
    (358, 359),     // EncodedHeadline
    (360, 361),     // EncodedAllocText
    (362, 363),     // EncodedUnderlyingIssuer
    (364, 365),     // EncodedUnderlyingSecurityDesc
    (445, 446),     // EncodedListStatusText
    (618, 619),     // EncodedLegIssuer
    (621, 622),     // EncodedLegSecurityDesc
    (1184, 1185),   // SecurityXML
    (1277, 1278),   // DerivativeEncodedIssuer
    (1280, 1281),   // DerivativeEncodedSecurityDesc
    (1282, 1283),   // DerivativeSecurityXML
    (1397, 1398),   // EncodedMktSegmDesc
    (1401, 1402),   // EncryptedPassword
    (1403, 1404),   // EncryptedNewPassword
    (1468, 1469),   // EncodedSecurityListDesc
    (1525, 1527),   // EncodedDocumentationText
    (1578, 1579),   // EncodedEventText
    (1620, 1621),   // InstrumentScopeEncodedSecurityDesc
    (1664, 1665),   // EncodedRejectText
    (1733, 1734),   // EncodedFirmAllocText
    (1871, 1872),   // LegSecurityXML
    (1874, 1875),   // UnderlyingSecurityXML
    (2072, 2073),   // EncodedUnderlyingEventText
    (2074, 2075),   // EncodedLegEventText
    (2111, 2112),   // EncodedAttachment
    (2287, 2288),   // EncodedUnderlyingOptionExpirationDesc
    (2351, 2352),   // EncodedComplianceText
    (2372, 2371),   // EncodedTradeContinuationText
    (2481, 2482),   // EncodedMDStatisticDesc
    (2494, 2493),   // EncodedLegDocumentationText
    (2522, 2521),   // EncodedWarningText
    (2637, 2638),   // EncodedMiscFeeSubTypeDesc
    (2651, 2652),   // EncodedCommissionDesc
    (2665, 2666),   // EncodedAllocCommissionDesc
    (2715, 2716),   // EncodedFinancialInstrumentFullName
    (2718, 2719),   // EncodedLegFinancialInstrumentFullName
    (2721, 2722),   // EncodedUnderlyingFinancialInstrumentFullName
    (2797, 2798),   // EncodedMatchExceptionText
    (2802, 2801),   // EncodedReplaceText
    (2809, 2808),   // EncodedCancelText
    (2815, 2814),   // EncodedPostTradePaymentDesc
    (40004, 40005), // EncodedAdditionalTermBondDesc
    (40008, 40009), // EncodedAdditionalTermBondIssuer
    (40978, 40979), // EncodedLegStreamText
    (40980, 40981), // EncodedLegProvisionText
    (40982, 40983), // EncodedStreamText
    (40984, 40985), // EncodedPaymentText
    (40986, 40987), // EncodedProvisionText
    (40988, 40989), // EncodedUnderlyingStreamText
    (41083, 41084), // EncodedDeliveryStreamCycleDesc
    (41101, 41102), // EncodedMarketDisruptionFallbackUnderlierSecurityDesc
    (41107, 41108), // EncodedExerciseDesc
    (41256, 41257), // EncodedStreamCommodityDesc
    (41320, 41321), // EncodedLegAdditionalTermBondDesc
    (41324, 41325), // EncodedLegAdditionalTermBondIssuer
    (41458, 41459), // EncodedLegDeliveryStreamCycleDesc
    (41476, 41477), // EncodedLegMarketDisruptionFallbackUnderlierSecurityDesc
    (41482, 41483), // EncodedLegExerciseDesc
    (41653, 41654), // EncodedLegStreamCommodityDesc
    (41710, 41711), // EncodedUnderlyingAdditionalTermBondDesc
    (41806, 41807), // EncodedUnderlyingDeliveryStreamCycleDesc
    (41811, 41812), // EncodedUnderlyingExerciseDesc
    (41969, 41970), // EncodedUnderlyingStreamCommodityDesc
    (42025, 42026), // EncodedUnderlyingAdditionalTermBondIssuer
    (42171, 42172), // EncodedUnderlyingProvisionText
    (42451, 42452), // LegPaymentStreamFormulaImage
    (42652, 42653), // PaymentStreamFormulaImage
    (42947, 42948), // UnderlyingPaymentStreamFormulaImage
    (43109, 42684), // PaymentStreamFormula
    (43110, 42486), // LegPaymentStreamFormula
    (43111, 42982), // UnderlyingPaymentStreamFormula
];

/// One bit per length tag below 2048, so that the common "not a length tag" answer costs a load.
const LOW_BITS: [u64; 32] = {
    let mut bits = [0u64; 32];
    let mut i = 0;
    while i < PAIRS.len() {
        let tag = PAIRS[i].0 as usize;
        if tag < 2048 {
            bits[tag / 64] |= 1 << (tag % 64);
        }
        i += 1;
    }
    bits
};

/// The data tag whose length `tag` declares, if `tag` is a length field of the specification.
#[inline]
pub(crate) fn data_tag_for(tag: u32) -> Option<u32> {
    let index = tag as usize;
    if index < 2048 && LOW_BITS[index / 64] & (1 << (index % 64)) == 0 {
        return None;
    }
    PAIRS
        .binary_search_by_key(&tag, |&(len, _)| len)
        .ok()
        .map(|i| PAIRS[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_answers() {
        assert!(PAIRS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(data_tag_for(95), Some(96));
        assert_eq!(data_tag_for(93), Some(89));
        assert_eq!(data_tag_for(43111), Some(42982));
        assert_eq!(data_tag_for(96), None);
        assert_eq!(data_tag_for(55), None);
        assert_eq!(data_tag_for(50000), None);
    }
}

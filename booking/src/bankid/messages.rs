//! BankID's recommended user messages (RFA1–RFA23) in Swedish and English, and which one answers
//! each status, hintCode and errorCode of the RP API, as BankID's guidelines map them for a
//! relying party that shows a QR code (the booth) rather than starting the app on the same
//! device. BankID's wording is kept, two typos corrected ("gitligt" in RFA15B, "you ID document" in
//! RFA23).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UserMessage {
    /// `RFA9` and so on: stable, for clients that carry their own translations.
    pub code: &'static str,
    pub sv: &'static str,
    pub en: &'static str,
}

macro_rules! rfa {
    ($name:ident, $code:literal, $sv:literal, $en:literal) => {
        pub const $name: UserMessage = UserMessage {
            code: $code,
            sv: $sv,
            en: $en,
        };
    };
}

rfa!(
    RFA1,
    "RFA1",
    "Starta BankID-appen.",
    "Start your BankID app."
);
rfa!(
    RFA3,
    "RFA3",
    "Åtgärden avbröts. Försök igen.",
    "The action was cancelled. Please try again."
);
rfa!(
    RFA4,
    "RFA4",
    "En identifiering eller underskrift pågår redan för ditt personnummer. Försök igen.",
    "An identification or signature is already in progress for your personal identity number. Please try again."
);
rfa!(
    RFA5,
    "RFA5",
    "Något gick fel. Försök igen.",
    "Something went wrong. Please try again."
);
rfa!(
    RFA6,
    "RFA6",
    "Åtgärden avbröts.",
    "The action was cancelled."
);
rfa!(
    RFA8,
    "RFA8",
    "BankID-appen svarar inte. Kontrollera att den är startad och att du har internetanslutning. Försök sedan igen.",
    "The BankID app is not responding. Please check that it’s started and that you have internet access. Try again."
);
rfa!(
    RFA9,
    "RFA9",
    "Skriv in din säkerhetskod i BankID-appen och välj Identifiera eller Skriv under.",
    "Enter your security code in the BankID app and select Identify or Sign."
);
rfa!(
    RFA15B,
    "RFA15B",
    "Söker efter BankID. Säkerställ att du har ett giltigt BankID på den här enheten.",
    "Searching for BankID. Make sure you have a valid BankID on this device."
);
rfa!(
    RFA16,
    "RFA16",
    "Ditt BankID är för gammalt eller spärrat. Använd ett annat BankID eller skaffa ett nytt hos din bank.",
    "Your BankID is blocked or too old. Please use another BankID or get a new one from your bank."
);
rfa!(
    RFA17B,
    "RFA17B",
    "Misslyckades att läsa av QR-koden. Starta BankID-appen och läs av QR-koden.",
    "Failed to scan the QR code. Start the BankID app and scan the QR code."
);
rfa!(
    RFA21,
    "RFA21",
    "En identifiering eller underskrift pågår.",
    "An identification or signing is in progress."
);
rfa!(
    RFA22,
    "RFA22",
    "Något gick fel. Försök igen.",
    "Something went wrong. Please try again."
);
rfa!(
    RFA23,
    "RFA23",
    "Fotografera och läs av din ID-handling med BankID-appen.",
    "Take a photo of, and scan, your ID document with the BankID app."
);

/// The message for a pending order. Unknown codes (BankID adds them without notice) get RFA21.
pub fn pending(hint_code: &str) -> UserMessage {
    match hint_code {
        // The booth shows a QR code; the app is never started on this device.
        "outstandingTransaction" | "noClient" => RFA1,
        // The citizen's own phone is "this device" for the app.
        "started" => RFA15B,
        "userSign" => RFA9,
        "userMrtd" => RFA23,
        _ => RFA21,
    }
}

/// The message for a failed order. Unknown codes get RFA22.
pub fn failed(hint_code: &str) -> UserMessage {
    match hint_code {
        "userCancel" => RFA6,
        "cancelled" => RFA3,
        "expiredTransaction" => RFA8,
        "certificateErr" => RFA16,
        "startFailed" => RFA17B,
        _ => RFA22,
    }
}

/// The message for an error answer of the RP API. Codes that mean Närvaro itself is wrong
/// (`invalidParameters`, `unauthorized`, …) are not the citizen's business: RFA22.
pub fn error(error_code: &str) -> UserMessage {
    match error_code {
        "alreadyInProgress" => RFA4,
        "requestTimeout" | "internalError" | "maintenance" | "tooManyRequests" => RFA5,
        _ => RFA22,
    }
}

/// Every hintCode of the specification with its status, for tests and documentation.
pub const HINT_CODES: &[(&str, &str)] = &[
    ("pending", "outstandingTransaction"),
    ("pending", "noClient"),
    ("pending", "started"),
    ("pending", "userMrtd"),
    ("pending", "userCallConfirm"),
    ("pending", "userSign"),
    ("failed", "expiredTransaction"),
    ("failed", "certificateErr"),
    ("failed", "userCancel"),
    ("failed", "cancelled"),
    ("failed", "startFailed"),
    ("failed", "userDeclinedCall"),
    ("failed", "notSupportedByUserApp"),
    ("failed", "transactionRiskBlocked"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hint_code_has_a_message_in_both_languages() {
        for (status, hint) in HINT_CODES {
            let m = if *status == "pending" {
                pending(hint)
            } else {
                failed(hint)
            };
            assert!(
                !m.sv.is_empty() && !m.en.is_empty() && m.code.starts_with("RFA"),
                "{hint}"
            );
        }
        assert_eq!(pending("userSign"), RFA9);
        assert_eq!(failed("startFailed"), RFA17B);
        assert_eq!(pending("somethingNew"), RFA21);
        assert_eq!(failed("somethingNew"), RFA22);
        assert_eq!(error("alreadyInProgress"), RFA4);
        assert_eq!(error("maintenance"), RFA5);
        assert_eq!(error("invalidParameters"), RFA22);
    }
}

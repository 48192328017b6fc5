//! Demo data, seeded on first start of an empty database when `demo_data` is on.
//!
//! Fixed ids so pages, tests and people trying the demo can refer to the same booth and officer.
//! The citizens have Skatteverket test personnummer (serial numbers 98x and the classic
//! 19121212-1212), which belong to no real person.

use std::sync::Arc;

use crate::identity::Subject;
use crate::ids::*;
use crate::personnummer::Personnummer;
use crate::schedule::WeeklyHours;
use crate::store::{
    Agency, Booth, Centre, Guide, Interpreter, Officer, Resource, Service, Store, StoreError,
};

pub const AGENCY_FORSAKRINGSKASSAN: AgencyId =
    AgencyId::from_u128(0x6e617276_6172_4f00_8000_00000000a001);
pub const AGENCY_SKATTEVERKET: AgencyId =
    AgencyId::from_u128(0x6e617276_6172_4f00_8000_00000000a002);

pub const SERVICE_FORALDRAPENNING: ServiceId =
    ServiceId::from_u128(0x6e617276_6172_4f00_8000_00000000e001);
pub const SERVICE_SJUKPENNING: ServiceId =
    ServiceId::from_u128(0x6e617276_6172_4f00_8000_00000000e002);
pub const SERVICE_DEKLARATION: ServiceId =
    ServiceId::from_u128(0x6e617276_6172_4f00_8000_00000000e003);

pub const CENTRE_LJUSDAL: CentreId = CentreId::from_u128(0x6e617276_6172_4f00_8000_00000000c001);
pub const BOOTH_1: BoothId = BoothId::from_u128(0x6e617276_6172_4f00_8000_00000000b001);
pub const BOOTH_2: BoothId = BoothId::from_u128(0x6e617276_6172_4f00_8000_00000000b002);

/// Anna Lindqvist, Försäkringskassan (and its admin).
pub const OFFICER_ANNA: OfficerId = OfficerId::from_u128(0x6e617276_6172_4f00_8000_00000000f001);
/// Björn Eriksson, Försäkringskassan.
pub const OFFICER_BJORN: OfficerId = OfficerId::from_u128(0x6e617276_6172_4f00_8000_00000000f002);
/// Sara Nilsson, Skatteverket (and its admin).
pub const OFFICER_SARA: OfficerId = OfficerId::from_u128(0x6e617276_6172_4f00_8000_00000000f003);
/// Karin Dahl, Försäkringskassan's data protection officer: reads the agency's access log and
/// takes no meetings.
pub const OFFICER_KARIN_AUDITOR: OfficerId =
    OfficerId::from_u128(0x6e617276_6172_4f00_8000_00000000f004);
/// Lena Berg, Försäkringskassan's analyst: reads the agency's follow-up figures, every centre's,
/// and takes no meetings.
pub const OFFICER_LENA_ANALYST: OfficerId =
    OfficerId::from_u128(0x6e617276_6172_4f00_8000_00000000f005);
/// Omar Said, Skatteverket's analyst.
pub const OFFICER_OMAR_ANALYST: OfficerId =
    OfficerId::from_u128(0x6e617276_6172_4f00_8000_00000000f006);
pub const OFFICER_LENA_EMAIL: &str = "lena.berg@fk.example";
/// Work addresses, by which staff single sign-on finds people (Sara has none). The `.example`
/// domain (RFC 2606) is nobody's.
pub const OFFICER_ANNA_EMAIL: &str = "anna.lindqvist@fk.example";
pub const OFFICER_BJORN_EMAIL: &str = "bjorn.eriksson@fk.example";

/// Leila Haddad, Arabic interpreter.
pub const INTERPRETER_ARABIC: InterpreterId =
    InterpreterId::from_u128(0x6e617276_6172_4f00_8000_00000000a1a1);
/// Johan Teckensson, Swedish sign language interpreter.
pub const INTERPRETER_SIGN: InterpreterId =
    InterpreterId::from_u128(0x6e617276_6172_4f00_8000_00000000a1a2);

/// Maria Svensson, servicevägledare in Ljusdal (and the centre's admin).
pub const GUIDE: GuideId = GuideId::from_u128(0x6e617276_6172_4f00_8000_00000000d001);
pub const GUIDE_EMAIL: &str = "maria.svensson@ljusdal.example";
/// Per Holm, Ljusdal kommun's analyst for the service centre: reads every agency's figures for
/// meetings held at Ljusdal, and does no counter work.
pub const GUIDE_PER_ANALYST: GuideId = GuideId::from_u128(0x6e617276_6172_4f00_8000_00000000d002);

pub const CITIZEN_1: CitizenId = CitizenId::from_u128(0x6e617276_6172_4f00_8000_000000000c01);
pub const CITIZEN_2: CitizenId = CitizenId::from_u128(0x6e617276_6172_4f00_8000_000000000c02);
pub const CITIZEN_3: CitizenId = CitizenId::from_u128(0x6e617276_6172_4f00_8000_000000000c03);
/// Test numbers only; see the module documentation.
pub const CITIZEN_1_PERSONNUMMER: &str = "19121212-1212";
pub const CITIZEN_2_PERSONNUMMER: &str = "18900315-9812";
pub const CITIZEN_3_PERSONNUMMER: &str = "20050505-9824";
pub const CITIZEN_1_NAME: &str = "Tolvan Tolvansson";
pub const CITIZEN_2_NAME: &str = "Astrid Provsson";
pub const CITIZEN_3_NAME: &str = "Elsa Testsson";

/// Every person the demo can sign in as.
pub fn people() -> [Subject; 10] {
    [
        Subject::Citizen(CITIZEN_1),
        Subject::Citizen(CITIZEN_2),
        Subject::Citizen(CITIZEN_3),
        Subject::Officer(OFFICER_ANNA),
        Subject::Officer(OFFICER_BJORN),
        Subject::Officer(OFFICER_SARA),
        Subject::Officer(OFFICER_LENA_ANALYST),
        Subject::Officer(OFFICER_OMAR_ANALYST),
        Subject::Guide(GUIDE),
        Subject::Guide(GUIDE_PER_ANALYST),
    ]
}

/// Seeds the demo. Another instance seeding the same empty database at the same moment makes our
/// inserts conflict; that is treated as done.
pub async fn seed(store: &Arc<dyn Store>, now: i64) -> Result<(), StoreError> {
    match seed_inner(store, now).await {
        Err(StoreError::Conflict(_)) => Ok(()),
        other => other,
    }
}

async fn seed_inner(store: &Arc<dyn Store>, now: i64) -> Result<(), StoreError> {
    for (id, name) in [
        (AGENCY_FORSAKRINGSKASSAN, "Försäkringskassan"),
        (AGENCY_SKATTEVERKET, "Skatteverket"),
    ] {
        store
            .create_resource(&Resource::Agency(Agency {
                id,
                name: name.to_owned(),
            }))
            .await?;
    }
    for (id, agency_id, name, minutes) in [
        (
            SERVICE_FORALDRAPENNING,
            AGENCY_FORSAKRINGSKASSAN,
            "Föräldrapenning",
            30,
        ),
        (
            SERVICE_SJUKPENNING,
            AGENCY_FORSAKRINGSKASSAN,
            "Sjukpenning",
            30,
        ),
        (SERVICE_DEKLARATION, AGENCY_SKATTEVERKET, "Deklaration", 20),
    ] {
        store
            .create_resource(&Resource::Service(Service {
                id,
                agency_id,
                name: name.to_owned(),
                default_duration_minutes: minutes,
                required_skills: vec![],
            }))
            .await?;
    }
    store
        .create_resource(&Resource::Centre(Centre {
            id: CENTRE_LJUSDAL,
            kommun: "Ljusdal".to_owned(),
            name: "Statligt servicekontor Ljusdal".to_owned(),
            address: "Södra Järnvägsgatan 17, 827 30 Ljusdal".to_owned(),
            opening_hours: WeeklyHours::weekdays(9 * 60, 16 * 60),
            closures: vec![],
        }))
        .await?;
    for (id, name, wheelchair_accessible) in [
        (BOOTH_1, "Mötesrum 1", false),
        (BOOTH_2, "Mötesrum 2", true),
    ] {
        store
            .create_resource(&Resource::Booth(Booth {
                id,
                centre_id: CENTRE_LJUSDAL,
                name: name.to_owned(),
                wheelchair_accessible,
                equipment: vec!["document_camera".to_owned(), "hearing_loop".to_owned()],
                device_id: None,
            }))
            .await?;
    }
    for (id, agency_id, name, email, services, languages, agency_admin, auditor, analyst) in [
        (
            OFFICER_ANNA,
            AGENCY_FORSAKRINGSKASSAN,
            "Anna Lindqvist",
            Some(OFFICER_ANNA_EMAIL),
            vec![SERVICE_FORALDRAPENNING, SERVICE_SJUKPENNING],
            vec!["sv", "en"],
            true,
            false,
            false,
        ),
        (
            OFFICER_BJORN,
            AGENCY_FORSAKRINGSKASSAN,
            "Björn Eriksson",
            Some(OFFICER_BJORN_EMAIL),
            vec![SERVICE_FORALDRAPENNING, SERVICE_SJUKPENNING],
            vec!["sv", "ar"],
            false,
            false,
            false,
        ),
        (
            OFFICER_SARA,
            AGENCY_SKATTEVERKET,
            "Sara Nilsson",
            None,
            vec![SERVICE_DEKLARATION],
            vec!["sv"],
            true,
            false,
            false,
        ),
        (
            OFFICER_KARIN_AUDITOR,
            AGENCY_FORSAKRINGSKASSAN,
            "Karin Dahl",
            None,
            vec![],
            vec!["sv"],
            false,
            true,
            false,
        ),
        (
            OFFICER_LENA_ANALYST,
            AGENCY_FORSAKRINGSKASSAN,
            "Lena Berg",
            Some(OFFICER_LENA_EMAIL),
            vec![],
            vec!["sv"],
            false,
            false,
            true,
        ),
        (
            OFFICER_OMAR_ANALYST,
            AGENCY_SKATTEVERKET,
            "Omar Said",
            None,
            vec![],
            vec!["sv"],
            false,
            false,
            true,
        ),
    ] {
        store
            .create_resource(&Resource::Officer(Officer {
                id,
                agency_id,
                display_name: name.to_owned(),
                email: email.map(str::to_owned),
                agency_admin,
                auditor,
                analyst,
                services,
                languages: languages.into_iter().map(str::to_owned).collect(),
                skills: vec![],
                working_hours: WeeklyHours::weekdays(8 * 60, 17 * 60),
                absences: vec![],
            }))
            .await?;
    }
    store
        .create_resource(&Resource::Guide(Guide {
            id: GUIDE,
            centre_id: CENTRE_LJUSDAL,
            display_name: "Maria Svensson".to_owned(),
            centre_admin: true,
            email: Some(GUIDE_EMAIL.to_owned()),
            analyst: false,
        }))
        .await?;
    store
        .create_resource(&Resource::Guide(Guide {
            id: GUIDE_PER_ANALYST,
            centre_id: CENTRE_LJUSDAL,
            display_name: "Per Holm".to_owned(),
            centre_admin: false,
            email: None,
            analyst: true,
        }))
        .await?;
    for (id, name, languages) in [
        (INTERPRETER_ARABIC, "Leila Haddad", vec!["ar", "sv"]),
        (INTERPRETER_SIGN, "Johan Teckensson", vec!["swl", "sv"]),
    ] {
        store
            .create_resource(&Resource::Interpreter(Interpreter {
                id,
                display_name: name.to_owned(),
                email: None,
                languages: languages.into_iter().map(str::to_owned).collect(),
            }))
            .await?;
    }

    for (id, pnr, name) in [
        (CITIZEN_1, CITIZEN_1_PERSONNUMMER, CITIZEN_1_NAME),
        (CITIZEN_2, CITIZEN_2_PERSONNUMMER, CITIZEN_2_NAME),
        (CITIZEN_3, CITIZEN_3_PERSONNUMMER, CITIZEN_3_NAME),
    ] {
        let pnr = Personnummer::parse(pnr).map_err(|_| StoreError::Invalid("demo personnummer"))?;
        store.ensure_citizen(id, &pnr, name, now).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_personnummer_are_valid() {
        for p in [
            CITIZEN_1_PERSONNUMMER,
            CITIZEN_2_PERSONNUMMER,
            CITIZEN_3_PERSONNUMMER,
        ] {
            Personnummer::parse(p).unwrap();
        }
    }
}

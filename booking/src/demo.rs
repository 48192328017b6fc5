//! Demo data, seeded on first start of an empty database when `demo_data` is on.
//!
//! Fixed ids so pages, tests and people trying the demo can refer to the same booth and officer.
//! The citizens have Skatteverket test personnummer (serial numbers 98x and the classic
//! 19121212-1212), which belong to no real person.

use std::sync::Arc;

use crate::identity::Subject;
use crate::ids::*;
use crate::personnummer::Personnummer;
use crate::store::{Agency, Booth, Centre, Guide, Officer, Service, Store, StoreError};

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

/// Anna Lindqvist, Försäkringskassan.
pub const OFFICER_ANNA: OfficerId = OfficerId::from_u128(0x6e617276_6172_4f00_8000_00000000f001);
/// Björn Eriksson, Försäkringskassan.
pub const OFFICER_BJORN: OfficerId = OfficerId::from_u128(0x6e617276_6172_4f00_8000_00000000f002);
/// Sara Nilsson, Skatteverket.
pub const OFFICER_SARA: OfficerId = OfficerId::from_u128(0x6e617276_6172_4f00_8000_00000000f003);

/// Maria Svensson, servicevägledare in Ljusdal.
pub const GUIDE: GuideId = GuideId::from_u128(0x6e617276_6172_4f00_8000_00000000d001);

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
pub fn people() -> [Subject; 7] {
    [
        Subject::Citizen(CITIZEN_1),
        Subject::Citizen(CITIZEN_2),
        Subject::Citizen(CITIZEN_3),
        Subject::Officer(OFFICER_ANNA),
        Subject::Officer(OFFICER_BJORN),
        Subject::Officer(OFFICER_SARA),
        Subject::Guide(GUIDE),
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
    let agency = |id, name: &str| Agency {
        id,
        name: name.to_owned(),
    };
    store
        .insert_agency(&agency(AGENCY_FORSAKRINGSKASSAN, "Försäkringskassan"))
        .await?;
    store
        .insert_agency(&agency(AGENCY_SKATTEVERKET, "Skatteverket"))
        .await?;

    let service = |id, agency_id, name: &str, minutes| Service {
        id,
        agency_id,
        name: name.to_owned(),
        default_duration_minutes: minutes,
    };
    store
        .insert_service(&service(
            SERVICE_FORALDRAPENNING,
            AGENCY_FORSAKRINGSKASSAN,
            "Föräldrapenning",
            30,
        ))
        .await?;
    store
        .insert_service(&service(
            SERVICE_SJUKPENNING,
            AGENCY_FORSAKRINGSKASSAN,
            "Sjukpenning",
            30,
        ))
        .await?;
    store
        .insert_service(&service(
            SERVICE_DEKLARATION,
            AGENCY_SKATTEVERKET,
            "Deklaration",
            20,
        ))
        .await?;

    store
        .insert_centre(&Centre {
            id: CENTRE_LJUSDAL,
            kommun: "Ljusdal".to_owned(),
            name: "Statligt servicekontor Ljusdal".to_owned(),
        })
        .await?;
    for (id, name) in [(BOOTH_1, "Mötesrum 1"), (BOOTH_2, "Mötesrum 2")] {
        store
            .insert_booth(&Booth {
                id,
                centre_id: CENTRE_LJUSDAL,
                name: name.to_owned(),
            })
            .await?;
    }

    for (id, agency_id, name) in [
        (OFFICER_ANNA, AGENCY_FORSAKRINGSKASSAN, "Anna Lindqvist"),
        (OFFICER_BJORN, AGENCY_FORSAKRINGSKASSAN, "Björn Eriksson"),
        (OFFICER_SARA, AGENCY_SKATTEVERKET, "Sara Nilsson"),
    ] {
        store
            .insert_officer(&Officer {
                id,
                agency_id,
                display_name: name.to_owned(),
            })
            .await?;
    }
    store
        .insert_guide(&Guide {
            id: GUIDE,
            centre_id: CENTRE_LJUSDAL,
            display_name: "Maria Svensson".to_owned(),
        })
        .await?;

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

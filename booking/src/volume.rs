//! Volume data: many agencies, centres, officers and bookings, generated through the [`Store`] so
//! every row is what the API would have written (encrypted personnummer, reservations, history).
//! For the booking benchmark and for demos that need a full country; deterministic for a seed.
//!
//! Generated citizens have test personnummer (serials 900–999, the range Skatteverket's test
//! numbers use), so none is a real person's.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::identity::Subject;
use crate::ids::*;
use crate::personnummer::Personnummer;
use crate::schedule::{LocalTime, WeeklyHours, local_to_utc};
use crate::store::*;

#[derive(Debug, Clone)]
pub struct VolumeSpec {
    pub agencies: usize,
    pub services_per_agency: usize,
    pub centres: usize,
    pub booths_per_centre: usize,
    pub officers: usize,
    /// Attempts; a generated time that is already taken is skipped and counted.
    pub bookings: usize,
    /// Bookings fall on weekdays within this many days before and after `around`.
    pub days_each_way: i64,
    pub around: i64,
    pub seed: u64,
}

impl VolumeSpec {
    /// The benchmark: 300 centres, 10,000 officers in 8 agencies, 1,000,000 bookings.
    pub fn benchmark(around: i64) -> Self {
        VolumeSpec {
            agencies: 8,
            services_per_agency: 5,
            centres: 300,
            booths_per_centre: 3,
            officers: 10_000,
            bookings: 1_000_000,
            days_each_way: 365,
            around,
            seed: 1,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeReport {
    pub centres: Vec<CentreId>,
    pub services: Vec<ServiceId>,
    pub officers: usize,
    pub bookings_created: usize,
    pub bookings_refused: usize,
}

/// Centres open 08:30–16:30 and officers work 08:00–17:00 on weekdays; bookings are 30 minutes
/// on the half hour.
pub async fn generate(
    store: &Arc<dyn Store>,
    spec: &VolumeSpec,
) -> Result<VolumeReport, StoreError> {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut report = VolumeReport::default();
    let mut agency_services: Vec<(AgencyId, Vec<ServiceId>)> = Vec::with_capacity(spec.agencies);
    for a in 0..spec.agencies {
        let agency = Agency {
            id: AgencyId::new(),
            name: format!("Myndighet {a} ({})", spec.seed),
        };
        store
            .create_resource(&Resource::Agency(agency.clone()))
            .await?;
        let mut services = Vec::with_capacity(spec.services_per_agency);
        for s in 0..spec.services_per_agency {
            let service = Service {
                id: ServiceId::new(),
                agency_id: agency.id,
                name: format!("Ärende {s}"),
                default_duration_minutes: 30,
                required_skills: vec![],
            };
            store
                .create_resource(&Resource::Service(service.clone()))
                .await?;
            services.push(service.id);
            report.services.push(service.id);
        }
        agency_services.push((agency.id, services));
    }
    let mut booths: Vec<(CentreId, BoothId, GuideId)> = Vec::new();
    for c in 0..spec.centres {
        let centre = Centre {
            id: CentreId::new(),
            kommun: format!("Kommun {c}"),
            name: format!("Servicekontor {c} ({})", spec.seed),
            address: String::new(),
            opening_hours: WeeklyHours::weekdays(8 * 60 + 30, 16 * 60 + 30),
            closures: vec![],
        };
        store
            .create_resource(&Resource::Centre(centre.clone()))
            .await?;
        let guide = Guide {
            id: GuideId::new(),
            centre_id: centre.id,
            display_name: format!("Vägledare {c}"),
            centre_admin: true,
            email: None,
            analyst: false,
        };
        store
            .create_resource(&Resource::Guide(guide.clone()))
            .await?;
        for b in 0..spec.booths_per_centre {
            let booth = Booth {
                id: BoothId::new(),
                centre_id: centre.id,
                name: format!("Mötesrum {b}"),
                wheelchair_accessible: b == 0,
                equipment: vec![],
                device_id: None,
            };
            store
                .create_resource(&Resource::Booth(booth.clone()))
                .await?;
            booths.push((centre.id, booth.id, guide.id));
        }
        report.centres.push(centre.id);
    }
    let mut officers: Vec<(OfficerId, Vec<ServiceId>)> = Vec::with_capacity(spec.officers);
    for o in 0..spec.officers {
        let Some((agency_id, services)) = agency_services.get(o % spec.agencies.max(1)).cloned()
        else {
            break;
        };
        if services.is_empty() {
            continue;
        }
        let officer = Officer {
            id: OfficerId::new(),
            agency_id,
            display_name: format!("Handläggare {o}"),
            agency_admin: false,
            auditor: false,
            analyst: false,
            email: None,
            services: services.clone(),
            languages: if o % 7 == 0 {
                vec!["sv".into(), "ar".into()]
            } else {
                vec!["sv".into()]
            },
            skills: vec![],
            working_hours: WeeklyHours::weekdays(8 * 60, 17 * 60),
            absences: vec![],
        };
        store
            .create_resource(&Resource::Officer(officer.clone()))
            .await?;
        officers.push((officer.id, services));
    }
    report.officers = officers.len();
    if booths.is_empty() || officers.is_empty() {
        return Ok(report);
    }
    let today = LocalTime::of(spec.around).day;
    for _ in 0..spec.bookings {
        let (_, booth, guide) = booths[rng.random_range(0..booths.len())];
        let (officer, services) = &officers[rng.random_range(0..officers.len())];
        let service = services[rng.random_range(0..services.len())];
        let mut day = today + rng.random_range(-spec.days_each_way..=spec.days_each_way);
        // Weekdays only: move a weekend to the Monday after.
        while crate::schedule::iso_weekday(day) > 5 {
            day += 1;
        }
        let half_hour = rng.random_range(0..16);
        let starts_at = local_to_utc(day, 8 * 60 + 30 + half_hour * 30);
        let birth = format!(
            "19{:02}{:02}{:02}",
            rng.random_range(40..99),
            rng.random_range(1..=12),
            rng.random_range(1..=28)
        );
        let citizen = Personnummer::from_parts(&birth, rng.random_range(900..1000))
            .map_err(|_| StoreError::Invalid("generated personnummer"))?;
        let new = NewBooking {
            service_id: service,
            officer_id: *officer,
            additional_officers: vec![],
            booth_id: booth,
            interpreter_id: None,
            language: None,
            citizen_personnummer: citizen,
            citizen_name: "Testperson".into(),
            starts_at,
            duration_minutes: 30,
            created_by: Some(guide),
            created_at: spec.around,
            notify: crate::store::Notify::default(),
        };
        let access = StaffAccess {
            actor: Subject::Guide(guide),
            reason: "volume data".into(),
            at: spec.around,
        };
        match store.create_booking(&new, &access).await {
            Ok(_) => report.bookings_created += 1,
            Err(StoreError::DoubleBooking) => report.bookings_refused += 1,
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

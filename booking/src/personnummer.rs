//! The Swedish personal identity number, as protected data.
//!
//! [`Personnummer`] only exists validated (date and Luhn check digit) and normalised to 12 digits.
//! Its `Debug` and `Display` never show the number, so it can sit in structs that get logged; the
//! digits come out only through [`Personnummer::expose`], which the store calls to encrypt and hash.

use std::fmt;

use time::{Date, Month};

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Personnummer(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PersonnummerError {
    #[error("personnummer must be YYYYMMDD-XXXX, YYYYMMDDXXXX or YYMMDD-XXXX")]
    Format,
    #[error("personnummer has an impossible date")]
    Date,
    #[error("personnummer check digit is wrong")]
    CheckDigit,
}

impl Personnummer {
    /// Parses against today's date (needed to place a 10-digit number in its century).
    pub fn parse(input: &str) -> Result<Self, PersonnummerError> {
        Self::parse_on(input, time::OffsetDateTime::now_utc().date())
    }

    /// Parses with `today` given, for the century of `YYMMDD-XXXX` (`-`: under 100 years old,
    /// `+`: 100 or older).
    pub fn parse_on(input: &str, today: Date) -> Result<Self, PersonnummerError> {
        let s = input.trim();
        // Byte slicing below relies on every char being one byte.
        if !s.is_ascii() {
            return Err(PersonnummerError::Format);
        }
        let (digits, sep) = match (s.len(), s.as_bytes()) {
            (13, b) if b[8] == b'-' => (format!("{}{}", &s[..8], &s[9..]), None),
            (12, _) => (s.to_owned(), None),
            (11, b) if b[6] == b'-' || b[6] == b'+' => {
                (format!("{}{}", &s[..6], &s[7..]), Some(b[6]))
            }
            _ => return Err(PersonnummerError::Format),
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PersonnummerError::Format);
        }
        let full = match sep {
            None => digits,
            Some(sep) => {
                let yy: i32 = num(&digits[0..2]);
                let this_year = today.year();
                let mut year = this_year - (this_year - yy).rem_euclid(100);
                // Born later this year than today means the previous century.
                let (mm, dd) = (num(&digits[2..4]), num(&digits[4..6]));
                if year == this_year
                    && (mm as u8, (dd % 60) as u8) > (today.month() as u8, today.day())
                {
                    year -= 100;
                }
                if sep == b'+' {
                    year -= 100;
                }
                format!("{year:04}{}", &digits[2..])
            }
        };
        let (year, month, day) = (num(&full[0..4]), num(&full[4..6]), num(&full[6..8]));
        // Samordningsnummer add 60 to the day; they identify people too.
        let day = if day > 60 { day - 60 } else { day };
        let month = u8::try_from(month)
            .ok()
            .and_then(|m| Month::try_from(m).ok())
            .ok_or(PersonnummerError::Date)?;
        let day = u8::try_from(day).map_err(|_| PersonnummerError::Date)?;
        Date::from_calendar_date(year, month, day).map_err(|_| PersonnummerError::Date)?;
        if luhn_check_digit(&full[2..11]) != full.as_bytes()[11] - b'0' {
            return Err(PersonnummerError::CheckDigit);
        }
        Ok(Personnummer(full))
    }

    /// The 12 digits. Only for encryption, keyed hashing and showing to the person themselves.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `YYYYMMDD-XXXX`, as people write it: only for a role that needs the whole number (the
    /// officer handling the citizen's matter).
    pub fn formatted(&self) -> String {
        format!("{}-{}", &self.0[..8], &self.0[8..])
    }

    /// `YYYYMMDD-****`: the date of birth without the four digits that make the number someone's,
    /// for a role that only has to tell two citizens apart or compare an ID document (the guide).
    pub fn masked(&self) -> String {
        format!("{}-****", &self.0[..8])
    }
}

fn num(s: &str) -> i32 {
    // Callers pass ASCII digits only, at most 4 of them, so this always parses.
    s.parse().expect("ascii digits")
}

impl Personnummer {
    /// The number of someone born on `birth` (`YYYYMMDD`) with serial `serial` (0–999), check
    /// digit computed: for generated test and volume data, never for reading real input.
    pub fn from_parts(birth: &str, serial: u16) -> Result<Self, PersonnummerError> {
        if birth.len() != 8 || !birth.bytes().all(|b| b.is_ascii_digit()) || serial > 999 {
            return Err(PersonnummerError::Format);
        }
        let nine = format!("{}{serial:03}", &birth[2..]);
        Self::parse(&format!("{birth}{serial:03}{}", luhn_check_digit(&nine)))
    }
}

/// Luhn over the nine digits YYMMDDNNN.
fn luhn_check_digit(nine: &str) -> u8 {
    let sum: u32 = nine
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let p = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            p / 10 + p % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl fmt::Debug for Personnummer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Personnummer(****)")
    }
}

impl fmt::Display for Personnummer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 05 - 04);

    #[test]
    fn accepts_the_three_formats_and_normalises_to_twelve_digits() {
        for s in ["19121212-1212", "191212121212", "121212+1212"] {
            assert_eq!(
                Personnummer::parse_on(s, TODAY).unwrap().expose(),
                "191212121212",
                "{s}"
            );
        }
        assert_eq!(
            Personnummer::parse_on("121212-1212", TODAY)
                .unwrap()
                .expose(),
            "201212121212"
        );
        assert_eq!(
            Personnummer::parse_on("050505-9824", TODAY)
                .unwrap()
                .expose(),
            "200505059824"
        );
    }

    #[test]
    fn formatted_shows_the_whole_number_and_masked_only_the_birth_date() {
        let p = Personnummer::parse_on("191212121212", TODAY).unwrap();
        assert_eq!(p.formatted(), "19121212-1212");
        assert_eq!(p.masked(), "19121212-****");
    }

    #[test]
    fn ten_digit_number_born_later_this_year_is_last_century() {
        assert_eq!(
            Personnummer::parse_on("261212-1216", TODAY)
                .unwrap()
                .expose(),
            "192612121216"
        );
        assert_eq!(
            Personnummer::parse_on("260101-1212", TODAY).map(|p| p.expose()[..4].to_owned()),
            Ok("2026".into())
        );
    }

    #[test]
    fn rejects_bad_check_digit_date_and_format() {
        assert_eq!(
            Personnummer::parse_on("19121212-1213", TODAY),
            Err(PersonnummerError::CheckDigit)
        );
        assert_eq!(
            Personnummer::parse_on("19121312-1212", TODAY),
            Err(PersonnummerError::Date)
        );
        assert_eq!(
            Personnummer::parse_on("1912121-21212", TODAY),
            Err(PersonnummerError::Format)
        );
        assert_eq!(
            Personnummer::parse_on("19121212x1212", TODAY),
            Err(PersonnummerError::Format)
        );
        assert_eq!(
            Personnummer::parse_on("abc", TODAY),
            Err(PersonnummerError::Format)
        );
        assert_eq!(
            Personnummer::parse_on("1912121é-121", TODAY),
            Err(PersonnummerError::Format)
        );
        assert_eq!(
            Personnummer::parse_on("", TODAY),
            Err(PersonnummerError::Format)
        );
    }

    #[test]
    fn never_prints_the_number() {
        let p = Personnummer::parse_on("19121212-1212", TODAY).unwrap();
        assert_eq!(format!("{p:?} {p}"), "Personnummer(****) ****");
    }
}

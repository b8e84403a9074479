//! Timestamps as the store keeps them: ISO 8601 UTC text, `2026-11-28T03:15:00Z`, so that
//! `sqlite3` users read and compare them as they are (text order is time order) and SQLite's
//! own `strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-30 days')` yields comparable values. Also the
//! durations the admin types (`30d`, `12h`, `1w2d`). Civil-date arithmetic follows Howard
//! Hinnant's `days_from_civil`, so no date crate is needed.

use std::time::{SystemTime, UNIX_EPOCH};

const DAY: i64 = 86_400;

/// Now, as stored: `YYYY-MM-DDTHH:MM:SSZ`.
pub fn now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    format(secs)
}

/// Unix seconds -> `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format(secs: i64) -> String {
    let days = secs.div_euclid(DAY);
    let rem = secs.rem_euclid(DAY);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parse a stored or typed timestamp into Unix seconds. Accepts `YYYY-MM-DD`,
/// `YYYY-MM-DDTHH:MM[:SS[.fff]]` with `T` or a space, and an optional `Z` or `+HH:MM` /
/// `-HHMM` offset (converted to UTC). Anything else is `None`.
pub fn parse(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s.get(0..4)?.parse().ok()?;
    let m: u32 = s.get(5..7)?.parse().ok()?;
    let d: u32 = s.get(8..10)?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * DAY;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(secs);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let hh: i64 = rest.get(0..2)?.parse().ok()?;
    if rest.as_bytes().get(2) != Some(&b':') {
        return None;
    }
    let mm: i64 = rest.get(3..5)?.parse().ok()?;
    let mut tail = rest.get(5..)?;
    let mut ss = 0i64;
    if let Some(t) = tail.strip_prefix(':') {
        ss = t.get(0..2)?.parse().ok()?;
        tail = t.get(2..)?;
        if let Some(frac) = tail.strip_prefix('.') {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            tail = &frac[n..];
        }
    }
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    secs += hh * 3600 + mm * 60 + ss;
    match tail {
        "" | "Z" | "z" => Some(secs),
        off => {
            let sign = match off.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = off[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 {
                return None;
            }
            let oh: i64 = digits[0..2].parse().ok()?;
            let om: i64 = digits[2..4].parse().ok()?;
            Some(secs - sign * (oh * 3600 + om * 60))
        }
    }
}

/// Normalise any accepted timestamp to the stored form; `None` if it does not parse.
pub fn normalize(s: &str) -> Option<String> {
    parse(s).map(format)
}

/// `at` plus `days` whole days, in the stored form. An unparsable `at` is returned unchanged.
pub fn add_days(at: &str, days: i64) -> String {
    match parse(at) {
        Some(s) => format(s + days * DAY),
        None => at.to_string(),
    }
}

/// The UTC day of a stored timestamp (`2026-11-28`), the unit soft failures are counted in.
pub fn day(at: &str) -> &str {
    at.get(0..10).unwrap_or(at)
}

/// A duration as admins type it: a sequence of `<number><unit>` with units `s`, `m`, `h`,
/// `d`, `w` (`30d`, `12h`, `1w2d`, `90m`). A bare number is days. Returns seconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(n) = s.parse::<i64>() {
        return (n >= 0).then(|| n.checked_mul(DAY)).flatten();
    }
    let mut total: i64 = 0;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: i64 = num.parse().ok()?;
        num.clear();
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => DAY,
            'w' => 7 * DAY,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    if !num.is_empty() {
        return None;
    }
    Some(total)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2000-02-29T12:34:56Z",
            "2026-11-28T03:15:00Z",
            "2100-12-31T23:59:59Z",
        ] {
            assert_eq!(format(parse(s).unwrap()), s);
        }
        assert_eq!(parse("1970-01-02"), Some(DAY));
        assert_eq!(
            normalize("2026-11-28 04:15:00+01:00").as_deref(),
            Some("2026-11-28T03:15:00Z")
        );
        assert_eq!(
            normalize("2026-11-28T03:15:00.123Z").as_deref(),
            Some("2026-11-28T03:15:00Z")
        );
        assert_eq!(parse("yesterday"), None);
        assert_eq!(parse("2026-13-01"), None);
    }

    #[test]
    fn days() {
        assert_eq!(add_days("2026-02-27T10:00:00Z", 2), "2026-03-01T10:00:00Z");
        assert_eq!(day("2026-02-27T10:00:00Z"), "2026-02-27");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30d"), Some(30 * DAY));
        assert_eq!(parse_duration("12h"), Some(12 * 3600));
        assert_eq!(parse_duration("1w2d"), Some(9 * DAY));
        assert_eq!(parse_duration("7"), Some(7 * DAY));
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration("d"), None);
        assert_eq!(parse_duration("12"), Some(12 * DAY));
        assert_eq!(parse_duration("3h30"), None);
    }
}

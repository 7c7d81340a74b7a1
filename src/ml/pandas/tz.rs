//! Time zones and the calendar: the names of pickled time zones
//! (`datetime.timezone`, pytz, zoneinfo), fixed UTC offsets, days to
//! dates, and named zones (`Europe/Paris`), for writing tz-aware datetimes as
//! local times: the system's tz database (TZif files, RFC 8536, under the
//! folders Python's `zoneinfo.TZPATH` lists, or `$TZDIR`), with the POSIX
//! TZ rule of a file's footer for instants after its last transition.

use crate::error::{Error, Result};
use crate::value::ValueRef;

/// The folders searched for TZif files, in order (`$TZDIR` first).
const TZPATH: [&str; 4] = [
    "/usr/share/zoneinfo",
    "/usr/lib/zoneinfo",
    "/usr/share/lib/zoneinfo",
    "/etc/zoneinfo",
];

/// The largest zone file read (the biggest in tzdata are under 10 KB).
const MAX_FILE: u64 = 1 << 20;

/// A zone: its transitions (UTC seconds, offset after), the offset before
/// the first, and the rule after the last.
pub(crate) struct Zone {
    transitions: Vec<(i64, i64)>,
    initial: i64,
    rule: Option<Rule>,
}

/// A POSIX TZ rule: standard offset, and daylight time with its bounds.
#[derive(Clone, Copy)]
struct Rule {
    std: i64,
    dst: Option<(i64, Bound, Bound)>,
}

/// When daylight time starts or ends: a day rule and the local time of day.
#[derive(Clone, Copy)]
enum Day {
    /// `Mm.w.d`: weekday d (0 = Sunday) of week w (5 = last) of month m.
    Month(u32, u32, u32),
    /// `Jn`: day n of 1..=365, February 29 never counted.
    Julian(u32),
    /// `n`: day n of 0..=365, February 29 counted.
    Zero(u32),
}

#[derive(Clone, Copy)]
struct Bound {
    day: Day,
    time: i64,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 256
        && !name.starts_with('/')
        && name
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b))
}

impl Zone {
    /// The zone `name` from the system's tz database.
    pub(crate) fn load(name: &str) -> Result<Zone> {
        if !valid_name(name) {
            return Err(Error::unsupported(format!(
                "time zone {name:?} is not a tz database name"
            )));
        }
        // `$TZDIR`, as the C library reads it, instead of the usual folders.
        let env = std::env::var("TZDIR").ok();
        let dirs: Vec<&str> = match &env {
            Some(d) => vec![d.as_str()],
            None => TZPATH.to_vec(),
        };
        for dir in dirs {
            let path = std::path::Path::new(dir).join(name);
            let Ok(f) = std::fs::File::open(&path) else {
                continue;
            };
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut std::io::Read::take(f, MAX_FILE), &mut data)
                .map_err(Error::io)?;
            return Zone::parse(&data).map_err(|e| Error::data(format!("{}: {e}", path.display())));
        }
        Err(Error::unsupported(format!(
            "time zone {name:?} is not in the system's tz database (set TZDIR)"
        )))
    }

    fn parse(data: &[u8]) -> std::result::Result<Zone, String> {
        let mut r = Reader { data, pos: 0 };
        let header = |r: &mut Reader<'_>| -> std::result::Result<(u8, [usize; 6]), String> {
            if r.take(4)? != b"TZif" {
                return Err("not a TZif file".into());
            }
            let version = r.take(1)?[0];
            r.take(15)?;
            let mut counts = [0usize; 6];
            for c in &mut counts {
                *c = r.u32()? as usize;
            }
            Ok((version, counts))
        };
        let (version, counts) = header(&mut r)?;
        let block = |c: [usize; 6], t: usize| -> Option<usize> {
            let [isut, isstd, leap, time, typ, chars] = c;
            time.checked_mul(t + 1)?
                .checked_add(typ.checked_mul(6)?)?
                .checked_add(chars)?
                .checked_add(leap.checked_mul(t + 4)?)?
                .checked_add(isstd)?
                .checked_add(isut)
        };
        let (counts, t) = if version >= b'2' {
            r.take(block(counts, 4).ok_or("counts overflow")?)?;
            (header(&mut r)?.1, 8)
        } else {
            (counts, 4)
        };
        let [isut, isstd, leap, time, typ, chars] = counts;
        if typ == 0 {
            return Err("no local time types".into());
        }
        let mut times = Vec::new();
        for _ in 0..time {
            times.push(if t == 8 {
                r.i64()?
            } else {
                r.u32()? as i32 as i64
            });
        }
        let idx = r.take(time)?.to_vec();
        let mut types = Vec::new();
        for _ in 0..typ {
            let off = r.u32()? as i32 as i64;
            r.take(2)?;
            types.push(off);
        }
        r.take(chars)?;
        r.take(leap.checked_mul(t + 4).ok_or("counts overflow")?)?;
        r.take(isstd)?;
        r.take(isut)?;
        let mut transitions = Vec::with_capacity(time);
        for (at, &i) in times.into_iter().zip(&idx) {
            let off = *types
                .get(i as usize)
                .ok_or("transition to an unknown type")?;
            transitions.push((at, off));
        }
        let rule = if version >= b'2' {
            let rest = &data[r.pos.min(data.len())..];
            let footer = rest
                .strip_prefix(b"\n")
                .and_then(|f| f.split(|&b| b == b'\n').next())
                .and_then(|f| std::str::from_utf8(f).ok())
                .unwrap_or("");
            if footer.is_empty() {
                None
            } else {
                Some(parse_rule(footer).ok_or_else(|| format!("TZ rule {footer:?}"))?)
            }
        } else {
            None
        };
        Ok(Zone {
            transitions,
            initial: types[0],
            rule,
        })
    }

    /// The offset from UTC, in seconds, at the UTC instant `t` (seconds).
    pub(crate) fn offset_at(&self, t: i64) -> i64 {
        match self.transitions.last() {
            Some(&(last, off)) if t >= last => match &self.rule {
                Some(rule) => rule.offset_at(t),
                None => off,
            },
            None => match &self.rule {
                Some(rule) => rule.offset_at(t),
                None => self.initial,
            },
            Some(_) => {
                let i = self.transitions.partition_point(|&(at, _)| at <= t);
                if i == 0 {
                    self.initial
                } else {
                    self.transitions[i - 1].1
                }
            }
        }
    }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).ok_or("truncated")?;
        let s = self.data.get(self.pos..end).ok_or("truncated")?;
        self.pos = end;
        Ok(s)
    }
    fn u32(&mut self) -> std::result::Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i64(&mut self) -> std::result::Result<i64, String> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }
}

/// `[+-]hh[:mm[:ss]]` at the start of `s`: seconds and the rest.
fn hms(s: &str) -> Option<(i64, &str)> {
    let (sign, s) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => (1, s),
    };
    let mut total = 0i64;
    let mut rest = s;
    for (i, scale) in [3600i64, 60, 1].into_iter().enumerate() {
        if i > 0 {
            match rest.strip_prefix(':') {
                Some(r) => rest = r,
                None => break,
            }
        }
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > 3 {
            return None;
        }
        total += rest[..n].parse::<i64>().ok()? * scale;
        rest = &rest[n..];
    }
    Some((sign * total, rest))
}

/// A zone abbreviation: letters, or `<...>`.
fn abbreviation(s: &str) -> Option<&str> {
    if let Some(r) = s.strip_prefix('<') {
        let end = r.find('>')?;
        return Some(&r[end + 1..]);
    }
    let n = s.bytes().take_while(u8::is_ascii_alphabetic).count();
    if n < 3 {
        return None;
    }
    Some(&s[n..])
}

fn parse_bound(s: &str) -> Option<Bound> {
    let (day, rest) = s.split_once('/').map_or((s, None), |(d, t)| (d, Some(t)));
    let num = |x: &str| x.parse::<u32>().ok();
    let day = if let Some(m) = day.strip_prefix('M') {
        let mut p = m.split('.');
        let (mo, w, d) = (num(p.next()?)?, num(p.next()?)?, num(p.next()?)?);
        if !(1..=12).contains(&mo) || !(1..=5).contains(&w) || d > 6 || p.next().is_some() {
            return None;
        }
        Day::Month(mo, w, d)
    } else if let Some(j) = day.strip_prefix('J') {
        let j = num(j)?;
        if !(1..=365).contains(&j) {
            return None;
        }
        Day::Julian(j)
    } else {
        let n = num(day)?;
        if n > 365 {
            return None;
        }
        Day::Zero(n)
    };
    let time = match rest {
        None => 7200,
        Some(t) => {
            let (secs, rest) = hms(t)?;
            if !rest.is_empty() || secs.abs() > 167 * 3600 {
                return None;
            }
            secs
        }
    };
    Some(Bound { day, time })
}

/// `std offset [dst [offset] [,start[/time],end[/time]]]`.
fn parse_rule(s: &str) -> Option<Rule> {
    let rest = abbreviation(s)?;
    let (std, rest) = hms(rest)?;
    let std = -std;
    if rest.is_empty() {
        return Some(Rule { std, dst: None });
    }
    let rest = abbreviation(rest)?;
    let (dst, rest) = match rest.as_bytes().first() {
        Some(b',') | None => (std + 3600, rest),
        Some(_) => {
            let (d, r) = hms(rest)?;
            (-d, r)
        }
    };
    let rules = rest.strip_prefix(',')?;
    let (a, b) = rules.split_once(',')?;
    Some(Rule {
        std,
        dst: Some((dst, parse_bound(a)?, parse_bound(b)?)),
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

impl Bound {
    /// The day (days since the epoch) this bound falls on in year `y`.
    fn day_in(self, y: i64) -> i64 {
        let jan1 = days_from_civil(y, 1, 1);
        match self.day {
            Day::Zero(n) => jan1 + n as i64,
            Day::Julian(n) => {
                let n = n as i64 - 1;
                jan1 + n + i64::from(is_leap(y) && n >= 59)
            }
            Day::Month(m, w, d) => {
                let first = days_from_civil(y, m, 1);
                let dow = (first + 4).rem_euclid(7);
                let mut day = first + (d as i64 - dow).rem_euclid(7) + 7 * (w as i64 - 1);
                let next = if m == 12 {
                    days_from_civil(y + 1, 1, 1)
                } else {
                    days_from_civil(y, m + 1, 1)
                };
                while day >= next {
                    day -= 7;
                }
                day
            }
        }
    }
}

impl Rule {
    fn offset_at(&self, t: i64) -> i64 {
        let Some((dst, start, end)) = self.dst else {
            return self.std;
        };
        // The bounds in the year of the local standard time, in UTC.
        let (y, _, _) = civil(t.saturating_add(self.std).div_euclid(86_400));
        let at = |b: Bound, off: i64| b.day_in(y) as i128 * 86_400 + (b.time - off) as i128;
        let (s, e, t) = (at(start, self.std), at(end, dst), t as i128);
        let in_dst = if s < e {
            s <= t && t < e
        } else {
            // Southern hemisphere: daylight time spans the new year.
            !(e <= t && t < s)
        };
        if in_dst {
            dst
        } else {
            self.std
        }
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub(crate) fn civil(days: i64) -> (i64, u32, u32) {
    // Days far past any calendar (a hostile ordinal) saturate: no overflow.
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The name pandas prints for a pickled time zone: `datetime.timezone`
/// (`UTC`, `UTC+01:00`), pytz (`UTC`, the zone), `zoneinfo.ZoneInfo`
/// (its key), dateutil (`tzutc()`, its repr otherwise).
pub(crate) fn tz_name(tz: ValueRef<'_>) -> Option<String> {
    if tz.is_none() {
        return None;
    }
    if let Some(s) = tz.as_str() {
        return Some(s.to_string());
    }
    let args = tz.as_object().map(|o| tz.at(o.args));
    let arg = |i: usize| args.and_then(|a| a.index(i));
    if let Some((m, n)) = tz.as_global().or_else(|| tz.class()) {
        match (m, n) {
            ("datetime", "timezone") => {
                if let Some(name) = arg(1).and_then(|x| x.as_str()) {
                    return Some(name.to_string());
                }
                let secs = arg(0).and_then(timedelta_seconds).unwrap_or(0);
                return Some(utc_offset_name(secs));
            }
            ("pytz", "_UTC") | ("pytz", "utc") => return Some("UTC".into()),
            ("pytz", "_p") => return arg(0).and_then(|z| z.as_str()).map(str::to_string),
            ("pytz", "FixedOffset") => {
                let m = arg(0).and_then(|x| x.as_i64()).unwrap_or(0);
                return Some(format!("pytz.FixedOffset({m})"));
            }
            ("dateutil.tz.tz", "tzutc") => return Some("tzutc()".into()),
            _ => {}
        }
    }
    // zoneinfo: `getattr(ZoneInfo, '_unpickle')(key, 1)`.
    if let Some(o) = tz.as_object() {
        let f = tz.at(o.callable);
        if let Some(fo) = f.as_object() {
            let fargs = f.at(fo.args);
            let target = fargs.index(0).and_then(|t| t.as_global());
            if f.at(fo.callable).as_global() == Some(("builtins", "getattr"))
                && matches!(target, Some((_, "ZoneInfo")))
            {
                return arg(0).and_then(|k| k.as_str()).map(str::to_string);
            }
        }
    }
    Some(crate::repr::repr_limited(tz, 200))
}

/// `datetime.timedelta(days, seconds, microseconds)` in whole seconds.
fn timedelta_seconds(td: ValueRef<'_>) -> Option<i64> {
    if super::callable(td) != Some(("datetime", "timedelta")) {
        return None;
    }
    let a = td.at(td.as_object()?.args);
    let days = a.index(0).and_then(|x| x.as_i64()).unwrap_or(0);
    let secs = a.index(1).and_then(|x| x.as_i64()).unwrap_or(0);
    days.checked_mul(86_400)?.checked_add(secs)
}

/// `str(datetime.timezone(timedelta(seconds=s)))`.
fn utc_offset_name(s: i64) -> String {
    if s == 0 {
        return "UTC".into();
    }
    let sign = if s < 0 { '-' } else { '+' };
    let a = s.unsigned_abs();
    let (h, m, sec) = (a / 3600, a / 60 % 60, a % 60);
    if sec != 0 {
        format!("UTC{sign}{h:02}:{m:02}:{sec:02}")
    } else {
        format!("UTC{sign}{h:02}:{m:02}")
    }
}

/// The offset from UTC, in seconds, of a time zone pandas named
/// `UTC`, `UTC±HH:MM[:SS]` or `pytz.FixedOffset(m)`; `None` for zones
/// whose offset changes.
pub(crate) fn fixed_offset(tz: &str) -> Option<i64> {
    if tz == "UTC" || tz == "tzutc()" {
        return Some(0);
    }
    if let Some(m) = tz
        .strip_prefix("pytz.FixedOffset(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return m
            .parse::<i64>()
            .ok()
            .filter(|m| m.abs() < 24 * 60)
            .map(|m| m * 60);
    }
    let rest = tz.strip_prefix("UTC")?;
    let (sign, rest) = match rest.as_bytes().first()? {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let mut parts = rest.split(':').map(|p| p.parse::<i64>().ok());
    let h = parts.next()??;
    let m = parts.next()??;
    let s = parts.next().flatten().unwrap_or(0);
    if !(0..24).contains(&h) || !(0..60).contains(&m) || !(0..60).contains(&s) {
        return None;
    }
    Some(sign * (h * 3600 + m * 60 + s))
}

/// `+HH:MM` (`+HH:MM:SS` when it has seconds), as `isoformat` writes it.
pub(crate) fn offset_text(offset: i64) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let a = offset.unsigned_abs();
    if a % 60 != 0 {
        format!("{sign}{:02}:{:02}:{:02}", a / 3600, a / 60 % 60, a % 60)
    } else {
        format!("{sign}{:02}:{:02}", a / 3600, a / 60 % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let r = parse_rule("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        // 2030-07-01 12:00 UTC: summer; 2030-01-01: winter.
        let summer = days_from_civil(2030, 7, 1) * 86_400 + 43_200;
        let winter = days_from_civil(2030, 1, 1) * 86_400;
        assert_eq!(r.offset_at(summer), 7200);
        assert_eq!(r.offset_at(winter), 3600);
        // The switch: 2030-03-31 01:00 UTC.
        let switch = days_from_civil(2030, 3, 31) * 86_400 + 3600;
        assert_eq!(r.offset_at(switch - 1), 3600);
        assert_eq!(r.offset_at(switch), 7200);
        let ny = parse_rule("EST5EDT,M3.2.0,M11.1.0").unwrap();
        assert_eq!(ny.offset_at(summer), -4 * 3600);
        assert_eq!(ny.offset_at(winter), -5 * 3600);
        let nuuk = parse_rule("<-02>2<-01>,M3.5.0/-1,M10.5.0/0").unwrap();
        assert_eq!(nuuk.offset_at(winter), -2 * 3600);
        assert_eq!(nuuk.offset_at(summer), -3600);
        let sydney = parse_rule("AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap();
        assert_eq!(sydney.offset_at(winter), 11 * 3600);
        assert_eq!(sydney.offset_at(summer), 10 * 3600);
        let fixed = parse_rule("<+0530>-5:30").unwrap();
        assert_eq!(fixed.offset_at(0), 5 * 3600 + 1800);
        assert!(parse_rule("garbage").is_none());
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(-1), (1969, 12, 31));
        assert_eq!(civil(18_262), (2020, 1, 1));
        assert_eq!(civil(-719_162), (1, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn names() {
        assert!(valid_name("Europe/Paris"));
        assert!(valid_name("Etc/GMT+5"));
        assert!(!valid_name("../etc/passwd"));
        assert!(!valid_name("/etc/passwd"));
        assert!(!valid_name("Europe/../x"));
    }

    #[test]
    fn hostile_files_are_errors() {
        let mut f = b"TZif2".to_vec();
        f.extend_from_slice(&[0; 15]);
        f.extend_from_slice(&[0xff; 24]);
        assert!(Zone::parse(&f).is_err());
        assert!(Zone::parse(b"TZif").is_err());
        assert!(Zone::parse(b"").is_err());
    }
}

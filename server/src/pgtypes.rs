//! PostgreSQL's wire formats for Ripple's values: the binary encoding of
//! each type (results and parameters), the text form via `strconv`, and the
//! mapping from type OIDs clients send to Ripple's types.

use bytes::{BufMut, BytesMut};
use catalog::strconv::{self, MICROS_PER_DAY};
use catalog::{sqlstate, Datum, Interval, ScalarType, SqlError, SqlResult, F32, F64};
use pgwire::api::Type;
use pgwire::types::format::FormatOptions;
use pgwire::types::ToSqlText;
use postgres_types::{to_sql_checked, IsNull, ToSql};
use rust_decimal::{Decimal, MathematicalOps};
use std::error::Error;

/// Days from 1970-01-01 (Ripple's epoch) to 2000-01-01 (PostgreSQL's).
const PG_EPOCH_DAYS: i64 = 10_957;
const PG_EPOCH_MICROS: i64 = PG_EPOCH_DAYS * MICROS_PER_DAY;

type BoxError = Box<dyn Error + Sync + Send>;

/// The Ripple type for a type OID a client declared, if Ripple has it.
pub fn type_of_oid(oid: u32) -> Option<ScalarType> {
    Some(match oid {
        16 => ScalarType::Bool,
        21 => ScalarType::Int16,
        23 => ScalarType::Int32,
        20 => ScalarType::Int64,
        700 => ScalarType::Float32,
        701 => ScalarType::Float64,
        1700 => ScalarType::Numeric(None),
        25 => ScalarType::Text,
        1043 => ScalarType::Varchar(None),
        // bpchar without a length: no limit, so text (whose comparisons
        // with char(n) columns ignore the padding the same way)
        1042 => ScalarType::Text,
        1082 => ScalarType::Date,
        1114 => ScalarType::Timestamp,
        1184 => ScalarType::TimestampTz,
        1186 => ScalarType::Interval,
        3802 => ScalarType::Jsonb,
        // name and "char": text; oid and its aliases regproc, regclass,
        // regtype and regnamespace: oid
        19 | 18 => ScalarType::Text,
        26 | 24 | 2205 | 2206 | 4089 => ScalarType::Oid,
        22 => ScalarType::Int2Vector,
        2950 => ScalarType::Uuid,
        17 => ScalarType::Bytea,
        1083 => ScalarType::Time,
        oid => ScalarType::Array(catalog::ElemType::of_array_oid(oid)?),
    })
}

/// The type OID a field of a record is sent with, from its value.
fn datum_oid(d: &Datum) -> u32 {
    match d {
        Datum::Bool(_) => 16,
        Datum::Int16(_) => 21,
        Datum::Int32(_) => 23,
        Datum::Int64(_) => 20,
        Datum::Float32(_) => 700,
        Datum::Float64(_) => 701,
        Datum::Numeric(_) => 1700,
        Datum::Date(_) => 1082,
        Datum::Time(_) => 1083,
        Datum::Timestamp(_) => 1114,
        Datum::TimestampTz(_) => 1184,
        Datum::Interval(_) => 1186,
        Datum::Jsonb(_) => 3802,
        Datum::Record(_) => 2249,
        Datum::Null | Datum::Text(_) | Datum::Array(_) => 25,
    }
}

/// The pgwire type of a Ripple type.
pub fn wire_type(ty: ScalarType) -> Type {
    Type::from_oid(ty.oid()).unwrap_or(Type::TEXT)
}

/// A value's text form for a session in `zone` (`None` for NULL), as a
/// text-format result column or a COPY field carries it.
pub fn text(d: &Datum, zone: catalog::zone::Zone) -> Option<String> {
    match d {
        Datum::TimestampTz(us) if zone != catalog::zone::Zone::Utc => {
            Some(strconv::format_timestamptz(*us, zone))
        }
        d => strconv::format_datum(d),
    }
}

/// A value as pgwire encodes it: text via PostgreSQL's output format, binary
/// via PostgreSQL's send format.
#[derive(Debug)]
pub struct WireDatum<'a>(pub &'a Datum);

/// A value as pgwire encodes it for a session in `zone`: as `WireDatum`,
/// with a timestamptz's text in the session's time zone.
#[derive(Debug)]
pub struct ZonedDatum<'a>(pub &'a Datum, pub catalog::zone::Zone);

impl ToSqlText for ZonedDatum<'_> {
    fn to_sql_text(
        &self,
        ty: &Type,
        out: &mut BytesMut,
        options: &FormatOptions,
    ) -> Result<IsNull, BoxError> {
        match self.0 {
            Datum::TimestampTz(us) if self.1 != catalog::zone::Zone::Utc => {
                out.put_slice(strconv::format_timestamptz(*us, self.1).as_bytes());
                Ok(IsNull::No)
            }
            d => WireDatum(d).to_sql_text(ty, out, options),
        }
    }
}

impl ToSql for ZonedDatum<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        WireDatum(self.0).to_sql(ty, out)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    postgres_types::to_sql_checked!();
}

impl ToSqlText for WireDatum<'_> {
    fn to_sql_text(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
        _options: &FormatOptions,
    ) -> Result<IsNull, BoxError> {
        if let (Datum::Array(items), 22) = (self.0, _ty.oid()) {
            out.put_slice(strconv::format_vector(items).as_bytes());
            return Ok(IsNull::No);
        }
        match strconv::format_datum(self.0) {
            Some(s) => {
                out.put_slice(s.as_bytes());
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }
}

impl ToSql for WireDatum<'_> {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self.0 {
            Datum::Null => return Ok(IsNull::Yes),
            Datum::Bool(b) => out.put_u8(*b as u8),
            Datum::Int16(i) => out.put_i16(*i),
            Datum::Int32(i) => out.put_i32(*i),
            // an oid is an unsigned 32-bit integer on the wire
            Datum::Int64(i) if _ty.oid() == 26 => out.put_u32(*i as u32),
            Datum::Int64(i) => out.put_i64(*i),
            Datum::Float32(F32(f)) => out.put_f32(*f),
            Datum::Float64(F64(f)) => out.put_f64(*f),
            Datum::Numeric(d) => encode_numeric(d, out),
            // uuid and bytea hold their text form; on the wire, their bytes
            Datum::Text(s) if _ty.oid() == 2950 => {
                out.put_slice(&strconv::uuid_bytes(s).ok_or("malformed uuid")?)
            }
            Datum::Text(s) if _ty.oid() == 17 => {
                out.put_slice(&strconv::bytea_bytes(s).ok_or("malformed bytea")?)
            }
            Datum::Text(s) => out.put_slice(s.as_bytes()),
            Datum::Date(d) => out.put_i32(match *d {
                i32::MAX | i32::MIN => *d,
                d => (d as i64 - PG_EPOCH_DAYS) as i32,
            }),
            Datum::Timestamp(us) | Datum::TimestampTz(us) => out.put_i64(match *us {
                i64::MAX | i64::MIN => *us,
                us => us.saturating_sub(PG_EPOCH_MICROS),
            }),
            Datum::Time(us) => out.put_i64(*us),
            // record_send: the field count, then per field its type OID,
            // length (-1: NULL) and binary value
            Datum::Record(fields) => {
                out.put_i32(fields.len() as i32);
                for d in fields {
                    let ty = Type::from_oid(datum_oid(d)).unwrap_or(Type::TEXT);
                    out.put_u32(ty.oid());
                    if let Datum::Array(_) = d {
                        // sent as its text form, typed text
                        let text = strconv::format_datum(d).unwrap_or_default();
                        out.put_i32(text.len() as i32);
                        out.put_slice(text.as_bytes());
                        continue;
                    }
                    let mut body = BytesMut::new();
                    match WireDatum(d).to_sql(&ty, &mut body)? {
                        IsNull::Yes => out.put_i32(-1),
                        IsNull::No => {
                            out.put_i32(body.len() as i32);
                            out.put_slice(&body);
                        }
                    }
                }
            }
            Datum::Interval(iv) => {
                out.put_i64(iv.micros);
                out.put_i32(iv.days);
                out.put_i32(iv.months);
            }
            // jsonb's send format: version 1, then the text
            Datum::Jsonb(s) => {
                out.put_u8(1);
                out.put_slice(s.as_bytes());
            }
            Datum::Array(items) => {
                let elem = match _ty.kind() {
                    postgres_types::Kind::Array(inner) => inner.clone(),
                    _ => Type::TEXT,
                };
                out.put_i32(if items.is_empty() { 0 } else { 1 });
                out.put_i32(items.iter().any(|d| d.is_null()) as i32);
                out.put_u32(elem.oid());
                if !items.is_empty() {
                    out.put_i32(items.len() as i32);
                    out.put_i32(1);
                }
                for d in items {
                    let mut body = BytesMut::new();
                    match WireDatum(d).to_sql(&elem, &mut body)? {
                        IsNull::Yes => out.put_i32(-1),
                        IsNull::No => {
                            out.put_i32(body.len() as i32);
                            out.put_slice(&body);
                        }
                    }
                }
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// PostgreSQL's numeric send format: base-10000 digits with a weight, a
/// sign and the display scale.
fn encode_numeric(d: &Decimal, out: &mut BytesMut) {
    let dscale = d.scale() as u16;
    let text = d.abs().to_string();
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let int = int.trim_start_matches('0');
    // Pad the integer part on the left and the fraction on the right to
    // whole groups of four digits.
    let int_pad = (4 - int.len() % 4) % 4;
    let frac_pad = (4 - frac.len() % 4) % 4;
    let digits_str = format!("{}{int}{frac}{}", "0".repeat(int_pad), "0".repeat(frac_pad));
    let mut groups: Vec<i16> = digits_str
        .as_bytes()
        .chunks(4)
        .map(|c| c.iter().fold(0i16, |acc, b| acc * 10 + (b - b'0') as i16))
        .collect();
    let mut weight = ((int.len() + int_pad) / 4) as i16 - 1;
    // strip leading and trailing zero groups
    let lead = groups.iter().take_while(|g| **g == 0).count();
    groups.drain(..lead);
    weight -= lead as i16;
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    out.put_i16(groups.len() as i16);
    out.put_i16(weight);
    out.put_u16(if d.is_sign_negative() && !groups.is_empty() {
        0x4000
    } else {
        0
    });
    out.put_u16(dscale);
    for g in groups {
        out.put_i16(g);
    }
}

fn decode_numeric(b: &[u8]) -> Option<Decimal> {
    let ndigits = i16::from_be_bytes(b.get(0..2)?.try_into().ok()?) as usize;
    let weight = i16::from_be_bytes(b.get(2..4)?.try_into().ok()?) as i32;
    let sign = u16::from_be_bytes(b.get(4..6)?.try_into().ok()?);
    let dscale = u16::from_be_bytes(b.get(6..8)?.try_into().ok()?) as u32;
    if sign == 0xC000 || dscale > 28 || b.len() != 8 + 2 * ndigits {
        return None; // NaN and beyond Ripple's 28 digits are refused
    }
    let mut value = Decimal::ZERO;
    for i in 0..ndigits {
        let g = i16::from_be_bytes(b[8 + 2 * i..10 + 2 * i].try_into().ok()?);
        if !(0..10_000).contains(&g) {
            return None;
        }
        let exp = weight - i as i32; // the group's power of 10000
        let group = Decimal::from(g);
        let scaled = if exp >= 0 {
            group.checked_mul(Decimal::from(10_000i64).checked_powi(exp as i64)?)?
        } else {
            let mut v = group;
            v.set_scale((4 * -exp) as u32).ok()?;
            v
        };
        value = value.checked_add(scaled)?;
    }
    value = value.round_dp(dscale);
    value.rescale(dscale);
    if sign == 0x4000 {
        value.set_sign_negative(true);
    }
    Some(value)
}

/// The text form of one Bind parameter of type `ty` (`None` for NULL), for
/// substitution into the statement.
pub fn decode_param(
    value: Option<&[u8]>,
    binary: bool,
    ty: ScalarType,
) -> SqlResult<Option<String>> {
    let Some(bytes) = value else {
        return Ok(None);
    };
    if !binary {
        return String::from_utf8(bytes.to_vec()).map(Some).map_err(|_| {
            SqlError::new(
                sqlstate::CHARACTER_NOT_IN_REPERTOIRE,
                "invalid byte sequence for encoding \"UTF8\"",
            )
        });
    }
    Ok(strconv::format_datum(&decode_binary(bytes, ty)?))
}

/// A value in PostgreSQL's binary (`recv`) format.
fn decode_binary(bytes: &[u8], ty: ScalarType) -> SqlResult<Datum> {
    let bad = || {
        SqlError::new(
            sqlstate::INVALID_BINARY_REPRESENTATION,
            format!(
                "incorrect binary data format in bind parameter of type {}",
                ty.name()
            ),
        )
    };
    let fixed = |n: usize| -> SqlResult<&[u8]> {
        if bytes.len() == n {
            Ok(bytes)
        } else {
            Err(bad())
        }
    };
    let datum = match ty {
        ScalarType::Bool => Datum::Bool(fixed(1)?[0] != 0),
        ScalarType::Int16 => {
            Datum::Int16(i16::from_be_bytes(fixed(2)?.try_into().map_err(|_| bad())?))
        }
        ScalarType::Int32 => {
            Datum::Int32(i32::from_be_bytes(fixed(4)?.try_into().map_err(|_| bad())?))
        }
        ScalarType::Int64 => {
            Datum::Int64(i64::from_be_bytes(fixed(8)?.try_into().map_err(|_| bad())?))
        }
        ScalarType::Oid => {
            Datum::Int64(u32::from_be_bytes(fixed(4)?.try_into().map_err(|_| bad())?) as i64)
        }
        ScalarType::Float32 => Datum::Float32(F32(f32::from_be_bytes(
            fixed(4)?.try_into().map_err(|_| bad())?,
        ))),
        ScalarType::Float64 => Datum::Float64(F64(f64::from_be_bytes(
            fixed(8)?.try_into().map_err(|_| bad())?,
        ))),
        ScalarType::Numeric(_) => Datum::Numeric(decode_numeric(bytes).ok_or_else(bad)?),
        ScalarType::Text | ScalarType::Varchar(_) | ScalarType::Char(_) => {
            Datum::Text(String::from_utf8(bytes.to_vec()).map_err(|_| bad())?)
        }
        ScalarType::Date => {
            let d = i32::from_be_bytes(fixed(4)?.try_into().map_err(|_| bad())?);
            Datum::Date(match d {
                i32::MAX | i32::MIN => d,
                d => (d as i64 + PG_EPOCH_DAYS).try_into().map_err(|_| bad())?,
            })
        }
        ScalarType::Timestamp | ScalarType::TimestampTz => {
            let us = i64::from_be_bytes(fixed(8)?.try_into().map_err(|_| bad())?);
            let us = match us {
                i64::MAX | i64::MIN => us,
                us => us.checked_add(PG_EPOCH_MICROS).ok_or_else(bad)?,
            };
            if ty == ScalarType::Timestamp {
                Datum::Timestamp(us)
            } else {
                Datum::TimestampTz(us)
            }
        }
        ScalarType::Record(_) => {
            return Err(SqlError::new(
                sqlstate::FEATURE_NOT_SUPPORTED,
                "input of anonymous composite types is not implemented",
            ))
        }
        ScalarType::Time => {
            let us = i64::from_be_bytes(fixed(8)?.try_into().map_err(|_| bad())?);
            if !(0..=86_400_000_000).contains(&us) {
                return Err(bad());
            }
            Datum::Time(us)
        }
        ScalarType::Interval => {
            let b = fixed(16)?;
            Datum::Interval(Interval {
                micros: i64::from_be_bytes(b[0..8].try_into().map_err(|_| bad())?),
                days: i32::from_be_bytes(b[8..12].try_into().map_err(|_| bad())?),
                months: i32::from_be_bytes(b[12..16].try_into().map_err(|_| bad())?),
            })
        }
        ScalarType::Jsonb => match bytes.split_first() {
            Some((1, text)) => {
                let text = std::str::from_utf8(text).map_err(|_| bad())?;
                Datum::Jsonb(catalog::json::canonical(text)?)
            }
            _ => {
                return Err(SqlError::new(
                    sqlstate::INVALID_BINARY_REPRESENTATION,
                    "unsupported jsonb version number",
                ))
            }
        },
        ScalarType::Array(elem) => Datum::Array(decode_array(bytes, elem).ok_or_else(bad)??),
        ScalarType::Uuid => {
            let b = fixed(16)?;
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            Datum::Text(strconv::parse_uuid(&hex).ok_or_else(bad)?)
        }
        ScalarType::Bytea => Datum::Text(strconv::format_bytea(bytes)),
        ScalarType::Int2Vector => {
            Datum::Array(decode_array(bytes, catalog::ElemType::Int16).ok_or_else(bad)??)
        }
    };
    Ok(datum)
}

/// A one-dimensional array in the binary format: dimensions, a NULL flag,
/// the element OID, then each element's length (-1 for NULL) and bytes.
fn decode_array(bytes: &[u8], elem: catalog::ElemType) -> Option<SqlResult<Vec<Datum>>> {
    let int = |at: usize| -> Option<i32> {
        Some(i32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
    };
    let ndim = int(0)?;
    let mut at = 12;
    let len = match ndim {
        0 => 0,
        1 => {
            let n = int(at)?;
            at += 8;
            usize::try_from(n).ok()?
        }
        _ => return Some(Err(SqlError::unsupported("multidimensional arrays"))),
    };
    let mut items = Vec::with_capacity(len.min(1 << 16));
    for _ in 0..len {
        let n = int(at)?;
        at += 4;
        if n < 0 {
            items.push(Datum::Null);
            continue;
        }
        let body = bytes.get(at..at + n as usize)?;
        at += n as usize;
        match decode_binary(body, elem.scalar()) {
            Ok(d) => items.push(d),
            Err(e) => return Some(Err(e)),
        }
    }
    (at == bytes.len()).then_some(Ok(items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn roundtrip(d: Datum, ty: ScalarType) -> Option<String> {
        let mut out = BytesMut::new();
        WireDatum(&d).to_sql(&wire_type(ty), &mut out).unwrap();
        decode_param(Some(&out), true, ty).unwrap()
    }

    #[test]
    fn arrays_roundtrip_in_binary() {
        let ty = ScalarType::Array(catalog::ElemType::Int32);
        let d = Datum::Array(vec![Datum::Int32(1), Datum::Null, Datum::Int32(-3)]);
        assert_eq!(roundtrip(d, ty).unwrap(), "{1,NULL,-3}");
        let empty = Datum::Array(vec![]);
        assert_eq!(roundtrip(empty, ty).unwrap(), "{}");
        let t = ScalarType::Array(catalog::ElemType::Text);
        let d = Datum::Array(vec![Datum::Text("a b".into()), Datum::Text("".into())]);
        assert_eq!(roundtrip(d, t).unwrap(), r#"{"a b",""}"#);
    }

    #[test]
    fn numeric_binary_roundtrips() {
        for s in [
            "0",
            "0.00",
            "1",
            "-1",
            "9.50",
            "10000",
            "12345.6789",
            "-0.00012",
            "1e20",
            "123456789012.34",
        ] {
            let d = Decimal::from_scientific(s)
                .or_else(|_| Decimal::from_str(s))
                .unwrap();
            assert_eq!(
                roundtrip(Datum::Numeric(d), ScalarType::Numeric(None)).unwrap(),
                d.to_string(),
                "{s}"
            );
        }
    }

    #[test]
    fn numeric_binary_matches_postgres_layout() {
        // 12345.678 = 1 2345 . 6780 with weight 1, dscale 3
        let mut out = BytesMut::new();
        encode_numeric(&Decimal::from_str("-12345.678").unwrap(), &mut out);
        assert_eq!(
            &out[..],
            &[0, 3, 0, 1, 0x40, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1A, 0x7C]
        );
    }

    #[test]
    fn dates_and_timestamps_use_the_2000_epoch() {
        let mut out = BytesMut::new();
        WireDatum(&Datum::Date(PG_EPOCH_DAYS as i32))
            .to_sql(&Type::DATE, &mut out)
            .unwrap();
        assert_eq!(&out[..], &[0, 0, 0, 0]);
        let ts = strconv::parse_datum("2024-01-15 10:30:00.5", ScalarType::Timestamp).unwrap();
        assert_eq!(
            roundtrip(ts, ScalarType::Timestamp).unwrap(),
            "2024-01-15 10:30:00.5"
        );
        let iv = strconv::parse_datum("1 year 2 days 03:00:00", ScalarType::Interval).unwrap();
        assert_eq!(
            roundtrip(iv, ScalarType::Interval).unwrap(),
            "1 year 2 days 03:00:00"
        );
    }

    #[test]
    fn malformed_binary_parameters_are_errors() {
        let e = decode_param(Some(&[0, 1]), true, ScalarType::Int32).unwrap_err();
        assert_eq!(e.code, "22P03");
        assert!(decode_param(
            Some(&[0, 1, 0, 0, 0xC0, 0, 0, 0, 0, 1]),
            true,
            ScalarType::Numeric(None)
        )
        .is_err());
    }
}

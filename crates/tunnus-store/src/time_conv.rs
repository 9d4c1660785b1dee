//! SQL columns hold UTC as `TIMESTAMP` without zone; the domain uses
//! `OffsetDateTime`. These two functions are the only crossing point.

use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

pub fn to_db(t: OffsetDateTime) -> PrimitiveDateTime {
    let utc = t.to_offset(UtcOffset::UTC);
    PrimitiveDateTime::new(utc.date(), utc.time())
}

pub fn from_db(t: PrimitiveDateTime) -> OffsetDateTime {
    t.assume_utc()
}

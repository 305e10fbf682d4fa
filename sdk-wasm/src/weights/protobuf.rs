//! The protobuf wire format, just enough to walk ONNX files: varints, fixed-width and
//! length-delimited fields. Every read is bounds-checked; a truncated message is an error.

use crate::core::error::{Error, Result};

fn bad(detail: impl Into<String>) -> Error {
    Error::Weights { format: "onnx", detail: detail.into() }
}

/// One field of a message: its number and its payload.
#[derive(Debug, Clone, Copy)]
pub enum Field<'a> {
    Varint(u32, u64),
    /// Payload skipped: no field ONNX weights need is a fixed64.
    Fixed64(u32),
    Bytes(u32, &'a [u8]),
    Fixed32(u32, u32),
}

impl<'a> Field<'a> {
    pub fn number(&self) -> u32 {
        match *self {
            Field::Varint(n, _) | Field::Fixed64(n) | Field::Bytes(n, _) | Field::Fixed32(n, _) => n,
        }
    }
}

/// Iterates over the fields of one message.
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    pub fn new(buf: &'a [u8]) -> Fields<'a> {
        Fields { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.buf.get(self.pos).ok_or_else(|| bad(format!("varint runs past the end at byte {}", self.pos)))?;
            self.pos += 1;
            value |= ((byte & 0x7f) as u64) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(bad(format!("varint longer than 10 bytes at byte {}", self.pos)))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(len).filter(|&e| e <= self.buf.len()).ok_or_else(|| {
            bad(format!("field of {len} bytes at byte {} runs past the end of a {}-byte message", self.pos, self.buf.len()))
        })?;
        let slice = &self.buf[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn next_field(&mut self) -> Result<Field<'a>> {
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).map_err(|_| bad("field number out of range"))?;
        Ok(match key & 7 {
            0 => Field::Varint(number, self.varint()?),
            1 => {
                self.take(8)?;
                Field::Fixed64(number)
            }
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| bad("length out of range"))?;
                Field::Bytes(number, self.take(len)?)
            }
            5 => Field::Fixed32(number, u32::from_le_bytes(self.take(4)?.try_into().map_err(|_| bad("fixed32"))?)),
            other => return Err(bad(format!("unsupported wire type {other} for field {number}"))),
        })
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let field = self.next_field();
        if field.is_err() {
            self.pos = self.buf.len(); // stop after the first error
        }
        Some(field)
    }
}

/// A repeated integer field, which writers may emit packed (one length-delimited run) or not;
/// more than `max` values in all is an error (a packed run of one-byte varints would otherwise
/// become eight times its size in memory).
pub fn push_ints(field: Field<'_>, out: &mut Vec<i64>, max: usize) -> Result<()> {
    let mut push = |v: u64| {
        if out.len() >= max {
            return Err(bad(format!("field {} holds more than {max} integers", field.number())));
        }
        out.push(v as i64);
        Ok(())
    };
    match field {
        Field::Varint(_, v) => push(v)?,
        Field::Bytes(_, packed) => {
            let mut inner = Fields::new(packed);
            while inner.pos < packed.len() {
                push(inner.varint()?)?;
            }
        }
        other => return Err(bad(format!("field {} should hold integers", other.number()))),
    }
    Ok(())
}

pub fn utf8<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|_| bad(format!("{what} is not UTF-8")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_wire_type_and_rejects_truncation() {
        // field 1 varint 300; field 2 bytes "hi"; field 3 fixed32 7
        let msg = [0x08, 0xac, 0x02, 0x12, 2, b'h', b'i', 0x1d, 7, 0, 0, 0];
        let fields: Vec<Field> = Fields::new(&msg).collect::<Result<_>>().unwrap();
        assert!(matches!(fields[0], Field::Varint(1, 300)));
        assert!(matches!(fields[1], Field::Bytes(2, b"hi")));
        assert!(matches!(fields[2], Field::Fixed32(3, 7)));
        let err = Fields::new(&msg[..5]).collect::<Result<Vec<_>>>().unwrap_err().to_string();
        assert!(err.contains("runs past the end"), "{err}");
    }

    #[test]
    fn packed_and_unpacked_ints_read_the_same() {
        let mut out = Vec::new();
        push_ints(Field::Varint(1, 5), &mut out, 3).unwrap();
        push_ints(Field::Bytes(1, &[1, 0xac, 0x02]), &mut out, 3).unwrap();
        let err = push_ints(Field::Bytes(1, &[1; 1000]), &mut Vec::new(), 8).unwrap_err().to_string();
        assert!(err.contains("more than 8"), "{err}");
        assert_eq!(out, vec![5, 1, 300]);
    }
}

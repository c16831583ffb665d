//! A minimal NumPy `.npy` (format 1.0) writer for 2-D float64 arrays.

use std::io::Write;

/// Write `rows` (each of length `n_cols`) as a C-order little-endian float64 array.
pub fn write_f64_2d(out: &mut impl Write, rows: &[Vec<f64>], n_cols: usize) -> std::io::Result<()> {
    let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, {}), }}", rows.len(), n_cols);
    // magic (6) + version (2) + header length (2) + dict + padding + '\n' must be a multiple of 64
    let unpadded = 10 + dict.len() + 1;
    let pad = (64 - unpadded % 64) % 64;
    let header = format!("{dict}{}\n", " ".repeat(pad));
    out.write_all(b"\x93NUMPY\x01\x00")?;
    let len = u16::try_from(header.len()).map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "npy header too long"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(header.as_bytes())?;
    for row in rows {
        if row.len() != n_cols {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "ragged rows"));
        }
        for x in row {
            out.write_all(&x.to_le_bytes())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_is_aligned() {
        let mut buf = Vec::new();
        super::write_f64_2d(&mut buf, &[vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0]], 2).unwrap();
        let hlen = u16::from_le_bytes([buf[8], buf[9]]) as usize;
        assert_eq!((10 + hlen) % 64, 0);
        assert_eq!(buf.len(), 10 + hlen + 6 * 8);
        let header = std::str::from_utf8(&buf[10..10 + hlen]).unwrap();
        assert!(header.contains("'shape': (3, 2)") && header.ends_with('\n'));
        assert_eq!(f64::from_le_bytes(buf[10 + hlen..18 + hlen].try_into().unwrap()), 1.0);
    }
}

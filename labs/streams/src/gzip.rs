//! A gzip stream that flushes after every chunk.
//!
//! Why not tower-http's `CompressionLayer`: it wraps the body in async-compression's encoder, which emits
//! compressed bytes when its internal buffer fills or the body ends — for a streamed export, the first bytes can
//! wait for many chunks, and the time to first byte that streaming won is given back. Here each chunk of rows is
//! compressed and then *sync-flushed* (`Z_SYNC_FLUSH`: the compressor emits everything so far, on a byte
//! boundary, without ending the stream), so every chunk leaves as soon as it is made. A flush costs a few bytes
//! and a little ratio; once per chunk of a thousand rows, that is noise.
//!
//! The compression runs on the export's producer thread (a blocking thread, beside the database cursor), never on
//! the async workers that serve other requests. The level is the server's `--gzip-level`, 2 by default: nginx
//! defaults to 1, but zlib-rs's level 1 is a "quick" strategy that shrank this lab's CSV only 3.8× where level 2
//! shrank it 5.5× for about a sixth more CPU (level 6: 6.8×, twice the CPU of level 1; one export each, measured
//! 2026-12-03). The CPU per request is in the run's table.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;

/// Compresses a stream of chunks into one gzip member.
pub struct ChunkedGzip {
    encoder: GzEncoder<Vec<u8>>,
}

impl Default for ChunkedGzip {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedGzip {
    /// A new gzip stream at level 2 (see the module's docs).
    pub fn new() -> ChunkedGzip {
        Self::with_level(2)
    }

    /// A new gzip stream at `level` (1 fastest … 9 smallest).
    pub fn with_level(level: u32) -> ChunkedGzip {
        ChunkedGzip {
            encoder: GzEncoder::new(Vec::new(), Compression::new(level.clamp(1, 9))),
        }
    }

    /// Compresses `chunk` and returns every compressed byte so far (the gzip header comes with the first).
    pub fn chunk(&mut self, chunk: &[u8]) -> std::io::Result<Vec<u8>> {
        self.encoder.write_all(chunk)?;
        self.encoder.flush()?;
        Ok(std::mem::take(self.encoder.get_mut()))
    }

    /// Ends the stream: the last compressed bytes and the gzip trailer (CRC and length).
    pub fn finish(self) -> std::io::Result<Vec<u8>> {
        self.encoder.finish()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn chunks_leave_as_they_come_and_the_whole_decompresses_to_the_input() {
        let mut gz = ChunkedGzip::new();
        let chunk = b"1,alice1,alice1@example.com,7919,2026-01-02,\n".repeat(1000);
        let first = gz.chunk(&chunk).unwrap();
        assert!(
            !first.is_empty(),
            "the first chunk's bytes leave at once, not at the end"
        );
        assert!(
            first.len() * 4 < chunk.len(),
            "CSV compresses: {} -> {} bytes",
            chunk.len(),
            first.len()
        );
        let mut whole = first;
        whole.extend(gz.chunk(&chunk).unwrap());
        whole.extend(gz.finish().unwrap());
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&whole[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), chunk.len() * 2);
        assert_eq!(&out[..chunk.len()], &chunk[..]);
    }
}

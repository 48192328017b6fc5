//! This machine's ceiling for the work no SFU can avoid: for every packet to every subscriber,
//! copy it, encrypt it with SRTP's AEAD_AES_128_GCM (AES-128-GCM over the payload, the RTP
//! header as associated data, a 16-byte tag) and hand it to the kernel with `sendmmsg`, to many
//! destinations. Measured in packets per CPU-second of the sending thread, so it compares with
//! an SFU's packets per CPU-second.

use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde::Serialize;

/// Receivers the calibration sends to in turn, as an SFU sends to its subscribers.
pub const DESTINATIONS: usize = 64;
/// Packets handed to the kernel per `sendmmsg` call.
pub const BATCH: usize = 32;
const RTP_HEADER_LEN: usize = 12;
const GCM_TAG_LEN: usize = 16;

/// What the calibration measured.
#[derive(Debug, Clone, Serialize)]
pub struct Ceiling {
    pub packets: u64,
    pub cpu_seconds: f64,
    pub packets_per_cpu_second: f64,
    /// Mean RTP payload bytes, as in the benchmark's media mix.
    pub mean_payload_bytes: f64,
    pub srtp_profile: &'static str,
}

/// The payload size of packet `index` in the benchmark's mix: per second of one publisher, 50
/// Opus packets of a few bytes and about 180 VP8 packets of about a kilobyte (1.5 Mbit/s).
fn payload_len(index: usize, video_payload: usize) -> usize {
    if index % 23 < 5 { 20 } else { video_payload }
}

#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("AES-128-GCM: {0}")]
    Crypto(String),
}

/// Runs the routine for about `duration` of wall time on the calling thread; pin the thread to
/// the SFU's core first for a like-for-like figure.
pub fn measure(duration: Duration, video_payload: usize) -> Result<Ceiling, CalibrationError> {
    let receivers: Vec<UdpSocket> = (0..DESTINATIONS)
        .map(|_| UdpSocket::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()?;
    let destinations: Vec<libc::sockaddr_in> = receivers
        .iter()
        .map(|r| r.local_addr().map(|a| sockaddr_in(a.port())))
        .collect::<Result<_, _>>()?;
    let sender = UdpSocket::bind("127.0.0.1:0")?;
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_128_GCM, &rand::random::<[u8; 16]>())
            .map_err(|e| CalibrationError::Crypto(e.to_string()))?,
    );
    let salt: [u8; NONCE_LEN] = rand::random();
    // The source packet, as received from a publisher and kept decrypted.
    let source: Vec<u8> = (0..RTP_HEADER_LEN + video_payload)
        .map(|i| i as u8)
        .collect();
    let max_len = RTP_HEADER_LEN + video_payload + GCM_TAG_LEN;
    let mut buffers: Vec<Vec<u8>> = (0..BATCH).map(|_| vec![0u8; max_len]).collect();
    let mut lens = [0usize; BATCH];

    let started = Instant::now();
    let cpu_start = thread_cpu_seconds();
    let mut packets: u64 = 0;
    let mut payload_bytes: u64 = 0;
    let mut sequence: u64 = 0;
    while started.elapsed() < duration {
        for (slot, buf) in buffers.iter_mut().enumerate() {
            let payload = payload_len(sequence as usize, video_payload);
            let len = RTP_HEADER_LEN + payload;
            // The copy: a forwarded packet gets its own buffer, header rewritten per subscriber.
            buf[..len].copy_from_slice(&source[..len]);
            buf[2..4].copy_from_slice(&(sequence as u16).to_be_bytes());
            let mut nonce = salt;
            for (n, s) in nonce[4..].iter_mut().zip(sequence.to_be_bytes()) {
                *n ^= s;
            }
            let (header, body) = buf[..len].split_at_mut(RTP_HEADER_LEN);
            let tag = key
                .seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(&*header),
                    body,
                )
                .map_err(|e| CalibrationError::Crypto(e.to_string()))?;
            buf[len..len + GCM_TAG_LEN].copy_from_slice(tag.as_ref());
            lens[slot] = len + GCM_TAG_LEN;
            payload_bytes += payload as u64;
            sequence += 1;
        }
        packets += send_batch(&sender, &buffers, &lens, &destinations, sequence)? as u64;
    }
    let cpu_seconds = thread_cpu_seconds() - cpu_start;
    Ok(Ceiling {
        packets,
        cpu_seconds,
        packets_per_cpu_second: packets as f64 / cpu_seconds.max(1e-9),
        mean_payload_bytes: payload_bytes as f64 / sequence.max(1) as f64,
        srtp_profile: "SRTP_AEAD_AES_128_GCM",
    })
}

fn sockaddr_in(port: u16) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(std::net::Ipv4Addr::LOCALHOST).to_be(),
        },
        sin_zero: [0; 8],
    }
}

/// One `sendmmsg` of the batch, each packet to the next destination in turn. Returns how many
/// the kernel took; a full receive buffer drops packets at the receiver, not here.
fn send_batch(
    sender: &UdpSocket,
    buffers: &[Vec<u8>],
    lens: &[usize],
    destinations: &[libc::sockaddr_in],
    first_sequence: u64,
) -> std::io::Result<usize> {
    let mut iovecs: Vec<libc::iovec> = buffers
        .iter()
        .zip(lens)
        .map(|(b, &len)| libc::iovec {
            iov_base: b.as_ptr() as *mut libc::c_void,
            iov_len: len,
        })
        .collect();
    let mut messages: Vec<libc::mmsghdr> = iovecs
        .iter_mut()
        .enumerate()
        .map(|(i, iov)| {
            let dest = &destinations[(first_sequence as usize + i) % destinations.len()];
            // SAFETY: msghdr is plain data; zeroed is a valid empty header we then fill in.
            let mut header: libc::msghdr = unsafe { std::mem::zeroed() };
            header.msg_name = dest as *const libc::sockaddr_in as *mut libc::c_void;
            header.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            header.msg_iov = iov as *mut libc::iovec;
            header.msg_iovlen = 1;
            libc::mmsghdr {
                msg_hdr: header,
                msg_len: 0,
            }
        })
        .collect();
    // SAFETY: every header points at live buffers, iovecs and addresses borrowed for this call.
    let sent = unsafe {
        libc::sendmmsg(
            sender.as_raw_fd(),
            messages.as_mut_ptr(),
            messages.len() as libc::c_uint,
            0,
        )
    };
    if sent < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(sent as usize)
}

/// CPU time of the calling thread, seconds.
pub fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    unsafe {
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_routine_sends_packets_and_spends_cpu_on_them() {
        let ceiling = measure(Duration::from_millis(100), 1040).unwrap();
        assert!(ceiling.packets >= BATCH as u64, "{ceiling:?}");
        assert!(ceiling.cpu_seconds > 0.0, "{ceiling:?}");
        assert!(ceiling.packets_per_cpu_second.is_finite());
        // The mix is mostly video: the mean lies between the audio and the video size.
        assert!((20.0..1040.0).contains(&ceiling.mean_payload_bytes));
    }
}

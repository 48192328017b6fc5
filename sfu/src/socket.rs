//! The media UDP socket. It binds one port for every peer and, when bound to a wildcard address,
//! reports each datagram's destination IP (`IP_PKTINFO`): the ICE agent only answers checks that
//! arrived on one of its own candidate addresses, so it must know which one a packet was sent to.
//!
//! Datagrams cross the kernel in batches: one `recvmmsg` takes up to [`BATCH`] waiting datagrams
//! and one `sendmmsg` sends up to [`BATCH`] of what they produced. With one system call per
//! packet each way the kernel was the largest share of the SFU's time (docs/benchmarks.md, "SFU").
//! UDP GSO is not used: it needs a run of equal-sized segments to one address, and forwarded RTP
//! (audio and video of several publishers interleaved, each packet its own size) rarely makes one.

use std::io;
use std::mem::{self, MaybeUninit};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;

use nix::sys::socket::{setsockopt, sockopt};
use str0m::net::Transmit;
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Datagrams per `recvmmsg` or `sendmmsg`. A batch is processed before its output is sent, so it
/// bounds the delay batching adds to a packet: 32 packets of forwarding work is a few tens of
/// microseconds.
pub const BATCH: usize = 32;

/// Larger than any datagram str0m sends or a WebRTC peer should (the path MTU); a longer one is
/// dropped as truncated.
const DATAGRAM_MAX: usize = 2048;

/// Room for one `IP_PKTINFO` (or `IPV6_PKTINFO`) control message, aligned as `cmsghdr` wants.
#[repr(C, align(8))]
#[derive(Clone, Copy)]
struct Control([u8; 64]);

pub struct MediaSocket {
    inner: UdpSocket,
    bound_ip: IpAddr,
}

/// Buffers for one `recvmmsg`, allocated once and reused for every batch.
pub struct RecvBatch {
    data: Box<[[u8; DATAGRAM_MAX]]>,
    names: Box<[MaybeUninit<libc::sockaddr_storage>]>,
    control: Box<[Control]>,
    /// Slot in `data`, length, source and local destination IP of each datagram of the last
    /// batch (a truncated or address-less datagram is skipped, leaving its slot unused).
    received: Vec<(usize, usize, SocketAddr, IpAddr)>,
}

impl Default for RecvBatch {
    fn default() -> Self {
        Self {
            data: vec![[0u8; DATAGRAM_MAX]; BATCH].into_boxed_slice(),
            names: vec![MaybeUninit::uninit(); BATCH].into_boxed_slice(),
            control: vec![Control([0; 64]); BATCH].into_boxed_slice(),
            received: Vec::with_capacity(BATCH),
        }
    }
}

impl RecvBatch {
    /// The datagrams of the last batch: contents, source, and the local IP each was sent to.
    pub fn datagrams(&self) -> impl Iterator<Item = (&[u8], SocketAddr, IpAddr)> {
        self.received
            .iter()
            .map(|&(slot, len, source, destination)| (&self.data[slot][..len], source, destination))
    }
}

/// What one [`MediaSocket::send_batch`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub packets: u64,
    pub bytes: u64,
}

impl MediaSocket {
    pub fn bind(addr: SocketAddr) -> io::Result<Self> {
        let std_socket = std::net::UdpSocket::bind(addr)?;
        std_socket.set_nonblocking(true)?;
        if addr.is_ipv4() {
            setsockopt(&std_socket, sockopt::Ipv4PacketInfo, &true)?;
        }
        let inner = UdpSocket::from_std(std_socket)?;
        Ok(Self {
            inner,
            bound_ip: addr.ip(),
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Waits for datagrams and takes as many as are waiting, up to [`BATCH`], into `batch`.
    /// Returns how many it kept (see [`RecvBatch::datagrams`]).
    pub async fn recv_batch(&self, batch: &mut RecvBatch) -> io::Result<usize> {
        loop {
            self.inner.readable().await?;
            match self
                .inner
                .try_io(Interest::READABLE, || self.recv_now(batch))
            {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                other => return other,
            }
        }
    }

    fn recv_now(&self, batch: &mut RecvBatch) -> io::Result<usize> {
        // SAFETY: all-zero is a valid value of these plain C structs; every pointer in them is
        // set below before the kernel sees them.
        let mut iovecs: [libc::iovec; BATCH] = unsafe { mem::zeroed() };
        let mut headers: [libc::mmsghdr; BATCH] = unsafe { mem::zeroed() };
        for (i, (iov, header)) in iovecs.iter_mut().zip(headers.iter_mut()).enumerate() {
            iov.iov_base = batch.data[i].as_mut_ptr().cast();
            iov.iov_len = DATAGRAM_MAX;
            let msg = &mut header.msg_hdr;
            msg.msg_name = batch.names[i].as_mut_ptr().cast();
            msg.msg_namelen = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            msg.msg_iov = iov;
            msg.msg_iovlen = 1;
            msg.msg_control = batch.control[i].0.as_mut_ptr().cast();
            msg.msg_controllen = mem::size_of::<Control>();
        }
        // SAFETY: every header points at buffers owned by `batch` (or the local iovecs) that
        // outlive the call and are as large as the lengths given.
        let n = unsafe {
            libc::recvmmsg(
                self.inner.as_raw_fd(),
                headers.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        batch.received.clear();
        for (i, header) in headers.iter().enumerate().take(n) {
            let msg = &header.msg_hdr;
            if msg.msg_flags & libc::MSG_TRUNC != 0 {
                continue;
            }
            // SAFETY: the kernel wrote `msg_namelen` bytes of a socket address there.
            let Some(source) =
                (unsafe { sockaddr_to_std(batch.names[i].as_ptr(), msg.msg_namelen) })
            else {
                continue;
            };
            // SAFETY: `msg` is the header the kernel just filled, its control buffer included.
            let destination = unsafe { packet_info(msg) }.unwrap_or(self.bound_ip);
            batch
                .received
                .push((i, header.msg_len as usize, source, destination));
        }
        Ok(batch.received.len())
    }

    /// Sends every transmit (all UDP) with as few `sendmmsg` calls as [`BATCH`] allows. A full
    /// send buffer drops what did not fit, as a congested network would; congestion control and
    /// retransmission deal with it.
    pub fn send_batch(&self, transmits: &[Transmit]) -> Sent {
        let mut sent = Sent::default();
        let mut rest = transmits;
        while !rest.is_empty() {
            let chunk = &rest[..rest.len().min(BATCH)];
            // SAFETY: all-zero is a valid value of these plain C structs.
            let mut names: [libc::sockaddr_storage; BATCH] = unsafe { mem::zeroed() };
            let mut iovecs: [libc::iovec; BATCH] = unsafe { mem::zeroed() };
            let mut headers: [libc::mmsghdr; BATCH] = unsafe { mem::zeroed() };
            for (i, t) in chunk.iter().enumerate() {
                let namelen = std_to_sockaddr(t.destination, &mut names[i]);
                let contents: &[u8] = &t.contents;
                // The kernel only reads through this pointer (`sendmmsg`).
                iovecs[i].iov_base = contents.as_ptr().cast_mut().cast();
                iovecs[i].iov_len = contents.len();
                let msg = &mut headers[i].msg_hdr;
                msg.msg_name = (&raw mut names[i]).cast();
                msg.msg_namelen = namelen;
                msg.msg_iov = &raw mut iovecs[i];
                msg.msg_iovlen = 1;
            }
            // SAFETY: every header points at an address and a datagram that outlive the call.
            let n = unsafe {
                libc::sendmmsg(
                    self.inner.as_raw_fd(),
                    headers.as_mut_ptr(),
                    chunk.len() as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::WouldBlock {
                    break;
                }
                // This datagram cannot be sent (an unreachable address, say); the others may.
                tracing::debug!(error = %e, "UDP send failed");
                rest = &rest[1..];
                continue;
            }
            let n = n as usize;
            sent.packets += n as u64;
            sent.bytes += headers[..n]
                .iter()
                .map(|h| u64::from(h.msg_len))
                .sum::<u64>();
            rest = &rest[n..];
        }
        sent
    }
}

/// The local address a datagram was sent to, from its `IP_PKTINFO` control message.
///
/// # Safety
/// `msg` must be a header `recvmsg`/`recvmmsg` has filled, its control buffer still alive.
unsafe fn packet_info(msg: &libc::msghdr) -> Option<IpAddr> {
    // SAFETY: the caller guarantees a filled header; the CMSG macros stay within
    // `msg_controllen`.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::IPPROTO_IP && (*cmsg).cmsg_type == libc::IP_PKTINFO {
                let info: libc::in_pktinfo = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                return Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                    info.ipi_addr.s_addr,
                ))));
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
    }
    None
}

/// # Safety
/// `name` must point at `len` initialised bytes of a socket address.
unsafe fn sockaddr_to_std(
    name: *const libc::sockaddr_storage,
    len: libc::socklen_t,
) -> Option<SocketAddr> {
    let len = len as usize;
    // SAFETY: the caller guarantees `len` bytes; each cast is checked against it.
    unsafe {
        match i32::from((*name).ss_family) {
            libc::AF_INET if len >= mem::size_of::<libc::sockaddr_in>() => {
                let a: libc::sockaddr_in = std::ptr::read_unaligned(name.cast());
                Some(SocketAddr::V4(SocketAddrV4::new(
                    Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                    u16::from_be(a.sin_port),
                )))
            }
            libc::AF_INET6 if len >= mem::size_of::<libc::sockaddr_in6>() => {
                let a: libc::sockaddr_in6 = std::ptr::read_unaligned(name.cast());
                Some(SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(a.sin6_addr.s6_addr),
                    u16::from_be(a.sin6_port),
                    a.sin6_flowinfo,
                    a.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }
}

/// Writes `addr` as a C socket address into `out`; returns its length.
fn std_to_sockaddr(addr: SocketAddr, out: &mut libc::sockaddr_storage) -> libc::socklen_t {
    match addr {
        SocketAddr::V4(a) => {
            // SAFETY: all-zero is a valid `sockaddr_in`.
            let mut sin: libc::sockaddr_in = unsafe { mem::zeroed() };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from(*a.ip()).to_be();
            // SAFETY: `sockaddr_storage` is larger than and aligned for every socket address.
            unsafe { std::ptr::write((out as *mut libc::sockaddr_storage).cast(), sin) };
            mem::size_of::<libc::sockaddr_in>() as libc::socklen_t
        }
        SocketAddr::V6(a) => {
            // SAFETY: all-zero is a valid `sockaddr_in6`.
            let mut sin6: libc::sockaddr_in6 = unsafe { mem::zeroed() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_scope_id = a.scope_id();
            // SAFETY: as above.
            unsafe { std::ptr::write((out as *mut libc::sockaddr_storage).cast(), sin6) };
            mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use str0m::net::Protocol;

    fn transmit(to: SocketAddr, contents: &[u8]) -> Transmit {
        Transmit {
            proto: Protocol::Udp,
            source: to,
            destination: to,
            contents: contents.to_vec().into(),
        }
    }

    #[tokio::test]
    async fn a_batch_sent_arrives_as_a_batch_with_sources_and_destination() {
        let sfu = MediaSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let sfu_addr = sfu.local_addr().unwrap();
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for i in 0..40u8 {
            let from = if i.is_multiple_of(2) { &a } else { &b };
            from.send_to(&vec![i; 100 + usize::from(i)], sfu_addr)
                .unwrap();
        }
        let mut batch = RecvBatch::default();
        let mut got = Vec::new();
        while got.len() < 40 {
            let n = sfu.recv_batch(&mut batch).await.unwrap();
            assert!(n <= BATCH);
            for (data, source, destination) in batch.datagrams() {
                assert_eq!(destination, IpAddr::V4(Ipv4Addr::LOCALHOST));
                got.push((data.to_vec(), source));
            }
        }
        for (i, (data, source)) in got.iter().enumerate() {
            let i = i as u8;
            assert_eq!(data, &vec![i; 100 + usize::from(i)]);
            let from = if i.is_multiple_of(2) { &a } else { &b };
            assert_eq!(*source, from.local_addr().unwrap());
        }

        // And back: more than one `sendmmsg` worth, to two receivers.
        let transmits: Vec<Transmit> = (0..40u8)
            .map(|i| {
                let to = if i.is_multiple_of(2) { &a } else { &b };
                transmit(to.local_addr().unwrap(), &[i; 10])
            })
            .collect();
        let sent = sfu.send_batch(&transmits);
        assert_eq!(
            sent,
            Sent {
                packets: 40,
                bytes: 400
            }
        );
        let mut buf = [0u8; 64];
        for i in 0..40u8 {
            let to = if i.is_multiple_of(2) { &a } else { &b };
            let (n, from) = to.recv_from(&mut buf).unwrap();
            assert_eq!((&buf[..n], from), (&[i; 10][..], sfu_addr));
        }
    }

    #[tokio::test]
    async fn an_unsendable_datagram_does_not_hold_back_the_rest() {
        let sfu = MediaSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = a.local_addr().unwrap();
        // An IPv6 destination cannot be reached from an IPv4 socket.
        let v6: SocketAddr = "[::1]:9".parse().unwrap();
        let transmits = vec![
            transmit(to, b"one"),
            transmit(v6, b"x"),
            transmit(to, b"two"),
        ];
        let sent = sfu.send_batch(&transmits);
        assert_eq!(
            sent,
            Sent {
                packets: 2,
                bytes: 6
            }
        );
        let mut buf = [0u8; 16];
        let (n, _) = a.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"one");
        let (n, _) = a.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"two");
    }
}

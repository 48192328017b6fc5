//! The media UDP socket. It binds one port for every peer and, when bound to a wildcard address,
//! reports each datagram's destination IP (`IP_PKTINFO`): the ICE agent only answers checks that
//! arrived on one of its own candidate addresses, so it must know which one a packet was sent to.

use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;

use nix::sys::socket::{ControlMessageOwned, MsgFlags, SockaddrIn, recvmsg, setsockopt, sockopt};
use tokio::io::Interest;
use tokio::net::UdpSocket;

pub struct MediaSocket {
    inner: UdpSocket,
    bound_ip: IpAddr,
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

    /// Receives one datagram: its length, source, and the local IP it was sent to.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr, IpAddr)> {
        loop {
            self.inner.readable().await?;
            match self.inner.try_io(Interest::READABLE, || self.recv_now(buf)) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                other => return other,
            }
        }
    }

    fn recv_now(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr, IpAddr)> {
        let mut iov = [IoSliceMut::new(buf)];
        let mut control = nix::cmsg_space!(libc::in_pktinfo);
        let msg = recvmsg::<SockaddrIn>(
            self.inner.as_raw_fd(),
            &mut iov,
            Some(&mut control),
            MsgFlags::empty(),
        )?;
        let source = msg
            .address
            .map(|a| SocketAddr::V4(a.into()))
            .ok_or_else(|| io::Error::other("datagram without source address"))?;
        let mut destination = self.bound_ip;
        for cmsg in msg.cmsgs()? {
            if let ControlMessageOwned::Ipv4PacketInfo(info) = cmsg {
                destination = IpAddr::V4(Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr)));
            }
        }
        Ok((msg.bytes, source, destination))
    }

    pub fn try_send_to(&self, data: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.inner.try_send_to(data, target)
    }
}

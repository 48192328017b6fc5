//! Configuration of the media engine.

use std::net::{IpAddr, Ipv4Addr};

use serde::Deserialize;

/// Where the SFU listens for media and what it tells clients to send to.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SfuConfig {
    /// The one UDP port shared by every peer. 0 picks a free port (tests).
    pub udp_port: u16,
    /// Passive ICE-TCP: also offer every client a TCP candidate on `tcp_port`, the way in for
    /// networks that block UDP. Clients prefer UDP whenever it works.
    pub ice_tcp: bool,
    /// The one TCP port shared by every peer for ICE-TCP. TCP and UDP ports are separate, so it
    /// may equal `udp_port`. 0 picks a free port (tests).
    pub tcp_port: u16,
    /// Address the UDP socket and the TCP listener bind to. The default listens on every IPv4
    /// interface.
    pub bind_ip: IpAddr,
    /// Addresses advertised to clients as ICE host candidates, on `udp_port` and (with `ice_tcp`)
    /// `tcp_port`. Empty means every address of this machine's IPv4 interfaces. Behind 1:1 NAT,
    /// give the public address here.
    /// A comma-separated string is accepted too (convenient in an environment variable).
    #[serde(deserialize_with = "one_or_many_ips")]
    pub public_ips: Vec<IpAddr>,
    /// Most participants in one room. Meetings are small: a citizen, officers, an interpreter.
    pub max_participants_per_room: usize,
}

impl Default for SfuConfig {
    fn default() -> Self {
        Self {
            udp_port: 50000,
            ice_tcp: true,
            tcp_port: 50000,
            bind_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            public_ips: Vec::new(),
            max_participants_per_room: 12,
        }
    }
}

fn one_or_many_ips<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<IpAddr>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<IpAddr>),
        Text(String),
    }
    match OneOrMany::deserialize(d)? {
        OneOrMany::Many(ips) => Ok(ips),
        OneOrMany::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse()
                    .map_err(|_| serde::de::Error::custom(format!("not an IP address: {s:?}")))
            })
            .collect(),
    }
}

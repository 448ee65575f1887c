//! What the router asks of its caller ([`Output`]): the packets to send on which connection, and
//! the connections to close. The router does no IO; the server does what it returns.

use rumqttc::mqttbytes::v4::Packet;

/// What a router call asks its caller to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send `packet` on connection `link`.
    Send { link: u64, packet: Packet },
    /// Close connection `link`: a newer connection took its client id over.
    Close { link: u64 },
}

impl Output {
    pub(crate) fn send(link: u64, packet: Packet) -> Output {
        Output::Send { link, packet }
    }
}

/// A publish the ACL does not allow: the message is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denied;

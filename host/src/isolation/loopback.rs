//! The loopback browsers and their drivers listen on: the host's own, or the jail's private one.

use super::PrivateNetwork;
use std::io;
use tokio::net::TcpStream;

#[derive(Clone, Copy)]
pub enum Loopback {
    Shared,
    Private(&'static PrivateNetwork),
}

impl Loopback {
    /// Where this process's browsers run (see `jail`).
    pub fn for_browsers() -> Loopback {
        match super::jail() {
            Ok(jail) => Loopback::Private(&jail.network),
            Err(_) => Loopback::Shared,
        }
    }

    pub async fn connect(self, port: u16) -> io::Result<TcpStream> {
        match self {
            Loopback::Shared => TcpStream::connect(("127.0.0.1", port)).await,
            Loopback::Private(network) => {
                let stream = tokio::task::spawn_blocking(move || network.run(move || std::net::TcpStream::connect(("127.0.0.1", port))))
                    .await
                    .map_err(io::Error::other)??;
                stream.set_nonblocking(true)?;
                TcpStream::from_std(stream)
            }
        }
    }

    /// A listener on 127.0.0.1:`port` of this loopback (0: any free port).
    pub fn listen(self, port: u16) -> io::Result<std::net::TcpListener> {
        let listener = match self {
            Loopback::Shared => std::net::TcpListener::bind(("127.0.0.1", port))?,
            Loopback::Private(network) => network.run(move || std::net::TcpListener::bind(("127.0.0.1", port)))?,
        };
        listener.set_nonblocking(true)?;
        Ok(listener)
    }

    /// A port free on this loopback right now (for a driver to bind).
    pub fn free_port(self) -> io::Result<u16> {
        Ok(self.listen(0)?.local_addr()?.port())
    }
}

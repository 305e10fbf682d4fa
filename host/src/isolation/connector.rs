//! The HTTP connector the WebDriver client uses: connections to the drivers' loopback, made
//! inside the private network when browsers are jailed.

use super::Loopback;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::net::TcpStream;

#[derive(Clone)]
pub struct LoopbackConnector(pub Loopback);

impl tower_service::Service<axum::http::Uri> for LoopbackConnector {
    type Response = TokioIo<TcpStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TokioIo<TcpStream>>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: axum::http::Uri) -> Self::Future {
        let loopback = self.0;
        Box::pin(async move {
            // Drivers live on 127.0.0.1 only; anything else is a bug, not a place to dial.
            let port = match (uri.host(), uri.port_u16()) {
                (Some("127.0.0.1"), Some(port)) => port,
                _ => return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("not a loopback WebDriver address: {uri}"))),
            };
            let stream = loopback.connect(port).await?;
            stream.set_nodelay(true)?;
            Ok(TokioIo::new(stream))
        })
    }
}

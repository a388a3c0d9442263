//! TEMPORARY stub.
use std::net::SocketAddr; use std::path::Path;
#[derive(Debug, thiserror::Error)]
pub enum ServeError { #[error("stub")] Stub }
pub struct Server { address: SocketAddr }
impl Server {
    pub fn bind(_root: &Path, address: SocketAddr) -> Result<Server, ServeError> { Ok(Server { address }) }
    pub fn local_address(&self) -> SocketAddr { self.address }
    pub fn run(self) -> Result<(), ServeError> { Err(ServeError::Stub) }
}

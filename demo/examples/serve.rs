//! Serve the demo collections on their own, e.g. to try a harvester or an OAI-PMH validator:
//!
//! ```text
//! cargo run -p jincheng-demo --example serve -- 127.0.0.1:8765
//! curl 'http://127.0.0.1:8765/demo/lzlib/oai?verb=Identify'
//! ```

use std::net::SocketAddr;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .as_deref()
        .unwrap_or("127.0.0.1:8765")
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    for name in jincheng_demo::collections() {
        println!("http://{bound}/demo/{name}/oai");
    }
    axum::serve(listener, jincheng_demo::router()).await
}

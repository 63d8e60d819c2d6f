//! The one HTTP client of the tests, for the servers they start (the controller's endpoints,
//! the emulator, Prometheus): one HTTP/1.1 request on a fresh connection, `Connection: close`,
//! read to the end. Written out by hand, so that a test sees what the server answered, byte for
//! byte (a chunked body is decoded).

#![allow(dead_code)]

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One answer.
#[derive(Debug)]
pub struct Response {
    /// 0 when no status line came.
    pub status: u16,
    /// The status line and the headers, as sent.
    pub head: String,
    pub body: String,
}

impl Response {
    /// The value of the first header named `name` (ASCII case ignored).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// The body as JSON; the test fails if it is not.
    pub fn json(&self) -> Value {
        self.decode()
    }

    /// The body as JSON of type `T`; the test fails if it is not.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// `host:port` of an `http://` URL, or the address as given.
pub fn address(url: &str) -> &str {
    url.trim_start_matches("http://")
}

/// The request's bytes, the body left out.
fn head(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> String {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// The answer in `bytes`, however much of it came.
fn parse(bytes: &[u8]) -> Response {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut response = Response { status, head: head.to_string(), body: body.to_string() };
    if response.header("transfer-encoding").is_some_and(|e| e.eq_ignore_ascii_case("chunked")) {
        response.body = dechunked(body);
    }
    response
}

/// A chunked body's data, as far as it is well formed.
fn dechunked(mut chunked: &str) -> String {
    let mut body = String::new();
    while let Some((size, rest)) = chunked.split_once("\r\n") {
        let size = size.split(';').next().unwrap_or_default().trim();
        let Ok(size) = usize::from_str_radix(size, 16) else { break };
        if size == 0 || rest.len() < size {
            break;
        }
        body.push_str(&rest[..size]);
        chunked = rest[size..].strip_prefix("\r\n").unwrap_or_default();
    }
    body
}

/// One request to `addr` (`host:port`); an error only when it cannot connect. A body refused
/// before it is all sent, or a connection reset after the answer, still gives the answer.
pub async fn send(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = head(addr, method, path, headers, body);
    if stream.write_all(head.as_bytes()).await.is_ok() {
        let _ = stream.write_all(body).await;
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    Ok(parse(&response))
}

/// One request to `addr`; the test fails if it cannot connect.
pub async fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    send(addr, method, path, headers, body).await.unwrap_or_else(|e| panic!("connect {addr}: {e}"))
}

/// `GET url` (`http://host:port/path`) from a thread without a runtime.
pub fn blocking_get(url: &str) -> Response {
    use std::io::{Read, Write};
    let rest = address(url);
    let (addr, path) =
        rest.split_once('/').map_or((rest, "/".to_string()), |(a, p)| (a, format!("/{p}")));
    let mut stream =
        std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    let _ = stream.write_all(head(addr, "GET", &path, &[], b"").as_bytes());
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    parse(&response)
}

#[test]
fn chunked_bodies_are_decoded_and_headers_found_ignoring_case() {
    let answer = parse(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Amzn-RequestId: r1\r\n\r\n\
          5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n",
    );
    assert_eq!((answer.status, answer.body.as_str()), (200, "hello, world"));
    assert_eq!(answer.header("x-amzn-requestid"), Some("r1"));
    assert_eq!(parse(b"").status, 0);
}
